//! Faults and concurrency, with real OS processes running the `migrator` binary against real
//! servers, each test in a fresh database:
//! - 16 processes start the same set at once: each migration is applied exactly once (a keyless
//!   `INSERT` shows a second application), every process exits 0;
//! - `kill -9` of the migrating process at seeded random points: afterwards the history matches
//!   the schema, no transactional migration is half-applied, and `up` (or, for an interrupted
//!   MySQL DDL migration, `resume`/`resume --skip` as the schema says) finishes the set with
//!   nothing applied twice;
//! - the server kills the lock holder's connection: the holder fails cleanly, a waiter proceeds;
//! - a failing migration never leaves the lock held.
//!
//! `MIGRATOR_FAULT_SEED` and `MIGRATOR_FAULT_TRIALS` (default 30) change the kill trials; a
//! failure prints the seed and the trial's delay so it can be replayed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{CliBackend, Project, Rng, Run, env_number, up_at_once, wait};
use migrator_conformance::Backend;
use migrator_conformance::mysql::My;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;

/// What the fault tests need beyond [`CliBackend`]: seeing and killing other sessions.
#[async_trait]
trait FaultBackend: CliBackend {
    /// Whether the server has sessions a killed client can leave behind.
    const SERVER: bool;

    /// How many sessions of other clients are still busy in the test's database (a killed
    /// client's statement runs on until the server notices the client is gone).
    async fn busy_sessions(&self) -> i64;

    /// The id of another session whose current statement contains `marker`.
    async fn session_running(&self, marker: &str) -> Option<i64>;

    /// Kills a session from the server side.
    async fn kill_session(&self, id: i64);

    /// Whether statement `index` (1-based) of migration `version` in [`kill_set`] took effect.
    async fn took_effect(&self, version: i64, index: u32) -> bool;
}

#[async_trait]
impl FaultBackend for Pg {
    const SERVER: bool = true;

    async fn busy_sessions(&self) -> i64 {
        self.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'",
        )
        .await
    }

    async fn session_running(&self, marker: &str) -> Option<i64> {
        // Only a running statement: an idle session shows its last query, and the test's own
        // pool has run this very query (marker included) on its other connections.
        let id = self
            .scalar(&format!(
                "SELECT coalesce(max(pid), 0)::int8 FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%{marker}%' \
                 AND query NOT LIKE '%pg_stat_activity%'"
            ))
            .await;
        (id != 0).then_some(id)
    }

    async fn kill_session(&self, id: i64) {
        assert_eq!(self.scalar(&format!("SELECT pg_terminate_backend({id})::int::int8")).await, 1);
    }

    async fn took_effect(&self, version: i64, index: u32) -> bool {
        panic!("PostgreSQL runs migration {version} in one transaction; no statement {index} can be interrupted")
    }
}

#[async_trait]
impl FaultBackend for My {
    const SERVER: bool = true;

    async fn busy_sessions(&self) -> i64 {
        self.scalar(
            "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() \
             AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'",
        )
        .await
    }

    async fn session_running(&self, marker: &str) -> Option<i64> {
        let id = self
            .scalar(&format!(
                "SELECT coalesce(max(ID), 0) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() \
                 AND ID <> CONNECTION_ID() AND INFO LIKE '%{marker}%'"
            ))
            .await;
        (id != 0).then_some(id)
    }

    async fn kill_session(&self, id: i64) {
        self.exec(&format!("KILL {id}")).await;
    }

    /// Migration 3 on MySQL is DDL, run statement by statement: `CREATE TABLE t3`, a sleep,
    /// then an `INSERT` (committed with its progress, so never left behind unrecorded).
    async fn took_effect(&self, version: i64, index: u32) -> bool {
        match (version, index) {
            (1, 1) => self.table_exists("log").await,
            (3, 1) => self.table_exists("t3").await,
            (3, 2) => false,
            (3, 3) => self.scalar("SELECT count(*) FROM log WHERE note = 'm3'").await > 0,
            other => panic!("statement {other:?} is not run statement by statement"),
        }
    }
}

#[async_trait]
impl FaultBackend for Lite {
    const SERVER: bool = false;

