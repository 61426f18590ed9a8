//! SQLite: the conformance suite, then what only SQLite has (the migration lock is a lock
//! file, and each migration still re-reads the history in its own `BEGIN IMMEDIATE`, which
//! keeps runs without the lock safe; two OS processes on one file; foreign keys during table
//! rebuilds; PRAGMAs that must not leak).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::conformance_tests;
use migrator_conformance::sqlite::Lite;

// Not listed: `lock_timeout_names_holder` holds the lock on a server connection, which SQLite
// does not have; `the_lock_file_names_its_holder` and `busy_wait_is_bounded_and_says_so` below
// check SQLite's two waits instead.
conformance_tests!(Lite:
    apply_all,
    run_to_target,
    down_and_up_again,
    irreversible_down_errors,
    no_transaction_down,
    failed_down_advice_works_when_followed,
    sql_added_to_an_applied_empty_migration_is_never_recorded_as_run,
    checksums,
    failed_transactional_leaves_no_trace,
    failed_no_transaction_then_resume,
    resume_skip_and_changed_statements,
    interrupted_is_reported,
    concurrent_runners_apply_once,
    two_sets_in_one_database,
    tenants_roll_out,
    grouped_apply,
    repeatable_migrations,
    squash_migrations,
    lock_released_after_failure,
    lock_released_after_future_dropped,
    contract_phase,
    out_of_order_policy,
    unknown_version_policy,
    baseline,
    force,
    newer_history_layout_is_refused,
    custom_history_table,
    status_validate_plan,
    in_progress_row_is_not_reported_as_interrupted,
    status_shows_a_migration_running_elsewhere,
    rust_code_migrations_mixed_with_sql,
);

use std::time::{Duration, Instant};

use migrator_conformance::{Backend, Dir, init_tracing};
use migrator_core::plan::SkipReason;
use migrator_core::{Dialect, Direction};
use migrator_sqlite::{
    EmbeddedMigrations, Error, FailureOutcome, MigrationSet, Migrator, PlanError, SqliteDriver, embed_migrations,
};
use sqlx::SqliteConnection;

fn set(dir: &Dir) -> MigrationSet<SqliteConnection> {
    dir.set::<SqliteConnection>(Dialect::Sqlite)
}

fn migrator(db: &Lite, dir: &Dir) -> Migrator {
    Migrator::new(db.driver(), set(dir)).unwrap()
}

fn versions(report: &migrator_sqlite::Report) -> Vec<i64> {
    report.steps.iter().map(|s| s.version.get()).collect()
}

fn elsewhere(report: &migrator_sqlite::Report) -> Vec<i64> {
    report
        .skipped
        .iter()
        .filter(|s| matches!(s.reason, SkipReason::DoneElsewhere { direction: Direction::Up }))
        .map(|s| s.version.get())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_wait_is_bounded_and_says_so() {
    init_tracing();
    let db = Lite::fresh("busy_wait").await;
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (note TEXT);\n");
    let held = db.hold_write_lock().await.unwrap();
    let impatient = Migrator::builder(db.driver(), set(&dir)).lock_wait(Duration::from_millis(400)).build().unwrap();
    let started = Instant::now();
    let e = impatient.run().await.unwrap_err();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(350) && waited < Duration::from_secs(5), "{waited:?}");
    assert!(matches!(&e, Error::LockTimeout { lock, .. } if lock.contains("write lock of SQLite database")), "{e}");
    assert!(e.to_string().contains("SQLite does not say which process"), "{e}");
    drop(held);
    assert_eq!(versions(&impatient.run().await.unwrap()), [1], "the lock came back");
    db.cleanup().await;
}

