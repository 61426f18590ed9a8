//! Unit tests of the lint engine: subtle cases of each rule. The per-rule fixture tree in
//! `tests/lint/` checks every rule on both dialects.

use super::*;
use crate::directive::ScriptKind;

fn migration(version: i64, up: &str, down: Option<&str>, dialect: Dialect) -> SqlMigration {
    let up = Script::parse(ScriptKind::Up, format!("m/{version}_m.up.sql"), up.to_owned(), dialect).unwrap();
    let down = down
        .map(|d| Script::parse(ScriptKind::Down, format!("m/{version}_m.down.sql"), d.to_owned(), dialect).unwrap());
    SqlMigration::new(Version::new(version).unwrap(), "m", up, down).unwrap()
}

/// Lints the scripts as migrations 1, 2, … (each with an empty down script marked away via
/// `missing-down` off) and returns `(version, rule)` of every finding.
fn lint_set(scripts: &[&str], dialect: Dialect, options: &LintOptions) -> Vec<(i64, &'static str)> {
    let options = options.clone().with_level("missing-down", Setting::Off).unwrap();
    let set: Vec<SqlMigration> =
        scripts.iter().enumerate().map(|(i, up)| migration(i as i64 + 1, up, None, dialect)).collect();
    let report = lint_migrations(&set, &options);
    report
        .findings()
        .iter()
        .map(|f| (f.file.trim_start_matches("m/").split('_').next().unwrap().parse().unwrap(), f.rule))
        .collect()
}

fn pg(sql: &str) -> Vec<&'static str> {
    lint_set(&[sql], Dialect::Postgres, &LintOptions::new()).into_iter().map(|(_, r)| r).collect()
}

fn my(sql: &str) -> Vec<&'static str> {
    lint_set(&[sql], Dialect::MySql, &LintOptions::new()).into_iter().map(|(_, r)| r).collect()
}

fn report(sql: &str, dialect: Dialect) -> LintReport {
    lint_migration(
        &migration(1, sql, None, dialect),
        &LintOptions::new().with_level("missing-down", Setting::Off).unwrap(),
    )
}

#[test]
fn statements_inside_bodies_are_not_top_level() {
    let function = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  UPDATE t SET a = 1;\n  COMMIT;\n  DROP TABLE x;\nEND $$;";
    assert_eq!(pg(function), Vec::<&str>::new());
    let atomic = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC\n  DELETE FROM t;\n  SELECT 1;\nEND;";
    assert_eq!(pg(atomic), Vec::<&str>::new());
    let procedure = "CREATE PROCEDURE p()\nBEGIN\n  START TRANSACTION;\n  DELETE FROM t;\n  COMMIT;\nEND;";
    assert_eq!(my(procedure), Vec::<&str>::new());
    let trigger = "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END;";
    assert_eq!(my(trigger), Vec::<&str>::new());
}

#[test]
fn transaction_control_variants() {
    for sql in ["BEGIN;", "begin work;", "START TRANSACTION;", "COMMIT;", "END;", "ROLLBACK;", "ABORT;"] {
        assert_eq!(pg(&format!("{sql}\nSELECT 1;")), ["transaction-control"], "{sql}");
    }
    assert_eq!(pg("SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\nRELEASE SAVEPOINT a;"), Vec::<&str>::new());
    assert_eq!(my("BEGIN;\nSELECT 1;\nCOMMIT;"), ["transaction-control", "transaction-control"]);
    assert_eq!(my("BEGIN NOT ATOMIC SELECT 1; END;"), Vec::<&str>::new());
    // Fatal in no-transaction migrations too: the runner records progress between statements.
    assert_eq!(pg("-- migrator:no-transaction\nBEGIN;\nSELECT 1;"), ["transaction-control"]);
}

#[test]
fn do_blocks_that_commit() {
    let batched = "DO $$\nDECLARE n int;\nBEGIN\n  LOOP\n    UPDATE t SET a = 1 WHERE id IN (SELECT id FROM t WHERE a IS NULL LIMIT 1000);\n    GET DIAGNOSTICS n = ROW_COUNT;\n    EXIT WHEN n = 0;\n    COMMIT;\n  END LOOP;\nEND $$;";
    let found = report(batched, Dialect::Postgres);
    let rules: Vec<&str> = found.findings().iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["not-allowed-in-transaction"]);
    let f = &found.findings()[0];
    assert_eq!((f.line, f.column), (8, 5), "points at the COMMIT: {f}");
    assert_eq!(pg(&format!("-- migrator:no-transaction\n{batched}")), Vec::<&str>::new());
    // Words in strings and comments, and a COMMIT that is not a statement, are not commits.
    let harmless = "DO $$ BEGIN RAISE NOTICE 'COMMIT; ROLLBACK'; -- COMMIT\n PERFORM commit_count(); END $$;";
    assert_eq!(pg(harmless), Vec::<&str>::new());
    assert_eq!(pg("DO $$ BEGIN ROLLBACK TO SAVEPOINT x; END $$;"), Vec::<&str>::new());
    assert_eq!(pg("DO $$ DECLARE commit int; BEGIN commit := 1; END $$;"), Vec::<&str>::new());
    assert_eq!(pg("DO $$ BEGIN IF true THEN COMMIT AND CHAIN; END IF; END $$;"), ["not-allowed-in-transaction"]);
}

