//! The rule catalogue: every rule's id, level per dialect, summary and safe alternative.
//!
//! The ids are stable: users write them in `-- migrator:allow <id> -- <reason>` and in level
//! options, so a rule is never renamed. `SAFETY.md` at the workspace's shared docs is the
//! source of this list; [`RULES`] is its executable form.

use std::fmt;

use crate::dialect::Dialect;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Worth a look: reported by the library call and `migrator lint`, never fails a build.
    Warn,
    /// A production hazard: a compile error unless acknowledged with `-- migrator:allow`.
    Deny,
    /// The migration cannot work as written: always an error, refused at runtime too, and
    /// an `allow` does not silence it.
    Fatal,
}

impl Level {
    /// `warn`, `deny` or `fatal`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Warn => "warn",
            Level::Deny => "deny",
            Level::Fatal => "fatal",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable kebab-case id, as written in `-- migrator:allow <id> -- <reason>`.
    pub id: &'static str,
    /// Its level on PostgreSQL; `None` when it does not apply there.
    pub postgres: Option<Level>,
    /// Its level on MySQL/MariaDB; `None` when it does not apply there.
    pub mysql: Option<Level>,
    /// Its level on SQLite; `None` when it does not apply there.
    pub sqlite: Option<Level>,
    /// The hazard, in one line.
    pub summary: &'static str,
    /// The safe alternative, in one line (findings may say it more precisely).
    pub help: &'static str,
}

impl Rule {
    /// The rule's level in `dialect`, or `None` when it does not apply to that dialect.
    pub const fn level(&self, dialect: Dialect) -> Option<Level> {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::MySql => self.mysql,
            Dialect::Sqlite => self.sqlite,
        }
    }

    /// Whether the rule is fatal in every dialect it applies to (its level can't be changed).
    pub const fn always_fatal(&self) -> bool {
        matches!(
            (self.postgres, self.mysql, self.sqlite),
            (Some(Level::Fatal) | None, Some(Level::Fatal) | None, Some(Level::Fatal) | None)
        )
    }
}

const FATAL: Option<Level> = Some(Level::Fatal);
const DENY: Option<Level> = Some(Level::Deny);
const WARN: Option<Level> = Some(Level::Warn);

macro_rules! rules {
    ($($name:ident = $id:literal, postgres: $pg:expr, mysql: $my:expr, sqlite: $sq:expr, $summary:literal, $help:literal;)*) => {
        $(
            pub(crate) const $name: Rule =
                Rule { id: $id, postgres: $pg, mysql: $my, sqlite: $sq, summary: $summary, help: $help };
        )*
        /// Every rule, in catalogue order (fatal, deny, warn).
        pub const RULES: &[Rule] = &[$($name),*];
    };
}