/// Without the migration lock (`no_lock`, or a process of a version that has none), runners
/// that planned before another process applied the migrations skip them, reporting why: each
/// migration is applied by exactly one runner, as each re-reads its row under the write lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runners_that_planned_too_early_skip_what_others_applied() {
    init_tracing();
    let db = Lite::fresh("planned_too_early").await;
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (note TEXT);\n")
        .up(2, "insert_once", "INSERT INTO log (note) VALUES ('once');\n")
        .up(3, "insert_twice", "INSERT INTO log (note) VALUES ('twice');\n");
    migrator(&db, &dir).run_to(1).await.unwrap();
    // Every runner plans (reading needs no write lock), then waits for the write lock.
    let held = db.hold_write_lock().await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let m = Migrator::builder(db.driver(), set(&dir)).no_lock().build().unwrap();
        tasks.push(tokio::spawn(async move { m.run().await }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(held);
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        applied.extend(versions(&report));
        skipped.extend(elsewhere(&report));
        if report.steps.is_empty() {
            assert!(report.to_string().contains("skipped 2 insert_once: another process applied it meanwhile"));
        }
    }
    applied.sort_unstable();
    skipped.sort_unstable();
    assert_eq!(applied, [2, 3], "each migration applied once");
    assert_eq!(skipped, [2, 2, 2, 3, 3, 3], "and skipped by the three others");
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 2);
    db.cleanup().await;
}

#[test]
fn two_processes_migrate_one_file_at_once() {
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (version INTEGER PRIMARY KEY, note TEXT);\n");
    for v in 2..=6 {
        dir.up(
            v,
            &format!("insert_{v}"),
            &format!("INSERT INTO log (version, note) VALUES ({v}, 'by one process');\nSELECT '150' = '0' COLLATE migrator_sleep;\n"),
        );
    }
    let file = tempfile::tempdir().unwrap();
    let db = file.path().join("shared.db");
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_sqlite-migrate"))
                .arg(&db)
                .arg(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied: Vec<i64> = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let line = stdout.lines().find_map(|l| l.strip_prefix("applied")).unwrap();
        applied.extend(line.split_whitespace().map(|v| v.parse::<i64>().unwrap()));
    }
    applied.sort_unstable();
    assert_eq!(applied, [1, 2, 3, 4, 5, 6], "every migration applied by exactly one of the two processes");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = migrator_conformance::sqlite::pool(&db).await;
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM log").fetch_one(&pool).await.unwrap();
        assert_eq!(rows, 5);
        let history: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _migrator_history WHERE version > 0 AND state = 'applied'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(history, 6);
    });
}

/// Without the migration lock, a run cannot tell another process's no-transaction migration
/// in progress from a dead one: it stops with an error and applies nothing twice. (With the
/// lock it waits: `in_progress_row_is_not_reported_as_interrupted`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_lock_a_no_transaction_migration_in_progress_stops_other_runs() {
    init_tracing();
    let db = Lite::fresh("no_tx_in_progress").await;
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (note TEXT);\n").up(
        2,
        "stepwise",
        &format!(
            "-- migrator:no-transaction\nINSERT INTO log (note) VALUES ('first');\n{};\nINSERT INTO log (note) VALUES ('third');\n",
            Lite::sleep_sql(Duration::from_secs(2))
        ),
    );
    let first = migrator(&db, &dir);
    let running = tokio::spawn(async move { first.run().await });
    migrator_conformance::suite::wait_until_inside_the_stepwise_migration(&db).await;
    let e = Migrator::builder(db.driver(), set(&dir)).no_lock().build().unwrap().run().await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Plan { source: PlanError::Interrupted { statement: 2, .. } | PlanError::StartedElsewhere { .. } }
        ),
        "{e}"
    );
    assert_eq!(versions(&running.await.unwrap().unwrap()), [1, 2]);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 2, "nothing ran twice");
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());
    db.cleanup().await;
}

