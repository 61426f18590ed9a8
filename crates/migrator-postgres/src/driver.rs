//! [`PgDriver`]: migrator's [`Driver`] for PostgreSQL on a sqlx [`PgPool`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_core::driver::{
    Body, Capabilities, Driver, Executed, ForeignRow, ForeignTable, HistoryChange, InvalidIndex, Job, LockRequest,
    Locking, Probe, RepeatableJob, Session, group_failed,
};
use migrator_core::history::LAYOUT;
use migrator_core::history::columns::{self, Execution, decode_history, update};
use migrator_core::history::digest::{HistoryDigest, expected_match};
use migrator_core::history::{History, HistoryTable, Ident, State};
use migrator_core::plan::lock;
use migrator_core::{Dialect, Direction, Error, FailureOutcome, LockStrategy, Mode};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool, Postgres, Row};
use tracing::{debug, info};

use crate::conn::{Columns, Failed, code, db, describe_short, described, simple};
use crate::key::lock_key;
use crate::lease::{LEASE_LOST, Lease};
use crate::sql;
use crate::wake::{self, Waker};
use migrator_core::backoff::Backoff;

/// SQLSTATE of "relation does not exist" and "schema does not exist".
const UNDEFINED_TABLE: &str = "42P01";
const INVALID_SCHEMA: &str = "3F000";
/// SQLSTATE of "schema already exists".
const DUPLICATE_SCHEMA: &str = "42P06";
/// SQLSTATE raised by the session-lock fence when a message ran on another server connection.
const SESSION_MOVED: &str = "MG002";

/// The PostgreSQL backend: reads the history on the pool's connections and runs migrations
/// on a dedicated connection detached from the pool, holding a session advisory lock.
///
/// Build it from a pool: `PgDriver::from(&pool)`, or pass `&pool` where a driver is expected.
/// For the one-round-trip startup check, build the pool with
/// `PgPoolOptions::new().test_before_acquire(false)` so acquiring a connection sends nothing.
#[derive(Debug, Clone)]
pub struct PgDriver {
    pool: PgPool,
    known: Arc<Mutex<Known>>,
}

/// What the driver learned from earlier reads, so later runs skip those round trips.
#[derive(Debug, Default)]
struct Known {
    /// `current_database()` and `current_schema()`.
    names: Option<(String, Option<String>)>,
    /// A history table seen to exist.
    table: Option<HistoryTable>,
}

impl From<PgPool> for PgDriver {
    fn from(pool: PgPool) -> Self {
        PgDriver { pool, known: Arc::default() }
    }
}

impl From<&PgPool> for PgDriver {
    fn from(pool: &PgPool) -> Self {
        PgDriver::from(pool.clone())
    }
}

impl PgDriver {
    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads history rows by column name.
fn history_of(table: &HistoryTable, rows: &[PgRow]) -> Result<History, Error> {
    decode_history(table, rows.iter().map(Columns))
}

/// Which expected digest the server found (the `clean` and `digest` columns after the
/// history's), if every row was applied and the digest is one of `expected`.
fn match_of(rows: &[PgRow], expected: &[String]) -> Result<Option<usize>, sqlx::Error> {
    let Some(row) = rows.first() else { return Ok(None) };
    let clean: bool = row.try_get("clean")?;
    let digest: String = row.try_get("digest")?;
    Ok(expected_match(clean, &digest, expected))
}

fn names_of(rows: &[PgRow]) -> Result<(String, Option<String>), sqlx::Error> {
    match rows.first() {
        Some(row) => Ok((row.try_get(0)?, row.try_get(1)?)),
        None => Err(sqlx::Error::RowNotFound),
    }
}

#[async_trait]
impl Driver for PgDriver {
    type Conn = PgConnection;

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::new(Dialect::Postgres);
        caps.transactional_ddl = true;
        caps.migration_lock = true;
        caps.schemas = true;
        caps.lock_timeout = true;
        caps.statement_timeout = true;
        caps.lease_lock = true;
        caps.grouped_apply = true;
        caps
    }

    async fn probe(&self, table: &HistoryTable) -> Result<(Option<History>, Box<dyn Probe<PgConnection>>), Error> {
        let (history, _, probe) = self.probe_expecting(table, &[]).await?;
        Ok((history, probe))
    }

