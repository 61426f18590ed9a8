//! The error type of migrator-core and of the drivers built on it.

use std::fmt;
use std::time::Duration;

use crate::plan::PlanError;
use crate::version::{Direction, Version};

/// A boxed error from a database driver or from a Rust-code migration.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One problem in a migration file or directory, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file (or directory), as the user wrote or sees it.
    pub path: String,
    /// 1-based line, when the problem is inside the file.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// What a failed migration left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// It ran in a transaction that was rolled back: no trace, nothing applied.
    RolledBack,
    /// It ran statement by statement; the statements before the failed one took effect and
    /// the history row records the failure.
    Recorded,
    /// It ran statement by statement and recording the failure failed too (the connection
    /// was lost): the next run reports the migration as interrupted.
    NotRecorded,
}

/// A failed migration step: which migration, which statement, what was left behind.
#[derive(Debug, thiserror::Error)]
#[error("{}", display_failure(self))]
#[non_exhaustive]
pub struct MigrationFailure {
    /// The migration's version.
    pub version: Version,
    /// The migration's name.
    pub name: String,
    /// Its file (or Rust type).
    pub origin: String,
    /// Applying (up) or reverting (down).
    pub direction: Direction,
    /// 1-based index of the failing statement; `None` when the failure came at commit
    /// (for example a deferred constraint).
    pub statement: Option<usize>,
    /// How many statements the script has.
    pub total: usize,
    /// 1-based line of the failing statement in the file.
    pub line: Option<usize>,
    /// The failing statement's first line.
    pub snippet: String,
    /// The database's (or the Rust code's) message.
    pub message: String,
    /// What was left behind.
    pub outcome: FailureOutcome,
    /// The underlying error.
    #[source]
    pub source: BoxError,
}

impl MigrationFailure {
    /// Describes a failure; `source`'s message becomes the failure's message.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        version: Version,
        name: impl Into<String>,
        origin: impl Into<String>,
        direction: Direction,
        statement: Option<usize>,
        total: usize,
        line: Option<usize>,
        snippet: impl Into<String>,
        outcome: FailureOutcome,
        source: BoxError,
    ) -> Self {
        MigrationFailure {
            version,
            name: name.into(),
            origin: origin.into(),
            direction,
            statement,
            total,
            line,
            snippet: snippet.into(),
            message: source.to_string(),
            outcome,
            source,
        }
    }
}

impl From<MigrationFailure> for Error {
    fn from(failure: MigrationFailure) -> Self {
        Error::MigrationFailed { failure: Box::new(failure) }
    }
}

/// Everything that can go wrong, each variant carrying what an operator needs to act.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Migration files or directories that cannot be used.
    #[error("{}", display_load_errors(errors))]
    Load {
        /// Every problem found, in file order.
        errors: Vec<LoadError>,
    },

    /// A version that is zero or negative.
    #[error("{value} is not a migration version: versions are positive integers")]
    InvalidVersion {
        /// The rejected value.
        value: i64,
    },

    /// A configured name (history table, schema, migration name) that cannot be used.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName {
        /// Which setting.
        what: &'static str,
        /// The rejected value.
        value: String,
        /// Why, and what is allowed.
        reason: String,
    },

    /// Two migrations of one set share a version.
    #[error("two migrations have version {version}: {first} and {second}; give one of them a new version")]
    DuplicateVersion {
        /// The shared version.
        version: Version,
        /// Where the first one comes from.
        first: String,
        /// Where the second one comes from.
        second: String,
    },

    /// The history and the migrations disagree, or a requested operation is impossible.
    #[error(transparent)]
    Plan {
        /// The planner's finding.
        #[from]
        source: PlanError,
    },

    /// A migration's up or down step failed in the database (or its Rust code failed).
    #[error(transparent)]
    MigrationFailed {
        /// Which migration, which statement, what was left behind.
        failure: Box<MigrationFailure>,
    },

    /// Another process held the migration lock for longer than the configured wait.
    #[error("{}", display_lock_timeout(*waited, lock, holder.as_deref()))]
    LockTimeout {
        /// How long this process waited.
        waited: Duration,
        /// The lock (key or name) that was contended.
        lock: String,
        /// Who holds it, as far as the database tells.
        holder: Option<String>,
    },

    /// The lease lock was taken over by another process (or could not be renewed) while this
    /// one held it: this process stopped, and the fence kept it from writing history after.
    #[error(
        "the migration lock was lost: {lock}: {reason}. This process stopped and recorded nothing after losing it; \
         the current holder carries on. Run `status` to see where the history stands; if holders lose the lease \
         while alive, raise its time to live"
    )]
    LockLost {
        /// The lock (lease table, key, token).
        lock: String,
        /// What happened.
        reason: String,
    },

    /// The lock strategy cannot work on this connection (a session lock behind a
    /// transaction-mode pooler).
    #[error(
        "the migration lock is not safe on this connection: {reason}. Use the lease lock (`LockStrategy::lease()`, \
         CLI `--lock-strategy lease`), or connect without the pooler (or through a session-mode pool)"
    )]
    LockUnsafe {
        /// What was detected.
        reason: String,
    },

    /// The history table was written by a newer migrator release.
    #[error(
        "history table {table} has layout {found}, but this build of migrator understands layouts up to {supported}: \
         upgrade migrator in this application (a newer release has already migrated this database)"
    )]
    HistoryLayout {
        /// The history table.
        table: String,
        /// The layout the table records.
        found: i64,
        /// The newest layout this build knows.
        supported: i64,
    },

    /// A history row that cannot be read.
    #[error("history table {table} has an unreadable row for version {version}: {message}")]
    CorruptHistory {
        /// The history table.
        table: String,
        /// The row's version.
        version: i64,
        /// What is wrong with it.
        message: String,
    },

    /// A database error outside a migration's own statements.
    #[error("{context}: {source}")]
    Database {
        /// What migrator was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// A database error while doing `context`.
    pub fn database(context: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Database { context: context.into(), source: source.into() }
    }

    /// A single load problem.
    pub fn load(path: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Error {
        Error::Load { errors: vec![LoadError { path: path.into(), line, column: None, message: message.into() }] }
    }
}

fn display_load_errors(errors: &[LoadError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let mut text = format!("{} problems in migration files:", many.len());
            for error in many {
                text.push_str("\n  ");
                text.push_str(&error.to_string());
            }
            text
        }
    }
}

