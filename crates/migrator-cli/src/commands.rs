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
    Adopt, Adoption, Checked, Dialect, Direction, Error, Lease, LockRetry, LockStrategy, MigrationSet, MigrationSets,
    Migrator, Mode, Phase, Phases, Report, Status,
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
    if let Some(retry) = options.retry {
        builder = builder.lock_retry(LockRetry::new(retry.lock_retries.saturating_add(1), retry.lock_retry_window));
    }
    if let Some(policy) = options.policy {
        builder = builder.allow_out_of_order(policy.allow_out_of_order).ignore_unknown(policy.ignore_unknown);
    }
    if options.ignore_foreign_history {
        builder = builder.ignore_foreign_history(true);
    }
    if options.grouped {
        builder = builder.grouped(true);
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
        Command::Plan { to, phase, format, explain, .. } => {
            print_plan(&migrator, phase.phases(), *to, *format, *explain).await?;
        }
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
        Command::Adopt { from, from_table, from_schema, accept_changed, dry_run, format, .. } => {
            let mut adopt = Adopt::new(*from).accept_changed_files(*accept_changed);
            if let Some(table) = from_table {
                adopt = adopt.table(table);
            }
            if let Some(schema) = from_schema {
                adopt = adopt.schema(schema);
            }
            let adoption = if *dry_run {
                migrator.adopt_dry_run(&adopt).await?
            } else {
                interruptible(progress, migrator.adopt(&adopt)).await?
            };
            match format {
                Format::Json => println!("{}", crate::output::json(&adoption_json(&adoption))?),
                Format::Human => print_adoption(&adoption, out),
            }
        }
        Command::New { .. } | Command::Lint(_) | Command::Squash { .. } | Command::Rehearse { .. } => {
            anyhow::bail!("`new`, `lint`, `squash` and `rehearse` do not work on the database URL itself")
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `up` and `status` with `--set`: several migration sets, each with its own directory,
/// history table and lock, run (or shown) in the order given.
pub(crate) async fn run_sets<D>(
    driver: D,
    dialect: Dialect,
    options: DbOptions<'_>,
    command: &Command,
    progress: &Arc<Progress>,
) -> anyhow::Result<ExitCode>
where
    D: Driver + Clone + 'static,
    D::Conn: 'static,
{
    if options.database.table.is_some() {
        return Err(Usage(
            "--table names one history table; with --set, each set names its own (NAME=DIR:TABLE)".to_owned(),
        )
        .into());
    }
    let mut sets = MigrationSets::<D>::new();
    for set in options.sets {
        let database = crate::cli::Database { table: set.table.clone(), ..options.database.clone() };
        let migrator =
            migrator(driver.clone(), dialect, DbOptions { source: &set.dir, database: &database, ..options })?;
        sets = sets.then(&set.name, migrator).map_err(|e| Usage(e.to_string()))?;
    }
    let table = |name: &str| sets.sets().find(|(n, _)| *n == name).map(|(_, m)| m.options().table.to_string());
    match command {
        Command::Up { to: Some(_), .. } => {
            return Err(Usage("--to names a version of one set; with --set, run `up` to the end".to_owned()).into());
        }
        Command::Up { phase, .. } => {
            let started = Instant::now();
            let reports = interruptible(progress, sets.run_with(phase.phases())).await?;
            progress.finish();
            for (name, report) in &reports {
                let n = report.steps.len();
                let line = if n == 0 {
                    "nothing to do: up to date".to_owned()
                } else {
                    format!("applied {n} migration{}", plural(n))
                };
                println!("set {}: {line}", clean_line(name));
                print_notes(report);
            }
            println!("{} set{} in {}", reports.len(), plural(reports.len()), human(started.elapsed()));
        }
        Command::Status { format, .. } => {
            let statuses = sets.status().await?;
            match format {
                Format::Json => {
                    let sets: Vec<SetStatusJson> = statuses
                        .iter()
                        .map(|(name, status)| SetStatusJson {
                            name: name.clone(),
                            table: table(name).unwrap_or_default(),
                            status: status_json(status),
                        })
                        .collect();
                    println!("{}", crate::output::json(&SetsJson { sets })?);
                }
                Format::Human => {
                    for (i, (name, status)) in statuses.iter().enumerate() {
                        if i > 0 {
                            println!();
                        }
                        println!(
                            "set {} ({})",
                            Style::stdout().bold(&clean_line(name)),
                            clean_line(&table(name).unwrap_or_default())
                        );
                        print_status(status, Style::stdout());
                    }
                }
            }
        }
        _ => return Err(Usage("--set works with `up` and `status`".to_owned()).into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `status --set … --format json`.
#[derive(Debug, Serialize)]
struct SetsJson {
    sets: Vec<SetStatusJson>,
}

/// One set in `status --set … --format json`: its name, history table, and status.
#[derive(Debug, Serialize)]
struct SetStatusJson {
    name: String,
    table: String,
    #[serde(flatten)]
    status: StatusJson,
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
             see `migrator status`, then `migrator resume`. A backfill keeps its committed batches and is not \
             recorded yet: the next `migrator up` resumes it after its last committed batch",
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
pub(crate) async fn shutdown_signal() -> &'static str {
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
pub(crate) async fn shutdown_signal() -> &'static str {
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
    for step in &report.steps {
        let notes = step.notes();
        if !notes.is_empty() {
            println!("  {} {}: {}", step.version, clean_line(&step.name), clean(&notes.join("; ")));
        }
    }
    if !report.repeatables.is_empty() {
        let names: Vec<String> = report.repeatables.iter().map(|r| clean_line(&r.name)).collect();
        let n = names.len();
        println!("applied {n} repeatable migration{}: {}", plural(n), names.join(", "));
    }
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

/// `adopt`: each migration recorded (or, in a dry run, to record) with how its file was
/// checked, then those recorded already and those `up` applies; warnings on stderr.
fn print_adoption(adoption: &Adoption, out: Style) {
    let plan = &adoption.plan;
    let tool = plan.tool;
    let n = plan.adopt.len();
    if n == 0 {
        println!(
            "nothing to adopt from {tool} ({}): {}",
            clean_line(&plan.table),
            if plan.already.is_empty() {
                "it records no applied migration".to_owned()
            } else {
                format!(
                    "the {} migration{} it applied are recorded already",
                    plan.already.len(),
                    plural(plan.already.len())
                )
            }
        );
    } else if adoption.dry_run {
        println!(
            "would adopt {n} migration{} from {tool} ({}); nothing was written (dry run):",
            plural(n),
            clean_line(&plan.table)
        );
    } else {
        println!("adopted {n} migration{} from {tool} ({}), in one transaction:", plural(n), clean_line(&plan.table));
    }
    for a in &plan.adopt {
        println!(
            "  {} {}  {}",
            out.bold(&a.version.to_string()),
            clean_line(&a.name),
            out.dim(&format!("{tool} version {}, {}", clean_line(&a.tool_version), checked_text(&a.checked)))
        );
    }
    if n > 0 && !plan.already.is_empty() {
        println!("recorded already: {}", list(&plan.already));
    }
    if !plan.pending.is_empty() {
        println!("not applied by {tool}, `up` applies: {}", list(&plan.pending));
    }
    let err = Style::stderr();
    for a in &plan.adopt {
        if let Checked::Changed { recorded, current } = &a.checked {
            eprintln!(
                "{} {} {} ({}) changed since {tool} applied it ({} -> {}): adopted as it is now, as asked",
                err.yellow("warning:"),
                a.version,
                clean_line(&a.name),
                clean_line(&a.origin),
                clean_line(recorded),
                clean_line(current)
            );
        }
    }
    for warning in &plan.warnings {
        eprintln!("{} {}", err.yellow("warning:"), clean(&warning.to_string()));
    }
}

fn checked_text(checked: &Checked) -> String {
    match checked {
        Checked::Verified => "checksum verified".to_owned(),
        Checked::NotKept => "no checksum kept".to_owned(),
        Checked::Covered => "at or below its recorded version".to_owned(),
        Checked::Changed { .. } => "file changed since (accepted)".to_owned(),
        Checked::Unchecked { reason } => format!("not checked (accepted): {}", clean_line(reason)),
        _ => "checked".to_owned(),
    }
}

fn list(versions: &[migrator_core::Version]) -> String {
    versions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// `adopt --format json`.
#[derive(Debug, Serialize)]
struct AdoptionJson {
    tool: &'static str,
    table: String,
    dry_run: bool,
    /// Whether history rows were written.
    recorded: bool,
    adopted: Vec<AdoptedJson>,
    /// Versions the tool applied that migrator's history records already.
    already: Vec<i64>,
    /// Versions the tool never applied (`up` applies them).
    pending: Vec<i64>,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct AdoptedJson {
    version: i64,
    name: String,
    file: String,
    tool_version: String,
    /// `verified`, `not_kept`, `covered`, `changed`, `unchecked`.
    checked: &'static str,
    rank: i64,
    note: String,
}

fn adoption_json(adoption: &Adoption) -> AdoptionJson {
    let plan = &adoption.plan;
    AdoptionJson {
        tool: plan.tool.name(),
        table: plan.table.clone(),
        dry_run: adoption.dry_run,
        recorded: adoption.recorded,
        adopted: plan
            .adopt
            .iter()
            .map(|a| AdoptedJson {
                version: a.version.get(),
                name: a.name.clone(),
                file: a.origin.clone(),
                tool_version: a.tool_version.clone(),
                checked: match a.checked {
                    Checked::Verified => "verified",
                    Checked::NotKept => "not_kept",
                    Checked::Covered => "covered",
                    Checked::Changed { .. } => "changed",
                    _ => "unchecked",
                },
                rank: a.rank,
                note: a.note.clone(),
            })
            .collect(),
        already: plan.already.iter().map(|v| v.get()).collect(),
        pending: plan.pending.iter().map(|v| v.get()).collect(),
        warnings: plan.warnings.iter().map(ToString::to_string).collect(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One migration in `status --format json`.
#[derive(Debug, Serialize)]
struct StatusJson {
    migrations: Vec<MigrationJson>,
    repeatables: Vec<RepeatableJson>,
}

/// One repeatable migration in `status --format json`.
#[derive(Debug, Serialize)]
struct RepeatableJson {
    name: String,
    /// `pending`, `applied`, `changed` (the next run applies it again), `unknown` (in the
    /// history, not in the directory).
    state: &'static str,
    applied_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct MigrationJson {
    version: i64,
    name: String,
    phase: &'static str,
    /// `pending`, `applied`, `changed` (applied, file edited since), `failed`, `interrupted`,
    /// `running` (in progress in another process holding the lock), `unknown` (applied, not
    /// in the directory), `blocked` (a squash migration the history does not fit; see
    /// `problem`).
    state: &'static str,
    applied_at: Option<String>,
    duration_ms: Option<u64>,
    applied_by: Option<String>,
    note: Option<String>,
    failed_statement: Option<FailedJson>,
    /// For a `blocked` migration: what is wrong and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
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
                problem: match &m.state {
                    MigrationState::Blocked(problem) => Some(problem.to_string()),
                    _ => None,
                },
                running: match &m.state {
                    MigrationState::Running { statement, total, holder, .. } => {
                        Some(RunningJson { statement: *statement, total: *total, lock_holder: holder.clone() })
                    }
                    _ => None,
                },
            })
            .collect(),
        repeatables: status
            .repeatables
            .iter()
            .map(|r| RepeatableJson {
                name: r.name.clone(),
                state: r.state.label(),
                applied_at: r.applied_at.map(rfc3339),
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
    let preset = if out_is_terminal() { presets::UTF8_BORDERS_ONLY } else { presets::ASCII_BORDERS_ONLY_CONDENSED };
    if status.migrations.is_empty() {
        println!("no versioned migrations in the directory and none applied");
        print_repeatables(status, preset);
        return;
    }
    let mut table = Table::new();
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
    for label in ["applied", "pending", "running", "changed", "failed", "interrupted", "unknown", "blocked"] {
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
            MigrationState::Dirty(problem) | MigrationState::Blocked(problem) => {
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
    print_repeatables(status, preset);
}

/// The repeatable migrations' table, after the versioned ones.
fn print_repeatables(status: &Status, preset: &str) {
    if status.repeatables.is_empty() {
        return;
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(preset);
    table.set_header(["repeatable", "state", "last applied (UTC)"]);
    for r in &status.repeatables {
        table.add_row([
            clean_line(&r.name),
            r.state.label().to_owned(),
            r.applied_at.map(short_time).unwrap_or_default(),
        ]);
    }
    println!("\n{table}");
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
    /// With `--explain`: each statement's lock, costs and table size.
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<Vec<crate::explain::ExplainJson>>,
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
async fn print_plan<D>(
    migrator: &Migrator<D>,
    phases: Phases,
    to: Option<i64>,
    format: Format,
    explain: bool,
) -> anyhow::Result<()>
where
    D: Driver + 'static,
    D::Conn: 'static,
{
    let plan = migrator.plan_with(phases, to).await?;
    let capabilities = migrator.driver().capabilities();
    // With --explain: each pending migration's statements, in plan order.
    let mut explained = Vec::new();
    if explain {
        for planned in &plan.apply {
            let m = migrator.migrations().get(planned.version);
            explained.push(match m {
                Some(m) => crate::explain::statements(m)?,
                None => Vec::new(),
            });
        }
        crate::explain::add_sizes(migrator.driver(), &mut explained).await?;
    }
    if format == Format::Json {
        let json = PlanJson {
            plan: plan
                .apply
                .iter()
                .enumerate()
                .map(|(i, planned)| {
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
                        explain: explain
                            .then(|| explained.get(i).map(|e| e.iter().map(Into::into).collect()).unwrap_or_default()),
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
    for (i, planned) in plan.apply.iter().enumerate() {
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
        for e in explained.get(i).into_iter().flatten() {
            println!("-- {}", clean_line(&crate::explain::human(e)));
        }
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
