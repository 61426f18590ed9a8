//! The `migrator` binary on a 3-node MariaDB Galera cluster (started by `scripts/services`
//! on 127.0.0.1:3311-3313, or `MIGRATOR_TEST_GALERA_URLS`), real processes spread over the
//! nodes, each test in a fresh database:
//! - 16 processes with `--lock-strategy lease`, connected round-robin to the three nodes,
//!   apply a set once (a keyless `INSERT` would show a second application);
//! - the default session lock (`GET_LOCK`, node-local there) is refused before anything runs;
//! - `kill -9` of the lease holder in the middle of a statement-by-statement migration: the
//!   lease expires, the next run on another node reports the interrupted migration, and
//!   `resume` (its advice) then `up` finish the set, nothing applied twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use common::{Project, Run, wait};
use migrator_conformance::galera::Cluster;

const LEASE: [&str; 4] = ["--lock-strategy", "lease", "--lease-ttl", "3s"];

fn lease_args<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command];
    args.extend(LEASE);
    args.extend(extra);
    args
}

/// A set whose inserts show a second application, with sleeps so runs overlap.
fn write_set(project: &Project) {
    project.write("1_create_log.up.sql", "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100));\n");
    for v in 2..=5 {
        project.write(
            &format!("{v}_insert_{v}.up.sql"),
            &format!("INSERT INTO log (note) VALUES ('m{v}');\nDO SLEEP(0.1);\n"),
        );
    }
    project.write("6_table.up.sql", "CREATE TABLE t6 (id INT PRIMARY KEY);\nINSERT INTO log (note) VALUES ('m6');\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_over_three_galera_nodes_apply_the_set_once() {
    let cluster = Cluster::fresh("cli_sixteen").await;
    let project = Project::new();
    write_set(&project);
    let started = Instant::now();
    let children: Vec<Child> = (0..16)
        .map(|i| project.spawn(Some(&cluster.urls[i % 3]), &lease_args("up", &["--lock-wait", "5min"])))
        .collect();
    let mut applied = Vec::new();
    for child in children {
        let run = wait(child);
        run.code(0);
        applied.extend(run.applied());
    }
    applied.sort_unstable();
    eprintln!("16 processes over 3 Galera nodes: {:?}", started.elapsed());
    assert_eq!(applied, [1, 2, 3, 4, 5, 6], "each migration applied by exactly one of 16 processes");
    for node in 0..3 {
        for v in 2..=6 {
            let count = cluster.scalar(node, &format!("SELECT COUNT(*) FROM log WHERE note = 'm{v}'")).await;
            assert_eq!(count, 1, "m{v} on node {}", node + 1);
        }
        assert_eq!(cluster.scalar(node, "SELECT COUNT(*) FROM _migrator_lock WHERE holder IS NULL").await, 1);
    }
    cluster.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_get_lock_on_a_galera_node() {
    let cluster = Cluster::fresh("cli_refused").await;
    let project = Project::new();
    write_set(&project);
    let run = project.run(Some(&cluster.urls[2]), &["up"]);
    run.code(1);
    assert!(run.stderr.contains("node-local") && run.stderr.contains("--lock-strategy lease"), "{}", run.stderr);
    assert!(run.applied().is_empty(), "{}", run.stdout);
    let tables = cluster
        .scalar(
            0,
            &format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'", cluster.database),
        )
        .await;
    assert_eq!(tables, 0, "nothing ran");
    cluster.cleanup().await;
}

/// Waits until a statement containing `marker` runs in the test's database on node `node`.
async fn wait_running(cluster: &Cluster, node: usize, marker: &str) {
    let started = Instant::now();
    let sql = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%{marker}%' AND DB = '{}' \
         AND ID <> CONNECTION_ID()",
        cluster.database
    );
    while cluster.scalar(node, &sql).await == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "no statement with {marker} started on node {}", node + 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_of_a_lease_holder_on_galera_is_recovered_on_another_node() {
    let cluster = Cluster::fresh("cli_kill").await;
    let project = Project::new();
    project
        .write("1_create_log.up.sql", "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100));\n")
        .write(
            "2_table.up.sql",
            "CREATE TABLE t2 (id INT PRIMARY KEY);\nDO SLEEP(4);\nINSERT INTO log (note) VALUES ('m2');\n",
        )
        .write("3_last.up.sql", "INSERT INTO log (note) VALUES ('m3');\n");
    let mut holder = project.spawn(Some(&cluster.urls[0]), &lease_args("up", &["--lock-wait", "5min"]));
    // Migration 2 runs statement by statement (MySQL commits DDL implicitly): killed in its
    // second statement, after its DDL took effect cluster-wide.
    wait_running(&cluster, 0, "SLEEP(4)").await;
    holder.kill().unwrap();
    let killed: Run = wait(holder);
    assert_ne!(killed.code, 0, "the holder was killed mid-run");
    let started = Instant::now();
    let up = project.run(Some(&cluster.urls[1]), &lease_args("up", &["--lock-wait", "5min"]));
    up.code(1);
    assert!(up.stderr.contains("interrupted at statement 2"), "{}", up.stderr);
    assert!(up.stderr.contains("`resume` to run it again"), "the error advises `resume`: {}", up.stderr);
    eprintln!("the next run on node 2 reported the interruption after {:?}", started.elapsed());
    // The dead holder's lease was renewed at most a third of its 3 s before the kill: the
    // next run waited for it to expire rather than running beside the interrupted migration.
    assert!(started.elapsed() >= Duration::from_millis(1500), "it waited for the lease: {:?}", started.elapsed());
    // The advice: `resume` (statement 2, the sleep, had no effect to skip), then `up`.
    let resume = project.run(Some(&cluster.urls[1]), &lease_args("resume", &["--lock-wait", "5min"]));
    resume.code(0);
    let last = project.run(Some(&cluster.urls[2]), &lease_args("up", &["--lock-wait", "5min"]));
    last.code(0);
    for node in 0..3 {
        for v in 2..=3 {
            let count = cluster.scalar(node, &format!("SELECT COUNT(*) FROM log WHERE note = 'm{v}'")).await;
            assert_eq!(count, 1, "m{v} on node {}", node + 1);
        }
        let applied = cluster.scalar(node, "SELECT COUNT(*) FROM _migrator_history WHERE version > 0").await;
        assert_eq!(applied, 3, "node {}: every migration recorded once", node + 1);
    }
    cluster.cleanup().await;
}
