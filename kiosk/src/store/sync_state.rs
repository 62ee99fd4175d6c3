//! What the kiosk knows of the server: per document, the heads the server holds and
//! how many local changes it has not acknowledged; the documents still to pull.

use blisko_shared::sqlite::Cached as _;
use rusqlite::{OptionalExtension, params};

use blisko_shared::docs::{ChangeHash, DocKey};
use blisko_shared::sqlite::{heads_from_blob, heads_to_blob};
use blisko_shared::sync::{Seal, to_heads};

use super::{Context, Result, Store, StoreError, Tx};

/// A document with local changes the server has not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDoc {
    pub key: DocKey,
    /// Local changes counted so far; a push acknowledges this many.
    pub pending: u64,
    /// What the server already holds (empty: nothing).
    pub server_heads: Vec<ChangeHash>,
    /// The server's latest seal on the document, sent with it.
    pub seal: Option<Seal>,
}

/// A stored seal: the MAC, then the heads it covers.
fn seal_to_blob(seal: &Seal) -> Vec<u8> {
    let mut blob = seal.mac.to_vec();
    for head in &seal.heads {
        blob.extend_from_slice(&head.0);
    }
    blob
}

fn seal_from_blob(blob: &[u8]) -> Result<Seal> {
    let Some((mac, heads)) = blob.split_first_chunk::<32>() else {
        return Err(StoreError::Corrupt {
            what: "document seal".into(),
            detail: format!("{} bytes is shorter than a MAC", blob.len()),
        });
    };
    Ok(Seal {
        heads: to_heads(&heads_from_blob(heads)?),
        mac: *mac,
    })
}

fn doc_key(id: String) -> Result<DocKey> {
    id.parse().map_err(|_| StoreError::Corrupt {
        what: "document id".into(),
        detail: id.chars().take(80).collect(),
    })
}

impl Store {
    /// Documents with unacknowledged local changes: catalogs first (after a restore a
    /// roster may be of a class only the catalog sent back holds), then oldest change
    /// first.
    pub fn pending_docs(&self, limit: usize) -> Result<Vec<PendingDoc>> {
        // The limit is written into the statement: SQLite prepares a statement again each
        // time a LIMIT parameter is bound.
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT doc_id, pending_changes, server_heads, seal FROM documents
                 WHERE pending_changes > 0
                 ORDER BY doc_id NOT LIKE 'catalog:%', updated_at, doc_id LIMIT {limit}"
            ))
            .ctx("list unsynced documents")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                ))
            })
            .ctx("list unsynced documents")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list unsynced documents")?;
        rows.into_iter()
            .map(|(id, pending, heads, seal)| {
                Ok(PendingDoc {
                    key: doc_key(id)?,
                    pending: pending.max(0) as u64,
                    server_heads: heads_from_blob(heads.as_deref().unwrap_or_default())?,
                    seal: seal.as_deref().map(seal_from_blob).transpose()?,
                })
            })
            .collect()
    }

    /// Documents to pull, with the server heads that made us want them.
    pub fn wanted_docs(&self, limit: usize) -> Result<Vec<(DocKey, Vec<ChangeHash>)>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT doc_id, heads FROM sync_wants ORDER BY doc_id LIMIT {limit}"
            ))
            .ctx("list documents to pull")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .ctx("list documents to pull")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list documents to pull")?;
        rows.into_iter()
            .map(|(id, heads)| Ok((doc_key(id)?, heads_from_blob(&heads)?)))
            .collect()
    }

    pub fn wanted_count(&self) -> Result<u64> {
        self.conn()
            .query_row_cached("SELECT count(*) FROM sync_wants", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n.max(0) as u64)
            .ctx("count documents to pull")
    }

    /// The server's latest seal on this document, if it gave one.
    pub fn seal(&self, key: DocKey) -> Result<Option<Seal>> {
        let blob: Option<Option<Vec<u8>>> = self
            .conn()
            .prepare_cached("SELECT seal FROM documents WHERE doc_id = ?1")
            .ctx("read a document's seal")?
            .query_row([key.to_string()], |r| r.get(0))
            .optional()
            .ctx("read a document's seal")?;
        blob.flatten().as_deref().map(seal_from_blob).transpose()
    }

    /// The server heads of a document (`None`: the kiosk does not hold the document).
    pub fn server_heads(&self, key: DocKey) -> Result<Option<Vec<ChangeHash>>> {
        let blob: Option<Option<Vec<u8>>> = self
            .conn()
            .prepare_cached("SELECT server_heads FROM documents WHERE doc_id = ?1")
            .ctx("read a document's server heads")?
            .query_row([key.to_string()], |r| r.get(0))
            .optional()
            .ctx("read a document's server heads")?;
        blob.map(|b| heads_from_blob(b.as_deref().unwrap_or_default()))
            .transpose()
    }
}

