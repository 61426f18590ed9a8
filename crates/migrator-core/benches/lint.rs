//! How long the linter takes on 1,000 statements (100 migrations of 10 statements: tables,
//! columns, indexes, constraints, functions with dollar-quoted bodies, data changes, a few
//! hazards).
//!
//! Run with `cargo bench -p migrator-core --bench lint`; it prints the median of 50 runs of
//! the engine alone (scripts already split) and of `lint_dir` (reading and splitting the
//! files, then linting). Without `--bench` (`cargo test --benches`) it runs once, as a smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use migrator_core::Dialect;
use migrator_core::lint::{LintOptions, lint_dir, lint_migrations};
use migrator_core::source::load_dir_with;

const MIGRATIONS: usize = 100;

fn migration(i: usize) -> String {
    format!(
        "CREATE TABLE t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, note varchar(40), created_at timestamptz NOT NULL DEFAULT now());
ALTER TABLE t{i} ADD COLUMN score integer NOT NULL DEFAULT 0;
CREATE INDEX t{i}_name ON t{i} (name);
ALTER TABLE users ADD COLUMN c{i} text;
ALTER TABLE orders ADD CONSTRAINT orders_c{i} CHECK (total >= {i}) NOT VALID;
CREATE FUNCTION f{i}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now(); -- no COMMIT here
  RETURN NEW;
END $$;
CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION f{i}();
INSERT INTO t{i} (name) VALUES ('a'), ('b'), ('c');
UPDATE orders SET note = 'x' WHERE id BETWEEN {i} AND {i} + 1000;
ALTER TABLE orders ALTER COLUMN note TYPE text;
"
    )
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let runs = if bench { 50 } else { 1 };
    let dir = tempfile::tempdir().expect("temporary directory");
    for i in 1..=MIGRATIONS {
        std::fs::write(dir.path().join(format!("{i}_m{i}.up.sql")), migration(i)).expect("write a migration");
        std::fs::write(dir.path().join(format!("{i}_m{i}.down.sql")), format!("DROP TABLE t{i};\n"))
            .expect("write a down script");
    }
    let options = LintOptions::new();
    let loaded = load_dir_with(dir.path(), "bench", Dialect::Postgres, &options).expect("the bench set loads");
    let migrations: Vec<_> = loaded.iter().map(|l| &l.migration).collect();
    let statements: usize = migrations.iter().map(|m| m.up_script().statements().map_or(0, <[_]>::len)).sum();
    assert_eq!(statements, 1_000);

    let mut engine = Vec::new();
    let mut findings = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let report = lint_migrations(migrations.iter().copied(), &options);
        engine.push(start.elapsed());
        findings = report.findings().len();
    }
    let mut whole = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let report = lint_dir(dir.path(), Dialect::Postgres, &options);
        whole.push(start.elapsed());
        assert_eq!(report.findings().len(), findings);
    }
    // Each migration: a varchar(40) (warn), a type change on a column of a table these
    // migrations did not create (deny) and a schema change next to a data change (warn). The
    // index is on a table created in the same migration, so it is exempt.
    assert_eq!(findings, 3 * MIGRATIONS);
    println!(
        "lint of {statements} statements in {MIGRATIONS} migrations ({findings} findings): engine {:?}, lint_dir (read, split, lint) {:?} (median of {runs})",
        median(engine),
        median(whole)
    );
}
