//! `migrator squash --to V` through the binary, on every backend: a dry run writes nothing;
//! the squash replaces the files it stands for; a database that applied them one by one
//! then applies only what is newer; a fresh database runs the squash; both end with the same
//! schema and rows; the scratch areas are gone afterwards; bad requests are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{CliBackend, Project};
use migrator_conformance::mysql::My;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;
use migrator_core::Dialect;
use migrator_core::driver::Inspect;

fn project() -> Project {
    let project = Project::new();
    project
        .write("1_create_users.up.sql", "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL);\n")
        .write("1_create_users.down.sql", "DROP TABLE users;\n")
        .write(
            "2_seed_users.up.sql",
            "INSERT INTO users (id, email) VALUES (1, 'a@example.com'), (2, 'it''s@example.com');\n\
             CREATE INDEX users_email ON users (email);\n",
        )
        .write(
            "3_create_orders.up.sql",
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT, total DECIMAL(10, 2));\n",
        )
        .write("3_create_orders.down.sql", "DROP TABLE orders;\n")
        .write("4_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n");
    project
}

fn files(project: &Project) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(project.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The scratch arguments for `squash` on this backend (SQLite needs none).
fn scratch<B: CliBackend>(db: &B) -> Vec<String> {
    match B::DIALECT {
        Dialect::Sqlite => Vec::new(),
        _ => vec!["--scratch-url".to_owned(), db.url()],
    }
}

async fn squash_then_up<B: CliBackend>() {
    let old = B::create("cli_squash_old").await;
    let fresh = B::create("cli_squash_fresh").await;
    let project = project();
    project.run(Some(&old.url()), &["up", "--to", "3"]).code(0);
    let before = files(&project);
    let scratch = scratch(&old);
    let args = |extra: &[&str]| {
        let mut args: Vec<String> = ["squash", "--to", "3"].iter().map(|s| s.to_string()).collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(scratch.iter().cloned());
        args
    };
    let run = |args: Vec<String>| project.run(None, &args.iter().map(String::as_str).collect::<Vec<_>>());

    let dry = run(args(&["--dry-run"]));
    dry.code(0);
    assert!(dry.stdout.starts_with("-- Squash of the 3 migration(s) from 1 to 3"), "{}", dry.stdout);
    assert!(dry.stdout.contains("-- migrator:squashes 2 sha256:"), "{}", dry.stdout);
    assert!(dry.stderr.contains("dry run: nothing was written"), "{}", dry.stderr);
    assert_eq!(files(&project), before, "a dry run writes nothing");

    let squashed = run(args(&[]));
    squashed.code(0);
    assert!(squashed.stdout.contains("squashed 3 migration(s) into migrations/3_squash.up.sql"), "{}", squashed.stdout);
    assert!(squashed.stdout.contains("2 row(s)"), "{}", squashed.stdout);
    assert!(!squashed.stdout.contains("applied 1"), "scratch runs print nothing: {}", squashed.stdout);
    assert_eq!(files(&project), ["3_squash.up.sql", "4_create_log.up.sql"]);

    // The database that applied them one by one: only the newer migration runs.
    let up = project.run(Some(&old.url()), &["up"]);
    up.code(0);
    assert_eq!(up.applied(), [4], "{}", up.stdout);
    let status = project.run(Some(&old.url()), &["status", "--format", "json"]).code(0).json();
    assert_eq!(status["migrations"][0]["version"], 3);
    assert_eq!(status["migrations"][0]["state"], "applied");
    assert_eq!(status["migrations"][0]["note"], "squashes 3 migrations, applied one by one");
    project.run(Some(&old.url()), &["validate"]).code(0);

    // A fresh database runs the squash; both end the same.
    let up = project.run(Some(&fresh.url()), &["up"]);
    up.code(0);
    assert_eq!(up.applied(), [3, 4], "{}", up.stdout);
    let (a, b) = (old.driver().snapshot().await.unwrap(), fresh.driver().snapshot().await.unwrap());
    let differences: Vec<String> = a.diff(&b).iter().map(ToString::to_string).collect();
    assert!(differences.is_empty(), "{differences:?}");
    assert_eq!(fresh.scalar("SELECT count(*) FROM users WHERE email = 'it''s@example.com'").await, 1);

    // No scratch area is left behind.
    let left = match B::DIALECT {
        Dialect::Postgres => {
            old.scalar("SELECT count(*) FROM pg_database WHERE datname LIKE '\\_migrator\\_squash\\_%'").await
        }
        Dialect::MySql => {
            old.scalar(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE '\\_migrator\\_squash\\_%'",
            )
            .await
        }
        _ => 0,
    };
    assert_eq!(left, 0, "scratch areas dropped");

    // Refusals: an unknown version, a squash of a squash.
    let unknown = project
        .run(None, &[&["squash", "--to", "99"][..], &scratch.iter().map(String::as_str).collect::<Vec<_>>()].concat());
    unknown.code(1);
    assert!(unknown.stderr.contains("there is no migration 99 to squash to"), "{}", unknown.stderr);
    let again = project
        .run(None, &[&["squash", "--to", "4"][..], &scratch.iter().map(String::as_str).collect::<Vec<_>>()].concat());
    again.code(1);
    assert!(again.stderr.contains("is a squash migration already"), "{}", again.stderr);
    assert_eq!(files(&project), ["3_squash.up.sql", "4_create_log.up.sql"], "refusals write nothing");
    old.cleanup().await;
    fresh.cleanup().await;
}

/// Usage errors name the option: a server dialect without a scratch server, a bad name.
#[test]
fn squash_usage_errors() {
    let project = project();
    let run = project.run(None, &["squash", "--to", "3", "--dialect", "postgres"]);
    run.code(2);
    assert!(run.stderr.contains("give --scratch-url"), "{}", run.stderr);
    let run = project.run(None, &["squash", "--to", "3", "--name", "Bad Name"]);
    run.code(2);
    assert!(run.stderr.contains("lowercase letters, digits and underscores"), "{}", run.stderr);
    assert_eq!(files(&project).len(), 6, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn squash_then_up_sqlite() {
    squash_then_up::<Lite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn squash_then_up_postgres() {
    squash_then_up::<Pg>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn squash_then_up_mysql() {
    squash_then_up::<My>().await;
}
