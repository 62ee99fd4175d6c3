//! The central office's core: enrollment, authentication, and the sync of documents with
//! kiosks, over the server store. HTTP lives in `http`; this module knows nothing of it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use sha2::{Digest, Sha256};

use blisko_shared::demo;
use blisko_shared::docs::{
    ActorId, CatalogDoc, CatalogEdit, ChangeHash, Doc, DocError, DocKey, IntakeDoc, PeopleDoc,
    RosterDoc, actor_for, untrusted,
};
use blisko_shared::hlc::{Hlc, HlcClock};
use blisko_shared::ids::{BranchId, ClassId, KioskId};
use blisko_shared::model::{Catalog, Registration};
use blisko_shared::sync::{
    DocChanges, DocHeads, KeyList, MAX_CHANGED_PER_RESPONSE, MAX_DOCS_PER_REQUEST,
    MAX_KEYS_PER_MESSAGE, MAX_WANTED_KEYS, PersonList, RESPONSE_BUDGET_BYTES, SyncRequest,
    SyncResponse, from_heads, to_heads,
};

use crate::store::{Db, KioskAuth, ServerStore, StoreError};

mod audit_detail;
pub mod branches;
mod credentials;
pub mod daily;
pub mod health;
pub mod persons;
mod pesel;
pub mod requests;
pub(crate) mod seal;
pub mod seats;
pub mod staff;
pub(crate) use seats::{fill_pool_seats, policy_for};

/// How long an enrollment code stays valid.
const ENROLLMENT_DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    #[error("missing or unknown kiosk credential")]
    Unauthorized,
    #[error("this kiosk has been revoked")]
    Revoked,
    #[error("the enrollment code is unknown, used or expired")]
    BadEnrollmentCode,
    #[error("refused: {0}")]
    Forbidden(String),
    /// An office edit that would break a rule: what to correct, in Polish and English.
    #[error("{en}")]
    Refused { pl: String, en: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("another blisko-server is serving {0}")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Document(DocError),
    /// A bug met while handling a request (a caught panic): nothing of it was stored.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CentralError {
    pub fn code(&self) -> &'static str {
        match self {
            CentralError::Unauthorized => "unauthorized",
            CentralError::Revoked => "revoked",
            CentralError::BadEnrollmentCode => "bad_enrollment_code",
            CentralError::Forbidden(_) => "forbidden",
            CentralError::BadRequest(_) | CentralError::Refused { .. } => "bad_request",
            CentralError::NotFound(_) => "not_found",
            CentralError::Busy(_) => "busy",
            CentralError::Store(_) | CentralError::Document(_) | CentralError::Internal(_) => {
                "internal"
            }
        }
    }
}

/// A document error caused by what a kiosk sent is the kiosk's fault, not ours.
fn from_kiosk(e: DocError) -> CentralError {
    match e {
        DocError::ForbiddenWriter { .. } => CentralError::Forbidden(e.to_string()),
        other => CentralError::BadRequest(other.to_string()),
    }
}

pub type Result<T, E = CentralError> = std::result::Result<T, E>;

pub mod kiosks;

/// Run `f` on the store, turning a panic into [`CentralError::Internal`]. A panic (a bug,
/// or a dependency choking on hostile input) must not poison the lock around the store,
/// which would fail every later request: it is caught while the guard is still held. The
/// request's store transaction was rolled back while unwinding, and the document cache
/// is checked against stored heads, so nothing half-done survives.
pub fn contain_panics<T, E: From<CentralError>>(
    f: impl FnOnce() -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        tracing::error!("a request panicked; it was answered as an internal error");
        Err(CentralError::Internal("the server could not handle this request".into()).into())
    })
}

pub fn now_wall_ms() -> u64 {
    jiff::Timestamp::now().as_millisecond().max(0) as u64
}

pub(crate) fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The credential's lookup prefix (not secret on its own).
fn token_prefix(token: &str) -> Option<&str> {
    token.get(..12)
}

/// An enrollment code as typed: case, spaces and dashes do not matter.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The roster of a class as the office sees it (the shape of the kiosk's `roster --json`).
pub type RosterRow = blisko_shared::seats::RosterLine;

pub struct Central {
    pub(crate) store: ServerStore,
    pub(crate) clock: HlcClock,
    sealer: seal::Sealer,
    /// The clock's stamp as this process last stored it, so that an idle round does not
    /// write it again.
    stored_hlc: Option<Hlc>,
}

/// How often an idle kiosk's sync is written down: its "last sync" in the office is at
/// most this old. Writing it at every sync made every idle round a write.
const RECORD_SYNC_EVERY_MS: u64 = 60_000;

/// Whether a sync of `kiosk` at `now_ms` with `app_version` is to be written down: a new
/// version always, the time once a minute (or when the clock went back). Decided from
/// the kiosk's row as the round read it, which every server process on the store
/// shares: a kiosk that syncs through another process each time is still written down
/// once a minute, and its other rounds stay with the readers.
fn sync_due(kiosk: &KioskAuth, now_ms: u64, app_version: &str) -> bool {
    kiosk.recorded_sync.as_ref().is_none_or(|r| {
        r.app_version != app_version || now_ms < r.at_ms || now_ms - r.at_ms >= RECORD_SYNC_EVERY_MS
    })
}

