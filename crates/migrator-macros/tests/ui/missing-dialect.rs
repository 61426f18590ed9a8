static MIGRATIONS: migrator_core::EmbeddedMigrations = migrator_macros::embed_migrations!("fixtures/valid");

fn main() {
    let _ = MIGRATIONS;
}
