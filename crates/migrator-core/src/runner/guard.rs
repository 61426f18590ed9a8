//! The lock guard: the one way out of a locked run.

use tracing::warn;

use crate::driver::Session;
use crate::error::Error;

/// Holds the locked session; releasing it is the one way out, and dropping it (error,
/// panic, cancelled future) closes the connection, which releases the lock.
pub(super) struct LockGuard<C: ?Sized + Send + 'static> {
    pub(super) session: Option<Box<dyn Session<C>>>,
}

impl<C: ?Sized + Send + 'static> LockGuard<C> {
    pub(super) fn session(&mut self) -> Result<&mut (dyn Session<C> + 'static), Error> {
        self.session
            .as_deref_mut()
            .ok_or_else(|| Error::database("using the migration session", "it was already released"))
    }

    pub(super) async fn release<T>(mut self, result: Result<T, Error>) -> Result<T, Error> {
        let released = match self.session.take() {
            Some(session) => session.release().await,
            None => Ok(()),
        };
        match (result, released) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(release_error)) => {
                warn!(error = %release_error, "releasing the migration lock failed after an error; the connection is closed");
                Err(e)
            }
        }
    }
}

impl<C: ?Sized + Send + 'static> Drop for LockGuard<C> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            warn!(
                "migration run stopped while holding the lock (cancelled or panicked): closing its connection releases it"
            );
            drop(session);
        }
    }
}
