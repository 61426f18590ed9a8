//! The migration model: the [`Migration`] trait, SQL and Rust-code migrations.
//!
//! A migration *describes* its up and down steps rather than running them itself: an SQL
//! step hands its parsed [`Script`] to the driver, which decides how to send it (one round
//! trip in a transaction, or statement by statement with recorded progress so a failure can
//! be resumed), and a Rust step is async code that the driver calls with the backend's own
//! connection type (`sqlx::PgConnection` on PostgreSQL), inside the migration's transaction
//! unless it opted out. That split keeps statement handling, progress and history writes in
//! one place per backend while both kinds form one ordered, checksummed, reversible set.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;

use crate::checksum::Checksum;
use crate::error::{BoxError, Error};
use crate::script::Script;
use crate::version::{Phase, Version};

/// The identity and bookkeeping data of a migration.
#[derive(Debug, Clone)]
pub struct MigrationMeta {
    version: Version,
    name: Cow<'static, str>,
    origin: Cow<'static, str>,
    phase: Phase,
    checksum: Checksum,
    down_checksum: Option<Checksum>,
}

impl MigrationMeta {
    /// Metadata for a migration. `name` must be `[a-z0-9_]+`; `origin` says where it comes
    /// from (a file path or a Rust type) and appears in messages.
    pub fn new(
        version: Version,
        name: impl Into<Cow<'static, str>>,
        origin: impl Into<Cow<'static, str>>,
        phase: Phase,
        checksum: Checksum,
        down_checksum: Option<Checksum>,
    ) -> Result<MigrationMeta, Error> {
        MigrationMeta::with_name_rule(version, name, origin, phase, checksum, down_checksum, NameRule::Migrator)
    }

    /// [`MigrationMeta::new`], with the names `rule` allows.
    pub(crate) fn with_name_rule(
        version: Version,
        name: impl Into<Cow<'static, str>>,
        origin: impl Into<Cow<'static, str>>,
        phase: Phase,
        checksum: Checksum,
        down_checksum: Option<Checksum>,
        rule: NameRule,
    ) -> Result<MigrationMeta, Error> {
        let name = name.into();
        rule.check(&name).map_err(|reason| Error::InvalidOption {
            option: "migration name",
            value: name.to_string(),
            reason,
        })?;
        Ok(MigrationMeta { version, name, origin: origin.into(), phase, checksum, down_checksum })
    }

    /// The version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The name (`add_users`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it comes from: the up file's path or the Rust type.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Expand (default) or contract.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The checksum recorded when it is applied and compared on every run.
    pub fn checksum(&self) -> &Checksum {
        &self.checksum
    }

    /// The down script's checksum, recorded for information.
    pub fn down_checksum(&self) -> Option<&Checksum> {
        self.down_checksum.as_ref()
    }
}

/// Checks a migration name: lowercase letters, digits and underscores.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a migration needs a name: use lowercase letters, digits and `_`".to_owned());
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')) {
        return Err(format!("`{bad}` is not allowed in a migration name: use lowercase letters, digits and `_`"));
    }
    Ok(())
}

/// Which names a migration may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRule {
    /// Migrator's own: lowercase letters, digits and `_` ([`check_name`]).
    Migrator,
    /// A name of another tool's layout, as its file name wrote it (the loader checks each
    /// layout's own rule): not empty, at most 255 characters (the history table's `name`
    /// column), without control or bidirectional formatting characters.
    Layout,
}

impl NameRule {
    pub(crate) fn check(self, name: &str) -> Result<(), String> {
        match self {
            NameRule::Migrator => check_name(name),
            NameRule::Layout => check_layout_name(name),
        }
    }
}

/// The longest name of a migration (the history table's `name` column holds 255 characters).
pub(crate) const MAX_NAME_CHARS: usize = 255;

/// Checks a name of another tool's layout (see [`NameRule::Layout`]).
pub(crate) fn check_layout_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a migration needs a name after its version".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("the name is longer than {MAX_NAME_CHARS} characters: shorten it"));
    }
    let bad = name.chars().find(|&c| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'));
    if let Some(bad) = bad {
        return Err(format!(
            "the name holds the control character U+{:04X}: rename the file without it",
            u32::from(bad)
        ));
    }
    Ok(())
}

/// How one step runs: in a transaction or not, and its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepSettings {
    /// Run outside a transaction (`-- migrator:no-transaction`).
    pub no_transaction: bool,
    /// Bound on waiting for table locks; `None` uses the migrator's default.
    pub lock_timeout: Option<Duration>,
    /// Bound on each statement's run time; `None` means no limit.
    pub statement_timeout: Option<Duration>,
}

