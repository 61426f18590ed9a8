//! What the rules look at: a statement's significant tokens and a cursor with keyword helpers.

use std::ops::Range;

use crate::dialect::Dialect;
use crate::split::{Token, TokenKind, tokenize};

/// A significant token (not whitespace, not a comment) with its text and byte offset in the
/// script.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok<'a> {
    pub(crate) kind: TokenKind,
    pub(crate) text: &'a str,
    pub(crate) offset: usize,
}

impl<'a> Tok<'a> {
    /// Whether this is the (case-insensitive) keyword `kw`.
    pub(crate) fn is(&self, kw: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(kw)
    }

    /// Whether this is one of the keywords `kws`.
    pub(crate) fn is_any(&self, kws: &[&str]) -> bool {
        kws.iter().any(|kw| self.is(kw))
    }

    /// Whether this is the punctuation character `c`.
    pub(crate) fn is_punct(&self, c: char) -> bool {
        self.kind == TokenKind::Punct && self.text.chars().eq(std::iter::once(c))
    }

    /// Whether this can be a name: a word or a quoted identifier.
    pub(crate) fn is_name(&self) -> bool {
        matches!(self.kind, TokenKind::Word | TokenKind::QuotedIdent)
    }

    /// The identifier as the database sees it, for comparisons: unquoted words and MySQL
    /// names are lowercased (PostgreSQL folds unquoted names; MySQL compares column names
    /// without case), PostgreSQL quoted names keep their case.
    pub(crate) fn ident(&self) -> String {
        match self.kind {
            TokenKind::QuotedIdent => {
                let text = self.text.strip_prefix("U&").or_else(|| self.text.strip_prefix("u&")).unwrap_or(self.text);
                let mut chars = text.chars();
                let quote = chars.next().unwrap_or('"');
                let inner = text.get(quote.len_utf8()..text.len().saturating_sub(quote.len_utf8())).unwrap_or("");
                let doubled: String = [quote, quote].iter().collect();
                let unescaped = inner.replace(&doubled, &quote.to_string());
                if quote == '`' { unescaped.to_lowercase() } else { unescaped }
            }
            _ => self.text.to_lowercase(),
        }
    }

    /// The text of a string literal without its quotes (no unescaping).
    pub(crate) fn string_body(&self) -> Option<(&'a str, usize)> {
        match self.kind {
            TokenKind::DollarString => {
                let tag_end = self.text.get(1..)?.find('$')? + 2;
                let body = self.text.get(tag_end..self.text.len().checked_sub(tag_end)?)?;
                Some((body, self.offset + tag_end))
            }
            TokenKind::String => {
                let open = self.text.find(['\'', '"'])? + 1;
                Some((self.text.get(open..self.text.len().checked_sub(1)?)?, self.offset + open))
            }
            _ => None,
        }
    }
}

/// The significant tokens of the statement at `range`, from the script's tokens `all`.
/// MySQL executable comments (`/*!40101 … */`) are read as the SQL they contain.
pub(crate) fn statement_tokens<'a>(sql: &'a str, all: &[Token], range: Range<usize>, dialect: Dialect) -> Vec<Tok<'a>> {
    let first = all.partition_point(|t| t.range.start < range.start);
    let mut out = Vec::new();
    for token in all.get(first..).unwrap_or(&[]).iter().take_while(|t| t.range.end <= range.end) {
        push_significant(sql, token, 0, dialect, &mut out);
    }
    out
}

fn push_significant<'a>(sql: &'a str, token: &Token, base: usize, dialect: Dialect, out: &mut Vec<Tok<'a>>) {
    let text = sql.get(token.range.clone()).unwrap_or("");
    match token.kind {
        TokenKind::Whitespace | TokenKind::LineComment => {}
        TokenKind::BlockComment => {
            if dialect != Dialect::MySql {
                return;
            }
            let Some((inner, at)) = executable_comment(text) else { return };
            let Ok(tokens) = tokenize(inner, dialect) else { return };
            let inner_base = base + token.range.start + at;
            for inner_token in &tokens {
                push_significant(inner, inner_token, inner_base, dialect, out);
            }
        }
        kind => out.push(Tok { kind, text, offset: base + token.range.start }),
    }
}

/// The SQL inside a MySQL executable comment and its byte offset in the comment.
fn executable_comment(comment: &str) -> Option<(&str, usize)> {
    let inner = comment.strip_prefix("/*")?.strip_suffix("*/")?;
    let after_m = inner.strip_prefix('M').unwrap_or(inner);
    let after_bang = after_m.strip_prefix('!')?;
    let sql = after_bang.trim_start_matches(|c: char| c.is_ascii_digit());
    Some((sql, comment.len() - 2 - sql.len()))
}

