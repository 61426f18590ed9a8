//! `adopt`: reads another tool's history and migrator's, asks the planner what to record,
//! and writes every adopted migration in one transaction under the migration lock. The
//! other tool's table is only read.

use tracing::{info, warn};

use crate::adopt::{Adopt, ForeignRow, ForeignTable, ForeignTool, checksums, decode};
use crate::driver::{Driver, HistoryChange, Session};
use crate::error::Error;
use crate::history::{HistoryRow, RowWrite, State};
use crate::migration::{Body, Migration};
use crate::plan::{self, AdoptFile, AdoptInput, AdoptPlan, FileSum};

use super::migrator::Migrator;
use super::rows::{check_layout, row_for};

/// What [`Migrator::adopt`] recorded, or what [`Migrator::adopt_dry_run`] would record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// The planner's answer: the migrations adopted (with their notes and ranks), those
    /// recorded already, those pending, and what was left aside.
    pub plan: AdoptPlan,
    /// Whether history rows were written (`false` in a dry run, and when every migration
    /// was recorded already).
    pub recorded: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
    /// Adopts another tool's history: every migration it applied is recorded as applied in
    /// migrator's history (with a note `adopted from {tool} (version …)`), in one
    /// transaction under the migration lock, after checking each file against the checksum
    /// the tool kept. Refuses a failed or dirty history (saying how to recover with that
    /// tool), an applied migration this binary lacks or whose file changed since, and rows of
    /// migrator's history that disagree. Adopting again records nothing new. The other
    /// tool's table is left as it is.
    pub async fn adopt(&self, from: &Adopt) -> Result<Adoption, Error> {
        let table = from.foreign_table()?;
        // The guard inline rather than `with_lock`'s async closure, so the future is `Send`
        // for any lifetime (an application spawns it).
        let mut guard = self.lock().await?;
        let result = match guard.session() {
            Ok(session) => self.adopt_session(session, from, &table).await,
            Err(e) => Err(e),
        };
        guard.release(result).await
    }

    async fn adopt_session(
        &self,
        session: &mut dyn Session<D::Conn>,
        from: &Adopt,
        table: &ForeignTable,
    ) -> Result<Adoption, Error> {
        let history = self.prepare(session).await?;
        let plan = self.adopt_locked(session, from, table, &history.rows, false).await?;
        let recorded = !plan.adopt.is_empty();
        Ok(Adoption { plan, recorded, dry_run: false })
    }

    /// What [`Migrator::adopt`] would record, read without the lock; nothing is written.
    pub async fn adopt_dry_run(&self, from: &Adopt) -> Result<Adoption, Error> {
        let table = from.foreign_table()?;
        let history = self.driver.read_history(&self.options.table).await?;
        if let Some(history) = &history {
            check_layout(&self.options.table, history)?;
        }
        let rows = history.as_ref().map(|h| h.rows.as_slice()).unwrap_or_default();
        let foreign = self.driver.read_foreign(&table).await?;
        let plan = self.plan_adoption(from, &table, foreign, rows, false)?;
        Ok(Adoption { plan, recorded: false, dry_run: true })
    }

    /// Reads the tool's table on the locked session, plans, and writes the adopted rows.
    /// `missing_ok`: a missing table means nothing to adopt (adopting at startup).
    pub(super) async fn adopt_locked(
        &self,
        session: &mut dyn Session<D::Conn>,
        from: &Adopt,
        table: &ForeignTable,
        history: &[HistoryRow],
        missing_ok: bool,
    ) -> Result<AdoptPlan, Error> {
        let foreign = session.read_foreign(table).await?;
        let plan = self.plan_adoption(from, table, foreign, history, missing_ok)?;
        for warning in &plan.warnings {
            warn!(tool = %from.tool(), "{warning}");
        }
        if plan.adopt.is_empty() {
            return Ok(plan);
        }
        let mut rows = Vec::with_capacity(plan.adopt.len());
        for adopted in &plan.adopt {
            let m = self.get(adopted.version)?;
            let total = self.statement_count(&m.up())?;
            rows.push(RowWrite {
                state: State::Applied,
                statements_done: total,
                note: Some(adopted.note.clone()),
                ..row_for(m, adopted.rank, total)
            });
        }
        session.change(HistoryChange::Upsert(rows)).await?;
        info!(
            tool = %from.tool(),
            table = %table,
            adopted = plan.adopt.len(),
            already = plan.already.len(),
            "adopted the other tool's history"
        );
        Ok(plan)
    }

    fn plan_adoption(
        &self,
        from: &Adopt,
        table: &ForeignTable,
        foreign: Option<Vec<ForeignRow>>,
        history: &[HistoryRow],
        missing_ok: bool,
    ) -> Result<AdoptPlan, Error> {
        let shown = table.to_string();
        let records = foreign.map(|rows| decode(from.tool(), &shown, &rows)).transpose()?;
        let files: Vec<AdoptFile<'_>> = self.set.iter().map(|m| adopt_file(from.tool(), m)).collect();
        Ok(plan::plan_adopt(&AdoptInput {
            tool: from.tool(),
            table: &shown,
            records: records.as_deref(),
            missing_ok,
            files: &files,
            history,
            accept_changed: from.accepts_changed_files(),
        })?)
    }
}

/// A migration as adoption sees it, with the tool's checksum of its file.
///
/// The bytes the other tool read are the up script's text: the loader keeps a script's text
/// exactly as the file holds it (no byte order mark dropped, no line ending changed).
fn adopt_file<'a, C: ?Sized>(tool: ForeignTool, m: &'a dyn Migration<C>) -> AdoptFile<'a> {
    let meta = m.meta();
    let tool_checksum = if !tool.keeps_checksums() {
        FileSum::Unavailable(format!("{tool} keeps no checksum"))
    } else {
        match m.up().body {
            Body::Sql(script) => {
                let text = script.text();
                match tool {
                    ForeignTool::Sqlx => FileSum::Value(checksums::sqlx(text.as_bytes())),
                    ForeignTool::Flyway => FileSum::Value(checksums::flyway(text)),
                    ForeignTool::Refinery => checksums::refinery(meta.name(), meta.version().get(), text)
                        .map_or_else(FileSum::Unavailable, FileSum::Value),
                    other => FileSum::Unavailable(format!("{other} keeps no checksum")),
                }
            }
            Body::Rust(_) => {
                FileSum::Unavailable(format!("it is a Rust-code migration here, with no file for {tool}'s checksum"))
            }
        }
    };
    AdoptFile {
        version: meta.version(),
        name: meta.name(),
        origin: meta.origin(),
        checksum: meta.checksum().as_str(),
        tool_checksum,
    }
}