/// SQLite's table rebuild in a transactional migration drops the old parent table: with
/// foreign keys enforced, that would cascade-delete its children. The migration runs with
/// enforcement off and checks the keys before commit instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_rebuild_keeps_the_children_and_keys_are_checked() {
    init_tracing();
    let db = Lite::fresh("rebuild").await;
    assert_eq!(db.scalar("PRAGMA foreign_keys").await, 1, "sqlx enforces foreign keys by default");
    let dir = Dir::new();
    dir.up(
        1,
        "create_authors",
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);\n\
         CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE);\n\
         INSERT INTO authors VALUES (1, 'Ann'), (2, NULL);\nINSERT INTO books VALUES (10, 1), (11, 2);\n",
    )
    .up(
        2,
        "require_author_name",
        "-- migrator:allow drop-table -- rebuild\nCREATE TABLE authors_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
         INSERT INTO authors_new SELECT id, coalesce(name, 'unknown') FROM authors;\nDROP TABLE authors;\n\
         ALTER TABLE authors_new RENAME TO authors;\n",
    );
    assert_eq!(versions(&migrator(&db, &dir).run().await.unwrap()), [1, 2]);
    assert_eq!(db.scalar("SELECT count(*) FROM books").await, 2, "no cascade: the books are still there");
    assert_eq!(db.scalar("SELECT count(*) FROM authors WHERE name = 'unknown'").await, 1);

    // A migration that leaves a dangling reference is rolled back, naming the table.
    dir.up(3, "orphan_a_book", "DELETE FROM authors WHERE id = 2;\n");
    let e = migrator(&db, &dir).run().await.unwrap_err();
    let Error::MigrationFailed { failure } = &e else { panic!("expected a failure, got {e}") };
    assert_eq!((failure.statement, failure.outcome), (None, FailureOutcome::RolledBack), "{e}");
    assert!(e.to_string().contains("a row of `books` (rowid 11) references a missing row of `authors`"), "{e}");
    assert_eq!(db.scalar("SELECT count(*) FROM authors").await, 2, "rolled back");
    // Enforcement is back on for the application's connections.
    let mut conn = db.pool.acquire().await.unwrap();
    assert!(sqlx::query("INSERT INTO books VALUES (12, 99)").execute(&mut *conn).await.is_err());
    drop(conn);
    db.cleanup().await;
}

/// A migration's PRAGMAs neither reach the next migration nor the application's pool, and
/// the busy wait is the pool's again after the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_do_not_leak_between_migrations_nor_into_the_pool() {
    init_tracing();
    let db = Lite::fresh("settings").await;
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(migrator_conformance::sqlite::options(&db.path).busy_timeout(Duration::from_millis(1234)))
        .await
        .unwrap();
    let dir = Dir::new();
    // A CHECK makes the migration fail when a setting leaked.
    dir.up(1, "create_check", "CREATE TABLE leak_check (leaked INTEGER CHECK (leaked = 0));\n")
        .up(2, "set_things", "PRAGMA recursive_triggers = ON;\nPRAGMA cache_size = -4321;\n")
        .up(
            3,
            "check_after_transactional",
            "INSERT INTO leak_check SELECT recursive_triggers FROM pragma_recursive_triggers;\n\
             INSERT INTO leak_check SELECT cache_size = -4321 FROM pragma_cache_size;\n",
        )
        .up(4, "keys_off", "-- migrator:no-transaction\nPRAGMA foreign_keys = OFF;\nPRAGMA recursive_triggers = ON;\n")
        .up(
            5,
            "check_after_no_transaction",
            "-- migrator:no-transaction\nINSERT INTO leak_check SELECT 1 - foreign_keys FROM pragma_foreign_keys;\n\
             INSERT INTO leak_check SELECT recursive_triggers FROM pragma_recursive_triggers;\n",
        );
    let report = Migrator::new(SqliteDriver::from(&pool), set(&dir)).unwrap().run().await.unwrap();
    assert_eq!(versions(&report), [1, 2, 3, 4, 5]);
    let mut conn = pool.acquire().await.unwrap();
    for (pragma, expected) in [("foreign_keys", 1), ("recursive_triggers", 0), ("busy_timeout", 1234)] {
        let value: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA {pragma}"))).fetch_one(&mut *conn).await.unwrap();
        assert_eq!(value, expected, "{pragma} as the pool had it");
    }
    drop(conn);
    pool.close().await;
    db.cleanup().await;
}

