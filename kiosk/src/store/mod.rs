//! The kiosk's local store: one SQLite file holding the automerge documents and a
//! relational projection of them for the UI's queries. All SQL of the kiosk lives here.
//!
//! Durability: WAL with `synchronous=FULL`, so a transaction that returned from `commit`
//! survives a power cut. Callers acknowledge nothing to a person before that.

mod projection;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use blisko_shared::docs::DocKey;

pub use projection::*;

/// Ordered migrations; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[include_str!("schema.sql")];

pub const DB_FILE: &str = "kiosk.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the disk is full: nothing was saved ({context})")]
    DiskFull { context: &'static str },
    #[error("database error while trying to {context}: {source}")]
    Sqlite {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the data folder was written by a newer Blisko (schema {found}, this build knows {known}); please update"
    )]
    TooNew { found: i64, known: i64 },
    #[error("stored value {what} is corrupt: {detail}")]
    Corrupt { what: String, detail: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attach what we were doing to a SQLite error, and single out a full disk.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull { context },
            _ => StoreError::Sqlite { context, source },
        })
    }
}

pub struct Store {
    conn: Connection,
}

/// A stored document: its last full save and the chunks appended since, in order.
pub struct StoredDoc {
    pub snapshot: Vec<u8>,
    pub chunks: Vec<Vec<u8>>,
}

/// Size bookkeeping used to decide when to compact a document.
#[derive(Debug, Clone, Copy)]
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
    /// Open (creating if needed) the store in `dir` and run pending migrations.
    pub fn open(dir: &Path) -> Result<Store> {
        let conn = Connection::open(dir.join(DB_FILE)).ctx("open the kiosk database")?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .ctx("switch to write-ahead logging")?;
        // FULL: with NORMAL a committed transaction can roll back after a power cut.
        conn.pragma_update(None, "synchronous", "FULL")
            .ctx("set synchronous=FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .ctx("enable foreign keys")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .ctx("set the busy timeout")?;
        let mut store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .ctx("read the schema version")?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .ctx("begin a migration")?;
            tx.execute_batch(sql).ctx("run a migration")?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .ctx("record the schema version")?;
            tx.commit().ctx("commit a migration")?;
        }
        Ok(())
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
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .ctx("read a setting")
    }

    pub fn load_doc(&self, key: DocKey) -> Result<Option<StoredDoc>> {
        let doc_id = key.to_string();
        let snapshot: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT snapshot FROM documents WHERE doc_id = ?1",
                [&doc_id],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a document")?;
        let Some(snapshot) = snapshot else {
            return Ok(None);
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq")
            .ctx("read document chunks")?;
        let chunks = stmt
            .query_map([&doc_id], |r| r.get(0))
            .ctx("read document chunks")?
            .collect::<rusqlite::Result<Vec<Vec<u8>>>>()
            .ctx("read document chunks")?;
        Ok(Some(StoredDoc { snapshot, chunks }))
    }

    pub fn doc_size(&self, key: DocKey) -> Result<Option<DocSize>> {
        self.conn
            .query_row(
                "SELECT length(snapshot), chunk_count, chunk_bytes FROM documents WHERE doc_id = ?1",
                [key.to_string()],
                |r| {
                    Ok(DocSize {
                        snapshot_bytes: r.get::<_, i64>(0)? as u64,
                        chunk_count: r.get::<_, i64>(1)? as u64,
                        chunk_bytes: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .optional()
            .ctx("read a document's size")
    }

    /// Every stored document id of a kind ("roster", "person", ...).
    pub fn doc_keys(&self, kind: &str) -> Result<Vec<DocKey>> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id FROM documents WHERE kind = ?1 ORDER BY doc_id")
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
            .query_row(
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
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .ctx("save a setting")?;
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
            .execute("DELETE FROM doc_chunks WHERE doc_id = ?1", [&doc_id])
            .ctx("drop compacted chunks")?;
        self.tx
            .execute(
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
            .query_row(
                "UPDATE documents SET chunk_count = chunk_count + 1, chunk_bytes = chunk_bytes + ?2,
                    pending_changes = pending_changes + ?3, updated_at = ?4
                 WHERE doc_id = ?1 RETURNING chunk_count",
                params![doc_id, chunk.len() as i64, local_change as i64, now],
                |r| r.get(0),
            )
            .ctx("record a document change")?;
        self.tx
            .execute(
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
