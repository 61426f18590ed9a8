//! Batched backfills on PostgreSQL, with real `migrator` processes:
//! - a backfill of 1,000,000 rows, killed with `kill -9` at seeded random points, resumes to
//!   the exact result: after every kill the committed rows are exactly the progress row's
//!   count, and at the end every row was changed exactly once (a counter the backfill
//!   increments is 1 everywhere); a concurrent writer's longest stall stays under a bound;
//! - two runners of one backfill at once: one runs it, the other is refused clearly;
//! - a migration that requires a backfill is refused until it finished, then applied.
//!
//! On MariaDB and SQLite the same, on 100,000 rows (the engine is the same; each kill test
//! costs the time of its backfill): kills and exact resumption, two runners, and
//! requires-backfill.
//!
//! `MIGRATOR_BACKFILL_SEED` and `MIGRATOR_BACKFILL_KILLS` (default 4) change the kills.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{CliBackend, Project, Rng, env_number, signal, wait};
use migrator_conformance::Backend;
use migrator_conformance::mysql::My;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;
use migrator_postgres::{Backfill, BackfillReport, Error, backfill_conn};
use sqlx::Connection;

/// Rows of the large test: the size.
const ROWS: i64 = 1_000_000;

/// The concurrent writer's longest stall allowed. A batch of 20,000 rows holds its rows'
/// locks for one batch's time (about 0.1-0.4 s measured on the 2-core test machine, see the
/// test's output); 2 s leaves room for a loaded machine.
const MAX_STALL: Duration = Duration::from_secs(2);

const FILL: &str = "-- migrator:no-transaction\n\
                    -- migrator:backfill items.id batch 20000 pause 20ms\n\
                    UPDATE items SET n = n + 1 WHERE id > :start AND id <= :end;\n";

async fn items(db: &Pg, rows: i64) {
    db.exec(&format!(
        "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0, v int NOT NULL DEFAULT 0); \
         INSERT INTO items (id) SELECT generate_series(1, {rows}); ANALYZE items"
    ))
    .await;
}

