//! The catalog of one branch: the branch itself, its classes and sessions, the services
//! that can be requested there, seat allotments and staff PIN hashes. Written by the
//! office only (or by a standalone kiosk for its own demo catalogue).
//!
//! Layout: `branch`, `classes`, `sessions`, `services`, `staff` are maps of maps keyed by
//! id; `allotments` maps "<class id>/<kiosk id>" to a seat count. A class's schedule is one
//! immutable JSON string: it is edited as a whole.

use std::collections::BTreeMap;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, ReadDoc};

use super::{Doc, DocError, DocKey, get_bool, get_map, get_str, get_u64, put_opt_str};
use crate::ids::{BranchId, ClassId, KioskId, SessionId, StaffId};
use crate::model::{Branch, Catalog, Class, Service, Session, StaffRole, StaffUser};

const BRANCH: &str = "branch";
const CLASSES: &str = "classes";
const SESSIONS: &str = "sessions";
const SERVICES: &str = "services";
const ALLOTMENTS: &str = "allotments";
const STAFF: &str = "staff";
pub(super) const COLLECTIONS: &[&str] = &[BRANCH, CLASSES, SESSIONS, SERVICES, ALLOTMENTS, STAFF];

#[derive(Debug, Clone)]
pub struct CatalogDoc {
    doc: Doc,
    branch_id: BranchId,
}

/// One edit of a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogEdit {
    Branch(Branch),
    Class(Class),
    Session(Session),
    /// Remove a session entered by mistake (the office checks first that nobody's
    /// attendance is recorded for it).
    RemoveSession(SessionId),
    Service(Service),
    Staff(StaffUser),
    /// Take a person's PIN away (they no longer open a kiosk's staff mode).
    RemoveStaff(StaffId),
    Allotment {
        class_id: ClassId,
        kiosk_id: KioskId,
        seats: u32,
    },
}

impl CatalogEdit {
    /// Every field of a catalog as edits: applied to a new document they create it, to an
    /// existing one they update it (nothing is removed).
    pub fn all_of(catalog: &Catalog) -> Vec<CatalogEdit> {
        let mut edits = vec![CatalogEdit::Branch(catalog.branch.clone())];
        edits.extend(catalog.classes.iter().cloned().map(CatalogEdit::Class));
        edits.extend(catalog.sessions.iter().cloned().map(CatalogEdit::Session));
        edits.extend(catalog.services.iter().cloned().map(CatalogEdit::Service));
        edits.extend(catalog.staff.iter().cloned().map(CatalogEdit::Staff));
        for (class_id, per_kiosk) in &catalog.allotments {
            for (kiosk_id, seats) in per_kiosk {
                edits.push(CatalogEdit::Allotment {
                    class_id: *class_id,
                    kiosk_id: *kiosk_id,
                    seats: *seats,
                });
            }
        }
        edits
    }
}

impl CatalogDoc {
    pub fn create(catalog: &Catalog, kiosk: KioskId) -> Result<CatalogDoc, DocError> {
        let mut doc = CatalogDoc {
            doc: Doc::create(DocKey::Catalog(catalog.branch.id), kiosk)?,
            branch_id: catalog.branch.id,
        };
        doc.apply(&CatalogEdit::all_of(catalog))?;
        Ok(doc)
    }

    pub fn from_doc(doc: Doc) -> Result<CatalogDoc, DocError> {
        match doc.key() {
            DocKey::Catalog(branch_id) => Ok(CatalogDoc { doc, branch_id }),
            other => Err(DocError::WrongKind {
                doc: other.to_string(),
                expected: "catalog",
                found: other.kind().to_owned(),
            }),
        }
    }

    pub fn branch_id(&self) -> BranchId {
        self.branch_id
    }

    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    pub fn doc_mut(&mut self) -> &mut Doc {
        &mut self.doc
    }

