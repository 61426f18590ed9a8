//! The contract between the runner and a database backend.
//!
//! A [`Driver`] reads the history without a lock (the startup fast path) and opens a
//! [`Session`]: one dedicated connection holding the migration lock, on which every
//! migration of the run executes. The runner decides *what* happens (which migration, which
//! statements, which history row); the session decides *how* its database does it in the
//! fewest round trips, and reports failures with the statement that failed.
//!
//! Capabilities are declared in code ([`Capabilities`]): the runner asks whether DDL is
//! transactional, and a request a backend cannot honour is an error, never ignored.
//!
//! # For driver authors
//!
//! This module is the whole surface a backend needs besides [`crate::history`] (the history
//! row's columns, written and read through [`crate::history::columns`]) and
//! [`crate::backoff`] (the one lock-polling policy). A driver:
//! - reads the history by column name ([`crate::history::columns::ReadRow`],
//!   [`crate::history::columns::decode_history`]) and, for the startup fast path, compares
//!   its digest on the server ([`crate::history::digest`]);
//! - executes each [`Job`] in its [`Mode`] (decided by the planner, never by the driver),
//!   writing the job's row with the values core gives ([`crate::history::RowWrite::values`],
//!   [`crate::history::columns::update`]);
//! - reads other tools' history tables for `adopt` ([`Driver::read_foreign`],
//!   [`Session::read_foreign`]): the columns [`ForeignTable::columns`] names, each read as its
//!   [`CellKind`], nothing decided;
//! - describes its database errors for people as [`crate::error::DatabaseError`], marking
//!   the database giving up waiting for a lock ([`crate::error::DatabaseError::lock_timeout`]:
//!   the runner may retry, as [`crate::plan::decide_retry`] decides), and a failed statement
//!   with [`Job::failure`], which names the file, line and statement;
//! - pauses between lock-timeout retries on its runtime ([`Session::pause`]) and, for
//!   PostgreSQL, drops the INVALID index a failed `CREATE INDEX CONCURRENTLY` left before the
//!   statement runs again ([`Session::drop_invalid_index`], as [`crate::plan::rerun_guard`]
//!   decides).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use crate::adopt::{Cell, CellKind, ForeignColumn, ForeignRow, ForeignTable};
pub use crate::capabilities::{Capabilities, Lease, LockStrategy};
use crate::error::{BoxError, Error, FailureOutcome, MigrationFailure, RepeatableFailure};
use crate::history::columns::{self, Assignments, Execution};
pub use crate::history::host_name;
use crate::history::{History, HistoryTable, RowWrite, State};
use crate::migration::Migration;
pub use crate::migration::{Body, Step, StepSettings};
pub use crate::plan::{InvalidIndex, Mode};
use crate::script::Script;
use crate::split::Statement;
use crate::version::{Direction, Version};

/// How to take the migration lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRequest {
    /// Take the lock at all (the no-lock opt-out turns this off).
    pub enabled: bool,
    /// How long to wait for another holder before giving up.
    pub wait: Duration,
    /// Which kind of lock.
    pub strategy: LockStrategy,
}

impl LockRequest {
    /// The default lock ([`LockStrategy::Session`]), waiting up to `wait`.
    pub fn session(wait: Duration) -> Self {
        LockRequest { enabled: true, wait, strategy: LockStrategy::Session }
    }
}

/// One step for a session to execute: a migration's up or down, with the history row to
/// write and where to start.
#[derive(Debug)]
pub struct Job<'a, C: ?Sized> {
    /// The migration.
    pub migration: &'a dyn Migration<C>,
    /// Up or down.
    pub direction: Direction,
    /// The step (settings and body).
    pub step: Step<'a, C>,
    /// How to run it.
    pub mode: Mode,
    /// The statements of an SQL body (empty for Rust code).
    pub statements: &'a [Statement],
    /// 0-based index of the first statement to run (after `resume`).
    pub start: usize,
    /// The history row: written as applied when a transactional up step commits; written
    /// with state running (or reverting) before a stepwise step starts.
    pub row: RowWrite,
    /// Whether a history row for this version exists already (resume, down).
    pub row_exists: bool,
    /// The lock timeout to set (`None`: leave the server's setting; zero: no limit).
    pub lock_timeout: Option<Duration>,
    /// The statement timeout to set (`None` or zero: no limit).
    pub statement_timeout: Option<Duration>,
}

