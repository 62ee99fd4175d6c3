//! The server's embedded store: documents with their change feed, kiosks and their
//! credentials, enrollment codes, the audit log, and a small catalog projection.
//! All SQL of the server lives here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use blisko_shared::docs::{ChangeHash, DocKey};
use blisko_shared::ids::{BranchId, ClassId, KioskId};

const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("office.sql"),
    include_str!("schema_3_personal.sql"),
    include_str!("schema_4_erasures.sql"),
    include_str!("schema_5_allotment_holds.sql"),
    include_str!("schema_6_reenroll.sql"),
    include_str!("schema_7_staff.sql"),
    include_str!("schema_8_kiosk_names.sql"),
    include_str!("schema_9_request_assignments.sql"),
    include_str!("schema_10_outbox.sql"),
];

mod audit_log;
mod backup;
mod branch_writes;
mod health;
mod holds;
mod keys;
mod office;
mod outbox;
mod pg;
mod request_queue;
pub(crate) mod sql;
mod staff;
pub use audit_log::*;
pub use backup::schema_version;
pub use holds::*;
pub use keys::*;
pub use office::*;
pub use outbox::*;
pub use request_queue::*;
pub const DB_FILE: &str = "server.sqlite3";
/// Statements a SQLite connection keeps prepared: more than a sync round or an office
/// page uses (rusqlite's default of 16 made every round parse some of them again).
const STATEMENT_CACHE_CAPACITY: usize = 256;
/// Person keys and the decrypted person projection, apart from the documents: a backup
/// of [`DB_FILE`] holds no key and no readable name (see README, personal data).
pub const PERSONAL_DB_FILE: &str = "personal.sqlite3";

use blisko_shared::sqlite::Context as _;
use blisko_shared::sqlite::{self, heads_from_blob, heads_to_blob};
pub use blisko_shared::sqlite::{Result, StoreError, StoredDoc};
/// The advisory lock of the office projection in sync rounds' transactions
/// ([`Db::lock_projection`]).
pub use sql::PROJECTION_LOCK as POSTGRES_PROJECTION_LOCK;
/// The advisory lock the writers on one PostgreSQL database take turns on.
pub use sql::WRITE_LOCK as POSTGRES_WRITE_LOCK;
use sql::{Conn, Context, Dialect, OptionalExtension, Tx, params};

pub struct ServerStore {
    conn: Conn,
    at: StoreLocation,
}

/// Where a store is, to open more connections to it.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    Folder(PathBuf),
    Postgres(String),
}

/// The positions of the change feed and of the key feed ([`Db::positions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    pub feed: i64,
    pub keys: i64,
}