/// A position in a statement's tokens with keyword-matching helpers. Every method that
/// does not match leaves the position unchanged.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'t, 'a> {
    toks: &'t [Tok<'a>],
    pos: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    pub(crate) fn new(toks: &'t [Tok<'a>]) -> Self {
        Cursor { toks, pos: 0 }
    }

    pub(crate) fn peek(&self) -> Option<&'t Tok<'a>> {
        self.toks.get(self.pos)
    }

    pub(crate) fn peek_nth(&self, n: usize) -> Option<&'t Tok<'a>> {
        self.toks.get(self.pos + n)
    }

    pub(crate) fn next(&mut self) -> Option<&'t Tok<'a>> {
        let tok = self.toks.get(self.pos)?;
        self.pos += 1;
        Some(tok)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// The tokens not consumed yet.
    pub(crate) fn rest(&self) -> &'t [Tok<'a>] {
        self.toks.get(self.pos..).unwrap_or(&[])
    }

    /// Whether the next token is the keyword `kw`.
    pub(crate) fn is(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is(kw))
    }

    /// Whether the next token is one of `kws`.
    pub(crate) fn is_any(&self, kws: &[&str]) -> bool {
        self.peek().is_some_and(|t| t.is_any(kws))
    }

    /// Consumes the keyword `kw` if it is next.
    pub(crate) fn eat(&mut self, kw: &str) -> bool {
        let found = self.is(kw);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Consumes the keywords `kws` if they are all next, in order.
    pub(crate) fn eat_all(&mut self, kws: &[&str]) -> bool {
        let found = kws.iter().enumerate().all(|(i, kw)| self.peek_nth(i).is_some_and(|t| t.is(kw)));
        if found {
            self.pos += kws.len();
        }
        found
    }

    /// Consumes one of `kws` if it is next and returns it (uppercased as given).
    pub(crate) fn eat_any(&mut self, kws: &[&'static str]) -> Option<&'static str> {
        let found = kws.iter().copied().find(|kw| self.is(kw))?;
        self.pos += 1;
        Some(found)
    }

    /// Consumes the punctuation `c` if it is next.
    pub(crate) fn eat_punct(&mut self, c: char) -> bool {
        let found = self.peek().is_some_and(|t| t.is_punct(c));
        if found {
            self.pos += 1;
        }
        found
    }

    /// `IF EXISTS` / `IF NOT EXISTS`, if next.
    pub(crate) fn eat_if_exists(&mut self) -> bool {
        self.eat_all(&["IF", "NOT", "EXISTS"]) || self.eat_all(&["IF", "EXISTS"])
    }

    /// A possibly qualified name (`a`, `s.a`, `"S"."a"`).
    pub(crate) fn name(&mut self) -> Option<Name<'a>> {
        let first = self.peek().filter(|t| t.is_name())?;
        self.pos += 1;
        let mut name = Name { parts: vec![first.ident()], tok: *first };
        while self.peek().is_some_and(|t| t.is_punct('.')) && self.peek_nth(1).is_some_and(|t| t.is_name()) {
            if let Some(part) = self.peek_nth(1) {
                name.parts.push(part.ident());
            }
            self.pos += 2;
        }
        Some(name)
    }

    /// If a `(` is next, consumes the balanced group and returns the tokens inside it.
    pub(crate) fn group(&mut self) -> Option<&'t [Tok<'a>]> {
        let (inner, end) = group_at(self.toks, self.pos)?;
        self.pos = end;
        Some(inner)
    }

    /// Skips to the next top-level occurrence of keyword `kw` and consumes it; returns
    /// whether it was found.
    pub(crate) fn skip_past(&mut self, kw: &str) -> bool {
        match find_top_level(self.rest(), |t| t.is(kw)) {
            Some(at) => {
                self.pos += at + 1;
                true
            }
            None => false,
        }
    }
}

/// A possibly qualified name; comparisons use its last part (the object's own name).
#[derive(Debug, Clone)]
pub(crate) struct Name<'a> {
    pub(crate) parts: Vec<String>,
    /// The first token, for positions.
    pub(crate) tok: Tok<'a>,
}

impl Name<'_> {
    /// The object's own name (the last part).
    pub(crate) fn key(&self) -> &str {
        self.parts.last().map(String::as_str).unwrap_or("")
    }

    /// The name as written, with its qualifiers.
    pub(crate) fn shown(&self) -> String {
        self.parts.join(".")
    }
}