    async fn probe_expecting(
        &self,
        table: &HistoryTable,
        expected: &[String],
    ) -> Result<(Option<History>, Option<usize>, Box<dyn Probe<PgConnection>>), Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to PostgreSQL", e))?;
        let read = if expected.is_empty() {
            sql::select_history(table)
        } else {
            sql::select_history_expecting(table, expected)
        };
        let sql = format!("SELECT current_database(), current_schema();\n{read}");
        let mut matched = None;
        let history = match simple(&mut conn, sql).await {
            Ok(results) => {
                let (names, rows) = match results.as_slice() {
                    [names, rows] => (names, rows),
                    _ => return Err(db("reading the history", sqlx::Error::RowNotFound)),
                };
                if !expected.is_empty() {
                    matched = match_of(rows, expected).map_err(|e| db(format!("reading history table {table}"), e))?;
                }
                let history = history_of(table, rows)?;
                let mut known = self.known();
                known.names = names_of(names).ok();
                known.table = Some(table.clone());
                Some(history)
            }
            Err(Failed { completed: 1, partial, error })
                if matches!(code(&error), Some(UNDEFINED_TABLE | INVALID_SCHEMA)) =>
            {
                // The names came before the error: keep them for the lock key.
                if let Some(names) = partial.first().and_then(|rows| names_of(rows).ok()) {
                    self.known().names = Some(names);
                }
                None
            }
            Err(Failed { error, .. }) => return Err(db(format!("reading history table {table}"), error)),
        };
        let probe = PgProbe { driver: self.clone(), conn, table: table.clone(), table_exists: history.is_some() };
        Ok((history, matched, Box::new(probe)))
    }

    async fn table_sizes(&self, tables: &[String]) -> Result<Vec<migrator_core::driver::TableSize>, Error> {
        crate::sizes::table_sizes(&self.pool, tables).await
    }

    async fn create_area(&self, name: &Ident) -> Result<bool, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to PostgreSQL", e))?;
        match simple(&mut conn, format!("CREATE SCHEMA {}", name.quoted('"'))).await {
            Ok(_) => Ok(true),
            Err(Failed { error, .. }) if code(&error) == Some(DUPLICATE_SCHEMA) => Ok(false),
            Err(Failed { error, .. }) => Err(db(format!("creating schema {name}"), error)),
        }
    }

    /// One statement on one pool connection: the server reads every tenant schema's history
    /// table (through `query_to_xml`) and computes its digest.
    async fn digest_tenants(&self, tenants: &[String], table: &Ident) -> Result<Vec<(String, HistoryDigest)>, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to PostgreSQL", e))?;
        let context = || format!("checking the history table {table} of {} tenant schemas", tenants.len());
        let results =
            simple(&mut conn, sql::digest_tenants(tenants, table)).await.map_err(|f| db(context(), f.error))?;
        let rows = results.into_iter().next().unwrap_or_default();
        rows.iter()
            .map(|row| {
                let tenant: String = row.try_get("tenant")?;
                let layout: Option<i64> = row.try_get("layout")?;
                let clean: Option<bool> = row.try_get("clean")?;
                let digest: Option<String> = row.try_get("digest")?;
                Ok((
                    tenant,
                    HistoryDigest { layout, clean: clean.unwrap_or(false), digest: digest.unwrap_or_default() },
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| db(context(), e))
    }

    /// Asks, in one message, who holds the advisory lock and whether a live lease is held
    /// (either strategy may be in use by the other process).
    async fn lock_holder(&self, table: &HistoryTable) -> Result<Option<String>, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to PostgreSQL", e))?;
        let (key, _) = advisory_key(self, &mut conn, table).await?;
        let sql = format!("{};\n{}", advisory_holder_sql(key), crate::lease::live_holder_sql(table));
        let (advisory, lease) = match simple(&mut conn, sql).await {
            Ok(results) => {
                let mut results = results.into_iter();
                (results.next(), results.next())
            }
            // No lease table: nobody ever took a lease here.
            Err(Failed { completed: 1, partial, error }) if code(&error) == Some(UNDEFINED_TABLE) => {
                (partial.into_iter().next(), None)
            }
            Err(Failed { error, .. }) => return Err(db("asking who holds the migration lock", error)),
        };
        let advisory = advisory.as_deref().and_then(<[PgRow]>::first).and_then(advisory_holder_text);
        let lease = lease.as_deref().and_then(<[PgRow]>::first).and_then(crate::lease::holder_text);
        Ok(advisory.or(lease))
    }

    async fn read_foreign(&self, table: &ForeignTable) -> Result<Option<Vec<ForeignRow>>, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to PostgreSQL", e))?;
        crate::foreign::read_foreign(&mut conn, table).await
    }

    async fn open(&self, table: &HistoryTable, lock: LockRequest) -> Result<Box<dyn Session<PgConnection>>, Error> {
        let conn = self.pool.acquire().await.map_err(|e| db("connecting to PostgreSQL", e))?;
        let table_exists = self.known().table.as_ref() == Some(table);
        Box::new(PgProbe { driver: self.clone(), conn, table: table.clone(), table_exists }).lock(lock).await
    }
}

/// A pool connection that read the history; locking detaches it from the pool.
struct PgProbe {
    driver: PgDriver,
    conn: PoolConnection<Postgres>,
    table: HistoryTable,
    table_exists: bool,
}

#[async_trait]
impl Probe<PgConnection> for PgProbe {
    async fn lock(self: Box<Self>, lock: LockRequest) -> Result<Box<dyn Session<PgConnection>>, Error> {
        match self.take(lock, false).await? {
            Locking::Taken(session) => Ok(session),
            // `take` stops early only when asked to (`may_stop`), which this call does not.
            Locking::Released(_) => Err(Error::database(
                "taking the migration lock",
                "the lock wait ended without the lock, which this call never asks for: please report this as a bug",
            )),
        }
    }

    async fn lock_or_released(self: Box<Self>, lock: LockRequest) -> Result<Locking<PgConnection>, Error> {
        self.take(lock, true).await
    }
}

impl PgProbe {
    /// Takes the lock (`may_stop`: or stops at the holder's release, see
    /// [`Probe::lock_or_released`]).
    async fn take(self: Box<Self>, lock: LockRequest, may_stop: bool) -> Result<Locking<PgConnection>, Error> {
        let PgProbe { driver, conn, table, table_exists } = *self;
        // Detached: the session's connection never returns to the pool, so neither can its lock.
        let conn = conn.detach();
        let mut session = PgSession {
            conn,
            table: table.clone(),
            prefetched: None,
            session_sql: String::new(),
            fence: String::new(),
            lease: None,
            pid: None,
            key: None,
            pool: driver.pool.clone(),
        };
        // Keep the connection from lingering after the client is gone (PostgreSQL 14+).
        if session.conn.server_version_num().is_some_and(|v| v >= 140_000) {
            session.session_sql = "SET client_connection_check_interval = '1s';\n".to_owned();
        }
        if let (true, LockStrategy::Lease(lease)) = (lock.enabled, lock.strategy) {
            let held = Lease::acquire(&mut session.conn, &driver.pool, &table, lease.ttl, lock.wait).await?;
            session.fence = format!("{};\n", held.fence());
            session.lease = Some(held);
        } else if lock.enabled {
            let (key, shown) = advisory_key(&driver, &mut session.conn, &table).await?;
            let wait = Wait { wait: lock.wait, read: table_exists, may_stop };
            if let Some(history) = session.lock(key, &shown, wait).await? {
                return Ok(Locking::Released(history));
            }
        }
        Ok(Locking::Taken(Box::new(session)))
    }
}

