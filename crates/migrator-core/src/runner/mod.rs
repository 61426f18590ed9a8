//! The runner: [`Migrator`] applies, reverts, resumes and inspects migrations through a
//! [`Driver`], deciding every step with the pure planner.
//!
//! A run goes: (1) read the history without a lock; if nothing is pending, nothing is dirty
//! and every checksum matches, return at once. (2) Otherwise open a dedicated connection and
//! take the migration lock. (3) Create or upgrade the history table and read it again under
//! the lock. (4) Plan (validate). (5) Apply each pending migration on that connection.
//! (6) Release the lock through one guard, whose drop also releases it (by closing the
//! connection) when the run errs, panics or its future is dropped.
//!
//! The runner's modules: `migrator` (the struct, a run, the reads), `builder`, `steps` (one
//! step's mode, job and report), `ops` (`resume`, `force`, `repair`, `baseline`), `adopt`
//! (another tool's history), `backfills` (a migration that runs a backfill, or requires
//! one), `sets` (several sets in one database), `tenants` (one set over
//! many tenants), `stale`
//! (the debug-build check), and below them `expected`, `guard` and `rows`, which know
//! nothing of the migrator.

mod adopt;
mod backfills;
mod builder;
mod expected;
mod guard;
mod migrator;
mod ops;
mod rehearse;
mod rows;
mod sets;
mod stale;
mod steps;
mod tenants;

pub use adopt::Adoption;
pub use builder::MigratorBuilder;
pub use migrator::{DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, Migrator, Options};
pub use sets::MigrationSets;
pub use tenants::{TenantReport, TenantState, TenantStatus, Tenants, TenantsReport};