rules! {
    CONCURRENTLY_IN_TRANSACTION = "concurrently-in-transaction", postgres: FATAL, mysql: None, sqlite: None,
        "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY or DETACH PARTITION CONCURRENTLY in a transactional migration: PostgreSQL refuses it",
        "move the statement into a migration of its own that starts with `-- migrator:no-transaction`";
    NOT_ALLOWED_IN_TRANSACTION = "not-allowed-in-transaction", postgres: FATAL, mysql: None, sqlite: FATAL,
        "a statement the database refuses (or silently ignores) inside a transaction, in a transactional migration: VACUUM, ALTER SYSTEM, CREATE/DROP DATABASE or TABLESPACE, a DO block or CALLed procedure that commits (PostgreSQL); VACUUM, PRAGMA foreign_keys or journal_mode (SQLite)",
        "run it in a migration marked `-- migrator:no-transaction`; for batched updates, write a Rust-code backfill";
    TRANSACTION_CONTROL = "transaction-control", postgres: FATAL, mysql: FATAL, sqlite: FATAL,
        "a top-level BEGIN, COMMIT, ROLLBACK or START TRANSACTION: the runner owns transaction boundaries, and an uncommitted BEGIN silently loses the change",
        "delete it: the runner wraps each migration in a transaction, and `-- migrator:no-transaction` runs it in autocommit instead";
    UNKNOWN_DIRECTIVE = "unknown-directive", postgres: FATAL, mysql: FATAL, sqlite: FATAL,
        "a `-- migrator:` line that migrator does not understand",
        "fix the directive: known directives are no-transaction, allow, irreversible, phase, lock-timeout, statement-timeout and no-op, written in lowercase as `--` lines at the top of the file";
    PARSE_ERROR = "parse-error", postgres: FATAL, mysql: FATAL, sqlite: FATAL,
        "the file cannot be split into statements (an unterminated quote, dollar quote, comment or block), or holds what no server runs from a migration: a NUL byte, a control or bidirectional formatting character, a client command (psql `\\connect`, `DELIMITER`), `COPY … FROM STDIN`",
        "fix the SQL as the message says";
    INVALID_MIGRATION = "invalid-migration", postgres: FATAL, mysql: FATAL, sqlite: FATAL,
        "a migration file or directory that cannot be loaded (its name, version, encoding, file type or size, or an up script with no statement)",
        "fix the file as the message says";
    SQLITE_UNSUPPORTED_ALTER = "sqlite-unsupported-alter", postgres: None, mysql: None, sqlite: FATAL,
        "an ALTER TABLE that SQLite cannot run: ALTER COLUMN, ADD or DROP CONSTRAINT, several actions in one statement, or ADD COLUMN with PRIMARY KEY, UNIQUE or a STORED generated column",
        "rebuild the table: create the new table, copy the rows, drop the old table and rename the new one (sqlite.org/lang_altertable.html#otheralter), in one migration";

    INDEX_NOT_CONCURRENT = "index-not-concurrent", postgres: DENY, mysql: None, sqlite: None,
        "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build",
        "use `CREATE INDEX CONCURRENTLY` in a migration marked `-- migrator:no-transaction`";
    DROP_INDEX_NOT_CONCURRENT = "drop-index-not-concurrent", postgres: DENY, mysql: None, sqlite: None,
        "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
        "use `DROP INDEX CONCURRENTLY` in a migration marked `-- migrator:no-transaction`";
    REINDEX_NOT_CONCURRENT = "reindex-not-concurrent", postgres: DENY, mysql: None, sqlite: None,
        "REINDEX without CONCURRENTLY locks the table for the whole rebuild",
        "use `REINDEX … CONCURRENTLY` in a migration marked `-- migrator:no-transaction`";
    DETACH_PARTITION_NOT_CONCURRENT = "detach-partition-not-concurrent", postgres: DENY, mysql: None, sqlite: None,
        "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the parent table",
        "use `DETACH PARTITION … CONCURRENTLY` in a migration marked `-- migrator:no-transaction`";
    MYSQL_BLOCKING_ALTER = "mysql-blocking-alter", postgres: None, mysql: DENY, sqlite: None,
        "an ALTER that runs with ALGORITHM=COPY or LOCK=SHARED/EXCLUSIVE, or that MySQL can only run by copying the table, blocks writes",
        "state `ALGORITHM=INSTANT` or `ALGORITHM=INPLACE, LOCK=NONE` so the server refuses instead of blocking; use gh-ost or pt-online-schema-change for the rest";
    ADD_COLUMN_NOT_NULL_NO_DEFAULT = "add-column-not-null-no-default", postgres: DENY, mysql: DENY, sqlite: DENY,
        "ADD COLUMN … NOT NULL without a default fails on a non-empty table (PostgreSQL) or fills hidden zero values (MySQL), and breaks inserts from the running app",
        "add the column nullable, backfill it in batches, then enforce NOT NULL; or give it a constant default";
    ADD_COLUMN_VOLATILE_DEFAULT = "add-column-volatile-default", postgres: DENY, mysql: DENY, sqlite: DENY,
        "a column added with a per-row (volatile or expression) default rewrites the whole table under an exclusive lock",
        "add the column without a default, `SET DEFAULT` for new rows, then backfill existing rows in batches";
    SET_NOT_NULL = "set-not-null", postgres: DENY, mysql: DENY, sqlite: None,
        "SET NOT NULL scans (PostgreSQL) or rebuilds (MySQL) the table under lock",
        "PostgreSQL: add `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT` in a later migration, then `SET NOT NULL` (it reuses the check)";
    CHANGE_COLUMN_TYPE = "change-column-type", postgres: DENY, mysql: DENY, sqlite: None,
        "changing a column's type rewrites the table under lock and breaks clients that use the old type",
        "add a new column, backfill it in batches, switch the app to it, then drop the old column in a contract migration";
    CONSTRAINT_NOT_VALID = "constraint-not-valid", postgres: DENY, mysql: None, sqlite: None,
        "a new FOREIGN KEY or CHECK without NOT VALID scans the table while holding a lock that blocks writes (a foreign key locks both tables)",
        "add it with `NOT VALID`, then `VALIDATE CONSTRAINT` in a later migration";
    ADD_UNIQUE_CONSTRAINT = "add-unique-constraint", postgres: DENY, mysql: None, sqlite: None,
        "ADD UNIQUE or ADD PRIMARY KEY on an existing table builds its index under an ACCESS EXCLUSIVE lock",
        "`CREATE UNIQUE INDEX CONCURRENTLY` in a no-transaction migration, then `ADD CONSTRAINT … UNIQUE USING INDEX` (or `PRIMARY KEY USING INDEX`)";
    LOCK_TABLE = "lock-table", postgres: DENY, mysql: DENY, sqlite: None,
        "an explicit LOCK TABLE blocks every other session for the rest of the migration",
        "let each statement take the lock it needs, bounded by the migration's lock timeout";
    VACUUM_FULL = "vacuum-full", postgres: DENY, mysql: None, sqlite: None,
        "VACUUM FULL and CLUSTER rewrite the whole table under an ACCESS EXCLUSIVE lock",
        "use pg_repack, outside migrations";
    OPTIMIZE_TABLE = "optimize-table", postgres: None, mysql: DENY, sqlite: None,
        "OPTIMIZE TABLE rebuilds the whole table",
        "use an online schema-change tool (gh-ost, pt-online-schema-change), outside migrations";

    DROP_COLUMN = "drop-column", postgres: DENY, mysql: DENY, sqlite: DENY,
        "dropping a column breaks the running app version that still reads or writes it, and loses its data",
        "stop using the column, deploy, then drop it in a migration marked `-- migrator:phase contract`";
    DROP_TABLE = "drop-table", postgres: DENY, mysql: DENY, sqlite: DENY,
        "dropping a table breaks the running app version that still uses it, and loses its data",
        "stop using the table, rename it to an archive name, and drop it in a migration marked `-- migrator:phase contract`";
    RENAME_COLUMN = "rename-column", postgres: DENY, mysql: DENY, sqlite: DENY,
        "renaming a column breaks the running app version at once",
        "expand/contract: add the new column, write both, backfill, switch reads, then drop the old one";
    RENAME_TABLE = "rename-table", postgres: DENY, mysql: DENY, sqlite: DENY,
        "renaming a table breaks the running app version at once",
        "expand/contract: create the new table, write both, backfill, switch reads, then archive the old one in a contract migration";
    DROP_NOT_NULL = "drop-not-null", postgres: DENY, mysql: DENY, sqlite: None,
        "dropping NOT NULL lets NULLs reach the running app version, which does not expect them",
        "do it in a migration marked `-- migrator:phase contract`, once every instance handles NULL";
    TRUNCATE = "truncate", postgres: DENY, mysql: DENY, sqlite: None,
        "TRUNCATE deletes every row of the table",
        "acknowledge it with an allow and a reason if losing the data is intended";
    DROP_SCHEMA = "drop-schema", postgres: DENY, mysql: DENY, sqlite: None,
        "dropping a schema or database deletes everything in it",
        "acknowledge it with an allow and a reason if losing the data is intended";

    MIXED_DDL_DML = "mixed-ddl-dml", postgres: WARN, mysql: WARN, sqlite: None,
        "a schema change and a data change on existing tables in one migration: a long transaction that is hard to roll back",
        "put the schema change and the data change in separate migrations";
    UNBATCHED_BACKFILL = "unbatched-backfill", postgres: WARN, mysql: WARN, sqlite: WARN,
        "an UPDATE or DELETE over a whole existing table in one statement locks its rows for the whole run",
        "write a batched Rust-code backfill (keyset batches, progress, resumable)";
    MISSING_DOWN = "missing-down", postgres: WARN, mysql: WARN, sqlite: WARN,
        "no down script, and the migration is not marked irreversible",
        "write the down script, or mark the migration `-- migrator:irreversible -- <reason>`";
    MYSQL_MULTI_DDL = "mysql-multi-ddl", postgres: None, mysql: WARN, sqlite: None,
        "several DDL statements in one migration: MySQL commits each one, so the migration can't be atomic",
        "one DDL statement per migration (the runner still records per-statement progress)";
    PREFER_BIGINT = "prefer-bigint", postgres: WARN, mysql: None, sqlite: None,
        "an integer or smallint id column runs out of values",
        "use `bigint`";
    PREFER_TIMESTAMPTZ = "prefer-timestamptz", postgres: WARN, mysql: None, sqlite: None,
        "`timestamp` without time zone loses the UTC offset and depends on the session's time zone",
        "use `timestamptz`";
    PREFER_TEXT = "prefer-text", postgres: WARN, mysql: None, sqlite: None,
        "`varchar(n)`: changing the limit later needs a lock (and a scan to shrink it)",
        "use `text`, with a `CHECK (char_length(col) <= n)` constraint if the limit matters";
    PREFER_IDENTITY = "prefer-identity", postgres: WARN, mysql: None, sqlite: None,
        "`serial` columns use an owned sequence with its own permissions and surprises",
        "use `bigint GENERATED ALWAYS AS IDENTITY`";
    IDENTIFIER_TOO_LONG = "identifier-too-long", postgres: WARN, mysql: FATAL, sqlite: None,
        "a name longer than PostgreSQL's 63 bytes is silently truncated; MySQL rejects names over 64 characters",
        "use a shorter name";
    UNUSED_ALLOW = "unused-allow", postgres: WARN, mysql: WARN, sqlite: WARN,
        "an `allow` that silences nothing in its migration",
        "remove the rule from the allow line";
}

