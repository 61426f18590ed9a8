//! The build-script helper that makes cargo notice new migration files.
//!
//! `embed_migrations!` reads each file with `include_str!`, so cargo rebuilds when an
//! embedded file *changes*. A *new* file is not an input of the previous build, so cargo
//! does not notice it on stable Rust, and the binary silently ships without it. One line in
//! the crate's `build.rs` fixes that:
//!
//! ```no_run
//! // build.rs
//! # #[allow(clippy::needless_doctest_main)]
//! fn main() {
//!     migrator_core::build::watch_migrations("migrations");
//! }
//! ```
//!
//! (with `migrator-core` under `[build-dependencies]`; it is already compiled for the
//! macro, so this costs nothing). Cargo then re-runs the build script, and rebuilds the
//! crate, whenever anything in the directory changes, including files being added or removed.

use std::path::Path;

/// Tells cargo to rebuild the crate when anything in `dir` (relative to the crate's
/// `Cargo.toml`) changes, including added and removed files.
pub fn watch_migrations(dir: impl AsRef<Path>) {
    println!("{}", rerun_line(dir.as_ref()));
}

fn rerun_line(dir: &Path) -> String {
    format!("cargo:rerun-if-changed={}", dir.display())
}

#[cfg(test)]
mod tests {
    #[test]
    fn prints_the_cargo_instruction() {
        assert_eq!(super::rerun_line(std::path::Path::new("migrations")), "cargo:rerun-if-changed=migrations");
    }
}
