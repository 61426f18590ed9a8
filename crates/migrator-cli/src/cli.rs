//! The command line: one subcommand per operation, each with the options it reads and no
//! other (`new` has no lock options, `lint` no database URL). `--help` is generated from these
//! doc comments.
//!
//! Before the subcommands had options of their own, the options were global and could come
//! before the subcommand's name (`migrator --source db up`); [`Cli::parse_from`] still accepts
//! that order by moving those options after the name, where the subcommand accepts or refuses
//! them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use migrator_core::ForeignTool;

/// Versioned, reversible database migrations for PostgreSQL, MySQL/MariaDB and SQLite: the
/// same runner, lock and checks as the `migrator` library your application embeds.
#[derive(Debug, Parser)]
// No styles: clap's messages quote arguments, whose control characters main escapes, which it
// could not do around clap's own escape sequences.
#[command(name = "migrator", version, propagate_version = true, max_term_width = 100)]
#[command(styles = clap::builder::Styles::plain())]
#[command(after_help = "Exit codes: 0 success; 1 failure (or lint found deny/fatal findings); 2 usage error.\n\
    The scheme of the database URL picks the database: postgres:// or postgresql://, mysql:// or mariadb://, sqlite://.\n\
    `migrator <COMMAND> --help` lists the options of a command.")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options that used to be global, with whether each takes a value: written before the
/// subcommand, they move after it.
const HOISTED: &[(&str, bool)] = &[
    ("--database-url", true),
    ("--source", true),
    ("--layout", true),
    ("--table", true),
    ("--schema", true),
    ("--lock-wait", true),
    ("--lock-strategy", true),
    ("--lease-ttl", true),
    ("--allow-out-of-order", false),
    ("--ignore-unknown", false),
];

/// `args` with the options written before the subcommand moved right after its name.
fn hoist(args: Vec<OsString>) -> Vec<OsString> {
    let mut rest = args.into_iter();
    let mut out: Vec<OsString> = rest.next().into_iter().collect();
    let mut moved = Vec::new();
    while let Some(arg) = rest.next() {
        let text = arg.to_str().unwrap_or_default();
        let name = text.split_once('=').map_or(text, |(name, _)| name);
        match HOISTED.iter().find(|(option, _)| *option == name) {
            Some((_, takes_value)) => {
                let inline = text.contains('=');
                moved.push(arg);
                if *takes_value && !inline {
                    moved.extend(rest.next());
                }
            }
            None => {
                // The subcommand (or something clap will explain): the moved options follow it.
                out.push(arg);
                out.append(&mut moved);
                out.extend(rest);
                return out;
            }
        }
    }
    // No subcommand: leave everything where it was, for clap to report.
    out.append(&mut moved);
    out
}

impl Cli {
    /// Parses the command line (`migrator` and its arguments), with the checks that span
    /// several options.
    pub(crate) fn parse_from(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
        let args: Vec<OsString> = args.into_iter().collect();
        let not_utf8 = not_utf8(&args);
        let args = hoist(args);
        let source_given =
            args.iter().any(|a| a.to_str().is_some_and(|a| a == "--source" || a.starts_with("--source=")));
        let matches = Cli::command().try_get_matches_from(args).map_err(|e| {
            // clap reports an empty MIGRATOR_SOURCE as an empty `--source`, which nobody wrote.
            let empty_env = std::env::var_os("MIGRATOR_SOURCE").is_some_and(|v| v.is_empty());
            if e.kind() == ErrorKind::InvalidUtf8 {
                Cli::command().error(ErrorKind::InvalidUtf8, not_utf8.clone())
            } else if e.kind() == ErrorKind::InvalidValue && empty_env && !source_given {
                Cli::command().error(
                    ErrorKind::InvalidValue,
                    "MIGRATOR_SOURCE is set but empty: unset it, set it to the migrations directory, or pass --source",
                )
            } else {
                e
            }
        })?;
        let cli = Cli::from_arg_matches(&matches)?;
        if let Some((name, sub)) = matches.subcommand() {
            cli.command.check(sub).map_err(|message| usage(name, message))?;
        }
        Ok(cli)
    }
}

/// Which argument is not UTF-8, for clap's "invalid UTF-8 was detected in one or more
/// arguments". The value itself is not shown: it may be a URL with its password.
fn not_utf8(args: &[OsString]) -> String {
    const WHAT_TO_DO: &str = "write it in UTF-8 (only paths, such as --source, may be any bytes)";
    let bad = args.iter().enumerate().skip(1).find(|(_, arg)| arg.to_str().is_none());
    match bad {
        Some((index, _)) => match args.get(index - 1).and_then(|a| a.to_str()).filter(|a| a.starts_with("--")) {
            Some(option) => format!("the value of {option} is not UTF-8: {WHAT_TO_DO}"),
            None => format!("argument {index} is not UTF-8: {WHAT_TO_DO}"),
        },
        None if std::env::var("DATABASE_URL").is_err_and(|e| matches!(e, std::env::VarError::NotUnicode(_))) => {
            format!("the DATABASE_URL environment variable is not UTF-8: {WHAT_TO_DO}")
        }
        None => format!("an argument or environment variable is not UTF-8: {WHAT_TO_DO}"),
    }
}