#[test]
fn tables_created_in_the_migration_are_exempt() {
    let sql = "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text);\n\
               CREATE INDEX events_kind ON events (kind);\n\
               ALTER TABLE events ADD COLUMN at timestamptz NOT NULL;\n\
               ALTER TABLE events ALTER COLUMN kind TYPE integer USING kind::integer;\n\
               ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind > 0);\n\
               ALTER TABLE events ADD UNIQUE (kind);\n\
               INSERT INTO events (kind, at) VALUES (1, now());\n\
               UPDATE events SET kind = 2;\n\
               ALTER TABLE events RENAME TO events2;\n\
               ALTER TABLE events2 DROP COLUMN at;\n\
               DROP INDEX events_kind;\n\
               DROP TABLE events2;";
    assert_eq!(pg(sql), Vec::<&str>::new());
    // The same statements on a table of an earlier migration are hazards.
    let existing = lint_set(
        &[
            "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text);",
            "CREATE INDEX events_kind ON events (kind);\nALTER TABLE events ADD COLUMN at timestamptz NOT NULL;",
        ],
        Dialect::Postgres,
        &LintOptions::new(),
    );
    assert_eq!(existing, [(2, "index-not-concurrent"), (2, "add-column-not-null-no-default")]);
    let mysql = "CREATE TABLE t (id BIGINT PRIMARY KEY);\nALTER TABLE t ADD COLUMN c INT NOT NULL, ALGORITHM=COPY;\nOPTIMIZE TABLE t;";
    assert_eq!(my(mysql), ["mysql-multi-ddl"]);
}

#[test]
fn contract_phase_allows_its_steps_only() {
    let sql = "-- migrator:phase contract\nALTER TABLE users DROP COLUMN legacy;\nDROP TABLE old_users;\nALTER TABLE users ALTER COLUMN email DROP NOT NULL;\nALTER TABLE archive RENAME TO archive_2026;\nALTER TABLE users RENAME COLUMN a TO b;\nTRUNCATE audit;";
    assert_eq!(pg(sql), ["rename-column", "truncate"]);
    let expand = sql.replace("-- migrator:phase contract\n", "");
    assert_eq!(
        pg(&expand),
        ["drop-column", "drop-table", "drop-not-null", "rename-table", "rename-column", "truncate"]
    );
}

#[test]
fn allows_silence_deny_and_report_unused_ones() {
    let sql = "-- migrator:allow drop-column, truncate -- the column is unused since v41\n-- migrator:allow transaction-control, drop-colum -- oops\n-- migrator:allow vacuum-full -- wrong dialect\nALTER TABLE users DROP COLUMN legacy;\nCOMMIT;";
    let found = report(sql, Dialect::MySql);
    let summary: Vec<(&str, Level, bool, usize)> =
        found.findings().iter().map(|f| (f.rule, f.level, f.allowed, f.line)).collect();
    assert_eq!(
        summary,
        [
            ("unused-allow", Level::Warn, false, 1),
            ("unused-allow", Level::Warn, false, 2),
            ("unused-allow", Level::Warn, false, 2),
            ("unused-allow", Level::Warn, false, 3),
            ("drop-column", Level::Deny, true, 4),
            ("transaction-control", Level::Fatal, false, 5),
        ]
    );
    let messages: Vec<&str> = found.findings().iter().map(|f| f.message.as_str()).collect();
    assert!(
        messages[0].contains("`truncate` is allowed here, but nothing in this migration triggers it"),
        "{messages:?}"
    );
    assert!(messages[1].contains("`transaction-control` is fatal"), "{messages:?}");
    assert!(messages[2].contains("did you mean `drop-column`?"), "{messages:?}");
    assert!(messages[3].contains("does not apply to MySQL"), "{messages:?}");
    assert_eq!(found.failures().map(|f| f.rule).collect::<Vec<_>>(), ["transaction-control"]);
}

