//! [`MigratorBuilder`]: the options and migrations of a [`Migrator`], checked against the
//! backend's capabilities when it is built.

use std::time::Duration;

use crate::adopt::Adopt;
use crate::capabilities::LockStrategy;
use crate::driver::Driver;
use crate::error::Error;
use crate::history::{HistoryTable, Ident};
use crate::migration::{Body, Down, Migration};
use crate::plan::build::{Requested, StepNeeds, check_build};
use crate::plan::{LockRetry, Policy};
use crate::set::{IntoMigrations, MigrationSet};
use crate::version::Phase;

use super::expected::Expected;
use super::migrator::{DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, Migrator, Options};

/// Builds a [`Migrator`] with non-default options.
#[derive(Debug)]
pub struct MigratorBuilder<D: Driver> {
    driver: D,
    migrations: Result<MigrationSet<D::Conn>, Error>,
    table: Option<String>,
    schema: Option<String>,
    lock_wait: Duration,
    lock_timeout: Option<Option<Duration>>,
    lock_retry: LockRetry,
    policy: Policy,
    lock: bool,
    lock_strategy: LockStrategy,
    adopt: Option<Adopt>,
    ignore_foreign_history: bool,
    grouped: bool,
}

impl<D: Driver> MigratorBuilder<D>
where
    D::Conn: 'static,
{
    /// Names the history table (default `_migrator_history`).
    pub fn table(mut self, name: &str) -> Self {
        self.table = Some(name.to_owned());
        self
    }

    /// Puts the history table in this schema (default: the connection's current schema).
    /// The schema is created if missing.
    pub fn schema(mut self, name: &str) -> Self {
        self.schema = Some(name.to_owned());
        self
    }

    /// How long to wait for another process's migration lock (default 300 s).
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The lock timeout of migrations without a `lock-timeout` directive (default 10 s;
    /// `None` keeps the server's setting).
    pub fn lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// How often a migration that gave up waiting for a table lock (its lock timeout) is
    /// tried again, and within how long (default [`LockRetry::DEFAULT`]: 5 attempts within
    /// 2 minutes, pausing 1 s, 2 s, 4 s, 8 s between them; [`LockRetry::off`] fails at the first
    /// lock timeout). A migration in one transaction runs again from its start; one that
    /// runs statement by statement, from the statement that timed out (which had no effect).
    /// Each retry is logged (WARN) and counted in the [`crate::StepReport`].
    pub fn lock_retry(mut self, retry: LockRetry) -> Self {
        self.lock_retry = retry;
        self
    }

    /// Applies pending migrations older than the newest applied one (with a warning)
    /// instead of refusing to run.
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.policy.allow_out_of_order = allow;
        self
    }

    /// Accepts applied versions this binary does not know (with a warning).
    pub fn ignore_unknown(mut self, ignore: bool) -> Self {
        self.policy.ignore_unknown = ignore;
        self
    }

    /// Runs without the migration lock. Only for setups that cannot lock (multi-primary
    /// clusters): concurrent runners may then apply a migration twice.
    pub fn no_lock(mut self) -> Self {
        self.lock = false;
        self
    }

    /// Which lock serializes migrators (default [`LockStrategy::Session`]); choose
    /// [`LockStrategy::lease()`] behind a transaction-mode pooler such as PgBouncer.
    pub fn lock_strategy(mut self, strategy: LockStrategy) -> Self {
        self.lock_strategy = strategy;
        self
    }

    /// Adopts another tool's history at startup: when a run finds migrator's history without
    /// rows, it first records what that tool applied ([`Migrator::adopt`], under the same lock),
    /// then applies only what is new. A database the tool never touched (no table) is simply
    /// migrated; once migrator's history has rows, the tool's table is not read again.
    pub fn adopt_from(mut self, from: Adopt) -> Self {
        self.adopt = Some(from);
        self
    }

    /// Applies migrations in a database without migrator history even when another tool's
    /// history table there (`_sqlx_migrations`, `schema_migrations`, ...) records applied
    /// migrations. By default such a first run is refused ([`crate::PlanError::ForeignHistoryFound`]):
    /// it would run them again. Set it when that table belongs to something else.
    pub fn ignore_foreign_history(mut self, ignore: bool) -> Self {
        self.ignore_foreign_history = ignore;
        self
    }

    /// Grouped apply (default off): the pending migrations of a run that would each run in
    /// a transaction of their own run together in one, so a fresh database or a new tenant
    /// commits once instead of once per migration; all of the group applies, or none of it
    /// ([`Error::GroupFailed`] names the migration that failed and the group). A
    /// `no-transaction` migration or Rust code runs alone between groups. PostgreSQL and
    /// SQLite; refused on MySQL, whose DDL commits implicitly.
    pub fn grouped(mut self, grouped: bool) -> Self {
        self.grouped = grouped;
        self
    }

    /// Adds a migration (typically a [`crate::RustMigration`]) to the set.
    pub fn migration(mut self, migration: impl Migration<D::Conn> + 'static) -> Self {
        self.migrations = self.migrations.and_then(|set| set.with(migration));
        self
    }

    /// Checks the options and the migrations against the backend's capabilities.
    pub fn build(self) -> Result<Migrator<D>, Error> {
        let caps = self.driver.capabilities();
        let set = self.migrations?;
        let requested = Requested {
            schema: self.schema.as_deref(),
            lock_timeout: self.lock_timeout.flatten(),
            strategy: self.lock_strategy,
            grouped: self.grouped,
        };
        check_build(caps, &requested, set.iter().flat_map(step_needs))?;
        let schema = self.schema.as_deref().map(|schema| Ident::new("history schema", schema)).transpose()?;
        if let Some(from) = &self.adopt {
            from.foreign_table()?;
        }
        let name = match &self.table {
            Some(table) => Ident::new("history table", table)?,
            None => HistoryTable::default().name,
        };
        let lock_timeout = match self.lock_timeout {
            Some(explicit) => explicit,
            None => caps.lock_timeout.then_some(DEFAULT_LOCK_TIMEOUT),
        };
        let mut noop = vec![Expected::of(set.iter(), set.repeatables(), false)];
        if set.iter().any(|m| m.meta().phase() == Phase::Contract) {
            noop.push(Expected::of(set.iter().filter(|m| m.meta().phase() == Phase::Expand), set.repeatables(), true));
        }
        Ok(Migrator {
            driver: self.driver,
            noop,
            stale: std::sync::OnceLock::new(),
            adopt: self.adopt,
            set,
            options: Options {
                table: HistoryTable { schema, name },
                lock_wait: self.lock_wait,
                lock_timeout,
                lock_retry: self.lock_retry,
                policy: self.policy,
                lock: self.lock && caps.migration_lock,
                lock_strategy: self.lock_strategy,
                ignore_foreign_history: self.ignore_foreign_history,
                grouped: self.grouped,
            },
        })
    }
}

