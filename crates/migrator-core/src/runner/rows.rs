//! Small helpers of the runner that know nothing of the migrator: a step's statements, a
//! migration's history row, the layout check, logging a plan.

use tracing::warn;

use crate::error::Error;
use crate::history::{History, HistoryTable, LAYOUT, RowWrite, State};
use crate::migration::{Body, Migration, Step};
use crate::plan::UpPlan;
use crate::report::skip_text;
use crate::split::Statement;

pub(super) fn statements_of<'a, C: ?Sized>(step: &Step<'a, C>) -> Result<&'a [Statement], Error> {
    match step.body {
        Body::Sql(script) => script.statements(),
        Body::Rust(_) => Ok(&[]),
    }
}

/// The history row of a migration, before the state and progress are decided.
pub(super) fn row_for<C: ?Sized>(m: &dyn Migration<C>, rank: i64, total: u32) -> RowWrite {
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

pub(super) fn check_layout(table: &HistoryTable, history: &History) -> Result<(), Error> {
    if history.layout > LAYOUT {
        return Err(Error::HistoryLayout { table: table.to_string(), found: history.layout, supported: LAYOUT });
    }
    Ok(())
}

pub(super) fn log_plan(plan: &UpPlan) {
    for skipped in &plan.skipped {
        warn!(version = %skipped.version, name = %skipped.name, "skipped: {}", skip_text(skipped));
    }
    for warning in &plan.warnings {
        warn!("{warning}");
    }
}
