//! Checksums of scripts and statements.
//!
//! A script's checksum is SHA-256 over its *logical* content: a leading byte order mark is
//! dropped, CRLF line endings count as LF, and directive lines in the header
//! (`-- migrator:…`) are left out. So a Windows checkout, or acknowledging a lint hazard with
//! an `allow` line, never invalidates history. Every other byte counts, a trailing newline
//! added by an editor included: what ran must stay what ran (`repair` records a deliberate
//! edit). The stored form is `sha256:<hex>`: the prefix names the algorithm so a later
//! release can change it without breaking stored values.
//!
//! Each statement gets its own hash too (CRLF normalized), recorded for statement-by-statement
//! migrations so `resume` can prove the statements before the failed one are unchanged.

use std::borrow::Cow;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::directive::{directive_body, is_header_line, lines};

/// The algorithm prefix of stored checksums.
pub const PREFIX: &str = "sha256:";

/// A script checksum in its stored form, `sha256:<64 hex digits>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Checksum(Cow<'static, str>);

impl Checksum {
    /// The checksum of an up script (normalized as described in the module docs).
    pub fn of_script(text: &str) -> Checksum {
        let mut hasher = Sha256::new();
        let mut in_header = true;
        let mut first = true;
        for line in lines(text) {
            if in_header && !is_header_line(line) {
                in_header = false;
            }
            if in_header && directive_body(line).is_some() {
                continue;
            }
            if !first {
                hasher.update(b"\n");
            }
            first = false;
            hasher.update(line.as_bytes());
        }
        Checksum(Cow::Owned(format!("{PREFIX}{}", hex(&hasher.finalize()))))
    }

    /// The checksum of a Rust-code migration, which has no script: derived from its version
    /// and name, so renaming it is noticed like editing a script.
    pub fn of_code(version: i64, name: &str) -> Checksum {
        let mut hasher = Sha256::new();
        hasher.update(b"rust-code-migration\n");
        hasher.update(version.to_string().as_bytes());
        hasher.update(b"\n");
        hasher.update(name.as_bytes());
        Checksum(Cow::Owned(format!("{PREFIX}{}", hex(&hasher.finalize()))))
    }

    /// A checksum computed at compile time by the embed macro.
    pub const fn from_static(stored: &'static str) -> Checksum {
        Checksum(Cow::Borrowed(stored))
    }

    /// A checksum as read back from the history table (any algorithm prefix).
    pub fn from_stored(stored: impl Into<String>) -> Checksum {
        Checksum(Cow::Owned(stored.into()))
    }

    /// The stored form, `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({})", self.0)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The hash of one statement's text (CRLF normalized), as lowercase hex.
pub fn statement_hash(text: &str) -> String {
    let mut hasher = Sha256::new();
    let mut rest = text;
    while let Some(at) = rest.find("\r\n") {
        hasher.update(rest.get(..at).unwrap_or("").as_bytes());
        hasher.update(b"\n");
        rest = rest.get(at + 2..).unwrap_or("");
    }
    hasher.update(rest.as_bytes());
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// One statement's line and hash, as recorded in the history table for migrations that run
/// statement by statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRecord {
    /// 1-based line of the statement in its file.
    pub line: usize,
    /// [`statement_hash`] of the statement's text.
    pub hash: String,
}

impl StatementRecord {
    /// Encodes records for the history table: `line:hash` joined by commas.
    pub fn encode(records: &[StatementRecord]) -> String {
        records.iter().map(|r| format!("{}:{}", r.line, r.hash)).collect::<Vec<_>>().join(",")
    }

    /// Decodes [`StatementRecord::encode`]'s form; `None` when it is malformed.
    pub fn decode(text: &str) -> Option<Vec<StatementRecord>> {
        if text.is_empty() {
            return Some(Vec::new());
        }
        text.split(',')
            .map(|item| {
                let (line, hash) = item.split_once(':')?;
                Some(StatementRecord { line: line.parse().ok()?, hash: hash.to_owned() })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_and_known_value() {
        // Values from `printf '…' | sha256sum`.
        assert_eq!(
            Checksum::of_script("SELECT 1;").as_str(),
            "sha256:17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a"
        );
        assert_eq!(
            Checksum::of_script("-- migrator:no-transaction\r\nSELECT 1;\r\nSELECT 2;").as_str(),
            "sha256:f64316e71b25e7e950d2440c39420b51dfcc2931e172a923d5b7f89fdc67342d"
        );
    }

    #[test]
    fn crlf_bom_and_directives_do_not_change_it() {
        let lf = "CREATE TABLE t (id bigint);\nINSERT INTO t VALUES (1);\n";
        let crlf = "CREATE TABLE t (id bigint);\r\nINSERT INTO t VALUES (1);\r\n";
        let bom = "\u{feff}CREATE TABLE t (id bigint);\nINSERT INTO t VALUES (1);\n";
        let directive =
            "-- migrator:allow drop-table -- reviewed\nCREATE TABLE t (id bigint);\nINSERT INTO t VALUES (1);\n";
        let base = Checksum::of_script(lf);
        assert_eq!(Checksum::of_script(crlf), base);
        assert_eq!(Checksum::of_script(bom), base);
        assert_eq!(Checksum::of_script(directive), base);
    }

    #[test]
    fn content_changes_do() {
        let base = Checksum::of_script("SELECT 1;\n");
        assert_ne!(Checksum::of_script("SELECT 2;\n"), base);
        assert_ne!(Checksum::of_script("-- a comment\nSELECT 1;\n"), base);
        // A directive-looking line below the header is content, not a directive.
        assert_ne!(Checksum::of_script("SELECT 1;\n-- migrator:no-transaction"), Checksum::of_script("SELECT 1;\n"));
    }

    #[test]
    fn code_checksums_depend_on_version_and_name() {
        assert_eq!(Checksum::of_code(3, "backfill"), Checksum::of_code(3, "backfill"));
        assert_ne!(Checksum::of_code(3, "backfill"), Checksum::of_code(3, "backfill2"));
        assert_ne!(Checksum::of_code(3, "backfill"), Checksum::of_code(4, "backfill"));
    }

    #[test]
    fn statement_hash_ignores_crlf() {
        assert_eq!(statement_hash("SELECT\r\n1"), statement_hash("SELECT\n1"));
        assert_ne!(statement_hash("SELECT 1"), statement_hash("SELECT 2"));
        assert_eq!(statement_hash("x").len(), 64);
    }

    /// The decision the README documents: a trailing newline is an edit; CRLF is not.
    #[test]
    fn a_trailing_newline_is_an_edit_and_crlf_is_not() {
        let text = "CREATE TABLE t (id int);";
        assert_ne!(Checksum::of_script(text), Checksum::of_script(&format!("{text}\n")));
        assert_eq!(Checksum::of_script("a;\nb;\n"), Checksum::of_script("a;\r\nb;\r\n"));
    }
}
