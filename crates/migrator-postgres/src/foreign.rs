//! Reading another tool's history table for `adopt`: each column cast to the type its kind
//! reads as, nothing decided here.

use migrator_core::Error;
use migrator_core::driver::{Cell, CellKind, ForeignRow, ForeignTable};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use crate::conn::{code, db};

/// SQLSTATE of "relation does not exist" and "schema does not exist".
const UNDEFINED_TABLE: &str = "42P01";
const INVALID_SCHEMA: &str = "3F000";

/// The `SELECT` reading every column of `table` under its own name.
fn select(table: &ForeignTable) -> String {
    let list: Vec<String> = table
        .columns()
        .iter()
        .map(|c| {
            let name = format!("\"{}\"", c.name);
            match c.kind {
                // A boolean casts to INTEGER (not BIGINT); so does an integer stored as 0/1.
                CellKind::Bool => format!("CAST({name} AS INTEGER)::int8 AS {name}"),
                CellKind::Int => format!("CAST({name} AS BIGINT) AS {name}"),
                CellKind::Text => format!("CAST({name} AS TEXT) AS {name}"),
                _ => name,
            }
        })
        .collect();
    format!("SELECT {} FROM {}", list.join(", "), table.qualified('"'))
}

fn cell(row: &PgRow, name: &str, kind: CellKind) -> Result<Cell, sqlx::Error> {
    Ok(match kind {
        CellKind::Int | CellKind::Bool => row.try_get::<Option<i64>, _>(name)?.map_or(Cell::Null, Cell::Int),
        CellKind::Text => row.try_get::<Option<String>, _>(name)?.map_or(Cell::Null, Cell::Text),
        _ => row.try_get::<Option<Vec<u8>>, _>(name)?.map_or(Cell::Null, Cell::Bytes),
    })
}

/// Every row of `table`, or `None` when it (or its schema) does not exist.
pub(crate) async fn read_foreign(
    conn: &mut PgConnection,
    table: &ForeignTable,
) -> Result<Option<Vec<ForeignRow>>, Error> {
    let context = || format!("reading {}'s history table {table}", table.tool);
    let rows = match sqlx::query(AssertSqlSafe(select(table))).fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(e) if matches!(code(&e), Some(UNDEFINED_TABLE | INVALID_SCHEMA)) => return Ok(None),
        Err(e) => return Err(db(context(), e)),
    };
    let rows = rows
        .iter()
        .map(|row| ForeignRow::read(table, |c| Ok(cell(row, c.name, c.kind)?)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::database(context(), e))?;
    Ok(Some(rows))
}

/// Which of `names` are tables of the current schema, in one round trip (a simple query:
/// a prepared one would cost a second).
pub(crate) async fn tables_present(conn: &mut PgConnection, names: &[&'static str]) -> Result<Vec<String>, Error> {
    let list = names.iter().map(|n| format!("'{}'", n.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT relname::text FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = \
         current_schema()) AND relkind IN ('r', 'p') AND relname IN ({list}) ORDER BY relname"
    );
    let rows = sqlx::raw_sql(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db("looking for other tools' history tables", e))?;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()
        .map_err(|e| db("looking for other tools' history tables", e))
}