    async fn busy_sessions(&self) -> i64 {
        0
    }

    async fn session_running(&self, _marker: &str) -> Option<i64> {
        None
    }

    async fn kill_session(&self, _id: i64) {
        unreachable!("SQLite has no server sessions")
    }

    async fn took_effect(&self, version: i64, index: u32) -> bool {
        panic!("SQLite runs migration {version} in one transaction; no statement {index} can be interrupted")
    }
}

/// Waits until no other session is busy in the database: a killed client's last statement
/// may still be running on the server.
async fn quiesce<B: FaultBackend>(db: &B) {
    let started = Instant::now();
    while db.busy_sessions().await > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the killed client's session never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The states of `status --format json`, in version order.
fn states(project: &Project, url: &str) -> Vec<(i64, String, serde_json::Value)> {
    let status = project.run(Some(url), &["status", "--format", "json"]).code(0).json();
    status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["version"].as_i64().unwrap(), m["state"].as_str().unwrap().to_owned(), m.clone()))
        .collect()
}

/// 16 processes start the same set at once: every migration applied once, every process
/// exits 0.
async fn sixteen_processes_at_once<B: FaultBackend>() {
    let db = B::create("fault_sixteen").await;
    let url = db.url();
    let project = Project::new();
    project.write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n");
    for v in 2..=5 {
        project.write(
            &format!("{v}_insert_{v}.up.sql"),
            &format!("INSERT INTO log (note) VALUES ('m{v}');\n{};\n", B::slow_sql(Duration::from_millis(100))),
        );
    }
    project.write("6_table.up.sql", "CREATE TABLE t6 (id INT);\n");
    let applied = up_at_once(&project, &url, 16);
    assert_eq!(applied, [1, 2, 3, 4, 5, 6], "each migration applied by exactly one of 16 processes");
    for v in 2..=5 {
        assert_eq!(db.scalar(&format!("SELECT count(*) FROM log WHERE note = 'm{v}'")).await, 1, "m{v}");
    }
    assert!(db.table_exists("t6").await);
    db.cleanup().await;
}

/// The set the kill trials run: a table, a transactional two-insert migration around a sleep,
/// a migration with DDL (statement by statement on MySQL), and a last insert with a sleep.
fn kill_set<B: FaultBackend>(project: &Project) {
    let slow = B::slow_sql(Duration::from_millis(150));
    project
        .write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n")
        .write(
            "2_fill.up.sql",
            &format!("INSERT INTO log (note) VALUES ('m2');\n{slow};\nINSERT INTO log (note) VALUES ('m2b');\n"),
        )
        .write(
            "3_table.up.sql",
            &format!("CREATE TABLE t3 (id INT);\n{slow};\nINSERT INTO log (note) VALUES ('m3');\n"),
        )
        .write("4_last.up.sql", &format!("INSERT INTO log (note) VALUES ('m4');\n{slow};\n"));
}

/// Checks that the history matches the schema: an applied migration's effects are all there,
/// a migration not applied left nothing (unless it is the one interrupted statement by
/// statement, whose effects match its recorded progress).
async fn history_matches_schema<B: FaultBackend>(db: &B, states: &[(i64, String, serde_json::Value)], trial: &str) {
    let state = |v: i64| states.iter().find(|(version, ..)| *version == v).map_or("pending", |(_, s, _)| s.as_str());
    let count =
        |note: &'static str| async move { db.scalar(&format!("SELECT count(*) FROM log WHERE note = '{note}'")).await };
    let applied = |v: i64| i64::from(state(v) == "applied");
    for (version, state, entry) in states {
        assert!(
            matches!(state.as_str(), "applied" | "pending" | "interrupted"),
            "{trial}: migration {version} is {state}: {entry}"
        );
        if state == "interrupted" {
            assert!(B::DIALECT == migrator_core::Dialect::MySql, "{trial}: only MySQL DDL can be interrupted: {entry}");
        }
    }
    if state(1) == "pending" {
        assert!(!db.table_exists("log").await, "{trial}: table log exists but migration 1 is pending");
        return;
    }
    if state(1) != "applied" {
        return;
    }
    assert_eq!(count("m2").await, applied(2), "{trial}: m2 vs history");
    assert_eq!(count("m2b").await, applied(2), "{trial}: m2b vs history (half-applied?)");
    if state(3) != "interrupted" {
        assert_eq!(i64::from(db.table_exists("t3").await), applied(3), "{trial}: t3 vs history");
        assert_eq!(count("m3").await, applied(3), "{trial}: m3 vs history");
    }
    assert_eq!(count("m4").await, applied(4), "{trial}: m4 vs history");
}

