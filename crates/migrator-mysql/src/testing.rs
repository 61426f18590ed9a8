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
//! runs are swept by name and age (an hour for test databases, a week after a template was
//! built).
//!
//! Every name starts with `MIGRATOR_TEST_PREFIX` when it is set; [`TestKit::templates`]
//! lists the templates (age since built, size of data and indexes) and
//! [`TestKit::drop_templates`] drops them, never touching a name without the kit's prefix.
//! The kit is the generic [`migrator_core::testing::TestKit`] on [`MySql`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use migrator_core::Error;
use migrator_core::testing::{KitBackend, Listed};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, Row};
use tracing::debug;

use crate::MySqlDriver;

pub use migrator_core::testing::{Drift, TestResult};

/// The table that marks a template complete, holding when it was built.
const READY_TABLE: &str = "_migrator_template_ready";

/// The copy scripts captured by this process, per template.
static SCRIPTS: Mutex<Option<HashMap<String, Arc<CopyScript>>>> = Mutex::new(None);

/// Where test databases are made: a server, the name prefix, the pool size.
pub type TestKit = migrator_core::testing::TestKit<MySql>;

/// A test's database: a pool on it, dropped when the value is dropped (also on panic).
pub type TestDb = migrator_core::testing::TestDb<MySql>;

/// The pool type test bodies receive.
pub type Pool = MySqlPool;

/// The test kit's MySQL/MariaDB operations: a server, reached with options allowed to
/// create databases. `TestKit::new(options)` takes the options.
#[derive(Debug, Clone)]
pub struct MySql {
    admin: MySqlConnectOptions,
}

impl From<MySqlConnectOptions> for MySql {
    fn from(admin: MySqlConnectOptions) -> MySql {
        MySql { admin }
    }
}

fn db_error(context: impl Into<String>, error: sqlx::Error) -> Error {
    Error::database(context, error)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The SQL that recreates the template in an empty database.
#[derive(Debug)]
struct CopyScript {
    /// Tables and their data, routines and triggers: one message.
    main: String,
    /// Views, in an order that works (views may use views).
    views: Vec<String>,
}

async fn exec(conn: &mut MySqlConnection, sql: String, context: &str) -> Result<(), Error> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *conn).await.map(|_| ()).map_err(|e| db_error(context, e))
}

/// The `GET_LOCK` name of a template's build (at most 63 characters: the prefix has at
/// most 24).
fn lock_name(template: &str) -> String {
    format!("mtpl-lock:{template}")
}

impl MySql {
    async fn pool(&self, name: &str, max_connections: u32) -> Result<MySqlPool, Error> {
        MySqlPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.admin.clone().database(name))
            .await
            .map_err(|e| db_error(format!("connecting to test database {name}"), e))
    }
}

#[async_trait]
impl KitBackend for MySql {
    type Driver = MySqlDriver;
    type Pool = MySqlPool;
    type Options = MySqlConnectOptions;
    type Place = ();
    type Admin = MySqlConnection;
    type BuildLock = String;

    /// The server named by `MIGRATOR_TEST_MYSQL_URL`, else `DATABASE_URL`.
    fn from_env() -> Result<MySql, Error> {
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
        Ok(MySql { admin })
    }

    fn driver(pool: &MySqlPool) -> MySqlDriver {
        MySqlDriver::from(pool)
    }

    async fn close_pool(pool: &MySqlPool) {
        pool.close().await;
    }

    fn options(&self, name: &str) -> MySqlConnectOptions {
        self.admin.clone().database(name)
    }

    fn place(&self, _name: &str) {}

    async fn admin(&self) -> Result<MySqlConnection, Error> {
        MySqlConnection::connect_with(&self.admin).await.map_err(|e| db_error("connecting to the test server", e))
    }

    async fn close_admin(&self, admin: MySqlConnection) {
        let _ = admin.close().await;
    }

