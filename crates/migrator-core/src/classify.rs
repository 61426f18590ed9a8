//! What kind of statement a statement is, from its leading keywords.
//!
//! Runners and the linter need to know, per dialect, which statements commit implicitly
//! (MySQL commits before and after every DDL statement, so a script containing one can never
//! be atomic) and which are transaction control. This looks at the first few words only,
//! skipping comments; MySQL executable comments (`/*!40101 … */`) are read as SQL.

use crate::split::{Dialect, TokenKind, tokenize};

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
/// PostgreSQL has transactional DDL: nothing commits implicitly there.
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
/// `COMMIT`, `ROLLBACK`, `END`, `SAVEPOINT`-free forms); the runner owns transaction boundaries.
pub fn is_transaction_control(dialect: Dialect, sql: &str) -> bool {
    let words = leading_words(sql, dialect, 2);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match word(0) {
        "BEGIN" => !(dialect == Dialect::Postgres && word(1) == "ATOMIC"),
        "START" => word(1) == "TRANSACTION",
        "COMMIT" | "ROLLBACK" | "ABORT" => word(1) != "PREPARED",
        "END" => dialect == Dialect::Postgres,
        _ => false,
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
    }
}
