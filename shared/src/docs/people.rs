//! The people (residents) one kiosk registered, up to [`PEOPLE_PER_DOC`] in one
//! document: many persons per document, so that a branch's residents travel as a few
//! compact documents instead of one small document each (every document costs its key,
//! heads and genesis on the wire, and a change in a small document compresses poorly).
//!
//! Layout: `persons` maps a person id to that person's fields; within it, `consents` maps
//! a consent kind to "<text version> <stamp>".
//! ```text
//! persons: { <person id>: { given, family, birth_year, phone?, resident_code, home_branch,
//!                           created, consents: { <kind>: "<version> <stamp>" } } }
//! ```
//! Only the kiosk that owns the document adds to it (and the office may edit it). A kiosk
//! fills its volumes in order (`people:<kiosk>/0`, `/1`, ...), starting the next one when
//! the current one holds `PEOPLE_PER_DOC` persons, so every document stays bounded and
//! quick to load.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc, ScalarValueRef, ValueRef};

use super::{Doc, DocError, DocKey, get_map, put_opt_str};
use crate::hlc::Hlc;
use crate::ids::{KioskId, PersonId};
use crate::model::{Consent, ConsentKind, Person};

const PERSONS: &str = "persons";
pub(super) const COLLECTIONS: &[&str] = &[PERSONS];

/// Persons a kiosk puts in one people document before it starts the next.
pub const PEOPLE_PER_DOC: usize = 1_000;

#[derive(Debug, Clone)]
pub struct PeopleDoc {
    doc: Doc,
    owner: KioskId,
    volume: u32,
}

impl PeopleDoc {
    /// An empty people document, volume `volume` of `owner`, written to by `writer`.
    pub fn create(owner: KioskId, volume: u32, writer: KioskId) -> Result<PeopleDoc, DocError> {
        Ok(PeopleDoc {
            doc: Doc::create(DocKey::People(owner, volume), writer)?,
            owner,
            volume,
        })
    }

    pub fn from_doc(doc: Doc) -> Result<PeopleDoc, DocError> {
        match doc.key() {
            DocKey::People(owner, volume) => Ok(PeopleDoc { doc, owner, volume }),
            other => Err(DocError::WrongKind {
                doc: other.to_string(),
                expected: "people",
                found: other.kind().to_owned(),
            }),
        }
    }

    /// The kiosk whose residents these are.
    pub fn owner(&self) -> KioskId {
        self.owner
    }

    /// Which of its owner's people documents this is (0, 1, ...).
    pub fn volume(&self) -> u32 {
        self.volume
    }

    /// Whether the owner should start its next volume instead of adding here.
    pub fn is_full(&self) -> Result<bool, DocError> {
        let persons = self.doc.collection(PERSONS)?;
        Ok(self.doc.am.length(&persons) >= PEOPLE_PER_DOC)
    }

    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    pub fn doc_mut(&mut self) -> &mut Doc {
        &mut self.doc
    }

    /// Add a person, or write every field of one already here (as one change).
    pub fn put(&mut self, p: &Person) -> Result<(), DocError> {
        let persons = self.doc.collection(PERSONS)?;
        let key = self.doc.key().to_string();
        let existing = get_map(&self.doc.am, &persons, &p.id.to_string());
        self.doc.change(|tx| {
            let result = (|| {
                let obj = match existing {
                    Some(obj) => obj,
                    None => tx.put_object(&persons, p.id.to_string(), ObjType::Map)?,
                };
                tx.put(&obj, "given", p.given_name.as_str())?;
                tx.put(&obj, "family", p.family_name.as_str())?;
                tx.put(&obj, "birth_year", u64::from(p.birth_year))?;
                put_opt_str(tx, &obj, "phone", p.phone.as_deref())?;
                tx.put(&obj, "resident_code", p.resident_code.as_str())?;
                tx.put(&obj, "home_branch", p.home_branch.to_string())?;
                tx.put(&obj, "created", p.created.to_string())?;
                let consents = match get_map(tx, &obj, "consents") {
                    Some(c) => c,
                    None => tx.put_object(&obj, "consents", ObjType::Map)?,
                };
                for c in &p.consents {
                    tx.put(
                        &consents,
                        c.kind.code(),
                        format!("{} {}", c.text_version, c.at),
                    )?;
                }
                Ok(())
            })();
            result.map_err(|source| DocError::Automerge {
                doc: key.clone(),
                source: Box::new(source),
            })
        })
    }