impl<C: ?Sized> Job<'_, C> {
    /// The statement count of the step: its statements, or 1 for Rust code.
    pub fn total(&self) -> usize {
        match self.step.body {
            Body::Sql(_) => self.statements.len(),
            Body::Rust(_) => 1,
        }
    }

    /// The state the job's row takes when one of its statements fails.
    pub fn failed_state(&self) -> State {
        crate::plan::failed_state(self.direction)
    }

    /// Describes the failure of this job at statement `index` (0-based into
    /// [`Job::statements`]; `None` when it failed at commit): file, line and the statement's
    /// first line are filled in from the job. For Rust code, see [`Job::rust_failure`].
    pub fn failure(&self, index: Option<usize>, outcome: FailureOutcome, source: BoxError) -> MigrationFailure {
        let meta = self.migration.meta();
        let (origin, line, snippet) = match (self.step.body, index) {
            (Body::Sql(script), Some(i)) => {
                let statement = self.statements.get(i);
                (
                    script.path().to_owned(),
                    statement.map(|s| s.line),
                    statement.map(|s| script.snippet(s)).unwrap_or_default(),
                )
            }
            (Body::Sql(script), None) => (script.path().to_owned(), None, String::new()),
            (Body::Rust(_), _) => (meta.origin().to_owned(), None, "(Rust code)".to_owned()),
        };
        MigrationFailure::new(
            meta.version(),
            meta.name(),
            origin,
            self.direction,
            index.map(|i| i + 1),
            self.total(),
            line,
            snippet,
            outcome,
            source,
        )
    }

    /// Describes the failure of this job's Rust code (its one "statement").
    pub fn rust_failure(&self, outcome: FailureOutcome, source: BoxError) -> MigrationFailure {
        let meta = self.migration.meta();
        MigrationFailure::new(
            meta.version(),
            meta.name(),
            meta.origin(),
            self.direction,
            Some(1),
            1,
            None,
            "(Rust code)",
            outcome,
            source,
        )
    }
}

/// A repeatable migration for a session to run and then record (its row keyed by
/// [`crate::history::repeatable_key`]). It has no per-statement progress: a failure leaves the
/// row as it was, and the next run applies the script again, whole.
#[derive(Debug)]
pub struct RepeatableJob<'a> {
    /// The repeatable's name.
    pub name: &'a str,
    /// Its script.
    pub script: &'a Script,
    /// The script's statements.
    pub statements: &'a [Statement],
    /// How it runs: one transaction with its row, or statement by statement (its row
    /// written after the last), as the planner decided.
    pub mode: Mode,
    /// The lock timeout to set (`None`: leave the server's setting; zero: no limit).
    pub lock_timeout: Option<Duration>,
    /// The statement timeout to set (`None` or zero: no limit).
    pub statement_timeout: Option<Duration>,
}

impl RepeatableJob<'_> {
    /// The row to write once the script ran.
    pub fn row(&self, execution: Execution) -> Assignments<'_> {
        columns::repeatable_values(self.name, self.script.checksum().as_str(), self.statements.len(), execution)
    }

    /// The error for statement `index` (0-based; `None` at commit) failing; `kept` when the
    /// statements before it took effect.
    pub fn failure(&self, index: Option<usize>, kept: bool, cause: BoxError) -> Error {
        let statement = index.and_then(|i| self.statements.get(i));
        Error::RepeatableFailed {
            failure: Box::new(RepeatableFailure {
                name: self.name.to_owned(),
                origin: self.script.path().to_owned(),
                statement: index.map(|i| i + 1),
                total: self.statements.len(),
                line: statement.map(|s| s.line),
                snippet: statement.map(|s| self.script.snippet(s)).unwrap_or_default(),
                message: cause.to_string(),
                kept,
                cause,
            }),
        }
    }
}

/// What a session reports after executing a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Executed {
    /// Statements executed by this job.
    pub statements: usize,
    /// Wall time.
    pub duration: Duration,
}

