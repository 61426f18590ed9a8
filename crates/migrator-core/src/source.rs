//! Where SQL migrations come from: file names, directories, and sets embedded at compile time.
//!
//! The layout is `{version}_{name}.up.sql` with an optional `{version}_{name}.down.sql`, all
//! directly in one directory. The same loader runs inside the `embed_migrations!` macro (at
//! compile time) and at runtime (CLI, tests), so both accept and refuse exactly the same files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::directive::ScriptKind;
use crate::error::{Error, LoadError};
use crate::lint::{self, LintOptions};
use crate::migration::{SqlMigration, check_name};
use crate::script::Script;
use crate::split::Dialect;
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

/// What kind of load problem a [`LoadError`] is, for the lint rule that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    /// A directive line (`unknown-directive`).
    Directive,
    /// Unsplittable SQL (`parse-error`).
    Split,
    /// Anything else (`invalid-migration`).
    Other,
}

/// A load problem with its kind and, when it points into a file, the source line.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) kind: ProblemKind,
    pub(crate) error: LoadError,
    pub(crate) source_line: Option<String>,
}

impl Problem {
    pub(crate) fn other(error: LoadError) -> Problem {
        Problem { kind: ProblemKind::Other, error, source_line: None }
    }
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

/// One script embedded by `embed_migrations!`: path, text and compile-time checksum.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedScript {
    path: &'static str,
    text: &'static str,
    checksum: &'static str,
}

impl EmbeddedScript {
    /// Used by the embed macro: `text` comes from `include_str!`, `checksum` was computed
    /// from it at compile time.
    pub const fn new(path: &'static str, text: &'static str, checksum: &'static str) -> Self {
        EmbeddedScript { path, text, checksum }
    }

    /// The path shown in messages.
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// The script text.
    pub const fn text(&self) -> &'static str {
        self.text
    }
}

/// One migration embedded by `embed_migrations!`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    version: i64,
    name: &'static str,
    up: EmbeddedScript,
    down: Option<EmbeddedScript>,
}

impl EmbeddedMigration {
    /// Used by the embed macro.
    pub const fn new(version: i64, name: &'static str, up: EmbeddedScript, down: Option<EmbeddedScript>) -> Self {
        EmbeddedMigration { version, name, up, down }
    }

    /// The version.
    pub const fn version(&self) -> i64 {
        self.version
    }

    /// The name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The up script.
    pub const fn up(&self) -> &EmbeddedScript {
        &self.up
    }

    /// The down script.
    pub const fn down(&self) -> Option<&EmbeddedScript> {
        self.down.as_ref()
    }

    pub(crate) fn to_sql(self, dialect: Dialect) -> Result<SqlMigration, Error> {
        let version = Version::try_from(self.version)?;
        let up = Script::embedded(ScriptKind::Up, self.up.path, self.up.text, self.up.checksum, dialect)
            .map_err(|errors| Error::Load { errors })?;
        let down = match self.down {
            Some(d) => Some(
                Script::embedded(ScriptKind::Down, d.path, d.text, d.checksum, dialect)
                    .map_err(|errors| Error::Load { errors })?,
            ),
            None => None,
        };
        SqlMigration::new(version, self.name, up, down)
    }
}

/// A migration directory embedded into the binary at compile time by a backend's
/// `embed_migrations!` macro (`migrator_postgres::embed_migrations!("migrations")`).
///
/// It is plain static data: keep it in a `static` and hand it to a `Migrator`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    dialect: Dialect,
    migrations: &'static [EmbeddedMigration],
}

impl EmbeddedMigrations {
    /// Used by the embed macro; `migrations` are in version order.
    pub const fn new(dialect: Dialect, migrations: &'static [EmbeddedMigration]) -> Self {
        EmbeddedMigrations { dialect, migrations }
    }

    /// The SQL dialect the files were checked against.
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The embedded migrations, in version order.
    pub const fn migrations(&self) -> &'static [EmbeddedMigration] {
        self.migrations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_error(file: &str) -> String {
        parse_file_name(file).unwrap().unwrap_err()
    }

