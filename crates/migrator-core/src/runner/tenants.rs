//! [`Tenants`]: one migration set rolled out to many tenants (a PostgreSQL schema or a MySQL
//! database per customer, or a database URL each), with a bound on how many run at once, a
//! canary wave, and a report per tenant.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use futures_util::stream::{self, FuturesUnordered, StreamExt};
use tracing::{info, warn};

use crate::driver::Driver;
use crate::error::Error;
use crate::history::LAYOUT;
use crate::history::digest::HistoryDigest;
use crate::plan::{self, Rollout, TenantCheck, launch_next, rollout_waves};
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
/// With [`Tenants::check_on`] (a migrator on the tenants' server), [`Tenants::check`] compares
/// every tenant's history with the binary's in one round trip, and [`Tenants::run`] does
/// that first: only the tenants that are not current open connections and take locks, so a
/// re-run over a thousand current tenants costs one round trip.
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
pub struct Tenants<F, D: Driver> {
    names: Vec<String>,
    migrator_for: F,
    parallel: usize,
    rollout: Rollout,
    phases: Phases,
    target: Option<i64>,
    checker: Option<Migrator<D>>,
}

impl<F, D: Driver> fmt::Debug for Tenants<F, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenants")
            .field("tenants", &self.names.len())
            .field("parallel", &self.parallel)
            .field("rollout", &self.rollout)
            .finish()
    }
}

