//! SQL text for MySQL and MariaDB: quoting, the history table, row writes, limits.
//!
//! Strings reach SQL only through [`literal`]; identifiers only through
//! [`migrator_core::history::Ident::quoted`] with backticks. Nothing here depends on `sql_mode`
//! (`NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`).

use std::time::Duration;

use migrator_core::history::columns::{
    self, Assignments, Column, ColumnType, Execution, LAYOUT_ROW_STATE, LAYOUT_ROW_VERSION, LayoutStep, Value, update,
};
use migrator_core::history::{HistoryTable, Ident, LAYOUT, RowWrite};

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

/// Who applied a row: the client's user and host, and the connection id.
pub(crate) const APPLIED_BY: &str = "CONCAT(USER(), ' (connection ', CONNECTION_ID(), ')')";

/// Milliseconds since `@__migrator_t0` (set when the migration started, by the server's clock).
pub(crate) const ELAPSED_MS: &str = "TIMESTAMPDIFF(MICROSECOND, @__migrator_t0, NOW(6)) DIV 1000";

/// Starts the server-side clock of a migration.
pub(crate) const START_CLOCK: &str = "SET @__migrator_t0 = NOW(6)";

/// How a history column is read: integers as signed 64-bit, the timestamp as epoch
/// milliseconds.
fn read_expression(column: &Column) -> Option<String> {
    let name = column.name;
    match column.ty {
        ColumnType::Int | ColumnType::BigInt if *column != columns::VERSION => Some(format!("CAST({name} AS SIGNED)")),
        ColumnType::Timestamp => {
            Some(format!("CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {name}) DIV 1000 AS SIGNED)"))
        }
        _ => None,
    }
}

/// The SQL type of a history column.
fn sql_type(column: &Column) -> String {
    match column.ty {
        ColumnType::BigInt => "BIGINT".to_owned(),
        ColumnType::Int => "INT".to_owned(),
        ColumnType::Short(n) => format!("VARCHAR({n})"),
        ColumnType::Text => "TEXT".to_owned(),
        ColumnType::LongText => "MEDIUMTEXT".to_owned(),
        ColumnType::Timestamp => "DATETIME(3)".to_owned(),
        _ => "TEXT".to_owned(),
    }
}

/// A value as SQL.
fn render(value: &Value<'_>) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::Text(text) => literal(text),
        Value::Null => "NULL".to_owned(),
        Value::Now => "UTC_TIMESTAMP(3)".to_owned(),
        Value::AppliedBy => APPLIED_BY.to_owned(),
        Value::Elapsed => ELAPSED_MS.to_owned(),
    }
}

fn values(assignments: &Assignments<'_>) -> String {
    columns::values(assignments, render)
}

fn set_list(assignments: &Assignments<'_>) -> String {
    columns::set_list(assignments, render)
}

/// Whether every row (but the layout row) is applied, as an aggregate.
const CLEAN: &str = "CAST(COALESCE(MIN(state = 'applied'), 1) AS SIGNED)";
/// The rows' [`migrator_core::history::digest::applied_digest`], as an aggregate (it needs
/// `group_concat_max_len` raised).
const DIGEST: &str = "CAST(SHA2(COALESCE(GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), version, name, phase, \
    checksum, COALESCE(down_checksum, '')) ORDER BY version SEPARATOR '\u{1e}'), ''), 256) AS CHAR)";

/// In [`digest_tenants`]' per-tenant query: the tenant's 1-based index in the list.
const INDEX_MARK: &str = "__migrator_tenant_index__";
/// In [`digest_tenants`]' per-tenant query: the tenant database's name, quoted.
const DATABASE_MARK: &str = "__migrator_tenant_database__";
/// How many statements [`digest_tenants`] holds, and which one answers the rows.
pub(crate) const DIGEST_TENANTS_STATEMENTS: usize = 6;
pub(crate) const DIGEST_TENANTS_ROWS: usize = 3;

