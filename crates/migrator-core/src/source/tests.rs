//! Tests of file names and directory loading.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::entry::LayoutFile;
use super::*;
use crate::dialect::Dialect;
use crate::directive::ScriptKind;
use crate::version::Version;
use std::path::Path;

fn name_error(file: &str) -> String {
    parse_file_name(file).unwrap().unwrap_err()
}

#[test]
fn file_names() {
    let parsed = parse_file_name("20261120093000_add_users.up.sql").unwrap().unwrap();
    assert_eq!(parsed.version.get(), 20261120093000);
    assert_eq!(parsed.name, "add_users");
    assert_eq!(parsed.kind, ScriptKind::Up);
    assert_eq!(parse_file_name("0002_x.down.sql").unwrap().unwrap().kind, ScriptKind::Down);
    assert!(parse_file_name("README.md").is_none());
    assert!(parse_file_name(".1_x.up.sql").is_none());
    assert!(name_error("1_init.sql").contains("name it `1_init.up.sql`"));
    assert!(name_error("init.up.sql").contains("no `_`"));
    assert!(name_error("x1_init.up.sql").contains("digits only"));
    assert!(name_error("0_init.up.sql").contains("positive"));
    assert!(name_error("1_Init.up.sql").contains("`I` is not allowed"));
    assert!(name_error("1_.up.sql").contains("needs a name"));
}

fn write(dir: &Path, name: &str, text: &[u8]) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn loads_a_directory_in_version_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "2_b.up.sql", b"CREATE TABLE b ();");
    write(dir.path(), "1_a.up.sql", b"CREATE TABLE a ();");
    write(dir.path(), "1_a.down.sql", b"DROP TABLE a;");
    write(dir.path(), "README.md", b"notes");
    let loaded = load_dir(dir.path(), "migrations", Dialect::Postgres).unwrap();
    let versions: Vec<i64> =
        loaded.iter().map(|l| crate::Migration::<()>::meta(&l.migration).version().get()).collect();
    assert_eq!(versions, vec![1, 2]);
    assert_eq!(loaded[0].migration.up_script().path(), "migrations/1_a.up.sql");
    assert!(loaded[0].down_file.as_ref().unwrap().is_absolute());
    assert_eq!(loaded[1].migration.up_script().path(), "migrations/2_b.up.sql");
    assert!(loaded[1].migration.down_script().is_none());
}

#[test]
fn collects_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", b"SELECT 1;");
    write(dir.path(), "1_b.up.sql", b"SELECT 1;");
    write(dir.path(), "2_c.down.sql", b"SELECT 1;");
    write(dir.path(), "3_d.up.sql", b"   \n");
    write(dir.path(), "4_e.up.sql", b"-- migrator:nope\nSELECT 1;");
    write(dir.path(), "5_f.up.sql", b"SELECT 1;\n\xff\xfe");
    write(dir.path(), "6_g.up.sql", b"SELECT 1;");
    write(dir.path(), "6_h.down.sql", b"SELECT 1;");
    write(dir.path(), "init.sql", b"SELECT 1;");
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    let errors = load_dir(dir.path(), "m", Dialect::Postgres).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(has("m/1_a.up.sql: version 1 is used by several migrations (m/1_a.up.sql, m/1_b.up.sql)"), "{text:#?}");
    assert!(has("m/2_c.down.sql: down script without an up script: add `2_c.up.sql`"), "{text:#?}");
    assert!(has("m/3_d.up.sql: the up script is empty"), "{text:#?}");
    assert!(has("m/4_e.up.sql:1: unknown directive `nope`"), "{text:#?}");
    assert!(has("m/5_f.up.sql:2:1: the file is not valid UTF-8"), "{text:#?}");
    assert!(
        has(
            "m/6_h.down.sql: this down script's name does not match its up script m/6_g.up.sql: rename it to `6_g.down.sql`"
        ),
        "{text:#?}"
    );
    assert!(has("m/init.sql: `init.sql` is not a migration file name"), "{text:#?}");
    assert!(has("m/nested: unexpected directory"), "{text:#?}");
    assert_eq!(errors.len(), 8, "{text:#?}");
}

