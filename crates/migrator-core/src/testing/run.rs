//! Running a test body on a fresh database (what the test attribute expands to), and drift.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use tracing::debug;

use super::backend::KitBackend;
use super::kit::{Conn, TestKit};
use crate::check::Drift;
use crate::driver::Inspect;
use crate::error::Error;
use crate::set::IntoMigrations;

impl<B: KitBackend> TestKit<B> {
    /// Runs an async test body against a fresh migrated database: builds a runtime, makes
    /// the database, runs the body, drops the database, then re-raises the body's panic or
    /// fails on its error ([`TestResult`]). A database that cannot be made fails the test.
    #[allow(clippy::panic)] // test harness: setup failures fail the test
    pub fn run_test<F, Fut>(&self, migrations: impl IntoMigrations<Conn<B>>, body: F)
    where
        F: FnOnce(B::Pool) -> Fut,
        Fut: Future,
        Fut::Output: TestResult,
    {
        let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => panic!("could not start a tokio runtime for the test: {e}"),
        };
        let outcome = runtime.block_on(async move {
            let db = match self.fresh(migrations).await {
                Ok(db) => db,
                Err(e) => panic!("could not make a test database: {e}"),
            };
            let started = Instant::now();
            let outcome = AssertUnwindSafe(body(db.pool().clone())).catch_unwind().await;
            debug!(took_ms = started.elapsed().as_millis() as u64, "test body finished");
            if let Err(e) = db.close().await {
                debug!(error = %e, "dropping the test database failed; the next run sweeps it");
            }
            outcome
        });
        match outcome {
            Ok(result) => result.check(),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Compares the live schema behind `live` with the schema the migrations build in a
    /// scratch database (a copy of the template), listing each difference: an extra column
    /// added by hand, a missing index.
    pub async fn drift(&self, live: &B::Pool, migrations: impl IntoMigrations<Conn<B>>) -> Result<Drift, Error>
    where
        B::Driver: Inspect,
    {
        let scratch = self.fresh(migrations).await?;
        let expected = B::driver(scratch.pool()).snapshot().await;
        let actual = B::driver(live).snapshot().await;
        scratch.close().await?;
        Ok(Drift::between(&expected?, &actual?))
    }
}

/// [`TestKit::run_test`] on the kit from the environment ([`TestKit::from_env`]).
#[allow(clippy::panic)] // test harness: setup failures fail the test
pub fn run_test<B, F, Fut>(migrations: impl IntoMigrations<Conn<B>>, body: F)
where
    B: KitBackend,
    F: FnOnce(B::Pool) -> Fut,
    Fut: Future,
    Fut::Output: TestResult,
{
    match TestKit::<B>::from_env() {
        Ok(kit) => kit.run_test(migrations, body),
        Err(e) => panic!("could not make a test database: {e}"),
    }
}

/// [`TestKit::drift`] on the kit from the environment ([`TestKit::from_env`]).
pub async fn drift<B>(live: &B::Pool, migrations: impl IntoMigrations<Conn<B>>) -> Result<Drift, Error>
where
    B: KitBackend,
    B::Driver: Inspect,
{
    TestKit::<B>::from_env()?.drift(live, migrations).await
}

/// What a test body may return: `()` or `Result<(), E>`; used by the backends' test runners.
pub trait TestResult {
    /// Fails the test (panics) on an error.
    fn check(self);
}

impl TestResult for () {
    fn check(self) {}
}

impl<E: std::fmt::Debug> TestResult for Result<(), E> {
    #[allow(clippy::panic)] // failing a test is the point
    fn check(self) {
        if let Err(e) = self {
            panic!("test returned an error: {e:?}");
        }
    }
}
