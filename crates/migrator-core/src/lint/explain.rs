//! What each statement of a script does to the tables it touches, for `migrator plan
//! --explain`: the lock it takes (PostgreSQL's lock level; MySQL's online DDL algorithm and
//! lock; SQLite's database write lock), whether it rewrites the table, scans it (to build an
//! index or check a constraint) or changes rows, and which table. A reviewer reads
//! "ACCESS EXCLUSIVE on orders: rewrites the table" before approving.
//!
//! It reads the statement's words, as the linter does, and assumes the server's documented
//! behaviour for its version family (PostgreSQL 11+, MySQL 8.0 / MariaDB 10.6+). Where the
//! answer depends on what the statement's words cannot tell (a type change that is binary
//! compatible, a default that is volatile), it says so in [`Effect::note`] and errs towards
//! the costly answer.

use crate::dialect::Dialect;
use crate::split::{Statement, tokenize};

use super::tokens::{Cursor, Tok, has_top_level, statement_tokens};

/// What one statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Effect {
    /// 1-based line of the statement in its file.
    pub line: usize,
    /// The table (or index, view) it works on, as written; `None` when none.
    pub table: Option<String>,
    /// The lock it takes on that table: PostgreSQL's level (`ACCESS EXCLUSIVE`), MySQL's
    /// online DDL algorithm and lock (`ALGORITHM=INPLACE, LOCK=NONE`), SQLite's write lock;
    /// `None` when it takes none worth naming (`SET`, `SELECT`).
    pub lock: Option<&'static str>,
    /// Whether other sessions' writes to the table wait while it runs.
    pub blocks_writes: bool,
    /// Whether other sessions' reads of the table wait while it runs.
    pub blocks_reads: bool,
    /// Whether it rewrites the whole table (time and disk grow with its size).
    pub rewrites: bool,
    /// Whether it reads the whole table (an index build, a constraint check).
    pub scans: bool,
    /// Whether it changes rows (DML).
    pub changes_rows: bool,
    /// What the words could not settle, or what to know.
    pub note: Option<&'static str>,
    /// The table a foreign key it adds references (locked too; a rehearsal fills it), as
    /// written.
    pub references: Option<String>,
}

impl Effect {
    fn new(line: usize) -> Effect {
        Effect {
            line,
            table: None,
            lock: None,
            blocks_writes: false,
            blocks_reads: false,
            rewrites: false,
            scans: false,
            changes_rows: false,
            note: None,
            references: None,
        }
    }
}

/// PostgreSQL's lock levels, with what they block.
mod pg {
    pub(super) const ACCESS_EXCLUSIVE: (&str, bool, bool) = ("ACCESS EXCLUSIVE", true, true);
    pub(super) const EXCLUSIVE: (&str, bool, bool) = ("EXCLUSIVE", true, false);
    pub(super) const SHARE_ROW_EXCLUSIVE: (&str, bool, bool) = ("SHARE ROW EXCLUSIVE", true, false);
    pub(super) const SHARE: (&str, bool, bool) = ("SHARE", true, false);
    pub(super) const SHARE_UPDATE_EXCLUSIVE: (&str, bool, bool) = ("SHARE UPDATE EXCLUSIVE", false, false);
    pub(super) const ROW_EXCLUSIVE: (&str, bool, bool) = ("ROW EXCLUSIVE", false, false);
}

/// Functions whose value differs per row: a default calling one rewrites the table.
const VOLATILE: [&str; 6] = ["random", "gen_random_uuid", "uuid_generate_v4", "clock_timestamp", "nextval", "uuidv7"];

/// The effect of each statement of `text`, in order.
pub fn explain(text: &str, statements: &[Statement], dialect: Dialect) -> Vec<Effect> {
    let tokens = tokenize(text, dialect).unwrap_or_default();
    statements
        .iter()
        .map(|statement| {
            let toks = statement_tokens(text, &tokens, statement.range.clone(), dialect);
            let mut effect = Effect::new(statement.line);
            match dialect {
                Dialect::Postgres => postgres(&toks, &mut effect),
                Dialect::MySql => mysql(&toks, &mut effect),
                Dialect::Sqlite => sqlite(&toks, &mut effect),
            }
            effect
        })
        .collect()
}

