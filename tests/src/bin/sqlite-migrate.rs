//! A separate process migrating a SQLite file, for the test of two OS processes migrating one
//! file at once: `sqlite-migrate <database file> <migrations dir>` runs the migrations and
//! prints `applied <versions>` and `elsewhere <versions>` (those another process applied
//! while this one ran).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migrator_core::plan::SkipReason;
use migrator_core::{Dialect, MigrationSet};
use migrator_sqlite::Migrator;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (file, dir) = (args.next().expect("database file"), args.next().expect("migrations dir"));
    let pool = migrator_conformance::sqlite::pool(std::path::Path::new(&file)).await;
    let set = MigrationSet::<sqlx::SqliteConnection>::from_dir(&dir, Dialect::Sqlite).unwrap();
    let report = Migrator::new(&pool, set).unwrap().run().await.unwrap();
    let applied: Vec<String> = report.steps.iter().map(|s| s.version.to_string()).collect();
    let elsewhere: Vec<String> = report
        .skipped
        .iter()
        .filter(|s| matches!(s.reason, SkipReason::DoneElsewhere { .. }))
        .map(|s| s.version.to_string())
        .collect();
    println!("applied {}", applied.join(" "));
    println!("elsewhere {}", elsewhere.join(" "));
}