impl Central {
    /// The store in the data folder `dir` (SQLite).
    pub fn open(dir: &Path) -> Result<Central> {
        Central::with_store(ServerStore::open(dir)?)
    }

    /// The store in the PostgreSQL database at `url`, which other server processes may
    /// share.
    pub fn open_postgres(url: &str) -> Result<Central> {
        Central::with_store(ServerStore::open_postgres(url)?)
    }

    fn with_store(mut store: ServerStore) -> Result<Central> {
        let (last, sealer) = {
            let db = store.write()?;
            let last = db.meta("hlc")?;
            let sealer = seal::Sealer::of_store(&db)?;
            db.commit()?;
            (last, sealer)
        };
        let clock = match last.and_then(|s| s.parse::<Hlc>().ok()) {
            Some(last) => HlcClock::resume(last),
            None => HlcClock::new(KioskId::CENTRAL),
        };
        Ok(Central {
            store,
            clock,
            sealer,
            stored_hlc: None,
        })
    }

    /// Sync rounds served beside this writer, on at most `readers` reader connections
    /// of its store (opened when first needed).
    pub fn read_rounds(&self, readers: usize) -> crate::read_rounds::ReadRounds {
        crate::read_rounds::ReadRounds::new(self.store.location(), self.sealer.clone(), readers)
    }

    /// Load the demo catalogue unless catalogs exist already. Returns whether it loaded.
    pub fn load_demo_if_empty(&mut self) -> Result<bool> {
        let today = jiff::Zoned::now().date();
        let db = self.store.write()?;
        if !db.doc_keys("catalog")?.is_empty() {
            return Ok(false);
        }
        for catalog in demo::without_public_holidays(demo::catalogs(today, 6, None)) {
            let mut doc =
                CatalogDoc::create(&catalog, KioskId::CENTRAL).map_err(CentralError::Document)?;
            let bytes = doc.doc_mut().save();
            db.insert_document(
                doc.doc().key(),
                Some(catalog.branch.id),
                None,
                &bytes,
                &doc.doc().heads(),
                &now_text(),
            )?;
            project_catalog(&db, &catalog)?;
        }
        db.audit(&now_text(), "server", "load_demo", "catalog:*", None)?;
        db.commit()?;
        Ok(true)
    }

    pub fn branches(&mut self) -> Result<Vec<crate::store::BranchRow>> {
        let db = self.store.write()?;
        Ok(db.branches()?)
    }

    /// The kiosk a bearer token belongs to. A refusal is audited, without the token:
    /// a wrong guess tells nothing worth keeping. The record names the kiosk when the
    /// token's lookup prefix is one (a revoked kiosk, or a wrong secret).
    pub fn authenticate(&mut self, token: &str) -> Result<KioskAuth> {
        let (known, result) = self.check_token(token)?;
        if let Err(e) = &result {
            let subject = known.map_or_else(|| "kiosk:?".to_owned(), |k| format!("kiosk:{k}"));
            self.audit("unknown", "sync_unauthorized", &subject, Some(e.code()))?;
        }
        result
    }

    /// The kiosk whose lookup prefix the token has (if any), and the verdict.
    fn check_token(&mut self, token: &str) -> Result<(Option<KioskId>, Result<KioskAuth>)> {
        // A read, which waits for no writer: every kiosk's first sync with a server
        // process is checked here, and on PostgreSQL a write would wait for the sync
        // rounds of every process and hold up those that follow.
        let db = self.store.read()?;
        token_verdict(&db, token)
    }

    /// One sync round with a kiosk, in its own transaction (see [`sync_round`]); a
    /// refusal is audited.
    pub fn sync(&mut self, kiosk: &KioskAuth, request: &SyncRequest) -> Result<SyncResponse> {
        let result = {
            let db = self.store.write()?;
            catch_up_clock(&db, &mut self.clock)?;
            let record = sync_due(kiosk, now_wall_ms(), &request.app_version);
            sync_round(&db, &mut self.clock, &self.sealer, record, kiosk, request).and_then(
                |response| {
                    let hlc = store_clock(&db, &self.clock, self.stored_hlc)?;
                    db.commit()?;
                    self.stored_hlc = Some(hlc);
                    Ok(response)
                },
            )
        };
        if let Err(e @ (CentralError::Forbidden(_) | CentralError::BadRequest(_))) = &result {
            // The refused request changed nothing; the refusal itself is recorded.
            self.audit(
                &format!("kiosk:{}", kiosk.id),
                "sync_refused",
                &format!("kiosk:{}", kiosk.id),
                Some(e.code()),
            )?;
            tracing::warn!(kiosk = %kiosk.id, code = e.code(), "sync refused");
        }
        result
    }

