//! How a waiter polls a lock it could not take (PostgreSQL's advisory lock and lease,
//! SQLite's lock file): one policy for every driver.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// Pauses from 25 ms doubling to 1 s, each shortened by a per-waiter jitter so waiters
/// spread out, never past the wait. The driver passes its runtime's sleep to
/// [`Backoff::pause`] (this crate names no runtime).
#[derive(Debug)]
pub struct Backoff {
    started: Instant,
    wait: Duration,
    delay: Duration,
    jitter: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(25);

    /// A waiter that gives up after `wait`.
    pub fn new(wait: Duration) -> Self {
        let jitter = std::collections::hash_map::RandomState::new().build_hasher().finish();
        Backoff { started: Instant::now(), wait, delay: Self::FIRST, jitter }
    }

    /// How long it has waited.
    pub fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// What is left of the wait.
    pub fn remaining(&self) -> Duration {
        self.wait.saturating_sub(self.waited())
    }

    /// Whether no pause has been taken yet (the moment to say that it waits).
    pub fn first(&self) -> bool {
        self.delay == Self::FIRST
    }

    /// The next pause, or `Err(waited)` when the wait is over.
    pub fn next_pause(&mut self) -> Result<Duration, Duration> {
        let waited = self.waited();
        if waited >= self.wait {
            return Err(waited);
        }
        let spread = self.delay.as_millis() as u64 / 2;
        let pause = self.delay / 2 + Duration::from_millis(self.jitter % (spread + 1));
        self.delay = (self.delay * 2).min(Duration::from_secs(1));
        Ok(pause.min(self.remaining()))
    }

    /// Sleeps (with `sleep`, such as `tokio::time::sleep`) before the next try;
    /// `Err(waited)` when the wait is over.
    pub async fn pause<F: Future<Output = ()>>(&mut self, sleep: impl FnOnce(Duration) -> F) -> Result<(), Duration> {
        sleep(self.next_pause()?).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pauses_grow_to_a_second_and_stop_at_the_wait() {
        let mut backoff = Backoff::new(Duration::from_secs(3600));
        assert!(backoff.first());
        let pauses: Vec<Duration> = (0..8).map(|_| backoff.next_pause().unwrap()).collect();
        assert!(!backoff.first());
        for (i, pause) in pauses.iter().enumerate() {
            let delay = (Backoff::FIRST * 2u32.pow(i as u32)).min(Duration::from_secs(1));
            assert!(*pause >= delay / 2 && *pause <= delay, "pause {i}: {pause:?} for a delay of {delay:?}");
        }
        let mut over = Backoff::new(Duration::ZERO);
        assert!(over.next_pause().is_err());
        let mut short = Backoff::new(Duration::from_millis(5));
        assert!(short.next_pause().unwrap() <= Duration::from_millis(5), "never past the wait");
    }
}
