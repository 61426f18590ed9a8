//! The core of **migrator**: versioned, reversible database migrations that an application
//! embeds at compile time and applies itself at startup, safely, even when ten replicas
//! start at once.
//!
//! This crate holds everything that does not depend on a database: the migration model
//! ([`Migration`], [`SqlMigration`], [`RustMigration`], [`MigrationSet`]), directives and
//! checksums, the SQL statement splitter, the pure planner ([`plan`]), the runner
//! ([`Migrator`]) and the [`Driver`] trait that backends implement. It names no database
//! driver: `migrator-postgres`, `migrator-mysql` and `migrator-sqlite` implement [`Driver`] on sqlx and
//! re-export what applications need, including `embed_migrations!` with their SQL dialect.
//!
//! # Design
//!
//! Deciding and doing are separate. The planner turns (migrations, history, policy, phases,
//! target) into a plan or a typed error without touching a database; the runner follows the
//! plan through a [`Session`], a dedicated connection holding the migration lock. A migration
//! *describes* its steps (an SQL script for the driver to execute statement-aware, or async
//! Rust code to call with the backend's connection), so each backend sends a transactional
//! script, its limits and its history row in as few round trips as its protocol allows, and
//! records per-statement progress where a script cannot be atomic.
//!
//! # Example
//!
//! Applications use a backend crate; the shape is the same on every backend:
//!
//! ```text
//! use migrator_postgres::{embed_migrations, EmbeddedMigrations, Migrator};
//!
//! static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! async fn start(pool: &sqlx::PgPool) -> Result<(), migrator_postgres::Error> {
//!     let report = Migrator::new(pool, MIGRATIONS)?.run().await?;
//!     println!("{report}");
//!     Ok(())
//! }
//! ```
//!
//! # Contents
//!
//! | item | what it is |
//! |---|---|
//! | [`Migrator`], [`MigratorBuilder`], [`Options`] | the runner and its settings |
//! | [`Migration`], [`SqlMigration`], [`RustMigration`], [`RustStep`] | the model |
//! | [`MigrationSet`], [`EmbeddedMigrations`], [`source::load_dir`] | sets, embedded and loaded at runtime |
//! | [`Driver`], [`Session`], [`Job`], [`Outcome`], [`Capabilities`] | the backend contract |
//! | [`plan`] | the pure planner, also behind `status`, `validate` and `plan` |
//! | [`schema`], [`Inspect`], [`Drift`], [`ReversibilityReport`] | schema snapshots, reversibility and drift checks |
//! | [`directive`], [`checksum`], [`split`], [`classify`] | script parsing |
//! | [`lint`] | the safety linter: [`lint::lint_dir`], [`lint::Finding`], [`lint::RULES`] |
//! | [`build::watch_migrations`] | the build-script helper |
//! | [`Error`], [`Report`], [`Status`], [`Validation`] | results |

pub mod backoff;
pub mod build;
mod capabilities;
mod check;
pub mod checksum;
pub mod classify;
mod dialect;
pub mod directive;
mod driver;
pub mod error;
pub mod history;
pub mod lint;
mod migration;
pub mod plan;
mod report;
mod runner;
pub mod schema;
mod script;
mod set;
pub mod source;
pub mod split;
pub mod text;
mod version;

pub use async_trait::async_trait;
pub use check::{Drift, NotReversible, ReversibilityReport, TestResult};
pub use checksum::Checksum;
pub use checksum::StatementRecord;
pub use dialect::Dialect;
pub use directive::{Directives, ScriptKind};
pub use driver::{
    Capabilities, Driver, Executed, HistoryChange, Inspect, Job, Lease, LockRequest, LockStrategy, Mode, Outcome,
    Probe, Session,
};
pub use error::PlanError;
pub use error::{BoxError, Error, FailureOutcome, LoadError, MigrationFailure};
pub use history::{History, HistoryRow, HistoryTable, Ident, RowWrite, State};
pub use migration::{
    Body, Down, Migration, MigrationMeta, RustMigration, RustStep, SqlMigration, Step, StepFuture, StepSettings,
};
pub use plan::{MigrationState, StatusEntry, UpPlan, Warning};
pub use report::{Repaired, Report, Status, StepReport, Validation};
pub use runner::{DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, Migrator, MigratorBuilder, Options};
pub use script::{Script, snippet};
pub use set::{IntoMigrations, MigrationSet};
pub use source::{EmbeddedMigration, EmbeddedMigrations, EmbeddedScript};
pub use split::Statement;
pub use text::human;
pub use version::{Direction, Phase, Phases, Version};
