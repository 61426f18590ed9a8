//! Schema snapshots from `sqlite_master` and the table-valued PRAGMA functions, for
//! reversibility and drift checks.
//!
//! Tables (with `WITHOUT ROWID` and `STRICT`), columns (`pragma_table_xinfo`: type, NOT NULL,
//! default, primary-key position, generated), indexes (`pragma_index_list` and
//! `pragma_index_xinfo`: uniqueness, key columns in order, direction, partial), foreign keys
//! (`pragma_foreign_key_list`), views and triggers (their SQL), and CHECK constraints.
//! SQLite keeps CHECK constraints only inside the text of `CREATE TABLE`, which `ALTER TABLE
//! ADD COLUMN` and `DROP COLUMN` edit, so that text is not compared whole: each `CHECK (…)`
//! is taken out of it (with its `CONSTRAINT` name, if any) and compared on its own. Column
//! collations are not in the snapshot.

use async_trait::async_trait;
use migrator_core::Error;
use migrator_core::driver::Inspect;
use migrator_core::schema::{ObjectKind, Schema};
use sqlx::Row;

use crate::conn::db;
use crate::driver::SqliteDriver;

/// Tables of the schema, without migrator's own and SQLite's internal ones.
const TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' \
     AND name NOT LIKE '\\_migrator\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/// One query: (kind, name, definition) for every object.
