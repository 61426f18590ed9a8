//! [`SqliteDriver`]: migrator's [`Driver`] for SQLite on a sqlx [`SqlitePool`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_core::driver::{
    Body, Capabilities, Driver, Executed, ForeignRow, ForeignTable, HistoryChange, Job, LockRequest, Outcome, Probe,
    RepeatableJob, Session, group_failed,
};
use migrator_core::history::LAYOUT;
use migrator_core::history::columns::{self, Execution, decode_history, update};
use migrator_core::history::{History, HistoryRow, HistoryTable, State};
use migrator_core::plan::{Claim, ClaimStep, PlanError, claim};
use migrator_core::{Dialect, Direction, Error, FailureOutcome, MigrationFailure, Mode};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{AssertSqlSafe, Connection, Row, Sqlite};
use tracing::{debug, info};

use crate::conn::{Columns, db, describe, described, run};
use crate::lock::FileLock;
use crate::settings::Settings;
use crate::sql;

/// SQLite's primary result codes for a lock held by another connection.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

/// The SQLite backend: reads the history on the pool's connections and runs each migration on
/// one connection of the pool, in its own `BEGIN IMMEDIATE` transaction that re-reads the
/// migration's history row first.
///
/// SQLite's own locks end with their transaction, so the migration lock is a lock file next
/// to the database (`<file>-migrator-lock`, an exclusive `flock` the operating system
/// releases when the process exits). Each migration also takes SQLite's write lock and
/// re-reads its history row, so a run without the lock is still safe: a migration another
/// process applied meanwhile is skipped, never applied twice. Both waits are bounded by the
/// migrator's lock wait (default 300 s).
///
/// Build it from a pool: `SqliteDriver::from(&pool)`, or pass `&pool` where a driver is
/// expected.
#[derive(Debug, Clone)]
pub struct SqliteDriver {
    pool: SqlitePool,
    applied_by: Arc<str>,
}

impl From<SqlitePool> for SqliteDriver {
    fn from(pool: SqlitePool) -> Self {
        SqliteDriver { pool, applied_by: applied_by().into() }
    }
}

impl From<&SqlitePool> for SqliteDriver {
    fn from(pool: &SqlitePool) -> Self {
        SqliteDriver::from(pool.clone())
    }
}

impl SqliteDriver {
    /// The pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The database, as messages name it: its file, or "an in-memory database".
    fn database(&self) -> String {
        let options = self.pool.connect_options();
        let file = options.get_filename().display().to_string();
        if file.is_empty() || file == ":memory:" || file.starts_with("file:sqlx-in-memory-") {
            "an in-memory database".to_owned()
        } else {
            file
        }
    }
}

/// Who applies migrations, for the history's `applied_by`: SQLite has no users, so the
/// operating-system user, host and process.
fn applied_by() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".to_owned());
    let host = migrator_core::history::host_name().unwrap_or_else(|| "localhost".to_owned());
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|p| format!(", {p}"))
        .unwrap_or_default();
    format!("{user}@{host} (pid {}{program})", std::process::id())
}

/// The error for SQLite's write lock staying taken for the whole busy wait.
fn lock_timeout(database: &str, waited: Duration) -> Error {
    Error::LockTimeout {
        waited,
        lock: format!("the write lock of SQLite database {database}"),
        holder: Some(
            "another connection that is writing to the database (SQLite does not say which process)".to_owned(),
        ),
    }
}

/// Whether `error` says another connection holds a lock SQLite needed (after the busy wait).
fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED)),
        _ => false,
    }
}

/// Reads history rows by column name.
fn history_of(table: &HistoryTable, rows: &[SqliteRow]) -> Result<History, Error> {
    decode_history(table, rows.iter().map(Columns))
}