    /// Sync rounds that arrived together, each with the credential it presented, in
    /// one transaction: one commit, and so one fsync, for all of them (group commit).
    /// Each round is a part of its own: a refused or failed round is taken back alone
    /// (its refusal audited) and the others keep theirs. The answers come in the rounds'
    /// order; nothing is answered before the commit. An error of the whole (the commit
    /// failed) is returned as such: then no round took effect.
    pub fn sync_rounds(&mut self, rounds: &[Round<'_>]) -> Result<Vec<Result<SyncResponse>>> {
        self.sync_gathered(|| rounds.to_vec())
    }

    /// [`Central::sync_rounds`] of the rounds `gather` gives once the store's turn is
    /// this transaction's. On PostgreSQL the turn may be long in coming (other server
    /// processes' writes hold it), and the rounds that arrived meanwhile then share this
    /// transaction rather than each waiting for a turn of its own.
    pub fn sync_gathered<'r>(
        &mut self,
        gather: impl FnOnce() -> Vec<Round<'r>>,
    ) -> Result<Vec<Result<SyncResponse>>> {
        let db = self.store.write_branches()?;
        let rounds = gather();
        // Whose rounds these are, so that their branch points' locks are taken before
        // anything of theirs is read. The kiosks cannot change meanwhile: changing one
        // takes the store for itself (`ServerStore::write`).
        let mut verdicts = Vec::with_capacity(rounds.len());
        for round in &rounds {
            verdicts.push(token_verdict(&db, round.token)?);
        }
        db.lock_branches(
            verdicts
                .iter()
                .filter_map(|(_, verdict)| verdict.as_ref().ok().map(|k| k.branch_id)),
        )?;
        catch_up_clock(&db, &mut self.clock)?;
        let mut answers = Vec::with_capacity(rounds.len());
        for (round, (known, verdict)) in rounds.iter().zip(verdicts) {
            db.begin_part()?;
            let mut refusal = None;
            let answer = contain_panics(|| {
                let kiosk = verdict.inspect_err(|e| {
                    let subject =
                        known.map_or_else(|| "kiosk:?".to_owned(), |k| format!("kiosk:{k}"));
                    refusal = Some(("unknown".to_owned(), "sync_unauthorized", subject, e.code()));
                })?;
                let record = sync_due(&kiosk, now_wall_ms(), &round.request.app_version);
                sync_round(
                    &db,
                    &mut self.clock,
                    &self.sealer,
                    record,
                    &kiosk,
                    round.request,
                )
                .inspect_err(|e| {
                    if matches!(e, CentralError::Forbidden(_) | CentralError::BadRequest(_)) {
                        let who = format!("kiosk:{}", kiosk.id);
                        tracing::warn!(kiosk = %kiosk.id, code = e.code(), "sync refused");
                        refusal = Some((who.clone(), "sync_refused", who, e.code()));
                    }
                })
            });
            let answer = match answer {
                Ok(response) => {
                    db.keep_part()?;
                    Ok(response)
                }
                Err(e) => {
                    db.undo_part()?;
                    Err(e)
                }
            };
            if let Some((actor, action, subject, code)) = refusal {
                db.audit(&now_text(), &actor, action, &subject, Some(code))?;
            }
            answers.push(answer);
        }
        // The clock once for the batch (a round taken back may have moved it too).
        let hlc = store_clock(&db, &self.clock, self.stored_hlc)?;
        db.commit()?;
        self.stored_hlc = Some(hlc);
        Ok(answers)
    }

    /// Write an audit record in its own transaction (used for refusals, whose own
    /// transaction is rolled back).
    pub fn audit(
        &mut self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        let db = self.store.write()?;
        db.audit(&now_text(), actor, action, subject, detail)?;
        db.commit()?;
        Ok(())
    }

    pub fn audit_log(&mut self, limit: usize) -> Result<Vec<crate::store::AuditRow>> {
        let db = self.store.write()?;
        Ok(db.audit_log(limit)?)
    }

    /// Create or update branch catalogs (classes, sessions, services, staff, allotments)
    /// from their full description. Nothing is removed; all catalogs land together or
    /// none does. Returns how many catalogs were new.
    pub fn import_catalogs(&mut self, catalogs: &[Catalog]) -> Result<usize> {
        for catalog in catalogs {
            catalog
                .check_allotments()
                .map_err(CentralError::BadRequest)?;
        }
        let now = now_text();
        let db = self.store.write()?;
        catch_up_clock(&db, &mut self.clock)?;
        let mut created = 0;
        for catalog in catalogs {
            let key = DocKey::Catalog(catalog.branch.id);
            match load(&db, key)? {
                None => {
                    let mut doc = CatalogDoc::create(catalog, KioskId::CENTRAL)
                        .map_err(CentralError::Document)?;
                    let bytes = doc.doc_mut().save();
                    db.insert_document(
                        key,
                        Some(catalog.branch.id),
                        None,
                        &bytes,
                        &doc.doc().heads(),
                        &now,
                    )?;
                    created += 1;
                }
                Some(_) => {
                    // An update keeps the seat rules, as any office edit does.
                    seats::edit_catalog(
                        &db,
                        &mut self.clock,
                        catalog.branch.id,
                        &CatalogEdit::all_of(catalog),
                        &seats::Editor {
                            actor: "admin",
                            action: "catalog_import",
                            subject: &key.to_string(),
                        },
                    )?;
                    continue;
                }
            }
            let merged = CatalogDoc::from_doc(
                load(&db, key)?.ok_or_else(|| CentralError::NotFound(key.to_string()))?,
            )
            .and_then(|c| c.read())
            .map_err(CentralError::Document)?;
            project_catalog(&db, &merged)?;
            db.audit(&now, "admin", "catalog_import", &key.to_string(), None)?;
        }
        db.set_meta("hlc", &self.clock.last().to_string())?;
        db.commit()?;
        Ok(created)
    }

