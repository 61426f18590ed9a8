//! The per-rule fixture tree, `tests/lint/<rule>/<dialect>/<case>/`.
//!
//! Each case is a migrations directory with an `expect` file: the rule ids its findings must
//! have, one per line, exactly (in any order; an empty file means no finding at all), with
//! ` (allowed)` after the id of a finding acknowledged by `-- migrator:allow`. A case
//! named `bad-…` must trigger the rule of its directory and a case named `ok-…` (the safe
//! alternative) must not. Every rule has a directory for each dialect it applies to, with at
//! least two bad cases and one ok case, and none for a dialect it does not apply to.
//!
//! `missing-down` is turned off outside its own directory, so the fixtures need no down
//! scripts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::path::{Path, PathBuf};

use migrator_core::Dialect;
use migrator_core::lint::{LintOptions, RULES, Setting, lint_dir};

const DIALECTS: [(&str, Dialect); 3] =
    [("postgres", Dialect::Postgres), ("mysql", Dialect::MySql), ("sqlite", Dialect::Sqlite)];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint")
}

fn subdirectories(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), path))
        .collect();
    found.sort();
    found
}

/// Checks one case; returns what is wrong with it.
fn check_case(rule: &str, dialect: Dialect, name: &str, dir: &Path) -> Option<String> {
    let mut options = LintOptions::new();
    if rule != "missing-down" {
        options = options.with_level("missing-down", Setting::Off).unwrap();
    }
    let expect = fs::read_to_string(dir.join("expect")).unwrap_or_else(|e| panic!("{}/expect: {e}", dir.display()));
    let mut expected: Vec<&str> = expect.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    expected.sort_unstable();
    let report = lint_dir(dir, dialect, &options);
    let mut found: Vec<String> = report
        .findings()
        .iter()
        .map(|f| if f.allowed { format!("{} (allowed)", f.rule) } else { f.rule.to_owned() })
        .collect();
    found.sort_unstable();
    let triggered = report.findings().iter().any(|f| f.rule == rule);
    let labelled = if name.starts_with("bad-") {
        triggered.then_some(()).ok_or("is named bad- but does not trigger the rule")
    } else {
        (!triggered).then_some(()).ok_or("is named ok- but triggers the rule")
    };
    if found != expected {
        return Some(format!("expected {expected:?}, found {found:?}:\n{report}"));
    }
    labelled.err().map(str::to_owned)
}

#[test]
fn every_rule_has_fixtures_for_its_dialects() {
    let root = root();
    let mut problems = Vec::new();
    for (name, _) in subdirectories(&root) {
        if !RULES.iter().any(|rule| rule.id == name) {
            problems.push(format!("{name}: not a rule id"));
        }
    }
    for rule in RULES {
        for (dialect_dir, dialect) in DIALECTS {
            let dir = root.join(rule.id).join(dialect_dir);
            match (rule.level(dialect), dir.is_dir()) {
                (Some(_), false) => problems.push(format!("{}/{dialect_dir}: missing", rule.id)),
                (None, true) => problems.push(format!("{}/{dialect_dir}: the rule does not apply there", rule.id)),
                (None, false) => {}
                (Some(_), true) => {
                    let cases = subdirectories(&dir);
                    let bad = cases.iter().filter(|(name, _)| name.starts_with("bad-")).count();
                    let ok = cases.iter().filter(|(name, _)| name.starts_with("ok-")).count();
                    if bad < 2 || ok < 1 || bad + ok != cases.len() {
                        problems.push(format!(
                            "{}/{dialect_dir}: {bad} bad and {ok} ok cases of {} (needs at least 2 bad-…, 1 ok-…, nothing else)",
                            rule.id,
                            cases.len()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "fixture tree problems:\n{}", problems.join("\n"));
}

#[test]
fn every_fixture_yields_exactly_its_expected_rules() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (rule, rule_dir) in subdirectories(&root()) {
        for (dialect_name, dialect) in DIALECTS {
            let dir = rule_dir.join(dialect_name);
            if !dir.is_dir() {
                continue;
            }
            for (case, case_dir) in subdirectories(&dir) {
                checked += 1;
                if let Some(problem) = check_case(&rule, dialect, &case, &case_dir) {
                    failures.push(format!("{rule}/{dialect_name}/{case}: {problem}"));
                }
            }
        }
    }
    assert!(checked >= 200, "only {checked} fixture cases found");
    assert!(failures.is_empty(), "{} of {checked} fixture cases failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
