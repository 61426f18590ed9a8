//! The safety linter: production hazards of schema change, found before a migration ships.
//!
//! Every rule of the catalogue ([`RULES`]) has a stable id, a level per dialect
//! ([`Level::Fatal`], [`Level::Deny`], [`Level::Warn`]), the hazard and the safe
//! alternative. The same engine runs in three places:
//!
//! * `embed_migrations!` at compile time: fatal and deny findings are compile errors;
//! * runtime loading ([`crate::source::load_dir`], [`crate::MigrationSet::from_dir`]): fatal
//!   findings are refused (the migration would fail or silently misbehave), deny findings are
//!   not (a history with old hazards must still apply);
//! * this module's functions, for tools, tests and `migrator lint`: every finding, warnings
//!   and unused allows included.
//!
//! ```
//! use migrator_core::Dialect;
//! use migrator_core::lint::{LintOptions, Setting, lint_dir};
//!
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("1_add_index.up.sql"), "CREATE INDEX users_email ON users (email);\n")?;
//! let options = LintOptions::new().with_level("missing-down", Setting::Off)?;
//! let report = lint_dir(dir.path(), Dialect::Postgres, &options);
//! let rules: Vec<&str> = report.findings().iter().map(|f| f.rule).collect();
//! assert_eq!(rules, ["index-not-concurrent"]);
//! assert!(report.has_failures());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design
//!
//! The rules are token patterns over the statements of our own splitter ([`crate::split`]),
//! not a SQL parser. The splitter already knows every construct that hides a `;` (quotes,
//! dollar quotes, `BEGIN ATOMIC`, MySQL compound bodies), so each statement the linter sees is
//! a real top-level statement with its position, and a function body is never mistaken for
//! statements. A rule needs a statement's leading keywords and a few clauses (`CONCURRENTLY`,
//! `NOT VALID`, `DEFAULT …`, `ALGORITHM=…`), which tokens give exactly, on both dialects, for
//! statements no general parser accepts (`DETACH PARTITION … CONCURRENTLY`, MySQL procedures,
//! `ALTER TABLE … ALGORITHM=INSTANT`). The macro keeps a small dependency graph, and the lint
//! of 1,000 statements takes about a millisecond.
//!
//! Two pieces of state make the rules precise:
//!
//! * per migration: the tables, views and indexes it creates. Statements on those are exempt
//!   from the locking and expand/contract rules: an empty new table has nobody to block.
//! * per set: a small schema model fed by every migration in version order (also those older
//!   than "lint from"): column types, nullability and validated `CHECK (col IS NOT NULL)`
//!   constraints. It tells `varchar(50)` → `varchar(100)` (no rewrite) from `int` → `bigint`
//!   (a rewrite), and a `SET NOT NULL` backed by a validated check from one that scans. A
//!   table the migrations did not create is unknown, and a type change on it is reported,
//!   saying so.
//!
//! Down scripts are checked for fatal rules only: undoing is destructive by nature.
//!
//! # Acknowledging a finding
//!
//! `-- migrator:allow <rule>[, <rule>] -- <reason>` at the top of an up script silences the
//! deny and warn findings of those rules in that migration; they stay in the report with
//! [`Finding::allowed`] set. Fatal findings cannot be allowed. An allow that silences nothing
//! (an unknown rule, a rule of another dialect, a fatal rule, or no matching finding) is an
//! `unused-allow` warning.

mod check;
pub mod explain;
mod finding;
mod rules;
mod schema;
mod tokens;

use std::collections::HashSet;
use std::path::Path;

use crate::dialect::Dialect;
use crate::error::{Error, LoadError};
use crate::error::{Problem, ProblemKind};
use crate::migration::RepeatableMigration;
use crate::migration::{Migration, SqlMigration};
use crate::script::Script;
use crate::source::layout::Layout;
use crate::source::scan::{LoadedDir, LoadedMigration, LoadedRepeatable, scan_layout};
use crate::version::{Phase, Version};

pub use finding::{Finding, LintReport};
pub use rules::{Level, RULES, Rule, rule};

use crate::split::{Lines, write_source};
use check::{Raw, ScriptInput, check_script};
use schema::Schema;

/// A rule's level as set by an option: raised to deny, lowered to warn, or turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// Not reported.
    Off,
    /// Reported, never fails a build.
    Warn,
    /// Fails a build unless allowed.
    Deny,
}

impl Setting {
    /// `off`, `warn` or `deny`, as the options are written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Setting::Off => "off",
            Setting::Warn => "warn",
            Setting::Deny => "deny",
        }
    }
}

