//! The quick start's code: its embedded migrations and what it does with the schema.
//! `src/main.rs` runs it; `tests/notes.rs` tests it on fresh, migrated databases.

use migrator_sqlite::{EmbeddedMigrations, embed_migrations};
use sqlx::SqlitePool;

/// The migrations, read, checked, linted and checksummed at compile time.
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Stores a note and returns its id.
pub async fn add_note(pool: &SqlitePool, body: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO notes (body) VALUES (?1) RETURNING id").bind(body).fetch_one(pool).await
}

/// How many notes carry `tag`.
pub async fn count_tagged(pool: &SqlitePool, tag: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM tags WHERE tag = ?1").bind(tag).fetch_one(pool).await
}