/// If `toks[open]` is `(`, the tokens inside the balanced group and the index after `)`.
/// An unbalanced group runs to the end.
pub(crate) fn group_at<'t, 'a>(toks: &'t [Tok<'a>], open: usize) -> Option<(&'t [Tok<'a>], usize)> {
    if !toks.get(open)?.is_punct('(') {
        return None;
    }
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate().skip(open) {
        if tok.is_punct('(') {
            depth += 1;
        } else if tok.is_punct(')') {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some((toks.get(open + 1..i).unwrap_or(&[]), i + 1));
            }
        }
    }
    Some((toks.get(open + 1..).unwrap_or(&[]), toks.len()))
}

/// The index of the first token at parenthesis depth 0 that satisfies `pred`.
pub(crate) fn find_top_level(toks: &[Tok<'_>], mut pred: impl FnMut(&Tok<'_>) -> bool) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate() {
        if tok.is_punct('(') || tok.is_punct('[') {
            depth += 1;
        } else if tok.is_punct(')') || tok.is_punct(']') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && pred(tok) {
            return Some(i);
        }
    }
    None
}

/// Whether keyword `kw` occurs at parenthesis depth 0.
pub(crate) fn has_top_level(toks: &[Tok<'_>], kw: &str) -> bool {
    find_top_level(toks, |t| t.is(kw)).is_some()
}

/// Splits `toks` at the commas at parenthesis depth 0; empty parts are dropped.
pub(crate) fn split_commas<'t, 'a>(toks: &'t [Tok<'a>]) -> Vec<&'t [Tok<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, tok) in toks.iter().enumerate() {
        if tok.is_punct('(') || tok.is_punct('[') {
            depth += 1;
        } else if tok.is_punct(')') || tok.is_punct(']') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && tok.is_punct(',') {
            if let Some(part) = toks.get(start..i).filter(|p| !p.is_empty()) {
                parts.push(part);
            }
            start = i + 1;
        }
    }
    if let Some(part) = toks.get(start..).filter(|p| !p.is_empty()) {
        parts.push(part);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::split;

    fn toks(sql: &str, dialect: Dialect) -> Vec<Tok<'_>> {
        let all = tokenize(sql, dialect).unwrap();
        let statement = split(sql, dialect).unwrap().remove(0);
        statement_tokens(sql, &all, statement.range, dialect)
    }

    #[test]
    fn significant_tokens_and_names() {
        let sql = "ALTER TABLE /* c */ public.\"Users\" -- x\n ADD COLUMN a int";
        let t = toks(sql, Dialect::Postgres);
        let mut c = Cursor::new(&t);
        assert!(c.eat_all(&["alter", "table"]));
        let name = c.name().unwrap();
        assert_eq!(name.parts, vec!["public", "Users"]);
        assert_eq!(name.key(), "Users");
        assert!(c.eat("ADD"));
        assert!(!c.eat_all(&["COLUMN", "b"]));
        assert!(c.is("column"));
    }

    #[test]
    fn executable_comments_are_sql() {
        let sql = "/*!50003 CREATE TRIGGER t BEFORE INSERT ON `My``T` FOR EACH ROW SET NEW.a = 1 */";
        let t = toks(sql, Dialect::MySql);
        assert!(t[0].is("CREATE"));
        assert_eq!(t[0].offset, 9);
        let table = t.iter().find(|t| t.kind == TokenKind::QuotedIdent).unwrap();
        assert_eq!(table.ident(), "my`t");
        assert_eq!(&sql[table.offset..table.offset + table.text.len()], "`My``T`");
    }

    #[test]
    fn groups_and_commas() {
        let sql = "CREATE TABLE t (a numeric(10, 2), b int, CHECK (a > 0))";
        let t = toks(sql, Dialect::Postgres);
        let mut c = Cursor::new(&t);
        assert!(c.skip_past("t"));
        let inner = c.group().unwrap();
        let parts = split_commas(inner);
        assert_eq!(parts.len(), 3);
        assert!(parts[2][0].is("CHECK"));
        assert!(c.at_end());
    }

    #[test]
    fn dollar_bodies() {
        let sql = "DO $body$ BEGIN COMMIT; END $body$";
        let t = toks(sql, Dialect::Postgres);
        let (body, at) = t[1].string_body().unwrap();
        assert_eq!(body, " BEGIN COMMIT; END ");
        assert_eq!(&sql[at..at + 6], " BEGIN");
    }
}
