//! Fresh, fully migrated database files for tests, fast (feature `testing`).
//!
//! ```no_run
//! use migrator_sqlite::{EmbeddedMigrations, embed_migrations};
//!
//! static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! // One line per test, as an attribute...
//! #[migrator_sqlite::test(migrations = MIGRATIONS)]
//! async fn signs_up(pool: sqlx::SqlitePool) {
//!     sqlx::query("INSERT INTO example (id) VALUES (1)").execute(&pool).await.unwrap();
//! }
//!
//! // ...or as a function.
//! # async fn f() -> Result<(), migrator_sqlite::Error> {
//! let db = migrator_sqlite::testing::fresh(MIGRATIONS).await?;
//! sqlx::query("SELECT 1").execute(db.pool()).await.ok();
//! db.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The files live in `MIGRATOR_TEST_SQLITE_DIR`, else in `migrator-sqlite-tests` under the
//! system's temporary directory. The migrations are applied once, all phases, into a
//! *template file* named after the migration set's fingerprint (`mtpl_<hash>.db`), built
//! under a lock file so concurrent tests and test processes build it once, and renamed into
//! place only when complete. Each test's database is a copy of it (`mtdb_<time>_<pid>_<n>.db`),
//! so a test costs a file copy, not a replay of every migration. A changed migration set gets
//! a new template. Test files are deleted when the test ends, also when it panics; leftovers
//! of killed runs are swept by name and age (an hour for test files, a week for templates
//! nobody used).

use std::fs::File;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt;
use migrator_core::{Error, IntoMigrations, MigrationSet, Phases};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions};
use tracing::{debug, info};

use crate::SqliteDriver;
use crate::lock::FileLock;

const TEMPLATE_PREFIX: &str = "mtpl_";
const DATABASE_PREFIX: &str = "mtdb_";
const TEST_DATABASE_AGE: Duration = Duration::from_secs(3600);
const TEMPLATE_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
const TEMPLATE_BUILD_WAIT: Duration = Duration::from_secs(600);

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn io_error(context: impl Into<String>, error: std::io::Error) -> Error {
    Error::database(context, error)
}

/// Where test databases are made: a directory of SQLite files.
#[derive(Debug, Clone)]
pub struct TestKit {
    dir: PathBuf,
    max_connections: u32,
}

impl TestKit {
    /// The directory named by `MIGRATOR_TEST_SQLITE_DIR`, else `migrator-sqlite-tests` in the
    /// system's temporary directory.
    pub fn from_env() -> Result<TestKit, Error> {
        let dir = match std::env::var_os("MIGRATOR_TEST_SQLITE_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => std::env::temp_dir().join("migrator-sqlite-tests"),
        };
        Ok(TestKit::new(dir))
    }

    /// A kit keeping its files in `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> TestKit {
        TestKit { dir: dir.into(), max_connections: 5 }
    }

    /// The size of each test database's pool (default 5).
    pub fn max_connections(mut self, max: u32) -> TestKit {
        self.max_connections = max.max(1);
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The template file's name for a migration set: its fingerprint.
    pub fn template_name(migrations: &MigrationSet<SqliteConnection>) -> String {
        format!("{TEMPLATE_PREFIX}{}.db", migrations.fingerprint())
    }

    /// A fresh database file with every migration applied, and a pool on it.
    pub async fn fresh(&self, migrations: impl IntoMigrations<SqliteConnection>) -> Result<TestDb, Error> {
        let set = migrations.into_migrations()?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| io_error(format!("creating the test directory {}", self.dir.display()), e))?;
        self.sweep();
        let template = self.dir.join(Self::template_name(&set));
        self.ensure_template(&template, &set).await?;
        let name = format!(
            "{DATABASE_PREFIX}{}_{}_{}.db",
            now_secs(),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let path = self.dir.join(name);
        std::fs::copy(&template, &path)
            .map_err(|e| io_error(format!("copying test template {} to {}", template.display(), path.display()), e))?;
        // The template's age counts from its last use.
        if let Ok(file) = File::options().write(true).open(&template) {
            let _ = file.set_modified(SystemTime::now());
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(self.max_connections)
            .connect_with(SqliteConnectOptions::new().filename(&path))
            .await
            .map_err(|e| crate::conn::db(format!("opening test database {}", path.display()), e))?;
        debug!(database = %path.display(), template = %template.display(), "test database ready");
        Ok(TestDb { pool, path, dropped: false })
    }

    /// A fresh database with *no* migration applied (for reversibility checks).
    pub async fn empty(&self) -> Result<TestDb, Error> {
        self.fresh(MigrationSet::<SqliteConnection>::new()).await
    }

    /// Builds the template unless it exists: under a lock file, so concurrent tests and test
    /// processes build it once; into a file of its own, renamed into place when complete.
    async fn ensure_template(&self, template: &Path, set: &MigrationSet<SqliteConnection>) -> Result<(), Error> {
        if template.exists() {
            return Ok(());
        }
        let lock_path = template.with_extension("lock");
        let who = format!("the test process {}", std::process::id());
        let lock =
            FileLock::acquire_file(&lock_path, "the test template's build lock", TEMPLATE_BUILD_WAIT, &who).await?;
        let built = if template.exists() { Ok(()) } else { self.build_template(template, set).await };
        drop(lock);
        built
    }

    async fn build_template(&self, template: &Path, set: &MigrationSet<SqliteConnection>) -> Result<(), Error> {
        let started = Instant::now();
        let building = template.with_extension(format!("building-{}", std::process::id()));
        remove_database(&building);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(SqliteConnectOptions::new().filename(&building).create_if_missing(true))
            .await
            .map_err(|e| crate::conn::db(format!("creating template database {}", building.display()), e))?;
        // A private file, built under the kit's own lock: no migration lock file needed.
        let migrator = migrator_core::Migrator::<SqliteDriver>::builder(&pool, set.clone()).no_lock().build()?;
        let applied = migrator.run_with(Phases::All, None).await;
        // Closing the pool finishes every write to the file before it is renamed.
        pool.close().await;
        if let Err(e) = applied {
            remove_database(&building);
            return Err(e);
        }
        std::fs::rename(&building, template).map_err(|e| {
            io_error(format!("moving template {} into place as {}", building.display(), template.display()), e)
        })?;
        info!(
            template = %template.display(),
            migrations = set.len(),
            took_ms = started.elapsed().as_millis() as u64,
            "test template built"
        );
        Ok(())
    }

    /// Deletes test files older than an hour and templates unused for a week, once per
    /// process. Failures are only logged: a sweep never fails a test.
    fn sweep(&self) {
        if SWEPT.swap(true, Ordering::Relaxed) {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let now = now_secs();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = if let Some(rest) = name.strip_prefix(DATABASE_PREFIX) {
                rest.split('_')
                    .next()
                    .and_then(|t| t.parse::<u64>().ok())
                    .is_some_and(|t| t + TEST_DATABASE_AGE.as_secs() < now)
            } else if name.starts_with(TEMPLATE_PREFIX) {
                entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|modified| modified.elapsed().ok())
                    .is_some_and(|age| age > TEMPLATE_AGE)
            } else {
                false
            };
            if stale && let Err(e) = std::fs::remove_file(entry.path()) {
                debug!(file = %entry.path().display(), error = %e, "sweeping a leftover test file failed");
            }
        }
    }
}

