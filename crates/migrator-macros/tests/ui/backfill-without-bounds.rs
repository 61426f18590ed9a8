static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("fixtures/backfill-without-bounds", dialect = postgres, relative_to = file);

fn main() {
    let _ = MIGRATIONS;
}
