//! One connection's messages: the simple-query helper that sends a whole script in one
//! round trip, SQLSTATEs, how a PostgreSQL error is described for people, and rows read by
//! column name.

use futures_util::TryStreamExt;
use migrator_core::Error;
use migrator_core::error::{BoxError, DatabaseError};
use migrator_core::history::columns::ReadRow;
use sqlx::postgres::{PgDatabaseError, PgRow};
use sqlx::{AssertSqlSafe, Either, PgConnection, Row};

/// A failed multi-statement query: the rows of the statements that completed before the
/// error (so their count says which statement failed), and the error.
pub(crate) struct Failed {
    pub(crate) completed: usize,
    pub(crate) partial: Vec<Vec<PgRow>>,
    pub(crate) error: sqlx::Error,
}

/// Runs `sql` (one or more statements) as one simple-protocol query: one round trip. Returns
/// the rows of each statement, or the error with the number of statements that completed.
pub(crate) async fn simple(conn: &mut PgConnection, sql: String) -> Result<Vec<Vec<PgRow>>, Failed> {
    let mut results: Vec<Vec<PgRow>> = vec![Vec::new()];
    let mut stream = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_many(&mut *conn);
    loop {
        match stream.try_next().await {
            Ok(Some(Either::Left(_))) => results.push(Vec::new()),
            Ok(Some(Either::Right(row))) => {
                if let Some(rows) = results.last_mut() {
                    rows.push(row);
                }
            }
            Ok(None) => break,
            Err(error) => {
                results.pop();
                return Err(Failed { completed: results.len(), partial: results, error });
            }
        }
    }
    results.pop();
    Ok(results)
}

pub(crate) fn code(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db.try_downcast_ref::<PgDatabaseError>().map(PgDatabaseError::code),
        _ => None,
    }
}

/// A database error described for people: message, detail, hint and SQLSTATE (never the
/// server's source position, which reads like a line of the user's script).
pub(crate) fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.try_downcast_ref::<PgDatabaseError>() {
            Some(pg) => {
                let mut text = pg.message().to_owned();
                if let Some(detail) = pg.detail() {
                    text.push_str(&format!(" ({detail})"));
                }
                if let Some(hint) = pg.hint() {
                    text.push_str(&format!("; hint: {hint}"));
                }
                text.push_str(&format!(" [SQLSTATE {}]", pg.code()));
                text
            }
            None => db.message().to_owned(),
        },
        other => migrator_core::text::without_code_location(&other.to_string()).to_owned(),
    }
}

/// The short description kept in a history row and in lock errors: message and SQLSTATE.
pub(crate) fn describe_short(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.try_downcast_ref::<PgDatabaseError>() {
            Some(pg) => format!("{} [SQLSTATE {}]", pg.message(), pg.code()),
            None => db.message().to_owned(),
        },
        other => migrator_core::text::without_code_location(&other.to_string()).to_owned(),
    }
}

/// SQLSTATE 55P03 `lock_not_available`: `lock_timeout` expired (or `NOWAIT` found the lock
/// taken). The statement had no effect.
pub(crate) const LOCK_NOT_AVAILABLE: &str = "55P03";

/// `error` as a boxed [`DatabaseError`], described for people, lock timeouts marked.
pub(crate) fn described(error: sqlx::Error) -> BoxError {
    let lock_timeout = code(&error) == Some(LOCK_NOT_AVAILABLE);
    Box::new(DatabaseError::new(describe(&error), error).lock_timeout(lock_timeout))
}

/// A database error while doing `context`.
pub(crate) fn db(context: impl Into<String>, error: sqlx::Error) -> Error {
    Error::database(context, described(error))
}

/// A row whose columns are read by name (for core's history decoder).
pub(crate) struct Columns<'r>(pub(crate) &'r PgRow);

impl ReadRow for Columns<'_> {
    fn int(&self, column: &str) -> Result<Option<i64>, BoxError> {
        Ok(self.0.try_get(column)?)
    }

    fn text(&self, column: &str) -> Result<Option<String>, BoxError> {
        Ok(self.0.try_get(column)?)
    }
}
