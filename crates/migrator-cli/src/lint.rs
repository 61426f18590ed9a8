//! `migrator lint` (every finding, in three formats) and the file half of `migrator validate`.

use std::path::Path;
use std::process::ExitCode;

use migrator_core::Layout;
use migrator_core::lint::{Finding, Level, LintOptions, LintReport, Setting, check_dir_with_layout};
use migrator_core::{Dialect, Version};
use serde::Serialize;

use crate::cli::{LintArgs, LintFormat};
use crate::output::{Style, clean};
use crate::text::{escape_controls, escape_keeping_layout};
use crate::usage::Usage;

/// The level options of the command line.
fn options(args: &LintArgs) -> anyhow::Result<LintOptions> {
    let mut options = LintOptions::new();
    if let Some(from) = args.lint_from.and_then(Version::new) {
        options = options.with_lint_from(from);
    }
    for (rules, setting) in [(&args.deny, Setting::Deny), (&args.warn, Setting::Warn), (&args.off, Setting::Off)] {
        for rule in rules {
            options = options.with_level(rule, setting).map_err(|e| Usage(e.to_string()))?;
        }
    }
    Ok(options)
}

/// The directory as findings name it: as the user wrote it.
fn shown(dir: &Path) -> String {
    dir.display().to_string()
}

/// `migrator lint`: exit code 1 when a finding fails the build.
pub(crate) fn run(args: &LintArgs, dir: &Path, dialect: Dialect) -> anyhow::Result<ExitCode> {
    let options = options(args)?;
    let report = check_dir_with_layout(dir, &shown(dir), dialect, args.source.layout(), &options).report();
    // Human and GitHub output stay readable: the first LintReport::LISTED findings, then
    // how many more there are (unless --all); JSON, for programs, lists every one.
    let listed = if args.all { usize::MAX } else { LintReport::LISTED };
    match args.format {
        LintFormat::Human => print_human(&report, listed),
        LintFormat::Json => println!("{}", crate::output::json(&json(&report))?),
        LintFormat::Github => print_github(&report, listed),
    }
    Ok(if report.has_failures() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// What was not listed: `… and 3 more findings (--all lists every one)`.
fn left_out(report: &LintReport, listed: usize) -> Option<String> {
    let more = report.findings().len().checked_sub(listed).filter(|&more| more > 0)?;
    Some(format!(
        "… and {more} more finding{} (`--all` lists every one, `--format json` gives them as data)",
        if more == 1 { "" } else { "s" }
    ))
}

fn print_human(report: &LintReport, listed: usize) {
    let out = Style::stdout();
    for finding in report.findings().iter().take(listed) {
        // The finding quotes the file's line: its control characters are escaped.
        let text = escape_keeping_layout(&finding.to_string());
        // Color the level word of the first line only.
        let level = finding.level.as_str();
        let painted = match (finding.level, finding.allowed) {
            (_, true) => out.dim(level),
            (Level::Warn, false) => out.yellow(level),
            _ => out.red(level),
        };
        let text = text.replacen(&format!(": {level}["), &format!(": {painted}["), 1);
        println!("{text}\n");
    }
    if let Some(more) = left_out(report, listed) {
        println!("{more}\n");
    }
    let summary = report.summary();
    println!("{}", if report.has_failures() { out.red(&summary) } else { out.green(&summary) });
}

/// `{"findings": [...]}`.
#[derive(Debug, Serialize)]
struct Findings<'a> {
    findings: Vec<FindingJson<'a>>,
}

#[derive(Debug, Serialize)]
struct FindingJson<'a> {
    rule: &'static str,
    level: &'static str,
    file: &'a str,
    /// `null` for a finding about the directory or a file name, with no place in a file.
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
    help: &'a str,
    allowed: bool,
}

fn json(report: &LintReport) -> Findings<'_> {
    Findings {
        findings: report
            .findings()
            .iter()
            .map(|f: &Finding| FindingJson {
                rule: f.rule,
                level: f.level.as_str(),
                file: &f.file,
                line: (f.line > 0).then_some(f.line),
                column: (f.line > 0).then_some(f.column),
                message: &f.message,
                help: &f.help,
                allowed: f.allowed,
            })
            .collect(),
    }
}

/// GitHub Actions workflow commands: an annotation per finding on its file and line.
fn print_github(report: &LintReport, listed: usize) {
    for f in report.findings().iter().take(listed) {
        let command = match (f.level, f.allowed) {
            (_, true) => "notice",
            (Level::Warn, false) => "warning",
            _ => "error",
        };
        // A finding with no place in a file annotates the file alone.
        let place = if f.line > 0 { format!(",line={},col={}", f.line, f.column) } else { String::new() };
        println!(
            "::{command} file={}{place},title={}::{}",
            property(&f.file),
            property(&format!("{} {}", f.level, f.rule)),
            data(&format!("{}\nhelp: {}", f.message, f.help))
        );
    }
    if let Some(more) = left_out(report, listed) {
        println!("::notice title=migrator lint::{}", data(&more));
    }
    println!("{}", report.summary());
}

/// Escapes the message of a workflow command (and any other control character, which the
/// log viewer would interpret).
fn data(text: &str) -> String {
    escape_controls(&text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A"))
}

/// Escapes a property of a workflow command.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The file checks of `validate`: names, directives, splitting, fatal lint findings. Prints
/// each problem; returns how many there are.
pub(crate) fn validate_files(dir: &Path, layout: Option<Layout>, dialect: Dialect) -> usize {
    let checked = check_dir_with_layout(dir, &shown(dir), dialect, layout, &LintOptions::new());
    let err = Style::stderr();
    let mut problems = 0;
    // Each with an excerpt of its line and a caret under the column, where it has one.
    for error in checked.described_load_errors() {
        eprintln!("{} {}", err.red("error:"), escape_keeping_layout(&error));
        problems += 1;
    }
    let fatal: Vec<_> = checked.findings().findings().iter().filter(|f| f.level == Level::Fatal).collect();
    for finding in fatal.iter().take(LintReport::LISTED) {
        eprintln!("{}\n", escape_keeping_layout(&finding.to_string()));
    }
    if let Some(more) = fatal.len().checked_sub(LintReport::LISTED).filter(|&more| more > 0) {
        eprintln!(
            "… and {more} more fatal finding{} (`migrator lint --all` lists them)\n",
            if more == 1 { "" } else { "s" }
        );
    }
    problems += fatal.len();
    if problems == 0 {
        let repeatables = match checked.repeatables().len() {
            0 => String::new(),
            n => format!(" and {n} repeatable migration(s)"),
        };
        let layout = match checked.layout() {
            Layout::Migrator => String::new(),
            other => format!(" ({} layout)", other.tool()),
        };
        println!(
            "{} migration(s){repeatables} in {}{layout}: names, directives and SQL are valid",
            checked.migrations().len(),
            clean(&shown(dir))
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("m/1_a.up.sql: x, y"), "m/1_a.up.sql%3A x%2C y");
        assert_eq!(data("a\x1b[2Jb"), "a\\x1b[2Jb");
    }
}
