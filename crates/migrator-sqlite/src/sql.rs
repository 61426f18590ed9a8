//! SQL text for SQLite: the history table and its reads and writes.
//!
//! Identifiers reach SQL only through [`migrator_core::history::Ident::quoted`]; every value is a bind
//! parameter (SQLite runs in-process, so binding costs nothing and no literal is ever built).

use migrator_core::history::columns::{
    self, Assignments, Column, ColumnType, Execution, LAYOUT_ROW_STATE, LAYOUT_ROW_VERSION, LayoutStep, Value, update,
};
use migrator_core::history::{HistoryTable, LAYOUT, RowWrite};

/// The current time as stored in `applied_at`: ISO 8601 in UTC with milliseconds, readable in
/// the `sqlite3` shell (`2026-11-20T09:30:00.123Z`).
pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// How a history column is read: the timestamp as epoch milliseconds.
fn read_expression(column: &Column) -> Option<String> {
    match column.ty {
        ColumnType::Timestamp => {
            Some(format!("CAST(round((julianday({}) - 2440587.5) * 86400000.0) AS INTEGER)", column.name))
        }
        _ => None,
    }
}

/// The SQL type of a history column.
fn sql_type(column: &Column) -> String {
    match column.ty {
        ColumnType::BigInt | ColumnType::Int => "INTEGER",
        _ => "TEXT",
    }
    .to_owned()
}

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

/// A statement with its bind parameters (`?1`, `?2`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bound {
    pub(crate) sql: String,
    pub(crate) binds: Vec<Bind>,
}

/// Renders values as bind parameters (or SQL for `NULL` and the time); `applied_by` is
/// this process's description (SQLite has no users).
struct Renderer<'a> {
    applied_by: &'a str,
    binds: Vec<Bind>,
}

impl Renderer<'_> {
    fn bind(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("?{}", self.binds.len())
    }

    fn render(&mut self, value: &Value<'_>) -> String {
        match value {
            Value::Int(n) => self.bind(Bind::Int(*n)),
            Value::Text(text) => self.bind(Bind::Text(text.to_string())),
            Value::AppliedBy => self.bind(Bind::Text(self.applied_by.to_owned())),
            Value::Now => NOW.to_owned(),
            // SQLite runs in-process: the driver measures durations itself, so a server-side
            // clock is never asked for.
            Value::Null | Value::Elapsed => "NULL".to_owned(),
        }
    }

    fn values(&mut self, assignments: &Assignments<'_>) -> String {
        columns::values(assignments, |value| self.render(value))
    }

    fn set_list(&mut self, assignments: &Assignments<'_>) -> String {
        columns::set_list(assignments, |value| self.render(value))
    }
}

/// Whether the history table exists (one row: 0 or 1).
pub(crate) fn table_exists() -> &'static str {
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1"
}

/// Reads every row, the layout row included, each column under its own name.
pub(crate) fn select_history(table: &HistoryTable) -> String {
    format!("SELECT {} FROM {} ORDER BY version", columns::select_list(read_expression), table.qualified('"'))
}

/// Reads one version's row (bind: version).
pub(crate) fn select_row(table: &HistoryTable) -> String {
    format!("SELECT {} FROM {} WHERE version = ?1", columns::select_list(read_expression), table.qualified('"'))
}

/// The highest rank in use (0 for an empty table).
pub(crate) fn max_rank(table: &HistoryTable) -> String {
    format!("SELECT coalesce(max(applied_rank), 0) FROM {} WHERE version > 0", table.qualified('"'))
}

/// Creates the history table (the current layout), if missing.
pub(crate) fn create_history(table: &HistoryTable) -> String {
    format!("CREATE TABLE IF NOT EXISTS {} (\n    {}\n)", table.qualified('"'), columns::definitions(sql_type))
}

/// Inserts the layout row unless it is there.
pub(crate) fn insert_layout(table: &HistoryTable, applied_by: &str) -> Bound {
    let layout = columns::layout_row(LAYOUT);
    let mut r = Renderer { applied_by, binds: Vec::new() };
    let values = r.values(&layout);
    Bound {
        sql: format!(
            "INSERT INTO {} ({}) VALUES ({values}) ON CONFLICT (version) DO NOTHING",
            table.qualified('"'),
            columns::names(&layout)
        ),
        binds: r.binds,
    }
}

