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

/// Each layout fixture of migrator-core, embedded (detected, and one named), against
/// runtime loading of the same directory.
#[allow(clippy::unwrap_used)]
mod layouts {
    use migrator_core::source::{Layout, load_dir_with_layout};
    use migrator_core::{Dialect, EmbeddedMigrations, Migration, MigrationSet, Script};

    static SQLX_SIMPLE: EmbeddedMigrations =
        migrator_macros::embed_migrations!("../migrator-core/tests/layouts/sqlx-simple", dialect = postgres);
    static SQLX_REVERSIBLE: EmbeddedMigrations =
        migrator_macros::embed_migrations!("../migrator-core/tests/layouts/sqlx-reversible", dialect = postgres);
    static DIESEL_OLD: EmbeddedMigrations =
        migrator_macros::embed_migrations!("../migrator-core/tests/layouts/diesel-old", dialect = postgres);
    static DIESEL_NEW: EmbeddedMigrations = migrator_macros::embed_migrations!(
        "../migrator-core/tests/layouts/diesel-new",
        dialect = postgres,
        layout = diesel
    );
    static REFINERY: EmbeddedMigrations =
        migrator_macros::embed_migrations!("../migrator-core/tests/layouts/refinery", dialect = postgres);
    static FLYWAY: EmbeddedMigrations =
        migrator_macros::embed_migrations!("../migrator-core/tests/layouts/flyway", dialect = postgres);
    static FLYWAY_DOTTED: EmbeddedMigrations =
        migrator_macros::embed_migrations!("../migrator-core/tests/layouts/flyway-dotted", dialect = postgres);
    static REPEATABLES: EmbeddedMigrations =
        migrator_macros::embed_migrations!("../migrator-core/tests/layouts/repeatables", dialect = postgres);
    static GOLANG_MIGRATE: EmbeddedMigrations = migrator_macros::embed_migrations!(
        "../migrator-core/tests/layouts/golang-migrate",
        dialect = postgres,
        layout = golang_migrate
    );
    static GOOSE: EmbeddedMigrations = migrator_macros::embed_migrations!(
        "../migrator-core/tests/layouts/goose",
        dialect = postgres,
        layout = "goose"
    );

    fn same_script(embedded: &Script, loaded: &Script) {
        assert_eq!(embedded.path(), loaded.path());
        assert_eq!(embedded.text(), loaded.text(), "{}", loaded.path());
        assert_eq!(embedded.checksum(), loaded.checksum(), "{}", loaded.path());
        assert_eq!(embedded.layout_flags(), loaded.layout_flags(), "{}", loaded.path());
        assert_eq!(embedded.directives(), loaded.directives(), "{}", loaded.path());
        assert_eq!(embedded.statements().unwrap(), loaded.statements().unwrap(), "{}", loaded.path());
    }

    #[test]
    fn every_layout_embeds_what_runtime_loading_reads() {
        let fixtures = [
            (&SQLX_SIMPLE, "sqlx-simple", Layout::Sqlx),
            (&SQLX_REVERSIBLE, "sqlx-reversible", Layout::Sqlx),
            (&DIESEL_OLD, "diesel-old", Layout::Diesel),
            (&DIESEL_NEW, "diesel-new", Layout::Diesel),
            (&REFINERY, "refinery", Layout::Refinery),
            (&FLYWAY, "flyway", Layout::Flyway),
            (&FLYWAY_DOTTED, "flyway-dotted", Layout::Flyway),
            (&REPEATABLES, "repeatables", Layout::Migrator),
            (&GOLANG_MIGRATE, "golang-migrate", Layout::GolangMigrate),
            (&GOOSE, "goose", Layout::Goose),
        ];
        for (embedded, dir, layout) in fixtures {
            assert_eq!(embedded.layout(), layout, "{dir}");
            let written = format!("../migrator-core/tests/layouts/{dir}");
            let path = format!("{}/{written}", env!("CARGO_MANIFEST_DIR"));
            let loaded = load_dir_with_layout(
                std::path::Path::new(&path),
                &written,
                Dialect::Postgres,
                Some(layout),
                &Default::default(),
            )
            .unwrap();
            let set = MigrationSet::<()>::from_embedded(*embedded).unwrap();
            assert_eq!(set.len(), loaded.migrations.len(), "{dir}");
            for (e, l) in set.iter().zip(&loaded.migrations) {
                let l = &l.migration;
                assert_eq!(e.meta().version(), Migration::<()>::meta(l).version(), "{dir}");
                assert_eq!(e.meta().name(), Migration::<()>::meta(l).name(), "{dir}");
                assert_eq!(e.meta().checksum(), Migration::<()>::meta(l).checksum(), "{dir}");
                assert_eq!(e.meta().down_checksum(), Migration::<()>::meta(l).down_checksum(), "{dir}");
            }
            for (e, l) in embedded.migrations().iter().zip(&loaded.migrations) {
                let up = migrator_core::Script::embedded_with(
                    migrator_core::ScriptKind::Up,
                    e.up().path(),
                    e.up().text(),
                    l.migration.up_script().checksum().as_str().to_owned().leak(),
                    Dialect::Postgres,
                    e.up().layout_flags(),
                )
                .unwrap();
                same_script(&up, l.migration.up_script());
                if let (Some(down), Some(loaded_down)) = (e.down(), l.migration.down_script()) {
                    let down = migrator_core::Script::embedded_with(
                        migrator_core::ScriptKind::Down,
                        down.path(),
                        down.text(),
                        loaded_down.checksum().as_str().to_owned().leak(),
                        Dialect::Postgres,
                        down.layout_flags(),
                    )
                    .unwrap();
                    same_script(&down, loaded_down);
                }
                assert_eq!(e.down().is_some(), l.migration.down_script().is_some(), "{dir}");
            }
            let names: Vec<&str> = set.repeatables().map(|r| r.name()).collect();
            let loaded_names: Vec<&str> = loaded.repeatables.iter().map(|r| r.repeatable.name()).collect();
            assert_eq!(names, loaded_names, "{dir}");
            for (e, l) in set.repeatables().zip(&loaded.repeatables) {
                assert_eq!(e.checksum(), l.repeatable.checksum(), "{dir}");
            }
        }
        // A goose section is the cut text, not the whole file.
        let goose = &GOOSE.migrations()[0];
        assert!(goose.up().text().ends_with("\n\n") && !goose.up().text().contains("DROP TABLE"));
        assert!(goose.down().unwrap().text().trim_start().starts_with("-- +goose Down"));
        assert!(GOOSE.migrations()[2].up().layout_flags().no_transaction);
    }
}
