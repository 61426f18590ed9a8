//! SQL text for PostgreSQL: quoting, the history table, row writes.
//!
//! Values reach SQL only through [`literal`] (strings) or as integers formatted by Rust;
//! identifiers only through [`migrator_core::history::Ident::quoted`]. Migration scripts, history
//! writes and limits are sent together as one simple-protocol query, so nothing here uses
//! bind parameters.

use std::fmt::Write;
use std::time::Duration;

use migrator_core::history::columns::{
    self, Assignments, Column, ColumnType, Execution, LAYOUT_ROW_STATE, LAYOUT_ROW_VERSION, LayoutStep, Value, update,
};
use migrator_core::history::{HistoryTable, Ident, LAYOUT, RowWrite};

/// A string literal that means `text` whatever `standard_conforming_strings` is: plain
/// `'…'` with quotes doubled, or `E'…'` with backslashes doubled when there are any. NUL
/// characters, which PostgreSQL text cannot hold, become U+FFFD.
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    if text.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An identifier, double-quoted with its quotes doubled: whatever it holds, it stays one name.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('\0', "\u{fffd}").replace('"', "\"\""))
}

/// The valid-or-not of index `index` on `table` (`schema.table` when `schema` is given,
/// otherwise found on the search path): one row `(schema, name, valid)`, or none.
pub(crate) fn index_validity(schema: Option<&str>, table: &str, index: &str) -> String {
    let table = match schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(table)),
        None => ident(table),
    };
    format!(
        "SELECT n.nspname::text, c.relname::text, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = \
         i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.indrelid = to_regclass({}) AND c.relname = {}",
        literal(&table),
        literal(index)
    )
}

/// `DO` with `body` as its dollar-quoted PL/pgSQL block, under a tag that does not occur in
/// the body: whatever names the body quotes (a history table named
/// `x$migrator_fence$;DROP TABLE victim;--`), they cannot close the quote.
pub(crate) fn do_block(body: &str) -> String {
    let mut tag = "$migrator_fence$".to_owned();
    let mut n = 0u32;
    while body.contains(&tag) {
        n += 1;
        tag = format!("$migrator_fence_{n}$");
    }
    format!("DO {tag}{body}{tag}")
}

/// A duration as a PostgreSQL setting value (`'1500ms'`; zero means no limit).
pub(crate) fn setting(duration: Duration) -> String {
    format!("'{}ms'", duration.as_millis())
}

/// Who applied a row: database user, client host and application name.
pub(crate) const APPLIED_BY: &str = "current_user || coalesce('@' || host(inet_client_addr()), '@local') \
    || coalesce(' (' || nullif(current_setting('application_name'), '') || ')', '')";

/// Milliseconds since the transaction started (the body's duration, measured by the server).
///
/// From the transaction's start, or, in a grouped apply, from the start of the migration
/// (each sets `migrator.started`, local to the transaction, before its script).
pub(crate) const TX_ELAPSED_MS: &str = "(extract(epoch from clock_timestamp() - \
     coalesce(nullif(current_setting('migrator.started', true), '')::timestamptz, now())) * 1000)::int8";

/// How a history column is read: integers as `int8`, the timestamp as epoch milliseconds.
fn read_expression(column: &Column) -> Option<String> {
    match column.ty {
        ColumnType::Int => Some(format!("{}::int8", column.name)),
        ColumnType::Timestamp => Some(format!("(extract(epoch from {}) * 1000)::int8", column.name)),
        _ => None,
    }
}

/// The SQL type of a history column.
fn sql_type(column: &Column) -> String {
    match column.ty {
        ColumnType::BigInt => "BIGINT",
        ColumnType::Int => "INTEGER",
        ColumnType::Timestamp => "TIMESTAMPTZ",
        _ => "TEXT",
    }
    .to_owned()
}

/// A value as SQL.
fn render(value: &Value<'_>) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::Text(text) => literal(text),
        Value::Null => "NULL".to_owned(),
        Value::Now => "now()".to_owned(),
        Value::AppliedBy => APPLIED_BY.to_owned(),
        Value::Elapsed => TX_ELAPSED_MS.to_owned(),
    }
}

fn values(assignments: &Assignments<'_>) -> String {
    columns::values(assignments, render)
}

fn set_list(assignments: &Assignments<'_>) -> String {
    columns::set_list(assignments, render)
}

/// Reads every row, the layout row included, each column under its own name.
pub(crate) fn select_history(table: &HistoryTable) -> String {
    format!("SELECT {} FROM {} ORDER BY version", columns::select_list(read_expression), table.qualified('"'))
}

