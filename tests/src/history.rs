//! A history of migrator's layout written, file for file, in each other tool's layout, as
//! that tool expects its files, and applied on PostgreSQL the way that tool applies them.
//!
//! The history is read from a directory of migrator's layout (the realistic PostgreSQL set,
//! [`realistic_postgres`]). Each migration keeps its SQL; what changes per layout is the file
//! name, the version (each tool's natural form), the down script's place, and how a migration
//! says it runs outside a transaction: migrator's `-- migrator:no-transaction` line is
//! replaced by the tool's own marker, so that migrator must read that marker to load the
//! directory (a `CREATE INDEX CONCURRENTLY` in a transactional migration is a fatal lint
//! finding). migrator's other directives (`irreversible`, `phase contract`, `allow`, timeouts)
//! are SQL comments: every tool ignores them, and they stay.
//!
//! | layout | files | version | outside a transaction |
//! |---|---|---|---|
//! | sqlx | `{version}_{name}.up.sql`, `.down.sql` | migrator's timestamp | `-- no-transaction` as the file's first line |
//! | diesel | `{YYYY-MM-DD-HHMMSS}_{name}/up.sql`, `down.sql`, `metadata.toml` | the timestamp, dashed | `run_in_transaction = false` in `metadata.toml` (both scripts) |
//! | refinery | `V{n}__{name}.sql`, no down | 1, 2, 3, … | a `-- refinery:noTransaction` line |
//! | Flyway | `V{n}__{name}.sql`, undo `U{n}__{name}.sql` | 1, 2, 3, … | `executeInTransaction=false` in `V{n}__{name}.sql.conf` (and the undo's) |
//! | golang-migrate | `{version}_{name}.up.sql`, `.down.sql` | the timestamp | none: see below |
//! | goose | `{version}_{name}.sql`, `-- +goose Up` / `Down` sections | the timestamp | `-- +goose NO TRANSACTION` (both sections) |
//!
//! **golang-migrate** has no marker: it sends each file to PostgreSQL as one query, without a
//! transaction of its own (PostgreSQL runs a query of several statements in one implicit
//! transaction, and a single statement on its own, which is how a lone `CREATE INDEX
//! CONCURRENTLY` works there). migrator's golang-migrate layout runs each script in a
//! transaction unless it says `-- migrator:no-transaction`, so the files keep migrator's
//! directive, a comment to golang-migrate: its files are migrator's, byte for byte.
//!
//! **goose** splits a file at lines ending with `;` and knows nothing of dollar quotes or
//! `BEGIN ATOMIC`: a statement with such a line inside it (a function body) is wrapped in
//! `-- +goose StatementBegin` / `-- +goose StatementEnd`, and [`goose_statements`] (goose's
//! parser, ported) checks that goose reads each file as the same statements migrator does.
//!
//! A no-transaction script is one statement everywhere: sqlx, diesel and golang-migrate send a
//! whole file as one query, and PostgreSQL refuses `CONCURRENTLY` in the implicit transaction
//! of a query with several statements.

use std::path::{Path, PathBuf};

use migrator_core::source::Layout;
use migrator_core::{Dialect, ForeignTool};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::postgres::Pg;
use crate::tools::{self, FlywayRow};

/// The realistic PostgreSQL set, in migrator's layout.
pub fn realistic_postgres() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/migrator-core/tests/realistic/postgres")
}

/// migrator's directive for a script that runs outside a transaction.
const NO_TRANSACTION: &str = "-- migrator:no-transaction";

/// One migration of the history, as migrator's layout has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Its version in migrator's layout (a `YYYYMMDDHHMMSS` timestamp).
    pub version: i64,
    /// Its name.
    pub name: String,
    /// The up script.
    pub up: String,
    /// The down script, if any.
    pub down: Option<String>,
}

/// Whether `script`'s header (its leading blank and comment lines) says `no-transaction`.
fn says_no_transaction(script: &str) -> bool {
    script
        .lines()
        .take_while(|line| line.trim().is_empty() || line.trim_start().starts_with("--"))
        .any(|line| line.trim_end() == NO_TRANSACTION)
}

