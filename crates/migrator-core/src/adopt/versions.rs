//! Each tool's version mapped to the migrator version of the same file: one function per
//! tool, each the single place its rule lives.
//!
//! diesel's and Flyway's are the loader's own mappings for those layouts, so a file and its
//! history row get the same version by construction; the others keep the tool's number. Each
//! answers the reason when a version has no migrator form.

use crate::version::Version;

use super::record::ForeignVersion;
use super::tool::ForeignTool;

/// The migrator version of `version` as `tool` recorded it.
pub fn map(tool: ForeignTool, version: &ForeignVersion) -> Result<Version, String> {
    match (tool, version) {
        (ForeignTool::Sqlx, ForeignVersion::Int(v)) => sqlx(*v),
        (ForeignTool::Refinery, ForeignVersion::Int(v)) => refinery(*v),
        (ForeignTool::GolangMigrate, ForeignVersion::Int(v)) => golang_migrate(*v),
        (ForeignTool::Goose, ForeignVersion::Int(v)) => goose(*v),
        (ForeignTool::Diesel, ForeignVersion::Text(v)) => diesel(v),
        (ForeignTool::Flyway, ForeignVersion::Text(v)) => flyway(v),
        (_, ForeignVersion::Int(v)) => positive(*v),
        (_, ForeignVersion::Text(v)) => v.trim().parse::<i64>().map_err(|_| not_a_number(v)).and_then(positive),
    }
}

fn positive(v: i64) -> Result<Version, String> {
    Version::new(v).ok_or_else(|| format!("{v} is not positive, and migrator versions are positive integers"))
}

fn not_a_number(v: &str) -> String {
    format!("`{v}` is not a whole number")
}

/// sqlx: `{version}_{description}.sql`, an `i64`: the same number.
pub fn sqlx(version: i64) -> Result<Version, String> {
    positive(version)
}

/// refinery: `V{version}__{name}.sql`, an `i32` (`i64` with `int8-versions`): the same number.
pub fn refinery(version: i64) -> Result<Version, String> {
    positive(version)
}

/// golang-migrate: `{version}_{title}.up.sql`, an unsigned integer: the same number.
pub fn golang_migrate(version: i64) -> Result<Version, String> {
    positive(version)
}

/// goose: `{version}_{name}.sql`, an `int64`: the same number.
pub fn goose(version: i64) -> Result<Version, String> {
    positive(version)
}

/// diesel: the version as its history table stores it (dashes dropped) or as its directory
/// name writes it: the loader's own mapping ([`crate::source::diesel_version`]), so a file and
/// its history row get the same version by construction.
pub fn diesel(version: &str) -> Result<Version, String> {
    crate::source::diesel_version(version.trim())
}

/// Flyway: `V{version}__{description}.sql`: the loader's own mapping
/// ([`crate::source::flyway_version`]; `1.0` is 1, `1.1` has no migrator form).
pub fn flyway(version: &str) -> Result<Version, String> {
    crate::source::flyway_version(version.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: i64) -> Version {
        Version::new(n).unwrap()
    }

    #[test]
    fn each_tool_maps_its_versions() {
        let table: &[(ForeignTool, ForeignVersion, Result<i64, &str>)] = &[
            (ForeignTool::Sqlx, ForeignVersion::Int(20240101120000), Ok(20240101120000)),
            (ForeignTool::Sqlx, ForeignVersion::Int(0), Err("not positive")),
            (ForeignTool::Refinery, ForeignVersion::Int(3), Ok(3)),
            (ForeignTool::GolangMigrate, ForeignVersion::Int(7), Ok(7)),
            (ForeignTool::Goose, ForeignVersion::Int(20230102030405), Ok(20230102030405)),
            (ForeignTool::Diesel, ForeignVersion::Text("2019-02-26-002946".into()), Ok(201902260029460000)),
            (ForeignTool::Diesel, ForeignVersion::Text("20190226002946".into()), Ok(201902260029460000)),
            (ForeignTool::Diesel, ForeignVersion::Text("2026-06-03-220228-0000".into()), Ok(202606032202280000)),
            (ForeignTool::Diesel, ForeignVersion::Text("202606032202280001".into()), Ok(202606032202280001)),
            (ForeignTool::Diesel, ForeignVersion::Text("00000000000000".into()), Ok(1)),
            (ForeignTool::Diesel, ForeignVersion::Text("2026-06-03-220228-000a".into()), Ok(202606032202280010)),
            (ForeignTool::Diesel, ForeignVersion::Text("2019-02-26".into()), Err("is not a diesel version")),
            (ForeignTool::Diesel, ForeignVersion::Text("v1".into()), Err("is not a diesel version")),
            (ForeignTool::Flyway, ForeignVersion::Text("1".into()), Ok(1)),
            (ForeignTool::Flyway, ForeignVersion::Text("007".into()), Ok(7)),
            (ForeignTool::Flyway, ForeignVersion::Text("1.0".into()), Ok(1)),
            (ForeignTool::Flyway, ForeignVersion::Text("1.1".into()), Err("1.1")),
            (ForeignTool::Flyway, ForeignVersion::Text("99999999999999999999".into()), Err("99999999999999999999")),
        ];
        for (tool, version, expected) in table {
            let got = map(*tool, version);
            match (expected, &got) {
                (Ok(n), Ok(got)) => assert_eq!(got, &v(*n), "{tool} {version}"),
                (Err(part), Err(got)) => assert!(got.contains(part), "{tool} {version}: {got}"),
                _ => panic!("{tool} {version}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn diesel_order_is_kept() {
        let mut versions = ["2026-06-03-220228-0000", "2019-02-26-002946", "00000000000000", "2019-02-26-002947"]
            .map(|s| s.replace('-', ""));
        versions.sort();
        let mapped: Vec<Version> = versions.iter().map(|s| diesel(s).unwrap()).collect();
        assert!(mapped.windows(2).all(|w| w[0] < w[1]), "{mapped:?}");
    }
}
