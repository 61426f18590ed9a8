//! The planner: pure functions from (available migrations, history, policy, phases, target)
//! to what a run would do, or the reason it must not.
//!
//! The runner, `status`, `validate`, `plan` and the CLI all decide through these functions,
//! so they cannot drift apart. Nothing here touches a database.
//!
//! The planner sits below the runner and above the history and errors. Its modules: the
//! inputs and answers ([`UpPlan`], [`Warning`], ...), up, down, resume and status
//! planning, and the decisions about single operations: how a step runs (one transaction
//! or statement by statement), whether a migration re-read inside its transaction may go on,
//! the preconditions of `force`, `baseline` and `repair`, what adopting another
//! tool's history records (`adopt`), whether a migration that gave up waiting for a lock
//! runs again (`retry`), what must happen before a statement runs again (`rerun`: the
//! INVALID index a failed `CREATE INDEX CONCURRENTLY` left), and a batched backfill's
//! decisions (`backfill`: where it starts, when it is finished, batch sizes and pauses,
//! whether a migration that requires it may run).

mod adopt;
mod backfill;
pub(crate) mod build;
mod claim;
mod down;
mod group;
pub mod lock;
mod model;
mod ops;
mod rehearse;
mod repeatable;
mod rerun;
mod resume;
mod retry;
mod rollout;
mod squash;
pub(crate) mod stale;
mod status;
mod step;
#[cfg(test)]
mod testkit;
mod up;

pub use crate::error::PlanError;
pub(crate) use adopt::{
    AdoptFile, AdoptInput, FileSum, ForeignFound, applied_records, check_foreign_histories, plan_adopt,
};
pub use adopt::{AdoptPlan, AdoptWarning, Adopted, Checked};
pub use backfill::{
    BackfillProgress, BackfillStart, BackfillState, BatchPolicy, BatchStep, RequiredBackfillCheck, backfill_busy,
    backfill_moved, backfill_rate, backfill_start, backfill_time_left, batch_bounds, check_backfill_target,
    check_required_backfill, next_batch_size, pause_after,
};
pub use claim::{Claim, ClaimStep, claim};
pub(crate) use down::plan_down;
pub use down::{DownTarget, PlannedDown};
pub use group::{GroupStep, plan_groups};
pub(crate) use model::{Available, DownKind, UpInput};
pub use model::{Planned, Policy, SkipReason, Skipped, UpPlan, Warning};
pub(crate) use ops::{plan_baseline, plan_force, plan_force_reverted, plan_repair, plan_resume_target};
pub use rehearse::{
    HeldLock, Judgement, Measured, SeenWaiting, Thresholds, Verdict, fill_order, judge, rehearsal_start,
};
pub(crate) use repeatable::{AvailableRepeatable, plan_repeatables, repeatable_status};
pub use repeatable::{RepeatableState, RepeatableStatus};
pub use rerun::{FIND_INVALID_INDEXES, InvalidIndex, RerunGuard, rerun_guard};
pub use resume::ResumePlan;
pub(crate) use resume::plan_resume;
pub use retry::{FailedAttempt, LockRetry, RetryDecision, StopReason, decide_retry, find_blocker, pause_before};
pub use rollout::{
    Rollout, TenantCheck, TenantStanding, check_tenant, create_tenant, launch_next, rollout_waves, tenant_standing,
};
pub(crate) use squash::{AvailableSquash, fold_squashed};
pub use squash::{SquashCandidate, plan_squash};
pub use stale::StaleBinary;
pub use status::{MigrationState, StatusEntry};
pub(crate) use status::{any_interrupted, mark_blocked, mark_running, running_not_interrupted, status};
pub use step::{Mode, ModeReason, StepKind, StepPlan, failed_state, start_state, step_plan};
pub(crate) use up::{check, file_notes, plan_up};