/// Deletes a database file and its journal, WAL and shared-memory files, and its migration
/// lock file (a test's file is its own: nobody else can be waiting on that lock).
fn remove_database(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm", "-migrator-lock"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(file));
    }
}

/// A test's database: a pool on its own file, deleted when the value is dropped (also on
/// panic).
#[derive(Debug)]
pub struct TestDb {
    pool: SqlitePool,
    path: PathBuf,
    dropped: bool,
}

impl TestDb {
    /// The pool on the test database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Connect options for the test database (for a pool of your own).
    pub fn options(&self) -> SqliteConnectOptions {
        SqliteConnectOptions::new().filename(&self.path)
    }

    /// Deletes the database now (instead of on drop).
    pub async fn close(mut self) -> Result<(), Error> {
        self.dropped = true;
        self.pool.close().await;
        remove_database(&self.path);
        Ok(())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop cannot await: close the pool from a thread with its own runtime, then delete.
        let (pool, path) = (self.pool.clone(), self.path.clone());
        let closed = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(pool.close());
            }
            remove_database(&path);
        })
        .join();
        if closed.is_err() {
            debug!("deleting a test database failed; the next run sweeps it");
        }
    }
}

/// A fresh migrated database in the directory named by `MIGRATOR_TEST_SQLITE_DIR` (or the
/// temporary directory).
pub async fn fresh(migrations: impl IntoMigrations<SqliteConnection>) -> Result<TestDb, Error> {
    TestKit::from_env()?.fresh(migrations).await
}

/// The pool type test bodies receive.
pub type Pool = SqlitePool;

pub use migrator_core::driver::TestResult;

/// Runs an async test body against a fresh migrated database (what `#[migrator_sqlite::test]`
/// expands to): builds a runtime, makes the database, runs the body, deletes the database,
/// and re-raises the body's panic.
#[allow(clippy::panic)] // test harness: setup failures fail the test
pub fn run_test<F, Fut>(migrations: impl IntoMigrations<SqliteConnection>, body: F)
where
    F: FnOnce(SqlitePool) -> Fut,
    Fut: Future,
    Fut::Output: TestResult,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => panic!("could not start a tokio runtime for the test: {e}"),
    };
    let outcome = runtime.block_on(async move {
        let db = match fresh(migrations).await {
            Ok(db) => db,
            Err(e) => panic!("could not make a test database: {e}"),
        };
        let outcome = AssertUnwindSafe(body(db.pool().clone())).catch_unwind().await;
        if let Err(e) = db.close().await {
            debug!(error = %e, "deleting the test database failed; the next run sweeps it");
        }
        outcome
    });
    match outcome {
        Ok(result) => result.check(),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Compares the live schema behind `live` with the schema the migrations build in a scratch
/// database (a copy of the template in `kit`'s directory), listing each difference.
pub async fn drift_with(
    kit: &TestKit,
    live: &SqlitePool,
    migrations: impl IntoMigrations<SqliteConnection>,
) -> Result<migrator_core::Drift, Error> {
    use migrator_core::driver::Inspect;
    let scratch = kit.fresh(migrations).await?;
    let expected = SqliteDriver::from(scratch.pool()).snapshot().await;
    let actual = SqliteDriver::from(live).snapshot().await;
    scratch.close().await?;
    Ok(migrator_core::Drift::between(&expected?, &actual?))
}

/// [`drift_with`] in the directory named by `MIGRATOR_TEST_SQLITE_DIR` (or the temporary
/// directory).
pub async fn drift(
    live: &SqlitePool,
    migrations: impl IntoMigrations<SqliteConnection>,
) -> Result<migrator_core::Drift, Error> {
    drift_with(&TestKit::from_env()?, live, migrations).await
}
