//! `migrator up --schemas …`: the library's [`Tenants`] over PostgreSQL schemas or MySQL
//! databases of one server. Each tenant gets a small pool of its own (PostgreSQL: its
//! `search_path` is the tenant's schema, which also holds its history table; MySQL: the
//! tenant's database), opened when the tenant starts and closed when it ends, so at most
//! `--parallel` tenants hold connections.

use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use migrator_core::{
    Dialect, Error, Migrator, Phases, TenantReport, TenantState, TenantStatus, Tenants, TenantsReport,
};
use serde::Serialize;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::cli::{DbOptions, Format, TenantNames};
use crate::commands;
use crate::connect::Target;
use crate::url::DatabaseUrl;
use crate::usage::Usage;

/// How long a tenant waits for one of its pool's connections.
const ACQUIRE: Duration = Duration::from_secs(30);

/// Which command runs over the tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TenantCommand {
    /// `up`: roll the set out.
    Up,
    /// `status`: where each tenant stands, nothing changed.
    Status,
}

/// What `up` or `status` with tenants needs besides the usual options.
pub(crate) struct TenantArgs<'a> {
    pub(crate) command: TenantCommand,
    pub(crate) names: &'a TenantNames,
    pub(crate) parallel: u16,
    pub(crate) canary: usize,
    pub(crate) keep_going: bool,
    /// `up --create`: the tenants are new.
    pub(crate) create: bool,
    pub(crate) phases: Phases,
    pub(crate) to: Option<i64>,
    pub(crate) format: Format,
    /// The bar across tenants (`up`, not with `--format json`; shown only on a terminal).
    pub(crate) progress: Option<std::sync::Arc<crate::output::Progress>>,
}

/// What the command found.
enum Outcome {
    Up(TenantsReport),
    Status(Vec<TenantStatus>),
}

