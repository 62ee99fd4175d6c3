//! The sync protocol's messages, shared by the kiosk (client) and the server, so both
//! sides agree on every field. The wire format is described in docs/sync-protocol.md:
//! CBOR bodies compressed with zstd, over HTTP.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use crate::crypto::{KEY_BYTES, PersonKey};
use crate::docs::{ChangeHash, DocKey};
use crate::hlc::Hlc;
use crate::ids::{BranchId, KioskId, PersonId, RegistrationId};

/// Bumped on any incompatible change; an old kiosk is told to update instead of being fed
/// data it cannot read. 3: personal fields sealed with per-person keys, which travel
/// beside the changes (`keys`, `key_cursor`, `erased`).
pub const PROTOCOL_VERSION: u32 = 3;
/// Request header carrying the protocol version.
pub const PROTOCOL_HEADER: &str = "blisko-protocol";
/// Request header naming the kiosk's branch point, for a load balancer in front of
/// several server processes to send each branch point's kiosks to one of them (rounds
/// of one branch point written by two processes wait for each other). The server
/// itself goes by the credential and never reads it.
pub const BRANCH_HEADER: &str = "blisko-branch";
pub const CONTENT_TYPE: &str = "application/vnd.blisko.sync+cbor";

/// Largest compressed body either side sends or accepts.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Largest body after decompression (guards against decompression bombs).
pub const MAX_DECOMPRESSED_BYTES: usize = 32 * 1024 * 1024;
/// Most documents in one push or pull.
pub const MAX_DOCS_PER_REQUEST: usize = 2_000;
/// The server stops adding documents to a response past this many bytes of changes.
pub const RESPONSE_BUDGET_BYTES: usize = 4 * 1024 * 1024;
/// Most changed documents listed in one response; the rest come with `more`.
pub const MAX_CHANGED_PER_RESPONSE: usize = 5_000;
/// Most person keys (or erased ids) in one request or response; the rest come with `more`.
pub const MAX_KEYS_PER_MESSAGE: usize = 20_000;
/// Most keys a kiosk may ask for by person in one request (`want_keys`).
pub const MAX_WANTED_KEYS: usize = 100;
/// Most SMS consent withdrawals in one request (`sms_withdrawals`); the rest go in the
/// next round.
pub const MAX_SMS_WITHDRAWALS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    pub app_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub kiosk_id: KioskId,
    pub branch_id: BranchId,
    pub branch_code: String,
    pub kiosk_number: u32,
    /// The kiosk's credential: 256 random bits, hex. Shown once; the server keeps a hash.
    pub token: String,
}

/// A change hash on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Head(#[serde(with = "serde_bytes_array")] pub [u8; 32]);

impl From<ChangeHash> for Head {
    fn from(h: ChangeHash) -> Self {
        Head(h.0)
    }
}

impl From<Head> for ChangeHash {
    fn from(h: Head) -> Self {
        ChangeHash(h.0)
    }
}

pub fn to_heads(hashes: &[ChangeHash]) -> Vec<Head> {
    hashes.iter().copied().map(Head::from).collect()
}

pub fn from_heads(heads: &[Head]) -> Vec<ChangeHash> {
    heads.iter().copied().map(ChangeHash::from).collect()
}

/// Automerge changes of one document, and the heads the receiver must hold after applying
/// them (so a change lost or mangled in transit is detected, not silently skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    pub doc: DocKey,
    #[serde(with = "serde_bytes_vec")]
    pub changes: Vec<u8>,
    pub heads: Vec<Head>,
    /// From the server: its seal on `heads`. From a kiosk: the latest seal it was given
    /// for this document, so that a server restored from a backup takes back the changes
    /// it once held, whoever wrote them (see [`Seal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<Seal>,
}