/// What a backend's [`Session::execute_group`] checks before it runs anything: two jobs or
/// more, each a transactional up step of SQL (what [`crate::plan::plan_groups`] groups).
pub fn check_group<C: ?Sized>(database: &'static str, jobs: &[Job<'_, C>]) -> Result<(), Error> {
    let groupable = |job: &Job<'_, C>| {
        job.mode == crate::plan::Mode::Transactional
            && job.direction == crate::version::Direction::Up
            && matches!(job.step.body, Body::Sql(_))
    };
    if jobs.is_empty() || !jobs.iter().all(groupable) {
        return Err(Error::Unsupported {
            database,
            what: "group a no-transaction step, a down step or Rust code".to_owned(),
            instead: "group transactional up steps only (the planner's plan_groups does)".to_owned(),
        });
    }
    Ok(())
}

/// How a live lease's holder reads in a lock-timeout message or `status`: who, which
/// process, its fencing token, since when, and how long until the lease expires.
pub fn lease_holder_text(holder: &str, info: &str, token: i64, since: &str, expires_in_ms: i64) -> String {
    format!(
        "{holder} ({info}, token {token}, since {since}; the lease expires in {expires_in_ms} ms unless its holder \
         renews it). If that process is gone, the lease expires by itself"
    )
}

/// The error of a group ([`Session::execute_group`]) whose job `failure` describes failed:
/// at a statement of that job, or, `at_commit`, when the group's commit was refused (then
/// `failure` is the last job's).
pub fn group_failed<C: ?Sized>(jobs: &[Job<'_, C>], failure: MigrationFailure, at_commit: bool) -> Error {
    Error::GroupFailed {
        failure: Box::new(failure),
        group: jobs.iter().map(|job| job.migration.meta().version()).collect(),
        at_commit,
    }
}

/// A table's size as the server's statistics estimate it ([`Driver::table_sizes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSize {
    /// The name it was asked for.
    pub name: String,
    /// Estimated rows; `None` when the server has no estimate yet (never analyzed).
    pub estimated_rows: Option<i64>,
    /// Bytes on disk, indexes included.
    pub bytes: Option<i64>,
}

/// What became of a job handed to [`Session::execute_unless_done`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The session executed it.
    Executed(Executed),
    /// Another process applied (or reverted) the migration after this run planned it, so
    /// nothing ran. Only a backend that re-reads the history inside each migration's own
    /// transaction (SQLite) can tell, for runs without the migration lock.
    DoneElsewhere,
}

/// A change to the history table without running a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryChange {
    /// Insert or replace rows (force, baseline, repair, resume --skip of the last statement).
    Upsert(Vec<RowWrite>),
    /// Delete the row of a version (force --reverted).
    Delete(Version),
}

/// A database backend.
#[async_trait]
pub trait Driver: Send + Sync + fmt::Debug {
    /// The connection type Rust-code migrations receive (`sqlx::PgConnection`).
    type Conn: ?Sized + Send;

    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// The startup fast path: reads the history on one connection, without taking the lock
    /// or creating anything (`None` when the table does not exist), in one round trip. The
    /// returned [`Probe`] keeps that connection: dropped, it goes back to the pool; locked,
    /// it becomes the run's session without opening another connection.
    async fn probe(&self, table: &HistoryTable) -> Result<(Option<History>, Box<dyn Probe<Self::Conn>>), Error>;

    /// The startup fast path when the binary knows which histories mean "nothing to do":
    /// `expected` holds their [`crate::history::digest::applied_digest`]s. A driver may compare on
    /// the server and, when every row is applied and the digest of the rows is one of
    /// `expected`, send only the layout row: it then answers `Some(index)` of the matching
    /// digest, with a [`History`] whose `rows` are empty (the caller knows them). Otherwise
    /// it answers `None` with the full history, like [`Driver::probe`] (the default).
    async fn probe_expecting(
        &self,
        table: &HistoryTable,
        expected: &[String],
    ) -> Result<(Option<History>, Option<usize>, Box<dyn Probe<Self::Conn>>), Error> {
        let _ = expected;
        let (history, probe) = self.probe(table).await?;
        Ok((history, None, probe))
    }

