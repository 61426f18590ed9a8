//! The lease lock: a row in `_migrator_lock` instead of a session advisory lock, for setups
//! where a session is not a server connection (PgBouncer in transaction mode, CockroachDB).
//!
//! - Taking it is one autocommit statement: insert the row, or take it over when it is free
//!   or expired, **judged by the server's clock**; each taking increments the fencing token.
//! - A heartbeat on a connection of its own extends the expiry every third of the lease's
//!   time to live. A holder whose heartbeat fails past the expiry marks the lease lost.
//! - Every history write is fenced: it runs in a transaction that first locks the lease row
//!   (`FOR SHARE`) and checks the token, so a holder whose lease was taken over writes
//!   nothing, and a taker waits for a running history write to commit.
//! - A dead holder stops heartbeating; its lease expires and the next runner takes it. A live
//!   holder keeps extending it, so it is never taken from under it.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use migrator_core::Error;
use migrator_core::history::{HistoryTable, Ident};
use sqlx::{PgConnection, PgPool, Row};
use tracing::{debug, info, warn};

use crate::conn::{Failed, code, db, simple};
use crate::sql::literal;
use migrator_core::backoff::Backoff;

/// SQLSTATE raised by the fence when the token is no longer current.
pub(crate) const LEASE_LOST: &str = "MG001";

/// The lease table's name; it lives in the history table's schema.
const LEASE_TABLE: &str = "_migrator_lock";

/// SQLSTATEs of a concurrent `CREATE TABLE IF NOT EXISTS` (unique violation on the catalog,
/// duplicate table, duplicate row type): the table exists, so taking the lease is retried.
/// Creation is serialized by a transaction advisory lock, so these only show against a
/// creator that does not take it (an older version, a hand-written script).
const CREATE_RACES: [&str; 3] = ["23505", "42P07", "42710"];

/// A lease held by this process.
#[derive(Debug)]
pub(crate) struct Lease {
    /// The lease table, quoted and qualified.
    table: String,
    /// The lease row's key: the history table's qualified name, as a literal.
    key: String,
    /// Who holds it (shown to waiters).
    pub(crate) holder: String,
    /// The fencing token of this holding.
    pub(crate) token: i64,
    /// Set by the heartbeat when the lease could not be extended.
    lost: Arc<AtomicBool>,
    heartbeat: tokio::task::JoinHandle<()>,
    pool: PgPool,
    released: bool,
}

/// The lease table of `history`.
fn lease_table(history: &HistoryTable) -> HistoryTable {
    let name = Ident::new("lease table", LEASE_TABLE).unwrap_or_else(|_| history.name.clone());
    HistoryTable { schema: history.schema.clone(), name }
}

/// Who this process is: host, process id and a random suffix (two runners in one process
/// are different holders).
fn holder_identity() -> String {
    let host = migrator_core::history::host_name().unwrap_or_else(|| "unknown-host".to_owned());
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish() & 0xffff_ffff;
    let clean: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    format!("{clean}:{}:{random:08x}", std::process::id())
}

/// Creates the lease table (and its schema) in one implicit transaction that first takes a
/// transaction-scoped advisory lock: concurrent creators queue instead of racing on the
/// catalog (`type "_migrator_lock" already exists`). A transaction lock ends with the
/// transaction, so it is safe behind a transaction pooler, unlike a session lock.
fn create_sql(table: &str, schema: Option<&Ident>) -> String {
    let key = crate::key::lock_key("", schema.map(Ident::as_str).unwrap_or(""), LEASE_TABLE);
    let schema = schema.map(|s| format!("CREATE SCHEMA IF NOT EXISTS {};\n", s.quoted('"'))).unwrap_or_default();
    format!(
        "SET LOCAL client_min_messages = warning;\nSELECT pg_advisory_xact_lock({key});\n{schema}CREATE TABLE IF NOT EXISTS {table} (
    name TEXT PRIMARY KEY,
    holder TEXT,
    token BIGINT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    holder_info TEXT
)"
    )
}

