// `prefer-text` is a warning; raised to deny, its finding is a compile error.
static MIGRATIONS: migrator_core::EmbeddedMigrations = migrator_macros::embed_migrations!(
    "fixtures/lint-raised-level",
    dialect = postgres,
    relative_to = file,
    deny(prefer-text)
);

fn main() {
    let _ = MIGRATIONS;
}
