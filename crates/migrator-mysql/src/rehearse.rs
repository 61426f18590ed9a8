//! Rehearsal on MySQL and MariaDB ([`migrator_core::rehearse::Rehearse`]): tables filled
//! from MariaDB's sequence engine (`seq_1_to_N`), and a watch that runs single-row writes and
//! reads on connections of its own while a sampler reads the process list on another.
//!
//! - Row `i` of every table gets values derived from `i` by type (`i` for numbers, `i` as
//!   text for strings, a timestamp `i` seconds after 2020-01-01, the first member of an
//!   `ENUM`, …), so keys are unique and a foreign key column's value `i` finds row `i` of its
//!   parent, filled first. `AUTO_INCREMENT`, generated and defaulted columns take their
//!   default. A `NOT NULL` column of a type it cannot generate is refused by name. The
//!   sequence engine is MariaDB's: on MySQL, filling fails with the server's message.
//! - The workload updates one row at a time (`UPDATE t SET k = k WHERE k = 'n'` on a
//!   single-column primary key, else `LIMIT 1`) and reads one, round-robin over the tables,
//!   each operation timed, as text-protocol statements.
//! - The sampler reads, every 10 ms, which workload statements wait and for what
//!   (`information_schema.PROCESSLIST`'s state, such as "Waiting for table metadata lock",
//!   or an InnoDB row lock wait from `INNODB_TRX`), and, when MariaDB's `METADATA_LOCK_INFO`
//!   plugin is installed, the metadata locks other sessions hold on the watched tables.
//!   Without the plugin, held locks cannot be seen: the report says so.
//! - A rewrite is a changed InnoDB table id (`INNODB_SYS_TABLES`, MySQL 8's
//!   `INNODB_TABLES`): a table rebuilt by `ALGORITHM=COPY` or an `INPLACE` rebuild gets a new
//!   one; `INSTANT` changes and added secondary indexes keep it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_core::Error;
use migrator_core::plan::{Measured, fill_order};
use migrator_core::rehearse::{
    FINISH_WAIT, Filled, Latencies, Rehearse, Sampler, Seen, Session, Statement, Stop, Watch, Workload, joined,
    measured, rewritten, run_sampler, run_workload,
};
use sqlx::{Connection, MySqlConnection, Row};

use crate::conn::db;
use crate::driver::MySqlDriver;

/// What cannot be seen without the plugin.
const NO_PLUGIN: &str = "the metadata locks the migration held cannot be seen: MariaDB's METADATA_LOCK_INFO plugin \
                         is not installed (INSTALL SONAME 'metadata_lock_info' shows them); waits are seen in the \
                         process list";

/// `name` as a MySQL identifier.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A name as a migration writes it (`db.t`, `` `t` ``) reduced to the table's name.
fn bare(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim_matches('`').replace("``", "`")
}

/// The tables of the connection's database among `names`, each once, in order.
async fn resolve(conn: &mut MySqlConnection, names: &[String]) -> Result<Vec<String>, Error> {
    let mut tables: Vec<String> = Vec::new();
    for name in names {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND \
             TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'",
        )
        .bind(bare(name))
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db("resolving the tables to rehearse on", e))?;
        if let Some(table) = found
            && !tables.contains(&table)
        {
            tables.push(table);
        }
    }
    Ok(tables)
}

/// The expression generating row `seq`'s value of a column of `data_type` (`COLUMN_TYPE`
/// is `column_type`), or `None` when there is none.
fn value(data_type: &str, column_type: &str) -> Option<String> {
    let unsigned = column_type.contains("unsigned");
    Some(match data_type {
        "tinyint" if unsigned => "(seq % 255)".to_owned(),
        "tinyint" => "(seq % 127)".to_owned(),
        "smallint" => "(seq % 32767)".to_owned(),
        "mediumint" => "(seq % 8388607)".to_owned(),
        "int" | "integer" | "bigint" | "decimal" | "numeric" | "float" | "double" | "real" => "seq".to_owned(),
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "binary" | "varbinary" | "tinyblob"
        | "blob" | "mediumblob" | "longblob" => "CAST(seq AS CHAR)".to_owned(),
        "date" => "(DATE '2020-01-01' + INTERVAL (seq % 3650) DAY)".to_owned(),
        "datetime" | "timestamp" => "(TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND)".to_owned(),
        "time" => "SEC_TO_TIME(seq % 86400)".to_owned(),
        "year" => "(2000 + seq % 100)".to_owned(),
        "enum" | "set" => "1".to_owned(),
        "bit" => "(seq % 2)".to_owned(),
        "json" | "longtext json" => "JSON_OBJECT('i', seq)".to_owned(),
        "uuid" => "UUID()".to_owned(),
        _ => return None,
    })
}

