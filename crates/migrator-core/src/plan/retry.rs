//! Lock-timeout retries: whether a migration that gave up waiting for a table lock runs
//! again, after how long, and how an operator finds the session it waited for.
//!
//! A migration's lock timeout (the `lock-timeout` directive, or the migrator-wide default)
//! keeps it from queueing every writer of a table behind its lock request while a long
//! transaction holds the table. Giving up is safe, and so is trying again:
//! - a migration that runs in one transaction was rolled back whole: it runs again from its
//!   start;
//! - a migration that runs statement by statement (`no-transaction`, or MySQL's DDL, which
//!   commits implicitly) failed at one statement, which had no effect (a statement that
//!   times out waiting for a lock is rolled back by itself: PostgreSQL runs each statement
//!   atomically, MySQL and MariaDB take the metadata lock before changing anything and roll
//!   back a DML statement that timed out), and the failure is recorded: it runs again from
//!   that statement, as `resume` would. A `CREATE INDEX CONCURRENTLY` that timed out after
//!   creating its index leaves it INVALID; [`super::rerun_guard`] drops it before the
//!   statement runs again.
//!
//! A failure whose outcome is not known (the connection broke), or that was not a lock
//! timeout, is never retried. Repeatable migrations and the errors of Rust code are not
//! classified and not retried.

use std::time::Duration;

use crate::dialect::Dialect;
use crate::error::FailureOutcome;

use super::step::Mode;

/// How often, and for how long, a migration that gave up waiting for a table lock is tried.
///
/// The default ([`LockRetry::DEFAULT`]): 5 attempts, the last starting at most 2 minutes after
/// the first. Each attempt waits for its lock at most the migration's lock timeout (10 s by
/// default), so writers queue behind it at most that long at a time, and between attempts
/// (1 s, 2 s, 4 s, 8 s) the table is free for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockRetry {
    /// Attempts in all, the first included (1: never retry).
    pub attempts: u32,
    /// No attempt starts later than this after the first one started.
    pub within: Duration,
}

impl LockRetry {
    /// 5 attempts within 2 minutes.
    pub const DEFAULT: LockRetry = LockRetry { attempts: 5, within: Duration::from_secs(120) };

    /// `attempts` in all (the first included; 0 or 1: no retry), each starting within `within`
    /// of the first.
    pub fn new(attempts: u32, within: Duration) -> Self {
        LockRetry { attempts: attempts.max(1), within }
    }

    /// No retry: a lock timeout fails the migration at once.
    pub fn off() -> Self {
        LockRetry { attempts: 1, within: Duration::ZERO }
    }
}

impl Default for LockRetry {
    fn default() -> Self {
        LockRetry::DEFAULT
    }
}

/// One failed attempt, as the runner saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedAttempt {
    /// The driver classified the error as a lock timeout.
    pub lock_timeout: bool,
    /// How the step ran.
    pub mode: Mode,
    /// What the failure left behind.
    pub outcome: FailureOutcome,
    /// The failed statement (1-based), when known.
    pub statement: Option<usize>,
    /// This attempt's number (1-based).
    pub attempt: u32,
    /// From the first attempt's start to this failure.
    pub elapsed: Duration,
}

/// What the runner does after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Pause, then run attempt `attempt`: from the step's start (one transaction) or from
    /// the failed statement (statement by statement).
    Retry {
        /// The next attempt's number (1-based).
        attempt: u32,
        /// How long to pause first.
        pause: Duration,
    },
    /// Fail with this attempt's error.
    Stop(StopReason),
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The error was not a lock timeout.
    NotLockTimeout,
    /// What the attempt left behind is not known to be nothing (the connection broke, or
    /// the failure could not be recorded): running again could run a statement twice.
    OutcomeUnknown,
    /// Every allowed attempt was made.
    AttemptsUsed,
    /// The next attempt would start after the retry window.
    WindowOver,
}

impl StopReason {
    /// For the failure's message.
    pub fn text(self, retry: LockRetry) -> String {
        match self {
            StopReason::NotLockTimeout => "not a lock timeout".to_owned(),
            StopReason::OutcomeUnknown => "what the attempt left behind is not known, so it was not retried".to_owned(),
            StopReason::AttemptsUsed if retry.attempts <= 1 => "lock-timeout retries are off".to_owned(),
            StopReason::AttemptsUsed => format!("every allowed attempt was made, {} in all", retry.attempts),
            StopReason::WindowOver => {
                format!("a further attempt would start after the retry window of {}", crate::text::human(retry.within))
            }
        }
    }
}

/// The pause before attempt `attempt` (2 or more): 1 s, doubling, at most 30 s.
pub fn pause_before(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(2).min(5);
    Duration::from_secs(1u64 << doublings).min(Duration::from_secs(30))
}

/// Whether a failed attempt runs again, and after how long.
pub fn decide_retry(retry: LockRetry, failed: &FailedAttempt) -> RetryDecision {
    if !failed.lock_timeout {
        return RetryDecision::Stop(StopReason::NotLockTimeout);
    }
    let nothing_left = match (failed.mode, failed.outcome) {
        (Mode::Transactional, FailureOutcome::RolledBack) => true,
        (Mode::Stepwise, FailureOutcome::Recorded) => failed.statement.is_some(),
        _ => false,
    };
    if !nothing_left {
        return RetryDecision::Stop(StopReason::OutcomeUnknown);
    }
    if failed.attempt >= retry.attempts {
        return RetryDecision::Stop(StopReason::AttemptsUsed);
    }
    let attempt = failed.attempt + 1;
    let pause = pause_before(attempt);
    if failed.elapsed + pause > retry.within {
        return RetryDecision::Stop(StopReason::WindowOver);
    }
    RetryDecision::Retry { attempt, pause }
}

