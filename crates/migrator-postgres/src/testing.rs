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
//! on it: the kit connects there to create and drop databases). The migrations are applied
//! once, all phases, into a *template database* named after the migration set's fingerprint
//! (`mtpl_<hash>`), built under a cross-process advisory lock; each test's database is a
//! `CREATE DATABASE … TEMPLATE` copy (`mtdb_<time>_<pid>_<n>`), so a test costs a file copy,
//! not a replay of every migration. A changed migration set gets a new template. Test
//! databases are dropped when the test ends, also when it panics; leftovers of killed runs
//! are swept by name and age (an hour for test databases, a week after a template was built).
//!
//! Every name starts with `MIGRATOR_TEST_PREFIX` when it is set; [`TestKit::templates`]
//! lists the templates (age since built, size) and [`TestKit::drop_templates`] drops them,
//! never touching a name without the kit's prefix. The kit is the generic
//! [`migrator_core::testing::TestKit`] on [`Postgres`].

use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_core::Error;
use migrator_core::testing::{KitBackend, Listed};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tracing::debug;

use crate::PgDriver;
use crate::sql::literal;

pub use migrator_core::testing::{Drift, TestResult};

/// Where test databases are made: a server, the name prefix, the pool size.
pub type TestKit = migrator_core::testing::TestKit<Postgres>;

/// A test's database: a pool on it, dropped when the value is dropped (also on panic).
pub type TestDb = migrator_core::testing::TestDb<Postgres>;

/// The pool type test bodies receive.
pub type Pool = PgPool;

/// The test kit's PostgreSQL operations: a server, reached with options allowed to create
/// databases. `TestKit::new(options)` takes the options.
#[derive(Debug, Clone)]
pub struct Postgres {
    admin: PgConnectOptions,
}

impl From<PgConnectOptions> for Postgres {
    fn from(admin: PgConnectOptions) -> Postgres {
        Postgres { admin }
    }
}

/// Runs SQL on the admin connection.
async fn exec(admin: &mut PgConnection, sql: String, context: impl FnOnce() -> String) -> Result<(), Error> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *admin).await.map(drop).map_err(|e| Error::database(context(), e))
}

fn code(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

impl Postgres {
    async fn pool(&self, name: &str, max_connections: u32) -> Result<PgPool, Error> {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.admin.clone().database(name))
            .await
            .map_err(|e| Error::database(format!("connecting to test database {name}"), e))
    }
}

#[async_trait]
impl KitBackend for Postgres {
    type Driver = PgDriver;
    type Pool = PgPool;
    type Options = PgConnectOptions;
    type Place = ();
    type Admin = PgConnection;
    type BuildLock = i64;

    /// The server named by `MIGRATOR_TEST_POSTGRES_URL`, else `DATABASE_URL`.
    fn from_env() -> Result<Postgres, Error> {
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
        Ok(Postgres { admin })
    }

    fn driver(pool: &PgPool) -> PgDriver {
        PgDriver::from(pool)
    }

    async fn close_pool(pool: &PgPool) {
        pool.close().await;
    }

    fn options(&self, name: &str) -> PgConnectOptions {
        self.admin.clone().database(name)
    }

    fn place(&self, _name: &str) {}

    async fn admin(&self) -> Result<PgConnection, Error> {
        PgConnection::connect_with(&self.admin)
            .await
            .map_err(|e| Error::database("connecting to the test server (DATABASE_URL)", e))
    }

    async fn close_admin(&self, admin: PgConnection) {
        let _ = admin.close().await;
    }

