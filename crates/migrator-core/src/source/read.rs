//! Reading a migrations directory's tree: its entries (in subdirectories too) and, on
//! demand, each file's text, read once.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use crate::error::{LoadError, Problem, ProblemKind};
use crate::split::Lines;

/// How deep subdirectories are listed (refinery and Flyway read them).
pub(crate) const MAX_DEPTH: usize = 8;

/// How many entries a migrations directory may hold, subdirectories included.
pub(crate) const MAX_ENTRIES: usize = 100_000;

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A file (or anything that is not a directory: the read refuses FIFOs and devices).
    File,
    /// A directory, listed below it unless hidden or too deep.
    Dir,
    /// A symbolic link to a directory: never followed.
    LinkedDir,
    /// A name that is not UTF-8 (`name` and `rel` are lossy).
    NotUtf8,
    /// A directory that could not be listed, and why.
    Unlisted(String),
}

/// One entry of the tree.
#[derive(Debug)]
pub(crate) struct Listed {
    /// The path below the migrations directory, `/`-separated (`V1__a.sql`, `v1/V2__b.sql`).
    pub(crate) rel: String,
    /// The last component.
    pub(crate) name: String,
    /// The path on disk.
    pub(crate) path: PathBuf,
    /// 0 for the directory's own entries.
    pub(crate) depth: usize,
    /// The index of the directory holding it, if not the migrations directory.
    pub(crate) parent: Option<usize>,
    pub(crate) kind: Kind,
    /// The index after its last descendant (after itself, for a file).
    end: usize,
    text: OnceCell<Result<String, Unreadable>>,
}

/// The tree of a migrations directory, in name order, each directory followed by its entries.
#[derive(Debug)]
pub(crate) struct Listing {
    pub(crate) entries: Vec<Listed>,
}

impl Listing {
    /// The text of file `index`, read the first time it is asked for.
    pub(crate) fn text(&self, index: usize) -> Option<&Result<String, Unreadable>> {
        let entry = self.entries.get(index)?;
        Some(entry.text.get_or_init(|| read_script(&entry.path)))
    }

    /// The entries directly in directory `index` (its descendants follow it in the listing:
    /// the cost is the size of its subtree).
    pub(crate) fn children(&self, index: usize) -> impl Iterator<Item = (usize, &Listed)> + '_ {
        let end = self.entries.get(index).map_or(index, |e| e.end);
        let start = (index + 1).min(end);
        self.entries
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(move |(at, e)| (start + at, e))
            .filter(move |(_, e)| e.parent == Some(index))
    }

    /// Whether directory `index` holds a file `up.sql` (a diesel migration).
    pub(crate) fn has_up_sql(&self, index: usize) -> bool {
        self.children(index).any(|(_, e)| e.kind == Kind::File && e.name == "up.sql")
    }
}

/// Lists `dir`; an error when the directory itself cannot be read.
pub(crate) fn list(dir: &Path, display: &str) -> Result<Listing, Box<Problem>> {
    let mut listing = Listing { entries: Vec::new() };
    if let Err(e) = std::fs::read_dir(dir) {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!("the migrations directory does not exist ({}): create it or fix the path", dir.display())
        } else {
            format!("cannot read the migrations directory {}: {e}", dir.display())
        };
        return Err(Box::new(Problem::other(LoadError {
            path: display.to_owned(),
            line: None,
            column: None,
            message,
        })));
    }
    list_into(&mut listing, dir, "", 0, None).map_err(|message| {
        Box::new(Problem::other(LoadError { path: display.to_owned(), line: None, column: None, message }))
    })?;
    Ok(listing)
}

fn list_into(
    listing: &mut Listing,
    dir: &Path,
    prefix: &str,
    depth: usize,
    parent: Option<usize>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut found: Vec<(String, PathBuf, Kind)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list the migrations directory: {e}"))?;
        let path = entry.path();
        let (name, not_utf8) = match entry.file_name().into_string() {
            Ok(name) => (name, false),
            Err(name) => (name.to_string_lossy().into_owned(), true),
        };
        let kind = if not_utf8 {
            Kind::NotUtf8
        } else if path.is_dir() {
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                Kind::LinkedDir
            } else {
                Kind::Dir
            }
        } else {
            Kind::File
        };
        found.push((name, path, kind));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, path, kind) in found {
        if listing.entries.len() >= MAX_ENTRIES {
            return Err(format!(
                "the migrations directory holds more than {MAX_ENTRIES} entries (subdirectories included): move what \
                 is not a migration elsewhere"
            ));
        }
        let rel = format!("{prefix}{name}");
        let index = listing.entries.len();
        let descend = kind == Kind::Dir && !name.starts_with('.') && depth + 1 < MAX_DEPTH;
        listing.entries.push(Listed {
            rel: rel.clone(),
            name,
            path: path.clone(),
            depth,
            parent,
            kind,
            end: index + 1,
            text: OnceCell::new(),
        });
        if descend
            && let Err(message) = list_into(listing, &path, &format!("{rel}/"), depth + 1, Some(index))
            && let Some(entry) = listing.entries.get_mut(index)
        {
            entry.kind = Kind::Unlisted(message);
        }
        let end = listing.entries.len();
        if let Some(entry) = listing.entries.get_mut(index) {
            entry.end = end;
        }
    }
    Ok(())
}

/// `display/rel`, or `rel` alone when the directory is shown as nothing.
pub(crate) fn shown_path(display: &str, rel: &str) -> String {
    match display.trim_end_matches('/') {
        "" if display.is_empty() => rel.to_owned(),
        dir => format!("{dir}/{rel}"),
    }
}

/// Why a migration file could not be read.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// A problem with no place in the file.
    File(String),
    /// Invalid UTF-8: the line and column of the first bad byte, and an excerpt there.
    Encoding { line: usize, column: usize, message: String, source: String, caret: usize },
}

impl Unreadable {
    pub(crate) fn to_problem(&self, shown: &str) -> Problem {
        match self {
            Unreadable::File(message) => {
                Problem::other(LoadError { path: shown.to_owned(), line: None, column: None, message: message.clone() })
            }
            Unreadable::Encoding { line, column, message, source, caret } => Problem {
                kind: ProblemKind::Other,
                error: LoadError {
                    path: shown.to_owned(),
                    line: Some(*line),
                    column: Some(*column),
                    message: message.clone(),
                },
                source: Some(source.clone()),
                caret: Some(*caret),
            },
        }
    }
}

/// Migration files larger than this are refused: a script that size is a data load, which
/// belongs in `COPY … FROM 'file'` on the server or a Rust-code migration, and reading it
/// would hold the whole file in memory (in the compiler, for the embed macro).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a migration file, refusing what is not a regular file before opening it: opening a
/// FIFO blocks until a writer appears (forever, in a build), and a device never ends.
/// Symbolic links are followed, so a link to a regular file is read. The read itself is
/// bounded by [`MAX_FILE_BYTES`], in case the file grows between the check and the read.
pub(crate) fn read_script(path: &Path) -> Result<String, Unreadable> {
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
