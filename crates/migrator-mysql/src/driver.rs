//! [`MySqlDriver`]: migrator's [`Driver`] for MySQL and MariaDB on a sqlx [`MySqlPool`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_core::classify::{commits_implicitly, leading_words};
use migrator_core::driver::{
    Body, Capabilities, Driver, Executed, ForeignRow, ForeignTable, HistoryChange, Job, LockRequest, Probe,
    RepeatableJob, Session,
};
use migrator_core::history::LAYOUT;
use migrator_core::history::columns::{self, Execution, decode_history, update};
use migrator_core::history::digest::{HistoryDigest, expected_match};
use migrator_core::history::{History, HistoryTable, Ident, State};
use migrator_core::plan::lock;
use migrator_core::{BoxError, Dialect, Direction, Error, FailureOutcome, LockStrategy, Mode};
use sqlx::mysql::MySqlRow;
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection, MySql, MySqlConnection, MySqlPool, Row};
use tracing::{debug, info};

use crate::conn::{Columns, Failed, db, describe, described, number, simple};
use crate::lease::{CERTIFICATION_FAILED, DEADLOCK, FENCE_FAILED, Lease};
use crate::session::Changed;
use crate::sql;

/// ER_NO_SUCH_TABLE.
const NO_SUCH_TABLE: u16 = 1146;
/// "Can't create database; database exists".
const DATABASE_EXISTS: u16 = 1007;
/// ER_DUP_FIELDNAME.
const DUPLICATE_COLUMN: u16 = 1060;
/// `lock_wait_timeout`'s maximum (one year).
const MAX_LOCK_WAIT: u64 = 31_536_000;
/// `innodb_lock_wait_timeout`'s maximum.
const MAX_INNODB_LOCK_WAIT: u64 = 1_073_741_824;

/// The MySQL/MariaDB backend: reads the history on the pool's connections and runs migrations
/// on a dedicated connection detached from the pool, holding `GET_LOCK`.
///
/// Build it from a pool: `MySqlDriver::from(&pool)`, or pass `&pool` where a driver is
/// expected. For the one-round-trip startup check, build the pool with
/// `MySqlPoolOptions::new().test_before_acquire(false)`. The URL must name a database: the
/// history table lives there.
#[derive(Debug, Clone)]
pub struct MySqlDriver {
    pool: MySqlPool,
    known: Arc<Mutex<Known>>,
}

#[derive(Debug, Default)]
struct Known {
    /// `DATABASE()`, whether the server is MariaDB, and its `max_allowed_packet`.
    server: Option<Server>,
    table: Option<HistoryTable>,
}

impl From<MySqlPool> for MySqlDriver {
    fn from(pool: MySqlPool) -> Self {
        MySqlDriver { pool, known: Arc::default() }
    }
}

impl From<&MySqlPool> for MySqlDriver {
    fn from(pool: &MySqlPool) -> Self {
        MySqlDriver::from(pool.clone())
    }
}

impl MySqlDriver {
    /// The pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads history rows by column name.
fn history_of(table: &HistoryTable, rows: &[MySqlRow]) -> Result<History, Error> {
    decode_history(table, rows.iter().map(Columns))
}

/// Which expected digest the server found (the `clean` and `digest` columns after the
/// history's), if every row was applied and the digest is one of `expected`.
fn match_of(rows: &[MySqlRow], expected: &[String]) -> Result<Option<usize>, sqlx::Error> {
    let Some(row) = rows.first() else { return Ok(None) };
    let clean: i64 = row.try_get("clean")?;
    let digest: String = row.try_get("digest")?;
    Ok(expected_match(clean == 1, &digest, expected))
}

/// What the driver knows of the server.
#[derive(Debug, Clone)]
struct Server {
    /// `DATABASE()`.
    database: String,
    /// Whether it is MariaDB.
    mariadb: bool,
    /// `@@max_allowed_packet`: the largest message it accepts.
    max_packet: usize,
    /// The engine and the cluster it is a node of, for the planner's lock check
    /// (`plan::lock::check_session_lock`) and the lease's causal reads.
    kind: lock::Server,
}

/// `DATABASE()`, `VERSION()` and `@@max_allowed_packet` (`rows`), and the cluster variables
/// (`cluster`: name and value rows of those the server has; none on a plain MySQL or
/// MariaDB).
fn server_of(rows: &[MySqlRow], cluster: &[MySqlRow]) -> Result<Server, Error> {
    let row = rows.first().ok_or_else(|| db("reading the database name", sqlx::Error::RowNotFound))?;
    let database: Option<String> = row.try_get(0).map_err(|e| db("reading the database name", e))?;
    let version: String = row.try_get(1).map_err(|e| db("reading the server version", e))?;
    let database = database.ok_or_else(|| Error::Misconfigured {
        reason: "it has no database: name one in the URL (mysql://user@host/database)".to_owned(),
    })?;
    let max_packet: i64 = row.try_get(2).map_err(|e| db("reading max_allowed_packet", e))?;
    let mut variables: Vec<(String, String)> = Vec::new();
    for row in cluster {
        let name: String = row.try_get(0).map_err(|e| db("reading the cluster variables", e))?;
        let value: String = row.try_get(1).map_err(|e| db("reading the cluster variables", e))?;
        variables.push((name.to_ascii_lowercase(), value));
    }
    let value = |name: &str| variables.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let engine = lock::Engine::of_mysql_version(&version);
    Ok(Server {
        database,
        mariadb: engine == lock::Engine::MariaDb,
        max_packet: usize::try_from(max_packet).unwrap_or(usize::MAX),
        kind: lock::Server {
            engine,
            cluster: lock::Cluster::of_mysql_variables(
                value("wsrep_on"),
                value("group_replication_group_name"),
                value("group_replication_single_primary_mode"),
            ),
        },
    })
}

/// What the driver reads of the server, in the message that first reads the history: two
/// statements (`SHOW VARIABLES` answers a row only for the variables the server has: the
/// Galera and Group Replication ones exist only where those are loaded).
const SERVER_SQL: &str = "SELECT DATABASE(), VERSION(), CAST(@@max_allowed_packet AS SIGNED);\n\
     SHOW SESSION VARIABLES WHERE Variable_name IN \
     ('wsrep_on', 'group_replication_group_name', 'group_replication_single_primary_mode')";
/// How many statements [`SERVER_SQL`] holds.
const SERVER_STATEMENTS: usize = 2;

/// The server facts from the first [`SERVER_STATEMENTS`] results of a message.
fn server_from(results: &[Vec<MySqlRow>]) -> Result<Server, Error> {
    let rows = |i: usize| results.get(i).map(Vec::as_slice).unwrap_or_default();
    server_of(rows(0), rows(1))
}

#[async_trait]
impl Driver for MySqlDriver {
    type Conn = MySqlConnection;

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::new(Dialect::MySql);
        caps.migration_lock = true;
        caps.lock_timeout = true;
        caps.statement_timeout = true;
        caps.lease_lock = true;
        caps
    }

