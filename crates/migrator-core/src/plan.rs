//! The planner: pure functions from (available migrations, history, policy, phases, target)
//! to what a run would do, or the reason it must not.
//!
//! The runner, `status`, `validate`, `plan` and the CLI all decide through these functions,
//! so they cannot drift apart. Nothing here touches a database.

use std::time::Duration;

use crate::checksum::StatementRecord;
pub use crate::error::PlanError;
use crate::history::{HistoryRow, State};
use crate::version::{Direction, Phase, Phases, Version};

/// A migration as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Available<'a> {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: &'a str,
    /// File or Rust type, for messages.
    pub origin: &'a str,
    /// Phase.
    pub phase: Phase,
    /// Current checksum.
    pub checksum: &'a str,
    /// Whether it can be reverted.
    pub down: DownKind<'a>,
}

/// Whether a migration can be reverted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownKind<'a> {
    /// It has a down step.
    Reversible,
    /// Deliberately irreversible, with the reason.
    Irreversible(&'a str),
    /// No down was written.
    Missing,
}

/// What the user allows beyond the strict rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Apply a pending migration older than the newest applied one of its phase (warn).
    pub allow_out_of_order: bool,
    /// Accept applied versions this binary does not know even inside its known range (warn).
    pub ignore_unknown: bool,
}

/// Input of [`plan_up`] and [`check`].
#[derive(Debug, Clone, Copy)]
pub struct UpInput<'a> {
    /// Migrations of this binary, in version order.
    pub available: &'a [Available<'a>],
    /// History rows, in version order.
    pub history: &'a [HistoryRow],
    /// Policy.
    pub policy: Policy,
    /// Phases to apply.
    pub phases: Phases,
    /// Apply nothing newer than this version.
    pub target: Option<Version>,
}

/// One migration to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: Phase,
    /// It is older than the newest applied migration of its phase (allowed by policy).
    pub out_of_order: bool,
}

/// Why a pending migration is not applied by this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Its phase is not selected (contract migrations wait for the contract phase).
    PhaseNotSelected {
        /// Its phase.
        phase: Phase,
    },
    /// It is newer than the run's target.
    AfterTarget {
        /// The target.
        target: Version,
    },
    /// Another process applied (or, going down, reverted) it while this run was under way;
    /// only SQLite tells, for runs without the migration lock.
    DoneElsewhere {
        /// Applying or reverting.
        direction: Direction,
    },
}

/// A pending migration this run leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
    /// Why.
    pub reason: SkipReason,
}

/// Something worth knowing that does not stop the run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// An applied version newer than every migration of this binary: the database was
    /// migrated by a newer release (rolling deploy, or a rollback of the app).
    UnknownNewer {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },
    /// An applied version unknown to this binary, accepted because unknown versions are ignored.
    UnknownIgnored {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },
    /// A migration applied out of order, as the policy allows.
    OutOfOrder {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// The newest applied version of its phase.
        newest_applied: Version,
    },
    /// A migration in progress in another process, which holds the migration lock now (its
    /// row would otherwise read as interrupted).
    Running {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// 1-based statement it is on.
        statement: u32,
        /// Statements in the script.
        total: u32,
        /// Who holds the migration lock.
        holder: String,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::UnknownNewer { version, name } => write!(
                f,
                "applied migration {version} `{name}` is newer than every migration of this binary: \
                 a newer release migrated this database (rolling deploy); continuing"
            ),
            Warning::UnknownIgnored { version, name } => {
                write!(f, "applied migration {version} `{name}` is unknown to this binary; ignored as configured")
            }
            Warning::OutOfOrder { version, name, newest_applied } => write!(
                f,
                "migration {version} `{name}` is applied out of order (migration {newest_applied} is already applied)"
            ),
            Warning::Running { version, name, statement, total, holder } => write!(
                f,
                "migration {version} `{name}` is running in another process (statement {statement} of {total}), \
                 which holds the migration lock: {holder}. Check again when it is done"
            ),
        }
    }
}