/// The server's word that it held a document at `heads`: a MAC over the document's key
/// and those heads, made with a key only the server has (kept in its store, so in its
/// backups). A kiosk keeps the latest seal it was given for each document and sends it
/// with that document. Change hashes chain, so the seal vouches for every change the
/// heads reach: a server restored from a backup takes those back whoever wrote them (the
/// office, the seat pool, other kiosks), where otherwise a kiosk may send only its own.
/// See docs/sync-protocol.md, "A restored server".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    pub heads: Vec<Head>,
    #[serde(with = "serde_bytes_array")]
    pub mac: [u8; 32],
}

/// A document the kiosk wants, with the heads it already has (empty: it has nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocHave {
    pub doc: DocKey,
    pub have: Vec<Head>,
}

/// A document that changed on the server, with its current heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocHeads {
    pub doc: DocKey,
    pub heads: Vec<Head>,
}

/// One sync round. An idle sync is one of these with empty `push` and `pull`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The position in the server's change feed up to which this kiosk is complete.
    pub cursor: u64,
    /// Local changes the server has not acknowledged yet.
    pub push: Vec<DocChanges>,
    /// Documents whose missing changes the kiosk wants.
    pub pull: Vec<DocHave>,
    pub app_version: String,
    /// Keys of persons this kiosk registered that the server has not acknowledged yet.
    pub keys: KeyList,
    /// The position in the server's key feed up to which this kiosk is complete.
    pub key_cursor: u64,
    /// Persons of this branch whose key the kiosk no longer holds (dropped after the
    /// retention period) and needs again: a returning resident is at the kiosk. Their
    /// keys come back in `keys` (or their ids in `erased`). Absent from older kiosks.
    #[serde(default)]
    pub want_keys: PersonList,
    /// The heads of the branch catalog this kiosk works under, sent only when this request
    /// pushes every local change it has: the server then knows every seat the kiosk
    /// granted under an earlier allotment, and releases what an office cut freed. Absent
    /// from older kiosks (a cut then stays reserved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_heads: Option<Vec<Head>>,
    /// Registrations whose resident is at the kiosk's screen waiting for this answer (a
    /// seat from the server's pool): the SMS for a seat given now is held a while, until
    /// the kiosk reports it shown (`shown`), which withdraws it. Absent from older kiosks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub awaiting: Vec<RegistrationId>,
    /// Registrations whose seat from the pool the kiosk has shown to the resident at the
    /// screen: the SMS held for them is not sent. Absent from older kiosks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shown: Vec<RegistrationId>,
    /// Residents of this branch who withdrew their SMS consent at this kiosk ("Nie chcę
    /// SMS") and whose withdrawal the server has not acknowledged yet. The server removes
    /// the consent from the person's people document, which reaches every kiosk of the
    /// branch as a change. Absent from older kiosks (and left out when empty, so older
    /// servers read newer kiosks' idle requests as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sms_withdrawals: Vec<SmsWithdrawal>,
    /// The server's instance id as this kiosk last heard it (`SyncResponse::
    /// server_instance`). Another id means the server was restored from a backup: it
    /// then takes nothing of the request and answers with its id, and the kiosk sends
    /// again all it wrote. Absent from older kiosks and before the first answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_instance: Option<uuid::Uuid>,
}

impl SyncRequest {
    /// A request that sends and asks for nothing, from the start of both feeds: the base
    /// others are built on (`SyncRequest { push, ..SyncRequest::new(version) }`).
    pub fn new(app_version: &str) -> SyncRequest {
        SyncRequest {
            cursor: 0,
            push: Vec::new(),
            pull: Vec::new(),
            app_version: app_version.to_owned(),
            keys: KeyList::default(),
            key_cursor: 0,
            want_keys: PersonList::default(),
            catalog_heads: None,
            awaiting: Vec::new(),
            shown: Vec::new(),
            sms_withdrawals: Vec::new(),
            server_instance: None,
        }
    }
}

