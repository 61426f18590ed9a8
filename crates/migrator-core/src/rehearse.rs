//! Rehearsing migrations against real-sized data: the contract a backend implements
//! ([`Rehearse`], [`Watch`]) and the report ([`Rehearsal`]).
//!
//! A rehearsal runs on a scratch database the caller made (`migrator rehearse` creates one
//! on the server it is given; the test kits use a fresh test database). The runner
//! ([`crate::Migrator::rehearse`]) applies the migrations before the rehearsed ones, asks
//! the backend to fill the tables the rehearsed migrations touch ([`Rehearse::fill`]), and
//! applies each rehearsed migration while the backend's [`Watch`] runs a workload of
//! single-row writes and reads on those tables and samples the server's lock views. The
//! backend measures; the verdict is [`crate::plan::judge`]'s.
//!
//! Which tables a migration touches is the linter's answer
//! ([`crate::lint::explain::explain`]): Rust-code migrations touch none that it can see.
//!
//! What a backend's watch shares is here too, without a database or a runtime: the
//! workload's statements ([`Workload`]) and its timed loop ([`run_workload`] over a
//! [`Session`]), the sampler's loop ([`run_sampler`] over a [`Sampler`]) and what it saw
//! ([`Seen`]), the stop flag ([`Stop`]), joining a task ([`joined`]) and the bookkeeping
//! that turns it all into a [`Measured`] ([`measured`], [`rewritten`]). The backends keep
//! the SQL, their connections and the spawning.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::driver::Driver;
use crate::error::{BoxError, Error};
pub use crate::plan::{HeldLock, Judgement, Measured, SeenWaiting, Thresholds, Verdict};
use crate::version::Version;

/// A table filled for a rehearsal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// The table, as the migration names it, or a parent table its foreign keys reference.
    pub table: String,
    /// Rows in it after filling.
    pub rows: u64,
}

/// A backend that can rehearse: fill tables with generated rows and watch a migration.
#[async_trait]
pub trait Rehearse: Driver {
    /// Fills each of `tables` that exists (names as a migration writes them), and every
    /// table their foreign keys reference, with `rows` generated rows that satisfy the
    /// columns' types, `NOT NULL`, unique and primary keys and foreign keys (parents first,
    /// as [`crate::plan::fill_order`] orders them), generated on the server. Tables that do
    /// not exist yet are left out.
    async fn fill(&self, tables: &[String], rows: u64) -> Result<Vec<Filled>, Error>;

    /// Starts watching `tables` (those that exist): a workload writing to and reading from
    /// them on connections of its own, a sampler of the server's lock views on another, and
    /// whatever the backend needs to tell a rewrite afterwards.
    async fn watch(&self, tables: &[String]) -> Result<Box<dyn Watch>, Error>;
}

/// A running watch ([`Rehearse::watch`]).
#[async_trait]
pub trait Watch: Send {
    /// Stops the workload and the sampler, and says what they saw: stalls, locks, rewrites
    /// and the rows in the tables now ([`Measured::duration`] is left for the caller).
    async fn finish(self: Box<Self>) -> Result<Measured, Error>;
}

/// What a lock sampler saw, as continuous sightings: a `(table, mode)` seen in consecutive
/// samples is one sighting, from its first sample to its last; one missing from a sample ends
/// it. [`Sightings::longest`] gives each key's longest sighting (so two short waits a second
/// apart read as short, not as a second).
#[derive(Debug, Default)]
pub struct Sightings {
    open: HashMap<(String, String), (Instant, Instant)>,
    longest: HashMap<(String, String), Duration>,
}

impl Sightings {
    /// Records one sample taken at `now` that saw `keys` (`(table, mode)`).
    pub fn sample(&mut self, keys: impl IntoIterator<Item = (String, String)>, now: Instant) {
        let keys: Vec<(String, String)> = keys.into_iter().collect();
        let ended: Vec<(String, String)> = self.open.keys().filter(|k| !keys.contains(k)).cloned().collect();
        for key in ended {
            if let Some((first, last)) = self.open.remove(&key) {
                self.close(key, last - first);
            }
        }
        for key in keys {
            self.open.entry(key).and_modify(|(_, last)| *last = now).or_insert((now, now));
        }
    }

    fn close(&mut self, key: (String, String), span: Duration) {
        let longest = self.longest.entry(key).or_default();
        *longest = (*longest).max(span);
    }

