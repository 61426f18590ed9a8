//! Fresh, fully migrated databases for tests, fast (feature `testing`).
//!
//! ```no_run
//! use migrator_mysql::{EmbeddedMigrations, embed_migrations};
//!
//! static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! #[migrator_mysql::test(migrations = MIGRATIONS)]
//! async fn signs_up(pool: sqlx::MySqlPool) {
//!     sqlx::query("INSERT INTO example (id) VALUES (1)").execute(&pool).await.unwrap();
//! }
//! ```
//!
//! The server comes from `MIGRATOR_TEST_MYSQL_URL` or else `DATABASE_URL`. MySQL cannot
//! copy a database, so the kit applies the migrations once, all phases, into a template
//! database named after the migration set's fingerprint (`mtpl_<hash>`, built under
//! `GET_LOCK`, so concurrent tests and test processes build it once), captures its
//! definitions (`SHOW CREATE` of tables, routines, triggers and views) and which tables hold
//! rows (seed data, the migration history), and makes each test's database by replaying
//! those definitions and `INSERT … SELECT`s in one message: no migration runs per test.
//! Test databases are dropped when the test ends, also when it panics; leftovers of killed
//! runs are swept by name and age.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use futures_util::FutureExt;
use migrator_core::{Error, IntoMigrations, MigrationSet, Phases};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, Row};
use tracing::{debug, info};

use crate::MySqlDriver;

const TEMPLATE_PREFIX: &str = "mtpl_";
const DATABASE_PREFIX: &str = "mtdb_";
const READY_TABLE: &str = "_migrator_template_ready";
const TEST_DATABASE_AGE: u64 = 3600;
const TEMPLATE_AGE: u64 = 7 * 24 * 3600;
const TEMPLATE_BUILD_WAIT_SECS: u64 = 600;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);
static SCRIPTS: Mutex<Option<HashMap<String, Arc<CopyScript>>>> = Mutex::new(None);

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn db_error(context: impl Into<String>, error: sqlx::Error) -> Error {
    Error::database(context, error)
}

/// The SQL that recreates the template in an empty database.
#[derive(Debug)]
struct CopyScript {
    /// Tables and their data, routines and triggers: one message.
    main: String,
    /// Views, in an order that works (views may use views).
    views: Vec<String>,
}

/// Where test databases are made: a server and the options to reach it.
#[derive(Debug, Clone)]
pub struct TestKit {
    admin: MySqlConnectOptions,
    max_connections: u32,
}

impl TestKit {
    /// The server named by `MIGRATOR_TEST_MYSQL_URL`, else `DATABASE_URL`.
    pub fn from_env() -> Result<TestKit, Error> {
        let url =
            std::env::var("MIGRATOR_TEST_MYSQL_URL").or_else(|_| std::env::var("DATABASE_URL")).map_err(|_| {
                Error::Misconfigured {
                    reason:
                        "neither MIGRATOR_TEST_MYSQL_URL nor DATABASE_URL is set: point one at a MySQL/MariaDB server \
                         where the tests may create databases (mysql://user@host)"
                            .to_owned(),
                }
            })?;
        let admin = url
            .parse::<MySqlConnectOptions>()
            .map_err(|e| Error::Misconfigured { reason: format!("DATABASE_URL is not a MySQL URL: {e}") })?;
        Ok(TestKit::new(admin))
    }

    /// A kit on the server reached with `admin` (a user allowed to create databases).
    pub fn new(admin: MySqlConnectOptions) -> TestKit {
        TestKit { admin, max_connections: 5 }
    }

    /// The size of each test database's pool (default 5).
    pub fn max_connections(mut self, max: u32) -> TestKit {
        self.max_connections = max.max(1);
        self
    }

    async fn admin(&self) -> Result<MySqlConnection, Error> {
        MySqlConnection::connect_with(&self.admin).await.map_err(|e| db_error("connecting to the test server", e))
    }

    /// The template name for a migration set: its fingerprint (versions and checksums).
    pub fn template_name(migrations: &MigrationSet<MySqlConnection>) -> String {
        format!("{TEMPLATE_PREFIX}{}", migrations.fingerprint())
    }