    #[test]
    fn file_names() {
        let parsed = parse_file_name("20261120093000_add_users.up.sql").unwrap().unwrap();
        assert_eq!(parsed.version.get(), 20261120093000);
        assert_eq!(parsed.name, "add_users");
        assert_eq!(parsed.kind, ScriptKind::Up);
        assert_eq!(parse_file_name("0002_x.down.sql").unwrap().unwrap().kind, ScriptKind::Down);
        assert!(parse_file_name("README.md").is_none());
        assert!(parse_file_name(".1_x.up.sql").is_none());
        assert!(name_error("1_init.sql").contains("name it `1_init.up.sql`"));
        assert!(name_error("init.up.sql").contains("no `_`"));
        assert!(name_error("x1_init.up.sql").contains("digits only"));
        assert!(name_error("0_init.up.sql").contains("positive"));
        assert!(name_error("1_Init.up.sql").contains("`I` is not allowed"));
        assert!(name_error("1_.up.sql").contains("needs a name"));
    }

    fn write(dir: &Path, name: &str, text: &[u8]) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn loads_a_directory_in_version_order() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "2_b.up.sql", b"CREATE TABLE b ();");
        write(dir.path(), "1_a.up.sql", b"CREATE TABLE a ();");
        write(dir.path(), "1_a.down.sql", b"DROP TABLE a;");
        write(dir.path(), "README.md", b"notes");
        let loaded = load_dir(dir.path(), "migrations", Dialect::Postgres).unwrap();
        let versions: Vec<i64> =
            loaded.iter().map(|l| crate::Migration::<()>::meta(&l.migration).version().get()).collect();
        assert_eq!(versions, vec![1, 2]);
        assert_eq!(loaded[0].migration.up_script().path(), "migrations/1_a.up.sql");
        assert!(loaded[0].down_file.as_ref().unwrap().is_absolute());
        assert_eq!(loaded[1].migration.up_script().path(), "migrations/2_b.up.sql");
        assert!(loaded[1].migration.down_script().is_none());
    }

    #[test]
    fn collects_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "1_a.up.sql", b"SELECT 1;");
        write(dir.path(), "1_b.up.sql", b"SELECT 1;");
        write(dir.path(), "2_c.down.sql", b"SELECT 1;");
        write(dir.path(), "3_d.up.sql", b"   \n");
        write(dir.path(), "4_e.up.sql", b"-- migrator:nope\nSELECT 1;");
        write(dir.path(), "5_f.up.sql", b"SELECT 1;\n\xff\xfe");
        write(dir.path(), "6_g.up.sql", b"SELECT 1;");
        write(dir.path(), "6_h.down.sql", b"SELECT 1;");
        write(dir.path(), "init.sql", b"SELECT 1;");
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        let errors = load_dir(dir.path(), "m", Dialect::Postgres).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let has = |needle: &str| text.iter().any(|t| t.contains(needle));
        assert!(has("m/1_a.up.sql: version 1 is used by several migrations (m/1_a.up.sql, m/1_b.up.sql)"), "{text:#?}");
        assert!(has("m/2_c.down.sql: down script without an up script: add `2_c.up.sql`"), "{text:#?}");
        assert!(has("m/3_d.up.sql: the up script is empty"), "{text:#?}");
        assert!(has("m/4_e.up.sql:1: unknown directive `nope`"), "{text:#?}");
        assert!(has("m/5_f.up.sql:2: the file is not valid UTF-8"), "{text:#?}");
        assert!(
            has(
                "m/6_h.down.sql: this down script's name does not match its up script m/6_g.up.sql: rename it to `6_g.down.sql`"
            ),
            "{text:#?}"
        );
        assert!(has("m/init.sql: `init.sql` is not a migration file name"), "{text:#?}");
        assert!(has("m/nested: unexpected directory"), "{text:#?}");
        assert_eq!(errors.len(), 8, "{text:#?}");
    }

    #[test]
    fn missing_directory() {
        let errors = load_dir(Path::new("/nonexistent/migrations"), "migrations", Dialect::Postgres).unwrap_err();
        assert!(errors[0].to_string().starts_with("migrations: the migrations directory does not exist"), "{errors:?}");
    }

    #[test]
    fn embedded_migrations_convert() {
        const UP: &str = "-- migrator:phase contract\nDROP TABLE t;";
        static SET: &[EmbeddedMigration] = &[EmbeddedMigration::new(
            5,
            "drop_t",
            EmbeddedScript::new("migrations/5_drop_t.up.sql", UP, "sha256:abc"),
            None,
        )];
        let embedded = EmbeddedMigrations::new(Dialect::Postgres, SET);
        let m = embedded.migrations()[0].to_sql(embedded.dialect()).unwrap();
        assert_eq!(m.up_script().checksum().as_str(), "sha256:abc");
        assert_eq!(m.up_script().directives().phase, crate::Phase::Contract);
        assert_eq!(m.up_script().statements().unwrap().len(), 1);
    }

    // ----- properties ---------------------------------------------------------------------

    use proptest::prelude::*;

    /// Runs a property over `cases` generated cases and reports the minimal failing input.
    fn run_property<S: Strategy>(cases: u32, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
        let mut runner = proptest::test_runner::TestRunner::new(config);
        if let Err(e) = runner.run(&strategy, property) {
            panic!("{e}");
        }
    }

    #[test]
    fn prop_valid_file_names_round_trip() {
        let version = prop_oneof![1i64..1000, 1i64..=i64::MAX];
        let kind = prop::sample::select(vec![ScriptKind::Up, ScriptKind::Down]);
        let zeros = prop::sample::select(vec!["", "0", "000"]);
        run_property(2000, (zeros, version, "[a-z0-9_]{1,24}", kind), |(zeros, version, name, kind)| {
            let file = format!("{zeros}{version}_{name}.{}.sql", kind.as_str());
            let parsed = parse_file_name(&file);
            let expected = FileName { version: Version::new(version).unwrap(), name: name.clone(), kind };
            prop_assert_eq!(parsed, Some(Ok(expected)), "{}", file);
            // Hidden files and other extensions are not migrations at all.
            prop_assert_eq!(parse_file_name(&format!(".{file}")), None);
            prop_assert_eq!(parse_file_name(&format!("{file}.bak")), None);
            Ok(())
        });
    }

    /// The invariants of [`parse_file_name`] on any input (the `file_name` fuzz target
    /// checks the same).
    fn check_any_file_name(file: &str) -> Result<(), TestCaseError> {
        let Some(result) = parse_file_name(file) else {
            prop_assert!(file.starts_with('.') || !file.ends_with(".sql"), "{:?} was skipped", file);
            return Ok(());
        };
        prop_assert!(!file.starts_with('.') && file.ends_with(".sql"), "{:?} was not skipped", file);
        let parsed = match result {
            Ok(parsed) => parsed,
            Err(message) => {
                prop_assert!(message.contains(file), "{:?}: {}", file, message);
                return Ok(());
            }
        };
        let (digits, _) = file.split_once('_').unwrap();
        prop_assert!(parsed.version.get() > 0);
        prop_assert_eq!(digits.trim_start_matches('0'), parsed.version.get().to_string());
        prop_assert_eq!(file, format!("{digits}_{}.{}.sql", parsed.name, parsed.kind.as_str()));
        let canonical = format!("{}_{}.{}.sql", parsed.version, parsed.name, parsed.kind.as_str());
        prop_assert_eq!(parse_file_name(&canonical), Some(Ok(parsed)));
        Ok(())
    }

    #[test]
    fn prop_any_file_name_is_consistent() {
        let fragment = prop_oneof![
            4 => prop::sample::select(vec![
                "0", "1", "42", "9223372036854775807", "9223372036854775808", "_", "__", ".", ".up", ".down", ".sql",
                ".up.sql", ".down.sql", "add_users", "a", "Z", "-", " ", "é", "日本", "\u{0}",
            ])
            .prop_map(String::from),
            1 => ".{0,4}",
        ];
        run_property(2000, prop::collection::vec(fragment, 0..8), |parts| check_any_file_name(&parts.concat()));
    }
}
