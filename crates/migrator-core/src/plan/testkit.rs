//! Migrations and history rows for the planner's tests.

use std::time::SystemTime;

use crate::history::{HistoryRow, State};
use crate::version::{Phase, Version};

use super::model::{Available, DownKind};

pub(super) fn v(n: i64) -> Version {
    Version::new(n).unwrap()
}

const NAMES: [&str; 10] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];
const SUMS: [&str; 10] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"];

/// Migration `n` (name `m{n}`, checksum `c{n}`), expand unless listed in `contract`.
pub(super) fn available(versions: &[i64], contract: &[i64]) -> Vec<Available<'static>> {
    versions
        .iter()
        .map(|&n| Available {
            version: v(n),
            name: NAMES[n as usize],
            origin: "migrations/file.up.sql",
            phase: if contract.contains(&n) { Phase::Contract } else { Phase::Expand },
            checksum: SUMS[n as usize],
            down_checksum: None,
            no_op: false,
            down: DownKind::Reversible,
        })
        .collect()
}

pub(super) fn row(n: i64, rank: i64) -> HistoryRow {
    HistoryRow {
        version: v(n),
        name: format!("m{n}"),
        phase: Phase::Expand,
        state: State::Applied,
        checksum: format!("c{n}"),
        down_checksum: None,
        rank,
        statements_total: 1,
        statements_done: 1,
        statements: Vec::new(),
        failed_statement: None,
        failed_line: None,
        error: None,
        applied_at: SystemTime::UNIX_EPOCH,
        execution_time: None,
        applied_by: "tester".into(),
        note: None,
    }
}

pub(super) fn contract_row(n: i64, rank: i64) -> HistoryRow {
    HistoryRow { phase: Phase::Contract, ..row(n, rank) }
}
