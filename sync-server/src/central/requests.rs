//! Intake requests at the central office: a status step written into the request's
//! document by the office's actor (so it reaches the kiosk at its next sync), with a staff
//! note kept on the server only. The office page and any other caller go through here, so
//! the rules (a final decision is final; a refusal names its decision and how to appeal)
//! are checked in one place.

use blisko_shared::docs::{DocKey, IntakeDoc};
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::RequestId;
use blisko_shared::model::{RequestStatus, StaffRole, StatusChange};

use super::{CentralError, Result, load, now_text, now_wall_ms, store_changes};
use crate::store::Db;

/// A status change, checked: never back to "submitted"; a refusal (an administrative
/// decision) carries its decision reference and the appeal information, and only a
/// refusal carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusStep {
    pub status: RequestStatus,
    pub note: Option<String>,
    pub decision_reference: Option<String>,
    pub appeal_info: Option<String>,
    /// A message to the resident, shown by the kiosk with the status (e.g. what to bring).
    /// It replaces the previous one; a step without a message removes it.
    pub resident_message: Option<String>,
}

impl StatusStep {
    pub fn new(
        status: RequestStatus,
        note: Option<String>,
        decision_reference: Option<String>,
        appeal_info: Option<String>,
    ) -> Result<StatusStep> {
        if status == RequestStatus::Submitted {
            return Err(CentralError::Refused {
                pl: "Wniosek nie może wrócić do stanu „złożony”.".into(),
                en: "A request cannot go back to \"submitted\".".into(),
            });
        }
        let rejected = status == RequestStatus::Rejected;
        if rejected && (decision_reference.is_none() || appeal_info.is_none()) {
            return Err(CentralError::Refused {
                pl: "Odmowa to decyzja administracyjna: podaj znak decyzji i pouczenie o odwołaniu.".into(),
                en: "A rejection is an administrative decision: give the decision reference and how to appeal.".into(),
            });
        }
        Ok(StatusStep {
            status,
            note,
            decision_reference: decision_reference.filter(|_| rejected),
            appeal_info: appeal_info.filter(|_| rejected),
            resident_message: None,
        })
    }

    /// The same step with a message to the resident.
    pub fn with_resident_message(self, message: Option<String>) -> StatusStep {
        StatusStep {
            resident_message: message,
            ..self
        }
    }
}

/// Whether a staff role decides on requests (and so may be assigned one).
pub fn decides_requests(role: StaffRole) -> bool {
    matches!(role, StaffRole::Organizer | StaffRole::OfficeAdmin)
}

/// Write a status step into a request's document as the office; `actor` (e.g.
/// `staff:<id>`) is recorded in the document and the audit log, `staff_id` with the note.
pub(crate) fn set_status(
    db: &Db<'_>,
    clock: &mut HlcClock,
    actor: &str,
    staff_id: &str,
    id: RequestId,
    step: &StatusStep,
) -> Result<()> {
    let key = DocKey::Intake(id);
    let doc = load(db, key)?.ok_or_else(|| CentralError::NotFound(key.to_string()))?;
    let mut intake = IntakeDoc::from_doc(doc).map_err(CentralError::Document)?;
    let current = intake.read(None).map_err(CentralError::Document)?.status();
    if matches!(current, RequestStatus::Accepted | RequestStatus::Rejected) {
        return Err(CentralError::Refused {
            pl: "Ten wniosek ma już ostateczną decyzję.".into(),
            en: "This request already has a final decision.".into(),
        });
    }
    let at = clock.tick(now_wall_ms());
    intake
        .add_status(&StatusChange {
            status: step.status,
            by: actor.to_owned(),
            at,
            decision_reference: step.decision_reference.clone(),
            appeal_info: step.appeal_info.clone(),
        })
        .map_err(CentralError::Document)?;
    let request = intake.read(None).map_err(CentralError::Document)?;
    let person = request.person_id;
    // Only a message given, or one to take away, changes the document.
    let message_changes = step.resident_message.is_some() || intake.has_resident_message();
    match db.person_key(person)? {
        Some(key) if message_changes => intake
            .set_resident_message(step.resident_message.as_deref(), &key)
            .map_err(CentralError::Document)?,
        Some(_) => {}
        None if step.resident_message.is_some() => {
            return Err(CentralError::Refused {
                pl: "Dane tej osoby usunięto: nie można przekazać jej wiadomości.".into(),
                en: "This person's data was erased: no message can reach them.".into(),
            });
        }
        None => {}
    }
    let now = now_text();
    store_changes(db, intake.doc_mut(), &now)?;
    if let Some(note) = &step.note {
        db.add_note(&id.to_string(), staff_id, &now, step.status.code(), note)?;
    }
    crate::notices::request_decided(db, &request, step.status, at, now_wall_ms() as i64)?;
    db.audit(
        &now,
        actor,
        "request_status",
        &key.to_string(),
        Some(&super::audit_detail::change_detail(
            serde_json::json!({ "status": current.code() }),
            serde_json::json!({ "status": step.status.code() }),
        )),
    )?;
    Ok(())
}

/// Assign a request to a caseworker: an active account whose role decides on requests
/// and that sees the request's branch. Audited (ids only).
pub(crate) fn assign(db: &Db<'_>, actor: &str, id: RequestId, staff_id: &str) -> Result<()> {
    let key = DocKey::Intake(id);
    let request = db
        .o_request(&id.to_string())?
        .ok_or_else(|| CentralError::NotFound(key.to_string()))?;
    let staff = db
        .staff_list()?
        .into_iter()
        .find(|s| s.id == staff_id && !s.disabled)
        .filter(|s| StaffRole::from_code(&s.role).is_some_and(decides_requests))
        .filter(|s| s.branch_id.as_ref().is_none_or(|b| *b == request.branch_id))
        .ok_or_else(|| CentralError::Refused {
            pl: "Wniosek można przydzielić tylko osobie, która rozpatruje wnioski tego punktu."
                .into(),
            en: "A request can be assigned only to someone who decides on this branch's requests."
                .into(),
        })?;
    let now = now_text();
    db.assign_request(&request.id, &staff.id, actor, &now)?;
    db.audit(
        &now,
        actor,
        "request_assigned",
        &key.to_string(),
        Some(&format!("staff:{}", staff.id)),
    )?;
    Ok(())
}
