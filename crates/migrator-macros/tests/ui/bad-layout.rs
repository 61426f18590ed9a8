static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("fixtures/valid", dialect = postgres, relative_to = file, layout = dbmate);

fn main() {
    let _ = MIGRATIONS;
}