/// What to lint and at which levels: the "lint from" version and level options.
///
/// Built once, then passed by reference:
///
/// ```
/// use migrator_core::Version;
/// use migrator_core::lint::{LintOptions, Setting};
///
/// let options = LintOptions::new()
///     .with_lint_from(Version::new(20261101000000).unwrap())
///     .with_level("prefer-text", Setting::Deny)?
///     .with_level("mixed-ddl-dml", Setting::Off)?;
/// assert_eq!(options.setting("prefer-text"), Some(Setting::Deny));
/// assert!(options.clone().with_level("transaction-control", Setting::Off).is_err());
/// // Two levels for one rule contradict each other.
/// assert!(options.clone().with_level("prefer-text", Setting::Off).is_err());
/// # Ok::<(), migrator_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintOptions {
    lint_from: Option<Version>,
    settings: Vec<(&'static str, Setting)>,
}

impl LintOptions {
    /// Every migration linted, every rule at its own level.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lints only migrations whose version is `version` or newer: older ones have shipped,
    /// and a new rule must never break an applied migration. They still feed the schema
    /// model, so later migrations are judged against the tables they built.
    pub fn with_lint_from(mut self, version: Version) -> Self {
        self.lint_from = Some(version);
        self
    }

    /// Sets the level of a rule. Fails for an unknown rule, for a rule that is fatal in every
    /// dialect (its findings mean the migration cannot work, so they can't be lowered), and for
    /// a rule already set to another level (`deny(x)` and `off(x)` together contradict each
    /// other; neither silently wins). Setting the same level twice is harmless. A rule that is
    /// fatal in one dialect only (`identifier-too-long` on MySQL) keeps its fatal level there.
    pub fn with_level(mut self, rule_id: &str, setting: Setting) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidOption { option: "lint rule", value: rule_id.to_owned(), reason };
        let Some(rule) = rule(rule_id) else {
            let reason = match rules::closest(rule_id) {
                Some(close) => format!("there is no such rule: did you mean `{close}`?"),
                None => "there is no such rule: the rule ids are listed in the README's linter section".to_owned(),
            };
            return Err(invalid(reason));
        };
        if rule.always_fatal() {
            return Err(invalid(
                "it is fatal (the migration cannot work as written), so its level cannot be changed".to_owned(),
            ));
        }
        match self.setting(rule.id) {
            None => self.settings.push((rule.id, setting)),
            Some(same) if same == setting => {}
            Some(other) => {
                return Err(invalid(format!(
                    "it is set both to {} and to {}: keep one level for each rule",
                    other.as_str(),
                    setting.as_str()
                )));
            }
        }
        Ok(self)
    }

    /// The "lint from" version, if any.
    pub fn lint_from(&self) -> Option<Version> {
        self.lint_from
    }

    /// The level option for a rule, if one was set.
    pub fn setting(&self, rule_id: &str) -> Option<Setting> {
        self.settings.iter().find(|(id, _)| *id == rule_id).map(|(_, setting)| *setting)
    }

    /// The level of `rule`'s findings in `dialect` with these options; `None` when the rule
    /// does not apply there or is off. Fatal stays fatal.
    pub fn level(&self, rule: &Rule, dialect: Dialect) -> Option<Level> {
        let base = rule.level(dialect)?;
        if base == Level::Fatal {
            return Some(base);
        }
        match self.setting(rule.id) {
            Some(Setting::Off) => None,
            Some(Setting::Warn) => Some(Level::Warn),
            Some(Setting::Deny) => Some(Level::Deny),
            None => Some(base),
        }
    }

    fn lints(&self, version: Version) -> bool {
        self.lint_from.is_none_or(|from| version >= from)
    }
}

/// A directory loaded and linted: the migrations that loaded, the problems of those that
/// did not, and the lint findings. The embed macro and runtime loading are built on it.
#[derive(Debug)]
pub struct DirLint {
    layout: Layout,
    migrations: Vec<LoadedMigration>,
    repeatables: Vec<LoadedRepeatable>,
    problems: Vec<Problem>,
    findings: LintReport,
}

impl DirLint {
    /// The layout the directory was read with (detected, or as named).
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The repeatable migrations that loaded, in name order.
    pub fn repeatables(&self) -> &[LoadedRepeatable] {
        &self.repeatables
    }

    /// The migrations that loaded, in version order.
    pub fn migrations(&self) -> &[LoadedMigration] {
        &self.migrations
    }

