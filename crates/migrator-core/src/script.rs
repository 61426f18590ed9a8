//! A parsed SQL script: text, directives, checksum and statements.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::checksum::{Checksum, StatementRecord, statement_hash};
use crate::dialect::Dialect;
use crate::directive::{self, Directives, ScriptKind};
use crate::error::{Error, LoadError, Problem, ProblemKind};
use crate::split::{self, Lines, SplitError, Statement};
use crate::text::snippet;

/// What a script's layout says about running it, besides its `-- migrator:` directives.
///
/// The loader sets these for files of other tools' layouts (see [`crate::source::Layout`]);
/// an embedded script carries them from compile time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LayoutFlags {
    /// Run outside a transaction, as another tool's marker says: sqlx's `-- no-transaction`
    /// first line, goose's `-- +goose NO TRANSACTION`, refinery's `-- refinery:noTransaction`,
    /// diesel's `run_in_transaction = false` or Flyway's `executeInTransaction=false`. It acts
    /// as `-- migrator:no-transaction` does.
    pub no_transaction: bool,
    /// Statements are delimited by goose's `-- +goose StatementBegin` / `StatementEnd`
    /// lines as well as by semicolons ([`crate::split::split_goose`]).
    pub goose_blocks: bool,
}

impl LayoutFlags {
    /// No flag: a script of migrator's own layout.
    pub const NONE: LayoutFlags = LayoutFlags { no_transaction: false, goose_blocks: false };

    /// These flags, running outside a transaction too.
    pub const fn with_no_transaction(mut self) -> Self {
        self.no_transaction = true;
        self
    }

    /// These flags, with goose's statement blocks too.
    pub const fn with_goose_blocks(mut self) -> Self {
        self.goose_blocks = true;
        self
    }
}

/// An up or down SQL script of a migration.
///
/// Statements are split on first use (and checked when the script is loaded at runtime or
/// at compile time), so a binary with a thousand embedded migrations pays nothing for the
/// ones it does not run.
#[derive(Debug)]
pub struct Script {
    kind: ScriptKind,
    path: Cow<'static, str>,
    text: Cow<'static, str>,
    dialect: Dialect,
    directives: Directives,
    flags: LayoutFlags,
    checksum: Checksum,
    statements: OnceLock<Result<Vec<Statement>, SplitError>>,
}

/// Splits `text` as a script with `flags` is split.
fn split_with(text: &str, dialect: Dialect, flags: LayoutFlags) -> Result<Vec<Statement>, SplitError> {
    if flags.goose_blocks { split::split_goose(text, dialect) } else { split::split(text, dialect) }
}

impl Script {
    /// Parses and fully validates a script: directives (anywhere in the file), statement
    /// splitting, and an up script's statements (at least one, unless it says `no-op`; none if
    /// it does). Every problem is returned, with its line.
    pub fn parse(
        kind: ScriptKind,
        path: impl Into<Cow<'static, str>>,
        text: impl Into<Cow<'static, str>>,
        dialect: Dialect,
    ) -> Result<Script, Vec<LoadError>> {
        Script::parse_with(kind, path, text, dialect, LayoutFlags::NONE)
    }

    /// [`Script::parse`], for a file of another tool's layout: `flags` say what the layout
    /// adds (a no-transaction marker of its own, goose's statement blocks).
    pub fn parse_with(
        kind: ScriptKind,
        path: impl Into<Cow<'static, str>>,
        text: impl Into<Cow<'static, str>>,
        dialect: Dialect,
        flags: LayoutFlags,
    ) -> Result<Script, Vec<LoadError>> {
        Script::parse_classified(kind, path.into(), text.into(), dialect, flags)
            .map_err(|problems| problems.into_iter().map(|p| p.error).collect())
    }

