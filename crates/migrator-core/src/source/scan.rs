//! Reading a migrations directory: every file that loads, and every problem with the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dialect::Dialect;
use crate::directive::ScriptKind;
use crate::error::{Error, LoadError, Problem};
use crate::migration::SqlMigration;
use crate::script::Script;
use crate::version::Version;

use super::name::parse_file_name;

/// A migration loaded from a directory, with the absolute paths of its files.
#[derive(Debug)]
pub struct LoadedMigration {
    /// The parsed migration.
    pub migration: SqlMigration,
    /// Absolute path of the up script.
    pub up_file: PathBuf,
    /// Absolute path of the down script.
    pub down_file: Option<PathBuf>,
}

struct Found {
    name: String,
    kind: ScriptKind,
    shown: String,
    path: PathBuf,
    text: String,
}

/// Reads every migration in `dir`: those that load, and every problem with the others.
pub(crate) fn scan_dir(dir: &Path, display: &str, dialect: Dialect) -> (Vec<LoadedMigration>, Vec<Problem>) {
    let mut errors: Vec<Problem> = Vec::new();
    let error = |path: &str, line: Option<usize>, message: String| {
        Problem::other(LoadError { path: path.to_owned(), line, column: None, message })
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                format!("the migrations directory does not exist ({}): create it or fix the path", dir.display())
            } else {
                format!("cannot read the migrations directory {}: {e}", dir.display())
            };
            return (Vec::new(), vec![error(display, None, message)]);
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => files.push(entry),
            Err(e) => errors.push(error(display, None, format!("cannot list the migrations directory: {e}"))),
        }
    }
    files.sort_by_key(|entry| entry.file_name());

    let mut by_version: BTreeMap<Version, Vec<Found>> = BTreeMap::new();
    for entry in files {
        let path = entry.path();
        let Some(file) = entry.file_name().to_str().map(str::to_owned) else {
            errors.push(error(
                display,
                None,
                format!("file name {} is not UTF-8: rename it to `{{version}}_{{name}}.up.sql`", path.display()),
            ));
            continue;
        };
        let shown = format!("{}/{}", display.trim_end_matches('/'), file);
        if path.is_dir() {
            if !file.starts_with('.') {
                errors.push(error(
                    &shown,
                    None,
                    "unexpected directory: migration scripts live directly in the migrations directory as \
                     `{version}_{name}.up.sql`"
                        .to_owned(),
                ));
            }
            continue;
        }
        let parsed = match parse_file_name(&file) {
            None => continue,
            Some(Err(message)) => {
                errors.push(error(&shown, None, message));
                continue;
            }
            Some(Ok(parsed)) => parsed,
        };
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    let valid = e.utf8_error().valid_up_to();
                    let line = e.as_bytes().get(..valid).map_or(1, |b| b.iter().filter(|&&c| c == b'\n').count() + 1);
                    errors.push(error(
                        &shown,
                        Some(line),
                        format!("the file is not valid UTF-8 (byte {valid}): save it as UTF-8"),
                    ));
                    continue;
                }
            },
            Err(e) => {
                errors.push(error(&shown, None, format!("cannot read the file: {e}")));
                continue;
            }
        };
        let path = std::path::absolute(&path).unwrap_or(path);
        by_version.entry(parsed.version).or_default().push(Found {
            name: parsed.name,
            kind: parsed.kind,
            shown,
            path,
            text,
        });
    }

    let mut loaded = Vec::new();
    for (version, found) in by_version {
        let ups: Vec<&Found> = found.iter().filter(|f| f.kind == ScriptKind::Up).collect();
        let downs: Vec<&Found> = found.iter().filter(|f| f.kind == ScriptKind::Down).collect();
        let (up, down) = match (ups.as_slice(), downs.as_slice()) {
            ([up], []) => (*up, None),
            ([up], [down]) if down.name == up.name => (*up, Some(*down)),
            ([up], [down]) => {
                errors.push(error(
                    &down.shown,
                    None,
                    format!(
                        "this down script's name does not match its up script {}: rename it to `{version}_{}.down.sql`",
                        up.shown, up.name
                    ),
                ));
                continue;
            }
            ([], downs) => {
                for down in downs {
                    errors.push(error(
                        &down.shown,
                        None,
                        format!(
                            "down script without an up script: add `{version}_{}.up.sql` or remove this file",
                            down.name
                        ),
                    ));
                }
                continue;
            }
            _ => {
                let mut all = found.iter().map(|f| f.shown.as_str());
                let first = all.next().unwrap_or_default();
                let others: Vec<&str> = all.collect();
                errors.push(error(
                    first,
                    None,
                    format!(
                        "version {version} is used by several migrations ({first}, {}): give each a version of its own",
                        others.join(", ")
                    ),
                ));
                continue;
            }
        };
        let parse = |kind, found: &Found| {
            Script::parse_classified(kind, found.shown.clone().into(), found.text.clone().into(), dialect)
        };
        let up_script = parse(ScriptKind::Up, up);
        let down_script = down.map(|d| parse(ScriptKind::Down, d));
        let (up_script, down_script) = match (up_script, down_script) {
            (Ok(u), None) => (u, None),
            (Ok(u), Some(Ok(d))) => (u, Some(d)),
            (u, d) => {
                if let Err(e) = u {
                    errors.extend(e);
                }
                if let Some(Err(e)) = d {
                    errors.extend(e);
                }
                continue;
            }
        };
        match SqlMigration::new(version, up.name.clone(), up_script, down_script) {
            Ok(migration) => loaded.push(LoadedMigration {
                migration,
                up_file: up.path.clone(),
                down_file: down.map(|d| d.path.clone()),
            }),
            Err(Error::Load { errors: found }) => errors.extend(found.into_iter().map(Problem::other)),
            Err(other) => errors.push(error(&up.shown, None, other.to_string())),
        }
    }
    (loaded, errors)
}