    async fn probe(&self, table: &HistoryTable) -> Result<(Option<History>, Box<dyn Probe<MySqlConnection>>), Error> {
        let (history, _, probe) = self.probe_expecting(table, &[]).await?;
        Ok((history, probe))
    }

    async fn probe_expecting(
        &self,
        table: &HistoryTable,
        expected: &[String],
    ) -> Result<(Option<History>, Option<usize>, Box<dyn Probe<MySqlConnection>>), Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to MySQL", e))?;
        let read = if expected.is_empty() {
            sql::select_history(table)
        } else {
            sql::select_history_expecting(table, expected)
        };
        let sql = format!("{SERVER_SQL};\n{read}");
        let mut matched = None;
        let history = match simple(&mut conn, sql).await {
            Ok(results) => {
                let (server, rows) = match results.as_slice() {
                    [server, wsrep, rows] => (server_of(server, wsrep)?, rows),
                    _ => return Err(db("reading the history", sqlx::Error::RowNotFound)),
                };
                if !expected.is_empty() {
                    matched = match_of(rows, expected).map_err(|e| db(format!("reading history table {table}"), e))?;
                }
                let history = history_of(table, rows)?;
                let mut known = self.known();
                known.server = Some(server);
                known.table = Some(table.clone());
                Some(history)
            }
            Err(Failed { completed: SERVER_STATEMENTS, partial, error }) if number(&error) == Some(NO_SUCH_TABLE) => {
                let server = server_from(&partial)?;
                self.known().server = Some(server);
                None
            }
            Err(Failed { completed: SERVER_STATEMENTS, partial, .. }) => {
                // `No database selected` and friends: say so plainly.
                server_from(&partial)?;
                return Err(db(format!("reading history table {table}"), sqlx::Error::RowNotFound));
            }
            Err(Failed { error, .. }) => return Err(db(format!("reading history table {table}"), error)),
        };
        let probe = MySqlProbe { driver: self.clone(), conn, table: table.clone(), table_exists: history.is_some() };
        Ok((history, matched, Box::new(probe)))
    }

    async fn table_sizes(&self, tables: &[String]) -> Result<Vec<migrator_core::driver::TableSize>, Error> {
        crate::sizes::table_sizes(&self.pool, tables).await
    }

    async fn create_area(&self, name: &Ident) -> Result<bool, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to MySQL", e))?;
        match simple(&mut conn, format!("CREATE DATABASE {}", name.quoted('`'))).await {
            Ok(_) => Ok(true),
            Err(Failed { error, .. }) if number(&error) == Some(DATABASE_EXISTS) => Ok(false),
            Err(Failed { error, .. }) => Err(db(format!("creating database {name}"), error)),
        }
    }

    /// One message on one pool connection: the server lists the tenant databases holding
    /// the table and reads them all in one prepared statement.
    async fn digest_tenants(&self, tenants: &[String], table: &Ident) -> Result<Vec<(String, HistoryDigest)>, Error> {
        if tenants.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to MySQL", e))?;
        let context = || format!("checking the history table {table} of {} tenant databases", tenants.len());
        let results = match simple(&mut conn, sql::digest_tenants(tenants, table)).await {
            Ok(results) if results.len() == sql::DIGEST_TENANTS_STATEMENTS => results,
            Ok(_) => return Err(db(context(), sqlx::Error::RowNotFound)),
            Err(failed) => {
                // The session's group_concat_max_len was not put back: the connection goes.
                conn.close_on_drop();
                return Err(db(context(), failed.error));
            }
        };
        let rows = results.into_iter().nth(sql::DIGEST_TENANTS_ROWS).unwrap_or_default();
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let read = |row: &MySqlRow| -> Result<(i64, Option<i64>, Option<i64>, Option<String>), sqlx::Error> {
                Ok((row.try_get("tenant")?, row.try_get("layout")?, row.try_get("clean")?, row.try_get("digest")?))
            };
            let (index, layout, clean, digest) = read(row).map_err(|e| db(context(), e))?;
            let tenant = usize::try_from(index).ok().and_then(|i| i.checked_sub(1)).and_then(|i| tenants.get(i));
            if let Some(tenant) = tenant {
                let digest = HistoryDigest { layout, clean: clean == Some(1), digest: digest.unwrap_or_default() };
                found.push((tenant.clone(), digest));
            }
        }
        Ok(found)
    }

    async fn lock_holder(&self, table: &HistoryTable) -> Result<Option<String>, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to MySQL", e))?;
        let database = server(self, &mut conn).await?.database;
        let name = crate::key::lock_name(&database, table.name.as_str());
        // Who holds GET_LOCK, and whether a live lease is held, in one message.
        let sql = format!("{};\n{}", holder_sql(&name), crate::lease::live_holder_sql(table));
        let (session, lease) = match simple(&mut conn, sql).await {
            Ok(mut results) => {
                let lease = results.pop();
                (results.pop(), lease)
            }
            // No lease table: nobody ever took a lease here.
            Err(Failed { completed: 1, mut partial, error }) if number(&error) == Some(NO_SUCH_TABLE) => {
                (partial.pop(), None)
            }
            Err(f) => return Err(db("asking who holds the migration lock", f.error)),
        };
        let session = session.as_deref().and_then(<[MySqlRow]>::first).and_then(holder_text);
        let lease = lease.as_deref().and_then(<[MySqlRow]>::first).and_then(crate::lease::holder_text);
        Ok(session.or(lease))
    }

    async fn read_foreign(&self, table: &ForeignTable) -> Result<Option<Vec<ForeignRow>>, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db("connecting to MySQL", e))?;
        crate::foreign::read_foreign(&mut conn, table).await
    }

    async fn open(&self, table: &HistoryTable, lock: LockRequest) -> Result<Box<dyn Session<MySqlConnection>>, Error> {
        let conn = self.pool.acquire().await.map_err(|e| db("connecting to MySQL", e))?;
        let table_exists = self.known().table.as_ref() == Some(table);
        Box::new(MySqlProbe { driver: self.clone(), conn, table: table.clone(), table_exists }).lock(lock).await
    }
}

