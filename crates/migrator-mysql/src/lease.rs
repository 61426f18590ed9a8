//! The lease lock on MySQL and MariaDB: a row in `_migrator_lock` instead of `GET_LOCK`,
//! for a Galera cluster (where `GET_LOCK` is node-local) and wherever a session lock cannot
//! be trusted. The design is PostgreSQL's (`migrator-postgres/src/lease.rs`):
//!
//! - Taking it is one autocommit `UPDATE` of the row (created first when missing) that
//!   succeeds only when the lease is free or expired, **judged by the server's clock**; each
//!   taking increments the fencing token. On Galera two nodes may both see the lease free:
//!   certification lets one commit and fails the other with a deadlock (error 1213), which
//!   means "not taken": the loser retries with backoff and then finds the lease held.
//! - A heartbeat on a connection of its own extends the expiry every third of the lease's
//!   time to live. A holder whose heartbeat fails past the expiry marks the lease lost.
//! - Every history write is fenced: in its transaction, first an `UPDATE` of the lease row
//!   that matches only this holding's token, then a statement that fails (error 1242) when
//!   it matched nothing. The `UPDATE` holds the row until the transaction ends (a taker on
//!   the same server waits for it), and on Galera it puts the row in the transaction's write
//!   set, so a takeover on another node and this history write cannot both commit.
//! - Reads on the session that took the lease are causal on Galera (`wsrep_sync_wait`), so
//!   the history read after taking it sees every write of the previous holder, whichever
//!   node it wrote on.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use migrator_core::Error;
use migrator_core::backoff::Backoff;
use migrator_core::history::HistoryTable;
use migrator_core::plan::lock::Cluster;
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlConnection, MySqlPool, Row};
use tracing::{debug, info, warn};

use crate::conn::{Failed, db, number, simple};
use crate::sql::literal;

/// The lease table's name; it lives in the history table's database.
pub(crate) const LEASE_TABLE: &str = "`_migrator_lock`";

/// ER_NO_SUCH_TABLE.
const NO_SUCH_TABLE: u16 = 1146;
/// ER_LOCK_DEADLOCK: on Galera, a certification failure (another node won).
pub(crate) const DEADLOCK: u16 = 1213;
/// ER_LOCK_WAIT_TIMEOUT.
const LOCK_WAIT_TIMEOUT: u16 = 1205;
/// ER_TRANSACTION_ROLLBACK_DURING_COMMIT: on MySQL Group Replication, a certification
/// failure at commit (another member's conflicting transaction won).
pub(crate) const CERTIFICATION_FAILED: u16 = 3101;
/// ER_SUBQUERY_NO_1_ROW: what the fence raises when this holding's token is not current.
pub(crate) const FENCE_FAILED: u16 = 1242;

/// Makes the session's reads (and updates) wait until this node has applied every write the
/// cluster committed before them: on a Galera node, and on a Group Replication member; none
/// elsewhere.
pub(crate) fn causal_reads(cluster: Cluster) -> Option<&'static str> {
    match cluster {
        Cluster::Galera => Some("SET SESSION wsrep_sync_wait = 3"),
        Cluster::GroupReplication { .. } => Some("SET SESSION group_replication_consistency = 'BEFORE'"),
        Cluster::None => None,
    }
}

/// A lease held by this process.
#[derive(Debug)]
pub(crate) struct Lease {
    /// The lease row's key: the history table's name, as a literal.
    key: String,
    /// Who holds it (shown to waiters).
    holder: String,
    /// The fencing token of this holding.
    token: i64,
    /// Set by the heartbeat when the lease could not be extended.
    lost: Arc<AtomicBool>,
    heartbeat: tokio::task::JoinHandle<()>,
    pool: MySqlPool,
    released: bool,
}

/// Who this process is: host, process id and a random suffix (two runners in one process,
/// or two takings by one runner, are different holders).
fn holder_identity() -> String {
    let host = migrator_core::history::host_name().unwrap_or_else(|| "unknown-host".to_owned());
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish() & 0xffff_ffff;
    let clean: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    format!("{clean}:{}:{random:08x}", std::process::id())
}

/// The lease table. InnoDB with a primary key: Galera replicates nothing else.
fn create_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {LEASE_TABLE} (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    holder VARCHAR(255) NULL,
    token BIGINT NOT NULL,
    acquired_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    holder_info VARCHAR(512) NULL,
    fenced BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB"
    )
}

/// The lease row's key for `history`.
fn key_of(history: &HistoryTable) -> String {
    literal(history.name.as_str())
}

/// The row of the lease of `history` when it is held and not expired (holder, token, holder
/// info, taken at, milliseconds left); fails with 1146 when no lease table exists.
pub(crate) fn live_holder_sql(history: &HistoryTable) -> String {
    holder_sql(&key_of(history), " AND holder IS NOT NULL AND expires_at > UTC_TIMESTAMP(6)")
}

