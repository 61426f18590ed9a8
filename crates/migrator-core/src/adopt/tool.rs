//! The tools whose history migrator adopts.

use std::fmt;
use std::str::FromStr;

/// How a driver reads a column of another tool's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CellKind {
    /// An integer of any width (read as `i64`).
    Int,
    /// Text of any length (read as `String`).
    Text,
    /// A boolean, stored natively or as `0`/`1` (a driver may read it as an integer).
    Bool,
    /// Bytes (`BYTEA`, `BLOB`).
    Bytes,
}

/// One column to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignColumn {
    /// Its name in SQL (plain lowercase; drivers quote it).
    pub name: &'static str,
    /// How to read it.
    pub kind: CellKind,
}

/// Another migration tool whose history migrator can adopt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForeignTool {
    /// sqlx (`sqlx migrate run`, `sqlx::migrate!`).
    Sqlx,
    /// diesel (`diesel migration run`, `diesel_migrations`).
    Diesel,
    /// refinery.
    Refinery,
    /// golang-migrate (`migrate`).
    GolangMigrate,
    /// goose.
    Goose,
    /// Flyway.
    Flyway,
}

const fn col(name: &'static str, kind: CellKind) -> ForeignColumn {
    ForeignColumn { name, kind }
}

/// `_sqlx_migrations` (sqlx-{postgres,mysql,sqlite} `migrate.rs`, `ensure_migrations_table`).
const SQLX: &[ForeignColumn] = &[
    col("version", CellKind::Int),
    col("description", CellKind::Text),
    col("success", CellKind::Bool),
    col("checksum", CellKind::Bytes),
];
/// `__diesel_schema_migrations` (diesel's `setup_migration_table.sql`).
const DIESEL: &[ForeignColumn] = &[col("version", CellKind::Text)];
/// `refinery_schema_history` (refinery-core `traits/mod.rs`, `ASSERT_MIGRATIONS_TABLE_QUERY`).
const REFINERY: &[ForeignColumn] =
    &[col("version", CellKind::Int), col("name", CellKind::Text), col("checksum", CellKind::Text)];
/// `schema_migrations` (golang-migrate `database/{postgres,mysql,sqlite3}`, `ensureVersionTable`).
const GOLANG_MIGRATE: &[ForeignColumn] = &[col("version", CellKind::Int), col("dirty", CellKind::Bool)];
/// `goose_db_version` (goose `internal/dialect/dialectquery`, `CreateTable`).
const GOOSE: &[ForeignColumn] =
    &[col("id", CellKind::Int), col("version_id", CellKind::Int), col("is_applied", CellKind::Bool)];
/// `flyway_schema_history` (Flyway's `createMetaDataTable.sql` per database).
const FLYWAY: &[ForeignColumn] = &[
    col("installed_rank", CellKind::Int),
    col("version", CellKind::Text),
    col("description", CellKind::Text),
    col("type", CellKind::Text),
    col("script", CellKind::Text),
    col("checksum", CellKind::Int),
    col("success", CellKind::Bool),
];

impl ForeignTool {
    /// Every tool, in the order the CLI lists them.
    pub const ALL: [ForeignTool; 6] = [
        ForeignTool::Sqlx,
        ForeignTool::Diesel,
        ForeignTool::Refinery,
        ForeignTool::GolangMigrate,
        ForeignTool::Goose,
        ForeignTool::Flyway,
    ];

    /// Its name on the command line and in notes: `sqlx`, `diesel`, `refinery`,
    /// `golang-migrate`, `goose`, `flyway`.
    pub const fn name(self) -> &'static str {
        match self {
            ForeignTool::Sqlx => "sqlx",
            ForeignTool::Diesel => "diesel",
            ForeignTool::Refinery => "refinery",
            ForeignTool::GolangMigrate => "golang-migrate",
            ForeignTool::Goose => "goose",
            ForeignTool::Flyway => "flyway",
        }
    }

    /// The table it keeps its history in by default.
    pub const fn default_table(self) -> &'static str {
        match self {
            ForeignTool::Sqlx => "_sqlx_migrations",
            ForeignTool::Diesel => "__diesel_schema_migrations",
            ForeignTool::Refinery => "refinery_schema_history",
            ForeignTool::GolangMigrate => "schema_migrations",
            ForeignTool::Goose => "goose_db_version",
            ForeignTool::Flyway => "flyway_schema_history",
        }
    }

    /// The columns adoption reads from its table.
    pub const fn columns(self) -> &'static [ForeignColumn] {
        match self {
            ForeignTool::Sqlx => SQLX,
            ForeignTool::Diesel => DIESEL,
            ForeignTool::Refinery => REFINERY,
            ForeignTool::GolangMigrate => GOLANG_MIGRATE,
            ForeignTool::Goose => GOOSE,
            ForeignTool::Flyway => FLYWAY,
        }
    }

    /// Whether it records a checksum of each applied file, which adoption verifies.
    pub const fn keeps_checksums(self) -> bool {
        matches!(self, ForeignTool::Sqlx | ForeignTool::Refinery | ForeignTool::Flyway)
    }
}

impl fmt::Display for ForeignTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tool name that is not one of [`ForeignTool::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTool(String);

impl fmt::Display for UnknownTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = ForeignTool::ALL.iter().map(|t| t.name()).collect();
        write!(f, "unknown migration tool `{}`: expected one of {}", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownTool {}

impl FromStr for ForeignTool {
    type Err = UnknownTool;

    /// Its [`ForeignTool::name`], in any case (`migrate` is golang-migrate's binary name).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        if lower == "migrate" {
            return Ok(ForeignTool::GolangMigrate);
        }
        ForeignTool::ALL.into_iter().find(|t| t.name() == lower).ok_or_else(|| UnknownTool(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_tables_are_the_tools_defaults() {
        for tool in ForeignTool::ALL {
            assert_eq!(tool.name().parse::<ForeignTool>(), Ok(tool));
            assert!(!tool.columns().is_empty());
        }
        assert_eq!("Flyway".parse::<ForeignTool>(), Ok(ForeignTool::Flyway));
        assert_eq!("migrate".parse::<ForeignTool>(), Ok(ForeignTool::GolangMigrate));
        let e = "liquibase".parse::<ForeignTool>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown migration tool `liquibase`: expected one of sqlx, diesel, refinery, golang-migrate, goose, flyway"
        );
        assert_eq!(ForeignTool::GolangMigrate.default_table(), "schema_migrations");
    }
}
