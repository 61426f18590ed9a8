//! Maintenance (VACUUM, CLUSTER, REINDEX, OPTIMIZE), LOCK, TRUNCATE, DO blocks and data changes.

use super::*;

pub(super) fn truncate(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    c.eat("TABLE");
    c.eat("ONLY");
    let tables: Vec<String> = names(&mut c).iter().filter(|n| !ctx.is_new(n.key())).map(Name::shown).collect();
    if tables.is_empty() {
        return;
    }
    let cascade =
        if has_top_level(c.rest(), "CASCADE") { ", and CASCADE empties every table that references it" } else { "" };
    ctx.emit(&rules::TRUNCATE, start, format!("`TRUNCATE {}` deletes every row{cascade}", tables.join(", ")));
}

/// Whether option `name` is on among `VACUUM (…)`-style options (`FULL`, `FULL true`, not `FULL false`).
fn option_enabled(options: &[Tok<'_>], name: &str) -> bool {
    split_commas(options).iter().any(|option| match option {
        [word] => word.is(name),
        [word, value, ..] => word.is(name) && !value.is_any(&["FALSE", "OFF"]) && value.text != "0",
        _ => false,
    })
}

pub(super) fn vacuum(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    ctx.not_in_transaction(start, "`VACUUM`");
    let mut full = c.group().is_some_and(|options| option_enabled(options, "FULL"));
    while let Some(word) = c.eat_any(&["FULL", "FREEZE", "VERBOSE", "ANALYZE"]) {
        full |= word == "FULL";
    }
    let named = names(&mut c);
    let tables: Vec<String> = named.iter().filter(|n| !ctx.is_new(n.key())).map(Name::shown).collect();
    let target = if tables.is_empty() { "every table".to_owned() } else { format!("`{}`", tables.join(", ")) };
    if full && (named.is_empty() || !tables.is_empty()) {
        ctx.emit(
            &rules::VACUUM_FULL,
            start,
            format!("`VACUUM FULL` rewrites {target} under an ACCESS EXCLUSIVE lock, blocking reads and writes"),
        );
    }
}

pub(super) fn cluster(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    c.group();
    c.eat("VERBOSE");
    let Some(table) = c.name() else {
        ctx.not_in_transaction(start, "`CLUSTER` without a table");
        ctx.emit(
            &rules::VACUUM_FULL,
            start,
            "`CLUSTER` rewrites every clustered table under an ACCESS EXCLUSIVE lock, blocking reads and writes"
                .to_owned(),
        );
        return;
    };
    // The old form is `CLUSTER index ON table`.
    let table = if c.eat("ON") { c.name().unwrap_or(table) } else { table };
    if ctx.is_new(table.key()) {
        return;
    }
    ctx.emit(
        &rules::VACUUM_FULL,
        start,
        format!("`CLUSTER` rewrites `{}` under an ACCESS EXCLUSIVE lock, blocking reads and writes", table.shown()),
    );
}

pub(super) fn reindex(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    let mut concurrently = c.group().is_some_and(|options| option_enabled(options, "CONCURRENTLY"));
    let Some(kind) = c.eat_any(&["INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM"]) else { return };
    concurrently |= c.eat("CONCURRENTLY");
    let target = c.name();
    if concurrently {
        ctx.concurrently_in_transaction(start, "`REINDEX … CONCURRENTLY`");
        return;
    }
    if matches!(kind, "SCHEMA" | "DATABASE" | "SYSTEM") {
        ctx.not_in_transaction(start, &format!("`REINDEX {kind}`"));
    }
    let new = target.as_ref().is_some_and(|t| match kind {
        "INDEX" => ctx.created_indexes.contains(t.key()),
        "TABLE" => ctx.is_new(t.key()),
        _ => false,
    });
    if kind == "SYSTEM" || new {
        return;
    }
    let shown = target.map(|t| format!(" {}", t.shown())).unwrap_or_default();
    ctx.emit(
        &rules::REINDEX_NOT_CONCURRENT,
        start,
        format!("`REINDEX {kind}{shown}` without CONCURRENTLY blocks writes (and reads that use the index) for the whole rebuild"),
    );
}

pub(super) fn lock(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    c.eat_any(&["TABLE", "TABLES"]);
    c.eat("ONLY");
    let tables: Vec<String> = split_commas(c.rest())
        .iter()
        .filter_map(|part| Cursor::new(part).name())
        .filter(|n| !ctx.is_new(n.key()))
        .map(|n| n.shown())
        .collect();
    if tables.is_empty() {
        return;
    }
    ctx.emit(
        &rules::LOCK_TABLE,
        start,
        format!("`LOCK` on `{}` blocks other sessions for the rest of the migration", tables.join(", ")),
    );
}

pub(super) fn optimize(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    c.eat_any(&["NO_WRITE_TO_BINLOG", "LOCAL"]);
    if c.eat_any(&["TABLE", "TABLES"]).is_none() {
        return;
    }
    let tables: Vec<String> = names(&mut c).iter().filter(|n| !ctx.is_new(n.key())).map(Name::shown).collect();
    if tables.is_empty() {
        return;
    }
    ctx.emit(&rules::OPTIMIZE_TABLE, start, format!("`OPTIMIZE TABLE {}` rebuilds the whole table", tables.join(", ")));
}

/// `CALL p()` of a procedure these migrations created with a body that commits.
pub(super) fn call(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    let Some(procedure) = c.name() else { return };
    if !ctx.transactional {
        return;
    }
    if let Some(word) = ctx.schema.procedure_commits(procedure.key()) {
        let message = format!(
            "`CALL {}` runs a procedure whose body runs `{word}`, which PostgreSQL refuses inside the migration's transaction",
            procedure.shown()
        );
        ctx.emit(&rules::NOT_ALLOWED_IN_TRANSACTION, start, message);
    }
}

/// `DO $$ … COMMIT; … $$`: procedures and DO blocks may commit only outside a transaction
/// block.
pub(super) fn do_block(ctx: &mut Ctx<'_>, toks: &[Tok<'_>]) {
    if !ctx.transactional {
        return;
    }
    let Some((body, base)) = toks.iter().find_map(|t| t.string_body()) else { return };
    if let Some((offset, word)) = commit_in_body(body) {
        ctx.emit(
            &rules::NOT_ALLOWED_IN_TRANSACTION,
            base + offset,
            format!("this DO block runs `{word}`, which PostgreSQL refuses inside the migration's transaction"),
        );
    }
}

