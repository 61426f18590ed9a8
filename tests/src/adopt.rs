//! The adoption tests, generic over [`Backend`]: per tool, a history applied by the tool (or
//! written as it writes it), then a dry run that writes nothing, the refusals (a file edited
//! since the tool ran it, a failed or dirty state with the tool's recovery), the adoption,
//! a second adoption that changes nothing, `status` showing adopted rows as such, `up`
//! applying only the new migration, and the tool's table left as it was. Plus adoptions
//! racing each other and runs that adopt at startup.

use migrator_core::{Adopt, Adoption, Checked, ForeignTool, Migrator, PlanError, Version};

use crate::backend::{Backend, Conn};
use crate::dir::Dir;
use crate::tools::{self, FlywayRow, Tools};

/// Declares one `#[tokio::test]` per adoption test for a backend type.
#[macro_export]
macro_rules! adopt_tests {
    ($backend:ty: $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::init_tracing();
                $crate::adopt::$name::<$backend>().await;
            }
        )*
    };
}

const USERS: &str = "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200));\n";
const ORDERS: &str = "-- orders of users\nCREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT);\n";
const SEED: &str = "INSERT INTO users (id, email) VALUES (1, 'a@example.com');\nINSERT INTO users (id, email) VALUES (2, 'b@example.com');\n";
/// The migration added after the switch: it fails if it ever runs twice.
const NEW: &str = "INSERT INTO users (id, email) VALUES (3, 'c@example.com');\n";

/// `(version, name, up script)` of the three migrations the other tool applied.
fn three() -> [(i64, &'static str, &'static str); 3] {
    [(1, "create_users", USERS), (2, "create_orders", ORDERS), (3, "seed_users", SEED)]
}

fn write(dir: &Dir, migrations: &[(i64, &str, &str)]) {
    for (version, name, sql) in migrations {
        dir.up(*version, name, sql);
    }
}

/// What the tool did to the schema, for tools whose table the tests write.
async fn apply_sql<B: Backend>(db: &B, migrations: &[(i64, &str, &str)]) {
    for (_, _, sql) in migrations {
        db.exec(sql).await;
    }
}

fn migrator<B: Backend>(db: &B, dir: &Dir) -> Migrator<B::Driver> {
    Migrator::new(db.driver(), dir.set::<Conn<B>>(B::DIALECT)).unwrap()
}

fn adopted(adoption: &Adoption) -> Vec<i64> {
    adoption.plan.adopt.iter().map(|a| a.version.get()).collect()
}

fn versions(list: &[Version]) -> Vec<i64> {
    list.iter().map(|v| v.get()).collect()
}

fn plan_error(e: migrator_core::Error) -> PlanError {
    match e {
        migrator_core::Error::Plan { source } => source,
        other => panic!("expected a refusal of the planner, got: {other}"),
    }
}

/// A dry run answers what adopting would record and writes nothing, not even migrator's table.
async fn dry_run_writes_nothing<B: Backend>(db: &B, dir: &Dir, from: &Adopt, expected: &[i64]) {
    let dry = migrator(db, dir).adopt_dry_run(from).await.unwrap();
    assert!(dry.dry_run && !dry.recorded);
    assert_eq!(adopted(&dry), expected, "{dry:?}");
    assert!(!db.table_exists("_migrator_history").await, "a dry run writes nothing");
}

/// Adopts, checks the second adoption changes nothing, `status`, `up` applying only the new
/// migration, and the tool's table left as it was.
async fn adopt_then_up<B: Backend>(db: &B, dir: &Dir, from: &Adopt, expected: &[i64], new: i64) {
    let table = from.foreign_table().unwrap().to_string();
    let tool_rows = db.scalar(&format!("SELECT count(*) FROM {table}")).await;
    dir.up(new, "seed_more", NEW);
    let m = migrator(db, dir);
    let adoption = m.adopt(from).await.unwrap();
    assert!(adoption.recorded && !adoption.dry_run);
    assert_eq!(adopted(&adoption), expected, "{adoption:?}");
    assert_eq!(versions(&adoption.plan.pending), [new]);
    let prefix = format!("adopted from {}", from.tool());
    assert!(adoption.plan.adopt.iter().all(|a| a.note.starts_with(&prefix)), "{adoption:?}");
    let ranks: Vec<i64> = adoption.plan.adopt.iter().map(|a| a.rank).collect();
    assert_eq!(ranks, (1..=expected.len() as i64).collect::<Vec<_>>());

    let again = m.adopt(from).await.unwrap();
    assert!(!again.recorded && again.plan.adopt.is_empty(), "a second adoption is a no-op: {again:?}");
    let mut already = versions(&again.plan.already);
    already.sort();
    let mut sorted = expected.to_vec();
    sorted.sort();
    assert_eq!(already, sorted);

    let status = m.status().await.unwrap();
    for entry in &status.migrations {
        if entry.version.get() == new {
            assert_eq!(entry.state.label(), "pending");
        } else {
            assert_eq!(entry.state.label(), "applied", "{entry:?}");
            let note = entry.note.as_deref().unwrap_or_default();
            assert!(note.starts_with(&prefix), "status shows the adopted row as such: {note}");
        }
    }

    let report = m.run().await.unwrap();
    assert_eq!(report.steps.iter().map(|s| s.version.get()).collect::<Vec<_>>(), [new], "up applies only the new one");
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 3);
    assert!(m.run().await.unwrap().is_noop());
    let after = m.adopt(from).await.unwrap();
    assert!(!after.recorded && after.plan.pending.is_empty(), "{after:?}");
    assert_eq!(db.scalar(&format!("SELECT count(*) FROM {table}")).await, tool_rows, "the tool's table is untouched");
}

