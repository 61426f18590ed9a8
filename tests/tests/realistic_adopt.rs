//! The realistic PostgreSQL history (58 migrations: functions, triggers, `CONCURRENTLY`,
//! renames, data fixes) written in each other tool's layout (`tests/src/history.rs`), applied
//! by that tool, then adopted by migrator; the adoption is verified by comparing schema
//! snapshots (and the rows the data fixes touched) with a database migrated by migrator from
//! its own layout.
//!
//! Per layout: the tool applies the history (sqlx's migrator and refinery's runner for real;
//! diesel, golang-migrate, goose and Flyway applied as they send it, and their tables written
//! as they write them); migrator reads the directory in that layout, detected and named, the
//! same way, and as the same statements as in its own layout; a dry run writes nothing; for
//! the tools that keep checksums, a file edited since the tool ran it is refused, naming it;
//! the adoption records every migration; the schema equals the reference; the tool's table is
//! left as it was; a migration added in that layout is the only one `up` applies; and migrator
//! reverts with the layout's down scripts and applies its up scripts again to the same schema.
//!
//! Each case has a database of its own (the history builds indexes CONCURRENTLY, which waits
//! for the other transactions of its database); the reference is built once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::history::{self, History, Migration, Written};
use migrator_conformance::postgres::Pg;
use migrator_conformance::{Backend, Tools, init_tracing};
use migrator_core::driver::Inspect;
use migrator_core::lint::LintOptions;
use migrator_core::schema::Schema;
use migrator_core::source::{Layout, LoadedDir, load_dir_with_layout};
use migrator_core::{
    Adopt, Checked, Dialect, Directives, MigrationMeta, MigrationSet, Phases, PlanError, SqlMigration,
};
use migrator_postgres::Migrator;
use tokio::sync::OnceCell;

/// Rows the history's data migrations wrote or fixed: the import, the email fix, the
/// backfills, in a form that does not depend on the clock.
const ROWS: &str = "SELECT concat_ws(' | ', \
    (SELECT string_agg(id || ' ' || email || ' ' || coalesce(full_name, '-'), ', ' ORDER BY id) FROM users), \
    (SELECT string_agg(id || ' ' || title || ' ' || status || ' ' || (completed_at IS NOT NULL), ', ' ORDER BY id) \
     FROM tasks), \
    (SELECT string_agg(name || ' ' || budget, ', ' ORDER BY id) FROM projects), \
    (SELECT count(*) FROM audit_events)::text)";

async fn rows(db: &Pg) -> String {
    sqlx::query_scalar::<_, String>(ROWS).fetch_one(&db.pool).await.unwrap()
}

/// The database migrated by migrator from its own layout: its schema and rows.
async fn reference() -> &'static (Schema, String) {
    static REFERENCE: OnceCell<(Schema, String)> = OnceCell::const_new();
    REFERENCE
        .get_or_init(|| async {
            let db = Pg::fresh_database("realistic_reference").await;
            let set =
                MigrationSet::from_dir_with(history::realistic_postgres(), Dialect::Postgres, Some(Layout::Migrator))
                    .unwrap();
            let migrator = Migrator::new(db.driver(), set).unwrap();
            migrator.run_with(Phases::All, None).await.unwrap();
            let reference = (db.driver().snapshot().await.unwrap(), rows(&db).await);
            assert!(reference.0.len() > 100, "{} objects", reference.0.len());
            assert!(reference.1.contains("ada.lovelace@acme.example Ada Lovelace"), "{}", reference.1);
            db.cleanup().await;
            reference
        })
        .await
}

/// `schema` without the tool's history table and what hangs off it (its columns, key, index,
/// sequence), and how many objects that was.
fn without_table(schema: &Schema, table: &str) -> (Schema, usize) {
    let mut kept = Schema::new();
    let mut left_out = 0;
    for (kind, name, definition) in schema.objects() {
        if name == table || name.starts_with(&format!("{table}.")) || name.starts_with(&format!("{table}_")) {
            left_out += 1;
        } else {
            kept.insert(kind, name, definition);
        }
    }
    (kept, left_out)
}

fn load(dir: &std::path::Path, layout: Option<Layout>) -> LoadedDir {
    load_dir_with_layout(dir, "migrations", Dialect::Postgres, layout, &LintOptions::new())
        .unwrap_or_else(|errors| panic!("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")))
}