    /// A template is ready once its ready table exists (made last).
    async fn template_ready(&self, admin: &mut MySqlConnection, template: &str) -> Result<bool, Error> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        )
        .bind(template)
        .bind(READY_TABLE)
        .fetch_one(&mut *admin)
        .await
        .map_err(|e| db_error("looking for the test template", e))?;
        Ok(count == 1)
    }

    /// `GET_LOCK(name, 0)`: taken (1) or held by another session (0).
    async fn try_lock_template(&self, admin: &mut MySqlConnection, template: &str) -> Result<Option<String>, Error> {
        let lock = lock_name(template);
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(&lock)
            .fetch_one(&mut *admin)
            .await
            .map_err(|e| db_error("taking the template build lock", e))?;
        Ok((got == Some(1)).then_some(lock))
    }

    async fn unlock_template(&self, admin: &mut MySqlConnection, lock: String) {
        if let Err(e) = sqlx::query("SELECT RELEASE_LOCK(?)").bind(&lock).execute(&mut *admin).await {
            debug!(error = %e, "releasing the template build lock failed; closing the connection releases it");
        }
    }

    /// The template is built in place, and only marked ready when complete.
    async fn create_build(&self, admin: &mut MySqlConnection, template: &str) -> Result<(String, MySqlPool), Error> {
        exec(admin, format!("DROP DATABASE IF EXISTS `{template}`"), "creating the test template").await?;
        exec(admin, format!("CREATE DATABASE `{template}` CHARACTER SET utf8mb4"), "creating the test template")
            .await?;
        let pool = self.pool(template, 2).await?;
        Ok((template.to_owned(), pool))
    }

    async fn finish_template(&self, admin: &mut MySqlConnection, _build: &str, template: &str) -> Result<(), Error> {
        exec(
            admin,
            format!(
                "CREATE TABLE `{template}`.`{READY_TABLE}` (built BIGINT NOT NULL); \
                 INSERT INTO `{template}`.`{READY_TABLE}` VALUES ({})",
                now_secs()
            ),
            "finishing the test template",
        )
        .await
    }

    /// Replays the template's definitions and rows (captured once per process) in one
    /// message, then the views.
    async fn copy_template(
        &self,
        admin: &mut MySqlConnection,
        template: &str,
        name: &str,
        max_connections: u32,
    ) -> Result<MySqlPool, Error> {
        let script = script(admin, template).await?;
        let created = async {
            exec(admin, format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"), "creating the test database")
                .await?;
            exec(admin, format!("USE `{name}`"), "creating the test database").await?;
            exec(admin, script.main.clone(), "copying the template into the test database").await?;
            for view in &script.views {
                exec(admin, view.clone(), "copying the template's views").await?;
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = created {
            let _ = exec(admin, format!("DROP DATABASE IF EXISTS `{name}`"), "cleaning up").await;
            return Err(e);
        }
        self.pool(name, max_connections).await
    }

    async fn drop_database(&self, admin: &mut MySqlConnection, name: &str, _template: bool) -> Result<(), Error> {
        exec(admin, format!("DROP DATABASE IF EXISTS `{name}`"), "dropping the test database").await
    }

    /// The databases from `information_schema.SCHEMATA`, a template's age from its ready
    /// table, its size as the sum of its tables' data and index lengths.
    async fn list(&self, admin: &mut MySqlConnection, prefix: &str, sizes: bool) -> Result<Vec<Listed>, Error> {
        let context = "listing the test databases";
        // The prefix holds letters, digits and underscores: only `_` needs escaping.
        let pattern = format!("{}%", prefix.replace('_', "\\_"));
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
        )
        .bind(&pattern)
        .fetch_all(&mut *admin)
        .await
        .map_err(|e| db_error(context, e))?;
        let mut sized: HashMap<String, u64> = HashMap::new();
        if sizes {
            let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
                "SELECT CAST(TABLE_SCHEMA AS CHAR), CAST(SUM(DATA_LENGTH + INDEX_LENGTH) AS SIGNED) \
                 FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE ? GROUP BY TABLE_SCHEMA",
            )
            .bind(&pattern)
            .fetch_all(&mut *admin)
            .await
            .map_err(|e| db_error(context, e))?;
            sized.extend(rows.into_iter().filter_map(|(name, size)| Some((name, u64::try_from(size?).ok()?))));
        }
        let now = now_secs();
        let mut listed = Vec::new();
        for name in names {
            let built: Option<i64> = if name.contains("mtpl_") {
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT MAX(built) FROM `{name}`.`{READY_TABLE}`")))
                    .fetch_one(&mut *admin)
                    .await
                    .ok()
                    .flatten()
            } else {
                None
            };
            let age = built.and_then(|t| u64::try_from(t).ok()).map(|t| Duration::from_secs(now.saturating_sub(t)));
            let size = sized.get(&name).copied();
            listed.push(Listed::new(name, age, size));
        }
        Ok(listed)
    }
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

/// A fresh migrated database on the server named by `MIGRATOR_TEST_MYSQL_URL` or `DATABASE_URL`.
pub async fn fresh(migrations: impl migrator_core::IntoMigrations<MySqlConnection>) -> Result<TestDb, Error> {
    TestKit::from_env()?.fresh(migrations).await
}

/// Runs an async test body against a fresh migrated database (what `#[migrator_mysql::test]`
/// expands to): builds a runtime, makes the database, runs the body, drops the database, and
/// re-raises the body's panic.
pub fn run_test<F, Fut>(migrations: impl migrator_core::IntoMigrations<MySqlConnection>, body: F)
where
    F: FnOnce(MySqlPool) -> Fut,
    Fut: std::future::Future,
    Fut::Output: TestResult,
{
    migrator_core::testing::run_test::<MySql, _, _>(migrations, body);
}

/// Compares the live schema behind `live` with the schema the migrations build in a scratch
/// database, listing each difference.
pub async fn drift_with(
    kit: &TestKit,
    live: &MySqlPool,
    migrations: impl migrator_core::IntoMigrations<MySqlConnection>,
) -> Result<Drift, Error> {
    kit.drift(live, migrations).await
}

/// [`drift_with`] on the server named by `MIGRATOR_TEST_MYSQL_URL` or `DATABASE_URL`.
pub async fn drift(
    live: &MySqlPool,
    migrations: impl migrator_core::IntoMigrations<MySqlConnection>,
) -> Result<Drift, Error> {
    migrator_core::testing::drift::<MySql>(live, migrations).await
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
