//! Migration file names: `{version}_{name}.up.sql` and `{version}_{name}.down.sql`.

use crate::directive::ScriptKind;
use crate::migration::check_name;
use crate::version::Version;

/// A parsed migration file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The version part.
    pub version: Version,
    /// The name part (`[a-z0-9_]+`).
    pub name: String,
    /// `.up.sql` or `.down.sql`.
    pub kind: ScriptKind,
}

/// Parses a migration file name.
///
/// Returns `None` for files that are not migrations (hidden files, anything not ending in
/// `.sql`, such as a README), and an error for `.sql` files that do not follow the layout.
pub fn parse_file_name(file: &str) -> Option<Result<FileName, String>> {
    if file.starts_with('.') || !file.ends_with(".sql") {
        return None;
    }
    let (stem, kind) = if let Some(stem) = file.strip_suffix(".up.sql") {
        (stem, ScriptKind::Up)
    } else if let Some(stem) = file.strip_suffix(".down.sql") {
        (stem, ScriptKind::Down)
    } else {
        let stem = file.trim_end_matches(".sql");
        return Some(Err(format!(
            "`{file}` is not a migration file name: name it `{stem}.up.sql` (and `{stem}.down.sql` for its down script), \
             as `{{version}}_{{name}}.up.sql`"
        )));
    };
    let Some((digits, name)) = stem.split_once('_') else {
        return Some(Err(format!(
            "`{file}` has no `_` between version and name: name it like `1_{stem}.{}.sql`",
            kind.as_str()
        )));
    };
    let version = match Version::parse_digits(digits) {
        Ok(version) => version,
        Err(message) => return Some(Err(format!("`{file}`: {message}"))),
    };
    if let Err(message) = check_name(name) {
        return Some(Err(format!("`{file}`: {message}")));
    }
    Some(Ok(FileName { version, name: name.to_owned(), kind }))
}
