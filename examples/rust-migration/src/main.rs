//! A Rust-code migration between SQL migrations: the backfill SQL alone should not do in one
//! statement, written as a batched loop, applied in version order with the SQL files.
//!
//! ```text
//! cargo run -p rust-migration
//! ```
//!
//! The set, in version order:
//!
//! | version | what | kind |
//! |---|---|---|
//! | 20261120090000 | create `users` | `migrations/…_create_users.up.sql` |
//! | 20261120091000 | seed some addresses in mixed case | `migrations/…_seed_users.up.sql` |
//! | 20261120092000 | lowercase every address, 2 rows per batch | [`LowercaseEmails`], Rust |
//! | 20261120093000 | a unique index on the lowercase addresses | `migrations/…_unique_emails.up.sql` |
//!
//! The Rust migration is `no_transaction` and runs migrator's batched backfill
//! ([`Backfill`]): each batch commits on its own, together with the backfill's progress row,
//! so a long backfill never holds the database's write lock for long, and an interrupted run
//! resumes after its last committed batch, every row changed exactly once. The history
//! records it like the SQL ones (its checksum covers its version and name). It runs on an
//! in-memory SQLite database here, so every run starts over.

use migrator_sqlite::{
    Backfill, BoxError, EmbeddedMigrations, Migrator, RustMigration, RustStep, async_trait, backfill_conn,
    embed_migrations,
};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqlitePoolOptions;

static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Lowercases `users.email`, a batch at a time, in key order.
struct LowercaseEmails {
    batch: u64,
}

#[async_trait]
impl RustStep<SqliteConnection> for LowercaseEmails {
    async fn run(&self, conn: &mut SqliteConnection) -> Result<(), BoxError> {
        let report = Backfill::new("lowercase_emails", "users", "id")?
            .statement("UPDATE users SET email = lower(email) WHERE id > :start AND id <= :end")?
            .batch(self.batch)
            .run(&mut backfill_conn(conn))
            .await?;
        println!("  backfill: lowercased {} users in {} batches", report.rows, report.batches);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One connection: an in-memory database lives as long as its connection.
    let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
    let backfill = RustMigration::new(20261120092000, "lowercase_emails", LowercaseEmails { batch: 2 })?
        .no_transaction()
        .irreversible("the addresses' original case is not kept");
    let migrator = Migrator::builder(&pool, MIGRATIONS).migration(backfill).build()?;
    let report = migrator.run().await?;
    print!("{report}");
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users ORDER BY id").fetch_all(&pool).await?;
    println!("emails: {}", emails.join(", "));
    Ok(())
}