    /// A fresh database with every migration applied, and a pool on it.
    pub async fn fresh(&self, migrations: impl IntoMigrations<MySqlConnection>) -> Result<TestDb, Error> {
        let set = migrations.into_migrations()?;
        let template = Self::template_name(&set);
        let mut admin = self.admin().await?;
        self.sweep(&mut admin).await;
        self.ensure_template(&mut admin, &template, &set).await?;
        let script = script(&mut admin, &template).await?;
        let name = format!(
            "{DATABASE_PREFIX}{}_{}_{}",
            now_secs(),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let created = async {
            exec(&mut admin, format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"), "creating the test database")
                .await?;
            exec(&mut admin, format!("USE `{name}`"), "creating the test database").await?;
            exec(&mut admin, script.main.clone(), "copying the template into the test database").await?;
            for view in &script.views {
                exec(&mut admin, view.clone(), "copying the template's views").await?;
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = created {
            let _ = exec(&mut admin, format!("DROP DATABASE IF EXISTS `{name}`"), "cleaning up").await;
            return Err(e);
        }
        let _ = admin.close().await;
        let pool = MySqlPoolOptions::new()
            .max_connections(self.max_connections)
            .connect_with(self.admin.clone().database(&name))
            .await
            .map_err(|e| db_error(format!("connecting to test database {name}"), e))?;
        debug!(database = %name, template = %template, "test database ready");
        Ok(TestDb { pool, name, admin: self.admin.clone(), dropped: false })
    }

    /// A fresh database with *no* migration applied (for reversibility checks).
    pub async fn empty(&self) -> Result<TestDb, Error> {
        self.fresh(MigrationSet::<MySqlConnection>::new()).await
    }

    async fn ensure_template(
        &self,
        admin: &mut MySqlConnection,
        template: &str,
        set: &MigrationSet<MySqlConnection>,
    ) -> Result<(), Error> {
        if template_ready(admin, template).await? {
            return Ok(());
        }
        let lock = format!("migrator-template:{}", template.trim_start_matches(TEMPLATE_PREFIX));
        let got: Option<i64> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT GET_LOCK('{lock}', {TEMPLATE_BUILD_WAIT_SECS})")))
                .fetch_one(&mut *admin)
                .await
                .map_err(|e| db_error("taking the template build lock", e))?;
        if got != Some(1) {
            return Err(Error::database(
                "waiting for another process to build the test template",
                format!("{template} was not built within {TEMPLATE_BUILD_WAIT_SECS}s"),
            ));
        }
        let built = self.build_template(admin, template, set).await;
        let _ = exec(admin, format!("SELECT RELEASE_LOCK('{lock}')"), "releasing the template build lock").await;
        built
    }

    async fn build_template(
        &self,
        admin: &mut MySqlConnection,
        template: &str,
        set: &MigrationSet<MySqlConnection>,
    ) -> Result<(), Error> {
        if template_ready(admin, template).await? {
            return Ok(());
        }
        let started = Instant::now();
        exec(admin, format!("DROP DATABASE IF EXISTS `{template}`"), "creating the test template").await?;
        exec(admin, format!("CREATE DATABASE `{template}` CHARACTER SET utf8mb4"), "creating the test template")
            .await?;
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .connect_with(self.admin.clone().database(template))
            .await
            .map_err(|e| db_error(format!("connecting to template database {template}"), e))?;
        let applied =
            migrator_core::Migrator::<MySqlDriver>::new(&pool, set.clone())?.run_with(Phases::All, None).await;
        pool.close().await;
        applied?;
        exec(
            admin,
            format!("CREATE TABLE `{template}`.`{READY_TABLE}` (built BIGINT NOT NULL); INSERT INTO `{template}`.`{READY_TABLE}` VALUES ({})", now_secs()),
            "finishing the test template",
        )
        .await?;
        info!(template, migrations = set.len(), took_ms = started.elapsed().as_millis() as u64, "test template built");
        Ok(())
    }

    async fn sweep(&self, admin: &mut MySqlConnection) {
        if SWEPT.swap(true, Ordering::Relaxed) {
            return;
        }
        let now = now_secs();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME LIKE 'mtdb\\_%' OR SCHEMA_NAME LIKE 'mtpl\\_%'",
        )
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
        for name in names {
            let stale = if let Some(rest) = name.strip_prefix(DATABASE_PREFIX) {
                rest.split('_').next().and_then(|t| t.parse::<u64>().ok()).is_some_and(|t| t + TEST_DATABASE_AGE < now)
            } else {
                let built: Option<i64> =
                    sqlx::query_scalar(AssertSqlSafe(format!("SELECT MAX(built) FROM `{name}`.`{READY_TABLE}`")))
                        .fetch_one(&mut *admin)
                        .await
                        .ok()
                        .flatten();
                built.and_then(|t| u64::try_from(t).ok()).is_some_and(|t| t + TEMPLATE_AGE < now)
            };
            if stale && let Err(e) = exec(admin, format!("DROP DATABASE IF EXISTS `{name}`"), "sweeping").await {
                debug!(database = %name, error = %e, "sweeping a leftover test database failed");
            }
        }
    }
}

async fn exec(conn: &mut MySqlConnection, sql: String, context: &str) -> Result<(), Error> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *conn).await.map(|_| ()).map_err(|e| db_error(context, e))
}

async fn template_ready(admin: &mut MySqlConnection, template: &str) -> Result<bool, Error> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")
            .bind(template)
            .bind(READY_TABLE)
            .fetch_one(&mut *admin)
            .await
            .map_err(|e| db_error("looking for the test template", e))?;
    Ok(count == 1)
}

