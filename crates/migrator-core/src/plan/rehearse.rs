//! Rehearsal decisions (`migrator rehearse`, the test kits' `assert_online`): which
//! migrations a rehearsal applies first and which it measures, the order tables are filled
//! in (parents before the tables whose foreign keys point at them), and the verdict on what
//! was measured against the user's thresholds.
//!
//! The drivers measure (a workload's latencies, the server's lock views, a table's physical
//! file); these functions only decide, so the same measurements give the same verdict in
//! the CLI and in a test.

use std::time::Duration;

use crate::version::Version;

/// What a rehearsal holds a migration to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// The longest a concurrent write or read may wait.
    pub max_stall: Duration,
    /// Whether rewriting a table is over the thresholds by itself.
    pub no_rewrite: bool,
}

impl Default for Thresholds {
    /// No write or read blocked over 200 ms; rewrites allowed if they block nothing that long.
    fn default() -> Self {
        Thresholds { max_stall: Duration::from_millis(200), no_rewrite: false }
    }
}

/// A lock the migration's session held on a table, as the server's lock view showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    /// The table.
    pub table: String,
    /// The lock's mode as the server names it (`AccessExclusiveLock`, `MDL_EXCLUSIVE`).
    pub mode: String,
    /// From the first sample that saw it to the last (0 when one sample saw it).
    pub held: Duration,
}

/// A workload statement the lock view showed waiting for a lock (PostgreSQL: a `pg_locks`
/// row with `granted = false`), with what it waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenWaiting {
    /// The table.
    pub table: String,
    /// The mode it asked for.
    pub mode: String,
    /// From the first sample that saw it waiting to the last.
    pub seen_for: Duration,
}

/// What a rehearsal measured while one migration ran.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Measured {
    /// How long the migration took.
    pub duration: Duration,
    /// The longest a workload write (a single-row `UPDATE` or `INSERT`) took.
    pub max_write_stall: Duration,
    /// The longest a workload read (a single-row `SELECT`) took.
    pub max_read_stall: Duration,
    /// Workload writes and reads that ran while the migration did.
    pub operations: u64,
    /// Tables whose physical storage was replaced (PostgreSQL's `relfilenode`, InnoDB's
    /// table id changed).
    pub rewrote: Vec<String>,
    /// Locks the migration's session held on the touched tables.
    pub locks: Vec<HeldLock>,
    /// Workload statements seen waiting for a lock on the touched tables.
    pub waiting: Vec<SeenWaiting>,
    /// Rows in the touched tables after the migration.
    pub rows: u64,
    /// What the backend could not see (for example held locks without a server plugin).
    pub notes: Vec<String>,
}

/// Within the thresholds or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every measurement within the thresholds.
    Ok,
    /// At least one over.
    Over,
}

impl Verdict {
    /// `ok` or `over`, as the JSON report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Over => "over",
        }
    }
}

/// A verdict with its reasons (empty when [`Verdict::Ok`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Why it is over, one sentence each.
    pub reasons: Vec<String>,
}

/// The verdict on `measured` against `thresholds`: over when a write or a read waited
/// longer than the longest stall allowed, or, with [`Thresholds::no_rewrite`], when a table
/// was rewritten. A stall exactly at the threshold is within it.
pub fn judge(measured: &Measured, thresholds: &Thresholds) -> Judgement {
    let mut reasons = Vec::new();
    let ms = |d: Duration| d.as_millis();
    for (what, stall) in [("write", measured.max_write_stall), ("read", measured.max_read_stall)] {
        if stall > thresholds.max_stall {
            reasons.push(format!(
                "a concurrent {what} waited {} ms, over the {} ms allowed",
                ms(stall),
                ms(thresholds.max_stall)
            ));
        }
    }
    if thresholds.no_rewrite && !measured.rewrote.is_empty() {
        reasons.push(format!("it rewrote {} (rewrites are not allowed)", measured.rewrote.join(", ")));
    }
    let verdict = if reasons.is_empty() { Verdict::Ok } else { Verdict::Over };
    Judgement { verdict, reasons }
}

/// Where a rehearsal starts: the first migration it measures (the ones before it are applied
/// without measuring), or `None` when there is nothing to rehearse.
///
/// - `from` given (`--from VERSION`): the first migration newer than it.
/// - else, with a history (`first_pending` is what `up` would apply first): that one, and
///   every migration after it.
/// - else (no history to compare with): the newest migration alone, the one a change under
///   review usually adds.
///
/// `versions` are the set's versions in ascending order.
pub fn rehearsal_start(
    versions: &[Version],
    has_history: bool,
    first_pending: Option<Version>,
    from: Option<Version>,
) -> Option<Version> {
    match (from, has_history) {
        (Some(from), _) => versions.iter().copied().find(|v| *v > from),
        (None, true) => first_pending,
        (None, false) => versions.last().copied(),
    }
}

