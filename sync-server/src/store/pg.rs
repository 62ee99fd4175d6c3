//! The store on PostgreSQL: connecting, the schema and its migrations, and clearing
//! erased personal data out of the tables' old row versions.
//!
//! The tables are SQLite's, in two schemas: `main` for documents, kiosks, the audit and
//! the office's projection, and `personal` for person keys and the readable person
//! projection, so that a dump of `main` holds no key and no name (the role that may read
//! `personal` can be kept apart). Text columns compare byte by byte (`COLLATE "C"`), as
//! in SQLite, so that dates, times and ids sort the same on both.

use super::sql::{Context, PgConn, SqlResult};
use super::{Result, StoreError};

/// PostgreSQL's migrations, numbered like SQLite's: `main.schema_version` counts those
/// that have run. The first is the whole schema of SQLite's ten.
const MIGRATIONS: &[&str] = &[
    include_str!("postgres/1_schema.sql"),
    include_str!("postgres/2_key_positions.sql"),
];

/// Migrations of several processes starting at once take turns on this lock.
const MIGRATION_LOCK: i64 = 0x0062_6c69_736b_6f02;

pub(super) fn open(url: &str) -> Result<PgConn> {
    let mut conn = PgConn::connect_unmigrated(url).ctx("connect to PostgreSQL")?;
    migrate(&mut conn).ctx("run the PostgreSQL migrations")??;
    conn.use_main().ctx("connect to PostgreSQL")?;
    Ok(conn)
}

fn migrate(conn: &mut PgConn) -> SqlResult<Result<()>> {
    let mut tx = conn.client().transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS main;
         CREATE SCHEMA IF NOT EXISTS personal;
         CREATE TABLE IF NOT EXISTS main.schema_version (version BIGINT NOT NULL);",
    )?;
    let version: i64 = match tx.query_opt("SELECT version FROM main.schema_version", &[])? {
        Some(row) => row.try_get(0)?,
        None => {
            tx.execute("INSERT INTO main.schema_version (version) VALUES (0)", &[])?;
            0
        }
    };
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Ok(Err(StoreError::TooNew {
            found: version,
            known,
        }));
    }
    tx.batch_execute("SET LOCAL search_path TO main, personal")?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "UPDATE main.schema_version SET version = $1",
            &[&(i as i64 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// Rewrite the personal tables without the row versions an erasure left behind (VACUUM
/// FULL takes an exclusive lock on these small tables for a moment).
pub(super) fn vacuum_personal(conn: &mut PgConn) -> Result<()> {
    // One statement at a time: VACUUM may not run in the transaction that a query of
    // several statements makes.
    conn.outside_transaction(|client| {
        client.batch_execute("VACUUM FULL personal.person_keys")?;
        client.batch_execute("VACUUM FULL personal.o_persons")
    })
    .ctx("clear erased personal data")
}
