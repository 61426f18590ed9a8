//! The migration lock of a database file: an exclusive `flock` on `<file>-migrator-lock`.
//!
//! SQLite's own locks end with their transaction, so they cannot span a run. A lock on a
//! file next to the database can: it is held from before the history is re-read until the
//! run ends, and the operating system releases it when the holding process exits, however
//! it exits (`kill -9` included), so a dead holder never blocks the next run, and a live one
//! is told apart from a dead one. The lock file stays (an empty marker with the last holder's
//! description); deleting a lock file while others may open it would let two holders in.
//! In-memory databases have no file and need no lock: one process sees them.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use migrator_core::Error;
use migrator_core::backoff::Backoff;
use tracing::{debug, info, warn};

/// An exclusive lock on a database file's lock file, released when dropped.
#[derive(Debug)]
pub(crate) struct FileLock {
    /// Holding the open, locked file is holding the lock.
    _file: File,
}

/// The lock file of the database file `database`.
pub(crate) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-migrator-lock");
    PathBuf::from(name)
}

fn io_error(context: String, error: std::io::Error) -> Error {
    Error::database(context, error)
}

/// Opens (creating it, owner-only) the lock file at `path` for writing, refusing anything
/// but a regular file of its own: a symlink planted at the lock file's name is never
/// followed (it could point at a file the lock would overwrite), and neither is a device
/// or a directory.
fn open_lock_file(path: &Path, what: &str) -> Result<File, Error> {
    let refuse = |reason: &str| Error::Misconfigured {
        reason: format!(
            "{what} {} {reason}: migrator writes its lock there, next to the database file. Remove it (or use a \
             database path whose directory only you can write to)",
            path.display()
        ),
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            return Err(refuse("is a symbolic link"));
        }
        if !meta.is_file() {
            return Err(refuse("is not a regular file"));
        }
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Never through a symlink, even one planted after the check above; a new file is
        // readable and writable by its owner only.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).mode(0o600);
    }
    let file = options.open(path).map_err(|e| {
        if symlink(path) {
            refuse("is a symbolic link")
        } else {
            io_error(format!("opening {what} {}", path.display()), e)
        }
    })?;
    let meta = file.metadata().map_err(|e| io_error(format!("reading {what} {}", path.display()), e))?;
    if !meta.is_file() {
        return Err(refuse("is not a regular file"));
    }
    Ok(file)
}

fn symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// What a holder writes into the lock file, for waiters and `status`.
fn describe_self(holder: &str) -> String {
    let since =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    format!("{holder}, holding it since {since} (seconds since 1970, UTC)")
}

/// The holder's description from the lock file, or a placeholder.
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let read = file.rewind().and_then(|()| file.take(1024).read_to_string(&mut text));
    match read {
        Ok(_) if !text.trim().is_empty() => text.trim().to_owned(),
        _ => "a process that has not written its name yet".to_owned(),
    }
}

