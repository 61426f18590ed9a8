//! The test kit, once for every backend (feature `testing`): fresh, fully migrated
//! databases for tests, fast.
//!
//! Applications use it through their backend (`migrator_postgres::testing`,
//! `migrator_mysql::testing`, `migrator_sqlite::testing`), whose `TestKit`, `TestDb`,
//! `run_test`, `fresh` and `drift` are this module's, instantiated with the backend's
//! [`KitBackend`]; `#[migrator_postgres::test]` expands to its `run_test`.
//!
//! # How it works
//!
//! The migrations are applied once, all phases, into a *template* named after the set's
//! fingerprint (`<prefix>mtpl_<hash>`), built under a cross-process lock so that parallel
//! tests and test processes build it once; a waiter gives up after
//! [`TEMPLATE_BUILD_WAIT`] with an error that says so. Each test's database
//! (`<prefix>mtdb_<time>_<pid>_<n>`) is a copy of it, so a test costs a copy, not a replay of
//! every migration. A changed set gets a new template. A test's database is dropped by
//! [`TestDb::close`] or, when the value is dropped (a panicking test), from a thread with a
//! runtime of its own. The first kit of each prefix in a process sweeps leftovers of killed
//! runs by name and age: test databases older than an hour, templates unused for a week.
//!
//! # Template hygiene
//!
//! Every name starts with the kit's prefix, `MIGRATOR_TEST_PREFIX` (empty when unset; ASCII
//! letters, digits and underscores) or [`TestKit::prefix`]. A kit only ever lists, sweeps or
//! drops names with its own prefix: [`TestKit::templates`] lists them with their age and
//! size, [`TestKit::drop_templates`] drops all of them or those older than an age.
//!
//! ```no_run
//! # async fn f<B: migrator_core::testing::KitBackend>() -> Result<(), migrator_core::Error> {
//! use std::time::Duration;
//! use migrator_core::testing::TestKit;
//!
//! let kit = TestKit::<B>::from_env()?;
//! for template in kit.templates().await? {
//!     println!("{} {:?} {:?}", template.name, template.age, template.size);
//! }
//! kit.drop_templates(Some(Duration::from_secs(24 * 3600))).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Design
//!
//! A backend implements [`KitBackend`]: a dozen database operations (connect as admin; is a
//! template ready; take and release the build lock without waiting; create the database a
//! template is built in; make it the template; copy it; drop a database; list databases by
//! prefix), each keeping that database's own mechanism: PostgreSQL copies with `CREATE
//! DATABASE … TEMPLATE`, MySQL replays the template's definitions, SQLite copies a file.
//! Everything that is policy (names, when to build, how to wait, what is stale, cleanup on
//! drop and panic, the test runner) is here, once, so the three backends cannot drift
//! apart. The cost is a trait with associated types where each backend had concrete ones;
//! the backends hide it behind aliases (`type TestKit = testing::TestKit<Postgres>`).
//!
//! This module is the only one of this crate that names a runtime (tokio, for the test
//! runner and the drop thread), which is why it is a feature: the default graph, which the
//! proc-macro crate builds, stays small.

mod backend;
mod db;
mod kit;
mod names;
mod rehearse;
mod run;

pub use crate::check::Drift;
pub use backend::{KitBackend, Listed};
pub use db::TestDb;
pub use kit::{TEMPLATE_AGE, TEMPLATE_BUILD_WAIT, TEST_DATABASE_AGE, TestKit};
pub use run::TestResult;
pub use run::{drift, run_test};
