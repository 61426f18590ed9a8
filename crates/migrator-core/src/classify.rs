//! What kind of statement a statement is, from its leading keywords.
//!
//! Runners and the linter need to know, per dialect, which statements commit implicitly
//! (MySQL commits before and after every DDL statement, so a script containing one can never
//! be atomic), which are transaction control, and which cannot run inside a transaction at
//! all (SQLite's `VACUUM`). This looks at the first few words only, skipping comments; MySQL
//! executable comments (`/*!40101 … */`) are read as SQL.
//!
//! PostgreSQL and SQLite have transactional DDL: nothing commits implicitly there.

use crate::dialect::Dialect;
use crate::split::{TokenKind, tokenize};

/// The leading words of a statement, uppercased, skipping whitespace and comments (MySQL
/// executable comments `/*! … */` contribute their words). Stops at the first token that is
/// not a word, or after `max` words.
pub fn leading_words(sql: &str, dialect: Dialect, max: usize) -> Vec<String> {
    let mut words = Vec::new();
    collect_words(sql, dialect, max, &mut words);
    words
}

fn collect_words(sql: &str, dialect: Dialect, max: usize, words: &mut Vec<String>) -> bool {
    let Ok(tokens) = tokenize(sql, dialect) else { return false };
    for token in tokens {
        if words.len() >= max {
            return false;
        }
        let text = sql.get(token.range.clone()).unwrap_or("");
        match token.kind {
            TokenKind::Whitespace | TokenKind::LineComment => {}
            TokenKind::BlockComment => {
                let inner = if dialect == Dialect::MySql { executable_comment(text) } else { None };
                if let Some(inner) = inner
                    && !collect_words(inner, dialect, max, words)
                {
                    return false;
                }
            }
            TokenKind::Word => words.push(text.to_ascii_uppercase()),
            _ => return false,
        }
    }
    true
}

/// The SQL inside a MySQL executable comment (`/*! … */`, `/*!40101 … */`, `/*M! … */`).
fn executable_comment(comment: &str) -> Option<&str> {
    let inner = comment.strip_prefix("/*")?.strip_suffix("*/")?;
    let inner = inner.strip_prefix('M').unwrap_or(inner).strip_prefix('!')?;
    Some(inner.trim_start_matches(|c: char| c.is_ascii_digit()))
}

/// Whether `sql` (one statement) makes MySQL/MariaDB commit implicitly: DDL, account
/// management, transaction control and locking, administrative statements. `CALL` counts,
/// since a procedure may run DDL. `CREATE`/`DROP TEMPORARY TABLE` do not commit.
/// PostgreSQL and SQLite have transactional DDL: nothing commits implicitly there.
pub fn commits_implicitly(dialect: Dialect, sql: &str) -> bool {
    if dialect != Dialect::MySql {
        return false;
    }
    let words = leading_words(sql, dialect, 4);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match word(0) {
        "CREATE" | "DROP" => {
            let temporary = word(1) == "TEMPORARY" || (word(1) == "OR" && word(3) == "TEMPORARY");
            !temporary
        }
        "ALTER" | "RENAME" | "TRUNCATE" | "GRANT" | "REVOKE" | "INSTALL" | "UNINSTALL" | "ANALYZE" | "CACHE"
        | "CHECK" | "FLUSH" | "OPTIMIZE" | "REPAIR" | "RESET" | "LOCK" | "UNLOCK" | "BEGIN" | "START" | "STOP"
        | "CHANGE" | "CALL" | "COMMIT" | "ROLLBACK" => true,
        "LOAD" => word(1) == "INDEX",
        "SET" => matches!(word(1), "PASSWORD" | "AUTOCOMMIT" | "TRANSACTION"),
        _ => false,
    }
}