/// A usage error of subcommand `name`, in clap's form (with the subcommand's usage line).
fn usage(name: &str, message: String) -> clap::Error {
    let mut cli = Cli::command();
    cli.build();
    match cli.find_subcommand_mut(name) {
        Some(sub) => sub.error(ErrorKind::ArgumentConflict, message),
        None => cli.error(ErrorKind::ArgumentConflict, message),
    }
}

/// Whether `id` was written on the command line (not taken from a default or the environment).
fn written(matches: &ArgMatches, id: &str) -> bool {
    matches.try_get_raw(id).is_ok_and(|v| v.is_some()) && matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// The migrations directory.
#[derive(Debug, Clone, Args)]
pub(crate) struct Source {
    /// The migrations directory.
    #[arg(long, env = "MIGRATOR_SOURCE", default_value = "migrations", value_name = "DIR")]
    pub(crate) source: PathBuf,

    /// The layout of its files: auto (detected from the directory), migrator, or another tool's, read as it is.
    #[arg(long, env = "MIGRATOR_LAYOUT", value_enum, default_value_t = LayoutArg::Auto, value_name = "LAYOUT")]
    pub(crate) layout: LayoutArg,
}

impl Source {
    /// The layout to read the directory with; `None` to detect it.
    pub(crate) fn layout(&self) -> Option<migrator_core::Layout> {
        self.layout.layout()
    }
}

/// One `--set NAME=DIR[:TABLE]`: a migration set of its own, with its own history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetArg {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) table: Option<String>,
}

/// Parses `NAME=DIR[:TABLE]` (the table after the last `:`).
fn parse_set(text: &str) -> Result<SetArg, String> {
    let form = "write NAME=DIR or NAME=DIR:TABLE, such as jobs=vendor/jobs/migrations:_migrator_history_jobs";
    let (name, rest) = text.split_once('=').ok_or_else(|| format!("no `=`: {form}"))?;
    if name.is_empty() || rest.is_empty() {
        return Err(format!("a set needs a name and a directory: {form}"));
    }
    let (dir, table) = match rest.rsplit_once(':') {
        Some((dir, table)) if !dir.is_empty() && !table.is_empty() => (dir, Some(table.to_owned())),
        Some(_) => return Err(format!("empty directory or table: {form}")),
        None => (rest, None),
    };
    Ok(SetArg { name: name.to_owned(), dir: PathBuf::from(dir), table })
}

/// Several migration sets in one database, run (or shown) in the order given.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Migration sets")]
pub(crate) struct Sets {
    /// A migration set of its own (a library's schema beside the application's): its directory and history table
    /// [default table: _migrator_history]. Repeat it; the sets run in the order given, each under its own lock.
    /// Instead of --source and --table.
    #[arg(long = "set", value_name = "NAME=DIR[:TABLE]", value_parser = parse_set)]
    pub(crate) sets: Vec<SetArg>,
}

/// `up` across many tenants: PostgreSQL schemas or MySQL databases of the server the URL
/// names.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Tenants")]
pub(crate) struct Tenancy {
    #[command(flatten)]
    pub(crate) names: TenantNames,
    /// How many tenants run at once (each with its own connections).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) parallel: u16,
    /// Migrate the first K tenants first; the others start only when they all succeeded.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub(crate) canary: usize,
    /// Go on after a tenant fails, and report every failure (default: stop starting tenants at the first failure).
    #[arg(long)]
    pub(crate) keep_going: bool,
    /// Create the --schemas tenants (each a new PostgreSQL schema or MySQL database) and apply the whole set to each,
    /// in one transaction on PostgreSQL; refused for a tenant whose schema or database exists.
    #[arg(long, requires = "schemas")]
    pub(crate) create: bool,
    /// With tenants: human (a line per tenant and the counts) or json (`{"tenants": [{"schema", "state", "applied",
    /// "failed"}]}`).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,
}

impl Tenancy {
    /// Whether tenants were asked for.
    pub(crate) fn given(&self) -> bool {
        self.names.given()
    }
}