/// A column that information_schema or `SHOW CREATE` may return as binary.
fn text(row: &MySqlRow, index: usize) -> String {
    row.try_get::<String, _>(index)
        .or_else(|_| row.try_get::<Vec<u8>, _>(index).map(|b| String::from_utf8_lossy(&b).into_owned()))
        .unwrap_or_default()
}

/// The template's copy script, captured once per process.
async fn script(admin: &mut MySqlConnection, template: &str) -> Result<Arc<CopyScript>, Error> {
    if let Some(script) =
        SCRIPTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert_default().get(template)
    {
        return Ok(script.clone());
    }
    let context = "reading the test template's definitions";
    let fail = |e| db_error(context, e);
    let objects: Vec<MySqlRow> = sqlx::query(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> ? ORDER BY TABLE_NAME",
    )
    .bind(template)
    .bind(READY_TABLE)
    .fetch_all(&mut *admin)
    .await
    .map_err(fail)?;
    let qualified = format!("`{template}`.");
    let mut main = String::from("SET FOREIGN_KEY_CHECKS = 0;\n");
    let mut tables = Vec::new();
    let mut views = Vec::new();
    for row in &objects {
        let (name, kind) = (text(row, 0), text(row, 1));
        if kind == "VIEW" {
            let create = sqlx::query(AssertSqlSafe(format!("SHOW CREATE VIEW `{template}`.`{name}`")))
                .fetch_one(&mut *admin)
                .await
                .map_err(fail)?;
            views.push(text(&create, 1).replace(&qualified, ""));
        } else {
            let create = sqlx::query(AssertSqlSafe(format!("SHOW CREATE TABLE `{template}`.`{name}`")))
                .fetch_one(&mut *admin)
                .await
                .map_err(fail)?;
            main.push_str(&text(&create, 1));
            main.push_str(";\n");
            tables.push(name);
        }
    }
    // Copy the rows of the tables that have any (seed data, the migration history).
    if !tables.is_empty() {
        let probe = tables
            .iter()
            .map(|t| format!("SELECT '{t}' FROM DUAL WHERE EXISTS (SELECT 1 FROM `{template}`.`{t}`)"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let filled: Vec<MySqlRow> = sqlx::query(AssertSqlSafe(probe)).fetch_all(&mut *admin).await.map_err(fail)?;
        for row in &filled {
            let table = text(row, 0);
            let columns: Option<String> = sqlx::query_scalar(
                "SELECT GROUP_CONCAT(CONCAT('`', COLUMN_NAME, '`') ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND IFNULL(GENERATION_EXPRESSION, '') = '' AND EXTRA NOT LIKE '%GENERATED%'",
            )
            .bind(template)
            .bind(&table)
            .fetch_one(&mut *admin)
            .await
            .map_err(fail)?;
            if let Some(columns) = columns {
                main.push_str(&format!(
                    "INSERT INTO `{table}` ({columns}) SELECT {columns} FROM `{template}`.`{table}`;\n"
                ));
            }
        }
    }
    main.push_str("SET FOREIGN_KEY_CHECKS = 1;\n");
    let routines: Vec<MySqlRow> =
        sqlx::query("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?")
            .bind(template)
            .fetch_all(&mut *admin)
            .await
            .map_err(fail)?;
    for row in &routines {
        let show = format!("SHOW CREATE {} `{template}`.`{}`", text(row, 1), text(row, 0));
        let create = sqlx::query(AssertSqlSafe(show)).fetch_one(&mut *admin).await.map_err(fail)?;
        main.push_str(&text(&create, 2).replace(&qualified, ""));
        main.push_str(";\n");
    }
    let triggers: Vec<MySqlRow> = sqlx::query(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY ACTION_ORDER",
    )
    .bind(template)
    .fetch_all(&mut *admin)
    .await
    .map_err(fail)?;
    for row in &triggers {
        let create = sqlx::query(AssertSqlSafe(format!("SHOW CREATE TRIGGER `{template}`.`{}`", text(row, 0))))
            .fetch_one(&mut *admin)
            .await
            .map_err(fail)?;
        main.push_str(&text(&create, 2).replace(&qualified, ""));
        main.push_str(";\n");
    }
    let script = Arc::new(CopyScript { main, views: order_views(views) });
    SCRIPTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get_or_insert_default()
        .insert(template.to_owned(), script.clone());
    Ok(script)
}

/// Views after the views they select from: a view whose definition names another view's
/// backquoted name goes later.
fn order_views(views: Vec<String>) -> Vec<String> {
    let name = |v: &str| v.split(" VIEW `").nth(1).and_then(|rest| rest.split('`').next()).unwrap_or("").to_owned();
    let mut pending: Vec<(String, String)> = views.into_iter().map(|v| (name(&v), v)).collect();
    let mut ordered = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let names: Vec<String> = pending.iter().map(|(n, _)| n.clone()).collect();
        let (ready, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(n, v)| {
            let body = v.split(" AS ").skip(1).collect::<Vec<_>>().join(" AS ");
            !names.iter().any(|other| other != n && body.contains(&format!("`{other}`")))
        });
        ordered.extend(ready.into_iter().map(|(_, v)| v));
        pending = later;
        if pending.len() == before {
            // A cycle cannot exist between views; give up ordering rather than loop.
            ordered.extend(pending.drain(..).map(|(_, v)| v));
        }
    }
    ordered
}

/// A test's database: a pool on it, dropped when the value is dropped (also on panic).
#[derive(Debug)]
pub struct TestDb {
    pool: MySqlPool,
    name: String,
    admin: MySqlConnectOptions,
    dropped: bool,
}

impl TestDb {
    /// The pool on the test database.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connect options for the test database.
    pub fn options(&self) -> MySqlConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// Drops the database now (instead of on drop), reporting failures.
    pub async fn close(mut self) -> Result<(), Error> {
        self.dropped = true;
        drop_database(&self.pool, &self.admin, &self.name).await
    }
}

async fn drop_database(pool: &MySqlPool, admin: &MySqlConnectOptions, name: &str) -> Result<(), Error> {
    pool.close().await;
    let mut conn =
        MySqlConnection::connect_with(admin).await.map_err(|e| db_error("connecting to the test server", e))?;
    exec(&mut conn, format!("DROP DATABASE IF EXISTS `{name}`"), "dropping the test database").await?;
    let _ = conn.close().await;
    Ok(())
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
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

/// A fresh migrated database on the server named by `MIGRATOR_TEST_MYSQL_URL` or `DATABASE_URL`.
pub async fn fresh(migrations: impl IntoMigrations<MySqlConnection>) -> Result<TestDb, Error> {
    TestKit::from_env()?.fresh(migrations).await
}

/// Compares the live schema behind `live` with the schema the migrations build in a scratch
/// database, listing each difference.
pub async fn drift_with(
    kit: &TestKit,
    live: &MySqlPool,
    migrations: impl IntoMigrations<MySqlConnection>,
) -> Result<migrator_core::Drift, Error> {
    use migrator_core::driver::Inspect;
    let scratch = kit.fresh(migrations).await?;
    let expected = MySqlDriver::from(scratch.pool()).snapshot().await;
    let actual = MySqlDriver::from(live).snapshot().await;
    scratch.close().await?;
    Ok(migrator_core::Drift::between(&expected?, &actual?))
}

/// [`drift_with`] on the server named by `MIGRATOR_TEST_MYSQL_URL` or `DATABASE_URL`.
pub async fn drift(
    live: &MySqlPool,
    migrations: impl IntoMigrations<MySqlConnection>,
) -> Result<migrator_core::Drift, Error> {
    drift_with(&TestKit::from_env()?, live, migrations).await
}

/// The pool type test bodies receive.
pub type Pool = MySqlPool;

pub use migrator_core::driver::TestResult;

/// Runs an async test body against a fresh migrated database (what `#[migrator_mysql::test]`
/// expands to).
#[allow(clippy::panic)] // test harness: setup failures fail the test
pub fn run_test<F, Fut>(migrations: impl IntoMigrations<MySqlConnection>, body: F)
where
    F: FnOnce(MySqlPool) -> Fut,
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
        let started = Instant::now();
        let outcome = AssertUnwindSafe(body(db.pool().clone())).catch_unwind().await;
        debug!(took_ms = started.elapsed().as_millis() as u64, "test body finished");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_follow_the_views_they_use() {
        let views = vec![
            "CREATE ALGORITHM=UNDEFINED VIEW `b` AS select `a`.`x` AS `x` from `a`".to_owned(),
            "CREATE ALGORITHM=UNDEFINED VIEW `a` AS select `t`.`x` AS `x` from `t`".to_owned(),
        ];
        let ordered = order_views(views);
        assert!(ordered[0].contains("VIEW `a`"), "{ordered:?}");
        assert!(ordered[1].contains("VIEW `b`"), "{ordered:?}");
    }
}
