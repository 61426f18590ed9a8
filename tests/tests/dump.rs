//! `Dump` on the backends that have it: the schema-and-rows dump `migrator squash` writes
//! (`migrator_conformance::dump`), applied to a second area and compared.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::dump;
use migrator_conformance::init_tracing;
use migrator_conformance::postgres::Pg;

macro_rules! dump_tests {
    ($module:ident, $backend:ty) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dump_rebuilds_the_area() {
                init_tracing();
                dump::dump_rebuilds_the_area::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dump_refuses_what_it_cannot_write() {
                init_tracing();
                dump::dump_refuses_what_it_cannot_write::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dump_refuses_a_data_load() {
                init_tracing();
                dump::dump_refuses_a_data_load::<$backend>().await;
            }
        }
    };
}

dump_tests!(postgres, Pg);

/// An extension of the schema is created again (in the schema the dump runs in), and the
/// schema's objects that use its types follow it. Databases of their own: an extension
/// lives in one schema of a database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_extensions_come_first() {
    use migrator_conformance::Backend;
    use migrator_core::driver::{Dump, DumpOptions, Inspect};
    init_tracing();
    let a = Pg::fresh_database("dump_ext_a").await;
    a.exec(
        "CREATE EXTENSION citext; CREATE TABLE names (name citext PRIMARY KEY, nick citext[]); \
         INSERT INTO names VALUES ('Ann', '{A}'), ('bob', NULL)",
    )
    .await;
    let dump = a.driver().dump(&DumpOptions::default()).await.unwrap();
    assert_eq!(dump.statements[0], "CREATE EXTENSION IF NOT EXISTS citext");
    let (text, back) = dump::split_back::<Pg>(&dump);
    assert_eq!(back, dump.statements);
    let b = Pg::fresh_database("dump_ext_b").await;
    dump::apply(&b, &text).await;
    assert!(a.driver().snapshot().await.unwrap().diff(&b.driver().snapshot().await.unwrap()).is_empty());
    assert_eq!(b.scalar("SELECT count(*) FROM names WHERE name = 'ANN' AND nick = '{a}'").await, 1);
    assert_eq!(b.driver().dump(&DumpOptions::default()).await.unwrap(), dump);
    a.cleanup().await;
    b.cleanup().await;
}

dump_tests!(mysql, migrator_conformance::mysql::My);
