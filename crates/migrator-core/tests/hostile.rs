//! The hostile corpus, `tests/hostile/`: every case of `manifest.txt` goes through
//! `load_dir` and `check_dir` for each of its dialects, in a thread with a time bound.
//!
//! Each must not panic or hang, and must end as the manifest says: `ok` (loads, and nothing
//! fails the compile-time check), `deny` (loads, but a deny finding fails the build) or
//! `error` (refused at load time, with a fatal finding in the lint report), with the
//! manifest's text in an error. Every error names the directory or a file in it, and a line
//! only inside an existing file; every finding's excerpt is bounded and printable; the human
//! report stays small. Cases under `generated/` are built here (FIFOs, sockets, symlinks,
//! huge inputs), as the manifest's header describes. The macro crate runs the same corpus
//! through its own checks, and the CLI's tests can read the same manifest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use migrator_core::lint::{Level, LintOptions, check_dir};
use migrator_core::source::load_dir;
use migrator_core::{Dialect, LoadError};

const LIMIT: Duration = Duration::from_secs(10);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// One row of the manifest.
#[derive(Debug, Clone)]
struct Case {
    path: String,
    dialects: Vec<Dialect>,
    expect: String,
    substring: String,
}

fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("manifest.txt")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let columns: Vec<&str> = line.split(" | ").map(str::trim).collect();
            assert!(columns.len() >= 3, "bad manifest line: {line}");
            let dialects = match columns[1] {
                "all" => vec![Dialect::Postgres, Dialect::MySql, Dialect::Sqlite],
                list => list.split(',').map(|d| Dialect::from_id(d.trim()).unwrap()).collect(),
            };
            Case {
                path: columns[0].to_owned(),
                dialects,
                expect: columns[2].to_owned(),
                substring: columns.get(3).copied().unwrap_or("").to_owned(),
            }
        })
        .collect()
}

const UP: &str = "CREATE TABLE t (id bigint PRIMARY KEY);\n";
const DOWN: &str = "DROP TABLE t;\n";

fn write(dir: &Path, file: &str, text: impl AsRef<[u8]>) {
    std::fs::write(dir.join(file), text).unwrap();
}

