//! The commands that need a database, written once over any [`Driver`]: each builds the
//! library's `Migrator` and calls the same method an application would, so the CLI takes the
//! same lock, runs the same planner and the same run loop.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use migrator_core::driver::{Body, Driver};
use migrator_core::plan::{MigrationState, ModeReason, PlanError, SkipReason, Skipped, StatusEntry, Warning};
use migrator_core::text::human;
use migrator_core::{
    Dialect, Direction, Error, Lease, LockStrategy, MigrationSet, Migrator, Mode, Phase, Phases, Report, Status,
};
use serde::Serialize;

use crate::cli::{Command, DbOptions, Format, LockKind};
use crate::output::{Progress, Style, clean, clean_line, rfc3339, short_time};
use crate::usage::Usage;

/// Builds the migrator from the migrations directory and the command's options.
pub(crate) fn migrator<D>(driver: D, dialect: Dialect, options: DbOptions<'_>) -> anyhow::Result<Migrator<D>>
where
    D: Driver + 'static,
    D::Conn: 'static,
{
    let set = MigrationSet::<D::Conn>::from_dir_with(options.source, dialect, options.layout)?;
    let mut builder = Migrator::builder(driver, set);
    if let Some(lock) = options.lock {
        builder = builder.lock_wait(lock.lock_wait);
        if lock.lock_strategy == LockKind::Lease {
            builder = builder.lock_strategy(LockStrategy::Lease(Lease::new(lock.lease_ttl)));
        }
    }
    if let Some(policy) = options.policy {
        builder = builder.allow_out_of_order(policy.allow_out_of_order).ignore_unknown(policy.ignore_unknown);
    }
    if let Some(table) = &options.database.table {
        builder = builder.table(table);
    }
    if let Some(schema) = &options.database.schema {
        builder = builder.schema(schema);
    }
    builder.build().map_err(|e| match e {
        // A table or schema name, or a schema on a database without schemas: the options.
        Error::InvalidOption { .. } | Error::Unsupported { .. } | Error::Misconfigured { .. } => {
            Usage(e.to_string()).into()
        }
        other => other.into(),
    })
}

/// Runs a command that needs the database.
pub(crate) async fn run<D>(
    migrator: Migrator<D>,
    command: &Command,
    progress: &Arc<Progress>,
) -> anyhow::Result<ExitCode>
where
    D: Driver + 'static,
    D::Conn: 'static,
{
    let out = Style::stdout();
    match command {
        Command::Up { to, phase, .. } => {
            let phases = phase.phases();
            if let Ok(plan) = migrator.plan_with(phases, *to).await {
                progress.set_total(plan.apply.len() as u64);
            }
            let started = Instant::now();
            let report = interruptible(progress, migrator.run_with(phases, *to)).await?;
            summary(progress, &report, Direction::Up, started);
        }
        Command::Down { steps, to, all, .. } => {
            let started = Instant::now();
            let report = if *all {
                interruptible(progress, migrator.down_all()).await?
            } else if let Some(to) = to {
                interruptible(progress, migrator.down_to(*to)).await?
            } else {
                interruptible(progress, migrator.down(steps.unwrap_or(1))).await?
            };
            summary(progress, &report, Direction::Down, started);
        }
        Command::Redo { .. } => {
            let started = Instant::now();
            let down = interruptible(progress, migrator.down(1)).await?;
            let Some(step) = down.steps.first() else {
                anyhow::bail!("nothing to redo: no migration is applied");
            };
            let phases = match step.phase {
                Phase::Expand => Phases::Expand,
                Phase::Contract => Phases::Contract,
            };
            let up = interruptible(progress, migrator.run_with(phases, Some(step.version.get()))).await?;
            progress.finish();
            println!("redid {} {} in {}", step.version, clean_line(&step.name), human(started.elapsed()));
            // Newer migrations wait for `up`: only what concerns the redone one is news here.
            let skipped: Vec<Skipped> =
                up.skipped.iter().filter(|s| !matches!(s.reason, SkipReason::AfterTarget { .. })).cloned().collect();
            notes(&skipped, &up.warnings);
        }
        Command::Status { format, .. } => {
            let status = migrator.status().await?;
            match format {
                Format::Json => println!("{}", crate::output::json(&status_json(&status))?),
                Format::Human => print_status(&status, out),
            }
        }
        Command::Validate { .. } => return validate_history(&migrator).await,
        Command::Plan { to, phase, format, .. } => print_plan(&migrator, phase.phases(), *to, *format).await?,
        Command::Resume { skip, .. } => {
            let started = Instant::now();
            let report = if *skip {
                interruptible(progress, migrator.resume_skip()).await?
            } else {
                interruptible(progress, migrator.resume()).await?
            };
            summary(progress, &report, Direction::Up, started);
        }
        Command::Force { migration: version, reverted, .. } => {
            if *reverted {
                interruptible(progress, migrator.force_reverted(*version)).await?;
                println!("removed the history row of migration {version} (nothing was run)");
            } else {
                interruptible(progress, migrator.force(*version)).await?;
                println!("recorded migration {version} as applied (nothing was run)");
            }
        }
        Command::Repair { .. } => {
            let repaired = interruptible(progress, migrator.repair()).await?;
            if repaired.is_empty() {
                println!("nothing to repair: every applied migration matches its file");
            }
            for r in &repaired {
                println!(
                    "re-recorded the checksum of {} {}: {} -> {}",
                    r.version,
                    clean_line(&r.name),
                    clean_line(&r.old),
                    clean_line(&r.new)
                );
            }
        }
        Command::Baseline { migration: version, .. } => {
            let versions = interruptible(progress, migrator.baseline(*version)).await?;
            let list: Vec<String> = versions.iter().map(ToString::to_string).collect();
            println!(
                "baseline {version}: recorded {} migration(s) as applied without running them: {}",
                versions.len(),
                list.join(", ")
            );
        }
        Command::New { .. } | Command::Lint(_) => anyhow::bail!("`new` and `lint` work on files only"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Stopped by SIGINT or SIGTERM.
#[derive(Debug)]
pub(crate) struct Interrupted(&'static str);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted by {}: the run stopped. A transactional migration in progress was rolled back, and the lock \
             goes with the closed connection. A no-transaction migration stopped midway is recorded as interrupted: \
             see `migrator status`, then `migrator resume`",
            self.0
        )
    }
}

impl std::error::Error for Interrupted {}

/// Runs `work` until it ends or a SIGINT/SIGTERM arrives; then drops it, which is what the
/// library's lock guard is for: the session's connection closes, the database rolls back the
/// open transaction and releases the lock.
async fn interruptible<T>(
    progress: &Arc<Progress>,
    work: impl std::future::Future<Output = Result<T, Error>>,
) -> anyhow::Result<T> {
    let reveal = {
        let progress = progress.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            progress.reveal();
        })
    };
    let result = tokio::select! {
        result = work => result.map_err(anyhow::Error::from),
        signal = shutdown_signal() => Err(Interrupted(signal).into()),
    };
    reveal.abort();
    if result.is_err() {
        progress.finish();
    }
    result
}

