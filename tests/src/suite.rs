//! The conformance tests, generic over [`Backend`]. Each creates its own area and drops it.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_core::driver::{Driver, Inspect, LockRequest};
use migrator_core::history::HistoryTable;
use migrator_core::{
    BoxError, Direction, Error, FailureOutcome, MigrationSet, MigrationSets, MigrationState, Migrator, MigratorBuilder,
    Phase, Phases, PlanError, RepeatableFailure, RepeatableMigration, Report, RustMigration, RustStep, TenantState,
    Tenants, Version, Warning,
};

use crate::backend::{Backend, Conn};
use crate::dir::Dir;

fn set<B: Backend>(dir: &Dir) -> MigrationSet<Conn<B>> {
    dir.set::<Conn<B>>(B::DIALECT)
}

fn migrator<B: Backend>(db: &B, dir: &Dir) -> Migrator<B::Driver> {
    Migrator::new(db.driver(), set::<B>(dir)).unwrap()
}

fn builder<B: Backend>(db: &B, dir: &Dir) -> MigratorBuilder<B::Driver> {
    Migrator::builder(db.driver(), set::<B>(dir))
}

fn versions(report: &Report) -> Vec<i64> {
    report.steps.iter().map(|s| s.version.get()).collect()
}

fn v(n: i64) -> Version {
    Version::new(n).unwrap()
}

fn state_labels(status: &migrator_core::Status) -> Vec<(i64, &'static str)> {
    status.migrations.iter().map(|m| (m.version.get(), m.state.label())).collect()
}

/// Three reversible migrations: two tables and a seed.
fn three(dir: &Dir) {
    dir.up(1, "create_users", "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200));\n")
        .down(1, "create_users", "DROP TABLE users;\n")
        .up(2, "create_orders", "-- orders of users\nCREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT);\n")
        .down(2, "create_orders", "DROP TABLE orders;\n")
        .up(
            3,
            "seed_users",
            "INSERT INTO users (id, email) VALUES (1, 'a@example.com');\nINSERT INTO users (id, email) VALUES (2, 'b@example.com');\n",
        )
        .down(3, "seed_users", "DELETE FROM users;\n");
}

/// Applies everything; the second run is a no-op that takes no lock, even while another
/// process holds the lock.
pub async fn apply_all<B: Backend>() {
    let db = B::fresh("apply_all").await;
    let dir = Dir::new();
    three(&dir);
    let m = migrator(&db, &dir);
    let report = m.run().await.unwrap();
    assert_eq!(versions(&report), [1, 2, 3]);
    assert!(report.locked);
    assert!(report.steps.iter().all(|s| s.direction == Direction::Up));
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 2);
    assert!(db.table_exists("orders").await);
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "applied"), (2, "applied"), (3, "applied")]);

    let again = m.run().await.unwrap();
    assert!(again.is_noop());
    assert!(!again.locked, "a run with nothing to do takes no lock");

    // Hold what a migrating process holds: the no-op run must not wait for it. That is the
    // migration lock, or, on a backend without one (SQLite), the database's write lock.
    let quick = builder(&db, &dir).lock_wait(Duration::from_millis(100)).build().unwrap();
    if db.driver().capabilities().migration_lock {
        let held =
            db.driver().open(&HistoryTable::default(), LockRequest::session(Duration::from_secs(5))).await.unwrap();
        let started = Instant::now();
        assert!(quick.run().await.unwrap().is_noop());
        assert!(started.elapsed() < Duration::from_secs(5));
        held.release().await.unwrap();
    } else {
        let held = db.hold_write_lock().await.expect("a backend without a migration lock holds its write lock");
        let started = Instant::now();
        assert!(quick.run().await.unwrap().is_noop());
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(held);
    }
    db.cleanup().await;
}

/// `run_to` stops at the target; the rest is reported as skipped.
pub async fn run_to_target<B: Backend>() {
    let db = B::fresh("run_to_target").await;
    let dir = Dir::new();
    three(&dir);
    let m = migrator(&db, &dir);
    let report = m.run_to(2).await.unwrap();
    assert_eq!(versions(&report), [1, 2]);
    assert_eq!(report.skipped.iter().map(|s| s.version.get()).collect::<Vec<_>>(), [3]);
    assert_eq!(versions(&m.run().await.unwrap()), [3]);
    db.cleanup().await;
}

/// Down N reverts in reverse order; up applies them again; down_to keeps the target.
pub async fn down_and_up_again<B: Backend>() {
    let db = B::fresh("down_and_up_again").await;
    let dir = Dir::new();
    three(&dir);
    let m = migrator(&db, &dir);
    m.run().await.unwrap();
    let report = m.down(2).await.unwrap();
    assert_eq!(versions(&report), [3, 2]);
    assert!(report.steps.iter().all(|s| s.direction == Direction::Down));
    assert!(!db.table_exists("orders").await);
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 0);
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "applied"), (2, "pending"), (3, "pending")]);
    assert_eq!(versions(&m.run().await.unwrap()), [2, 3]);
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 2);
    assert_eq!(versions(&m.down_to(1).await.unwrap()), [3, 2]);
    assert_eq!(versions(&m.run().await.unwrap()), [2, 3]);
    assert_eq!(versions(&m.down_all().await.unwrap()), [3, 2, 1]);
    assert!(!db.table_exists("users").await);
    assert!(m.down(1).await.unwrap().is_noop());
    db.cleanup().await;
}

/// Down through an irreversible migration errors before reverting anything.
pub async fn irreversible_down_errors<B: Backend>() {
    let db = B::fresh("irreversible_down").await;
    let dir = Dir::new();
    dir.up(1, "create_users", "CREATE TABLE users (id BIGINT PRIMARY KEY, legacy VARCHAR(10));\n")
        .down(1, "create_users", "DROP TABLE users;\n")
        .up(
            2,
            "drop_legacy",
            "-- migrator:irreversible -- the legacy values are gone\nALTER TABLE users DROP COLUMN legacy;\n",
        )
        .up(3, "create_orders", "CREATE TABLE orders (id BIGINT);\n")
        .down(3, "create_orders", "DROP TABLE orders;\n");
    let m = migrator(&db, &dir);
    m.run().await.unwrap();
    let e = m.down(2).await.unwrap_err();
    assert!(
        matches!(&e, Error::Plan { source: PlanError::Irreversible { version, reason, .. } } if version.get() == 2 && reason == "the legacy values are gone"),
        "{e}"
    );
    assert!(e.to_string().contains("nothing was reverted"), "{e}");
    assert!(db.table_exists("orders").await, "nothing was reverted");
    assert_eq!(versions(&m.down(1).await.unwrap()), [3]);
    db.cleanup().await;
}

/// A `no-transaction` down script runs statement by statement and removes the row.
pub async fn no_transaction_down<B: Backend>() {
    let db = B::fresh("no_transaction_down").await;
    let dir = Dir::new();
    dir.up(1, "create_pair", "CREATE TABLE a (id BIGINT);\nCREATE TABLE b (id BIGINT);\n").down(
        1,
        "create_pair",
        "-- migrator:no-transaction\nDROP TABLE a;\nDROP TABLE b;\n",
    );
    let m = migrator(&db, &dir);
    m.run().await.unwrap();
    let report = m.down(1).await.unwrap();
    assert_eq!(report.steps[0].statements, 2);
    assert!(!db.table_exists("a").await && !db.table_exists("b").await);
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "pending")]);
    db.cleanup().await;
}

