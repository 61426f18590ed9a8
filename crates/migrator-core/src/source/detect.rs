//! Which layout a migrations directory is in, from its contents (the rules are in
//! [`super::layout`], "Detection").

use crate::migration::check_name;
use crate::split::goose::annotation;

use super::layout::{Layout, flyway_version};
use super::name::{is_ignored, shown_name};
use super::read::{Kind, Listing};

/// What detection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detected {
    /// The layout, and why (for messages).
    Layout(Layout, String),
    /// Files of several layouts: the message lists them.
    Mixed(String),
}

/// Files of one group, for the message about a mixed directory.
struct Group {
    label: &'static str,
    files: Vec<String>,
}

impl Group {
    fn new(label: &'static str) -> Self {
        Group { label, files: Vec::new() }
    }

    fn shown(&self) -> String {
        let mut files: Vec<String> = self.files.iter().take(3).map(|f| format!("`{}`", shown_name(f))).collect();
        if self.files.len() > 3 {
            files.push(format!("and {} more", self.files.len() - 3));
        }
        format!("{} ({})", self.label, files.join(", "))
    }
}

fn mixed(groups: &[&Group], why: &str) -> Detected {
    let listed: Vec<String> = groups.iter().filter(|g| !g.files.is_empty()).map(|g| g.shown()).collect();
    Detected::Mixed(format!(
        "this directory {why}: {}; keep one tool's migrations per directory, or name the layout to read it with \
         (`--layout`, or `layout = …` in embed_migrations!; the layouts are {})",
        listed.join("; "),
        Layout::ids()
    ))
}

/// `V{version}__…` or `U{version}__…`: the prefix, the version as written and the rest.
fn versioned(name: &str) -> Option<(char, &str, &str)> {
    let prefix = name.chars().next().filter(|c| matches!(c, 'V' | 'U'))?;
    let (version, rest) = name.get(1..)?.split_once("__")?;
    let versionish = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'_');
    versionish.then_some((prefix, version, rest))
}

/// Whether `text` has a goose annotation line (`-- +goose Up`, or one goose would refuse).
fn has_goose_annotation(text: &str) -> bool {
    crate::directive::lines(text).any(|line| annotation(line).is_some())
}

/// Whether `text` has refinery's `-- refinery:noTransaction` line.
pub(crate) fn has_refinery_no_transaction(text: &str) -> bool {
    crate::directive::lines(text).any(|line| {
        let dashes = line.len() - line.trim_start_matches('-').len();
        let rest = line.get(dashes..).unwrap_or("");
        let rest = rest.strip_prefix(|c: char| c.is_whitespace()).unwrap_or(rest);
        dashes >= 2 && rest == "refinery:noTransaction"
    })
}

