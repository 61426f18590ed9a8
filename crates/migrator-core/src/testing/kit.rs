//! [`TestKit`]: templates built once, fresh copies per test, the sweep and template hygiene.

use std::ops::Deref;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing::{debug, info};

use super::backend::{KitBackend, Listed};
use super::db::TestDb;
use super::names::{self, Kind};
use crate::backoff::Backoff;
use crate::driver::Driver;
use crate::error::Error;
use crate::runner::Migrator;
use crate::set::{IntoMigrations, MigrationSet};
use crate::version::Phases;

/// How old a test database must be for the sweep to drop it (its test is long over).
pub const TEST_DATABASE_AGE: Duration = Duration::from_secs(3600);
/// How long after its build (its last use, for SQLite files) the sweep drops a template.
pub const TEMPLATE_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a test waits, by default, for another process to build the template it needs.
pub const TEMPLATE_BUILD_WAIT: Duration = Duration::from_secs(600);

/// The connection type of a backend's migrations.
pub(crate) type Conn<B> = <<B as KitBackend>::Driver as Driver>::Conn;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
/// The backends and prefixes already swept by this process.
static SWEPT: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Where test databases are made: a backend's settings, the prefix of every name, the size
/// of each test's pool and how long to wait for another process's template build.
///
/// Immutable: each setter returns a new kit. The backend's own settings (SQLite's `dir()`)
/// are reached through `Deref`.
#[derive(Debug, Clone)]
pub struct TestKit<B: KitBackend> {
    backend: B,
    prefix: String,
    max_connections: u32,
    build_wait: Duration,
}

impl<B: KitBackend> Deref for TestKit<B> {
    type Target = B;

    fn deref(&self) -> &B {
        &self.backend
    }
}

impl<B: KitBackend> TestKit<B> {
    /// A kit on `backend` (a server's admin options, a directory), with no name prefix.
    pub fn new(backend: impl Into<B>) -> TestKit<B> {
        TestKit { backend: backend.into(), prefix: String::new(), max_connections: 5, build_wait: TEMPLATE_BUILD_WAIT }
    }

    /// The backend from its environment variables, and the name prefix from
    /// `MIGRATOR_TEST_PREFIX` (none when unset).
    pub fn from_env() -> Result<TestKit<B>, Error> {
        let kit = TestKit::<B>::new(B::from_env()?);
        match std::env::var("MIGRATOR_TEST_PREFIX") {
            Ok(prefix) => kit.prefix(&prefix),
            Err(std::env::VarError::NotPresent) => Ok(kit),
            Err(std::env::VarError::NotUnicode(_)) => kit.prefix("\u{fffd}"),
        }
    }

    /// Starts every name the kit makes with `prefix` (ASCII letters, digits and
    /// underscores, at most 24): `<prefix>mtpl_<hash>` for templates,
    /// `<prefix>mtdb_<time>_<pid>_<n>` for test databases. A kit lists, sweeps and drops only
    /// names with its own prefix, so a CI job or a test can keep its templates apart.
    pub fn prefix(mut self, prefix: &str) -> Result<TestKit<B>, Error> {
        names::valid_prefix(prefix)?;
        prefix.clone_into(&mut self.prefix);
        Ok(self)
    }

    /// The size of each test database's pool (default 5).
    pub fn max_connections(mut self, max: u32) -> TestKit<B> {
        self.max_connections = max.max(1);
        self
    }

    /// How long to wait for another process building the template (default 10 minutes).
    pub fn build_wait(mut self, wait: Duration) -> TestKit<B> {
        self.build_wait = wait;
        self
    }

    /// The backend's settings.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The name prefix.
    pub fn name_prefix(&self) -> &str {
        &self.prefix
    }

    /// The template's name for a migration set: the prefix and the set's fingerprint
    /// (versions and checksums), so a changed set gets a new template.
    pub fn template_name(&self, migrations: &MigrationSet<Conn<B>>) -> String {
        names::template(&self.prefix, &migrations.fingerprint(), B::SUFFIX)
    }

    /// A fresh database with every migration applied (all phases), and a pool on it: a copy
    /// of the set's template, which is built first if no process has built it yet.
    pub async fn fresh(&self, migrations: impl IntoMigrations<Conn<B>>) -> Result<TestDb<B>, Error> {
        let set = migrations.into_migrations()?;
        let template = self.template_name(&set);
        let mut admin = self.backend.admin().await?;
        let made = async {
            self.sweep(&mut admin).await;
            self.ensure_template(&mut admin, &template, &set).await?;
            let name = names::database(&self.prefix, SEQUENCE.fetch_add(1, Ordering::Relaxed), B::SUFFIX);
            let pool = self.backend.copy_template(&mut admin, &template, &name, self.max_connections).await?;
            debug!(database = %name, template = %template, "test database ready");
            Ok(TestDb::new(self.backend.clone(), name, pool))
        }
        .await;
        self.backend.close_admin(admin).await;
        made
    }

    /// A fresh database with *no* migration applied (for reversibility checks), made the
    /// same way from an empty template.
    pub async fn empty(&self) -> Result<TestDb<B>, Error> {
        self.fresh(MigrationSet::<Conn<B>>::new()).await
    }

