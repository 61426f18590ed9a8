//! The statement rules: each top-level statement is recognised by its leading keywords and
//! checked with token patterns. Statements inside function, procedure and trigger bodies are
//! never top-level (they are part of their `CREATE …` statement, or dollar-quoted strings),
//! so they are not checked, except that a `DO` block's body is searched for `COMMIT`.
//!
//! `create.rs` holds CREATE, DROP and the type-hygiene rules, `alter.rs` ALTER TABLE and
//! RENAME TABLE, `other.rs` the remaining statements (maintenance, locks, `DO`, data changes).

mod alter;
mod create;
mod other;

use std::collections::{HashMap, HashSet};

use crate::classify;
use crate::dialect::Dialect;
use crate::split::{Statement, TokenKind, tokenize};
use crate::version::Phase;

use super::rules::{self, Rule};
use super::schema::{self, Column, ColumnDef, NotNullCheck, Schema, Table, parse_column, parse_type};
use crate::split::Lines;

use super::tokens::{Cursor, Name, Tok, find_top_level, has_top_level, split_commas, statement_tokens};

/// A finding before levels, allows and positions are applied.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) rule: &'static Rule,
    /// Byte offset in the script.
    pub(crate) offset: usize,
    pub(crate) message: String,
    /// A more precise safe alternative than the rule's own.
    pub(crate) help: Option<String>,
}

/// One script to check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScriptInput<'a> {
    pub(crate) text: &'a str,
    pub(crate) statements: &'a [Statement],
    pub(crate) dialect: Dialect,
    /// Runs inside a transaction (no `-- migrator:no-transaction`).
    pub(crate) transactional: bool,
    pub(crate) phase: Phase,
}

/// Checks one script, updating `schema` with what it creates and changes.
pub(crate) fn check_script(schema: &mut Schema, input: ScriptInput<'_>) -> Vec<Raw> {
    // The script was split, so it lexes.
    let tokens = tokenize(input.text, input.dialect).unwrap_or_default();
    let lines = Lines::new(input.text);
    let mut ctx = Ctx {
        dialect: input.dialect,
        transactional: input.transactional,
        alone: input.statements.len() == 1,
        phase: input.phase,
        schema,
        created: HashSet::new(),
        created_indexes: HashSet::new(),
        not_valid: HashSet::new(),
        ddl_existing: None,
        dml_existing: None,
        ddl_statements: Vec::new(),
        dropped: HashMap::new(),
        out: Vec::new(),
    };
    for statement in input.statements {
        let toks = statement_tokens(input.text, &tokens, statement.range.clone(), input.dialect);
        check_statement(&mut ctx, &toks, statement.text(input.text));
    }
    if let (Some(ddl), Some((dml, table))) = (ctx.ddl_existing, ctx.dml_existing.take()) {
        let (ddl_line, _) = lines.position(ddl);
        ctx.emit(
            &rules::MIXED_DDL_DML,
            dml,
            format!(
                "this migration changes the schema of an existing table (line {ddl_line}) and the data of `{table}`: \
                 in a transaction, the schema change's locks are held for the whole data change, and either way it is hard to roll back"
            ),
        );
    }
    if let Some(&second) = ctx.ddl_statements.get(1) {
        let count = ctx.ddl_statements.len();
        ctx.emit(
            &rules::MYSQL_MULTI_DDL,
            second,
            format!(
                "this migration has {count} DDL statements: MySQL commits each one on its own, so a failure leaves the earlier ones applied"
            ),
        );
    }
    ctx.out
}

struct Ctx<'s> {
    dialect: Dialect,
    transactional: bool,
    /// The script has a single statement.
    alone: bool,
    phase: Phase,
    schema: &'s mut Schema,
    /// Tables (and materialized views) created earlier in this script, by their own name.
    created: HashSet<String>,
    created_indexes: HashSet<String>,
    /// Constraints added `NOT VALID` in this script.
    not_valid: HashSet<String>,
    /// Offset of the first schema change on an existing table.
    ddl_existing: Option<usize>,
    /// Offset and table of the first data change on an existing table.
    dml_existing: Option<(usize, String)>,
    /// Offsets of the statements MySQL commits implicitly.
    ddl_statements: Vec<usize>,
    /// SQLite: existing tables dropped in this script, by name, for the rebuild pattern.
    dropped: HashMap<String, Dropped>,
    out: Vec<Raw>,
}

/// An existing table dropped earlier in the script: where, and its columns if known.
struct Dropped {
    offset: usize,
    table: Option<Table>,
}

