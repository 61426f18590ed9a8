//! MySQL/MariaDB: the conformance suite, then what only MySQL has (non-transactional DDL:
//! per-statement progress, resume, KILL, stored-program bodies).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::conformance_tests;
use migrator_conformance::mysql::My;

conformance_tests!(My:
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
    repeatable_migrations,
    squash_migrations,
    lock_released_after_failure,
    lock_released_after_future_dropped,
    lock_timeout_names_holder,
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
    startup_check_sends_rows_only_when_they_differ,
    rust_code_migrations_mixed_with_sql,
);

use std::time::{Duration, Instant};

use migrator_conformance::proxy::{Proxy, warm};
use migrator_conformance::{Backend, Dir, init_tracing};
use migrator_mysql::{
    EmbeddedMigrations, Error, FailureOutcome, LockRetry, MigrationSet, MigrationState, Migrator, MySqlDriver,
    PlanError, embed_migrations,
};
use sqlx::MySqlConnection;
use sqlx::mysql::MySqlPoolOptions;

fn set(dir: &Dir) -> MigrationSet<MySqlConnection> {
    dir.set::<MySqlConnection>(migrator_core::Dialect::MySql)
}

fn migrator(db: &My, dir: &Dir) -> Migrator {
    Migrator::new(db.driver(), set(dir)).unwrap()
}

fn versions(report: &migrator_mysql::Report) -> Vec<i64> {
    report.steps.iter().map(|s| s.version.get()).collect()
}

async fn columns(db: &My, table: &str) -> i64 {
    db.scalar(&format!(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
    ))
    .await
}