    /// Builds the template unless it is ready: under the backend's cross-process lock, so
    /// concurrent tests and test processes build it once; a waiter gives up after the
    /// kit's build wait.
    async fn ensure_template(
        &self,
        admin: &mut B::Admin,
        template: &str,
        set: &MigrationSet<Conn<B>>,
    ) -> Result<(), Error> {
        if self.backend.template_ready(admin, template).await? {
            return Ok(());
        }
        let mut backoff = Backoff::new(self.build_wait);
        let lock = loop {
            if let Some(lock) = self.backend.try_lock_template(admin, template).await? {
                break lock;
            }
            if backoff.first() {
                info!(template, "waiting for another test process to build the test template");
            }
            if let Err(waited) = backoff.pause(tokio::time::sleep).await {
                return Err(Error::database(
                    format!("waiting for another test process to build the test template {template}"),
                    format!(
                        "it was not built within {}s: the process building it may be stuck (stop it), or the \
                         migrations take longer (raise the wait with `TestKit::build_wait`)",
                        waited.as_secs()
                    ),
                ));
            }
        };
        let built = async {
            if self.backend.template_ready(admin, template).await? {
                return Ok(());
            }
            self.build_template(admin, template, set).await
        }
        .await;
        self.backend.unlock_template(admin, lock).await;
        built
    }

    /// Applies the set to a database of its own (no migration lock: the build lock
    /// guards it), then makes it the template; a failed build is dropped.
    async fn build_template(
        &self,
        admin: &mut B::Admin,
        template: &str,
        set: &MigrationSet<Conn<B>>,
    ) -> Result<(), Error> {
        let started = Instant::now();
        let (build, pool) = self.backend.create_build(admin, template).await?;
        let applied = match Migrator::<B::Driver>::builder(B::driver(&pool), set.clone()).no_lock().build() {
            Ok(migrator) => migrator.run_with(Phases::All, None).await.map(drop),
            Err(e) => Err(e),
        };
        // Closing the pool ends every connection to the build before it becomes the template.
        B::close_pool(&pool).await;
        let finished = match applied {
            Ok(()) => self.backend.finish_template(admin, &build, template).await,
            Err(e) => Err(e),
        };
        if let Err(e) = finished {
            if let Err(dropped) = self.backend.drop_database(admin, &build, true).await {
                debug!(database = %build, error = %dropped, "dropping a failed template build failed");
            }
            return Err(e);
        }
        info!(template, migrations = set.len(), took_ms = started.elapsed().as_millis() as u64, "test template built");
        Ok(())
    }

    /// This kit's databases, read back from their names.
    async fn listed(&self, admin: &mut B::Admin, sizes: bool) -> Result<Vec<(Listed, Kind)>, Error> {
        let listed = self.backend.list(admin, &self.prefix, sizes).await?;
        Ok(listed
            .into_iter()
            .filter_map(|l| names::kind(&l.name, &self.prefix, B::SUFFIX).map(|kind| (l, kind)))
            .collect())
    }

    /// Drops this kit's test databases older than an hour and templates unused for a week,
    /// once per process and prefix. Failures are only logged: a sweep never fails a test.
    async fn sweep(&self, admin: &mut B::Admin) {
        let key = format!("{}:{}", std::any::type_name::<B>(), self.prefix);
        {
            let mut swept = SWEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if swept.contains(&key) {
                return;
            }
            swept.push(key);
        }
        let listed = match self.listed(admin, false).await {
            Ok(listed) => listed,
            Err(e) => {
                debug!(error = %e, "listing leftover test databases failed");
                return;
            }
        };
        for (entry, kind) in listed {
            let (stale, template) = match kind {
                Kind::Database { created } => (names::age_of(created) > TEST_DATABASE_AGE, false),
                Kind::Template | Kind::TemplatePart => (entry.age.is_some_and(|age| age > TEMPLATE_AGE), true),
            };
            if stale && let Err(e) = self.backend.drop_database(admin, &entry.name, template).await {
                debug!(database = %entry.name, error = %e, "sweeping a leftover test database failed");
            }
        }
    }

    /// The templates this kit's prefix names, with their age (since built; since last used
    /// for SQLite files) and size where the backend knows them cheaply, sorted by name.
    pub async fn templates(&self) -> Result<Vec<Listed>, Error> {
        let mut admin = self.backend.admin().await?;
        let listed = self.listed(&mut admin, true).await;
        self.backend.close_admin(admin).await;
        let mut templates: Vec<Listed> =
            listed?.into_iter().filter(|(_, kind)| *kind == Kind::Template).map(|(l, _)| l).collect();
        templates.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(templates)
    }

    /// Drops this kit's templates (and what their builds left), all of them, or those
    /// older than `older_than` (a template of unknown age is dropped only with `None`).
    /// Names without the kit's prefix are never touched, nor test databases. Returns the
    /// names dropped. Run it when no test is building or copying these templates.
    pub async fn drop_templates(&self, older_than: Option<Duration>) -> Result<Vec<String>, Error> {
        let mut admin = self.backend.admin().await?;
        let dropped = async {
            let mut dropped = Vec::new();
            for (entry, kind) in self.listed(&mut admin, false).await? {
                let old = match older_than {
                    None => true,
                    Some(limit) => entry.age.is_some_and(|age| age >= limit),
                };
                if old && !matches!(kind, Kind::Database { .. }) {
                    self.backend.drop_database(&mut admin, &entry.name, true).await?;
                    dropped.push(entry.name);
                }
            }
            dropped.sort();
            Ok(dropped)
        }
        .await;
        self.backend.close_admin(admin).await;
        dropped
    }
}