fn display_failure(failure: &MigrationFailure) -> String {
    let MigrationFailure {
        version, name, origin, direction, statement, total, line, snippet, message, outcome, ..
    } = failure;
    let what = match direction {
        Direction::Up => "migration",
        Direction::Down => "down migration",
    };
    let mut text = format!("{what} {version} `{name}` ({origin}) failed ");
    match statement {
        Some(index) => {
            text.push_str(&format!("at statement {index} of {total}"));
            if let Some(line) = line {
                text.push_str(&format!(" (line {line})"));
            }
        }
        None => text.push_str("at commit"),
    }
    text.push_str(&format!(": {message}"));
    if !snippet.is_empty() {
        text.push_str(&format!("\n  statement: {snippet}"));
    }
    let resume = match direction {
        Direction::Up => "resume",
        Direction::Down => "resume (it continues the down script)",
    };
    let advice = match (outcome, statement) {
        (FailureOutcome::RolledBack, _) => {
            "\n  the transaction was rolled back, nothing of it was applied: fix the script and run again".to_owned()
        }
        (FailureOutcome::Recorded, Some(index)) => format!(
            "\n  statements before {index} took effect and the failure is recorded: fix statement {index} and run `{resume}`, \
             or `resume --skip` if it took effect after all, or repair by hand and `force {version}`"
        ),
        (FailureOutcome::Recorded, None) => format!(
            "\n  the failure is recorded: fix the script and run `{resume}`, or repair by hand and `force {version}`"
        ),
        (FailureOutcome::NotRecorded, _) => format!(
            "\n  the failure could not be recorded (connection lost): the next run reports migration {version} as \
             interrupted; check whether the statement took effect, then `resume` or `resume --skip`"
        ),
    };
    text.push_str(&advice);
    text
}

fn display_lock_timeout(waited: Duration, lock: &str, holder: Option<&str>) -> String {
    let mut text = format!("gave up after waiting {} for the migration lock ({lock})", crate::report::human(waited));
    match holder {
        Some(holder) => text.push_str(&format!(
            "; it is held by {holder}. If that process is stuck, stop it; otherwise wait longer (lock wait option)"
        )),
        None => text.push_str("; its holder could not be identified (it may have just released it): try again"),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_errors_name_file_and_line() {
        let one = Error::Load {
            errors: vec![LoadError {
                path: "migrations/1_a.up.sql".into(),
                line: Some(3),
                column: Some(5),
                message: "bad".into(),
            }],
        };
        assert_eq!(one.to_string(), "migrations/1_a.up.sql:3:5: bad");
        let two = Error::Load {
            errors: vec![
                LoadError { path: "a".into(), line: None, column: None, message: "x".into() },
                LoadError { path: "b".into(), line: Some(1), column: None, message: "y".into() },
            ],
        };
        assert_eq!(two.to_string(), "2 problems in migration files:\n  a: x\n  b:1: y");
    }

    #[test]
    fn failure_messages_say_what_to_do() {
        let failed = |outcome, statement| {
            Error::from(MigrationFailure::new(
                Version::new(3).unwrap(),
                "add_users",
                "migrations/3_add_users.up.sql",
                Direction::Up,
                statement,
                3,
                Some(7),
                "INSERT INTO nope VALUES (1)",
                outcome,
                "relation \"nope\" does not exist".into(),
            ))
        };
        let text = failed(FailureOutcome::RolledBack, Some(2)).to_string();
        assert!(text.starts_with("migration 3 `add_users` (migrations/3_add_users.up.sql) failed at statement 2 of 3 (line 7): relation \"nope\" does not exist"), "{text}");
        assert!(text.contains("rolled back"), "{text}");
        let text = failed(FailureOutcome::Recorded, Some(2)).to_string();
        assert!(text.contains("fix statement 2 and run `resume`"), "{text}");
        let text = failed(FailureOutcome::NotRecorded, Some(2)).to_string();
        assert!(text.contains("interrupted"), "{text}");
        let text = failed(FailureOutcome::RolledBack, None).to_string();
        assert!(text.contains("failed at commit"), "{text}");
    }

    #[test]
    fn lock_timeout_names_the_holder() {
        let e = Error::LockTimeout {
            waited: Duration::from_secs(2),
            lock: "advisory lock 42".into(),
            holder: Some("pid 7 (application 'api')".into()),
        };
        assert_eq!(
            e.to_string(),
            "gave up after waiting 2s for the migration lock (advisory lock 42); it is held by pid 7 (application 'api'). \
             If that process is stuck, stop it; otherwise wait longer (lock wait option)"
        );
    }
}
