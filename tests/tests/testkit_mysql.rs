//! The test kit for users, on MySQL/MariaDB: the generic test kit tests ([`testkit`]) with
//! MySQL's queries and reversibility cases, the attribute, and what only MySQL needs (the
//! copy replays the template's definitions and rows: it must have everything).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::ffi::OsString;
use std::time::Duration;

use async_trait::async_trait;
use migrator_conformance::mysql::server_options;
use migrator_conformance::testkit::{self, Forgetful, Kit, KitCase, unique_set};
use migrator_conformance::{Dir, testkit_tests};
use migrator_core::Dialect;
use migrator_mysql::testing::{MySql, TestKit};
use migrator_mysql::{Drift, EmbeddedMigrations, Error, MigrationSet, Migrator, MySqlDriver, embed_migrations};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, MySqlPool};

static APP: EmbeddedMigrations = embed_migrations!("fixtures/app-mysql");

struct My;

async fn admin() -> MySqlConnection {
    MySqlConnection::connect_with(&server_options()).await.unwrap()
}

fn set(dir: &Dir) -> MigrationSet<MySqlConnection> {
    dir.set::<MySqlConnection>(Dialect::MySql)
}

#[async_trait]
impl KitCase for My {
    type Backend = MySql;

    const NAME: &'static str = "mysql";
    const WORKER: &'static str = env!("CARGO_BIN_EXE_testkit-worker");
    const DIALECT: Dialect = Dialect::MySql;
    const PARALLEL: usize = 8;
    const CURRENT_DATABASE: &'static str = "SELECT DATABASE()";
    const USERS: &'static str = "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL);\n";
    const DRIFT: &'static str =
        "ALTER TABLE users ADD COLUMN nickname VARCHAR(20); DROP INDEX idx_users_email ON users";
    const MISSING_INDEX: &'static str = "missing index users.idx_users_email";

    fn app() -> EmbeddedMigrations {
        APP
    }

    fn backend() -> (MySql, Option<tempfile::TempDir>) {
        (MySql::from(server_options()), None)
    }

    fn worker_args(_kit: &TestKit) -> Vec<OsString> {
        Vec::new()
    }

    async fn exec(pool: &MySqlPool, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(pool).await.map(drop)
    }

    async fn scalar(pool: &MySqlPool, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(pool).await.unwrap()
    }

    async fn strings(pool: &MySqlPool, sql: &str) -> Vec<String> {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_all(pool).await.unwrap()
    }

    async fn objects(_kit: &TestKit, prefix: &str) -> Vec<String> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA ORDER BY 1")
                .fetch_all(&mut admin().await)
                .await
                .unwrap();
        names.into_iter().filter(|n| n.starts_with(prefix)).collect()
    }

    async fn is_template(_kit: &TestKit, name: &str) -> bool {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = '_migrator_template_ready'",
        )
        .bind(name)
        .fetch_one(&mut admin().await)
        .await
        .unwrap();
        count == 1
    }

    async fn age_template(_kit: &TestKit, name: &str, by: Duration) {
        let built = testkit::now_secs() - by.as_secs();
        let sql = format!("UPDATE `{name}`.`_migrator_template_ready` SET built = {built}");
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin().await).await.unwrap();
    }

    fn reversible(dir: &Dir) -> (usize, &'static str) {
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
        (5, "gone")
    }

    fn forgetful() -> Vec<Forgetful> {
        let forgot = |name, up, expected| Forgetful { name, up, down: "-- forgot it\n", expected, also: None };
        vec![
            forgot(
                "add_index",
                "CREATE INDEX idx_users_email ON users (email);\n",
                "down of 2_add_index left index users.idx_users_email",
            ),
            forgot(
                "add_default",
                "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'none';\n",
                "down of 2_add_default did not restore column users.email",
            ),
            forgot(
                "add_trigger",
                "CREATE TRIGGER users_trim BEFORE INSERT ON users FOR EACH ROW SET NEW.email = TRIM(NEW.email);\n",
                "down of 2_add_trigger left trigger users.users_trim",
            ),
            forgot(
                "add_check",
                "ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email <> '');\n",
                "down of 2_add_check left constraint users.users_email_check",
            ),
        ]
    }

    async fn drift_with(
        kit: &TestKit,
        live: &MySqlPool,
        migrations: MigrationSet<MySqlConnection>,
    ) -> Result<Drift, Error> {
        migrator_mysql::testing::drift_with(kit, live, migrations).await
    }
}

testkit_tests!(My;
    async:
        parallel_tests_each_get_their_own_data,
        the_template_is_built_once_per_migration_set,
        a_template_build_held_elsewhere_times_out,
        templates_are_listed_and_dropped_by_prefix,
        the_sweep_drops_old_leftovers_of_its_prefix,
        a_correct_set_is_reversible_and_irreversible_ones_are_reported,
        a_down_that_forgets_something_is_named,
        drift_reports_a_hand_added_column_and_a_dropped_index;
    sync:
        a_panicking_test_leaves_nothing_behind,
        test_processes_share_one_template_build,
        an_error_returned_fails_the_test,
);

#[migrator_mysql::test(migrations = APP)]
async fn the_attribute_gives_a_migrated_pool(pool: MySqlPool) {
    testkit::attribute_gives_a_migrated_pool::<My>(pool).await;
}

#[migrator_mysql::test(migrations = APP)]
async fn the_attribute_accepts_a_result(pool: MySqlPool) -> Result<(), sqlx::Error> {
    testkit::attribute_accepts_a_result::<My>(pool).await
}

/// MySQL cannot copy a database: the kit replays the template's definitions and rows, which
/// must bring everything the migrations made.
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
    let kit = Kit::<My>::scoped();
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
}
