//! The `migrator` binary against SQLite, PostgreSQL and MariaDB: every subcommand, JSON output
//! parsed, exit codes, bad input, eight processes at once, and SIGINT during a run.
//!
//! PostgreSQL and MariaDB come from `MIGRATOR_TEST_POSTGRES_URL` / `MIGRATOR_TEST_MYSQL_URL`
//! (the repository's `.cargo/config.toml` points them at the local servers that
//! `./scripts/services` starts); a missing server fails these tests with instructions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use common::{CliBackend, Project, signal, up_at_once, wait};
use migrator_conformance::mysql::My;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;

/// Two migrations written with `migrator new` (timestamp versions), filled in; returns the
/// versions.
fn two_new_migrations(project: &Project) -> (i64, i64) {
    let created = project.run(None, &["new", "create users"]);
    created.code(0);
    let up = created.stdout.lines().find_map(|l| l.strip_prefix("created ")).unwrap().to_owned();
    let file = std::path::Path::new(&up).file_name().unwrap().to_string_lossy().into_owned();
    let first: i64 = file.split('_').next().unwrap().parse().unwrap();
    assert!(first > 20_000_000_000_000, "a timestamp version: {first}");
    let header = project.migrations().join(&file);
    let text = std::fs::read_to_string(&header).unwrap();
    assert!(text.contains("no-transaction") && text.contains("phase contract"), "the header lists the directives");
    std::fs::write(&header, format!("{text}CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200));\n"))
        .unwrap();
    project.write(&format!("{first}_create_users.down.sql"), "DROP TABLE users;\n");
    project.run(None, &["new", "Seed users", "--sequential"]).code(0);
    let second = first + 1;
    project
        .write(&format!("{second}_seed_users.up.sql"), "INSERT INTO users (id, email) VALUES (1, 'a@example.com');\n")
        .write(&format!("{second}_seed_users.down.sql"), "DELETE FROM users;\n");
    (first, second)
}

async fn every_subcommand<B: CliBackend>() {
    let db = B::create("cli_every_subcommand").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    let (first, second) = two_new_migrations(&project);

    let plan = project.run(url, &["plan"]);
    plan.code(0);
    assert!(plan.stdout.contains("CREATE TABLE users") && plan.stdout.contains("INSERT INTO users"), "{}", plan.stdout);
    assert!(plan.stdout.contains(&format!("-- {first} create_users (expand, ")), "{}", plan.stdout);
    assert!(!db.table_exists("users").await, "plan ran nothing");

    let up = project.run(url, &["up"]);
    up.code(0);
    assert_eq!(up.applied(), [first, second], "{}", up.stdout);
    assert!(up.stdout.contains("applied 2 migrations in"), "{}", up.stdout);
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 1);

    let status = project.run(url, &["status", "--format", "json"]);
    status.code(0);
    let json = status.json();
    let migrations = json["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 2);
    for (m, version) in migrations.iter().zip([first, second]) {
        assert_eq!(m["version"], version);
        assert_eq!(m["phase"], "expand");
        assert_eq!(m["state"], "applied");
        assert!(m["applied_at"].as_str().unwrap().ends_with('Z'), "{m}");
        assert!(m["duration_ms"].is_u64(), "{m}");
        assert!(m["failed_statement"].is_null(), "{m}");
    }
    assert_eq!(migrations[0]["name"], "create_users");
    let human = project.run(url, &["status"]);
    human.code(0);
    assert!(human.stdout.contains("2 applied") && human.stdout.contains("create_users"), "{}", human.stdout);
    assert!(!human.stdout.contains('\u{1b}'), "no color when not a terminal");

    project.run(url, &["validate"]).code(0);
    assert!(project.run(url, &["up"]).code(0).stdout.contains("nothing to do"));

    let down = project.run(url, &["down"]);
    down.code(0);
    assert!(down.stdout.contains(&format!("reverted {second} seed_users")), "{}", down.stdout);
    let redo = project.run(url, &["redo"]);
    redo.code(0);
    assert!(redo.stdout.contains(&format!("redid {first} create_users")), "{}", redo.stdout);
    assert_eq!(project.run(url, &["up", "--to", &first.to_string()]).code(0).applied(), Vec::<i64>::new());
    assert_eq!(project.run(url, &["up"]).code(0).applied(), [second]);
    assert!(project.run(url, &["down", "--to", &first.to_string()]).code(0).stdout.contains("reverted 1 migration"));
    assert_eq!(project.run(url, &["down", "--steps", "1"]).code(0).stdout.lines().count(), 2);
    assert_eq!(project.run(url, &["up"]).code(0).applied(), [first, second]);
    assert!(project.run(url, &["down", "--all"]).code(0).stdout.contains("reverted 2 migrations"));
    assert!(!db.table_exists("users").await);
    assert!(project.run(url, &["repair"]).code(0).stdout.contains("nothing to repair"));
    db.cleanup().await;
}

fn stepwise(project: &Project, second: &str) {
    project.write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n").write(
        "2_stepwise.up.sql",
        &format!(
            "-- migrator:no-transaction\nINSERT INTO log (note) VALUES ('first');\n{second}\nINSERT INTO log (note) VALUES ('third');\n"
        ),
    );
}

/// A failed no-transaction migration: exit code 1, the failed statement in `status` JSON and
/// in `validate`, then `resume`, `resume --skip` and `force`.
async fn failure_and_recovery<B: CliBackend>() {
    let db = B::create("cli_failure").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    stepwise(&project, "INSERT INTO missing_table (note) VALUES ('second');");
    let up = project.run(url, &["up"]);
    up.code(1);
    assert!(up.stderr.contains("failed at statement 2 of 3 (line 3)"), "{}", up.stderr);
    assert!(up.stderr.trim().starts_with("error:") && !up.stderr.contains("panicked"), "{}", up.stderr);

    let json = project.run(url, &["status", "--format", "json"]).code(0).json();
    let failed = &json["migrations"][1];
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["failed_statement"]["index"], 2);
    assert_eq!(failed["failed_statement"]["line"], 3);
    assert!(failed["failed_statement"]["error"].as_str().unwrap().contains("missing_table"), "{failed}");
    let validate = project.run(url, &["validate"]);
    validate.code(1);
    assert!(validate.stderr.contains("migration 2 `stepwise` failed at statement 2 of 3"), "{}", validate.stderr);

    stepwise(&project, "INSERT INTO log (note) VALUES ('second');");
    let resumed = project.run(url, &["resume"]);
    resumed.code(0);
    assert_eq!(resumed.applied(), [2], "{}", resumed.stdout);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 3, "statement 1 ran once");
    assert!(project.run(url, &["resume"]).code(1).stderr.contains("nothing to resume"));

    project.write("3_broken.up.sql", "-- migrator:no-transaction\nINSERT INTO missing_table (note) VALUES ('x');\nINSERT INTO log (note) VALUES ('after');\n");
    project.run(url, &["up"]).code(1);
    project.run(url, &["resume", "--skip"]).code(0);
    assert_eq!(db.scalar("SELECT count(*) FROM log WHERE note = 'after'").await, 1);

    project.write("4_broken.up.sql", "INSERT INTO missing_table (note) VALUES ('x');\n");
    project.run(url, &["up"]).code(1);
    assert!(project.run(url, &["force", "4"]).code(0).stdout.contains("recorded migration 4 as applied"));
    assert_eq!(project.run(url, &["status", "--format", "json"]).json()["migrations"][3]["state"], "applied");
    project.run(url, &["force", "4", "--reverted"]).code(0);
    assert_eq!(project.run(url, &["status", "--format", "json"]).json()["migrations"][3]["state"], "pending");
    assert!(project.run(url, &["force", "9"]).code(1).stderr.contains("no such migration"));
    db.cleanup().await;
}

/// An edited applied migration: `up` and `validate` refuse (exit 1), `repair` records it.
/// `baseline` adopts an existing database; an applied version the directory lacks is a problem.
async fn checksums_baseline_unknown<B: CliBackend>() {
    let db = B::create("cli_checksums").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project
        .write("1_create_users.up.sql", "CREATE TABLE users (id BIGINT PRIMARY KEY);\n")
        .write("2_create_orders.up.sql", "CREATE TABLE orders (id BIGINT PRIMARY KEY);\n")
        .write("3_create_items.up.sql", "CREATE TABLE items (id BIGINT PRIMARY KEY);\n");
    db.exec("CREATE TABLE users (id BIGINT PRIMARY KEY)").await;
    let baseline = project.run(url, &["baseline", "1"]);
    baseline.code(0);
    assert!(baseline.stdout.contains("recorded 1 migration(s) as applied"), "{}", baseline.stdout);
    assert_eq!(project.run(url, &["up"]).code(0).applied(), [2, 3]);
    assert!(project.run(url, &["baseline", "3"]).code(1).stderr.contains("baseline refused"));

    project.write("2_create_orders.up.sql", "-- orders, with a note\nCREATE TABLE orders (id BIGINT PRIMARY KEY);\n");
    assert!(project.run(url, &["up"]).code(1).stderr.contains("checksum mismatch for applied migration 2"));
    assert!(project.run(url, &["validate"]).code(1).stderr.contains("checksum mismatch"));
    let status = project.run(url, &["status", "--format", "json"]).code(0).json();
    assert_eq!(status["migrations"][1]["state"], "changed");
    let repaired = project.run(url, &["repair"]);
    repaired.code(0);
    assert!(repaired.stdout.contains("re-recorded the checksum of 2 create_orders"), "{}", repaired.stdout);
    project.run(url, &["validate"]).code(0);

    project.remove("2_create_orders.up.sql");
    let validate = project.run(url, &["validate"]);
    validate.code(1);
    assert!(
        validate.stderr.contains("migration 2 `create_orders` is applied in the database but"),
        "{}",
        validate.stderr
    );
    assert_eq!(project.run(url, &["status", "--format", "json"]).json()["migrations"][1]["state"], "unknown");
    project.run(url, &["validate", "--ignore-unknown"]).code(0);
    db.cleanup().await;
}

