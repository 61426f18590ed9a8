//! The advisory lock key, and how a waiter polls a lock.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// A 64-bit key from database, schema and history table (SHA-256, first 8 bytes): migrators
/// of different schemas or history tables in one database do not block each other.
pub(crate) fn lock_key(database: &str, schema: &str, table: &str) -> i64 {
    let hash = migrator_core::checksum::statement_hash(&format!("migrator-lock\n{database}\n{schema}\n{table}"));
    let hex = hash.get(..16).unwrap_or("0");
    u64::from_str_radix(hex, 16).map(|bits| bits as i64).unwrap_or(0)
}

/// How a waiter polls a lock (the advisory lock, the lease): pauses from 25 ms doubling to
/// 1 s, each shortened by a per-waiter jitter so waiters spread out, never past the wait.
#[derive(Debug)]
pub(crate) struct Backoff {
    started: Instant,
    wait: Duration,
    delay: Duration,
    jitter: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(25);

    /// A waiter that gives up after `wait`.
    pub(crate) fn new(wait: Duration) -> Self {
        let jitter = std::collections::hash_map::RandomState::new().build_hasher().finish();
        Backoff { started: Instant::now(), wait, delay: Self::FIRST, jitter }
    }

    /// How long it has waited.
    pub(crate) fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// What is left of the wait.
    pub(crate) fn remaining(&self) -> Duration {
        self.wait.saturating_sub(self.waited())
    }

    /// Whether no pause has been taken yet (the moment to say that it waits).
    pub(crate) fn first(&self) -> bool {
        self.delay == Self::FIRST
    }

    /// Sleeps before the next try; `Err(waited)` when the wait is over.
    pub(crate) async fn pause(&mut self) -> Result<(), Duration> {
        let waited = self.waited();
        if waited >= self.wait {
            return Err(waited);
        }
        let spread = self.delay.as_millis() as u64 / 2;
        let pause = self.delay / 2 + Duration::from_millis(self.jitter % (spread + 1));
        tokio::time::sleep(pause.min(self.remaining())).await;
        self.delay = (self.delay * 2).min(Duration::from_secs(1));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_differ_by_database_schema_and_table() {
        let a = super::lock_key("db", "public", "_migrator_history");
        assert_eq!(a, super::lock_key("db", "public", "_migrator_history"));
        assert_ne!(a, super::lock_key("db", "tenant", "_migrator_history"));
        assert_ne!(a, super::lock_key("db", "public", "other_history"));
        assert_ne!(a, super::lock_key("db2", "public", "_migrator_history"));
    }
}
