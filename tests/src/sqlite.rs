//! The SQLite test backend: a fresh database file per test, in a temporary directory.
//!
//! SQLite has no `sleep()`, so the backend's connections have a collation, `migrator_sleep`,
//! whose comparison sleeps for the milliseconds written on its left: `SELECT '800' = '0'
//! COLLATE migrator_sleep` takes 800 ms inside SQLite, like `pg_sleep` on PostgreSQL.

use std::any::Any;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use migrator_core::Dialect;
use migrator_sqlite::SqliteDriver;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Connection, SqliteConnection};

use crate::backend::Backend;

/// The collation that sleeps; see the module documentation.
pub const SLEEP_COLLATION: &str = "migrator_sleep";

/// Sleeps for the milliseconds in `left` (a comparison of the `migrator_sleep` collation).
pub fn sleep_collation(left: &str, _right: &str) -> Ordering {
    if let Ok(ms) = left.trim().parse::<u64>() {
        std::thread::sleep(Duration::from_millis(ms));
    }
    Ordering::Equal
}

/// Connect options for a database file, with the sleeping collation.
pub fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new().filename(path).create_if_missing(true).collation(SLEEP_COLLATION, sleep_collation)
}

/// A pool on a database file, large enough for eight concurrent runners.
pub async fn pool(path: &Path) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(60))
        .connect_with(options(path))
        .await
        .unwrap()
}

/// One test's database file, with a pool on it.
#[derive(Debug)]
pub struct Lite {
    /// The pool.
    pub pool: SqlitePool,
    /// The database file.
    pub path: PathBuf,
    dir: tempfile::TempDir,
}

impl Lite {
    /// A pool of its own on the test's file.
    pub async fn new_pool(&self) -> SqlitePool {
        pool(&self.path).await
    }

    /// The directory holding the database file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

#[async_trait]
impl Backend for Lite {
    type Driver = SqliteDriver;

    const DIALECT: Dialect = Dialect::Sqlite;

    async fn fresh(test: &str) -> Self {
        let dir = tempfile::Builder::new().prefix(&format!("migrator-{test}-")).tempdir().unwrap();
        let path = dir.path().join("test.db");
        let pool = pool(&path).await;
        Lite { pool, path, dir }
    }

    fn driver(&self) -> SqliteDriver {
        SqliteDriver::from(&self.pool)
    }

    /// SQLite has no process list: a driver on a pool of its own.
    async fn driver_named(&self, _name: &str) -> SqliteDriver {
        SqliteDriver::from(self.new_pool().await)
    }

    async fn exec(&self, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&self.pool).await.unwrap();
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned())).fetch_one(&self.pool).await.unwrap()
    }

    async fn table_exists(&self, table: &str) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(table)
            .fetch_one(&self.pool)
            .await
            .unwrap()
            == 1
    }

    fn sleep_sql(duration: Duration) -> String {
        format!("SELECT '{}' = '0' COLLATE {SLEEP_COLLATION}", duration.as_millis())
    }

    /// `BEGIN IMMEDIATE` on a connection of its own: SQLite's write lock, what a migrating
    /// process holds while a migration runs.
    async fn hold_write_lock(&self) -> Option<Box<dyn Any + Send>> {
        let mut conn = SqliteConnection::connect_with(&options(&self.path)).await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
        Some(Box::new(conn))
    }

    async fn exec_on(conn: &mut SqliteConnection, sql: &str) -> Result<(), migrator_core::BoxError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(conn).await?;
        Ok(())
    }

    async fn exec_nested(conn: &mut SqliteConnection, sql: &str) -> Result<(), migrator_core::BoxError> {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cleanup(self) {
        self.pool.close().await;
        drop(self.dir);
    }
}
