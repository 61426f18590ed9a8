//! Migration versions and phases.

use std::fmt;

/// A migration version: a positive integer, either a sequence number (`1`, `2`, …) or a
/// timestamp such as `20261120093000`. Versions order migrations; each is unique in a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(i64);

impl Version {
    /// Returns the version for `value`, or `None` when it is zero or negative.
    pub const fn new(value: i64) -> Option<Version> {
        if value > 0 { Some(Version(value)) } else { None }
    }

    /// The version as a plain integer.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Parses the digits of a file name's version part (`0042` → 42).
    pub(crate) fn parse_digits(digits: &str) -> Result<Version, String> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{digits}` is not a version: use digits only, such as 1 or 20261120093000"));
        }
        let value: i64 = digits
            .parse()
            .map_err(|_| format!("version `{digits}` is too large: versions must fit in a signed 64-bit integer"))?;
        Version::new(value).ok_or_else(|| format!("version `{digits}` must be a positive number, not zero"))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<i64> for Version {
    type Error = InvalidVersion;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Version::new(value).ok_or(InvalidVersion { value })
    }
}

/// A value that is not a migration version (zero or negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not a migration version: versions are positive integers")]
pub struct InvalidVersion {
    /// The rejected value.
    pub value: i64,
}

/// The deployment phase of a migration (expand/contract, a.k.a. parallel change).
///
/// `Expand` migrations (the default) keep the running version of the app working and are
/// applied at startup. `Contract` migrations (`-- migrator:phase contract`) remove what old
/// code still uses; they are applied only when a run selects the contract phase, after every
/// instance runs the new code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Phase {
    /// Compatible with the previous app version; applied by default.
    #[default]
    Expand,
    /// Destructive; applied only when the contract phase is selected.
    Contract,
}

impl Phase {
    /// The name stored in the history table and written in directives.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Contract => "contract",
        }
    }

    /// Parses `expand` or `contract`.
    pub fn parse(text: &str) -> Option<Phase> {
        match text {
            "expand" => Some(Phase::Expand),
            "contract" => Some(Phase::Contract),
            _ => None,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which phases a run applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Phases {
    /// Only expand migrations (the default at app startup).
    #[default]
    Expand,
    /// Only contract migrations.
    Contract,
    /// Both, in version order.
    All,
}

impl Phases {
    /// Whether this selection applies migrations of `phase`.
    pub const fn includes(self, phase: Phase) -> bool {
        matches!(
            (self, phase),
            (Phases::All, _) | (Phases::Expand, Phase::Expand) | (Phases::Contract, Phase::Contract)
        )
    }
}

/// Whether a step applies (up) or reverts (down) a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Applying the up script or body.
    Up,
    /// Reverting with the down script or body.
    Down,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_must_be_positive_digits() {
        assert_eq!(Version::parse_digits("0042").unwrap().get(), 42);
        assert_eq!(Version::parse_digits("20261120093000").unwrap().get(), 20261120093000);
        assert!(Version::parse_digits("0").unwrap_err().contains("positive"));
        assert!(Version::parse_digits("-1").unwrap_err().contains("digits only"));
        assert!(Version::parse_digits("1a").unwrap_err().contains("digits only"));
        assert!(Version::parse_digits("").unwrap_err().contains("digits only"));
        assert!(Version::parse_digits("99999999999999999999").unwrap_err().contains("too large"));
        assert!(Version::new(0).is_none());
        assert!(Version::new(-5).is_none());
    }

    #[test]
    fn phase_selection() {
        assert!(Phases::Expand.includes(Phase::Expand));
        assert!(!Phases::Expand.includes(Phase::Contract));
        assert!(Phases::Contract.includes(Phase::Contract));
        assert!(!Phases::Contract.includes(Phase::Expand));
        assert!(Phases::All.includes(Phase::Contract) && Phases::All.includes(Phase::Expand));
        assert_eq!(Phase::parse("contract"), Some(Phase::Contract));
        assert_eq!(Phase::parse("Contract"), None);
    }
}