async fn fill_statement(conn: &mut MySqlConnection, table: &str, rows: u64) -> Result<String, Error> {
    let columns = sqlx::query(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(COLUMN_TYPE AS CHAR), IS_NULLABLE = 'YES', \
         EXTRA LIKE '%auto_increment%' OR EXTRA LIKE '%GENERATED%' \
         OR (COLUMN_DEFAULT IS NOT NULL AND COLUMN_DEFAULT <> 'NULL') \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db(format!("reading the columns of {table}"), e))?;
    let (mut names, mut values) = (Vec::new(), Vec::new());
    for row in &columns {
        let get = |e| db(format!("reading the columns of {table}"), e);
        let name: String = row.try_get(0).map_err(get)?;
        let data_type: String = row.try_get(1).map_err(get)?;
        let column_type: String = row.try_get(2).map_err(get)?;
        let nullable: bool = row.try_get::<i64, _>(3).map_err(get)? != 0;
        let defaulted: bool = row.try_get::<i64, _>(4).map_err(get)? != 0;
        if defaulted {
            continue;
        }
        match value(&data_type.to_lowercase(), &column_type.to_lowercase()) {
            Some(expression) => {
                names.push(ident(&name));
                values.push(expression);
            }
            None if nullable => {}
            None => {
                return Err(Error::Unsupported {
                    database: "MySQL",
                    what: format!("generate values of type {column_type} for the NOT NULL column {name} of {table}"),
                    instead: "give the column a default, or rehearse with a history that fills the table".to_owned(),
                });
            }
        }
    }
    Ok(format!(
        "INSERT IGNORE INTO {} ({}) SELECT {} FROM seq_1_to_{rows}",
        ident(table),
        names.join(", "),
        values.join(", ")
    ))
}

async fn count(conn: &mut MySqlConnection, table: &str) -> Result<u64, Error> {
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {}", ident(table))))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| db(format!("counting the rows of {table}"), e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn connect(driver: &MySqlDriver, what: &str) -> Result<MySqlConnection, Error> {
    MySqlConnection::connect_with(&driver.pool().connect_options())
        .await
        .map_err(|e| db(format!("connecting the rehearsal's {what}"), e))
}

async fn fill(driver: &MySqlDriver, names: &[String], rows: u64) -> Result<Vec<Filled>, Error> {
    let mut conn = connect(driver, "filler").await?;
    let mut tables = resolve(&mut conn, names).await?;
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    let mut next = tables.clone();
    while let Some(child) = next.pop() {
        let referenced: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT CAST(REFERENCED_TABLE_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL \
             AND REFERENCED_TABLE_SCHEMA = DATABASE()",
        )
        .bind(&child)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| db(format!("reading the foreign keys of {child}"), e))?;
        for parent in referenced {
            if !tables.contains(&parent) {
                tables.push(parent.clone());
                next.push(parent.clone());
            }
            parents.entry(child.clone()).or_default().push(parent);
        }
    }
    let graph: Vec<(String, Vec<String>)> =
        tables.iter().map(|t| (t.clone(), parents.get(t).cloned().unwrap_or_default())).collect();
    let mut filled = Vec::new();
    for table in fill_order(&graph) {
        let insert = fill_statement(&mut conn, &table, rows).await?;
        // Counted before (cheap on the empty tables a rehearsal usually fills), not after.
        let before = count(&mut conn, &table).await?;
        let inserted = sqlx::raw_sql(sqlx::AssertSqlSafe(insert))
            .execute(&mut conn)
            .await
            .map_err(|e| db(format!("filling {table} with {rows} generated rows (from MariaDB's sequence engine)"), e))?
            .rows_affected();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE TABLE {}", ident(&table))))
            .execute(&mut conn)
            .await
            .map_err(|e| db(format!("analyzing {table}"), e))?;
        filled.push(Filled { rows: before + inserted, table });
    }
    let _ = conn.close().await;
    Ok(filled)
}

/// A workload's connection.
struct WorkloadSession(MySqlConnection);

