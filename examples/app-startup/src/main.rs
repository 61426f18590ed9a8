//! An application that owns its schema: it applies its migrations at startup, then works.
//!
//! Run it against PostgreSQL (`./scripts/services` starts a local one):
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo run -p app-startup
//! ```
//!
//! The first run applies the two migrations in `examples/app-startup/migrations` (a table,
//! then an index built `CONCURRENTLY`); later runs find nothing to do, in one round trip and
//! without taking the migration lock. Start several copies at once: each migration is still
//! applied exactly once. `RUST_LOG=info` shows what the migrator does. Its integration test,
//! on a fresh migrated database per test, is `tests/notes.rs` (`cargo test -p app-startup`).

use app_startup::{MIGRATIONS, add_note, count_notes};
use migrator_postgres::Migrator;
use sqlx::postgres::PgPoolOptions;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .test_before_acquire(false) // the startup check then costs a single round trip
        .connect(&url)
        .await?;

    // The one line: bring the schema up to date, safely, before serving.
    let report = Migrator::new(&pool, MIGRATIONS)?.run().await?;
    print!("{report}");

    // ...then the application works with it.
    add_note(&pool, "started").await?;
    println!("the notes table has {} row(s)", count_notes(&pool).await?);
    Ok(())
}
