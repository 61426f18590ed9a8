//! The linter's realistic PostgreSQL set (`crates/migrator-core/tests/realistic/postgres`)
//! is real: embedded by the macro (so it has no fatal or deny finding), it applies on a
//! real server, reverts down to its newest irreversible migration, and applies again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::postgres::Pg;
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