#[test]
fn names_that_look_like_migrations_are_never_skipped() {
    let error = |file: &str| name_error(file);
    assert!(error("1_a.UP.SQL").contains("lowercase: rename it to `1_a.up.sql`"), "{}", error("1_a.UP.SQL"));
    assert!(error("1_a.Up.sql").contains("rename it to `1_a.up.sql`"), "{}", error("1_a.Up.sql"));
    assert!(error("1_a.up.sql.bak").contains("`1_a.up.sql.bak` looks like a migration script"));
    assert!(error("1_a.up.sql.orig").contains("move it out of the migrations directory"));
    for ignored in ["1_a.up.sql~", ".1_a.up.sql.swp", "1_a.up.sql.swp", "#1_a.up.sql#", ".#1_a.up.sql", "dev.sqlite"] {
        assert_eq!(parse_file_name(ignored), None, "{ignored}");
    }
}

#[test]
fn a_name_without_underscore_gets_a_fitting_suggestion() {
    assert!(
        name_error("1create.up.sql").contains("name it like `1_create.up.sql`"),
        "{}",
        name_error("1create.up.sql")
    );
    assert!(name_error("create.up.sql").contains("`1_create.up.sql`"));
    assert!(name_error("20261120.down.sql").contains("`20261120_name.down.sql`"));
}

#[test]
fn control_characters_in_names_are_shown_as_pictures() {
    let message = name_error("1_a\u{1b}[31m.up.sql");
    assert!(message.contains("1_a␛[31m.up.sql"), "{message}");
    assert!(!message.contains('\u{1b}'), "{message:?}");
}

#[test]
fn missing_directory() {
    let errors = load_dir(Path::new("/nonexistent/migrations"), "migrations", Dialect::Postgres).unwrap_err();
    assert!(errors[0].to_string().starts_with("migrations: the migrations directory does not exist"), "{errors:?}");
}

#[test]
fn embedded_migrations_convert() {
    const UP: &str = "-- migrator:phase contract\nDROP TABLE t;";
    static SET: &[EmbeddedMigration] = &[EmbeddedMigration::new(
        5,
        "drop_t",
        EmbeddedScript::new("migrations/5_drop_t.up.sql", UP, "sha256:abc"),
        None,
    )];
    let embedded = EmbeddedMigrations::new(Dialect::Postgres, SET);
    let m = embedded.migrations()[0].to_sql(embedded.dialect()).unwrap();
    assert_eq!(m.up_script().checksum().as_str(), "sha256:abc");
    assert_eq!(m.up_script().directives().phase, crate::Phase::Contract);
    assert_eq!(m.up_script().statements().unwrap().len(), 1);
}

// ----- properties ---------------------------------------------------------------------

use proptest::prelude::*;

/// Runs a property over `cases` generated cases and reports the minimal failing input.
fn run_property<S: Strategy>(cases: u32, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, property) {
        panic!("{e}");
    }
}

#[test]
fn prop_valid_file_names_round_trip() {
    let version = prop_oneof![1i64..1000, 1i64..=i64::MAX];
    let kind = prop::sample::select(vec![ScriptKind::Up, ScriptKind::Down]);
    let zeros = prop::sample::select(vec!["", "0", "000"]);
    run_property(2000, (zeros, version, "[a-z0-9_]{1,24}", kind), |(zeros, version, name, kind)| {
        let file = format!("{zeros}{version}_{name}.{}.sql", kind.as_str());
        let parsed = parse_file_name(&file);
        let expected = FileName { version: Version::new(version).unwrap(), name: name.clone(), kind };
        prop_assert_eq!(parsed, Some(Ok(expected)), "{}", file);
        // Hidden files and editor backups are not migrations at all; a copy with another
        // extension looks like one and is an error, never skipped silently.
        prop_assert_eq!(parse_file_name(&format!(".{file}")), None);
        prop_assert_eq!(parse_file_name(&format!("{file}~")), None);
        prop_assert_eq!(parse_file_name(&format!("{file}.swp")), None);
        let backup = format!("{file}.bak");
        prop_assert!(matches!(parse_file_name(&backup), Some(Err(message)) if message.contains(&backup)));
        let upper = file.to_ascii_uppercase();
        prop_assert!(
            matches!(parse_file_name(&upper), Some(Err(message)) if message.contains(&format!("rename it to `{file}`"))),
            "{}",
            upper
        );
        Ok(())
    });
}

