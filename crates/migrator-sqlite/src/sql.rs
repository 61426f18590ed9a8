//! SQL text for SQLite: the history table and its reads and writes.
//!
//! Identifiers reach SQL only through [`migrator_core::Ident::quoted`]; every value is a bind
//! parameter (SQLite runs in-process, so binding costs nothing and no literal is ever built).

use migrator_core::HistoryTable;
use migrator_core::history::{LAYOUT, LAYOUT_ROW_STATE, LAYOUT_ROW_VERSION};

/// The current time as stored in `applied_at`: ISO 8601 in UTC with milliseconds, readable in
/// the `sqlite3` shell (`2026-11-20T09:30:00.123Z`).
pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// The history columns, in the order the driver decodes them; `applied_at` as milliseconds
/// since the Unix epoch.
pub(crate) const READ_COLUMNS: &str = "version, name, phase, state, checksum, down_checksum, applied_rank, \
     statements_total, statements_done, statements, failed_statement, failed_line, error, \
     CAST(round((julianday(applied_at) - 2440587.5) * 86400000.0) AS INTEGER), execution_ms, applied_by, note";

/// Whether the history table exists (one row: 0 or 1).
pub(crate) fn table_exists() -> &'static str {
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1"
}

/// Reads every row, the layout row included.
pub(crate) fn select_history(table: &HistoryTable) -> String {
    format!("SELECT {READ_COLUMNS} FROM {} ORDER BY version", table.qualified('"'))
}

/// Reads one version's row (bind: version).
pub(crate) fn select_row(table: &HistoryTable) -> String {
    format!("SELECT {READ_COLUMNS} FROM {} WHERE version = ?1", table.qualified('"'))
}

/// The highest rank in use (0 for an empty table).
pub(crate) fn max_rank(table: &HistoryTable) -> String {
    format!("SELECT coalesce(max(applied_rank), 0) FROM {} WHERE version > 0", table.qualified('"'))
}

/// Creates the history table (layout 1), if missing.
pub(crate) fn create_history(table: &HistoryTable) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    state TEXT NOT NULL,
    checksum TEXT NOT NULL,
    down_checksum TEXT,
    applied_rank INTEGER NOT NULL,
    statements_total INTEGER NOT NULL,
    statements_done INTEGER NOT NULL,
    statements TEXT,
    failed_statement INTEGER,
    failed_line INTEGER,
    error TEXT,
    applied_at TEXT NOT NULL,
    execution_ms INTEGER,
    applied_by TEXT NOT NULL,
    note TEXT
)",
        table.qualified('"')
    )
}

/// Inserts the layout row unless it is there (bind: applied_by).
pub(crate) fn insert_layout(table: &HistoryTable) -> String {
    format!(
        "INSERT INTO {} (version, name, phase, state, checksum, applied_rank, statements_total, statements_done, \
         applied_at, applied_by, note) VALUES ({LAYOUT_ROW_VERSION}, 'migrator history layout', 'expand', \
         '{LAYOUT_ROW_STATE}', '', 0, {LAYOUT}, 0, {NOW}, ?1, 'layout of this table; do not delete') \
         ON CONFLICT (version) DO NOTHING",
        table.qualified('"')
    )
}

/// In-place upgrades of the history table: `(layout it produces, SQL)`, in order. Layout 1
/// is the first; a release that changes the table appends a step here (and bumps
/// `migrator_core::history::LAYOUT`). `{table}` stands for the quoted table name.
pub(crate) const UPGRADES: &[(i64, &str)] = &[];

/// The statements that bring a table from layout `from` to the newest of `steps`, the last
/// one recording the new layout; empty when there is nothing to do. The caller runs them in
/// one transaction.
pub(crate) fn upgrade(table: &HistoryTable, from: i64, steps: &[(i64, &str)]) -> Vec<String> {
    let pending: Vec<&(i64, &str)> = steps.iter().filter(|(to, _)| *to > from).collect();
    let Some(last) = pending.last().map(|(to, _)| *to) else { return Vec::new() };
    let q = table.qualified('"');
    let mut statements: Vec<String> = pending.iter().map(|(_, step)| step.replace("{table}", &q)).collect();
    statements.push(format!(
        "UPDATE {q} SET statements_total = {last}, applied_at = {NOW} \
         WHERE version = {LAYOUT_ROW_VERSION} AND state = '{LAYOUT_ROW_STATE}'"
    ));
    statements
}

