//! The preconditions of the operations that change the history without running a
//! migration the usual way: `force`, `force --reverted`, `baseline`, `repair`, and which row
//! `resume` works on.

use crate::error::PlanError;
use crate::history::{HistoryRow, State};
use crate::version::{Direction, Version};

use super::model::{Available, DownKind};
use super::resume::find_dirty;

/// `force V`: the rank to record `version` with (its own when it has a row, else the next).
pub(crate) fn plan_force(
    available: &[Available<'_>],
    history: &[HistoryRow],
    version: Version,
) -> Result<i64, PlanError> {
    if !available.iter().any(|a| a.version == version) {
        return Err(PlanError::ForceUnknown { version });
    }
    let next = history.iter().map(|r| r.rank).max().unwrap_or(0).saturating_add(1);
    Ok(history.iter().find(|r| r.version == version).map_or(next, |r| r.rank))
}

/// `force V --reverted`: there must be a row to remove.
pub(crate) fn plan_force_reverted(history: &[HistoryRow], version: Version) -> Result<(), PlanError> {
    if history.iter().any(|r| r.version == version) { Ok(()) } else { Err(PlanError::NotRecorded { version }) }
}

/// `baseline V`: every migration up to `version` is recorded as applied, in version order,
/// on a history without rows.
pub(crate) fn plan_baseline(
    available: &[Available<'_>],
    history: &[HistoryRow],
    version: Version,
) -> Result<Vec<Version>, PlanError> {
    if !history.is_empty() {
        return Err(PlanError::BaselineNotEmpty { rows: history.len() });
    }
    let versions: Vec<Version> = available.iter().map(|a| a.version).filter(|v| *v <= version).collect();
    if versions.is_empty() {
        return Err(PlanError::NothingToBaseline { version });
    }
    Ok(versions)
}

/// One applied migration `repair` re-records, and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repair {
    /// The migration.
    pub(crate) version: Version,
    /// The checksum history had.
    pub(crate) old_checksum: String,
    /// Its rank.
    pub(crate) rank: i64,
    /// Its recorded statement counts.
    pub(crate) statements_total: u32,
    pub(crate) statements_done: u32,
}

/// `repair`: the applied migrations whose file changed since (checksum, down checksum or
/// name). Refused when one of them was applied with no statement at all, since its SQL never
/// ran: recording it would say it had.
pub(crate) fn plan_repair(available: &[Available<'_>], history: &[HistoryRow]) -> Result<Vec<Repair>, PlanError> {
    let mut repairs = Vec::new();
    for row in history.iter().filter(|r| r.state == State::Applied) {
        let Some(a) = available.iter().find(|a| a.version == row.version) else { continue };
        let changed =
            row.checksum != a.checksum || row.down_checksum.as_deref() != a.down_checksum || row.name != a.name;
        if !changed {
            continue;
        }
        if row.checksum != a.checksum && row.statements_total == 0 && !a.no_op {
            return Err(PlanError::EmptyMigrationEdited {
                version: row.version,
                name: a.name.to_owned(),
                origin: a.origin.to_owned(),
            });
        }
        repairs.push(Repair {
            version: row.version,
            old_checksum: row.checksum.clone(),
            rank: row.rank,
            statements_total: row.statements_total,
            statements_done: row.statements_done,
        });
    }
    Ok(repairs)
}

/// `resume`: the failed or interrupted row, and the direction it was going; refused when
/// this binary cannot continue it.
pub(crate) fn plan_resume_target<'h>(
    available: &[Available<'_>],
    history: &'h [HistoryRow],
) -> Result<(&'h HistoryRow, Direction), PlanError> {
    let row = find_dirty(history)?;
    let Some(a) = available.iter().find(|a| a.version == row.version) else {
        return Err(PlanError::ResumeUnknown { version: row.version, name: row.name.clone() });
    };
    let direction = match row.state {
        State::Reverting | State::RevertFailed => Direction::Down,
        _ => Direction::Up,
    };
    if direction == Direction::Down && a.down != DownKind::Reversible {
        return Err(PlanError::ResumeNoDown { version: row.version, name: row.name.clone() });
    }
    Ok((row, direction))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testkit::{available, row, v};

    #[test]
    fn force_needs_a_known_migration_and_keeps_its_rank() {
        let avail = available(&[1, 2, 3], &[]);
        let history = vec![row(1, 5), row(2, 7)];
        assert_eq!(plan_force(&avail, &history, v(2)), Ok(7), "its own rank");
        assert_eq!(plan_force(&avail, &history, v(3)), Ok(8), "the next rank");
        assert_eq!(plan_force(&avail, &[], v(3)), Ok(1));
        let e = plan_force(&avail, &history, v(9)).unwrap_err();
        assert_eq!(e, PlanError::ForceUnknown { version: v(9) });
        assert!(e.to_string().contains("this binary has no such migration"), "{e}");
        assert_eq!(plan_force_reverted(&history, v(2)), Ok(()));
        let e = plan_force_reverted(&history, v(3)).unwrap_err();
        assert!(e.to_string().contains("has no history row"), "{e}");
    }

    #[test]
    fn baseline_needs_an_empty_history_and_a_migration() {
        let avail = available(&[1, 2, 3], &[]);
        assert_eq!(plan_baseline(&avail, &[], v(2)), Ok(vec![v(1), v(2)]));
        assert_eq!(plan_baseline(&avail, &[row(1, 1)], v(2)), Err(PlanError::BaselineNotEmpty { rows: 1 }));
        assert_eq!(
            plan_baseline(&available(&[5], &[]), &[], v(2)),
            Err(PlanError::NothingToBaseline { version: v(2) })
        );
    }

    #[test]
    fn repair_lists_changed_applied_migrations_and_refuses_sql_that_never_ran() {
        let avail = available(&[1, 2, 3, 4], &[]);
        let history = vec![
            row(1, 1),
            HistoryRow { checksum: "old".into(), ..row(2, 2) },
            HistoryRow { name: "before".into(), ..row(3, 3) },
            HistoryRow { checksum: "old".into(), state: State::Failed, ..row(4, 4) },
        ];
        let repairs = plan_repair(&avail, &history).unwrap();
        assert_eq!(
            repairs.iter().map(|r| r.version.get()).collect::<Vec<_>>(),
            vec![2, 3],
            "failed rows are not repaired"
        );
        assert_eq!(repairs[0].old_checksum, "old");
        let mut down = avail.clone();
        down[0].down_checksum = Some("new down");
        assert_eq!(plan_repair(&down, &[row(1, 1)]).unwrap().len(), 1, "an edited down script is re-recorded");
        let empty = vec![HistoryRow { checksum: "old".into(), statements_total: 0, statements_done: 0, ..row(2, 1) }];
        let e = plan_repair(&avail, &empty).unwrap_err();
        assert!(matches!(e, PlanError::EmptyMigrationEdited { .. }), "{e}");
        assert!(!e.to_string().contains("`repair`"), "never advises repair for SQL that never ran: {e}");
    }

    #[test]
    fn resume_targets_the_dirty_row_this_binary_can_continue() {
        let mut avail = available(&[1, 2], &[]);
        let failed = HistoryRow { state: State::Failed, ..row(2, 2) };
        let history = vec![row(1, 1), failed.clone()];
        assert_eq!(plan_resume_target(&avail, &history).map(|(r, d)| (r.version, d)), Ok((v(2), Direction::Up)));
        assert_eq!(plan_resume_target(&avail, &[row(1, 1)]).unwrap_err(), PlanError::NothingToResume);
        let unknown = vec![HistoryRow { state: State::Running, ..row(7, 1) }];
        assert!(matches!(plan_resume_target(&avail, &unknown), Err(PlanError::ResumeUnknown { .. })));
        let reverting = vec![HistoryRow { state: State::Reverting, ..row(2, 1) }];
        assert_eq!(plan_resume_target(&avail, &reverting).map(|(_, d)| d), Ok(Direction::Down));
        avail[1].down = DownKind::Missing;
        let e = plan_resume_target(&avail, &reverting).unwrap_err();
        assert!(matches!(e, PlanError::ResumeNoDown { .. }), "{e}");
    }
}
