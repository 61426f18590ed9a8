//! What the lexer and splitter produce: tokens, statements, and why a script cannot be split.

use std::fmt;
use std::ops::Range;

use super::lines::LineTracker;

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
    /// MySQL: a statement that starts with `END`, which closes nothing: a stored program
    /// above it was ended early (usually by a name spelled like a keyword in its body).
    UnmatchedEnd,
    /// A NUL byte, anywhere (no server accepts it in query text).
    NulByte,
    /// A control character outside strings, quoted identifiers and comments.
    ControlCharacter {
        /// Its code point.
        code: u32,
    },
    /// A bidirectional formatting character (U+202A–U+202E, U+2066–U+2069), anywhere: it
    /// makes the script display in another order than the server reads it.
    BidiControl {
        /// Its code point.
        code: u32,
    },
    /// A command of a client program (psql `\connect`, `\i`, `\.`; the mysql client's `\g`;
    /// the sqlite3 shell's `.read`), which is not SQL.
    ClientCommand {
        /// The client: `psql`, `mysql` or `sqlite3`.
        client: &'static str,
        /// The command as written (its first words).
        command: String,
    },
    /// A statement that streams data between the server and the client, which a migration
    /// cannot do: PostgreSQL `COPY … FROM STDIN` / `COPY … TO STDOUT`, MySQL `LOAD DATA
    /// LOCAL INFILE`.
    DataStream {
        /// The clause, such as `COPY … FROM STDIN`.
        clause: &'static str,
    },
}

impl SplitError {
    pub(super) fn new(sql: &str, kind: SplitErrorKind, offset: usize) -> Self {
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
                 add the matching END (and close every block opened inside it); if the block \
                 has its END, a name spelled like a keyword (`begin`, `end`, `case`) hides it: \
                 quote that name"
            ),
            SplitErrorKind::DelimiterCommand => write!(
                f,
                "mysql client command DELIMITER at line {line}, column {column} is not SQL: \
                 remove the DELIMITER lines and end every statement, including stored-program \
                 bodies, with a plain ;"
            ),
            SplitErrorKind::UnmatchedEnd => write!(
                f,
                "END at line {line}, column {column} closes no block: the stored program above was \
                 probably ended early by a column, variable or label spelled like a keyword (`end`, \
                 `begin`) in its body; quote that name with backticks (`end`)"
            ),
            SplitErrorKind::NulByte => write!(
                f,
                "NUL byte at line {line}, column {column}: no database accepts it in SQL text \
                 (PostgreSQL rejects the whole message, SQLite stops reading there); remove it, \
                 and if the file was saved as UTF-16, save it as UTF-8"
            ),
            SplitErrorKind::ControlCharacter { code } => write!(
                f,
                "control character U+{code:04X} at line {line}, column {column}, outside any string \
                 or comment: no database accepts it there; remove it (inside a string, write it with \
                 the database's escape or chr() function)"
            ),
            SplitErrorKind::BidiControl { code } => write!(
                f,
                "bidirectional formatting character U+{code:04X} at line {line}, column {column}: \
                 it makes the script display in another order than the database reads it; remove \
                 it (if data needs it, write it with the database's escape or chr() function)"
            ),
            SplitErrorKind::ClientCommand { client, command } => write!(
                f,
                "{client} command `{command}` at line {line}, column {column} is not SQL: migrator \
                 sends statements to the server itself, so client commands cannot run; remove it \
                 (connect, include files and set variables outside the migration)"
            ),
            SplitErrorKind::DataStream { clause } => write!(
                f,
                "`{clause}` at line {line}, column {column} streams data between the server and \
                 the client, which a migration cannot do: load data with `INSERT … SELECT`, a \
                 Rust-code migration, or a server-side file (`COPY … FROM 'file'`, `LOAD DATA \
                 INFILE` without LOCAL)"
            ),
        }
    }
}

impl std::error::Error for SplitError {}
