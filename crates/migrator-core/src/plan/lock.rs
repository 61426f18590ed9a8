//! Whether the chosen lock protects anything on this connection, decided from what the
//! driver detected: a session lock shared with other clients (a transaction-mode pooler),
//! one the server grants per node of a cluster (Galera's `GET_LOCK`, MySQL Group
//! Replication in multi-primary mode), or one an engine that speaks the PostgreSQL or MySQL
//! protocol only pretends to take (CockroachDB's session advisory locks) serializes nothing.
//!
//! The engine is told from the version text the server reports (`version()` on
//! PostgreSQL's protocol, `VERSION()` on MySQL's) and, on MySQL's protocol, from the
//! variables that exist only on a cluster node. A server configured to report another
//! version text cannot be told apart; the README's compatibility table says what each engine
//! needs.

use std::time::Duration;

use crate::capabilities::LockStrategy;
use crate::error::Error;

/// What to do instead of a session lock that protects nothing.
const USE_THE_LEASE: &str = "Use the lease lock (`LockStrategy::lease()`, CLI `--lock-strategy lease`)";

/// The longest `GET_LOCK` wait TiDB honours: it turns longer ones (and `-1`) into one hour.
pub const TIDB_MAX_LOCK_WAIT: Duration = Duration::from_secs(3600);

/// The database engine behind a connection, as its version text tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL itself.
    PostgreSql,
    /// CockroachDB (`version()` starts with `CockroachDB`): its session advisory lock
    /// functions answer as if they locked, and lock nothing.
    CockroachDb,
    /// YugabyteDB (`version()` holds `-YB-`): advisory locks exist from 2.25 (on by default
    /// from 2.27); older servers refuse them with an error.
    YugabyteDb,
    /// MySQL.
    MySql,
    /// MariaDB.
    MariaDb,
    /// TiDB (`VERSION()` holds `TiDB`): `GET_LOCK` is cluster-wide, and its wait is capped
    /// at one hour.
    TiDb,
    /// Vitess or PlanetScale through vtgate (`VERSION()` holds `vitess`, as vtgate reports
    /// by default): `GET_LOCK` works only as `SELECT … FROM dual`, on a reserved connection
    /// to one shard.
    Vitess,
}

impl Engine {
    /// The engine behind a PostgreSQL-protocol connection, from `SELECT version()`.
    pub fn of_postgres_version(version: &str) -> Engine {
        if version.trim_start().starts_with("CockroachDB") {
            Engine::CockroachDb
        } else if version.contains("-YB-") {
            Engine::YugabyteDb
        } else {
            Engine::PostgreSql
        }
    }

    /// The engine behind a MySQL-protocol connection, from `SELECT VERSION()`.
    pub fn of_mysql_version(version: &str) -> Engine {
        let lower = version.to_ascii_lowercase();
        if lower.contains("tidb") {
            Engine::TiDb
        } else if lower.contains("vitess") || lower.contains("planetscale") {
            Engine::Vitess
        } else if lower.contains("mariadb") {
            Engine::MariaDb
        } else {
            Engine::MySql
        }
    }

    /// The engine's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Engine::PostgreSql => "PostgreSQL",
            Engine::CockroachDb => "CockroachDB",
            Engine::YugabyteDb => "YugabyteDB",
            Engine::MySql => "MySQL",
            Engine::MariaDb => "MariaDB",
            Engine::TiDb => "TiDB",
            Engine::Vitess => "Vitess",
        }
    }
}

/// How a MySQL-protocol server shares writes with other nodes that take writes too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Cluster {
    /// No such cluster (a single server, or a replica set with one writer).
    #[default]
    None,
    /// A node of a Galera cluster (MariaDB Galera, Percona XtraDB Cluster): `wsrep_on` is ON.
    Galera,
    /// A member of a MySQL Group Replication group (`group_replication_group_name` is set);
    /// `multi_primary` when every member takes writes
    /// (`group_replication_single_primary_mode` is OFF).
    GroupReplication {
        /// Every member takes writes.
        multi_primary: bool,
    },
}

impl Cluster {
    /// The cluster from the values of `wsrep_on`, `group_replication_group_name` and
    /// `group_replication_single_primary_mode` (`None` where the server has no such
    /// variable).
    pub fn of_mysql_variables(
        wsrep_on: Option<&str>,
        group_name: Option<&str>,
        single_primary: Option<&str>,
    ) -> Cluster {
        if wsrep_on.is_some_and(|on| on.eq_ignore_ascii_case("ON")) {
            Cluster::Galera
        } else if group_name.is_some_and(|name| !name.trim().is_empty()) {
            Cluster::GroupReplication { multi_primary: single_primary.is_some_and(|s| s.eq_ignore_ascii_case("OFF")) }
        } else {
            Cluster::None
        }
    }

