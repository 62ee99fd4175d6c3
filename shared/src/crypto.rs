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
//! A sealed value is `version (1) | nonce (8) | ciphertext | tag (16)`: 25 bytes over the
//! plaintext. The nonce is 8 random bytes, zero-padded to GCM-SIV's 12: a key seals a
//! handful of values in its life (a person record per edit, one per intake request), so a
//! repeat is about n²/2⁶⁵, and GCM-SIV is misuse-resistant: even a repeated nonce only
//! reveals whether two plaintexts under the same key and purpose are equal, never the
//! plaintext or the key.

use aes_gcm_siv::Aes128GcmSiv;
use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use rand::Rng;

use crate::ids::PersonId;

/// Bytes of a person key.
pub const KEY_BYTES: usize = 16;
const VERSION: u8 = 1;
const NONCE_BYTES: usize = 8;
const TAG_BYTES: usize = 16;
/// What sealing adds to a plaintext.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_BYTES + TAG_BYTES;

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
}

impl Purpose {
    fn tag(self) -> u8 {
        match self {
            Purpose::Person => b'p',
            Purpose::Intake => b'i',
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

fn aad(person: PersonId, purpose: Purpose) -> [u8; 18] {
    let mut aad = [0u8; 18];
    aad[0] = VERSION;
    aad[1] = purpose.tag();
    aad[2..].copy_from_slice(person.as_uuid().as_bytes());
    aad
}

fn nonce(short: &[u8]) -> aes_gcm_siv::Nonce {
    let mut nonce = aes_gcm_siv::Nonce::default();
    nonce[..NONCE_BYTES].copy_from_slice(short);
    nonce
}

/// Seal `plaintext` of `person` with their key.
pub fn seal(key: &PersonKey, person: PersonId, purpose: Purpose, plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes128GcmSiv::new(&key.0.into());
    let mut short = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut short);
    let aad = aad(person, purpose);
    let sealed = cipher
        .encrypt(
            &nonce(&short),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        // Encryption fails only past GCM-SIV's length limit (64 GiB).
        .expect("a personal record is far below the AEAD's length limit");
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.push(VERSION);
    out.extend_from_slice(&short);
    out.extend_from_slice(&sealed);
    out
}

/// Open a value sealed by [`seal`].
pub fn open(
    key: &PersonKey,
    person: PersonId,
    purpose: Purpose,
    sealed: &[u8],
) -> Result<Vec<u8>, SealError> {
    if sealed.len() < SEAL_OVERHEAD || sealed[0] != VERSION {
        return Err(SealError::Malformed);
    }
    let (short, body) = sealed[1..].split_at(NONCE_BYTES);
    let cipher = Aes128GcmSiv::new(&key.0.into());
    let aad = aad(person, purpose);
    cipher
        .decrypt(
            &nonce(short),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::Open)
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
    fn sealing_twice_gives_different_bytes() {
        let key = PersonKey::generate();
        let person = PersonId::new();
        let a = seal(&key, person, Purpose::Person, b"same");
        let b = seal(&key, person, Purpose::Person, b"same");
        assert_ne!(a, b);
    }
}
