//! Per-person encryption of personal fields (crypto-shredding).
//!
//! Automerge history is append-only: a value once written stays in every copy of a
//! document for ever. So a person's personal fields (name, birth year, phone, and the
//! personal content of their intake requests) go into documents only sealed with a key of
//! their own, and the keys live outside the documents (a table in each store, and beside
//! the changes in sync messages). Destroying a person's key makes every copy of their
//! history unreadable, backups included.
//!
//! The AEAD is AES-128-GCM-SIV (RFC 8452), with the person id and the purpose of the value
//! as associated data, so a sealed value cannot be moved to another person or field.
//! A sealed value is `version (1) | ciphertext | tag (16)`: 17 bytes over the plaintext.
//! It is sealed deterministically (an all-zero nonce), which GCM-SIV is built for: a
//! repeated nonce reveals only whether two plaintexts under the same key and purpose are
//! equal, never the plaintext or the key. A key seals a handful of values in its life (a
//! person record per edit, one per intake request), so the only thing an outsider can
//! learn is that an edit left a person's fields as they were. A random nonce would cost 8
//! incompressible bytes every time a sealed value travels to a kiosk; version 1 values,
//! which carry one, still open.

use aes_gcm_siv::Aes128GcmSiv;
use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use rand::Rng;

use crate::ids::PersonId;

/// Bytes of a person key.
pub const KEY_BYTES: usize = 16;
/// The format sealed now: no nonce.
const VERSION: u8 = 2;
/// The first format: 8 random nonce bytes after the version.
const VERSION_RANDOM_NONCE: u8 = 1;
const NONCE_BYTES: usize = 8;
/// Bytes of the authentication tag every sealed value carries.
pub const TAG_BYTES: usize = 16;
/// What sealing adds to a plaintext.
pub const SEAL_OVERHEAD: usize = 1 + TAG_BYTES;

/// One person's key. Never written into a document, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonKey([u8; KEY_BYTES]);

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonKey(..)")
    }
}

impl PersonKey {
    /// A fresh random key, for a newly registered person.
    pub fn generate() -> PersonKey {
        let mut key = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        PersonKey(key)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<PersonKey> {
        bytes.try_into().ok().map(PersonKey)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

/// What a sealed value is for; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The personal fields of a person record.
    Person,
    /// The personal content of an intake request.
    Intake,
    /// The office's message to the resident about an intake request.
    ResidentMessage,
}

impl Purpose {
    fn tag(self) -> u8 {
        match self {
            Purpose::Person => b'p',
            Purpose::Intake => b'i',
            Purpose::ResidentMessage => b'm',
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed value is malformed or of an unknown version")]
    Malformed,
    #[error("sealed value does not open with this key (wrong key, person or purpose)")]
    Open,
}

fn aad(version: u8, person: PersonId, purpose: Purpose) -> [u8; 18] {
    let mut aad = [0u8; 18];
    aad[0] = version;
    aad[1] = purpose.tag();
    aad[2..].copy_from_slice(person.as_uuid().as_bytes());
    aad
}

/// Seal `plaintext` of `person` with their key.
pub fn seal(key: &PersonKey, person: PersonId, purpose: Purpose, plaintext: &[u8]) -> Vec<u8> {
    let sealed = Aes128GcmSiv::new(&key.0.into())
        .encrypt(
            &aes_gcm_siv::Nonce::default(),
            Payload {
                msg: plaintext,
                aad: &aad(VERSION, person, purpose),
            },
        )
        // Encryption fails only past GCM-SIV's length limit (64 GiB).
        .expect("a personal record is far below the AEAD's length limit");
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.push(VERSION);
    out.extend_from_slice(&sealed);
    out
}

/// Open a value sealed by [`seal`], in either format.
pub fn open(
    key: &PersonKey,
    person: PersonId,
    purpose: Purpose,
    sealed: &[u8],
) -> Result<Vec<u8>, SealError> {
    let (nonce, body) = match sealed.split_first() {
        Some((&VERSION, body)) => (aes_gcm_siv::Nonce::default(), body),
        Some((&VERSION_RANDOM_NONCE, rest)) if rest.len() >= NONCE_BYTES => {
            let (short, body) = rest.split_at(NONCE_BYTES);
            (padded_nonce(short), body)
        }
        _ => return Err(SealError::Malformed),
    };
    if body.len() < TAG_BYTES {
        return Err(SealError::Malformed);
    }
    Aes128GcmSiv::new(&key.0.into())
        .decrypt(
            &nonce,
            Payload {
                msg: body,
                aad: &aad(sealed[0], person, purpose),
            },
        )
        .map_err(|_| SealError::Open)
}

/// A version 1 nonce: its 8 bytes, zero-padded to GCM-SIV's 12.
fn padded_nonce(short: &[u8]) -> aes_gcm_siv::Nonce {
    let mut nonce = aes_gcm_siv::Nonce::default();
    nonce[..NONCE_BYTES].copy_from_slice(short);
    nonce
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_person_and_purpose() {
        let key = PersonKey::generate();
        let person = PersonId::new();
        let sealed = seal(&key, person, Purpose::Person, b"Anna Nowak");
        assert_eq!(sealed.len(), SEAL_OVERHEAD + 10);
        assert!(!sealed.windows(4).any(|w| w == b"Anna"));
        assert_eq!(
            open(&key, person, Purpose::Person, &sealed).unwrap(),
            b"Anna Nowak"
        );
        let other = PersonKey::generate();
        assert_eq!(
            open(&other, person, Purpose::Person, &sealed),
            Err(SealError::Open)
        );
        assert_eq!(
            open(&key, PersonId::new(), Purpose::Person, &sealed),
            Err(SealError::Open)
        );
        assert_eq!(
            open(&key, person, Purpose::Intake, &sealed),
            Err(SealError::Open)
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(
            open(&key, person, Purpose::Person, &flipped),
            Err(SealError::Open)
        );
        assert_eq!(
            open(&key, person, Purpose::Person, &sealed[..5]),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn sealing_is_deterministic_and_hides_the_plaintext() {
        let key = PersonKey::generate();
        let person = PersonId::new();
        let a = seal(&key, person, Purpose::Person, b"same");
        assert_eq!(a, seal(&key, person, Purpose::Person, b"same"));
        assert_ne!(a, seal(&key, person, Purpose::Person, b"samf"));
        assert_ne!(a, seal(&key, person, Purpose::Intake, b"same"));
        assert_ne!(
            a,
            seal(&PersonKey::generate(), person, Purpose::Person, b"same")
        );
    }

    #[test]
    fn values_sealed_with_a_random_nonce_still_open() {
        // The first format, as it was written: version 1, 8 random nonce bytes.
        let key = PersonKey::generate();
        let person = PersonId::new();
        let short = [7u8; NONCE_BYTES];
        let body = Aes128GcmSiv::new(&key.0.into())
            .encrypt(
                &padded_nonce(&short),
                Payload {
                    msg: b"Jan Kowalski".as_slice(),
                    aad: &aad(VERSION_RANDOM_NONCE, person, Purpose::Person),
                },
            )
            .unwrap();
        let v1 = [&[VERSION_RANDOM_NONCE][..], &short, &body].concat();
        assert_eq!(
            open(&key, person, Purpose::Person, &v1).unwrap(),
            b"Jan Kowalski"
        );
        assert_eq!(
            open(&key, person, Purpose::Person, &v1[..NONCE_BYTES]),
            Err(SealError::Malformed)
        );
    }
}