    /// Whether a transaction's commit is certified against the other nodes' (Galera, Group
    /// Replication): a lease row is then decided cluster-wide at commit, and reads must wait
    /// for the node to have applied what others committed.
    pub fn certifies(self) -> bool {
        !matches!(self, Cluster::None)
    }
}

/// What a driver detected of the server behind a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    /// The engine.
    pub engine: Engine,
    /// The cluster it is a node of, if any (MySQL protocol).
    pub cluster: Cluster,
}

/// Refuses a lock strategy that protects nothing on `server`, before anything runs, with
/// what to use instead. The lease lock works everywhere: it is a row written by its taker.
///
/// The session lock is refused on a Galera node and on a multi-primary Group Replication
/// member (`GET_LOCK` is node-local: a runner on another node is granted it too), on
/// CockroachDB (its session advisory lock functions lock nothing), on Vitess (`GET_LOCK`
/// only on a reserved connection to one shard) and, on TiDB, with a lock wait over one hour
/// (TiDB would stop waiting after an hour while the run counts on `wait`).
pub fn check_session_lock(strategy: LockStrategy, server: Server, wait: Duration) -> Result<(), Error> {
    if !matches!(strategy, LockStrategy::Session) {
        return Ok(());
    }
    let refuse = |reason: &str, why: &str| {
        Err(Error::LockUnsafe { reason: reason.to_owned(), instead: format!("{USE_THE_LEASE}: {why}") })
    };
    let row_taken = "a lease is taken by writing its row, which every client of the engine sees the same, so exactly \
                     one runner holds it";
    match (server.engine, server.cluster) {
        (_, Cluster::Galera) => refuse(
            "the server is a node of a Galera cluster (wsrep_on = ON), where GET_LOCK is node-local: a runner \
             connected to another node is granted the same lock at the same time",
            "a lease is taken by writing its row, which Galera certifies across the cluster, so exactly one node's \
             runner holds it",
        ),
        (_, Cluster::GroupReplication { multi_primary: true }) => refuse(
            "the server is a member of a multi-primary MySQL Group Replication group, where GET_LOCK is local to the \
             member: a runner connected to another member is granted the same lock at the same time",
            "a lease is taken by writing its row, which the group certifies across its members, so exactly one \
             runner holds it",
        ),
        (Engine::CockroachDb, _) => refuse(
            "the server is CockroachDB, whose session advisory lock functions (pg_try_advisory_lock) answer as if \
             they locked and lock nothing: two runners would both go on",
            row_taken,
        ),
        (Engine::Vitess, _) => refuse(
            "the server is Vitess (vtgate), where GET_LOCK works only as SELECT ... FROM dual on a connection vtgate \
             reserves to one shard, and migrator does not rely on that routing",
            row_taken,
        ),
        (Engine::TiDb, _) if wait > TIDB_MAX_LOCK_WAIT => Err(Error::LockUnsafe {
            reason: format!(
                "the server is TiDB, which caps GET_LOCK's wait at one hour, and the lock wait is {}: a runner would \
                 stop waiting after an hour while the run counts on the longer wait",
                crate::text::human(wait)
            ),
            instead: format!(
                "Set a lock wait of at most one hour (`MigratorBuilder::lock_wait`, CLI `--lock-wait 1h`), or {}",
                USE_THE_LEASE.replacen("Use", "use", 1)
            ),
        }),
        _ => Ok(()),
    }
}