/// A statement-by-statement down that fails midway: the error advises what `status` advises
/// (`force V --reverted` after finishing by hand, never `force V`), and following each piece
/// of advice works: `resume` after fixing the script, and finishing by hand then
/// `force V --reverted`.
pub async fn failed_down_advice_works_when_followed<B: Backend>() {
    let db = B::fresh("failed_down_advice").await;
    let dir = Dir::new();
    let up = "-- migrator:no-transaction\nCREATE TABLE a (id BIGINT);\nCREATE TABLE b (id BIGINT);\n";
    let broken_down = "-- migrator:no-transaction\nDROP TABLE b;\nDROP TABLE missing_table;\nDROP TABLE a;\n";
    dir.up(1, "base", "CREATE TABLE base (id BIGINT);\n").down(1, "base", "DROP TABLE base;\n");
    dir.up(2, "pair", up).down(2, "pair", broken_down);
    migrator(&db, &dir).run().await.unwrap();

    // Advice 1: finish by hand, then `force 2 --reverted`.
    let e = migrator(&db, &dir).down(1).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("failed at statement 2 of 3"), "{text}");
    assert!(text.contains("`force 2 --reverted`") && !text.contains("`force 2`"), "{text}");
    assert!(!db.table_exists("b").await && db.table_exists("a").await, "statement 1 took effect");
    let status = migrator(&db, &dir).status().await.unwrap();
    assert_eq!(state_labels(&status), [(1, "applied"), (2, "failed")]);
    db.exec("DROP TABLE a").await;
    migrator(&db, &dir).force_reverted(2).await.unwrap();
    assert_eq!(state_labels(&migrator(&db, &dir).status().await.unwrap()), [(1, "applied"), (2, "pending")]);
    assert_eq!(versions(&migrator(&db, &dir).run().await.unwrap()), [2], "it applies again cleanly");
    assert!(db.table_exists("a").await && db.table_exists("b").await);

    // Advice 2: fix the down script and `resume`.
    migrator(&db, &dir).down(1).await.unwrap_err();
    dir.down(
        2,
        "pair",
        "-- migrator:no-transaction\nDROP TABLE b;\nDROP TABLE IF EXISTS missing_table;\nDROP TABLE a;\n",
    );
    let report = migrator(&db, &dir).resume().await.unwrap();
    assert_eq!(report.steps[0].resumed_at, Some(2));
    assert!(!db.table_exists("a").await && !db.table_exists("b").await);
    assert_eq!(state_labels(&migrator(&db, &dir).status().await.unwrap()), [(1, "applied"), (2, "pending")]);
    db.cleanup().await;
}

/// SQL added to a migration that was applied with no statement never ran: `status`,
/// `validate` and `run` say so (never "repair"), `repair` refuses to record it, and following
/// the advice (`force V --reverted`, then `up`) runs it.
pub async fn sql_added_to_an_applied_empty_migration_is_never_recorded_as_run<B: Backend>() {
    let db = B::fresh("empty_then_sql").await;
    let dir = Dir::new();
    dir.up(1, "placeholder", "-- migrator:no-op -- reserved for the accounts table\n");
    assert_eq!(versions(&migrator(&db, &dir).run().await.unwrap()), [1]);
    dir.up(1, "placeholder", "CREATE TABLE accounts (id BIGINT);\n");
    let m = migrator(&db, &dir);
    let status = m.status().await.unwrap();
    let MigrationState::ChecksumMismatch { problem, .. } = &status.migrations[0].state else {
        panic!("{:?}", status.migrations[0].state)
    };
    let advice = problem.to_string();
    assert!(advice.contains("never ran") && advice.contains("`force 1 --reverted`"), "{advice}");
    assert!(!advice.contains("repair"), "{advice}");
    let e = m.run().await.unwrap_err();
    assert!(matches!(&e, Error::Plan { source: PlanError::EmptyMigrationEdited { .. } }), "{e}");
    let e = m.repair().await.unwrap_err();
    assert!(matches!(&e, Error::Plan { source: PlanError::EmptyMigrationEdited { .. } }), "{e}");
    assert!(!db.table_exists("accounts").await);
    m.force_reverted(1).await.unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [1]);
    assert!(db.table_exists("accounts").await, "the SQL ran");
    assert!(m.validate().await.unwrap().is_ok());
    db.cleanup().await;
}

/// An edited applied migration is refused, naming version and file; CRLF is not an edit;
/// `repair` records a deliberate edit.
pub async fn checksums<B: Backend>() {
    let db = B::fresh("checksums").await;
    let dir = Dir::new();
    three(&dir);
    migrator(&db, &dir).run().await.unwrap();

    // A CRLF checkout of the same files is not a change.
    for file in ["1_create_users.up.sql", "2_create_orders.up.sql", "3_seed_users.up.sql"] {
        let text = dir.read(file).replace('\n', "\r\n");
        dir.write(file, &text);
    }
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());

    // A real edit is refused, by the fast path, before any lock.
    dir.write(
        "2_create_orders.up.sql",
        "-- orders of users, with a note\nCREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT);\n",
    );
    let e = migrator(&db, &dir).run().await.unwrap_err();
    match &e {
        Error::Plan { source: PlanError::ChecksumMismatch { version, origin, .. } } => {
            assert_eq!(version.get(), 2);
            assert!(origin.ends_with("2_create_orders.up.sql"), "{origin}");
        }
        other => panic!("expected a checksum mismatch, got {other}"),
    }
    assert!(e.to_string().contains("run `repair`"), "{e}");
    let validation = migrator(&db, &dir).validate().await.unwrap();
    assert_eq!(validation.problems.len(), 1);

    // repair re-records it, listing what changed.
    let repaired = migrator(&db, &dir).repair().await.unwrap();
    assert_eq!(repaired.len(), 1);
    assert_eq!(repaired[0].version.get(), 2);
    assert_ne!(repaired[0].old, repaired[0].new);
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());
    assert!(migrator(&db, &dir).repair().await.unwrap().is_empty());
    db.cleanup().await;
}

/// A failing transactional migration leaves no trace and names its statement and line.
pub async fn failed_transactional_leaves_no_trace<B: Backend>() {
    let db = B::fresh("failed_transactional").await;
    let dir = Dir::new();
    let transactional_ddl = db.driver().capabilities().transactional_ddl;
    dir.up(1, "create_users", "CREATE TABLE users (id BIGINT PRIMARY KEY);\n");
    let first =
        if transactional_ddl { "CREATE TABLE audit (id BIGINT);\n" } else { "INSERT INTO users (id) VALUES (1);\n" };
    dir.up(
        2,
        "broken",
        &format!(
            "-- a comment line\n{first}\nINSERT INTO users (id) VALUES (2);\nINSERT INTO missing_table VALUES (1);\n"
        ),
    );
    let m = migrator(&db, &dir);
    let e = m.run().await.unwrap_err();
    let Error::MigrationFailed { failure } = &e else { panic!("expected a migration failure, got {e}") };
    assert_eq!(failure.version.get(), 2);
    assert_eq!(failure.statement, Some(3), "{e}");
    assert_eq!(failure.line, Some(5), "{e}");
    assert_eq!(failure.total, 3);
    assert_eq!(failure.outcome, FailureOutcome::RolledBack);
    assert!(failure.snippet.contains("missing_table"), "{e}");
    assert!(e.to_string().contains("failed at statement 3 of 3 (line 5)"), "{e}");
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 0, "no trace");
    if transactional_ddl {
        assert!(!db.table_exists("audit").await, "no trace");
    }
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "applied"), (2, "pending")]);
    // Fixed, it applies.
    dir.write("2_broken.up.sql", &format!("{first}INSERT INTO users (id) VALUES (2);\n"));
    assert_eq!(versions(&migrator(&db, &dir).run().await.unwrap()), [2]);
    db.cleanup().await;
}

fn stepwise_dir(dir: &Dir, second: &str) {
    dir.up(1, "create_log", "CREATE TABLE log (note VARCHAR(100));\n").up(
        2,
        "stepwise",
        &format!(
            "-- migrator:no-transaction\nINSERT INTO log (note) VALUES ('first');\n{second}\nINSERT INTO log (note) VALUES ('third');\n"
        ),
    );
}

/// A failed no-transaction migration records the statement; the next run refuses naming it;
/// `resume` after the fix runs from that statement, not from the start.
pub async fn failed_no_transaction_then_resume<B: Backend>() {
    let db = B::fresh("failed_no_tx_resume").await;
    let dir = Dir::new();
    stepwise_dir(&dir, "INSERT INTO missing_table (note) VALUES ('second');");
    let e = migrator(&db, &dir).run().await.unwrap_err();
    let Error::MigrationFailed { failure } = &e else { panic!("expected a migration failure, got {e}") };
    assert_eq!((failure.statement, failure.line, failure.outcome), (Some(2), Some(3), FailureOutcome::Recorded), "{e}");
    assert!(e.to_string().contains("run `resume`"), "{e}");
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1, "statement 1 took effect");

    let e = migrator(&db, &dir).run().await.unwrap_err();
    assert!(
        matches!(&e, Error::Plan { source: PlanError::Failed { version, statement: Some(2), line: Some(3), .. } } if version.get() == 2),
        "{e}"
    );
    assert!(e.to_string().contains("migration 2 `stepwise` failed at statement 2 of 3 (line 3)"), "{e}");
    let status = migrator(&db, &dir).status().await.unwrap();
    assert_eq!(state_labels(&status), [(1, "applied"), (2, "failed")]);

    // Resume without fixing: fails again at the same statement.
    assert!(matches!(migrator(&db, &dir).resume().await, Err(Error::MigrationFailed { .. })));
    // Fix statement 2 and resume.
    stepwise_dir(&dir, "INSERT INTO log (note) VALUES ('second');");
    let report = migrator(&db, &dir).resume().await.unwrap();
    assert_eq!(report.steps[0].resumed_at, Some(2));
    assert_eq!(report.steps[0].statements, 2);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 3, "statement 1 ran once");
    assert_eq!(state_labels(&migrator(&db, &dir).status().await.unwrap()), [(1, "applied"), (2, "applied")]);
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());
    assert!(matches!(migrator(&db, &dir).resume().await, Err(Error::Plan { source: PlanError::NothingToResume })));
    db.cleanup().await;
}

