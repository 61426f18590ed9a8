//! The current database as SQL statements, for `migrator squash` ([`Dump`]).
//!
//! The dump reads on a connection of its own, detached from the pool and closed after, with
//! an empty `sql_mode` (so `SHOW CREATE` prints backquoted names and every option),
//! `time_zone = '+00:00'` and `utf8mb4`, in one consistent-snapshot read-only transaction.
//! Its statements, in order:
//!
//! 1. `SET time_zone = '+00:00'` when a table has a `TIMESTAMP` column, so the values
//!    (printed in UTC) and defaults mean the same instants wherever they run;
//! 2. tables by name, as `SHOW CREATE TABLE` prints them (with `AUTO_INCREMENT=`, so the
//!    next id is the same) but without their foreign keys;
//! 3. rows: `INSERT`s listing their columns, ordered by primary key, generated columns left
//!    out, text quoted, binary values as hex, `BIT` as integers, `FLOAT` with every digit;
//! 4. the foreign keys, each `ALTER TABLE … ADD CONSTRAINT`, after every row, so cycles and
//!    row order never matter;
//! 5. functions and procedures (`SHOW CREATE`, without `DEFINER`), then views in dependency
//!    order (`SHOW CREATE VIEW` without `DEFINER`, and without `ALGORITHM` and `SQL
//!    SECURITY` when they are the defaults), then triggers in their action order (without
//!    `DEFINER`), after the rows so they do not fire on them.
//!
//! No statement names the database: qualifiers with its name are taken out of what `SHOW
//! CREATE` prints. Events, sequences, system-versioned tables and packages are refused with
//! [`Error::Unsupported`], naming each.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use migrator_core::driver::{Dump, DumpOptions, SchemaDump};
use migrator_core::split::{Token, TokenKind, tokenize};
use migrator_core::{Dialect, Error};
use sqlx::mysql::MySqlRow;
use sqlx::{Connection, MySqlConnection, Row};

use crate::conn::{db, simple};
use crate::driver::MySqlDriver;

const DATABASE: &str = "MySQL";
use migrator_core::driver::DUMP_INSTEAD as INSTEAD;
/// Rows per `INSERT`.
const ROWS_PER_INSERT: usize = 100;
const NOT_OURS: &str = "NOT LIKE '\\_migrator\\_%'";

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// Written unquoted (integers, decimals, floats).
    Number,
    /// Read as hex, written `X'…'`.
    Binary,
    /// Quoted text.
    Text,
}

impl Value {
    fn of(data_type: &str) -> Value {
        match data_type {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal" | "numeric" | "float"
            | "double" | "real" | "bit" => Value::Number,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "geometry" | "point"
            | "linestring" | "polygon" | "multipoint" | "multilinestring" | "multipolygon" | "geometrycollection"
            | "geomcollection" => Value::Binary,
            _ => Value::Text,
        }
    }

    /// The expression reading column `name` (quoted) of type `data_type` as text.
    fn read(data_type: &str, name: &str) -> String {
        match (Value::of(data_type), data_type) {
            (Value::Binary, _) => format!("HEX({name})"),
            (_, "bit") => format!("CAST(CAST({name} AS UNSIGNED) AS CHAR)"),
            // Every digit of the single-precision value (its own text rounds to 6 digits).
            (_, "float") => format!("CAST(CAST({name} AS DOUBLE) AS CHAR)"),
            _ => format!("CAST({name} AS CHAR)"),
        }
    }
}

/// A column of a table.
#[derive(Debug)]
struct Column {
    name: String,
    data_type: String,
    generated: bool,
    position: i64,
}

/// A table of the database.
#[derive(Debug, Default)]
struct Table {
    name: String,
    columns: Vec<Column>,
    primary_key: Vec<(i64, String)>,
}