fn ddl_migration(dir: &Dir, second: &str) {
    dir.up(1, "three_ddl", &format!("CREATE TABLE a (id BIGINT);\n{second}\nCREATE TABLE c (id BIGINT);\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_failing_at_statement_two_then_resume() {
    init_tracing();
    let db = My::fresh("ddl_resume").await;
    let dir = Dir::new();
    ddl_migration(&dir, "ALTER TABLE missing ADD COLUMN x INT;");
    let e = migrator(&db, &dir).run().await.unwrap_err();
    let Error::MigrationFailed { failure } = &e else { panic!("{e}") };
    assert_eq!((failure.statement, failure.line, failure.outcome), (Some(2), Some(2), FailureOutcome::Recorded), "{e}");
    assert!(failure.message.contains("1146"), "{e}");
    assert!(db.table_exists("a").await && !db.table_exists("c").await);

    let e = migrator(&db, &dir).run().await.unwrap_err();
    assert!(e.to_string().contains("migration 1 `three_ddl` failed at statement 2 of 3 (line 2)"), "{e}");

    // Editing statement 1, which already ran, is refused.
    dir.write(
        "1_three_ddl.up.sql",
        "CREATE TABLE a (id BIGINT, extra INT);\nALTER TABLE a ADD COLUMN x INT;\nCREATE TABLE c (id BIGINT);\n",
    );
    let e = migrator(&db, &dir).resume().await.unwrap_err();
    assert!(matches!(&e, Error::Plan { source: PlanError::StatementChanged { statement: 1, line: 1, .. } }), "{e}");

    // Fixing statement 2 and resuming finishes it; statement 1 is not re-run (it would fail:
    // the table exists).
    ddl_migration(&dir, "ALTER TABLE a ADD COLUMN x INT;");
    let report = migrator(&db, &dir).resume().await.unwrap();
    assert_eq!((report.steps[0].resumed_at, report.steps[0].statements), (Some(2), 2));
    assert_eq!(columns(&db, "a").await, 2);
    assert!(db.table_exists("c").await);
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_without_key_is_never_applied_twice_across_failure_and_resume() {
    init_tracing();
    let db = My::fresh("insert_once").await;
    let dir = Dir::new();
    let script = |third: &str| {
        format!(
            "CREATE TABLE log (note VARCHAR(20));\nINSERT INTO log (note) VALUES ('once');\n{third}\nINSERT INTO log (note) VALUES ('last');\n"
        )
    };
    dir.up(1, "log", &script("ALTER TABLE missing ADD COLUMN x INT;"));
    assert!(matches!(migrator(&db, &dir).run().await, Err(Error::MigrationFailed { .. })));
    dir.up(1, "log", &script("ALTER TABLE log ADD COLUMN at INT;"));
    migrator(&db, &dir).resume().await.unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM log WHERE note = 'once'").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM log").await, 2);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_ddl_is_interrupted_then_resume_skip() {
    init_tracing();
    let db = My::fresh("killed_ddl").await;
    let dir = Dir::new();
    dir.up(
        1,
        "slow_ddl",
        "CREATE TABLE a (id BIGINT);\nCREATE TABLE slow AS SELECT SLEEP(10) AS x;\nCREATE TABLE c (id BIGINT);\n",
    );
    let m = migrator(&db, &dir);
    let running = tokio::spawn(async move { m.run().await });
    let started = Instant::now();
    let id = loop {
        if let Some(id) = db.connection_running("CREATE TABLE slow").await {
            break id;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the DDL never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    db.exec(&format!("KILL {id}")).await;
    let e = running.await.unwrap().unwrap_err();
    let Error::MigrationFailed { failure } = &e else { panic!("{e}") };
    assert_eq!(failure.outcome, FailureOutcome::NotRecorded, "{e}");

    let e = migrator(&db, &dir).run().await.unwrap_err();
    assert!(matches!(&e, Error::Plan { source: PlanError::Interrupted { statement: 2, line: Some(2), .. } }), "{e}");
    assert!(e.to_string().contains("may or may not have taken effect"), "{e}");

    let report = migrator(&db, &dir).resume_skip().await.unwrap();
    assert_eq!(report.steps[0].resumed_at, Some(3));
    assert!(db.table_exists("c").await);
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_clears_a_ddl_failure() {
    init_tracing();
    let db = My::fresh("force_ddl").await;
    let dir = Dir::new();
    ddl_migration(&dir, "ALTER TABLE missing ADD COLUMN x INT;");
    migrator(&db, &dir).run().await.unwrap_err();
    // Repaired by hand, then recorded.
    db.exec("ALTER TABLE a ADD COLUMN x INT; CREATE TABLE c (id BIGINT)").await;
    migrator(&db, &dir).force(1).await.unwrap();
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());
    let by: String = sqlx::query_scalar("SELECT applied_by FROM _migrator_history WHERE version = 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(by.contains("root@"), "{by}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_programs_and_triggers_are_split_correctly() {
    init_tracing();
    let db = My::fresh("stored_programs").await;
    let dir = Dir::new();
    dir.up(
        1,
        "notes",
        "CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(50));

CREATE PROCEDURE add_note(IN n VARCHAR(50))
BEGIN
  DECLARE copies INT DEFAULT 1;
  IF n IS NULL OR n = '' THEN
    SET n = 'none';
  END IF;
  WHILE copies > 0 DO
    INSERT INTO notes (note) VALUES (n);
    SET copies = copies - 1;
  END WHILE;
END;

CREATE TRIGGER notes_upper BEFORE INSERT ON notes FOR EACH ROW
BEGIN
  SET NEW.note = UPPER(NEW.note);
  IF NEW.note = 'SKIP;ME' THEN
    SET NEW.note = 'skipped';
  END IF;
END;

CALL add_note('hello');
CALL add_note('skip;me');
",
    )
    .down(1, "notes", "DROP TRIGGER notes_upper;\nDROP PROCEDURE add_note;\nDROP TABLE notes;\n");
    let report = migrator(&db, &dir).run().await.unwrap();
    assert_eq!(report.steps[0].statements, 5);
    let notes: Vec<String> =
        sqlx::query_scalar("SELECT note FROM notes ORDER BY id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(notes, ["HELLO", "skipped"]);
    assert_eq!(versions(&migrator(&db, &dir).down(1).await.unwrap()), [1]);
    assert!(!db.table_exists("notes").await);
    db.cleanup().await;
}

/// Grouped apply is refused when the migrator is built: MySQL commits DDL implicitly, so a
/// group could not be all or nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_apply_is_refused_at_build_time() {
    let db = My::fresh("grouped_refused").await;
    let dir = Dir::new();
    dir.up(1, "create_a", "CREATE TABLE a (id BIGINT PRIMARY KEY);\n");
    let e = Migrator::builder(db.driver(), set(&dir)).grouped(true).build().unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("MySQL cannot run several migrations in one transaction (grouped apply)"), "{text}");
    assert!(text.contains("leave grouped apply off"), "{text}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_do_not_leak_between_migrations_nor_from_the_pool() {
    init_tracing();
    let db = My::fresh("settings_leak").await;
    let dir = Dir::new();
    dir.up(
        1,
        "set_things",
        "SET SESSION sql_mode = 'ANSI_QUOTES', @leak = 'leaked';\nCREATE TABLE seen (what VARCHAR(300));\n",
    )
    .up(2, "record", "INSERT INTO seen (what) VALUES (CONCAT(COALESCE(@leak, 'none'), '|', @@SESSION.sql_mode));\n")
    .up(3, "slow", "SELECT SLEEP(0.5);\n");
    // The application's pool bounds statements to 100 ms; migrations must not inherit it.
    let pool = MySqlPoolOptions::new()
        .max_connections(2)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::raw_sql("SET SESSION max_statement_time = 0.1").execute(conn).await?;
                Ok(())
            })
        })
        .connect_with(db.options())
        .await
        .unwrap();
    let original: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode").fetch_one(&pool).await.unwrap();
    let report = Migrator::new(MySqlDriver::from(&pool), set(&dir)).unwrap().run().await.unwrap();
    assert_eq!(versions(&report), [1, 2, 3]);
    let seen: String = sqlx::query_scalar("SELECT what FROM seen").fetch_one(&db.pool).await.unwrap();
    assert_eq!(seen, format!("none|{original}"));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_and_statement_timeouts() {
    init_tracing();
    let db = My::fresh("timeouts").await;
    db.exec("CREATE TABLE busy (id INT)").await;
    // An open transaction that read the table holds a metadata lock: ALTER must wait.
    let mut blocker = db.pool.acquire().await.unwrap();
    sqlx::raw_sql("START TRANSACTION; SELECT * FROM busy").execute(&mut *blocker).await.unwrap();
    let dir = Dir::new();
    dir.up(1, "alter_busy", "-- migrator:lock-timeout 1s\nALTER TABLE busy ADD COLUMN note VARCHAR(10);\n");
    let started = Instant::now();
    // One attempt (retries are `lock_timeout_retry_*`'s subject).
    let e = Migrator::builder(db.driver(), set(&dir))
        .lock_retry(LockRetry::off())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(e.to_string().contains("1205"), "{e}");
    sqlx::raw_sql("ROLLBACK").execute(&mut *blocker).await.unwrap();
    drop(blocker);
    migrator(&db, &dir).resume().await.unwrap();

    let dir = Dir::new();
    dir.up(
        1,
        "slow",
        "-- migrator:statement-timeout 200ms\nSELECT SLEEP(2) FROM busy;\nINSERT INTO busy (id) VALUES (1);\n",
    );
    let other = My::fresh("timeouts_statement").await;
    other.exec("CREATE TABLE busy (id INT); INSERT INTO busy VALUES (1)").await;
    let started = Instant::now();
    let e = migrator(&other, &dir).run().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(e.to_string().contains("max_statement_time"), "{e}");
    other.cleanup().await;
    db.cleanup().await;
}

/// A second connection in an open transaction that read `busy` (so it holds a metadata lock
/// on it: DDL on `busy` waits) and locked its row `id = 1` (so an UPDATE of it waits), as a
/// long transaction of the application would.
async fn blocker(db: &My) -> sqlx::pool::PoolConnection<sqlx::MySql> {
    let mut blocker = db.pool.acquire().await.unwrap();
    sqlx::raw_sql("START TRANSACTION; SELECT * FROM busy WHERE id = 1 FOR UPDATE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    blocker
}

/// Ends the blocker's transaction `after` the migration is first seen waiting for a lock (a
/// row lock or the metadata lock), so at least one attempt times out whatever the machine's
/// load, from another task.
fn release_after(
    db: &My,
    mut blocker: sqlx::pool::PoolConnection<sqlx::MySql>,
    after: Duration,
) -> tokio::task::JoinHandle<()> {
    let pool = db.pool.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let waiting: i64 = sqlx::query_scalar(
                // A statement on `busy` waiting for its row lock ("Updating": an unblocked one-row
                // UPDATE is over in microseconds) or for the metadata lock.
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() \
                 AND INFO LIKE '%busy%' AND STATE IN ('Updating', 'Waiting for table metadata lock')",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if waiting > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(after).await;
        sqlx::raw_sql("ROLLBACK").execute(&mut *blocker).await.unwrap();
    })
}

fn retrying(db: &My, dir: &Dir, attempts: u32) -> Migrator {
    Migrator::builder(db.driver(), set(dir))
        .lock_retry(LockRetry::new(attempts, Duration::from_secs(60)))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retry_succeeds_when_the_blocker_ends() {
    init_tracing();
    let db = My::fresh("lock_retry_ok").await;
    db.exec("CREATE TABLE busy (id INT PRIMARY KEY, n INT); INSERT INTO busy VALUES (1, 0)").await;
    let dir = Dir::new();
    // DML only: one transaction, rolled back at the row lock's timeout (error 1205) and run
    // again whole.
    dir.up(
        1,
        "bump",
        "-- migrator:lock-timeout 1s\nINSERT INTO busy VALUES (2, 0);\nUPDATE busy SET n = n + 1 WHERE id = 1;\n",
    );
    assert_eq!(migrator(&db, &dir).up_plan(1).unwrap().mode, migrator_mysql::Mode::Transactional);
    let released = release_after(&db, blocker(&db).await, Duration::from_millis(1500));
    let report = retrying(&db, &dir, 10).run().await.unwrap();
    released.await.unwrap();
    assert_eq!(versions(&report), [1]);
    assert!(report.steps[0].lock_retries >= 1, "{report:?}");
    assert!(report.to_string().contains("on lock timeout"), "{report}");
    assert_eq!(db.scalar("SELECT n FROM busy WHERE id = 1").await, 1, "applied once");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM busy").await, 2, "applied once");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retry_of_ddl_runs_again_from_the_statement_that_timed_out() {
    init_tracing();
    let db = My::fresh("lock_retry_ddl").await;
    db.exec("CREATE TABLE busy (id INT PRIMARY KEY, n INT); INSERT INTO busy VALUES (1, 0)").await;
    let dir = Dir::new();
    // DDL commits implicitly, so the script runs statement by statement: statement 1 took
    // effect before statement 2 waited for the metadata lock; running it again would fail
    // (the table exists), so the retry starts at statement 2.
    dir.up(
        1,
        "alter_busy",
        "-- migrator:lock-timeout 1s\nCREATE TABLE side (id INT);\nALTER TABLE busy ADD COLUMN note VARCHAR(10);\n",
    );
    let released = release_after(&db, blocker(&db).await, Duration::from_millis(1500));
    let m = retrying(&db, &dir, 10);
    let report = m.run().await.unwrap();
    released.await.unwrap();
    assert_eq!(versions(&report), [1]);
    assert!(report.steps[0].lock_retries >= 1, "{report:?}");
    assert_eq!(columns(&db, "busy").await, 3);
    assert!(db.table_exists("side").await);
    assert_eq!(m.status().await.unwrap().migrations[0].state, MigrationState::Applied);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retry_gives_up_clearly_when_the_blocker_stays() {
    init_tracing();
    let db = My::fresh("lock_retry_gives_up").await;
    db.exec("CREATE TABLE busy (id INT PRIMARY KEY, n INT); INSERT INTO busy VALUES (1, 0)").await;
    let mut blocker = blocker(&db).await;
    let dir = Dir::new();
    dir.up(
        1,
        "alter_busy",
        "-- migrator:lock-timeout 1s\nCREATE TABLE side (id INT);\nALTER TABLE busy ADD COLUMN note VARCHAR(10);\n",
    );
    let m = retrying(&db, &dir, 3);
    let started = Instant::now();
    let e = m.run().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(5), "three waits of about 1 s, pauses of 1 s and 2 s");
    let Error::MigrationFailed { failure } = &e else { panic!("expected a migration failure, got {e}") };
    assert!(failure.is_lock_timeout(), "{e}");
    assert_eq!(failure.outcome, FailureOutcome::Recorded);
    assert_eq!(failure.lock_waits.as_ref().map(|w| w.attempts), Some(3), "{e}");
    let text = e.to_string();
    for expected in [
        "migration 1 `alter_busy`",
        "statement 2 of 2",
        "1205",
        "3 attempts over",
        "every allowed attempt was made",
        "statement 2 had no effect",
        "run `resume`",
        "INNODB_TRX",
        "KILL",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from: {text}");
    }
    // Not applied: failed at statement 2, the column not added.
    let status = m.status().await.unwrap();
    assert!(matches!(status.migrations[0].state, MigrationState::Dirty(_)), "{:?}", status.migrations[0].state);
    assert_eq!(columns(&db, "busy").await, 2);
    // The advice works when followed: the blocker ends, `resume` finishes it.
    sqlx::raw_sql("ROLLBACK").execute(&mut *blocker).await.unwrap();
    drop(blocker);
    let report = m.resume().await.unwrap();
    assert_eq!(versions(&report), [1]);
    assert_eq!(columns(&db, "busy").await, 3);
    db.cleanup().await;
}

static APP: EmbeddedMigrations = embed_migrations!("fixtures/app-mysql");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_migrations_apply() {
    init_tracing();
    let db = My::fresh("embedded").await;
    let m = Migrator::new(db.driver(), APP).unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [20261101090000, 20261102090000]);
    assert!(m.run().await.unwrap().is_noop());
    assert_eq!(versions(&m.down_all().await.unwrap()), [20261102090000, 20261101090000]);
    db.cleanup().await;
}

/// Round trips on the wire: the startup check, a transactional migration, and a DDL
/// migration (one per statement).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_on_the_wire() {
    init_tracing();
    let db = My::fresh("round_trips").await;
    let options = migrator_conformance::mysql::server_options();
    let proxy = Proxy::start(&format!("{}:{}", options.get_host(), options.get_port())).await;
    // Plain text: the proxy reads the protocol (TLS, which the workspace's CLI enables in
    // sqlx, would hide the pool's pings from it).
    let pool = db.pool_with(|o| o.port(proxy.port()).ssl_mode(sqlx::mysql::MySqlSslMode::Disabled)).await;
    let dir = Dir::new();
    dir.up(1, "create_a", "CREATE TABLE a (id BIGINT);\n");
    let run = |dir: &Dir| {
        let m = Migrator::new(MySqlDriver::from(&pool), set(dir)).unwrap();
        async move { m.run().await.unwrap() }
    };
    // Each run finds an idle connection (`warm`): a run that opened one would count its setup.
    warm(&pool).await;
    proxy.reset();
    run(&dir).await;
    let fresh = proxy.round_trips();

    warm(&pool).await;
    proxy.reset();
    assert!(run(&dir).await.is_noop());
    let startup = proxy.round_trips();
    assert_eq!(startup, 1, "the startup check when nothing is pending");

    dir.up(2, "seed", "INSERT INTO a (id) VALUES (1);\nINSERT INTO a (id) VALUES (2);\n");
    warm(&pool).await;
    proxy.reset();
    assert_eq!(versions(&run(&dir).await), [2]);
    let dml = proxy.round_trips();
    assert_eq!(dml, 3, "fast path + lock + one transactional message");

    dir.up(
        3,
        "three_ddl",
        "CREATE TABLE b (id BIGINT);\nALTER TABLE b ADD COLUMN x INT;\nINSERT INTO b (id) VALUES (1);\n",
    );
    warm(&pool).await;
    proxy.reset();
    assert_eq!(versions(&run(&dir).await), [3]);
    let ddl = proxy.round_trips();
    assert_eq!(ddl, 1 + 1 + 1 + 3, "fast path + lock + start row + one per statement");
    eprintln!(
        "MariaDB round trips: fresh database + 1 DDL migration {fresh}; startup no-op {startup}; \
         1 DML migration {dml}; 3-statement DDL migration {ddl}"
    );
    db.cleanup().await;
}

/// MySQL 8 caps `GROUP_CONCAT` at 1 KiB by default, which the startup check's digest of 40
/// migrations exceeds. The check raises the cap for its statement with a `SET_VAR` hint
/// (MySQL applies it; MariaDB, whose default is 1 MiB, reads a comment). Here the pool's
/// sessions use MySQL 8's cap: on MySQL the digest still matches; on MariaDB it is cut and
/// the check falls back to reading the rows. Either way the second run is a correct no-op,
/// and the session's cap is what the pool set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_check_with_mysql_8s_group_concat_cap() {
    use migrator_core::driver::Driver;
    use migrator_core::history::HistoryTable;
    init_tracing();
    let db = My::fresh("group_concat_cap").await;
    let dir = Dir::new();
    for v in 1..=40 {
        dir.up(v, &format!("table_number_{v}"), &format!("CREATE TABLE t{v} (id INT);\n"));
    }
    let pool = MySqlPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::raw_sql("SET SESSION group_concat_max_len = 1024").execute(conn).await?;
                Ok(())
            })
        })
        .connect_with(db.options())
        .await
        .unwrap();
    let migrator = || Migrator::new(MySqlDriver::from(&pool), set(&dir)).unwrap();
    assert_eq!(migrator().run().await.unwrap().steps.len(), 40);
    let again = migrator().run().await.unwrap();
    assert!(again.is_noop(), "{again:?}");

    let expected = migrator_conformance::suite::applied_digest_of(&set(&dir));
    let (history, matched, probe) =
        MySqlDriver::from(&pool).probe_expecting(&HistoryTable::default(), &[expected]).await.unwrap();
    drop(probe);
    let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&pool).await.unwrap();
    if version.contains("MariaDB") {
        assert_eq!(matched, None, "MariaDB ignores the hint: the cut digest does not match");
        assert_eq!(history.unwrap().rows.len(), 40, "so every row is sent");
    } else {
        assert_eq!(matched, Some(0), "MySQL applies the hint: the digest matches");
        assert!(history.unwrap().rows.is_empty());
    }
    let cap: u64 = sqlx::query_scalar("SELECT @@SESSION.group_concat_max_len").fetch_one(&pool).await.unwrap();
    assert_eq!(cap, 1024, "the pool's session setting is untouched");
    db.cleanup().await;
}

