//! An intake request (wniosek), without staff notes: those stay on the server.
//! Layout: scalar fields at the root; `history` maps a stamp to one status step, so that
//! the kiosk's submission and the office's decisions merge without conflicts. The
//! personal content (the description of need and the PESEL) is one value, `sealed` with
//! the person's key (see [`crate::crypto`]); without the key it reads blank.

use automerge::ROOT;
use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ScalarValue, Value};

use super::{Doc, DocError, DocKey, get_map, get_str, put_opt_str};
use crate::crypto::{self, PersonKey, Purpose};
use crate::ids::{KioskId, RequestId};
use crate::model::{ApplicantRole, IntakeRequest, RequestStatus, StatusChange};

const HISTORY: &str = "history";
const SEALED: &str = "sealed";
/// The office's latest message to the resident (sealed with the person's key). Older
/// documents have none; a status step without a message removes it.
const RESIDENT_MESSAGE: &str = "resident_message";
pub(super) const COLLECTIONS: &[&str] = &[HISTORY];

#[derive(Debug, Clone)]
pub struct IntakeDoc {
    doc: Doc,
    id: RequestId,
}

impl IntakeDoc {
    /// A new request by `kiosk`, its personal content sealed with the person's `key`.
    pub fn create(
        request: &IntakeRequest,
        key: &PersonKey,
        kiosk: KioskId,
    ) -> Result<IntakeDoc, DocError> {
        let mut plain = Vec::new();
        ciborium::into_writer(&(&request.description, &request.pesel), &mut plain)
            .expect("writing CBOR to memory cannot fail");
        let sealed = crypto::seal(key, request.person_id, Purpose::Intake, &plain);
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
                tx.put(ROOT, SEALED, ScalarValue::Bytes(sealed.clone()))?;
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

    /// Set (or, with `None`, remove) the office's message to the resident, sealed with the
    /// person's `key`, as one change.
    pub fn set_resident_message(
        &mut self,
        message: Option<&str>,
        key: &PersonKey,
    ) -> Result<(), DocError> {
        let person: crate::ids::PersonId = get_str(&self.doc.am, &ROOT, "person")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| self.doc.malformed("person"))?;
        let sealed =
            message.map(|m| crypto::seal(key, person, Purpose::ResidentMessage, m.as_bytes()));
        let doc_key = self.doc.key().to_string();
        self.doc.change(|tx| {
            let result = (|| {
                match &sealed {
                    Some(bytes) => {
                        tx.put(ROOT, RESIDENT_MESSAGE, ScalarValue::Bytes(bytes.clone()))?
                    }
                    None => {
                        if tx.get(ROOT, RESIDENT_MESSAGE)?.is_some() {
                            tx.delete(ROOT, RESIDENT_MESSAGE)?;
                        }
                    }
                }
                Ok(())
            })();
            result.map_err(|source| DocError::Automerge {
                doc: doc_key.clone(),
                source: Box::new(source),
            })
        })
    }

    /// Whether the document holds a message to the resident (sealed or not).
    pub fn has_resident_message(&self) -> bool {
        matches!(self.doc.am.get(ROOT, RESIDENT_MESSAGE), Ok(Some(_)))
    }

    /// The office's message to the resident, opened with the person's `key`. `None` when
    /// there is none (also in documents written before messages existed) or it does not
    /// open.
    pub fn resident_message(&self, key: &PersonKey) -> Option<String> {
        let sealed = match self.doc.am.get(ROOT, RESIDENT_MESSAGE).ok().flatten() {
            Some((Value::Scalar(v), _)) => match v.as_ref() {
                ScalarValue::Bytes(b) => b.clone(),
                _ => return None,
            },
            _ => return None,
        };
        let person: crate::ids::PersonId = get_str(&self.doc.am, &ROOT, "person")?.parse().ok()?;
        let plain = crypto::open(key, person, Purpose::ResidentMessage, &sealed).ok()?;
        String::from_utf8(plain).ok()
    }

    /// Drop the sealed personal content from the current state, as one change. Older
    /// changes still hold it sealed: destroying the person's key is what makes it
    /// unreadable.
    pub fn erase_personal(&mut self) -> Result<(), DocError> {
        let key = self.doc.key().to_string();
        self.doc.change(|tx| {
            let result = (|| {
                for field in [SEALED, RESIDENT_MESSAGE] {
                    if tx.get(ROOT, field)?.is_some() {
                        tx.delete(ROOT, field)?;
                    }
                }
                Ok(())
            })();
            result.map_err(|source| DocError::Automerge {
                doc: key.clone(),
                source: Box::new(source),
            })
        })
    }

    /// The sealed personal content as stored (`None` when there is none, or it was
    /// erased), to tell whether a change touched it.
    pub fn sealed(&self) -> Option<Vec<u8>> {
        match self.doc.am.get(ROOT, SEALED).ok().flatten() {
            Some((Value::Scalar(v), _)) => match v.as_ref() {
                ScalarValue::Bytes(b) => Some(b.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The request; its description and PESEL opened with the person's `key` (blank
    /// without it).
    pub fn read(&self, key: Option<&PersonKey>) -> Result<IntakeRequest, DocError> {
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
        let person_id: crate::ids::PersonId = s("person")?.parse().map_err(|_| f("person"))?;
        let sealed = self.sealed();
        let (description, pesel) = match (key, sealed) {
            (Some(key), Some(sealed)) => {
                let plain = crypto::open(key, person_id, Purpose::Intake, &sealed)
                    .map_err(|_| f(SEALED))?;
                ciborium::from_reader::<(String, Option<String>), _>(plain.as_slice())
                    .map_err(|_| f(SEALED))?
            }
            _ => (String::new(), None),
        };
        Ok(IntakeRequest {
            id: self.id,
            reference: s("reference")?,
            person_id,
            branch_id: s("branch")?.parse().map_err(|_| f("branch"))?,
            kiosk_id: s("kiosk")?.parse().map_err(|_| f("kiosk"))?,
            service_id: s("service")?.parse().map_err(|_| f("service"))?,
            applicant_role: ApplicantRole::from_code(&s("applicant_role")?)
                .ok_or_else(|| f("applicant_role"))?,
            description,
            pesel,
            declaration_version: s("declaration_version")?,
            consent_version: s("consent_version")?,
            history,
            ipus_due: get_str(am, &ROOT, "ipus_due"),
        })
    }
}
