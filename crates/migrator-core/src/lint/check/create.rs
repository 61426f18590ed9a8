//! CREATE and DROP statements, and the PostgreSQL type-hygiene rules.

use super::*;

// ---------------------------------------------------------------------------------------
// CREATE
// ---------------------------------------------------------------------------------------

pub(super) fn create(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    c.eat_all(&["OR", "REPLACE"]);
    c.eat_any(&["GLOBAL", "LOCAL"]);
    c.eat_any(&["TEMP", "TEMPORARY"]);
    c.eat("UNLOGGED");
    if c.eat("TABLE") {
        create_table(ctx, c);
    } else if c.is_any(&["UNIQUE", "INDEX", "FULLTEXT", "SPATIAL"]) {
        create_index(ctx, c, start);
    } else if c.eat_all(&["MATERIALIZED", "VIEW"]) {
        c.eat_if_exists();
        if let Some(name) = c.name() {
            ctx.created.insert(name.key().to_owned());
        }
    } else if ctx.pg() && c.eat("PROCEDURE") {
        if let Some(name) = c.name() {
            let commits =
                c.rest().iter().find_map(|t| t.string_body()).and_then(|(body, _)| other::commit_in_body(body));
            ctx.schema.procedure(name.key(), commits.map(|(_, word)| word));
        }
    } else if ctx.pg() && c.is("DATABASE") {
        ctx.not_in_transaction(start, "`CREATE DATABASE`");
    } else if ctx.pg() && c.is("TABLESPACE") {
        ctx.not_in_transaction(start, "`CREATE TABLESPACE`");
    }
}

fn create_table(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>) {
    c.eat_if_exists();
    let Some(name) = c.name() else { return };
    let key = name.key().to_owned();
    ctx.created.insert(key.clone());
    let mut table = Table::default();
    if let Some(elements) = c.group() {
        let mut keys: Vec<String> = Vec::new();
        let mut defs: Vec<ColumnDef<'_, '_>> = Vec::new();
        for element in split_commas(elements) {
            if !is_table_constraint(element, ctx.dialect) {
                if let Some(def) = parse_column(element, ctx.dialect) {
                    defs.push(def);
                }
                continue;
            }
            let mut e = Cursor::new(element);
            let constraint = if e.eat("CONSTRAINT") { e.name().map(|n| n.key().to_owned()) } else { None };
            if e.is_any(&["PRIMARY", "FOREIGN"]) {
                let columns = group_columns(e.rest());
                if e.is("PRIMARY") {
                    for column in &columns {
                        if let Some(def) = defs.iter_mut().find(|d| &d.name == column) {
                            def.not_null = true;
                        }
                    }
                }
                keys.extend(columns);
            } else if e.eat("CHECK")
                && let (Some(check), Some(inner)) = (constraint, e.group())
                && let Some(column) = schema::not_null_check_column(inner)
            {
                table.checks.push(NotNullCheck { constraint: check, column, validated: true });
            }
        }
        for def in &defs {
            let is_key = def.primary_key || def.references || keys.contains(&def.name);
            hygiene(ctx, &name, def, is_key);
        }
        table.columns = defs.iter().map(Column::from_def).collect();
        table.charset = table_charset(c.rest());
    }
    table.partitioned = partitions(c.rest());
    let default_of = default_partition_of(c.rest());
    ctx.schema.create(&key, table);
    if let Some(parent) = default_of {
        ctx.schema.default_partition(&parent, &key);
    }
}