/// A stored document as [`Db::load_doc`] reads it.
pub struct LoadedDoc {
    pub stored: StoredDoc,
    /// Its heads as last written (those of the snapshot with every chunk applied).
    pub heads: Vec<ChangeHash>,
    pub branch_id: Option<BranchId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocInfo {
    pub branch_id: Option<BranchId>,
    pub owner_kiosk: Option<KioskId>,
    pub seq: i64,
    pub snapshot_bytes: i64,
    pub chunk_count: i64,
    pub chunk_bytes: i64,
    /// Its heads as last written.
    pub heads: Vec<ChangeHash>,
}

impl DocInfo {
    pub fn wants_compaction(&self) -> bool {
        self.chunk_count >= 16 && self.chunk_bytes > self.snapshot_bytes.max(4096)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskAuth {
    pub id: KioskId,
    pub branch_id: BranchId,
    pub number: u32,
    pub token_hash: Vec<u8>,
    pub revoked: bool,
    /// The kiosk's last sync as the store has it written down (by any server process).
    pub recorded_sync: Option<RecordedSync>,
}

/// When a kiosk last synced, as written down, and with which version of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSync {
    pub at_ms: u64,
    pub app_version: String,
}

impl RecordedSync {
    /// A kiosks row's `last_sync` and `app_version`. `None` when either is missing or the
    /// time does not read: the next sync is then written down afresh.
    fn of_row((at, app_version): (Option<String>, Option<String>)) -> Option<RecordedSync> {
        let at: jiff::Timestamp = at?.parse().ok()?;
        Some(RecordedSync {
            at_ms: u64::try_from(at.as_millisecond()).ok()?,
            app_version: app_version?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KioskRow {
    pub kiosk_id: KioskId,
    pub branch_id: BranchId,
    pub number: u32,
    /// What the office calls it ("MAL — hol"); empty for kiosks added before names.
    pub name: String,
    pub enrolled: bool,
    pub revoked: bool,
    pub last_sync: Option<String>,
    pub app_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BranchRow {
    pub id: BranchId,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: Option<String>,
}

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T> {
    value.parse().map_err(|_| StoreError::Corrupt {
        what: what.to_owned(),
        detail: format!("{value:?} does not parse"),
    })
}

impl ServerStore {
    pub fn open(dir: &Path) -> Result<ServerStore> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            what: format!("the data folder {}", dir.display()),
            source,
        })?;
        // Admin commands share the database with a running server: wait for its writes.
        let conn = sqlite::open_durable(
            &dir.join(DB_FILE),
            None,
            MIGRATIONS,
            Duration::from_secs(10),
        )?;
        let personal = dir.join(PERSONAL_DB_FILE);
        let personal = personal.to_str().ok_or_else(|| StoreError::Io {
            what: format!("the data folder {}", dir.display()),
            source: std::io::Error::other("the path is not UTF-8"),
        })?;
        conn.execute("ATTACH DATABASE ?1 AS personal", [personal])
            .ctx("open the personal-data file")?;
        for (pragma, value) in [
            ("journal_mode", "WAL"),
            ("synchronous", "FULL"),
            ("secure_delete", "ON"),
        ] {
            conn.pragma_update(Some("personal"), pragma, value)
                .ctx("set up the personal-data file")?;
        }
        conn.execute_batch(include_str!("personal.sql"))
            .ctx("create the personal-data tables")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(ServerStore {
            conn: Conn::Sqlite(conn),
            at: StoreLocation::Folder(dir.to_owned()),
        })
    }

    pub fn location(&self) -> StoreLocation {
        self.at.clone()
    }

    /// Another connection to the store at `at`, for [`ServerStore::read`] only: the
    /// database refuses its writes. A SQLite reader reads beside the writer (write-ahead
    /// log); a PostgreSQL reader never takes the writers' lock. The store must have been
    /// opened (and so migrated) by [`ServerStore::open`] or [`ServerStore::open_postgres`].
    pub fn reader(at: &StoreLocation) -> Result<ServerStore> {
        let conn = match at {
            StoreLocation::Postgres(url) => Conn::Postgres(Box::new(
                sql::PgConn::connect(url).ctx("connect to PostgreSQL")?,
            )),
            StoreLocation::Folder(dir) => {
                let conn = rusqlite::Connection::open(dir.join(DB_FILE))
                    .ctx("open the database to read")?;
                let personal = dir.join(PERSONAL_DB_FILE);
                conn.execute(
                    "ATTACH DATABASE ?1 AS personal",
                    [personal.to_string_lossy()],
                )
                .ctx("open the personal-data file to read")?;
                conn.pragma_update(None, "query_only", "ON")
                    .ctx("make the connection read-only")?;
                conn.busy_timeout(Duration::from_secs(10))
                    .ctx("set the busy timeout")?;
                conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
                Conn::Sqlite(conn)
            }
        };
        Ok(ServerStore {
            conn,
            at: at.clone(),
        })
    }

    /// The store in a PostgreSQL database (which must exist; its tables are made here),
    /// shared with any other server process given the same `url`.
    pub fn open_postgres(url: &str) -> Result<ServerStore> {
        Ok(ServerStore {
            conn: Conn::Postgres(Box::new(pg::open(url)?)),
            at: StoreLocation::Postgres(url.to_owned()),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    /// Empty both write-ahead logs into their files, so that deleted keys and names do
    /// not live on in old log frames.
    pub fn checkpoint(&mut self) -> Result<()> {
        let conn = match &mut self.conn {
            Conn::Sqlite(conn) => conn,
            Conn::Postgres(conn) => return pg::vacuum_personal(conn),
        };
        for schema in ["main", "personal"] {
            conn.query_row(
                &format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)"),
                (),
                |_| Ok(()),
            )
            .ctx("checkpoint the write-ahead log")?;
        }
        Ok(())
    }

    /// A write transaction; all of a request's effects land together or not at all.
    pub fn write(&mut self) -> Result<Db<'_>> {
        let tx = self.conn.begin().ctx("begin a write")?;
        Ok(Db {
            tx,
            instance: std::cell::OnceCell::new(),
            deferred: None,
        })
    }

    /// A write transaction of sync rounds, which on PostgreSQL runs beside those of
    /// other branch points in other processes: it waits only for [`ServerStore::write`]
    /// transactions (office edits, erasures, enrollments) and, once it has named them
    /// ([`Db::lock_branches`]), for transactions of the same branch points. Its feed
    /// positions are handed out at its commit, under a lock of their own, so that they
    /// still follow commit order; until then what it writes sits at placeholder
    /// positions below zero, which no feed lists. On SQLite it is [`ServerStore::write`].
    pub fn write_branches(&mut self) -> Result<Db<'_>> {
        let deferred = (self.dialect() == Dialect::Postgres).then(branch_writes::Deferred::default);
        let tx = self.conn.begin_shared().ctx("begin a write")?;
        Ok(Db {
            tx,
            instance: std::cell::OnceCell::new(),
            deferred,
        })
    }

    /// A read-only transaction over one consistent snapshot, which waits for no writer
    /// (on a [`ServerStore::reader`]; on the writer's connection it is just a read).
    /// Its end, committed or dropped, changes nothing.
    pub fn read(&mut self) -> Result<Db<'_>> {
        let tx = self.conn.begin_read().ctx("begin a read")?;
        Ok(Db {
            tx,
            instance: std::cell::OnceCell::new(),
            deferred: None,
        })
    }
}

/// Queries inside one transaction.
pub struct Db<'a> {
    tx: Tx<'a>,
    /// The store's instance id once read in this transaction (see [`Db::instance`]).
    instance: std::cell::OnceCell<uuid::Uuid>,
    /// What a [`ServerStore::write_branches`] transaction on PostgreSQL has left to do
    /// at its commit; `None` for every other transaction.
    deferred: Option<branch_writes::Deferred>,
}

impl Db<'_> {
    /// Commit; a [`ServerStore::write_branches`] transaction first takes its feed
    /// positions.
    pub fn commit(self) -> Result<()> {
        if let Some(deferred) = &self.deferred {
            self.hand_out_positions(deferred)?;
        }
        self.tx.commit().ctx("commit")
    }