/// The invariants of [`parse_file_name`] on any input (the `file_name` fuzz target
/// checks the same).
fn check_any_file_name(file: &str) -> Result<(), TestCaseError> {
    let lower = file.to_ascii_lowercase();
    let ignored = file.starts_with('.')
        || file.ends_with('~')
        || (file.starts_with('#') && file.ends_with('#'))
        || lower.ends_with(".swp")
        || lower.ends_with(".swo")
        || lower.ends_with(".swx");
    let looks_like_sql = lower
        .match_indices(".sql")
        .any(|(at, _)| lower[at + 4..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')));
    let Some(result) = parse_file_name(file) else {
        prop_assert!(ignored || !looks_like_sql, "{:?} was skipped", file);
        return Ok(());
    };
    prop_assert!(!ignored && looks_like_sql, "{:?} was not skipped", file);
    let parsed = match result {
        Ok(parsed) => parsed,
        Err(message) => {
            let shown = super::name::shown_name(file);
            prop_assert!(message.contains(&shown), "{:?}: {}", file, message);
            prop_assert!(!message.chars().any(|c| c.is_control()), "{:?}: {:?}", file, message);
            return Ok(());
        }
    };
    prop_assert!(file.ends_with(".sql"));
    let (digits, _) = file.split_once('_').unwrap();
    prop_assert!(parsed.version.get() > 0);
    prop_assert_eq!(digits.trim_start_matches('0'), parsed.version.get().to_string());
    prop_assert_eq!(file, format!("{digits}_{}.{}.sql", parsed.name, parsed.kind.as_str()));
    let canonical = format!("{}_{}.{}.sql", parsed.version, parsed.name, parsed.kind.as_str());
    prop_assert_eq!(parse_file_name(&canonical), Some(Ok(parsed)));
    Ok(())
}

#[test]
fn prop_any_file_name_is_consistent() {
    let fragment = prop_oneof![
        4 => prop::sample::select(vec![
            "0", "1", "42", "9223372036854775807", "9223372036854775808", "_", "__", ".", ".up", ".down", ".sql",
            ".up.sql", ".down.sql", "add_users", "a", "Z", "-", " ", "é", "日本", "\u{0}", ".SQL", ".UP", ".bak", "~",
            ".swp", "#", "\n", "\u{1b}", ".sqlite", "x",
        ])
        .prop_map(String::from),
        1 => ".{0,4}",
    ];
    run_property(2000, prop::collection::vec(fragment, 0..8), |parts| check_any_file_name(&parts.concat()));
}

/// The invariants of every layout's file name parser on any input (the `file_name` fuzz
/// target checks the same): hidden files and editor leftovers are skipped; an error quotes
/// the name without control characters; a parsed name is not empty, without control
/// characters, with a positive version; migrator's layout agrees with [`parse_file_name`].
fn check_any_layout_file_name(file: &str) -> Result<(), TestCaseError> {
    let shown = super::name::shown_name(file);
    for layout in Layout::ALL {
        let Some(result) = parse_layout_file_name(layout, file) else { continue };
        prop_assert!(!super::name::is_ignored(file), "{:?} not skipped in {}", file, layout);
        let name = match result {
            Err(message) => {
                prop_assert!(message.contains(&shown), "{}: {:?}: {}", layout, file, message);
                prop_assert!(!message.chars().any(|c| c.is_control()), "{}: {:?}", layout, message);
                continue;
            }
            Ok(LayoutFile::Script { version, name, kind }) => {
                prop_assert!(version.get() > 0);
                if layout == Layout::Migrator {
                    let parsed = parse_file_name(file);
                    prop_assert_eq!(parsed, Some(Ok(FileName { version, name: name.clone(), kind })));
                }
                name
            }
            Ok(LayoutFile::Sections { version, name }) => {
                prop_assert_eq!(layout, Layout::Goose);
                prop_assert!(version.get() > 0);
                name
            }
            Ok(LayoutFile::Repeatable { name }) => {
                prop_assert!(matches!(layout, Layout::Migrator | Layout::Flyway));
                name
            }
            Ok(LayoutFile::ScriptConfig { script }) => {
                // Its script must exist; the loader reports it (shown) otherwise.
                prop_assert_eq!(layout, Layout::Flyway);
                prop_assert_eq!(format!("{script}.conf"), file);
                continue;
            }
        };
        prop_assert!(!name.is_empty() && !name.chars().any(|c| c.is_control()), "{}: {:?} → {:?}", layout, file, name);
    }
    if let Ok((version, name)) = parse_diesel_dir(file) {
        prop_assert!(version.get() > 0 && !name.is_empty());
    }
    Ok(())
}

#[test]
fn prop_any_layout_file_name_is_consistent() {
    let fragment = prop_oneof![
        4 => prop::sample::select(vec![
            "0", "1", "42", "2147483648", "9223372036854775808", "_", "__", ".", "-", ".0", ".1", "V", "U", "R", "B",
            "R__", "V1__", "U1__", "2019-02-26-002946", "-0000", "-000a", "-000A", ".up", ".down", ".sql", ".up.sql",
            ".down.sql", ".sql.conf", ".go", ".rs", "before", "add_users", "Create Users", "é", "\u{0}", "\n", "\u{1b}",
            "\u{202e}", ".SQL", ".bak", "~", ".swp", "#", "x",
        ])
        .prop_map(String::from),
        1 => ".{0,4}",
    ];
    run_property(3000, prop::collection::vec(fragment, 0..8), |parts| check_any_layout_file_name(&parts.concat()));
}

// ----- hostile directories ----------------------------------------------------------------

/// Runs `f` in a thread; fails if it blocks for more than 10 s (instead of hanging the suite).
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(10)).expect("loading blocked for more than 10 s")
}

