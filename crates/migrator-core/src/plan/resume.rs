//! Planning `resume` and `resume --skip`: which row, which statement, and that the statements
//! that ran are unchanged.

use crate::checksum::StatementRecord;
use crate::error::PlanError;
use crate::history::{HistoryRow, State};
use crate::version::Direction;

/// The dirty row `resume` works on.
pub(crate) fn find_dirty(history: &[HistoryRow]) -> Result<&HistoryRow, PlanError> {
    history.iter().find(|r| r.state.is_dirty()).ok_or(PlanError::NothingToResume)
}

/// Where a resumed migration continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumePlan {
    /// Applying or reverting.
    pub direction: Direction,
    /// 0-based index of the first statement to run.
    pub start: usize,
}

/// Plans `resume` (`skip = false`: re-run the failed or interrupted statement) or
/// `resume --skip` (count it as done). `current` holds the statements of the script as it is
/// now (for Rust code, `None`: it re-runs whole, or is skipped whole).
pub(crate) fn plan_resume(
    row: &HistoryRow,
    origin: &str,
    current: Option<&[StatementRecord]>,
    skip: bool,
) -> Result<ResumePlan, PlanError> {
    let direction = match row.state {
        State::Applied => return Err(PlanError::NothingToResume),
        State::Running | State::Failed => Direction::Up,
        State::Reverting | State::RevertFailed => Direction::Down,
    };
    let stuck = match row.state {
        State::Failed | State::RevertFailed => {
            row.failed_statement.map_or(row.statements_done, |s| s.saturating_sub(1))
        }
        _ => row.statements_done,
    };
    let stuck = usize::try_from(stuck).unwrap_or(usize::MAX);
    if let Some(current) = current {
        for (index, recorded) in row.statements.iter().enumerate().take(stuck) {
            if current.get(index).map(|c| &c.hash) != Some(&recorded.hash) {
                return Err(PlanError::StatementChanged {
                    version: row.version,
                    name: row.name.clone(),
                    origin: origin.to_owned(),
                    statement: index + 1,
                    line: recorded.line,
                });
            }
        }
    }
    Ok(ResumePlan { direction, start: if skip { stuck.saturating_add(1) } else { stuck } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testkit::{row, v};

    fn rec(line: usize, hash: &str) -> StatementRecord {
        StatementRecord { line, hash: hash.into() }
    }

    #[test]
    fn resume_checks_the_statements_that_ran() {
        let failed = HistoryRow {
            state: State::Failed,
            statements_total: 3,
            statements_done: 1,
            failed_statement: Some(2),
            statements: vec![rec(1, "a"), rec(3, "b"), rec(5, "c")],
            ..row(4, 1)
        };
        // Statement 2 was fixed: fine.
        let now = [rec(1, "a"), rec(3, "B"), rec(5, "c")];
        assert_eq!(
            plan_resume(&failed, "f", Some(&now), false).unwrap(),
            ResumePlan { direction: Direction::Up, start: 1 }
        );
        assert_eq!(plan_resume(&failed, "f", Some(&now), true).unwrap().start, 2);
        // Statement 1 changed: refused.
        let now = [rec(1, "A"), rec(3, "b"), rec(5, "c")];
        let e = plan_resume(&failed, "f", Some(&now), false).unwrap_err();
        assert_eq!(
            e,
            PlanError::StatementChanged { version: v(4), name: "m4".into(), origin: "f".into(), statement: 1, line: 1 }
        );
        // Interrupted while reverting at statement 1 of a Rust step.
        let reverting = HistoryRow { state: State::Reverting, statements_total: 1, statements_done: 0, ..row(4, 1) };
        assert_eq!(
            plan_resume(&reverting, "f", None, false).unwrap(),
            ResumePlan { direction: Direction::Down, start: 0 }
        );
        assert_eq!(find_dirty(&[row(1, 1)]).unwrap_err(), PlanError::NothingToResume);
        assert_eq!(find_dirty(&[row(1, 1), reverting.clone()]).unwrap().version, v(4));
    }
}
