//! How a SQLite error is described for people, rows read by column name, and statements
//! run with their bind parameters.

use migrator_core::Error;
use migrator_core::error::{BoxError, DatabaseError};
use migrator_core::history::columns::ReadRow;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Row};

use crate::sql::{Bind, Bound};

/// A database error described for people: SQLite's message and result code.
pub(crate) fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} [SQLite error {code}]", db.message()),
            None => db.message().to_owned(),
        },
        other => migrator_core::text::without_code_location(&other.to_string()).to_owned(),
    }
}

/// `error` as a boxed [`DatabaseError`], described for people.
pub(crate) fn described(error: sqlx::Error) -> BoxError {
    Box::new(DatabaseError::new(describe(&error), error))
}

/// A database error while doing `context`.
pub(crate) fn db(context: impl Into<String>, error: sqlx::Error) -> Error {
    Error::database(context, described(error))
}

/// A row whose columns are read by name (for core's history decoder).
pub(crate) struct Columns<'r>(pub(crate) &'r SqliteRow);

impl ReadRow for Columns<'_> {
    fn int(&self, column: &str) -> Result<Option<i64>, BoxError> {
        Ok(self.0.try_get(column)?)
    }

    fn text(&self, column: &str) -> Result<Option<String>, BoxError> {
        Ok(self.0.try_get(column)?)
    }
}

/// Runs a statement with its bind parameters.
pub(crate) async fn run(conn: &mut SqliteConnection, statement: Bound) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query(AssertSqlSafe(statement.sql));
    for bind in statement.binds {
        query = match bind {
            Bind::Int(n) => query.bind(n),
            Bind::Text(text) => query.bind(text),
        };
    }
    query.execute(conn).await.map(|_| ())
}
