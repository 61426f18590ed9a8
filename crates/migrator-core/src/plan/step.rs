//! How one step runs: in one transaction with its history write, or statement by statement
//! with progress recorded, and the state its history row starts in.

use crate::history::State;
use crate::version::Direction;

/// How a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In one transaction with its history write: all or nothing.
    Transactional,
    /// Statement by statement, recording progress after each, so a failure can be resumed.
    Stepwise,
}

/// What a step is, as far as choosing its mode goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// An SQL script of this many statements; `commits_implicitly` when one of them is a
    /// statement the database commits by itself (DDL on MySQL).
    Sql {
        /// Statements in the script.
        statements: usize,
        /// Whether a statement commits implicitly.
        commits_implicitly: bool,
    },
    /// Rust code (one "statement").
    Rust,
}

/// Why a step runs in its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModeReason {
    /// The database runs it and its history write atomically.
    Atomic,
    /// The script says `-- migrator:no-transaction`.
    NoTransaction,
    /// A statement commits implicitly (MySQL DDL), so the script cannot be atomic.
    ImplicitCommit,
}

/// The planner's decision for one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepPlan {
    /// How it runs.
    pub mode: Mode,
    /// Why.
    pub reason: ModeReason,
    /// Statements it runs (1 for Rust code).
    pub statements: usize,
}

/// Decides how a step runs on a database with (or without) transactional DDL.
pub fn step_plan(transactional_ddl: bool, no_transaction: bool, kind: StepKind) -> StepPlan {
    let statements = match kind {
        StepKind::Sql { statements, .. } => statements,
        StepKind::Rust => 1,
    };
    let (mode, reason) = match kind {
        _ if no_transaction => (Mode::Stepwise, ModeReason::NoTransaction),
        // Without transactional DDL a script is atomic only when nothing in it commits
        // implicitly (DML, SELECT, SET); one DDL statement makes it stepwise.
        StepKind::Sql { commits_implicitly: true, .. } if !transactional_ddl => {
            (Mode::Stepwise, ModeReason::ImplicitCommit)
        }
        _ => (Mode::Transactional, ModeReason::Atomic),
    };
    StepPlan { mode, reason, statements }
}

/// The state a step's history row is written with before (stepwise) or with (transactional)
/// its statements: a transactional up commits as applied; everything else records that it
/// is under way, so a crash reads as interrupted.
pub fn start_state(mode: Mode, direction: Direction) -> State {
    match (mode, direction) {
        (Mode::Transactional, Direction::Up) => State::Applied,
        (Mode::Stepwise, Direction::Up) => State::Running,
        (_, Direction::Down) => State::Reverting,
    }
}

/// The state a step's row takes when one of its statements fails.
pub fn failed_state(direction: Direction) -> State {
    match direction {
        Direction::Up => State::Failed,
        Direction::Down => State::RevertFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let sql = |commits| StepKind::Sql { statements: 3, commits_implicitly: commits };
        // (transactional DDL, no-transaction directive, kind) -> (mode, reason)
        let cases = [
            (true, false, sql(true), Mode::Transactional, ModeReason::Atomic),
            (true, true, sql(false), Mode::Stepwise, ModeReason::NoTransaction),
            (false, false, sql(false), Mode::Transactional, ModeReason::Atomic),
            (false, false, sql(true), Mode::Stepwise, ModeReason::ImplicitCommit),
            (false, true, sql(true), Mode::Stepwise, ModeReason::NoTransaction),
            (true, false, StepKind::Rust, Mode::Transactional, ModeReason::Atomic),
            (false, false, StepKind::Rust, Mode::Transactional, ModeReason::Atomic),
            (true, true, StepKind::Rust, Mode::Stepwise, ModeReason::NoTransaction),
        ];
        for (ddl, no_tx, kind, mode, reason) in cases {
            let plan = step_plan(ddl, no_tx, kind);
            assert_eq!((plan.mode, plan.reason), (mode, reason), "{ddl} {no_tx} {kind:?}");
        }
        assert_eq!(step_plan(true, false, sql(false)).statements, 3);
        assert_eq!(step_plan(true, false, StepKind::Rust).statements, 1);
    }

    #[test]
    fn start_states() {
        assert_eq!(start_state(Mode::Transactional, Direction::Up), State::Applied);
        assert_eq!(start_state(Mode::Stepwise, Direction::Up), State::Running);
        assert_eq!(start_state(Mode::Transactional, Direction::Down), State::Reverting);
        assert_eq!(start_state(Mode::Stepwise, Direction::Down), State::Reverting);
        assert_eq!(failed_state(Direction::Up), State::Failed);
        assert_eq!(failed_state(Direction::Down), State::RevertFailed);
    }
}
