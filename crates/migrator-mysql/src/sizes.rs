//! Table sizes from the server's statistics, for `migrator plan --explain`.

use migrator_core::Error;
use sqlx::Row;

/// [`migrator_core::driver::Driver::table_sizes`]: `information_schema.TABLES` (InnoDB's
/// estimate of the rows, data and index length) for the names in the connection's database
/// (a qualified name is looked up by its table part).
pub(crate) async fn table_sizes(
    pool: &sqlx::MySqlPool,
    tables: &[String],
) -> Result<Vec<migrator_core::driver::TableSize>, Error> {
    let mut sizes = Vec::new();
    for name in tables {
        let table = name.rsplit('.').next().unwrap_or(name).trim_matches('`');
        let row = sqlx::query(
            "SELECT CAST(TABLE_ROWS AS SIGNED), CAST(DATA_LENGTH + INDEX_LENGTH AS SIGNED) \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        )
        .bind(table)
        .fetch_optional(pool)
        .await
        .map_err(|e| crate::conn::db("reading table sizes", e))?;
        if let Some(row) = row {
            sizes.push(migrator_core::driver::TableSize {
                name: name.clone(),
                estimated_rows: row.try_get(0).map_err(|e| crate::conn::db("reading table sizes", e))?,
                bytes: row.try_get(1).map_err(|e| crate::conn::db("reading table sizes", e))?,
            });
        }
    }
    Ok(sizes)
}
