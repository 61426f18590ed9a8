//! SQL text for MySQL and MariaDB: quoting, the history table, row writes, limits.
//!
//! Strings reach SQL only through [`literal`]; identifiers only through
//! [`migrator_core::Ident::quoted`] with backticks. Nothing here depends on `sql_mode`
//! (`NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`).

use std::time::Duration;

use migrator_core::history::{LAYOUT, LAYOUT_ROW_STATE, LAYOUT_ROW_VERSION};
use migrator_core::{HistoryTable, RowWrite, StatementRecord};

/// A string literal whatever the `sql_mode`: plain `'…'` when the text has no quote or
/// backslash, else a hex literal converted to utf8mb4.
pub(crate) fn literal(text: &str) -> String {
    if text.chars().all(|c| c != '\'' && c != '\\' && c != '\0' && c != '"') {
        return format!("'{text}'");
    }
    let mut hex = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        hex.push_str(&format!("{byte:02X}"));
    }
    format!("CONVERT(X'{hex}' USING utf8mb4)")
}

fn opt_literal(text: Option<&str>) -> String {
    text.map_or_else(|| "NULL".to_owned(), literal)
}

/// Who applied a row: the client's user and host, and the connection id.
pub(crate) const APPLIED_BY: &str = "CONCAT(USER(), ' (connection ', CONNECTION_ID(), ')')";

/// Milliseconds since `@__migrator_t0` (set when the migration started, by the server's clock).
pub(crate) const ELAPSED_MS: &str = "TIMESTAMPDIFF(MICROSECOND, @__migrator_t0, NOW(6)) DIV 1000";

/// Starts the server-side clock of a migration.
pub(crate) const START_CLOCK: &str = "SET @__migrator_t0 = NOW(6)";

pub(crate) fn read_columns() -> &'static str {
    "CAST(version AS SIGNED), name, phase, state, checksum, down_checksum, CAST(applied_rank AS SIGNED), \
     CAST(statements_total AS SIGNED), CAST(statements_done AS SIGNED), statements, CAST(failed_statement AS SIGNED), \
     CAST(failed_line AS SIGNED), error, CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', applied_at) DIV 1000 AS SIGNED), \
     CAST(execution_ms AS SIGNED), applied_by, note"
}

/// Reads the layout row and, unless every other row is applied and their digest
/// ([`migrator_core::history::applied_digest`], computed here by the server) is one of
/// `expected`, every row. Each row ends with two more columns: whether all rows are applied,
/// and the digest. The concatenation must fit `group_concat_max_len`: MariaDB's default
/// (1 MiB) fits thousands of migrations; MySQL 8's (1 KiB) does not, so the statement raises
/// it for itself with a `SET_VAR` hint, which MariaDB reads as a comment and MySQL applies
/// to this statement only (the pool's session is left as it was). A concatenation that is
/// still cut never matches, and the rows are sent: slower, still right.
pub(crate) fn select_history_expecting(table: &HistoryTable, expected: &[String]) -> String {
    let q = table.qualified('`');
    let list = expected.iter().map(|d| literal(d)).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT /*+ SET_VAR(group_concat_max_len = 4294967295) */ {}, d.clean, d.digest FROM {q} CROSS JOIN (SELECT CAST(COALESCE(MIN(state = 'applied'), 1) AS SIGNED) \
         AS clean, CAST(SHA2(COALESCE(GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), version, name, phase, checksum, \
         COALESCE(down_checksum, '')) ORDER BY version SEPARATOR '\u{1e}'), ''), 256) AS CHAR) AS digest \
         FROM {q} WHERE version <> {LAYOUT_ROW_VERSION}) d \
         WHERE NOT (d.clean = 1 AND d.digest IN ({list})) OR version = {LAYOUT_ROW_VERSION} ORDER BY version",
        read_columns()
    )
}

/// Reads every row, the layout row included.
pub(crate) fn select_history(table: &HistoryTable) -> String {
    format!("SELECT {} FROM {} ORDER BY version", read_columns(), table.qualified('`'))
}

/// Creates the history table (layout 1) and its layout row, if missing. `applied_at` is UTC.
pub(crate) fn create_history(table: &HistoryTable) -> String {
    let q = table.qualified('`');
    format!(
        "CREATE TABLE IF NOT EXISTS {q} (
    version BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    phase VARCHAR(16) NOT NULL,
    state VARCHAR(16) NOT NULL,
    checksum VARCHAR(100) NOT NULL,
    down_checksum VARCHAR(100) NULL,
    applied_rank BIGINT NOT NULL,
    statements_total INT NOT NULL,
    statements_done INT NOT NULL,
    statements MEDIUMTEXT NULL,
    failed_statement INT NULL,
    failed_line INT NULL,
    error TEXT NULL,
    applied_at DATETIME(3) NOT NULL,
    execution_ms BIGINT NULL,
    applied_by VARCHAR(512) NOT NULL,
    note VARCHAR(512) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT IGNORE INTO {q} (version, name, phase, state, checksum, applied_rank, statements_total, statements_done, applied_at, \
applied_by, note) VALUES ({LAYOUT_ROW_VERSION}, 'migrator history layout', 'expand', '{LAYOUT_ROW_STATE}', '', 0, {LAYOUT}, 0, \
UTC_TIMESTAMP(3), {APPLIED_BY}, 'layout of this table; do not delete')"
    )
}

