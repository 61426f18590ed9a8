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

/// A PostgreSQL `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] [name] ON [ONLY] table …`:
/// what a failed run of it may leave behind, an INVALID index of that name on that table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcurrentIndex {
    /// The index's name as PostgreSQL stores it (unquoted names folded to lowercase, at most
    /// 63 bytes); `None` when the statement names none and PostgreSQL chooses it.
    pub name: Option<String>,
    /// The table's schema, when the statement names one (the index is created there).
    pub schema: Option<String>,
    /// The table, as PostgreSQL stores its name.
    pub table: String,
    /// `IF NOT EXISTS`: running it again would keep an INVALID index of that name, silently.
    pub if_not_exists: bool,
}

/// If `sql` builds an index concurrently (PostgreSQL's `CREATE INDEX CONCURRENTLY`), its
/// name and table. Other dialects, other statements, and names this cannot read exactly
/// (`U&"…"` with escapes) answer `None`.
pub fn concurrent_index(dialect: Dialect, sql: &str) -> Option<ConcurrentIndex> {
    if dialect != Dialect::Postgres {
        return None;
    }
    let tokens = tokenize(sql, dialect).ok()?;
    let toks: Vec<(TokenKind, &str)> =
        tokens.iter().filter(|t| !t.kind.is_trivia()).map(|t| (t.kind, t.text(sql))).collect();
    let mut at = 0;
    let eat = |word: &str, at: &mut usize| {
        let hit = matches!(toks.get(*at), Some((TokenKind::Word, w)) if w.eq_ignore_ascii_case(word));
        *at += usize::from(hit);
        hit
    };
    let next = |at: &mut usize| {
        *at += 1;
        toks.get(*at - 1).copied()
    };
    if !eat("CREATE", &mut at) {
        return None;
    }
    eat("UNIQUE", &mut at);
    if !eat("INDEX", &mut at) || !eat("CONCURRENTLY", &mut at) {
        return None;
    }
    let if_not_exists = eat("IF", &mut at);
    if if_not_exists && !(eat("NOT", &mut at) && eat("EXISTS", &mut at)) {
        return None;
    }
    let name = if eat("ON", &mut at) {
        None
    } else {
        let (kind, text) = next(&mut at)?;
        let name = pg_ident(kind, text)?;
        if !eat("ON", &mut at) {
            return None;
        }
        Some(name)
    };
    eat("ONLY", &mut at);
    let (kind, text) = next(&mut at)?;
    let first = pg_ident(kind, text)?;
    let (schema, table) = match toks.get(at) {
        Some((TokenKind::Punct, ".")) => {
            at += 1;
            let (kind, text) = next(&mut at)?;
            (Some(first), pg_ident(kind, text)?)
        }
        _ => (None, first),
    };
    Some(ConcurrentIndex { name, schema, table, if_not_exists })
}

/// An identifier as PostgreSQL stores it: an unquoted word folded to lowercase, a quoted
/// one unescaped, either cut to 63 bytes (`NAMEDATALEN - 1`). `None` for what is not an
/// identifier, or a `U&"…"` name with escapes.
fn pg_ident(kind: TokenKind, text: &str) -> Option<String> {
    let name = match kind {
        TokenKind::Word => text.to_lowercase(),
        TokenKind::QuotedIdent => {
            let unicode = text.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("U&"));
            let quoted = if unicode { text.get(2..)? } else { text };
            let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
            if unicode && inner.contains('\\') {
                return None;
            }
            inner.replace("\"\"", "\"")
        }
        _ => return None,
    };
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).map(str::to_owned)
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

    #[test]
    fn concurrent_indexes() {
        let named = |name: &str, schema: Option<&str>, table: &str, ine| {
            Some(ConcurrentIndex {
                name: Some(name.to_owned()),
                schema: schema.map(str::to_owned),
                table: table.to_owned(),
                if_not_exists: ine,
            })
        };
        let long = "x".repeat(70);
        let cases = [
            ("CREATE INDEX CONCURRENTLY users_email ON users (email)", named("users_email", None, "users", false)),
            (
                "create unique index concurrently if not exists Users_Email on app.users using btree (email)",
                named("users_email", Some("app"), "users", true),
            ),
            (
                "-- the index\nCREATE INDEX /* now */ CONCURRENTLY \"Mixed \"\"Case\"\"\" ON ONLY \"App\" . \"Users\" (a)",
                named("Mixed \"Case\"", Some("App"), "Users", false),
            ),
            ("CREATE INDEX CONCURRENTLY U&\"ix\" ON t (a)", named("ix", None, "t", false)),
            (&*format!("CREATE INDEX CONCURRENTLY {long} ON t (a)"), named(&"x".repeat(63), None, "t", false)),
            (
                "CREATE INDEX CONCURRENTLY ON users (email)",
                Some(ConcurrentIndex { name: None, schema: None, table: "users".into(), if_not_exists: false }),
            ),
            ("CREATE INDEX users_email ON users (email)", None),
            ("CREATE INDEX CONCURRENTLY U&\"\\0069x\" ON t (a)", None),
            ("REINDEX INDEX CONCURRENTLY users_email", None),
            ("DROP INDEX CONCURRENTLY users_email", None),
            ("CREATE INDEX CONCURRENTLY IF users_email ON t (a)", None),
        ];
        for (sql, expected) in cases {
            assert_eq!(concurrent_index(Dialect::Postgres, sql), expected, "{sql}");
        }
        assert_eq!(concurrent_index(Dialect::MySql, "CREATE INDEX CONCURRENTLY i ON t (a)"), None);
    }
}
