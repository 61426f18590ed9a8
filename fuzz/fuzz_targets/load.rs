//! Fuzzes the whole load path: bytes of a file, written into a migrations directory, then
//! loaded (file reading, UTF-8, directives, splitting, the no-statement rule) and linted.
//!
//! The first input byte picks the dialect and the file's name (an up script, a down script
//! beside a fixed up script, or a name from a small list that includes case variants and
//! backups); the rest is the file's bytes, unchanged (invalid UTF-8 and NUL bytes included).
//!
//! Checks: no panic; `load_dir` and `check_dir` agree (the loader fails exactly when the lint
//! report has a fatal finding); every load error names a file of the directory (or the
//! directory), its line exists in the file and its column in the line; every finding's
//! position is inside the file, its source excerpt is at most about 120 characters with no
//! control character, and the human report stays small (the first 50 findings are listed).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use migrator_core::Dialect;
use migrator_core::lint::{Level, LintOptions, check_dir};
use migrator_core::source::load_dir;

const NAMES: &[&str] = &[
    "1_a.up.sql",
    "2_b.down.sql",
    "1_a.UP.SQL",
    "1_a.up.sql.bak",
    "1_a.up.sql~",
    "1a.up.sql",
    "x_a.up.sql",
    "1_A.up.sql",
    // Other layouts' names: sqlx's or goose's (by its text), refinery's or Flyway's, a
    // repeatable migration.
    "1_a.sql",
    "V1__a.sql",
    "R__a.sql",
];

/// One directory per fuzzing process, emptied for every input.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("migrator-fuzz-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let dialect = match selector % 3 {
        0 => Dialect::Postgres,
        1 => Dialect::MySql,
        _ => Dialect::Sqlite,
    };
    let name = NAMES[usize::from(selector / 3) % NAMES.len()];
    let dir = dir();
    for entry in std::fs::read_dir(dir).expect("the directory lists").flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    if name.starts_with("2_b.down") {
        std::fs::write(dir.join("2_b.up.sql"), "SELECT 1;\n").expect("writes");
    }
    std::fs::write(dir.join(name), bytes).expect("writes");
    check(dir, name, bytes, dialect);
});

fn check(dir: &PathBuf, name: &str, bytes: &[u8], dialect: Dialect) {
    let text = String::from_utf8_lossy(bytes);
    let line_count = text.split('\n').count() + text.matches('\r').count();
    let shown = |file: &str| format!("m/{file}");
    let loaded = load_dir(dir, "m", dialect);
    let checked = check_dir(dir, "m", dialect, &LintOptions::new());
    let report = checked.report();
    let fatal = report.findings().iter().any(|f| f.level == Level::Fatal);
    assert_eq!(loaded.is_err(), fatal, "load_dir and the lint report disagree:\n{report}");
    if let Err(errors) = &loaded {
        for e in errors {
            assert!(e.path == "m" || e.path.starts_with("m/"), "error names no file: {e}");
            if let Some(line) = e.line {
                assert!(line >= 1 && line <= line_count + 1, "line {line} of {line_count}: {e}");
                assert_eq!(e.path, shown(name), "a line in another file: {e}");
            }
            assert!(!e.message.is_empty());
        }
    }
    for f in report.findings() {
        assert!(f.file == "m" || f.file.starts_with("m/"), "{f}");
        if f.line == 0 {
            assert_eq!(f.column, 0, "{f}");
        } else {
            assert!(f.line <= line_count + 1 && f.column >= 1, "{f}");
        }
        if let Some(source) = &f.source_line {
            assert!(source.chars().count() <= 122, "an excerpt of {} chars", source.chars().count());
            assert!(!source.chars().any(|c| c.is_control() && c != '\t'), "{source:?}");
            assert!(f.source_column >= 1 && f.source_column <= source.chars().count() + 1, "{f}");
        }
    }
    // The human report lists at most 50 findings of bounded size each.
    let human = report.to_string();
    assert!(human.len() < 50 * 2_000 + 1_000, "a human report of {} bytes", human.len());
}
