//! The lexer: tokens that tile a script exactly, and byte offsets turned into lines and columns.

use crate::dialect::Dialect;

use super::lines::is_bidi_control;
use super::token::{SplitError, SplitErrorKind, Token, TokenKind};

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
pub(super) struct Lexer<'a> {
    cur: Cursor<'a>,
    dialect: Dialect,
    failed: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str, dialect: Dialect) -> Self {
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

/// A character no script may hold where it is: a NUL byte or a bidirectional formatting
/// character anywhere, and a control character outside strings, quoted identifiers and
/// comments. Returns its byte offset in `text` and why.
fn forbidden_char(kind: TokenKind, text: &str) -> Option<(usize, SplitErrorKind)> {
    if kind == TokenKind::Whitespace {
        // Whitespace is made of whitespace characters only: none of these.
        return None;
    }
    let literal = matches!(
        kind,
        TokenKind::String
            | TokenKind::QuotedIdent
            | TokenKind::DollarString
            | TokenKind::LineComment
            | TokenKind::BlockComment
    );
    text.char_indices().find_map(|(at, c)| {
        let code = u32::from(c);
        let why = match c {
            '\0' => SplitErrorKind::NulByte,
            _ if is_bidi_control(c) => SplitErrorKind::BidiControl { code },
            _ if !literal && c.is_ascii_control() => SplitErrorKind::ControlCharacter { code },
            _ => return None,
        };
        Some((at, why))
    })
}

impl Iterator for Lexer<'_> {
    type Item = Result<Token, SplitError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let start = self.cur.pos;
        let c = self.cur.peek()?;
        let (kind, at) = match self.lex_one(c) {
            Ok(kind) => {
                let text = self.cur.src.get(start..self.cur.pos).unwrap_or("");
                match forbidden_char(kind, text) {
                    None => return Some(Ok(Token { kind, range: start..self.cur.pos })),
                    Some((at, why)) => (why, start + at),
                }
            }
            Err(kind) => (kind, start),
        };
        self.failed = true;
        Some(Err(SplitError::new(self.cur.src, kind, at)))
    }
}