/// `resume --skip` counts the failed statement as done; an edited earlier statement blocks
/// `resume`.
pub async fn resume_skip_and_changed_statements<B: Backend>() {
    let db = B::fresh("resume_skip").await;
    let dir = Dir::new();
    stepwise_dir(&dir, "INSERT INTO missing_table (note) VALUES ('second');");
    migrator(&db, &dir).run().await.unwrap_err();

    // Editing statement 1, which already ran, is refused.
    dir.write(
        "2_stepwise.up.sql",
        "-- migrator:no-transaction\nINSERT INTO log (note) VALUES ('FIRST');\nINSERT INTO missing_table (note) VALUES ('second');\nINSERT INTO log (note) VALUES ('third');\n",
    );
    let e = migrator(&db, &dir).resume().await.unwrap_err();
    assert!(matches!(&e, Error::Plan { source: PlanError::StatementChanged { statement: 1, line: 2, .. } }), "{e}");
    stepwise_dir(&dir, "INSERT INTO missing_table (note) VALUES ('second');");
    let report = migrator(&db, &dir).resume_skip().await.unwrap();
    assert_eq!(report.steps[0].resumed_at, Some(3));
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 2);
    assert!(migrator(&db, &dir).run().await.unwrap().is_noop());
    db.cleanup().await;
}

/// A migration interrupted mid-statement (its future dropped) is reported as interrupted,
/// with the statement, and the lock is free again.
///
/// PostgreSQL cancels the orphaned statement when its client is gone; MySQL finishes the
/// statement (and its progress update) first. Either way the next run names the statement
/// that did not complete.
pub async fn interrupted_is_reported<B: Backend>() {
    let db = B::fresh("interrupted").await;
    let dir = Dir::new();
    stepwise_dir(&dir, &format!("{};", B::sleep_sql(Duration::from_secs(8))));
    let m = migrator(&db, &dir);
    let cut = tokio::time::timeout(Duration::from_millis(1500), m.run()).await;
    assert!(cut.is_err(), "the run was still in statement 2");
    let waiting = builder(&db, &dir).lock_wait(Duration::from_secs(60)).build().unwrap();
    let started = Instant::now();
    let e = waiting.run().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(25), "the dropped run's lock was released quickly");
    match &e {
        Error::Plan { source: PlanError::Interrupted { statement, line, direction: Direction::Up, .. } } => {
            assert!(*statement >= 2, "{e}");
            assert_eq!(*line, Some(statement + 1), "statement k of this file is on line k + 1: {e}");
        }
        other => panic!("expected an interrupted migration, got {other}"),
    }
    assert!(e.to_string().contains("may or may not have taken effect"), "{e}");
    db.cleanup().await;
}

/// Eight runners at once: every migration applied exactly once, no errors.
pub async fn concurrent_runners_apply_once<B: Backend>() {
    let db = B::fresh("concurrent_runners").await;
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (note VARCHAR(100));\n")
        .up(
            2,
            "slow_insert",
            &format!("INSERT INTO log (note) VALUES ('once');\n{};\n", B::sleep_sql(Duration::from_millis(300))),
        )
        .up(3, "insert_again", "INSERT INTO log (note) VALUES ('once more');\n");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let m = migrator(&db, &dir);
        tasks.push(tokio::spawn(async move { m.run().await }));
    }
    let mut applied = Vec::new();
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        applied.extend(versions(&report));
    }
    applied.sort_unstable();
    assert_eq!(applied, [1, 2, 3], "each migration applied by exactly one runner");
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 2);
    db.cleanup().await;
}

/// Grouped apply: a run's transactional migrations in one transaction. A failure in one of
/// them rolls the whole group back (none applied, the error names the failing migration, the
/// group and what was left); after the fix a run applies them all; a `no-transaction`
/// migration runs alone between two groups; each row records the migration's own time.
pub async fn grouped_apply<B: Backend>() {
    let db = B::fresh("grouped_apply").await;
    let dir = Dir::new();
    dir.up(1, "create_a", "CREATE TABLE a (id BIGINT PRIMARY KEY);\n")
        .up(2, "fill_a", "INSERT INTO a (id) VALUES (1);\n")
        .up(3, "fill_more", "INSERT INTO a (id) VALUES (2);\nINSERT INTO a (id) VALUES (1);\n");
    let grouped = |dir: &Dir| builder(&db, dir).grouped(true).build().unwrap();
    let e = grouped(&dir).run().await.unwrap_err();
    let text = e.to_string();
    match &e {
        Error::GroupFailed { failure, group, at_commit } => {
            assert_eq!(failure.version, v(3), "{text}");
            assert_eq!((failure.statement, failure.outcome), (Some(2), FailureOutcome::RolledBack), "{text}");
            assert_eq!(group, &[v(1), v(2), v(3)], "{text}");
            assert!(!at_commit, "{text}");
        }
        other => panic!("expected GroupFailed, got {other:?}"),
    }
    assert!(text.contains("migrations 1, 2, 3 ran in this one transaction"), "{text}");
    assert!(text.contains("none of them is applied"), "{text}");
    // True of the database: nothing of the group is there, no history row says otherwise.
    assert!(!db.table_exists("a").await, "the group's first migration was rolled back too");
    let status = migrator(&db, &dir).status().await.unwrap();
    assert_eq!(state_labels(&status), [(1, "pending"), (2, "pending"), (3, "pending")]);

    // Following the advice: fix the script and run again.
    dir.up(3, "fill_more", "INSERT INTO a (id) VALUES (2);\nINSERT INTO a (id) VALUES (3);\n")
        .up(4, "alone", "-- migrator:no-transaction\nINSERT INTO a (id) VALUES (4);\n")
        .up(5, "after", &format!("{};\nINSERT INTO a (id) VALUES (5);\n", B::sleep_sql(Duration::from_millis(300))))
        .up(6, "last", "INSERT INTO a (id) VALUES (6);\n");
    let report = grouped(&dir).run().await.unwrap();
    assert_eq!(versions(&report), [1, 2, 3, 4, 5, 6]);
    assert_eq!(db.scalar("SELECT count(*) FROM a").await, 6);
    let status = migrator(&db, &dir).status().await.unwrap();
    assert!(status.migrations.iter().all(|m| m.state.label() == "applied"), "{:?}", state_labels(&status));
    // Each migration's own time, not the group's: 5 slept, 6 did not.
    let took = |version: i64| report.steps.iter().find(|s| s.version == v(version)).unwrap().duration;
    assert!(took(5) >= Duration::from_millis(250), "{:?}", took(5));
    assert!(took(6) < Duration::from_millis(250), "{:?}", took(6));
    db.cleanup().await;
}

