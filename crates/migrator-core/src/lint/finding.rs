//! Findings and reports, with the human-readable form the macro and the CLI print.

use std::fmt;

use crate::split::write_source;

use super::rules::Level;

/// One problem the linter found, located at `file:line:column`.
///
/// The fields are what a tool prints: the human form is [`Finding`]'s `Display`; a JSON
/// object takes `rule`, `level`, `file`, `line`, `column`, `message`, `help` and `allowed`;
/// a GitHub annotation is `::error file={file},line={line},col={column},title={rule}::{message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The rule's stable id (`index-not-concurrent`).
    pub rule: &'static str,
    /// Its level, after level options.
    pub level: Level,
    /// The file, as shown in messages (`migrations/20261120093000_add_index.up.sql`).
    pub file: String,
    /// 1-based line of the offending statement or token; 1 for a finding about a whole file;
    /// 0 for a finding that has no place in a file (a missing directory, a bad file name, a
    /// duplicate version): then `column` is 0 too.
    pub line: usize,
    /// 1-based column, counted in characters; 1 for a finding about a whole file or line; 0
    /// when `line` is 0.
    pub column: usize,
    /// The hazard.
    pub message: String,
    /// The safe alternative.
    pub help: String,
    /// Acknowledged by `-- migrator:allow <rule> -- <reason>` (deny and warn findings only).
    pub allowed: bool,
    /// The source line the finding points at, when it points into the file: a window of at
    /// most about 120 characters around the column, with `…` where the line was cut, and
    /// control characters shown as their Unicode control pictures (`␀`, `␛`).
    pub source_line: Option<String>,
    /// The 1-based column (in characters) of the finding in `source_line`.
    pub source_column: usize,
}

impl Finding {
    /// Whether it fails a build: fatal, or deny and not allowed.
    pub fn fails_build(&self) -> bool {
        match self.level {
            Level::Fatal => true,
            Level::Deny => !self.allowed,
            Level::Warn => false,
        }
    }
}

impl fmt::Display for Finding {
    /// `file:line:column: level[rule]: message`, the source line with a caret under the
    /// column, the safe alternative, and how to acknowledge it (or why it can't be).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": {}[{}]", self.level, self.rule)?;
        if self.allowed {
            f.write_str(" (allowed)")?;
        }
        write!(f, ": {}", self.message)?;
        let gutter = " ".repeat(self.line.to_string().len());
        if let (Some(source), true) = (&self.source_line, self.line > 0) {
            write_source(f, self.line, source, Some(self.source_column))?;
        }
        write!(f, "\n{gutter} = help: {}", self.help)?;
        match (self.level, self.allowed) {
            // A finding without a place in a file is about the directory or a file name:
            // nothing a directive could acknowledge.
            _ if self.line == 0 => Ok(()),
            (Level::Fatal, _) => write!(
                f,
                "\n{gutter} = note: fatal: the migration cannot work as written, and `-- migrator:allow` does not silence it"
            ),
            (Level::Deny, false) => write!(
                f,
                "\n{gutter} = note: if it is safe here, acknowledge it at the top of the file: \
                 `-- migrator:allow {} -- <reason>`",
                self.rule
            ),
            _ => Ok(()),
        }
    }
}

/// The findings of a lint run, sorted by file (in version order), line and column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintReport {
    findings: Vec<Finding>,
}

impl LintReport {
    pub(crate) fn new(mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        LintReport { findings }
    }

