//! The kiosk's local store: one SQLite file holding the automerge documents and a
//! relational projection of them for the UI's queries. All SQL of the kiosk lives here.
//!
//! Durability (see `blisko_shared::sqlite`): a transaction that returned from `commit`
//! survives a power cut. Callers acknowledge nothing to a person before that.

mod consents;
mod keys;
mod projection;
mod staff;
mod sync_state;

use std::path::Path;
use std::time::Duration;

use blisko_shared::sqlite::Cached as _;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use blisko_shared::docs::DocKey;
use blisko_shared::sqlite;

pub use projection::*;
pub use staff::*;
pub use sync_state::*;

/// Ordered migrations; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema_2_sync.sql"),
    include_str!("schema_3_keys.sql"),
    include_str!("schema_4_wanted_keys.sql"),
    include_str!("schema_5_branch_help.sql"),
    include_str!("schema_6_service_conditions.sql"),
    include_str!("schema_7_sms_consent.sql"),
    include_str!("schema_8_seals.sql"),
];

pub const DB_FILE: &str = "kiosk.sqlite3";

/// Prepared statements kept per connection.
const STATEMENT_CACHE_CAPACITY: usize = 128;

pub(crate) use blisko_shared::sqlite::Context;
pub use blisko_shared::sqlite::{Result, StoreError, StoreKey, StoredDoc};

pub struct Store {
    conn: Connection,
}

/// Size bookkeeping used to decide when to compact a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocSize {
    pub snapshot_bytes: u64,
    pub chunk_count: u64,
    pub chunk_bytes: u64,
}

impl DocSize {
    /// Compact when the incremental chunks outweigh the snapshot: loading stays fast and
    /// the cost of rewriting the snapshot is amortized over as many changes as it holds.
    pub fn wants_compaction(&self) -> bool {
        self.chunk_count >= 16 && self.chunk_bytes > self.snapshot_bytes.max(4096)
    }
}

impl Store {
    /// Open (creating if needed) the store in `dir`, encrypted with `key`, and run
    /// pending migrations. A store the key does not open is left untouched.
    pub fn open(dir: &Path, key: &StoreKey) -> Result<Store> {
        let conn = sqlite::open_durable(
            &dir.join(DB_FILE),
            Some(key),
            MIGRATIONS,
            Duration::from_secs(5),
        )?;
        // Room for every statement the kiosk prepares: with fewer slots, a sync round's
        // loops evict one another's statements and parse them again on every row.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(Store { conn })
    }

    /// One write transaction; everything in it lands together or not at all.
    pub fn write(&mut self) -> Result<Tx<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("begin a write")?;
        Ok(Tx { tx })
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .ctx("read a setting")?
            .query_row([key], |r| r.get(0))
            .optional()
            .ctx("read a setting")
    }

    pub fn load_doc(&self, key: DocKey) -> Result<Option<StoredDoc>> {
        sqlite::load_doc(&self.conn, key)
    }

    pub fn doc_size(&self, key: DocKey) -> Result<Option<DocSize>> {
        self.conn
            .prepare_cached(
                "SELECT length(snapshot), chunk_count, chunk_bytes FROM documents WHERE doc_id = ?1",
            )
            .ctx("read a document's size")?
            .query_row([key.to_string()], |r| {
                Ok(DocSize {
                    snapshot_bytes: r.get::<_, i64>(0)? as u64,
                    chunk_count: r.get::<_, i64>(1)? as u64,
                    chunk_bytes: r.get::<_, i64>(2)? as u64,
                })
            })
            .optional()
            .ctx("read a document's size")
    }

    /// Every stored document id of a kind ("roster", "person", ...).
    pub fn doc_keys(&self, kind: &str) -> Result<Vec<DocKey>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id FROM documents WHERE kind = ?1 ORDER BY doc_id")
            .ctx("list documents")?;
        let ids = stmt
            .query_map([kind], |r| r.get::<_, String>(0))
            .ctx("list documents")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list documents")?;
        ids.into_iter()
            .map(|id| {
                id.parse().map_err(|_| StoreError::Corrupt {
                    what: "document id".into(),
                    detail: id.chars().take(80).collect(),
                })
            })
            .collect()
    }

    pub fn pending_changes(&self) -> Result<u64> {
        self.conn
            .query_row_cached(
                "SELECT coalesce(sum(pending_changes), 0) FROM documents",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .ctx("count pending changes")
    }

    /// SQLite's own consistency check; "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .ctx("check database integrity")
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// A write transaction on the store.
pub struct Tx<'a> {
    tx: Transaction<'a>,
}

impl Tx<'_> {
    pub fn commit(self) -> Result<()> {
        self.tx.commit().ctx("commit")
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.tx
            // The same value again writes nothing: an idle sync round stores the
            // cursors it read, and a transaction that changed nothing costs no disk sync.
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value
                 WHERE value IS NOT excluded.value",
            )
            .ctx("save a setting")?
            .execute(params![key, value])
            .ctx("save a setting")?;
        Ok(())
    }

    pub fn delete_meta(&self, key: &str) -> Result<()> {
        self.tx
            .execute_cached("DELETE FROM meta WHERE key = ?1", [key])
            .ctx("remove a setting")?;
        Ok(())
    }

    /// Store a document as a fresh full save (new documents, and compaction).
    pub fn put_snapshot(
        &self,
        key: DocKey,
        snapshot: &[u8],
        local_change: bool,
        now: &str,
    ) -> Result<()> {
        let doc_id = key.to_string();
        self.tx
            .execute_cached("DELETE FROM doc_chunks WHERE doc_id = ?1", [&doc_id])
            .ctx("drop compacted chunks")?;
        self.tx
            .execute_cached(
                "INSERT INTO documents (doc_id, kind, snapshot, chunk_count, chunk_bytes, pending_changes, updated_at)
                 VALUES (?1, ?2, ?3, 0, 0, ?4, ?5)
                 ON CONFLICT (doc_id) DO UPDATE SET
                    snapshot = excluded.snapshot, chunk_count = 0, chunk_bytes = 0,
                    pending_changes = documents.pending_changes + excluded.pending_changes,
                    updated_at = excluded.updated_at",
                params![doc_id, key.kind(), snapshot, local_change as i64, now],
            )
            .ctx("save a document")?;
        Ok(())
    }

    /// Append changes to a stored document.
    pub fn append_chunk(
        &self,
        key: DocKey,
        chunk: &[u8],
        local_change: bool,
        now: &str,
    ) -> Result<()> {
        let doc_id = key.to_string();
        let seq: i64 = self
            .tx
            .query_row_cached(
                "UPDATE documents SET chunk_count = chunk_count + 1, chunk_bytes = chunk_bytes + ?2,
                    pending_changes = pending_changes + ?3, updated_at = ?4
                 WHERE doc_id = ?1 RETURNING chunk_count",
                params![doc_id, chunk.len() as i64, local_change as i64, now],
                |r| r.get(0),
            )
            .ctx("record a document change")?;
        self.tx
            .execute_cached(
                "INSERT INTO doc_chunks (doc_id, seq, data) VALUES (?1, ?2, ?3)",
                params![doc_id, seq, chunk],
            )
            .ctx("save a document change")?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }
}
