//! Fresh, fully migrated databases for tests, fast (feature `testing`).
//!
//! ```no_run
//! use migrator_postgres::{EmbeddedMigrations, embed_migrations};
//!
//! static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! // One line per test, as an attribute...
//! #[migrator_postgres::test(migrations = MIGRATIONS)]
//! async fn signs_up(pool: sqlx::PgPool) {
//!     sqlx::query("INSERT INTO example (id) VALUES (1)").execute(&pool).await.unwrap();
//! }
//!
//! // ...or as a function.
//! # async fn f() -> Result<(), migrator_postgres::Error> {
//! let db = migrator_postgres::testing::fresh(MIGRATIONS).await?;
//! sqlx::query("SELECT 1").execute(db.pool()).await.ok();
//! db.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The server comes from `MIGRATOR_TEST_POSTGRES_URL` or else `DATABASE_URL` (any database
//! on it: the kit connects there to create and drop databases). The migrations are applied once, all phases, into a *template
//! database* named after the migration set's fingerprint (`mtpl_<hash>`), built under a
//! cross-process advisory lock; each test's database is a `CREATE DATABASE … TEMPLATE` copy
//! (`mtdb_<time>_<pid>_<n>`), so a test costs a file copy, not a replay of every migration.
//! A changed migration set gets a new template. Test databases are dropped when the test ends,
//! also when it panics; leftovers of killed runs are swept by name and age (an hour for test
//! databases, a week for unused templates).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt;
use migrator_core::{Error, IntoMigrations, MigrationSet, Phases};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tracing::{debug, info};

use crate::PgDriver;
use crate::sql::literal;

const TEMPLATE_PREFIX: &str = "mtpl_";
const DATABASE_PREFIX: &str = "mtdb_";
const TEST_DATABASE_AGE: u64 = 3600;
const TEMPLATE_AGE: u64 = 7 * 24 * 3600;
const TEMPLATE_BUILD_WAIT: Duration = Duration::from_secs(600);

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn db_error(context: impl Into<String>, error: sqlx::Error) -> Error {
    Error::database(context, error)
}

/// Where test databases are made: a server and the options to reach it.
#[derive(Debug, Clone)]
pub struct TestKit {
    admin: PgConnectOptions,
    max_connections: u32,
}

impl TestKit {
    /// The server named by `MIGRATOR_TEST_POSTGRES_URL`, else `DATABASE_URL`.
    pub fn from_env() -> Result<TestKit, Error> {
        let url =
            std::env::var("MIGRATOR_TEST_POSTGRES_URL").or_else(|_| std::env::var("DATABASE_URL")).map_err(|_| {
                Error::Misconfigured {
                    reason:
                        "neither MIGRATOR_TEST_POSTGRES_URL nor DATABASE_URL is set: point one at a PostgreSQL server \
                         where the tests may create databases (postgres://user@host/postgres)"
                            .to_owned(),
                }
            })?;
        let admin = url
            .parse::<PgConnectOptions>()
            .map_err(|e| Error::Misconfigured { reason: format!("DATABASE_URL is not a PostgreSQL URL: {e}") })?;
        Ok(TestKit::new(admin))
    }

    /// A kit on the server reached with `admin` (a user allowed to create databases).
    pub fn new(admin: PgConnectOptions) -> TestKit {
        TestKit { admin, max_connections: 5 }
    }

    /// The size of each test database's pool (default 5).
    pub fn max_connections(mut self, max: u32) -> TestKit {
        self.max_connections = max.max(1);
        self
    }

    async fn admin(&self) -> Result<PgConnection, Error> {
        PgConnection::connect_with(&self.admin)
            .await
            .map_err(|e| db_error("connecting to the test server (DATABASE_URL)", e))
    }

    /// The template name for a migration set: its fingerprint (versions and checksums).
    pub fn template_name(migrations: &MigrationSet<PgConnection>) -> String {
        format!("{TEMPLATE_PREFIX}{}", migrations.fingerprint())
    }

