//! Everything an application names, defined once.
//!
//! The crate root re-exports it, and so does every backend crate, the same way
//! (`pub use migrator_core::app::*;`), next to its own `Migrator`, `MigratorBuilder` and
//! `embed_migrations!`: an application writes `migrator_postgres::Error` or
//! `migrator_sqlite::RustMigration` and never names `migrator-core`.

pub use crate::adopt::{Adopt, ForeignTool};
pub use crate::backfill::{Backfill, BackfillConn, BackfillReport};
pub use crate::capabilities::{Lease, LockStrategy};
pub use crate::check::{Drift, NotReversible, ReversibilityReport};
pub use crate::dialect::Dialect;
pub use crate::error::{
    BoxError, DatabaseError, Error, FailureOutcome, LoadError, LockWaits, MigrationFailure, PlanError,
    RepeatableFailure,
};
pub use crate::migration::{
    Migration, MigrationMeta, RepeatableMigration, RustMigration, RustStep, SqlMigration, StepFuture,
};
pub use crate::plan::{
    AdoptPlan, AdoptWarning, Adopted, Checked, LockRetry, MigrationState, Mode, ModeReason, Planned, RepeatableState,
    RepeatableStatus, SkipReason, Skipped, StatusEntry, StepPlan, TenantCheck, TenantStanding, UpPlan, Warning,
};
pub use crate::report::{Repaired, RepeatableReport, Report, Status, StepReport, Validation};
pub use crate::runner::{
    Adoption, DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, Options, TenantReport, TenantState, TenantStatus, Tenants,
    TenantsReport,
};
pub use crate::set::{IntoMigrations, MigrationSet};
pub use crate::source::{EmbeddedMigration, EmbeddedMigrations, EmbeddedRepeatable, EmbeddedScript, Layout};
pub use crate::version::{Direction, Phase, Phases, Version};
pub use crate::{build, lint};
/// The attribute a [`RustStep`] implementation needs (`#[async_trait]`).
pub use async_trait::async_trait;
