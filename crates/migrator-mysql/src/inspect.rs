//! Schema snapshots from MySQL's `information_schema`, for reversibility and drift checks.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use migrator_core::Error;
use migrator_core::driver::Inspect;
use migrator_core::schema::{ObjectKind, Schema};
use sqlx::{AssertSqlSafe, Either, Row};

use crate::driver::MySqlDriver;

const NOT_OURS: &str = "NOT LIKE '\\_migrator\\_%'";

/// One query per object kind, each returning (name, definition); all sent as one message.
fn queries() -> Vec<(ObjectKind, String)> {
    vec![
        (
            ObjectKind::Table,
            format!(
                "SELECT TABLE_NAME, CONCAT('table ', IFNULL(ENGINE, ''), ' ', IFNULL(TABLE_COLLATION, '')) \
                 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
                 AND TABLE_NAME {NOT_OURS}"
            ),
        ),
        (
            ObjectKind::Column,
            format!(
                "SELECT CONCAT(c.TABLE_NAME, '.', c.COLUMN_NAME), CONCAT(c.COLUMN_TYPE, \
                 IF(c.IS_NULLABLE = 'NO', ' not null', ''), IFNULL(CONCAT(' default ', c.COLUMN_DEFAULT), ''), \
                 IF(c.EXTRA <> '', CONCAT(' ', c.EXTRA), ''), \
                 IF(IFNULL(c.GENERATION_EXPRESSION, '') <> '', CONCAT(' as (', c.GENERATION_EXPRESSION, ')'), ''), \
                 IFNULL(CONCAT(' collate ', c.COLLATION_NAME), '')) \
                 FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
                 ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE' \
                 WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME {NOT_OURS}"
            ),
        ),
        (
            ObjectKind::Index,
            format!(
                "SELECT CONCAT(TABLE_NAME, '.', INDEX_NAME), CONCAT(IF(NON_UNIQUE = 0, 'unique ', ''), INDEX_TYPE, ' (', \
                 GROUP_CONCAT(CONCAT(IFNULL(COLUMN_NAME, '(expression)'), IFNULL(CONCAT('(', SUB_PART, ')'), '')) \
                 ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')') \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME {NOT_OURS} \
                 GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE, INDEX_TYPE"
            ),
        ),
        (
            ObjectKind::Constraint,
            "SELECT CONCAT(k.TABLE_NAME, '.', k.CONSTRAINT_NAME), CONCAT('foreign key (', \
             GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), ') references ', \
             k.REFERENCED_TABLE_NAME, ' (', GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), \
             ') on update ', r.UPDATE_RULE, ' on delete ', r.DELETE_RULE) \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
             ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME, r.UPDATE_RULE, r.DELETE_RULE"
                .to_owned(),
        ),
        (
            ObjectKind::Constraint,
            "SELECT CONCAT(tc.TABLE_NAME, '.', tc.CONSTRAINT_NAME), CONCAT('check ', cc.CHECK_CLAUSE) \
             FROM information_schema.TABLE_CONSTRAINTS tc JOIN information_schema.CHECK_CONSTRAINTS cc \
             ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
             WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            ObjectKind::View,
            "SELECT TABLE_NAME, CONCAT('view: ', REPLACE(VIEW_DEFINITION, CONCAT('`', DATABASE(), '`.'), '')) \
             FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            ObjectKind::Function,
            "SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME), CONCAT(IFNULL(DTD_IDENTIFIER, ''), ' ', \
             IFNULL(ROUTINE_DEFINITION, '')) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            ObjectKind::Trigger,
            "SELECT CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME), CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ', \
             ACTION_STATEMENT) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
                .to_owned(),
        ),
    ]
}

#[async_trait]
impl Inspect for MySqlDriver {
    async fn snapshot(&self) -> Result<Schema, Error> {
        let queries = queries();
        let sql = queries.iter().map(|(_, q)| q.as_str()).collect::<Vec<_>>().join(";\n");
        let mut conn = self.pool().acquire().await.map_err(|e| Error::database("connecting to MySQL", e))?;
        let mut schema = Schema::new();
        let mut index = 0;
        let mut stream = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_many(&mut *conn);
        while let Some(item) = stream.try_next().await.map_err(|e| Error::database("reading information_schema", e))? {
            match item {
                Either::Left(_) => index += 1,
                Either::Right(row) => {
                    let Some((kind, _)) = queries.get(index) else { continue };
                    let name: Option<String> = text(&row, 0)?;
                    let definition: Option<String> = text(&row, 1)?;
                    if let Some(name) = name {
                        schema.insert(*kind, name, definition.unwrap_or_default());
                    }
                }
            }
        }
        Ok(schema)
    }
}

/// A text column that information_schema may declare as binary (`VIEW_DEFINITION` is
/// `longtext` on MariaDB, a blob-ish type on some MySQL versions).
fn text(row: &sqlx::mysql::MySqlRow, index: usize) -> Result<Option<String>, Error> {
    match row.try_get::<Option<String>, _>(index) {
        Ok(value) => Ok(value),
        Err(_) => {
            let bytes: Option<Vec<u8>> =
                row.try_get(index).map_err(|e| Error::database("reading information_schema", e))?;
            Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
        }
    }
}
