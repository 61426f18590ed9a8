//! PostgreSQL backend of **migrator**: the application applies its own migrations at
//! startup, safely, even when ten replicas start at once.
//!
//! ```no_run
//! use migrator_postgres::{embed_migrations, EmbeddedMigrations, Migrator};
//! use sqlx::postgres::PgPoolOptions;
//!
//! // Read, validated and checksummed at compile time; `include_str!` per file.
//! static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = PgPoolOptions::new()
//!     .test_before_acquire(false) // the startup check then costs one round trip
//!     .connect("postgres://postgres@127.0.0.1/app")
//!     .await?;
//! let report = Migrator::new(&pool, MIGRATIONS)?.run().await?;
//! print!("{report}");
//! # Ok(())
//! # }
//! ```
//! (The `migrations` directory of this snippet is the crate's own test fixture.)
//!
//! # What a run costs and guarantees
//!
//! | situation | round trips | lock |
//! |---|---|---|
//! | nothing pending (every startup but the first after a deploy) | 1 (then sqlx's pool pings the connection it gets back, off the startup path) | none |
//! | each pending transactional migration | 1 (limits, script, history row, commit in one message) | held |
//! | each statement of a `no-transaction` migration | 2 (statement, progress) | held |
//! | the end of a run that took the lock | 1 (unlock and `NOTIFY` the waiters) | released |
//!
//! - **Lock**: a session advisory lock keyed by database, schema and history table, taken on
//!   a connection detached from the pool, by polling `pg_try_advisory_lock` with backoff (a
//!   blocking wait would hold a snapshot and stall `CREATE INDEX CONCURRENTLY` in the holder).
//!   A waiter also listens (on a pool connection of its own, while it waits) for the
//!   notification the holder sends as it unlocks, so it tries again within milliseconds
//!   instead of at its next poll; polling stays the fallback for a holder that was killed.
//!   Every migration runs on that connection; closing it, on success, error, panic or a
//!   dropped future, releases the lock. A timeout names the holder's pid and application.
//! - **Transactional migrations** (the default) leave no trace on failure; the error names the
//!   failing statement and its line.
//! - **`-- migrator:no-transaction`** migrations run statement by statement (so several
//!   `CREATE INDEX CONCURRENTLY` in one file work) with progress recorded; a failure records
//!   the statement, and `resume` continues there after the fix.
//! - Each migration starts with `RESET ALL` and explicit `lock_timeout` / `statement_timeout`:
//!   neither a previous migration's `SET` nor the application pool's settings apply to it.
//!
//! - **Safety lint**: `embed_migrations!` refuses migrations that would lock, rewrite or
//!   break production unless acknowledged; [`lint::lint_dir`] reports every finding for CI.
//!
//! Rust-code migrations receive a `&mut sqlx::PgConnection` inside their transaction.
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
    doc = "| `testing` | [`testing`]: fresh migrated databases per test (template copies), `#[migrator_postgres::test]`, drift checks |"
)]
#![cfg_attr(
    not(feature = "testing"),
    doc = "| `testing` | the `testing` module (build the docs with `--features testing`, as docs.rs does): fresh migrated databases per test (template copies), `#[migrator_postgres::test]`, drift checks |"
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
mod sizes;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
mod wake;

pub use backfill::{PgBackfill, backfill_conn};
pub use driver::PgDriver;
/// A sqlx error as migrator describes it for people (PostgreSQL: message, detail, hint and SQLSTATE), without
/// the client library's prefixes and source positions: what migrator's own errors quote.
pub fn describe_error(error: &sqlx::Error) -> String {
    conn::describe(error)
}

/// Everything an application names, the same on every backend (see [`migrator_core::app`]).
pub use migrator_core::app::*;

/// A test on a fresh, migrated database (feature `testing`); see [`testing`].
#[cfg(feature = "testing")]
pub use migrator_macros::postgres_test as test;

/// The runner on PostgreSQL: `Migrator::new(&pool, MIGRATIONS)?.run().await?`.
pub type Migrator = migrator_core::Migrator<PgDriver>;

/// Several migration sets on one database (an application's and a library's), run in
/// order: see [`migrator_core::MigrationSets`].
pub type MigrationSets = migrator_core::MigrationSets<PgDriver>;

/// A builder for a [`Migrator`] with non-default options.
pub type MigratorBuilder = migrator_core::MigratorBuilder<PgDriver>;

/// Embeds a migrations directory for PostgreSQL at compile time:
/// `static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");`
///
/// The path is relative to the crate's `Cargo.toml`. Every file is validated (names,
/// versions, directives, SQL splitting) and linted for production hazards with errors naming
/// the file and line; checksums are computed at compile time; each file is included with
/// `include_str!`, so an edit recompiles. Add `migrator_core::build::watch_migrations("migrations")`
/// to `build.rs` so a *new* file recompiles too.
///
/// Lint options follow the path: `lint_from = <version>`, `deny(<rule>, …)`,
/// `warn(<rule>, …)` and `off(<rule>, …)`, as in
/// `embed_migrations!("migrations", lint_from = 20261101000000, deny(prefer-text))`.
#[macro_export]
macro_rules! embed_migrations {
    ($($args:tt)*) => {
        $crate::__private::embed_migrations!(crate = $crate::__private::core, dialect = postgres, $($args)*)
    };
}

#[doc(hidden)]
pub mod __private {
    pub use migrator_core as core;
    pub use migrator_macros::embed_migrations;
}
