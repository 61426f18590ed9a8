//! migrator on a 3-node MariaDB Galera cluster (started by `scripts/services` on
//! 127.0.0.1:3311-3313, or `MIGRATOR_TEST_GALERA_URLS`):
//! - `GET_LOCK` is node-local there: node 1 holds it and node 2 grants it too (why the
//!   session lock is refused);
//! - a runner with the default session lock is refused before anything runs.
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
