//! What a backend can do, and which lock a run asks for: declared in code, so a request a
//! backend cannot honour is refused when the migrator is built, never ignored.

use std::time::Duration;

use crate::dialect::Dialect;

/// What a backend can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The SQL dialect for splitting and linting.
    pub dialect: Dialect,
    /// DDL statements can run inside a transaction and roll back (PostgreSQL, SQLite).
    pub transactional_ddl: bool,
    /// The backend has a lock that serializes migrators (advisory lock, `GET_LOCK`).
    pub migration_lock: bool,
    /// The history table may live in a named schema.
    pub schemas: bool,
    /// Per-migration lock timeouts are enforced.
    pub lock_timeout: bool,
    /// Per-migration statement timeouts are enforced.
    pub statement_timeout: bool,
    /// The lease lock ([`LockStrategy::Lease`]) is available.
    pub lease_lock: bool,
    /// Several transactional migrations can run in one transaction
    /// ([`crate::driver::Session::execute_group`]; the `grouped` option).
    pub grouped_apply: bool,
}

impl Capabilities {
    /// Capabilities for `dialect` with every feature off; backends switch on what they have.
    pub const fn new(dialect: Dialect) -> Self {
        Capabilities {
            dialect,
            transactional_ddl: false,
            migration_lock: false,
            schemas: false,
            lock_timeout: false,
            statement_timeout: false,
            lease_lock: false,
            grouped_apply: false,
        }
    }
}

/// Which lock serializes migrators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockStrategy {
    /// The database's session lock on the migration connection (PostgreSQL advisory lock,
    /// MySQL `GET_LOCK`): the server releases it when the connection ends, whatever happens
    /// to the process. The default. It needs the connection to be one server session, so it
    /// is unsafe behind a transaction-mode pooler (PgBouncer `pool_mode = transaction`);
    /// PostgreSQL detects that and fails with [`crate::Error::LockUnsafe`]. On a Galera
    /// cluster `GET_LOCK` is node-local: MySQL/MariaDB refuse it there with the same error.
    #[default]
    Session,
    /// A lease row in `_migrator_lock`: holder identity, a fencing token checked by every
    /// history write, expiry judged by the server's clock, a heartbeat on its own connection.
    /// For transaction-mode poolers, Galera clusters and databases without session locks
    /// (PostgreSQL, MySQL and MariaDB have it; SQLite does not). A dead holder's
    /// lease expires after its time to live; a live holder keeps renewing it.
    Lease(Lease),
}

impl LockStrategy {
    /// A lease with the default time to live.
    pub const fn lease() -> Self {
        LockStrategy::Lease(Lease::new(Lease::DEFAULT_TTL))
    }
}

/// The settings of [`LockStrategy::Lease`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// How long the lease lasts without a heartbeat: after a holder dies, others wait this
    /// long. The heartbeat renews it every third of this.
    pub ttl: Duration,
}

impl Lease {
    /// The default time to live (30 s).
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

    /// A lease lasting `ttl` without a heartbeat.
    pub const fn new(ttl: Duration) -> Self {
        Lease { ttl }
    }
}
