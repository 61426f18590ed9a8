//! SQLite backend of **migrator**: the application applies its own migrations at startup,
//! from a database file, with no server to set up. SQLite is bundled (no system library).
//!
//! ```no_run
//! use migrator_sqlite::{embed_migrations, EmbeddedMigrations, Migrator};
//! use sqlx::sqlite::SqlitePoolOptions;
//!
//! // Read, validated and checksummed at compile time; `include_str!` per file.
//! static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = SqlitePoolOptions::new().connect("sqlite://app.db?mode=rwc").await?;
//! let report = Migrator::new(&pool, MIGRATIONS)?.run().await?;
//! print!("{report}");
//! # Ok(())
//! # }
//! ```
//! (The `migrations` directory of this snippet is the crate's own test fixture.)
//!
//! # What a run guarantees
//!
//! - **Startup:** when nothing is pending, one read of the history table and no write lock.
//! - **Each migration in its own `BEGIN IMMEDIATE` transaction**, which takes SQLite's write
//!   lock, re-reads the migration's history row, runs the script and records it. SQLite's DDL
//!   is transactional, so a failure rolls back that migration only, leaving no trace; the
//!   migrations before it stay applied.
//! - **Several processes at once** (two instances of an app on one file, the CLI beside the
//!   app): one runs at a time, holding the migration lock, a lock file next to the database
//!   (`<file>-migrator-lock`, an exclusive `flock` that the operating system releases when
//!   the process exits, however it exits; the holder writes who it is into it). The others
//!   wait, bounded by [`MigratorBuilder::lock_wait`] (default 300 s), which also bounds each
//!   wait for SQLite's write lock. Runs without the lock ([`MigratorBuilder::no_lock`]) stay
//!   safe: each migration re-reads its history row in its write transaction, and one another
//!   process applied meanwhile is skipped (reported as such), never applied twice.
//! - **Foreign keys:** a transactional migration runs with foreign-key enforcement off (so a
//!   table rebuild, which drops the old table, cascades nothing) and, when the connection
//!   enforces foreign keys (sqlx's default), `PRAGMA foreign_key_check` runs before commit:
//!   a violation rolls the migration back, naming the table.
//! - **Settings:** the connection's PRAGMAs (`foreign_keys`, `recursive_triggers`,
//!   `synchronous`, …) are saved when the run begins and restored before each migration and
//!   when it ends, so a migration's PRAGMA neither leaks into the next migration nor into the
//!   application's pool. Database-level settings (`journal_mode = WAL`, `user_version`) are
//!   changes to the file and stay.
//! - **Cancelled or crashed runs:** the open transaction rolls back (SQLite's journal undoes
//!   it even after a crash), so the next run starts where this one stopped.
//!
//! # `-- migrator:no-transaction`
//!
//! For what SQLite refuses inside a transaction (`VACUUM`, switching to WAL) or ignores there
//! (`PRAGMA foreign_keys = OFF` for a table rebuild of your own). The migration is claimed by
//! writing its `running` row in a write transaction that re-reads it first, so two processes
//! never both start it. Then each statement commits together with its progress update, so
//! after a crash the next run names the exact statement to resume at; a statement SQLite
//! cannot run in a transaction runs alone, followed by its progress update. Other runs wait
//! for the lock meanwhile, and `status` shows the migration as running, with its holder. (A
//! run without the lock stops with an error instead: it cannot tell a live run from a dead
//! one.)
//!
//! `lock-timeout` and `statement-timeout` directives cannot be enforced by SQLite and are
//! refused when the migrator is built.
//!
//! Rust-code migrations receive a `&mut sqlx::SqliteConnection` inside their transaction.
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
    doc = "| `testing` | [`testing`]: a fresh migrated database file per test (copied from a template), `#[migrator_sqlite::test]`, drift checks |"
)]
#![cfg_attr(
    not(feature = "testing"),
    doc = "| `testing` | the `testing` module (build the docs with `--features testing`, as docs.rs does): a fresh migrated database file per test (copied from a template), `#[migrator_sqlite::test]`, drift checks |"
)]
//! | `adopt-refinery` | refinery's checksums, so [`Migrator::adopt`] verifies a refinery history ([`ForeignTool::Refinery`]) |

mod backfill;
mod conn;
mod driver;
mod dump;
mod foreign;
mod inspect;
mod lock;
mod settings;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

pub use backfill::{SqliteBackfill, backfill_conn};
pub use driver::SqliteDriver;
/// A sqlx error as migrator describes it for people (SQLite: message and result code), without
/// the client library's prefixes and source positions: what migrator's own errors quote.
pub fn describe_error(error: &sqlx::Error) -> String {
    conn::describe(error)
}

/// Everything an application names, the same on every backend (see [`migrator_core::app`]).
pub use migrator_core::app::*;

/// A test on a fresh, migrated database file (feature `testing`); see [`testing`].
#[cfg(feature = "testing")]
pub use migrator_macros::sqlite_test as test;

/// The runner on SQLite: `Migrator::new(&pool, MIGRATIONS)?.run().await?`.
pub type Migrator = migrator_core::Migrator<SqliteDriver>;

/// Several migration sets on one database (an application's and a library's), run in
/// order: see [`migrator_core::MigrationSets`].
pub type MigrationSets = migrator_core::MigrationSets<SqliteDriver>;

/// A builder for a [`Migrator`] with non-default options.
pub type MigratorBuilder = migrator_core::MigratorBuilder<SqliteDriver>;

/// Embeds a migrations directory for SQLite at compile time:
/// `static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");`
///
/// The path is relative to the crate's `Cargo.toml`; see `migrator_postgres::embed_migrations!`
/// for what is checked, with SQLite's rules (`sqlite-unsupported-alter`, `VACUUM` in a
/// transaction, …). Add `migrator_core::build::watch_migrations("migrations")` to `build.rs`
/// so a new file recompiles.
#[macro_export]
macro_rules! embed_migrations {
    ($($args:tt)*) => {
        $crate::__private::embed_migrations!(crate = $crate::__private::core, dialect = sqlite, $($args)*)
    };
}

#[doc(hidden)]
pub mod __private {
    pub use migrator_core as core;
    pub use migrator_macros::embed_migrations;
}
