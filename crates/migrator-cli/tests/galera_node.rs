//! `kill -9` of a Galera node in the middle of a run (a test binary of its own, so no other
//! test uses the cluster while a node is down): the runner on that node fails, its lease
//! expires, a run on another node applies the set once, and the node, restarted by
//! `scripts/services`, rejoins with the same history.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Project, wait};
use migrator_conformance::galera::Cluster;

fn services() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/services")
}

/// Restarts the killed node when dropped (also when the test fails), so the cluster is
/// whole again for whatever runs next.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let status = Command::new(services()).arg("galera").status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("restarting the Galera node failed ({status:?}): run ./scripts/services galera");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_of_a_galera_node_mid_run_is_recovered() {
    if std::env::var_os("MIGRATOR_TEST_GALERA_URLS").is_some() {
        panic!(
            "this test kills and restarts a node of the cluster ./scripts/services starts; with \
             MIGRATOR_TEST_GALERA_URLS set it cannot restart yours: unset it and run ./scripts/services galera"
        );
    }
    let cluster = Cluster::fresh("cli_node_kill").await;
    let project = Project::new();
    project
        .write("1_create_log.up.sql", "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100));\n")
        .write(
            "2_fill.up.sql",
            "INSERT INTO log (note) VALUES ('m2');\nDO SLEEP(5);\nINSERT INTO log (note) VALUES ('m2b');\n",
        )
        .write("3_last.up.sql", "INSERT INTO log (note) VALUES ('m3');\n");
    let args = ["up", "--lock-strategy", "lease", "--lease-ttl", "3s", "--lock-wait", "5min"];
    let pid_file: String = sqlx::query_scalar("SELECT @@pid_file").fetch_one(&cluster.pools[2]).await.unwrap();
    let runner = project.spawn(Some(&cluster.urls[2]), &args);
    // Migration 2 is one transaction: killed while it sleeps, on the node that runs it.
    let started = Instant::now();
    let running = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(5)%' AND DB = '{}' \
         AND ID <> CONNECTION_ID()",
        cluster.database
    );
    loop {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(running.clone())).fetch_one(&cluster.pools[2]).await.unwrap();
        if count > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "migration 2 never started on node 3");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for pool in &cluster.pools {
        pool.close().await;
    }
    let pid = std::fs::read_to_string(&pid_file).unwrap_or_else(|e| panic!("node 3's pid file {pid_file}: {e}"));
    let _restart = Restart;
    let killed = Command::new("kill").args(["-9", pid.trim()]).status().unwrap();
    assert!(killed.success(), "kill -9 {pid}");
    let failed = wait(runner);
    assert_ne!(failed.code, 0, "the runner on the killed node fails: {}", failed.stdout);
    eprintln!("node 3 killed; its runner failed: {}", failed.stderr.trim());

    // The other two nodes go on (after Galera evicts the dead one); the runner's lease expires.
    // Its advice: `status` says whether migration 2 committed; it did not, so run again.
    let recovered = Instant::now();
    let status = project.run(Some(&cluster.urls[0]), &["status", "--format", "json"]).code(0).json();
    let states: Vec<&str> =
        status["migrations"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["applied", "pending", "pending"], "{status}");
    let run = project.run(Some(&cluster.urls[0]), &args);
    run.code(0);
    eprintln!("a run on node 1 finished the set {:?} after the kill", recovered.elapsed());
    assert_eq!(run.applied(), [2, 3], "migration 2 never committed on the dead node: {}", run.stdout);
    drop(_restart);
    let survivors = [Cluster::pool(&cluster.urls[0]).await, Cluster::pool(&cluster.urls[2]).await];
    for (pool, node) in survivors.iter().zip([1, 3]) {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::raw_sql("SET SESSION wsrep_sync_wait = 1").execute(&mut *conn).await.unwrap();
        for note in ["m2", "m2b", "m3"] {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM log WHERE note = ?")
                .bind(note)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!(count, 1, "{note} on node {node}");
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _migrator_history WHERE version > 0")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(rows, 3, "node {node}: every migration recorded once");
    }
    for pool in survivors {
        pool.close().await;
    }
    Cluster { pools: Vec::new(), ..cluster }.cleanup().await;
}