    /// The startup check of many tenants in one round trip: for each of `tenants` (schemas
    /// on PostgreSQL, databases on MySQL, all reached through this driver's connections)
    /// whose history table `table` exists, what the server reads of it
    /// ([`crate::history::digest::HistoryDigest`]: its layout, whether every row is applied,
    /// the rows' digest computed on the server). Tenants without the table are left out of
    /// the answer. The default, for backends without schemas or databases to list (SQLite),
    /// answers [`Error::Unsupported`].
    async fn digest_tenants(
        &self,
        tenants: &[String],
        table: &crate::history::Ident,
    ) -> Result<Vec<(String, crate::history::digest::HistoryDigest)>, Error> {
        let _ = (tenants, table);
        Err(Error::Unsupported {
            database: self.capabilities().dialect.name(),
            what: "check many tenants at once".to_owned(),
            instead: "run each tenant's migrator (one database file per tenant)".to_owned(),
        })
    }

    /// Creates the schema (PostgreSQL) or database (MySQL) `name` for a new tenant: `true`
    /// when this call created it, `false` when it existed (nothing changed). The default,
    /// for backends without either (SQLite), answers [`Error::Unsupported`].
    async fn create_area(&self, name: &crate::history::Ident) -> Result<bool, Error> {
        let _ = name;
        Err(Error::Unsupported {
            database: self.capabilities().dialect.name(),
            what: "create a tenant's schema or database".to_owned(),
            instead: "create the database file and run its migrator".to_owned(),
        })
    }

    /// Who holds the migration lock of `table` right now, described for an operator, read
    /// without taking it; `None` when nobody does. `status` asks when the history shows a
    /// migration in progress, to tell one running in another process from one interrupted.
    /// The default, for backends without a lock that outlives a transaction (SQLite),
    /// cannot tell and answers `None`.
    async fn lock_holder(&self, table: &HistoryTable) -> Result<Option<String>, Error> {
        let _ = table;
        Ok(None)
    }

    /// Reads the history without taking the lock or creating anything.
    async fn read_history(&self, table: &HistoryTable) -> Result<Option<History>, Error> {
        Ok(self.probe(table).await?.0)
    }

    /// Reads another tool's history table (for a dry run of `adopt`): one [`ForeignRow`] per
    /// row, each column read as its [`CellKind`] says; `None` when the table does not exist.
    /// Reads only, without the lock. The default answers that this backend cannot.
    async fn read_foreign(&self, table: &ForeignTable) -> Result<Option<Vec<ForeignRow>>, Error> {
        Err(no_foreign(self.capabilities().dialect.name(), table))
    }

    /// The size of each of `tables` (names as a migration writes them) that exists, from
    /// the server's statistics, never by counting rows: for `migrator plan --explain`. Reads
    /// only. The default (SQLite, which keeps no such statistics) knows none.
    async fn table_sizes(&self, tables: &[String]) -> Result<Vec<TableSize>, Error> {
        let _ = tables;
        Ok(Vec::new())
    }

    /// Opens the dedicated connection and takes the migration lock (waiting as requested),
    /// without the fast path. Dropping the session without [`Session::release`] must still
    /// release the lock (by closing the connection).
    async fn open(&self, table: &HistoryTable, lock: LockRequest) -> Result<Box<dyn Session<Self::Conn>>, Error>;
}

/// The connection of a fast-path read, before any lock.
#[async_trait]
pub trait Probe<C: ?Sized + Send>: Send {
    /// Takes the migration lock on this connection and returns the session. Dropping the
    /// session without [`Session::release`] must still release the lock.
    async fn lock(self: Box<Self>, lock: LockRequest) -> Result<Box<dyn Session<C>>, Error>;

    /// Takes the migration lock as [`Probe::lock`] does, or stops waiting when the holder
    /// released it and another waiter took it first: a driver that learns of a release
    /// (PostgreSQL's `NOTIFY`) reads the history in the message that tries the lock again,
    /// and hands it back ([`Locking::Released`]) instead of waiting for the new holder, so the
    /// runner can see that the previous holder left nothing to do. The runner decides; a
    /// driver never returns `Released` without having read the history after the release.
    /// The default waits for the lock.
    async fn lock_or_released(self: Box<Self>, lock: LockRequest) -> Result<Locking<C>, Error> {
        Ok(Locking::Taken(self.lock(lock).await?))
    }
}

/// How [`Probe::lock_or_released`] ended.
pub enum Locking<C: ?Sized> {
    /// The lock is held: the run's session.
    Taken(Box<dyn Session<C>>),
    /// The lock is not held: its holder released it, another waiter took it, and this is the
    /// history read right after (the lock's connection is closed).
    Released(History),
}