/// The lease row of `key` in `table` (holder, token, holder info, taken at, milliseconds
/// left), with an extra condition (`and`, starting with ` AND`, or empty).
fn holder_sql(table: &str, key: &str, and: &str) -> String {
    format!(
        "SELECT coalesce(holder, ''), token, coalesce(holder_info, ''), \
         to_char(acquired_at, 'YYYY-MM-DD HH24:MI:SS TZ'), \
         (extract(epoch from expires_at - clock_timestamp()) * 1000)::int8 FROM {table} WHERE name = {key}{and}"
    )
}

/// The lease of `history` when it is held and not expired (no row otherwise); fails with
/// 42P01 when no lease table exists.
pub(crate) fn live_holder_sql(history: &HistoryTable) -> String {
    let table = lease_table(history).qualified('"');
    holder_sql(&table, &literal(&history.to_string()), " AND holder IS NOT NULL AND expires_at > clock_timestamp()")
}

/// An operator's description of a row of [`holder_sql`].
pub(crate) fn holder_text(row: &sqlx::postgres::PgRow) -> Option<String> {
    let holder: String = row.try_get(0).ok()?;
    let token: i64 = row.try_get(1).ok()?;
    let info: String = row.try_get(2).ok()?;
    let since: String = row.try_get(3).ok()?;
    let left: i64 = row.try_get(4).ok()?;
    Some(migrator_core::driver::lease_holder_text(&holder, &info, token, &since, left))
}

fn ms(duration: Duration) -> u128 {
    duration.as_millis().max(1)
}