    /// Each key seen, with its longest sighting, sorted by table and mode.
    pub fn longest(mut self) -> Vec<(String, String, Duration)> {
        for (key, (first, last)) in std::mem::take(&mut self.open) {
            self.close(key, last - first);
        }
        let mut all: Vec<(String, String, Duration)> =
            self.longest.into_iter().map(|((table, mode), span)| (table, mode, span)).collect();
        all.sort();
        all
    }
}

/// How often a watch's sampler samples, and how long an idle workload pauses.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// How long a watch's `finish` waits for the workload's last statements.
pub const FINISH_WAIT: Duration = Duration::from_secs(30);

/// A workload statement: its SQL and whether it has `{n}` (a row number 1 to 1000, in turn)
/// to put in.
pub type Statement = (String, bool);

/// A watch's workload: single-row writes and reads, run round-robin on a connection each.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Workload {
    /// The writes.
    pub writes: Vec<Statement>,
    /// The reads.
    pub reads: Vec<Statement>,
}

impl Workload {
    /// Adds the statements on the table `table` (quoted): on row `{n}` by `key` (quoted),
    /// its single-column primary key, if it has one; else on one row through `column`
    /// (quoted), its first column that is not generated, with `one_row` (the clause that
    /// makes an `UPDATE` touch one row); else (no such column) a read only.
    pub fn add(&mut self, table: &str, key: Option<&str>, column: Option<&str>, one_row: &str) {
        match (key, column) {
            (Some(k), _) => {
                self.writes.push((format!("UPDATE {table} SET {k} = {k} WHERE {k} = '{{n}}'"), true));
                self.reads.push((format!("SELECT * FROM {table} WHERE {k} = '{{n}}'"), true));
            }
            (None, Some(c)) => {
                self.writes.push((format!("UPDATE {table} SET {c} = {c} {one_row}"), false));
                self.reads.push((format!("SELECT * FROM {table} LIMIT 1"), false));
            }
            (None, None) => self.reads.push((format!("SELECT * FROM {table} LIMIT 1"), false)),
        }
    }
}

/// The longest latency and the number of operations of one kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Latencies {
    /// The longest.
    pub max: Duration,
    /// How many.
    pub count: u64,
}

/// A workload's connection.
#[async_trait]
pub trait Session: Send {
    /// Runs `sql`; an error counts as an operation (its wait was real) and is ignored.
    async fn run(&mut self, sql: String);

    /// Waits `duration` (the runtime's sleep).
    async fn pause(&mut self, duration: Duration);
}

/// One workload loop: `statements` round-robin (each with its `{n}` put in), timed, until
/// `stop`; with no statements, it pauses [`SAMPLE_EVERY`] at a time.
pub async fn run_workload<S: Session>(session: &mut S, statements: &[Statement], stop: &AtomicBool) -> Latencies {
    let mut latencies = Latencies::default();
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        for (statement, numbered) in statements {
            n = n % 1000 + 1;
            let sql = if *numbered { statement.replace("{n}", &n.to_string()) } else { statement.clone() };
            let started = Instant::now();
            session.run(sql).await;
            latencies.max = latencies.max.max(started.elapsed());
            latencies.count += 1;
        }
        if statements.is_empty() {
            session.pause(SAMPLE_EVERY).await;
        }
    }
    latencies
}

/// What a lock sampler saw: locks held by others (the migration), and workload statements
/// waiting, each as `(table, mode)` sightings.
#[derive(Debug, Default)]
pub struct Seen {
    /// Locks held by other sessions.
    pub held: Sightings,
    /// Workload statements waiting for a lock.
    pub waiting: Sightings,
}

/// A lock sampler's connection.
#[async_trait]
pub trait Sampler: Send {
    /// Takes one sample into `seen` (a view it could not read is left out).
    async fn sample(&mut self, seen: &mut Seen);

    /// Waits `duration` (the runtime's sleep).
    async fn pause(&mut self, duration: Duration);
}

/// The sampler's loop: a sample every [`SAMPLE_EVERY`] until `stop`.
pub async fn run_sampler<S: Sampler>(sampler: &mut S, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    while !stop.load(Ordering::Relaxed) {
        sampler.sample(&mut seen).await;
        sampler.pause(SAMPLE_EVERY).await;
    }
    seen
}

