//! The example application's code: its embedded migrations and what it does with the schema.
//! `src/main.rs` runs it; `tests/notes.rs` tests it on fresh, migrated databases.

use migrator_postgres::{EmbeddedMigrations, embed_migrations};
use sqlx::PgPool;

/// The migrations, read, checked and checksummed at compile time.
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Stores a note and returns its id.
pub async fn add_note(pool: &PgPool, body: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO notes (body) VALUES ($1) RETURNING id").bind(body).fetch_one(pool).await
}

/// How many notes there are.
pub async fn count_notes(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM notes").fetch_one(pool).await
}