/// Regression: a statement larger than the server's `max_allowed_packet` made MariaDB close
/// the connection ("connection reset by peer", four times, no file, no hint). It is refused
/// before anything is sent, naming the file, statement and setting; a transactional script
/// larger than one message (each statement small enough) is sent in several messages of one
/// transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_over_max_allowed_packet_are_named_and_big_scripts_are_cut() {
    init_tracing();
    let db = My::fresh("max_packet").await;
    let max_packet = db.scalar("SELECT CAST(@@max_allowed_packet AS SIGNED)").await;
    let dir = Dir::new();
    dir.up(1, "big", "CREATE TABLE big (b LONGTEXT);\n");
    let row = "x".repeat(1 << 20);
    let many: String =
        (0..(max_packet / (1 << 20) + 4)).map(|_| format!("INSERT INTO big VALUES ('{row}');\n")).collect();
    assert!(many.len() as i64 > max_packet, "the script is larger than one message");
    dir.up(2, "many_rows", &many);
    let report = migrator(&db, &dir).run().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(versions(&report), [1, 2]);
    assert_eq!(db.scalar("SELECT count(*) FROM big").await, max_packet / (1 << 20) + 4);

    let huge = format!("INSERT INTO big VALUES ('{}');\n", "y".repeat(max_packet as usize + 1));
    dir.up(3, "huge_row", &format!("SELECT 1;\n{huge}"));
    let e = migrator(&db, &dir).run().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("3_huge_row.up.sql) failed at statement 2 of 2 (line 2)"), "{text}");
    assert!(text.contains("max_allowed_packet") && text.contains("nothing of this migration was sent"), "{text}");
    assert!(!text.contains("reset by peer"), "{text}");
    let Error::MigrationFailed { failure } = &e else { panic!("{e}") };
    assert_eq!(failure.outcome, FailureOutcome::NotSent);
    assert_eq!(db.scalar("SELECT count(*) FROM _migrator_history WHERE version = 3").await, 0, "no trace");
    assert!(migrator(&db, &dir).status().await.is_ok(), "the server is still there");
    db.cleanup().await;
}

