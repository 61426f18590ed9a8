//! goose's annotation lines (`-- +goose Up`, `-- +goose StatementBegin`, …), read as goose
//! (pressly/goose, v3.2x) reads them.
//!
//! A line is an annotation line when its first non-blank characters are `--` and it contains
//! `+goose`. Such a line must start at the first column; with every `--` and the one `+goose`
//! removed, the rest, trimmed and in any case, names one annotation: `Up`, `Down`,
//! `StatementBegin`, `StatementEnd`, `NO TRANSACTION`, `ENVSUB ON` or `ENVSUB OFF`. Anything
//! else on such a line is an error, as it is for goose.

use super::lines::printable;

/// One goose annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Annotation {
    /// `-- +goose Up`: the up section starts.
    Up,
    /// `-- +goose Down`: the down section starts.
    Down,
    /// `-- +goose StatementBegin`: the lines up to `StatementEnd` are one statement.
    StatementBegin,
    /// `-- +goose StatementEnd`.
    StatementEnd,
    /// `-- +goose NO TRANSACTION`: the whole file runs outside a transaction.
    NoTransaction,
    /// `-- +goose ENVSUB ON`: environment variables are substituted (not supported).
    EnvsubOn,
    /// `-- +goose ENVSUB OFF`.
    EnvsubOff,
}

impl Annotation {
    /// The annotation as goose's documentation writes it.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Annotation::Up => "-- +goose Up",
            Annotation::Down => "-- +goose Down",
            Annotation::StatementBegin => "-- +goose StatementBegin",
            Annotation::StatementEnd => "-- +goose StatementEnd",
            Annotation::NoTransaction => "-- +goose NO TRANSACTION",
            Annotation::EnvsubOn => "-- +goose ENVSUB ON",
            Annotation::EnvsubOff => "-- +goose ENVSUB OFF",
        }
    }
}

const KNOWN: &[(&str, Annotation)] = &[
    ("Up", Annotation::Up),
    ("Down", Annotation::Down),
    ("StatementBegin", Annotation::StatementBegin),
    ("StatementEnd", Annotation::StatementEnd),
    ("NO TRANSACTION", Annotation::NoTransaction),
    ("ENVSUB ON", Annotation::EnvsubOn),
    ("ENVSUB OFF", Annotation::EnvsubOff),
];

/// If `line` (without its line terminator) is a goose annotation line: which annotation, or
/// why goose would refuse it.
pub(crate) fn annotation(line: &str) -> Option<Result<Annotation, String>> {
    if !line.trim_start().starts_with("--") || !line.contains("+goose") {
        return None;
    }
    if line.starts_with(|c: char| c.is_whitespace()) {
        return Some(Err("a goose annotation starts in the first column: remove the blanks before `--`".to_owned()));
    }
    let without_dashes = line.replace("--", "");
    let rest = without_dashes.replacen("+goose", "", 1);
    if rest.contains("+goose") {
        return Some(Err("two `+goose` on one line: write one annotation per line".to_owned()));
    }
    let command = rest.trim();
    if command.is_empty() {
        return Some(Err(
            "`+goose` without an annotation: write `-- +goose Up`, `-- +goose Down`, `-- +goose StatementBegin`, …"
                .to_owned(),
        ));
    }
    let found = KNOWN.iter().find(|(name, _)| name.eq_ignore_ascii_case(command)).map(|(_, a)| *a);
    Some(found.ok_or_else(|| {
        let shown: String = command.chars().take(60).map(printable).collect();
        format!(
            "unknown goose annotation `{shown}`: goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, \
             ENVSUB ON and ENVSUB OFF"
        )
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn annotations_as_goose_reads_them() {
        assert_eq!(annotation("-- +goose Up"), Some(Ok(Annotation::Up)));
        assert_eq!(annotation("--+goose down"), Some(Ok(Annotation::Down)));
        assert_eq!(annotation("-- +goose   STATEMENTBEGIN \t"), Some(Ok(Annotation::StatementBegin)));
        assert_eq!(annotation("-- +goose NO TRANSACTION"), Some(Ok(Annotation::NoTransaction)));
        assert_eq!(annotation("-- +goose envsub on"), Some(Ok(Annotation::EnvsubOn)));
        assert_eq!(annotation("-- a comment"), None);
        assert_eq!(annotation("SELECT '-- +goose Up';"), None);
        assert_eq!(annotation("-- +GOOSE Up"), None, "goose looks for `+goose` as written");
        assert!(annotation("  -- +goose Up").unwrap().unwrap_err().contains("first column"));
        assert!(annotation("-- +goose").unwrap().unwrap_err().contains("without an annotation"));
        assert!(annotation("-- +goose Up +goose Down").unwrap().unwrap_err().contains("two `+goose`"));
        assert!(annotation("-- +goose Sideways").unwrap().unwrap_err().contains("unknown goose annotation `Sideways`"));
        assert!(annotation("-- +goose Up -- starts here").unwrap().is_err(), "goose refuses a comment after it");
    }
}
