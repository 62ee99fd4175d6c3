//! The CRDT documents: one automerge document per aggregate.
//!
//! This module is the only place in Blisko that touches automerge. Each document kind has
//! a small typed API; callers see domain types, bytes to store, and heads.
//!
//! Every document starts with a *deterministic genesis*: the same first change (same actor,
//! same content, time 0) on every machine, so two replicas that create "the roster of class
//! X" independently while offline share its root objects and merge cleanly instead of
//! shadowing each other's maps.

mod catalog;
mod intake;
mod people;
mod roster;
pub mod untrusted;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex, PoisonError};

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, Value};
use serde::{Deserialize, Serialize};

pub use automerge::{ActorId, ChangeHash};
pub use catalog::{CatalogDoc, CatalogEdit};
pub use intake::IntakeDoc;
pub use people::{PEOPLE_PER_DOC, PeopleDoc};
pub use roster::{RosterDoc, RosterEdit};

use crate::ids::{BranchId, ClassId, KioskId, RequestId};

/// Version of the document layout; written at genesis.
pub const SCHEMA_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("document {doc}: {source}")]
    Automerge {
        doc: String,
        #[source]
        source: Box<automerge::AutomergeError>,
    },
    #[error("document {doc}: field {field:?} is missing or has the wrong type")]
    Malformed { doc: String, field: String },
    #[error("document {doc}: the changes received cannot be decoded ({reason})")]
    Undecodable { doc: String, reason: String },
    #[error("document {doc} is a {found:?} document, expected {expected:?}")]
    WrongKind {
        doc: String,
        expected: &'static str,
        found: String,
    },
    #[error("document {doc}: a change was written by {actor}, who may not write it")]
    ForbiddenWriter { doc: String, actor: String },
    #[error("document {doc}: the changes do not lead to the heads they claim")]
    HeadsMismatch { doc: String },
    #[error("document {doc} is incomplete: {missing} change(s) it depends on are missing")]
    Incomplete { doc: String, missing: usize },
    #[error("document {doc}: {what} {id} does not exist")]
    NotFound {
        doc: String,
        what: &'static str,
        id: String,
    },
}

/// Which document: the kind and the aggregate's id. Its text form is the document id
/// used in storage and in sync ("roster:<class id>").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocKey {
    Catalog(BranchId),
    Roster(ClassId),
    /// Residents one kiosk registered: its volume 0, 1, ... (see [`PeopleDoc`]).
    People(KioskId, u32),
    Intake(RequestId),
}

impl DocKey {
    pub fn kind(&self) -> &'static str {
        match self {
            DocKey::Catalog(_) => "catalog",
            DocKey::Roster(_) => "roster",
            DocKey::People(..) => "people",
            DocKey::Intake(_) => "intake",
        }
    }

    fn id_string(&self) -> String {
        match self {
            DocKey::Catalog(id) => id.to_string(),
            DocKey::Roster(id) => id.to_string(),
            DocKey::People(kiosk, volume) => format!("{kiosk}/{volume}"),
            DocKey::Intake(id) => id.to_string(),
        }
    }
}

impl fmt::Display for DocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid document id: {0:?}")]
pub struct ParseDocKeyError(String);

impl FromStr for DocKey {
    type Err = ParseDocKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseDocKeyError(s.chars().take(80).collect());
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        Ok(match kind {
            "catalog" => DocKey::Catalog(id.parse().map_err(|_| bad())?),
            "roster" => DocKey::Roster(id.parse().map_err(|_| bad())?),
            "people" => {
                let (kiosk, volume) = id.split_once('/').ok_or_else(bad)?;
                // Canonical digits only, so that one document has one name.
                if volume.is_empty()
                    || !volume.bytes().all(|b| b.is_ascii_digit())
                    || (volume.len() > 1 && volume.starts_with('0'))
                {
                    return Err(bad());
                }
                DocKey::People(
                    kiosk.parse().map_err(|_| bad())?,
                    volume.parse().map_err(|_| bad())?,
                )
            }
            "intake" => DocKey::Intake(id.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        })
    }
}

