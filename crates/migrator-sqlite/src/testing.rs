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
//!
//! Every name starts with `MIGRATOR_TEST_PREFIX` when it is set; [`TestKit::templates`]
//! lists the template files (age since last used, size) and [`TestKit::drop_templates`]
//! deletes them, never touching a file without the kit's prefix. The kit is the generic
//! [`migrator_core::testing::TestKit`] on [`Sqlite`].

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use migrator_core::Error;
use migrator_core::testing::{KitBackend, Listed};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions};

use crate::SqliteDriver;
use crate::lock::FileLock;

pub use migrator_core::testing::{Drift, TestResult};

/// Where test databases are made: a directory, the name prefix, the pool size.
pub type TestKit = migrator_core::testing::TestKit<Sqlite>;

/// A test's database: a pool on its own file, deleted when the value is dropped (also on
/// panic).
pub type TestDb = migrator_core::testing::TestDb<Sqlite>;

/// The pool type test bodies receive.
pub type Pool = SqlitePool;

/// The test kit's SQLite operations: a directory of database files (created when missing).
/// `TestKit::new(dir)` takes the directory.
#[derive(Debug, Clone)]
pub struct Sqlite {
    dir: PathBuf,
}

impl Sqlite {
    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    async fn pool(&self, path: &Path, create: bool, max_connections: u32) -> Result<SqlitePool, Error> {
        SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(SqliteConnectOptions::new().filename(path).create_if_missing(create))
            .await
            .map_err(|e| crate::conn::db(format!("opening test database {}", path.display()), e))
    }
}

impl From<PathBuf> for Sqlite {
    fn from(dir: PathBuf) -> Sqlite {
        Sqlite { dir }
    }
}

/// A directory given as `&Path`, `&str`, `&PathBuf`…
impl<T: ?Sized + AsRef<std::ffi::OsStr>> From<&T> for Sqlite {
    fn from(dir: &T) -> Sqlite {
        Sqlite { dir: PathBuf::from(dir) }
    }
}

impl From<String> for Sqlite {
    fn from(dir: String) -> Sqlite {
        Sqlite { dir: dir.into() }
    }
}

fn io_error(context: impl Into<String>, error: std::io::Error) -> Error {
    Error::database(context, error)
}

