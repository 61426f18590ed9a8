//! The history table: its name, its rows, its layout.
//!
//! One row per applied (or running, failed, reverting) migration. A reserved row with
//! version 0 (versions of migrations are positive) records the table's own layout version,
//! so later releases can upgrade the table in place and older releases refuse a newer one.

use std::fmt;
use std::time::{Duration, SystemTime};

pub mod columns;
pub mod digest;

use crate::checksum::StatementRecord;
use crate::error::Error;
use crate::version::{Phase, Version};

/// The layout of the history table that this build writes.
pub const LAYOUT: i64 = 1;

/// The default history table name.
pub const DEFAULT_TABLE: &str = "_migrator_history";

/// A validated SQL identifier (table or schema name). Drivers always quote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident(String);

impl Ident {
    /// Accepts 1 to 63 bytes without NUL characters (PostgreSQL truncates longer names,
    /// MySQL refuses names over 64 characters).
    pub fn new(what: &'static str, value: &str) -> Result<Ident, Error> {
        let reason = if value.is_empty() {
            Some("it is empty")
        } else if value.len() > 63 {
            Some("it is longer than 63 bytes")
        } else if value.contains('\0') {
            Some("it contains a NUL character")
        } else if value.trim() != value {
            Some("it starts or ends with whitespace")
        } else {
            None
        };
        match reason {
            Some(reason) => {
                Err(Error::InvalidOption { option: what, value: value.to_owned(), reason: reason.to_owned() })
            }
            None => Ok(Ident(value.to_owned())),
        }
    }

    /// The unquoted name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name quoted with `quote` (`"` or `` ` ``), doubling any inner quote.
    pub fn quoted(&self, quote: char) -> String {
        let mut out = String::with_capacity(self.0.len() + 2);
        out.push(quote);
        for c in self.0.chars() {
            if c == quote {
                out.push(quote);
            }
            out.push(c);
        }
        out.push(quote);
        out
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the history table lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryTable {
    /// The schema; `None` means the connection's current schema.
    pub schema: Option<Ident>,
    /// The table name.
    pub name: Ident,
}

impl HistoryTable {
    /// The table's name qualified with `quote`, as drivers write it in SQL.
    pub fn qualified(&self, quote: char) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", schema.quoted(quote), self.name.quoted(quote)),
            None => self.name.quoted(quote),
        }
    }
}

impl Default for HistoryTable {
    fn default() -> Self {
        HistoryTable { schema: None, name: Ident(DEFAULT_TABLE.to_owned()) }
    }
}

impl fmt::Display for HistoryTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// A history row's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Applied (also after `force` and `baseline`).
    Applied,
    /// Being applied statement by statement; if no process runs it, it was interrupted.
    Running,
    /// Applying failed at a recorded statement.
    Failed,
    /// Being reverted statement by statement; if no process runs it, it was interrupted.
    Reverting,
    /// Reverting failed at a recorded statement.
    RevertFailed,
}

impl State {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Running => "running",
            State::Failed => "failed",
            State::Reverting => "reverting",
            State::RevertFailed => "revert_failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<State> {
        Some(match text {
            "applied" => State::Applied,
            "running" => State::Running,
            "failed" => State::Failed,
            "reverting" => State::Reverting,
            "revert_failed" => State::RevertFailed,
            _ => return None,
        })
    }

    /// Whether the row blocks further runs until resumed or forced.
    pub const fn is_dirty(self) -> bool {
        !matches!(self, State::Applied)
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The migration's version.
    pub version: Version,
    /// Its name when it was applied.
    pub name: String,
    /// Its phase.
    pub phase: Phase,
    /// Its state.
    pub state: State,
    /// The up script's checksum when it was applied.
    pub checksum: String,
    /// The down script's checksum when it was applied.
    pub down_checksum: Option<String>,
    /// Order of application (down reverts in reverse rank order).
    pub rank: i64,
    /// Statements in the script being run (1 for Rust code).
    pub statements_total: u32,
    /// Statements completed so far (progress of statement-by-statement runs).
    pub statements_done: u32,
    /// Line and hash of each statement, for statement-by-statement runs (for `resume`).
    pub statements: Vec<StatementRecord>,
    /// 1-based index of the failed statement.
    pub failed_statement: Option<u32>,
    /// Its line.
    pub failed_line: Option<u32>,
    /// The database's message.
    pub error: Option<String>,
    /// When the row was last written.
    pub applied_at: SystemTime,
    /// How long applying took.
    pub execution_time: Option<Duration>,
    /// Database user and client (host or application name).
    pub applied_by: String,
    /// How the row came to be when not by running it (`force`, `baseline`, `repair`, …).
    pub note: Option<String>,
}

/// This machine's host name (`HOSTNAME`, else `/etc/hostname`), for the records of who
/// applied a migration or holds a lock; `None` when neither says.
pub fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// The rows of the history table (without the layout row), in version order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The table's recorded layout.
    pub layout: i64,
    /// Migration rows, in version order.
    pub rows: Vec<HistoryRow>,
    /// Rows of repeatable migrations, in name order.
    pub repeatables: Vec<RepeatableRow>,
}

