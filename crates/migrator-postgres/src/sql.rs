//! SQL text for PostgreSQL: quoting, the history table, row writes.
//!
//! Values reach SQL only through [`literal`] (strings) or as integers formatted by Rust;
//! identifiers only through [`migrator_core::Ident::quoted`]. Migration scripts, history
//! writes and limits are sent together as one simple-protocol query, so nothing here uses
//! bind parameters.

use std::fmt::Write;
use std::time::Duration;

use migrator_core::history::{LAYOUT, LAYOUT_ROW_STATE, LAYOUT_ROW_VERSION};
use migrator_core::{HistoryTable, RowWrite, StatementRecord};

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

fn opt_literal(text: Option<&str>) -> String {
    text.map_or_else(|| "NULL".to_owned(), literal)
}

/// A duration as a PostgreSQL setting value (`'1500ms'`; zero means no limit).
pub(crate) fn setting(duration: Duration) -> String {
    format!("'{}ms'", duration.as_millis())
}

/// Who applied a row: database user, client host and application name.
pub(crate) const APPLIED_BY: &str = "current_user || coalesce('@' || host(inet_client_addr()), '@local') \
    || coalesce(' (' || nullif(current_setting('application_name'), '') || ')', '')";

/// Milliseconds since the transaction started (the body's duration, measured by the server).
pub(crate) const TX_ELAPSED_MS: &str = "(extract(epoch from clock_timestamp() - now()) * 1000)::int8";

/// The history columns, in the order [`read_columns`] selects them.
pub(crate) fn read_columns() -> &'static str {
    "version, name, phase, state, checksum, down_checksum, applied_rank, statements_total::int8, \
     statements_done::int8, statements, failed_statement::int8, failed_line::int8, error, \
     (extract(epoch from applied_at) * 1000)::int8, execution_ms, applied_by, note"
}

/// Reads every row, the layout row included.
pub(crate) fn select_history(table: &HistoryTable) -> String {
    format!("SELECT {} FROM {} ORDER BY version", read_columns(), table.qualified('"'))
}

/// Reads the layout row and, unless every other row is applied and their digest
/// ([`migrator_core::history::applied_digest`], computed here by the server) is one of
/// `expected`, every row. Each row ends with two more columns: whether all rows are applied,
/// and the digest.
pub(crate) fn select_history_expecting(table: &HistoryTable, expected: &[String]) -> String {
    let q = table.qualified('"');
    let list = expected.iter().map(|d| literal(d)).collect::<Vec<_>>().join(", ");
    format!(
        "WITH d AS (SELECT coalesce(bool_and(state = 'applied'), true) AS clean, \
         encode(sha256(convert_to(coalesce(string_agg(concat_ws(chr(31), version::text, name, phase, checksum, \
         coalesce(down_checksum, '')), chr(30) ORDER BY version), ''), 'UTF8')), 'hex') AS digest \
         FROM {q} WHERE version <> {LAYOUT_ROW_VERSION}) \
         SELECT {}, d.clean, d.digest FROM {q} CROSS JOIN d \
         WHERE NOT (d.clean AND d.digest IN ({list})) OR version = {LAYOUT_ROW_VERSION} ORDER BY version",
        read_columns()
    )
}

/// Creates the history table (layout 1) and its layout row, if missing.
pub(crate) fn create_history(table: &HistoryTable) -> String {
    let q = table.qualified('"');
    let mut sql = String::new();
    if let Some(schema) = &table.schema {
        let _ = writeln!(sql, "CREATE SCHEMA IF NOT EXISTS {};", schema.quoted('"'));
    }
    let _ = write!(
        sql,
        "CREATE TABLE IF NOT EXISTS {q} (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    state TEXT NOT NULL,
    checksum TEXT NOT NULL,
    down_checksum TEXT,
    applied_rank BIGINT NOT NULL,
    statements_total INTEGER NOT NULL,
    statements_done INTEGER NOT NULL,
    statements TEXT,
    failed_statement INTEGER,
    failed_line INTEGER,
    error TEXT,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    execution_ms BIGINT,
    applied_by TEXT NOT NULL,
    note TEXT
);
INSERT INTO {q} (version, name, phase, state, checksum, applied_rank, statements_total, statements_done, applied_by, note)
VALUES ({LAYOUT_ROW_VERSION}, 'migrator history layout', 'expand', '{LAYOUT_ROW_STATE}', '', 0, {LAYOUT}, 0, {APPLIED_BY}, \
'layout of this table; do not delete')
ON CONFLICT (version) DO NOTHING"
    );
    sql
}

