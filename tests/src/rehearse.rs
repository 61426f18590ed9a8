//! Rehearsals of the linter's own rule fixtures (`crates/migrator-core/tests/lint/`): each
//! deny-level locking or rewrite hazard must show a rewrite or a workload that waited on the
//! migration, and its safe alternative neither. Run by `tests/rehearse_postgres.rs` and
//! `tests/rehearse_mysql.rs`.
//!
//! A fixture's migrations are renumbered one up, after a setup migration (version 1) that
//! creates the tables a one-file fixture assumes; the rehearsal starts at the fixture's
//! first migration that is not a `create` one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use migrator_core::plan::Thresholds;
use migrator_core::rehearse::{Rehearsal, Rehearse, RehearseOptions};
use migrator_core::testing::{KitBackend, TestKit};
use migrator_core::{Dialect, MigrationSet, Script, ScriptKind, SqlMigration, Version};

/// One fixture of a lint rule to rehearse.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The rule (a directory under `crates/migrator-core/tests/lint`).
    pub rule: &'static str,
    /// The fixture (`bad-…` is a hazard, `ok-…` its safe alternative).
    pub fixture: &'static str,
    /// SQL run before the fixture (version 1): the tables it assumes.
    pub setup: &'static str,
    /// Generated rows per table: enough that the hazard's scan or build under its lock
    /// outlasts the test's stall threshold several times (a rewrite is seen at any size).
    pub rows: u64,
}

/// The case of `rule`'s `fixture`, after `setup`, with `rows` rows per table.
pub fn case(rule: &'static str, fixture: &'static str, setup: &'static str, rows: u64) -> Case {
    Case { rule, fixture, setup, rows }
}

impl Case {
    /// Whether the linter calls it a hazard.
    pub fn hazard(&self) -> bool {
        self.fixture.starts_with("bad-")
    }
}

fn fixture_dir(case: &Case, dialect: Dialect) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/migrator-core/tests/lint")
        .join(case.rule)
        .join(dialect.id())
        .join(case.fixture)
}

fn migration(version: i64, name: &str, path: String, text: String, dialect: Dialect) -> SqlMigration {
    let script = Script::parse(ScriptKind::Up, path, text, dialect).unwrap();
    SqlMigration::new(Version::try_from(version).unwrap(), name.to_owned(), script, None).unwrap()
}

/// The up migration `{version}_{name}.up.sql` reading `text`.
pub fn sql(version: i64, name: &str, text: &str, dialect: Dialect) -> SqlMigration {
    migration(version, name, format!("{version}_{name}.up.sql"), text.to_owned(), dialect)
}

/// A set of two migrations, `1_create_orders` running `create` and `2_change` running
/// `change`, for the kits' `rehearse` and `assert_online`.
pub fn create_then_change<C: ?Sized + 'static>(create: &str, change: &str, dialect: Dialect) -> MigrationSet<C> {
    MigrationSet::<C>::new()
        .with(sql(1, "create_orders", create, dialect))
        .unwrap()
        .with(sql(2, "change", change, dialect))
        .unwrap()
}

/// Rehearsing from version 2 on `rows` rows per table, within 10 s stalls and no rewrite.
pub fn no_rewrite_from_2(rows: u64) -> RehearseOptions {
    RehearseOptions::new(rows, Version::try_from(2).ok())
        .thresholds(Thresholds { max_stall: Duration::from_secs(10), no_rewrite: true })
}

/// The set (setup, then the fixture's migrations one version up) and where to start.
pub fn set<C: ?Sized + 'static>(case: &Case, dialect: Dialect) -> (MigrationSet<C>, Version) {
    let dir = fixture_dir(case, dialect);
    let mut files: Vec<(i64, String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".up.sql"))
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let (version, rest) = file.split_once('_').unwrap();
            (version.parse().unwrap(), rest.trim_end_matches(".up.sql").to_owned(), path)
        })
        .collect();
    files.sort();
    let mut set = MigrationSet::<C>::new()
        .with(migration(1, "setup", "setup.up.sql".to_owned(), case.setup.to_owned(), dialect))
        .unwrap();
    let mut start = None;
    for (version, name, path) in files {
        if start.is_none() && !name.starts_with("create") {
            start = Some(Version::try_from(version + 1).unwrap());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        set = set.with(migration(version + 1, &name, path.display().to_string(), text, dialect)).unwrap();
    }
    (set, start.unwrap())
}