/// `name` as a MySQL identifier.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A string literal (default `sql_mode`: backslash escapes), with the control characters
/// that have an escape escaped; a value with other control characters is written in hex.
fn literal(value: &str) -> String {
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\0' | '\u{1a}')) {
        let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
        return format!("_utf8mb4 X'{hex}'");
    }
    let mut out = String::from("'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '\u{1a}' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A cell as text: information_schema and `SHOW` declare some text columns binary.
fn cell(row: &MySqlRow, index: usize) -> Result<Option<String>, Error> {
    match row.try_get::<Option<String>, _>(index) {
        Ok(value) => Ok(value),
        Err(_) => {
            let bytes: Option<Vec<u8>> = row.try_get(index).map_err(|e| db("reading the database's catalog", e))?;
            Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
        }
    }
}

fn text(row: &MySqlRow, index: usize) -> Result<String, Error> {
    Ok(cell(row, index)?.unwrap_or_default())
}

fn int(row: &MySqlRow, index: usize) -> Result<i64, Error> {
    let value = text(row, index)?;
    value.parse().map_err(|e| Error::database(format!("reading the database's catalog (`{value}` is no integer)"), e))
}

/// The rows of one query's result.
fn rows(results: &[Vec<MySqlRow>], index: usize) -> &[MySqlRow] {
    results.get(index).map(Vec::as_slice).unwrap_or_default()
}

/// Significant tokens of `sql` (no whitespace or comments); `None` when it cannot be lexed.
fn significant(sql: &str) -> Option<Vec<Token>> {
    let tokens = tokenize(sql, Dialect::MySql).ok()?;
    Some(tokens.into_iter().filter(|t| !t.kind.is_trivia()).collect())
}

/// An identifier token's name (backquotes taken off).
fn name_of(token: &Token, sql: &str) -> String {
    let text = token.text(sql);
    match token.kind {
        TokenKind::QuotedIdent => text.get(1..text.len().saturating_sub(1)).unwrap_or(text).replace("``", "`"),
        _ => text.to_owned(),
    }
}

fn is_word(token: Option<&Token>, sql: &str, word: &str) -> bool {
    token.is_some_and(|t| t.kind == TokenKind::Word && t.text(sql).eq_ignore_ascii_case(word))
}

fn is_punct(token: Option<&Token>, sql: &str, punct: &str) -> bool {
    token.is_some_and(|t| t.kind == TokenKind::Punct && t.text(sql) == punct)
}

/// `sql` without the qualifier `database.` before names (quoted or not, never inside
/// strings or comments).
fn unqualified(sql: &str, database: &str) -> String {
    let Some(tokens) = significant(sql) else { return sql.to_owned() };
    let mut cut = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| tokens.get(p));
        if matches!(token.kind, TokenKind::Word | TokenKind::QuotedIdent)
            && name_of(token, sql) == database
            && is_punct(tokens.get(i + 1), sql, ".")
            && !is_punct(previous, sql, ".")
            && let Some(dot) = tokens.get(i + 1)
        {
            cut.push(token.range.start..dot.range.end);
        }
    }
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for range in cut {
        out.push_str(sql.get(at..range.start).unwrap_or(""));
        at = range.end;
    }
    out.push_str(sql.get(at..).unwrap_or(""));
    out
}

/// A `CREATE [ALGORITHM=…] [DEFINER=…] [SQL SECURITY …] {VIEW|FUNCTION|…}` statement
/// without its definer, and without the view options that are the defaults.
fn without_definer(sql: &str) -> String {
    let Some(tokens) = significant(sql) else { return sql.to_owned() };
    if !is_word(tokens.first(), sql, "create") {
        return sql.to_owned();
    }
    let mut kept = Vec::new();
    let mut i = 1;
    let rest = loop {
        let Some(token) = tokens.get(i) else { return sql.to_owned() };
        let word = token.text(sql).to_ascii_lowercase();
        match word.as_str() {
            "algorithm" if is_punct(tokens.get(i + 1), sql, "=") => {
                let value = tokens.get(i + 2).map(|t| t.text(sql)).unwrap_or("");
                if !value.eq_ignore_ascii_case("undefined") {
                    kept.push(format!("ALGORITHM={value}"));
                }
                i += 3;
            }
            "definer" if is_punct(tokens.get(i + 1), sql, "=") => {
                i += 2;
                if is_word(tokens.get(i), sql, "current_user") {
                    i += 1;
                    if is_punct(tokens.get(i), sql, "(") && is_punct(tokens.get(i + 1), sql, ")") {
                        i += 2;
                    }
                } else {
                    // user@host: the user, `@`, the host (each quoted or not).
                    i += 1;
                    if is_punct(tokens.get(i), sql, "@") {
                        i += 2;
                    }
                }
            }
            "sql" if is_word(tokens.get(i + 1), sql, "security") => {
                let value = tokens.get(i + 2).map(|t| t.text(sql)).unwrap_or("");
                if !value.eq_ignore_ascii_case("definer") {
                    kept.push(format!("SQL SECURITY {}", value.to_ascii_uppercase()));
                }
                i += 3;
            }
            _ => break token.range.start,
        }
    };
    kept.push(sql.get(rest..).unwrap_or("").to_owned());
    format!("CREATE {}", kept.join(" "))
}

