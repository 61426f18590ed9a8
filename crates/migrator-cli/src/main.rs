//! `migrator`: the command line of **migrator**, for development and CI beside applications
//! that migrate themselves at startup.
//!
//! ```text
//! cargo install --path crates/migrator-cli
//! mkdir -p migrations                               # `new` creates files, not the directory
//! migrator new "create users"                       # migrations/20261120093000_create_users.{up,down}.sql
//! DATABASE_URL=sqlite://app.db migrator up          # apply, one line per migration
//! migrator status --format json                     # every migration and its state
//! migrator lint --dialect postgres --format github  # annotations in a CI job
//! ```
//!
//! Each database command builds the library's `Migrator` for the backend the URL's scheme
//! names and calls the method an application would (`run_with`, `down`, `status`, …): the same
//! lock, the same planner, the same run loop. Exit codes: 0 success; 1 failure, or lint found
//! deny/fatal findings; 2 usage error (clap's own, and a missing or unusable URL, option or
//! name). Errors are one message, never a panic or a backtrace; URLs are shown without their
//! password.

mod cli;
mod commands;
mod connect;
mod explain;
mod lint;
mod new;
mod output;
mod rehearse;
mod squash;
mod tenants;
mod text;
mod url;
mod usage;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use migrator_core::Dialect;
use tracing_subscriber::prelude::*;

use crate::cli::{Cli, Command, DbOptions};
use crate::connect::{Access, Target, connect};
use crate::output::{Progress, ProgressLayer, Style};
use crate::url::DatabaseUrl;
use crate::usage::Usage;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::parse_from(args.iter().cloned()) {
        Ok(cli) => cli,
        Err(e) => return usage_failure(&e, &args),
    };
    // Every URL-shaped argument and DATABASE_URL, parsed or not: their secrets never print.
    let env_url = std::env::var_os("DATABASE_URL").map(|url| url.to_string_lossy().into_owned());
    let texts: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).chain(env_url).collect();
    let mut secrets = url::argument_secrets(texts.iter().map(String::as_str));
    let given = cli.command.db_options().and_then(|options| options.database.database_url.as_deref());
    let url = given.filter(|u| !u.trim().is_empty()).map(DatabaseUrl::parse).transpose();
    if let Ok(Some(url)) = &url {
        secrets.extend(url.secrets());
    }
    output::protect(secrets);
    let url = match url {
        Ok(url) => url,
        Err(e) => return fail(&e.into()),
    };
    if let Some(url) = &url {
        for name in url.unknown_parameters() {
            eprintln!(
                "{} the database URL parameter {} is ignored: sqlx, which connects, does not know it",
                Style::stderr().yellow("warning:"),
                output::clean_line(name)
            );
        }
    }
    let progress = Progress::new();
    init_tracing(&progress);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    let outcome = runtime.block_on(run(&cli, url.as_ref(), &progress));
    // Nothing may keep the process alive after an interrupt: a statement still running in
    // SQLite's worker thread, or a connection being closed, does not matter any more.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match outcome {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

/// Prints clap's message: `--help` and `--version` succeed, usage errors exit with 2. The
/// message may quote an argument, which may be a URL with its password (`migrator status
/// postgres://u:pw@h/db`): it is masked like any other text.
fn usage_failure(error: &clap::Error, args: &[std::ffi::OsString]) -> ExitCode {
    let code = ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
    if !error.use_stderr() {
        let _ = error.print();
        return code;
    }
    // The command line has no styles (see `Cli`), so the only control characters are those of
    // a quoted argument, escaped like any other text from outside (clap's plain rendering
    // would drop them, showing `''`).
    let text = error.render().ansi().to_string();
    let args: Vec<std::borrow::Cow<'_, str>> = args.iter().map(|a| a.to_string_lossy()).collect();
    let secrets = url::argument_secrets(args.iter().map(|a| a.as_ref()));
    eprint!("{}", text::escape_keeping_lines(&secrets.scrub(&text)));
    code
}

/// Prints the error as one message and picks the exit code.
fn fail(error: &anyhow::Error) -> ExitCode {
    let text = output::clean(&message(error));
    eprintln!("{} {text}", Style::stderr().red("error:"));
    if error.downcast_ref::<Usage>().is_some() { ExitCode::from(2) } else { ExitCode::FAILURE }
}

/// The error and its sources, each distinct message once: a source whose text the message so
/// far already holds is skipped (migrator's errors quote their driver error, which quotes
/// sqlx's, which quotes the server's). The walk stops at a sqlx database error: the driver's
/// message above it already carries the server's message, detail, hint and code, and sqlx's
/// text adds only a prefix and, on PostgreSQL, the position in the server's C source ("at line
/// 869"), which means nothing to the operator.
fn message(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for source in error.chain().skip(1) {
        if let Some(sqlx::Error::Database(db)) = source.downcast_ref::<sqlx::Error>() {
            if !text.contains(db.message()) {
                text.push_str(": ");
                text.push_str(db.message());
                if let Some(code) = db.code() {
                    text.push_str(&format!(" [{code}]"));
                }
            }
            break;
        }
        let next = source.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
    }
    text
}

