//! The hostile-input corpus (`crates/migrator-core/tests/hostile/`) through the `migrator`
//! binary: every case, in every dialect it lists, through `validate` and `lint`, and the
//! cases that load through `up` on SQLite. Each run must end within a time bound, without a
//! panic, with the exit code its expectation calls for and, when refused, an error naming
//! the case's file and the manifest's text. Non-regular files (a FIFO, a device) that used to
//! block the command forever are made here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BOUND: Duration = Duration::from_secs(30);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrator-core/tests/hostile")
}

#[derive(Debug, Clone)]
struct Case {
    path: String,
    dialects: Vec<&'static str>,
    expect: String,
    substring: String,
}

fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("manifest.txt")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let columns: Vec<&str> = line.split(" | ").map(str::trim).collect();
            let dialects = match columns[1] {
                "all" => vec!["postgres", "mysql", "sqlite"],
                list => list
                    .split(',')
                    .map(|d| match d.trim() {
                        "postgres" => "postgres",
                        "mysql" => "mysql",
                        "sqlite" => "sqlite",
                        other => panic!("unknown dialect {other} in {line}"),
                    })
                    .collect(),
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

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `cwd` with a time bound (killed and reported past it).
fn migrator(cwd: &Path, args: &[&str]) -> Result<Run, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrator"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env_remove("MIGRATOR_SOURCE")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Ok(Run { code: status.code(), stdout: out.join().unwrap(), stderr: err.join().unwrap() });
        }
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{args:?} did not end within {BOUND:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Copies a case directory (files and subdirectories; symlinks as they are).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What is wrong with one run of `case` (empty when it is right).
fn judge(case: &Case, command: &str, run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    let all = format!("{}{}", run.stdout, run.stderr);
    if all.contains("panicked") || run.code.is_none() {
        problems.push(format!("{command}: crashed: {run:?}"));
    }
    if all.len() > 1 << 20 {
        problems.push(format!("{command}: printed {} bytes", all.len()));
    }
    let expected_code = match (command, case.expect.as_str()) {
        (_, "ok") | ("validate", "deny") | ("up", "deny") => 0,
        _ => 1,
    };
    if run.code != Some(expected_code) {
        problems.push(format!("{command}: exit code {:?}, expected {expected_code}: {}", run.code, run.stderr));
    }
    if expected_code == 1 && !case.substring.is_empty() && !all.contains(&case.substring) {
        problems.push(format!("{command}: does not say `{}`: {all}", case.substring));
    }
    problems
}

#[test]
fn every_static_case_through_validate_lint_and_up() {
    let cases: Vec<Case> = manifest().into_iter().filter(|c| c.path.starts_with("cases/")).collect();
    assert!(cases.len() >= 120, "the corpus has {} file cases", cases.len());
    let work = tempfile::tempdir().unwrap();
    let chunks: Vec<Vec<Case>> = cases.chunks(cases.len().div_ceil(4)).map(<[Case]>::to_vec).collect();
    let problems: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .enumerate()
            .map(|(n, chunk)| {
                let work = work.path().join(format!("w{n}"));
                std::fs::create_dir_all(&work).unwrap();
                scope.spawn(move || {
                    let mut problems = Vec::new();
                    for case in &chunk {
                        // The manifest's texts name files as `m/…`: the case is copied to `m`.
                        let m = work.join("m");
                        let _ = std::fs::remove_dir_all(&m);
                        copy_dir(&corpus().join(&case.path), &m);
                        let dir = "m";
                        for dialect in &case.dialects {
                            let runs = [
                                ("validate", vec!["validate", "--source", dir, "--dialect", dialect]),
                                ("lint", vec!["lint", dir, "--dialect", dialect]),
                            ];
                            for (command, args) in runs {
                                match migrator(&work, &args) {
                                    Ok(run) => problems.extend(
                                        judge(case, command, &run)
                                            .into_iter()
                                            .map(|p| format!("{} ({dialect}): {p}", case.path)),
                                    ),
                                    Err(hang) => problems.push(format!("{} ({dialect}): {hang}", case.path)),
                                }
                            }
                        }
                        if case.dialects.contains(&"sqlite") && case.expect != "error" {
                            let db = work.join("db.sqlite");
                            let _ = std::fs::remove_file(&db);
                            let url = format!("sqlite://{}?mode=rwc", db.display());
                            match migrator(&work, &["up", "--database-url", &url, "--source", dir]) {
                                // Applied, or refused by SQLite itself, naming the file.
                                Ok(run) if run.code == Some(0) => {}
                                Ok(run) if run.code == Some(1) && run.stderr.contains(".up.sql") => {}
                                Ok(run) => problems.push(format!("{} (up on SQLite): {run:?}", case.path)),
                                Err(hang) => problems.push(format!("{} (up on SQLite): {hang}", case.path)),
                            }
                        }
                    }
                    problems
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// Regression: a FIFO (or a device) named like a migration blocked `validate`, `lint` and
/// `up` forever.
#[cfg(unix)]
#[test]
fn non_regular_files_are_refused_not_waited_for() {
    let work = tempfile::tempdir().unwrap();
    let fifo_dir = work.path().join("fifo");
    std::fs::create_dir(&fifo_dir).unwrap();
    let made = Command::new("mkfifo").arg(fifo_dir.join("1_a.up.sql")).status().unwrap();
    assert!(made.success(), "mkfifo");
    let device_dir = work.path().join("device");
    std::fs::create_dir(&device_dir).unwrap();
    std::os::unix::fs::symlink("/dev/zero", device_dir.join("1_a.up.sql")).unwrap();
    for dir in [&fifo_dir, &device_dir] {
        let source = dir.to_str().unwrap();
        let url = format!("sqlite://{}/db.sqlite?mode=rwc", work.path().display());
        for args in [
            vec!["validate", "--source", source, "--dialect", "sqlite"],
            vec!["lint", source, "--dialect", "sqlite"],
            vec!["up", "--database-url", &url, "--source", source],
        ] {
            let run = migrator(work.path(), &args).unwrap_or_else(|hang| panic!("{hang}"));
            assert_eq!(run.code, Some(1), "{args:?}: {run:?}");
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(all.contains("1_a.up.sql") && all.contains("not a regular file"), "{args:?}: {all}");
        }
    }
}
