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
//! # Limitations
//!
//! * PostgreSQL with `standard_conforming_strings = off`, psql meta-commands (`\connect`)
//!   and MySQL with `NO_BACKSLASH_ESCAPES` or `ANSI_QUOTES` are not supported.
//! * A MySQL procedure or function whose body is a bare compound statement without
//!   `BEGIN` or a label (`CREATE PROCEDURE p() WHILE ... END WHILE`) is not recognised,
//!   and a column named `begin` followed by a word in a routine whose body is a single
//!   statement (`CREATE PROCEDURE p() SELECT begin FROM t`) is taken for the body's
//!   `BEGIN`: the following statements are swallowed up to the next `END` (or the
//!   script fails with an unterminated block). Quote such names (`` `begin` ``).
//! * `END` closes the innermost level whatever opened it; mismatches such as `END IF`
//!   closing a `LOOP` are left for the server to diagnose.
//! * SQLite: a column named `begin` used unqualified and unquoted in a trigger's `WHEN`
//!   clause is taken for the body's `BEGIN`. Qualify it (`NEW.begin`) or quote it.
//! * SQLite accepts an unterminated `/*` comment at the end of a script; this splitter
//!   reports it as an error, since it is almost always a mistake.
//!
//! # Positions
//!
//! All offsets are byte offsets into the input. Lines and columns are 1-based; columns
//! count `char`s (a leading byte-order mark is not counted). `\n`, `\r\n` and a lone `\r`
//! each end a line.

use std::fmt;
use std::ops::Range;

/// SQL dialect that decides lexing and block rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL, assuming `standard_conforming_strings = on`.
    Postgres,
    /// MySQL or MariaDB, assuming the default `sql_mode` (backslash escapes, no
    /// `ANSI_QUOTES`).
    MySql,
    /// SQLite 3.
    Sqlite,
}

impl Dialect {
    /// The database's name for people: `PostgreSQL`, `MySQL`, `SQLite`.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// The lowercase id used in options and macros: `postgres`, `mysql`, `sqlite`.
    pub const fn id(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Parses [`Dialect::id`] (`postgres`, `mysql`, `sqlite`).
    pub fn from_id(id: &str) -> Option<Dialect> {
        match id {
            "postgres" => Some(Dialect::Postgres),
            "mysql" => Some(Dialect::MySql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}

/// One token of SQL source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What kind of token this is.
    pub kind: TokenKind,
    /// Byte range of the token in the lexed input.
    pub range: Range<usize>,
}

impl Token {
    /// Returns the token's text in `sql` (the string it was lexed from), or `""` if the
    /// range does not fit `sql`.
    #[must_use]
    pub fn text<'s>(&self, sql: &'s str) -> &'s str {
        sql.get(self.range.clone()).unwrap_or("")
    }
}

/// The kind of a [`Token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// A run of whitespace characters.
    Whitespace,
    /// `-- ...` (and MySQL `# ...`) up to, not including, the line break.
    LineComment,
    /// `/* ... */`, including MySQL executable comments `/*! ... */`.
    BlockComment,
    /// An unquoted identifier or keyword.
    Word,
    /// A quoted identifier: `"x"` in PostgreSQL, `` `x` `` in MySQL, `"x"`, `` `x` `` or
    /// `[x]` in SQLite.
    QuotedIdent,
    /// A string literal: `'...'`, `E'...'`, `U&'...'`, `B'...'`, `X'...'`, `N'...'`, and
    /// `"..."` in MySQL.
    String,
    /// A PostgreSQL dollar-quoted string `$tag$ ... $tag$`.
    DollarString,
    /// A numeric literal (digits plus any directly attached letters, `_` and `.`).
    Number,
    /// A PostgreSQL positional parameter such as `$1`.
    Param,
    /// Any other single character (operators, parentheses, commas, ...).
    Punct,
    /// `;`.
    Semicolon,
}

impl TokenKind {
    /// Whether the token is whitespace or a comment.
    #[must_use]
    pub fn is_trivia(self) -> bool {
        matches!(self, TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment)
    }
}

/// One SQL statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Bytes of the statement itself: first token through last token, excluding
    /// leading/trailing whitespace and comments and the terminating `;`.
    pub range: Range<usize>,
    /// The statement's whole segment: from the end of the previous segment (0 for the
    /// first) through its terminating `;` inclusive (or through `range.end` when the
    /// script's last statement has no `;`). Segments of consecutive statements are
    /// contiguous.
    pub segment: Range<usize>,
    /// 1-based line of `range.start`.
    pub line: usize,
    /// 1-based column (counted in chars) of `range.start`.
    pub column: usize,
}

impl Statement {
    /// Returns the statement's text in `sql` (the split script), or `""` if the range
    /// does not fit `sql`.
    #[must_use]
    pub fn text<'s>(&self, sql: &'s str) -> &'s str {
        sql.get(self.range.clone()).unwrap_or("")
    }
}

/// Why a script cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// What went wrong.
    pub kind: SplitErrorKind,
    /// Byte offset where the offending construct starts (where it was opened).
    pub offset: usize,
    /// 1-based line of `offset`.
    pub line: usize,
    /// 1-based column (counted in chars) of `offset`.
    pub column: usize,
}

/// The kind of a [`SplitError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SplitErrorKind {
    /// A string literal is not closed.
    UnterminatedString,
    /// A quoted identifier is not closed.
    UnterminatedQuotedIdent,
    /// A PostgreSQL dollar quote is not closed.
    UnterminatedDollarQuote {
        /// The tag between the dollars (empty for `$$`).
        tag: String,
    },
    /// A block comment is not closed.
    UnterminatedComment,
    /// The input ends inside a block such as `BEGIN ATOMIC` or a MySQL `BEGIN` body.
    UnterminatedBlock {
        /// The keyword(s) that opened the block, e.g. `BEGIN ATOMIC` or `IF`.
        keyword: String,
    },
    /// A MySQL client `DELIMITER` command, which is not SQL.
    DelimiterCommand,
}

impl SplitError {
    fn new(sql: &str, kind: SplitErrorKind, offset: usize) -> Self {
        let (line, column) = LineTracker::new(sql).position(offset);
        SplitError { kind, offset, line, column }
    }
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = (self.line, self.column);
        match &self.kind {
            SplitErrorKind::UnterminatedString => write!(
                f,
                "unterminated string literal starting at line {line}, column {column}: \
                 add the closing quote"
            ),
            SplitErrorKind::UnterminatedQuotedIdent => write!(
                f,
                "unterminated quoted identifier starting at line {line}, column {column}: \
                 add the closing quote character"
            ),
            SplitErrorKind::UnterminatedDollarQuote { tag } => write!(
                f,
                "unterminated dollar quote ${tag}$ starting at line {line}, column {column}: \
                 add the closing ${tag}$"
            ),
            SplitErrorKind::UnterminatedComment => write!(
                f,
                "unterminated block comment starting at line {line}, column {column}: \
                 add the closing */ (PostgreSQL block comments nest, so every /* needs its own */)"
            ),
            SplitErrorKind::UnterminatedBlock { keyword } => write!(
                f,
                "unterminated {keyword} block starting at line {line}, column {column}: \
                 add the matching END (and close every block opened inside it)"
            ),
            SplitErrorKind::DelimiterCommand => write!(
                f,
                "mysql client command DELIMITER at line {line}, column {column} is not SQL: \
                 remove the DELIMITER lines and end every statement, including stored-program \
                 bodies, with a plain ;"
            ),
        }
    }
}

impl std::error::Error for SplitError {}

/// Lexes `sql`. Tokens tile the input exactly (no gaps, no overlap) when Ok.
///
/// # Errors
///
/// Returns the first unterminated string, quoted identifier, dollar quote or block
/// comment, positioned where it was opened.
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
/// the input ends inside a block, or [`SplitErrorKind::DelimiterCommand`] for a MySQL
/// `DELIMITER` command (reported even if a lexing error follows it).
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

// ---------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------

