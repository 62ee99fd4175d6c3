//! One way to run SQL on either of the server's stores: SQLite in the data folder (the
//! embedded default) or PostgreSQL shared by several server processes. The store's
//! modules write their SQL once, in the subset both understand (`?1` placeholders, `ON
//! CONFLICT`, `RETURNING`, `main.` and `personal.` schemas), and call it through the
//! small rusqlite-like interface here: `execute`, `query_row`, `query_map`, rows read
//! with `get`. For PostgreSQL the placeholders become `$1` and each statement is
//! prepared once per connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use postgres::types::{IsNull, Type};

use blisko_shared::sqlite::{Result, StoreError};

/// Which database a store runs on, for the few statements that must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("the query returned no row")]
    NoRows,
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    #[error("column {column}: {detail}")]
    Type { column: usize, detail: String },
}

pub type SqlResult<T> = std::result::Result<T, SqlError>;

/// Attach what we were doing to a database error, and single out a disk that refuses
/// writes. PostgreSQL's messages go without their DETAIL line, which may quote values.
pub trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for SqlResult<T> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|e| match e {
            SqlError::Sqlite(source) => {
                match blisko_shared::sqlite::Context::ctx(Err::<(), _>(source), context) {
                    Err(e) => e,
                    Ok(()) => StoreError::Database {
                        context,
                        detail: "unknown error".into(),
                    },
                }
            }
            SqlError::Postgres(source) => match source.as_db_error() {
                Some(db) if db.code() == &postgres::error::SqlState::DISK_FULL => {
                    StoreError::DiskFull { context }
                }
                Some(db) => StoreError::Database {
                    context,
                    detail: format!("{} ({})", db.message(), db.code().code()),
                },
                None => StoreError::Database {
                    context,
                    detail: source.to_string(),
                },
            },
            other => StoreError::Database {
                context,
                detail: other.to_string(),
            },
        })
    }
}

/// `Ok(None)` for a query that found no row.
pub trait OptionalExtension<T> {
    fn optional(self) -> SqlResult<Option<T>>;
}

impl<T> OptionalExtension<T> for SqlResult<T> {
    fn optional(self) -> SqlResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What may be bound to a placeholder.
pub trait ToSql {
    fn to_value(&self) -> Value<'_>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToSql::to_value)
    }
}

impl ToSql for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToSql for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToSql for [u8] {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl ToSql for Vec<u8> {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl<const N: usize> ToSql for [u8; N] {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl ToSql for bool {
    fn to_value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl ToSql for f64 {
    fn to_value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

macro_rules! int_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_value(&self) -> Value<'_> {
                // Counts, numbers and milliseconds: far below i64::MAX.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_to_sql!(i64, i32, u8, u16, u32, u64, usize);

impl ToSql for blisko_shared::seats::SeatStatus {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self.code())
    }
}

/// What a column may be read as.
pub trait FromSql: Sized {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String>;
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl FromSql for String {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.to_owned()),
            v => Err(format!("expected text, found {v:?}")),
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.to_vec()),
            v => Err(format!("expected bytes, found {v:?}")),
        }
    }
}

impl FromSql for bool {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Int(n) => Ok(n != 0),
            v => Err(format!("expected a truth value, found {v:?}")),
        }
    }
}

impl FromSql for f64 {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Real(f) => Ok(f),
            Value::Int(n) => Ok(n as f64),
            v => Err(format!("expected a number, found {v:?}")),
        }
    }
}

macro_rules! int_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
                match value {
                    Value::Int(n) => <$t>::try_from(n).map_err(|_| format!("{n} is out of range")),
                    v => Err(format!("expected an integer, found {v:?}")),
                }
            }
        }
    )*};
}
int_from_sql!(i64, i32, u8, u16, u32, u64, usize);

impl FromSql for blisko_shared::seats::SeatStatus {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Text(code) => {
                Self::from_code(code).ok_or_else(|| format!("{code:?} is not a seat status"))
            }
            v => Err(format!("expected a seat status, found {v:?}")),
        }
    }
}

/// The values of a statement's placeholders, in order.
pub trait Params {
    fn values(&self) -> Vec<Value<'_>>;
}

impl Params for () {
    fn values(&self) -> Vec<Value<'_>> {
        Vec::new()
    }
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(ToSql::to_value).collect()
    }
}

impl Params for &[&dyn ToSql] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|v| v.to_value()).collect()
    }
}

impl<T: ToSql> Params for Vec<T> {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(ToSql::to_value).collect()
    }
}

/// Placeholders' values from an iterator.
pub fn params_from_iter<I>(values: I) -> Vec<I::Item>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    values.into_iter().collect()
}

