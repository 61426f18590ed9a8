//! The history table's columns, defined once: their names and types, what each write
//! stores in them, and how a row read back is checked.
//!
//! Drivers never list the columns themselves. They map a [`ColumnType`] to their SQL type
//! ([`definitions`]), give an expression for the columns they read specially ([`select_list`]),
//! render each [`Value`] as a literal or a bind parameter, and read values back **by column
//! name** through [`ReadRow`]. Adding a column is a change here (and a [`LayoutStep`] so older
//! tables gain it), not in every driver.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use crate::checksum::StatementRecord;
use crate::error::{BoxError, Error};
use crate::version::{Phase, Version};

use super::{History, HistoryRow, HistoryTable, RepeatableRow, RowWrite, State};

/// The type of a history column; each driver maps it to its SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnType {
    /// A 64-bit integer.
    BigInt,
    /// A 32-bit integer (counts and lines).
    Int,
    /// Text of at most this many characters (MySQL stores it as `VARCHAR(n)`).
    Short(u16),
    /// Text up to 64 KiB (MySQL `TEXT`).
    Text,
    /// Longer text (MySQL `MEDIUMTEXT`).
    LongText,
    /// A point in time with milliseconds, stored in the server's time type and read back as
    /// milliseconds since the Unix epoch.
    Timestamp,
}

/// One column of the history table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name in SQL (plain lowercase, never needs quoting).
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Whether it may hold `NULL`.
    pub nullable: bool,
}

const fn column(name: &'static str, ty: ColumnType, nullable: bool) -> Column {
    Column { name, ty, nullable }
}

/// `version`: the migration's version, the primary key (0 is the layout row).
pub const VERSION: Column = column("version", ColumnType::BigInt, false);
/// `name`: the migration's name when it was applied.
pub const NAME: Column = column("name", ColumnType::Short(255), false);
/// `phase`: `expand` or `contract`.
pub const PHASE: Column = column("phase", ColumnType::Short(16), false);
/// `state`: see [`State`].
pub const STATE: Column = column("state", ColumnType::Short(16), false);
/// `checksum`: the up script's checksum when it was applied.
pub const CHECKSUM: Column = column("checksum", ColumnType::Short(100), false);
/// `down_checksum`: the down script's checksum when it was applied.
pub const DOWN_CHECKSUM: Column = column("down_checksum", ColumnType::Short(100), true);
/// `applied_rank`: order of application.
pub const APPLIED_RANK: Column = column("applied_rank", ColumnType::BigInt, false);
/// `statements_total`: statements of the script being run (1 for Rust code); the layout
/// row stores the table's layout here.
pub const STATEMENTS_TOTAL: Column = column("statements_total", ColumnType::Int, false);
/// `statements_done`: statements completed (progress of statement-by-statement runs).
pub const STATEMENTS_DONE: Column = column("statements_done", ColumnType::Int, false);
/// `statements`: line and hash of each statement ([`StatementRecord::encode`]).
pub const STATEMENTS: Column = column("statements", ColumnType::LongText, true);
/// `failed_statement`: 1-based index of the failed statement.
pub const FAILED_STATEMENT: Column = column("failed_statement", ColumnType::Int, true);
/// `failed_line`: its line.
pub const FAILED_LINE: Column = column("failed_line", ColumnType::Int, true);
/// `error`: the database's message.
pub const ERROR: Column = column("error", ColumnType::Text, true);
/// `applied_at`: when the row was last written.
pub const APPLIED_AT: Column = column("applied_at", ColumnType::Timestamp, false);
/// `execution_ms`: how long applying took.
pub const EXECUTION_MS: Column = column("execution_ms", ColumnType::BigInt, true);
/// `applied_by`: database user and client.
pub const APPLIED_BY: Column = column("applied_by", ColumnType::Short(512), false);
/// `note`: how the row came to be when not by running it (`force`, `baseline`, ...).
pub const NOTE: Column = column("note", ColumnType::Short(512), true);