/// Reads the history table; `None` when it does not exist.
async fn read_history(conn: &mut SqliteConnection, table: &HistoryTable) -> Result<Option<History>, Error> {
    let context = || format!("reading history table {table}");
    let exists: i64 = sqlx::query_scalar(sql::table_exists())
        .bind(table.name.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| db(context(), e))?;
    if exists == 0 {
        return Ok(None);
    }
    let rows = sqlx::query(AssertSqlSafe(sql::select_history(table)))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db(context(), e))?;
    history_of(table, &rows).map(Some)
}

#[async_trait]
impl Driver for SqliteDriver {
    type Conn = SqliteConnection;

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::new(Dialect::Sqlite);
        caps.transactional_ddl = true;
        // The lock file next to the database (none needed for an in-memory one).
        caps.migration_lock = true;
        caps.grouped_apply = true;
        caps
    }

    async fn lock_holder(&self, _table: &HistoryTable) -> Result<Option<String>, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db(format!("opening SQLite {}", self.database()), e))?;
        match database_file(&mut conn).await? {
            Some(file) => FileLock::holder(&file),
            None => Ok(None),
        }
    }

    async fn probe(&self, table: &HistoryTable) -> Result<(Option<History>, Box<dyn Probe<SqliteConnection>>), Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db(format!("opening SQLite {}", self.database()), e))?;
        let history = read_history(&mut conn, table).await?;
        Ok((history, Box::new(SqliteProbe { driver: self.clone(), conn, table: table.clone() })))
    }

    async fn read_foreign(&self, table: &ForeignTable) -> Result<Option<Vec<ForeignRow>>, Error> {
        let mut conn = self.pool.acquire().await.map_err(|e| db(format!("opening SQLite {}", self.database()), e))?;
        crate::foreign::read_foreign(&mut conn, table).await
    }

    async fn open(&self, table: &HistoryTable, lock: LockRequest) -> Result<Box<dyn Session<SqliteConnection>>, Error> {
        let conn = self.pool.acquire().await.map_err(|e| db(format!("opening SQLite {}", self.database()), e))?;
        Box::new(SqliteProbe { driver: self.clone(), conn, table: table.clone() }).lock(lock).await
    }
}

/// The main database's file, as SQLite resolved it (absolute, so processes started from
/// different directories find the same lock file); `None` for an in-memory database.
async fn database_file(conn: &mut SqliteConnection) -> Result<Option<PathBuf>, Error> {
    let file: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db("reading the database file name", e))?;
    Ok(file.filter(|f| !f.is_empty()).map(PathBuf::from))
}

/// A pool connection that read the history.
struct SqliteProbe {
    driver: SqliteDriver,
    conn: PoolConnection<Sqlite>,
    table: HistoryTable,
}

#[async_trait]
impl Probe<SqliteConnection> for SqliteProbe {
    /// The session keeps this connection, bounds its busy wait by the lock wait, takes the
    /// lock file (file databases, when the migrator locks), and takes SQLite's write lock
    /// once per migration.
    async fn lock(self: Box<Self>, lock: LockRequest) -> Result<Box<dyn Session<SqliteConnection>>, Error> {
        let SqliteProbe { driver, mut conn, table } = *self;
        let settings = match Settings::read(&mut conn).await {
            Ok(settings) => settings,
            Err(e) => {
                conn.close_on_drop();
                return Err(e);
            }
        };
        let mut session = SqliteSession {
            conn: Some(conn),
            table,
            database: driver.database(),
            applied_by: driver.applied_by.clone(),
            settings,
            file_lock: None,
        };
        session.exec(&Settings::busy_timeout_sql(lock.wait), "setting the busy wait").await?;
        if lock.enabled {
            let file = database_file(session.conn()?).await?;
            if let Some(file) = file {
                session.file_lock = Some(FileLock::acquire(&file, lock.wait, &session.applied_by).await?);
            }
        }
        Ok(Box::new(session))
    }
}

/// The session's connection, with the settings it had when the session began.
struct SqliteSession {
    /// `None` once released.
    conn: Option<PoolConnection<Sqlite>>,
    table: HistoryTable,
    database: String,
    applied_by: Arc<str>,
    /// The connection's settings before the session: restored before each migration and on
    /// release.
    settings: Settings,
    /// The migration lock of the database file (none for an in-memory database, or when
    /// the migrator runs without a lock); released when the session ends.
    file_lock: Option<FileLock>,
}