/// One set rolled out to many tenants (an area each): a canary first, a bound on parallel
/// runs, one broken tenant reported with its migration and statement; without keep-going the
/// rollout stops launching tenants at the failure, with it every other tenant ends current;
/// after the fix a re-run finishes the broken one and finds the others current.
pub async fn tenants_roll_out<B: Backend>() {
    const TENANTS: usize = 12;
    const BROKEN: usize = 7;
    let mut areas = Vec::new();
    for i in 0..TENANTS {
        areas.push(B::fresh(&format!("tenant_{i}")).await);
    }
    let dir = Dir::new();
    dir.up(1, "create_accounts", "CREATE TABLE accounts (id BIGINT PRIMARY KEY);\n")
        .up(2, "create_conflict", "CREATE TABLE conflict (id BIGINT PRIMARY KEY);\n")
        .up(3, "seed", "INSERT INTO accounts (id) VALUES (1);\n");
    // The broken tenant already has the table migration 2 creates.
    areas[BROKEN].exec("CREATE TABLE conflict (id BIGINT PRIMARY KEY)").await;
    let names: Vec<String> = (0..TENANTS).map(|i| format!("t{i}")).collect();
    let drivers: Vec<B::Driver> = areas.iter().map(|a| a.driver()).collect();
    let tenants = |keep_going: bool, canary: usize, parallel: usize, order: &[String]| {
        let set = set::<B>(&dir);
        let drivers = drivers.clone();
        Tenants::new(order.to_vec(), move |name: String| {
            let index: usize = name.trim_start_matches('t').parse().unwrap();
            let (driver, set) = (drivers[index].clone(), set.clone());
            async move { Migrator::<B::Driver>::new(driver, set) }
        })
        .parallel(parallel)
        .canary(canary)
        .keep_going(keep_going)
    };
    let state = |report: &migrator_core::TenantsReport, i: usize| report.tenants[i].state;

    // The broken tenant as the canary: nothing else starts.
    let mut broken_first = names.clone();
    broken_first.swap(0, BROKEN);
    let report = tenants(false, 1, 3, &broken_first).run().await;
    assert_eq!(state(&report, 0), TenantState::Failed, "{report}");
    // Its run applied migration 1 before migration 2 failed: the report says so.
    assert_eq!(report.tenants[0].applied(), [v(1)], "{report}");
    assert!(report.tenants[1..].iter().all(|t| t.state == TenantState::Pending), "{report}");
    assert!(!report.is_success());

    // Stop at the first failure: the tenants after it never start (one at a time, so which
    // ones is certain; with more at once, those already running when it fails finish).
    let report = tenants(false, 1, 1, &names).run().await;
    assert_eq!(state(&report, 0), TenantState::Applied, "the canary");
    assert_eq!(state(&report, BROKEN), TenantState::Failed, "{report}");
    // Where DDL commits on its own (MySQL) the canary run recorded the failure, and this run
    // reports the recorded failure; elsewhere it failed again and rolled back.
    match report.tenants[BROKEN].error.as_ref().unwrap() {
        Error::MigrationFailed { failure } => {
            assert_eq!((failure.version, failure.statement), (v(2), Some(1)), "{failure}");
        }
        Error::Plan { source: PlanError::Failed { version, .. } } => assert_eq!(*version, v(2)),
        other => panic!("{other:?}"),
    }
    assert_eq!(report.in_state(TenantState::Applied).count(), BROKEN, "{report}");
    assert_eq!(report.in_state(TenantState::Pending).count(), TENANTS - BROKEN - 1, "{report}");
    assert!(report.to_string().contains("tenant t7 failed: migration 2 `create_conflict`"), "{report}");

    // Keep going: every other tenant ends current; the broken one is reported again.
    let report = tenants(true, 1, 3, &names).run().await;
    assert_eq!(report.in_state(TenantState::Failed).map(|t| t.name.as_str()).collect::<Vec<_>>(), ["t7"], "{report}");
    assert_eq!(report.in_state(TenantState::Pending).count(), 0, "{report}");
    for (i, area) in areas.iter().enumerate().filter(|(i, _)| *i != BROKEN) {
        assert_eq!(area.scalar("SELECT count(*) FROM accounts").await, 1, "tenant {i}");
    }

    // Fixed, a re-run finishes it (after `resume`, as its error advises, where the failure
    // was recorded); the others are current.
    areas[BROKEN].exec("DROP TABLE conflict").await;
    if B::DIALECT == migrator_core::Dialect::MySql {
        let resumed = migrator(&areas[BROKEN], &dir).resume().await.unwrap();
        assert_eq!(versions(&resumed), [2]);
    }
    let report = tenants(false, 1, 3, &names).run().await;
    assert!(report.is_success(), "{report}");
    assert_eq!(state(&report, BROKEN), TenantState::Applied);
    let rest = if B::DIALECT == migrator_core::Dialect::MySql { vec![v(3)] } else { vec![v(2), v(3)] };
    assert_eq!(report.tenants[BROKEN].applied(), rest);
    assert_eq!(report.in_state(TenantState::Current).count(), TENANTS - 1, "{report}");
    for area in areas {
        area.cleanup().await;
    }
}

/// Two migration sets in one database (a library's and the application's), each with its
/// own history table and lock: concurrent runners apply each migration once; the sets'
/// versions never collide; `status` shows them side by side; one set's failure names it and
/// leaves the other's state clear (up to date before it, untouched after it).
pub async fn two_sets_in_one_database<B: Backend>() {
    let db = B::fresh("two_sets").await;
    let jobs = Dir::new();
    jobs.up(1, "create_jobs", "CREATE TABLE jobs (id BIGINT PRIMARY KEY, note VARCHAR(100));\n").up(
        2,
        "log_jobs",
        &format!(
            "INSERT INTO jobs (id, note) VALUES (1, 'seeded once');\n{};\n",
            B::sleep_sql(Duration::from_millis(200))
        ),
    );
    let app = Dir::new();
    app.up(1, "create_log", "CREATE TABLE log (note VARCHAR(100));\n").up(
        2,
        "log_once",
        "INSERT INTO log (note) VALUES ('once');\n",
    );
    let sets = |db: &B| {
        MigrationSets::new()
            .then("jobs", builder(db, &jobs).table("_migrator_history_jobs").build().unwrap())
            .unwrap()
            .then("app", migrator(db, &app))
            .unwrap()
    };
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let runner = sets(&db);
        tasks.push(tokio::spawn(async move { runner.run().await }));
    }
    let mut applied: Vec<(String, i64)> = Vec::new();
    for task in tasks {
        for (set, report) in task.await.unwrap().unwrap() {
            applied.extend(versions(&report).into_iter().map(|v| (set.clone(), v)));
        }
    }
    applied.sort();
    let expect: Vec<(String, i64)> =
        [("app", 1), ("app", 2), ("jobs", 1), ("jobs", 2)].iter().map(|(s, v)| (s.to_string(), *v)).collect();
    assert_eq!(applied, expect, "each migration of each set applied by exactly one runner");
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1);
    assert_eq!(db.scalar("SELECT count(*) FROM jobs").await, 1);
    let status = sets(&db).status().await.unwrap();
    let labels: Vec<(&str, Vec<(i64, &str)>)> = status.iter().map(|(n, s)| (n.as_str(), state_labels(s))).collect();
    assert_eq!(labels, [("jobs", vec![(1, "applied"), (2, "applied")]), ("app", vec![(1, "applied"), (2, "applied")])]);

    // A failing set: the ones before it are up to date, the ones after it did not run.
    jobs.up(3, "broken", "INSERT INTO missing_table (id) VALUES (1);\n");
    app.up(3, "after", "INSERT INTO log (note) VALUES ('after');\n");
    let e = sets(&db).run().await.unwrap_err();
    let Error::SetFailed { set, done, not_run, error } = &e else { panic!("{e}") };
    assert_eq!((set.as_str(), done.len(), not_run.as_slice()), ("jobs", 0, &["app".to_owned()][..]), "{e}");
    assert!(matches!(**error, Error::MigrationFailed { .. }), "{e}");
    assert!(e.to_string().starts_with("migration set `jobs`: migration 3 `broken`"), "{e}");
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1, "the app set did not run");
    let refused =
        MigrationSets::new().then("a", migrator(&db, &app)).unwrap().then("b", migrator(&db, &jobs)).unwrap_err();
    assert!(refused.to_string().contains("would share it"), "{refused}");
    db.cleanup().await;
}

/// A repeatable migration from its name and text, as the `R__name.sql` layouts load one.
fn repeatable<B: Backend>(name: &'static str, text: &str) -> RepeatableMigration {
    RepeatableMigration::from_sql(name, format!("R__{name}.sql"), text.to_owned(), B::DIALECT).unwrap()
}

fn repeatable_labels(status: &migrator_core::Status) -> Vec<(&str, &'static str)> {
    status.repeatables.iter().map(|r| (r.name.as_str(), r.state.label())).collect()
}