/// A resident withdrew their SMS consent at a kiosk: who, and when (the kiosk's stamp,
/// perhaps long before the sync that carries it, when the kiosk was offline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsWithdrawal {
    pub person: PersonId,
    pub at: Hlc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Documents in this kiosk's scope changed after the request's cursor, oldest first.
    pub changed: Vec<DocHeads>,
    /// The cursor to store once every document in `changed` is up to date locally.
    pub cursor: u64,
    /// More changed documents wait after `cursor`.
    pub more: bool,
    /// The requested changes; documents left out for size come back in `deferred`.
    pub pulled: Vec<DocChanges>,
    pub deferred: Vec<DocKey>,
    /// Keys of this branch's persons registered elsewhere, new since `key_cursor`.
    pub keys: KeyList,
    /// Persons of this branch erased since `key_cursor`: delete their key and every
    /// readable copy of their data.
    pub erased: PersonList,
    /// The key-feed position to store once `keys` and `erased` are applied.
    pub key_cursor: u64,
    /// The server store's instance id: the same for as long as its history is one line,
    /// new after a restore from a backup. Absent from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_instance: Option<uuid::Uuid>,
}

/// Person keys on the wire: one byte string of 16 id bytes and 16 key bytes per person,
/// the compact form (keys do not compress, ids as text would double them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyList(pub Vec<(PersonId, PersonKey)>);

/// Person ids on the wire: one byte string of 16 bytes per person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonList(pub Vec<PersonId>);

const ID_BYTES: usize = 16;

fn id_from(bytes: &[u8]) -> PersonId {
    let mut id = [0u8; ID_BYTES];
    id.copy_from_slice(bytes);
    PersonId(uuid::Uuid::from_bytes(id))
}

impl Serialize for KeyList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(self.0.len() * (ID_BYTES + KEY_BYTES));
        for (id, key) in &self.0 {
            bytes.extend_from_slice(id.as_uuid().as_bytes());
            bytes.extend_from_slice(key.as_bytes());
        }
        s.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyList, D::Error> {
        let bytes = serde_bytes_vec::deserialize(d)?;
        let record = ID_BYTES + KEY_BYTES;
        if bytes.len() % record != 0 {
            return Err(serde::de::Error::custom("a key list is 32 bytes a person"));
        }
        Ok(KeyList(
            bytes
                .chunks_exact(record)
                .map(|r| {
                    let key = PersonKey::from_bytes(&r[ID_BYTES..]).expect("16 key bytes");
                    (id_from(&r[..ID_BYTES]), key)
                })
                .collect(),
        ))
    }
}

impl Serialize for PersonList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self
            .0
            .iter()
            .flat_map(|id| *id.as_uuid().as_bytes())
            .collect();
        s.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for PersonList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PersonList, D::Error> {
        let bytes = serde_bytes_vec::deserialize(d)?;
        if bytes.len() % ID_BYTES != 0 {
            return Err(serde::de::Error::custom(
                "a person list is 16 bytes a person",
            ));
        }
        Ok(PersonList(
            bytes.chunks_exact(ID_BYTES).map(id_from).collect(),
        ))
    }
}

/// An error body: a stable code for programs, a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("body is not valid zstd: {0}")]
    Compression(String),
    #[error("body is not a valid message: {0}")]
    Decode(String),
}

/// zstd level of every message.
const LEVEL: i32 = 6;

thread_local! {
    // A zstd context allocates and clears several hundred KiB when made: one per thread,
    // reused, instead of one per message (it was a tenth of an idle sync's cost).
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::zstd_safe::DCtx<'static>>> = const { RefCell::new(None) };
}

/// Encode a message: CBOR, then zstd.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, CodecError> {
    let mut cbor = Vec::new();
    ciborium::into_writer(message, &mut cbor).map_err(|e| CodecError::Decode(e.to_string()))?;
    COMPRESSOR.with_borrow_mut(|slot| {
        let compressor = match slot {
            Some(compressor) => compressor,
            None => slot.insert(
                zstd::bulk::Compressor::new(LEVEL)
                    .map_err(|e| CodecError::Compression(e.to_string()))?,
            ),
        };
        compressor
            .compress(&cbor)
            .map_err(|e| CodecError::Compression(e.to_string()))
    })
}

fn zstd_error(code: usize) -> CodecError {
    CodecError::Compression(zstd::zstd_safe::get_error_name(code).to_owned())
}

