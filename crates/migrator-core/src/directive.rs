//! `-- migrator:` directives at the top of a script.
//!
//! Directives are comment lines in a script's header (the leading lines that are blank or
//! `--` comments). Each starts with `-- migrator:` and names one directive:
//!
//! | directive | up | down | meaning |
//! |---|---|---|---|
//! | `no-transaction` | yes | yes | run statement by statement outside a transaction |
//! | `allow <rule>[, <rule>…] -- <reason>` | yes | no | acknowledge a lint hazard |
//! | `irreversible -- <reason>` | yes | no | no down migration, on purpose |
//! | `phase expand` / `phase contract` | yes | no | deployment phase (default expand) |
//! | `lock-timeout <duration>` | yes | yes | bound the wait for table locks |
//! | `statement-timeout <duration>` | yes | yes | bound each statement's run time |
//! | `no-op -- <reason>` | yes | no | the up script has no statement, on purpose |
//! | `squashes <version> <checksum> <name>` | yes | no | this migration stands for that applied one (one line per migration it squashes; written by `migrator squash`) |
//! | `backfill <table>.<key> batch <rows> [pause <duration>] [target <duration>]` | yes | no | run the script's one `UPDATE`/`DELETE` in keyset batches of `<key>` (an integer column), each its own transaction, the statement's `:start` and `:end` standing for each batch's bounds (`WHERE <key> > :start AND <key> <= :end`); needs `no-transaction`; `target` adapts the batch size so that a batch takes about that long; the backfill's name is the migration's name |
//! | `requires-backfill <name>` | yes | no | refuse to apply this migration until the backfill `<name>` finished (one line per backfill) |
//!
//! Durations are an integer and a unit: `500ms`, `5s`, `2min` (or `2m`), `1h`; `0s` means no
//! limit.
//!
//! An up script with no statement (empty, or only comments and directives) is an error unless
//! it says `no-op`, so that an untouched `migrator new` template is never applied; an up
//! script that says `no-op` must have no statement. A down script may be empty: reverting
//! then changes nothing (lint reports it as `missing-down`).
//!
//! Nothing that looks like a directive is ignored. These are errors, with their line: an
//! unknown directive, a directive in the wrong script or given twice, a directive below the
//! header (after SQL, or after a `/* */` block comment, which ends the header), a directive
//! after SQL on the same line, a directive in a block comment or a MySQL `#` comment, the
//! marker in another case (`-- MIGRATOR:`; directives are lowercase), a marker without its
//! colon (`-- migrator no-transaction`), and a header line broken by a lone carriage return
//! (classic Mac OS line endings), which would hide the rest of the line in the directive.

use std::time::Duration;

use crate::split::printable;
use crate::version::Phase;

/// The marker that starts every directive line (after `--` and optional spaces).
pub(crate) const MARKER: &str = "migrator:";

/// Up or down script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    /// `{version}_{name}.up.sql`
    Up,
    /// `{version}_{name}.down.sql`
    Down,
}

impl ScriptKind {
    /// `up` or `down`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Up => "up",
            ScriptKind::Down => "down",
        }
    }
}

/// An acknowledged lint hazard: `-- migrator:allow <rule>, <rule> -- <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    /// Rule ids, kebab-case.
    pub rules: Vec<String>,
    /// Why the hazard is acceptable here.
    pub reason: String,
    /// 1-based line of the directive.
    pub line: usize,
}

/// One migration a squash migration stands for:
/// `-- migrator:squashes <version> <checksum> <name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squashed {
    /// Its version.
    pub version: i64,
    /// The checksum it was applied with (`sha256:…`).
    pub checksum: String,
    /// Its name.
    pub name: String,
    /// 1-based line of the directive.
    pub line: usize,
}

/// The directives of one script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directives {
    /// `no-transaction`: run statement by statement, outside a transaction.
    pub no_transaction: bool,
    /// `allow` lines, in file order.
    pub allow: Vec<Allow>,
    /// `irreversible -- <reason>` (up scripts only).
    pub irreversible: Option<String>,
    /// `phase` (up scripts only); expand when absent.
    pub phase: Phase,
    /// `lock-timeout`; `Some(Duration::ZERO)` means no limit.
    pub lock_timeout: Option<Duration>,
    /// `statement-timeout`; `Some(Duration::ZERO)` means no limit.
    pub statement_timeout: Option<Duration>,
    /// `no-op -- <reason>` (up scripts only): the script has no statement, on purpose.
    pub no_op: Option<String>,
    /// `squashes` lines (up scripts only), in file order: the migrations this one stands for
    /// in databases that applied them one by one.
    pub squashes: Vec<Squashed>,
    /// `backfill <table>.<key> batch <rows> …` (up scripts only).
    pub backfill: Option<BackfillDirective>,
    /// `requires-backfill <name>` lines (up scripts only), in file order.
    pub requires_backfill: Vec<RequiredBackfill>,
}

/// `-- migrator:backfill <table>.<key> batch <rows> [pause <duration>] [target <duration>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillDirective {
    /// The table, as written (`orders` or `shop.orders`).
    pub table: String,
    /// The integer key column the batches walk.
    pub key: String,
    /// Rows per batch (the first batch's size when `target` is given).
    pub batch: u64,
    /// Pause between batches.
    pub pause: Duration,
    /// The time a batch should take: the batch size adapts to it.
    pub target: Option<Duration>,
    /// 1-based line of the directive.
    pub line: usize,
}

/// `-- migrator:requires-backfill <name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredBackfill {
    /// The backfill's name.
    pub name: String,
    /// 1-based line of the directive.
    pub line: usize,
}

/// A directive that cannot be accepted, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    /// 1-based line in the script.
    pub line: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// The lines of `text` without their line terminators (`\n` or `\r\n`), with a leading
/// UTF-8 byte order mark removed from the first line.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line))
}

/// If `line` is a comment line starting a directive (`-- migrator:…`), returns the text
/// after the marker.
pub(crate) fn directive_body(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("--")?;
    rest.trim_start().strip_prefix(MARKER)
}

/// Whether `line` belongs to a script's header: blank or a `--` comment.
pub(crate) fn is_header_line(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with("--")
}

