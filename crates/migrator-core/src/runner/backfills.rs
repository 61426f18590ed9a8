//! Backfills in a run: a migration with the `backfill` directive runs in batches (the engine
//! of [`crate::backfill`]) and is recorded applied once the backfill finished; a migration
//! that requires a backfill runs only once it finished (the planner decides).

use tracing::{Instrument, info, info_span};

use crate::backfill::Backfill;
use crate::driver::{Driver, HistoryChange, Job, Session};
use crate::error::Error;
use crate::history::State;
use crate::migration::Body;
use crate::plan::{self, RequiredBackfillCheck};
use crate::report::StepReport;
use crate::text::human;
use crate::version::Direction;

use super::migrator::Migrator;

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
    /// Refuses (as the planner decides) a job whose migration requires a backfill that has
    /// not finished, before anything of it runs.
    pub(super) async fn check_required_backfills(
        &self,
        session: &mut dyn Session<D::Conn>,
        jobs: &[Job<'_, D::Conn>],
    ) -> Result<(), Error> {
        for job in jobs.iter().filter(|job| job.direction == Direction::Up) {
            let Body::Sql(script) = job.step.body else { continue };
            let required = &script.directives().requires_backfill;
            if required.is_empty() {
                continue;
            }
            let meta = job.migration.meta();
            let mut conn = session.backfill_conn()?;
            for backfill in required {
                let progress = conn.progress(&backfill.name).await?;
                plan::check_required_backfill(&RequiredBackfillCheck {
                    version: meta.version(),
                    migration: meta.name(),
                    backfill: &backfill.name,
                    progress: progress.as_ref(),
                })?;
            }
        }
        Ok(())
    }

    /// After `migration` was reverted: forgets its backfill's progress (if its up script runs
    /// one), so that applying it again runs the backfill again.
    pub(super) async fn forget_backfill(
        &self,
        session: &mut dyn Session<D::Conn>,
        migration: &dyn crate::migration::Migration<D::Conn>,
    ) -> Result<(), Error> {
        let Body::Sql(script) = migration.up().body else { return Ok(()) };
        if script.directives().backfill.is_none() {
            return Ok(());
        }
        let name = migration.meta().name();
        session.backfill_conn()?.forget(name).await?;
        info!(version = %migration.meta().version(), backfill = %name, "migration {} reverted: forgot the progress of backfill {name}", migration.meta().version());
        Ok(())
    }

    /// Runs a migration with the `backfill` directive (`None` for any other job): its
    /// statement in batches, resuming after the last committed batch of an earlier run, then
    /// records the migration applied. Nothing is recorded until the backfill finished.
    pub(super) async fn execute_backfill(
        &self,
        session: &mut dyn Session<D::Conn>,
        job: &Job<'_, D::Conn>,
    ) -> Option<Result<StepReport, Error>> {
        let Body::Sql(script) = job.step.body else { return None };
        let directive = script.directives().backfill.as_ref()?;
        if job.direction != Direction::Up {
            return None;
        }
        let meta = job.migration.meta();
        let span = info_span!("migration", version = %meta.version(), name = %meta.name(), backfill = true);
        let run = async {
            let statement = job.statements.first().map(|s| script.statement_text(s)).unwrap_or("");
            let backfill = Backfill::from_directive(meta.name(), directive, statement, job.lock_timeout)?;
            let report = {
                let mut conn = session.backfill_conn()?;
                backfill.run(&mut *conn).await?
            };
            let mut row = job.row.clone();
            row.state = State::Applied;
            row.statements_done = row.statements_total;
            row.execution_time = Some(report.duration);
            session.change(HistoryChange::Upsert(vec![row])).await?;
            info!(
                version = %meta.version(),
                name = %meta.name(),
                phase = %meta.phase(),
                duration_ms = report.duration.as_millis() as u64,
                statements = 1,
                rows = report.rows,
                "applied migration {} {} in {} (backfill: {} rows in {} batches{})",
                meta.version(),
                meta.name(),
                human(report.duration),
                report.rows,
                report.batches,
                if report.rows_done > report.rows {
                    format!(", {} rows in all, resumed", report.rows_done)
                } else {
                    String::new()
                }
            );
            Ok(StepReport {
                version: meta.version(),
                name: meta.name().to_owned(),
                phase: meta.phase(),
                direction: Direction::Up,
                duration: report.duration,
                statements: 1,
                resumed_at: None,
                lock_retries: 0,
                dropped_invalid_indexes: Vec::new(),
            })
        };
        Some(run.instrument(span).await)
    }
}
