//! [`Migrator`]: what a run does, step by step, and the reads (`status`, `validate`, `plan`)
//! that never take the lock.

use std::time::{Duration, Instant};

use tracing::{Instrument, debug, info, info_span};

use crate::adopt::{Adopt, ForeignTool};
use crate::capabilities::LockStrategy;
use crate::driver::{Driver, LockRequest, Locking, Session};
use crate::error::Error;
use crate::history::{History, HistoryRow, HistoryTable, LAYOUT, RepeatableRow, State};
use crate::migration::{Body, Down, Migration, squashes_of};
use crate::plan::{
    self, Available, AvailableRepeatable, AvailableSquash, DownKind, DownTarget, Policy, UpInput, UpPlan, plan_down,
    plan_repeatables, plan_up,
};
use crate::report::{Report, Status, Validation};
use crate::set::MigrationSet;
use crate::version::{Direction, Phases, Version};

use super::expected::Expected;
use super::guard::LockGuard;
use super::rows::{check_layout, log_plan, row_for, statements_of};

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
    /// How often a migration that gave up waiting for a table lock is tried, and for how long.
    pub lock_retry: plan::LockRetry,
    /// Out-of-order and unknown-version policy.
    pub policy: Policy,
    /// Take the migration lock (disable only where the database cannot lock).
    pub lock: bool,
    /// Which lock.
    pub lock_strategy: LockStrategy,
    /// Apply migrations in a database without migrator history even when another tool's
    /// history table there records applied migrations (default: refuse, and say to adopt).
    pub ignore_foreign_history: bool,
    /// Grouped apply: a run's consecutive transactional migrations in one transaction
    /// ([`MigratorBuilder::grouped`](crate::MigratorBuilder::grouped)).
    pub grouped: bool,
}

