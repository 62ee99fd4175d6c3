//! Group commit for sync rounds. Each round's answer may go out only once its effects are
//! durable, and with SQLite that is an fsync per commit (about 3 ms on a typical disk):
//! rounds committed one by one cap the server at a few hundred a second, however many
//! cores it has. So sync rounds wait here, and one worker thread takes its turn on the
//! store and then every round that is waiting, and runs them in one transaction
//! ([`Central::sync_gathered`]): one fsync serves them all. Under light load a batch is one
//! round and nothing waits longer than before. On PostgreSQL the batch waits only for
//! other processes' transactions of its branch points and for office edits: the sync
//! rounds of other branch points run beside it.

use std::sync::Arc;
use std::sync::mpsc;

use prometheus_client::metrics::counter::Counter;

use blisko_shared::sync::{SyncRequest, SyncResponse};

use crate::central::{Central, CentralError, Round, contain_panics};

/// At most this many rounds share a transaction (each round's answer waits for all of
/// them).
const MAX_BATCH: usize = 64;

type Answer = Result<SyncResponse, CentralError>;

struct Queued {
    token: String,
    request: SyncRequest,
    answer: tokio::sync::oneshot::Sender<Answer>,
}

/// The door to the worker. Cheap to clone.
#[derive(Clone)]
pub struct SyncQueue {
    sender: mpsc::Sender<Queued>,
}

impl SyncQueue {
    /// Start the worker, which takes its turns on `central` like any request and counts
    /// its transactions in `batches`.
    pub fn start(central: Arc<tokio::sync::Mutex<Central>>, batches: Counter) -> SyncQueue {
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("sync-rounds".into())
            .spawn(move || work(&central, &receiver, &batches))
            .unwrap_or_else(|e| panic!("cannot start the sync worker thread: {e}"));
        SyncQueue { sender }
    }

    /// Run one round (authenticated with `token` in the store's turn) and wait for its
    /// committed answer.
    pub async fn run(&self, token: String, request: SyncRequest) -> Answer {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let gone = || CentralError::Internal("the sync worker has stopped".into());
        self.sender
            .send(Queued {
                token,
                request,
                answer,
            })
            .map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }
}

fn round(queued: &Queued) -> Round<'_> {
    Round {
        token: &queued.token,
        request: &queued.request,
    }
}