/// Repeatable migrations run after the versioned ones, in name order, once per checksum: an
/// unchanged repeatable is never run again (and the run takes no lock), an edited one runs
/// again; one that fails names itself and runs again, whole, on the next run; one the binary
/// no longer has is left alone and shown as `unknown`.
pub async fn repeatable_migrations<B: Backend>() {
    let db = B::fresh("repeatables").await;
    let dir = Dir::new();
    dir.up(
        1,
        "create_users",
        "CREATE TABLE users (id BIGINT PRIMARY KEY, active INT);\nCREATE TABLE rep_log (note VARCHAR(50));\n",
    );
    let view = |filter: &str| {
        format!("DROP VIEW IF EXISTS active_users;\nCREATE VIEW active_users AS SELECT id FROM users{filter};\n")
    };
    let with = |log: &str, view_text: Option<&str>| {
        let mut set = set::<B>(&dir).with_repeatable(repeatable::<B>("a_log", log)).unwrap();
        if let Some(text) = view_text {
            set = set.with_repeatable(repeatable::<B>("views", text)).unwrap();
        }
        Migrator::<B::Driver>::new(db.driver(), set).unwrap()
    };
    let log = "INSERT INTO rep_log (note) VALUES ('ran');\n";
    let plain = view("");
    let m = with(log, Some(&plain));
    assert_eq!(repeatable_labels(&m.status().await.unwrap()), [("a_log", "pending"), ("views", "pending")]);
    let report = m.run().await.unwrap();
    assert_eq!(versions(&report), [1], "the versioned migration first: the repeatables need its tables");
    let names: Vec<&str> = report.repeatables.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a_log", "views"], "in name order");
    assert_eq!(report.repeatables[1].statements, 2);
    db.exec("INSERT INTO users (id, active) VALUES (1, 1), (2, 0)").await;
    assert_eq!(db.scalar("SELECT count(*) FROM active_users").await, 2);
    assert_eq!(repeatable_labels(&m.status().await.unwrap()), [("a_log", "applied"), ("views", "applied")]);

    let again = m.run().await.unwrap();
    assert!(again.is_noop() && again.repeatables.is_empty(), "{again:?}");
    assert!(!again.locked, "unchanged repeatables keep the fast path");
    assert_eq!(db.scalar("SELECT count(*) FROM rep_log").await, 1, "an unchanged repeatable does not run again");

    // Edited: it runs again, alone.
    let filtered = view(" WHERE active = 1");
    let m = with(log, Some(&filtered));
    assert_eq!(repeatable_labels(&m.status().await.unwrap()), [("a_log", "applied"), ("views", "changed")]);
    let report = m.run().await.unwrap();
    assert!(report.steps.is_empty() && report.locked);
    assert_eq!(report.repeatables.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["views"]);
    assert_eq!(db.scalar("SELECT count(*) FROM active_users").await, 1);
    assert_eq!(db.scalar("SELECT count(*) FROM rep_log").await, 1);

    // Failing: it names itself; its row keeps the old checksum, so it stays `changed`.
    let m = with(
        "INSERT INTO rep_log (note) VALUES ('again');\nINSERT INTO missing_table (id) VALUES (1);\n",
        Some(&filtered),
    );
    let e = m.run().await.unwrap_err();
    let Error::RepeatableFailed { failure } = &e else { panic!("{e}") };
    let RepeatableFailure { name, statement, total, line, kept, .. } = &**failure;
    assert_eq!((name.as_str(), *statement, *total, *line), ("a_log", Some(2), 2, Some(2)), "{e}");
    assert!(
        e.to_string().starts_with("repeatable migration `a_log` (R__a_log.sql) failed at statement 2 of 2 (line 2)"),
        "{e}"
    );
    assert!(!*kept, "no DDL: it ran in one transaction on every backend");
    assert!(e.to_string().contains("nothing of it was applied"), "{e}");
    assert_eq!(db.scalar("SELECT count(*) FROM rep_log").await, 1, "rolled back whole");
    assert_eq!(repeatable_labels(&m.status().await.unwrap()), [("a_log", "changed"), ("views", "applied")]);

    // Restoring the text it last ran with: nothing to do, its row holds that checksum.
    let restored = with(log, Some(&filtered));
    assert_eq!(repeatable_labels(&restored.status().await.unwrap()), [("a_log", "applied"), ("views", "applied")]);
    assert!(restored.run().await.unwrap().is_noop());

    // Following the advice: fix the script and run again. Dropped from the binary: left alone.
    let m = with("INSERT INTO rep_log (note) VALUES ('fixed');\n", None);
    let report = m.run().await.unwrap();
    assert_eq!(report.repeatables.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a_log"]);
    assert_eq!(db.scalar("SELECT count(*) FROM rep_log").await, 2);
    assert_eq!(repeatable_labels(&m.status().await.unwrap()), [("a_log", "applied"), ("views", "unknown")]);
    assert!(m.run().await.unwrap().is_noop());
    assert!(m.validate().await.unwrap().is_ok());
    assert_eq!(db.scalar("SELECT count(*) FROM active_users").await, 1, "its view stays");
    db.cleanup().await;
}

/// The `squashes` lines of a squash migration standing for `migrations` (version, name, up
/// text), as `migrator squash` writes them.
fn squash_header(migrations: &[(i64, &str, &str)]) -> String {
    migrations
        .iter()
        .map(|(version, name, text)| {
            format!("-- migrator:squashes {version} {} {name}\n", migrator_core::Checksum::of_script(text).as_str())
        })
        .collect()
}

/// A squash migration stands for the migrations it squashes: a fresh database runs it; a
/// database that applied them one by one reads them as it (checked against its `squashes`
/// lines), applies only what is newer, and ends with the same schema; a database with some
/// of them, or with other SQL, is refused with what to do; a squash is not reverted.
pub async fn squash_migrations<B: Backend>() {
    let originals: [(i64, &str, &str); 3] = [
        (1, "create_users", "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200));\n"),
        (2, "add_name", "ALTER TABLE users ADD COLUMN name VARCHAR(100);\n"),
        (3, "create_orders", "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT);\n"),
    ];
    let full = Dir::new();
    for (version, name, text) in originals {
        full.up(version, name, text);
    }
    let squashed = Dir::new();
    let squash_sql = "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200), name VARCHAR(100));\n\
                      CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT);\n";
    squashed.up(3, "squash", &format!("{}\n{squash_sql}", squash_header(&originals)));
    for dir in [&full, &squashed] {
        dir.up(4, "create_log", "CREATE TABLE log (note VARCHAR(100));\n").down(4, "create_log", "DROP TABLE log;\n");
    }

    // Applied one by one, then the squashed release: only the newer migration runs.
    let old = B::fresh("squash_old").await;
    migrator(&old, &full).run_to(3).await.unwrap();
    let m = migrator(&old, &squashed);
    let status = m.status().await.unwrap();
    assert_eq!(state_labels(&status), [(3, "applied"), (4, "pending")]);
    assert_eq!(status.migrations[0].note.as_deref(), Some("squashes 3 migrations, applied one by one"));
    assert_eq!(versions(&m.run().await.unwrap()), [4]);
    assert!(m.validate().await.unwrap().is_ok());
    let again = m.run().await.unwrap();
    assert!(again.is_noop() && !again.locked, "the startup check stays lock-free");

    // A fresh database runs the squash; both end with the same schema.
    let fresh = B::fresh("squash_fresh").await;
    let m = migrator(&fresh, &squashed);
    assert_eq!(versions(&m.run().await.unwrap()), [3, 4]);
    assert_eq!(state_labels(&m.status().await.unwrap()), [(3, "applied"), (4, "applied")]);
    let (a, b) = (old.driver().snapshot().await.unwrap(), fresh.driver().snapshot().await.unwrap());
    let differences: Vec<String> = a.diff(&b).iter().map(ToString::to_string).collect();
    assert!(differences.is_empty(), "{differences:?}");

    // Not reverted: down stops at the squash, saying why.
    assert_eq!(versions(&m.down(1).await.unwrap()), [4]);
    let e = m.down(1).await.unwrap_err();
    assert!(e.to_string().contains("a squash migration builds the schema"), "{e}");
    fresh.cleanup().await;

    // Some of the squashed migrations applied: refused, naming the others.
    let partial = B::fresh("squash_partial").await;
    migrator(&partial, &full).run_to(1).await.unwrap();
    let m = migrator(&partial, &squashed);
    let e = m.run().await.unwrap_err();
    assert!(matches!(e, Error::Plan { source: PlanError::SquashPartial { applied: 1, total: 3, .. } }), "{e}");
    assert!(e.to_string().contains("not applied: 2 add_name, 3 create_orders"), "{e}");
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "unknown"), (3, "blocked"), (4, "pending")]);
    assert_eq!(m.validate().await.unwrap().problems.len(), 1);
    // Following the advice: the release from before the squash applies them; then this one runs.
    migrator(&partial, &full).run_to(3).await.unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [4]);
    partial.cleanup().await;

    // Applied with other SQL than the squash stands for: refused, naming the line.
    let other = B::fresh("squash_other").await;
    let edited = Dir::new();
    for (version, name, text) in originals {
        let text = if version == 2 { "ALTER TABLE users ADD COLUMN name VARCHAR(50);\n" } else { text };
        edited.up(version, name, text);
    }
    migrator(&other, &edited).run().await.unwrap();
    let e = migrator(&other, &squashed).run().await.unwrap_err();
    assert!(e.to_string().contains("squashes it as"), "{e}");
    assert!(e.to_string().contains("(line 2)"), "{e}");
    other.cleanup().await;
    old.cleanup().await;
}