/// The plan of an up run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpPlan {
    /// What to apply, in order.
    pub apply: Vec<Planned>,
    /// Pending migrations left alone, and why.
    pub skipped: Vec<Skipped>,
    /// Warnings.
    pub warnings: Vec<Warning>,
    /// The rank the first applied migration gets.
    pub next_rank: i64,
}

/// The error a dirty (failed, running or reverting) row stands for.
pub fn dirty_error(row: &HistoryRow) -> Option<PlanError> {
    let direction = match row.state {
        State::Applied => return None,
        State::Running | State::Failed => Direction::Up,
        State::Reverting | State::RevertFailed => Direction::Down,
    };
    Some(match row.state {
        State::Failed | State::RevertFailed => PlanError::Failed {
            version: row.version,
            name: row.name.clone(),
            direction,
            statement: row.failed_statement,
            total: row.statements_total,
            line: row.failed_line,
            error: row.error.clone().unwrap_or_else(|| "no error recorded".to_owned()),
        },
        _ => {
            let statement = row.statements_done.saturating_add(1);
            let line = usize::try_from(row.statements_done)
                .ok()
                .and_then(|at| row.statements.get(at))
                .and_then(|r| u32::try_from(r.line).ok());
            PlanError::Interrupted {
                version: row.version,
                name: row.name.clone(),
                direction,
                statement,
                total: row.statements_total,
                line,
            }
        }
    })
}

/// The result of [`check`]: the plan as far as it can be made, and every problem found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checked {
    /// The plan (what would run if there were no problems).
    pub plan: UpPlan,
    /// Every problem, most urgent first (dirty rows, checksums, unknown, out of order).
    pub problems: Vec<PlanError>,
}

/// Checks the history against the migrations and plans an up run, collecting every problem.
pub fn check(input: &UpInput<'_>) -> Checked {
    let mut dirty = Vec::new();
    let mut mismatches = Vec::new();
    let mut unknown = Vec::new();
    let mut out_of_order = Vec::new();
    let mut plan = UpPlan { next_rank: 1, ..UpPlan::default() };

    let newest_known = input.available.iter().map(|a| a.version).max();
    // Lookups by version: a thousand migrations must not cost a million comparisons.
    let by_version: std::collections::HashMap<Version, &Available<'_>> =
        input.available.iter().map(|a| (a.version, a)).collect();
    let recorded: std::collections::HashSet<Version> = input.history.iter().map(|r| r.version).collect();
    for row in input.history {
        plan.next_rank = plan.next_rank.max(row.rank.saturating_add(1));
        if let Some(e) = dirty_error(row) {
            dirty.push(e);
        }
        match by_version.get(&row.version) {
            Some(available) => {
                if row.state == State::Applied && row.checksum != available.checksum {
                    mismatches.push(PlanError::ChecksumMismatch {
                        version: row.version,
                        name: available.name.to_owned(),
                        origin: available.origin.to_owned(),
                        stored: row.checksum.clone(),
                        current: available.checksum.to_owned(),
                    });
                }
            }
            None => match newest_known {
                Some(newest) if row.version < newest => {
                    if input.policy.ignore_unknown {
                        plan.warnings.push(Warning::UnknownIgnored { version: row.version, name: row.name.clone() });
                    } else {
                        unknown.push(PlanError::UnknownApplied {
                            version: row.version,
                            name: row.name.clone(),
                            newest_known: newest,
                        });
                    }
                }
                _ => plan.warnings.push(Warning::UnknownNewer { version: row.version, name: row.name.clone() }),
            },
        }
    }

    let newest_applied = |phase: Phase| {
        input.history.iter().filter(|r| r.phase == phase && r.state == State::Applied).map(|r| r.version).max()
    };
    let newest = [newest_applied(Phase::Expand), newest_applied(Phase::Contract)];
    for available in input.available {
        if recorded.contains(&available.version) {
            continue;
        }
        let name = available.name.to_owned();
        if let Some(target) = input.target.filter(|target| available.version > *target) {
            plan.skipped.push(Skipped { version: available.version, name, reason: SkipReason::AfterTarget { target } });
            continue;
        }
        if !input.phases.includes(available.phase) {
            plan.skipped.push(Skipped {
                version: available.version,
                name,
                reason: SkipReason::PhaseNotSelected { phase: available.phase },
            });
            continue;
        }
        let newest_of_phase = match available.phase {
            Phase::Expand => newest[0],
            Phase::Contract => newest[1],
        };
        let late = newest_of_phase.filter(|newest| available.version < *newest);
        if let Some(newest_applied) = late {
            if input.policy.allow_out_of_order {
                plan.warnings.push(Warning::OutOfOrder {
                    version: available.version,
                    name: name.clone(),
                    newest_applied,
                });
            } else {
                out_of_order.push(PlanError::OutOfOrder {
                    version: available.version,
                    name: name.clone(),
                    newest_applied,
                });
            }
        }
        plan.apply.push(Planned {
            version: available.version,
            name,
            phase: available.phase,
            out_of_order: late.is_some(),
        });
    }

    let mut problems = dirty;
    problems.extend(mismatches);
    problems.extend(unknown);
    problems.extend(out_of_order);
    Checked { plan, problems }
}

