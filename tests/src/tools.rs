//! Other migration tools' histories, for the adoption tests: applied by the real tool where
//! it runs here (sqlx's migrator; refinery's runner, through a sqlx connection), or written
//! exactly as the tool writes them (diesel, golang-migrate, goose, Flyway), each table's
//! shape taken from the tool's source as cited at each function.

use std::path::Path;

use async_trait::async_trait;
use migrator_core::Dialect;
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::backend::Backend;

/// The tools that run here, on a backend's own connections.
#[async_trait]
pub trait Tools: Backend {
    /// Runs sqlx's migrator (`sqlx::migrate::Migrator`) on the directory: it reads
    /// `{version}_{description}.up.sql` (and `.down.sql`) as migrator does, and records
    /// `_sqlx_migrations` with its own checksums.
    async fn run_sqlx(&self, dir: &Path) -> Result<(), String>;

    /// Runs refinery's runner on `(version, name, sql)` migrations (`V{version}__{name}`),
    /// which writes `refinery_schema_history` with refinery's checksums.
    async fn run_refinery(&self, migrations: &[(i64, &str, &str)]) -> Result<(), String>;
}

fn refinery_migrations(migrations: &[(i64, &str, &str)]) -> Vec<refinery_core::Migration> {
    migrations
        .iter()
        .map(|(version, name, sql)| refinery_core::Migration::unapplied(&format!("V{version}__{name}"), sql).unwrap())
        .collect()
}

/// Whether a migration's SQL has refinery's `refinery:noTransaction` annotation: a line of two
/// or more dashes, at most one blank, and the annotation, alone on the line (refinery's
/// `^[-]{2,}[\s]?(refinery:noTransaction)$`).
pub fn refinery_no_transaction(sql: &str) -> bool {
    sql.lines().any(|line| {
        let rest = line.trim_start_matches('-');
        let rest = rest.strip_prefix(char::is_whitespace).unwrap_or(rest);
        line.len() - line.trim_start_matches('-').len() >= 2 && rest == "refinery:noTransaction"
    })
}

/// refinery's async driver traits on a sqlx connection: what refinery's own drivers do
/// (each `execute` one transaction; `query` reads `version, name, applied_on, checksum`),
/// written for sqlx so refinery's runner decides and writes everything else.
///
/// refinery 0.10.1, the release used here, runs every migration in a transaction; the
/// `-- refinery:noTransaction` annotation (which migrator's refinery layout reads) comes from
/// refinery's source after that release. The adapter honours it as that source means it: a
/// migration so marked (the first query refinery's runner hands over, its history row the
/// second) runs outside a transaction, so that refinery can apply `CREATE INDEX CONCURRENTLY`.
macro_rules! refinery_on_sqlx {
    ($adapter:ident, $conn:ty) => {
        /// refinery's runner on a sqlx connection.
        #[derive(Debug)]
        pub struct $adapter(pub $conn);

        impl AsyncTransaction for $adapter {
            type Error = sqlx::Error;

            async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
                &'a mut self,
                queries: T,
            ) -> Result<usize, Self::Error> {
                let queries: Vec<String> = queries.map(str::to_owned).collect();
                if queries.first().is_some_and(|sql| refinery_no_transaction(sql)) {
                    for query in &queries {
                        sqlx::raw_sql(AssertSqlSafe(query.clone())).execute(&mut self.0).await?;
                    }
                    return Ok(queries.len());
                }
                let mut tx = self.0.begin().await?;
                for query in &queries {
                    sqlx::raw_sql(AssertSqlSafe(query.clone())).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(queries.len())
            }
        }

        impl AsyncQuery<Vec<refinery_core::Migration>> for $adapter {
            async fn query<'a>(&'a mut self, query: &'a str) -> Result<Vec<refinery_core::Migration>, Self::Error> {
                let rows = sqlx::query(AssertSqlSafe(query.to_owned())).fetch_all(&mut self.0).await?;
                rows.iter()
                    .map(|row| {
                        let checksum: String = row.try_get(3)?;
                        Ok(refinery_core::Migration::applied(
                            row.try_get(0)?,
                            row.try_get(1)?,
                            time::OffsetDateTime::UNIX_EPOCH,
                            checksum.parse().unwrap(),
                        ))
                    })
                    .collect()
            }
        }

        impl AsyncMigrate for $adapter {}
    };
}

refinery_on_sqlx!(RefineryPg, sqlx::PgConnection);
refinery_on_sqlx!(RefineryMy, sqlx::MySqlConnection);
refinery_on_sqlx!(RefineryLite, sqlx::SqliteConnection);