#[test]
fn levels_can_be_raised_lowered_and_turned_off() {
    let sql = "CREATE TABLE t (id bigint PRIMARY KEY, name varchar(20));\nCREATE INDEX t_name ON existing (name);";
    let options = LintOptions::new()
        .with_level("prefer-text", Setting::Deny)
        .unwrap()
        .with_level("index-not-concurrent", Setting::Warn)
        .unwrap();
    let set = [migration(1, sql, Some("DROP TABLE t;"), Dialect::Postgres)];
    let found = lint_migrations(&set, &options);
    let levels: Vec<(&str, Level)> = found.findings().iter().map(|f| (f.rule, f.level)).collect();
    assert_eq!(levels, [("prefer-text", Level::Deny), ("index-not-concurrent", Level::Warn)]);
    // A rule has one level: turning it off is a set of options of its own.
    let off = LintOptions::new()
        .with_level("prefer-text", Setting::Off)
        .unwrap()
        .with_level("index-not-concurrent", Setting::Warn)
        .unwrap();
    assert_eq!(lint_migrations(&set, &off).findings().len(), 1);
    let unknown = LintOptions::new().with_level("prefer-txt", Setting::Off).unwrap_err().to_string();
    assert!(unknown.contains("did you mean `prefer-text`?"), "{unknown}");
    // identifier-too-long is a warning on PostgreSQL and fatal on MySQL, whatever the options.
    let lowered = LintOptions::new().with_level("identifier-too-long", Setting::Off).unwrap();
    let long = format!("CREATE TABLE {} (id bigint);", "a".repeat(70));
    assert_eq!(lint_set(&[&long], Dialect::Postgres, &lowered), []);
    assert_eq!(lint_set(&[&long], Dialect::MySql, &lowered), [(1, "identifier-too-long")]);
}

#[test]
fn lint_from_skips_old_migrations_but_keeps_their_schema() {
    let scripts = [
        "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(50));",
        "CREATE INDEX users_email ON users (email);",
        "ALTER TABLE users ALTER COLUMN email TYPE varchar(100);",
        "ALTER TABLE users ALTER COLUMN email TYPE integer USING 0;",
    ];
    let all = lint_set(&scripts, Dialect::Postgres, &LintOptions::new());
    assert_eq!(all, [(1, "prefer-text"), (2, "index-not-concurrent"), (3, "prefer-text"), (4, "change-column-type")]);
    let from_3 = LintOptions::new().with_lint_from(Version::new(3).unwrap());
    assert_eq!(lint_set(&scripts, Dialect::Postgres, &from_3), [(3, "prefer-text"), (4, "change-column-type")]);
}

#[test]
fn type_changes_use_the_schema_model() {
    let base = "CREATE TABLE t (id bigint PRIMARY KEY, name varchar(50), code text, price numeric(10,2), n integer);";
    let change = |sql: &str| -> Vec<&'static str> {
        let options = LintOptions::new().with_level("prefer-text", Setting::Off).unwrap();
        lint_set(&[base, sql], Dialect::Postgres, &options)
            .into_iter()
            .filter(|(v, _)| *v == 2)
            .map(|(_, r)| r)
            .collect()
    };
    assert_eq!(change("ALTER TABLE t ALTER COLUMN name TYPE varchar(100);"), Vec::<&str>::new());
    assert_eq!(change("ALTER TABLE t ALTER COLUMN name TYPE text;"), Vec::<&str>::new());
    assert_eq!(change("ALTER TABLE t ALTER COLUMN name SET DATA TYPE character varying;"), Vec::<&str>::new());
    assert_eq!(change("ALTER TABLE t ALTER COLUMN price TYPE numeric(12,2);"), Vec::<&str>::new());
    assert_eq!(change("ALTER TABLE t ALTER COLUMN name TYPE varchar(20);"), ["change-column-type"]);
    assert_eq!(change("ALTER TABLE t ALTER COLUMN n TYPE bigint;"), ["change-column-type"]);
    assert_eq!(change("ALTER TABLE t ALTER COLUMN code TYPE varchar(10);"), ["change-column-type"]);
    assert_eq!(change("ALTER TABLE unknown ALTER COLUMN c TYPE text;"), ["change-column-type"]);
    // Renames keep the model in step.
    assert_eq!(
        change("ALTER TABLE t RENAME COLUMN name TO title;\nALTER TABLE t ALTER COLUMN title TYPE text;"),
        ["rename-column"]
    );
}

#[test]
fn set_not_null_after_a_validated_check_is_safe() {
    let scripts = [
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;",
        "ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;",
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT users_email_nn;",
    ];
    assert_eq!(lint_set(&scripts, Dialect::Postgres, &LintOptions::new()), []);
    let unvalidated = [scripts[0], scripts[1], scripts[3]];
    assert_eq!(lint_set(&unvalidated, Dialect::Postgres, &LintOptions::new()), [(3, "set-not-null")]);
    let same_transaction = [
        scripts[0],
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c;",
    ];
    assert_eq!(lint_set(&same_transaction, Dialect::Postgres, &LintOptions::new()), [(2, "constraint-not-valid")]);
}

#[test]
fn mysql_modify_compares_with_the_old_definition() {
    let base = "CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, note VARCHAR(100), kind ENUM('a','b') NOT NULL) DEFAULT CHARSET=utf8mb4;";
    let change = |sql: &str| -> Vec<&'static str> {
        lint_set(&[base, sql], Dialect::MySql, &LintOptions::new())
            .into_iter()
            .filter(|(v, _)| *v == 2)
            .map(|(_, r)| r)
            .collect()
    };
    assert_eq!(change("ALTER TABLE t MODIFY name VARCHAR(60) NOT NULL;"), Vec::<&str>::new());
    assert_eq!(change("ALTER TABLE t MODIFY note VARCHAR(200);"), Vec::<&str>::new());
    assert_eq!(change("ALTER TABLE t MODIFY kind ENUM('a','b','c') NOT NULL, ALGORITHM=INSTANT;"), Vec::<&str>::new());
    assert_eq!(change("ALTER TABLE t MODIFY name VARCHAR(100) NOT NULL;"), ["change-column-type"]);
    assert_eq!(change("ALTER TABLE t MODIFY name VARCHAR(50);"), ["drop-not-null"]);
    assert_eq!(change("ALTER TABLE t MODIFY note VARCHAR(100) NOT NULL;"), ["set-not-null"]);
    assert_eq!(change("ALTER TABLE t CHANGE name title VARCHAR(50) NOT NULL;"), ["rename-column"]);
    assert_eq!(change("ALTER TABLE other MODIFY c INT;"), ["change-column-type"]);
}

