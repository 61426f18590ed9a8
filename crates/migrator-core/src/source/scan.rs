//! Reading a migrations directory: every file that loads, and every problem with the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dialect::Dialect;
use crate::directive::ScriptKind;
use crate::error::{Error, LoadError, Problem, ProblemKind};
use crate::migration::SqlMigration;
use crate::script::Script;
use crate::split::Lines;
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
        let shown = shown_path(display, &file);
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
        let text = match read_script(&path) {
            Ok(text) => text,
            Err(unreadable) => {
                errors.push(unreadable.into_problem(&shown));
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
            ([up], downs) => {
                for down in downs.iter().filter(|d| d.name != up.name) {
                    errors.push(error(
                        &down.shown,
                        None,
                        format!(
                            "this down script's name does not match its up script {}: rename it to `{version}_{}.down.sql`",
                            up.shown, up.name
                        ),
                    ));
                }
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
            (ups, _) => {
                // Only the up scripts conflict: each down script belongs to one of them.
                let mut all = ups.iter().map(|f| f.shown.as_str());
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
    errors.extend(squashed_files(&loaded).into_iter().map(Problem::other));
    (loaded, errors)
}

/// Migrations kept beside the squash migration that stands for them.
fn squashed_files(loaded: &[LoadedMigration]) -> Vec<LoadError> {
    let mut squashed: BTreeMap<i64, (&str, usize)> = BTreeMap::new();
    for m in loaded {
        for s in m.migration.up_script().directives().squashes.iter() {
            squashed.insert(s.version, (m.migration.up_script().path(), s.line));
        }
    }
    loaded
        .iter()
        .filter_map(|m| {
            let meta = crate::migration::Migration::<()>::meta(&m.migration);
            let (squash, line) = squashed.get(&meta.version().get())?;
            (*squash != m.migration.up_script().path())
                .then(|| crate::migration::squashed_file_error(meta, squash, *line))
        })
        .collect()
}

/// Migration files larger than this are refused: a script that size is a data load, which
/// belongs in `COPY … FROM 'file'` on the server or a Rust-code migration, and reading it
/// would hold the whole file in memory (in the compiler, for the embed macro).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// `display/file`, or `file` alone when the directory is shown as nothing.
fn shown_path(display: &str, file: &str) -> String {
    match display.trim_end_matches('/') {
        "" if display.is_empty() => file.to_owned(),
        dir => format!("{dir}/{file}"),
    }
}

/// Why a migration file could not be read.
enum Unreadable {
    /// A problem with no place in the file.
    File(String),
    /// Invalid UTF-8: the line and column of the first bad byte, and an excerpt there.
    Encoding { line: usize, column: usize, message: String, source: String, caret: usize },
}

impl Unreadable {
    fn into_problem(self, shown: &str) -> Problem {
        match self {
            Unreadable::File(message) => {
                Problem::other(LoadError { path: shown.to_owned(), line: None, column: None, message })
            }
            Unreadable::Encoding { line, column, message, source, caret } => Problem {
                kind: ProblemKind::Other,
                error: LoadError { path: shown.to_owned(), line: Some(line), column: Some(column), message },
                source: Some(source),
                caret: Some(caret),
            },
        }
    }
}

/// Reads a migration file, refusing what is not a regular file before opening it: opening a
/// FIFO blocks until a writer appears (forever, in a build), and a device never ends.
/// Symbolic links are followed, so a link to a regular file is read. The read itself is
/// bounded by [`MAX_FILE_BYTES`], in case the file grows between the check and the read.
fn read_script(path: &Path) -> Result<String, Unreadable> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Unreadable::File(
                "this is a symbolic link to a file that does not exist: fix or remove the link".to_owned(),
            ));
        }
        Err(e) => return Err(Unreadable::File(format!("cannot read the file: {e}"))),
    };
    if !metadata.is_file() {
        return Err(Unreadable::File(format!(
            "this is {}, not a regular file: a migration must be a plain file (reading this one could block \
             forever); replace it with the script or remove it",
            file_kind(&metadata)
        )));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(Unreadable::File(too_large(metadata.len())));
    }
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|file| std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_FILE_BYTES + 1), &mut bytes));
    if let Err(e) = read {
        return Err(Unreadable::File(format!("cannot read the file: {e}")));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Unreadable::File(too_large(bytes.len() as u64)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let lossy = String::from_utf8_lossy(e.as_bytes());
        // The valid prefix decodes to itself, so `valid` is also the bad byte's offset in `lossy`.
        let lines = Lines::new(&lossy);
        let (line, column) = lines.position(valid);
        let (source, caret) = lines.excerpt_at(valid);
        Unreadable::Encoding {
            line,
            column,
            message: format!("the file is not valid UTF-8 (byte {valid}): save it as UTF-8"),
            source,
            caret,
        }
    })
}

fn too_large(bytes: u64) -> String {
    format!(
        "the file is {:.1} MiB, over the {} MiB limit for migration files: load bulk data with `COPY … FROM 'file'` \
         on the server or a Rust-code migration, and keep the script to schema changes",
        bytes as f64 / (1024.0 * 1024.0),
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// What a file that is not a regular file is, for messages.
fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if metadata.is_dir() { "a directory" } else { "a special file" }
}
