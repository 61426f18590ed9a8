//! A database driver's error as migrator shows it, classified where the runner needs to know
//! (a lock timeout).

/// The driver's own error (the same type as [`super::BoxError`], which is defined beside the
/// failure that carries it).
type Raw = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A database driver's error as migrator shows it: the text people read (message, detail,
/// hint, error code, whatever the driver can tell) with the driver's own error kept for
/// programs that inspect it. Its text says everything, so it has no
/// [`std::error::Error::source`]: an error chain printer shows each message once.
#[derive(Debug)]
pub struct DatabaseError {
    text: String,
    raw: Raw,
    lock_timeout: bool,
}

impl DatabaseError {
    /// `text` describes `raw` for people.
    pub fn new(text: impl Into<String>, raw: impl Into<Raw>) -> Self {
        DatabaseError { text: text.into(), raw: raw.into(), lock_timeout: false }
    }

    /// Marks the error as the database giving up waiting for a lock on a table or row (the
    /// driver's classification: PostgreSQL's SQLSTATE 55P03 `lock_not_available`, MySQL's
    /// and MariaDB's error 1205): the statement had no effect, and the runner may run it
    /// again ([`crate::plan::decide_retry`]).
    pub fn lock_timeout(mut self, lock_timeout: bool) -> Self {
        self.lock_timeout = lock_timeout;
        self
    }

    /// Whether the driver classified it as a lock timeout ([`DatabaseError::lock_timeout`]).
    pub fn is_lock_timeout(&self) -> bool {
        self.lock_timeout
    }

    /// The description.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The driver's own error (for example a `sqlx::Error`, to downcast).
    pub fn raw(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.raw.as_ref()
    }
}

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for DatabaseError {}
