//! Writing a squash migration: the text `migrator squash` puts in `{V}_{name}.up.sql`.
//!
//! The file says what it is in plain comments, lists every migration it stands for on a
//! `squashes` line (version, the checksum it was applied with, name: what databases that
//! applied them one by one are checked against, see [`crate::plan`]), and holds the
//! statements a backend's [`Dump`](crate::driver::Dump) wrote. The text is parsed back
//! before it is returned: the splitter must find exactly the dump's statements.

use crate::checksum::Checksum;
use crate::dialect::Dialect;
use crate::directive::ScriptKind;
use crate::driver::SchemaDump;
use crate::error::{Error, LoadError};
use crate::script::Script;
use crate::version::Version;

/// One migration a squash stands for.
#[derive(Debug, Clone, Copy)]
pub struct Squashed<'a> {
    /// Its version.
    pub version: Version,
    /// Its name.
    pub name: &'a str,
    /// The checksum it is applied with.
    pub checksum: &'a Checksum,
}

/// The text of the squash migration standing for `squashed` (in version order, the newest
/// being the squash's own version), whose body is `dump`. `path` names the file in
/// messages.
pub fn squash_script(
    squashed: &[Squashed<'_>],
    dump: &SchemaDump,
    dialect: Dialect,
    path: &str,
) -> Result<String, Error> {
    let (Some(first), Some(last)) = (squashed.first(), squashed.last()) else {
        return Err(Error::load(path, None, "a squash needs at least one migration to stand for"));
    };
    let mut text = format!(
        "-- Squash of the {} migration(s) from {} to {}, written by `migrator squash`.\n\
         -- A fresh database runs this file instead of them. A database that applied them one by one\n\
         -- reads them as this migration; each must have been applied with the checksum listed below.\n\
         -- It carries the schema and the rows those migrations left ({} row(s)).\n",
        squashed.len(),
        first.version,
        last.version,
        dump.rows
    );
    for left_out in &dump.left_out {
        text.push_str(&format!("-- Not carried: {}.\n", one_line(left_out)));
    }
    for s in squashed {
        text.push_str(&format!("-- migrator:squashes {} {} {}\n", s.version, s.checksum.as_str(), s.name));
    }
    for statement in &dump.statements {
        text.push('\n');
        text.push_str(statement.trim_end());
        text.push_str(";\n");
    }
    let script = Script::parse(ScriptKind::Up, path.to_owned(), text.clone(), dialect)
        .map_err(|errors| Error::Load { errors })?;
    let split = script.statements()?.len();
    if split != dump.statements.len() {
        return Err(Error::Load {
            errors: vec![LoadError {
                path: path.to_owned(),
                line: None,
                column: None,
                message: format!(
                    "the dumped schema has {} statements but the file splits into {split}: a statement the database \
                     printed does not read back as one; nothing was written. Keep the migrations, or write the squash \
                     by hand",
                    dump.statements.len()
                ),
            }],
        });
    }
    Ok(text)
}

/// `text` on one line, for a comment.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_lists_what_it_stands_for_and_reads_back() {
        let (a, b) = (Checksum::of_script("CREATE TABLE a (id INT);\n"), Checksum::of_script("SELECT 1;\n"));
        let squashed = [
            Squashed { version: Version::new(1).unwrap(), name: "create_a", checksum: &a },
            Squashed { version: Version::new(2).unwrap(), name: "seed_a", checksum: &b },
        ];
        let dump = SchemaDump::new(
            vec!["CREATE TABLE a (id INT)".into(), "INSERT INTO a (id) VALUES\n(1)".into()],
            1,
            vec!["grants\nand owners".into()],
        );
        let text = squash_script(&squashed, &dump, Dialect::Sqlite, "m/2_squash.up.sql").unwrap();
        assert!(text.contains("-- Not carried: grants and owners.\n"), "{text}");
        assert!(text.contains(&format!("-- migrator:squashes 1 {} create_a\n", a.as_str())), "{text}");
        let script = Script::parse(ScriptKind::Up, "m/2_squash.up.sql", text, Dialect::Sqlite).unwrap();
        assert_eq!(script.directives().squashes.len(), 2);
        assert_eq!(script.statements().unwrap().len(), 2);

        let broken = SchemaDump::new(vec!["SELECT 1; SELECT 2".into()], 0, Vec::new());
        let e = squash_script(&squashed, &broken, Dialect::Sqlite, "m/2_squash.up.sql").unwrap_err();
        assert!(e.to_string().contains("has 1 statements but the file splits into 2"), "{e}");
        assert!(squash_script(&[], &dump, Dialect::Sqlite, "m/x.up.sql").is_err());
    }
}
