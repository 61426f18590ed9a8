//! What a migrator may be built with: every option and every migration checked against the
//! backend's [`Capabilities`], so a request the database cannot honour is refused before
//! anything runs, never ignored.

use std::time::Duration;

use crate::capabilities::{Capabilities, LockStrategy};
use crate::dialect::Dialect;
use crate::error::{Error, LoadError};
use crate::text::human;

/// The shortest lease that can be renewed reliably.
pub(crate) const MIN_LEASE_TTL: Duration = Duration::from_millis(300);
/// The longest lease: a dead holder blocks others this long.
pub(crate) const MAX_LEASE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The options a migrator is built with, as far as the backend must support them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requested<'a> {
    /// The history table's schema, when one is set.
    pub(crate) schema: Option<&'a str>,
    /// A lock timeout set explicitly for every migration.
    pub(crate) lock_timeout: Option<Duration>,
    /// The lock strategy.
    pub(crate) strategy: LockStrategy,
    /// Grouped apply: a run's transactional migrations in one transaction.
    pub(crate) grouped: bool,
}

/// One step (up or down) of a migration, as far as the backend must support it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepNeeds<'a> {
    /// Its file (or Rust type), for messages.
    pub(crate) origin: &'a str,
    /// The dialect an SQL script was embedded or loaded for (`None` for Rust code).
    pub(crate) dialect: Option<Dialect>,
    /// It sets `-- migrator:lock-timeout`.
    pub(crate) lock_timeout: bool,
    /// It sets `-- migrator:statement-timeout`.
    pub(crate) statement_timeout: bool,
    /// It runs outside a transaction (`-- migrator:no-transaction`).
    pub(crate) no_transaction: bool,
}

