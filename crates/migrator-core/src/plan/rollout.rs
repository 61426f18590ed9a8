//! Rolling a migration set out to many tenants (schemas or databases): in which waves, and
//! whether to go on after a failure.

use std::ops::Range;

use crate::error::PlanError;
use crate::history::digest::HistoryDigest;
use crate::version::{Phase, Phases, Version};

use super::status::{MigrationState, StatusEntry};

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

/// Where the all-tenants startup check found a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantCheck {
    /// Every migration the binary expects is applied, as the binary has it: nothing to do.
    Current,
    /// The tenant has no history table: it needs its first run.
    NoHistory,
    /// Its history table has another layout than this binary's: a run upgrades it (or
    /// refuses a newer one, saying why).
    Layout,
    /// Its history differs from every history in which a run has nothing to do (a pending,
    /// failed or running migration, or another checksum): it needs a run, which says what.
    Differs,
}

impl TenantCheck {
    /// Whether a run of this tenant has nothing to do.
    pub fn is_current(self) -> bool {
        self == TenantCheck::Current
    }
}

/// Decides where a tenant stands from what the server read of its history table (`found`:
/// `None` when the tenant has none), the digests of the histories in which a run has
/// nothing to do (`expected`, [`crate::history::digest::applied_digest`]) and the binary's
/// table `layout`. Anything but an exact match needs a run: the run reads the history and
/// decides, so a false "needs a run" costs a run's startup check and a false "current" is
/// impossible.
pub fn check_tenant(found: Option<&HistoryDigest>, expected: &[String], layout: i64) -> TenantCheck {
    match found {
        None => TenantCheck::NoHistory,
        Some(found) if found.layout != Some(layout) => TenantCheck::Layout,
        Some(found) if found.clean && expected.contains(&found.digest) => TenantCheck::Current,
        Some(_) => TenantCheck::Differs,
    }
}

/// Where a tenant stands for `status --schemas`: the migrations a run of `phases` would
/// apply, and the first migration that stops it (failed, interrupted, changed since it
/// was applied, or a blocked squash). Current when both are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TenantStanding {
    /// Versions a run would apply, in order.
    pub pending: Vec<Version>,
    /// The first migration a run would stop at, and why (its state's problem, for people).
    pub blocked: Option<(Version, String)>,
}

impl TenantStanding {
    /// Whether a run would have nothing to do.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.blocked.is_none()
    }
}

/// A tenant's standing from its `status` entries, for a run of `phases`.
pub fn tenant_standing(entries: &[StatusEntry], phases: Phases) -> TenantStanding {
    let runs = |phase: Phase| match phases {
        Phases::All => true,
        Phases::Expand => phase == Phase::Expand,
        Phases::Contract => phase == Phase::Contract,
    };
    let pending =
        entries.iter().filter(|e| e.state == MigrationState::Pending && runs(e.phase)).map(|e| e.version).collect();
    let blocked = entries.iter().find_map(|e| match &e.state {
        MigrationState::Dirty(problem)
        | MigrationState::ChecksumMismatch { problem, .. }
        | MigrationState::Blocked(problem) => Some((e.version, problem.to_string())),
        _ => None,
    });
    TenantStanding { pending, blocked }
}

