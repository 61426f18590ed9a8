//! The layouts migrator reads: its own, and other tools' as they are, without renaming a file.
//!
//! | layout | files | versions | names | down script | outside a transaction |
//! |---|---|---|---|---|---|
//! | `migrator` | `{version}_{name}.up.sql`, `.down.sql`; `R__{name}.sql` | digits | `[a-z0-9_]+` | `.down.sql`, same name | `-- migrator:no-transaction` |
//! | `sqlx` | `{version}_{description}.sql`, or `.up.sql` and `.down.sql` | digits | anything | `.down.sql` of the same version | `-- no-transaction` as the file's first bytes |
//! | `diesel` | directories `{version}_{name}/` with `up.sql`, `down.sql`, `metadata.toml` | [`diesel_version`] | anything | `down.sql` | `run_in_transaction = false` in `metadata.toml` |
//! | `refinery` | `V{version}__{name}.sql`, `U{version}__{name}.sql`, in subdirectories too | digits | letters, digits, `_` | none | a `-- refinery:noTransaction` line |
//! | `flyway` | `V{version}__{description}.sql`, `U…` (undo), `R__{description}.sql`, `….sql.conf`, in subdirectories too | [`flyway_version`] | anything | the `U` file of the same version | `executeInTransaction=false` in the script's `.sql.conf` |
//! | `golang-migrate` | `{version}_{title}.up.sql`, `.down.sql` | digits | anything | `.down.sql` of the same version | (none: see below) |
//! | `goose` | `{version}_{name}.sql` with `-- +goose Up` / `-- +goose Down` sections | digits | anything | the `Down` section | `-- +goose NO TRANSACTION` |
//!
//! In every layout:
//!
//! * versions are migrator's: positive integers in a signed 64-bit range, in the tool's own
//!   order (0 is refused: migrator reserves it for "before the first migration");
//! * the name is the file name's part after the version, exactly as written (sqlx and Flyway
//!   show `_` as spaces; migrator keeps the `_`); outside migrator's layout any name the tool
//!   allows is read, but not an empty one, one over 255 characters, or one with a control
//!   character;
//! * migrator's `-- migrator:` directives, lint, checksums, down, resume and repair work as
//!   in its own layout: a file is a script with its real path and line numbers;
//! * hidden files and editor leftovers are ignored, anything else that looks like a
//!   migration script but does not follow the layout is an error naming the file, and a file
//!   a tool would run but migrator cannot (goose's Go migrations, refinery's Rust
//!   migrations, Flyway's callbacks and baseline migrations) is an error too, never skipped.
//!
//! # Each layout's own rules
//!
//! **sqlx** reads `{version}_{description}.sql`, split at the first `_`; `.up.sql` and
//! `.down.sql` make a reversible migration, anything else ending in `.sql` a simple one
//! (no down script). A file whose first bytes are `-- no-transaction` runs outside a
//! transaction, as in sqlx (only there: sqlx reads the marker nowhere else).
//!
//! **diesel** reads each directory `{version}_{name}` (split at the first `_`): `up.sql`
//! (required), `down.sql` (optional), and `metadata.toml`, whose top-level
//! `run_in_transaction = false` runs both scripts outside a transaction (other keys are
//! diesel's custom fields and are not used). `00000000000000_diesel_initial_setup` is part
//! of the history like any other migration. Versions: [`diesel_version`].
//!
//! **refinery** reads `V{n}__{name}.sql` and `U{n}__{name}.sql` (in refinery, `U` means
//! *unversioned*: a migration that may be applied after newer ones; migrator reads it as an
//! ordinary migration of version `n`, and applying it below the newest applied version takes
//! `--allow-out-of-order`, which refinery does not ask for). Versions are refinery's `i32`, or
//! `i64` with its `int8-versions` feature; a `V0` is refused (see above). Names are letters, digits and `_`. A line
//! `-- refinery:noTransaction` runs the file outside a transaction (refinery's annotation, from
//! its source after the 0.10.1 release, which runs every migration in a transaction). refinery has no down
//! scripts. Its Rust migrations (`V3__backfill.rs`) are refused: port them to a
//! `RustMigration`.
//!
//! **Flyway** reads `V{version}__{description}.sql`, undo scripts `U{version}__{…}.sql` (the
//! down script of the `V` file of the same version, whatever its description) and
//! repeatable migrations `R__{description}.sql`. A script configuration file
//! `V1__x.sql.conf` may say `executeInTransaction=false` (and `encoding=UTF-8`); other keys
//! are refused. Callbacks (`beforeMigrate.sql`, …) and baseline migrations (`B5__…`) are
//! refused: migrator does not run them. Flyway decides per statement whether a script can run
//! in a transaction; migrator does not guess: a statement that cannot (such as `CREATE INDEX
//! CONCURRENTLY`) is a fatal lint finding until the script says so in its `.sql.conf` (which
//! Flyway honours too) or with `-- migrator:no-transaction`. Versions: [`flyway_version`].
//!
//! **golang-migrate** reads `{version}_{title}.up.sql` and `.down.sql`, paired by version
//! (the titles may differ). golang-migrate has no transaction of its own; migrator runs each
//! script in one, unless it says `-- migrator:no-transaction`.
//!
//! **goose** reads `{version}_{name}.sql`, annotated as goose v3 reads it: blank lines and
//! comments, then `-- +goose Up`, the up SQL, optionally `-- +goose Down` and the down SQL.
//! `-- +goose StatementBegin` / `-- +goose StatementEnd` mark one statement that is not split
//! at its semicolons; `-- +goose NO TRANSACTION` (anywhere) runs both sections outside a
//! transaction; `-- +goose ENVSUB ON` is refused (migrator substitutes nothing). Annotations
//! are matched in any case and must start in the first column; an unknown one is an error.
//! The up script is the file from its start to the line before `-- +goose Down` (to its end
//! without a `Down`); the down script is the file from the `-- +goose Down` line on, after
//! the lines above it reduced to their line breaks, so that every line keeps its number in
//! errors and findings. Each checksum covers its script's text as migrator's checksums do
//! ([`crate::checksum`]): editing the down section changes only the down checksum. A file
//! without `-- +goose Down` has no down script (goose would revert it by doing nothing). Go
//! migrations (`{version}_{name}.go`) are refused.
//!
//! # Detection
//!
//! Without an explicit layout ([`Layout`] passed to the loader, `--layout` in the CLI,
//! `layout = …` in `embed_migrations!`), the layout is detected from the directory:
//!
//! 1. directories holding an `up.sql` are **diesel**'s;
//! 2. `V…__`/`U…__` files (in subdirectories too), `.sql.conf` files and refinery's `.rs`
//!    migrations are **Flyway**'s or **refinery**'s: Flyway's if there is a repeatable
//!    migration, a dotted version, a `U` file with a `V` file of the same version, a
//!    `.sql.conf` or a description refinery refuses; refinery's if
//!    there is a `U` file without its `V` file, a `.rs` migration or a
//!    `refinery:noTransaction` line; refinery's when nothing tells (the two read such
//!    directories alike);
//! 3. `{version}_…` files are **goose**'s if a `.sql` file has a goose annotation line (or
//!    there is a `.go` migration), **sqlx**'s if there are `{version}_{name}.sql` files without
//!    `.up.sql`/`.down.sql` files, or if a file starts with sqlx's `-- no-transaction`, and
//!    **migrator**'s otherwise: golang-migrate and sqlx's reversible files read the same way
//!    when their names follow migrator's rules, and when they do not, name the layout;
//! 4. a directory of only `R__` files is migrator's if their names follow its rules,
//!    Flyway's otherwise; an empty directory is migrator's.
//!
//! A directory with files of two of these groups (or with files only Flyway reads beside
//! files only refinery reads) is an error that lists which files belong to which layout.