/// sqlx: its own migrator applies the history; an edited file and a failed migration are
/// refused; then adopted and migrated on.
pub async fn adopt_from_sqlx<B: Backend + Tools>() {
    let db = B::fresh("adopt_from_sqlx").await;
    let dir = Dir::new();
    write(&dir, &three());
    db.run_sqlx(dir.path()).await.unwrap();
    let from = Adopt::new(ForeignTool::Sqlx);
    dry_run_writes_nothing(&db, &dir, &from, &[1, 2, 3]).await;
    let dry = migrator(&db, &dir).adopt_dry_run(&from).await.unwrap();
    assert!(dry.plan.adopt.iter().all(|a| a.checked == Checked::Verified), "sqlx's SHA-384 matches: {dry:?}");

    // A file edited since sqlx ran it: refused, naming the file; accepted only when asked.
    dir.up(2, "create_orders", &ORDERS.replace("-- orders of users", "-- orders"));
    let e = plan_error(migrator(&db, &dir).adopt(&from).await.unwrap_err());
    assert!(matches!(e, PlanError::ForeignChecksum { .. }), "{e}");
    assert!(e.to_string().contains("2_create_orders.up.sql"), "{e}");
    let accepting = from.clone().accept_changed_files(true);
    let dry = migrator(&db, &dir).adopt_dry_run(&accepting).await.unwrap();
    assert!(matches!(dry.plan.adopt[1].checked, Checked::Changed { .. }), "{dry:?}");
    // Line endings count for sqlx: a CRLF checkout is an edit too.
    dir.up(2, "create_orders", &ORDERS.replace('\n', "\r\n"));
    assert!(migrator(&db, &dir).adopt(&from).await.is_err());
    dir.up(2, "create_orders", ORDERS);

    // A migration sqlx recorded as failed: refused with sqlx's recovery.
    db.exec("UPDATE _sqlx_migrations SET success = false WHERE version = 3").await;
    let e = plan_error(migrator(&db, &dir).adopt(&from).await.unwrap_err());
    assert!(e.to_string().contains("DELETE FROM _sqlx_migrations WHERE version = 3"), "{e}");
    db.exec("UPDATE _sqlx_migrations SET success = true WHERE version = 3").await;
    assert_eq!(
        migrator(&db, &dir).status().await.unwrap().migrations.iter().filter(|m| m.state.label() == "applied").count(),
        0,
        "refusals write nothing"
    );

    adopt_then_up(&db, &dir, &from, &[1, 2, 3], 4).await;
    db.cleanup().await;
}

/// refinery: its own runner applies the history (refinery's checksums); an edited file is
/// refused; then adopted and migrated on.
pub async fn adopt_from_refinery<B: Backend + Tools>() {
    let db = B::fresh("adopt_from_refinery").await;
    let dir = Dir::new();
    write(&dir, &three());
    db.run_refinery(&three()).await.unwrap();
    let from = Adopt::new(ForeignTool::Refinery);
    dry_run_writes_nothing(&db, &dir, &from, &[1, 2, 3]).await;
    let dry = migrator(&db, &dir).adopt_dry_run(&from).await.unwrap();
    assert!(dry.plan.adopt.iter().all(|a| a.checked == Checked::Verified), "refinery's checksums match: {dry:?}");

    dir.up(3, "seed_users", &SEED.replace("b@example.com", "b@example.org"));
    let e = plan_error(migrator(&db, &dir).adopt(&from).await.unwrap_err());
    assert!(matches!(e, PlanError::ForeignChecksum { .. }) && e.to_string().contains("3_seed_users.up.sql"), "{e}");
    dir.up(3, "seed_users", SEED);

    adopt_then_up(&db, &dir, &from, &[1, 2, 3], 4).await;
    db.cleanup().await;
}