    /// Start a part of the transaction that [`Db::undo_part`] can take back alone (one
    /// sync round of several sharing the transaction). Parts do not nest.
    pub fn begin_part(&self) -> Result<()> {
        if let Some(deferred) = &self.deferred {
            deferred.part_begun();
        }
        self.tx.execute_batch("SAVEPOINT part").ctx("begin a part")
    }

    /// Keep what the part did.
    pub fn keep_part(&self) -> Result<()> {
        self.tx.execute_batch("RELEASE part").ctx("keep a part")
    }

    /// Take back everything since [`Db::begin_part`]; the transaction goes on.
    pub fn undo_part(&self) -> Result<()> {
        if let Some(deferred) = &self.deferred {
            deferred.part_undone();
        }
        self.tx
            .execute_batch("ROLLBACK TO part; RELEASE part")
            .ctx("take back a part")
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .ctx("read a setting")
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

    /// The next position in the change feed. One statement reads and moves it, and the
    /// row stays locked until the transaction ends: positions are handed out in the
    /// order their transactions commit, so no document ever appears behind a position a
    /// kiosk has already read past.
    fn next_seq(&self) -> Result<i64> {
        if let Some(deferred) = &self.deferred {
            return Ok(deferred.document_placeholder());
        }
        let next: String = self
            .tx
            .query_row(
                "INSERT INTO meta (key, value) VALUES ('feed_seq', '1')
                 ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)
                 RETURNING value",
                (),
                |r| r.get(0),
            )
            .ctx("move the change feed on")?;
        parse("the change feed's position", &next)
    }

    pub fn dialect(&self) -> Dialect {
        self.tx.dialect()
    }

    /// Where the change feed and the key feed stand, read in one statement: the
    /// positions a kiosk that has read everything listed is told to go on from.
    pub fn positions(&self) -> Result<Positions> {
        let (feed, keys): (Option<String>, i64) = self
            .tx
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = 'feed_seq'),
                        (SELECT coalesce(max(seq), 0) FROM personal.person_keys)",
                (),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ctx("read the feeds' positions")?;
        Ok(Positions {
            feed: feed.and_then(|v| v.parse().ok()).unwrap_or(0),
            keys,
        })
    }

