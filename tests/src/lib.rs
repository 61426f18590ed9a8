//! The conformance suite of migrator: integration tests written once ([`suite`]) and run
//! against every backend on a real server, each test in a fresh schema or database of its
//! own, in parallel. Backend-specific tests live beside it in `tests/<backend>.rs`.
//!
//! A missing server is a test failure with instructions (`./scripts/services`), never a skip.
//! This crate is test support: it unwraps freely.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod adopt;
pub mod backend;
pub mod dir;
pub mod dump;
pub mod galera;
pub mod history;
pub mod mysql;
pub mod postgres;
pub mod proxy;
pub mod rehearse;
pub mod sqlite;
pub mod suite;
pub mod testkit;
pub mod tools;

pub use backend::Backend;
pub use dir::Dir;
pub use tools::Tools;

/// Logs to the test output when `RUST_LOG` is set (`RUST_LOG=migrator_core=debug`).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Declares the test kit's tests ([`testkit`]) for a [`testkit::KitCase`]: the `async` ones
/// as `#[tokio::test]`s, the `sync` ones (which make runtimes or processes of their own) as
/// plain `#[test]`s.
#[macro_export]
macro_rules! testkit_tests {
    ($case:ty; async: $($name:ident),* $(,)?; sync: $($sync:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::init_tracing();
                $crate::testkit::$name::<$case>().await;
            }
        )*
        $(
            #[test]
            fn $sync() {
                $crate::init_tracing();
                $crate::testkit::$sync::<$case>();
            }
        )*
    };
}

/// Declares one `#[tokio::test]` per conformance test for a backend type.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ty: $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::init_tracing();
                $crate::suite::$name::<$backend>().await;
            }
        )*
    };
}
