//! The kiosk as a replica of its branch's documents: what one sync round sends to the
//! server, and how the answer is taken in. No HTTP here (that is `crate::sync`), so a
//! round can be prepared and applied under a short lock while the network wait happens
//! outside it.
//!
//! Every step is safe to repeat: a push the server already holds is applied as a no-op,
//! a document pulled twice changes nothing, and the cursor moves only in the same
//! transaction that records which documents are still to be pulled.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use blisko_shared::crypto::PersonKey;
use blisko_shared::docs::{
    CatalogDoc, ChangeHash, Doc, DocKey, IntakeDoc, PeopleDoc, RosterDoc, RosterEdit, actor_for,
};
use blisko_shared::ids::{BranchId, ClassId, PersonId};
use blisko_shared::model::{Catalog, IntakeRequest, Person};
use blisko_shared::seats;
use blisko_shared::sync::{
    DocChanges, DocHave, EnrollResponse, KeyList, MAX_DOCS_PER_REQUEST, MAX_KEYS_PER_MESSAGE,
    MAX_SMS_WITHDRAWALS, MAX_WANTED_KEYS, PersonList, Seal, SyncRequest, SyncResponse, from_heads,
    to_heads,
};

use super::{
    HashMap, Identity, Kiosk, KioskError, Result, RosterWrite, StoreError, StoreKey, Tx, WallClock,
    timestamp,
};

/// Raw change bytes one request pushes at most; the rest go in the next round.
const PUSH_BUDGET_BYTES: usize = 2 * 1024 * 1024;

const CURSOR_KEY: &str = "sync_cursor";
const KEY_CURSOR_KEY: &str = "key_cursor";
/// The server store's instance id at the last sync (see [`Kiosk::start_over`]).
const SERVER_INSTANCE_KEY: &str = "server_instance";
/// Classes whose rosters a committed round changed but whose states are not projected
/// yet, and whether persons must be opened again with keys that came late. A round
/// commits the documents first and projects them in a second transaction; these marks
/// go in with the first and are cleared by the second, so a process killed in between
/// finishes the projection when the kiosk is next opened.
const ROSTERS_TO_PROJECT_KEY: &str = "rosters_to_project";
const PEOPLE_TO_PROJECT_KEY: &str = "people_to_project";

/// A pulled document merged in memory, waiting for the round's transaction.
struct MergedDoc {
    key: DocKey,
    /// The server's heads of it.
    heads: Vec<ChangeHash>,
    /// The server's seal on those heads, to keep (none: keep the one held; a server
    /// older than seals sends none).
    seal: Option<Seal>,
    write: Write,
    projection: Projection,
}

enum Write {
    Snapshot(Vec<u8>),
    Chunk(Vec<u8>),
    Nothing,
}

enum Projection {
    Catalog(Box<Catalog>),
    Roster(Box<RosterDoc>),
    /// The persons (details opened with the keys held), and those the office erased.
    People(Vec<Person>, Vec<PersonId>),
    Intake(Box<IntakeRequest>),
}

/// One prepared round: the request, and what its acknowledgement will settle.
#[derive(Debug, Clone)]
pub struct SyncPlan {
    pub request: SyncRequest,
    /// Pushed documents with the number of pending changes the push covers.
    pushed: Vec<(DocKey, u64)>,
}

impl SyncPlan {
    fn keys_pushed(&self) -> Vec<PersonId> {
        self.request.keys.0.iter().map(|(id, _)| *id).collect()
    }

