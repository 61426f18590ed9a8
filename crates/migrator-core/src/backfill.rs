//! Batched backfills: one engine for the SQL form (a migration with the `backfill`
//! directive) and the Rust form ([`Backfill::run`], from a Rust-code migration or from
//! application code).
//!
//! A backfill runs one `UPDATE` or `DELETE` over a table in keyset batches of an integer
//! key: each batch binds its bounds to the statement's `:start` and `:end` (keys in
//! `(start, end]`) and runs in a transaction of its own, together with the update of the
//! backfill's progress row in [`PROGRESS_TABLE`], made only if the row still names `start`
//! as the last key done. So a run killed at any point (`kill -9` included) resumes after its
//! last committed batch: every row is changed exactly once. Another run of the same backfill
//! is refused while one holds it ([`BackfillConn::begin`]: PostgreSQL holds a session
//! advisory lock keyed by the backfill's name for the whole run; the lock goes with the
//! connection, so a killed run leaves none behind).
//!
//! The decisions (where to start, when it is finished, the next batch's size, the pause,
//! whether a migration that requires a backfill may run) are the planner's
//! ([`crate::plan::backfill_start`] and its neighbours); drivers execute
//! ([`BackfillConn`]); this module loops and reports progress as tracing events (target
//! `migrator::backfill`, one INFO event per batch with `rows_done`, `rows_total`, `rate`
//! and `eta_ms`), from which the CLI draws its progress bar.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::info;

use crate::dialect::Dialect;
use crate::directive::{BackfillDirective, backfill_statement_problem, bind_bounds, is_word};
use crate::error::{BoxError, Error};
use crate::plan::{self, BackfillProgress, BackfillStart, BackfillState, BatchPolicy, BatchStep};
use crate::text::human;

/// The progress table, in the connection's current schema (PostgreSQL) or database.
pub const PROGRESS_TABLE: &str = "_migrator_backfills";

/// What a progress column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressKind {
    /// A name (the key, the table, the key column, the owner).
    Name,
    /// A 64-bit integer.
    Integer,
    /// A point in time, the server's clock.
    Time,
}

/// One column of the progress table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressColumn {
    /// Its name.
    pub name: &'static str,
    /// What it holds.
    pub kind: ProgressKind,
    /// Whether it may be NULL.
    pub nullable: bool,
}

const fn column(name: &'static str, kind: ProgressKind, nullable: bool) -> ProgressColumn {
    ProgressColumn { name, kind, nullable }
}

/// The progress table's columns, defined once: every driver creates the table from them
/// ([`progress_table_sql`]). `name` is the primary key.
pub const PROGRESS_COLUMNS: &[ProgressColumn] = &[
    column("name", ProgressKind::Name, false),
    column("table_name", ProgressKind::Name, false),
    column("key_column", ProgressKind::Name, false),
    column("last_key", ProgressKind::Integer, true),
    column("rows_done", ProgressKind::Integer, false),
    column("state", ProgressKind::Name, false),
    column("started_at", ProgressKind::Time, false),
    column("updated_at", ProgressKind::Time, false),
    column("finished_at", ProgressKind::Time, true),
    column("owner", ProgressKind::Name, false),
];

/// `CREATE TABLE IF NOT EXISTS` for the progress table in `dialect`, from
/// [`PROGRESS_COLUMNS`]; `table` is the quoted table name.
pub fn progress_table_sql(dialect: Dialect, table: &str) -> String {
    let columns: Vec<String> = PROGRESS_COLUMNS
        .iter()
        .map(|c| {
            let kind = match (c.kind, dialect) {
                (ProgressKind::Name, Dialect::MySql) => "VARCHAR(255)",
                (ProgressKind::Name, _) => "TEXT",
                (ProgressKind::Integer, Dialect::Sqlite) => "INTEGER",
                (ProgressKind::Integer, _) => "BIGINT",
                (ProgressKind::Time, Dialect::Postgres) => "TIMESTAMPTZ",
                (ProgressKind::Time, Dialect::MySql) => "DATETIME(6)",
                (ProgressKind::Time, Dialect::Sqlite) => "TEXT",
            };
            let null = if c.nullable { "" } else { " NOT NULL" };
            format!("{} {kind}{null}", c.name)
        })
        .collect();
    format!("CREATE TABLE IF NOT EXISTS {table} ({}, PRIMARY KEY (name))", columns.join(", "))
}

