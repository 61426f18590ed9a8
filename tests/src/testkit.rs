//! The test kit's tests, written once and generic over [`KitCase`]: what a backend's
//! `testing` module must do (fresh copies, one template build across tasks and processes,
//! cleanup after panics, waiting for the build lock, template hygiene by prefix,
//! reversibility and drift checks). `tests/testkit_<backend>.rs` runs them per backend
//! ([`crate::testkit_tests`]) beside what only that backend has.
//!
//! Tests that make templates use a kit with a prefix of their own ([`Kit::scoped`]), whose
//! templates are dropped when it is, so that no test lists, sweeps or drops another's.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_core::driver::{Driver, Inspect};
use migrator_core::testing::{KitBackend, TestKit};
use migrator_core::{Dialect, EmbeddedMigrations, IntoMigrations, MigrationSet, Migrator, ReversibilityReport};

use crate::dir::Dir;

/// The pool a backend's tests receive.
pub type Pool<C> = <<C as KitCase>::Backend as KitBackend>::Pool;

/// The connection type of a backend's migrations.
pub type KitConn<C> = <<<C as KitCase>::Backend as KitBackend>::Driver as Driver>::Conn;

/// A migration whose down forgets something, and what the reversibility check must say.
#[derive(Debug, Clone, Copy)]
pub struct Forgetful {
    /// The migration's name (version 2, after the users table).
    pub name: &'static str,
    /// Its up script.
    pub up: &'static str,
    /// Its down script.
    pub down: &'static str,
    /// How the failure starts; empty when the down is in fact complete.
    pub expected: &'static str,
    /// Another difference the failure must list too.
    pub also: Option<&'static str>,
}

/// One backend, as the test kit's tests need it: its kit, a few queries, and the SQL of
/// its reversibility and drift cases.
#[async_trait]
pub trait KitCase: Send + Sync + 'static {
    /// The backend's test kit operations.
    type Backend: KitBackend<Driver: Inspect>;

    /// The backend's name for `testkit-worker`.
    const NAME: &'static str;
    /// The dialect of its migrations.
    const DIALECT: Dialect;
    /// How many tests run at once in the parallel test.
    const PARALLEL: usize;
    /// The query naming the database a pool is on (a path for SQLite).
    const CURRENT_DATABASE: &'static str;
    /// The `users` table the reversibility and drift cases start from.
    const USERS: &'static str;
    /// A hand-made change: a column `nickname` added, the index `idx_users_email` dropped.
    const DRIFT: &'static str;
    /// How the drift names the dropped index.
    const MISSING_INDEX: &'static str;

    /// The application's migrations (`accounts (id, email)`), embedded.
    fn app() -> EmbeddedMigrations;

    /// The backend's settings for one test, and what must outlive the kit (SQLite's
    /// directory).
    fn backend() -> (Self::Backend, Option<tempfile::TempDir>);

    /// The `testkit-worker` binary (`env!("CARGO_BIN_EXE_testkit-worker")`, which only
    /// integration tests see).
    const WORKER: &'static str;

    /// What `testkit-worker` needs after the migrations directory and the prefix.
    fn worker_args(kit: &TestKit<Self::Backend>) -> Vec<OsString>;

    /// Runs SQL on a pool.
    async fn exec(pool: &Pool<Self>, sql: &str) -> Result<(), sqlx::Error>;

    /// Runs a query returning one integer.
    async fn scalar(pool: &Pool<Self>, sql: &str) -> i64;

    /// Runs a query returning text, one value per row.
    async fn strings(pool: &Pool<Self>, sql: &str) -> Vec<String>;

    /// The databases (files, without lock files) whose names start with `prefix`, sorted,
    /// read from the server (directory) directly rather than through the kit.
    async fn objects(kit: &TestKit<Self::Backend>, prefix: &str) -> Vec<String>;

    /// Whether the database `name` is a complete template, as the backend marks it.
    async fn is_template(kit: &TestKit<Self::Backend>, name: &str) -> bool;

    /// Makes the template `name` look built (or last used) `by` ago.
    async fn age_template(kit: &TestKit<Self::Backend>, name: &str, by: Duration);

    /// Writes a reversible set after [`KitCase::USERS`] (ending with one irreversible
    /// migration); returns how many are reversible and the irreversible one's reason.
    fn reversible(dir: &Dir) -> (usize, &'static str);

    /// Downs that forget something.
    fn forgetful() -> Vec<Forgetful>;

    /// The backend's `testing::drift_with`.
    async fn drift_with(
        kit: &TestKit<Self::Backend>,
        live: &Pool<Self>,
        migrations: MigrationSet<KitConn<Self>>,
    ) -> Result<migrator_core::Drift, migrator_core::Error>;
}