impl<F, Fut, D> Tenants<F, D>
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
            checker: None,
        }
    }

    /// The migrator that checks every tenant at once: on a driver reaching all the tenants
    /// (a pool on the server, whatever its `search_path` or database), with the tenants'
    /// migration set and history table name (its schema is ignored: each tenant's is the
    /// tenant). [`Tenants::run`] and [`Tenants::status`] then start with
    /// [`Tenants::check`].
    pub fn check_on(mut self, migrator: Migrator<D>) -> Self {
        self.checker = Some(migrator);
        self
    }

    /// The all-tenants startup check, in one round trip: where each tenant stands, in the
    /// order given ([`TenantCheck::Current`]: a run has nothing to do). Needs
    /// [`Tenants::check_on`].
    pub async fn check(&self) -> Result<Vec<(String, TenantCheck)>, Error> {
        let Some(checker) = &self.checker else {
            return Err(Error::InvalidOption {
                option: "Tenants::check",
                value: String::new(),
                reason: "no migrator to check with: call Tenants::check_on with a migrator on the tenants' server"
                    .to_owned(),
            });
        };
        let checks = checker.check_tenants(&self.names, self.phases, self.target).await?;
        Ok(self.names.iter().cloned().zip(checks).collect())
    }

    /// Whether each tenant is current, from [`Tenants::check`] when it can tell (one round
    /// trip), else `None` (every tenant is then looked at on its own).
    async fn current(&self) -> Option<Vec<bool>> {
        self.checker.as_ref()?;
        match self.check().await {
            Ok(checks) => Some(checks.iter().map(|(_, check)| check.is_current()).collect()),
            Err(error) => {
                warn!(%error, "the all-tenants check failed: checking each tenant on its own");
                None
            }
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

    /// Runs the rollout; every tenant is in the report, in the order given. With
    /// [`Tenants::check_on`], the current tenants are found first in one round trip and
    /// reported current without a run; the waves and the canary are over the others.
    pub async fn run(&self) -> TenantsReport {
        let mut outcomes: Vec<Option<TenantReport>> = self.names.iter().map(|_| None).collect();
        let current = self.current().await;
        if let Some(current) = &current {
            let count = current.iter().filter(|c| **c).count();
            info!(
                current = count,
                tenants = self.names.len(),
                "all-tenants check: {count} of {} current",
                self.names.len()
            );
        }
        let mut todo = Vec::with_capacity(self.names.len());
        for (index, name) in self.names.iter().enumerate() {
            if current.as_ref().and_then(|c| c.get(index)).copied().unwrap_or(false) {
                if let Some(slot) = outcomes.get_mut(index) {
                    *slot = Some(TenantReport::new(name, TenantState::Current));
                }
            } else {
                todo.push(index);
            }
        }
        let mut failed = 0;
        for wave in rollout_waves(self.rollout, todo.len()) {
            let mut next = wave.start;
            let mut running = FuturesUnordered::new();
            loop {
                while running.len() < self.parallel && next < wave.end && launch_next(self.rollout, failed) {
                    if let Some(&index) = todo.get(next)
                        && let Some(name) = self.names.get(index)
                    {
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
            .map(|(name, outcome)| outcome.unwrap_or_else(|| TenantReport::new(name, TenantState::Pending)))
            .collect();
        TenantsReport { tenants }
    }

    /// Creates a new tenant in one call: its schema (PostgreSQL) or database (MySQL), made
    /// through the [`Tenants::check_on`] migrator's driver, then the whole set applied by
    /// `migrator_for(name)`'s migrator, grouped in one transaction where the backend can
    /// (PostgreSQL: one commit for every transactional migration). Refused, with nothing
    /// changed, when the schema or database exists ([`crate::plan::create_tenant`]).
    pub async fn create(&self, name: &str) -> Result<Report, Error> {
        let Some(checker) = &self.checker else {
            return Err(Error::InvalidOption {
                option: "Tenants::create",
                value: name.to_owned(),
                reason: "no migrator on the server: call Tenants::check_on with a migrator on the tenants' server"
                    .to_owned(),
            });
        };
        let ident = crate::history::Ident::new("tenant", name)?;
        let caps = checker.driver.capabilities();
        let area = if caps.schemas { "schema" } else { "database" };
        let created = checker.driver.create_area(&ident).await?;
        let grouped = plan::create_tenant(name, area, created, caps.grouped_apply)?;
        let mut migrator = (self.migrator_for)(name.to_owned()).await?;
        migrator.options.grouped = grouped;
        let report = migrator.run_with(self.phases, self.target).await?;
        info!(tenant = %name, applied = report.applied().count(), grouped, "tenant {name} created");
        Ok(report)
    }

    /// Creates every listed tenant ([`Tenants::create`]), at most [`Tenants::parallel`] at
    /// once; each is applied or failed in the report (a tenant that exists is failed, and
    /// unchanged).
    pub async fn create_all(&self) -> TenantsReport {
        let tenants = stream::iter(self.names.iter())
            .map(|name| async move {
                match self.create(name).await {
                    Ok(report) => TenantReport {
                        name: name.clone(),
                        state: TenantState::Applied,
                        report: Some(report),
                        error: None,
                    },
                    Err(error) => {
                        warn!(tenant = %name, %error, "creating tenant {name} failed");
                        TenantReport {
                            name: name.clone(),
                            state: TenantState::Failed,
                            report: None,
                            error: Some(error),
                        }
                    }
                }
            })
            .buffered(self.parallel)
            .collect()
            .await;
        TenantsReport { tenants }
    }

    /// Where every tenant stands, without changing anything: with [`Tenants::check_on`], the
    /// current tenants are found in one round trip, and only the others' histories are read
    /// (for their pending migrations); at most [`Tenants::parallel`] at once.
    pub async fn status(&self) -> Vec<TenantStatus> {
        let current = self.current().await;
        let known = |index: usize| current.as_ref().and_then(|c| c.get(index)).copied().unwrap_or(false);
        stream::iter(self.names.iter().enumerate())
            .map(|(index, name)| self.status_one(name, known(index)))
            .buffered(self.parallel)
            .collect()
            .await
    }

    async fn status_one(&self, name: &str, known_current: bool) -> TenantStatus {
        let status = |state, standing, error| TenantStatus { name: name.to_owned(), state, standing, error };
        if known_current {
            return status(TenantState::Current, None, None);
        }
        let read = match (self.migrator_for)(name.to_owned()).await {
            Ok(migrator) => migrator.status().await,
            Err(e) => Err(e),
        };
        match read {
            Ok(read) => {
                let standing = plan::tenant_standing(&read.migrations, self.phases);
                let state = match (&standing.blocked, standing.pending.is_empty()) {
                    (Some(_), _) => TenantState::Failed,
                    (None, false) => TenantState::Pending,
                    (None, true) => TenantState::Current,
                };
                status(state, Some(standing), None)
            }
            Err(error) => status(TenantState::Failed, None, Some(error)),
        }
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

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
    /// The all-tenants startup check: where each of `tenants` (schemas on PostgreSQL,
    /// databases on MySQL, reached through this migrator's driver) stands for a run of
    /// `phases` up to `target`, in one round trip. The server compares each tenant's history
    /// table (this migrator's table name, in the tenant) with the histories in which a run
    /// has nothing to do; [`plan::check_tenant`] decides.
    pub async fn check_tenants(
        &self,
        tenants: &[String],
        phases: Phases,
        target: Option<i64>,
    ) -> Result<Vec<TenantCheck>, Error> {
        let target = target.map(Version::try_from).transpose()?;
        let expected: Vec<String> = self.noop_candidates(phases, target).iter().map(|e| e.digest.clone()).collect();
        let found = self.driver.digest_tenants(tenants, &self.options.table.name).await?;
        let found: HashMap<&str, &HistoryDigest> = found.iter().map(|(name, d)| (name.as_str(), d)).collect();
        Ok(tenants.iter().map(|t| plan::check_tenant(found.get(t.as_str()).copied(), &expected, LAYOUT)).collect())
    }
}

/// Where a tenant stands for `status`.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantStatus {
    /// The tenant's name.
    pub name: String,
    /// [`TenantState::Current`], [`TenantState::Pending`] (a run has something to do: see
    /// `standing`) or [`TenantState::Failed`] (a run would stop at a failed, interrupted or
    /// changed migration: see `standing`; or its history could not be read: see `error`).
    pub state: TenantState,
    /// Its pending migrations and the migration a run would stop at, when its history was
    /// read (`None` when the all-tenants check found it current).
    pub standing: Option<plan::TenantStanding>,
    /// Why its history could not be read.
    pub error: Option<Error>,
}

impl TenantStatus {
    /// The versions a run would apply.
    pub fn pending(&self) -> Vec<Version> {
        self.standing.as_ref().map(|s| s.pending.clone()).unwrap_or_default()
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
    /// Its run's report, when it ran to the end (`None` when the all-tenants check found it
    /// current, and it did not run).
    pub report: Option<Report>,
    /// Its error, when it failed (which migration and statement, what was left behind).
    pub error: Option<Error>,
}

impl TenantReport {
    fn new(name: &str, state: TenantState) -> Self {
        TenantReport { name: name.to_owned(), state, report: None, error: None }
    }

    /// The versions this run applied to it; for a failed tenant, those its run applied
    /// before the failure (committed: the failure did not undo them).
    pub fn applied(&self) -> Vec<Version> {
        match (&self.report, &self.error) {
            (Some(report), _) => report.applied().map(|s| s.version).collect(),
            (None, Some(error)) => error.applied_before().to_vec(),
            (None, None) => Vec::new(),
        }
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
