//! The PostgreSQL test backend: a fresh schema per test (or a fresh database for tests that
//! need one, such as `CREATE INDEX CONCURRENTLY`, which waits for every transaction of its
//! database).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use migrator_core::Dialect;
use migrator_postgres::PgDriver;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::backend::Backend;

/// The server the tests use: `MIGRATOR_TEST_POSTGRES_URL`, default the local server.
pub fn server_url() -> String {
    std::env::var("MIGRATOR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Connect options for the test server.
pub fn server_options() -> PgConnectOptions {
    server_url().parse::<PgConnectOptions>().unwrap()
}

async fn admin() -> PgConnection {
    match PgConnection::connect_with(&server_options()).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "PostgreSQL is not reachable at {} ({e}). Start it with ./scripts/services (or set MIGRATOR_TEST_POSTGRES_URL); \
             these tests never skip",
            server_url()
        ),
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);
const PREFIX: &str = "mt_";
const DB_PREFIX: &str = "mtdb_";
const LEFTOVER_AGE: u64 = 3600;

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A unique name: prefix, creation time (for sweeping leftovers), process, sequence, test.
fn unique(prefix: &str, test: &str) -> String {
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("{prefix}{}_{}_{n}_{test}", now_secs(), std::process::id());
    name.truncate(63);
    name
}

fn created_at(name: &str, prefix: &str) -> Option<u64> {
    name.strip_prefix(prefix)?.split('_').next()?.parse().ok()
}

/// Drops schemas and databases left by killed test runs (older than an hour), once per process.
async fn sweep(admin: &mut PgConnection) {
    if SWEPT.swap(true, Ordering::Relaxed) {
        return;
    }
    let cutoff = now_secs().saturating_sub(LEFTOVER_AGE);
    let schemas: Vec<String> = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'mt\\_%'")
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
    for schema in schemas.iter().filter(|s| created_at(s, PREFIX).is_some_and(|t| t < cutoff)) {
        let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")))
            .execute(&mut *admin)
            .await;
    }
    let databases: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE 'mtdb\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for database in databases.iter().filter(|d| created_at(d, DB_PREFIX).is_some_and(|t| t < cutoff)) {
        let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)")))
            .execute(&mut *admin)
            .await;
    }
}

/// One test's schema (or database) on the PostgreSQL test server.
#[derive(Debug)]
pub struct Pg {
    /// A pool whose connections use the area (`search_path` set at connect time).
    pub pool: PgPool,
    /// The schema the area's connections use.
    pub schema: String,
    /// The database, when the area is a database of its own.
    pub database: Option<String>,
    options: PgConnectOptions,
}

impl Pg {
    /// A fresh database of its own (schema `public`), for tests that must not share a
    /// database with other tests.
    pub async fn fresh_database(test: &str) -> Pg {
        let mut admin = admin().await;
        sweep(&mut admin).await;
        let database = unique(DB_PREFIX, test);
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{database}\""))).execute(&mut admin).await.unwrap();
        let _ = admin.close().await;
        let options = server_options().database(&database);
        let pool = Self::pool_for(options.clone()).await;
        Pg { pool, schema: "public".to_owned(), database: Some(database), options }
    }

    async fn pool_for(options: PgConnectOptions) -> PgPool {
        PgPoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await
            .unwrap()
    }

    /// Connect options into the area.
    pub fn options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// A new pool into the area, built from adjusted options.
    pub async fn pool_with(&self, adjust: impl FnOnce(PgConnectOptions) -> PgConnectOptions) -> PgPool {
        Self::pool_for(adjust(self.options())).await
    }
}

#[async_trait]
impl Backend for Pg {
    type Driver = PgDriver;

    const DIALECT: Dialect = Dialect::Postgres;

    async fn fresh(test: &str) -> Self {
        let mut admin = admin().await;
        sweep(&mut admin).await;
        let schema = unique(PREFIX, test);
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\""))).execute(&mut admin).await.unwrap();
        let _ = admin.close().await;
        let options = server_options().options([("search_path", schema.as_str())]);
        let pool = Self::pool_for(options.clone()).await;
        Pg { pool, schema, database: None, options }
    }

    fn driver(&self) -> PgDriver {
        PgDriver::from(&self.pool)
    }

    async fn driver_named(&self, name: &str) -> PgDriver {
        PgDriver::from(self.pool_with(|o| o.application_name(name)).await)
    }

    async fn exec(&self, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&self.pool).await.unwrap();
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned())).fetch_one(&self.pool).await.unwrap()
    }

    async fn table_exists(&self, table: &str) -> bool {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1)",
        )
        .bind(table)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    fn sleep_sql(duration: Duration) -> String {
        format!("SELECT pg_sleep({})", duration.as_secs_f64())
    }

    async fn exec_on(conn: &mut PgConnection, sql: &str) -> Result<(), migrator_core::BoxError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(conn).await?;
        Ok(())
    }

    async fn exec_nested(conn: &mut PgConnection, sql: &str) -> Result<(), migrator_core::BoxError> {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cleanup(self) {
        self.pool.close().await;
        let mut admin = admin().await;
        let sql = match &self.database {
            Some(database) => format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"),
            None => format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema),
        };
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
        let _ = admin.close().await;
    }
}
