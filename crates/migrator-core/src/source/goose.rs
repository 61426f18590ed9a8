//! A goose file cut into its up and down scripts (see [`super::layout`] for the rules).

use crate::split::Lines;
use crate::split::goose::{Annotation, annotation};

/// The scripts of one goose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GooseFile {
    /// The file from its start to the line before `-- +goose Down` (or to its end).
    pub(crate) up: String,
    /// The file from the `-- +goose Down` line on, after the lines above reduced to their
    /// line breaks, so that lines keep their numbers.
    pub(crate) down: Option<String>,
    /// `-- +goose NO TRANSACTION` is somewhere in the file.
    pub(crate) no_transaction: bool,
}

/// A problem with a goose file: its line (none for the file as a whole) and message.
pub(crate) type GooseProblem = (Option<usize>, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Above `-- +goose Up`.
    Start,
    Up,
    Down,
}

/// Cuts a goose file into its scripts, checking its annotations as goose does. Every problem
/// is returned, each with its line.
pub(crate) fn sections(text: &str) -> Result<GooseFile, Vec<GooseProblem>> {
    let lines = Lines::new(text);
    let mut problems: Vec<GooseProblem> = Vec::new();
    let mut section = Section::Start;
    // The line of the open `StatementBegin`.
    let mut block: Option<usize> = None;
    let mut down_at: Option<usize> = None;
    let mut no_transaction = false;
    // The first line of SQL above `-- +goose Up`.
    let mut sql_above: Option<usize> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let content = raw.strip_suffix('\n').unwrap_or(raw);
        let content = content.strip_suffix('\r').unwrap_or(content);
        let content = if start == 0 { content.strip_prefix('\u{feff}').unwrap_or(content) } else { content };
        let (line, _) = lines.position(start);
        let mut problem = |message: String| problems.push((Some(line), message));
        match annotation(content) {
            None if section == Section::Start && !content.trim().is_empty() && !content.trim().starts_with("--") => {
                sql_above.get_or_insert(line);
            }
            None => {}
            Some(Err(message)) => problem(message),
            Some(Ok(found)) => match (found, section, block) {
                (Annotation::NoTransaction, _, _) => no_transaction = true,
                (Annotation::EnvsubOff, _, _) => {}
                (Annotation::EnvsubOn, _, _) => problem(format!(
                    "`{}` substitutes environment variables into the SQL, which migrator does not do: write the \
                     values into the file, or keep this migration with goose",
                    Annotation::EnvsubOn.as_str()
                )),
                (Annotation::Up, Section::Start, _) => section = Section::Up,
                (Annotation::Up, _, _) => problem(format!("a second `{}`: a goose file has one", found.as_str())),
                (Annotation::Down, Section::Start, _) => problem(format!(
                    "`{}` above `{}`: the up section comes first",
                    found.as_str(),
                    Annotation::Up.as_str()
                )),
                (Annotation::Down, Section::Down, _) => {
                    problem(format!("a second `{}`: a goose file has one", found.as_str()))
                }
                (Annotation::Down, Section::Up, Some(opened)) => problem(format!(
                    "`{}` inside the statement block opened on line {opened}: add `{}` above it",
                    found.as_str(),
                    Annotation::StatementEnd.as_str()
                )),
                (Annotation::Down, Section::Up, None) => {
                    section = Section::Down;
                    down_at = Some(start);
                }
                (Annotation::StatementBegin, Section::Start, _) => problem(format!(
                    "`{}` above `{}`: statement blocks belong in a section",
                    found.as_str(),
                    Annotation::Up.as_str()
                )),
                (Annotation::StatementBegin, _, Some(opened)) => problem(format!(
                    "`{}` inside the statement block opened on line {opened}: close that one first with `{}`",
                    found.as_str(),
                    Annotation::StatementEnd.as_str()
                )),
                (Annotation::StatementBegin, _, None) => block = Some(line),
                (Annotation::StatementEnd, _, Some(_)) => block = None,
                (Annotation::StatementEnd, _, None) => problem(format!(
                    "`{}` without a `{}` above it",
                    found.as_str(),
                    Annotation::StatementBegin.as_str()
                )),
            },
        }
    }
    if let Some(line) = sql_above.filter(|_| section != Section::Start) {
        problems.push((
            Some(line),
            format!(
                "SQL above `{}`: a goose file starts with that line (blank lines and comments may come first)",
                Annotation::Up.as_str()
            ),
        ));
    }
    if section == Section::Start {
        problems.push((
            None,
            format!(
                "no `{}` line: goose files hold the up script below `{}` and the down script below `{}`",
                Annotation::Up.as_str(),
                Annotation::Up.as_str(),
                Annotation::Down.as_str()
            ),
        ));
    }
    if let Some(opened) = block {
        problems.push((
            Some(opened),
            format!(
                "this `{}` has no `{}`: add it after the statement's last line",
                Annotation::StatementBegin.as_str(),
                Annotation::StatementEnd.as_str()
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (up, down) = match down_at {
        Some(at) => {
            let (above, below) = text.split_at_checked(at).unwrap_or((text, ""));
            let mut down: String = above.chars().filter(|&c| c == '\n' || c == '\r').collect();
            down.push_str(below);
            (above.to_owned(), Some(down))
        }
        None => (text.to_owned(), None),
    };
    Ok(GooseFile { up, down, no_transaction })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_file_cut_in_two_keeps_its_lines() {
        let text = "-- a comment\n-- +goose Up\nCREATE TABLE t (id int);\n\n-- +goose Down\r\nDROP TABLE t;\n";
        let file = sections(text).unwrap();
        assert_eq!(file.up, "-- a comment\n-- +goose Up\nCREATE TABLE t (id int);\n\n");
        assert_eq!(file.down.as_deref(), Some("\n\n\n\n-- +goose Down\r\nDROP TABLE t;\n"));
        assert!(!file.no_transaction);
        let file = sections("-- +goose Up\n-- +goose NO TRANSACTION\nSELECT 1;\n").unwrap();
        assert_eq!(file.down, None);
        assert!(file.no_transaction);
    }

    #[test]
    fn mistakes_are_found_with_their_lines() {
        let problems = |text: &str| sections(text).unwrap_err();
        assert_eq!(problems("SELECT 1;\n-- +goose Up\n")[0].0, Some(1));
        assert!(problems("SELECT 1;\n-- +goose Up\n")[0].1.contains("SQL above `-- +goose Up`"));
        assert_eq!(problems("SELECT 1;\n")[0].0, None, "without the line, that is the problem");
        let missing = problems("-- only a comment\n");
        assert_eq!(missing.len(), 1);
        assert!(missing[0].1.starts_with("no `-- +goose Up` line"));
        let open = problems("-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() …;\n");
        assert_eq!(open[0].0, Some(2));
        assert!(open[0].1.contains("has no `-- +goose StatementEnd`"));
        let found =
            problems("-- +goose Down\n-- +goose Up\n-- +goose Up\n-- +goose StatementEnd\n-- +goose ENVSUB ON\n");
        let lines: Vec<Option<usize>> = found.iter().map(|p| p.0).collect();
        assert_eq!(lines, [Some(1), Some(3), Some(4), Some(5)]);
        let inside = problems("-- +goose Up\n-- +goose StatementBegin\n-- +goose Down\n-- +goose StatementEnd\n");
        assert!(inside[0].1.contains("inside the statement block opened on line 2"), "{inside:?}");
        assert!(problems("-- +goose Up\n -- +goose Down\n")[0].1.contains("first column"));
    }
}