    /// The heads of a stored document, as last written.
    pub fn doc_heads(&self, key: DocKey) -> Result<Option<Vec<ChangeHash>>> {
        let blob: Option<Vec<u8>> = self
            .tx
            .prepare_cached("SELECT heads FROM documents WHERE doc_id = ?1")
            .ctx("read a document's heads")?
            .query_row([key.to_string()], |r| r.get(0))
            .optional()
            .ctx("read a document's heads")?;
        blob.map(|b| heads_from_blob(&b)).transpose()
    }

    pub fn doc_info(&self, key: DocKey) -> Result<Option<DocInfo>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT branch_id, owner_kiosk, seq, length(snapshot), chunk_count, chunk_bytes,
                    heads
                 FROM documents WHERE doc_id = ?1",
            )
            .ctx("read a document's record")?
            .query_row([key.to_string()], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            })
            .optional()
            .ctx("read a document's record")?;
        row.map(
            |(branch, owner, seq, snapshot_bytes, chunk_count, chunk_bytes, heads)| {
                Ok(DocInfo {
                    branch_id: branch
                        .as_deref()
                        .map(|b| parse("branch id", b))
                        .transpose()?,
                    owner_kiosk: owner.as_deref().map(|k| parse("kiosk id", k)).transpose()?,
                    seq,
                    snapshot_bytes,
                    chunk_count,
                    chunk_bytes,
                    heads: heads_from_blob(&heads)?,
                })
            },
        )
        .transpose()
    }

    /// A stored document with its heads and branch point, in one query (and a second
    /// for its chunks when it has any).
    pub fn load_doc(&self, key: DocKey) -> Result<Option<LoadedDoc>> {
        let doc_id = key.to_string();
        let row = self
            .tx
            .query_row(
                "SELECT snapshot, heads, chunk_count, branch_id FROM documents WHERE doc_id = ?1",
                [&doc_id],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()
            .ctx("read a document")?;
        let Some((snapshot, heads, chunk_count, branch)) = row else {
            return Ok(None);
        };
        let chunks = if chunk_count > 0 {
            self.tx
                .query_map(
                    "SELECT data FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq",
                    [&doc_id],
                    |r| r.get(0),
                )
                .ctx("read document chunks")?
                .collect::<sql::SqlResult<Vec<Vec<u8>>>>()
                .ctx("read document chunks")?
        } else {
            Vec::new()
        };
        Ok(Some(LoadedDoc {
            stored: StoredDoc { snapshot, chunks },
            heads: heads_from_blob(&heads)?,
            branch_id: branch
                .as_deref()
                .map(|b| parse("branch id", b))
                .transpose()?,
        }))
    }

    /// Store a document new to the server; it enters the change feed.
    pub fn insert_document(
        &self,
        key: DocKey,
        branch: Option<BranchId>,
        owner: Option<KioskId>,
        snapshot: &[u8],
        heads: &[ChangeHash],
        now: &str,
    ) -> Result<()> {
        let seq = self.next_seq()?;
        self.tx
            .prepare_cached(
                "INSERT INTO documents (doc_id, kind, branch_id, owner_kiosk, snapshot, chunk_count, chunk_bytes, seq, heads, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7, ?8)",
            )
            .ctx("save a new document")?
            .execute(params![
                key.to_string(),
                key.kind(),
                branch.map(|b| b.to_string()),
                owner.map(|k| k.to_string()),
                snapshot,
                seq,
                heads_to_blob(heads),
                now
            ])
            .ctx("save a new document")?;
        Ok(())
    }

    /// Replace a document's snapshot and chunks with one compacted save of the same
    /// content; its place in the change feed stays.
    pub fn compact_document(
        &self,
        key: DocKey,
        snapshot: &[u8],
        heads: &[ChangeHash],
        now: &str,
    ) -> Result<()> {
        let doc_id = key.to_string();
        self.tx
            .execute("DELETE FROM doc_chunks WHERE doc_id = ?1", [&doc_id])
            .ctx("drop compacted chunks")?;
        self.tx
            .prepare_cached(
                "UPDATE documents SET snapshot = ?2, chunk_count = 0, chunk_bytes = 0, heads = ?3, updated_at = ?4
                 WHERE doc_id = ?1",
            )
            .ctx("save a compacted document")?
            .execute(params![doc_id, snapshot, heads_to_blob(heads), now])
            .ctx("save a compacted document")?;
        Ok(())
    }

    /// Append new changes to a stored document and move it up the change feed.
    pub fn append_chunk(
        &self,
        key: DocKey,
        chunk: &[u8],
        heads: &[ChangeHash],
        now: &str,
    ) -> Result<()> {
        let doc_id = key.to_string();
        let seq = self.next_seq()?;
        let chunk_no: i64 = self
            .tx
            .prepare_cached(
                "UPDATE documents SET chunk_count = chunk_count + 1, chunk_bytes = chunk_bytes + ?2,
                    seq = ?3, heads = ?4, updated_at = ?5
                 WHERE doc_id = ?1 RETURNING chunk_count",
            )
            .ctx("record a document change")?
            .query_row(params![doc_id, chunk.len() as i64, seq, heads_to_blob(heads), now], |r| r.get(0))
            .ctx("record a document change")?;
        self.tx
            .prepare_cached("INSERT INTO doc_chunks (doc_id, seq, data) VALUES (?1, ?2, ?3)")
            .ctx("save a document change")?
            .execute(params![doc_id, chunk_no, chunk])
            .ctx("save a document change")?;
        Ok(())
    }

    /// Documents of a branch changed after `after`, oldest first, at most `limit`.
    pub fn feed(
        &self,
        branch: BranchId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(DocKey, i64, Vec<ChangeHash>)>> {
        // The limit is written into the statement: SQLite prepares a statement again each
        // time a LIMIT parameter is bound.
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT doc_id, seq, heads FROM documents WHERE branch_id = ?1 AND seq > ?2
                 ORDER BY seq LIMIT {limit}"
            ))
            .ctx("read the change feed")?;
        let rows = stmt
            .query_map(params![branch.to_string(), after], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .ctx("read the change feed")?
            .collect::<sql::SqlResult<Vec<_>>>()
            .ctx("read the change feed")?;
        rows.into_iter()
            .map(|(id, seq, heads)| Ok((parse("document id", &id)?, seq, heads_from_blob(&heads)?)))
            .collect()
    }

    pub fn doc_keys(&self, kind: &str) -> Result<Vec<DocKey>> {
        let mut stmt = self
            .tx
            .prepare("SELECT doc_id FROM documents WHERE kind = ?1 ORDER BY doc_id")
            .ctx("list documents")?;
        let ids = stmt
            .query_map([kind], |r| r.get::<_, String>(0))
            .ctx("list documents")?
            .collect::<sql::SqlResult<Vec<_>>>()
            .ctx("list documents")?;
        ids.iter().map(|id| parse("document id", id)).collect()
    }

    // ----- catalog projection -----

    pub fn project_branch(
        &self,
        id: BranchId,
        code: &str,
        name: &str,
        classes: &[(ClassId, String)],
    ) -> Result<()> {
        self.lock_projection()?;
        self.tx
            .execute(
                "INSERT INTO branches (id, code, name) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name",
                params![id.to_string(), code, name],
            )
            .ctx("project a branch")?;
        self.tx
            .execute("DELETE FROM classes WHERE branch_id = ?1", [id.to_string()])
            .ctx("project classes")?;
        for (class, title) in classes {
            self.tx
                .execute(
                    "INSERT INTO classes (id, branch_id, title) VALUES (?1, ?2, ?3)",
                    params![class.to_string(), id.to_string(), title],
                )
                .ctx("project a class")?;
        }
        Ok(())
    }

    pub fn branches(&self) -> Result<Vec<BranchRow>> {
        let mut stmt = self
            .tx
            .prepare("SELECT id, code, name FROM branches ORDER BY code")
            .ctx("list branches")?;
        let rows = stmt
            .query_map((), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .ctx("list branches")?
            .collect::<sql::SqlResult<Vec<_>>>()
            .ctx("list branches")?;
        rows.into_iter()
            .map(|(id, code, name)| {
                Ok(BranchRow {
                    id: parse("branch id", &id)?,
                    code,
                    name,
                })
            })
            .collect()
    }

    pub fn branch_code(&self, id: BranchId) -> Result<Option<String>> {
        self.tx
            .query_row(
                "SELECT code FROM branches WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a branch")
    }

    pub fn class_branch(&self, class: ClassId) -> Result<Option<BranchId>> {
        let branch: Option<String> = self
            .tx
            .prepare_cached("SELECT branch_id FROM classes WHERE id = ?1")
            .ctx("read a class")?
            .query_row([class.to_string()], |r| r.get(0))
            .optional()
            .ctx("read a class")?;
        branch.as_deref().map(|b| parse("branch id", b)).transpose()
    }

    // ----- kiosks -----

    pub fn add_kiosk(&self, branch: BranchId, name: &str, now: &str) -> Result<(KioskId, u32)> {
        let number: u32 = self
            .tx
            .query_row("SELECT coalesce(max(number), 0) + 1 FROM kiosks", (), |r| {
                r.get(0)
            })
            .ctx("number a kiosk")?;
        let id = KioskId::new();
        self.tx
            .execute(
                "INSERT INTO kiosks (id, branch_id, number, created_at, name) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.to_string(), branch.to_string(), number, now, name],
            )
            .ctx("add a kiosk")?;
        Ok((id, number))
    }

    /// Store a new enrollment code for a kiosk; `reenroll` codes may be redeemed while
    /// the kiosk is revoked. Codes of the kiosk not used yet are withdrawn: one code at
    /// a time is valid.
    pub fn add_enrollment_code(
        &self,
        code_hash: &[u8],
        kiosk: KioskId,
        expires_at: &str,
        reenroll: bool,
    ) -> Result<()> {
        self.withdraw_enrollment_codes(kiosk)?;
        self.tx
            .execute(
                "INSERT INTO enrollment_codes (code_hash, kiosk_id, expires_at, reenroll)
                 VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, kiosk.to_string(), expires_at, reenroll],
            )
            .ctx("save an enrollment code")?;
        Ok(())
    }

    /// Forget a kiosk's enrollment codes that were not used.
    fn withdraw_enrollment_codes(&self, kiosk: KioskId) -> Result<()> {
        self.tx
            .execute(
                "DELETE FROM enrollment_codes WHERE kiosk_id = ?1 AND used_at IS NULL",
                [kiosk.to_string()],
            )
            .ctx("withdraw enrollment codes")?;
        Ok(())
    }

    /// Use up an enrollment code: the kiosk it was issued for, and whether it is a
    /// re-enrollment, if the code is valid, unused and unexpired, and either its kiosk is
    /// not revoked or it is a re-enrollment code.
    pub fn redeem_enrollment_code(
        &self,
        code_hash: &[u8],
        now: &str,
    ) -> Result<Option<(KioskId, bool)>> {
        let row: Option<(String, bool)> = self
            .tx
            .query_row(
                "UPDATE enrollment_codes SET used_at = ?2
                 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                   AND (reenroll = 1
                        OR kiosk_id IN (SELECT id FROM kiosks WHERE revoked_at IS NULL))
                 RETURNING kiosk_id, reenroll",
                params![code_hash, now],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ctx("redeem an enrollment code")?;
        row.map(|(k, reenroll)| Ok((parse("kiosk id", &k)?, reenroll)))
            .transpose()
    }

    /// The kiosk an unused, unexpired enrollment code was issued for (nothing is changed).
    pub fn unused_code_kiosk(&self, code_hash: &[u8], now: &str) -> Result<Option<KioskId>> {
        let kiosk: Option<String> = self
            .tx
            .query_row(
                "SELECT kiosk_id FROM enrollment_codes
                 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![code_hash, now],
                |r| r.get(0),
            )
            .optional()
            .ctx("look up an enrollment code")?;
        kiosk.map(|k| parse("kiosk id", &k)).transpose()
    }

    /// Give a kiosk its credential (replacing any old one, which stops working) and lift
    /// a revocation: only a redeemed code gets here.
    pub fn set_credential(
        &self,
        kiosk: KioskId,
        prefix: &str,
        hash: &[u8],
        now: &str,
    ) -> Result<()> {
        self.tx
            .execute(
                "UPDATE kiosks SET token_prefix = ?2, token_hash = ?3, enrolled_at = ?4, revoked_at = NULL
                 WHERE id = ?1",
                params![kiosk.to_string(), prefix, hash, now],
            )
            .ctx("save a kiosk credential")?;
        Ok(())
    }

    pub fn kiosk_by_prefix(&self, prefix: &str) -> Result<Option<KioskAuth>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT id, branch_id, number, token_hash, revoked_at IS NOT NULL, last_sync, app_version
                 FROM kiosks WHERE token_prefix = ?1",
            )
            .ctx("look up a credential")?
            .query_row([prefix], |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                        r.get::<_, bool>(4)?,
                    ),
                    (r.get::<_, Option<String>>(5)?, r.get::<_, Option<String>>(6)?),
                ))
            })
            .optional()
            .ctx("look up a credential")?;
        row.map(|((id, branch, number, token_hash, revoked), recorded)| {
            Ok(KioskAuth {
                id: parse("kiosk id", &id)?,
                branch_id: parse("branch id", &branch)?,
                number,
                token_hash,
                revoked,
                recorded_sync: RecordedSync::of_row(recorded),
            })
        })
        .transpose()
    }

    /// The credential digests of the kiosks that have synced successfully and are not
    /// revoked.
    pub fn synced_token_hashes(&self) -> Result<Vec<Vec<u8>>> {
        self.tx
            .prepare(
                "SELECT token_hash FROM kiosks
                 WHERE last_sync IS NOT NULL AND revoked_at IS NULL AND token_hash IS NOT NULL",
            )
            .ctx("list synced credentials")?
            .query_map((), |r| r.get::<_, Vec<u8>>(0))
            .ctx("list synced credentials")?
            .collect::<sql::SqlResult<Vec<_>>>()
            .ctx("list synced credentials")
    }

    pub fn kiosk(&self, id: KioskId) -> Result<Option<KioskRow>> {
        Ok(self.kiosks()?.into_iter().find(|k| k.kiosk_id == id))
    }

    pub fn kiosks(&self) -> Result<Vec<KioskRow>> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT id, branch_id, number, enrolled_at IS NOT NULL, revoked_at IS NOT NULL, last_sync, app_version, name
                 FROM kiosks ORDER BY number",
            )
            .ctx("list kiosks")?;
        let rows = stmt
            .query_map((), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .ctx("list kiosks")?
            .collect::<sql::SqlResult<Vec<_>>>()
            .ctx("list kiosks")?;
        rows.into_iter()
            .map(
                |(id, branch, number, enrolled, revoked, last_sync, app_version, name)| {
                    Ok(KioskRow {
                        kiosk_id: parse("kiosk id", &id)?,
                        branch_id: parse("branch id", &branch)?,
                        number,
                        name,
                        enrolled,
                        revoked,
                        last_sync,
                        app_version,
                    })
                },
            )
            .collect()
    }

    pub fn revoke_kiosk(&self, kiosk: KioskId, now: &str) -> Result<bool> {
        let n = self
            .tx
            .execute(
                "UPDATE kiosks SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![kiosk.to_string(), now],
            )
            .ctx("revoke a kiosk")?;
        // A code handed out before the revocation must not undo it.
        self.withdraw_enrollment_codes(kiosk)?;
        Ok(n == 1)
    }

    /// Give a kiosk a new name; false when there is no such kiosk.
    pub fn rename_kiosk(&self, kiosk: KioskId, name: &str) -> Result<bool> {
        let n = self
            .tx
            .execute(
                "UPDATE kiosks SET name = ?2 WHERE id = ?1",
                params![kiosk.to_string(), name],
            )
            .ctx("rename a kiosk")?;
        Ok(n == 1)
    }

    pub fn touch_kiosk(&self, kiosk: KioskId, now: &str, app_version: &str) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE kiosks SET last_sync = ?2, app_version = ?3 WHERE id = ?1")
            .ctx("record a sync")?
            .execute(params![kiosk.to_string(), now, app_version])
            .ctx("record a sync")?;
        Ok(())
    }

    // ----- audit -----

    pub fn audit(
        &self,
        now: &str,
        actor: &str,
        action: &str,
        subject: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![now, actor, action, subject, detail],
            )
            .ctx("write the audit log")?;
        Ok(())
    }

    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditRow>> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?1",
            )
            .ctx("read the audit log")?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(AuditRow {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    subject: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .ctx("read the audit log")?
            .collect::<sql::SqlResult<Vec<_>>>()
            .ctx("read the audit log")?;
        Ok(rows)
    }
}