/// Regression: MySQL's syntax errors quote the SQL after the error position, which was
/// migrator's own history write sent after the user's statement (and "at line N" counted
/// lines of that message, not of the file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_errors_quote_only_the_users_statement() {
    let db = My::fresh("syntax_error_quote").await;
    let dir = Dir::new();
    dir.up(1, "ddl_then_typo", "CREATE TABLE a (id INT);\nSELEC 1;\n");
    dir.up(2, "dml_then_typo", "INSERT INTO a VALUES (1);\nSELEC 2;\n");
    let e = migrator(&db, &dir).run().await.unwrap_err().to_string();
    assert!(e.contains("(line 2)") && e.contains("near 'SELEC 1'"), "{e}");
    assert!(!e.contains("_migrator_history") && !e.contains("at line"), "{e}");
    migrator(&db, &dir).force(1).await.unwrap();
    let e = migrator(&db, &dir).run().await.unwrap_err().to_string();
    assert!(e.contains("near 'SELEC 2'"), "{e}");
    assert!(!e.contains("_migrator_history") && !e.contains("COMMIT"), "{e}");
    db.cleanup().await;
}

/// The all-tenants startup check: one round trip for 30 tenant databases (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_tenant_databases_checked_in_one_round_trip() {
    init_tracing();
    let options = migrator_conformance::mysql::server_options();
    let upstream = format!("{}:{}", options.get_host(), options.get_port());
    migrator_conformance::suite::tenants_checked_in_one_round_trip(
        30,
        |a: &My| a.database.clone(),
        &upstream,
        async |a, port| a.pool_with(|o| o.port(port).ssl_mode(sqlx::mysql::MySqlSslMode::Disabled)).await,
    )
    .await;
}