/// Creating a new tenant: refused when its schema or database (`area`) existed already
/// (`created`: whether the server created it just now; the create is the existence test,
/// so two creators cannot both succeed). Then the whole set is applied to it, grouped in one
/// transaction where the backend can (`grouped_apply`): one commit for the tenant.
pub fn create_tenant(tenant: &str, area: &'static str, created: bool, grouped_apply: bool) -> Result<bool, PlanError> {
    if created { Ok(grouped_apply) } else { Err(PlanError::TenantExists { tenant: tenant.to_owned(), area }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checking_a_tenant() {
        let found =
            |layout: Option<i64>, clean: bool, digest: &str| HistoryDigest { layout, clean, digest: digest.to_owned() };
        let expected = ["aaa".to_owned(), "bbb".to_owned()];
        // (found, expected, layout) -> check
        type Case<'a> = (Option<HistoryDigest>, &'a [String], i64, TenantCheck);
        let cases: [Case<'_>; 8] = [
            (None, &expected, 3, TenantCheck::NoHistory),
            (Some(found(Some(3), true, "aaa")), &expected, 3, TenantCheck::Current),
            (Some(found(Some(3), true, "bbb")), &expected, 3, TenantCheck::Current),
            (Some(found(Some(3), true, "ccc")), &expected, 3, TenantCheck::Differs),
            (Some(found(Some(3), false, "aaa")), &expected, 3, TenantCheck::Differs),
            (Some(found(Some(2), true, "aaa")), &expected, 3, TenantCheck::Layout),
            (Some(found(None, true, "aaa")), &expected, 3, TenantCheck::Layout),
            // No expected history (a run to a target version): every tenant runs.
            (Some(found(Some(3), true, "aaa")), &[], 3, TenantCheck::Differs),
        ];
        for (found, expected, layout, check) in cases {
            assert_eq!(check_tenant(found.as_ref(), expected, layout), check, "{found:?} {expected:?} {layout}");
        }
        assert!(TenantCheck::Current.is_current() && !TenantCheck::NoHistory.is_current());
    }

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
    fn standing_of_a_tenant() {
        let entry = |version: i64, phase: Phase, state: MigrationState| StatusEntry {
            version: Version::try_from(version).unwrap(),
            name: format!("m{version}"),
            phase,
            state,
            applied_at: None,
            execution_time: None,
            applied_by: None,
            note: None,
        };
        let v = |n: i64| Version::try_from(n).unwrap();
        let dirty = MigrationState::Dirty(crate::error::PlanError::NothingToResume);
        let (e, c) = (Phase::Expand, Phase::Contract);
        // (entries, phases) -> (pending, blocked)
        type Case = (Vec<StatusEntry>, Phases, Vec<i64>, Option<i64>);
        let cases: Vec<Case> = vec![
            (vec![], Phases::Expand, vec![], None),
            (vec![entry(1, e, MigrationState::Applied)], Phases::Expand, vec![], None),
            (
                vec![entry(1, e, MigrationState::Applied), entry(2, e, MigrationState::Pending)],
                Phases::Expand,
                vec![2],
                None,
            ),
            // A pending contract migration is not the expand phase's.
            (
                vec![entry(1, e, MigrationState::Pending), entry(2, c, MigrationState::Pending)],
                Phases::Expand,
                vec![1],
                None,
            ),
            (
                vec![entry(1, e, MigrationState::Pending), entry(2, c, MigrationState::Pending)],
                Phases::All,
                vec![1, 2],
                None,
            ),
            (vec![entry(1, e, dirty.clone()), entry(2, e, MigrationState::Pending)], Phases::Expand, vec![2], Some(1)),
        ];
        for (entries, phases, pending, blocked) in cases {
            let standing = tenant_standing(&entries, phases);
            assert_eq!(standing.pending, pending.into_iter().map(v).collect::<Vec<_>>(), "{entries:?}");
            assert_eq!(standing.blocked.as_ref().map(|b| b.0), blocked.map(v), "{entries:?}");
            assert_eq!(standing.is_current(), standing.pending.is_empty() && standing.blocked.is_none());
        }
    }

    #[test]
    fn creating_a_tenant() {
        // (created, grouped_apply) -> grouped, or refused
        assert_eq!(create_tenant("t", "schema", true, true), Ok(true));
        assert_eq!(create_tenant("t", "database", true, false), Ok(false));
        for grouped in [true, false] {
            let refused = create_tenant("t", "schema", false, grouped).unwrap_err();
            assert_eq!(refused, PlanError::TenantExists { tenant: "t".to_owned(), area: "schema" });
            assert!(refused.to_string().contains("nothing was changed"), "{refused}");
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
