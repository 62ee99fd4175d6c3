//! Persons: erasing one with every record reconciliation linked to them, finishing the
//! erasures a crash cut short, and linking two records of the same resident. The office
//! page and `blisko-server` call these alike.
//!
//! Erase is crypto-shredding: a person's personal fields (name, birth year, phone, and
//! the description and PESEL of their requests) are in documents only sealed with their
//! key, so destroying the key makes every copy unreadable: document history, kiosks'
//! copies, and backups of the main database (the key lives in the personal file). Erase
//! destroys the key (keeping only the person id), marks the person erased and drops the
//! sealed values from the current documents, blanks the staff notes on their requests,
//! and checkpoints the logs. Kiosks of the branch receive the erased id at their next
//! sync and delete their copy of the key and every readable copy of the details.
//!
//! A resident's SMS consent is withdrawn here too ("Nie chcę SMS" at a kiosk, the office's
//! button, `blisko-server sms-consent-withdraw`): the consent leaves the person's people
//! document, which is what the SMS sender reads at send time and what reaches every
//! kiosk of the branch.
//!
//! A resident registered at two kiosks has two records, which staff link in
//! reconciliation ("same person"). Their data is the same resident's, so erasing either
//! record erases every record linked to it, however indirectly, in one transaction.

use blisko_shared::codes;
use blisko_shared::docs::{DocKey, IntakeDoc, PeopleDoc};
use blisko_shared::hlc::Hlc;
use blisko_shared::ids::{KioskId, PersonId, RequestId};
use blisko_shared::model::{ConsentKind, Person};
use blisko_shared::sync::{MAX_SMS_WITHDRAWALS, SmsWithdrawal};

use super::{
    Central, CentralError, Result, catch_up_clock, load, now_text, now_wall_ms, store_changes,
};
use crate::office::{OfficeError, projection};
use crate::store::{Db, KioskAuth, RequestFilter};

/// What erased fields read afterwards.
pub const ERASED: &str = "[usunięto]";

/// Staff's decision on two person records suggested as one resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairDecision {
    /// One resident: the second record is linked to the first.
    Same,
    /// Two residents: the pair is not suggested again.
    Different,
}

impl PairDecision {
    pub fn code(self) -> &'static str {
        match self {
            PairDecision::Same => "same",
            PairDecision::Different => "different",
        }
    }

    pub fn from_code(code: &str) -> Option<PairDecision> {
        match code {
            "same" => Some(PairDecision::Same),
            "different" => Some(PairDecision::Different),
            _ => None,
        }
    }
}

/// The office projection's errors are the core's (a document or the store).
fn from_office(e: OfficeError) -> CentralError {
    match e {
        OfficeError::Central(inner) => inner,
        other => CentralError::Internal(other.to_string()),
    }
}

fn not_found(id: PersonId) -> CentralError {
    CentralError::NotFound(format!("person:{id}"))
}

/// The people document holding a person, and the person (details opened with their key,
/// [`ERASED`] without it): the kiosk that registered them is in the office projection;
/// its documents are numbered from 0.
pub fn find_person(db: &Db<'_>, id: PersonId) -> Result<(PeopleDoc, Person)> {
    let kiosk: KioskId = db
        .o_person(&id.to_string())?
        .and_then(|p| p.kiosk_id)
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| not_found(id))?;
    let key = db.person_key(id)?;
    for volume in 0.. {
        let Some(doc) = load(db, DocKey::People(kiosk, volume))? else {
            break;
        };
        let people = PeopleDoc::from_doc(doc).map_err(CentralError::Document)?;
        if let Some(mut person) = people
            .person(id, key.as_ref())
            .map_err(CentralError::Document)?
        {
            if key.is_none() {
                person.given_name = ERASED.to_owned();
                person.family_name = ERASED.to_owned();
            }
            return Ok((people, person));
        }
    }
    Err(not_found(id))
}

