//! The operations beside `run` and `down`: `resume`, `force`, `repair`, `baseline`, and how
//! a migration would run (`up_plan`). Each asks the planner, then writes under the lock.

use tracing::{Instrument, info, info_span};

use crate::driver::{Driver, HistoryChange, Session};
use crate::error::Error;
use crate::history::{RowWrite, State};
use crate::migration::{Body, Down};
use crate::plan::{self, StepPlan, plan_resume};
use crate::report::{Repaired, Report};
use crate::version::{Direction, Version};

use super::migrator::Migrator;
use super::rows::{row_for, statements_of};

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
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

    pub(super) async fn resume_inner(&self, skip: bool) -> Result<Report, Error> {
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
}