/// Which tenants (`up` and `status`).
#[derive(Debug, Clone, Args)]
pub(crate) struct TenantNames {
    /// Migrate these tenants (PostgreSQL schemas, MySQL databases), comma-separated: each gets the migrations in its
    /// own schema or database, with its own history table and lock.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',', conflicts_with_all = ["schemas_like", "schemas_query", "sets"])]
    pub(crate) schemas: Vec<String>,
    /// Migrate every schema (PostgreSQL) or database (MySQL) whose name is LIKE this pattern, in name order.
    #[arg(long, value_name = "PATTERN", conflicts_with_all = ["schemas_query", "sets"])]
    pub(crate) schemas_like: Option<String>,
    /// Migrate the tenants this query's first column names, in its order.
    #[arg(long, value_name = "SQL", conflicts_with = "sets")]
    pub(crate) schemas_query: Option<String>,
}

impl TenantNames {
    /// Whether tenants were asked for.
    pub(crate) fn given(&self) -> bool {
        !self.schemas.is_empty() || self.schemas_like.is_some() || self.schemas_query.is_some()
    }
}

/// `status` over tenants: which ones, and how many histories are read at once.
#[derive(Debug, Clone, Args)]
pub(crate) struct StatusTenancy {
    #[command(flatten)]
    pub(crate) names: TenantNames,
    /// With tenants: how many tenants' histories are read at once (only those the all-tenants check did not find
    /// current are read).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) parallel: u16,
}

/// The `--layout` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LayoutArg {
    /// Detected from the directory's files.
    Auto,
    /// `{version}_{name}.up.sql` and `.down.sql`.
    Migrator,
    /// sqlx: `{version}_{description}.sql`, or `.up.sql` and `.down.sql`.
    Sqlx,
    /// diesel: directories `{version}_{name}/` with `up.sql` and `down.sql`.
    Diesel,
    /// refinery: `V{version}__{name}.sql`.
    Refinery,
    /// Flyway: `V{version}__{description}.sql`, `U…` undo and `R__…` repeatable migrations.
    Flyway,
    /// golang-migrate: `{version}_{title}.up.sql` and `.down.sql`.
    GolangMigrate,
    /// goose: `{version}_{name}.sql` with `-- +goose Up` and `-- +goose Down` sections.
    Goose,
}

impl LayoutArg {
    pub(crate) fn layout(self) -> Option<migrator_core::Layout> {
        use migrator_core::Layout;
        match self {
            LayoutArg::Auto => None,
            LayoutArg::Migrator => Some(Layout::Migrator),
            LayoutArg::Sqlx => Some(Layout::Sqlx),
            LayoutArg::Diesel => Some(Layout::Diesel),
            LayoutArg::Refinery => Some(Layout::Refinery),
            LayoutArg::Flyway => Some(Layout::Flyway),
            LayoutArg::GolangMigrate => Some(Layout::GolangMigrate),
            LayoutArg::Goose => Some(Layout::Goose),
        }
    }
}

/// The database and its history table.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Database")]
pub(crate) struct Database {
    /// The database: postgres://user:password@host/db, mysql://user@host/db, sqlite://app.db (TLS through the URL's
    /// own parameters, such as sslmode=require or ssl-mode=REQUIRED). Percent-encode special characters of the
    /// password (`#` as %23, `@` as %40, `/` as %2F).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,

    /// The history table [default: _migrator_history].
    #[arg(long, value_name = "NAME")]
    pub(crate) table: Option<String>,

    /// The schema of the history table (PostgreSQL) [default: the connection's current schema].
    #[arg(long, value_name = "NAME")]
    pub(crate) schema: Option<String>,
}

/// The migration lock, for the commands that take it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Migration lock")]
pub(crate) struct Lock {
    /// How long to wait for the migration lock held by another process (on SQLite: for its write lock), such as
    /// 30s or 5min. Not the lock-timeout directive, which bounds each statement's wait for table locks.
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_lock_wait, allow_hyphen_values = true)]
    pub(crate) lock_wait: Duration,

    /// Which lock serializes migrators: `session` (the database's session lock; the default) or `lease` (a lease row
    /// renewed by a heartbeat, for PostgreSQL behind a transaction-mode pooler such as PgBouncer).
    #[arg(long, value_enum, default_value_t = LockKind::Session, value_name = "KIND")]
    pub(crate) lock_strategy: LockKind,

    /// How long a lease lasts without its holder's heartbeat (with `--lock-strategy lease`): after a holder dies,
    /// the next runner waits this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_lease_ttl, allow_hyphen_values = true)]
    pub(crate) lease_ttl: Duration,
}

/// Lock-timeout retries, for the commands that run migrations.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Lock-timeout retries")]
pub(crate) struct Retry {
    /// How many times to run a migration again after it gave up waiting for a table lock (its lock timeout: a long
    /// transaction holds the table), pausing 1s, 2s, 4s, … between attempts. A migration in one transaction runs
    /// again from its start; one run statement by statement, from the statement that timed out. 0: fail at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub(crate) lock_retries: u32,