    async fn template_ready(&self, admin: &mut PgConnection, template: &str) -> Result<bool, Error> {
        sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)")
            .bind(template)
            .fetch_one(&mut *admin)
            .await
            .map_err(|e| Error::database("looking for the test template", e))
    }

    /// A session advisory lock keyed by the template's name.
    async fn try_lock_template(&self, admin: &mut PgConnection, template: &str) -> Result<Option<i64>, Error> {
        let key = crate::key::lock_key("migrator-test-template", template, "");
        let got: bool = sqlx::query_scalar(AssertSqlSafe(format!("SELECT pg_try_advisory_lock({key})")))
            .fetch_one(&mut *admin)
            .await
            .map_err(|e| Error::database("taking the template build lock", e))?;
        Ok(got.then_some(key))
    }

    async fn unlock_template(&self, admin: &mut PgConnection, key: i64) {
        if let Err(e) = exec(admin, format!("SELECT pg_advisory_unlock({key})"), String::new).await {
            debug!(error = %e, "releasing the template build lock failed; closing the connection releases it");
        }
    }

    /// `<template>_build`, renamed into place when complete. A database already named like
    /// the template is a build interrupted after its rename: under the lock, it goes too.
    async fn create_build(&self, admin: &mut PgConnection, template: &str) -> Result<(String, PgPool), Error> {
        let build = format!("{template}_build");
        for statement in [
            format!("DROP DATABASE IF EXISTS \"{build}\" WITH (FORCE)"),
            format!("DROP DATABASE IF EXISTS \"{template}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{build}\""),
        ] {
            exec(admin, statement, || format!("creating template database {build}")).await?;
        }
        let pool = self.pool(&build, 2).await?;
        Ok((build, pool))
    }

    /// Renames the build, marks it a template that allows no connections, and records when
    /// it was built in its comment (for [`TestKit::templates`] and the sweep).
    async fn finish_template(&self, admin: &mut PgConnection, build: &str, template: &str) -> Result<(), Error> {
        let comment = literal(&format!("migrator test template, built {}", now_secs()));
        for statement in [
            format!("ALTER DATABASE \"{build}\" RENAME TO \"{template}\""),
            format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
            format!("COMMENT ON DATABASE \"{template}\" IS {comment}"),
        ] {
            exec(admin, statement, || format!("finishing template database {template}")).await?;
        }
        Ok(())
    }

    /// `CREATE DATABASE … TEMPLATE`: a copy of the template's files.
    async fn copy_template(
        &self,
        admin: &mut PgConnection,
        template: &str,
        name: &str,
        max_connections: u32,
    ) -> Result<PgPool, Error> {
        let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        let started = Instant::now();
        loop {
            match sqlx::raw_sql(AssertSqlSafe(create.clone())).execute(&mut *admin).await {
                Ok(_) => break,
                // 55006: someone is connected to the template; it does not allow connections,
                // so this is a brief race with its build: retry.
                Err(e) if code(&e).as_deref() == Some("55006") && started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(Error::database(format!("creating test database {name} from {template}"), e)),
            }
        }
        self.pool(name, max_connections).await
    }

    async fn drop_database(&self, admin: &mut PgConnection, name: &str, template: bool) -> Result<(), Error> {
        if template {
            exec(admin, format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE false"), || {
                format!("dropping template database {name}")
            })
            .await?;
        }
        exec(admin, format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"), || {
            format!("dropping test database {name}")
        })
        .await
    }

    /// The databases from `pg_database`, a template's age from its comment, its size from
    /// `pg_database_size`.
    async fn list(&self, admin: &mut PgConnection, prefix: &str, sizes: bool) -> Result<Vec<Listed>, Error> {
        let rows: Vec<(String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT datname::text, shobj_description(oid, 'pg_database'), \
             CASE WHEN $2 THEN pg_database_size(oid) END \
             FROM pg_database WHERE starts_with(datname::text, $1)",
        )
        .bind(prefix)
        .bind(sizes)
        .fetch_all(&mut *admin)
        .await
        .map_err(|e| Error::database("listing the test databases", e))?;
        let now = now_secs();
        Ok(rows
            .into_iter()
            .map(|(name, comment, size)| {
                let built = comment.and_then(|c| c.strip_prefix("migrator test template, built ")?.parse::<u64>().ok());
                let age = built.map(|t| Duration::from_secs(now.saturating_sub(t)));
                Listed::new(name, age, size.and_then(|s| u64::try_from(s).ok()))
            })
            .collect())
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A fresh migrated database on the server named by `MIGRATOR_TEST_POSTGRES_URL` or
/// `DATABASE_URL`.
pub async fn fresh(migrations: impl migrator_core::IntoMigrations<PgConnection>) -> Result<TestDb, Error> {
    TestKit::from_env()?.fresh(migrations).await
}

/// Runs an async test body against a fresh migrated database (what `#[migrator_postgres::test]`
/// expands to): builds a runtime, makes the database, runs the body, drops the database, and
/// re-raises the body's panic.
pub fn run_test<F, Fut>(migrations: impl migrator_core::IntoMigrations<PgConnection>, body: F)
where
    F: FnOnce(PgPool) -> Fut,
    Fut: std::future::Future,
    Fut::Output: TestResult,
{
    migrator_core::testing::run_test::<Postgres, _, _>(migrations, body);
}

/// Compares the live schema behind `live` with the schema the migrations build in a scratch
/// database (made from the template on `kit`'s server), listing each difference: an extra
/// column added by hand, a missing index.
pub async fn drift_with(
    kit: &TestKit,
    live: &PgPool,
    migrations: impl migrator_core::IntoMigrations<PgConnection>,
) -> Result<Drift, Error> {
    kit.drift(live, migrations).await
}

/// [`drift_with`] on the server named by `MIGRATOR_TEST_POSTGRES_URL` or `DATABASE_URL`.
pub async fn drift(
    live: &PgPool,
    migrations: impl migrator_core::IntoMigrations<PgConnection>,
) -> Result<Drift, Error> {
    migrator_core::testing::drift::<Postgres>(live, migrations).await
}