/// `kill -9` at seeded random points, then recovery.
async fn kill_nine_at_random_points<B: FaultBackend>() {
    let seed = env_number("MIGRATOR_FAULT_SEED", 20_261_121);
    let trials = env_number("MIGRATOR_FAULT_TRIALS", 30);
    let mut rng = Rng(seed);
    let project = Project::new();
    kill_set::<B>(&project);
    let (mut killed_midway, mut partial, mut resumed, mut skipped) = (0, 0, 0, 0);
    for trial in 0..trials {
        let delay = Duration::from_millis(rng.next() % 900);
        let label = format!("seed {seed} trial {trial} (kill after {delay:?})");
        let db = B::create(&format!("fault_kill{trial}")).await;
        let url = db.url();
        let mut child = project.spawn(Some(&url), &["up", "--lock-wait", "5min"]);
        tokio::time::sleep(delay).await;
        let _ = child.kill();
        let run = wait(child);
        if run.code != 0 {
            killed_midway += 1;
        }
        quiesce(&db).await;
        let before = states(&project, &url);
        if before.iter().any(|(_, state, _)| state != "applied")
            && before.iter().any(|(_, state, _)| state == "applied")
        {
            partial += 1;
        }
        history_matches_schema(&db, &before, &label).await;

        // Recovery: `up` finishes, unless a MySQL DDL migration was interrupted, which is
        // reported with its statement and resumed (skipped if the statement took effect).
        let up = project.run(Some(&url), &["up", "--lock-wait", "5min"]);
        if let Some((version, _, entry)) = before.iter().find(|(_, state, _)| state == "interrupted") {
            assert_eq!(up.code, 1, "{label}: `up` must refuse an interrupted migration\n{}", up.stderr);
            assert!(up.stderr.contains("interrupted at statement"), "{label}: {}", up.stderr);
            let index = entry["failed_statement"]["index"].as_u64().unwrap_or(1) as u32;
            let skip = db.took_effect(*version, index).await;
            resumed += 1;
            skipped += usize::from(skip);
            let args: &[&str] = if skip { &["resume", "--skip"] } else { &["resume"] };
            project.run(Some(&url), args).code(0);
            project.run(Some(&url), &["up"]).code(0);
        } else {
            assert_eq!(up.code, 0, "{label}: the next run just finishes\n{}", up.stderr);
        }
        let after = states(&project, &url);
        assert!(after.iter().all(|(_, state, _)| state == "applied"), "{label}: {after:?}");
        history_matches_schema(&db, &after, &label).await;
        db.cleanup().await;
    }
    eprintln!(
        "kill -9 on {:?}: seed {seed}, {trials} trials, {killed_midway} killed mid-run, {partial} left part of the set \
         applied, {resumed} interrupted migrations resumed ({skipped} with --skip)",
        B::DIALECT
    );
    // The random points must really hit runs in progress, not only finished ones.
    assert!(killed_midway * 3 >= trials, "only {killed_midway} of {trials} kills hit a running process");
}

