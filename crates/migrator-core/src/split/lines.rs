//! Byte offsets turned into 1-based lines and columns, and bounded excerpts of source lines.

/// Converts byte offsets to 1-based line/column pairs (a leading byte-order mark takes
/// no column). Queries with non-decreasing
/// offsets cost time proportional to the distance moved, so a whole split stays linear.
#[derive(Debug)]
pub(super) struct LineTracker<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    column: usize,
    after_cr: bool,
}

impl<'a> LineTracker<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        LineTracker { src, pos: 0, line: 1, column: 1, after_cr: false }
    }

    pub(super) fn position(&mut self, offset: usize) -> (usize, usize) {
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

/// Bytes between two char-count marks of [`Lines`]: a column costs at most this much work.
const MARK_BYTES: usize = 1024;

/// Characters an excerpt shows before the column it points at.
const EXCERPT_BEFORE: usize = 40;

/// Characters an excerpt shows at most (`…` marks where the line was cut).
pub(crate) const EXCERPT_WIDTH: usize = 120;

/// Line starts of a text, for turning byte offsets into 1-based lines and columns with the
/// splitter's conventions (`\n`, `\r\n` and a lone `\r` end a line; columns count chars; a
/// leading byte-order mark takes no column), and for bounded excerpts of a line.
///
/// Built in one pass; a position costs a binary search and at most [`MARK_BYTES`] bytes of
/// counting, whatever the length of the line, so locating every finding of a one-line file
/// of a million statements stays linear.
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// `(byte offset, chars before it)` at a char boundary every [`MARK_BYTES`] bytes or so.
    marks: Vec<(usize, usize)>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        let mut marks = vec![(0, 0)];
        let mut next_mark = MARK_BYTES;
        let bytes = text.as_bytes();
        for (count, (i, c)) in text.char_indices().enumerate() {
            if i >= next_mark {
                marks.push((i, count));
                next_mark = i + MARK_BYTES;
            }
            let ends_line = c == '\n' || (c == '\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                starts.push(i + 1);
            }
        }
        Lines { text, starts, marks }
    }

    /// Chars before byte `offset` (moved down to a char boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let mark = self.marks.partition_point(|&(at, _)| at <= offset).saturating_sub(1);
        let (at, count) = self.marks.get(mark).copied().unwrap_or((0, 0));
        count + self.text.get(at..offset).map_or(0, |s| s.chars().count())
    }

    /// The 1-based line of byte `offset` and the byte where that line starts.
    fn line_of(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        (line, self.starts.get(line - 1).copied().unwrap_or(0))
    }

    /// Where the text of the line starting at `start` begins: after a leading BOM on line 1.
    fn content_start(&self, start: usize) -> usize {
        if start == 0 && self.text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { start }
    }

    /// The 1-based line and column of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let (line, start) = self.line_of(offset);
        let start = self.content_start(start);
        let column = self.chars_before(offset).saturating_sub(self.chars_before(start)) + 1;
        (line, column)
    }

    /// The byte range of 1-based `line`'s text, without its terminator (or a leading BOM).
    fn line_range(&self, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        let text = self.text.get(start..end)?;
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        Some((self.content_start(start).min(start + text.len()), start + text.len()))
    }

    /// A window of at most [`EXCERPT_WIDTH`] chars of the line holding byte `offset`, around
    /// it, and the 1-based char column of `offset` in that window.
    pub(crate) fn excerpt_at(&self, offset: usize) -> (String, usize) {
        let (line, _) = self.line_of(offset);
        let Some((start, end)) = self.line_range(line) else { return (String::new(), 1) };
        let mut at = offset.clamp(start, end);
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = self.text.get(start..at).unwrap_or("");
        let mut from = before.char_indices().rev().nth(EXCERPT_BEFORE - 1).map_or(start, |(i, _)| start + i);
        // Near the end of the line, show more of what comes before instead.
        let after = self.text.get(from..end).map_or(0, |s| s.chars().take(EXCERPT_WIDTH).count());
        if let Some(room) = EXCERPT_WIDTH.checked_sub(after).filter(|&room| room > 0) {
            let head = self.text.get(start..from).unwrap_or("");
            from = head.char_indices().rev().nth(room - 1).map_or(start, |(i, _)| start + i);
        }
        let caret = self.text.get(from..at).map_or(0, |s| s.chars().count()) + 1;
        let (text, cut_before) = self.window(from, start, end);
        (text, caret + usize::from(cut_before))
    }

    /// A window of at most [`EXCERPT_WIDTH`] chars from the start of 1-based `line`.
    pub(crate) fn excerpt_line(&self, line: usize) -> Option<String> {
        let (start, end) = self.line_range(line)?;
        Some(self.window(start, start, end).0)
    }

    /// The text from `from` on, cut to [`EXCERPT_WIDTH`] chars within the line
    /// `start..end`, made safe to print; and whether it was cut before `from`.
    fn window(&self, from: usize, start: usize, end: usize) -> (String, bool) {
        let rest = self.text.get(from..end).unwrap_or("");
        let cut = rest.char_indices().nth(EXCERPT_WIDTH).map(|(i, _)| i);
        let shown = cut.and_then(|i| rest.get(..i)).unwrap_or(rest);
        let mut text = String::with_capacity(shown.len() + 8);
        let cut_before = from > start;
        if cut_before {
            text.push('…');
        }
        text.extend(shown.chars().map(printable));
        if cut.is_some() {
            text.push('…');
        }
        (text, cut_before)
    }
}

