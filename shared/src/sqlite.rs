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
    /// The storage refused a write: the disk is full, the file may not grow (a size
    /// limit), or the disk fails. Nothing of the transaction was saved.
    #[error("cannot write to the disk (full or failing): nothing was saved ({context})")]
    DiskFull { context: &'static str },
    #[error("database error while trying to {context}: {source}")]
    Sqlite {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    /// An error of the server's other database (PostgreSQL), as text.
    #[error("database error while trying to {context}: {detail}")]
    Database {
        context: &'static str,
        detail: String,
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
    #[error(
        "the database cannot be read with this key (a wrong key, or a database that is not encrypted); nothing was changed"
    )]
    WrongKey,
    #[error("cannot use the key file {path}: {detail}")]
    KeyFile { path: String, detail: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attach what we were doing to a SQLite error, and single out a disk that refuses writes.
pub trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| {
            if refused_write(&source) {
                StoreError::DiskFull { context }
            } else {
                StoreError::Sqlite { context, source }
            }
        })
    }
}

/// SQLite reports ENOSPC as SQLITE_FULL, but other refused writes (EFBIG past a file size
/// limit, EDQUOT, EIO) only as I/O errors of the write, of growing a file or of the shared
/// memory file. To the person at the kiosk they mean the same: nothing could be saved.
fn refused_write(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi;
    let Some(e) = e.sqlite_error() else {
        return false;
    };
    e.code == rusqlite::ErrorCode::DiskFull
        || matches!(
            e.extended_code,
            ffi::SQLITE_IOERR_WRITE
                | ffi::SQLITE_IOERR_FSYNC
                | ffi::SQLITE_IOERR_TRUNCATE
                | ffi::SQLITE_IOERR_SHMSIZE
                | ffi::SQLITE_IOERR_SHMMAP
        )
}

/// The 256-bit key a database is encrypted with (SQLCipher). It is random, so it is used
/// as SQLCipher's raw key, without deriving it from a passphrase. Kept in a file of its
/// own, 64 hex digits, which must live apart from the data it unlocks.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl StoreKey {
    pub fn random() -> StoreKey {
        StoreKey(rand::random())
    }

    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Read the key from its file.
    pub fn load(path: &Path) -> Result<StoreKey> {
        let bad = |detail: String| StoreError::KeyFile {
            path: path.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let hex = text.trim();
        let digits: Option<Vec<u8>> = (hex.len() == 64 && hex.is_ascii())
            .then(|| {
                (0..32)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                    .collect()
            })
            .flatten();
        let bytes = digits.ok_or_else(|| bad("not a key (64 hexadecimal digits)".into()))?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(StoreKey(key))
    }

    /// Write a new random key to `path`, readable by its owner only. An existing file is
    /// never overwritten: the data it unlocks would be lost. The key is written and
    /// flushed beside it first and then linked in under its name, so the file is never
    /// seen empty or half written, even by a set-up cut short by a crash.
    pub fn create(path: &Path) -> Result<StoreKey> {
        use std::io::Write;
        let bad = |e: std::io::Error| StoreError::KeyFile {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let key = StoreKey::random();
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // A temporary file is its owner's only (0600) and goes away unless persisted.
        let mut file = tempfile::Builder::new()
            .suffix(".partial")
            .tempfile_in(folder)
            .map_err(bad)?;
        writeln!(file, "{}", key.hex()).map_err(bad)?;
        file.as_file().sync_all().map_err(bad)?;
        // Refused where the name exists: the check and the creation are one step.
        file.persist_noclobber(path).map_err(|e| bad(e.error))?;
        // The new name itself is to survive a power cut.
        std::fs::File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(bad)?;
        Ok(key)
    }

    /// The key in `path`, created there first if the file does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<StoreKey> {
        if path.exists() {
            StoreKey::load(path)
        } else {
            StoreKey::create(path)
        }
    }
}