/// diesel: old and new version forms and the initial setup map keeping diesel's order; a
/// version without its migration is refused.
pub async fn adopt_from_diesel<B: Backend + Tools>() {
    let db = B::fresh("adopt_from_diesel").await;
    let dir = Dir::new();
    let migrations = [
        (1, "diesel_initial_setup", "-- diesel's initial setup\nSELECT 1;\n"),
        (201902260029460000, "create_users", USERS),
        (202606032202280000, "create_orders", ORDERS),
    ];
    write(&dir, &migrations);
    apply_sql(&db, &migrations).await;
    tools::write_diesel(
        &db,
        &["00000000000000", "2019-02-26-002946", "2026-06-03-220228-0000", "2026-06-04-000000-0000"],
    )
    .await;
    let from = Adopt::new(ForeignTool::Diesel);
    let e = plan_error(migrator(&db, &dir).adopt_dry_run(&from).await.unwrap_err());
    assert!(
        e.to_string().contains("diesel applied migration 202606040000000000 (diesel version 202606040000000000)"),
        "{e}"
    );
    db.exec("DELETE FROM __diesel_schema_migrations WHERE version = '202606040000000000'").await;

    let expected = [1, 201902260029460000, 202606032202280000];
    dry_run_writes_nothing(&db, &dir, &from, &expected).await;
    let dry = migrator(&db, &dir).adopt_dry_run(&from).await.unwrap();
    assert!(dry.plan.adopt.iter().all(|a| a.checked == Checked::NotKept), "{dry:?}");
    assert_eq!(dry.plan.adopt[1].note, "adopted from diesel (version 20190226002946)");
    // The seed comes after the switch.
    db.exec(SEED).await;
    adopt_then_up(&db, &dir, &from, &expected, 202607010000000000).await;
    db.cleanup().await;
}

/// golang-migrate: its current version covers every migration at or below it; a dirty
/// version is refused with golang-migrate's recovery.
pub async fn adopt_from_golang_migrate<B: Backend + Tools>() {
    let db = B::fresh("adopt_from_golang_migrate").await;
    let dir = Dir::new();
    write(&dir, &three());
    apply_sql(&db, &three()).await;
    tools::write_golang_migrate(&db, 3, true).await;
    let from = Adopt::new(ForeignTool::GolangMigrate);
    let e = plan_error(migrator(&db, &dir).adopt(&from).await.unwrap_err());
    assert!(matches!(e, PlanError::ForeignDirty { .. }), "{e}");
    assert!(e.to_string().contains("`migrate force 3`"), "{e}");
    tools::set_golang_migrate(&db, 3, false).await;

    // Migrator's own history disagreeing with the file (another checksum for migration 1).
    migrator(&db, &dir).force(1).await.unwrap();
    db.exec("UPDATE _migrator_history SET checksum = 'sha256:other' WHERE version = 1").await;
    let e = plan_error(migrator(&db, &dir).adopt(&from).await.unwrap_err());
    assert!(matches!(e, PlanError::AdoptConflict { .. }), "{e}");
    assert!(e.to_string().contains("already records it with checksum sha256:other"), "{e}");
    db.exec("DELETE FROM _migrator_history WHERE version = 1").await;

    dry_run_writes_nothing_after_refusal(&db, &dir, &from, &[1, 2, 3]).await;
    adopt_then_up(&db, &dir, &from, &[1, 2, 3], 4).await;
    db.cleanup().await;
}

/// After a refusal took the lock (and created migrator's empty table), a dry run still
/// writes no row.
async fn dry_run_writes_nothing_after_refusal<B: Backend>(db: &B, dir: &Dir, from: &Adopt, expected: &[i64]) {
    let dry = migrator(db, dir).adopt_dry_run(from).await.unwrap();
    assert_eq!(adopted(&dry), expected, "{dry:?}");
    let status = migrator(db, dir).status().await.unwrap();
    assert!(status.migrations.iter().all(|m| m.state.label() == "pending"), "nothing recorded: {status:?}");
}

