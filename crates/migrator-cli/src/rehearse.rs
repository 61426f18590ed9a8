//! `migrator rehearse`: the pending migrations applied on a scratch database of the server
//! the URL names, on generated rows, under a workload (core's `Migrator::rehearse`; the
//! drivers measure, `plan::judge` decides). This module picks the scratch database, prints
//! the report and always drops the scratch database again.
//!
//! Which migrations: those `up` would apply to the URL's database when it has a history
//! (from the oldest pending one on), else those newer than `--from`, else the newest one
//! (`plan::rehearsal_start`).

use std::future::Future;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use migrator_core::plan::{Thresholds, rehearsal_start};
use migrator_core::rehearse::{Rehearsal, Rehearse, RehearseOptions};
use migrator_core::{MigrationSet, Migrator, Phases, Version};
use serde::Serialize;

use crate::cli::{DbOptions, Format};
use crate::output::{Style, clean_line};
use crate::url::{Backend, DatabaseUrl};
use crate::usage::Usage;

/// What `rehearse` was asked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RehearseArgs {
    pub(crate) rows: u64,
    pub(crate) max_stall: Duration,
    pub(crate) no_rewrite: bool,
    pub(crate) from: Option<i64>,
    pub(crate) format: Format,
}

pub(crate) async fn run(url: &DatabaseUrl, options: DbOptions<'_>, args: &RehearseArgs) -> anyhow::Result<ExitCode> {
    let invalid =
        |e: sqlx::Error| Usage(format!("invalid database URL {}: {}", url.redacted(), url.scrub(&e.to_string())));
    let name = scratch_name();
    let rehearsal = match url.backend() {
        Backend::Postgres => {
            let server = sqlx::postgres::PgConnectOptions::from_str(url.expose()).map_err(invalid)?;
            let scratch = server.clone().database(&name);
            let verbs = |verb: &str| match verb {
                "DROP" => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                _ => format!("CREATE DATABASE \"{name}\""),
            };
            on_server::<sqlx::Postgres, migrator_postgres::PgDriver>(url, &name, server, scratch, verbs, options, args)
                .await
        }
        Backend::MySql => {
            let server = sqlx::mysql::MySqlConnectOptions::from_str(url.expose()).map_err(invalid)?;
            let scratch = server.clone().database(&name);
            let verbs = |verb: &str| match verb {
                "DROP" => format!("DROP DATABASE IF EXISTS `{name}`"),
                _ => format!("CREATE DATABASE `{name}`"),
            };
            on_server::<sqlx::MySql, migrator_mysql::MySqlDriver>(url, &name, server, scratch, verbs, options, args)
                .await
        }
        Backend::Sqlite => {
            return Err(Usage(
                "rehearse needs a PostgreSQL or MySQL/MariaDB server, where it creates a scratch database: SQLite has \
                 one writer, so every migration blocks every write anyway"
                    .to_owned(),
            )
            .into());
        }
    }?;
    match args.format {
        Format::Json => println!("{}", crate::output::json(&RehearsalJson::from(&rehearsal))?),
        Format::Human => print_human(&rehearsal, args),
    }
    Ok(if rehearsal.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The rehearsal on the server `server` connects to: where to start from its database's
/// history, then the rehearsal in the scratch database `name` (`scratch` connects to it;
/// `sql` gives the statements creating and dropping it).
async fn on_server<DB, D>(
    url: &DatabaseUrl,
    name: &str,
    server: <DB::Connection as sqlx::Connection>::Options,
    scratch: <DB::Connection as sqlx::Connection>::Options,
    sql: impl Fn(&str) -> String,
    options: DbOptions<'_>,
    args: &RehearseArgs,
) -> anyhow::Result<Rehearsal>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    D: Rehearse + for<'p> From<&'p sqlx::Pool<DB>> + 'static,
    D::Conn: 'static,
{
    let pool = |o| sqlx::pool::PoolOptions::<DB>::new().max_connections(2).connect_lazy_with(o);
    let (target, admin) = (pool(server.clone()), pool(server));
    let start = start(D::from(&target), options, args).await;
    target.close().await;
    let start = start?;
    let scratch = pool(scratch);
    let work = async { rehearse(D::from(&scratch), options, args, start).await };
    in_scratch(url, name, &admin, &scratch, sql, work).await
}

/// A scratch database's name: never one the application uses.
fn scratch_name() -> String {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_micros());
    format!("_migrator_rehearse_{}_{}", std::process::id(), stamp.unwrap_or(0))
}

/// Where to start, from the history of the URL's database (read, never written).
async fn start<D>(driver: D, options: DbOptions<'_>, args: &RehearseArgs) -> anyhow::Result<Option<Version>>
where
    D: migrator_core::driver::Driver + 'static,
    D::Conn: 'static,
{
    let dialect = driver.capabilities().dialect;
    let migrator = crate::commands::migrator(driver, dialect, options)?;
    let versions: Vec<Version> = migrator.migrations().iter().map(|m| m.meta().version()).collect();
    let history = migrator.driver().read_history(&migrator.options().table).await?;
    let first_pending = match &history {
        Some(_) => migrator.plan_with(Phases::All, None).await?.apply.first().map(|p| p.version),
        None => None,
    };
    let from = args.from.map(Version::try_from).transpose()?;
    Ok(rehearsal_start(&versions, history.is_some(), first_pending, from))
}

/// The rehearsal on the scratch database `driver` works on.
async fn rehearse<D>(
    driver: D,
    options: DbOptions<'_>,
    args: &RehearseArgs,
    start: Option<Version>,
) -> anyhow::Result<Rehearsal>
where
    D: Rehearse + 'static,
    D::Conn: 'static,
{
    let dialect = driver.capabilities().dialect;
    let set = MigrationSet::<D::Conn>::from_dir_with(options.source, dialect, options.layout)?;
    let migrator = Migrator::<D>::builder(driver, set).ignore_foreign_history(true).build()?;
    let thresholds = Thresholds { max_stall: args.max_stall, no_rewrite: args.no_rewrite };
    Ok(migrator.rehearse(&RehearseOptions::new(args.rows, start).thresholds(thresholds)).await?)
}

/// Creates the scratch database, runs `work` in it until it ends or a signal arrives, then
/// drops it whatever happened (saying so when it cannot).
async fn in_scratch<DB>(
    url: &DatabaseUrl,
    name: &str,
    admin: &sqlx::Pool<DB>,
    scratch: &sqlx::Pool<DB>,
    sql: impl Fn(&str) -> String,
    work: impl Future<Output = anyhow::Result<Rehearsal>>,
) -> anyhow::Result<Rehearsal>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql("CREATE"))).execute(admin).await {
        admin.close().await;
        anyhow::bail!(
            "cannot create the scratch database {name} on {}: {}; rehearse needs a user that may create databases",
            url.redacted(),
            url.scrub(&e.to_string())
        );
    }
    eprintln!("{} rehearsing on the scratch database {name}, dropped at the end", Style::stderr().dim("note:"));
    let outcome = tokio::select! {
        outcome = work => outcome,
        signal = crate::commands::shutdown_signal() => Err(anyhow::anyhow!("interrupted by {signal}: the rehearsal stopped")),
    };
    scratch.close().await;
    // The workload's connections end with their tasks; a database still in use is dropped
    // by force (PostgreSQL) or after they close.
    let mut dropped = Err(String::new());
    for _ in 0..10 {
        dropped =
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql("DROP"))).execute(admin).await.map(|_| ()).map_err(|e| e.to_string());
        if dropped.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    admin.close().await;
    if let Err(e) = dropped {
        eprintln!(
            "{} could not drop the scratch database {name}: {}; drop it by hand",
            Style::stderr().yellow("warning:"),
            url.scrub(&e)
        );
    }
    outcome
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn print_human(rehearsal: &Rehearsal, args: &RehearseArgs) {
    let out = Style::stdout();
    if rehearsal.migrations.is_empty() {
        println!("nothing to rehearse: no migration is pending");
        return;
    }
    let filled: Vec<String> =
        rehearsal.filled.iter().map(|f| format!("{} ({} rows)", clean_line(&f.table), f.rows)).collect();
    println!(
        "rehearsed {} migration(s) on a scratch database, {} generated rows per table{}",
        rehearsal.migrations.len(),
        args.rows,
        if filled.is_empty() { String::new() } else { format!(": {}", filled.join(", ")) }
    );
    for m in &rehearsal.migrations {
        let x = &m.measured;
        let verdict = match m.judgement.verdict {
            migrator_core::plan::Verdict::Ok => out.green("ok  "),
            migrator_core::plan::Verdict::Over => out.red("over"),
        };
        println!(
            "{verdict} {} {}: {} ms; longest write wait {} ms, read wait {} ms; {} rows{}",
            m.version,
            clean_line(&m.name),
            ms(x.duration),
            ms(x.max_write_stall),
            ms(x.max_read_stall),
            x.rows,
            if x.rewrote.is_empty() {
                String::new()
            } else {
                format!("; rewrote {}", clean_line(&x.rewrote.join(", ")))
            }
        );
        for lock in &x.locks {
            println!("     held {} on {} for {} ms", clean_line(&lock.mode), clean_line(&lock.table), ms(lock.held));
        }
        for reason in &m.judgement.reasons {
            println!("     {} {}", out.red("over:"), clean_line(reason));
        }
        for note in &x.notes {
            println!("     {} {}", out.dim("note:"), clean_line(note));
        }
    }
    let over =
        rehearsal.migrations.iter().filter(|m| m.judgement.verdict == migrator_core::plan::Verdict::Over).count();
    println!(
        "{over} over the thresholds (no write or read waiting over {} ms{})",
        ms(args.max_stall),
        if args.no_rewrite { ", no rewrite" } else { "" }
    );
}

