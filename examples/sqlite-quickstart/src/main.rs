//! The quick start: an application that applies its own migrations at startup, on SQLite, so
//! nothing needs to be installed or started first.
//!
//! ```text
//! cargo run -p sqlite-quickstart
//! ```
//!
//! The first run creates `quickstart.db` in the current directory and applies the three
//! migrations in `examples/sqlite-quickstart/migrations` (a table, a table with an index, a
//! trigger); later runs find nothing to do. `DATABASE_URL=sqlite://other.db?mode=rwc` picks
//! another file, `RUST_LOG=info` shows what the migrator does, and the same migrations can be
//! inspected with the CLI: `migrator status --database-url sqlite://quickstart.db --source
//! examples/sqlite-quickstart/migrations`. Its integration tests, each on a fresh migrated
//! database file, are in `tests/notes.rs` (`cargo test -p sqlite-quickstart`).

use migrator_sqlite::Migrator;
use sqlite_quickstart::{MIGRATIONS, add_note, count_tagged};
use sqlx::sqlite::SqlitePoolOptions;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    // `mode=rwc`: create the file when it does not exist yet.
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://quickstart.db?mode=rwc".to_owned());
    let pool = SqlitePoolOptions::new().connect(&url).await?;

    // The one line: bring the schema up to date before the app starts working.
    let report = Migrator::new(&pool, MIGRATIONS)?.run().await?;
    print!("{report}");

    // ...then the application works with it.
    add_note(&pool, "started").await?;
    println!("{} note(s) tagged inbox", count_tagged(&pool, "inbox").await?);
    Ok(())
}