/// Largest zstd window a body may ask the decoder to keep (8 MiB). `encode` uses far
/// less; a frame asking for more only makes the receiver allocate.
const MAX_WINDOW_LOG: u32 = 23;

/// Decode a message, refusing bodies that are too large before or after decompression.
pub fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, CodecError> {
    decode_within(body, MAX_DECOMPRESSED_BYTES)
}

/// Decode a message, inflating at most `limit` bytes of it. The CBOR is read straight from
/// the decompressor, so inflating stops at the limit or at the first byte that cannot be
/// part of the message, whichever comes first: a bomb costs at most `limit` bytes of work,
/// and garbage far less.
pub fn decode_within<T: for<'de> Deserialize<'de>>(
    body: &[u8],
    limit: usize,
) -> Result<T, CodecError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(CodecError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    DECOMPRESSOR.with_borrow_mut(|slot| {
        let context =
            match slot {
                Some(context) => context,
                None => slot.insert(zstd::zstd_safe::DCtx::try_create().ok_or_else(|| {
                    CodecError::Compression("no memory for a zstd context".into())
                })?),
            };
        // Whatever the last message left (one given up on half-way) goes; the window
        // limit is set again.
        context
            .reset(zstd::zstd_safe::ResetDirective::SessionAndParameters)
            .map_err(zstd_error)?;
        context
            .set_parameter(zstd::zstd_safe::DParameter::WindowLogMax(MAX_WINDOW_LOG))
            .map_err(zstd_error)?;
        let mut capped = Capped {
            inner: zstd::stream::read::Decoder::with_context(body, context),
            left: limit,
            over: false,
        };
        let message =
            ciborium::from_reader(std::io::BufReader::with_capacity(64 * 1024, &mut capped));
        if capped.over {
            return Err(CodecError::TooLarge { limit });
        }
        message.map_err(|e| match e {
            ciborium::de::Error::Io(e) => CodecError::Compression(e.to_string()),
            other => CodecError::Decode(other.to_string()),
        })
    })
}

/// A reader that gives at most `left` more bytes, and notes (`over`) when there were more.
struct Capped<R> {
    inner: R,
    left: usize,
    over: bool,
}

impl<R: std::io::Read> std::io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // One byte more tells a body that ends at the limit from one that goes on.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.over = true;
                    Err(std::io::Error::other("body past the decompressed limit"))
                }
            };
        }
        let room = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..room])?;
        self.left -= n;
        Ok(n)
    }
}

mod serde_bytes_vec {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        // `byte_buf`, not `bytes`: ciborium reads long byte strings only into a buffer.
        d.deserialize_byte_buf(V)
    }
}

mod serde_bytes_array {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let v = super::serde_bytes_vec::deserialize(d)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("a change hash must be 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClassId;

    /// The encodings docs/sync-protocol.md describes ("Ids on the wire"): an id is a
    /// 16-byte CBOR byte string, a document key and a clock stamp are text, a head is a
    /// 32-byte byte string, key and person lists are one byte string each.
    #[test]
    fn ids_travel_as_16_byte_strings_keys_and_stamps_as_text() {
        use ciborium::Value;
        fn field<'a>(map: &'a Value, name: &str) -> &'a Value {
            map.as_map()
                .expect("a message is a map")
                .iter()
                .find(|(k, _)| k.as_text() == Some(name))
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no field {name}"))
        }
        let kiosk = KioskId::new();
        let enrolled = EnrollResponse {
            kiosk_id: kiosk,
            branch_id: crate::ids::BranchId::new(),
            branch_code: "MAL".into(),
            kiosk_number: 3,
            token: "ab".repeat(32),
        };
        let value: Value = decode(&encode(&enrolled).unwrap()).unwrap();
        assert_eq!(
            field(&value, "kiosk_id"),
            &Value::Bytes(kiosk.as_uuid().as_bytes().to_vec())
        );
        assert_eq!(
            field(&value, "branch_id").as_bytes().map(Vec::len),
            Some(16)
        );
        assert_eq!(field(&value, "kiosk_number"), &Value::Integer(3.into()));