/// The person and every record linked to them in reconciliation: the person first.
pub fn linked(db: &Db<'_>, id: PersonId) -> Result<Vec<PersonId>> {
    db.person_group(&id.to_string())?
        .iter()
        .map(|p| {
            p.parse()
                .map_err(|_| CentralError::Internal(format!("a person link names {p:?}")))
        })
        .collect()
}

/// Erase a person and every record linked to them, in the caller's transaction: keys
/// destroyed, people documents marked, requests' personal content and staff notes
/// erased, the office projection updated, each erasure recorded and audited (as
/// `person_erase` by `actor`). Idempotent. Returns the persons erased, `id` first.
pub fn erase(db: &Db<'_>, id: PersonId, actor: &str) -> Result<Vec<PersonId>> {
    let persons = erase_linked(db, id)?;
    let now = now_text();
    for &person in &persons {
        let linked_to = (person != id).then(|| format!("linked to person:{id}"));
        db.audit(
            &now,
            actor,
            "person_erase",
            &format!("person:{person}"),
            linked_to.as_deref(),
        )?;
    }
    Ok(persons)
}

/// [`erase`] without its audit records.
fn erase_linked(db: &Db<'_>, id: PersonId) -> Result<Vec<PersonId>> {
    let persons = linked(db, id)?;
    let now = now_text();
    let mut changed = Vec::new();
    for &person in &persons {
        changed.extend(erase_one(db, person, &now)?);
    }
    projection::project(db, changed).map_err(from_office)?;
    for &person in &persons {
        db.record_erasure(person, &now)?;
    }
    Ok(persons)
}

/// One record's erasure; returns the documents it changed, to project.
fn erase_one(db: &Db<'_>, id: PersonId, now: &str) -> Result<Vec<DocKey>> {
    let (mut people, person) = find_person(db, id)?;
    db.erase_person_key(id, person.home_branch, people.owner(), now)?;
    db.cancel_person_notices(&id.to_string(), crate::notices::reason::ERASED, now)?;
    people.erase(id).map_err(CentralError::Document)?;
    store_changes(db, people.doc_mut(), now)?;
    let requests = db.o_requests(
        &RequestFilter {
            person: Some(id.to_string()),
            ..Default::default()
        },
        10_000,
    )?;
    let mut changed = vec![people.doc().key()];
    for r in &requests {
        let rid: RequestId =
            r.id.parse()
                .map_err(|_| CentralError::Internal(format!("a request id {:?}", r.id)))?;
        let key = DocKey::Intake(rid);
        if let Some(doc) = load(db, key)? {
            let mut intake = IntakeDoc::from_doc(doc).map_err(CentralError::Document)?;
            intake.erase_personal().map_err(CentralError::Document)?;
            store_changes(db, intake.doc_mut(), now)?;
            changed.push(key);
        }
    }
    let request_ids: Vec<String> = requests.into_iter().map(|r| r.id).collect();
    db.erase_notes(&request_ids, ERASED)?;
    Ok(changed)
}