/// The all-tenants check in one message: the server lists the `tenants` databases holding
/// `table` (`information_schema.TABLES`), builds one query reading each one's layout,
/// `clean` and `digest` (as [`select_history_expecting`]), joined by `UNION ALL`, and runs
/// it as a prepared statement; one row per tenant with the table, `tenant` being its
/// 1-based index in `tenants`. The server splices into the query text only digits (the
/// index) and the database name with its backquotes doubled, inside backquotes. The session's
/// `group_concat_max_len` is raised for the message and put back at its end, and the user
/// variables cleared (on an error the caller closes the connection instead).
pub(crate) fn digest_tenants(tenants: &[String], table: &Ident) -> String {
    let names = tenants.iter().map(|t| literal(t)).collect::<Vec<_>>().join(", ");
    let q = format!("`{DATABASE_MARK}`.{}", table.quoted('`'));
    let one = format!(
        "SELECT CAST({INDEX_MARK} AS SIGNED) AS tenant, CAST((SELECT {STATEMENTS_TOTAL} FROM {q} \
         WHERE version = {LAYOUT_ROW_VERSION}) AS SIGNED) AS layout, {CLEAN} AS clean, {DIGEST} AS digest \
         FROM {q} WHERE version <> {LAYOUT_ROW_VERSION}",
        STATEMENTS_TOTAL = columns::STATEMENTS_TOTAL.name,
    );
    let none = "SELECT 0 AS tenant, 0 AS layout, 0 AS clean, '' AS digest FROM DUAL WHERE FALSE";
    format!(
        "SET @migrator_gcml = @@SESSION.group_concat_max_len, SESSION group_concat_max_len = 4294967295;\n\
         SET @migrator_check = (SELECT COALESCE(GROUP_CONCAT(REPLACE(REPLACE({one}, '{INDEX_MARK}', \
         FIELD(TABLE_SCHEMA, {names})), '{DATABASE_MARK}', REPLACE(TABLE_SCHEMA, '`', '``')) SEPARATOR ' UNION ALL '), \
         {none}) FROM information_schema.TABLES WHERE TABLE_NAME = {table_name} AND TABLE_SCHEMA IN ({names}));\n\
         PREPARE migrator_check FROM @migrator_check;\n\
         EXECUTE migrator_check;\n\
         DEALLOCATE PREPARE migrator_check;\n\
         SET SESSION group_concat_max_len = @migrator_gcml, @migrator_check = NULL, @migrator_gcml = NULL",
        one = literal(&one),
        none = literal(none),
        table_name = literal(table.as_str()),
    )
}

/// Reads the layout row and, unless every other row is applied and their digest
/// ([`migrator_core::history::digest::applied_digest`], computed here by the server) is one of
/// `expected`, every row. Each row ends with two more columns: `clean` (every row is
/// applied) and `digest`. The concatenation must fit `group_concat_max_len`: MariaDB's default
/// (1 MiB) fits thousands of migrations; MySQL 8's (1 KiB) does not, so the statement raises
/// it for itself with a `SET_VAR` hint, which MariaDB reads as a comment and MySQL applies
/// to this statement only (the pool's session is left as it was). A concatenation that is
/// still cut never matches, and the rows are sent: slower, still right.
pub(crate) fn select_history_expecting(table: &HistoryTable, expected: &[String]) -> String {
    let q = table.qualified('`');
    let list = expected.iter().map(|d| literal(d)).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT /*+ SET_VAR(group_concat_max_len = 4294967295) */ {}, d.clean, d.digest FROM {q} CROSS JOIN (SELECT {CLEAN} \
         AS clean, {DIGEST} AS digest \
         FROM {q} WHERE version <> {LAYOUT_ROW_VERSION}) d \
         WHERE NOT (d.clean = 1 AND d.digest IN ({list})) OR version = {LAYOUT_ROW_VERSION} ORDER BY version",
        columns::select_list(read_expression)
    )
}

/// Reads every row, the layout row included, each column under its own name.
pub(crate) fn select_history(table: &HistoryTable) -> String {
    format!("SELECT {} FROM {} ORDER BY version", columns::select_list(read_expression), table.qualified('`'))
}