/// Async Rust code run as a migration step, with the backend's connection.
///
/// Implemented by your own types (with `#[async_trait]`) and by closures returning a boxed
/// future. The connection is inside the migration's transaction unless the step was declared
/// `no_transaction`; nested `begin()` calls become savepoints.
#[async_trait]
pub trait RustStep<C: ?Sized + Send>: Send + Sync {
    /// Runs the step.
    async fn run(&self, conn: &mut C) -> Result<(), BoxError>;
}

/// A boxed future for closure steps.
pub type StepFuture<'c> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'c>>;

#[async_trait]
impl<C, F> RustStep<C> for F
where
    C: ?Sized + Send,
    F: for<'c> Fn(&'c mut C) -> StepFuture<'c> + Send + Sync,
{
    async fn run(&self, conn: &mut C) -> Result<(), BoxError> {
        (self)(conn).await
    }
}

/// What a step does.
pub enum Body<'a, C: ?Sized> {
    /// An SQL script, executed by the driver.
    Sql(&'a Script),
    /// Rust code, called by the driver with its connection.
    Rust(&'a dyn RustStep<C>),
}

impl<C: ?Sized> Clone for Body<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C: ?Sized> Copy for Body<'_, C> {}

impl<C: ?Sized> fmt::Debug for Body<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Sql(script) => f.debug_tuple("Sql").field(&script.path()).finish(),
            Body::Rust(_) => f.write_str("Rust"),
        }
    }
}

/// One direction of a migration: settings and body.
#[derive(Debug)]
pub struct Step<'a, C: ?Sized> {
    /// Transaction mode and limits.
    pub settings: StepSettings,
    /// What runs.
    pub body: Body<'a, C>,
}

impl<C: ?Sized> Clone for Step<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C: ?Sized> Copy for Step<'_, C> {}

/// The down side of a migration.
#[derive(Debug)]
pub enum Down<'a, C: ?Sized> {
    /// It can be reverted with this step.
    Step(Step<'a, C>),
    /// Deliberately irreversible (`-- migrator:irreversible -- <reason>`).
    Irreversible {
        /// The recorded reason.
        reason: &'a str,
    },
    /// No down was written.
    Missing,
}

/// A versioned, reversible migration run on connections of type `C`.
///
/// Embedded and loaded SQL migrations ([`SqlMigration`]) and Rust-code migrations
/// ([`RustMigration`], or your own type) implement it and form one ordered set. `C` is the
/// backend's connection type (`sqlx::PgConnection`); SQL migrations work with any.
pub trait Migration<C: ?Sized>: Send + Sync + fmt::Debug {
    /// Version, name, origin, phase and checksums.
    fn meta(&self) -> &MigrationMeta;

    /// The up step.
    fn up(&self) -> Step<'_, C>;

    /// The down step, or why there is none.
    fn down(&self) -> Down<'_, C>;
}

/// An SQL migration: an up script and an optional down script.
#[derive(Debug)]
pub struct SqlMigration {
    meta: MigrationMeta,
    up: Script,
    down: Option<Script>,
}

impl SqlMigration {
    /// Combines parsed scripts into a migration. Fails when the up script declares
    /// `irreversible` but a down script exists too.
    pub fn new(
        version: Version,
        name: impl Into<Cow<'static, str>>,
        up: Script,
        down: Option<Script>,
    ) -> Result<Self, Error> {
        SqlMigration::with_name_rule(version, name, up, down, NameRule::Migrator)
    }

    /// [`SqlMigration::new`], with the names `rule` allows.
    pub(crate) fn with_name_rule(
        version: Version,
        name: impl Into<Cow<'static, str>>,
        up: Script,
        down: Option<Script>,
        rule: NameRule,
    ) -> Result<Self, Error> {
        if let (Some(_), Some(down)) = (&up.directives().irreversible, &down) {
            return Err(Error::load(
                up.path(),
                None,
                format!(
                    "the up script says `irreversible` but {} exists: delete the down script or the directive",
                    down.path()
                ),
            ));
        }
        check_squash(version, &up, down.as_ref())?;
        let meta = MigrationMeta::with_name_rule(
            version,
            name,
            up.path().to_owned(),
            up.directives().phase,
            up.checksum().clone(),
            down.as_ref().map(|d| d.checksum().clone()),
            rule,
        )?;
        Ok(SqlMigration { meta, up, down })
    }

