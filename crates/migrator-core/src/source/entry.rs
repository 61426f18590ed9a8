//! File names in each layout (see [`super::layout`] for the rules).

use crate::directive::ScriptKind;
use crate::migration::{check_layout_name, check_name};
use crate::version::Version;

use super::layout::{Layout, flyway_version};
use super::name::{is_ignored, mentions_sql, parse_file_name, shown_name};

/// What a file of a migrations directory is, in a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutFile {
    /// A script of a versioned migration: its up or down script.
    Script {
        /// The version, mapped to migrator's.
        version: Version,
        /// The name, as the file name writes it.
        name: String,
        /// Up or down.
        kind: ScriptKind,
    },
    /// A goose file: the up and down scripts of one migration, in sections.
    Sections {
        /// The version.
        version: Version,
        /// The name.
        name: String,
    },
    /// A repeatable migration, `R__{name}.sql`.
    Repeatable {
        /// The name.
        name: String,
    },
    /// A Flyway script configuration file: `{script}.conf`.
    ScriptConfig {
        /// The file name of the script it configures.
        script: String,
    },
}

/// Parses the name of a file of a migrations directory in `layout` (for diesel, a file
/// directly in the directory: its migrations are directories, see [`parse_diesel_dir`]).
///
/// `None` for a file that is not a migration (hidden files, editor leftovers, a README);
/// an error, quoting the file name, for a file that looks like a migration but does not follow
/// the layout, or that the tool would run but migrator cannot.
pub fn parse_layout_file_name(layout: Layout, file: &str) -> Option<Result<LayoutFile, String>> {
    if is_ignored(file) {
        return None;
    }
    match layout {
        Layout::Migrator => migrator(file),
        Layout::Sqlx => sqlx(file),
        Layout::GolangMigrate => golang_migrate(file),
        Layout::Goose => goose(file),
        Layout::Refinery => refinery(file),
        Layout::Flyway => flyway(file),
        Layout::Diesel => mentions_sql(file).then(|| {
            Err(format!(
                "`{}` is not read: diesel's migrations are directories `{{version}}_{{name}}/` holding `up.sql` and \
                 `down.sql`; move it into one, or out of the migrations directory",
                shown_name(file)
            ))
        }),
    }
}

/// Parses a diesel migration directory's name, `{version}_{name}`: its migrator version
/// ([`super::diesel_version`]) and name.
pub fn parse_diesel_dir(dir: &str) -> Result<(Version, String), String> {
    let shown = shown_name(dir);
    let Some((version, name)) = dir.split_once('_') else {
        return Err(format!(
            "`{shown}/` has no `_` between version and name: diesel's migration directories are `{{version}}_{{name}}`"
        ));
    };
    let version = super::layout::diesel_version(version).map_err(|message| format!("`{shown}/`: {message}"))?;
    check_layout_name(name).map_err(|message| format!("`{shown}/`: {message}"))?;
    Ok((version, name.to_owned()))
}

/// A message about `file` that does not follow `layout`'s naming.
fn misnamed(file: &str, layout: Layout, expected: &str) -> Option<Result<LayoutFile, String>> {
    Some(Err(format!(
        "`{}` looks like a migration script but is not {}'s: {} reads {expected}; rename it, or move it out of the \
         migrations directory (hidden files and editor backups ending in `~` are ignored)",
        shown_name(file),
        layout.tool(),
        layout.tool()
    )))
}

/// `{version}_{rest}` split at the first `_`, with the version's digits checked.
fn numbered<'f>(file: &'f str, stem: &'f str, layout: Layout) -> Result<(Version, &'f str), String> {
    let shown = shown_name(file);
    let Some((digits, name)) = stem.split_once('_') else {
        return Err(format!(
            "`{shown}` has no `_` between version and name: {} names migrations `{{version}}_{{name}}`",
            layout.tool()
        ));
    };
    let version = Version::parse_digits(digits).map_err(|message| format!("`{shown}`: {}", shown_name(&message)))?;
    check_layout_name(name).map_err(|message| format!("`{shown}`: {}", shown_name(&message)))?;
    Ok((version, name))
}