/// Whether every row (but the layout row) is applied, as an aggregate.
const CLEAN: &str = "coalesce(bool_and(state = 'applied'), true)";
/// The rows' [`migrator_core::history::digest::applied_digest`], as an aggregate.
const DIGEST: &str = "encode(sha256(convert_to(coalesce(string_agg(concat_ws(chr(31), version::text, name, \
    phase, checksum, coalesce(down_checksum, '')), chr(30) ORDER BY version), ''), 'UTF8')), 'hex')";

/// The all-tenants check in one statement: for each schema of `tenants` holding `table`,
/// its layout, `clean` and `digest` (as [`select_history_expecting`] computes them), one row
/// per tenant with the table. Each tenant's table is read by `query_to_xml` (a query the
/// server builds with `format('%I')`, so no name is ever spliced into SQL text here), only
/// when `to_regclass` found it.
pub(crate) fn digest_tenants(tenants: &[String], table: &Ident) -> String {
    let names = tenants.iter().map(|t| literal(t)).collect::<Vec<_>>().join(", ");
    let name = literal(table.as_str());
    let one = format!(
        "SELECT (SELECT {STATEMENTS_TOTAL} FROM %1$I.%2$I WHERE version = {LAYOUT_ROW_VERSION}) AS layout, \
         {CLEAN} AS clean, {DIGEST} AS digest FROM %1$I.%2$I WHERE version <> {LAYOUT_ROW_VERSION}",
        STATEMENTS_TOTAL = columns::STATEMENTS_TOTAL.name,
    );
    format!(
        "WITH x AS MATERIALIZED (SELECT t.tenant, CASE WHEN to_regclass(format('%I.%I', t.tenant, {name})) IS NOT NULL \
         THEN query_to_xml(format({one}, t.tenant, {name}), false, true, '') END AS x \
         FROM unnest(ARRAY[{names}]::text[]) AS t(tenant)) \
         SELECT tenant, (xpath('/row/layout/text()', x))[1]::text::int8 AS layout, \
         (xpath('/row/clean/text()', x))[1]::text::bool AS clean, (xpath('/row/digest/text()', x))[1]::text AS digest \
         FROM x WHERE x IS NOT NULL",
        one = literal(&one),
    )
}

/// Reads the layout row and, unless every other row is applied and their digest
/// ([`migrator_core::history::digest::applied_digest`], computed here by the server) is one of
/// `expected`, every row. Each row ends with two more columns: `clean` (every row is
/// applied) and `digest`.
pub(crate) fn select_history_expecting(table: &HistoryTable, expected: &[String]) -> String {
    let q = table.qualified('"');
    let list = expected.iter().map(|d| literal(d)).collect::<Vec<_>>().join(", ");
    format!(
        "WITH d AS (SELECT {CLEAN} AS clean, {DIGEST} AS digest \
         FROM {q} WHERE version <> {LAYOUT_ROW_VERSION}) \
         SELECT {}, d.clean, d.digest FROM {q} CROSS JOIN d \
         WHERE NOT (d.clean AND d.digest IN ({list})) OR version = {LAYOUT_ROW_VERSION} ORDER BY version",
        columns::select_list(read_expression)
    )
}

/// Creates the history table (the current layout) and its layout row, if missing.
pub(crate) fn create_history(table: &HistoryTable) -> String {
    let q = table.qualified('"');
    let mut sql = String::new();
    if let Some(schema) = &table.schema {
        let _ = writeln!(sql, "CREATE SCHEMA IF NOT EXISTS {};", schema.quoted('"'));
    }
    let layout = columns::layout_row(LAYOUT);
    let _ = write!(
        sql,
        "CREATE TABLE IF NOT EXISTS {q} (\n    {}\n);\nINSERT INTO {q} ({}) VALUES ({}) ON CONFLICT (version) DO NOTHING",
        columns::definitions(sql_type),
        columns::names(&layout),
        values(&layout)
    );
    sql
}

