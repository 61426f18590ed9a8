//! The command line: global options (accepted before or after the subcommand) and one
//! subcommand per operation. `--help` is generated from these doc comments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Versioned, reversible database migrations for PostgreSQL, MySQL/MariaDB and SQLite: the
/// same runner, lock and checks as the `migrator` library your application embeds.
#[derive(Debug, Parser)]
#[command(name = "migrator", version, propagate_version = true, max_term_width = 100)]
#[command(after_help = "Exit codes: 0 success; 1 failure (or lint found deny/fatal findings); 2 usage error.\n\
    The scheme of the database URL picks the database: postgres:// or postgresql://, mysql:// or mariadb://, sqlite://.")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every subcommand accepts, before or after its name.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The database: postgres://user:password@host/db, mysql://user@host/db, sqlite://app.db (TLS through the URL's
    /// own parameters, such as sslmode=require or ssl-mode=REQUIRED).
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,

    /// The migrations directory.
    #[arg(long, global = true, env = "MIGRATOR_SOURCE", default_value = "migrations", value_name = "DIR")]
    pub(crate) source: PathBuf,

    /// The history table [default: _migrator_history].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) table: Option<String>,

    /// The schema of the history table (PostgreSQL) [default: the connection's current schema].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) schema: Option<String>,

    /// How long to wait for the migration lock held by another process (on SQLite: for its write lock), such as
    /// 30s or 5min. Not the lock-timeout directive, which bounds each statement's wait for table locks.
    #[arg(long, global = true, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    pub(crate) lock_wait: Duration,

    /// Which lock serializes migrators: `session` (the database's session lock; the default) or `lease` (a lease row
    /// renewed by a heartbeat, for PostgreSQL behind a transaction-mode pooler such as PgBouncer).
    #[arg(long, global = true, value_enum, default_value_t = LockKind::Session, value_name = "KIND")]
    pub(crate) lock_strategy: LockKind,

    /// How long a lease lasts without its holder's heartbeat (with `--lock-strategy lease`): after a holder dies,
    /// the next runner waits this long.
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) lease_ttl: Duration,

    /// Apply a pending migration older than the newest applied one (merged late from a branch) instead of refusing.
    #[arg(long, global = true)]
    pub(crate) allow_out_of_order: bool,

    /// Accept applied versions that the migrations directory does not have.
    #[arg(long, global = true)]
    pub(crate) ignore_unknown: bool,
}

/// The `--lock-strategy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LockKind {
    /// The database's session lock (advisory lock, GET_LOCK).
    Session,
    /// A lease row with a heartbeat and a fencing token.
    Lease,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    migrator_core::directive::parse_duration(text)
}

/// A migration version: a positive integer.
fn parse_version(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(version) if version > 0 => Ok(version),
        _ => Err(format!("`{text}` is not a migration version: versions are positive integers")),
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
    },
    /// Revert applied migrations, newest first (in the order they were applied). Default: the newest one.
    Down {
        /// How many to revert.
        #[arg(long, value_name = "N", conflicts_with_all = ["to", "all"])]
        steps: Option<usize>,
        /// Revert every migration newer than this version (it stays applied).
        #[arg(long, value_name = "VERSION", value_parser = parse_version, conflicts_with = "all")]
        to: Option<i64>,
        /// Revert everything.
        #[arg(long)]
        all: bool,
    },
    /// Revert the newest applied migration and apply it again.
    Redo,
    /// Show every migration and its state.
    Status {
        /// human: a table; json: one object with a `migrations` list.
        #[arg(long, value_enum, default_value_t = StatusFormat::Human)]
        format: StatusFormat,
    },
    /// Check the migration files (names, directives, fatal lint findings) and, with a database URL, the history
    /// against them (checksums, failed or interrupted migrations, unknown versions). Exit code 1 on any problem.
    Validate {
        /// The SQL dialect of the files, when no database URL says it.
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
    },
    /// Print what `up` would apply, SQL included, without running anything.
    Plan {
        /// Nothing newer than this version.
        #[arg(long, value_name = "VERSION", value_parser = parse_version)]
        to: Option<i64>,
        /// Which migrations: expand, contract or all.
        #[arg(long, value_enum, default_value_t = PhaseArg::Expand)]
        phase: PhaseArg,
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
    },
    /// Record a migration as applied without running anything (you finished it by hand).
    Force {
        /// The migration's version.
        #[arg(value_name = "VERSION", value_parser = parse_version)]
        migration: i64,
        /// Remove its history row instead (you reverted it by hand).
        #[arg(long)]
        reverted: bool,
    },
    /// Record the current checksums of applied migrations whose files were edited on purpose, listing each.
    Repair,
    /// Record every migration up to VERSION as applied without running it, to adopt an existing database.
    Baseline {
        /// The newest migration the database already has.
        #[arg(value_name = "VERSION", value_parser = parse_version)]
        migration: i64,
    },
}

/// `migrator lint`.
#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The migrations directory [default: --source].
    pub(crate) dir: Option<PathBuf>,
    /// The SQL dialect [default: the database URL's].
    #[arg(long, value_enum)]
    pub(crate) dialect: Option<DialectArg>,
    /// human: like compiler errors; json: one object with a `findings` list; github: workflow annotations.
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub(crate) format: LintFormat,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusFormat {
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

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let before = Cli::try_parse_from(["migrator", "--source", "db/m", "--lock-wait", "5s", "up"]).unwrap();
        let after = Cli::try_parse_from(["migrator", "up", "--source", "db/m", "--lock-wait", "5s"]).unwrap();
        for cli in [before, after] {
            assert_eq!(cli.global.source, PathBuf::from("db/m"));
            assert_eq!(cli.global.lock_wait, Duration::from_secs(5));
            assert!(matches!(cli.command, Command::Up { to: None, phase: PhaseArg::Expand }));
        }
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(Cli::try_parse_from(["migrator", "down", "--steps", "2", "--all"]).is_err());
        assert!(Cli::try_parse_from(["migrator", "force", "0"]).is_err());
        assert!(Cli::try_parse_from(["migrator", "up", "--lock-wait", "5 parsecs"]).is_err());
        assert!(Cli::try_parse_from(["migrator", "status", "--format", "yaml"]).is_err());
    }
}