/// The SQL a driver runs for a backfill in its dialect, the parts that differ (placeholders,
/// the server's clock, the upsert, the key's type) decided here once. Each statement's
/// placeholders appear in the order of its binds, as the method says, so that MySQL's
/// positional `?` and the numbered `$n` / `?n` bind alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillSql<'a> {
    dialect: Dialect,
    progress: &'a str,
}

impl<'a> BackfillSql<'a> {
    /// The SQL for `dialect`, the progress table being `progress` (quoted, maybe qualified).
    pub fn new(dialect: Dialect, progress: &'a str) -> Self {
        BackfillSql { dialect, progress }
    }

    /// The `n`-th placeholder (from 1).
    fn arg(&self, n: usize) -> String {
        match self.dialect {
            Dialect::Postgres => format!("${n}"),
            Dialect::MySql => "?".to_owned(),
            Dialect::Sqlite => format!("?{n}"),
        }
    }

    /// The server's clock, as the progress table stores it.
    fn now(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => "now()",
            Dialect::MySql => "CURRENT_TIMESTAMP(6)",
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        }
    }

    /// A table written `orders` or `shop.orders`, or a column, quoted.
    fn quoted(&self, name: &str) -> String {
        let quote = if self.dialect == Dialect::MySql { '`' } else { '"' };
        let part = |p: &str| {
            let doubled = p.replace(quote, &format!("{quote}{quote}"));
            format!("{quote}{doubled}{quote}")
        };
        name.split('.').map(part).collect::<Vec<_>>().join(".")
    }

    /// `CREATE TABLE IF NOT EXISTS` for the progress table ([`progress_table_sql`]).
    pub fn create_table(&self) -> String {
        progress_table_sql(self.dialect, self.progress)
    }

    /// Who holds the backfill, as its progress row says; binds the name.
    pub fn holder(&self) -> String {
        let text = match self.dialect {
            Dialect::Postgres => "owner || ', since ' || updated_at::text",
            Dialect::MySql => "CONCAT(owner, ', since ', updated_at)",
            Dialect::Sqlite => "owner || ', since ' || updated_at",
        };
        format!("SELECT {text} FROM {} WHERE name = {}", self.progress, self.arg(1))
    }

    /// The progress row as [`progress_from_columns`] reads it; binds the name.
    pub fn progress(&self) -> String {
        format!(
            "SELECT last_key, rows_done, state, table_name, key_column FROM {} WHERE name = {}",
            self.progress,
            self.arg(1)
        )
    }

    /// Creates the progress row (state running) or, when it exists, records the new owner;
    /// binds the name, the table, the key column and the owner ([`backfill_owner`]).
    pub fn start(&self) -> String {
        let now = self.now();
        let upsert = match self.dialect {
            Dialect::MySql => format!("ON DUPLICATE KEY UPDATE owner = VALUES(owner), updated_at = {now}"),
            Dialect::Postgres | Dialect::Sqlite => {
                format!("ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, updated_at = {now}")
            }
        };
        format!(
            "INSERT INTO {} (name, table_name, key_column, last_key, rows_done, state, started_at, updated_at, owner) \
             VALUES ({}, {}, {}, NULL, 0, 'running', {now}, {now}, {}) {upsert}",
            self.progress,
            self.arg(1),
            self.arg(2),
            self.arg(3),
            self.arg(4)
        )
    }

    /// Counts the target's rows with a key above the bound start.
    pub fn count_after(&self, target: &BackfillTarget<'_>) -> String {
        format!(
            "SELECT count(*) FROM {} WHERE {} > {}",
            self.quoted(target.table),
            self.quoted(target.key),
            self.arg(1)
        )
    }

    /// The largest of the next keys (as a 64-bit integer, `NULL` when none); binds the start
    /// and the batch size.
    pub fn next_end(&self, target: &BackfillTarget<'_>) -> String {
        let key = self.quoted(target.key);
        let max = if self.dialect == Dialect::MySql { "CAST(max(k) AS SIGNED)" } else { "max(k)" };
        format!(
            "SELECT {max} FROM (SELECT {key} AS k FROM {} WHERE {key} > {} ORDER BY {key} LIMIT {}) AS batch",
            self.quoted(target.table),
            self.arg(1),
            self.arg(2)
        )
    }

    /// Moves the progress row past a batch, only if its last key is still the batch's start
    /// (one row changed, or none); binds the end, the rows changed, the name and the start.
    pub fn advance(&self) -> String {
        format!(
            "UPDATE {} SET last_key = {}, rows_done = rows_done + {}, updated_at = {} \
             WHERE name = {} AND coalesce(last_key, {}) = {} AND state = 'running'",
            self.progress,
            self.arg(1),
            self.arg(2),
            self.now(),
            self.arg(3),
            i64::MIN,
            self.arg(4)
        )
    }

    /// Marks the backfill finished; binds the name.
    pub fn finish(&self) -> String {
        let now = self.now();
        format!(
            "UPDATE {} SET state = 'finished', finished_at = {now}, updated_at = {now} WHERE name = {}",
            self.progress,
            self.arg(1)
        )
    }

    /// Deletes the progress row; binds the name.
    pub fn forget(&self) -> String {
        format!("DELETE FROM {} WHERE name = {}", self.progress, self.arg(1))
    }
}

