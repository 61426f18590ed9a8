//! `migrator new NAME`: the next up/down pair, with the directives listed in a comment.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;
use migrator_core::Layout;
use migrator_core::source::{LayoutFile, parse_file_name, parse_layout_file_name};

use crate::output::version_stamp;
use crate::usage::Usage;

/// The longest name part: with a version and `.down.sql`, the file name stays well within
/// the 255 bytes file systems allow.
const MAX_NAME: usize = 200;

/// `Add users email` → `add_users_email`; refuses what the loader would refuse.
fn file_name_part(name: &str) -> Result<String, Usage> {
    let normalized: String =
        name.trim().chars().map(|c| if c.is_whitespace() || c == '-' { '_' } else { c.to_ascii_lowercase() }).collect();
    if normalized.len() > MAX_NAME {
        return Err(Usage(format!(
            "the migration name is too long ({} characters): file names hold at most {MAX_NAME}; say it in fewer words",
            normalized.chars().count()
        )));
    }
    let plain = normalized.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain || !matches!(parse_file_name(&format!("1_{normalized}.up.sql")), Some(Ok(_))) {
        return Err(Usage(format!(
            "`{name}` cannot name a migration: use letters, digits, spaces and underscores (`add users email`)"
        )));
    }
    Ok(normalized)
}

/// The versions (as written) of the migrations already in `dir`, named as `layout` names them.
fn existing(dir: &Path, layout: Layout) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|file| matches!(parse_layout_file_name(layout, file), Some(Ok(LayoutFile::Script { .. }))))
        .filter_map(|file| file.split_once('_').map(|(digits, _)| digits.to_owned()))
        .collect()
}

/// The next version: the UTC time as `YYYYMMDDhhmmss` (or, `sequential`, one after the newest),
/// always newer than every existing migration, and as wide as existing zero-padded versions.
fn next_version(existing: &[String], sequential: bool, now: SystemTime) -> String {
    let newest = existing.iter().filter_map(|v| v.parse::<i64>().ok()).max().unwrap_or(0);
    let version = if sequential { newest + 1 } else { version_stamp(now).max(newest + 1) };
    let width = existing.iter().filter(|v| v.starts_with('0')).map(String::len).max().unwrap_or(0);
    format!("{version:0width$}")
}

const UP_HEADER: &str = "\
-- Write the migration's SQL below these comments. Until it has a statement, this file is
-- refused (by `migrator up`, `validate`, `lint` and embed_migrations!), so an untouched
-- template is never applied.
--
-- Directives, when one is needed, are lines of this header, above any SQL, each written as
-- \"-- migrator:\" followed by one of:
--   no-transaction                       run statement by statement outside a transaction
--                                        (PostgreSQL CREATE INDEX CONCURRENTLY, SQLite VACUUM)
--   phase contract                       apply it only in the contract phase, once every
--                                        instance runs code that no longer needs what it removes
--   irreversible -- <reason>             no down script, on purpose (delete the .down.sql file)
--   allow <rule>[, <rule>] -- <reason>   acknowledge a finding of `migrator lint`
--   lock-timeout 5s                      bound each statement's wait for table locks
--   statement-timeout 1min               bound each statement's run time
--   no-op -- <reason>                    the migration deliberately has no statement
";

const DOWN_HEADER: &str = "\
-- Undo what the up script does, in reverse order.
--
-- A down script takes the no-transaction, lock-timeout and statement-timeout directives.
";

/// The migrations directory must exist: creating a missing one would turn a typo in the path
/// into a second, silently diverging directory.
fn check_dir(dir: &Path) -> Result<(), Usage> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Usage(format!(
            "the migrations directory {} is not a directory: pass the directory with --source (or MIGRATOR_SOURCE)",
            dir.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Usage(format!(
            "the migrations directory {} does not exist: create it (`mkdir -p {}`) or pass the right one with \
             --source (or MIGRATOR_SOURCE)",
            dir.display(),
            shell_word(&dir.display().to_string())
        ))),
        Err(e) => Err(Usage(format!("cannot read the migrations directory {}: {e}", dir.display()))),
    }
}

/// `text` as one shell word: as is when plain, else in single quotes.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,=:@%".contains(c)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `new` writes migrator's files, which golang-migrate reads too; in another layout's
/// directory they would not be read as that tool's migrations.
fn check_layout(dir: &Path, layout: Option<Layout>) -> Result<Layout, Usage> {
    let layout = match layout {
        Some(layout) => layout,
        None => {
            let checked = migrator_core::lint::check_dir(
                dir,
                &dir.display().to_string(),
                migrator_core::Dialect::Postgres,
                &Default::default(),
            );
            checked.layout()
        }
    };
    match layout {
        Layout::Migrator | Layout::GolangMigrate => Ok(layout),
        other => Err(Usage(format!(
            "{} holds {}'s layout, and `migrator new` writes migrator's (`{{version}}_{{name}}.up.sql`): create the \
             migration with {} or by hand, as the directory's other migrations are named",
            dir.display(),
            other.tool(),
            other.tool()
        ))),
    }
}

/// Creates the pair; returns the two paths.
pub(crate) fn run(
    dir: &Path,
    layout: Option<Layout>,
    name: &str,
    sequential: bool,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let name = file_name_part(name)?;
    check_dir(dir)?;
    let layout = check_layout(dir, layout)?;
    let version = next_version(&existing(dir, layout), sequential, SystemTime::now());
    let up = dir.join(format!("{version}_{name}.up.sql"));
    let down = dir.join(format!("{version}_{name}.down.sql"));
    for (path, text) in [
        (&up, format!("-- Migration {version} {name}.\n--\n{UP_HEADER}")),
        (&down, format!("-- Migration {version} {name}, reverted.\n--\n{DOWN_HEADER}")),
    ] {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
            .with_context(|| format!("cannot create {}", path.display()))?;
    }
    Ok((up, down))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrator_core::ScriptKind;
    use migrator_core::directive::parse;

    #[test]
    fn names_are_normalized_or_refused() {
        assert_eq!(file_name_part("Add users email").unwrap(), "add_users_email");
        assert_eq!(file_name_part("add-index").unwrap(), "add_index");
        assert!(file_name_part("drop table; --").unwrap_err().0.contains("cannot name a migration"));
        assert!(file_name_part("").is_err());
    }

    #[test]
    fn directories_are_quoted_for_the_shell() {
        assert_eq!(shell_word("db/migrations"), "db/migrations");
        assert_eq!(shell_word("my migrations"), "'my migrations'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn versions_follow_the_newest() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_253_400);
        assert_eq!(next_version(&[], false, now), "20261121093000");
        assert_eq!(next_version(&["20991231000000".into()], false, now), "20991231000001");
        assert_eq!(next_version(&[], true, now), "1");
        assert_eq!(next_version(&["0001".into(), "0002".into()], true, now), "0003");
        assert_eq!(next_version(&["7".into()], true, now), "8");
    }

    #[test]
    fn the_headers_are_comments_without_directives() {
        let up = parse(&format!("-- Migration 1 x.\n--\n{UP_HEADER}"), ScriptKind::Up, true).unwrap();
        assert_eq!(up, migrator_core::Directives::default());
        let down = parse(DOWN_HEADER, ScriptKind::Down, true).unwrap();
        assert_eq!(down, migrator_core::Directives::default());
    }
}