/// The statements that bring a table from layout `from` to the newest of `steps`, the last
/// one recording the new layout; empty when there is nothing to do. The caller runs them in
/// one transaction.
pub(crate) fn upgrade(table: &HistoryTable, from: i64, steps: &'static [LayoutStep]) -> Vec<Bound> {
    let pending = columns::pending_upgrades(from, steps);
    let Some(last) = pending.last().map(|step| step.layout) else { return Vec::new() };
    let q = table.qualified('"');
    let mut statements: Vec<Bound> = pending
        .iter()
        .flat_map(|step| step.adds)
        .map(|column| Bound {
            sql: format!("ALTER TABLE {q} ADD COLUMN {}", columns::definition(column, sql_type)),
            binds: Vec::new(),
        })
        .collect();
    let mut r = Renderer { applied_by: "", binds: Vec::new() };
    let set = r.set_list(&update::layout(last));
    statements.push(Bound {
        sql: format!("UPDATE {q} SET {set} WHERE version = {LAYOUT_ROW_VERSION} AND state = '{LAYOUT_ROW_STATE}'"),
        binds: r.binds,
    });
    statements
}

/// Insert-or-replace of a history row.
pub(crate) fn upsert(table: &HistoryTable, row: &RowWrite, execution: Execution, applied_by: &str) -> Bound {
    upsert_values(table, &row.values(execution), applied_by)
}

/// Insert-or-replace of a whole row given as its column values.
pub(crate) fn upsert_values(table: &HistoryTable, assignments: &Assignments<'_>, applied_by: &str) -> Bound {
    let mut r = Renderer { applied_by, binds: Vec::new() };
    let values = r.values(assignments);
    let updates: Vec<String> =
        assignments.iter().skip(1).map(|(column, _)| format!("{0} = excluded.{0}", column.name)).collect();
    Bound {
        sql: format!(
            "INSERT INTO {} ({}) VALUES ({values}) ON CONFLICT (version) DO UPDATE SET {}",
            table.qualified('"'),
            columns::names(assignments),
            updates.join(", ")
        ),
        binds: r.binds,
    }
}

/// Changes some columns of a version's row.
pub(crate) fn update(table: &HistoryTable, version: i64, assignments: &Assignments<'_>, applied_by: &str) -> Bound {
    let mut r = Renderer { applied_by, binds: Vec::new() };
    let set = r.set_list(assignments);
    let version = r.bind(Bind::Int(version));
    Bound { sql: format!("UPDATE {} SET {set} WHERE version = {version}", table.qualified('"')), binds: r.binds }
}

/// Deletes a version's row (bind: version).
pub(crate) fn delete(table: &HistoryTable) -> String {
    format!("DELETE FROM {} WHERE version = ?1", table.qualified('"'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrator_core::history::Ident;

    #[test]
    fn upgrades_apply_only_newer_steps_and_record_the_layout() {
        use migrator_core::history::columns::{NOTE, STATEMENTS};
        static STEPS: [LayoutStep; 2] =
            [LayoutStep { layout: 2, adds: &[STATEMENTS] }, LayoutStep { layout: 3, adds: &[NOTE] }];
        let table = HistoryTable::default();
        let statements = upgrade(&table, 2, &STEPS);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].sql, "ALTER TABLE \"_migrator_history\" ADD COLUMN note TEXT");
        assert!(statements[1].sql.contains("SET statements_total = ?1"), "{}", statements[1].sql);
        assert_eq!(statements[1].binds, vec![Bind::Int(3)]);
        assert!(upgrade(&table, 3, &STEPS).is_empty());
        assert!(upgrade(&table, 1, columns::UPGRADES).is_empty(), "layout 1 is the first");
    }

    #[test]
    fn table_names_are_quoted() {
        let table = HistoryTable { schema: None, name: Ident::new("history table", "odd\"name").unwrap() };
        assert!(select_history(&table).ends_with("FROM \"odd\"\"name\" ORDER BY version"));
        assert!(create_history(&table).starts_with("CREATE TABLE IF NOT EXISTS \"odd\"\"name\" ("));
    }

    #[test]
    fn every_value_is_bound() {
        let update = update(
            &HistoryTable::default(),
            7,
            &update::failed(migrator_core::history::State::Failed, 2, None, "it's"),
            "me",
        );
        assert_eq!(
            update.sql,
            format!(
                "UPDATE \"_migrator_history\" SET state = ?1, statements_done = ?2, failed_statement = ?3, \
                 failed_line = NULL, error = ?4, applied_at = {NOW}, applied_by = ?5 WHERE version = ?6"
            )
        );
        assert_eq!(update.binds[3], Bind::Text("it's".into()));
        assert_eq!(update.binds[5], Bind::Int(7));
    }
}
