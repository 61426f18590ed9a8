//! What the rows of another tool's table mean in that tool's own terms, before any decision:
//! which versions it applied, which it left failed, rolled back or marked as "everything up
//! to here", and in what order it applied them.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Error;

use super::checksums::hex;
use super::table::ForeignRow;
use super::tool::ForeignTool;

/// A version as the other tool recorded it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ForeignVersion {
    /// An integer version (sqlx, refinery, golang-migrate, goose).
    Int(i64),
    /// A text version (diesel, Flyway).
    Text(String),
}

impl fmt::Display for ForeignVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForeignVersion::Int(n) => write!(f, "{n}"),
            ForeignVersion::Text(t) => f.write_str(t),
        }
    }
}

/// What a version's record says, in the tool's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordKind {
    /// The tool applied this version.
    Applied,
    /// Every migration at or below this version counts as applied: golang-migrate's current
    /// version, a Flyway baseline.
    UpTo,
    /// The tool left it failed or part-way: sqlx's and Flyway's `success = false`,
    /// golang-migrate's `dirty = true`.
    Failed,
    /// goose recorded it as not applied (its latest row has `is_applied = false`).
    RolledBack,
    /// Flyway no longer counts it (a `DELETE` row written by `repair`, or an undo).
    Removed,
    /// A row that records no migration of migrator's and deserves a word (a Flyway
    /// repeatable migration), with what it is.
    Ignored(String),
    /// A row the tool writes for its own bookkeeping (goose's version 0, written with its
    /// table; Flyway's record of creating the schema): no migration, nothing to say.
    Bookkeeping,
}

/// One version of another tool's history, as that tool sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRecord {
    /// The version as recorded.
    pub version: ForeignVersion,
    /// Its description or name as recorded (sqlx, refinery, Flyway).
    pub description: Option<String>,
    /// What the record says.
    pub kind: RecordKind,
    /// The checksum the tool recorded, in a canonical text form: lowercase hex of sqlx's
    /// SHA-384, refinery's `u64` and Flyway's signed 32-bit CRC in decimal.
    pub checksum: Option<String>,
    /// Its place in the order the tool applied migrations (Flyway's `installed_rank`, goose's
    /// `id`; the version order for the others).
    pub order: i64,
}

