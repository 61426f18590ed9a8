//! Whether the chosen lock protects anything on this connection, decided from what the
//! driver detected: a session lock shared with other clients (a transaction-mode pooler),
//! or one the server grants per node of a cluster (Galera's `GET_LOCK`), serializes nothing.

use crate::capabilities::LockStrategy;
use crate::error::Error;

/// What to do instead of a session lock that protects nothing.
const USE_THE_LEASE: &str = "Use the lease lock (`LockStrategy::lease()`, CLI `--lock-strategy lease`)";

/// Refuses the session lock on a node of a Galera cluster (`@@wsrep_on` is ON): `GET_LOCK`
/// is node-local there, so runners connected to different nodes would each get it. The
/// lease lock works there: its row is written by each taker and certified cluster-wide.
pub fn check_cluster_lock(strategy: LockStrategy, galera_node: bool) -> Result<(), Error> {
    match (strategy, galera_node) {
        (LockStrategy::Session, true) => Err(Error::LockUnsafe {
            reason: "the server is a node of a Galera cluster (wsrep_on = ON), where GET_LOCK is node-local: a runner \
                     connected to another node is granted the same lock at the same time"
                .to_owned(),
            instead: format!(
                "{USE_THE_LEASE}: a lease is taken by writing its row, which Galera certifies across the cluster, so \
                 exactly one node's runner holds it"
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

    #[test]
    fn the_session_lock_is_refused_on_a_galera_node_and_only_there() {
        for (strategy, galera, refused) in [
            (LockStrategy::Session, true, true),
            (LockStrategy::Session, false, false),
            (LockStrategy::lease(), true, false),
            (LockStrategy::lease(), false, false),
        ] {
            let result = check_cluster_lock(strategy, galera);
            assert_eq!(result.is_err(), refused, "{strategy:?} on a Galera node: {galera}");
            if let Err(e) = result {
                let message = e.to_string();
                assert!(message.contains("node-local"), "{message}");
                assert!(message.contains("--lock-strategy lease"), "{message}");
                assert!(!message.contains("pooler"), "no pooler advice for a cluster: {message}");
            }
        }
    }

    #[test]
    fn a_shared_session_lock_names_the_pooler_way_out() {
        let message = shared_session_lock("server connection 7 already held it".to_owned()).to_string();
        assert!(message.contains("server connection 7 already held it"), "{message}");
        assert!(message.contains("--lock-strategy lease") && message.contains("session-mode pool"), "{message}");
    }
}