/// How [`PgSession::lock`] waits.
#[derive(Clone, Copy)]
struct Wait {
    /// At most this long.
    wait: Duration,
    /// Read the history in the message that takes the lock (the table existed).
    read: bool,
    /// Stop when woken by the holder's release and another waiter took the lock first,
    /// with the history read then.
    may_stop: bool,
}

/// The advisory lock key of `table` and how to show it (`database.schema.table`); reads
/// and caches the database and current schema names on first use.
async fn advisory_key(
    driver: &PgDriver,
    conn: &mut PgConnection,
    table: &HistoryTable,
) -> Result<(i64, String), Error> {
    let known = driver.known().names.clone();
    let names = match known {
        Some(names) => names,
        None => {
            let results = simple(conn, "SELECT current_database(), current_schema()".to_owned())
                .await
                .map_err(|f| db("reading the database name", f.error))?;
            let names = results
                .first()
                .map(|rows| names_of(rows))
                .transpose()
                .map_err(|e| db("reading the database name", e))?
                .ok_or_else(|| db("reading the database name", sqlx::Error::RowNotFound))?;
            driver.known().names = Some(names.clone());
            names
        }
    };
    let schema = match (&table.schema, &names.1) {
        (Some(schema), _) => schema.as_str().to_owned(),
        (None, Some(current)) => current.clone(),
        (None, None) => {
            return Err(Error::Misconfigured {
                reason: "it has no current schema (its search_path names no existing schema): create the schema or \
                         configure the history schema"
                    .to_owned(),
            });
        }
    };
    let key = lock_key(&names.0, &schema, table.name.as_str());
    Ok((key, format!("{}.{schema}.{}", names.0, table.name)))
}

