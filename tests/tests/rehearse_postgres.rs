//! The rehearsal agrees with the linter on PostgreSQL: each deny-level locking or rewrite
//! fixture shows a rewrite or a stall, each safe alternative none (see
//! `migrator_conformance::rehearse`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use migrator_conformance::postgres::server_options;
use migrator_conformance::rehearse::{Bounds, Case, agree, case, create_then_change, no_rewrite_from_2};
use migrator_core::Dialect;
use migrator_postgres::testing::TestKit;

/// A hazard's workload stall is longer than 50 ms (lowest measured: about 100 ms, a foreign key
/// checked on 200,000 rows); a safe alternative's stays within 150 ms (highest measured under
/// load: about 95 ms; typically under 15 ms).
const BOUNDS: Bounds = Bounds { hazard: Duration::from_millis(50), safe: Duration::from_millis(150) };

/// Rows where a rewrite shows by itself (a changed `relfilenode`).
const FEW: u64 = 50_000;
/// Rows where building an index or checking a foreign key under the lock takes several
/// times the hazard bound.
const MANY: u64 = 200_000;
/// Rows where a NOT NULL scan of a four-column table (about 12 M rows/s on a quiet machine: 84 ms
/// at 1 M rows) takes twice the hazard bound or more.
const MORE: u64 = 1_500_000;
/// Rows where a CHECK scan of a two-column table (about 18 M rows/s on a quiet machine: 55 ms at
/// 1 M rows) takes twice the hazard bound or more.
const MOST: u64 = 2_000_000;

const USERS: &str = "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);";
const ORDERS: &str = "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n\
                      CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint NOT NULL, \
                      total_cents bigint NOT NULL);";
const ORDERS_ONLY: &str = "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                           total_cents bigint NOT NULL);";

/// Hazards and their safe alternatives, by rule.
fn cases() -> Vec<Case> {
    vec![
        case("index-not-concurrent", "bad-create-index", USERS, MANY),
        case("index-not-concurrent", "ok-concurrently", USERS, MANY),
        case("add-unique-constraint", "bad-add-unique", USERS, MANY),
        case("add-unique-constraint", "ok-using-index", USERS, MANY),
        case("constraint-not-valid", "bad-foreign-key", ORDERS, MANY),
        case("constraint-not-valid", "ok-not-valid-then-validate", ORDERS, MANY),
        case("constraint-not-valid", "bad-check", ORDERS_ONLY, MOST),
        case("set-not-null", "bad-set-not-null", "SELECT 1", MORE),
        // Its SET NOT NULL does not scan, so no size makes it stall.
        case("set-not-null", "ok-validated-check", "SELECT 1", MANY),
        case("change-column-type", "bad-int-to-bigint", "SELECT 1", FEW),
        case("change-column-type", "ok-varchar-to-text", "SELECT 1", FEW),
        case("change-column-type", "ok-varchar-widening", "SELECT 1", FEW),
        case("add-column-volatile-default", "bad-gen-random-uuid", ORDERS_ONLY, FEW),
        case("add-column-volatile-default", "ok-default-set-afterwards", ORDERS_ONLY, FEW),
        case("vacuum-full", "bad-vacuum-full", USERS, FEW),
        case("vacuum-full", "ok-plain-vacuum", USERS, FEW),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rehearsal_flags_the_linters_hazards_and_clears_their_safe_alternatives() {
    migrator_conformance::init_tracing();
    let kit = TestKit::new(server_options()).prefix("rh_").unwrap();
    agree(&kit, &cases(), Dialect::Postgres, BOUNDS).await;
}

/// `assert_online` returns the report of a migration within the thresholds and fails the
/// test, with the report, for one over them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assert_online_passes_an_online_change_and_fails_a_rewrite() {
    use migrator_core::plan::Verdict;

    let kit = TestKit::new(server_options()).prefix("rh_").unwrap();
    let set = |change: &str| {
        create_then_change(
            "CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL);",
            change,
            Dialect::Postgres,
        )
    };
    let options = no_rewrite_from_2(10_000);
    let report = kit.assert_online(set("ALTER TABLE orders ADD COLUMN note text;"), &options).await;
    assert_eq!(report.migrations.len(), 1);
    assert_eq!(report.migrations[0].judgement.verdict, Verdict::Ok);
    assert_eq!(report.migrations[0].measured.rows, 10_000);
    assert_eq!(report.filled[0].table, "orders");

    let failed = tokio::spawn(async move {
        let kit = TestKit::new(server_options()).prefix("rh_").unwrap();
        kit.assert_online(set("ALTER TABLE orders ALTER COLUMN total TYPE bigint;"), &options).await;
    })
    .await
    .unwrap_err();
    let message = failed.into_panic();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(message.contains("over 2 change"), "{message}");
    assert!(message.contains("it rewrote orders (rewrites are not allowed)"), "{message}");
}
