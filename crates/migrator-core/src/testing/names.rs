//! The names the test kit gives its databases, and reading them back.
//!
//! Every name starts with the kit's prefix (empty by default, set with `MIGRATOR_TEST_PREFIX`):
//! `<prefix>mtpl_<fingerprint>` for a template, `<prefix>mtdb_<secs>_<pid>_<n>` for a test's
//! database, each followed by the backend's suffix (`.db` for SQLite files). A name is the
//! kit's only when it parses exactly, so a kit never touches what another prefix (or nobody)
//! made.

use std::time::{Duration, SystemTime};

use crate::error::Error;

/// What a template's name holds after `mtpl_`: the set's fingerprint, 24 hex digits.
const FINGERPRINT_LEN: usize = 24;

/// The longest prefix accepted: PostgreSQL names have 63 bytes, and the longest name the
/// kit makes is `<prefix>mtpl_<24 hex>_build` (35 bytes without the prefix).
pub(crate) const MAX_PREFIX_LEN: usize = 24;

/// Seconds since 1970.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Checks a prefix: ASCII letters, digits and underscores, at most [`MAX_PREFIX_LEN`] bytes
/// (it becomes part of database and file names, unquoted in `LIKE` patterns).
pub(crate) fn valid_prefix(prefix: &str) -> Result<(), Error> {
    if prefix.len() > MAX_PREFIX_LEN || !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Misconfigured {
            reason: format!(
                "the test kit's name prefix {prefix:?} (MIGRATOR_TEST_PREFIX) may hold only ASCII letters, digits and \
                 underscores, at most {MAX_PREFIX_LEN} of them: choose one such as `ci_42_`"
            ),
        });
    }
    Ok(())
}

/// The template's name for a set with `fingerprint`.
pub(crate) fn template(prefix: &str, fingerprint: &str, suffix: &str) -> String {
    format!("{prefix}mtpl_{fingerprint}{suffix}")
}

/// A new test database's name, with its creation time in it (for the sweep).
pub(crate) fn database(prefix: &str, sequence: u64, suffix: &str) -> String {
    format!("{prefix}mtdb_{}_{}_{sequence}{suffix}", now_secs(), std::process::id())
}

/// What a listed name is to a kit with `prefix` and `suffix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A test's database, created at this time (seconds since 1970).
    Database { created: u64 },
    /// A template.
    Template,
    /// Something belonging to a template's build (a half-built database, a lock file).
    TemplatePart,
}

/// Reads a name back; `None` when it is not this kit's.
pub(crate) fn kind(name: &str, prefix: &str, suffix: &str) -> Option<Kind> {
    let rest = name.strip_prefix(prefix)?;
    if let Some(rest) = rest.strip_prefix("mtdb_") {
        let rest = rest.strip_suffix(suffix)?;
        let mut parts = rest.split('_');
        let created = parts.next()?.parse::<u64>().ok()?;
        let numeric = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !numeric(parts.next()) || !numeric(parts.next()) || parts.next().is_some() {
            return None;
        }
        return Some(Kind::Database { created });
    }
    let rest = rest.strip_prefix("mtpl_")?;
    let fingerprint = rest.get(..FINGERPRINT_LEN)?;
    if !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let after = rest.get(FINGERPRINT_LEN..)?;
    if after == suffix {
        Some(Kind::Template)
    } else if after.starts_with(['_', '.']) {
        Some(Kind::TemplatePart)
    } else {
        None
    }
}

/// How old a test database is, from the time in its name.
pub(crate) fn age_of(created: u64) -> Duration {
    Duration::from_secs(now_secs().saturating_sub(created))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef01234567";

    #[test]
    fn names_read_back_as_what_they_are() {
        let t = template("ci_", HASH, ".db");
        assert_eq!(t, format!("ci_mtpl_{HASH}.db"));
        assert_eq!(kind(&t, "ci_", ".db"), Some(Kind::Template));
        let d = database("ci_", 7, ".db");
        assert!(matches!(kind(&d, "ci_", ".db"), Some(Kind::Database { created }) if created + 5 > now_secs()));
        assert_eq!(kind(&format!("mtpl_{HASH}_build"), "", ""), Some(Kind::TemplatePart));
        assert_eq!(kind(&format!("mtpl_{HASH}.lock"), "", ".db"), Some(Kind::TemplatePart));
        assert_eq!(kind(&format!("mtpl_{HASH}.building-12"), "", ".db"), Some(Kind::TemplatePart));
        assert_eq!(kind("mtdb_1700000000_12_3", "", ""), Some(Kind::Database { created: 1_700_000_000 }));
    }

    #[test]
    fn names_of_other_prefixes_are_not_the_kits() {
        // The default kit (no prefix) never claims a prefixed kit's names, nor the reverse.
        assert_eq!(kind(&format!("ci_mtpl_{HASH}"), "", ""), None);
        assert_eq!(kind(&format!("mtpl_{HASH}"), "ci_", ""), None);
        // A prefix that itself starts like a kit name does not make its names the default kit's.
        assert_eq!(kind(&format!("mtpl_xmtpl_{HASH}"), "", ""), None);
        assert_eq!(kind("mtdb_1700000000_12_3_x", "", ""), None);
        assert_eq!(kind("mtdb_soon_12_3", "", ""), None);
        assert_eq!(kind("mt_1700000000_12_3_apply_all", "", ""), None, "the conformance suite's schemas");
        assert_eq!(kind(&format!("mtpl_{HASH}"), "", ".db"), None, "no suffix, not a template file");
        assert_eq!(kind(&format!("mtpl_{}", &HASH[..10]), "", ""), None);
    }

    #[test]
    fn prefixes_are_letters_digits_and_underscores() {
        assert!(valid_prefix("").is_ok());
        assert!(valid_prefix("ci_42_").is_ok());
        for bad in ["ci-42", "a b", "x\"", "é", "a%", &"x".repeat(MAX_PREFIX_LEN + 1)] {
            let e = valid_prefix(bad).unwrap_err().to_string();
            assert!(e.contains("MIGRATOR_TEST_PREFIX") && e.contains("letters, digits and underscores"), "{e}");
        }
    }
}