/// The flag that stops a watch's workload and sampler: set by [`Stop::stop`], and when it is
/// dropped (the watch dropped without `finish`: the migration failed, or the caller was
/// interrupted).
#[derive(Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// The flag, for a task.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }

    /// Stops the tasks.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A watch task's connection and value once joined: `outcome` is `None` when it did not end
/// within [`FINISH_WAIT`], else the join's result (an error: it panicked or was cancelled).
pub fn joined<C, T, E: Into<BoxError>>(outcome: Option<Result<(C, T), E>>, what: &str) -> Result<(C, T), Error> {
    match outcome {
        Some(Ok(done)) => Ok(done),
        Some(Err(e)) => Err(Error::database(format!("the rehearsal's {what}"), e)),
        None => Err(Error::database(
            format!("the rehearsal's {what}"),
            format!("its statement did not end within {}s of the migration's end", FINISH_WAIT.as_secs()),
        )),
    }
}

/// What the workload and the sampler saw ([`Measured::rows`], [`Measured::rewrote`],
/// [`Measured::notes`] and [`Measured::duration`] are left for the caller).
pub fn measured(writes: Latencies, reads: Latencies, seen: Seen) -> Measured {
    Measured {
        max_write_stall: writes.max,
        max_read_stall: reads.max,
        operations: writes.count + reads.count,
        locks: seen.held.longest().into_iter().map(|(table, mode, held)| HeldLock { table, mode, held }).collect(),
        waiting: seen
            .waiting
            .longest()
            .into_iter()
            .map(|(table, mode, seen_for)| SeenWaiting { table, mode, seen_for })
            .collect(),
        ..Measured::default()
    }
}

/// The tables (`(key, shown)`, in order) whose physical identity (a file node, a table id)
/// differs between `before` and `after`; one missing from either is not counted.
pub fn rewritten<'a, K, V>(
    tables: impl IntoIterator<Item = (&'a K, &'a str)>,
    before: &HashMap<K, V>,
    after: &HashMap<K, V>,
) -> Vec<String>
where
    K: Eq + Hash + 'a,
    V: PartialEq,
{
    tables
        .into_iter()
        .filter(|(key, _)| matches!((before.get(key), after.get(key)), (Some(old), Some(new)) if old != new))
        .map(|(_, shown)| shown.to_owned())
        .collect()
}

/// What to rehearse and the thresholds to judge by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RehearseOptions {
    /// Generated rows per table.
    pub rows: u64,
    /// The first migration to rehearse (earlier ones are applied without measuring), as
    /// [`crate::plan::rehearsal_start`] decides; `None`: nothing to rehearse.
    pub start: Option<Version>,
    /// The thresholds.
    pub thresholds: Thresholds,
}

impl RehearseOptions {
    /// Rehearse from `start` on, with `rows` rows per table and the default thresholds.
    pub fn new(rows: u64, start: Option<Version>) -> Self {
        RehearseOptions { rows, start, thresholds: Thresholds::default() }
    }

    /// The same with `thresholds`.
    pub fn thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }
}

/// One rehearsed migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rehearsed {
    /// Its version.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// The tables it touches (the linter's reading of its statements).
    pub tables: Vec<String>,
    /// What was measured.
    pub measured: Measured,
    /// The verdict.
    pub judgement: Judgement,
}

/// A rehearsal's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rehearsal {
    /// The tables filled before the first rehearsed migration.
    pub filled: Vec<Filled>,
    /// How long filling took.
    pub fill_duration: Duration,
    /// The rehearsed migrations, in order.
    pub migrations: Vec<Rehearsed>,
    /// The thresholds judged by.
    pub thresholds: Thresholds,
}

impl Rehearsal {
    /// Whether every migration is within the thresholds.
    pub fn ok(&self) -> bool {
        self.migrations.iter().all(|m| m.judgement.verdict == Verdict::Ok)
    }

