//! An intake request (wniosek), without staff notes: those stay on the server.
//! Layout: scalar fields at the root; `history` maps a stamp to one status step, so that
//! the kiosk's submission and the office's decisions merge without conflicts.

use automerge::ROOT;
use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc};

use super::{Doc, DocError, DocKey, get_map, get_str, put_opt_str};
use crate::ids::{KioskId, RequestId};
use crate::model::{ApplicantRole, IntakeRequest, RequestStatus, StatusChange};

const HISTORY: &str = "history";
pub(super) const COLLECTIONS: &[&str] = &[HISTORY];

#[derive(Debug, Clone)]
pub struct IntakeDoc {
    doc: Doc,
    id: RequestId,
}

impl IntakeDoc {
    pub fn create(request: &IntakeRequest, kiosk: KioskId) -> Result<IntakeDoc, DocError> {
        let mut doc = IntakeDoc {
            doc: Doc::create(DocKey::Intake(request.id), kiosk)?,
            id: request.id,
        };
        let r = request;
        let key = doc.doc.key().to_string();
        doc.doc.change(|tx| {
            let result = (|| {
                tx.put(ROOT, "reference", r.reference.as_str())?;
                tx.put(ROOT, "person", r.person_id.to_string())?;
                tx.put(ROOT, "branch", r.branch_id.to_string())?;
                tx.put(ROOT, "kiosk", r.kiosk_id.to_string())?;
                tx.put(ROOT, "service", r.service_id.to_string())?;
                tx.put(ROOT, "applicant_role", r.applicant_role.code())?;
                tx.put(ROOT, "description", r.description.as_str())?;
                put_opt_str(tx, &ROOT, "pesel", r.pesel.as_deref())?;
                tx.put(ROOT, "declaration_version", r.declaration_version.as_str())?;
                tx.put(ROOT, "consent_version", r.consent_version.as_str())?;
                put_opt_str(tx, &ROOT, "ipus_due", r.ipus_due.as_deref())?;
                Ok(())
            })();
            result.map_err(|source| DocError::Automerge {
                doc: key.clone(),
                source: Box::new(source),
            })
        })?;
        for step in &request.history {
            doc.add_status(step)?;
        }
        Ok(doc)
    }

    pub fn from_doc(doc: Doc) -> Result<IntakeDoc, DocError> {
        match doc.key() {
            DocKey::Intake(id) => Ok(IntakeDoc { doc, id }),
            other => Err(DocError::WrongKind {
                doc: other.to_string(),
                expected: "intake",
                found: other.kind().to_owned(),
            }),
        }
    }

    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    pub fn doc_mut(&mut self) -> &mut Doc {
        &mut self.doc
    }

    /// Append one step of the status history (as one change).
    pub fn add_status(&mut self, step: &StatusChange) -> Result<(), DocError> {
        let history = self.doc.collection(HISTORY)?;
        let key = self.doc.key().to_string();
        self.doc.change(|tx| {
            let result = (|| {
                let obj = tx.put_object(&history, step.at.to_string(), ObjType::Map)?;
                tx.put(&obj, "status", step.status.code())?;
                tx.put(&obj, "by", step.by.as_str())?;
                put_opt_str(
                    tx,
                    &obj,
                    "decision_reference",
                    step.decision_reference.as_deref(),
                )?;
                put_opt_str(tx, &obj, "appeal_info", step.appeal_info.as_deref())?;
                Ok(())
            })();
            result.map_err(|source| DocError::Automerge {
                doc: key.clone(),
                source: Box::new(source),
            })
        })
    }

    /// Replace the personal content of the request (the description of need and the
    /// PESEL) in the current state, as one change. Older values stay in the document's
    /// history until history itself is rewritten.
    pub fn erase_personal(&mut self, placeholder: &str) -> Result<(), DocError> {
        let key = self.doc.key().to_string();
        self.doc.change(|tx| {
            let result = (|| {
                tx.put(ROOT, "description", placeholder)?;
                put_opt_str(tx, &ROOT, "pesel", None)?;
                Ok(())
            })();
            result.map_err(|source| DocError::Automerge {
                doc: key.clone(),
                source: Box::new(source),
            })
        })
    }

    pub fn read(&self) -> Result<IntakeRequest, DocError> {
        let am = &self.doc.am;
        let f = |name: &str| self.doc.malformed(name);
        let s = |name: &str| get_str(am, &ROOT, name).ok_or_else(|| f(name));
        let history_obj = self.doc.collection(HISTORY)?;
        let mut history = Vec::new();
        for at in am.keys(&history_obj) {
            let bad = || f(&format!("history/{at}"));
            let obj = get_map(am, &history_obj, &at).ok_or_else(bad)?;
            history.push(StatusChange {
                status: get_str(am, &obj, "status")
                    .and_then(|s| RequestStatus::from_code(&s))
                    .ok_or_else(bad)?,
                by: get_str(am, &obj, "by").ok_or_else(bad)?,
                at: at.parse().map_err(|_| bad())?,
                decision_reference: get_str(am, &obj, "decision_reference"),
                appeal_info: get_str(am, &obj, "appeal_info"),
            });
        }
        history.sort_by_key(|c| c.at);
        Ok(IntakeRequest {
            id: self.id,
            reference: s("reference")?,
            person_id: s("person")?.parse().map_err(|_| f("person"))?,
            branch_id: s("branch")?.parse().map_err(|_| f("branch"))?,
            kiosk_id: s("kiosk")?.parse().map_err(|_| f("kiosk"))?,
            service_id: s("service")?.parse().map_err(|_| f("service"))?,
            applicant_role: ApplicantRole::from_code(&s("applicant_role")?)
                .ok_or_else(|| f("applicant_role"))?,
            description: s("description")?,
            pesel: get_str(am, &ROOT, "pesel"),
            declaration_version: s("declaration_version")?,
            consent_version: s("consent_version")?,
            history,
            ipus_due: get_str(am, &ROOT, "ipus_due"),
        })
    }
}