/// After a failing migration the lock is free: another runner proceeds at once.
pub async fn lock_released_after_failure<B: Backend>() {
    let db = B::fresh("lock_after_failure").await;
    let dir = Dir::new();
    dir.up(1, "broken", "INSERT INTO missing_table VALUES (1);\n");
    migrator(&db, &dir).run().await.unwrap_err();
    dir.write("1_broken.up.sql", "CREATE TABLE fixed (id BIGINT);\n");
    let quick = builder(&db, &dir).lock_wait(Duration::ZERO).build().unwrap();
    assert_eq!(versions(&quick.run().await.unwrap()), [1]);
    db.cleanup().await;
}

/// Dropping the run future mid-migration releases the lock; the migration ends up applied
/// exactly once (PostgreSQL rolls the orphaned transaction back and the next runner applies
/// it; MySQL finishes the orphaned transaction, and the next runner finds it applied).
pub async fn lock_released_after_future_dropped<B: Backend>() {
    let db = B::fresh("lock_after_drop").await;
    let dir = Dir::new();
    dir.up(1, "create_log", "CREATE TABLE log (note VARCHAR(100));\n").up(
        2,
        "slow",
        &format!("INSERT INTO log (note) VALUES ('slow');\n{};\n", B::sleep_sql(Duration::from_secs(4))),
    );
    let m = migrator(&db, &dir);
    assert!(tokio::time::timeout(Duration::from_millis(1500), m.run()).await.is_err());
    let next = builder(&db, &dir).lock_wait(Duration::from_secs(60)).build().unwrap();
    let started = Instant::now();
    next.run().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(25), "lock came back when the dropped run's connection closed");
    assert_eq!(state_labels(&next.status().await.unwrap()), [(1, "applied"), (2, "applied")]);
    assert_eq!(db.scalar("SELECT count(*) FROM log").await, 1, "applied exactly once");
    db.cleanup().await;
}

/// Waiting longer than the lock wait fails, naming the holder.
pub async fn lock_timeout_names_holder<B: Backend>() {
    let db = B::fresh("lock_timeout_holder").await;
    let dir = Dir::new();
    dir.up(1, "slow", &format!("{};\n", B::sleep_sql(Duration::from_secs(4))));
    let holder = Migrator::<B::Driver>::new(db.driver_named("migrator-holder-app").await, set::<B>(&dir)).unwrap();
    let running = tokio::spawn(async move { holder.run().await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let waiter = builder(&db, &dir).lock_wait(Duration::from_millis(500)).build().unwrap();
    let e = waiter.run().await.unwrap_err();
    match &e {
        Error::LockTimeout { holder: Some(holder), .. } => assert!(holder.contains("migrator-holder-app"), "{holder}"),
        other => panic!("expected a lock timeout naming the holder, got {other}"),
    }
    assert!(e.to_string().contains("held by"), "{e}");
    assert_eq!(versions(&running.await.unwrap().unwrap()), [1]);
    db.cleanup().await;
}

/// Contract migrations wait for the contract phase and are not out of order meanwhile.
pub async fn contract_phase<B: Backend>() {
    let db = B::fresh("contract_phase").await;
    let dir = Dir::new();
    dir.up(1, "create_users", "CREATE TABLE users (id BIGINT, legacy VARCHAR(10));\n")
        .up(
            2,
            "drop_legacy",
            "-- migrator:phase contract\n-- migrator:irreversible -- gone\nALTER TABLE users DROP COLUMN legacy;\n",
        )
        .up(3, "create_orders", "CREATE TABLE orders (id BIGINT);\n");
    let m = migrator(&db, &dir);
    let report = m.run().await.unwrap();
    assert_eq!(versions(&report), [1, 3]);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].version.get(), 2);
    let again = m.run().await.unwrap();
    assert!(again.is_noop() && !again.locked, "a pending contract migration is not out of order and needs no lock");
    assert_eq!(again.skipped.len(), 1);
    let contract = m.run_with(Phases::Contract, None).await.unwrap();
    assert_eq!(versions(&contract), [2]);
    assert_eq!(contract.steps[0].phase, Phase::Contract);
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "applied"), (2, "applied"), (3, "applied")]);
    db.cleanup().await;
}

/// Out-of-order migrations are refused unless allowed.
pub async fn out_of_order_policy<B: Backend>() {
    let db = B::fresh("out_of_order").await;
    let dir = Dir::new();
    dir.up(1, "a", "CREATE TABLE a (id BIGINT);\n").up(3, "c", "CREATE TABLE c (id BIGINT);\n");
    migrator(&db, &dir).run().await.unwrap();
    dir.up(2, "b", "CREATE TABLE b (id BIGINT);\n");
    let e = migrator(&db, &dir).run().await.unwrap_err();
    assert!(
        matches!(&e, Error::Plan { source: PlanError::OutOfOrder { version, newest_applied, .. } } if version.get() == 2 && newest_applied.get() == 3),
        "{e}"
    );
    assert!(!db.table_exists("b").await);
    let lenient = builder(&db, &dir).allow_out_of_order(true).build().unwrap();
    let report = lenient.run().await.unwrap();
    assert_eq!(versions(&report), [2]);
    assert!(matches!(&report.warnings[..], [Warning::OutOfOrder { .. }]));
    // Reverting follows the order of application: 2 was applied last.
    assert_eq!(versions(&migrator(&db, &dir).down(0).await.unwrap()), Vec::<i64>::new());
    db.cleanup().await;
}

/// Unknown applied versions: newer than all known is a rolling deploy (warn); inside the
/// known range is an error pointing at the build-script helper, unless ignored.
pub async fn unknown_version_policy<B: Backend>() {
    let db = B::fresh("unknown_versions").await;
    let dir = Dir::new();
    dir.up(1, "a", "CREATE TABLE a (id BIGINT);\n").up(2, "b", "CREATE TABLE b (id BIGINT);\n").up(
        3,
        "c",
        "CREATE TABLE c (id BIGINT);\n",
    );
    migrator(&db, &dir).run().await.unwrap();

    // An older binary without migration 3: rolling deploy.
    dir.remove("3_c.up.sql");
    let report = migrator(&db, &dir).run().await.unwrap();
    assert!(report.is_noop());
    assert!(matches!(&report.warnings[..], [Warning::UnknownNewer { version, .. }] if version.get() == 3));

    // A binary missing migration 2 but knowing 3: an error naming the helper.
    dir.up(3, "c", "CREATE TABLE c (id BIGINT);\n").remove("2_b.up.sql");
    let e = migrator(&db, &dir).run().await.unwrap_err();
    assert!(
        matches!(&e, Error::Plan { source: PlanError::UnknownApplied { version, .. } } if version.get() == 2),
        "{e}"
    );
    assert!(e.to_string().contains("watch_migrations"), "{e}");
    let ignoring = builder(&db, &dir).ignore_unknown(true).build().unwrap();
    let report = ignoring.run().await.unwrap();
    assert!(matches!(&report.warnings[..], [Warning::UnknownIgnored { version, .. }] if version.get() == 2));
    db.cleanup().await;
}

/// Baseline records existing migrations without running them.
pub async fn baseline<B: Backend>() {
    let db = B::fresh("baseline").await;
    let dir = Dir::new();
    three(&dir);
    // The database already has the users table (made by hand or another tool).
    db.exec("CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200))").await;
    let m = migrator(&db, &dir);
    let recorded = m.baseline(1).await.unwrap();
    assert_eq!(recorded, [v(1)]);
    assert_eq!(versions(&m.run().await.unwrap()), [2, 3]);
    let e = m.baseline(3).await.unwrap_err();
    assert!(matches!(&e, Error::Plan { source: PlanError::BaselineNotEmpty { rows: 3 } }), "{e}");
    let status = m.status().await.unwrap();
    assert_eq!(status.migrations[0].note.as_deref(), Some("baseline 1"));
    db.cleanup().await;
}

