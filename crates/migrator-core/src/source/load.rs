//! Loading a migrations directory at runtime, refusing what the compile-time check refuses.

use std::path::Path;

use crate::dialect::Dialect;
use crate::error::LoadError;
use crate::lint::{self, LintOptions};

use super::layout::Layout;
use super::scan::{LoadedDir, LoadedMigration};

/// Loads and validates every migration in `dir`, returning them in version order.
///
/// `display` is how the directory is named in messages (such as `migrations`). The layout is
/// detected ([`Layout`]). Every problem is collected: bad names, duplicate versions, a down
/// script without its up script, non-UTF-8 files, empty up scripts, unknown or misplaced
/// directives, unsplittable SQL, and fatal lint findings (a migration that cannot work as
/// written, such as `CREATE INDEX CONCURRENTLY` in a transactional migration). Deny findings
/// are not refused here: the deny gate is the compile-time check and `migrator lint`, so a
/// history with old hazards can still be applied.
///
/// The directory's repeatable migrations are loaded and checked too, but only
/// [`load_dir_with_layout`] returns them.
pub fn load_dir(dir: &Path, display: &str, dialect: Dialect) -> Result<Vec<LoadedMigration>, Vec<LoadError>> {
    load_dir_with(dir, display, dialect, &LintOptions::default())
}

/// [`load_dir`], linting only the migrations from `options`' "lint from" version on.
pub fn load_dir_with(
    dir: &Path,
    display: &str,
    dialect: Dialect,
    options: &LintOptions,
) -> Result<Vec<LoadedMigration>, Vec<LoadError>> {
    load_dir_with_layout(dir, display, dialect, None, options).map(|loaded| loaded.migrations)
}

/// [`load_dir_with`] in `layout` (detected when `None`), with the repeatable migrations and
/// the layout the directory was read with.
///
/// ```
/// use migrator_core::Dialect;
/// use migrator_core::lint::LintOptions;
/// use migrator_core::source::{Layout, load_dir_with_layout};
///
/// # let dir = tempfile::tempdir()?;
/// # std::fs::create_dir(dir.path().join("2019-02-26-002946_create_users"))?;
/// # std::fs::write(dir.path().join("2019-02-26-002946_create_users/up.sql"), "CREATE TABLE users (id bigint);\n")?;
/// # std::fs::write(dir.path().join("2019-02-26-002946_create_users/down.sql"), "DROP TABLE users;\n")?;
/// let loaded = load_dir_with_layout(dir.path(), "migrations", Dialect::Postgres, None, &LintOptions::new())
///     .map_err(|errors| errors[0].to_string())?;
/// assert_eq!(loaded.layout, Layout::Diesel);
/// assert_eq!(loaded.migrations[0].migration.up_script().path(), "migrations/2019-02-26-002946_create_users/up.sql");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_dir_with_layout(
    dir: &Path,
    display: &str,
    dialect: Dialect,
    layout: Option<Layout>,
    options: &LintOptions,
) -> Result<LoadedDir, Vec<LoadError>> {
    lint::check_dir_with_layout(dir, display, dialect, layout, options).into_loaded()
}
