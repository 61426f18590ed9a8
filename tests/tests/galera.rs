//! migrator on a 3-node MariaDB Galera cluster (started by `scripts/services` on
//! 127.0.0.1:3311-3313, or `MIGRATOR_TEST_GALERA_URLS`):
//! - `GET_LOCK` is node-local there: node 1 holds it and node 2 grants it too (why the
//!   session lock is refused);
//! - a runner with the default session lock is refused before anything runs;
//! - a lease holder on node 1 whose lease is taken over on node 2 records nothing (the fence).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::galera::Cluster;
use migrator_conformance::{Dir, init_tracing};
use migrator_mysql::{Error, MigrationSet, Migrator, MySqlDriver};
use sqlx::MySqlConnection;

fn set(dir: &Dir) -> MigrationSet<MySqlConnection> {
    dir.set::<MySqlConnection>(migrator_core::Dialect::MySql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_lock_is_node_local_on_galera() {
    init_tracing();
    let cluster = Cluster::fresh("get_lock").await;
    let name = format!("{}.node_local", cluster.database);
    let mut first = cluster.pools[0].acquire().await.unwrap();
    let mut second = cluster.pools[1].acquire().await.unwrap();
    let got: Option<i64> =
        sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(&name).fetch_one(&mut *first).await.unwrap();
    assert_eq!(got, Some(1), "node 1 takes the lock");
    let also: Option<i64> =
        sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(&name).fetch_one(&mut *second).await.unwrap();
    assert_eq!(also, Some(1), "node 2 grants the lock node 1 holds: GET_LOCK is node-local on Galera");
    let on_first_again: Option<i64> = sqlx::query_scalar("SELECT IS_FREE_LOCK(?)")
        .bind(&name)
        .fetch_one(&mut *cluster.pools[0].acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(on_first_again, Some(0), "on node 1 itself the lock is taken");
    drop((first, second));
    cluster.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_lock_is_refused_on_a_galera_node_before_anything_runs() {
    init_tracing();
    let cluster = Cluster::fresh("refused").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (id INT PRIMARY KEY, note TEXT);\n");
    let migrator = Migrator::new(MySqlDriver::from(&cluster.pools[1]), set(&dir)).unwrap();
    match migrator.run().await {
        Err(Error::LockUnsafe { reason, instead }) => {
            assert!(reason.contains("Galera") && reason.contains("node-local"), "{reason}");
            assert!(instead.contains("--lock-strategy lease"), "{instead}");
        }
        Err(other) => panic!("expected LockUnsafe, got: {other}"),
        Ok(report) => panic!("a GET_LOCK runner ran on a Galera node: {report:?}"),
    }
    let tables = cluster
        .scalar(
            0,
            &format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'", cluster.database),
        )
        .await;
    assert_eq!(tables, 0, "nothing ran: neither the history table nor the migration's table exists");
    cluster.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_was_taken_over_on_another_node_records_nothing() {
    init_tracing();
    let cluster = Cluster::fresh("fence").await;
    let dir = Dir::new();
    dir.up(1, "log", "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT);\n").up(
        2,
        "slow",
        "INSERT INTO log (note) VALUES ('slow');\nDO SLEEP(3);\n",
    );
    let lease = migrator_mysql::LockStrategy::Lease(migrator_mysql::Lease::new(std::time::Duration::from_secs(30)));
    let migrator =
        Migrator::builder(MySqlDriver::from(&cluster.pools[0]), set(&dir)).lock_strategy(lease).build().unwrap();
    let run = tokio::spawn(async move { migrator.run().await });
    let started = std::time::Instant::now();
    let sleeping = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(3)%' AND DB = '{}' \
         AND ID <> CONNECTION_ID()",
        cluster.database
    );
    while cluster.scalar(0, &sleeping).await == 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "migration 2 never started on node 1");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Another runner, on node 2, takes the lease over (as if the holder's lease had expired).
    sqlx::raw_sql(
        "UPDATE _migrator_lock SET holder = 'intruder', token = token + 1, \
         expires_at = UTC_TIMESTAMP(6) + INTERVAL 1 MINUTE",
    )
    .execute(&cluster.pools[1])
    .await
    .unwrap();
    match run.await.unwrap() {
        Err(Error::LockLost { lock, reason }) => {
            assert!(lock.contains("token 1"), "{lock}");
            assert!(reason.contains("took it over"), "{reason}");
        }
        Err(other) => panic!("expected LockLost, got: {other}"),
        Ok(report) => panic!("the run went on without its lease: {report:?}"),
    }
    for node in 0..3 {
        assert_eq!(cluster.scalar(node, "SELECT COUNT(*) FROM log").await, 0, "node {}: rolled back", node + 1);
        let recorded = cluster.scalar(node, "SELECT COUNT(*) FROM _migrator_history WHERE version = 2").await;
        assert_eq!(recorded, 0, "node {}: nothing recorded", node + 1);
    }
    cluster.cleanup().await;
}