/// Reads the rows of `tool`'s table `table` (for messages) into one record per version, in
/// the tool's order of application. A row that cannot be read is an error naming the table.
pub fn decode(tool: ForeignTool, table: &str, rows: &[ForeignRow]) -> Result<Vec<ForeignRecord>, Error> {
    let bad = |message: String| Error::ForeignHistory { tool: tool.name(), table: table.to_owned(), message };
    let int =
        |row: &ForeignRow, column: &str| row.int(column).ok_or_else(|| bad(format!("{column} is not an integer")));
    let mut records = match tool {
        ForeignTool::Sqlx => rows
            .iter()
            .map(|row| {
                let version = int(row, "version")?;
                let success =
                    row.bool("success").ok_or_else(|| bad(format!("success of version {version} is NULL")))?;
                Ok(ForeignRecord {
                    version: ForeignVersion::Int(version),
                    description: row.text("description"),
                    kind: if success { RecordKind::Applied } else { RecordKind::Failed },
                    checksum: row.bytes("checksum").map(hex),
                    order: version,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?,
        ForeignTool::Diesel => {
            let mut versions = rows
                .iter()
                .map(|row| row.text("version").ok_or_else(|| bad("version is NULL".to_owned())))
                .collect::<Result<Vec<_>, Error>>()?;
            // diesel orders its versions as strings.
            versions.sort();
            (0..)
                .zip(versions)
                .map(|(order, version)| ForeignRecord {
                    version: ForeignVersion::Text(version),
                    description: None,
                    kind: RecordKind::Applied,
                    checksum: None,
                    order,
                })
                .collect()
        }
        ForeignTool::Refinery => rows
            .iter()
            .map(|row| {
                let version = int(row, "version")?;
                let checksum = match row.text("checksum") {
                    Some(text) => Some(text.trim().parse::<u64>().map(|n| n.to_string()).map_err(|_| {
                        bad(format!("checksum of version {version} is `{text}`, not refinery's 64-bit checksum"))
                    })?),
                    None => None,
                };
                Ok(ForeignRecord {
                    version: ForeignVersion::Int(version),
                    description: row.text("name"),
                    kind: RecordKind::Applied,
                    checksum,
                    order: version,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?,
        ForeignTool::GolangMigrate => {
            if rows.len() > 1 {
                return Err(bad(format!(
                    "it has {} rows; golang-migrate keeps exactly one (its current version): check that this is \
                     golang-migrate's table",
                    rows.len()
                )));
            }
            rows.iter()
                .map(|row| {
                    let version = int(row, "version")?;
                    let dirty = row.bool("dirty").ok_or_else(|| bad("dirty is NULL".to_owned()))?;
                    Ok(ForeignRecord {
                        version: ForeignVersion::Int(version),
                        description: None,
                        kind: if dirty { RecordKind::Failed } else { RecordKind::UpTo },
                        checksum: None,
                        order: version,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?
        }
        ForeignTool::Goose => {
            // goose appends a row per up (and, before it deleted rows on down, per down): the
            // latest row of a version says what it is, as goose itself reads it.
            let mut latest: BTreeMap<i64, (i64, bool)> = BTreeMap::new();
            for row in rows {
                let id = int(row, "id")?;
                let version = int(row, "version_id")?;
                let applied = row.bool("is_applied").ok_or_else(|| bad(format!("is_applied of row {id} is NULL")))?;
                let entry = latest.entry(version).or_insert((id, applied));
                if id >= entry.0 {
                    *entry = (id, applied);
                }
            }
            latest
                .into_iter()
                .map(|(version, (id, applied))| ForeignRecord {
                    version: ForeignVersion::Int(version),
                    description: None,
                    kind: match (version, applied) {
                        (0, _) => RecordKind::Bookkeeping,
                        (_, true) => RecordKind::Applied,
                        (_, false) => RecordKind::RolledBack,
                    },
                    checksum: None,
                    order: id,
                })
                .collect()
        }
        ForeignTool::Flyway => flyway(rows, &bad)?,
    };
    records.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.version.cmp(&b.version)));
    Ok(records)
}

/// Flyway: rows in `installed_rank` order; the latest row of a version says what it is.
fn flyway(rows: &[ForeignRow], bad: &dyn Fn(String) -> Error) -> Result<Vec<ForeignRecord>, Error> {
    let mut by_version: BTreeMap<String, ForeignRecord> = BTreeMap::new();
    let mut others = Vec::new();
    for row in rows {
        let rank = row.int("installed_rank").ok_or_else(|| bad("installed_rank is not an integer".to_owned()))?;
        let kind_text = row.text("type").unwrap_or_default().to_ascii_uppercase();
        let success = row.bool("success").ok_or_else(|| bad(format!("success of installed_rank {rank} is NULL")))?;
        let script = row.text("script").unwrap_or_default();
        let description = row.text("description");
        let Some(version) = row.text("version").filter(|v| !v.trim().is_empty()) else {
            others.push(ForeignRecord {
                version: ForeignVersion::Text(script.clone()),
                description,
                kind: RecordKind::Ignored(format!(
                    "repeatable migration {script}: migrator adopts versioned migrations only"
                )),
                checksum: None,
                order: rank,
            });
            continue;
        };
        let kind = if kind_text == "SCHEMA" {
            RecordKind::Bookkeeping
        } else if kind_text == "DELETE" || kind_text.starts_with("UNDO") {
            RecordKind::Removed
        } else if !success {
            RecordKind::Failed
        } else if kind_text.contains("BASELINE") {
            RecordKind::UpTo
        } else {
            RecordKind::Applied
        };
        let checksum = row.int("checksum").map(|c| (c as i32).to_string());
        let record =
            ForeignRecord { version: ForeignVersion::Text(version.clone()), description, kind, checksum, order: rank };
        match by_version.get(&version) {
            Some(existing) if existing.order > rank => {}
            _ => {
                by_version.insert(version, record);
            }
        }
    }
    Ok(by_version.into_values().chain(others).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::table::Cell;

    fn rows(tool: ForeignTool, rows: Vec<Vec<Cell>>) -> Vec<ForeignRow> {
        rows.into_iter().map(|cells| ForeignRow::from_cells(tool, cells)).collect()
    }

    fn kinds(records: &[ForeignRecord]) -> Vec<(String, RecordKind)> {
        records.iter().map(|r| (r.version.to_string(), r.kind.clone())).collect()
    }

    #[test]
    fn each_tool_reads_as_that_tool_does() {
        use Cell::{Bool, Bytes, Int, Null, Text};
        let sqlx = rows(
            ForeignTool::Sqlx,
            vec![
                vec![Int(2), Text("b".into()), Int(0), Bytes(vec![0xab, 0x01])],
                vec![Int(1), Text("a".into()), Bool(true), Bytes(vec![0xff])],
            ],
        );
        let records = decode(ForeignTool::Sqlx, "_sqlx_migrations", &sqlx).unwrap();
        assert_eq!(kinds(&records), vec![("1".into(), RecordKind::Applied), ("2".into(), RecordKind::Failed)]);
        assert_eq!(records[1].checksum.as_deref(), Some("ab01"));

        let diesel =
            rows(ForeignTool::Diesel, vec![vec![Text("20200101000000".into())], vec![Text("00000000000000".into())]]);
        let records = decode(ForeignTool::Diesel, "t", &diesel).unwrap();
        assert_eq!(records[0].version, ForeignVersion::Text("00000000000000".into()), "string order");

        let refinery =
            rows(ForeignTool::Refinery, vec![vec![Int(1), Text("init".into()), Text(" 18446744073709551615".into())]]);
        let records = decode(ForeignTool::Refinery, "t", &refinery).unwrap();
        assert_eq!(records[0].checksum.as_deref(), Some("18446744073709551615"));
        let bad = rows(ForeignTool::Refinery, vec![vec![Int(1), Text("init".into()), Text("x".into())]]);
        let e = decode(ForeignTool::Refinery, "refinery_schema_history", &bad).unwrap_err();
        assert!(e.to_string().contains("refinery_schema_history") && e.to_string().contains("`x`"), "{e}");

        let golang = rows(ForeignTool::GolangMigrate, vec![vec![Int(5), Bool(false)]]);
        assert_eq!(
            kinds(&decode(ForeignTool::GolangMigrate, "t", &golang).unwrap()),
            vec![("5".into(), RecordKind::UpTo)]
        );
        let dirty = rows(ForeignTool::GolangMigrate, vec![vec![Int(5), Int(1)]]);
        assert_eq!(
            kinds(&decode(ForeignTool::GolangMigrate, "t", &dirty).unwrap()),
            vec![("5".into(), RecordKind::Failed)]
        );
        let two = rows(ForeignTool::GolangMigrate, vec![vec![Int(5), Int(0)], vec![Int(6), Int(0)]]);
        assert!(decode(ForeignTool::GolangMigrate, "t", &two).unwrap_err().to_string().contains("exactly one"));

        // goose: version 0 first, a version rolled back and applied again, one rolled back.
        let goose = rows(
            ForeignTool::Goose,
            vec![
                vec![Int(1), Int(0), Bool(true)],
                vec![Int(2), Int(1), Bool(true)],
                vec![Int(3), Int(2), Bool(true)],
                vec![Int(4), Int(2), Bool(false)],
                vec![Int(5), Int(2), Bool(true)],
                vec![Int(6), Int(3), Bool(true)],
                vec![Int(7), Int(3), Bool(false)],
            ],
        );
        let records = decode(ForeignTool::Goose, "t", &goose).unwrap();
        assert_eq!(
            kinds(&records)[1..],
            [
                ("1".to_owned(), RecordKind::Applied),
                ("2".to_owned(), RecordKind::Applied),
                ("3".to_owned(), RecordKind::RolledBack)
            ]
        );
        assert!(matches!(records[0].kind, RecordKind::Bookkeeping));

        let flyway = rows(
            ForeignTool::Flyway,
            vec![
                vec![
                    Int(1),
                    Text("0".into()),
                    Text("<< Flyway Schema Creation >>".into()),
                    Text("SCHEMA".into()),
                    Text("\"public\"".into()),
                    Null,
                    Bool(true),
                ],
                vec![
                    Int(2),
                    Text("1".into()),
                    Text("<< Flyway Baseline >>".into()),
                    Text("BASELINE".into()),
                    Text("<< Flyway Baseline >>".into()),
                    Null,
                    Bool(true),
                ],
                vec![
                    Int(3),
                    Text("2".into()),
                    Text("b".into()),
                    Text("SQL".into()),
                    Text("V2__b.sql".into()),
                    Int(-5),
                    Bool(true),
                ],
                vec![
                    Int(4),
                    Null,
                    Text("view".into()),
                    Text("SQL".into()),
                    Text("R__view.sql".into()),
                    Int(9),
                    Bool(true),
                ],
                vec![
                    Int(5),
                    Text("3".into()),
                    Text("c".into()),
                    Text("SQL".into()),
                    Text("V3__c.sql".into()),
                    Int(1),
                    Int(0),
                ],
                vec![
                    Int(6),
                    Text("2".into()),
                    Text("b".into()),
                    Text("DELETE".into()),
                    Text("V2__b.sql".into()),
                    Null,
                    Bool(true),
                ],
            ],
        );
        let records = decode(ForeignTool::Flyway, "t", &flyway).unwrap();
        assert_eq!(
            kinds(&records).into_iter().map(|(v, k)| (v, std::mem::discriminant(&k))).collect::<Vec<_>>(),
            vec![
                ("0".to_owned(), std::mem::discriminant(&RecordKind::Bookkeeping)),
                ("1".to_owned(), std::mem::discriminant(&RecordKind::UpTo)),
                ("R__view.sql".to_owned(), std::mem::discriminant(&RecordKind::Ignored(String::new()))),
                ("3".to_owned(), std::mem::discriminant(&RecordKind::Failed)),
                ("2".to_owned(), std::mem::discriminant(&RecordKind::Removed)),
            ]
        );
    }
}
