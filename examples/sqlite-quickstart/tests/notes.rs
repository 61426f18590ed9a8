//! The quick start's integration tests: each test gets its own database file with every
//! migration applied, copied from a template built once, and deleted afterwards.
//!
//! ```text
//! cargo test -p sqlite-quickstart
//! ```
#![allow(clippy::unwrap_used)]

use sqlite_quickstart::{MIGRATIONS, add_note, count_tagged};
use sqlx::SqlitePool;

#[migrator_sqlite::test(migrations = MIGRATIONS)]
async fn a_new_note_is_tagged_inbox(pool: SqlitePool) {
    assert_eq!(count_tagged(&pool, "inbox").await.unwrap(), 0, "every test starts from a fresh, migrated database");
    add_note(&pool, "hello").await.unwrap();
    assert_eq!(count_tagged(&pool, "inbox").await.unwrap(), 1, "the trigger tagged it");
}

#[migrator_sqlite::test(migrations = MIGRATIONS)]
async fn an_empty_note_is_refused(pool: SqlitePool) {
    assert!(add_note(&pool, "").await.is_err());
}

/// Every migration's down script restores the schema its up script changed.
#[tokio::test]
async fn migrations_are_reversible() {
    let kit = migrator_sqlite::testing::TestKit::from_env().unwrap();
    let db = kit.empty().await.unwrap();
    let migrator = migrator_sqlite::Migrator::new(db.pool(), MIGRATIONS).unwrap();
    migrator.assert_reversible().await;
    db.close().await.unwrap();
}
