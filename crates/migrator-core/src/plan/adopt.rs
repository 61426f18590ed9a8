//! `adopt`: which of another tool's applied migrations migrator records, which history it
//! refuses (dirty, unmappable, unknown, edited since it ran, contradicted by migrator's own
//! rows), and which are recorded already, so a second adoption changes nothing.

use crate::adopt::{ForeignRecord, ForeignTool, RecordKind, versions};
use crate::error::PlanError;
use crate::history::{HistoryRow, State};
use crate::version::Version;

/// The other tool's checksum of a file, as the runner computed it over the bytes that tool
/// read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileSum {
    /// The checksum, in [`ForeignRecord::checksum`]'s form.
    Value(String),
    /// It cannot be computed here, and why.
    Unavailable(String),
}

/// A migration of this binary, as adoption sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdoptFile<'a> {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: &'a str,
    /// File or Rust type, for messages.
    pub origin: &'a str,
    /// Migrator's checksum of it.
    pub checksum: &'a str,
    /// The other tool's checksum of it.
    pub tool_checksum: FileSum,
}

/// Input of [`plan_adopt`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdoptInput<'a> {
    /// The tool.
    pub tool: ForeignTool,
    /// Its table, for messages.
    pub table: &'a str,
    /// Its records in its order of application; `None` when the table does not exist.
    pub records: Option<&'a [ForeignRecord]>,
    /// A missing table means nothing to adopt (an application adopting at startup on a
    /// database the tool never touched) rather than a mistake.
    pub missing_ok: bool,
    /// This binary's migrations, in version order.
    pub files: &'a [AdoptFile<'a>],
    /// Migrator's history rows.
    pub history: &'a [HistoryRow],
    /// Adopt files changed since the tool applied them (or that cannot be checked).
    pub accept_changed: bool,
}

/// How a file was checked against what the other tool recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Checked {
    /// The tool's checksum of the file is the one it recorded.
    Verified,
    /// The tool keeps no checksum (diesel, golang-migrate, goose), or kept none for this
    /// migration (a Flyway Java migration).
    NotKept,
    /// Covered by the tool's current version or baseline, which records no file of its own.
    Covered,
    /// The file changed since the tool applied it; adopted as it is now, as asked.
    Changed {
        /// The checksum the tool recorded.
        recorded: String,
        /// The tool's checksum of the file now.
        current: String,
    },
    /// The tool's checksum cannot be computed here; adopted unchecked, as asked.
    Unchecked {
        /// Why.
        reason: String,
    },
}

/// One migration adoption records as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    /// The migrator version.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// Its file (or Rust type).
    pub origin: String,
    /// The version as the other tool recorded it.
    pub tool_version: String,
    /// How its file was checked.
    pub checked: Checked,
    /// The rank (order of application) it is recorded with.
    pub rank: i64,
    /// The note of its history row (`adopted from sqlx (version 3)`).
    pub note: String,
}

/// Something adoption leaves aside or wants known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdoptWarning {
    /// A record that is no migration of migrator's, left aside.
    Ignored {
        /// The record's version (or script) as the tool has it.
        tool_version: String,
        /// What it is.
        what: String,
    },
    /// A migration the tool no longer counts as applied (Flyway `repair` deleted it, or it
    /// was undone): not adopted.
    Removed {
        /// The version as the tool has it.
        tool_version: String,
    },
    /// A migration the tool never applied that is older than one it did: `up` applies it only
    /// when out-of-order migrations are allowed.
    PendingOlder {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// The newest applied version.
        newest_applied: Version,
    },
}

impl std::fmt::Display for AdoptWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdoptWarning::Ignored { tool_version, what } => write!(f, "left aside {tool_version}: {what}"),
            AdoptWarning::Removed { tool_version } => {
                write!(f, "version {tool_version} is no longer applied for the tool (deleted or undone): not adopted")
            }
            AdoptWarning::PendingOlder { version, name, newest_applied } => write!(
                f,
                "migration {version} `{name}` was never applied but {newest_applied} was: `up` refuses it unless \
                 out-of-order migrations are allowed"
            ),
        }
    }
}