/// The source layout of messages: a gutter with the line number, the line, and a caret
/// under `caret` (a 1-based char column of `text`; tabs are kept so the caret lines up).
pub(crate) fn write_source(
    f: &mut impl std::fmt::Write,
    line: usize,
    text: &str,
    caret: Option<usize>,
) -> std::fmt::Result {
    let gutter = " ".repeat(line.to_string().len());
    write!(f, "\n{gutter} |\n{line} | {text}\n{gutter} |")?;
    if let Some(caret) = caret {
        let pad: String =
            text.chars().take(caret.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        write!(f, " {pad}^")?;
    }
    Ok(())
}

/// A char as it can be shown on a terminal: C0 controls (but tab) and DEL become their
/// Unicode control pictures (`␀`, `␛`); C1 controls (which terminals may read as escape
/// sequences) and bidirectional formatting characters (which reorder what a terminal or a
/// reviewer sees) become `�`.
pub(crate) fn printable(c: char) -> char {
    match c {
        '\t' => c,
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' => '\u{fffd}',
        c if is_bidi_control(c) => '\u{fffd}',
        c => c,
    }
}

/// The bidirectional formatting characters (embeddings, overrides, isolates) that make text
/// display in another order than it is read: the "Trojan Source" characters.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn line_positions() {
        let text = "\u{feff}ab\r\ncd\ref\n\ngh";
        let lines = Lines::new(text);
        assert_eq!(lines.position(3), (1, 1));
        assert_eq!(lines.position(4), (1, 2));
        assert_eq!(lines.position(7), (2, 1));
        assert_eq!(lines.position(10), (3, 1));
        assert_eq!(lines.position(14), (5, 1));
        assert_eq!(lines.excerpt_line(1).as_deref(), Some("ab"));
        assert_eq!(lines.excerpt_line(2).as_deref(), Some("cd"));
        assert_eq!(lines.excerpt_line(4).as_deref(), Some(""));
        assert_eq!(lines.excerpt_line(5).as_deref(), Some("gh"));
        assert_eq!(lines.excerpt_line(6), None);
    }

    #[test]
    fn columns_of_long_lines_agree_with_a_recount() {
        let text = "é日x".repeat(2000);
        let lines = Lines::new(&text);
        for (count, (offset, _)) in text.char_indices().enumerate().step_by(97) {
            assert_eq!(lines.position(offset), (1, count + 1), "{offset}");
        }
    }

    #[test]
    fn excerpts_are_bounded_windows_around_the_column() {
        let text = format!("{}TARGET{}\nnext", "a".repeat(1000), "b".repeat(1000));
        let lines = Lines::new(&text);
        let (excerpt, caret) = lines.excerpt_at(1000);
        assert!(excerpt.chars().count() <= EXCERPT_WIDTH + 2, "{excerpt}");
        assert!(excerpt.starts_with('…') && excerpt.ends_with('…'), "{excerpt}");
        let at: String = excerpt.chars().skip(caret - 1).take(6).collect();
        assert_eq!(at, "TARGET");
        let (short, caret) = Lines::new("SELECT 1;").excerpt_at(7);
        assert_eq!((short.as_str(), caret), ("SELECT 1;", 8));
        // A line that fits is shown whole, wherever the column is.
        let fits = format!("{}X", "a".repeat(100));
        let (whole, caret) = Lines::new(&fits).excerpt_at(100);
        assert_eq!((whole.as_str(), caret), (fits.as_str(), 101));
        // Near the end of a long line, the window holds what comes before.
        let (tail, caret) = lines.excerpt_at(2004);
        assert!(tail.starts_with('…') && !tail.ends_with('…') && tail.chars().count() == EXCERPT_WIDTH + 1, "{tail}");
        assert_eq!(tail.chars().nth(caret - 1), Some('b'));
        assert_eq!(lines.excerpt_line(2).as_deref(), Some("next"));
        assert_eq!(Lines::new("a\u{1b}[31mb\u{202e}c\0").excerpt_line(1).as_deref(), Some("a␛[31mb�c␀"));
    }
}
