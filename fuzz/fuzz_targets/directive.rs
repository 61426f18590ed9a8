//! Fuzzes the `-- migrator:` directive parser and `parse_duration`.
//!
//! The first input byte picks the script kind, the rest is the script (invalid UTF-8 is
//! replaced). Checks: no panic; every error names a line that exists, errors come in file
//! order with a message; what parses is consistent (down scripts carry no up-only
//! directive, allow lines name kebab-case rules and a reason); the body scan only ever
//! adds errors; a parsed duration survives a round trip through `{millis}ms`.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use migrator_core::directive::{self, parse_duration};
use migrator_core::{Phase, ScriptKind};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let kind = if selector & 1 == 0 { ScriptKind::Up } else { ScriptKind::Down };
    let text = String::from_utf8_lossy(rest);
    check_directives(&text, kind);
    check_duration(&text);
    for line in text.lines().take(8) {
        check_duration(line);
        if let Some((_, value)) = line.split_once("timeout") {
            check_duration(value);
        }
    }
});

fn check_directives(text: &str, kind: ScriptKind) {
    // `directive::parse` splits on `\n` (and strips a trailing `\r`), so this is its line count.
    // `\n`, `\r\n` and a lone `\r` each end a line.
    let line_count = text.split('\n').count()
        + text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l).matches('\r').count()).sum::<usize>();
    let header_only = directive::parse(text, kind, false);
    let with_body = directive::parse(text, kind, true);
    for result in [&header_only, &with_body] {
        match result {
            Ok(d) => {
                for allow in &d.allow {
                    assert!((1..=line_count).contains(&allow.line), "allow on line {} of {line_count}", allow.line);
                    assert!(!allow.rules.is_empty() && !allow.reason.is_empty(), "{allow:?}");
                    assert_eq!(allow.reason.trim(), allow.reason, "{allow:?}");
                    for rule in &allow.rules {
                        assert!(!rule.is_empty(), "{allow:?}");
                        assert!(rule.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                    }
                }
                assert!(d.allow.windows(2).all(|w| w[0].line < w[1].line), "allow lines out of order: {d:?}");
                if let Some(reason) = &d.irreversible {
                    assert!(!reason.is_empty());
                }
                if kind == ScriptKind::Down {
                    assert!(d.allow.is_empty() && d.irreversible.is_none() && d.phase == Phase::default(), "{d:?}");
                }
            }
            Err(errors) => {
                assert!(!errors.is_empty(), "Err with no errors");
                for e in errors {
                    assert!((1..=line_count).contains(&e.line), "error on line {} of {line_count}: {e:?}", e.line);
                    assert!(!e.message.is_empty(), "{e:?}");
                }
                assert!(errors.windows(2).all(|w| w[0].line < w[1].line), "errors out of order: {errors:?}");
            }
        }
    }
    // Scanning the body can only add errors about lines below the header.
    match (&header_only, &with_body) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert!(b.starts_with(a), "{a:?} is not a prefix of {b:?}"),
        (Ok(_), Err(_)) => {}
        (Err(a), Ok(_)) => panic!("the header alone fails ({a:?}) but the whole script parses"),
    }
}

fn check_duration(text: &str) {
    match parse_duration(text) {
        Ok(duration) => {
            assert!(text.trim_start().starts_with(|c: char| c.is_ascii_digit()), "`{text}` parsed as {duration:?}");
            let millis = duration.as_millis();
            assert_eq!(parse_duration(&format!("{millis}ms")), Ok(duration), "`{text}`");
            assert_eq!(Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX)), duration);
        }
        Err(message) => assert!(!message.is_empty(), "`{text}`"),
    }
}
