//! How long a test waits for a fresh, migrated database: replaying 200 migrations into an
//! empty database versus copying the template database the test kit builds once.
//!
//! ```text
//! MIGRATOR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p migrator-postgres --features testing --bench fresh_database
//! ```
//!
//! The two kinds of test alternate, so both meet the same machine state. Both are bound by
//! what the server's filesystem charges for creating a file (a copy of this template creates
//! about 1300 relation files; a replay creates as many), so the bench also measures that
//! cost, next to the data directory, when the server is local.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use migrator_postgres::testing::TestKit;
use migrator_postgres::{MigrationSet, Migrator, PgDriver};
use sqlx::PgConnection;

const MIGRATIONS: usize = 200;
const RUNS: usize = 15;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Microseconds to create (and close) one empty file in a fresh directory under `near`,
/// averaged over 1000 files; `None` when `near` is not a local, writable directory.
fn file_create_cost(near: &Path) -> Option<f64> {
    let dir = tempfile::tempdir_in(near).ok()?;
    let started = Instant::now();
    for i in 0..1000 {
        std::fs::File::create(dir.path().join(i.to_string())).ok()?;
    }
    Some(started.elapsed().as_secs_f64() * 1e6 / 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let marker = std::process::id();
    for i in 1..=MIGRATIONS {
        let up = format!(
            "-- bench {marker}\nCREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL DEFAULT '', \
             created_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX t{i}_name ON t{i} (name);\n"
        );
        std::fs::write(dir.path().join(format!("{i}_table_{i}.up.sql")), up).unwrap();
        std::fs::write(dir.path().join(format!("{i}_table_{i}.down.sql")), format!("DROP TABLE t{i};\n")).unwrap();
    }
    let set = || MigrationSet::<PgConnection>::from_dir(dir.path(), migrator_core::Dialect::Postgres).unwrap();
    let kit = TestKit::from_env().unwrap();
    let mut admin = <PgConnection as sqlx::Connection>::connect(&std::env::var("MIGRATOR_TEST_POSTGRES_URL").unwrap())
        .await
        .unwrap();
    // The parent of the data directory: on the same filesystem, and not the server's own.
    let data_parent: Option<std::path::PathBuf> = sqlx::query_scalar::<_, String>("SHOW data_directory")
        .fetch_one(&mut admin)
        .await
        .ok()
        .and_then(|d| Path::new(&d).parent().map(Path::to_path_buf));
    let probe = || data_parent.as_deref().and_then(file_create_cost);
    let cost_before = probe();

    // Each test: get a fresh migrated database, insert a row, drop the database. The
    // template is built once first (timed on its own); then copy-tests and replay-tests
    // alternate, a replay-test migrating an empty database as a per-test replay does.
    let started = Instant::now();
    kit.fresh(set()).await.unwrap().close().await.unwrap();
    let first = started.elapsed();
    let (mut copy, mut replay) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        let db = kit.fresh(set()).await.unwrap();
        copy.push(started.elapsed());
        sqlx::raw_sql("INSERT INTO t1 (id) VALUES (1)").execute(db.pool()).await.unwrap();
        db.close().await.unwrap();

        let started = Instant::now();
        let db = kit.empty().await.unwrap();
        Migrator::new(PgDriver::from(db.pool()), set()).unwrap().run().await.unwrap();
        replay.push(started.elapsed());
        sqlx::raw_sql("INSERT INTO t1 (id) VALUES (1)").execute(db.pool()).await.unwrap();
        db.close().await.unwrap();
    }
    let cost_after = probe();
    let ratios: Vec<f64> = copy.iter().zip(&replay).map(|(c, r)| r.as_secs_f64() / c.as_secs_f64()).collect();
    let (min_ratio, max_ratio) = ratios.iter().fold((f64::MAX, 0.0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let (replay, copy) = (median(replay), median(copy));
    println!("time for a test to get a fresh migrated database, {MIGRATIONS} migrations, median of {RUNS} tests each:");
    println!("  replay every migration:       {:>8.1} ms", ms(replay));
    println!(
        "  copy of the template:         {:>8.1} ms  (first use, building the template: {:.1} ms)",
        ms(copy),
        ms(first)
    );
    println!(
        "  template is {:.1}x faster (pairs of adjacent tests: {min_ratio:.1}x to {max_ratio:.1}x)",
        replay.as_secs_f64() / copy.as_secs_f64()
    );
    match (cost_before, cost_after) {
        (Some(before), Some(after)) => println!(
            "  the data directory's filesystem took {before:.0} us per created file before the run, {after:.0} us after"
        ),
        _ => println!("  (the server's data directory is not local: file creation cost not measured)"),
    }

    let template = kit.template_name(&set());
    for sql in
        [format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE false"), format!("DROP DATABASE \"{template}\"")]
    {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
    }
}