/// Insert-or-replace of a history row. Binds: version, name, phase, state, checksum,
/// down_checksum, rank, statements_total, statements_done, statements, execution_ms,
/// applied_by, note.
pub(crate) fn upsert(table: &HistoryTable) -> String {
    format!(
        "INSERT INTO {} (version, name, phase, state, checksum, down_checksum, applied_rank, statements_total, \
         statements_done, statements, failed_statement, failed_line, error, applied_at, execution_ms, applied_by, note) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, NULL, NULL, {NOW}, ?11, ?12, ?13) \
         ON CONFLICT (version) DO UPDATE SET name = excluded.name, phase = excluded.phase, state = excluded.state, \
         checksum = excluded.checksum, down_checksum = excluded.down_checksum, applied_rank = excluded.applied_rank, \
         statements_total = excluded.statements_total, statements_done = excluded.statements_done, \
         statements = excluded.statements, failed_statement = NULL, failed_line = NULL, error = NULL, \
         applied_at = excluded.applied_at, execution_ms = excluded.execution_ms, applied_by = excluded.applied_by, \
         note = excluded.note",
        table.qualified('"')
    )
}

/// Records progress (binds: statements_done, version).
pub(crate) fn progress(table: &HistoryTable) -> String {
    format!("UPDATE {} SET statements_done = ?1, applied_at = {NOW} WHERE version = ?2", table.qualified('"'))
}

/// Marks a stepwise up step applied (binds: statements_done, execution_ms, applied_by, version).
pub(crate) fn mark_applied(table: &HistoryTable) -> String {
    format!(
        "UPDATE {} SET state = 'applied', statements_done = ?1, failed_statement = NULL, failed_line = NULL, \
         error = NULL, applied_at = {NOW}, execution_ms = ?2, applied_by = ?3 WHERE version = ?4",
        table.qualified('"')
    )
}

/// Records a failed statement (binds: state, statements_done, failed_statement, failed_line,
/// error, applied_by, version).
pub(crate) fn mark_failed(table: &HistoryTable) -> String {
    format!(
        "UPDATE {} SET state = ?1, statements_done = ?2, failed_statement = ?3, failed_line = ?4, error = ?5, \
         applied_at = {NOW}, applied_by = ?6 WHERE version = ?7",
        table.qualified('"')
    )
}

/// Deletes a version's row (bind: version).
pub(crate) fn delete(table: &HistoryTable) -> String {
    format!("DELETE FROM {} WHERE version = ?1", table.qualified('"'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrator_core::Ident;

    #[test]
    fn upgrades_apply_only_newer_steps_and_record_the_layout() {
        let table = HistoryTable::default();
        let steps = [(2, "ALTER TABLE {table} ADD COLUMN a TEXT"), (3, "ALTER TABLE {table} ADD COLUMN b TEXT")];
        let statements = upgrade(&table, 2, &steps);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0], "ALTER TABLE \"_migrator_history\" ADD COLUMN b TEXT");
        assert!(statements[1].contains("SET statements_total = 3"));
        assert!(upgrade(&table, 3, &steps).is_empty());
        assert!(upgrade(&table, 1, UPGRADES).is_empty(), "layout 1 is the first");
    }

    #[test]
    fn table_names_are_quoted() {
        let table = HistoryTable { schema: None, name: Ident::new("history table", "odd\"name").unwrap() };
        assert!(select_history(&table).ends_with("FROM \"odd\"\"name\" ORDER BY version"));
        assert!(create_history(&table).starts_with("CREATE TABLE IF NOT EXISTS \"odd\"\"name\" ("));
    }
}