/// The SQL that brings a table from layout `from` to the newest of `steps`, with the layout
/// row updated in the same transaction; `None` when there is nothing to do.
pub(crate) fn upgrade(table: &HistoryTable, from: i64, steps: &'static [LayoutStep]) -> Option<String> {
    let pending = columns::pending_upgrades(from, steps);
    let last = pending.last()?.layout;
    let q = table.qualified('"');
    let mut sql = String::from("BEGIN;\n");
    for column in pending.iter().flat_map(|step| step.adds) {
        let _ = writeln!(sql, "ALTER TABLE {q} ADD COLUMN IF NOT EXISTS {};", columns::definition(column, sql_type));
    }
    let _ = write!(
        sql,
        "UPDATE {q} SET {} WHERE version = {LAYOUT_ROW_VERSION} AND state = '{LAYOUT_ROW_STATE}';\nCOMMIT",
        set_list(&update::layout(last))
    );
    Some(sql)
}

/// Insert-or-replace of a history row.
pub(crate) fn upsert(table: &HistoryTable, row: &RowWrite, execution: Execution) -> String {
    upsert_values(table, &row.values(execution))
}

/// Insert-or-replace of a whole row given as its column values.
pub(crate) fn upsert_values(table: &HistoryTable, assignments: &Assignments<'_>) -> String {
    let updates: Vec<String> =
        assignments.iter().skip(1).map(|(column, _)| format!("{0} = EXCLUDED.{0}", column.name)).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (version) DO UPDATE SET {}",
        table.qualified('"'),
        columns::names(assignments),
        values(assignments),
        updates.join(", ")
    )
}

/// Changes some columns of a version's row.
pub(crate) fn update(table: &HistoryTable, version: i64, assignments: &Assignments<'_>) -> String {
    format!("UPDATE {} SET {} WHERE version = {version}", table.qualified('"'), set_list(assignments))
}

/// Deletes a version's row.
pub(crate) fn delete(table: &HistoryTable, version: i64) -> String {
    format!("DELETE FROM {} WHERE version = {version}", table.qualified('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_safe_whatever_the_settings() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"C:\temp"), r"E'C:\\temp'");
        assert_eq!(literal(r"\'; DROP TABLE x; --"), r"E'\\''; DROP TABLE x; --'");
        assert_eq!(literal("a\0b"), "'a\u{fffd}b'");
    }

    #[test]
    fn upgrades_apply_only_newer_steps_and_record_the_layout() {
        use migrator_core::history::columns::{NOTE, STATEMENTS};
        static STEPS: [LayoutStep; 2] =
            [LayoutStep { layout: 2, adds: &[STATEMENTS] }, LayoutStep { layout: 3, adds: &[NOTE] }];
        let table = HistoryTable::default();
        let sql = upgrade(&table, 2, &STEPS).unwrap();
        assert!(!sql.contains("COLUMN IF NOT EXISTS statements"), "{sql}");
        assert!(sql.contains("ALTER TABLE \"_migrator_history\" ADD COLUMN IF NOT EXISTS note TEXT;"), "{sql}");
        assert!(sql.contains("SET statements_total = 3"), "{sql}");
        assert!(sql.starts_with("BEGIN;") && sql.ends_with("COMMIT"));
        assert_eq!(upgrade(&table, 3, &STEPS), None);
        assert_eq!(upgrade(&table, 1, columns::UPGRADES), None, "layout 1 is the first");
    }

    #[test]
    fn history_sql_reads_and_writes_every_column_by_name() {
        let table = HistoryTable::default();
        let select = select_history(&table);
        assert!(select.contains("statements_total::int8 AS statements_total"), "{select}");
        assert!(select.contains("(extract(epoch from applied_at) * 1000)::int8 AS applied_at"), "{select}");
        let create = create_history(&table);
        assert!(create.contains("version BIGINT NOT NULL PRIMARY KEY"), "{create}");
        assert!(create.contains("applied_at TIMESTAMPTZ NOT NULL"), "{create}");
        assert!(create.ends_with("ON CONFLICT (version) DO NOTHING"), "{create}");
    }

    #[test]
    fn a_do_block_cannot_be_closed_by_what_it_quotes() {
        assert_eq!(do_block("BEGIN NULL; END"), "DO $migrator_fence$BEGIN NULL; END$migrator_fence$");
        let hostile = "BEGIN PERFORM 'x$migrator_fence$;DROP TABLE victim;--'; END";
        let block = do_block(hostile);
        assert_eq!(block, format!("DO $migrator_fence_1${hostile}$migrator_fence_1$"));
        let both = "$migrator_fence$ $migrator_fence_1$";
        assert!(do_block(both).starts_with("DO $migrator_fence_2$"));
    }

    #[test]
    fn settings_are_milliseconds() {
        assert_eq!(setting(Duration::from_secs(5)), "'5000ms'");
        assert_eq!(setting(Duration::ZERO), "'0ms'");
    }
}