impl Tx<'_> {
    /// The server acknowledged `pushed` local changes and now holds `heads`. Changes made
    /// since the push was prepared stay pending.
    pub fn ack_push(&self, key: DocKey, pushed: u64, heads: &[ChangeHash]) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE documents SET pending_changes = max(pending_changes - ?2, 0), server_heads = ?3
                 WHERE doc_id = ?1",
            )
            .ctx("record a pushed document")?
            .execute(params![key.to_string(), pushed as i64, heads_to_blob(heads)])
            .ctx("record a pushed document")?;
        Ok(())
    }

    /// The server was restored from a backup: nothing it acknowledged is sure any more.
    /// Every document loses its server heads (a push sends it whole, a pull asks for it
    /// whole), the documents in `resend` (those this kiosk wrote) are pending again, and
    /// nothing is left to pull until the server lists it anew.
    pub fn forget_server_state(&self, resend: &[DocKey]) -> Result<()> {
        self.conn()
            .execute_batch(
                "UPDATE documents SET server_heads = NULL;
                 DELETE FROM sync_wants;",
            )
            .ctx("forget what the server held")?;
        let mut stmt = self
            .conn()
            .prepare_cached(
                "UPDATE documents SET pending_changes = max(pending_changes, 1) WHERE doc_id = ?1",
            )
            .ctx("send a document again")?;
        for key in resend {
            stmt.execute([key.to_string()])
                .ctx("send a document again")?;
        }
        Ok(())
    }

    /// Keep the server's seal on a document this kiosk has (it replaces the last one).
    pub fn set_seal(&self, key: DocKey, seal: &Seal) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE documents SET seal = ?2 WHERE doc_id = ?1")
            .ctx("record a document's seal")?
            .execute(params![key.to_string(), seal_to_blob(seal)])
            .ctx("record a document's seal")?;
        Ok(())
    }

    /// Record that the server holds `heads` of a document this kiosk has.
    pub fn set_server_heads(&self, key: DocKey, heads: &[ChangeHash]) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE documents SET server_heads = ?2 WHERE doc_id = ?1")
            .ctx("record a document's server heads")?
            .execute(params![key.to_string(), heads_to_blob(heads)])
            .ctx("record a document's server heads")?;
        Ok(())
    }

    pub fn want(&self, key: DocKey, heads: &[ChangeHash]) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sync_wants (doc_id, heads) VALUES (?1, ?2)
                 ON CONFLICT (doc_id) DO UPDATE SET heads = excluded.heads",
            )
            .ctx("record a document to pull")?
            .execute(params![key.to_string(), heads_to_blob(heads)])
            .ctx("record a document to pull")?;
        Ok(())
    }

    pub fn unwant(&self, key: DocKey) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM sync_wants WHERE doc_id = ?1")
            .ctx("record a pulled document")?
            .execute([key.to_string()])
            .ctx("record a pulled document")?;
        Ok(())
    }
}