    /// The up script.
    pub fn up_script(&self) -> &Script {
        &self.up
    }

    /// The down script, if any.
    pub fn down_script(&self) -> Option<&Script> {
        self.down.as_ref()
    }
}

/// Why a squash migration cannot be reverted.
pub(crate) const SQUASH_IRREVERSIBLE: &str = "a squash migration builds the schema of every migration it squashes at \
     once, and databases that applied those one by one hold their rows: revert with the release from before the squash";

/// A squash migration (`squashes` lines) stands for the migrations it lists, its own
/// version the newest of them, and has no down script.
fn check_squash(version: Version, up: &Script, down: Option<&Script>) -> Result<(), Error> {
    let squashes = &up.directives().squashes;
    let Some(newest) = squashes.iter().max_by_key(|s| s.version) else { return Ok(()) };
    if newest.version != version.get() {
        return Err(Error::load(
            up.path(),
            Some(newest.line),
            format!(
                "a squash migration takes the version of the newest migration it squashes: this file squashes \
                 {} and is version {version}; name the file with version {}",
                newest.version, newest.version
            ),
        ));
    }
    if let Some(down) = down {
        return Err(Error::load(
            down.path(),
            None,
            format!(
                "{} is a squash migration, which cannot be reverted (databases that applied the squashed migrations \
                 one by one hold their rows): delete this down script",
                up.path()
            ),
        ));
    }
    Ok(())
}

/// The `squashes` lines of a migration's up script (none for Rust code).
pub(crate) fn squashes_of<C: ?Sized>(migration: &dyn Migration<C>) -> &[crate::directive::Squashed] {
    match migration.up().body {
        Body::Sql(script) => &script.directives().squashes,
        Body::Rust(_) => &[],
    }
}

/// The error for a migration kept beside the squash migration that stands for it.
pub(crate) fn squashed_file_error(squashed: &MigrationMeta, squash: &str, line: usize) -> crate::error::LoadError {
    crate::error::LoadError {
        path: squashed.origin().to_owned(),
        line: None,
        column: None,
        message: format!(
            "migration {} is squashed into {squash} (line {line}), which stands for it: delete this file (version \
             control keeps it)",
            squashed.version()
        ),
    }
}

fn settings_of(script: &Script) -> StepSettings {
    let d = script.directives();
    StepSettings {
        no_transaction: d.no_transaction,
        lock_timeout: d.lock_timeout,
        statement_timeout: d.statement_timeout,
    }
}

impl<C: ?Sized> Migration<C> for SqlMigration {
    fn meta(&self) -> &MigrationMeta {
        &self.meta
    }

    fn up(&self) -> Step<'_, C> {
        Step { settings: settings_of(&self.up), body: Body::Sql(&self.up) }
    }

    fn down(&self) -> Down<'_, C> {
        match (&self.down, &self.up.directives().irreversible) {
            (Some(script), _) => Down::Step(Step { settings: settings_of(script), body: Body::Sql(script) }),
            (None, Some(reason)) => Down::Irreversible { reason },
            (None, None) if !self.up.directives().squashes.is_empty() => {
                Down::Irreversible { reason: SQUASH_IRREVERSIBLE }
            }
            (None, None) => Down::Missing,
        }
    }
}

/// A repeatable migration (Flyway's `R__`): an SQL script that defines objects it can
/// replace whole (views, functions, procedures, triggers), re-applied whenever its checksum
/// changes, after the versioned migrations of a run, in name order. It has no version and no
/// down script: its history row records the checksum it last ran with.
#[derive(Debug)]
pub struct RepeatableMigration {
    name: Cow<'static, str>,
    script: Script,
}

impl RepeatableMigration {
    /// A repeatable migration named `name` (`[a-z0-9_]+`, unique among a set's repeatables).
    pub fn new(name: impl Into<Cow<'static, str>>, script: Script) -> Result<Self, Error> {
        RepeatableMigration::with_name_rule(name, script, NameRule::Migrator)
    }

    /// [`RepeatableMigration::new`], with the names `rule` allows.
    pub(crate) fn with_name_rule(
        name: impl Into<Cow<'static, str>>,
        script: Script,
        rule: NameRule,
    ) -> Result<Self, Error> {
        let name = name.into();
        rule.check(&name).map_err(|reason| Error::InvalidOption {
            option: "repeatable migration name",
            value: name.to_string(),
            reason,
        })?;
        Ok(RepeatableMigration { name, script })
    }