/// Parses the directives of a script.
///
/// With `check_body`, lines below the header that look like directives are reported (a
/// directive there would otherwise be silently ignored). Embedded scripts were checked at
/// compile time and skip that scan.
///
/// Line numbers count a lone `\r` as a line break, as the splitter and editors do.
pub fn parse(text: &str, kind: ScriptKind, check_body: bool) -> Result<Directives, Vec<DirectiveError>> {
    let mut directives = Directives::default();
    let mut errors = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    // The line that ended the header, and whether it was a block comment.
    let mut header_end: Option<(usize, HeaderEnd)> = None;
    let mut number = 0;
    for line in lines(text) {
        // A lone `\r` left inside the line (CRLF endings were stripped) ends a line too.
        let pieces = line.split('\r');
        let first = number + 1;
        number += line.matches('\r').count() + 1;
        if header_end.is_none() && is_header_line(line) {
            if line.contains('\r') {
                errors.push(DirectiveError {
                    line: first,
                    message: "this header line is broken by a carriage return without a line feed (classic Mac OS \
                              line endings), which hides the rest of the line in the comment: save the file with \
                              LF or CRLF line endings"
                        .to_owned(),
                });
                continue;
            }
            match directive_body(line) {
                Some(body) => {
                    if let Err(message) = apply(&mut directives, &mut seen, body, kind, first) {
                        errors.push(DirectiveError { line: first, message });
                    }
                }
                None => {
                    if let Some(message) = near_miss(line) {
                        errors.push(DirectiveError { line: first, message });
                    }
                }
            }
            continue;
        }
        if header_end.is_none() {
            let trimmed = line.trim_start();
            let end = if trimmed.starts_with("/*") {
                HeaderEnd::BlockComment
            } else if trimmed.starts_with('#') {
                HeaderEnd::HashComment
            } else {
                HeaderEnd::Sql
            };
            header_end = Some((first, end));
            if !check_body {
                break;
            }
        }
        for (offset, piece) in pieces.enumerate() {
            if let Some(message) = misplaced(piece, header_end) {
                errors.push(DirectiveError { line: first + offset, message });
            }
        }
    }
    if errors.is_empty() { Ok(directives) } else { Err(errors) }
}

/// What ended a script's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderEnd {
    Sql,
    BlockComment,
    HashComment,
}

/// If a line below the header holds something that looks like a directive, why it is not
/// read.
fn misplaced(line: &str, header_end: Option<(usize, HeaderEnd)>) -> Option<String> {
    let trimmed = line.trim_start();
    let at = marker_in(line)?;
    let (end_line, end) = header_end.unwrap_or((1, HeaderEnd::Sql));
    let example = clip(line.get(at..).unwrap_or("").trim(), 60);
    let message = if !trimmed.starts_with("--") {
        let comment = if trimmed.starts_with("/*") {
            "in a block comment"
        } else if trimmed.starts_with('#') {
            "in a `#` comment"
        } else {
            "after SQL on the same line"
        };
        format!(
            "a directive {comment} is not read: directives are `--` comment lines of their own at the top of the \
             file; write `-- {example}` there"
        )
    } else {
        match end {
            HeaderEnd::Sql => format!(
                "directive below the first SQL statement (line {end_line}) is not read: move it to the top of the \
                 file, above any SQL"
            ),
            HeaderEnd::BlockComment => format!(
                "directive below a block comment (line {end_line}) is not read: a `/* */` comment ends the header \
                 of directives; move the directive above it, or write the comment with `--` lines"
            ),
            HeaderEnd::HashComment => format!(
                "directive below a `#` comment (line {end_line}) is not read: only `--` comments belong to the \
                 header of directives; move the directive above it, or write the comment with `--`"
            ),
        }
    };
    let lowercase = marker_case(line.get(at..).unwrap_or(""));
    Some(match lowercase {
        Some(fixed) => format!("{message} (and in lowercase: `{fixed}`)"),
        None => message,
    })
}

/// The byte offset of a directive marker (`migrator:`, in any case) that follows `--`, `#`
/// or `/*` and optional spaces somewhere in `line`.
fn marker_in(line: &str) -> Option<usize> {
    let lower = line.to_ascii_lowercase();
    lower.match_indices(MARKER).map(|(at, _)| at).find(|&at| {
        let before = lower.get(..at).unwrap_or("").trim_end();
        before.ends_with("--") || before.ends_with('#') || before.ends_with("/*") || before.ends_with("/*!")
    })
}

/// If `text` starts with the directive marker in another case than lowercase, the text
/// with the marker and the directive's name lowercased.
fn marker_case(text: &str) -> Option<String> {
    let marker = text.get(..MARKER.len())?;
    if !marker.eq_ignore_ascii_case(MARKER) {
        return None;
    }
    let name_end = text.find(char::is_whitespace).unwrap_or(text.len());
    let head = text.get(..name_end)?;
    let fixed = format!("{}{}", head.to_ascii_lowercase(), text.get(name_end..)?);
    (head != head.to_ascii_lowercase()).then(|| clip(fixed.trim_end(), 60))
}

/// `text` from the file, as messages quote it: cut to `max` chars (with `…` when cut),
/// control characters shown as control pictures.
fn clip(text: &str, max: usize) -> String {
    let mut clipped: String = text.chars().take(max).map(printable).collect();
    if text.chars().nth(max).is_some() {
        clipped.push('…');
    }
    clipped
}

/// A header comment that was probably meant as a directive: the marker in another case
/// (`-- MIGRATOR:no-transaction`) or without its colon (`-- migrator no-transaction`).
fn near_miss(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    if let Some(fixed) = marker_case(rest) {
        return Some(format!(
            "`{}` is not read: directives are written in lowercase: write `-- {fixed}`",
            clip(line.trim(), 60)
        ));
    }
    let word = rest.get(..8).filter(|w| w.eq_ignore_ascii_case("migrator")).and_then(|_| rest.get(8..))?;
    if word.starts_with(|c: char| c.is_whitespace() || c == '-' || c == '=') {
        Some(format!(
            "`{}` looks like a directive but lacks the colon: write `-- migrator:{}`",
            clip(line.trim(), 60),
            clip(word.trim_start_matches(|c: char| c.is_whitespace() || c == '-' || c == '='), 60)
        ))
    } else {
        None
    }
}

const UP_DIRECTIVES: &str = "no-transaction, allow, irreversible, phase, lock-timeout, statement-timeout, no-op, \
                             squashes, backfill, requires-backfill";
const DOWN_DIRECTIVES: &str = "no-transaction, lock-timeout, statement-timeout";

