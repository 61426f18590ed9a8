//! Schema snapshots from `sqlite_master` and the table-valued PRAGMA functions, for
//! reversibility and drift checks.
//!
//! Tables (with `WITHOUT ROWID` and `STRICT`), columns (`pragma_table_xinfo`: type, NOT NULL,
//! default, primary-key position, generated), indexes (`pragma_index_list` and
//! `pragma_index_xinfo`: uniqueness, key columns in order, direction, partial), foreign keys
//! (`pragma_foreign_key_list`), views and triggers (their SQL). CHECK constraints and
//! collations are not in the snapshot: SQLite keeps them only inside the text of `CREATE
//! TABLE`, which `ALTER TABLE ADD COLUMN` edits, so comparing that text would report
//! differences between equal tables.

use async_trait::async_trait;
use migrator_core::schema::{ObjectKind, Schema};
use migrator_core::{Error, Inspect};
use sqlx::Row;

use crate::driver::{SqliteDriver, db};

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
    AND tbl_name NOT LIKE '\\_migrator\\_%' ESCAPE '\\'"
    )
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