/// A pool connection that read the history; locking detaches it from the pool.
struct MySqlProbe {
    driver: MySqlDriver,
    conn: PoolConnection<MySql>,
    table: HistoryTable,
    table_exists: bool,
}

#[async_trait]
impl Probe<MySqlConnection> for MySqlProbe {
    async fn lock(self: Box<Self>, lock: LockRequest) -> Result<Box<dyn Session<MySqlConnection>>, Error> {
        let MySqlProbe { driver, conn, table, table_exists } = *self;
        // Detached: the session's connection never returns to the pool, so neither can its lock.
        let mut conn = conn.detach();
        let Server { database, mariadb, max_packet, kind } = server(&driver, &mut conn).await?;
        let mut session = MySqlSession {
            conn,
            table: table.clone(),
            mariadb,
            max_packet,
            prefetched: None,
            restore: String::new(),
            lease: None,
            fence: String::new(),
        };
        if lock.enabled {
            // Refused before anything runs: GET_LOCK on one node of a cluster, or behind
            // vtgate, protects nothing.
            lock::check_session_lock(lock.strategy, kind, lock.wait)?;
            match lock.strategy {
                LockStrategy::Lease(lease) => {
                    let held =
                        Lease::acquire(&mut session.conn, &driver.pool, &table, lease.ttl, lock.wait, kind.cluster)
                            .await?;
                    session.fence = held.fence();
                    session.lease = Some(held);
                }
                _ => {
                    let name = crate::key::lock_name(&database, table.name.as_str());
                    session.lock(&name, &format!("{database}.{}", table.name), lock.wait, table_exists).await?;
                }
            }
        }
        Ok(Box::new(session))
    }
}

/// The database name and whether the server is MariaDB: known from an earlier message, or
/// read now (and kept).
async fn server(driver: &MySqlDriver, conn: &mut MySqlConnection) -> Result<Server, Error> {
    let known = driver.known().server.clone();
    if let Some(server) = known {
        return Ok(server);
    }
    let results = simple(conn, SERVER_SQL.to_owned()).await.map_err(|f| db("reading the database name", f.error))?;
    let server = server_from(&results)?;
    driver.known().server = Some(server.clone());
    Ok(server)
}

/// The connection holding the named lock, from `IS_USED_LOCK` and the process list: id,
/// user, host, seconds in its command, state and query (no row when nobody holds it). A
/// holder the process list does not show (no `PROCESS` privilege) still has its row, with
/// its id and the rest unknown.
fn holder_sql(name: &str) -> String {
    let name = sql::literal(name);
    format!(
        "SELECT CAST(h.id AS SIGNED), COALESCE(p.USER, '?'), COALESCE(p.HOST, '?'), CAST(COALESCE(p.TIME, -1) AS SIGNED), \
         COALESCE(p.STATE, ''), COALESCE(LEFT(p.INFO, 120), '') \
         FROM (SELECT IS_USED_LOCK({name}) AS id) h LEFT JOIN information_schema.PROCESSLIST p ON p.ID = h.id \
         WHERE h.id IS NOT NULL"
    )
}

