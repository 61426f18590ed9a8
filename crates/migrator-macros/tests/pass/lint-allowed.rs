//! The hazards of `lint-deny-findings`, acknowledged with `-- migrator:allow`, compile.
static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("../ui/fixtures/lint-allowed", dialect = postgres, relative_to = file);

fn main() {
    assert_eq!(MIGRATIONS.migrations().len(), 2);
}
