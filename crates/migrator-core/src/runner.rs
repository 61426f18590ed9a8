//! The runner: [`Migrator`] applies, reverts, resumes and inspects migrations through a
//! [`Driver`], deciding every step with the pure planner.
//!
//! A run goes: (1) read the history without a lock; if nothing is pending, nothing is dirty
//! and every checksum matches, return at once. (2) Otherwise open a dedicated connection and
//! take the migration lock. (3) Create or upgrade the history table and read it again under
//! the lock. (4) Plan (validate). (5) Apply each pending migration on that connection.
//! (6) Release the lock through one guard, whose drop also releases it (by closing the
//! connection) when the run errs, panics or its future is dropped.

use std::time::Duration;

use tracing::{Instrument, info, info_span, warn};

use crate::capabilities::LockStrategy;
use crate::driver::{Driver, Executed, HistoryChange, Job, LockRequest, Outcome, Session};
use crate::error::Error;
use crate::history::{History, HistoryRow, HistoryTable, Ident, LAYOUT, RowWrite, State};
use crate::migration::{Body, Down, Migration, Step};
use crate::plan::build::{Requested, StepNeeds, check_build};
use crate::plan::stale::Fingerprint;
use crate::plan::{
    self, Available, DownKind, DownTarget, Policy, SkipReason, Skipped, StepKind, StepPlan, UpInput, UpPlan, plan_down,
    plan_resume, plan_up, start_state, step_plan,
};
use crate::report::{Repaired, Report, Status, StepReport, Validation, skip_text};
use crate::set::{IntoMigrations, MigrationSet};
use crate::split::Statement;
use crate::text::human;
use crate::version::{Direction, Phase, Phases, Version};

/// The default time to wait for another process's migration lock.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(300);

/// The default per-migration lock timeout: a migration waiting longer than this for a table
/// lock fails instead of queueing every query of the application behind it.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The settings of a [`Migrator`], fixed when it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where the history table lives.
    pub table: HistoryTable,
    /// How long to wait for another process's migration lock.
    pub lock_wait: Duration,
    /// The lock timeout of migrations that do not set one (`None`: the server's setting).
    pub lock_timeout: Option<Duration>,
    /// Out-of-order and unknown-version policy.
    pub policy: Policy,
    /// Take the migration lock (disable only where the database cannot lock).
    pub lock: bool,
    /// Which lock.
    pub lock_strategy: LockStrategy,
}

/// Builds a [`Migrator`] with non-default options.
#[derive(Debug)]
pub struct MigratorBuilder<D: Driver> {
    driver: D,
    migrations: Result<MigrationSet<D::Conn>, Error>,
    table: Option<String>,
    schema: Option<String>,
    lock_wait: Duration,
    lock_timeout: Option<Option<Duration>>,
    policy: Policy,
    lock: bool,
    lock_strategy: LockStrategy,
}

