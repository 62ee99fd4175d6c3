//! The server's two stores for the tests: SQLite in its data folder, or PostgreSQL in a
//! fresh database per test. A test of the store's behaviour runs on every backend of
//! [`backends`]; `BLISKO_TEST_BACKENDS` narrows the list.
//!
//! PostgreSQL is found through `BLISKO_TEST_POSTGRES` (a URL of a database the tests may
//! create databases from), else the libpq variables `PGHOST`, `PGPORT`, `PGUSER`,
//! `PGPASSWORD` (as `pg_virtualenv` sets them), else `postgres://postgres@127.0.0.1:5432`.

use std::fmt;

use anyhow::{Context, Result, bail};
use postgres::{Client, NoTls};
use url::Url;

/// Names the backends the tests run on: `sqlite`, `postgres`, or both, comma-separated.
pub const BACKENDS_ENV: &str = "BLISKO_TEST_BACKENDS";
/// The URL of the PostgreSQL database the tests create their databases from.
pub const POSTGRES_ENV: &str = "BLISKO_TEST_POSTGRES";

/// Where the server keeps its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files in the data folder (the server's default).
    Sqlite,
    /// A PostgreSQL database (`--database URL`).
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn parse(name: &str) -> Option<Backend> {
        match name.trim() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The backends to test: both, unless `BLISKO_TEST_BACKENDS` names fewer. A wrong value
/// stops the test rather than testing less than asked.
pub fn backends() -> Vec<Backend> {
    match std::env::var(BACKENDS_ENV) {
        Ok(value) => parse_backends(&value).unwrap_or_else(|e| panic!("{e:#}")),
        Err(_) => vec![Backend::Sqlite, Backend::Postgres],
    }
}

fn parse_backends(value: &str) -> Result<Vec<Backend>> {
    let mut out = Vec::new();
    for name in value.split(',').filter(|n| !n.trim().is_empty()) {
        let backend = Backend::parse(name).with_context(|| {
            format!("{BACKENDS_ENV}={value:?}: {name:?} is not a backend (sqlite, postgres)")
        })?;
        if !out.contains(&backend) {
            out.push(backend);
        }
    }
    if out.is_empty() {
        bail!("{BACKENDS_ENV} is set but names no backend (sqlite, postgres)");
    }
    Ok(out)
}

/// Run a test once on each backend of [`backends`], in turn; an error names the backend.
pub fn for_each_backend(test: impl Fn(Backend) -> Result<()>) -> Result<()> {
    for backend in backends() {
        eprintln!("-- on {backend}");
        test(backend).with_context(|| format!("on the {backend} backend"))?;
    }
    Ok(())
}

/// The one backend of a test too slow to run on every backend (a browser's): `preferred`
/// when [`backends`] has it, else the first of them. Such tests are shared out between
/// the backends, so that each backend is tested by some of them.
pub fn backend_or_first(preferred: Backend) -> Backend {
    let backends = backends();
    if backends.contains(&preferred) {
        preferred
    } else {
        backends[0]
    }
}

/// The URL of the database the tests create theirs from (see the module's comment).
pub fn admin_url() -> Result<Url> {
    admin_url_from(|name| std::env::var(name).ok())
}

/// [`admin_url`] with the environment given as a lookup.
fn admin_url_from(env: impl Fn(&str) -> Option<String>) -> Result<Url> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(given) = var(POSTGRES_ENV) {
        return Url::parse(&given).with_context(|| format!("{POSTGRES_ENV}={given:?} is no URL"));
    }
    let mut url = Url::parse("postgres://127.0.0.1:5432/postgres").context("the default URL")?;
    if let Some(port) = var("PGPORT") {
        let port: u16 = port
            .parse()
            .with_context(|| format!("PGPORT={port:?} is no port"))?;
        url.set_port(Some(port))
            .map_err(|()| anyhow::anyhow!("PGPORT {port}"))?;
    }
    url.set_username(&var("PGUSER").unwrap_or_else(|| "postgres".to_owned()))
        .map_err(|()| anyhow::anyhow!("PGUSER"))?;
    if let Some(password) = var("PGPASSWORD") {
        url.set_password(Some(&password))
            .map_err(|()| anyhow::anyhow!("PGPASSWORD"))?;
    }
    match var("PGHOST") {
        // A socket folder is no host name: the URL names it as a parameter.
        Some(host) if host.starts_with('/') => {
            url.query_pairs_mut().append_pair("host", &host);
        }
        Some(host) => url
            .set_host(Some(&host))
            .with_context(|| format!("PGHOST={host:?}"))?,
        None => {}
    }
    Ok(url)
}

