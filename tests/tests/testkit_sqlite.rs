//! The test kit for users, on SQLite: the generic test kit tests ([`testkit`]) with SQLite's
//! queries and reversibility cases, and the attribute. Each kit keeps its files in a
//! directory of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::ffi::OsString;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use migrator_conformance::testkit::{self, Forgetful, KitCase};
use migrator_conformance::{Dir, testkit_tests};
use migrator_core::Dialect;
use migrator_sqlite::testing::{Sqlite, TestKit};
use migrator_sqlite::{Drift, EmbeddedMigrations, Error, MigrationSet, embed_migrations};
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

static APP: EmbeddedMigrations = embed_migrations!("fixtures/sqlite-app");

struct Lite;

#[async_trait]
impl KitCase for Lite {
    type Backend = Sqlite;

    const NAME: &'static str = "sqlite";
    const WORKER: &'static str = env!("CARGO_BIN_EXE_testkit-worker");
    const DIALECT: Dialect = Dialect::Sqlite;
    const PARALLEL: usize = 12;
    const CURRENT_DATABASE: &'static str = "SELECT file FROM pragma_database_list WHERE name = 'main'";
    const USERS: &'static str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n";
    const DRIFT: &'static str = "ALTER TABLE users ADD COLUMN nickname TEXT; DROP INDEX idx_users_email";
    const MISSING_INDEX: &'static str = "missing index idx_users_email";

    fn app() -> EmbeddedMigrations {
        APP
    }

    /// A directory of its own, so templates and leftovers are this test's.
    fn backend() -> (Sqlite, Option<tempfile::TempDir>) {
        let dir = tempfile::tempdir().unwrap();
        (Sqlite::from(dir.path()), Some(dir))
    }

    fn worker_args(kit: &TestKit) -> Vec<OsString> {
        vec![kit.dir().into()]
    }

    async fn exec(pool: &SqlitePool, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(pool).await.map(drop)
    }

    async fn scalar(pool: &SqlitePool, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(pool).await.unwrap()
    }

    async fn strings(pool: &SqlitePool, sql: &str) -> Vec<String> {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_all(pool).await.unwrap()
    }

    /// The kit's files with the prefix, but the template build lock files (which stay).
    async fn objects(kit: &TestKit, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(kit.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(prefix) && !n.ends_with(".lock"))
            .collect();
        names.sort();
        names
    }

    async fn is_template(kit: &TestKit, name: &str) -> bool {
        kit.dir().join(name).is_file()
    }

    async fn age_template(kit: &TestKit, name: &str, by: Duration) {
        let file = std::fs::File::options().write(true).open(kit.dir().join(name)).unwrap();
        file.set_modified(SystemTime::now() - by).unwrap();
    }

    fn reversible(dir: &Dir) -> (usize, &'static str) {
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
        (7, "the bios are gone")
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
                name: "add_column",
                up: "ALTER TABLE users ADD COLUMN bio TEXT;\n",
                down: "-- forgot the column\n",
                expected: "down of 2_add_column left column users.bio",
                also: None,
            },
            Forgetful {
                name: "add_trigger",
                up: "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END;\n",
                down: "-- forgot the trigger\n",
                expected: "down of 2_add_trigger left trigger users.users_touch",
                also: None,
            },
            Forgetful {
                name: "add_orders",
                up: "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE);\n",
                down: "CREATE TABLE keep (id INTEGER);\nDROP TABLE orders;\n",
                expected: "down of 2_add_orders left table keep",
                also: None,
            },
            // SQLite adds a constraint by rebuilding the table; this down forgets to rebuild
            // it without the CHECK.
            Forgetful {
                name: "add_check",
                up: "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL, \
                     CONSTRAINT email_not_empty CHECK (email <> ''));\n\
                     INSERT INTO users_new SELECT id, email FROM users;\nDROP TABLE users;\n\
                     ALTER TABLE users_new RENAME TO users;\n",
                down: "-- forgot to rebuild the table without the check\n",
                expected: "down of 2_add_check left constraint users.email_not_empty",
                also: None,
            },
        ]
    }

    async fn drift_with(
        kit: &TestKit,
        live: &SqlitePool,
        migrations: MigrationSet<SqliteConnection>,
    ) -> Result<Drift, Error> {
        migrator_sqlite::testing::drift_with(kit, live, migrations).await
    }
}

testkit_tests!(Lite;
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

#[migrator_sqlite::test(migrations = APP)]
async fn the_attribute_gives_a_migrated_pool(pool: SqlitePool) {
    testkit::attribute_gives_a_migrated_pool::<Lite>(pool).await;
}

#[migrator_sqlite::test(migrations = APP)]
async fn the_attribute_accepts_a_result(pool: SqlitePool) -> Result<(), sqlx::Error> {
    testkit::attribute_accepts_a_result::<Lite>(pool).await
}