fn load_errors(dir: &Path) -> Vec<String> {
    let dir = dir.to_owned();
    within_10s(move || load_dir(&dir, "m", Dialect::Postgres))
        .map(|_| Vec::new())
        .unwrap_or_else(|errors| errors.iter().map(ToString::to_string).collect())
}

#[test]
fn duplicate_versions_list_only_the_conflicting_up_scripts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", b"SELECT 1;");
    write(dir.path(), "1_a.down.sql", b"SELECT 1;");
    write(dir.path(), "1_b.up.sql", b"SELECT 1;");
    let errors = load_errors(dir.path());
    assert_eq!(
        errors,
        [
            "m/1_a.up.sql: version 1 is used by several migrations (m/1_a.up.sql, m/1_b.up.sql): give each a version of its own"
        ]
    );
}

#[test]
fn a_file_kept_beside_its_squash_migration_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", b"CREATE TABLE a (id INT);\n");
    write(
        dir.path(),
        "2_squash.up.sql",
        b"-- migrator:squashes 1 sha256:aa a\n-- migrator:squashes 2 sha256:bb b\nCREATE TABLE a (id INT);\n",
    );
    write(dir.path(), "3_c.up.sql", b"CREATE TABLE c (id INT);\n");
    assert_eq!(
        load_errors(dir.path()),
        ["m/1_a.up.sql: migration 1 is squashed into m/2_squash.up.sql (line 1), which stands for it: delete this \
             file (version control keeps it)"]
    );
}