impl<C: ?Sized> std::fmt::Debug for Locking<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Locking::Taken(_) => f.write_str("Taken"),
            Locking::Released(history) => f.debug_tuple("Released").field(&history.rows.len()).finish(),
        }
    }
}

/// A locked, dedicated connection.
#[async_trait]
pub trait Session<C: ?Sized + Send>: Send {
    /// Creates the history table when missing, upgrades an older layout in place, and reads
    /// the history under the lock. Errors when the table has a newer layout than this build.
    async fn prepare(&mut self) -> Result<History, Error>;

    /// Reads the history again.
    async fn read(&mut self) -> Result<History, Error>;

    /// Executes one step and writes its history. On failure, the error says which
    /// statement failed and what was left behind ([`Error::MigrationFailed`]).
    async fn execute(&mut self, job: Job<'_, C>) -> Result<Executed, Error>;

    /// What the runner calls: [`Session::execute`], unless another process did the job
    /// since the run was planned. Backends with a migration lock keep this default (nobody
    /// else can); backends without one (SQLite) check the job's history row inside the
    /// job's own transaction and answer [`Outcome::DoneElsewhere`] instead of running it.
    async fn execute_unless_done(&mut self, job: Job<'_, C>) -> Result<Outcome, Error> {
        Ok(Outcome::Executed(self.execute(job).await?))
    }

    /// Executes several transactional up steps (SQL, in order, each with its history write)
    /// in one transaction: all of them commit, or none. Backends whose
    /// [`Capabilities::grouped_apply`] is set implement it; the runner calls it only then,
    /// with two jobs or more. `Ok(None)`: another process did one of the jobs since the run
    /// was planned (backends without a migration lock), nothing was changed, and the runner
    /// runs the jobs one by one instead. On failure, [`Error::GroupFailed`].
    async fn execute_group(&mut self, jobs: &[Job<'_, C>]) -> Result<Option<Vec<Executed>>, Error> {
        let _ = jobs;
        Err(Error::Unsupported {
            database: "this backend",
            what: "run several migrations in one transaction (grouped apply)".to_owned(),
            instead: "leave grouped apply off".to_owned(),
        })
    }

    /// Runs a repeatable migration and records it (see [`RepeatableJob`]).
    async fn execute_repeatable(&mut self, job: RepeatableJob<'_>) -> Result<Executed, Error>;

    /// [`Driver::read_foreign`] on this session's connection, under the migration lock.
    async fn read_foreign(&mut self, table: &ForeignTable) -> Result<Option<Vec<ForeignRow>>, Error> {
        Err(no_foreign("this backend", table))
    }

    /// Which of `names` are tables in the session's schema (PostgreSQL) or database, in one
    /// round trip: a first run looks for other tools' history tables before reading any. The
    /// default answers all of them (each is then read, and a missing one reads as `None`).
    async fn tables_present(&mut self, names: &[&'static str]) -> Result<Vec<String>, Error> {
        Ok(names.iter().map(|n| (*n).to_owned()).collect())
    }

    /// Waits `duration` (on the driver's runtime; core names none) before the runner tries
    /// again a migration that gave up waiting for a lock. The default answers that this
    /// backend cannot, which fails the retry with that message: a backend whose errors are
    /// never classified as lock timeouts needs nothing else.
    async fn pause(&mut self, duration: Duration) -> Result<(), Error> {
        let _ = duration;
        Err(Error::Unsupported {
            database: "this backend",
            what: "pause between lock-timeout retries".to_owned(),
            instead: "turn lock-timeout retries off (`MigratorBuilder::lock_retry(LockRetry::off())`)".to_owned(),
        })
    }

    /// Drops `index` (`DROP INDEX CONCURRENTLY IF EXISTS`) if it exists on its table and is
    /// INVALID, before the statement that builds it runs again, waiting for table locks at
    /// most `lock_timeout` (the job's; `None`: the server's setting); answers its qualified
    /// name when it dropped it, `None` when there was nothing to drop (no such index, or a
    /// valid one). Only PostgreSQL builds indexes concurrently; the default answers that this
    /// backend cannot.
    async fn drop_invalid_index(
        &mut self,
        index: &InvalidIndex,
        lock_timeout: Option<Duration>,
    ) -> Result<Option<String>, Error> {
        let _ = lock_timeout;
        Err(Error::Unsupported {
            database: "this backend",
            what: format!("check whether index {} is INVALID", index.index),
            instead: "drop the index by hand if a failed build left it, then run again".to_owned(),
        })
    }

    /// The session's connection running a batched backfill (a migration with the `backfill`
    /// directive), on the same connection and under the same migration lock. The default
    /// answers that this backend cannot.
    fn backfill_conn(&mut self) -> Result<Box<dyn crate::backfill::BackfillConn + '_>, Error> {
        Err(Error::Unsupported {
            database: "this backend",
            what: "run a batched backfill".to_owned(),
            instead: "run the backfill on PostgreSQL, or as a Rust-code migration of your own".to_owned(),
        })
    }

    /// Changes history rows without running anything.
    async fn change(&mut self, change: HistoryChange) -> Result<(), Error>;

    /// Releases the lock and closes the connection.
    async fn release(self: Box<Self>) -> Result<(), Error>;
}

fn no_foreign(database: &'static str, table: &ForeignTable) -> Error {
    Error::Unsupported {
        database,
        what: format!("read {}'s history table {table}", table.tool),
        instead: "adopt with a backend that reads other tools' tables (PostgreSQL, MySQL, SQLite)".to_owned(),
    }
}

/// What [`Dump::dump`] may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpOptions {
    /// Refuse when the area holds more rows than this in all (a squash carries seed data, not
    /// a data load).
    pub max_rows: usize,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions { max_rows: 10_000 }
    }
}

/// What to do instead when a [`Dump`] meets an object it cannot write.
pub const DUMP_INSTEAD: &str = "keep the original migrations, or write the squash migration by hand";

impl DumpOptions {
    /// The rows of all tables (`(table, rows)`), or the refusal of a data load when they are
    /// more than [`DumpOptions::max_rows`], naming the largest table.
    pub fn check_rows<'a>(
        &self,
        database: &'static str,
        counts: impl IntoIterator<Item = (&'a str, u64)>,
    ) -> Result<usize, Error> {
        let (mut total, mut largest) = (0usize, (0u64, ""));
        for (table, count) in counts {
            total = total.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
            if count > largest.0 {
                largest = (count, table);
            }
        }
        if total <= self.max_rows {
            return Ok(total);
        }
        Err(Error::Unsupported {
            database,
            what: format!("carry {total} rows into a squash migration (table {} alone holds {})", largest.1, largest.0),
            instead: format!(
                "a squash migration carries seed data only (at most {} rows): keep the original migrations, or load \
                 the data some other way than in the migrations being squashed",
                self.max_rows
            ),
        })
    }
}

/// The schema and rows of an area as SQL statements ([`Dump::dump`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SchemaDump {
    /// Statements that rebuild the area in an empty one, in order, each without its `;`.
    pub statements: Vec<String>,
    /// Rows carried, over all tables.
    pub rows: usize,
    /// What the statements leave out, in words (for example grants and owners), said in the
    /// file's header.
    pub left_out: Vec<String>,
}