/// An operator's description of the row of [`holder_sql`].
fn holder_text(row: &MySqlRow) -> Option<String> {
    let id: i64 = row.try_get(0).ok()?;
    let user: String = row.try_get(1).ok()?;
    let host: String = row.try_get(2).ok()?;
    let time: i64 = row.try_get(3).ok()?;
    let state: String = row.try_get(4).ok()?;
    let query: String = row.try_get(5).ok()?;
    let query = migrator_core::text::snippet(&query);
    Some(format!(
        "connection {id} (user {user} from {host}, {time}s in its current command, {state}: {query}); KILL {id} ends it"
    ))
}

/// The dedicated, locked connection.
struct MySqlSession {
    conn: MySqlConnection,
    table: HistoryTable,
    mariadb: bool,
    /// The server's `max_allowed_packet`: no message may be larger.
    max_packet: usize,
    /// The history read together with the lock, when the table was known to exist.
    prefetched: Option<History>,
    /// SQL restoring the session variables the previous migration changed.
    restore: String,
    /// The lease, with the lease lock.
    lease: Option<Lease>,
    /// The lease's fence (two statements), sent first in every history write's transaction;
    /// empty without a lease.
    fence: String,
}

/// How many statements a chunk of `;\n`-terminated SQL holds.
fn count(sql: &str) -> usize {
    sql.matches(";\n").count()
}

/// Room kept in each message besides a statement: the protocol header, a progress update,
/// `START TRANSACTION`/`COMMIT`.
const MESSAGE_ROOM: usize = 4096;

/// One message of a transactional job.
#[derive(Debug, PartialEq, Eq)]
struct Message {
    sql: String,
    /// Statements of the job's body sent in earlier messages.
    before: usize,
    /// Statements at the start of this message that are not the body's (the session
    /// settings and `START TRANSACTION`, in the first message only).
    prefix: usize,
}

/// `head`, the body's statements and `tail` in as few messages as `max_packet` allows (one,
/// unless the script is larger than a message may be), cut between statements.
fn messages(head: &str, statements: &[String], tail: &str, max_packet: usize) -> Vec<Message> {
    let limit = max_packet.saturating_sub(MESSAGE_ROOM);
    let mut messages = Vec::new();
    let mut current = Message { sql: head.to_owned(), before: 0, prefix: count(head) };
    let mut in_current = 0;
    for (i, statement) in statements.iter().enumerate() {
        let piece = format!("{statement};\n");
        if in_current > 0 && current.sql.len() + piece.len() > limit {
            messages.push(std::mem::replace(&mut current, Message { sql: String::new(), before: i, prefix: 0 }));
            in_current = 0;
        }
        current.sql.push_str(&piece);
        in_current += 1;
    }
    if in_current > 0 && current.sql.len() + tail.len() > limit {
        messages
            .push(std::mem::replace(&mut current, Message { sql: String::new(), before: statements.len(), prefix: 0 }));
    }
    current.sql.push_str(tail);
    messages.push(current);
    messages
}