    /// Every finding, allowed ones included.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Every finding, owned.
    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    /// The findings that fail a build: fatal ones, and deny ones that are not allowed.
    pub fn failures(&self) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(|f| f.fails_build())
    }

    /// Whether any finding fails a build.
    pub fn has_failures(&self) -> bool {
        self.findings.iter().any(Finding::fails_build)
    }

    /// How many findings have `level` (allowed ones included).
    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// Whether there are no findings at all.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// One line: `no findings`, or `3 findings: 1 fatal, 1 deny (1 allowed), 1 warn`.
    pub fn summary(&self) -> String {
        if self.findings.is_empty() {
            return "no findings".to_owned();
        }
        let mut parts = Vec::new();
        for level in [Level::Fatal, Level::Deny, Level::Warn] {
            let count = self.count(level);
            if count == 0 {
                continue;
            }
            let allowed = self.findings.iter().filter(|f| f.level == level && f.allowed).count();
            if allowed > 0 {
                parts.push(format!("{count} {level} ({allowed} allowed)"));
            } else {
                parts.push(format!("{count} {level}"));
            }
        }
        let n = self.findings.len();
        format!("{n} finding{}: {}", if n == 1 { "" } else { "s" }, parts.join(", "))
    }
}

impl LintReport {
    /// How many findings the human form lists before it says how many more there are.
    pub const LISTED: usize = 50;
}

impl fmt::Display for LintReport {
    /// The first [`LintReport::LISTED`] findings, how many more there are, and the summary:
    /// the output stays readable (and bounded) whatever the input. Tools that need every
    /// finding iterate over [`LintReport::findings`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in self.findings.iter().take(Self::LISTED) {
            write!(f, "{finding}\n\n")?;
        }
        if let Some(more) = self.findings.len().checked_sub(Self::LISTED).filter(|&more| more > 0) {
            write!(
                f,
                "… and {more} more finding{} (run `migrator lint --all` for all)\n\n",
                if more == 1 { "" } else { "s" }
            )?;
        }
        f.write_str(&self.summary())
    }
}

/// Files in version order (`2_a` before `10_b`), then position and rule.
fn sort_key(f: &Finding) -> (&str, Option<i64>, &str, usize, usize, &str) {
    let (dir, name) = f.file.rsplit_once('/').unwrap_or(("", &f.file));
    let version = name.split('_').next().and_then(|digits| digits.parse().ok());
    (dir, version, name, f.line, f.column, f.rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(file: &str, line: usize, level: Level, allowed: bool) -> Finding {
        Finding {
            rule: "drop-column",
            level,
            file: file.to_owned(),
            line,
            column: 5,
            message: "`DROP COLUMN legacy` breaks the app".to_owned(),
            help: "drop it in a contract migration".to_owned(),
            allowed,
            source_line: Some("\tALTER TABLE users DROP COLUMN legacy;".to_owned()),
            source_column: 5,
        }
    }

    #[test]
    fn human_form_points_at_the_column() {
        let text = finding("m/2_x.up.sql", 12, Level::Deny, false).to_string();
        assert_eq!(
            text,
            "m/2_x.up.sql:12:5: deny[drop-column]: `DROP COLUMN legacy` breaks the app\n   |\n12 | \tALTER TABLE users DROP COLUMN legacy;\n   | \t   ^\n   = help: drop it in a contract migration\n   = note: if it is safe here, acknowledge it at the top of the file: `-- migrator:allow drop-column -- <reason>`"
        );
        let allowed = finding("m/2_x.up.sql", 1, Level::Deny, true).to_string();
        assert!(allowed.starts_with("m/2_x.up.sql:1:5: deny[drop-column] (allowed): "), "{allowed}");
        assert!(!allowed.contains("note"), "{allowed}");
    }

    #[test]
    fn reports_sort_by_version_and_summarize() {
        let report = LintReport::new(vec![
            finding("m/10_b.up.sql", 1, Level::Warn, false),
            finding("m/2_a.up.sql", 3, Level::Deny, true),
            finding("m/2_a.up.sql", 1, Level::Fatal, false),
        ]);
        let order: Vec<(&str, usize)> = report.findings().iter().map(|f| (f.file.as_str(), f.line)).collect();
        assert_eq!(order, vec![("m/2_a.up.sql", 1), ("m/2_a.up.sql", 3), ("m/10_b.up.sql", 1)]);
        assert_eq!(report.summary(), "3 findings: 1 fatal, 1 deny (1 allowed), 1 warn");
        assert_eq!(report.failures().count(), 1);
        assert!(report.has_failures());
        assert_eq!(LintReport::default().summary(), "no findings");
    }
}