#[async_trait]
impl Session for WorkloadSession {
    async fn run(&mut self, sql: String) {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut self.0).await;
    }

    async fn pause(&mut self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The watched table a statement's text names (the first found), else the first table.
fn table_of(info: &str, tables: &[String]) -> String {
    let lower = info.to_lowercase();
    tables.iter().find(|t| lower.contains(&t.to_lowercase())).or_else(|| tables.first()).cloned().unwrap_or_default()
}

/// The lock sampler: which workload statements wait (`waits`), and, with the plugin
/// (`held` is `Some`), the metadata locks others hold on the watched `tables`.
struct LockSampler {
    conn: MySqlConnection,
    tables: Vec<String>,
    waits: String,
    held: Option<String>,
}

impl LockSampler {
    fn new(conn: MySqlConnection, tables: Vec<String>, workload: &[u64], plugin: bool) -> Self {
        let ids = workload.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let waits = format!(
            "SELECT CAST(IF(t.trx_state = 'LOCK WAIT', 'row lock wait', p.STATE) AS CHAR), CAST(COALESCE(p.INFO, '') AS CHAR) \
             FROM information_schema.PROCESSLIST p LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID \
             WHERE p.ID IN ({ids}) AND (p.STATE LIKE 'Waiting for%' OR t.trx_state = 'LOCK WAIT')"
        );
        let held = plugin.then(|| {
            format!(
                "SELECT CAST(LOCK_MODE AS CHAR), CAST(TABLE_NAME AS CHAR) FROM information_schema.METADATA_LOCK_INFO \
                 WHERE TABLE_SCHEMA = DATABASE() AND THREAD_ID NOT IN ({ids}) AND THREAD_ID <> CONNECTION_ID()"
            )
        });
        LockSampler { conn, tables, waits, held }
    }
}

#[async_trait]
impl Sampler for LockSampler {
    async fn sample(&mut self, seen: &mut Seen) {
        let now = Instant::now();
        let tables = &self.tables;
        if let Ok(rows) = sqlx::query(sqlx::AssertSqlSafe(self.waits.clone())).fetch_all(&mut self.conn).await {
            let waiting = rows.iter().filter_map(|row| {
                let (Ok(state), Ok(info)) = (row.try_get::<String, _>(0), row.try_get::<String, _>(1)) else {
                    return None;
                };
                Some((table_of(&info, tables), state))
            });
            seen.waiting.sample(waiting, now);
        }
        if let Some(held) = &self.held
            && let Ok(rows) = sqlx::query(sqlx::AssertSqlSafe(held.clone())).fetch_all(&mut self.conn).await
        {
            let held = rows.iter().filter_map(|row| {
                let (Ok(mode), Ok(table)) = (row.try_get::<String, _>(0), row.try_get::<String, _>(1)) else {
                    return None;
                };
                tables.contains(&table).then_some((table, mode))
            });
            seen.held.sample(held, now);
        }
    }

    async fn pause(&mut self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The InnoDB table id of each of `tables` that exists.
async fn table_ids(conn: &mut MySqlConnection, tables: &[String]) -> Result<HashMap<String, i64>, Error> {
    let mut ids = HashMap::new();
    for table in tables {
        let mut found = None;
        for view in ["INNODB_SYS_TABLES", "INNODB_TABLES"] {
            let query = format!(
                "SELECT CAST(TABLE_ID AS SIGNED) FROM information_schema.{view} WHERE NAME = CONCAT(DATABASE(), '/', ?)"
            );
            match sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(query)).bind(table).fetch_optional(&mut *conn).await
            {
                Ok(id) => {
                    found = id;
                    break;
                }
                Err(_) if view == "INNODB_SYS_TABLES" => continue,
                Err(e) => return Err(db("reading the InnoDB table ids", e)),
            }
        }
        if let Some(id) = found {
            ids.insert(table.clone(), id);
        }
    }
    Ok(ids)
}

type Task<T> = tokio::task::JoinHandle<(MySqlConnection, T)>;

struct MySqlWatch {
    conn: MySqlConnection,
    tables: Vec<String>,
    before: HashMap<String, i64>,
    plugin: bool,
    stop: Stop,
    writer: Task<Latencies>,
    reader: Task<Latencies>,
    sampler: Task<Seen>,
}

async fn id(conn: &mut MySqlConnection) -> Result<u64, Error> {
    sqlx::query_scalar("SELECT CONNECTION_ID()").fetch_one(&mut *conn).await.map_err(|e| db("starting the workload", e))
}

/// A workload loop on `conn` of its own, until `stop`.
fn spawn_workload(conn: MySqlConnection, statements: Vec<Statement>, stop: &Stop) -> Task<Latencies> {
    let stop = stop.flag();
    let mut session = WorkloadSession(conn);
    tokio::spawn(async move {
        let latencies = run_workload(&mut session, &statements, &stop).await;
        (session.0, latencies)
    })
}

async fn watch(driver: &MySqlDriver, names: &[String]) -> Result<Box<dyn Watch>, Error> {
    let mut conn = connect(driver, "watch").await?;
    let tables = resolve(&mut conn, names).await?;
    let before = table_ids(&mut conn, &tables).await?;
    let plugin: bool = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND \
         PLUGIN_STATUS = 'ACTIVE'",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| db("looking for the METADATA_LOCK_INFO plugin", e))?
        > 0;
    let mut workload = Workload::default();
    for table in &tables {
        let key: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| db(format!("reading the primary key of {table}"), e))?;
        let first: Option<String> = sqlx::query_scalar(
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND \
             TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION LIMIT 1",
        )
        .bind(table)
        .fetch_optional(&mut conn)
        .await
        .map_err(|e| db(format!("reading the columns of {table}"), e))?;
        let key = match key.as_slice() {
            [key] => Some(ident(key)),
            _ => None,
        };
        workload.add(&ident(table), key.as_deref(), first.as_deref().map(ident).as_deref(), "LIMIT 1");
    }
    let mut writer = connect(driver, "workload").await?;
    let mut reader = connect(driver, "workload").await?;
    let sampler = connect(driver, "lock sampler").await?;
    let workload_ids = vec![id(&mut writer).await?, id(&mut reader).await?];
    let stop = Stop::default();
    let mut sampler = LockSampler::new(sampler, tables.clone(), &workload_ids, plugin);
    let flag = stop.flag();
    Ok(Box::new(MySqlWatch {
        conn,
        before,
        plugin,
        writer: spawn_workload(writer, workload.writes, &stop),
        reader: spawn_workload(reader, workload.reads, &stop),
        sampler: tokio::spawn(async move {
            let seen = run_sampler(&mut sampler, &flag).await;
            (sampler.conn, seen)
        }),
        tables,
        stop,
    }))
}

/// A task's result, or an error when it does not end within [`FINISH_WAIT`] or panicked.
async fn join<T>(task: Task<T>, what: &str) -> Result<T, Error> {
    let (conn, value) = joined(tokio::time::timeout(FINISH_WAIT, task).await.ok(), what)?;
    let _ = conn.close().await;
    Ok(value)
}

#[async_trait]
impl Watch for MySqlWatch {
    async fn finish(self: Box<Self>) -> Result<Measured, Error> {
        let MySqlWatch { mut conn, tables, before, plugin, stop, writer, reader, sampler } = *self;
        stop.stop();
        let writes = join(writer, "workload").await?;
        let reads = join(reader, "workload").await?;
        let seen = join(sampler, "lock sampler").await?;
        let after = table_ids(&mut conn, &tables).await?;
        let mut measured = measured(writes, reads, seen);
        measured.rewrote = rewritten(tables.iter().map(|t| (t, t.as_str())), &before, &after);
        for table in tables.iter().filter(|t| after.contains_key(*t)) {
            measured.rows += count(&mut conn, table).await?;
        }
        if !plugin && !tables.is_empty() {
            measured.notes.push(NO_PLUGIN.to_owned());
        }
        let _ = conn.close().await;
        Ok(measured)
    }
}

#[async_trait]
impl Rehearse for MySqlDriver {
    async fn fill(&self, tables: &[String], rows: u64) -> Result<Vec<Filled>, Error> {
        fill(self, tables, rows).await
    }

    async fn watch(&self, tables: &[String]) -> Result<Box<dyn Watch>, Error> {
        watch(self, tables).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_type() {
        // (DATA_TYPE, COLUMN_TYPE) -> expression
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("bigint", "bigint(20)", Some("seq")),
            ("tinyint", "tinyint(3) unsigned", Some("(seq % 255)")),
            ("varchar", "varchar(50)", Some("CAST(seq AS CHAR)")),
            ("enum", "enum('new','paid')", Some("1")),
            ("datetime", "datetime", Some("(TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND)")),
            ("geometry", "geometry", None),
        ];
        for (data_type, column_type, expected) in cases {
            assert_eq!(value(data_type, column_type).as_deref(), *expected, "{data_type}");
        }
        assert_eq!(bare("app.`orders`"), "orders");
        assert_eq!(table_of("UPDATE `orders` SET", &["users".into(), "orders".into()]), "orders");
    }
}
