//! The advisory lock key.

/// A 64-bit key from database, schema and history table (SHA-256, first 8 bytes): migrators
/// of different schemas or history tables in one database do not block each other.
pub(crate) fn lock_key(database: &str, schema: &str, table: &str) -> i64 {
    let hash = migrator_core::checksum::statement_hash(&format!("migrator-lock\n{database}\n{schema}\n{table}"));
    let hex = hash.get(..16).unwrap_or("0");
    u64::from_str_radix(hex, 16).map(|bits| bits as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_differ_by_database_schema_and_table() {
        let a = super::lock_key("db", "public", "_migrator_history");
        assert_eq!(a, super::lock_key("db", "public", "_migrator_history"));
        assert_ne!(a, super::lock_key("db", "tenant", "_migrator_history"));
        assert_ne!(a, super::lock_key("db", "public", "other_history"));
        assert_ne!(a, super::lock_key("db2", "public", "_migrator_history"));
    }
}
