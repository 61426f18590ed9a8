//! The test kit for users, on PostgreSQL: the generic test kit tests ([`testkit`]) with
//! PostgreSQL's queries and reversibility cases, and the attribute.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::ffi::OsString;
use std::time::Duration;

use async_trait::async_trait;
use migrator_conformance::postgres::server_options;
use migrator_conformance::testkit::{self, Forgetful, KitCase};
use migrator_conformance::{Dir, testkit_tests};
use migrator_core::Dialect;
use migrator_postgres::testing::{Postgres, TestKit};
use migrator_postgres::{Drift, EmbeddedMigrations, Error, MigrationSet, embed_migrations};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

static APP: EmbeddedMigrations = embed_migrations!("fixtures/app");

struct Pg;

async fn admin() -> PgConnection {
    PgConnection::connect_with(&server_options()).await.unwrap()
}

const TRIGGER: &str = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
                       CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n";

#[async_trait]
impl KitCase for Pg {
    type Backend = Postgres;

    const NAME: &'static str = "postgres";
    const WORKER: &'static str = env!("CARGO_BIN_EXE_testkit-worker");
    const DIALECT: Dialect = Dialect::Postgres;
    const PARALLEL: usize = 12;
    const CURRENT_DATABASE: &'static str = "SELECT current_database()::text";
    const USERS: &'static str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";
    const DRIFT: &'static str = "ALTER TABLE users ADD COLUMN nickname text; DROP INDEX idx_users_email";
    const MISSING_INDEX: &'static str = "missing index idx_users_email";

    fn app() -> EmbeddedMigrations {
        APP
    }

    fn backend() -> (Postgres, Option<tempfile::TempDir>) {
        (Postgres::from(server_options()), None)
    }

    fn worker_args(_kit: &TestKit) -> Vec<OsString> {
        Vec::new()
    }

    async fn exec(pool: &PgPool, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(pool).await.map(drop)
    }

    async fn scalar(pool: &PgPool, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(pool).await.unwrap()
    }

    async fn strings(pool: &PgPool, sql: &str) -> Vec<String> {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_all(pool).await.unwrap()
    }

    async fn objects(_kit: &TestKit, prefix: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE starts_with(datname::text, $1) ORDER BY 1")
            .bind(prefix)
            .fetch_all(&mut admin().await)
            .await
            .unwrap()
    }

    async fn is_template(_kit: &TestKit, name: &str) -> bool {
        sqlx::query_scalar("SELECT datistemplate AND NOT datallowconn FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut admin().await)
            .await
            .unwrap()
            .unwrap_or(false)
    }

    async fn age_template(_kit: &TestKit, name: &str, by: Duration) {
        let built = testkit::now_secs() - by.as_secs();
        let sql = format!("COMMENT ON DATABASE \"{name}\" IS 'migrator test template, built {built}'");
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin().await).await.unwrap();
    }

    fn reversible(dir: &Dir) -> (usize, &'static str) {
        dir.up(2, "add_index", "CREATE INDEX idx_users_email ON users (email);\n")
            .down(2, "add_index", "DROP INDEX idx_users_email;\n")
            .up(3, "add_default", "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'none';\n")
            .down(3, "add_default", "ALTER TABLE users ALTER COLUMN email DROP DEFAULT;\n")
            .up(4, "add_trigger", TRIGGER)
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
        (6, "the addresses are gone")
    }

    fn forgetful() -> Vec<Forgetful> {
        vec![
            Forgetful {
                name: "add_index",
                up: "CREATE INDEX idx_users_email ON users (email);\n",
                down: "-- forgot the index\n",
                expected: "down of 2_add_index left index idx_users_email",
                also: None,
            },
            Forgetful {
                name: "add_default",
                up: "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'none';\n",
                down: "-- forgot the default\n",
                expected: "down of 2_add_default did not restore column users.email",
                also: None,
            },
            // Dropping the function with CASCADE drops its trigger too: complete.
            Forgetful {
                name: "add_trigger",
                up: TRIGGER,
                down: "DROP FUNCTION touch() CASCADE;\n",
                expected: "",
                also: None,
            },
            Forgetful {
                name: "add_check",
                up: "ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email <> '');\n",
                down: "-- forgot the constraint\n",
                expected: "down of 2_add_check left constraint users.users_email_check",
                also: None,
            },
            Forgetful {
                name: "add_trigger_only",
                up: TRIGGER,
                down: "DROP FUNCTION touch() CASCADE;\nCREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n",
                expected: "down of 2_add_trigger_only left function touch()",
                also: None,
            },
            // Forgets the trigger and keeps the function: both are listed.
            Forgetful {
                name: "add_trigger",
                up: TRIGGER,
                down: "-- forgot everything\n",
                expected: "down of 2_add_trigger left function touch()",
                also: Some("trigger users.users_touch"),
            },
        ]
    }

    async fn drift_with(kit: &TestKit, live: &PgPool, migrations: MigrationSet<PgConnection>) -> Result<Drift, Error> {
        migrator_postgres::testing::drift_with(kit, live, migrations).await
    }
}

testkit_tests!(Pg;
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

#[migrator_postgres::test(migrations = APP)]
async fn the_attribute_gives_a_migrated_pool(pool: PgPool) {
    testkit::attribute_gives_a_migrated_pool::<Pg>(pool).await;
}

#[migrator_postgres::test(migrations = APP)]
async fn the_attribute_accepts_a_result(pool: PgPool) -> Result<(), sqlx::Error> {
    testkit::attribute_accepts_a_result::<Pg>(pool).await
}
