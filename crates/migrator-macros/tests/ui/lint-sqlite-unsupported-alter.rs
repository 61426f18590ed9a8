static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("fixtures/lint-sqlite-unsupported-alter", dialect = sqlite, relative_to = file);

fn main() {
    let _ = MIGRATIONS;
}