use std::fmt;
use std::str::FromStr;

use crate::version::Version;

/// The file layout of a migrations directory: migrator's own, or another tool's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layout {
    /// `{version}_{name}.up.sql` / `.down.sql`, `R__{name}.sql`.
    Migrator,
    /// sqlx: `{version}_{description}.sql`, or `.up.sql` / `.down.sql`.
    Sqlx,
    /// diesel: directories `{version}_{name}/` with `up.sql` and `down.sql`.
    Diesel,
    /// refinery: `V{n}__{name}.sql` (and `U{n}__`, unversioned).
    Refinery,
    /// Flyway: `V{version}__{description}.sql`, `U…` undo, `R__…` repeatable.
    Flyway,
    /// golang-migrate: `{version}_{title}.up.sql` / `.down.sql`.
    GolangMigrate,
    /// goose: `{version}_{name}.sql` with `-- +goose Up` / `-- +goose Down` sections.
    Goose,
}

impl Layout {
    /// Every layout.
    pub const ALL: [Layout; 7] = [
        Layout::Migrator,
        Layout::Sqlx,
        Layout::Diesel,
        Layout::Refinery,
        Layout::Flyway,
        Layout::GolangMigrate,
        Layout::Goose,
    ];

    /// The layout's id, as `--layout` and `layout = …` take it: `migrator`, `sqlx`, `diesel`,
    /// `refinery`, `flyway`, `golang-migrate`, `goose`.
    pub const fn id(self) -> &'static str {
        match self {
            Layout::Migrator => "migrator",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "diesel",
            Layout::Refinery => "refinery",
            Layout::Flyway => "flyway",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Goose => "goose",
        }
    }

    /// The tool's name, for messages (`Flyway`, `golang-migrate`).
    pub const fn tool(self) -> &'static str {
        match self {
            Layout::Flyway => "Flyway",
            other => other.id(),
        }
    }

    /// The layout with this id (see [`Layout::id`]); `golang_migrate` is accepted too (an
    /// identifier in `embed_migrations!`).
    pub fn from_id(id: &str) -> Option<Layout> {
        let id = if id == "golang_migrate" { "golang-migrate" } else { id };
        Layout::ALL.into_iter().find(|layout| layout.id() == id)
    }

    /// The ids of every layout, for messages: `migrator, sqlx, diesel, …`.
    pub fn ids() -> String {
        Layout::ALL.map(Layout::id).join(", ")
    }

    /// How to name this layout explicitly, for messages.
    pub(crate) fn how_to_name(self) -> String {
        format!("`--layout {0}` (or `layout = {1}` in embed_migrations!)", self.id(), self.id().replace('-', "_"))
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Layout {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Layout::from_id(text).ok_or_else(|| {
            let shown: String = text.chars().take(40).map(crate::split::printable).collect();
            format!("unknown layout `{shown}`: the layouts are {}", Layout::ids())
        })
    }
}