    /// No retry starts later than this after the first attempt, such as 2min or 30s.
    #[arg(long, value_name = "DURATION", default_value = "2min", value_parser = parse_lock_retry_window, allow_hyphen_values = true)]
    pub(crate) lock_retry_window: Duration,
}

/// What the planner accepts, for the commands that plan an up run or check the history.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Policy")]
pub(crate) struct Policy {
    /// Apply a pending migration older than the newest applied one (merged late from a branch) instead of refusing.
    #[arg(long)]
    pub(crate) allow_out_of_order: bool,

    /// Accept applied versions that the migrations directory does not have.
    #[arg(long)]
    pub(crate) ignore_unknown: bool,
}

/// What a database command reads of the options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DbOptions<'a> {
    pub(crate) source: &'a Path,
    /// `None` to detect the layout.
    pub(crate) layout: Option<migrator_core::Layout>,
    pub(crate) database: &'a Database,
    /// `None` for the commands that take no lock (they read without it).
    pub(crate) lock: Option<&'a Lock>,
    /// `None` for the commands that plan nothing.
    pub(crate) policy: Option<&'a Policy>,
    /// `None` for the commands that run no migration.
    pub(crate) retry: Option<&'a Retry>,
    /// `up --ignore-foreign-history`.
    pub(crate) ignore_foreign_history: bool,
    /// `up --grouped`.
    pub(crate) grouped: bool,
    /// `--set`: several migration sets instead of `source` (empty: one set, `source`).
    pub(crate) sets: &'a [SetArg],
}

impl<'a> DbOptions<'a> {
    fn new(source: &'a Source, database: &'a Database, lock: Option<&'a Lock>, policy: Option<&'a Policy>) -> Self {
        DbOptions {
            source: &source.source,
            layout: source.layout(),
            database,
            lock,
            policy,
            retry: None,
            ignore_foreign_history: false,
            grouped: false,
            sets: &[],
        }
    }
}

/// The `--lock-strategy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LockKind {
    /// The database's session lock (advisory lock, GET_LOCK).
    Session,
    /// A lease row with a heartbeat and a fencing token.
    Lease,
}

/// The longest `--lock-wait`: a year, as MySQL's `lock_wait_timeout` (MariaDB's `GET_LOCK`
/// gives up at once when asked to wait much longer).
const MAX_LOCK_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The longest `--lease-ttl`: a day (a dead holder keeps the lock that long).
const MAX_LEASE_TTL: Duration = Duration::from_secs(24 * 3600);

fn parse_duration_at_most(text: &str, max: Duration, max_text: &str) -> Result<Duration, String> {
    let duration = migrator_core::directive::parse_duration(text)?;
    if duration > max {
        return Err(format!("`{}` is longer than the {max_text} this option takes", text.trim()));
    }
    Ok(duration)
}

fn parse_lock_wait(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, MAX_LOCK_WAIT, "8760h (a year)")
}

fn parse_max_stall(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, MAX_LEASE_TTL, "24h")
}

fn parse_lock_retry_window(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, MAX_LEASE_TTL, "24h")
}

fn parse_lease_ttl(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, MAX_LEASE_TTL, "24h")
}

/// A migration version: a positive integer.
fn parse_tool(text: &str) -> Result<ForeignTool, String> {
    text.parse::<ForeignTool>().map_err(|e| e.to_string())
}

/// A squash file's name part: what migrator's own names allow.
fn parse_squash_name(text: &str) -> Result<String, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        Ok(text.to_owned())
    } else {
        Err("a migration name is lowercase letters, digits and underscores, such as `squash`".to_owned())
    }
}

fn parse_version(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(version) if version > 0 => Ok(version),
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("`{text}` is too large for a migration version (at most {})", i64::MAX))
        }
        _ => Err(format!("`{text}` is not a migration version: versions are positive integers")),
    }
}

