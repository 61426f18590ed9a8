// An unknown rule, a fatal rule that cannot be lowered and a bad lint_from: each is an error
// on its own token.
static MIGRATIONS: migrator_core::EmbeddedMigrations = migrator_macros::embed_migrations!(
    "fixtures/valid",
    dialect = postgres,
    relative_to = file,
    off(prefer-txt, "transaction-control"),
    warn(concurrently-in-transaction)
);

fn main() {
    let _ = MIGRATIONS;
}