impl<D: Driver> MigratorBuilder<D>
where
    D::Conn: 'static,
{
    /// Names the history table (default `_migrator_history`).
    pub fn table(mut self, name: &str) -> Self {
        self.table = Some(name.to_owned());
        self
    }

    /// Puts the history table in this schema (default: the connection's current schema).
    /// The schema is created if missing.
    pub fn schema(mut self, name: &str) -> Self {
        self.schema = Some(name.to_owned());
        self
    }

    /// How long to wait for another process's migration lock (default 300 s).
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The lock timeout of migrations without a `lock-timeout` directive (default 10 s;
    /// `None` keeps the server's setting).
    pub fn lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// Applies pending migrations older than the newest applied one (with a warning)
    /// instead of refusing to run.
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.policy.allow_out_of_order = allow;
        self
    }

    /// Accepts applied versions this binary does not know (with a warning).
    pub fn ignore_unknown(mut self, ignore: bool) -> Self {
        self.policy.ignore_unknown = ignore;
        self
    }

    /// Runs without the migration lock. Only for setups that cannot lock (multi-primary
    /// clusters): concurrent runners may then apply a migration twice.
    pub fn no_lock(mut self) -> Self {
        self.lock = false;
        self
    }

    /// Which lock serializes migrators (default [`LockStrategy::Session`]); choose
    /// [`LockStrategy::lease()`] behind a transaction-mode pooler such as PgBouncer.
    pub fn lock_strategy(mut self, strategy: LockStrategy) -> Self {
        self.lock_strategy = strategy;
        self
    }

    /// Adds a migration (typically a [`crate::RustMigration`]) to the set.
    pub fn migration(mut self, migration: impl Migration<D::Conn> + 'static) -> Self {
        self.migrations = self.migrations.and_then(|set| set.with(migration));
        self
    }

    /// Checks the options and the migrations against the backend's capabilities.
    pub fn build(self) -> Result<Migrator<D>, Error> {
        let caps = self.driver.capabilities();
        let set = self.migrations?;
        let requested = Requested {
            schema: self.schema.as_deref(),
            lock_timeout: self.lock_timeout.flatten(),
            strategy: self.lock_strategy,
        };
        check_build(caps, &requested, set.iter().flat_map(step_needs))?;
        let schema = self.schema.as_deref().map(|schema| Ident::new("history schema", schema)).transpose()?;
        let name = match &self.table {
            Some(table) => Ident::new("history table", table)?,
            None => HistoryTable::default().name,
        };
        let lock_timeout = match self.lock_timeout {
            Some(explicit) => explicit,
            None => caps.lock_timeout.then_some(DEFAULT_LOCK_TIMEOUT),
        };
        let mut noop = vec![Expected::of(set.iter(), false)];
        if set.iter().any(|m| m.meta().phase() == Phase::Contract) {
            noop.push(Expected::of(set.iter().filter(|m| m.meta().phase() == Phase::Expand), true));
        }
        Ok(Migrator {
            driver: self.driver,
            noop,
            stale: std::sync::OnceLock::new(),
            set,
            options: Options {
                table: HistoryTable { schema, name },
                lock_wait: self.lock_wait,
                lock_timeout,
                policy: self.policy,
                lock: self.lock && caps.migration_lock,
                lock_strategy: self.lock_strategy,
            },
        })
    }
}

/// What each step of a migration asks of the backend.
fn step_needs<'a, C: ?Sized>(m: &'a dyn Migration<C>) -> Vec<StepNeeds<'a>> {
    let mut steps = vec![m.up()];
    if let Down::Step(step) = m.down() {
        steps.push(step);
    }
    steps
        .into_iter()
        .map(|step| {
            let (origin, dialect) = match step.body {
                Body::Sql(script) => (script.path(), Some(script.dialect())),
                Body::Rust(_) => (m.meta().origin(), None),
            };
            StepNeeds {
                origin,
                dialect,
                lock_timeout: step.settings.lock_timeout.is_some(),
                statement_timeout: step.settings.statement_timeout.is_some(),
                no_transaction: step.settings.no_transaction,
            }
        })
        .collect()
}

/// Applies, reverts and inspects one application's migrations on one database.
///
/// Build it once (cheap: scripts are split only when they run) and call [`Migrator::run`]
/// at startup. Every method that changes the database takes the migration lock; `run`
/// skips it when the history says there is nothing to do.
#[derive(Debug)]
pub struct Migrator<D: Driver> {
    driver: D,
    set: MigrationSet<D::Conn>,
    options: Options,
    /// Whether the binary is stale, found once (debug builds: see [`Warning::StaleBinary`]).
    stale: std::sync::OnceLock<Option<plan::StaleBinary>>,
    /// Histories in which `run` has nothing to do, with their digests: every migration
    /// applied, and (when the set has contract migrations) every expand migration applied.
    noop: Vec<Expected>,
}

/// A history the startup check expects, as digest and rows.
#[derive(Debug)]
struct Expected {
    digest: String,
    rows: Vec<HistoryRow>,
    /// Whether it is a no-op for the expand phase only.
    expand_only: bool,
}