/// What each step of a migration asks of the backend.
fn step_needs<'a, C: ?Sized>(m: &'a dyn Migration<C>) -> Vec<StepNeeds<'a>> {
    let mut steps = vec![m.up()];
    if let Down::Step(step) = m.down() {
        steps.push(step);
    }
    steps
        .into_iter()
        .map(|step| {
            let (origin, dialect) = match step.body {
                Body::Sql(script) => (script.path(), Some(script.dialect())),
                Body::Rust(_) => (m.meta().origin(), None),
            };
            StepNeeds {
                origin,
                dialect,
                lock_timeout: step.settings.lock_timeout.is_some(),
                statement_timeout: step.settings.statement_timeout.is_some(),
                no_transaction: step.settings.no_transaction,
            }
        })
        .collect()
}

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
    /// A migrator with default options over `driver` (for example `&PgPool`).
    pub fn new(driver: impl Into<D>, migrations: impl IntoMigrations<D::Conn>) -> Result<Self, Error> {
        Self::builder(driver, migrations).build()
    }

    /// A builder for non-default options.
    pub fn builder(driver: impl Into<D>, migrations: impl IntoMigrations<D::Conn>) -> MigratorBuilder<D> {
        MigratorBuilder {
            driver: driver.into(),
            migrations: migrations.into_migrations(),
            table: None,
            schema: None,
            lock_wait: DEFAULT_LOCK_WAIT,
            lock_timeout: None,
            lock_retry: LockRetry::DEFAULT,
            policy: Policy::default(),
            lock: true,
            lock_strategy: LockStrategy::Session,
            adopt: None,
            ignore_foreign_history: false,
            grouped: false,
        }
    }
}
