//! Text that came from outside (the database, migration files, URLs) made safe for a
//! terminal: control characters escaped, so that an escape sequence stored in a history row
//! cannot recolor, retitle or rewrite the operator's terminal.

/// Whether `c` may reach a terminal: everything but C0 and C1 control characters and DEL.
fn printable(c: char) -> bool {
    !c.is_control()
}

/// `text` with every control character escaped as `\x1b`, `\r`, `\t`, `\n`, `\0` (C1 ones as
/// `\u{9b}`), the newline included.
pub(crate) fn escape_controls(text: &str) -> String {
    escape(text, Keep::Nothing)
}

/// [`escape_controls`], but keeping the newlines that lay out a multi-line message.
pub(crate) fn escape_keeping_lines(text: &str) -> String {
    escape(text, Keep::Lines)
}

/// [`escape_controls`] for the text of a file shown as such (SQL in `plan`, source lines in
/// `lint`): newlines and tabs stay, a CRLF line end becomes a newline.
pub(crate) fn escape_keeping_layout(text: &str) -> String {
    escape(&text.replace("\r\n", "\n"), Keep::Layout)
}

/// Which control characters stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    Lines,
    Layout,
}

fn escape(text: &str, keep: Keep) -> String {
    let kept = |c: char| match c {
        '\n' => keep != Keep::Nothing,
        '\t' => keep == Keep::Layout,
        _ => false,
    };
    if text.chars().all(|c| printable(c) || kept(c)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if kept(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if u32::from(c) < 0x80 && !printable(c) => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if !printable(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("plain text, ünïcode"), "plain text, ünïcode");
        assert_eq!(escape_controls("a\x1b[31mred\x07\r\n"), "a\\x1b[31mred\\x07\\r\\n");
        assert_eq!(escape_controls("\u{9b}2J\u{7f}\0"), "\\u{9b}2J\\x7f\\0");
        assert_eq!(escape_keeping_lines("one\ntwo\x1b]0;title\x07\t"), "one\ntwo\\x1b]0;title\\x07\\t");
        assert_eq!(escape_keeping_layout("a\tb\r\nc\rd\x1b"), "a\tb\nc\\rd\\x1b");
    }
}