/// The rule with `id`, if any.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

/// The known rule id closest to `id` (for "did you mean"), when it is close enough.
pub(crate) fn closest(id: &str) -> Option<&'static str> {
    RULES
        .iter()
        .map(|rule| (distance(id, rule.id), rule.id))
        .filter(|(d, candidate)| *d <= 3.max(candidate.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, id)| id)
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = current.last().copied().unwrap_or(0) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_apply_somewhere() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(rule.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", rule.id);
            assert!(rule.postgres.is_some() || rule.mysql.is_some() || rule.sqlite.is_some(), "{}", rule.id);
            assert!(RULES.iter().skip(i + 1).all(|other| other.id != rule.id), "duplicate {}", rule.id);
            assert!(!rule.summary.is_empty() && !rule.help.is_empty(), "{}", rule.id);
        }
        assert_eq!(RULES.len(), 38);
    }

    #[test]
    fn levels_per_dialect() {
        assert_eq!(IDENTIFIER_TOO_LONG.level(Dialect::Postgres), Some(Level::Warn));
        assert_eq!(IDENTIFIER_TOO_LONG.level(Dialect::MySql), Some(Level::Fatal));
        assert!(!IDENTIFIER_TOO_LONG.always_fatal());
        assert!(TRANSACTION_CONTROL.always_fatal());
        assert!(CONCURRENTLY_IN_TRANSACTION.always_fatal());
        assert_eq!(INDEX_NOT_CONCURRENT.level(Dialect::MySql), None);
        assert_eq!(INDEX_NOT_CONCURRENT.level(Dialect::Sqlite), None);
        assert_eq!(DROP_COLUMN.level(Dialect::Sqlite), Some(Level::Deny));
        assert!(SQLITE_UNSUPPORTED_ALTER.always_fatal());
        assert!(NOT_ALLOWED_IN_TRANSACTION.always_fatal());
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("drop-colum"), Some("drop-column"));
        assert_eq!(closest("index-not-concurrently"), Some("index-not-concurrent"));
        assert_eq!(closest("something-else-entirely"), None);
        assert_eq!(rule("truncate").map(|r| r.id), Some("truncate"));
    }
}
