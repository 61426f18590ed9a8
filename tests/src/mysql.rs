//! The MySQL/MariaDB test backend: a fresh database per test.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use migrator_core::Dialect;
use migrator_mysql::MySqlDriver;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

use crate::backend::Backend;

/// The server the tests use: `MIGRATOR_TEST_MYSQL_URL`, default the local MariaDB.
pub fn server_url() -> String {
    std::env::var("MIGRATOR_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

/// Connect options for the test server (no database).
pub fn server_options() -> MySqlConnectOptions {
    server_url().parse::<MySqlConnectOptions>().unwrap()
}

async fn admin() -> MySqlConnection {
    match MySqlConnection::connect_with(&server_options()).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "MySQL/MariaDB is not reachable at {} ({e}). Start it with ./scripts/services (or set MIGRATOR_TEST_MYSQL_URL); \
             these tests never skip",
            server_url()
        ),
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);
const PREFIX: &str = "mt_";
const LEFTOVER_AGE: u64 = 3600;

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn unique(test: &str) -> String {
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("{PREFIX}{}_{}_{n}_{test}", now_secs(), std::process::id());
    name.truncate(64);
    name
}

/// Drops databases left by killed test runs (older than an hour), once per process.
async fn sweep(admin: &mut MySqlConnection) {
    if SWEPT.swap(true, Ordering::Relaxed) {
        return;
    }
    let cutoff = now_secs().saturating_sub(LEFTOVER_AGE);
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'mt\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let created =
            name.strip_prefix(PREFIX).and_then(|rest| rest.split('_').next()).and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ =
                sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`"))).execute(&mut *admin).await;
        }
    }
}

/// One test's database on the MySQL/MariaDB test server.
#[derive(Debug)]
pub struct My {
    /// A pool whose connections use the database.
    pub pool: MySqlPool,
    /// The database.
    pub database: String,
    options: MySqlConnectOptions,
}

impl My {
    async fn pool_for(options: MySqlConnectOptions) -> MySqlPool {
        MySqlPoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await
            .unwrap()
    }

    /// Connect options into the database.
    pub fn options(&self) -> MySqlConnectOptions {
        self.options.clone()
    }

    /// A new pool into the database, built from adjusted options.
    pub async fn pool_with(&self, adjust: impl FnOnce(MySqlConnectOptions) -> MySqlConnectOptions) -> MySqlPool {
        Self::pool_for(adjust(self.options())).await
    }

    /// The connection id running a statement that starts with `prefix` in this test's
    /// database, if any (other tests run in parallel, in other databases).
    pub async fn connection_running(&self, prefix: &str) -> Option<i64> {
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT(?, '%') \
             AND ID <> CONNECTION_ID() AND DB = DATABASE()",
        )
        .bind(prefix)
        .fetch_optional(&self.pool)
        .await
        .unwrap()
    }
}

#[async_trait]
impl Backend for My {
    type Driver = MySqlDriver;

    const DIALECT: Dialect = Dialect::MySql;

    async fn fresh(test: &str) -> Self {
        let mut admin = admin().await;
        sweep(&mut admin).await;
        let database = unique(test);
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE `{database}` CHARACTER SET utf8mb4")))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        let options = server_options().database(&database);
        let pool = Self::pool_for(options.clone()).await;
        My { pool, database, options }
    }

    fn driver(&self) -> MySqlDriver {
        MySqlDriver::from(&self.pool)
    }

    /// MySQL has no application name: the driver connects as a user of that name, which the
    /// process list shows.
    async fn driver_named(&self, name: &str) -> MySqlDriver {
        let mut admin = admin().await;
        for host in ["localhost", "127.0.0.1", "%"] {
            sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE USER IF NOT EXISTS '{name}'@'{host}'; GRANT ALL ON *.* TO '{name}'@'{host}'"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
        }
        let _ = admin.close().await;
        MySqlDriver::from(self.pool_with(|o| o.username(name)).await)
    }

    async fn exec(&self, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&self.pool).await.unwrap();
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned())).fetch_one(&self.pool).await.unwrap()
    }

    async fn table_exists(&self, table: &str) -> bool {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        )
        .bind(table)
        .fetch_one(&self.pool)
        .await
        .unwrap()
            == 1
    }

    fn sleep_sql(duration: Duration) -> String {
        format!("SELECT SLEEP({})", duration.as_secs_f64())
    }

    async fn exec_on(conn: &mut MySqlConnection, sql: &str) -> Result<(), migrator_core::BoxError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(conn).await?;
        Ok(())
    }

    async fn exec_nested(conn: &mut MySqlConnection, sql: &str) -> Result<(), migrator_core::BoxError> {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cleanup(self) {
        self.pool.close().await;
        let mut admin = admin().await;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{}`", self.database)))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
    }
}