impl FileLock {
    /// Takes the lock file `path` (`what` names it in messages) if it is free, writing
    /// `holder` into it; otherwise answers the holder's description.
    pub(crate) fn try_take(path: &Path, what: &str, holder: &str) -> Result<Result<FileLock, String>, Error> {
        let mut file = open_lock_file(path, what)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(Err(read_holder(&mut file))),
            Err(TryLockError::Error(e)) => return Err(io_error(format!("locking {what} {}", path.display()), e)),
        }
        let described = describe_self(holder);
        let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(described.as_bytes()));
        Ok(Ok(FileLock { _file: file }))
    }

    /// Takes the migration lock of `database`, waiting up to `wait`, and writes
    /// `applied_by` into the lock file.
    pub(crate) async fn acquire(database: &Path, wait: Duration, applied_by: &str) -> Result<FileLock, Error> {
        match std::fs::metadata(database) {
            Ok(meta) if !meta.is_file() => {
                return Err(Error::Misconfigured {
                    reason: format!(
                        "the database {} is not a regular file, so migrator cannot keep its lock file next to it: \
                         point the URL at a database file (or run without the migration lock)",
                        database.display()
                    ),
                });
            }
            _ => {}
        }
        Self::acquire_file(&lock_path(database), "the migration lock file", wait, applied_by).await
    }

    /// Takes the lock file `path` (`what` names it in messages), waiting up to `wait`
    /// (polled with core's [`Backoff`]), and writes `holder` into it.
    pub(crate) async fn acquire_file(path: &Path, what: &str, wait: Duration, holder: &str) -> Result<FileLock, Error> {
        let mut file = open_lock_file(path, what)?;
        let mut backoff = Backoff::new(wait);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(io_error(format!("locking {what} {}", path.display()), e));
                }
            }
            if backoff.first() {
                info!(lock = %path.display(), "waiting for the migration lock held by another process");
            }
            if let Err(waited) = backoff.pause(tokio::time::sleep).await {
                return Err(Error::LockTimeout {
                    waited,
                    lock: format!("{what} {}", path.display()),
                    holder: Some(read_holder(&mut file)),
                });
            }
        }
        // The description is for people; failing to write it does not matter.
        let described = describe_self(holder);
        let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(described.as_bytes()));
        debug!(lock = %path.display(), waited_ms = backoff.waited().as_millis() as u64, "migration lock taken");
        Ok(FileLock { _file: file })
    }

    /// Takes the lock file `path` (`what` names it in messages) if it is free, writing
    /// `holder` into it: `None` while another holds it. (The test kit polls this.)
    #[cfg(feature = "testing")]
    pub(crate) fn try_acquire_file(path: &Path, what: &str, holder: &str) -> Result<Option<FileLock>, Error> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_error(format!("opening {what} {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(io_error(format!("locking {what} {}", path.display()), e)),
        }
        let described = describe_self(holder);
        let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(described.as_bytes()));
        Ok(Some(FileLock { _file: file }))
    }

    /// Who holds the lock of `database` now, if anyone: the description the holder wrote.
    /// Never creates the lock file, and opens it read-only (a user who may only read the
    /// database can still ask); taking the lock to find it free releases it at once. A lock
    /// file this process may not open cannot tell: `None`, with a warning in the log.
    pub(crate) fn holder(database: &Path) -> Result<Option<String>, Error> {
        let path = lock_path(database);
        if symlink(&path) {
            warn!(lock = %path.display(), "the migration lock file is a symbolic link: not following it");
            return Ok(None);
        }
        let mut file = match OpenOptions::new().read(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                warn!(lock = %path.display(), error = %e, "cannot open the migration lock file to see who holds it");
                return Ok(None);
            }
            Err(e) => return Err(io_error(format!("opening the migration lock file {}", path.display()), e)),
        };
        match file.try_lock() {
            Ok(()) => Ok(None),
            Err(TryLockError::WouldBlock) => {
                Ok(Some(format!("{} (lock file {})", read_holder(&mut file), path.display())))
            }
            Err(TryLockError::Error(e)) => {
                Err(io_error(format!("checking the migration lock file {}", path.display()), e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_and_a_timeout_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        assert_eq!(FileLock::holder(&db).unwrap(), None, "no lock file, no holder");
        let held = FileLock::acquire(&db, Duration::from_secs(1), "alice@host (pid 1)").await.unwrap();
        assert!(lock_path(&db).exists());
        let holder = FileLock::holder(&db).unwrap().unwrap();
        assert!(holder.contains("alice@host (pid 1)"), "{holder}");
        let e = FileLock::acquire(&db, Duration::from_millis(150), "bob").await.unwrap_err();
        let Error::LockTimeout { waited, lock, holder } = &e else { panic!("{e}") };
        assert!(*waited >= Duration::from_millis(150), "{waited:?}");
        assert!(lock.ends_with("app.db-migrator-lock"), "{lock}");
        assert!(holder.as_deref().unwrap().contains("alice"), "{holder:?}");
        drop(held);
        assert_eq!(FileLock::holder(&db).unwrap(), None, "released on drop");
        let again = FileLock::acquire(&db, Duration::from_millis(100), "bob").await.unwrap();
        assert!(FileLock::holder(&db).unwrap().unwrap().contains("bob"));
        drop(again);
    }

    /// Regression: a symlink planted at the lock file's name made taking the lock truncate
    /// and overwrite its target.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_symlinked_lock_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        std::fs::write(&db, b"").unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, lock_path(&db)).unwrap();
        let e = FileLock::acquire(&db, Duration::from_millis(100), "mallory").await.unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(FileLock::holder(&db).unwrap(), None, "status does not follow it either");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_lock_file_is_owner_only_and_never_next_to_a_device() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        std::fs::write(&db, b"").unwrap();
        drop(FileLock::acquire(&db, Duration::from_millis(100), "me").await.unwrap());
        let mode = std::fs::metadata(lock_path(&db)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        let e = FileLock::acquire(Path::new("/dev/null"), Duration::from_millis(100), "me").await.unwrap_err();
        assert!(e.to_string().contains("/dev/null is not a regular file"), "{e}");
        assert!(!Path::new("/dev/null-migrator-lock").exists());
        std::fs::create_dir(lock_path(&dir.path().join("b.db"))).unwrap();
        std::fs::write(dir.path().join("b.db"), b"").unwrap();
        let e = FileLock::acquire(&dir.path().join("b.db"), Duration::from_millis(100), "me").await.unwrap_err();
        assert!(e.to_string().contains("is not a regular file"), "{e}");
    }

    #[tokio::test]
    async fn a_waiter_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let held = FileLock::acquire(&db, Duration::from_secs(1), "first").await.unwrap();
        let path = db.clone();
        let waiter = tokio::spawn(async move { FileLock::acquire(&path, Duration::from_secs(10), "second").await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiter.is_finished(), "the waiter waits");
        drop(held);
        let second = waiter.await.unwrap().unwrap();
        assert!(FileLock::holder(&db).unwrap().unwrap().contains("second"));
        drop(second);
    }
}
