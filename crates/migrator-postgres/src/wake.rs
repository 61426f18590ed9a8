//! Waking the waiters of the advisory lock when its holder lets go.
//!
//! A waiter never blocks inside a lock call (a blocked `pg_advisory_lock` holds a snapshot,
//! which `CREATE INDEX CONCURRENTLY` in the holder would wait for), so it polls
//! `pg_try_advisory_lock`. Polling alone leaves it asleep for up to a second after the holder
//! finished. So the holder, as it releases, unlocks and sends `NOTIFY` on the lock's channel
//! in one message; a waiter listens on that channel (on a pool connection of its own, only
//! while it waits) and tries again as soon as the notification comes. Polling with core's
//! [`Backoff`](migrator_core::backoff::Backoff) stays as the fallback: a holder that was
//! killed sends nothing, and a waiter that gets no listening connection in time polls only.
//!
//! The lease does not use this: it exists for transaction-mode poolers, where `LISTEN` does
//! not work; its waiters poll.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tracing::debug;

/// How long a waiter gives the pool to lend it a listening connection; a pool with none free
/// must not delay the wait, which then polls only.
const CONNECT: Duration = Duration::from_millis(500);

/// The notification channel of advisory lock `key` (a valid unquoted identifier of 30
/// characters).
pub(crate) fn channel(key: i64) -> String {
    format!("migrator_lock_{:016x}", key as u64)
}

/// The holder's release: every advisory lock of its dedicated session let go, then the
/// notification, which PostgreSQL delivers when the message's implicit transaction commits,
/// after the unlock (a waiter woken by it finds the lock free).
pub(crate) fn release_sql(key: i64) -> String {
    format!("SELECT pg_advisory_unlock_all();\nNOTIFY {}", channel(key))
}

/// A waiter's ear for the holder's release notification.
pub(crate) struct Waker {
    listener: Option<PgListener>,
}

impl Waker {
    /// Listens on the channel of `key` on a connection of `pool`, or, when the pool lends none
    /// within [`CONNECT`] or `LISTEN` fails, a waker that only sleeps. Call it before the try
    /// that must not miss a release: a notification sent after `LISTEN` returned is kept.
    pub(crate) async fn listen(pool: &PgPool, key: i64) -> Waker {
        let listen = async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.ignore_pool_close_event(true);
            listener.listen(&channel(key)).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let listener = match tokio::time::timeout(CONNECT, listen).await {
            Ok(Ok(listener)) => Some(listener),
            Ok(Err(error)) => {
                debug!(%error, "cannot listen for the lock holder's release; polling only");
                None
            }
            Err(_) => {
                debug!(waited_ms = CONNECT.as_millis() as u64, "no pool connection to listen on; polling only");
                None
            }
        };
        Waker { listener }
    }

    /// Waits for the holder's notification or `pause`, whichever comes first: `true` when
    /// woken by a notification.
    pub(crate) async fn wait(&mut self, pause: Duration) -> bool {
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(pause).await;
            return false;
        };
        match tokio::time::timeout(pause, listener.recv()).await {
            Ok(Ok(_)) => true,
            Ok(Err(error)) => {
                // The listening connection is gone and could not be replaced: poll from now on.
                debug!(%error, "lost the connection listening for the lock holder's release; polling only");
                self.listener = None;
                false
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_is_an_unquoted_identifier_per_key() {
        for key in [0, 1, -1, i64::MIN, i64::MAX, 0x1234_5678_9abc_def0] {
            let name = channel(key);
            assert_eq!(name.len(), 30, "{name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{name}");
        }
        assert_ne!(channel(1), channel(-1));
        assert_eq!(channel(-1), "migrator_lock_ffffffffffffffff");
    }

    #[test]
    fn the_release_unlocks_before_it_notifies() {
        let sql = release_sql(42);
        let unlock = sql.find("pg_advisory_unlock_all()").unwrap_or(usize::MAX);
        let notify = sql.find("NOTIFY migrator_lock_000000000000002a").unwrap_or(0);
        assert!(unlock < notify, "{sql}");
    }
}