/// `rehearse --format json`.
#[derive(Debug, Serialize)]
struct RehearsalJson {
    migrations: Vec<MigrationJson>,
    filled: Vec<FilledJson>,
    max_stall_ms: u128,
    no_rewrite: bool,
}

#[derive(Debug, Serialize)]
struct FilledJson {
    table: String,
    rows: u64,
}

#[derive(Debug, Serialize)]
struct MigrationJson {
    version: i64,
    name: String,
    duration_ms: u128,
    max_write_stall_ms: u128,
    max_read_stall_ms: u128,
    rewrote: Vec<String>,
    locks: Vec<LockJson>,
    /// Workload statements the lock view showed waiting.
    waiting: Vec<LockJson>,
    rows: u64,
    /// Workload writes and reads that ran during the migration.
    operations: u64,
    tables: Vec<String>,
    verdict: &'static str,
    reasons: Vec<String>,
    /// What the backend could not see.
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct LockJson {
    table: String,
    mode: String,
    held_ms: u128,
}

impl From<&Rehearsal> for RehearsalJson {
    fn from(r: &Rehearsal) -> Self {
        RehearsalJson {
            migrations: r
                .migrations
                .iter()
                .map(|m| {
                    let x = &m.measured;
                    MigrationJson {
                        version: m.version.get(),
                        name: m.name.clone(),
                        duration_ms: ms(x.duration),
                        max_write_stall_ms: ms(x.max_write_stall),
                        max_read_stall_ms: ms(x.max_read_stall),
                        rewrote: x.rewrote.clone(),
                        locks: x
                            .locks
                            .iter()
                            .map(|l| LockJson { table: l.table.clone(), mode: l.mode.clone(), held_ms: ms(l.held) })
                            .collect(),
                        waiting: x
                            .waiting
                            .iter()
                            .map(|w| LockJson { table: w.table.clone(), mode: w.mode.clone(), held_ms: ms(w.seen_for) })
                            .collect(),
                        rows: x.rows,
                        operations: x.operations,
                        tables: m.tables.clone(),
                        verdict: m.judgement.verdict.as_str(),
                        reasons: m.judgement.reasons.clone(),
                        notes: x.notes.clone(),
                    }
                })
                .collect(),
            filled: r.filled.iter().map(|f| FilledJson { table: f.table.clone(), rows: f.rows }).collect(),
            max_stall_ms: ms(r.thresholds.max_stall),
            no_rewrite: r.thresholds.no_rewrite,
        }
    }
}
