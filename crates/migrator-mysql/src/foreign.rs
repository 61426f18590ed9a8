//! Reading another tool's history table for `adopt`: each column cast to the type its kind
//! reads as, nothing decided here.

use migrator_core::Error;
use migrator_core::driver::{Cell, CellKind, ForeignRow, ForeignTable};
use sqlx::mysql::MySqlRow;
use sqlx::{AssertSqlSafe, MySqlConnection, Row};

use crate::conn::{db, number};

/// ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR.
const NO_SUCH_TABLE: u16 = 1146;
const BAD_DB: u16 = 1049;

/// The `SELECT` reading every column of `table` under its own name.
fn select(table: &ForeignTable) -> String {
    let list: Vec<String> = table
        .columns()
        .iter()
        .map(|c| {
            let name = format!("`{}`", c.name);
            match c.kind {
                // BOOLEAN is TINYINT(1).
                CellKind::Int | CellKind::Bool => format!("CAST({name} AS SIGNED) AS {name}"),
                CellKind::Text => format!("CAST({name} AS CHAR) AS {name}"),
                _ => format!("CAST({name} AS BINARY) AS {name}"),
            }
        })
        .collect();
    format!("SELECT {} FROM {}", list.join(", "), table.qualified('`'))
}

fn cell(row: &MySqlRow, name: &str, kind: CellKind) -> Result<Cell, sqlx::Error> {
    Ok(match kind {
        CellKind::Int | CellKind::Bool => row.try_get::<Option<i64>, _>(name)?.map_or(Cell::Null, Cell::Int),
        CellKind::Text => row.try_get::<Option<String>, _>(name)?.map_or(Cell::Null, Cell::Text),
        _ => row.try_get::<Option<Vec<u8>>, _>(name)?.map_or(Cell::Null, Cell::Bytes),
    })
}

/// Every row of `table`, or `None` when it (or its database) does not exist.
pub(crate) async fn read_foreign(
    conn: &mut MySqlConnection,
    table: &ForeignTable,
) -> Result<Option<Vec<ForeignRow>>, Error> {
    let context = || format!("reading {}'s history table {table}", table.tool);
    let rows = match sqlx::query(AssertSqlSafe(select(table))).fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(e) if matches!(number(&e), Some(NO_SUCH_TABLE | BAD_DB)) => return Ok(None),
        Err(e) => return Err(db(context(), e)),
    };
    let rows = rows
        .iter()
        .map(|row| ForeignRow::read(table, |c| Ok(cell(row, c.name, c.kind)?)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::database(context(), e))?;
    Ok(Some(rows))
}

/// Which of `names` are tables of the current database, in one round trip (a text query: a
/// prepared one would cost a second).
pub(crate) async fn tables_present(conn: &mut MySqlConnection, names: &[&'static str]) -> Result<Vec<String>, Error> {
    let list = names.iter().map(|n| format!("'{}'", n.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() \
         AND table_name IN ({list}) ORDER BY table_name"
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