/// Seconds since 1970.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

static PREFIXES: AtomicU64 = AtomicU64::new(0);

/// A kit for one test: the shared one (no prefix; SQLite's in a directory of its own), or
/// one with a prefix of its own whose templates are dropped when the kit is.
#[derive(Debug)]
pub struct Kit<C: KitCase> {
    kit: TestKit<C::Backend>,
    scoped: bool,
    _dir: Option<tempfile::TempDir>,
}

impl<C: KitCase> Kit<C> {
    /// The kit every test shares (templates of the fixtures are built once and kept).
    pub fn shared() -> Kit<C> {
        let (backend, dir) = C::backend();
        Kit { kit: TestKit::new(backend), scoped: false, _dir: dir }
    }

    /// A kit with a prefix no other test uses (`kt<pid>_<n>_`).
    pub fn scoped() -> Kit<C> {
        let (backend, dir) = C::backend();
        let prefix = format!("kt{}_{}_", std::process::id(), PREFIXES.fetch_add(1, Ordering::Relaxed));
        Kit { kit: TestKit::<C::Backend>::new(backend).prefix(&prefix).unwrap(), scoped: true, _dir: dir }
    }

    /// The kit.
    pub fn kit(&self) -> &TestKit<C::Backend> {
        &self.kit
    }
}

impl<C: KitCase> std::ops::Deref for Kit<C> {
    type Target = TestKit<C::Backend>;

    fn deref(&self) -> &TestKit<C::Backend> {
        &self.kit
    }
}

impl<C: KitCase> Drop for Kit<C> {
    fn drop(&mut self) {
        if self.scoped {
            let kit = self.kit.clone();
            let _ = std::thread::spawn(move || {
                tokio::runtime::Runtime::new().unwrap().block_on(async { kit.drop_templates(None).await })
            })
            .join();
        }
    }
}

fn set<C: KitCase>(dir: &Dir) -> MigrationSet<KitConn<C>> {
    dir.set::<KitConn<C>>(C::DIALECT)
}

fn app_set<C: KitCase>() -> MigrationSet<KitConn<C>> {
    C::app().into_migrations().unwrap()
}

async fn exists<C: KitCase>(kit: &TestKit<C::Backend>, name: &str) -> bool {
    C::objects(kit, name).await.iter().any(|n| n == name)
}

/// A migration set no other test uses (a unique comment), so its template is new.
pub fn unique_set(dir: &Dir) {
    let marker = format!("{}-{:?}", std::process::id(), std::time::SystemTime::now());
    dir.up(
        1,
        "create_jobs",
        &format!("-- {marker}\nCREATE TABLE jobs (id BIGINT PRIMARY KEY, state VARCHAR(20) NOT NULL);\n"),
    )
    .down(1, "create_jobs", "DROP TABLE jobs;\n");
}

/// The name of the database a pool is on (SQLite: its file's name).
async fn current<C: KitCase>(pool: &Pool<C>) -> String {
    let current = C::strings(pool, C::CURRENT_DATABASE).await.pop().unwrap();
    Path::new(&current).file_name().unwrap().to_string_lossy().into_owned()
}

/// The body of the attribute test: the pool is on a migrated database of its own.
pub async fn attribute_gives_a_migrated_pool<C: KitCase>(pool: Pool<C>) {
    C::exec(&pool, "INSERT INTO accounts (email) VALUES ('a@example.com')").await.unwrap();
    assert_eq!(
        C::scalar(&pool, "SELECT count(*) FROM accounts").await,
        1,
        "a fresh database: nothing from other tests"
    );
}