/// Applies, reverts and inspects one application's migrations on one database.
///
/// Build it once (cheap: scripts are split only when they run) and call [`Migrator::run`]
/// at startup. Every method that changes the database takes the migration lock; `run`
/// skips it when the history says there is nothing to do.
#[derive(Debug)]
pub struct Migrator<D: Driver> {
    pub(super) driver: D,
    pub(super) set: MigrationSet<D::Conn>,
    pub(super) options: Options,
    /// Whether the binary is stale, found once (debug builds: see
    /// [`crate::plan::Warning::StaleBinary`]).
    pub(super) stale: std::sync::OnceLock<Option<crate::plan::StaleBinary>>,
    /// Histories in which `run` has nothing to do, with their digests: every migration
    /// applied, and (when the set has contract migrations) every expand one applied.
    pub(super) noop: Vec<Expected>,
    /// Adopt this tool's history when a run finds migrator's history without rows.
    pub(super) adopt: Option<Adopt>,
}

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
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
            let candidates = self.noop_candidates(phases, target);
            let digests: Vec<String> = candidates.iter().map(|e| e.digest.clone()).collect();
            // The whole run waits at most the lock wait, however often it starts over.
            let began = Instant::now();
            let deadline = began.checked_add(self.options.lock_wait);
            loop {
                let (history, matched, probe) = self.driver.probe_expecting(&self.options.table, &digests).await?;
                if let Some(history) = &history {
                    // When the server found an expected history, its rows are the expected ones.
                    let expected = matched.and_then(|i| candidates.get(i)).copied();
                    if let Some(report) = self.nothing_to_do(history, expected, phases, target)? {
                        return Ok(report);
                    }
                }
                let mut request = self.lock_request();
                if let Some(deadline) = deadline {
                    request.wait = deadline.saturating_duration_since(Instant::now());
                }
                // After a start over, a timeout counts the whole wait, not its last part.
                let locking = match probe.lock_or_released(request).await {
                    Err(Error::LockTimeout { lock, holder, .. }) => {
                        Err(Error::LockTimeout { waited: began.elapsed(), lock, holder })
                    }
                    other => other,
                };
                let session = match locking? {
                    Locking::Taken(session) => session,
                    // The holder released the lock and another waiter took it: if the history
                    // read then leaves nothing to do, this run is done without the lock;
                    // otherwise it starts over (and waits for the new holder).
                    Locking::Released(history) => match self.nothing_to_do(&history, None, phases, target)? {
                        Some(report) => {
                            debug!("the migration lock's holder left nothing to do");
                            return Ok(report);
                        }
                        None => continue,
                    },
                };
                let mut guard = LockGuard { session: Some(session) };
                let result = match guard.session() {
                    Ok(session) => self.run_locked(session, phases, target).await,
                    Err(e) => Err(e),
                };
                let mut report = guard.release(result).await?;
                report.warnings.extend(self.stale_warning());
                return Ok(report);
            }
        }
        .instrument(span)
        .await
    }

    /// The histories in which a run of `phases` up to `target` has nothing to do.
    pub(super) fn noop_candidates(&self, phases: Phases, target: Option<Version>) -> Vec<&Expected> {
        match (target, phases) {
            (None, Phases::All) => self.noop.iter().filter(|e| !e.expand_only).collect(),
            (None, Phases::Expand) => self.noop.iter().collect(),
            _ => Vec::new(),
        }
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
        let mut history = history;
        // Rows a squash migration cannot stand for are shown as they are, the squash blocked.
        let blocked = match history.as_mut().map(|h| self.fold(h)).transpose() {
            Ok(_) => None,
            Err(_) => {
                let rows = history.as_ref().map(|h| h.rows.as_slice()).unwrap_or_default();
                self.available_squashes().iter().find_map(|squash| {
                    plan::fold_squashed(std::slice::from_ref(squash), rows).err().map(|e| (squash.version, e))
                })
            }
        };
        let rows = history.as_ref().map(|h| h.rows.as_slice()).unwrap_or_default();
        let repeatable_rows = history.as_ref().map(|h| h.repeatables.as_slice()).unwrap_or_default();
        let repeatables = plan::repeatable_status(&self.available_repeatables(), repeatable_rows);
        let mut migrations = plan::status(&self.available(), rows);
        if let Some((version, problem)) = blocked {
            plan::mark_blocked(&mut migrations, version, problem);
        }
        // A row in progress is interrupted only if nobody is running it: ask who holds the lock.
        if plan::any_interrupted(&migrations)
            && let Some(holder) = self.driver.lock_holder(&self.options.table).await?
        {
            plan::mark_running(&mut migrations, &holder);
        }
        Ok(Status { history_exists: history.is_some(), migrations, repeatables })
    }

    /// Every problem that would stop a run (and every warning), read without the lock.
    pub async fn validate(&self) -> Result<Validation, Error> {
        let Some(mut history) = self.driver.read_history(&self.options.table).await? else {
            return Ok(Validation::default());
        };
        check_layout(&self.options.table, &history)?;
        if let Err(problem) = self.fold(&mut history) {
            return Ok(Validation { problems: vec![problem], warnings: Vec::new() });
        }
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
        let mut history = self.driver.read_history(&self.options.table).await?;
        if let Some(history) = &mut history {
            check_layout(&self.options.table, history)?;
            self.fold(history)?;
        }
        let rows = history.as_ref().map(|h| h.rows.as_slice()).unwrap_or_default();
        let repeatables = history.as_ref().map(|h| h.repeatables.as_slice()).unwrap_or_default();
        self.plan_up(rows, repeatables, phases, target)
    }

    pub(super) fn available(&self) -> Vec<Available<'_>> {
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

    /// The squash migrations of the set, as the planner sees them.
    pub(super) fn available_squashes(&self) -> Vec<AvailableSquash<'_>> {
        self.set
            .iter()
            .filter_map(|m| {
                let squashes = squashes_of(m);
                let meta = m.meta();
                (!squashes.is_empty()).then(|| AvailableSquash {
                    version: meta.version(),
                    name: meta.name(),
                    origin: meta.origin(),
                    phase: meta.phase(),
                    checksum: meta.checksum().as_str(),
                    squashes,
                })
            })
            .collect()
    }

    /// Reads the rows of migrations applied one by one and squashed since as their squash
    /// migration's row (the planner checks them).
    pub(super) fn fold(&self, history: &mut History) -> Result<(), plan::PlanError> {
        if let Some(rows) = plan::fold_squashed(&self.available_squashes(), &history.rows)? {
            history.rows = rows;
        }
        Ok(())
    }

    /// The repeatables of the set, as the planner sees them.
    pub(super) fn available_repeatables(&self) -> Vec<AvailableRepeatable<'_>> {
        self.set
            .repeatables()
            .map(|r| AvailableRepeatable { name: r.name(), checksum: r.checksum().as_str() })
            .collect()
    }

    /// Plans an up run: the versioned migrations, then (without a target) the repeatables
    /// that are new or changed.
    pub(super) fn plan_up(
        &self,
        rows: &[HistoryRow],
        repeatables: &[RepeatableRow],
        phases: Phases,
        target: Option<Version>,
    ) -> Result<UpPlan, Error> {
        let available = self.available();
        let mut plan =
            plan_up(&UpInput { available: &available, history: rows, policy: self.options.policy, phases, target })?;
        plan.repeatables = plan_repeatables(&self.available_repeatables(), repeatables, target)
            .into_iter()
            .map(str::to_owned)
            .collect();
        Ok(plan)
    }

    /// The report of a run with nothing to do in `history` (read without the lock), or
    /// `None` when it must take the lock: something to apply, a row in progress (only under
    /// the lock can a live run be told apart from an interrupted one) or a layout to upgrade.
    /// `expected`: the no-op history the server matched, whose rows stand for the history's.
    fn nothing_to_do(
        &self,
        history: &History,
        expected: Option<&Expected>,
        phases: Phases,
        target: Option<Version>,
    ) -> Result<Option<Report>, Error> {
        check_layout(&self.options.table, history)?;
        let folded;
        let (rows, repeatables) = match expected {
            Some(expected) => (expected.rows.as_slice(), expected.repeatables.as_slice()),
            None => {
                folded = plan::fold_squashed(&self.available_squashes(), &history.rows)?;
                (folded.as_deref().unwrap_or(&history.rows), history.repeatables.as_slice())
            }
        };
        if rows.iter().any(|r| matches!(r.state, State::Running | State::Reverting)) {
            return Ok(None);
        }
        let plan = self.plan_up(rows, repeatables, phases, target)?;
        if !(plan.apply.is_empty() && plan.repeatables.is_empty() && history.layout == LAYOUT) {
            return Ok(None);
        }
        log_plan(&plan);
        let mut report = Report::from_plan(&plan, false);
        report.warnings.extend(self.stale_warning());
        Ok(Some(report))
    }

    pub(super) fn lock_request(&self) -> LockRequest {
        LockRequest { enabled: self.options.lock, wait: self.options.lock_wait, strategy: self.options.lock_strategy }
    }

    pub(super) async fn lock(&self) -> Result<LockGuard<D::Conn>, Error> {
        let session = self.driver.open(&self.options.table, self.lock_request()).await?;
        Ok(LockGuard { session: Some(session) })
    }

    /// Runs `work` on a locked session; the guard releases the lock whatever happens.
    pub(super) async fn with_lock<T>(
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

    pub(super) async fn run_locked(
        &self,
        session: &mut dyn Session<D::Conn>,
        phases: Phases,
        target: Option<Version>,
    ) -> Result<Report, Error> {
        let mut history = self.prepare(session).await?;
        // Adopting at startup: only into a history without rows, so a version migrator
        // reverted later is never adopted again from the other tool's table.
        if let Some(from) = &self.adopt
            && history.rows.is_empty()
        {
            let table = from.foreign_table()?;
            let adopted = self.adopt_locked(session, from, &table, &history.rows, true).await?;
            if !adopted.adopt.is_empty() {
                history = session.read().await?;
                self.fold(&mut history)?;
            }
        } else if history.rows.is_empty() {
            let found = self.foreign_histories(session).await?;
            plan::check_foreign_histories(&found, self.options.ignore_foreign_history)?;
        }
        let plan = self.plan_up(&history.rows, &history.repeatables, phases, target)?;
        log_plan(&plan);
        let mut report = Report::from_plan(&plan, true);
        let mut jobs = Vec::with_capacity(plan.apply.len());
        for (rank, planned) in (plan.next_rank..).zip(&plan.apply) {
            let m = self.get(planned.version)?;
            let step = m.up();
            let statements = statements_of(&step)?;
            jobs.push(self.job(
                m,
                Direction::Up,
                step,
                statements,
                0,
                row_for(m, rank, self.statement_count(&step)?),
                false,
            )?);
        }
        // Each pending migration alone, or (grouped apply) runs of them in one transaction.
        let steps: Vec<plan::GroupStep> = jobs
            .iter()
            .map(|job| plan::GroupStep { mode: job.mode, rust: matches!(job.step.body, Body::Rust(_)) })
            .collect();
        let mut jobs = jobs.into_iter();
        // A failure names what this run applied before it (committed, whatever fails next).
        let applied_before =
            |report: &Report, error: Error| error.with_applied_before(report.applied().map(|s| s.version));
        for range in plan::plan_groups(self.options.grouped, &steps) {
            let group: Vec<_> = jobs.by_ref().take(range.len()).collect();
            if let Err(e) = self.check_required_backfills(session, &group).await {
                return Err(applied_before(&report, e));
            }
            match self.execute_group(session, group).await {
                Ok(steps) => steps.into_iter().for_each(|step| report.record(step)),
                Err(e) => return Err(applied_before(&report, e)),
            }
        }
        // Repeatables after the versioned migrations, in name order: they may use what the
        // versions just made.
        for name in &plan.repeatables {
            match self.execute_repeatable(session, name).await {
                Ok(step) => report.repeatables.push(step),
                Err(e) => return Err(applied_before(&report, e)),
            }
        }
        if report.is_noop() {
            info!("nothing to apply: another process applied the pending migrations first");
        }
        Ok(report)
    }

    pub(super) async fn revert(&self, target: DownTarget) -> Result<Report, Error> {
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

    /// Creates or upgrades the history table under the lock and reads it; refuses a layout
    /// newer than this build's.
    /// Other tools' histories in their default tables, read on a first run: a table that is
    /// missing, or of another shape than the tool's, is no tool's history.
    async fn foreign_histories(&self, session: &mut dyn Session<D::Conn>) -> Result<Vec<plan::ForeignFound>, Error> {
        let mut found = Vec::new();
        let names = ForeignTool::ALL.map(ForeignTool::default_table);
        let present = session.tables_present(&names).await?;
        for tool in ForeignTool::ALL.into_iter().filter(|t| present.iter().any(|p| p == t.default_table())) {
            let table = Adopt::new(tool).foreign_table()?;
            let rows = match session.read_foreign(&table).await {
                Ok(Some(rows)) => rows,
                Ok(None) => continue,
                Err(e) => {
                    tracing::debug!(table = %table, error = %e, "not {}'s history table", tool.name());
                    continue;
                }
            };
            let applied = match crate::adopt::decode(tool, &table.to_string(), &rows) {
                Ok(records) => plan::applied_records(&records),
                Err(_) => usize::from(!rows.is_empty()),
            };
            found.push(plan::ForeignFound { tool, table: table.to_string(), applied });
        }
        Ok(found)
    }

    pub(super) async fn prepare(&self, session: &mut dyn Session<D::Conn>) -> Result<History, Error> {
        let mut history = session.prepare().await?;
        check_layout(&self.options.table, &history)?;
        self.fold(&mut history)?;
        Ok(history)
    }

    pub(super) fn get(&self, version: Version) -> Result<&dyn Migration<D::Conn>, Error> {
        self.set.get(version).ok_or_else(|| plan::PlanError::NotInBinary { version }.into())
    }
}