/// Maps a diesel version to migrator's version, keeping diesel's order.
///
/// diesel names a migration directory `{version}_{name}` and keeps the version with its
/// dashes removed (in `__diesel_schema_migrations.version`, a string); it orders migrations
/// by comparing those strings. The forms diesel writes are accepted, dashes anywhere (diesel
/// ignores them):
///
/// | diesel version | migrator version |
/// |---|---|
/// | `2019-02-26-002946` (old form: 14 digits) | `201902260029460000`: the digits followed by `0000` |
/// | `2026-06-03-220228-0000` (new form: 14 digits and a 4-digit hexadecimal counter) | `202606032202280000`: the 14 digits, then the counter in 4 decimal digits |
/// | `00000000000000` (`diesel_initial_setup`) | `1` |
///
/// diesel writes the counter in lowercase hexadecimal (`-0009`, `-000a`), so for the counters
/// it writes first (0 to 9) the migrator version reads as the directory's digits, and
/// `-000a` maps to `…0010`; a counter above `270f` (9999), an uppercase one, a new form whose
/// 14 digits are all zeros, and every other form (`1`, `v2`, 16 digits) are refused.
///
/// The order is diesel's: for two versions diesel orders `a < b`, the migrator versions
/// are `f(a) <= f(b)`, equal only for an old-form version and the same time in the new form
/// with counter `0000` (`20190226002946` and `20190226002946-0000`), which diesel tells
/// apart and migrator refuses as a duplicate version.
///
/// ```
/// use migrator_core::source::diesel_version;
///
/// assert_eq!(diesel_version("2019-02-26-002946").unwrap().get(), 201902260029460000);
/// assert_eq!(diesel_version("2026-06-03-220228-0000").unwrap().get(), 202606032202280000);
/// assert_eq!(diesel_version("202606032202280000").unwrap().get(), 202606032202280000);
/// assert_eq!(diesel_version("2026-06-03-220228-000a").unwrap().get(), 202606032202280010);
/// assert_eq!(diesel_version("00000000000000").unwrap().get(), 1);
/// assert!(diesel_version("1").is_err());
/// ```
///
/// # Errors
///
/// A message saying which forms diesel's versions take.
pub fn diesel_version(version: &str) -> Result<Version, String> {
    let shown: String = version.chars().take(60).map(crate::split::printable).collect();
    let forms = "diesel's versions are `YYYY-MM-DD-HHMMSS` (14 digits), `YYYY-MM-DD-HHMMSS-XXXX` (14 digits and a \
                 4-digit hexadecimal counter) or `00000000000000` (its initial setup); dashes are ignored";
    let digits: String = version.chars().filter(|&c| c != '-').collect();
    let time = digits.get(..14).filter(|t| t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()));
    let (Some(time), Some(counter)) = (time, digits.get(14..)) else {
        return Err(format!("`{shown}` is not a diesel version: {forms}"));
    };
    let seconds: i64 = time.parse().map_err(|_| format!("`{shown}` is not a diesel version: {forms}"))?;
    let value = match counter {
        "" if seconds == 0 => 1,
        "" => seconds * 10_000,
        counter if counter.len() == 4 && counter.bytes().all(|b| b.is_ascii_hexdigit()) => {
            if counter.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(format!(
                    "`{shown}`: diesel writes the counter after the time in lowercase hexadecimal (`{}`), and orders \
                     versions as text, so an uppercase counter would sort elsewhere: rename the directory with the \
                     counter in lowercase",
                    counter.to_ascii_lowercase()
                ));
            }
            let counter = i64::from_str_radix(counter, 16).map_err(|_| format!("`{shown}`: {forms}"))?;
            if seconds == 0 {
                return Err(format!(
                    "`{shown}`: a diesel version of zeros is its initial setup, `00000000000000`, with no counter"
                ));
            }
            if counter > 9_999 {
                return Err(format!(
                    "`{shown}`: the counter after the time is over 270f (9999), beyond what migrator's versions keep \
                     in their last four digits: give the migration another second"
                ));
            }
            seconds * 10_000 + counter
        }
        _ => return Err(format!("`{shown}` is not a diesel version: {forms}")),
    };
    Version::new(value).ok_or_else(|| format!("`{shown}` is not a diesel version: {forms}"))
}