/// goose: the latest row of a version decides; a version goose rolled back (`is_applied =
/// false`, as older goose wrote on down) is refused with goose's recovery, applied again it
/// is adopted.
pub async fn adopt_from_goose<B: Backend + Tools>() {
    let db = B::fresh("adopt_from_goose").await;
    let dir = Dir::new();
    write(&dir, &three());
    apply_sql(&db, &three()).await;
    tools::write_goose(&db, &[(1, true), (2, true), (3, true), (3, false)]).await;
    let from = Adopt::new(ForeignTool::Goose);
    let e = plan_error(migrator(&db, &dir).adopt_dry_run(&from).await.unwrap_err());
    assert!(matches!(e, PlanError::ForeignDirty { .. }) && e.to_string().contains("`goose up`"), "{e}");
    db.exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (3, TRUE)").await;

    dry_run_writes_nothing(&db, &dir, &from, &[1, 2, 3]).await;
    adopt_then_up(&db, &dir, &from, &[1, 2, 3], 4).await;
    db.cleanup().await;
}

/// Flyway: checksums computed as Flyway does (line endings and a BOM do not count, an edit
/// does); a failed migration is refused with Flyway's recovery; a repeatable migration is
/// left aside with a warning.
pub async fn adopt_from_flyway<B: Backend + Tools>() {
    let db = B::fresh("adopt_from_flyway").await;
    let dir = Dir::new();
    write(&dir, &three());
    apply_sql(&db, &three()).await;
    let row = |version: &'static str, description: &'static str, script: &'static str, sql: &str| FlywayRow {
        version: Some(version),
        description,
        kind: "SQL",
        script,
        checksum: Some(tools::flyway_checksum(sql)),
        success: true,
    };
    tools::write_flyway(
        &db,
        &[
            row("1", "create users", "V1__create_users.sql", USERS),
            row("2", "create orders", "V2__create_orders.sql", ORDERS),
            FlywayRow { version: None, kind: "SQL", ..row("", "views", "R__views.sql", "SELECT 1;") },
            row("3", "seed users", "V3__seed_users.sql", SEED),
        ],
    )
    .await;
    let from = Adopt::new(ForeignTool::Flyway);
    dry_run_writes_nothing(&db, &dir, &from, &[1, 2, 3]).await;
    let dry = migrator(&db, &dir).adopt_dry_run(&from).await.unwrap();
    assert!(dry.plan.adopt.iter().all(|a| a.checked == Checked::Verified), "Flyway's CRC32 matches: {dry:?}");
    assert_eq!(dry.plan.warnings.len(), 1, "the repeatable migration is left aside: {:?}", dry.plan.warnings);

    // A CRLF checkout with a BOM is the same file for Flyway; an edit is not.
    dir.up(2, "create_orders", &format!("\u{feff}{}", ORDERS.replace('\n', "\r\n")));
    let dry = migrator(&db, &dir).adopt_dry_run(&from).await.unwrap();
    assert_eq!(dry.plan.adopt[1].checked, Checked::Verified, "{dry:?}");
    dir.up(2, "create_orders", &ORDERS.replace("BIGINT)", "INT)"));
    let e = plan_error(migrator(&db, &dir).adopt(&from).await.unwrap_err());
    assert!(matches!(e, PlanError::ForeignChecksum { .. }) && e.to_string().contains("2_create_orders.up.sql"), "{e}");
    dir.up(2, "create_orders", ORDERS);

    db.exec("UPDATE flyway_schema_history SET success = false WHERE version = '3'").await;
    let e = plan_error(migrator(&db, &dir).adopt(&from).await.unwrap_err());
    assert!(e.to_string().contains("`flyway repair`"), "{e}");
    db.exec("UPDATE flyway_schema_history SET success = true WHERE version = '3'").await;

    adopt_then_up(&db, &dir, &from, &[1, 2, 3], 4).await;
    db.cleanup().await;
}

/// Explicit adoptions racing runs that adopt at startup (as replicas of an app would):
/// every call succeeds, each migration is recorded once and the new one runs once.
pub async fn adoptions_race_each_other_and_up<B: Backend + Tools>() {
    let db = B::fresh("adoptions_race").await;
    let dir = Dir::new();
    write(&dir, &three());
    apply_sql(&db, &three()).await;
    tools::write_golang_migrate(&db, 3, false).await;
    dir.up(4, "seed_more", NEW);
    let from = Adopt::new(ForeignTool::GolangMigrate);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let driver = db.driver();
        let set = dir.set::<Conn<B>>(B::DIALECT);
        let from = from.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let m = Migrator::<B::Driver>::new(driver, set).unwrap();
                m.adopt(&from).await.map(|a| a.recorded)
            } else {
                let m = Migrator::<B::Driver>::builder(driver, set).adopt_from(from).build().unwrap();
                m.run().await.map(|_| false)
            }
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let m = migrator(&db, &dir);
    let status = m.status().await.unwrap();
    let labels: Vec<(i64, &str)> = status.migrations.iter().map(|e| (e.version.get(), e.state.label())).collect();
    assert_eq!(labels, [(1, "applied"), (2, "applied"), (3, "applied"), (4, "applied")]);
    assert!(status.migrations[..3].iter().all(|e| e.note.as_deref().is_some_and(|n| n.starts_with("adopted from"))));
    assert_eq!(status.migrations[3].note, None, "migration 4 ran");
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 3, "the new migration ran once");
    assert_eq!(db.scalar("SELECT count(*) FROM _migrator_history WHERE version > 0").await, 4);
    db.cleanup().await;
}

