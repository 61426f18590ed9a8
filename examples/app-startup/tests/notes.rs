//! The application's integration tests: each test gets its own database with every migration
//! applied, copied from a template built once (fast), and dropped afterwards.
//!
//! ```text
//! MIGRATOR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test -p app-startup
//! ```
#![allow(clippy::unwrap_used)]

use app_startup::{MIGRATIONS, add_note, count_notes};
use sqlx::PgPool;

#[migrator_postgres::test(migrations = MIGRATIONS)]
async fn a_new_note_is_counted(pool: PgPool) {
    assert_eq!(count_notes(&pool).await.unwrap(), 0, "every test starts from a fresh, migrated database");
    add_note(&pool, "hello").await.unwrap();
    assert_eq!(count_notes(&pool).await.unwrap(), 1);
}

#[migrator_postgres::test(migrations = MIGRATIONS)]
async fn notes_get_increasing_ids(pool: PgPool) -> Result<(), sqlx::Error> {
    let first = add_note(&pool, "a").await?;
    let second = add_note(&pool, "b").await?;
    assert!(second > first);
    Ok(())
}

/// Every migration's down script restores the schema its up script changed.
#[tokio::test]
async fn migrations_are_reversible() {
    let kit = migrator_postgres::testing::TestKit::from_env().unwrap();
    let db = kit.empty().await.unwrap();
    let migrator = migrator_postgres::Migrator::new(db.pool(), MIGRATIONS).unwrap();
    migrator.assert_reversible().await;
    db.close().await.unwrap();
}
