//! Reversibility and drift checks, on backends that can read their schema ([`Inspect`]).

use std::fmt;

use crate::driver::{Driver, Inspect};
use crate::error::Error;
use crate::migration::Down;
use crate::runner::Migrator;
use crate::schema::{Change, Difference, Schema, describe};
use crate::version::{Phases, Version};

/// Why a migration failed the reversibility check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReversible {
    /// The migration's version.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// What went wrong, in words: the first difference first.
    pub message: String,
    /// Every difference found.
    pub differences: Vec<Difference>,
}

impl fmt::Display for NotReversible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        for difference in self.differences.iter().skip(1) {
            write!(f, "\n  also: {difference}")?;
        }
        Ok(())
    }
}

/// The outcome of [`Migrator::check_reversible`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReversibilityReport {
    /// Migrations whose down restored the schema and whose up rebuilt it.
    pub reversible: Vec<(Version, String)>,
    /// Migrations marked irreversible, with their reason: applied, not reverted.
    pub irreversible: Vec<(Version, String, String)>,
    /// The first migration that failed the check; the walk stops there.
    pub failure: Option<NotReversible>,
}

impl ReversibilityReport {
    /// Whether every migration checked was reversible (irreversible ones excepted).
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

impl fmt::Display for ReversibilityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} migration(s) reversible", self.reversible.len())?;
        for (version, name, reason) in &self.irreversible {
            writeln!(f, "{version} {name}: irreversible ({reason}), not checked")?;
        }
        if let Some(failure) = &self.failure {
            writeln!(f, "{failure}")?;
        }
        Ok(())
    }
}

/// Differences between the live schema and the one the migrations build, in words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drift {
    /// Each difference, from the migrations' schema (expected) to the live one.
    pub differences: Vec<Difference>,
}

impl Drift {
    /// Compares a live snapshot with the one the migrations build.
    pub fn between(expected: &Schema, live: &Schema) -> Drift {
        Drift { differences: expected.diff(live) }
    }

    /// Whether the live schema is exactly what the migrations build.
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.differences.is_empty() {
            return writeln!(f, "no drift: the live schema is what the migrations build");
        }
        writeln!(f, "{} difference(s) between the live schema and the migrations:", self.differences.len())?;
        for d in &self.differences {
            let line = match &d.change {
                Change::Added { .. } => {
                    format!("extra {} {} (in the database, not made by any migration)", d.kind, d.name)
                }
                Change::Removed { .. } => {
                    format!("missing {} {} (made by the migrations, not in the database)", d.kind, d.name)
                }
                Change::Changed { before, after } => {
                    format!("{} {} differs: the migrations make `{before}`, the database has `{after}`", d.kind, d.name)
                }
            };
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

impl<D: Driver + Inspect> Migrator<D>
where
    D::Conn: 'static,
{
    /// Checks every pending migration, in order: snapshot, up, snapshot, down (must equal the
    /// first snapshot), up again (must equal the second). Irreversible migrations are applied
    /// and reported as such; a migration without a down step fails the check. Stops at the
    /// first failure. Meant for a fresh, empty database.
    pub async fn check_reversible(&self) -> Result<ReversibilityReport, Error> {
        let mut report = ReversibilityReport::default();
        let plan = self.plan_with(Phases::All, None).await?;
        for planned in plan.apply {
            let label = format!("{}_{}", planned.version, planned.name);
            let Some(migration) = self.migrations().get(planned.version) else { continue };
            let down = match migration.down() {
                Down::Step(_) => None,
                Down::Irreversible { reason } => Some(Some(reason.to_owned())),
                Down::Missing => Some(None),
            };
            let before = self.driver().snapshot().await?;
            self.run_with(Phases::All, Some(planned.version.get())).await?;
            let applied = self.driver().snapshot().await?;
            match down {
                Some(Some(reason)) => {
                    report.irreversible.push((planned.version, planned.name, reason));
                    continue;
                }
                Some(None) => {
                    report.failure = Some(NotReversible {
                        version: planned.version,
                        name: planned.name,
                        message: format!(
                            "{label} has no down script: write one, or mark it `-- migrator:irreversible -- <reason>`"
                        ),
                        differences: Vec::new(),
                    });
                    return Ok(report);
                }
                None => {}
            }
            self.down(1).await?;
            let reverted = self.driver().snapshot().await?;
            let differences = before.diff(&reverted);
            if let Some(first) = differences.first() {
                report.failure = Some(NotReversible {
                    version: planned.version,
                    name: planned.name,
                    message: format!(
                        "down of {label} {}",
                        describe(first, "left", "did not restore", "did not restore")
                    ),
                    differences,
                });
                return Ok(report);
            }
            self.run_with(Phases::All, Some(planned.version.get())).await?;
            let again = self.driver().snapshot().await?;
            let differences = applied.diff(&again);
            if let Some(first) = differences.first() {
                report.failure = Some(NotReversible {
                    version: planned.version,
                    name: planned.name,
                    message: format!(
                        "up of {label} after its down {}",
                        describe(first, "made an extra", "did not make", "made a different")
                    ),
                    differences,
                });
                return Ok(report);
            }
            report.reversible.push((planned.version, planned.name));
        }
        Ok(report)
    }

    /// [`Migrator::check_reversible`] for tests: panics with the first difference in words
    /// ("down of 20261120_add_index left index idx_users_email"), or with the error.
    #[allow(clippy::panic)] // an assertion for tests, like `assert_eq!`
    pub async fn assert_reversible(&self) -> ReversibilityReport {
        match self.check_reversible().await {
            Ok(report) => {
                if let Some(failure) = &report.failure {
                    panic!("{failure}");
                }
                report
            }
            Err(e) => panic!("the reversibility check could not run: {e}"),
        }
    }
}
