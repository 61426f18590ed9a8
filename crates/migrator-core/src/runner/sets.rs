//! [`MigrationSets`]: several migration sets in one database (an application's, and a
//! library's that ships its own schema, such as a job queue), each with its own history table
//! and lock, run in a declared order in one call.

use crate::driver::Driver;
use crate::error::Error;
use crate::history::HistoryTable;
use crate::report::{Report, Status, Validation};
use crate::version::Phases;

use super::migrator::Migrator;

/// Several [`Migrator`]s on one database, run in the order they were added.
///
/// Each set keeps its own history table (so its own lock, whose key derives from the table)
/// and is planned on its own: one set's migrations never count as out of order or unknown
/// for another. A run goes set by set and stops at the first set that fails: the sets before
/// it are up to date, the failing one is left as its error says (recorded, resumable), and
/// the sets after it did not run. Every process runs the sets in the same order and holds
/// one set's lock at a time, so concurrent runners cannot deadlock.
///
/// ```no_run
/// # use migrator_core::{Migrator, MigrationSets, driver::Driver};
/// # async fn start<D: Driver + Clone>(driver: D, app: migrator_core::EmbeddedMigrations, jobs: migrator_core::EmbeddedMigrations) -> Result<(), migrator_core::Error> where D::Conn: 'static {
/// let sets = MigrationSets::<D>::new()
///     // A library's schema first: the application's migrations may use its tables.
///     .then("jobs", Migrator::<D>::builder(driver.clone(), jobs).table("_migrator_history_jobs").build()?)?
///     .then("app", Migrator::<D>::new(driver, app)?)?;
/// let reports = sets.run().await?;
/// # Ok(()) }
/// ```
pub struct MigrationSets<D: Driver> {
    sets: Vec<(String, Migrator<D>)>,
}

impl<D: Driver> std::fmt::Debug for MigrationSets<D>
where
    D::Conn: 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.sets.iter().map(|(name, m)| format!("{name}: {}", m.options().table))).finish()
    }
}

impl<D: Driver> Default for MigrationSets<D> {
    fn default() -> Self {
        MigrationSets { sets: Vec::new() }
    }
}

impl<D: Driver> MigrationSets<D>
where
    D::Conn: 'static,
{
    /// No sets yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a set, run after those added before. Each set needs a name of its own and a
    /// history table of its own (`MigratorBuilder::table`).
    pub fn then(mut self, name: &str, migrator: Migrator<D>) -> Result<Self, Error> {
        let table = &migrator.options().table;
        if name.trim().is_empty() {
            return Err(Error::InvalidOption {
                option: "migration set name",
                value: name.to_owned(),
                reason: "it is empty: name each set (\"app\", \"jobs\")".to_owned(),
            });
        }
        for (other, existing) in &self.sets {
            if other == name {
                return Err(Error::InvalidOption {
                    option: "migration set name",
                    value: name.to_owned(),
                    reason: "another set has this name: give each set a name of its own".to_owned(),
                });
            }
            if same_table(&existing.options().table, table) {
                return Err(Error::InvalidOption {
                    option: "history table",
                    value: table.to_string(),
                    reason: format!(
                        "sets `{other}` and `{name}` would share it, and with it their lock and their history: give \
                         each set its own table (MigratorBuilder::table, CLI `--set NAME=DIR:TABLE`)"
                    ),
                });
            }
        }
        self.sets.push((name.to_owned(), migrator));
        Ok(self)
    }

    /// The sets, in run order.
    pub fn sets(&self) -> impl Iterator<Item = (&str, &Migrator<D>)> + '_ {
        self.sets.iter().map(|(name, m)| (name.as_str(), m))
    }

    /// Applies every pending expand migration of every set, set by set ([`Migrator::run`]).
    pub async fn run(&self) -> Result<Vec<(String, Report)>, Error> {
        self.run_with(Phases::Expand).await
    }

    /// Applies the pending migrations of `phases` of every set, set by set.
    pub async fn run_with(&self, phases: Phases) -> Result<Vec<(String, Report)>, Error> {
        let mut done = Vec::with_capacity(self.sets.len());
        for (i, (name, migrator)) in self.sets.iter().enumerate() {
            match migrator.run_with(phases, None).await {
                Ok(report) => done.push((name.clone(), report)),
                Err(error) => {
                    return Err(Error::SetFailed {
                        set: name.clone(),
                        done: done.into_iter().map(|(n, _)| n).collect(),
                        not_run: self.sets.iter().skip(i + 1).map(|(n, _)| n.clone()).collect(),
                        error: Box::new(error),
                    });
                }
            }
        }
        Ok(done)
    }

    /// Every set's status, side by side, read without the locks.
    pub async fn status(&self) -> Result<Vec<(String, Status)>, Error> {
        let mut out = Vec::with_capacity(self.sets.len());
        for (name, migrator) in &self.sets {
            match migrator.status().await {
                Ok(status) => out.push((name.clone(), status)),
                Err(error) => return Err(in_set(name, error)),
            }
        }
        Ok(out)
    }

    /// Every set's validation, side by side, read without the locks.
    pub async fn validate(&self) -> Result<Vec<(String, Validation)>, Error> {
        let mut out = Vec::with_capacity(self.sets.len());
        for (name, migrator) in &self.sets {
            match migrator.validate().await {
                Ok(validation) => out.push((name.clone(), validation)),
                Err(error) => return Err(in_set(name, error)),
            }
        }
        Ok(out)
    }
}

/// `error` of set `name`, in a read that changes nothing.
fn in_set(name: &str, error: Error) -> Error {
    Error::SetFailed { set: name.to_owned(), done: Vec::new(), not_run: Vec::new(), error: Box::new(error) }
}

/// Whether two history tables are the same table (an unset schema is the connection's
/// current one: the same as another unset schema).
fn same_table(a: &HistoryTable, b: &HistoryTable) -> bool {
    a.schema == b.schema && a.name == b.name
}