impl Drop for SqliteSession {
    fn drop(&mut self) {
        if let Some(conn) = &mut self.conn {
            // Dropped without release (error, panic, cancelled run): its settings may be
            // changed and a transaction may be open (sqlx rolls it back), so it must not go
            // back to the application's pool.
            conn.close_on_drop();
        }
    }
}

impl SqliteSession {
    fn conn(&mut self) -> Result<&mut SqliteConnection, Error> {
        match &mut self.conn {
            Some(conn) => Ok(&mut **conn),
            None => Err(Error::database("using the migration connection", "it was already released")),
        }
    }

    async fn exec(&mut self, sql: &str, context: &str) -> Result<(), Error> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(self.conn()?)
            .await
            .map(|_| ())
            .map_err(|e| db(context.to_owned(), e))
    }

    /// `BEGIN IMMEDIATE`: takes SQLite's write lock, waiting up to the lock wait for it.
    async fn begin(&mut self) -> Result<sqlx::Transaction<'_, Sqlite>, Error> {
        let started = Instant::now();
        let database = self.database.clone();
        let conn = self.conn()?;
        match conn.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => Ok(tx),
            Err(e) if is_busy(&e) => Err(lock_timeout(&database, started.elapsed())),
            Err(e) => Err(db(format!("starting a write transaction on SQLite {database}"), e)),
        }
    }

    /// Creates the history table and its layout row in one write transaction.
    async fn create(&mut self) -> Result<(), Error> {
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        let mut tx = self.begin().await?;
        let context = || format!("creating history table {table}");
        sqlx::raw_sql(AssertSqlSafe(sql::create_history(&table)))
            .execute(&mut *tx)
            .await
            .map_err(|e| db(context(), e))?;
        run(&mut tx, sql::insert_layout(&table, &applied_by)).await.map_err(|e| db(context(), e))?;
        tx.commit().await.map_err(|e| db(context(), e))
    }

    async fn upgrade(&mut self, from: i64) -> Result<(), Error> {
        let statements = sql::upgrade(&self.table, from, columns::UPGRADES);
        if statements.is_empty() {
            return Ok(());
        }
        info!(table = %self.table, from, to = LAYOUT, "upgrading the history table in place");
        let table = self.table.clone();
        let mut tx = self.begin().await?;
        for statement in statements {
            run(&mut tx, statement).await.map_err(|e| db(format!("upgrading history table {table}"), e))?;
        }
        tx.commit().await.map_err(|e| db(format!("upgrading history table {table}"), e))
    }

    /// Puts the connection's settings back as they were when the session began (outside any
    /// transaction: `PRAGMA foreign_keys` is ignored inside one).
    async fn restore(&mut self) -> Result<(), Error> {
        let sql = self.settings.restore_sql();
        self.exec(&sql, "restoring the connection's settings").await
    }
}

/// Reads one version's row inside the job's transaction.
async fn read_row(
    conn: &mut SqliteConnection,
    table: &HistoryTable,
    version: i64,
) -> Result<Option<HistoryRow>, Error> {
    let rows = sqlx::query(AssertSqlSafe(sql::select_row(table)))
        .bind(version)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db(format!("reading history table {table}"), e))?;
    Ok(history_of(table, &rows)?.rows.into_iter().next())
}

