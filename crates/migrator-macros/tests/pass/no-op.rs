//! An up script with no statement embeds when it says `-- migrator:no-op -- <reason>`.
static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("../ui/fixtures/no-op", dialect = postgres, relative_to = file);

fn main() {
    assert_eq!(MIGRATIONS.migrations().len(), 2);
}
