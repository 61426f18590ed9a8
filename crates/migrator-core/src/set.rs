//! An ordered set of migrations of one application.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::dialect::Dialect;
use crate::error::Error;
use crate::lint::LintOptions;
use crate::migration::{Migration, RepeatableMigration, squashed_file_error, squashes_of};
use crate::source::{EmbeddedMigrations, Layout, load_dir_with_layout};
use crate::version::Version;

/// Migrations in version order, versions unique: SQL and Rust-code migrations together.
///
/// Cloning is cheap (the migrations are shared).
pub struct MigrationSet<C: ?Sized> {
    items: Vec<Arc<dyn Migration<C>>>,
    /// Repeatable migrations, in name order.
    repeatables: Vec<Arc<RepeatableMigration>>,
    /// Versions squashed into a squash migration of the set: its file and `squashes` line.
    squashed: BTreeMap<i64, (String, usize)>,
    /// The directory its SQL migrations were embedded from (absolute, as written) and their
    /// dialect, in debug builds.
    embedded_from: Option<(&'static str, &'static str, Dialect)>,
    /// The layout its SQL migrations were embedded in.
    embedded_layout: Option<Layout>,
}

impl<C: ?Sized> Clone for MigrationSet<C> {
    fn clone(&self) -> Self {
        MigrationSet {
            items: self.items.clone(),
            repeatables: self.repeatables.clone(),
            squashed: self.squashed.clone(),
            embedded_from: self.embedded_from,
            embedded_layout: self.embedded_layout,
        }
    }
}

impl<C: ?Sized> Default for MigrationSet<C> {
    fn default() -> Self {
        MigrationSet {
            items: Vec::new(),
            repeatables: Vec::new(),
            squashed: BTreeMap::new(),
            embedded_from: None,
            embedded_layout: None,
        }
    }
}

impl<C: ?Sized> fmt::Debug for MigrationSet<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.items.iter().map(|m| format!("{} {}", m.meta().version(), m.meta().name())))
            .finish()
    }
}