/// A position in a `&str` that only ever moves by whole `char`s.
#[derive(Debug)]
struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_nth(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn starts_with(&self, prefix: &str) -> bool {
        self.rest().starts_with(prefix)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn bump_n(&mut self, n: usize) {
        for _ in 0..n {
            self.bump();
        }
    }

    fn eat_while(&mut self, mut keep: impl FnMut(char) -> bool) {
        while let Some(c) = self.peek() {
            if !keep(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    /// Moves forward by `n` bytes, which must end on a char boundary; otherwise (never
    /// for offsets found by `str::find`) it moves to the next boundary after that.
    fn skip_bytes(&mut self, n: usize) {
        let target = self.pos.saturating_add(n).min(self.src.len());
        if self.src.is_char_boundary(target) {
            self.pos = target;
        } else {
            while self.pos < target && self.bump().is_some() {}
        }
    }

    fn last_char(&self) -> Option<char> {
        self.src.get(..self.pos)?.chars().next_back()
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// First character of an unquoted identifier (MySQL also allows `$`; digits are
/// handled by the number rule in both dialects).
fn is_ident_start(c: char, dialect: Dialect) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && !is_space(c)) || (c == '$' && dialect == Dialect::MySql)
}

fn is_ident_char(c: char, dialect: Dialect) -> bool {
    is_ident_start(c, dialect) || c.is_ascii_digit() || c == '$'
}

/// Characters of a PostgreSQL dollar-quote tag (an identifier without `$`).
fn is_tag_char(c: char) -> bool {
    is_ident_start(c, Dialect::Postgres) || c.is_ascii_digit()
}

fn is_number_char(c: char, dialect: Dialect) -> bool {
    c == '.' || (is_ident_char(c, dialect) && (c != '$' || dialect == Dialect::MySql))
}

/// Produces tokens one at a time; stops after the first error.
#[derive(Debug)]
struct Lexer<'a> {
    cur: Cursor<'a>,
    dialect: Dialect,
    failed: bool,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str, dialect: Dialect) -> Self {
        Lexer { cur: Cursor { src, pos: 0 }, dialect, failed: false }
    }

    fn lex_one(&mut self, c: char) -> Result<TokenKind, SplitErrorKind> {
        let pg = self.dialect == Dialect::Postgres;
        let my = self.dialect == Dialect::MySql;
        if is_space(c) {
            self.cur.eat_while(is_space);
            return Ok(TokenKind::Whitespace);
        }
        match c {
            '-' if self.cur.peek_nth(1) == Some('-') && (!my || self.mysql_dash_comment()) => Ok(self.line_comment()),
            '#' if my => Ok(self.line_comment()),
            '/' if self.cur.peek_nth(1) == Some('*') => self.block_comment(),
            '\'' => self.string(my),
            '"' if my => self.string(true),
            '"' => self.quoted_ident('"'),
            '`' if !pg => self.quoted_ident('`'),
            '[' if self.dialect == Dialect::Sqlite => self.bracket_ident(),
            '$' if pg => self.dollar(),
            ';' => {
                self.cur.bump();
                Ok(TokenKind::Semicolon)
            }
            _ if c.is_ascii_digit() => Ok(self.number()),
            _ if is_ident_start(c, self.dialect) => self.word_or_prefixed_string(c),
            _ => {
                self.cur.bump();
                Ok(TokenKind::Punct)
            }
        }
    }

    /// MySQL: `--` is a comment only before whitespace, a control char or the end.
    fn mysql_dash_comment(&self) -> bool {
        self.cur.peek_nth(2).is_none_or(|c| is_space(c) || c.is_control())
    }

    fn line_comment(&mut self) -> TokenKind {
        self.cur.eat_while(|c| c != '\n' && c != '\r');
        TokenKind::LineComment
    }

    fn block_comment(&mut self) -> Result<TokenKind, SplitErrorKind> {
        self.cur.bump_n(2);
        if self.dialect != Dialect::Postgres {
            let end = self.cur.rest().find("*/").ok_or(SplitErrorKind::UnterminatedComment)?;
            self.cur.skip_bytes(end + 2);
            return Ok(TokenKind::BlockComment);
        }
        let mut depth = 1usize;
        loop {
            let next = self.cur.rest().find(['/', '*']).ok_or(SplitErrorKind::UnterminatedComment)?;
            self.cur.skip_bytes(next);
            if self.cur.starts_with("/*") {
                self.cur.bump_n(2);
                depth += 1;
            } else if self.cur.starts_with("*/") {
                self.cur.bump_n(2);
                depth -= 1;
                if depth == 0 {
                    return Ok(TokenKind::BlockComment);
                }
            } else {
                self.cur.bump();
            }
        }
    }

    /// Scans from an opening `quote` through its closing quote. A doubled quote is an
    /// escaped quote; with `backslash`, `\` escapes the next character. Returns whether
    /// the closing quote was found.
    fn scan_quoted(&mut self, quote: char, backslash: bool) -> bool {
        self.cur.bump();
        while let Some(c) = self.cur.bump() {
            if c == '\\' && backslash {
                if self.cur.bump().is_none() {
                    return false;
                }
            } else if c == quote {
                if self.cur.peek() == Some(quote) {
                    self.cur.bump();
                } else {
                    return true;
                }
            }
        }
        false
    }

    /// Scans a string literal whose opening quote (`'`, or `"` in MySQL) is next.
    fn string(&mut self, backslash: bool) -> Result<TokenKind, SplitErrorKind> {
        let quote = self.cur.peek().unwrap_or('\'');
        if self.scan_quoted(quote, backslash) { Ok(TokenKind::String) } else { Err(SplitErrorKind::UnterminatedString) }
    }

    fn quoted_ident(&mut self, quote: char) -> Result<TokenKind, SplitErrorKind> {
        if self.scan_quoted(quote, false) {
            Ok(TokenKind::QuotedIdent)
        } else {
            Err(SplitErrorKind::UnterminatedQuotedIdent)
        }
    }

    /// SQLite `[...]`: no escapes, the first `]` closes it.
    fn bracket_ident(&mut self) -> Result<TokenKind, SplitErrorKind> {
        self.cur.bump();
        let end = self.cur.rest().find(']').ok_or(SplitErrorKind::UnterminatedQuotedIdent)?;
        self.cur.skip_bytes(end + 1);
        Ok(TokenKind::QuotedIdent)
    }

    fn number(&mut self) -> TokenKind {
        let dialect = self.dialect;
        loop {
            self.cur.eat_while(|c| is_number_char(c, dialect));
            let exponent_sign = matches!(self.cur.last_char(), Some('e' | 'E'))
                && matches!(self.cur.peek(), Some('+' | '-'))
                && self.cur.peek_nth(1).is_some_and(|c| c.is_ascii_digit());
            if !exponent_sign {
                return TokenKind::Number;
            }
            self.cur.bump();
        }
    }

    /// PostgreSQL `$`: a positional parameter, a dollar quote or a lone `$`.
    fn dollar(&mut self) -> Result<TokenKind, SplitErrorKind> {
        let rest = self.cur.rest();
        let after = rest.get(1..).unwrap_or("");
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            self.cur.bump();
            self.cur.eat_while(|c| c.is_ascii_digit());
            return Ok(TokenKind::Param);
        }
        let tag_len = after.find(|c| !is_tag_char(c)).unwrap_or(after.len());
        let closed = after.get(tag_len..).is_some_and(|s| s.starts_with('$'));
        if !closed {
            self.cur.bump();
            return Ok(TokenKind::Punct);
        }
        let delimiter_len = tag_len + 2;
        let delimiter = rest.get(..delimiter_len).unwrap_or("$$");
        let body = rest.get(delimiter_len..).unwrap_or("");
        match body.find(delimiter) {
            Some(end) => {
                self.cur.skip_bytes(delimiter_len + end + delimiter_len);
                Ok(TokenKind::DollarString)
            }
            None => Err(SplitErrorKind::UnterminatedDollarQuote { tag: after.get(..tag_len).unwrap_or("").to_owned() }),
        }
    }

    fn word_or_prefixed_string(&mut self, c: char) -> Result<TokenKind, SplitErrorKind> {
        let pg = self.dialect == Dialect::Postgres;
        let next = self.cur.peek_nth(1);
        if next == Some('\'') {
            match c.to_ascii_uppercase() {
                'E' if pg => {
                    self.cur.bump();
                    return self.string(true);
                }
                'B' | 'X' | 'N' => {
                    self.cur.bump();
                    return self.string(self.dialect == Dialect::MySql);
                }
                _ => {}
            }
        }
        if pg && c.eq_ignore_ascii_case(&'u') && next == Some('&') {
            match self.cur.peek_nth(2) {
                Some('\'') => {
                    self.cur.bump_n(2);
                    return self.string(false);
                }
                Some('"') => {
                    self.cur.bump_n(2);
                    return self.quoted_ident('"');
                }
                _ => {}
            }
        }
        let dialect = self.dialect;
        self.cur.eat_while(|c| is_ident_char(c, dialect));
        Ok(TokenKind::Word)
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Token, SplitError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let start = self.cur.pos;
        let c = self.cur.peek()?;
        match self.lex_one(c) {
            Ok(kind) => Some(Ok(Token { kind, range: start..self.cur.pos })),
            Err(kind) => {
                self.failed = true;
                Some(Err(SplitError::new(self.cur.src, kind, start)))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Line and column bookkeeping
// ---------------------------------------------------------------------------------------

/// Converts byte offsets to 1-based line/column pairs (a leading byte-order mark takes
/// no column). Queries with non-decreasing
/// offsets cost time proportional to the distance moved, so a whole split stays linear.
#[derive(Debug)]
struct LineTracker<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    column: usize,
    after_cr: bool,
}

impl<'a> LineTracker<'a> {
    fn new(src: &'a str) -> Self {
        LineTracker { src, pos: 0, line: 1, column: 1, after_cr: false }
    }

    fn position(&mut self, offset: usize) -> (usize, usize) {
        if offset < self.pos {
            *self = LineTracker::new(self.src);
        }
        for c in self.src.get(self.pos..).unwrap_or("").chars() {
            if self.pos >= offset {
                break;
            }
            let at_bom = self.pos == 0 && c == '\u{feff}';
            self.pos += c.len_utf8();
            match c {
                // A leading byte-order mark is invisible in editors: it takes no column.
                _ if at_bom => {}
                '\r' => {
                    self.line += 1;
                    self.column = 1;
                    self.after_cr = true;
                }
                '\n' => {
                    if !self.after_cr {
                        self.line += 1;
                    }
                    self.column = 1;
                    self.after_cr = false;
                }
                _ => {
                    self.column += 1;
                    self.after_cr = false;
                }
            }
        }
        (self.line, self.column)
    }
}

// ---------------------------------------------------------------------------------------
// Splitter
// ---------------------------------------------------------------------------------------

/// Keywords the splitter reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Aggregate,
    Alter,
    As,
    Atomic,
    Begin,
    Case,
    Create,
    Definer,
    Delimiter,
    Do,
    Each,
    Else,
    End,
    Event,
    Follows,
    For,
    Found,
    Function,
    Handler,
    If,
    Loop,
    Not,
    Or,
    Precedes,
    Procedure,
    Repeat,
    Replace,
    Row,
    Sql,
    SqlException,
    SqlState,
    SqlWarning,
    Temp,
    Temporary,
    Then,
    Trigger,
    Value,
    View,
    While,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("AGGREGATE", Kw::Aggregate),
    ("ALTER", Kw::Alter),
    ("AS", Kw::As),
    ("ATOMIC", Kw::Atomic),
    ("BEGIN", Kw::Begin),
    ("CASE", Kw::Case),
    ("CREATE", Kw::Create),
    ("DEFINER", Kw::Definer),
    ("DELIMITER", Kw::Delimiter),
    ("DO", Kw::Do),
    ("EACH", Kw::Each),
    ("ELSE", Kw::Else),
    ("END", Kw::End),
    ("EVENT", Kw::Event),
    ("FOLLOWS", Kw::Follows),
    ("FOR", Kw::For),
    ("FOUND", Kw::Found),
    ("FUNCTION", Kw::Function),
    ("HANDLER", Kw::Handler),
    ("IF", Kw::If),
    ("LOOP", Kw::Loop),
    ("NOT", Kw::Not),
    ("OR", Kw::Or),
    ("PRECEDES", Kw::Precedes),
    ("PROCEDURE", Kw::Procedure),
    ("REPEAT", Kw::Repeat),
    ("REPLACE", Kw::Replace),
    ("ROW", Kw::Row),
    ("SQL", Kw::Sql),
    ("SQLEXCEPTION", Kw::SqlException),
    ("SQLSTATE", Kw::SqlState),
    ("SQLWARNING", Kw::SqlWarning),
    ("TEMP", Kw::Temp),
    ("TEMPORARY", Kw::Temporary),
    ("THEN", Kw::Then),
    ("TRIGGER", Kw::Trigger),
    ("VALUE", Kw::Value),
    ("VIEW", Kw::View),
    ("WHILE", Kw::While),
];

fn lookup_keyword(word: &str) -> Option<Kw> {
    if word.len() > 12 {
        return None;
    }
    KEYWORDS.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map(|&(_, kw)| kw)
}

/// What opened a block level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    BeginAtomic,
    BeginNotAtomic,
    Begin,
    If,
    CaseStatement,
    CaseExpression,
    Loop,
    While,
    Repeat,
    For,
}

impl BlockKind {
    fn keyword(self) -> &'static str {
        match self {
            BlockKind::BeginAtomic => "BEGIN ATOMIC",
            BlockKind::BeginNotAtomic => "BEGIN NOT ATOMIC",
            BlockKind::Begin => "BEGIN",
            BlockKind::If => "IF",
            BlockKind::CaseStatement | BlockKind::CaseExpression => "CASE",
            BlockKind::Loop => "LOOP",
            BlockKind::While => "WHILE",
            BlockKind::Repeat => "REPEAT",
            BlockKind::For => "FOR",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    kind: BlockKind,
    /// Byte offset of the opening keyword.
    offset: usize,
}

/// The kind of stored program a statement creates (MySQL; SQLite has triggers only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    /// `CREATE PROCEDURE` / `CREATE FUNCTION`.
    Routine,
    Trigger,
    Event,
    /// MariaDB `BEGIN NOT ATOMIC ... END`.
    Anonymous,
}

/// Recogniser for the leading words of a MySQL or SQLite statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Preamble {
    /// Nothing seen yet.
    #[default]
    Start,
    /// `CREATE [OR REPLACE] [AGGREGATE]`.
    AfterCreate,
    /// Inside `DEFINER = ...`; counts the tokens seen so far.
    Definer(u8),
    /// `BEGIN`.
    AfterBegin,
    /// `BEGIN NOT`.
    AfterBeginNot,
    /// A stored program: block rules apply.
    Program(Program),
    /// Anything else: only parentheses matter.
    Plain,
}

/// State of the statement being scanned; reset after each statement.
#[derive(Debug, Default)]
struct StmtState {
    /// Start of the first significant token.
    first: Option<usize>,
    /// End of the last significant token that belongs to the statement.
    last_end: usize,
    paren: usize,
    blocks: Vec<Block>,
    preamble: Preamble,
    /// MySQL: the next token starts a statement inside a stored program.
    at_start: bool,
    /// MySQL: inside the condition list of `DECLARE ... HANDLER FOR`; the flag tells
    /// whether a condition (name) is expected next.
    handler: Option<bool>,
}

/// Walks the significant tokens and cuts statements.
#[derive(Debug)]
struct Walker<'a> {
    sql: &'a str,
    dialect: Dialect,
    toks: &'a [Token],
    lines: LineTracker<'a>,
    segment_start: usize,
    out: Vec<Statement>,
    st: StmtState,
}