/// `VACUUM` runs on its own in a no-transaction migration; the statements around it commit
/// with their progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuum_in_a_no_transaction_migration() {
    init_tracing();
    let db = Lite::fresh("vacuum").await;
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (note TEXT);\nINSERT INTO log VALUES ('x');\n")
        .up(2, "compact", "-- migrator:no-transaction\nDELETE FROM log;\nVACUUM;\nINSERT INTO log VALUES ('after');\n")
        .down(2, "compact", "DELETE FROM log WHERE note = 'after';\n");
    let report = migrator(&db, &dir).run().await.unwrap();
    assert_eq!(versions(&report), [1, 2]);
    assert_eq!(report.steps[1].statements, 3);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1);
    assert_eq!(versions(&migrator(&db, &dir).down(1).await.unwrap()), [2]);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_it_cannot_enforce_are_refused() {
    let db = Lite::fresh("timeouts_refused").await;
    let dir = Dir::new();
    dir.up(1, "slow", "-- migrator:statement-timeout 1s\nCREATE TABLE t (id INTEGER);\n");
    let e = Migrator::new(db.driver(), set(&dir)).unwrap_err();
    assert!(e.to_string().contains("`statement-timeout` cannot be enforced by this database"), "{e}");
    let e = Migrator::builder(db.driver(), MigrationSet::<SqliteConnection>::new())
        .lock_timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("cannot enforce lock timeouts"), "{e}");
    db.cleanup().await;
}

static APP: EmbeddedMigrations = embed_migrations!("fixtures/sqlite-app");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_migrations_apply() {
    init_tracing();
    let db = Lite::fresh("embedded").await;
    let m = Migrator::new(db.driver(), APP).unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [20261101090000, 20261102090000]);
    db.exec("INSERT INTO accounts (email) VALUES ('a@example.com')").await;
    db.exec("UPDATE accounts SET email = 'b@example.com'").await;
    assert_eq!(db.scalar("SELECT count(*) FROM accounts WHERE updated_at IS NOT NULL").await, 1, "the trigger ran");
    assert!(m.run().await.unwrap().is_noop());
    assert_eq!(versions(&m.down_all().await.unwrap()), [20261102090000, 20261101090000]);
    db.cleanup().await;
}