/// What adopting would record, or has recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptPlan {
    /// The tool.
    pub tool: ForeignTool,
    /// Its table.
    pub table: String,
    /// Whether the table exists.
    pub found: bool,
    /// The migrations to record as applied, in the tool's order of application.
    pub adopt: Vec<Adopted>,
    /// Migrations the tool applied that migrator's history records already, the same way.
    pub already: Vec<Version>,
    /// Migrations of this binary that are not applied: `up` applies them.
    pub pending: Vec<Version>,
    /// What was left aside, and why.
    pub warnings: Vec<AdoptWarning>,
}

/// One migration the tool counts as applied, before it is checked.
struct Applied<'a> {
    version: Version,
    record: &'a ForeignRecord,
    /// Covered by an "up to" record rather than recorded on its own.
    covered: bool,
}

/// `adopt`: see the module docs.
pub(crate) fn plan_adopt(input: &AdoptInput<'_>) -> Result<AdoptPlan, PlanError> {
    let tool = input.tool;
    let mut plan = AdoptPlan {
        tool,
        table: input.table.to_owned(),
        found: input.records.is_some(),
        adopt: Vec::new(),
        already: Vec::new(),
        pending: Vec::new(),
        warnings: Vec::new(),
    };
    let Some(records) = input.records else {
        if input.missing_ok {
            return Ok(plan);
        }
        return Err(PlanError::ForeignTableMissing { tool: tool.name(), table: input.table.to_owned() });
    };
    if let Some(record) = records.iter().find(|r| matches!(r.kind, RecordKind::Failed | RecordKind::RolledBack)) {
        let (state, recovery) = recovery(tool, input.table, record);
        return Err(PlanError::ForeignDirty {
            tool: tool.name(),
            table: input.table.to_owned(),
            version: record.version.to_string(),
            state,
            recovery,
        });
    }
    let applied = applied(input, records, &mut plan.warnings)?;
    let mut rank = input.history.iter().map(|r| r.rank).max().unwrap_or(0);
    for entry in &applied {
        let Some(file) = input.files.iter().find(|f| f.version == entry.version) else {
            return Err(PlanError::ForeignUnknown {
                tool: tool.name(),
                version: entry.version,
                tool_version: entry.record.version.to_string(),
                name: entry.record.description.clone(),
            });
        };
        let checked = check(input, entry, file)?;
        match input.history.iter().find(|r| r.version == entry.version) {
            None => {
                rank = rank.saturating_add(1);
                plan.adopt.push(Adopted {
                    version: file.version,
                    name: file.name.to_owned(),
                    origin: file.origin.to_owned(),
                    tool_version: tool_version(entry),
                    note: note(tool, entry, &checked),
                    checked,
                    rank,
                });
            }
            Some(row) => {
                conflict(tool, file, row)?;
                plan.already.push(file.version);
            }
        }
    }
    let applied_versions: Vec<Version> = applied.iter().map(|a| a.version).collect();
    let recorded = |v: Version| input.history.iter().any(|r| r.version == v);
    let newest = applied_versions.iter().chain(input.history.iter().map(|r| &r.version)).max().copied();
    for file in input.files {
        if applied_versions.contains(&file.version) || recorded(file.version) {
            continue;
        }
        plan.pending.push(file.version);
        if let Some(newest) = newest.filter(|n| *n > file.version) {
            plan.warnings.push(AdoptWarning::PendingOlder {
                version: file.version,
                name: file.name.to_owned(),
                newest_applied: newest,
            });
        }
    }
    Ok(plan)
}