/// The server kills the lock holder's connection mid-migration: the holder fails with one
/// clear error, and a process waiting for the lock applies the migration.
async fn holder_killed_by_the_server<B: FaultBackend>() {
    let db = B::create("fault_holder").await;
    let url = db.url();
    let project = Project::new();
    project.write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n").write(
        "2_slow.up.sql",
        &format!("INSERT INTO log (note) VALUES ('slow');\n{};\n", B::slow_sql(Duration::from_secs(5))),
    );
    let holder = project.spawn(Some(&url), &["up", "--lock-wait", "5min"]);
    let marker = if B::DIALECT == migrator_core::Dialect::Postgres { "pg_sleep" } else { "SLEEP(" };
    let started = Instant::now();
    let session = loop {
        if let Some(id) = db.session_running(marker).await {
            break id;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the holder never started migration 2");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let waiter = project.spawn(Some(&url), &["up", "--lock-wait", "5min"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    db.kill_session(session).await;
    let holder: Run = wait(holder);
    holder.code(1);
    assert!(!holder.stderr.contains("panicked"), "{}", holder.stderr);
    assert!(holder.stderr.contains("migration 2"), "the error names the migration: {}", holder.stderr);
    let waiter = wait(waiter);
    waiter.code(0);
    assert_eq!(waiter.applied(), [2], "{}", waiter.stdout);
    assert_eq!(db.scalar("SELECT count(*) FROM log WHERE note = 'slow'").await, 1);
    db.cleanup().await;
}

/// A failing migration in one process leaves the lock free: the next process gets it at once
/// and reports the same failure, not a lock timeout.
async fn a_failing_migration_never_keeps_the_lock<B: FaultBackend>() {
    let db = B::create("fault_failing").await;
    let url = db.url();
    let project = Project::new();
    project
        .write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n")
        .write("2_broken.up.sql", "INSERT INTO log (note) VALUES ('x');\nINSERT INTO no_such_table VALUES (1);\n");
    for attempt in 0..3 {
        let run = project.run(Some(&url), &["up", "--lock-wait", "2s"]);
        run.code(1);
        assert!(run.stderr.contains("no_such_table"), "attempt {attempt}: {}", run.stderr);
        assert!(!run.stderr.contains("lock"), "attempt {attempt}: the lock was left held: {}", run.stderr);
        quiesce(&db).await;
    }
    if B::SERVER && B::DIALECT == migrator_core::Dialect::Postgres {
        let held = db
            .scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await;
        assert_eq!(held, 0, "advisory locks left in the database");
    }
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 0, "the failed migration rolled back");
    db.cleanup().await;
}

/// PostgreSQL's lease lock: a holder killed with `kill -9` stops renewing its lease; the next
/// runner waits for it to expire (judged by the server's clock), takes it over with the next
/// fencing token and finishes the set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_lease_expires() {
    let db = Pg::create("fault_lease").await;
    let url = db.url();
    let project = Project::new();
    project.write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n").write(
        "2_slow.up.sql",
        &format!("INSERT INTO log (note) VALUES ('slow');\n{};\n", Pg::slow_sql(Duration::from_secs(5))),
    );
    let lease = ["--lock-strategy", "lease", "--lease-ttl", "2s", "--lock-wait", "1min"];
    let mut holder = project.spawn(Some(&url), &[&["up"][..], &lease[..]].concat());
    let started = Instant::now();
    while db.session_running("pg_sleep").await.is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "the holder never started migration 2");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    holder.kill().unwrap();
    let killed = Instant::now();
    wait(holder);
    let next = project.run(Some(&url), &[&["up"][..], &lease[..]].concat());
    next.code(0);
    assert_eq!(next.applied(), [2], "{}", next.stdout);
    assert!(
        killed.elapsed() >= Duration::from_millis(1500),
        "took over before the lease expired: {:?}",
        killed.elapsed()
    );
    assert_eq!(db.scalar("SELECT count(*) FROM log WHERE note = 'slow'").await, 1);
    assert_eq!(db.scalar("SELECT max(token) FROM _migrator_lock").await, 2);
    db.cleanup().await;
}

macro_rules! fault_tests {
    ($($backend:ident: $ty:ty { $($test:ident),* $(,)? })*) => {
        $(mod $backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test::<$ty>().await;
                }
            )*
        })*
    };
}

fault_tests! {
    postgres: Pg {
        sixteen_processes_at_once,
        kill_nine_at_random_points,
        holder_killed_by_the_server,
        a_failing_migration_never_keeps_the_lock,
    }
    mysql: My {
        sixteen_processes_at_once,
        kill_nine_at_random_points,
        holder_killed_by_the_server,
        a_failing_migration_never_keeps_the_lock,
    }
    sqlite: Lite {
        sixteen_processes_at_once,
        kill_nine_at_random_points,
        a_failing_migration_never_keeps_the_lock,
    }
}
