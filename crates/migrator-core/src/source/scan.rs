//! Reading a migrations directory in its layout: every migration that loads, and every
//! problem with the others.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::dialect::Dialect;
use crate::directive::ScriptKind;
use crate::error::{Error, LoadError, Problem, ProblemKind};
use crate::migration::{NameRule, RepeatableMigration, SqlMigration};
use crate::script::{LayoutFlags, Script};
use crate::split::Lines;
use crate::version::Version;

use super::config::{diesel_run_in_transaction, flyway_execute_in_transaction};
use super::detect::{Detected, detect, has_refinery_no_transaction};
use super::entry::{LayoutFile, parse_diesel_dir, parse_layout_file_name};
use super::goose::sections;
use super::layout::Layout;
use super::name::{is_ignored, mentions_sql, shown_name};
use super::read::{Kind, Listing, list, shown_path};

/// A migration loaded from a directory, with the absolute paths of its files.
#[derive(Debug)]
pub struct LoadedMigration {
    /// The parsed migration.
    pub migration: SqlMigration,
    /// Absolute path of the up script's file.
    pub up_file: PathBuf,
    /// Absolute path of the down script's file (for goose, the same file as the up script's).
    pub down_file: Option<PathBuf>,
}

/// A repeatable migration loaded from a directory (`R__{name}.sql`).
#[derive(Debug)]
pub struct LoadedRepeatable {
    /// The parsed repeatable migration.
    pub repeatable: RepeatableMigration,
    /// Absolute path of its file.
    pub file: PathBuf,
}

/// A directory's migrations and repeatable migrations, as loaded in its layout.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoadedDir {
    /// The layout the directory was read with (detected, or as named).
    pub layout: Layout,
    /// The migrations, in version order.
    pub migrations: Vec<LoadedMigration>,
    /// The repeatable migrations, in name order.
    pub repeatables: Vec<LoadedRepeatable>,
}

/// Everything read from a directory.
#[derive(Debug)]
pub(crate) struct Scan {
    /// The layout it was read with.
    pub(crate) layout: Layout,
    pub(crate) migrations: Vec<LoadedMigration>,
    pub(crate) repeatables: Vec<LoadedRepeatable>,
    pub(crate) problems: Vec<Problem>,
}

/// One script found in the directory.
struct Found {
    /// The path below the directory (a Flyway configuration names its script by it).
    rel: String,
    name: String,
    kind: ScriptKind,
    shown: String,
    path: PathBuf,
    text: String,
    flags: LayoutFlags,
}

/// Reads every migration in `dir` in `layout` (detected when `None`).
pub(crate) fn scan_layout(dir: &std::path::Path, display: &str, dialect: Dialect, layout: Option<Layout>) -> Scan {
    let listing = match list(dir, display) {
        Ok(listing) => listing,
        Err(problem) => {
            return Scan {
                layout: layout.unwrap_or(Layout::Migrator),
                migrations: Vec::new(),
                repeatables: Vec::new(),
                problems: vec![*problem],
            };
        }
    };
    let (layout, detected) = match layout {
        Some(layout) => (layout, None),
        None => match detect(&listing) {
            Detected::Layout(layout, why) => (layout, Some(why)),
            Detected::Mixed(message) => {
                return Scan {
                    layout: Layout::Migrator,
                    migrations: Vec::new(),
                    repeatables: Vec::new(),
                    problems: vec![error(display, None, message)],
                };
            }
        },
    };
    let mut scanner = Scanner {
        display,
        dialect,
        layout,
        detected,
        listing: &listing,
        problems: Vec::new(),
        found: BTreeMap::new(),
        repeatables: Vec::new(),
    };
    if layout == Layout::Diesel {
        scanner.diesel();
    } else {
        scanner.files();
    }
    scanner.finish()
}

fn error(path: &str, line: Option<usize>, message: String) -> Problem {
    Problem::other(LoadError { path: path.to_owned(), line, column: None, message })
}

struct Scanner<'a> {
    display: &'a str,
    dialect: Dialect,
    layout: Layout,
    /// Why the layout was detected (`None` when it was named).
    detected: Option<String>,
    listing: &'a Listing,
    problems: Vec<Problem>,
    found: BTreeMap<Version, Vec<Found>>,
    repeatables: Vec<Found>,
}