impl<C: ?Sized + 'static> MigrationSet<C> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The migrations embedded by a backend's `embed_migrations!`.
    pub fn from_embedded(embedded: EmbeddedMigrations) -> Result<Self, Error> {
        let mut set = Self::new();
        for migration in embedded.migrations() {
            set = set.with(migration.to_sql(embedded.dialect())?)?;
        }
        for repeatable in embedded.repeatables() {
            set = set.with_repeatable(repeatable.to_repeatable(embedded.dialect())?)?;
        }
        set.embedded_from = embedded.source_dir().map(|(dir, written)| (dir, written, embedded.dialect()));
        set.embedded_layout = Some(embedded.layout());
        Ok(set)
    }

    /// The layout the set's SQL migrations were embedded in (detected by the macro, or named
    /// with `layout = …`), when they were embedded: the stale-binary check reads the directory
    /// in it.
    pub fn embedded_layout(&self) -> Option<Layout> {
        self.embedded_layout
    }

    /// The directory the set's SQL migrations were embedded from (absolute, and as the macro
    /// wrote it), with their dialect: known in debug builds, for the stale-binary check.
    pub fn embedded_from(&self) -> Option<(&'static str, &'static str, Dialect)> {
        self.embedded_from
    }

    /// Loads a migrations directory at runtime, with the same rules as the embed macro, in
    /// the layout detected there ([`Layout`]): its migrations and repeatable migrations.
    pub fn from_dir(dir: impl AsRef<Path>, dialect: Dialect) -> Result<Self, Error> {
        Self::from_dir_with(dir, dialect, None)
    }

    /// [`MigrationSet::from_dir`] in `layout` (detected when `None`).
    ///
    /// ```
    /// use migrator_core::{Dialect, MigrationSet};
    /// use migrator_core::source::Layout;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("20240101120000_create users.sql"), "CREATE TABLE users (id bigint);\n")?;
    /// let set = MigrationSet::<()>::from_dir_with(dir.path(), Dialect::Postgres, Some(Layout::Sqlx))?;
    /// assert_eq!(set.iter().next().map(|m| m.meta().name()), Some("create users"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_dir_with(dir: impl AsRef<Path>, dialect: Dialect, layout: Option<Layout>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let loaded = load_dir_with_layout(dir, &dir.display().to_string(), dialect, layout, &LintOptions::default())
            .map_err(|errors| Error::Load { errors })?;
        let mut set = Self::new();
        for item in loaded.migrations {
            set = set.with(item.migration)?;
        }
        for item in loaded.repeatables {
            set = set.with_repeatable(item.repeatable)?;
        }
        Ok(set)
    }

    /// Adds a repeatable migration; its name must be new among the set's repeatables.
    pub fn with_repeatable(mut self, repeatable: RepeatableMigration) -> Result<Self, Error> {
        match self.repeatables.binary_search_by(|r| r.name().cmp(repeatable.name())) {
            Ok(at) => {
                let first = self.repeatables.get(at).map(|r| r.script().path().to_owned()).unwrap_or_default();
                Err(Error::load(
                    repeatable.script().path(),
                    None,
                    format!(
                        "repeatable migration `{}` is defined twice ({first} and this file): give one of them another \
                         name",
                        repeatable.name()
                    ),
                ))
            }
            Err(at) => {
                self.repeatables.insert(at, Arc::new(repeatable));
                Ok(self)
            }
        }
    }

    /// The repeatable migrations, in name order.
    pub fn repeatables(&self) -> impl Iterator<Item = &RepeatableMigration> + '_ {
        self.repeatables.iter().map(|r| r.as_ref())
    }

    /// Adds a migration (SQL or Rust code); its version must be new to the set.
    pub fn with(self, migration: impl Migration<C> + 'static) -> Result<Self, Error> {
        self.with_shared(Arc::new(migration))
    }

    /// Adds a shared migration; its version must be new to the set.
    pub fn with_shared(mut self, migration: Arc<dyn Migration<C>>) -> Result<Self, Error> {
        let version = migration.meta().version();
        self.check_squashed(migration.as_ref())?;
        match self.items.binary_search_by_key(&version, |m| m.meta().version()) {
            Ok(at) => {
                let first = self.items.get(at).map(|m| m.meta().origin().to_owned()).unwrap_or_default();
                Err(Error::DuplicateVersion { version, first, second: migration.meta().origin().to_owned() })
            }
            Err(at) => {
                self.items.insert(at, migration);
                Ok(self)
            }
        }
    }

    /// A migration squashed into another is not in the set beside it: its file goes when the
    /// squash migration comes (it stays in version control).
    fn check_squashed(&mut self, migration: &dyn Migration<C>) -> Result<(), Error> {
        let version = migration.meta().version().get();
        let clash = |squashed: &dyn Migration<C>, squash: &str, line: usize| Error::Load {
            errors: vec![squashed_file_error(squashed.meta(), squash, line)],
        };
        if let Some((squash, line)) = self.squashed.get(&version) {
            return Err(clash(migration, squash, *line));
        }
        for s in squashes_of(migration).iter().filter(|s| s.version != version) {
            let existing = Version::new(s.version)
                .and_then(|v| self.items.binary_search_by_key(&v, |m| m.meta().version()).ok())
                .and_then(|at| self.items.get(at));
            if let Some(existing) = existing {
                return Err(clash(existing.as_ref(), migration.meta().origin(), s.line));
            }
        }
        for s in squashes_of(migration).iter().filter(|s| s.version != version) {
            self.squashed.insert(s.version, (migration.meta().origin().to_owned(), s.line));
        }
        Ok(())
    }

    /// Adds every migration of `other`.
    pub fn merge(mut self, other: MigrationSet<C>) -> Result<Self, Error> {
        for migration in other.items {
            self = self.with_shared(migration)?;
        }
        Ok(self)
    }
}

impl<C: ?Sized> MigrationSet<C> {
    /// The migration with `version`.
    pub fn get(&self, version: Version) -> Option<&dyn Migration<C>> {
        self.items
            .binary_search_by_key(&version, |m| m.meta().version())
            .ok()
            .and_then(|at| self.items.get(at))
            .map(|m| m.as_ref())
    }

    /// All migrations in version order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &dyn Migration<C>> + '_ {
        self.items.iter().map(|m| m.as_ref())
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The newest version.
    pub fn latest(&self) -> Option<Version> {
        self.items.last().map(|m| m.meta().version())
    }

    /// A hash of every migration's version, name and up and down checksums (24 hex digits):
    /// equal for equal sets, different as soon as a migration is added, removed or edited.
    /// The test kits name their template databases after it.
    pub fn fingerprint(&self) -> String {
        let mut text = String::new();
        for m in self.iter() {
            let meta = m.meta();
            text.push_str(&format!(
                "{} {} {} {}\n",
                meta.version(),
                meta.name(),
                meta.checksum(),
                meta.down_checksum().map(|c| c.as_str()).unwrap_or("-")
            ));
        }
        let hash = crate::checksum::statement_hash(&text);
        hash.get(..24).unwrap_or(&hash).to_owned()
    }
}