    /// The merged roster of a class, computed from the document.
    pub fn roster(&mut self, class: ClassId) -> Result<Vec<RosterRow>> {
        let db = self.store.write()?;
        let branch = db
            .class_branch(class)?
            .ok_or_else(|| CentralError::NotFound(format!("class {class}")))?;
        let policy = policy_for(&db, branch, class)?;
        let Some(doc) = load(&db, DocKey::Roster(class))? else {
            return Ok(Vec::new());
        };
        let roster = RosterDoc::from_doc(doc).map_err(CentralError::Document)?;
        let regs: BTreeMap<_, _> = roster
            .registrations()
            .map_err(CentralError::Document)?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let regs_vec: Vec<_> = regs.values().cloned().collect();
        let computed = blisko_shared::seats::compute_roster(&policy, &regs_vec);
        Ok(computed
            .entries
            .iter()
            .filter_map(|e| {
                let reg = regs.get(&e.registration_id)?;
                Some(RosterRow::new(reg, e.state.status(), e.state.position()))
            })
            .collect())
    }

    /// Heads of a stored document (for tests and diagnostics).
    pub fn heads(&mut self, key: DocKey) -> Result<Option<Vec<ChangeHash>>> {
        let db = self.store.write()?;
        Ok(load(&db, key)?.map(|d| d.heads()))
    }
}

/// One sync round waiting for the store: the credential presented and the request.
#[derive(Clone, Copy)]
pub struct Round<'a> {
    pub token: &'a str,
    pub request: &'a SyncRequest,
}

/// Store the clock's last stamp unless `stored` (what this process last committed) is it
/// already. Returns the stamp now stored.
fn store_clock(db: &Db<'_>, clock: &HlcClock, stored: Option<Hlc>) -> Result<Hlc> {
    let last = clock.last();
    if stored != Some(last) {
        db.store_clock(&last.to_string())?;
    }
    Ok(last)
}

/// The kiosk whose lookup prefix the token has (if any), and the verdict.
fn token_verdict(db: &Db<'_>, token: &str) -> Result<(Option<KioskId>, Result<KioskAuth>)> {
    let Some(prefix) = token_prefix(token) else {
        return Ok((None, Err(CentralError::Unauthorized)));
    };
    let Some(kiosk) = db.kiosk_by_prefix(prefix)? else {
        return Ok((None, Err(CentralError::Unauthorized)));
    };
    let verdict = if kiosk.token_hash != sha256(token.as_bytes()) {
        // Digests of a 256-bit secret: comparing them leaks nothing useful.
        Err(CentralError::Unauthorized)
    } else if kiosk.revoked {
        Err(CentralError::Revoked)
    } else {
        Ok(kiosk.clone())
    };
    Ok((Some(kiosk.id), verdict))
}

/// Whether a round may only read: it brings nothing to store. Such a round (an idle
/// kiosk's timed sync, most of them) is tried on a reader first ([`read_round`]).
pub fn may_only_read(request: &SyncRequest) -> bool {
    request.push.is_empty()
        && request.keys.0.is_empty()
        && request.want_keys.0.is_empty()
        && request.shown.is_empty()
        && request.sms_withdrawals.is_empty()
}

/// A sync round on a reader's snapshot ([`ServerStore::reader`]), beside the writer and
/// without waiting for it. `None` leaves the round to the writer, which runs it afresh:
/// when it brings something to store, when the kiosk's sync is due to be written down,
/// when it is refused (the writer audits the refusal), and when it tried to write or
/// failed (the database refuses a reader's writes). Its answer is the one the writer
/// would have given at the snapshot's moment: the snapshot holds every commit before
/// it, and the feed's positions are handed out in commit order.
pub(crate) fn read_round(
    reader: &mut ServerStore,
    sealer: &seal::Sealer,
    token: &str,
    request: &SyncRequest,
) -> Result<Option<SyncResponse>> {
    if !may_only_read(request) {
        return Ok(None);
    }
    let db = reader.read()?;
    let Ok(kiosk) = token_verdict(&db, token)?.1 else {
        return Ok(None);
    };
    if sync_due(&kiosk, now_wall_ms(), &request.app_version) {
        return Ok(None);
    }
    // A round that would stamp would also write, which the reader refuses: this clock
    // never reaches the store.
    let mut clock = HlcClock::new(KioskId::CENTRAL);
    let response = sync_round(&db, &mut clock, sealer, false, &kiosk, request)?;
    db.commit()?;
    Ok(Some(response))
}

/// Whether `token` is the credential of a kiosk in good standing, on a reader's
/// snapshot ([`ServerStore::reader`]); a refusal is left to the writer to audit.
pub(crate) fn credential_accepted(reader: &mut ServerStore, token: &str) -> Result<bool> {
    let db = reader.read()?;
    let accepted = token_verdict(&db, token)?.1.is_ok();
    db.commit()?;
    Ok(accepted)
}

