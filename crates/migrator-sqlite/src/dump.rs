//! The database as SQL statements, for `migrator squash` ([`Dump`]).
//!
//! SQLite keeps each object's `CREATE` statement in `sqlite_master`, as written and as later
//! `ALTER TABLE`s edited it, so the dump is those statements: tables first (in creation
//! order), then every table's rows (`quote()` renders each value as the literal that reads
//! back the same, blobs as `X'…'`), then the `AUTOINCREMENT` positions, then indexes, views
//! and triggers. Foreign keys need no ordering: a migration runs with enforcement off and
//! checks them before commit. Virtual tables (FTS, R*Tree) are refused: their shadow tables
//! are SQLite's to create.

use async_trait::async_trait;
use migrator_core::Error;
use migrator_core::driver::{DUMP_INSTEAD, Dump, DumpOptions, SchemaDump};
use sqlx::{AssertSqlSafe, Row, SqliteConnection};

use crate::conn::db;
use crate::driver::SqliteDriver;

/// Every object of the schema but migrator's own and SQLite's internal ones, in creation
/// order: (type, name, table, sql).
const OBJECTS: &str = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL \
     AND name NOT LIKE '\\_migrator\\_%' ESCAPE '\\' AND tbl_name NOT LIKE '\\_migrator\\_%' ESCAPE '\\' \
     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid";

/// Rows per `INSERT` statement.
const ROWS_PER_INSERT: usize = 100;

/// `"name"`, with inner quotes doubled.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct Object {
    kind: String,
    name: String,
    sql: String,
}

#[async_trait]
impl Dump for SqliteDriver {
    async fn dump(&self, options: &DumpOptions) -> Result<SchemaDump, Error> {
        let mut conn = self.pool().acquire().await.map_err(|e| db("connecting to dump the database", e))?;
        let objects: Vec<Object> = sqlx::query(OBJECTS)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| db("reading the SQLite schema (sqlite_master)", e))?
            .iter()
            .map(|row| {
                Ok(Object {
                    kind: row.try_get(0)?,
                    name: row.try_get(1)?,
                    sql: row.try_get::<String, _>(3)?.trim().trim_end_matches(';').trim_end().to_owned(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| db("reading the SQLite schema", e))?;
        if let Some(virtual_table) =
            objects.iter().find(|o| o.kind == "table" && o.sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL"))
        {
            return Err(Error::Unsupported {
                database: "SQLite",
                what: format!("write virtual table {} into a squash migration", virtual_table.name),
                instead: DUMP_INSTEAD.to_owned(),
            });
        }
        let mut statements: Vec<String> = Vec::new();
        let tables: Vec<&Object> = objects.iter().filter(|o| o.kind == "table").collect();
        statements.extend(tables.iter().map(|t| t.sql.clone()));
        // A data load is refused before it is read.
        let mut counts = Vec::with_capacity(tables.len());
        for table in &tables {
            let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {}", quoted(&table.name))))
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| db(format!("counting the rows of table {}", table.name), e))?;
            counts.push((table.name.as_str(), u64::try_from(count).unwrap_or_default()));
        }
        options.check_rows("SQLite", counts)?;
        let mut rows = 0;
        for table in &tables {
            rows += table_rows(&mut conn, table, &mut statements).await?;
        }
        statements.extend(autoincrement(&mut conn).await?);
        for kind in ["index", "view", "trigger"] {
            statements.extend(objects.iter().filter(|o| o.kind == kind).map(|o| o.sql.clone()));
        }
        let left_out = vec![
            "the database's settings (PRAGMA user_version, application_id, page size, journal mode) and ANALYZE \
             statistics"
                .to_owned(),
        ];
        Ok(SchemaDump::new(statements, rows, left_out))
    }
}

/// The `INSERT`s of one table's rows, in rowid (or primary key) order, generated columns left
/// out; returns the number of rows.
async fn table_rows(conn: &mut SqliteConnection, table: &Object, out: &mut Vec<String>) -> Result<usize, Error> {
    let context = || format!("dumping the rows of table {}", table.name);
    let columns: Vec<(String, i64)> =
        sqlx::query("SELECT name, pk FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid")
            .bind(&table.name)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| db(context(), e))?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| db(context(), e))?;
    if columns.is_empty() {
        return Ok(0);
    }
    let without_rowid = table.sql.to_ascii_uppercase().replace(char::is_whitespace, "").contains("WITHOUTROWID");
    let order = if without_rowid {
        let mut keys: Vec<&(String, i64)> = columns.iter().filter(|(_, pk)| *pk > 0).collect();
        keys.sort_by_key(|(_, pk)| *pk);
        keys.iter().map(|(name, _)| quoted(name)).collect::<Vec<_>>().join(", ")
    } else {
        "rowid".to_owned()
    };
    let values =
        columns.iter().map(|(name, _)| format!("quote({})", quoted(name))).collect::<Vec<_>>().join(" || ', ' || ");
    let select = format!("SELECT '(' || {values} || ')' FROM {} ORDER BY {order}", quoted(&table.name));
    let tuples: Vec<String> =
        sqlx::query_scalar(AssertSqlSafe(select)).fetch_all(&mut *conn).await.map_err(|e| db(context(), e))?;
    let list = columns.iter().map(|(name, _)| quoted(name)).collect::<Vec<_>>().join(", ");
    for chunk in tuples.chunks(ROWS_PER_INSERT) {
        out.push(format!("INSERT INTO {} ({list}) VALUES\n{}", quoted(&table.name), chunk.join(",\n")));
    }
    Ok(tuples.len())
}

/// Where each `AUTOINCREMENT` table's counter stands (it can be past the largest key, after
/// deletes), as statements that set it.
async fn autoincrement(conn: &mut SqliteConnection) -> Result<Vec<String>, Error> {
    let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| db("reading sqlite_sequence", e))?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT name, seq FROM sqlite_sequence WHERE name NOT LIKE '\\_migrator\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db("reading sqlite_sequence", e))?;
    Ok(rows
        .iter()
        .flat_map(|(name, seq)| {
            let name = name.replace('\'', "''");
            [
                format!("DELETE FROM sqlite_sequence WHERE name = '{name}'"),
                format!("INSERT INTO sqlite_sequence (name, seq) VALUES ('{name}', {seq})"),
            ]
        })
        .collect())
}