/// What two readings of a directory must agree on, per migration: version, name, checksums,
/// transaction mode, phase, and the statements of each script.
fn reading(loaded: &LoadedDir) -> Vec<String> {
    loaded
        .migrations
        .iter()
        .map(|item| {
            let m = &item.migration;
            let script = |s: &migrator_core::Script| {
                let statements: Vec<String> =
                    s.statements().unwrap().iter().map(|st| history::normalized(s.statement_text(st))).collect();
                format!("no-transaction {} {statements:?}", s.directives().no_transaction)
            };
            format!(
                "{} {} {} {:?} {:?} {:?} up: {} down: {:?}",
                m.up_script().path(),
                meta(m).version(),
                meta(m).name(),
                m.up_script().checksum(),
                m.down_script().map(|d| d.checksum().clone()),
                m.up_script().directives().phase,
                script(m.up_script()),
                m.down_script().map(script),
            )
        })
        .collect()
}

/// A script's directives, without the lines they are on (each layout adds its own lines).
fn directives(script: &migrator_core::Script) -> Directives {
    let mut directives = script.directives().clone();
    for allow in &mut directives.allow {
        allow.line = 0;
    }
    directives
}

/// The layout detection finds for a history written in `layout`: golang-migrate's files are
/// migrator's (`{version}_{name}.up.sql` / `.down.sql`, and migrator's directives), so its
/// directory reads as migrator's, and both layouts read it the same way.
fn detected(layout: Layout) -> Layout {
    if layout == Layout::GolangMigrate { Layout::Migrator } else { layout }
}

/// A migration added after the switch, written in the same layout.
fn new_migration() -> Migration {
    Migration {
        version: 20260122090000,
        name: "add_tasks_estimate".to_owned(),
        up: "-- Hours, as the team estimates them.\nALTER TABLE tasks ADD COLUMN estimate_hours numeric(6, 2);\n"
            .to_owned(),
        down: Some("ALTER TABLE tasks DROP COLUMN estimate_hours;\n".to_owned()),
    }
}

/// A loaded migration's version, name and phase.
fn meta(m: &SqlMigration) -> &MigrationMeta {
    migrator_core::Migration::<()>::meta(m)
}

fn plan_error(e: migrator_core::Error) -> PlanError {
    match e {
        migrator_core::Error::Plan { source } => source,
        other => panic!("expected a refusal of the planner, got: {other}"),
    }
}

