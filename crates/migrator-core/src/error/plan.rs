//! The planner's refusals: why a run (or a requested operation) must not proceed, each
//! with what to do next.

use crate::version::{Direction, Version};

/// Why a run (or a requested operation) must not proceed, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// An applied migration's file changed.
    #[error(
        "checksum mismatch for applied migration {version} `{name}` ({origin}): it was applied as {stored} but the \
         file now gives {current}. Applied migrations must not change: restore the file (git checkout), or, if the edit \
         is deliberate and harmless, run `repair` to record the new checksum"
    )]
    ChecksumMismatch {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
        /// Recorded checksum.
        stored: String,
        /// Current checksum.
        current: String,
    },

    /// A statement-by-statement migration failed at a recorded statement.
    #[error("{}", failed_text(*direction, *version, name, *statement, *total, *line, error))]
    Failed {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Applying or reverting.
        direction: Direction,
        /// 1-based failed statement.
        statement: Option<u32>,
        /// Statements in the script.
        total: u32,
        /// Line of the failed statement.
        line: Option<u32>,
        /// The recorded error.
        error: String,
    },

    /// A statement-by-statement migration was left running by a process that died.
    #[error("{}", interrupted_text(*direction, *version, name, *statement, *total, *line))]
    Interrupted {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Applying or reverting.
        direction: Direction,
        /// 1-based statement that was running.
        statement: u32,
        /// Statements in the script.
        total: u32,
        /// Its line.
        line: Option<u32>,
    },

    /// A pending migration older than the newest applied one of its phase.
    #[error(
        "migration {version} `{name}` is pending but migration {newest_applied} is already applied: it was probably \
         merged from a branch after a newer migration shipped. Give it a version newer than {newest_applied} \
         (rename the file), or allow out-of-order migrations if applying it late is safe"
    )]
    OutOfOrder {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Newest applied version of its phase.
        newest_applied: Version,
    },

    /// An applied version inside this binary's range that this binary does not know.
    #[error(
        "migration {version} `{name}` is applied in the database but this binary has no such migration, although it \
         knows migrations up to {newest_known}. The binary may have been built without a new migration file (cargo \
         does not notice new files by itself: add `migrator_core::build::watch_migrations(\"migrations\")` to build.rs), \
         or the file was deleted or renamed. Restore it, or ignore unknown versions if this is intended"
    )]
    UnknownApplied {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
        /// Newest version this binary knows.
        newest_known: Version,
    },

    /// Reverting reached an irreversible migration.
    #[error(
        "migration {version} `{name}` is irreversible ({reason}): nothing was reverted. Revert fewer steps, or restore \
         by other means and `force {version} --reverted`"
    )]
    Irreversible {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// Its recorded reason.
        reason: String,
    },

    /// Reverting reached a migration without a down script.
    #[error(
        "migration {version} `{name}` ({origin}) has no down script: nothing was reverted. Write its down script, or \
         mark it `-- migrator:irreversible -- <reason>`"
    )]
    NoDown {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
    },

    /// Reverting reached an applied version this binary does not know.
    #[error(
        "cannot revert migration {version} `{name}`: this binary does not contain it (it was applied by another \
         release); nothing was reverted. Revert it with the release that has it"
    )]
    RevertUnknown {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },

    /// `resume` found nothing failed or interrupted.
    #[error("nothing to resume: no migration is failed or interrupted")]
    NothingToResume,

    /// Creating a tenant whose schema or database exists already.
    #[error(
        "cannot create tenant `{tenant}`: its {area} exists already, and creating applies the whole set to a new one \
         (nothing was changed). To migrate an existing tenant, run it (`migrator up --schemas {tenant}`, \
         `Tenants::run`); that also finishes a tenant whose creation failed after its {area} was made"
    )]
    TenantExists {
        /// The tenant.
        tenant: String,
        /// `schema` or `database`.
        area: &'static str,
    },

    /// The failed migration is not in this binary.
    #[error(
        "cannot resume migration {version} `{name}`: this binary does not contain it. Resume with the release that \
         applied it, or repair by hand and `force {version}`"
    )]
    ResumeUnknown {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },

    /// A statement that already ran was edited since.
    #[error(
        "cannot resume migration {version} `{name}` ({origin}): statement {statement} (line {line}) already ran but \
         has changed since. Only the failed statement and those after it may be edited: restore statement \
         {statement}, or repair by hand and `force {version}`"
    )]
    StatementChanged {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
        /// 1-based statement.
        statement: usize,
        /// Its recorded line.
        line: usize,
    },

    /// An applied migration that ran no statement (its up script was empty) now has SQL,
    /// which never ran.
    #[error(
        "migration {version} `{name}` ({origin}) was applied when its up script had no statement, so nothing ran; the \
         SQL now in the file never ran. Move it into a new migration (`migrator new`), or run `force {version} \
         --reverted` and then `up` to apply it as it is now"
    )]
    EmptyMigrationEdited {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
    },

    /// A migration squashed into a squash migration is applied with another checksum than
    /// the squash was made from: the database ran other SQL than the squash stands for.
    #[error(
        "migration {version} `{name}` was applied as {stored}, but {squash} (line {line}) squashes it as {squashed}: \
         this database ran other SQL than the squash stands for. Compare the schema with the squash, fix the \
         database or the `squashes` line, then run again"
    )]
    SquashedChanged {
        /// Version of the squashed migration.
        version: Version,
        /// Its name in the history.
        name: String,
        /// The squash migration's file.
        squash: String,
        /// Line of its `squashes` line.
        line: usize,
        /// Checksum in the history.
        stored: String,
        /// Checksum in the squash file.
        squashed: String,
    },

    /// A migration squashed into a squash migration failed or stopped half-way in this
    /// database; this release no longer has its file to resume or revert it.
    #[error(
        "migration {version} `{name}` failed or stopped half-way in this database, and {squash} now stands for it, so \
         this release cannot resume or revert it: finish it with the release from before the squash (`resume` or \
         `down`), then run this one"
    )]
    SquashedNotApplied {
        /// Version of the squashed migration.
        version: Version,
        /// Its name in the history.
        name: String,
        /// The squash migration's file.
        squash: String,
    },

    /// The database applied some, not all, of the migrations a squash migration stands for.
    #[error(
        "this database applied {applied} of the {total} migrations squashed into {squash}; not applied: {}. Apply \
         them with the release from before the squash (it has their files), then run this one",
        missing.join(", ")
    )]
    SquashPartial {
        /// The squash migration's file.
        squash: String,
        /// How many of them are applied.
        applied: usize,
        /// How many it squashes.
        total: usize,
        /// The ones not applied, as `version name`.
        missing: Vec<String>,
    },

    /// `squash --to V` names no migration of the directory.
    #[error("there is no migration {version} to squash to: --to takes the version of an existing migration")]
    SquashTargetUnknown {
        /// The version asked for.
        version: Version,
    },

    /// `squash --to V` would squash a squash migration again.
    #[error(
        "migration {version} ({origin}) is a squash migration already, and squashing it again is not supported: \
         databases built from it and databases that applied its migrations one by one would need different \
         `squashes` lists. Keep the history as it is"
    )]
    SquashOfSquash {
        /// Its version.
        version: Version,
        /// Its file.
        origin: String,
    },

    /// `force V` for a migration this binary does not have.
    #[error(
        "cannot force migration {version}: this binary has no such migration, so it cannot be recorded as applied. \
         Check the version, or use the release that has it"
    )]
    ForceUnknown {
        /// The requested version.
        version: Version,
    },

    /// `force V --reverted` for a version without a history row.
    #[error("cannot force migration {version} as reverted: it has no history row, so there is nothing to remove")]
    NotRecorded {
        /// The requested version.
        version: Version,
    },

    /// `resume` of a migration that was being reverted, with a binary that has no down step
    /// for it.
    #[error(
        "cannot resume migration {version} `{name}`: it was being reverted, but this binary has no down script for \
         it. Finish reverting it by hand, then `force {version} --reverted`"
    )]
    ResumeNoDown {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },

    /// A planned repeatable migration that is not in this binary (a plan made from another
    /// set).
    #[error("repeatable migration `{name}` is not in this binary: nothing was run")]
    RepeatableNotInBinary {
        /// Its name.
        name: String,
    },

    /// A migration that requires a backfill, refused because the backfill has not finished.
    #[error(
        "migration {version} `{name}` requires backfill `{backfill}` to have finished, but it {found}: nothing of it \
         was applied. Finish the backfill first (apply the migration that runs it, or the application's \
         `Backfill::run`), then run again"
    )]
    BackfillNotFinished {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// The backfill it requires.
        backfill: String,
        /// What the progress table says, in words.
        found: String,
    },

    /// Another process runs the same backfill.
    #[error(
        "backfill `{backfill}` is running in another process ({holder}): this run changed nothing. Wait for it to \
         finish, or stop it; a killed run's lock goes with its connection, and the next run resumes after its last \
         committed batch"
    )]
    BackfillBusy {
        /// The backfill.
        backfill: String,
        /// Who holds it, as the server tells.
        holder: String,
    },

    /// A backfill's name given for another table or key than its stored progress.
    #[error(
        "backfill `{backfill}` walked {stored}, not {given}: its progress would resume at a key of another table, so \
         nothing ran. Give this backfill a name of its own"
    )]
    BackfillOtherTarget {
        /// The backfill.
        backfill: String,
        /// The table and key its progress row records.
        stored: String,
        /// The table and key of this run.
        given: String,
    },

    /// A batch found the progress row changed under it.
    #[error(
        "backfill `{backfill}`: the progress row no longer says the batch after key {start} is next, so another \
         process changed it: the batch was rolled back. Check that only one process runs the backfill, then run again"
    )]
    BackfillMoved {
        /// The backfill.
        backfill: String,
        /// The key the batch started after.
        start: i64,
    },

    /// A planned migration that is not in this binary (a plan made from another set).
    #[error("migration {version} is not in this binary: nothing was run")]
    NotInBinary {
        /// Version.
        version: Version,
    },

    /// Without the migration lock, another process began the migration statement by
    /// statement after this run planned it (SQLite, runs without the lock).
    #[error(
        "migration {version}: another process started {} it statement by statement (it is a no-transaction \
         migration) after this run began, and this run goes without the migration lock, which would tell whether that process is \
         still running. This run stops here; run again once the other process is done, with the lock",
        if *direction == Direction::Down { "reverting" } else { "applying" }
    )]
    StartedElsewhere {
        /// Version.
        version: Version,
        /// What the other process does.
        direction: Direction,
    },

    /// Without the migration lock, another process removed the row of a migration this run
    /// was resuming.
    #[error(
        "migration {version}: another process removed its history row since this run began (force --reverted?): \
         nothing was run; check `status` and run again"
    )]
    RemovedElsewhere {
        /// Version.
        version: Version,
    },

    /// Without the migration lock, another process did the step this run planned.
    #[error("migration {version}: another process did it while this run was under way; nothing was run")]
    DoneElsewhere {
        /// Version.
        version: Version,
    },

    /// `baseline` on a database that already has history.
    #[error(
        "baseline refused: the history already records {rows} migration(s). Baseline adopts a database that has none; \
         use `force VERSION` to record single migrations"
    )]
    BaselineNotEmpty {
        /// Rows in history.
        rows: usize,
    },

    /// `baseline` below every known migration.
    #[error("baseline {version}: this binary has no migration at or below version {version}")]
    NothingToBaseline {
        /// The requested version.
        version: Version,
    },

    /// `adopt`: the other tool's history table does not exist.
    #[error(
        "there is no {tool} history to adopt: table {table} does not exist. Check the tool, and the table and schema \
         names (the tool's own settings may have renamed its table)"
    )]
    ForeignTableMissing {
        /// The tool.
        tool: &'static str,
        /// The table looked for.
        table: String,
    },

    /// A first run found no migrator history but another tool's, with applied migrations.
    #[error(
        "this database has no migrator history, but {tool}'s history table {table} records {applied} applied \
         migration(s): running them again would fail or duplicate data, so nothing was applied. Adopt that history \
         first (`migrator adopt --from {tool}`, or `adopt_from` on the migrator's builder to do it at startup); if the \
         table belongs to something else, build the migrator with `ignore_foreign_history(true)` (CLI: `up \
         --ignore-foreign-history`)"
    )]
    ForeignHistoryFound {
        /// The tool.
        tool: &'static str,
        /// Its table.
        table: String,
        /// The migrations it records as applied.
        applied: usize,
    },

    /// `adopt`: the other tool left a migration failed, dirty or rolled back.
    #[error(
        "{tool} recorded migration {version} as {state} in {table}, so its history is not a clean list of applied \
         migrations: nothing was adopted. {recovery}"
    )]
    ForeignDirty {
        /// The tool.
        tool: &'static str,
        /// Its table.
        table: String,
        /// The version as the tool recorded it.
        version: String,
        /// What the tool recorded, in its terms.
        state: String,
        /// How to recover, with that tool.
        recovery: String,
    },

    /// `adopt`: a version of the other tool that has no migrator version.
    #[error("cannot adopt {tool} version {version}: {reason}. Nothing was adopted")]
    ForeignVersion {
        /// The tool.
        tool: &'static str,
        /// The version as the tool recorded it.
        version: String,
        /// Why it does not map.
        reason: String,
    },

    /// `adopt`: two versions of the other tool map to one migrator version.
    #[error(
        "cannot adopt {tool} versions {first} and {second}: both map to migrator version {version}. Nothing was \
         adopted; give one of the two migrations another version with {tool} first"
    )]
    ForeignDuplicate {
        /// The tool.
        tool: &'static str,
        /// One version as recorded.
        first: String,
        /// The other.
        second: String,
        /// The migrator version both map to.
        version: Version,
    },

    /// `adopt`: the other tool applied a migration this binary does not have.
    #[error(
        "{tool} applied migration {version} ({tool} version {tool_version}{}) but this binary has no migration \
         {version}: nothing was adopted. Restore its file as it was, or adopt with the release that has it",
        name.as_deref().map(|n| format!(", `{n}`")).unwrap_or_default()
    )]
    ForeignUnknown {
        /// The tool.
        tool: &'static str,
        /// The migrator version.
        version: Version,
        /// The version as the tool recorded it.
        tool_version: String,
        /// Its description or name as the tool recorded it.
        name: Option<String>,
    },

    /// `adopt`: a file changed since the other tool applied it.
    #[error(
        "{tool} applied migration {version} `{name}` ({origin}) with checksum {recorded}, but the file now gives \
         {current}: it changed since {tool} ran it, so the database may not match it. Nothing was adopted. Restore the \
         file as it was, or, if the edit is known and harmless, adopt accepting changed files (`--accept-changed`)"
    )]
    ForeignChecksum {
        /// The tool.
        tool: &'static str,
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File.
        origin: String,
        /// The checksum the tool recorded.
        recorded: String,
        /// The tool's checksum of the file now.
        current: String,
    },

    /// `adopt`: the other tool's checksum of a file cannot be computed here.
    #[error(
        "cannot check migration {version} `{name}` ({origin}) against the checksum {tool} recorded: {reason}. Nothing \
         was adopted. Adopt accepting changed files (`--accept-changed`) to record it unchecked"
    )]
    ForeignUncheckable {
        /// The tool.
        tool: &'static str,
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// File or Rust type.
        origin: String,
        /// Why.
        reason: String,
    },

    /// `adopt`: migrator's history already records a migration differently.
    #[error(
        "cannot adopt {tool}'s migration {version} `{name}`: migrator's history already records it {disagreement}. \
         Nothing was adopted. {advice}"
    )]
    AdoptConflict {
        /// The tool.
        tool: &'static str,
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// How the recorded row differs.
        disagreement: String,
        /// What to do.
        advice: String,
    },
}

