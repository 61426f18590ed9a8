//! Byte offsets turned into 1-based lines and columns, in one forward pass.

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
