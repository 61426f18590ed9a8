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

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::driver::Driver;
use crate::error::Error;
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
}