    /// [`Script::parse_with`], with each problem's kind (for lint findings) and source line.
    pub(crate) fn parse_classified(
        kind: ScriptKind,
        path: Cow<'static, str>,
        text: Cow<'static, str>,
        dialect: Dialect,
        flags: LayoutFlags,
    ) -> Result<Script, Vec<Problem>> {
        let mut errors = Vec::new();
        let lines = Lines::new(&text);
        let directives = match directive::parse(&text, kind, true) {
            Ok(directives) => Some(directives),
            Err(found) => {
                errors.extend(found.into_iter().map(|e| Problem {
                    kind: ProblemKind::Directive,
                    source: lines.excerpt_line(e.line),
                    caret: None,
                    error: LoadError { path: path.to_string(), line: Some(e.line), column: None, message: e.message },
                }));
                None
            }
        };
        let statements = split_with(&text, dialect, flags);
        match (&statements, &directives) {
            (Err(e), _) => {
                let (source, caret) = lines.excerpt_at(e.offset);
                errors.push(Problem {
                    kind: ProblemKind::Split,
                    source: Some(source),
                    caret: Some(caret),
                    error: split_load_error(&path, e),
                });
            }
            (Ok(statements), Some(directives)) if kind == ScriptKind::Up => {
                if let Some(problem) = no_op_problem(&path, &text, statements, directives) {
                    errors.push(problem);
                }
                if let Some(problem) = backfill_problem(&path, &text, statements, directives, flags.no_transaction) {
                    errors.push(problem);
                }
            }
            _ => {}
        }
        let mut directives = directives.unwrap_or_default();
        if !errors.is_empty() {
            return Err(errors);
        }
        directives.no_transaction |= flags.no_transaction;
        let checksum = Checksum::of_script(&text);
        Ok(Script { kind, path, text, dialect, directives, flags, checksum, statements: OnceLock::from(statements) })
    }

    /// A script embedded at compile time: the macro validated it and computed its checksum,
    /// so only the header is read here and splitting waits until the script runs.
    pub fn embedded(
        kind: ScriptKind,
        path: &'static str,
        text: &'static str,
        checksum: &'static str,
        dialect: Dialect,
    ) -> Result<Script, Vec<LoadError>> {
        Script::embedded_with(kind, path, text, checksum, dialect, LayoutFlags::NONE)
    }

    /// [`Script::embedded`], for a file of another tool's layout (see [`LayoutFlags`]).
    pub fn embedded_with(
        kind: ScriptKind,
        path: &'static str,
        text: &'static str,
        checksum: &'static str,
        dialect: Dialect,
        flags: LayoutFlags,
    ) -> Result<Script, Vec<LoadError>> {
        let mut directives = directive::parse(text, kind, false).map_err(|found| {
            found
                .into_iter()
                .map(|e| LoadError { path: path.to_owned(), line: Some(e.line), column: None, message: e.message })
                .collect::<Vec<_>>()
        })?;
        directives.no_transaction |= flags.no_transaction;
        Ok(Script {
            kind,
            path: Cow::Borrowed(path),
            text: Cow::Borrowed(text),
            dialect,
            directives,
            flags,
            checksum: Checksum::from_static(checksum),
            statements: OnceLock::new(),
        })
    }

    /// Up or down.
    pub fn kind(&self) -> ScriptKind {
        self.kind
    }

    /// The file path, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The script's full text, directives included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The dialect it is split with.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Its directives (with the no-transaction marker of its layout, if any).
    pub fn directives(&self) -> &Directives {
        &self.directives
    }

    /// What its layout adds to its text.
    pub fn layout_flags(&self) -> LayoutFlags {
        self.flags
    }

    /// Its checksum (`sha256:<hex>`).
    pub fn checksum(&self) -> &Checksum {
        &self.checksum
    }

    /// Its statements, split on first use.
    pub fn statements(&self) -> Result<&[Statement], Error> {
        match self.statements.get_or_init(|| split_with(&self.text, self.dialect, self.flags)) {
            Ok(statements) => Ok(statements),
            Err(e) => Err(Error::Load { errors: vec![split_load_error(&self.path, e)] }),
        }
    }

    /// The SQL text of one of this script's statements.
    pub fn statement_text(&self, statement: &Statement) -> &str {
        self.text.get(statement.range.clone()).unwrap_or("")
    }

    /// The first line of a statement, shortened for messages.
    pub fn snippet(&self, statement: &Statement) -> String {
        snippet(self.statement_text(statement))
    }

    /// Lines and hashes of every statement, for statement-by-statement progress.
    pub fn statement_records(&self) -> Result<Vec<StatementRecord>, Error> {
        Ok(self
            .statements()?
            .iter()
            .map(|s| StatementRecord { line: s.line, hash: statement_hash(self.statement_text(s)) })
            .collect())
    }
}

