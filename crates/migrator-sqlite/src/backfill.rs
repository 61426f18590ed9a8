//! Batched backfills on SQLite: core's [`BackfillConn`] on one connection.
//!
//! The lock: SQLite's own locks end with their transaction, so a backfill holds an
//! exclusive `flock` on `<database file>-backfill-<name>-lock` (as the migration lock does)
//! from the start of a run to its end; the operating system releases it when the process
//! exits however it exits, so a killed run leaves no lock behind. A second run finds it
//! taken and is refused, naming the holder written in the lock file. An in-memory database
//! is seen by one process only and needs no lock. Each batch is one `BEGIN IMMEDIATE`
//! transaction: the statement, then the progress row's update conditional on its last key,
//! then `COMMIT`.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use migrator_core::backfill::{
    BackfillBatch, BackfillConn, BackfillSql, BackfillTarget, PROGRESS_TABLE, backfill_owner, progress_from_columns,
};
use migrator_core::plan::{self, BackfillProgress};
use migrator_core::{Dialect, Error};
use sqlx::{AssertSqlSafe, Connection, Row, SqliteConnection};

use crate::conn::{db, described};
use crate::lock::FileLock;

/// A connection running a backfill ([`migrator_core::Backfill::run`]); see [`backfill_conn`].
#[derive(Debug)]
pub struct SqliteBackfill<'c> {
    conn: &'c mut SqliteConnection,
    /// The progress table, qualified and quoted.
    progress: String,
    /// The backfill's lock, while a run holds it.
    lock: Option<FileLock>,
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `conn` running backfills, their progress in `_migrator_backfills` of its main database:
/// give it to [`migrator_core::Backfill::run`], from a Rust-code migration or from
/// application code.
pub fn backfill_conn(conn: &mut SqliteConnection) -> SqliteBackfill<'_> {
    SqliteBackfill { conn, progress: ident(PROGRESS_TABLE), lock: None }
}

/// `conn` running backfills with their progress in `schema` (the history table's).
pub(crate) fn backfill_conn_in<'c>(conn: &'c mut SqliteConnection, schema: Option<&str>) -> SqliteBackfill<'c> {
    let progress = match schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(PROGRESS_TABLE)),
        None => ident(PROGRESS_TABLE),
    };
    SqliteBackfill { conn, progress, lock: None }
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

impl SqliteBackfill<'_> {
    fn sql(&self) -> BackfillSql<'_> {
        BackfillSql::new(Dialect::Sqlite, &self.progress)
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

    async fn database_file(&mut self) -> Result<Option<PathBuf>, Error> {
        let file: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(|e| db("reading the database file name", e))?;
        Ok(file.filter(|f| !f.is_empty()).map(PathBuf::from))
    }
}

#[async_trait]
impl BackfillConn for SqliteBackfill<'_> {
    async fn begin(&mut self, target: &BackfillTarget<'_>) -> Result<Option<BackfillProgress>, Error> {
        if let Some(file) = self.database_file().await? {
            let mut path = file.into_os_string();
            path.push(format!("-backfill-{}-lock", target.name));
            match FileLock::try_take(&PathBuf::from(path), "the backfill lock file", &backfill_owner())? {
                Ok(lock) => self.lock = Some(lock),
                Err(holder) => return Err(plan::backfill_busy(target.name, Some(holder)).into()),
            }
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
        let mut tx = self.conn.begin_with("BEGIN IMMEDIATE").await.map_err(|e| failed("to start", e))?;
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

    async fn end(&mut self, _target: &BackfillTarget<'_>) -> Result<(), Error> {
        self.lock = None;
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
        let schema = match self.progress.split_once('.') {
            Some((schema, _)) => schema.to_owned(),
            None => "main".to_owned(),
        };
        let exists: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"
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
