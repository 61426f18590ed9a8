//! The linter's realistic PostgreSQL and SQLite sets (`crates/migrator-core/tests/realistic/`)
//! are real: embedded by the macro (so they have no fatal or deny finding), they apply on a
//! real database, revert down to their newest irreversible migration, and apply again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;
use migrator_conformance::{Backend, init_tracing};
use migrator_core::Phases;
use migrator_postgres::{EmbeddedMigrations, Migrator, embed_migrations};

static REALISTIC: EmbeddedMigrations = embed_migrations!("../crates/migrator-core/tests/realistic/postgres");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lint_clean_realistic_set_applies_and_reverts() {
    init_tracing();
    // Its own database: the set builds indexes CONCURRENTLY.
    let db = Pg::fresh_database("realistic").await;
    let migrator = Migrator::new(db.driver(), REALISTIC).unwrap();
    let all = REALISTIC.migrations().len();
    let applied = migrator.run_with(Phases::All, None).await.unwrap();
    assert_eq!(applied.steps.len(), all);
    let newest_irreversible =
        REALISTIC.migrations().iter().filter(|m| m.down().is_none()).map(|m| m.version()).max().unwrap();
    let reverted = migrator.down_to(newest_irreversible).await.unwrap();
    assert!(reverted.steps.len() >= 10, "{} reverted", reverted.steps.len());
    let again = migrator.run_with(Phases::All, None).await.unwrap();
    assert_eq!(again.steps.len(), reverted.steps.len());
    db.cleanup().await;
}

static REALISTIC_SQLITE: EmbeddedMigrations =
    migrator_sqlite::embed_migrations!("../crates/migrator-core/tests/realistic/sqlite");

/// The SQLite set, including its table rebuild of `accounts`: the notebooks and notes that
/// reference it survive (the migration runs with foreign-key enforcement off, and checks the
/// keys before it commits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lint_clean_realistic_sqlite_set_applies_and_reverts() {
    init_tracing();
    let db = Lite::fresh("realistic").await;
    let migrator = migrator_sqlite::Migrator::new(db.driver(), REALISTIC_SQLITE).unwrap();
    let rebuild = 20260303110000;
    migrator.run_to(rebuild - 1).await.unwrap();
    db.exec(
        "INSERT INTO accounts (id, email) VALUES (1, 'a@example.com');\n\
         INSERT INTO notebooks (id, account_id, title) VALUES (1, 1, 'Work');\n\
         INSERT INTO notes (notebook_id, body) VALUES (1, 'call Bob');\n\
         UPDATE notes SET body = 'call Bob; then Ann' WHERE id = 1;",
    )
    .await;
    let applied = migrator.run_with(Phases::All, None).await.unwrap();
    assert!(applied.steps.iter().any(|s| s.version.get() == rebuild));
    assert_eq!(db.scalar("SELECT count(*) FROM notes").await, 1, "the rebuild cascaded nothing");
    assert_eq!(db.scalar("SELECT count(*) FROM accounts WHERE display_name = 'a@example.com'").await, 1);
    assert_eq!(db.scalar("SELECT count(*) FROM notes WHERE updated_at IS NOT NULL").await, 1, "the trigger ran");
    let newest_irreversible =
        REALISTIC_SQLITE.migrations().iter().filter(|m| m.down().is_none()).map(|m| m.version()).max().unwrap();
    let reverted = migrator.down_to(newest_irreversible).await.unwrap();
    assert!(reverted.steps.len() >= 5, "{} reverted", reverted.steps.len());
    assert!(reverted.steps.iter().any(|s| s.version.get() == rebuild), "the rebuild's down rebuilds it back");
    let again = migrator.run_with(Phases::All, None).await.unwrap();
    assert_eq!(again.steps.len(), reverted.steps.len());
    assert_eq!(db.scalar("SELECT count(*) FROM notes").await, 1, "rebuilding back and forth cascaded nothing");
    let e = migrator.down_all().await.unwrap_err();
    assert!(e.to_string().contains("irreversible"), "{e}");
    db.cleanup().await;
}