#[test]
fn positions_point_at_the_offending_statement_or_token() {
    let sql = "-- migrator:no-transaction\nCREATE TABLE a (id bigint PRIMARY KEY);\n\n  ALTER TABLE users\n    ADD COLUMN x int,\n    DROP COLUMN legacy;";
    let found = report(sql, Dialect::Postgres);
    let positions: Vec<(&str, usize, usize)> = found.findings().iter().map(|f| (f.rule, f.line, f.column)).collect();
    assert_eq!(positions, [("drop-column", 6, 5)]);
    let finding = &found.findings()[0];
    assert_eq!(finding.source_line.as_deref(), Some("    DROP COLUMN legacy;"));
    let text = finding.to_string();
    assert!(text.starts_with("m/1_m.up.sql:6:5: deny[drop-column]: `DROP COLUMN legacy` on `users` breaks"), "{text}");
    assert!(text.contains("6 |     DROP COLUMN legacy;\n  |     ^\n"), "{text}");
    assert!(text.contains("= help: stop using the column, deploy, then drop it"), "{text}");
}

#[test]
fn volatile_and_stable_defaults() {
    assert_eq!(pg("ALTER TABLE t ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();"), Vec::<&str>::new());
    assert_eq!(pg("ALTER TABLE t ADD COLUMN active boolean NOT NULL DEFAULT true;"), Vec::<&str>::new());
    assert_eq!(pg("ALTER TABLE t ADD COLUMN tags text[] NOT NULL DEFAULT '{}'::text[];"), Vec::<&str>::new());
    assert_eq!(pg("ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();"), ["add-column-volatile-default"]);
    assert_eq!(
        pg("ALTER TABLE t ADD COLUMN seen timestamptz DEFAULT clock_timestamp();"),
        ["add-column-volatile-default"]
    );
    assert_eq!(
        pg("ALTER TABLE t ADD COLUMN n bigint GENERATED BY DEFAULT AS IDENTITY;"),
        ["add-column-volatile-default"]
    );
    assert_eq!(my("ALTER TABLE t ADD COLUMN token CHAR(36) DEFAULT (UUID());"), ["add-column-volatile-default"]);
    assert_eq!(
        my("ALTER TABLE t ADD COLUMN created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP;"),
        Vec::<&str>::new()
    );
}

#[test]
fn mysql_online_ddl() {
    assert_eq!(my("CREATE INDEX t_a ON t (a);"), Vec::<&str>::new());
    assert_eq!(my("ALTER TABLE t ADD INDEX t_a (a), ALGORITHM=INPLACE, LOCK=NONE;"), Vec::<&str>::new());
    assert_eq!(my("ALTER TABLE t ADD COLUMN c INT NULL, ALGORITHM=INSTANT;"), Vec::<&str>::new());
    assert_eq!(my("ALTER TABLE t ADD UNIQUE (a);"), Vec::<&str>::new());
    assert_eq!(my("ALTER TABLE t ADD INDEX t_a (a), ALGORITHM=COPY;"), ["mysql-blocking-alter"]);
    assert_eq!(my("ALTER TABLE t ADD INDEX t_a (a), LOCK=SHARED;"), ["mysql-blocking-alter"]);
    assert_eq!(my("CREATE INDEX t_a ON t (a) LOCK=EXCLUSIVE;"), ["mysql-blocking-alter"]);
    assert_eq!(my("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4;"), ["mysql-blocking-alter"]);
    assert_eq!(my("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4, LOCK=NONE;"), Vec::<&str>::new());
    assert_eq!(my("ALTER TABLE t ADD FULLTEXT INDEX t_body (body);"), ["mysql-blocking-alter"]);
    assert_eq!(my("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id);"), ["mysql-blocking-alter"]);
    assert_eq!(my("ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, b);"), Vec::<&str>::new());
    assert_eq!(my("ALTER TABLE t DROP PRIMARY KEY;"), ["mysql-blocking-alter"]);
    assert_eq!(my("/*!40101 ALTER TABLE t ENGINE=MyISAM */;"), ["mysql-blocking-alter"]);
}