    fn sms_withdrawals_sent(&self) -> Vec<PersonId> {
        self.request
            .sms_withdrawals
            .iter()
            .map(|w| w.person)
            .collect()
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RoundOutcome {
    /// Documents sent to the server.
    pub pushed: usize,
    /// Documents whose missing changes arrived.
    pub pulled: usize,
    /// Documents the server listed as changed.
    pub changed: usize,
    /// Whether another round has work to do (more to push, to pull, or to list).
    pub more: bool,
}

impl Kiosk {
    /// Set up a kiosk enrolled with a server, its store encrypted with `key`. Its
    /// catalogue and branch data arrive with the first sync.
    pub fn setup_enrolled(
        dir: &Path,
        enrolled: &EnrollResponse,
        server_url: &str,
        server_ca: Option<&str>,
        key: &StoreKey,
        wall: WallClock,
    ) -> Result<Kiosk> {
        let identity = Identity {
            kiosk_id: enrolled.kiosk_id,
            branch_id: enrolled.branch_id,
            branch_code: enrolled.branch_code.clone(),
            kiosk_number: enrolled.kiosk_number,
            mode: super::KioskMode::Enrolled,
        };
        Kiosk::set_up(dir, identity, key, wall, |tx| {
            tx.set_meta("server_url", server_url)?;
            tx.set_meta("sync_token", &enrolled.token)?;
            if let Some(pem) = server_ca {
                tx.set_meta("server_ca", pem)?;
            }
            tx.set_meta(CURSOR_KEY, "0")?;
            Ok(())
        })
    }

    /// The server this kiosk syncs with and its credential, when enrolled.
    pub fn server(&self) -> Result<Option<(String, String)>> {
        Ok(
            match (
                self.store.meta("server_url")?,
                self.store.meta("sync_token")?,
            ) {
                (Some(url), Some(token)) => Some((url, token)),
                _ => None,
            },
        )
    }

    /// The CA certificate (PEM) the kiosk trusts for its server, when enrolled with one.
    pub fn server_ca(&self) -> Result<Option<String>> {
        Ok(self.store.meta("server_ca")?)
    }

    fn cursor(&self) -> Result<u64> {
        self.counter(CURSOR_KEY)
    }

    fn counter(&self, key: &str) -> Result<u64> {
        Ok(self
            .store
            .meta(key)?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    /// The server answered with another instance id than the one this kiosk last synced
    /// with: it was restored from a backup, and may lack changes and keys it acknowledged
    /// since. So everything this kiosk wrote goes again (the server keeps what it holds
    /// and takes what it lacks), with the keys of the persons it registered, and both
    /// feeds are read from the start: the restored server numbers its changes anew. The
    /// branch's catalog and rosters go too when the server sealed them: with the seal,
    /// the server takes back what it once held (office edits, pool seats, other kiosks'
    /// registrations) and lost with the restore.
    fn start_over(&mut self, instance: uuid::Uuid) -> Result<()> {
        let own = actor_for(self.identity.kiosk_id);
        let mut resend = Vec::new();
        let mut persons = Vec::new();
        for kind in ["catalog", "roster", "people", "intake"] {
            for key in self.store.doc_keys(kind)? {
                let Some(doc) = self.current_doc(key)? else {
                    continue;
                };
                let sealed_shared = match key {
                    DocKey::Catalog(branch) => branch == self.identity.branch_id,
                    DocKey::Roster(_) => true,
                    DocKey::People(..) | DocKey::Intake(_) => false,
                } && self.store.seal(key)?.is_some();
                if !doc.written_by(&own) && !sealed_shared {
                    continue;
                }
                if matches!(key, DocKey::People(owner, _) if owner == self.identity.kiosk_id) {
                    persons.extend(PeopleDoc::from_doc(doc)?.persons()?.iter().map(|p| p.id));
                }
                resend.push(key);
            }
        }
        tracing::warn!(
            documents = resend.len(),
            "the server was restored from a backup: sending everything written here again"
        );
        self.catalog_heads = None;
        let tx = self.store.write()?;
        tx.forget_server_state(&resend)?;
        tx.push_keys_again(&persons)?;
        tx.set_meta(CURSOR_KEY, "0")?;
        tx.set_meta(KEY_CURSOR_KEY, "0")?;
        tx.set_meta(SERVER_INSTANCE_KEY, &instance.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// The heads of this branch's catalog as stored. Loading the catalog from its bytes
    /// to read them was most of an idle sync's work, so they are kept with the stored
    /// size they were read at, and read again when the size differs or a round took in
    /// documents (which may replace the catalog with one of the same size).
    fn catalog_heads(&mut self) -> Result<Option<Vec<ChangeHash>>> {
        let key = DocKey::Catalog(self.identity.branch_id);
        let Some(size) = self.store.doc_size(key)? else {
            self.catalog_heads = None;
            return Ok(None);
        };
        if let Some((at, heads)) = &self.catalog_heads
            && *at == size
        {
            return Ok(Some(heads.clone()));
        }
        let Some(catalog) = self.current_doc(key)? else {
            return Ok(None);
        };
        let heads = catalog.heads();
        self.catalog_heads = Some((size, heads.clone()));
        Ok(Some(heads))
    }

    /// The next round: local changes the server lacks, and documents to pull.
    pub fn prepare_sync(&mut self, app_version: &str) -> Result<SyncPlan> {
        let mut push = Vec::new();
        let mut pushed = Vec::new();
        let mut bytes = 0usize;
        let pending_docs = self.store.pending_docs(MAX_DOCS_PER_REQUEST / 2)?;
        // Everything local goes in this request: then the server may take it as this
        // kiosk's word on the catalog it grants seats under.
        let mut pushes_all = pending_docs.len() < MAX_DOCS_PER_REQUEST / 2;
        for pending in pending_docs {
            let Some(doc) = self.current_doc(pending.key)? else {
                continue;
            };
            let changes = doc.changes_since(&pending.server_heads)?;
            if !push.is_empty() && bytes + changes.len() > PUSH_BUDGET_BYTES {
                pushes_all = false;
                break;
            }
            bytes += changes.len();
            push.push(DocChanges {
                doc: pending.key,
                changes,
                heads: to_heads(&doc.heads()),
                seal: pending.seal,
            });
            pushed.push((pending.key, pending.pending));
        }
        let mut pull = Vec::new();
        for (key, _) in self.store.wanted_docs(MAX_DOCS_PER_REQUEST - push.len())? {
            // What the server surely holds: the heads pushed in this very request, or
            // those it last confirmed.
            let have = match push.iter().find(|p| p.doc == key) {
                Some(p) => p.heads.clone(),
                None => to_heads(&self.store.server_heads(key)?.unwrap_or_default()),
            };
            pull.push(DocHave { doc: key, have });
        }
        // Withdrawals go once every local change is in the request, so the server holds
        // each person withdrawn (one registered here offline a moment ago too).
        let sms_withdrawals = match pushes_all {
            true => self.store.pending_sms_withdrawals(MAX_SMS_WITHDRAWALS)?,
            false => Vec::new(),
        };
        let catalog_heads = match pushes_all {
            true => self.catalog_heads()?.map(|heads| to_heads(&heads)),
            false => None,
        };
        Ok(SyncPlan {
            request: SyncRequest {
                cursor: self.cursor()?,
                push,
                pull,
                app_version: app_version.to_owned(),
                keys: KeyList(self.store.unpushed_keys(MAX_KEYS_PER_MESSAGE)?),
                key_cursor: self.counter(KEY_CURSOR_KEY)?,
                want_keys: PersonList(self.store.wanted_keys(MAX_WANTED_KEYS)?),
                catalog_heads,
                awaiting: self.awaiting.clone(),
                shown: self.shown.clone(),
                sms_withdrawals,
                server_instance: self
                    .store
                    .meta(SERVER_INSTANCE_KEY)?
                    .and_then(|id| id.parse().ok()),
            },
            pushed,
        })
    }

    /// Take in the server's answer to `plan`: every pulled document checked first, then
    /// the whole round (acknowledgements, documents, wants, cursor) in one transaction,
    /// then the touched rosters recomputed in a second one.
    pub fn apply_sync(&mut self, plan: SyncPlan, response: SyncResponse) -> Result<RoundOutcome> {
        if let Some(instance) = &response.server_instance
            && plan
                .request
                .server_instance
                .as_ref()
                .is_some_and(|seen| seen != instance)
        {
            // The server took nothing of this request (see `start_over`).
            self.start_over(*instance)?;
            return Ok(RoundOutcome {
                pushed: 0,
                pulled: 0,
                changed: 0,
                more: true,
            });
        }
        let now = timestamp((self.wall)());
        // The server has taken the report of the seats shown.
        self.shown.retain(|r| !plan.request.shown.contains(r));
        // What the server holds after this round, as far as this answer tells.
        let mut server_has: HashMap<DocKey, Vec<ChangeHash>> = plan
            .request
            .push
            .iter()
            .map(|p| (p.doc, from_heads(&p.heads)))
            .collect();

        // The keys to open pulled persons with: those held, and the new ones this answer
        // brings (unless this kiosk erased or dropped them), less the erased. Only a
        // pulled document is opened with them: an idle round does not read them.
        let mut keyring = match response.pulled.is_empty() {
            true => HashMap::new(),
            false => self.store.person_keys()?,
        };
        let wanted = &plan.request.want_keys.0;
        let mut new_keys = Vec::new();
        for (id, key) in &response.keys.0 {
            if !wanted.contains(id) && self.store.has_key_row(*id)? {
                continue;
            }
            keyring.insert(*id, key.clone());
            new_keys.push((*id, key.clone()));
        }
        let mut erased: BTreeSet<PersonId> = response.erased.0.iter().copied().collect();
        for id in &erased {
            keyring.remove(id);
        }

        // Merge the pulled documents in memory first (reads only); catalogs first, since
        // rosters are projected with their class's seat rules.
        let mut pulled: Vec<&DocChanges> = response.pulled.iter().collect();
        pulled.sort_by_key(|d| !matches!(d.doc, DocKey::Catalog(_)));
        let mut merged = Vec::with_capacity(pulled.len());
        for incoming in &pulled {
            if !plan.request.pull.iter().any(|p| p.doc == incoming.doc) {
                return Err(KioskError::Protocol(format!(
                    "the server sent {} without being asked",
                    incoming.doc
                )));
            }
            let m = self.merge_pulled(incoming, &keyring)?;
            if let Projection::People(_, gone) = &m.projection {
                erased.extend(gone.iter().copied());
            }
            server_has.insert(m.key, m.heads.clone());
            merged.push(m);
        }
        let mut wants = Vec::new();
        for changed in &response.changed {
            let heads = from_heads(&changed.heads);
            let known = match server_has.get(&changed.doc) {
                Some(h) => Some(h.clone()),
                None => self.store.server_heads(changed.doc)?,
            };
            if known.as_deref() != Some(heads.as_slice()) {
                wants.push((changed.doc, heads));
            }
        }

        // Keys that arrived after their persons' documents: those persons are opened
        // once the round is in.
        let merged_people: BTreeSet<PersonId> = merged
            .iter()
            .filter_map(|m| match &m.projection {
                Projection::People(people, _) => Some(people.iter().map(|p| p.id)),
                _ => None,
            })
            .flatten()
            .collect();
        let late: Vec<PersonId> = new_keys
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !merged_people.contains(id))
            .collect();
        let open_late = self.store.any_person_sealed(&late)?;

        // Then the whole round lands in one transaction: acknowledgements, pulled
        // documents, what is still to pull, the cursor, and what is left to project.
        let mut touched = self.rosters_to_project()?;
        let branch = self.identity.branch_id;
        if !merged.is_empty() {
            self.catalog_heads = None;
        }
        {
            let tx = self.store.write()?;
            for ((key, count), push) in plan.pushed.iter().zip(&plan.request.push) {
                tx.ack_push(*key, *count, &from_heads(&push.heads))?;
            }
            tx.ack_keys(&plan.keys_pushed())?;
            tx.ack_sms_withdrawals(&plan.sms_withdrawals_sent())?;
            for (id, key) in &new_keys {
                if wanted.contains(id) {
                    tx.take_wanted_key(*id, key)?;
                } else {
                    tx.take_key(*id, key)?;
                }
            }
            tx.answered_wanted(wanted)?;
            for m in &merged {
                touched.extend(write_pulled(&tx, branch, m, &now)?);
            }
            // After the projection: an erased person's details go, whatever it wrote.
            for id in &erased {
                tx.forget_person(*id, true)?;
            }
            for (key, heads) in &wants {
                tx.want(*key, heads)?;
            }
            tx.set_meta(CURSOR_KEY, &response.cursor.to_string())?;
            tx.set_meta(KEY_CURSOR_KEY, &response.key_cursor.to_string())?;
            if let Some(instance) = &response.server_instance {
                tx.set_meta(SERVER_INSTANCE_KEY, &instance.to_string())?;
            }
            tx.set_meta(ROSTERS_TO_PROJECT_KEY, &join_ids(&touched))?;
            if open_late {
                tx.set_meta(PEOPLE_TO_PROJECT_KEY, "yes")?;
            }
            tx.commit()?;
        }
        if !erased.is_empty() {
            // Deleted rows are zeroed in the file (secure_delete); the log's old frames
            // with them go too.
            self.store.checkpoint()?;
        }
        if open_late {
            self.reproject_people()?;
        }
        // The people document new residents go to may have changed on the server (an
        // office correction): load it afresh when next needed.
        if let Some(cached) = self.people.as_ref().map(|p| p.doc().key())
            && merged.iter().any(|m| m.key == cached)
        {
            self.people = None;
        }
        // The merged rosters are what is stored now: keep them instead of reloading.
        for m in merged {
            if let Projection::Roster(roster) = m.projection {
                self.cache_roster(*roster)?;
            }
        }
        self.reproject_rosters(touched)?;
        // A new catalog may cut this kiosk's allotments: one more round tells the server
        // which catalog this kiosk now grants under, so the seats it did not use go back
        // to the pool at once rather than at the next sync.
        let catalog_pulled = pulled.iter().any(|d| matches!(d.doc, DocKey::Catalog(_)));
        let more = response.more
            || catalog_pulled
            || !response.deferred.is_empty()
            || self.store.wanted_count()? > 0
            || !self.store.pending_docs(1)?.is_empty()
            || !self.store.pending_sms_withdrawals(1)?.is_empty();
        Ok(RoundOutcome {
            pushed: plan.pushed.len(),
            pulled: pulled.len(),
            changed: response.changed.len(),
            more,
        })
    }

    /// Project every stored people document again, with the keys held now.
    fn reproject_people(&mut self) -> Result<()> {
        let keyring = self.store.person_keys()?;
        let mut people = Vec::new();
        for key in self.store.doc_keys("people")? {
            if let Some(doc) = self.stored_doc(key)? {
                people.extend(
                    PeopleDoc::from_doc(doc)?.persons_with(|id| keyring.get(&id).cloned())?,
                );
            }
        }
        let tx = self.store.write()?;
        for person in &people {
            tx.upsert_person(person)?;
        }
        tx.set_meta(PEOPLE_TO_PROJECT_KEY, "")?;
        tx.commit()?;
        Ok(())
    }

    /// Finish a projection that a killed process left undone (see
    /// [`ROSTERS_TO_PROJECT_KEY`]).
    pub(crate) fn finish_projection(&mut self) -> Result<()> {
        if self
            .store
            .meta(PEOPLE_TO_PROJECT_KEY)?
            .is_some_and(|v| !v.is_empty())
        {
            self.reproject_people()?;
        }
        let rosters = self.rosters_to_project()?;
        if !rosters.is_empty() {
            self.reproject_rosters(rosters)?;
        }
        Ok(())
    }

    fn rosters_to_project(&self) -> Result<BTreeSet<ClassId>> {
        let Some(list) = self.store.meta(ROSTERS_TO_PROJECT_KEY)? else {
            return Ok(BTreeSet::new());
        };
        list.split(',')
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse().map_err(|_| {
                    KioskError::Store(StoreError::Corrupt {
                        what: "rosters to project".into(),
                        detail: id.to_owned(),
                    })
                })
            })
            .collect()
    }

    /// Apply a pulled document's changes to the stored one, in memory.
    fn merge_pulled(
        &self,
        incoming: &DocChanges,
        keyring: &HashMap<PersonId, PersonKey>,
    ) -> Result<MergedDoc> {
        let key = incoming.doc;
        let heads: Vec<ChangeHash> = from_heads(&incoming.heads);
        // The server is this kiosk's only peer and has checked every writer already.
        let anyone = |_: &_| true;
        let (mut doc, is_new) = match self.current_doc(key)? {
            Some(mut doc) => {
                doc.apply_remote(&incoming.changes, &heads, &[], anyone)?;
                (doc, false)
            }
            None => (
                Doc::from_remote(
                    key,
                    self.identity.kiosk_id,
                    &incoming.changes,
                    &heads,
                    &[],
                    anyone,
                )?,
                true,
            ),
        };
        let compact = self
            .store
            .doc_size(key)?
            .is_some_and(|size| size.wants_compaction());
        let write = if is_new {
            // The bytes received hold the whole document (the server's stored document,
            // or changes from its genesis) and load as they are: stored as the snapshot
            // without saving the document again.
            doc.mark_saved();
            Write::Snapshot(incoming.changes.clone())
        } else if compact {
            Write::Snapshot(doc.save())
        } else {
            match doc.take_unsaved() {
                Some(chunk) => Write::Chunk(chunk),
                None => Write::Nothing,
            }
        };
        // A seal replaces the one held only if it vouches for at least as much: a server
        // restored from a backup seals its older heads, and the older seal must stay until
        // this kiosk has sent back what the restore lost.
        let seal = match (&incoming.seal, self.store.seal(key)?) {
            (Some(new), Some(held))
                if !doc.history_includes(&from_heads(&new.heads), &from_heads(&held.heads)) =>
            {
                None
            }
            (new, _) => new.clone(),
        };
        let projection = match key {
            DocKey::Catalog(_) => Projection::Catalog(Box::new(CatalogDoc::from_doc(doc)?.read()?)),
            DocKey::Roster(_) => Projection::Roster(Box::new(RosterDoc::from_doc(doc)?)),
            DocKey::People(..) => {
                let (people, erased) =
                    PeopleDoc::from_doc(doc)?.persons_and_erased(|id| keyring.get(&id).cloned())?;
                Projection::People(people, erased)
            }
            // The kiosk's projection of a request holds no personal content.
            DocKey::Intake(_) => {
                Projection::Intake(Box::new(IntakeDoc::from_doc(doc)?.read(None)?))
            }
        };
        Ok(MergedDoc {
            key,
            heads,
            seal,
            write,
            projection,
        })
    }

    /// Recompute the rosters of classes after a merge: project every registration's
    /// state, and give this kiosk's free seats to the people waiting (the compensation the
    /// seat rules ask of each authority). All of them land in one transaction; if it
    /// fails, the rosters it would have stored are dropped from memory so memory matches
    /// disk.
    fn reproject_rosters(&mut self, classes: BTreeSet<ClassId>) -> Result<()> {
        let mut writes = Vec::new();
        let result = self.try_reproject_rosters(&classes, &mut writes);
        if result.is_err() {
            for class in &classes {
                self.rosters.remove(class);
            }
            self.people = None;
            return result;
        }
        for write in writes {
            self.settle_roster(write);
        }
        Ok(())
    }

    fn try_reproject_rosters(
        &mut self,
        classes: &BTreeSet<ClassId>,
        writes: &mut Vec<RosterWrite>,
    ) -> Result<()> {
        if classes.is_empty() {
            return Ok(());
        }
        let kiosk = self.identity.kiosk_id;
        // Classes without a roster yet: no registrations, every allotted seat free.
        let mut empty = Vec::new();
        for &class in classes {
            let Some(row) = self.store.class(class)? else {
                // The catalog naming this class has not arrived yet.
                continue;
            };
            let policy = self.policy(class, &row)?;
            if self.store.doc_size(DocKey::Roster(class))?.is_none() {
                let none = seats::compute_roster(&policy, &[]);
                empty.push((class, super::seats_shown(&self.identity, &policy, &none)));
                continue;
            }
            let cached = self.roster_mut(class)?;
            let regs: Vec<_> = cached.regs.values().cloned().collect();
            if let Some(latest) = seats::latest_stamp(&regs) {
                let now = (self.wall)();
                self.clock.observe(latest, now);
            }
            let roster = seats::compute_roster(&policy, &regs);
            let fill = seats::seats_to_fill(&policy, &roster, kiosk);
            if !fill.is_empty() {
                let at = self.stamp();
                let grants: Vec<_> = fill
                    .into_iter()
                    .map(|registration| RosterEdit::Grant {
                        registration,
                        authority: kiosk,
                        at,
                    })
                    .collect();
                self.apply_roster_edits(class, &grants)?;
            }
            writes.push(self.stage_roster(class, &policy)?);
        }
        let now = timestamp((self.wall)());
        let hlc = self.clock.last().to_string();
        let tx = self.store.write()?;
        for (class, free) in empty {
            tx.set_class_counts(class, 0, 0, free)?;
        }
        for write in writes.iter() {
            write.store_doc(&tx, &now)?;
            write.store_projection(&tx)?;
        }
        if !writes.is_empty() {
            tx.set_meta("hlc", &hlc)?;
        }
        // Every class marked is in `classes` (a round adds the marks to what it
        // projects), so all marks go.
        tx.set_meta(ROSTERS_TO_PROJECT_KEY, "")?;
        tx.commit()?;
        Ok(())
    }

    /// Remember how the last sync ended (no personal data: codes and counts only), and
    /// how far this kiosk's clock is from the server's, when the server told its time.
    pub fn record_sync(&mut self, error: Option<&str>, server_clock_ms: Option<u64>) -> Result<()> {
        let wall = (self.wall)();
        let now = timestamp(wall);
        let tx = self.store.write()?;
        tx.set_meta("last_sync_attempt", &now)?;
        if let Some(server) = server_clock_ms {
            tx.set_meta(CLOCK_OFFSET_KEY, &clock_offset_s(server, wall).to_string())?;
        }
        match error {
            None => {
                tx.set_meta("last_sync", &now)?;
                tx.set_meta("last_sync_error", "")?;
            }
            Some(e) => tx.set_meta("last_sync_error", e)?,
        }
        tx.commit()?;
        Ok(())
    }
}

fn join_ids(classes: &BTreeSet<ClassId>) -> String {
    classes
        .iter()
        .map(ClassId::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Store a merged document and its projection. Returns the classes whose rosters
/// must be recomputed.
fn write_pulled(tx: &Tx<'_>, branch: BranchId, m: &MergedDoc, now: &str) -> Result<Vec<ClassId>> {
    match &m.write {
        Write::Snapshot(bytes) => tx.put_snapshot(m.key, bytes, false, now)?,
        Write::Chunk(bytes) => tx.append_chunk(m.key, bytes, false, now)?,
        Write::Nothing => {}
    }
    tx.set_server_heads(m.key, &m.heads)?;
    if let Some(seal) = &m.seal {
        tx.set_seal(m.key, seal)?;
    }
    tx.unwant(m.key)?;
    let mut touched = Vec::new();
    match &m.projection {
        Projection::Catalog(catalog) => {
            if catalog.branch.id == branch {
                tx.project_catalog(catalog)?;
                touched.extend(catalog.classes.iter().map(|c| c.id));
            }
        }
        Projection::Roster(roster) => touched.push(roster.class_id()),
        Projection::People(people, _) => {
            for person in people {
                tx.upsert_person(person)?;
            }
        }
        Projection::Intake(request) => tx.upsert_request(request)?,
    }
    Ok(touched)
}

/// Where the kiosk keeps how far its clock is from the server's.
pub(crate) const CLOCK_OFFSET_KEY: &str = "clock_offset_s";

/// Seconds the kiosk's clock (`wall_ms`) is behind the server's (`server_ms`, from a
/// `Date` header that drops the fraction of its second, so half a second is added back);
/// negative when the kiosk runs ahead.
fn clock_offset_s(server_ms: u64, wall_ms: u64) -> i64 {
    let diff = server_ms as i128 + 500 - wall_ms as i128;
    i64::try_from(diff.div_euclid(1000)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::clock_offset_s;

    #[test]
    fn clock_offset_counts_the_date_headers_lost_half_second() {
        // The server's Date says 12:00:00 (anywhere in 12:00:00.000-.999).
        let server = 1_763_900_000_000;
        assert_eq!(clock_offset_s(server, server + 400), 0);
        assert_eq!(clock_offset_s(server, server - 3 * 86_400_000), 259_200);
        assert_eq!(clock_offset_s(server, server + 4 * 86_400_000), -345_600);
    }
}
