//! A person (resident). Layout: scalar fields at the root, `consents` maps a consent kind
//! to "<text version> <stamp>".

use automerge::ROOT;
use automerge::ReadDoc;
use automerge::transaction::Transactable;

use super::{Doc, DocError, DocKey, get_hlc, get_str, get_u64, put_opt_str};
use crate::ids::{KioskId, PersonId};
use crate::model::{Consent, ConsentKind, Person};

const CONSENTS: &str = "consents";
pub(super) const COLLECTIONS: &[&str] = &[CONSENTS];

#[derive(Debug, Clone)]
pub struct PersonDoc {
    doc: Doc,
    id: PersonId,
}

impl PersonDoc {
    pub fn create(person: &Person, kiosk: KioskId) -> Result<PersonDoc, DocError> {
        let mut doc = PersonDoc {
            doc: Doc::create(DocKey::Person(person.id), kiosk)?,
            id: person.id,
        };
        doc.write(person)?;
        Ok(doc)
    }

    pub fn from_doc(doc: Doc) -> Result<PersonDoc, DocError> {
        match doc.key() {
            DocKey::Person(id) => Ok(PersonDoc { doc, id }),
            other => Err(DocError::WrongKind {
                doc: other.to_string(),
                expected: "person",
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

    /// Write every field (as one change); unchanged values cost nothing to merge.
    pub fn write(&mut self, p: &Person) -> Result<(), DocError> {
        let consents = self.doc.collection(CONSENTS)?;
        let key = self.doc.key().to_string();
        self.doc.change(|tx| {
            let result = (|| {
                tx.put(ROOT, "given", p.given_name.as_str())?;
                tx.put(ROOT, "family", p.family_name.as_str())?;
                tx.put(ROOT, "birth_year", u64::from(p.birth_year))?;
                put_opt_str(tx, &ROOT, "phone", p.phone.as_deref())?;
                tx.put(ROOT, "resident_code", p.resident_code.as_str())?;
                tx.put(ROOT, "home_branch", p.home_branch.to_string())?;
                tx.put(ROOT, "created", p.created.to_string())?;
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

    pub fn read(&self) -> Result<Person, DocError> {
        let am = &self.doc.am;
        let f = |name: &str| self.doc.malformed(name);
        let s = |name: &str| get_str(am, &ROOT, name).ok_or_else(|| f(name));
        let consents_obj = self.doc.collection(CONSENTS)?;
        let mut consents = Vec::new();
        for kind in am.keys(&consents_obj) {
            let bad = || f(&format!("consents/{kind}"));
            let value = get_str(am, &consents_obj, &kind).ok_or_else(bad)?;
            let (version, at) = value.rsplit_once(' ').ok_or_else(bad)?;
            consents.push(Consent {
                kind: ConsentKind::from_code(&kind).ok_or_else(bad)?,
                text_version: version.to_owned(),
                at: at.parse().map_err(|_| bad())?,
            });
        }
        Ok(Person {
            id: self.id,
            given_name: s("given")?,
            family_name: s("family")?,
            birth_year: get_u64(am, &ROOT, "birth_year")
                .and_then(|y| u16::try_from(y).ok())
                .ok_or_else(|| f("birth_year"))?,
            phone: get_str(am, &ROOT, "phone"),
            resident_code: s("resident_code")?,
            home_branch: s("home_branch")?.parse().map_err(|_| f("home_branch"))?,
            consents,
            created: get_hlc(am, &ROOT, "created").ok_or_else(|| f("created"))?,
        })
    }
}