/// Every column, in table order. [`VERSION`] is the primary key.
pub const COLUMNS: [Column; 17] = [
    VERSION,
    NAME,
    PHASE,
    STATE,
    CHECKSUM,
    DOWN_CHECKSUM,
    APPLIED_RANK,
    STATEMENTS_TOTAL,
    STATEMENTS_DONE,
    STATEMENTS,
    FAILED_STATEMENT,
    FAILED_LINE,
    ERROR,
    APPLIED_AT,
    EXECUTION_MS,
    APPLIED_BY,
    NOTE,
];

/// A change of the table's layout: the columns a layout adds to the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutStep {
    /// The layout this step produces.
    pub layout: i64,
    /// The columns it adds (each driver writes `ALTER TABLE … ADD COLUMN` from its definition).
    pub adds: &'static [Column],
}

/// In-place upgrades of the history table, in order. Layout 1 is the first; a release that
/// adds a column appends a step here and bumps [`super::LAYOUT`], and every driver upgrades
/// older tables under the lock.
pub const UPGRADES: &[LayoutStep] = &[];

/// The steps that bring a table from layout `from` up to the newest of `steps`.
pub fn pending_upgrades(from: i64, steps: &'static [LayoutStep]) -> Vec<&'static LayoutStep> {
    steps.iter().filter(|step| step.layout > from).collect()
}

/// A value to store, which a driver renders as a literal or a bind parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// An integer.
    Int(i64),
    /// A string.
    Text(Cow<'a, str>),
    /// `NULL`.
    Null,
    /// The server's current time.
    Now,
    /// Who writes the row: the driver's description of the database user and client.
    AppliedBy,
    /// Milliseconds since the migration's transaction (or server-side clock) started,
    /// measured by the server.
    Elapsed,
}

impl<'a> Value<'a> {
    fn text(text: &'a str) -> Value<'a> {
        Value::Text(Cow::Borrowed(text))
    }

    fn opt_text(text: Option<&'a str>) -> Value<'a> {
        text.map_or(Value::Null, Value::text)
    }

    fn count(n: u32) -> Value<'a> {
        Value::Int(i64::from(n))
    }

    fn usize(n: usize) -> Value<'a> {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    fn millis(duration: Duration) -> Value<'a> {
        Value::Int(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Column-value pairs of one write.
pub type Assignments<'a> = Vec<(Column, Value<'a>)>;

/// How long a write says the migration took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// What [`RowWrite::execution_time`] says (`NULL` when unknown).
    AsRecorded,
    /// Measured by the server ([`Value::Elapsed`]): the write commits with the migration.
    ServerClock,
    /// Measured by this process.
    Measured(Duration),
}

impl RowWrite {
    /// Every column's value for an insert-or-replace of this row, in [`COLUMNS`] order:
    /// failure columns cleared, `applied_at` now.
    pub fn values(&self, execution: Execution) -> Assignments<'_> {
        let statements = if self.statements.is_empty() {
            Value::Null
        } else {
            Value::Text(Cow::Owned(StatementRecord::encode(&self.statements)))
        };
        vec![
            (VERSION, Value::Int(self.version.get())),
            (NAME, Value::text(&self.name)),
            (PHASE, Value::text(self.phase.as_str())),
            (STATE, Value::text(self.state.as_str())),
            (CHECKSUM, Value::text(&self.checksum)),
            (DOWN_CHECKSUM, Value::opt_text(self.down_checksum.as_deref())),
            (APPLIED_RANK, Value::Int(self.rank)),
            (STATEMENTS_TOTAL, Value::count(self.statements_total)),
            (STATEMENTS_DONE, Value::count(self.statements_done)),
            (STATEMENTS, statements),
            (FAILED_STATEMENT, Value::Null),
            (FAILED_LINE, Value::Null),
            (ERROR, Value::Null),
            (APPLIED_AT, Value::Now),
            (EXECUTION_MS, execution_value(execution, self.execution_time)),
            (APPLIED_BY, Value::AppliedBy),
            (NOTE, Value::opt_text(self.note.as_deref())),
        ]
    }
}

fn execution_value<'a>(execution: Execution, recorded: Option<Duration>) -> Value<'a> {
    match execution {
        Execution::AsRecorded => recorded.map_or(Value::Null, Value::millis),
        Execution::ServerClock => Value::Elapsed,
        Execution::Measured(duration) => Value::millis(duration),
    }
}

/// The writes of a statement-by-statement step after its start row: each names the columns
/// it changes in the row of one version.
pub mod update {
    use super::{
        APPLIED_AT, APPLIED_BY, Assignments, ERROR, EXECUTION_MS, Execution, FAILED_LINE, FAILED_STATEMENT, STATE,
        STATEMENTS_DONE, STATEMENTS_TOTAL, Value, execution_value,
    };
    use crate::history::State;

    /// `done` statements completed.
    pub fn progress<'a>(done: usize) -> Assignments<'a> {
        vec![(STATEMENTS_DONE, Value::usize(done)), (APPLIED_AT, Value::Now)]
    }

    /// The step finished applying its `total` statements.
    pub fn applied<'a>(total: usize, execution: Execution) -> Assignments<'a> {
        vec![
            (STATE, Value::text(State::Applied.as_str())),
            (STATEMENTS_DONE, Value::usize(total)),
            (FAILED_STATEMENT, Value::Null),
            (FAILED_LINE, Value::Null),
            (ERROR, Value::Null),
            (APPLIED_AT, Value::Now),
            (EXECUTION_MS, execution_value(execution, None)),
            (APPLIED_BY, Value::AppliedBy),
        ]
    }

    /// Statement `statement` (1-based, at `line`) failed with `error`; the row takes
    /// `state` ([`State::Failed`] or [`State::RevertFailed`]).
    pub fn failed<'a>(state: State, statement: usize, line: Option<usize>, error: &'a str) -> Assignments<'a> {
        vec![
            (STATE, Value::text(state.as_str())),
            (STATEMENTS_DONE, Value::usize(statement.saturating_sub(1))),
            (FAILED_STATEMENT, Value::usize(statement)),
            (FAILED_LINE, line.map_or(Value::Null, Value::usize)),
            (ERROR, Value::text(error)),
            (APPLIED_AT, Value::Now),
            (APPLIED_BY, Value::AppliedBy),
        ]
    }

    /// The layout row records `layout` (after an upgrade).
    pub fn layout<'a>(layout: i64) -> Assignments<'a> {
        vec![(STATEMENTS_TOTAL, Value::Int(layout)), (APPLIED_AT, Value::Now)]
    }
}

