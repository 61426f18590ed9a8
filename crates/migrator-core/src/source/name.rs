//! Migration file names: `{version}_{name}.up.sql` and `{version}_{name}.down.sql`.
//!
//! Which files of a migrations directory are looked at:
//!
//! * hidden files (`.gitkeep`, vim's `.1_a.up.sql.swp`, Emacs's `.#1_a.up.sql`) and editor
//!   leftovers (a name ending in `~`, `.swp`, `.swo` or `.swx`, Emacs's `#1_a.up.sql#`) are
//!   ignored;
//! * a name that mentions `.sql` as an extension (`.sql` not followed by a letter, digit or
//!   `_`, in any case: `1_a.UP.SQL`, `1_a.up.sql.bak`, `1_a.up.sql.orig`) must be a migration
//!   file name, or it is an error: a file that looks like a migration is never skipped
//!   silently;
//! * anything else (`README.md`, `schema.sqlite`, `notes.txt`) is not a migration and is
//!   ignored.

use crate::directive::ScriptKind;
use crate::migration::check_name;
use crate::split::printable;
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

/// Whether `file` is a hidden file or an editor's backup, swap or autosave file.
pub(crate) fn is_ignored(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    file.starts_with('.')
        || file.ends_with('~')
        || (file.starts_with('#') && file.ends_with('#'))
        || [".swp", ".swo", ".swx"].iter().any(|ext| lower.ends_with(ext))
}

/// Whether `file` mentions `.sql` as an extension (in any case), so that it looks like a
/// migration script.
pub(crate) fn mentions_sql(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    lower
        .match_indices(".sql")
        .any(|(at, _)| lower.as_bytes().get(at + 4).is_none_or(|&next| !(next.is_ascii_alphanumeric() || next == b'_')))
}

/// A file name as it can be shown in a message: control characters (a newline, an escape
/// sequence, a tab) as their Unicode control pictures.
pub(crate) fn shown_name(file: &str) -> String {
    file.chars().map(|c| if c == '\t' { '\u{2409}' } else { printable(c) }).collect()
}

/// Parses a migration file name.
///
/// Returns `None` for files that are not migrations (hidden files, editor backups, and
/// anything that does not mention `.sql`, such as a README), and an error for files that
/// look like migration scripts but do not follow the layout (see the module docs).
pub fn parse_file_name(file: &str) -> Option<Result<FileName, String>> {
    if is_ignored(file) || !mentions_sql(file) {
        return None;
    }
    let shown = shown_name(file);
    if !file.ends_with(".sql") {
        let lower = file.to_ascii_lowercase();
        return Some(Err(if lower.ends_with(".sql") {
            format!(
                "`{shown}` is not loaded: migration file names are lowercase: rename it to `{}`",
                shown.to_ascii_lowercase()
            )
        } else {
            format!(
                "`{shown}` looks like a migration script but is not loaded: migration files end in `.up.sql` or \
                 `.down.sql`; rename it, or move it out of the migrations directory (hidden files and editor \
                 backups ending in `~` are ignored)"
            )
        }));
    }
    let (stem, kind) = if let Some(stem) = file.strip_suffix(".up.sql") {
        (stem, ScriptKind::Up)
    } else if let Some(stem) = file.strip_suffix(".down.sql") {
        (stem, ScriptKind::Down)
    } else {
        let stem = shown.trim_end_matches(".sql");
        let lower = stem.to_ascii_lowercase();
        if lower.ends_with(".up") || lower.ends_with(".down") {
            return Some(Err(format!(
                "`{shown}` is not loaded: migration file names are lowercase: rename it to `{}`",
                shown.to_ascii_lowercase()
            )));
        }
        return Some(Err(format!(
            "`{shown}` is not a migration file name: name it `{stem}.up.sql` (and `{stem}.down.sql` for its down script), \
             as `{{version}}_{{name}}.up.sql`"
        )));
    };
    let Some((digits, name)) = stem.split_once('_') else {
        let digits_end = stem.find(|c: char| !c.is_ascii_digit()).unwrap_or(stem.len());
        let suggestion = match (stem.get(..digits_end).unwrap_or(""), stem.get(digits_end..).unwrap_or("")) {
            ("", _) => format!("1_{}", shown_name(stem)),
            (digits, "") => format!("{digits}_name"),
            (digits, name) => format!("{digits}_{}", shown_name(name)),
        };
        return Some(Err(format!(
            "`{shown}` has no `_` between version and name: name it like `{suggestion}.{}.sql`",
            kind.as_str()
        )));
    };
    let version = match Version::parse_digits(digits) {
        Ok(version) => version,
        Err(message) => return Some(Err(format!("`{shown}`: {}", shown_name(&message)))),
    };
    if let Err(message) = check_name(name) {
        return Some(Err(format!("`{shown}`: {}", shown_name(&message))));
    }
    Some(Ok(FileName { version, name: name.to_owned(), kind }))
}