/// Who runs this process, as the progress row's `owner` says: the host and the process id.
pub fn backfill_owner() -> String {
    let host = crate::history::host_name().unwrap_or_else(|| "unknown host".to_owned());
    format!("{host} pid {}", std::process::id())
}

/// The progress row read by [`BackfillSql::progress`]; refused when its state is one this
/// version does not know.
pub fn progress_from_columns(
    last_key: Option<i64>,
    rows_done: i64,
    state: &str,
    table: String,
    key: String,
) -> Result<BackfillProgress, Error> {
    let state = BackfillState::parse(state).ok_or_else(|| Error::Misconfigured {
        reason: format!(
            "the backfill progress table {PROGRESS_TABLE} has a row in state `{state}`, which this version does not \
             know: was it written by a newer migrator?"
        ),
    })?;
    Ok(BackfillProgress { last_key, rows_done: u64::try_from(rows_done).unwrap_or(0), state, table, key })
}

/// One batch as a driver runs it ([`BackfillConn::run_batch`]): the statement with its
/// bounds bound, and the keys `(start, end]` it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillBatch<'a> {
    /// The statement, `:start` and `:end` replaced by the bounds.
    pub statement: &'a str,
    /// Exclusive lower bound: the last key done.
    pub start: i64,
    /// Inclusive upper bound.
    pub end: i64,
}

impl BackfillBatch<'_> {
    /// The error of this batch of `target` failing at `what` (`to start`, `in its statement`,
    /// `at commit`…) and rolled back, with the database's `cause`.
    pub fn failed(&self, target: &BackfillTarget<'_>, what: &str, cause: impl Into<BoxError>) -> Error {
        let BackfillBatch { start, end, .. } = self;
        Error::database(
            format!(
                "backfill `{}`: the batch of keys after {start} up to {end} failed {what} and was rolled back; the \
                 batches before it are kept, and the next run resumes after key {start}",
                target.name
            ),
            cause,
        )
    }
}

/// A backfill: its name, table, key, statement and batch policy. Build it with
/// [`Backfill::new`] and run it with [`Backfill::run`] on a backend's [`BackfillConn`]
/// (`migrator_postgres::backfill_conn`).
///
/// ```text
/// Backfill::new("fill_totals", "orders", "id")?
///     .statement("UPDATE orders SET total = price * qty WHERE id > :start AND id <= :end")?
///     .batch(10_000)
///     .pause(Duration::from_millis(50))
///     .run(&mut migrator_postgres::backfill_conn(&mut conn))
///     .await?;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    name: String,
    table: String,
    key: String,
    statement: String,
    policy: BatchPolicy,
    lock_timeout: Option<Duration>,
}

/// A backfill as a driver sees it: where its progress lives and what each batch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillTarget<'a> {
    /// The backfill's name (the progress row's key).
    pub name: &'a str,
    /// The table (`orders` or `schema.orders`), plain names.
    pub table: &'a str,
    /// The integer key column.
    pub key: &'a str,
    /// How long a batch waits for a row or table lock before it fails (`None`: the server's
    /// setting). PostgreSQL sets it in each batch's transaction (`SET LOCAL lock_timeout`);
    /// MySQL and SQLite keep the server's (`innodb_lock_wait_timeout`, the busy timeout).
    pub lock_timeout: Option<Duration>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    /// The backfill.
    pub name: String,
    /// Rows changed by this run.
    pub rows: u64,
    /// Rows changed over every run.
    pub rows_done: u64,
    /// Batches committed by this run.
    pub batches: u64,
    /// Whether the stored progress already said finished (nothing ran).
    pub already_finished: bool,
    /// Wall time of this run.
    pub duration: Duration,
}