/// `--set`: a library's migration set and the application's in one database, each with its
/// own history table, applied in the order given and shown side by side; a failing set names
/// itself and the sets that did not run.
async fn migration_sets_side_by_side<B: CliBackend>() {
    let db = B::create("cli_sets").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project
        .write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n")
        .write("2_log_once.up.sql", "INSERT INTO log (note) VALUES ('once');\n");
    let jobs = project.path().join("jobs");
    std::fs::create_dir(&jobs).unwrap();
    std::fs::write(jobs.join("1_create_jobs.up.sql"), "CREATE TABLE jobs (id BIGINT PRIMARY KEY);\n").unwrap();
    let sets = ["--set", "jobs=jobs:_migrator_history_jobs", "--set", "app=migrations"];
    let up = project.run(url, &[&["up"][..], &sets[..]].concat());
    up.code(0);
    assert!(up.stdout.contains("set jobs: applied 1 migration\nset app: applied 2 migrations\n"), "{}", up.stdout);
    let again = project.run(url, &[&["up"][..], &sets[..]].concat());
    again.code(0);
    assert!(again.stdout.contains("set jobs: nothing to do: up to date\nset app: nothing to do"), "{}", again.stdout);
    let status = project.run(url, &[&["status"][..], &sets[..]].concat());
    status.code(0);
    assert!(status.stdout.starts_with("set jobs (_migrator_history_jobs)\n"), "{}", status.stdout);
    assert!(status.stdout.contains("\nset app (_migrator_history)\n"), "{}", status.stdout);
    let json = project.run(url, &[&["status", "--format", "json"][..], &sets[..]].concat()).code(0).json();
    assert_eq!(json["sets"][0]["name"], "jobs");
    assert_eq!(json["sets"][0]["table"], "_migrator_history_jobs");
    assert_eq!(json["sets"][1]["migrations"][1]["state"], "applied");

    std::fs::write(jobs.join("2_broken.up.sql"), "INSERT INTO missing_table (id) VALUES (1);\n").unwrap();
    project.write("3_after.up.sql", "INSERT INTO log (note) VALUES ('after');\n");
    let failed = project.run(url, &[&["up"][..], &sets[..]].concat());
    failed.code(1);
    assert!(failed.stderr.contains("migration set `jobs`: migration 2 `broken`"), "{}", failed.stderr);
    assert!(failed.stderr.contains("sets after it did not run: app"), "{}", failed.stderr);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1, "the app set did not run");
    let both = project.run(url, &[&["up", "--table", "x"][..], &sets[..]].concat());
    both.code(2);
    assert!(both.stderr.contains("each set names its own"), "{}", both.stderr);
    db.cleanup().await;
}

/// Eight `migrator up` processes at once on one database: all succeed, and each migration is
/// applied by exactly one of them.
async fn eight_processes_at_once<B: CliBackend>() {
    let db = B::create("cli_eight").await;
    let url = db.url();
    let project = Project::new();
    project.write("1_create_log.up.sql", "CREATE TABLE log (id BIGINT PRIMARY KEY, note VARCHAR(100));\n");
    for v in 2..=5 {
        project.write(
            &format!("{v}_insert_{v}.up.sql"),
            &format!(
                "INSERT INTO log (id, note) VALUES ({v}, 'once');\n{};\n",
                B::slow_sql(Duration::from_millis(200))
            ),
        );
    }
    let applied = up_at_once(&project, &url, 8);
    assert_eq!(applied, [1, 2, 3, 4, 5], "each migration applied by exactly one process");
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 4);
    db.cleanup().await;
}