/// `down --steps`: 1 or more.
fn parse_steps(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("`0` reverts nothing: pass 1 or more".to_owned()),
        Ok(steps) => Ok(steps),
        Err(_) => Err(format!("`{text}` is not a number of migrations: pass 1 or more")),
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the next migration: an up script and its down script, with the directives listed in a comment.
    New {
        /// What the migration does, in a few words (`add users email`, `add_users_email`).
        name: String,
        /// Number it one after the newest migration instead of with the current UTC time (YYYYMMDDhhmmss).
        #[arg(long)]
        sequential: bool,
        #[command(flatten)]
        source: Source,
    },
    /// Apply pending migrations.
    Up {
        /// Apply nothing newer than this version.
        #[arg(long, value_name = "VERSION", value_parser = parse_version)]
        to: Option<i64>,
        /// Which migrations: expand (before the new code is deployed), contract (after every instance runs it), or
        /// all.
        #[arg(long, value_enum, default_value_t = PhaseArg::Expand)]
        phase: PhaseArg,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
        #[command(flatten)]
        retry: Retry,
        #[command(flatten)]
        policy: Policy,
        /// Apply migrations in a database without migrator history even though another tool's history table there
        /// records applied migrations (by default refused: adopt that history first, with `migrator adopt`).
        #[arg(long)]
        ignore_foreign_history: bool,
        /// Apply the pending migrations that each run in a transaction together, in one transaction: one commit
        /// for a fresh database; all of them or none. A no-transaction migration runs alone between groups.
        /// PostgreSQL and SQLite (refused on MySQL, whose DDL commits implicitly).
        #[arg(long)]
        grouped: bool,
        #[command(flatten)]
        sets: Sets,
        #[command(flatten)]
        tenancy: Tenancy,
    },
    /// Revert applied migrations, newest first (in the order they were applied). Default: the newest one.
    Down {
        /// How many to revert.
        #[arg(long, value_name = "N", value_parser = parse_steps, conflicts_with_all = ["to", "all"], allow_hyphen_values = true)]
        steps: Option<usize>,
        /// Revert every migration newer than this version (it stays applied).
        #[arg(long, value_name = "VERSION", value_parser = parse_version, conflicts_with = "all")]
        to: Option<i64>,
        /// Revert everything.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
        #[command(flatten)]
        retry: Retry,
    },
    /// Revert the newest applied migration and apply it again.
    Redo {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
        #[command(flatten)]
        retry: Retry,
        #[command(flatten)]
        policy: Policy,
    },
    /// Show every migration and its state.
    Status {
        /// human: a table; json: one object with a `migrations` list (with --set: a `sets` list of such objects;
        /// with tenants: `{"tenants": [{"schema", "state", "applied", "pending", "failed"}]}`).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        sets: Sets,
        #[command(flatten)]
        tenancy: StatusTenancy,
    },
    /// Check the migration files (names, directives, fatal lint findings) and, with a database URL, the history
    /// against them (checksums, failed or interrupted migrations, unknown versions). Exit code 1 on any problem.
    Validate {
        /// The SQL dialect of the files, when no database URL says it.
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        policy: Policy,
    },
    /// Print what `up` would apply, SQL included, without running anything.
    Plan {
        /// Nothing newer than this version.
        #[arg(long, value_name = "VERSION", value_parser = parse_version)]
        to: Option<i64>,
        /// Which migrations: expand, contract or all.
        #[arg(long, value_enum, default_value_t = PhaseArg::Expand)]
        phase: PhaseArg,
        /// human: each migration with its SQL; json: one object with `plan`, `skipped` and `warnings` lists.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// For each statement: the lock it takes (PostgreSQL lock level; MySQL online DDL algorithm and lock),
        /// whether it rewrites or scans the table, and the table's estimated rows and size from the server's
        /// statistics.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        policy: Policy,
    },
    /// Lint the migrations for production hazards (locks, rewrites, data loss, breaking the running app).
    /// Exit code 1 when a finding is fatal, or deny and not acknowledged.
    Lint(LintArgs),
    /// Finish a failed or interrupted migration: run its failed statement again (once the statements before it are
    /// proven unchanged), then the rest.
    Resume {
        /// Count the failed or interrupted statement as done (it took effect after all) and go on with the next.
        #[arg(long)]
        skip: bool,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
        #[command(flatten)]
        retry: Retry,
    },
    /// Record a migration as applied without running anything (you finished it by hand).
    Force {
        /// The migration's version.
        #[arg(value_name = "VERSION", value_parser = parse_version)]
        migration: i64,
        /// Remove its history row instead (you reverted it by hand).
        #[arg(long)]
        reverted: bool,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
    },
    /// Record the current checksums of applied migrations whose files were edited on purpose, listing each.
    Repair {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
    },
    /// Switch from another tool: record the migrations it applied as applied, after checking each file against the
    /// checksum it kept, in one transaction under the migration lock. Its table is left as it is.
    Adopt {
        /// The tool whose history to adopt: sqlx, diesel, refinery, golang-migrate, goose or flyway.
        #[arg(long = "from", value_name = "TOOL", value_parser = parse_tool)]
        from: ForeignTool,
        /// The tool's history table, when its settings renamed it [default: the tool's default].
        #[arg(long, value_name = "NAME")]
        from_table: Option<String>,
        /// The schema (PostgreSQL) or database (MySQL) of the tool's table [default: the connection's].
        #[arg(long, value_name = "NAME")]
        from_schema: Option<String>,
        /// Adopt applied migrations whose file changed since the tool ran them, recording them as they are now.
        #[arg(long)]
        accept_changed: bool,
        /// Print what would be recorded and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// human: a list; json: one object with `adopted`, `already`, `pending` and `warnings`.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
    },
    /// Squash every migration up to VERSION into one, built from the schema and rows they leave (checked in a scratch
    /// area); databases that applied them keep a valid history.
    Squash {
        /// The newest migration to squash: it and every older one become one migration of this version.
        #[arg(long, value_name = "VERSION", value_parser = parse_version)]
        to: i64,
        /// The name part of the squash file: {VERSION}_{NAME}.up.sql.
        #[arg(long, default_value = "squash", value_parser = parse_squash_name)]
        name: String,
        /// A server where squash may create and drop two scratch databases; never the
        /// application's database. SQLite uses temporary files.
        #[arg(long, value_name = "URL")]
        scratch_url: Option<String>,
        /// The SQL dialect [default: the scratch URL's, else the scheme of DATABASE_URL, else sqlite].
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
        /// Print the squash migration and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        source: Source,
    },
    /// Rehearse the pending migrations on a scratch database of the server the URL names: apply the earlier ones,
    /// fill the tables the pending ones touch with generated rows, then apply each pending one while a workload
    /// writes and reads, and report how long writes and reads waited, the locks held and the tables rewritten. Exit
    /// code 1 when a migration is over the thresholds. The URL's own database is only read (its history says
    /// what is pending).
    Rehearse {
        /// Generated rows per table.
        #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
        rows: u64,
        /// The longest a concurrent write or read may wait, such as 200ms or 2s.
        #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_max_stall, allow_hyphen_values = true)]
        max_stall: Duration,
        /// Count a rewritten table as over the thresholds too.
        #[arg(long)]
        no_rewrite: bool,
        /// Rehearse the migrations newer than this version (default: those pending on the URL's database; without a
        /// history there, the newest migration).
        #[arg(long, value_name = "VERSION", value_parser = parse_version)]
        from: Option<i64>,
        /// human: a line per migration; json: `{"migrations": [{"version", "name", "duration_ms",
        /// "max_write_stall_ms", "max_read_stall_ms", "rewrote", "locks", "rows", "verdict"}]}`.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
    },
    /// Record every migration up to VERSION as applied without running it, to adopt an existing database.
    Baseline {
        /// The newest migration the database already has.
        #[arg(value_name = "VERSION", value_parser = parse_version)]
        migration: i64,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        lock: Lock,
    },
}

