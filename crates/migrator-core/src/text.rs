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
}