/// SIGINT in the middle of a migration: exit code 1 with a message, the lock is released and
/// the state is one `up` goes on from; the migration ends up applied exactly once.
async fn sigint_stops_cleanly<B: CliBackend>() {
    let db = B::create("cli_sigint").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project.write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n").write(
        "2_slow.up.sql",
        &format!("INSERT INTO log (note) VALUES ('slow');\n{};\n", B::slow_sql(Duration::from_secs(4))),
    );
    let child = project.spawn(url, &["up"]);
    let started = Instant::now();
    while !db.table_exists("log").await {
        assert!(started.elapsed() < Duration::from_secs(30), "the run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    signal(&child, "INT");
    let stopped = Instant::now();
    let run = wait(child);
    assert!(stopped.elapsed() < Duration::from_secs(3), "stopped at once ({:?})", stopped.elapsed());
    run.code(1);
    assert!(run.stderr.contains("interrupted by SIGINT"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let again = project.run(url, &["up", "--lock-wait", "1min"]);
    again.code(0);
    let status = project.run(url, &["status", "--format", "json"]).code(0).json();
    let states: Vec<&str> =
        status["migrations"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["applied", "applied"]);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1, "applied exactly once");
    db.cleanup().await;
}

/// `status` and `validate` while another process runs a statement-by-statement migration:
/// `running`, with the statement and the lock holder, exit code 0.
async fn status_while_another_process_runs<B: CliBackend>() {
    let db = B::create("cli_status_running").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    stepwise(&project, &format!("{};", B::slow_sql(Duration::from_secs(6))));
    let child = project.spawn(url, &["up"]);
    let started = Instant::now();
    while !db.table_exists("log").await || db.scalar("SELECT count(*) FROM log").await == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let json = project.run(url, &["status", "--format", "json"]).code(0).json();
    let running = &json["migrations"][1];
    assert_eq!(running["state"], "running", "{running}");
    assert_eq!(running["running"]["statement"], 2, "{running}");
    assert_eq!(running["running"]["total"], 3, "{running}");
    assert!(!running["running"]["lock_holder"].as_str().unwrap().is_empty(), "{running}");
    let human = project.run(url, &["status"]);
    human.code(0);
    assert!(human.stdout.contains("1 running"), "{}", human.stdout);
    assert!(human.stdout.contains("is being applied in another process, on statement 2 of 3"), "{}", human.stdout);
    let validate = project.run(url, &["validate"]);
    validate.code(0);
    assert!(validate.stderr.contains("is running in another process"), "{}", validate.stderr);
    wait(child).code(0);
    let after = project.run(url, &["status", "--format", "json"]).code(0).json();
    assert_eq!(after["migrations"][1]["state"], "applied");
    db.cleanup().await;
}

/// Passwords in URLs are never printed, neither on success nor in errors.
async fn passwords_are_never_printed<B: CliBackend>() {
    let db = B::create("cli_passwords").await;
    let url = db.url();
    let with_password = match url.split_once("://") {
        Some((scheme, rest)) if !scheme.starts_with("sqlite") => match rest.split_once('@') {
            Some((user, host)) => format!("{scheme}://{}:s3cr3tpw@{host}", user.split(':').next().unwrap()),
            None => url.clone(),
        },
        _ => format!("{url}?mode=rwc"),
    };
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id BIGINT);\n");
    for args in [&["up"][..], &["status"], &["up", "--table", ""], &["status", "--schema", "x y"]] {
        let run = project.run(Some(&with_password), args);
        assert!(!run.stdout.contains("s3cr3tpw") && !run.stderr.contains("s3cr3tpw"), "{run:?}");
    }
    db.cleanup().await;
}

macro_rules! cli_tests {
    ($module:ident: $backend:ty) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_subcommand() {
                super::every_subcommand::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn failure_and_recovery() {
                super::failure_and_recovery::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn checksums_baseline_unknown() {
                super::checksums_baseline_unknown::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn eight_processes_at_once() {
                super::eight_processes_at_once::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sigint_stops_cleanly() {
                super::sigint_stops_cleanly::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn migration_sets_side_by_side() {
                super::migration_sets_side_by_side::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn passwords_are_never_printed() {
                super::passwords_are_never_printed::<$backend>().await;
            }
        }
    };
}

cli_tests!(sqlite: Lite);
cli_tests!(postgres: Pg);
cli_tests!(mysql: My);

/// `plan --explain`: each pending statement's lock, costs and (with server statistics) the
/// table's estimated rows, in JSON and for people.
async fn plan_explain<B: CliBackend>() {
    let db = B::create("cli_explain").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project.write("1_create_orders.up.sql", "CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT);\n");
    project.run(url, &["up"]).code(0);
    let fill = match B::DIALECT {
        migrator_core::Dialect::Postgres => {
            "INSERT INTO orders SELECT g, g FROM generate_series(1, 900) g; ANALYZE orders"
        }
        migrator_core::Dialect::MySql => {
            "INSERT INTO orders (id, total) SELECT n, n FROM (WITH RECURSIVE s (n) AS \
             (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 900) SELECT n FROM s) AS x; ANALYZE TABLE orders"
        }
        _ => "INSERT INTO orders (id, total) VALUES (1, 1)",
    };
    db.exec(fill).await;
    project
        .write(
            "2_index_orders.up.sql",
            "-- migrator:allow index-not-concurrent -- test\nCREATE INDEX orders_total ON orders (total);\n",
        )
        .write("3_fix_totals.up.sql", "UPDATE orders SET total = 0 WHERE total < 0;\n");
    let json = project.run(url, &["plan", "--explain", "--format", "json"]).code(0).json();
    let index = &json["plan"][0]["explain"][0];
    assert_eq!(index["table"], "orders", "{json}");
    assert_eq!(index["line"], 2, "{json}");
    assert_eq!(index["scans"], true, "{json}");
    let update = &json["plan"][1]["explain"][0];
    assert_eq!(update["changes_rows"], true, "{json}");
    let expected_lock = match B::DIALECT {
        migrator_core::Dialect::Postgres => "SHARE",
        migrator_core::Dialect::MySql => "ALGORITHM=INPLACE, LOCK=NONE",
        _ => "database write lock",
    };
    assert_eq!(index["lock"], expected_lock, "{json}");
    match B::DIALECT {
        // The server's estimate (InnoDB's is approximate).
        migrator_core::Dialect::Postgres => assert_eq!(index["estimated_rows"], 900, "{json}"),
        migrator_core::Dialect::MySql => assert!(index["estimated_rows"].as_i64().unwrap() > 400, "{json}"),
        _ => assert!(index["estimated_rows"].is_null(), "{json}"),
    }
    let human = project.run(url, &["plan", "--explain"]);
    human.code(0);
    assert!(human.stdout.contains(&format!("-- line 2: {expected_lock} on orders")), "{}", human.stdout);
    // Without --explain, the JSON has no explain field.
    let plain = project.run(url, &["plan", "--format", "json"]).code(0).json();
    assert!(plain["plan"][0].get("explain").is_none(), "{plain}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_plan_explain() {
    plan_explain::<Lite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_plan_explain() {
    plan_explain::<Pg>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_plan_explain() {
    plan_explain::<My>().await;
}

/// `up --schemas-like`: `count` tenants of 20 migrations, one broken on purpose (its schema
/// already has migration 10's table). With `--keep-going` every other tenant ends current and
/// the broken one is reported with its migration and statement (exit 1); after the fix (and,
/// where the failure was recorded, the `resume` its error advises) a re-run finishes it and
/// finds the others current.
async fn tenants_at_scale<B: CliBackend>(count: usize) {
    let started = Instant::now();
    let db = B::create("cli_tenants").await;
    let url = db.url();
    let project = Project::new();
    for v in 1..=20 {
        project.write(&format!("{v}_t{v}.up.sql"), &format!("CREATE TABLE t{v} (id BIGINT);\n"));
    }
    let mysql = B::DIALECT == migrator_core::Dialect::MySql;
    // PostgreSQL: schemas of the test's database; MySQL: databases named after the test's.
    let prefix = if mysql { format!("{}_t", url.rsplit('/').next().unwrap()) } else { "tenant_".to_owned() };
    let name = |i: usize| format!("{prefix}{i:04}");
    let broken = name(count / 2);
    if mysql {
        for i in 0..count {
            db.exec(&format!("CREATE DATABASE `{}`", name(i))).await;
        }
        db.exec(&format!("CREATE TABLE `{broken}`.t10 (id INT)")).await;
    } else {
        db.exec(&format!(
            "DO $$ BEGIN FOR i IN 0..{} LOOP EXECUTE format('CREATE SCHEMA tenant_%s', lpad(i::text, 4, '0')); END LOOP; END $$",
            count - 1
        ))
        .await;
        db.exec(&format!("CREATE TABLE {broken}.t10 (id INT)")).await;
    }
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let up = |keep_going: bool| {
        let mut args = vec!["up", "--schemas-like", &pattern, "--parallel", "8", "--format", "json"];
        if keep_going {
            args.push("--keep-going");
        }
        project.run(Some(&url), &args)
    };
    let created = started.elapsed();
    let first = up(true);
    first.code(1);
    let json = first.json();
    let tenants = json["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), count);
    for tenant in tenants {
        if tenant["schema"] == broken.as_str() {
            assert_eq!(tenant["state"], "failed", "{tenant}");
            assert_eq!(tenant["failed"]["version"], 10, "{tenant}");
            assert_eq!(tenant["failed"]["statement"], 1, "{tenant}");
            // What its run applied before the failure (committed, one by one).
            assert_eq!(tenant["applied"], serde_json::json!((1..=9).collect::<Vec<i64>>()), "{tenant}");
        } else {
            assert_eq!(tenant["state"], "applied", "{tenant}");
            assert_eq!(tenant["applied"].as_array().unwrap().len(), 20, "{tenant}");
        }
    }
    let rolled_out = started.elapsed();
    // `status` over the tenants: every one current but the broken one, which on MySQL stops
    // at its recorded failure (exit 1) and on PostgreSQL (rolled back) has 10 to 20 pending.
    let status = project.run(Some(&url), &["status", "--schemas-like", &pattern, "--format", "json"]);
    status.code(if mysql { 1 } else { 0 });
    let json = status.json();
    for tenant in json["tenants"].as_array().unwrap() {
        if tenant["schema"] == broken.as_str() {
            if mysql {
                assert_eq!(tenant["state"], "failed", "{tenant}");
                assert_eq!(tenant["failed"]["version"], 10, "{tenant}");
                assert!(tenant["failed"]["error"].as_str().unwrap().contains("migration 10"), "{tenant}");
            } else {
                assert_eq!(tenant["state"], "pending", "{tenant}");
                assert_eq!(tenant["pending"], serde_json::json!((10..=20).collect::<Vec<i64>>()), "{tenant}");
            }
        } else {
            assert_eq!(tenant["state"], "current", "{tenant}");
            assert_eq!(tenant["pending"], serde_json::json!([]), "{tenant}");
        }
    }
    // The fix, then what the error advises where the failure was recorded.
    if mysql {
        db.exec(&format!("DROP TABLE `{broken}`.t10")).await;
        let tenant_url = format!("{}{broken}", url.strip_suffix(url.rsplit('/').next().unwrap()).unwrap());
        project.run(Some(&tenant_url), &["resume"]).code(0);
    } else {
        db.exec(&format!("DROP TABLE {broken}.t10")).await;
    }
    let again = up(false);
    again.code(0);
    let json = again.json();
    let states: Vec<&str> = json["tenants"].as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "current").count(), count - 1, "{json}");
    let fixed = json["tenants"].as_array().unwrap().iter().find(|t| t["schema"] == broken.as_str()).unwrap();
    assert_eq!(fixed["state"], "applied", "{fixed}");
    assert_eq!(fixed["applied"][0], if mysql { 11 } else { 10 }, "{fixed}");
    let status = project.run(Some(&url), &["status", "--schemas-like", &pattern]);
    status.code(0);
    assert!(
        status.stdout.contains(&format!("{count} tenants: {count} current, 0 pending, 0 failed")),
        "{}",
        status.stdout
    );
    // A new tenant in one call; creating it again is refused, and it is left as it is.
    let new = format!("{prefix}new");
    let create = || project.run(Some(&url), &["up", "--schemas", &new, "--create", "--format", "json"]);
    let made = create();
    made.code(0);
    let json = made.json();
    assert_eq!(json["tenants"][0]["state"], "applied", "{json}");
    assert_eq!(json["tenants"][0]["applied"], serde_json::json!((1..=20).collect::<Vec<i64>>()), "{json}");
    let again = create();
    again.code(1);
    let json = again.json();
    assert_eq!(json["tenants"][0]["state"], "failed", "{json}");
    assert!(json["tenants"][0]["failed"]["error"].as_str().unwrap().contains("exists already"), "{json}");
    project.run(Some(&url), &["status", "--schemas", &new]).code(0);
    if mysql {
        db.exec(&format!("DROP DATABASE `{new}`")).await;
    }
    eprintln!(
        "{count} tenants of 20 migrations: created in {created:?}, rolled out in {:?}, re-run in {:?}",
        rolled_out - created,
        started.elapsed() - rolled_out
    );
    if mysql {
        for i in 0..count {
            db.exec(&format!("DROP DATABASE `{}`", name(i))).await;
        }
    }
    db.cleanup().await;
}

/// How many tenants: the sizes by default (1,000 PostgreSQL schemas, 100 MariaDB
/// databases: about 30 s and 5 s here since the all-tenants check), another with
/// MIGRATOR_TEST_TENANTS.
fn tenant_count(default: usize) -> usize {
    std::env::var("MIGRATOR_TEST_TENANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_many_tenants() {
    tenants_at_scale::<Pg>(tenant_count(1000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_many_tenants() {
    tenants_at_scale::<My>(tenant_count(100)).await;
}

/// `up --grouped`: a failing migration rolls its group back and the error says so (exit 1);
/// after the fix one run applies them all. On MySQL the option is refused (exit 2).
async fn grouped_up<B: CliBackend>() {
    let db = B::create("cli_grouped").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project
        .write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100) PRIMARY KEY);\n")
        .write("2_first.up.sql", "INSERT INTO log (note) VALUES ('first');\n")
        .write("3_again.up.sql", "INSERT INTO log (note) VALUES ('first');\n");
    let up = project.run(url, &["up", "--grouped"]);
    if B::DIALECT == migrator_core::Dialect::MySql {
        up.code(2);
        assert!(up.stderr.contains("MySQL cannot run several migrations in one transaction"), "{}", up.stderr);
        db.cleanup().await;
        return;
    }
    up.code(1);
    assert!(up.stderr.contains("migration 3 `again`"), "{}", up.stderr);
    assert!(
        up.stderr.contains(
            "migrations 1, 2, 3 ran in this one transaction, and it was rolled back: none of them is applied"
        ),
        "{}",
        up.stderr
    );
    let json = project.run(url, &["status", "--format", "json"]).code(0).json();
    assert!(json["migrations"].as_array().unwrap().iter().all(|m| m["state"] == "pending"), "{json}");
    project.write("3_again.up.sql", "INSERT INTO log (note) VALUES ('second');\n");
    let up = project.run(url, &["up", "--grouped"]);
    up.code(0);
    assert_eq!(up.applied(), [1, 2, 3], "{}", up.stdout);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 2);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_grouped_up() {
    grouped_up::<Lite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_grouped_up() {
    grouped_up::<Pg>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_grouped_up() {
    grouped_up::<My>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_status_while_another_process_runs() {
    status_while_another_process_runs::<Lite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_status_while_another_process_runs() {
    status_while_another_process_runs::<Pg>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_status_while_another_process_runs() {
    status_while_another_process_runs::<My>().await;
}

// ---- without a database ----

#[test]
fn usage_errors_exit_with_2() {
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
    let cases: &[(Option<&str>, &[&str], &str)] = &[
        (None, &["up"], "no database URL"),
        (Some("oracle://scott:tiger@h/db"), &["up"], "unsupported database URL scheme"),
        (Some("sqlite://x.db"), &["down", "--steps", "1", "--all"], "cannot be used with"),
        (Some("sqlite://x.db"), &["force", "0"], "not a migration version"),
        (Some("sqlite://x.db"), &["up", "--lock-wait", "soon"], "is not a duration"),
        (Some("sqlite://x.db"), &["up", "--phase", "later"], "invalid value"),
        (Some("sqlite://x.db"), &["up", "--schema", "app"], "this database has no schemas"),
        (Some("postgres://u@h:notaport/db"), &["status"], "invalid database URL"),
        (Some("mysql://root@127.0.0.1"), &["status"], "names no database"),
        (None, &["lint"], "needs the SQL dialect"),
        (None, &["new", "drop table; --"], "cannot name a migration"),
        (None, &["lint", "--dialect", "sqlite", "--deny", "no-such-rule"], "no such rule"),
        (None, &["frobnicate"], "unrecognized subcommand"),
    ];
    for (url, args, expected) in cases {
        let run = project.run(*url, args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(expected), "{args:?}: expected `{expected}` in {}", run.stderr);
        assert!(!run.stderr.contains("panicked") && !run.stderr.contains("tiger"), "{run:?}");
    }
    assert_eq!(project.run(None, &["--help"]).code, 0);
    assert!(project.run(None, &["--version"]).code(0).stdout.starts_with("migrator "));
}

#[test]
fn an_unreachable_server_fails_fast_with_one_line() {
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id BIGINT);\n");
    for url in [
        "postgres://app:s3cr3tpw@127.0.0.1:1/app",
        "mysql://app:s3cr3tpw@127.0.0.1:1/app",
        "postgresql://app@no-such-host.invalid/app",
    ] {
        let started = Instant::now();
        let run = project.run(Some(url), &["up"]);
        assert!(started.elapsed() < Duration::from_secs(15), "{url}: {:?}", started.elapsed());
        assert_eq!(run.code, 1, "{url}: {run:?}");
        assert_eq!(run.stderr.trim().lines().count(), 1, "one line: {}", run.stderr);
        assert!(run.stderr.starts_with("error: cannot connect to"), "{}", run.stderr);
        assert!(!run.stderr.contains("s3cr3tpw"), "{}", run.stderr);
    }
}

#[test]
fn a_malformed_directory_is_reported_not_run() {
    let project = Project::new();
    project
        .write("1_create_a.up.sql", "CREATE TABLE a (id INTEGER);\n")
        .write("create_b.up.sql", "CREATE TABLE b (id INTEGER);\n")
        .write("3_orphan.down.sql", "DROP TABLE c;\n")
        .write("4_bad_directive.up.sql", "-- migrator:no-transactoin\nSELECT 1;\n")
        .write("5_unterminated.up.sql", "INSERT INTO a VALUES ('oops);\n");
    let db = project.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    for args in [&["up"][..], &["status"], &["plan"]] {
        let run = project.run(Some(&url), args);
        run.code(1);
        for what in
            ["create_b.up.sql", "3_orphan.down.sql", "unknown directive `no-transactoin`", "unterminated string"]
        {
            assert!(run.stderr.contains(what), "{args:?}: {what} in {}", run.stderr);
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert!(!db.exists(), "nothing was created");
    let validate = project.run(None, &["validate", "--dialect", "sqlite"]);
    validate.code(1);
    assert!(validate.stderr.contains("4 problems in the migration files"), "{}", validate.stderr);
    let lint = project.run(None, &["lint", "--dialect", "sqlite", "--format", "json"]);
    lint.code(1);
    let rules: Vec<String> =
        lint.json()["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_owned()).collect();
    for rule in ["invalid-migration", "unknown-directive", "parse-error"] {
        assert!(rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
    }
    let missing = project.run(Some(&url), &["up", "--source", "nowhere"]);
    missing.code(1);
    assert!(missing.stderr.contains("the migrations directory does not exist"), "{}", missing.stderr);
}

/// Regression (issue 12): 20,000 findings on one line printed 14 GB. Human and GitHub output
/// list the first 50 findings and say how many more there are; `--all` and JSON list every
/// one, each finding's output bounded.
#[test]
fn lint_lists_fifty_findings_unless_asked_for_all() {
    let project = Project::new();
    project.write("1_drops.up.sql", &"DROP TABLE IF EXISTS zz;".repeat(2000)).write("1_drops.down.sql", "SELECT 1;\n");
    let human = project.run(None, &["lint", "--dialect", "postgres"]);
    human.code(1);
    assert_eq!(human.stdout.matches("deny[drop-table]").count(), 50, "{}", &human.stdout[..2000]);
    assert!(human.stdout.contains("… and 1950 more findings (`--all` lists every one"), "{}", human.stdout);
    assert!(human.stdout.len() < 50_000, "{} bytes", human.stdout.len());
    let all = project.run(None, &["lint", "--dialect", "postgres", "--all"]);
    all.code(1);
    assert_eq!(all.stdout.matches("deny[drop-table]").count(), 2000);
    assert!(all.stdout.len() < 2000 * 1000, "linear in the findings: {} bytes", all.stdout.len());
    let github = project.run(None, &["lint", "--dialect", "postgres", "--format", "github"]);
    github.code(1);
    assert_eq!(github.stdout.matches("::error ").count(), 50);
    assert!(github.stdout.contains("::notice title=migrator lint::… and 1950 more findings"), "{}", github.stdout);
    let json = project.run(None, &["lint", "--dialect", "postgres", "--format", "json"]).code(1).json();
    assert_eq!(json["findings"].as_array().unwrap().len(), 2000);
}

#[test]
fn lint_prints_findings_in_three_formats() {
    let project = Project::new();
    project
        .write(
            "1_cleanup.up.sql",
            "-- migrator:allow drop-table -- nothing reads it since v41\nDROP TABLE sessions;\nCREATE INDEX users_email ON users (email);\n",
        )
        .write("1_cleanup.down.sql", "SELECT 1;\n");
    let human = project.run(None, &["lint", "--dialect", "postgres"]);
    human.code(1);
    assert!(human.stdout.contains("migrations/1_cleanup.up.sql:3:1: deny[index-not-concurrent]"), "{}", human.stdout);
    assert!(human.stdout.contains("3 | CREATE INDEX users_email ON users (email);\n  | ^"), "{}", human.stdout);
    assert!(human.stdout.contains("2 findings: 2 deny (1 allowed)"), "{}", human.stdout);

    let json = project.run(None, &["lint", "--dialect", "postgres", "--format", "json"]).code(1).json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    let allowed = &findings[0];
    assert_eq!(allowed["rule"], "drop-table");
    assert_eq!(allowed["level"], "deny");
    assert_eq!(allowed["allowed"], true);
    assert_eq!((allowed["line"].as_u64(), allowed["column"].as_u64()), (Some(2), Some(12)));
    let denied = &findings[1];
    assert_eq!(denied["rule"], "index-not-concurrent");
    assert_eq!(denied["file"], "migrations/1_cleanup.up.sql");
    assert_eq!(denied["allowed"], false);
    assert!(denied["help"].as_str().unwrap().contains("CONCURRENTLY"));
    assert!(denied["message"].as_str().unwrap().contains("users"));

    let github = project.run(None, &["lint", "--dialect", "postgres", "--format", "github"]);
    github.code(1);
    assert!(
        github
            .stdout
            .contains("::error file=migrations/1_cleanup.up.sql,line=3,col=1,title=deny index-not-concurrent::")
    );
    assert!(github.stdout.contains("::notice file=migrations/1_cleanup.up.sql,line=2,col=12"), "{}", github.stdout);

    // The same files pass on SQLite, where the index takes no lock that matters; lowered, they
    // pass on PostgreSQL.
    project.run(None, &["lint", "--dialect", "sqlite"]).code(0);
    project.run(None, &["lint", "migrations", "--dialect", "postgres", "--warn", "index-not-concurrent"]).code(0);
}

#[test]
fn new_numbers_migrations_in_an_existing_directory() {
    let project = Project::new();
    std::fs::create_dir_all(project.path().join("db/migrations")).unwrap();
    let run = project.run(None, &["new", "add-users email", "--source", "db/migrations", "--sequential"]);
    run.code(0);
    assert!(run.stdout.contains("created db/migrations/1_add_users_email.up.sql"), "{}", run.stdout);
    assert!(project.path().join("db/migrations/1_add_users_email.down.sql").exists());
    project.run(None, &["new", "second", "--sequential", "--source", "db/migrations"]).code(0);
    assert!(project.path().join("db/migrations/2_second.up.sql").exists());
    // An untouched template is refused everywhere, so it is never applied as "0 statements"
    // (it used to be, and SQL written into it later never ran).
    let lint = project.run(None, &["lint", "db/migrations", "--dialect", "mysql", "--format", "json"]);
    lint.code(1);
    let findings = lint.json()["findings"].as_array().unwrap().clone();
    let refused: Vec<&serde_json::Value> = findings.iter().filter(|f| f["rule"] != "missing-down").collect();
    assert_eq!(refused.len(), 2, "{findings:?}");
    assert!(refused.iter().all(|f| f["message"].as_str().unwrap().contains("has no statement")), "{refused:?}");
    let up = project.run(Some("sqlite://app.db?mode=rwc"), &["up", "--source", "db/migrations"]);
    assert_eq!(up.code, 1, "{up:?}");
    assert!(up.stderr.contains("1_add_users_email.up.sql") && up.stderr.contains("has no statement"), "{up:?}");
    // Once written, the pair loads and lints (the empty down is noted).
    for file in ["1_add_users_email", "2_second"] {
        let path = project.path().join(format!("db/migrations/{file}.up.sql"));
        let template = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{template}CREATE TABLE t_{file} (id BIGINT);\n")).unwrap();
    }
    let lint = project.run(None, &["lint", "db/migrations", "--dialect", "mysql", "--format", "json"]);
    lint.code(0);
    assert!(lint.json()["findings"].as_array().unwrap().iter().all(|f| f["rule"] == "missing-down"));
    project.run(Some("sqlite://app.db?mode=rwc"), &["up", "--source", "db/migrations"]).code(0);
}

/// TLS through the URL's own parameters (`sslmode=require`); Debian's PostgreSQL serves TLS
/// with its self-signed certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_through_the_url() {
    use migrator_conformance::Backend;
    let db = <Pg as CliBackend>::create("cli_tls").await;
    let url = format!("{}?sslmode=require", db.url());
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id BIGINT);\n");
    let run = project.run(Some(&url), &["up"]);
    assert_eq!(
        run.code, 0,
        "sslmode=require failed; the server must accept TLS (ssl = on, as Debian's package sets it): {run:?}"
    );
    assert_eq!(run.applied(), [1], "applied over TLS: sslmode=require refuses a plain connection");
    db.cleanup().await;
}

/// `up --lock-retries`: a migration that meets a long transaction waits for it, each retry
/// said on stderr as it happens and counted in the run's summary; without enough retries the
/// failure says how many attempts over how long and how to find the blocking session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_retries_on_the_command_line() {
    use migrator_conformance::Backend;
    use sqlx::Connection;
    let db = <Pg as CliBackend>::create("cli_lock_retries").await;
    db.exec("CREATE TABLE busy (id BIGINT)").await;
    let project = Project::new();
    project.write("1_alter_busy.up.sql", "-- migrator:lock-timeout 200ms\nALTER TABLE busy ADD COLUMN note TEXT;\n");
    let mut blocker = sqlx::PgConnection::connect_with(&db.options()).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE").execute(&mut blocker).await.unwrap();

    // Too few attempts: a clear failure, nothing applied.
    let url = db.url();
    let child = project.spawn(Some(&url), &["up", "--lock-retries", "1", "--lock-retry-window", "1min"]);
    let failed = tokio::task::spawn_blocking(move || wait(child)).await.unwrap();
    failed.code(1);
    for expected in ["55P03", "2 attempts over", "pg_stat_activity", "pg_locks", "nothing of it was applied"] {
        assert!(failed.stderr.contains(expected), "`{expected}` missing:\n{}", failed.stderr);
    }
    assert!(failed.stderr.contains("(attempt 1 of 2)"), "the retry is said as it happens:\n{}", failed.stderr);

    // Enough: the blocker ends a second after the migration is seen waiting (so at least one
    // attempt times out, whatever the machine's load), the run applies it after retries.
    let child = project.spawn(Some(&url), &["up", "--lock-retries", "10", "--lock-retry-window", "1min"]);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60)
        && db.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'busy'::regclass").await == 0
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
    let run = tokio::task::spawn_blocking(move || wait(child)).await.unwrap();
    run.code(0);
    assert_eq!(run.applied(), [1]);
    assert!(run.stdout.contains("on lock timeout"), "{}", run.stdout);
    assert!(run.stderr.contains("waited longer than its lock timeout"), "{}", run.stderr);
    db.cleanup().await;
}

/// `new --source /nonexistent/dir x` used to create the whole tree silently (a typo in the
/// path made a second migrations directory): a missing directory is a usage error that names
/// it and says how to create it.
#[test]
fn new_refuses_a_missing_migrations_directory() {
    let project = Project::new();
    for dir in ["db/migrations", "migrations/nested/deeper"] {
        let run = project.run(None, &["new", "create users", "--source", dir]);
        run.code(2);
        assert!(run.stderr.starts_with("error: the migrations directory "), "{}", run.stderr);
        assert!(run.stderr.contains(&format!("{dir} does not exist")), "{}", run.stderr);
        assert!(run.stderr.contains(&format!("mkdir -p {dir}")), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(!project.path().join(dir).exists(), "{dir} was created");
    }
    // Through MIGRATOR_SOURCE too.
    let run = project.run_with_env(None, &["new", "create users"], &[("MIGRATOR_SOURCE", "elsewhere/m")]);
    run.code(2);
    assert!(run.stderr.contains("elsewhere/m does not exist"), "{}", run.stderr);
    assert!(!project.path().join("elsewhere").exists());
    // A file where the directory should be.
    std::fs::write(project.path().join("plain-file"), "").unwrap();
    let run = project.run(None, &["new", "create users", "--source", "plain-file"]);
    run.code(2);
    assert!(run.stderr.contains("plain-file is not a directory"), "{}", run.stderr);
    // The default directory exists in a project: files are created there.
    let run = project.run(None, &["new", "create users", "--sequential"]);
    run.code(0);
    assert!(project.migrations().join("1_create_users.up.sql").exists(), "{}", run.stdout);
}

/// `--help` of every subcommand used to list ten global options, `--lease-ttl` on `new`
/// included: each subcommand lists (and accepts) only the options it reads.
#[test]
fn each_subcommand_shows_only_its_options() {
    let project = Project::new();
    let help = |command: &str| {
        let run = project.run(None, &[command, "--help"]);
        run.code(0);
        run.stdout.clone()
    };
    let options = |text: &str| -> Vec<String> {
        let mut found: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.split('=').next().unwrap().to_owned())
            .collect();
        found.sort();
        found.dedup();
        found
    };
    let lock = ["--lock-wait", "--lock-strategy", "--lease-ttl"];
    let database = ["--database-url", "--table", "--schema"];
    let policy = ["--allow-out-of-order", "--ignore-unknown"];
    // (subcommand, options its help lists, groups of options it must not list)
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a [&'a str]]);
    let cases: &[Case<'_>] = &[
        ("new", &["--source", "--sequential"], &[&lock, &database, &policy]),
        (
            "lint",
            &["--source", "--dialect", "--format", "--deny", "--warn", "--off", "--lint-from"],
            &[&lock, &database, &policy],
        ),
        ("status", &["--source", "--format", "--database-url", "--table", "--schema"], &[&lock, &policy]),
        (
            "plan",
            &["--source", "--to", "--phase", "--database-url", "--allow-out-of-order", "--ignore-unknown"],
            &[&lock],
        ),
        ("validate", &["--source", "--dialect", "--database-url", "--table", "--ignore-unknown"], &[&lock]),
        (
            "up",
            &[
                "--source",
                "--to",
                "--phase",
                "--database-url",
                "--table",
                "--schema",
                "--lock-wait",
                "--lock-strategy",
                "--lease-ttl",
                "--allow-out-of-order",
                "--ignore-unknown",
            ],
            &[],
        ),
        ("redo", &["--source", "--database-url", "--lock-wait", "--allow-out-of-order", "--ignore-unknown"], &[]),
        ("down", &["--source", "--steps", "--to", "--all", "--database-url", "--lock-wait", "--lease-ttl"], &[&policy]),
        ("resume", &["--skip", "--database-url", "--lock-wait"], &[&policy]),
        ("force", &["--reverted", "--database-url", "--lock-wait"], &[&policy]),
        ("repair", &["--database-url", "--lock-wait"], &[&policy]),
        ("baseline", &["--database-url", "--lock-wait"], &[&policy]),
        (
            "adopt",
            &["--from", "--from-table", "--from-schema", "--accept-changed", "--dry-run", "--format", "--lock-wait"],
            &[&policy],
        ),
    ];
    for (command, present, absent) in cases {
        let text = help(command);
        let listed = options(&text);
        for option in *present {
            assert!(listed.iter().any(|o| o == option), "`{command} --help` lists {option}:\n{text}");
        }
        for option in absent.iter().flat_map(|group| group.iter()) {
            assert!(!listed.iter().any(|o| o == option), "`{command} --help` does not list {option}:\n{text}");
        }
    }
    // An option a subcommand does not read is refused, not ignored.
    for args in [
        &["new", "x", "--lease-ttl", "5s"][..],
        &["lint", "--dialect", "sqlite", "--database-url", "sqlite://x.db"],
        &["status", "--lock-strategy", "lease"],
        &["down", "--allow-out-of-order"],
    ] {
        let run = project.run(Some("sqlite://x.db"), args);
        run.code(2);
        assert!(run.stderr.contains("unexpected argument"), "{args:?}: {}", run.stderr);
    }
    assert!(!project.path().join("x.db").exists());
}

/// Options written before the subcommand (`migrator --source db up`), as the global options
/// allowed, still work; where the subcommand does not read them they are refused.
#[test]
fn options_before_the_subcommand_still_work() {
    let project = Project::new();
    std::fs::create_dir_all(project.path().join("db/m")).unwrap();
    let run = project.run(None, &["--source", "db/m", "new", "first", "--sequential"]);
    run.code(0);
    let first = project.path().join("db/m/1_first.up.sql");
    assert!(first.exists(), "{}", run.stdout);
    // An untouched template is refused (it has no statement): write the migration.
    std::fs::write(&first, "CREATE TABLE first (id BIGINT);\n").unwrap();
    let url = format!("sqlite://{}", project.path().join("app.db").display());
    let run = project.run(None, &["--database-url", &url, "--source=db/m", "--lock-wait", "5s", "up"]);
    run.code(0);
    assert_eq!(run.applied(), [1], "{}", run.stdout);
    let run = project.run(None, &["--lease-ttl", "5s", "new", "second"]);
    run.code(2);
    assert!(run.stderr.contains("unexpected argument '--lease-ttl'"), "{}", run.stderr);
}

/// How a hostile URL must fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fails {
    /// Exit code 2, a usage error (the URL cannot be used as written).
    Usage,
    /// Exit code 1, `cannot connect to …` (nothing listens on port 1).
    Connect,
}

/// A password as the test looks for it in the output: a distinctive one (containing `5ecret`)
/// must appear in no form at all; a common one (`postgres`, `1`) legitimately appears in other
/// words, so only its URL contexts are looked for, and the text around it must not be garbled.
fn needles(password: &str) -> Vec<String> {
    if password.is_empty() {
        return Vec::new();
    }
    let encode = |upper: bool| -> String {
        password
            .bytes()
            .map(|b| match b {
                b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => char::from(b).to_string(),
                b if upper => format!("%{b:02X}"),
                b => format!("%{b:02x}"),
            })
            .collect()
    };
    let escaped: String = password
        .chars()
        .map(|c| if c.is_control() { format!("\\x{:02x}", u32::from(c)) } else { c.to_string() })
        .collect();
    if password.contains("5ecret") {
        vec![
            "5ecret".to_owned(),
            password.to_owned(),
            encode(true),
            encode(false),
            escaped,
            password.escape_debug().to_string(),
        ]
    } else {
        vec![format!(":{password}@"), format!(":{}@", encode(true)), format!("password={password}")]
    }
}

/// More than forty hostile database URLs through the real binary, in the environment and on
/// the command line: each fails as a usage error or a connection error, without a panic, and
/// its password appears nowhere in the output, raw, percent-decoded or percent-encoded.
/// Regression: `#` in a password printed the URL in clear ("invalid port number"), a URL
/// without a scheme was echoed, `sqlite://u:pw@/path` was printed decoded, and masking
/// replaced the password's text everywhere (`tgres` inside `postgres://`).
#[test]
fn hostile_urls_never_print_their_password() {
    use Fails::{Connect, Usage};
    let long = "x5ecret".repeat(2_000);
    let long_db = "d".repeat(5_000);
    let cases: Vec<(String, &str, Fails)> = vec![
        ("postgres://u:s3cr#t5ecret@127.0.0.1:1/db".into(), "s3cr#t5ecret", Usage),
        ("postgres://u:123#x5ecret@127.0.0.1:1/db".into(), "123#x5ecret", Usage),
        ("u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Usage),
        ("sqlite://u:pw5ecret@/tmp/never.db".into(), "pw5ecret", Usage),
        ("sqlite://u:pw5ecret@never.db".into(), "pw5ecret", Usage),
        ("sqlite:u:pw5ecret@never.db".into(), "pw5ecret", Usage),
        ("postgres://u:p@ss5ecret@127.0.0.1:1/db".into(), "p@ss5ecret", Connect),
        ("postgres://u:p%40ss5ecret@127.0.0.1:1/db".into(), "p@ss5ecret", Connect),
        ("postgres://u:a%2Fb%3Fc%3Ad%23e5ecret@127.0.0.1:1/db".into(), "a/b?c:d#e5ecret", Connect),
        ("postgres://u:a/b5ecret@127.0.0.1:1/db".into(), "a/b5ecret", Usage),
        ("postgres://u:1/b5ecret@127.0.0.1:1/db".into(), "1/b5ecret", Usage),
        ("postgres://u:a?b5ecret@127.0.0.1:1/db".into(), "a?b5ecret", Usage),
        ("postgres://u:9?b5ecret@127.0.0.1:1/db".into(), "9?b5ecret", Usage),
        ("postgres://u:@127.0.0.1:1/db".into(), "", Connect),
        ("postgres://:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Connect),
        ("postgres://u:pw5ecret@[::1]:1/db".into(), "pw5ecret", Connect),
        ("postgres://u:pw5ecret@[::1/db".into(), "pw5ecret", Usage),
        ("postgres://u:pw5ecret@[fe80::1%25eth0]:1/db".into(), "pw5ecret", Usage),
        ("postgres://u:pässwörd5ecret@127.0.0.1:1/db".into(), "pässwörd5ecret", Connect),
        ("postgres://u:pw5ecret@127.0.0.1:1/dbé".into(), "pw5ecret", Connect),
        ("postgres://u:pw%zz5ecret@127.0.0.1:1/db".into(), "pw%zz5ecret", Connect),
        ("postgres://u:100%25sure5ecret@127.0.0.1:1/db".into(), "100%sure5ecret", Connect),
        ("postgres://u:postgres@127.0.0.1:1/db".into(), "postgres", Connect),
        ("postgres://u:localhost@127.0.0.1:1/db".into(), "localhost", Connect),
        ("postgres://u:1@127.0.0.1:1/db".into(), "1", Connect),
        ("postgres://postgres:postgres@127.0.0.1:1/postgres".into(), "postgres", Connect),
        ("postgres://u:pos@127.0.0.1:1/db".into(), "pos", Connect),
        ("postgres://u@127.0.0.1:1/db?password=pw5ecret".into(), "pw5ecret", Connect),
        (
            "postgres://u@127.0.0.1:1/db?sslmode=disable&password=pw5ecret&application_name=x".into(),
            "pw5ecret",
            Connect,
        ),
        ("postgres://u@127.0.0.1:1/db?pass=pw5ecret".into(), "pw5ecret", Connect),
        ("postgres://u@127.0.0.1:1/db?password=1".into(), "1", Connect),
        ("mysql://u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Connect),
        ("mysql://u@127.0.0.1:1/db?password=pw5ecret".into(), "pw5ecret", Connect),
        ("mariadb://u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Connect),
        ("mysql://root:pw5ecret@127.0.0.1:1".into(), "pw5ecret", Usage),
        ("oracle://u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Usage),
        ("file:///etc/pw5ecret".into(), "pw5ecret", Usage),
        ("POSTGRES://u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Connect),
        ("postgresql:u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Usage),
        ("postgres:/u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Usage),
        ("://u:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Usage),
        ("postgres:///db?host=127.0.0.1&port=1&password=pw5ecret".into(), "pw5ecret", Connect),
        (format!("postgres://u:{long}@127.0.0.1:1/db"), long.as_str(), Connect),
        (format!("postgres://u:pw5ecret@127.0.0.1:1/{long_db}"), "pw5ecret", Connect),
        ("postgres://u:pw%005ecret@127.0.0.1:1/db".into(), "pw\u{0}5ecret", Connect),
        ("postgres://u:pw\n5ecret@127.0.0.1:1/db".into(), "pw\n5ecret", Usage),
        ("postgres://u:pw\u{1b}[31m5ecret@127.0.0.1:1/db".into(), "pw\u{1b}[31m5ecret", Usage),
        ("postgres://u:pw%1B%5B2J5ecret@127.0.0.1:1/db".into(), "pw\u{1b}[2J5ecret", Connect),
        ("postgres://u:pw\t5ecret@127.0.0.1:1/db".into(), "pw\t5ecret", Usage),
        ("postgres://u:pw 5ecret@127.0.0.1:1/db".into(), "pw 5ecret", Connect),
        ("  postgres://u:pw5ecret@127.0.0.1:1/db  ".into(), "pw5ecret", Connect),
        ("postgres://u:pw5ecret@127.0.0.1:1/db#frag".into(), "pw5ecret", Usage),
        ("postgres://u:pw5ecret@127.0.0.1:99999/db".into(), "pw5ecret", Usage),
        ("postgres://u:pw5ecret@127.0.0.1:1/db?sslmode=bogus".into(), "pw5ecret", Usage),
        ("sqlite::memory:?password=pw5ecret".into(), "pw5ecret", Usage),
        ("postgres://u%3Aevil:pw5ecret@127.0.0.1:1/db".into(), "pw5ecret", Connect),
        ("postgres://u:%70%77%35%65%63%72%65%74@127.0.0.1:1/db".into(), "pw5ecret", Connect),
        ("postgres://u:pw5ecret@127.0.0.1:1/db\u{202e}".into(), "pw5ecret", Connect),
    ];
    assert!(cases.len() >= 40);
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
    for (url, password, fails) in &cases {
        let flag = format!("--database-url={url}");
        let runs = [
            ("DATABASE_URL", project.run(Some(url), &["status"])),
            ("--database-url URL", project.run(None, &["status", "--database-url", url])),
            ("--database-url=URL", project.run(None, &["status", &flag])),
        ];
        for (how, run) in runs {
            let shown = format!("{how} {url:?}: {run:?}");
            let output = format!("{}{}", run.stdout, run.stderr);
            match fails {
                Usage => assert_eq!(run.code, 2, "usage error for {shown}"),
                Connect => {
                    assert_eq!(run.code, 1, "connection error for {shown}");
                    let error = run.stderr.lines().find(|l| l.starts_with("error: "));
                    assert!(error.is_some_and(|e| e.starts_with("error: cannot connect to ")), "{shown}");
                }
            }
            assert!(run.stderr.starts_with("error: ") || run.stderr.starts_with("warning: "), "{shown}");
            assert!(!output.contains("panicked"), "{shown}");
            assert!(run.stderr.len() < 2_000, "a short message: {shown}");
            for needle in needles(password) {
                assert!(!output.contains(&needle), "`{needle}` printed for {shown}");
            }
            // Masking never cuts into a word: `***` stands alone.
            for (at, _) in output.match_indices("***") {
                let before = output.get(..at).and_then(|t| t.chars().next_back());
                let after = output.get(at + 3..).and_then(|t| t.chars().next());
                assert!(!before.is_some_and(char::is_alphanumeric), "garbled before *** in {shown}");
                assert!(!after.is_some_and(char::is_alphanumeric), "garbled after *** in {shown}");
            }
            assert!(!output.contains('\u{1b}'), "no escape sequence reaches the terminal: {shown}");
        }
        if url.contains('#') && *fails == Usage {
            let run = project.run(Some(url), &["status"]);
            assert!(run.stderr.contains("`#` as %23"), "the hint to percent-encode: {run:?}");
        }
    }
    assert!(std::fs::read_dir(project.path()).unwrap().count() == 1, "no SQLite file was created");
    // What is shown: the URL's structure intact, only the secrets masked.
    for (url, shown) in [
        ("postgres://postgres@127.0.0.1:1/postgres", "postgres://postgres@127.0.0.1:1/postgres"),
        ("postgres://u:postgres@127.0.0.1:1/db", "postgres://u:***@127.0.0.1:1/db"),
        ("postgres://u:pos@127.0.0.1:1/postgres", "postgres://u:***@127.0.0.1:1/postgres"),
        ("postgres://u:1@127.0.0.1:1/db?password=1", "postgres://u:***@127.0.0.1:1/db?password=***"),
        ("mariadb://root:localhost@127.0.0.1:1/db", "mariadb://root:***@127.0.0.1:1/db"),
        ("postgres://u:s3cr#t@127.0.0.1:1/db", "postgres://u:***@127.0.0.1:1/db"),
    ] {
        let run = project.run(Some(url), &["status"]);
        assert!(run.stderr.contains(&format!(" {shown}: ")), "{url} shown as {shown}: {}", run.stderr);
    }
}

/// clap quotes arguments in its errors: a URL given where another argument was expected, or
/// to a subcommand that takes none, is masked there too.
#[test]
fn usage_errors_do_not_quote_passwords() {
    let project = Project::new();
    for args in [
        &["status", "postgres://u:pw5ecret@h/db"][..],
        &["status", "u:pw5ecret@h/db"],
        &["up", "--to", "postgres://u:pw5ecret@h/db"],
        &["lint", "--dialect", "postgres://u:pw5ecret@h/db"],
        &["new", "x", "--database-url=postgres://u:pw5ecret@h/db"],
        &["new", "postgres://u:pw5ecret@h/db"],
        &["up", "--lock-wait", "u:pw5ecret@h"],
        &["status", "--database-url", "postgres://u:pw5ecret@h/db", "--database-url", "x"],
    ] {
        let run = project.run(None, args);
        run.code(2);
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("5ecret") && !run.stdout.contains("5ecret"), "{args:?}: {}", run.stderr);
    }
    // clap quotes the argument: its escape sequence is shown escaped.
    let run = project.run(None, &["status", "\u{1b}]0;title\u{7}"]);
    run.code(2);
    assert!(run.stderr.contains("unexpected argument '\\x1b]0;title\\x07' found"), "{}", run.stderr);
}

/// `RUST_LOG` adds the libraries' log on stderr, where sqlx logged an unknown URL parameter
/// with its value (`ignoring unrecognized connect parameter key=pass value=…`): the log is
/// scrubbed like every other output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_does_not_print_passwords() {
    use migrator_conformance::Backend;
    let db = <Pg as CliBackend>::create("cli_log_passwords").await;
    let url = db.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap();
    let user = user.split(':').next().unwrap();
    // The local server trusts its clients: any password connects.
    let url = format!("{scheme}://{user}:pw5ecret@{host}?pass=pw5ecret&application_name=migrator");
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id BIGINT);\n");
    let run = project.run_with_env(Some(&url), &["up"], &[("RUST_LOG", "trace")]);
    run.code(0);
    assert!(run.stderr.contains("ignoring unrecognized connect parameter"), "the log is on: {}", run.stderr);
    assert!(!run.stderr.contains("5ecret") && !run.stdout.contains("5ecret"), "{}", run.stderr);
    db.cleanup().await;
}

/// A failing migration printed the database's message three or four times (each error of the
/// chain repeated what its source said) and, on PostgreSQL, ended with the server's C source
/// position ("division by zero at line 869"): the message is printed once, with the file and
/// the statement's line.
async fn a_failing_migration_prints_its_error_once<B: CliBackend>(failing: &str, message: &str) {
    let db = B::create("cli_error_once").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project.write("1_fails.up.sql", &format!("-- fails on line 3\nSELECT 1;\n{failing};\n"));
    project.write("2_fails_stepwise.up.sql", &format!("-- migrator:no-transaction\nSELECT 1;\n{failing};\n"));
    let check = |run: &common::Run, what: &str| {
        assert_eq!(run.stderr.matches(message).count(), 1, "{what}: `{message}` once in:\n{}", run.stderr);
        assert!(!run.stderr.contains("error returned from database"), "{what}: {}", run.stderr);
        let position = run.stderr.split("at line ").skip(1).any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        assert!(!position, "{what}: a server source position in:\n{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    };
    let up = project.run(url, &["up"]);
    up.code(1);
    check(&up, "up");
    assert!(up.stderr.contains("migrations/1_fails.up.sql) failed at statement 2 of 2 (line 3)"), "{}", up.stderr);
    // The no-transaction one fails after its first statement: recorded, shown by validate.
    project.remove("1_fails.up.sql");
    let up = project.run(url, &["up"]);
    up.code(1);
    check(&up, "up, no-transaction");
    assert!(up.stderr.contains("(line 3)"), "{}", up.stderr);
    let validate = project.run(url, &["validate"]);
    validate.code(1);
    check(&validate, "validate");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failing_migration_prints_its_error_once() {
    a_failing_migration_prints_its_error_once::<Pg>("SELECT 1/0", "division by zero").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_failing_migration_prints_its_error_once() {
    // MariaDB answers NULL to 1/0: a missing table fails instead.
    a_failing_migration_prints_its_error_once::<My>("SELECT * FROM no_such_table", "no_such_table' doesn't exist")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failing_migration_prints_its_error_once() {
    // SQLite answers NULL to 1/0: a missing table fails instead.
    a_failing_migration_prints_its_error_once::<Lite>("SELECT * FROM no_such_table", "no such table: no_such_table")
        .await;
}

/// Connection errors quoted sqlx's text: "error returned from database: database \"x\" does
/// not exist at line 948" (the position in the server's C source). They say the server's
/// message and code, once.
#[test]
fn connection_errors_show_the_server_message_without_its_source_position() {
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id BIGINT);\n");
    let pg = common::with_database(&migrator_conformance::postgres::server_url(), "cli_no_such_database");
    let my = common::with_database(&migrator_conformance::mysql::server_url(), "cli_no_such_database");
    for (url, message) in [
        (pg.as_str(), "database \"cli_no_such_database\" does not exist [SQLSTATE 3D000]"),
        (my.as_str(), "Unknown database 'cli_no_such_database' [error 1049, SQLSTATE 42000]"),
    ] {
        let run = project.run(Some(url), &["status"]);
        run.code(1);
        assert!(run.stderr.starts_with("error: cannot connect to "), "{}", run.stderr);
        assert!(run.stderr.trim_end().ends_with(message), "{url}: {}", run.stderr);
        assert!(!run.stderr.contains("error returned from database"), "{}", run.stderr);
        assert!(!run.stderr.contains(" at line "), "{}", run.stderr);
        assert_eq!(run.stderr.matches("cli_no_such_database").count(), 2, "in the URL and the message: {}", run.stderr);
    }
}

/// A history row tampered with terminal escape sequences (in its name, error, applied_by and
/// note) reached the terminal as is from `status` and from the errors of `up` and `validate`:
/// control characters are shown escaped (`\x1b`), and JSON keeps them as JSON escapes.
async fn control_characters_from_the_database_are_escaped<B: CliBackend>(chr: &str) {
    let db = B::create("cli_escapes").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project.write("1_create_log.up.sql", "CREATE TABLE log (note VARCHAR(100));\n").write(
        "2_stepwise.up.sql",
        "-- migrator:no-transaction\nINSERT INTO log (note) VALUES ('a');\nINSERT INTO missing_table VALUES (1);\n",
    );
    project.run(url, &["up"]).code(1);
    let esc = |text: &str| {
        text.replace('\u{1b}', &format!("' || {chr}(27) || '"))
            .replace('\u{7}', &format!("' || {chr}(7) || '"))
            .replace('\u{9b}', &format!("' || {chr}(155) || '"))
    };
    db.exec(&format!(
        "UPDATE _migrator_history SET name = '{}', error = '{}', applied_by = '{}' WHERE version = 2",
        esc("evil\u{1b}[31mname"),
        esc("boom\u{1b}]0;pwned\u{7}"),
        esc("by\u{1b}[2J")
    ))
    .await;
    db.exec(&format!("UPDATE _migrator_history SET note = '{}' WHERE version = 1", esc("note\u{1b}[5m\u{9b}2J"))).await;
    let runs = [
        ("status", project.run(url, &["status"])),
        ("up", project.run(url, &["up"])),
        ("validate", project.run(url, &["validate"])),
    ];
    for (what, run) in &runs {
        let output = format!("{}{}", run.stdout, run.stderr);
        let raw = ['\u{1b}', '\u{7}', '\u{9b}'];
        assert!(!output.contains(raw), "{what}: raw control characters in {run:?}");
        assert!(!output.contains("panicked"), "{what}: {run:?}");
    }
    let (status, up, validate) = (&runs[0].1, &runs[1].1, &runs[2].1);
    status.code(0);
    for shown in ["by\\x1b[2J", "note\\x1b[5m\\u{9b}2J"] {
        assert!(status.stdout.contains(shown), "status shows {shown}: {}", status.stdout);
    }
    assert!(status.stdout.contains("boom\\x1b]0;pwned\\x07"), "status shows the error: {}", status.stdout);
    assert!(status.stdout.contains("evil\\x1b[31mname"), "status shows the recorded name: {}", status.stdout);
    up.code(1);
    assert!(up.stderr.contains("boom\\x1b]0;pwned\\x07"), "{}", up.stderr);
    validate.code(1);
    assert!(validate.stderr.contains("boom\\x1b]0;pwned\\x07"), "{}", validate.stderr);
    // JSON: serde's escapes, which parse back to the stored text.
    let json = project.run(url, &["status", "--format", "json"]);
    json.code(0);
    assert!(!json.stdout.contains(['\u{1b}', '\u{9b}']), "{}", json.stdout);
    let parsed = json.json();
    assert_eq!(parsed["migrations"][1]["applied_by"], "by\u{1b}[2J");
    assert_eq!(parsed["migrations"][1]["failed_statement"]["error"], "boom\u{1b}]0;pwned\u{7}");
    assert_eq!(parsed["migrations"][0]["note"], "note\u{1b}[5m\u{9b}2J");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_control_characters_from_the_database_are_escaped() {
    control_characters_from_the_database_are_escaped::<Lite>("char").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_control_characters_from_the_database_are_escaped() {
    control_characters_from_the_database_are_escaped::<Pg>("chr").await;
}

/// Escape sequences in a migration file reached the terminal through `plan` (the SQL), `lint`
/// (the quoted line) and a failed statement's snippet in `up`'s error.
#[test]
fn control_characters_from_files_are_escaped() {
    let project = Project::new();
    project
        .write("1_create.up.sql", "CREATE TABLE t (c INTEGER);\r\nCREATE TABLE u (c INTEGER);\r\n")
        .write("2_index.up.sql", "CREATE INDEX i ON t (c); -- \u{1b}]0;title\u{7}\r\n")
        .write("3_fails.up.sql", "SELECT '\u{1b}[2J' FROM missing_table;\n");
    let url = format!("sqlite://{}", project.path().join("app.db").display());
    let plan = project.run(Some(&url), &["plan"]);
    plan.code(0);
    assert!(plan.stdout.contains("CREATE INDEX i ON t (c); -- \\x1b]0;title\\x07\n"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("CREATE TABLE t (c INTEGER);\nCREATE TABLE u"),
        "CRLF shown as lines: {}",
        plan.stdout
    );
    let up = project.run(Some(&url), &["up"]);
    up.code(1);
    assert!(up.stderr.contains("SELECT '\\x1b[2J' FROM missing_table"), "{}", up.stderr);
    for format in ["human", "github", "json"] {
        let lint = project.run(None, &["lint", "--dialect", "postgres", "--format", format]);
        lint.code(1);
        assert!(lint.stdout.contains("index-not-concurrent"), "{format}: {}", lint.stdout);
        assert!(!lint.stdout.contains(['\u{1b}', '\u{7}', '\r']), "{format}: {:?}", lint.stdout);
    }
    for run in [&plan, &up] {
        assert!(!format!("{}{}", run.stdout, run.stderr).contains(['\u{1b}', '\u{7}', '\r']), "{run:?}");
    }
}

/// `plan --format json`: what `up` would apply (with how each migration runs), what it leaves
/// and why, and the warnings; the human form stays the default.
async fn plan_as_json<B: CliBackend>(ddl_mode: &str) {
    let db = B::create("cli_plan_json").await;
    let url = db.url();
    let url = Some(url.as_str());
    let project = Project::new();
    project
        .write("1_create_t.up.sql", "CREATE TABLE t (id INTEGER);\n")
        .write("3_fill.up.sql", "INSERT INTO t (id) VALUES (3);\n");
    assert_eq!(project.run(url, &["up"]).code(0).applied(), [1, 3]);
    project
        .write("2_late.up.sql", "CREATE TABLE late (id INTEGER);\nINSERT INTO late (id) VALUES (2);\n")
        .write(
            "4_stepwise.up.sql",
            "-- migrator:no-transaction\nINSERT INTO t (id) VALUES (4);\nINSERT INTO t (id) VALUES (5);\n",
        )
        .write("5_drop.up.sql", "-- migrator:phase contract\nDELETE FROM t WHERE id = 5;\n")
        .write("6_later.up.sql", "INSERT INTO t (id) VALUES (6);\n");
    let human = project.run(url, &["plan", "--allow-out-of-order", "--to", "5"]);
    human.code(0);
    assert!(human.stdout.starts_with("-- 2 late (expand, "), "human stays the default: {}", human.stdout);
    let run = project.run(url, &["plan", "--allow-out-of-order", "--to", "5", "--format", "json"]);
    run.code(0);
    let json = run.json();
    let expected = serde_json::json!({
        "plan": [
            {"version": 2, "name": "late", "phase": "expand", "mode": ddl_mode, "statements": 2, "out_of_order": true},
            {"version": 4, "name": "stepwise", "phase": "expand", "mode": "stepwise", "statements": 2, "out_of_order": false},
        ],
        "skipped": [
            {"version": 5, "name": "drop", "reason": "phase-not-selected"},
            {"version": 6, "name": "later", "reason": "after-target"},
        ],
    });
    assert_eq!(json["plan"], expected["plan"], "{json:#}");
    assert_eq!(json["skipped"], expected["skipped"], "{json:#}");
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{json:#}");
    assert!(warnings[0].as_str().unwrap().contains("migration 2 `late` is applied out of order"), "{json:#}");
    assert!(run.stderr.is_empty(), "JSON alone, warnings inside it: {}", run.stderr);
    // Nothing to apply: empty lists, still JSON.
    let done = project.run(url, &["plan", "--format", "json", "--to", "1"]);
    done.code(0);
    assert_eq!(done.json()["plan"], serde_json::json!([]));
    assert!(!db.table_exists("late").await, "plan ran nothing");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_plan_as_json() {
    plan_as_json::<Lite>("transaction").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_plan_as_json() {
    plan_as_json::<Pg>("transaction").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_plan_as_json() {
    // MySQL commits DDL implicitly: a script with DDL runs statement by statement.
    plan_as_json::<My>("stepwise").await;
}

/// Odd values and combinations: each a usage error (exit code 2) naming the option and what
/// to do, never a panic, never an option silently ignored. Regressions: `--lock-wait
/// 99999999999999s` made MariaDB give up the lock wait after 1 ms (its GET_LOCK treats a huge
/// timeout as none) and a huge `--lease-ttl` failed in PostgreSQL's interval arithmetic;
/// `--lease-ttl` without the lease strategy, `lint DIR --source OTHER`, and `validate --table`
/// without a database were ignored; `down --steps 0` reverted nothing successfully; `new`
/// with a name too long for a file failed with the OS's error (exit 1).
#[test]
fn odd_arguments_are_refused_clearly() {
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
    let db = project.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    let long_name = "n".repeat(300);
    let cases: &[(&[&str], &str)] = &[
        (&["up", "--lock-wait", "99999999999999s"], "--lock-wait"),
        (&["up", "--lock-wait", "9000h"], "--lock-wait"),
        (&["up", "--lock-wait", "-5s"], "--lock-wait"),
        (&["up", "--lock-strategy", "lease", "--lease-ttl", "99999999999999s"], "--lease-ttl"),
        (&["up", "--lock-strategy", "lease", "--lease-ttl", "25h"], "--lease-ttl"),
        (&["up", "--lease-ttl", "5s"], "--lease-ttl applies only with --lock-strategy lease"),
        (&["down", "--lease-ttl", "5s"], "--lease-ttl applies only with --lock-strategy lease"),
        (&["down", "--steps", "0"], "--steps"),
        (&["down", "--steps", "-1"], "--steps"),
        (&["up", "--to", "99999999999999999999"], "too large"),
        (&["lint", "migrations", "--source", "elsewhere", "--dialect", "sqlite"], "cannot be used with"),
        (&["new", &long_name], "too long"),
        (&["new", "x", "--source", ""], "a value is required for '--source <DIR>'"),
        (&["up", "--source", ""], "a value is required for '--source <DIR>'"),
    ];
    for (args, expected) in cases {
        let run = project.run(Some(&url), args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: expected `{expected}` in {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    // validate without a database checks files only: database options are refused there.
    for args in [
        &["validate", "--dialect", "sqlite", "--table", "history"][..],
        &["validate", "--dialect", "sqlite", "--ignore-unknown"],
        &["validate", "--dialect", "sqlite", "--schema", "s"],
    ] {
        let run = project.run(None, args);
        run.code(2);
        assert!(run.stderr.contains("needs a database URL"), "{args:?}: {}", run.stderr);
    }
    // An empty MIGRATOR_SOURCE was reported as an empty `--source`, which nobody wrote.
    for args in [&["new", "x"][..], &["status"], &["lint", "--dialect", "sqlite"]] {
        let run = project.run_with_env(Some(&url), args, &[("MIGRATOR_SOURCE", "")]);
        run.code(2);
        assert!(run.stderr.contains("MIGRATOR_SOURCE is set but empty"), "{args:?}: {}", run.stderr);
    }
    // MIGRATOR_SOURCE is a default, which a directory argument overrides.
    let lint =
        project.run_with_env(None, &["lint", "migrations", "--dialect", "sqlite"], &[("MIGRATOR_SOURCE", "nowhere")]);
    lint.code(0);
    assert!(!db.exists(), "nothing was created");
}

/// Arguments and environment that are not UTF-8: usage errors naming the argument (clap said
/// "invalid UTF-8 was detected in one or more arguments"), no panic.
#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_usage_errors() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
    let bad = OsStr::from_bytes(b"pw\xff5ecret");
    let url = OsStr::from_bytes(b"postgres://u:pw\xff5ecret@127.0.0.1:1/db");
    let runs = [
        (project.command(None, &["new"]).arg(bad).output().unwrap(), "argument 2 is not UTF-8"),
        (project.command(None, &["status", "--database-url"]).arg(url).output().unwrap(), "--database-url"),
        (project.command(None, &["status"]).env("DATABASE_URL", url).output().unwrap(), "DATABASE_URL"),
        (project.command(None, &["up", "--to"]).arg(bad).output().unwrap(), "the value of --to is not UTF-8"),
    ];
    for (output, named) in runs {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with("error: ") && !stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains(named), "names {named}: {stderr}");
        assert!(!stderr.contains("5ecret"), "{stderr}");
    }
    // A directory that is not UTF-8 is a path like another.
    let dir = OsStr::from_bytes(b"m\xff");
    let output = project.command(None, &["new", "x", "--source"]).arg(dir).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}

/// sqlx ignores a URL parameter it does not know (PostgreSQL logs it only under `RUST_LOG`,
/// MySQL not at all): `?ssl_mode=REQUIRED` connected without TLS, silently. A TLS-looking
/// parameter sqlx does not know is a usage error; any other unknown one gets a warning naming
/// it (never its value).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_url_parameters_are_not_ignored_silently() {
    let project = Project::new();
    project.write("1_a.up.sql", "CREATE TABLE a (id BIGINT);\n");
    let pg = common::with_database(&migrator_conformance::postgres::server_url(), "postgres");
    let my = common::with_database(&migrator_conformance::mysql::server_url(), "mysql");
    for (base, known) in [(&pg, "sslmode=disable"), (&my, "ssl-mode=DISABLED")] {
        let join = |query: &str| if base.contains('?') { format!("{base}&{query}") } else { format!("{base}?{query}") };
        for tls in ["ssl_mode=REQUIRED", "tls=true", "sslMode=require", "ssl=1"] {
            let run = project.run(Some(&join(tls)), &["status"]);
            run.code(2);
            let key = tls.split('=').next().unwrap();
            assert!(run.stderr.contains(&format!("`{key}`")), "{tls}: {}", run.stderr);
            assert!(run.stderr.contains("TLS"), "{tls}: {}", run.stderr);
        }
        let run = project.run(Some(&join("connect_timeout=5&secret_thing=v4lue")), &["status"]);
        run.code(0);
        assert!(
            run.stderr.contains("warning: the database URL parameter `connect_timeout` is ignored"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("`secret_thing`") && !run.stderr.contains("v4lue"), "{}", run.stderr);
        // Known parameters pass quietly.
        let run = project.run(Some(&join(known)), &["status"]);
        run.code(0);
        assert!(run.stderr.is_empty(), "{}", run.stderr);
    }
}

/// Regression: `migrator lint missing_dir` reported `missing_dir:1:1` with allow advice. A
/// finding with no place in a file has no position in any format.
#[test]
fn a_missing_directory_is_no_finding_at_a_position() {
    let project = Project::new();
    let human = project.run(None, &["lint", "missing_dir", "--dialect", "postgres"]);
    assert_eq!(human.code, 1, "{human:?}");
    assert!(!human.stdout.contains("missing_dir:1:1") && !human.stdout.contains("migrator:allow"), "{human:?}");
    let json = project.run(None, &["lint", "missing_dir", "--dialect", "postgres", "--format", "json"]);
    let finding = &json.json()["findings"][0];
    assert!(finding["line"].is_null() && finding["column"].is_null(), "{finding}");
    let github = project.run(None, &["lint", "missing_dir", "--dialect", "postgres", "--format", "github"]);
    assert!(github.stdout.starts_with("::error file=missing_dir,title="), "{github:?}");
    let validate = project.run(None, &["validate", "--source", "missing_dir", "--dialect", "postgres"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(validate.stderr.contains("does not exist") && !validate.stderr.contains("missing_dir:1"), "{validate:?}");
}

/// Other tools' layouts through the commands: detected (goose), named (golang-migrate, by
/// option and environment), refused by `new`, and `--layout` on every command that reads the
/// directory.
#[test]
fn other_layouts_through_every_command() {
    let project = Project::new();
    project
        .write(
            "00001_create_users.sql",
            "-- +goose Up\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n\n-- +goose Down\nDROP TABLE users;\n",
        )
        .write(
            "00002_audit_trigger.sql",
            "-- +goose Up\nCREATE TABLE audit (email TEXT);\n-- +goose StatementBegin\nCREATE TRIGGER users_audit AFTER \
             INSERT ON users BEGIN\n    INSERT INTO audit VALUES (NEW.email);\nEND;\n-- +goose StatementEnd\n\n-- +goose \
             Down\nDROP TRIGGER users_audit;\nDROP TABLE audit;\n",
        );
    let validate = project.run(None, &["validate", "--dialect", "sqlite"]);
    validate.code(0);
    assert!(validate.stdout.contains("2 migration(s) in migrations (goose layout)"), "{}", validate.stdout);
    project.run(None, &["lint", "--dialect", "sqlite"]).code(0);
    let url = "sqlite://app.db?mode=rwc";
    assert_eq!(project.run(Some(url), &["up"]).code(0).applied(), [1, 2]);
    let status = project.run(Some(url), &["status", "--format", "json"]).code(0).json();
    assert_eq!(status["migrations"].as_array().unwrap().len(), 2, "{status}");
    project.run(Some(url), &["down", "--all"]).code(0);
    assert_eq!(project.run(Some(url), &["up", "--layout", "goose"]).code(0).applied(), [1, 2]);
    // Named as another layout, the same files are that layout's errors.
    let wrong = project.run(Some(url), &["plan", "--layout", "golang-migrate"]);
    wrong.code(1);
    assert!(wrong.stderr.contains("is not golang-migrate's"), "{}", wrong.stderr);
    // `new` writes migrator's layout, so it refuses another tool's directory.
    let new = project.run(None, &["new", "add email index"]);
    new.code(2);
    assert!(new.stderr.contains("holds goose's layout"), "{}", new.stderr);

    // golang-migrate's names need the layout named, by option or environment.
    let project = Project::new();
    project
        .write("000001_create-users.up.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        .write("000001_create-users.down.sql", "DROP TABLE users;\n");
    let detected = project.run(None, &["validate", "--dialect", "sqlite"]);
    detected.code(1);
    assert!(detected.stderr.contains("name its layout with `--layout sqlx`"), "{}", detected.stderr);
    project.run(None, &["validate", "--dialect", "sqlite", "--layout", "golang-migrate"]).code(0);
    project.run_with_env(None, &["lint", "--dialect", "sqlite"], &[("MIGRATOR_LAYOUT", "golang-migrate")]).code(0);
    let url = "sqlite://app.db?mode=rwc";
    assert_eq!(project.run(Some(url), &["--layout", "golang-migrate", "up"]).code(0).applied(), [1]);
    project.run(None, &["new", "second", "--layout", "golang-migrate", "--sequential"]).code(0);
    assert!(project.migrations().join("000002_second.up.sql").exists());

    let bad = project.run(None, &["lint", "--dialect", "sqlite", "--layout", "dbmate"]);
    bad.code(2);
    assert!(bad.stderr.contains("golang-migrate"), "{}", bad.stderr);
    for command in
        ["new", "lint", "status", "plan", "validate", "up", "redo", "down", "resume", "force", "repair", "baseline"]
    {
        let help = project.run(None, &[command, "--help"]);
        assert!(help.code(0).stdout.contains("--layout <LAYOUT>"), "{command}: {}", help.stdout);
    }
}