macro_rules! tools_for {
    ($backend:ty, $adapter:ident) => {
        #[async_trait]
        impl Tools for $backend {
            async fn run_sqlx(&self, dir: &Path) -> Result<(), String> {
                let migrator = sqlx::migrate::Migrator::new(dir).await.map_err(|e| e.to_string())?;
                migrator.run(&self.pool).await.map_err(|e| e.to_string())
            }

            async fn run_refinery(&self, migrations: &[(i64, &str, &str)]) -> Result<(), String> {
                let conn = self.pool.acquire().await.map_err(|e| e.to_string())?.detach();
                let mut adapter = $adapter(conn);
                refinery_core::Runner::new(&refinery_migrations(migrations))
                    .run_async(&mut adapter)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    };
}

tools_for!(crate::postgres::Pg, RefineryPg);
tools_for!(crate::mysql::My, RefineryMy);
tools_for!(crate::sqlite::Lite, RefineryLite);

/// diesel's `__diesel_schema_migrations`, as diesel's `setup_migration_table.sql` creates it
/// (the same text on every backend), with one row per applied version in diesel's stored
/// form (the directory's version without dashes, `migrations_internals::version_from_string`).
pub async fn write_diesel<B: Backend>(db: &B, versions: &[&str]) {
    db.exec(
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\n       version VARCHAR(50) PRIMARY KEY NOT NULL,\n       \
         run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n",
    )
    .await;
    for version in versions {
        db.exec(&format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{}')", version.replace('-', "")))
            .await;
    }
}

/// golang-migrate's `schema_migrations`, as its drivers create it (`ensureVersionTable` in
/// `database/postgres`, `database/mysql`, `database/sqlite3`), holding its one row: the
/// current version and the dirty flag (`SetVersion`).
pub async fn write_golang_migrate<B: Backend>(db: &B, version: i64, dirty: bool) {
    let create = match B::DIALECT {
        Dialect::Postgres => {
            "CREATE TABLE IF NOT EXISTS \"schema_migrations\" (version bigint not null primary key, dirty boolean not null)"
        }
        Dialect::MySql => {
            "CREATE TABLE `schema_migrations` (version bigint not null primary key, dirty boolean not null)"
        }
        _ => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);\n  CREATE UNIQUE INDEX IF NOT \
             EXISTS version_unique ON schema_migrations (version);"
        }
    };
    db.exec(create).await;
    set_golang_migrate(db, version, dirty).await;
}

/// golang-migrate's `SetVersion`: the table emptied, then its one row.
pub async fn set_golang_migrate<B: Backend>(db: &B, version: i64, dirty: bool) {
    db.exec("DELETE FROM schema_migrations").await;
    db.exec(&format!("INSERT INTO schema_migrations (version, dirty) VALUES ({version}, {})", boolean::<B>(dirty)))
        .await;
}

fn boolean<B: Backend>(value: bool) -> &'static str {
    match (B::DIALECT, value) {
        (Dialect::Postgres, true) => "true",
        (Dialect::Postgres, false) => "false",
        (_, true) => "1",
        (_, false) => "0",
    }
}

/// goose's `goose_db_version`, as goose creates it (`internal/dialect/dialectquery`,
/// `CreateTable` of `postgres.go`, `mysql.go`, `sqlite3.go`), with its first row (version 0)
/// and one row per `(version, is_applied)` in order (`InsertVersion`).
pub async fn write_goose<B: Backend>(db: &B, rows: &[(i64, bool)]) {
    let create = match B::DIALECT {
        Dialect::Postgres | Dialect::MySql => {
            "CREATE TABLE goose_db_version (\n\t\tid serial NOT NULL,\n\t\tversion_id bigint NOT NULL,\n\t\tis_applied \
             boolean NOT NULL,\n\t\ttstamp timestamp NULL default now(),\n\t\tPRIMARY KEY(id)\n\t)"
        }
        _ => {
            "CREATE TABLE goose_db_version (\n\t\tid INTEGER PRIMARY KEY AUTOINCREMENT,\n\t\tversion_id INTEGER NOT \
             NULL,\n\t\tis_applied INTEGER NOT NULL,\n\t\ttstamp TIMESTAMP DEFAULT (datetime('now'))\n\t)"
        }
    };
    db.exec(create).await;
    for (version, applied) in std::iter::once(&(0, true)).chain(rows) {
        db.exec(&format!(
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES ({version}, {})",
            boolean::<B>(*applied)
        ))
        .await;
    }
}

/// One row of `flyway_schema_history`.
#[derive(Debug, Clone)]
pub struct FlywayRow<'a> {
    /// `version` (`None` for a repeatable migration).
    pub version: Option<&'a str>,
    /// `description`.
    pub description: &'a str,
    /// `type`: `SQL`, `BASELINE`, `DELETE`, …
    pub kind: &'a str,
    /// `script`: the file name.
    pub script: &'a str,
    /// `checksum`.
    pub checksum: Option<i32>,
    /// `success`.
    pub success: bool,
}

