//! Loading a migrations directory at runtime, refusing what the compile-time check refuses.

use std::path::Path;

use crate::dialect::Dialect;
use crate::error::LoadError;
use crate::lint::{self, LintOptions};

use super::scan::LoadedMigration;

/// Loads and validates every migration in `dir`, returning them in version order.
///
/// `display` is how the directory is named in messages (such as `migrations`). Every problem
/// is collected: bad names, duplicate versions, a down script without its up script,
/// non-UTF-8 files, empty up scripts, unknown or misplaced directives, unsplittable SQL, and
/// fatal lint findings (a migration that cannot work as written, such as `CREATE INDEX
/// CONCURRENTLY` in a transactional migration). Deny findings are not refused here: the deny
/// gate is the compile-time check and `migrator lint`, so a history with old hazards can still
/// be applied.
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
    lint::check_dir(dir, display, dialect, options).into_migrations()
}