impl Expected {
    fn of<'a, C: ?Sized + 'a>(migrations: impl Iterator<Item = &'a dyn Migration<C>>, expand_only: bool) -> Self {
        let rows: Vec<HistoryRow> = migrations
            .enumerate()
            .map(|(rank, m)| {
                let meta = m.meta();
                HistoryRow {
                    version: meta.version(),
                    name: meta.name().to_owned(),
                    phase: meta.phase(),
                    state: State::Applied,
                    checksum: meta.checksum().as_str().to_owned(),
                    down_checksum: meta.down_checksum().map(|c| c.as_str().to_owned()),
                    rank: rank as i64 + 1,
                    statements_total: 0,
                    statements_done: 0,
                    statements: Vec::new(),
                    failed_statement: None,
                    failed_line: None,
                    error: None,
                    applied_at: std::time::SystemTime::UNIX_EPOCH,
                    execution_time: None,
                    applied_by: String::new(),
                    note: None,
                }
            })
            .collect();
        let digest = crate::history::digest::applied_digest(
            rows.iter()
                .map(|r| (r.version.get(), r.name.as_str(), r.phase, r.checksum.as_str(), r.down_checksum.as_deref())),
        );
        Expected { digest, rows, expand_only }
    }
}

/// Holds the locked session; releasing it is the one way out, and dropping it (error,
/// panic, cancelled future) closes the connection, which releases the lock.
struct LockGuard<C: ?Sized + Send + 'static> {
    session: Option<Box<dyn Session<C>>>,
}

impl<C: ?Sized + Send + 'static> LockGuard<C> {
    fn session(&mut self) -> Result<&mut (dyn Session<C> + 'static), Error> {
        self.session
            .as_deref_mut()
            .ok_or_else(|| Error::database("using the migration session", "it was already released"))
    }

    async fn release<T>(mut self, result: Result<T, Error>) -> Result<T, Error> {
        let released = match self.session.take() {
            Some(session) => session.release().await,
            None => Ok(()),
        };
        match (result, released) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(release_error)) => {
                warn!(error = %release_error, "releasing the migration lock failed after an error; the connection is closed");
                Err(e)
            }
        }
    }
}

