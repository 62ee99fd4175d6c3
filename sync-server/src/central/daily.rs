//! The office's daily work on rosters and sessions: a registration taken on the phone
//! (a seat from the pool, never from a kiosk's allotment), its cancellation, a waiting
//! person confirmed by hand, attendance typed in from a signed paper list, and sessions
//! cancelled, deleted or generated over a date range (skipping public holidays, see
//! [`blisko_shared::holidays`]). The page and the command line call these alike.

use std::collections::BTreeMap;

use blisko_shared::codes;
use blisko_shared::crypto::PersonKey;
use blisko_shared::docs::{CatalogEdit, DocKey, PeopleDoc, RosterDoc, RosterEdit};
use blisko_shared::hlc::HlcClock;
use blisko_shared::i18n::Lang;
use blisko_shared::ids::{
    BranchId, ClassId, KioskId, PersonId, RegistrationId, SessionId, StaffId,
};
use blisko_shared::model::{
    AttendanceMark, AttendanceStatus, Class, Consent, ConsentKind, INFORMATION_CLAUSE_VERSION,
    Person, Registration, SMS_CONSENT_VERSION, Session,
};
use blisko_shared::seats::{self, Admission, SeatState};
use blisko_shared::validate::{self, Field, FieldError};

use super::seats::{Editor, edit_catalog, policy_for, refill};
use super::{
    CentralError, Result, catch_up_clock, load, now_text, now_wall_ms, store_changes,
    stored_catalog,
};
use crate::notices;
use crate::store::Db;

/// The people documents of the persons the office registers itself, one owner per branch
/// (so that each branch's kiosks receive their own): the owner id is the branch's id.
pub fn office_people_owner(branch: BranchId) -> KioskId {
    KioskId(branch.0)
}

fn field_error(e: FieldError) -> CentralError {
    CentralError::Refused {
        pl: e.message(Lang::Pl),
        en: e.message(Lang::En),
    }
}

fn refused(pl: impl Into<String>, en: impl Into<String>) -> CentralError {
    CentralError::Refused {
        pl: pl.into(),
        en: en.into(),
    }
}

/// What the office types in during a phone call.
#[derive(Debug, Clone)]
pub struct PhoneRegistration {
    pub class: ClassId,
    /// A person the office found already registered (same name and birth year): used
    /// instead of creating a new one.
    pub existing: Option<PersonId>,
    pub given_name: String,
    pub family_name: String,
    pub birth_year: String,
    pub phone: Option<String>,
    /// The information clause was read to the person and they agreed.
    pub clause_read: bool,
    pub sms_consent: bool,
}

/// Where a phone registration landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneOutcome {
    Confirmed,
    Waitlisted { position: u32 },
}

#[derive(Debug, Clone)]
pub struct PhoneReceipt {
    pub registration: RegistrationId,
    pub person: PersonId,
    pub resident_code: String,
    pub outcome: PhoneOutcome,
}

/// The class and its branch, or not found.
fn class_and_branch(db: &Db<'_>, class: ClassId) -> Result<(BranchId, Class)> {
    let branch = db
        .class_branch(class)?
        .ok_or_else(|| CentralError::NotFound(format!("class {class}")))?;
    let catalog = stored_catalog(db, branch)?;
    let c = catalog
        .class(class)
        .cloned()
        .ok_or_else(|| CentralError::NotFound(format!("class {class}")))?;
    Ok((branch, c))
}

/// A class's roster as stored, or a new one written by the office.
fn roster_of(db: &Db<'_>, class: ClassId) -> Result<(RosterDoc, bool)> {
    match load(db, DocKey::Roster(class))? {
        Some(doc) => Ok((
            RosterDoc::from_doc(doc).map_err(CentralError::Document)?,
            false,
        )),
        None => Ok((
            RosterDoc::create(class, KioskId::CENTRAL).map_err(CentralError::Document)?,
            true,
        )),
    }
}

/// Store a roster the office changed (inserting it when it is new).
fn save_roster(
    db: &Db<'_>,
    branch: BranchId,
    roster: &mut RosterDoc,
    new: bool,
    now: &str,
) -> Result<()> {
    if new {
        let key = DocKey::Roster(roster.class_id());
        let snapshot = roster.doc_mut().save();
        db.insert_document(
            key,
            Some(branch),
            None,
            &snapshot,
            &roster.doc().heads(),
            now,
        )?;
        Ok(())
    } else {
        store_changes(db, roster.doc_mut(), now)?;
        Ok(())
    }
}