        let person = crate::ids::PersonId::new();
        let class = ClassId::new();
        let at = Hlc::new(1_763_900_000_123, 4, kiosk);
        let registration = crate::ids::RegistrationId::stamped(&at);
        let request = SyncRequest {
            cursor: 0,
            push: vec![DocChanges {
                doc: DocKey::Roster(class),
                changes: vec![1, 2, 3],
                heads: vec![Head([7; 32])],
                seal: None,
            }],
            pull: vec![],
            app_version: "0.1.0".into(),
            keys: KeyList(vec![(person, PersonKey::generate())]),
            key_cursor: 0,
            want_keys: PersonList(vec![person]),
            catalog_heads: None,
            awaiting: vec![registration],
            shown: Vec::new(),
            sms_withdrawals: vec![SmsWithdrawal { person, at }],
            server_instance: Some(uuid::Uuid::new_v4()),
        };
        let value: Value = decode(&encode(&request).unwrap()).unwrap();
        assert_eq!(
            field(&value, "server_instance").as_bytes().map(Vec::len),
            Some(16)
        );
        let push = &field(&value, "push").as_array().unwrap()[0];
        assert_eq!(
            field(push, "doc"),
            &Value::Text(format!("roster:{}", class.as_uuid().hyphenated()))
        );
        assert_eq!(field(push, "changes"), &Value::Bytes(vec![1, 2, 3]));
        assert_eq!(
            field(push, "heads"),
            &Value::Array(vec![Value::Bytes(vec![7; 32])])
        );
        assert_eq!(
            field(&value, "awaiting"),
            &Value::Array(vec![Value::Bytes(
                registration.as_uuid().as_bytes().to_vec()
            )])
        );
        let withdrawal = &field(&value, "sms_withdrawals").as_array().unwrap()[0];
        assert_eq!(
            field(withdrawal, "person"),
            &Value::Bytes(person.as_uuid().as_bytes().to_vec())
        );
        assert_eq!(
            field(withdrawal, "at"),
            &Value::Text(format!(
                "001763900000123-0000000004-{}",
                kiosk.as_uuid().hyphenated()
            ))
        );
        assert_eq!(field(&value, "keys").as_bytes().map(Vec::len), Some(32));
        assert_eq!(
            field(&value, "want_keys"),
            &Value::Bytes(person.as_uuid().as_bytes().to_vec())
        );
        // The kiosk's UUID, in the protocol's own lists, is the same 16 bytes.
        assert_eq!(registration.as_uuid().get_version_num(), 8);
    }

    #[test]
    fn messages_round_trip_through_the_codec() {
        let request = SyncRequest {
            cursor: 42,
            push: vec![
                DocChanges {
                    doc: DocKey::Roster(ClassId::new()),
                    changes: vec![1, 2, 3],
                    heads: vec![Head([7; 32])],
                    seal: None,
                },
                // Longer than the decoder's scratch buffer.
                DocChanges {
                    doc: DocKey::Roster(ClassId::new()),
                    changes: (0..100_000u32).map(|i| (i % 251) as u8).collect(),
                    heads: vec![Head([8; 32]), Head([9; 32])],
                    seal: None,
                },
            ],
            pull: vec![],
            app_version: "0.1.0".into(),
            keys: KeyList(vec![
                (crate::ids::PersonId::new(), PersonKey::generate()),
                (crate::ids::PersonId::new(), PersonKey::generate()),
            ]),
            key_cursor: 7,
            want_keys: PersonList(vec![crate::ids::PersonId::new()]),
            catalog_heads: None,
            awaiting: Vec::new(),
            shown: Vec::new(),
            sms_withdrawals: vec![SmsWithdrawal {
                person: crate::ids::PersonId::new(),
                at: Hlc::new(1_763_900_000_123, 4, KioskId::new()),
            }],
            server_instance: Some(uuid::Uuid::new_v4()),
        };
        let bytes = encode(&request).unwrap();
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), request);

        // An older server reads a request without withdrawals as it always did: the field
        // is left out, not sent empty; and a request from an older kiosk has none.
        let idle = SyncRequest {
            sms_withdrawals: Vec::new(),
            ..request.clone()
        };
        let value: ciborium::Value = decode(&encode(&idle).unwrap()).unwrap();
        let fields: Vec<String> = value
            .as_map()
            .expect("a request is a map")
            .iter()
            .filter_map(|(k, _)| k.as_text().map(str::to_owned))
            .collect();
        assert!(!fields.iter().any(|f| f == "sms_withdrawals"), "{fields:?}");
        assert_eq!(
            decode::<SyncRequest>(&encode(&idle).unwrap()).unwrap(),
            idle
        );

        let response = SyncResponse {
            changed: vec![],
            cursor: 1,
            more: false,
            pulled: vec![],
            deferred: vec![],
            keys: KeyList::default(),
            erased: PersonList(vec![crate::ids::PersonId::new()]),
            key_cursor: 9,
            server_instance: None,
        };
        let bytes = encode(&response).unwrap();
        assert_eq!(decode::<SyncResponse>(&bytes).unwrap(), response);
    }

    #[test]
    fn garbage_and_bombs_are_refused() {
        assert!(matches!(
            decode::<SyncRequest>(b"nope"),
            Err(CodecError::Compression(_))
        ));
        let not_a_message = zstd::bulk::compress(b"\xff\x00garbage", 3).unwrap();
        assert!(matches!(
            decode::<SyncRequest>(&not_a_message),
            Err(CodecError::Decode(_))
        ));
        // Zeros are not a message: refused at the first byte, without inflating the rest.
        let zeros = zstd::bulk::compress(&vec![0u8; MAX_DECOMPRESSED_BYTES + 10], 3).unwrap();
        assert!(zeros.len() < 1024 * 1024);
        assert!(matches!(
            decode::<SyncRequest>(&zeros),
            Err(CodecError::Decode(_))
        ));
        // A message whose one string goes on past the limit.
        let bomb = zstd::bulk::compress(&string_bomb(MAX_DECOMPRESSED_BYTES + 10), 3).unwrap();
        assert!(bomb.len() < 1024 * 1024);
        assert!(matches!(
            decode::<SyncRequest>(&bomb),
            Err(CodecError::TooLarge { .. })
        ));
        // A smaller limit refuses a smaller bomb, and a message that fits is read whole.
        let small = zstd::bulk::compress(&string_bomb(100_000), 3).unwrap();
        assert!(matches!(
            decode_within::<SyncRequest>(&small, 64 * 1024),
            Err(CodecError::TooLarge { limit: 65_536 })
        ));
        let request = encode(&EnrollRequest {
            code: "ABCD".into(),
            app_version: "1".into(),
        })
        .unwrap();
        let cbor_len = zstd::bulk::decompress(&request, 1024).unwrap().len();
        assert!(decode_within::<EnrollRequest>(&request, cbor_len).is_ok());
        assert!(matches!(
            decode_within::<EnrollRequest>(&request, cbor_len - 1),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_frame_asking_for_a_huge_window_is_refused() {
        let cbor = string_bomb(1000);
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.long_distance_matching(true).unwrap();
        encoder.window_log(27).unwrap();
        encoder.include_contentsize(false).unwrap();
        std::io::Write::write_all(&mut encoder, &cbor).unwrap();
        let body = encoder.finish().unwrap();
        assert!(matches!(
            decode::<SyncRequest>(&body),
            Err(CodecError::Compression(_))
        ));
    }

    /// The CBOR of a one-entry map whose text value is `len` zero bytes.
    fn string_bomb(len: usize) -> Vec<u8> {
        let mut cbor = vec![0xa1, 0x6b];
        cbor.extend_from_slice(b"app_version");
        cbor.push(0x7a);
        cbor.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        cbor.resize(cbor.len() + len, 0);
        cbor
    }
}