/// The migrations the tool counts as applied, in its order, each mapped to its migrator
/// version exactly once.
fn applied<'a>(
    input: &AdoptInput<'a>,
    records: &'a [ForeignRecord],
    warnings: &mut Vec<AdoptWarning>,
) -> Result<Vec<Applied<'a>>, PlanError> {
    let tool = input.tool;
    let map = |record: &ForeignRecord| {
        versions::map(tool, &record.version).map_err(|reason| PlanError::ForeignVersion {
            tool: tool.name(),
            version: record.version.to_string(),
            reason,
        })
    };
    let mut applied: Vec<Applied<'a>> = Vec::new();
    // Explicit records first, so a version both recorded and covered keeps its own record.
    for record in records {
        match &record.kind {
            RecordKind::Ignored(what) => {
                warnings.push(AdoptWarning::Ignored { tool_version: record.version.to_string(), what: what.clone() })
            }
            RecordKind::Bookkeeping => {}
            RecordKind::Removed => warnings.push(AdoptWarning::Removed { tool_version: record.version.to_string() }),
            RecordKind::Applied => {
                let version = map(record)?;
                if let Some(other) = applied.iter().find(|a| a.version == version) {
                    return Err(PlanError::ForeignDuplicate {
                        tool: tool.name(),
                        first: other.record.version.to_string(),
                        second: record.version.to_string(),
                        version,
                    });
                }
                applied.push(Applied { version, record, covered: false });
            }
            RecordKind::UpTo | RecordKind::Failed | RecordKind::RolledBack => {}
        }
    }
    for record in records.iter().filter(|r| r.kind == RecordKind::UpTo) {
        let up_to = map(record)?;
        // golang-migrate's current version is a migration it ran; a Flyway baseline need not be.
        if tool == ForeignTool::GolangMigrate && !input.files.iter().any(|f| f.version == up_to) {
            return Err(PlanError::ForeignUnknown {
                tool: tool.name(),
                version: up_to,
                tool_version: record.version.to_string(),
                name: None,
            });
        }
        for file in input.files.iter().filter(|f| f.version <= up_to) {
            if !applied.iter().any(|a| a.version == file.version) {
                applied.push(Applied { version: file.version, record, covered: true });
            }
        }
    }
    Ok(applied)
}

/// How `file` compares with the checksum the tool recorded for it.
fn check(input: &AdoptInput<'_>, entry: &Applied<'_>, file: &AdoptFile<'_>) -> Result<Checked, PlanError> {
    let tool = input.tool.name();
    let recorded = match (&entry.record.checksum, entry.covered) {
        (_, true) => return Ok(Checked::Covered),
        (None, false) => return Ok(Checked::NotKept),
        (Some(recorded), false) => recorded,
    };
    match &file.tool_checksum {
        FileSum::Value(current) if current == recorded => Ok(Checked::Verified),
        FileSum::Value(current) if input.accept_changed => {
            Ok(Checked::Changed { recorded: recorded.clone(), current: current.clone() })
        }
        FileSum::Value(current) => Err(PlanError::ForeignChecksum {
            tool,
            version: file.version,
            name: file.name.to_owned(),
            origin: file.origin.to_owned(),
            recorded: recorded.clone(),
            current: current.clone(),
        }),
        FileSum::Unavailable(reason) if input.accept_changed => Ok(Checked::Unchecked { reason: reason.clone() }),
        FileSum::Unavailable(reason) => Err(PlanError::ForeignUncheckable {
            tool,
            version: file.version,
            name: file.name.to_owned(),
            origin: file.origin.to_owned(),
            reason: reason.clone(),
        }),
    }
}

/// A row migrator already has for a migration the tool applied: the same (nothing to do),
/// or a disagreement.
fn conflict(tool: ForeignTool, file: &AdoptFile<'_>, row: &HistoryRow) -> Result<(), PlanError> {
    let refuse = |disagreement: String, advice: &str| {
        Err(PlanError::AdoptConflict {
            tool: tool.name(),
            version: file.version,
            name: file.name.to_owned(),
            disagreement,
            advice: advice.to_owned(),
        })
    };
    if row.state != State::Applied {
        return refuse(
            format!("as {}", row.state.as_str().replace('_', " ")),
            "Settle it with migrator first (`status` says how: `resume`, or `force`), then adopt again",
        );
    }
    if row.checksum != file.checksum {
        return refuse(
            format!("with checksum {}, but its file now gives {}", row.checksum, file.checksum),
            "Restore the file, or record it with `repair` if the edit is deliberate, then adopt again",
        );
    }
    Ok(())
}

fn tool_version(entry: &Applied<'_>) -> String {
    if entry.covered { entry.version.to_string() } else { entry.record.version.to_string() }
}