impl Serialize for DocKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The maps every document of a kind starts with (part of the deterministic genesis).
fn genesis_collections(key: DocKey) -> &'static [&'static str] {
    match key {
        DocKey::Catalog(_) => catalog::COLLECTIONS,
        DocKey::Roster(_) => roster::COLLECTIONS,
        DocKey::People(..) => people::COLLECTIONS,
        DocKey::Intake(_) => intake::COLLECTIONS,
    }
}

/// Genesis hashes worked out already, by document: working one out builds a document,
/// and every document a sync takes in has its genesis checked. Emptied when full.
static GENESIS_HASHES: LazyLock<Mutex<HashMap<DocKey, ChangeHash>>> = LazyLock::new(Mutex::default);

/// How many genesis hashes [`GENESIS_HASHES`] keeps (about 100 bytes each).
const GENESIS_HASHES_KEPT: usize = 8192;

/// The hash of a document's genesis change: the same on every machine.
pub fn genesis_hash(key: DocKey) -> Result<ChangeHash, DocError> {
    let cache = || {
        GENESIS_HASHES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    };
    if let Some(hash) = cache().get(&key).copied() {
        return Ok(hash);
    }
    let doc = Doc::create(key, KioskId::CENTRAL)?;
    let hash = doc
        .heads()
        .first()
        .copied()
        .ok_or_else(|| doc.malformed("genesis"))?;
    let mut cache = cache();
    if cache.len() >= GENESIS_HASHES_KEPT {
        cache.clear();
    }
    cache.insert(key, hash);
    Ok(hash)
}

/// The automerge actor of a kiosk (one per kiosk, for every document it writes).
pub fn actor_for(kiosk: KioskId) -> ActorId {
    ActorId::from(kiosk.0.as_bytes().as_slice())
}

/// An automerge document plus the heads already written to storage, so that each local
/// change can be stored as a small incremental chunk.
#[derive(Debug, Clone)]
pub struct Doc {
    key: DocKey,
    am: Automerge,
    saved_heads: Vec<ChangeHash>,
}

impl Doc {
    /// A new document with its deterministic genesis, then written to by `kiosk`.
    pub(crate) fn create(key: DocKey, kiosk: KioskId) -> Result<Doc, DocError> {
        let collections = genesis_collections(key);
        let genesis_actor = ActorId::from(
            crate::ids::derived_uuid(&format!("genesis/{key}"))
                .as_bytes()
                .as_slice(),
        );
        let mut am = Automerge::new().with_actor(genesis_actor);
        let mut tx = am.transaction();
        let result = (|| {
            tx.put(ROOT, "kind", key.kind())?;
            tx.put(ROOT, "id", key.id_string())?;
            tx.put(ROOT, "schema", SCHEMA_VERSION)?;
            for name in collections {
                tx.put_object(ROOT, *name, ObjType::Map)?;
            }
            Ok(())
        })();
        result.map_err(|source| DocError::Automerge {
            doc: key.to_string(),
            source: Box::new(source),
        })?;
        tx.commit_with(CommitOptions::default().with_time(0));
        am.set_actor(actor_for(kiosk));
        Ok(Doc {
            key,
            am,
            saved_heads: Vec::new(),
        })
    }

    /// Load a document from a full save followed by any incremental chunks.
    pub fn load<'a>(
        key: DocKey,
        kiosk: KioskId,
        snapshot: &[u8],
        chunks: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Doc, DocError> {
        let err = |source| DocError::Automerge {
            doc: key.to_string(),
            source: Box::new(source),
        };
        // One strict load of everything: `load_incremental` skips a chunk it cannot parse
        // (a torn write) without an error, which would silently lose stored changes.
        let mut bytes = snapshot.to_vec();
        for chunk in chunks {
            bytes.extend_from_slice(chunk);
        }
        let mut am = Automerge::load(&bytes).map_err(err)?;
        // A lost chunk leaves later changes queued without their dependencies; automerge
        // hides them quietly, so refuse such a document instead of showing an old state.
        let missing = am.get_missing_deps(&[]);
        if !missing.is_empty() {
            return Err(DocError::Incomplete {
                doc: key.to_string(),
                missing: missing.len(),
            });
        }
        am.set_actor(actor_for(kiosk));
        let doc = Doc {
            key,
            saved_heads: am.get_heads(),
            am,
        };
        doc.check_identity()?;
        Ok(doc)
    }

