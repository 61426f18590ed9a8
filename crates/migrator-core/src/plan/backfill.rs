//! Batched backfills: where a batch starts, when the backfill is finished, how large the
//! next batch is, how long to pause, how long is left, and whether a migration that
//! requires a backfill may run.
//!
//! A backfill walks an integer key in keyset batches: each batch covers the keys in
//! `(start, end]`, where `start` is the last key done (stored in the progress row) and `end`
//! the largest of the next `size` keys the server finds above it. A batch's transaction
//! changes its rows and advances the progress row to `end`, only if the row still says
//! `start`; so a batch commits whole or not at all, and a run killed at any point resumes
//! after the last committed batch: every row is changed exactly once.

use std::time::Duration;

use crate::error::PlanError;
use crate::version::Version;

/// A backfill's stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillState {
    /// Started (or interrupted) and not finished.
    Running,
    /// Every key was done.
    Finished,
}

impl BackfillState {
    /// How the progress table stores it.
    pub const fn as_str(self) -> &'static str {
        match self {
            BackfillState::Running => "running",
            BackfillState::Finished => "finished",
        }
    }

    /// The state stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(BackfillState::Running),
            "finished" => Some(BackfillState::Finished),
            _ => None,
        }
    }
}

/// A backfill's progress row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillProgress {
    /// The last key done (`None`: no batch committed yet).
    pub last_key: Option<i64>,
    /// Rows changed so far, over every run.
    pub rows_done: u64,
    /// Its state.
    pub state: BackfillState,
    /// The table it walks, as stored.
    pub table: String,
    /// The key column it walks, as stored.
    pub key: String,
}

/// How batches are sized and spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    /// Rows per batch (the first batch's size when `target` is set).
    pub size: u64,
    /// Pause after each batch.
    pub pause: Duration,
    /// The time a batch should take: the size adapts toward it, between `min` and `max`.
    pub target: Option<Duration>,
    /// The smallest adapted size.
    pub min: u64,
    /// The largest adapted size.
    pub max: u64,
}

impl BatchPolicy {
    /// The smallest batch an adapted size goes down to.
    pub const MIN: u64 = 100;
    /// The largest batch an adapted size goes up to.
    pub const MAX: u64 = 100_000;

    /// `size` rows per batch, `pause` between batches, adapting to `target` when set,
    /// within [`BatchPolicy::MIN`]..=[`BatchPolicy::MAX`] (widened to include `size`).
    pub fn new(size: u64, pause: Duration, target: Option<Duration>) -> Self {
        let size = size.max(1);
        BatchPolicy { size, pause, target, min: Self::MIN.min(size), max: Self::MAX.max(size) }
    }
}

/// Where the next run of a backfill starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillStart {
    /// Nothing to do: the stored progress says it finished.
    Finished,
    /// Batches start above this key (exclusive).
    After(i64),
}

/// Where a run starts, given the stored progress (`None`: never started). A backfill that
/// never committed a batch starts below every key but `i64::MIN` (keys are `> start`: a
/// key column holding `i64::MIN` is not supported, and [`batch_bounds`] never reaches it).
pub fn backfill_start(progress: Option<&BackfillProgress>) -> BackfillStart {
    match progress {
        Some(BackfillProgress { state: BackfillState::Finished, .. }) => BackfillStart::Finished,
        Some(BackfillProgress { last_key: Some(key), .. }) => BackfillStart::After(*key),
        _ => BackfillStart::After(i64::MIN),
    }
}

/// The next step of a backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStep {
    /// No key above the last one done: the backfill is finished.
    Finished,
    /// A batch over the keys in `(start, end]`.
    Batch {
        /// Exclusive lower bound: the last key done.
        start: i64,
        /// Inclusive upper bound.
        end: i64,
    },
}

/// The batch after `start`, given the largest of the next keys the server found above it
/// (`None`: none). An `end` not above `start` (the server answered a key that is not next)
/// is refused as finished rather than looping.
pub fn batch_bounds(start: i64, next_end: Option<i64>) -> BatchStep {
    match next_end {
        Some(end) if end > start => BatchStep::Batch { start, end },
        _ => BatchStep::Finished,
    }
}

/// The size of the batch after one of `current` rows took `took`: the policy's size when
/// it sets no target; otherwise scaled toward the target, at most halved or doubled at a
/// time, within the policy's bounds.
pub fn next_batch_size(policy: &BatchPolicy, current: u64, took: Duration) -> u64 {
    let Some(target) = policy.target else { return policy.size };
    let current = current.max(1);
    let took = took.as_micros().max(1);
    let scaled = u128::from(current).saturating_mul(target.as_micros()) / took;
    let scaled = u64::try_from(scaled).unwrap_or(u64::MAX);
    scaled.clamp(current / 2, current.saturating_mul(2)).clamp(policy.min.max(1), policy.max.max(1))
}

