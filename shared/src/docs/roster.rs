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
use automerge::{ObjType, ReadDoc, ScalarValueRef, ValueRef};

use super::{Doc, DocError, DocKey, get_all_str, get_map};
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

    pub fn into_doc(self) -> Doc {
        self.doc
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

    /// Every registration in the merged roster, in id order. One pass over the map and
    /// one over each registration's fields: a roster of thousands is read on every merge.
    pub fn registrations(&self) -> Result<Vec<Registration>, DocError> {
        let regs = self.doc.collection(REGISTRATIONS)?;
        let mut out = Vec::new();
        for item in self.doc.am.map_range(&regs, ..) {
            let key = item.key.as_ref();
            let bad = || self.doc.malformed(format!("registrations/{key}"));
            let id: RegistrationId = key.parse().map_err(|_| bad())?;
            if !matches!(item.value, ValueRef::Object(ObjType::Map)) {
                return Err(bad());
            }
            out.push(self.read_registration(id, &item.id())?);
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
        let (mut person, mut kiosk, mut created, mut cancelled, mut grants_obj) =
            (None, None, None, None, None);
        for item in am.map_range(obj, ..) {
            match (item.key.as_ref(), &item.value) {
                ("person", ValueRef::Scalar(ScalarValueRef::Str(s))) => {
                    person = Some(s.parse().map_err(|_| field("person"))?);
                }
                ("kiosk", ValueRef::Scalar(ScalarValueRef::Str(s))) => {
                    kiosk = Some(s.parse().map_err(|_| field("kiosk"))?);
                }
                ("created", ValueRef::Scalar(ScalarValueRef::Str(s))) => {
                    created = Some(s.parse::<Hlc>().map_err(|_| field("created"))?);
                }
                ("cancelled", ValueRef::Scalar(ScalarValueRef::Str(s))) => {
                    cancelled = Some(s.parse::<Hlc>().map_err(|_| field("cancelled"))?);
                }
                ("grants", ValueRef::Object(ObjType::Map)) => grants_obj = Some(item.id()),
                _ => {}
            }
        }
        let grants_obj = grants_obj.ok_or_else(|| field("grants"))?;
        let mut grants = BTreeMap::new();
        for item in am.map_range(&grants_obj, ..) {
            let ValueRef::Scalar(ScalarValueRef::Str(at)) = &item.value else {
                return Err(field("grants"));
            };
            let at: Hlc = at.parse().map_err(|_| field("grants"))?;
            let authority: KioskId = item.key.parse().map_err(|_| field("grants"))?;
            grants.insert(authority, at);
        }
        Ok(Registration {
            id,
            class_id: self.class_id,
            person_id: person.ok_or_else(|| field("person"))?,
            kiosk_id: kiosk.ok_or_else(|| field("kiosk"))?,
            created: created.ok_or_else(|| field("created"))?,
            cancelled,
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
