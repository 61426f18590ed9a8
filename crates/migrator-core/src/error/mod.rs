//! The error type of migrator-core and of the drivers built on it.

//!
//! Errors sit at the bottom of the crate's layers: they name versions, files and lines, and
//! depend on nothing above the version and text modules.

mod database;
mod failure;
mod load;
mod plan;

use std::time::Duration;

use crate::text::human;
use crate::version::{InvalidVersion, Version};

pub use database::DatabaseError;
pub use failure::{BoxError, FailureOutcome, LockWaits, MigrationFailure, RepeatableFailure};
pub use load::LoadError;
pub(crate) use load::{Problem, ProblemKind};
pub use plan::PlanError;

impl From<MigrationFailure> for Error {
    fn from(failure: MigrationFailure) -> Self {
        Error::MigrationFailed { failure: Box::new(failure) }
    }
}

/// Everything that can go wrong, each variant carrying what an operator needs to act.
///
/// Its `Debug` output is its message: `fn main() -> Result<(), Box<dyn std::error::Error>>`
/// prints an error with `Debug`, and the person reading it needs the message (file, line,
/// what to do), not the structure. Match on the variants to inspect it.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Migration files or directories that cannot be used.
    #[error("{}", load::display_load_errors(errors))]
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

    /// An option (a history table or schema name, a duration, a setting) that cannot be used.
    #[error("invalid {option} `{value}`: {reason}")]
    InvalidOption {
        /// Which option.
        option: &'static str,
        /// The rejected value.
        value: String,
        /// Why, and what is allowed.
        reason: String,
    },

    /// Something asked of a database that it cannot do (a capability it lacks).
    #[error("{database} cannot {what}: {instead}")]
    Unsupported {
        /// The database (`PostgreSQL`, `MySQL`, `SQLite`).
        database: &'static str,
        /// What was asked.
        what: String,
        /// What to do instead.
        instead: String,
    },

    /// The connection is not set up the way migrator needs (no database selected, no
    /// current schema).
    #[error("the connection cannot be used for migrations: {reason}")]
    Misconfigured {
        /// What is missing and how to provide it.
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

    /// A migration of a grouped apply failed. The group's migrations ran in one transaction,
    /// so what the failure says was left behind holds for every one of them.
    #[error("{}", display_group_failed(failure, group, *at_commit))]
    GroupFailed {
        /// The failing migration; when the group failed at commit, its last migration
        /// (the commit cannot tell which migration's change it refused).
        failure: Box<MigrationFailure>,
        /// Every migration of the group, in order.
        group: Vec<Version>,
        /// Whether the group's commit failed (a deferred constraint, a foreign-key check).
        at_commit: bool,
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
    /// transaction-mode pooler, on a node of a Galera cluster, or on an engine whose session
    /// lock protects nothing, such as CockroachDB). Built by
    /// `plan::lock`.
    #[error("the migration lock is not safe on this connection: {reason}. {instead}")]
    LockUnsafe {
        /// What was detected.
        reason: String,
        /// What to do instead.
        instead: String,
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

    /// A repeatable migration failed; its row still holds the checksum it last ran with, so
    /// the next run applies it again, whole.
    #[error(transparent)]
    RepeatableFailed {
        /// Which repeatable, which statement, what was left behind.
        failure: Box<RepeatableFailure>,
    },

    /// One set of a [`crate::MigrationSets`] run failed: the sets before it are up to date,
    /// the ones after it did not run.
    #[error("{}", display_set_failed(set, done, not_run, error))]
    SetFailed {
        /// The failing set.
        set: String,
        /// The sets before it, up to date.
        done: Vec<String>,
        /// The sets after it, which did not run.
        not_run: Vec<String>,
        /// The failing set's error (what it left behind and what to do).
        error: Box<Error>,
    },

    /// A row of another tool's history table that adoption cannot read.
    #[error("{tool}'s history table {table} has a row migrator cannot read: {message}. Nothing was adopted")]
    ForeignHistory {
        /// The tool (`sqlx`, `flyway`, ...).
        tool: &'static str,
        /// Its table.
        table: String,
        /// What is wrong.
        message: String,
    },

    /// A database error outside a migration's own statements.
    #[error("{context}: {cause}")]
    Database {
        /// What migrator was doing.
        context: String,
        /// The driver's error, as the driver describes it (usually a [`DatabaseError`],
        /// whose [`DatabaseError::raw`] is the driver's own error). Its text is part of this
        /// error's message, so it is not repeated as [`std::error::Error::source`].
        cause: BoxError,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl From<InvalidVersion> for Error {
    fn from(InvalidVersion { value }: InvalidVersion) -> Self {
        Error::InvalidVersion { value }
    }
}

impl Error {
    /// A migration's failure with the migrations its run applied before it
    /// ([`MigrationFailure::applied_before`]); any other error as it is.
    pub(crate) fn with_applied_before(mut self, applied: impl Iterator<Item = Version>) -> Error {
        if let Error::MigrationFailed { failure } | Error::GroupFailed { failure, .. } = &mut self {
            failure.applied_before = applied.collect();
        }
        self
    }

    /// The migrations the failed run applied before it failed (a migration's failure only;
    /// empty otherwise).
    pub fn applied_before(&self) -> &[Version] {
        match self {
            Error::MigrationFailed { failure } | Error::GroupFailed { failure, .. } => &failure.applied_before,
            _ => &[],
        }
    }

    /// A database error while doing `context`.
    pub fn database(context: impl Into<String>, cause: impl Into<BoxError>) -> Error {
        Error::Database { context: context.into(), cause: cause.into() }
    }

    /// A single load problem.
    pub fn load(path: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Error {
        Error::Load { errors: vec![LoadError { path: path.into(), line, column: None, message: message.into() }] }
    }
}

/// The versions of a group: all of them when few, else the first, the last and the count.
fn group_list(group: &[Version]) -> String {
    match group {
        [first, .., last] if group.len() > 6 => format!("{first} to {last} ({} migrations)", group.len()),
        _ => group.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
    }
}

fn display_group_failed(failure: &MigrationFailure, group: &[Version], at_commit: bool) -> String {
    let list = group_list(group);
    let of_them = match failure.outcome {
        FailureOutcome::Committed => "the server committed it: all of them are applied".to_owned(),
        FailureOutcome::Unknown => {
            "whether the server committed it cannot be told from here: run `status` to see which are applied".to_owned()
        }
        _ => "it was rolled back: none of them is applied".to_owned(),
    };
    if at_commit && failure.outcome == FailureOutcome::RolledBack {
        return format!(
            "the grouped transaction of migrations {list} failed at commit: {}\n  {of_them}: run `up` without grouped \
             apply to find the migration at fault, fix it and run again",
            failure.message
        );
    }
    format!("{failure}\n  grouped apply: migrations {list} ran in this one transaction, and {of_them}")
}

fn display_set_failed(set: &str, done: &[String], not_run: &[String], error: &Error) -> String {
    let mut text = format!("migration set `{set}`: {error}");
    if !done.is_empty() {
        text.push_str(&format!("\n  sets before it are up to date: {}", done.join(", ")));
    }
    if !not_run.is_empty() {
        text.push_str(&format!("\n  sets after it did not run: {}", not_run.join(", ")));
    }
    text
}

fn display_lock_timeout(waited: Duration, lock: &str, holder: Option<&str>) -> String {
    let mut text = format!("gave up after waiting {} for the migration lock ({lock})", human(waited));
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
    use crate::version::Direction;

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
        assert!(text.contains("repair by hand and `force 3`"), "{text}");
        let text = failed(FailureOutcome::NotRecorded, Some(2)).to_string();
        assert!(text.contains("interrupted"), "{text}");
        let down = Error::from(MigrationFailure::new(
            Version::new(3).unwrap(),
            "add_users",
            "migrations/3_add_users.down.sql",
            Direction::Down,
            Some(2),
            3,
            Some(7),
            "DROP TABLE nope",
            FailureOutcome::Recorded,
            "table \"nope\" does not exist".into(),
        ))
        .to_string();
        assert!(down.contains("finish reverting by hand and `force 3 --reverted`"), "{down}");
        assert!(!down.contains("`force 3`"), "a down failure never advises recording the migration as applied: {down}");
        let text = failed(FailureOutcome::RolledBack, None).to_string();
        assert!(text.contains("failed at commit"), "{text}");
    }

    /// Regression: `main() -> Result<(), Box<dyn Error>>` (the README's pattern) printed a
    /// Debug dump (`MigrationFailed { failure: MigrationFailure { … PgDatabaseError {`).
    #[test]
    fn debug_output_is_the_message_people_read() {
        let e = Error::from(MigrationFailure::new(
            Version::new(3).unwrap(),
            "add_users",
            "migrations/3_add_users.up.sql",
            Direction::Up,
            Some(1),
            1,
            Some(1),
            "SELECT 1/0",
            FailureOutcome::RolledBack,
            "division by zero".into(),
        ));
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        let debug = format!("{boxed:?}");
        assert!(debug.starts_with("migration 3 `add_users` (migrations/3_add_users.up.sql) failed"), "{debug}");
        assert!(!debug.contains("MigrationFailure {"), "{debug}");
    }

    #[test]
    fn a_lock_timeout_given_up_on_says_how_often_and_how_to_find_the_blocker() {
        let failure = |outcome, direction| {
            let mut failure = MigrationFailure::new(
                Version::new(3).unwrap(),
                "add_note",
                "migrations/3_add_note.up.sql",
                direction,
                Some(2),
                2,
                Some(4),
                "ALTER TABLE busy ADD COLUMN note text",
                outcome,
                Box::new(
                    DatabaseError::new("canceling statement due to lock timeout [SQLSTATE 55P03]", "raw")
                        .lock_timeout(true),
                ),
            );
            assert!(failure.is_lock_timeout());
            failure.lock_waits = Some(LockWaits::new(
                3,
                Duration::from_millis(4200),
                "every allowed attempt was made, 3 in all",
                "SELECT … FROM pg_locks",
            ));
            Error::from(failure).to_string()
        };
        let rolled_back = failure(FailureOutcome::RolledBack, Direction::Up);
        assert_eq!(
            rolled_back,
            "migration 3 `add_note` (migrations/3_add_note.up.sql) failed at statement 2 of 2 (line 4): canceling \
             statement due to lock timeout [SQLSTATE 55P03]\n  statement: ALTER TABLE busy ADD COLUMN note text\n  \
             another session held a lock it needed for longer than the lock timeout, 3 attempts over 4.2s (every allowed \
             attempt was made, 3 in all); the transaction was rolled back, nothing of it was applied: once the lock is \
             free, run again\n  find the session holding the lock (a long transaction, often idle in transaction): \
             SELECT … FROM pg_locks\n  or allow longer: the lock-timeout directive, more attempts (`--lock-retries`, \
             `--lock-retry-window`; `MigratorBuilder::lock_retry`)"
        );
        let recorded = failure(FailureOutcome::Recorded, Direction::Up);
        assert!(recorded.contains("statement 2 had no effect; the statements before it took effect and the failure is recorded, so once the lock is free run `resume`"), "{recorded}");
        let down = failure(FailureOutcome::Recorded, Direction::Down);
        assert!(down.contains("run `resume (it continues the down script)`"), "{down}");
        let unknown = failure(FailureOutcome::Unknown, Direction::Up);
        assert!(
            unknown.contains("whether it committed is not known")
                && unknown.contains("it waited for a lock: 3 attempts"),
            "{unknown}"
        );
        // A failed concurrent index build says what resume does about the index it left.
        let mut cic = MigrationFailure::new(
            Version::new(2).unwrap(),
            "unique_email",
            "2_unique_email.up.sql",
            Direction::Up,
            Some(1),
            1,
            Some(2),
            "CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email)",
            FailureOutcome::Recorded,
            "could not create unique index \"users_email\"".into(),
        );
        cic.invalid_index = Some("users_email".into());
        let text = Error::from(cic).to_string();
        assert!(
            text.ends_with(
                "`resume` drops index users_email if it is INVALID (DROP INDEX CONCURRENTLY), then builds it again"
            ),
            "{text}"
        );
        // Without the runner's note, a lock timeout reads as any failure.
        let plain = MigrationFailure::new(
            Version::new(3).unwrap(),
            "a",
            "a.sql",
            Direction::Up,
            Some(1),
            1,
            None,
            "",
            FailureOutcome::RolledBack,
            "x".into(),
        );
        assert!(!plain.is_lock_timeout() && !plain.to_string().contains("lock"));
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
