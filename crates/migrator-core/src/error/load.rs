//! Problems in migration files and directories, each with where it is.

use std::fmt;

/// One problem in a migration file or directory, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file (or directory), as the user wrote or sees it.
    pub path: String,
    /// 1-based line, when the problem is inside the file.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

pub(super) fn display_load_errors(errors: &[LoadError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let mut text = format!("{} problems in migration files:", many.len());
            for error in many {
                text.push_str("\n  ");
                text.push_str(&error.to_string());
            }
            text
        }
    }
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

/// A load problem with its kind and, when it points into a file, a bounded excerpt of the
/// line (see `split::Lines::excerpt_at`) with the caret's 1-based column in it.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) kind: ProblemKind,
    pub(crate) error: LoadError,
    pub(crate) source: Option<String>,
    pub(crate) caret: Option<usize>,
}

impl Problem {
    pub(crate) fn other(error: LoadError) -> Problem {
        Problem { kind: ProblemKind::Other, error, source: None, caret: None }
    }
}