#[test]
fn missing_down_and_empty_down() {
    let options = LintOptions::new();
    let rules = |m: SqlMigration| -> Vec<(&'static str, String)> {
        lint_migration(&m, &options).into_findings().into_iter().map(|f| (f.rule, f.file)).collect()
    };
    let sql = "CREATE TABLE t (id bigint PRIMARY KEY);";
    assert_eq!(rules(migration(1, sql, None, Dialect::Postgres)), [("missing-down", "m/1_m.up.sql".to_owned())]);
    assert_eq!(
        rules(migration(1, sql, Some("-- nothing\n"), Dialect::Postgres)),
        [("missing-down", "m/1_m.down.sql".to_owned())]
    );
    assert_eq!(rules(migration(1, sql, Some("DROP TABLE t;"), Dialect::Postgres)), []);
    let irreversible = format!("-- migrator:irreversible -- data is gone\n{sql}");
    assert_eq!(rules(migration(1, &irreversible, None, Dialect::Postgres)), []);
    // Down scripts are checked for fatal rules only.
    let down = "DROP INDEX CONCURRENTLY t_a;\nDROP TABLE t;";
    assert_eq!(
        rules(migration(1, sql, Some(down), Dialect::Postgres)),
        [("concurrently-in-transaction", "m/1_m.down.sql".to_owned())]
    );
}

#[test]
fn mixed_ddl_dml_and_backfills() {
    let sql = "ALTER TABLE users ADD COLUMN normalized text;\nUPDATE users SET normalized = lower(email);";
    assert_eq!(pg(sql), ["mixed-ddl-dml", "unbatched-backfill"]);
    assert_eq!(pg("UPDATE users SET a = 1 WHERE id BETWEEN 1 AND 1000;"), Vec::<&str>::new());
    assert_eq!(pg("WITH gone AS (SELECT id FROM users WHERE banned) DELETE FROM sessions;"), ["unbatched-backfill"]);
    assert_eq!(my("DELETE FROM sessions LIMIT 1000;"), Vec::<&str>::new());
    assert_eq!(pg("CREATE TABLE kinds (id bigint PRIMARY KEY);\nINSERT INTO kinds VALUES (1);"), Vec::<&str>::new());
}

#[test]
fn runtime_loading_refuses_fatal_findings_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_a.up.sql"), "CREATE INDEX a ON t (x);\nALTER TABLE t DROP COLUMN y;\n").unwrap();
    assert!(crate::source::load_dir(dir.path(), "m", Dialect::Postgres).is_ok(), "deny findings load");
    std::fs::write(dir.path().join("2_b.up.sql"), "CREATE INDEX CONCURRENTLY b ON t (x);\n").unwrap();
    let errors = crate::source::load_dir(dir.path(), "m", Dialect::Postgres).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:#?}");
    assert!(
        text[0].starts_with("m/2_b.up.sql:1:1: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction block, and this migration runs in one (concurrently-in-transaction): add `-- migrator:no-transaction` at the top of this file"),
        "{text:#?}"
    );
    // The same file is fine for MySQL loading (the rule is PostgreSQL's), and with lint-from.
    assert!(crate::source::load_dir(dir.path(), "m", Dialect::MySql).is_ok());
    let from_3 = LintOptions::new().with_lint_from(Version::new(3).unwrap());
    assert!(crate::source::load_dir_with(dir.path(), "m", Dialect::Postgres, &from_3).is_ok());
}

#[test]
fn load_errors_are_fatal_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_a.up.sql"), "-- migrator:no-transactoin\nSELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("2_b.up.sql"), "SELECT 'oops;\n").unwrap();
    std::fs::write(dir.path().join("3_c.up.sql"), "  \n").unwrap();
    std::fs::write(dir.path().join("4_d.up.sql"), "ALTER TABLE t DROP COLUMN c;\n").unwrap();
    let report =
        lint_dir(dir.path(), Dialect::Postgres, &LintOptions::new().with_level("missing-down", Setting::Off).unwrap());
    let found: Vec<(&str, Level, usize, usize)> =
        report.findings().iter().map(|f| (f.rule, f.level, f.line, f.column)).collect();
    assert_eq!(
        found,
        [
            ("unknown-directive", Level::Fatal, 1, 1),
            ("parse-error", Level::Fatal, 1, 8),
            // An empty file has no line to point at.
            ("invalid-migration", Level::Fatal, 0, 0),
            ("drop-column", Level::Deny, 1, 15),
        ]
    );
    assert_eq!(report.findings()[0].source_line.as_deref(), Some("-- migrator:no-transactoin"));
    let empty = report.findings()[2].to_string();
    assert!(
        empty.starts_with("3_c.up.sql: fatal[invalid-migration]: ") || empty.contains("/3_c.up.sql: fatal"),
        "{empty}"
    );
    assert!(!empty.contains("migrator:allow"), "{empty}");
}

#[test]
fn a_missing_directory_is_a_finding_without_position_or_allow_advice() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing_dir");
    let report = check_dir(&missing, "missing_dir", Dialect::Postgres, &LintOptions::new()).report();
    let finding = &report.findings()[0];
    assert_eq!((finding.rule, finding.line, finding.column), ("invalid-migration", 0, 0));
    let text = finding.to_string();
    assert!(
        text.starts_with("missing_dir: fatal[invalid-migration]: the migrations directory does not exist"),
        "{text}"
    );
    assert!(!text.contains(":1:1") && !text.contains("allow"), "{text}");
}