/// Insert-or-replace of a history row; `execution_ms` is SQL.
pub(crate) fn upsert(table: &HistoryTable, row: &RowWrite, execution_ms: &str) -> String {
    let statements = if row.statements.is_empty() { None } else { Some(StatementRecord::encode(&row.statements)) };
    format!(
        "INSERT INTO {q} (version, name, phase, state, checksum, down_checksum, applied_rank, statements_total, \
         statements_done, statements, failed_statement, failed_line, error, applied_at, execution_ms, applied_by, note) \
         VALUES ({version}, {name}, {phase}, {state}, {checksum}, {down}, {rank}, {total}, {done}, {statements}, NULL, NULL, \
         NULL, UTC_TIMESTAMP(3), {execution_ms}, {APPLIED_BY}, {note}) \
         ON DUPLICATE KEY UPDATE name = VALUES(name), phase = VALUES(phase), state = VALUES(state), \
         checksum = VALUES(checksum), down_checksum = VALUES(down_checksum), applied_rank = VALUES(applied_rank), \
         statements_total = VALUES(statements_total), statements_done = VALUES(statements_done), \
         statements = VALUES(statements), failed_statement = NULL, failed_line = NULL, error = NULL, \
         applied_at = VALUES(applied_at), execution_ms = VALUES(execution_ms), applied_by = VALUES(applied_by), \
         note = VALUES(note)",
        q = table.qualified('`'),
        version = row.version.get(),
        name = literal(&row.name),
        phase = literal(row.phase.as_str()),
        state = literal(row.state.as_str()),
        checksum = literal(&row.checksum),
        down = opt_literal(row.down_checksum.as_deref()),
        rank = row.rank,
        total = row.statements_total,
        done = row.statements_done,
        statements = opt_literal(statements.as_deref()),
        note = opt_literal(row.note.as_deref()),
    )
}

/// Records progress: `done` statements completed.
pub(crate) fn progress(table: &HistoryTable, version: i64, done: usize) -> String {
    format!(
        "UPDATE {} SET statements_done = {done}, applied_at = UTC_TIMESTAMP(3) WHERE version = {version}",
        table.qualified('`')
    )
}

/// Marks a stepwise up step applied.
pub(crate) fn mark_applied(table: &HistoryTable, version: i64, total: usize) -> String {
    format!(
        "UPDATE {} SET state = 'applied', statements_done = {total}, failed_statement = NULL, failed_line = NULL, \
         error = NULL, applied_at = UTC_TIMESTAMP(3), execution_ms = {ELAPSED_MS}, applied_by = {APPLIED_BY} \
         WHERE version = {version}",
        table.qualified('`')
    )
}

/// Records a failed statement.
pub(crate) fn mark_failed(
    table: &HistoryTable,
    version: i64,
    state: &str,
    statement: usize,
    line: Option<usize>,
    error: &str,
) -> String {
    format!(
        "UPDATE {} SET state = {}, statements_done = {}, failed_statement = {statement}, failed_line = {}, error = {}, \
         applied_at = UTC_TIMESTAMP(3), applied_by = {APPLIED_BY} WHERE version = {version}",
        table.qualified('`'),
        literal(state),
        statement.saturating_sub(1),
        line.map_or_else(|| "NULL".to_owned(), |l| l.to_string()),
        literal(error),
    )
}

/// Deletes a version's row.
pub(crate) fn delete(table: &HistoryTable, version: i64) -> String {
    format!("DELETE FROM {} WHERE version = {version}", table.qualified('`'))
}

/// Whole seconds for a MySQL timeout variable: rounded up, at least 1; zero means the
/// variable's maximum (no practical limit).
pub(crate) fn seconds(duration: Duration, max: u64) -> u64 {
    if duration.is_zero() {
        return max;
    }
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    millis.div_ceil(1000).clamp(1, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_do_not_depend_on_sql_mode() {
        assert_eq!(literal("plain text"), "'plain text'");
        assert_eq!(literal("it's"), "CONVERT(X'69742773' USING utf8mb4)");
        assert_eq!(literal(r"a\b"), "CONVERT(X'615C62' USING utf8mb4)");
        assert_eq!(literal("é"), "'é'");
        assert_eq!(opt_literal(None), "NULL");
    }

    #[test]
    fn timeout_seconds() {
        assert_eq!(seconds(Duration::from_millis(300), 100), 1);
        assert_eq!(seconds(Duration::from_millis(1500), 100), 2);
        assert_eq!(seconds(Duration::ZERO, 100), 100);
        assert_eq!(seconds(Duration::from_secs(1000), 100), 100);
    }
}