/// The order to fill `tables` in: each `(table, parents)` after the tables its foreign keys
/// reference (`parents`; references outside `tables` and to itself are ignored), otherwise in
/// the order given. A cycle is broken at the first table of it in the order given (its rows
/// then need values the other tables do not constrain, which the drivers' generated keys
/// give: row `i` of every table has key `i`).
pub fn fill_order(tables: &[(String, Vec<String>)]) -> Vec<String> {
    let mut done: Vec<String> = Vec::with_capacity(tables.len());
    while done.len() < tables.len() {
        let ready = tables.iter().find(|(table, parents)| {
            !done.contains(table)
                && parents.iter().all(|p| p == table || done.contains(p) || !tables.iter().any(|(t, _)| t == p))
        });
        let next = ready.or_else(|| tables.iter().find(|(table, _)| !done.contains(table)));
        match next {
            Some((table, _)) => done.push(table.clone()),
            None => break,
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn v(n: i64) -> Version {
        Version::try_from(n).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn verdicts() {
        // (write stall, read stall, rewrote, max stall, no rewrite) -> (verdict, reasons)
        type Case = (u64, u64, &'static [&'static str], u64, bool, Verdict, usize);
        let cases: &[Case] = &[
            (5, 3, &[], 200, false, Verdict::Ok, 0),
            (200, 200, &[], 200, false, Verdict::Ok, 0),
            (201, 3, &[], 200, false, Verdict::Over, 1),
            (3, 950, &[], 200, false, Verdict::Over, 1),
            (900, 950, &[], 200, false, Verdict::Over, 2),
            (5, 5, &["orders"], 200, false, Verdict::Ok, 0),
            (5, 5, &["orders"], 200, true, Verdict::Over, 1),
            (900, 5, &["orders"], 200, true, Verdict::Over, 2),
            (0, 0, &[], 0, true, Verdict::Ok, 0),
        ];
        for (write, read, rewrote, max, no_rewrite, verdict, reasons) in cases {
            let measured = Measured {
                max_write_stall: ms(*write),
                max_read_stall: ms(*read),
                rewrote: rewrote.iter().map(|t| (*t).to_owned()).collect(),
                ..Measured::default()
            };
            let judged = judge(&measured, &Thresholds { max_stall: ms(*max), no_rewrite: *no_rewrite });
            assert_eq!((judged.verdict, judged.reasons.len()), (*verdict, *reasons), "{write} {read} {rewrote:?}");
        }
        let judged = judge(
            &Measured { max_write_stall: ms(1500), rewrote: vec!["orders".into()], ..Measured::default() },
            &Thresholds { max_stall: ms(200), no_rewrite: true },
        );
        assert_eq!(
            judged.reasons,
            [
                "a concurrent write waited 1500 ms, over the 200 ms allowed",
                "it rewrote orders (rewrites are not allowed)"
            ]
        );
        assert_eq!((Verdict::Ok.as_str(), Verdict::Over.as_str()), ("ok", "over"));
    }

    #[test]
    fn where_a_rehearsal_starts() {
        let all = [v(1), v(2), v(3)];
        // (versions, has history, first pending, from) -> start
        type Case<'a> = (&'a [Version], bool, Option<Version>, Option<Version>, Option<Version>);
        let cases: &[Case<'_>] = &[
            (&all, true, Some(v(2)), None, Some(v(2))),
            (&all, true, None, None, None),
            (&all, false, None, None, Some(v(3))),
            (&all, true, Some(v(3)), Some(v(1)), Some(v(2))),
            (&all, false, None, Some(v(1)), Some(v(2))),
            (&all, false, None, Some(v(3)), None),
            (&[], false, None, None, None),
        ];
        for (versions, history, pending, from, start) in cases {
            assert_eq!(rehearsal_start(versions, *history, *pending, *from), *start, "{history} {pending:?} {from:?}");
        }
    }

    #[test]
    fn parents_are_filled_first() {
        let t = |name: &str, parents: &[&str]| (name.to_owned(), parents.iter().map(|p| (*p).to_owned()).collect());
        // (tables with parents) -> order
        type Graph = Vec<(String, Vec<String>)>;
        let cases: Vec<(Graph, Vec<&str>)> = vec![
            (vec![t("orders", &["users"]), t("users", &[])], vec!["users", "orders"]),
            (vec![t("users", &[]), t("orders", &["users"])], vec!["users", "orders"]),
            (
                vec![t("items", &["orders", "products"]), t("orders", &["users"]), t("products", &[]), t("users", &[])],
                vec!["products", "users", "orders", "items"],
            ),
            (vec![t("tree", &["tree"])], vec!["tree"]),
            (vec![t("orders", &["accounts"])], vec!["orders"]),
            (vec![t("a", &["b"]), t("b", &["a"]), t("c", &[])], vec!["c", "a", "b"]),
            (vec![], vec![]),
        ];
        for (tables, order) in cases {
            assert_eq!(fill_order(&tables), order, "{tables:?}");
        }
    }
}