/// Open (creating if needed) a database file for durable writes, and bring its schema
/// up to date. `busy` is how long a writer waits for another process's transaction.
/// With a `key`, the file (and its write-ahead log) is encrypted with it; an existing
/// file that the key does not open is refused before anything is written to it.
pub fn open_durable(
    path: &Path,
    key: Option<&StoreKey>,
    migrations: &[&str],
    busy: Duration,
) -> Result<Connection> {
    let mut conn = Connection::open(path).ctx("open the database")?;
    if let Some(key) = key {
        // Plain SQLite ignores `PRAGMA key` and would store everything in clear.
        let cipher: Option<String> = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .optional()
            .ctx("ask for the encryption library")?;
        if cipher.is_none() {
            return Err(StoreError::KeyFile {
                path: path.display().to_string(),
                detail: "this build of SQLite cannot encrypt".into(),
            });
        }
        // A refused key is reported as an error below; SQLCipher's own log line about
        // it on stderr would only add noise.
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")
            .ctx("quiet the encryption log")?;
        // The hex is ours (64 digits), so formatting it into the statement is safe.
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.hex()))
            .ctx("set the database key")?;
        // SQLCipher checks the key on the first read: a wrong one reads as "not a
        // database". Nothing has been written yet.
        let check = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        });
        if let Err(e) = check {
            return Err(match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => StoreError::WrongKey,
                _ => StoreError::Sqlite {
                    context: "read the database with its key",
                    source: e,
                },
            });
        }
    }
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

/// `execute` and `query_row` on a statement kept prepared: rusqlite's own prepare the
/// statement afresh on every call, which a sync round, calling each many times, pays for
/// in parsing.
pub trait Cached {
    fn execute_cached(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize>;
    fn query_row_cached<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
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

/// How long a store's lock that is taken is asked for again before its folder is called
/// busy. A process that starts a child shares its open files with the child between fork
/// and exec, and with them the lock of a store it has just closed: such a lock is let go
/// within moments.
pub const LOCK_PATIENCE: Duration = Duration::from_secs(2);

/// Open (creating it) the lock file at `path` and take its exclusive lock, asking again
/// every 20 ms for up to [`LOCK_PATIENCE`]. `None` if another process still holds it then.
pub fn lock_file(path: &Path) -> std::io::Result<Option<std::fs::File>> {
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let deadline = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// A seat status is stored as its code, and read back checked.
impl rusqlite::types::ToSql for crate::seats::SeatStatus {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl rusqlite::types::FromSql for crate::seats::SeatStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let code = value.as_str()?;
        crate::seats::SeatStatus::from_code(code).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("{code:?} is not a seat status").into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_seen_whole_or_not_at_all_while_it_is_created() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..300 {
            let path = dir.path().join(format!("key-{i}"));
            let done = std::sync::atomic::AtomicBool::new(false);
            let (key, seen) = std::thread::scope(|s| {
                let reader = s.spawn(|| {
                    // Read as another process would (a status command, a test's SQL
                    // connection): the file is absent, or holds the whole key.
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        if let Ok(text) = std::fs::read_to_string(&path) {
                            return Some(text);
                        }
                    }
                    std::fs::read_to_string(&path).ok()
                });
                let key = StoreKey::create(&path).unwrap();
                done.store(true, std::sync::atomic::Ordering::SeqCst);
                (key, reader.join().unwrap())
            });
            assert_eq!(seen.as_deref().map(str::trim), Some(key.hex().as_str()));
        }
        // Only the key files are left: no partial file beside them.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 300);
    }

    #[test]
    fn migrations_run_once_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let v1 = ["CREATE TABLE a (x INTEGER);"];
        let conn = open_durable(&path, None, &v1, Duration::from_secs(1)).unwrap();
        conn.execute("INSERT INTO a VALUES (1)", []).unwrap();
        drop(conn);
        // Reopening does not re-run migration 1 (it would fail: the table exists).
        let v2 = [
            "CREATE TABLE a (x INTEGER);",
            "ALTER TABLE a ADD COLUMN y TEXT;",
        ];
        let conn = open_durable(&path, None, &v2, Duration::from_secs(1)).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM a", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        drop(conn);
        let err = open_durable(&path, None, &v1, Duration::from_secs(1)).unwrap_err();
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