/// `force` records a version as applied; `force --reverted` removes it; both clear a
/// failed state.
pub async fn force<B: Backend>() {
    let db = B::fresh("force").await;
    let dir = Dir::new();
    stepwise_dir(&dir, "INSERT INTO missing_table (note) VALUES ('second');");
    migrator(&db, &dir).run().await.unwrap_err();
    let m = migrator(&db, &dir);
    m.force(2).await.unwrap();
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "applied"), (2, "applied")]);
    assert!(m.run().await.unwrap().is_noop());
    m.force_reverted(2).await.unwrap();
    assert_eq!(state_labels(&m.status().await.unwrap()), [(1, "applied"), (2, "pending")]);
    let e = m.force_reverted(2).await.unwrap_err();
    assert!(matches!(&e, Error::Plan { source: PlanError::NotRecorded { .. } }), "{e}");
    let e = m.force(9).await.unwrap_err();
    assert!(e.to_string().contains("no such migration"), "{e}");
    db.cleanup().await;
}

/// A history table written by a newer release is refused.
pub async fn newer_history_layout_is_refused<B: Backend>() {
    let db = B::fresh("newer_layout").await;
    let dir = Dir::new();
    three(&dir);
    migrator(&db, &dir).run().await.unwrap();
    db.exec("UPDATE _migrator_history SET statements_total = 99 WHERE version = 0").await;
    let e = migrator(&db, &dir).run().await.unwrap_err();
    assert!(matches!(&e, Error::HistoryLayout { found: 99, supported: 1, .. }), "{e}");
    assert!(e.to_string().contains("upgrade migrator"), "{e}");
    db.cleanup().await;
}

/// A configured table name (and its own lock) coexists with the default one.
pub async fn custom_history_table<B: Backend>() {
    let db = B::fresh("custom_table").await;
    let app = Dir::new();
    app.up(1, "create_users", "CREATE TABLE users (id BIGINT);\n");
    let library = Dir::new();
    library.up(1, "create_jobs", "CREATE TABLE jobs (id BIGINT);\n");
    migrator(&db, &app).run().await.unwrap();
    let lib = builder(&db, &library).table("_migrator_jobs_history").build().unwrap();
    assert_eq!(versions(&lib.run().await.unwrap()), [1]);
    assert!(db.table_exists("jobs").await && db.table_exists("_migrator_jobs_history").await);
    assert!(migrator(&db, &app).run().await.unwrap().is_noop());
    db.cleanup().await;
}

/// `status`, `validate` and `plan` read without changing anything.
pub async fn status_validate_plan<B: Backend>() {
    let db = B::fresh("status_validate_plan").await;
    let dir = Dir::new();
    three(&dir);
    let m = migrator(&db, &dir);
    let status = m.status().await.unwrap();
    assert!(!status.history_exists);
    assert_eq!(state_labels(&status), [(1, "pending"), (2, "pending"), (3, "pending")]);
    assert!(m.validate().await.unwrap().is_ok());
    assert_eq!(m.plan().await.unwrap().apply.len(), 3);
    assert!(!db.table_exists("_migrator_history").await, "reading created nothing");
    m.run_to(1).await.unwrap();
    let status = m.status().await.unwrap();
    assert!(status.history_exists);
    assert!(status.migrations[0].applied_by.as_deref().is_some_and(|by| !by.is_empty()));
    assert_eq!(m.plan().await.unwrap().apply.iter().map(|p| p.version.get()).collect::<Vec<_>>(), [2, 3]);
    db.cleanup().await;
}

/// Waits until a run of a set shaped like `stepwise_dir`'s is inside its no-transaction
/// migration (whose first statement writes a row to `log`).
pub async fn wait_until_inside_the_stepwise_migration<B: Backend>(db: &B) {
    let started = Instant::now();
    while !db.table_exists("log").await || db.scalar("SELECT count(*) FROM log").await == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "the first run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The startup-check digest of a history in which every migration of `set` is applied
/// ([`migrator_core::history::digest::applied_digest`]).
pub fn applied_digest_of<C: ?Sized>(set: &MigrationSet<C>) -> String {
    migrator_core::history::digest::applied_digest(set.iter().map(|m| {
        let meta = m.meta();
        (
            meta.version().get(),
            meta.name(),
            meta.phase(),
            meta.checksum().as_str(),
            meta.down_checksum().map(|c| c.as_str()),
        )
    }))
}

/// Regression: a runner starting while another applies a statement-by-statement migration
/// saw its `running` row on the lock-free fast path and reported it as interrupted. It must
/// wait for the lock instead, and then find nothing to do.
pub async fn in_progress_row_is_not_reported_as_interrupted<B: Backend>() {
    let db = B::fresh("in_progress_not_interrupted").await;
    let dir = Dir::new();
    stepwise_dir(&dir, &format!("{};", B::sleep_sql(Duration::from_secs(2))));
    let holder = migrator(&db, &dir);
    let holding = tokio::spawn(async move { holder.run().await });
    wait_until_inside_the_stepwise_migration(&db).await;
    let late = builder(&db, &dir).lock_wait(Duration::from_secs(60)).build().unwrap();
    let report = late.run().await.unwrap();
    assert!(report.is_noop() && report.locked);
    assert_eq!(versions(&holding.await.unwrap().unwrap()), [1, 2]);
    db.cleanup().await;
}

/// `status` and `validate` read without the lock: a migration in progress in another process
/// (its row says in progress) is shown as running, with who holds the lock, never as
/// interrupted; `validate` warns instead of failing. Once the runner is gone, the same row
/// reads as interrupted again.
pub async fn status_shows_a_migration_running_elsewhere<B: Backend>() {
    use migrator_core::{MigrationState, Warning};
    let db = B::fresh("status_running").await;
    let dir = Dir::new();
    stepwise_dir(&dir, &format!("{};", B::sleep_sql(Duration::from_secs(4))));
    let holder = migrator(&db, &dir);
    let holding = tokio::spawn(async move { holder.run().await });
    wait_until_inside_the_stepwise_migration(&db).await;
    let observer = migrator(&db, &dir);
    let status = observer.status().await.unwrap();
    let second = &status.migrations[1];
    let MigrationState::Running { statement, total, holder, .. } = &second.state else {
        panic!("migration 2 should be running, got {:?}", second.state)
    };
    assert_eq!((*statement, *total), (2, 3), "on the sleep, statement 2 of 3");
    assert!(!holder.is_empty(), "the holder is described");
    assert_eq!(second.state.label(), "running");
    let validation = observer.validate().await.unwrap();
    assert!(validation.problems.is_empty(), "{:?}", validation.problems);
    assert!(
        validation.warnings.iter().any(|w| matches!(w, Warning::Running { version, .. } if version.get() == 2)),
        "{:?}",
        validation.warnings
    );
    assert_eq!(versions(&holding.await.unwrap().unwrap()), [1, 2]);
    let after = observer.status().await.unwrap();
    assert_eq!(after.migrations[1].state, MigrationState::Applied);
    db.cleanup().await;
}

/// The startup check compares the history with what the binary expects on the server (for
/// backends that implement `probe_expecting`): when they match, only the layout row comes
/// back; an edited migration or a row not applied sends the whole history.
pub async fn startup_check_sends_rows_only_when_they_differ<B: Backend>() {
    let db = B::fresh("startup_digest").await;
    let dir = Dir::new();
    dir.up(1, "a", "CREATE TABLE a (id INT);\n").down(1, "a", "DROP TABLE a;\n").up(
        2,
        "b",
        "CREATE TABLE b (id INT);\n",
    );
    let digest_of = |dir: &Dir| applied_digest_of(&dir.set::<<B::Driver as Driver>::Conn>(B::DIALECT));
    let expected = digest_of(&dir);
    migrator(&db, &dir).run().await.unwrap();
    let table = HistoryTable::default();
    let (history, matched, probe) = db.driver().probe_expecting(&table, std::slice::from_ref(&expected)).await.unwrap();
    drop(probe);
    assert_eq!(matched, Some(0), "the server's digest is the binary's");
    assert!(history.unwrap().rows.is_empty(), "no row sent when they match");

    // An edited migration: the digest differs, every row comes back.
    dir.up(2, "b", "CREATE TABLE b (id BIGINT);\n");
    let (history, matched, probe) = db.driver().probe_expecting(&table, &[digest_of(&dir)]).await.unwrap();
    drop(probe);
    assert_eq!(matched, None);
    assert_eq!(history.unwrap().rows.len(), 2);

    // A row that is not applied: never a match, even with the right digest.
    db.exec("UPDATE _migrator_history SET state = 'failed' WHERE version = 2").await;
    let (history, matched, probe) = db.driver().probe_expecting(&table, &[expected]).await.unwrap();
    drop(probe);
    assert_eq!(matched, None);
    assert_eq!(history.unwrap().rows.len(), 2);
    db.cleanup().await;
}

/// Backfills three users, in a nested transaction (a savepoint inside the migration's).
struct Backfill<B>(PhantomData<fn() -> B>);

#[async_trait]
impl<B: Backend> RustStep<Conn<B>> for Backfill<B> {
    async fn run(&self, conn: &mut Conn<B>) -> Result<(), BoxError> {
        B::exec_nested(
            conn,
            "INSERT INTO users (id, email) VALUES (1, 'u1@example.com'), (2, 'u2@example.com'), (3, 'u3@example.com')",
        )
        .await
    }
}

/// Undoes [`Backfill`].
struct Unfill<B>(PhantomData<fn() -> B>);

#[async_trait]
impl<B: Backend> RustStep<Conn<B>> for Unfill<B> {
    async fn run(&self, conn: &mut Conn<B>) -> Result<(), BoxError> {
        B::exec_on(conn, "DELETE FROM users").await
    }
}

/// Writes a row, then fails.
struct Fails<B>(PhantomData<fn() -> B>);

#[async_trait]
impl<B: Backend> RustStep<Conn<B>> for Fails<B> {
    async fn run(&self, conn: &mut Conn<B>) -> Result<(), BoxError> {
        B::exec_on(conn, "INSERT INTO users (id, email) VALUES (99, 'x')").await?;
        Err("the backfill found inconsistent data".into())
    }
}

/// Rust-code migrations between SQL ones: applied in version order on the migration's
/// connection, reverted by their down step, and a failing one leaves no trace.
pub async fn rust_code_migrations_mixed_with_sql<B: Backend>() {
    let db = B::fresh("rust_code").await;
    let dir = Dir::new();
    dir.up(1, "create_users", "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200));\n")
        .down(1, "create_users", "DROP TABLE users;\n")
        .up(3, "add_verified", "ALTER TABLE users ADD COLUMN verified BOOLEAN NOT NULL DEFAULT FALSE;\n")
        .down(3, "add_verified", "ALTER TABLE users DROP COLUMN verified;\n");
    let backfill = RustMigration::new(2, "backfill_users", Backfill::<B>(PhantomData)).unwrap();
    let migrations = set::<B>(&dir).with(backfill.with_down(Unfill::<B>(PhantomData))).unwrap();
    let m = Migrator::<B::Driver>::new(db.driver(), migrations.clone()).unwrap();
    assert_eq!(versions(&m.run().await.unwrap()), [1, 2, 3]);
    assert_eq!(db.scalar("SELECT count(*) FROM users WHERE NOT verified").await, 3);
    assert!(m.run().await.unwrap().is_noop());
    assert_eq!(versions(&m.down(2).await.unwrap()), [3, 2]);
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 0);
    assert_eq!(versions(&m.run().await.unwrap()), [2, 3]);

    // A failing transactional Rust migration leaves no trace.
    let failing = migrations.with(RustMigration::new(4, "check_users", Fails::<B>(PhantomData)).unwrap()).unwrap();
    let e = Migrator::<B::Driver>::new(db.driver(), failing).unwrap().run().await.unwrap_err();
    let Error::MigrationFailed { failure } = &e else { panic!("{e}") };
    assert_eq!(failure.outcome, FailureOutcome::RolledBack);
    assert_eq!(failure.origin, "Rust migration 4_check_users");
    assert!(e.to_string().contains("the backfill found inconsistent data"), "{e}");
    assert_eq!(db.scalar("SELECT count(*) FROM users WHERE id = 99").await, 0);
    db.cleanup().await;
}

