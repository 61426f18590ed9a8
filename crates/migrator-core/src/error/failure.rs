//! A migration step that failed in the database (or in its Rust code): which statement, and
//! what it left behind.

use std::time::Duration;

use super::database::DatabaseError;
use crate::text::human;
use crate::version::{Direction, Version};

/// A boxed error from a database driver or from a Rust-code migration.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    /// The connection failed on the client's side while the transaction ran, and the
    /// server committed it anyway: the migration is applied (or, going down, reverted).
    Committed,
    /// The connection failed on the client's side while the transaction ran, and whether
    /// the server committed it cannot be told from here.
    Unknown,
    /// Nothing of it was sent: the statement could not be sent as it is (too large for the
    /// server's message size). The history is as it was.
    NotSent,
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
    /// The underlying error (the driver's, or the Rust code's). Its text is the failure's
    /// [`MigrationFailure::message`], so it is not repeated as
    /// [`std::error::Error::source`].
    pub cause: BoxError,
    /// Set when the failure is a lock timeout the runner gave up on: its attempts, and how
    /// to find the session holding the lock.
    pub lock_waits: Option<LockWaits>,
    /// Set when the failed statement builds an index concurrently (PostgreSQL's `CREATE
    /// INDEX CONCURRENTLY`): the index it may have left INVALID, which `resume` drops before
    /// running the statement again.
    pub invalid_index: Option<String>,
    /// The migrations the same run applied before this failure, in order (committed: the
    /// failure does not undo them). Empty when it failed first, and outside `up`.
    pub applied_before: Vec<Version>,
}

/// What the runner did about a migration that waited too long for a table lock, for the
/// failure's message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockWaits {
    /// Attempts made, the failed one included.
    pub attempts: u32,
    /// From the first attempt's start to the last attempt's failure.
    pub over: Duration,
    /// Why no further attempt was made.
    pub stopped: String,
    /// How to find the session holding the lock (a query) and end it.
    pub find_blocker: String,
}

impl LockWaits {
    /// `attempts` made over `over`, stopped for `stopped`; `find_blocker` says how to find the
    /// session holding the lock.
    pub fn new(attempts: u32, over: Duration, stopped: impl Into<String>, find_blocker: impl Into<String>) -> Self {
        LockWaits { attempts, over, stopped: stopped.into(), find_blocker: find_blocker.into() }
    }
}

impl MigrationFailure {
    /// Whether the database gave up waiting for a lock (as the driver classified its error,
    /// [`DatabaseError::is_lock_timeout`]).
    pub fn is_lock_timeout(&self) -> bool {
        self.cause.downcast_ref::<DatabaseError>().is_some_and(DatabaseError::is_lock_timeout)
    }

    /// Describes a failure; `cause`'s message becomes the failure's message.
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
        cause: BoxError,
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
            message: cause.to_string(),
            outcome,
            cause,
            lock_waits: None,
            invalid_index: None,
            applied_before: Vec::new(),
        }
    }
}

