//! A valid directory embeds into a `static`, with compile-time checksums.
static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("../ui/fixtures/valid", dialect = postgres, relative_to = file);

fn main() {
    let versions: Vec<i64> = MIGRATIONS.migrations().iter().map(|m| m.version()).collect();
    assert_eq!(versions, vec![1, 2, 3]);
}