    pub fn key(&self) -> DocKey {
        self.key
    }

    pub fn heads(&self) -> Vec<ChangeHash> {
        self.am.get_heads()
    }

    /// The whole document in compact form; everything so far counts as saved.
    pub fn save(&mut self) -> Vec<u8> {
        self.saved_heads = self.am.get_heads();
        self.am.save()
    }

    /// Count everything in this replica as saved, for a caller that stores bytes holding
    /// all of it by other means (those it was built from with [`Doc::from_remote`]).
    pub fn mark_saved(&mut self) {
        self.saved_heads = self.am.get_heads();
    }

    /// The changes made since the last save or incremental chunk, or `None` if nothing
    /// changed. Store them before acknowledging anything to a person.
    pub fn take_unsaved(&mut self) -> Option<Vec<u8>> {
        let heads = self.am.get_heads();
        if heads == self.saved_heads {
            return None;
        }
        let bytes = self.am.save_after(&self.saved_heads);
        self.saved_heads = heads;
        Some(bytes)
    }

    /// Merge everything another replica of the same document holds.
    pub fn merge(&mut self, other: &mut Doc) -> Result<(), DocError> {
        self.am
            .merge(&mut other.am)
            .map_err(|source| DocError::Automerge {
                doc: self.key.to_string(),
                source: Box::new(source),
            })?;
        Ok(())
    }

    /// A copy of this replica as it was at `heads` (for tests of partial syncs).
    pub fn fork_at(&self, heads: &[ChangeHash], kiosk: KioskId) -> Result<Doc, DocError> {
        let mut am = self
            .am
            .fork_at(heads)
            .map_err(|source| DocError::Automerge {
                doc: self.key.to_string(),
                source: Box::new(source),
            })?;
        am.set_actor(actor_for(kiosk));
        Ok(Doc {
            key: self.key,
            am,
            saved_heads: Vec::new(),
        })
    }

    /// A full copy of this replica that writes as another kiosk.
    pub fn fork_as(&self, kiosk: KioskId) -> Doc {
        let mut am = self.am.fork();
        am.set_actor(actor_for(kiosk));
        Doc {
            key: self.key,
            am,
            saved_heads: Vec::new(),
        }
    }

    /// The automerge changes the holder of `have` is missing, as one automerge bundle:
    /// the document format's columnar encoding (dependencies as indices, actors once),
    /// far smaller than the same changes one by one. Empty when nothing is missing.
    /// Readers take it with [`Doc::apply_remote`] and [`Doc::from_remote`].
    pub fn changes_since(&self, have: &[ChangeHash]) -> Result<Vec<u8>, DocError> {
        // Metadata only: building whole changes would re-encode every one.
        let hashes: Vec<ChangeHash> = self
            .am
            .get_changes_meta(have)
            .iter()
            .map(|c| c.hash)
            .collect();
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let bundle = self
            .am
            .bundle(hashes)
            .map_err(|source| DocError::Automerge {
                doc: self.key.to_string(),
                source: Box::new(source),
            })?;
        Ok(bundle.bytes().to_vec())
    }

    /// True when `actor` wrote any change of this document (its genesis aside).
    pub fn written_by(&self, actor: &ActorId) -> bool {
        let genesis = genesis_hash(self.key).ok();
        self.am
            .get_changes_meta(&[])
            .iter()
            .any(|c| *c.actor == *actor && Some(c.hash) != genesis)
    }