/// Lists the tenants, rolls the set out to them (or reads where they stand), prints the
/// report. Every tenant is checked first in one round trip on the server's pool: only the
/// tenants that are not current open pools of their own.
pub(crate) async fn run(
    url: &DatabaseUrl,
    target: &Target,
    options: DbOptions<'_>,
    args: &TenantArgs<'_>,
) -> anyhow::Result<ExitCode> {
    if options.database.schema.is_some() {
        return Err(Usage(
            "--schema cannot go with tenants: each tenant's history table is in its own schema".to_owned(),
        )
        .into());
    }
    let names = names(target, args.names).await?;
    if names.is_empty() {
        return Err(Usage("no tenant: the list, pattern or query named none".to_owned()).into());
    }
    if let Some(progress) = &args.progress {
        progress.tenants(u64::try_from(names.len()).unwrap_or(u64::MAX));
        progress.reveal();
    }
    let outcome = match target {
        Target::Postgres(pool) => {
            let checker = commands::migrator(migrator_postgres::PgDriver::from(pool), Dialect::Postgres, options)?;
            let base = PgConnectOptions::from_str(url.expose())?;
            act(&names, args, checker, |schema: String| {
                let connect = base.clone().options([("search_path", quote_pg(&schema))]);
                async move {
                    let pool = PgPoolOptions::new()
                        .max_connections(2)
                        .test_before_acquire(false)
                        .acquire_timeout(ACQUIRE)
                        .connect_lazy_with(connect);
                    let driver = migrator_postgres::PgDriver::from(pool);
                    let database = crate::cli::Database { schema: Some(schema), ..options.database.clone() };
                    let options = DbOptions { database: &database, ..options };
                    commands::migrator(driver, Dialect::Postgres, options).map_err(into_error)
                }
            })
            .await
        }
        Target::MySql(pool) => {
            let checker = commands::migrator(migrator_mysql::MySqlDriver::from(pool), Dialect::MySql, options)?;
            let base = MySqlConnectOptions::from_str(url.expose())?;
            act(&names, args, checker, |database: String| {
                let connect = base.clone().database(&database);
                async move {
                    let pool = MySqlPoolOptions::new()
                        .max_connections(2)
                        .test_before_acquire(false)
                        .acquire_timeout(ACQUIRE)
                        .connect_lazy_with(connect);
                    commands::migrator(migrator_mysql::MySqlDriver::from(pool), Dialect::MySql, options)
                        .map_err(into_error)
                }
            })
            .await
        }
        Target::Sqlite(..) => {
            return Err(Usage(
                "SQLite has no schemas: run `migrator up` once per database file (one URL per tenant)".to_owned(),
            )
            .into());
        }
    };
    if let Some(progress) = &args.progress {
        progress.finish();
    }
    match outcome {
        Outcome::Up(report) => {
            print(&report, args.format)?;
            Ok(if report.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Outcome::Status(statuses) => {
            print_status(&statuses, args.format)?;
            let failed = statuses.iter().any(|s| s.state == TenantState::Failed);
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
    }
}

async fn act<F, Fut, D>(names: &[String], args: &TenantArgs<'_>, checker: Migrator<D>, migrator_for: F) -> Outcome
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Migrator<D>, Error>>,
    D: migrator_core::driver::Driver,
    D::Conn: 'static,
{
    let tenants = Tenants::new(names.iter().cloned(), migrator_for)
        .parallel(usize::from(args.parallel))
        .canary(args.canary)
        .keep_going(args.keep_going)
        .phases(args.phases)
        .to(args.to)
        .check_on(checker);
    match args.command {
        TenantCommand::Up if args.create => Outcome::Up(tenants.create_all().await),
        TenantCommand::Up => Outcome::Up(tenants.run().await),
        TenantCommand::Status => Outcome::Status(tenants.status().await),
    }
}

/// The CLI's builder errors are `anyhow`; a tenant's failure is reported as the library's.
fn into_error(error: anyhow::Error) -> Error {
    match error.downcast::<Error>() {
        Ok(error) => error,
        Err(other) => Error::database("building the tenant's migrator", other.to_string()),
    }
}

/// A PostgreSQL identifier quoted for `search_path`.
fn quote_pg(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tenants the options name, in order.
async fn names(target: &Target, tenancy: &TenantNames) -> anyhow::Result<Vec<String>> {
    if !tenancy.schemas.is_empty() {
        return Ok(tenancy.schemas.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect());
    }
    let (sql, pattern) = match (&tenancy.schemas_like, &tenancy.schemas_query, target) {
        (Some(pattern), _, Target::Postgres(_)) => {
            ("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1".to_owned(), Some(pattern))
        }
        (Some(pattern), _, _) => (
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1".to_owned(),
            Some(pattern),
        ),
        (None, Some(query), _) => (query.clone(), None),
        (None, None, _) => return Ok(Vec::new()),
    };
    let listing = |e: sqlx::Error| anyhow::anyhow!("listing the tenants: {e}");
    Ok(match target {
        Target::Postgres(pool) => {
            let query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            let query = match pattern {
                Some(p) => query.bind(p.clone()),
                None => query,
            };
            query.fetch_all(pool).await.map_err(listing)?
        }
        Target::MySql(pool) => {
            let query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            let query = match pattern {
                Some(p) => query.bind(p.clone()),
                None => query,
            };
            query.fetch_all(pool).await.map_err(listing)?
        }
        Target::Sqlite(..) => Vec::new(),
    })
}

#[derive(Serialize)]
struct TenantsJson<'a> {
    tenants: Vec<TenantJson<'a>>,
}

#[derive(Serialize)]
struct TenantJson<'a> {
    schema: &'a str,
    /// `current`, `applied`, `failed`, or `pending` (not run: the rollout stopped first).
    state: &'static str,
    applied: Vec<i64>,
    failed: Option<FailedJson>,
}

#[derive(Serialize)]
struct FailedJson {
    version: Option<i64>,
    statement: Option<usize>,
    error: String,
}

fn failed_json(tenant: &TenantReport) -> Option<FailedJson> {
    let error = tenant.error.as_ref()?;
    let (version, statement) = match error {
        Error::MigrationFailed { failure } | Error::GroupFailed { failure, .. } => {
            (Some(failure.version.get()), failure.statement)
        }
        Error::Plan { source } => match source.stopped_at() {
            Some((version, statement)) => (Some(version.get()), statement.and_then(|s| usize::try_from(s).ok())),
            None => (None, None),
        },
        _ => (None, None),
    };
    Some(FailedJson { version, statement, error: crate::output::clean(&error.to_string()) })
}

fn print(report: &TenantsReport, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        let tenants = report
            .tenants
            .iter()
            .map(|t| TenantJson {
                schema: &t.name,
                state: t.state.label(),
                applied: t.applied().iter().map(|v| v.get()).collect(),
                failed: failed_json(t),
            })
            .collect();
        println!("{}", crate::output::json(&TenantsJson { tenants })?);
        return Ok(());
    }
    for tenant in &report.tenants {
        let line = match tenant.state {
            TenantState::Applied => {
                let applied: Vec<String> = tenant.applied().iter().map(ToString::to_string).collect();
                format!("{}: applied {}", tenant.name, applied.join(", "))
            }
            TenantState::Failed => {
                let error = tenant.error.as_ref().map(ToString::to_string).unwrap_or_default();
                format!("{}: failed: {}", tenant.name, error.lines().next().unwrap_or(""))
            }
            state => format!("{}: {}", tenant.name, state.label()),
        };
        println!("{}", crate::output::clean_line(&line));
    }
    // The counts (the failures were shown above, each on its tenant's line).
    let text = report.to_string();
    println!("{}", crate::output::clean_line(text.lines().last().unwrap_or("")));
    Ok(())
}

#[derive(Serialize)]
struct StatusesJson<'a> {
    tenants: Vec<StatusJson<'a>>,
}

#[derive(Serialize)]
struct StatusJson<'a> {
    schema: &'a str,
    /// `current`, `pending` (a run has something to do) or `failed` (a migration failed or was
    /// interrupted or changed, or the history could not be read).
    state: &'static str,
    /// Nothing is applied by `status`.
    applied: Vec<i64>,
    /// The versions a run would apply.
    pending: Vec<i64>,
    failed: Option<FailedJson>,
}