/// One sync round with a kiosk, in `db`'s transaction: apply its pushes (all or
/// nothing), list what changed in its branch since its cursor, and hand out the changes
/// it asked for. On an error the caller takes back whatever the round wrote.
fn sync_round(
    db: &Db<'_>,
    clock: &mut HlcClock,
    sealer: &seal::Sealer,
    record: bool,
    kiosk: &KioskAuth,
    request: &SyncRequest,
) -> Result<SyncResponse> {
    if request.push.len() + request.pull.len() > MAX_DOCS_PER_REQUEST {
        return Err(CentralError::BadRequest(format!(
            "at most {MAX_DOCS_PER_REQUEST} documents per request"
        )));
    }
    let now = now_text();
    let mut stamp_floor: Option<Hlc> = None;
    if request.keys.0.len() > MAX_KEYS_PER_MESSAGE {
        return Err(CentralError::BadRequest(format!(
            "at most {MAX_KEYS_PER_MESSAGE} keys per request"
        )));
    }
    if request.want_keys.0.len() > MAX_WANTED_KEYS {
        return Err(CentralError::BadRequest(format!(
            "at most {MAX_WANTED_KEYS} wanted keys per request"
        )));
    }
    let instance = db.instance()?;
    if request
        .server_instance
        .as_ref()
        .is_some_and(|seen| *seen != instance)
    {
        // Restored from a backup since this kiosk last synced: its request was made
        // against changes this store may lack. Nothing of it is taken; the answer
        // names the store, and the kiosk starts over (sends all it wrote, reads the
        // feeds from the start).
        return Ok(SyncResponse {
            changed: Vec::new(),
            cursor: 0,
            more: true,
            pulled: Vec::new(),
            deferred: Vec::new(),
            keys: KeyList::default(),
            erased: PersonList::default(),
            key_cursor: 0,
            server_instance: Some(instance),
        });
    }
    let intakes = pesel::sealed_before(db, request)?;
    for push in &request.push {
        if let Some((roster, before)) = apply_push(db, sealer, kiosk, push, &now)? {
            let seen = seats::Seen {
                before: &before,
                at_screen: &request.awaiting,
            };
            let latest = fill_pool_seats(db, clock, roster, &now, Some(seen))?;
            stamp_floor = stamp_floor.max(latest);
        }
    }
    store_pushed_keys(db, kiosk, &request.keys)?;
    crate::notices::shown_at_screen(db, kiosk.branch_id, &request.shown)?;
    persons::withdraw_sms_from_kiosk(db, kiosk, &request.sms_withdrawals)?;
    pesel::check_pushed_intakes(db, kiosk, &intakes)?;
    if let Some(heads) = &request.catalog_heads {
        seats::acknowledge_catalog(db, clock, kiosk, &from_heads(heads), &now)?;
    }
    let key_cursor = i64::try_from(request.key_cursor)
        .map_err(|_| CentralError::BadRequest("key cursor out of range".into()))?;
    let mut key_feed = db.key_feed(
        kiosk.branch_id,
        kiosk.id,
        key_cursor,
        MAX_KEYS_PER_MESSAGE + 1,
    )?;
    let more_keys = key_feed.len() > MAX_KEYS_PER_MESSAGE;
    key_feed.truncate(MAX_KEYS_PER_MESSAGE);
    // Both feeds' positions in one read; nothing this round does after it moves them.
    let positions = db.positions()?;
    let new_key_cursor = match key_feed.last() {
        Some((seq, _, _)) if more_keys => *seq,
        _ => positions.keys.max(key_cursor),
    };
    let mut keys = KeyList::default();
    let mut erased = PersonList::default();
    for (_, person, key) in key_feed {
        match key {
            Some(key) => keys.0.push((person, key)),
            None => erased.0.push(person),
        }
    }
    // Keys a kiosk asks for again (a returning resident at a kiosk that dropped their
    // details): only its own branch's persons, and each hand-out is audited.
    for &person in &request.want_keys.0 {
        if keys.0.iter().any(|(p, _)| *p == person) || erased.0.contains(&person) {
            continue;
        }
        match db.branch_person_key(kiosk.branch_id, person)? {
            Some(Some(key)) => {
                db.audit(
                    &now,
                    &format!("kiosk:{}", kiosk.id),
                    "person_key_sent",
                    &format!("person:{person}"),
                    None,
                )?;
                keys.0.push((person, key));
            }
            Some(None) => erased.0.push(person),
            None => {}
        }
    }

    let cursor = i64::try_from(request.cursor)
        .map_err(|_| CentralError::BadRequest("cursor out of range".into()))?;
    let mut feed = db.feed(kiosk.branch_id, cursor, MAX_CHANGED_PER_RESPONSE + 1)?;
    let more = feed.len() > MAX_CHANGED_PER_RESPONSE;
    feed.truncate(MAX_CHANGED_PER_RESPONSE);
    let new_cursor = match feed.last() {
        Some((_, seq, _)) if more => *seq,
        _ => positions.feed.max(cursor),
    };
    // What this batch wrote has no position yet on PostgreSQL (`Db::commit` hands them
    // out): listed too, so that a kiosk hears at once of a seat the pool granted it. It
    // is listed again after its position, with heads the kiosk then has.
    let unpositioned =
        db.feed_unpositioned(kiosk.branch_id, MAX_CHANGED_PER_RESPONSE - feed.len())?;
    let changed = feed
        .into_iter()
        .map(|(doc, _, heads)| (doc, heads))
        .chain(unpositioned)
        .map(|(doc, heads)| DocHeads {
            doc,
            heads: to_heads(&heads),
        })
        .collect();

    let mut pulled = Vec::new();
    let mut deferred = Vec::new();
    let mut budget = 0usize;
    for want in &request.pull {
        if budget > RESPONSE_BUDGET_BYTES {
            deferred.push(want.doc);
            continue;
        }
        let not_found = || CentralError::NotFound(want.doc.to_string());
        let (changes, heads) = if want.have.is_empty() {
            // The kiosk has nothing of it: the document as stored (a saved document,
            // perhaps followed by change chunks), sent without decoding it here.
            let loaded = db.load_doc(want.doc)?;
            check_branch(kiosk, want.doc, loaded.as_ref().and_then(|l| l.branch_id))?;
            let loaded = loaded.ok_or_else(not_found)?;
            let mut bytes = loaded.stored.snapshot;
            for chunk in loaded.stored.chunks {
                bytes.extend_from_slice(&chunk);
            }
            (bytes, loaded.heads)
        } else {
            let info = db.doc_info(want.doc)?;
            check_branch(kiosk, want.doc, info.as_ref().and_then(|i| i.branch_id))?;
            let info = info.ok_or_else(not_found)?;
            let doc = load_at(db, want.doc, &info.heads)?.ok_or_else(not_found)?;
            let changes = doc
                .changes_since(&from_heads(&want.have))
                .map_err(CentralError::Document)?;
            (changes, doc.heads())
        };
        budget += changes.len();
        pulled.push(DocChanges {
            doc: want.doc,
            changes,
            seal: Some(sealer.seal(want.doc, &heads)),
            heads: to_heads(&heads),
        });
    }
    let now_ms = now_wall_ms();
    if record {
        db.touch_kiosk(kiosk.id, &now, &request.app_version)?;
    }
    if let Some(latest) = stamp_floor {
        clock.observe(latest, now_ms);
    }
    Ok(SyncResponse {
        changed,
        cursor: new_cursor as u64,
        more: more || more_keys,
        pulled,
        deferred,
        keys,
        erased,
        key_cursor: new_key_cursor as u64,
        server_instance: Some(instance),
    })
}

