//! What `/health` and `/metrics` ask of the two database files.

use std::path::PathBuf;

use rusqlite::{Connection, OpenFlags};

use blisko_shared::sqlite::Context;

use super::sql::{Conn, Context as _};
use super::{Result, ServerStore, StoreError};

/// The two files, by the schema name the connection gives them.
const SCHEMAS: [&str; 2] = ["main", "personal"];

impl ServerStore {
    /// The files of the two schemas, as the connection has them open.
    fn schema_files(conn: &Connection) -> Result<Vec<(&'static str, PathBuf)>> {
        SCHEMAS
            .iter()
            .map(|schema| {
                let path = conn
                    .query_row(
                        "SELECT file FROM pragma_database_list WHERE name = ?1",
                        [schema],
                        |r| r.get::<_, String>(0),
                    )
                    .ctx("find a database file")?;
                Ok((*schema, PathBuf::from(path)))
            })
            .collect()
    }

    /// Whether both files answer: a query on each through the server's connection, then
    /// each file opened afresh, read-only, and its schema read, so a file removed,
    /// replaced or made unreadable under the running server is noticed (the open
    /// connection alone would go on reading the old one).
    pub fn check_health(&mut self) -> Result<()> {
        let conn = match &mut self.conn {
            Conn::Sqlite(conn) => conn,
            Conn::Postgres(pg) => {
                return pg
                    .outside_transaction(|client| {
                        client.batch_execute(
                            "SELECT count(*) FROM main.meta; SELECT count(*) FROM personal.projected",
                        )
                    })
                    .ctx("read both schemas");
            }
        };
        for (schema, path) in Self::schema_files(conn)? {
            conn.query_row(
                &format!("SELECT count(*) FROM {schema}.sqlite_schema"),
                (),
                |r| r.get::<_, i64>(0),
            )
            .ctx("read a database file's schema")?;
            let fresh = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ctx("open a database file afresh")?;
            let tables: i64 = fresh
                .query_row("SELECT count(*) FROM sqlite_schema", (), |r| r.get(0))
                .ctx("read a database file's schema afresh")?;
            if tables == 0 {
                return Err(StoreError::Corrupt {
                    what: path.display().to_string(),
                    detail: "the file holds no tables".into(),
                });
            }
        }
        Ok(())
    }

    /// The bytes on disk of each file with its write-ahead log: `("server", n)` and
    /// `("personal", n)`.
    /// On PostgreSQL, the bytes of each schema's tables with their indexes.
    pub fn file_sizes(&mut self) -> Result<Vec<(&'static str, u64)>> {
        let conn = match &mut self.conn {
            Conn::Sqlite(conn) => conn,
            Conn::Postgres(pg) => {
                let mut sizes = Vec::new();
                for (schema, name) in [("main", "server"), ("personal", "personal")] {
                    let bytes: i64 = pg
                        .outside_transaction(|client| {
                            client
                                .query_one(
                                    "SELECT CAST(coalesce(sum(pg_total_relation_size(c.oid)), 0) AS BIGINT)
                                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                     WHERE n.nspname = $1 AND c.relkind = 'r'",
                                    &[&schema],
                                )?
                                .try_get(0)
                        })
                        .ctx("measure the database")?;
                    sizes.push((name, u64::try_from(bytes).unwrap_or_default()));
                }
                return Ok(sizes);
            }
        };
        Self::schema_files(conn)?
            .into_iter()
            .map(|(schema, path)| {
                let mut wal = path.clone().into_os_string();
                wal.push("-wal");
                let size = |p: &std::path::Path| match std::fs::metadata(p) {
                    Ok(m) => Ok(m.len()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
                    Err(source) => Err(StoreError::Io {
                        what: p.display().to_string(),
                        source,
                    }),
                };
                let name = if schema == "main" {
                    "server"
                } else {
                    "personal"
                };
                Ok((name, size(&path)? + size(std::path::Path::new(&wal))?))
            })
            .collect()
    }
}