/// Builds a `generated/<name>` case in a fresh temporary directory; returns the directory to
/// load (the tempdir must outlive the check) and anything that must stay alive with it.
fn generate(name: &str) -> (tempfile::TempDir, PathBuf, Option<std::os::unix::net::UnixListener>) {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    std::fs::create_dir(&dir).unwrap();
    let mkfifo = |path: &Path| assert!(std::process::Command::new("mkfifo").arg(path).status().unwrap().success());
    let mut keep = None;
    match name {
        "fifo" => mkfifo(&dir.join("1_a.up.sql")),
        "symlink-to-fifo" => {
            mkfifo(&dir.join("pipe"));
            symlink(dir.join("pipe"), dir.join("1_a.up.sql")).unwrap();
        }
        "socket" => keep = Some(std::os::unix::net::UnixListener::bind(dir.join("1_a.up.sql")).unwrap()),
        "symlink-to-device" => symlink("/dev/zero", dir.join("1_a.up.sql")).unwrap(),
        "symlink-to-file" => {
            write(&dir, "real.txt", UP);
            symlink(dir.join("real.txt"), dir.join("1_a.up.sql")).unwrap();
            write(&dir, "1_a.down.sql", DOWN);
        }
        "symlink-to-directory" => {
            write(&dir, "1_a.up.sql", UP);
            write(&dir, "1_a.down.sql", DOWN);
            std::fs::create_dir(dir.join("real")).unwrap();
            symlink(dir.join("real"), dir.join("2_b.up.sql")).unwrap();
        }
        "symlink-broken" => symlink(dir.join("nowhere"), dir.join("1_a.up.sql")).unwrap(),
        "symlink-loop" => {
            symlink(dir.join("2_b.up.sql"), dir.join("1_a.up.sql")).unwrap();
            symlink(dir.join("1_a.up.sql"), dir.join("2_b.up.sql")).unwrap();
        }
        "file-over-64-mib" => {
            let file = std::fs::File::create(dir.join("1_a.up.sql")).unwrap();
            file.set_len(migrator_core::source::MAX_FILE_BYTES + 1).unwrap();
        }
        "missing-directory" => {
            std::fs::remove_dir(&dir).unwrap();
        }
        "directory-is-a-file" => {
            std::fs::remove_dir(&dir).unwrap();
            write(tmp.path(), "m", UP);
        }
        "empty-directory" => {}
        "control-character-in-file-name" => write(&dir, "1_a\u{1b}[31m.up.sql", UP),
        "non-utf8-file-name" => {
            use std::os::unix::ffi::OsStrExt;
            std::fs::write(dir.join(std::ffi::OsStr::from_bytes(b"1_a\xff.up.sql")), UP).unwrap();
        }
        "twenty-thousand-findings-on-one-line" => write(&dir, "1_a.up.sql", "DROP TABLE IF EXISTS zz;".repeat(20_000)),
        "deep-parentheses" => {
            write(&dir, "1_a.up.sql", format!("{UP}SELECT {}1{};\n", "(".repeat(10_000), ")".repeat(10_000)));
            write(&dir, "1_a.down.sql", DOWN);
        }
        "deep-nested-comments" => {
            write(&dir, "1_a.up.sql", format!("{}{}\n{UP}", "/*".repeat(10_000), "*/".repeat(10_000)));
            write(&dir, "1_a.down.sql", DOWN);
        }
        "unterminated-deep-comments" => write(&dir, "1_a.up.sql", format!("{}*/\n{UP}", "/*".repeat(10_000))),
        "deep-mysql-blocks" => {
            let body = format!("{}SELECT 1; {}END;\n", "BEGIN ".repeat(2_000), "END; ".repeat(1_999));
            write(&dir, "1_a.up.sql", format!("CREATE PROCEDURE p() {body}"));
            write(&dir, "1_a.down.sql", "DROP PROCEDURE p;\n");
        }
        "megabyte-string-literal" => {
            let literal = "x".repeat(1_000_000);
            write(&dir, "1_a.up.sql", format!("CREATE TABLE t (id bigint PRIMARY KEY, s text DEFAULT '{literal}');\n"));
            write(&dir, "1_a.down.sql", DOWN);
        }
        "megabyte-comment-line" => {
            write(&dir, "1_a.up.sql", format!("-- {}\n{UP}", "x".repeat(1_000_000)));
            write(&dir, "1_a.down.sql", DOWN);
        }
        "ten-thousand-directive-errors" => {
            write(&dir, "1_a.up.sql", format!("{}{UP}", "-- migrator:bogus\n".repeat(10_000)))
        }
        "two-thousand-migrations" => {
            for n in 1..=2000 {
                write(&dir, &format!("{n}_m.up.sql"), format!("CREATE TABLE t{n} (id bigint PRIMARY KEY);\n"));
                write(&dir, &format!("{n}_m.down.sql"), format!("DROP TABLE t{n};\n"));
            }
        }
        "many-statements-one-per-line" => {
            write(&dir, "1_a.up.sql", format!("{UP}{}", "SELECT 1;\n".repeat(20_000)));
            write(&dir, "1_a.down.sql", DOWN);
        }
        other => panic!("no generator for generated/{other}"),
    }
    (tmp, dir, keep)
}

/// What loading and linting one case gave.
struct Outcome {
    loaded: Result<usize, Vec<LoadError>>,
    fatal: bool,
    failures: Vec<String>,
    findings: Vec<(String, usize, Option<String>, usize)>,
    human: String,
}

fn run(dir: PathBuf, dialect: Dialect) -> Result<Outcome, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let loaded = load_dir(&dir, "m", dialect).map(|m| m.len());
        let report = check_dir(&dir, "m", dialect, &LintOptions::new()).report();
        let outcome = Outcome {
            loaded,
            fatal: report.findings().iter().any(|f| f.level == Level::Fatal),
            failures: report.failures().map(ToString::to_string).collect(),
            findings: report
                .findings()
                .iter()
                .map(|f| (f.file.clone(), f.line, f.source_line.clone(), f.source_column))
                .collect(),
            human: report.to_string(),
        };
        let _ = tx.send(outcome);
    });
    match rx.recv_timeout(LIMIT) {
        Ok(outcome) => Ok(outcome),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("took longer than {LIMIT:?}")),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("panicked".to_owned()),
    }
}

/// Lines of a file as the loader counts them (`\n`, `\r\n` and a lone `\r` end one).
fn line_count(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    text.split('\n').count()
        + text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l).matches('\r').count()).sum::<usize>()
}