/// `script` without migrator's `no-transaction` line.
fn without_no_transaction(script: &str) -> String {
    script.split_inclusive('\n').filter(|line| line.trim_end() != NO_TRANSACTION).collect()
}

impl Migration {
    /// Whether the up script runs outside a transaction.
    pub fn no_transaction(&self) -> bool {
        says_no_transaction(&self.up)
    }

    /// The timestamp in diesel's directory form, `YYYY-MM-DD-HHMMSS`.
    fn diesel_version(&self) -> String {
        let digits = self.version.to_string();
        assert_eq!(digits.len(), 14, "a diesel version needs a 14-digit timestamp: {}", self.version);
        format!("{}-{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8], &digits[8..])
    }

    /// Checks that the down script runs as the up script does, since diesel and goose say it
    /// once for both.
    fn same_mode_both_ways(&self, layout: Layout) {
        if let Some(down) = &self.down {
            assert_eq!(
                says_no_transaction(down),
                self.no_transaction(),
                "{layout} marks both scripts of a migration at once, but {}_{} marks only one",
                self.version,
                self.name
            );
        }
    }
}

/// A history: migrations in version order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The migrations.
    pub migrations: Vec<Migration>,
}

impl History {
    /// Reads a directory of migrator's layout (`{version}_{name}.up.sql`, `.down.sql`).
    pub fn read(dir: &Path) -> History {
        let mut migrations = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let file = entry.unwrap().file_name().into_string().unwrap();
            if file.ends_with(".down.sql") {
                continue;
            }
            let stem = file.strip_suffix(".up.sql").unwrap_or_else(|| panic!("not a migration: {file}"));
            let (version, name) = stem.split_once('_').unwrap();
            let down = dir.join(format!("{stem}.down.sql"));
            migrations.push(Migration {
                version: version.parse().unwrap(),
                name: name.to_owned(),
                up: std::fs::read_to_string(dir.join(&file)).unwrap(),
                down: down.exists().then(|| std::fs::read_to_string(down).unwrap()),
            });
        }
        migrations.sort_by_key(|m| m.version);
        History { migrations }
    }

    /// Writes every migration into `dir` in `layout`.
    pub fn write(&self, layout: Layout, dir: &Path) -> Vec<Written> {
        (1..).zip(&self.migrations).map(|(ordinal, m)| write_one(layout, dir, ordinal, m)).collect()
    }
}

/// One migration as written in a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The migration.
    pub migration: Migration,
    /// Its version as migrator reads it in this layout.
    pub version: i64,
    /// Its version as the tool writes it (diesel's dashed timestamp, Flyway's `3`).
    pub tool_version: String,
    /// The file holding its up script, relative to the directory (for goose, the whole file).
    pub up_file: String,
    /// That file's text.
    pub up_text: String,
    /// Whether it runs outside a transaction.
    pub no_transaction: bool,
}

