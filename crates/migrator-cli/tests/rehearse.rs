//! `migrator rehearse` through the binary: the pending migrations rehearsed on a scratch
//! database (gone afterwards), the JSON contract, the exit code by verdict, `--from`, the
//! URL's own database left as it was; SQLite refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{CliBackend, Project};
use migrator_conformance::mysql::My;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;
use migrator_core::Dialect;

/// A rewrite (over with `--no-rewrite`) then a change that rewrites nothing.
fn project(dialect: Dialect) -> Project {
    let project = Project::new();
    project.write("1_create_orders.up.sql", "CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT NOT NULL);\n");
    let (rewrite, safe) = match dialect {
        Dialect::Postgres => {
            ("ALTER TABLE orders ALTER COLUMN total TYPE bigint;\n", "ALTER TABLE orders ADD COLUMN note text;\n")
        }
        _ => (
            "ALTER TABLE orders MODIFY total BIGINT NOT NULL;\n",
            "ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;\n",
        ),
    };
    project
        .write("2_widen_total.up.sql", &format!("-- migrator:allow change-column-type -- test\n{rewrite}"))
        .write("3_add_note.up.sql", safe);
    project
}

/// The scratch database a run named on stderr, and whether it still exists on the server.
async fn scratch_left<B: CliBackend>(db: &B, stderr: &str) -> bool {
    let name = stderr
        .split_whitespace()
        .find(|word| word.starts_with("_migrator_rehearse_"))
        .unwrap_or_else(|| panic!("no scratch database named: {stderr}"))
        .trim_end_matches(',');
    assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{name}");
    let sql = match B::DIALECT {
        Dialect::Postgres => format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
        _ => format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"),
    };
    db.scalar(&sql).await > 0
}

async fn rehearse_reports_pending_migrations<B: CliBackend>() {
    let db = B::create("cli_rehearse").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = project(B::DIALECT);
    project.run(url, &["up", "--to", "1"]).code(0);
    let run =
        project.run(url, &["rehearse", "--rows", "20000", "--no-rewrite", "--max-stall", "10s", "--format", "json"]);
    let json = run.code(1).json();
    assert!(!scratch_left(&db, &run.stderr).await, "the scratch database is dropped");
    let migrations = json["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 2, "{json}");
    let (widen, note) = (&migrations[0], &migrations[1]);
    assert_eq!((widen["version"].as_i64(), widen["name"].as_str()), (Some(2), Some("widen_total")), "{json}");
    assert_eq!(widen["verdict"], "over", "{json}");
    assert_eq!(widen["rewrote"], serde_json::json!(["orders"]), "{json}");
    assert_eq!(widen["rows"], 20000, "{json}");
    for key in ["duration_ms", "max_write_stall_ms", "max_read_stall_ms"] {
        assert!(widen[key].as_u64().is_some(), "{key}: {json}");
    }
    assert!(widen["locks"].is_array(), "{json}");
    assert_eq!(note["verdict"], "ok", "{json}");
    assert_eq!(note["rewrote"], serde_json::json!([]), "{json}");
    assert_eq!(json["filled"], serde_json::json!([{"table": "orders", "rows": 20000}]), "{json}");
    // The URL's database was only read; the scratch database is gone.
    let plan = project.run(url, &["plan", "--format", "json"]).code(0).json();
    assert_eq!(plan["plan"].as_array().unwrap().len(), 2, "{plan}");
    // --from: only the newer ones; within the thresholds, exit code 0; human output.
    let human = project.run(url, &["rehearse", "--rows", "1000", "--from", "2", "--max-stall", "10s"]);
    human.code(0);
    assert!(human.stdout.contains("ok   3 add_note"), "{}", human.stdout);
    assert!(human.stdout.contains("0 over the thresholds"), "{}", human.stdout);
    assert!(!human.stdout.contains("widen_total"), "{}", human.stdout);
    assert!(!scratch_left(&db, &human.stderr).await, "the scratch database is dropped");
}

/// A migration that fails in the rehearsal fails the command with its error, and the scratch
/// database is dropped all the same.
async fn a_failing_migration_fails_the_rehearsal<B: CliBackend>() {
    let db = B::create("cli_rehearse_fails").await;
    let url = db.url();
    let project = Project::new();
    project
        .write("1_create_orders.up.sql", "CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT NOT NULL);\n")
        .write("2_broken.up.sql", "ALTER TABLE orders ADD COLUMN total INT;\n");
    let run = project.run(Some(url.as_str()), &["rehearse", "--rows", "100"]);
    run.code(1);
    assert!(run.stderr.contains("migration 2 `broken`"), "{}", run.stderr);
    assert!(!scratch_left(&db, &run.stderr).await, "the scratch database is dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failing_migration_fails_the_rehearsal() {
    a_failing_migration_fails_the_rehearsal::<Pg>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_failing_migration_fails_the_rehearsal() {
    a_failing_migration_fails_the_rehearsal::<My>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rehearse_reports_pending_migrations() {
    rehearse_reports_pending_migrations::<Pg>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_rehearse_reports_pending_migrations() {
    rehearse_reports_pending_migrations::<My>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rehearse_is_refused() {
    let db = Lite::create("cli_rehearse").await;
    let url = db.url();
    let project = Project::new();
    project.write("1_create_orders.up.sql", "CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT NOT NULL);\n");
    let run = project.run(Some(url.as_str()), &["rehearse"]);
    run.code(2);
    assert!(run.stderr.contains("rehearse needs a PostgreSQL or MySQL/MariaDB server"), "{}", run.stderr);
}