/// The note of an adopted row: where it comes from, and how it was checked when that is
/// worth keeping.
fn note(tool: ForeignTool, entry: &Applied<'_>, checked: &Checked) -> String {
    let mut note = if entry.covered {
        let what = if tool == ForeignTool::Flyway { "baseline" } else { "version" };
        format!("adopted from {tool} (at or below its {what} {})", entry.record.version)
    } else {
        format!("adopted from {tool} (version {})", entry.record.version)
    };
    match checked {
        Checked::Changed { .. } => note.push_str(&format!("; the file changed since {tool} applied it (accepted)")),
        Checked::Unchecked { .. } => note.push_str(&format!("; not checked against {tool}'s checksum (accepted)")),
        Checked::Verified | Checked::NotKept | Checked::Covered => {}
    }
    note
}

/// What the tool recorded about a failed or rolled-back migration, and how to recover in
/// that tool's terms.
fn recovery(tool: ForeignTool, table: &str, record: &ForeignRecord) -> (String, String) {
    let v = &record.version;
    match tool {
        ForeignTool::GolangMigrate => (
            "dirty (`dirty = true`)".to_owned(),
            format!(
                "Migration {v} failed part-way and golang-migrate cannot tell what took effect. Check the database and \
                 finish or undo migration {v} by hand; then `migrate force {v}` if it is now fully applied, or \
                 `migrate force` with the version before it if you undid it, and `migrate up`. Adopt again once \
                 golang-migrate's version is clean"
            ),
        ),
        ForeignTool::Sqlx => (
            "failed (`success = false`)".to_owned(),
            format!(
                "It is partially applied. Fix the database by hand, delete its row (`DELETE FROM {table} WHERE version \
                 = {v}`), run `sqlx migrate run` to apply it again, then adopt again"
            ),
        ),
        ForeignTool::Flyway => (
            "failed (`success = false`)".to_owned(),
            "Undo what it left behind by hand, run `flyway repair` to remove the failed entry, then `flyway migrate`, \
             and adopt again"
                .to_owned(),
        ),
        ForeignTool::Goose => (
            "not applied (its latest row has `is_applied = false`, written by `goose down` in older releases)"
                .to_owned(),
            format!(
                "Bring goose to a clean state first: `goose up` applies it again (`goose status` shows where goose \
                 stands); or, if it must stay unapplied, remove its file and its rows from {table}. Then adopt again"
            ),
        ),
        // Neither records a failure; a record says what it says.
        ForeignTool::Diesel | ForeignTool::Refinery => {
            ("failed".to_owned(), format!("Repair it with {tool}, then adopt again"))
        }
    }
}

/// Another tool's history found in a database whose migrator history has no rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForeignFound {
    /// The tool.
    pub tool: ForeignTool,
    /// Its table.
    pub table: String,
    /// The migrations it records as applied (or at least one, when its rows cannot be read).
    pub applied: usize,
}

/// Whether a first run may apply migrations in a database where another tool recorded some:
/// it would run them again (failing, or worse, duplicating data), so it is refused unless
/// the run adopts that history, or the user says the table is not that tool's.
pub(crate) fn check_foreign_histories(found: &[ForeignFound], ignore: bool) -> Result<(), PlanError> {
    match found.iter().find(|f| f.applied > 0) {
        Some(f) if !ignore => {
            Err(PlanError::ForeignHistoryFound { tool: f.tool.name(), table: f.table.clone(), applied: f.applied })
        }
        _ => Ok(()),
    }
}

