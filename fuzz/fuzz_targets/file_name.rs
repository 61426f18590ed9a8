//! Fuzzes the migration file name parser.
//!
//! Checks: no panic; `None` exactly for hidden files and files not ending in `.sql`; an
//! error quotes the file name; a parsed name is exactly `{digits}_{name}.{up|down}.sql`
//! where the digits are the version (leading zeros allowed), the name is `[a-z0-9_]+`, and
//! the canonical file name `{version}_{name}.{kind}.sql` parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migrator_core::source::parse_file_name;

fuzz_target!(|data: &[u8]| {
    let file = String::from_utf8_lossy(data);
    check(&file);
});

fn check(file: &str) {
    let Some(result) = parse_file_name(file) else {
        assert!(file.starts_with('.') || !file.ends_with(".sql"), "`{file}` was skipped");
        return;
    };
    assert!(!file.starts_with('.') && file.ends_with(".sql"), "`{file}` was not skipped");
    let parsed = match result {
        Ok(parsed) => parsed,
        Err(message) => {
            assert!(message.contains(file), "error for `{file}` does not quote it: {message}");
            return;
        }
    };
    let version = parsed.version.get();
    assert!(version > 0, "`{file}`: {parsed:?}");
    assert!(!parsed.name.is_empty(), "`{file}`: {parsed:?}");
    assert!(parsed.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{parsed:?}");

    let Some((digits, _)) = file.split_once('_') else {
        panic!("`{file}` parsed without a `_`: {parsed:?}");
    };
    assert!(digits.bytes().all(|b| b.is_ascii_digit()), "`{file}`: {parsed:?}");
    assert_eq!(digits.trim_start_matches('0'), version.to_string(), "`{file}`: {parsed:?}");
    assert_eq!(file, format!("{digits}_{}.{}.sql", parsed.name, parsed.kind.as_str()), "{parsed:?}");

    let canonical = format!("{version}_{}.{}.sql", parsed.name, parsed.kind.as_str());
    assert_eq!(parse_file_name(&canonical), Some(Ok(parsed)), "`{canonical}` from `{file}`");
}
