//! One step of a run: how it runs (the planner's decision), the job handed to the session,
//! and what its execution reports.

use tracing::{Instrument, info, info_span};

use crate::driver::{Driver, Executed, Job, Outcome, RepeatableJob, Session};
use crate::error::Error;
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

    pub(super) async fn execute(
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
        let Some(executed) = session.execute_group(&jobs).instrument(span).await? else {
            info!(first = %first, last = %last, "another process changed the history meanwhile: running the group's migrations one by one");
            let mut reports = Vec::with_capacity(jobs.len());
            for job in jobs {
                reports.push(self.execute(session, job, None).await?);
            }
            return Ok(reports);
        };
        let total: std::time::Duration = executed.iter().map(|e| e.duration).sum();
        info!(first = %first, last = %last, migrations = jobs.len(), "applied {} migrations in one transaction in {}", jobs.len(), human(total));
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
                })
            })
            .collect())
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