    /// A fresh database with every migration applied, and a pool on it.
    pub async fn fresh(&self, migrations: impl IntoMigrations<PgConnection>) -> Result<TestDb, Error> {
        let set = migrations.into_migrations()?;
        let template = Self::template_name(&set);
        let mut admin = self.admin().await?;
        self.sweep(&mut admin).await;
        self.ensure_template(&mut admin, &template, &set).await?;
        let name = format!(
            "{DATABASE_PREFIX}{}_{}_{}",
            now_secs(),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        let started = Instant::now();
        loop {
            match sqlx::raw_sql(AssertSqlSafe(create.clone())).execute(&mut admin).await {
                Ok(_) => break,
                // 55006: someone is connected to the template; it does not allow connections,
                // so this is a brief race with its build: retry.
                Err(e) if code(&e).as_deref() == Some("55006") && started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(db_error(format!("creating test database {name} from {template}"), e)),
            }
        }
        let _ = admin.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .connect_with(self.admin.clone().database(&name))
            .await
            .map_err(|e| db_error(format!("connecting to test database {name}"), e))?;
        debug!(database = %name, template = %template, "test database ready");
        Ok(TestDb { pool, name, admin: self.admin.clone(), dropped: false })
    }

    /// A fresh database with *no* migration applied (for reversibility checks), built the
    /// same way from an empty template.
    pub async fn empty(&self) -> Result<TestDb, Error> {
        self.fresh(MigrationSet::<PgConnection>::new()).await
    }

    /// Builds the template if it is missing: under an advisory lock on the server, so
    /// concurrent tests and test processes build it once.
    async fn ensure_template(
        &self,
        admin: &mut PgConnection,
        template: &str,
        set: &MigrationSet<PgConnection>,
    ) -> Result<(), Error> {
        if template_ready(admin, template).await? {
            return Ok(());
        }
        let key = crate::key::lock_key("migrator-test-template", template, "");
        let started = Instant::now();
        loop {
            let got: bool = sqlx::query_scalar(AssertSqlSafe(format!("SELECT pg_try_advisory_lock({key})")))
                .fetch_one(&mut *admin)
                .await
                .map_err(|e| db_error("taking the template build lock", e))?;
            if got {
                break;
            }
            if started.elapsed() > TEMPLATE_BUILD_WAIT {
                return Err(Error::database(
                    "waiting for another process to build the test template",
                    format!("{template} was not built within {}s", TEMPLATE_BUILD_WAIT.as_secs()),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let built = self.build_template(admin, template, set).await;
        let _ = sqlx::raw_sql(AssertSqlSafe(format!("SELECT pg_advisory_unlock({key})"))).execute(&mut *admin).await;
        built
    }

    async fn build_template(
        &self,
        admin: &mut PgConnection,
        template: &str,
        set: &MigrationSet<PgConnection>,
    ) -> Result<(), Error> {
        if template_ready(admin, template).await? {
            return Ok(());
        }
        let started = Instant::now();
        let building = format!("{template}_build");
        let setup = format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE); CREATE DATABASE \"{building}\"");
        for statement in setup.split("; ") {
            sqlx::raw_sql(AssertSqlSafe(statement.to_owned()))
                .execute(&mut *admin)
                .await
                .map_err(|e| db_error(format!("creating template database {building}"), e))?;
        }
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.admin.clone().database(&building))
            .await
            .map_err(|e| db_error(format!("connecting to template database {building}"), e))?;
        let applied = migrator_core::Migrator::<PgDriver>::new(&pool, set.clone())?.run_with(Phases::All, None).await;
        pool.close().await;
        applied?;
        let comment = literal(&format!("migrator test template, built {}", now_secs()));
        for statement in [
            format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\""),
            format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
            format!("COMMENT ON DATABASE \"{template}\" IS {comment}"),
        ] {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *admin)
                .await
                .map_err(|e| db_error(format!("finishing template database {template}"), e))?;
        }
        info!(template, migrations = set.len(), took_ms = started.elapsed().as_millis() as u64, "test template built");
        Ok(())
    }

    /// Drops test databases older than an hour and templates unused for a week, once per
    /// process. Failures are only logged: a sweep never fails a test.
    async fn sweep(&self, admin: &mut PgConnection) {
        if SWEPT.swap(true, Ordering::Relaxed) {
            return;
        }
        let now = now_secs();
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT datname::text, shobj_description(oid, 'pg_database') FROM pg_database \
             WHERE datname LIKE 'mtdb\\_%' OR datname LIKE 'mtpl\\_%'",
        )
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
        for (name, comment) in rows {
            let stale = if let Some(rest) = name.strip_prefix(DATABASE_PREFIX) {
                rest.split('_').next().and_then(|t| t.parse::<u64>().ok()).is_some_and(|t| t + TEST_DATABASE_AGE < now)
            } else {
                comment
                    .and_then(|c| c.rsplit(' ').next().and_then(|t| t.parse::<u64>().ok()))
                    .is_some_and(|t| t + TEMPLATE_AGE < now)
            };
            if stale {
                let drop = if name.starts_with(TEMPLATE_PREFIX) {
                    format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE false")
                } else {
                    String::new()
                };
                for statement in [drop, format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")] {
                    if statement.is_empty() {
                        continue;
                    }
                    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut *admin).await {
                        debug!(database = %name, error = %e, "sweeping a leftover test database failed");
                    }
                }
            }
        }
    }
}