/// What a repeatable migration's row stores after it ran: its key, name and checksum,
/// failure columns cleared, `applied_at` now.
pub fn repeatable_values<'a>(
    name: &'a str,
    checksum: &'a str,
    statements: usize,
    execution: Execution,
) -> Assignments<'a> {
    vec![
        (VERSION, Value::Int(super::repeatable_key(name))),
        (NAME, Value::text(name)),
        (PHASE, Value::text(Phase::Expand.as_str())),
        (STATE, Value::text(State::Applied.as_str())),
        (CHECKSUM, Value::text(checksum)),
        (DOWN_CHECKSUM, Value::Null),
        (APPLIED_RANK, Value::Int(0)),
        (STATEMENTS_TOTAL, Value::usize(statements)),
        (STATEMENTS_DONE, Value::usize(statements)),
        (STATEMENTS, Value::Null),
        (FAILED_STATEMENT, Value::Null),
        (FAILED_LINE, Value::Null),
        (ERROR, Value::Null),
        (APPLIED_AT, Value::Now),
        (EXECUTION_MS, execution_value(execution, None)),
        (APPLIED_BY, Value::AppliedBy),
        (NOTE, Value::text("repeatable")),
    ]
}

/// The reserved version of the layout row.
pub const LAYOUT_ROW_VERSION: i64 = 0;
/// The `state` of the layout row.
pub const LAYOUT_ROW_STATE: &str = "layout";

