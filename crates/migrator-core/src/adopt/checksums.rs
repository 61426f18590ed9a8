//! The checksums other tools record, computed the way each tool computes them, over the
//! exact text that tool read from the file. Each returns the canonical text form that
//! [`super::ForeignRecord::checksum`] holds, so a recorded and a computed checksum compare
//! as strings.
//!
//! - **sqlx**: SHA-384 of the file's bytes as read (no normalization at all: a CRLF checkout
//!   or a BOM changes it). sqlx 0.9 can be configured to ignore some characters
//!   (`ignored-chars`); such histories need [`super::Adopt::accept_changed_files`].
//! - **refinery**: SipHash-1-3 (zero keys) of the migration's name, version and SQL, hashed
//!   with Rust's `Hash` encoding and the version's width (`i32`, or `i64` with refinery's
//!   `int8-versions`): computed by `refinery-core` itself (feature `refinery`), so it is the
//!   same function, not a re-derivation.
//! - **Flyway**: CRC-32 (IEEE) over the file read line by line (`BufferedReader.readLine`
//!   splits at `\n`, `\r\n` and `\r` and drops the terminator), a byte order mark removed from
//!   the first line, each line's UTF-8 bytes fed in turn; stored as a signed 32-bit integer.
//!   Line endings and empty lines therefore never change it.

use sha2::{Digest, Sha384};

/// Lowercase hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// sqlx's checksum of a file: SHA-384 of its bytes, in lowercase hex.
pub fn sqlx(file: &[u8]) -> String {
    hex(&Sha384::digest(file))
}

/// CRC-32 (IEEE 802.3: reflected, polynomial `0xEDB88320`) of `bytes`, continuing `crc`,
/// bit by bit (migration files are small; a table would buy nothing here).
fn crc_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut c = !crc;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// Flyway's checksum of a file (see the module docs), as the signed decimal Flyway stores.
pub fn flyway(file: &str) -> String {
    let text = file.strip_prefix('\u{feff}').unwrap_or(file);
    let mut crc = 0;
    // The lines' bytes without their terminators, fed in order: every `\r` and `\n` left out.
    for line in text.split(['\r', '\n']) {
        crc = crc_update(crc, line.as_bytes());
    }
    (crc as i32).to_string()
}

/// refinery's checksum of migration `V{version}__{name}` with `sql`, as the decimal refinery
/// stores; an error says why it cannot be computed (this build lacks the feature `refinery`,
/// or refinery itself refuses the name or version).
pub fn refinery(name: &str, version: i64, sql: &str) -> Result<String, String> {
    #[cfg(feature = "refinery")]
    {
        refinery_core::Migration::unapplied(&format!("V{version}__{name}"), sql)
            .map(|m| m.checksum().to_string())
            .map_err(|e| format!("refinery does not accept migration V{version}__{name}: {e}"))
    }
    #[cfg(not(feature = "refinery"))]
    {
        let _ = (name, version, sql);
        Err("this build of migrator has no refinery checksums: enable the feature `refinery` of migrator-core (or \
             `adopt-refinery` of the backend crate; the migrator CLI has it)"
            .to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_one() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc_update(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc_update(crc_update(0, b"1234"), b"56789"), 0xCBF4_3926, "fed in pieces");
        assert_eq!(crc_update(0, b""), 0);
    }

    #[test]
    fn flyway_checksums_ignore_line_endings_empty_lines_and_a_leading_bom() {
        let lf = flyway("CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n");
        assert_eq!(lf, (crc_update(0, b"CREATE TABLE t (id INT);INSERT INTO t VALUES (1);") as i32).to_string());
        assert_eq!(flyway("CREATE TABLE t (id INT);\r\nINSERT INTO t VALUES (1);"), lf, "CRLF, no final newline");
        assert_eq!(flyway("CREATE TABLE t (id INT);\rINSERT INTO t VALUES (1);\n\n"), lf, "CR, empty lines");
        assert_eq!(flyway("\u{feff}CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);"), lf, "BOM");
        assert_ne!(flyway("CREATE TABLE t (id  INT);\nINSERT INTO t VALUES (1);"), lf, "a space counts");
        assert_ne!(flyway("x\u{feff}CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);"), lf, "a BOM inside counts");
        assert_eq!(flyway(""), "0");
        // Stored signed: a CRC with the top bit set is negative.
        assert!(flyway("123456789").starts_with('-'), "{}", flyway("123456789"));
    }

    #[test]
    fn sqlx_checksums_are_sha384_of_the_bytes() {
        assert_eq!(
            sqlx(b""),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
        );
        assert_ne!(sqlx(b"SELECT 1;\n"), sqlx(b"SELECT 1;\r\n"), "sqlx normalizes nothing");
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }

    #[cfg(feature = "refinery")]
    #[test]
    fn refinery_checksums_come_from_refinery() {
        let ours = refinery("initial", 1, "CREATE TABLE t (id INT);").unwrap();
        let theirs = refinery_core::Migration::unapplied("V1__initial.sql", "CREATE TABLE t (id INT);").unwrap();
        assert_eq!(ours, theirs.checksum().to_string());
        assert_ne!(ours, refinery("initial", 2, "CREATE TABLE t (id INT);").unwrap(), "the version counts");
    }
}