/// Placeholders' values of different types: `params![id, name, 3]`.
macro_rules! params {
    () => { () };
    ($($value:expr),+ $(,)?) => {
        &[$(&$value as &dyn $crate::store::sql::ToSql),+] as &[&dyn $crate::store::sql::ToSql]
    };
}
pub(crate) use params;

/// A row of a result.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

/// How a column is named in [`Row::get`]: by its position.
pub trait ColumnIndex {
    fn position(&self) -> usize;
}

impl ColumnIndex for usize {
    fn position(&self) -> usize {
        *self
    }
}

impl Row<'_> {
    pub fn get<I: ColumnIndex, T: FromSql>(&self, index: I) -> SqlResult<T> {
        let column = index.position();
        T::from_value(self.value(column)?).map_err(|detail| SqlError::Type { column, detail })
    }

    fn value(&self, column: usize) -> SqlResult<Value<'_>> {
        match self {
            Row::Sqlite(row) => Ok(match row.get_ref(column)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                rusqlite::types::ValueRef::Text(t) => {
                    Value::Text(std::str::from_utf8(t).map_err(|e| SqlError::Type {
                        column,
                        detail: e.to_string(),
                    })?)
                }
                rusqlite::types::ValueRef::Blob(b) => Value::Blob(b),
            }),
            Row::Postgres(row) => {
                let ty = row
                    .columns()
                    .get(column)
                    .ok_or_else(|| SqlError::Type {
                        column,
                        detail: "no such column".into(),
                    })?
                    .type_()
                    .clone();
                let value = match ty {
                    Type::INT8 => row.try_get::<_, Option<i64>>(column)?.map(Value::Int),
                    Type::INT4 => row
                        .try_get::<_, Option<i32>>(column)?
                        .map(|n| Value::Int(n.into())),
                    Type::INT2 => row
                        .try_get::<_, Option<i16>>(column)?
                        .map(|n| Value::Int(n.into())),
                    Type::BOOL => row
                        .try_get::<_, Option<bool>>(column)?
                        .map(|b| Value::Int(b.into())),
                    Type::FLOAT8 => row.try_get::<_, Option<f64>>(column)?.map(Value::Real),
                    Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                        row.try_get::<_, Option<&str>>(column)?.map(Value::Text)
                    }
                    Type::BYTEA => row.try_get::<_, Option<&[u8]>>(column)?.map(Value::Blob),
                    other => {
                        return Err(SqlError::Type {
                            column,
                            detail: format!("the type {other} is not read by the store"),
                        });
                    }
                };
                Ok(value.unwrap_or(Value::Null))
            }
        }
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(n),
            Value::Real(f) => ValueRef::Real(f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// PostgreSQL types its placeholders from the statement; a value goes in as that type
/// when it fits (an integer as a `smallint`, a truth value or text, say).
impl postgres::types::ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
                Type::BOOL => (n != 0).to_sql(ty, out),
                Type::FLOAT8 => (n as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => n.to_string().to_sql(ty, out),
                _ => Err(format!("an integer cannot go in as {ty}").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                _ => Err(format!("a number cannot go in as {ty}").into()),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// `?1`, `?2`, … as PostgreSQL's `$1`, `$2`, …; quoted text is left alone.
fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '?') => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Placeholders' values as the PostgreSQL client takes them.
fn postgres_params<'v>(values: &'v [Value<'_>]) -> Vec<&'v (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// A connection to either store.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConn>),
}

/// A PostgreSQL connection with its prepared statements.
pub struct PgConn {
    url: String,
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
    /// When a transaction last began on the connection.
    last_used: Instant,
}

/// A connection unused this long is asked whether it still answers before a transaction
/// begins on it: a database restarted meanwhile is then met by connecting again, not by
/// failing the request. A busy connection is not asked (the ask is a round trip).
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(1);

/// Writers on one PostgreSQL database take turns on this advisory lock, as SQLite's
/// writers do on its file: every rule a request checks before it writes (a free seat, an
/// unused code, the next position in the change feed) holds until it commits, whichever
/// process runs it. Sync rounds take it shared (`ServerStore::write_branches`) and then
/// their branch points' locks, since what a sync round checks is of its branch point
/// alone.
pub const WRITE_LOCK: i64 = 0x0062_6c69_736b_6f01;

/// The first half of the two-part advisory lock of one branch point (the second is
/// folded from its id), taken by the sync rounds of a [`Conn::begin_shared`]
/// transaction: two transactions of the same branch point take turns, of different ones
/// run side by side. (A lock of two parts never meets the one-part [`WRITE_LOCK`].)
pub const BRANCH_LOCK_CLASS: i32 = 0x626c_6b01;

/// Feed positions of [`Conn::begin_shared`] transactions are handed out under this
/// lock, held from just before their commit to its end: so they follow commit order.
pub const SEQUENCE_LOCK: i64 = 0x0062_6c69_736b_6f03;

/// A sync rounds' transaction (`ServerStore::write_branches`) that writes the office
/// projection (its rows are of every branch point) takes this lock first and holds it
/// to its end.
pub const PROJECTION_LOCK: i64 = 0x0062_6c69_736b_6f04;

impl PgConn {
    /// Connect, with unqualified table names meaning the `main` schema, then `personal`.
    pub fn connect(url: &str) -> SqlResult<PgConn> {
        let mut conn = PgConn::connect_unmigrated(url)?;
        conn.use_main()?;
        Ok(conn)
    }

    pub(super) fn connect_unmigrated(url: &str) -> SqlResult<PgConn> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        // "already exists, skipping" and the like are not worth a log line.
        client.batch_execute("SET client_min_messages TO warning")?;
        Ok(PgConn {
            url: url.to_owned(),
            client,
            statements: HashMap::new(),
            last_used: Instant::now(),
        })
    }

    pub(super) fn use_main(&mut self) -> SqlResult<()> {
        Ok(self
            .client
            .batch_execute("SET search_path TO main, personal")?)
    }

    /// The client as it is, for the migrations run right after connecting.
    pub(super) fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }

    /// Work outside a transaction (`/health`, sizes, vacuum), asked again once on a new
    /// connection if the connection turns out to be closed: a database restart answers
    /// the first question after it, not a failure. `work` is to be safe to run twice.
    pub fn outside_transaction<T>(
        &mut self,
        work: impl Fn(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> SqlResult<T> {
        self.ensure_open()?;
        match work(&mut self.client) {
            Err(_) if self.client.is_closed() => {
                self.reconnect()?;
                Ok(work(&mut self.client)?)
            }
            done => Ok(done?),
        }
    }

    /// Connect again when the connection is closed (the database restarted or the
    /// network dropped; prepared statements go with the old connection), or when it was
    /// idle and no longer answers.
    fn ensure_open(&mut self) -> SqlResult<()> {
        let idle = self.last_used.elapsed() >= IDLE_CHECK_AFTER;
        if self.client.is_closed() || (idle && self.client.is_valid(IDLE_CHECK_TIMEOUT).is_err()) {
            self.reconnect()?;
        }
        self.last_used = Instant::now();
        Ok(())
    }

    /// A transaction that first takes [`WRITE_LOCK`] with `lock`, PostgreSQL's function
    /// of the mode wanted (`pg_advisory_xact_lock`, or its `_shared` form).
    fn write_transaction(&mut self, lock: &str) -> SqlResult<Tx<'_>> {
        self.ensure_open()?;
        let mut tx = self.client.transaction()?;
        tx.execute(&format!("SELECT {lock}($1)"), &[&WRITE_LOCK])?;
        Ok(Tx::Postgres {
            tx: RefCell::new(tx),
            statements: RefCell::new(&mut self.statements),
        })
    }

    /// A new connection in place of this one; its prepared statements go with it.
    fn reconnect(&mut self) -> SqlResult<()> {
        *self = PgConn::connect(&self.url)?;
        Ok(())
    }
}

/// How long an idle connection has to answer [`PgConn::ensure_open`]'s question.
const IDLE_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

impl Conn {
    /// A write transaction: all of its effects land together or not at all, and no
    /// other writer runs meanwhile.
    pub fn begin(&mut self) -> SqlResult<Tx<'_>> {
        match self {
            Conn::Sqlite(conn) => Ok(Tx::Sqlite(
                conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
            )),
            Conn::Postgres(pg) => pg.write_transaction("pg_advisory_xact_lock"),
        }
    }

    /// A write transaction of sync rounds that, on PostgreSQL, runs beside others of
    /// its kind: it takes the writers' lock shared, so that only a [`Conn::begin`]
    /// waits for it, and the caller then takes the lock of each branch point it writes
    /// ([`BRANCH_LOCK_CLASS`]). On SQLite it is [`Conn::begin`]: one writer at a time.
    pub fn begin_shared(&mut self) -> SqlResult<Tx<'_>> {
        match self {
            Conn::Sqlite(_) => self.begin(),
            Conn::Postgres(pg) => pg.write_transaction("pg_advisory_xact_lock_shared"),
        }
    }

    /// A read-only transaction that waits for no writer: it reads one consistent
    /// snapshot of the store, as of its first query (SQLite's write-ahead log) or its
    /// start (PostgreSQL's repeatable read), and the database refuses any write in it.
    /// On SQLite the connection is to be a reader's (`ServerStore::reader`).
    pub fn begin_read(&mut self) -> SqlResult<Tx<'_>> {
        match self {
            Conn::Sqlite(conn) => Ok(Tx::Sqlite(
                conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?,
            )),
            Conn::Postgres(pg) => {
                pg.ensure_open()?;
                let tx = pg
                    .client
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()?;
                Ok(Tx::Postgres {
                    tx: RefCell::new(tx),
                    statements: RefCell::new(&mut pg.statements),
                })
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }
}

/// An open transaction.
pub enum Tx<'c> {
    Sqlite(rusqlite::Transaction<'c>),
    Postgres {
        tx: RefCell<postgres::Transaction<'c>>,
        statements: RefCell<&'c mut HashMap<String, postgres::Statement>>,
    },
}

impl<'c> Tx<'c> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres { .. } => Dialect::Postgres,
        }
    }

    pub fn commit(self) -> SqlResult<()> {
        match self {
            Tx::Sqlite(tx) => Ok(tx.commit()?),
            Tx::Postgres { tx, .. } => Ok(tx.into_inner().commit()?),
        }
    }

    /// Statements without placeholders or results, one after the other.
    pub fn execute_batch(&self, sql: &str) -> SqlResult<()> {
        match self {
            Tx::Sqlite(tx) => Ok(tx.execute_batch(sql)?),
            Tx::Postgres { tx, .. } => Ok(tx.borrow_mut().batch_execute(sql)?),
        }
    }

    fn postgres_statement(&self, sql: &str) -> SqlResult<postgres::Statement> {
        let Tx::Postgres { tx, statements } = self else {
            unreachable!("only PostgreSQL prepares here");
        };
        if let Some(statement) = statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = tx.borrow_mut().prepare(&postgres_sql(sql))?;
        statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn postgres_rows(&self, sql: &str, values: &[Value<'_>]) -> SqlResult<Vec<postgres::Row>> {
        let statement = self.postgres_statement(sql)?;
        let Tx::Postgres { tx, .. } = self else {
            unreachable!("only PostgreSQL queries here");
        };
        Ok(tx
            .borrow_mut()
            .query(&statement, &postgres_params(values))?)
    }

    /// Run a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> SqlResult<usize> {
        let values = params.values();
        match self {
            Tx::Sqlite(tx) => Ok(tx
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(values.iter()))?),
            Tx::Postgres { tx, .. } => {
                let statement = self.postgres_statement(sql)?;
                let n = tx
                    .borrow_mut()
                    .execute(&statement, &postgres_params(&values))?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// The first row of a query, read by `f`; [`SqlError::NoRows`] when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> SqlResult<T>,
    ) -> SqlResult<T> {
        let values = params.values();
        match self {
            Tx::Sqlite(tx) => {
                let mut statement = tx.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
                match rows.next()? {
                    Some(row) => f(&Row::Sqlite(row)),
                    None => Err(SqlError::NoRows),
                }
            }
            Tx::Postgres { .. } => match self.postgres_rows(sql, &values)?.first() {
                Some(row) => f(&Row::Postgres(row)),
                None => Err(SqlError::NoRows),
            },
        }
    }

    /// Every row of a query, each read by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> SqlResult<T>,
    ) -> SqlResult<std::vec::IntoIter<SqlResult<T>>> {
        let values = params.values();
        let mut out = Vec::new();
        match self {
            Tx::Sqlite(tx) => {
                let mut statement = tx.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
                while let Some(row) = rows.next()? {
                    out.push(f(&Row::Sqlite(row)));
                }
            }
            Tx::Postgres { .. } => {
                for row in &self.postgres_rows(sql, &values)? {
                    out.push(f(&Row::Postgres(row)));
                }
            }
        }
        Ok(out.into_iter())
    }

    /// A statement to run, in rusqlite's shape (statements are cached either way).
    pub fn prepare_cached<'t>(&'t self, sql: &str) -> SqlResult<Statement<'t, 'c>> {
        Ok(Statement {
            tx: self,
            sql: sql.to_owned(),
        })
    }

    pub fn prepare<'t>(&'t self, sql: &str) -> SqlResult<Statement<'t, 'c>> {
        self.prepare_cached(sql)
    }
}

/// A statement of a transaction, to run once or many times.
pub struct Statement<'t, 'c> {
    tx: &'t Tx<'c>,
    sql: String,
}

impl Statement<'_, '_> {
    pub fn execute(&mut self, params: impl Params) -> SqlResult<usize> {
        self.tx.execute(&self.sql, params)
    }

    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> SqlResult<T>,
    ) -> SqlResult<T> {
        self.tx.query_row(&self.sql, params, f)
    }

    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        f: impl FnMut(&Row<'_>) -> SqlResult<T>,
    ) -> SqlResult<std::vec::IntoIter<SqlResult<T>>> {
        self.tx.query_map(&self.sql, params, f)
    }

    pub fn exists(&mut self, params: impl Params) -> SqlResult<bool> {
        self.tx
            .query_row(&self.sql, params, |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            postgres_sql("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $12"
        );
    }
}
