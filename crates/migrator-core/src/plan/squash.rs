//! Squash migrations: one migration that stands for every migration up to its version.
//!
//! A fresh database runs the squash migration like any other. A database that applied the
//! squashed migrations one by one holds their rows instead; [`fold_squashed`] checks those
//! rows against the squash's `squashes` lines (each applied, with the checksum the squash was
//! made from, none missing) and reads them as one applied row of the squash migration, so
//! every later decision (up, status, down, validate) sees one shape of history.

use std::collections::HashMap;

use crate::directive::Squashed;
use crate::error::PlanError;
use crate::history::{HistoryRow, State};
use crate::version::{Phase, Version};

/// A squash migration as the planner sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AvailableSquash<'a> {
    /// Its version: the newest it squashes.
    pub version: Version,
    /// Its name.
    pub name: &'a str,
    /// Its file.
    pub origin: &'a str,
    /// Its phase.
    pub phase: Phase,
    /// Its own checksum (what a fresh database records for it).
    pub checksum: &'a str,
    /// The migrations it stands for, its own version among them.
    pub squashes: &'a [Squashed],
}

/// The history as this binary reads it: the rows of migrations applied one by one and
/// squashed since, folded into one applied row of their squash migration. `None` when there
/// is nothing to fold.
pub(crate) fn fold_squashed(
    squashes: &[AvailableSquash<'_>],
    rows: &[HistoryRow],
) -> Result<Option<Vec<HistoryRow>>, PlanError> {
    let mut folded: Option<Vec<HistoryRow>> = None;
    for squash in squashes {
        let current = folded.as_deref().unwrap_or(rows);
        let listed: HashMap<i64, &Squashed> = squash.squashes.iter().map(|s| (s.version, s)).collect();
        // The squash migration's own row, when a fresh database ran it, is not an original.
        let is_original = |row: &HistoryRow| {
            listed.contains_key(&row.version.get())
                && !(row.version == squash.version && row.checksum == squash.checksum)
        };
        let originals: Vec<&HistoryRow> = current.iter().filter(|r| is_original(r)).collect();
        if originals.is_empty() {
            continue;
        }
        for row in &originals {
            if row.state != State::Applied {
                return Err(PlanError::SquashedNotApplied {
                    version: row.version,
                    name: row.name.clone(),
                    squash: squash.origin.to_owned(),
                });
            }
            if let Some(listed) = listed.get(&row.version.get()).filter(|l| l.checksum != row.checksum) {
                return Err(PlanError::SquashedChanged {
                    version: row.version,
                    name: row.name.clone(),
                    squash: squash.origin.to_owned(),
                    line: listed.line,
                    stored: row.checksum.clone(),
                    squashed: listed.checksum.clone(),
                });
            }
        }
        if originals.len() < squash.squashes.len() {
            let mut missing: Vec<&Squashed> =
                squash.squashes.iter().filter(|s| !originals.iter().any(|r| r.version.get() == s.version)).collect();
            missing.sort_by_key(|s| s.version);
            return Err(PlanError::SquashPartial {
                squash: squash.origin.to_owned(),
                applied: originals.len(),
                total: squash.squashes.len(),
                missing: missing.iter().map(|s| format!("{} {}", s.version, s.name)).collect(),
            });
        }
        let one = folded_row(squash, &originals);
        let mut next: Vec<HistoryRow> = current.iter().filter(|r| !is_original(r)).cloned().collect();
        let at = next.partition_point(|r| r.version < one.version);
        next.insert(at, one);
        folded = Some(next);
    }
    Ok(folded)
}

/// The one row the originals read as: applied when the last of them was, ranked where it
/// was, its note saying how it came to be.
fn folded_row(squash: &AvailableSquash<'_>, originals: &[&HistoryRow]) -> HistoryRow {
    let last = originals.iter().max_by_key(|r| r.rank);
    let total: u32 = originals.iter().map(|r| r.statements_total).fold(0, u32::saturating_add);
    HistoryRow {
        version: squash.version,
        name: squash.name.to_owned(),
        phase: squash.phase,
        state: State::Applied,
        checksum: squash.checksum.to_owned(),
        down_checksum: None,
        rank: last.map(|r| r.rank).unwrap_or_default(),
        statements_total: total,
        statements_done: total,
        statements: Vec::new(),
        failed_statement: None,
        failed_line: None,
        error: None,
        applied_at: originals.iter().map(|r| r.applied_at).max().unwrap_or(std::time::SystemTime::UNIX_EPOCH),
        execution_time: originals.iter().filter_map(|r| r.execution_time).reduce(|a, b| a + b),
        applied_by: last.map(|r| r.applied_by.clone()).unwrap_or_default(),
        note: Some(format!("squashes {} migrations, applied one by one", originals.len())),
    }
}

/// A migration of the directory as `squash` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquashCandidate<'a> {
    /// Version.
    pub version: Version,
    /// Its file.
    pub origin: &'a str,
    /// Whether it is itself a squash migration.
    pub is_squash: bool,
}