pub(crate) fn project_catalog(db: &Db<'_>, catalog: &Catalog) -> Result<()> {
    let classes: Vec<_> = catalog
        .classes
        .iter()
        .map(|c| (c.id, c.title.clone()))
        .collect();
    db.project_branch(
        catalog.branch.id,
        &catalog.branch.code,
        &catalog.branch.name,
        &classes,
    )?;
    Ok(())
}

/// Another process on the same store (a second server on PostgreSQL, an admin command
/// beside the server) may have stamped since this one last did: later stamps here sort
/// after every stamp stored.
pub(crate) fn catch_up_clock(db: &Db<'_>, clock: &mut HlcClock) -> Result<()> {
    if let Some(stored) = db.meta("hlc")?.and_then(|s| s.parse::<Hlc>().ok()) {
        clock.catch_up(stored);
    }
    Ok(())
}

/// Decoded rosters and catalogs, kept between requests: loading a big roster from its
/// bytes costs far more than copying it. An entry is used only while the heads stored
/// in the database are the entry's heads, so a rolled-back request or an admin command
/// in another process never serves stale content. The lock is held only to look up or
/// to insert.
static DOC_CACHE: LazyLock<Mutex<HashMap<DocKey, Arc<Doc>>>> = LazyLock::new(Default::default);
const DOC_CACHE_MAX: usize = 512;

fn cacheable(key: DocKey) -> bool {
    matches!(key, DocKey::Roster(_) | DocKey::Catalog(_))
}

fn remember(doc: &Doc) {
    if cacheable(doc.key()) {
        remember_shared(&Arc::new(doc.clone()));
    }
}

fn remember_shared(doc: &Arc<Doc>) {
    if !cacheable(doc.key()) {
        return;
    }
    let mut cache = DOC_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= DOC_CACHE_MAX && !cache.contains_key(&doc.key()) {
        cache.clear();
    }
    cache.insert(doc.key(), Arc::clone(doc));
}

/// Load a stored document as the central office's replica, to change it.
pub(crate) fn load(db: &Db<'_>, key: DocKey) -> Result<Option<Doc>> {
    Ok(load_shared(db, key)?.map(Arc::unwrap_or_clone))
}

/// A stored document to read: from the cache without copying it when it is there.
fn load_shared(db: &Db<'_>, key: DocKey) -> Result<Option<Arc<Doc>>> {
    if let Some(doc) = cached(key) {
        match db.doc_heads(key)? {
            Some(stored_heads) if doc.heads() == stored_heads => return Ok(Some(doc)),
            Some(_) => {}
            None => return Ok(None),
        }
    }
    load_stored(db, key)
}

