static MIGRATIONS: migrator_core::EmbeddedMigrations = migrator_macros::embed_migrations!("", dialect = postgres);

fn main() {
    let _ = MIGRATIONS;
}