impl Ctx<'_> {
    fn emit(&mut self, rule: &'static Rule, offset: usize, message: String) {
        self.out.push(Raw { rule, offset, message, help: None });
    }

    fn emit_help(&mut self, rule: &'static Rule, offset: usize, message: String, help: impl Into<String>) {
        self.out.push(Raw { rule, offset, message, help: Some(help.into()) });
    }

    fn pg(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    fn mysql(&self) -> bool {
        self.dialect == Dialect::MySql
    }

    fn sqlite(&self) -> bool {
        self.dialect == Dialect::Sqlite
    }

    fn contract(&self) -> bool {
        self.phase == Phase::Contract
    }

    fn is_new(&self, table: &str) -> bool {
        self.created.contains(table)
    }

    fn schema_change(&mut self, offset: usize) {
        self.ddl_existing.get_or_insert(offset);
    }

    fn not_in_transaction(&mut self, offset: usize, what: &str) {
        if self.transactional {
            self.emit(
                &rules::NOT_ALLOWED_IN_TRANSACTION,
                offset,
                format!("{what} cannot run inside a transaction block, and this migration runs in one"),
            );
        }
    }

    fn concurrently_in_transaction(&mut self, offset: usize, what: &str) {
        if !self.transactional {
            return;
        }
        let message = format!("{what} cannot run inside a transaction block, and this migration runs in one");
        if self.alone {
            // Already a migration of its own: only the directive is missing.
            let help = "add `-- migrator:no-transaction` at the top of this file";
            self.emit_help(&rules::CONCURRENTLY_IN_TRANSACTION, offset, message, help);
        } else {
            self.emit(&rules::CONCURRENTLY_IN_TRANSACTION, offset, message);
        }
    }
}

fn check_statement(ctx: &mut Ctx<'_>, toks: &[Tok<'_>], text: &str) {
    let Some(first) = toks.first() else { return };
    let start = first.offset;
    identifiers(ctx, toks);
    if let Some(what) = transaction_control(ctx.dialect, toks) {
        let consequence = match what.split(' ').next().unwrap_or("") {
            "BEGIN" | "START" => {
                "the runner already owns the transaction, and a BEGIN without COMMIT silently loses the change"
            }
            "ROLLBACK" | "ABORT" => "it throws away the runner's transaction, and the history row with it",
            "END" => {
                "it ends the runner's transaction early, splitting the migration from its history row (if this END \
                 was meant to close a trigger or function body above, a name spelled like a keyword in that body, \
                 such as a column `end` used as an alias, ended it early: quote that name)"
            }
            _ => "it ends the runner's transaction early, splitting the migration from its history row",
        };
        ctx.emit(
            &rules::TRANSACTION_CONTROL,
            start,
            format!("`{what}` at the top level of a migration: {consequence}"),
        );
        return;
    }
    if ctx.mysql() && classify::commits_implicitly(Dialect::MySql, text) {
        ctx.ddl_statements.push(start);
    }
    if ctx.sqlite()
        && let Some(what) = classify::outside_transaction(Dialect::Sqlite, text)
    {
        if ctx.transactional {
            let help = if what.starts_with("`PRAGMA foreign_keys") {
                "delete it: a transactional migration on SQLite already runs with foreign-key enforcement off and \
                 runs `PRAGMA foreign_key_check` before it commits; or mark the migration `-- migrator:no-transaction`"
            } else {
                "run it in a migration of its own marked `-- migrator:no-transaction`"
            };
            ctx.emit_help(
                &rules::NOT_ALLOWED_IN_TRANSACTION,
                start,
                format!("{what} cannot run inside a transaction, and this migration runs in one"),
                help,
            );
        }
        return;
    }
    let mut c = Cursor::new(toks);
    c.next();
    let verb = first.text.to_ascii_uppercase();
    match verb.as_str() {
        "CREATE" => create::create(ctx, c, start),
        "DROP" => create::drop(ctx, c, start),
        "ALTER" => alter::alter(ctx, c, start),
        "RENAME" => alter::rename_tables(ctx, c),
        "TRUNCATE" => other::truncate(ctx, c, start),
        "VACUUM" if ctx.pg() => other::vacuum(ctx, c, start),
        "CLUSTER" if ctx.pg() => other::cluster(ctx, c, start),
        "REINDEX" if ctx.pg() => other::reindex(ctx, c, start),
        "LOCK" => other::lock(ctx, c, start),
        "OPTIMIZE" if ctx.mysql() => other::optimize(ctx, c, start),
        "DO" if ctx.pg() => other::do_block(ctx, toks),
        "CALL" if ctx.pg() => other::call(ctx, c, start),
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "REPLACE" => other::data_change(ctx, c, &verb, start),
        "WITH" => {
            other::skip_ctes(&mut c);
            if let Some(verb) = c.next().map(|t| t.text.to_ascii_uppercase()) {
                other::data_change(ctx, c, &verb, start);
            }
        }
        _ => {}
    }
}