fn holder_sql(key: &str, and: &str) -> String {
    format!(
        "SELECT COALESCE(holder, ''), CAST(token AS SIGNED), COALESCE(holder_info, ''), \
         DATE_FORMAT(acquired_at, '%Y-%m-%d %H:%i:%s UTC'), \
         CAST(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires_at) DIV 1000 AS SIGNED) \
         FROM {LEASE_TABLE} WHERE name = {key}{and}"
    )
}

/// An operator's description of a row of [`live_holder_sql`].
pub(crate) fn holder_text(row: &MySqlRow) -> Option<String> {
    let holder: String = row.try_get(0).ok()?;
    let token: i64 = row.try_get(1).ok()?;
    let info: String = row.try_get(2).ok()?;
    let since: String = row.try_get(3).ok()?;
    let left: i64 = row.try_get(4).ok()?;
    Some(migrator_core::driver::lease_holder_text(&holder, &info, token, &since, left))
}

fn micros(duration: Duration) -> u128 {
    duration.as_micros().max(1000)
}

impl Lease {
    /// Takes the lease on `conn`, waiting up to `wait`; the heartbeat runs on `pool`.
    /// `cluster`: the cluster the server is a node of, if any.
    pub(crate) async fn acquire(
        conn: &mut MySqlConnection,
        pool: &MySqlPool,
        history: &HistoryTable,
        ttl: Duration,
        wait: Duration,
        cluster: Cluster,
    ) -> Result<Lease, Error> {
        let key = key_of(history);
        let holder = holder_identity();
        let causal = causal_reads(cluster).map(|set| format!("{set};\n")).unwrap_or_default();
        // Three statements, each committing by itself: the row when missing (a lost race
        // is ignored), the taking, and who holds it now.
        let take = format!(
            "{causal}INSERT IGNORE INTO {LEASE_TABLE} (name, holder, token, acquired_at, expires_at) \
             VALUES ({key}, NULL, 0, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));\n\
             UPDATE {LEASE_TABLE} SET holder = {h}, token = token + 1, acquired_at = UTC_TIMESTAMP(6), \
             expires_at = UTC_TIMESTAMP(6) + INTERVAL {ttl} MICROSECOND, holder_info = {info} \
             WHERE name = {key} AND (holder IS NULL OR expires_at < UTC_TIMESTAMP(6));\n\
             SELECT CAST(token AS SIGNED), COALESCE(holder, '') FROM {LEASE_TABLE} WHERE name = {key}",
            h = literal(&holder),
            ttl = micros(ttl),
            info = crate::sql::APPLIED_BY,
        );
        let statements = if causal.is_empty() { 3 } else { 4 };
        let mut backoff = Backoff::new(wait);
        let mut created = false;
        loop {
            match simple(conn, take.clone()).await {
                Ok(results) => {
                    let row = results.get(statements - 1).and_then(|rows| rows.first());
                    let Some(row) = row else {
                        return Err(db("taking the migration lease", sqlx::Error::RowNotFound));
                    };
                    let token: i64 = row.try_get(0).map_err(|e| db("taking the migration lease", e))?;
                    let current: String = row.try_get(1).map_err(|e| db("taking the migration lease", e))?;
                    if current == holder {
                        debug!(lease = %key, token, holder = %holder, "migration lease taken");
                        let lost = Arc::new(AtomicBool::new(false));
                        let heartbeat = tokio::spawn(heartbeat(pool.clone(), key.clone(), token, ttl, lost.clone()));
                        return Ok(Lease { key, holder, token, lost, heartbeat, pool: pool.clone(), released: false });
                    }
                }
                Err(Failed { error, .. }) if number(&error) == Some(NO_SUCH_TABLE) => {
                    if created {
                        return Err(db(format!("creating lease table {LEASE_TABLE}"), error));
                    }
                    simple(conn, create_sql())
                        .await
                        .map_err(|f| db(format!("creating lease table {LEASE_TABLE}"), f.error))?;
                    created = true;
                    continue;
                }
                // Another runner's taking won (Galera or Group Replication certification, or
                // an InnoDB deadlock between two takers): not taken; the next try finds it held.
                Err(Failed { error, .. })
                    if matches!(number(&error), Some(DEADLOCK | LOCK_WAIT_TIMEOUT | CERTIFICATION_FAILED)) =>
                {
                    debug!(lease = %key, error = %error, "another runner took the migration lease first");
                }
                Err(Failed { error, .. }) => return Err(db("taking the migration lease", error)),
            }
            if backoff.first() {
                info!(lease = %key, "waiting for the migration lease held by another process");
            }
            if let Err(waited) = backoff.pause(tokio::time::sleep).await {
                let holder = Self::describe_holder(conn, &key).await;
                return Err(Error::LockTimeout { waited, lock: format!("lease {key} in {LEASE_TABLE}"), holder });
            }
        }
    }