    /// The files that could not be loaded, and why.
    pub fn load_errors(&self) -> impl Iterator<Item = &LoadError> + '_ {
        self.problems.iter().map(|p| &p.error)
    }

    /// Each load error as people read it: `file:line:column: message`, then, when it points
    /// into a file, an excerpt of the line (at most about 120 characters) with a caret
    /// under the column. The embed macro and `migrator validate` print these.
    pub fn described_load_errors(&self) -> impl Iterator<Item = String> + '_ {
        self.problems.iter().map(|problem| {
            let mut text = problem.error.to_string();
            if let (Some(source), Some(line)) = (&problem.source, problem.error.line) {
                // Writing to a String cannot fail.
                let _ = write_source(&mut text, line, source, problem.caret);
            }
            text
        })
    }

    /// The lint findings of the migrations that loaded.
    pub fn findings(&self) -> &LintReport {
        &self.findings
    }

    /// Everything as one report: each load error as a fatal finding (`unknown-directive`,
    /// `parse-error` or `invalid-migration`), then the lint findings.
    pub fn report(&self) -> LintReport {
        let mut findings: Vec<Finding> = self.problems.iter().map(load_finding).collect();
        findings.extend(self.findings.findings().iter().cloned());
        LintReport::new(findings)
    }

    /// The runtime rule: the migrations, unless a file failed to load or a finding is fatal.
    pub fn into_migrations(self) -> Result<Vec<LoadedMigration>, Vec<LoadError>> {
        let mut errors: Vec<LoadError> = self.problems.into_iter().map(|p| p.error).collect();
        errors.extend(self.findings.findings().iter().filter(|f| f.level == Level::Fatal).map(|f| LoadError {
            path: f.file.clone(),
            line: Some(f.line),
            column: Some(f.column),
            message: format!("{} ({}): {}", f.message, f.rule, f.help),
        }));
        if errors.is_empty() { Ok(self.migrations) } else { Err(errors) }
    }

    /// [`DirLint::into_migrations`], with the repeatable migrations and the layout.
    pub fn into_loaded(mut self) -> Result<LoadedDir, Vec<LoadError>> {
        let layout = self.layout;
        let repeatables = std::mem::take(&mut self.repeatables);
        self.into_migrations().map(|migrations| LoadedDir { layout, migrations, repeatables })
    }
}

fn load_finding(problem: &Problem) -> Finding {
    let rule = match problem.kind {
        ProblemKind::Directive => &rules::UNKNOWN_DIRECTIVE,
        ProblemKind::Split => &rules::PARSE_ERROR,
        ProblemKind::Other => &rules::INVALID_MIGRATION,
    };
    let error = &problem.error;
    // A problem inside a file has a line (and a column, or the line's start); one about a
    // file name or the directory has no place in a file.
    let (line, column) = match error.line {
        Some(line) => (line, error.column.unwrap_or(1)),
        None => (0, 0),
    };
    Finding {
        rule: rule.id,
        level: Level::Fatal,
        file: error.path.clone(),
        line,
        column,
        message: error.message.clone(),
        help: rule.help.to_owned(),
        allowed: false,
        source_line: problem.source.clone(),
        source_column: problem.caret.unwrap_or(column),
    }
}

/// Loads and lints `dir`, in the layout detected there. `display` names the directory in
/// findings (as written by the user, such as `migrations`).
pub fn check_dir(dir: &Path, display: &str, dialect: Dialect, options: &LintOptions) -> DirLint {
    check_dir_with_layout(dir, display, dialect, None, options)
}

/// [`check_dir`] in `layout` (detected when `None`, see [`Layout`]). Repeatable migrations
/// are linted too, each on its own, after the versioned ones.
pub fn check_dir_with_layout(
    dir: &Path,
    display: &str,
    dialect: Dialect,
    layout: Option<Layout>,
    options: &LintOptions,
) -> DirLint {
    let scan = scan_layout(dir, display, dialect, layout);
    let mut findings = lint_migrations(scan.migrations.iter().map(|m| &m.migration), options).into_findings();
    for repeatable in &scan.repeatables {
        findings.extend(lint_repeatable(&repeatable.repeatable, options).into_findings());
    }
    DirLint {
        layout: scan.layout,
        migrations: scan.migrations,
        repeatables: scan.repeatables,
        problems: scan.problems,
        findings: LintReport::new(findings),
    }
}