fn lock(effect: &mut Effect, (name, writes, reads): (&'static str, bool, bool)) {
    effect.lock = Some(name);
    effect.blocks_writes = writes;
    effect.blocks_reads = reads;
}

/// `INSERT INTO t`, `UPDATE t`, `DELETE FROM t`, `MERGE INTO t`: the table, if it is one.
fn dml(c: &mut Cursor<'_, '_>) -> Option<String> {
    if c.eat("INSERT") || c.eat("MERGE") || c.eat("REPLACE") {
        c.eat("INTO");
    } else if c.eat("DELETE") {
        c.eat("FROM");
    } else if c.eat("UPDATE") {
        c.eat("ONLY");
    } else {
        return None;
    }
    c.eat("ONLY");
    c.name().map(|n| n.shown())
}

fn words_after(toks: &[Tok<'_>], kw: &str) -> bool {
    has_top_level(toks, kw)
}

fn postgres(toks: &[Tok<'_>], e: &mut Effect) {
    let mut c = Cursor::new(toks);
    if let Some(table) = dml(&mut c.clone()) {
        e.table = Some(table);
        lock(e, pg::ROW_EXCLUSIVE);
        e.changes_rows = true;
        if toks.first().is_some_and(|t| t.is_any(&["UPDATE", "DELETE"])) && !words_after(toks, "WHERE") {
            e.note = Some("no WHERE: every row");
        }
        return;
    }
    if c.eat("CREATE") {
        c.eat("UNIQUE");
        if c.eat("INDEX") {
            let concurrently = c.eat("CONCURRENTLY");
            c.eat_if_exists();
            if !c.is("ON") {
                c.name();
            }
            c.eat("ON");
            c.eat("ONLY");
            e.table = c.name().map(|n| n.shown());
            e.scans = true;
            lock(e, if concurrently { pg::SHARE_UPDATE_EXCLUSIVE } else { pg::SHARE });
            return;
        }
        if c.is_any(&["TABLE", "TEMP", "TEMPORARY", "UNLOGGED"]) {
            e.note = Some("a new table: nobody waits for it");
            e.lock = Some("ACCESS EXCLUSIVE (new table)");
            return;
        }
        return;
    }
    if c.eat("DROP") {
        if c.eat("INDEX") {
            let concurrently = c.eat("CONCURRENTLY");
            c.eat_if_exists();
            e.table = c.name().map(|n| n.shown());
            lock(e, if concurrently { pg::SHARE_UPDATE_EXCLUSIVE } else { pg::ACCESS_EXCLUSIVE });
            e.note = Some("the lock is on the index's table");
        } else if c.eat("TABLE") || c.eat_all(&["MATERIALIZED", "VIEW"]) || c.eat("VIEW") {
            c.eat_if_exists();
            e.table = c.name().map(|n| n.shown());
            lock(e, pg::ACCESS_EXCLUSIVE);
        }
        return;
    }
    if c.eat("TRUNCATE") {
        c.eat("TABLE");
        c.eat("ONLY");
        e.table = c.name().map(|n| n.shown());
        lock(e, pg::ACCESS_EXCLUSIVE);
        e.changes_rows = true;
        return;
    }
    if c.eat("VACUUM") {
        let mut full = false;
        loop {
            if c.group().is_some_and(|options| options.iter().any(|t| t.is("FULL"))) || c.eat("FULL") {
                full = true;
            } else if c.eat_any(&["FREEZE", "VERBOSE", "ANALYZE"]).is_none() {
                break;
            }
        }
        e.table = c.name().map(|n| n.shown());
        if full {
            lock(e, pg::ACCESS_EXCLUSIVE);
            e.rewrites = true;
        } else {
            lock(e, pg::SHARE_UPDATE_EXCLUSIVE);
        }
        return;
    }
    if c.eat("CLUSTER") {
        e.table = c.name().map(|n| n.shown());
        lock(e, pg::ACCESS_EXCLUSIVE);
        e.rewrites = true;
        return;
    }
    if c.eat("REINDEX") {
        c.eat_any(&["TABLE", "INDEX"]);
        let concurrently = c.eat("CONCURRENTLY");
        e.table = c.name().map(|n| n.shown());
        e.scans = true;
        lock(e, if concurrently { pg::SHARE_UPDATE_EXCLUSIVE } else { pg::ACCESS_EXCLUSIVE });
        return;
    }
    if c.eat_all(&["REFRESH", "MATERIALIZED", "VIEW"]) {
        let concurrently = c.eat("CONCURRENTLY");
        e.table = c.name().map(|n| n.shown());
        e.scans = true;
        lock(e, if concurrently { pg::EXCLUSIVE } else { pg::ACCESS_EXCLUSIVE });
        return;
    }
    if c.eat("LOCK") {
        c.eat("TABLE");
        c.eat("ONLY");
        e.table = c.name().map(|n| n.shown());
        lock(e, pg::ACCESS_EXCLUSIVE);
        e.note = Some("the mode it names, ACCESS EXCLUSIVE unless it says otherwise");
        return;
    }
    if c.eat("ALTER") && (c.eat("TABLE") || c.eat_all(&["MATERIALIZED", "VIEW"])) {
        c.eat_if_exists();
        c.eat("ONLY");
        e.table = c.name().map(|n| n.shown());
        alter_table_pg(c.rest(), e);
    }
}

/// One `ALTER TABLE` (its actions after the name): the strongest lock and every cost.
fn alter_table_pg(rest: &[Tok<'_>], e: &mut Effect) {
    let actions = super::tokens::split_commas(rest);
    let mut level = pg::SHARE_UPDATE_EXCLUSIVE;
    let mut stronger = |candidate: (&'static str, bool, bool)| {
        let rank = |l: &str| match l {
            "ACCESS EXCLUSIVE" => 4,
            "SHARE ROW EXCLUSIVE" => 3,
            "SHARE" => 2,
            _ => 1,
        };
        if rank(candidate.0) > rank(level.0) {
            level = candidate;
        }
    };
    for action in actions {
        let mut c = Cursor::new(action);
        let has = |kw: &str| action.iter().any(|t| t.is(kw));
        referenced(action, e);
        if c.eat("ADD") {
            let constraint = c.eat("CONSTRAINT").then(|| c.name());
            let _ = constraint;
            if c.is_any(&["CHECK"]) || has("CHECK") && !c.is("COLUMN") && constraint_like(action) {
                stronger(pg::ACCESS_EXCLUSIVE);
                if !has("VALID") {
                    e.scans = true;
                }
            } else if has("FOREIGN") || has("REFERENCES") && constraint_like(action) {
                stronger(pg::SHARE_ROW_EXCLUSIVE);
                if !has("VALID") {
                    e.scans = true;
                }
                e.note = Some("SHARE ROW EXCLUSIVE on the referenced table too");
            } else if has("PRIMARY") || has("UNIQUE") || has("EXCLUDE") {
                stronger(pg::ACCESS_EXCLUSIVE);
                if !has("USING") {
                    e.scans = true;
                }
            } else {
                // ADD [COLUMN]
                stronger(pg::ACCESS_EXCLUSIVE);
                let volatile = action.iter().any(|t| VOLATILE.iter().any(|f| t.is(f)));
                if has("STORED") || volatile {
                    e.rewrites = true;
                }
                if has("DEFAULT") && !volatile && !has("STORED") {
                    e.note.get_or_insert("a default is stored once (PostgreSQL 11+), unless it is volatile");
                }
            }
        } else if c.eat("ALTER") {
            c.eat("COLUMN");
            c.name();
            if c.eat("TYPE") || c.eat_all(&["SET", "DATA", "TYPE"]) {
                stronger(pg::ACCESS_EXCLUSIVE);
                e.rewrites = true;
                e.note = Some(
                    "no rewrite when the new type is binary compatible, such as varchar to text or a longer varchar",
                );
            } else if c.eat_all(&["SET", "NOT", "NULL"]) {
                stronger(pg::ACCESS_EXCLUSIVE);
                e.scans = true;
                e.note = Some("no scan when a validated CHECK (col IS NOT NULL) exists");
            } else if c.eat_all(&["SET", "STATISTICS"]) {
                stronger(pg::SHARE_UPDATE_EXCLUSIVE);
            } else {
                stronger(pg::ACCESS_EXCLUSIVE);
            }
        } else if c.eat_all(&["VALIDATE", "CONSTRAINT"]) {
            stronger(pg::SHARE_UPDATE_EXCLUSIVE);
            e.scans = true;
        } else if c.eat("SET") && (c.eat("LOGGED") || c.eat("UNLOGGED") || c.eat("TABLESPACE")) {
            stronger(pg::ACCESS_EXCLUSIVE);
            e.rewrites = true;
        } else if c.eat_all(&["ATTACH", "PARTITION"]) {
            stronger(pg::SHARE_UPDATE_EXCLUSIVE);
            e.scans = true;
            e.note = Some("ACCESS EXCLUSIVE on the partition attached; it is scanned unless a CHECK proves its bound");
        } else if c.eat_all(&["DETACH", "PARTITION"]) {
            stronger(if has("CONCURRENTLY") { pg::SHARE_UPDATE_EXCLUSIVE } else { pg::ACCESS_EXCLUSIVE });
        } else {
            // DROP, RENAME, OWNER, ENABLE/DISABLE TRIGGER and the rest.
            stronger(pg::ACCESS_EXCLUSIVE);
        }
    }
    lock(e, level);
}

/// Records the table after `REFERENCES` in `action`, if any.
fn referenced(action: &[Tok<'_>], e: &mut Effect) {
    let mut c = Cursor::new(action);
    if c.skip_past("REFERENCES")
        && let Some(name) = c.name()
    {
        e.references = Some(name.shown());
    }
}

/// Whether an `ADD` action adds a constraint rather than a column (`ADD CONSTRAINT`,
/// `ADD CHECK`, `ADD FOREIGN KEY`).
fn constraint_like(action: &[Tok<'_>]) -> bool {
    action.get(1).is_some_and(|t| t.is_any(&["CONSTRAINT", "CHECK", "FOREIGN", "PRIMARY", "UNIQUE", "EXCLUDE"]))
}

fn mysql(toks: &[Tok<'_>], e: &mut Effect) {
    let mut c = Cursor::new(toks);
    if let Some(table) = dml(&mut c.clone()) {
        e.table = Some(table);
        e.lock = Some("row locks");
        e.changes_rows = true;
        if toks.first().is_some_and(|t| t.is_any(&["UPDATE", "DELETE"])) && !words_after(toks, "WHERE") {
            e.note = Some("no WHERE: every row, locked until commit");
        }
        return;
    }
    let inplace_none = |e: &mut Effect| {
        e.lock = Some("ALGORITHM=INPLACE, LOCK=NONE");
    };
    if c.eat("CREATE") {
        c.eat_any(&["UNIQUE", "FULLTEXT", "SPATIAL"]);
        if c.eat("INDEX") {
            c.name();
            c.eat("ON");
            e.table = c.name().map(|n| n.shown());
            inplace_none(e);
            e.scans = true;
        } else if c.is_any(&["TABLE", "TEMPORARY"]) {
            e.lock = Some("new table");
        }
        return;
    }
    if c.eat("DROP") {
        if c.eat("INDEX") {
            c.name();
            c.eat("ON");
            e.table = c.name().map(|n| n.shown());
            inplace_none(e);
        } else if c.eat("TABLE") {
            c.eat_if_exists();
            e.table = c.name().map(|n| n.shown());
            e.lock = Some("exclusive metadata lock");
            e.blocks_reads = true;
            e.blocks_writes = true;
        }
        return;
    }
    if c.eat("TRUNCATE") || c.eat("RENAME") {
        c.eat("TABLE");
        e.table = c.name().map(|n| n.shown());
        e.lock = Some("exclusive metadata lock");
        e.blocks_reads = true;
        e.blocks_writes = true;
        return;
    }
    if c.eat("OPTIMIZE") {
        c.eat("TABLE");
        e.table = c.name().map(|n| n.shown());
        e.lock = Some("ALGORITHM=INPLACE, LOCK=NONE");
        e.rewrites = true;
        return;
    }
    if c.eat_all(&["ALTER", "TABLE"]) {
        e.table = c.name().map(|n| n.shown());
        let rest = c.rest();
        let has = |kw: &str| rest.iter().any(|t| t.is(kw));
        referenced(rest, e);
        let explicit = rest
            .iter()
            .position(|t| t.is("ALGORITHM"))
            .and_then(|i| rest.get(i + 1..))
            .and_then(|after| after.iter().find(|t| t.is_any(&["INSTANT", "INPLACE", "COPY", "NOCOPY"])))
            .map(|t| t.text.to_uppercase());
        if has("MODIFY") || has("CHANGE") && has("COLUMN") && rest.iter().filter(|t| t.is_name()).count() > 4 {
            e.lock = Some("ALGORITHM=COPY, LOCK=SHARED");
            e.blocks_writes = true;
            e.rewrites = true;
            e.note =
                Some("a type change copies the table; a rename or a longer VARCHAR within its length bytes is INPLACE");
        } else if has("FOREIGN") {
            e.lock = Some("ALGORITHM=INPLACE, LOCK=NONE");
            e.scans = true;
            e.note = Some("INPLACE only with foreign_key_checks = 0; else COPY");
        } else if has("PRIMARY") || has("ENGINE") || has("FORCE") || has("CONVERT") {
            e.lock = Some("ALGORITHM=INPLACE, LOCK=NONE");
            e.rewrites = true;
        } else if has("INDEX") || has("KEY") || has("UNIQUE") {
            inplace_none(e);
            e.scans = has("ADD");
        } else if has("ADD") || has("DROP") && has("COLUMN") || has("RENAME") {
            e.lock = Some("ALGORITHM=INSTANT");
            e.note = Some("INSTANT on MariaDB 10.4+ and MySQL 8.0.29+; older servers rebuild the table INPLACE");
        } else {
            inplace_none(e);
        }
        if explicit.as_deref() == Some("COPY") {
            e.lock = Some("ALGORITHM=COPY, LOCK=SHARED");
            e.blocks_writes = true;
            e.rewrites = true;
        }
        e.note.get_or_insert("every ALTER waits for an exclusive metadata lock at its start and end");
    }
}

fn sqlite(toks: &[Tok<'_>], e: &mut Effect) {
    let mut c = Cursor::new(toks);
    if let Some(table) = dml(&mut c.clone()) {
        e.table = Some(table);
        e.changes_rows = true;
    } else if c.eat("CREATE") {
        c.eat("UNIQUE");
        if c.eat("INDEX") {
            c.eat_if_exists();
            c.name();
            c.eat("ON");
            e.table = c.name().map(|n| n.shown());
            e.scans = true;
        }
    } else if c.eat_all(&["ALTER", "TABLE"]) || c.eat_all(&["DROP", "TABLE"]) {
        c.eat_if_exists();
        e.table = c.name().map(|n| n.shown());
    } else if c.eat("VACUUM") {
        e.rewrites = true;
    } else if !c.is_any(&["INSERT", "UPDATE", "DELETE", "DROP", "REPLACE"]) {
        return;
    }
    // SQLite has one writer: any change holds the database's write lock until it commits.
    e.lock = Some("database write lock");
    e.blocks_writes = true;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::split::split;

    fn one(sql: &str, dialect: Dialect) -> Effect {
        let statements = split(sql, dialect).unwrap();
        explain(sql, &statements, dialect).remove(0)
    }

    #[test]
    fn postgres_statements() {
        // sql -> (table, lock, blocks writes, blocks reads, rewrites, scans)
        let cases: [(&str, &str, &str, bool, bool, bool, bool); 16] = [
            ("CREATE INDEX i ON orders (a)", "orders", "SHARE", true, false, false, true),
            (
                "CREATE INDEX CONCURRENTLY i ON orders (a)",
                "orders",
                "SHARE UPDATE EXCLUSIVE",
                false,
                false,
                false,
                true,
            ),
            ("CREATE UNIQUE INDEX IF NOT EXISTS i ON s.orders (a)", "s.orders", "SHARE", true, false, false, true),
            ("ALTER TABLE orders ADD COLUMN note text", "orders", "ACCESS EXCLUSIVE", true, true, false, false),
            (
                "ALTER TABLE orders ADD COLUMN id2 uuid DEFAULT gen_random_uuid()",
                "orders",
                "ACCESS EXCLUSIVE",
                true,
                true,
                true,
                false,
            ),
            (
                "ALTER TABLE orders ALTER COLUMN total TYPE bigint",
                "orders",
                "ACCESS EXCLUSIVE",
                true,
                true,
                true,
                false,
            ),
            (
                "ALTER TABLE orders ALTER COLUMN total SET NOT NULL",
                "orders",
                "ACCESS EXCLUSIVE",
                true,
                true,
                false,
                true,
            ),
            (
                "ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0) NOT VALID",
                "orders",
                "ACCESS EXCLUSIVE",
                true,
                true,
                false,
                false,
            ),
            ("ALTER TABLE orders VALIDATE CONSTRAINT c", "orders", "SHARE UPDATE EXCLUSIVE", false, false, false, true),
            (
                "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id)",
                "orders",
                "SHARE ROW EXCLUSIVE",
                true,
                false,
                false,
                true,
            ),
            ("ALTER TABLE orders RENAME COLUMN a TO b", "orders", "ACCESS EXCLUSIVE", true, true, false, false),
            ("VACUUM (FULL, VERBOSE) orders", "orders", "ACCESS EXCLUSIVE", true, true, true, false),
            ("UPDATE orders SET total = 0", "orders", "ROW EXCLUSIVE", false, false, false, false),
            ("DROP INDEX CONCURRENTLY i", "i", "SHARE UPDATE EXCLUSIVE", false, false, false, false),
            ("TRUNCATE orders", "orders", "ACCESS EXCLUSIVE", true, true, false, false),
            ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "mv", "EXCLUSIVE", true, false, false, true),
        ];
        for (sql, table, level, writes, reads, rewrites, scans) in cases {
            let e = one(sql, Dialect::Postgres);
            assert_eq!(e.table.as_deref(), Some(table), "{sql}");
            assert_eq!(e.lock, Some(level), "{sql}");
            assert_eq!(
                (e.blocks_writes, e.blocks_reads, e.rewrites, e.scans),
                (writes, reads, rewrites, scans),
                "{sql}"
            );
        }
        let update = one("UPDATE orders SET total = 0", Dialect::Postgres);
        assert!(update.changes_rows && update.note == Some("no WHERE: every row"));
        assert_eq!(one("SET lock_timeout = '1s'", Dialect::Postgres).lock, None);
        let vacuum = one("VACUUM", Dialect::Postgres);
        assert_eq!((vacuum.table, vacuum.lock), (None, Some("SHARE UPDATE EXCLUSIVE")));
        let fk =
            one("ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES app.users (id)", Dialect::Postgres);
        assert_eq!(fk.references.as_deref(), Some("app.users"));
        assert_eq!(one("ALTER TABLE orders ADD COLUMN note text", Dialect::Postgres).references, None);
        let attach =
            one("ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM (1) TO (2)", Dialect::Postgres);
        assert_eq!((attach.lock, attach.blocks_writes, attach.scans), (Some("SHARE UPDATE EXCLUSIVE"), false, true));
    }

    #[test]
    fn mysql_statements() {
        let cases: [(&str, &str, bool, bool); 6] = [
            ("ALTER TABLE orders ADD COLUMN note TEXT", "ALGORITHM=INSTANT", false, false),
            ("ALTER TABLE orders MODIFY total BIGINT", "ALGORITHM=COPY, LOCK=SHARED", true, true),
            ("ALTER TABLE orders ADD INDEX i (a)", "ALGORITHM=INPLACE, LOCK=NONE", false, false),
            ("CREATE INDEX i ON orders (a)", "ALGORITHM=INPLACE, LOCK=NONE", false, false),
            ("ALTER TABLE orders ADD COLUMN x INT, ALGORITHM=COPY", "ALGORITHM=COPY, LOCK=SHARED", true, true),
            ("ALTER TABLE orders ENGINE=InnoDB", "ALGORITHM=INPLACE, LOCK=NONE", false, true),
        ];
        for (sql, lock, writes, rewrites) in cases {
            let e = one(sql, Dialect::MySql);
            assert_eq!(e.table.as_deref(), Some("orders"), "{sql}");
            assert_eq!(e.lock, Some(lock), "{sql}");
            assert_eq!((e.blocks_writes, e.rewrites), (writes, rewrites), "{sql}");
        }
    }

    #[test]
    fn mysql_foreign_keys_name_the_referenced_table() {
        let fk = one("ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id)", Dialect::MySql);
        assert_eq!(fk.references.as_deref(), Some("users"));
    }

    #[test]
    fn sqlite_statements() {
        let e = one("CREATE INDEX i ON orders (a)", Dialect::Sqlite);
        assert_eq!((e.table.as_deref(), e.lock, e.scans), (Some("orders"), Some("database write lock"), true));
        assert_eq!(one("SELECT 1", Dialect::Sqlite).lock, None);
    }

    #[test]
    fn every_statement_gets_an_effect_with_its_line() {
        let sql = "CREATE TABLE t (id int);\n\nCREATE INDEX i ON t (id);\n";
        let statements = split(sql, Dialect::Postgres).unwrap();
        let effects = explain(sql, &statements, Dialect::Postgres);
        assert_eq!(effects.iter().map(|e| e.line).collect::<Vec<_>>(), [1, 3]);
    }
}
