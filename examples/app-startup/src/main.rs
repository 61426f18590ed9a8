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
//! applied exactly once. `RUST_LOG=info` shows what the migrator does.

use migrator_postgres::{EmbeddedMigrations, Migrator, embed_migrations};
use sqlx::postgres::PgPoolOptions;

/// The migrations, read, checked and checksummed at compile time.
static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

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
    sqlx::query("INSERT INTO notes (body) VALUES ($1)").bind("started").execute(&pool).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM notes").fetch_one(&pool).await?;
    println!("the notes table has {count} row(s)");
    Ok(())
}