/// Lints a repeatable migration on its own: every statement rule, as for an up script (it
/// has no down script and no version, so neither `missing-down` nor "lint from" applies).
pub fn lint_repeatable(repeatable: &RepeatableMigration, options: &LintOptions) -> LintReport {
    let script = repeatable.script();
    let directives = script.directives();
    let Some(raws) = check(&mut Schema::default(), script, directives.phase) else {
        return LintReport::new(Vec::new());
    };
    let lines = Lines::new(script.text());
    let allowed: HashSet<&str> = directives.allow.iter().flat_map(|a| a.rules.iter().map(String::as_str)).collect();
    let mut findings: Vec<Finding> =
        raws.into_iter().filter_map(|raw| finding(script, &lines, raw, options, &allowed)).collect();
    let unused = unused_allows(script, &lines, &findings, options, directives.phase);
    findings.extend(unused);
    LintReport::new(findings)
}

/// Lints a migrations directory: every finding, load errors included as fatal findings.
pub fn lint_dir(dir: impl AsRef<Path>, dialect: Dialect, options: &LintOptions) -> LintReport {
    let dir = dir.as_ref();
    check_dir(dir, &dir.display().to_string(), dialect, options).report()
}

/// Lints a set of SQL migrations as one history: they are checked in version order, and
/// each is judged against the schema the earlier ones built.
pub fn lint_migrations<'m>(
    migrations: impl IntoIterator<Item = &'m SqlMigration>,
    options: &LintOptions,
) -> LintReport {
    let mut ordered: Vec<&SqlMigration> = migrations.into_iter().collect();
    ordered.sort_by_key(|m| version_of(m));
    let mut schema = Schema::default();
    let mut findings = Vec::new();
    for migration in ordered {
        findings.extend(lint_one(&mut schema, migration, options));
    }
    LintReport::new(findings)
}

/// Lints one migration on its own (with no earlier migrations, every table it does not create
/// is unknown).
pub fn lint_migration(migration: &SqlMigration, options: &LintOptions) -> LintReport {
    lint_migrations([migration], options)
}

/// The rule id closest to `id`, for "did you mean" messages, when one is close enough.
pub fn closest_rule(id: &str) -> Option<&'static str> {
    rules::closest(id)
}

fn version_of(migration: &SqlMigration) -> Version {
    Migration::<()>::meta(migration).version()
}

fn lint_one(schema: &mut Schema, migration: &SqlMigration, options: &LintOptions) -> Vec<Finding> {
    let linted = options.lints(version_of(migration));
    let up = migration.up_script();
    let dialect = up.dialect();
    let directives = up.directives();
    let Some(raws) = check(schema, up, directives.phase) else { return Vec::new() };
    if !linted {
        return Vec::new();
    }
    let up_lines = Lines::new(up.text());
    // The rules each allow line names, once: a finding looks its rule up in a set, however
    // many allow lines and findings there are.
    let allowed: HashSet<&str> = directives.allow.iter().flat_map(|a| a.rules.iter().map(String::as_str)).collect();
    let mut findings: Vec<Finding> =
        raws.into_iter().filter_map(|raw| finding(up, &up_lines, raw, options, &allowed)).collect();
    let missing_down = match migration.down_script() {
        // Irreversible on purpose, or nothing to revert.
        _ if directives.irreversible.is_some() || directives.no_op.is_some() => None,
        None => Some((
            up,
            format!(
                "there is no down script and the migration is not marked irreversible: it cannot be reverted \
                 (expected {})",
                down_file_name(up)
            ),
        )),
        Some(down) => {
            let lines = Lines::new(down.text());
            let raws = check(&mut Schema::default(), down, directives.phase).unwrap_or_default();
            findings.extend(
                raws.into_iter()
                    .filter(|raw| raw.rule.level(dialect) == Some(Level::Fatal))
                    .filter_map(|raw| finding(down, &lines, raw, options, &HashSet::new())),
            );
            let empty = down.statements().is_ok_and(|s| s.is_empty());
            empty.then(|| (down, "the down script is empty, so reverting this migration changes nothing".to_owned()))
        }
    };
    if let Some((script, message)) = missing_down
        && let Some(level) = options.level(&rules::MISSING_DOWN, dialect)
    {
        findings.push(Finding {
            rule: rules::MISSING_DOWN.id,
            level,
            file: script.path().to_owned(),
            line: 1,
            column: 1,
            message,
            help: rules::MISSING_DOWN.help.to_owned(),
            allowed: is_allowed(&allowed, &rules::MISSING_DOWN, level),
            source_line: None,
            source_column: 1,
        });
    }
    let unused = unused_allows(up, &up_lines, &findings, options, directives.phase);
    findings.extend(unused);
    findings
}

