static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("fixtures/lint-mysql-identifier-too-long", dialect = mysql, relative_to = file);

fn main() {
    let _ = MIGRATIONS;
}
