//! SQL lexer and statement splitter for PostgreSQL, MySQL/MariaDB and SQLite scripts.
//!
//! Migration files usually hold several statements separated by `;`, but a `;` does not
//! always end a statement: it may sit inside a string, a quoted identifier, a comment, a
//! PostgreSQL dollar-quoted function body, a parenthesised list (`CREATE RULE ... DO
//! ALSO (...; ...)`), a PostgreSQL `BEGIN ATOMIC ... END` body or a MySQL stored-program
//! body (`CREATE PROCEDURE ... BEGIN ...; ...; END`) or a SQLite trigger body (`CREATE
//! TRIGGER ... BEGIN ...; ...; END`). This module finds the real statement boundaries without
//! a full SQL parser.
//!
//! # Design
//!
//! Splitting is done in two passes, both linear in the size of the script:
//!
//! 1. **Lexing** ([`tokenize`]). A small cursor over the `&str` steps one `char` at a
//!    time (it never slices inside a UTF-8 sequence) and produces [`Token`]s that tile the
//!    input exactly. The lexer knows each [`Dialect`]'s quoting and comment rules, so
//!    every construct that can hide a `;` becomes one opaque token. An unterminated
//!    string, quoted identifier, dollar quote or block comment is an error that points
//!    at the place where the construct was opened.
//! 2. **Splitting** ([`split`]). A walker visits the *significant* tokens (everything
//!    except whitespace and comments) with a small per-statement state machine: the
//!    parenthesis depth, a stack of open blocks and, for MySQL, a recogniser for
//!    stored-program headers. A `;` ends a statement only at parenthesis depth 0 with no
//!    open block. Keywords are recognised case-insensitively and only in
//!    [`TokenKind::Word`] tokens; a word directly after `.`, `@` or `AS`, or directly
//!    before `.`, is a name (`t.end`, `@begin`, `AS end`), never a keyword.
//!
//! # Lexing rules
//!
//! PostgreSQL (with `standard_conforming_strings = on`):
//! * `'...'` strings with `''` escapes and no backslash escapes; `E'...'` strings (the
//!   `E` must start a token, so `namee'x'` is a word and a plain string) additionally
//!   honour backslash escapes; `U&'...'`, `B'...'`, `X'...'` and `N'...'` use the plain
//!   rules.
//! * `$tag$ ... $tag$` dollar quotes, where the tag is empty or an identifier; only the
//!   exact opening delimiter closes the body. `$1` is a positional parameter and `a$b$`
//!   is a single identifier (a `$` after an identifier character never opens a quote).
//! * `"..."` and `U&"..."` quoted identifiers with `""` escapes.
//! * `--` line comments and `/* ... */` block comments, which nest.
//!
//! MySQL/MariaDB (default `sql_mode`: backslash escapes on, `ANSI_QUOTES` off):
//! * `'...'` and `"..."` strings with backslash and doubled-quote escapes; `` `...` ``
//!   quoted identifiers with ``` `` ``` escapes. `$` is an identifier character.
//! * `#` line comments; `--` starts a comment only when followed by whitespace, a control
//!   character or the end of input (`SELECT 1--1` is a subtraction).
//! * `/* ... */` block comments do not nest. Executable comments (`/*! ... */`,
//!   `/*M! ... */`) are lexed as [`TokenKind::BlockComment`], but the splitter treats
//!   them as significant: the server executes them, so `/*!40101 SET NAMES utf8 */;` is
//!   a statement of its own instead of being dropped as an empty one.
//!
//! SQLite:
//! * `'...'` strings with `''` escapes and no backslash escapes (`X'...'` blobs likewise).
//! * Quoted identifiers in three spellings: `"..."` with `""` escapes, `` `...` `` with
//!   ``` `` ``` escapes, and `[...]`, which has no escape and ends at the first `]`.
//! * `--` line comments (no whitespace needed after them) and `/* ... */` block comments,
//!   which do not nest. `$` is an identifier character after the first one and otherwise a
//!   parameter prefix (`$name`), never a quote.
//!
//! Whitespace is any Unicode whitespace plus the byte-order mark `U+FEFF`. Other
//! non-ASCII characters (letters, CJK, emoji, ...) are identifier characters.
//!
//! # Block rules
//!
//! PostgreSQL: after the words `BEGIN ATOMIC` (SQL-standard function bodies) semicolons
//! do not split until the matching `END`; inside such a body `CASE` opens a nested level
//! that `END` closes. A plain `BEGIN;` / `BEGIN WORK;` / `COMMIT;` is an ordinary
//! statement, and PL/pgSQL bodies are dollar-quoted strings, so they need no rule.
//!
//! MySQL: a statement whose leading words are `{CREATE | ALTER} [OR REPLACE] [DEFINER =
//! user] [AGGREGATE] {PROCEDURE | FUNCTION | TRIGGER | EVENT}` is a stored program
//! (executable comments between these words are skipped). In it:
//! * at block depth 0 the body is opened by `BEGIN` or a flow-control statement (`IF`,
//!   `CASE`, `LOOP`, `WHILE`, `REPEAT`) where a trigger body starts (after `FOR EACH ROW
//!   [FOLLOWS | PRECEDES name]`), where an event body starts (after `DO`) or after a label
//!   (`label: BEGIN`, `label: LOOP`). In a procedure or function, `BEGIN` outside
//!   parentheses opens the body anywhere, unless a literal, `;` or an operator other than
//!   `(` follows it (`SET begin = 1` uses a column named `begin`).
//! * inside a block, `BEGIN`, `IF`, `CASE`, `LOOP`, `WHILE`, `REPEAT` and MariaDB's `FOR`
//!   open a level only at the start of a statement: after `;`, `BEGIN`, `THEN`, `ELSE`,
//!   the `DO` of `WHILE`/`FOR`, `LOOP`, `REPEAT`, a label `name:`, or the condition list
//!   of `DECLARE ... HANDLER FOR ...`. `THEN`/`ELSE` of a `CASE` *expression* do not start
//!   statements. `CASE` anywhere else opens a `CASE` expression level.
//! * `END` closes a level and swallows a directly following `IF`, `CASE`, `LOOP`,
//!   `WHILE`, `REPEAT` or `FOR` (`END IF`, `END LOOP label`).
//!
//! So `IF(a, b, c)` and `REPEAT('x', 3)` calls and `IF [NOT] EXISTS` clauses never open
//! blocks, and outside stored programs `BEGIN;` is an ordinary statement. MariaDB's
//! anonymous `BEGIN NOT ATOMIC ... END` block is also recognised at statement start.
//! A statement whose first word is `DELIMITER` (the `mysql` client command) is rejected
//! with [`SplitErrorKind::DelimiterCommand`]: it is not SQL, and it is not needed because
//! the rules above split stored programs correctly with plain `;`.
//!
//! SQLite: a statement whose leading words are `CREATE [TEMP | TEMPORARY] TRIGGER` is a
//! trigger; its first `BEGIN` opens the body, in which `CASE` opens a nested level and `END`
//! closes the innermost one, so `CASE … END` expressions in body statements are safe. Every
//! other `BEGIN [DEFERRED | IMMEDIATE | EXCLUSIVE] [TRANSACTION]` and `END [TRANSACTION]` is an
//! ordinary statement (the linter refuses transaction control in migrations).
//!
//! An input that ends inside a block is [`SplitErrorKind::UnterminatedBlock`], reported
//! at the innermost block that is still open.
//!
//! # Refused input
//!
//! Some text splits, but no server runs it from a migration; it is refused with its line
//! and column instead of failing (or hanging) at runtime:
//!
//! * a NUL byte anywhere ([`SplitErrorKind::NulByte`]): PostgreSQL rejects the message and
//!   SQLite stops reading at it; a control character (U+0001–U+001F but tab, line breaks,
//!   vertical tab and form feed, and U+007F) outside strings, quoted identifiers and
//!   comments ([`SplitErrorKind::ControlCharacter`]); a bidirectional formatting character
//!   (U+202A–U+202E, U+2066–U+2069) anywhere ([`SplitErrorKind::BidiControl`]): it makes
//!   the script display in another order than the server reads it ("Trojan Source");
//! * client commands ([`SplitErrorKind::ClientCommand`]): a psql backslash command
//!   (`\connect`, `\i`, `\set`, `\.`) anywhere outside strings and comments in PostgreSQL,
//!   a mysql client backslash command or `source` at the start of a MySQL statement (and `DELIMITER`,
//!   [`SplitErrorKind::DelimiterCommand`]), a sqlite3 dot-command (`.read`) or a backslash at the start of
//!   a SQLite statement;
//! * data streamed through the client ([`SplitErrorKind::DataStream`]): PostgreSQL
//!   `COPY … FROM STDIN` (and the data block pg_dump writes after it) and `COPY … TO
//!   STDOUT`, MySQL `LOAD DATA LOCAL INFILE`.
//!
//! # Keywords used as names
//!
//! `BEGIN` and `END` are not reserved in MySQL, and SQLite accepts `end` as a column name,
//! so a body may use them as names. A block keyword is read as a name when it stands where
//! a name or an operand is expected: after `(`, `,`, an operator, or a keyword that takes a
//! name or an expression (`SET end = 1`, `SELECT a, end`, `WHERE end > 0`, `ORDER BY end`,
//! `DECLARE end INT`, `UPDATE end`, `THEN end`); a `BEGIN` or an `END` of a `BEGIN` block
//! followed by an operator, `,` or `)` is a name too (`begin = 1`, `end)`); a word after `.`,
//! `@` or `AS` is always a name (`t.end`, `@begin`, `AS end`), and a MySQL label may be
//! spelled `end` (`end: LOOP … END LOOP end`).
//!
//! # Limitations
//!
//! * PostgreSQL with `standard_conforming_strings = off` and MySQL with
//!   `NO_BACKSLASH_ESCAPES` or `ANSI_QUOTES` are not supported.
//! * Whitespace is Unicode whitespace, while servers take only ASCII whitespace between
//!   tokens: a no-break space between two words splits them here, but makes one identifier
//!   (and a syntax error) on PostgreSQL.
//! * A name spelled `end` or `begin` where neither a keyword nor a name can be told apart
//!   without a parser, such as an alias without `AS` (`SELECT a end FROM t`), is read as the
//!   keyword: the body ends early. The statement left over then starts with `END`: MySQL
//!   refuses it here ([`SplitErrorKind::UnmatchedEnd`]), PostgreSQL and SQLite read it as
//!   `COMMIT`, which the linter refuses as `transaction-control`; both messages say to quote
//!   the name, which always works (`` `end` ``, `"end"`).
//! * A MySQL procedure or function whose body is a bare compound statement without
//!   `BEGIN` or a label (`CREATE PROCEDURE p() WHILE ... END WHILE`) is not recognised; its
//!   `END` is then refused as [`SplitErrorKind::UnmatchedEnd`].
//! * `END` closes the innermost level whatever opened it; mismatches such as `END IF`
//!   closing a `LOOP` are left for the server to diagnose.
//! * SQLite accepts an unterminated `/*` comment at the end of a script; this splitter
//!   reports it as an error, since it is almost always a mistake.
//!
//! # Positions
//!
//! All offsets are byte offsets into the input. Lines and columns are 1-based; columns
//! count `char`s (a leading byte-order mark is not counted). `\n`, `\r\n` and a lone `\r`
//! each end a line.

