//! SQLite plumbing shared by the kiosk's and the server's stores (feature `sqlite`): a
//! durable connection, numbered migrations, errors that say what we were doing, and the
//! encoding of document heads in a column.
//!
//! Durability: WAL with `synchronous=FULL`, so a transaction that returned from `commit`
//! survives a power cut. Callers acknowledge nothing before that.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::docs::{ChangeHash, DocKey};

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
    #[error("cannot use {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("stored value {what} is corrupt: {detail}")]
    Corrupt { what: String, detail: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attach what we were doing to a SQLite error, and single out a full disk.
pub trait Context<T> {
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

/// Open (creating if needed) a database file for durable writes, and bring its schema
/// up to date. `busy` is how long a writer waits for another process's transaction.
pub fn open_durable(path: &Path, migrations: &[&str], busy: Duration) -> Result<Connection> {
    let mut conn = Connection::open(path).ctx("open the database")?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .ctx("switch to write-ahead logging")?;
    // FULL: with NORMAL a committed transaction can roll back after a power cut.
    conn.pragma_update(None, "synchronous", "FULL")
        .ctx("set synchronous=FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .ctx("enable foreign keys")?;
    // Deleted rows (erased persons' keys and names) are overwritten with zeros, not left
    // readable in free pages.
    conn.pragma_update(None, "secure_delete", "ON")
        .ctx("enable secure delete")?;
    conn.busy_timeout(busy).ctx("set the busy timeout")?;
    migrate(&mut conn, migrations)?;
    Ok(conn)
}

/// Copy the write-ahead log into the database and empty it, so that rows just deleted
/// (with `secure_delete`) do not live on in the log's old frames.
pub fn checkpoint(conn: &Connection) -> Result<()> {
    // Readers may hold old frames; TRUNCATE then reports busy, and the next checkpoint
    // finishes the job.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .ctx("checkpoint the write-ahead log")
}

/// Run the migrations not yet run; `PRAGMA user_version` counts those that have.
fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<()> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .ctx("read the schema version")?;
    let known = migrations.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            found: version,
            known,
        });
    }
    for (i, sql) in migrations.iter().enumerate().skip(version as usize) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("begin a migration")?;
        tx.execute_batch(sql).ctx("run a migration")?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .ctx("record the schema version")?;
        tx.commit().ctx("commit a migration")?;
    }
    Ok(())
}

/// A stored document: its last full save and the chunks appended since, in order.
pub struct StoredDoc {
    pub snapshot: Vec<u8>,
    pub chunks: Vec<Vec<u8>>,
}

/// Read a document from the layout both stores share: `documents (doc_id, snapshot)`
/// and `doc_chunks (doc_id, seq, data)`.
pub fn load_doc(conn: &Connection, key: DocKey) -> Result<Option<StoredDoc>> {
    let doc_id = key.to_string();
    let snapshot: Option<Vec<u8>> = conn
        .prepare_cached("SELECT snapshot FROM documents WHERE doc_id = ?1")
        .ctx("read a document")?
        .query_row([&doc_id], |r| r.get(0))
        .optional()
        .ctx("read a document")?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let chunks = conn
        .prepare_cached("SELECT data FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq")
        .ctx("read document chunks")?
        .query_map([&doc_id], |r| r.get(0))
        .ctx("read document chunks")?
        .collect::<rusqlite::Result<Vec<Vec<u8>>>>()
        .ctx("read document chunks")?;
    Ok(Some(StoredDoc { snapshot, chunks }))
}

/// Document heads as one column: the 32-byte hashes back to back.
pub fn heads_to_blob(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub fn heads_from_blob(blob: &[u8]) -> Result<Vec<ChangeHash>> {
    if !blob.len().is_multiple_of(32) {
        return Err(StoreError::Corrupt {
            what: "document heads".into(),
            detail: format!("{} bytes is not a whole number of hashes", blob.len()),
        });
    }
    Ok(blob
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            ChangeHash(h)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let v1 = ["CREATE TABLE a (x INTEGER);"];
        let conn = open_durable(&path, &v1, Duration::from_secs(1)).unwrap();
        conn.execute("INSERT INTO a VALUES (1)", []).unwrap();
        drop(conn);
        // Reopening does not re-run migration 1 (it would fail: the table exists).
        let v2 = [
            "CREATE TABLE a (x INTEGER);",
            "ALTER TABLE a ADD COLUMN y TEXT;",
        ];
        let conn = open_durable(&path, &v2, Duration::from_secs(1)).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM a", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        drop(conn);
        let err = open_durable(&path, &v1, Duration::from_secs(1)).unwrap_err();
        assert!(
            matches!(err, StoreError::TooNew { found: 2, known: 1 }),
            "{err}"
        );
    }

    #[test]
    fn heads_round_trip_and_torn_blobs_are_corrupt() {
        let heads = vec![ChangeHash([1; 32]), ChangeHash([2; 32])];
        assert_eq!(heads_from_blob(&heads_to_blob(&heads)).unwrap(), heads);
        assert!(heads_from_blob(&[0; 33]).is_err());
    }
}