/// A trigger's statement without `FOLLOWS`/`PRECEDES` (the triggers are created in their
/// action order, which gives the same order without naming one another).
fn without_order(sql: &str) -> String {
    let Some(tokens) = significant(sql) else { return sql.to_owned() };
    let found = tokens.windows(5).find(|w| {
        let at = |i: usize| w.get(i);
        is_word(at(0), sql, "for")
            && is_word(at(1), sql, "each")
            && is_word(at(2), sql, "row")
            && (is_word(at(3), sql, "follows") || is_word(at(3), sql, "precedes"))
    });
    match found.and_then(|w| Some((w.get(3)?, w.get(4)?))) {
        Some((clause, name)) => format!(
            "{}{}",
            sql.get(..clause.range.start).unwrap_or(""),
            sql.get(name.range.end..).unwrap_or("").trim_start()
        ),
        None => sql.to_owned(),
    }
}

/// `SHOW CREATE TABLE`'s statement without its foreign keys, and the foreign keys.
fn split_foreign_keys(create: &str) -> (String, Vec<String>) {
    let Some(tokens) = significant(create) else { return (create.to_owned(), Vec::new()) };
    let Some(open) = tokens.iter().position(|t| is_punct(Some(t), create, "(")) else {
        return (create.to_owned(), Vec::new());
    };
    let mut depth = 0usize;
    let mut elements: Vec<(usize, usize)> = Vec::new();
    let mut start = open + 1;
    let mut close = None;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if is_punct(Some(token), create, "(") {
            depth += 1;
        } else if is_punct(Some(token), create, ")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                elements.push((start, i));
                close = Some(i);
                break;
            }
        } else if depth == 1 && is_punct(Some(token), create, ",") {
            elements.push((start, i));
            start = i + 1;
        }
    }
    let (Some(open_token), Some(close_token)) = (tokens.get(open), close.and_then(|c| tokens.get(c))) else {
        return (create.to_owned(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut foreign = Vec::new();
    for (first, end) in elements {
        // From separator to separator, so comments in an element stay in it (MySQL 8 prints
        // `/*!80023 INVISIBLE */` after a column).
        let (Some(head), Some(before), Some(after)) =
            (tokens.get(first), first.checked_sub(1).and_then(|b| tokens.get(b)), tokens.get(end))
        else {
            continue;
        };
        if first >= end {
            continue;
        }
        let text = create.get(before.range.end..after.range.start).unwrap_or("").trim().to_owned();
        let key_at = if is_word(Some(head), create, "constraint") {
            if is_word(tokens.get(first + 1), create, "foreign") { first + 1 } else { first + 2 }
        } else {
            first
        };
        if is_word(tokens.get(key_at), create, "foreign") && is_word(tokens.get(key_at + 1), create, "key") {
            foreign.push(text);
        } else {
            kept.push(text);
        }
    }
    let head = create.get(..open_token.range.end).unwrap_or("");
    let tail = create.get(close_token.range.start..).unwrap_or("");
    (format!("{head}\n  {}\n{tail}", kept.join(",\n  ")), foreign)
}

/// The views (by name) a view's definition names: its backquoted names that are views.
fn views_named(definition: &str, views: &BTreeSet<String>, own: &str) -> Vec<String> {
    let Some(tokens) = significant(definition) else { return Vec::new() };
    let mut named: Vec<String> = tokens
        .iter()
        .filter(|t| t.kind == TokenKind::QuotedIdent)
        .map(|t| name_of(t, definition))
        .filter(|n| n != own && views.contains(n))
        .collect();
    named.sort();
    named.dedup();
    named
}

/// Views in an order where each comes after the views it names (by name otherwise).
fn view_order(views: &BTreeMap<String, (String, Vec<String>)>) -> Result<Vec<&str>, Error> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < views.len() {
        let next = views.iter().find(|(name, (_, needs))| {
            !done.contains(name.as_str()) && needs.iter().all(|n| done.contains(n.as_str()))
        });
        let Some((name, _)) = next else {
            let left: Vec<&str> = views.keys().map(String::as_str).filter(|v| !done.contains(v)).collect();
            return Err(Error::Unsupported {
                database: DATABASE,
                what: format!("order the views {} for a squash migration: they name each other", left.join(", ")),
                instead: INSTEAD.to_owned(),
            });
        };
        done.insert(name);
        order.push(name.as_str());
    }
    Ok(order)
}

/// Runs `sql` on the dump's connection.
async fn run(conn: &mut MySqlConnection, sql: Vec<String>, doing: &str) -> Result<Vec<Vec<MySqlRow>>, Error> {
    if sql.is_empty() {
        return Ok(Vec::new());
    }
    simple(conn, sql.join(";\n")).await.map_err(|e| db(doing.to_owned(), e.error))
}

/// `INSERT`s of a table's rows, [`ROWS_PER_INSERT`] at a time.
fn inserts(table: &Table, columns: &[&Column], rows: &[MySqlRow]) -> Result<Vec<String>, Error> {
    let list = columns.iter().map(|c| ident(&c.name)).collect::<Vec<_>>().join(", ");
    let mut statements = Vec::new();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len());
        for row in chunk {
            let mut rendered = Vec::with_capacity(columns.len());
            for (index, column) in columns.iter().enumerate() {
                rendered.push(match (cell(row, index)?, Value::of(&column.data_type)) {
                    (None, _) => "NULL".to_owned(),
                    (Some(value), Value::Number) => value,
                    (Some(value), Value::Binary) => format!("X'{value}'"),
                    (Some(value), Value::Text) => literal(&value),
                });
            }
            values.push(format!("  ({})", rendered.join(", ")));
        }
        statements.push(format!("INSERT INTO {} ({list}) VALUES\n{}", ident(&table.name), values.join(",\n")));
    }
    Ok(statements)
}