/// The layout row of a new table, recording `layout`.
pub fn layout_row<'a>(layout: i64) -> Assignments<'a> {
    vec![
        (VERSION, Value::Int(LAYOUT_ROW_VERSION)),
        (NAME, Value::text("migrator history layout")),
        (PHASE, Value::text(Phase::Expand.as_str())),
        (STATE, Value::text(LAYOUT_ROW_STATE)),
        (CHECKSUM, Value::text("")),
        (APPLIED_RANK, Value::Int(0)),
        (STATEMENTS_TOTAL, Value::Int(layout)),
        (STATEMENTS_DONE, Value::Int(0)),
        (APPLIED_AT, Value::Now),
        (APPLIED_BY, Value::AppliedBy),
        (NOTE, Value::text("layout of this table; do not delete")),
    ]
}

/// The values of `assignments`, each rendered by the driver, joined with `, ` (for an
/// `INSERT`'s `VALUES`).
pub fn values<'a>(assignments: &[(Column, Value<'a>)], mut render: impl FnMut(&Value<'a>) -> String) -> String {
    join(assignments.iter().map(|(_, value)| render(value)))
}

/// `column = value` for each of `assignments`, rendered by the driver, joined with `, ` (for
/// an `UPDATE`'s `SET`).
pub fn set_list<'a>(assignments: &[(Column, Value<'a>)], mut render: impl FnMut(&Value<'a>) -> String) -> String {
    join(assignments.iter().map(|(column, value)| format!("{} = {}", column.name, render(value))))
}