/// Whether `sql` is a top-level transaction-control statement (`BEGIN`, `START TRANSACTION`,
/// `COMMIT`, `ROLLBACK`, PostgreSQL's `ABORT`, PostgreSQL's and SQLite's `END`); the runner owns
/// transaction boundaries. Savepoints (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`) stay inside the
/// runner's transaction and are not transaction control.
pub fn is_transaction_control(dialect: Dialect, sql: &str) -> bool {
    let words = leading_words(sql, dialect, 3);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match word(0) {
        "BEGIN" => !(dialect == Dialect::Postgres && word(1) == "ATOMIC"),
        "START" => word(1) == "TRANSACTION",
        "COMMIT" => word(1) != "PREPARED",
        "ROLLBACK" => word(1) != "PREPARED" && word(1) != "TO" && word(2) != "TO",
        "ABORT" => dialect == Dialect::Postgres,
        "END" => matches!(dialect, Dialect::Postgres | Dialect::Sqlite),
        _ => false,
    }
}

/// If the database refuses `sql` inside a transaction, or silently ignores it there, what it
/// is (for messages). Runners execute such a statement of a `no-transaction` migration on its
/// own; the linter refuses it in a transactional migration.
///
/// SQLite: `VACUUM` (refused), `PRAGMA foreign_keys = …` (a silent no-op inside a
/// transaction) and `PRAGMA journal_mode = …` (switching to or from WAL is refused). Other
/// dialects answer `None`: PostgreSQL's cases depend on more than the leading words and live
/// in the linter, and MySQL runs every DDL statement outside a transaction anyway.
pub fn outside_transaction(dialect: Dialect, sql: &str) -> Option<&'static str> {
    if dialect != Dialect::Sqlite {
        return None;
    }
    let Ok(tokens) = tokenize(sql, dialect) else { return None };
    let mut significant = tokens.iter().filter(|t| !t.kind.is_trivia()).map(|t| (t.kind, t.text(sql)));
    let (kind, first) = significant.next()?;
    if kind != TokenKind::Word {
        return None;
    }
    if first.eq_ignore_ascii_case("VACUUM") {
        return Some("`VACUUM`");
    }
    if !first.eq_ignore_ascii_case("PRAGMA") {
        return None;
    }
    // PRAGMA [schema.]name = value, or PRAGMA [schema.]name(value).
    let mut name = significant.next()?;
    if significant.clone().next().is_some_and(|(kind, text)| kind == TokenKind::Punct && text == ".") {
        significant.next();
        name = significant.next()?;
    }
    let assigns =
        significant.next().is_some_and(|(kind, text)| kind == TokenKind::Punct && (text == "=" || text == "("));
    if !assigns {
        return None;
    }
    let name = name.1.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'));
    if name.eq_ignore_ascii_case("foreign_keys") {
        Some("`PRAGMA foreign_keys` (inside a transaction SQLite ignores it without an error)")
    } else if name.eq_ignore_ascii_case("journal_mode") {
        Some("`PRAGMA journal_mode` (SQLite cannot switch to or from WAL inside a transaction)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_words_skip_comments() {
        assert_eq!(
            leading_words("-- x\n/* y */ create   table t (id int)", Dialect::Postgres, 3),
            ["CREATE", "TABLE", "T"]
        );
        assert_eq!(leading_words("/*!40101 SET NAMES utf8 */", Dialect::MySql, 3), ["SET", "NAMES", "UTF8"]);
        assert_eq!(leading_words("SELECT 1", Dialect::MySql, 5), ["SELECT"]);
    }

    #[test]
    fn mysql_implicit_commits() {
        let commits = [
            "CREATE TABLE t (id INT)",
            "create unique index i on t (c)",
            "CREATE DEFINER = 'u'@'h' PROCEDURE p() BEGIN SELECT 1; END",
            "CREATE OR REPLACE VIEW v AS SELECT 1",
            "ALTER TABLE t ADD COLUMN c INT",
            "DROP TABLE t",
            "RENAME TABLE a TO b",
            "TRUNCATE TABLE t",
            "GRANT SELECT ON t TO u",
            "LOCK TABLES t WRITE",
            "OPTIMIZE TABLE t",
            "ANALYZE TABLE t",
            "START TRANSACTION",
            "CALL p()",
            "SET autocommit = 1",
            "/*!50003 CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1 */",
        ];
        for sql in commits {
            assert!(commits_implicitly(Dialect::MySql, sql), "{sql}");
        }
        let stays = [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "REPLACE INTO t VALUES (1)",
            "SELECT 1",
            "SET @x = 1",
            "SET SESSION sql_mode = ''",
            "CREATE TEMPORARY TABLE tmp (id INT)",
            "DROP TEMPORARY TABLE tmp",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "DO SLEEP(1)",
        ];
        for sql in stays {
            assert!(!commits_implicitly(Dialect::MySql, sql), "{sql}");
        }
        assert!(!commits_implicitly(Dialect::Postgres, "CREATE TABLE t (id int)"));
    }

    #[test]
    fn transaction_control() {
        assert!(is_transaction_control(Dialect::Postgres, "BEGIN"));
        assert!(is_transaction_control(Dialect::Postgres, "begin work"));
        assert!(is_transaction_control(Dialect::Postgres, "COMMIT"));
        assert!(is_transaction_control(Dialect::Postgres, "END"));
        assert!(is_transaction_control(Dialect::MySql, "START TRANSACTION"));
        assert!(!is_transaction_control(Dialect::MySql, "END"));
        assert!(!is_transaction_control(Dialect::Postgres, "COMMIT PREPARED 'x'"));
        assert!(!is_transaction_control(Dialect::Postgres, "SELECT 1"));
        assert!(!is_transaction_control(Dialect::Postgres, "BEGIN ATOMIC SELECT 1; END"));
        assert!(!is_transaction_control(Dialect::Postgres, "ROLLBACK TO SAVEPOINT a"));
        assert!(!is_transaction_control(Dialect::Postgres, "ROLLBACK WORK TO a"));
        assert!(is_transaction_control(Dialect::Postgres, "ABORT"));
    }

    #[test]
    fn sqlite_transaction_control() {
        for sql in
            ["BEGIN", "begin immediate", "BEGIN EXCLUSIVE TRANSACTION", "COMMIT", "END", "END TRANSACTION", "ROLLBACK"]
        {
            assert!(is_transaction_control(Dialect::Sqlite, sql), "{sql}");
        }
        for sql in
            ["SAVEPOINT a", "RELEASE a", "ROLLBACK TO a", "ROLLBACK TRANSACTION TO SAVEPOINT a", "ABORT", "SELECT 1"]
        {
            assert!(!is_transaction_control(Dialect::Sqlite, sql), "{sql}");
        }
        assert!(!commits_implicitly(Dialect::Sqlite, "CREATE TABLE t (id INTEGER)"));
    }

    #[test]
    fn sqlite_outside_transaction() {
        let outside = [
            "VACUUM",
            "vacuum main",
            "VACUUM INTO '/tmp/copy.db'",
            "PRAGMA foreign_keys = OFF",
            "pragma main.foreign_keys=on",
            "PRAGMA \"foreign_keys\" = 0",
            "PRAGMA journal_mode = WAL",
            "PRAGMA journal_mode(delete)",
        ];
        for sql in outside {
            assert!(outside_transaction(Dialect::Sqlite, sql).is_some(), "{sql}");
        }
        let inside = [
            "PRAGMA foreign_keys",
            "PRAGMA foreign_key_check",
            "PRAGMA defer_foreign_keys = ON",
            "SELECT 1",
            "PRAGMA user_version = 3",
        ];
        for sql in inside {
            assert!(outside_transaction(Dialect::Sqlite, sql).is_none(), "{sql}");
        }
        assert!(outside_transaction(Dialect::Postgres, "VACUUM").is_none());
    }
}