/// The query reading a table's rows: each insertable column as text, in a fixed order.
fn select_rows(table: &Table, columns: &[&Column]) -> String {
    let reads: Vec<String> = columns.iter().map(|c| Value::read(&c.data_type, &ident(&c.name))).collect();
    let order = if table.primary_key.is_empty() {
        reads.iter().map(|r| format!("CAST({r} AS BINARY)")).collect::<Vec<_>>()
    } else {
        table.primary_key.iter().map(|(_, c)| ident(c)).collect()
    };
    format!("SELECT {} FROM {} ORDER BY {}", reads.join(", "), ident(&table.name), order.join(", "))
}

#[async_trait]
impl Dump for MySqlDriver {
    async fn dump(&self, options: &DumpOptions) -> Result<SchemaDump, Error> {
        let mut conn = self.pool().acquire().await.map_err(|e| db("connecting to MySQL", e))?.detach();
        let dump = dump(&mut conn, options).await;
        let _ = conn.close().await;
        dump
    }
}

async fn dump(conn: &mut MySqlConnection, options: &DumpOptions) -> Result<SchemaDump, Error> {
    let catalog = vec![
        "SET NAMES utf8mb4".to_owned(),
        "SET SESSION sql_mode = '', SESSION time_zone = '+00:00'".to_owned(),
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY".to_owned(),
        "SELECT DATABASE()".to_owned(),
        format!(
            "SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() \
             UNION ALL SELECT CONCAT(LOWER(TABLE_TYPE), ' ', TABLE_NAME) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE NOT IN ('BASE TABLE', 'VIEW') AND TABLE_NAME {NOT_OURS} \
             UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME) FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE NOT IN ('FUNCTION', 'PROCEDURE')"
        ),
        format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME {NOT_OURS}"
        ),
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IF(IFNULL(GENERATION_EXPRESSION, '') <> '', 'g', ''), \
         CAST(ORDINAL_POSITION AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
            .to_owned(),
        "SELECT TABLE_NAME, COLUMN_NAME, CAST(SEQ_IN_INDEX AS CHAR) FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'PRIMARY'"
            .to_owned(),
        "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()".to_owned(),
        "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() \
         AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE')"
            .to_owned(),
        format!(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, CAST(ACTION_ORDER AS CHAR) \
             FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE {NOT_OURS}"
        ),
    ];
    let read = run(conn, catalog, "reading the database's catalog").await?;
    let results = read.get(3..).unwrap_or_default();
    let Some(database) = rows(results, 0).first().map(|r| cell(r, 0)).transpose()?.flatten() else {
        return Err(Error::Misconfigured {
            reason: "it has no database: name one in the URL (mysql://user@host/database)".to_owned(),
        });
    };
    let refused = rows(results, 1).iter().map(|r| text(r, 0)).collect::<Result<Vec<_>, _>>()?;
    if !refused.is_empty() {
        return Err(Error::Unsupported {
            database: DATABASE,
            what: format!("write {} into a squash migration", refused.join(", ")),
            instead: INSTEAD.to_owned(),
        });
    }
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in rows(results, 2) {
        let name = text(row, 0)?;
        tables.insert(name.clone(), Table { name, ..Table::default() });
    }
    let mut timestamps = false;
    for row in rows(results, 3) {
        if let Some(table) = tables.get_mut(&text(row, 0)?) {
            let data_type = text(row, 2)?.to_ascii_lowercase();
            timestamps |= data_type == "timestamp";
            table.columns.push(Column {
                name: text(row, 1)?,
                data_type,
                generated: text(row, 3)? == "g",
                position: int(row, 4)?,
            });
        }
    }
    for row in rows(results, 4) {
        if let Some(table) = tables.get_mut(&text(row, 0)?) {
            table.primary_key.push((int(row, 2)?, text(row, 1)?));
        }
    }
    for table in tables.values_mut() {
        table.columns.sort_by_key(|c| c.position);
        table.primary_key.sort();
    }
    let views: BTreeSet<String> = rows(results, 5).iter().map(|r| text(r, 0)).collect::<Result<_, _>>()?;
    let mut routines: Vec<(String, String)> =
        rows(results, 6).iter().map(|r| Ok((text(r, 1)?, text(r, 0)?))).collect::<Result<_, Error>>()?;
    routines.sort();
    let mut triggers: Vec<(String, String, String, i64, String)> = rows(results, 7)
        .iter()
        .map(|r| Ok((text(r, 1)?, text(r, 2)?, text(r, 3)?, int(r, 4)?, text(r, 0)?)))
        .collect::<Result<_, Error>>()?;
    triggers.sort();

    // Definitions and row counts, in one round trip.
    let mut shows = Vec::new();
    for table in tables.values() {
        shows.push(format!("SHOW CREATE TABLE {}", ident(&table.name)));
        shows.push(format!("SELECT CAST(COUNT(*) AS CHAR) FROM {}", ident(&table.name)));
    }
    for view in &views {
        shows.push(format!("SHOW CREATE VIEW {}", ident(view)));
    }
    for (name, kind) in &routines {
        shows.push(format!("SHOW CREATE {kind} {}", ident(name)));
    }
    for (.., name) in &triggers {
        shows.push(format!("SHOW CREATE TRIGGER {}", ident(name)));
    }
    let shown = run(conn, shows, "reading the database's definitions").await?;
    let mut at = 0;
    let mut next = |column: usize| -> Result<Option<String>, Error> {
        let value = rows(&shown, at).first().map(|r| cell(r, column)).transpose()?.flatten();
        at += 1;
        Ok(value)
    };

    let mut creates = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut counts = Vec::new();
    for table in tables.values() {
        let create = next(1)?.unwrap_or_default();
        let (create, foreign) = split_foreign_keys(&unqualified(&create, &database));
        creates.push(create);
        let alter = format!("ALTER TABLE {} ADD ", ident(&table.name));
        foreign_keys.extend(foreign.into_iter().map(|fk| format!("{alter}{fk}")));
        counts.push((int_of(next(0)?)?, table));
    }
    let mut defined: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for view in &views {
        let create = next(1)?.unwrap_or_default();
        let needs = views_named(&create, &views, view);
        defined.insert(view.clone(), (unqualified(&without_definer(&create), &database), needs));
    }
    let mut code = Vec::new();
    for (name, kind) in &routines {
        let Some(create) = next(2)? else {
            return Err(Error::Unsupported {
                database: DATABASE,
                what: format!("read the definition of {} {name}", kind.to_ascii_lowercase()),
                instead: "dump as a user allowed to read it (SHOW CREATE needs the routine's privileges)".to_owned(),
            });
        };
        code.push(unqualified(&without_definer(&create), &database));
    }
    let mut trigger_statements = Vec::new();
    for (.., name) in &triggers {
        let create = next(2)?.unwrap_or_default();
        if create.is_empty() {
            return Err(Error::Unsupported {
                database: DATABASE,
                what: format!("read the definition of trigger {name}"),
                instead: "dump as a user allowed to read it (SHOW CREATE TRIGGER needs the TRIGGER privilege)"
                    .to_owned(),
            });
        }
        trigger_statements.push(unqualified(&without_order(&without_definer(&create)), &database));
    }

    // A data load is refused before it is read.
    options.check_rows(
        DATABASE,
        counts.iter().map(|(count, table)| (table.name.as_str(), u64::try_from(*count).unwrap_or_default())),
    )?;
    let readers: Vec<(&Table, Vec<&Column>)> = counts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(_, table)| (*table, table.columns.iter().filter(|c| !c.generated).collect()))
        .collect();
    let selects = readers.iter().map(|(table, columns)| select_rows(table, columns)).collect();
    let data = run(conn, selects, "reading rows").await?;
    let mut carried = 0;
    let mut inserted = Vec::new();
    for (index, (table, columns)) in readers.iter().enumerate() {
        let found = rows(&data, index);
        carried += found.len();
        inserted.extend(inserts(table, columns, found)?);
    }
    let _ = run(conn, vec!["COMMIT".to_owned()], "ending the read").await;

    let mut statements = Vec::new();
    if timestamps {
        statements.push("SET time_zone = '+00:00'".to_owned());
    }
    statements.extend(creates);
    statements.extend(inserted);
    statements.extend(foreign_keys);
    statements.extend(code);
    for view in view_order(&defined)? {
        if let Some((create, _)) = defined.get(view) {
            statements.push(create.clone());
        }
    }
    statements.extend(trigger_statements);
    let statements = statements.into_iter().map(|s| s.trim().to_owned()).collect();
    Ok(SchemaDump::new(
        statements,
        carried,
        vec![
            "grants, and the definers of views, routines and triggers (they belong to the user who applies the \
             migration)"
                .to_owned(),
            "the database itself (its name, character set and collation): each table states its own".to_owned(),
        ],
    ))
}