fn display_failure(failure: &MigrationFailure) -> String {
    let MigrationFailure {
        version,
        name,
        origin,
        direction,
        statement,
        total,
        line,
        snippet,
        message,
        outcome,
        lock_waits,
        invalid_index,
        ..
    } = failure;
    let what = match direction {
        Direction::Up => "migration",
        Direction::Down => "down migration",
    };
    // A connection that broke on the client's side is not a failed statement.
    let verb = match outcome {
        FailureOutcome::Committed | FailureOutcome::Unknown => "lost its connection",
        _ => "failed",
    };
    let mut text = format!("{what} {version} `{name}` ({origin}) {verb} ");
    match statement {
        Some(index) => {
            text.push_str(&format!("at statement {index} of {total}"));
            if let Some(line) = line {
                text.push_str(&format!(" (line {line})"));
            }
        }
        None if matches!(outcome, FailureOutcome::Committed | FailureOutcome::Unknown) => {
            text.push_str("while it ran");
        }
        None => text.push_str("at commit"),
    }
    text.push_str(&format!(": {message}"));
    if !snippet.is_empty() {
        text.push_str(&format!("\n  statement: {snippet}"));
    }
    // What to do when the database was repaired by hand: an up finished by hand is recorded
    // as applied; a down finished by hand has its row removed.
    let (resume, force) = match direction {
        Direction::Up => ("resume".to_owned(), format!("repair by hand and `force {version}`")),
        Direction::Down => (
            "resume (it continues the down script)".to_owned(),
            format!("finish reverting by hand and `force {version} --reverted`"),
        ),
    };
    let advice = match (outcome, statement) {
        (FailureOutcome::RolledBack, _) => {
            "\n  the transaction was rolled back, nothing of it was applied: fix the script and run again".to_owned()
        }
        (FailureOutcome::Recorded, Some(index)) => format!(
            "\n  statements before {index} took effect and the failure is recorded: fix statement {index} and run `{resume}`, \
             or `resume --skip` if it took effect after all, or {force}"
        ),
        (FailureOutcome::Recorded, None) => {
            format!("\n  the failure is recorded: fix the script and run `{resume}`, or {force}")
        }
        (FailureOutcome::Committed, _) => format!(
            "\n  the connection failed after the server had run the whole transaction, which committed: migration \
             {version} {} (its history row says so). Nothing needs repairing; run again to continue with the rest",
            match direction {
                Direction::Up => "is applied",
                Direction::Down => "is reverted",
            }
        ),
        (FailureOutcome::Unknown, _) => format!(
            "\n  the connection failed while the transaction ran, so whether it committed is not known here: run \
             `status`; if migration {version} shows {}, it committed; otherwise fix the script and run again",
            match direction {
                Direction::Up => "applied",
                Direction::Down => "pending",
            }
        ),
        (FailureOutcome::NotSent, _) => {
            "\n  nothing of this attempt was sent to the database and the history is as it \
                                          was: fix the script or the server setting and run again"
                .to_owned()
        }
        (FailureOutcome::NotRecorded, _) => format!(
            "\n  the failure could not be recorded (connection lost): the next run reports migration {version} as \
             interrupted; check whether the statement took effect, then `resume` or `resume --skip`"
        ),
    };
    match (lock_waits, outcome, statement) {
        (Some(waits), FailureOutcome::RolledBack | FailureOutcome::Recorded, _) => {
            text.push_str(&lock_advice(waits, *outcome, *statement, &resume));
        }
        (Some(waits), _, _) => {
            text.push_str(&advice);
            text.push_str(&format!("\n  it waited for a lock: {}", attempts_text(waits)));
        }
        (None, _, _) => text.push_str(&advice),
    }
    if let (Some(index), FailureOutcome::Recorded | FailureOutcome::NotRecorded) = (invalid_index, outcome) {
        text.push_str(&format!(
            "\n  a failed `CREATE INDEX CONCURRENTLY` leaves its index behind, INVALID: `resume` drops index {index} \
             if it is INVALID (DROP INDEX CONCURRENTLY), then builds it again"
        ));
    }
    text
}

fn attempts_text(waits: &LockWaits) -> String {
    let n = waits.attempts;
    format!("{n} attempt{} over {} ({})", if n == 1 { "" } else { "s" }, human(waits.over), waits.stopped)
}

/// What to do about a lock timeout the runner gave up on: find the session holding the lock.
fn lock_advice(waits: &LockWaits, outcome: FailureOutcome, statement: Option<usize>, resume: &str) -> String {
    let left = match (outcome, statement) {
        (FailureOutcome::Recorded, Some(index)) => format!(
            "statement {index} had no effect; the statements before it took effect and the failure is recorded, so \
             once the lock is free run `{resume}`"
        ),
        (FailureOutcome::Recorded, None) => format!("the failure is recorded: once the lock is free run `{resume}`"),
        _ => "the transaction was rolled back, nothing of it was applied: once the lock is free, run again".to_owned(),
    };
    format!(
        "\n  another session held a lock it needed for longer than the lock timeout, {}; {left}\n  \
         find the session holding the lock (a long transaction, often idle in transaction): {}\n  \
         or allow longer: the lock-timeout directive, more attempts (`--lock-retries`, `--lock-retry-window`; \
         `MigratorBuilder::lock_retry`)",
        attempts_text(waits),
        waits.find_blocker
    )
}

/// A repeatable migration that failed: which one, where, and whether anything of it stayed.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
#[non_exhaustive]
pub struct RepeatableFailure {
    /// The repeatable's name.
    pub name: String,
    /// Its file.
    pub origin: String,
    /// 1-based index of the failing statement; `None` when it failed at commit.
    pub statement: Option<usize>,
    /// Statements in the script.
    pub total: usize,
    /// Line of the failing statement.
    pub line: Option<usize>,
    /// The failing statement's first line.
    pub snippet: String,
    /// The database's message.
    pub message: String,
    /// Whether the statements before the failing one took effect (it ran outside one
    /// transaction); otherwise nothing of it was applied.
    pub kept: bool,
    /// The driver's error (its text is `message`).
    pub cause: BoxError,
}

impl RepeatableFailure {
    fn describe(&self) -> String {
        let total = self.total;
        let at = match (self.statement, self.line) {
            (Some(s), Some(l)) => format!("at statement {s} of {total} (line {l})"),
            (Some(s), None) => format!("at statement {s} of {total}"),
            (None, _) => "at commit".to_owned(),
        };
        let mut text = format!("repeatable migration `{}` ({}) failed {at}: {}", self.name, self.origin, self.message);
        if !self.snippet.is_empty() {
            text.push_str(&format!("\n  statement: {}", self.snippet));
        }
        text.push_str(if self.kept {
            "\n  the statements before it took effect (it runs outside a transaction); its history still holds the \
             checksum it last ran with, so the next run applies it again, whole: fix the script and run again"
        } else {
            "\n  the transaction was rolled back, nothing of it was applied: fix the script and run again"
        });
        text
    }
}
