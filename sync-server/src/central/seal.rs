//! Seals: the server's MAC on a document's heads ([`blisko_shared::sync::Seal`]). Every
//! pulled document goes out with one; a kiosk sends back the latest it holds with the
//! document, and a server restored from a backup takes the changes a valid seal reaches
//! from any writer, since it held them once (docs/sync-protocol.md, "A restored server").
//!
//! The key is 32 random bytes in the store's `meta` table, made on first use. It stays
//! with the store through backup and restore (a restored server must know its own seals)
//! and never leaves it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use blisko_shared::docs::{ChangeHash, DocKey};
use blisko_shared::sync::{Seal, from_heads, to_heads};

use super::Result;
use crate::store::Db;

const KEY_META: &str = "seal_key";
/// Ties a MAC to its purpose and format, so no other MAC made with the key could pass.
const CONTEXT: &[u8] = b"blisko seal v1\0";

#[derive(Clone)]
pub(crate) struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    /// The store's sealing key, made and kept on first use.
    pub(crate) fn of_store(db: &Db<'_>) -> Result<Sealer> {
        if let Some(hex_key) = db.meta(KEY_META)?
            && let Ok(bytes) = hex::decode(&hex_key)
            && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return Ok(Sealer { key });
        }
        let key: [u8; 32] = rand::random();
        db.set_meta(KEY_META, &hex::encode(key))?;
        Ok(Sealer { key })
    }

    fn mac(&self, doc: DocKey, heads: &[ChangeHash]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(CONTEXT);
        mac.update(doc.to_string().as_bytes());
        mac.update(b"\0");
        for head in heads {
            mac.update(&head.0);
        }
        mac
    }

    /// The seal on `heads` of `doc`.
    pub(crate) fn seal(&self, doc: DocKey, heads: &[ChangeHash]) -> Seal {
        Seal {
            heads: to_heads(heads),
            mac: self.mac(doc, heads).finalize().into_bytes().into(),
        }
    }

    /// The heads a seal vouches for, if it is this store's seal on `doc` (compared in
    /// constant time). `None` for anything else: a seal made by another server, for
    /// another document, or altered.
    pub(crate) fn check(&self, doc: DocKey, seal: &Seal) -> Option<Vec<ChangeHash>> {
        let heads = from_heads(&seal.heads);
        self.mac(doc, &heads)
            .verify_slice(&seal.mac)
            .ok()
            .map(|()| heads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blisko_shared::ids::ClassId;

    #[test]
    fn a_seal_checks_only_for_its_own_document_heads_and_key() {
        let sealer = Sealer { key: [1; 32] };
        let doc = DocKey::Roster(ClassId::new());
        let heads = vec![ChangeHash([5; 32]), ChangeHash([6; 32])];
        let seal = sealer.seal(doc, &heads);
        assert_eq!(sealer.check(doc, &seal), Some(heads.clone()));
        assert_eq!(sealer.check(DocKey::Roster(ClassId::new()), &seal), None);
        let mut more = seal.clone();
        more.heads.push(blisko_shared::sync::Head([7; 32]));
        assert_eq!(sealer.check(doc, &more), None);
        let mut bent = seal.clone();
        bent.mac[0] ^= 1;
        assert_eq!(sealer.check(doc, &bent), None);
        assert_eq!(Sealer { key: [2; 32] }.check(doc, &seal), None);
    }
}
