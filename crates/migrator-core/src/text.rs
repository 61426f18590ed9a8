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
}
