//! Intake requests at the central office: a status step written into the request's
//! document by the office's actor (so it reaches the kiosk at its next sync), with a staff
//! note kept on the server only. The office page and any other caller go through here, so
//! the rules (a final decision is final; a refusal names its decision and how to appeal)
//! are checked in one place.

use blisko_shared::docs::{DocKey, IntakeDoc};
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::RequestId;
use blisko_shared::model::{RequestStatus, StatusChange};

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
        })
    }
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
    let now = now_text();
    store_changes(db, intake.doc_mut(), &now)?;
    if let Some(note) = &step.note {
        db.add_note(&id.to_string(), staff_id, &now, step.status.code(), note)?;
    }
    db.audit(
        &now,
        actor,
        "request_status",
        &key.to_string(),
        Some(step.status.code()),
    )?;
    Ok(())
}