    /// One person, or `None` if not in this document.
    pub fn person(&self, id: PersonId) -> Result<Option<Person>, DocError> {
        let persons = self.doc.collection(PERSONS)?;
        match get_map(&self.doc.am, &persons, &id.to_string()) {
            Some(obj) => self.read_person(id, &obj).map(Some),
            None => Ok(None),
        }
    }

    /// Every person in the document, by id. One pass over the map and one over each
    /// person's fields: a kiosk reads whole documents of others' residents on every pull.
    pub fn persons(&self) -> Result<Vec<Person>, DocError> {
        let persons = self.doc.collection(PERSONS)?;
        let mut out = Vec::new();
        for item in self.doc.am.map_range(&persons, ..) {
            let key = item.key.as_ref();
            let bad = || self.doc.malformed(format!("persons/{key}"));
            let person_id: PersonId = key.parse().map_err(|_| bad())?;
            if !matches!(item.value, ValueRef::Object(ObjType::Map)) {
                return Err(bad());
            }
            out.push(self.read_person(person_id, &item.id())?);
        }
        Ok(out)
    }

    fn read_person(&self, id: PersonId, obj: &ObjId) -> Result<Person, DocError> {
        let am = &self.doc.am;
        let f = |name: &str| self.doc.malformed(format!("persons/{id}/{name}"));
        let mut given = None;
        let mut family = None;
        let mut birth_year = None;
        let mut phone = None;
        let mut resident_code = None;
        let mut home_branch = None;
        let mut created = None;
        let mut consents_obj = None;
        for item in am.map_range(obj, ..) {
            let text = match &item.value {
                ValueRef::Scalar(ScalarValueRef::Str(s)) => Some(s.as_ref()),
                _ => None,
            };
            match item.key.as_ref() {
                "given" => given = text.map(str::to_owned),
                "family" => family = text.map(str::to_owned),
                "phone" => phone = text.map(str::to_owned),
                "resident_code" => resident_code = text.map(str::to_owned),
                "home_branch" => home_branch = text.and_then(|t| t.parse().ok()),
                "created" => created = text.and_then(|t| t.parse::<Hlc>().ok()),
                "birth_year" => {
                    birth_year = match &item.value {
                        ValueRef::Scalar(ScalarValueRef::Uint(y)) => u16::try_from(*y).ok(),
                        ValueRef::Scalar(ScalarValueRef::Int(y)) => u16::try_from(*y).ok(),
                        _ => None,
                    }
                }
                "consents" if matches!(item.value, ValueRef::Object(ObjType::Map)) => {
                    consents_obj = Some(item.id());
                }
                _ => {}
            }
        }
        let consents_obj = consents_obj.ok_or_else(|| f("consents"))?;
        let mut consents = Vec::new();
        for item in am.map_range(&consents_obj, ..) {
            let kind = item.key.as_ref();
            let bad = || f(&format!("consents/{kind}"));
            let ValueRef::Scalar(ScalarValueRef::Str(value)) = &item.value else {
                return Err(bad());
            };
            let (version, at) = value.rsplit_once(' ').ok_or_else(bad)?;
            consents.push(Consent {
                kind: ConsentKind::from_code(kind).ok_or_else(bad)?,
                text_version: version.to_owned(),
                at: at.parse().map_err(|_| bad())?,
            });
        }
        Ok(Person {
            id,
            given_name: given.ok_or_else(|| f("given"))?,
            family_name: family.ok_or_else(|| f("family"))?,
            birth_year: birth_year.ok_or_else(|| f("birth_year"))?,
            phone,
            resident_code: resident_code.ok_or_else(|| f("resident_code"))?,
            home_branch: home_branch.ok_or_else(|| f("home_branch"))?,
            consents,
            created: created.ok_or_else(|| f("created"))?,
        })
    }
}