fn script(version: Version, name: &str, kind: ScriptKind) -> LayoutFile {
    LayoutFile::Script { version, name: name.to_owned(), kind }
}

fn migrator(file: &str) -> Option<Result<LayoutFile, String>> {
    if let Some(name) = file.strip_prefix("R__").and_then(|rest| rest.strip_suffix(".sql")) {
        return Some(
            check_name(name)
                .map(|()| LayoutFile::Repeatable { name: name.to_owned() })
                .map_err(|message| format!("`{}`: {}", shown_name(file), shown_name(&message))),
        );
    }
    let parsed = parse_file_name(file)?;
    Some(parsed.map(|p| LayoutFile::Script { version: p.version, name: p.name, kind: p.kind }))
}

fn sqlx(file: &str) -> Option<Result<LayoutFile, String>> {
    if !mentions_sql(file) {
        return None;
    }
    let Some(stem) = file.strip_suffix(".sql") else {
        return misnamed(file, Layout::Sqlx, "`{version}_{description}.sql` (and `.up.sql`, `.down.sql`)");
    };
    let (stem, kind) = match (stem.strip_suffix(".up"), stem.strip_suffix(".down")) {
        (Some(stem), _) => (stem, ScriptKind::Up),
        (_, Some(stem)) => (stem, ScriptKind::Down),
        // A simple migration: no down script.
        _ => (stem, ScriptKind::Up),
    };
    Some(numbered(file, stem, Layout::Sqlx).map(|(version, name)| script(version, name, kind)))
}

fn golang_migrate(file: &str) -> Option<Result<LayoutFile, String>> {
    if !mentions_sql(file) {
        return None;
    }
    let (stem, kind) = match (file.strip_suffix(".up.sql"), file.strip_suffix(".down.sql")) {
        (Some(stem), _) => (stem, ScriptKind::Up),
        (_, Some(stem)) => (stem, ScriptKind::Down),
        _ => return misnamed(file, Layout::GolangMigrate, "`{version}_{title}.up.sql` and `.down.sql`"),
    };
    Some(numbered(file, stem, Layout::GolangMigrate).map(|(version, name)| script(version, name, kind)))
}

fn goose(file: &str) -> Option<Result<LayoutFile, String>> {
    if let Some(stem) = file.strip_suffix(".go")
        && stem
            .split_once('_')
            .is_some_and(|(digits, _)| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(Err(format!(
            "`{}` is a goose migration written in Go, which migrator cannot run: write it as SQL (a goose `.sql` \
             file) or as a Rust migration (`RustMigration`) with the same version",
            shown_name(file)
        )));
    }
    if !mentions_sql(file) {
        return None;
    }
    let Some(stem) = file.strip_suffix(".sql") else {
        return misnamed(file, Layout::Goose, "`{version}_{name}.sql`");
    };
    Some(
        numbered(file, stem, Layout::Goose)
            .map(|(version, name)| LayoutFile::Sections { version, name: name.to_owned() }),
    )
}

/// `V{n}__{name}` / `U{n}__{name}` of refinery's Rust migrations (`.rs`) and SQL ones.
fn refinery_stem(stem: &str) -> Option<(char, &str, &str)> {
    let prefix = stem.chars().next().filter(|c| matches!(c, 'V' | 'U'))?;
    let (version, name) = stem.get(1..)?.split_once("__")?;
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.')).then_some((prefix, version, name))
}