/// Put a new person into the office's people document of the branch (a new volume when
/// the current one is full) and keep their key, so that the branch's kiosks get it.
fn add_office_person(db: &Db<'_>, branch: BranchId, person: &Person, now: &str) -> Result<()> {
    let owner = office_people_owner(branch);
    let mut volume = 0;
    let (mut people, new) = loop {
        match load(db, DocKey::People(owner, volume))? {
            Some(doc) => {
                let people = PeopleDoc::from_doc(doc).map_err(CentralError::Document)?;
                if people.is_full().map_err(CentralError::Document)? {
                    volume += 1;
                    continue;
                }
                break (people, false);
            }
            None => {
                break (
                    PeopleDoc::create(owner, volume, KioskId::CENTRAL)
                        .map_err(CentralError::Document)?,
                    true,
                );
            }
        }
    };
    let key = PersonKey::generate();
    people.put(person, &key).map_err(CentralError::Document)?;
    if new {
        let snapshot = people.doc_mut().save();
        db.insert_document(
            DocKey::People(owner, volume),
            Some(branch),
            Some(owner),
            &snapshot,
            &people.doc().heads(),
            now,
        )?;
    } else {
        store_changes(db, people.doc_mut(), now)?;
    }
    db.put_person_key(person.id, branch, owner, &key)?;
    Ok(())
}

/// A resident code no one in the office projection has.
fn free_resident_code(db: &Db<'_>) -> Result<String> {
    let mut rng = rand::rng();
    loop {
        let code = codes::new_resident_code(&mut rng);
        if db.o_persons_by_code(&code)?.is_empty() {
            return Ok(code);
        }
    }
}

/// Register a person for a class from the office, under a kiosk's seat rules but with the
/// pool as the authority: the pool's free seat confirms; otherwise a place on the waiting
/// list while it has room; otherwise a refusal. Audited (ids only).
pub(crate) fn register_by_phone(
    db: &Db<'_>,
    clock: &mut HlcClock,
    form: &PhoneRegistration,
    actor: &str,
) -> Result<PhoneReceipt> {
    let (branch, class) = class_and_branch(db, form.class)?;
    let now = now_text();
    let (person_id, resident_code, new_person) = match form.existing {
        Some(id) => {
            let p = db
                .o_person(&id.to_string())?
                .ok_or_else(|| CentralError::NotFound(format!("person:{id}")))?;
            (id, p.resident_code, None)
        }
        None => {
            if !form.clause_read {
                return Err(refused(
                    "Proszę odczytać osobie klauzulę informacyjną i zaznaczyć, że ją przyjęła.",
                    "Please read the information clause to the person and tick that they accepted it.",
                ));
            }
            let given =
                validate::person_name(Field::GivenName, &form.given_name).map_err(field_error)?;
            let family =
                validate::person_name(Field::FamilyName, &form.family_name).map_err(field_error)?;
            let year = i32::from(jiff::Zoned::now().year());
            let birth_year =
                validate::parse_birth_year(&form.birth_year, year).map_err(field_error)?;
            let phone = match form
                .phone
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                Some(p) => Some(validate::phone(p).map_err(field_error)?),
                None => None,
            };
            if form.sms_consent && phone.is_none() {
                return Err(refused(
                    "Zgoda na SMS wymaga numeru telefonu.",
                    "The SMS consent needs a phone number.",
                ));
            }
            // SMS go only to a Polish mobile; a landline is kept without the consent.
            if form.sms_consent
                && phone
                    .as_deref()
                    .is_some_and(|p| !validate::is_polish_mobile(p))
            {
                return Err(field_error(FieldError::SmsNeedsPolishMobile));
            }
            let at = clock.tick(now_wall_ms());
            let mut consents = vec![Consent {
                kind: ConsentKind::InformationClause,
                text_version: INFORMATION_CLAUSE_VERSION.to_owned(),
                at,
            }];
            if form.sms_consent {
                consents.push(Consent {
                    kind: ConsentKind::SmsReminders,
                    text_version: SMS_CONSENT_VERSION.to_owned(),
                    at,
                });
            }
            let code = free_resident_code(db)?;
            let person = Person {
                id: PersonId::stamped(&at),
                given_name: given,
                family_name: family,
                birth_year,
                phone,
                resident_code: code.clone(),
                home_branch: branch,
                consents,
                created: at,
            };
            (person.id, code, Some(person))
        }
    };

    let (mut roster, new_roster) = roster_of(db, form.class)?;
    let regs = roster.registrations().map_err(CentralError::Document)?;
    if new_person.is_none()
        && regs
            .iter()
            .any(|r| r.person_id == person_id && r.cancelled.is_none())
    {
        return Err(refused(
            format!("Ta osoba jest już zapisana na zajęcia „{}”.", class.title),
            format!("This person is already registered for \"{}\".", class.title),
        ));
    }
    if let Some(latest) = seats::latest_stamp(&regs) {
        clock.observe(latest, now_wall_ms());
    }
    let policy = policy_for(db, branch, form.class)?;
    let plan = seats::plan_registration(&policy, &regs, KioskId::CENTRAL);
    let outcome = match plan.admission {
        Admission::Confirm => PhoneOutcome::Confirmed,
        Admission::Waitlist { position } => PhoneOutcome::Waitlisted { position },
        Admission::Full => {
            return Err(refused(
                format!(
                    "Brak wolnych miejsc w puli zajęć „{}”, a lista rezerwowa jest pełna (limit {}). Miejsca w przydziałach kiosków są dla osób zapisujących się w kioskach.",
                    class.title, class.waitlist_limit
                ),
                format!(
                    "No free seat in the pool of \"{}\" and the waiting list is full (limit {}). Seats allotted to kiosks are for people registering at the kiosks.",
                    class.title, class.waitlist_limit
                ),
            ));
        }
    };
    if let Some(person) = &new_person {
        add_office_person(db, branch, person, &now)?;
    }
    let at = clock.tick(now_wall_ms());
    let mut edits: Vec<RosterEdit> = plan
        .promote
        .iter()
        .map(|id| RosterEdit::Grant {
            registration: *id,
            authority: KioskId::CENTRAL,
            at,
        })
        .collect();
    let registration = Registration {
        id: RegistrationId::stamped(&at),
        class_id: form.class,
        person_id,
        kiosk_id: KioskId::CENTRAL,
        created: at,
        cancelled: None,
        grants: match outcome {
            PhoneOutcome::Confirmed => BTreeMap::from([(KioskId::CENTRAL, at)]),
            PhoneOutcome::Waitlisted { .. } => BTreeMap::new(),
        },
    };
    let id = registration.id;
    edits.push(RosterEdit::Register(registration));
    roster.apply(&edits).map_err(CentralError::Document)?;
    save_roster(db, branch, &mut roster, new_roster, &now)?;
    if !plan.promote.is_empty() {
        let after = roster.registrations().map_err(CentralError::Document)?;
        notices::seats_granted(db, form.class, &regs, &after, &[])?;
    }
    db.audit(
        &now,
        actor,
        "registration_phone",
        &format!("registration:{id}"),
        Some(&format!(
            "class:{} person:{person_id} {}",
            form.class,
            match outcome {
                PhoneOutcome::Confirmed => "confirmed",
                PhoneOutcome::Waitlisted { .. } => "waitlisted",
            }
        )),
    )?;
    Ok(PhoneReceipt {
        registration: id,
        person: person_id,
        resident_code,
        outcome,
    })
}