/// A connection on `url`, with an error that says how to get a server or do without.
fn connect(url: &Url) -> Result<Client> {
    Client::connect(url.as_str(), NoTls).with_context(|| {
        format!(
            "cannot connect to PostgreSQL at {}: start one (on a Debian machine: apt-get install \
             postgresql, or run the tests under pg_virtualenv), or point {POSTGRES_ENV} (or \
             PGHOST, PGPORT, PGUSER, PGPASSWORD) at one, or set {BACKENDS_ENV}=sqlite to test \
             the SQLite store only",
            without_password(url)
        )
    })
}

fn without_password(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// A new, empty PostgreSQL database of its own for one test, dropped (connections and
/// all) when this is dropped.
pub struct TestDatabase {
    name: String,
    url: Url,
    admin: Url,
}

impl TestDatabase {
    /// Create a database with a new name (`blisko_t_` and 32 hex digits).
    pub fn create() -> Result<TestDatabase> {
        let admin = admin_url()?;
        let name = format!("blisko_t_{:032x}", rand::random::<u128>());
        // The name is ours, made of [a-z0-9_]: safe to write into the statement as is.
        connect(&admin)?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .with_context(|| format!("create the test database {name}"))?;
        let mut url = admin.clone();
        url.set_path(&format!("/{name}"));
        Ok(TestDatabase { name, url, admin })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to give the server (`--database`) or a client.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// A new connection to the database.
    pub fn connect(&self) -> Result<Client> {
        connect(&self.url)
    }

    /// The tables of a schema, by name.
    /// Wait until `n` transactions in this database wait for an advisory lock (at most
    /// `stuck`; a test's transaction that has not got there by then is stuck).
    pub fn wait_for_lock_waiters(&self, n: i64, stuck: std::time::Duration) -> Result<()> {
        let mut client = self.connect()?;
        let since = std::time::Instant::now();
        loop {
            let waiting: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_locks
                     WHERE locktype = 'advisory' AND NOT granted AND database = (
                        SELECT oid FROM pg_database WHERE datname = current_database())",
                    &[],
                )?
                .get(0);
            if waiting == n {
                return Ok(());
            }
            if since.elapsed() > stuck {
                bail!("{waiting} transactions wait for a lock, not {n}");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    pub fn tables(&self, schema: &str) -> Result<Vec<String>> {
        let rows = self.connect()?.query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
            &[&schema],
        )?;
        rows.iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect::<Result<_>>()
            .with_context(|| format!("the tables of {schema}"))
    }

    /// The schemas of the database's own tables (PostgreSQL's catalogs left out).
    pub fn schemas(&self) -> Result<Vec<String>> {
        let rows = self.connect()?.query(
            "SELECT nspname::text FROM pg_namespace \
             WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1",
            &[],
        )?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Every row of every table of the schemas, as PostgreSQL writes a row as text
    /// (`bytea` as `\x` and hex): what a plain dump would hold. Named `schema.table`.
    pub fn rows_as_text(&self, schemas: &[&str]) -> Result<Vec<(String, String)>> {
        let mut client = self.connect()?;
        let mut out = Vec::new();
        for schema in schemas {
            for table in self.tables(schema)? {
                let name = format!("{schema}.{table}");
                let sql = format!("SELECT t::text FROM {} t", quoted(schema, &table));
                for row in client.query(&sql, &[]).with_context(|| sql.clone())? {
                    out.push((name.clone(), row.try_get(0)?));
                }
            }
        }
        Ok(out)
    }

    /// A copy of every table of schema `from`, as it is now, in the new schema `to`.
    pub fn copy_schema(&self, from: &str, to: &str) -> Result<()> {
        let mut sql = format!("CREATE SCHEMA {};", quoted_name(to));
        for table in self.tables(from)? {
            sql += &format!(
                "CREATE TABLE {} AS TABLE {};",
                quoted(to, &table),
                quoted(from, &table)
            );
        }
        self.connect()?
            .batch_execute(&format!("BEGIN;{sql}COMMIT"))
            .with_context(|| format!("copy the schema {from} to {to}"))
    }

    /// Put the rows of schema `from` (a [`TestDatabase::copy_schema`]) back into `to`,
    /// in place of what `to`'s tables hold: a part of the store as it was. (The tables'
    /// foreign keys are not checked while the rows go in, in whatever order, so the
    /// tests' role must be a superuser, as `postgres` is.)
    pub fn restore_schema(&self, from: &str, to: &str) -> Result<()> {
        let tables = self.tables(to)?;
        let mut sql = String::from("BEGIN;SET LOCAL session_replication_role = replica;");
        if !tables.is_empty() {
            let all: Vec<String> = tables.iter().map(|t| quoted(to, t)).collect();
            sql += &format!("TRUNCATE {} CASCADE;", all.join(", "));
        }
        for table in &tables {
            sql += &format!(
                "INSERT INTO {} OVERRIDING SYSTEM VALUE SELECT * FROM {};",
                quoted(to, table),
                quoted(from, table)
            );
        }
        sql += "COMMIT";
        self.connect()?
            .batch_execute(&sql)
            .with_context(|| format!("put the schema {from} back into {to}"))
    }

    fn drop_database(&self) -> Result<()> {
        connect(&self.admin)?
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .with_context(|| format!("drop the test database {}", self.name))
    }
}

/// A name in double quotes, as SQL takes any name.
fn quoted_name(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quoted(schema: &str, table: &str) -> String {
    format!("{}.{}", quoted_name(schema), quoted_name(table))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.drop_database() {
            eprintln!("{e:#}");
        }
    }
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TestDatabase({})", without_password(&self.url))
    }
}

/// Write into `db` a document only the feeds are to read (its bytes are not a document),
/// of `branch`, with heads made of `mark`: a change feed entry for tests of the store.
pub fn feed_only_document(
    db: &blisko_sync_server::store::Db<'_>,
    branch: blisko_shared::ids::BranchId,
    mark: u8,
) -> Result<blisko_shared::docs::DocKey> {
    use blisko_shared::docs::{ChangeHash, DocKey};
    let key = DocKey::Intake(blisko_shared::ids::RequestId::new());
    db.insert_document(
        key,
        Some(branch),
        None,
        b"not a document: the feed never reads it",
        &[ChangeHash([mark; 32])],
        "2026-12-06T10:00:00Z",
    )?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_named_once_each_and_a_wrong_name_is_refused() {
        assert_eq!(parse_backends("sqlite").ok(), Some(vec![Backend::Sqlite]));
        assert_eq!(
            parse_backends("postgres, sqlite,postgres").ok(),
            Some(vec![Backend::Postgres, Backend::Sqlite])
        );
        let wrong = parse_backends("sqlite,mysql").map(|_| ());
        let message = format!("{:#}", wrong.expect_err("mysql is refused"));
        assert!(message.contains("\"mysql\" is not a backend"), "{message}");
        assert!(parse_backends(" , ").is_err(), "nothing named");
    }

    fn database_exists(admin: &Url, name: &str) -> Result<bool> {
        let row = connect(admin)?.query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    /// A test database is created empty, takes connections and tables, and is gone after
    /// the drop, even with a connection still open on it.
    #[test]
    fn a_test_database_is_created_used_and_dropped() -> Result<()> {
        if !backends().contains(&Backend::Postgres) {
            eprintln!("{BACKENDS_ENV} leaves PostgreSQL out: not tested");
            return Ok(());
        }
        let db = TestDatabase::create()?;
        let other = TestDatabase::create()?;
        assert_ne!(db.name(), other.name());
        assert!(db.url().ends_with(&format!("/{}", db.name())), "{db:?}");
        let admin = admin_url()?;
        assert!(database_exists(&admin, db.name())?);

        let mut client = db.connect()?;
        let tables = client.query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )?;
        assert_eq!(tables.get::<_, i64>(0), 0, "a new database is empty");
        client.batch_execute(
            "CREATE TABLE t (x integer PRIMARY KEY); INSERT INTO t VALUES (7);
             CREATE TABLE a (id integer GENERATED ALWAYS AS IDENTITY, x integer REFERENCES t);
             INSERT INTO a (x) VALUES (7);",
        )?;
        let row = client.query_one("SELECT x FROM t", &[])?;
        assert_eq!(row.get::<_, i32>(0), 7);
        assert_eq!(db.tables("public")?, ["a", "t"]);
        assert_eq!(db.schemas()?, ["public"]);

        // A copy of a schema holds its rows as they were; put back, they replace what
        // came since (a's rows go in before t's, which they refer to; a's ids as they were).
        db.copy_schema("public", "saved")?;
        client.batch_execute("INSERT INTO t VALUES (9); INSERT INTO a (x) VALUES (9)")?;
        let rows = |schemas: &[&str]| -> Result<Vec<String>> {
            let mut rows: Vec<String> = db
                .rows_as_text(schemas)?
                .into_iter()
                .map(|(table, row)| format!("{table} {row}"))
                .collect();
            rows.sort();
            Ok(rows)
        };
        assert_eq!(
            rows(&["public", "saved"])?,
            [
                "public.a (1,7)",
                "public.a (2,9)",
                "public.t (7)",
                "public.t (9)",
                "saved.a (1,7)",
                "saved.t (7)"
            ]
        );
        db.restore_schema("saved", "public")?;
        assert_eq!(rows(&["public"])?, ["public.a (1,7)", "public.t (7)"]);
        let name = db.name().to_owned();

        // Dropped with the connection still open: FORCE ends it.
        drop(db);
        assert!(!database_exists(&admin, &name)?, "{name} is dropped");
        assert!(
            client.query_one("SELECT 1", &[]).is_err(),
            "the connection ended"
        );
        assert!(database_exists(&admin, other.name())?, "the other stays");
        Ok(())
    }

    fn url_from(vars: &[(&str, &str)]) -> String {
        admin_url_from(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .map(|u| u.to_string())
        .unwrap_or_else(|e| format!("{e:#}"))
    }

    #[test]
    fn the_admin_url_comes_from_the_test_variable_or_libpq_s() {
        assert_eq!(url_from(&[]), "postgres://postgres@127.0.0.1:5432/postgres");
        // As pg_virtualenv sets them.
        assert_eq!(
            url_from(&[
                ("PGHOST", "localhost"),
                ("PGPORT", "5433"),
                ("PGUSER", "postgres"),
                ("PGPASSWORD", "a/b@c"),
                ("PGDATABASE", "postgres"),
            ]),
            "postgres://postgres:a%2Fb%40c@localhost:5433/postgres"
        );
        assert_eq!(
            url_from(&[("PGHOST", "/var/run/postgresql"), ("PGUSER", "ewa")]),
            "postgres://ewa@127.0.0.1:5432/postgres?host=%2Fvar%2Frun%2Fpostgresql"
        );
        // The test variable wins over libpq's.
        assert_eq!(
            url_from(&[
                (POSTGRES_ENV, "postgres://t@db.example:6543/tests"),
                ("PGPORT", "5433"),
            ]),
            "postgres://t@db.example:6543/tests"
        );
        let wrong = url_from(&[("PGPORT", "piec")]);
        assert!(wrong.contains("PGPORT=\"piec\" is no port"), "{wrong}");
    }

    #[test]
    fn a_password_is_hidden_in_messages() -> Result<()> {
        let url = Url::parse("postgres://u:geheim@localhost:5433/postgres")?;
        let shown = without_password(&url);
        assert!(
            !shown.contains("geheim") && shown.contains("u:***@localhost"),
            "{shown}"
        );
        Ok(())
    }
}