/// Plans an up run: the plan, or the most urgent problem.
pub fn plan_up(input: &UpInput<'_>) -> Result<UpPlan, PlanError> {
    let checked = check(input);
    match checked.problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(checked.plan),
    }
}

/// How far to revert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// The newest `n` applied migrations (by order of application).
    Steps(usize),
    /// Every applied migration newer than this version; it stays applied.
    To(Version),
    /// Everything.
    All,
}

/// One migration to revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDown {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
}

/// Plans a down run, in reverse order of application. Refuses before anything runs when a
/// migration in the walk is irreversible, has no down, or is unknown to this binary.
pub fn plan_down(
    available: &[Available<'_>],
    history: &[HistoryRow],
    target: DownTarget,
) -> Result<Vec<PlannedDown>, PlanError> {
    if let Some(e) = history.iter().find_map(dirty_error) {
        return Err(e);
    }
    let mut applied: Vec<&HistoryRow> = history.iter().collect();
    applied.sort_by(|a, b| b.rank.cmp(&a.rank).then(b.version.cmp(&a.version)));
    let selected: Vec<&HistoryRow> = match target {
        DownTarget::Steps(n) => applied.into_iter().take(n).collect(),
        DownTarget::To(version) => applied.into_iter().filter(|r| r.version > version).collect(),
        DownTarget::All => applied,
    };
    let mut plan = Vec::with_capacity(selected.len());
    for row in selected {
        let Some(available) = available.iter().find(|a| a.version == row.version) else {
            return Err(PlanError::RevertUnknown { version: row.version, name: row.name.clone() });
        };
        match available.down {
            DownKind::Reversible => {}
            DownKind::Irreversible(reason) => {
                return Err(PlanError::Irreversible {
                    version: row.version,
                    name: available.name.to_owned(),
                    reason: reason.to_owned(),
                });
            }
            DownKind::Missing => {
                return Err(PlanError::NoDown {
                    version: row.version,
                    name: available.name.to_owned(),
                    origin: available.origin.to_owned(),
                });
            }
        }
        plan.push(PlannedDown { version: row.version, name: available.name.to_owned() });
    }
    Ok(plan)
}

/// The dirty row `resume` works on.
pub fn find_dirty(history: &[HistoryRow]) -> Result<&HistoryRow, PlanError> {
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
pub fn plan_resume(
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

/// The state of one migration for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationState {
    /// Not applied yet.
    Pending,
    /// Applied.
    Applied,
    /// Applied, but its file changed since.
    ChecksumMismatch {
        /// The recorded checksum.
        stored: String,
    },
    /// Failed or interrupted (see the error for details and what to do).
    Dirty(PlanError),
    /// In progress in another process, which holds the migration lock now: a row that would
    /// read as interrupted, seen while its runner is alive ([`crate::Driver::lock_holder`]).
    Running {
        /// Applying or reverting.
        direction: Direction,
        /// 1-based statement it is on.
        statement: u32,
        /// Statements in the script.
        total: u32,
        /// Who holds the migration lock, as the driver describes it.
        holder: String,
    },
    /// Applied in the database but unknown to this binary.
    Unknown,
}

impl MigrationState {
    /// A short word: `pending`, `applied`, `changed`, `failed`, `interrupted`, `running`,
    /// `unknown`.
    pub fn label(&self) -> &'static str {
        match self {
            MigrationState::Pending => "pending",
            MigrationState::Running { .. } => "running",
            MigrationState::Applied => "applied",
            MigrationState::ChecksumMismatch { .. } => "changed",
            MigrationState::Dirty(PlanError::Interrupted { .. }) => "interrupted",
            MigrationState::Dirty(_) => "failed",
            MigrationState::Unknown => "unknown",
        }
    }
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: Phase,
    /// State.
    pub state: MigrationState,
    /// When it was applied (or last written).
    pub applied_at: Option<std::time::SystemTime>,
    /// How long it took.
    pub execution_time: Option<Duration>,
    /// Who applied it.
    pub applied_by: Option<String>,
    /// How the row came to be, when not by running it.
    pub note: Option<String>,
}

/// Marks the interrupted entries as running in another process, held by `holder`: called
/// when the migration lock is held while the history shows a migration in progress.
pub fn mark_running(entries: &mut [StatusEntry], holder: &str) {
    for entry in entries {
        if let MigrationState::Dirty(PlanError::Interrupted { direction, statement, total, .. }) = &entry.state {
            entry.state = MigrationState::Running {
                direction: *direction,
                statement: *statement,
                total: *total,
                holder: holder.to_owned(),
            };
        }
    }
}

/// Moves the interrupted-migration problems of a validation to warnings that the migration
/// is running, held by `holder`: called when the migration lock is held.
pub fn running_not_interrupted(problems: &mut Vec<PlanError>, warnings: &mut Vec<Warning>, holder: &str) {
    problems.retain(|problem| match problem {
        PlanError::Interrupted { version, name, statement, total, .. } => {
            warnings.push(Warning::Running {
                version: *version,
                name: name.clone(),
                statement: *statement,
                total: *total,
                holder: holder.to_owned(),
            });
            false
        }
        _ => true,
    });
}

/// Whether any entry reads as interrupted (a runner may still be at work on it).
pub fn any_interrupted(entries: &[StatusEntry]) -> bool {
    entries.iter().any(|e| matches!(e.state, MigrationState::Dirty(PlanError::Interrupted { .. })))
}

/// Merges migrations and history into one list in version order.
pub fn status(available: &[Available<'_>], history: &[HistoryRow]) -> Vec<StatusEntry> {
    let mut entries: Vec<StatusEntry> = Vec::with_capacity(available.len() + history.len());
    let rows: std::collections::HashMap<Version, &HistoryRow> = history.iter().map(|r| (r.version, r)).collect();
    let known: std::collections::HashSet<Version> = available.iter().map(|a| a.version).collect();
    for a in available {
        let row = rows.get(&a.version).copied();
        let state = match row {
            None => MigrationState::Pending,
            Some(row) => match dirty_error(row) {
                Some(e) => MigrationState::Dirty(e),
                None if row.checksum != a.checksum => MigrationState::ChecksumMismatch { stored: row.checksum.clone() },
                None => MigrationState::Applied,
            },
        };
        entries.push(StatusEntry {
            version: a.version,
            name: a.name.to_owned(),
            phase: a.phase,
            state,
            applied_at: row.map(|r| r.applied_at),
            execution_time: row.and_then(|r| r.execution_time),
            applied_by: row.map(|r| r.applied_by.clone()),
            note: row.and_then(|r| r.note.clone()),
        });
    }
    for row in history.iter().filter(|r| !known.contains(&r.version)) {
        entries.push(StatusEntry {
            version: row.version,
            name: row.name.clone(),
            phase: row.phase,
            state: dirty_error(row).map_or(MigrationState::Unknown, MigrationState::Dirty),
            applied_at: Some(row.applied_at),
            execution_time: row.execution_time,
            applied_by: Some(row.applied_by.clone()),
            note: row.note.clone(),
        });
    }
    entries.sort_by_key(|e| e.version);
    entries
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn v(n: i64) -> Version {
        Version::new(n).unwrap()
    }

    const NAMES: [&str; 10] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];
    const SUMS: [&str; 10] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"];

    /// Migration `n` (name `m{n}`, checksum `c{n}`), expand unless listed in `contract`.
    fn available(versions: &[i64], contract: &[i64]) -> Vec<Available<'static>> {
        versions
            .iter()
            .map(|&n| Available {
                version: v(n),
                name: NAMES[n as usize],
                origin: "migrations/file.up.sql",
                phase: if contract.contains(&n) { Phase::Contract } else { Phase::Expand },
                checksum: SUMS[n as usize],
                down: DownKind::Reversible,
            })
            .collect()
    }

    fn row(n: i64, rank: i64) -> HistoryRow {
        HistoryRow {
            version: v(n),
            name: format!("m{n}"),
            phase: Phase::Expand,
            state: State::Applied,
            checksum: format!("c{n}"),
            down_checksum: None,
            rank,
            statements_total: 1,
            statements_done: 1,
            statements: Vec::new(),
            failed_statement: None,
            failed_line: None,
            error: None,
            applied_at: SystemTime::UNIX_EPOCH,
            execution_time: None,
            applied_by: "tester".into(),
            note: None,
        }
    }

    fn contract_row(n: i64, rank: i64) -> HistoryRow {
        HistoryRow { phase: Phase::Contract, ..row(n, rank) }
    }

    fn up(
        avail: &[Available<'_>],
        history: &[HistoryRow],
        policy: Policy,
        phases: Phases,
        target: Option<i64>,
    ) -> Result<Vec<i64>, PlanError> {
        plan_up(&UpInput { available: avail, history, policy, phases, target: target.map(v) })
            .map(|plan| plan.apply.iter().map(|p| p.version.get()).collect())
    }

    #[test]
    fn up_plans() {
        let strict = Policy::default();
        let lenient = Policy { allow_out_of_order: true, ignore_unknown: true };
        struct Case {
            name: &'static str,
            available: Vec<Available<'static>>,
            history: Vec<HistoryRow>,
            policy: Policy,
            phases: Phases,
            target: Option<i64>,
            expect: Result<Vec<i64>, &'static str>,
        }
        let cases = vec![
            Case {
                name: "fresh database applies all",
                available: available(&[1, 2, 3], &[]),
                history: vec![],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Ok(vec![1, 2, 3]),
            },
            Case {
                name: "up to date is a no-op",
                available: available(&[1, 2], &[]),
                history: vec![row(1, 1), row(2, 2)],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Ok(vec![]),
            },
            Case {
                name: "pending after applied",
                available: available(&[1, 2, 3], &[]),
                history: vec![row(1, 1)],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Ok(vec![2, 3]),
            },
            Case {
                name: "target bounds the run",
                available: available(&[1, 2, 3], &[]),
                history: vec![],
                policy: strict,
                phases: Phases::Expand,
                target: Some(2),
                expect: Ok(vec![1, 2]),
            },
            Case {
                name: "contract skipped in expand phase",
                available: available(&[1, 2, 3], &[2]),
                history: vec![],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Ok(vec![1, 3]),
            },
            Case {
                name: "contract phase applies only contract",
                available: available(&[1, 2, 3], &[2]),
                history: vec![row(1, 1), row(3, 2)],
                policy: strict,
                phases: Phases::Contract,
                target: None,
                expect: Ok(vec![2]),
            },
            Case {
                name: "pending contract older than applied expand is not out of order",
                available: available(&[1, 2, 3], &[2]),
                history: vec![row(1, 1), row(3, 2)],
                policy: strict,
                phases: Phases::All,
                target: None,
                expect: Ok(vec![2]),
            },
            Case {
                name: "out of order expand is refused",
                available: available(&[1, 2, 3], &[]),
                history: vec![row(1, 1), row(3, 2)],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Err("migration 2 `m2` is pending but migration 3 is already applied"),
            },
            Case {
                name: "out of order allowed",
                available: available(&[1, 2, 3], &[]),
                history: vec![row(1, 1), row(3, 2)],
                policy: lenient,
                phases: Phases::Expand,
                target: None,
                expect: Ok(vec![2]),
            },
            Case {
                name: "out of order within the contract queue",
                available: available(&[1, 2, 3], &[2, 3]),
                history: vec![row(1, 1), contract_row(3, 2)],
                policy: strict,
                phases: Phases::Contract,
                target: None,
                expect: Err("migration 2 `m2` is pending but migration 3 is already applied"),
            },
            Case {
                name: "unknown newer version is a rolling deploy",
                available: available(&[1, 2], &[]),
                history: vec![row(1, 1), row(2, 2), row(5, 3)],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Ok(vec![]),
            },
            Case {
                name: "unknown version inside the range is an error",
                available: available(&[1, 3], &[]),
                history: vec![row(1, 1), row(2, 2), row(3, 3)],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Err("migration 2 `m2` is applied in the database but this binary has no such migration"),
            },
            Case {
                name: "unknown version ignored by policy",
                available: available(&[1, 3], &[]),
                history: vec![row(1, 1), row(2, 2), row(3, 3)],
                policy: lenient,
                phases: Phases::Expand,
                target: None,
                expect: Ok(vec![]),
            },
            Case {
                name: "checksum mismatch",
                available: available(&[1, 2], &[]),
                history: vec![HistoryRow { checksum: "old".into(), ..row(1, 1) }],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Err(
                    "checksum mismatch for applied migration 1 `m1` (migrations/file.up.sql): it was applied as old but the file now gives c1",
                ),
            },
            Case {
                name: "failed row blocks",
                available: available(&[1, 2], &[]),
                history: vec![HistoryRow {
                    state: State::Failed,
                    failed_statement: Some(2),
                    failed_line: Some(9),
                    statements_total: 3,
                    statements_done: 1,
                    error: Some("boom".into()),
                    ..row(1, 1)
                }],
                policy: lenient,
                phases: Phases::Expand,
                target: None,
                expect: Err("migration 1 `m1` failed at statement 2 of 3 (line 9): boom"),
            },
            Case {
                name: "interrupted row blocks",
                available: available(&[1], &[]),
                history: vec![HistoryRow {
                    state: State::Running,
                    statements_total: 3,
                    statements_done: 1,
                    statements: vec![
                        StatementRecord { line: 1, hash: "a".into() },
                        StatementRecord { line: 4, hash: "b".into() },
                    ],
                    ..row(1, 1)
                }],
                policy: lenient,
                phases: Phases::Expand,
                target: None,
                expect: Err("migration 1 `m1` was interrupted at statement 2 of 3 (line 4)"),
            },
            Case {
                name: "dirty beats checksum mismatch",
                available: available(&[1, 2], &[]),
                history: vec![
                    HistoryRow { checksum: "old".into(), ..row(1, 1) },
                    HistoryRow { state: State::Reverting, ..row(2, 2) },
                ],
                policy: strict,
                phases: Phases::Expand,
                target: None,
                expect: Err("reverting migration 2 `m2` was interrupted"),
            },
        ];
        for case in cases {
            let got = up(&case.available, &case.history, case.policy, case.phases, case.target);
            match (&got, &case.expect) {
                (Ok(got), Ok(expect)) => assert_eq!(got, expect, "{}", case.name),
                (Err(e), Err(prefix)) => assert!(e.to_string().starts_with(prefix), "{}: {e}", case.name),
                _ => panic!("{}: got {got:?}, expected {:?}", case.name, case.expect),
            }
        }
    }

    #[test]
    fn check_collects_everything_and_plans_ranks() {
        let avail = available(&[1, 2, 4], &[3]);
        let history = vec![HistoryRow { checksum: "x".into(), ..row(1, 7) }, row(3, 2), row(4, 3), row(9, 4)];
        let checked = check(&UpInput {
            available: &avail,
            history: &history,
            policy: Policy::default(),
            phases: Phases::Expand,
            target: None,
        });
        let kinds: Vec<&str> = checked
            .problems
            .iter()
            .map(|p| match p {
                PlanError::ChecksumMismatch { .. } => "mismatch",
                PlanError::UnknownApplied { .. } => "unknown",
                PlanError::OutOfOrder { .. } => "order",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, vec!["mismatch", "unknown", "order"]);
        assert_eq!(checked.plan.next_rank, 8);
        assert_eq!(checked.plan.warnings, vec![Warning::UnknownNewer { version: v(9), name: "m9".into() }]);
        assert!(checked.plan.apply[0].out_of_order);
    }

    #[test]
    fn skipped_migrations_say_why() {
        let avail = available(&[1, 2, 3], &[2]);
        let plan = plan_up(&UpInput {
            available: &avail,
            history: &[],
            policy: Policy::default(),
            phases: Phases::Expand,
            target: Some(v(1)),
        })
        .unwrap();
        assert_eq!(
            plan.skipped,
            vec![
                Skipped { version: v(2), name: "m2".into(), reason: SkipReason::AfterTarget { target: v(1) } },
                Skipped { version: v(3), name: "m3".into(), reason: SkipReason::AfterTarget { target: v(1) } },
            ]
        );
        let plan = plan_up(&UpInput {
            available: &avail,
            history: &[],
            policy: Policy::default(),
            phases: Phases::Expand,
            target: None,
        })
        .unwrap();
        assert_eq!(
            plan.skipped,
            vec![Skipped {
                version: v(2),
                name: "m2".into(),
                reason: SkipReason::PhaseNotSelected { phase: Phase::Contract }
            }]
        );
    }

    fn down(avail: &[Available<'_>], history: &[HistoryRow], target: DownTarget) -> Result<Vec<i64>, PlanError> {
        plan_down(avail, history, target).map(|p| p.iter().map(|d| d.version.get()).collect())
    }

    #[test]
    fn down_plans_follow_application_order() {
        let avail = available(&[1, 2, 3, 4], &[]);
        // 3 was applied out of order after 4.
        let history = vec![row(1, 1), row(2, 2), row(3, 4), row(4, 3)];
        assert_eq!(down(&avail, &history, DownTarget::Steps(1)).unwrap(), vec![3]);
        assert_eq!(down(&avail, &history, DownTarget::Steps(2)).unwrap(), vec![3, 4]);
        assert_eq!(down(&avail, &history, DownTarget::Steps(10)).unwrap(), vec![3, 4, 2, 1]);
        assert_eq!(down(&avail, &history, DownTarget::To(v(2))).unwrap(), vec![3, 4]);
        assert_eq!(down(&avail, &history, DownTarget::All).unwrap(), vec![3, 4, 2, 1]);
        assert_eq!(down(&avail, &history, DownTarget::To(v(4))).unwrap(), Vec::<i64>::new());
    }

    #[test]
    fn down_refuses_before_running_anything() {
        let mut avail = available(&[1, 2, 3], &[]);
        avail[1].down = DownKind::Irreversible("data is gone");
        avail[0].down = DownKind::Missing;
        let history = vec![row(1, 1), row(2, 2), row(3, 3)];
        assert_eq!(down(&avail, &history, DownTarget::Steps(1)).unwrap(), vec![3]);
        let e = down(&avail, &history, DownTarget::Steps(2)).unwrap_err();
        assert!(
            e.to_string().starts_with("migration 2 `m2` is irreversible (data is gone): nothing was reverted"),
            "{e}"
        );
        avail[1].down = DownKind::Reversible;
        let e = down(&avail, &history, DownTarget::All).unwrap_err();
        assert!(e.to_string().contains("has no down script"), "{e}");
        let e = down(&available(&[1, 2], &[]), &history, DownTarget::Steps(1)).unwrap_err();
        assert!(matches!(e, PlanError::RevertUnknown { .. }), "{e}");
        let dirty = vec![HistoryRow { state: State::Failed, ..row(1, 1) }];
        assert!(matches!(down(&available(&[1], &[]), &dirty, DownTarget::All), Err(PlanError::Failed { .. })));
    }

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

    #[test]
    fn status_merges_history_and_files() {
        let avail = available(&[1, 2, 3], &[]);
        let history = vec![row(1, 1), HistoryRow { checksum: "old".into(), ..row(2, 2) }, row(8, 3)];
        let entries = status(&avail, &history);
        let labels: Vec<(i64, &str)> = entries.iter().map(|e| (e.version.get(), e.state.label())).collect();
        assert_eq!(labels, vec![(1, "applied"), (2, "changed"), (3, "pending"), (8, "unknown")]);
    }

    #[test]
    fn a_held_lock_turns_interrupted_into_running() {
        let interrupted = PlanError::Interrupted {
            version: v(2),
            name: "slow".into(),
            direction: Direction::Up,
            statement: 2,
            total: 3,
            line: Some(3),
        };
        let failed = PlanError::Failed {
            version: v(3),
            name: "bad".into(),
            direction: Direction::Up,
            statement: Some(1),
            total: 1,
            line: Some(1),
            error: "boom".into(),
        };
        let entry = |version: i64, state: MigrationState| StatusEntry {
            version: v(version),
            name: String::new(),
            phase: Phase::Expand,
            state,
            applied_at: None,
            execution_time: None,
            applied_by: None,
            note: None,
        };
        let mut entries = vec![
            entry(1, MigrationState::Applied),
            entry(2, MigrationState::Dirty(interrupted.clone())),
            entry(3, MigrationState::Dirty(failed.clone())),
        ];
        assert!(any_interrupted(&entries));
        mark_running(&mut entries, "pid 7");
        assert!(!any_interrupted(&entries));
        let running =
            MigrationState::Running { direction: Direction::Up, statement: 2, total: 3, holder: "pid 7".into() };
        assert_eq!(entries[1].state, running);
        assert_eq!(entries[2].state.label(), "failed", "a failed row stays failed: nothing is running it");

        let (mut problems, mut warnings) = (vec![interrupted, failed.clone()], Vec::new());
        running_not_interrupted(&mut problems, &mut warnings, "pid 7");
        assert_eq!(problems, vec![failed]);
        assert_eq!(
            warnings,
            vec![Warning::Running {
                version: v(2),
                name: "slow".into(),
                statement: 2,
                total: 3,
                holder: "pid 7".into()
            }]
        );
        assert!(warnings[0].to_string().contains("running in another process (statement 2 of 3)"));
    }
}