impl<'a> Walker<'a> {
    fn new(sql: &'a str, dialect: Dialect, toks: &'a [Token]) -> Self {
        Walker {
            sql,
            dialect,
            toks,
            lines: LineTracker::new(sql),
            segment_start: 0,
            out: Vec::new(),
            st: StmtState::default(),
        }
    }

    fn walk(&mut self) -> Result<(), SplitError> {
        let mut i = 0;
        while let Some(tok) = self.toks.get(i) {
            if tok.kind == TokenKind::Semicolon && self.st.paren == 0 && self.st.blocks.is_empty() {
                self.end_statement(tok.range.end);
                i += 1;
                continue;
            }
            if self.st.first.is_none() {
                if self.dialect == Dialect::MySql && self.kw(i) == Some(Kw::Delimiter) {
                    return Err(SplitError::new(self.sql, SplitErrorKind::DelimiterCommand, tok.range.start));
                }
                self.st.first = Some(tok.range.start);
            }
            if self.is_punct(i, '(') {
                self.st.paren += 1;
            } else if self.is_punct(i, ')') {
                self.st.paren = self.st.paren.saturating_sub(1);
            } else if tok.kind == TokenKind::Semicolon && !self.st.blocks.is_empty() {
                // Inside a block a `;` ends a body statement; parentheses cannot span it.
                self.st.paren = 0;
            }
            let used = match self.dialect {
                Dialect::Postgres => self.step_postgres(i),
                Dialect::MySql => self.step_mysql(i),
                Dialect::Sqlite => self.step_sqlite(i),
            }
            .max(1);
            let last = i + used - 1;
            if let Some(last) = self.toks.get(last) {
                self.st.last_end = last.range.end;
            }
            i += used;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Statement>, SplitError> {
        if let Some(block) = self.st.blocks.last() {
            return Err(SplitError::new(
                self.sql,
                SplitErrorKind::UnterminatedBlock { keyword: block.kind.keyword().to_owned() },
                block.offset,
            ));
        }
        let end = self.st.last_end;
        self.end_statement(end);
        Ok(self.out)
    }

    /// Ends the current statement; its segment ends at `segment_end`. Empty statements
    /// produce nothing and leave their bytes to the next segment.
    fn end_statement(&mut self, segment_end: usize) {
        if let Some(first) = self.st.first {
            let (line, column) = self.lines.position(first);
            self.out.push(Statement {
                range: first..self.st.last_end,
                segment: self.segment_start..segment_end,
                line,
                column,
            });
            self.segment_start = segment_end;
        }
        self.st = StmtState::default();
    }

    fn kind(&self, i: usize) -> Option<TokenKind> {
        self.toks.get(i).map(|t| t.kind)
    }

    fn is_punct(&self, i: usize, c: char) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == TokenKind::Punct && t.text(self.sql).starts_with(c))
    }

    /// The keyword spelled by token `i`, regardless of context.
    fn raw_kw(&self, i: usize) -> Option<Kw> {
        let tok = self.toks.get(i)?;
        if tok.kind != TokenKind::Word {
            return None;
        }
        lookup_keyword(tok.text(self.sql))
    }

    /// The keyword at token `i`, unless the word is used as a name: after `.`, `@` or
    /// `AS`, or before `.`.
    fn kw(&self, i: usize) -> Option<Kw> {
        let kw = self.raw_kw(i)?;
        if let Some(prev) = i.checked_sub(1)
            && (self.is_punct(prev, '.') || self.is_punct(prev, '@') || self.raw_kw(prev) == Some(Kw::As))
        {
            return None;
        }
        if self.is_punct(i + 1, '.') {
            return None;
        }
        Some(kw)
    }

    fn open(&mut self, kind: BlockKind, i: usize) {
        let offset = self.toks.get(i).map_or(0, |t| t.range.start);
        self.st.blocks.push(Block { kind, offset });
    }

    /// PostgreSQL block rules for token `i`; returns how many tokens were consumed.
    fn step_postgres(&mut self, i: usize) -> usize {
        match self.kw(i) {
            Some(Kw::Begin) if self.kw(i + 1) == Some(Kw::Atomic) => {
                self.open(BlockKind::BeginAtomic, i);
                2
            }
            Some(Kw::Case) if !self.st.blocks.is_empty() => {
                self.open(BlockKind::CaseExpression, i);
                1
            }
            Some(Kw::End) => {
                self.st.blocks.pop();
                1
            }
            _ => 1,
        }
    }

    /// SQLite rules for token `i`: a `CREATE [TEMP] TRIGGER` body is a `BEGIN … END` block in
    /// which `CASE` opens a nested level; returns how many tokens were consumed.
    fn step_sqlite(&mut self, i: usize) -> usize {
        let kw = self.kw(i);
        match self.st.preamble {
            Preamble::Program(_) => match kw {
                Some(Kw::Begin) if self.st.blocks.is_empty() => self.open(BlockKind::Begin, i),
                Some(Kw::Case) if !self.st.blocks.is_empty() => self.open(BlockKind::CaseExpression, i),
                Some(Kw::End) => {
                    self.st.blocks.pop();
                }
                _ => {}
            },
            Preamble::Plain => {}
            preamble => {
                self.st.preamble = match (preamble, kw) {
                    (Preamble::Start, Some(Kw::Create)) => Preamble::AfterCreate,
                    (Preamble::AfterCreate, Some(Kw::Temp | Kw::Temporary)) => Preamble::AfterCreate,
                    (Preamble::AfterCreate, Some(Kw::Trigger)) => Preamble::Program(Program::Trigger),
                    _ => Preamble::Plain,
                };
            }
        }
        1
    }

    /// MySQL rules for token `i`; returns how many tokens were consumed.
    fn step_mysql(&mut self, i: usize) -> usize {
        match self.st.preamble {
            Preamble::Program(program) => self.mysql_program(i, program),
            Preamble::Plain => 1,
            _ => {
                self.mysql_preamble(i);
                1
            }
        }
    }

    /// Classifies a MySQL statement from its leading words.
    fn mysql_preamble(&mut self, i: usize) {
        if self.kind(i) == Some(TokenKind::BlockComment) {
            // `CREATE /*!50017 DEFINER=... */ TRIGGER`: executable comments are transparent.
            return;
        }
        let kw = self.kw(i);
        let program = match kw {
            Some(Kw::Procedure | Kw::Function) => Some(Program::Routine),
            Some(Kw::Trigger) => Some(Program::Trigger),
            Some(Kw::Event) => Some(Program::Event),
            _ => None,
        };
        if let Some(program) = program
            && matches!(self.st.preamble, Preamble::AfterCreate | Preamble::Definer(_))
        {
            self.st.preamble = Preamble::Program(program);
            return;
        }
        self.st.preamble = match (self.st.preamble, kw) {
            // `ALTER EVENT ... DO body` can replace an event's body.
            (Preamble::Start, Some(Kw::Create | Kw::Alter)) => Preamble::AfterCreate,
            (Preamble::Start, Some(Kw::Begin)) => Preamble::AfterBegin,
            (Preamble::AfterCreate, Some(Kw::Or | Kw::Replace | Kw::Aggregate)) => Preamble::AfterCreate,
            (Preamble::AfterCreate, Some(Kw::Definer)) => Preamble::Definer(0),
            (Preamble::Definer(_), Some(Kw::Aggregate)) => Preamble::AfterCreate,
            (Preamble::Definer(_), Some(Kw::View | Kw::Sql)) => Preamble::Plain,
            (Preamble::Definer(n), _) if n < 16 => Preamble::Definer(n + 1),
            (Preamble::AfterBegin, Some(Kw::Not)) => Preamble::AfterBeginNot,
            (Preamble::AfterBeginNot, Some(Kw::Atomic)) => {
                let begin = self.st.first.unwrap_or(0);
                self.st.blocks.push(Block { kind: BlockKind::BeginNotAtomic, offset: begin });
                self.st.at_start = true;
                Preamble::Program(Program::Anonymous)
            }
            _ => Preamble::Plain,
        };
    }

    /// Block rules inside a MySQL stored program.
    fn mysql_program(&mut self, i: usize, program: Program) -> usize {
        let Some(kind) = self.kind(i) else {
            return 1;
        };
        let depth0 = self.st.blocks.is_empty();
        if kind == TokenKind::Semicolon {
            if !depth0 {
                self.st.at_start = true;
                self.st.handler = None;
            }
            return 1;
        }
        if let Some(expect) = self.st.handler {
            self.st.handler = self.handler_condition(i, expect);
            if self.st.handler.is_some() {
                return 1;
            }
            // The condition list is over: the handler's statement starts here.
            self.st.at_start = true;
        }
        // A label `name:` (but not `name :=`).
        if (self.st.at_start || depth0)
            && matches!(kind, TokenKind::Word | TokenKind::QuotedIdent)
            && self.is_punct(i + 1, ':')
            && !self.is_punct(i + 2, '=')
        {
            self.st.at_start = true;
            return 2;
        }
        let at_start = std::mem::replace(&mut self.st.at_start, false);
        match self.kw(i) {
            Some(kw) => self.mysql_keyword(i, kw, at_start, program),
            None => 1,
        }
    }