impl SchemaDump {
    /// A dump of `statements` carrying `rows` rows.
    pub fn new(statements: Vec<String>, rows: usize, left_out: Vec<String>) -> Self {
        SchemaDump { statements, rows, left_out }
    }
}

/// A driver that can write its area as SQL: what `migrator squash` puts in a squash
/// migration. The statements rebuild, in an empty area of the same backend, every object
/// the driver's [`Inspect::snapshot`] sees (tables, columns, defaults, constraints,
/// indexes, sequences and their positions, views, functions and procedures, triggers,
/// types, extensions) and the tables' rows, without migrator's own `_migrator_*` tables and
/// without naming the area (so they run in any schema or database). An object it cannot
/// write is an error ([`Error::Unsupported`]), never left out silently; `squash` also
/// checks the result by applying it to a second area and comparing snapshots.
#[async_trait]
pub trait Dump: Inspect {
    /// The area as statements.
    async fn dump(&self, options: &DumpOptions) -> Result<SchemaDump, Error>;
}

/// A backend that can read its schema, for reversibility and drift checks.
#[async_trait]
pub trait Inspect: Driver {
    /// A snapshot of the schema the driver's connections use (the current schema on
    /// PostgreSQL, the database on MySQL), without migrator's own `_migrator_*` tables.
    async fn snapshot(&self) -> Result<crate::schema::Schema, Error>;
}
