//! Batched backfills on MySQL and MariaDB: core's [`BackfillConn`] on one connection.
//!
//! The lock: `GET_LOCK` with a zero wait, named after the progress table's database and the
//! backfill's name (hashed, as lock names are limited to 64 characters), held until the run
//! ends or the connection closes (a killed process leaves no lock behind). A second run
//! finds it taken and is refused, naming the holder recorded in the progress row. A Galera
//! node does not replicate `GET_LOCK` (see `plan::lock`): a session under the lease lock
//! refuses to run a backfill. Each batch is one transaction: the statement, then the
//! progress row's update conditional on its last key, then `COMMIT`.

use std::time::Duration;

use async_trait::async_trait;
use migrator_core::backfill::{
    BackfillBatch, BackfillConn, BackfillSql, BackfillTarget, PROGRESS_TABLE, backfill_owner, progress_from_columns,
};
use migrator_core::plan::{self, BackfillProgress};
use migrator_core::{Dialect, Error};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, Row};

use crate::conn::{db, described};

/// A connection running a backfill ([`migrator_core::Backfill::run`]); see [`backfill_conn`].
#[derive(Debug)]
pub struct MySqlBackfill<'c> {
    conn: &'c mut MySqlConnection,
    /// The progress table, qualified and quoted.
    progress: String,
    /// The database whose name keys the lock (`None`: the current one).
    schema: Option<String>,
}

/// An identifier in backquotes, inner backquotes doubled.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `conn` running backfills, their progress in `_migrator_backfills` in the connection's
/// current database: give it to [`migrator_core::Backfill::run`], from a Rust-code migration
/// or from application code (a connection of its own, so that the lock goes with it).
pub fn backfill_conn(conn: &mut MySqlConnection) -> MySqlBackfill<'_> {
    MySqlBackfill { conn, progress: ident(PROGRESS_TABLE), schema: None }
}

/// `conn` running backfills with their progress in `schema` (the history table's database).
pub(crate) fn backfill_conn_in<'c>(conn: &'c mut MySqlConnection, schema: Option<&str>) -> MySqlBackfill<'c> {
    let progress = match schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(PROGRESS_TABLE)),
        None => ident(PROGRESS_TABLE),
    };
    MySqlBackfill { conn, progress, schema: schema.map(str::to_owned) }
}

/// The progress row read as `last_key, rows_done, state, table_name, key_column`.
fn decode<R: Row>(row: &R) -> Result<BackfillProgress, Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let column = |e: sqlx::Error| db("reading the backfill progress row", e);
    let last_key: Option<i64> = row.try_get(0).map_err(column)?;
    let rows_done: i64 = row.try_get(1).map_err(column)?;
    let state: String = row.try_get(2).map_err(column)?;
    let table: String = row.try_get(3).map_err(column)?;
    let key: String = row.try_get(4).map_err(column)?;
    progress_from_columns(last_key, rows_done, &state, table, key)
}

impl MySqlBackfill<'_> {
    fn sql(&self) -> BackfillSql<'_> {
        BackfillSql::new(Dialect::MySql, &self.progress)
    }

    /// The stored progress of the backfill `name`, the progress table being there.
    async fn read(&mut self, name: &str) -> Result<Option<BackfillProgress>, Error> {
        let row = sqlx::query(AssertSqlSafe(self.sql().progress()))
            .bind(name)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(|e| db(format!("reading the progress of backfill `{name}`"), e))?;
        row.map(|row| decode(&row)).transpose()
    }

    /// The lock name's SQL, from the database and the name (`?`).
    fn lock_sql(&self) -> String {
        let database = match &self.schema {
            Some(schema) => crate::sql::literal(schema),
            None => "DATABASE()".to_owned(),
        };
        format!("CONCAT('migrator-backfill-', LEFT(SHA2(CONCAT({database}, '/', ?), 256), 40))")
    }
}

