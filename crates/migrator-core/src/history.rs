//! The history table: its name, its rows, its layout.
//!
//! One row per applied (or running, failed, reverting) migration. A reserved row with
//! version 0 (versions of migrations are positive) records the table's own layout version,
//! so later releases can upgrade the table in place and older releases refuse a newer one.

use std::fmt;
use std::time::{Duration, SystemTime};

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
            Some(reason) => Err(Error::InvalidName { what, value: value.to_owned(), reason: reason.to_owned() }),
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

/// The digest of a history in which every row is applied and carries exactly these
/// `(version, name, phase, checksum, down checksum)` values, in version order: SHA-256 (hex)
/// of the rows joined with U+001E, each row's fields joined with U+001F. A driver computes
/// the same digest on the server (see [`crate::Driver::probe_expecting`]), so the startup
/// check sends the history's rows only when they differ from what the binary expects.
pub fn applied_digest<'a>(rows: impl IntoIterator<Item = (i64, &'a str, Phase, &'a str, Option<&'a str>)>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (i, (version, name, phase, checksum, down)) in rows.into_iter().enumerate() {
        if i > 0 {
            hasher.update("\u{1e}");
        }
        hasher.update(format!(
            "{version}\u{1f}{name}\u{1f}{}\u{1f}{checksum}\u{1f}{}",
            phase.as_str(),
            down.unwrap_or("")
        ));
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What a driver answers from the server's comparison ([`crate::Driver::probe_expecting`]):
/// the index of the expected digest the history has, when every row is applied (`clean`).
pub fn expected_match(clean: bool, digest: &str, expected: &[String]) -> Option<usize> {
    if clean { expected.iter().position(|d| d == digest) } else { None }
}

/// The rows of the history table (without the layout row), in version order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The table's recorded layout.
    pub layout: i64,
    /// Migration rows, in version order.
    pub rows: Vec<HistoryRow>,
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

/// The raw column values of one history row, as a driver reads them; [`RawRow::decode`]
/// turns them into a checked [`HistoryRow`], and [`decode_history`] a whole table.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    /// `version`
    pub version: i64,
    /// `name`
    pub name: String,
    /// `phase`
    pub phase: String,
    /// `state`
    pub state: String,
    /// `checksum`
    pub checksum: String,
    /// `down_checksum`
    pub down_checksum: Option<String>,
    /// `applied_rank`
    pub rank: i64,
    /// `statements_total`
    pub statements_total: i64,
    /// `statements_done`
    pub statements_done: i64,
    /// `statements`
    pub statements: Option<String>,
    /// `failed_statement`
    pub failed_statement: Option<i64>,
    /// `failed_line`
    pub failed_line: Option<i64>,
    /// `error`
    pub error: Option<String>,
    /// `applied_at` as milliseconds since the Unix epoch.
    pub applied_at_ms: i64,
    /// `execution_ms`
    pub execution_ms: Option<i64>,
    /// `applied_by`
    pub applied_by: String,
    /// `note`
    pub note: Option<String>,
}

/// The reserved version of the layout row.
pub const LAYOUT_ROW_VERSION: i64 = 0;
/// The `state` of the layout row.
pub const LAYOUT_ROW_STATE: &str = "layout";

impl RawRow {
    /// Checks and converts the row.
    pub fn decode(self, table: &HistoryTable) -> Result<HistoryRow, Error> {
        let version = self.version;
        let bad = |message: String| Error::CorruptHistory { table: table.to_string(), version, message };
        let to_u32 = |value: i64, column: &str| {
            u32::try_from(value).map_err(|_| bad(format!("{column} is {value}, expected a count")))
        };
        let opt_u32 = |value: Option<i64>, column: &str| value.map(|v| to_u32(v, column)).transpose();
        Ok(HistoryRow {
            version: Version::new(version).ok_or_else(|| bad("version must be positive".to_owned()))?,
            phase: Phase::parse(&self.phase).ok_or_else(|| bad(format!("unknown phase `{}`", self.phase)))?,
            state: State::parse(&self.state).ok_or_else(|| bad(format!("unknown state `{}`", self.state)))?,
            statements_total: to_u32(self.statements_total, "statements_total")?,
            statements_done: to_u32(self.statements_done, "statements_done")?,
            statements: match &self.statements {
                Some(text) => {
                    StatementRecord::decode(text).ok_or_else(|| bad("unreadable statements column".to_owned()))?
                }
                None => Vec::new(),
            },
            failed_statement: opt_u32(self.failed_statement, "failed_statement")?,
            failed_line: opt_u32(self.failed_line, "failed_line")?,
            applied_at: SystemTime::UNIX_EPOCH
                + Duration::from_millis(u64::try_from(self.applied_at_ms).unwrap_or_default()),
            execution_time: self.execution_ms.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or_default())),
            name: self.name,
            checksum: self.checksum,
            down_checksum: self.down_checksum,
            rank: self.rank,
            error: self.error,
            applied_by: self.applied_by,
            note: self.note,
        })
    }
}

/// Builds a [`History`] from every raw row of the table, the layout row included.
pub fn decode_history(table: &HistoryTable, raw: Vec<RawRow>) -> Result<History, Error> {
    let mut layout = None;
    let mut rows = Vec::with_capacity(raw.len());
    for row in raw {
        if row.version == LAYOUT_ROW_VERSION && row.state == LAYOUT_ROW_STATE {
            layout = Some(row.statements_total);
        } else {
            rows.push(row.decode(table)?);
        }
    }
    rows.sort_by_key(|r| r.version);
    // A table without its layout row predates layouts: treat it as the first layout.
    Ok(History { layout: layout.unwrap_or(1), rows })
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
    fn decodes_rows_and_layout() {
        let table = HistoryTable::default();
        let raw = vec![
            RawRow { version: 0, state: "layout".into(), statements_total: 1, ..RawRow::default() },
            RawRow {
                version: 2,
                name: "b".into(),
                phase: "contract".into(),
                state: "failed".into(),
                checksum: "sha256:x".into(),
                rank: 2,
                statements_total: 3,
                statements_done: 1,
                statements: Some("1:aa,4:bb,9:cc".into()),
                failed_statement: Some(2),
                failed_line: Some(4),
                applied_at_ms: 1_000,
                ..RawRow::default()
            },
            RawRow {
                version: 1,
                name: "a".into(),
                phase: "expand".into(),
                state: "applied".into(),
                ..RawRow::default()
            },
        ];
        let history = decode_history(&table, raw).unwrap();
        assert_eq!(history.layout, 1);
        assert_eq!(history.rows.iter().map(|r| r.version.get()).collect::<Vec<_>>(), vec![1, 2]);
        let failed = history.get(Version::new(2).unwrap()).unwrap();
        assert_eq!(failed.state, State::Failed);
        assert_eq!(failed.statements[1], StatementRecord { line: 4, hash: "bb".into() });
        assert_eq!(failed.applied_at, SystemTime::UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(history.max_rank(), 2);
    }

    #[test]
    fn corrupt_rows_are_reported() {
        let table = HistoryTable::default();
        let e = decode_history(
            &table,
            vec![RawRow { version: 4, phase: "expand".into(), state: "weird".into(), ..RawRow::default() }],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "history table _migrator_history has an unreadable row for version 4: unknown state `weird`"
        );
    }
}
