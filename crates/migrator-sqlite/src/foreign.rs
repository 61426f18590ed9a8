//! Reading another tool's history table for `adopt`: each column cast to the type its kind
//! reads as, nothing decided here.

use migrator_core::Error;
use migrator_core::driver::{Cell, CellKind, ForeignRow, ForeignTable};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Row};

use crate::conn::db;

/// The `SELECT` reading every column of `table` under its own name.
fn select(table: &ForeignTable) -> String {
    let list: Vec<String> = table
        .columns()
        .iter()
        .map(|c| {
            let name = format!("\"{}\"", c.name);
            // Qualified: SQLite reads an unknown double-quoted name as a string literal, which
            // would make any table of that name look like the tool's.
            let column = format!("t.{name}");
            match c.kind {
                // Booleans are stored as 0/1.
                CellKind::Int | CellKind::Bool => format!("CAST({column} AS INTEGER) AS {name}"),
                CellKind::Text => format!("CAST({column} AS TEXT) AS {name}"),
                _ => format!("{column} AS {name}"),
            }
        })
        .collect();
    format!("SELECT {} FROM {} AS t", list.join(", "), table.qualified('"'))
}

fn cell(row: &SqliteRow, name: &str, kind: CellKind) -> Result<Cell, sqlx::Error> {
    Ok(match kind {
        CellKind::Int | CellKind::Bool => row.try_get::<Option<i64>, _>(name)?.map_or(Cell::Null, Cell::Int),
        CellKind::Text => row.try_get::<Option<String>, _>(name)?.map_or(Cell::Null, Cell::Text),
        _ => row.try_get::<Option<Vec<u8>>, _>(name)?.map_or(Cell::Null, Cell::Bytes),
    })
}

/// Every row of `table`, or `None` when it does not exist.
pub(crate) async fn read_foreign(
    conn: &mut SqliteConnection,
    table: &ForeignTable,
) -> Result<Option<Vec<ForeignRow>>, Error> {
    let context = || format!("reading {}'s history table {table}", table.tool);
    let master = match &table.schema {
        Some(schema) => format!("{}.sqlite_master", schema.quoted('"')),
        None => "sqlite_master".to_owned(),
    };
    let exists: i64 =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {master} WHERE type = 'table' AND name = ?1")))
            .bind(table.name.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| db(context(), e))?;
    if exists == 0 {
        return Ok(None);
    }
    let rows = sqlx::query(AssertSqlSafe(select(table))).fetch_all(&mut *conn).await.map_err(|e| db(context(), e))?;
    let rows = rows
        .iter()
        .map(|row| ForeignRow::read(table, |c| Ok(cell(row, c.name, c.kind)?)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::database(context(), e))?;
    Ok(Some(rows))
}

/// Which of `names` are tables of the main database.
pub(crate) async fn tables_present(conn: &mut SqliteConnection, names: &[&'static str]) -> Result<Vec<String>, Error> {
    let list = names.iter().map(|n| format!("'{}'", n.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({list}) ORDER BY name"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db("looking for other tools' history tables", e))
}
