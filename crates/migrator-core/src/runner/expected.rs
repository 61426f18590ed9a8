//! The histories in which a run has nothing to do, as the startup check compares them.

use crate::history::{HistoryRow, RepeatableRow, State, repeatable_key};
use crate::migration::{Migration, RepeatableMigration};
use crate::version::Phase;

/// A history the startup check expects, as digest and rows.
#[derive(Debug)]
pub(super) struct Expected {
    pub(super) digest: String,
    pub(super) rows: Vec<HistoryRow>,
    /// The repeatables' rows, every one as it is now.
    pub(super) repeatables: Vec<RepeatableRow>,
    /// Whether it is a no-op for the expand phase only.
    pub(super) expand_only: bool,
}

impl Expected {
    pub(super) fn of<'a, C: ?Sized + 'a>(
        migrations: impl Iterator<Item = &'a dyn Migration<C>>,
        repeatables: impl Iterator<Item = &'a RepeatableMigration>,
        expand_only: bool,
    ) -> Self {
        let rows: Vec<HistoryRow> = migrations
            .enumerate()
            .map(|(rank, m)| {
                let meta = m.meta();
                HistoryRow {
                    version: meta.version(),
                    name: meta.name().to_owned(),
                    phase: meta.phase(),
                    state: State::Applied,
                    checksum: meta.checksum().as_str().to_owned(),
                    down_checksum: meta.down_checksum().map(|c| c.as_str().to_owned()),
                    rank: rank as i64 + 1,
                    statements_total: 0,
                    statements_done: 0,
                    statements: Vec::new(),
                    failed_statement: None,
                    failed_line: None,
                    error: None,
                    applied_at: std::time::SystemTime::UNIX_EPOCH,
                    execution_time: None,
                    applied_by: String::new(),
                    note: None,
                }
            })
            .collect();
        // The server orders its rows by key: repeatables (negative keys) come first.
        let mut keyed: Vec<(i64, &RepeatableMigration)> = repeatables.map(|r| (repeatable_key(r.name()), r)).collect();
        keyed.sort_by_key(|(key, _)| *key);
        let repeatable_tuples =
            keyed.iter().map(|(key, r)| (*key, r.name(), Phase::Expand, r.checksum().as_str(), None));
        let digest =
            crate::history::digest::applied_digest(repeatable_tuples.chain(rows.iter().map(|r| {
                (r.version.get(), r.name.as_str(), r.phase, r.checksum.as_str(), r.down_checksum.as_deref())
            })));
        let repeatables = keyed
            .iter()
            .map(|(_, r)| RepeatableRow {
                name: r.name().to_owned(),
                checksum: r.checksum().as_str().to_owned(),
                applied_at: std::time::SystemTime::UNIX_EPOCH,
                execution_time: None,
                applied_by: String::new(),
            })
            .collect();
        Expected { digest, rows, repeatables, expand_only }
    }
}
