//! [`Tenants`]: one migration set rolled out to many tenants (a PostgreSQL schema or a MySQL
//! database per customer, or a database URL each), with a bound on how many run at once, a
//! canary wave, and a report per tenant.

use std::fmt;
use std::future::Future;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tracing::{info, warn};

use crate::driver::Driver;
use crate::error::Error;
use crate::plan::{Rollout, launch_next, rollout_waves};
use crate::report::Report;
use crate::version::{Phases, Version};

use super::migrator::Migrator;

/// Migrates many tenants: for each tenant name, `migrator_for(name)` builds the tenant's
/// [`Migrator`] (its own connection settings, history table and lock; for example a pool
/// whose `search_path` is the tenant's schema) and runs it.
///
/// At most [`Tenants::parallel`] tenants run at once. With [`Tenants::canary`], the first
/// tenants run first, alone in their wave, and the rest start only when they succeeded. By
/// default the rollout stops launching tenants at the first failure (those running finish);
/// [`Tenants::keep_going`] runs every tenant and reports every failure. Running it again
/// continues where it stopped: a current tenant costs its startup check.
///
/// ```no_run
/// # use migrator_core::{Migrator, Tenants, Error, driver::Driver};
/// # async fn start<D: Driver + Clone>(driver_for: impl Fn(&str) -> D, set: migrator_core::EmbeddedMigrations) -> Result<(), Error> where D::Conn: 'static {
/// let schemas = ["tenant_1", "tenant_2", "tenant_3"];
/// let report = Tenants::new(schemas, |schema: String| {
///     let driver = driver_for(&schema);
///     async move { Migrator::<D>::builder(driver, set).schema(&schema).build() }
/// })
/// .parallel(8)
/// .canary(1)
/// .run()
/// .await;
/// print!("{report}");
/// # Ok(()) }
/// ```
pub struct Tenants<F> {
    names: Vec<String>,
    migrator_for: F,
    parallel: usize,
    rollout: Rollout,
    phases: Phases,
    target: Option<i64>,
}

impl<F> fmt::Debug for Tenants<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenants")
            .field("tenants", &self.names.len())
            .field("parallel", &self.parallel)
            .field("rollout", &self.rollout)
            .finish()
    }
}

impl<F, Fut, D> Tenants<F>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Migrator<D>, Error>>,
    D: Driver,
    D::Conn: 'static,
{
    /// The tenants, in the order they are launched, and how to build each one's migrator.
    pub fn new(names: impl IntoIterator<Item = impl Into<String>>, migrator_for: F) -> Self {
        Tenants {
            names: names.into_iter().map(Into::into).collect(),
            migrator_for,
            parallel: 1,
            rollout: Rollout { canary: 0, keep_going: false },
            phases: Phases::Expand,
            target: None,
        }
    }

    /// How many tenants run at once (default 1; at least 1). Each holds its own connections.
    pub fn parallel(mut self, parallel: usize) -> Self {
        self.parallel = parallel.max(1);
        self
    }

    /// The first `canary` tenants run first; the others start only when every one of them
    /// succeeded (default 0: no canary wave).
    pub fn canary(mut self, canary: usize) -> Self {
        self.rollout.canary = canary;
        self
    }

    /// Run every tenant whatever fails, and report every failure (default: stop launching
    /// tenants at the first failure).
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.rollout.keep_going = keep_going;
        self
    }

    /// Which phases each tenant applies, as [`Migrator::run_with`] takes them (default: the
    /// expand phase).
    pub fn phases(mut self, phases: Phases) -> Self {
        self.phases = phases;
        self
    }

    /// Nothing newer than this version (default: every version).
    pub fn to(mut self, version: Option<i64>) -> Self {
        self.target = version;
        self
    }

    /// Runs the rollout; every tenant is in the report, in the order given.
    pub async fn run(&self) -> TenantsReport {
        let mut outcomes: Vec<Option<TenantReport>> = self.names.iter().map(|_| None).collect();
        let mut failed = 0;
        for wave in rollout_waves(self.rollout, self.names.len()) {
            let mut next = wave.start;
            let mut running = FuturesUnordered::new();
            loop {
                while running.len() < self.parallel && next < wave.end && launch_next(self.rollout, failed) {
                    if let Some(name) = self.names.get(next) {
                        let index = next;
                        running.push(async move { (index, self.one(name).await) });
                    }
                    next += 1;
                }
                let Some((index, outcome)) = running.next().await else { break };
                if outcome.state == TenantState::Failed {
                    failed += 1;
                }
                if let Some(slot) = outcomes.get_mut(index) {
                    *slot = Some(outcome);
                }
            }
            if !launch_next(self.rollout, failed) {
                break;
            }
        }
        let tenants = self
            .names
            .iter()
            .zip(outcomes)
            .map(|(name, outcome)| {
                outcome.unwrap_or_else(|| TenantReport {
                    name: name.clone(),
                    state: TenantState::Pending,
                    report: None,
                    error: None,
                })
            })
            .collect();
        TenantsReport { tenants }
    }

    async fn one(&self, name: &str) -> TenantReport {
        let result = match (self.migrator_for)(name.to_owned()).await {
            Ok(migrator) => migrator.run_with(self.phases, self.target).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(report) => {
                let state = if report.applied().next().is_some() { TenantState::Applied } else { TenantState::Current };
                info!(tenant = %name, applied = report.applied().count(), "tenant {name}: {}", state.label());
                TenantReport { name: name.to_owned(), state, report: Some(report), error: None }
            }
            Err(error) => {
                warn!(tenant = %name, %error, "tenant {name} failed");
                TenantReport { name: name.to_owned(), state: TenantState::Failed, report: None, error: Some(error) }
            }
        }
    }
}

