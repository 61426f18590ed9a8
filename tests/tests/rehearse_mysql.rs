//! The rehearsal agrees with the linter on MariaDB: each deny-level locking or rewrite
//! fixture shows a rewrite or a stall, each safe alternative none (see
//! `migrator_conformance::rehearse`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use migrator_conformance::mysql::server_options;
use migrator_conformance::rehearse::{Bounds, Case, agree, case, create_then_change, no_rewrite_from_2};
use migrator_core::Dialect;
use migrator_mysql::testing::TestKit;

/// A workload statement waiting longer than 300 ms is a stall. Every MariaDB hazard here also
/// rebuilds its table (a changed InnoDB table id), so the stall threshold can sit well above
/// what a loaded machine adds to an online change's short metadata lock waits (up to ~270 ms
/// measured on a busy 2-core machine).
const BOUNDS: Bounds = Bounds { hazard: Duration::from_millis(300), safe: Duration::from_millis(300) };

/// Rows where a rewrite shows by itself (a changed InnoDB table id).
const FEW: u64 = 20_000;
/// Rows where copying the table under a shared lock takes several times the stall bound.
const MANY: u64 = 100_000;

const ORDERS: &str = "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL, \
                      status VARCHAR(20) NOT NULL, created_at DATETIME NOT NULL, total_cents BIGINT NOT NULL) \
                      ENGINE=InnoDB";

/// Hazards and their safe alternatives, by rule.
fn cases() -> Vec<Case> {
    vec![
        case("mysql-blocking-alter", "bad-algorithm-copy", ORDERS, MANY),
        case("mysql-blocking-alter", "ok-inplace-lock-none", ORDERS, MANY),
        // Not bad-lock-shared (`ADD COLUMN note TEXT, LOCK=SHARED`): MariaDB 10.11 adds the
        // column INSTANT, so nothing waits and nothing is rebuilt; the linter objects to the
        // lock the statement allows, which the rehearsal cannot see used (README).
        case("mysql-blocking-alter", "ok-create-index", ORDERS, MANY),
        case("change-column-type", "bad-int-to-bigint", "SELECT 1", MANY),
        case("change-column-type", "ok-varchar-within-length-prefix", "SELECT 1", MANY),
        case("set-not-null", "bad-modify", "SELECT 1", MANY),
        case("set-not-null", "ok-already-not-null", "SELECT 1", MANY),
        case("add-column-volatile-default", "bad-uuid-expression", ORDERS, FEW),
        case("add-column-volatile-default", "ok-literal-default", ORDERS, FEW),
        case("optimize-table", "bad-optimize", ORDERS, FEW),
        case("optimize-table", "ok-analyze", ORDERS, FEW),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rehearsal_flags_the_linters_hazards_and_clears_their_safe_alternatives() {
    migrator_conformance::init_tracing();
    let kit = TestKit::new(server_options()).prefix("rh_").unwrap();
    agree(&kit, &cases(), Dialect::MySql, BOUNDS).await;
}

/// `TestKit::rehearse` on MariaDB: an INSTANT column is within the thresholds, a copying
/// type change rewrites the table and is over them with `no_rewrite`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_rehearses_an_instant_change_and_a_copy() {
    use migrator_core::plan::Verdict;

    let kit = TestKit::new(server_options()).prefix("rh_").unwrap();
    let set = |change: &str| {
        create_then_change("CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT NOT NULL)", change, Dialect::MySql)
    };
    let options = no_rewrite_from_2(10_000);
    let instant = kit.assert_online(set("ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT"), &options).await;
    assert_eq!(instant.migrations[0].judgement.verdict, Verdict::Ok);
    assert_eq!(instant.migrations[0].measured.rows, 10_000);
    let copy = kit.rehearse(set("ALTER TABLE orders MODIFY total BIGINT NOT NULL"), &options).await.unwrap();
    assert_eq!(copy.migrations[0].judgement.verdict, Verdict::Over);
    assert_eq!(copy.migrations[0].measured.rewrote, ["orders"]);
    assert!(!copy.ok());
}