/// The column names of `assignments`, joined with `, ` (for an `INSERT` column list).
pub fn names(assignments: &[(Column, Value<'_>)]) -> String {
    join(assignments.iter().map(|(column, _)| column.name.to_owned()))
}

/// `name TYPE [NOT NULL] [PRIMARY KEY]` for every column, joined with `,\n    `, from the
/// driver's SQL type of each [`ColumnType`] (and column, for special cases).
pub fn definitions(sql_type: impl Fn(&Column) -> String) -> String {
    let defs = COLUMNS.iter().map(|column| definition(column, &sql_type));
    defs.collect::<Vec<_>>().join(",\n    ")
}

/// One column's definition, as [`definitions`] writes it (also for `ADD COLUMN`).
pub fn definition(column: &Column, sql_type: impl Fn(&Column) -> String) -> String {
    let mut def = format!("{} {}", column.name, sql_type(column));
    if !column.nullable {
        def.push_str(" NOT NULL");
    }
    if *column == VERSION {
        def.push_str(" PRIMARY KEY");
    }
    def
}

/// The select list reading every column under its own name: `read(column)` gives an
/// expression for the columns a driver reads specially (a timestamp as epoch milliseconds),
/// written `expression AS name`; the others are read as they are.
pub fn select_list(read: impl Fn(&Column) -> Option<String>) -> String {
    join(COLUMNS.iter().map(|column| match read(column) {
        Some(expression) => format!("{expression} AS {}", column.name),
        None => column.name.to_owned(),
    }))
}

fn join(parts: impl Iterator<Item = String>) -> String {
    parts.collect::<Vec<_>>().join(", ")
}

/// A row as a driver reads it: values by column name, integers as `i64`, text as `String`,
/// [`APPLIED_AT`] as milliseconds since the Unix epoch.
pub trait ReadRow {
    /// The integer in `column` (`None` for `NULL`).
    fn int(&self, column: &str) -> Result<Option<i64>, BoxError>;
    /// The text in `column` (`None` for `NULL`).
    fn text(&self, column: &str) -> Result<Option<String>, BoxError>;
}

impl<R: ReadRow + ?Sized> ReadRow for &R {
    fn int(&self, column: &str) -> Result<Option<i64>, BoxError> {
        (**self).int(column)
    }
    fn text(&self, column: &str) -> Result<Option<String>, BoxError> {
        (**self).text(column)
    }
}

/// One row read back: a migration's row, a repeatable's, or the layout row with the layout
/// it records.
enum Decoded {
    Row(Box<HistoryRow>),
    Repeatable(RepeatableRow),
    Layout(i64),
}

fn decode(row: &dyn ReadRow, table: &HistoryTable) -> Result<Decoded, Error> {
    let read_error = |column: &Column, e: BoxError| {
        Error::database(format!("reading column {} of history table {table}", column.name), e)
    };
    let int = |column: &Column| row.int(column.name).map_err(|e| read_error(column, e));
    let text = |column: &Column| row.text(column.name).map_err(|e| read_error(column, e));
    let version = int(&VERSION)?.unwrap_or_default();
    let bad = |message: String| Error::CorruptHistory { table: table.to_string(), version, message };
    let required_int = |column: &Column| int(column)?.ok_or_else(|| bad(format!("{} is NULL", column.name)));
    let required_text = |column: &Column| text(column)?.ok_or_else(|| bad(format!("{} is NULL", column.name)));
    let count = |column: &Column, value: i64| {
        u32::try_from(value).map_err(|_| bad(format!("{} is {value}, expected a count", column.name)))
    };
    let opt_count = |column: &Column| int(column)?.map(|value| count(column, value)).transpose();
    let state = required_text(&STATE)?;
    if version == LAYOUT_ROW_VERSION && state == LAYOUT_ROW_STATE {
        return Ok(Decoded::Layout(required_int(&STATEMENTS_TOTAL)?));
    }
    let millis = |value: i64| Duration::from_millis(u64::try_from(value).unwrap_or_default());
    if version < LAYOUT_ROW_VERSION {
        return Ok(Decoded::Repeatable(RepeatableRow {
            name: required_text(&NAME)?,
            checksum: required_text(&CHECKSUM)?,
            applied_at: SystemTime::UNIX_EPOCH + millis(int(&APPLIED_AT)?.unwrap_or_default()),
            execution_time: int(&EXECUTION_MS)?.map(millis),
            applied_by: text(&APPLIED_BY)?.unwrap_or_default(),
        }));
    }
    let phase = required_text(&PHASE)?;
    Ok(Decoded::Row(Box::new(HistoryRow {
        version: Version::new(version).ok_or_else(|| bad("version must be positive".to_owned()))?,
        name: required_text(&NAME)?,
        phase: Phase::parse(&phase).ok_or_else(|| bad(format!("unknown phase `{phase}`")))?,
        state: State::parse(&state).ok_or_else(|| bad(format!("unknown state `{state}`")))?,
        checksum: required_text(&CHECKSUM)?,
        down_checksum: text(&DOWN_CHECKSUM)?,
        rank: required_int(&APPLIED_RANK)?,
        statements_total: count(&STATEMENTS_TOTAL, required_int(&STATEMENTS_TOTAL)?)?,
        statements_done: count(&STATEMENTS_DONE, required_int(&STATEMENTS_DONE)?)?,
        statements: match text(&STATEMENTS)? {
            Some(encoded) => {
                StatementRecord::decode(&encoded).ok_or_else(|| bad("unreadable statements column".to_owned()))?
            }
            None => Vec::new(),
        },
        failed_statement: opt_count(&FAILED_STATEMENT)?,
        failed_line: opt_count(&FAILED_LINE)?,
        error: text(&ERROR)?,
        applied_at: SystemTime::UNIX_EPOCH + millis(int(&APPLIED_AT)?.unwrap_or_default()),
        execution_time: int(&EXECUTION_MS)?.map(millis),
        applied_by: text(&APPLIED_BY)?.unwrap_or_default(),
        note: text(&NOTE)?,
    })))
}

/// Builds a [`History`] from every row of the table, the layout row included, each read
/// by column name.
pub fn decode_history<R: ReadRow>(table: &HistoryTable, rows: impl IntoIterator<Item = R>) -> Result<History, Error> {
    let mut layout = None;
    let mut decoded = Vec::new();
    let mut repeatables = Vec::new();
    for row in rows {
        match decode(&row, table)? {
            Decoded::Row(row) => decoded.push(*row),
            Decoded::Repeatable(row) => repeatables.push(row),
            Decoded::Layout(found) => layout = Some(found),
        }
    }
    decoded.sort_by_key(|r| r.version);
    repeatables.sort_by(|a, b| a.name.cmp(&b.name));
    // A table without its layout row predates layouts: treat it as the first layout.
    Ok(History { layout: layout.unwrap_or(1), rows: decoded, repeatables })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A row held as text and integers by column name, as a driver would read it.
    #[derive(Default)]
    struct FakeRow {
        ints: HashMap<&'static str, i64>,
        texts: HashMap<&'static str, String>,
    }

    impl ReadRow for FakeRow {
        fn int(&self, column: &str) -> Result<Option<i64>, BoxError> {
            Ok(self.ints.get(column).copied())
        }
        fn text(&self, column: &str) -> Result<Option<String>, BoxError> {
            Ok(self.texts.get(column).cloned())
        }
    }

    /// The row a driver would read back after storing `values`.
    fn stored(values: &Assignments<'_>) -> FakeRow {
        let mut row = FakeRow::default();
        for (column, value) in values {
            match value {
                Value::Int(n) => {
                    row.ints.insert(column.name, *n);
                }
                Value::Text(text) => {
                    row.texts.insert(column.name, text.to_string());
                }
                Value::Now => {
                    row.ints.insert(column.name, 1_000);
                }
                Value::AppliedBy => {
                    row.texts.insert(column.name, "tester".to_owned());
                }
                Value::Elapsed => {
                    row.ints.insert(column.name, 7);
                }
                Value::Null => {}
            }
        }
        row
    }

    fn write() -> RowWrite {
        RowWrite {
            version: Version::new(2).unwrap(),
            name: "b".into(),
            phase: Phase::Contract,
            state: State::Running,
            checksum: "sha256:x".into(),
            down_checksum: Some("sha256:y".into()),
            rank: 2,
            statements_total: 3,
            statements_done: 1,
            statements: vec![
                StatementRecord { line: 1, hash: "aa".into() },
                StatementRecord { line: 4, hash: "bb".into() },
                StatementRecord { line: 9, hash: "cc".into() },
            ],
            execution_time: None,
            note: Some("force".into()),
        }
    }

    #[test]
    fn every_column_is_written_once_in_table_order() {
        let w = write();
        let values = w.values(Execution::AsRecorded);
        let names: Vec<&str> = values.iter().map(|(c, _)| c.name).collect();
        let all: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(names, all);
        let unique: std::collections::HashSet<&str> = all.iter().copied().collect();
        assert_eq!(unique.len(), COLUMNS.len(), "column names are unique");
        assert_eq!(values.iter().find(|(c, _)| *c == EXECUTION_MS).map(|(_, v)| v), Some(&Value::Null));
        let timed = w.values(Execution::ServerClock);
        assert_eq!(timed.iter().find(|(c, _)| *c == EXECUTION_MS).map(|(_, v)| v), Some(&Value::Elapsed));
        let measured = w.values(Execution::Measured(Duration::from_millis(42)));
        assert_eq!(measured.iter().find(|(c, _)| *c == EXECUTION_MS).map(|(_, v)| v), Some(&Value::Int(42)));
    }

    #[test]
    fn a_written_row_reads_back_the_same() {
        let table = HistoryTable::default();
        let layout = stored(&layout_row(1));
        let row = stored(&write().values(Execution::AsRecorded));
        let history = decode_history(&table, [&row, &layout]).unwrap();
        assert_eq!(history.layout, 1);
        let back = &history.rows[0];
        let w = write();
        assert_eq!(
            (back.version, &back.name, back.phase, back.state, &back.checksum, &back.down_checksum, back.rank),
            (w.version, &w.name, w.phase, w.state, &w.checksum, &w.down_checksum, w.rank)
        );
        assert_eq!((back.statements_total, back.statements_done), (3, 1));
        assert_eq!(back.statements, w.statements);
        assert_eq!(back.applied_at, SystemTime::UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!((back.applied_by.as_str(), back.note.as_deref()), ("tester", Some("force")));
        assert_eq!((back.failed_statement, back.failed_line, back.error.as_deref()), (None, None, None));
    }

    #[test]
    fn a_failure_update_reads_back_as_failed() {
        let table = HistoryTable::default();
        let w = write();
        let mut values = w.values(Execution::AsRecorded);
        for (column, value) in update::failed(State::Failed, 2, Some(4), "boom") {
            if let Some(slot) = values.iter_mut().find(|(c, _)| *c == column) {
                slot.1 = value;
            }
        }
        let history = decode_history(&table, [&stored(&values)]).unwrap();
        let row = &history.rows[0];
        assert_eq!(row.state, State::Failed);
        assert_eq!((row.statements_done, row.failed_statement, row.failed_line), (1, Some(2), Some(4)));
        assert_eq!(row.error.as_deref(), Some("boom"));
        assert_eq!(history.layout, 1, "no layout row: the first layout");
    }

    #[test]
    fn a_repeatable_row_reads_back_apart_from_the_versions() {
        let table = HistoryTable::default();
        let values = repeatable_values("views", "sha256:v", 2, Execution::Measured(Duration::from_millis(5)));
        let names: Vec<&str> = values.iter().map(|(c, _)| c.name).collect();
        assert_eq!(names, COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>(), "every column, in table order");
        let w = write();
        let history = decode_history(&table, [stored(&values), stored(&w.values(Execution::AsRecorded))]).unwrap();
        assert_eq!(history.rows.len(), 1, "versioned planning never sees it");
        assert_eq!(history.repeatables.len(), 1);
        let r = &history.repeatables[0];
        assert_eq!((r.name.as_str(), r.checksum.as_str()), ("views", "sha256:v"));
        assert_eq!(r.execution_time, Some(Duration::from_millis(5)));
    }

    #[test]
    fn corrupt_rows_are_reported() {
        let table = HistoryTable::default();
        let mut row = stored(&write().values(Execution::AsRecorded));
        row.texts.insert("state", "weird".into());
        let e = decode_history(&table, [&row]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "history table _migrator_history has an unreadable row for version 2: unknown state `weird`"
        );
        let mut row = stored(&write().values(Execution::AsRecorded));
        row.ints.insert("statements_done", -1);
        let e = decode_history(&table, [&row]).unwrap_err();
        assert!(e.to_string().ends_with("statements_done is -1, expected a count"), "{e}");
        let mut row = stored(&write().values(Execution::AsRecorded));
        row.texts.remove("checksum");
        let e = decode_history(&table, [&row]).unwrap_err();
        assert!(e.to_string().ends_with("checksum is NULL"), "{e}");
    }

    #[test]
    fn sql_fragments_name_every_column() {
        let defs = definitions(|c| match c.ty {
            ColumnType::BigInt => "BIGINT".into(),
            ColumnType::Int => "INT".into(),
            ColumnType::Timestamp => "TIMESTAMP".into(),
            _ => "TEXT".into(),
        });
        assert!(defs.starts_with("version BIGINT NOT NULL PRIMARY KEY,\n    name TEXT NOT NULL,"), "{defs}");
        assert!(defs.ends_with("note TEXT"), "{defs}");
        let list = select_list(|c| (c.ty == ColumnType::Timestamp).then(|| format!("ms({})", c.name)));
        assert!(list.contains(", ms(applied_at) AS applied_at, execution_ms,"), "{list}");
        assert_eq!(list.matches(", ").count(), COLUMNS.len() - 1);
        assert_eq!(names(&update::progress(3)), "statements_done, applied_at");
        assert!(pending_upgrades(1, UPGRADES).is_empty(), "layout 1 is the first");
        static STEPS: [LayoutStep; 2] = [LayoutStep { layout: 2, adds: &[NOTE] }, LayoutStep { layout: 3, adds: &[] }];
        assert_eq!(pending_upgrades(2, &STEPS).iter().map(|s| s.layout).collect::<Vec<_>>(), vec![3]);
    }
}