fn apply(
    directives: &mut Directives,
    seen: &mut Vec<&'static str>,
    body: &str,
    kind: ScriptKind,
    line: usize,
) -> Result<(), String> {
    let body = body.trim();
    let (name, rest) = match body.find(char::is_whitespace) {
        Some(at) => (body.get(..at).unwrap_or(body), body.get(at..).unwrap_or("").trim()),
        None => (body, ""),
    };
    let known: &'static str = match name {
        "no-transaction" => "no-transaction",
        "allow" => "allow",
        "irreversible" => "irreversible",
        "phase" => "phase",
        "lock-timeout" => "lock-timeout",
        "statement-timeout" => "statement-timeout",
        "no-op" => "no-op",
        "squashes" => "squashes",
        "backfill" => "backfill",
        "requires-backfill" => "requires-backfill",
        "" => return Err(format!("empty directive: write one of {}", known_list(kind))),
        other if KNOWN.contains(&other.to_ascii_lowercase().as_str()) => {
            return Err(format!("directives are written in lowercase: write `{}`", other.to_ascii_lowercase()));
        }
        other => {
            return Err(format!("unknown directive `{}`: known directives are {}", clip(other, 60), known_list(kind)));
        }
    };
    if kind == ScriptKind::Down
        && matches!(known, "allow" | "irreversible" | "phase" | "no-op" | "squashes" | "backfill" | "requires-backfill")
    {
        return Err(format!(
            "`{known}` belongs in the up script, not the down script: down scripts take only {DOWN_DIRECTIVES}"
        ));
    }
    if !matches!(known, "allow" | "squashes" | "requires-backfill") {
        if seen.contains(&known) {
            return Err(format!("`{known}` is given twice: keep one line"));
        }
        seen.push(known);
    }
    match known {
        "no-transaction" => {
            if !rest.is_empty() {
                return Err(format!("`no-transaction` takes no argument, found `{}`", clip(rest, 60)));
            }
            directives.no_transaction = true;
        }
        "allow" => {
            let (rules, reason) = split_reason(rest);
            let reason = reason.ok_or_else(|| {
                "`allow` needs a reason: write `-- migrator:allow <rule> -- <why this is safe here>`".to_owned()
            })?;
            let mut ids = Vec::new();
            for rule in rules.split(',') {
                let rule = rule.trim();
                if rule.is_empty() {
                    return Err(
                        "`allow` names no rule: write `-- migrator:allow <rule>[, <rule>] -- <reason>`".to_owned()
                    );
                }
                if !rule.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                    return Err(format!(
                        "`{}` is not a rule id: rule ids are kebab-case, such as `drop-column`",
                        clip(rule, 60)
                    ));
                }
                ids.push(rule.to_owned());
            }
            directives.allow.push(Allow { rules: ids, reason: reason.to_owned(), line });
        }
        "irreversible" => {
            let (before, reason) = split_reason(rest);
            if !before.is_empty() {
                return Err(format!(
                    "unexpected `{}` after `irreversible`: write `-- migrator:irreversible -- <reason>`",
                    clip(before, 60)
                ));
            }
            let reason = reason.ok_or_else(|| {
                "`irreversible` needs a reason: write `-- migrator:irreversible -- <why there is no down>`".to_owned()
            })?;
            directives.irreversible = Some(reason.to_owned());
        }
        "no-op" => {
            let (before, reason) = split_reason(rest);
            if !before.is_empty() {
                return Err(format!(
                    "unexpected `{}` after `no-op`: write `-- migrator:no-op -- <reason>`",
                    clip(before, 60)
                ));
            }
            let reason = reason.ok_or_else(|| {
                "`no-op` needs a reason: write `-- migrator:no-op -- <why this migration has no statement>`".to_owned()
            })?;
            directives.no_op = Some(reason.to_owned());
        }
        "phase" => {
            directives.phase = Phase::parse(rest).ok_or_else(|| {
                format!(
                    "unknown phase `{}`: write `-- migrator:phase expand` or `-- migrator:phase contract`",
                    clip(rest, 60)
                )
            })?;
        }
        "lock-timeout" => {
            directives.lock_timeout =
                Some(parse_duration(rest).map_err(|e| format!("`lock-timeout`: {}", clip(&e, 200)))?)
        }
        "statement-timeout" => {
            directives.statement_timeout =
                Some(parse_duration(rest).map_err(|e| format!("`statement-timeout`: {}", clip(&e, 200)))?)
        }
        "squashes" => {
            let squashed = parse_squashed(rest, line)?;
            if let Some(first) = directives.squashes.iter().find(|s| s.version == squashed.version) {
                return Err(format!(
                    "version {} is squashed twice (also on line {}): keep one line",
                    squashed.version, first.line
                ));
            }
            directives.squashes.push(squashed);
        }
        "backfill" => directives.backfill = Some(parse_backfill(rest, line)?),
        "requires-backfill" => {
            let name = rest.trim();
            if name.is_empty() || name.contains(char::is_whitespace) || !is_word(name) {
                return Err(format!(
                    "`requires-backfill` takes one backfill name (letters, digits, `_`), found `{}`: write \
                     `-- migrator:requires-backfill <name>`",
                    clip(rest, 60)
                ));
            }
            if let Some(first) = directives.requires_backfill.iter().find(|r| r.name == name) {
                return Err(format!(
                    "backfill `{name}` is required twice (also on line {}): keep one line",
                    first.line
                ));
            }
            directives.requires_backfill.push(RequiredBackfill { name: name.to_owned(), line });
        }
        _ => {}
    }
    Ok(())
}

/// Every directive name.
const KNOWN: &[&str] = &[
    "no-transaction",
    "allow",
    "irreversible",
    "phase",
    "lock-timeout",
    "statement-timeout",
    "no-op",
    "squashes",
    "backfill",
    "requires-backfill",
];

/// Whether `text` is a plain identifier: an ASCII letter or `_`, then letters, digits or `_`.
pub(crate) fn is_word(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The placeholders of a backfill statement: `:start` and `:end`, each not after another
/// `:` (so a PostgreSQL cast `x::start` is not one) and not followed by a letter, digit or
/// `_`, and outside string literals, quoted identifiers and comments (as the splitter's lexer
/// reads them). Answers the byte ranges of each, in order, with which bound it is (`true`:
/// start).
pub(crate) fn bound_placeholders(statement: &str) -> Vec<(std::ops::Range<usize>, bool)> {
    use crate::split::TokenKind;
    let bytes = statement.as_bytes();
    // Text where a `:start` is data, not a placeholder. A statement the lexer cannot read
    // (an unterminated quote) is refused when it is split; here it has no quoted text.
    let quoted: Vec<std::ops::Range<usize>> = crate::split::tokenize(statement, crate::dialect::Dialect::Postgres)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| {
            matches!(t.kind, TokenKind::String | TokenKind::DollarString | TokenKind::QuotedIdent) || t.kind.is_trivia()
        })
        .map(|t| t.range)
        .collect();
    let mut found = Vec::new();
    for (at, _) in statement.match_indices(':') {
        if at > 0 && bytes.get(at - 1) == Some(&b':') || quoted.iter().any(|q| q.contains(&at)) {
            continue;
        }
        let rest = statement.get(at + 1..).unwrap_or("");
        for (word, is_start) in [("start", true), ("end", false)] {
            let end = at + 1 + word.len();
            let follows_word = bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
            if rest.starts_with(word) && !follows_word && bytes.get(at + 1 + word.len()) != Some(&b':') {
                found.push((at..end, is_start));
            }
        }
    }
    found
}

