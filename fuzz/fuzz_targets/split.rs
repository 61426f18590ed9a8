//! Fuzzes the statement splitter and the lexer of every dialect.
//!
//! The first input byte picks the dialect, the rest is the script (invalid UTF-8 is
//! replaced, so every input reaches the splitter). Besides "never panics", it checks the
//! invariants the property tests in `crates/migrator-core/src/split/tests.rs` state:
//!
//! - tokens tile the input exactly, on char boundaries;
//! - an error's offset is in bounds and its line/column match a naive recount;
//! - `split` succeeds only if `tokenize` does;
//! - statement segments are contiguous from 0, in order and non-overlapping; each range is
//!   non-empty and inside its segment; a segment ends at its range or at a `;`;
//! - segments plus the remainder rebuild the input, and the remainder holds no statement;
//! - no token straddles a statement, and every token outside the statements is trivia or
//!   `;` (no significant byte is lost); a statement starts and ends with a significant token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migrator_core::Dialect;
use migrator_core::split::{TokenKind, split, tokenize};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let dialect = match selector % 3 {
        0 => Dialect::Postgres,
        1 => Dialect::MySql,
        _ => Dialect::Sqlite,
    };
    let sql = String::from_utf8_lossy(rest);
    check(&sql, dialect);
});

/// 1-based (line, column) of `offset`, counted the slow way: `\r\n`, `\n` and `\r` end a
/// line, columns count chars, and a leading byte order mark is not counted.
fn naive_line_col(sql: &str, offset: usize) -> (usize, usize) {
    let bom = if offset > 0 && sql.starts_with('\u{feff}') { 3 } else { 0 };
    let before = &sql[bom..offset];
    let normalized = before.replace("\r\n", "\n").replace('\r', "\n");
    let line = normalized.matches('\n').count() + 1;
    let column = normalized.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

/// Whether the splitter treats the token as part of a statement (MySQL executable comments
/// `/*! ... */` are SQL).
fn significant(kind: TokenKind, text: &str, dialect: Dialect) -> bool {
    match kind {
        TokenKind::Whitespace | TokenKind::LineComment => false,
        TokenKind::BlockComment => dialect == Dialect::MySql && (text.starts_with("/*!") || text.starts_with("/*M!")),
        _ => true,
    }
}

fn check(sql: &str, dialect: Dialect) {
    let tokens = tokenize(sql, dialect);
    match &tokens {
        Ok(tokens) => {
            let mut pos = 0;
            for t in tokens {
                assert_eq!(t.range.start, pos, "tokens leave a gap or overlap: {t:?}");
                assert!(t.range.end > t.range.start, "empty token {t:?}");
                assert!(sql.is_char_boundary(t.range.start) && sql.is_char_boundary(t.range.end), "{t:?}");
                pos = t.range.end;
            }
            assert_eq!(pos, sql.len(), "tokens do not reach the end of the input");
        }
        Err(e) => {
            assert!(e.offset <= sql.len(), "tokenize error offset out of bounds: {e:?}");
            assert_eq!((e.line, e.column), naive_line_col(sql, e.offset), "{e:?}");
        }
    }

    let statements = match split(sql, dialect) {
        Ok(statements) => statements,
        Err(e) => {
            assert!(e.offset <= sql.len(), "split error offset out of bounds: {e:?}");
            assert!(sql.is_char_boundary(e.offset), "{e:?}");
            assert_eq!((e.line, e.column), naive_line_col(sql, e.offset), "{e:?}");
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let Ok(tokens) = tokens else {
        panic!("split succeeded but tokenize failed");
    };

    let mut segment_pos = 0;
    let mut rebuilt = String::with_capacity(sql.len());
    for s in &statements {
        assert_eq!(s.segment.start, segment_pos, "segments are not contiguous: {s:?}");
        assert!(s.segment.start <= s.range.start, "{s:?}");
        assert!(s.range.start < s.range.end, "empty statement {s:?}");
        assert!(s.range.end <= s.segment.end && s.segment.end <= sql.len(), "{s:?}");
        assert!(sql.is_char_boundary(s.range.start) && sql.is_char_boundary(s.range.end), "{s:?}");
        assert!(sql.is_char_boundary(s.segment.end), "{s:?}");
        assert!(s.segment.end == s.range.end || sql[..s.segment.end].ends_with(';'), "{s:?}");
        assert_eq!((s.line, s.column), naive_line_col(sql, s.range.start), "{s:?}");
        assert_eq!(s.text(sql), &sql[s.range.clone()]);
        rebuilt.push_str(&sql[segment_pos..s.segment.end]);
        segment_pos = s.segment.end;
    }
    rebuilt.push_str(&sql[segment_pos..]);
    assert_eq!(rebuilt, sql);

    // Tokens lie entirely inside or outside statements; outside ones are trivia or `;`.
    let mut next = statements.iter().peekable();
    for t in &tokens {
        while next.peek().is_some_and(|s| s.range.end <= t.range.start) {
            next.next();
        }
        let current = next.peek();
        let inside = current.is_some_and(|s| s.range.start <= t.range.start && t.range.end <= s.range.end);
        let overlaps = current.is_some_and(|s| s.range.start < t.range.end && t.range.start < s.range.end);
        assert_eq!(inside, overlaps, "token {t:?} straddles a statement");
        if !inside {
            assert!(t.kind.is_trivia() || t.kind == TokenKind::Semicolon, "token {t:?} outside statements is lost");
        }
    }
    for s in &statements {
        // Tokens are sorted and tile the input, so their starts and ends are sorted too.
        let first = tokens.binary_search_by_key(&s.range.start, |t| t.range.start).ok();
        let last = tokens.binary_search_by_key(&s.range.end, |t| t.range.end).ok();
        for index in [first, last] {
            let Some(token) = index.and_then(|i| tokens.get(i)) else {
                panic!("statement {s:?} does not start or end on a token boundary");
            };
            assert!(
                significant(token.kind, token.text(sql), dialect),
                "statement {s:?} starts or ends with trivia {token:?}"
            );
        }
    }

    let remainder = &sql[segment_pos..];
    assert_eq!(split(remainder, dialect), Ok(Vec::new()), "the remainder holds a statement");
}
