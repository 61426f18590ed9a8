//! Opening the database a URL names: one small pool per backend, failing fast and clearly
//! when the server cannot be reached.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::url::{Backend, DatabaseUrl};
use crate::usage::Usage;

/// How long to try reaching a server before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open database.
pub(crate) enum Target {
    Postgres(PgPool),
    MySql(MySqlPool),
    /// With a note when the file does not exist yet (read-only commands show an empty database).
    Sqlite(SqlitePool, Option<String>),
}

/// Whether the command may write (create a missing SQLite file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// sqlx's message without its prefixes (`error with configuration: ` twice, `error returned
/// from database: `) and without the position in PostgreSQL's C source that sqlx appends to
/// the server's message ("database \"x\" does not exist at line 948"): the server's message,
/// detail, hint and code, as the drivers describe errors.
fn sqlx_text(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Configuration(inner) => match inner.downcast_ref::<sqlx::Error>() {
            Some(inner) => sqlx_text(inner),
            None => inner.to_string(),
        },
        sqlx::Error::Database(db) if db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().is_some() => {
            migrator_mysql::describe_error(error)
        }
        sqlx::Error::Database(db) if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => {
            migrator_sqlite::describe_error(error)
        }
        // PostgreSQL's, and any other (each backend describes what it does not know alike).
        _ => migrator_postgres::describe_error(error),
    }
}

fn invalid(url: &DatabaseUrl, error: &sqlx::Error) -> anyhow::Error {
    Usage(format!("invalid database URL {}: {}", url.redacted(), url.scrub(&sqlx_text(error)))).into()
}

fn unreachable(url: &DatabaseUrl, error: &sqlx::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot connect to {}: {}", url.redacted(), url.scrub(&sqlx_text(error)))
}

/// Connects once, directly, so that an unreachable server fails at once with the reason
/// (refused, unknown host, bad password) instead of a pool timeout.
async fn reachable<C: sqlx::Connection>(url: &DatabaseUrl, options: &C::Options) -> anyhow::Result<()> {
    match tokio::time::timeout(CONNECT_TIMEOUT, C::connect_with(options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(unreachable(url, &e)),
        Err(_) => Err(anyhow::anyhow!(
            "cannot connect to {}: no answer within {}s",
            url.redacted(),
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

pub(crate) async fn connect(url: &DatabaseUrl, access: Access) -> anyhow::Result<Target> {
    match url.backend() {
        Backend::Postgres => {
            let options = PgConnectOptions::from_str(url.expose()).map_err(|e| invalid(url, &e))?;
            reachable::<sqlx::PgConnection>(url, &options).await?;
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .test_before_acquire(false)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_lazy_with(options);
            Ok(Target::Postgres(pool))
        }
        Backend::MySql => {
            let options = MySqlConnectOptions::from_str(url.expose()).map_err(|e| invalid(url, &e))?;
            if options.get_database().is_none_or(str::is_empty) {
                return Err(Usage(format!(
                    "the MySQL URL {} names no database: add it (mysql://user@host/app); the history table lives there",
                    url.redacted()
                ))
                .into());
            }
            reachable::<sqlx::MySqlConnection>(url, &options).await?;
            let pool = MySqlPoolOptions::new()
                .max_connections(2)
                .test_before_acquire(false)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_lazy_with(options);
            Ok(Target::MySql(pool))
        }
        Backend::Sqlite => {
            let options = SqliteConnectOptions::from_str(url.expose()).map_err(|e| invalid(url, &e))?;
            let file = options.get_filename().to_owned();
            let in_memory = file.as_os_str().is_empty() || file.to_string_lossy().starts_with("file:sqlx-in-memory");
            let (options, note) = if in_memory || access == Access::Write || file.exists() {
                (options.create_if_missing(true), None)
            } else {
                // Reading a database that does not exist yet: an empty one, without creating it.
                let note =
                    format!("{} does not exist yet: nothing is applied (`migrator up` creates it)", file.display());
                (SqliteConnectOptions::from_str("sqlite::memory:").map_err(|e| invalid(url, &e))?, Some(note))
            };
            if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty() && !in_memory && !p.is_dir()) {
                anyhow::bail!(
                    "cannot open SQLite database {}: the directory {} does not exist (create it first)",
                    file.display(),
                    parent.display()
                );
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(2)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|e| anyhow::anyhow!("cannot open SQLite database {}: {}", file.display(), sqlx_text(&e)))?;
            Ok(Target::Sqlite(pool, note))
        }
    }
}
