//! The test kit for users, on MySQL/MariaDB: fresh migrated databases copied from a template,
//! cleanup on panic, reversibility and drift checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Mutex;

use migrator_conformance::Dir;
use migrator_conformance::mysql::server_options;
use migrator_mysql::testing::{TestKit, run_test};
use migrator_mysql::{EmbeddedMigrations, MigrationSet, Migrator, MySqlDriver, embed_migrations};
use sqlx::{Connection, MySqlConnection, MySqlPool};

static APP: EmbeddedMigrations = embed_migrations!("fixtures/app-mysql");

fn kit() -> TestKit {
    TestKit::new(server_options())
}

fn set(dir: &Dir) -> MigrationSet<MySqlConnection> {
    dir.set::<MySqlConnection>(migrator_core::Dialect::MySql)
}

async fn database_exists(name: &str) -> bool {
    let mut admin = MySqlConnection::connect_with(&server_options()).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    count == 1
}

async fn drop_template(template: &str) {
    let mut admin = MySqlConnection::connect_with(&server_options()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE `{template}`"))).execute(&mut admin).await.unwrap();
}

fn unique_set(dir: &Dir) {
    let marker = format!("{}-{:?}", std::process::id(), std::time::SystemTime::now());
    dir.up(
        1,
        "create_jobs",
        &format!("-- {marker}\nCREATE TABLE jobs (id BIGINT PRIMARY KEY, state VARCHAR(20) NOT NULL);\n"),
    )
    .down(1, "create_jobs", "DROP TABLE jobs;\n");
}

#[migrator_mysql::test(migrations = APP)]
async fn the_attribute_gives_a_migrated_pool(pool: MySqlPool) {
    sqlx::query("INSERT INTO accounts (email) VALUES ('a@example.com')").execute(&pool).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_has_everything_the_migrations_made() {
    let dir = Dir::new();
    unique_set(&dir);
    dir.up(
        2,
        "everything",
        "CREATE TABLE owners (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, upper_name VARCHAR(50) AS (UPPER(name)) VIRTUAL);
CREATE TABLE pets (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner_id BIGINT NOT NULL, CONSTRAINT pets_owner FOREIGN KEY (owner_id) REFERENCES owners (id));
INSERT INTO owners (id, name) VALUES (1, 'ada');
INSERT INTO pets (owner_id) VALUES (1);
CREATE PROCEDURE adopt(IN o BIGINT) BEGIN INSERT INTO pets (owner_id) VALUES (o); END;
CREATE TRIGGER owners_trim BEFORE INSERT ON owners FOR EACH ROW BEGIN SET NEW.name = TRIM(NEW.name); END;
CREATE VIEW owner_names AS SELECT name FROM owners;
CREATE VIEW owner_names_upper AS SELECT UPPER(name) AS name FROM owner_names;
",
    );
    let kit = kit();
    let db = kit.fresh(set(&dir)).await.unwrap();
    let pool = db.pool();
    sqlx::query("CALL adopt(1)").execute(pool).await.unwrap();
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pets").fetch_one(pool).await.unwrap(),
        2,
        "seed row + adopted"
    );
    let next_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM pets").fetch_one(pool).await.unwrap();
    assert_eq!(next_id, 2, "auto-increment continues");
    sqlx::query("INSERT INTO owners (id, name) VALUES (2, '  bob ')").execute(pool).await.unwrap();
    let upper: String = sqlx::query_scalar("SELECT upper_name FROM owners WHERE id = 2").fetch_one(pool).await.unwrap();
    assert_eq!(upper, "BOB", "trigger and generated column copied");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM owner_names_upper ORDER BY name").fetch_all(pool).await.unwrap();
    assert_eq!(names, ["ADA", "BOB"]);
    assert!(sqlx::query("INSERT INTO pets (owner_id) VALUES (99)").execute(pool).await.is_err(), "foreign key copied");
    // The history came along: the migrator finds nothing to do.
    assert!(Migrator::new(MySqlDriver::from(pool), set(&dir)).unwrap().run().await.unwrap().is_noop());
    db.close().await.unwrap();
    drop_template(&TestKit::template_name(&set(&dir))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_tests_each_get_their_own_data() {
    let kit = kit();
    let mut tasks = Vec::new();
    for i in 0..8_i64 {
        let kit = kit.clone();
        tasks.push(tokio::spawn(async move {
            let db = kit.fresh(APP).await.unwrap();
            sqlx::query("INSERT INTO accounts (email) VALUES (?)")
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
    for task in tasks {
        let name = task.await.unwrap();
        assert!(!database_exists(&name).await);
    }
}

static PANICKED_IN: Mutex<Option<String>> = Mutex::new(None);

#[test]
fn a_panicking_test_leaves_nothing_behind() {
    let outcome = std::panic::catch_unwind(|| {
        run_test(APP, |pool: MySqlPool| async move {
            let name: String = sqlx::query_scalar("SELECT DATABASE()").fetch_one(&pool).await.unwrap();
            *PANICKED_IN.lock().unwrap() = Some(name);
            if pool.size() > 0 {
                panic!("the test failed");
            }
        })
    });
    assert!(outcome.is_err());
    let name = PANICKED_IN.lock().unwrap().take().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async { assert!(!database_exists(&name).await, "{name} was dropped") });
}

#[test]
fn test_processes_share_one_template_build() {
    let dir = Dir::new();
    unique_set(&dir);
    let template = TestKit::template_name(&set(&dir));
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_testkit-worker"))
                .arg("mysql")
                .arg(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8(out.stdout).unwrap().trim().ends_with(" 1"), "the database was migrated");
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut admin = MySqlConnection::connect_with(&server_options()).await.unwrap();
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE CONCAT(?, '%')",
        )
        .bind(&template)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        assert_eq!(count, 1, "four processes, one template");
        drop_template(&template).await;
    });
}

fn base(dir: &Dir) {
    dir.up(1, "create_users", "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL);\n").down(
        1,
        "create_users",
        "DROP TABLE users;\n",
    );
}

async fn check(dir: &Dir) -> migrator_mysql::ReversibilityReport {
    let db = kit().empty().await.unwrap();
    let report = Migrator::new(MySqlDriver::from(db.pool()), set(dir)).unwrap().check_reversible().await.unwrap();
    db.close().await.unwrap();
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reversibility_is_checked() {
    let dir = Dir::new();
    base(&dir);
    dir.up(2, "add_index", "CREATE INDEX idx_users_email ON users (email);\n")
        .down(2, "add_index", "DROP INDEX idx_users_email ON users;\n")
        .up(3, "add_default", "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'none';\n")
        .down(3, "add_default", "ALTER TABLE users ALTER COLUMN email DROP DEFAULT;\n")
        .up(
            4,
            "add_trigger",
            "CREATE TRIGGER users_trim BEFORE INSERT ON users FOR EACH ROW SET NEW.email = TRIM(NEW.email);\n",
        )
        .down(4, "add_trigger", "DROP TRIGGER users_trim;\n")
        .up(5, "add_check", "ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email <> '');\n")
        .down(5, "add_check", "ALTER TABLE users DROP CONSTRAINT users_email_check;\n")
        .up(6, "drop_email", "-- migrator:irreversible -- gone\nALTER TABLE users DROP COLUMN email;\n");
    let report = check(&dir).await;
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.reversible.len(), report.irreversible.len()), (5, 1));

    let cases = [
        (
            "add_index",
            "CREATE INDEX idx_users_email ON users (email);\n",
            "down of 2_add_index left index users.idx_users_email",
        ),
        (
            "add_default",
            "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'none';\n",
            "down of 2_add_default did not restore column users.email",
        ),
        (
            "add_trigger",
            "CREATE TRIGGER users_trim BEFORE INSERT ON users FOR EACH ROW SET NEW.email = TRIM(NEW.email);\n",
            "down of 2_add_trigger left trigger users.users_trim",
        ),
        (
            "add_check",
            "ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email <> '');\n",
            "down of 2_add_check left constraint users.users_email_check",
        ),
    ];
    for (name, up, expected) in cases {
        let dir = Dir::new();
        base(&dir);
        dir.up(2, name, up).down(2, name, "-- forgot it\n");
        let text = check(&dir).await.failure.map(|f| f.to_string()).unwrap_or_default();
        assert!(text.starts_with(expected), "{name}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_reports_a_hand_added_column_and_a_dropped_index() {
    let dir = Dir::new();
    base(&dir);
    dir.up(2, "add_index", "CREATE INDEX idx_users_email ON users (email);\n");
    let kit = kit();
    let live = kit.fresh(set(&dir)).await.unwrap();
    assert!(migrator_mysql::testing::drift_with(&kit, live.pool(), set(&dir)).await.unwrap().is_empty());
    sqlx::raw_sql("ALTER TABLE users ADD COLUMN nickname VARCHAR(20); DROP INDEX idx_users_email ON users")
        .execute(live.pool())
        .await
        .unwrap();
    let drift = migrator_mysql::testing::drift_with(&kit, live.pool(), set(&dir)).await.unwrap();
    let text = drift.to_string();
    assert_eq!(drift.differences.len(), 2, "{text}");
    assert!(text.contains("extra column users.nickname"), "{text}");
    assert!(text.contains("missing index users.idx_users_email"), "{text}");
    live.close().await.unwrap();
}
