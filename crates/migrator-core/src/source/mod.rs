//! Where SQL migrations come from: file names, directories, and sets embedded at compile time.
//!
//! migrator's own layout is `{version}_{name}.up.sql` with an optional
//! `{version}_{name}.down.sql`, and repeatable migrations `R__{name}.sql`, all directly in one
//! directory. The layouts of sqlx, diesel, refinery, Flyway, golang-migrate and goose are read
//! as they are ([`Layout`], whose docs give each layout's rules and how a directory's layout
//! is detected). The same loader runs inside the `embed_migrations!` macro (at compile time)
//! and at runtime (CLI, tests), so both accept and refuse exactly the same files.

mod config;
mod detect;
mod embedded;
mod entry;
mod goose;
pub(crate) mod layout;
mod load;
mod name;
mod read;
pub(crate) mod scan;

pub use embedded::{EmbeddedMigration, EmbeddedMigrations, EmbeddedRepeatable, EmbeddedScript};
pub use entry::{LayoutFile, parse_diesel_dir, parse_layout_file_name};
pub use layout::{Layout, diesel_version, flyway_version};
pub use load::{load_dir, load_dir_with, load_dir_with_layout};
pub use name::{FileName, parse_file_name};
pub use read::MAX_FILE_BYTES;
pub use scan::{LoadedDir, LoadedMigration, LoadedRepeatable};

#[cfg(test)]
mod tests;
