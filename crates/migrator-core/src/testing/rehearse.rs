//! Rehearsals in tests: [`TestKit::rehearse`] and [`TestKit::assert_online`].

use tracing::debug;

use super::backend::KitBackend;
use super::kit::{Conn, TestKit};
use crate::error::Error;
use crate::rehearse::{Rehearsal, Rehearse, RehearseOptions};
use crate::runner::Migrator;
use crate::set::IntoMigrations;

impl<B: KitBackend> TestKit<B>
where
    B::Driver: Rehearse,
{
    /// Rehearses `migrations` ([`Migrator::rehearse`]) on a fresh empty database of this
    /// kit, dropped afterwards: the migrations before [`RehearseOptions::start`] are applied,
    /// the tables the later ones touch are filled, and each later one is measured.
    pub async fn rehearse(
        &self,
        migrations: impl IntoMigrations<Conn<B>>,
        options: &RehearseOptions,
    ) -> Result<Rehearsal, Error> {
        let db = self.empty().await?;
        let migrator = Migrator::<B::Driver>::builder(B::driver(db.pool()), migrations).build();
        let rehearsal = match migrator {
            Ok(migrator) => migrator.rehearse(options).await,
            Err(e) => Err(e),
        };
        if let Err(e) = db.close().await {
            debug!(error = %e, "dropping the rehearsal's database failed; the next run sweeps it");
        }
        rehearsal
    }

    /// [`TestKit::rehearse`], failing the test with the report when a migration is over the
    /// thresholds ([`RehearseOptions::thresholds`]) or the rehearsal fails; returns the
    /// report otherwise.
    ///
    /// ```no_run
    /// # async fn f<B: migrator_core::testing::KitBackend>(set: migrator_core::EmbeddedMigrations)
    /// # where B::Driver: migrator_core::rehearse::Rehearse {
    /// use std::time::Duration;
    /// use migrator_core::plan::Thresholds;
    /// use migrator_core::rehearse::RehearseOptions;
    /// use migrator_core::testing::TestKit;
    ///
    /// // Every migration after version 20261101000000, on 100,000 rows per table: no
    /// // concurrent write or read may wait longer than 200 ms.
    /// let start = migrator_core::Version::try_from(20261101000001).ok();
    /// let options = RehearseOptions::new(100_000, start)
    ///     .thresholds(Thresholds { max_stall: Duration::from_millis(200), no_rewrite: false });
    /// TestKit::<B>::from_env().unwrap().assert_online(set, &options).await;
    /// # }
    /// ```
    #[allow(clippy::panic)] // a test assertion: failing the test is its purpose
    pub async fn assert_online(
        &self,
        migrations: impl IntoMigrations<Conn<B>>,
        options: &RehearseOptions,
    ) -> Rehearsal {
        match self.rehearse(migrations, options).await {
            Ok(rehearsal) if rehearsal.ok() => rehearsal,
            Ok(rehearsal) => panic!("a rehearsed migration is over the thresholds:\n{}", rehearsal.text()),
            Err(e) => panic!("the rehearsal failed: {e}"),
        }
    }
}
