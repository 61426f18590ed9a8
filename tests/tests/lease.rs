//! The lease lock on PostgreSQL, directly and through a real PgBouncer in transaction mode
//! (started by `scripts/services` on 127.0.0.1:6439, or `MIGRATOR_TEST_PGBOUNCER_URL`):
//! - behind the pooler, 8 concurrent runners with the lease lock apply every migration once,
//!   a no-transaction `CREATE INDEX CONCURRENTLY` included, without named prepared statements;
//! - behind the pooler, the default session lock is detected as unsafe;
//! - a live holder keeps its lease past its time to live (the heartbeat renews it);
//! - a holder whose lease was taken over writes no history (the fence) and fails cleanly;
//! - `status` shows a no-transaction migration of a live lease holder as running.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use migrator_conformance::postgres::Pg;
use migrator_conformance::{Backend, Dir, init_tracing};
use migrator_core::driver::{Driver, LockRequest};
use migrator_core::history::HistoryTable;
use migrator_postgres::{Error, Lease, LockStrategy, MigrationSet, Migrator, PgDriver};
use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

fn pgbouncer_url() -> String {
    std::env::var("MIGRATOR_TEST_PGBOUNCER_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:6439/postgres".into())
}

/// A pool on the test's database through PgBouncer. Fails (never skips) when PgBouncer is not
/// there.
async fn through_pgbouncer(db: &Pg) -> PgPool {
    let options = pgbouncer_url().parse::<PgConnectOptions>().unwrap().database(db.database.as_deref().unwrap());
    match PgPoolOptions::new().max_connections(2).test_before_acquire(false).connect_with(options).await {
        Ok(pool) => pool,
        Err(e) => panic!(
            "PgBouncer is not reachable at {} ({e}). Start it with ./scripts/services (or set \
             MIGRATOR_TEST_PGBOUNCER_URL to a transaction-mode PgBouncer in front of the test PostgreSQL)",
            pgbouncer_url()
        ),
    }
}

fn set(dir: &Dir) -> MigrationSet<PgConnection> {
    dir.set::<PgConnection>(migrator_core::Dialect::Postgres)
}

