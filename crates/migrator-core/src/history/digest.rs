//! The digest of an all-applied history: what the startup check compares on the server, so
//! the history's rows travel only when they differ from what the binary expects.

use crate::version::Phase;

/// The digest of a history in which every row is applied and carries exactly these
/// `(version, name, phase, checksum, down checksum)` values, in version order: SHA-256 (hex)
/// of the rows joined with U+001E, each row's fields joined with U+001F. A driver computes
/// the same digest on the server (see [`crate::driver::Driver::probe_expecting`]), so the startup
/// check sends the history's rows only when they differ from what the binary expects.
pub fn applied_digest<'a>(rows: impl IntoIterator<Item = (i64, &'a str, Phase, &'a str, Option<&'a str>)>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (i, (version, name, phase, checksum, down)) in rows.into_iter().enumerate() {
        if i > 0 {
            hasher.update("\u{1e}");
        }
        hasher.update(format!(
            "{version}\u{1f}{name}\u{1f}{}\u{1f}{checksum}\u{1f}{}",
            phase.as_str(),
            down.unwrap_or("")
        ));
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What a driver answers from the server's comparison ([`crate::driver::Driver::probe_expecting`]):
/// the index of the expected digest the history has, when every row is applied (`clean`).
pub fn expected_match(clean: bool, digest: &str, expected: &[String]) -> Option<usize> {
    if clean { expected.iter().position(|d| d == digest) } else { None }
}

/// What the all-tenants startup check read of one tenant's history table, on the server
/// ([`crate::driver::Driver::digest_tenants`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryDigest {
    /// The table's layout (its layout row), `None` when the row is missing.
    pub layout: Option<i64>,
    /// Whether every row other than the layout row is applied.
    pub clean: bool,
    /// The [`applied_digest`] of those rows, as the server computed it.
    pub digest: String,
}