/// `statement` with its `:start` and `:end` placeholders replaced by the integer bounds.
pub fn bind_bounds(statement: &str, start: i64, end: i64) -> String {
    let mut out = String::with_capacity(statement.len() + 16);
    let mut copied = 0;
    for (range, is_start) in bound_placeholders(statement) {
        out.push_str(statement.get(copied..range.start).unwrap_or(""));
        out.push_str(&if is_start { start } else { end }.to_string());
        copied = range.end;
    }
    out.push_str(statement.get(copied..).unwrap_or(""));
    out
}

/// Why `statement` cannot be a backfill's statement, if it cannot: it must be an `UPDATE`
/// or a `DELETE` and use both `:start` and `:end`.
pub fn backfill_statement_problem(statement: &str) -> Option<String> {
    let first = statement.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    if first != "UPDATE" && first != "DELETE" {
        return Some(format!(
            "a backfill's statement is an `UPDATE` or a `DELETE`, found `{}`: write `UPDATE <table> SET … WHERE <key> > \
             :start AND <key> <= :end`",
            clip(statement.split_whitespace().next().unwrap_or(""), 30)
        ));
    }
    let found = bound_placeholders(statement);
    let missing: Vec<&str> = [(":start", true), (":end", false)]
        .into_iter()
        .filter(|(_, s)| !found.iter().any(|f| f.1 == *s))
        .map(|p| p.0)
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "the backfill's statement does not use {}: each batch binds its bounds there; write `WHERE <key> > :start \
             AND <key> <= :end`",
            missing.join(" and ")
        )
    })
}

/// Parses `<table>.<key> batch <rows> [pause <duration>] [target <duration>]`.
fn parse_backfill(rest: &str, line: usize) -> Result<BackfillDirective, String> {
    const FORM: &str = "write `-- migrator:backfill <table>.<key> batch <rows> [pause <duration>] [target <duration>]`, \
                        such as `-- migrator:backfill orders.id batch 10000 pause 50ms`";
    let mut words = rest.split_whitespace();
    let column = words.next().ok_or_else(|| format!("`backfill` names no table and key: {FORM}"))?;
    let (table, key) = column
        .rsplit_once('.')
        .filter(|(table, key)| {
            is_word(key) && !table.is_empty() && table.split('.').count() <= 2 && table.split('.').all(is_word)
        })
        .ok_or_else(|| {
            format!(
                "`{}` is not `<table>.<key>` (plain names, the table optionally `schema.table`): {FORM}",
                clip(column, 60)
            )
        })?;
    let (mut batch, mut pause, mut target) = (None, None, None);
    while let Some(word) = words.next() {
        let value = words.next().ok_or_else(|| format!("`{}` needs a value: {FORM}", clip(word, 30)))?;
        match word {
            "batch" if batch.is_none() => {
                let rows = value.parse::<u64>().ok().filter(|n| (1..=10_000_000).contains(n)).ok_or_else(|| {
                    format!(
                        "`batch {}`: the batch size is a number of rows from 1 to 10000000: {FORM}",
                        clip(value, 30)
                    )
                })?;
                batch = Some(rows);
            }
            "pause" if pause.is_none() => {
                pause = Some(parse_duration(value).map_err(|e| format!("`backfill … pause`: {}", clip(&e, 200)))?);
            }
            "target" if target.is_none() => {
                let duration = parse_duration(value).map_err(|e| format!("`backfill … target`: {}", clip(&e, 200)))?;
                if duration.is_zero() {
                    return Err(format!("`target 0…`: a batch's target duration must be above zero: {FORM}"));
                }
                target = Some(duration);
            }
            "batch" | "pause" | "target" => return Err(format!("`{word}` is given twice: {FORM}")),
            other => return Err(format!("unexpected `{}` in `backfill`: {FORM}", clip(other, 30))),
        }
    }
    let batch = batch.ok_or_else(|| format!("`backfill` needs a batch size: {FORM}"))?;
    Ok(BackfillDirective {
        table: table.to_owned(),
        key: key.to_owned(),
        batch,
        pause: pause.unwrap_or(Duration::ZERO),
        target,
        line,
    })
}

fn known_list(kind: ScriptKind) -> &'static str {
    match kind {
        ScriptKind::Up => UP_DIRECTIVES,
        ScriptKind::Down => DOWN_DIRECTIVES,
    }
}