/// Detects the layout of a listed directory.
pub(crate) fn detect(listing: &Listing) -> Detected {
    let mut diesel = Group::new("diesel");
    let mut versioned_files = Group::new("Flyway or refinery");
    let mut repeatables = Group::new("Flyway or migrator");
    let mut reversible = Group::new("migrator, sqlx or golang-migrate");
    let mut plain = Group::new("sqlx");
    let mut goose = Group::new("goose");
    let mut flyway_why: Vec<String> = Vec::new();
    let mut refinery_why: Vec<String> = Vec::new();
    let mut sqlx_marker: Option<String> = None;
    let mut repeatable_names_fit = true;
    // (prefix, version as migrator reads Flyway's, file) of V and U files.
    let mut scripts: Vec<(char, Option<i64>, String)> = Vec::new();
    let text = |index: usize| listing.text(index).and_then(|t| t.as_ref().ok()).map(String::as_str);
    let in_diesel_dir = |mut parent: Option<usize>| {
        while let Some(at) = parent {
            let entry = listing.entries.get(at);
            if entry.is_some_and(|e| e.depth == 0) {
                return listing.has_up_sql(at);
            }
            parent = entry.and_then(|e| e.parent);
        }
        false
    };
    for (index, entry) in listing.entries.iter().enumerate() {
        let name = entry.name.as_str();
        if is_ignored(name) {
            continue;
        }
        match entry.kind {
            Kind::Dir if entry.depth == 0 && listing.has_up_sql(index) => diesel.files.push(format!("{name}/")),
            Kind::File => {}
            _ => continue,
        }
        if entry.kind != Kind::File || in_diesel_dir(entry.parent) {
            continue;
        }
        if let Some(repeatable) = name.strip_prefix("R__").and_then(|n| n.strip_suffix(".sql")) {
            repeatable_names_fit &= check_name(repeatable).is_ok();
            repeatables.files.push(entry.rel.clone());
        } else if let Some((prefix, version, rest)) = versioned(name) {
            versioned_files.files.push(entry.rel.clone());
            if rest.ends_with(".sql.conf") {
                flyway_why.push(format!("`{}` configures a Flyway script", shown_name(&entry.rel)));
            } else if rest.ends_with(".rs") {
                refinery_why.push(format!("`{}` is a refinery Rust migration", shown_name(&entry.rel)));
            } else if let Some(description) = rest.strip_suffix(".sql") {
                if version.contains(['.', '_']) {
                    flyway_why.push(format!("`{}` has a dotted version", shown_name(&entry.rel)));
                }
                if description.is_empty() || !description.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    flyway_why.push(format!("`{}` has a name refinery refuses", shown_name(&entry.rel)));
                }
                if text(index).is_some_and(has_refinery_no_transaction) {
                    refinery_why.push(format!("`{}` has refinery's noTransaction line", shown_name(&entry.rel)));
                }
                scripts.push((prefix, flyway_version(version).ok().map(|v| v.get()), entry.rel.clone()));
            }
        } else if entry.depth == 0
            && name.starts_with(|c: char| c.is_ascii_digit())
            && name.split_once('_').is_some_and(|(digits, _)| digits.bytes().all(|b| b.is_ascii_digit()))
        {
            let lower = name.to_ascii_lowercase();
            // `1_a.UP.sql` is a misspelt migrator file (sqlx would run it as a simple migration
            // named `a.UP`): migrator's layout says to lowercase it.
            if lower.ends_with(".up.sql") || lower.ends_with(".down.sql") {
                if sqlx_marker.is_none() && text(index).is_some_and(|t| t.starts_with("-- no-transaction")) {
                    sqlx_marker = Some(entry.rel.clone());
                }
                reversible.files.push(entry.rel.clone());
            } else if name.ends_with(".sql") {
                if text(index).is_some_and(has_goose_annotation) {
                    goose.files.push(entry.rel.clone());
                } else {
                    plain.files.push(entry.rel.clone());
                }
            } else if name.ends_with(".go") {
                goose.files.push(entry.rel.clone());
            }
        }
    }
    for (_, number, file) in scripts.iter().filter(|(prefix, ..)| *prefix == 'U') {
        if number.is_some() && scripts.iter().any(|(p, n, _)| *p == 'V' && n == number) {
            flyway_why.push(format!("`{}` undoes a `V` migration", shown_name(file)));
        } else {
            refinery_why.push(format!("`{}` has no `V` migration of its version", shown_name(file)));
        }
    }
    let numbered = [&reversible, &plain, &goose];
    let families =
        [!diesel.files.is_empty(), !versioned_files.files.is_empty(), numbered.iter().any(|g| !g.files.is_empty())];
    if families.iter().filter(|f| **f).count() > 1 {
        return mixed(
            &[&diesel, &versioned_files, &reversible, &plain, &goose, &repeatables],
            "holds the migrations of several tools",
        );
    }
    let found = |layout: Layout, why: String| Detected::Layout(layout, why);
    if !diesel.files.is_empty() {
        if !repeatables.files.is_empty() {
            return mixed(&[&diesel, &repeatables], "holds the migrations of several tools");
        }
        return found(
            Layout::Diesel,
            format!("{} holds `up.sql`", diesel.files.first().map(|f| format!("`{f}`")).unwrap_or_default()),
        );
    }
    if !versioned_files.files.is_empty() {
        if let Some(first) = repeatables.files.first() {
            flyway_why.push(format!("`{}` is a repeatable migration", shown_name(first)));
        }
        return match (flyway_why.first(), refinery_why.first()) {
            (Some(flyway), Some(refinery)) => Detected::Mixed(format!(
                "this directory holds files only Flyway reads ({flyway}) beside files only refinery reads \
                 ({refinery}): keep one tool's migrations per directory, or name the layout to read it with \
                 (`--layout flyway` or `--layout refinery`, or `layout = …` in embed_migrations!)"
            )),
            (Some(flyway), None) => found(Layout::Flyway, flyway.clone()),
            (None, Some(refinery)) => found(Layout::Refinery, refinery.clone()),
            (None, None) => found(Layout::Refinery, "its `V…__` files are refinery's and Flyway's alike".to_owned()),
        };
    }
    if numbered.iter().any(|g| !g.files.is_empty()) {
        let other_tool = if goose.files.is_empty() { None } else { Some(Layout::Goose) };
        let layout = match other_tool {
            Some(goose_layout) if reversible.files.is_empty() => goose_layout,
            Some(_) => return mixed(&[&reversible, &goose, &plain], "holds the migrations of several tools"),
            None if reversible.files.is_empty() || sqlx_marker.is_some() => Layout::Sqlx,
            None => Layout::Migrator,
        };
        if layout != Layout::Migrator && !repeatables.files.is_empty() {
            let group = if layout == Layout::Goose { &goose } else { &plain };
            return mixed(&[group, &reversible, &repeatables], "holds the migrations of several tools");
        }
        let why = match layout {
            Layout::Goose => {
                format!("`{}` has goose annotations", goose.files.first().map(|f| shown_name(f)).unwrap_or_default())
            }
            Layout::Sqlx => match &sqlx_marker {
                Some(file) => format!("`{}` starts with sqlx's `-- no-transaction`", shown_name(file)),
                None => "its `{version}_{name}.sql` files are sqlx's".to_owned(),
            },
            _ => "its `.up.sql` files are migrator's".to_owned(),
        };
        return found(layout, why);
    }
    if !repeatables.files.is_empty() && !repeatable_names_fit {
        return found(Layout::Flyway, "its `R__` names are Flyway's".to_owned());
    }
    found(Layout::Migrator, "migrator's layout is the default".to_owned())
}
