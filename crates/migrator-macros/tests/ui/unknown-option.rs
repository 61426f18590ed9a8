static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("fixtures/valid", dialect = postgres, lint = off);

fn main() {
    let _ = MIGRATIONS;
}