    /// Keyword rules inside a MySQL stored program; `at_start` tells whether keyword
    /// `kw` at token `i` is the first word of a statement.
    fn mysql_keyword(&mut self, i: usize, kw: Kw, at_start: bool, program: Program) -> usize {
        let depth0 = self.st.blocks.is_empty();
        match kw {
            Kw::End => {
                if depth0 {
                    return 1;
                }
                self.st.blocks.pop();
                let closes_named =
                    matches!(self.kw(i + 1), Some(Kw::If | Kw::Case | Kw::Loop | Kw::While | Kw::Repeat | Kw::For));
                if closes_named { 2 } else { 1 }
            }
            Kw::Case => {
                if at_start {
                    self.open(BlockKind::CaseStatement, i);
                } else if !depth0 {
                    self.open(BlockKind::CaseExpression, i);
                }
                1
            }
            Kw::If | Kw::Loop | Kw::While | Kw::Repeat | Kw::For if at_start => {
                let block = match kw {
                    Kw::If => BlockKind::If,
                    Kw::Loop => BlockKind::Loop,
                    Kw::While => BlockKind::While,
                    Kw::Repeat => BlockKind::Repeat,
                    _ => BlockKind::For,
                };
                self.open(block, i);
                self.st.at_start = matches!(kw, Kw::Loop | Kw::Repeat);
                1
            }
            Kw::Begin if at_start || (depth0 && self.routine_body_begin(i, program)) => {
                self.open(BlockKind::Begin, i);
                self.st.at_start = true;
                if self.kw(i + 1) == Some(Kw::Not) && self.kw(i + 2) == Some(Kw::Atomic) { 3 } else { 1 }
            }
            Kw::Then | Kw::Else => {
                self.st.at_start = self.st.blocks.last().is_some_and(|b| b.kind != BlockKind::CaseExpression);
                1
            }
            Kw::Do => {
                // The `DO` of `WHILE ... DO` / `FOR ... DO` / `CREATE EVENT ... DO`, but not
                // the `DO expr` statement.
                self.st.at_start = !at_start
                    && match self.st.blocks.last() {
                        Some(b) => matches!(b.kind, BlockKind::While | BlockKind::For),
                        None => program == Program::Event,
                    };
                1
            }
            Kw::Row => {
                self.st.at_start = depth0
                    && program == Program::Trigger
                    && i.checked_sub(1).and_then(|p| self.raw_kw(p)) == Some(Kw::Each);
                1
            }
            Kw::Follows | Kw::Precedes if at_start && depth0 && program == Program::Trigger => {
                self.st.at_start = true;
                match self.kind(i + 1) {
                    Some(TokenKind::Word | TokenKind::QuotedIdent) => 2,
                    _ => 1,
                }
            }
            Kw::Handler if !depth0 && self.kw(i + 1) == Some(Kw::For) => {
                self.st.handler = Some(true);
                2
            }
            _ => 1,
        }
    }

    /// Whether a `BEGIN` at block depth 0 that does not start a statement opens the body
    /// of a procedure or function. The body follows the parameter list and optional
    /// characteristics, so any position outside parentheses is accepted, but a `BEGIN`
    /// followed by a literal, `;` or an operator other than `(` (a parenthesised query
    /// may start the body) is a column name (`SET begin = 1`).
    /// Trigger and event bodies start at known places (`FOR EACH ROW`, `DO`), tracked
    /// by `at_start` instead.
    fn routine_body_begin(&self, i: usize, program: Program) -> bool {
        program == Program::Routine
            && self.st.paren == 0
            && (self.is_punct(i + 1, '(')
                || matches!(
                    self.kind(i + 1),
                    Some(TokenKind::Word | TokenKind::QuotedIdent | TokenKind::BlockComment) | None
                ))
    }