#[async_trait]
impl BackfillConn for MySqlBackfill<'_> {
    async fn begin(&mut self, target: &BackfillTarget<'_>) -> Result<Option<BackfillProgress>, Error> {
        let taken: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!("SELECT GET_LOCK({}, 0)", self.lock_sql())))
            .bind(target.name)
            .fetch_one(&mut *self.conn)
            .await
            .map_err(|e| db(format!("taking the lock of backfill `{}`", target.name), e))?;
        if taken != Some(1) {
            let holder = sqlx::query_scalar::<_, String>(AssertSqlSafe(self.sql().holder()))
                .bind(target.name)
                .fetch_optional(&mut *self.conn)
                .await
                .ok()
                .flatten();
            return Err(plan::backfill_busy(target.name, holder).into());
        }
        sqlx::raw_sql(AssertSqlSafe(self.sql().create_table()))
            .execute(&mut *self.conn)
            .await
            .map_err(|e| db(format!("creating the backfill progress table {PROGRESS_TABLE}"), e))?;
        let stored = self.read(target.name).await?;
        sqlx::query(AssertSqlSafe(self.sql().start()))
            .bind(target.name)
            .bind(target.table)
            .bind(target.key)
            .bind(backfill_owner())
            .execute(&mut *self.conn)
            .await
            .map_err(|e| db(format!("recording the start of backfill `{}`", target.name), e))?;
        Ok(stored)
    }

    async fn count_after(&mut self, target: &BackfillTarget<'_>, start: i64) -> Result<u64, Error> {
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(self.sql().count_after(target)))
            .bind(start)
            .fetch_one(&mut *self.conn)
            .await
            .map_err(|e| db(format!("counting the rows of backfill `{}`", target.name), e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn next_end(&mut self, target: &BackfillTarget<'_>, start: i64, size: u64) -> Result<Option<i64>, Error> {
        sqlx::query_scalar(AssertSqlSafe(self.sql().next_end(target)))
            .bind(start)
            .bind(i64::try_from(size).unwrap_or(i64::MAX))
            .fetch_one(&mut *self.conn)
            .await
            .map_err(|e| db(format!("finding the next batch of backfill `{}` after key {start}", target.name), e))
    }

    async fn run_batch(&mut self, target: &BackfillTarget<'_>, batch: &BackfillBatch<'_>) -> Result<u64, Error> {
        let failed = |what: &str, e: sqlx::Error| batch.failed(target, what, described(e));
        let advance = self.sql().advance();
        let mut tx = self.conn.begin().await.map_err(|e| failed("to start", e))?;
        let rows = sqlx::raw_sql(AssertSqlSafe(batch.statement.to_owned()))
            .execute(&mut *tx)
            .await
            .map_err(|e| failed("in its statement", e))?
            .rows_affected();
        let advanced = sqlx::query(AssertSqlSafe(advance))
            .bind(batch.end)
            .bind(i64::try_from(rows).unwrap_or(i64::MAX))
            .bind(target.name)
            .bind(batch.start)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed("recording its progress", e))?
            .rows_affected();
        if advanced != 1 {
            tx.rollback().await.map_err(|e| failed("rolling back", e))?;
            return Err(plan::backfill_moved(target.name, batch.start).into());
        }
        tx.commit().await.map_err(|e| failed("at commit", e))?;
        Ok(rows)
    }

    async fn finish(&mut self, target: &BackfillTarget<'_>) -> Result<(), Error> {
        sqlx::query(AssertSqlSafe(self.sql().finish()))
            .bind(target.name)
            .execute(&mut *self.conn)
            .await
            .map_err(|e| db(format!("recording that backfill `{}` finished", target.name), e))?;
        Ok(())
    }

    async fn pause(&mut self, pause: Duration) -> Result<(), Error> {
        tokio::time::sleep(pause).await;
        Ok(())
    }

    async fn end(&mut self, target: &BackfillTarget<'_>) -> Result<(), Error> {
        sqlx::query(AssertSqlSafe(format!("DO RELEASE_LOCK({})", self.lock_sql())))
            .bind(target.name)
            .execute(&mut *self.conn)
            .await
            .map_err(|e| db(format!("releasing the lock of backfill `{}`", target.name), e))?;
        Ok(())
    }

    async fn forget(&mut self, name: &str) -> Result<(), Error> {
        if self.progress(name).await?.is_none() {
            return Ok(());
        }
        sqlx::query(AssertSqlSafe(self.sql().forget()))
            .bind(name)
            .execute(&mut *self.conn)
            .await
            .map_err(|e| db(format!("forgetting the progress of backfill `{name}`"), e))?;
        Ok(())
    }

    async fn progress(&mut self, name: &str) -> Result<Option<BackfillProgress>, Error> {
        let schema = match &self.schema {
            Some(schema) => crate::sql::literal(schema),
            None => "DATABASE()".to_owned(),
        };
        let exists: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME = ?"
        )))
        .bind(PROGRESS_TABLE)
        .fetch_one(&mut *self.conn)
        .await
        .map_err(|e| db("looking for the backfill progress table", e))?;
        if exists == 0 {
            return Ok(None);
        }
        self.read(name).await
    }
}