fn status_failed_json(status: &TenantStatus) -> Option<FailedJson> {
    if let Some(error) = &status.error {
        return Some(FailedJson { version: None, statement: None, error: crate::output::clean(&error.to_string()) });
    }
    let (version, problem) = status.standing.as_ref()?.blocked.as_ref()?;
    Some(FailedJson { version: Some(version.get()), statement: None, error: crate::output::clean(problem) })
}

fn print_status(statuses: &[TenantStatus], format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        let tenants = statuses
            .iter()
            .map(|s| StatusJson {
                schema: &s.name,
                state: s.state.label(),
                applied: Vec::new(),
                pending: s.pending().iter().map(|v| v.get()).collect(),
                failed: status_failed_json(s),
            })
            .collect();
        println!("{}", crate::output::json(&StatusesJson { tenants })?);
        return Ok(());
    }
    for status in statuses {
        let line = match (status.state, status_failed_json(status)) {
            (TenantState::Failed, Some(failed)) => {
                format!("{}: failed: {}", status.name, failed.error.lines().next().unwrap_or(""))
            }
            (TenantState::Pending, _) => {
                let pending: Vec<String> = status.pending().iter().map(ToString::to_string).collect();
                format!("{}: pending {}", status.name, pending.join(", "))
            }
            (state, _) => format!("{}: {}", status.name, state.label()),
        };
        println!("{}", crate::output::clean_line(&line));
    }
    let count = |state| statuses.iter().filter(|s| s.state == state).count();
    println!(
        "{} tenants: {} current, {} pending, {} failed",
        statuses.len(),
        count(TenantState::Current),
        count(TenantState::Pending),
        count(TenantState::Failed)
    );
    Ok(())
}