/// Maps a Flyway version to migrator's version.
///
/// Flyway versions are numbers separated by `.` or `_` (`1`, `1.1`, `2_0_1`, `20190226002946`),
/// compared part by part, trailing zero parts ignored (`1.0` is `1`). migrator's versions are
/// integers, and no integer lies between `1` and `2` to keep `1.1` in its place, so:
///
/// * an integer version is itself (`V42__` is 42, `V0042__` too);
/// * a version whose other parts are all zero is its first part (`1.0`, `2_0_0`), as Flyway
///   equates them;
/// * any other dotted version (`1.1`, `2.0.1`) is refused, saying so: number the
///   migrations with integers (or timestamps) to read them with migrator.
///
/// ```
/// use migrator_core::source::flyway_version;
///
/// assert_eq!(flyway_version("42").unwrap().get(), 42);
/// assert_eq!(flyway_version("2.0").unwrap().get(), 2);
/// assert_eq!(flyway_version("3_0_0").unwrap().get(), 3);
/// assert!(flyway_version("1.1").unwrap_err().contains("integers"));
/// ```
///
/// # Errors
///
/// A message saying what is wrong and what to do.
pub fn flyway_version(version: &str) -> Result<Version, String> {
    let shown: String = version.chars().take(60).map(crate::split::printable).collect();
    let normalized = version.replace('_', ".");
    let mut parts = normalized.split('.');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let numeric = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !numeric(first) || !rest.iter().all(|part| numeric(part)) {
        return Err(format!(
            "`{shown}` is not a Flyway version: write digits, parts separated by `.` or `_` (such as 1, 20190226002946 \
             or 2.0)"
        ));
    }
    if rest.iter().any(|part| part.bytes().any(|b| b != b'0')) {
        return Err(format!(
            "Flyway version `{shown}` has no migrator version: migrator's versions are integers, and no integer lies \
             between two consecutive ones to keep a dotted version in its place; number the migrations with integers \
             (or timestamps) to read them with migrator (versions that only add zeros, such as 2.0, are read as 2)"
        ));
    }
    Version::parse_digits(first).map_err(|message| format!("Flyway version `{shown}`: {message}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layouts_have_ids() {
        for layout in Layout::ALL {
            assert_eq!(Layout::from_id(layout.id()), Some(layout));
            assert_eq!(layout.id().parse::<Layout>(), Ok(layout));
        }
        assert_eq!(Layout::from_id("golang_migrate"), Some(Layout::GolangMigrate));
        assert!("dbmate".parse::<Layout>().unwrap_err().contains("the layouts are migrator, sqlx, diesel"));
        assert_eq!(Layout::Flyway.tool(), "Flyway");
    }

    #[test]
    fn diesel_versions() {
        assert_eq!(diesel_version("2019-02-26-002946").unwrap().get(), 201902260029460000);
        assert_eq!(diesel_version("20190226002946").unwrap().get(), 201902260029460000);
        assert_eq!(diesel_version("2026-06-03-220228-0000").unwrap().get(), 202606032202280000);
        assert_eq!(diesel_version("2026-06-03-220228-0009").unwrap().get(), 202606032202280009);
        assert_eq!(diesel_version("2026-06-03-220228-000a").unwrap().get(), 202606032202280010);
        assert_eq!(diesel_version("2026-06-03-220228-270f").unwrap().get(), 202606032202289999);
        assert_eq!(diesel_version("00000000000000").unwrap().get(), 1);
        assert_eq!(diesel_version("0000-00-00-000000").unwrap().get(), 1);
        assert_eq!(diesel_version("99999999999999").unwrap().get(), 999999999999990000);
        assert!(diesel_version("2026-06-03-220228-2710").unwrap_err().contains("over 270f"));
        assert!(diesel_version("2026-06-03-220228-000A").unwrap_err().contains("lowercase"));
        assert!(diesel_version("00000000000000-0001").unwrap_err().contains("initial setup"));
        for bad in ["", "1", "v1", "2019-02-26", "2019022600294", "201902260029461", "2019-02-26-00294x", "ü"] {
            assert!(diesel_version(bad).unwrap_err().contains("diesel's versions are"), "{bad}");
        }
    }

    #[test]
    fn flyway_versions() {
        assert_eq!(flyway_version("1").unwrap().get(), 1);
        assert_eq!(flyway_version("0042").unwrap().get(), 42);
        assert_eq!(flyway_version("20190226002946").unwrap().get(), 20190226002946);
        assert_eq!(flyway_version("1.0").unwrap().get(), 1);
        assert_eq!(flyway_version("1_0_00").unwrap().get(), 1);
        assert!(flyway_version("1.1").unwrap_err().contains("has no migrator version"));
        assert!(flyway_version("2_0_1").unwrap_err().contains("has no migrator version"));
        assert!(flyway_version("0").unwrap_err().contains("positive"));
        assert!(flyway_version("0.0").unwrap_err().contains("positive"));
        assert!(flyway_version("1..2").unwrap_err().contains("not a Flyway version"));
        assert!(flyway_version("1.a").unwrap_err().contains("not a Flyway version"));
        assert!(flyway_version("").unwrap_err().contains("not a Flyway version"));
        assert!(flyway_version("99999999999999999999").unwrap_err().contains("too large"));
    }

    /// A version string as diesel writes one (without its dashes): old form, new form with a
    /// lowercase hexadecimal counter up to 270f, or the initial setup.
    fn diesel_string() -> impl Strategy<Value = String> {
        let time = prop_oneof![
            (1u64..=99_999_999_999_999u64).prop_map(|t| format!("{t:014}")),
            // Close times, so that prefixes and neighbours meet.
            (20_190_226_002_940u64..20_190_226_002_950u64).prop_map(|t| format!("{t:014}")),
            Just("00000000000000".to_owned()),
        ];
        (time, prop_oneof![Just(None), (0u16..=0x270f).prop_map(Some), (0u16..=12).prop_map(Some)]).prop_filter_map(
            "a counter needs a time",
            |(time, counter)| match counter {
                None => Some(time),
                Some(_) if time == "00000000000000" => None,
                Some(counter) => Some(format!("{time}{counter:04x}")),
            },
        )
    }

    proptest! {
        /// diesel compares its version strings; migrator's versions keep that order.
        #[test]
        fn diesel_order_is_kept(a in diesel_string(), b in diesel_string()) {
            let (va, vb) = (diesel_version(&a).unwrap(), diesel_version(&b).unwrap());
            match a.cmp(&b) {
                std::cmp::Ordering::Equal => prop_assert_eq!(va, vb),
                std::cmp::Ordering::Less => {
                    prop_assert!(va <= vb, "{} < {} but {} > {}", a, b, va, vb);
                    if va == vb {
                        prop_assert_eq!(format!("{a}0000"), b);
                    }
                }
                std::cmp::Ordering::Greater => {
                    prop_assert!(va >= vb, "{} > {} but {} < {}", a, b, va, vb);
                    if va == vb {
                        prop_assert_eq!(format!("{b}0000"), a);
                    }
                }
            }
        }

        /// Dashes are ignored, as diesel ignores them.
        #[test]
        fn diesel_dashes_do_not_matter(a in diesel_string(), at in 0usize..18) {
            let at = at.min(a.len());
            let dashed = format!("{}-{}", &a[..at], &a[at..]);
            prop_assert_eq!(diesel_version(&dashed), diesel_version(&a));
        }

        /// No input panics, and what is accepted is a positive version.
        #[test]
        fn diesel_and_flyway_versions_never_panic(text in "[0-9a-fA-F._-]{0,24}|\\PC{0,12}") {
            if let Ok(v) = diesel_version(&text) {
                prop_assert!(v.get() > 0);
            }
            if let Ok(v) = flyway_version(&text) {
                prop_assert!(v.get() > 0);
            }
        }

        /// Flyway's integer versions keep their order (Flyway compares numbers).
        #[test]
        fn flyway_order_is_kept(a in 1u64..=999_999_999_999u64, b in 1u64..=999_999_999_999u64, zeros in 0usize..3) {
            let suffix = ".0".repeat(zeros);
            let (va, vb) = (flyway_version(&format!("{a}{suffix}")).unwrap(), flyway_version(&b.to_string()).unwrap());
            prop_assert_eq!(a.cmp(&b), va.cmp(&vb));
        }
    }
}
