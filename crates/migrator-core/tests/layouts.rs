//! Other tools' layouts, read as they are: one small directory per layout and variant in
//! `tests/layouts/`, each loaded (detected and named), linted and checked for versions and
//! order, names, up and down scripts, no-transaction markers, checksums and line numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use migrator_core::lint::{LintOptions, check_dir_with_layout};
use migrator_core::source::{Layout, LoadedDir, load_dir_with_layout};
use migrator_core::{Checksum, Dialect, Migration, MigrationSet, Script, ScriptKind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts").join(name)
}

/// The fixture, loaded as `m` in `layout` (detected when `None`) on PostgreSQL.
fn load(name: &str, layout: Option<Layout>) -> LoadedDir {
    load_dir_with_layout(&fixture(name), "m", Dialect::Postgres, layout, &LintOptions::new())
        .unwrap_or_else(|errors| panic!("{name} does not load: {errors:#?}"))
}

/// The load errors of `dir` in `layout`, as `path:line: message`.
fn errors(dir: &Path, layout: Option<Layout>) -> Vec<String> {
    match load_dir_with_layout(dir, "m", Dialect::Postgres, layout, &LintOptions::new()) {
        Ok(loaded) => panic!("{} loaded: {:?}", dir.display(), loaded.migrations.len()),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// (version, name, up path, down path) of each migration.
fn summary(loaded: &LoadedDir) -> Vec<(i64, String, String, Option<String>)> {
    loaded
        .migrations
        .iter()
        .map(|l| {
            let meta = Migration::<()>::meta(&l.migration);
            (
                meta.version().get(),
                meta.name().to_owned(),
                l.migration.up_script().path().to_owned(),
                l.migration.down_script().map(|d| d.path().to_owned()),
            )
        })
        .collect()
}

fn row(version: i64, name: &str, up: &str, down: Option<&str>) -> (i64, String, String, Option<String>) {
    (version, name.to_owned(), up.to_owned(), down.map(str::to_owned))
}

/// Every fixture is detected as its layout, loads the same when its layout is named, and
/// lints without a failing finding.
#[test]
fn every_fixture_is_detected_loaded_and_linted() {
    let fixtures = [
        ("sqlx-simple", Layout::Sqlx),
        ("sqlx-reversible", Layout::Sqlx),
        ("diesel-old", Layout::Diesel),
        ("diesel-new", Layout::Diesel),
        ("refinery", Layout::Refinery),
        ("flyway", Layout::Flyway),
        ("flyway-dotted", Layout::Flyway),
        ("repeatables", Layout::Migrator),
        ("goose", Layout::Goose),
    ];
    for (name, layout) in fixtures {
        let detected = load(name, None);
        assert_eq!(detected.layout, layout, "{name}");
        let named = load(name, Some(layout));
        assert_eq!(summary(&detected), summary(&named), "{name}");
        let checked = check_dir_with_layout(&fixture(name), "m", Dialect::Postgres, None, &LintOptions::new());
        assert_eq!(checked.layout(), layout);
        let failures: Vec<String> = checked.findings().failures().map(ToString::to_string).collect();
        assert!(failures.is_empty(), "{name}: {failures:#?}");
        let set = MigrationSet::<()>::from_dir_with(fixture(name), Dialect::Postgres, Some(layout)).unwrap();
        assert_eq!(set.len(), detected.migrations.len(), "{name}");
        assert_eq!(set.repeatables().count(), detected.repeatables.len(), "{name}");
    }
    // golang-migrate's names (dashes, spaces, different up and down titles) need the layout
    // named: detection reads `.up.sql` files as migrator's, whose rules refuse them.
    let named = load("golang-migrate", Some(Layout::GolangMigrate));
    assert_eq!(named.layout, Layout::GolangMigrate);
    let detected = errors(&fixture("golang-migrate"), None);
    assert!(
        detected.iter().any(|e| e.contains("`-` is not allowed") && e.contains("sqlx and golang-migrate accept this name: if the directory is theirs, name its layout with `--layout sqlx`")),
        "{detected:#?}"
    );
}

#[test]
fn sqlx_simple_and_reversible() {
    let simple = load("sqlx-simple", None);
    assert_eq!(
        summary(&simple),
        [
            row(20240101120000, "create users", "m/20240101120000_create users.sql", None),
            row(20240102090000, "Add-Email-Index", "m/20240102090000_Add-Email-Index.sql", None),
        ]
    );
    let index = &simple.migrations[1].migration;
    assert!(index.up_script().directives().no_transaction, "sqlx's first line");
    assert!(index.up_script().layout_flags().no_transaction);
    assert!(!simple.migrations[0].migration.up_script().directives().no_transaction);

    let reversible = load("sqlx-reversible", None);
    assert_eq!(
        summary(&reversible),
        [
            row(
                20240101120000,
                "create_users",
                "m/20240101120000_create_users.up.sql",
                Some("m/20240101120000_create_users.down.sql")
            ),
            row(
                20240102090000,
                "Add users-email index",
                "m/20240102090000_Add users-email index.up.sql",
                Some("m/20240102090000_Add users-email index.down.sql")
            ),
        ]
    );
    let index = &reversible.migrations[1].migration;
    assert!(index.up_script().directives().no_transaction);
    assert!(index.down_script().unwrap().directives().no_transaction);
    // The marker counts only as the first bytes, as in sqlx.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_a.sql"), "\n-- no-transaction\nCREATE TABLE a (id int);\n").unwrap();
    let loaded = load_dir_with_layout(dir.path(), "m", Dialect::Postgres, None, &LintOptions::new()).unwrap();
    assert!(!loaded.migrations[0].migration.up_script().directives().no_transaction);
}

#[test]
fn diesel_versions_keep_diesel_order_and_the_initial_setup_is_history() {
    let old = load("diesel-old", None);
    assert_eq!(
        summary(&old),
        [
            row(
                1,
                "diesel_initial_setup",
                "m/00000000000000_diesel_initial_setup/up.sql",
                Some("m/00000000000000_diesel_initial_setup/down.sql")
            ),
            row(
                201902260029460000,
                "create_users",
                "m/2019-02-26-002946_create_users/up.sql",
                Some("m/2019-02-26-002946_create_users/down.sql")
            ),
            row(
                201903011010100000,
                "add_users_email_index",
                "m/2019-03-01-101010_add_users_email_index/up.sql",
                Some("m/2019-03-01-101010_add_users_email_index/down.sql")
            ),
        ]
    );
    // metadata.toml's run_in_transaction = false, for both scripts.
    let index = &old.migrations[2].migration;
    assert!(index.up_script().directives().no_transaction);
    assert!(index.down_script().unwrap().directives().no_transaction);
    assert!(!old.migrations[1].migration.up_script().directives().no_transaction);
    // The initial setup's functions are one statement each (dollar quotes).
    assert_eq!(old.migrations[0].migration.up_script().statements().unwrap().len(), 2);

    let new = load("diesel-new", None);
    let versions: Vec<i64> = summary(&new).iter().map(|r| r.0).collect();
    assert_eq!(versions, [1, 202512312359590000, 202606032202280000, 202606032202280001]);
    assert_eq!(summary(&new)[3].1, "Add-Post-Tags");
    // diesel's order is its directory names' order without dashes: the same.
    let mut names: Vec<String> = std::fs::read_dir(fixture("diesel-new"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().split('_').next().unwrap().replace('-', ""))
        .collect();
    names.sort();
    let mapped: Vec<i64> = names.iter().map(|n| migrator_core::source::diesel_version(n).unwrap().get()).collect();
    assert_eq!(mapped, versions);
}

#[test]
fn diesel_directories_with_problems() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["2019-02-26-002946_ok", "2019-02-27-000000_no_up", "20190228_bad_version", "2019-03-01-000000_extra"] {
        std::fs::create_dir(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("2019-02-26-002946_ok/up.sql"), "CREATE TABLE a (id int);\n").unwrap();
    std::fs::write(d.join("2019-02-27-000000_no_up/down.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(d.join("20190228_bad_version/up.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(d.join("2019-03-01-000000_extra/up.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(d.join("2019-03-01-000000_extra/UP.SQL.bak"), "SELECT 1;\n").unwrap();
    std::fs::write(d.join("2019-03-01-000000_extra/metadata.toml"), "run_in_transaction = maybe\n").unwrap();
    std::fs::write(d.join("README.md"), "notes\n").unwrap();
    let found = errors(d, None);
    let expected = [
        "m/2019-02-27-000000_no_up: this diesel migration has no `up.sql`",
        "m/20190228_bad_version: `20190228_bad_version/`: `20190228` is not a diesel version",
        "m/2019-03-01-000000_extra/UP.SQL.bak: diesel reads `up.sql` and `down.sql`",
        "m/2019-03-01-000000_extra/metadata.toml:1: `run_in_transaction` is `true` or `false`, not `maybe`",
    ];
    for expected in expected {
        assert!(found.iter().any(|e| e.starts_with(expected)), "no {expected:?} in {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn refinery_reads_subdirectories_unversioned_files_and_its_annotation() {
    let loaded = load("refinery", None);
    assert_eq!(
        summary(&loaded),
        [
            row(1, "initial", "m/V1__initial.sql", None),
            row(2, "add_cars_table", "m/V2__add_cars_table.sql", None),
            row(3, "add_brand_to_cars", "m/v3/V3__add_brand_to_cars.sql", None),
            row(4, "MergeLate", "m/U4__MergeLate.sql", None),
            row(5, "index_cars_brand", "m/V5__index_cars_brand.sql", None),
        ]
    );
    assert!(loaded.migrations[4].migration.up_script().directives().no_transaction);
    assert!(!loaded.migrations[3].migration.up_script().directives().no_transaction);
}

#[test]
fn flyway_undo_repeatables_configuration_and_versions() {
    let loaded = load("flyway", None);
    assert_eq!(
        summary(&loaded),
        [
            row(1, "Create_users", "m/V1__Create_users.sql", Some("m/U1__Drop_users.sql")),
            row(2, "Add user name", "m/V2__Add user name.sql", Some("m/U2__Remove user name.sql")),
            row(3, "index_email", "m/V3__index_email.sql", None),
        ]
    );
    assert!(loaded.migrations[2].migration.up_script().directives().no_transaction, "V3__index_email.sql.conf");
    assert_eq!(loaded.repeatables.len(), 1);
    assert_eq!(loaded.repeatables[0].repeatable.name(), "User emails view");
    assert_eq!(loaded.repeatables[0].repeatable.script().path(), "m/R__User emails view.sql");

    let dotted = load("flyway-dotted", None);
    let versions: Vec<i64> = summary(&dotted).iter().map(|r| r.0).collect();
    assert_eq!(versions, [1, 2, 20190226002946]);

    // A dotted version that is not an integer is refused, saying why.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("V1__a.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("V1.1__b.sql"), "SELECT 1;\n").unwrap();
    let found = errors(dir.path(), None);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("m/V1.1__b.sql: `V1.1__b.sql`: Flyway version `1.1` has no migrator version"),
        "{found:#?}"
    );
    // What migrator cannot run is refused, never skipped.
    std::fs::remove_file(dir.path().join("V1.1__b.sql")).unwrap();
    std::fs::write(dir.path().join("afterMigrate.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("V1__a.sql.conf"), "mixed=true\n").unwrap();
    std::fs::write(dir.path().join("V9__gone.sql.conf"), "executeInTransaction=false\n").unwrap();
    let found = errors(dir.path(), None);
    assert!(
        found.iter().any(|e| e.starts_with("m/afterMigrate.sql: `afterMigrate.sql` is a Flyway callback")),
        "{found:#?}"
    );
    assert!(found.iter().any(|e| e.starts_with("m/V1__a.sql.conf:1: `mixed` is not read by migrator")), "{found:#?}");
    assert!(found.iter().any(|e| e.starts_with("m/V9__gone.sql.conf: this configures `V9__gone.sql`")), "{found:#?}");
}

#[test]
fn repeatables_in_migrators_layout() {
    let loaded = load("repeatables", None);
    assert_eq!(loaded.layout, Layout::Migrator);
    let names: Vec<&str> = loaded.repeatables.iter().map(|r| r.repeatable.name()).collect();
    assert_eq!(names, ["user_count", "user_emails"]);
    assert!(loaded.repeatables[0].file.is_absolute());
    // migrator's name rules apply to them.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_a.up.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("R__Views.sql"), "SELECT 1;\n").unwrap();
    let found = errors(dir.path(), None);
    assert!(found[0].starts_with("m/R__Views.sql: `R__Views.sql`: `V` is not allowed"), "{found:#?}");
}

#[test]
fn golang_migrate_pairs_by_version() {
    let loaded = load("golang-migrate", Some(Layout::GolangMigrate));
    assert_eq!(
        summary(&loaded),
        [
            row(
                1,
                "create-users-table",
                "m/000001_create-users-table.up.sql",
                Some("m/000001_create-users-table.down.sql")
            ),
            row(2, "Add name", "m/000002_Add name.up.sql", Some("m/000002_remove name.down.sql")),
        ]
    );
}

fn goose_script(loaded: &LoadedDir, version: i64, kind: ScriptKind) -> &Script {
    let migration = loaded
        .migrations
        .iter()
        .find(|l| Migration::<()>::meta(&l.migration).version().get() == version)
        .map(|l| &l.migration)
        .unwrap();
    match kind {
        ScriptKind::Up => migration.up_script(),
        ScriptKind::Down => migration.down_script().unwrap(),
    }
}

#[test]
fn goose_sections_blocks_and_no_transaction() {
    let loaded = load("goose", None);
    assert_eq!(
        summary(&loaded),
        [
            row(1, "create_users", "m/00001_create_users.sql", Some("m/00001_create_users.sql")),
            row(2, "add_function", "m/00002_add_function.sql", Some("m/00002_add_function.sql")),
            row(3, "index_email", "m/00003_index_email.sql", Some("m/00003_index_email.sql")),
            row(20240301000000, "seed", "m/20240301000000_seed.sql", None),
        ]
    );
    // The up script is the file up to `-- +goose Down`; the down script keeps its lines.
    let text = std::fs::read_to_string(fixture("goose/00001_create_users.sql")).unwrap();
    let up = goose_script(&loaded, 1, ScriptKind::Up);
    let down = goose_script(&loaded, 1, ScriptKind::Down);
    let at = text.find("-- +goose Down").unwrap();
    assert_eq!(up.text(), &text[..at]);
    assert!(down.text().ends_with(&text[at..]));
    assert_eq!(down.text().lines().count(), text.lines().count());
    assert_eq!(down.statements().unwrap()[0].line, 8, "DROP TABLE is on line 8 of the file");
    // The checksum covers the up section only.
    assert_eq!(up.checksum(), &Checksum::of_script(&text[..at]));

    // The block is one statement; the statement after it is split as usual.
    let function = goose_script(&loaded, 2, ScriptKind::Up);
    let statements = function.statements().unwrap();
    assert_eq!(statements.len(), 2);
    assert!(function.statement_text(&statements[0]).starts_with("CREATE FUNCTION user_count()"));
    assert!(function.statement_text(&statements[0]).ends_with("$$ LANGUAGE plpgsql"));
    assert_eq!((statements[0].line, statements[1].line), (4, 13));
    let undo = goose_script(&loaded, 2, ScriptKind::Down);
    let lines: Vec<usize> = undo.statements().unwrap().iter().map(|s| s.line).collect();
    assert_eq!(lines, [17, 19]);

    // NO TRANSACTION applies to both sections.
    assert!(goose_script(&loaded, 3, ScriptKind::Up).directives().no_transaction);
    assert!(goose_script(&loaded, 3, ScriptKind::Down).directives().no_transaction);
    assert!(!goose_script(&loaded, 1, ScriptKind::Up).directives().no_transaction);
    // migrator's directives work in a section's header.
    let seed = goose_script(&loaded, 20240301000000, ScriptKind::Up);
    assert_eq!(seed.directives().irreversible.as_deref(), Some("the seed rows are not tracked"));
}

#[test]
fn goose_edits_of_the_down_section_leave_the_up_checksum_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("1_a.sql");
    let load = || load_dir_with_layout(dir.path(), "m", Dialect::Postgres, None, &LintOptions::new()).unwrap();
    std::fs::write(&file, "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n").unwrap();
    let before = Migration::<()>::meta(&load().migrations[0].migration).clone();
    std::fs::write(&file, "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE IF EXISTS a;\n").unwrap();
    let after = Migration::<()>::meta(&load().migrations[0].migration).clone();
    assert_eq!(before.checksum(), after.checksum());
    assert_ne!(before.down_checksum(), after.down_checksum());
}

/// Errors in a goose file name the file and the line in it, in either section.
#[test]
fn goose_errors_name_the_file_and_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_a.sql"),
        "-- +goose Up\nCREATE TABLE a (id int);\n\n-- +goose Down\n-- migrator:bogus\nDROP TABLE a WHERE 'x;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("2_b.sql"), "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("3_c.sql"), "CREATE TABLE c (id int);\n").unwrap();
    std::fs::write(dir.path().join("5_e.sql"), "CREATE TABLE e (id int);\n-- +goose Up\nSELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("4_d.sql"), "-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n").unwrap();
    let found = errors(dir.path(), None);
    let expected = [
        "m/1_a.sql:5: unknown directive `bogus`",
        "m/1_a.sql:6:20: unterminated string literal",
        "m/2_b.sql:2: this `-- +goose StatementBegin` has no `-- +goose StatementEnd`",
        "m/3_c.sql: no `-- +goose Up` line",
        "m/5_e.sql:1: SQL above `-- +goose Up`",
        "m/4_d.sql:2: `-- +goose ENVSUB ON` substitutes environment variables",
    ];
    for expected in expected {
        assert!(found.iter().any(|e| e.starts_with(expected)), "no {expected:?} in {found:#?}");
    }
    assert!(
        found.iter().any(|e| e.contains("read as goose's layout because `1_a.sql` has goose annotations")),
        "{found:#?}"
    );
    assert_eq!(found.len(), 6, "{found:#?}");
}

/// Lint findings in other layouts name the file and line where the statement is.
#[test]
fn lint_runs_on_every_layout_with_real_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_a.sql"),
        "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\n\nDROP TABLE a;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("2_b.sql"), "-- +goose Up\nCREATE INDEX a_id ON a (id);\n").unwrap();
    let report = check_dir_with_layout(dir.path(), "m", Dialect::Postgres, None, &LintOptions::new()).report();
    let index = report.findings().iter().find(|f| f.rule == "index-not-concurrent").unwrap();
    assert_eq!((index.file.as_str(), index.line), ("m/2_b.sql", 2));
    let missing = report.findings().iter().find(|f| f.rule == "missing-down" && f.file == "m/2_b.sql").unwrap();
    assert!(missing.message.contains("expected a `-- +goose Down` section"), "{}", missing.message);

    let diesel = tempfile::tempdir().unwrap();
    std::fs::create_dir(diesel.path().join("2019-02-26-002946_x")).unwrap();
    std::fs::write(diesel.path().join("2019-02-26-002946_x/up.sql"), "\nCREATE INDEX CONCURRENTLY i ON t (c);\n")
        .unwrap();
    let report = check_dir_with_layout(diesel.path(), "m", Dialect::Postgres, None, &LintOptions::new()).report();
    let fatal = report.findings().iter().find(|f| f.rule == "concurrently-in-transaction").unwrap();
    assert_eq!((fatal.file.as_str(), fatal.line), ("m/2019-02-26-002946_x/up.sql", 2));
    let missing = report.findings().iter().find(|f| f.rule == "missing-down").unwrap();
    assert!(missing.message.contains("`down.sql` beside it"), "{}", missing.message);
}

#[test]
fn a_mixed_directory_says_which_files_are_whose() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_a.up.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("V2__b.sql"), "SELECT 1;\n").unwrap();
    std::fs::create_dir(dir.path().join("2019-02-26-002946_c")).unwrap();
    std::fs::write(dir.path().join("2019-02-26-002946_c/up.sql"), "SELECT 1;\n").unwrap();
    let found = errors(dir.path(), None);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "m: this directory holds the migrations of several tools: diesel (`2019-02-26-002946_c/`); Flyway or refinery \
             (`V2__b.sql`); migrator, sqlx or golang-migrate (`1_a.up.sql`); keep one tool's migrations per directory"
        ),
        "{found:#?}"
    );
    // Named explicitly, the files of other layouts get that layout's errors.
    let found = errors(dir.path(), Some(Layout::Migrator));
    assert!(found.iter().any(|e| e.starts_with("m/V2__b.sql: `V2__b.sql` is not a migration file name")), "{found:#?}");
    assert!(found.iter().any(|e| e.contains("it holds `up.sql`, as diesel's migrations do")), "{found:#?}");
    // Flyway's and refinery's own files together.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("V1__a.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("R__views.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("U7__late.sql"), "SELECT 1;\n").unwrap();
    let found = errors(dir.path(), None);
    assert!(found[0].contains("holds files only Flyway reads (`R__views.sql` is a repeatable migration) beside files only refinery reads (`U7__late.sql` has no `V` migration of its version)"), "{found:#?}");
}

/// Edge cases of detection.
#[test]
fn detection_rules() {
    let detect = |files: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        check_dir_with_layout(dir.path(), "m", Dialect::Postgres, None, &LintOptions::new()).layout()
    };
    assert_eq!(detect(&[]), Layout::Migrator);
    assert_eq!(detect(&[("README.md", "")]), Layout::Migrator);
    assert_eq!(detect(&[("1_a.up.sql", "SELECT 1;")]), Layout::Migrator);
    assert_eq!(detect(&[("1_a.up.sql", "-- no-transaction\nSELECT 1;")]), Layout::Sqlx);
    assert_eq!(detect(&[("1_a.sql", "SELECT 1;")]), Layout::Sqlx);
    assert_eq!(detect(&[("1_a.sql", "SELECT 1;"), ("2_b.up.sql", "SELECT 1;")]), Layout::Migrator);
    assert_eq!(detect(&[("1_a.sql", "-- +goose Up\nSELECT 1;"), ("2_b.sql", "SELECT 1;")]), Layout::Goose);
    assert_eq!(detect(&[("1_a.go", "package m")]), Layout::Goose);
    assert_eq!(detect(&[("V1__a.sql", "SELECT 1;")]), Layout::Refinery);
    assert_eq!(detect(&[("V1__a.sql", "SELECT 1;"), ("U1__a.sql", "SELECT 1;")]), Layout::Flyway);
    assert_eq!(detect(&[("V1__a.sql", "SELECT 1;"), ("U2__a.sql", "SELECT 1;")]), Layout::Refinery);
    assert_eq!(detect(&[("V1_1__a.sql", "SELECT 1;")]), Layout::Flyway);
    assert_eq!(detect(&[("V20190226002946__a.sql", "SELECT 1;")]), Layout::Refinery, "int8-versions");
    assert_eq!(detect(&[("V1__a b.sql", "SELECT 1;")]), Layout::Flyway);
    assert_eq!(detect(&[("V1__a.sql", "--refinery:noTransaction\nSELECT 1;")]), Layout::Refinery);
    assert_eq!(detect(&[("R__views.sql", "SELECT 1;")]), Layout::Migrator);
    assert_eq!(detect(&[("R__Views.sql", "SELECT 1;")]), Layout::Flyway);
    assert_eq!(detect(&[("1_a.UP.sql", "SELECT 1;")]), Layout::Migrator);
}
