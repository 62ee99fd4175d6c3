//! The roster of one class: registrations (with their seat grants) and attendance.
//!
//! Layout:
//! ```text
//! registrations: { <registration id>: { person, kiosk, created, cancelled?, grants: { <authority>: <stamp> } } }
//! attendance:    { "<session id>/<registration id>": "<status> <staff id> <stamp>" }
//! ```
//! A registration's map is created once, by its kiosk; later writers only add a
//! cancellation stamp or a grant. Attendance marks are plain strings so that two staff
//! marking the same person concurrently leave both values, visible as a conflict.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc};

use super::{Doc, DocError, DocKey, get_all_str, get_hlc, get_map, get_str};
use crate::hlc::Hlc;
use crate::ids::{ClassId, KioskId, RegistrationId, SessionId};
use crate::model::{Attendance, AttendanceMark, AttendanceStatus, Registration};

const REGISTRATIONS: &str = "registrations";
const ATTENDANCE: &str = "attendance";
pub(super) const COLLECTIONS: &[&str] = &[REGISTRATIONS, ATTENDANCE];

#[derive(Debug, Clone)]
pub struct RosterDoc {
    doc: Doc,
    class_id: ClassId,
}

impl RosterDoc {
    pub fn create(class_id: ClassId, kiosk: KioskId) -> Result<RosterDoc, DocError> {
        Ok(RosterDoc {
            doc: Doc::create(DocKey::Roster(class_id), kiosk)?,
            class_id,
        })
    }

    pub fn from_doc(doc: Doc) -> Result<RosterDoc, DocError> {
        match doc.key() {
            DocKey::Roster(class_id) => Ok(RosterDoc { doc, class_id }),
            other => Err(DocError::WrongKind {
                doc: other.to_string(),
                expected: "roster",
                found: other.kind().to_owned(),
            }),
        }
    }

    pub fn class_id(&self) -> ClassId {
        self.class_id
    }

    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    pub fn doc_mut(&mut self) -> &mut Doc {
        &mut self.doc
    }

    /// One user action on the roster (a registration with the promotions it triggers, a
    /// cancellation with its promotions): all of it lands as a single change.
    pub fn apply(&mut self, edits: &[RosterEdit]) -> Result<(), DocError> {
        let regs = self.doc.collection(REGISTRATIONS)?;
        let attendance = self.doc.collection(ATTENDANCE)?;
        let key = self.doc.key().to_string();
        self.doc.change(|tx| {
            let am = |source| DocError::Automerge {
                doc: key.clone(),
                source: Box::new(source),
            };
            for edit in edits {
                match edit {
                    RosterEdit::Register(r) => {
                        let obj = tx
                            .put_object(&regs, r.id.to_string(), ObjType::Map)
                            .map_err(am)?;
                        tx.put(&obj, "person", r.person_id.to_string())
                            .map_err(am)?;
                        tx.put(&obj, "kiosk", r.kiosk_id.to_string()).map_err(am)?;
                        tx.put(&obj, "created", r.created.to_string()).map_err(am)?;
                        if let Some(at) = r.cancelled {
                            tx.put(&obj, "cancelled", at.to_string()).map_err(am)?;
                        }
                        let grants = tx.put_object(&obj, "grants", ObjType::Map).map_err(am)?;
                        for (authority, at) in &r.grants {
                            tx.put(&grants, authority.to_string(), at.to_string())
                                .map_err(am)?;
                        }
                    }
                    RosterEdit::Cancel { registration, at } => {
                        let obj =
                            get_map(tx, &regs, &registration.to_string()).ok_or_else(|| {
                                DocError::NotFound {
                                    doc: key.clone(),
                                    what: "registration",
                                    id: registration.to_string(),
                                }
                            })?;
                        tx.put(&obj, "cancelled", at.to_string()).map_err(am)?;
                    }
                    RosterEdit::Grant {
                        registration,
                        authority,
                        at,
                    } => {
                        let obj = get_map(tx, &regs, &registration.to_string())
                            .and_then(|reg| get_map(tx, &reg, "grants"))
                            .ok_or_else(|| DocError::NotFound {
                                doc: key.clone(),
                                what: "registration",
                                id: registration.to_string(),
                            })?;
                        tx.put(&obj, authority.to_string(), at.to_string())
                            .map_err(am)?;
                    }
                    RosterEdit::Mark(mark) => {
                        let value = format!("{} {} {}", mark.status.code(), mark.by, mark.at);
                        tx.put(
                            &attendance,
                            format!("{}/{}", mark.session_id, mark.registration_id),
                            value,
                        )
                        .map_err(am)?;
                    }
                }
            }
            Ok(())
        })
    }

