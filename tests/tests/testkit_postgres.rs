//! The test kit for users, on PostgreSQL: fresh migrated databases from a template, cleanup on
//! panic, reversibility and drift checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Mutex;

use migrator_conformance::Dir;
use migrator_conformance::postgres::server_options;
use migrator_postgres::testing::{TestKit, run_test};
use migrator_postgres::{EmbeddedMigrations, MigrationSet, Migrator, PgDriver, embed_migrations};
use sqlx::{Connection, PgConnection, PgPool};

static APP: EmbeddedMigrations = embed_migrations!("fixtures/app");

fn kit() -> TestKit {
    TestKit::new(server_options())
}

fn set(dir: &Dir) -> MigrationSet<PgConnection> {
    dir.set::<PgConnection>(migrator_core::Dialect::Postgres)
}

async fn database_exists(name: &str) -> bool {
    let mut admin = PgConnection::connect_with(&server_options()).await.unwrap();
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .unwrap()
}

async fn drop_template(admin: &mut PgConnection, template: &str) {
    for sql in
        [format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE false"), format!("DROP DATABASE \"{template}\"")]
    {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *admin).await.unwrap();
    }
}

/// A migration set no other test uses (a unique comment), so its template is new.
fn unique_set(dir: &Dir) {
    let marker = format!("{}-{:?}", std::process::id(), std::time::SystemTime::now());
    dir.up(
        1,
        "create_jobs",
        &format!("-- {marker}\nCREATE TABLE jobs (id bigint PRIMARY KEY, state text NOT NULL);\n"),
    )
    .down(1, "create_jobs", "DROP TABLE jobs;\n");
}

#[migrator_postgres::test(migrations = APP)]
async fn the_attribute_gives_a_migrated_pool(pool: PgPool) {
    sqlx::query("INSERT INTO accounts (email) VALUES ('a@example.com')").execute(&pool).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 1, "a fresh database: nothing from other tests");
}