/// The all-tenants startup check takes one round trip for `tenants` fresh areas (each a
/// tenant named by `name_of`: a schema or a database), and a re-run over current tenants costs
/// only that round trip: the checker reaches every tenant through a proxy of the server at
/// `upstream`, on the pool `pool_via` opens for the first area on the proxy's port.
pub async fn tenants_checked_in_one_round_trip<B, DB>(
    tenants: usize,
    name_of: impl Fn(&B) -> String,
    upstream: &str,
    pool_via: impl AsyncFnOnce(&B, u16) -> sqlx::Pool<DB>,
) where
    B: Backend,
    DB: sqlx::Database,
    B::Driver: for<'p> From<&'p sqlx::Pool<DB>>,
{
    let mut areas = Vec::new();
    for i in 0..tenants {
        areas.push(B::fresh(&format!("check_{i}")).await);
    }
    let names: Vec<String> = areas.iter().map(name_of).collect();
    let proxy = crate::proxy::Proxy::start(upstream).await;
    let pool = pool_via(&areas[0], proxy.port()).await;
    tenants_checked_with(&areas, &names, B::Driver::from(&pool), &proxy, || crate::proxy::warm(&pool)).await;
    pool.close().await;
    for area in areas {
        area.cleanup().await;
    }
}

/// The all-tenants startup check takes one round trip, whatever the number of tenants
/// (`areas`, each a tenant named in `names`: a schema or a database), and a re-run over
/// current tenants costs only that round trip. `checker` reaches every tenant through
/// `proxy`, on a pool whose one connection `warm` puts back idle (so acquiring it sends
/// nothing).
async fn tenants_checked_with<B: Backend, W: std::future::Future<Output = ()>>(
    areas: &[B],
    names: &[String],
    checker: B::Driver,
    proxy: &crate::proxy::Proxy,
    warm: impl Fn() -> W,
) {
    use migrator_core::TenantCheck;
    let dir = Dir::new();
    dir.up(1, "create_a", "CREATE TABLE a (id BIGINT);\n").up(2, "create_b", "CREATE TABLE b (id BIGINT);\n");
    let tenants = || {
        let drivers: Vec<B::Driver> = areas.iter().map(|a| a.driver()).collect();
        let names_again = names.to_vec();
        let set = set::<B>(&dir);
        let each = set.clone();
        Tenants::new(names.to_vec(), move |name: String| {
            let index = names_again.iter().position(|n| *n == name).unwrap();
            let (driver, set) = (drivers[index].clone(), each.clone());
            async move { Migrator::<B::Driver>::new(driver, set) }
        })
        .parallel(4)
        .check_on(Migrator::new(checker.clone(), set.clone()).unwrap())
    };
    let checks = |checks: Vec<(String, TenantCheck)>| checks.into_iter().map(|(_, c)| c).collect::<Vec<_>>();

    // No tenant has a history table yet.
    warm().await;
    proxy.reset();
    let found = checks(tenants().check().await.unwrap());
    assert_eq!(proxy.round_trips(), 1, "the check of {} tenants", names.len());
    assert!(found.iter().all(|c| *c == TenantCheck::NoHistory), "{found:?}");
    let report = tenants().run().await;
    assert!(report.is_success() && report.in_state(TenantState::Applied).count() == names.len(), "{report}");

    // One tenant misses migration 2, one has no history at all; the others are current.
    areas[3].exec("DELETE FROM _migrator_history WHERE version = 2").await;
    areas[3].exec("DROP TABLE b").await;
    for table in ["_migrator_history", "a", "b"] {
        areas[5].exec(&format!("DROP TABLE {table}")).await;
    }
    warm().await;
    proxy.reset();
    let found = checks(tenants().check().await.unwrap());
    assert_eq!(proxy.round_trips(), 1, "the check of {} tenants", names.len());
    for (i, check) in found.iter().enumerate() {
        let expected = match i {
            3 => TenantCheck::Differs,
            5 => TenantCheck::NoHistory,
            _ => TenantCheck::Current,
        };
        assert_eq!(*check, expected, "tenant {i}");
    }

    // A run applies to those two only; the others are reported current without a run.
    let report = tenants().run().await;
    assert!(report.is_success(), "{report}");
    assert_eq!(report.tenants[3].applied(), [v(2)], "{report}");
    assert_eq!(report.tenants[5].applied(), [v(1), v(2)], "{report}");
    assert!(report.tenants[5].report.is_some() && report.tenants[0].report.is_none(), "only those two ran");
    assert_eq!(report.in_state(TenantState::Current).count(), names.len() - 2, "{report}");

    // Every tenant current: the whole re-run is one round trip.
    warm().await;
    proxy.reset();
    let report = tenants().run().await;
    assert_eq!(proxy.round_trips(), 1, "a re-run over {} current tenants", names.len());
    assert_eq!(report.in_state(TenantState::Current).count(), names.len(), "{report}");
}