    /// Apply edits as one change.
    pub fn apply(&mut self, edits: &[CatalogEdit]) -> Result<(), DocError> {
        let ids = [BRANCH, CLASSES, SESSIONS, SERVICES, ALLOTMENTS, STAFF]
            .map(|name| self.doc.collection(name));
        let [branch, classes, sessions, services, allotments, staff] = ids;
        let (branch, classes, sessions, services, allotments, staff) =
            (branch?, classes?, sessions?, services?, allotments?, staff?);
        let key = self.doc.key().to_string();
        self.doc.change(|tx| {
            let result = (|| {
                for edit in edits {
                    match edit {
                        CatalogEdit::Branch(b) => {
                            tx.put(&branch, "code", b.code.as_str())?;
                            tx.put(&branch, "name", b.name.as_str())?;
                            tx.put(&branch, "address", b.address.as_str())?;
                            tx.put(&branch, "opening_hours", b.opening_hours.as_str())?;
                            tx.put(&branch, "help", b.help.as_str())?;
                        }
                        CatalogEdit::Class(c) => {
                            let obj = entry(tx, &classes, &c.id.to_string())?;
                            tx.put(&obj, "title", c.title.as_str())?;
                            tx.put(&obj, "description", c.description.as_str())?;
                            tx.put(&obj, "instructor", c.instructor.as_str())?;
                            tx.put(&obj, "room", c.room.as_str())?;
                            tx.put(&obj, "capacity", u64::from(c.capacity))?;
                            tx.put(&obj, "waitlist_limit", u64::from(c.waitlist_limit))?;
                            tx.put(&obj, "age_group", c.age_group.as_str())?;
                            let schedule = serde_json::to_string(&c.schedule)
                                .unwrap_or_else(|_| "[]".to_owned());
                            tx.put(&obj, "schedule", schedule)?;
                            put_opt_str(tx, &obj, "opens", c.registration_opens.as_deref())?;
                            put_opt_str(tx, &obj, "closes", c.registration_closes.as_deref())?;
                        }
                        CatalogEdit::Session(s) => {
                            let obj = entry(tx, &sessions, &s.id.to_string())?;
                            tx.put(&obj, "class", s.class_id.to_string())?;
                            tx.put(&obj, "date", s.date.as_str())?;
                            tx.put(&obj, "start", s.start.as_str())?;
                            tx.put(&obj, "minutes", u64::from(s.minutes))?;
                            tx.put(&obj, "cancelled", s.cancelled)?;
                        }
                        CatalogEdit::RemoveSession(id) => {
                            if get_map(tx, &sessions, &id.to_string()).is_some() {
                                tx.delete(&sessions, id.to_string())?;
                            }
                        }
                        CatalogEdit::Service(s) => {
                            let obj = entry(tx, &services, &s.id.to_string())?;
                            tx.put(&obj, "name", s.name.as_str())?;
                            tx.put(&obj, "description", s.description.as_str())?;
                            tx.put(&obj, "requires_pesel", s.requires_pesel)?;
                            tx.put(&obj, "conditions", s.conditions.as_str())?;
                            tx.put(&obj, "legal_basis", s.legal_basis.as_str())?;
                        }
                        CatalogEdit::Staff(s) => {
                            let obj = entry(tx, &staff, &s.id.to_string())?;
                            tx.put(&obj, "name", s.name.as_str())?;
                            tx.put(&obj, "role", s.role.code())?;
                            tx.put(&obj, "pin_hash", s.pin_hash.as_str())?;
                        }
                        CatalogEdit::RemoveStaff(id) => {
                            if get_map(tx, &staff, &id.to_string()).is_some() {
                                tx.delete(&staff, id.to_string())?;
                            }
                        }
                        CatalogEdit::Allotment {
                            class_id,
                            kiosk_id,
                            seats,
                        } => {
                            tx.put(
                                &allotments,
                                format!("{class_id}/{kiosk_id}"),
                                u64::from(*seats),
                            )?;
                        }
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

    pub fn read(&self) -> Result<Catalog, DocError> {
        let am = &self.doc.am;
        let bad = |field: String| self.doc.malformed(field);
        let branch_obj = self.doc.collection(BRANCH)?;
        let branch_str = |name: &str| {
            get_str(am, &branch_obj, name).ok_or_else(|| bad(format!("branch/{name}")))
        };
        let branch = Branch {
            id: self.branch_id,
            code: branch_str("code")?,
            name: branch_str("name")?,
            address: branch_str("address")?,
            opening_hours: branch_str("opening_hours")?,
            // Catalogs written before the help text existed have none.
            help: get_str(am, &branch_obj, "help").unwrap_or_default(),
        };

        let mut classes = Vec::new();
        let classes_obj = self.doc.collection(CLASSES)?;
        for (id, obj) in entries(am, &classes_obj) {
            let f = |name: &str| bad(format!("classes/{id}/{name}"));
            let s = |name: &str| get_str(am, &obj, name).ok_or_else(|| f(name));
            let n = |name: &str| {
                get_u64(am, &obj, name)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| f(name))
            };
            classes.push(Class {
                id: id.parse().map_err(|_| f("id"))?,
                branch_id: self.branch_id,
                title: s("title")?,
                description: s("description")?,
                instructor: s("instructor")?,
                room: s("room")?,
                capacity: n("capacity")?,
                waitlist_limit: n("waitlist_limit")?,
                age_group: s("age_group")?,
                schedule: serde_json::from_str(&s("schedule")?).map_err(|_| f("schedule"))?,
                registration_opens: get_str(am, &obj, "opens"),
                registration_closes: get_str(am, &obj, "closes"),
            });
        }

        let mut sessions = Vec::new();
        let sessions_obj = self.doc.collection(SESSIONS)?;
        for (id, obj) in entries(am, &sessions_obj) {
            let f = |name: &str| bad(format!("sessions/{id}/{name}"));
            let s = |name: &str| get_str(am, &obj, name).ok_or_else(|| f(name));
            sessions.push(Session {
                id: id.parse().map_err(|_| f("id"))?,
                class_id: s("class")?.parse().map_err(|_| f("class"))?,
                date: s("date")?,
                start: s("start")?,
                minutes: get_u64(am, &obj, "minutes")
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| f("minutes"))?,
                cancelled: get_bool(am, &obj, "cancelled").unwrap_or(false),
            });
        }

        let mut services = Vec::new();
        let services_obj = self.doc.collection(SERVICES)?;
        for (id, obj) in entries(am, &services_obj) {
            let f = |name: &str| bad(format!("services/{id}/{name}"));
            let s = |name: &str| get_str(am, &obj, name).ok_or_else(|| f(name));
            services.push(Service {
                id: id.parse().map_err(|_| f("id"))?,
                name: s("name")?,
                description: s("description")?,
                requires_pesel: get_bool(am, &obj, "requires_pesel")
                    .ok_or_else(|| f("requires_pesel"))?,
                // Absent in catalogues written before services had them.
                conditions: get_str(am, &obj, "conditions").unwrap_or_default(),
                legal_basis: get_str(am, &obj, "legal_basis").unwrap_or_default(),
            });
        }

        let mut staff = Vec::new();
        let staff_obj = self.doc.collection(STAFF)?;
        for (id, obj) in entries(am, &staff_obj) {
            let f = |name: &str| bad(format!("staff/{id}/{name}"));
            let s = |name: &str| get_str(am, &obj, name).ok_or_else(|| f(name));
            staff.push(StaffUser {
                id: id.parse().map_err(|_| f("id"))?,
                name: s("name")?,
                role: StaffRole::from_code(&s("role")?).ok_or_else(|| f("role"))?,
                pin_hash: s("pin_hash")?,
            });
        }

        let mut allotments: BTreeMap<ClassId, BTreeMap<KioskId, u32>> = BTreeMap::new();
        let allot_obj = self.doc.collection(ALLOTMENTS)?;
        for key in am.keys(&allot_obj) {
            let f = || bad(format!("allotments/{key}"));
            let (class, kiosk) = key.split_once('/').ok_or_else(f)?;
            let seats = get_u64(am, &allot_obj, &key)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(f)?;
            allotments
                .entry(class.parse().map_err(|_| f())?)
                .or_default()
                .insert(kiosk.parse().map_err(|_| f())?, seats);
        }

        Ok(Catalog {
            branch,
            classes,
            sessions,
            services,
            allotments,
            staff,
        })
    }
}

/// The map at `key` inside `parent`, created if it does not exist yet.
fn entry(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    key: &str,
) -> Result<ObjId, automerge::AutomergeError> {
    match get_map(tx, parent, key) {
        Some(obj) => Ok(obj),
        None => tx.put_object(parent, key, ObjType::Map),
    }
}

/// (key, map id) for every map-valued entry of `obj`.
fn entries(am: &impl ReadDoc, obj: &ObjId) -> Vec<(String, ObjId)> {
    am.keys(obj)
        .filter_map(|key| get_map(am, obj, &key).map(|id| (key, id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn catalog_doc() -> (CatalogDoc, Session) {
        let catalog = demo::catalogs(jiff::civil::date(2026, 9, 1), 1, None).remove(0);
        let session = catalog.sessions[0].clone();
        (
            CatalogDoc::create(&catalog, KioskId::CENTRAL).unwrap(),
            session,
        )
    }

    #[test]
    fn a_session_is_cancelled_and_removed() {
        let (mut doc, session) = catalog_doc();
        let cancelled = Session {
            cancelled: true,
            ..session.clone()
        };
        doc.apply(&[CatalogEdit::Session(cancelled)]).unwrap();
        let read = doc.read().unwrap();
        let found = read.sessions.iter().find(|s| s.id == session.id).unwrap();
        assert!(found.cancelled);
        doc.apply(&[CatalogEdit::RemoveSession(session.id)])
            .unwrap();
        assert!(
            !doc.read()
                .unwrap()
                .sessions
                .iter()
                .any(|s| s.id == session.id)
        );
        // Removing it again changes nothing and is no error.
        doc.apply(&[CatalogEdit::RemoveSession(session.id)])
            .unwrap();
    }

    #[test]
    fn a_session_written_before_the_flag_reads_as_held() {
        let (mut doc, session) = catalog_doc();
        let sessions = doc.doc.collection(SESSIONS).unwrap();
        let obj = get_map(&doc.doc.am, &sessions, &session.id.to_string()).unwrap();
        doc.doc
            .change(|tx| {
                tx.delete(&obj, "cancelled")
                    .map_err(|e| DocError::Automerge {
                        doc: String::new(),
                        source: Box::new(e),
                    })
            })
            .unwrap();
        let read = doc.read().unwrap();
        let found = read.sessions.iter().find(|s| s.id == session.id).unwrap();
        assert!(!found.cancelled);
        // A JSON catalog without the field reads the same.
        let json = serde_json::json!({
            "id": session.id, "class_id": session.class_id, "date": "2026-09-01",
            "start": "10:00", "minutes": 60
        });
        let parsed: Session = serde_json::from_value(json).unwrap();
        assert!(!parsed.cancelled);
    }

    #[test]
    fn the_branch_help_text_travels_and_old_documents_read_without_it() {
        let (mut doc, _) = catalog_doc();
        let branch = doc.read().unwrap().branch;
        assert!(
            !branch.help.is_empty(),
            "the demo branches have their own help text"
        );
        let edited = Branch {
            help: "Proszę zadzwonić: 22 100 20 09.".to_owned(),
            ..branch.clone()
        };
        doc.apply(&[CatalogEdit::Branch(edited.clone())]).unwrap();
        assert_eq!(doc.read().unwrap().branch, edited);
        // A document written before the help text existed.
        let obj = doc.doc.collection(BRANCH).unwrap();
        doc.doc
            .change(|tx| {
                tx.delete(&obj, "help").map_err(|e| DocError::Automerge {
                    doc: String::new(),
                    source: Box::new(e),
                })
            })
            .unwrap();
        assert_eq!(doc.read().unwrap().branch.help, "");
        let json = serde_json::json!({
            "id": branch.id, "code": "MAL", "name": "Punkt", "address": "", "opening_hours": ""
        });
        let parsed: Branch = serde_json::from_value(json).unwrap();
        assert_eq!(parsed.help, "");
    }
}
