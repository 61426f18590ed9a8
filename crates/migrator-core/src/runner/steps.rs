//! One step of a run: how it runs (the planner's decision), the job handed to the session,
//! and what its execution reports.

use std::time::Instant;

use tracing::{Instrument, info, info_span, warn};

use crate::driver::{Driver, Executed, Job, Outcome, RepeatableJob, Session};
use crate::error::{Error, LockWaits, MigrationFailure};
use crate::history::RowWrite;
use crate::migration::{Body, Migration, Step};
use crate::plan::{self, SkipReason, Skipped, StepKind, StepPlan, start_state, step_plan};
use crate::report::{RepeatableReport, StepReport};
use crate::split::Statement;
use crate::text::human;
use crate::version::Direction;

use super::migrator::Migrator;

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
    /// The planner's decision of how `step` runs on this backend.
    pub(super) fn step_plan(&self, step: &Step<'_, D::Conn>) -> Result<StepPlan, Error> {
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
    pub(super) fn statement_count(&self, step: &Step<'_, D::Conn>) -> Result<u32, Error> {
        Ok(u32::try_from(self.step_plan(step)?.statements).unwrap_or(u32::MAX))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn job<'a>(
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

    /// Executes `job`; when it gives up waiting for a lock, runs it again as the planner
    /// decides ([`plan::decide_retry`]), and before a statement runs again (here, or on
    /// `resume`: `resumed_at`) does what the planner says it needs ([`plan::rerun_guard`]).
    pub(super) async fn execute(
        &self,
        session: &mut dyn Session<D::Conn>,
        job: Job<'_, D::Conn>,
        resumed_at: Option<usize>,
    ) -> Result<Result<StepReport, Skipped>, Error> {
        if let Some(report) = self.execute_backfill(session, &job).await {
            return Ok(Ok(report?));
        }
        let migration = job.migration;
        let meta = migration.meta();
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
        let retry = self.options.lock_retry;
        let started = Instant::now();
        let mut job = job;
        let mut attempt: u32 = 1;
        let mut dropped = Vec::new();
        let outcome = loop {
            if resumed_at.is_some() || attempt > 1 {
                self.guard_rerun(session, &job, &mut dropped).instrument(span.clone()).await?;
            }
            // The job as it was, to run again.
            let copy = rerun(&job, job.start, job.row_exists);
            let mode = job.mode;
            let mut failure = match session.execute_unless_done(job).instrument(span.clone()).await {
                Ok(outcome) => break outcome,
                Err(Error::MigrationFailed { failure }) => failure,
                Err(e) => return Err(e),
            };
            failure.invalid_index = invalid_index(&copy, failure.statement);
            if !failure.is_lock_timeout() {
                return Err(Error::MigrationFailed { failure });
            }
            let failed = lock_timed_out(mode, &failure, attempt, started);
            match plan::decide_retry(retry, &failed) {
                plan::RetryDecision::Retry { attempt: next, pause } => {
                    let at = failure
                        .statement
                        .map_or_else(String::new, |s| format!(" at statement {s} of {}", failure.total));
                    warn!(
                        version = %meta.version(),
                        name = %meta.name(),
                        statement = failure.statement,
                        attempt,
                        attempts = retry.attempts,
                        wait_ms = pause.as_millis() as u64,
                        "migration {} {} waited longer than its lock timeout{at} (attempt {attempt} of {}): {}; trying again in {}",
                        meta.version(),
                        meta.name(),
                        retry.attempts,
                        failure.message,
                        human(pause),
                    );
                    session.pause(pause).await?;
                    job = match (mode, failure.statement) {
                        (plan::Mode::Stepwise, Some(statement)) => rerun(&copy, statement.saturating_sub(1), true),
                        _ => copy,
                    };
                    attempt = next;
                }
                plan::RetryDecision::Stop(reason) => {
                    failure.lock_waits = Some(self.lock_waits(attempt, started, reason));
                    return Err(Error::MigrationFailed { failure });
                }
            }
        };
        let Executed { statements, duration } = match outcome {
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
        if direction == Direction::Down {
            self.forget_backfill(session, migration).await?;
        }
        let lock_retries = attempt - 1;
        // A retried step's time counts from its first attempt.
        let duration = if lock_retries > 0 { started.elapsed() } else { duration };
        info!(
            version = %meta.version(),
            name = %meta.name(),
            phase = %meta.phase(),
            duration_ms = duration.as_millis() as u64,
            statements,
            lock_retries,
            "{verb} migration {} {} in {}{}",
            meta.version(),
            meta.name(),
            human(duration),
            match lock_retries {
                0 => String::new(),
                1 => " after 1 retry on lock timeout".to_owned(),
                n => format!(" after {n} retries on lock timeout"),
            }
        );
        Ok(Ok(StepReport {
            version: meta.version(),
            name: meta.name().to_owned(),
            phase: meta.phase(),
            direction,
            duration,
            statements,
            resumed_at,
            lock_retries,
            dropped_invalid_indexes: dropped,
        }))
    }

    /// What a step that gave up waiting for a lock tells the operator: its `attempts` since
    /// `started`, why the retries stopped, and how to find the blocker.
    fn lock_waits(&self, attempts: u32, started: Instant, reason: plan::StopReason) -> LockWaits {
        let dialect = self.driver.capabilities().dialect;
        LockWaits::new(attempts, started.elapsed(), reason.text(self.options.lock_retry), plan::find_blocker(dialect))
    }

    /// Runs the jobs of one group ([`plan::plan_groups`]): a lone job as itself; several in
    /// one transaction, or one by one when the session finds one of them done elsewhere.
    pub(super) async fn execute_group(
        &self,
        session: &mut dyn Session<D::Conn>,
        mut jobs: Vec<Job<'_, D::Conn>>,
    ) -> Result<Vec<Result<StepReport, Skipped>>, Error> {
        let (first, last) = match (jobs.first(), jobs.last()) {
            (Some(first), Some(last)) if jobs.len() > 1 => {
                (first.migration.meta().version(), last.migration.meta().version())
            }
            _ => {
                return match jobs.pop() {
                    Some(job) => Ok(vec![self.execute(session, job, None).await?]),
                    None => Ok(Vec::new()),
                };
            }
        };
        let span = info_span!("group", first = %first, last = %last, migrations = jobs.len());
        let retry = self.options.lock_retry;
        let started = Instant::now();
        let mut attempt: u32 = 1;
        // A group is one transaction: a lock timeout rolled all of it back, so it runs again
        // whole, as the planner decides for any transactional step.
        let result = loop {
            let (mut failure, group) = match session.execute_group(&jobs).instrument(span.clone()).await {
                Err(Error::GroupFailed { failure, group, at_commit }) if !at_commit && failure.is_lock_timeout() => {
                    (failure, group)
                }
                other => break other?,
            };
            let failed = lock_timed_out(plan::Mode::Transactional, &failure, attempt, started);
            match plan::decide_retry(retry, &failed) {
                plan::RetryDecision::Retry { attempt: next, pause } => {
                    warn!(
                        first = %first,
                        last = %last,
                        version = %failure.version,
                        attempt,
                        attempts = retry.attempts,
                        wait_ms = pause.as_millis() as u64,
                        "the group of migrations {first} to {last} waited longer than a lock timeout in migration {} \
                         (attempt {attempt} of {}): {}; the group was rolled back whole, trying it again in {}",
                        failure.version,
                        retry.attempts,
                        failure.message,
                        human(pause),
                    );
                    session.pause(pause).await?;
                    attempt = next;
                }
                plan::RetryDecision::Stop(reason) => {
                    failure.lock_waits = Some(self.lock_waits(attempt, started, reason));
                    return Err(Error::GroupFailed { failure, group, at_commit: false });
                }
            }
        };
        let lock_retries = attempt - 1;
        let Some(executed) = result else {
            info!(first = %first, last = %last, "another process changed the history meanwhile: running the group's migrations one by one");
            let mut reports = Vec::with_capacity(jobs.len());
            for job in jobs {
                reports.push(self.execute(session, job, None).await?);
            }
            return Ok(reports);
        };
        let total: std::time::Duration = executed.iter().map(|e| e.duration).sum();
        let retried = match lock_retries {
            0 => String::new(),
            1 => " after 1 retry on lock timeout".to_owned(),
            n => format!(" after {n} retries on lock timeout"),
        };
        info!(first = %first, last = %last, migrations = jobs.len(), lock_retries, "applied {} migrations in one transaction in {}{retried}", jobs.len(), human(total));
        Ok(jobs
            .iter()
            .zip(executed)
            .map(|(job, Executed { statements, duration })| {
                let meta = job.migration.meta();
                info!(
                    version = %meta.version(),
                    name = %meta.name(),
                    phase = %meta.phase(),
                    duration_ms = duration.as_millis() as u64,
                    statements,
                    "applied migration {} {} in {} (grouped)",
                    meta.version(),
                    meta.name(),
                    human(duration)
                );
                Ok(StepReport {
                    version: meta.version(),
                    name: meta.name().to_owned(),
                    phase: meta.phase(),
                    direction: Direction::Up,
                    duration,
                    statements,
                    resumed_at: None,
                    lock_retries,
                    dropped_invalid_indexes: Vec::new(),
                })
            })
            .collect())
    }

    /// Before the statement `job` starts at runs again: drops the INVALID index a failed
    /// `CREATE INDEX CONCURRENTLY` left, or warns that an unnamed one cannot be found.
    async fn guard_rerun(
        &self,
        session: &mut dyn Session<D::Conn>,
        job: &Job<'_, D::Conn>,
        dropped: &mut Vec<String>,
    ) -> Result<(), Error> {
        let (plan::Mode::Stepwise, Body::Sql(script)) = (job.mode, job.step.body) else { return Ok(()) };
        let Some(statement) = job.statements.get(job.start) else { return Ok(()) };
        let meta = job.migration.meta();
        let number = job.start + 1;
        match plan::rerun_guard(script.dialect(), script.statement_text(statement)) {
            None => {}
            Some(plan::RerunGuard::DropInvalidIndex(index)) => {
                if let Some(name) = session.drop_invalid_index(&index, job.lock_timeout).await? {
                    warn!(
                        version = %meta.version(),
                        name = %meta.name(),
                        statement = number,
                        index = %name,
                        "migration {} {}: statement {number} failed before and left index {name} INVALID; dropped it \
                         (DROP INDEX CONCURRENTLY) so that the statement builds it again",
                        meta.version(),
                        meta.name(),
                    );
                    dropped.push(name);
                }
            }
            Some(plan::RerunGuard::UnnamedIndex { table }) => {
                warn!(
                    version = %meta.version(),
                    name = %meta.name(),
                    statement = number,
                    "migration {} {}: statement {number} builds an unnamed index on {table} concurrently; if its earlier \
                     run failed it left an INVALID index whose name PostgreSQL chose, which migrator cannot tell from \
                     others and does not drop: find it with `{}` and drop it (DROP INDEX CONCURRENTLY), and name the \
                     index in the script",
                    meta.version(),
                    meta.name(),
                    plan::FIND_INVALID_INDEXES,
                );
            }
        }
        Ok(())
    }

    /// Runs the repeatable migration `name` in the mode the planner decides.
    pub(super) async fn execute_repeatable(
        &self,
        session: &mut dyn Session<D::Conn>,
        name: &str,
    ) -> Result<RepeatableReport, Error> {
        let Some(repeatable) = self.set.repeatables().find(|r| r.name() == name) else {
            return Err(plan::PlanError::RepeatableNotInBinary { name: name.to_owned() }.into());
        };
        let script = repeatable.script();
        let statements = script.statements()?;
        let caps = self.driver.capabilities();
        let commits_implicitly =
            statements.iter().any(|s| crate::classify::commits_implicitly(caps.dialect, script.statement_text(s)));
        let kind = StepKind::Sql { statements: statements.len(), commits_implicitly };
        let mode = step_plan(caps.transactional_ddl, script.directives().no_transaction, kind).mode;
        let job = RepeatableJob {
            name,
            script,
            statements,
            mode,
            lock_timeout: script.directives().lock_timeout.or(self.options.lock_timeout),
            statement_timeout: script.directives().statement_timeout,
        };
        let span = info_span!("repeatable", name = %name);
        let Executed { statements, duration } = session.execute_repeatable(job).instrument(span).await?;
        info!(name = %name, duration_ms = duration.as_millis() as u64, statements, "applied repeatable {name} in {}", human(duration));
        Ok(RepeatableReport { name: name.to_owned(), duration, statements })
    }
}

/// The index statement `statement` (1-based) of a statement-by-statement `job` builds
/// concurrently, which its failure may have left INVALID.
fn invalid_index<C: ?Sized>(job: &Job<'_, C>, statement: Option<usize>) -> Option<String> {
    let (plan::Mode::Stepwise, Body::Sql(script)) = (job.mode, job.step.body) else { return None };
    let statement = job.statements.get(statement?.checked_sub(1)?)?;
    match plan::rerun_guard(script.dialect(), script.statement_text(statement))? {
        plan::RerunGuard::DropInvalidIndex(index) => Some(index.index),
        plan::RerunGuard::UnnamedIndex { .. } => None,
    }
}

/// `job` to run again from statement `start` (0-based): after a rolled-back transaction, from
/// where it started; after a recorded statement failure, from that statement, its row
/// existing now.
fn rerun<'a, C: ?Sized>(job: &Job<'a, C>, start: usize, row_exists: bool) -> Job<'a, C> {
    let mut row = job.row.clone();
    row.state = start_state(job.mode, job.direction);
    row.statements_done = u32::try_from(start).unwrap_or(u32::MAX);
    Job {
        migration: job.migration,
        direction: job.direction,
        step: job.step,
        mode: job.mode,
        statements: job.statements,
        start,
        row,
        row_exists,
        lock_timeout: job.lock_timeout,
        statement_timeout: job.statement_timeout,
    }
}

/// The planner's view of attempt `attempt` of a step run in `mode`, which gave up waiting for
/// a lock as `failure` says, `started` being the first attempt's start.
fn lock_timed_out(mode: plan::Mode, failure: &MigrationFailure, attempt: u32, started: Instant) -> plan::FailedAttempt {
    plan::FailedAttempt {
        lock_timeout: true,
        mode,
        outcome: failure.outcome,
        statement: failure.statement,
        attempt,
        elapsed: started.elapsed(),
    }
}