async fn adopts_the_realistic_history(layout: Layout) {
    init_tracing();
    let started = std::time::Instant::now();
    let history = History::read(&history::realistic_postgres());
    assert!(history.migrations.len() >= 50, "{} migrations", history.migrations.len());
    let reference = reference().await;
    let own = load(&history::realistic_postgres(), Some(Layout::Migrator));

    // The history in the tool's layout, applied by the tool.
    let dir = tempfile::tempdir().unwrap();
    let written = history.write(layout, dir.path());
    let db = Pg::fresh_database(&format!("realistic_{}", layout.id().replace('-', "_"))).await;
    match layout {
        Layout::Sqlx => db.run_sqlx(dir.path()).await.unwrap(),
        Layout::Refinery => {
            let migrations: Vec<(i64, &str, &str)> =
                written.iter().map(|w| (w.version, w.migration.name.as_str(), w.up_text.as_str())).collect();
            db.run_refinery(&migrations).await.unwrap();
        }
        _ => history::apply_as_tool(&db, layout, &written).await,
    }
    let tool = history::tool_of(layout);
    let table = tool.default_table();
    let tool_rows = db.scalar(&format!("SELECT count(*) FROM {table}")).await;
    assert!(tool_rows >= written.len() as i64 || layout == Layout::GolangMigrate, "{tool_rows} rows in {table}");

    // goose reads each file as the same statements as migrator's splitter, both ways.
    if layout == Layout::Goose {
        for w in &written {
            let m = &w.migration;
            let (up, _) = history::goose_statements(&w.up_text, true).unwrap();
            let up: Vec<String> = up.iter().map(|s| history::normalized(s)).collect();
            assert_eq!(up, history::migrator_statements(&m.up), "{}", w.up_file);
            if let Some(down) = &m.down {
                let (statements, _) = history::goose_statements(&w.up_text, false).unwrap();
                let statements: Vec<String> = statements.iter().map(|s| history::normalized(s)).collect();
                assert_eq!(statements, history::migrator_statements(down), "{} (down)", w.up_file);
            }
        }
    }

    // migrator reads the directory in that layout, detected and named alike, as the same
    // migrations (statements, transaction mode, phase, down script) as in its own layout.
    let found = load(dir.path(), None);
    assert_eq!(found.layout, detected(layout), "detected");
    let named = load(dir.path(), Some(layout));
    assert_eq!(named.layout, layout);
    assert_eq!(reading(&found), reading(&named), "detected and named readings differ");
    let versions: Vec<i64> = named.migrations.iter().map(|m| meta(&m.migration).version().get()).collect();
    assert_eq!(versions, written.iter().map(|w| w.version).collect::<Vec<_>>());
    for (theirs, ours) in named.migrations.iter().zip(&own.migrations) {
        let (theirs, ours) = (&theirs.migration, &ours.migration);
        let shown = theirs.up_script().path();
        assert_eq!(meta(theirs).name(), meta(ours).name(), "{shown}");
        assert_eq!(meta(theirs).phase(), meta(ours).phase(), "{shown}");
        let statements = |s: &migrator_core::Script| {
            s.statements().unwrap().iter().map(|st| history::normalized(s.statement_text(st))).collect::<Vec<_>>()
        };
        assert_eq!(statements(theirs.up_script()), statements(ours.up_script()), "{shown}");
        // The tool's marker reads as migrator's `no-transaction`; the other directives are kept.
        assert_eq!(directives(theirs.up_script()), directives(ours.up_script()), "{shown}");
        match (theirs.down_script(), ours.down_script()) {
            (None, _) if layout == Layout::Refinery => {}
            (Some(theirs), Some(ours)) => {
                assert_eq!(statements(theirs), statements(ours), "{shown} (down)");
                assert_eq!(directives(theirs), directives(ours), "{shown} (down)");
            }
            (None, None) => {}
            (theirs, ours) => {
                panic!("{shown}: down script {:?} here, {:?} in migrator's layout", theirs.is_some(), ours.is_some())
            }
        }
    }

    let set = |dir: &std::path::Path| MigrationSet::from_dir_with(dir, Dialect::Postgres, Some(layout)).unwrap();
    let migrator = Migrator::new(db.driver(), set(dir.path())).unwrap();
    let from = Adopt::new(tool);

    // A dry run answers and writes nothing.
    let dry = migrator.adopt_dry_run(&from).await.unwrap();
    assert!(dry.dry_run && !dry.recorded);
    assert_eq!(dry.plan.adopt.len(), written.len(), "{:?}", dry.plan);
    assert!(dry.plan.pending.is_empty(), "{:?}", dry.plan);
    // Nothing is left aside with a warning: goose's first row (version 0, written with its
    // table) and Flyway's schema-creation row are the tools' bookkeeping, not migrations.
    let warnings: Vec<String> = dry.plan.warnings.iter().map(ToString::to_string).collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    for adopted in &dry.plan.adopt {
        let expected = match layout {
            Layout::Sqlx | Layout::Refinery | Layout::Flyway => matches!(adopted.checked, Checked::Verified),
            Layout::Diesel | Layout::Goose => matches!(adopted.checked, Checked::NotKept),
            _ => matches!(adopted.checked, Checked::Covered | Checked::NotKept),
        };
        assert!(expected, "{adopted:?}");
    }
    assert!(!db.table_exists("_migrator_history").await, "a dry run writes nothing");

    // A plain first run beside the tool's history is refused before anything runs again.
    let e = plan_error(migrator.run_with(Phases::All, None).await.unwrap_err());
    assert!(matches!(e, PlanError::ForeignHistoryFound { tool: t, .. } if t == tool.name()), "{e}");
    assert!(e.to_string().contains(&format!("migrator adopt --from {}", tool.name())), "{e}");

    // A file edited since the tool ran it is refused, naming it, by the tools that keep checksums.
    if tool.keeps_checksums() {
        let edited = written.iter().find(|w| w.migration.name == "create_complete_task").unwrap();
        let path = dir.path().join(&edited.up_file);
        std::fs::write(&path, format!("{}-- edited after it ran\n", edited.up_text)).unwrap();
        let e = plan_error(Migrator::new(db.driver(), set(dir.path())).unwrap().adopt(&from).await.unwrap_err());
        assert!(matches!(e, PlanError::ForeignChecksum { .. }), "{e}");
        assert!(e.to_string().contains(&edited.up_file), "{e}");
        std::fs::write(&path, &edited.up_text).unwrap();
    }

    // The adoption records every migration, in the tool's order.
    let adoption = migrator.adopt(&from).await.unwrap();
    assert!(adoption.recorded && !adoption.dry_run);
    let adopted: Vec<i64> = adoption.plan.adopt.iter().map(|a| a.version.get()).collect();
    assert_eq!(adopted, versions);
    let status = migrator.status().await.unwrap();
    assert!(status.migrations.iter().all(|m| m.state.label() == "applied"), "{status:?}");
    assert!(migrator.run_with(Phases::All, None).await.unwrap().is_noop(), "nothing left to apply");

    // The schema is the one migrator builds from its own layout, and so are the rows.
    let (schema, left_out) = without_table(&db.driver().snapshot().await.unwrap(), table);
    assert!(left_out > 0, "the snapshot had {table}");
    let differences = reference.0.diff(&schema);
    assert!(
        differences.is_empty(),
        "{layout}: the adopted schema differs from migrator's:\n{}",
        differences.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(rows(&db).await, reference.1, "the data migrations' rows");

    // The tool's table is left as it was; a migration added in that layout is all `up` applies.
    assert_eq!(db.scalar(&format!("SELECT count(*) FROM {table}")).await, tool_rows);
    let new: Written = history::write_one(layout, dir.path(), written.len() as i64 + 1, &new_migration());
    let migrator = Migrator::new(db.driver(), set(dir.path())).unwrap();
    let report = migrator.run().await.unwrap();
    assert_eq!(report.steps.iter().map(|s| s.version.get()).collect::<Vec<_>>(), [new.version]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM information_schema.columns WHERE column_name = 'estimate_hours'").await,
        1
    );
    let again = migrator.adopt(&from).await.unwrap();
    assert!(!again.recorded && again.plan.pending.is_empty(), "{again:?}");

    // migrator reverts with the layout's down scripts (down to the newest migration without
    // one) and applies its up scripts again: the same schema and rows come back. refinery
    // keeps no down scripts: reverting is refused.
    if layout == Layout::Refinery {
        let e = migrator.down(1).await.unwrap_err();
        assert!(e.to_string().contains("irreversible"), "{e}");
    } else {
        let newest_irreversible = named
            .migrations
            .iter()
            .filter(|m| m.migration.down_script().is_none())
            .map(|m| meta(&m.migration).version().get())
            .max()
            .unwrap();
        let reverted = migrator.down_to(newest_irreversible).await.unwrap();
        assert!(reverted.steps.len() >= 10, "{} reverted", reverted.steps.len());
        let reapplied = migrator.run_with(Phases::All, None).await.unwrap();
        assert_eq!(reapplied.steps.len(), reverted.steps.len());
        let (schema, _) = without_table(&db.driver().snapshot().await.unwrap(), table);
        let differences: Vec<String> = reference.0.diff(&schema).iter().map(ToString::to_string).collect();
        assert_eq!(differences.len(), 1, "{layout}: after down and up again:\n{}", differences.join("\n"));
        assert!(differences[0].contains("tasks.estimate_hours"), "{differences:?}");
        assert_eq!(rows(&db).await, reference.1, "the rows after down and up again");
    }
    db.cleanup().await;
    eprintln!("{layout}: {} migrations applied by the tool and adopted in {:?}", written.len(), started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_the_realistic_history_from_sqlx() {
    adopts_the_realistic_history(Layout::Sqlx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_the_realistic_history_from_diesel() {
    adopts_the_realistic_history(Layout::Diesel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_the_realistic_history_from_refinery() {
    adopts_the_realistic_history(Layout::Refinery).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_the_realistic_history_from_flyway() {
    adopts_the_realistic_history(Layout::Flyway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_the_realistic_history_from_golang_migrate() {
    adopts_the_realistic_history(Layout::GolangMigrate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_the_realistic_history_from_goose() {
    adopts_the_realistic_history(Layout::Goose).await;
}