/// An up script must have a statement unless it says `no-op`, and one that says `no-op`
/// must have none: an untouched `migrator new` template is never applied as a migration.
fn no_op_problem(path: &str, text: &str, statements: &[Statement], directives: &Directives) -> Option<Problem> {
    let message = match (statements.first(), &directives.no_op) {
        (None, None) if text.trim_start_matches('\u{feff}').trim().is_empty() => {
            "the up script is empty: write the migration's SQL (or, if it deliberately does nothing, \
             `-- migrator:no-op -- <reason>`)"
                .to_owned()
        }
        (None, None) => "the up script has no statement, only comments: write the migration's SQL below them (or, \
                         if it deliberately does nothing, add `-- migrator:no-op -- <reason>` to its header)"
            .to_owned(),
        (Some(first), Some(_)) => {
            return Some(Problem::other(LoadError {
                path: path.to_owned(),
                line: Some(first.line),
                column: Some(first.column),
                message: format!(
                    "the up script says `no-op` but has {} statement{}, starting here: remove the directive or the \
                     statements",
                    statements.len(),
                    if statements.len() == 1 { "" } else { "s" }
                ),
            }));
        }
        _ => return None,
    };
    Some(Problem::other(LoadError { path: path.to_owned(), line: None, column: None, message }))
}

/// A script with the `backfill` directive runs outside a transaction (`no-transaction`) and
/// has one statement, an `UPDATE` or `DELETE` using `:start` and `:end`.
fn backfill_problem(
    path: &str,
    text: &str,
    statements: &[Statement],
    directives: &Directives,
    no_transaction: bool,
) -> Option<Problem> {
    let backfill = directives.backfill.as_ref()?;
    let error = |line: usize, column: Option<usize>, message: String| {
        Some(Problem::other(LoadError { path: path.to_owned(), line: Some(line), column, message }))
    };
    if !(directives.no_transaction || no_transaction) {
        return error(
            backfill.line,
            None,
            "`backfill` runs each batch in its own transaction, so the migration cannot run in one: add \
             `-- migrator:no-transaction` to the header"
                .to_owned(),
        );
    }
    match statements {
        [only] => {
            let statement = text.get(only.range.clone()).unwrap_or("");
            let problem = crate::directive::backfill_statement_problem(statement)?;
            error(only.line, Some(only.column), problem)
        }
        [] => None,
        [_, second, ..] => error(
            second.line,
            Some(second.column),
            format!(
                "a backfill migration has one statement, the batched `UPDATE` or `DELETE`; this script has {}: move \
                 the others to migrations of their own",
                statements.len()
            ),
        ),
    }
}