/// Cancel a registration from the office; the freed pool seat goes to the waiting list
/// (a kiosk's freed seat is given by that kiosk when it merges the cancellation).
pub(crate) fn cancel_registration(
    db: &Db<'_>,
    clock: &mut HlcClock,
    class: ClassId,
    registration: RegistrationId,
    actor: &str,
) -> Result<()> {
    let (branch, _) = class_and_branch(db, class)?;
    let (mut roster, new) = roster_of(db, class)?;
    let reg = roster
        .registration(registration)
        .map_err(CentralError::Document)?
        .filter(|_| !new)
        .ok_or_else(|| CentralError::NotFound(format!("registration:{registration}")))?;
    if reg.cancelled.is_some() {
        return Err(refused(
            "Ten zapis jest już anulowany.",
            "This registration is already cancelled.",
        ));
    }
    let now = now_text();
    let at = clock.tick(now_wall_ms());
    roster
        .apply(&[RosterEdit::Cancel { registration, at }])
        .map_err(CentralError::Document)?;
    save_roster(db, branch, &mut roster, false, &now)?;
    db.audit(
        &now,
        actor,
        "registration_cancel",
        &format!("registration:{registration}"),
        Some(&format!("class:{class}")),
    )?;
    refill(db, clock, class)
}

/// Give one waiting person a seat from the pool by hand. Refused, with the number of
/// free pool seats, when the pool has none.
pub(crate) fn confirm_waiting(
    db: &Db<'_>,
    clock: &mut HlcClock,
    class: ClassId,
    registration: RegistrationId,
    actor: &str,
) -> Result<()> {
    let (branch, _) = class_and_branch(db, class)?;
    let (mut roster, new) = roster_of(db, class)?;
    if new {
        return Err(CentralError::NotFound(format!(
            "registration:{registration}"
        )));
    }
    let regs = roster.registrations().map_err(CentralError::Document)?;
    let policy = policy_for(db, branch, class)?;
    let computed = seats::compute_roster(&policy, &regs);
    match computed.state_of(registration) {
        Some(SeatState::Waitlisted { .. }) => {}
        Some(_) => {
            return Err(refused(
                "Ta osoba nie czeka na liście rezerwowej.",
                "This person is not on the waiting list.",
            ));
        }
        None => {
            return Err(CentralError::NotFound(format!(
                "registration:{registration}"
            )));
        }
    }
    let free = seats::free_seats_of(&policy, &computed, KioskId::CENTRAL);
    if free == 0 {
        return Err(refused(
            "W puli zajęć nie ma wolnego miejsca (wolne: 0). Miejsce zwolni się po anulowaniu zapisu albo zwiększeniu liczby miejsc.",
            "The class's pool has no free seat (free: 0). A seat frees up when a registration is cancelled or the capacity is raised.",
        ));
    }
    let now = now_text();
    let at = clock.tick(now_wall_ms());
    roster
        .apply(&[RosterEdit::Grant {
            registration,
            authority: KioskId::CENTRAL,
            at,
        }])
        .map_err(CentralError::Document)?;
    save_roster(db, branch, &mut roster, false, &now)?;
    let after = roster.registrations().map_err(CentralError::Document)?;
    notices::seats_granted(db, class, &regs, &after, &[])?;
    db.audit(
        &now,
        actor,
        "waitlist_confirm",
        &format!("registration:{registration}"),
        Some(&format!("class:{class} pool_free_before:{free}")),
    )?;
    Ok(())
}

