//! Rolling a migration set out to many tenants (schemas or databases): in which waves, and
//! whether to go on after a failure.

use std::ops::Range;

/// How a fleet of tenants is migrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollout {
    /// Tenants migrated first, alone in their wave (0: no canary wave).
    pub canary: usize,
    /// Go on after a tenant fails, and report every failure (else stop launching tenants at
    /// the first failure; those running finish).
    pub keep_going: bool,
}

/// The waves of a rollout over `tenants` tenants, in order: the canary tenants, then the
/// rest. A wave starts only when the one before it finished.
pub fn rollout_waves(rollout: Rollout, tenants: usize) -> Vec<Range<usize>> {
    let canary = rollout.canary.min(tenants);
    [0..canary, canary..tenants].into_iter().filter(|wave| !wave.is_empty()).collect()
}

/// Whether to launch another tenant, `failed` tenants having failed so far: always with
/// `keep_going`, else only while none failed.
pub fn launch_next(rollout: Rollout, failed: usize) -> bool {
    rollout.keep_going || failed == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(rollout: Rollout, tenants: usize) -> Vec<(usize, usize)> {
        rollout_waves(rollout, tenants).into_iter().map(|w| (w.start, w.end)).collect()
    }

    #[test]
    fn waves() {
        let plain = Rollout { canary: 0, keep_going: false };
        let canary = |k| Rollout { canary: k, keep_going: false };
        // (rollout, tenants) -> waves
        type Case<'a> = (Rollout, usize, &'a [(usize, usize)]);
        let cases: [Case<'_>; 6] = [
            (plain, 0, &[]),
            (plain, 5, &[(0, 5)]),
            (canary(1), 5, &[(0, 1), (1, 5)]),
            (canary(2), 2, &[(0, 2)]),
            (canary(9), 3, &[(0, 3)]),
            (canary(1), 1, &[(0, 1)]),
        ];
        for (rollout, tenants, expected) in cases {
            assert_eq!(pairs(rollout, tenants), expected, "{rollout:?} {tenants}");
        }
    }

    #[test]
    fn launching_after_failures() {
        let stop = Rollout { canary: 0, keep_going: false };
        let go = Rollout { canary: 0, keep_going: true };
        assert!(launch_next(stop, 0));
        assert!(!launch_next(stop, 1));
        assert!(launch_next(go, 0) && launch_next(go, 3));
    }
}
