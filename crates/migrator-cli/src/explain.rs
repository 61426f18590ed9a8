//! `migrator plan --explain`: what each statement of the pending migrations does to its
//! table (core's `lint::explain` decides), with the table's size from the server's
//! statistics. This module only gathers and prints.

use migrator_core::driver::{Body, Driver, TableSize};
use migrator_core::lint::explain::{Effect, explain};
use migrator_core::{Error, Migration};
use serde::Serialize;

/// One statement explained, with its table's size when the table exists already.
#[derive(Debug)]
pub(crate) struct Explained {
    pub(crate) effect: Effect,
    /// The statement's first line.
    pub(crate) snippet: String,
    pub(crate) size: Option<TableSize>,
}

/// The statements of `m`'s up script explained (none for Rust code).
pub(crate) fn statements<C: ?Sized>(m: &dyn Migration<C>) -> Result<Vec<Explained>, Error> {
    let Body::Sql(script) = m.up().body else { return Ok(Vec::new()) };
    let statements = script.statements()?;
    Ok(explain(script.text(), statements, script.dialect())
        .into_iter()
        .zip(statements)
        .map(|(effect, statement)| Explained { effect, snippet: script.snippet(statement), size: None })
        .collect())
}

/// Fills in the sizes of the tables `explained` names, in one look at the server's
/// statistics (tables a pending migration creates have none yet).
pub(crate) async fn add_sizes<D: Driver>(driver: &D, explained: &mut [Vec<Explained>]) -> Result<(), Error> {
    let mut names: Vec<String> = explained.iter().flatten().filter_map(|e| e.effect.table.clone()).collect::<Vec<_>>();
    names.sort();
    names.dedup();
    let sizes = driver.table_sizes(&names).await?;
    for e in explained.iter_mut().flatten() {
        e.size = sizes.iter().find(|s| Some(&s.name) == e.effect.table.as_ref()).cloned();
    }
    Ok(())
}

/// One line for a person: `line 3: ACCESS EXCLUSIVE on orders (12000 rows, 1.2 MB): rewrites
/// the table; blocks reads and writes`.
pub(crate) fn human(e: &Explained) -> String {
    let effect = &e.effect;
    let mut line = format!("line {}: ", effect.line);
    match (effect.lock, &effect.table) {
        (Some(lock), Some(table)) => line.push_str(&format!("{lock} on {table}")),
        (Some(lock), None) => line.push_str(lock),
        (None, Some(table)) => line.push_str(&format!("no lock worth naming on {table}")),
        (None, None) => line.push_str("no table lock"),
    }
    if let Some(size) = &e.size {
        let rows =
            size.estimated_rows.map_or_else(|| "rows unknown (never analyzed)".to_owned(), |r| format!("~{r} rows"));
        let bytes = size.bytes.map(|b| format!(", {}", bytes(b))).unwrap_or_default();
        line.push_str(&format!(" ({rows}{bytes})"));
    }
    let mut costs = Vec::new();
    if effect.rewrites {
        costs.push("rewrites the table");
    } else if effect.scans {
        costs.push("scans the table");
    }
    if effect.changes_rows {
        costs.push("changes rows");
    }
    match (effect.blocks_reads, effect.blocks_writes) {
        (true, _) => costs.push("blocks reads and writes"),
        (false, true) => costs.push("blocks writes"),
        _ => {}
    }
    if !costs.is_empty() {
        line.push_str(&format!(": {}", costs.join("; ")));
    }
    if let Some(note) = effect.note {
        line.push_str(&format!(" ({note})"));
    }
    line
}

fn bytes(n: i64) -> String {
    let n = n as f64;
    match n {
        _ if n >= 1e9 => format!("{:.1} GB", n / 1e9),
        _ if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        _ if n >= 1e3 => format!("{:.1} kB", n / 1e3),
        _ => format!("{n} bytes"),
    }
}

/// One statement in `plan --explain --format json`.
#[derive(Debug, Serialize)]
pub(crate) struct ExplainJson {
    line: usize,
    sql: String,
    table: Option<String>,
    /// PostgreSQL's lock level, MySQL's algorithm and lock, SQLite's write lock.
    lock: Option<&'static str>,
    blocks_reads: bool,
    blocks_writes: bool,
    rewrites: bool,
    scans: bool,
    changes_rows: bool,
    /// The server's estimate; `null` without one (the table does not exist yet, was never
    /// analyzed, or the database keeps none: SQLite).
    estimated_rows: Option<i64>,
    size_bytes: Option<i64>,
    note: Option<&'static str>,
}

impl From<&Explained> for ExplainJson {
    fn from(e: &Explained) -> Self {
        let effect = &e.effect;
        ExplainJson {
            line: effect.line,
            sql: e.snippet.clone(),
            table: effect.table.clone(),
            lock: effect.lock,
            blocks_reads: effect.blocks_reads,
            blocks_writes: effect.blocks_writes,
            rewrites: effect.rewrites,
            scans: effect.scans,
            changes_rows: effect.changes_rows,
            estimated_rows: e.size.as_ref().and_then(|s| s.estimated_rows),
            size_bytes: e.size.as_ref().and_then(|s| s.bytes),
            note: effect.note,
        }
    }
}