/// An app that adopts at startup on a database the tool never touched just migrates; one
/// whose history migrator already has does not read the tool's table again.
pub async fn adopting_at_startup<B: Backend + Tools>() {
    let db = B::fresh("adopting_at_startup").await;
    let dir = Dir::new();
    write(&dir, &three());
    let startup = |dir: &Dir| {
        Migrator::<B::Driver>::builder(db.driver(), dir.set::<Conn<B>>(B::DIALECT))
            .adopt_from(Adopt::new(ForeignTool::Sqlx))
            .build()
            .unwrap()
    };
    let report = startup(&dir).run().await.unwrap();
    assert_eq!(report.steps.len(), 3, "no sqlx table: everything is applied");
    assert!(!db.table_exists("_sqlx_migrations").await);
    // Once migrator's history has rows, a run adopts nothing: it applies what is new.
    dir.up(4, "seed_more", NEW);
    let report = startup(&dir).run().await.unwrap();
    assert_eq!(report.steps.iter().map(|s| s.version.get()).collect::<Vec<_>>(), [4]);
    let status = migrator(&db, &dir).status().await.unwrap();
    assert!(status.migrations.iter().all(|e| e.note.is_none()), "{status:?}");
    db.cleanup().await;
}

/// A first plain run (no adoption asked for) beside another tool's history is refused before
/// anything runs, naming the tool and the command; following the advice adopts and migrates
/// on; `ignore_foreign_history` is the way out for a table that belongs to something else.
pub async fn a_first_run_beside_another_history_is_refused<B: Backend + Tools>() {
    let db = B::fresh("first_run_foreign").await;
    let dir = Dir::new();
    write(&dir, &three());
    db.run_sqlx(dir.path()).await.unwrap();
    dir.up(4, "seed_more", NEW);
    let e = migrator(&db, &dir).run().await.unwrap_err();
    let problem = plan_error(e);
    assert!(matches!(problem, PlanError::ForeignHistoryFound { tool: "sqlx", applied: 3, .. }), "{problem}");
    assert!(problem.to_string().contains("`migrator adopt --from sqlx`"), "{problem}");
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 2, "nothing ran again");

    // Following the advice: adopting at startup, then on as usual.
    let startup = Migrator::<B::Driver>::builder(db.driver(), dir.set::<Conn<B>>(B::DIALECT))
        .adopt_from(Adopt::new(ForeignTool::Sqlx))
        .build()
        .unwrap();
    assert_eq!(startup.run().await.unwrap().steps.iter().map(|s| s.version.get()).collect::<Vec<_>>(), [4]);
    assert_eq!(db.scalar("SELECT count(*) FROM users").await, 3);
    db.cleanup().await;

    // A table of that name that is not the tool's history (another shape) is no reason to stop,
    // and the option lets a run go on beside one that is.
    let other = B::fresh("first_run_other_table").await;
    other.exec("CREATE TABLE schema_migrations (version VARCHAR(20) PRIMARY KEY)").await;
    other.exec("INSERT INTO schema_migrations (version) VALUES ('20240101000000')").await;
    let fresh = Dir::new();
    write(&fresh, &three());
    assert_eq!(
        migrator(&other, &fresh).run().await.unwrap().steps.len(),
        3,
        "a Rails-shaped table is not golang-migrate's"
    );
    let sqlx_db = B::fresh("first_run_ignored").await;
    sqlx_db.run_sqlx(dir.path()).await.unwrap();
    sqlx_db.exec("DROP TABLE users").await;
    sqlx_db.exec("DROP TABLE orders").await;
    let ignoring = Migrator::<B::Driver>::builder(sqlx_db.driver(), fresh.set::<Conn<B>>(B::DIALECT))
        .ignore_foreign_history(true)
        .build()
        .unwrap();
    assert_eq!(ignoring.run().await.unwrap().steps.len(), 3);
    other.cleanup().await;
    sqlx_db.cleanup().await;
}