fn write_file(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// Writes migration `m`, the `ordinal`-th of the history (Flyway's and refinery's version),
/// into `dir` in `layout`.
pub fn write_one(layout: Layout, dir: &Path, ordinal: i64, m: &Migration) -> Written {
    let no_transaction = m.no_transaction();
    let down_no_transaction = m.down.as_deref().is_some_and(says_no_transaction);
    let stripped_up = without_no_transaction(&m.up);
    let stripped_down = m.down.as_deref().map(without_no_transaction);
    let (version, tool_version, up_file, up_text) = match layout {
        Layout::Migrator | Layout::GolangMigrate => {
            let stem = format!("{}_{}", m.version, m.name);
            if let Some(down) = &m.down {
                write_file(dir, &format!("{stem}.down.sql"), down);
            }
            (m.version, m.version.to_string(), format!("{stem}.up.sql"), m.up.clone())
        }
        Layout::Sqlx => {
            let marked = |no_transaction: bool, script: &str| {
                if no_transaction { format!("-- no-transaction\n{script}") } else { script.to_owned() }
            };
            let stem = format!("{}_{}", m.version, m.name);
            if let Some(down) = &stripped_down {
                write_file(dir, &format!("{stem}.down.sql"), &marked(down_no_transaction, down));
            }
            (m.version, m.version.to_string(), format!("{stem}.up.sql"), marked(no_transaction, &stripped_up))
        }
        Layout::Diesel => {
            m.same_mode_both_ways(layout);
            let tool_version = m.diesel_version();
            let folder = format!("{tool_version}_{}", m.name);
            if let Some(down) = &stripped_down {
                write_file(dir, &format!("{folder}/down.sql"), down);
            }
            if no_transaction {
                write_file(dir, &format!("{folder}/metadata.toml"), "run_in_transaction = false\n");
            }
            (m.version * 10_000, tool_version, format!("{folder}/up.sql"), stripped_up)
        }
        Layout::Refinery => {
            let text = if no_transaction { format!("-- refinery:noTransaction\n{stripped_up}") } else { stripped_up };
            (ordinal, ordinal.to_string(), format!("V{ordinal}__{}.sql", m.name), text)
        }
        Layout::Flyway => {
            let up_file = format!("V{ordinal}__{}.sql", m.name);
            if no_transaction {
                write_file(dir, &format!("{up_file}.conf"), "executeInTransaction=false\n");
            }
            if let Some(down) = &stripped_down {
                let undo = format!("U{ordinal}__{}.sql", m.name);
                write_file(dir, &undo, down);
                if down_no_transaction {
                    write_file(dir, &format!("{undo}.conf"), "executeInTransaction=false\n");
                }
            }
            (ordinal, ordinal.to_string(), up_file, stripped_up)
        }
        Layout::Goose => {
            m.same_mode_both_ways(layout);
            let mut text = String::new();
            if no_transaction {
                text.push_str("-- +goose NO TRANSACTION\n");
            }
            text.push_str("-- +goose Up\n");
            text.push_str(&goose_blocks(&stripped_up));
            if let Some(down) = &stripped_down {
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str("\n-- +goose Down\n");
                text.push_str(&goose_blocks(down));
            }
            (m.version, m.version.to_string(), format!("{}_{}.sql", m.version, m.name), text)
        }
        other => panic!("no writer for layout {other}"),
    };
    write_file(dir, &up_file, &up_text);
    Written { migration: m.clone(), version, tool_version, up_file, up_text, no_transaction }
}

/// goose's test for the end of a statement: the line's last word before a `--` comment ends
/// with `;` (goose's `endsWithSemicolon`).
fn goose_ends_statement(line: &str) -> bool {
    let mut last = "";
    for word in line.split_whitespace() {
        if word.starts_with("--") {
            break;
        }
        last = word;
    }
    last.ends_with(';')
}

/// `script` with each statement goose would cut elsewhere than migrator's splitter (a line
/// inside it ends with `;`, or its last line does not) between `-- +goose StatementBegin` and
/// `-- +goose StatementEnd` lines.
fn goose_blocks(script: &str) -> String {
    let statements = migrator_core::split::split(script, Dialect::Postgres).unwrap();
    let lines: Vec<&str> = script.split_inclusive('\n').collect();
    let line_of = |offset: usize| script[..offset].matches('\n').count();
    let mut begin = vec![false; lines.len()];
    let mut end = vec![false; lines.len()];
    let mut previous_last = None;
    for statement in &statements {
        let first = line_of(statement.range.start);
        let last = line_of(statement.segment.end.max(1) - 1);
        assert!(previous_last.is_none_or(|p| p < first), "two statements on one line: goose cannot tell them apart");
        previous_last = Some(last);
        let cut_inside = lines[first..last].iter().any(|l| goose_ends_statement(l));
        if cut_inside || !goose_ends_statement(lines[last]) {
            begin[first] = true;
            end[last] = true;
        }
    }
    let mut out = String::with_capacity(script.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        if begin[i] {
            out.push_str("-- +goose StatementBegin\n");
        }
        out.push_str(line);
        if end[i] {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("-- +goose StatementEnd\n");
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GooseState {
    Start,
    Up,
    BeginUp,
    EndUp,
    Down,
    BeginDown,
    EndDown,
}

/// The statements goose runs for one direction of a file, and whether it runs them in a
/// transaction: goose's `ParseSQLMigration` (pressly/goose, `internal/sqlparser`), ported line
/// for line.
///
/// # Errors
///
/// goose's refusals (no `-- +goose Up`, a block left open, SQL after the last `;`).
pub fn goose_statements(file: &str, up: bool) -> Result<(Vec<String>, bool), String> {
    use GooseState::*;
    let mut state = Start;
    let mut use_tx = true;
    let mut buf = String::new();
    let mut statements = Vec::new();
    // goose's cleanupStatement: the text up to its last `;`.
    let cleanup = |text: &str| match text.rfind(';') {
        Some(n) if n > 0 => text[..=n].to_owned(),
        _ => text.to_owned(),
    };
    for line in file.lines() {
        if state == Start && line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("--") {
            match rest.trim() {
                "+goose Up" => {
                    if state != Start {
                        return Err("duplicate '-- +goose Up' annotations".into());
                    }
                    state = Up;
                    continue;
                }
                "+goose Down" => {
                    if !matches!(state, Up | EndUp) {
                        return Err("must start with '-- +goose Up' annotation".into());
                    }
                    state = Down;
                    continue;
                }
                "+goose StatementBegin" => {
                    state = match state {
                        Up | EndUp => BeginUp,
                        Down | EndDown => BeginDown,
                        _ => return Err("'-- +goose StatementBegin' outside a section".into()),
                    };
                    continue;
                }
                "+goose StatementEnd" => {
                    state = match state {
                        BeginUp => EndUp,
                        BeginDown => EndDown,
                        _ => return Err("'-- +goose StatementEnd' without StatementBegin".into()),
                    };
                }
                "+goose NO TRANSACTION" => {
                    use_tx = false;
                    continue;
                }
                _ => {}
            }
        }
        if buf.is_empty() && (line.trim().starts_with("--") || line.is_empty()) {
            continue;
        }
        if !matches!(state, EndUp | EndDown) {
            buf.push_str(line);
            buf.push('\n');
        }
        match state {
            Up | BeginUp | EndUp if !up => {
                buf.clear();
                continue;
            }
            Down | BeginDown | EndDown if up => {
                buf.clear();
                continue;
            }
            Start => return Err(format!("unexpected state on line {line:?}")),
            _ => {}
        }
        match state {
            Up | Down if goose_ends_statement(line) => {
                statements.push(cleanup(&buf));
                buf.clear();
            }
            EndUp | EndDown => {
                statements.push(cleanup(&buf));
                buf.clear();
                state = if state == EndUp { Up } else { Down };
            }
            _ => {}
        }
    }
    match state {
        Start => return Err("must start with '-- +goose Up' annotation".into()),
        BeginUp | BeginDown => return Err("missing '-- +goose StatementEnd' annotation".into()),
        _ => {}
    }
    if !buf.trim().is_empty() {
        return Err(format!("unexpected unfinished SQL query: {:?}: missing semicolon?", buf.trim()));
    }
    Ok((statements, use_tx))
}

/// A statement's text for comparing two splitters' readings: trimmed, without its `;`.
pub fn normalized(statement: &str) -> String {
    statement.trim().trim_end_matches(';').trim_end().to_owned()
}

/// The statements migrator's splitter finds in `script`, normalized.
pub fn migrator_statements(script: &str) -> Vec<String> {
    let statements = migrator_core::split::split(script, Dialect::Postgres).unwrap();
    statements.iter().map(|s| normalized(s.text(script))).collect()
}

/// The tool whose history a layout's directory goes with.
pub fn tool_of(layout: Layout) -> ForeignTool {
    match layout {
        Layout::Sqlx => ForeignTool::Sqlx,
        Layout::Diesel => ForeignTool::Diesel,
        Layout::Refinery => ForeignTool::Refinery,
        Layout::Flyway => ForeignTool::Flyway,
        Layout::GolangMigrate => ForeignTool::GolangMigrate,
        Layout::Goose => ForeignTool::Goose,
        other => panic!("{other} is migrator's own layout"),
    }
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut *conn).await {
        panic!("{e}\nin:\n{sql}");
    }
}

/// Runs `statements` on `conn`, in one transaction unless `no_transaction`.
async fn exec_all(conn: &mut PgConnection, statements: &[String], no_transaction: bool) {
    if no_transaction {
        for statement in statements {
            exec(conn, statement).await;
        }
    } else {
        let mut tx = conn.begin().await.unwrap();
        for statement in statements {
            exec(&mut tx, statement).await;
        }
        tx.commit().await.unwrap();
    }
}

/// Applies `written` (a history in `layout`) on `db` the way the tool sends it, then writes
/// the tool's history table as the tool leaves it. sqlx and refinery are run for real
/// ([`crate::Tools`]); the others are applied here:
///
/// - diesel: each `up.sql` as one query (`batch_execute`), in a transaction unless its
///   `metadata.toml` says `run_in_transaction = false`; then `__diesel_schema_migrations`;
/// - golang-migrate: each `.up.sql` as one query, without a transaction of its own; then
///   `schema_migrations` at the last version, clean;
/// - goose: each statement of [`goose_statements`] on its own, in one transaction unless
///   `-- +goose NO TRANSACTION`; then `goose_db_version`;
/// - Flyway: each statement (migrator's splitter stands in for Flyway's parser), in one
///   transaction unless `executeInTransaction=false`; then `flyway_schema_history` with
///   Flyway's checksums.
pub async fn apply_as_tool(db: &Pg, layout: Layout, written: &[Written]) {
    let mut conn = db.pool.acquire().await.unwrap().detach();
    match layout {
        Layout::Diesel => {
            for w in written {
                exec_all(&mut conn, std::slice::from_ref(&w.up_text), w.no_transaction).await;
            }
            let versions: Vec<&str> = written.iter().map(|w| w.tool_version.as_str()).collect();
            tools::write_diesel(db, &versions).await;
        }
        Layout::GolangMigrate => {
            for w in written {
                exec(&mut conn, &w.up_text).await;
            }
            tools::write_golang_migrate(db, written.last().unwrap().version, false).await;
        }
        Layout::Goose => {
            for w in written {
                let (statements, use_tx) = goose_statements(&w.up_text, true).unwrap();
                exec_all(&mut conn, &statements, !use_tx).await;
            }
            let rows: Vec<(i64, bool)> = written.iter().map(|w| (w.version, true)).collect();
            tools::write_goose(db, &rows).await;
        }
        Layout::Flyway => {
            for w in written {
                let statements: Vec<String> = migrator_core::split::split(&w.up_text, Dialect::Postgres)
                    .unwrap()
                    .iter()
                    .map(|s| s.text(&w.up_text).to_owned())
                    .collect();
                exec_all(&mut conn, &statements, w.no_transaction).await;
            }
            let descriptions: Vec<String> = written.iter().map(|w| w.migration.name.replace('_', " ")).collect();
            let rows: Vec<FlywayRow<'_>> = written
                .iter()
                .zip(&descriptions)
                .map(|(w, description)| FlywayRow {
                    version: Some(w.tool_version.as_str()),
                    description,
                    kind: "SQL",
                    script: &w.up_file,
                    checksum: Some(tools::flyway_checksum(&w.up_text)),
                    success: true,
                })
                .collect();
            tools::write_flyway(db, &rows).await;
        }
        other => panic!("{other} is applied by the tool itself"),
    }
    let _ = conn.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const FUNCTION: &str = "CREATE FUNCTION f() RETURNS trigger\nLANGUAGE plpgsql AS $$\nBEGIN\n    NEW.a := 1;\n    RETURN NEW;\nEND;\n$$;\n";

    #[test]
    fn goose_cuts_a_function_body_at_its_semicolons_unless_it_is_a_statement_block() {
        let plain = format!("-- +goose Up\n{FUNCTION}");
        let (statements, use_tx) = goose_statements(&plain, true).unwrap();
        assert!(use_tx);
        assert_eq!(statements.len(), 4, "{statements:?}");
        let blocks = format!("-- +goose Up\n{}", goose_blocks(FUNCTION));
        assert!(
            blocks.contains("-- +goose StatementBegin\nCREATE FUNCTION")
                && blocks.ends_with("$$;\n-- +goose StatementEnd\n")
        );
        let (statements, _) = goose_statements(&blocks, true).unwrap();
        assert_eq!(statements.iter().map(|s| normalized(s)).collect::<Vec<_>>(), migrator_statements(FUNCTION));
    }

    #[test]
    fn goose_reads_sections_comments_and_no_transaction() {
        let file = "-- +goose NO TRANSACTION\n-- +goose Up\n-- a comment\nCREATE INDEX CONCURRENTLY i ON t (a); -- trailing\n\n\
                    -- +goose Down\nDROP INDEX CONCURRENTLY i;\n";
        let (up, use_tx) = goose_statements(file, true).unwrap();
        assert_eq!((up, use_tx), (vec!["CREATE INDEX CONCURRENTLY i ON t (a);".to_owned()], false));
        let (down, _) = goose_statements(file, false).unwrap();
        assert_eq!(down, ["DROP INDEX CONCURRENTLY i;"]);
        // A statement goose would leave open, and a file without `Up`, are refused as goose refuses them.
        assert!(goose_statements("-- +goose Up\nSELECT 1\n", true).unwrap_err().contains("missing semicolon"));
        assert!(goose_statements("SELECT 1;\n", true).is_err());
        assert!(
            goose_statements("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n", true)
                .unwrap_err()
                .contains("StatementEnd")
        );
        // Lines ending in `;` only after a comment's `--` do not end a statement.
        assert!(!goose_ends_statement("SELECT 1 -- not the end;"));
        assert!(goose_ends_statement("  END;  "));
    }

    #[test]
    fn migrators_no_transaction_line_gives_way_to_each_tools_marker() {
        let m = Migration {
            version: 20260107030000,
            name: "index_tasks".to_owned(),
            up: "-- migrator:no-transaction\n-- why\nCREATE INDEX CONCURRENTLY i ON t (a);\n".to_owned(),
            down: Some("-- migrator:no-transaction\nDROP INDEX CONCURRENTLY i;\n".to_owned()),
        };
        assert!(m.no_transaction());
        assert_eq!(m.diesel_version(), "2026-01-07-030000");
        let dir = tempfile::tempdir().unwrap();
        let read = |file: &str| std::fs::read_to_string(dir.path().join(file)).unwrap();
        let sqlx = write_one(Layout::Sqlx, dir.path(), 1, &m);
        assert!(sqlx.up_text.starts_with("-- no-transaction\n-- why\n") && !sqlx.up_text.contains("migrator:"));
        assert!(read("20260107030000_index_tasks.down.sql").starts_with("-- no-transaction\nDROP"));
        let diesel = write_one(Layout::Diesel, dir.path(), 1, &m);
        assert_eq!((diesel.version, diesel.tool_version.as_str()), (202601070300000000, "2026-01-07-030000"));
        assert_eq!(read("2026-01-07-030000_index_tasks/metadata.toml"), "run_in_transaction = false\n");
        let refinery = write_one(Layout::Refinery, dir.path(), 7, &m);
        assert_eq!((refinery.version, refinery.up_file.as_str()), (7, "V7__index_tasks.sql"));
        assert!(tools::refinery_no_transaction(&refinery.up_text));
        write_one(Layout::Flyway, dir.path(), 7, &m);
        assert_eq!(read("V7__index_tasks.sql.conf"), "executeInTransaction=false\n");
        assert_eq!(read("U7__index_tasks.sql.conf"), "executeInTransaction=false\n");
        let goose = write_one(Layout::Goose, dir.path(), 1, &m);
        assert!(goose.up_text.starts_with("-- +goose NO TRANSACTION\n-- +goose Up\n-- why\n"), "{}", goose.up_text);
        let golang = write_one(Layout::GolangMigrate, dir.path(), 1, &m);
        assert_eq!(golang.up_text, m.up, "golang-migrate has no marker: migrator's directive stays");
    }

    #[test]
    fn refinerys_annotation_is_a_line_of_its_own() {
        for yes in [
            "-- refinery:noTransaction",
            "--refinery:noTransaction",
            "---- refinery:noTransaction",
            "SELECT 1;\n-- refinery:noTransaction\r\n",
        ] {
            assert!(tools::refinery_no_transaction(yes), "{yes:?}");
        }
        for no in [
            "- refinery:noTransaction",
            "--  refinery:noTransaction",
            "-- refinery:noTransaction please",
            " -- refinery:noTransaction",
            "-- refinery:notransaction",
        ] {
            assert!(!tools::refinery_no_transaction(no), "{no:?}");
        }
    }
}
