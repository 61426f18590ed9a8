//! Repeatable migrations: which to (re)apply, and what `status` says of each.

use std::time::SystemTime;

use crate::history::RepeatableRow;

/// A repeatable migration as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AvailableRepeatable<'a> {
    /// Its name.
    pub(crate) name: &'a str,
    /// Its current checksum.
    pub(crate) checksum: &'a str,
}

/// The repeatables a run applies, in name order: those never applied, and those whose
/// checksum changed since they last ran. A row of a repeatable the binary no longer has is
/// left alone (the objects it made stay; dropping them is a versioned migration's job).
/// A run to a target version applies none: a repeatable is written against the latest
/// schema, which that run does not reach.
pub(crate) fn plan_repeatables<'a>(
    available: &[AvailableRepeatable<'a>],
    rows: &[RepeatableRow],
    target: Option<crate::version::Version>,
) -> Vec<&'a str> {
    if target.is_some() {
        return Vec::new();
    }
    let mut names: Vec<&'a str> = available
        .iter()
        .filter(|a| !rows.iter().any(|r| r.name == a.name && r.checksum == a.checksum))
        .map(|a| a.name)
        .collect();
    names.sort_unstable();
    names
}

/// The state of a repeatable migration for `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepeatableState {
    /// Never applied: the next run applies it.
    Pending,
    /// Applied as it is now.
    Applied,
    /// Changed since it last ran: the next run applies it again.
    Changed,
    /// In the history but no longer in this binary: left alone.
    Unknown,
}

impl RepeatableState {
    /// A short word: `pending`, `applied`, `changed`, `unknown`.
    pub fn label(self) -> &'static str {
        match self {
            RepeatableState::Pending => "pending",
            RepeatableState::Applied => "applied",
            RepeatableState::Changed => "changed",
            RepeatableState::Unknown => "unknown",
        }
    }
}

/// One repeatable migration in `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatableStatus {
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: RepeatableState,
    /// When it last ran.
    pub applied_at: Option<SystemTime>,
}

/// Every repeatable of the binary and of the history, in name order, with its state.
pub(crate) fn repeatable_status(
    available: &[AvailableRepeatable<'_>],
    rows: &[RepeatableRow],
) -> Vec<RepeatableStatus> {
    let mut out: Vec<RepeatableStatus> = available
        .iter()
        .map(|a| {
            let row = rows.iter().find(|r| r.name == a.name);
            RepeatableStatus {
                name: a.name.to_owned(),
                state: match row {
                    None => RepeatableState::Pending,
                    Some(r) if r.checksum == a.checksum => RepeatableState::Applied,
                    Some(_) => RepeatableState::Changed,
                },
                applied_at: row.map(|r| r.applied_at),
            }
        })
        .collect();
    for row in rows.iter().filter(|r| !available.iter().any(|a| a.name == r.name)) {
        out.push(RepeatableStatus {
            name: row.name.clone(),
            state: RepeatableState::Unknown,
            applied_at: Some(row.applied_at),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, checksum: &str) -> RepeatableRow {
        RepeatableRow {
            name: name.into(),
            checksum: checksum.into(),
            applied_at: SystemTime::UNIX_EPOCH,
            execution_time: None,
            applied_by: String::new(),
        }
    }

    #[test]
    fn repeatables_run_when_new_or_changed_in_name_order() {
        let available = [
            AvailableRepeatable { name: "views", checksum: "v2" },
            AvailableRepeatable { name: "functions", checksum: "f1" },
            AvailableRepeatable { name: "triggers", checksum: "t1" },
        ];
        let rows = [row("functions", "f1"), row("views", "v1"), row("gone", "g1")];
        assert_eq!(plan_repeatables(&available, &rows, None), ["triggers", "views"]);
        assert!(plan_repeatables(&available[1..2], &rows, None).is_empty(), "unchanged: nothing to do");
        let target = crate::version::Version::new(3);
        assert!(plan_repeatables(&available, &rows, target).is_empty(), "a run to a target applies none");
        let status = repeatable_status(&available, &rows);
        let labels: Vec<(&str, &str)> = status.iter().map(|s| (s.name.as_str(), s.state.label())).collect();
        assert_eq!(
            labels,
            [("functions", "applied"), ("gone", "unknown"), ("triggers", "pending"), ("views", "changed")]
        );
    }
}