/// Parses `<version> <checksum> <name>` of a `squashes` line.
fn parse_squashed(rest: &str, line: usize) -> Result<Squashed, String> {
    const FORM: &str = "write `-- migrator:squashes <version> <checksum> <name>`, as `migrator squash` does";
    let mut words = rest.split_whitespace();
    let (Some(version), Some(checksum), Some(name), None) = (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(format!("`squashes` takes a version, a checksum and a name, found `{}`: {FORM}", clip(rest, 60)));
    };
    let version =
        version.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
            format!("`{}` is not a migration version (a positive integer): {FORM}", clip(version, 30))
        })?;
    let well_formed = checksum.split_once(':').is_some_and(|(algorithm, digest)| {
        !algorithm.is_empty()
            && algorithm.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && !digest.is_empty()
            && digest.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if !well_formed {
        return Err(format!(
            "`{}` is not a checksum as the history records it (such as `sha256:` and 64 hex digits): {FORM}",
            clip(checksum, 80)
        ));
    }
    Ok(Squashed { version, checksum: checksum.to_owned(), name: name.to_owned(), line })
}

/// Splits `a, b -- reason` into (`a, b`, Some(`reason`)); the reason must be non-empty.
fn split_reason(text: &str) -> (&str, Option<&str>) {
    match text.find("--") {
        Some(at) => {
            let before = text.get(..at).unwrap_or("").trim();
            let reason = text.get(at + 2..).unwrap_or("").trim();
            (before, (!reason.is_empty()).then_some(reason))
        }
        None => (text.trim(), None),
    }
}

/// Parses `500ms`, `5s`, `2min`, `2m`, `1h` (an optional space between number and unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = (text.get(..digits_end).unwrap_or(""), text.get(digits_end..).unwrap_or("").trim());
    if digits.is_empty() {
        return Err(format!("`{text}` is not a duration: write a number and a unit, such as 5s, 500ms or 2min"));
    }
    let value: u64 = digits.parse().map_err(|_| format!("`{text}` is too large"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "" => return Err(format!("`{text}` has no unit: write {value}ms, {value}s or {value}min")),
        other => return Err(format!("unknown unit `{other}` in `{text}`: use ms, s, min or h")),
    };
    let millis = value.checked_mul(millis_per_unit).ok_or_else(|| format!("`{text}` is too large"))?;
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(text: &str) -> Result<Directives, Vec<DirectiveError>> {
        parse(text, ScriptKind::Up, true)
    }

    fn first_error(text: &str, kind: ScriptKind) -> DirectiveError {
        parse(text, kind, true).unwrap_err().remove(0)
    }

    #[test]
    fn backfill_lines() {
        let d = up("-- migrator:no-transaction\n-- migrator:backfill shop.orders.id batch 500 pause 50ms target 2s\n-- migrator:requires-backfill fill_a\n-- migrator:requires-backfill fill_b\nUPDATE t SET x = 1 WHERE id > :start AND id <= :end;\n").unwrap();
        let b = d.backfill.unwrap();
        assert_eq!(
            (b.table.as_str(), b.key.as_str(), b.batch, b.pause, b.target, b.line),
            ("shop.orders", "id", 500, Duration::from_millis(50), Some(Duration::from_secs(2)), 2)
        );
        let required: Vec<(&str, usize)> = d.requires_backfill.iter().map(|r| (r.name.as_str(), r.line)).collect();
        assert_eq!(required, [("fill_a", 3), ("fill_b", 4)]);
        let plain = up("-- migrator:backfill orders.id batch 10\nUPDATE t SET x = 1;\n").unwrap().backfill.unwrap();
        assert_eq!((plain.pause, plain.target), (Duration::ZERO, None));
        let cases = [
            ("-- migrator:backfill\n", "names no table and key"),
            ("-- migrator:backfill orders batch 10\n", "`orders` is not `<table>.<key>`"),
            ("-- migrator:backfill a.b.c.d batch 10\n", "is not `<table>.<key>`"),
            ("-- migrator:backfill orders.\"id\" batch 10\n", "is not `<table>.<key>`"),
            ("-- migrator:backfill orders.id\n", "needs a batch size"),
            ("-- migrator:backfill orders.id batch\n", "`batch` needs a value"),
            ("-- migrator:backfill orders.id batch 0\n", "from 1 to 10000000"),
            ("-- migrator:backfill orders.id batch ten\n", "from 1 to 10000000"),
            ("-- migrator:backfill orders.id batch 10 batch 20\n", "`batch` is given twice"),
            ("-- migrator:backfill orders.id batch 10 pause 5\n", "has no unit"),
            ("-- migrator:backfill orders.id batch 10 target 0s\n", "above zero"),
            ("-- migrator:backfill orders.id batch 10 every 5s\n", "unexpected `every`"),
            ("-- migrator:requires-backfill\n", "takes one backfill name"),
            ("-- migrator:requires-backfill a b\n", "takes one backfill name"),
            ("-- migrator:requires-backfill a\n-- migrator:requires-backfill a\n", "required twice (also on line 1)"),
        ];
        for (text, expected) in cases {
            let e = up(&format!("{text}SELECT 1;\n")).unwrap_err();
            assert!(e.iter().any(|e| e.message.contains(expected)), "{text}: {e:?}");
        }
        let e = first_error("-- migrator:backfill orders.id batch 10\nSELECT 1;\n", ScriptKind::Down);
        assert!(e.message.contains("`backfill` belongs in the up script"), "{e:?}");
    }

    #[test]
    fn bounds_are_bound_as_integers() {
        let cases = [
            ("UPDATE t SET x = 1 WHERE id > :start AND id <= :end", "UPDATE t SET x = 1 WHERE id > -5 AND id <= 10"),
            ("UPDATE t SET y = x::end WHERE id>:start AND id<=:end", "UPDATE t SET y = x::end WHERE id>-5 AND id<=10"),
            ("DELETE FROM t WHERE id > :start AND id <= :end_at", "DELETE FROM t WHERE id > -5 AND id <= :end_at"),
            ("UPDATE t SET a = :start", "UPDATE t SET a = -5"),
            // Data, not placeholders: in a string, a quoted name or a comment.
            (
                "UPDATE t SET note = 'at :start' /* :end */ WHERE id > :start AND id <= :end -- :end",
                "UPDATE t SET note = 'at :start' /* :end */ WHERE id > -5 AND id <= 10 -- :end",
            ),
            (
                "UPDATE t SET \":end\" = $$:end$$ WHERE id > :start AND id <= :end",
                "UPDATE t SET \":end\" = $$:end$$ WHERE id > -5 AND id <= 10",
            ),
        ];
        for (statement, bound) in cases {
            assert_eq!(bind_bounds(statement, -5, 10), bound, "{statement}");
        }
        let problems = [
            ("UPDATE t SET x = 1 WHERE id > :start AND id <= :end", None),
            ("delete from t where id > :start and id <= :end", None),
            ("INSERT INTO t SELECT :start, :end", Some("is an `UPDATE` or a `DELETE`, found `INSERT`")),
            ("UPDATE t SET x = 1 WHERE id > :start", Some("does not use :end")),
            ("UPDATE t SET x = 1", Some("does not use :start and :end")),
            ("UPDATE t SET x = x::start::end", Some("does not use :start and :end")),
        ];
        for (statement, expected) in problems {
            let problem = backfill_statement_problem(statement);
            match expected {
                None => assert_eq!(problem, None, "{statement}"),
                Some(text) => assert!(problem.as_deref().is_some_and(|p| p.contains(text)), "{statement}: {problem:?}"),
            }
        }
    }

    #[test]
    fn squashes_lines() {
        let d = up(
            "-- migrator:squashes 1 sha256:0a1b create_users\n-- migrator:squashes 2 sha256:ff add_name\nSELECT 1;\n",
        )
        .unwrap();
        let read: Vec<(i64, &str, &str, usize)> =
            d.squashes.iter().map(|s| (s.version, s.checksum.as_str(), s.name.as_str(), s.line)).collect();
        assert_eq!(read, [(1, "sha256:0a1b", "create_users", 1), (2, "sha256:ff", "add_name", 2)]);
        let cases = [
            (
                "-- migrator:squashes 1 sha256:0a x\n-- migrator:squashes 1 sha256:0b x\n",
                "version 1 is squashed twice (also on line 1)",
            ),
            ("-- migrator:squashes 1 sha256:0a\n", "takes a version, a checksum and a name"),
            ("-- migrator:squashes 0 sha256:0a x\n", "`0` is not a migration version"),
            ("-- migrator:squashes 1 0a1b x\n", "`0a1b` is not a checksum"),
            ("-- migrator:squashes 1 sha256:xyz x\n", "`sha256:xyz` is not a checksum"),
            ("-- migrator:squashes 1 sha256:0a x y\n", "takes a version, a checksum and a name"),
        ];
        for (text, expected) in cases {
            let e = up(&format!("{text}SELECT 1;\n")).unwrap_err();
            assert!(e.iter().any(|e| e.message.contains(expected)), "{text}: {e:?}");
        }
        let e = first_error("-- migrator:squashes 1 sha256:0a x\nDROP TABLE t;\n", ScriptKind::Down);
        assert!(e.message.contains("`squashes` belongs in the up script"), "{e:?}");
    }

    #[test]
    fn reads_every_directive() {
        let d = up("-- a note\n-- migrator:no-transaction\n--migrator:phase contract\n-- migrator:lock-timeout 5s\n-- migrator:statement-timeout 2min\n-- migrator:allow drop-column, drop-table -- old code stopped using it in v41\n-- migrator:irreversible -- data is gone\n\nALTER TABLE t DROP COLUMN c;\n").unwrap();
        assert!(d.no_transaction);
        assert_eq!(d.phase, Phase::Contract);
        assert_eq!(d.lock_timeout, Some(Duration::from_secs(5)));
        assert_eq!(d.statement_timeout, Some(Duration::from_secs(120)));
        assert_eq!(d.allow.len(), 1);
        assert_eq!(d.allow[0].rules, vec!["drop-column", "drop-table"]);
        assert_eq!(d.allow[0].reason, "old code stopped using it in v41");
        assert_eq!(d.allow[0].line, 6);
        assert_eq!(d.irreversible.as_deref(), Some("data is gone"));
    }

    #[test]
    fn defaults_without_directives() {
        let d = up("CREATE TABLE t (id bigint);").unwrap();
        assert_eq!(d, Directives::default());
        assert_eq!(d.phase, Phase::Expand);
    }

    #[test]
    fn crlf_and_bom_are_tolerated() {
        let d = up("\u{feff}-- migrator:no-transaction\r\n-- migrator:phase contract\r\nSELECT 1;\r\n").unwrap();
        assert!(d.no_transaction);
        assert_eq!(d.phase, Phase::Contract);
    }

    #[test]
    fn unknown_directive_is_an_error_with_its_line() {
        let e = first_error("-- hello\n-- migrator:no-transactoin\nSELECT 1;", ScriptKind::Up);
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unknown directive `no-transactoin`"), "{}", e.message);
        assert!(e.message.contains("no-transaction"), "{}", e.message);
    }

    #[test]
    fn down_scripts_take_only_their_directives() {
        let e = first_error("-- migrator:phase contract\nSELECT 1;", ScriptKind::Down);
        assert!(e.message.contains("belongs in the up script"), "{}", e.message);
        let d = parse(
            "-- migrator:no-transaction\n-- migrator:lock-timeout 1s\nDROP INDEX CONCURRENTLY i;",
            ScriptKind::Down,
            true,
        )
        .unwrap();
        assert!(d.no_transaction);
    }

    #[test]
    fn reasons_are_required() {
        assert!(
            first_error("-- migrator:allow drop-column\nSELECT 1;", ScriptKind::Up).message.contains("needs a reason")
        );
        assert!(
            first_error("-- migrator:allow drop-column --   \nSELECT 1;", ScriptKind::Up)
                .message
                .contains("needs a reason")
        );
        assert!(first_error("-- migrator:irreversible\nSELECT 1;", ScriptKind::Up).message.contains("needs a reason"));
        assert!(
            first_error("-- migrator:allow -- because\nSELECT 1;", ScriptKind::Up).message.contains("names no rule")
        );
        assert!(
            first_error("-- migrator:allow Drop_Column -- x\nSELECT 1;", ScriptKind::Up).message.contains("kebab-case")
        );
    }

    #[test]
    fn repeated_and_malformed_directives() {
        assert!(
            first_error("-- migrator:phase contract\n-- migrator:phase expand\n", ScriptKind::Up)
                .message
                .contains("twice")
        );
        assert!(first_error("-- migrator:phase later\n", ScriptKind::Up).message.contains("unknown phase"));
        assert!(
            first_error("-- migrator:no-transaction please\n", ScriptKind::Up).message.contains("takes no argument")
        );
        assert!(first_error("-- migrator:lock-timeout 5\n", ScriptKind::Up).message.contains("has no unit"));
        assert!(first_error("-- migrator:lock-timeout soon\n", ScriptKind::Up).message.contains("not a duration"));
        assert!(first_error("-- migrator:\n", ScriptKind::Up).message.contains("empty directive"));
        let allows = up("-- migrator:allow a -- x\n-- migrator:allow b -- y\n").unwrap();
        assert_eq!(allows.allow.len(), 2);
    }

    #[test]
    fn misplaced_and_misspelled_directives_are_reported() {
        let e = first_error("SELECT 1;\n-- migrator:no-transaction\n", ScriptKind::Up);
        assert_eq!(e.line, 2);
        assert!(e.message.contains("move it to the top"));
        let e = first_error("-- migrator no-transaction\nSELECT 1;", ScriptKind::Up);
        assert!(e.message.contains("lacks the colon"), "{}", e.message);
        assert!(e.message.contains("-- migrator:no-transaction"), "{}", e.message);
        // Embedded scripts were checked at compile time: the body scan is skipped.
        assert!(parse("SELECT 1;\n-- migrator:no-transaction\n", ScriptKind::Up, false).is_ok());
        // An ordinary comment mentioning migrator is fine.
        assert!(up("-- migratory birds\nSELECT 1;").is_ok());
    }

    /// `-- MIGRATOR:no-transaction` was ignored as an ordinary comment.
    #[test]
    fn directives_in_another_case_are_errors() {
        let e = first_error("-- MIGRATOR:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);", ScriptKind::Up);
        assert_eq!(e.line, 1);
        assert!(
            e.message.contains("directives are written in lowercase: write `-- migrator:no-transaction`"),
            "{}",
            e.message
        );
        let e = first_error("--Migrator:Phase contract\nSELECT 1;", ScriptKind::Up);
        assert!(e.message.contains("write `-- migrator:phase contract`"), "{}", e.message);
        let e = first_error("-- migrator:No-Transaction\nSELECT 1;", ScriptKind::Up);
        assert!(e.message.contains("directives are written in lowercase: write `no-transaction`"), "{}", e.message);
        let e = first_error("-- MIGRATOR no-transaction\nSELECT 1;", ScriptKind::Up);
        assert!(e.message.contains("lacks the colon"), "{}", e.message);
        let e = first_error("SELECT 1;\n-- MIGRATOR:no-transaction\n", ScriptKind::Up);
        assert!(e.message.contains("below the first SQL statement (line 1)"), "{}", e.message);
        assert!(e.message.contains("in lowercase: `migrator:no-transaction`"), "{}", e.message);
    }

    /// A block comment before a directive said "below the first SQL statement".
    #[test]
    fn directives_after_a_block_comment_say_so() {
        let e = first_error("/* Adds the index. */\n-- migrator:no-transaction\nSELECT 1;", ScriptKind::Up);
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("directive below a block comment (line 1) is not read"), "{}", e.message);
        assert!(e.message.contains("move the directive above it"), "{}", e.message);
        let e = first_error("# note\n-- migrator:no-transaction\nSELECT 1;", ScriptKind::Up);
        assert!(e.message.starts_with("directive below a `#` comment (line 1)"), "{}", e.message);
    }

    #[test]
    fn directives_outside_line_comments_of_their_own_are_errors() {
        for (text, line, what) in [
            ("SELECT 1; -- migrator:no-transaction\n", 1, "after SQL on the same line"),
            ("/* migrator:no-transaction */\nSELECT 1;", 1, "in a block comment"),
            ("# migrator:no-transaction\nSELECT 1;", 1, "in a `#` comment"),
            ("SELECT 1;\n/*\n-- migrator:phase contract\n*/", 3, "below the first SQL statement"),
        ] {
            let e = first_error(text, ScriptKind::Up);
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.message.contains(what), "{text:?}: {}", e.message);
        }
        // Mentioning the tool in a comment is fine.
        assert!(up("-- see migrator: docs\nSELECT 1; -- migrator docs\n/* migrator */").is_ok());
    }

    /// A lone `\r` (classic Mac OS line endings) made `-- migrator:irreversible -- x\rDROP TABLE t;`
    /// one directive line: the statement was hidden in the reason, and left out of the checksum.
    #[test]
    fn a_lone_carriage_return_in_the_header_is_an_error() {
        let e = first_error("-- migrator:irreversible -- gone\rDROP TABLE t;\r", ScriptKind::Up);
        assert_eq!(e.line, 1);
        assert!(e.message.contains("carriage return without a line feed"), "{}", e.message);
        // Below the header, lines broken by a lone `\r` are numbered as editors show them.
        let e = first_error("SELECT 1;\rSELECT 2;\r-- migrator:no-transaction\n", ScriptKind::Up);
        assert_eq!(e.line, 3);
        // CRLF is fine.
        assert!(up("-- migrator:no-transaction\r\nSELECT 1;\r\n").unwrap().no_transaction);
    }

    #[test]
    fn no_op_takes_a_reason_in_up_scripts_only() {
        let d = up("-- migrator:no-op -- version 3 was removed\n").unwrap();
        assert_eq!(d.no_op.as_deref(), Some("version 3 was removed"));
        assert!(first_error("-- migrator:no-op\n", ScriptKind::Up).message.contains("`no-op` needs a reason"));
        assert!(first_error("-- migrator:no-op now -- x\n", ScriptKind::Up).message.contains("unexpected `now`"));
        assert!(first_error("-- migrator:no-op -- x\n", ScriptKind::Down).message.contains("belongs in the up script"));
    }

    #[test]
    fn all_errors_are_collected() {
        let errors = up("-- migrator:foo\n-- migrator:bar\nSELECT 1;\n-- migrator:phase contract").unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![1, 2, 4]);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5 s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert!(parse_duration("1d").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("99999999999999999999h").unwrap_err().contains("too large"));
    }

    // ----- properties ---------------------------------------------------------------------

    use proptest::prelude::*;

    /// Runs a property over `cases` generated cases and reports the minimal failing input.
    fn run_property<S: Strategy>(cases: u32, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
        let mut runner = proptest::test_runner::TestRunner::new(config);
        if let Err(e) = runner.run(&strategy, property) {
            panic!("{e}");
        }
    }

    /// What one generated header line does to the parsed [`Directives`].
    #[derive(Debug, Clone)]
    enum Effect {
        None,
        NoTransaction,
        Phase(Phase),
        LockTimeout(Duration),
        StatementTimeout(Duration),
        Allow(Vec<String>, String),
        Irreversible(String),
        NoOp(String),
    }

    /// `-- migrator:` with the spacing variants the parser accepts.
    fn marker() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["-- migrator:", "--migrator:", "  --  migrator:", "--\tmigrator: "])
            .prop_map(String::from)
    }

    /// A duration as written in a directive, and its value.
    fn duration() -> impl Strategy<Value = (String, Duration)> {
        let unit =
            prop::sample::select(vec![("ms", 1u64), ("s", 1_000), ("m", 60_000), ("min", 60_000), ("h", 3_600_000)]);
        (0u64..1_000_000, unit, prop::sample::select(vec!["", " "]), prop::sample::select(vec!["", "0", "00"]))
            .prop_map(|(value, (unit, factor), space, zeros)| {
                (format!("{zeros}{value}{space}{unit}"), Duration::from_millis(value * factor))
            })
    }

    /// A reason after `--`: never empty once trimmed.
    fn reason() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9 .,'()-]{0,30}"
    }

    /// The lines of a valid header for `kind` (each directive at most once, except `allow`),
    /// with ordinary comments and blank lines, in any order.
    fn header(kind: ScriptKind) -> impl Strategy<Value = Vec<(String, Effect)>> {
        let up = kind == ScriptKind::Up;
        // Kebab-case, never `--` (that would start the reason).
        let rule = "[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}";
        let allow =
            (marker(), prop::collection::vec(rule, 1..4), prop::sample::select(vec![", ", ",", " , "]), reason())
                .prop_map(|(m, rules, comma, reason)| {
                    (
                        format!("{m}allow {} -- {reason}", rules.join(comma)),
                        Effect::Allow(rules, reason.trim().to_owned()),
                    )
                });
        let noise =
            prop::sample::select(vec!["", "   ", "-- a note", "--", "-- migratory birds", "-- see migrator: docs"])
                .prop_map(|line| (line.to_owned(), Effect::None));
        (
            prop::option::of(marker().prop_map(|m| (format!("{m}no-transaction"), Effect::NoTransaction))),
            prop::option::of((marker(), prop::sample::select(vec![Phase::Expand, Phase::Contract])).prop_map(
                |(m, phase)| {
                    (
                        format!("{m}phase {}", if phase == Phase::Expand { "expand" } else { "contract" }),
                        Effect::Phase(phase),
                    )
                },
            )),
            prop::option::of(
                (marker(), duration())
                    .prop_map(|(m, (text, d))| (format!("{m}lock-timeout {text}"), Effect::LockTimeout(d))),
            ),
            prop::option::of(
                (marker(), duration())
                    .prop_map(|(m, (text, d))| (format!("{m}statement-timeout {text}"), Effect::StatementTimeout(d))),
            ),
            prop::option::of((marker(), reason()).prop_map(|(m, reason)| {
                (format!("{m}irreversible -- {reason}"), Effect::Irreversible(reason.trim().to_owned()))
            })),
            prop::collection::vec(allow, 0..3),
            prop::collection::vec(noise, 0..4),
            prop::option::of(
                (marker(), reason())
                    .prop_map(|(m, reason)| (format!("{m}no-op -- {reason}"), Effect::NoOp(reason.trim().to_owned()))),
            ),
        )
            .prop_flat_map(move |(no_tx, phase, lock, statement, irreversible, allows, noise, no_op)| {
                let mut lines: Vec<(String, Effect)> = [no_tx, lock, statement].into_iter().flatten().collect();
                if up {
                    lines.extend([phase, irreversible, no_op].into_iter().flatten());
                    lines.extend(allows);
                }
                lines.extend(noise);
                Just(lines).prop_shuffle()
            })
    }

    /// A generated script: optional byte order mark, the header, a body, a line ending.
    fn script(kind: ScriptKind) -> impl Strategy<Value = (String, Directives)> {
        let body =
            prop::sample::select(vec!["", "SELECT 1;", "CREATE TABLE t (id int);\n-- a comment\nSELECT 2;", "  x"]);
        (any::<bool>(), header(kind), body, prop::sample::select(vec!["\n", "\r\n"])).prop_map(
            |(bom, lines, body, newline)| {
                let mut text = if bom { "\u{feff}".to_owned() } else { String::new() };
                let mut expected = Directives::default();
                for (index, (line, effect)) in lines.into_iter().enumerate() {
                    text.push_str(&line);
                    text.push_str(newline);
                    match effect {
                        Effect::None => {}
                        Effect::NoTransaction => expected.no_transaction = true,
                        Effect::Phase(phase) => expected.phase = phase,
                        Effect::LockTimeout(d) => expected.lock_timeout = Some(d),
                        Effect::StatementTimeout(d) => expected.statement_timeout = Some(d),
                        Effect::Allow(rules, reason) => expected.allow.push(Allow { rules, reason, line: index + 1 }),
                        Effect::Irreversible(reason) => expected.irreversible = Some(reason),
                        Effect::NoOp(reason) => expected.no_op = Some(reason),
                    }
                }
                text.push_str(body);
                (text, expected)
            },
        )
    }

    #[test]
    fn prop_up_headers_round_trip() {
        run_property(2000, script(ScriptKind::Up), |(text, expected)| {
            prop_assert_eq!(parse(&text, ScriptKind::Up, true), Ok(expected.clone()), "{:?}", text);
            prop_assert_eq!(parse(&text, ScriptKind::Up, false), Ok(expected), "{:?}", text);
            Ok(())
        });
    }

    #[test]
    fn prop_down_headers_round_trip() {
        run_property(1000, script(ScriptKind::Down), |(text, expected)| {
            prop_assert_eq!(parse(&text, ScriptKind::Down, true), Ok(expected), "{:?}", text);
            Ok(())
        });
    }

    /// The invariants of [`parse`] on any input (the `directive` fuzz target checks the same).
    fn check_any_script(text: &str, kind: ScriptKind) -> Result<(), TestCaseError> {
        // `\n`, `\r\n` and a lone `\r` each end a line.
        let line_count = text.split('\n').count()
            + text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l).matches('\r').count()).sum::<usize>();
        let header_only = parse(text, kind, false);
        let with_body = parse(text, kind, true);
        for result in [&header_only, &with_body] {
            match result {
                Ok(d) => {
                    for allow in &d.allow {
                        prop_assert!((1..=line_count).contains(&allow.line), "{:?}", allow);
                        prop_assert!(!allow.rules.is_empty() && !allow.reason.is_empty(), "{:?}", allow);
                    }
                    if kind == ScriptKind::Down {
                        prop_assert!(
                            d.allow.is_empty()
                                && d.irreversible.is_none()
                                && d.no_op.is_none()
                                && d.phase == Phase::Expand
                        );
                    }
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for e in errors {
                        prop_assert!((1..=line_count).contains(&e.line), "line {} of {}: {:?}", e.line, line_count, e);
                        prop_assert!(!e.message.is_empty());
                    }
                    prop_assert!(errors.windows(2).all(|w| w[0].line < w[1].line), "{:?}", errors);
                }
            }
        }
        match (&header_only, &with_body) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert!(b.starts_with(a), "{:?} / {:?}", a, b),
            (Ok(_), Err(_)) => {}
            (Err(a), Ok(_)) => return Err(TestCaseError::fail(format!("header fails ({a:?}), whole script parses"))),
        }
        Ok(())
    }

    /// Scripts assembled from directive fragments, so that most inputs reach deep into the
    /// parser: markers, names, arguments, separators, line breaks and stray text.
    fn chaos() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            4 => prop::sample::select(vec![
                "-- migrator:", "--migrator:", "-- migrator", "-- migrator ", "-- migrator=", "--", " -- ", "migrator:",
                "no-transaction", "allow", "irreversible", "phase", "lock-timeout", "statement-timeout",
                "expand", "contract", "drop-column", "Drop", ",", ", ", " ", "\t", "5s", "500 ms", "2min", "1h", "0",
                "99999999999999999999", "18446744073709551615ms", "ms", "d", "\n", "\r\n", "\r", "\u{feff}",
                "SELECT 1;", "é", "日本", "no-op", "MIGRATOR:", "Migrator", "/*", "*/", "#", "SELECT 1; ", "-- x\r",
            ])
            .prop_map(String::from),
            1 => ".{0,6}",
        ];
        prop::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
    }

    #[test]
    fn prop_any_script_cites_existing_lines() {
        run_property(2000, (chaos(), any::<bool>()), |(text, down)| {
            check_any_script(&text, if down { ScriptKind::Down } else { ScriptKind::Up })
        });
    }

    #[test]
    fn prop_durations_round_trip() {
        run_property(1000, duration(), |(text, expected)| {
            prop_assert_eq!(parse_duration(&text), Ok(expected));
            prop_assert_eq!(parse_duration(&format!("  {text} ")), Ok(expected));
            Ok(())
        });
        run_property(1000, chaos(), |text| {
            match parse_duration(&text) {
                Ok(d) => {
                    prop_assert!(text.trim_start().starts_with(|c: char| c.is_ascii_digit()), "{:?} -> {:?}", text, d);
                    prop_assert_eq!(parse_duration(&format!("{}ms", d.as_millis())), Ok(d));
                }
                Err(message) => prop_assert!(!message.is_empty()),
            }
            Ok(())
        });
    }
}