/// `squash --to V`: the versions the squash migration stands for (every migration up to
/// `to`, which must exist). Squashing a squash migration again is refused: databases built
/// from it hold one row where the others hold many, and one list of `squashes` lines cannot
/// say both.
pub fn plan_squash(candidates: &[SquashCandidate<'_>], to: Version) -> Result<Vec<Version>, PlanError> {
    if !candidates.iter().any(|c| c.version == to) {
        return Err(PlanError::SquashTargetUnknown { version: to });
    }
    let squashed: Vec<&SquashCandidate<'_>> = candidates.iter().filter(|c| c.version <= to).collect();
    if let Some(squash) = squashed.iter().find(|c| c.is_squash) {
        return Err(PlanError::SquashOfSquash { version: squash.version, origin: squash.origin.to_owned() });
    }
    Ok(squashed.iter().map(|c| c.version).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testkit::{row, v};

    fn squashed(versions: &[i64]) -> Vec<Squashed> {
        versions
            .iter()
            .map(|&n| Squashed { version: n, checksum: format!("c{n}"), name: format!("m{n}"), line: n as usize })
            .collect()
    }

    fn squash(list: &[Squashed]) -> AvailableSquash<'_> {
        AvailableSquash {
            version: v(list.iter().map(|s| s.version).max().unwrap()),
            name: "squash",
            origin: "migrations/3_squash.up.sql",
            phase: Phase::Expand,
            checksum: "sq",
            squashes: list,
        }
    }

    fn versions(rows: &[HistoryRow]) -> Vec<(i64, &str)> {
        rows.iter().map(|r| (r.version.get(), r.checksum.as_str())).collect()
    }

    #[test]
    fn originals_fold_into_the_squash_row() {
        let list = squashed(&[1, 2, 3]);
        let squashes = [squash(&list)];
        let history = [row(1, 1), row(2, 2), row(3, 3), row(4, 4)];
        let folded = fold_squashed(&squashes, &history).unwrap().unwrap();
        assert_eq!(versions(&folded), [(3, "sq"), (4, "c4")]);
        assert_eq!(folded[0].rank, 3);
        assert_eq!(folded[0].statements_total, 3);
        assert_eq!(folded[0].note.as_deref(), Some("squashes 3 migrations, applied one by one"));
    }

    #[test]
    fn nothing_to_fold() {
        let list = squashed(&[1, 2, 3]);
        let squashes = [squash(&list)];
        assert_eq!(fold_squashed(&squashes, &[]).unwrap(), None, "fresh database");
        let ran_the_squash = HistoryRow { checksum: "sq".into(), ..row(3, 1) };
        assert_eq!(fold_squashed(&squashes, &[ran_the_squash, row(4, 2)]).unwrap(), None, "ran the squash itself");
        assert_eq!(fold_squashed(&[], &[row(1, 1)]).unwrap(), None, "no squash");
    }

    #[test]
    fn refusals_name_the_migration_and_what_to_do() {
        let list = squashed(&[1, 2, 3]);
        let squashes = [squash(&list)];
        let edited = HistoryRow { checksum: "other".into(), ..row(2, 2) };
        let e = fold_squashed(&squashes, &[row(1, 1), edited, row(3, 3)]).unwrap_err();
        assert!(matches!(e, PlanError::SquashedChanged { line: 2, .. }), "{e}");
        assert!(
            e.to_string().contains("migration 2 `m2` was applied as other, but migrations/3_squash.up.sql (line 2)")
        );

        let failed = HistoryRow { state: State::Failed, ..row(3, 3) };
        let e = fold_squashed(&squashes, &[row(1, 1), row(2, 2), failed]).unwrap_err();
        assert!(matches!(e, PlanError::SquashedNotApplied { .. }), "{e}");
        assert!(e.to_string().contains("release from before the squash"), "{e}");

        let e = fold_squashed(&squashes, &[row(1, 1)]).unwrap_err();
        let PlanError::SquashPartial { applied, total, missing, .. } = &e else { panic!("{e}") };
        assert_eq!((*applied, *total, missing.as_slice()), (1, 3, &["2 m2".to_owned(), "3 m3".to_owned()][..]));
        assert!(e.to_string().contains("not applied: 2 m2, 3 m3"), "{e}");
    }

    #[test]
    fn squash_takes_every_migration_up_to_the_target() {
        let c = |n: i64, is_squash: bool| SquashCandidate { version: v(n), origin: "m/f.up.sql", is_squash };
        let all = [c(1, false), c(2, false), c(5, false)];
        assert_eq!(plan_squash(&all, v(2)).unwrap(), [v(1), v(2)]);
        assert_eq!(plan_squash(&all, v(5)).unwrap(), [v(1), v(2), v(5)]);
        let e = plan_squash(&all, v(3)).unwrap_err();
        assert!(matches!(e, PlanError::SquashTargetUnknown { .. }), "{e}");
        let e = plan_squash(&[c(2, true), c(5, false)], v(5)).unwrap_err();
        assert!(matches!(e, PlanError::SquashOfSquash { .. }), "{e}");
    }
}
