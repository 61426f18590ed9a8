//! Rebuild when a migration file is added or removed (edits are tracked by `include_str!`).
fn main() {
    migrator_core::build::watch_migrations("migrations");
}