/// Rehearses `case` with its rows per table.
pub async fn rehearse<B: KitBackend>(kit: &TestKit<B>, case: &Case, dialect: Dialect) -> Rehearsal
where
    B::Driver: Rehearse,
{
    let (set, start) = set::<<B::Driver as migrator_core::driver::Driver>::Conn>(case, dialect);
    let options = RehearseOptions::new(case.rows, Some(start))
        .thresholds(Thresholds { max_stall: Duration::from_secs(3600), no_rewrite: false });
    kit.rehearse(set, &options).await.unwrap_or_else(|e| panic!("{}/{}: {e}", case.rule, case.fixture))
}

/// What a rehearsal shows of a hazard: a rewrite, a write or read that waited longer than
/// `stall`, or a workload statement seen waiting on a lock the migration held for longer
/// than `stall`. Empty when it shows none.
pub fn evidence(rehearsal: &Rehearsal, stall: Duration) -> Vec<String> {
    let mut found = Vec::new();
    for m in &rehearsal.migrations {
        let x = &m.measured;
        if !x.rewrote.is_empty() {
            found.push(format!("{} rewrote {}", m.version, x.rewrote.join(", ")));
        }
        if x.max_write_stall > stall {
            found.push(format!("{}: a write waited {} ms", m.version, x.max_write_stall.as_millis()));
        }
        if x.max_read_stall > stall {
            found.push(format!("{}: a read waited {} ms", m.version, x.max_read_stall.as_millis()));
        }
        for wait in x.waiting.iter().filter(|w| w.seen_for > stall) {
            found.push(format!(
                "{}: seen waiting for {} on {} for {} ms",
                m.version,
                wait.mode,
                wait.table,
                wait.seen_for.as_millis()
            ));
        }
    }
    found
}

/// One line of the measured table: rule, fixture, longest write and read wait, rewrites.
pub fn line(case: &Case, rehearsal: &Rehearsal) -> String {
    let max = |f: fn(&migrator_core::plan::Measured) -> Duration| {
        rehearsal.migrations.iter().map(|m| f(&m.measured)).max().unwrap_or_default().as_millis()
    };
    let rewrote: Vec<String> = rehearsal.migrations.iter().flat_map(|m| m.measured.rewrote.clone()).collect();
    let duration: u128 = rehearsal.migrations.iter().map(|m| m.measured.duration.as_millis()).sum();
    format!(
        "| {} | {} | {} | {} ms | {} ms | {} ms | {} |",
        case.rule,
        case.fixture,
        case.rows,
        duration,
        max(|m| m.max_write_stall),
        max(|m| m.max_read_stall),
        if rewrote.is_empty() { "no".to_owned() } else { rewrote.join(", ") }
    )
}

/// How a case is judged: a hazard must show [`evidence`] over `hazard`, a safe alternative
/// none over `safe` (at least `hazard`; the gap between them absorbs a loaded machine's noise,
/// which stretches scans and single statements alike).
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// A hazard's stall must be longer than this (unless it rewrites).
    pub hazard: Duration,
    /// A safe alternative's stalls must all be within this.
    pub safe: Duration,
}

fn agrees(case: &Case, rehearsal: &Rehearsal, bounds: Bounds) -> bool {
    if case.hazard() {
        !evidence(rehearsal, bounds.hazard).is_empty()
    } else {
        evidence(rehearsal, bounds.safe).is_empty()
    }
}

/// Rehearses each case and checks it agrees with the linter ([`Bounds`]). A case whose first
/// rehearsal disagrees is rehearsed once more, and judged by the second (a loaded machine can
/// stall any statement once; a lock held for a scan stalls every time). Returns the measured
/// table's lines; panics listing the disagreements.
pub async fn agree<B: KitBackend>(kit: &TestKit<B>, cases: &[Case], dialect: Dialect, bounds: Bounds) -> Vec<String>
where
    B::Driver: Rehearse,
{
    let only = std::env::var("REHEARSE_ONLY").unwrap_or_default();
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for case in cases.iter().filter(|c| c.fixture.contains(only.as_str())) {
        let mut rehearsal = rehearse(kit, case, dialect).await;
        if !agrees(case, &rehearsal, bounds) {
            println!("{}/{} disagrees once, rehearsing again:\n{}", case.rule, case.fixture, rehearsal.text());
            rehearsal = rehearse(kit, case, dialect).await;
        }
        table.push(line(case, &rehearsal));
        if !agrees(case, &rehearsal, bounds) {
            let found = evidence(&rehearsal, bounds.hazard);
            wrong.push(format!("{}/{}: {found:?}\n{}", case.rule, case.fixture, rehearsal.text()));
        }
    }
    println!("| rule | fixture | rows | duration | longest write wait | longest read wait | rewrote |");
    println!("{}", table.join("\n"));
    assert!(wrong.is_empty(), "the rehearsal disagrees with the linter:\n{}", wrong.join("\n"));
    table
}