    /// Who holds the lease and until when, for the timeout message.
    async fn describe_holder(conn: &mut MySqlConnection, key: &str) -> Option<String> {
        let results = simple(conn, holder_sql(key, "")).await.ok()?;
        holder_text(results.first()?.first()?)
    }

    /// Whether the heartbeat lost the lease.
    pub(crate) fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// The error for a lost lease.
    pub(crate) fn lost_error(&self, reason: &str) -> Error {
        Error::LockLost {
            lock: format!("lease {} in {LEASE_TABLE} (holder {}, token {})", self.key, self.holder, self.token),
            reason: reason.to_owned(),
        }
    }

    /// The fence: two statements, each ending with `;\n`, for the start of a history
    /// write's transaction. The first matches the lease row only while this holding's token
    /// is current (and keeps it locked, and in the write set, until the transaction ends);
    /// the second fails with [`FENCE_FAILED`] when it matched nothing (a scalar subquery of
    /// two rows; `SELECT … INTO` raises it where `DO` would only warn).
    pub(crate) fn fence(&self) -> String {
        format!(
            "UPDATE {LEASE_TABLE} SET fenced = fenced + 1 WHERE name = {key} AND token = {token} AND holder IS NOT NULL;\n\
             SELECT (SELECT 1 FROM (SELECT 1 AS lease_lost UNION ALL SELECT 2) lease_lost WHERE ROW_COUNT() = 0) \
             INTO @__migrator_fence;\n",
            key = self.key,
            token = self.token,
        )
    }

    /// Whether this holding's token is still the lease's (asked after a fence failed).
    pub(crate) async fn current(&self, conn: &mut MySqlConnection) -> bool {
        let sql = format!("SELECT CAST(token AS SIGNED) FROM {LEASE_TABLE} WHERE name = {}", self.key);
        match simple(conn, sql).await {
            Ok(results) => {
                results.first().and_then(|rows| rows.first()).and_then(|row| row.try_get::<i64, _>(0).ok())
                    == Some(self.token)
            }
            Err(_) => false,
        }
    }

    /// Gives the lease up (the row stays, free, with its token for the next taker).
    pub(crate) async fn release(mut self, conn: &mut MySqlConnection) -> Result<(), Error> {
        self.heartbeat.abort();
        self.released = true;
        simple(conn, self.release_sql()).await.map_err(|f| db("releasing the migration lease", f.error))?;
        Ok(())
    }

    fn release_sql(&self) -> String {
        format!(
            "UPDATE {LEASE_TABLE} SET holder = NULL, expires_at = UTC_TIMESTAMP(6) WHERE name = {} AND token = {}",
            self.key, self.token
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
/// expiry. The connection is detached from the pool (closed at the end, never returned).
/// No causal read is needed: on Galera, an extension that races a takeover fails
/// certification (a failure to renew), and a later one finds the new token.
async fn heartbeat(pool: MySqlPool, key: String, token: i64, ttl: Duration, lost: Arc<AtomicBool>) {
    let interval = (ttl / 3).max(Duration::from_millis(50));
    let extend = format!(
        "UPDATE {LEASE_TABLE} SET expires_at = UTC_TIMESTAMP(6) + INTERVAL {} MICROSECOND \
         WHERE name = {key} AND token = {token} AND holder IS NOT NULL;\n\
         SELECT CAST(COUNT(*) AS SIGNED) FROM {LEASE_TABLE} WHERE name = {key} AND token = {token} AND holder IS NOT NULL",
        micros(ttl)
    );
    let mut conn = None;
    let mut last_extended = Instant::now();
    loop {
        tokio::time::sleep(interval).await;
        if conn.is_none() {
            conn = pool.acquire().await.ok().map(sqlx::pool::PoolConnection::detach);
        }
        let result = match conn.as_mut() {
            Some(c) => simple(c, extend.clone()).await.map_err(|f| f.error.to_string()),
            None => Err("no connection for the heartbeat".to_owned()),
        };
        let held = |results: &Vec<Vec<MySqlRow>>| {
            results.last().and_then(|rows| rows.first()).and_then(|row| row.try_get::<i64, _>(0).ok()) == Some(1)
        };
        match result {
            Ok(results) if held(&results) => last_extended = Instant::now(),
            Ok(_) => {
                warn!(lease = %key, token, "the migration lease was taken over by another process");
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(error) => {
                conn = None;
                if last_extended.elapsed() >= ttl {
                    warn!(lease = %key, token, %error, "the migration lease could not be renewed before it expired");
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
                debug!(lease = %key, %error, "renewing the migration lease failed; retrying");
            }
        }
    }
}
