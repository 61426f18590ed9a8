//! `status`: every migration of the binary and every history row, merged, with its state.

use std::time::Duration;

use crate::error::PlanError;
use crate::history::HistoryRow;
use crate::version::{Direction, Phase, Version};

use super::model::{Available, Warning};
use super::up::{changed_file, dirty_error};

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
        /// What it means and what to do ([`PlanError::ChecksumMismatch`], or
        /// [`PlanError::EmptyMigrationEdited`] when the migration ran no statement).
        problem: PlanError,
    },
    /// Failed or interrupted (see the error for details and what to do).
    Dirty(PlanError),
    /// In progress in another process, which holds the migration lock now: a row that would
    /// read as interrupted, seen while its runner is alive ([`crate::driver::Driver::lock_holder`]).
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
    /// A squash migration that neither runs nor reads as applied: the database applied the
    /// migrations it squashes in another way than it stands for (see the error).
    Blocked(PlanError),
}

impl MigrationState {
    /// A short word: `pending`, `applied`, `changed`, `failed`, `interrupted`, `running`,
    /// `unknown`, `blocked`.
    pub fn label(&self) -> &'static str {
        match self {
            MigrationState::Pending => "pending",
            MigrationState::Running { .. } => "running",
            MigrationState::Applied => "applied",
            MigrationState::ChecksumMismatch { .. } => "changed",
            MigrationState::Dirty(PlanError::Interrupted { .. }) => "interrupted",
            MigrationState::Dirty(_) => "failed",
            MigrationState::Unknown => "unknown",
            MigrationState::Blocked(_) => "blocked",
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
pub(crate) fn mark_running(entries: &mut [StatusEntry], holder: &str) {
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
pub(crate) fn running_not_interrupted(problems: &mut Vec<PlanError>, warnings: &mut Vec<Warning>, holder: &str) {
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
pub(crate) fn any_interrupted(entries: &[StatusEntry]) -> bool {
    entries.iter().any(|e| matches!(e.state, MigrationState::Dirty(PlanError::Interrupted { .. })))
}

/// Merges migrations and history into one list in version order.
pub(crate) fn status(available: &[Available<'_>], history: &[HistoryRow]) -> Vec<StatusEntry> {
    let mut entries: Vec<StatusEntry> = Vec::with_capacity(available.len() + history.len());
    let rows: std::collections::HashMap<Version, &HistoryRow> = history.iter().map(|r| (r.version, r)).collect();
    let known: std::collections::HashSet<Version> = available.iter().map(|a| a.version).collect();
    for a in available {
        let row = rows.get(&a.version).copied();
        let state = match row {
            None => MigrationState::Pending,
            Some(row) => match dirty_error(row) {
                Some(e) => MigrationState::Dirty(e),
                None => match changed_file(row, a) {
                    Some(problem) => MigrationState::ChecksumMismatch { stored: row.checksum.clone(), problem },
                    None => MigrationState::Applied,
                },
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

/// Marks the squash migration `version` blocked by `problem` (its squashed migrations'
/// rows are shown as they are).
pub(crate) fn mark_blocked(entries: &mut [StatusEntry], version: Version, problem: PlanError) {
    if let Some(entry) = entries.iter_mut().find(|e| e.version == version) {
        entry.state = MigrationState::Blocked(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testkit::{available, row, v};

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