/// The pause after a batch: the policy's, none after the last.
pub fn pause_after(policy: &BatchPolicy, finished: bool) -> Duration {
    if finished { Duration::ZERO } else { policy.pause }
}

/// Rows per second from `rows` done in `elapsed`.
pub fn backfill_rate(rows: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 { 0.0 } else { rows as f64 / secs }
}

/// Time left at `rate` rows per second (pauses included in it) for `rows_left`; `None`
/// when no rate is known yet.
pub fn backfill_time_left(rows_left: u64, rate: f64) -> Option<Duration> {
    (rate > 0.0 && rate.is_finite()).then(|| Duration::from_secs_f64(rows_left as f64 / rate))
}

/// A backfill a migration requires (`-- migrator:requires-backfill <name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredBackfillCheck<'a> {
    /// The migration's version.
    pub version: Version,
    /// The migration's name.
    pub migration: &'a str,
    /// The backfill's name.
    pub backfill: &'a str,
    /// Its stored progress (`None`: no row, never started).
    pub progress: Option<&'a BackfillProgress>,
}

/// Whether a migration requiring a backfill may run: only when the backfill finished.
pub fn check_required_backfill(check: &RequiredBackfillCheck<'_>) -> Result<(), PlanError> {
    let found = match check.progress {
        Some(BackfillProgress { state: BackfillState::Finished, .. }) => return Ok(()),
        Some(BackfillProgress { last_key: Some(key), rows_done, .. }) => {
            format!("is not finished (it stopped after key {key}, {rows_done} rows done)")
        }
        Some(BackfillProgress { last_key: None, .. }) => "is not finished (no batch committed yet)".to_owned(),
        None => "never ran".to_owned(),
    };
    Err(PlanError::BackfillNotFinished {
        version: check.version,
        name: check.migration.to_owned(),
        backfill: check.backfill.to_owned(),
        found,
    })
}

/// Whether the stored progress of backfill `name` is about the same table and key as this
/// run: a name reused for another table would otherwise resume at a key of the wrong table.
pub fn check_backfill_target(
    name: &str,
    progress: Option<&BackfillProgress>,
    table: &str,
    key: &str,
) -> Result<(), PlanError> {
    match progress {
        Some(stored) if stored.table != table || stored.key != key => Err(PlanError::BackfillOtherTarget {
            backfill: name.to_owned(),
            stored: format!("{}.{}", stored.table, stored.key),
            given: format!("{table}.{key}"),
        }),
        _ => Ok(()),
    }
}

/// Why another run holds the backfill `name`: the refusal of a second runner.
pub fn backfill_busy(name: &str, holder: Option<String>) -> PlanError {
    PlanError::BackfillBusy {
        backfill: name.to_owned(),
        holder: holder.unwrap_or_else(|| "another session".to_owned()),
    }
}

