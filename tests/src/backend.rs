//! What the suite needs from a backend: a fresh isolated area and a few queries.

use std::any::Any;
use std::time::Duration;

use async_trait::async_trait;
use migrator_core::driver::{Driver, Inspect};
use migrator_core::{BoxError, Dialect};

/// The connection type Rust-code migrations of a backend receive.
pub type Conn<B> = <<B as Backend>::Driver as Driver>::Conn;

/// One test's isolated database area (a schema or a database) with a pool pointed at it.
#[async_trait]
pub trait Backend: Sized + Send + Sync + 'static {
    /// The driver under test.
    type Driver: Driver + Inspect + Clone + 'static;

    /// The dialect of its migrations.
    const DIALECT: Dialect;

    /// Creates a fresh area for the test `name`, cleaning up leftovers of killed runs.
    async fn fresh(name: &str) -> Self;

    /// A driver on the area's shared pool.
    fn driver(&self) -> Self::Driver;

    /// A driver on a new pool of its own whose connections the server's process list shows
    /// as `name` (PostgreSQL: `application_name`; MySQL: the user name).
    async fn driver_named(&self, name: &str) -> Self::Driver;

    /// Runs SQL in the area.
    async fn exec(&self, sql: &str);

    /// Runs a query returning one integer.
    async fn scalar(&self, sql: &str) -> i64;

    /// Whether a table exists in the area.
    async fn table_exists(&self, table: &str) -> bool;

    /// SQL that sleeps.
    fn sleep_sql(duration: Duration) -> String;

    /// For a backend without a migration lock (SQLite): holds what a migrating process holds
    /// while a migration runs (the database's write lock) until the returned value is
    /// dropped. Backends with a migration lock hold that instead, through the driver.
    async fn hold_write_lock(&self) -> Option<Box<dyn Any + Send>> {
        None
    }

    /// Runs SQL on a Rust-code migration's connection.
    async fn exec_on(conn: &mut Conn<Self>, sql: &str) -> Result<(), BoxError>;

    /// Runs SQL in a nested transaction (`begin()` on the migration's connection: a
    /// savepoint inside the migration's transaction) and commits it.
    async fn exec_nested(conn: &mut Conn<Self>, sql: &str) -> Result<(), BoxError>;

    /// Drops the area.
    async fn cleanup(self);
}
