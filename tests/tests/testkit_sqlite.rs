//! The test kit for users, on SQLite: fresh migrated database files copied from a template,
//! cleanup on panic, reversibility and drift checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Mutex;

use migrator_conformance::Dir;
use migrator_sqlite::testing::{TestKit, run_test};
use migrator_sqlite::{EmbeddedMigrations, MigrationSet, Migrator, SqliteDriver, embed_migrations};
use sqlx::{SqliteConnection, SqlitePool};

static APP: EmbeddedMigrations = embed_migrations!("fixtures/sqlite-app");

/// A kit in a directory of its own, so templates and leftovers are this test's.
fn kit() -> (TestKit, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (TestKit::new(dir.path()), dir)
}

fn set(dir: &Dir) -> MigrationSet<SqliteConnection> {
    dir.set::<SqliteConnection>(migrator_core::Dialect::Sqlite)
}

fn files(dir: &std::path::Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

fn jobs(dir: &Dir) {
    dir.up(1, "create_jobs", "CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL);\n").down(
        1,
        "create_jobs",
        "DROP TABLE jobs;\n",
    );
}

#[migrator_sqlite::test(migrations = APP)]
async fn the_attribute_gives_a_migrated_pool(pool: SqlitePool) {
    sqlx::query("INSERT INTO accounts (email) VALUES ('a@example.com')").execute(&pool).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 1, "a fresh database: nothing from other tests");
}

#[migrator_sqlite::test(migrations = APP)]
async fn the_attribute_accepts_a_result(pool: SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO accounts (email) VALUES ('b@example.com')").execute(&pool).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_tests_each_get_their_own_data() {
    let (kit, dir) = kit();
    let mut tasks = Vec::new();
    for i in 0..12_i64 {
        let kit = kit.clone();
        tasks.push(tokio::spawn(async move {
            let db = kit.fresh(APP).await.unwrap();
            sqlx::query("INSERT INTO accounts (email) VALUES (?1)")
                .bind(format!("{i}@example.com"))
                .execute(db.pool())
                .await
                .unwrap();
            let emails: Vec<String> =
                sqlx::query_scalar("SELECT email FROM accounts").fetch_all(db.pool()).await.unwrap();
            assert_eq!(emails, [format!("{i}@example.com")]);
            let path = db.path().to_owned();
            db.close().await.unwrap();
            path
        }));
    }
    let mut paths = Vec::new();
    for task in tasks {
        paths.push(task.await.unwrap());
    }
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 12, "each test had its own database");
    assert!(paths.iter().all(|p| !p.exists()), "every test database was deleted");
    assert_eq!(files(dir.path(), "mtpl_").iter().filter(|n| n.ends_with(".db")).count(), 1, "one template");
}

static PANICKED_IN: Mutex<Option<PathBuf>> = Mutex::new(None);