impl Lease {
    /// Takes the lease on `conn`, waiting up to `wait`; the heartbeat runs on `pool`.
    pub(crate) async fn acquire(
        conn: &mut PgConnection,
        pool: &PgPool,
        history: &HistoryTable,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, Error> {
        let lease_table = lease_table(history);
        let table = lease_table.qualified('"');
        let key = literal(&history.to_string());
        let holder = holder_identity();
        let take = format!(
            "INSERT INTO {table} AS l (name, holder, token, acquired_at, expires_at, holder_info) \
             VALUES ({key}, {h}, 1, clock_timestamp(), clock_timestamp() + interval '{ttl} milliseconds', {info}) \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = l.token + 1, \
             acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at, holder_info = EXCLUDED.holder_info \
             WHERE l.holder IS NULL OR l.expires_at < clock_timestamp() \
             RETURNING token",
            h = literal(&holder),
            ttl = ms(ttl),
            info = crate::sql::APPLIED_BY,
        );
        let mut backoff = Backoff::new(wait);
        let mut created = false;
        loop {
            match simple(conn, take.clone()).await {
                Ok(results) => {
                    if let Some(row) = results.first().and_then(|rows| rows.first()) {
                        let token: i64 = row.try_get(0).map_err(|e| db("taking the migration lease", e))?;
                        debug!(lease = %table, token, holder = %holder, "migration lease taken");
                        let lost = Arc::new(AtomicBool::new(false));
                        let heartbeat =
                            tokio::spawn(heartbeat(pool.clone(), table.clone(), key.clone(), token, ttl, lost.clone()));
                        return Ok(Lease {
                            table,
                            key,
                            holder,
                            token,
                            lost,
                            heartbeat,
                            pool: pool.clone(),
                            released: false,
                        });
                    }
                }
                Err(Failed { error, .. }) if code(&error) == Some("42P01") || code(&error) == Some("3F000") => {
                    if created {
                        return Err(db(format!("creating lease table {table}"), error));
                    }
                    match simple(conn, create_sql(&table, lease_table.schema.as_ref())).await {
                        Ok(_) => {}
                        Err(Failed { error, .. }) if code(&error).is_some_and(|c| CREATE_RACES.contains(&c)) => {}
                        Err(Failed { error, .. }) => return Err(db(format!("creating lease table {table}"), error)),
                    }
                    created = true;
                    continue;
                }
                Err(Failed { error, .. }) => return Err(db("taking the migration lease", error)),
            }
            if backoff.first() {
                info!(lease = %table, "waiting for the migration lease held by another process");
            }
            if let Err(waited) = backoff.pause(tokio::time::sleep).await {
                let holder = Self::describe_holder(conn, &table, &key).await;
                return Err(Error::LockTimeout { waited, lock: format!("lease {key} in {table}"), holder });
            }
        }
    }

    /// Who holds the lease and until when, for the timeout message.
    async fn describe_holder(conn: &mut PgConnection, table: &str, key: &str) -> Option<String> {
        let results = simple(conn, holder_sql(table, key, "")).await.ok()?;
        holder_text(results.first()?.first()?)
    }

    /// Whether the heartbeat lost the lease.
    pub(crate) fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// The error for a lost lease.
    pub(crate) fn lost_error(&self, reason: &str) -> Error {
        Error::LockLost {
            lock: format!("lease {} in {} (holder {}, token {})", self.key, self.table, self.holder, self.token),
            reason: reason.to_owned(),
        }
    }

    /// The fence: a statement that fails with [`LEASE_LOST`] unless this holding's token is
    /// current, locking the lease row until the enclosing transaction ends.
    pub(crate) fn fence(&self) -> String {
        crate::sql::do_block(&format!(
            "BEGIN IF NOT EXISTS (SELECT 1 FROM {table} WHERE name = {key} AND token = {token} FOR SHARE) THEN RAISE \
             EXCEPTION USING ERRCODE = '{LEASE_LOST}', MESSAGE = 'migration lease lost: token {token} is no longer \
             current, another process took the lease over'; END IF; END",
            table = self.table,
            key = self.key,
            token = self.token,
        ))
    }

    /// Gives the lease up (the row stays, free, with its token for the next taker).
    pub(crate) async fn release(mut self, conn: &mut PgConnection) -> Result<(), Error> {
        self.heartbeat.abort();
        self.released = true;
        let sql = self.release_sql();
        simple(conn, sql).await.map_err(|f| db("releasing the migration lease", f.error))?;
        Ok(())
    }

    fn release_sql(&self) -> String {
        format!(
            "UPDATE {} SET holder = NULL, expires_at = clock_timestamp() WHERE name = {} AND token = {}",
            self.table, self.key, self.token
        )
    }
}

impl Drop for Lease {
    /// Stops the heartbeat. A lease dropped without [`Lease::release`] (error path, panic,
    /// cancelled run) is released by a task on the pool when a runtime is there; otherwise
    /// it expires by itself.
    fn drop(&mut self) {
        self.heartbeat.abort();
        if self.released {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pool = self.pool.clone();
            let sql = self.release_sql();
            runtime.spawn(async move {
                if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await {
                    warn!(error = %e, "releasing the migration lease failed; it expires by itself");
                }
            });
        }
    }
}

/// Extends the lease every third of its time to live, on a connection of its own; marks it
/// lost when the row no longer carries this token, or when extending keeps failing past the
/// expiry.
async fn heartbeat(pool: PgPool, table: String, key: String, token: i64, ttl: Duration, lost: Arc<AtomicBool>) {
    let interval = (ttl / 3).max(Duration::from_millis(50));
    let extend = format!(
        "UPDATE {table} SET expires_at = clock_timestamp() + interval '{} milliseconds' \
         WHERE name = {key} AND token = {token} AND holder IS NOT NULL RETURNING token",
        ms(ttl)
    );
    let mut conn = None;
    let mut last_extended = Instant::now();
    loop {
        tokio::time::sleep(interval).await;
        if conn.is_none() {
            conn = pool.acquire().await.ok();
        }
        let result = match conn.as_mut() {
            Some(c) => simple(c, extend.clone()).await.map_err(|f| f.error.to_string()),
            None => Err("no connection for the heartbeat".to_owned()),
        };
        match result {
            Ok(results) if results.first().is_some_and(|rows| !rows.is_empty()) => last_extended = Instant::now(),
            Ok(_) => {
                warn!(lease = %table, token, "the migration lease was taken over by another process");
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(error) => {
                conn = None;
                if last_extended.elapsed() >= ttl {
                    warn!(lease = %table, token, %error, "the migration lease could not be renewed before it expired");
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
                debug!(lease = %table, %error, "renewing the migration lease failed; retrying");
            }
        }
    }
}
