//! Keeping one migration's `SET`s out of the next.
//!
//! MySQL has no `RESET ALL`, and `COM_RESET_CONNECTION` would also release the migration
//! lock. So before a migration runs, the session variables its top-level `SET` statements
//! change are saved into user variables (in the same message as the migration: no extra
//! round trip), and restored at the start of the next migration; user variables it sets are
//! reset to NULL. `SET NAMES` / `SET CHARACTER SET` save the four character-set variables.
//! Statements inside procedure bodies run when called and are not seen here.

use migrator_core::Dialect;
use migrator_core::split::{Token, TokenKind, tokenize};

/// Variables a script's `SET` statements change.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Changed {
    /// Session system variables (lowercase names).
    pub(crate) session: Vec<String>,
    /// User variables, as written after `@` (quoted forms kept quoted).
    pub(crate) user: Vec<String>,
}

impl Changed {
    /// Adds the variables one statement sets.
    pub(crate) fn add_statement(&mut self, sql: &str) {
        let Ok(tokens) = tokenize(sql, Dialect::MySql) else { return };
        let tokens: Vec<&Token> = tokens.iter().filter(|t| !t.kind.is_trivia()).collect();
        let text = |t: &Token| sql.get(t.range.clone()).unwrap_or("");
        let word = |i: usize| tokens.get(i).filter(|t| t.kind == TokenKind::Word).map(|t| text(t).to_ascii_lowercase());
        if word(0).as_deref() != Some("set") {
            return;
        }
        match word(1).as_deref() {
            Some("names" | "charset") => return self.charset(),
            Some("character") if word(2).as_deref() == Some("set") => return self.charset(),
            Some("transaction" | "password" | "role" | "default" | "statement") => return,
            _ => {}
        }
        // Assignments separated by commas at parenthesis depth 0.
        let mut depth = 0usize;
        let mut start = 1;
        for i in 1..=tokens.len() {
            let boundary = match tokens.get(i) {
                None => true,
                Some(t) if t.kind == TokenKind::Punct => {
                    match text(t) {
                        "(" => depth += 1,
                        ")" => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    depth == 0 && text(t) == ","
                }
                Some(_) => false,
            };
            if boundary {
                self.assignment(tokens.get(start.min(i)..i).unwrap_or_default(), sql);
                start = i + 1;
            }
        }
    }

    fn charset(&mut self) {
        for name in
            ["character_set_client", "character_set_connection", "character_set_results", "collation_connection"]
        {
            self.push_session(name);
        }
    }

    fn push_session(&mut self, name: &str) {
        let name = name.to_ascii_lowercase();
        if !self.session.contains(&name) {
            self.session.push(name);
        }
    }

    fn assignment(&mut self, tokens: &[&Token], sql: &str) {
        let text = |t: &Token| sql.get(t.range.clone()).unwrap_or("");
        let kinds: Vec<(TokenKind, String)> = tokens.iter().map(|t| (t.kind, text(t).to_owned())).collect();
        let at = |i: usize| kinds.get(i).map(|(k, s)| (*k, s.as_str()));
        let is = |i: usize, s: &str| at(i).is_some_and(|(k, t)| k == TokenKind::Punct && t == s);
        let word = |i: usize| at(i).filter(|(k, _)| *k == TokenKind::Word).map(|(_, t)| t.to_ascii_lowercase());
        let mut i = 0;
        // `SET GLOBAL x = …` / `SET SESSION x = …` / `SET LOCAL x = …`
        let mut global = false;
        if let Some(scope) = word(0) {
            match scope.as_str() {
                "global" | "persist" | "persist_only" => {
                    global = true;
                    i = 1;
                }
                "session" | "local" => i = 1,
                _ => {}
            }
        }
        if is(i, "@") && is(i + 1, "@") {
            // `@@[scope.]name`
            let mut j = i + 2;
            if let (Some(scope), true) = (word(j), is(j + 1, ".")) {
                global = matches!(scope.as_str(), "global" | "persist" | "persist_only");
                j += 2;
            }
            if let (Some(name), false) = (word(j), global) {
                self.push_session(&name);
            }
        } else if is(i, "@") {
            // `@name` or `@'quoted name'`
            if let Some((_, name)) = at(i + 1) {
                let name = name.to_owned();
                if !self.user.contains(&name) && !name.starts_with("__migrator_") {
                    self.user.push(name);
                }
            }
        } else if let (Some(name), false) = (word(i), global) {
            self.push_session(&name);
        }
    }

    /// SQL saving the session variables into `@__migrator_saved_N` (empty when none).
    pub(crate) fn save_sql(&self) -> String {
        if self.session.is_empty() {
            return String::new();
        }
        let items: Vec<String> = self
            .session
            .iter()
            .enumerate()
            .map(|(n, name)| format!("@__migrator_saved_{n} = @@SESSION.{name}"))
            .collect();
        format!("SET {};\n", items.join(", "))
    }

    /// SQL restoring what [`Changed::save_sql`] saved and clearing the user variables.
    pub(crate) fn restore_sql(&self) -> String {
        let mut sql = String::new();
        if !self.session.is_empty() {
            let items: Vec<String> = self
                .session
                .iter()
                .enumerate()
                .map(|(n, name)| format!("SESSION {name} = @__migrator_saved_{n}"))
                .collect();
            sql.push_str(&format!("SET {};\n", items.join(", ")));
        }
        if !self.user.is_empty() {
            let items: Vec<String> = self.user.iter().map(|name| format!("@{name} = NULL")).collect();
            sql.push_str(&format!("SET {};\n", items.join(", ")));
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(statements: &[&str]) -> Changed {
        let mut changed = Changed::default();
        for s in statements {
            changed.add_statement(s);
        }
        changed
    }

    #[test]
    fn finds_session_and_user_variables() {
        let c = changed(&[
            "SET sql_mode = 'ANSI', @@SESSION.lock_wait_timeout = 5, @@time_zone = '+00:00'",
            "SET SESSION foreign_key_checks = 0",
            "set local unique_checks = IF(1, 0, 1), @counter := 3",
            "SET @`odd name` = 1",
            "SET GLOBAL max_connections = 10",
            "SET @@GLOBAL.general_log = 0",
            "SET NAMES utf8mb4",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "INSERT INTO t VALUES (1)",
            "SET @__migrator_t0 = NOW(6)",
        ]);
        assert_eq!(
            c.session,
            [
                "sql_mode",
                "lock_wait_timeout",
                "time_zone",
                "foreign_key_checks",
                "unique_checks",
                "character_set_client",
                "character_set_connection",
                "character_set_results",
                "collation_connection"
            ]
        );
        assert_eq!(c.user, ["counter", "`odd name`"]);
    }

    #[test]
    fn save_and_restore_sql() {
        let c = changed(&["SET sql_mode = '', @x = 1"]);
        assert_eq!(c.save_sql(), "SET @__migrator_saved_0 = @@SESSION.sql_mode;\n");
        assert_eq!(c.restore_sql(), "SET SESSION sql_mode = @__migrator_saved_0;\nSET @x = NULL;\n");
        assert_eq!(changed(&["SELECT 1"]), Changed::default());
        assert_eq!(changed(&["SELECT 1"]).save_sql(), "");
    }
}