/// The body of the attribute test returning a `Result`.
pub async fn attribute_accepts_a_result<C: KitCase>(pool: Pool<C>) -> Result<(), sqlx::Error> {
    C::exec(&pool, "INSERT INTO accounts (email) VALUES ('b@example.com')").await?;
    Ok(())
}

/// A test body returning an error fails the test, naming the error, and its database goes.
pub fn an_error_returned_fails_the_test<C: KitCase>() {
    static NAME: Mutex<Option<String>> = Mutex::new(None);
    let kit = Kit::<C>::shared();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        kit.run_test(C::app(), |pool: Pool<C>| async move {
            *NAME.lock().unwrap() = Some(current::<C>(&pool).await);
            C::exec(&pool, "SELECT no_such_column FROM accounts").await
        })
    }));
    let panic = outcome.unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.starts_with("test returned an error:"), "{message}");
    assert!(message.contains("no_such_column"), "{message}");
    let name = NAME.lock().unwrap().take().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert!(!runtime.block_on(exists::<C>(&kit, &name)), "{name} was dropped");
}

/// Parallel tests each get a database of their own, from one template, and each is dropped.
pub async fn parallel_tests_each_get_their_own_data<C: KitCase>() {
    let kit = Kit::<C>::scoped();
    let mut tasks = Vec::new();
    for i in 0..C::PARALLEL {
        let kit = kit.kit().clone();
        tasks.push(tokio::spawn(async move {
            let db = kit.fresh(C::app()).await.unwrap();
            C::exec(db.pool(), &format!("INSERT INTO accounts (email) VALUES ('{i}@example.com')")).await.unwrap();
            let emails = C::strings(db.pool(), "SELECT email FROM accounts").await;
            assert_eq!(emails, [format!("{i}@example.com")]);
            let name = db.name().to_owned();
            db.close().await.unwrap();
            name
        }));
    }
    let mut names = Vec::new();
    for task in tasks {
        names.push(task.await.unwrap());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), C::PARALLEL, "each test had its own database");
    for name in &names {
        assert!(!exists::<C>(&kit, name).await, "{name} was dropped");
    }
    let templates: Vec<String> = kit.templates().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(templates, [kit.template_name(&app_set::<C>())], "one template");
}

/// A panicking test leaves nothing behind: through the attribute's runner, and through the
/// database handle's drop during unwinding.
pub fn a_panicking_test_leaves_nothing_behind<C: KitCase>() {
    static PANICKED_IN: Mutex<Option<String>> = Mutex::new(None);
    // Through the attribute's runner (the kit from the environment).
    let outcome = std::panic::catch_unwind(|| {
        migrator_core::testing::run_test::<C::Backend, _, _>(C::app(), |pool: Pool<C>| async move {
            let name = current::<C>(&pool).await;
            *PANICKED_IN.lock().unwrap() = Some(name.clone());
            if !name.is_empty() {
                panic!("the test failed");
            }
        })
    });
    assert!(outcome.is_err(), "the panic reached the test");
    let first = PANICKED_IN.lock().unwrap().take().unwrap();
    // Through the handle's drop, during unwinding.
    let kit = Kit::<C>::shared();
    let thread_kit = kit.kit().clone();
    let from_drop = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let db = thread_kit.fresh(C::app()).await.unwrap();
            *PANICKED_IN.lock().unwrap() = Some(db.name().to_owned());
            panic!("failing while holding the database");
        })
    })
    .join();
    assert!(from_drop.is_err());
    let second = PANICKED_IN.lock().unwrap().take().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let env = TestKit::<C::Backend>::from_env().unwrap();
        assert!(!exists::<C>(&env, &first).await, "{first} was dropped after the panic");
        assert!(!exists::<C>(&kit, &second).await, "{second} was dropped by the handle's drop");
    });
}