/// Deletes a database file and its journal, WAL and shared-memory files, and its migration
/// lock file (a test's file is its own: nobody else can be waiting on that lock).
fn remove_database(path: &Path) -> Result<(), Error> {
    for suffix in ["", "-journal", "-wal", "-shm", "-migrator-lock"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(PathBuf::from(file)) {
            Err(e) if suffix.is_empty() && e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_error(format!("deleting test database {}", path.display()), e));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A held template build lock (an exclusive lock on the template's lock file), released
/// when dropped.
#[derive(Debug)]
pub struct BuildLock {
    _file: FileLock,
}

/// The file a template's build lock is on (`mtpl_<hash>.lock`).
fn lock_file(template: &Path) -> PathBuf {
    template.with_extension("lock")
}

#[async_trait]
impl KitBackend for Sqlite {
    type Driver = SqliteDriver;
    type Pool = SqlitePool;
    type Options = SqliteConnectOptions;
    type Place = PathBuf;
    type Admin = ();
    type BuildLock = BuildLock;

    const SUFFIX: &'static str = ".db";

    /// The directory named by `MIGRATOR_TEST_SQLITE_DIR`, else `migrator-sqlite-tests` in the
    /// system's temporary directory.
    fn from_env() -> Result<Sqlite, Error> {
        let dir = match std::env::var_os("MIGRATOR_TEST_SQLITE_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => std::env::temp_dir().join("migrator-sqlite-tests"),
        };
        Ok(Sqlite { dir })
    }

    fn driver(pool: &SqlitePool) -> SqliteDriver {
        SqliteDriver::from(pool)
    }

    async fn close_pool(pool: &SqlitePool) {
        pool.close().await;
    }

    fn options(&self, name: &str) -> SqliteConnectOptions {
        SqliteConnectOptions::new().filename(self.path(name))
    }

    fn place(&self, name: &str) -> PathBuf {
        self.path(name)
    }

    /// No server: makes sure the directory exists.
    async fn admin(&self) -> Result<(), Error> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| io_error(format!("creating the test directory {}", self.dir.display()), e))
    }

    async fn template_ready(&self, _admin: &mut (), template: &str) -> Result<bool, Error> {
        Ok(self.path(template).exists())
    }

    /// An exclusive lock on `mtpl_<hash>.lock`, as the migration lock file.
    async fn try_lock_template(&self, _admin: &mut (), template: &str) -> Result<Option<BuildLock>, Error> {
        let who = format!("the test process {}", std::process::id());
        let lock =
            FileLock::try_acquire_file(&lock_file(&self.path(template)), "the test template's build lock", &who)?;
        Ok(lock.map(|file| BuildLock { _file: file }))
    }

    async fn unlock_template(&self, _admin: &mut (), lock: BuildLock) {
        drop(lock);
    }

    /// A file of this process's own (`mtpl_<hash>.building-<pid>`), renamed into place
    /// when complete.
    async fn create_build(&self, _admin: &mut (), template: &str) -> Result<(String, SqlitePool), Error> {
        let build = format!("{}.building-{}", template.trim_end_matches(Self::SUFFIX), std::process::id());
        let path = self.path(&build);
        remove_database(&path)?;
        let pool = self.pool(&path, true, 2).await?;
        Ok((build, pool))
    }

    /// Renames the file into place (the pool is closed: every write has reached the file).
    async fn finish_template(&self, _admin: &mut (), build: &str, template: &str) -> Result<(), Error> {
        let (from, to) = (self.path(build), self.path(template));
        std::fs::rename(&from, &to)
            .map_err(|e| io_error(format!("moving template {} into place as {}", from.display(), to.display()), e))
    }

    /// A file copy; the template's age then counts from this use.
    async fn copy_template(
        &self,
        _admin: &mut (),
        template: &str,
        name: &str,
        max_connections: u32,
    ) -> Result<SqlitePool, Error> {
        let (template, path) = (self.path(template), self.path(name));
        std::fs::copy(&template, &path)
            .map_err(|e| io_error(format!("copying test template {} to {}", template.display(), path.display()), e))?;
        if let Ok(file) = File::options().write(true).open(&template) {
            let _ = file.set_modified(SystemTime::now());
        }
        match self.pool(&path, false, max_connections).await {
            Ok(pool) => Ok(pool),
            Err(e) => {
                let _ = remove_database(&path);
                Err(e)
            }
        }
    }

    async fn drop_database(&self, _admin: &mut (), name: &str, _template: bool) -> Result<(), Error> {
        remove_database(&self.path(name))
    }

    /// The directory's files, a file's age from its modification time (a template's last
    /// use), its size from its length.
    async fn list(&self, _admin: &mut (), prefix: &str, sizes: bool) -> Result<Vec<Listed>, Error> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(format!("listing the test directory {}", self.dir.display()), e)),
        };
        Ok(entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                if !name.starts_with(prefix) {
                    return None;
                }
                let metadata = entry.metadata().ok();
                let age = metadata.as_ref().and_then(|m| m.modified().ok()).and_then(|m| m.elapsed().ok());
                let size = metadata.filter(|_| sizes).map(|m| m.len());
                Some(Listed::new(name, age, size))
            })
            .collect())
    }
}

/// A fresh migrated database in the directory named by `MIGRATOR_TEST_SQLITE_DIR` (or the
/// temporary directory).
pub async fn fresh(migrations: impl migrator_core::IntoMigrations<SqliteConnection>) -> Result<TestDb, Error> {
    TestKit::from_env()?.fresh(migrations).await
}

/// Runs an async test body against a fresh migrated database (what `#[migrator_sqlite::test]`
/// expands to): builds a runtime, makes the database, runs the body, deletes the database,
/// and re-raises the body's panic.
pub fn run_test<F, Fut>(migrations: impl migrator_core::IntoMigrations<SqliteConnection>, body: F)
where
    F: FnOnce(SqlitePool) -> Fut,
    Fut: std::future::Future,
    Fut::Output: TestResult,
{
    migrator_core::testing::run_test::<Sqlite, _, _>(migrations, body);
}

/// Compares the live schema behind `live` with the schema the migrations build in a scratch
/// database (a copy of the template in `kit`'s directory), listing each difference.
pub async fn drift_with(
    kit: &TestKit,
    live: &SqlitePool,
    migrations: impl migrator_core::IntoMigrations<SqliteConnection>,
) -> Result<Drift, Error> {
    kit.drift(live, migrations).await
}

/// [`drift_with`] in the directory named by `MIGRATOR_TEST_SQLITE_DIR` (or the temporary
/// directory).
pub async fn drift(
    live: &SqlitePool,
    migrations: impl migrator_core::IntoMigrations<SqliteConnection>,
) -> Result<Drift, Error> {
    migrator_core::testing::drift::<Sqlite>(live, migrations).await
}