/// Checks one outcome against its case; returns what is wrong.
fn judge(case: &Case, dir: &Path, outcome: &Outcome) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut counted = std::collections::HashMap::new();
    let mut line_count = |path: PathBuf| *counted.entry(path.clone()).or_insert_with(|| line_count(&path));
    let names_a_file = |path: &str| path == "m" || path.starts_with("m/");
    if let Err(errors) = &outcome.loaded {
        for e in errors {
            if !names_a_file(&e.path) {
                wrong.push(format!("an error names no file of the directory: {e}"));
            }
            if let Some(line) = e.line {
                let file = dir.join(e.path.trim_start_matches("m/"));
                let lines = line_count(file);
                if e.path == "m" || line == 0 || line > lines {
                    wrong.push(format!("line {line} is not in {} ({lines} lines): {e}", e.path));
                }
            }
            if e.message.chars().any(|c| c.is_control()) {
                wrong.push(format!("a control character in {:?}", e.message));
            }
        }
    }
    for (file, line, source, column) in &outcome.findings {
        if !names_a_file(file) {
            wrong.push(format!("a finding names no file of the directory: {file}"));
        }
        if *line > 0 && file != "m" && *line > line_count(dir.join(file.trim_start_matches("m/"))) {
            wrong.push(format!("finding line {line} is not in {file}"));
        }
        if let Some(source) = source {
            if source.chars().count() > 122 || source.chars().any(|c| c.is_control() && c != '\t') {
                wrong.push(format!("an unbounded or unprintable excerpt: {source:?}"));
            }
            if *column == 0 || *column > source.chars().count() + 1 {
                wrong.push(format!("caret column {column} outside {source:?}"));
            }
        }
    }
    if outcome.human.len() > 200_000 {
        wrong.push(format!("the human report is {} bytes", outcome.human.len()));
    }
    let has = |texts: &[String]| case.substring.is_empty() || texts.iter().any(|t| t.contains(&case.substring));
    match (case.expect.as_str(), &outcome.loaded) {
        ("ok", Ok(_)) if outcome.failures.is_empty() => {}
        ("ok", Ok(_)) => wrong.push(format!("loads, but fails the build:\n{}", outcome.failures.join("\n"))),
        ("deny", Ok(_)) => {
            if outcome.failures.is_empty() || outcome.fatal {
                wrong.push(format!("expected deny findings only, got fatal={} {:?}", outcome.fatal, outcome.failures));
            } else if !has(&outcome.failures) {
                wrong.push(format!(
                    "no failing finding contains {:?}:\n{}",
                    case.substring,
                    outcome.failures.join("\n")
                ));
            }
        }
        ("error", Err(errors)) => {
            let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
            if !has(&texts) {
                wrong.push(format!("no error contains {:?}:\n{}", case.substring, texts.join("\n")));
            }
            if !outcome.fatal {
                wrong.push("refused at load time, but the lint report has no fatal finding".to_owned());
            }
        }
        (expect, Ok(count)) => wrong.push(format!("expected {expect}, but {count} migration(s) loaded")),
        (expect, Err(errors)) => wrong.push(format!(
            "expected {expect}, but loading failed:\n{}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        )),
    }
    wrong
}

#[test]
fn the_manifest_has_at_least_120_cases_and_every_case_directory_is_listed() {
    let cases = manifest();
    assert!(cases.len() >= 120, "{} cases", cases.len());
    let listed: Vec<&str> = cases.iter().map(|c| c.path.as_str()).collect();
    for entry in std::fs::read_dir(corpus().join("cases")).unwrap() {
        let name = format!("cases/{}", entry.unwrap().file_name().to_string_lossy());
        assert!(listed.contains(&name.as_str()), "{name} is not in the manifest");
    }
    for case in &cases {
        assert!(matches!(case.expect.as_str(), "ok" | "deny" | "error"), "{case:?}");
        assert!(case.expect == "ok" || !case.substring.is_empty(), "{case:?} needs a substring");
        if case.path.starts_with("cases/") {
            assert!(corpus().join(&case.path).is_dir(), "{} does not exist", case.path);
        }
    }
}

#[test]
fn every_hostile_case_loads_or_fails_naming_the_file_without_hanging() {
    let mut failures = Vec::new();
    let mut runs = 0;
    for case in manifest() {
        for &dialect in &case.dialects {
            let (_tmp, dir, _keep) = match case.path.strip_prefix("generated/") {
                Some(name) => {
                    let (tmp, dir, keep) = generate(name);
                    (Some(tmp), dir, keep)
                }
                None => (None, corpus().join(&case.path), None),
            };
            runs += 1;
            match run(dir.clone(), dialect) {
                Err(why) => failures.push(format!("{} ({}): {why}", case.path, dialect.id())),
                Ok(outcome) => {
                    for wrong in judge(&case, &dir, &outcome) {
                        failures.push(format!("{} ({}): {wrong}", case.path, dialect.id()));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {runs} runs failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