    pub fn registration(&self, id: RegistrationId) -> Result<Option<Registration>, DocError> {
        let regs = self.doc.collection(REGISTRATIONS)?;
        match get_map(&self.doc.am, &regs, &id.to_string()) {
            Some(obj) => self.read_registration(id, &obj).map(Some),
            None => Ok(None),
        }
    }

    /// Every registration in the merged roster, in id order.
    pub fn registrations(&self) -> Result<Vec<Registration>, DocError> {
        let regs = self.doc.collection(REGISTRATIONS)?;
        let mut out = Vec::new();
        for key in self.doc.am.keys(&regs) {
            let id: RegistrationId = key
                .parse()
                .map_err(|_| self.doc.malformed(format!("registrations/{key}")))?;
            let obj = get_map(&self.doc.am, &regs, &key)
                .ok_or_else(|| self.doc.malformed(format!("registrations/{key}")))?;
            out.push(self.read_registration(id, &obj)?);
        }
        Ok(out)
    }

    fn read_registration(
        &self,
        id: RegistrationId,
        obj: &automerge::ObjId,
    ) -> Result<Registration, DocError> {
        let am = &self.doc.am;
        let field = |name: &str| self.doc.malformed(format!("registrations/{id}/{name}"));
        let grants_obj = get_map(am, obj, "grants").ok_or_else(|| field("grants"))?;
        let mut grants = BTreeMap::new();
        for authority in am.keys(&grants_obj) {
            let at = get_hlc(am, &grants_obj, &authority).ok_or_else(|| field("grants"))?;
            let authority: KioskId = authority.parse().map_err(|_| field("grants"))?;
            grants.insert(authority, at);
        }
        Ok(Registration {
            id,
            class_id: self.class_id,
            person_id: get_str(am, obj, "person")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| field("person"))?,
            kiosk_id: get_str(am, obj, "kiosk")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| field("kiosk"))?,
            created: get_hlc(am, obj, "created").ok_or_else(|| field("created"))?,
            cancelled: match get_str(am, obj, "cancelled") {
                Some(s) => Some(s.parse().map_err(|_| field("cancelled"))?),
                None => None,
            },
            grants,
        })
    }

    /// Attendance per (session, registration), with every concurrent mark.
    pub fn attendance(&self) -> Result<Vec<Attendance>, DocError> {
        let att = self.doc.collection(ATTENDANCE)?;
        let mut out = Vec::new();
        for key in self.doc.am.keys(&att) {
            let bad = || self.doc.malformed(format!("attendance/{key}"));
            let (session, registration) = key.split_once('/').ok_or_else(bad)?;
            let session_id: SessionId = session.parse().map_err(|_| bad())?;
            let registration_id: RegistrationId = registration.parse().map_err(|_| bad())?;
            let mut marks = Vec::new();
            for value in get_all_str(&self.doc.am, &att, &key) {
                let mut parts = value.splitn(3, ' ');
                let (Some(status), Some(by), Some(at)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad());
                };
                marks.push(AttendanceMark {
                    session_id,
                    registration_id,
                    status: AttendanceStatus::from_code(status).ok_or_else(bad)?,
                    by: by.parse().map_err(|_| bad())?,
                    at: at.parse::<Hlc>().map_err(|_| bad())?,
                });
            }
            marks.sort_by_key(|m| m.at);
            out.push(Attendance {
                session_id,
                registration_id,
                marks,
            });
        }
        Ok(out)
    }
}

/// One edit of a roster; a user action applies several as one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterEdit {
    Register(Registration),
    Cancel {
        registration: RegistrationId,
        at: Hlc,
    },
    Grant {
        registration: RegistrationId,
        authority: KioskId,
        at: Hlc,
    },
    Mark(AttendanceMark),
}
