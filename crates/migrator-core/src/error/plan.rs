//! The planner's refusals: why a run (or a requested operation) must not proceed, each
//! with what to do next.

use crate::version::{Direction, Version};

/// Why a run (or a requested operation) must not proceed, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// An applied migration's file changed.
    #[error(
        "checksum mismatch for applied migration {version} `{name}` ({origin}): it was applied as {stored} but the \
         file now gives {current}. Applied migrations must not change: restore the file (git checkout), or, if the edit \
         is deliberate and harmless, run `repair` to record the new checksum"
    )]
    ChecksumMismatch {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
        /// Recorded checksum.
        stored: String,
        /// Current checksum.
        current: String,
    },

    /// A statement-by-statement migration failed at a recorded statement.
    #[error("{}", failed_text(*direction, *version, name, *statement, *total, *line, error))]
    Failed {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Applying or reverting.
        direction: Direction,
        /// 1-based failed statement.
        statement: Option<u32>,
        /// Statements in the script.
        total: u32,
        /// Line of the failed statement.
        line: Option<u32>,
        /// The recorded error.
        error: String,
    },

    /// A statement-by-statement migration was left running by a process that died.
    #[error("{}", interrupted_text(*direction, *version, name, *statement, *total, *line))]
    Interrupted {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Applying or reverting.
        direction: Direction,
        /// 1-based statement that was running.
        statement: u32,
        /// Statements in the script.
        total: u32,
        /// Its line.
        line: Option<u32>,
    },

    /// A pending migration older than the newest applied one of its phase.
    #[error(
        "migration {version} `{name}` is pending but migration {newest_applied} is already applied: it was probably \
         merged from a branch after a newer migration shipped. Give it a version newer than {newest_applied} \
         (rename the file), or allow out-of-order migrations if applying it late is safe"
    )]
    OutOfOrder {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Newest applied version of its phase.
        newest_applied: Version,
    },

    /// An applied version inside this binary's range that this binary does not know.
    #[error(
        "migration {version} `{name}` is applied in the database but this binary has no such migration, although it \
         knows migrations up to {newest_known}. The binary may have been built without a new migration file (cargo \
         does not notice new files by itself: add `migrator_core::build::watch_migrations(\"migrations\")` to build.rs), \
         or the file was deleted or renamed. Restore it, or ignore unknown versions if this is intended"
    )]
    UnknownApplied {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
        /// Newest version this binary knows.
        newest_known: Version,
    },

    /// Reverting reached an irreversible migration.
    #[error(
        "migration {version} `{name}` is irreversible ({reason}): nothing was reverted. Revert fewer steps, or restore \
         by other means and `force {version} --reverted`"
    )]
    Irreversible {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Its recorded reason.
        reason: String,
    },

    /// Reverting reached a migration without a down script.
    #[error(
        "migration {version} `{name}` ({origin}) has no down script: nothing was reverted. Write its down script, or \
         mark it `-- migrator:irreversible -- <reason>`"
    )]
    NoDown {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
    },

    /// Reverting reached an applied version this binary does not know.
    #[error(
        "cannot revert migration {version} `{name}`: this binary does not contain it (it was applied by another \
         release); nothing was reverted. Revert it with the release that has it"
    )]
    RevertUnknown {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },

    /// `resume` found nothing failed or interrupted.
    #[error("nothing to resume: no migration is failed or interrupted")]
    NothingToResume,

    /// The failed migration is not in this binary.
    #[error(
        "cannot resume migration {version} `{name}`: this binary does not contain it. Resume with the release that \
         applied it, or repair by hand and `force {version}`"
    )]
    ResumeUnknown {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },

    /// A statement that already ran was edited since.
    #[error(
        "cannot resume migration {version} `{name}` ({origin}): statement {statement} (line {line}) already ran but \
         has changed since. Only the failed statement and those after it may be edited: restore statement \
         {statement}, or repair by hand and `force {version}`"
    )]
    StatementChanged {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
        /// 1-based statement.
        statement: usize,
        /// Its recorded line.
        line: usize,
    },

    /// A requested version that is not applied (force --reverted) or not known (force).
    #[error("migration {version}: {reason}")]
    NotPossible {
        /// Version.
        version: Version,
        /// What is wrong.
        reason: String,
    },

    /// `baseline` on a database that already has history.
    #[error(
        "baseline refused: the history already records {rows} migration(s). Baseline adopts a database that has none; \
         use `force VERSION` to record single migrations"
    )]
    BaselineNotEmpty {
        /// Rows in history.
        rows: usize,
    },

    /// `baseline` below every known migration.
    #[error("baseline {version}: this binary has no migration at or below version {version}")]
    NothingToBaseline {
        /// The requested version.
        version: Version,
    },
}

fn failed_text(
    direction: Direction,
    version: Version,
    name: &str,
    statement: Option<u32>,
    total: u32,
    line: Option<u32>,
    error: &str,
) -> String {
    let what = match direction {
        Direction::Up => "migration",
        Direction::Down => "reverting migration",
    };
    let at = match (statement, line) {
        (Some(s), Some(l)) => format!(" at statement {s} of {total} (line {l})"),
        (Some(s), None) => format!(" at statement {s} of {total}"),
        (None, _) => String::new(),
    };
    let force = match direction {
        Direction::Up => format!("force {version}"),
        Direction::Down => format!("force {version} --reverted"),
    };
    format!(
        "{what} {version} `{name}` failed{at}: {error}. The statements before it took effect. Fix the failed statement \
         in the file and run `resume`; if it took effect after all, `resume --skip`; if you repaired the database by \
         hand, `{force}`"
    )
}

fn interrupted_text(
    direction: Direction,
    version: Version,
    name: &str,
    statement: u32,
    total: u32,
    line: Option<u32>,
) -> String {
    let what = match direction {
        Direction::Up => "migration",
        Direction::Down => "reverting migration",
    };
    let at = match line {
        Some(l) => format!("statement {statement} of {total} (line {l})"),
        None => format!("statement {statement} of {total}"),
    };
    let force = match direction {
        Direction::Up => format!("force {version}"),
        Direction::Down => format!("force {version} --reverted"),
    };
    format!(
        "{what} {version} `{name}` was interrupted at {at}: the process or its connection died while it ran, so that \
         statement may or may not have taken effect. Check the database, then `resume` to run it again, `resume --skip` \
         if it took effect, or `{force}` if you finished it by hand"
    )
}