/// [`load_shared`] of a document whose stored heads were just read.
fn load_at(db: &Db<'_>, key: DocKey, stored_heads: &[ChangeHash]) -> Result<Option<Arc<Doc>>> {
    match cached(key) {
        Some(doc) if doc.heads() == stored_heads => Ok(Some(doc)),
        _ => load_stored(db, key),
    }
}

fn cached(key: DocKey) -> Option<Arc<Doc>> {
    if !cacheable(key) {
        return None;
    }
    let cache = DOC_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache.get(&key).cloned()
}

/// A document read from the store (and kept in the cache when it is of a kind kept).
fn load_stored(db: &Db<'_>, key: DocKey) -> Result<Option<Arc<Doc>>> {
    let Some(loaded) = db.load_doc(key)? else {
        return Ok(None);
    };
    let doc = Doc::load(
        key,
        KioskId::CENTRAL,
        &loaded.stored.snapshot,
        loaded.stored.chunks.iter().map(Vec::as_slice),
    )
    .map_err(CentralError::Document)?;
    let doc = Arc::new(doc);
    remember_shared(&doc);
    Ok(Some(doc))
}

/// Persist whatever changed in `doc` since it was loaded (compacting when due).
pub(crate) fn store_changes(db: &Db<'_>, doc: &mut Doc, now: &str) -> Result<()> {
    let key = doc.key();
    let info = db
        .doc_info(key)?
        .ok_or_else(|| CentralError::NotFound(key.to_string()))?;
    let Some(chunk) = doc.take_unsaved() else {
        return Ok(());
    };
    db.append_chunk(key, &chunk, &doc.heads(), now)?;
    if info.wants_compaction() {
        let snapshot = doc.save();
        db.compact_document(key, &snapshot, &doc.heads(), now)?;
    }
    remember(doc);
    Ok(())
}

/// Whether the kiosk may read a document filed under `branch` (`None`: under no branch
/// point, or no such document). An unknown document gets the same answer as another
/// branch's, so that a kiosk cannot probe which documents exist elsewhere.
fn check_branch(kiosk: &KioskAuth, key: DocKey, branch: Option<BranchId>) -> Result<()> {
    if branch != Some(kiosk.branch_id) {
        return Err(CentralError::Forbidden(format!(
            "{key} is not a document of this kiosk's branch"
        )));
    }
    Ok(())
}

/// Store the keys a kiosk pushed, checking each is of a person in its own people
/// documents (so a kiosk cannot plant keys for another kiosk's or branch's persons).
fn store_pushed_keys(db: &Db<'_>, kiosk: &KioskAuth, keys: &KeyList) -> Result<()> {
    if keys.0.is_empty() {
        return Ok(());
    }
    let mut volumes = Vec::new();
    for volume in 0.. {
        let Some(doc) = load(db, DocKey::People(kiosk.id, volume))? else {
            break;
        };
        volumes.push(PeopleDoc::from_doc(doc).map_err(CentralError::Document)?);
    }
    for (person, key) in &keys.0 {
        let mut own = false;
        for people in &volumes {
            if people.contains(*person).map_err(CentralError::Document)? {
                own = true;
                break;
            }
        }
        if !own {
            return Err(CentralError::Forbidden(format!(
                "a key for person {person}, who is not in this kiosk's people documents"
            )));
        }
        db.put_person_key(*person, kiosk.branch_id, kiosk.id, key)?;
    }
    Ok(())
}