/// The parent of a `CREATE TABLE … PARTITION OF parent … DEFAULT`.
fn default_partition_of(toks: &[Tok<'_>]) -> Option<String> {
    let at = find_top_level(toks, |t| t.is("PARTITION"))?;
    let mut c = Cursor::new(toks.get(at + 1..)?);
    if !c.eat("OF") {
        return None;
    }
    let parent = c.name()?;
    has_top_level(c.rest(), "DEFAULT").then(|| parent.key().to_owned())
}

/// Whether a `CREATE TABLE`'s clauses after its column list partition it (`PARTITION BY` at
/// parenthesis depth 0; a partition's own `PARTITION OF` does not).
fn partitions(toks: &[Tok<'_>]) -> bool {
    let mut rest = toks;
    while let Some(at) = find_top_level(rest, |t| t.is("PARTITION")) {
        if rest.get(at + 1).is_some_and(|t| t.is("BY")) {
            return true;
        }
        rest = rest.get(at + 1..).unwrap_or_default();
    }
    false
}

/// MySQL table options: `[DEFAULT] CHARSET [=] x` / `CHARACTER SET [=] x`.
fn table_charset(toks: &[Tok<'_>]) -> Option<String> {
    let at = find_top_level(toks, |t| t.is_any(&["CHARSET", "CHARACTER"]))?;
    let mut c = Cursor::new(toks.get(at..)?);
    if !c.eat("CHARSET") && !c.eat_all(&["CHARACTER", "SET"]) {
        return None;
    }
    c.eat_punct('=');
    c.next().map(Tok::ident)
}

fn create_index(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    let unique = c.eat("UNIQUE");
    let special = c.eat_any(&["FULLTEXT", "SPATIAL"]);
    if !c.eat("INDEX") {
        return;
    }
    let concurrently = c.eat("CONCURRENTLY");
    c.eat_if_exists();
    let index = if c.is("ON") { None } else { c.name() };
    if !c.skip_past("ON") {
        return;
    }
    let only = c.eat("ONLY");
    let Some(table) = c.name() else { return };
    if let Some(index) = &index {
        ctx.created_indexes.insert(index.key().to_owned());
        if ctx.schema.table(table.key()).is_some_and(|t| t.partitioned) {
            ctx.schema.partitioned_index(index.key());
        }
    }
    if concurrently {
        ctx.concurrently_in_transaction(start, "`CREATE INDEX CONCURRENTLY`");
    }
    if ctx.is_new(table.key()) {
        return;
    }
    ctx.schema_change(start);
    if ctx.pg() && !concurrently && !only {
        let unique = if unique { "UNIQUE " } else { "" };
        if ctx.schema.table(table.key()).is_some_and(|t| t.partitioned) {
            // PostgreSQL refuses CONCURRENTLY on a partitioned table: the way round is per
            // partition.
            ctx.emit_help(
                &rules::INDEX_NOT_CONCURRENT,
                start,
                format!(
                    "`CREATE {unique}INDEX` on partitioned table `{}` blocks writes to every partition until each \
                     partition's index is built",
                    table.shown()
                ),
                format!(
                    "PostgreSQL cannot build an index on a partitioned table CONCURRENTLY: create it `ON ONLY {}` \
                     (which builds nothing), build each partition's index with `CREATE INDEX CONCURRENTLY` in a \
                     migration marked `-- migrator:no-transaction`, then attach each with `ALTER INDEX … ATTACH \
                     PARTITION`",
                    table.shown()
                ),
            );
        } else {
            ctx.emit(
                &rules::INDEX_NOT_CONCURRENT,
                start,
                format!(
                    "`CREATE {unique}INDEX` on `{}` without CONCURRENTLY blocks writes to the table until the index is \
                     built",
                    table.shown()
                ),
            );
        }
    }
    if ctx.mysql() {
        let options = alter::MySqlOptions::read(c.rest());
        options.check(ctx, &table);
        if let Some(kind) = special {
            options.copying(
                ctx,
                start,
                format!(
                    "adding a {kind} index to `{}` takes a shared lock (the first one also rebuilds the table)",
                    table.shown()
                ),
            );
        }
    }
}

pub(super) fn drop(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    if c.eat("TEMPORARY") {
        return;
    }
    if c.eat("TABLE") {
        c.eat_if_exists();
        for name in names(&mut c) {
            let new = ctx.is_new(name.key());
            let old = ctx.schema.table(name.key()).cloned();
            ctx.schema.drop(name.key());
            if new {
                continue;
            }
            ctx.schema_change(start);
            if ctx.sqlite() {
                // A rebuild renames a new table to this name later in the migration.
                ctx.dropped.insert(name.key().to_owned(), Dropped { offset: name.tok.offset, table: old });
            }
            if !ctx.contract() {
                ctx.emit(
                    &rules::DROP_TABLE,
                    name.tok.offset,
                    format!(
                        "`DROP TABLE {}` breaks the running app version, which still uses the table, and deletes its data",
                        name.shown()
                    ),
                );
            }
        }
    } else if c.eat("INDEX") {
        drop_index(ctx, c, start);
    } else if let Some(kind) = c.eat_any(&["SCHEMA", "DATABASE"]) {
        if ctx.pg() && kind == "DATABASE" {
            ctx.not_in_transaction(start, "`DROP DATABASE`");
        }
        c.eat_if_exists();
        let shown = names(&mut c).iter().map(Name::shown).collect::<Vec<_>>().join(", ");
        ctx.emit(&rules::DROP_SCHEMA, start, format!("`DROP {kind} {shown}` deletes everything in it, with its data"));
    } else if ctx.pg() && c.is("TABLESPACE") {
        ctx.not_in_transaction(start, "`DROP TABLESPACE`");
    } else if c.eat("PROCEDURE") {
        c.eat_if_exists();
        for name in names(&mut c) {
            ctx.schema.procedure(name.key(), None);
        }
    }
}

fn drop_index(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    let concurrently = c.eat("CONCURRENTLY");
    c.eat_if_exists();
    let indexes = names(&mut c);
    if ctx.mysql() {
        // DROP INDEX name ON table: in place, without blocking writes.
        if c.eat("ON")
            && let Some(table) = c.name().filter(|t| !ctx.is_new(t.key()))
        {
            ctx.schema_change(start);
            alter::MySqlOptions::read(c.rest()).check(ctx, &table);
        }
        return;
    }
    if concurrently {
        ctx.concurrently_in_transaction(start, "`DROP INDEX CONCURRENTLY`");
        return;
    }
    let existing: Vec<String> =
        indexes.iter().filter(|i| !ctx.created_indexes.contains(i.key())).map(Name::shown).collect();
    if existing.is_empty() {
        return;
    }
    ctx.schema_change(start);
    let message = format!(
        "`DROP INDEX {}` without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table, blocking reads and writes",
        existing.join(", ")
    );
    if indexes.iter().any(|i| ctx.schema.is_partitioned_index(i.key())) {
        // PostgreSQL refuses CONCURRENTLY for an index on a partitioned table.
        ctx.emit_help(
            &rules::DROP_INDEX_NOT_CONCURRENT,
            start,
            message,
            "PostgreSQL cannot drop an index of a partitioned table CONCURRENTLY (nor its partitions' indexes while \
             they are attached): drop it when the tables are quiet, with `-- migrator:lock-timeout` so that it gives \
             up rather than queue everyone behind it, and acknowledge the finding",
        );
    } else {
        ctx.emit(&rules::DROP_INDEX_NOT_CONCURRENT, start, message);
    }
}

// ---------------------------------------------------------------------------------------
// Type hygiene (PostgreSQL)
// ---------------------------------------------------------------------------------------

pub(super) fn hygiene(ctx: &mut Ctx<'_>, table: &Name<'_>, def: &ColumnDef<'_, '_>, is_key: bool) {
    let Some(ty) = &def.ty else { return };
    let is_id = is_key || def.identity || def.name == "id" || def.name.ends_with("_id");
    type_hygiene(ctx, &format!("{}.{}", table.shown(), def.name), ty, is_id, def.name_tok.offset);
}

pub(super) fn type_hygiene(ctx: &mut Ctx<'_>, column: &str, ty: &schema::ColType, is_id: bool, at: usize) {
    if !ctx.pg() {
        return;
    }
    let name = ty.name.as_str();
    if matches!(name, "serial" | "bigserial" | "smallserial") {
        ctx.emit(
            &rules::PREFER_IDENTITY,
            at,
            format!("`{column}` is `{ty}`: a serial column is backed by a separate sequence with its own ownership and permissions"),
        );
    }
    let limit = match name {
        "integer" | "serial" => Some("2,147,483,647"),
        "smallint" | "smallserial" => Some("32,767"),
        _ => None,
    };
    if let Some(limit) = limit.filter(|_| is_id) {
        ctx.emit(
            &rules::PREFER_BIGINT,
            at,
            format!("`{column}` is an id column of type `{ty}`, which runs out at {limit}"),
        );
    }
    if name == "timestamp" {
        ctx.emit(
            &rules::PREFER_TIMESTAMPTZ,
            at,
            format!("`{column}` is `{ty}` without time zone: values lose their UTC offset and depend on the session's time zone"),
        );
    }
    if name == "varchar" && !ty.args.is_empty() {
        ctx.emit(
            &rules::PREFER_TEXT,
            at,
            format!("`{column}` is `{ty}`: changing the limit later needs an ACCESS EXCLUSIVE lock (and a scan to shrink it)"),
        );
    }
}