/// How many migrations `records` count as applied (an "up to" record counts as one).
pub(crate) fn applied_records(records: &[ForeignRecord]) -> usize {
    records.iter().filter(|r| matches!(r.kind, RecordKind::Applied | RecordKind::UpTo | RecordKind::Failed)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::ForeignVersion;
    use crate::plan::testkit::{row, v};

    fn record(version: i64, kind: RecordKind, checksum: Option<&str>) -> ForeignRecord {
        ForeignRecord {
            version: ForeignVersion::Int(version),
            description: Some(format!("m{version}")),
            kind,
            checksum: checksum.map(str::to_owned),
            order: version,
        }
    }

    /// Files 1..=n, named `m{v}`, with migrator checksum `sha256:{v}` and tool checksum `t{v}`.
    fn files(n: i64) -> Vec<AdoptFile<'static>> {
        (1..=n)
            .map(|i| AdoptFile {
                version: v(i),
                name: Box::leak(format!("m{i}").into_boxed_str()),
                origin: Box::leak(format!("migrations/{i}_m{i}.up.sql").into_boxed_str()),
                checksum: Box::leak(format!("sha256:{i}").into_boxed_str()),
                tool_checksum: FileSum::Value(format!("t{i}")),
            })
            .collect()
    }

    fn input<'a>(
        tool: ForeignTool,
        records: Option<&'a [ForeignRecord]>,
        files: &'a [AdoptFile<'a>],
        history: &'a [HistoryRow],
    ) -> AdoptInput<'a> {
        AdoptInput {
            tool,
            table: tool.default_table(),
            records,
            missing_ok: false,
            files,
            history,
            accept_changed: false,
        }
    }

    fn versions(adopted: &[Adopted]) -> Vec<i64> {
        adopted.iter().map(|a| a.version.get()).collect()
    }

    #[test]
    fn applied_migrations_are_adopted_in_the_tools_order_after_migrators_ranks() {
        let files = files(4);
        let records = [record(1, RecordKind::Applied, Some("t1")), record(2, RecordKind::Applied, Some("t2"))];
        let plan = plan_adopt(&input(ForeignTool::Sqlx, Some(&records), &files, &[])).unwrap();
        assert_eq!(versions(&plan.adopt), vec![1, 2]);
        assert_eq!(plan.adopt[0].checked, Checked::Verified);
        assert_eq!((plan.adopt[0].rank, plan.adopt[1].rank), (1, 2));
        assert_eq!(plan.adopt[1].note, "adopted from sqlx (version 2)");
        assert_eq!(plan.pending, vec![v(3), v(4)]);
        assert!(plan.already.is_empty() && plan.warnings.is_empty());
    }

    #[test]
    fn a_second_adoption_finds_everything_recorded() {
        let files = files(2);
        let records = [record(1, RecordKind::Applied, Some("t1")), record(2, RecordKind::Applied, Some("t2"))];
        let history: Vec<HistoryRow> =
            (1..=2).map(|i| HistoryRow { checksum: format!("sha256:{i}"), ..row(i, i) }).collect();
        let plan = plan_adopt(&input(ForeignTool::Sqlx, Some(&records), &files, &history)).unwrap();
        assert!(plan.adopt.is_empty(), "{plan:?}");
        assert_eq!(plan.already, vec![v(1), v(2)]);
        assert!(plan.pending.is_empty());
        // A migration the tool applied since is added after migrator's ranks.
        let more = [records[0].clone(), records[1].clone(), record(3, RecordKind::Applied, Some("t3"))];
        let files = self::files(3);
        let plan = plan_adopt(&input(ForeignTool::Sqlx, Some(&more), &files, &history)).unwrap();
        assert_eq!((versions(&plan.adopt), plan.adopt[0].rank), (vec![3], 3));
    }

    #[test]
    fn migrators_own_rows_that_disagree_stop_it() {
        let files = files(2);
        let records = [record(1, RecordKind::Applied, Some("t1"))];
        let changed = [HistoryRow { checksum: "sha256:other".into(), ..row(1, 1) }];
        let e = plan_adopt(&input(ForeignTool::Sqlx, Some(&records), &files, &changed)).unwrap_err();
        assert!(matches!(e, PlanError::AdoptConflict { .. }), "{e}");
        assert!(e.to_string().contains("with checksum sha256:other, but its file now gives sha256:1"), "{e}");
        let failed = [HistoryRow { checksum: "sha256:1".into(), state: State::Failed, ..row(1, 1) }];
        let e = plan_adopt(&input(ForeignTool::Sqlx, Some(&records), &files, &failed)).unwrap_err();
        assert!(e.to_string().contains("already records it as failed"), "{e}");
        // A row migrator applied on its own (version 2, unknown to the tool) is no conflict.
        let own = [HistoryRow { checksum: "sha256:2".into(), ..row(2, 1) }];
        let plan = plan_adopt(&input(ForeignTool::Sqlx, Some(&records), &files, &own)).unwrap();
        assert_eq!((versions(&plan.adopt), plan.adopt[0].rank), (vec![1], 2));
    }

    #[test]
    fn edited_files_stop_it_unless_accepted() {
        let files = files(2);
        let records = [record(1, RecordKind::Applied, Some("t1")), record(2, RecordKind::Applied, Some("old"))];
        let e = plan_adopt(&input(ForeignTool::Flyway, Some(&records), &files, &[])).unwrap_err();
        assert_eq!(
            e,
            PlanError::ForeignChecksum {
                tool: "flyway",
                version: v(2),
                name: "m2".into(),
                origin: "migrations/2_m2.up.sql".into(),
                recorded: "old".into(),
                current: "t2".into(),
            }
        );
        assert!(e.to_string().contains("migrations/2_m2.up.sql") && e.to_string().contains("--accept-changed"), "{e}");
        let accepted = AdoptInput { accept_changed: true, ..input(ForeignTool::Flyway, Some(&records), &files, &[]) };
        let plan = plan_adopt(&accepted).unwrap();
        assert_eq!(plan.adopt[1].checked, Checked::Changed { recorded: "old".into(), current: "t2".into() });
        assert!(
            plan.adopt[1].note.ends_with("the file changed since flyway applied it (accepted)"),
            "{}",
            plan.adopt[1].note
        );
        // A checksum that cannot be computed here.
        let mut uncheckable = files.clone();
        uncheckable[0].tool_checksum = FileSum::Unavailable("no feature".into());
        let e = plan_adopt(&input(ForeignTool::Refinery, Some(&records[..1]), &uncheckable, &[])).unwrap_err();
        assert!(matches!(e, PlanError::ForeignUncheckable { .. }) && e.to_string().contains("no feature"), "{e}");
        let accepted =
            AdoptInput { accept_changed: true, ..input(ForeignTool::Refinery, Some(&records[..1]), &uncheckable, &[]) };
        assert!(matches!(plan_adopt(&accepted).unwrap().adopt[0].checked, Checked::Unchecked { .. }));
        // No checksum kept: nothing to compare.
        let plain = [record(1, RecordKind::Applied, None)];
        assert_eq!(
            plan_adopt(&input(ForeignTool::Goose, Some(&plain), &files, &[])).unwrap().adopt[0].checked,
            Checked::NotKept
        );
    }

    #[test]
    fn dirty_states_stop_it_with_the_tools_recovery() {
        let files = files(3);
        let table: &[(ForeignTool, RecordKind, &str)] = &[
            (ForeignTool::GolangMigrate, RecordKind::Failed, "`migrate force 2`"),
            (ForeignTool::Sqlx, RecordKind::Failed, "DELETE FROM _sqlx_migrations WHERE version = 2"),
            (ForeignTool::Flyway, RecordKind::Failed, "`flyway repair`"),
            (ForeignTool::Goose, RecordKind::RolledBack, "`goose up`"),
        ];
        for (tool, kind, advice) in table {
            let records = [record(1, RecordKind::Applied, None), record(2, kind.clone(), None)];
            let e = plan_adopt(&input(*tool, Some(&records), &files, &[])).unwrap_err();
            assert!(matches!(e, PlanError::ForeignDirty { .. }), "{tool}: {e}");
            let text = e.to_string();
            assert!(text.contains(advice) && text.contains("nothing was adopted"), "{tool}: {text}");
        }
    }

    #[test]
    fn current_versions_and_baselines_cover_the_files_below_them() {
        let files = files(4);
        let current = [record(2, RecordKind::UpTo, None)];
        let plan = plan_adopt(&input(ForeignTool::GolangMigrate, Some(&current), &files, &[])).unwrap();
        assert_eq!(versions(&plan.adopt), vec![1, 2]);
        assert_eq!(plan.adopt[0].checked, Checked::Covered);
        assert_eq!(plan.adopt[0].note, "adopted from golang-migrate (at or below its version 2)");
        assert_eq!(plan.pending, vec![v(3), v(4)]);
        // golang-migrate's version must be a migration it has.
        let e = plan_adopt(&input(ForeignTool::GolangMigrate, Some(&[record(9, RecordKind::UpTo, None)]), &files, &[]))
            .unwrap_err();
        assert!(matches!(e, PlanError::ForeignUnknown { .. }), "{e}");
        // A Flyway baseline need not be; migrations above it keep their own records.
        let flyway = [
            ForeignRecord { version: ForeignVersion::Text("1".into()), ..record(0, RecordKind::UpTo, None) },
            ForeignRecord {
                version: ForeignVersion::Text("3".into()),
                order: 3,
                ..record(3, RecordKind::Applied, Some("t3"))
            },
        ];
        let mut only_above = files.clone();
        only_above.remove(0);
        let plan = plan_adopt(&input(ForeignTool::Flyway, Some(&flyway), &only_above, &[])).unwrap();
        assert_eq!(versions(&plan.adopt), vec![3], "{plan:?}");
        assert_eq!(plan.pending, vec![v(2), v(4)]);
        assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
        let plan = plan_adopt(&input(ForeignTool::Flyway, Some(&flyway), &files, &[])).unwrap();
        assert_eq!(versions(&plan.adopt), vec![3, 1]);
        assert_eq!(plan.adopt[1].note, "adopted from flyway (at or below its baseline 1)");
    }

    #[test]
    fn unknown_unmappable_and_duplicate_versions_stop_it() {
        let files = files(2);
        let e = plan_adopt(&input(ForeignTool::Sqlx, Some(&[record(7, RecordKind::Applied, None)]), &files, &[]))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("sqlx applied migration 7 (sqlx version 7, `m7`) but this binary has no migration 7"),
            "{e}"
        );
        let zero = [record(0, RecordKind::Applied, None)];
        assert!(matches!(
            plan_adopt(&input(ForeignTool::Sqlx, Some(&zero), &files, &[])),
            Err(PlanError::ForeignVersion { .. })
        ));
        let diesel =
            |s: &str| ForeignRecord { version: ForeignVersion::Text(s.into()), ..record(1, RecordKind::Applied, None) };
        let same = [diesel("20190226002946"), diesel("201902260029460000")];
        let e = plan_adopt(&input(ForeignTool::Diesel, Some(&same), &files, &[])).unwrap_err();
        assert!(matches!(e, PlanError::ForeignDuplicate { .. }), "{e}");
    }

    #[test]
    fn a_missing_table_is_an_error_unless_adopting_at_startup() {
        let files = files(1);
        let e = plan_adopt(&input(ForeignTool::Diesel, None, &files, &[])).unwrap_err();
        assert!(e.to_string().contains("table __diesel_schema_migrations does not exist"), "{e}");
        let startup = AdoptInput { missing_ok: true, ..input(ForeignTool::Diesel, None, &files, &[]) };
        let plan = plan_adopt(&startup).unwrap();
        assert!(!plan.found && plan.adopt.is_empty());
    }

    #[test]
    fn records_that_are_no_migrations_are_left_aside() {
        let files = files(2);
        let records = [
            record(0, RecordKind::Bookkeeping, None),
            record(1, RecordKind::Applied, None),
            record(2, RecordKind::Removed, None),
            record(3, RecordKind::Ignored("repeatable migration R__views.sql".into()), None),
        ];
        let plan = plan_adopt(&input(ForeignTool::Goose, Some(&records), &files, &[])).unwrap();
        assert_eq!(versions(&plan.adopt), vec![1]);
        assert_eq!(plan.pending, vec![v(2)]);
        assert_eq!(plan.warnings.len(), 2, "goose's own first row says nothing: {:?}", plan.warnings);
        assert!(matches!(plan.warnings[0], AdoptWarning::Removed { .. }));
        assert!(matches!(plan.warnings[1], AdoptWarning::Ignored { .. }));
    }

    #[test]
    fn a_first_run_beside_another_tools_history_is_refused() {
        let found = |applied| ForeignFound { tool: ForeignTool::Sqlx, table: "_sqlx_migrations".into(), applied };
        assert_eq!(check_foreign_histories(&[], false), Ok(()));
        assert_eq!(check_foreign_histories(&[found(0)], false), Ok(()), "an empty table: nothing ran");
        assert_eq!(check_foreign_histories(&[found(3)], true), Ok(()), "the user says it is not that tool's");
        let e = check_foreign_histories(&[found(0), found(3)], false).unwrap_err();
        assert!(matches!(e, PlanError::ForeignHistoryFound { applied: 3, .. }), "{e}");
        assert!(e.to_string().contains("migrator adopt --from sqlx"), "{e}");
    }
}
