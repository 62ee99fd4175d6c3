//! Online copies of the two database files (see `crate::backup` for the archive around
//! them), and the replay of erasures made after a copy was taken.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::sql::{Conn, OptionalExtension, params};

use blisko_shared::ids::PersonId;

use super::sql::Context;
use super::{Db, Result, ServerStore, StoreError};
use blisko_shared::sqlite::Context as _;

impl ServerStore {
    /// The data folder this store was opened in.
    pub fn data_dir(&self) -> Option<PathBuf> {
        let Conn::Sqlite(conn) = &self.conn else {
            return None;
        };
        conn.path()
            .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
    }

    /// Copy both database files, as they are now, to `main` and `personal` (new files),
    /// while a server may be writing. Both are copied inside one read transaction; its
    /// snapshot of the personal file is taken first, so an erasure the copy of the main
    /// file lacks is not in the personal copy either, and one only the main copy holds
    /// (its `erasures` row) is finished at the next start (`Central::complete_erasures`).
    /// Returns the main file's schema version.
    pub fn backup_into(&mut self, main: &Path, personal: &Path) -> Result<i64> {
        let Conn::Sqlite(conn) = &mut self.conn else {
            return Err(StoreError::Database {
                context: "back up the store",
                detail: "the store is a PostgreSQL database: back it up with PostgreSQL's own tools (pg_dump, or a base backup with WAL archiving)".into(),
            });
        };
        let tx = conn.transaction().ctx("begin the backup's read")?;
        // Reading starts each file's snapshot: the personal file's first.
        tx.query_row(
            "SELECT count(*) FROM personal.sqlite_master",
            (),
            |_| Ok(()),
        )
        .ctx("read the personal-data file")?;
        let version: i64 = tx
            .query_row("PRAGMA main.user_version", (), |r| r.get(0))
            .ctx("read the schema version")?;
        tx.query_row("SELECT count(*) FROM main.sqlite_master", (), |_| Ok(()))
            .ctx("read the main file")?;
        for (schema, to) in [("personal", personal), ("main", main)] {
            let mut dest = Connection::open(to).ctx("create a backup file")?;
            {
                let backup = Backup::new_with_names(&tx, schema, &mut dest, "main")
                    .ctx("start copying a database file")?;
                // All pages in one step: within the read transaction, one snapshot.
                match backup.step(-1).ctx("copy a database file")? {
                    StepResult::Done => {}
                    other => {
                        return Err(StoreError::Corrupt {
                            what: format!("the copy of {schema}"),
                            detail: format!("the copy stopped before its end ({other:?})"),
                        });
                    }
                }
            }
            // One self-contained file: no write-ahead log beside it.
            dest.pragma_update(None, "journal_mode", "DELETE")
                .ctx("finish a backup file")?;
            dest.close().map_err(|(_, source)| StoreError::Sqlite {
                context: "close a backup file",
                source,
            })?;
        }
        tx.commit().ctx("end the backup's read")?;
        Ok(version)
    }
}

/// The schema version this build migrates to (SQLite `user_version` of the main file).
pub fn schema_version() -> i64 {
    super::MIGRATIONS.len() as i64
}

/// The meta key of the store's instance id (see [`Db::instance`]).
const INSTANCE_KEY: &str = "instance";

impl ServerStore {
    /// Give the store a new instance id: it is a copy restored from a backup, which may
    /// lack changes kiosks were told it holds (see [`Db::instance`]).
    pub fn mark_restored(&mut self) -> Result<uuid::Uuid> {
        let db = self.write()?;
        let id = uuid::Uuid::new_v4();
        db.set_meta(INSTANCE_KEY, &id.to_string())?;
        db.commit()?;
        Ok(id)
    }
}

impl Db<'_> {
    /// This store's instance id, made on first use: the same for as long as the store's
    /// history is one line, new when it is restored from a backup. Kiosks compare it with
    /// the one they last synced with (docs/sync-protocol.md, "A restored server").
    /// Read once per transaction (the rounds of a batch share it); one made here is not
    /// remembered, as the part of the transaction that stored it may be taken back.
    pub fn instance(&self) -> Result<uuid::Uuid> {
        if let Some(id) = self.instance.get() {
            return Ok(*id);
        }
        if let Some(id) = self.meta(INSTANCE_KEY)? {
            let id = super::parse("the store's instance id", &id)?;
            return Ok(*self.instance.get_or_init(|| id));
        }
        // A new store: this transaction makes the id, unless another process's first
        // round (of another branch point) does so at the same moment. Then this insert
        // waits for that transaction and, once it commits, keeps its id: the id read back
        // is the one stored. (Not remembered: a round taken back takes a made id back.)
        self.tx
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![INSTANCE_KEY, uuid::Uuid::new_v4().to_string()],
            )
            .ctx("make the store's instance id")?;
        let id = self
            .meta(INSTANCE_KEY)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "the store's instance id".to_owned(),
                detail: "missing right after it was made".to_owned(),
            })?;
        super::parse("the store's instance id", &id)
    }

    /// Every erasure recorded in the main file: person and time.
    pub fn erasures(&self) -> Result<Vec<(PersonId, String)>> {
        let mut stmt = self
            .tx
            .prepare("SELECT person_id, at FROM main.erasures ORDER BY at, person_id")
            .ctx("read the erasures")?;
        let rows = stmt
            .query_map((), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .ctx("read the erasures")?
            .collect::<super::sql::SqlResult<Vec<_>>>()
            .ctx("read the erasures")?;
        rows.into_iter()
            .map(|(id, at)| Ok((super::parse("person id", &id)?, at)))
            .collect()
    }

    /// An erasure from the erasure log that this store lacks (it was restored from a
    /// copy taken before): recorded as reaching the documents, so that
    /// `Central::complete_erasures` erases the person. Returns whether there was
    /// anything to replay: a person whose key this store still holds. A person the store
    /// does not know, or has erased already, changes nothing.
    pub fn replay_erasure(&self, person: PersonId, at: &str) -> Result<bool> {
        let has_key: Option<bool> = self
            .tx
            .query_row(
                "SELECT key IS NOT NULL FROM personal.person_keys WHERE person_id = ?1",
                [person.to_string()],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a person key")?;
        if has_key != Some(true) {
            return Ok(false);
        }
        self.tx
            .execute(
                "INSERT INTO main.erasures (person_id, at) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO NOTHING",
                params![person.to_string(), at],
            )
            .ctx("record an erasure to replay")?;
        Ok(true)
    }
}