    /// The report for people: a line per migration, and the reasons of each over.
    pub fn text(&self) -> String {
        let ms = |d: Duration| d.as_millis();
        let mut out = String::new();
        for m in &self.migrations {
            let x = &m.measured;
            out.push_str(&format!(
                "{} {} {}: {} ms; longest write wait {} ms, read wait {} ms; {} rows",
                m.judgement.verdict.as_str(),
                m.version,
                m.name,
                ms(x.duration),
                ms(x.max_write_stall),
                ms(x.max_read_stall),
                x.rows
            ));
            if !x.rewrote.is_empty() {
                out.push_str(&format!("; rewrote {}", x.rewrote.join(", ")));
            }
            out.push('\n');
            for lock in &x.locks {
                out.push_str(&format!("    held {} on {} for {} ms\n", lock.mode, lock.table, ms(lock.held)));
            }
            for wait in &x.waiting {
                out.push_str(&format!(
                    "    a workload statement waited for {} on {} ({} ms seen)\n",
                    wait.mode,
                    wait.table,
                    ms(wait.seen_for)
                ));
            }
            for reason in &m.judgement.reasons {
                out.push_str(&format!("    over: {reason}\n"));
            }
            for note in &x.notes {
                out.push_str(&format!("    note: {note}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sighting_ends_with_the_first_sample_without_it() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let key = |t: &str| (t.to_owned(), "lock".to_owned());
        let mut seen = Sightings::default();
        seen.sample([key("a")], at(0));
        seen.sample([key("a")], at(10));
        seen.sample([], at(20));
        seen.sample([key("a"), key("b")], at(500));
        seen.sample([key("a"), key("b")], at(530));
        seen.sample([key("b")], at(540));
        let longest = seen.longest();
        let spans: Vec<(&str, u128)> = longest.iter().map(|(t, _, d)| (t.as_str(), d.as_millis())).collect();
        assert_eq!(spans, [("a", 30), ("b", 40)]);
    }

    #[test]
    fn workload_statements_by_key() {
        // (key, column) -> (writes, reads)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [&'a str], &'a [&'a str]);
        let cases: &[Case<'_>] = &[
            (Some("k"), Some("c"), &["UPDATE t SET k = k WHERE k = '{n}'"], &["SELECT * FROM t WHERE k = '{n}'"]),
            (None, Some("c"), &["UPDATE t SET c = c LIMIT 1"], &["SELECT * FROM t LIMIT 1"]),
            (None, None, &[], &["SELECT * FROM t LIMIT 1"]),
        ];
        for (key, column, writes, reads) in cases {
            let mut workload = Workload::default();
            workload.add("t", *key, *column, "LIMIT 1");
            let sql = |s: &[Statement]| s.iter().map(|(sql, _)| sql.clone()).collect::<Vec<_>>();
            assert_eq!(sql(&workload.writes), *writes, "{key:?} {column:?}");
            assert_eq!(sql(&workload.reads), *reads, "{key:?} {column:?}");
            assert!(workload.reads.iter().all(|(sql, numbered)| *numbered == sql.contains("{n}")));
        }
    }

    #[test]
    fn rewritten_tables_changed_identity() {
        let before: HashMap<i64, i64> = [(1, 10), (2, 20), (3, 30)].into();
        let after: HashMap<i64, i64> = [(1, 10), (2, 21), (4, 40)].into();
        let tables = [(1, "a"), (2, "b"), (3, "c"), (4, "d")];
        assert_eq!(rewritten(tables.iter().map(|(k, s)| (k, *s)), &before, &after), ["b"]);
    }

    #[test]
    fn measured_takes_the_longest_and_counts_both() {
        let ms = Duration::from_millis;
        let mut seen = Seen::default();
        let t0 = Instant::now();
        seen.held.sample([("t".to_owned(), "lock".to_owned())], t0);
        seen.held.sample([("t".to_owned(), "lock".to_owned())], t0 + ms(20));
        let m = measured(Latencies { max: ms(5), count: 3 }, Latencies { max: ms(7), count: 4 }, seen);
        assert_eq!((m.max_write_stall, m.max_read_stall, m.operations), (ms(5), ms(7), 7));
        assert_eq!(m.locks, [HeldLock { table: "t".into(), mode: "lock".into(), held: ms(20) }]);
        assert!(m.waiting.is_empty());
    }

    #[test]
    fn joined_says_which_task_did_not_end() {
        let late = joined::<(), (), BoxError>(None, "workload").map(|_| ()).unwrap_err().to_string();
        assert!(late.contains("the rehearsal's workload") && late.contains("30s"), "{late}");
        assert_eq!(joined::<_, _, BoxError>(Some(Ok(((), 3))), "workload").ok(), Some(((), 3)));
    }
}
