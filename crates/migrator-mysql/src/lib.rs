//! MySQL and MariaDB backend of **migrator**: the application applies its own migrations at
//! startup, safely, even when ten replicas start at once.
//!
//! ```no_run
//! use migrator_mysql::{embed_migrations, EmbeddedMigrations, Migrator};
//! use sqlx::mysql::MySqlPoolOptions;
//!
//! static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = MySqlPoolOptions::new()
//!     .test_before_acquire(false) // the startup check then costs one round trip
//!     .connect("mysql://root@127.0.0.1:3306/app")
//!     .await?;
//! let report = Migrator::new(&pool, MIGRATIONS)?.run().await?;
//! print!("{report}");
//! # Ok(())
//! # }
//! ```
//! (The `migrations` directory of this snippet is the crate's own test fixture.)
//!
//! # DDL is not transactional here
//!
//! MySQL commits before and after every DDL statement, so a migration with DDL can stop
//! halfway. migrator records progress per statement and resumes at the failed one:
//!
//! - A migration with no statement that commits implicitly (only DML, `SELECT`, `SET`) runs
//!   in one transaction with its history row, in one round trip; a failure leaves no trace.
//! - Otherwise it runs statement by statement, one round trip each: a DDL statement is sent
//!   together with its progress update (it commits on its own, so a crash between the two
//!   is reported as *interrupted: may have taken effect*); any other statement commits in
//!   one transaction with its progress update, so it is never applied twice.
//! - A failure records the statement, its line and the error; the next run refuses, naming
//!   them. `resume` re-runs the failed statement after checking that the statements before it
//!   are unchanged; `resume_skip` counts it as done; `force` records the migration applied.
//!
//! # Lock and settings
//!
//! `GET_LOCK(name, seconds)` on a connection detached from the pool, which also runs every
//! migration; the result is checked (1, 0 = timeout, NULL = error) and a timeout names the
//! holder from the process list. The name covers database and history table. Each migration
//! sets `lock_wait_timeout` and `innodb_lock_wait_timeout` (lock-timeout directive or the
//! default) and `max_statement_time` (MariaDB; MySQL bounds only `SELECT`s with
//! `max_execution_time`, so a statement-timeout directive is refused there), and the session
//! variables a migration's `SET`s change are restored before the next one.
//!
//! # Writing migrations
//!
//! One directory, `{version}_{name}.up.sql` with an optional `{version}_{name}.down.sql` per
//! migration: the rules for file names are in [`migrator_core::source`], the `-- migrator:`
//! directives (`no-transaction`, `allow`, `irreversible`, `phase contract`, `lock-timeout`,
//! `statement-timeout`) in [`migrator_core::directive`], and the safety rules the linter
//! applies in [`lint`] ([`lint::RULES`]). Rust-code migrations join the same ordered set
//! ([`RustMigration`]).
//!
//! Everything an application names is re-exported here from [`migrator_core::app`], the same
//! way on every backend.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
#![cfg_attr(
    feature = "testing",
    doc = "| `testing` | [`testing`]: fresh migrated databases per test, `#[migrator_mysql::test]`, drift checks |"
)]
#![cfg_attr(
    not(feature = "testing"),
    doc = "| `testing` | the `testing` module (build the docs with `--features testing`, as docs.rs does): fresh migrated databases per test, `#[migrator_mysql::test]`, drift checks |"
)]
//! | `adopt-refinery` | refinery's checksums, so [`Migrator::adopt`] verifies a refinery history ([`ForeignTool::Refinery`]) |

mod backfill;
mod conn;
mod driver;
mod dump;
mod foreign;
mod inspect;
mod key;
mod lease;
mod rehearse;
mod session;
mod sizes;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

pub use backfill::{MySqlBackfill, backfill_conn};
pub use driver::MySqlDriver;
/// A sqlx error as migrator describes it for people (MySQL/MariaDB: message, error number and SQLSTATE), without
/// the client library's prefixes and source positions: what migrator's own errors quote.
pub fn describe_error(error: &sqlx::Error) -> String {
    conn::describe(error)
}

/// Everything an application names, the same on every backend (see [`migrator_core::app`]).
pub use migrator_core::app::*;

/// A test on a fresh, migrated database (feature `testing`); see [`testing`].
#[cfg(feature = "testing")]
pub use migrator_macros::mysql_test as test;

/// The runner on MySQL/MariaDB: `Migrator::new(&pool, MIGRATIONS)?.run().await?`.
pub type Migrator = migrator_core::Migrator<MySqlDriver>;

/// Several migration sets on one database (an application's and a library's), run in
/// order: see [`migrator_core::MigrationSets`].
pub type MigrationSets = migrator_core::MigrationSets<MySqlDriver>;

/// A builder for a [`Migrator`] with non-default options.
pub type MigratorBuilder = migrator_core::MigratorBuilder<MySqlDriver>;

/// Embeds a migrations directory for MySQL/MariaDB at compile time:
/// `static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");`
///
/// The path is relative to the crate's `Cargo.toml`; see `migrator_postgres::embed_migrations!`
/// for what is checked. Add `migrator_core::build::watch_migrations("migrations")` to
/// `build.rs` so a new file recompiles.
#[macro_export]
macro_rules! embed_migrations {
    ($($args:tt)*) => {
        $crate::__private::embed_migrations!(crate = $crate::__private::core, dialect = mysql, $($args)*)
    };
}

#[doc(hidden)]
pub mod __private {
    pub use migrator_core as core;
    pub use migrator_macros::embed_migrations;
}