    /// Inside `HANDLER FOR` conditions: returns the new "condition expected" flag if
    /// token `i` still belongs to the condition list, or `None` if it starts the
    /// handler's statement.
    fn handler_condition(&self, i: usize, expect: bool) -> Option<bool> {
        match self.kind(i)? {
            TokenKind::Punct if self.is_punct(i, ',') => Some(true),
            TokenKind::String | TokenKind::Number => Some(false),
            TokenKind::Word => match self.raw_kw(i) {
                Some(Kw::SqlState | Kw::Value | Kw::SqlWarning | Kw::SqlException | Kw::Not | Kw::Found) => Some(false),
                Some(Kw::Begin | Kw::If | Kw::Case | Kw::Loop | Kw::While | Kw::Repeat) => None,
                _ if expect => Some(false),
                _ => None,
            },
            TokenKind::QuotedIdent if expect => Some(false),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PG: Dialect = Dialect::Postgres;
    const MY: Dialect = Dialect::MySql;
    const SQ: Dialect = Dialect::Sqlite;

    fn stmts(sql: &str, dialect: Dialect) -> Vec<Statement> {
        split(sql, dialect).unwrap_or_else(|e| panic!("split failed: {e}\n{sql}"))
    }

    /// Asserts the exact `(line, text)` of every statement.
    #[track_caller]
    fn check(sql: &str, dialect: Dialect, expected: &[(usize, &str)]) {
        let got: Vec<(usize, &str)> = stmts(sql, dialect).iter().map(|s| (s.line, &sql[s.range.clone()])).collect();
        assert_eq!(got, expected);
    }

    fn positions(sql: &str, dialect: Dialect) -> Vec<(usize, usize)> {
        stmts(sql, dialect).iter().map(|s| (s.line, s.column)).collect()
    }

    fn err(sql: &str, dialect: Dialect) -> SplitError {
        match split(sql, dialect) {
            Ok(s) => panic!("expected an error, got {s:?}"),
            Err(e) => e,
        }
    }

    fn kinds(sql: &str, dialect: Dialect) -> Vec<(TokenKind, &str)> {
        tokenize(sql, dialect)
            .unwrap()
            .into_iter()
            .filter(|t| t.kind != TokenKind::Whitespace)
            .map(|t| (t.kind, &sql[t.range]))
            .collect()
    }

    /// Reference line/column computation for cross-checking.
    fn naive_line_col(sql: &str, offset: usize) -> (usize, usize) {
        let bom = if offset > 0 && sql.starts_with('\u{feff}') { 3 } else { 0 };
        let before = &sql[bom..offset];
        let normalized = before.replace("\r\n", "\n").replace('\r', "\n");
        let line = normalized.matches('\n').count() + 1;
        let column = normalized.rsplit('\n').next().unwrap().chars().count() + 1;
        (line, column)
    }

    // ----- generic ----------------------------------------------------------------------

    #[test]
    fn plain_multi_statement() {
        let sql = "SELECT 1;\nSELECT 2;\n  SELECT 3;\n";
        for d in [PG, MY, SQ] {
            check(sql, d, &[(1, "SELECT 1"), (2, "SELECT 2"), (3, "SELECT 3")]);
            assert_eq!(positions(sql, d), [(1, 1), (2, 1), (3, 3)]);
        }
        let s = stmts(sql, PG);
        assert_eq!(s[0].segment, 0..9);
        assert_eq!(s[1].segment, 9..19);
        assert_eq!(s[2].segment, 19..31);
        assert_eq!(s[1].text(sql), "SELECT 2");
    }

    #[test]
    fn empty_statements_are_skipped() {
        let sql = ";; SELECT 1;;; SELECT 2;;";
        for d in [PG, MY, SQ] {
            let s = stmts(sql, d);
            check(sql, d, &[(1, "SELECT 1"), (1, "SELECT 2")]);
            assert_eq!(s[0].segment, 0..12);
            assert_eq!(s[1].segment, 12..24);
            assert_eq!(positions(sql, d), [(1, 4), (1, 16)]);
        }
    }

    #[test]
    fn comment_only_scripts_have_no_statements() {
        for d in [PG, MY, SQ] {
            assert!(stmts("", d).is_empty());
            assert!(stmts("  \n\t", d).is_empty());
            assert!(stmts("-- just a comment\n/* and ; another */\n;\n", d).is_empty());
        }
        assert!(stmts("# mysql comment ;\n", MY).is_empty());
    }

    #[test]
    fn final_statement_without_semicolon() {
        let sql = "SELECT 1;\nSELECT 2  \n";
        for d in [PG, MY] {
            let s = stmts(sql, d);
            check(sql, d, &[(1, "SELECT 1"), (2, "SELECT 2")]);
            assert_eq!(s[1].segment, 9..18);
            assert_eq!(s[1].range, 10..18);
        }
    }

    #[test]
    fn trailing_comment_after_last_statement() {
        let sql = "SELECT 1; -- done\n/* bye */\n";
        for d in [PG, MY] {
            let s = stmts(sql, d);
            check(sql, d, &[(1, "SELECT 1")]);
            assert_eq!(s[0].segment, 0..9);
        }
        let sql = "SELECT 1 -- no semicolon";
        for d in [PG, MY] {
            let s = stmts(sql, d);
            check(sql, d, &[(1, "SELECT 1")]);
            assert_eq!(s[0].segment, 0..8);
        }
    }

    #[test]
    fn leading_comments_belong_to_the_segment() {
        let sql = "-- header\n/* c */ SELECT 1; -- x\nSELECT 2;";
        for d in [PG, MY] {
            let s = stmts(sql, d);
            check(sql, d, &[(2, "SELECT 1"), (3, "SELECT 2")]);
            assert_eq!((s[0].line, s[0].column), (2, 9));
            assert_eq!(s[0].segment, 0..27);
            assert_eq!(&sql[s[1].segment.clone()], " -- x\nSELECT 2;");
        }
    }

    #[test]
    fn crlf_line_endings() {
        let sql = "SELECT 1;\r\nSELECT\r\n 2;\r\n\r\n  SELECT 3";
        for d in [PG, MY] {
            check(sql, d, &[(1, "SELECT 1"), (2, "SELECT\r\n 2"), (5, "SELECT 3")]);
            assert_eq!(positions(sql, d), [(1, 1), (2, 1), (5, 3)]);
        }
        // A lone `\r` also ends a line.
        assert_eq!(positions("SELECT 1;\rSELECT 2", PG), [(1, 1), (2, 1)]);
        let e = err("SELECT 1;\r\n\r\n  'abc", PG);
        assert_eq!((e.line, e.column, e.offset), (3, 3, 15));
    }

    #[test]
    fn parentheses_guard_semicolons() {
        let sql = "SELECT (1; 2); SELECT ')' ; SELECT 3)";
        for d in [PG, MY] {
            check(sql, d, &[(1, "SELECT (1; 2)"), (1, "SELECT ')'"), (1, "SELECT 3)")]);
        }
        // Unbalanced `)` never makes the depth negative.
        check("SELECT 1); SELECT 2", PG, &[(1, "SELECT 1)"), (1, "SELECT 2")]);
    }

    #[test]
    fn multibyte_columns() {
        let sql = "SELECT 'é'; SELECT '日本';\n/* 😀 */ SELECT '😀'; SELECT 4;";
        for d in [PG, MY] {
            check(sql, d, &[(1, "SELECT 'é'"), (1, "SELECT '日本'"), (2, "SELECT '😀'"), (2, "SELECT 4")]);
            assert_eq!(positions(sql, d), [(1, 1), (1, 13), (2, 9), (2, 21)]);
        }
        let e = err("SELECT 'é', 日本, \"x", PG);
        assert_eq!((e.line, e.column), (1, 17));
        assert_eq!(e.kind, SplitErrorKind::UnterminatedQuotedIdent);
    }

    #[test]
    fn byte_order_mark_is_whitespace() {
        let sql = "\u{feff}CREATE PROCEDURE p() BEGIN SELECT 1; END; SELECT 2";
        check(sql, MY, &[(1, "CREATE PROCEDURE p() BEGIN SELECT 1; END"), (1, "SELECT 2")]);
        assert_eq!(positions(sql, MY), [(1, 1), (1, 43)]);
    }

    // ----- PostgreSQL lexing -------------------------------------------------------------

    #[test]
    fn pg_strings() {
        check(
            "SELECT 'a;b'; SELECT 'it''s;'; SELECT 3",
            PG,
            &[(1, "SELECT 'a;b'"), (1, "SELECT 'it''s;'"), (1, "SELECT 3")],
        );
    }

    #[test]
    fn pg_escape_strings() {
        let sql = r"SELECT E'it\'s; x'; SELECT e'\\'; SELECT E'a''b;'; SELECT 4";
        check(sql, PG, &[(1, r"SELECT E'it\'s; x'"), (1, r"SELECT e'\\'"), (1, r"SELECT E'a''b;'"), (1, "SELECT 4")]);
    }

    #[test]
    fn pg_backslash_is_not_an_escape() {
        let sql = r"SELECT 'C:\'; SELECT 2";
        check(sql, PG, &[(1, r"SELECT 'C:\'"), (1, "SELECT 2")]);
    }

    #[test]
    fn pg_e_prefix_must_be_standalone() {
        // `abe'...'` is the word `abe` followed by a plain string.
        let sql = r"SELECT abe'\'; SELECT 1";
        check(sql, PG, &[(1, r"SELECT abe'\'"), (1, "SELECT 1")]);
        assert_eq!(
            kinds(r"abe'\' E'\''", PG),
            [(TokenKind::Word, "abe"), (TokenKind::String, r"'\'"), (TokenKind::String, r"E'\''"),]
        );
    }

    #[test]
    fn pg_prefixed_strings() {
        let sql = "SELECT U&'x;y', u&'d\\0061;', B'1;0', x'A;', N'n;'; SELECT U&\"a;b\"; SELECT 3";
        check(
            sql,
            PG,
            &[(1, "SELECT U&'x;y', u&'d\\0061;', B'1;0', x'A;', N'n;'"), (1, "SELECT U&\"a;b\""), (1, "SELECT 3")],
        );
        assert_eq!(
            kinds("U&'x' U&\"y\" B'1' X'f' N'n'", PG).iter().map(|k| k.0).collect::<Vec<_>>(),
            [TokenKind::String, TokenKind::QuotedIdent, TokenKind::String, TokenKind::String, TokenKind::String]
        );
    }

    #[test]
    fn pg_dollar_quotes() {
        check("SELECT $$a;b$$; SELECT 2", PG, &[(1, "SELECT $$a;b$$"), (1, "SELECT 2")]);
        check("SELECT $tag$ x; $$ y $tag$; SELECT 2", PG, &[(1, "SELECT $tag$ x; $$ y $tag$"), (1, "SELECT 2")]);
        // Tags are case-sensitive; other tags, quotes and comments in the body are inert.
        check(
            "SELECT $a$ $A$ ' \" -- /* ; $a$; SELECT 2",
            PG,
            &[(1, "SELECT $a$ $A$ ' \" -- /* ; $a$"), (1, "SELECT 2")],
        );
        // Non-ASCII tags.
        check("SELECT $é$ ; $é$; SELECT 2", PG, &[(1, "SELECT $é$ ; $é$"), (1, "SELECT 2")]);
    }

    #[test]
    fn pg_params_and_dollar_identifiers() {
        let sql = "SELECT $1, $23; SELECT a$b$c FROM t; SELECT 3";
        check(sql, PG, &[(1, "SELECT $1, $23"), (1, "SELECT a$b$c FROM t"), (1, "SELECT 3")]);
        assert_eq!(
            kinds("$1 a$b$ $ x", PG),
            [(TokenKind::Param, "$1"), (TokenKind::Word, "a$b$"), (TokenKind::Punct, "$"), (TokenKind::Word, "x"),]
        );
    }

    #[test]
    fn pg_nested_block_comments() {
        let sql = "SELECT 1 /* /* ; */ ; */; SELECT 2";
        check(sql, PG, &[(1, "SELECT 1"), (1, "SELECT 2")]);
        assert_eq!(
            kinds("/* a /* b */ c */x", PG),
            [(TokenKind::BlockComment, "/* a /* b */ c */"), (TokenKind::Word, "x")]
        );
        assert_eq!(kinds("/*/ */", PG), [(TokenKind::BlockComment, "/*/ */")]);
    }

    #[test]
    fn pg_line_comments() {
        let sql = "SELECT 1 -- ;\n; SELECT 2 --x;";
        check(sql, PG, &[(1, "SELECT 1"), (2, "SELECT 2")]);
        // Unlike MySQL, `--` always starts a comment, so this `;` is commented out.
        check("SELECT 1--1;\nSELECT 2", PG, &[(1, "SELECT 1--1;\nSELECT 2")]);
    }

    #[test]
    fn pg_quoted_identifiers() {
        let sql = "SELECT \"we;ird\", \"a\"\"b;\" FROM t; SELECT 2";
        check(sql, PG, &[(1, "SELECT \"we;ird\", \"a\"\"b;\" FROM t"), (1, "SELECT 2")]);
    }

    #[test]
    fn pg_numbers_and_tokens() {
        assert_eq!(
            kinds("1.5e-3 42abc x1 ::", PG),
            [
                (TokenKind::Number, "1.5e-3"),
                (TokenKind::Number, "42abc"),
                (TokenKind::Word, "x1"),
                (TokenKind::Punct, ":"),
                (TokenKind::Punct, ":"),
            ]
        );
    }

    // ----- PostgreSQL blocks -------------------------------------------------------------

    #[test]
    fn pg_function_with_dollar_body() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\n  RETURN 1; -- ;\nEND;\n$body$ LANGUAGE plpgsql;\nSELECT f();\n";
        check(
            sql,
            PG,
            &[
                (
                    1,
                    "CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\n  RETURN 1; -- ;\nEND;\n$body$ LANGUAGE plpgsql",
                ),
                (6, "SELECT f()"),
            ],
        );
        assert_eq!(positions(sql, PG), [(1, 1), (6, 1)]);
    }

    #[test]
    fn pg_do_block_with_commit() {
        let sql = "DO $$ BEGIN\n  INSERT INTO t VALUES (1);\n  COMMIT;\nEND $$;\nSELECT 1;";
        check(sql, PG, &[(1, "DO $$ BEGIN\n  INSERT INTO t VALUES (1);\n  COMMIT;\nEND $$"), (5, "SELECT 1")]);
        assert_eq!(positions(sql, PG), [(1, 1), (5, 1)]);
    }

    #[test]
    fn pg_begin_atomic() {
        let sql =
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nSELECT 3;";
        check(
            sql,
            PG,
            &[
                (1, "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND"),
                (6, "SELECT 3"),
            ],
        );
        assert_eq!(positions(sql, PG), [(1, 1), (6, 1)]);
    }

    #[test]
    fn pg_begin_atomic_with_comments_and_case() {
        let sql = "CREATE PROCEDURE p(x int) LANGUAGE sql begin /* c */ -- c\n atomic\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END;\n  SELECT (case x when 1 then 'a;' end), t.end FROM t AS end;\nend;\nSELECT 3";
        let body = sql.strip_suffix(";\nSELECT 3").unwrap();
        assert!(body.ends_with("FROM t AS end;\nend"));
        check(sql, PG, &[(1, body), (6, "SELECT 3")]);
    }

    #[test]
    fn pg_create_rule_with_parentheses() {
        let sql =
            "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;";
        check(
            sql,
            PG,
            &[
                (1, "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))"),
                (2, "SELECT 1"),
            ],
        );
    }

    #[test]
    fn pg_transactions_are_plain_statements() {
        let sql = "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nBEGIN WORK;\nBEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nROLLBACK;\nEND;";
        check(
            sql,
            PG,
            &[
                (1, "BEGIN"),
                (2, "INSERT INTO t VALUES (1)"),
                (3, "COMMIT"),
                (4, "BEGIN WORK"),
                (5, "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
                (6, "ROLLBACK"),
                (7, "END"),
            ],
        );
    }

    // ----- MySQL lexing ------------------------------------------------------------------

    #[test]
    fn mysql_strings() {
        let sql = r#"SELECT 'it\'s; fine'; SELECT "dq;\"x"; SELECT 'C:\\'; SELECT 'a'';b', "c"";d"; SELECT 5"#;
        check(
            sql,
            MY,
            &[
                (1, r"SELECT 'it\'s; fine'"),
                (1, r#"SELECT "dq;\"x""#),
                (1, r"SELECT 'C:\\'"),
                (1, r#"SELECT 'a'';b', "c"";d""#),
                (1, "SELECT 5"),
            ],
        );
        assert_eq!(
            kinds(r#"_utf8mb4'x;' N'y\'' X'0A' "z""#, MY),
            [
                (TokenKind::Word, "_utf8mb4"),
                (TokenKind::String, "'x;'"),
                (TokenKind::String, r"N'y\''"),
                (TokenKind::String, "X'0A'"),
                (TokenKind::String, r#""z""#),
            ]
        );
    }

    #[test]
    fn mysql_comments() {
        let sql = "SELECT 1 # ;\n; SELECT 2 -- ;\n; SELECT 3 /* ; /* */; SELECT 4 --\t;\n;SELECT 5 --";
        check(sql, MY, &[(1, "SELECT 1"), (2, "SELECT 2"), (3, "SELECT 3"), (3, "SELECT 4"), (4, "SELECT 5")]);
    }

    #[test]
    fn mysql_double_dash_needs_whitespace() {
        check("SELECT 1--1; SELECT 2", MY, &[(1, "SELECT 1--1"), (1, "SELECT 2")]);
        assert_eq!(
            kinds("1--1", MY),
            [(TokenKind::Number, "1"), (TokenKind::Punct, "-"), (TokenKind::Punct, "-"), (TokenKind::Number, "1"),]
        );
    }

    #[test]
    fn mysql_block_comments_do_not_nest() {
        let sql = "SELECT 1 /* /* */; SELECT 2 */";
        check(sql, MY, &[(1, "SELECT 1"), (1, "SELECT 2 */")]);
    }

    #[test]
    fn mysql_backtick_identifiers() {
        let sql = "SELECT `a;b`, `c``;` FROM `t`; SELECT 2";
        check(sql, MY, &[(1, "SELECT `a;b`, `c``;` FROM `t`"), (1, "SELECT 2")]);
        // `"` is a string, not an identifier, in MySQL.
        assert_eq!(kinds("\"x\"", MY), [(TokenKind::String, "\"x\"")]);
    }

    #[test]
    fn mysql_executable_comments_are_statements() {
        let sql = "/*!40101 SET x=1 */;\n/*M!100100 SET y=2 */;\n/* plain */;\nSELECT /*!STRAIGHT_JOIN*/ 1;";
        check(sql, MY, &[(1, "/*!40101 SET x=1 */"), (2, "/*M!100100 SET y=2 */"), (4, "SELECT /*!STRAIGHT_JOIN*/ 1")]);
        assert_eq!(kinds("/*!40101 SET x=1 */", MY), [(TokenKind::BlockComment, "/*!40101 SET x=1 */")]);
    }

    #[test]
    fn mysql_dollar_is_an_identifier_char() {
        assert_eq!(
            kinds("$$ a$b $1", MY),
            [(TokenKind::Word, "$$"), (TokenKind::Word, "a$b"), (TokenKind::Word, "$1"),]
        );
        check("SELECT $$; SELECT 2", MY, &[(1, "SELECT $$"), (1, "SELECT 2")]);
    }

    // ----- MySQL stored programs ---------------------------------------------------------

    const PROCEDURE: &str = "CREATE DEFINER=`root`@`localhost` PROCEDURE p(IN n INT, OUT begin INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE done INT DEFAULT FALSE;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = IF(done, 1, 1);
  DECLARE EXIT HANDLER FOR SQLEXCEPTION, SQLSTATE '23000' BEGIN ROLLBACK; RESIGNAL; END;
  SET @end = REPEAT('x', 2);
  IF n > 10 THEN
    SET i = 1;
  ELSEIF n > 5 THEN
    SET i = 2;
  ELSE IF n > 1 THEN SET i = 3; END IF;
  END IF;
  WHILE i < n DO
    SET i = i + 1;
  END WHILE;
  REPEAT
    SET i = i - 1;
  UNTIL i <= 0 END REPEAT;
  outer_loop: LOOP
    SET i = i + 1;
    IF i > 3 THEN LEAVE outer_loop; END IF;
  END LOOP outer_loop;
  CASE i
    WHEN 1 THEN SELECT CASE WHEN n THEN 'a' ELSE 'b' END;
    ELSE BEGIN SELECT 2; END;
  END CASE;
  blk: BEGIN
    SELECT 1 AS end;
  END blk;
END;
SELECT 'after';";

    #[test]
    fn mysql_procedure_with_flow_control() {
        let body = PROCEDURE.strip_suffix(";\nSELECT 'after';").unwrap();
        assert!(body.ends_with("END blk;\nEND"));
        check(PROCEDURE, MY, &[(1, body), (32, "SELECT 'after'")]);
        assert_eq!(positions(PROCEDURE, MY), [(1, 1), (32, 1)]);
    }

    #[test]
    fn mysql_trigger() {
        let sql = "CREATE DEFINER=CURRENT_USER TRIGGER trg BEFORE INSERT ON t\nFOR EACH ROW BEGIN\n  SET NEW.a = 1;\n  SET NEW.begin = NEW.end;\nEND;\nINSERT INTO t VALUES (1);";
        check(
            sql,
            MY,
            &[
                (
                    1,
                    "CREATE DEFINER=CURRENT_USER TRIGGER trg BEFORE INSERT ON t\nFOR EACH ROW BEGIN\n  SET NEW.a = 1;\n  SET NEW.begin = NEW.end;\nEND",
                ),
                (6, "INSERT INTO t VALUES (1)"),
            ],
        );
        assert_eq!(positions(sql, MY), [(1, 1), (6, 1)]);
    }

    #[test]
    fn mysql_trigger_with_bare_if_body() {
        let sql = "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW FOLLOWS other IF NEW.a < 0 THEN SET NEW.a = 0; END IF;\nCREATE TRIGGER u AFTER INSERT ON x FOR EACH ROW SET @n = IF(NEW.a, 1, 2);\nSELECT 1;";
        check(
            sql,
            MY,
            &[
                (
                    1,
                    "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW FOLLOWS other IF NEW.a < 0 THEN SET NEW.a = 0; END IF",
                ),
                (2, "CREATE TRIGGER u AFTER INSERT ON x FOR EACH ROW SET @n = IF(NEW.a, 1, 2)"),
                (3, "SELECT 1"),
            ],
        );
    }

    #[test]
    fn mysql_function_with_if_and_repeat_calls() {
        let sql = "CREATE FUNCTION f(a INT) RETURNS TEXT DETERMINISTIC\nBEGIN\n  DECLARE s TEXT;\n  SET s = REPEAT('x', 2);\n  RETURN IF(a, s, 'c');\nEND;\nCREATE FUNCTION IF NOT EXISTS g() RETURNS INT RETURN IF(1, 2, 3);\nCREATE FUNCTION h() RETURNS INT RETURN CASE WHEN 1 THEN 2 END;\nSELECT f(1);";
        check(
            sql,
            MY,
            &[
                (
                    1,
                    "CREATE FUNCTION f(a INT) RETURNS TEXT DETERMINISTIC\nBEGIN\n  DECLARE s TEXT;\n  SET s = REPEAT('x', 2);\n  RETURN IF(a, s, 'c');\nEND",
                ),
                (7, "CREATE FUNCTION IF NOT EXISTS g() RETURNS INT RETURN IF(1, 2, 3)"),
                (8, "CREATE FUNCTION h() RETURNS INT RETURN CASE WHEN 1 THEN 2 END"),
                (9, "SELECT f(1)"),
            ],
        );
    }

    #[test]
    fn mysql_create_variants() {
        let cases = [
            "CREATE OR REPLACE PROCEDURE p() BEGIN SELECT 1; END",
            "CREATE DEFINER = 'u'@'%' PROCEDURE p() BEGIN SELECT 1; END",
            "CREATE DEFINER=root@localhost PROCEDURE p() BEGIN SELECT 1; END",
            "CREATE DEFINER=CURRENT_USER() FUNCTION f() RETURNS INT BEGIN RETURN 1; END",
            "CREATE AGGREGATE FUNCTION agg(x INT) RETURNS INT BEGIN DECLARE s INT DEFAULT 0; LOOP FETCH GROUP NEXT ROW; SET s = s + x; END LOOP; END",
            "CREATE PROCEDURE IF NOT EXISTS p() BEGIN SELECT 1; END",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; SELECT 1; END",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO IF 1 THEN DELETE FROM t; END IF",
            "CREATE PROCEDURE p() lbl: LOOP SELECT 1; LEAVE lbl; END LOOP lbl",
            "CREATE PROCEDURE p() BEGIN (SELECT 1); END",
            "CREATE /*!50017 DEFINER=`u`@`h` */ TRIGGER t AFTER INSERT ON x FOR EACH ROW BEGIN SELECT 1; END",
        ];
        for case in cases {
            let sql = format!("{case};\nSELECT 2;");
            check(&sql, MY, &[(1, case), (2, "SELECT 2")]);
        }
    }

    #[test]
    fn mysql_begin_as_a_column_name() {
        let sql = "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW UPDATE y SET begin = 1, `end` = 2;\nCREATE EVENT e ON SCHEDULE EVERY 1 DAY DO UPDATE y SET begin = NOW();\nCREATE PROCEDURE p() UPDATE y SET begin = 1;\nALTER EVENT e DO BEGIN SELECT 1; END;\nSELECT 1;";
        check(
            sql,
            MY,
            &[
                (1, "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW UPDATE y SET begin = 1, `end` = 2"),
                (2, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO UPDATE y SET begin = NOW()"),
                (3, "CREATE PROCEDURE p() UPDATE y SET begin = 1"),
                (4, "ALTER EVENT e DO BEGIN SELECT 1; END"),
                (5, "SELECT 1"),
            ],
        );
    }

    #[test]
    fn mysql_handler_with_compound_body() {
        let sql = "CREATE PROCEDURE p() BEGIN\n  DECLARE CONTINUE HANDLER FOR SQLWARNING IF 1 THEN SELECT 1; END IF;\n  DECLARE EXIT HANDLER FOR 1062 BEGIN SELECT 2; END;\n  DECLARE CONTINUE HANDLER FOR my_condition SET @x = IF(1, 2, 3);\n  SELECT 3;\nEND;\nSELECT 4;";
        let body = sql.strip_suffix(";\nSELECT 4;").unwrap();
        check(sql, MY, &[(1, body), (7, "SELECT 4")]);
    }

    #[test]
    fn mysql_mariadb_extensions() {
        let sql =
            "BEGIN NOT ATOMIC\n  DECLARE i INT DEFAULT 0;\n  FOR r IN 1..3 DO SET i = i + r; END FOR;\nEND;\nSELECT 1;";
        check(
            sql,
            MY,
            &[
                (1, "BEGIN NOT ATOMIC\n  DECLARE i INT DEFAULT 0;\n  FOR r IN 1..3 DO SET i = i + r; END FOR;\nEND"),
                (5, "SELECT 1"),
            ],
        );
    }

    #[test]
    fn mysql_create_table_if_not_exists() {
        let sql = "CREATE TABLE IF NOT EXISTS t (begin INT, `end` INT, event INT);\nDROP TABLE IF EXISTS u;\nCREATE TABLE event (id INT);\nSELECT 1;";
        check(
            sql,
            MY,
            &[
                (1, "CREATE TABLE IF NOT EXISTS t (begin INT, `end` INT, event INT)"),
                (2, "DROP TABLE IF EXISTS u"),
                (3, "CREATE TABLE event (id INT)"),
                (4, "SELECT 1"),
            ],
        );
    }

    #[test]
    fn mysql_transactions_are_plain_statements() {
        let sql = "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nBEGIN WORK;\nSELECT IF(1, 2, 3);\nROLLBACK;";
        check(
            sql,
            MY,
            &[
                (1, "BEGIN"),
                (2, "INSERT INTO t VALUES (1)"),
                (3, "COMMIT"),
                (4, "BEGIN WORK"),
                (5, "SELECT IF(1, 2, 3)"),
                (6, "ROLLBACK"),
            ],
        );
    }

    #[test]
    fn mysql_user_variables_and_qualified_names_are_not_keywords() {
        let sql = "CREATE PROCEDURE p() BEGIN SET @begin = 1; SELECT t.end, @end FROM t; END; SELECT 2";
        check(
            sql,
            MY,
            &[(1, "CREATE PROCEDURE p() BEGIN SET @begin = 1; SELECT t.end, @end FROM t; END"), (1, "SELECT 2")],
        );
    }

    // ----- SQLite lexing -----------------------------------------------------------------

    #[test]
    fn sqlite_strings() {
        let sql = r"SELECT 'a;b'; SELECT 'it''s;'; SELECT 'C:\'; SELECT X'0A;'; SELECT 5";
        check(
            sql,
            SQ,
            &[(1, "SELECT 'a;b'"), (1, "SELECT 'it''s;'"), (1, r"SELECT 'C:\'"), (1, "SELECT X'0A;'"), (1, "SELECT 5")],
        );
        // Backslashes escape nothing, and there are no E'' strings.
        assert_eq!(
            kinds(r"E'\' x'ff'", SQ),
            [(TokenKind::Word, "E"), (TokenKind::String, r"'\'"), (TokenKind::String, "x'ff'")]
        );
    }

    #[test]
    fn sqlite_quoted_identifiers() {
        let sql = "SELECT \"a;b\", \"c\"\"d;\", `e;f`, `g``h;`, [i;j], [k\"l`m] FROM t; SELECT 2";
        check(sql, SQ, &[(1, "SELECT \"a;b\", \"c\"\"d;\", `e;f`, `g``h;`, [i;j], [k\"l`m] FROM t"), (1, "SELECT 2")]);
        let quoted = kinds("\"a\" `b` [c d] [\"]", SQ);
        assert!(quoted.iter().all(|(kind, _)| *kind == TokenKind::QuotedIdent), "{quoted:?}");
        assert_eq!(quoted.len(), 4);
        // `[` quotes only in SQLite.
        assert_eq!(kinds("[a]", PG).first().map(|k| k.0), Some(TokenKind::Punct));
        assert_eq!(kinds("[a]", MY).first().map(|k| k.0), Some(TokenKind::Punct));
    }

    #[test]
    fn sqlite_comments() {
        // `--` needs no whitespace after it (unlike MySQL), and block comments do not nest.
        check("SELECT 1--1;\nSELECT 2", SQ, &[(1, "SELECT 1--1;\nSELECT 2")]);
        check("SELECT 1 /* /* ; */; SELECT 2 -- ;\n;", SQ, &[(1, "SELECT 1"), (1, "SELECT 2")]);
        assert_eq!(kinds("/* a /* b */ c", SQ)[0], (TokenKind::BlockComment, "/* a /* b */"));
        // `#` is not a comment.
        assert_eq!(kinds("#x", SQ)[0], (TokenKind::Punct, "#"));
    }

    #[test]
    fn sqlite_dollar_is_not_a_quote() {
        check(
            "SELECT $$a; SELECT a$b$ FROM t; SELECT $x",
            SQ,
            &[(1, "SELECT $$a"), (1, "SELECT a$b$ FROM t"), (1, "SELECT $x")],
        );
        assert_eq!(kinds("a$b $c", SQ), [(TokenKind::Word, "a$b"), (TokenKind::Punct, "$"), (TokenKind::Word, "c")]);
    }

    // ----- SQLite blocks -----------------------------------------------------------------

    #[test]
    fn sqlite_trigger_bodies() {
        let trigger = "CREATE TRIGGER orders_audit AFTER UPDATE OF status ON orders\nFOR EACH ROW WHEN NEW.status <> OLD.status\nBEGIN\n  INSERT INTO audit (note) VALUES ('status; changed');\n  UPDATE orders SET touched = 1 WHERE id = NEW.id;\nEND";
        let sql = format!("{trigger};\nSELECT 1;\n");
        check(&sql, SQ, &[(1, trigger), (7, "SELECT 1")]);
        // TEMP and IF NOT EXISTS, lowercase, and `CASE … END` inside the body.
        let temp = "create temp trigger if not exists t before insert on x begin\n  select case when new.a > 0 then raise(abort, 'no;') else 1 end;\n  select case new.b when 1 then 'a' end, (case when 1 then 2 end);\nend";
        check(&format!("{temp};SELECT 2"), SQ, &[(1, temp), (4, "SELECT 2")]);
        let temporary = "CREATE TEMPORARY TRIGGER t INSTEAD OF INSERT ON v BEGIN INSERT INTO x VALUES (1); END";
        check(&format!("{temporary}; SELECT 3"), SQ, &[(1, temporary), (1, "SELECT 3")]);
        // A quoted or qualified `begin` is a name, and CASE … END in a WHEN clause opens nothing.
        let named = "CREATE TRIGGER t AFTER INSERT ON x WHEN NEW.begin = 1 AND CASE WHEN NEW.\"end\" THEN 1 END BEGIN DELETE FROM y WHERE [begin] = NEW.begin; END";
        check(&format!("{named}; SELECT 4"), SQ, &[(1, named), (1, "SELECT 4")]);
    }

    #[test]
    fn sqlite_case_outside_triggers_needs_no_block() {
        check(
            "SELECT CASE WHEN a THEN 'x;' ELSE 'y' END FROM t; CREATE VIEW v AS SELECT CASE 1 WHEN 1 THEN 2 END; SELECT 3",
            SQ,
            &[
                (1, "SELECT CASE WHEN a THEN 'x;' ELSE 'y' END FROM t"),
                (1, "CREATE VIEW v AS SELECT CASE 1 WHEN 1 THEN 2 END"),
                (1, "SELECT 3"),
            ],
        );
    }

    #[test]
    fn sqlite_transactions_are_plain_statements() {
        let sql = "BEGIN;\nBEGIN IMMEDIATE;\nBEGIN EXCLUSIVE TRANSACTION;\nBEGIN DEFERRED;\nSAVEPOINT a;\nRELEASE a;\nROLLBACK TO a;\nEND TRANSACTION;\nEND;\nCOMMIT;";
        check(
            sql,
            SQ,
            &[
                (1, "BEGIN"),
                (2, "BEGIN IMMEDIATE"),
                (3, "BEGIN EXCLUSIVE TRANSACTION"),
                (4, "BEGIN DEFERRED"),
                (5, "SAVEPOINT a"),
                (6, "RELEASE a"),
                (7, "ROLLBACK TO a"),
                (8, "END TRANSACTION"),
                (9, "END"),
                (10, "COMMIT"),
            ],
        );
        // Not a trigger: `CREATE TABLE` with a column named `begin` opens nothing.
        check(
            "CREATE TABLE t (\"begin\" int, [end] int); SELECT 1",
            SQ,
            &[(1, "CREATE TABLE t (\"begin\" int, [end] int)"), (1, "SELECT 1")],
        );
    }

    #[test]
    fn sqlite_errors() {
        let e = err("SELECT 1;\nSELECT [a;b", SQ);
        assert_eq!((e.kind, e.line, e.column), (SplitErrorKind::UnterminatedQuotedIdent, 2, 8));
        let e = err("SELECT 'it''s", SQ);
        assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
        let e = err("SELECT 1 /* x", SQ);
        assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedComment, 10));
        let e = err("CREATE TRIGGER t AFTER INSERT ON x\nBEGIN\n  SELECT CASE WHEN 1 THEN 2 END;\nSELECT 2;", SQ);
        assert_eq!(
            (e.kind, e.line, e.column),
            (SplitErrorKind::UnterminatedBlock { keyword: "BEGIN".to_owned() }, 2, 1)
        );
        // `DELIMITER` is a word, as in PostgreSQL.
        check("DELIMITER x", SQ, &[(1, "DELIMITER x")]);
    }

    // ----- errors ------------------------------------------------------------------------

    #[test]
    fn error_unterminated_string() {
        let e = err("SELECT 1;\n  SELECT 'abc;\nSELECT 2;", PG);
        assert_eq!(e.kind, SplitErrorKind::UnterminatedString);
        assert_eq!((e.offset, e.line, e.column), (19, 2, 10));
        assert_eq!(e.to_string(), "unterminated string literal starting at line 2, column 10: add the closing quote");
        let e = err(r"SELECT E'it\'s", PG);
        assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
        let e = err("SELECT \"dq\\\"", MY);
        assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
        let e = err(r"SELECT 'C:\'", MY);
        assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
        assert_eq!(tokenize("x 'a", PG).unwrap_err().kind, SplitErrorKind::UnterminatedString);
    }

    #[test]
    fn error_unterminated_quoted_ident() {
        let e = err("SELECT \"a\"\"b", PG);
        assert_eq!(e.kind, SplitErrorKind::UnterminatedQuotedIdent);
        assert_eq!((e.line, e.column), (1, 8));
        let e = err("SELECT 1;\nSELECT `a``", MY);
        assert_eq!(e.kind, SplitErrorKind::UnterminatedQuotedIdent);
        assert_eq!((e.offset, e.line, e.column), (17, 2, 8));
        assert!(e.to_string().starts_with("unterminated quoted identifier"));
    }

    #[test]
    fn error_unterminated_dollar_quote() {
        let e = err("SELECT 1;\n\nDO $body$ BEGIN\nEND $BODY$;", PG);
        assert_eq!(e.kind, SplitErrorKind::UnterminatedDollarQuote { tag: "body".to_owned() });
        assert_eq!((e.offset, e.line, e.column), (14, 3, 4));
        assert_eq!(
            e.to_string(),
            "unterminated dollar quote $body$ starting at line 3, column 4: add the closing $body$"
        );
        let e = err("SELECT $$ x", PG);
        assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedDollarQuote { tag: String::new() }, 8));
    }

    #[test]
    fn error_unterminated_comment() {
        let e = err("SELECT 1;\n/* a /* b */ c", PG);
        assert_eq!(e.kind, SplitErrorKind::UnterminatedComment);
        assert_eq!((e.line, e.column), (2, 1));
        let e = err("SELECT 1 /* x", MY);
        assert_eq!((&e.kind, e.line, e.column), (&SplitErrorKind::UnterminatedComment, 1, 10));
        assert!(e.to_string().contains("add the closing */"));
    }

    #[test]
    fn error_unterminated_block() {
        let e = err("CREATE FUNCTION f() RETURNS int LANGUAGE sql\n  BEGIN ATOMIC\n  SELECT 1;\nSELECT 2;", PG);
        assert_eq!(e.kind, SplitErrorKind::UnterminatedBlock { keyword: "BEGIN ATOMIC".to_owned() });
        assert_eq!((e.line, e.column), (2, 3));
        assert_eq!(
            e.to_string(),
            "unterminated BEGIN ATOMIC block starting at line 2, column 3: add the matching END (and close every block opened inside it)"
        );
        // The CASE inside is closed, so the body itself is reported.
        let e = err("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END;", PG);
        assert_eq!(e.column, 46);

        let e = err("CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n", MY);
        assert_eq!(e.kind, SplitErrorKind::UnterminatedBlock { keyword: "BEGIN".to_owned() });
        assert_eq!((e.line, e.column), (2, 1));
        // A missing END IF: the END of the body closes the IF, so the body stays open.
        let e = err("CREATE PROCEDURE p() BEGIN\n  IF 1 THEN SELECT 1;\nEND;\nSELECT 2;", MY);
        assert_eq!((e.line, e.column), (1, 22));
        let e = err("CREATE PROCEDURE p() BEGIN\n  WHILE 1 DO SELECT 1;", MY);
        assert_eq!(
            (e.kind, e.line, e.column),
            (SplitErrorKind::UnterminatedBlock { keyword: "WHILE".to_owned() }, 2, 3)
        );
    }

    #[test]
    fn error_delimiter_command() {
        let sql = "SELECT 1;\ndelimiter $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n";
        let e = err(sql, MY);
        assert_eq!(e.kind, SplitErrorKind::DelimiterCommand);
        assert_eq!((e.offset, e.line, e.column), (10, 2, 1));
        assert!(e.to_string().starts_with("mysql client command DELIMITER"));
        // Reported even when the rest of the script would not lex.
        let e = err("DELIMITER //\nSELECT 'x //\n", MY);
        assert_eq!(e.kind, SplitErrorKind::DelimiterCommand);
        // PostgreSQL has no such command; the word is just a word there.
        check("DELIMITER x", PG, &[(1, "DELIMITER x")]);
    }

    #[test]
    fn errors_are_std_errors() {
        let e: Box<dyn std::error::Error> = Box::new(err("'", PG));
        assert!(e.to_string().contains("line 1, column 1"));
    }

    // ----- property tests ----------------------------------------------------------------

    /// Arbitrary text biased toward the characters and words the lexer and the block
    /// rules care about: raw quote/comment/dollar characters (mostly unbalanced),
    /// balanced snippets (so that many inputs lex and split), keywords and phrases.
    fn chaos() -> impl Strategy<Value = String> {
        let symbols = prop::sample::select(vec![
            "'", "\"", "`", "$", ";", "(", ")", "-", "#", "/", "*", "\\", "\n", "\r", ":", ".", "@", "=", ",", "E",
            "e", "U&", "N", "X", "$$", "$a$", "$1", "--", "/*", "*/", "/*!", "1", "0", "é", "日本", "😀", "\t",
            "\u{feff}", "\r\n", "[", "]",
        ]);
        let snippets = prop::sample::select(vec![
            "'a;b'",
            "'it''s'",
            "'\\';'",
            "E'\\';'",
            "\"q;\"",
            "`b;`",
            "$$ ; $$",
            "$t$;$$$t$",
            "/* ; */",
            "/* /* ; */ */",
            "-- ;\n",
            "# ;\n",
            "/*!1 ; */",
            "[a;b]",
            "( ; )",
            ";",
            " ; ",
        ]);
        let words = prop::sample::select(vec![
            "BEGIN",
            "ATOMIC",
            "END",
            "CASE",
            "IF",
            "CREATE",
            "ALTER",
            "PROCEDURE",
            "FUNCTION",
            "TRIGGER",
            "EVENT",
            "LOOP",
            "WHILE",
            "REPEAT",
            "FOR",
            "THEN",
            "ELSE",
            "DO",
            "EACH",
            "ROW",
            "HANDLER",
            "NOT",
            "DEFINER",
            "DELIMITER",
            "SELECT",
            "AS",
            "x",
            "lbl",
            "begin",
            "TEMP",
            "TEMPORARY",
        ]);
        let phrases = prop::sample::select(vec![
            "CREATE PROCEDURE p() ",
            "CREATE FUNCTION f() RETURNS int ",
            "CREATE DEFINER = 'u'@'h' TRIGGER t BEFORE INSERT ON x FOR EACH ROW ",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO ",
            "BEGIN ATOMIC ",
            "BEGIN NOT ATOMIC ",
            "END IF",
            "END LOOP",
            "lbl: ",
            "DECLARE EXIT HANDLER FOR SQLEXCEPTION ",
            "IF(a, b, c)",
            "SELECT t.end AS end",
            "CREATE TEMP TRIGGER t AFTER INSERT ON x ",
            "CASE WHEN a THEN 1 END",
        ]);
        let piece = prop_oneof![
            4 => symbols.prop_map(String::from),
            3 => snippets.prop_map(String::from),
            5 => words.prop_map(String::from),
            2 => phrases.prop_map(String::from),
            4 => Just(" ".to_owned()),
            1 => any::<char>().prop_map(String::from),
        ];
        prop_oneof![
            6 => prop::collection::vec(piece, 0..64).prop_map(|v| v.concat()),
            1 => any::<String>(),
        ]
    }

    fn check_invariants(sql: &str, dialect: Dialect) -> Result<(), TestCaseError> {
        let tokens = tokenize(sql, dialect);
        if let Ok(tokens) = &tokens {
            let mut pos = 0;
            for t in tokens {
                prop_assert_eq!(t.range.start, pos);
                prop_assert!(t.range.end > t.range.start);
                prop_assert!(sql.is_char_boundary(t.range.start));
                prop_assert!(sql.is_char_boundary(t.range.end));
                pos = t.range.end;
            }
            prop_assert_eq!(pos, sql.len());
        }
        let result = split(sql, dialect);
        if let Err(e) = &result {
            prop_assert!(e.offset <= sql.len());
            prop_assert_eq!((e.line, e.column), naive_line_col(sql, e.offset));
            prop_assert!(!e.to_string().is_empty());
        }
        let Ok(statements) = result else {
            return Ok(());
        };
        let Ok(tokens) = tokens else {
            return Err(TestCaseError::fail("split succeeded but tokenize failed"));
        };

        let mut segment_pos = 0;
        let mut rebuilt = String::new();
        for s in &statements {
            prop_assert_eq!(s.segment.start, segment_pos);
            prop_assert!(s.segment.start <= s.range.start);
            prop_assert!(s.range.start < s.range.end);
            prop_assert!(s.range.end <= s.segment.end);
            prop_assert!(s.segment.end == s.range.end || sql[..s.segment.end].ends_with(';'));
            prop_assert_eq!((s.line, s.column), naive_line_col(sql, s.range.start));
            rebuilt.push_str(&sql[segment_pos..s.range.start]);
            rebuilt.push_str(&sql[s.range.clone()]);
            rebuilt.push_str(&sql[s.range.end..s.segment.end]);
            segment_pos = s.segment.end;
        }
        rebuilt.push_str(&sql[segment_pos..]);
        prop_assert_eq!(&rebuilt, sql);

        // Tokens lie entirely inside or outside statements; outside ones are trivia or `;`.
        let mut next = statements.iter().peekable();
        for t in &tokens {
            while next.peek().is_some_and(|s| s.range.end <= t.range.start) {
                next.next();
            }
            let inside = next.peek().is_some_and(|s| s.range.start <= t.range.start && t.range.end <= s.range.end);
            let overlaps = next.peek().is_some_and(|s| s.range.start < t.range.end && t.range.start < s.range.end);
            prop_assert_eq!(inside, overlaps, "token {:?} straddles a statement", t);
            if !inside {
                prop_assert!(t.kind.is_trivia() || t.kind == TokenKind::Semicolon, "token {:?} outside statements", t);
            }
        }

        let remainder = &sql[segment_pos..];
        prop_assert_eq!(split(remainder, dialect), Ok(Vec::new()));
        Ok(())
    }

    fn well_formed(dialect: Dialect) -> impl Strategy<Value = (String, Vec<String>)> {
        let (pieces, whole, trivia): (Vec<&str>, Vec<&str>, Vec<&str>) = match dialect {
            Dialect::Postgres => (
                vec![
                    "SELECT",
                    "x",
                    "a$b",
                    "$1",
                    "42",
                    "3.14",
                    "é",
                    "日本",
                    "+",
                    "'a;b'",
                    "'it''s'",
                    r"E'it\'s; x'",
                    r"'C:\'",
                    "$$a;b$$",
                    "$tag$ x; $$ y $tag$",
                    "\"we;ird\"",
                    "U&'x;y'",
                    "( a ; b )",
                    "(1, 2)",
                    "t.end",
                ],
                vec![
                    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN x THEN 1 END; END",
                    "DO $$ BEGIN COMMIT; END $$",
                    "BEGIN",
                    "COMMIT",
                    "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); NOTIFY b)",
                ],
                vec![" ", "\n", "\r\n", "\t", " /* ; */ ", " -- ;\n", " /* a /* ; */ b */ "],
            ),
            Dialect::Sqlite => (
                vec![
                    "SELECT",
                    "x",
                    "a$b",
                    "$x",
                    "?1",
                    "42",
                    "é",
                    "+",
                    "'a;b'",
                    "'it''s'",
                    r"'C:\'",
                    "X'0A'",
                    "\"we;ird\"",
                    "`b;`",
                    "[c;d]",
                    "( a ; b )",
                    "t.end",
                    "NEW.begin",
                    "CASE WHEN a THEN 'x;' END",
                ],
                vec![
                    "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW BEGIN INSERT INTO y VALUES (NEW.a); SELECT CASE WHEN 1 THEN 2 END; END",
                    "CREATE TEMP TRIGGER IF NOT EXISTS t BEFORE DELETE ON x WHEN OLD.a > 0 BEGIN SELECT RAISE(ABORT, 'no;'); END",
                    "BEGIN IMMEDIATE",
                    "END TRANSACTION",
                    "COMMIT",
                ],
                vec![" ", "\n", "\r\n", "\t", " /* ; */ ", " -- ;\n", " /* /* ; */ "],
            ),
            _ => (
                vec![
                    "SELECT",
                    "x",
                    "a$b",
                    "42",
                    "é",
                    "😀",
                    "+",
                    r"'it\'s; fine'",
                    r#""dq;\"x""#,
                    r"'C:\\'",
                    "`a;b`",
                    "`c``;`",
                    "( a ; b )",
                    "1--1",
                    "/*!40101 SET x=1 */",
                    "IF(a, b, c)",
                    "REPEAT('x', 2)",
                    "@begin",
                ],
                vec![
                    "CREATE PROCEDURE p() BEGIN DECLARE i INT DEFAULT 0; lbl: LOOP SET i = i + 1; IF i > 3 THEN LEAVE lbl; END IF; END LOOP lbl; END",
                    "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = IF(NEW.b, 1, 2); END",
                    "CREATE FUNCTION f() RETURNS INT BEGIN WHILE 1 DO SET @a = 1; END WHILE; RETURN 1; END",
                    "BEGIN",
                    "COMMIT",
                ],
                vec![" ", "\n", "\r\n", "\t", " /* ; */ ", " -- ;\n", " # ;\n"],
            ),
        };
        let piece = prop::sample::select(pieces).prop_map(String::from);
        let trivia = prop::sample::select(trivia).prop_map(String::from);
        let composed =
            (piece.clone(), prop::collection::vec((trivia.clone(), piece), 0..6)).prop_map(|(first, rest)| {
                let mut s = first;
                for (t, p) in rest {
                    s.push_str(&t);
                    s.push_str(&p);
                }
                s
            });
        let statement = prop_oneof![
            3 => composed,
            1 => prop::sample::select(whole).prop_map(String::from),
        ];
        let separator = prop::sample::select(vec![";", ";\n", "; -- c\n", ";;\n", "; /* x */ ;", ";\r\n", " ;"]);
        (
            prop::option::of(trivia.clone()),
            prop::collection::vec((statement, separator), 0..6),
            any::<bool>(),
            prop::option::of(trivia),
        )
            .prop_map(|(lead, items, drop_last, tail)| {
                let mut sql = lead.unwrap_or_default();
                let count = items.len();
                let mut statements = Vec::new();
                for (k, (statement, separator)) in items.into_iter().enumerate() {
                    sql.push_str(&statement);
                    if !(drop_last && k + 1 == count) {
                        sql.push_str(separator);
                    }
                    statements.push(statement);
                }
                sql.push_str(&tail.unwrap_or_default());
                (sql, statements)
            })
    }

    fn check_well_formed(sql: &str, expected: &[String], dialect: Dialect) -> Result<(), TestCaseError> {
        let statements = split(sql, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let got: Vec<&str> = statements.iter().map(|s| &sql[s.range.clone()]).collect();
        prop_assert_eq!(&got, &expected);
        for text in got {
            let again = split(text, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again.len(), 1);
            prop_assert_eq!(again[0].range.clone(), 0..text.len());
            prop_assert_eq!(again[0].segment.clone(), 0..text.len());
        }
        check_invariants(sql, dialect)
    }

    /// Runs a property over 2000 generated cases (no `proptest!` macro, so that the file
    /// holds no inner attributes) and reports the minimal failing input.
    fn run_property<S: Strategy>(strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let config = ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() };
        let mut runner = proptest::test_runner::TestRunner::new(config);
        if let Err(e) = runner.run(&strategy, property) {
            panic!("{e}");
        }
    }

    #[test]
    fn prop_postgres_invariants() {
        run_property(chaos(), |sql| check_invariants(&sql, PG));
    }

    #[test]
    fn prop_mysql_invariants() {
        run_property(chaos(), |sql| check_invariants(&sql, MY));
    }

    #[test]
    fn prop_postgres_well_formed() {
        run_property(well_formed(PG), |(sql, expected)| check_well_formed(&sql, &expected, PG));
    }

    #[test]
    fn prop_mysql_well_formed() {
        run_property(well_formed(MY), |(sql, expected)| check_well_formed(&sql, &expected, MY));
    }

    #[test]
    fn prop_sqlite_invariants() {
        run_property(chaos(), |sql| check_invariants(&sql, SQ));
    }

    #[test]
    fn prop_sqlite_well_formed() {
        run_property(well_formed(SQ), |(sql, expected)| check_well_formed(&sql, &expected, SQ));
    }
}
