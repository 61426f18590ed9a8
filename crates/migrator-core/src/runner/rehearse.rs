//! [`Migrator::rehearse`]: apply the migrations before the rehearsed ones, fill the tables
//! the rehearsed ones touch, then apply each while the backend watches (see
//! [`crate::rehearse`]).

use std::time::Instant;

use tracing::info;

use crate::driver::Body;
use crate::error::Error;
use crate::lint::explain::explain;
use crate::migration::Migration;
use crate::plan::judge;
use crate::rehearse::{Rehearsal, Rehearse, RehearseOptions, Rehearsed};
use crate::version::{Phases, Version};

use super::migrator::Migrator;

/// The tables `m`'s up script touches, as the linter reads its statements (and the tables
/// the foreign keys it adds reference), each once, in the order first named.
pub(crate) fn touched<C: ?Sized>(m: &dyn Migration<C>) -> Result<Vec<String>, Error> {
    let Body::Sql(script) = m.up().body else { return Ok(Vec::new()) };
    let statements = script.statements()?;
    let mut tables: Vec<String> = Vec::new();
    for effect in explain(script.text(), statements, script.dialect()) {
        for table in effect.table.into_iter().chain(effect.references) {
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
    }
    Ok(tables)
}

impl<D: Rehearse> Migrator<D>
where
    D::Conn: 'static,
{
    /// Rehearses the migrations from [`RehearseOptions::start`] on, on this migrator's
    /// database, which must be a scratch database (it gets filled with generated rows): the
    /// earlier migrations are applied first, unmeasured; then the tables the rehearsed
    /// migrations touch are filled with [`RehearseOptions::rows`] rows each; then each
    /// rehearsed migration is applied, all phases, while the backend's [`crate::rehearse::Watch`]
    /// runs, and judged against the thresholds. A migration that fails ends the rehearsal
    /// with its error.
    pub async fn rehearse(&self, options: &RehearseOptions) -> Result<Rehearsal, Error> {
        let mut report = Rehearsal {
            filled: Vec::new(),
            fill_duration: std::time::Duration::ZERO,
            migrations: Vec::new(),
            thresholds: options.thresholds,
        };
        let Some(start) = options.start else { return Ok(report) };
        let before: Option<Version> = self.set.iter().map(|m| m.meta().version()).filter(|v| *v < start).last();
        if let Some(before) = before {
            self.run_with(Phases::All, Some(before.get())).await?;
        }
        let rehearsed: Vec<&dyn Migration<D::Conn>> = self.set.iter().filter(|m| m.meta().version() >= start).collect();
        let mut all: Vec<String> = Vec::new();
        for m in &rehearsed {
            for table in touched(*m)? {
                if !all.contains(&table) {
                    all.push(table);
                }
            }
        }
        let filling = Instant::now();
        report.filled = self.driver.fill(&all, options.rows).await?;
        report.fill_duration = filling.elapsed();
        info!(tables = report.filled.len(), rows = options.rows, "filled the tables to rehearse on");
        for m in rehearsed {
            let meta = m.meta();
            let tables = touched(m)?;
            let watch = self.driver.watch(&tables).await?;
            let started = Instant::now();
            let applied = self.run_with(Phases::All, Some(meta.version().get())).await;
            let duration = started.elapsed();
            let measured = watch.finish().await;
            applied?;
            let mut measured = measured?;
            measured.duration = duration;
            let judgement = judge(&measured, &options.thresholds);
            info!(version = %meta.version(), verdict = judgement.verdict.as_str(), "rehearsed");
            report.migrations.push(Rehearsed {
                version: meta.version(),
                name: meta.name().to_owned(),
                tables,
                measured,
                judgement,
            });
        }
        Ok(report)
    }
}