#[migrator_postgres::test(migrations = APP)]
async fn the_attribute_accepts_a_result(pool: PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO accounts (email) VALUES ('b@example.com')").execute(&pool).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_tests_each_get_their_own_data() {
    let kit = kit();
    let mut tasks = Vec::new();
    for i in 0..12_i64 {
        let kit = kit.clone();
        tasks.push(tokio::spawn(async move {
            let db = kit.fresh(APP).await.unwrap();
            sqlx::query("INSERT INTO accounts (email) VALUES ($1)")
                .bind(format!("{i}@example.com"))
                .execute(db.pool())
                .await
                .unwrap();
            let emails: Vec<String> =
                sqlx::query_scalar("SELECT email FROM accounts").fetch_all(db.pool()).await.unwrap();
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
    assert_eq!(names.len(), 12, "each test had its own database");
    for name in names {
        assert!(!database_exists(&name).await, "{name} was dropped");
    }
}

static PANICKED_IN: Mutex<Option<String>> = Mutex::new(None);

#[test]
fn a_panicking_test_leaves_nothing_behind() {
    // Through the attribute's runner.
    let outcome = std::panic::catch_unwind(|| {
        run_test(APP, |pool: PgPool| async move {
            let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&pool).await.unwrap();
            *PANICKED_IN.lock().unwrap() = Some(name);
            if pool.size() > 0 {
                panic!("the test failed");
            }
        })
    });
    assert!(outcome.is_err(), "the panic reached the test");
    let name = PANICKED_IN.lock().unwrap().take().unwrap();
    // Through the handle's drop, during unwinding.
    let from_drop = std::thread::spawn(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let db = kit().fresh(APP).await.unwrap();
            let name = db.name().to_owned();
            *PANICKED_IN.lock().unwrap() = Some(name);
            panic!("failing while holding the database");
        })
    })
    .join();
    assert!(from_drop.is_err());
    let second = PANICKED_IN.lock().unwrap().take().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        assert!(!database_exists(&name).await, "{name} was dropped after the panic");
        assert!(!database_exists(&second).await, "{second} was dropped by the handle's drop");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_is_built_once_per_migration_set() {
    let dir = Dir::new();
    unique_set(&dir);
    let template = TestKit::template_name(&set(&dir));
    let kit = kit();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (kit, set) = (kit.clone(), set(&dir));
        tasks.push(tokio::spawn(async move { kit.fresh(set).await.unwrap().close().await.unwrap() }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut admin = PgConnection::connect_with(&server_options()).await.unwrap();
    let templates: Vec<(String, bool)> =
        sqlx::query_as("SELECT datname::text, datistemplate FROM pg_database WHERE datname LIKE $1 || '%'")
            .bind(&template)
            .fetch_all(&mut admin)
            .await
            .unwrap();
    assert_eq!(templates, [(template.clone(), true)], "one template, no half-built leftovers");
    // A changed set gets a new template.
    dir.up(2, "index_jobs", "CREATE INDEX jobs_state ON jobs (state);\n");
    assert_ne!(TestKit::template_name(&set(&dir)), template);
    drop_template(&mut admin, &template).await;
}

#[test]
fn test_processes_share_one_template_build() {
    let dir = Dir::new();
    unique_set(&dir);
    let template = TestKit::template_name(&set(&dir));
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_testkit-worker"))
                .arg("postgres")
                .arg(dir.path())
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
        let (name, tables) = line.trim().split_once(' ').unwrap();
        assert_eq!(tables, "1", "the database was migrated");
        names.push(name.to_owned());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut admin = PgConnection::connect_with(&server_options()).await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname LIKE $1 || '%'")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!(count, 1, "four processes, one template");
        drop_template(&mut admin, &template).await;
    });
}

/// A base table for the reversibility cases.
fn base(dir: &Dir) {
    dir.up(1, "create_users", "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n").down(
        1,
        "create_users",
        "DROP TABLE users;\n",
    );
}

async fn check(dir: &Dir) -> migrator_postgres::ReversibilityReport {
    let db = kit().empty().await.unwrap();
    let m = Migrator::new(PgDriver::from(db.pool()), set(dir)).unwrap();
    let report = m.check_reversible().await.unwrap();
    db.close().await.unwrap();
    report
}

fn failure(report: &migrator_postgres::ReversibilityReport) -> String {
    report.failure.as_ref().map(ToString::to_string).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_set_is_reversible_and_irreversible_ones_are_reported() {
    let dir = Dir::new();
    base(&dir);
    dir.up(2, "add_index", "CREATE INDEX idx_users_email ON users (email);\n")
        .down(2, "add_index", "DROP INDEX idx_users_email;\n")
        .up(3, "add_default", "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'none';\n")
        .down(3, "add_default", "ALTER TABLE users ALTER COLUMN email DROP DEFAULT;\n")
        .up(
            4,
            "add_trigger",
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
             CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n",
        )
        .down(4, "add_trigger", "DROP TRIGGER users_touch ON users;\nDROP FUNCTION touch();\n")
        .up(5, "add_check", "ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email <> '');\n")
        .down(5, "add_check", "ALTER TABLE users DROP CONSTRAINT users_email_check;\n")
        .up(6, "mood", "CREATE TYPE mood AS ENUM ('ok', 'good');\nCREATE VIEW user_ids AS SELECT id FROM users;\n")
        .down(6, "mood", "DROP VIEW user_ids;\nDROP TYPE mood;\n")
        .up(
            7,
            "drop_email",
            "-- migrator:irreversible -- the addresses are gone\nALTER TABLE users DROP COLUMN email;\n",
        );
    let report = check(&dir).await;
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.reversible.len(), 6);
    assert_eq!(report.irreversible.len(), 1);
    assert_eq!(report.irreversible[0].2, "the addresses are gone");
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
            "add_default",
            "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'none';\n",
            "-- forgot the default\n",
            "down of 2_add_default did not restore column users.email",
        ),
        (
            "add_trigger",
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
             CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n",
            "DROP FUNCTION touch() CASCADE;\n",
            "",
        ),
        (
            "add_check",
            "ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email <> '');\n",
            "-- forgot the constraint\n",
            "down of 2_add_check left constraint users.users_email_check",
        ),
        (
            "add_trigger_only",
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
             CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n",
            "DROP FUNCTION touch() CASCADE;\nCREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n",
            "down of 2_add_trigger_only left function touch()",
        ),
    ];
    for (name, up, down, expected) in cases {
        let dir = Dir::new();
        base(&dir);
        dir.up(2, name, up).down(2, name, down);
        let report = check(&dir).await;
        if expected.is_empty() {
            assert!(report.is_ok(), "{name}: dropping the function with CASCADE drops its trigger too: {report}");
        } else {
            assert!(failure(&report).starts_with(expected), "{name}: {}", failure(&report));
        }
    }
    // A down that forgets the trigger but keeps the function.
    let dir = Dir::new();
    base(&dir);
    dir.up(
        2,
        "add_trigger",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
         CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n",
    )
    .down(2, "add_trigger", "-- forgot everything\n");
    let text = failure(&check(&dir).await);
    assert!(text.starts_with("down of 2_add_trigger left function touch()"), "{text}");
    assert!(text.contains("trigger users.users_touch"), "every difference is listed: {text}");
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
    let kit = kit();
    let live = kit.fresh(set(&dir)).await.unwrap();
    let clean = migrator_postgres::testing::drift_with(&kit, live.pool(), set(&dir)).await.unwrap();
    assert!(clean.is_empty(), "{clean}");
    sqlx::raw_sql("ALTER TABLE users ADD COLUMN nickname text; DROP INDEX idx_users_email")
        .execute(live.pool())
        .await
        .unwrap();
    let drift = migrator_postgres::testing::drift_with(&kit, live.pool(), set(&dir)).await.unwrap();
    let text = drift.to_string();
    assert_eq!(drift.differences.len(), 2, "{text}");
    assert!(text.contains("extra column users.nickname"), "{text}");
    assert!(text.contains("missing index idx_users_email"), "{text}");
    live.close().await.unwrap();
}