/// The refusal of a batch whose progress row no longer says where the batch started:
/// another process changed it (nothing of this batch was kept).
pub fn backfill_moved(name: &str, start: i64) -> PlanError {
    PlanError::BackfillMoved { backfill: name.to_owned(), start }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(last_key: Option<i64>, rows_done: u64, state: BackfillState) -> BackfillProgress {
        BackfillProgress { last_key, rows_done, state, table: "t".to_owned(), key: "id".to_owned() }
    }

    #[test]
    fn a_name_keeps_its_table_and_key() {
        let stored = progress(Some(4), 4, BackfillState::Running);
        let cases = [
            (None, "t", "id", None),
            (Some(&stored), "t", "id", None),
            (Some(&stored), "orders", "id", Some("backfill `fill` walked t.id, not orders.id")),
            (Some(&stored), "t", "pk", Some("walked t.id, not t.pk")),
        ];
        for (stored, table, key, expected) in cases {
            match (check_backfill_target("fill", stored, table, key), expected) {
                (Ok(()), None) => {}
                (Err(e), Some(text)) => assert!(e.to_string().contains(text), "{e}"),
                (got, expected) => panic!("{table}.{key}: {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn where_a_run_starts() {
        let cases = [
            (None, BackfillStart::After(i64::MIN)),
            (Some(progress(None, 0, BackfillState::Running)), BackfillStart::After(i64::MIN)),
            (Some(progress(Some(41), 41, BackfillState::Running)), BackfillStart::After(41)),
            (Some(progress(Some(-3), 7, BackfillState::Running)), BackfillStart::After(-3)),
            (Some(progress(Some(99), 99, BackfillState::Finished)), BackfillStart::Finished),
            (Some(progress(None, 0, BackfillState::Finished)), BackfillStart::Finished),
        ];
        for (stored, expected) in cases {
            assert_eq!(backfill_start(stored.as_ref()), expected, "{stored:?}");
        }
    }

    #[test]
    fn when_a_backfill_is_finished() {
        let cases = [
            (i64::MIN, Some(10), BatchStep::Batch { start: i64::MIN, end: 10 }),
            (10, Some(20), BatchStep::Batch { start: 10, end: 20 }),
            (10, Some(11), BatchStep::Batch { start: 10, end: 11 }),
            (10, None, BatchStep::Finished),
            (10, Some(10), BatchStep::Finished),
            (10, Some(3), BatchStep::Finished),
        ];
        for (start, next, expected) in cases {
            assert_eq!(batch_bounds(start, next), expected, "{start} {next:?}");
        }
    }

    #[test]
    fn batch_sizes() {
        let ms = Duration::from_millis;
        let fixed = BatchPolicy::new(1_000, ms(50), None);
        let target = BatchPolicy::new(1_000, Duration::ZERO, Some(ms(200)));
        let cases = [
            // No target: always the given size.
            (fixed, 1_000, ms(5_000), 1_000),
            (fixed, 1_000, ms(1), 1_000),
            // On target: unchanged.
            (target, 1_000, ms(200), 1_000),
            // Twice too slow: halved; ten times too slow: still only halved.
            (target, 1_000, ms(400), 500),
            (target, 1_000, ms(2_000), 500),
            // Faster: grows toward the target, at most doubled.
            (target, 1_000, ms(160), 1_250),
            (target, 1_000, ms(10), 2_000),
            (target, 1_000, Duration::ZERO, 2_000),
            // Within the bounds.
            (target, 150, ms(1_000), 100),
            (target, 80_000, ms(10), 100_000),
        ];
        for (policy, current, took, expected) in cases {
            assert_eq!(next_batch_size(&policy, current, took), expected, "{policy:?} {current} {took:?}");
        }
        // A given size outside the default bounds widens them.
        let big = BatchPolicy::new(500_000, Duration::ZERO, Some(ms(200)));
        assert_eq!(next_batch_size(&big, 500_000, ms(200)), 500_000);
        let small = BatchPolicy::new(10, Duration::ZERO, Some(ms(200)));
        assert_eq!(next_batch_size(&small, 10, ms(400)), 10);
    }

    #[test]
    fn pauses_rates_and_time_left() {
        let policy = BatchPolicy::new(10, Duration::from_millis(50), None);
        assert_eq!(pause_after(&policy, false), Duration::from_millis(50));
        assert_eq!(pause_after(&policy, true), Duration::ZERO);
        let cases =
            [(1_000, Duration::from_secs(2), 500.0), (0, Duration::from_secs(2), 0.0), (1_000, Duration::ZERO, 0.0)];
        for (rows, elapsed, rate) in cases {
            assert!((backfill_rate(rows, elapsed) - rate).abs() < 1e-9, "{rows} {elapsed:?}");
        }
        assert_eq!(backfill_time_left(1_000, 500.0), Some(Duration::from_secs(2)));
        assert_eq!(backfill_time_left(0, 500.0), Some(Duration::ZERO));
        assert_eq!(backfill_time_left(1_000, 0.0), None);
        assert_eq!(backfill_time_left(1_000, f64::INFINITY), None);
    }

    #[test]
    fn a_required_backfill_must_have_finished() {
        let finished = progress(Some(9), 9, BackfillState::Finished);
        let stopped = progress(Some(4), 4, BackfillState::Running);
        let started = progress(None, 0, BackfillState::Running);
        let cases = [
            (Some(&finished), None),
            (Some(&stopped), Some("is not finished (it stopped after key 4, 4 rows done)")),
            (Some(&started), Some("is not finished (no batch committed yet)")),
            (None, Some("never ran")),
        ];
        for (stored, expected) in cases {
            let check = RequiredBackfillCheck {
                version: Version::new(7).unwrap(),
                migration: "not_null",
                backfill: "fill",
                progress: stored,
            };
            match (check_required_backfill(&check), expected) {
                (Ok(()), None) => {}
                (Err(e), Some(text)) => {
                    let message = e.to_string();
                    assert!(message.contains(text), "{message}");
                    assert!(message.contains("migration 7 `not_null` requires backfill `fill`"), "{message}");
                    assert!(message.contains("nothing of it was applied"), "{message}");
                }
                (got, expected) => panic!("{stored:?}: {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn refusals_name_the_backfill() {
        let busy = backfill_busy("fill", Some("pid 42 on db1".to_owned())).to_string();
        assert!(busy.contains("backfill `fill` is running in another process (pid 42 on db1)"), "{busy}");
        let anonymous = backfill_busy("fill", None).to_string();
        assert!(anonymous.contains("(another session)"), "{anonymous}");
        let moved = backfill_moved("fill", 17).to_string();
        assert!(moved.contains("after key 17"), "{moved}");
    }
}
