//! What must happen before a statement that ran before runs again (on `resume`, or on a
//! lock-timeout retry): a failed `CREATE INDEX CONCURRENTLY` leaves its index behind,
//! INVALID (PostgreSQL does not roll it back), and running the statement again either fails
//! (the name is taken) or, with `IF NOT EXISTS`, succeeds without building anything and keeps
//! the INVALID index, which the planner never uses and every write still maintains.
//!
//! So the INVALID index of that name on that table is dropped first
//! (`DROP INDEX CONCURRENTLY IF EXISTS`), and the run says so. A valid index of that name is
//! left alone. An unnamed `CREATE INDEX CONCURRENTLY` gets a name PostgreSQL chooses
//! (`users_email_idx`, then `users_email_idx1`, …): which INVALID index its failed run left
//! cannot be told from another's, so nothing is dropped and the runner warns, with the query
//! that finds INVALID indexes. `REINDEX … CONCURRENTLY` leaves `…_ccnew` (and `…_ccold`)
//! indexes when it fails; that is not handled here.

use crate::classify::{ConcurrentIndex, concurrent_index};
use crate::dialect::Dialect;

/// The index a failed run of a statement may have left INVALID: drop it if it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIndex {
    /// The table's schema, when the statement names one (otherwise the search path finds
    /// the table, as it did for the statement).
    pub schema: Option<String>,
    /// The table.
    pub table: String,
    /// The index, as PostgreSQL stores its name.
    pub index: String,
}

/// What to do before running a statement again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RerunGuard {
    /// Drop this index first if it exists and is INVALID.
    DropInvalidIndex(InvalidIndex),
    /// The statement builds an unnamed index concurrently: an INVALID index its failed run
    /// left cannot be identified, so the runner only warns.
    UnnamedIndex {
        /// The table, as written (`schema.table` when qualified).
        table: String,
    },
}

/// What must happen before `statement` runs again, if anything.
pub fn rerun_guard(dialect: Dialect, statement: &str) -> Option<RerunGuard> {
    let ConcurrentIndex { name, schema, table, .. } = concurrent_index(dialect, statement)?;
    Some(match name {
        Some(index) => RerunGuard::DropInvalidIndex(InvalidIndex { schema, table, index }),
        None => RerunGuard::UnnamedIndex {
            table: match schema {
                Some(schema) => format!("{schema}.{table}"),
                None => table,
            },
        },
    })
}

/// The query that lists INVALID indexes (for the warning about an unnamed one).
pub const FIND_INVALID_INDEXES: &str = "SELECT indexrelid::regclass AS index, indrelid::regclass AS table FROM pg_index \
     WHERE NOT indisvalid";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards() {
        let drop = |schema: Option<&str>, table: &str, index: &str| {
            Some(RerunGuard::DropInvalidIndex(InvalidIndex {
                schema: schema.map(str::to_owned),
                table: table.to_owned(),
                index: index.to_owned(),
            }))
        };
        // (dialect, statement) -> guard
        let cases = [
            (
                Dialect::Postgres,
                "CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email)",
                drop(None, "users", "users_email"),
            ),
            (
                Dialect::Postgres,
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON app.users (email)",
                drop(Some("app"), "users", "users_email"),
            ),
            (
                Dialect::Postgres,
                "CREATE INDEX CONCURRENTLY ON app.users (email)",
                Some(RerunGuard::UnnamedIndex { table: "app.users".into() }),
            ),
            (Dialect::Postgres, "CREATE INDEX users_email ON users (email)", None),
            (Dialect::Postgres, "ALTER TABLE users ADD COLUMN note text", None),
            (Dialect::Postgres, "REINDEX INDEX CONCURRENTLY users_email", None),
            (Dialect::MySql, "CREATE INDEX users_email ON users (email)", None),
            (Dialect::Sqlite, "CREATE INDEX users_email ON users (email)", None),
        ];
        for (dialect, statement, expected) in cases {
            assert_eq!(rerun_guard(dialect, statement), expected, "{dialect:?} {statement}");
        }
    }
}