/// The runner's events drive the progress output; `RUST_LOG` adds a log on stderr.
fn init_tracing(progress: &Arc<Progress>) {
    let log = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()).map(|_| {
        tracing_subscriber::fmt::layer()
            .with_writer(output::LogWriter)
            .with_ansi(false)
            .with_filter(tracing_subscriber::EnvFilter::from_default_env())
    });
    let _ = tracing_subscriber::registry().with(ProgressLayer { progress: progress.clone() }).with(log).try_init();
}

/// The URL a database command needs.
fn required(url: Option<&DatabaseUrl>) -> anyhow::Result<&DatabaseUrl> {
    url.ok_or_else(|| {
        Usage(
            "no database URL: pass --database-url or set DATABASE_URL (postgres://user@host/db, \
             mysql://user@host/db or sqlite://app.db)"
                .to_owned(),
        )
        .into()
    })
}

async fn run(cli: &Cli, url: Option<&DatabaseUrl>, progress: &Arc<Progress>) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::New { name, sequential, source } => {
            let (up, down) = new::run(&source.source, source.layout(), name, *sequential)?;
            println!("created {}", output::clean_line(&up.display().to_string()));
            println!("created {}", output::clean_line(&down.display().to_string()));
            return Ok(ExitCode::SUCCESS);
        }
        Command::Lint(args) => {
            // No URL option: the scheme of DATABASE_URL, if set, may say the dialect.
            let dialect = match (args.dialect, url::env_backend()) {
                (Some(dialect), _) => dialect.dialect(),
                (None, Some(backend)) => backend.dialect(),
                (None, None) => return Err(no_dialect("lint")),
            };
            let dir = args.dir.as_ref().unwrap_or(&args.source.source);
            return lint::run(args, dir, dialect);
        }
        Command::Squash { to, name, scratch_url, dialect, dry_run, source } => {
            let scratch = scratch_url.as_deref().map(DatabaseUrl::parse).transpose()?;
            let dialect = match (dialect, &scratch, url::env_backend()) {
                (Some(dialect), _, _) => dialect.dialect(),
                (None, Some(scratch), _) => scratch.backend().dialect(),
                (None, None, Some(backend)) => backend.dialect(),
                (None, None, None) => Dialect::Sqlite,
            };
            let args = squash::SquashArgs {
                source: &source.source,
                layout: source.layout(),
                to: *to,
                name,
                dialect,
                scratch: scratch.as_ref(),
                dry_run: *dry_run,
            };
            progress.mute();
            squash::run(&args).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Validate { dialect, source, .. } => {
            let dialect = match (dialect, url) {
                (Some(dialect), _) => dialect.dialect(),
                (None, Some(url)) => url.backend().dialect(),
                (None, None) => return Err(no_dialect("validate")),
            };
            if let Some(url) = url
                && dialect != url.backend().dialect()
            {
                return Err(Usage(format!(
                    "--dialect {} does not match the database URL, which is {}",
                    dialect.id(),
                    url.backend().dialect().name()
                ))
                .into());
            }
            let problems = lint::validate_files(&source.source, source.layout(), dialect);
            if problems > 0 {
                eprintln!("{problems} problem{} in the migration files", if problems == 1 { "" } else { "s" });
                return Ok(ExitCode::FAILURE);
            }
            if url.is_none() {
                return Ok(ExitCode::SUCCESS);
            }
        }
        _ => {}
    }
    let Some(options) = cli.command.db_options() else {
        anyhow::bail!("`new` and `lint` work on files only");
    };
    let url = required(url)?;
    let dialect = url.backend().dialect();
    // The files first: a malformed directory fails before anything is opened or created.
    let dirs: Vec<&std::path::Path> = if options.sets.is_empty() {
        vec![options.source]
    } else {
        options.sets.iter().map(|set| set.dir.as_path()).collect()
    };
    for dir in dirs {
        let shown = dir.display().to_string();
        migrator_core::lint::check_dir_with_layout(dir, &shown, dialect, options.layout, &Default::default())
            .into_migrations()
            .map_err(|errors| migrator_core::Error::Load { errors })?;
    }
    if let Command::Rehearse { rows, max_stall, no_rewrite, from, format, .. } = &cli.command {
        progress.mute();
        let args = rehearse::RehearseArgs {
            rows: *rows,
            max_stall: *max_stall,
            no_rewrite: *no_rewrite,
            from: *from,
            format: *format,
        };
        return rehearse::run(url, options, &args).await;
    }
    let access = match cli.command {
        Command::Status { .. } | Command::Validate { .. } | Command::Plan { .. } => Access::Read,
        Command::Adopt { dry_run: true, .. } => Access::Read,
        _ => Access::Write,
    };
    let tenant_args = match &cli.command {
        Command::Up { tenancy, to, phase, .. } if tenancy.given() => Some(tenants::TenantArgs {
            command: tenants::TenantCommand::Up,
            names: &tenancy.names,
            parallel: tenancy.parallel,
            canary: tenancy.canary,
            keep_going: tenancy.keep_going,
            create: tenancy.create,
            phases: phase.phases(),
            to: *to,
            format: tenancy.format,
            progress: (tenancy.format != cli::Format::Json).then(|| progress.clone()),
        }),
        Command::Status { tenancy, format, .. } if tenancy.names.given() => Some(tenants::TenantArgs {
            command: tenants::TenantCommand::Status,
            names: &tenancy.names,
            parallel: tenancy.parallel,
            canary: 0,
            keep_going: true,
            create: false,
            phases: migrator_core::Phases::All,
            to: None,
            format: *format,
            progress: None,
        }),
        _ => None,
    };
    if let Some(args) = tenant_args {
        let target = connect(url, access).await?;
        progress.mute();
        let code = tenants::run(url, &target, options, &args).await;
        match target {
            Target::Postgres(pool) => close(pool.close(), &code).await,
            Target::MySql(pool) => close(pool.close(), &code).await,
            Target::Sqlite(pool, _) => close(pool.close(), &code).await,
        }
        return code;
    }
    if let Command::Up { tenancy, .. } = &cli.command
        && tenancy.format == cli::Format::Json
    {
        return Err(
            Usage("--format applies to tenants (up --schemas, --schemas-like or --schemas-query)".to_owned()).into()
        );
    }
    match connect(url, access).await? {
        Target::Postgres(pool) => {
            let code =
                database(migrator_postgres::PgDriver::from(&pool), dialect, options, &cli.command, progress).await;
            close(pool.close(), &code).await;
            code
        }
        Target::MySql(pool) => {
            let code =
                database(migrator_mysql::MySqlDriver::from(&pool), dialect, options, &cli.command, progress).await;
            close(pool.close(), &code).await;
            code
        }
        Target::Sqlite(pool, note) => {
            if let Some(note) = note {
                eprintln!("{} {}", Style::stderr().dim("note:"), output::clean(&note));
            }
            let code =
                database(migrator_sqlite::SqliteDriver::from(&pool), dialect, options, &cli.command, progress).await;
            close(pool.close(), &code).await;
            code
        }
    }
}

