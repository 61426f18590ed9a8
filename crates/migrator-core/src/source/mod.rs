//! Where SQL migrations come from: file names, directories, and sets embedded at compile time.
//!
//! The layout is `{version}_{name}.up.sql` with an optional `{version}_{name}.down.sql`, all
//! directly in one directory. The same loader runs inside the `embed_migrations!` macro (at
//! compile time) and at runtime (CLI, tests), so both accept and refuse exactly the same files.

mod embedded;
mod load;
mod name;
pub(crate) mod scan;

pub use embedded::{EmbeddedMigration, EmbeddedMigrations, EmbeddedRepeatable, EmbeddedScript};
pub use load::{load_dir, load_dir_with};
pub use name::{FileName, parse_file_name};
pub use scan::{LoadedMigration, MAX_FILE_BYTES};

#[cfg(test)]
mod tests;