/// How an operator finds the session holding the lock a migration waited for, and ends it.
pub fn find_blocker(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "SELECT a.pid, a.usename, a.application_name, a.state, now() - a.xact_start AS in_transaction_for, \
             left(a.query, 60) AS query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.granted AND \
             l.relation = 'the_table'::regclass ORDER BY a.xact_start; then `SELECT pg_terminate_backend(pid)` ends \
             one (or let its transaction finish)"
        }
        Dialect::MySql => {
            "SELECT trx_mysql_thread_id AS id, trx_started, trx_state, trx_query FROM information_schema.INNODB_TRX \
             ORDER BY trx_started (open transactions hold metadata locks on what they read; `SHOW PROCESSLIST` shows \
             the waiters, MySQL 8's performance_schema.metadata_locks the holders); then `KILL id` ends one (or let \
             its transaction finish)"
        }
        Dialect::Sqlite => "another connection holds the database's write lock: find the process that has it open",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn attempt(
        lock_timeout: bool,
        mode: Mode,
        outcome: FailureOutcome,
        attempt: u32,
        elapsed: Duration,
    ) -> FailedAttempt {
        FailedAttempt { lock_timeout, mode, outcome, statement: Some(2), attempt, elapsed }
    }

    #[test]
    fn pauses_double_from_a_second_to_thirty() {
        let pauses: Vec<u64> = (2..=9).map(|a| pause_before(a).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(pause_before(u32::MAX), 30 * S);
    }

    #[test]
    fn decisions() {
        use FailureOutcome::*;
        use Mode::*;
        use RetryDecision::*;
        use StopReason::*;
        let default = LockRetry::DEFAULT;
        let three = LockRetry::new(3, 10 * S);
        // (policy, failed attempt) -> decision
        let cases = [
            // A rolled-back transaction and a recorded statement run again.
            (default, attempt(true, Transactional, RolledBack, 1, S), Retry { attempt: 2, pause: S }),
            (default, attempt(true, Stepwise, Recorded, 1, S), Retry { attempt: 2, pause: S }),
            (default, attempt(true, Transactional, RolledBack, 3, 20 * S), Retry { attempt: 4, pause: 4 * S }),
            // Not a lock timeout: never.
            (default, attempt(false, Transactional, RolledBack, 1, S), Stop(NotLockTimeout)),
            // Whatever might have taken effect: never.
            (default, attempt(true, Transactional, Unknown, 1, S), Stop(OutcomeUnknown)),
            (default, attempt(true, Transactional, Committed, 1, S), Stop(OutcomeUnknown)),
            (default, attempt(true, Stepwise, NotRecorded, 1, S), Stop(OutcomeUnknown)),
            (default, attempt(true, Stepwise, RolledBack, 1, S), Stop(OutcomeUnknown)),
            (default, attempt(true, Transactional, Recorded, 1, S), Stop(OutcomeUnknown)),
            (default, attempt(true, Transactional, NotSent, 1, S), Stop(OutcomeUnknown)),
            // Bounded by attempts and by the window.
            (three, attempt(true, Transactional, RolledBack, 2, 3 * S), Retry { attempt: 3, pause: 2 * S }),
            (three, attempt(true, Transactional, RolledBack, 3, 3 * S), Stop(AttemptsUsed)),
            (three, attempt(true, Transactional, RolledBack, 2, 8 * S), Retry { attempt: 3, pause: 2 * S }),
            (three, attempt(true, Transactional, RolledBack, 2, 9 * S), Stop(WindowOver)),
            (three, attempt(true, Stepwise, Recorded, 1, 10 * S), Stop(WindowOver)),
            // Off.
            (LockRetry::off(), attempt(true, Transactional, RolledBack, 1, S), Stop(AttemptsUsed)),
            (LockRetry::new(0, 60 * S), attempt(true, Transactional, RolledBack, 1, S), Stop(AttemptsUsed)),
        ];
        for (policy, failed, expected) in cases {
            assert_eq!(decide_retry(policy, &failed), expected, "{policy:?} {failed:?}");
        }
        // A statement-by-statement failure without a statement (at commit) is not retried.
        let at_commit = FailedAttempt { statement: None, ..attempt(true, Stepwise, Recorded, 1, S) };
        assert_eq!(decide_retry(default, &at_commit), Stop(OutcomeUnknown));
    }

    #[test]
    fn stop_reasons_read_well() {
        assert_eq!(StopReason::AttemptsUsed.text(LockRetry::off()), "lock-timeout retries are off");
        assert_eq!(StopReason::AttemptsUsed.text(LockRetry::DEFAULT), "every allowed attempt was made, 5 in all");
        assert!(StopReason::WindowOver.text(LockRetry::DEFAULT).contains("retry window of 2m 0s"));
        assert!(
            find_blocker(Dialect::Postgres).contains("pg_locks")
                && find_blocker(Dialect::Postgres).contains("pg_stat_activity")
        );
        assert!(find_blocker(Dialect::MySql).contains("INNODB_TRX") && find_blocker(Dialect::MySql).contains("KILL"));
    }
}