fn code(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

async fn template_ready(admin: &mut PgConnection, template: &str) -> Result<bool, Error> {
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)")
        .bind(template)
        .fetch_one(&mut *admin)
        .await
        .map_err(|e| db_error("looking for the test template", e))
}

/// A test's database: a pool on it, dropped when the value is dropped (also on panic).
#[derive(Debug)]
pub struct TestDb {
    pool: PgPool,
    name: String,
    admin: PgConnectOptions,
    dropped: bool,
}

impl TestDb {
    /// The pool on the test database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connect options for the test database (for a pool of your own).
    pub fn options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// Drops the database now (instead of on drop), reporting failures.
    pub async fn close(mut self) -> Result<(), Error> {
        self.dropped = true;
        drop_database(&self.pool, &self.admin, &self.name).await
    }
}

async fn drop_database(pool: &PgPool, admin: &PgConnectOptions, name: &str) -> Result<(), Error> {
    pool.close().await;
    let mut conn = PgConnection::connect_with(admin).await.map_err(|e| db_error("connecting to the test server", e))?;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
        .execute(&mut conn)
        .await
        .map_err(|e| db_error(format!("dropping test database {name}"), e))?;
    let _ = conn.close().await;
    Ok(())
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop cannot await: drop the database from a thread with its own runtime.
        let (pool, admin, name) = (self.pool.clone(), self.admin.clone(), self.name.clone());
        let outcome = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(drop_database(&pool, &admin, &name)).map_err(|e| e.to_string())
        })
        .join()
        .unwrap_or_else(|_| Err("the cleanup thread panicked".to_owned()));
        if let Err(e) = outcome {
            debug!(error = %e, "dropping a test database failed; the next run sweeps it");
        }
    }
}

/// A fresh migrated database on the server named by `MIGRATOR_TEST_POSTGRES_URL` or `DATABASE_URL`.
pub async fn fresh(migrations: impl IntoMigrations<PgConnection>) -> Result<TestDb, Error> {
    TestKit::from_env()?.fresh(migrations).await
}

/// The pool type test bodies receive.
pub type Pool = PgPool;

pub use migrator_core::driver::TestResult;

/// Runs an async test body against a fresh migrated database (what `#[migrator_postgres::test]`
/// expands to): builds a runtime, makes the database, runs the body, drops the database, and
/// re-raises the body's panic.
#[allow(clippy::panic)] // test harness: setup failures fail the test
pub fn run_test<F, Fut>(migrations: impl IntoMigrations<PgConnection>, body: F)
where
    F: FnOnce(PgPool) -> Fut,
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
            debug!(error = %e, "dropping the test database failed; the next run sweeps it");
        }
        outcome
    });
    match outcome {
        Ok(result) => result.check(),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Compares the live schema behind `live` with the schema the migrations build in a scratch
/// database (made from the template on `kit`'s server), listing each difference: an extra
/// column added by hand, a missing index.
pub async fn drift_with(
    kit: &TestKit,
    live: &PgPool,
    migrations: impl IntoMigrations<PgConnection>,
) -> Result<migrator_core::Drift, Error> {
    use migrator_core::driver::Inspect;
    let scratch = kit.fresh(migrations).await?;
    let expected = PgDriver::from(scratch.pool()).snapshot().await;
    let actual = PgDriver::from(live).snapshot().await;
    scratch.close().await?;
    Ok(migrator_core::Drift::between(&expected?, &actual?))
}

/// [`drift_with`] on the server named by `MIGRATOR_TEST_POSTGRES_URL` or `DATABASE_URL`.
pub async fn drift(
    live: &PgPool,
    migrations: impl IntoMigrations<PgConnection>,
) -> Result<migrator_core::Drift, Error> {
    drift_with(&TestKit::from_env()?, live, migrations).await
}
