//! Time, memory and output grow linearly with the input: a hostile file never makes loading,
//! linting or the report blow up.
//!
//! Each case runs in a thread with a generous time bound, so a regression to quadratic
//! behaviour fails here instead of hanging the suite (the bound is far above the linear
//! cost, which is well under a second in a release build).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use migrator_core::Dialect;
use migrator_core::lint::{LintOptions, LintReport, check_dir};
use migrator_core::source::load_dir;

/// The tests that compare timings run one at a time.
static TIMING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` in a thread and fails if it takes longer than `limit`.
fn within<T: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!("{what} took longer than {limit:?}"),
    }
}

fn write_dir(file: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), text).unwrap();
    dir
}

fn lint(dir: &Path, dialect: Dialect) -> LintReport {
    check_dir(dir, "m", dialect, &LintOptions::new()).report()
}

/// `migrator lint` on a 480 KB line of 20,000 `DROP TABLE IF EXISTS zz;` took 279 s and
/// 18.7 GB and printed 14.4 GB: every finding copied and printed the whole line, and each
/// column was counted from the start of the line.
#[test]
fn twenty_thousand_findings_on_one_line_stay_linear() {
    let dir = write_dir("1_drop.up.sql", &"DROP TABLE IF EXISTS zz;".repeat(20_000));
    let path = dir.path().to_owned();
    let (findings, listed, every) = within(Duration::from_secs(20), "linting 20,000 statements", move || {
        let report = lint(&path, Dialect::Postgres);
        let every: usize = report.findings().iter().map(|f| f.to_string().len()).sum();
        (report.findings().len(), report.to_string(), every)
    });
    // 20,000 drop-table findings and the missing down script.
    assert_eq!(findings, 20_001);
    assert!(listed.len() < 200_000, "the human report is {} bytes", listed.len());
    assert!(
        listed.contains("… and 19951 more findings (run `migrator lint --all` for all)"),
        "{}",
        &listed[listed.len() - 300..]
    );
    // Every finding printed one by one (as `migrator lint` does): about 600 bytes each.
    assert!(every < 20_001 * 1_000, "all findings print {every} bytes");
}

/// Validation and `up` load a directory the same way: 5,000 statements on a line took
/// about 600 MB.
#[test]
fn loading_a_long_line_stays_linear() {
    let dir = write_dir("1_drop.up.sql", &"DROP TABLE IF EXISTS zz;".repeat(20_000));
    let path = dir.path().to_owned();
    let loaded = within(Duration::from_secs(20), "loading 20,000 statements", move || {
        load_dir(&path, "m", Dialect::Postgres).map(|m| m.len())
    });
    assert_eq!(loaded, Ok(1));
}

/// Scaling check: four times the input must not take much more than four times as long.
#[test]
fn lint_time_grows_linearly() {
    let time = |n: usize| {
        let dir = write_dir("1_drop.up.sql", &"ALTER TABLE t DROP COLUMN c;".repeat(n));
        let start = Instant::now();
        let report = lint(dir.path(), Dialect::Postgres);
        assert_eq!(report.findings().len(), n + 1);
        start.elapsed()
    };
    let _alone = TIMING.lock();
    let small = time(1_000).max(Duration::from_millis(20));
    let large = time(16_000);
    // Linear gives 16x, quadratic 256x: the bound leaves room for a loaded machine.
    assert!(large < small * 64, "1,000 statements: {small:?}, 16,000: {large:?}");
}

/// `identifier-too-long` remembered the names it reported in a list: a statement with tens
/// of thousands of distinct long names cost a comparison with each earlier one.
#[test]
fn many_distinct_long_names_in_one_statement_stay_linear() {
    let time = |n: usize| {
        let columns: Vec<String> = (0..n).map(|k| format!("{}_{k:05}", "c".repeat(64))).collect();
        let dir = write_dir("1_wide.up.sql", &format!("CREATE TABLE t ({} bigint);\n", columns.join(" bigint, ")));
        let path = dir.path().to_owned();
        let start = Instant::now();
        let findings = within(Duration::from_secs(20), "linting long names", move || {
            lint(&path, Dialect::Postgres).findings().iter().filter(|f| f.rule == "identifier-too-long").count()
        });
        assert_eq!(findings, n);
        start.elapsed()
    };
    let _alone = TIMING.lock();
    let small = time(2_500).max(Duration::from_millis(20));
    let large = time(40_000);
    // Linear gives 16x, quadratic 256x.
    assert!(large < small * 64, "2,500 names: {small:?}, 40,000: {large:?}");
}

/// A directory tree is listed once, each directory's entries found in its own subtree: ten
/// thousand diesel migrations, or ten thousand empty subdirectories beside Flyway files,
/// load in time that grows with the tree, not with its square.
#[test]
fn many_directories_stay_linear() {
    let diesel = tempfile::tempdir().unwrap();
    for n in 0..10_000u64 {
        let sub = diesel.path().join(format!("2019-02-26-{:06}_m{n}", n));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("up.sql"), format!("CREATE TABLE t{n} (id bigint PRIMARY KEY);\n")).unwrap();
    }
    let path = diesel.path().to_owned();
    let loaded = within(Duration::from_secs(60), "loading 10,000 diesel migrations", move || {
        load_dir(&path, "m", Dialect::Postgres).map(|m| m.len())
    });
    assert_eq!(loaded, Ok(10_000));

    let flyway = tempfile::tempdir().unwrap();
    for n in 0..10_000u64 {
        std::fs::create_dir(flyway.path().join(format!("empty{n}"))).unwrap();
    }
    std::fs::write(flyway.path().join("V1__a.sql"), "CREATE TABLE a (id bigint PRIMARY KEY);\n").unwrap();
    std::fs::write(flyway.path().join("R__views.sql"), "CREATE VIEW v AS SELECT 1;\n").unwrap();
    let path = flyway.path().to_owned();
    let loaded = within(Duration::from_secs(60), "listing 10,000 subdirectories", move || {
        load_dir(&path, "m", Dialect::Postgres).map(|m| m.len())
    });
    assert_eq!(loaded, Ok(1));
}