impl<C: ?Sized + Send + 'static> Drop for LockGuard<C> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            warn!(
                "migration run stopped while holding the lock (cancelled or panicked): closing its connection releases it"
            );
            drop(session);
        }
    }
}

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
    /// A migrator with default options over `driver` (for example `&PgPool`).
    pub fn new(driver: impl Into<D>, migrations: impl IntoMigrations<D::Conn>) -> Result<Self, Error> {
        Self::builder(driver, migrations).build()
    }

    /// A builder for non-default options.
    pub fn builder(driver: impl Into<D>, migrations: impl IntoMigrations<D::Conn>) -> MigratorBuilder<D> {
        MigratorBuilder {
            driver: driver.into(),
            migrations: migrations.into_migrations(),
            table: None,
            schema: None,
            lock_wait: DEFAULT_LOCK_WAIT,
            lock_timeout: None,
            policy: Policy::default(),
            lock: true,
            lock_strategy: LockStrategy::Session,
        }
    }

    /// The migrations.
    pub fn migrations(&self) -> &MigrationSet<D::Conn> {
        &self.set
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// Applies every pending expand migration. The call for app startup.
    pub async fn run(&self) -> Result<Report, Error> {
        self.run_with(Phases::Expand, None).await
    }

    /// Applies pending expand migrations up to and including `version`.
    pub async fn run_to(&self, version: i64) -> Result<Report, Error> {
        self.run_with(Phases::Expand, Some(version)).await
    }

    /// Applies pending migrations of `phases`, up to `target` when given.
    pub async fn run_with(&self, phases: Phases, target: Option<i64>) -> Result<Report, Error> {
        let target = target.map(Version::try_from).transpose()?;
        let span = info_span!("migrate", table = %self.options.table, phases = ?phases);
        async move {
            // The histories in which this run has nothing to do: the server compares them
            // and sends the rows only when they differ.
            let candidates: Vec<&Expected> = match (target, phases) {
                (None, Phases::All) => self.noop.iter().filter(|e| !e.expand_only).collect(),
                (None, Phases::Expand) => self.noop.iter().collect(),
                _ => Vec::new(),
            };
            let digests: Vec<String> = candidates.iter().map(|e| e.digest.clone()).collect();
            let (history, matched, probe) = self.driver.probe_expecting(&self.options.table, &digests).await?;
            if let Some(history) = &history {
                check_layout(&self.options.table, history)?;
                // When the server found an expected history, its rows are the expected ones.
                let rows = match matched.and_then(|i| candidates.get(i)) {
                    Some(expected) => expected.rows.as_slice(),
                    None => history.rows.as_slice(),
                };
                // A row in progress may belong to a live process holding the lock: only under
                // the lock can it be told apart from an interrupted one.
                let in_progress = rows.iter().any(|r| matches!(r.state, State::Running | State::Reverting));
                if !in_progress {
                    let plan = self.plan_up(rows, phases, target)?;
                    if plan.apply.is_empty() && history.layout == LAYOUT {
                        log_plan(&plan);
                        let mut report = Report::from_plan(&plan, false);
                        report.warnings.extend(self.stale_warning());
                        return Ok(report);
                    }
                }
            }
            let mut guard = LockGuard { session: Some(probe.lock(self.lock_request()).await?) };
            let result = match guard.session() {
                Ok(session) => self.run_locked(session, phases, target).await,
                Err(e) => Err(e),
            };
            let mut report = guard.release(result).await?;
            report.warnings.extend(self.stale_warning());
            Ok(report)
        }
        .instrument(span)
        .await
    }

    /// Reverts the newest `steps` applied migrations, in reverse order of application.
    pub async fn down(&self, steps: usize) -> Result<Report, Error> {
        self.revert(DownTarget::Steps(steps)).await
    }

    /// Reverts every applied migration newer than `version` (which stays applied); `0`
    /// reverts everything.
    pub async fn down_to(&self, version: i64) -> Result<Report, Error> {
        if version == 0 {
            return self.revert(DownTarget::All).await;
        }
        self.revert(DownTarget::To(Version::try_from(version)?)).await
    }

    /// Reverts every applied migration.
    pub async fn down_all(&self) -> Result<Report, Error> {
        self.revert(DownTarget::All).await
    }

    /// Every migration with its state, read without the lock.
    pub async fn status(&self) -> Result<Status, Error> {
        let history = self.driver.read_history(&self.options.table).await?;
        if let Some(history) = &history {
            check_layout(&self.options.table, history)?;
        }
        let rows = history.as_ref().map(|h| h.rows.as_slice()).unwrap_or_default();
        let mut migrations = plan::status(&self.available(), rows);
        // A row in progress is interrupted only if nobody is running it: ask who holds the lock.
        if plan::any_interrupted(&migrations)
            && let Some(holder) = self.driver.lock_holder(&self.options.table).await?
        {
            plan::mark_running(&mut migrations, &holder);
        }
        Ok(Status { history_exists: history.is_some(), migrations })
    }

    /// Every problem that would stop a run (and every warning), read without the lock.
    pub async fn validate(&self) -> Result<Validation, Error> {
        let Some(history) = self.driver.read_history(&self.options.table).await? else {
            return Ok(Validation::default());
        };
        check_layout(&self.options.table, &history)?;
        let available = self.available();
        let checked = plan::check(&UpInput {
            available: &available,
            history: &history.rows,
            policy: self.options.policy,
            phases: Phases::All,
            target: None,
        });
        let (mut problems, mut warnings) = (checked.problems, checked.plan.warnings);
        warnings.extend(plan::file_notes(&available, &history.rows));
        if problems.iter().any(|p| matches!(p, plan::PlanError::Interrupted { .. }))
            && let Some(holder) = self.driver.lock_holder(&self.options.table).await?
        {
            plan::running_not_interrupted(&mut problems, &mut warnings, &holder);
        }
        Ok(Validation { problems, warnings })
    }

    /// What [`Migrator::run`] would apply, read without the lock.
    pub async fn plan(&self) -> Result<UpPlan, Error> {
        self.plan_with(Phases::Expand, None).await
    }

    /// What [`Migrator::run_with`] would apply, read without the lock.
    pub async fn plan_with(&self, phases: Phases, target: Option<i64>) -> Result<UpPlan, Error> {
        let target = target.map(Version::try_from).transpose()?;
        let history = self.driver.read_history(&self.options.table).await?;
        if let Some(history) = &history {
            check_layout(&self.options.table, history)?;
        }
        let rows = history.as_ref().map(|h| h.rows.as_slice()).unwrap_or_default();
        self.plan_up(rows, phases, target)
    }

    /// Finishes the failed or interrupted migration by re-running its failed statement
    /// (after checking the statements before it are unchanged) and the rest.
    pub async fn resume(&self) -> Result<Report, Error> {
        self.resume_inner(false).await
    }

    /// Like [`Migrator::resume`], but counts the failed or interrupted statement as done
    /// (it took effect) and continues with the next.
    pub async fn resume_skip(&self) -> Result<Report, Error> {
        self.resume_inner(true).await
    }

    /// Records `version` as applied without running anything (you repaired the database
    /// by hand). Clears a failed or interrupted state.
    pub async fn force(&self, version: i64) -> Result<(), Error> {
        let version = Version::try_from(version)?;
        self.with_lock(async |this: &Self, session: &mut dyn Session<D::Conn>| {
            let history = this.prepare(session).await?;
            let rank = plan::plan_force(&this.available(), &history.rows, version)?;
            let m = this.get(version)?;
            let total = self.statement_count(&m.up())?;
            let row = RowWrite {
                state: State::Applied,
                statements_done: total,
                note: Some("force".to_owned()),
                ..row_for(m, rank, total)
            };
            session.change(HistoryChange::Upsert(vec![row])).await?;
            info!(version = %version, "recorded as applied without running it (force)");
            Ok(())
        })
        .await
    }

    /// Removes `version`'s history row without running anything (you reverted it by hand).
    pub async fn force_reverted(&self, version: i64) -> Result<(), Error> {
        let version = Version::try_from(version)?;
        self.with_lock(async |this: &Self, session: &mut dyn Session<D::Conn>| {
            let history = this.prepare(session).await?;
            plan::plan_force_reverted(&history.rows, version)?;
            session.change(HistoryChange::Delete(version)).await?;
            info!(version = %version, "history row removed without running anything (force --reverted)");
            Ok(())
        })
        .await
    }

    /// Re-records the applied migrations whose files changed (checksum, name, down script),
    /// returning each. Refuses when an applied migration ran no statement and its file now
    /// has SQL: that SQL never ran.
    pub async fn repair(&self) -> Result<Vec<Repaired>, Error> {
        self.with_lock(async |this: &Self, session: &mut dyn Session<D::Conn>| {
            let history = this.prepare(session).await?;
            let repairs = plan::plan_repair(&this.available(), &history.rows)?;
            let mut repaired = Vec::new();
            let mut rows = Vec::new();
            for repair in repairs {
                let m = this.get(repair.version)?;
                let meta = m.meta();
                repaired.push(Repaired {
                    version: repair.version,
                    name: meta.name().to_owned(),
                    old: repair.old_checksum.clone(),
                    new: meta.checksum().as_str().to_owned(),
                });
                rows.push(RowWrite {
                    state: State::Applied,
                    statements_done: repair.statements_done,
                    note: Some(format!("repair: checksum was {}", repair.old_checksum)),
                    ..row_for(m, repair.rank, repair.statements_total)
                });
            }
            if !rows.is_empty() {
                session.change(HistoryChange::Upsert(rows)).await?;
            }
            for r in &repaired {
                info!(version = %r.version, old = %r.old, new = %r.new, "re-recorded from its files (repair)");
            }
            Ok(repaired)
        })
        .await
    }

    /// Records every migration up to and including `version` as applied without running
    /// them, to adopt a database whose schema already exists. Refused when the history
    /// already has rows.
    pub async fn baseline(&self, version: i64) -> Result<Vec<Version>, Error> {
        let version = Version::try_from(version)?;
        self.with_lock(async |this: &Self, session: &mut dyn Session<D::Conn>| {
            let history = this.prepare(session).await?;
            let versions = plan::plan_baseline(&this.available(), &history.rows, version)?;
            let mut rows = Vec::new();
            for (rank, v) in (1..).zip(&versions) {
                let m = this.get(*v)?;
                let total = self.statement_count(&m.up())?;
                rows.push(RowWrite {
                    state: State::Applied,
                    statements_done: total,
                    note: Some(format!("baseline {version}")),
                    ..row_for(m, rank, total)
                });
            }
            session.change(HistoryChange::Upsert(rows)).await?;
            info!(count = versions.len(), up_to = %version, "baseline recorded");
            Ok(versions)
        })
        .await
    }

    /// How [`Migrator::run`] would apply migration `version`: in one transaction with its
    /// history row, or statement by statement, and why (the planner's decision, which
    /// `migrator plan` prints).
    pub fn up_plan(&self, version: i64) -> Result<StepPlan, Error> {
        let m = self.get(Version::try_from(version)?)?;
        self.step_plan(&m.up())
    }

    // ---- internals ----

    fn available(&self) -> Vec<Available<'_>> {
        self.set
            .iter()
            .map(|m| {
                let meta = m.meta();
                Available {
                    version: meta.version(),
                    name: meta.name(),
                    origin: meta.origin(),
                    phase: meta.phase(),
                    checksum: meta.checksum().as_str(),
                    down_checksum: meta.down_checksum().map(|c| c.as_str()),
                    no_op: match m.up().body {
                        Body::Sql(script) => script.directives().no_op.is_some(),
                        Body::Rust(_) => false,
                    },
                    down: match m.down() {
                        Down::Step(_) => DownKind::Reversible,
                        Down::Irreversible { reason } => DownKind::Irreversible(reason),
                        Down::Missing => DownKind::Missing,
                    },
                }
            })
            .collect()
    }

    fn plan_up(&self, rows: &[HistoryRow], phases: Phases, target: Option<Version>) -> Result<UpPlan, Error> {
        let available = self.available();
        Ok(plan_up(&UpInput { available: &available, history: rows, policy: self.options.policy, phases, target })?)
    }

    /// The planner's decision of how `step` runs on this backend.
    fn step_plan(&self, step: &Step<'_, D::Conn>) -> Result<StepPlan, Error> {
        let caps = self.driver.capabilities();
        let kind = match step.body {
            Body::Sql(script) => {
                let statements = script.statements()?;
                let commits_implicitly = statements
                    .iter()
                    .any(|s| crate::classify::commits_implicitly(caps.dialect, script.statement_text(s)));
                StepKind::Sql { statements: statements.len(), commits_implicitly }
            }
            Body::Rust(_) => StepKind::Rust,
        };
        Ok(step_plan(caps.transactional_ddl, step.settings.no_transaction, kind))
    }

    /// The statements `step` runs, as its history row counts them (1 for Rust code).
    fn statement_count(&self, step: &Step<'_, D::Conn>) -> Result<u32, Error> {
        Ok(u32::try_from(self.step_plan(step)?.statements).unwrap_or(u32::MAX))
    }

    /// The stale-binary warning, when the set was embedded in a debug build and its source
    /// directory now holds other migrations; found once per migrator and logged then.
    fn stale_warning(&self) -> Option<plan::Warning> {
        let stale = self.stale.get_or_init(|| {
            let (dir, written, dialect) = self.set.embedded_from()?;
            let path = std::path::Path::new(dir);
            // A binary run away from its sources (copied elsewhere) has nothing to compare.
            if !path.is_dir() {
                return None;
            }
            let (loaded, problems) = crate::source::scan::scan_dir(path, written, dialect);
            let file = |path: &str| path.rsplit('/').next().unwrap_or(path).to_owned();
            let embedded: Vec<Fingerprint> = self
                .set
                .iter()
                .filter_map(|m| match m.up().body {
                    Body::Sql(script) => Some(Fingerprint {
                        version: m.meta().version(),
                        file: file(script.path()),
                        checksum: m.meta().checksum().as_str().to_owned(),
                        down_checksum: m.meta().down_checksum().map(|c| c.as_str().to_owned()),
                    }),
                    Body::Rust(_) => None,
                })
                .collect();
            let on_disk: Vec<Fingerprint> = loaded
                .iter()
                .map(|l| {
                    let meta = Migration::<D::Conn>::meta(&l.migration);
                    Fingerprint {
                        version: meta.version(),
                        file: file(l.migration.up_script().path()),
                        checksum: meta.checksum().as_str().to_owned(),
                        down_checksum: meta.down_checksum().map(|c| c.as_str().to_owned()),
                    }
                })
                .collect();
            let unloadable: Vec<String> = problems.iter().map(|p| file(&p.error.path)).collect();
            let stale = plan::stale::compare(written, &embedded, &on_disk, &unloadable);
            if let Some(stale) = &stale {
                warn!("{stale}");
            }
            stale
        });
        stale.clone().map(plan::Warning::StaleBinary)
    }

    fn lock_request(&self) -> LockRequest {
        LockRequest { enabled: self.options.lock, wait: self.options.lock_wait, strategy: self.options.lock_strategy }
    }

    async fn lock(&self) -> Result<LockGuard<D::Conn>, Error> {
        let session = self.driver.open(&self.options.table, self.lock_request()).await?;
        Ok(LockGuard { session: Some(session) })
    }

    /// Runs `work` on a locked session; the guard releases the lock whatever happens.
    async fn with_lock<T>(
        &self,
        work: impl AsyncFnOnce(&Self, &mut dyn Session<D::Conn>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut guard = self.lock().await?;
        let result = match guard.session() {
            Ok(session) => work(self, session).await,
            Err(e) => Err(e),
        };
        guard.release(result).await
    }

    async fn run_locked(
        &self,
        session: &mut dyn Session<D::Conn>,
        phases: Phases,
        target: Option<Version>,
    ) -> Result<Report, Error> {
        let history = self.prepare(session).await?;
        let plan = self.plan_up(&history.rows, phases, target)?;
        log_plan(&plan);
        let mut report = Report::from_plan(&plan, true);
        for (rank, planned) in (plan.next_rank..).zip(&plan.apply) {
            let m = self.get(planned.version)?;
            let step = m.up();
            let statements = statements_of(&step)?;
            let job =
                self.job(m, Direction::Up, step, statements, 0, row_for(m, rank, self.statement_count(&step)?), false)?;
            report.record(self.execute(session, job, None).await?);
        }
        if report.steps.is_empty() {
            info!("nothing to apply: another process applied the pending migrations first");
        }
        Ok(report)
    }

    async fn revert(&self, target: DownTarget) -> Result<Report, Error> {
        let span = info_span!("migrate_down", table = %self.options.table, target = ?target);
        self.with_lock(async |this: &Self, session: &mut dyn Session<D::Conn>| {
            let history = this.prepare(session).await?;
            let available = this.available();
            let plan = plan_down(&available, &history.rows, target)?;
            let mut report = Report { locked: true, ..Report::default() };
            for planned in plan {
                let m = this.get(planned.version)?;
                let existing = history.get(planned.version).map_or(0, |r| r.rank);
                let Down::Step(step) = m.down() else { continue };
                let statements = statements_of(&step)?;
                let job = this.job(
                    m,
                    Direction::Down,
                    step,
                    statements,
                    0,
                    row_for(m, existing, this.statement_count(&step)?),
                    true,
                )?;
                report.record(this.execute(session, job, None).await?);
            }
            Ok(report)
        })
        .instrument(span)
        .await
    }

    async fn resume_inner(&self, skip: bool) -> Result<Report, Error> {
        let span = info_span!("migrate_resume", table = %self.options.table, skip);
        self.with_lock(async |this: &Self, session: &mut dyn Session<D::Conn>| {
            let history = this.prepare(session).await?;
            let (row, direction) = plan::plan_resume_target(&this.available(), &history.rows)?;
            let m = this.get(row.version)?;
            let step = match (direction, m.down()) {
                (Direction::Down, Down::Step(step)) => step,
                (Direction::Down, _) => {
                    return Err(plan::PlanError::ResumeNoDown { version: row.version, name: row.name.clone() }.into());
                }
                (Direction::Up, _) => m.up(),
            };
            let records = match step.body {
                Body::Sql(script) => Some(script.statement_records()?),
                Body::Rust(_) => None,
            };
            let resume = plan_resume(row, m.meta().origin(), records.as_deref(), skip)?;
            let statements = statements_of(&step)?;
            let total = this.statement_count(&step)?;
            let start = resume.start.min(total as usize);
            info!(version = %row.version, statement = start + 1, skip, "resuming");
            let job = this.job(m, direction, step, statements, start, row_for(m, row.rank, total), true)?;
            let mut report = Report { locked: true, ..Report::default() };
            report.record(this.execute(session, job, Some(start + 1)).await?);
            Ok(report)
        })
        .instrument(span)
        .await
    }

    /// Creates or upgrades the history table under the lock and reads it; refuses a layout
    /// newer than this build's.
    async fn prepare(&self, session: &mut dyn Session<D::Conn>) -> Result<History, Error> {
        let history = session.prepare().await?;
        check_layout(&self.options.table, &history)?;
        Ok(history)
    }

    fn get(&self, version: Version) -> Result<&dyn Migration<D::Conn>, Error> {
        self.set.get(version).ok_or_else(|| plan::PlanError::NotInBinary { version }.into())
    }

    #[allow(clippy::too_many_arguments)]
    fn job<'a>(
        &self,
        m: &'a dyn Migration<D::Conn>,
        direction: Direction,
        step: Step<'a, D::Conn>,
        statements: &'a [Statement],
        start: usize,
        mut row: RowWrite,
        row_exists: bool,
    ) -> Result<Job<'a, D::Conn>, Error> {
        let mode = self.step_plan(&step)?.mode;
        row.state = start_state(mode, direction);
        row.statements_done = u32::try_from(start).unwrap_or(u32::MAX);
        if let (plan::Mode::Stepwise, Body::Sql(script)) = (mode, step.body) {
            row.statements = script.statement_records()?;
        }
        Ok(Job {
            migration: m,
            direction,
            step,
            mode,
            statements,
            start,
            row,
            row_exists,
            lock_timeout: step.settings.lock_timeout.or(self.options.lock_timeout),
            statement_timeout: step.settings.statement_timeout,
        })
    }

    async fn execute(
        &self,
        session: &mut dyn Session<D::Conn>,
        job: Job<'_, D::Conn>,
        resumed_at: Option<usize>,
    ) -> Result<Result<StepReport, Skipped>, Error> {
        let meta = job.migration.meta();
        let direction = job.direction;
        let span = info_span!(
            "migration",
            version = %meta.version(),
            name = %meta.name(),
            phase = %meta.phase(),
            direction = %direction,
        );
        let verb = match direction {
            Direction::Up => "applied",
            Direction::Down => "reverted",
        };
        let Executed { statements, duration } = match session.execute_unless_done(job).instrument(span).await? {
            Outcome::Executed(executed) => executed,
            Outcome::DoneElsewhere => {
                info!(version = %meta.version(), name = %meta.name(), "another process {verb} migration {} {} meanwhile", meta.version(), meta.name());
                return Ok(Err(Skipped {
                    version: meta.version(),
                    name: meta.name().to_owned(),
                    reason: SkipReason::DoneElsewhere { direction },
                }));
            }
        };
        info!(
            version = %meta.version(),
            name = %meta.name(),
            phase = %meta.phase(),
            duration_ms = duration.as_millis() as u64,
            statements,
            "{verb} migration {} {} in {}",
            meta.version(),
            meta.name(),
            human(duration)
        );
        Ok(Ok(StepReport {
            version: meta.version(),
            name: meta.name().to_owned(),
            phase: meta.phase(),
            direction,
            duration,
            statements,
            resumed_at,
        }))
    }
}

