//! Lint options: migrations older than `lint_from` are not linted, `warn(…)` lowers a deny
//! rule (its finding no longer fails the build) and `off(…)` turns rules off.
static MIGRATIONS: migrator_core::EmbeddedMigrations = migrator_macros::embed_migrations!(
    "../ui/fixtures/lint-options",
    dialect = postgres,
    relative_to = file,
    lint_from = 20261101000000,
    warn(index-not-concurrent),
    off(mixed-ddl-dml, "unbatched-backfill"),
);

fn main() {
    let versions: Vec<i64> = MIGRATIONS.migrations().iter().map(|m| m.version()).collect();
    assert_eq!(versions, vec![20260901000000, 20261001000000, 20261101000000]);
}
