//! The `GET_LOCK` name.

/// `migrator:` and 40 hex digits of SHA-256 over database and history table: named locks are
/// server-wide, so the database is part of the name; at most 64 characters, as MySQL requires.
pub(crate) fn lock_name(database: &str, table: &str) -> String {
    let hash = migrator_core::checksum::statement_hash(&format!("migrator-lock\n{database}\n{table}"));
    format!("migrator:{}", hash.get(..40).unwrap_or(&hash))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_fit_and_differ() {
        let a = super::lock_name("app", "_migrator_history");
        assert!(a.len() <= 64, "{a}");
        assert_eq!(a, super::lock_name("app", "_migrator_history"));
        assert_ne!(a, super::lock_name("other", "_migrator_history"));
        assert_ne!(a, super::lock_name("app", "jobs_history"));
    }
}
