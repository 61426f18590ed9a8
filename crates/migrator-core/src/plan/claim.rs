//! Whether a step may go on when its history row, re-read inside the step's own
//! transaction, is not what the run planned: a backend without a lock that outlives a
//! transaction (SQLite) re-reads the row first, so a run without the migration lock never
//! applies a migration twice.

use crate::error::PlanError;
use crate::history::{HistoryRow, State};
use crate::version::{Direction, Version};

use super::up::dirty_error;

/// What the runner planned for a step, as far as claiming it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimStep {
    /// The migration.
    pub version: Version,
    /// Applying or reverting.
    pub direction: Direction,
    /// 0-based statement it starts at (after `resume`).
    pub start: usize,
    /// Whether the plan saw a history row for it (resume, down).
    pub row_exists: bool,
}

/// What to do with a step whose row, re-read inside its transaction, is what [`claim`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// As planned: go on.
    Proceed,
    /// Another process did it: skip it.
    DoneElsewhere,
    /// Something else happened to the row: stop, with this error.
    Refuse(PlanError),
}

/// Decides what to do with a planned step given its history row as it is now.
pub fn claim(planned: ClaimStep, row: Option<&HistoryRow>) -> Claim {
    let ClaimStep { version, direction, start, row_exists } = planned;
    // A row that appeared since the plan (a run without the lock): another process's
    // no-transaction migration, still running or dead (without the lock there is no telling),
    // or failed.
    let busy_elsewhere = |row: &HistoryRow| match row.state {
        State::Running => Claim::Refuse(PlanError::StartedElsewhere { version, direction: Direction::Up }),
        State::Reverting => Claim::Refuse(PlanError::StartedElsewhere { version, direction: Direction::Down }),
        _ => match dirty_error(row) {
            Some(e) => Claim::Refuse(e),
            None => Claim::DoneElsewhere,
        },
    };
    let progressed = |row: &HistoryRow| usize::try_from(row.statements_done).unwrap_or(usize::MAX) > start;
    match (direction, row) {
        (Direction::Up, None) if row_exists => Claim::Refuse(PlanError::RemovedElsewhere { version }),
        (Direction::Up, None) => Claim::Proceed,
        (Direction::Up, Some(row)) if row.state == State::Applied => Claim::DoneElsewhere,
        (Direction::Up, Some(row)) if matches!(row.state, State::Running | State::Failed) => {
            if row_exists && !progressed(row) { Claim::Proceed } else { busy_elsewhere(row) }
        }
        (Direction::Down, None) => Claim::DoneElsewhere,
        (Direction::Down, Some(row)) if row.state == State::Applied => Claim::Proceed,
        (Direction::Down, Some(row)) if matches!(row.state, State::Reverting | State::RevertFailed) => {
            if row_exists && start > 0 && !progressed(row) { Claim::Proceed } else { busy_elsewhere(row) }
        }
        (_, Some(row)) => match dirty_error(row) {
            Some(e) => Claim::Refuse(e),
            None => Claim::Proceed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testkit::{row, v};

    fn planned(direction: Direction, start: usize, row_exists: bool) -> ClaimStep {
        ClaimStep { version: v(2), direction, start, row_exists }
    }

    fn at(state: State, done: u32) -> HistoryRow {
        HistoryRow { state, statements_total: 3, statements_done: done, name: "a".into(), ..row(2, 1) }
    }

    fn verdict(claim: Claim) -> String {
        match claim {
            Claim::Proceed => "proceed".to_owned(),
            Claim::DoneElsewhere => "done elsewhere".to_owned(),
            Claim::Refuse(e) => format!("refuse: {e}"),
        }
    }

    #[test]
    fn applying() {
        let fresh = planned(Direction::Up, 0, false);
        assert_eq!(verdict(claim(fresh, None)), "proceed");
        assert_eq!(verdict(claim(fresh, Some(&at(State::Applied, 3)))), "done elsewhere");
        let running = verdict(claim(fresh, Some(&at(State::Running, 1))));
        assert!(running.contains("another process started applying it statement by statement"), "{running}");
        let failed = verdict(claim(fresh, Some(&at(State::Failed, 1))));
        assert!(failed.contains("migration 2 `a` failed"), "{failed}");
    }

    #[test]
    fn resuming() {
        let resume = planned(Direction::Up, 1, true);
        assert_eq!(verdict(claim(resume, Some(&at(State::Failed, 1)))), "proceed");
        assert_eq!(verdict(claim(resume, Some(&at(State::Running, 1)))), "proceed");
        assert_eq!(verdict(claim(resume, Some(&at(State::Applied, 3)))), "done elsewhere");
        assert!(verdict(claim(resume, Some(&at(State::Running, 2)))).starts_with("refuse"), "it progressed");
        assert!(verdict(claim(resume, None)).contains("removed its history row"));
    }

    #[test]
    fn reverting() {
        let down = planned(Direction::Down, 0, true);
        assert_eq!(verdict(claim(down, Some(&at(State::Applied, 3)))), "proceed");
        assert_eq!(verdict(claim(down, None)), "done elsewhere");
        assert!(verdict(claim(down, Some(&at(State::Reverting, 1)))).contains("started reverting"));
        let resume = planned(Direction::Down, 1, true);
        assert_eq!(verdict(claim(resume, Some(&at(State::RevertFailed, 1)))), "proceed");
        let failed_elsewhere = verdict(claim(down, Some(&at(State::Failed, 1))));
        assert!(failed_elsewhere.contains("migration 2 `a` failed"), "{failed_elsewhere}");
    }
}