/// Withdraw a person's SMS consent, in the caller's transaction: the consent is removed
/// from their people document (written as the central office, like [`erase`]), the
/// change stored for the branch's kiosks, and `sms_consent_withdrawn` audited by `actor`
/// with `at`, when the resident withdrew (no personal data). Returns whether a consent
/// was removed: a person without one (withdrawn already: idempotent), erased or unknown
/// changes nothing. A consent is removed whatever its stamp: consents are only given when
/// a person is registered, so a withdrawal never meets a newer one. The office
/// projection must be current (callers refresh it) for a person synced a moment ago to
/// be found.
pub(crate) fn withdraw_sms(db: &Db<'_>, person: PersonId, at: Hlc, actor: &str) -> Result<bool> {
    if db.erasure_recorded(person)? {
        return Ok(false);
    }
    let mut people = match find_person(db, person) {
        Ok((people, _)) => people,
        Err(CentralError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    let withdrawn = people
        .withdraw_consent(person, ConsentKind::SmsReminders)
        .map_err(CentralError::Document)?;
    if !withdrawn {
        return Ok(false);
    }
    let now = now_text();
    store_changes(db, people.doc_mut(), &now)?;
    db.audit(
        &now,
        actor,
        "sms_consent_withdrawn",
        &format!("person:{person}"),
        Some(&format!("at {at}")),
    )?;
    Ok(true)
}

/// The SMS consent withdrawals a kiosk sent with a sync round (see
/// `SyncRequest::sms_withdrawals`), in the round's transaction. Only persons of the
/// kiosk's own branch: one of another branch refuses the whole round as `Forbidden`
/// (nothing of it is stored), as a key for another kiosk's person does. Unknown and
/// erased persons are skipped, so the kiosk can stop sending them.
pub(crate) fn withdraw_sms_from_kiosk(
    db: &Db<'_>,
    kiosk: &KioskAuth,
    withdrawals: &[SmsWithdrawal],
) -> Result<()> {
    if withdrawals.is_empty() {
        return Ok(());
    }
    if withdrawals.len() > MAX_SMS_WITHDRAWALS {
        return Err(CentralError::BadRequest(format!(
            "at most {MAX_SMS_WITHDRAWALS} SMS consent withdrawals per request"
        )));
    }
    // The kiosk found the person in a document it pulled, which the office projection
    // may not have taken in yet.
    projection::refresh(db).map_err(from_office)?;
    let actor = format!("kiosk:{}", kiosk.id);
    for w in withdrawals {
        let Some(row) = db.o_person(&w.person.to_string())? else {
            continue;
        };
        if row.branch_id != kiosk.branch_id.to_string() {
            return Err(CentralError::Forbidden(format!(
                "an SMS consent withdrawal for person {}, who is not of this kiosk's branch",
                w.person
            )));
        }
        withdraw_sms(db, w.person, w.at, &actor)?;
    }
    Ok(())
}

/// Record staff's decision on a suspected pair, in the caller's transaction. `Same`
/// links `b` (and whoever was linked to it) to `a`; a record whose data was erased
/// is linked to nothing, since the erasure would not reach the new link's records.
pub fn decide_pair(
    db: &Db<'_>,
    a: PersonId,
    b: PersonId,
    decision: PairDecision,
    staff_id: &str,
    actor: &str,
) -> Result<()> {
    if a == b {
        return Err(CentralError::Refused {
            pl: "Nie można połączyć osoby z nią samą.".into(),
            en: "A person cannot be linked to themselves.".into(),
        });
    }
    for p in [a, b] {
        db.o_person(&p.to_string())?.ok_or_else(|| not_found(p))?;
        if decision == PairDecision::Same && db.erasure_recorded(p)? {
            return Err(CentralError::Refused {
                pl: format!("Dane osoby {p} zostały usunięte: nie można jej połączyć."),
                en: format!("Person {p}'s data was erased: they cannot be linked."),
            });
        }
    }
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    let now = now_text();
    db.decide_pair(
        &a.to_string(),
        &b.to_string(),
        decision.code(),
        staff_id,
        &now,
    )?;
    let action = match decision {
        PairDecision::Same => "person_merge",
        PairDecision::Different => "person_not_duplicate",
    };
    db.audit(
        &now,
        actor,
        action,
        &format!("person:{a}"),
        Some(&format!("person:{b}")),
    )?;
    Ok(())
}

impl Central {
    /// Erase a person and every linked record (see [`erase`]) in one transaction, then
    /// empty both logs of the deleted keys and names.
    pub fn erase_person(&mut self, id: PersonId, actor: &str) -> Result<Vec<PersonId>> {
        let db = self.store.write()?;
        projection::refresh(&db).map_err(from_office)?;
        let erased = erase(&db, id, actor)?;
        db.commit()?;
        self.checkpoint_after_erasure();
        Ok(erased)
    }

    /// Withdraw a person's SMS consent (see [`withdraw_sms`]) in one transaction, stamped
    /// now. Returns whether there was a consent to withdraw; an unknown person is
    /// `NotFound`.
    pub fn withdraw_sms_consent(&mut self, id: PersonId, actor: &str) -> Result<bool> {
        let db = self.store.write()?;
        catch_up_clock(&db, &mut self.clock)?;
        projection::refresh(&db).map_err(from_office)?;
        db.o_person(&id.to_string())?.ok_or_else(|| not_found(id))?;
        let at = self.clock.tick(now_wall_ms());
        let withdrawn = withdraw_sms(&db, id, at, actor)?;
        db.set_meta("hlc", &self.clock.last().to_string())?;
        db.commit()?;
        Ok(withdrawn)
    }

    /// Erase the resident with this code (every record with it, and every record linked
    /// to those), as [`Central::erase_person`]. An unknown code changes nothing.
    pub fn erase_resident(&mut self, resident_code: &str, actor: &str) -> Result<Vec<PersonId>> {
        let code = codes::normalize_resident_code(resident_code).ok_or_else(|| {
            CentralError::BadRequest(format!("{resident_code:?} is not a resident code"))
        })?;
        let db = self.store.write()?;
        // The office projection is brought up to date first: a person synced a moment
        // ago is found too.
        projection::refresh(&db).map_err(from_office)?;
        let persons = db.o_persons_by_code(&code)?;
        if persons.is_empty() {
            return Err(CentralError::NotFound(format!(
                "no person with resident code {code}"
            )));
        }
        let mut erased: Vec<PersonId> = Vec::new();
        for p in persons {
            let id: PersonId =
                p.id.parse()
                    .map_err(|_| CentralError::Internal(format!("a person id {:?}", p.id)))?;
            if !erased.contains(&id) {
                erased.extend(erase(&db, id, actor)?);
            }
        }
        db.commit()?;
        self.checkpoint_after_erasure();
        Ok(erased)
    }

    /// Finish the erasures a crash cut between the commits of the two files (see
    /// `schema_4_erasures.sql`) by erasing again, which is idempotent: a linked set was
    /// erased in one transaction, so each of its records is unfinished and the set is
    /// erased again as a whole. Run at start, before the server takes requests, each in
    /// its own transaction. Returns the persons it erased; one that fails is logged and
    /// left for the next start.
    pub fn complete_erasures(&mut self) -> Result<Vec<PersonId>> {
        let unfinished = {
            let db = self.store.write()?;
            let unfinished = db.unfinished_erasures()?;
            if !unfinished.is_empty() {
                // Erasing finds the person through the projection, which the crash may
                // have cut.
                projection::refresh(&db).map_err(from_office)?;
                db.commit()?;
            }
            unfinished
        };
        let mut done: Vec<PersonId> = Vec::new();
        for id in unfinished {
            if done.contains(&id) {
                continue;
            }
            let finished = (|| {
                let db = self.store.write()?;
                let erased = erase_linked(&db, id)?;
                for p in &erased {
                    db.audit(
                        &now_text(),
                        "server",
                        "person_erase_completed",
                        &format!("person:{p}"),
                        None,
                    )?;
                }
                db.commit()?;
                Ok::<_, CentralError>(erased)
            })();
            match finished {
                Ok(erased) => {
                    for p in erased {
                        if !done.contains(&p) {
                            done.push(p);
                        }
                    }
                }
                Err(e) => tracing::error!(person = %id, error = %e, "could not finish an erasure"),
            }
        }
        if !done.is_empty() {
            self.store.checkpoint()?;
        }
        Ok(done)
    }

    /// The erased keys and details were deleted (zeroed in the files by secure_delete):
    /// empty the logs of them too. A reader holding the log only delays this to the next
    /// checkpoint.
    pub(crate) fn checkpoint_after_erasure(&mut self) {
        if let Err(e) = self.log_erasures() {
            tracing::error!(error = %e, "could not bring the erasure log up to date");
        }
        if let Err(e) = self.store.checkpoint() {
            tracing::warn!(error = %e, "checkpoint after an erasure failed");
        }
    }
}