impl Command {
    /// The checks clap cannot express: options that would be ignored, values that are empty.
    fn check(&self, matches: &ArgMatches) -> Result<(), String> {
        if let Some(options) = self.db_options() {
            return self.check_database(options, matches);
        }
        if let Command::Lint(args) = self
            && args.dir.is_some()
            && written(matches, "source")
        {
            return Err(
                "the argument '--source <DIR>' cannot be used with '[DIR]': name the migrations directory once"
                    .to_owned(),
            );
        }
        Ok(())
    }

    fn check_database(&self, options: DbOptions<'_>, matches: &ArgMatches) -> Result<(), String> {
        if let Some(lock) = options.lock
            && lock.lock_strategy != LockKind::Lease
            && written(matches, "lease_ttl")
        {
            return Err(
                "--lease-ttl applies only with --lock-strategy lease (the session lock has no time to live): add \
                 --lock-strategy lease, or drop --lease-ttl"
                    .to_owned(),
            );
        }
        let no_url = options.database.database_url.as_deref().is_none_or(|url| url.trim().is_empty());
        if let Command::Validate { .. } = self
            && no_url
        {
            let given = ["table", "schema", "allow_out_of_order", "ignore_unknown"]
                .into_iter()
                .find(|id| written(matches, id) && matches.get_raw(id).is_some_and(|v| v.len() > 0));
            if let Some(id) = given {
                return Err(format!(
                    "validate --{} needs a database URL: without one, validate checks the files only; pass \
                     --database-url or set DATABASE_URL",
                    id.replace('_', "-")
                ));
            }
        }
        Ok(())
    }

    /// The options of a command that works on a database (`None` for `new` and `lint`).
    pub(crate) fn db_options(&self) -> Option<DbOptions<'_>> {
        let options = DbOptions::new;
        match self {
            Command::New { .. } | Command::Lint(_) | Command::Squash { .. } => None,
            Command::Up { source, database, lock, retry, policy, ignore_foreign_history, grouped, sets, .. } => {
                Some(DbOptions {
                    ignore_foreign_history: *ignore_foreign_history,
                    grouped: *grouped,
                    sets: &sets.sets,
                    retry: Some(retry),
                    ..options(source, database, Some(lock), Some(policy))
                })
            }
            Command::Redo { source, database, lock, retry, policy } => {
                Some(DbOptions { retry: Some(retry), ..options(source, database, Some(lock), Some(policy)) })
            }
            Command::Down { source, database, lock, retry, .. }
            | Command::Resume { source, database, lock, retry, .. } => {
                Some(DbOptions { retry: Some(retry), ..options(source, database, Some(lock), None) })
            }
            Command::Force { source, database, lock, .. }
            | Command::Repair { source, database, lock }
            | Command::Baseline { source, database, lock, .. }
            | Command::Adopt { source, database, lock, .. } => Some(options(source, database, Some(lock), None)),
            Command::Rehearse { source, database, .. } => Some(options(source, database, None, None)),
            Command::Status { source, database, sets, .. } => {
                Some(DbOptions { sets: &sets.sets, ..options(source, database, None, None) })
            }
            Command::Validate { source, database, policy, .. } | Command::Plan { source, database, policy, .. } => {
                Some(options(source, database, None, Some(policy)))
            }
        }
    }
}