/// Creating a tenant database in one call (CREATE DATABASE, then the whole set); a second
/// create is refused with nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_database_is_created_in_one_call() {
    use migrator_mysql::{PlanError, Tenants};
    init_tracing();
    let db = My::fresh("tenant_create").await;
    let name = format!("{}_new", db.database);
    let dir = Dir::new();
    dir.up(1, "create_a", "CREATE TABLE a (id BIGINT);\n").up(2, "seed", "INSERT INTO a (id) VALUES (1);\n");
    let tenants = || {
        let (db, each) = (&db, set(&dir));
        Tenants::new([name.as_str()], move |database: String| {
            let set = each.clone();
            async move { Migrator::new(MySqlDriver::from(db.pool_with(|o| o.database(&database)).await), set) }
        })
        .check_on(Migrator::new(db.driver(), set(&dir)).unwrap())
    };
    let created = tenants().create(&name).await.unwrap();
    assert_eq!(created.applied().map(|s| s.version.get()).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(db.scalar(&format!("SELECT count(*) FROM `{name}`.a")).await, 1);
    let again = tenants().create(&name).await.unwrap_err();
    assert!(matches!(&again, Error::Plan { source: PlanError::TenantExists { .. } }), "{again}");
    assert!(again.to_string().contains("its database exists already"), "{again}");
    assert_eq!(db.scalar(&format!("SELECT count(*) FROM `{name}`.a")).await, 1, "nothing changed");
    db.exec(&format!("DROP DATABASE `{name}`")).await;
    db.cleanup().await;
}
