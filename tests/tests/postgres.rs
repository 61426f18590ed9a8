//! PostgreSQL: the conformance suite, then what only PostgreSQL has (CONCURRENTLY, the
//! advisory lock and snapshots, round trips on the wire, session settings).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use migrator_conformance::postgres::{Pg, server_options};
use migrator_conformance::proxy::{Proxy, warm};
use migrator_conformance::{Backend, Dir, conformance_tests, init_tracing};
use migrator_postgres::{
    EmbeddedMigrations, Error, FailureOutcome, LockRetry, MigrationSet, MigrationState, Migrator, PgDriver,
    embed_migrations,
};
use sqlx::{Connection, PgConnection};

conformance_tests!(Pg:
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

fn set(dir: &Dir) -> MigrationSet<PgConnection> {
    dir.set::<PgConnection>(migrator_core::Dialect::Postgres)
}

/// The up scripts of `dir` as a set, without the lint that runtime loading applies.
fn unlinted_set(dir: &Dir, migrations: &[(i64, &str)]) -> MigrationSet<PgConnection> {
    use migrator_core::{Dialect, Script, ScriptKind, SqlMigration, Version};
    let mut set = MigrationSet::new();
    for &(version, name) in migrations {
        let file = format!("{version}_{name}.up.sql");
        let up = Script::parse(ScriptKind::Up, file.clone(), dir.read(&file), Dialect::Postgres).unwrap();
        set = set.with(SqlMigration::new(Version::new(version).unwrap(), name.to_owned(), up, None).unwrap()).unwrap();
    }
    set
}

fn versions(report: &migrator_postgres::Report) -> Vec<i64> {
    report.steps.iter().map(|s| s.version.get()).collect()
}

async fn valid_index(db: &Pg, name: &str) -> bool {
    db.scalar(&format!(
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = '{name}' AND n.nspname = current_schema() AND i.indisvalid"
    ))
    .await
        == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_index_builds_in_one_file() {
    init_tracing();
    let db = Pg::fresh_database("two_cic").await;
    let dir = Dir::new();
    dir.up(1, "create_users", "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);\nINSERT INTO users SELECT g, 'u' || g, 'n' || g FROM generate_series(1, 1000) g;\n")
        .up(
            2,
            "index_users",
            "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n",
        )
        .down(2, "index_users", "-- migrator:no-transaction\nDROP INDEX CONCURRENTLY users_email;\nDROP INDEX CONCURRENTLY users_name;\n");
    let m = Migrator::new(db.driver(), set(&dir)).unwrap();
    let report = m.run().await.unwrap();
    assert_eq!(versions(&report), [1, 2]);
    assert_eq!(report.steps[1].statements, 2);
    assert!(valid_index(&db, "users_email").await && valid_index(&db, "users_name").await);
    m.down(1).await.unwrap();
    assert!(!valid_index(&db, "users_email").await && !valid_index(&db, "users_name").await);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrently_in_a_transactional_migration_fails_with_its_line() {
    init_tracing();
    let db = Pg::fresh("cic_in_tx").await;
    let dir = Dir::new();
    dir.up(1, "create_users", "CREATE TABLE users (id bigint, email text);\n").up(
        2,
        "index_users",
        "-- forgot the no-transaction directive\n\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n",
    );
    // Runtime loading refuses it: the linter's fatal `concurrently-in-transaction`.
    let refused = MigrationSet::<PgConnection>::from_dir(dir.path(), migrator_core::Dialect::Postgres).unwrap_err();
    assert!(
        refused.to_string().contains("2_index_users.up.sql:3:1: `CREATE INDEX CONCURRENTLY` cannot run"),
        "{refused}"
    );
    // A set built without runtime loading (as a tool could) fails at the server, with its line.
    let e = Migrator::new(db.driver(), unlinted_set(&dir, &[(1, "create_users"), (2, "index_users")]))
        .unwrap()
        .run()
        .await
        .unwrap_err();
    let Error::MigrationFailed { failure } = &e else { panic!("{e}") };
    assert_eq!((failure.statement, failure.line, failure.outcome), (Some(1), Some(3), FailureOutcome::RolledBack));
    assert!(failure.message.contains("cannot run inside a transaction block"), "{e}");
    assert!(failure.message.contains("SQLSTATE 25001"), "{e}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_runner_does_not_stall_a_concurrent_index_build() {
    init_tracing();
    // Its own database: CREATE INDEX CONCURRENTLY waits for every older snapshot in it.
    let db = Pg::fresh_database("cic_waiter").await;
    let dir = Dir::new();
    dir.up(1, "create_users", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nINSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g;\n")
        .up(
            2,
            "index_users",
            "-- migrator:no-transaction\nSELECT pg_sleep(1.5);\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n",
        );
    let holder = Migrator::new(db.driver(), set(&dir)).unwrap();
    let waiter = Migrator::builder(db.driver(), set(&dir)).lock_wait(Duration::from_secs(120)).build().unwrap();
    let holding = tokio::spawn(async move {
        let started = Instant::now();
        (holder.run().await, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = tokio::spawn(async move { waiter.run().await });
    // If the waiter blocked inside a statement (a blocking pg_advisory_lock), the index build
    // would wait for its snapshot until the waiter gave up after 120 s.
    let (result, took) =
        tokio::time::timeout(Duration::from_secs(60), holding).await.expect("the index build stalled").unwrap();
    assert_eq!(versions(&result.unwrap()), [1, 2]);
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let waited = waiting.await.unwrap().unwrap();
    assert!(waited.is_noop() && waited.locked, "the waiter got the lock after the holder and found nothing to do");
    assert!(valid_index(&db, "users_email").await);
    db.cleanup().await;
}

/// A runner waiting for the lock learns of the holder's release from its notification, not
/// at its next poll. After a 1.2 s migration a polling waiter sleeps in pauses of 0.2-1 s and
/// the release falls anywhere in one, so five rounds all finished within 250 ms of the holder
/// would happen by chance about once in a hundred; woken, a waiter takes a few milliseconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_runner_wakes_when_the_holder_releases() {
    init_tracing();
    let db = Pg::fresh("wake_on_release").await;
    let dir = Dir::new();
    // Two replicas of an application, each with its own pool.
    let (holder_pool, waiter_pool) = (db.pool_with(|o| o).await, db.pool_with(|o| o).await);
    let mut late = Vec::new();
    for round in 1..=5 {
        dir.up(
            round,
            &format!("slow_create_{round}"),
            &format!("SELECT pg_sleep(1.2);\nCREATE TABLE t{round} (id bigint);\n"),
        );
        let holder = Migrator::new(PgDriver::from(&holder_pool), set(&dir)).unwrap();
        let waiter = Migrator::new(PgDriver::from(&waiter_pool), set(&dir)).unwrap();
        let holding = tokio::spawn(async move {
            let report = holder.run().await;
            (report, Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let waiting = tokio::spawn(async move {
            let report = waiter.run().await;
            (report, Instant::now())
        });
        let (held, released) = holding.await.unwrap();
        let (waited, done) = waiting.await.unwrap();
        assert_eq!(versions(&held.unwrap()), [round]);
        let waited = waited.unwrap();
        assert!(waited.is_noop() && waited.locked, "the waiter got the lock after the holder and found nothing to do");
        late.push(done.saturating_duration_since(released));
    }
    eprintln!("the waiter finished this long after the holder: {late:?}");
    assert!(late.iter().all(|l| *l < Duration::from_millis(250)), "{late:?}");
    db.cleanup().await;
}

/// Many replicas waiting: at the holder's release every waiter wakes, one takes the lock, and
/// the others, which read the history in the same message, see that nothing is left and
/// return without waiting for the lock in turn (as before: one after another).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_woken_by_the_release_need_not_take_the_lock_in_turn() {
    init_tracing();
    let db = Pg::fresh("wake_many").await;
    let dir = Dir::new();
    dir.up(1, "slow", "SELECT pg_sleep(1.5);\nCREATE TABLE t (id bigint);\n").up(
        2,
        "more",
        "CREATE TABLE u (id bigint);\n",
    );
    let pool = db.pool_with(|o| o).await;
    let holder = Migrator::new(PgDriver::from(&pool), set(&dir)).unwrap();
    let holding = tokio::spawn(async move { holder.run().await });
    // The waiters start once the holder is inside migration 1.
    while db
        .scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1.5)%' AND pid <> pg_backend_pid()")
        .await
        == 0
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut waiting = Vec::new();
    for _ in 0..8 {
        let waiter = Migrator::new(PgDriver::from(&db.pool_with(|o| o).await), set(&dir)).unwrap();
        waiting.push(tokio::spawn(async move { waiter.run().await }));
    }
    assert_eq!(versions(&holding.await.unwrap().unwrap()), [1, 2]);
    let mut unlocked = 0;
    for waiter in waiting {
        let report = waiter.await.unwrap().unwrap();
        assert!(report.is_noop(), "the holder applied everything: {report:?}");
        unlocked += usize::from(!report.locked);
    }
    // One waiter wins the lock at the release; the others need not (before, all 8 took it
    // in turn).
    assert!(unlocked >= 1, "every waiter took the lock in turn");
    assert_eq!(db.scalar("SELECT count(*) FROM _migrator_history WHERE version > 0").await, 2);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_do_not_leak_between_migrations_nor_from_the_pool() {
    init_tracing();
    let db = Pg::fresh("settings_leak").await;
    let check = "DO $$ BEGIN\n  IF current_setting('migrator_test.flag', true) = 'leaked' OR current_setting('work_mem') = '77kB' THEN\n    RAISE EXCEPTION 'a setting leaked into this migration';\n  END IF;\nEND $$;\n";
    let dir = Dir::new();
    dir.up(
        1,
        "set_things",
        "SET migrator_test.flag = 'leaked';\nSET work_mem = '77kB';\nCREATE TABLE a (id bigint);\n",
    )
    .up(2, "check_after_transactional", check)
    .up(3, "set_in_no_tx", "-- migrator:no-transaction\nSET migrator_test.flag = 'leaked';\nSET work_mem = '77kB';\n")
    .up(4, "check_after_no_tx", check)
    .up(5, "slow", "SELECT pg_sleep(0.5);\n");
    // The application's pool has a 100 ms statement timeout; migrations must not inherit it.
    let pool = db.pool_with(|o| o.options([("statement_timeout", "100ms")])).await;
    let report = Migrator::new(PgDriver::from(&pool), set(&dir)).unwrap().run().await.unwrap();
    assert_eq!(versions(&report), [1, 2, 3, 4, 5]);
    let e = sqlx::query("SELECT pg_sleep(0.5)").execute(&pool).await.unwrap_err();
    assert!(e.to_string().contains("statement timeout"), "the pool itself keeps its setting: {e}");
    db.cleanup().await;
}

/// The server is one migrator supports (13 or newer) and, when the test command names the
/// major version it means to test (`MIGRATOR_TEST_POSTGRES_MAJOR`, as `scripts/test` does for
/// its PostgreSQL 18 run), that version: a URL pointing at the wrong server fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_the_version_under_test() {
    init_tracing();
    let mut conn = PgConnection::connect_with(&server_options()).await.unwrap();
    let (number, text): (String, String) =
        sqlx::query_as("SELECT current_setting('server_version_num'), current_setting('server_version')")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let number: i64 = number.parse().unwrap();
    eprintln!("PostgreSQL {text} ({number})");
    assert!(number >= 130_000, "PostgreSQL {text}: migrator supports 13 and newer");
    if let Ok(major) = std::env::var("MIGRATOR_TEST_POSTGRES_MAJOR") {
        let major: i64 = major.parse().expect("MIGRATOR_TEST_POSTGRES_MAJOR is a major version such as 18");
        assert_eq!(
            number / 10_000,
            major,
            "the server is PostgreSQL {text}, not {major} as MIGRATOR_TEST_POSTGRES_MAJOR says"
        );
    }
}

/// A migration's session checks that its client is still there (`client_connection_check_interval`,
/// PostgreSQL 14 and newer), in transactional and no-transaction migrations alike; the
/// application's pool keeps its own setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_with_a_client_connection_check() {
    init_tracing();
    let db = Pg::fresh("connection_check").await;
    let dir = Dir::new();
    dir.up(
        1,
        "seen",
        "CREATE TABLE seen AS SELECT 1 AS version, current_setting('client_connection_check_interval') AS v;\n",
    )
    .up(
        2,
        "seen_no_tx",
        "-- migrator:no-transaction\nINSERT INTO seen SELECT 2, current_setting('client_connection_check_interval');\n",
    );
    let report = Migrator::new(db.driver(), set(&dir)).unwrap().run().await.unwrap();
    assert_eq!(versions(&report), [1, 2]);
    let seen: Vec<(i32, String)> =
        sqlx::query_as("SELECT version, v FROM seen ORDER BY version").fetch_all(&db.pool).await.unwrap();
    assert_eq!(seen, [(1, "1s".to_owned()), (2, "1s".to_owned())]);
    let pool_setting: String = sqlx::query_scalar("SELECT current_setting('client_connection_check_interval')")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(pool_setting, "0", "the pool's connections keep the server's default");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeouts_bound_waiting_for_table_locks() {
    init_tracing();
    let db = Pg::fresh("lock_timeout_directive").await;
    db.exec("CREATE TABLE busy (id bigint)").await;
    let mut blocker = PgConnection::connect_with(&db.options()).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE").execute(&mut blocker).await.unwrap();
    let dir = Dir::new();
    dir.up(1, "alter_busy", "-- migrator:lock-timeout 300ms\nALTER TABLE busy ADD COLUMN note text;\n");
    let started = Instant::now();
    // One attempt (retries are `lock_timeout_retry_*`'s subject).
    let e = Migrator::builder(db.driver(), set(&dir))
        .lock_retry(LockRetry::off())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(e.to_string().contains("lock timeout") && e.to_string().contains("55P03"), "{e}");
    assert!(e.to_string().contains("lock-timeout retries are off"), "{e}");
    // The migrator-wide default applies when the migration sets none.
    let dir = Dir::new();
    dir.up(1, "alter_busy", "ALTER TABLE busy ADD COLUMN note text;\n");
    let m = Migrator::builder(db.driver(), set(&dir))
        .lock_timeout(Some(Duration::from_millis(300)))
        .lock_retry(LockRetry::off())
        .build()
        .unwrap();
    assert!(m.run().await.unwrap_err().to_string().contains("55P03"));
    sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [1]);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retry_runs_a_grouped_apply_again_whole() {
    init_tracing();
    let db = Pg::fresh("lock_retry_group").await;
    db.exec("CREATE TABLE busy (id bigint)").await;
    let dir = Dir::new();
    // One group, one transaction: migration 2 times out, so migration 1's table is rolled
    // back with it, and the next attempt runs both again (a second CREATE TABLE would fail
    // if anything of the first attempt had stayed).
    dir.up(1, "side", "CREATE TABLE side (id bigint);\n");
    dir.up(2, "alter_busy", "-- migrator:lock-timeout 200ms\nALTER TABLE busy ADD COLUMN note text;\n");
    let m = Migrator::builder(db.driver(), set(&dir))
        .grouped(true)
        .lock_retry(LockRetry::new(10, Duration::from_secs(60)))
        .build()
        .unwrap();
    let released = release_after(&db, blocker(&db).await, Duration::from_millis(1500));
    let report = m.run().await.unwrap();
    released.await.unwrap();
    assert_eq!(versions(&report), [1, 2]);
    assert!(report.steps.iter().all(|s| s.lock_retries >= 1), "the group ran again whole: {report:?}");
    assert_eq!(note_columns(&db).await, 1);
    assert!(db.table_exists("side").await);
    db.cleanup().await;

    // When the blocker stays, the group gives up as a lone migration does: rolled back whole,
    // with the attempts, why it stopped and how to find the blocker; after the blocker ends,
    // the run the message advises applies it.
    let db = Pg::fresh("lock_retry_group_gives_up").await;
    db.exec("CREATE TABLE busy (id bigint)").await;
    let mut blocker = blocker(&db).await;
    let m = Migrator::builder(db.driver(), set(&dir))
        .grouped(true)
        .lock_retry(LockRetry::new(2, Duration::from_secs(60)))
        .build()
        .unwrap();
    let e = m.run().await.unwrap_err();
    let Error::GroupFailed { failure, group, at_commit } = &e else { panic!("expected a group failure, got {e}") };
    assert!(!at_commit && failure.is_lock_timeout(), "{e}");
    assert_eq!(group.len(), 2);
    assert_eq!(failure.lock_waits.as_ref().map(|w| w.attempts), Some(2), "{e}");
    let text = e.to_string();
    for expected in ["alter_busy", "55P03", "2 attempts over", "pg_locks", "--lock-retries"] {
        assert!(text.contains(expected), "`{expected}` missing from: {text}");
    }
    assert!(m.status().await.unwrap().migrations.iter().all(|m| m.state == MigrationState::Pending));
    assert!(!db.table_exists("side").await, "nothing of the group stayed");
    sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [1, 2]);
    db.cleanup().await;
}

/// A second connection in a transaction holding `LOCK TABLE busy IN ACCESS SHARE MODE`, which
/// conflicts with the ACCESS EXCLUSIVE lock of `ALTER TABLE busy …` (as a long-running query on
/// the table would).
async fn blocker(db: &Pg) -> PgConnection {
    let mut blocker = PgConnection::connect_with(&db.options()).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE").execute(&mut blocker).await.unwrap();
    blocker
}

/// Ends the blocker's transaction `after` the migration is first seen waiting for a lock on
/// `busy` (so at least one attempt times out whatever the machine's load), from another task.
fn release_after(db: &Pg, mut blocker: PgConnection, after: Duration) -> tokio::task::JoinHandle<()> {
    let pool = db.pool.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = to_regclass('busy')",
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
        sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
        blocker.close().await.unwrap();
    })
}

fn note_columns(db: &Pg) -> impl Future<Output = i64> + '_ {
    db.scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'busy' \
         AND column_name = 'note'",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retry_succeeds_when_the_blocker_ends() {
    init_tracing();
    let db = Pg::fresh("lock_retry_ok").await;
    db.exec("CREATE TABLE busy (id bigint)").await;
    let dir = Dir::new();
    // One transaction: rolled back whole at each lock timeout, run again from its start.
    dir.up(
        1,
        "alter_busy",
        "-- migrator:lock-timeout 200ms\nCREATE TABLE side (id bigint);\nALTER TABLE busy ADD COLUMN note text;\n",
    );
    // Generous bounds: the blocker ends after 1.5 s, the window is a minute.
    let m = Migrator::builder(db.driver(), set(&dir))
        .lock_retry(LockRetry::new(10, Duration::from_secs(60)))
        .build()
        .unwrap();
    let released = release_after(&db, blocker(&db).await, Duration::from_millis(1500));
    let report = m.run().await.unwrap();
    released.await.unwrap();
    assert_eq!(versions(&report), [1]);
    let step = &report.steps[0];
    assert!(step.lock_retries >= 1, "it waited for the blocker: {step:?}");
    assert!(step.duration >= Duration::from_secs(1), "its time counts from the first attempt: {step:?}");
    let text = report.to_string();
    assert!(text.contains("retr") && text.contains("on lock timeout"), "{text}");
    assert_eq!(note_columns(&db).await, 1);
    assert!(db.table_exists("side").await);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retry_of_a_no_transaction_migration_runs_again_from_the_statement_that_timed_out() {
    init_tracing();
    let db = Pg::fresh("lock_retry_stepwise").await;
    db.exec("CREATE TABLE busy (id bigint)").await;
    let dir = Dir::new();
    // Statement 1 took effect before statement 2 timed out: running it again would fail
    // (the table exists), so the retry must start at statement 2.
    dir.up(
        1,
        "alter_busy",
        "-- migrator:no-transaction\n-- migrator:lock-timeout 200ms\nCREATE TABLE side (id bigint);\nALTER TABLE busy ADD COLUMN note text;\n",
    );
    let m = Migrator::builder(db.driver(), set(&dir))
        .lock_retry(LockRetry::new(10, Duration::from_secs(60)))
        .build()
        .unwrap();
    let released = release_after(&db, blocker(&db).await, Duration::from_millis(1500));
    let report = m.run().await.unwrap();
    released.await.unwrap();
    assert_eq!(versions(&report), [1]);
    assert!(report.steps[0].lock_retries >= 1, "{report:?}");
    assert_eq!(note_columns(&db).await, 1);
    assert_eq!(m.status().await.unwrap().migrations[0].state, MigrationState::Applied);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retry_gives_up_clearly_when_the_blocker_stays() {
    init_tracing();
    let db = Pg::fresh("lock_retry_gives_up").await;
    db.exec("CREATE TABLE busy (id bigint)").await;
    let mut blocker = blocker(&db).await;
    let dir = Dir::new();
    dir.up(1, "alter_busy", "-- migrator:lock-timeout 200ms\nALTER TABLE busy ADD COLUMN note text;\n");
    // Three attempts (pauses of 1 s and 2 s between them), well inside the window.
    let m = Migrator::builder(db.driver(), set(&dir))
        .lock_retry(LockRetry::new(3, Duration::from_secs(60)))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = m.run().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(3), "it paused between attempts");
    let Error::MigrationFailed { failure } = &e else { panic!("expected a migration failure, got {e}") };
    assert!(failure.is_lock_timeout(), "{e}");
    assert_eq!(failure.outcome, FailureOutcome::RolledBack);
    assert_eq!(failure.lock_waits.as_ref().map(|w| w.attempts), Some(3), "{e}");
    let text = e.to_string();
    for expected in [
        "migration 1 `alter_busy`",
        "statement 1 of 1",
        "55P03",
        "3 attempts over",
        "every allowed attempt was made",
        "nothing of it was applied",
        "pg_stat_activity",
        "pg_locks",
        "pg_terminate_backend",
        "--lock-retries",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from: {text}");
    }
    assert_eq!(m.status().await.unwrap().migrations[0].state, MigrationState::Pending);
    assert_eq!(note_columns(&db).await, 0);

    // Bounded by the window too: the next pause would end after it.
    let short = Migrator::builder(db.driver(), set(&dir))
        .lock_retry(LockRetry::new(100, Duration::from_secs(2)))
        .build()
        .unwrap();
    let e = short.run().await.unwrap_err();
    assert!(e.to_string().contains("retry window of 2s"), "{e}");
    let Error::MigrationFailed { failure } = &e else { panic!("{e}") };
    assert!(failure.lock_waits.as_ref().is_some_and(|w| w.attempts >= 1 && w.attempts < 100), "{e}");

    // The advice works when followed: the blocker ends, the run applies it.
    sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [1]);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_index_left_by_a_failed_concurrent_build_is_dropped_before_resume() {
    init_tracing();
    // A database of its own: CREATE INDEX CONCURRENTLY waits for other transactions in it.
    let db = Pg::fresh_database("invalid_index").await;
    db.exec("CREATE TABLE users (id bigint, email text); INSERT INTO users VALUES (1, 'a'), (2, 'a'), (3, 'b')").await;
    let dir = Dir::new();
    // IF NOT EXISTS: run again as it is, it would keep the INVALID index and succeed.
    dir.up(
        1,
        "unique_email",
        "-- migrator:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\n",
    );
    let m = Migrator::new(db.driver(), set(&dir)).unwrap();
    let e = m.run().await.unwrap_err();
    assert!(e.to_string().contains("23505"), "the duplicate stops the build: {e}");
    assert!(e.to_string().contains("`resume` drops index users_email if it is INVALID"), "{e}");
    let invalid = "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'users_email' \
                   AND NOT i.indisvalid";
    assert_eq!(db.scalar(invalid).await, 1, "the failed build left its index INVALID");

    db.exec("DELETE FROM users WHERE id = 2").await;
    let report = m.resume().await.unwrap();
    assert_eq!(versions(&report), [1]);
    assert_eq!(report.steps[0].dropped_invalid_indexes, ["public.users_email"]);
    let text = report.to_string();
    assert!(text.contains("dropped the INVALID index public.users_email"), "{text}");
    assert_eq!(db.scalar(invalid).await, 0);
    assert!(valid_index(&db, "users_email").await, "built again, valid");
    let e = sqlx::query("INSERT INTO users VALUES (4, 'a')").execute(&db.pool).await.unwrap_err();
    assert!(e.to_string().contains("users_email"), "the index enforces uniqueness: {e}");

    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_directive() {
    init_tracing();
    let db = Pg::fresh("statement_timeout").await;
    let dir = Dir::new();
    dir.up(1, "slow", "-- migrator:statement-timeout 200ms\nSELECT pg_sleep(2);\n");
    let e = Migrator::new(db.driver(), set(&dir)).unwrap().run().await.unwrap_err();
    assert!(e.to_string().contains("57014"), "{e}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_in_its_own_schema() {
    init_tracing();
    let db = Pg::fresh("history_schema").await;
    let history_schema = format!("{}_h", db.schema);
    let dir = Dir::new();
    dir.up(1, "create_users", "CREATE TABLE users (id bigint);\n");
    let m = Migrator::builder(db.driver(), set(&dir)).schema(&history_schema).build().unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [1]);
    assert!(db.table_exists("users").await, "migrations run in the connection's schema");
    let rows =
        db.scalar(&format!("SELECT count(*) FROM \"{history_schema}\"._migrator_history WHERE version > 0")).await;
    assert_eq!(rows, 1);
    assert!(m.run().await.unwrap().is_noop());
    db.exec(&format!("DROP SCHEMA \"{history_schema}\" CASCADE")).await;
    db.cleanup().await;
}

static APP: EmbeddedMigrations = embed_migrations!("fixtures/app");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_migrations_apply() {
    init_tracing();
    let db = Pg::fresh("embedded").await;
    let m = Migrator::new(db.driver(), APP).unwrap();
    let report = m.run().await.unwrap();
    assert_eq!(versions(&report), [20261101090000, 20261102090000]);
    db.exec("INSERT INTO accounts (email) VALUES ('a@example.com')").await;
    assert!(valid_index(&db, "accounts_email").await);
    assert!(m.run().await.unwrap().is_noop());
    assert_eq!(versions(&m.down_all().await.unwrap()), [20261102090000, 20261101090000]);
    db.cleanup().await;
}

/// Round trips counted on the wire by a proxy, after the pool's connection is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_on_the_wire() {
    init_tracing();
    let db = Pg::fresh("round_trips").await;
    let upstream = format!("{}:{}", server_options().get_host(), server_options().get_port());
    let proxy = Proxy::start(&upstream).await;
    // Plain text: the proxy reads the protocol (TLS, which the workspace's CLI enables in
    // sqlx, would hide the pool's pings from it).
    let pool = db.pool_with(|o| o.port(proxy.port()).ssl_mode(sqlx::postgres::PgSslMode::Disable)).await;
    let dir = Dir::new();
    dir.up(1, "create_a", "CREATE TABLE a (id bigint);\n");
    let run = |dir: &Dir| {
        let m = Migrator::new(PgDriver::from(&pool), set(dir)).unwrap();
        async move { m.run().await.unwrap() }
    };
    // Each run finds an idle connection (`warm`): a run that opened one would count its setup.
    warm(&pool).await;
    proxy.reset();
    run(&dir).await;
    let fresh = proxy.round_trips();
    // Fast path (no table yet) + lock + create-and-read + the look for other tools' history
    // tables (a first run only) + the migration + the release (unlock and wake waiters).
    assert_eq!(fresh, 6, "a fresh database with one migration");

    warm(&pool).await;
    proxy.reset();
    assert!(run(&dir).await.is_noop());
    let startup = proxy.round_trips();
    assert_eq!(startup, 1, "the startup check when nothing is pending");

    dir.up(2, "create_b", "CREATE TABLE b (id bigint);\n");
    warm(&pool).await;
    proxy.reset();
    assert_eq!(versions(&run(&dir).await), [2]);
    let one = proxy.round_trips();

    for n in 3..=5 {
        dir.up(n, &format!("create_t{n}"), &format!("CREATE TABLE t{n} (id bigint);\n"));
    }
    warm(&pool).await;
    proxy.reset();
    assert_eq!(versions(&run(&dir).await), [3, 4, 5]);
    let three = proxy.round_trips();
    // Fast path + lock (which also reads the history) + one per migration + the release.
    assert_eq!(one, 4, "one pending migration");
    assert_eq!(three - one, 2, "each further transactional migration costs one round trip");

    // Grouped apply: three pending migrations in one transaction cost what one costs.
    for n in 10..=12 {
        dir.up(n, &format!("create_g{n}"), &format!("CREATE TABLE g{n} (id bigint);\n"));
    }
    warm(&pool).await;
    proxy.reset();
    let grouped = Migrator::builder(PgDriver::from(&pool), set(&dir)).grouped(true).build().unwrap();
    assert_eq!(versions(&grouped.run().await.unwrap()), [10, 11, 12]);
    assert_eq!(proxy.round_trips(), one, "three grouped migrations cost one round trip, as one does");

    dir.up(13, "two_indexes", "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\nCREATE INDEX CONCURRENTLY b_id ON b (id);\n");
    warm(&pool).await;
    proxy.reset();
    assert_eq!(versions(&run(&dir).await), [13]);
    let stepwise = proxy.round_trips();
    // Fast path + lock + start row + (statement, progress) + (statement, end row) + release.
    assert_eq!(stepwise, 8, "a two-statement no-transaction migration");
    eprintln!(
        "round trips: startup no-op {startup}; fresh database + 1 migration {fresh}; 1 pending {one}; \
         3 pending {three}; no-transaction migration of 2 statements {stepwise}"
    );
    db.cleanup().await;
}

/// Regression: when the client, not the server, failed in the middle of the one-message
/// batch (`COPY … TO STDOUT`, which the loader now refuses, did this), `up` said "the
/// transaction was rolled back, nothing of it was applied" although the server had run
/// everything and committed. Here the connection is cut after the server got the batch:
/// the session finds out from another connection that the server committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_never_reports_a_committed_migration_as_rolled_back() {
    init_tracing();
    let db = Pg::fresh("client_failure_truth").await;
    let upstream = format!("{}:{}", server_options().get_host(), server_options().get_port());
    let proxy = Proxy::start(&upstream).await;
    let pool = db.pool_with(|o| o.port(proxy.port()).ssl_mode(sqlx::postgres::PgSslMode::Disable)).await;
    let dir = Dir::new();
    dir.up(1, "pair", "CREATE TABLE t (id int);\nSELECT 'cut-the-answer-here';\nCREATE TABLE u (id int);\n");
    proxy.cut_answers_to("cut-the-answer-here");
    let e = Migrator::new(PgDriver::from(&pool), set(&dir)).unwrap().run().await.unwrap_err();
    let text = e.to_string();
    let Error::MigrationFailed { failure } = &e else { panic!("{e}") };
    assert_eq!(failure.outcome, FailureOutcome::Committed, "{text}");
    assert!(!text.contains("rolled back"), "{text}");
    assert!(text.contains("lost its connection while it ran") && text.contains("migration 1 is applied"), "{text}");
    assert!(!text.contains("sqlx_"), "no source position of the client library: {text}");
    assert!(db.table_exists("t").await && db.table_exists("u").await, "the server ran it all");
    assert!(Migrator::new(db.driver(), set(&dir)).unwrap().run().await.unwrap().is_noop(), "the history agrees");
    db.cleanup().await;
}

/// `plan --explain`'s table sizes come from the catalog (`pg_class.reltuples`,
/// `pg_total_relation_size`): read on this server's version (the suite runs on 15 and 18).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_sizes_are_read_from_this_servers_catalog() {
    use migrator_core::driver::Driver;
    init_tracing();
    let db = Pg::fresh("table_sizes").await;
    db.exec("CREATE TABLE orders (id bigint PRIMARY KEY, note text); CREATE TABLE fresh (id bigint)").await;
    db.exec("INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 5000) g; ANALYZE orders").await;
    let sizes =
        db.driver().table_sizes(&["orders".to_owned(), "fresh".to_owned(), "missing".to_owned()]).await.unwrap();
    assert_eq!(sizes.len(), 2, "a missing table has no row: {sizes:?}");
    let orders = sizes.iter().find(|s| s.name == "orders").unwrap();
    assert_eq!(orders.estimated_rows, Some(5000), "{orders:?}");
    assert!(orders.bytes.is_some_and(|b| b > 8192), "{orders:?}");
    let fresh = sizes.iter().find(|s| s.name == "fresh").unwrap();
    assert_eq!(fresh.estimated_rows, None, "never analyzed and empty: unknown, not 0 or -1: {fresh:?}");
    db.cleanup().await;
}

/// The all-tenants startup check: one round trip for 60 tenant schemas (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_tenant_schemas_checked_in_one_round_trip() {
    init_tracing();
    let upstream = format!("{}:{}", server_options().get_host(), server_options().get_port());
    migrator_conformance::suite::tenants_checked_in_one_round_trip(
        60,
        |a: &Pg| a.schema.clone(),
        &upstream,
        async |a, port| a.pool_with(|o| o.port(port).ssl_mode(sqlx::postgres::PgSslMode::Disable)).await,
    )
    .await;
}

/// Creating a tenant in one call: the schema, then the whole set in one transaction; a
/// second create is refused with nothing changed; a create whose set fails leaves the schema
/// without any migration applied, and running the tenant, as the refusal advises, finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_schema_is_created_in_one_call() {
    use migrator_postgres::{PlanError, Tenants};
    init_tracing();
    let db = Pg::fresh_database("tenant_create").await;
    let good = Dir::new();
    good.up(1, "create_a", "CREATE TABLE a (id bigint);\n").up(2, "create_b", "CREATE TABLE b (id bigint);\n").up(
        3,
        "seed",
        "INSERT INTO a (id) VALUES (1);\n",
    );
    let bad = Dir::new();
    bad.up(1, "create_a", "CREATE TABLE a (id bigint);\n").up(2, "create_b", "CREATE TABLE b (id bigint);\n").up(
        3,
        "seed",
        "INSERT INTO missing (id) VALUES (1);\n",
    );
    let tenants = |dir: &Dir, names: &[&str]| {
        let (db, each) = (&db, set(dir));
        Tenants::new(names.iter().copied(), move |schema: String| {
            let set = each.clone();
            async move {
                let pool = db.pool_with(|o| o.options([("search_path", schema.as_str())])).await;
                Migrator::builder(PgDriver::from(pool), set).schema(&schema).build()
            }
        })
        .check_on(Migrator::new(db.driver(), set(dir)).unwrap())
    };
    let created = tenants(&good, &["new_a"]).create("new_a").await.unwrap();
    assert_eq!(created.applied().map(|s| s.version.get()).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(db.scalar("SELECT count(*) FROM new_a.a").await, 1);

    let again = tenants(&good, &["new_a"]).create("new_a").await.unwrap_err();
    assert!(matches!(&again, Error::Plan { source: PlanError::TenantExists { .. } }), "{again}");
    assert!(again.to_string().contains("its schema exists already"), "{again}");
    assert_eq!(db.scalar("SELECT count(*) FROM new_a.a").await, 1, "nothing changed");

    // The set fails at its last migration: grouped, none of it is applied.
    let failed = tenants(&bad, &["new_b"]).create("new_b").await.unwrap_err();
    assert!(matches!(failed, Error::GroupFailed { .. }), "{failed}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'new_b' AND tablename IN ('a', 'b')").await,
        0
    );
    // The advice: the schema exists now, so run the tenant (after the fix).
    let refused = tenants(&good, &["new_b"]).create("new_b").await.unwrap_err();
    assert!(refused.to_string().contains("migrator up --schemas new_b"), "{refused}");
    let report = tenants(&good, &["new_b"]).run().await;
    assert!(report.is_success(), "{report}");
    assert_eq!(report.tenants[0].applied().iter().map(|v| v.get()).collect::<Vec<_>>(), [1, 2, 3]);
    db.cleanup().await;
}