/// Where a tenant stands after a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantState {
    /// Nothing was pending.
    Current,
    /// This run applied migrations, and it is current now.
    Applied,
    /// Its run failed: see its error.
    Failed,
    /// Not run: the rollout stopped at an earlier failure.
    Pending,
}

impl TenantState {
    /// `current`, `applied`, `failed` or `pending`.
    pub fn label(self) -> &'static str {
        match self {
            TenantState::Current => "current",
            TenantState::Applied => "applied",
            TenantState::Failed => "failed",
            TenantState::Pending => "pending",
        }
    }
}

/// One tenant's outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantReport {
    /// The tenant's name.
    pub name: String,
    /// Where it stands.
    pub state: TenantState,
    /// Its run's report, when it ran to the end.
    pub report: Option<Report>,
    /// Its error, when it failed (which migration and statement, what was left behind).
    pub error: Option<Error>,
}

impl TenantReport {
    /// The versions this run applied to it.
    pub fn applied(&self) -> Vec<Version> {
        self.report.iter().flat_map(|r| r.applied().map(|s| s.version)).collect()
    }
}

/// Every tenant's outcome, in the order they were given.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantsReport {
    /// One per tenant.
    pub tenants: Vec<TenantReport>,
}

impl TenantsReport {
    /// The tenants in `state`.
    pub fn in_state(&self, state: TenantState) -> impl Iterator<Item = &TenantReport> {
        self.tenants.iter().filter(move |t| t.state == state)
    }

    /// Whether every tenant is current now (none failed, none left pending).
    pub fn is_success(&self) -> bool {
        self.tenants.iter().all(|t| matches!(t.state, TenantState::Current | TenantState::Applied))
    }
}

impl fmt::Display for TenantsReport {
    /// One line per failed tenant (its error's first line), then the counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for tenant in self.in_state(TenantState::Failed) {
            let error = tenant.error.as_ref().map(ToString::to_string).unwrap_or_default();
            writeln!(f, "tenant {} failed: {}", tenant.name, error.lines().next().unwrap_or(""))?;
        }
        let count = |state| self.in_state(state).count();
        writeln!(
            f,
            "{} tenants: {} applied, {} already current, {} failed, {} not run",
            self.tenants.len(),
            count(TenantState::Applied),
            count(TenantState::Current),
            count(TenantState::Failed),
            count(TenantState::Pending),
        )
    }
}