    /// A repeatable migration named `name` from SQL text: the script is parsed and checked
    /// as a migration file is (directives, statements); `path` names it in messages.
    ///
    /// ```
    /// use migrator_core::{Dialect, MigrationSet, RepeatableMigration};
    /// # #[derive(Debug)] struct Conn;
    /// let views = RepeatableMigration::from_sql(
    ///     "views",
    ///     "R__views.sql",
    ///     "DROP VIEW IF EXISTS active_users;\nCREATE VIEW active_users AS SELECT id FROM users WHERE active;\n",
    ///     Dialect::Sqlite,
    /// )?;
    /// let set = MigrationSet::<Conn>::new().with_repeatable(views)?;
    /// assert_eq!(set.repeatables().count(), 1);
    /// # Ok::<(), migrator_core::Error>(())
    /// ```
    pub fn from_sql(
        name: impl Into<Cow<'static, str>>,
        path: impl Into<Cow<'static, str>>,
        text: impl Into<Cow<'static, str>>,
        dialect: crate::dialect::Dialect,
    ) -> Result<Self, Error> {
        let script = Script::parse(crate::directive::ScriptKind::Up, path, text, dialect)
            .map_err(|errors| Error::Load { errors })?;
        RepeatableMigration::new(name, script)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its script.
    pub fn script(&self) -> &Script {
        &self.script
    }

    /// The checksum its history row is compared with.
    pub fn checksum(&self) -> &Checksum {
        self.script.checksum()
    }
}

/// A migration written in Rust, for backfills and logic SQL cannot express.
///
/// ```
/// use migrator_core::{BoxError, RustMigration, RustStep, Phase};
/// # #[derive(Debug)] struct Conn;
/// struct Backfill;
///
/// #[async_trait::async_trait]
/// impl RustStep<Conn> for Backfill {
///     async fn run(&self, _conn: &mut Conn) -> Result<(), BoxError> {
///         // keyset batches with sqlx on the real connection type
///         Ok(())
///     }
/// }
///
/// let migration = RustMigration::new(20261120093000, "backfill_emails", Backfill)?
///     .no_transaction()
///     .irreversible("the old values are not kept");
/// assert_eq!(migration.meta().phase(), Phase::Expand);
/// # Ok::<(), migrator_core::Error>(())
/// ```
pub struct RustMigration<C: ?Sized> {
    meta: MigrationMeta,
    up: Box<dyn RustStep<C>>,
    up_settings: StepSettings,
    down: Option<(Box<dyn RustStep<C>>, StepSettings)>,
    irreversible: Option<String>,
}

impl<C: ?Sized + Send> RustMigration<C> {
    /// A transactional, expand-phase Rust migration without a down step.
    pub fn new(version: i64, name: &str, up: impl RustStep<C> + 'static) -> Result<Self, Error> {
        let v = Version::try_from(version)?;
        let meta = MigrationMeta::new(
            v,
            name.to_owned(),
            format!("Rust migration {version}_{name}"),
            Phase::Expand,
            Checksum::of_code(version, name),
            None,
        )?;
        Ok(RustMigration {
            meta,
            up: Box::new(up),
            up_settings: StepSettings::default(),
            down: None,
            irreversible: None,
        })
    }

    /// Adds the down step (transactional).
    pub fn with_down(mut self, down: impl RustStep<C> + 'static) -> Self {
        self.down = Some((Box::new(down), StepSettings::default()));
        self.irreversible = None;
        self
    }

    /// Marks it irreversible, with the reason.
    pub fn irreversible(mut self, reason: impl Into<String>) -> Self {
        self.irreversible = Some(reason.into());
        self.down = None;
        self
    }

    /// Runs the up step outside a transaction (for batched backfills that commit as they go).
    pub fn no_transaction(mut self) -> Self {
        self.up_settings.no_transaction = true;
        self
    }

    /// Sets the up step's lock timeout.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.up_settings.lock_timeout = Some(timeout);
        self
    }

    /// Sets the up step's statement timeout.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.up_settings.statement_timeout = Some(timeout);
        self
    }

    /// Sets the phase (expand by default).
    pub fn phase(mut self, phase: Phase) -> Self {
        self.meta.phase = phase;
        self
    }

    /// Its metadata.
    pub fn meta(&self) -> &MigrationMeta {
        &self.meta
    }
}

impl<C: ?Sized> fmt::Debug for RustMigration<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustMigration")
            .field("meta", &self.meta)
            .field("up_settings", &self.up_settings)
            .field("has_down", &self.down.is_some())
            .field("irreversible", &self.irreversible)
            .finish()
    }
}