fn split_load_error(path: &str, e: &SplitError) -> LoadError {
    LoadError { path: path.to_owned(), line: Some(e.line), column: Some(e.column), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backfill_script_has_one_batched_statement_outside_a_transaction() {
        let head = "-- migrator:no-transaction\n-- migrator:backfill orders.id batch 100\n";
        let ok = format!("{head}UPDATE orders SET n = n + 1 WHERE id > :start AND id <= :end;\n");
        assert!(Script::parse(ScriptKind::Up, "m/1_a.up.sql", ok, Dialect::Postgres).is_ok());
        let cases = [
            (
                "-- migrator:backfill orders.id batch 100\nUPDATE orders SET n = 1 WHERE id > :start AND id <= :end;\n"
                    .to_owned(),
                (1, None),
                "add `-- migrator:no-transaction`",
            ),
            (format!("{head}UPDATE orders SET n = 1 WHERE id > :start;\n"), (3, Some(1)), "does not use :end"),
            (format!("{head}INSERT INTO orders VALUES (:start, :end);\n"), (3, Some(1)), "found `INSERT`"),
            (
                format!("{head}UPDATE orders SET n = 1 WHERE id > :start AND id <= :end;\n  SELECT 1;\n"),
                (4, Some(3)),
                "this script has 2",
            ),
        ];
        for (text, (line, column), expected) in cases {
            let errors = Script::parse(ScriptKind::Up, "m/1_a.up.sql", text.clone(), Dialect::Postgres).unwrap_err();
            let e = &errors[0];
            assert_eq!((e.line, e.column), (Some(line), column), "{text}: {e:?}");
            assert!(e.message.contains(expected), "{text}: {e:?}");
        }
    }

    #[test]
    fn parses_and_checks_a_script() {
        let script = Script::parse(
            ScriptKind::Up,
            "m/1_a.up.sql",
            "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY b ON t (y);\n",
            Dialect::Postgres,
        )
        .unwrap();
        assert!(script.directives().no_transaction);
        let statements = script.statements().unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(script.statement_text(&statements[1]), "CREATE INDEX CONCURRENTLY b ON t (y)");
        let records = script.statement_records().unwrap();
        assert_eq!(records[0].line, 2);
        assert_eq!(records[1].line, 3);
        assert_eq!(StatementRecord::decode(&StatementRecord::encode(&records)).unwrap(), records);
    }

    /// `migrator new` writes a header of comments; `up` applied it as "0 statement(s)". An up
    /// script without a statement is now an error unless it says `no-op` (before, a
    /// comments-only up script was accepted as a no-op).
    #[test]
    fn an_up_script_needs_a_statement_or_the_no_op_directive() {
        let errors = Script::parse(ScriptKind::Up, "m/1_a.up.sql", " \n\t\n", Dialect::Postgres).unwrap_err();
        assert!(errors[0].message.contains("the up script is empty"), "{errors:?}");
        for text in ["-- nothing to do yet\n", "-- a\n/* b */\n;;\n", "-- migrator:no-transaction\n-- TODO\n"] {
            let errors = Script::parse(ScriptKind::Up, "m/1_a.up.sql", text, Dialect::Postgres).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(errors[0].message.starts_with("the up script has no statement, only comments"), "{errors:?}");
            assert!(errors[0].message.contains("`-- migrator:no-op -- <reason>`"), "{errors:?}");
        }
        let script = Script::parse(
            ScriptKind::Up,
            "m/1_a.up.sql",
            "-- migrator:no-op -- keeps version 1 for the history of the old tool\n-- nothing\n",
            Dialect::Postgres,
        )
        .unwrap();
        assert!(script.statements().unwrap().is_empty());
        assert_eq!(script.directives().no_op.as_deref(), Some("keeps version 1 for the history of the old tool"));
        let errors =
            Script::parse(ScriptKind::Up, "m/1_a.up.sql", "-- migrator:no-op -- x\n\nSELECT 1;\n", Dialect::Postgres)
                .unwrap_err();
        assert_eq!((errors[0].line, errors[0].column), (Some(3), Some(1)));
        assert!(errors[0].message.contains("says `no-op` but has 1 statement"), "{errors:?}");
        // A no-op needs a reason, and belongs in the up script.
        let errors =
            Script::parse(ScriptKind::Up, "m/1_a.up.sql", "-- migrator:no-op\n", Dialect::Postgres).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("`no-op` needs a reason"), "{errors:?}");
        let errors = Script::parse(ScriptKind::Down, "m/1_a.down.sql", "-- migrator:no-op -- x\n", Dialect::Postgres)
            .unwrap_err();
        assert!(errors[0].message.contains("`no-op` belongs in the up script"), "{errors:?}");
        // An empty down script is a no-op down.
        let down = Script::parse(ScriptKind::Down, "m/1_a.down.sql", "", Dialect::Postgres).unwrap();
        assert!(down.statements().unwrap().is_empty());
        let down = Script::parse(ScriptKind::Down, "m/1_a.down.sql", "-- nothing\n", Dialect::Postgres).unwrap();
        assert!(down.statements().unwrap().is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let errors = Script::parse(
            ScriptKind::Up,
            "m/1_a.up.sql",
            "-- migrator:bogus\nSELECT 'unterminated;\n",
            Dialect::Postgres,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].line, Some(1));
        assert!(errors[0].message.contains("unknown directive"));
        assert_eq!(errors[1].line, Some(2));
        assert_eq!(errors[1].column, Some(8));
    }

    #[test]
    fn records_decode_rejects_garbage() {
        assert!(StatementRecord::decode("3:abc,x").is_none());
        assert_eq!(StatementRecord::decode("").unwrap(), vec![]);
    }
}