/// The history row of a repeatable migration. It shares the table with versioned rows under
/// a negative key derived from its name ([`repeatable_key`]), so versioned planning never
/// sees it, and it records the checksum the repeatable last ran with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatableRow {
    /// The repeatable's name.
    pub name: String,
    /// The checksum it last ran with.
    pub checksum: String,
    /// When it last ran.
    pub applied_at: SystemTime,
    /// How long that took.
    pub execution_time: Option<Duration>,
    /// Who ran it.
    pub applied_by: String,
}

/// The history key of the repeatable migration `name`: negative (versions are positive and
/// 0 is the layout row), stable across releases and platforms, derived from SHA-256 of the
/// name.
pub fn repeatable_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    for (byte, h) in bytes.iter_mut().zip(hash.iter()) {
        *byte = *h;
    }
    // 62 bits: -(1 ..= 2^62), never 0, never below i64::MIN.
    let value = i64::try_from(u64::from_be_bytes(bytes) >> 2).unwrap_or(i64::MAX);
    -(value.saturating_add(1))
}

impl History {
    /// The row for `version`.
    pub fn get(&self, version: Version) -> Option<&HistoryRow> {
        self.rows.iter().find(|r| r.version == version)
    }

    /// The highest rank, 0 when empty.
    pub fn max_rank(&self) -> i64 {
        self.rows.iter().map(|r| r.rank).max().unwrap_or(0)
    }
}

/// A history row to write: what the runner decides, the driver stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWrite {
    /// The migration's version.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// Its phase.
    pub phase: Phase,
    /// The state to write.
    pub state: State,
    /// The up checksum.
    pub checksum: String,
    /// The down checksum.
    pub down_checksum: Option<String>,
    /// Order of application.
    pub rank: i64,
    /// Statement count of the script being run.
    pub statements_total: u32,
    /// Statements done.
    pub statements_done: u32,
    /// Line and hash of each statement (statement-by-statement runs only).
    pub statements: Vec<StatementRecord>,
    /// Execution time, when known.
    pub execution_time: Option<Duration>,
    /// How the row came to be when not by running it.
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked_and_quoted() {
        assert_eq!(Ident::new("table", "my\"table").unwrap().quoted('"'), "\"my\"\"table\"");
        assert_eq!(Ident::new("table", "a`b").unwrap().quoted('`'), "`a``b`");
        assert!(Ident::new("table", "").is_err());
        assert!(Ident::new("table", &"x".repeat(64)).unwrap_err().to_string().contains("longer than 63"));
        assert!(Ident::new("table", "a\0b").is_err());
        let table =
            HistoryTable { schema: Some(Ident::new("schema", "app").unwrap()), name: Ident::new("t", "h").unwrap() };
        assert_eq!(table.qualified('"'), "\"app\".\"h\"");
        assert_eq!(HistoryTable::default().qualified('"'), "\"_migrator_history\"");
    }

    #[test]
    fn repeatable_keys_are_negative_and_stable() {
        let key = repeatable_key("refresh_views");
        assert!(key < 0);
        assert_eq!(key, repeatable_key("refresh_views"));
        assert_ne!(key, repeatable_key("refresh_view"));
        // Pinned: a release must never change the key of an existing repeatable.
        assert_eq!(repeatable_key(""), -4_101_707_308_206_065_414);
    }

    #[test]
    fn histories_are_in_version_order_with_their_highest_rank() {
        use super::columns::{Execution, ReadRow, Value};
        /// A row read back as it was written.
        struct Row(RowWrite);
        impl Row {
            fn value(&self, column: &str) -> Option<Value<'_>> {
                self.0.values(Execution::AsRecorded).into_iter().find(|(c, _)| c.name == column).map(|(_, v)| v)
            }
        }
        impl ReadRow for Row {
            fn int(&self, column: &str) -> Result<Option<i64>, crate::error::BoxError> {
                Ok(match self.value(column) {
                    Some(Value::Int(n)) => Some(n),
                    Some(Value::Now) => Some(0),
                    _ => None,
                })
            }
            fn text(&self, column: &str) -> Result<Option<String>, crate::error::BoxError> {
                Ok(match self.value(column) {
                    Some(Value::Text(t)) => Some(t.into_owned()),
                    Some(Value::AppliedBy) => Some("me".to_owned()),
                    _ => None,
                })
            }
        }
        let row = |version: i64, rank: i64| {
            Row(RowWrite {
                version: Version::new(version).unwrap(),
                name: format!("m{version}"),
                phase: Phase::Expand,
                state: State::Applied,
                checksum: "sha256:x".into(),
                down_checksum: None,
                rank,
                statements_total: 1,
                statements_done: 1,
                statements: Vec::new(),
                execution_time: None,
                note: None,
            })
        };
        let rows = [row(3, 1), row(1, 5)];
        let history = columns::decode_history(&HistoryTable::default(), rows).unwrap();
        assert!(history.repeatables.is_empty());
        assert_eq!(history.rows.iter().map(|r| r.version.get()).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(history.max_rank(), 5);
        assert_eq!(history.get(Version::new(3).unwrap()).map(|r| r.rank), Some(1));
    }
}