impl Backfill {
    /// A backfill named `name` (the progress row's key: letters, digits, `_`) over `table`
    /// (`orders` or `schema.orders`) walking the integer column `key`, 1,000 rows per batch,
    /// no pause; give its statement with [`Backfill::statement`].
    pub fn new(name: &str, table: &str, key: &str) -> Result<Self, Error> {
        let invalid = |what: &'static str, value: &str| Error::InvalidOption {
            option: what,
            value: value.to_owned(),
            reason: "use plain names (letters, digits and `_`, the table optionally as `schema.table`)".to_owned(),
        };
        if !is_word(name) {
            return Err(invalid("backfill name", name));
        }
        if table.split('.').count() > 2 || !table.split('.').all(is_word) {
            return Err(invalid("table name", table));
        }
        if !is_word(key) {
            return Err(invalid("key column", key));
        }
        Ok(Backfill {
            name: name.to_owned(),
            table: table.to_owned(),
            key: key.to_owned(),
            statement: String::new(),
            policy: BatchPolicy::new(1_000, Duration::ZERO, None),
            lock_timeout: None,
        })
    }

    /// The backfill of a migration's `backfill` directive: named after the migration, each
    /// batch waiting for locks at most `lock_timeout` (the migration's).
    pub fn from_directive(
        name: &str,
        directive: &BackfillDirective,
        statement: &str,
        lock_timeout: Option<Duration>,
    ) -> Result<Self, Error> {
        Ok(Backfill::new(name, &directive.table, &directive.key)?
            .statement(statement)?
            .batch(directive.batch)
            .pause(directive.pause)
            .target_duration(directive.target)
            .lock_timeout(lock_timeout))
    }

    /// How long a batch waits for a lock before it fails (`None` or zero: the server's
    /// setting); a failed batch is rolled back and the next run resumes before it. See
    /// [`BackfillTarget::lock_timeout`].
    pub fn lock_timeout(mut self, lock_timeout: Option<Duration>) -> Self {
        self.lock_timeout = lock_timeout.filter(|t| !t.is_zero());
        self
    }

    /// The `UPDATE` or `DELETE` each batch runs, with `:start` and `:end` standing for the
    /// batch's bounds: `… WHERE id > :start AND id <= :end`.
    pub fn statement(mut self, statement: &str) -> Result<Self, Error> {
        if let Some(message) = backfill_statement_problem(statement) {
            return Err(Error::InvalidOption {
                option: "backfill statement",
                value: statement.to_owned(),
                reason: message,
            });
        }
        self.statement = statement.to_owned();
        Ok(self)
    }

    /// Rows per batch (the first batch's when a target duration is set); at least 1.
    pub fn batch(mut self, rows: u64) -> Self {
        self.policy = BatchPolicy::new(rows, self.policy.pause, self.policy.target);
        self
    }

    /// The pause after each batch, which leaves the table to other writers.
    pub fn pause(mut self, pause: Duration) -> Self {
        self.policy.pause = pause;
        self
    }

    /// Adapts the batch size so that a batch takes about `target` (`None`: a fixed size).
    pub fn target_duration(mut self, target: Option<Duration>) -> Self {
        self.policy = BatchPolicy::new(self.policy.size, self.policy.pause, target.filter(|t| !t.is_zero()));
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its batch policy.
    pub fn policy(&self) -> &BatchPolicy {
        &self.policy
    }

    /// Its table, key and name, for a driver.
    pub fn target(&self) -> BackfillTarget<'_> {
        BackfillTarget { name: &self.name, table: &self.table, key: &self.key, lock_timeout: self.lock_timeout }
    }

    /// Runs the backfill to its end on `conn`, resuming after the last committed batch of any
    /// earlier run; refused ([`crate::PlanError::BackfillBusy`]) while another run holds it.
    pub async fn run(&self, conn: &mut dyn BackfillConn) -> Result<BackfillReport, Error> {
        if self.statement.is_empty() {
            return Err(Error::InvalidOption {
                option: "backfill statement",
                value: String::new(),
                reason: format!("backfill `{}` has no statement: give one with `Backfill::statement`", self.name),
            });
        }
        let target = self.target();
        let started = Instant::now();
        let stored = conn.begin(&target).await?;
        let result = self.batches(conn, &target, stored.as_ref(), started).await;
        let ended = conn.end(&target).await;
        let report = result?;
        ended?;
        Ok(report)
    }

    async fn batches(
        &self,
        conn: &mut dyn BackfillConn,
        target: &BackfillTarget<'_>,
        stored: Option<&BackfillProgress>,
        started: Instant,
    ) -> Result<BackfillReport, Error> {
        plan::check_backfill_target(&self.name, stored, &self.table, &self.key)?;
        let before = stored.map_or(0, |p| p.rows_done);
        let mut report = BackfillReport {
            name: self.name.clone(),
            rows: 0,
            rows_done: before,
            batches: 0,
            already_finished: false,
            duration: Duration::ZERO,
        };
        let mut start = match plan::backfill_start(stored) {
            BackfillStart::Finished => {
                info!(target: "migrator::backfill", backfill = %self.name, rows_done = before, "backfill {} finished before: nothing to do", self.name);
                report.already_finished = true;
                return Ok(report);
            }
            BackfillStart::After(key) => key,
        };
        let left = conn.count_after(target, start).await?;
        let rows_total = before.saturating_add(left);
        info!(
            target: "migrator::backfill",
            backfill = %self.name,
            rows_done = before,
            rows_total,
            rate = 0.0,
            "backfill {} on {}.{}: {} rows to go{}",
            self.name,
            self.table,
            self.key,
            left,
            if before > 0 { format!(", resuming after key {start} ({before} rows done before)") } else { String::new() }
        );
        let mut size = self.policy.size;
        loop {
            let step = plan::batch_bounds(start, conn.next_end(target, start, size).await?);
            let BatchStep::Batch { start: from, end } = step else { break };
            let batch_started = Instant::now();
            let statement = bind_bounds(&self.statement, from, end);
            let rows = conn.run_batch(target, &BackfillBatch { statement: &statement, start: from, end }).await?;
            let took = batch_started.elapsed();
            report.rows = report.rows.saturating_add(rows);
            report.rows_done = report.rows_done.saturating_add(rows);
            report.batches += 1;
            start = end;
            let rate = plan::backfill_rate(report.rows, started.elapsed());
            let eta = plan::backfill_time_left(rows_total.saturating_sub(report.rows_done), rate);
            info!(
                target: "migrator::backfill",
                backfill = %self.name,
                rows_done = report.rows_done,
                rows_total,
                batch_rows = rows,
                last_key = end,
                rate,
                eta_ms = eta.map_or(0, |e| e.as_millis() as u64),
                batch_ms = took.as_millis() as u64,
                "backfill {}: {} of {} rows, {:.0} rows/s{}",
                self.name,
                report.rows_done,
                rows_total,
                rate,
                eta.map_or_else(String::new, |e| format!(", {} left", human(e)))
            );
            size = plan::next_batch_size(&self.policy, size, took);
            let pause = plan::pause_after(&self.policy, false);
            if !pause.is_zero() {
                conn.pause(pause).await?;
            }
        }
        conn.finish(target).await?;
        report.duration = started.elapsed();
        info!(
            target: "migrator::backfill",
            backfill = %self.name,
            rows_done = report.rows_done,
            rows_total = report.rows_done,
            finished = true,
            duration_ms = report.duration.as_millis() as u64,
            "backfill {} finished: {} rows in this run ({} in all) in {}",
            self.name,
            report.rows,
            report.rows_done,
            human(report.duration)
        );
        Ok(report)
    }
}