/// If the statement is top-level transaction control, its leading words.
fn transaction_control(dialect: Dialect, toks: &[Tok<'_>]) -> Option<String> {
    let word = |i: usize| toks.get(i).filter(|t| t.kind == TokenKind::Word);
    let first = word(0)?;
    let second = word(1);
    let is_second = |kws: &[&str]| second.is_some_and(|t| t.is_any(kws));
    let control = if first.is("BEGIN") {
        !(is_second(&["ATOMIC"]) || (is_second(&["NOT"]) && word(2).is_some_and(|t| t.is("ATOMIC"))))
    } else if first.is("START") {
        is_second(&["TRANSACTION"])
    } else if first.is_any(&["COMMIT", "ROLLBACK"]) {
        // ROLLBACK TO SAVEPOINT stays inside the transaction.
        let to = toks.iter().take(3).any(|t| t.is("TO"));
        !(first.is("ROLLBACK") && to)
    } else if first.is("END") {
        matches!(dialect, Dialect::Postgres | Dialect::Sqlite)
    } else if first.is("ABORT") {
        dialect == Dialect::Postgres
    } else if first.is("PREPARE") {
        dialect == Dialect::Postgres && is_second(&["TRANSACTION"])
    } else {
        false
    };
    control.then(|| {
        let words: Vec<String> =
            toks.iter().take(2).take_while(|t| t.kind == TokenKind::Word).map(|t| t.text.to_uppercase()).collect();
        if words.len() > 1 && !words.get(1).is_some_and(|w| matches!(w.as_str(), "TRANSACTION" | "WORK")) {
            words.first().cloned().unwrap_or_default()
        } else {
            words.join(" ")
        }
    })
}

/// `identifier-too-long`: every name in the statement, once.
fn identifiers(ctx: &mut Ctx<'_>, toks: &[Tok<'_>]) {
    let mut seen: HashSet<String> = HashSet::new();
    // A name is never longer than its source text: most tokens need no further look.
    for tok in toks.iter().filter(|t| t.is_name() && t.text.len() > 63) {
        let name = tok.ident();
        let too_long = match ctx.dialect {
            Dialect::Postgres => name.len() > 63,
            Dialect::MySql => name.chars().count() > 64,
            // SQLite has no length limit on names.
            Dialect::Sqlite => false,
        };
        if !too_long || seen.contains(&name) {
            continue;
        }
        let message = match ctx.dialect {
            Dialect::Postgres => {
                let mut end = 63;
                while !name.is_char_boundary(end) {
                    end -= 1;
                }
                format!(
                    "`{name}` is {} bytes long: PostgreSQL silently truncates names to 63 bytes, so it becomes `{}` and may collide with another name",
                    name.len(),
                    name.get(..end).unwrap_or("")
                )
            }
            Dialect::MySql | Dialect::Sqlite => format!(
                "`{name}` is {} characters long: MySQL rejects names longer than 64 characters",
                name.chars().count()
            ),
        };
        ctx.emit(&rules::IDENTIFIER_TOO_LONG, tok.offset, message);
        seen.insert(name);
    }
}

/// Whether a table element (or what follows `ADD`) is a constraint or index rather than a
/// column.
fn is_table_constraint(toks: &[Tok<'_>], dialect: Dialect) -> bool {
    let (Some(first), second) = (toks.first(), toks.get(1)) else { return false };
    if first.kind != TokenKind::Word {
        return false;
    }
    let second_is = |kws: &[&str]| second.is_some_and(|t| t.is_any(kws));
    if first.is_any(&["CONSTRAINT", "UNIQUE", "CHECK", "LIKE"]) {
        return true;
    }
    if first.is_any(&["PRIMARY", "FOREIGN"]) {
        return second_is(&["KEY"]);
    }
    if first.is("EXCLUDE") {
        return second_is(&["USING"]) || second.is_some_and(|t| t.is_punct('('));
    }
    dialect == Dialect::MySql && first.is_any(&["KEY", "INDEX", "FULLTEXT", "SPATIAL", "PARTITION"])
}

/// The column names in the first parenthesised group of `toks`.
fn group_columns(toks: &[Tok<'_>]) -> Vec<String> {
    let mut c = Cursor::new(toks);
    while !c.at_end() {
        if let Some(inner) = c.group() {
            return split_commas(inner).iter().filter_map(|part| part.first().map(Tok::ident)).collect();
        }
        c.next();
    }
    Vec::new()
}

/// A comma-separated list of names.
fn names<'a>(c: &mut Cursor<'_, 'a>) -> Vec<Name<'a>> {
    let mut names = Vec::new();
    while let Some(name) = c.name() {
        names.push(name);
        c.eat_punct('*');
        if !c.eat_punct(',') {
            break;
        }
    }
    names
}