#[test]
fn a_panicking_test_leaves_nothing_behind() {
    // Through the attribute's runner.
    let outcome = std::panic::catch_unwind(|| {
        run_test(APP, |pool: SqlitePool| async move {
            let file: String = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&pool)
                .await
                .unwrap();
            *PANICKED_IN.lock().unwrap() = Some(PathBuf::from(file));
            if pool.size() > 0 {
                panic!("the test failed");
            }
        })
    });
    assert!(outcome.is_err(), "the panic reached the test");
    let first = PANICKED_IN.lock().unwrap().take().unwrap();
    assert!(!first.exists(), "{} was deleted after the panic", first.display());
    // Through the handle's drop, during unwinding.
    let (kit, _dir) = kit();
    let from_drop = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let db = kit.fresh(APP).await.unwrap();
            *PANICKED_IN.lock().unwrap() = Some(db.path().to_owned());
            panic!("failing while holding the database");
        })
    })
    .join();
    assert!(from_drop.is_err());
    let second = PANICKED_IN.lock().unwrap().take().unwrap();
    assert!(!second.exists(), "{} was deleted by the handle's drop", second.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_is_built_once_per_migration_set() {
    let migrations = Dir::new();
    jobs(&migrations);
    let template = TestKit::template_name(&set(&migrations));
    let (kit, dir) = kit();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (kit, set) = (kit.clone(), set(&migrations));
        tasks.push(tokio::spawn(async move { kit.fresh(set).await.unwrap().close().await.unwrap() }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let templates: Vec<String> = files(dir.path(), "mtpl_").into_iter().filter(|n| !n.ends_with(".lock")).collect();
    assert_eq!(templates, std::slice::from_ref(&template), "one template, no half-built leftovers");
    assert!(files(dir.path(), "mtdb_").is_empty(), "the test databases are gone");
    // A changed set gets a new template.
    migrations.up(2, "index_jobs", "CREATE INDEX jobs_state ON jobs (state);\n");
    assert_ne!(TestKit::template_name(&set(&migrations)), template);
}

#[test]
fn test_processes_share_one_template_build() {
    let migrations = Dir::new();
    jobs(&migrations);
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_testkit-worker"))
                .arg("sqlite")
                .arg(migrations.path())
                .arg(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut paths = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8(out.stdout).unwrap();
        let (path, tables) = line.trim().rsplit_once(' ').unwrap();
        assert_eq!(tables, "1", "the database was migrated");
        paths.push(path.to_owned());
    }
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 4);
    let templates: Vec<String> = files(dir.path(), "mtpl_").into_iter().filter(|n| n.ends_with(".db")).collect();
    assert_eq!(templates.len(), 1, "four processes, one template: {templates:?}");
}

fn base(dir: &Dir) {
    dir.up(1, "create_users", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n").down(
        1,
        "create_users",
        "DROP TABLE users;\n",
    );
}

async fn check(dir: &Dir) -> migrator_sqlite::ReversibilityReport {
    let (kit, _files) = kit();
    let db = kit.empty().await.unwrap();
    let m = Migrator::new(SqliteDriver::from(db.pool()), set(dir)).unwrap();
    let report = m.check_reversible().await.unwrap();
    db.close().await.unwrap();
    report
}

fn failure(report: &migrator_sqlite::ReversibilityReport) -> String {
    report.failure.as_ref().map(ToString::to_string).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_set_is_reversible_and_irreversible_ones_are_reported() {
    let dir = Dir::new();
    base(&dir);
    dir.up(2, "add_index", "CREATE INDEX idx_users_email ON users (email) WHERE email <> '';\n")
        .down(2, "add_index", "DROP INDEX idx_users_email;\n")
        .up(3, "add_column", "ALTER TABLE users ADD COLUMN bio TEXT DEFAULT 'none';\n")
        .down(3, "add_column", "ALTER TABLE users DROP COLUMN bio;\n")
        .up(
            4,
            "add_trigger",
            "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT CASE WHEN NEW.email = '' THEN RAISE(ABORT, 'empty') END; END;\n",
        )
        .down(4, "add_trigger", "DROP TRIGGER users_touch;\n")
        .up(5, "add_orders", "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\nCREATE VIEW user_ids AS SELECT id FROM users;\n")
        .down(5, "add_orders", "DROP VIEW user_ids;\nDROP TABLE orders;\n")
        .up(6, "drop_bio", "-- migrator:irreversible -- the bios are gone\nALTER TABLE users DROP COLUMN bio;\n")
        // A CHECK on a table whose CREATE TABLE text ADD/DROP COLUMN then edit: still equal.
        .up(7, "add_scores", "CREATE TABLE scores (id INTEGER PRIMARY KEY, points INTEGER CHECK (points >= 0));\n")
        .down(7, "add_scores", "DROP TABLE scores;\n")
        .up(8, "add_level", "ALTER TABLE scores ADD COLUMN level INTEGER CHECK (level BETWEEN 1 AND 9);\n")
        .down(8, "add_level", "ALTER TABLE scores DROP COLUMN level;\n");
    let report = check(&dir).await;
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.reversible.len(), 7);
    assert_eq!(report.irreversible.len(), 1);
    assert_eq!(report.irreversible[0].2, "the bios are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_that_forgets_something_is_named() {
    let cases = [
        (
            "add_index",
            "CREATE INDEX idx_users_email ON users (email);\n",
            "-- forgot the index\n",
            "down of 2_add_index left index idx_users_email",
        ),
        (
            "add_column",
            "ALTER TABLE users ADD COLUMN bio TEXT;\n",
            "-- forgot the column\n",
            "down of 2_add_column left column users.bio",
        ),
        (
            "add_trigger",
            "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END;\n",
            "-- forgot the trigger\n",
            "down of 2_add_trigger left trigger users.users_touch",
        ),
        (
            "add_orders",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE);\n",
            "CREATE TABLE keep (id INTEGER);\nDROP TABLE orders;\n",
            "down of 2_add_orders left table keep",
        ),
        (
            // SQLite adds a constraint by rebuilding the table; this down forgets to rebuild
            // it without the CHECK.
            "add_check",
            "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL, \
             CONSTRAINT email_not_empty CHECK (email <> ''));\n\
             INSERT INTO users_new SELECT id, email FROM users;\nDROP TABLE users;\n\
             ALTER TABLE users_new RENAME TO users;\n",
            "-- forgot to rebuild the table without the check\n",
            "down of 2_add_check left constraint users.email_not_empty",
        ),
    ];
    for (name, up, down, expected) in cases {
        let dir = Dir::new();
        base(&dir);
        dir.up(2, name, up).down(2, name, down);
        let report = check(&dir).await;
        assert!(failure(&report).starts_with(expected), "{name}: {}", failure(&report));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_reports_a_hand_added_column_and_a_dropped_index() {
    let dir = Dir::new();
    base(&dir);
    dir.up(2, "add_index", "CREATE INDEX idx_users_email ON users (email);\n").down(
        2,
        "add_index",
        "DROP INDEX idx_users_email;\n",
    );
    let (kit, _files) = kit();
    let live = kit.fresh(set(&dir)).await.unwrap();
    let clean = migrator_sqlite::testing::drift_with(&kit, live.pool(), set(&dir)).await.unwrap();
    assert!(clean.is_empty(), "{clean}");
    sqlx::raw_sql("ALTER TABLE users ADD COLUMN nickname TEXT; DROP INDEX idx_users_email")
        .execute(live.pool())
        .await
        .unwrap();
    let drift = migrator_sqlite::testing::drift_with(&kit, live.pool(), set(&dir)).await.unwrap();
    let text = drift.to_string();
    assert_eq!(drift.differences.len(), 2, "{text}");
    assert!(text.contains("extra column users.nickname"), "{text}");
    assert!(text.contains("missing index idx_users_email"), "{text}");
    live.close().await.unwrap();
}