/// The migration lock is a lock file next to the database: a second run waits for it, and
/// one that gives up names the file and its holder (who wrote its name into it). Locks of
/// different database files are independent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_file_names_its_holder() {
    init_tracing();
    let db = Lite::fresh("lock_file").await;
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (note TEXT);\n").up(
        2,
        "slow",
        &format!("INSERT INTO log (note) VALUES ('slow');\n{};\n", Lite::sleep_sql(Duration::from_secs(2))),
    );
    let holder = migrator(&db, &dir);
    let running = tokio::spawn(async move { holder.run().await });
    let started = Instant::now();
    while !db.table_exists("log").await {
        assert!(started.elapsed() < Duration::from_secs(20), "the first run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let impatient = Migrator::builder(db.driver(), set(&dir)).lock_wait(Duration::from_millis(300)).build().unwrap();
    let e = impatient.run().await.unwrap_err();
    let Error::LockTimeout { lock, holder, .. } = &e else { panic!("expected a lock timeout, got {e}") };
    assert!(lock.ends_with("-migrator-lock"), "{lock}");
    let holder = holder.as_deref().unwrap();
    assert!(holder.contains(&format!("pid {}", std::process::id())), "the holder wrote who it is: {holder}");

    // Another database file has its own lock.
    let other = Lite::fresh("lock_file_other").await;
    let other_dir = Dir::new();
    other_dir.up(1, "t", "CREATE TABLE t (id INTEGER);\n");
    let quick = Migrator::builder(other.driver(), set(&other_dir)).lock_wait(Duration::from_millis(300));
    assert_eq!(versions(&quick.build().unwrap().run().await.unwrap()), [1], "not blocked by the first file's lock");

    assert_eq!(versions(&running.await.unwrap().unwrap()), [1, 2]);
    assert!(impatient.run().await.unwrap().is_noop(), "the lock came back");
    other.cleanup().await;
    db.cleanup().await;
}

/// A debug build whose embedded set differs from its source directory says so at startup,
/// naming the files and the fix: the stale-binary trap (a file added since the build is not
/// in the binary unless build.rs watches the directory) is caught without the build script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_binary_says_so_at_startup() {
    use migrator_core::{Checksum, EmbeddedMigration, EmbeddedMigrations, EmbeddedScript, Warning};
    let db = Lite::fresh("stale_binary").await;
    let dir = tempfile::tempdir().unwrap();
    let a = "CREATE TABLE a (id INTEGER);\n";
    let b = "CREATE TABLE b (id INTEGER);\n";
    std::fs::write(dir.path().join("1_a.up.sql"), a).unwrap();
    std::fs::write(dir.path().join("2_b.up.sql"), b).unwrap();
    // What embed_migrations! emits in a debug build, for the directory as it was then.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let script = |file: &str, text: &str| {
        EmbeddedScript::new(
            leak(format!("m/{file}")),
            leak(text.to_owned()),
            leak(Checksum::of_script(text).as_str().to_owned()),
        )
    };
    let items: &'static [EmbeddedMigration] = Box::leak(Box::new([
        EmbeddedMigration::new(1, "a", script("1_a.up.sql", a), None),
        EmbeddedMigration::new(2, "b", script("2_b.up.sql", b), None),
    ]));
    let embedded = EmbeddedMigrations::new(migrator_core::Dialect::Sqlite, items)
        .with_source_dir(Some((leak(dir.path().display().to_string()), "m")));
    let fresh = Migrator::new(db.driver(), embedded).unwrap().run().await.unwrap();
    assert!(!fresh.warnings.iter().any(|w| matches!(w, Warning::StaleBinary(_))), "{:?}", fresh.warnings);
    // Since the build: 3 added, 2 removed, 1 edited.
    std::fs::write(dir.path().join("3_c.up.sql"), "CREATE TABLE c (id INTEGER);\n").unwrap();
    std::fs::remove_file(dir.path().join("2_b.up.sql")).unwrap();
    std::fs::write(dir.path().join("1_a.up.sql"), "CREATE TABLE a (id INTEGER, note TEXT);\n").unwrap();
    let report = Migrator::new(db.driver(), embedded).unwrap().run().await.unwrap();
    let stale = report.warnings.iter().find_map(|w| match w {
        Warning::StaleBinary(stale) => Some(stale.clone()),
        _ => None,
    });
    let stale = stale.unwrap_or_else(|| panic!("no stale-binary warning: {:?}", report.warnings));
    assert_eq!(
        (stale.added.as_slice(), stale.removed.as_slice(), stale.changed.as_slice()),
        (&["3_c.up.sql".to_owned()][..], &["2_b.up.sql".to_owned()][..], &["1_a.up.sql".to_owned()][..])
    );
    let text = report.to_string();
    assert!(text.contains("rebuild it") && text.contains("watch_migrations(\"m\")"), "{text}");
    // A binary run away from its sources compares nothing.
    let elsewhere = EmbeddedMigrations::new(migrator_core::Dialect::Sqlite, items)
        .with_source_dir(Some(("/nonexistent/migrations", "m")));
    let report = Migrator::new(db.driver(), elsewhere).unwrap().run().await.unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    db.cleanup().await;
}
