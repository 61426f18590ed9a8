//! Grouped apply (opt-in): the pending migrations of a run that would each run in a
//! transaction of their own run together in one, so a fresh database (or a new tenant)
//! commits once instead of once per migration. All of the group or none of it applies.
//!
//! A group is a maximal run of consecutive up steps that each run in one transaction and are
//! SQL: a `no-transaction` (or, on MySQL, implicitly committing) step runs alone between
//! groups, as does Rust code (its transaction is its own code's). A group of one is an
//! ordinary step.

use std::ops::Range;

use crate::plan::step::Mode;

/// One pending up step, as far as grouping goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupStep {
    /// How the planner runs it ([`crate::plan::step_plan`]).
    pub mode: Mode,
    /// Whether it is Rust code.
    pub rust: bool,
}

/// Splits the run's pending steps (in order) into the ranges that run as one unit: when
/// `grouped`, each maximal run of transactional SQL steps is one range; otherwise, and for
/// every other step, each step is a range of its own.
pub fn plan_groups(grouped: bool, steps: &[GroupStep]) -> Vec<Range<usize>> {
    let joins = |step: &GroupStep| grouped && step.mode == Mode::Transactional && !step.rust;
    // Each range, and whether more steps may join it.
    let mut groups: Vec<(Range<usize>, bool)> = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        match groups.last_mut() {
            Some((last, true)) if joins(step) => last.end = index + 1,
            _ => groups.push((index..index + 1, joins(step))),
        }
    }
    groups.into_iter().map(|(range, _)| range).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TX: GroupStep = GroupStep { mode: Mode::Transactional, rust: false };
    const STEPWISE: GroupStep = GroupStep { mode: Mode::Stepwise, rust: false };
    const RUST: GroupStep = GroupStep { mode: Mode::Transactional, rust: true };

    /// The groups as (start, end) pairs.
    fn pairs(grouped: bool, steps: &[GroupStep]) -> Vec<(usize, usize)> {
        plan_groups(grouped, steps).into_iter().map(|r| (r.start, r.end)).collect()
    }

    #[test]
    fn groups() {
        // (grouped, steps) -> groups
        type Case<'a> = (bool, &'a [GroupStep], &'a [(usize, usize)]);
        let cases: [Case<'_>; 9] = [
            (false, &[TX, TX, TX], &[(0, 1), (1, 2), (2, 3)]),
            (true, &[], &[]),
            (true, &[TX], &[(0, 1)]),
            (true, &[TX, TX, TX], &[(0, 3)]),
            (true, &[TX, STEPWISE, TX, TX], &[(0, 1), (1, 2), (2, 4)]),
            (true, &[STEPWISE, STEPWISE], &[(0, 1), (1, 2)]),
            (true, &[TX, TX, RUST, TX], &[(0, 2), (2, 3), (3, 4)]),
            (true, &[RUST, RUST], &[(0, 1), (1, 2)]),
            (true, &[STEPWISE, TX, TX, STEPWISE], &[(0, 1), (1, 3), (3, 4)]),
        ];
        for (grouped, steps, expected) in cases {
            assert_eq!(pairs(grouped, steps), expected, "{grouped} {steps:?}");
        }
    }

    #[test]
    fn every_step_is_in_exactly_one_group_in_order() {
        let steps = [TX, STEPWISE, RUST, TX, TX, STEPWISE, TX];
        for grouped in [false, true] {
            let groups = plan_groups(grouped, &steps);
            let flat: Vec<usize> = groups.iter().flat_map(Clone::clone).collect();
            assert_eq!(flat, (0..steps.len()).collect::<Vec<_>>());
        }
    }
}
