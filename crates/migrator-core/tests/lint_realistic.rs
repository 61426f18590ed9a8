//! Realistic, safe migration sets yield no finding at all: false positives are bugs too.
//!
//! `tests/realistic/postgres/` (58 migrations) has tables, enums (and a value added later),
//! indexes built CONCURRENTLY in no-transaction migrations (one statement each, so that every
//! other tool runs them as written too), NOT VALID constraints validated later, the
//! three-step SET NOT NULL, PL/pgSQL functions whose dollar-quoted bodies contain `BEGIN`,
//! `COMMIT`-like words and `REFRESH MATERIALIZED VIEW CONCURRENTLY`, triggers (with `WHEN`
//! and `UPDATE OF`), `BEGIN ATOMIC` bodies, a `DO` block, a partitioned table indexed
//! partition by partition, views replaced, data imported and fixed, a column renamed by
//! expand/contract (a trigger keeps both columns equal) and a table renamed behind an
//! updatable view under its old name (a hazard acknowledged with `-- migrator:allow`: the
//! only finding, and an allowed one), and contract migrations. `tests/realistic/mysql/` has
//! procedures, a function and a trigger with `BEGIN … END` bodies and online ALTERs.
//! `tests/realistic/sqlite/` has triggers with `CASE … END` in their bodies, `[…]` and
//! backtick quoting, `STRICT` and `WITHOUT ROWID` tables, a table rebuild (which keeps every
//! column, so it is not a drop) and a `VACUUM` in a no-transaction migration. The PostgreSQL
//! and SQLite sets are applied and reverted on a real database by the conformance suite
//! (`tests/tests/realistic.rs` at the workspace root).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use migrator_core::Dialect;
use migrator_core::lint::{LintOptions, lint_dir};

fn set(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realistic").join(name)
}

/// Every up script of a set, concatenated, to check that the set still has what it is for.
fn all_up_scripts(dir: &Path) -> (usize, String) {
    let mut ups: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    let text = ups.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect::<Vec<_>>().join("\n");
    (ups.len(), text)
}

#[test]
fn the_realistic_postgres_set_has_no_finding() {
    let dir = set("postgres");
    let (count, text) = all_up_scripts(&dir);
    assert!(count >= 50, "{count} migrations");
    for construct in [
        "CREATE INDEX CONCURRENTLY",
        "-- migrator:no-transaction",
        "NOT VALID",
        "VALIDATE CONSTRAINT",
        "SET NOT NULL",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY project_task_counts;\nEND",
        "no COMMIT; no ROLLBACK",
        "BEGIN ATOMIC",
        "CREATE TRIGGER",
        "AS ENUM",
        "DO $$",
        "UNIQUE USING INDEX",
        "-- migrator:phase contract",
        "ADD VALUE IF NOT EXISTS 'due_soon'",
        "CREATE OR REPLACE VIEW",
        "FOR EACH ROW\n    WHEN (",
        "RENAME TO task_comments;\nCREATE VIEW comments AS",
        "-- migrator:allow rename-table",
    ] {
        assert!(text.contains(construct), "the set no longer has `{construct}`");
    }
    let report = lint_dir(&dir, Dialect::Postgres, &LintOptions::new());
    let unacknowledged: Vec<_> = report.findings().iter().filter(|f| !f.allowed).collect();
    assert!(unacknowledged.is_empty(), "{report}");
    let allowed: Vec<_> =
        report.findings().iter().map(|f| (f.rule, f.file.rsplit('/').next().unwrap_or_default())).collect();
    assert_eq!(allowed, [("rename-table", "20260119090000_rename_comments_to_task_comments.up.sql")], "{report}");
}

#[test]
fn the_realistic_mysql_set_has_no_finding() {
    let dir = set("mysql");
    let (count, text) = all_up_scripts(&dir);
    assert!(count >= 12, "{count} migrations");
    for construct in
        ["CREATE PROCEDURE", "CREATE FUNCTION", "CREATE TRIGGER", "END WHILE", "ALGORITHM=INSTANT", "LOCK=NONE"]
    {
        assert!(text.contains(construct), "the set no longer has `{construct}`");
    }
    let report = lint_dir(&dir, Dialect::MySql, &LintOptions::new());
    assert!(report.is_empty(), "{report}");
}

#[test]
fn the_realistic_sqlite_set_has_no_finding() {
    let dir = set("sqlite");
    let (count, text) = all_up_scripts(&dir);
    assert!(count >= 12, "{count} migrations");
    for construct in [
        "CREATE TRIGGER",
        "CREATE TRIGGER IF NOT EXISTS",
        "CREATE TEMP TABLE",
        "ELSE NULL\n    END;\nEND;",
        "[notes]",
        "`body`",
        "WITHOUT ROWID",
        "STRICT",
        "DROP TABLE accounts;\nALTER TABLE accounts_new RENAME TO accounts;",
        "VACUUM;",
        "-- migrator:no-transaction",
        "-- migrator:phase contract",
    ] {
        assert!(text.contains(construct), "the set no longer has `{construct}`");
    }
    let report = lint_dir(&dir, Dialect::Sqlite, &LintOptions::new());
    assert!(report.is_empty(), "{report}");
}