/// Concurrent tests of one set build its template once, leave nothing half-built, and a
/// changed set gets a new template.
pub async fn the_template_is_built_once_per_migration_set<C: KitCase>() {
    let dir = Dir::new();
    unique_set(&dir);
    let kit = Kit::<C>::scoped();
    let template = kit.template_name(&set::<C>(&dir));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (kit, set) = (kit.kit().clone(), set::<C>(&dir));
        tasks.push(tokio::spawn(async move { kit.fresh(set).await.unwrap().close().await.unwrap() }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        C::objects(&kit, kit.name_prefix()).await,
        std::slice::from_ref(&template),
        "one template, no half-built leftovers, no test database left"
    );
    assert!(C::is_template(&kit, &template).await, "{template} is marked complete");
    // A changed set gets a new template.
    dir.up(2, "index_jobs", "CREATE INDEX jobs_state ON jobs (state);\n");
    assert_ne!(kit.template_name(&set::<C>(&dir)), template);
}

/// Test processes share one template build (the lock spans processes).
pub fn test_processes_share_one_template_build<C: KitCase>() {
    let dir = Dir::new();
    unique_set(&dir);
    let kit = Kit::<C>::scoped();
    let template = kit.template_name(&set::<C>(&dir));
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(C::WORKER)
                .arg(C::NAME)
                .arg(dir.path())
                .arg(kit.name_prefix())
                .args(C::worker_args(&kit))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut names = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8(out.stdout).unwrap();
        let (name, tables) = line.trim().rsplit_once(' ').unwrap();
        assert_eq!(tables, "1", "the database was migrated");
        names.push(name.to_owned());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let objects = runtime.block_on(C::objects(&kit, kit.name_prefix()));
    assert_eq!(objects, [template], "four processes, one template");
}

/// A wait for another process's template build gives up after the kit's build wait, with
/// an error that says what it waited for; the build goes ahead once the lock is free.
pub async fn a_template_build_held_elsewhere_times_out<C: KitCase>() {
    let dir = Dir::new();
    unique_set(&dir);
    let kit = Kit::<C>::scoped();
    let impatient = kit.kit().clone().build_wait(Duration::from_millis(400));
    let template = kit.template_name(&set::<C>(&dir));
    let mut holder = kit.admin().await.unwrap();
    let lock = kit.try_lock_template(&mut holder, &template).await.unwrap().expect("the lock is free");
    let mut other = kit.admin().await.unwrap();
    assert!(kit.try_lock_template(&mut other, &template).await.unwrap().is_none(), "one holder at a time");
    kit.close_admin(other).await;

    let started = Instant::now();
    let e = impatient.fresh(set::<C>(&dir)).await.unwrap_err().to_string();
    let waited = started.elapsed();
    assert!(e.contains(&format!("waiting for another test process to build the test template {template}")), "{e}");
    assert!(e.contains("it was not built within") && e.contains("TestKit::build_wait"), "{e}");
    assert!(waited >= Duration::from_millis(400) && waited < Duration::from_secs(30), "{waited:?}");
    assert!(C::objects(&kit, kit.name_prefix()).await.is_empty(), "the waiter made nothing");

    kit.unlock_template(&mut holder, lock).await;
    kit.close_admin(holder).await;
    impatient.fresh(set::<C>(&dir)).await.unwrap().close().await.unwrap();
    assert!(C::is_template(&kit, &template).await, "built once the lock was free");
}

/// `templates()` lists a prefix's templates with age and size; `drop_templates` drops the
/// old ones or all, and never a name of another prefix.
pub async fn templates_are_listed_and_dropped_by_prefix<C: KitCase>() {
    let (first, second) = (Dir::new(), Dir::new());
    unique_set(&first);
    unique_set(&second);
    second.up(2, "index_jobs", "CREATE INDEX jobs_state ON jobs (state);\n");
    let (a, b) = (Kit::<C>::scoped(), Kit::<C>::scoped());
    for (kit, dir) in [(&a, &first), (&a, &second), (&b, &first)] {
        kit.fresh(set::<C>(dir)).await.unwrap().close().await.unwrap();
    }
    let (a1, a2, b1) =
        (a.template_name(&set::<C>(&first)), a.template_name(&set::<C>(&second)), b.template_name(&set::<C>(&first)));
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    let listed = a.templates().await.unwrap();
    assert_eq!(listed.iter().map(|t| t.name.clone()).collect::<Vec<_>>(), expected);
    for template in &listed {
        assert!(template.age.is_some_and(|age| age < Duration::from_secs(3600)), "{template:?}");
        assert!(template.size.is_some_and(|size| size > 0), "{template:?}");
    }
    assert_eq!(b.templates().await.unwrap().into_iter().map(|t| t.name).collect::<Vec<_>>(), std::slice::from_ref(&b1));
    let shared = Kit::<C>::shared();
    for template in shared.templates().await.unwrap() {
        assert!(template.name.starts_with("mtpl_"), "the unprefixed kit lists only its own: {template:?}");
    }

    // Older than a day: only the template made to look old.
    C::age_template(&a, &a1, Duration::from_secs(8 * 24 * 3600)).await;
    let aged = a.templates().await.unwrap().into_iter().find(|t| t.name == a1).unwrap();
    assert!(aged.age.is_some_and(|age| age >= Duration::from_secs(8 * 24 * 3600)), "{aged:?}");
    assert_eq!(a.drop_templates(Some(Duration::from_secs(24 * 3600))).await.unwrap(), std::slice::from_ref(&a1));
    assert_eq!(C::objects(&a, a.name_prefix()).await, std::slice::from_ref(&a2));
    // All of them (and what their builds left: SQLite's lock files).
    let dropped = a.drop_templates(None).await.unwrap();
    assert!(dropped.contains(&a2) && !dropped.contains(&a1), "{dropped:?}");
    assert!(dropped.iter().all(|n| n.starts_with(&format!("{}mtpl_", a.name_prefix()))), "{dropped:?}");
    assert!(a.templates().await.unwrap().is_empty());
    assert!(C::objects(&a, a.name_prefix()).await.is_empty());
    // The other prefix's template is untouched, and still works.
    assert_eq!(C::objects(&b, b.name_prefix()).await, std::slice::from_ref(&b1));
    assert!(C::is_template(&b, &b1).await);
    b.fresh(set::<C>(&first)).await.unwrap().close().await.unwrap();
    // A dropped template is built again when needed.
    a.fresh(set::<C>(&first)).await.unwrap().close().await.unwrap();
    assert_eq!(a.templates().await.unwrap().into_iter().map(|t| t.name).collect::<Vec<_>>(), [a1]);

    let e = TestKit::<C::Backend>::new(C::backend().0).prefix("ci-42").unwrap_err().to_string();
    assert!(e.contains("letters, digits and underscores") && e.contains("MIGRATOR_TEST_PREFIX"), "{e}");
}

/// The first use of a prefix in a process sweeps that prefix's leftovers of killed runs:
/// test databases older than an hour and templates unused for a week; nothing younger.
pub async fn the_sweep_drops_old_leftovers_of_its_prefix<C: KitCase>() {
    let (old_set, new_set) = (Dir::new(), Dir::new());
    unique_set(&old_set);
    unique_set(&new_set);
    let kit = Kit::<C>::scoped();
    // A longer prefix that starts with this kit's: its names are not this kit's.
    let other = format!("{}x", kit.name_prefix());
    let suffix = <C::Backend as KitBackend>::SUFFIX;
    let old_template = kit.template_name(&set::<C>(&old_set));
    let old_db = format!("{}mtdb_1000000000_1_1{suffix}", kit.name_prefix());
    let young_db = format!("{}mtdb_{}_1_2{suffix}", kit.name_prefix(), now_secs());
    let other_db = format!("{other}mtdb_1000000000_1_1{suffix}");
    // Leftovers, made with the backend's own operations (as a killed run leaves them).
    let mut admin = kit.admin().await.unwrap();
    let (build, pool) = kit.create_build(&mut admin, &old_template).await.unwrap();
    <C::Backend as KitBackend>::close_pool(&pool).await;
    kit.finish_template(&mut admin, &build, &old_template).await.unwrap();
    for name in [&old_db, &young_db, &other_db] {
        let pool = kit.copy_template(&mut admin, &old_template, name, 1).await.unwrap();
        <C::Backend as KitBackend>::close_pool(&pool).await;
    }
    kit.close_admin(admin).await;
    C::age_template(&kit, &old_template, Duration::from_secs(8 * 24 * 3600)).await;

    let db = kit.fresh(set::<C>(&new_set)).await.unwrap();
    let mut expected =
        vec![young_db.clone(), db.name().to_owned(), kit.template_name(&set::<C>(&new_set)), other_db.clone()];
    expected.sort();
    assert_eq!(
        C::objects(&kit, kit.name_prefix()).await,
        expected,
        "the old template and test database are gone; the young one and the other prefix's stay"
    );
    db.close().await.unwrap();
    let mut admin = kit.admin().await.unwrap();
    for name in [&young_db, &other_db] {
        kit.drop_database(&mut admin, name, false).await.unwrap();
    }
    kit.close_admin(admin).await;
}

async fn check<C: KitCase>(dir: &Dir) -> ReversibilityReport {
    let kit = Kit::<C>::shared();
    let db = kit.empty().await.unwrap();
    let driver = <C::Backend as KitBackend>::driver(db.pool());
    let report = Migrator::<<C::Backend as KitBackend>::Driver>::new(driver, set::<C>(dir))
        .unwrap()
        .check_reversible()
        .await
        .unwrap();
    db.close().await.unwrap();
    report
}

fn failure(report: &ReversibilityReport) -> String {
    report.failure.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn base<C: KitCase>(dir: &Dir) {
    dir.up(1, "create_users", C::USERS).down(1, "create_users", "DROP TABLE users;\n");
}

/// A correct set is reversible; the irreversible migration is reported with its reason.
pub async fn a_correct_set_is_reversible_and_irreversible_ones_are_reported<C: KitCase>() {
    let dir = Dir::new();
    base::<C>(&dir);
    let (reversible, reason) = C::reversible(&dir);
    let report = check::<C>(&dir).await;
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.reversible.len(), reversible);
    assert_eq!(report.irreversible.len(), 1);
    assert_eq!(report.irreversible[0].2, reason);
}

/// A down that forgets something fails the check, naming the migration and the difference.
pub async fn a_down_that_forgets_something_is_named<C: KitCase>() {
    for case in C::forgetful() {
        let dir = Dir::new();
        base::<C>(&dir);
        dir.up(2, case.name, case.up).down(2, case.name, case.down);
        let report = check::<C>(&dir).await;
        let text = failure(&report);
        if case.expected.is_empty() {
            assert!(report.is_ok(), "{}: the down is complete after all: {report}", case.name);
        } else {
            assert!(text.starts_with(case.expected), "{}: {text}", case.name);
        }
        if let Some(also) = case.also {
            assert!(text.contains(also), "{}: every difference is listed: {text}", case.name);
        }
    }
}

/// Drift names a column added by hand and an index dropped by hand, and nothing when the
/// live schema is what the migrations build.
pub async fn drift_reports_a_hand_added_column_and_a_dropped_index<C: KitCase>() {
    let dir = Dir::new();
    base::<C>(&dir);
    dir.up(2, "add_index", "CREATE INDEX idx_users_email ON users (email);\n");
    let kit = Kit::<C>::shared();
    let live = kit.fresh(set::<C>(&dir)).await.unwrap();
    let clean = C::drift_with(&kit, live.pool(), set::<C>(&dir)).await.unwrap();
    assert!(clean.is_empty(), "{clean}");
    C::exec(live.pool(), C::DRIFT).await.unwrap();
    let drift = C::drift_with(&kit, live.pool(), set::<C>(&dir)).await.unwrap();
    let text = drift.to_string();
    assert_eq!(drift.differences.len(), 2, "{text}");
    assert!(text.contains("extra column users.nickname"), "{text}");
    assert!(text.contains(C::MISSING_INDEX), "{text}");
    live.close().await.unwrap();
}