fn refinery(file: &str) -> Option<Result<LayoutFile, String>> {
    let shown = shown_name(file);
    if let Some(stem) = file.strip_suffix(".rs")
        && refinery_stem(stem).is_some()
    {
        return Some(Err(format!(
            "`{shown}` is a refinery migration written in Rust, which migrator does not read from the directory: port \
             it to a Rust migration of migrator (`RustMigration`) with the same version"
        )));
    }
    if !mentions_sql(file) {
        return None;
    }
    if file.starts_with("R__") {
        return Some(Err(format!(
            "`{shown}`: refinery has no repeatable migrations (`R__` is Flyway's): if this directory is Flyway's, \
             read it with {}",
            Layout::Flyway.how_to_name()
        )));
    }
    let expected = "`V{version}__{name}.sql` (and `U{version}__{name}.sql`, unversioned)";
    let Some((_, version, name)) = file.strip_suffix(".sql").and_then(refinery_stem) else {
        return misnamed(file, Layout::Refinery, expected);
    };
    if version.contains('.') {
        return Some(Err(format!(
            "`{shown}`: refinery's versions are integers (it refuses `{version}`); Flyway's dotted versions are \
             read with {}",
            Layout::Flyway.how_to_name()
        )));
    }
    // refinery's versions are `i32`, or `i64` with its `int8-versions` feature.
    let version = match Version::parse_digits(version) {
        Ok(version) => version,
        Err(message) => return Some(Err(format!("`{shown}`: {}", shown_name(&message)))),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Some(Err(format!(
            "`{shown}`: refinery's names are letters, digits and `_` (it ignores this file); rename it, or read the \
             directory as Flyway's with {}",
            Layout::Flyway.how_to_name()
        )));
    }
    // `U` is refinery's unversioned migration: an ordinary one here.
    Some(Ok(script(version, name, ScriptKind::Up)))
}