pub(crate) mod goose;
mod lexer;
mod lines;
mod token;
mod walker;

use crate::dialect::Dialect;
use lexer::Lexer;
pub(crate) use lines::{Lines, printable, write_source};
pub use token::{SplitError, SplitErrorKind, Statement, Token, TokenKind};
use walker::Walker;

/// Lexes `sql`. Tokens tile the input exactly (no gaps, no overlap) when Ok.
///
/// # Errors
///
/// Returns the first unterminated string, quoted identifier, dollar quote or block
/// comment, positioned where it was opened, or the first refused character (see the
/// module docs), positioned at the character.
pub fn tokenize(sql: &str, dialect: Dialect) -> Result<Vec<Token>, SplitError> {
    Lexer::new(sql, dialect).collect()
}

/// Splits a script into statements. Empty statements (only `;`, whitespace or comments)
/// are not returned; their bytes belong to the next statement's segment (or to the
/// trailing remainder after the last statement).
///
/// # Errors
///
/// Returns a lexing error (see [`tokenize`]), [`SplitErrorKind::UnterminatedBlock`] when
/// the input ends inside a block, or a client command or data stream (see "Refused input"
/// in the module docs; reported even if a lexing error follows it).
pub fn split(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, SplitError> {
    let mut significant = Vec::new();
    let mut lex_error = None;
    for item in Lexer::new(sql, dialect) {
        match item {
            Ok(token) if is_significant(&token, sql, dialect) => significant.push(token),
            Ok(_) => {}
            Err(error) => lex_error = Some(error),
        }
    }
    let mut walker = Walker::new(sql, dialect, &significant);
    // A DELIMITER command before a lexing error is the better diagnosis: the rest of
    // such a script is written for a different delimiter anyway.
    walker.walk()?;
    match lex_error {
        Some(error) => Err(error),
        None => walker.finish(),
    }
}

/// Splits a goose script: the lines between `-- +goose StatementBegin` and `-- +goose
/// StatementEnd` are one statement whatever their semicolons (a trailing `;` is not part of
/// it), and the text around such blocks is split as [`split`] splits. Lines and columns are
/// those of `sql`. A block left open runs to the end of the script (the loader refuses such a
/// file before it gets here).
///
/// Inside a block the splitter's own block rules do not apply, so a body it would misread
/// (an unterminated `BEGIN`, an early `END`) is taken as goose takes it; strings, comments,
/// refused characters, client commands and data streams are still checked.
///
/// # Errors
///
/// As [`split`], positioned in `sql`.
pub fn split_goose(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, SplitError> {
    let mut out = GooseSplit { sql, dialect, lines: Lines::new(sql), statements: Vec::new(), segment_end: 0 };
    let mut outside_start = 0;
    let mut block_start: Option<usize> = None;
    let mut offset = 0;
    for raw in sql.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let content = raw.strip_suffix('\n').unwrap_or(raw);
        let content = content.strip_suffix('\r').unwrap_or(content);
        let content = if line_start == 0 { content.strip_prefix('\u{feff}').unwrap_or(content) } else { content };
        match (goose::annotation(content), block_start) {
            (Some(Ok(goose::Annotation::StatementBegin)), None) => {
                out.region(outside_start, line_start)?;
                block_start = Some(offset);
            }
            (Some(Ok(goose::Annotation::StatementEnd)), Some(start)) => {
                out.block(start, line_start, offset)?;
                block_start = None;
                outside_start = offset;
            }
            _ => {}
        }
    }
    match block_start {
        Some(start) => out.block(start, sql.len(), sql.len())?,
        None => out.region(outside_start, sql.len())?,
    }
    Ok(out.statements)
}

/// The statements of a goose script found so far.
struct GooseSplit<'a> {
    sql: &'a str,
    dialect: Dialect,
    lines: Lines<'a>,
    statements: Vec<Statement>,
    /// Where the last statement's segment ends (the next one's starts there).
    segment_end: usize,
}