fn int_of(value: Option<String>) -> Result<i64, Error> {
    let value = value.unwrap_or_default();
    value.parse().map_err(|e| Error::database(format!("counting rows (`{value}` is no integer)"), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrator_core::split::split;

    #[test]
    fn foreign_keys_leave_create_table() {
        let create = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n  \
                      `note` varchar(20) DEFAULT 'a,(b' CHECK (`note` <> ')'),\n  PRIMARY KEY (`id`),\n  \
                      KEY `fk` (`p`),\n  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `t` (`id`) ON DELETE CASCADE,\n  \
                      CONSTRAINT `c` CHECK (`id` > 0) /*!80016 NOT ENFORCED */\n) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4";
        let (kept, foreign) = split_foreign_keys(create);
        assert_eq!(
            kept,
            "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n  \
             `note` varchar(20) DEFAULT 'a,(b' CHECK (`note` <> ')'),\n  PRIMARY KEY (`id`),\n  KEY `fk` (`p`),\n  \
             CONSTRAINT `c` CHECK (`id` > 0) /*!80016 NOT ENFORCED */\n) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4"
        );
        assert_eq!(foreign, ["CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `t` (`id`) ON DELETE CASCADE"]);
    }

    #[test]
    fn definers_and_default_view_options_go() {
        assert_eq!(
            without_definer(
                "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `1`"
            ),
            "CREATE VIEW `v` AS select 1 AS `1`"
        );
        assert_eq!(
            without_definer("CREATE ALGORITHM=MERGE DEFINER=`a``b`@`%` SQL SECURITY INVOKER VIEW `v` AS select 1"),
            "CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW `v` AS select 1"
        );
        assert_eq!(
            without_definer(
                "CREATE DEFINER='app'@'localhost' TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1"
            ),
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1"
        );
        assert_eq!(
            without_definer("CREATE DEFINER=CURRENT_USER() FUNCTION `f`() RETURNS int RETURN 1"),
            "CREATE FUNCTION `f`() RETURNS int RETURN 1"
        );
    }

    #[test]
    fn triggers_do_not_name_the_trigger_they_follow() {
        assert_eq!(
            without_order("CREATE TRIGGER b AFTER INSERT ON t FOR EACH ROW PRECEDES `a` INSERT INTO x VALUES (1)"),
            "CREATE TRIGGER b AFTER INSERT ON t FOR EACH ROW INSERT INTO x VALUES (1)"
        );
        assert_eq!(
            without_order("CREATE TRIGGER b AFTER INSERT ON t FOR EACH ROW follows a BEGIN END"),
            "CREATE TRIGGER b AFTER INSERT ON t FOR EACH ROW BEGIN END"
        );
        let plain = "CREATE TRIGGER b AFTER INSERT ON t FOR EACH ROW SET @follows = 1";
        assert_eq!(without_order(plain), plain);
    }

    #[test]
    fn the_database_qualifier_goes_outside_strings() {
        assert_eq!(
            unqualified(
                "select `app`.`t`.`id` from `app`.`t` join app.u where x = 'app.t' and `myapp`.v.app = 1",
                "app"
            ),
            "select `t`.`id` from `t` join u where x = 'app.t' and `myapp`.v.app = 1"
        );
    }

    #[test]
    fn views_follow_the_views_they_name() {
        let views: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
        assert_eq!(views_named("select `c`.`x` from `c` join `t` join `a`", &views, "a"), ["c"]);
        let defined: BTreeMap<String, (String, Vec<String>)> = [
            ("a".to_owned(), (String::new(), vec!["c".to_owned()])),
            ("b".to_owned(), (String::new(), vec![])),
            ("c".to_owned(), (String::new(), vec!["b".to_owned()])),
        ]
        .into();
        assert_eq!(view_order(&defined).unwrap(), ["b", "c", "a"]);
        let circle: BTreeMap<String, (String, Vec<String>)> = [
            ("a".to_owned(), (String::new(), vec!["b".to_owned()])),
            ("b".to_owned(), (String::new(), vec!["a".to_owned()])),
        ]
        .into();
        assert!(view_order(&circle).unwrap_err().to_string().contains("the views a, b"));
    }

    #[test]
    fn the_splitter_gives_back_the_statements() {
        let statements = [
            "CREATE FUNCTION `f`(x INT) RETURNS int(11)\n    DETERMINISTIC\nBEGIN DECLARE y INT; SET y = x + 1; RETURN y; END"
                .to_owned(),
            "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW BEGIN IF NEW.a <> OLD.a THEN SET NEW.b = NOW(); END IF; END"
                .to_owned(),
            format!(
                "INSERT INTO `t` (`a`, `b`) VALUES\n  ({}, {}),\n  (NULL, X'00FF')",
                literal("x;y'z\\"),
                literal("line\n#not a comment; -- nor this\u{1}")
            ),
            "CREATE PROCEDURE `p`() BEGIN SELECT 1; SELECT 2; END".to_owned(),
        ];
        let text = statements.join(";\n");
        let split = split(&text, Dialect::MySql).unwrap();
        let back: Vec<&str> = split.iter().map(|s| s.text(&text)).collect();
        assert_eq!(back, statements);
    }

    #[test]
    fn literals_escape_what_needs_it() {
        assert_eq!(literal("it's a \\ 😀"), "'it''s a \\\\ 😀'");
        assert_eq!(literal("a\nb\r\t\0\u{1a}"), "'a\\nb\\r\\t\\0\\Z'");
        assert_eq!(literal("bell\u{7}"), "_utf8mb4 X'62656C6C07'");
    }
}