/// Creates the history table (the current layout) and its layout row, if missing.
/// `applied_at` is UTC.
pub(crate) fn create_history(table: &HistoryTable) -> String {
    let q = table.qualified('`');
    let layout = columns::layout_row(LAYOUT);
    format!(
        "CREATE TABLE IF NOT EXISTS {q} (\n    {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\
         INSERT IGNORE INTO {q} ({}) VALUES ({})",
        columns::definitions(sql_type),
        columns::names(&layout),
        values(&layout)
    )
}

/// The statements that bring a table from layout `from` to the newest of `steps`, the last
/// one recording the new layout; empty when there is nothing to do. MySQL commits each
/// `ALTER TABLE` by itself: a column that exists already (error 1060) means an earlier
/// upgrade got that far.
pub(crate) fn upgrade(table: &HistoryTable, from: i64, steps: &'static [LayoutStep]) -> Vec<String> {
    let pending = columns::pending_upgrades(from, steps);
    let Some(last) = pending.last().map(|step| step.layout) else { return Vec::new() };
    let q = table.qualified('`');
    let mut statements: Vec<String> = pending
        .iter()
        .flat_map(|step| step.adds)
        .map(|column| format!("ALTER TABLE {q} ADD COLUMN {}", columns::definition(column, sql_type)))
        .collect();
    statements.push(format!(
        "UPDATE {q} SET {} WHERE version = {LAYOUT_ROW_VERSION} AND state = '{LAYOUT_ROW_STATE}'",
        set_list(&update::layout(last))
    ));
    statements
}

/// Insert-or-replace of a history row.
pub(crate) fn upsert(table: &HistoryTable, row: &RowWrite, execution: Execution) -> String {
    upsert_values(table, &row.values(execution))
}

/// Insert-or-replace of a whole row given as its column values.
pub(crate) fn upsert_values(table: &HistoryTable, assignments: &Assignments<'_>) -> String {
    let updates: Vec<String> =
        assignments.iter().skip(1).map(|(column, _)| format!("{0} = VALUES({0})", column.name)).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON DUPLICATE KEY UPDATE {}",
        table.qualified('`'),
        columns::names(assignments),
        values(assignments),
        updates.join(", ")
    )
}

/// Changes some columns of a version's row.
pub(crate) fn update(table: &HistoryTable, version: i64, assignments: &Assignments<'_>) -> String {
    format!("UPDATE {} SET {} WHERE version = {version}", table.qualified('`'), set_list(assignments))
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
    }

    #[test]
    fn upgrades_apply_only_newer_steps_and_record_the_layout() {
        use migrator_core::history::columns::{NOTE, STATEMENTS};
        static STEPS: [LayoutStep; 2] =
            [LayoutStep { layout: 2, adds: &[STATEMENTS] }, LayoutStep { layout: 3, adds: &[NOTE] }];
        let table = HistoryTable::default();
        let statements = upgrade(&table, 2, &STEPS);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0], "ALTER TABLE `_migrator_history` ADD COLUMN note VARCHAR(512)");
        assert!(statements[1].contains("SET statements_total = 3"), "{}", statements[1]);
        assert!(upgrade(&table, 3, &STEPS).is_empty());
        assert!(upgrade(&table, 1, columns::UPGRADES).is_empty(), "layout 1 is the first");
    }

    #[test]
    fn history_sql_reads_and_writes_every_column_by_name() {
        let table = HistoryTable::default();
        let select = select_history(&table);
        assert!(select.starts_with("SELECT version, name,"), "{select}");
        assert!(select.contains("CAST(statements_total AS SIGNED) AS statements_total"), "{select}");
        let create = create_history(&table);
        assert!(create.contains("name VARCHAR(255) NOT NULL"), "{create}");
        assert!(create.contains("statements MEDIUMTEXT,"), "{create}");
        assert!(create.contains("applied_at DATETIME(3) NOT NULL"), "{create}");
    }

    #[test]
    fn timeout_seconds() {
        assert_eq!(seconds(Duration::from_millis(300), 100), 1);
        assert_eq!(seconds(Duration::from_millis(1500), 100), 2);
        assert_eq!(seconds(Duration::ZERO, 100), 100);
        assert_eq!(seconds(Duration::from_secs(1000), 100), 100);
    }
}