impl PlanError {
    /// For a migration left failed or interrupted by an earlier run: its version and the
    /// 1-based statement it stopped at (when recorded).
    pub fn stopped_at(&self) -> Option<(Version, Option<u32>)> {
        match self {
            PlanError::Failed { version, statement, .. } => Some((*version, *statement)),
            PlanError::Interrupted { version, statement, .. } => Some((*version, Some(*statement))),
            _ => None,
        }
    }
}

fn failed_text(
    direction: Direction,
    version: Version,
    name: &str,
    statement: Option<u32>,
    total: u32,
    line: Option<u32>,
    error: &str,
) -> String {
    let what = match direction {
        Direction::Up => "migration",
        Direction::Down => "reverting migration",
    };
    let at = match (statement, line) {
        (Some(s), Some(l)) => format!(" at statement {s} of {total} (line {l})"),
        (Some(s), None) => format!(" at statement {s} of {total}"),
        (None, _) => String::new(),
    };
    let force = match direction {
        Direction::Up => format!("force {version}"),
        Direction::Down => format!("force {version} --reverted"),
    };
    format!(
        "{what} {version} `{name}` failed{at}: {error}. The statements before it took effect. Fix the failed statement \
         in the file and run `resume`; if it took effect after all, `resume --skip`; if you repaired the database by \
         hand, `{force}`"
    )
}

fn interrupted_text(
    direction: Direction,
    version: Version,
    name: &str,
    statement: u32,
    total: u32,
    line: Option<u32>,
) -> String {
    let what = match direction {
        Direction::Up => "migration",
        Direction::Down => "reverting migration",
    };
    let at = match line {
        Some(l) => format!("statement {statement} of {total} (line {l})"),
        None => format!("statement {statement} of {total}"),
    };
    let force = match direction {
        Direction::Up => format!("force {version}"),
        Direction::Down => format!("force {version} --reverted"),
    };
    format!(
        "{what} {version} `{name}` was interrupted at {at}: the process or its connection died while it ran, so that \
         statement may or may not have taken effect. Check the database, then `resume` to run it again, `resume --skip` \
         if it took effect, or `{force}` if you finished it by hand"
    )
}
