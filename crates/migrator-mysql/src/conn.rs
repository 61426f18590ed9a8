//! One connection's messages: the query helper that sends a whole script in one round trip,
//! error numbers, how a MySQL error is described for people, and rows read by column name.

use futures_util::TryStreamExt;
use migrator_core::Error;
use migrator_core::error::{BoxError, DatabaseError};
use migrator_core::history::columns::ReadRow;
use sqlx::mysql::{MySqlDatabaseError, MySqlRow};
use sqlx::{AssertSqlSafe, Either, MySqlConnection, Row};

/// A failed multi-statement query: the rows of the statements that completed, and the error.
pub(crate) struct Failed {
    pub(crate) completed: usize,
    pub(crate) partial: Vec<Vec<MySqlRow>>,
    pub(crate) error: sqlx::Error,
}

/// Runs `sql` (one or more statements) as one `COM_QUERY`: one round trip. Returns the rows
/// of each statement, or what completed before the error.
pub(crate) async fn simple(conn: &mut MySqlConnection, sql: String) -> Result<Vec<Vec<MySqlRow>>, Failed> {
    let mut results: Vec<Vec<MySqlRow>> = vec![Vec::new()];
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

pub(crate) fn number(error: &sqlx::Error) -> Option<u16> {
    match error {
        sqlx::Error::Database(db) => db.try_downcast_ref::<MySqlDatabaseError>().map(MySqlDatabaseError::number),
        _ => None,
    }
}

/// A database error described for people: message, error number and SQLSTATE.
pub(crate) fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.try_downcast_ref::<MySqlDatabaseError>() {
            Some(my) => format!(
                "{} [error {}{}]",
                without_our_sql(my.message()),
                my.number(),
                my.code().map(|c| format!(", SQLSTATE {c}")).unwrap_or_default()
            ),
            None => db.message().to_owned(),
        },
        other => migrator_core::text::without_code_location(&other.to_string()).to_owned(),
    }
}

/// A syntax error's quote of the SQL after the error (`near '…' at line N`) without what
/// migrator sent after the user's statement (its history writes follow the statement after
/// `;\n`) and without the line, which counts lines of migrator's message, not of the file
/// (the failure names the file's line).
fn without_our_sql(message: &str) -> String {
    let Some(start) = message.find("near '").map(|i| i + "near '".len()) else { return message.to_owned() };
    let Some(end) = message.rfind("' at line ") else { return message.to_owned() };
    let (Some(head), Some(quoted)) = (message.get(..start), message.get(start..end)) else {
        return message.to_owned();
    };
    if end < start {
        return message.to_owned();
    }
    let quoted = match quoted.find(";\n") {
        Some(cut) => quoted.get(..cut).unwrap_or(quoted),
        None => quoted,
    };
    format!("{head}{}'", quoted.trim_end_matches("..."))
}

/// Error 1205 `ER_LOCK_WAIT_TIMEOUT`: `lock_wait_timeout` (metadata locks) or
/// `innodb_lock_wait_timeout` (row locks) expired. The statement had no effect.
pub(crate) const LOCK_WAIT_TIMEOUT: u16 = 1205;

/// `error` as a boxed [`DatabaseError`], described for people, lock timeouts marked.
pub(crate) fn described(error: sqlx::Error) -> BoxError {
    let lock_timeout = number(&error) == Some(LOCK_WAIT_TIMEOUT);
    Box::new(DatabaseError::new(describe(&error), error).lock_timeout(lock_timeout))
}

/// A database error while doing `context`.
pub(crate) fn db(context: impl Into<String>, error: sqlx::Error) -> Error {
    Error::database(context, described(error))
}

/// A row whose columns are read by name (for core's history decoder).
pub(crate) struct Columns<'r>(pub(crate) &'r MySqlRow);

impl ReadRow for Columns<'_> {
    fn int(&self, column: &str) -> Result<Option<i64>, BoxError> {
        Ok(self.0.try_get(column)?)
    }

    fn text(&self, column: &str) -> Result<Option<String>, BoxError> {
        Ok(self.0.try_get(column)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_do_not_quote_migrators_own_sql() {
        let server = "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server \
                      version for the right syntax to use near 'SELEC 1;\nUPDATE `_migrator_history` SET state = \
                      'applied', statements_done = ...' at line 1";
        let clean = without_our_sql(server);
        assert!(clean.ends_with("near 'SELEC 1'"), "{clean}");
        assert!(!clean.contains("_migrator_history") && !clean.contains("at line"), "{clean}");
        assert_eq!(without_our_sql("Table 'db.nope' doesn't exist"), "Table 'db.nope' doesn't exist");
    }
}