impl Scanner<'_> {
    fn shown(&self, rel: &str) -> String {
        shown_path(self.display, rel)
    }

    fn problem(&mut self, path: &str, line: Option<usize>, message: String) {
        self.problems.push(error(path, line, message));
    }

    /// The text of entry `index`, or a problem.
    fn text(&mut self, index: usize, shown: &str) -> Option<String> {
        match self.listing.text(index)? {
            Ok(text) => Some(text.clone()),
            Err(unreadable) => {
                self.problems.push(unreadable.to_problem(shown));
                None
            }
        }
    }

    /// A hint for a file the detected layout refuses: why the layout was chosen, or, for a
    /// name migrator's layout refuses but sqlx's or golang-migrate's accepts, how to read the
    /// directory as theirs.
    fn hint(&self, file: &str) -> String {
        match (&self.detected, self.layout) {
            (Some(_), Layout::Migrator) => {
                let theirs: Vec<&str> = [Layout::Sqlx, Layout::GolangMigrate]
                    .into_iter()
                    .filter(|layout| matches!(parse_layout_file_name(*layout, file), Some(Ok(_))))
                    .map(Layout::id)
                    .collect();
                let Some(first) = theirs.first() else { return String::new() };
                format!(
                    " ({} accept{} this name: if the directory is theirs, name its layout with `--layout {first}`, or \
                     `layout = {}` in embed_migrations!)",
                    theirs.join(" and "),
                    if theirs.len() == 1 { "s" } else { "" },
                    first.replace('-', "_")
                )
            }
            (Some(why), layout) => format!(" (read as {}'s layout because {why})", layout.tool()),
            (None, _) => String::new(),
        }
    }

    /// Problems of entries every layout reports: names that are not UTF-8, directories that
    /// cannot be listed. `true` when the entry is such a problem.
    fn unreadable_entry(&mut self, index: usize) -> bool {
        let Some(entry) = self.listing.entries.get(index) else { return true };
        let shown = self.shown(&entry.rel);
        match &entry.kind {
            Kind::NotUtf8 => {
                let message = format!(
                    "file name {} is not UTF-8: rename it as {} names migrations",
                    entry.path.display(),
                    self.layout.tool()
                );
                self.problem(self.display, None, message);
                true
            }
            Kind::Unlisted(message) => {
                let message = message.clone();
                self.problem(&shown, None, message);
                true
            }
            _ => false,
        }
    }

    /// The layouts whose migrations are files: each entry of the directory (and of its
    /// subdirectories, for refinery and Flyway).
    fn files(&mut self) {
        let recursive = matches!(self.layout, Layout::Refinery | Layout::Flyway);
        let mut configs: Vec<(usize, String, String)> = Vec::new();
        let listing = self.listing;
        for (index, entry) in listing.entries.iter().enumerate() {
            if entry.depth > 0 && !recursive {
                continue;
            }
            if self.unreadable_entry(index) {
                continue;
            }
            let shown = self.shown(&entry.rel);
            match entry.kind {
                Kind::Dir | Kind::LinkedDir if entry.name.starts_with('.') => {}
                Kind::LinkedDir if recursive => self.problem(
                    &shown,
                    None,
                    "a symbolic link to a directory is not followed: move its migrations into the migrations \
                     directory"
                        .to_owned(),
                ),
                Kind::Dir if recursive => {
                    if entry.depth + 1 >= super::read::MAX_DEPTH {
                        self.problem(
                            &shown,
                            None,
                            format!(
                                "subdirectories deeper than {} levels are not read: move its migrations up",
                                super::read::MAX_DEPTH
                            ),
                        );
                    }
                }
                Kind::Dir | Kind::LinkedDir => {
                    let diesel = self.listing.has_up_sql(index);
                    let message = if diesel && self.layout != Layout::Diesel {
                        format!(
                            "unexpected directory: it holds `up.sql`, as diesel's migrations do; {}'s migration \
                             scripts live directly in the migrations directory (a diesel directory is read with {})",
                            self.layout.tool(),
                            Layout::Diesel.how_to_name()
                        )
                    } else {
                        "unexpected directory: migration scripts live directly in the migrations directory as \
                         `{version}_{name}.up.sql`"
                            .to_owned()
                    };
                    self.problem(&shown, None, message);
                }
                _ => self.file(index, &shown, &mut configs),
            }
        }
        for (index, shown, script) in configs {
            let Some(text) = self.text(index, &shown) else { continue };
            let in_transaction = match flyway_execute_in_transaction(&text) {
                Ok(in_transaction) => in_transaction,
                Err((line, message)) => {
                    self.problem(&shown, Some(line), message);
                    continue;
                }
            };
            let target = self.found.values_mut().flatten().chain(self.repeatables.iter_mut()).find(|f| f.rel == script);
            match target {
                Some(found) => found.flags.no_transaction |= !in_transaction,
                None => self.problem(
                    &shown,
                    None,
                    format!(
                        "this configures `{}`, which is not in the migrations directory: rename or remove it",
                        shown_name(&script)
                    ),
                ),
            }
        }
    }

    fn file(&mut self, index: usize, shown: &str, configs: &mut Vec<(usize, String, String)>) {
        let listing = self.listing;
        let Some(entry) = listing.entries.get(index) else { return };
        let parsed = match parse_layout_file_name(self.layout, &entry.name) {
            None => return,
            Some(Err(message)) => {
                let message = format!("{message}{}", self.hint(&entry.name));
                self.problem(shown, None, message);
                return;
            }
            Some(Ok(parsed)) => parsed,
        };
        if let LayoutFile::ScriptConfig { script } = &parsed {
            let dir = entry.rel.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default();
            configs.push((index, shown.to_owned(), format!("{dir}{script}")));
            return;
        }
        let Some(text) = self.text(index, shown) else { return };
        let path = std::path::absolute(&entry.path).unwrap_or_else(|_| entry.path.clone());
        let found = |name: &str, kind, text: String, flags| Found {
            rel: entry.rel.clone(),
            name: name.to_owned(),
            kind,
            shown: shown.to_owned(),
            path: path.clone(),
            text,
            flags,
        };
        match parsed {
            LayoutFile::Script { version, name, kind } => {
                let no_transaction = match self.layout {
                    Layout::Sqlx => text.starts_with("-- no-transaction"),
                    Layout::Refinery => has_refinery_no_transaction(&text),
                    _ => false,
                };
                let flags = LayoutFlags { no_transaction, ..LayoutFlags::NONE };
                self.found.entry(version).or_default().push(found(&name, kind, text, flags));
            }
            LayoutFile::Repeatable { name } => {
                let flags = LayoutFlags::NONE;
                self.repeatables.push(found(&name, ScriptKind::Up, text, flags));
            }
            LayoutFile::Sections { version, name } => match sections(&text) {
                Ok(goose) => {
                    let mut flags = LayoutFlags::NONE.with_goose_blocks();
                    flags.no_transaction = goose.no_transaction;
                    let up = found(&name, ScriptKind::Up, goose.up, flags);
                    let down = goose.down.map(|down| found(&name, ScriptKind::Down, down, flags));
                    self.found.entry(version).or_default().extend(std::iter::once(up).chain(down));
                }
                Err(problems) => {
                    let lines = Lines::new(&text);
                    let hint = self.hint(&entry.name);
                    for (line, message) in problems {
                        let message = if line.is_none() { format!("{message}{hint}") } else { message };
                        self.problems.push(Problem {
                            kind: ProblemKind::Other,
                            source: line.and_then(|l| lines.excerpt_line(l)),
                            caret: None,
                            error: LoadError { path: shown.to_owned(), line, column: None, message },
                        });
                    }
                }
            },
            LayoutFile::ScriptConfig { .. } => {}
        }
    }

    /// diesel's layout: a directory per migration.
    fn diesel(&mut self) {
        let listing = self.listing;
        for (index, entry) in listing.entries.iter().enumerate() {
            if entry.depth > 0 || self.unreadable_entry(index) {
                continue;
            }
            let shown = self.shown(&entry.rel);
            match entry.kind {
                Kind::Dir | Kind::LinkedDir if entry.name.starts_with('.') => {}
                Kind::LinkedDir => self.problem(
                    &shown,
                    None,
                    "a symbolic link to a directory is not followed: make the migration a directory of its own"
                        .to_owned(),
                ),
                Kind::Dir => self.diesel_dir(index, &shown),
                _ => {
                    if let Some(Err(message)) = parse_layout_file_name(Layout::Diesel, &entry.name) {
                        let message = format!("{message}{}", self.hint(&entry.name));
                        self.problem(&shown, None, message);
                    }
                }
            }
        }
    }

    fn diesel_dir(&mut self, index: usize, shown: &str) {
        let listing = self.listing;
        let Some(entry) = listing.entries.get(index) else { return };
        let (version, name) = match parse_diesel_dir(&entry.name) {
            Ok(parsed) => parsed,
            Err(message) => {
                let message = format!("{message}{}", self.hint(&entry.name));
                self.problem(shown, None, message);
                return;
            }
        };
        let mut scripts: Vec<(usize, ScriptKind)> = Vec::new();
        let mut metadata: Option<usize> = None;
        for (child, file) in listing.children(index) {
            let child_shown = self.shown(&file.rel);
            match (&file.kind, file.name.as_str()) {
                (Kind::NotUtf8 | Kind::Unlisted(_), _) => {
                    self.unreadable_entry(child);
                }
                (_, name) if is_ignored(name) => {}
                (Kind::Dir | Kind::LinkedDir, _) => self.problem(
                    &child_shown,
                    None,
                    "unexpected directory: a diesel migration directory holds `up.sql`, `down.sql` and \
                     `metadata.toml`"
                        .to_owned(),
                ),
                (_, "up.sql") => scripts.push((child, ScriptKind::Up)),
                (_, "down.sql") => scripts.push((child, ScriptKind::Down)),
                (_, "metadata.toml") => metadata = Some(child),
                (_, name) if mentions_sql(name) => self.problem(
                    &child_shown,
                    None,
                    "diesel reads `up.sql` and `down.sql` in a migration directory (names are lowercase): rename \
                     this file, or move it out of the migrations directory"
                        .to_owned(),
                ),
                _ => {}
            }
        }
        if !scripts.iter().any(|(_, kind)| *kind == ScriptKind::Up) {
            self.problem(
                shown,
                None,
                "this diesel migration has no `up.sql`: write the migration's SQL there, or remove the directory"
                    .to_owned(),
            );
            return;
        }
        let mut flags = LayoutFlags::NONE;
        if let Some(child) = metadata {
            let meta_shown = listing.entries.get(child).map(|e| self.shown(&e.rel)).unwrap_or_default();
            if let Some(text) = self.text(child, &meta_shown) {
                match diesel_run_in_transaction(&text) {
                    Ok(in_transaction) => flags.no_transaction = !in_transaction,
                    Err((line, message)) => self.problem(&meta_shown, Some(line), message),
                }
            }
        }
        for (child, kind) in scripts {
            let Some(file) = listing.entries.get(child) else { continue };
            let child_shown = self.shown(&file.rel);
            let Some(text) = self.text(child, &child_shown) else { continue };
            let found = Found {
                rel: file.rel.clone(),
                name: name.clone(),
                kind,
                shown: child_shown,
                path: std::path::absolute(&file.path).unwrap_or_else(|_| file.path.clone()),
                text,
                flags,
            };
            self.found.entry(version).or_default().push(found);
        }
    }

    /// How to name the up script of a lone down script, for messages.
    fn up_file_name(&self, version: Version, down: &Found) -> String {
        match self.layout {
            Layout::Flyway => format!("`V{version}__{}.sql`", shown_name(&down.name)),
            _ => format!("`{version}_{}.up.sql`", shown_name(&down.name)),
        }
    }

    fn parse(&mut self, found: &Found) -> Option<Script> {
        let parsed = Script::parse_classified(
            found.kind,
            Cow::Owned(found.shown.clone()),
            Cow::Owned(found.text.clone()),
            self.dialect,
            found.flags,
        );
        match parsed {
            Ok(script) => Some(script),
            Err(problems) => {
                self.problems.extend(problems);
                None
            }
        }
    }

    fn finish(mut self) -> Scan {
        let rule = if self.layout == Layout::Migrator { NameRule::Migrator } else { NameRule::Layout };
        let mut migrations = Vec::new();
        for (version, found) in std::mem::take(&mut self.found) {
            let Some((up, down)) = self.pair(version, &found) else { continue };
            let up_script = self.parse(up);
            let down_script = down.map(|d| self.parse(d));
            let (Some(up_script), None | Some(Some(_))) = (up_script, &down_script) else { continue };
            let down_script = down_script.flatten();
            match SqlMigration::with_name_rule(version, up.name.clone(), up_script, down_script, rule) {
                Ok(migration) => migrations.push(LoadedMigration {
                    migration,
                    up_file: up.path.clone(),
                    down_file: down.map(|d| d.path.clone()),
                }),
                Err(Error::Load { errors }) => self.problems.extend(errors.into_iter().map(Problem::other)),
                Err(other) => self.problem(&up.shown, None, other.to_string()),
            }
        }
        self.problems.extend(squashed_files(&migrations).into_iter().map(Problem::other));
        let mut repeatables: Vec<LoadedRepeatable> = Vec::new();
        for found in std::mem::take(&mut self.repeatables) {
            let Some(script) = self.parse(&found) else { continue };
            if let Some(first) = repeatables.iter().find(|r| r.repeatable.name() == found.name) {
                let message = format!(
                    "repeatable migration `{}` is defined twice ({} and this file): give one of them another name",
                    shown_name(&found.name),
                    first.repeatable.script().path()
                );
                self.problem(&found.shown, None, message);
                continue;
            }
            match RepeatableMigration::with_name_rule(found.name.clone(), script, rule) {
                Ok(repeatable) => repeatables.push(LoadedRepeatable { repeatable, file: found.path.clone() }),
                Err(Error::Load { errors }) => self.problems.extend(errors.into_iter().map(Problem::other)),
                Err(other) => self.problem(&found.shown, None, other.to_string()),
            }
        }
        repeatables.sort_by(|a, b| a.repeatable.name().cmp(b.repeatable.name()));
        Scan { layout: self.layout, migrations, repeatables, problems: self.problems }
    }

    /// The up script of `version` and its down script, or the problems with them.
    fn pair<'f>(&mut self, version: Version, found: &'f [Found]) -> Option<(&'f Found, Option<&'f Found>)> {
        let ups: Vec<&Found> = found.iter().filter(|f| f.kind == ScriptKind::Up).collect();
        let downs: Vec<&Found> = found.iter().filter(|f| f.kind == ScriptKind::Down).collect();
        let names_pair = self.layout == Layout::Migrator;
        match (ups.as_slice(), downs.as_slice()) {
            ([up], []) => Some((*up, None)),
            ([up], [down]) if !names_pair || down.name == up.name => Some((*up, Some(*down))),
            ([up], downs) if names_pair => {
                for down in downs.iter().filter(|d| d.name != up.name) {
                    let message = format!(
                        "this down script's name does not match its up script {}: rename it to `{version}_{}.down.sql`",
                        up.shown, up.name
                    );
                    self.problem(&down.shown, None, message);
                }
                None
            }
            ([_], downs) => {
                let all: Vec<&str> = downs.iter().map(|d| d.shown.as_str()).collect();
                let first = all.first().copied().unwrap_or_default();
                let message = format!("version {version} has several down scripts ({}): keep one", all.join(", "));
                self.problem(first, None, message);
                None
            }
            ([], downs) => {
                for down in downs {
                    let message = format!(
                        "down script without an up script: add {} or remove this file",
                        self.up_file_name(version, down)
                    );
                    self.problem(&down.shown, None, message);
                }
                None
            }
            (ups, _) => {
                // Only the up scripts conflict: each down script belongs to one of them.
                let mut all = ups.iter().map(|f| f.shown.as_str());
                let first = all.next().unwrap_or_default();
                let others: Vec<&str> = all.collect();
                let message = format!(
                    "version {version} is used by several migrations ({first}, {}): give each a version of its own",
                    others.join(", ")
                );
                self.problem(first, None, message);
                None
            }
        }
    }
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