fn statements_of<'a, C: ?Sized>(step: &Step<'a, C>) -> Result<&'a [Statement], Error> {
    match step.body {
        Body::Sql(script) => script.statements(),
        Body::Rust(_) => Ok(&[]),
    }
}

/// The history row of a migration, before the state and progress are decided.
fn row_for<C: ?Sized>(m: &dyn Migration<C>, rank: i64, total: u32) -> RowWrite {
    let meta = m.meta();
    RowWrite {
        version: meta.version(),
        name: meta.name().to_owned(),
        phase: meta.phase(),
        state: State::Applied,
        checksum: meta.checksum().as_str().to_owned(),
        down_checksum: meta.down_checksum().map(|c| c.as_str().to_owned()),
        rank,
        statements_total: total,
        statements_done: 0,
        statements: Vec::new(),
        execution_time: None,
        note: None,
    }
}

fn check_layout(table: &HistoryTable, history: &History) -> Result<(), Error> {
    if history.layout > LAYOUT {
        return Err(Error::HistoryLayout { table: table.to_string(), found: history.layout, supported: LAYOUT });
    }
    Ok(())
}

fn log_plan(plan: &UpPlan) {
    for skipped in &plan.skipped {
        warn!(version = %skipped.version, name = %skipped.name, "skipped: {}", skip_text(skipped));
    }
    for warning in &plan.warnings {
        warn!("{warning}");
    }
}