/// A backend's connection running a backfill: the driver's side of [`Backfill::run`].
#[async_trait]
pub trait BackfillConn: Send {
    /// Creates [`PROGRESS_TABLE`] when missing ([`progress_table_sql`]), takes the backfill's
    /// lock without waiting (held until [`BackfillConn::end`] or until the connection closes;
    /// refused with [`crate::plan::backfill_busy`] while another run holds it), creates its
    /// progress row when missing (state running) and answers the stored progress (`None`:
    /// it never ran).
    async fn begin(&mut self, target: &BackfillTarget<'_>) -> Result<Option<BackfillProgress>, Error>;

    /// How many rows have a key above `start` (for the time left; counted once per run).
    async fn count_after(&mut self, target: &BackfillTarget<'_>, start: i64) -> Result<u64, Error>;

    /// The largest of the next `size` keys above `start`, `None` when there is none.
    async fn next_end(&mut self, target: &BackfillTarget<'_>, start: i64, size: u64) -> Result<Option<i64>, Error>;

    /// In one transaction: runs the batch's statement and sets the progress row's last key
    /// to its end and adds the rows changed, only if its last key is still the batch's start
    /// ([`BackfillSql::advance`]; otherwise rolls back and answers
    /// [`crate::plan::backfill_moved`]). Answers the rows changed; a failure is
    /// [`BackfillBatch::failed`].
    async fn run_batch(&mut self, target: &BackfillTarget<'_>, batch: &BackfillBatch<'_>) -> Result<u64, Error>;

    /// Marks the backfill finished.
    async fn finish(&mut self, target: &BackfillTarget<'_>) -> Result<(), Error>;

    /// Waits `pause` between batches (on the driver's runtime).
    async fn pause(&mut self, pause: Duration) -> Result<(), Error>;

    /// Releases the backfill's lock.
    async fn end(&mut self, target: &BackfillTarget<'_>) -> Result<(), Error>;

    /// The stored progress of the backfill `name` (`None`: no row, or no progress table).
    async fn progress(&mut self, name: &str) -> Result<Option<BackfillProgress>, Error>;

    /// Deletes the progress row of the backfill `name`, if any: its migration was reverted,
    /// so applying it again runs the backfill again from the start.
    async fn forget(&mut self, name: &str) -> Result<(), Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_table_is_defined_once_for_every_dialect() {
        let pg = progress_table_sql(Dialect::Postgres, "\"_migrator_backfills\"");
        assert!(pg.starts_with("CREATE TABLE IF NOT EXISTS \"_migrator_backfills\" (name TEXT NOT NULL"), "{pg}");
        assert!(pg.contains("last_key BIGINT,"), "{pg}");
        assert!(pg.contains("finished_at TIMESTAMPTZ,"), "{pg}");
        assert!(pg.ends_with("owner TEXT NOT NULL, PRIMARY KEY (name))"), "{pg}");
        let my = progress_table_sql(Dialect::MySql, "`_migrator_backfills`");
        assert!(my.contains("name VARCHAR(255) NOT NULL") && my.contains("started_at DATETIME(6) NOT NULL"), "{my}");
        let lite = progress_table_sql(Dialect::Sqlite, "\"_migrator_backfills\"");
        assert!(lite.contains("rows_done INTEGER NOT NULL") && lite.contains("updated_at TEXT NOT NULL"), "{lite}");
        for sql in [pg, my, lite] {
            for c in PROGRESS_COLUMNS {
                assert!(sql.contains(&format!("{} ", c.name)), "{} in {sql}", c.name);
            }
        }
    }

    #[test]
    fn each_dialect_gets_its_placeholders_clock_upsert_and_quotes() {
        let target = BackfillTarget { name: "fill", table: "shop.orders", key: "id", lock_timeout: None };
        let pg = BackfillSql::new(Dialect::Postgres, "\"p\"");
        let my = BackfillSql::new(Dialect::MySql, "`p`");
        let lite = BackfillSql::new(Dialect::Sqlite, "\"p\"");
        let cases: &[(String, &str)] = &[
            (pg.holder(), "SELECT owner || ', since ' || updated_at::text FROM \"p\" WHERE name = $1"),
            (my.holder(), "SELECT CONCAT(owner, ', since ', updated_at) FROM `p` WHERE name = ?"),
            (lite.progress(), "SELECT last_key, rows_done, state, table_name, key_column FROM \"p\" WHERE name = ?1"),
            (
                pg.start(),
                "INSERT INTO \"p\" (name, table_name, key_column, last_key, rows_done, state, started_at, updated_at, \
                 owner) VALUES ($1, $2, $3, NULL, 0, 'running', now(), now(), $4) ON CONFLICT (name) DO UPDATE SET \
                 owner = EXCLUDED.owner, updated_at = now()",
            ),
            (
                my.start(),
                "INSERT INTO `p` (name, table_name, key_column, last_key, rows_done, state, started_at, updated_at, \
                 owner) VALUES (?, ?, ?, NULL, 0, 'running', CURRENT_TIMESTAMP(6), CURRENT_TIMESTAMP(6), ?) ON \
                 DUPLICATE KEY UPDATE owner = VALUES(owner), updated_at = CURRENT_TIMESTAMP(6)",
            ),
            (my.count_after(&target), "SELECT count(*) FROM `shop`.`orders` WHERE `id` > ?"),
            (
                pg.next_end(&target),
                "SELECT max(k) FROM (SELECT \"id\" AS k FROM \"shop\".\"orders\" WHERE \"id\" > $1 ORDER BY \"id\" \
                 LIMIT $2) AS batch",
            ),
            (
                my.next_end(&target),
                "SELECT CAST(max(k) AS SIGNED) FROM (SELECT `id` AS k FROM `shop`.`orders` WHERE `id` > ? ORDER BY \
                 `id` LIMIT ?) AS batch",
            ),
            (
                lite.advance(),
                "UPDATE \"p\" SET last_key = ?1, rows_done = rows_done + ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', \
                 'now') WHERE name = ?3 AND coalesce(last_key, -9223372036854775808) = ?4 AND state = 'running'",
            ),
            (
                pg.finish(),
                "UPDATE \"p\" SET state = 'finished', finished_at = now(), updated_at = now() WHERE name = $1",
            ),
            (my.forget(), "DELETE FROM `p` WHERE name = ?"),
        ];
        for (sql, want) in cases {
            assert_eq!(sql, want);
        }
        assert_eq!(lite.create_table(), progress_table_sql(Dialect::Sqlite, "\"p\""));
        let odd = BackfillTarget { table: "a\"b", key: "k`", ..target };
        assert_eq!(pg.count_after(&odd), "SELECT count(*) FROM \"a\"\"b\" WHERE \"k`\" > $1");
        assert_eq!(my.count_after(&odd), "SELECT count(*) FROM `a\"b` WHERE `k``` > ?");
    }

    #[test]
    fn a_failed_batch_says_what_is_kept_and_where_the_next_run_resumes() {
        let target = BackfillTarget { name: "fill", table: "t", key: "id", lock_timeout: None };
        let batch = BackfillBatch { statement: "UPDATE t SET x = 1", start: 10, end: 20 };
        let e = batch.failed(&target, "in its statement", "boom").to_string();
        assert!(
            e.contains(
                "backfill `fill`: the batch of keys after 10 up to 20 failed in its statement and was rolled back; the \
                 batches before it are kept, and the next run resumes after key 10"
            ),
            "{e}"
        );
        assert!(e.contains("boom"), "{e}");
    }

    #[test]
    fn progress_rows_are_read_and_unknown_states_refused() {
        let p = progress_from_columns(Some(5), 7, "running", "t".to_owned(), "id".to_owned()).unwrap();
        assert_eq!((p.last_key, p.rows_done, p.state), (Some(5), 7, BackfillState::Running));
        assert_eq!(progress_from_columns(None, -1, "finished", String::new(), String::new()).unwrap().rows_done, 0);
        let e = progress_from_columns(None, 0, "paused", String::new(), String::new()).unwrap_err().to_string();
        assert!(e.contains("state `paused`") && e.contains("newer migrator"), "{e}");
        assert!(backfill_owner().contains(&format!("pid {}", std::process::id())));
    }

    #[test]
    fn names_and_statements_are_checked() {
        assert!(Backfill::new("fill", "shop.orders", "id").is_ok());
        for (name, table, key) in
            [("fill x", "t", "id"), ("fill", "a.b.c", "id"), ("fill", "t", "id;"), ("", "t", "id")]
        {
            let e = Backfill::new(name, table, key).unwrap_err().to_string();
            assert!(e.contains("use plain names"), "{e}");
        }
        let b = Backfill::new("fill", "t", "id").unwrap();
        let e = b.clone().statement("UPDATE t SET x = 1").unwrap_err().to_string();
        assert!(e.contains("does not use :start and :end"), "{e}");
        let b = b.statement("UPDATE t SET x = 1 WHERE id > :start AND id <= :end").unwrap().batch(0);
        assert_eq!(b.policy().size, 1);
        let adaptive = b.batch(500).target_duration(Some(Duration::from_millis(100)));
        assert_eq!(adaptive.policy().target, Some(Duration::from_millis(100)));
        assert_eq!(adaptive.policy().size, 500);
    }
}
