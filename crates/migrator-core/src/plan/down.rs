//! Planning a down run: in reverse order of application, refused before anything runs.

use crate::error::PlanError;
use crate::history::HistoryRow;
use crate::version::Version;

use super::model::{Available, DownKind};
use super::up::dirty_error;

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
pub(crate) fn plan_down(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::State;
    use crate::plan::testkit::{available, row, v};

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
}