/// Waits until no other session of the test's database is busy: a killed client's backend
/// runs on until it notices, holding its locks.
async fn settle(db: &Pg) {
    let started = Instant::now();
    while db
        .scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND state IS DISTINCT FROM 'idle' AND backend_type = 'client backend'",
        )
        .await
        > 0
    {
        assert!(started.elapsed() < Duration::from_secs(60), "a killed run's session is still busy after 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Rows changed more than once, and the committed rows changed minus the progress row's
/// count (0 when every committed batch is recorded and none recorded is missing), read in one
/// statement, so from one snapshot.
async fn consistency(db: &Pg) -> (i64, i64) {
    let twice = db.scalar("SELECT count(*) FROM items WHERE n > 1").await;
    let progress = if db.table_exists("_migrator_backfills").await {
        "coalesce((SELECT rows_done FROM _migrator_backfills WHERE name = 'fill'), 0)"
    } else {
        "0"
    };
    let drift = db.scalar(&format!("SELECT (SELECT count(*) FROM items WHERE n = 1) - {progress}")).await;
    (twice, drift)
}

/// Single-row updates in a loop on their own connection until `stop`; answers the longest
/// one and how many ran.
fn writer(db: &Pg, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> tokio::task::JoinHandle<(Duration, u64)> {
    let options = db.options();
    tokio::spawn(async move {
        let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
        let (mut longest, mut count, mut id) = (Duration::ZERO, 0u64, 1i64);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            id = (id * 7_919 + 13) % ROWS + 1;
            let started = Instant::now();
            sqlx::query("UPDATE items SET v = v + 1 WHERE id = $1").bind(id).execute(&mut conn).await.unwrap();
            longest = longest.max(started.elapsed());
            count += 1;
        }
        (longest, count)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_backfill_of_a_million_rows_resumes_exactly_once_per_row() {
    let started = Instant::now();
    let db = Pg::create("backfill_kill").await;
    items(&db, ROWS).await;
    let filled = started.elapsed();
    let project = Project::new();
    project.write("1_fill.up.sql", FILL);
    let url = db.url();
    let seed = env_number("MIGRATOR_BACKFILL_SEED", 20_261_202);
    let kills = env_number("MIGRATOR_BACKFILL_KILLS", 4);
    let mut rng = Rng(seed);
    let mut killed_midway = 0;
    for kill in 0..kills {
        let delay = Duration::from_millis(300 + rng.next() % 1_500);
        let label = format!("seed {seed} kill {kill} (after {delay:?})");
        let child = project.spawn(Some(&url), &["up"]);
        tokio::time::sleep(delay).await;
        signal(&child, "KILL");
        let run = wait(child);
        assert_ne!(run.code, 0, "{label}: the run ended before the kill; stdout:\n{}", run.stdout);
        settle(&db).await;
        let (twice, drift) = consistency(&db).await;
        assert_eq!(twice, 0, "{label}: rows changed twice");
        assert_eq!(drift, 0, "{label}: committed rows and the progress row disagree");
        let done = db.scalar("SELECT count(*) FROM items WHERE n = 1").await;
        if done > 0 && done < ROWS {
            killed_midway += 1;
        }
        if db.table_exists("_migrator_history").await {
            let applied = db.scalar("SELECT count(*) FROM _migrator_history WHERE version = 1").await;
            assert_eq!(applied, 0, "{label}: recorded before the backfill finished");
        }
    }
    assert!(killed_midway > 0, "seed {seed}: no kill landed mid-backfill; the kills tested nothing");
    // The last run, with a writer on the same rows.
    let before = db.scalar("SELECT count(*) FROM items WHERE n = 1").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writing = writer(&db, stop.clone());
    let last = Instant::now();
    let run = project.run(Some(&url), &["up"]);
    let last = last.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (stall, writes) = writing.await.unwrap();
    run.code(0);
    assert_eq!(run.applied(), [1], "stdout:\n{}", run.stdout);
    assert!(run.stderr.contains("resuming after key"), "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("backfill fill finished"), "stderr:\n{}", run.stderr);
    assert_eq!(db.scalar("SELECT count(*) FROM items").await, ROWS);
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0, "every row changed exactly once");
    assert_eq!(db.scalar("SELECT rows_done FROM _migrator_backfills WHERE name = 'fill'").await, ROWS);
    assert_eq!(db.scalar("SELECT count(*) FROM _migrator_backfills WHERE state = 'finished'").await, 1);
    eprintln!(
        "backfill of {ROWS} rows: filled in {filled:?}; {kills} kills (seed {seed}, {killed_midway} mid-backfill); \
         the last run did {} rows in {last:?} while a writer made {writes} single-row updates, the longest {stall:?}",
        ROWS - before
    );
    assert!(stall < MAX_STALL, "the writer stalled {stall:?}, over {MAX_STALL:?}");
    // Again: nothing to do.
    let again = project.run(Some(&url), &["up"]);
    again.code(0);
    assert!(again.applied().is_empty(), "{}", again.stdout);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_of_one_backfill_one_runs_it_the_other_is_refused() {
    let db = Pg::create("backfill_two").await;
    items(&db, 2_000).await;
    let backfill = Backfill::new("fill", "items", "id")
        .unwrap()
        .statement("UPDATE items SET n = n + 1 WHERE id > :start AND id <= :end")
        .unwrap()
        .batch(100)
        .pause(Duration::from_millis(100));
    let options = db.options();
    let first = {
        let backfill = backfill.clone();
        let options = options.clone();
        tokio::spawn(async move {
            let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
            backfill.run(&mut backfill_conn(&mut conn)).await
        })
    };
    // The first runner holds the backfill once its progress row says so.
    let started = Instant::now();
    while !db.table_exists("_migrator_backfills").await
        || db.scalar("SELECT coalesce(max(rows_done), 0) FROM _migrator_backfills").await == 0
    {
        assert!(started.elapsed() < Duration::from_secs(30), "the first runner did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
    let refused = backfill.run(&mut backfill_conn(&mut conn)).await.unwrap_err().to_string();
    assert!(refused.contains("backfill `fill` is running in another process ("), "{refused}");
    assert!(refused.contains(&format!("pid {}", std::process::id())), "names the holder: {refused}");
    assert!(refused.contains("this run changed nothing"), "{refused}");
    let report = first.await.unwrap().unwrap();
    assert_eq!((report.rows, report.batches), (2_000, 20));
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0);
    // Now free: a second run finds it finished and changes nothing.
    let again = backfill.run(&mut backfill_conn(&mut conn)).await.unwrap();
    assert!(again.already_finished && again.rows == 0, "{again:?}");
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0);
    // The name is taken by items.id: another table under it is refused.
    db.exec("CREATE TABLE others (pk bigint PRIMARY KEY)").await;
    let other = Backfill::new("fill", "others", "pk")
        .unwrap()
        .statement("DELETE FROM others WHERE pk > :start AND pk <= :end")
        .unwrap();
    let refused = other.run(&mut backfill_conn(&mut conn)).await.unwrap_err().to_string();
    assert!(refused.contains("backfill `fill` walked items.id, not others.pk"), "{refused}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_requiring_a_backfill_waits_until_it_finished() {
    let db = Pg::create("backfill_requires").await;
    items(&db, 1_000).await;
    let project = Project::new();
    project.write("1_fill.up.sql", &FILL.replace("batch 20000", "batch 300"));
    project.write(
        "2_app_fill_done.up.sql",
        "-- migrator:requires-backfill app_fill\nALTER TABLE items ADD CONSTRAINT v_is_one CHECK (v = 1);\n",
    );
    project.write(
        "3_fill_done.up.sql",
        "-- migrator:requires-backfill fill\nALTER TABLE items ADD CONSTRAINT n_is_one CHECK (n = 1);\n",
    );
    let url = db.url();
    // The SQL backfill runs, then migration 2 is refused: the application's backfill never ran.
    let run = project.run(Some(&url), &["up"]);
    run.code(1);
    assert_eq!(run.applied(), [1], "stdout:\n{}", run.stdout);
    assert!(
        run.stderr
            .contains("migration 2 `app_fill_done` requires backfill `app_fill` to have finished, but it never ran"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing of it was applied"), "{}", run.stderr);
    assert_eq!(db.scalar("SELECT count(*) FROM pg_constraint WHERE conname = 'v_is_one'").await, 0);
    // The application's backfill fails in its second batch (a division by zero above key
    // 500): still refused, saying where it stopped.
    let mut conn = sqlx::PgConnection::connect_with(&db.options()).await.unwrap();
    let app = Backfill::new("app_fill", "items", "id").unwrap().batch(500);
    let failing = app
        .clone()
        .statement(
            "UPDATE items SET v = v + 1 / (CASE WHEN id > 500 THEN 0 ELSE 1 END) WHERE id > :start AND id <= :end",
        )
        .unwrap();
    let failed = failing.run(&mut backfill_conn(&mut conn)).await.unwrap_err().to_string();
    assert!(
        failed.contains("the batch of keys after 500 up to 1000 failed in its statement and was rolled back"),
        "{failed}"
    );
    assert!(failed.contains("division by zero"), "{failed}");
    let run = project.run(Some(&url), &["up"]);
    run.code(1);
    assert!(run.stderr.contains("is not finished (it stopped after key 500, 500 rows done)"), "{}", run.stderr);
    // Following the advice: finish the backfill (the statement fixed), run again.
    let fixed = app.statement("UPDATE items SET v = v + 1 WHERE id > :start AND id <= :end").unwrap();
    let report = fixed.run(&mut backfill_conn(&mut conn)).await.unwrap();
    assert_eq!((report.rows, report.rows_done), (500, 1_000));
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE v <> 1").await, 0);
    let run = project.run(Some(&url), &["up"]);
    run.code(0);
    assert_eq!(run.applied(), [2, 3], "stdout:\n{}", run.stdout);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_backfills_are_refused_with_their_line() {
    let db = Pg::create("backfill_malformed").await;
    let project = Project::new();
    project.write(
        "1_fill.up.sql",
        "-- migrator:backfill items.id batch 100\nUPDATE items SET n = 1 WHERE id > :start AND id <= :end;\n",
    );
    project
        .write("2_other.up.sql", "-- migrator:no-transaction\n-- migrator:backfill items.id batch lots\nSELECT 1;\n");
    let run = project.run(Some(&db.url()), &["up"]);
    run.code(1);
    assert!(run.stderr.contains("1_fill.up.sql:1"), "{}", run.stderr);
    assert!(run.stderr.contains("add `-- migrator:no-transaction`"), "{}", run.stderr);
    assert!(run.stderr.contains("2_other.up.sql:2"), "{}", run.stderr);
    assert!(run.stderr.contains("from 1 to 10000000"), "{}", run.stderr);
    db.cleanup().await;
}

/// What the tests of every backend need beyond [`CliBackend`].
#[async_trait]
trait BackfillBackend: CliBackend {
    /// SQL creating `items` with `rows` rows.
    fn items_sql(rows: i64) -> String;
    /// Waits until a killed client's session is gone.
    async fn settle(&self);
    /// Runs `backfill` on a connection of its own.
    async fn run_backfill(&self, backfill: &Backfill) -> Result<BackfillReport, Error>;
}

fn items_cte(rows: i64) -> String {
    format!(
        "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0, v int NOT NULL DEFAULT 0); \
         INSERT INTO items (id) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) \
         SELECT i FROM s"
    )
}

#[async_trait]
impl BackfillBackend for My {
    fn items_sql(rows: i64) -> String {
        format!("SET SESSION max_recursive_iterations = {rows}; {}", items_cte(rows))
    }

    async fn settle(&self) {
        let started = Instant::now();
        while self
            .scalar(
                "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() \
                 AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'",
            )
            .await
            > 0
        {
            assert!(started.elapsed() < Duration::from_secs(60), "a killed run's session is still busy after 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn run_backfill(&self, backfill: &Backfill) -> Result<BackfillReport, Error> {
        let mut conn = sqlx::MySqlConnection::connect_with(&self.options()).await.unwrap();
        backfill.run(&mut migrator_mysql::backfill_conn(&mut conn)).await
    }
}

#[async_trait]
impl BackfillBackend for Lite {
    fn items_sql(rows: i64) -> String {
        items_cte(rows)
    }

    /// No server: a killed process's transaction is gone with it.
    async fn settle(&self) {}

    async fn run_backfill(&self, backfill: &Backfill) -> Result<BackfillReport, Error> {
        let mut conn =
            sqlx::SqliteConnection::connect_with(&migrator_conformance::sqlite::options(&self.path)).await.unwrap();
        backfill.run(&mut migrator_sqlite::backfill_conn(&mut conn)).await
    }
}

/// Kills of the SQL form at seeded points, then a run to the end: every row changed exactly
/// once, the progress row matching the committed rows after every kill.
async fn killed_backfill_resumes<B: BackfillBackend>(test: &str, rows: i64) {
    let db = B::create(test).await;
    db.exec(&B::items_sql(rows)).await;
    let project = Project::new();
    // 100 batches with pauses of 50 ms: at least 5 s, more than the kills leave it.
    project.write("1_fill.up.sql", &FILL.replace("batch 20000 pause 20ms", "batch 1000 pause 50ms"));
    let url = db.url();
    let seed = env_number("MIGRATOR_BACKFILL_SEED", 20_261_202);
    let mut rng = Rng(seed);
    let mut midway = 0;
    for kill in 0..env_number("MIGRATOR_BACKFILL_KILLS", 4) {
        let delay = Duration::from_millis(300 + rng.next() % 700);
        let label = format!("seed {seed} kill {kill} (after {delay:?})");
        let child = project.spawn(Some(&url), &["up"]);
        tokio::time::sleep(delay).await;
        // The first stop is a SIGTERM, whose message says how to go on; the others kill -9.
        signal(&child, if kill == 0 { "TERM" } else { "KILL" });
        let run = wait(child);
        assert_ne!(run.code, 0, "{label}: the run ended before the kill; stdout:\n{}", run.stdout);
        if kill == 0 {
            assert!(run.stderr.contains("the next `migrator up` resumes it"), "{label}: {}", run.stderr);
        }
        db.settle().await;
        assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n > 1").await, 0, "{label}: rows changed twice");
        let done = db.scalar("SELECT count(*) FROM items WHERE n = 1").await;
        if db.table_exists("_migrator_backfills").await {
            let recorded = db.scalar("SELECT coalesce(max(rows_done), 0) FROM _migrator_backfills").await;
            assert_eq!(done, recorded, "{label}: committed rows and the progress row disagree");
        } else {
            assert_eq!(done, 0, "{label}");
        }
        midway += i32::from(done > 0 && done < rows);
    }
    assert!(midway > 0, "seed {seed}: no kill landed mid-backfill; the kills tested nothing");
    let run = project.run(Some(&url), &["up"]);
    run.code(0);
    assert_eq!(run.applied(), [1], "stdout:\n{}", run.stdout);
    assert!(run.stderr.contains("resuming after key"), "stderr:\n{}", run.stderr);
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0, "every row changed exactly once");
    assert_eq!(db.scalar("SELECT max(rows_done) FROM _migrator_backfills").await, rows);
    db.cleanup().await;
}

/// Two runners of one backfill: the second is refused while the first runs.
async fn two_runners<B: BackfillBackend + Send + Sync + 'static>(test: &str) {
    let db = std::sync::Arc::new(B::create(test).await);
    db.exec(&B::items_sql(1_000)).await;
    let backfill = Backfill::new("fill", "items", "id")
        .unwrap()
        .statement("UPDATE items SET n = n + 1 WHERE id > :start AND id <= :end")
        .unwrap()
        .batch(100)
        .pause(Duration::from_millis(150));
    let first = {
        let (db, backfill) = (db.clone(), backfill.clone());
        tokio::spawn(async move { db.run_backfill(&backfill).await })
    };
    let started = Instant::now();
    while !db.table_exists("_migrator_backfills").await
        || db.scalar("SELECT coalesce(max(rows_done), 0) FROM _migrator_backfills").await == 0
    {
        assert!(started.elapsed() < Duration::from_secs(30), "the first runner did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = db.run_backfill(&backfill).await.unwrap_err().to_string();
    assert!(refused.contains("backfill `fill` is running in another process ("), "{refused}");
    assert!(refused.contains(&format!("pid {}", std::process::id())), "names the holder: {refused}");
    let report = first.await.unwrap().unwrap();
    assert_eq!((report.rows, report.batches), (1_000, 10));
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0);
    let again = db.run_backfill(&backfill).await.unwrap();
    assert!(again.already_finished && again.rows == 0, "{again:?}");
    std::sync::Arc::into_inner(db).unwrap().cleanup().await;
}

/// requires-backfill: refused while the backfill never ran, applied once it finished.
async fn requires<B: BackfillBackend>(test: &str) {
    let db = B::create(test).await;
    db.exec(&B::items_sql(500)).await;
    let project = Project::new();
    project.write(
        "1_app_fill_done.up.sql",
        "-- migrator:requires-backfill app_fill\nCREATE TABLE after_fill (id int PRIMARY KEY);\n",
    );
    let url = db.url();
    let run = project.run(Some(&url), &["up"]);
    run.code(1);
    assert!(run.stderr.contains("requires backfill `app_fill` to have finished, but it never ran"), "{}", run.stderr);
    assert!(!db.table_exists("after_fill").await);
    let app = Backfill::new("app_fill", "items", "id")
        .unwrap()
        .statement("UPDATE items SET v = v + 1 WHERE id > :start AND id <= :end")
        .unwrap()
        .batch(200);
    assert_eq!(db.run_backfill(&app).await.unwrap().batches, 3);
    let run = project.run(Some(&url), &["up"]);
    run.code(0);
    assert_eq!(run.applied(), [1], "stdout:\n{}", run.stdout);
    assert!(db.table_exists("after_fill").await);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_killed_backfill_resumes_exactly_once_per_row() {
    killed_backfill_resumes::<My>("backfill_kill", 100_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_killed_backfill_resumes_exactly_once_per_row() {
    killed_backfill_resumes::<Lite>("backfill_kill", 100_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_two_runners_of_one_backfill() {
    two_runners::<My>("backfill_two").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_runners_of_one_backfill() {
    two_runners::<Lite>("backfill_two").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_requires_backfill() {
    requires::<My>("backfill_requires").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_requires_backfill() {
    requires::<Lite>("backfill_requires").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverting_a_backfill_migration_forgets_its_progress() {
    let db = Pg::create("backfill_revert").await;
    items(&db, 1_000).await;
    let project = Project::new();
    project.write("1_fill.up.sql", &FILL.replace("batch 20000", "batch 300"));
    project.write("1_fill.down.sql", "UPDATE items SET n = 0;\n");
    let url = db.url();
    project.run(Some(&url), &["up"]).code(0);
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0);
    project.run(Some(&url), &["down"]).code(0);
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 0").await, 0);
    assert_eq!(db.scalar("SELECT count(*) FROM _migrator_backfills").await, 0, "the progress row is forgotten");
    // Applied again, the backfill runs again from the start.
    let run = project.run(Some(&url), &["up"]);
    run.code(0);
    assert_eq!(run.applied(), [1], "stdout:\n{}", run.stdout);
    assert!(run.stderr.contains("backfill fill finished: 1000 rows in this run"), "{}", run.stderr);
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_waits_for_a_row_lock_at_most_the_lock_timeout_then_the_next_run_resumes() {
    let db = Pg::create("backfill_lock_timeout").await;
    items(&db, 1_000).await;
    let project = Project::new();
    project.write(
        "1_fill.up.sql",
        &FILL
            .replace("batch 20000 pause 20ms", "batch 100")
            .replace("-- migrator:no-transaction\n", "-- migrator:no-transaction\n-- migrator:lock-timeout 300ms\n"),
    );
    let url = db.url();
    // Another transaction holds row 550.
    let mut holder = sqlx::PgConnection::connect_with(&db.options()).await.unwrap();
    sqlx::raw_sql("BEGIN; UPDATE items SET v = v + 1 WHERE id = 550").execute(&mut holder).await.unwrap();
    let run = project.run(Some(&url), &["up"]);
    run.code(1);
    assert!(
        run.stderr.contains("the batch of keys after 500 up to 600 failed in its statement and was rolled back"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("lock timeout"), "{}", run.stderr);
    assert!(run.stderr.contains("the next run resumes after key 500"), "{}", run.stderr);
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n = 1").await, 500);
    assert_eq!(db.scalar("SELECT rows_done FROM _migrator_backfills").await, 500);
    // The other transaction ends; the next run resumes and finishes.
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    let run = project.run(Some(&url), &["up"]);
    run.code(0);
    assert!(run.stderr.contains("resuming after key 500"), "{}", run.stderr);
    assert_eq!(db.scalar("SELECT count(*) FROM items WHERE n <> 1").await, 0);
    db.cleanup().await;
}