/// Things a `Migrator` accepts as its migrations.
pub trait IntoMigrations<C: ?Sized> {
    /// Converts into a set, checking it.
    fn into_migrations(self) -> Result<MigrationSet<C>, Error>;
}

impl<C: ?Sized + 'static> IntoMigrations<C> for MigrationSet<C> {
    fn into_migrations(self) -> Result<MigrationSet<C>, Error> {
        Ok(self)
    }
}

impl<C: ?Sized + 'static> IntoMigrations<C> for EmbeddedMigrations {
    fn into_migrations(self) -> Result<MigrationSet<C>, Error> {
        MigrationSet::from_embedded(self)
    }
}

impl<C: ?Sized + 'static> IntoMigrations<C> for &EmbeddedMigrations {
    fn into_migrations(self) -> Result<MigrationSet<C>, Error> {
        MigrationSet::from_embedded(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BoxError, RustMigration};

    #[derive(Debug)]
    struct Conn;

    fn noop(_: &mut Conn) -> crate::migration::StepFuture<'_> {
        Box::pin(async { Ok::<(), BoxError>(()) })
    }

    #[test]
    fn keeps_version_order_and_refuses_duplicates() {
        let set = MigrationSet::<Conn>::new()
            .with(RustMigration::new(3, "c", noop).unwrap())
            .unwrap()
            .with(RustMigration::new(1, "a", noop).unwrap())
            .unwrap();
        let versions: Vec<i64> = set.iter().map(|m| m.meta().version().get()).collect();
        assert_eq!(versions, vec![1, 3]);
        assert_eq!(set.get(Version::new(3).unwrap()).unwrap().meta().name(), "c");
        assert!(set.get(Version::new(2).unwrap()).is_none());
        let e = set.with(RustMigration::new(3, "again", noop).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "two migrations have version 3: Rust migration 3_c and Rust migration 3_again; give one of them a new version"
        );
    }

    fn sql(version: i64, name: &str, text: &str, down: Option<&str>) -> Result<crate::SqlMigration, Error> {
        let parse = |kind, path: String, text: &str| {
            crate::Script::parse(kind, path, text.to_owned(), Dialect::Sqlite).map_err(|errors| Error::Load { errors })
        };
        let up = parse(crate::ScriptKind::Up, format!("m/{version}_{name}.up.sql"), text)?;
        let down =
            down.map(|d| parse(crate::ScriptKind::Down, format!("m/{version}_{name}.down.sql"), d)).transpose()?;
        crate::SqlMigration::new(Version::new(version).unwrap(), name.to_owned(), up, down)
    }

    const SQUASH: &str =
        "-- migrator:squashes 1 sha256:aa a\n-- migrator:squashes 2 sha256:bb b\nCREATE TABLE t (id INT);\n";

    #[test]
    fn a_squash_migration_replaces_the_files_it_squashes() {
        let set = MigrationSet::<Conn>::new().with(sql(2, "squash", SQUASH, None).unwrap()).unwrap();
        let e = set.clone().with(sql(1, "a", "CREATE TABLE a (id INT);\n", None).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "m/1_a.up.sql: migration 1 is squashed into m/2_squash.up.sql (line 1), which stands for it: delete this \
             file (version control keeps it)"
        );
        let kept = MigrationSet::<Conn>::new().with(sql(1, "a", "CREATE TABLE a (id INT);\n", None).unwrap()).unwrap();
        let e = kept.with(sql(2, "squash", SQUASH, None).unwrap()).unwrap_err();
        assert!(e.to_string().starts_with("m/1_a.up.sql: migration 1 is squashed into m/2_squash.up.sql"), "{e}");
        assert!(set.with(sql(3, "later", "CREATE TABLE l (id INT);\n", None).unwrap()).is_ok());
    }

    #[test]
    fn a_squash_migration_is_its_newest_version_and_has_no_down() {
        let e = sql(5, "squash", SQUASH, None).unwrap_err();
        assert!(
            e.to_string().contains("m/5_squash.up.sql:2: a squash migration takes the version of the newest"),
            "{e}"
        );
        let e = sql(2, "squash", SQUASH, Some("DROP TABLE t;\n")).unwrap_err();
        assert!(e.to_string().starts_with("m/2_squash.down.sql: m/2_squash.up.sql is a squash migration"), "{e}");
        let squash = sql(2, "squash", SQUASH, None).unwrap();
        assert!(matches!(
            crate::Migration::<Conn>::down(&squash),
            crate::migration::Down::Irreversible { reason } if reason.starts_with("a squash migration")
        ));
    }
}