/// Re-reads the job's row inside the write transaction `tx` ([`claim`]): the transaction
/// back to go on, `None` when another process did the job, or the error; both rolled back.
async fn claimed<'c>(
    mut tx: sqlx::Transaction<'c, Sqlite>,
    table: &HistoryTable,
    job: &Job<'_, SqliteConnection>,
) -> Result<Option<sqlx::Transaction<'c, Sqlite>>, Error> {
    let step =
        ClaimStep { version: job.row.version, direction: job.direction, start: job.start, row_exists: job.row_exists };
    let decision = read_row(&mut tx, table, job.row.version.get()).await.map(|row| claim(step, row.as_ref()));
    match decision {
        Ok(Claim::Proceed) => Ok(Some(tx)),
        Ok(Claim::DoneElsewhere) => {
            let _ = tx.rollback().await;
            Ok(None)
        }
        Ok(Claim::Refuse(e)) => {
            let _ = tx.rollback().await;
            Err(e.into())
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// The rank a new row gets: the planned one, unless another process used ranks meanwhile.
async fn rank(conn: &mut SqliteConnection, table: &HistoryTable, planned: i64) -> Result<i64, sqlx::Error> {
    let max: i64 = sqlx::query_scalar(AssertSqlSafe(sql::max_rank(table))).fetch_one(conn).await?;
    Ok(planned.max(max.saturating_add(1)))
}

/// A foreign-key violation found by `PRAGMA foreign_key_check` before commit.
#[derive(Debug)]
struct ForeignKeyViolation(String);

impl std::fmt::Display for ForeignKeyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ForeignKeyViolation {}

/// `PRAGMA foreign_key_check`: the first violation, described, if any.
async fn foreign_key_violation(conn: &mut SqliteConnection) -> Result<Option<ForeignKeyViolation>, sqlx::Error> {
    let rows = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *conn).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let table: String = first.try_get(0)?;
    let rowid: Option<i64> = first.try_get(1)?;
    let parent: String = first.try_get(2)?;
    let row = rowid.map(|id| format!(" (rowid {id})")).unwrap_or_default();
    Ok(Some(ForeignKeyViolation(format!(
        "foreign key violation: a row of `{table}`{row} references a missing row of `{parent}` ({} violation{} in \
         all; PRAGMA foreign_key_check lists them), so nothing of this migration was kept",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    ))))
}

impl SqliteSession {
    /// One `BEGIN IMMEDIATE` transaction: re-read the row, body, foreign-key check, history
    /// write, commit. Foreign-key enforcement is off while it runs (SQLite's documented way
    /// to rebuild a table without cascading deletes) and checked before commit instead, when
    /// the connection enforces foreign keys.
    async fn transactional(&mut self, job: Job<'_, SqliteConnection>) -> Result<Outcome, Error> {
        Ok(match self.transactional_group(std::slice::from_ref(&job)).await? {
            Some(mut executed) => match executed.pop() {
                Some(executed) => Outcome::Executed(executed),
                None => return Err(Error::database("running a migration", "the transaction reported no step")),
            },
            None => Outcome::DoneElsewhere,
        })
    }

    /// [`Self::transaction`] with foreign-key enforcement off while it runs.
    async fn transactional_group(
        &mut self,
        jobs: &[Job<'_, SqliteConnection>],
    ) -> Result<Option<Vec<Executed>>, Error> {
        let enforce = self.settings.foreign_keys();
        if enforce {
            self.exec("PRAGMA foreign_keys = OFF", "turning foreign-key enforcement off for the migration").await?;
        }
        let outcome = self.transaction(jobs, enforce).await;
        if enforce {
            // A failure here must not hide the migration's own outcome; the session is closed
            // instead of returned to the pool if restoring fails later.
            if let Err(e) = self.exec("PRAGMA foreign_keys = ON", "turning foreign-key enforcement back on").await {
                debug!(error = %e, "restoring foreign_keys after a migration failed");
            }
        }
        outcome
    }

    /// One `BEGIN IMMEDIATE` transaction for `jobs` (one, or a group of grouped apply): each
    /// job's row re-read, each body and history write, the foreign-key check, the commit.
    /// `None` when another process did one of the jobs meanwhile (nothing changed).
    async fn transaction(
        &mut self,
        jobs: &[Job<'_, SqliteConnection>],
        check_keys: bool,
    ) -> Result<Option<Vec<Executed>>, Error> {
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        // A job's failure: its own error, or, in a group, the group's.
        let fail = |failure: MigrationFailure, at_commit: bool| -> Error {
            if jobs.len() > 1 { group_failed(jobs, failure, at_commit) } else { failure.into() }
        };
        let Some(last) = jobs.last() else { return Ok(Some(Vec::new())) };
        let mut tx = self.begin().await?;
        for job in jobs {
            match claimed(tx, &table, job).await? {
                Some(claimed) => tx = claimed,
                None => return Ok(None),
            }
        }
        let mut done = Vec::with_capacity(jobs.len());
        for job in jobs {
            let started = Instant::now();
            let version = job.row.version.get();
            let mut executed = 0;
            match job.step.body {
                Body::Sql(script) => {
                    for (index, statement) in job.statements.iter().enumerate().skip(job.start) {
                        let text = script.statement_text(statement).to_owned();
                        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(text)).execute(&mut *tx).await {
                            let _ = tx.rollback().await;
                            return Err(fail(
                                job.failure(Some(index), FailureOutcome::RolledBack, described(error)),
                                false,
                            ));
                        }
                        executed += 1;
                    }
                }
                Body::Rust(step) => {
                    if let Err(error) = step.run(&mut tx).await {
                        let _ = tx.rollback().await;
                        return Err(fail(job.rust_failure(FailureOutcome::RolledBack, error), false));
                    }
                    executed = 1;
                }
            }
            let recorded = match job.direction {
                Direction::Up => {
                    let mut row = job.row.clone();
                    row.state = State::Applied;
                    row.statements_done = row.statements_total;
                    if !job.row_exists {
                        row.rank = match rank(&mut tx, &table, row.rank).await {
                            Ok(rank) => rank,
                            Err(e) => {
                                let _ = tx.rollback().await;
                                return Err(db(format!("recording migration {version} in {table}"), e));
                            }
                        };
                    }
                    run(&mut tx, sql::upsert(&table, &row, Execution::Measured(started.elapsed()), &applied_by)).await
                }
                Direction::Down => {
                    sqlx::query(AssertSqlSafe(sql::delete(&table))).bind(version).execute(&mut *tx).await.map(|_| ())
                }
            };
            if let Err(e) = recorded {
                let _ = tx.rollback().await;
                return Err(db(format!("recording migration {version} in {table}"), e));
            }
            done.push(Executed { statements: executed, duration: started.elapsed() });
        }
        if check_keys {
            match foreign_key_violation(&mut tx).await {
                Ok(None) => {}
                Ok(Some(violation)) => {
                    let _ = tx.rollback().await;
                    return Err(fail(last.failure(None, FailureOutcome::RolledBack, Box::new(violation)), true));
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(db("checking foreign keys (PRAGMA foreign_key_check)", e));
                }
            }
        }
        let committing = Instant::now();
        if let Err(e) = tx.commit().await {
            if is_busy(&e) {
                return Err(lock_timeout(&self.database, committing.elapsed()));
            }
            return Err(fail(last.failure(None, FailureOutcome::RolledBack, described(e)), true));
        }
        Ok(Some(done))
    }

    /// A `no-transaction` migration: claimed by writing its `running` (or `reverting`) row in
    /// a write transaction that re-reads it first, then statement by statement. Each
    /// statement commits together with its progress update, except those SQLite refuses or
    /// ignores inside a transaction (`VACUUM`, `PRAGMA foreign_keys`, …), which run on their
    /// own, followed by their progress update.
    async fn stepwise(&mut self, job: Job<'_, SqliteConnection>) -> Result<Outcome, Error> {
        let started = Instant::now();
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        let version = job.row.version.get();
        {
            let Some(mut tx) = claimed(self.begin().await?, &table, &job).await? else {
                return Ok(Outcome::DoneElsewhere);
            };
            let mut row = job.row.clone();
            if !job.row_exists {
                row.rank = rank(&mut tx, &table, row.rank)
                    .await
                    .map_err(|e| db(format!("recording the start of migration {version} in {table}"), e))?;
            }
            run(&mut tx, sql::upsert(&table, &row, Execution::AsRecorded, &applied_by))
                .await
                .map_err(|e| db(format!("recording the start of migration {version} in {table}"), e))?;
            tx.commit().await.map_err(|e| db(format!("recording the start of migration {version} in {table}"), e))?;
        }
        let failed_state = job.failed_state();
        let total = job.total();
        let mut executed = 0;
        match job.step.body {
            Body::Sql(script) => {
                for (index, statement) in job.statements.iter().enumerate().skip(job.start) {
                    let text = script.statement_text(statement);
                    let last = index + 1 == total;
                    let alone = migrator_core::classify::outside_transaction(Dialect::Sqlite, text).is_some();
                    let result = if alone {
                        self.statement_alone(text, &job, index, last, started).await
                    } else {
                        self.statement_with_progress(text, &job, index, last, started).await
                    };
                    match result {
                        Ok(()) => executed += 1,
                        Err(Step::Statement(error)) => {
                            return Err(self.record_failure(&job, index, failed_state, error).await);
                        }
                        Err(Step::Progress(error)) => return Err(error),
                    }
                }
                if total == 0 || job.start >= total {
                    self.finish(&job, started).await?;
                }
            }
            Body::Rust(step) => {
                if job.start == 0 {
                    let conn = self.conn()?;
                    if let Err(error) = step.run(conn).await {
                        let text = error.to_string();
                        let outcome = self.mark_failed(version, failed_state, 1, None, &text).await;
                        return Err(job.rust_failure(outcome, error).into());
                    }
                    executed = 1;
                }
                self.finish(&job, started).await?;
            }
        }
        Ok(Outcome::Executed(Executed { statements: executed, duration: started.elapsed() }))
    }

    /// A statement SQLite must run outside a transaction, then its progress update.
    async fn statement_alone(
        &mut self,
        text: &str,
        job: &Job<'_, SqliteConnection>,
        index: usize,
        last: bool,
        started: Instant,
    ) -> Result<(), Step> {
        let conn = self.conn().map_err(Step::Progress)?;
        sqlx::raw_sql(AssertSqlSafe(text.to_owned())).execute(conn).await.map_err(Step::Statement)?;
        if last {
            self.finish(job, started).await.map_err(Step::Progress)
        } else {
            let table = self.table.clone();
            let applied_by = self.applied_by.clone();
            let conn = self.conn().map_err(Step::Progress)?;
            progress(conn, &table, job.row.version.get(), index + 1, &applied_by).await.map_err(Step::Progress)
        }
    }

    /// A statement and its progress update (or, for the last one, the end row) in one write
    /// transaction: it is never applied twice.
    async fn statement_with_progress(
        &mut self,
        text: &str,
        job: &Job<'_, SqliteConnection>,
        index: usize,
        last: bool,
        started: Instant,
    ) -> Result<(), Step> {
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        let version = job.row.version.get();
        let mut tx = self.begin().await.map_err(Step::Progress)?;
        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(text.to_owned())).execute(&mut *tx).await {
            let _ = tx.rollback().await;
            return Err(Step::Statement(error));
        }
        let recorded = if last {
            end_row(&mut tx, &table, job, started, &applied_by).await
        } else {
            progress(&mut tx, &table, version, index + 1, &applied_by).await
        };
        if let Err(e) = recorded {
            let _ = tx.rollback().await;
            return Err(Step::Progress(e));
        }
        tx.commit().await.map_err(|e| Step::Progress(db(format!("recording progress of migration {version}"), e)))
    }

    /// The end row of a stepwise job, on its own.
    async fn finish(&mut self, job: &Job<'_, SqliteConnection>, started: Instant) -> Result<(), Error> {
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        let conn = self.conn()?;
        end_row(conn, &table, job, started, &applied_by).await
    }

    async fn record_failure(
        &mut self,
        job: &Job<'_, SqliteConnection>,
        index: usize,
        state: State,
        error: sqlx::Error,
    ) -> Error {
        let text = describe(&error);
        let line = job.statements.get(index).map(|s| s.line);
        let outcome = self.mark_failed(job.row.version.get(), state, index + 1, line, &text).await;
        job.failure(Some(index), outcome, described(error)).into()
    }

    async fn mark_failed(
        &mut self,
        version: i64,
        state: State,
        statement: usize,
        line: Option<usize>,
        text: &str,
    ) -> FailureOutcome {
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        let Ok(conn) = self.conn() else { return FailureOutcome::NotRecorded };
        let written =
            run(conn, sql::update(&table, version, &update::failed(state, statement, line, text), &applied_by)).await;
        match written {
            Ok(_) => FailureOutcome::Recorded,
            Err(e) => {
                debug!(error = %e, "recording the failure failed");
                FailureOutcome::NotRecorded
            }
        }
    }
}

/// How a statement of a stepwise job went wrong: the statement itself, or the bookkeeping
/// around it (the write lock, the progress update).
enum Step {
    Statement(sqlx::Error),
    Progress(Error),
}

async fn progress(
    conn: &mut SqliteConnection,
    table: &HistoryTable,
    version: i64,
    done: usize,
    applied_by: &str,
) -> Result<(), Error> {
    run(conn, sql::update(table, version, &update::progress(done), applied_by))
        .await
        .map_err(|e| db(format!("recording progress of migration {version}"), e))
}

/// `applied` (up) or the row's removal (down).
async fn end_row(
    conn: &mut SqliteConnection,
    table: &HistoryTable,
    job: &Job<'_, SqliteConnection>,
    started: Instant,
    applied_by: &str,
) -> Result<(), Error> {
    let version = job.row.version.get();
    let written = match job.direction {
        Direction::Up => {
            let applied = update::applied(job.total(), Execution::Measured(started.elapsed()));
            run(conn, sql::update(table, version, &applied, applied_by)).await
        }
        Direction::Down => sqlx::query(AssertSqlSafe(sql::delete(table))).bind(version).execute(conn).await.map(|_| ()),
    };
    written.map_err(|e| db(format!("recording the end of migration {version} in {table}"), e))
}

#[async_trait]
impl Session<SqliteConnection> for SqliteSession {
    async fn read_foreign(&mut self, table: &ForeignTable) -> Result<Option<Vec<ForeignRow>>, Error> {
        crate::foreign::read_foreign(self.conn()?, table).await
    }

    async fn tables_present(&mut self, names: &[&'static str]) -> Result<Vec<String>, Error> {
        crate::foreign::tables_present(self.conn()?, names).await
    }

    async fn prepare(&mut self) -> Result<History, Error> {
        let table = self.table.clone();
        let history = match read_history(self.conn()?, &table).await? {
            Some(history) => history,
            None => {
                self.create().await?;
                self.read().await?
            }
        };
        if history.layout < LAYOUT {
            self.upgrade(history.layout).await?;
            return self.read().await;
        }
        Ok(history)
    }

    async fn read(&mut self) -> Result<History, Error> {
        let table = self.table.clone();
        read_history(self.conn()?, &table).await?.ok_or_else(|| {
            Error::database(format!("reading history table {table}"), "the table disappeared while migrating")
        })
    }

    async fn execute(&mut self, job: Job<'_, SqliteConnection>) -> Result<Executed, Error> {
        let version = job.row.version;
        match self.execute_unless_done(job).await? {
            Outcome::Executed(executed) => Ok(executed),
            _ => Err(PlanError::DoneElsewhere { version }.into()),
        }
    }

    async fn execute_unless_done(&mut self, job: Job<'_, SqliteConnection>) -> Result<Outcome, Error> {
        self.restore().await?;
        match job.mode {
            Mode::Transactional => self.transactional(job).await,
            Mode::Stepwise => self.stepwise(job).await,
        }
    }

    async fn execute_group(&mut self, jobs: &[Job<'_, SqliteConnection>]) -> Result<Option<Vec<Executed>>, Error> {
        migrator_core::driver::check_group("SQLite", jobs)?;
        self.restore().await?;
        self.transactional_group(jobs).await
    }

    async fn execute_repeatable(&mut self, job: RepeatableJob<'_>) -> Result<Executed, Error> {
        self.restore().await?;
        let started = Instant::now();
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        let record = |started: Instant| {
            sql::upsert_values(&table, &job.row(Execution::Measured(started.elapsed())), &applied_by)
        };
        let context = || format!("recording repeatable migration {} in {table}", job.name);
        if job.mode == Mode::Transactional {
            let mut tx = self.begin().await?;
            for (index, statement) in job.statements.iter().enumerate() {
                let text = job.script.statement_text(statement).to_owned();
                if let Err(error) = sqlx::raw_sql(AssertSqlSafe(text)).execute(&mut *tx).await {
                    let _ = tx.rollback().await;
                    return Err(job.failure(Some(index), false, described(error)));
                }
            }
            if let Err(e) = run(&mut tx, record(started)).await {
                let _ = tx.rollback().await;
                return Err(db(context(), e));
            }
            tx.commit().await.map_err(|e| job.failure(None, false, described(e)))?;
        } else {
            for (index, statement) in job.statements.iter().enumerate() {
                let text = job.script.statement_text(statement).to_owned();
                if let Err(error) = sqlx::raw_sql(AssertSqlSafe(text)).execute(self.conn()?).await {
                    return Err(job.failure(Some(index), index > 0, described(error)));
                }
            }
            let row = record(started);
            run(self.conn()?, row).await.map_err(|e| db(context(), e))?;
        }
        Ok(Executed { statements: job.statements.len(), duration: started.elapsed() })
    }

    fn backfill_conn(&mut self) -> Result<Box<dyn migrator_core::backfill::BackfillConn + '_>, Error> {
        let schema = self.table.schema.as_ref().map(|s| s.as_str().to_owned());
        Ok(Box::new(crate::backfill::backfill_conn_in(self.conn()?, schema.as_deref())))
    }

    async fn change(&mut self, change: HistoryChange) -> Result<(), Error> {
        let table = self.table.clone();
        let applied_by = self.applied_by.clone();
        let mut tx = self.begin().await?;
        let written = match &change {
            HistoryChange::Upsert(rows) => {
                let mut written = Ok(());
                for row in rows {
                    written = run(&mut tx, sql::upsert(&table, row, Execution::AsRecorded, &applied_by)).await;
                    if written.is_err() {
                        break;
                    }
                }
                written
            }
            HistoryChange::Delete(version) => {
                sqlx::query(AssertSqlSafe(sql::delete(&table))).bind(version.get()).execute(&mut *tx).await.map(|_| ())
            }
        };
        if let Err(e) = written {
            let _ = tx.rollback().await;
            return Err(db(format!("writing history table {table}"), e));
        }
        tx.commit().await.map_err(|e| db(format!("writing history table {table}"), e))
    }

    async fn release(mut self: Box<Self>) -> Result<(), Error> {
        let sql = self.settings.restore_sql_with_busy_timeout();
        let restored = self.exec(&sql, "restoring the connection's settings").await;
        if restored.is_ok() {
            // Back to the pool as it came.
            drop(self.conn.take());
        }
        restored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Backends are usable as trait objects (the CLI picks one at runtime).
    #[test]
    fn the_driver_is_dyn_compatible() {
        fn boxed(driver: SqliteDriver) -> Box<dyn Driver<Conn = SqliteConnection>> {
            Box::new(driver)
        }
        let _ = boxed;
    }

    #[test]
    fn applied_by_names_user_host_and_process() {
        let who = applied_by();
        assert!(who.contains('@') && who.contains(&format!("pid {}", std::process::id())), "{who}");
    }
}
