//! Table sizes from the server's statistics, for `migrator plan --explain`.

use migrator_core::Error;
use sqlx::Row;

/// [`migrator_core::driver::Driver::table_sizes`]: `pg_class.reltuples` (the planner's
/// estimate; `-1` or `0` before the first `ANALYZE` reads as unknown) and the total relation
/// size, for each name that resolves to a table in the search path.
pub(crate) async fn table_sizes(
    pool: &sqlx::PgPool,
    tables: &[String],
) -> Result<Vec<migrator_core::driver::TableSize>, Error> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT n, CASE WHEN c.reltuples > 0 OR c.relpages > 0 THEN c.reltuples::int8 END, \
         pg_total_relation_size(c.oid)::int8 \
         FROM unnest($1::text[]) AS n JOIN pg_class c ON c.oid = to_regclass(n)",
    )
    .bind(tables)
    .fetch_all(pool)
    .await
    .map_err(|e| crate::conn::db("reading table sizes", e))?;
    rows.iter()
        .map(|row| {
            Ok(migrator_core::driver::TableSize {
                name: row.try_get(0).map_err(|e| crate::conn::db("reading table sizes", e))?,
                estimated_rows: row.try_get(1).map_err(|e| crate::conn::db("reading table sizes", e))?,
                bytes: row.try_get(2).map_err(|e| crate::conn::db("reading table sizes", e))?,
            })
        })
        .collect()
}