#[test]
fn findings_on_a_huge_line_show_a_window_around_the_column() {
    let sql = format!("{}ALTER TABLE users DROP COLUMN legacy;{}", "SELECT 1;".repeat(500), "SELECT 2;".repeat(500));
    let found = report(&sql, Dialect::Postgres);
    let finding = found.findings().iter().find(|f| f.rule == "drop-column").unwrap();
    assert_eq!((finding.line, finding.column), (1, 4519));
    let source = finding.source_line.as_deref().unwrap();
    assert!(source.chars().count() <= 122 && source.starts_with('…') && source.ends_with('…'), "{source}");
    let at: String = source.chars().skip(finding.source_column - 1).take(11).collect();
    assert_eq!(at, "DROP COLUMN");
    assert!(finding.to_string().len() < 1_000, "{finding}");
}

#[test]
fn the_human_report_lists_fifty_findings_then_counts_the_rest() {
    let sql = "DROP TABLE IF EXISTS zz;\n".repeat(60);
    let found = report(&sql, Dialect::Postgres);
    assert_eq!(found.findings().len(), 60);
    let text = found.to_string();
    assert_eq!(text.matches("deny[drop-table]").count(), LintReport::LISTED);
    assert!(text.contains("… and 10 more findings (run `migrator lint --all` for all)"), "{text}");
    assert!(text.ends_with("60 findings: 60 deny"), "{text}");
}

#[test]
fn identifiers_over_the_limit() {
    let name63 = "a".repeat(63);
    let name64 = "b".repeat(64);
    assert_eq!(pg(&format!("CREATE TABLE {name63} (id bigint PRIMARY KEY);")), Vec::<&str>::new());
    assert_eq!(pg(&format!("CREATE TABLE {name64} (id bigint PRIMARY KEY);")), ["identifier-too-long"]);
    assert_eq!(my(&format!("CREATE TABLE {name64} (id BIGINT PRIMARY KEY);")), Vec::<&str>::new());
    assert_eq!(my(&format!("CREATE TABLE `{name64}x` (id BIGINT PRIMARY KEY);")), ["identifier-too-long"]);
    // PostgreSQL counts bytes: 32 two-byte characters are 64 bytes.
    assert_eq!(pg(&format!("CREATE TABLE \"{}\" (id bigint PRIMARY KEY);", "é".repeat(32))), ["identifier-too-long"]);
}

#[test]
fn calling_a_procedure_that_commits() {
    let create =
        "CREATE PROCEDURE batch() LANGUAGE plpgsql AS $$ BEGIN UPDATE t SET a = 1 WHERE id < 10; COMMIT; END $$;";
    let call = "CALL batch();";
    let options = LintOptions::new();
    assert_eq!(lint_set(&[create, call], Dialect::Postgres, &options), [(2, "not-allowed-in-transaction")]);
    let no_tx = "-- migrator:no-transaction\nCALL batch();";
    assert_eq!(lint_set(&[create, no_tx], Dialect::Postgres, &options), []);
    let replaced = "CREATE OR REPLACE PROCEDURE batch() LANGUAGE sql AS $$ UPDATE t SET a = 1 WHERE id < 10 $$;";
    assert_eq!(lint_set(&[create, replaced, call], Dialect::Postgres, &options), []);
    assert_eq!(lint_set(&[create, "DROP PROCEDURE IF EXISTS batch;", call], Dialect::Postgres, &options), []);
    // An unknown procedure may or may not commit: not reported.
    assert_eq!(lint_set(&["CALL other();"], Dialect::Postgres, &options), []);
}

#[test]
fn drop_forms_that_are_not_columns() {
    assert_eq!(pg("ALTER TABLE t DROP CONSTRAINT IF EXISTS t_a_check;"), Vec::<&str>::new());
    assert_eq!(pg("ALTER TABLE settings DROP key;"), ["drop-column"], "a PostgreSQL column may be named key");
    for sql in [
        "ALTER TABLE t DROP INDEX t_a;",
        "ALTER TABLE t DROP KEY t_a;",
        "ALTER TABLE t DROP FOREIGN KEY t_fk;",
        "ALTER TABLE t DROP CHECK t_chk;",
    ] {
        assert_eq!(my(sql), Vec::<&str>::new(), "{sql}");
    }
}