/// Refuses options and migrations the backend cannot honour: options first (one error),
/// then every migration problem at once, naming each file.
pub(crate) fn check_build<'a>(
    caps: Capabilities,
    requested: &Requested<'_>,
    steps: impl IntoIterator<Item = StepNeeds<'a>>,
) -> Result<(), Error> {
    let database = caps.dialect.name();
    let unsupported =
        |what: &str, instead: &str| Error::Unsupported { database, what: what.to_owned(), instead: instead.to_owned() };
    if requested.schema.is_some() && !caps.schemas {
        return Err(unsupported(
            "keep the history table in a named schema",
            "this database has no schemas, so leave the history schema unset",
        ));
    }
    if requested.lock_timeout.is_some() && !caps.lock_timeout {
        return Err(unsupported("enforce lock timeouts", "leave the lock timeout unset"));
    }
    if requested.grouped && !caps.grouped_apply {
        return Err(unsupported(
            "run several migrations in one transaction (grouped apply)",
            "leave grouped apply off: this database commits DDL implicitly, so a group could not be all or nothing",
        ));
    }
    let lease = match requested.strategy {
        LockStrategy::Lease(lease) => Some(lease),
        LockStrategy::Session => None,
    };
    if let Some(lease) = lease {
        if !caps.lease_lock {
            return Err(unsupported("take the lease lock", "use the default session lock"));
        }
        if lease.ttl < MIN_LEASE_TTL {
            return Err(Error::InvalidOption {
                option: "lease time to live",
                value: human(lease.ttl),
                reason: format!(
                    "too short to be renewed reliably: use at least {} (30s is the default)",
                    human(MIN_LEASE_TTL)
                ),
            });
        }
        if lease.ttl > MAX_LEASE_TTL {
            return Err(Error::InvalidOption {
                option: "lease time to live",
                value: human(lease.ttl),
                reason: format!(
                    "a dead holder would block every other runner that long: use at most {} (30s is the default)",
                    human(MAX_LEASE_TTL)
                ),
            });
        }
    }
    let mut errors = Vec::new();
    for step in steps {
        let mut refuse = |message: String| {
            errors.push(LoadError { path: step.origin.to_owned(), line: None, column: None, message });
        };
        if let Some(dialect) = step.dialect.filter(|d| *d != caps.dialect) {
            refuse(format!(
                "embedded for {} but this database is {database}: use the embed macro of the backend crate you run on",
                dialect.name()
            ));
        }
        for (set, directive, supported) in [
            (step.lock_timeout, "lock-timeout", caps.lock_timeout),
            (step.statement_timeout, "statement-timeout", caps.statement_timeout),
        ] {
            if !set {
                continue;
            }
            if !supported {
                refuse(format!("`{directive}` cannot be enforced by this database ({database}): remove the directive"));
            } else if lease.is_some() && step.no_transaction {
                // Behind a transaction-mode pooler, a session SET lands on some server
                // connection, not necessarily the one that runs the statements (and stays there).
                refuse(format!(
                    "`{directive}` cannot be pinned to the statements of a no-transaction migration under the lease \
                     lock (a transaction-mode pooler may run each statement on another server connection): remove \
                     the directive and set the limit on the role (ALTER ROLE … SET lock_timeout), or use the \
                     session lock without a pooler"
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Load { errors }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::Lease;

    fn caps(dialect: Dialect, all: bool) -> Capabilities {
        let mut caps = Capabilities::new(dialect);
        caps.schemas = all;
        caps.lock_timeout = all;
        caps.statement_timeout = all;
        caps.lease_lock = all;
        caps
    }

    const PLAIN: Requested<'static> =
        Requested { schema: None, lock_timeout: None, strategy: LockStrategy::Session, grouped: false };

    fn step(origin: &str) -> StepNeeds<'_> {
        StepNeeds {
            origin,
            dialect: Some(Dialect::Postgres),
            lock_timeout: false,
            statement_timeout: false,
            no_transaction: false,
        }
    }

    fn refused(caps: Capabilities, requested: Requested<'_>, steps: Vec<StepNeeds<'_>>) -> String {
        match check_build(caps, &requested, steps) {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn options_a_backend_cannot_honour_are_refused() {
        let pg = caps(Dialect::Postgres, true);
        let sqlite = caps(Dialect::Sqlite, false);
        let mut grouping = caps(Dialect::Sqlite, false);
        grouping.grouped_apply = true;
        let lease = |ms| LockStrategy::Lease(Lease::new(Duration::from_millis(ms)));
        let cases: Vec<(Capabilities, Requested<'_>, &str)> = vec![
            (pg, PLAIN, "ok"),
            (
                pg,
                Requested {
                    schema: Some("app"),
                    lock_timeout: Some(Duration::from_secs(1)),
                    strategy: lease(30_000),
                    grouped: false,
                },
                "ok",
            ),
            (
                sqlite,
                Requested { schema: Some("app"), ..PLAIN },
                "SQLite cannot keep the history table in a named schema",
            ),
            (
                sqlite,
                Requested { lock_timeout: Some(Duration::from_secs(1)), ..PLAIN },
                "SQLite cannot enforce lock timeouts",
            ),
            (sqlite, Requested { strategy: lease(30_000), ..PLAIN }, "SQLite cannot take the lease lock"),
            (pg, Requested { strategy: lease(100), ..PLAIN }, "invalid lease time to live `100ms`: too short"),
            (grouping, Requested { grouped: true, ..PLAIN }, "ok"),
            (
                caps(Dialect::MySql, true),
                Requested { grouped: true, ..PLAIN },
                "MySQL cannot run several migrations in one transaction (grouped apply)",
            ),
            (pg, Requested { strategy: lease(u64::MAX), ..PLAIN }, "invalid lease time to live"),
        ];
        for (caps, requested, expect) in cases {
            let got = refused(caps, requested, Vec::new());
            assert!(got.starts_with(expect), "{expect}: {got}");
        }
        let e = check_build(sqlite, &Requested { schema: Some("app"), ..PLAIN }, Vec::new()).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    }

    #[test]
    fn migrations_a_backend_cannot_honour_are_refused_naming_each_file() {
        let pg = caps(Dialect::Postgres, true);
        let sqlite = caps(Dialect::Sqlite, false);
        let limited = StepNeeds { lock_timeout: true, statement_timeout: true, ..step("m/1_a.up.sql") };
        assert_eq!(refused(pg, PLAIN, vec![limited]), "ok");
        let got = refused(sqlite, PLAIN, vec![limited, step("m/2_b.up.sql")]);
        assert!(got.starts_with("4 problems in migration files"), "{got}");
        assert!(got.contains("m/1_a.up.sql: `lock-timeout` cannot be enforced by this database (SQLite)"), "{got}");
        assert!(got.contains("m/2_b.up.sql: embedded for PostgreSQL but this database is SQLite"), "{got}");
        let no_tx = StepNeeds { no_transaction: true, ..limited };
        let lease = Requested { strategy: LockStrategy::lease(), ..PLAIN };
        let got = refused(pg, lease, vec![no_tx]);
        assert!(
            got.contains("`lock-timeout` cannot be pinned to the statements of a no-transaction migration"),
            "{got}"
        );
        assert_eq!(refused(pg, lease, vec![limited]), "ok", "a transaction keeps its SET LOCAL");
        assert_eq!(refused(pg, PLAIN, vec![no_tx]), "ok", "the session lock keeps one server connection");
        let rust = StepNeeds { dialect: None, ..step("app::Backfill") };
        assert_eq!(refused(sqlite, PLAIN, vec![rust]), "ok");
    }
}