/// `migrator lint`.
#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The migrations directory [default: --source].
    pub(crate) dir: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) source: Source,
    /// The SQL dialect [default: the scheme of the DATABASE_URL environment variable].
    #[arg(long, value_enum)]
    pub(crate) dialect: Option<DialectArg>,
    /// human: like compiler errors; json: one object with a `findings` list; github: workflow annotations.
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub(crate) format: LintFormat,
    /// List every finding (human and github formats list the first 50 and say how many more there are; json lists
    /// every one).
    #[arg(long)]
    pub(crate) all: bool,
    /// Lint only migrations of this version and newer (older ones have shipped).
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub(crate) lint_from: Option<i64>,
    /// Raise a rule to deny (repeatable).
    #[arg(long, value_name = "RULE")]
    pub(crate) deny: Vec<String>,
    /// Lower a rule to warn (repeatable).
    #[arg(long, value_name = "RULE")]
    pub(crate) warn: Vec<String>,
    /// Turn a rule off (repeatable).
    #[arg(long, value_name = "RULE")]
    pub(crate) off: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PhaseArg {
    Expand,
    Contract,
    All,
}

impl PhaseArg {
    pub(crate) fn phases(self) -> migrator_core::Phases {
        match self {
            PhaseArg::Expand => migrator_core::Phases::Expand,
            PhaseArg::Contract => migrator_core::Phases::Contract,
            PhaseArg::All => migrator_core::Phases::All,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    Postgres,
    Mysql,
    Sqlite,
}

impl DialectArg {
    pub(crate) fn dialect(self) -> migrator_core::Dialect {
        match self {
            DialectArg::Postgres => migrator_core::Dialect::Postgres,
            DialectArg::Mysql => migrator_core::Dialect::MySql,
            DialectArg::Sqlite => migrator_core::Dialect::Sqlite,
        }
    }
}

/// `--format` of `status` and `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LintFormat {
    Human,
    Json,
    Github,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::parse_from(args.iter().map(OsString::from))
    }