impl<C: ?Sized + Send> Migration<C> for RustMigration<C> {
    fn meta(&self) -> &MigrationMeta {
        &self.meta
    }

    fn up(&self) -> Step<'_, C> {
        Step { settings: self.up_settings, body: Body::Rust(self.up.as_ref()) }
    }

    fn down(&self) -> Down<'_, C> {
        match (&self.down, &self.irreversible) {
            (Some((step, settings)), _) => Down::Step(Step { settings: *settings, body: Body::Rust(step.as_ref()) }),
            (None, Some(reason)) => Down::Irreversible { reason },
            (None, None) => Down::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::directive::ScriptKind;

    #[derive(Debug)]
    struct Conn(Vec<&'static str>);

    struct Push(&'static str);

    #[async_trait]
    impl RustStep<Conn> for Push {
        async fn run(&self, conn: &mut Conn) -> Result<(), BoxError> {
            conn.0.push(self.0);
            Ok(())
        }
    }

    fn script(kind: ScriptKind, path: &'static str, text: &'static str) -> Script {
        Script::parse(kind, path, text, Dialect::Postgres).unwrap()
    }

    #[test]
    fn sql_migration_describes_its_steps() {
        let up = script(ScriptKind::Up, "m/1_a.up.sql", "-- migrator:phase contract\nDROP TABLE t;");
        let down = script(ScriptKind::Down, "m/1_a.down.sql", "-- migrator:no-transaction\nCREATE TABLE t ();");
        let m = SqlMigration::new(Version::new(1).unwrap(), "a", up, Some(down)).unwrap();
        let meta = Migration::<Conn>::meta(&m);
        assert_eq!(meta.phase(), Phase::Contract);
        assert_eq!(meta.origin(), "m/1_a.up.sql");
        assert!(meta.down_checksum().is_some());
        match Migration::<Conn>::down(&m) {
            Down::Step(step) => {
                assert!(step.settings.no_transaction);
                assert!(matches!(step.body, Body::Sql(s) if s.path() == "m/1_a.down.sql"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn irreversible_with_a_down_file_is_refused() {
        let up = script(ScriptKind::Up, "m/1_a.up.sql", "-- migrator:irreversible -- gone\nDROP TABLE t;");
        let down = script(ScriptKind::Down, "m/1_a.down.sql", "SELECT 1;");
        let e = SqlMigration::new(Version::new(1).unwrap(), "a", up, Some(down)).unwrap_err();
        assert!(e.to_string().contains("delete the down script or the directive"), "{e}");
        let up = script(ScriptKind::Up, "m/1_a.up.sql", "-- migrator:irreversible -- gone\nDROP TABLE t;");
        let m = SqlMigration::new(Version::new(1).unwrap(), "a", up, None).unwrap();
        assert!(matches!(Migration::<Conn>::down(&m), Down::Irreversible { reason: "gone" }));
    }

    #[test]
    fn names_are_checked() {
        let up = script(ScriptKind::Up, "m/1_A.up.sql", "SELECT 1;");
        let e = SqlMigration::new(Version::new(1).unwrap(), "Add-Users", up, None).unwrap_err();
        assert!(e.to_string().contains("`A` is not allowed"), "{e}");
        assert!(RustMigration::<Conn>::new(0, "x", Push("a")).is_err());
    }

    fn closure_step(conn: &mut Conn) -> StepFuture<'_> {
        Box::pin(async move {
            conn.0.push("closure");
            Ok(())
        })
    }

    #[test]
    fn rust_migrations_run_their_code() {
        let m = RustMigration::new(7, "backfill", Push("up")).unwrap().with_down(closure_step).phase(Phase::Contract);
        assert_eq!(m.meta().checksum(), &Checksum::of_code(7, "backfill"));
        let mut conn = Conn(Vec::new());
        block_on(async {
            if let Body::Rust(step) = m.up().body {
                step.run(&mut conn).await.unwrap();
            }
            if let Down::Step(Step { body: Body::Rust(step), .. }) = m.down() {
                step.run(&mut conn).await.unwrap();
            }
        });
        assert_eq!(conn.0, vec!["up", "closure"]);
        let m = m.irreversible("no way back");
        assert!(matches!(m.down(), Down::Irreversible { reason: "no way back" }));
    }

    /// A minimal executor for futures that never pend (no runtime in core's tests).
    fn block_on<F: Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }
}
