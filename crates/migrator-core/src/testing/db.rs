//! [`TestDb`]: one test's database, dropped when the test is done with it.

use std::path::{Path, PathBuf};

use tracing::debug;

use super::backend::KitBackend;
use crate::error::Error;

/// A test's database: a pool on it, dropped by [`TestDb::close`] or, when the value is
/// dropped (also while a test panics), by a thread of its own.
#[derive(Debug)]
pub struct TestDb<B: KitBackend> {
    pool: B::Pool,
    name: String,
    place: B::Place,
    backend: B,
    dropped: bool,
}

impl<B: KitBackend> TestDb<B> {
    pub(crate) fn new(backend: B, name: String, pool: B::Pool) -> TestDb<B> {
        TestDb { place: backend.place(&name), pool, name, backend, dropped: false }
    }

    /// The pool on the test database.
    pub fn pool(&self) -> &B::Pool {
        &self.pool
    }

    /// The database's name (for SQLite, the file's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connect options for the test database (for a pool of your own).
    pub fn options(&self) -> B::Options {
        self.backend.options(&self.name)
    }

    /// Drops the database now (instead of on drop), reporting failures.
    pub async fn close(mut self) -> Result<(), Error> {
        self.dropped = true;
        remove(&self.backend, &self.pool, &self.name).await
    }
}

impl<B: KitBackend<Place = PathBuf>> TestDb<B> {
    /// The database file (backends whose databases are files).
    pub fn path(&self) -> &Path {
        &self.place
    }
}

/// Closes the pool, then drops the database.
async fn remove<B: KitBackend>(backend: &B, pool: &B::Pool, name: &str) -> Result<(), Error> {
    B::close_pool(pool).await;
    let mut admin = backend.admin().await?;
    let dropped = backend.drop_database(&mut admin, name, false).await;
    backend.close_admin(admin).await;
    dropped
}

impl<B: KitBackend> Drop for TestDb<B> {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop cannot await, and may run inside a runtime or during a panic: drop the
        // database from a thread with a runtime of its own, and wait for it.
        let (backend, pool, name) = (self.backend.clone(), self.pool.clone(), self.name.clone());
        let outcome = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(remove(&backend, &pool, &name)).map_err(|e| e.to_string())
        })
        .join()
        .unwrap_or_else(|_| Err("the cleanup thread panicked".to_owned()));
        if let Err(e) = outcome {
            debug!(database = %self.name, error = %e, "dropping a test database failed; the next run sweeps it");
        }
    }
}