impl GooseSplit<'_> {
    /// `error` (found in the part of the script starting at `base`) positioned in the script.
    fn relocate(&self, mut error: SplitError, base: usize) -> SplitError {
        error.offset += base;
        (error.line, error.column) = self.lines.position(error.offset);
        error
    }

    /// The statements of `start..end`, outside any block.
    fn region(&mut self, start: usize, end: usize) -> Result<(), SplitError> {
        let text = self.sql.get(start..end).unwrap_or("");
        let statements = split(text, self.dialect).map_err(|e| self.relocate(e, start))?;
        for statement in statements {
            let range = statement.range.start + start..statement.range.end + start;
            self.push(range, statement.segment.end + start);
        }
        Ok(())
    }

    /// The block `start..end` as one statement whose segment ends at `segment_end` (after
    /// its `StatementEnd` line).
    fn block(&mut self, start: usize, end: usize, segment_end: usize) -> Result<(), SplitError> {
        let text = self.sql.get(start..end).unwrap_or("");
        match split(text, self.dialect) {
            Err(e) if !matches!(e.kind, SplitErrorKind::UnterminatedBlock { .. } | SplitErrorKind::UnmatchedEnd) => {
                return Err(self.relocate(e, start));
            }
            _ => {}
        }
        let tokens = tokenize(text, self.dialect).map_err(|e| self.relocate(e, start))?;
        let significant: Vec<&Token> = tokens.iter().filter(|t| is_significant(t, text, self.dialect)).collect();
        let first = significant.iter().find(|t| t.kind != TokenKind::Semicolon);
        let last = significant.iter().rev().find(|t| t.kind != TokenKind::Semicolon);
        match (first, last) {
            (Some(first), Some(last)) if first.range.start < last.range.end => {
                self.push(first.range.start + start..last.range.end + start, segment_end);
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, range: std::ops::Range<usize>, segment_end: usize) {
        let (line, column) = self.lines.position(range.start);
        let segment = self.segment_end..segment_end.max(range.end);
        self.segment_end = segment.end;
        self.statements.push(Statement { range, segment, line, column });
    }
}

/// Whether the splitter must look at `token` (everything but whitespace and comments,
/// except MySQL executable comments, which the server runs).
fn is_significant(token: &Token, sql: &str, dialect: Dialect) -> bool {
    match token.kind {
        TokenKind::Whitespace | TokenKind::LineComment => false,
        TokenKind::BlockComment => {
            dialect == Dialect::MySql && {
                let text = token.text(sql);
                text.starts_with("/*!") || text.starts_with("/*M!")
            }
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests;
