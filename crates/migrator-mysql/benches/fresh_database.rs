//! How long a test waits for a fresh, migrated database on MySQL/MariaDB: replaying 200
//! migrations into an empty database versus recreating the template the test kit builds once.
//!
//! ```text
//! MIGRATOR_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 \
//!     cargo bench -p migrator-mysql --features testing --bench fresh_database
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::time::{Duration, Instant};

use migrator_mysql::testing::TestKit;
use migrator_mysql::{MigrationSet, Migrator, MySqlDriver};
use sqlx::{Connection, MySqlConnection};

const MIGRATIONS: usize = 200;
const RUNS: usize = 15;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let marker = std::process::id();
    for i in 1..=MIGRATIONS {
        let up = format!(
            "-- bench {marker}\nCREATE TABLE t{i} (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL DEFAULT '', \
             created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);\nCREATE INDEX t{i}_name ON t{i} (name);\n"
        );
        std::fs::write(dir.path().join(format!("{i}_table_{i}.up.sql")), up).unwrap();
        std::fs::write(dir.path().join(format!("{i}_table_{i}.down.sql")), format!("DROP TABLE t{i};\n")).unwrap();
    }
    let set = || MigrationSet::<MySqlConnection>::from_dir(dir.path(), migrator_core::Dialect::MySql).unwrap();
    let kit = TestKit::from_env().unwrap();

    // Two test suites of the same {RUNS} tests, each test being: get a fresh migrated
    // database, insert a row, drop the database. The template suite builds its template
    // once (timed on its own); the replay suite migrates an empty database for every test,
    // as a per-test replay does. Each suite runs on its own, as a real suite would.
    let started = Instant::now();
    kit.fresh(set()).await.unwrap().close().await.unwrap();
    let first = started.elapsed();
    let mut copy = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let db = kit.fresh(set()).await.unwrap();
        copy.push(started.elapsed());
        sqlx::raw_sql("INSERT INTO t1 (id) VALUES (1)").execute(db.pool()).await.unwrap();
        db.close().await.unwrap();
    }
    let mut replay = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let db = kit.empty().await.unwrap();
        Migrator::new(MySqlDriver::from(db.pool()), set()).unwrap().run().await.unwrap();
        replay.push(started.elapsed());
        sqlx::raw_sql("INSERT INTO t1 (id) VALUES (1)").execute(db.pool()).await.unwrap();
        db.close().await.unwrap();
    }
    let (replay, copy) = (median(replay), median(copy));
    println!(
        "MySQL/MariaDB: time for a test to get a fresh migrated database, {MIGRATIONS} migrations, median of {RUNS} tests per suite:"
    );
    println!("  replay every migration:       {:>8.1} ms", replay.as_secs_f64() * 1e3);
    println!(
        "  recreate from the template:   {:>8.1} ms  (first use, building the template: {:.1} ms)",
        copy.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );
    println!("  template is {:.1}x faster", replay.as_secs_f64() / copy.as_secs_f64());
    let template = kit.template_name(&set());
    let mut admin = MySqlConnection::connect(&std::env::var("MIGRATOR_TEST_MYSQL_URL").unwrap()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE `{template}`"))).execute(&mut admin).await.unwrap();
}
