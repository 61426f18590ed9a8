//! What the test kit needs from a backend: a handful of database operations, no policy.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::driver::Driver;
use crate::error::Error;

/// A database (or file) the kit made, as a backend lists it: its name, its age when the
/// backend knows it (a template's build or last use), and its size when asked and cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The database's (or file's) name.
    pub name: String,
    /// How long ago it was built or last used, when the backend records it.
    pub age: Option<Duration>,
    /// Its size in bytes, when asked for and cheap to know.
    pub size: Option<u64>,
}

impl Listed {
    /// A listed database.
    pub fn new(name: impl Into<String>, age: Option<Duration>, size: Option<u64>) -> Listed {
        Listed { name: name.into(), age, size }
    }
}

/// The operations of one backend that the generic [`TestKit`](super::TestKit) is made of.
///
/// The kit decides everything else (names, when to build, waiting for the build lock,
/// the sweep, cleanup): a backend only says how its database does each step. A value of
/// this type is the backend's settings (a server's admin options, a directory); it is
/// cloned into every [`TestDb`](super::TestDb) so that dropping one can clean up.
#[async_trait]
pub trait KitBackend: Clone + fmt::Debug + Send + Sync + Sized + 'static {
    /// The driver the migrations run with.
    type Driver: Driver + 'static;
    /// The pool a test receives (`sqlx::PgPool`).
    type Pool: Clone + fmt::Debug + Send + Sync + 'static;
    /// Connect options for a test database, for a pool of one's own.
    type Options;
    /// Where a test database lives, besides its name: `()` on a server, the file's path
    /// for file databases (`PathBuf`, which gives [`TestDb::path`](super::TestDb::path)).
    type Place: fmt::Debug + Send + Sync + 'static;
    /// A connection allowed to create and drop databases (`()` for files).
    type Admin: Send;
    /// The held template build lock.
    type BuildLock: Send;

    /// Appended to every name the kit makes (`".db"` for SQLite files).
    const SUFFIX: &'static str = "";

    /// The backend's settings from the environment (the server's URL, the directory).
    fn from_env() -> Result<Self, Error>;

    /// A driver on a pool.
    fn driver(pool: &Self::Pool) -> Self::Driver;

    /// Closes a pool, waiting for its connections to close.
    async fn close_pool(pool: &Self::Pool);

    /// Connect options for the database `name`.
    fn options(&self, name: &str) -> Self::Options;

    /// Where the database `name` lives.
    fn place(&self, name: &str) -> Self::Place;

    /// Connects as the admin.
    async fn admin(&self) -> Result<Self::Admin, Error>;

    /// Closes the admin connection (the default drops it).
    async fn close_admin(&self, admin: Self::Admin) {
        drop(admin);
    }

    /// Whether the template `template` is complete and ready to copy.
    async fn template_ready(&self, admin: &mut Self::Admin, template: &str) -> Result<bool, Error>;

    /// Takes the cross-process lock for building `template`, without waiting: `None` when
    /// another process (or task) holds it. The kit polls.
    async fn try_lock_template(
        &self,
        admin: &mut Self::Admin,
        template: &str,
    ) -> Result<Option<Self::BuildLock>, Error>;

    /// Releases the build lock. Failures are the backend's to log: the lock also ends with
    /// the admin connection (or the process).
    async fn unlock_template(&self, admin: &mut Self::Admin, lock: Self::BuildLock);

    /// Creates the empty database `template` is built in, under the build lock, and a pool
    /// on it; returns that database's name (the kit drops it if the migrations fail).
    async fn create_build(&self, admin: &mut Self::Admin, template: &str) -> Result<(String, Self::Pool), Error>;

    /// Turns the migrated database `build` (its pool closed) into the ready template
    /// `template`.
    async fn finish_template(&self, admin: &mut Self::Admin, build: &str, template: &str) -> Result<(), Error>;

    /// Creates the database `name` as a copy of the ready `template`, and a pool of
    /// `max_connections` on it. On failure, leaves no database `name` behind.
    async fn copy_template(
        &self,
        admin: &mut Self::Admin,
        template: &str,
        name: &str,
        max_connections: u32,
    ) -> Result<Self::Pool, Error>;

    /// Drops the database `name` (a template or a part of one when `template`), if it
    /// exists, also while others are connected to it.
    async fn drop_database(&self, admin: &mut Self::Admin, name: &str, template: bool) -> Result<(), Error>;

    /// Every database (or file) whose name starts with `prefix`, with its age when the
    /// backend records one and, when `sizes`, its size.
    async fn list(&self, admin: &mut Self::Admin, prefix: &str, sizes: bool) -> Result<Vec<Listed>, Error>;
}
