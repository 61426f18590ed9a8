//! Whether the binary is stale: the migrations it embedded against the files its source
//! directory holds now (debug builds). Cargo recompiles `embed_migrations!` when an embedded
//! file is edited, but not when one is added, unless the build script says to watch the
//! directory; a stale binary then runs an old set.

use crate::version::Version;

/// One migration as compared: version, file of its up script, and its checksums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub(crate) version: Version,
    pub(crate) file: String,
    pub(crate) checksum: String,
    pub(crate) down_checksum: Option<String>,
}

/// How the files on disk differ from the embedded set, by file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaleBinary {
    /// The directory that was embedded.
    pub dir: String,
    /// Migrations on disk that the binary does not have.
    pub added: Vec<String>,
    /// Migrations the binary has that are no longer on disk.
    pub removed: Vec<String>,
    /// Migrations whose files changed since the build (or that no longer load).
    pub changed: Vec<String>,
}

impl std::fmt::Display for StaleBinary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "this binary was built from other migrations than {} holds now:", self.dir)?;
        for (what, files) in [("added", &self.added), ("removed", &self.removed), ("changed", &self.changed)] {
            if !files.is_empty() {
                write!(f, " {what} {};", files.join(", "))?;
            }
        }
        write!(
            f,
            " rebuild it (cargo build). Cargo notices new migration files only when build.rs has \
             `migrator_core::build::watch_migrations(\"{}\")`",
            self.dir
        )
    }
}

/// Compares the embedded migrations with those on disk (and the files on disk that do not
/// load, listed as changed); `None` when they agree.
pub(crate) fn compare(
    dir: &str,
    embedded: &[Fingerprint],
    on_disk: &[Fingerprint],
    unloadable: &[String],
) -> Option<StaleBinary> {
    let mut stale = StaleBinary { dir: dir.to_owned(), ..StaleBinary::default() };
    for disk in on_disk {
        match embedded.iter().find(|e| e.version == disk.version) {
            None => stale.added.push(disk.file.clone()),
            Some(e) if e.checksum != disk.checksum || e.down_checksum != disk.down_checksum => {
                stale.changed.push(disk.file.clone());
            }
            Some(_) => {}
        }
    }
    for e in embedded {
        if !on_disk.iter().any(|d| d.version == e.version) && !unloadable.contains(&e.file) {
            stale.removed.push(e.file.clone());
        }
    }
    stale.changed.extend(unloadable.iter().cloned());
    for list in [&mut stale.added, &mut stale.removed, &mut stale.changed] {
        list.sort();
        list.dedup();
    }
    let same = stale.added.is_empty() && stale.removed.is_empty() && stale.changed.is_empty();
    if same { None } else { Some(stale) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testkit::v;

    fn fp(version: i64, file: &str, checksum: &str) -> Fingerprint {
        Fingerprint { version: v(version), file: file.into(), checksum: checksum.into(), down_checksum: None }
    }

    #[test]
    fn differences_are_named_by_file() {
        let embedded = [fp(1, "1_a.up.sql", "a"), fp(2, "2_b.up.sql", "b"), fp(3, "3_c.up.sql", "c")];
        assert_eq!(compare("migrations", &embedded, &embedded, &[]), None, "the same set");
        let disk = [
            fp(1, "1_a.up.sql", "a"),
            fp(2, "2_b.up.sql", "b2"),
            fp(4, "4_d.up.sql", "d"),
            Fingerprint { down_checksum: Some("x".into()), ..fp(5, "5_e.up.sql", "e") },
        ];
        let embedded = [&embedded[..], &[fp(5, "5_e.up.sql", "e"), fp(6, "6_f.up.sql", "f")]].concat();
        let stale = compare("migrations", &embedded, &disk, &["6_f.up.sql".into()]).unwrap();
        assert_eq!(stale.added, ["4_d.up.sql"]);
        assert_eq!(stale.removed, ["3_c.up.sql"]);
        assert_eq!(stale.changed, ["2_b.up.sql", "5_e.up.sql", "6_f.up.sql"], "edited, down added, unloadable");
        let text = stale.to_string();
        assert!(text.contains("added 4_d.up.sql; removed 3_c.up.sql;"), "{text}");
        assert!(text.contains("watch_migrations(\"migrations\")"), "{text}");
    }
}