/// Flyway's `flyway_schema_history`, as Flyway creates it (its `createMetaDataTable.sql` for
/// PostgreSQL, MySQL and SQLite: `installed_rank` the primary key, the `success` index), with
/// the rows in `installed_rank` order.
pub async fn write_flyway<B: Backend>(db: &B, rows: &[FlywayRow<'_>]) {
    let create = match B::DIALECT {
        Dialect::Postgres => {
            "CREATE TABLE \"flyway_schema_history\" (\n    \"installed_rank\" INT NOT NULL,\n    \"version\" \
             VARCHAR(50),\n    \"description\" VARCHAR(200) NOT NULL,\n    \"type\" VARCHAR(20) NOT NULL,\n    \"script\" \
             VARCHAR(1000) NOT NULL,\n    \"checksum\" INTEGER,\n    \"installed_by\" VARCHAR(100) NOT NULL,\n    \
             \"installed_on\" TIMESTAMP NOT NULL DEFAULT now(),\n    \"execution_time\" INTEGER NOT NULL,\n    \
             \"success\" BOOLEAN NOT NULL\n);\nALTER TABLE \"flyway_schema_history\" ADD CONSTRAINT \
             \"flyway_schema_history_pk\" PRIMARY KEY (\"installed_rank\");\nCREATE INDEX \"flyway_schema_history_s_idx\" \
             ON \"flyway_schema_history\" (\"success\");"
        }
        Dialect::MySql => {
            "CREATE TABLE `flyway_schema_history` (\n    `installed_rank` INT NOT NULL,\n    `version` VARCHAR(50),\n    \
             `description` VARCHAR(200) NOT NULL,\n    `type` VARCHAR(20) NOT NULL,\n    `script` VARCHAR(1000) NOT \
             NULL,\n    `checksum` INT,\n    `installed_by` VARCHAR(100) NOT NULL,\n    `installed_on` TIMESTAMP NOT NULL \
             DEFAULT CURRENT_TIMESTAMP,\n    `execution_time` INT NOT NULL,\n    `success` BOOL NOT NULL,\n    CONSTRAINT \
             `flyway_schema_history_pk` PRIMARY KEY (`installed_rank`)\n) ENGINE=InnoDB;\nCREATE INDEX \
             `flyway_schema_history_s_idx` ON `flyway_schema_history` (`success`);"
        }
        _ => {
            "CREATE TABLE \"flyway_schema_history\" (\n    \"installed_rank\" INT NOT NULL PRIMARY KEY,\n    \"version\" \
             VARCHAR(50),\n    \"description\" VARCHAR(200) NOT NULL,\n    \"type\" VARCHAR(20) NOT NULL,\n    \"script\" \
             VARCHAR(1000) NOT NULL,\n    \"checksum\" INT,\n    \"installed_by\" VARCHAR(100) NOT NULL,\n    \
             \"installed_on\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),\n    \"execution_time\" INT \
             NOT NULL,\n    \"success\" BOOLEAN NOT NULL\n);\nCREATE INDEX \"flyway_schema_history_s_idx\" ON \
             \"flyway_schema_history\" (\"success\");"
        }
    };
    db.exec(create).await;
    for (rank, row) in (1..).zip(rows) {
        let text = |t: Option<&str>| t.map_or("NULL".to_owned(), |t| format!("'{}'", t.replace('\'', "''")));
        db.exec(&format!(
            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, \
             installed_by, execution_time, success) VALUES ({rank}, {}, {}, {}, {}, {}, 'flyway', 12, {})",
            text(row.version),
            text(Some(row.description)),
            text(Some(row.kind)),
            text(Some(row.script)),
            row.checksum.map_or("NULL".to_owned(), |c| c.to_string()),
            boolean::<B>(row.success),
        ))
        .await;
    }
}

/// Flyway's checksum of a file, computed here the way Flyway's `ChecksumCalculator` does
/// (independently of migrator's): a reader's lines (split at `\r\n`, `\n`, `\r`), a BOM
/// removed from the first, each line's UTF-8 bytes into one `java.util.zip.CRC32`, the
/// value cast to `int`.
pub fn flyway_checksum(file: &str) -> i32 {
    let mut crc = crc32fast::Hasher::new();
    let mut rest = file;
    let mut first = true;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let mut line = &rest[..end];
        if first {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
            first = false;
        }
        crc.update(line.as_bytes());
        rest = &rest[end..];
        rest = rest
            .strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\r'))
            .or_else(|| rest.strip_prefix('\n'))
            .unwrap_or(rest);
    }
    crc.finalize() as i32
}
