//! Migrations embedded into the binary at compile time, as plain static data.

use crate::dialect::Dialect;
use crate::directive::ScriptKind;
use crate::error::Error;
use crate::migration::{NameRule, RepeatableMigration, SqlMigration};
use crate::script::{LayoutFlags, Script};
use crate::version::Version;

use super::layout::Layout;

/// One script embedded by `embed_migrations!`: path, text and compile-time checksum.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedScript {
    path: &'static str,
    text: &'static str,
    checksum: &'static str,
    flags: LayoutFlags,
}

impl EmbeddedScript {
    /// Used by the embed macro: `text` comes from `include_str!` (or, for a section of a
    /// goose file, is the section the loader cut), `checksum` was computed from it at compile
    /// time.
    pub const fn new(path: &'static str, text: &'static str, checksum: &'static str) -> Self {
        EmbeddedScript { path, text, checksum, flags: LayoutFlags::NONE }
    }

    /// Used by the embed macro: the script runs outside a transaction, as its layout's own
    /// marker says ([`LayoutFlags::no_transaction`]).
    pub const fn with_no_transaction(mut self) -> Self {
        self.flags = self.flags.with_no_transaction();
        self
    }

    /// Used by the embed macro: the script is split at goose's statement blocks too
    /// ([`LayoutFlags::goose_blocks`]).
    pub const fn with_goose_blocks(mut self) -> Self {
        self.flags = self.flags.with_goose_blocks();
        self
    }

    /// What its layout adds to its text.
    pub const fn layout_flags(&self) -> LayoutFlags {
        self.flags
    }

    fn to_script(self, kind: ScriptKind, dialect: Dialect) -> Result<Script, Error> {
        Script::embedded_with(kind, self.path, self.text, self.checksum, dialect, self.flags)
            .map_err(|errors| Error::Load { errors })
    }

    /// The path shown in messages.
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// The script text.
    pub const fn text(&self) -> &'static str {
        self.text
    }
}

/// One migration embedded by `embed_migrations!`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    version: i64,
    name: &'static str,
    up: EmbeddedScript,
    down: Option<EmbeddedScript>,
}

impl EmbeddedMigration {
    /// Used by the embed macro.
    pub const fn new(version: i64, name: &'static str, up: EmbeddedScript, down: Option<EmbeddedScript>) -> Self {
        EmbeddedMigration { version, name, up, down }
    }

    /// The version.
    pub const fn version(&self) -> i64 {
        self.version
    }

    /// The name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The up script.
    pub const fn up(&self) -> &EmbeddedScript {
        &self.up
    }

    /// The down script.
    pub const fn down(&self) -> Option<&EmbeddedScript> {
        self.down.as_ref()
    }

    pub(crate) fn to_sql(self, dialect: Dialect) -> Result<SqlMigration, Error> {
        let version = Version::try_from(self.version)?;
        let up = self.up.to_script(ScriptKind::Up, dialect)?;
        let down = match self.down {
            Some(d) => Some(d.to_script(ScriptKind::Down, dialect)?),
            None => None,
        };
        // The macro checked the name with its layout's rule.
        SqlMigration::with_name_rule(version, self.name, up, down, NameRule::Layout)
    }
}

/// One repeatable migration embedded by `embed_migrations!` (`R__{name}.sql`).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedRepeatable {
    name: &'static str,
    script: EmbeddedScript,
}

impl EmbeddedRepeatable {
    /// Used by the embed macro.
    pub const fn new(name: &'static str, script: EmbeddedScript) -> Self {
        EmbeddedRepeatable { name, script }
    }

    /// The name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The script.
    pub const fn script(&self) -> &EmbeddedScript {
        &self.script
    }

    pub(crate) fn to_repeatable(self, dialect: Dialect) -> Result<RepeatableMigration, Error> {
        let script = self.script.to_script(ScriptKind::Up, dialect)?;
        RepeatableMigration::with_name_rule(self.name, script, NameRule::Layout)
    }
}

/// A migration directory embedded into the binary at compile time by a backend's
/// `embed_migrations!` macro (`migrator_postgres::embed_migrations!("migrations")`).
///
/// It is plain static data: keep it in a `static` and hand it to a `Migrator`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    dialect: Dialect,
    migrations: &'static [EmbeddedMigration],
    repeatables: &'static [EmbeddedRepeatable],
    layout: Layout,
    /// The directory embedded from (absolute) and as the macro's argument wrote it.
    source_dir: Option<(&'static str, &'static str)>,
}

impl EmbeddedMigrations {
    /// Used by the embed macro; `migrations` are in version order.
    pub const fn new(dialect: Dialect, migrations: &'static [EmbeddedMigration]) -> Self {
        EmbeddedMigrations { dialect, migrations, repeatables: &[], layout: Layout::Migrator, source_dir: None }
    }

    /// Used by the embed macro: the directory's repeatable migrations.
    pub const fn with_repeatables(mut self, repeatables: &'static [EmbeddedRepeatable]) -> Self {
        self.repeatables = repeatables;
        self
    }

    /// Used by the embed macro: the layout the directory was read with (detected, or named by
    /// `layout = …`).
    pub const fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The layout the directory was read with.
    pub const fn layout(&self) -> Layout {
        self.layout
    }

    /// The embedded repeatable migrations.
    pub const fn repeatables(&self) -> &'static [EmbeddedRepeatable] {
        self.repeatables
    }

    /// Used by the embed macro in debug builds: the absolute path of the directory the
    /// migrations were embedded from, and the path as written in the macro. At startup the
    /// runner compares the directory with what was embedded and warns when they differ (a
    /// file added, removed or edited since the build: the binary is stale).
    pub const fn with_source_dir(mut self, dir: Option<(&'static str, &'static str)>) -> Self {
        self.source_dir = dir;
        self
    }

    /// The directory the migrations were embedded from, absolute and as written (debug
    /// builds only).
    pub const fn source_dir(&self) -> Option<(&'static str, &'static str)> {
        self.source_dir
    }

    /// The SQL dialect the files were checked against.
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The embedded migrations, in version order.
    pub const fn migrations(&self) -> &'static [EmbeddedMigration] {
        self.migrations
    }
}