/// The offset and word of a `COMMIT` or `ROLLBACK` statement in a PL/pgSQL body.
pub(super) fn commit_in_body(body: &str) -> Option<(usize, &'static str)> {
    let tokens = tokenize(body, Dialect::Postgres).ok()?;
    let significant: Vec<Tok<'_>> = tokens
        .iter()
        .filter(|t| !t.kind.is_trivia())
        .map(|t| Tok { kind: t.kind, text: t.text(body), offset: t.range.start })
        .collect();
    significant.iter().enumerate().find_map(|(i, tok)| {
        let word = ["COMMIT", "ROLLBACK"].into_iter().find(|kw| tok.is(kw))?;
        let previous = i.checked_sub(1).and_then(|p| significant.get(p));
        let starts_statement =
            previous.is_none_or(|p| p.kind == TokenKind::Semicolon || p.is_any(&["BEGIN", "THEN", "ELSE", "LOOP"]));
        let next = significant.get(i + 1);
        // `COMMIT PREPARED`, `ROLLBACK TO SAVEPOINT`, and a variable named `commit`
        // (`commit := 1`) are not transaction ends.
        let continues =
            next.is_some_and(|n| n.kind == TokenKind::Punct || n.is("PREPARED") || (word == "ROLLBACK" && n.is("TO")));
        (starts_statement && !continues).then_some((tok.offset, word))
    })
}

/// Skips `WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (…) [, …]`.
pub(super) fn skip_ctes(c: &mut Cursor<'_, '_>) {
    c.eat("RECURSIVE");
    loop {
        if c.name().is_none() {
            return;
        }
        c.group();
        c.eat("AS");
        c.eat("NOT");
        c.eat("MATERIALIZED");
        c.group();
        if !c.eat_punct(',') {
            return;
        }
    }
}

pub(super) fn data_change(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, verb: &str, start: usize) {
    while c.eat_any(&["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "QUICK", "IGNORE"]).is_some() {}
    // SQLite's conflict clause: `INSERT OR IGNORE`, `UPDATE OR REPLACE`.
    if ctx.sqlite() && c.eat("OR") {
        c.next();
    }
    match verb {
        "INSERT" | "REPLACE" | "MERGE" => {
            c.eat("INTO");
        }
        "DELETE" => {
            c.eat("FROM");
        }
        "UPDATE" => {}
        _ => return,
    }
    c.eat("ONLY");
    let Some(table) = c.name() else { return };
    if ctx.is_new(table.key()) {
        return;
    }
    ctx.dml_existing.get_or_insert((start, table.shown()));
    if !matches!(verb, "UPDATE" | "DELETE") {
        return;
    }
    let rest = c.rest();
    if has_top_level(rest, "WHERE") || (ctx.mysql() && has_top_level(rest, "LIMIT")) {
        return;
    }
    let message = if verb == "UPDATE" {
        format!(
            "`UPDATE {}` without WHERE rewrites every row in one statement, holding their locks until it ends",
            table.shown()
        )
    } else {
        format!(
            "`DELETE FROM {}` without WHERE deletes every row in one statement, holding their locks until it ends",
            table.shown()
        )
    };
    ctx.emit(&rules::UNBATCHED_BACKFILL, start, message);
}
