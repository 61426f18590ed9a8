//! Fuzzes the migration file name parser.
//!
//! Checks: no panic; `None` exactly for hidden files, editor leftovers (`~`, `.swp`, `.swo`,
//! `.swx`, `#…#`) and names that do not mention `.sql` as an extension in any case (see
//! `migrator_core::source::name`); an error quotes the file name (control characters as
//! control pictures) and holds no control character; a parsed name is exactly `{digits}_{name}.{up|down}.sql`
//! where the digits are the version (leading zeros allowed), the name is `[a-z0-9_]+`, and
//! the canonical file name `{version}_{name}.{kind}.sql` parses back to the same value.
//!
//! Then the same name through every layout's parser (`parse_layout_file_name`), as a diesel
//! migration directory (`parse_diesel_dir`), and its version part through `diesel_version` and
//! `flyway_version`. Checks: no panic; `None` for hidden files and editor leftovers in every
//! layout; an error quotes the file name and holds no control character; a parsed name is
//! not empty and holds no control character, and its version is positive; in migrator's
//! layout a versioned script is exactly what `parse_file_name` gives; a diesel version keeps
//! its value when dashes are added.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migrator_core::source::{
    Layout, LayoutFile, diesel_version, flyway_version, parse_diesel_dir, parse_file_name, parse_layout_file_name,
};

fuzz_target!(|data: &[u8]| {
    let file = String::from_utf8_lossy(data);
    check(&file);
    check_layouts(&file);
});

fn check_name(file: &str, name: &str) {
    assert!(!name.is_empty(), "`{file}`: empty name");
    assert!(!name.chars().any(char::is_control), "`{file}`: a control character in {name:?}");
}

fn check_layouts(file: &str) {
    let lower = file.to_ascii_lowercase();
    let ignored = file.starts_with('.')
        || file.ends_with('~')
        || (file.starts_with('#') && file.ends_with('#'))
        || [".swp", ".swo", ".swx"].iter().any(|ext| lower.ends_with(ext));
    for layout in Layout::ALL {
        let Some(result) = parse_layout_file_name(layout, file) else { continue };
        assert!(!ignored, "`{file}` was not skipped in {layout}");
        match result {
            Err(message) => {
                assert!(message.contains(&shown(file)), "{layout}: error for `{file}` does not quote it: {message}");
                assert!(!message.chars().any(char::is_control), "{layout}: a control character in {message:?}");
            }
            Ok(LayoutFile::Script { version, name, kind }) => {
                assert!(version.get() > 0);
                check_name(file, &name);
                if layout == Layout::Migrator {
                    let parsed = parse_file_name(file).and_then(Result::ok).expect("migrator's own parser agrees");
                    assert_eq!((parsed.version, parsed.name, parsed.kind), (version, name, kind));
                }
            }
            Ok(LayoutFile::Sections { version, name }) => {
                assert_eq!(layout, Layout::Goose);
                assert!(version.get() > 0);
                check_name(file, &name);
            }
            Ok(LayoutFile::Repeatable { name }) => {
                assert!(matches!(layout, Layout::Migrator | Layout::Flyway), "{layout}: `{file}`");
                check_name(file, &name);
            }
            Ok(LayoutFile::ScriptConfig { script }) => {
                // Its script must exist; the loader reports it (shown) otherwise.
                assert_eq!(layout, Layout::Flyway, "`{file}`");
                assert_eq!(format!("{script}.conf"), file);
            }
            Ok(other) => panic!("{layout}: `{file}`: {other:?}"),
        }
    }
    if let Ok((version, name)) = parse_diesel_dir(file) {
        assert!(version.get() > 0);
        check_name(file, &name);
    }
    let head = file.split('_').next().unwrap_or_default();
    if let Ok(version) = diesel_version(head) {
        assert!(version.get() > 0);
        let dashed: String = head.chars().flat_map(|c| [c, '-']).collect();
        assert_eq!(diesel_version(&dashed), Ok(version), "`{head}` and `{dashed}`");
    }
    if let Ok(version) = flyway_version(head) {
        assert!(version.get() > 0);
    }
}

/// The file name as messages show it: control characters as control pictures.
fn shown(file: &str) -> String {
    file.chars()
        .map(|c| match c {
            '\0'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn check(file: &str) {
    let lower = file.to_ascii_lowercase();
    let ignored = file.starts_with('.')
        || file.ends_with('~')
        || (file.starts_with('#') && file.ends_with('#'))
        || [".swp", ".swo", ".swx"].iter().any(|ext| lower.ends_with(ext));
    let looks_like_sql = lower
        .match_indices(".sql")
        .any(|(at, _)| lower[at + 4..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')));
    let Some(result) = parse_file_name(file) else {
        assert!(ignored || !looks_like_sql, "`{file}` was skipped");
        return;
    };
    assert!(!ignored && looks_like_sql, "`{file}` was not skipped");
    let parsed = match result {
        Ok(parsed) => parsed,
        Err(message) => {
            assert!(message.contains(&shown(file)), "error for `{file}` does not quote it: {message}");
            assert!(!message.chars().any(char::is_control), "a control character in {message:?}");
            return;
        }
    };
    assert!(file.ends_with(".sql"), "`{file}`: {parsed:?}");
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