/// In-place upgrades of the history table: `(layout it produces, SQL)`, in order. Layout 1
/// is the first; a release that changes the table appends a step here (and bumps
/// `migrator_core::history::LAYOUT`), so older tables are upgraded under the lock.
pub(crate) const UPGRADES: &[(i64, &str)] = &[];

/// The SQL that brings a table from layout `from` to the newest of `steps`, with the layout
/// row updated in the same transaction; `None` when there is nothing to do. `{table}` in a
/// step stands for the quoted table name.
pub(crate) fn upgrade(table: &HistoryTable, from: i64, steps: &[(i64, &str)]) -> Option<String> {
    let pending: Vec<&(i64, &str)> = steps.iter().filter(|(to, _)| *to > from).collect();
    let last = pending.last()?.0;
    let q = table.qualified('"');
    let mut sql = String::from("BEGIN;\n");
    for (_, step) in &pending {
        sql.push_str(&step.replace("{table}", &q));
        sql.push_str(";\n");
    }
    let _ = write!(
        sql,
        "UPDATE {q} SET statements_total = {last}, applied_at = now() WHERE version = {LAYOUT_ROW_VERSION} AND state = '{LAYOUT_ROW_STATE}';\nCOMMIT"
    );
    Some(sql)
}

/// Insert-or-replace of a history row. `execution_ms` is SQL (a number, `NULL`, or
/// [`TX_ELAPSED_MS`]).
pub(crate) fn upsert(table: &HistoryTable, row: &RowWrite, execution_ms: &str) -> String {
    let statements = if row.statements.is_empty() { None } else { Some(StatementRecord::encode(&row.statements)) };
    format!(
        "INSERT INTO {q} (version, name, phase, state, checksum, down_checksum, applied_rank, statements_total, \
         statements_done, statements, failed_statement, failed_line, error, applied_at, execution_ms, applied_by, note) \
         VALUES ({version}, {name}, {phase}, {state}, {checksum}, {down}, {rank}, {total}, {done}, {statements}, NULL, NULL, \
         NULL, now(), {execution_ms}, {APPLIED_BY}, {note}) \
         ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, phase = EXCLUDED.phase, state = EXCLUDED.state, \
         checksum = EXCLUDED.checksum, down_checksum = EXCLUDED.down_checksum, applied_rank = EXCLUDED.applied_rank, \
         statements_total = EXCLUDED.statements_total, statements_done = EXCLUDED.statements_done, \
         statements = EXCLUDED.statements, failed_statement = NULL, failed_line = NULL, error = NULL, \
         applied_at = EXCLUDED.applied_at, execution_ms = EXCLUDED.execution_ms, applied_by = EXCLUDED.applied_by, \
         note = EXCLUDED.note",
        q = table.qualified('"'),
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
        "UPDATE {} SET statements_done = {done}, applied_at = now() WHERE version = {version}",
        table.qualified('"')
    )
}

/// Marks a stepwise up step applied.
pub(crate) fn mark_applied(table: &HistoryTable, version: i64, total: usize, execution_ms: u128) -> String {
    format!(
        "UPDATE {} SET state = 'applied', statements_done = {total}, failed_statement = NULL, failed_line = NULL, \
         error = NULL, applied_at = now(), execution_ms = {execution_ms}, applied_by = {APPLIED_BY} WHERE version = {version}",
        table.qualified('"')
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
         applied_at = now(), applied_by = {APPLIED_BY} WHERE version = {version}",
        table.qualified('"'),
        literal(state),
        statement.saturating_sub(1),
        line.map_or_else(|| "NULL".to_owned(), |l| l.to_string()),
        literal(error),
    )
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
        assert_eq!(opt_literal(None), "NULL");
    }

    #[test]
    fn upgrades_apply_only_newer_steps_and_record_the_layout() {
        let table = HistoryTable::default();
        let steps = [(2, "ALTER TABLE {table} ADD COLUMN a TEXT"), (3, "ALTER TABLE {table} ADD COLUMN b TEXT")];
        let sql = upgrade(&table, 2, &steps).unwrap();
        assert!(!sql.contains("COLUMN a"));
        assert!(sql.contains("ALTER TABLE \"_migrator_history\" ADD COLUMN b TEXT;"));
        assert!(sql.contains("SET statements_total = 3"));
        assert!(sql.starts_with("BEGIN;") && sql.ends_with("COMMIT"));
        assert_eq!(upgrade(&table, 3, &steps), None);
        assert_eq!(upgrade(&table, 1, UPGRADES), None, "layout 1 is the first");
    }

    #[test]
    fn settings_are_milliseconds() {
        assert_eq!(setting(Duration::from_secs(5)), "'5000ms'");
        assert_eq!(setting(Duration::ZERO), "'0ms'");
    }
}
