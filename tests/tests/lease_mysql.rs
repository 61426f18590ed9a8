//! The lease lock on MySQL/MariaDB (the test server on 127.0.0.1:3306, or
//! `MIGRATOR_TEST_MYSQL_URL`); on a Galera cluster in `galera.rs`:
//! - 8 concurrent runners with the lease lock apply every migration once (DDL, which MySQL
//!   commits statement by statement, included) and leave the lease free;
//! - a dead holder's lease is taken over after it expires, with the next fencing token;
//! - a holder whose lease was taken over writes no history (the fence) and fails cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use migrator_conformance::mysql::My;
use migrator_conformance::{Backend, Dir, init_tracing};
use migrator_mysql::{Error, Lease, LockStrategy, MigrationSet, Migrator};
use sqlx::MySqlConnection;

fn set(dir: &Dir) -> MigrationSet<MySqlConnection> {
    dir.set::<MySqlConnection>(migrator_core::Dialect::MySql)
}

fn lease(ttl_ms: u64) -> LockStrategy {
    LockStrategy::Lease(Lease::new(Duration::from_millis(ttl_ms)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_lock_keeps_eight_runners_correct_on_mysql() {
    init_tracing();
    let db = My::fresh("lease_eight").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT);\n");
    for v in 2..=4 {
        dir.up(v, &format!("insert_{v}"), &format!("INSERT INTO log (note) VALUES ('m{v}');\nDO SLEEP(0.1);\n"));
    }
    dir.up(5, "index", "CREATE INDEX log_note ON log (note(20));\nINSERT INTO log (note) VALUES ('m5');\n");
    let mut runners = Vec::new();
    for _ in 0..8 {
        let pool = db.pool_with(|o| o).await;
        let migrator = Migrator::builder(migrator_mysql::MySqlDriver::from(&pool), set(&dir))
            .lock_strategy(lease(3000))
            .build()
            .unwrap();
        runners.push(tokio::spawn(async move { migrator.run().await }));
    }
    let mut applied = Vec::new();
    for runner in runners {
        let report = runner.await.unwrap().unwrap_or_else(|e| panic!("a runner failed: {e}"));
        applied.extend(report.steps.iter().map(|s| s.version.get()));
    }
    applied.sort_unstable();
    assert_eq!(applied, [1, 2, 3, 4, 5], "each migration applied by exactly one runner");
    for v in 2..=5 {
        assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM log WHERE note = 'm{v}'")).await, 1);
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _migrator_lock WHERE holder IS NULL").await, 1, "the lease is free");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_lease_is_taken_over_after_it_expires() {
    init_tracing();
    let db = My::fresh("lease_takeover").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (note TEXT);\n");
    db.exec(
        "CREATE TABLE _migrator_lock (name VARCHAR(255) NOT NULL PRIMARY KEY, holder VARCHAR(255) NULL, \
         token BIGINT NOT NULL, acquired_at DATETIME(6) NOT NULL, expires_at DATETIME(6) NOT NULL, \
         holder_info VARCHAR(512) NULL, fenced BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB",
    )
    .await;
    db.exec(
        "INSERT INTO _migrator_lock (name, holder, token, acquired_at, expires_at, holder_info) VALUES \
         ('_migrator_history', 'dead-host:1:0', 7, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 1500000 MICROSECOND, 'x')",
    )
    .await;
    let started = Instant::now();
    let report = Migrator::builder(db.driver(), set(&dir)).lock_strategy(lease(3000)).build().unwrap().run().await;
    let report = report.unwrap_or_else(|e| panic!("the run did not take the expired lease over: {e}"));
    assert!(started.elapsed() >= Duration::from_millis(1000), "it waited for the expiry: {:?}", started.elapsed());
    assert_eq!(report.steps.len(), 1);
    assert_eq!(db.scalar("SELECT token FROM _migrator_lock").await, 8, "the taker got the next fencing token");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _migrator_lock WHERE holder IS NULL").await, 1, "and released it");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_was_taken_over_records_nothing_on_mysql() {
    init_tracing();
    let db = My::fresh("lease_fence").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (note TEXT);\n").up(
        2,
        "slow",
        "INSERT INTO log (note) VALUES ('slow');\nDO SLEEP(3);\n",
    );
    let migrator = Migrator::builder(db.driver(), set(&dir)).lock_strategy(lease(30_000)).build().unwrap();
    let run = tokio::spawn(async move { migrator.run().await });
    let started = Instant::now();
    while db.connection_running("INSERT INTO log").await.is_none() && db.connection_running("DO SLEEP").await.is_none()
    {
        assert!(started.elapsed() < Duration::from_secs(30), "migration 2 never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another process takes the lease over (as if this holder's lease had expired).
    db.exec(
        "UPDATE _migrator_lock SET holder = 'intruder', token = token + 1, \
         expires_at = UTC_TIMESTAMP(6) + INTERVAL 1 MINUTE",
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
    assert_eq!(db.scalar("SELECT COUNT(*) FROM log").await, 0, "migration 2 rolled back");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _migrator_history WHERE version = 2").await, 0, "nothing recorded");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _migrator_lock WHERE holder = 'intruder'").await, 1, "kept");
    db.cleanup().await;
}
