//! The per-connection settings (PRAGMAs) a migration may change, saved when a session begins
//! and restored before each migration and when the session ends.
//!
//! SQLite keeps these per connection, and the session runs every migration on one connection
//! of the application's pool, so a migration's `PRAGMA recursive_triggers = ON` would
//! otherwise leak into the next migration and, after the run, into the application. Settings
//! stored in the database file itself (`journal_mode = WAL`, `user_version`, `auto_vacuum`,
//! `page_size`) are changes to the database, not to the connection, and stay.

use std::time::Duration;

use migrator_core::Error;
use sqlx::sqlite::SqliteConnection;

use crate::conn::db;

/// The PRAGMAs restored between migrations: each holds an integer on this connection.
const RESTORED: &[&str] = &[
    "foreign_keys",
    "defer_foreign_keys",
    "recursive_triggers",
    "legacy_alter_table",
    "ignore_check_constraints",
    "reverse_unordered_selects",
    "automatic_index",
    "query_only",
    "trusted_schema",
    "cell_size_check",
    "secure_delete",
    "synchronous",
    "temp_store",
    "cache_size",
];

/// A connection's settings when the session began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    values: Vec<(&'static str, i64)>,
    busy_timeout: i64,
}

impl Settings {
    /// Reads the settings of `conn` (no transaction is open).
    pub(crate) async fn read(conn: &mut SqliteConnection) -> Result<Settings, Error> {
        let mut values = Vec::with_capacity(RESTORED.len());
        for name in RESTORED {
            let value: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| db(format!("reading the connection's setting {name}"), e))?;
            values.push((*name, value));
        }
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| db("reading the connection's busy_timeout", e))?;
        Ok(Settings { values, busy_timeout })
    }

    /// Whether the connection enforced foreign keys.
    pub(crate) fn foreign_keys(&self) -> bool {
        self.values.iter().any(|(name, value)| *name == "foreign_keys" && *value != 0)
    }

    /// The statements that restore the settings (the busy wait stays the lock wait).
    pub(crate) fn restore_sql(&self) -> String {
        self.values.iter().map(|(name, value)| format!("PRAGMA {name} = {value};\n")).collect()
    }

    /// [`Settings::restore_sql`] and the original busy timeout: for the end of the session.
    pub(crate) fn restore_sql_with_busy_timeout(&self) -> String {
        format!("{}PRAGMA busy_timeout = {};", self.restore_sql(), self.busy_timeout)
    }

    /// The busy timeout that bounds waiting for SQLite's write lock by the lock wait.
    pub(crate) fn busy_timeout_sql(wait: Duration) -> String {
        let millis = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        format!("PRAGMA busy_timeout = {millis}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_every_setting_and_the_busy_timeout_last() {
        let settings = Settings { values: vec![("foreign_keys", 1), ("synchronous", 2)], busy_timeout: 5000 };
        assert!(settings.foreign_keys());
        assert_eq!(settings.restore_sql(), "PRAGMA foreign_keys = 1;\nPRAGMA synchronous = 2;\n");
        assert!(settings.restore_sql_with_busy_timeout().ends_with("PRAGMA busy_timeout = 5000;"));
        assert_eq!(Settings::busy_timeout_sql(Duration::from_secs(300)), "PRAGMA busy_timeout = 300000");
        assert_eq!(
            Settings::busy_timeout_sql(Duration::from_secs(u64::MAX)),
            format!("PRAGMA busy_timeout = {}", i32::MAX)
        );
    }
}