/// Apply one pushed document, checking the kiosk may write it. Returns the roster as
/// stored when a roster changed (its pool seats may need filling), with its registrations
/// before the push (whoever waited then and holds a seat now gets a message).
///
/// A kiosk writes only its own changes, except those the push's seal reaches: the
/// server held them once (a restore lost them), whoever wrote them. So a sealed catalog
/// of the kiosk's branch comes back too, with no change of the kiosk's own.
fn apply_push(
    db: &Db<'_>,
    sealer: &seal::Sealer,
    kiosk: &KioskAuth,
    push: &DocChanges,
    now: &str,
) -> Result<Option<(RosterDoc, Vec<Registration>)>> {
    let key = push.doc;
    let own_actor = actor_for(kiosk.id);
    let writes_own = !matches!(key, DocKey::Catalog(_));
    let may_write = |actor: &ActorId| writes_own && *actor == own_actor;
    // Another server's seal, or a bent one, vouches for nothing.
    let sealed = push
        .seal
        .as_ref()
        .and_then(|seal| sealer.check(key, seal))
        .unwrap_or_default();
    let info = db.doc_info(key)?;
    match key {
        DocKey::Catalog(branch) => {
            if branch != kiosk.branch_id || sealed.is_empty() || info.is_none() {
                return Err(CentralError::Forbidden(format!(
                    "{key}: catalogs are written by the office only"
                )));
            }
        }
        DocKey::Roster(class) => {
            if db.class_branch(class)? != Some(kiosk.branch_id) {
                return Err(CentralError::Forbidden(format!(
                    "{key} is outside this kiosk's branch"
                )));
            }
        }
        DocKey::People(owner, _) => {
            if owner != kiosk.id {
                return Err(CentralError::Forbidden(format!(
                    "{key} belongs to another kiosk"
                )));
            }
        }
        DocKey::Intake(_) => {
            if let Some(info) = &info
                && info.owner_kiosk != Some(kiosk.id)
            {
                return Err(CentralError::Forbidden(format!(
                    "{key} belongs to another kiosk"
                )));
            }
        }
    }
    // Before automerge sees them: bytes that would make it allocate without bound.
    untrusted::check_changes(&push.changes).map_err(|e| {
        CentralError::BadRequest(format!("{key}: the changes cannot be decoded ({e})"))
    })?;
    let heads = from_heads(&push.heads);
    let mut before = Vec::new();
    // A document the store has no record of is not loaded: there is nothing to load.
    let stored = match &info {
        Some(info) => load_at(db, key, &info.heads)?.map(Arc::unwrap_or_clone),
        None => None,
    };
    let mut doc = match stored {
        Some(doc) if matches!(key, DocKey::Roster(_)) => {
            let roster = RosterDoc::from_doc(doc).map_err(CentralError::Document)?;
            before = roster.registrations().map_err(CentralError::Document)?;
            let mut doc = roster.into_doc();
            doc.apply_remote(&push.changes, &heads, &sealed, may_write)
                .map_err(from_kiosk)?;
            doc
        }
        Some(mut doc) => {
            doc.apply_remote(&push.changes, &heads, &sealed, may_write)
                .map_err(from_kiosk)?;
            doc
        }
        None => Doc::from_remote(
            key,
            KioskId::CENTRAL,
            &push.changes,
            &heads,
            &sealed,
            may_write,
        )
        .map_err(from_kiosk)?,
    };
    // The content must agree with the branch the document is filed under.
    let content_branches = match key {
        DocKey::People(..) => PeopleDoc::from_doc(doc.clone())
            .and_then(|p| p.persons())
            .map_err(from_kiosk)?
            .into_iter()
            .map(|p| p.home_branch)
            .collect(),
        DocKey::Intake(_) => vec![
            IntakeDoc::from_doc(doc.clone())
                .and_then(|i| i.read(None))
                .map_err(from_kiosk)?
                .branch_id,
        ],
        DocKey::Catalog(_) => vec![
            CatalogDoc::from_doc(doc.clone())
                .and_then(|c| c.read())
                .map_err(from_kiosk)?
                .branch
                .id,
        ],
        DocKey::Roster(_) => Vec::new(),
    };
    if content_branches.iter().any(|b| *b != kiosk.branch_id) {
        return Err(CentralError::Forbidden(format!(
            "{key} names another branch"
        )));
    }
    match info {
        None => {
            let owner = matches!(key, DocKey::People(..) | DocKey::Intake(_)).then_some(kiosk.id);
            let snapshot = doc.save();
            db.insert_document(
                key,
                Some(kiosk.branch_id),
                owner,
                &snapshot,
                &doc.heads(),
                now,
            )?;
        }
        Some(_) => store_changes(db, &mut doc, now)?,
    }
    if let DocKey::Catalog(branch) = key
        && db.doc_info(key)?.map(|i| i.seq) != info.as_ref().map(|i| i.seq)
    {
        // Office edits the restore lost, back from a kiosk that held them.
        let catalog = stored_catalog(db, branch)?;
        project_catalog(db, &catalog)?;
        db.audit(
            now,
            &format!("kiosk:{}", kiosk.id),
            "catalog_restored",
            &format!("branch:{branch}"),
            None,
        )?;
    }
    Ok(match key {
        DocKey::Roster(_) => Some((
            RosterDoc::from_doc(doc).map_err(CentralError::Document)?,
            before,
        )),
        _ => None,
    })
}

/// Branch catalogs as read from their documents, with the heads they were read at: every
/// roster push needs its class's seat rules, and reading a whole catalog for each costs
/// far more than the roster's own work. Used only while the stored heads are the entry's
/// heads, like [`DOC_CACHE`].
type CatalogCache = HashMap<BranchId, (Vec<ChangeHash>, Arc<Catalog>)>;
static CATALOG_CACHE: LazyLock<Mutex<CatalogCache>> = LazyLock::new(Default::default);

/// A branch's catalog as stored.
pub(crate) fn stored_catalog(db: &Db<'_>, branch: BranchId) -> Result<Arc<Catalog>> {
    let key = DocKey::Catalog(branch);
    let not_found = || CentralError::NotFound(key.to_string());
    let heads = db.doc_heads(key)?.ok_or_else(not_found)?;
    {
        let cache = CATALOG_CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((cached_heads, catalog)) = cache.get(&branch)
            && *cached_heads == heads
        {
            return Ok(Arc::clone(catalog));
        }
    }
    let doc = load(db, key)?.ok_or_else(not_found)?;
    let heads = doc.heads();
    let catalog = Arc::new(
        CatalogDoc::from_doc(doc)
            .and_then(|c| c.read())
            .map_err(CentralError::Document)?,
    );
    let mut cache = CATALOG_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= DOC_CACHE_MAX && !cache.contains_key(&branch) {
        cache.clear();
    }
    cache.insert(branch, (heads, Arc::clone(&catalog)));
    Ok(catalog)
}