    #[test]
    fn lock_retries_are_options_of_the_commands_that_run_migrations() {
        // (arguments) -> (retries, window in seconds), or refused
        type Case<'a> = (&'a [&'a str], Option<(u32, u64)>);
        let cases: &[Case<'_>] = &[
            (&["migrator", "up"], Some((4, 120))),
            (&["migrator", "up", "--lock-retries", "0"], Some((0, 120))),
            (&["migrator", "down", "--lock-retries", "9", "--lock-retry-window", "30s"], Some((9, 30))),
            (&["migrator", "redo", "--lock-retry-window=5min"], Some((4, 300))),
            (&["migrator", "resume", "--lock-retries", "100"], Some((100, 120))),
            (&["migrator", "up", "--lock-retries", "101"], None),
            (&["migrator", "up", "--lock-retries", "-1"], None),
            (&["migrator", "up", "--lock-retry-window", "soon"], None),
            (&["migrator", "up", "--lock-retry-window", "25h"], None),
            (&["migrator", "force", "1", "--lock-retries", "3"], None),
            (&["migrator", "status", "--lock-retries", "3"], None),
        ];
        for (args, expected) in cases {
            let got = parse(args).ok().map(|cli| {
                let retry = cli.command.db_options().unwrap().retry.unwrap();
                (retry.lock_retries, retry.lock_retry_window.as_secs())
            });
            assert_eq!(got, *expected, "{args:?}");
        }
        let force = parse(&["migrator", "force", "1"]).unwrap();
        assert!(force.command.db_options().unwrap().retry.is_none(), "force runs no migration");
    }

    #[test]
    fn options_go_before_or_after_the_subcommand() {
        let before = parse(&["migrator", "--source", "db/m", "--lock-wait", "5s", "--ignore-unknown", "up"]).unwrap();
        let inline = parse(&["migrator", "--source=db/m", "--lock-wait=5s", "up", "--ignore-unknown"]).unwrap();
        let after = parse(&["migrator", "up", "--source", "db/m", "--lock-wait", "5s", "--ignore-unknown"]).unwrap();
        for cli in [before, inline, after] {
            let options = cli.command.db_options().unwrap();
            assert_eq!(options.source, Path::new("db/m"));
            assert_eq!(options.lock.unwrap().lock_wait, Duration::from_secs(5));
            assert!(options.policy.unwrap().ignore_unknown);
            assert!(matches!(cli.command, Command::Up { to: None, phase: PhaseArg::Expand, .. }));
        }
        assert!(parse(&["migrator", "--lease-ttl", "5s", "new", "x"]).is_err(), "new takes no lock option");
        assert!(parse(&["migrator", "--source", "db/m", "new", "x"]).is_ok());
        assert!(parse(&["migrator", "--source", "db/m"]).is_err(), "no subcommand");
    }

    #[test]
    fn hoisting_moves_only_the_old_global_options() {
        let hoisted = |args: &[&str]| -> Vec<String> {
            hoist(args.iter().map(OsString::from).collect()).iter().map(|a| a.to_string_lossy().into_owned()).collect()
        };
        assert_eq!(
            hoisted(&["m", "--table", "t", "--ignore-unknown", "status", "--format", "json"]),
            ["m", "status", "--table", "t", "--ignore-unknown", "--format", "json"]
        );
        assert_eq!(hoisted(&["m", "--help"]), ["m", "--help"]);
        assert_eq!(hoisted(&["m", "--bogus", "up", "--table", "t"]), ["m", "--bogus", "up", "--table", "t"]);
        assert_eq!(hoisted(&["m", "--table"]), ["m", "--table"]);
    }

    #[test]
    fn the_layout_is_an_option_of_every_command_that_reads_the_directory() {
        use migrator_core::Layout;
        let cli = parse(&["migrator", "up", "--layout", "golang-migrate"]).unwrap();
        assert_eq!(cli.command.db_options().unwrap().layout, Some(Layout::GolangMigrate));
        let cli = parse(&["migrator", "--layout", "diesel", "status"]).unwrap();
        assert_eq!(cli.command.db_options().unwrap().layout, Some(Layout::Diesel));
        assert_eq!(parse(&["migrator", "plan"]).unwrap().command.db_options().unwrap().layout, None);
        let Command::Lint(args) = parse(&["migrator", "lint", "--layout", "goose"]).unwrap().command else {
            panic!("not lint")
        };
        assert_eq!(args.source.layout(), Some(Layout::Goose));
        assert!(parse(&["migrator", "new", "x", "--layout", "flyway"]).is_ok());
        let error = parse(&["migrator", "up", "--layout", "dbmate"]).unwrap_err().to_string();
        assert!(
            error.contains("possible values: auto, migrator, sqlx, diesel, refinery, flyway, golang-migrate, goose"),
            "{error}"
        );
        // Every layout has its value.
        for layout in Layout::ALL {
            let cli = parse(&["migrator", "status", "--layout", layout.id()]).unwrap();
            assert_eq!(cli.command.db_options().unwrap().layout, Some(layout));
        }
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&["migrator", "down", "--steps", "2", "--all"]).is_err());
        assert!(parse(&["migrator", "force", "0"]).is_err());
        assert!(parse(&["migrator", "up", "--lock-wait", "5 parsecs"]).is_err());
        assert!(parse(&["migrator", "status", "--format", "yaml"]).is_err());
    }

    #[test]
    fn rehearse_takes_rows_a_stall_and_a_format() {
        let cli = parse(&["migrator", "rehearse", "--rows", "5000", "--max-stall", "2s", "--format", "json"]).unwrap();
        let Command::Rehearse { rows, max_stall, no_rewrite, from, format, .. } = cli.command else {
            panic!("not rehearse")
        };
        assert_eq!(
            (rows, max_stall, no_rewrite, from, format),
            (5000, Duration::from_secs(2), false, None, Format::Json)
        );
        let cli = parse(&["migrator", "rehearse", "--no-rewrite", "--from", "3"]).unwrap();
        let Command::Rehearse { rows, max_stall, no_rewrite, from, .. } = cli.command else { panic!("not rehearse") };
        assert_eq!((rows, max_stall, no_rewrite, from), (100_000, Duration::from_millis(200), true, Some(3)));
        for bad in [
            &["migrator", "rehearse", "--rows", "0"][..],
            &["migrator", "rehearse", "--max-stall", "soon"],
            &["migrator", "rehearse", "--lock-wait", "1s"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sets_parse_name_dir_and_table() {
        assert_eq!(
            parse_set("jobs=vendor/jobs:_migrator_history_jobs"),
            Ok(SetArg { name: "jobs".into(), dir: "vendor/jobs".into(), table: Some("_migrator_history_jobs".into()) })
        );
        assert_eq!(parse_set("app=migrations").map(|s| s.table), Ok(None));
        for bad in ["app", "=dir", "app=", "app=:t", "app=dir:"] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }
}
