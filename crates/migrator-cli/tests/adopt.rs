//! `migrator adopt --from …` through the binary, on every backend: a history written by
//! sqlx's own migrator, the dry run (human and JSON) writing nothing, an edited file refused
//! naming it, the adoption, a second adoption that records nothing, `status` showing the
//! adopted rows as such, `up` applying only the new migration; a dirty golang-migrate history
//! refused with golang-migrate's recovery; an unknown tool is a usage error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{CliBackend, Project};
use migrator_conformance::Tools;
use migrator_conformance::mysql::My;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;
use migrator_conformance::tools;

const USERS: &str = "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200));\n";
const ORDERS: &str = "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT);\n";
const SEED: &str = "INSERT INTO users (id, email) VALUES (1, 'a@example.com');\n";

fn project() -> Project {
    let project = Project::new();
    project
        .write("1_create_users.up.sql", USERS)
        .write("1_create_users.down.sql", "DROP TABLE users;\n")
        .write("2_create_orders.up.sql", ORDERS)
        .write("3_seed_users.up.sql", SEED);
    project
}

async fn adopt_from_sqlx<B: CliBackend + Tools>() {
    let db = B::create("cli_adopt_sqlx").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = project();
    db.run_sqlx(&project.migrations()).await.unwrap();
    project.write("4_create_items.up.sql", "CREATE TABLE items (id BIGINT PRIMARY KEY);\n");

    let dry = project.run(url, &["adopt", "--from", "sqlx", "--dry-run"]);
    dry.code(0);
    assert!(
        dry.stdout
            .starts_with("would adopt 3 migrations from sqlx (_sqlx_migrations); nothing was written (dry run):\n"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("  1 create_users  sqlx version 1, checksum verified\n"), "{}", dry.stdout);
    assert!(dry.stdout.contains("not applied by sqlx, `up` applies: 4\n"), "{}", dry.stdout);
    let json = project.run(url, &["adopt", "--from", "sqlx", "--dry-run", "--format", "json"]).code(0).json();
    assert_eq!((json["dry_run"].as_bool(), json["recorded"].as_bool()), (Some(true), Some(false)));
    assert_eq!(json["tool"], "sqlx");
    let adopted: Vec<i64> =
        json["adopted"].as_array().unwrap().iter().map(|a| a["version"].as_i64().unwrap()).collect();
    assert_eq!(adopted, [1, 2, 3]);
    assert_eq!(json["adopted"][0]["checked"], "verified");
    assert_eq!(json["adopted"][0]["note"], "adopted from sqlx (version 1)");
    assert_eq!(json["adopted"][0]["file"].as_str().map(|f| f.ends_with("1_create_users.up.sql")), Some(true));
    assert_eq!(json["pending"], serde_json::json!([4]));
    let status = project.run(url, &["status", "--format", "json"]).code(0).json();
    assert!(status["migrations"].as_array().unwrap().iter().all(|m| m["state"] == "pending"), "dry runs write nothing");
    // `up` before adopting would run sqlx's migrations again: refused, saying what to run.
    let up = project.run(url, &["up"]);
    up.code(1);
    assert!(
        up.stderr.contains("sqlx's history table _sqlx_migrations records 3 applied migration(s)"),
        "{}",
        up.stderr
    );
    assert!(up.stderr.contains("`migrator adopt --from sqlx`"), "{}", up.stderr);

    // An applied file edited since sqlx ran it.
    project.write("2_create_orders.up.sql", &format!("-- with a note\n{ORDERS}"));
    let refused = project.run(url, &["adopt", "--from", "sqlx"]);
    refused.code(1);
    assert!(
        refused.stderr.contains("2_create_orders.up.sql") && refused.stderr.contains("--accept-changed"),
        "{}",
        refused.stderr
    );
    let accepted = project.run(url, &["adopt", "--from", "sqlx", "--accept-changed", "--dry-run"]);
    accepted.code(0);
    assert!(
        accepted.stdout.contains("2 create_orders  sqlx version 2, file changed since (accepted)"),
        "{}",
        accepted.stdout
    );
    assert!(accepted.stderr.contains("warning: 2 create_orders"), "{}", accepted.stderr);
    project.write("2_create_orders.up.sql", ORDERS);

    let adopt = project.run(url, &["adopt", "--from", "sqlx"]);
    adopt.code(0);
    assert!(
        adopt.stdout.starts_with("adopted 3 migrations from sqlx (_sqlx_migrations), in one transaction:\n"),
        "{}",
        adopt.stdout
    );
    let again = project.run(url, &["adopt", "--from", "sqlx"]);
    again.code(0);
    assert_eq!(
        again.stdout.lines().next(),
        Some("nothing to adopt from sqlx (_sqlx_migrations): the 3 migrations it applied are recorded already")
    );
    let json = project.run(url, &["adopt", "--from", "sqlx", "--format", "json"]).code(0).json();
    assert_eq!((json["recorded"].as_bool(), json["adopted"].as_array().map(Vec::len)), (Some(false), Some(0)));
    assert_eq!(json["already"], serde_json::json!([1, 2, 3]));

    let status = project.run(url, &["status"]);
    status.code(0);
    assert_eq!(status.stdout.matches("adopted from sqlx (version").count(), 3, "{}", status.stdout);
    assert_eq!(project.run(url, &["up"]).code(0).applied(), [4]);
    assert_eq!(db.scalar("SELECT count(*) FROM _sqlx_migrations").await, 3, "sqlx's table is untouched");
    db.cleanup().await;
}

async fn dirty_golang_migrate_is_refused<B: CliBackend + Tools>() {
    let db = B::create("cli_adopt_dirty").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = project();
    for sql in [USERS, ORDERS] {
        db.exec(sql).await;
    }
    tools::write_golang_migrate(&db, 3, true).await;
    let refused = project.run(url, &["adopt", "--from", "golang-migrate", "--dry-run"]);
    refused.code(1);
    assert!(refused.stderr.contains("golang-migrate recorded migration 3 as dirty"), "{}", refused.stderr);
    assert!(refused.stderr.contains("`migrate force 3`"), "{}", refused.stderr);
    tools::set_golang_migrate(&db, 2, false).await;
    let adopt = project.run(url, &["adopt", "--from", "migrate"]);
    adopt.code(0);
    assert!(
        adopt.stdout.contains("  2 create_orders  golang-migrate version 2, at or below its recorded version\n"),
        "{}",
        adopt.stdout
    );
    assert_eq!(project.run(url, &["up"]).code(0).applied(), [3]);
    db.cleanup().await;
}

macro_rules! adopt_cli_tests {
    ($module:ident: $backend:ty) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn adopt_from_sqlx() {
                super::adopt_from_sqlx::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dirty_golang_migrate_is_refused() {
                super::dirty_golang_migrate_is_refused::<$backend>().await;
            }
        }
    };
}

adopt_cli_tests!(sqlite: Lite);
adopt_cli_tests!(postgres: Pg);
adopt_cli_tests!(mysql: My);

#[test]
fn an_unknown_tool_is_a_usage_error() {
    let project = project();
    let run = project.run(Some("sqlite::memory:"), &["adopt", "--from", "liquibase"]);
    run.code(2);
    assert!(
        run.stderr.contains(
            "unknown migration tool `liquibase`: expected one of sqlx, diesel, refinery, golang-migrate, goose, flyway"
        ),
        "{}",
        run.stderr
    );
}