/// Who holds advisory lock `key` in this database: a row of pid, application, user, host,
/// connection time, state and query (none when nobody holds it).
fn advisory_holder_sql(key: i64) -> String {
    let bits = key as u64;
    let (hi, lo) = (bits >> 32, bits & 0xffff_ffff);
    format!(
        "SELECT a.pid::int8, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), \
         coalesce(host(a.client_addr), 'local socket'), to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), \
         coalesce(a.state, ''), coalesce(left(a.query, 120), '') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {hi} AND l.objid = {lo} AND l.objsubid = 1 \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
}

/// An operator's description of the holder row of [`advisory_holder_sql`].
fn advisory_holder_text(row: &PgRow) -> Option<String> {
    let pid: i64 = row.try_get(0).ok()?;
    let app: String = row.try_get(1).ok()?;
    let user: String = row.try_get(2).ok()?;
    let host: String = row.try_get(3).ok()?;
    let since: String = row.try_get(4).ok()?;
    let state: String = row.try_get(5).ok()?;
    let query: String = row.try_get(6).ok()?;
    let query = migrator_core::text::snippet(&query);
    Some(format!(
        "PostgreSQL backend pid {pid} (application '{app}', user {user} from {host}, connected since {since}, \
         {state}: {query}); pg_terminate_backend({pid}) ends it"
    ))
}

/// The dedicated, locked connection.
struct PgSession {
    conn: PgConnection,
    table: HistoryTable,
    /// The history read together with the lock, when the table was known to exist.
    prefetched: Option<History>,
    /// Session settings restored before each migration (after `RESET ALL`).
    session_sql: String,
    /// A statement (with its `;`) sent before every history write, in its transaction: it
    /// fails unless this session still holds the lock (the lease token is current, or the
    /// message runs on the server connection holding the advisory lock).
    fence: String,
    /// The lease, with the lease lock.
    lease: Option<Lease>,
    /// The server process of this session's connection, when known to be this session's
    /// own (the session lock checks it); behind a pooler it is not.
    pid: Option<i64>,
    /// The advisory lock key, once this session holds it (its release notifies waiters).
    key: Option<i64>,
    /// The application's pool, to look at this session from outside when its own
    /// connection can no longer tell what happened.
    pool: PgPool,
}

impl PgSession {
    /// `RESET ALL` and our session settings: sent at the start of each migration, so
    /// nothing one migration `SET` (or the application's pool set) leaks into the next.
    fn reset(&self) -> String {
        format!("RESET ALL;\n{}", self.session_sql)
    }

    /// Polls `pg_try_advisory_lock` with backoff, and wakes early when the holder's release
    /// notification comes ([`wake`]). A waiter never blocks inside a statement: a blocked
    /// `pg_advisory_lock` holds a snapshot, and `CREATE INDEX CONCURRENTLY` in the holder
    /// would wait for it forever.
    ///
    /// With `wait.may_stop`, a waiter woken by the release that finds the lock taken by
    /// another waiter returns the history read in that message (`Some`), for the runner to
    /// see whether anything is left to do; `None` means the lock is held.
    async fn lock(&mut self, key: i64, shown: &str, wait: Wait) -> Result<Option<History>, Error> {
        let mut backoff = Backoff::new(wait.wait);
        let mut first = true;
        let mut waker: Option<Waker> = None;
        let mut read = wait.read;
        let mut woken = false;
        loop {
            let mut sql = if first { self.reset() } else { String::new() };
            let statements_before = if first { 1 + usize::from(!self.session_sql.is_empty()) } else { 0 };
            // Which server connection this is, whether it held the lock already (a
            // connection we never locked on that holds it is shared with another client),
            // and which engine it is (CockroachDB's advisory locks lock nothing).
            let (hi, lo) = ((key as u64) >> 32, (key as u64) & 0xffff_ffff);
            sql.push_str(&format!(
                "SELECT pg_backend_pid()::int8, EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND pid = pg_backend_pid() AND classid = {hi} AND objid = {lo} AND objsubid = 1), version();\n\
                 SELECT pg_try_advisory_lock({key});\n"
            ));
            if read {
                sql.push_str(&sql::select_history(&self.table));
            }
            first = false;
            let (got, rows) = match simple(&mut self.conn, sql).await {
                Ok(results) => {
                    let (pid, held_before, engine) = marker(results.get(statements_before))?;
                    lock::check_session_lock(LockStrategy::Session, engine, wait.wait)?;
                    if held_before {
                        return Err(lock::shared_session_lock(format!(
                            "server connection {pid} already held advisory lock {key} ({shown}) before this \
                                 session took it, so it is shared with another client, as behind a transaction-mode \
                                 pooler (PgBouncer pool_mode = transaction)"
                        )));
                    }
                    self.fence = session_fence(pid);
                    self.pid = Some(pid);
                    let got = lock_result(results.get(statements_before + 1))?;
                    (got, results.into_iter().nth(statements_before + 2))
                }
                Err(Failed { completed, error, partial })
                    if read && completed == statements_before + 2 && code(&error) == Some(UNDEFINED_TABLE) =>
                {
                    let (pid, held_before, engine) = marker(partial.get(statements_before))?;
                    lock::check_session_lock(LockStrategy::Session, engine, wait.wait)?;
                    if !held_before {
                        self.fence = session_fence(pid);
                    }
                    // The table vanished since the fast path (or, read after a release, was
                    // never created); the lock answer still came.
                    let rest = Wait { wait: backoff.remaining(), read: false, may_stop: wait.may_stop };
                    return self.lock_without_read(key, shown, rest).await;
                }
                Err(Failed { error, .. }) => return Err(db("taking the migration lock", error)),
            };
            if got {
                if let Some(rows) = rows {
                    self.prefetched = Some(history_of(&self.table, &rows)?);
                }
                debug!(lock = %shown, waited_ms = backoff.waited().as_millis() as u64, "migration lock taken");
                self.key = Some(key);
                return Ok(None);
            }
            // Released, and another waiter took it: the history of right after the release.
            if let (true, true, Some(rows)) = (wait.may_stop, woken, rows) {
                debug!(lock = %shown, "the lock's holder released it and another waiter took it");
                return Ok(Some(history_of(&self.table, &rows)?));
            }
            let Some(waker) = waker.as_mut() else {
                info!(lock = %shown, "waiting for the migration lock held by another process");
                // Listen first, then try again at once: a release from now on is not missed.
                waker = Some(Waker::listen(&self.pool, key).await);
                continue;
            };
            let pause = match backoff.next_pause() {
                Ok(pause) => pause,
                Err(waited) => {
                    let holder = self.holder(key).await;
                    return Err(Error::LockTimeout { waited, lock: format!("advisory lock {key} on {shown}"), holder });
                }
            };
            woken = waker.wait(pause).await;
            if woken {
                debug!(lock = %shown, "woken by the lock holder's release");
                // Read the history with the next try, whether or not the table existed.
                read |= wait.may_stop;
            }
        }
    }

    /// `wait`: what is left of the lock wait.
    async fn lock_without_read(&mut self, key: i64, shown: &str, wait: Wait) -> Result<Option<History>, Error> {
        // The lock was taken by the statement before the failed read; check and keep it.
        let results = simple(&mut self.conn, format!("SELECT pg_try_advisory_lock({key})"))
            .await
            .map_err(|f| db("taking the migration lock", f.error))?;
        if lock_result(results.first())? {
            self.key = Some(key);
            return Ok(None);
        }
        Box::pin(self.lock(key, shown, wait)).await
    }

    /// Who holds the advisory lock `key`, for the timeout message.
    async fn holder(&mut self, key: i64) -> Option<String> {
        let results = simple(&mut self.conn, advisory_holder_sql(key)).await.ok()?;
        advisory_holder_text(results.first()?.first()?)
    }

    fn script_part(job: &Job<'_, PgConnection>) -> (String, usize) {
        match job.step.body {
            Body::Sql(script) if job.start == 0 => (script.text().to_owned(), job.statements.len()),
            Body::Sql(script) => {
                let rest = job.statements.get(job.start..).unwrap_or_default();
                let text = rest.iter().map(|s| script.statement_text(s)).collect::<Vec<_>>().join(";\n");
                (text, rest.len())
            }
            Body::Rust(_) => (String::new(), 0),
        }
    }

    /// `SET [LOCAL]` statements for the job's limits, and how many there are.
    fn limits(job: &Job<'_, PgConnection>, local: bool) -> (String, usize) {
        Self::limits_of(job.lock_timeout, job.statement_timeout, local)
    }

    /// `SET [LOCAL]` statements for these limits, and how many there are.
    fn limits_of(lock_timeout: Option<Duration>, statement_timeout: Option<Duration>, local: bool) -> (String, usize) {
        let scope = if local { "SET LOCAL" } else { "SET" };
        let mut sql = String::new();
        let mut count = 0;
        if let Some(timeout) = lock_timeout {
            sql.push_str(&format!("{scope} lock_timeout = {};\n", sql::setting(timeout)));
            count += 1;
        }
        sql.push_str(&format!(
            "{scope} statement_timeout = {};\n",
            sql::setting(statement_timeout.unwrap_or_default())
        ));
        sql.push_str(&format!("{scope} idle_in_transaction_session_timeout = 0;\n"));
        (sql, count + 2)
    }

    /// The error of a failed fence, if `error` is one.
    fn fence_error(&self, error: &sqlx::Error) -> Option<Error> {
        match code(error) {
            Some(LEASE_LOST) => Some(match &self.lease {
                Some(lease) => lease.lost_error("its fencing token is no longer current: another process took it over"),
                None => Error::LockLost { lock: "migration lease".to_owned(), reason: describe_short(error) },
            }),
            Some(SESSION_MOVED) => Some(lock::shared_session_lock(describe_short(error))),
            _ => None,
        }
    }

    /// Fails when the heartbeat found the lease lost, before anything is sent.
    fn check_lease(&self) -> Result<(), Error> {
        match &self.lease {
            Some(lease) if lease.lost() => {
                Err(lease.lost_error("the heartbeat could not renew it, or found it taken over"))
            }
            _ => Ok(()),
        }
    }

    /// Runs a history write behind the fence, in one transaction.
    async fn fenced(&mut self, context: impl Into<String>, write: String) -> Result<(), Error> {
        let sql = format!("{}{write}", self.fence);
        match simple(&mut self.conn, sql).await {
            Ok(_) => Ok(()),
            Err(Failed { error, .. }) => Err(self.fence_error(&error).unwrap_or_else(|| db(context, error))),
        }
    }

    fn failure(
        job: &Job<'_, PgConnection>,
        index: Option<usize>,
        outcome: FailureOutcome,
        error: sqlx::Error,
    ) -> Error {
        job.failure(index, outcome, described(error)).into()
    }

    /// A failed Rust step (its one "statement" is the code).
    fn rust_failure(job: &Job<'_, PgConnection>, outcome: FailureOutcome, error: migrator_core::BoxError) -> Error {
        job.rust_failure(outcome, error).into()
    }

    /// One transaction: limits, body, history write, commit; for SQL, one round trip.
    async fn transactional(&mut self, job: Job<'_, PgConnection>) -> Result<Executed, Error> {
        let started = Instant::now();
        let version = job.row.version.get();
        let history = match job.direction {
            Direction::Up => sql::upsert(&self.table, &job.row, Execution::ServerClock),
            Direction::Down => sql::delete(&self.table, version),
        };
        let (limits, limit_count) = Self::limits(&job, true);
        match job.step.body {
            Body::Sql(_) => {
                let (body, body_count) = Self::script_part(&job);
                let prefix = 2 + usize::from(!self.session_sql.is_empty()) + limit_count;
                let fence_count = usize::from(!self.fence.is_empty());
                let sql = format!("{}BEGIN;\n{limits}{body}\n;\n{}{history};\nCOMMIT", self.reset(), self.fence);
                match simple(&mut self.conn, sql).await {
                    Ok(_) => Ok(Executed { statements: body_count, duration: started.elapsed() }),
                    Err(Failed { completed, error, .. }) if !matches!(error, sqlx::Error::Database(_)) => {
                        // The client, not the server, failed (a broken connection, a message
                        // it could not read): the server may have gone on and committed.
                        let outcome = self.settle(&job).await;
                        let at = completed.checked_sub(prefix).filter(|at| *at < body_count);
                        Err(Self::failure(&job, at.map(|at| job.start + at), outcome, error))
                    }
                    Err(Failed { completed, error, .. }) => {
                        self.rollback().await;
                        if let Some(fenced) = self.fence_error(&error) {
                            return Err(fenced);
                        }
                        let completed = if completed >= prefix + body_count + fence_count {
                            completed - fence_count
                        } else {
                            completed
                        };
                        if completed < prefix {
                            return Err(db("preparing the migration's transaction", error));
                        }
                        let at = completed - prefix;
                        if at < body_count {
                            Err(Self::failure(&job, Some(job.start + at), FailureOutcome::RolledBack, error))
                        } else if at == body_count {
                            Err(db(format!("recording migration {version} in {}", self.table), error))
                        } else {
                            Err(Self::failure(&job, None, FailureOutcome::RolledBack, error))
                        }
                    }
                }
            }
            Body::Rust(step) => {
                let begin = format!("{}BEGIN;\n{limits}", self.reset());
                let mut tx = self
                    .conn
                    .begin_with(AssertSqlSafe(begin))
                    .await
                    .map_err(|e| db("preparing the migration's transaction", e))?;
                if let Err(error) = step.run(&mut *tx).await {
                    let _ = tx.rollback().await;
                    return Err(Self::rust_failure(&job, FailureOutcome::RolledBack, error));
                }
                let recorded = sqlx::raw_sql(AssertSqlSafe(format!("{}{history}", self.fence))).execute(&mut *tx).await;
                if let Err(e) = recorded {
                    let _ = tx.rollback().await;
                    return Err(self
                        .fence_error(&e)
                        .unwrap_or_else(|| db(format!("recording migration {version} in {}", self.table), e)));
                }
                tx.commit().await.map_err(|e| Self::failure(&job, None, FailureOutcome::RolledBack, e))?;
                Ok(Executed { statements: 1, duration: started.elapsed() })
            }
        }
    }

    /// Grouped apply: every job (transactional SQL, up) in one transaction and one message.
    /// Each job marks its start (`migrator.started`, which its history row's execution time
    /// counts from), sets its own limits (`DEFAULT` where it has none, so nothing carries
    /// over from the job before), runs its script and writes its row, which returns the
    /// execution time the server measured.
    async fn group(&mut self, jobs: &[Job<'_, PgConnection>]) -> Result<Vec<Executed>, Error> {
        struct Part {
            /// Index of the job's first body statement in the message.
            body: usize,
            /// Its body statements.
            count: usize,
            /// Index of its history write.
            history: usize,
        }
        let mut sql = format!("{}BEGIN;\n", self.reset());
        let mut index = 2 + usize::from(!self.session_sql.is_empty());
        let mut parts = Vec::with_capacity(jobs.len());
        for job in jobs {
            sql.push_str("SELECT set_config('migrator.started', clock_timestamp()::text, true);\n");
            let (limits, limit_count) = Self::limits_of(job.lock_timeout, job.statement_timeout, true);
            if job.lock_timeout.is_none() {
                sql.push_str("SET LOCAL lock_timeout = DEFAULT;\n");
                index += 1;
            }
            sql.push_str(&limits);
            index += 1 + limit_count;
            let (body, count) = Self::script_part(job);
            sql.push_str(&body);
            sql.push_str("\n;\n");
            let body_at = index;
            index += count;
            sql.push_str(&self.fence);
            index += usize::from(!self.fence.is_empty());
            sql.push_str(&sql::upsert(&self.table, &job.row, Execution::ServerClock));
            sql.push_str(" RETURNING execution_ms;\n");
            parts.push(Part { body: body_at, count, history: index });
            index += 1;
        }
        sql.push_str("COMMIT");
        let started = Instant::now();
        let Some(last) = jobs.last() else { return Ok(Vec::new()) };
        // The job a count of completed statements stopped in, with its part, and the index of
        // its failing statement when the failure was one of its script's.
        let stopped_in = |completed: usize| {
            parts.iter().zip(jobs).find(|(part, _)| completed <= part.history).map(|(part, job)| {
                let at = (completed >= part.body && completed < part.body + part.count)
                    .then(|| job.start + completed - part.body);
                (part, job, at)
            })
        };
        match simple(&mut self.conn, sql).await {
            Ok(results) => Ok(parts
                .iter()
                .map(|part| {
                    let measured = results
                        .get(part.history)
                        .and_then(|rows| rows.first())
                        .and_then(|row| row.try_get::<Option<i64>, _>(0).ok().flatten())
                        .and_then(|ms| u64::try_from(ms).ok());
                    // The server's clock, or the whole group's time when it said nothing.
                    let duration = measured.map_or_else(|| started.elapsed(), Duration::from_millis);
                    Executed { statements: part.count, duration }
                })
                .collect()),
            Err(Failed { completed, error, .. }) if !matches!(error, sqlx::Error::Database(_)) => {
                // The client, not the server, failed: the server may have gone on and committed
                // the whole group, which the last job's row tells.
                let outcome = self.settle(last).await;
                let failure = match stopped_in(completed) {
                    Some((_, job, Some(at))) => job.failure(Some(at), outcome, described(error)),
                    _ => last.failure(None, outcome, described(error)),
                };
                Err(group_failed(jobs, failure, false))
            }
            Err(Failed { completed, error, .. }) => {
                self.rollback().await;
                if let Some(fenced) = self.fence_error(&error) {
                    return Err(fenced);
                }
                match stopped_in(completed) {
                    // Every statement ran: the commit was refused (a deferred constraint).
                    None => {
                        Err(group_failed(jobs, last.failure(None, FailureOutcome::RolledBack, described(error)), true))
                    }
                    Some((_, job, Some(at))) => Err(group_failed(
                        jobs,
                        job.failure(Some(at), FailureOutcome::RolledBack, described(error)),
                        false,
                    )),
                    Some((part, job, None)) if completed == part.history => {
                        Err(db(format!("recording migration {} in {}", job.row.version.get(), self.table), error))
                    }
                    Some(_) => Err(db("preparing the group's transaction", error)),
                }
            }
        }
    }

    /// What became of a transactional job whose connection failed on the client's side:
    /// waits (up to 10 s) until the session's server process has finished the message, then
    /// reads the job's history row from another connection. `Committed` when the row says
    /// the job is done, `RolledBack` when the transaction ended without it, `Unknown` when
    /// that cannot be told (no server process to watch, behind a pooler).
    async fn settle(&mut self, job: &Job<'_, PgConnection>) -> FailureOutcome {
        let Some(pid) = self.pid else { return FailureOutcome::Unknown };
        let started = Instant::now();
        let version = job.row.version.get();
        let probe = format!(
            "SELECT coalesce((SELECT state <> 'active' FROM pg_stat_activity WHERE pid = {pid}), true);\n\
             SELECT count(*)::int8 FROM {} WHERE version = {version} AND state = 'applied' AND checksum = {}",
            self.table.qualified('"'),
            sql::literal(&job.row.checksum)
        );
        loop {
            let answer = match self.pool.acquire().await {
                Ok(mut conn) => simple(&mut conn, probe.clone()).await.ok(),
                Err(_) => None,
            };
            let finished = answer.as_ref().and_then(|r| r.first()?.first()?.try_get::<bool, _>(0).ok());
            let applied = answer.as_ref().and_then(|r| r.get(1)?.first()?.try_get::<i64, _>(0).ok());
            match (finished, applied, job.direction) {
                (Some(true), Some(n), Direction::Up) => {
                    return if n > 0 { FailureOutcome::Committed } else { FailureOutcome::RolledBack };
                }
                (Some(true), Some(n), Direction::Down) => {
                    return if n == 0 { FailureOutcome::Committed } else { FailureOutcome::RolledBack };
                }
                _ if started.elapsed() > Duration::from_secs(10) => return FailureOutcome::Unknown,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Creates the history table (and its schema) when missing, and reads it: one round trip.
    async fn create(&mut self) -> Result<History, Error> {
        let sql = format!(
            "SET LOCAL client_min_messages = warning;\n{};\n{}",
            sql::create_history(&self.table),
            sql::select_history(&self.table)
        );
        let results = simple(&mut self.conn, sql)
            .await
            .map_err(|f| db(format!("creating history table {}", self.table), f.error))?;
        let rows = results.last().map(Vec::as_slice).unwrap_or_default();
        history_of(&self.table, rows)
    }

    async fn rollback(&mut self) {
        if let Err(e) = simple(&mut self.conn, "ROLLBACK".to_owned()).await {
            debug!(error = %e.error, "rollback after a failed migration failed");
        }
    }

    /// Statement by statement outside a transaction, recording progress after each.
    async fn stepwise(&mut self, job: Job<'_, PgConnection>) -> Result<Executed, Error> {
        let started = Instant::now();
        let version = job.row.version.get();
        let limits = if self.lease.is_some() {
            // Behind a transaction-mode pooler, a session SET would land on some server
            // connection, not necessarily the one running the statements (and stay there):
            // the builder refuses limit directives on such migrations, and none is set here.
            String::new()
        } else {
            Self::limits(&job, false).0
        };
        let record = sql::upsert(&self.table, &job.row, Execution::AsRecorded);
        let start_sql = format!("{}{limits}{record}", self.reset());
        self.fenced(format!("recording the start of migration {version} in {}", self.table), start_sql).await?;
        let failed_state = job.failed_state();
        let mut executed = 0;
        match job.step.body {
            Body::Sql(script) => {
                for (index, statement) in job.statements.iter().enumerate().skip(job.start) {
                    let text = script.statement_text(statement).to_owned();
                    if let Err(Failed { error, .. }) = simple(&mut self.conn, text).await {
                        return Err(self.record_failure(&job, index, failed_state, error).await);
                    }
                    executed += 1;
                    if index + 1 < job.statements.len() {
                        let progress = sql::update(&self.table, version, &update::progress(index + 1));
                        self.fenced(format!("recording progress of migration {version}"), progress).await?;
                    }
                }
            }
            Body::Rust(step) => {
                if job.start == 0 {
                    if let Err(error) = step.run(&mut self.conn).await {
                        let text = error.to_string();
                        let outcome = self.mark_failed(version, failed_state, 1, None, &text).await;
                        return Err(Self::rust_failure(&job, outcome, error));
                    }
                    executed = 1;
                }
            }
        }
        let total = job.total();
        let finish = match job.direction {
            Direction::Up => {
                sql::update(&self.table, version, &update::applied(total, Execution::Measured(started.elapsed())))
            }
            Direction::Down => sql::delete(&self.table, version),
        };
        self.fenced(format!("recording the end of migration {version} in {}", self.table), finish).await?;
        Ok(Executed { statements: executed, duration: started.elapsed() })
    }

    async fn record_failure(
        &mut self,
        job: &Job<'_, PgConnection>,
        index: usize,
        state: State,
        error: sqlx::Error,
    ) -> Error {
        let text = describe_short(&error);
        let line = job.statements.get(index).map(|s| s.line);
        let outcome = self.mark_failed(job.row.version.get(), state, index + 1, line, &text).await;
        Self::failure(job, Some(index), outcome, error)
    }

    async fn mark_failed(
        &mut self,
        version: i64,
        state: State,
        statement: usize,
        line: Option<usize>,
        text: &str,
    ) -> FailureOutcome {
        let write = sql::update(&self.table, version, &update::failed(state, statement, line, text));
        match simple(&mut self.conn, format!("{}{write}", self.fence)).await {
            Ok(_) => FailureOutcome::Recorded,
            Err(f) => {
                debug!(error = %f.error, "recording the failure failed");
                FailureOutcome::NotRecorded
            }
        }
    }
}

/// The lock message's marker: the server connection's pid, whether it held the lock before
/// this session asked for it, and the engine (from `version()`).
fn marker(rows: Option<&Vec<PgRow>>) -> Result<(i64, bool, lock::Server), Error> {
    let row =
        rows.and_then(|rows| rows.first()).ok_or_else(|| db("taking the migration lock", sqlx::Error::RowNotFound))?;
    let pid: i64 = row.try_get(0).map_err(|e| db("taking the migration lock", e))?;
    let held: bool = row.try_get(1).map_err(|e| db("taking the migration lock", e))?;
    let version: String = row.try_get(2).map_err(|e| db("taking the migration lock", e))?;
    let engine = lock::Engine::of_postgres_version(&version);
    Ok((pid, held, lock::Server { engine, cluster: lock::Cluster::None }))
}

/// The fence of the session lock: fails unless the message runs on the server connection
/// that holds the advisory lock (a transaction-mode pooler may send it to another one).
fn session_fence(pid: i64) -> String {
    format!(
        "{};\n",
        sql::do_block(&format!(
            "BEGIN IF pg_backend_pid() <> {pid} THEN RAISE EXCEPTION USING ERRCODE = '{SESSION_MOVED}', MESSAGE = \
             'this message ran on server connection ' || pg_backend_pid() || ', but the migration lock is held by \
             server connection {pid}: a transaction-mode pooler (PgBouncer pool_mode = transaction) is between \
             migrator and PostgreSQL'; END IF; END"
        ))
    )
}

fn lock_result(rows: Option<&Vec<PgRow>>) -> Result<bool, Error> {
    rows.and_then(|rows| rows.first())
        .map(|row| row.try_get::<bool, _>(0))
        .transpose()
        .map_err(|e| db("taking the migration lock", e))?
        .ok_or_else(|| db("taking the migration lock", sqlx::Error::RowNotFound))
}

#[async_trait]
impl Session<PgConnection> for PgSession {
    async fn read_foreign(&mut self, table: &ForeignTable) -> Result<Option<Vec<ForeignRow>>, Error> {
        crate::foreign::read_foreign(&mut self.conn, table).await
    }

    async fn tables_present(&mut self, names: &[&'static str]) -> Result<Vec<String>, Error> {
        crate::foreign::tables_present(&mut self.conn, names).await
    }

    async fn prepare(&mut self) -> Result<History, Error> {
        let history = match self.prefetched.take() {
            Some(history) => history,
            None => self.create().await?,
        };
        match sql::upgrade(&self.table, history.layout, columns::UPGRADES) {
            Some(upgrade) if history.layout <= LAYOUT => {
                info!(table = %self.table, from = history.layout, to = LAYOUT, "upgrading the history table in place");
                if let Err(f) = simple(&mut self.conn, upgrade).await {
                    self.rollback().await;
                    return Err(db(format!("upgrading history table {}", self.table), f.error));
                }
                self.read().await
            }
            _ => Ok(history),
        }
    }

    async fn read(&mut self) -> Result<History, Error> {
        let results = simple(&mut self.conn, sql::select_history(&self.table))
            .await
            .map_err(|f| db(format!("reading history table {}", self.table), f.error))?;
        history_of(&self.table, results.first().map(Vec::as_slice).unwrap_or_default())
    }
    async fn execute(&mut self, job: Job<'_, PgConnection>) -> Result<Executed, Error> {
        self.check_lease()?;
        match job.mode {
            Mode::Transactional => self.transactional(job).await,
            Mode::Stepwise => self.stepwise(job).await,
        }
    }

    async fn execute_group(&mut self, jobs: &[Job<'_, PgConnection>]) -> Result<Option<Vec<Executed>>, Error> {
        self.check_lease()?;
        migrator_core::driver::check_group("PostgreSQL", jobs)?;
        self.group(jobs).await.map(Some)
    }

    async fn pause(&mut self, duration: Duration) -> Result<(), Error> {
        self.check_lease()?;
        tokio::time::sleep(duration).await;
        Ok(())
    }

    async fn drop_invalid_index(
        &mut self,
        index: &InvalidIndex,
        lock_timeout: Option<Duration>,
    ) -> Result<Option<String>, Error> {
        self.check_lease()?;
        let context = || format!("checking whether index {} on {} is INVALID", index.index, index.table);
        // Behind a transaction-mode pooler a session SET would land on some other server
        // connection (see `stepwise`): the server's lock timeout applies there.
        let limits = if self.lease.is_some() { String::new() } else { Self::limits_of(lock_timeout, None, false).0 };
        let check = format!(
            "{}{limits}{}",
            self.reset(),
            sql::index_validity(index.schema.as_deref(), &index.table, &index.index)
        );
        let results = simple(&mut self.conn, check).await.map_err(|f| db(context(), f.error))?;
        let Some(row) = results.last().and_then(|rows| rows.first()) else { return Ok(None) };
        let (schema, name, valid): (String, String, bool) = (
            row.try_get(0).map_err(|e| db(context(), e))?,
            row.try_get(1).map_err(|e| db(context(), e))?,
            row.try_get(2).map_err(|e| db(context(), e))?,
        );
        if valid {
            return Ok(None);
        }
        let shown = format!("{schema}.{name}");
        // Alone in its message: DROP INDEX CONCURRENTLY cannot run in a transaction block.
        let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {}.{}", sql::ident(&schema), sql::ident(&name));
        simple(&mut self.conn, drop).await.map_err(|f| db(format!("dropping the INVALID index {shown}"), f.error))?;
        Ok(Some(shown))
    }

    async fn execute_repeatable(&mut self, job: RepeatableJob<'_>) -> Result<Executed, Error> {
        self.check_lease()?;
        let started = Instant::now();
        let count = job.statements.len();
        if job.mode == Mode::Transactional {
            let (limits, limit_count) = Self::limits_of(job.lock_timeout, job.statement_timeout, true);
            let row = sql::upsert_values(&self.table, &job.row(Execution::ServerClock));
            let prefix = 2 + usize::from(!self.session_sql.is_empty()) + limit_count;
            let sql = format!("{}BEGIN;\n{limits}{}\n;\n{}{row};\nCOMMIT", self.reset(), job.script.text(), self.fence);
            return match simple(&mut self.conn, sql).await {
                Ok(_) => Ok(Executed { statements: count, duration: started.elapsed() }),
                Err(Failed { completed, error, .. }) => {
                    self.rollback().await;
                    if let Some(fenced) = self.fence_error(&error) {
                        return Err(fenced);
                    }
                    let at = completed.checked_sub(prefix).filter(|at| *at < count);
                    Err(job.failure(at, false, described(error)))
                }
            };
        }
        // Outside a transaction, one statement at a time; the row is written after the last.
        let limits = if self.lease.is_some() {
            String::new()
        } else {
            Self::limits_of(job.lock_timeout, job.statement_timeout, false).0
        };
        let setup = format!("{}{limits}", self.reset());
        simple(&mut self.conn, setup).await.map_err(|f| db("preparing the repeatable migration's session", f.error))?;
        for (index, statement) in job.statements.iter().enumerate() {
            let text = job.script.statement_text(statement).to_owned();
            if let Err(Failed { error, .. }) = simple(&mut self.conn, text).await {
                return Err(job.failure(Some(index), index > 0, described(error)));
            }
        }
        let row = sql::upsert_values(&self.table, &job.row(Execution::Measured(started.elapsed())));
        self.fenced(format!("recording repeatable migration {} in {}", job.name, self.table), row).await?;
        Ok(Executed { statements: count, duration: started.elapsed() })
    }

    fn backfill_conn(&mut self) -> Result<Box<dyn migrator_core::backfill::BackfillConn + '_>, Error> {
        if self.lease.is_some() {
            return Err(Error::Unsupported {
                database: "PostgreSQL behind a transaction-mode pooler",
                what: "hold a backfill's session advisory lock (the lease lock guards the migration lock only)"
                    .to_owned(),
                instead: "run backfills over a direct connection or a session-mode pool".to_owned(),
            });
        }
        let schema = self.table.schema.as_ref().map(|s| s.as_str().to_owned());
        Ok(Box::new(crate::backfill::backfill_conn_in(&mut self.conn, schema.as_deref())))
    }

    async fn change(&mut self, change: HistoryChange) -> Result<(), Error> {
        self.check_lease()?;
        let sql = match &change {
            HistoryChange::Upsert(rows) => {
                let writes: Vec<String> =
                    rows.iter().map(|row| sql::upsert(&self.table, row, Execution::AsRecorded)).collect();
                format!("BEGIN;\n{}{};\nCOMMIT", self.fence, writes.join(";\n"))
            }
            HistoryChange::Delete(version) => format!("{}{}", self.fence, sql::delete(&self.table, version.get())),
        };
        if let Err(f) = simple(&mut self.conn, sql).await {
            self.rollback().await;
            return Err(self
                .fence_error(&f.error)
                .unwrap_or_else(|| db(format!("writing history table {}", self.table), f.error)));
        }
        Ok(())
    }

    async fn release(self: Box<Self>) -> Result<(), Error> {
        // Closing the session releases its advisory lock; the connection was detached from
        // the pool, so a lock can never go back into the pool with it. A lease is given up
        // first (dropped unreleased, it is released by a task or expires).
        let mut this = *self;
        let released = match this.lease.take() {
            Some(lease) => lease.release(&mut this.conn).await,
            None => Ok(()),
        };
        // Let go of the advisory lock before closing, and wake its waiters: closing alone
        // releases it too, but nobody would learn it before their next poll.
        if let Some(key) = this.key.take()
            && let Err(f) = simple(&mut this.conn, wake::release_sql(key)).await
        {
            debug!(error = %f.error, "unlocking before closing failed; closing the connection releases the lock");
        }
        let closed = this.conn.close().await.map_err(|e| db("closing the migration connection", e));
        released.and(closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Backends are usable as trait objects (the CLI picks one at runtime).
    #[test]
    fn the_driver_is_dyn_compatible() {
        fn boxed(driver: PgDriver) -> Box<dyn Driver<Conn = PgConnection>> {
            Box::new(driver)
        }
        let _ = boxed;
    }
}