fn work(
    central: &tokio::sync::Mutex<Central>,
    receiver: &mpsc::Receiver<Queued>,
    batches: &Counter,
) {
    while let Ok(first) = receiver.recv() {
        let mut central = central.blocking_lock();
        let mut batch = vec![first];
        // Whatever arrived while the store was busy, and until its turn is this
        // transaction's, goes in the same transaction.
        let gathered = contain_panics(|| {
            central.sync_gathered(|| {
                batch.extend(receiver.try_iter().take(MAX_BATCH - 1));
                batch.iter().map(round).collect()
            })
        });
        batches.inc();
        let rounds: Vec<Round<'_>> = batch.iter().map(round).collect();
        let answers = match gathered {
            Ok(answers) => answers,
            Err(e) => {
                // The whole failed (its commit, say): nothing took effect. Each round
                // goes alone, for an answer of its own.
                tracing::warn!(error = %e, rounds = rounds.len(), "a group of sync rounds failed; running them one by one");
                rounds
                    .iter()
                    .map(|round| {
                        batches.inc();
                        contain_panics(|| central.sync_rounds(std::slice::from_ref(round)))
                            .and_then(|mut one| {
                                one.pop().unwrap_or_else(|| {
                                    Err(CentralError::Internal("no answer for a round".into()))
                                })
                            })
                    })
                    .collect()
            }
        };
        drop(rounds);
        drop(central);
        for (queued, answer) in batch.into_iter().zip(answers) {
            // A request given up on (its connection closed) has no one to answer.
            let _ = queued.answer.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use blisko_shared::docs::{DocKey, RosterDoc, RosterEdit};
    use blisko_shared::hlc::HlcClock;
    use blisko_shared::ids::{KioskId, PersonId, RegistrationId};
    use blisko_shared::model::Registration;
    use blisko_shared::sync::{DocChanges, EnrollRequest, SyncRequest, to_heads};

    use super::*;
    use crate::central::stored_catalog;

    fn request(push: Vec<DocChanges>, app_version: &str) -> SyncRequest {
        SyncRequest {
            push,
            ..SyncRequest::new(app_version)
        }
    }

    /// A new roster of `class` with one registration by `kiosk`, as a push.
    fn roster_push(class: blisko_shared::ids::ClassId, kiosk: KioskId) -> DocChanges {
        let mut roster = RosterDoc::create(class, kiosk).expect("a roster");
        roster
            .apply(&[RosterEdit::Register(Registration {
                id: RegistrationId::new(),
                class_id: class,
                person_id: PersonId::new(),
                kiosk_id: kiosk,
                created: HlcClock::new(kiosk).tick(1_700_000_000_000),
                cancelled: None,
                grants: Default::default(),
            })])
            .expect("a registration");
        DocChanges {
            doc: DocKey::Roster(class),
            changes: roster.doc().changes_since(&[]).expect("its changes"),
            heads: to_heads(&roster.doc().heads()),
            seal: None,
        }
    }

    /// Three rounds in one transaction: one good, one that writes a roster and is then
    /// refused (a catalog push), one with a wrong credential. Each keeps its own: the
    /// good one's effects stay, the refused one's roster is taken back, and both refusals
    /// are audited.
    #[test]
    fn rounds_in_one_transaction_keep_or_lose_their_effects_alone() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let mut central = Central::open(dir.path()).expect("a store");
        central.load_demo_if_empty().expect("the demo catalogs");
        let branch = central.branches().expect("branches")[0].id;
        let class = {
            let db = central.store.write().expect("a read");
            stored_catalog(&db, branch).expect("its catalog").classes[0].id
        };
        let mut enrolled = Vec::new();
        for _ in 0..2 {
            let (_, code) = central.add_kiosk(branch, None).expect("a kiosk");
            enrolled.push(
                central
                    .enroll(&EnrollRequest {
                        code,
                        app_version: "0.2.0".into(),
                    })
                    .expect("enrolled"),
            );
        }
        let (good, refused) = (&enrolled[0], &enrolled[1]);
        let catalog = DocChanges {
            doc: DocKey::Catalog(branch),
            changes: Vec::new(),
            heads: Vec::new(),
            seal: None,
        };
        let requests = [
            request(vec![], "9.9.9"),
            request(vec![roster_push(class, refused.kiosk_id), catalog], "8.8.8"),
            request(vec![], "7.7.7"),
        ];
        let rounds = [
            Round {
                token: &good.token,
                request: &requests[0],
            },
            Round {
                token: &refused.token,
                request: &requests[1],
            },
            Round {
                token: "0123456789abcdef-wrong",
                request: &requests[2],
            },
        ];
        let answers = central.sync_rounds(&rounds).expect("one commit");
        assert!(answers[0].is_ok(), "{:?}", answers[0]);
        assert!(
            matches!(answers[1], Err(CentralError::Forbidden(_))),
            "{:?}",
            answers[1]
        );
        assert!(
            matches!(answers[2], Err(CentralError::Unauthorized)),
            "{:?}",
            answers[2]
        );
        let kiosks = central.kiosks().expect("kiosks");
        let version = |id| {
            kiosks
                .iter()
                .find(|k| k.kiosk_id == id)
                .and_then(|k| k.app_version.clone())
        };
        assert_eq!(version(good.kiosk_id).as_deref(), Some("9.9.9"));
        assert_eq!(version(refused.kiosk_id), None);
        assert_eq!(central.heads(DocKey::Roster(class)).expect("a read"), None);
        let audit = central.audit_log(10).expect("the audit");
        for action in ["sync_refused", "sync_unauthorized"] {
            assert!(
                audit.iter().any(|r| r.action == action),
                "{action}: {audit:?}"
            );
        }
    }

    /// A new store's instance id is made by the first round that asks for it. When that
    /// round is refused and taken back, the id goes with it, and the next round of the
    /// same transaction is not told an id the store never kept.
    #[test]
    fn a_round_after_a_refused_first_one_is_told_the_instance_id_kept() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let (mut central, token) = one_kiosk_store(dir.path());
        let branch = central.branches().expect("branches")[0].id;
        let catalog = DocChanges {
            doc: DocKey::Catalog(branch),
            changes: Vec::new(),
            heads: Vec::new(),
            seal: None,
        };
        let requests = [request(vec![catalog], "0.2.0"), request(vec![], "0.2.0")];
        let rounds: Vec<Round<'_>> = requests
            .iter()
            .map(|request| Round {
                token: &token,
                request,
            })
            .collect();
        let answers = central.sync_rounds(&rounds).expect("one commit");
        assert!(
            matches!(answers[0], Err(CentralError::Forbidden(_))),
            "{:?}",
            answers[0]
        );
        let told = answers[1].as_ref().expect("a good round").server_instance;
        let db = central.store.write().expect("a read");
        assert_eq!(told, Some(db.instance().expect("the instance id")));
    }

    /// A store in `dir` with the demo catalogs and one enrolled kiosk, and its credential.
    fn one_kiosk_store(dir: &std::path::Path) -> (Central, String) {
        let mut central = Central::open(dir).expect("a store");
        central.load_demo_if_empty().expect("the demo catalogs");
        let branch = central.branches().expect("branches")[0].id;
        let (_, code) = central.add_kiosk(branch, None).expect("a kiosk");
        let token = central
            .enroll(&EnrollRequest {
                code,
                app_version: "0.2.0".into(),
            })
            .expect("enrolled")
            .token;
        (central, token)
    }

    /// A credential is checked without waiting for the writer (each kiosk's first sync
    /// with a server process is): another connection holding the write lock, as another
    /// process would, does not hold it up.
    #[test]
    fn a_credential_is_checked_while_another_connection_writes() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let (mut central, token) = one_kiosk_store(dir.path());
        let other = rusqlite::Connection::open(dir.path().join("server.sqlite3")).expect("open");
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("the write lock");
        let verdict = central.authenticate(&token);
        other.execute_batch("ROLLBACK").expect("let go");
        assert!(verdict.is_ok(), "the credential's check: {verdict:?}");
    }

    /// Rounds sent at once through the queue all get their answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_queue_answers_every_round() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let (central, token) = one_kiosk_store(dir.path());
        let queue = SyncQueue::start(
            Arc::new(tokio::sync::Mutex::new(central)),
            Counter::default(),
        );
        let mut waiting = Vec::new();
        for i in 0..40 {
            let (queue, token) = (queue.clone(), token.clone());
            let wrong = i % 10 == 9;
            waiting.push(tokio::spawn(async move {
                let token = if wrong { "nope".to_owned() } else { token };
                (wrong, queue.run(token, request(vec![], "0.2.0")).await)
            }));
        }
        for task in waiting {
            let (wrong, answer) = task.await.expect("the task");
            assert_eq!(answer.is_err(), wrong, "{answer:?}");
        }
    }

    /// Rounds that arrive while another writer holds the store go in the transaction
    /// that follows, with the round that was waiting for it: one transaction, not one for
    /// the first round and another for the rest.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rounds_arriving_while_the_store_is_held_share_its_next_transaction() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let (central, token) = one_kiosk_store(dir.path());
        let batches = Counter::default();
        let queue = SyncQueue::start(Arc::new(tokio::sync::Mutex::new(central)), batches.clone());

        // Another connection takes the write lock, as another process would.
        let other = rusqlite::Connection::open(dir.path().join("server.sqlite3")).expect("open");
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("the write lock");
        let mut answers = Vec::new();
        let mut send = || {
            let (answer, answered) = tokio::sync::oneshot::channel();
            queue
                .sender
                .send(Queued {
                    token: token.clone(),
                    request: request(vec![], "0.2.0"),
                    answer,
                })
                .expect("the worker is running");
            answers.push(answered);
        };
        // The first round goes to the worker, which waits for the store; the rest arrive
        // meanwhile.
        send();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for _ in 0..11 {
            send();
        }
        other
            .execute_batch("ROLLBACK")
            .expect("the write lock released");
        for answered in answers {
            answered.await.expect("an answer").expect("a good round");
        }
        assert_eq!(batches.get(), 1, "transactions taken by the 12 rounds");
    }
}