#[test]
fn an_empty_display_name_shows_bare_file_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", b"SELECT 'oops;");
    let errors = load_dir(dir.path(), "", Dialect::Postgres).unwrap_err();
    assert_eq!(errors[0].path, "1_a.up.sql");
}

#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_migration_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", b"SELECT 1;");
    let status = std::process::Command::new("mkfifo").arg(dir.path().join("2_fifo.up.sql")).status().unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink(dir.path().join("2_fifo.up.sql"), dir.path().join("3_link.up.sql")).unwrap();
    let errors = load_errors(dir.path());
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("m/2_fifo.up.sql: this is a FIFO (named pipe), not a regular file"), "{errors:#?}");
    assert!(errors[1].starts_with("m/3_link.up.sql: this is a FIFO (named pipe)"), "{errors:#?}");
}

#[cfg(unix)]
#[test]
fn sockets_devices_and_broken_links_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("1_socket.up.sql")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("2_zero.up.sql")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("3_broken.up.sql")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("5_loop.up.sql"), dir.path().join("4_loop.up.sql")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("4_loop.up.sql"), dir.path().join("5_loop.up.sql")).unwrap();
    // A link to a regular file is read.
    write(dir.path(), "real.txt", b"SELECT 1;");
    std::os::unix::fs::symlink(dir.path().join("real.txt"), dir.path().join("6_link.up.sql")).unwrap();
    let errors = load_errors(dir.path());
    let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(has("m/1_socket.up.sql: this is a socket, not a regular file"), "{errors:#?}");
    assert!(has("m/2_zero.up.sql: this is a device, not a regular file"), "{errors:#?}");
    assert!(has("m/3_broken.up.sql: this is a symbolic link to a file that does not exist"), "{errors:#?}");
    assert!(has("m/4_loop.up.sql: cannot read the file:"), "{errors:#?}");
    assert!(has("m/5_loop.up.sql: cannot read the file:"), "{errors:#?}");
    assert_eq!(errors.len(), 5, "{errors:#?}");
}

#[test]
fn files_over_the_size_limit_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("1_huge.up.sql")).unwrap();
    // Sparse: no disk space or memory is used unless the loader reads it.
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    let errors = load_errors(dir.path());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("m/1_huge.up.sql: the file is 64.0 MiB, over the 64 MiB limit"), "{errors:#?}");
}

#[test]
fn nul_bytes_copy_and_client_commands_are_refused_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_nul.up.sql", b"CREATE TABLE a (id int);\0");
    write(dir.path(), "2_copy.up.sql", b"CREATE TABLE b (id int);\nCOPY b FROM STDIN;\n1\n\\.\n");
    write(dir.path(), "3_psql.up.sql", b"\\connect other\nCREATE TABLE c (id int);\n");
    let errors = load_errors(dir.path());
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].starts_with("m/1_nul.up.sql:1:25: NUL byte at line 1, column 25"), "{errors:#?}");
    assert!(errors[1].starts_with("m/2_copy.up.sql:2:1: `COPY … FROM STDIN` at line 2"), "{errors:#?}");
    assert!(errors[2].starts_with("m/3_psql.up.sql:1:1: psql command `\\connect other`"), "{errors:#?}");
    let report = crate::lint::lint_dir(dir.path(), Dialect::Postgres, &crate::lint::LintOptions::new());
    let fatal: Vec<(&str, usize, usize)> = report
        .findings()
        .iter()
        .filter(|f| f.rule == "parse-error")
        .map(|f| (f.file.as_str(), f.line, f.column))
        .collect();
    assert_eq!(fatal.len(), 3, "{report}");
    assert!(report.findings().iter().filter(|f| f.rule == "parse-error").all(|f| f.level == crate::lint::Level::Fatal));
}
