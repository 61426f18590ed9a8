//! The SQL dialects migrator knows: they decide how scripts are split and linted, and which
//! embedded sets a backend accepts.

/// SQL dialect that decides lexing and block rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL, assuming `standard_conforming_strings = on`.
    Postgres,
    /// MySQL or MariaDB, assuming the default `sql_mode` (backslash escapes, no
    /// `ANSI_QUOTES`).
    MySql,
    /// SQLite 3.
    Sqlite,
}

impl Dialect {
    /// The database's name for people: `PostgreSQL`, `MySQL`, `SQLite`.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// The lowercase id used in options and macros: `postgres`, `mysql`, `sqlite`.
    pub const fn id(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Parses [`Dialect::id`] (`postgres`, `mysql`, `sqlite`).
    pub fn from_id(id: &str) -> Option<Dialect> {
        match id {
            "postgres" => Some(Dialect::Postgres),
            "mysql" => Some(Dialect::MySql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}
