//! Planning an up run: the history checked against the migrations, every problem collected.

use crate::error::PlanError;
use crate::history::{HistoryRow, State};
use crate::version::{Direction, Phase, Version};

use super::model::{Available, Planned, SkipReason, Skipped, UpInput, UpPlan, Warning};

/// The error a dirty (failed, running or reverting) row stands for.
pub(crate) fn dirty_error(row: &HistoryRow) -> Option<PlanError> {
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

/// The problem of an applied migration whose up script changed since it ran: a checksum
/// mismatch, or, when it ran no statement at all, SQL that never ran.
pub(crate) fn changed_file(row: &HistoryRow, available: &Available<'_>) -> Option<PlanError> {
    if row.state != State::Applied || row.checksum == available.checksum {
        return None;
    }
    Some(if row.statements_total == 0 && !available.no_op {
        PlanError::EmptyMigrationEdited {
            version: row.version,
            name: available.name.to_owned(),
            origin: available.origin.to_owned(),
        }
    } else {
        PlanError::ChecksumMismatch {
            version: row.version,
            name: available.name.to_owned(),
            origin: available.origin.to_owned(),
            stored: row.checksum.clone(),
            current: available.checksum.to_owned(),
        }
    })
}

/// What changed in the files of applied migrations without changing what ran: a renamed
/// name part, an edited (added, removed) down script. Worth knowing (`repair` records
/// them), not worth stopping for; only `validate` reports them.
pub(crate) fn file_notes(available: &[Available<'_>], history: &[HistoryRow]) -> Vec<Warning> {
    let mut notes = Vec::new();
    for row in history.iter().filter(|r| r.state == State::Applied) {
        let Some(a) = available.iter().find(|a| a.version == row.version) else { continue };
        if row.name != a.name {
            notes.push(Warning::Renamed { version: row.version, applied_as: row.name.clone(), now: a.name.to_owned() });
        }
        if row.down_checksum.as_deref() != a.down_checksum {
            notes.push(Warning::DownChanged {
                version: row.version,
                name: a.name.to_owned(),
                origin: a.origin.to_owned(),
            });
        }
    }
    notes
}

/// The result of [`check`]: the plan as far as it can be made, and every problem found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Checked {
    /// The plan (what would run if there were no problems).
    pub plan: UpPlan,
    /// Every problem, most urgent first (dirty rows, checksums, unknown, out of order).
    pub problems: Vec<PlanError>,
}

/// Checks the history against the migrations and plans an up run, collecting every problem.
pub(crate) fn check(input: &UpInput<'_>) -> Checked {
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
                if let Some(mismatch) = changed_file(row, available) {
                    mismatches.push(mismatch);
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
pub(crate) fn plan_up(input: &UpInput<'_>) -> Result<UpPlan, PlanError> {
    let checked = check(input);
    match checked.problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(checked.plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::StatementRecord;
    use crate::plan::model::Policy;
    use crate::plan::testkit::{available, contract_row, row, v};
    use crate::version::Phases;

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
    fn sql_that_never_ran_is_not_a_checksum_mismatch() {
        let avail = available(&[1], &[]);
        let empty = HistoryRow { checksum: "old".into(), statements_total: 0, statements_done: 0, ..row(1, 1) };
        let e = up(&avail, &[empty], Policy::default(), Phases::Expand, None).unwrap_err();
        assert!(matches!(e, PlanError::EmptyMigrationEdited { .. }), "{e}");
        assert!(!e.to_string().contains("repair"), "{e}");
        let changed = HistoryRow { checksum: "old".into(), ..row(1, 1) };
        let e = up(&avail, &[changed], Policy::default(), Phases::Expand, None).unwrap_err();
        assert!(e.to_string().contains("run `repair`"), "{e}");
        let mut no_op = avail.clone();
        no_op[0].no_op = true;
        let edited = HistoryRow { checksum: "old".into(), statements_total: 0, statements_done: 0, ..row(1, 1) };
        let e = up(&no_op, &[edited], Policy::default(), Phases::Expand, None).unwrap_err();
        assert!(matches!(e, PlanError::ChecksumMismatch { .. }), "a deliberate no-op still has no SQL: {e}");
    }

    #[test]
    fn renamed_and_down_edited_migrations_are_noted() {
        let mut avail = available(&[1, 2, 3], &[]);
        avail[1].down_checksum = Some("d2");
        let history = vec![HistoryRow { name: "old_name".into(), ..row(1, 1) }, row(2, 2), row(3, 3)];
        let notes = file_notes(&avail, &history);
        assert_eq!(
            notes,
            vec![
                Warning::Renamed { version: v(1), applied_as: "old_name".into(), now: "m1".into() },
                Warning::DownChanged { version: v(2), name: "m2".into(), origin: "migrations/file.up.sql".into() },
            ]
        );
        assert!(notes[0].to_string().contains("`repair` records the new name"), "{}", notes[0]);
        assert!(up(&avail, &history, Policy::default(), Phases::Expand, None).is_ok(), "not a problem for a run");
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
}