    /// True when every one of `heads` is in this replica's history.
    pub fn has_all(&self, heads: &[ChangeHash]) -> bool {
        heads
            .iter()
            .all(|h| self.am.get_change_by_hash(h).is_some())
    }

    /// True when every change in `changes` is in the history of `within`: a replica at
    /// `within` has seen them. False when either names a change this replica lacks.
    pub fn history_includes(&self, within: &[ChangeHash], changes: &[ChangeHash]) -> bool {
        if !self.has_all(within) || !self.has_all(changes) {
            return false;
        }
        let after: std::collections::HashSet<ChangeHash> = self
            .am
            .get_changes_meta(within)
            .iter()
            .map(|c| c.hash)
            .collect();
        changes.iter().all(|h| !after.contains(h))
    }

    /// Apply changes received from elsewhere. `expected_heads` are the sender's heads after
    /// these changes; they must all be present afterwards, and nothing may be left waiting
    /// for a missing dependency. `may_write` decides, per actor, who may have written the
    /// new changes (the document's genesis is always allowed), except for those in the
    /// history of `sealed`: heads the server vouched for once (see
    /// [`crate::sync::Seal`]), which must all be held afterwards. Returns the number of
    /// new changes. On error the replica may hold part of the changes: drop it and reload.
    ///
    /// Bytes from a party that is not trusted must pass [`untrusted::check_changes`]
    /// first: automerge can be made to allocate without bound, which no error can catch.
    pub fn apply_remote(
        &mut self,
        changes: &[u8],
        expected_heads: &[ChangeHash],
        sealed: &[ChangeHash],
        may_write: impl Fn(&ActorId) -> bool,
    ) -> Result<usize, DocError> {
        let before = self.am.get_heads();
        // automerge 0.12 panics on some malformed change bytes (an `unwrap` in its column
        // decoder, found by fuzzing) instead of returning an error. These bytes come from
        // the network, so the panic is turned into a refusal; the replica is dropped on
        // error anyway, so whatever state the panic left it in is never used.
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.am.load_incremental(changes)
        }))
        .map_err(|_| DocError::Undecodable {
            doc: self.key.to_string(),
            reason: "automerge could not parse them".into(),
        })?;
        loaded.map_err(|source| DocError::Automerge {
            doc: self.key.to_string(),
            source: Box::new(source),
        })?;
        if !self.am.get_missing_deps(&[]).is_empty()
            || !self.has_all(expected_heads)
            || !self.has_all(sealed)
        {
            return Err(DocError::HeadsMismatch {
                doc: self.key.to_string(),
            });
        }
        let genesis = genesis_hash(self.key)?;
        let new = self.am.get_changes_meta(&before);
        // The changes the seal does not reach, worked out only if some change needs it.
        let mut unsealed: Option<HashSet<ChangeHash>> = None;
        for change in &new {
            if change.hash == genesis || may_write(&change.actor) {
                continue;
            }
            let unsealed = unsealed.get_or_insert_with(|| match sealed {
                [] => new.iter().map(|c| c.hash).collect(),
                _ => self
                    .am
                    .get_changes_meta(sealed)
                    .iter()
                    .map(|c| c.hash)
                    .collect(),
            });
            if unsealed.contains(&change.hash) {
                return Err(DocError::ForbiddenWriter {
                    doc: self.key.to_string(),
                    actor: change.actor.to_hex_string(),
                });
            }
        }
        self.check_identity()?;
        Ok(new.len())
    }

    /// A replica built only from received changes (the receiver had nothing).
    pub fn from_remote(
        key: DocKey,
        kiosk: KioskId,
        changes: &[u8],
        expected_heads: &[ChangeHash],
        sealed: &[ChangeHash],
        may_write: impl Fn(&ActorId) -> bool,
    ) -> Result<Doc, DocError> {
        let mut doc = Doc {
            key,
            am: Automerge::new().with_actor(actor_for(kiosk)),
            saved_heads: Vec::new(),
        };
        doc.apply_remote(changes, expected_heads, sealed, may_write)?;
        Ok(doc)
    }

    /// The root says what the key says: the right kind, the right id.
    fn check_identity(&self) -> Result<(), DocError> {
        let found = self.root_str("kind")?;
        if found != self.key.kind() {
            return Err(DocError::WrongKind {
                doc: self.key.to_string(),
                expected: self.key.kind(),
                found,
            });
        }
        if self.root_str("id")? != self.key.id_string() {
            return Err(self.malformed("id"));
        }
        Ok(())
    }

    /// Number of changes in the history.
    pub fn change_count(&self) -> usize {
        self.am.get_changes_meta(&[]).len()
    }

    /// Run one user action as one automerge change.
    fn change<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, DocError>,
    ) -> Result<T, DocError> {
        let mut tx = self.am.transaction();
        match f(&mut tx) {
            Ok(value) => {
                tx.commit_with(CommitOptions::default().with_time(0));
                Ok(value)
            }
            Err(e) => {
                tx.rollback();
                Err(e)
            }
        }
    }

    fn malformed(&self, field: impl Into<String>) -> DocError {
        DocError::Malformed {
            doc: self.key.to_string(),
            field: field.into(),
        }
    }

    fn root_str(&self, field: &str) -> Result<String, DocError> {
        get_str(&self.am, &ROOT, field).ok_or_else(|| self.malformed(field))
    }

    /// The id of a map at the root, created at genesis.
    fn collection(&self, name: &str) -> Result<ObjId, DocError> {
        get_map(&self.am, &ROOT, name).ok_or_else(|| self.malformed(name))
    }
}