/// One cell of a paper attendance list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaperMark {
    pub session: SessionId,
    pub registration: RegistrationId,
    pub status: AttendanceStatus,
}

/// Write attendance from a paper list into the class's roster, as a roll call at a kiosk
/// would (the office staff member as the author). Only sessions of the class dated up to
/// `today`, only registrations of its roster; a mark equal to the one recorded is left
/// alone. Returns how many marks were written.
pub(crate) fn record_paper_attendance(
    db: &Db<'_>,
    clock: &mut HlcClock,
    class: ClassId,
    marks: &[PaperMark],
    by: StaffId,
    today: &str,
    actor: &str,
) -> Result<usize> {
    let (branch, _) = class_and_branch(db, class)?;
    let catalog = stored_catalog(db, branch)?;
    let (mut roster, new) = roster_of(db, class)?;
    if new && !marks.is_empty() {
        return Err(refused(
            "Na te zajęcia nikt nie jest zapisany.",
            "Nobody is registered for this class.",
        ));
    }
    let regs = roster.registrations().map_err(CentralError::Document)?;
    let recorded: BTreeMap<(SessionId, RegistrationId), Option<AttendanceStatus>> = roster
        .attendance()
        .map_err(CentralError::Document)?
        .into_iter()
        .map(|a| {
            let single = match a.marks.as_slice() {
                [only] => Some(only.status),
                _ => None,
            };
            ((a.session_id, a.registration_id), single)
        })
        .collect();
    let at = clock.tick(now_wall_ms());
    let mut edits = Vec::new();
    for mark in marks {
        let session = catalog
            .sessions
            .iter()
            .find(|s| s.id == mark.session && s.class_id == class)
            .ok_or_else(|| CentralError::NotFound(format!("session:{}", mark.session)))?;
        if session.date.as_str() > today {
            return Err(refused(
                format!(
                    "Spotkanie {} jeszcze się nie odbyło: obecność wpisuje się po spotkaniu.",
                    session.date
                ),
                format!(
                    "The session on {} has not taken place yet: attendance is entered afterwards.",
                    session.date
                ),
            ));
        }
        if !regs.iter().any(|r| r.id == mark.registration) {
            return Err(CentralError::NotFound(format!(
                "registration:{}",
                mark.registration
            )));
        }
        if recorded.get(&(mark.session, mark.registration)) == Some(&Some(mark.status)) {
            continue;
        }
        edits.push(RosterEdit::Mark(AttendanceMark {
            session_id: mark.session,
            registration_id: mark.registration,
            status: mark.status,
            by,
            at,
        }));
    }
    if edits.is_empty() {
        return Ok(0);
    }
    let now = now_text();
    roster.apply(&edits).map_err(CentralError::Document)?;
    save_roster(db, branch, &mut roster, false, &now)?;
    db.audit(
        &now,
        actor,
        "attendance_paper",
        &format!("roster:{class}"),
        Some(&format!("marks:{}", edits.len())),
    )?;
    Ok(edits.len())
}

