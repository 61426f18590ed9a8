// A rule set to two levels: neither silently wins.
static MIGRATIONS: migrator_core::EmbeddedMigrations = migrator_macros::embed_migrations!(
    "fixtures/valid",
    dialect = postgres,
    relative_to = file,
    deny(prefer-text),
    off(prefer-text)
);

fn main() {
    let _ = MIGRATIONS;
}