fn lease(ttl_ms: u64) -> LockStrategy {
    LockStrategy::Lease(Lease::new(Duration::from_millis(ttl_ms)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_lock_keeps_eight_runners_correct_behind_pgbouncer() {
    init_tracing();
    let db = Pg::fresh_database("lease_pgbouncer").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (note TEXT);\n");
    for v in 2..=4 {
        dir.up(v, &format!("insert_{v}"), &format!("INSERT INTO log (note) VALUES ('m{v}');\nSELECT pg_sleep(0.1);\n"));
    }
    dir.up(5, "index", "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY log_note ON log (note);\n");
    let mut runners = Vec::new();
    for _ in 0..8 {
        let pool = through_pgbouncer(&db).await;
        let migrator = Migrator::builder(PgDriver::from(&pool), set(&dir)).lock_strategy(lease(3000)).build().unwrap();
        runners.push(tokio::spawn(async move { migrator.run().await }));
    }
    let mut applied = Vec::new();
    for runner in runners {
        let report = runner.await.unwrap().unwrap_or_else(|e| panic!("a runner failed: {e}"));
        applied.extend(report.steps.iter().map(|s| s.version.get()));
    }
    applied.sort_unstable();
    assert_eq!(applied, [1, 2, 3, 4, 5], "each migration applied by exactly one runner");
    for v in 2..=4 {
        assert_eq!(db.scalar(&format!("SELECT count(*) FROM log WHERE note = 'm{v}'")).await, 1);
    }
    assert_eq!(db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'log_note'").await, 1);
    assert_eq!(
        db.scalar("SELECT count(*) FROM _migrator_lock WHERE holder IS NULL").await,
        1,
        "the lease is free after the runs"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_lock_is_detected_unsafe_behind_pgbouncer() {
    init_tracing();
    let db = Pg::fresh_database("lease_unsafe").await;
    let table = HistoryTable::default();
    let first = PgDriver::from(through_pgbouncer(&db).await);
    let holder = first.open(&table, LockRequest::session(Duration::from_secs(5))).await.unwrap();
    // The pooler hands the server connection that holds the first client's advisory lock to
    // the second client, whose try-lock then succeeds: detected, not trusted.
    let second = PgDriver::from(through_pgbouncer(&db).await);
    match second.open(&table, LockRequest::session(Duration::from_secs(5))).await {
        Err(Error::LockUnsafe { reason, .. }) => assert!(reason.contains("transaction-mode pooler"), "{reason}"),
        Err(other) => panic!("expected LockUnsafe, got: {other}"),
        Ok(_) => panic!("a second session lock was granted behind a transaction-mode pooler"),
    }
    holder.release().await.unwrap();
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_holder_keeps_its_lease_past_its_time_to_live() {
    init_tracing();
    let db = Pg::fresh_database("lease_live").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (note TEXT);\n").up(
        2,
        "slow",
        "INSERT INTO log (note) VALUES ('slow');\nSELECT pg_sleep(4);\n",
    );
    // A ttl of 1 s, renewed every third of it: a 4 s migration outlives it four times over.
    let build = || Migrator::builder(db.driver(), set(&dir)).lock_strategy(lease(1000)).build().unwrap();
    let (a, b) = (build(), build());
    let started = Instant::now();
    let first = tokio::spawn(async move { a.run().await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = b.run().await.unwrap();
    let first = first.await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(4000));
    let mut applied: Vec<i64> = first.steps.iter().chain(&second.steps).map(|s| s.version.get()).collect();
    applied.sort_unstable();
    assert_eq!(applied, [1, 2], "the waiter never took over the live holder's lease (4 times its ttl)");
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1);
    assert_eq!(db.scalar("SELECT max(token) FROM _migrator_lock").await, 2, "two holdings, one after the other");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_a_lease_holders_migration_as_running() {
    use migrator_postgres::Status;
    init_tracing();
    let db = Pg::fresh_database("lease_status").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (note TEXT);\n").up(
        2,
        "slow",
        "-- migrator:no-transaction\nINSERT INTO log (note) VALUES ('first');\nSELECT pg_sleep(2);\n",
    );
    let holder = Migrator::builder(db.driver(), set(&dir)).lock_strategy(lease(1000)).build().unwrap();
    let running = tokio::spawn(async move { holder.run().await });
    let started = Instant::now();
    while db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'log'").await == 0
        || db.scalar("SELECT count(*) FROM log").await == 0
    {
        assert!(started.elapsed() < Duration::from_secs(20), "the holder never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status: Status = Migrator::new(db.driver(), set(&dir)).unwrap().status().await.unwrap();
    let second = &status.migrations[1];
    assert_eq!(second.state.label(), "running", "{:?}", second.state);
    let migrator_core::MigrationState::Running { holder, .. } = &second.state else { unreachable!() };
    assert!(holder.contains("token 1"), "the lease holder is described: {holder}");
    running.await.unwrap().unwrap();
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_was_taken_over_records_nothing() {
    init_tracing();
    let db = Pg::fresh_database("lease_fence").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (note TEXT);\n").up(
        2,
        "slow",
        "INSERT INTO log (note) VALUES ('slow');\nSELECT pg_sleep(3);\n",
    );
    let migrator = Migrator::builder(db.driver(), set(&dir)).lock_strategy(lease(30_000)).build().unwrap();
    let run = tokio::spawn(async move { migrator.run().await });
    let started = Instant::now();
    while db
        .scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid() \
             AND datname = current_database()",
        )
        .await
        == 0
    {
        assert!(started.elapsed() < Duration::from_secs(30), "migration 2 never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another process takes the lease over (as if this holder's lease had expired).
    db.exec(
        "UPDATE _migrator_lock SET holder = 'intruder', token = token + 1, \
         expires_at = clock_timestamp() + interval '1 minute'",
    )
    .await;
    match run.await.unwrap() {
        Err(Error::LockLost { lock, reason }) => {
            assert!(lock.contains("token 1"), "{lock}");
            assert!(reason.contains("took it over") || reason.contains("taken over"), "{reason}");
        }
        Err(other) => panic!("expected LockLost, got: {other}"),
        Ok(report) => panic!("the run went on without its lease: {report:?}"),
    }
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 0, "migration 2 rolled back");
    assert_eq!(db.scalar("SELECT count(*) FROM _migrator_history WHERE version = 2").await, 0, "nothing recorded");
    assert_eq!(
        db.scalar("SELECT count(*) FROM _migrator_lock WHERE holder = 'intruder'").await,
        1,
        "the new holder keeps the lease"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_lock_is_refused_where_there_is_none() {
    let db = migrator_conformance::sqlite::Lite::fresh("lease_refused").await;
    let dir = Dir::new();
    dir.up(1, "t", "CREATE TABLE t (id INT);\n");
    let set = dir.set::<sqlx::SqliteConnection>(migrator_core::Dialect::Sqlite);
    let refused = migrator_sqlite::Migrator::builder(db.driver(), set).lock_strategy(LockStrategy::lease()).build();
    assert!(matches!(refused, Err(Error::Unsupported { .. })), "{refused:?}");
    db.cleanup().await;
}

/// Regression: a history table name holding the fence's dollar-quote tag closed the quote
/// (`x$migrator_fence$;DROP TABLE victim;--` was a syntax error, an injection one step away).
/// No name may change the shape of a statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_name_cannot_close_the_fence_quote() {
    init_tracing();
    let db = Pg::fresh("lease_fence_name").await;
    db.exec("CREATE TABLE victim (id INT)").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (note TEXT);\n").down(1, "log", "DROP TABLE log;\n");
    dir.up(2, "index", "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY log_note ON log (note);\n").down(
        2,
        "index",
        "-- migrator:no-transaction\nDROP INDEX CONCURRENTLY log_note;\n",
    );
    let hostile = "x$migrator_fence$;DROP TABLE victim;--";
    for strategy in [lease(3000), LockStrategy::Session] {
        let migrator =
            Migrator::builder(db.driver(), set(&dir)).table(hostile).lock_strategy(strategy).build().unwrap();
        migrator.run().await.unwrap_or_else(|e| panic!("{strategy:?}: {e}"));
        migrator.down_all().await.unwrap_or_else(|e| panic!("{strategy:?}: {e}"));
    }
    assert_eq!(db.scalar("SELECT count(*) FROM victim").await, 0, "the victim table is still there");
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'x$migrator_fence$;DROP TABLE victim;--'").await,
        1,
        "the history table has exactly the name given"
    );
    db.cleanup().await;
}