fn flyway(file: &str) -> Option<Result<LayoutFile, String>> {
    let shown = shown_name(file);
    if let Some(script) = file.strip_suffix(".conf").filter(|s| s.ends_with(".sql")) {
        return Some(Ok(LayoutFile::ScriptConfig { script: script.to_owned() }));
    }
    if !mentions_sql(file) {
        return None;
    }
    let expected = "`V{version}__{description}.sql`, `U{version}__{description}.sql` (undo) and \
                    `R__{description}.sql` (repeatable)";
    let Some(stem) = file.strip_suffix(".sql") else {
        return misnamed(file, Layout::Flyway, expected);
    };
    if stem.starts_with("before") || stem.starts_with("after") {
        return Some(Err(format!(
            "`{shown}` is a Flyway callback, which migrator does not run: move what it does into a migration (a \
             repeatable `R__` one, if it must run on every change), or out of the migrations directory"
        )));
    }
    let Some(prefix) = stem.chars().next().filter(|c| matches!(c, 'V' | 'U' | 'R' | 'B')) else {
        return misnamed(file, Layout::Flyway, expected);
    };
    let rest = stem.get(1..).unwrap_or_default();
    let (version, description) = rest.split_once("__").unwrap_or((rest, ""));
    let named = |description: &str| {
        check_layout_name(description).map_err(|message| format!("`{shown}`: {}", shown_name(&message)))
    };
    let kind = match prefix {
        'R' if !version.is_empty() => {
            return Some(Err(format!(
                "`{shown}`: a Flyway repeatable migration has no version: name it `R__{}.sql`",
                shown_name(description)
            )));
        }
        'R' => return Some(named(description).map(|()| LayoutFile::Repeatable { name: description.to_owned() })),
        'B' => {
            return Some(Err(format!(
                "`{shown}` is a Flyway baseline migration, which migrator does not read: keep the migrations it \
                 replaces, or start the history with `migrator baseline`"
            )));
        }
        'U' => ScriptKind::Down,
        _ => ScriptKind::Up,
    };
    if version.is_empty() {
        return misnamed(file, Layout::Flyway, expected);
    }
    let version = match flyway_version(version) {
        Ok(version) => version,
        Err(message) => return Some(Err(format!("`{shown}`: {}", shown_name(&message)))),
    };
    Some(named(description).map(|()| script(version, description, kind)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse(layout: Layout, file: &str) -> LayoutFile {
        parse_layout_file_name(layout, file).unwrap().unwrap()
    }

    fn error(layout: Layout, file: &str) -> String {
        parse_layout_file_name(layout, file).unwrap().unwrap_err()
    }

    fn v(n: i64) -> Version {
        Version::new(n).unwrap()
    }

    #[test]
    fn each_layout_reads_its_own_names() {
        let up = |n, name: &str| LayoutFile::Script { version: v(n), name: name.to_owned(), kind: ScriptKind::Up };
        let down = |n, name: &str| LayoutFile::Script { version: v(n), name: name.to_owned(), kind: ScriptKind::Down };
        assert_eq!(parse(Layout::Migrator, "1_a.up.sql"), up(1, "a"));
        assert_eq!(parse(Layout::Migrator, "R__views.sql"), LayoutFile::Repeatable { name: "views".to_owned() });
        assert!(error(Layout::Migrator, "R__Views.sql").contains("`V` is not allowed"));
        assert_eq!(parse(Layout::Sqlx, "20200101_Create Users.sql"), up(20200101, "Create Users"));
        assert_eq!(parse(Layout::Sqlx, "2_add-x.up.sql"), up(2, "add-x"));
        assert_eq!(parse(Layout::Sqlx, "2_add-x.down.sql"), down(2, "add-x"));
        assert_eq!(parse(Layout::GolangMigrate, "000001_create-users.down.sql"), down(1, "create-users"));
        assert!(error(Layout::GolangMigrate, "1_a.sql").contains("golang-migrate reads"));
        assert_eq!(
            parse(Layout::Goose, "00002_add_users.sql"),
            LayoutFile::Sections { version: v(2), name: "add_users".into() }
        );
        assert!(error(Layout::Goose, "00003_backfill.go").contains("written in Go"));
        assert!(parse_layout_file_name(Layout::Goose, "main.go").is_none());
        assert_eq!(parse(Layout::Refinery, "V1__initial.sql"), up(1, "initial"));
        assert_eq!(parse(Layout::Refinery, "U4__Merge_Late.sql"), up(4, "Merge_Late"));
        assert!(error(Layout::Refinery, "V3__backfill.rs").contains("written in Rust"));
        assert!(error(Layout::Refinery, "V1.1__a.sql").contains("integers"));
        assert!(error(Layout::Refinery, "V1__add-users.sql").contains("letters, digits and `_`"));
        assert!(error(Layout::Refinery, "R__views.sql").contains("`R__` is Flyway's"));
        assert!(error(Layout::Refinery, "V0__a.sql").contains("positive"));
        assert_eq!(parse(Layout::Flyway, "V1__Create_users.sql"), up(1, "Create_users"));
        assert_eq!(parse(Layout::Flyway, "V2.0__x.sql"), up(2, "x"));
        assert_eq!(parse(Layout::Flyway, "U1__Undo it.sql"), down(1, "Undo it"));
        assert_eq!(parse(Layout::Flyway, "R__My views.sql"), LayoutFile::Repeatable { name: "My views".into() });
        assert_eq!(parse(Layout::Flyway, "V1__a.sql.conf"), LayoutFile::ScriptConfig { script: "V1__a.sql".into() });
        assert!(error(Layout::Flyway, "V1.1__a.sql").contains("has no migrator version"));
        assert!(error(Layout::Flyway, "beforeMigrate.sql").contains("callback"));
        assert!(error(Layout::Flyway, "B5__baseline.sql").contains("baseline"));
        assert!(error(Layout::Flyway, "R1__x.sql").contains("has no version"));
        assert!(error(Layout::Flyway, "V1.sql").contains("needs a name"));
        assert!(error(Layout::Flyway, "create.sql").contains("is not Flyway's"));
        assert!(error(Layout::Diesel, "1_a.up.sql").contains("diesel's migrations are directories"));
        for layout in Layout::ALL {
            assert!(parse_layout_file_name(layout, "README.md").is_none(), "{layout}");
            assert!(parse_layout_file_name(layout, ".V1__a.sql.swp").is_none(), "{layout}");
            assert!(parse_layout_file_name(layout, "1_a.up.sql~").is_none(), "{layout}");
        }
    }

    #[test]
    fn diesel_directories() {
        assert_eq!(
            parse_diesel_dir("2019-02-26-002946_create_users").unwrap(),
            (v(201902260029460000), "create_users".into())
        );
        assert_eq!(
            parse_diesel_dir("00000000000000_diesel_initial_setup").unwrap(),
            (v(1), "diesel_initial_setup".into())
        );
        assert!(parse_diesel_dir("2019-02-26-002946").unwrap_err().contains("no `_`"));
        assert!(parse_diesel_dir("1_x").unwrap_err().contains("diesel's versions are"));
        assert!(parse_diesel_dir("2019-02-26-002946_").unwrap_err().contains("needs a name"));
    }
}