fn snapshot_sql() -> String {
    format!(
        "WITH tables(name) AS ({TABLES})
SELECT 'table', t.name, l.type || CASE WHEN l.wr THEN ' without rowid' ELSE '' END \
    || CASE WHEN l.strict THEN ' strict' ELSE '' END
FROM tables t JOIN pragma_table_list(t.name) l ON l.schema = 'main'
UNION ALL
SELECT 'column', t.name || '.' || c.name, lower(c.type) || CASE WHEN c.\"notnull\" THEN ' not null' ELSE '' END \
    || coalesce(' default ' || c.dflt_value, '') || CASE WHEN c.pk > 0 THEN ' primary key ' || c.pk ELSE '' END \
    || CASE c.hidden WHEN 2 THEN ' generated virtual' WHEN 3 THEN ' generated stored' ELSE '' END
FROM tables t JOIN pragma_table_xinfo(t.name) c
UNION ALL
SELECT 'index', i.name, CASE WHEN i.\"unique\" THEN 'unique ' ELSE '' END || 'on ' || t.name || ' (' \
    || (SELECT group_concat(coalesce(x.name, '(expression)') || CASE WHEN x.\"desc\" THEN ' desc' ELSE '' END, ', ' \
        ORDER BY x.seqno) FROM pragma_index_xinfo(i.name) x WHERE x.key) || ')' \
    || CASE WHEN i.partial THEN ' partial: ' || coalesce((SELECT sql FROM sqlite_master WHERE name = i.name), '') \
       ELSE '' END
FROM tables t JOIN pragma_index_list(t.name) i
UNION ALL
SELECT 'constraint', t.name || '.foreign key (' || group_concat(f.\"from\", ', ' ORDER BY f.seq) || ')', \
    'references ' || f.\"table\" || ' (' || group_concat(coalesce(f.\"to\", '(primary key)'), ', ' ORDER BY f.seq) \
    || ') on update ' || lower(f.on_update) || ' on delete ' || lower(f.on_delete)
FROM tables t JOIN pragma_foreign_key_list(t.name) f GROUP BY t.name, f.id
UNION ALL
SELECT 'view', name, sql FROM sqlite_master WHERE type = 'view'
UNION ALL
SELECT 'trigger', tbl_name || '.' || name, sql FROM sqlite_master WHERE type = 'trigger' \
    AND tbl_name NOT LIKE '\\_migrator\\_%' ESCAPE '\\'
UNION ALL
SELECT 'create table', m.name, m.sql FROM tables t JOIN sqlite_master m ON m.type = 'table' AND m.name = t.name"
    )
}

/// The CHECK constraints in a `CREATE TABLE` statement, in order: each with its
/// `CONSTRAINT` name, if any, and its expression (without the outer parentheses). Strings,
/// quoted identifiers and comments are skipped by SQLite's own lexing rules.
fn check_constraints(create_table: &str) -> Vec<(Option<String>, String)> {
    use migrator_core::split::{TokenKind, tokenize};
    let Ok(tokens) = tokenize(create_table, migrator_core::Dialect::Sqlite) else { return Vec::new() };
    let tokens: Vec<_> = tokens.into_iter().filter(|t| !t.kind.is_trivia()).collect();
    let text = |i: usize| tokens.get(i).map(|t| t.text(create_table)).unwrap_or("");
    let unquote = |i: usize| {
        let t = text(i);
        match tokens.get(i).map(|t| t.kind) {
            Some(TokenKind::QuotedIdent) if t.len() >= 2 => t.get(1..t.len() - 1).unwrap_or(t).to_owned(),
            _ => t.to_owned(),
        }
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_word = |i: usize, word: &str| {
            tokens.get(i).is_some_and(|t| t.kind == TokenKind::Word) && text(i).eq_ignore_ascii_case(word)
        };
        let (name, at) = if is_word(i, "constraint") { (Some(unquote(i + 1)), i + 2) } else { (None, i) };
        if is_word(at, "check") && text(at + 1) == "(" {
            // The matching parenthesis.
            let mut depth = 0usize;
            let mut end = None;
            for (j, token) in tokens.iter().enumerate().skip(at + 1) {
                match (token.kind, token.text(create_table)) {
                    (TokenKind::Punct, "(") => depth += 1,
                    (TokenKind::Punct, ")") => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { break };
            let (Some(open), Some(close)) = (tokens.get(at + 1), tokens.get(end)) else { break };
            let expression = create_table.get(open.range.end..close.range.start).unwrap_or("").trim();
            found.push((name, expression.split_whitespace().collect::<Vec<_>>().join(" ")));
            i = end + 1;
        } else {
            i = at.max(i + 1);
        }
    }
    found
}

#[async_trait]
impl Inspect for SqliteDriver {
    async fn snapshot(&self) -> Result<Schema, Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(snapshot_sql()))
            .fetch_all(self.pool())
            .await
            .map_err(|e| db("reading the SQLite schema (sqlite_master)", e))?;
        let mut schema = Schema::new();
        for row in rows {
            let read = |i: usize| row.try_get::<Option<String>, _>(i).map_err(|e| db("reading the SQLite schema", e));
            let (Some(kind), Some(name)) = (read(0)?, read(1)?) else { continue };
            if kind == "create table" {
                for (constraint, expression) in check_constraints(&read(2)?.unwrap_or_default()) {
                    let key = match constraint {
                        Some(constraint) => format!("{name}.{constraint}"),
                        None => format!("{name}.check ({expression})"),
                    };
                    schema.insert(ObjectKind::Constraint, key, format!("check ({expression})"));
                }
                continue;
            }
            let kind = match kind.as_str() {
                "table" => ObjectKind::Table,
                "column" => ObjectKind::Column,
                "index" => ObjectKind::Index,
                "constraint" => ObjectKind::Constraint,
                "view" => ObjectKind::View,
                _ => ObjectKind::Trigger,
            };
            schema.insert(kind, name, read(2)?.unwrap_or_default());
        }
        Ok(schema)
    }
}

#[cfg(test)]
mod tests {
    use super::check_constraints;

    #[test]
    fn checks_are_taken_out_of_create_table() {
        let sql = "CREATE TABLE \"t\" (id INTEGER PRIMARY KEY, \
                   points INTEGER CHECK (points >= 0) DEFAULT 0, \
                   note TEXT DEFAULT 'CHECK (not this)', -- CHECK (nor this)
                   [check] TEXT, \
                   CONSTRAINT \"positive id\" CHECK (id > 0 AND (id < 10 OR id IN (20, 30))), \
                   CONSTRAINT pk_like UNIQUE (note), \
                   CHECK(length(note)   <  100))";
        assert_eq!(
            check_constraints(sql),
            vec![
                (None, "points >= 0".to_owned()),
                (Some("positive id".to_owned()), "id > 0 AND (id < 10 OR id IN (20, 30))".to_owned()),
                (None, "length(note) < 100".to_owned()),
            ]
        );
        assert!(check_constraints("CREATE TABLE t (id INTEGER)").is_empty());
        assert!(check_constraints("CREATE TABLE t (x CHECK (x > ").is_empty(), "unbalanced: nothing, no panic");
    }
}