impl MySqlSession {
    /// `GET_LOCK` waits on the server for at most `wait` (never a client-side timeout, which
    /// could leave a lock granted after the client gave up). The result is checked: 1 got it,
    /// 0 timed out, NULL an error (MariaDB answers NULL to a negative timeout at once).
    async fn lock(&mut self, name: &str, shown: &str, wait: Duration, read: bool) -> Result<(), Error> {
        let started = Instant::now();
        // The server's own bound: MariaDB answers 0 at once to 1e12 seconds.
        let seconds = wait.as_secs_f64().min(MAX_LOCK_WAIT as f64);
        let mut sql = format!("SELECT GET_LOCK({}, {seconds:.3})", sql::literal(name));
        if read {
            sql.push_str(";\n");
            sql.push_str(&sql::select_history(&self.table));
        }
        let results = match simple(&mut self.conn, sql).await {
            Ok(results) => results,
            Err(Failed { completed: 1, partial, error }) if read && number(&error) == Some(NO_SUCH_TABLE) => partial,
            Err(Failed { error, .. }) => return Err(db("taking the migration lock", error)),
        };
        let got: Option<i64> = results
            .first()
            .and_then(|rows| rows.first())
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(|e| db("taking the migration lock", e))?
            .flatten();
        match got {
            Some(1) => {
                if let Some(rows) = results.get(1) {
                    self.prefetched = Some(history_of(&self.table, rows)?);
                }
                debug!(lock = %name, waited_ms = started.elapsed().as_millis() as u64, "migration lock taken");
                Ok(())
            }
            Some(0) => {
                let holder = self.holder(name).await;
                Err(Error::LockTimeout {
                    waited: started.elapsed(),
                    lock: format!("GET_LOCK '{name}' for {shown}"),
                    holder,
                })
            }
            _ => Err(Error::database(
                "taking the migration lock",
                format!(
                    "GET_LOCK('{name}') returned NULL (an error on the server, such as the lock wait being killed)"
                ),
            )),
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

    /// The error of a failed fence, if `error` is one: the fence's error number (or, on
    /// Galera or Group Replication, a certification failure against a takeover on another
    /// node), and the lease
    /// row no longer carries this holding's token.
    async fn fence_error(&mut self, error: &sqlx::Error) -> Option<Error> {
        let lease = self.lease.as_ref()?;
        if !matches!(number(error), Some(FENCE_FAILED | DEADLOCK | CERTIFICATION_FAILED))
            || lease.current(&mut self.conn).await
        {
            return None;
        }
        Some(lease.lost_error("its fencing token is no longer current: another process took it over"))
    }

    /// `write` (a history write) in a transaction of its own behind the fence; as is without
    /// a lease.
    fn fenced(&self, write: &str) -> String {
        if self.fence.is_empty() {
            write.to_owned()
        } else {
            format!("START TRANSACTION;\n{}{write};\nCOMMIT", self.fence)
        }
    }

    /// Sends a history write behind the fence; `context` names it in an error.
    async fn write_fenced(&mut self, context: impl Into<String>, write: &str) -> Result<(), Error> {
        let sql = self.fenced(write);
        match simple(&mut self.conn, sql).await {
            Ok(_) => Ok(()),
            Err(Failed { error, .. }) => {
                if !self.fence.is_empty() {
                    self.rollback().await;
                }
                Err(match self.fence_error(&error).await {
                    Some(lost) => lost,
                    None => db(context, error),
                })
            }
        }
    }

    /// Who holds the named lock, from `IS_USED_LOCK` and the process list.
    async fn holder(&mut self, name: &str) -> Option<String> {
        let results = simple(&mut self.conn, holder_sql(name)).await.ok()?;
        holder_text(results.first()?.first()?)
    }

    /// The session settings of a job: lock and statement timeouts, always explicit, so the
    /// pool's settings never apply; plus the server-side clock.
    fn limits(&self, job: &Job<'_, MySqlConnection>) -> Result<String, Error> {
        self.limits_of(job.lock_timeout, job.statement_timeout, job.migration.meta().origin())
    }

    /// The session settings of these limits and the server-side clock; `origin` names the
    /// file in a refusal.
    fn limits_of(
        &self,
        lock_timeout: Option<Duration>,
        statement_timeout: Option<Duration>,
        origin: &str,
    ) -> Result<String, Error> {
        let mut items = Vec::new();
        if let Some(timeout) = lock_timeout {
            items.push(format!("lock_wait_timeout = {}", sql::seconds(timeout, MAX_LOCK_WAIT)));
            items.push(format!("innodb_lock_wait_timeout = {}", sql::seconds(timeout, MAX_INNODB_LOCK_WAIT)));
        }
        let statement = statement_timeout.unwrap_or_default();
        if self.mariadb {
            items.push(format!("max_statement_time = {:.3}", statement.as_secs_f64()));
        } else if statement.is_zero() {
            items.push("max_execution_time = 0".to_owned());
        } else {
            return Err(Error::load(
                origin,
                None,
                "MySQL bounds only SELECT statements (max_execution_time), so `statement-timeout` cannot be honoured: \
                 remove the directive (MariaDB supports it)",
            ));
        }
        Ok(format!("SET SESSION {};\n{};\n", items.join(", "), sql::START_CLOCK))
    }

    /// The statements of the job's SQL body from `start`, and the variables their `SET`s change.
    fn statements(job: &Job<'_, MySqlConnection>) -> (Vec<String>, Changed) {
        let mut changed = Changed::default();
        let Body::Sql(script) = job.step.body else { return (Vec::new(), changed) };
        let texts: Vec<String> = job.statements.iter().map(|s| script.statement_text(s).to_owned()).collect();
        for text in &texts {
            changed.add_statement(text);
        }
        (texts.into_iter().skip(job.start).collect(), changed)
    }

    /// The error for the first statement (of those the job runs) too large for the server's
    /// `max_allowed_packet`, found before anything is sent: MySQL answers an oversized
    /// message by closing the connection ("connection reset by peer"), naming nothing.
    fn oversized(&self, job: &Job<'_, MySqlConnection>, statements: &[String]) -> Option<Error> {
        let (offset, statement) =
            statements.iter().enumerate().find(|(_, s)| s.len().saturating_add(MESSAGE_ROOM) > self.max_packet)?;
        let reason = format!(
            "the statement is {} bytes, more than the server accepts in one message (max_allowed_packet = {} bytes); \
             nothing of this migration was sent. Raise max_allowed_packet on the server (SET GLOBAL \
             max_allowed_packet = …; new connections get it), or split the statement",
            statement.len(),
            self.max_packet
        );
        Some(job.failure(Some(job.start + offset), FailureOutcome::NotSent, reason.into()).into())
    }

    fn failure(
        job: &Job<'_, MySqlConnection>,
        index: Option<usize>,
        outcome: FailureOutcome,
        error: sqlx::Error,
    ) -> Error {
        job.failure(index, outcome, described(error)).into()
    }

    /// A failed Rust step (its one "statement" is the code).
    fn rust_failure(job: &Job<'_, MySqlConnection>, outcome: FailureOutcome, error: BoxError) -> Error {
        job.rust_failure(outcome, error).into()
    }

    /// One transaction (the script has no statement that commits implicitly): restore,
    /// save, limits, body, history write and commit in one round trip.
    async fn transactional(&mut self, job: Job<'_, MySqlConnection>) -> Result<Executed, Error> {
        self.check_lease()?;
        let started = Instant::now();
        let version = job.row.version.get();
        let history = match job.direction {
            Direction::Up => sql::upsert(&self.table, &job.row, Execution::ServerClock),
            Direction::Down => sql::delete(&self.table, version),
        };
        let limits = self.limits(&job)?;
        match job.step.body {
            Body::Sql(_) => {
                let (statements, changed) = Self::statements(&job);
                if let Some(refused) = self.oversized(&job, &statements) {
                    return Err(refused);
                }
                let head = format!("{}{}{limits}START TRANSACTION;\n", self.restore, changed.save_sql());
                let tail = format!("{}{history};\nCOMMIT", self.fence);
                // One message, unless the server's max_allowed_packet says otherwise: then
                // as many messages, in the same transaction, as it takes.
                let messages = messages(&head, &statements, &tail, self.max_packet);
                let mut outcome = Ok(());
                for message in &messages {
                    if let Err(Failed { completed, error, .. }) = simple(&mut self.conn, message.sql.clone()).await {
                        outcome = Err((message, completed, error));
                        break;
                    }
                }
                self.restore = changed.restore_sql();
                match outcome {
                    Ok(()) => Ok(Executed { statements: statements.len(), duration: started.elapsed() }),
                    Err((_, _, error)) if !matches!(error, sqlx::Error::Database(_)) => {
                        // The client, not the server, failed: the server may have gone on and
                        // committed; this connection cannot tell.
                        Err(Self::failure(&job, None, FailureOutcome::Unknown, error))
                    }
                    Err((message, completed, error)) => {
                        self.rollback().await;
                        if let Some(lost) = self.fence_error(&error).await {
                            return Err(lost);
                        }
                        if completed < message.prefix {
                            return Err(db("preparing the migration's session", error));
                        }
                        let at = message.before + completed - message.prefix;
                        if at < statements.len() {
                            Err(Self::failure(&job, Some(job.start + at), FailureOutcome::RolledBack, error))
                        } else if at == statements.len() {
                            Err(db(format!("recording migration {version} in {}", self.table), error))
                        } else {
                            Err(Self::failure(&job, None, FailureOutcome::RolledBack, error))
                        }
                    }
                }
            }
            Body::Rust(step) => {
                let head = format!("{}{limits}", self.restore);
                simple(&mut self.conn, head).await.map_err(|f| db("preparing the migration's session", f.error))?;
                self.restore.clear();
                let mut tx = self.conn.begin().await.map_err(|e| db("starting the migration's transaction", e))?;
                if let Err(error) = step.run(&mut *tx).await {
                    let _ = tx.rollback().await;
                    return Err(Self::rust_failure(&job, FailureOutcome::RolledBack, error));
                }
                let fenced = format!("{}{history}", self.fence);
                if let Err(e) = sqlx::raw_sql(AssertSqlSafe(fenced)).execute(&mut *tx).await {
                    let _ = tx.rollback().await;
                    if let Some(lost) = self.fence_error(&e).await {
                        return Err(lost);
                    }
                    return Err(db(format!("recording migration {version} in {}", self.table), e));
                }
                tx.commit().await.map_err(|e| Self::failure(&job, None, FailureOutcome::RolledBack, e))?;
                Ok(Executed { statements: 1, duration: started.elapsed() })
            }
        }
    }

    async fn rollback(&mut self) {
        if let Err(f) = simple(&mut self.conn, "ROLLBACK".to_owned()).await {
            debug!(error = %f.error, "rollback after a failed migration failed");
        }
    }

    /// Statement by statement. A statement that commits implicitly (DDL) is sent with its
    /// progress update right after it; any other statement commits together with its
    /// progress update in one transaction. Either way: one round trip per statement.
    async fn stepwise(&mut self, job: Job<'_, MySqlConnection>) -> Result<Executed, Error> {
        self.check_lease()?;
        let started = Instant::now();
        let version = job.row.version.get();
        let limits = self.limits(&job)?;
        let (statements, changed) = Self::statements(&job);
        if let Some(refused) = self.oversized(&job, &statements) {
            return Err(refused);
        }
        let record = sql::upsert(&self.table, &job.row, Execution::AsRecorded);
        let head = format!("{}{}{limits}{}", self.restore, changed.save_sql(), self.fenced(&record));
        if let Err(Failed { error, .. }) = simple(&mut self.conn, head).await {
            self.rollback().await;
            return Err(match self.fence_error(&error).await {
                Some(lost) => lost,
                None => db(format!("recording the start of migration {version} in {}", self.table), error),
            });
        }
        self.restore = changed.restore_sql();
        let failed_state = job.failed_state();
        let total = job.total();
        let finish = match job.direction {
            Direction::Up => sql::update(&self.table, version, &update::applied(total, Execution::ServerClock)),
            Direction::Down => sql::delete(&self.table, version),
        };
        let mut executed = 0;
        match job.step.body {
            Body::Sql(_) => {
                if statements.is_empty() {
                    self.write_fenced(format!("recording the end of migration {version}"), &finish).await?;
                }
                for (offset, statement) in statements.iter().enumerate() {
                    self.check_lease()?;
                    let index = job.start + offset;
                    let record = if index + 1 == total {
                        finish.clone()
                    } else {
                        sql::update(&self.table, version, &update::progress(index + 1))
                    };
                    let ddl = commits_implicitly(Dialect::MySql, statement);
                    let (message, before) = if ddl {
                        (format!("{statement};\n{}", self.fenced(&record)), 0)
                    } else {
                        (format!("START TRANSACTION;\n{statement};\n{}{record};\nCOMMIT", self.fence), 1)
                    };
                    match simple(&mut self.conn, message).await {
                        Ok(_) => executed += 1,
                        Err(Failed { completed, error, .. }) => {
                            if !ddl || !self.fence.is_empty() {
                                self.rollback().await;
                            }
                            if completed > before
                                && let Some(lost) = self.fence_error(&error).await
                            {
                                return Err(lost);
                            }
                            let call = leading_words(statement, Dialect::MySql, 1).first().is_some_and(|w| w == "CALL");
                            if completed <= before || call {
                                return Err(self.record_failure(&job, index, failed_state, error).await);
                            }
                            // The statement ran; writing its progress failed.
                            return Err(db(
                                format!("recording progress of migration {version} (statement {} ran)", index + 1),
                                error,
                            ));
                        }
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
                self.write_fenced(format!("recording the end of migration {version}"), &finish).await?;
            }
        }
        Ok(Executed { statements: executed, duration: started.elapsed() })
    }

    async fn record_failure(
        &mut self,
        job: &Job<'_, MySqlConnection>,
        index: usize,
        state: State,
        error: sqlx::Error,
    ) -> Error {
        let text = describe(&error);
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
        let write = self.fenced(&sql::update(&self.table, version, &update::failed(state, statement, line, text)));
        match simple(&mut self.conn, write).await {
            Ok(_) => FailureOutcome::Recorded,
            Err(f) => {
                if !self.fence.is_empty() {
                    self.rollback().await;
                }
                debug!(error = %f.error, "recording the failure failed");
                FailureOutcome::NotRecorded
            }
        }
    }

    /// Creates the history table when missing and reads it: one round trip.
    async fn create(&mut self) -> Result<History, Error> {
        let sql = format!("{};\n{}", sql::create_history(&self.table), sql::select_history(&self.table));
        let results = simple(&mut self.conn, sql)
            .await
            .map_err(|f| db(format!("creating history table {}", self.table), f.error))?;
        history_of(&self.table, results.last().map(Vec::as_slice).unwrap_or_default())
    }
}

#[async_trait]
impl Session<MySqlConnection> for MySqlSession {
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
        let upgrade = sql::upgrade(&self.table, history.layout, columns::UPGRADES);
        if upgrade.is_empty() || history.layout > LAYOUT {
            return Ok(history);
        }
        info!(table = %self.table, from = history.layout, to = LAYOUT, "upgrading the history table in place");
        for statement in upgrade {
            match simple(&mut self.conn, statement).await {
                // A column added by an earlier, interrupted upgrade.
                Err(Failed { error, .. }) if number(&error) != Some(DUPLICATE_COLUMN) => {
                    return Err(db(format!("upgrading history table {}", self.table), error));
                }
                _ => {}
            }
        }
        self.read().await
    }

    async fn read(&mut self) -> Result<History, Error> {
        let results = simple(&mut self.conn, sql::select_history(&self.table))
            .await
            .map_err(|f| db(format!("reading history table {}", self.table), f.error))?;
        history_of(&self.table, results.first().map(Vec::as_slice).unwrap_or_default())
    }

    async fn execute(&mut self, job: Job<'_, MySqlConnection>) -> Result<Executed, Error> {
        match job.mode {
            Mode::Transactional => self.transactional(job).await,
            Mode::Stepwise => self.stepwise(job).await,
        }
    }

    async fn pause(&mut self, duration: Duration) -> Result<(), Error> {
        tokio::time::sleep(duration).await;
        Ok(())
    }

    async fn execute_repeatable(&mut self, job: RepeatableJob<'_>) -> Result<Executed, Error> {
        self.check_lease()?;
        let started = Instant::now();
        let limits = self.limits_of(job.lock_timeout, job.statement_timeout, job.script.path())?;
        let texts: Vec<String> = job.statements.iter().map(|s| job.script.statement_text(s).to_owned()).collect();
        if let Some(offset) = texts.iter().position(|t| t.len().saturating_add(MESSAGE_ROOM) > self.max_packet) {
            let reason = format!(
                "the statement is {} bytes, more than the server accepts in one message (max_allowed_packet = {} \
                 bytes); nothing was sent",
                texts.get(offset).map_or(0, String::len),
                self.max_packet
            );
            return Err(job.failure(Some(offset), false, reason.into()));
        }
        let head = format!("{}{limits}", self.restore);
        simple(&mut self.conn, head).await.map_err(|f| db("preparing the repeatable migration's session", f.error))?;
        self.restore.clear();
        let row = sql::upsert_values(&self.table, &job.row(Execution::ServerClock));
        if job.mode == Mode::Transactional {
            let tail = format!("{}{row};\nCOMMIT", self.fence);
            let messages = messages("START TRANSACTION;\n", &texts, &tail, self.max_packet);
            for message in &messages {
                if let Err(Failed { completed, error, .. }) = simple(&mut self.conn, message.sql.clone()).await {
                    self.rollback().await;
                    if let Some(lost) = self.fence_error(&error).await {
                        return Err(lost);
                    }
                    let at = (message.before + completed).checked_sub(message.prefix).filter(|at| *at < texts.len());
                    return Err(job.failure(at, false, described(error)));
                }
            }
            return Ok(Executed { statements: texts.len(), duration: started.elapsed() });
        }
        // DDL commits by itself: statement by statement, the row after the last.
        for (index, text) in texts.iter().enumerate() {
            if let Err(Failed { error, .. }) = simple(&mut self.conn, text.clone()).await {
                return Err(job.failure(Some(index), index > 0, described(error)));
            }
        }
        self.write_fenced(format!("recording repeatable migration {} in {}", job.name, self.table), &row).await?;
        Ok(Executed { statements: texts.len(), duration: started.elapsed() })
    }

    fn backfill_conn(&mut self) -> Result<Box<dyn migrator_core::backfill::BackfillConn + '_>, Error> {
        if self.lease.is_some() {
            return Err(Error::Unsupported {
                database: "MySQL/MariaDB under the lease lock (a Galera cluster)",
                what: "hold a backfill's lock (GET_LOCK is not replicated between Galera nodes)".to_owned(),
                instead: "run the backfill on a server without the lease lock".to_owned(),
            });
        }
        let schema = self.table.schema.as_ref().map(|s| s.as_str().to_owned());
        Ok(Box::new(crate::backfill::backfill_conn_in(&mut self.conn, schema.as_deref())))
    }

    async fn change(&mut self, change: HistoryChange) -> Result<(), Error> {
        let sql = match &change {
            HistoryChange::Upsert(rows) => {
                let writes: Vec<String> =
                    rows.iter().map(|row| sql::upsert(&self.table, row, Execution::AsRecorded)).collect();
                format!("START TRANSACTION;\n{}{};\nCOMMIT", self.fence, writes.join(";\n"))
            }
            HistoryChange::Delete(version) => self.fenced(&sql::delete(&self.table, version.get())),
        };
        self.check_lease()?;
        if let Err(f) = simple(&mut self.conn, sql).await {
            self.rollback().await;
            return Err(match self.fence_error(&f.error).await {
                Some(lost) => lost,
                None => db(format!("writing history table {}", self.table), f.error),
            });
        }
        Ok(())
    }

    async fn release(self: Box<Self>) -> Result<(), Error> {
        // Closing the session releases its GET_LOCK; the connection was detached from the
        // pool, so the lock can never go back into the pool with it. A lease is given up
        // first (dropped unreleased, it is released by a task or expires).
        let mut this = *self;
        let released = match this.lease.take() {
            Some(lease) => lease.release(&mut this.conn).await,
            None => Ok(()),
        };
        let closed = this.conn.close().await.map_err(|e| db("closing the migration connection", e));
        released.and(closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_larger_than_a_message_is_cut_between_statements() {
        let head = "SET a = 1;\nSTART TRANSACTION;\n";
        let statements: Vec<String> =
            (0..4).map(|i| format!("INSERT INTO t VALUES ('{}')", "x".repeat(3000 + i))).collect();
        let tail = "UPDATE h SET x = 1;\nCOMMIT";
        let one = messages(head, &statements, tail, 1 << 20);
        assert_eq!(one.len(), 1, "a script that fits goes in one message");
        assert_eq!(
            one[0].sql,
            format!("{head}{}{tail}", statements.iter().map(|s| format!("{s};\n")).collect::<String>())
        );
        let cut = messages(head, &statements, tail, 4096 + 7000);
        assert_eq!(cut.iter().map(|m| (m.before, m.prefix)).collect::<Vec<_>>(), [(0, 2), (2, 0)]);
        assert!(cut.iter().all(|m| m.sql.len() <= 7000), "{:?}", cut.iter().map(|m| m.sql.len()).collect::<Vec<_>>());
        let joined: String = cut.iter().map(|m| m.sql.as_str()).collect();
        assert_eq!(joined, one[0].sql, "nothing lost, nothing repeated");
        let long_tail = format!("UPDATE h SET x = '{}';\nCOMMIT", "y".repeat(1500));
        let cut = messages(head, &statements, &long_tail, 4096 + 7000);
        assert_eq!(cut.iter().map(|m| (m.before, m.prefix)).collect::<Vec<_>>(), [(0, 2), (2, 0), (4, 0)]);
        assert_eq!(cut[2].sql, long_tail, "the history write and COMMIT in a message of their own");
    }

    #[test]
    fn statement_counting() {
        assert_eq!(count("SET a = 1;\nSET b = 2;\nSTART TRANSACTION;\n"), 3);
        assert_eq!(count(""), 0);
    }

    /// Backends are usable as trait objects (the CLI picks one at runtime).
    #[test]
    fn the_driver_is_dyn_compatible() {
        fn boxed(driver: MySqlDriver) -> Box<dyn Driver<Conn = MySqlConnection>> {
            Box::new(driver)
        }
        let _ = boxed;
    }
}
