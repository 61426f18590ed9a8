//! The core of **migrator**: versioned, reversible database migrations that an application
//! embeds at compile time and applies itself at startup, safely, even when ten replicas
//! start at once.
//!
//! This crate holds everything that does not depend on a database: the migration model
//! ([`Migration`], [`SqlMigration`], [`RustMigration`], [`MigrationSet`]), directives and
//! checksums, the SQL statement splitter, the pure planner ([`plan`]), the runner
//! ([`Migrator`]) and the [`driver::Driver`] trait that backends implement. It names no database
//! driver: `migrator-postgres`, `migrator-mysql` and `migrator-sqlite` implement [`driver::Driver`] on sqlx and
//! re-export what applications need, including `embed_migrations!` with their SQL dialect.
//!
//! # Design
//!
//! Deciding and doing are separate. The planner turns (migrations, history, policy, phases,
//! target) into a plan or a typed error without touching a database; the runner follows the
//! plan through a [`driver::Session`], a dedicated connection holding the migration lock. A migration
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
//! What an application names is defined once, in [`app`], and re-exported here and, the same
//! way, by every backend crate (`pub use migrator_core::app::*`), with the backend's
//! [`Migrator`] and [`MigratorBuilder`] aliases beside it.
//!
//! | item | for | what it is |
//! |---|---|---|
//! | [`Migrator`], [`MigratorBuilder`], [`Options`] | applications | the runner and its settings |
//! | [`RustMigration`], [`RustStep`], [`MigrationSet`], [`EmbeddedMigrations`] | applications | the model: SQL files and Rust code in one ordered set |
//! | [`Error`], [`PlanError`], [`Report`], [`Status`], [`Validation`], [`UpPlan`] | applications | results |
//! | [`Drift`], [`ReversibilityReport`] | tests | schema checks (on backends that can read their schema) |
//! | [`Adopt`], [`ForeignTool`], [`Adoption`] | applications, the CLI | adopting another tool's history ([`adopt`]) |
//! | [`lint`], [`build`] | CI, build scripts | the safety linter; the build-script helper |
//! | [`driver`], [`history`], [`backoff`] | backend authors | the `Driver` contract, the history row's one definition, lock polling |
//! | [`plan`] | tools | the pure planner, also behind `status`, `validate` and `plan` |
//! | [`source`], [`directive`], [`checksum`], [`split`], [`classify`], [`schema`], [`text`] | tools | files, scripts, statements, snapshots, text for people |
//! | `testing` (feature `testing`) | backend authors | the test kit, generic over a backend's `testing::KitBackend` |
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `refinery` | refinery's checksums (with `refinery-core`), to verify a refinery history when adopting it |
//! | `testing` | `testing`: the generic test kit (templates, fresh databases, cleanup, the test runner, drift), with `tokio` and `futures-util`; the backends' `testing` features turn it on |

pub mod adopt;
pub mod app;
pub mod backfill;
pub mod backoff;
pub mod build;
mod capabilities;
mod check;
pub mod checksum;
pub mod classify;
mod dialect;
pub mod directive;
pub mod driver;
pub mod error;
pub mod history;
pub mod lint;
mod migration;
pub mod plan;
pub mod rehearse;
mod report;
mod runner;
pub mod schema;
mod script;
mod set;
pub mod source;
pub mod split;
pub mod squash;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
mod version;

pub use app::*;
pub use runner::{MigrationSets, Migrator, MigratorBuilder};

// The model of a script, for tools that read migrations (the CLI, the macro).
pub use checksum::{Checksum, StatementRecord};
pub use directive::{Directives, ScriptKind};
pub use script::{LayoutFlags, Script};
pub use split::Statement;
