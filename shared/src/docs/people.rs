//! The people (residents) one kiosk registered, up to [`PEOPLE_PER_DOC`] in one
//! document: many persons per document, so that a branch's residents travel as a few
//! compact documents instead of one small document each (every document costs its key,
//! heads and genesis on the wire, and a change in a small document compresses poorly).
//!
//! Layout: `persons` maps a person id to that person's fields; within it, `consents` maps
//! a consent kind to "<text version> <stamp>".
//! ```text
//! persons: { <person id>: { sealed?, erased?, resident_code, home_branch, created,
//!                           consents: { <kind>: "<version> <stamp>" } } }
//! ```
//! `sealed` holds the personal fields (given and family name, birth year, phone) as one
//! value sealed with the person's key (see [`crate::crypto`]); the key itself never enters
//! a document. Without the key they read as blank (see [`Person::is_sealed`]). `erased`
//! marks a person the office erased: their key is destroyed and `sealed` removed.
//! Only the kiosk that owns the document adds to it (and the office may edit it). A kiosk
//! fills its volumes in order (`people:<kiosk>/0`, `/1`, ...), starting the next one when
//! the current one holds `PEOPLE_PER_DOC` persons, so every document stays bounded and
//! quick to load.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, ScalarValueRef, ValueRef};

use super::{Doc, DocError, DocKey, get_map};
use crate::crypto::{self, PersonKey, Purpose};
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

    /// Add a person, or write every field of one already here (as one change); the
    /// personal fields sealed with `key`.
    pub fn put(&mut self, p: &Person, key: &PersonKey) -> Result<(), DocError> {
        let sealed = seal_personal(p, key);
        let persons = self.doc.collection(PERSONS)?;
        let key = self.doc.key().to_string();
        let existing = get_map(&self.doc.am, &persons, &p.id.to_string());
        self.doc.change(|tx| {
            let result = (|| {
                let obj = match existing {
                    Some(obj) => obj,
                    None => tx.put_object(&persons, p.id.to_string(), ObjType::Map)?,
                };
                tx.put(&obj, SEALED, ScalarValue::Bytes(sealed.clone()))?;
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

    /// Mark a person erased and drop their sealed fields (as one change). Older changes
    /// still hold the sealed value: destroying the key is what makes it unreadable.
    pub fn erase(&mut self, id: PersonId) -> Result<(), DocError> {
        let persons = self.doc.collection(PERSONS)?;
        let key = self.doc.key().to_string();
        let Some(obj) = get_map(&self.doc.am, &persons, &id.to_string()) else {
            return Err(self.doc.malformed(format!("persons/{id}")));
        };
        self.doc.change(|tx| {
            let result = (|| {
                if tx.get(&obj, SEALED)?.is_some() {
                    tx.delete(&obj, SEALED)?;
                }
                tx.put(&obj, ERASED, true)?;
                Ok(())
            })();
            result.map_err(|source| DocError::Automerge {
                doc: key.clone(),
                source: Box::new(source),
            })
        })
    }

    /// Remove one consent of a person (as one change): the resident withdrew it. Returns
    /// whether there was one to remove; a person not in this document, or without that
    /// consent, changes nothing. Other consents, and the person's fields, stay.
    pub fn withdraw_consent(&mut self, id: PersonId, kind: ConsentKind) -> Result<bool, DocError> {
        let persons = self.doc.collection(PERSONS)?;
        let key = self.doc.key().to_string();
        let Some(obj) = get_map(&self.doc.am, &persons, &id.to_string()) else {
            return Ok(false);
        };
        let Some(consents) = get_map(&self.doc.am, &obj, "consents") else {
            return Err(self.doc.malformed(format!("persons/{id}/consents")));
        };
        let automerge = |source| DocError::Automerge {
            doc: key.clone(),
            source: Box::new(source),
        };
        if self
            .doc
            .am
            .get(&consents, kind.code())
            .map_err(automerge)?
            .is_none()
        {
            return Ok(false);
        }
        self.doc
            .change(|tx| tx.delete(&consents, kind.code()).map_err(automerge))?;
        Ok(true)
    }

    /// One person, or `None` if not in this document; personal fields opened with `key`
    /// (blank without it).
    pub fn person(
        &self,
        id: PersonId,
        key: Option<&PersonKey>,
    ) -> Result<Option<Person>, DocError> {
        let persons = self.doc.collection(PERSONS)?;
        match get_map(&self.doc.am, &persons, &id.to_string()) {
            Some(obj) => self.read_person(id, &obj, key).map(|(p, _)| Some(p)),
            None => Ok(None),
        }
    }

    /// Whether a person is in this document (without reading their fields).
    pub fn contains(&self, id: PersonId) -> Result<bool, DocError> {
        let persons = self.doc.collection(PERSONS)?;
        Ok(get_map(&self.doc.am, &persons, &id.to_string()).is_some())
    }

    /// Every person in the document, by id, with personal fields blank (for what needs
    /// only ids, branches and codes).
    pub fn persons(&self) -> Result<Vec<Person>, DocError> {
        self.persons_with(|_| None)
    }

    /// Every person in the document, their personal fields opened with the key `keys`
    /// gives (blank for those it has none for).
    pub fn persons_with(
        &self,
        keys: impl Fn(PersonId) -> Option<PersonKey>,
    ) -> Result<Vec<Person>, DocError> {
        Ok(self.entries(keys)?.into_iter().map(|(p, _)| p).collect())
    }

    /// Every person, their personal fields opened with the key `keys` gives, and the ids
    /// of those the office erased: [`PeopleDoc::persons_with`] and [`PeopleDoc::erased`]
    /// in one pass over the document.
    pub fn persons_and_erased(
        &self,
        keys: impl Fn(PersonId) -> Option<PersonKey>,
    ) -> Result<(Vec<Person>, Vec<PersonId>), DocError> {
        let entries = self.entries(keys)?;
        let erased = entries
            .iter()
            .filter(|(_, erased)| *erased)
            .map(|(p, _)| p.id)
            .collect();
        Ok((entries.into_iter().map(|(p, _)| p).collect(), erased))
    }

    /// The persons the office erased.
    pub fn erased(&self) -> Result<Vec<PersonId>, DocError> {
        Ok(self
            .entries(|_| None)?
            .into_iter()
            .filter(|(_, erased)| *erased)
            .map(|(p, _)| p.id)
            .collect())
    }

    /// Every person with whether they were erased. One pass over the map and one over
    /// each person's fields: a kiosk reads whole documents of others' residents on every
    /// pull.
    fn entries(
        &self,
        keys: impl Fn(PersonId) -> Option<PersonKey>,
    ) -> Result<Vec<(Person, bool)>, DocError> {
        let persons = self.doc.collection(PERSONS)?;
        let mut out = Vec::new();
        for item in self.doc.am.map_range(&persons, ..) {
            let key = item.key.as_ref();
            let bad = || self.doc.malformed(format!("persons/{key}"));
            let person_id: PersonId = key.parse().map_err(|_| bad())?;
            if !matches!(item.value, ValueRef::Object(ObjType::Map)) {
                return Err(bad());
            }
            let key = keys(person_id);
            out.push(self.read_person(person_id, &item.id(), key.as_ref())?);
        }
        Ok(out)
    }

    fn read_person(
        &self,
        id: PersonId,
        obj: &ObjId,
        key: Option<&PersonKey>,
    ) -> Result<(Person, bool), DocError> {
        let am = &self.doc.am;
        let f = |name: &str| self.doc.malformed(format!("persons/{id}/{name}"));
        let mut sealed = None;
        let mut erased = false;
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
                SEALED => {
                    if let ValueRef::Scalar(ScalarValueRef::Bytes(b)) = &item.value {
                        sealed = Some(b.to_vec());
                    }
                }
                ERASED => {
                    erased = matches!(item.value, ValueRef::Scalar(ScalarValueRef::Boolean(true)))
                }
                "resident_code" => resident_code = text.map(str::to_owned),
                "home_branch" => home_branch = text.and_then(|t| t.parse().ok()),
                "created" => created = text.and_then(|t| t.parse::<Hlc>().ok()),
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
        let mut person = Person {
            id,
            given_name: String::new(),
            family_name: String::new(),
            birth_year: 0,
            phone: None,
            resident_code: resident_code.ok_or_else(|| f("resident_code"))?,
            home_branch: home_branch.ok_or_else(|| f("home_branch"))?,
            consents,
            created: created.ok_or_else(|| f("created"))?,
        };
        if let (Some(key), Some(sealed)) = (key, &sealed) {
            open_personal(&mut person, key, sealed).map_err(|_| f(SEALED))?;
        }
        Ok((person, erased))
    }
}

const SEALED: &str = "sealed";
const ERASED: &str = "erased";

/// The personal fields, as they are sealed: a CBOR tuple (given, family, birth year,
/// phone), compact and with room for nothing else.
type Personal<'a> = (&'a str, &'a str, u16, Option<&'a str>);

fn seal_personal(p: &Person, key: &PersonKey) -> Vec<u8> {
    let personal: Personal<'_> = (
        &p.given_name,
        &p.family_name,
        p.birth_year,
        p.phone.as_deref(),
    );
    let mut plain = Vec::new();
    ciborium::into_writer(&personal, &mut plain).expect("writing CBOR to memory cannot fail");
    crypto::seal(key, p.id, Purpose::Person, &plain)
}

fn open_personal(p: &mut Person, key: &PersonKey, sealed: &[u8]) -> Result<(), ()> {
    let plain = crypto::open(key, p.id, Purpose::Person, sealed).map_err(|_| ())?;
    let (given, family, birth_year, phone): (String, String, u16, Option<String>) =
        ciborium::from_reader(plain.as_slice()).map_err(|_| ())?;
    p.given_name = given;
    p.family_name = family;
    p.birth_year = birth_year;
    p.phone = phone;
    Ok(())
}
