//! What a run did, and what `status`, `validate` and `repair` found.

use std::fmt;
use std::time::Duration;

use crate::error::PlanError;
use crate::plan::{RepeatableStatus, Skipped, StatusEntry, UpPlan, Warning};
use crate::text::human;
use crate::version::{Direction, Phase, Version};

/// One migration step a run executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: Phase,
    /// Applied or reverted.
    pub direction: Direction,
    /// Wall time.
    pub duration: Duration,
    /// Statements executed.
    pub statements: usize,
    /// Set when the step continued a failed or interrupted one from this 1-based statement.
    pub resumed_at: Option<usize>,
    /// How many times it ran again after waiting longer than its lock timeout for a lock
    /// (0: it succeeded at the first attempt).
    pub lock_retries: u32,
    /// INVALID indexes (left by a failed `CREATE INDEX CONCURRENTLY`) dropped before the
    /// statement building them ran again.
    pub dropped_invalid_indexes: Vec<String>,
}

impl StepReport {
    /// What happened besides running it, for a person: `after 2 retries on lock timeout`,
    /// `dropped INVALID index app.users_email first`; empty when nothing did.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        match self.lock_retries {
            0 => {}
            1 => notes.push("after 1 retry on lock timeout".to_owned()),
            n => notes.push(format!("after {n} retries on lock timeout")),
        }
        for index in &self.dropped_invalid_indexes {
            notes.push(format!("dropped the INVALID index {index} a failed build left, and built it again"));
        }
        notes
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Report {
    /// Steps executed, in order.
    pub steps: Vec<StepReport>,
    /// Pending migrations this run left alone, and why.
    pub skipped: Vec<Skipped>,
    /// Warnings (unknown versions, out-of-order applications).
    pub warnings: Vec<Warning>,
    /// Whether the run took the migration lock (false on the fast path).
    pub locked: bool,
    /// Repeatable migrations applied, after the versioned steps.
    pub repeatables: Vec<RepeatableReport>,
}

/// One repeatable migration a run applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatableReport {
    /// Its name.
    pub name: String,
    /// Wall time.
    pub duration: Duration,
    /// Statements executed.
    pub statements: usize,
}

impl Report {
    pub(crate) fn from_plan(plan: &UpPlan, locked: bool) -> Report {
        Report {
            steps: Vec::new(),
            skipped: plan.skipped.clone(),
            warnings: plan.warnings.clone(),
            locked,
            repeatables: Vec::new(),
        }
    }

    /// Steps that applied migrations.
    pub fn applied(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| s.direction == Direction::Up)
    }

    /// Steps that reverted migrations.
    pub fn reverted(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| s.direction == Direction::Down)
    }

    /// Whether nothing ran.
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty() && self.repeatables.is_empty()
    }

    /// Adds what became of one planned step: executed, or done by another process.
    pub(crate) fn record(&mut self, step: Result<StepReport, Skipped>) {
        match step {
            Ok(step) => self.steps.push(step),
            Err(skipped) => self.skipped.push(skipped),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_noop() {
            writeln!(f, "nothing to do: the database is up to date")?;
        }
        for step in &self.steps {
            let verb = match step.direction {
                Direction::Up => "applied",
                Direction::Down => "reverted",
            };
            write!(f, "{verb} {} {} ({}) in {}", step.version, step.name, step.phase, human(step.duration))?;
            let notes = step.notes();
            if !notes.is_empty() {
                write!(f, " ({})", notes.join("; "))?;
            }
            writeln!(f)?;
        }
        for r in &self.repeatables {
            writeln!(f, "applied repeatable {} in {}", r.name, human(r.duration))?;
        }
        for skipped in &self.skipped {
            writeln!(f, "skipped {skipped}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}

/// `{version} {name}: {why}`.
impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.version, self.name, skip_text(self))
    }
}

pub(crate) fn skip_text(skipped: &Skipped) -> String {
    match skipped.reason {
        crate::plan::SkipReason::PhaseNotSelected { phase } => {
            format!("{phase} phase not selected (run the {phase} phase once every instance runs the new code)")
        }
        crate::plan::SkipReason::AfterTarget { target } => format!("newer than the target {target}"),
        crate::plan::SkipReason::DoneElsewhere { direction: Direction::Up } => {
            "another process applied it meanwhile".to_owned()
        }
        crate::plan::SkipReason::DoneElsewhere { direction: Direction::Down } => {
            "another process reverted it meanwhile".to_owned()
        }
    }
}

/// The result of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Whether the history table exists.
    pub history_exists: bool,
    /// Every known or applied migration, in version order.
    pub migrations: Vec<StatusEntry>,
    /// Every repeatable migration of the binary or the history, in name order.
    pub repeatables: Vec<RepeatableStatus>,
}

/// The result of `validate`: every problem and warning, without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Validation {
    /// Problems that would stop a run.
    pub problems: Vec<PlanError>,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

impl Validation {
    /// Whether a run would proceed.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One checksum `repair` re-recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
    /// The checksum history had.
    pub old: String,
    /// The checksum now recorded.
    pub new: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn steps_say_what_happened_besides_running() {
        let step = |lock_retries, dropped: &[&str]| StepReport {
            version: Version::new(2).unwrap(),
            name: "index_users".to_owned(),
            phase: Phase::Expand,
            direction: Direction::Up,
            duration: Duration::from_millis(3200),
            statements: 1,
            resumed_at: None,
            lock_retries,
            dropped_invalid_indexes: dropped.iter().map(|d| (*d).to_owned()).collect(),
        };
        // (retries, dropped indexes) -> the report's line
        let cases = [
            (0, &[][..], "applied 2 index_users (expand) in 3.2s\n"),
            (1, &[][..], "applied 2 index_users (expand) in 3.2s (after 1 retry on lock timeout)\n"),
            (
                2,
                &["public.users_email"][..],
                "applied 2 index_users (expand) in 3.2s (after 2 retries on lock timeout; dropped the INVALID index \
                 public.users_email a failed build left, and built it again)\n",
            ),
        ];
        for (retries, dropped, expected) in cases {
            let report = Report { steps: vec![step(retries, dropped)], ..Report::default() };
            assert_eq!(report.to_string(), expected);
        }
    }
}
