//! What the planner reads (the migrations of the binary, the policy) and what it answers
//! (the plan of an up run, the migrations it leaves alone and why, warnings).

use crate::history::HistoryRow;
use crate::version::{Direction, Phase, Phases, Version};

/// A migration as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Available<'a> {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: &'a str,
    /// File or Rust type, for messages.
    pub origin: &'a str,
    /// Phase.
    pub phase: Phase,
    /// Current checksum.
    pub checksum: &'a str,
    /// Current checksum of the down script.
    pub down_checksum: Option<&'a str>,
    /// Its up script is marked `-- migrator:no-op`: it has no statement on purpose.
    pub no_op: bool,
    /// Whether it can be reverted.
    pub down: DownKind<'a>,
}

/// Whether a migration can be reverted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DownKind<'a> {
    /// It has a down step.
    Reversible,
    /// Deliberately irreversible, with the reason.
    Irreversible(&'a str),
    /// No down was written.
    Missing,
}

/// What the user allows beyond the strict rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Apply a pending migration older than the newest applied one of its phase (warn).
    pub allow_out_of_order: bool,
    /// Accept applied versions this binary does not know even inside its known range (warn).
    pub ignore_unknown: bool,
}

/// Input of [`plan_up`] and [`check`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpInput<'a> {
    /// Migrations of this binary, in version order.
    pub available: &'a [Available<'a>],
    /// History rows, in version order.
    pub history: &'a [HistoryRow],
    /// Policy.
    pub policy: Policy,
    /// Phases to apply.
    pub phases: Phases,
    /// Apply nothing newer than this version.
    pub target: Option<Version>,
}

/// One migration to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: Phase,
    /// It is older than the newest applied migration of its phase (allowed by policy).
    pub out_of_order: bool,
}

/// Why a pending migration is not applied by this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Its phase is not selected (contract migrations wait for the contract phase).
    PhaseNotSelected {
        /// Its phase.
        phase: Phase,
    },
    /// It is newer than the run's target.
    AfterTarget {
        /// The target.
        target: Version,
    },
    /// Another process applied (or, going down, reverted) it while this run was under way;
    /// only SQLite tells, for runs without the migration lock.
    DoneElsewhere {
        /// Applying or reverting.
        direction: Direction,
    },
}

/// A pending migration this run leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Version.
    pub version: Version,
    /// Name.
    pub name: String,
    /// Why.
    pub reason: SkipReason,
}

/// Something worth knowing that does not stop the run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// An applied version newer than every migration of this binary: the database was
    /// migrated by a newer release (rolling deploy, or a rollback of the app).
    UnknownNewer {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },
    /// An applied version unknown to this binary, accepted because unknown versions are ignored.
    UnknownIgnored {
        /// Version.
        version: Version,
        /// Name recorded in history.
        name: String,
    },
    /// A migration applied out of order, as the policy allows.
    OutOfOrder {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// The newest applied version of its phase.
        newest_applied: Version,
    },
    /// An applied migration whose file now has another name part.
    Renamed {
        /// Version.
        version: Version,
        /// The name it was applied with.
        applied_as: String,
        /// Its name now.
        now: String,
    },
    /// An applied migration whose down script was edited, added or removed since it was
    /// applied (the down script did not run; it will when the migration is reverted).
    DownChanged {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// The up script's file.
        origin: String,
    },
    /// The binary embedded other migrations than its source directory holds now (debug
    /// builds): it was not rebuilt after a file was added, removed or edited.
    StaleBinary(super::stale::StaleBinary),
    /// A migration in progress in another process, which holds the migration lock now (its
    /// row would otherwise read as interrupted).
    Running {
        /// Version.
        version: Version,
        /// Name.
        name: String,
        /// 1-based statement it is on.
        statement: u32,
        /// Statements in the script.
        total: u32,
        /// Who holds the migration lock.
        holder: String,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::UnknownNewer { version, name } => write!(
                f,
                "applied migration {version} `{name}` is newer than every migration of this binary: \
                 a newer release migrated this database (rolling deploy); continuing"
            ),
            Warning::UnknownIgnored { version, name } => {
                write!(f, "applied migration {version} `{name}` is unknown to this binary; ignored as configured")
            }
            Warning::OutOfOrder { version, name, newest_applied } => write!(
                f,
                "migration {version} `{name}` is applied out of order (migration {newest_applied} is already applied)"
            ),
            Warning::StaleBinary(stale) => write!(f, "{stale}"),
            Warning::Renamed { version, applied_as, now } => write!(
                f,
                "migration {version} was applied as `{applied_as}` and its file is now named `{now}`: if the rename \
                 is deliberate, `repair` records the new name; otherwise restore the file name"
            ),
            Warning::DownChanged { version, name, origin } => write!(
                f,
                "the down script of applied migration {version} `{name}` ({origin}) changed since it was applied \
                 (edited, added or removed): it is what `down` will run; `repair` records it"
            ),
            Warning::Running { version, name, statement, total, holder } => write!(
                f,
                "migration {version} `{name}` is running in another process (statement {statement} of {total}), \
                 which holds the migration lock: {holder}. Check again when it is done"
            ),
        }
    }
}

/// The plan of an up run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpPlan {
    /// What to apply, in order.
    pub apply: Vec<Planned>,
    /// Pending migrations left alone, and why.
    pub skipped: Vec<Skipped>,
    /// Warnings.
    pub warnings: Vec<Warning>,
    /// The rank the first applied migration gets.
    pub next_rank: i64,
    /// Repeatable migrations the run applies after the versioned ones (new or changed), in
    /// name order; none for a run to a target version.
    pub repeatables: Vec<String>,
}
