//! How migrator writes things for people: durations, and text that came from outside
//! (files, the database) made safe to print.

use std::time::Duration;

/// Formats a duration for people: `850ms`, `2.5s`, `3m 20s`.
pub fn human(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        let tenths = ms / 100;
        if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
    } else {
        let secs = duration.as_secs();
        format!("{}m {}s", secs / 60, secs % 60)
    }
}

/// The first line of `text`, cut at 120 characters.
pub fn snippet(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim_end();
    let mut out: String = first.chars().take(120).collect();
    if out.len() < first.len() || text.lines().nth(1).is_some() {
        out.push_str(" …");
    }
    out
}

/// `message` without a trailing ` (crate_name::module:123)` that some libraries append to
/// their messages: a position in their source code, which reads like a line of the user's
/// script.
pub fn without_code_location(message: &str) -> &str {
    let Some(open) = message.rfind(" (") else { return message };
    let Some(inner) = message.get(open + 2..).and_then(|rest| rest.strip_suffix(')')) else { return message };
    let looks_like_code = inner.contains("::")
        && inner.rsplit_once(':').is_some_and(|(path, line)| {
            !line.is_empty()
                && line.bytes().all(|b| b.is_ascii_digit())
                && path.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        });
    if looks_like_code { message.get(..open).unwrap_or(message) } else { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(2_500)), "2.5s");
        assert_eq!(human(Duration::from_secs(300)), "5m 0s");
        assert_eq!(human(Duration::from_secs(2)), "2s");
    }

    #[test]
    fn snippets_are_first_lines() {
        assert_eq!(snippet("SELECT 1"), "SELECT 1");
        assert_eq!(snippet("INSERT INTO t\nVALUES (1)"), "INSERT INTO t …");
        assert_eq!(snippet(&"x".repeat(200)).chars().count(), 122);
    }

    #[test]
    fn code_locations_are_dropped_and_nothing_else() {
        assert_eq!(
            without_code_location("unexpected message: CopyOutResponse (sqlx_postgres::connection::executor:366)"),
            "unexpected message: CopyOutResponse"
        );
        assert_eq!(
            without_code_location("relation \"t\" does not exist (line 3)"),
            "relation \"t\" does not exist (line 3)"
        );
        assert_eq!(without_code_location("x (a::b)"), "x (a::b)");
        assert_eq!(without_code_location("plain"), "plain");
    }
}
