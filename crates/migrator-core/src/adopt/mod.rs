//! Adopting another tool's history: reading what sqlx, diesel, refinery, golang-migrate,
//! goose or Flyway recorded, so that a database they migrated switches to migrator in one
//! verified step instead of a blind `baseline`.
//!
//! The pieces, from the bottom up:
//! - [`ForeignTool`]: the six tools, their history tables and what each keeps;
//! - [`ForeignTable`], [`ForeignRow`]: the read a driver performs (columns by name, each in
//!   one of four kinds), so drivers stay plain readers;
//! - [`ForeignRecord`] ([`decode`]): what each row means in that tool's terms (applied,
//!   failed, rolled back, "everything up to here", or nothing to adopt);
//! - [`versions`]: each tool's version mapped to the migrator version of the same file,
//!   one function per tool;
//! - [`checksums`]: each tool's checksum of a file, computed over the bytes that tool read;
//! - [`Adopt`]: what an application or the CLI asks for.
//!
//! The decision (which rows to record, what to refuse, what is already adopted) is the
//! planner's (`plan::plan_adopt`); the runner reads both histories under the migration lock
//! and writes every adopted row in one transaction. The other tool's table is only read.
//!
//! # Tools and databases
//!
//! Every tool here writes its history on PostgreSQL, MySQL/MariaDB and SQLite (sqlx, diesel,
//! golang-migrate, goose and Flyway natively; refinery through its `postgres`/`tokio-postgres`,
//! `mysql`/`mysql_async` and `rusqlite` drivers), so every combination can be adopted.
//!
//! | tool | table | checksum kept | a state that is refused |
//! |---|---|---|---|
//! | sqlx | `_sqlx_migrations` | SHA-384 of the file | `success = false` |
//! | diesel | `__diesel_schema_migrations` | none | (none recorded) |
//! | refinery | `refinery_schema_history` | SipHash-1-3 of name, version and SQL (feature `refinery`) | (none recorded) |
//! | golang-migrate | `schema_migrations` | none | `dirty = true` |
//! | goose | `goose_db_version` | none | latest row of a version with `is_applied = false` |
//! | Flyway | `flyway_schema_history` | CRC32 of the file's lines | `success = false` |

pub mod checksums;
mod record;
mod table;
mod tool;
pub mod versions;

pub use record::{ForeignRecord, ForeignVersion, RecordKind, decode};
pub use table::{Cell, ForeignRow, ForeignTable};
pub use tool::{CellKind, ForeignColumn, ForeignTool, UnknownTool};

use crate::error::Error;
use crate::history::Ident;

/// What to adopt: which tool's history, where its table is, and whether a file edited
/// since that tool applied it may be adopted anyway.
///
/// ```
/// use migrator_core::{Adopt, ForeignTool};
/// let adopt = Adopt::new(ForeignTool::Sqlx).table("_sqlx_migrations");
/// assert_eq!(adopt.tool(), ForeignTool::Sqlx);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopt {
    tool: ForeignTool,
    table: Option<String>,
    schema: Option<String>,
    accept_changed: bool,
}

impl Adopt {
    /// Adopts `tool`'s history from its default table in the connection's current schema.
    pub fn new(tool: ForeignTool) -> Self {
        Adopt { tool, table: None, schema: None, accept_changed: false }
    }

    /// The tool's table has another name (sqlx's `table-name`, refinery's
    /// `set_migration_table_name`, golang-migrate's `x-migrations-table`, goose's `-table`,
    /// Flyway's `table`).
    pub fn table(mut self, name: &str) -> Self {
        self.table = Some(name.to_owned());
        self
    }

    /// The tool's table is in this schema (PostgreSQL) or database (MySQL).
    pub fn schema(mut self, name: &str) -> Self {
        self.schema = Some(name.to_owned());
        self
    }

    /// Adopts applied migrations whose file changed since the tool applied them (or whose
    /// checksum cannot be computed here), with a warning each, instead of refusing. Use it
    /// when the edits are known and harmless: migrator records the files as they are now.
    pub fn accept_changed_files(mut self, accept: bool) -> Self {
        self.accept_changed = accept;
        self
    }

    /// The tool.
    pub fn tool(&self) -> ForeignTool {
        self.tool
    }

    /// Whether changed files are adopted anyway.
    pub fn accepts_changed_files(&self) -> bool {
        self.accept_changed
    }

    /// The table to read, its names checked.
    pub fn foreign_table(&self) -> Result<ForeignTable, Error> {
        let name = Ident::new("adopted table", self.table.as_deref().unwrap_or(self.tool.default_table()))?;
        let schema = self.schema.as_deref().map(|s| Ident::new("adopted table's schema", s)).transpose()?;
        Ok(ForeignTable { tool: self.tool, schema, name })
    }
}
