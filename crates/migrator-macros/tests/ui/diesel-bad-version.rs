static MIGRATIONS: migrator_core::EmbeddedMigrations = migrator_macros::embed_migrations!(
    "fixtures/diesel-bad-version",
    dialect = postgres,
    relative_to = file,
    layout = diesel
);

fn main() {
    let _ = MIGRATIONS;
}
