//! What the macro embeds matches what runtime loading computes.

use migrator_core::{Dialect, MigrationSet, Phase};

static MIGRATIONS: migrator_core::EmbeddedMigrations =
    migrator_macros::embed_migrations!("tests/ui/fixtures/valid", dialect = postgres);

#[test]
fn embedded_set_matches_runtime_loading() {
    assert_eq!(MIGRATIONS.dialect(), Dialect::Postgres);
    let embedded = MigrationSet::<()>::from_embedded(MIGRATIONS).unwrap();
    let loaded = MigrationSet::<()>::from_dir(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui/fixtures/valid"),
        Dialect::Postgres,
    )
    .unwrap();
    assert_eq!(embedded.len(), 3);
    for (e, l) in embedded.iter().zip(loaded.iter()) {
        assert_eq!(e.meta().version(), l.meta().version());
        assert_eq!(e.meta().name(), l.meta().name());
        assert_eq!(e.meta().checksum(), l.meta().checksum(), "compile-time and runtime checksums agree");
        assert_eq!(e.meta().down_checksum(), l.meta().down_checksum());
        assert_eq!(e.meta().phase(), l.meta().phase());
    }
    let first = &MIGRATIONS.migrations()[0];
    assert_eq!(first.up().path(), "tests/ui/fixtures/valid/1_create_users.up.sql");
    assert_eq!(first.up().text(), "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    assert!(first.down().is_some());
    let contract = embedded.get(migrator_core::Version::new(3).unwrap()).unwrap();
    assert_eq!(contract.meta().phase(), Phase::Contract);
}