/// The refusal of a session lock found shared with another client, as behind a
/// transaction-mode pooler; `reason` says what was detected.
pub fn shared_session_lock(reason: String) -> Error {
    Error::LockUnsafe {
        reason,
        instead: format!("{USE_THE_LEASE}, or connect without the pooler (or through a session-mode pool)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn server(engine: Engine, cluster: Cluster) -> Server {
        Server { engine, cluster }
    }

    #[test]
    fn engines_are_told_from_their_version_text() {
        for (text, engine) in [
            ("PostgreSQL 15.14 (Debian 15.14-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc", Engine::PostgreSql),
            ("PostgreSQL 18.4 on x86_64-pc-linux-gnu, compiled by gcc (GCC) 11.4.0, 64-bit", Engine::PostgreSql),
            ("CockroachDB CCL v24.1.0 (x86_64-pc-linux-gnu, built 2024/05/15 21:28:29, go1.22.2)", Engine::CockroachDb),
            (
                "PostgreSQL 11.2-YB-2.20.1.0-b0 on x86_64-pc-linux-gnu, compiled by clang version 16.0.6",
                Engine::YugabyteDb,
            ),
            ("PostgreSQL 15.2-YB-2025.1.0.0-b0 on x86_64-pc-linux-gnu", Engine::YugabyteDb),
        ] {
            assert_eq!(Engine::of_postgres_version(text), engine, "{text}");
        }
        for (text, engine) in [
            ("10.11.14-MariaDB-0+deb12u2", Engine::MariaDb),
            ("10.11.14-MariaDB-0+deb12u2-log", Engine::MariaDb),
            ("8.0.39", Engine::MySql),
            ("8.4.2-commercial", Engine::MySql),
            ("8.0.11-TiDB-v7.5.1", Engine::TiDb),
            ("5.7.25-TiDB-v6.5.0", Engine::TiDb),
            ("8.0.31-vitess", Engine::Vitess),
            ("8.0.30-Vitess", Engine::Vitess),
        ] {
            assert_eq!(Engine::of_mysql_version(text), engine, "{text}");
        }
    }

    #[test]
    fn clusters_are_told_from_their_variables() {
        for (wsrep, group, single, cluster) in [
            (None, None, None, Cluster::None),
            (Some("OFF"), None, None, Cluster::None),
            (Some("ON"), None, None, Cluster::Galera),
            (Some("on"), None, None, Cluster::Galera),
            (None, Some(""), Some("ON"), Cluster::None),
            (
                None,
                Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
                Some("ON"),
                Cluster::GroupReplication { multi_primary: false },
            ),
            (
                None,
                Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
                Some("OFF"),
                Cluster::GroupReplication { multi_primary: true },
            ),
        ] {
            assert_eq!(Cluster::of_mysql_variables(wsrep, group, single), cluster, "{wsrep:?} {group:?} {single:?}");
            assert_eq!(cluster.certifies(), cluster != Cluster::None);
        }
    }

    #[test]
    fn the_session_lock_is_refused_where_it_protects_nothing_and_only_there() {
        let gr = |multi_primary| Cluster::GroupReplication { multi_primary };
        for (engine, cluster, wait, refused, says) in [
            (Engine::PostgreSql, Cluster::None, MINUTE, false, ""),
            (Engine::YugabyteDb, Cluster::None, MINUTE, false, ""),
            (Engine::MariaDb, Cluster::None, MINUTE, false, ""),
            (Engine::MySql, Cluster::None, MINUTE, false, ""),
            (Engine::MySql, gr(false), MINUTE, false, ""),
            (Engine::TiDb, Cluster::None, TIDB_MAX_LOCK_WAIT, false, ""),
            (Engine::MariaDb, Cluster::Galera, MINUTE, true, "node-local"),
            (Engine::MySql, Cluster::Galera, MINUTE, true, "node-local"),
            (Engine::MySql, gr(true), MINUTE, true, "multi-primary"),
            (Engine::CockroachDb, Cluster::None, MINUTE, true, "lock nothing"),
            (Engine::Vitess, Cluster::None, MINUTE, true, "FROM dual"),
            (Engine::TiDb, Cluster::None, TIDB_MAX_LOCK_WAIT + Duration::from_secs(1), true, "--lock-wait 1h"),
        ] {
            let result = check_session_lock(LockStrategy::Session, server(engine, cluster), wait);
            assert_eq!(result.is_err(), refused, "{engine:?} {cluster:?} {wait:?}");
            if let Err(e) = result {
                let message = e.to_string();
                assert!(message.contains(says), "{message}");
                assert!(message.contains("--lock-strategy lease"), "{message}");
                assert!(!message.contains("pooler"), "no pooler advice here: {message}");
            }
            // The lease is a row: it works on every one of them.
            assert!(check_session_lock(LockStrategy::lease(), server(engine, cluster), wait).is_ok());
        }
    }

    #[test]
    fn a_shared_session_lock_names_the_pooler_way_out() {
        let message = shared_session_lock("server connection 7 already held it".to_owned()).to_string();
        assert!(message.contains("server connection 7 already held it"), "{message}");
        assert!(message.contains("--lock-strategy lease") && message.contains("session-mode pool"), "{message}");
    }
}