#[cfg(unix)]
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        _ => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn shutdown_signal() -> &'static str {
    match tokio::signal::ctrl_c().await {
        Ok(()) => "Ctrl-C",
        Err(_) => std::future::pending().await,
    }
}

/// The last lines of a run: the count, what was skipped and why, warnings.
fn summary(progress: &Progress, report: &Report, direction: Direction, started: Instant) {
    progress.finish();
    let n = report.steps.len();
    let line = match (direction, n) {
        (Direction::Up, 0) => "nothing to do: the database is up to date".to_owned(),
        (Direction::Down, 0) => "nothing to revert".to_owned(),
        (Direction::Up, n) => format!("applied {n} migration{} in {}", plural(n), human(started.elapsed())),
        (Direction::Down, n) => format!("reverted {n} migration{} in {}", plural(n), human(started.elapsed())),
    };
    println!("{line}");
    print_notes(report);
}

fn print_notes(report: &Report) {
    notes(&report.skipped, &report.warnings);
}

/// Skipped migrations (why) on stdout, warnings on stderr.
fn notes(skipped: &[Skipped], warnings: &[Warning]) {
    let out = Style::stdout();
    for skipped in skipped {
        println!("{}", out.dim(&clean(&format!("skipped {skipped}"))));
    }
    let err = Style::stderr();
    for warning in warnings {
        eprintln!("{} {}", err.yellow("warning:"), clean(&warning.to_string()));
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One migration in `status --format json`.
#[derive(Debug, Serialize)]
struct StatusJson {
    migrations: Vec<MigrationJson>,
}

#[derive(Debug, Serialize)]
struct MigrationJson {
    version: i64,
    name: String,
    phase: &'static str,
    /// `pending`, `applied`, `changed` (applied, file edited since), `failed`, `interrupted`,
    /// `running` (in progress in another process holding the lock), `unknown` (applied, not
    /// in the directory).
    state: &'static str,
    applied_at: Option<String>,
    duration_ms: Option<u64>,
    applied_by: Option<String>,
    note: Option<String>,
    failed_statement: Option<FailedJson>,
    /// For a `running` migration: the statement it is on and who holds the lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<RunningJson>,
}

#[derive(Debug, Serialize)]
struct RunningJson {
    /// 1-based statement it is on.
    statement: u32,
    /// Statements in its script.
    total: u32,
    /// Who holds the migration lock.
    lock_holder: String,
}

#[derive(Debug, Serialize)]
struct FailedJson {
    /// 1-based statement.
    index: Option<u32>,
    line: Option<u32>,
    /// The database's message (`null` for an interrupted statement).
    error: Option<String>,
    /// What happened and what to do.
    message: String,
}

fn status_json(status: &Status) -> StatusJson {
    StatusJson {
        migrations: status
            .migrations
            .iter()
            .map(|m| MigrationJson {
                version: m.version.get(),
                name: m.name.clone(),
                phase: m.phase.as_str(),
                state: m.state.label(),
                applied_at: m.applied_at.filter(|_| m.state != MigrationState::Pending).map(rfc3339),
                duration_ms: m.execution_time.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                applied_by: m.applied_by.clone(),
                note: m.note.clone(),
                failed_statement: failed(m),
                running: match &m.state {
                    MigrationState::Running { statement, total, holder, .. } => {
                        Some(RunningJson { statement: *statement, total: *total, lock_holder: holder.clone() })
                    }
                    _ => None,
                },
            })
            .collect(),
    }
}

fn failed(entry: &StatusEntry) -> Option<FailedJson> {
    match &entry.state {
        MigrationState::Dirty(problem @ PlanError::Failed { statement, line, error, .. }) => Some(FailedJson {
            index: *statement,
            line: *line,
            error: Some(error.clone()),
            message: problem.to_string(),
        }),
        MigrationState::Dirty(problem @ PlanError::Interrupted { statement, line, .. }) => {
            Some(FailedJson { index: Some(*statement), line: *line, error: None, message: problem.to_string() })
        }
        _ => None,
    }
}

fn print_status(status: &Status, out: Style) {
    use comfy_table::{Table, presets};
    if status.migrations.is_empty() {
        println!("no migrations in the directory and none applied");
        return;
    }
    let mut table = Table::new();
    let preset = if out_is_terminal() { presets::UTF8_BORDERS_ONLY } else { presets::ASCII_BORDERS_ONLY_CONDENSED };
    table.load_preset(preset);
    table.set_header(["version", "name", "phase", "state", "applied at (UTC)", "took", "by / note"]);
    for m in &status.migrations {
        let applied = m.state != MigrationState::Pending;
        let by = match (&m.note, &m.applied_by) {
            (Some(note), _) => clean_line(note),
            (None, Some(by)) if applied => clean_line(by),
            _ => String::new(),
        };
        table.add_row([
            m.version.to_string(),
            clean_line(&m.name),
            m.phase.to_string(),
            m.state.label().to_owned(),
            m.applied_at.filter(|_| applied).map(short_time).unwrap_or_default(),
            m.execution_time.map(human).unwrap_or_default(),
            by,
        ]);
    }
    println!("{table}");
    let count = |label: &str| status.migrations.iter().filter(|m| m.state.label() == label).count();
    let mut parts = Vec::new();
    for label in ["applied", "pending", "running", "changed", "failed", "interrupted", "unknown"] {
        let n = count(label);
        if n > 0 {
            let text = format!("{n} {label}");
            parts.push(match label {
                "applied" => out.green(&text),
                "pending" | "running" => out.yellow(&text),
                _ => out.red(&text),
            });
        }
    }
    println!("{}", parts.join(", "));
    if !status.history_exists {
        println!("(no history table yet: nothing has been applied)");
    }
    for m in &status.migrations {
        match &m.state {
            MigrationState::Dirty(problem) => {
                println!("\n{} {}", out.red(m.state.label()), clean(&problem.to_string()));
            }
            MigrationState::Running { direction, statement, total, holder } => println!(
                "\n{} {} {} is {} in another process, on statement {statement} of {total}; it holds the migration \
                 lock: {holder}",
                out.yellow("running"),
                m.version,
                clean_line(&m.name),
                if *direction == migrator_core::Direction::Down { "being reverted" } else { "being applied" },
                holder = clean_line(holder),
            ),
            MigrationState::ChecksumMismatch { problem, .. } => {
                println!("\n{} {}", out.red("changed"), clean(&problem.to_string()));
            }
            _ => {}
        }
    }
}

fn out_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// `validate` with a database: the history against the files.
async fn validate_history<D>(migrator: &Migrator<D>) -> anyhow::Result<ExitCode>
where
    D: Driver + 'static,
    D::Conn: 'static,
{
    let validation = migrator.validate().await?;
    let err = Style::stderr();
    for warning in &validation.warnings {
        eprintln!("{} {}", err.yellow("warning:"), clean(&warning.to_string()));
    }
    if validation.problems.is_empty() {
        println!("the history matches the {} migration(s) of the directory", migrator.migrations().len());
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &validation.problems {
        eprintln!("{} {}", err.red("error:"), clean(&problem.to_string()));
    }
    eprintln!("{} problem{} in the history", validation.problems.len(), plural(validation.problems.len()));
    Ok(ExitCode::FAILURE)
}

/// `plan --format json`.
#[derive(Debug, Serialize)]
struct PlanJson {
    plan: Vec<PlannedJson>,
    skipped: Vec<SkippedJson>,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct PlannedJson {
    version: i64,
    name: String,
    phase: &'static str,
    /// `transaction` (all or nothing) or `stepwise` (statement by statement, resumable).
    mode: &'static str,
    /// Statements in its up script (`null` for a migration in Rust).
    statements: Option<usize>,
    out_of_order: bool,
}

#[derive(Debug, Serialize)]
struct SkippedJson {
    version: i64,
    name: String,
    /// `phase-not-selected`, `after-target` or `done-elsewhere`.
    reason: &'static str,
}

fn skip_reason(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::PhaseNotSelected { .. } => "phase-not-selected",
        SkipReason::AfterTarget { .. } => "after-target",
        SkipReason::DoneElsewhere { .. } => "done-elsewhere",
    }
}

/// `plan`: what `up` would apply, SQL included (or, as JSON, how each runs).
async fn print_plan<D>(migrator: &Migrator<D>, phases: Phases, to: Option<i64>, format: Format) -> anyhow::Result<()>
where
    D: Driver + 'static,
    D::Conn: 'static,
{
    let plan = migrator.plan_with(phases, to).await?;
    let capabilities = migrator.driver().capabilities();
    if format == Format::Json {
        let json = PlanJson {
            plan: plan
                .apply
                .iter()
                .map(|planned| {
                    let step = migrator.up_plan(planned.version.get())?;
                    let rust = migrator
                        .migrations()
                        .get(planned.version)
                        .is_some_and(|m| matches!(m.up().body, Body::Rust(_)));
                    Ok(PlannedJson {
                        version: planned.version.get(),
                        name: planned.name.clone(),
                        phase: planned.phase.as_str(),
                        mode: match step.mode {
                            Mode::Transactional => "transaction",
                            Mode::Stepwise => "stepwise",
                        },
                        statements: (!rust).then_some(step.statements),
                        out_of_order: planned.out_of_order,
                    })
                })
                .collect::<Result<_, Error>>()?,
            skipped: plan
                .skipped
                .iter()
                .map(|s| SkippedJson { version: s.version.get(), name: s.name.clone(), reason: skip_reason(s.reason) })
                .collect(),
            warnings: plan.warnings.iter().map(ToString::to_string).collect(),
        };
        println!("{}", crate::output::json(&json)?);
        return Ok(());
    }
    let out = Style::stdout();
    let dialect = capabilities.dialect;
    if plan.apply.is_empty() {
        println!("nothing to apply: the database is up to date");
    }
    for planned in &plan.apply {
        let Some(m) = migrator.migrations().get(planned.version) else { continue };
        let up = m.up();
        let step = migrator.up_plan(planned.version.get())?;
        let n = step.statements;
        let mode = match (step.reason, up.body) {
            (_, Body::Rust(_)) => "Rust code".to_owned(),
            (ModeReason::NoTransaction, _) => format!("no-transaction: {n} statement(s), one at a time"),
            (ModeReason::ImplicitCommit, _) => {
                format!("statement by statement: {n} statement(s), {} commits DDL on its own", dialect.name())
            }
            _ => format!("one transaction: {n} statement(s)"),
        };
        let late = if planned.out_of_order { ", out of order" } else { "" };
        let heading = format!("-- {} {} ({}, {mode}{late})", planned.version, planned.name, planned.phase);
        println!("{}", out.bold(&clean_line(&heading)));
        match up.body {
            Body::Sql(script) => {
                println!("-- {}", clean_line(script.path()));
                println!("{}", crate::text::escape_keeping_layout(script.text().trim_end()));
            }
            Body::Rust(_) => {
                println!("-- {} (its code is compiled into the application)", clean_line(m.meta().origin()));
            }
        }
        println!();
    }
    notes(&plan.skipped, &plan.warnings);
    Ok(())
}