/// A session of the class, from its branch catalog.
fn session_of(db: &Db<'_>, class: ClassId, session: SessionId) -> Result<(BranchId, Session)> {
    let (branch, _) = class_and_branch(db, class)?;
    let catalog = stored_catalog(db, branch)?;
    let s = catalog
        .sessions
        .iter()
        .find(|s| s.id == session && s.class_id == class)
        .cloned()
        .ok_or_else(|| CentralError::NotFound(format!("session:{session}")))?;
    Ok((branch, s))
}

/// Cancel a session (a holiday, an illness) or restore it: it stays listed, marked.
pub(crate) fn set_session_cancelled(
    db: &Db<'_>,
    clock: &mut HlcClock,
    class: ClassId,
    session: SessionId,
    cancelled: bool,
    actor: &str,
) -> Result<()> {
    let (branch, mut s) = session_of(db, class, session)?;
    s.cancelled = cancelled;
    edit_catalog(
        db,
        clock,
        branch,
        &[CatalogEdit::Session(s)],
        &Editor {
            actor,
            action: if cancelled {
                "session_cancel"
            } else {
                "session_restore"
            },
            subject: &format!("session:{session}"),
        },
    )?;
    Ok(())
}

/// Delete a session entered by mistake: refused when any attendance is recorded for it
/// (cancel it instead, so the record stays).
pub(crate) fn delete_session(
    db: &Db<'_>,
    clock: &mut HlcClock,
    class: ClassId,
    session: SessionId,
    actor: &str,
) -> Result<()> {
    let (branch, _) = session_of(db, class, session)?;
    if let Some(doc) = load(db, DocKey::Roster(class))? {
        let marked = RosterDoc::from_doc(doc)
            .and_then(|r| r.attendance())
            .map_err(CentralError::Document)?
            .iter()
            .filter(|a| a.session_id == session)
            .count();
        if marked > 0 {
            return Err(refused(
                format!(
                    "Na tym spotkaniu zapisano już obecność ({marked} os.), więc nie można go usunąć. Proszę je odwołać: zostanie na liście jako odwołane."
                ),
                format!(
                    "Attendance is already recorded for this session ({marked} people), so it cannot be deleted. Please cancel it instead: it stays listed as cancelled."
                ),
            ));
        }
    }
    edit_catalog(
        db,
        clock,
        branch,
        &[CatalogEdit::RemoveSession(session)],
        &Editor {
            actor,
            action: "session_delete",
            subject: &format!("session:{session}"),
        },
    )?;
    Ok(())
}

/// Add sessions of a class in one catalog change.
pub(crate) fn add_sessions(
    db: &Db<'_>,
    clock: &mut HlcClock,
    class: ClassId,
    sessions: &[Session],
    actor: &str,
) -> Result<()> {
    let (branch, _) = class_and_branch(db, class)?;
    if sessions.iter().any(|s| s.class_id != class) {
        return Err(CentralError::BadRequest(
            "a session of another class".into(),
        ));
    }
    let edits: Vec<CatalogEdit> = sessions.iter().cloned().map(CatalogEdit::Session).collect();
    edit_catalog(
        db,
        clock,
        branch,
        &edits,
        &Editor {
            actor,
            action: "sessions_generate",
            subject: &format!("class:{class} sessions:{}", sessions.len()),
        },
    )?;
    Ok(())
}

impl super::Central {
    /// A phone registration from the command line (the administrator's alternative to
    /// the office page), under the same rules. The office projection is brought up to
    /// date first, as for a page: an existing person synced a moment ago is found.
    pub fn register_by_phone(&mut self, form: &PhoneRegistration) -> Result<PhoneReceipt> {
        let db = self.store.write()?;
        catch_up_clock(&db, &mut self.clock)?;
        crate::office::projection::refresh(&db)
            .map_err(|e| CentralError::Internal(e.to_string()))?;
        let receipt = register_by_phone(&db, &mut self.clock, form, "admin")?;
        db.set_meta("hlc", &self.clock.last().to_string())?;
        db.commit()?;
        Ok(receipt)
    }

    /// Cancel a registration from the command line.
    pub fn cancel_registration(
        &mut self,
        class: ClassId,
        registration: RegistrationId,
    ) -> Result<()> {
        let db = self.store.write()?;
        catch_up_clock(&db, &mut self.clock)?;
        cancel_registration(&db, &mut self.clock, class, registration, "admin")?;
        db.set_meta("hlc", &self.clock.last().to_string())?;
        db.commit()?;
        Ok(())
    }
}