// Small readers over any automerge view (a document or an open transaction).

fn get_str(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        _ => None,
    }
}

fn get_u64(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<u64> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_u64(),
        _ => None,
    }
}

fn get_bool(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<bool> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_bool(),
        _ => None,
    }
}

fn get_map(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

/// Every value a key holds: more than one when replicas wrote it concurrently.
fn get_all_str(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Vec<String> {
    doc.get_all(obj, key)
        .map(|values| {
            values
                .into_iter()
                .filter_map(|(v, _)| match v {
                    Value::Scalar(s) => s.as_str().map(str::to_owned),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Put an optional string: absent values are deleted so that readers see `None`.
fn put_opt_str(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    value: Option<&str>,
) -> Result<(), automerge::AutomergeError> {
    match value {
        Some(v) => tx.put(obj, key, v),
        None => {
            if tx.get(obj, key)?.is_some() {
                tx.delete(obj, key)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_keys_round_trip_through_text() {
        for key in [
            DocKey::Catalog(BranchId::new()),
            DocKey::Roster(ClassId::new()),
            DocKey::People(KioskId::new(), 0),
            DocKey::Intake(RequestId::new()),
        ] {
            assert_eq!(key.to_string().parse::<DocKey>(), Ok(key));
        }
        assert!("roster:xyz".parse::<DocKey>().is_err());
        let kiosk = KioskId::new();
        assert_eq!(
            format!("people:{kiosk}/12").parse::<DocKey>(),
            Ok(DocKey::People(kiosk, 12))
        );
        for bad in ["", "/", "/012", "/-1", "/+1", "/1x", "/99999999999"] {
            assert!(
                format!("people:{kiosk}{bad}").parse::<DocKey>().is_err(),
                "{bad}"
            );
        }
        assert!(
            "planet:00000000-0000-0000-0000-000000000000"
                .parse::<DocKey>()
                .is_err()
        );
    }

    #[test]
    fn a_remembered_genesis_hash_is_the_one_worked_out_for_that_document() {
        let keys = [
            DocKey::Catalog(BranchId::new()),
            DocKey::Roster(ClassId::new()),
            DocKey::Roster(ClassId::new()),
            DocKey::People(KioskId::new(), 3),
        ];
        let fresh = |key: DocKey| Doc::create(key, KioskId::CENTRAL).unwrap().heads()[0];
        // Asked twice over, interleaved: the second answers come from memory.
        for _ in 0..2 {
            for key in keys {
                assert_eq!(genesis_hash(key).unwrap(), fresh(key), "{key}");
            }
        }
        assert_ne!(
            genesis_hash(keys[1]).unwrap(),
            genesis_hash(keys[2]).unwrap()
        );
    }

    #[test]
    fn independent_genesis_is_identical() {
        let key = DocKey::Roster(ClassId::new());
        let a = Doc::create(key, KioskId::new()).unwrap();
        let b = Doc::create(key, KioskId::new()).unwrap();
        assert_eq!(a.heads(), b.heads());
    }

    #[test]
    fn unsaved_changes_come_out_once() {
        let key = DocKey::Roster(ClassId::new());
        let kiosk = KioskId::new();
        let mut doc = Doc::create(key, kiosk).unwrap();
        let snapshot = doc.save();
        assert!(doc.take_unsaved().is_none());
        doc.change(|tx| {
            tx.put(ROOT, "note", "x").map_err(|e| DocError::Automerge {
                doc: String::new(),
                source: Box::new(e),
            })
        })
        .unwrap();
        let chunk = doc.take_unsaved().expect("one change");
        assert!(doc.take_unsaved().is_none());
        let loaded = Doc::load(key, kiosk, &snapshot, [chunk.as_slice()]).unwrap();
        assert_eq!(loaded.heads(), doc.heads());
    }

    #[test]
    fn loading_the_wrong_kind_is_refused() {
        let kiosk = KioskId::new();
        let mut doc = Doc::create(DocKey::People(KioskId::new(), 0), kiosk).unwrap();
        let bytes = doc.save();
        let err = Doc::load(DocKey::Roster(ClassId::new()), kiosk, &bytes, []).unwrap_err();
        assert!(matches!(err, DocError::WrongKind { .. }), "{err}");
    }

    #[test]
    fn garbage_bytes_are_an_error_not_a_panic() {
        let err = Doc::load(
            DocKey::People(KioskId::new(), 0),
            KioskId::new(),
            b"nonsense",
            [],
        );
        assert!(err.is_err());
    }
}

#[cfg(test)]
mod remote_tests {
    use super::*;
    use crate::ids::ClassId;

    fn written_roster() -> (Doc, KioskId) {
        let kiosk = KioskId::new();
        let mut doc = Doc::create(DocKey::Roster(ClassId::new()), kiosk).unwrap();
        doc.change(|tx| {
            tx.put(ROOT, "note", "x").map_err(|e| DocError::Automerge {
                doc: String::new(),
                source: Box::new(e),
            })
        })
        .unwrap();
        (doc, kiosk)
    }

    #[test]
    fn remote_changes_from_an_allowed_writer_apply() {
        let (doc, kiosk) = written_roster();
        let received = Doc::from_remote(
            doc.key(),
            KioskId::CENTRAL,
            &doc.changes_since(&[]).unwrap(),
            &doc.heads(),
            &[],
            |a| *a == actor_for(kiosk),
        )
        .unwrap();
        assert_eq!(received.heads(), doc.heads());
    }

    #[test]
    fn many_changes_travel_as_one_compact_bundle() {
        let (mut doc, kiosk) = written_roster();
        let base = doc.heads();
        for i in 0..100 {
            doc.change(|tx| {
                tx.put(ROOT, format!("note-{i}"), "x")
                    .map_err(|e| DocError::Automerge {
                        doc: String::new(),
                        source: Box::new(e),
                    })
            })
            .unwrap();
        }
        let bundle = doc.changes_since(&base).unwrap();
        let one_by_one = doc.am.save_after(&base);
        // Each change alone repeats its actor and its 32-byte dependency hash.
        assert!(
            bundle.len() * 3 < one_by_one.len(),
            "{} vs {}",
            bundle.len(),
            one_by_one.len()
        );
        let mut received = doc.fork_at(&base, KioskId::CENTRAL).unwrap();
        assert_eq!(
            received
                .apply_remote(&bundle, &doc.heads(), &[], |a| *a == actor_for(kiosk))
                .unwrap(),
            100
        );
        assert_eq!(received.heads(), doc.heads());
        assert!(doc.changes_since(&doc.heads()).unwrap().is_empty());
    }

    #[test]
    fn remote_changes_from_anyone_else_are_refused() {
        let (doc, _) = written_roster();
        let other = actor_for(KioskId::new());
        let err = Doc::from_remote(
            doc.key(),
            KioskId::CENTRAL,
            &doc.changes_since(&[]).unwrap(),
            &doc.heads(),
            &[],
            |a| *a == other,
        )
        .unwrap_err();
        assert!(matches!(err, DocError::ForbiddenWriter { .. }), "{err}");
    }

    /// Kiosk `first` wrote, then kiosk `second` wrote on top: a receiver that lets only
    /// `second` write takes `first`'s changes only when sealed heads reach them.
    #[test]
    fn sealed_changes_are_taken_whoever_wrote_them() {
        let (mut doc, _first) = written_roster();
        let sealed = doc.heads();
        let second = KioskId::new();
        let mut theirs = doc.fork_at(&sealed, second).unwrap();
        theirs
            .change(|tx| {
                tx.put(ROOT, "second", "y")
                    .map_err(|e| DocError::Automerge {
                        doc: String::new(),
                        source: Box::new(e),
                    })
            })
            .unwrap();
        let everything = theirs.changes_since(&[]).unwrap();
        let receive = |sealed: &[ChangeHash]| {
            Doc::from_remote(
                theirs.key(),
                KioskId::CENTRAL,
                &everything,
                &theirs.heads(),
                sealed,
                |a| *a == actor_for(second),
            )
        };
        assert_eq!(receive(&sealed).unwrap().heads(), theirs.heads());
        let unsealed = receive(&[]).unwrap_err();
        assert!(
            matches!(unsealed, DocError::ForbiddenWriter { .. }),
            "{unsealed}"
        );
        // A seal on the genesis alone does not reach `first`'s change.
        let genesis = [genesis_hash(doc.key()).unwrap()];
        let short = receive(&genesis).unwrap_err();
        assert!(matches!(short, DocError::ForbiddenWriter { .. }), "{short}");
        // A change `first` made after the sealed heads is not covered.
        doc.change(|tx| {
            tx.put(ROOT, "late", "z").map_err(|e| DocError::Automerge {
                doc: String::new(),
                source: Box::new(e),
            })
        })
        .unwrap();
        let late = Doc::from_remote(
            doc.key(),
            KioskId::CENTRAL,
            &doc.changes_since(&[]).unwrap(),
            &doc.heads(),
            &sealed,
            |a| *a == actor_for(second),
        )
        .unwrap_err();
        assert!(matches!(late, DocError::ForbiddenWriter { .. }), "{late}");
        // Sealed heads the sender does not deliver are refused.
        let mut unknown = sealed.clone();
        unknown.push(ChangeHash([9; 32]));
        let missing = receive(&unknown).unwrap_err();
        assert!(
            matches!(missing, DocError::HeadsMismatch { .. }),
            "{missing}"
        );
    }

    #[test]
    fn claimed_heads_that_do_not_arrive_are_refused() {
        let (doc, kiosk) = written_roster();
        let bytes = doc.changes_since(&[]).unwrap();
        // Drop the last change: the claimed heads can no longer be reached.
        let genesis_only = Doc::create(doc.key(), kiosk)
            .unwrap()
            .changes_since(&[])
            .unwrap();
        let err = Doc::from_remote(
            doc.key(),
            KioskId::CENTRAL,
            &genesis_only,
            &doc.heads(),
            &[],
            |_| true,
        )
        .unwrap_err();
        assert!(matches!(err, DocError::HeadsMismatch { .. }), "{err}");
        assert!(bytes.len() > genesis_only.len());
    }
}