async fn database<D>(
    driver: D,
    dialect: Dialect,
    options: DbOptions<'_>,
    command: &Command,
    progress: &Arc<Progress>,
) -> anyhow::Result<ExitCode>
where
    D: migrator_core::driver::Driver + Clone + 'static,
    D::Conn: 'static,
{
    if !options.sets.is_empty() {
        return commands::run_sets(driver, dialect, options, command, progress).await;
    }
    let migrator = commands::migrator(driver, dialect, options)?;
    commands::run(migrator, command, progress).await
}

/// Closes a pool after the command, but never waits long; after an interrupt not at all (a
/// connection may still be busy in a statement the database is cancelling or rolling back).
async fn close(closing: impl std::future::Future<Output = ()>, outcome: &anyhow::Result<ExitCode>) {
    let interrupted = outcome.as_ref().err().is_some_and(|e| e.is::<commands::Interrupted>());
    if !interrupted {
        let _ = tokio::time::timeout(Duration::from_secs(2), closing).await;
    }
}

fn no_dialect(command: &str) -> anyhow::Error {
    Usage(format!(
        "`{command}` needs the SQL dialect: pass --dialect postgres|mysql|sqlite, or set DATABASE_URL to a URL whose \
         scheme says it"
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn each_message_of_the_chain_is_printed_once() {
        let inner = Layer("connection reset", None);
        let middle = Layer("reading the history: connection reset", Some(Box::new(inner)));
        let top = anyhow::Error::from(Layer("status failed", Some(Box::new(middle))));
        assert_eq!(message(&top), "status failed: reading the history: connection reset");
        let repeated = anyhow::Error::from(Layer(
            "migration 1 failed: division by zero",
            Some(Box::new(Layer("division by zero", Some(Box::new(Layer("division by zero at line 869", None)))))),
        ));
        // Without a sqlx error in the chain, a distinct message is kept.
        assert_eq!(message(&repeated), "migration 1 failed: division by zero: division by zero at line 869");
    }
}
