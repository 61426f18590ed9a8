//! A SQLite directory (bracket quoting, a trigger whose body holds `;` and `CASE … END`)
//! embeds with the SQLite dialect.
static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("../ui/fixtures/sqlite-trigger", dialect = sqlite, relative_to = file);

fn main() {
    assert_eq!(MIGRATIONS.dialect(), migrator_core::Dialect::Sqlite);
    assert_eq!(MIGRATIONS.migrations().len(), 1);
}
