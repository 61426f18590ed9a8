//! A separate process asking for a fresh test database, for the cross-process template tests:
//! `testkit-worker postgres|mysql|sqlite <migrations dir> <name prefix> [sqlite test directory]`
//! prints the database's name and whether the `jobs` table exists in it, then drops it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migrator_core::{Dialect, MigrationSet};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (backend, dir, prefix) =
        (args.next().expect("backend"), args.next().expect("migrations dir"), args.next().expect("prefix"));
    match backend.as_str() {
        "postgres" => {
            let set = MigrationSet::<sqlx::PgConnection>::from_dir(&dir, Dialect::Postgres).unwrap();
            let kit = migrator_postgres::testing::TestKit::new(migrator_conformance::postgres::server_options());
            let db = kit.prefix(&prefix).unwrap().fresh(set).await.unwrap();
            let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'jobs'")
                .fetch_one(db.pool())
                .await
                .unwrap();
            println!("{} {tables}", db.name());
            db.close().await.unwrap();
        }
        "mysql" => {
            let set = MigrationSet::<sqlx::MySqlConnection>::from_dir(&dir, Dialect::MySql).unwrap();
            let kit = migrator_mysql::testing::TestKit::new(migrator_conformance::mysql::server_options());
            let db = kit.prefix(&prefix).unwrap().fresh(set).await.unwrap();
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'jobs'",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            println!("{} {tables}", db.name());
            db.close().await.unwrap();
        }
        "sqlite" => {
            let set = MigrationSet::<sqlx::SqliteConnection>::from_dir(&dir, Dialect::Sqlite).unwrap();
            let kit = migrator_sqlite::testing::TestKit::new(args.next().expect("sqlite test directory"));
            let db = kit.prefix(&prefix).unwrap().fresh(set).await.unwrap();
            let tables: i64 =
                sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'jobs'")
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            println!("{} {tables}", db.path().display());
            db.close().await.unwrap();
        }
        other => panic!("unknown backend {other}"),
    }
}