/// Runs the statement rules on a script; `None` if it can't be split (it was checked when
/// loaded, so only a hand-built script gets here).
fn check(schema: &mut Schema, script: &Script, phase: Phase) -> Option<Vec<Raw>> {
    let statements = script.statements().ok()?;
    Some(check_script(
        schema,
        ScriptInput {
            text: script.text(),
            statements,
            dialect: script.dialect(),
            transactional: !script.directives().no_transaction,
            phase,
        },
    ))
}

/// Where an up script's down script would be: `m/1_a.up.sql` → `1_a.down.sql`, diesel's
/// `up.sql` → `down.sql`, Flyway's `V1__a.sql` → `U1__a.sql`, a goose file's `-- +goose Down`
/// section.
fn down_file_name(up: &Script) -> String {
    let up_path = up.path();
    let file = up_path.rsplit('/').next().unwrap_or(up_path);
    if up.layout_flags().goose_blocks {
        return "a `-- +goose Down` section".to_owned();
    }
    if file == "up.sql" {
        return "`down.sql` beside it".to_owned();
    }
    if let Some(rest) = file.strip_prefix('V').filter(|rest| rest.contains("__")) {
        return format!("U{rest}");
    }
    match file.strip_suffix(".up.sql") {
        Some(stem) => format!("{stem}.down.sql"),
        None => "a down script".to_owned(),
    }
}

fn is_allowed(allowed: &HashSet<&str>, rule: &Rule, level: Level) -> bool {
    level != Level::Fatal && allowed.contains(rule.id)
}

fn finding(
    script: &Script,
    lines: &Lines<'_>,
    raw: Raw,
    options: &LintOptions,
    allowed: &HashSet<&str>,
) -> Option<Finding> {
    let level = options.level(raw.rule, script.dialect())?;
    let (line, column) = lines.position(raw.offset);
    let (source_line, source_column) = lines.excerpt_at(raw.offset);
    Some(Finding {
        rule: raw.rule.id,
        level,
        file: script.path().to_owned(),
        line,
        column,
        message: raw.message,
        help: raw.help.unwrap_or_else(|| raw.rule.help.to_owned()),
        allowed: is_allowed(allowed, raw.rule, level),
        source_line: Some(source_line),
        source_column,
    })
}

/// The rules of each allow line that silence nothing, as `unused-allow` findings.
fn unused_allows(
    up: &Script,
    lines: &Lines<'_>,
    findings: &[Finding],
    options: &LintOptions,
    phase: Phase,
) -> Vec<Finding> {
    let dialect = up.dialect();
    let Some(level) = options.level(&rules::UNUSED_ALLOW, dialect) else { return Vec::new() };
    let contract_steps = [&rules::DROP_COLUMN, &rules::DROP_TABLE, &rules::DROP_NOT_NULL, &rules::RENAME_TABLE];
    let found: HashSet<&str> = findings.iter().map(|f| f.rule).collect();
    let mut unused = Vec::new();
    for allow in &up.directives().allow {
        for id in &allow.rules {
            let message = match rule(id) {
                None => match rules::closest(id) {
                    Some(close) => format!("`{id}` is not a rule, so this allows nothing: did you mean `{close}`?"),
                    None => format!("`{id}` is not a rule, so this allows nothing"),
                },
                Some(rule) => match rule.level(dialect) {
                    None => format!("`{id}` does not apply to {}, so this allows nothing", dialect.name()),
                    Some(Level::Fatal) => {
                        format!(
                            "`{id}` is fatal: the migration cannot work as written, and an allow does not silence it"
                        )
                    }
                    Some(_) if options.level(rule, dialect).is_none() => continue,
                    Some(_) if found.contains(rule.id) => continue,
                    Some(_) if phase == Phase::Contract && contract_steps.contains(&rule) => format!(
                        "`{id}` is allowed here, but a contract migration may do that without an allow, so this allows nothing"
                    ),
                    Some(_) => format!("`{id}` is allowed here, but nothing in this migration triggers it"),
                },
            };
            unused.push(Finding {
                rule: rules::UNUSED_ALLOW.id,
                level,
                file: up.path().to_owned(),
                line: allow.line,
                column: 1,
                message,
                help: format!("remove `{id}` from the allow line"),
                allowed: false,
                source_line: lines.excerpt_line(allow.line),
                source_column: 1,
            });
        }
    }
    unused
}

#[cfg(test)]
mod tests;
