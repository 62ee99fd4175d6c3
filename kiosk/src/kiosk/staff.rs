//! Staff mode: PIN check, today's sessions, roll call and walk-ins.
//!
//! Attendance marks go into the class roster document (one change per tap), so two staff
//! marking the same person differently on two kiosks leave a conflict the office sees.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Serialize;

use blisko_shared::docs::RosterEdit;
use blisko_shared::ids::{ClassId, RegistrationId, SessionId, StaffId};
use blisko_shared::model::{AttendanceMark, AttendanceStatus, StaffRole};
use blisko_shared::seats::{self, CompensationTask, SeatStatus};

use super::{Kiosk, RegistrationForm, RegistrationReceipt, Result, local_date, parse_id};
use crate::error::KioskError;
use crate::store::{NamedRegistration, SessionRow};

/// The staff member who unlocked staff mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: StaffId,
    pub name: String,
    pub role: StaffRole,
}

/// One line of a roll call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollCallEntry {
    pub registration_id: RegistrationId,
    pub given_name: String,
    pub family_name: String,
    /// The office erased the person's data (their name is gone for good).
    pub erased: bool,
    /// Confirmed, or waiting (a walk-in past capacity).
    pub seat: SeatStatus,
    /// The latest mark, if any.
    pub mark: Option<AttendanceStatus>,
    /// Two staff marked differently at the same time: the office resolves it.
    pub conflict: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollCall {
    pub session: SessionRow,
    pub entries: Vec<RollCallEntry>,
}

/// The argon2id PHC string of a PIN, with a fresh random salt. The office stores it in
/// the catalog; the kiosk never stores a PIN itself.
pub fn hash_pin(pin: &str) -> std::result::Result<String, argon2::password_hash::Error> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(Argon2::default()
        .hash_password(pin.as_bytes(), &salt)?
        .to_string())
}

/// Whether `pin` matches a stored PHC string; a malformed hash never matches.
pub fn pin_matches(pin_hash: &str, pin: &str) -> bool {
    PasswordHash::new(pin_hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok()
    })
}

impl Kiosk {
    /// The staff member whose PIN this is, if any. Counting wrong attempts and locking
    /// out is the caller's (the app's session), which owns the clock of the screen.
    pub fn staff_by_pin(&self, pin: &str) -> Result<Option<StaffMember>> {
        if blisko_shared::validate::pin(pin).is_err() {
            return Ok(None);
        }
        Ok(self
            .store
            .staff()?
            .into_iter()
            .find(|s| pin_matches(&s.pin_hash, pin))
            .map(|s| StaffMember {
                id: s.id,
                name: s.name,
                role: s.role,
            }))
    }

    /// Today's date at the kiosk, ISO.
    pub fn today(&self) -> String {
        local_date((self.wall)()).to_string()
    }

    /// This branch's sessions today, by start time.
    pub fn sessions_today(&self) -> Result<Vec<SessionRow>> {
        Ok(self.store.sessions_on(&self.today())?)
    }

    fn session_row(&self, session: SessionId) -> Result<SessionRow> {
        self.store
            .session(session)?
            .ok_or_else(|| KioskError::UnknownSession(session.to_string()))
    }

    /// A class's roster with names (staff only), waiting list in order.
    pub fn named_roster(&self, class: ClassId) -> Result<Vec<NamedRegistration>> {
        Ok(self.store.named_roster(class)?)
    }

    /// What merges left beyond a class's limits, as this kiosk knows it (see
    /// `blisko_shared::seats::CompensationTask`): staff call these people.
    pub fn class_compensation(&mut self, class: ClassId) -> Result<Vec<CompensationTask>> {
        let row = self.class(&class.to_string())?;
        let policy = self.policy(class, &row)?;
        let regs: Vec<_> = self.roster_mut(class)?.regs.values().cloned().collect();
        Ok(seats::compute_roster(&policy, &regs).compensation)
    }

    /// Every compensation task of this kiosk's branch, by class.
    pub fn compensation(&mut self) -> Result<Vec<(ClassId, CompensationTask)>> {
        let mut tasks = Vec::new();
        for class in self.classes()? {
            for task in self.class_compensation(class.id)? {
                tasks.push((class.id, task));
            }
        }
        Ok(tasks)
    }

    /// The roll call of a session: every confirmed registration, and anyone else
    /// (a walk-in on the waiting list) who already has a mark.
    pub fn roll_call(&mut self, session: SessionId) -> Result<RollCall> {
        let row = self.session_row(session)?;
        let marks: HashMap<RegistrationId, (Option<AttendanceStatus>, bool)> = self
            .roster_mut(row.class_id)?
            .doc
            .attendance()?
            .into_iter()
            .filter(|a| a.session_id == session)
            .map(|a| {
                let conflict = a.is_conflict();
                (
                    a.registration_id,
                    (a.marks.last().map(|m| m.status), conflict),
                )
            })
            .collect();
        let entries = self
            .store
            .named_roster(row.class_id)?
            .into_iter()
            .filter(|r| r.status == SeatStatus::Confirmed || marks.contains_key(&r.registration_id))
            .filter(|r| r.status != SeatStatus::Cancelled || marks.contains_key(&r.registration_id))
            .map(|r| {
                let (mark, conflict) = marks.get(&r.registration_id).copied().unwrap_or_default();
                RollCallEntry {
                    registration_id: r.registration_id,
                    given_name: r.given_name,
                    family_name: r.family_name,
                    erased: r.erased,
                    seat: r.status,
                    mark,
                    conflict,
                }
            })
            .collect();
        Ok(RollCall {
            session: row,
            entries,
        })
    }

    /// Mark one person at one session; durable before it returns.
    pub fn mark_attendance(
        &mut self,
        session: SessionId,
        registration: RegistrationId,
        status: AttendanceStatus,
        by: StaffId,
    ) -> Result<()> {
        let row = self.session_row(session)?;
        let class = self
            .store
            .class(row.class_id)?
            .ok_or_else(|| KioskError::UnknownClass(row.class_id.to_string()))?;
        if !self.roster_mut(class.id)?.regs.contains_key(&registration) {
            return Err(KioskError::UnknownRegistration(registration.to_string()));
        }
        let policy = self.policy(class.id, &class)?;
        let at = self.stamp();
        let mark = AttendanceMark {
            session_id: session,
            registration_id: registration,
            status,
            by,
            at,
        };
        self.apply_roster_edits(class.id, &[RosterEdit::Mark(mark)])?;
        self.commit_roster_change(class.id, &policy, &[], |_| Ok(()))
    }

    /// A walk-in: register the person for the session's class (a seat if there is one,
    /// else the waiting list) and mark them present.
    pub fn add_walk_in(
        &mut self,
        session: SessionId,
        form: &RegistrationForm,
        by: StaffId,
    ) -> Result<RegistrationReceipt> {
        let row = self.session_row(session)?;
        let form = RegistrationForm {
            class_id: row.class_id.to_string(),
            ..form.clone()
        };
        let receipt = self.register(&form)?;
        self.mark_attendance(
            session,
            receipt.registration_id,
            AttendanceStatus::Present,
            by,
        )?;
        Ok(receipt)
    }

    /// Parse a session id typed or passed by a caller.
    pub fn session_id(&self, input: &str) -> Result<SessionId> {
        parse_id(input, KioskError::UnknownSession)
    }
}