#[test]
fn dump_style_baselines_have_no_hazard() {
    let pg_dump = r#"SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA app;
CREATE TYPE app.state AS ENUM ('new', 'done');
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $_$
BEGIN
    NEW.updated_at = statement_timestamp();
    RETURN NEW;
EXCEPTION WHEN others THEN
    RETURN NEW;
END;
$_$;
SET default_tablespace = '';
CREATE TABLE app.users (
    id bigint NOT NULL,
    email public.citext NOT NULL,
    state app.state DEFAULT 'new'::app.state NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE app.users OWNER TO postgres;
CREATE SEQUENCE app.users_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE app.users_id_seq OWNED BY app.users.id;
ALTER TABLE ONLY app.users ALTER COLUMN id SET DEFAULT nextval('app.users_id_seq'::regclass);
SELECT pg_catalog.setval('app.users_id_seq', 1, false);
ALTER TABLE ONLY app.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE ONLY app.users ADD CONSTRAINT users_email_key UNIQUE (email);
CREATE INDEX users_state ON app.users USING btree (state) WHERE (state <> 'done'::app.state);
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
COMMENT ON TABLE app.users IS 'people; COMMIT is a word here';
GRANT SELECT ON TABLE app.users TO PUBLIC;"#;
    assert_eq!(pg(pg_dump), Vec::<&str>::new());
    let mysqldump = "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
CREATE TABLE `users` (
  `id` bigint NOT NULL AUTO_INCREMENT,
  `email` varchar(191) COLLATE utf8mb4_unicode_ci NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_email` (`email`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
LOCK TABLES `users` WRITE;
/*!40000 ALTER TABLE `users` DISABLE KEYS */;
INSERT INTO `users` VALUES (1,'a@example.com'),(2,'b@example.com');
/*!40000 ALTER TABLE `users` ENABLE KEYS */;
UNLOCK TABLES;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;";
    // Only the MySQL-specific warning about several DDL statements (CREATE, LOCK, UNLOCK).
    assert_eq!(my(mysqldump), ["mysql-multi-ddl"]);
    // mysqldump's `DROP TABLE IF EXISTS` before each CREATE would drop a live table: reported.
    assert_eq!(my(&format!("DROP TABLE IF EXISTS `users`;\n{mysqldump}")), ["drop-table", "mysql-multi-ddl"]);
}

#[test]
fn an_empty_down_script_is_still_missing_down_and_a_no_op_needs_none() {
    let options = LintOptions::new();
    let with_empty_down = migration(1, "CREATE TABLE t (id bigint PRIMARY KEY);", Some(""), Dialect::Postgres);
    let rules: Vec<&str> = lint_migration(&with_empty_down, &options).findings().iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["missing-down"]);
    let comments_down = migration(1, "CREATE TABLE t (id bigint PRIMARY KEY);", Some("-- later\n"), Dialect::Sqlite);
    let rules: Vec<&str> = lint_migration(&comments_down, &options).findings().iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["missing-down"]);
    let no_op = migration(1, "-- migrator:no-op -- placeholder for a removed migration\n", None, Dialect::Postgres);
    assert!(lint_migration(&no_op, &options).is_empty());
}

#[test]
fn two_levels_for_one_rule_are_an_error_naming_it() {
    let options = LintOptions::new().with_level("prefer-text", Setting::Deny).unwrap();
    let e = options.clone().with_level("prefer-text", Setting::Off).unwrap_err().to_string();
    assert_eq!(e, "invalid lint rule `prefer-text`: it is set both to deny and to off: keep one level for each rule");
    // The same level twice is harmless.
    assert_eq!(options.clone().with_level("prefer-text", Setting::Deny).unwrap(), options);
}

/// The help said "move the statement into a migration of its own" to a migration that was
/// already only that statement.
#[test]
fn concurrently_alone_in_its_migration_only_needs_the_directive() {
    let alone = report("CREATE INDEX CONCURRENTLY i ON t (c);", Dialect::Postgres);
    assert_eq!(alone.findings()[0].help, "add `-- migrator:no-transaction` at the top of this file");
    let with_others = report("CREATE TABLE u (id bigint);\nCREATE INDEX CONCURRENTLY i ON t (c);", Dialect::Postgres);
    let finding = with_others.findings().iter().find(|f| f.rule == "concurrently-in-transaction").unwrap();
    assert!(finding.help.starts_with("move the statement into a migration of its own"), "{}", finding.help);
}

/// What the splitter cannot tell without a parser (an alias `end` without `AS` in a SQLite
/// trigger body) leaves a top-level `END`: the finding says to quote the name.
#[test]
fn a_stray_end_after_a_trigger_says_to_quote_the_name() {
    let found = report("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT a end FROM t; END;", Dialect::Sqlite);
    let finding = found.findings().iter().find(|f| f.rule == "transaction-control").unwrap();
    assert!(finding.message.contains("quote that name"), "{}", finding.message);
    // An unquoted column named `end` no longer ends the body.
    assert_eq!(
        lint_set(
            &["CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET end = 1; END;"],
            Dialect::Sqlite,
            &LintOptions::new()
        ),
        []
    );
}

/// The help for an index on a partitioned table said to build it CONCURRENTLY, which
/// PostgreSQL refuses there ("cannot create index on partitioned table concurrently"); it now
/// gives the way that works: `ON ONLY` the parent, each partition's index concurrently, attach.
#[test]
fn an_index_on_a_partitioned_table_is_built_per_partition() {
    let create = "CREATE TABLE events (at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);\n\
                  CREATE TABLE events_default PARTITION OF events DEFAULT;";
    let set = [
        migration(1, create, None, Dialect::Postgres),
        migration(2, "CREATE INDEX events_kind ON events (kind);", None, Dialect::Postgres),
        migration(3, "CREATE INDEX events_default_at ON events_default (at);", None, Dialect::Postgres),
    ];
    let report = lint_migrations(&set, &LintOptions::new().with_level("missing-down", Setting::Off).unwrap());
    let findings = report.findings();
    assert_eq!(findings.iter().map(|f| f.rule).collect::<Vec<_>>(), ["index-not-concurrent"; 2], "{report}");
    let (parent, partition) = (&findings[0], &findings[1]);
    assert!(
        parent.message.contains("partitioned table `events` blocks writes to every partition"),
        "{}",
        parent.message
    );
    assert!(parent.help.contains("create it `ON ONLY events`"), "{}", parent.help);
    assert!(parent.help.contains("ATTACH PARTITION"), "{}", parent.help);
    // A partition is a table of its own: CONCURRENTLY works there.
    assert!(partition.help.starts_with("use `CREATE INDEX CONCURRENTLY`"), "{}", partition.help);
}

/// Dropping an index of a partitioned table was told to use `DROP INDEX CONCURRENTLY`, which
/// PostgreSQL refuses there ("cannot drop partitioned index concurrently").
#[test]
fn an_index_of_a_partitioned_table_cannot_be_dropped_concurrently() {
    let create = "CREATE TABLE events (at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);\n\
                  CREATE TABLE events_default PARTITION OF events DEFAULT;\n\
                  CREATE INDEX events_kind ON events (kind);\n\
                  CREATE INDEX events_default_at ON events_default (at);";
    let set = [
        migration(1, create, None, Dialect::Postgres),
        migration(2, "DROP INDEX events_kind;", None, Dialect::Postgres),
        migration(3, "DROP INDEX events_default_at;", None, Dialect::Postgres),
    ];
    let report = lint_migrations(&set, &LintOptions::new().with_level("missing-down", Setting::Off).unwrap());
    let findings = report.findings();
    assert_eq!(findings.iter().map(|f| f.rule).collect::<Vec<_>>(), ["drop-index-not-concurrent"; 2], "{report}");
    assert!(findings[0].help.starts_with("PostgreSQL cannot drop an index of a partitioned table CONCURRENTLY"));
    assert!(findings[1].help.starts_with("use `DROP INDEX CONCURRENTLY`"), "{}", findings[1].help);
}

/// Detaching a partition was told to use `DETACH PARTITION … CONCURRENTLY`, which PostgreSQL
/// refuses while the table has a default partition ("cannot detach partitions concurrently
/// when a default partition exists").
#[test]
fn a_partition_cannot_be_detached_concurrently_beside_a_default_partition() {
    let create = "CREATE TABLE events (at timestamptz NOT NULL) PARTITION BY RANGE (at);\n\
                  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n\
                  CREATE TABLE logs (at timestamptz NOT NULL) PARTITION BY RANGE (at);\n\
                  CREATE TABLE logs_2025 PARTITION OF logs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n\
                  CREATE TABLE logs_rest (at timestamptz NOT NULL);";
    let set = [
        migration(1, create, None, Dialect::Postgres),
        migration(
            2,
            "CREATE TABLE events_other PARTITION OF events DEFAULT;\nALTER TABLE events_other RENAME TO events_default;",
            None,
            Dialect::Postgres,
        ),
        migration(3, "ALTER TABLE events DETACH PARTITION events_2025;", None, Dialect::Postgres),
        migration(4, "ALTER TABLE logs DETACH PARTITION logs_2025;", None, Dialect::Postgres),
        migration(5, "ALTER TABLE logs ATTACH PARTITION logs_rest DEFAULT;", None, Dialect::Postgres),
        migration(6, "ALTER TABLE logs DETACH PARTITION logs_rest;", None, Dialect::Postgres),
        migration(7, "DROP TABLE events_default;", None, Dialect::Postgres),
        migration(8, "ALTER TABLE events DETACH PARTITION events_2026;", None, Dialect::Postgres),
        migration(9, "ALTER TABLE logs DETACH PARTITION logs_2026;", None, Dialect::Postgres),
    ];
    let options = LintOptions::new()
        .with_level("missing-down", Setting::Off)
        .unwrap()
        .with_level("drop-table", Setting::Off)
        .unwrap();
    let report = lint_migrations(&set, &options);
    let helps: Vec<(&str, bool)> =
        report.findings().iter().map(|f| (f.file.as_str(), f.help.contains("has a default partition"))).collect();
    assert_eq!(
        helps,
        [
            ("m/3_m.up.sql", true),
            ("m/4_m.up.sql", false),
            ("m/6_m.up.sql", true),
            ("m/8_m.up.sql", false),
            ("m/9_m.up.sql", false)
        ],
        "{report}"
    );
    assert!(report.findings()[0].help.contains("while `events` has a default partition (`events_default`)"));
    // Once the default partition is dropped (7) or detached (6), CONCURRENTLY works again (8, 9).
}
