//! ALTER TABLE (each comma-separated action on its own) and MySQL RENAME TABLE.

use super::*;

// ---------------------------------------------------------------------------------------
// ALTER TABLE
// ---------------------------------------------------------------------------------------

pub(super) fn alter(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>, start: usize) {
    if ctx.pg() && c.is("SYSTEM") {
        ctx.not_in_transaction(start, "`ALTER SYSTEM`");
        return;
    }
    c.eat("ONLINE");
    c.eat("IGNORE");
    if !c.eat("TABLE") {
        return;
    }
    c.eat_if_exists();
    c.eat("ONLY");
    let Some(table) = c.name() else { return };
    c.eat_punct('*');
    let new = ctx.is_new(table.key());
    if !new {
        ctx.schema_change(start);
    }
    let options = MySqlOptions::read(c.rest());
    if ctx.mysql() && !new {
        options.check(ctx, &table);
    }
    let actions = split_commas(c.rest());
    if ctx.sqlite()
        && let Some(message) = sqlite_unsupported(ctx, &table, &actions)
    {
        ctx.emit(&rules::SQLITE_UNSUPPORTED_ALTER, start, message);
        return;
    }
    let adds_primary_key = actions.iter().any(|a| {
        let mut a = Cursor::new(a);
        if !a.eat("ADD") {
            return false;
        }
        if a.eat("CONSTRAINT") {
            a.name();
        }
        a.is("PRIMARY")
    });
    let table = AlterTarget { name: table, new, options, adds_primary_key };
    for action in actions {
        alter_action(ctx, &table, action);
    }
}

/// Why SQLite cannot run this `ALTER TABLE`, if it cannot: SQLite's ALTER TABLE takes one
/// action, which is `RENAME TO`, `RENAME [COLUMN]`, `ADD [COLUMN]` (without PRIMARY KEY, UNIQUE
/// or a STORED generated column) or `DROP [COLUMN]`.
fn sqlite_unsupported(ctx: &Ctx<'_>, table: &Name<'_>, actions: &[&[Tok<'_>]]) -> Option<String> {
    let shown = table.shown();
    let [action] = actions else {
        return Some(format!(
            "this ALTER TABLE on `{shown}` has {} actions, but SQLite's ALTER TABLE takes one: write one ALTER TABLE \
             statement per change",
            actions.len()
        ));
    };
    let mut a = Cursor::new(action);
    if a.eat("ADD") {
        if !a.is("COLUMN") && is_table_constraint(a.rest(), ctx.dialect) {
            return Some(format!(
                "SQLite cannot add a constraint (PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK) to the existing table `{shown}`"
            ));
        }
        a.eat("COLUMN");
        let def = parse_column(a.rest(), ctx.dialect)?;
        let what = if def.primary_key {
            "a PRIMARY KEY column"
        } else if def.unique {
            "a UNIQUE column"
        } else if def.generated == Some(true) {
            "a STORED generated column"
        } else {
            return None;
        };
        return Some(format!("SQLite cannot add {what} to an existing table (`{shown}.{}`)", def.name));
    }
    if a.eat("DROP") {
        if a.is_any(&["CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK"]) {
            return Some(format!("SQLite cannot drop a constraint of the existing table `{shown}`"));
        }
        return None;
    }
    if a.is("RENAME") {
        return None;
    }
    if a.eat("ALTER") {
        return Some(format!(
            "SQLite has no ALTER COLUMN: a column of `{shown}` cannot change its type, default or nullability in place"
        ));
    }
    let verb = a.peek().map(|t| t.text.to_ascii_uppercase()).unwrap_or_default();
    Some(format!(
        "SQLite's ALTER TABLE cannot `{verb}`: it can only RENAME TO, RENAME COLUMN, ADD COLUMN and DROP COLUMN"
    ))
}

/// The table an `ALTER TABLE` changes, and what its actions need to know.
struct AlterTarget<'a> {
    name: Name<'a>,
    new: bool,
    options: MySqlOptions,
    adds_primary_key: bool,
}

impl AlterTarget<'_> {
    fn key(&self) -> &str {
        self.name.key()
    }

    fn column(&self, column: &str) -> String {
        format!("{}.{column}", self.name.shown())
    }
}

fn alter_action(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, action: &[Tok<'_>]) {
    let Some(first) = action.first() else { return };
    let at = first.offset;
    let mut a = Cursor::new(action);
    if a.eat("ADD") {
        if !a.is("COLUMN") && is_table_constraint(a.rest(), ctx.dialect) {
            add_constraint(ctx, table, a, at);
        } else {
            a.eat("COLUMN");
            a.eat_if_exists();
            match a.group() {
                Some(list) if ctx.mysql() => {
                    let dialect = ctx.dialect;
                    for def in split_commas(list).into_iter().filter_map(|d| parse_column(d, dialect)) {
                        add_column(ctx, table, &def, at);
                    }
                }
                _ => {
                    if let Some(def) = parse_column(a.rest(), ctx.dialect) {
                        add_column(ctx, table, &def, at);
                    }
                }
            }
        }
    } else if a.eat("DROP") {
        drop_action(ctx, table, a, at);
    } else if a.eat("ALTER") {
        a.eat("COLUMN");
        if let Some(column) = a.name() {
            alter_column(ctx, table, column.key(), a, at);
        }
    } else if ctx.mysql() && a.eat("MODIFY") {
        a.eat("COLUMN");
        if let Some(def) = parse_column(a.rest(), ctx.dialect) {
            let name = def.name.clone();
            mysql_redefine(ctx, table, &name, &def, at);
        }
    } else if ctx.mysql() && a.eat("CHANGE") {
        a.eat("COLUMN");
        let Some(old) = a.name() else { return };
        let Some(def) = parse_column(a.rest(), ctx.dialect) else { return };
        if def.name != old.key() {
            rename_column(ctx, table, old.key(), &def.name, at);
        }
        mysql_redefine(ctx, table, &def.name, &def, at);
    } else if a.eat("RENAME") {
        rename_action(ctx, table, a, at);
    } else if a.eat_all(&["VALIDATE", "CONSTRAINT"]) {
        if let Some(constraint) = a.name() {
            validate(ctx, table, constraint.key(), at);
        }
    } else if a.eat_all(&["ATTACH", "PARTITION"]) {
        if let Some(partition) = a.name()
            && a.is("DEFAULT")
        {
            ctx.schema.default_partition(table.key(), partition.key());
        }
    } else if a.eat_all(&["DETACH", "PARTITION"]) {
        let partition = a.name();
        let concurrently = a.eat("CONCURRENTLY");
        let finalize = a.eat("FINALIZE");
        if concurrently {
            ctx.concurrently_in_transaction(at, "`DETACH PARTITION … CONCURRENTLY`");
        } else if !finalize && !table.new {
            let message = format!(
                "`DETACH PARTITION` without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on `{}`, blocking reads and writes",
                table.name.shown()
            );
            match ctx.schema.has_default_partition(table.key()).map(str::to_owned) {
                // PostgreSQL refuses CONCURRENTLY while the table has a default partition.
                Some(default) => ctx.emit_help(
                    &rules::DETACH_PARTITION_NOT_CONCURRENT,
                    at,
                    message,
                    format!(
                        "PostgreSQL cannot detach CONCURRENTLY while `{}` has a default partition (`{default}`): \
                         detach when the table is quiet, with `-- migrator:lock-timeout` so that it gives up rather \
                         than queue everyone behind it, and acknowledge the finding",
                        table.name.shown()
                    ),
                ),
                None => ctx.emit(&rules::DETACH_PARTITION_NOT_CONCURRENT, at, message),
            }
        }
        if let Some(partition) = partition {
            ctx.schema.detached(table.key(), partition.key());
        }
    } else if ctx.mysql() && !table.new {
        mysql_table_option(ctx, table, a, at);
    }
}

fn add_column(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, def: &ColumnDef<'_, '_>, at: usize) {
    if let Some(model) = ctx.schema.table_mut(table.key()) {
        model.columns.retain(|c| c.name != def.name);
        model.columns.push(Column::from_def(def));
    }
    let is_key = def.primary_key || def.references;
    create::hygiene(ctx, &table.name, def, is_key);
    if table.new {
        return;
    }
    let column = table.column(&def.name);
    let serial = def.ty.as_ref().is_some_and(|t| matches!(t.name.as_str(), "serial" | "bigserial" | "smallserial"));
    if ctx.pg() {
        if let Some(function) = def.default.and_then(volatile_call) {
            ctx.emit(
                &rules::ADD_COLUMN_VOLATILE_DEFAULT,
                at,
                format!(
                    "`{column}` is added with the volatile default `{function}()`, which PostgreSQL evaluates for every \
                     existing row: the table is rewritten under an ACCESS EXCLUSIVE lock"
                ),
            );
        } else if def.identity || serial {
            ctx.emit_help(
                &rules::ADD_COLUMN_VOLATILE_DEFAULT,
                at,
                format!(
                    "`{column}` is added as an identity or serial column: filling every existing row from a sequence \
                     rewrites the table under an ACCESS EXCLUSIVE lock"
                ),
                "add a nullable column, set its default for new rows, backfill existing rows in batches, then enforce it",
            );
        } else if def.generated == Some(true) {
            ctx.emit_help(
                &rules::ADD_COLUMN_VOLATILE_DEFAULT,
                at,
                format!(
                    "`{column}` is a stored generated column: PostgreSQL computes it for every existing row, rewriting \
                     the table under an ACCESS EXCLUSIVE lock"
                ),
                "compute the value in a view or in the app, or add a plain column kept up to date by a trigger and a batched backfill",
            );
        }
    } else if ctx.sqlite() {
        let non_constant = def
            .default
            .and_then(|d| d.first())
            .filter(|t| t.is_punct('(') || t.is_any(&["CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"]));
        if let Some(first) = non_constant {
            let shown = if first.is_punct('(') { "an expression".to_owned() } else { format!("`{}`", first.text) };
            ctx.emit_help(
                &rules::ADD_COLUMN_VOLATILE_DEFAULT,
                at,
                format!(
                    "`{column}` is added with the non-constant default {shown}: SQLite refuses that on a table that has \
                     rows (\"Cannot add a column with non-constant default\")"
                ),
                "add the column with a constant default (or none), then fill existing rows with an UPDATE; new rows can \
                 get the value from the app or a trigger",
            );
        }
    } else {
        if def.default.and_then(|d| d.first()).is_some_and(|t| t.is_punct('(')) {
            ctx.emit(
                &rules::ADD_COLUMN_VOLATILE_DEFAULT,
                at,
                format!(
                    "`{column}` is added with an expression default, which MySQL can only add by rebuilding the table"
                ),
            );
        }
        if def.auto_increment {
            table.options.copying(ctx, at, format!("adding the AUTO_INCREMENT column `{column}` copies the table"));
        }
        if def.generated == Some(true) {
            table.options.copying(ctx, at, format!("adding the stored generated column `{column}` copies the table"));
        }
    }
    let has_value = def.default.is_some_and(|d| !d.is_empty())
        || def.identity
        || def.generated.is_some()
        || def.auto_increment
        || serial;
    if def.not_null && !has_value {
        let fills = match ctx.dialect {
            Dialect::Postgres => "the ALTER fails on a non-empty table",
            Dialect::MySql => "MySQL fills the existing rows with a hidden zero value",
            Dialect::Sqlite => "SQLite refuses the ALTER on a table that has rows",
        };
        ctx.emit(
            &rules::ADD_COLUMN_NOT_NULL_NO_DEFAULT,
            at,
            format!(
                "`{column}` is added NOT NULL without a default: {fills}, and inserts from the running app version, \
                 which does not know the column, fail"
            ),
        );
    }
    if ctx.pg() {
        if def.unique || def.primary_key {
            let kind = if def.primary_key { "PRIMARY KEY" } else { "UNIQUE" };
            ctx.emit_help(
                &rules::ADD_UNIQUE_CONSTRAINT,
                at,
                format!("`{column}` is added with an inline {kind}: its index is built under an ACCESS EXCLUSIVE lock"),
                format!(
                    "add the column, `CREATE UNIQUE INDEX CONCURRENTLY` in a no-transaction migration, then \
                     `ADD CONSTRAINT … {kind} USING INDEX`"
                ),
            );
        }
        for (present, kind) in [(def.references, "REFERENCES"), (def.check, "CHECK")] {
            if present {
                ctx.emit_help(
                    &rules::CONSTRAINT_NOT_VALID,
                    at,
                    format!(
                        "`{column}` is added with an inline {kind}: the constraint is checked against every row under lock"
                    ),
                    "add the column, then `ADD CONSTRAINT … NOT VALID`, and `VALIDATE CONSTRAINT` in a later migration",
                );
            }
        }
    }
}

/// The first well-known volatile function called in a default expression.
fn volatile_call(expr: &[Tok<'_>]) -> Option<String> {
    const VOLATILE: &[&str] = &[
        "random",
        "random_normal",
        "gen_random_uuid",
        "gen_random_bytes",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "setval",
    ];
    expr.windows(2).find_map(|pair| match pair {
        [name, open] if open.is_punct('(') && name.kind == TokenKind::Word => {
            let function = name.text.to_ascii_lowercase();
            VOLATILE.contains(&function.as_str()).then_some(function)
        }
        _ => None,
    })
}

fn add_constraint(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, mut a: Cursor<'_, '_>, at: usize) {
    let constraint = if a.eat("CONSTRAINT") { a.name().map(|n| n.key().to_owned()) } else { None };
    let rest = a.rest();
    let not_valid = rest.windows(2).any(|w| matches!(w, [n, v] if n.is("NOT") && v.is("VALID")));
    let using_index = rest.windows(2).any(|w| matches!(w, [u, i] if u.is("USING") && i.is("INDEX")));
    let shown = table.name.shown();
    let named = constraint.as_ref().map(|c| format!(" `{c}`")).unwrap_or_default();
    if not_valid && let Some(name) = &constraint {
        ctx.not_valid.insert(name.clone());
    }
    if a.eat("CHECK") {
        if let (Some(name), Some(column)) = (&constraint, a.group().and_then(schema::not_null_check_column))
            && let Some(model) = ctx.schema.table_mut(table.key())
        {
            model.checks.push(NotNullCheck { constraint: name.clone(), column, validated: !not_valid });
        }
        if table.new {
            return;
        }
        if ctx.pg() && !not_valid {
            ctx.emit(
                &rules::CONSTRAINT_NOT_VALID,
                at,
                format!(
                    "CHECK constraint{named} on `{shown}` without NOT VALID checks every row while holding an ACCESS \
                     EXCLUSIVE lock"
                ),
            );
        }
        if ctx.mysql() {
            table.options.copying(
                ctx,
                at,
                format!("adding a CHECK constraint to `{shown}` checks every row under a shared lock"),
            );
        }
    } else if a.is("FOREIGN") {
        if table.new {
            return;
        }
        if ctx.pg() && !not_valid {
            let referenced = a.skip_past("REFERENCES").then(|| a.name()).flatten().map(|n| n.shown());
            let both = referenced.filter(|r| *r != shown).map(|r| format!(" and `{r}`")).unwrap_or_default();
            ctx.emit(
                &rules::CONSTRAINT_NOT_VALID,
                at,
                format!(
                    "FOREIGN KEY{named} on `{shown}` without NOT VALID checks every row while locking `{shown}`{both} \
                     against writes"
                ),
            );
        }
        if ctx.mysql() {
            table.options.copying_help(
                ctx,
                at,
                format!("adding a foreign key to `{shown}` while foreign_key_checks is on checks every row under a shared lock"),
                "if the data is known to be valid, `SET foreign_key_checks = 0` and state `ALGORITHM=INPLACE, LOCK=NONE`; \
                 otherwise use an online schema-change tool",
            );
        }
    } else if let Some(kind) = a.eat_any(&["UNIQUE", "PRIMARY"]) {
        if kind == "PRIMARY"
            && let Some(model) = ctx.schema.table_mut(table.key())
        {
            for column in group_columns(a.rest()) {
                if let Some(col) = model.column_mut(&column) {
                    col.not_null = true;
                }
            }
        }
        if table.new || !ctx.pg() || using_index {
            return;
        }
        let kind = if kind == "PRIMARY" { "PRIMARY KEY" } else { "UNIQUE" };
        ctx.emit_help(
            &rules::ADD_UNIQUE_CONSTRAINT,
            at,
            format!("`ADD {kind}` on `{shown}` builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes"),
            format!(
                "`CREATE UNIQUE INDEX CONCURRENTLY` in a no-transaction migration, then `ADD CONSTRAINT … {kind} USING INDEX`"
            ),
        );
    } else if let Some(kind) = a.eat_any(&["FULLTEXT", "SPATIAL"])
        && !table.new
        && ctx.mysql()
    {
        table.options.copying(
            ctx,
            at,
            format!("adding a {kind} index to `{shown}` takes a shared lock (the first one also rebuilds the table)"),
        );
    }
}

fn drop_action(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, mut a: Cursor<'_, '_>, at: usize) {
    if a.eat_all(&["PRIMARY", "KEY"]) {
        if ctx.mysql() && !table.new && !table.adds_primary_key {
            table.options.copying(
                ctx,
                at,
                format!("dropping the primary key of `{}` without adding another copies the table", table.name.shown()),
            );
        }
        return;
    }
    // PostgreSQL has only DROP CONSTRAINT besides columns (`key` or `index` may be column
    // names there); MySQL also drops indexes, keys, checks and partitions.
    let not_a_column: &[&str] = match ctx.dialect {
        Dialect::Postgres | Dialect::Sqlite => &["CONSTRAINT"],
        Dialect::MySql => &["CONSTRAINT", "INDEX", "KEY", "FOREIGN", "CHECK", "PARTITION"],
    };
    if a.is_any(not_a_column) {
        return;
    }
    a.eat("COLUMN");
    a.eat_if_exists();
    let Some(column) = a.name() else { return };
    let column = column.key().to_owned();
    if let Some(model) = ctx.schema.table_mut(table.key()) {
        model.columns.retain(|c| c.name != column);
    }
    if table.new || ctx.contract() {
        return;
    }
    ctx.emit(
        &rules::DROP_COLUMN,
        at,
        format!(
            "`DROP COLUMN {column}` on `{}` breaks the running app version, which still reads or writes the column, \
             and deletes its data",
            table.name.shown()
        ),
    );
}

fn alter_column(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, column: &str, mut a: Cursor<'_, '_>, at: usize) {
    let shown = table.column(column);
    if a.eat_all(&["SET", "DATA", "TYPE"]) || a.eat("TYPE") {
        let Some((new_type, used)) = parse_type(a.rest(), ctx.dialect) else { return };
        let after = a.rest().get(used..).unwrap_or(&[]);
        let using = after.iter().position(|t| t.is("USING")).map(|at| after.get(at + 1..).unwrap_or(&[]));
        let using_rewrites = using.is_some_and(|expr| !matches!(expr, [only] if only.ident() == column));
        let old = ctx.schema.column(table.key(), column).and_then(|c| c.ty.clone());
        let def_name = column.to_owned();
        create::type_hygiene(ctx, &shown, &new_type, def_name.ends_with("_id") || def_name == "id", at);
        if let Some(model) = ctx.schema.table_mut(table.key()).and_then(|t| t.column_mut(column)) {
            model.ty = Some(new_type.clone());
        }
        if table.new {
            return;
        }
        let safe = !using_rewrites && old.as_ref().is_some_and(|old| schema::pg_change_is_safe(old, &new_type));
        if safe {
            return;
        }
        let message = match (&old, using_rewrites) {
            (_, true) => format!(
                "changing `{shown}` to `{new_type}` with USING computes every row again: the table is rewritten under \
                 an ACCESS EXCLUSIVE lock, and clients that expect the old type break"
            ),
            (Some(old), false) => format!(
                "changing `{shown}` from `{old}` to `{new_type}` rewrites the table and its indexes under an ACCESS \
                 EXCLUSIVE lock, and breaks clients that expect the old type"
            ),
            (None, false) => format!(
                "changing `{shown}` to `{new_type}` rewrites the table under an ACCESS EXCLUSIVE lock unless the change \
                 is binary-coercible, and these migrations do not show the column's current type"
            ),
        };
        let help = if old.is_none() {
            format!(
                "{}; if it is a binary-coercible change (varchar widening, varchar to text), acknowledge it with an allow",
                rules::CHANGE_COLUMN_TYPE.help
            )
        } else {
            rules::CHANGE_COLUMN_TYPE.help.to_owned()
        };
        ctx.emit_help(&rules::CHANGE_COLUMN_TYPE, at, message, help);
    } else if a.eat_all(&["SET", "NOT", "NULL"]) {
        let checked = ctx.schema.table(table.key()).is_some_and(|t| t.has_validated_not_null_check(column));
        if let Some(model) = ctx.schema.table_mut(table.key()).and_then(|t| t.column_mut(column)) {
            model.not_null = true;
        }
        if table.new || checked {
            return;
        }
        ctx.emit(
            &rules::SET_NOT_NULL,
            at,
            format!("`SET NOT NULL` on `{shown}` scans the whole table under an ACCESS EXCLUSIVE lock, blocking reads and writes"),
        );
    } else if a.eat_all(&["DROP", "NOT", "NULL"]) {
        if let Some(model) = ctx.schema.table_mut(table.key()).and_then(|t| t.column_mut(column)) {
            model.not_null = false;
        }
        if table.new || ctx.contract() {
            return;
        }
        ctx.emit(
            &rules::DROP_NOT_NULL,
            at,
            format!(
                "`DROP NOT NULL` on `{shown}` lets NULLs reach the running app version, which does not expect them"
            ),
        );
    }
}

/// MySQL `MODIFY` / `CHANGE`: the column is restated in full, so its old definition tells
/// what changes.
fn mysql_redefine(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, old_name: &str, def: &ColumnDef<'_, '_>, at: usize) {
    let old = ctx.schema.column(table.key(), old_name).cloned();
    let table_charset = ctx.schema.table(table.key()).and_then(|t| t.charset.clone());
    if let Some(model) = ctx.schema.table_mut(table.key()) {
        model.columns.retain(|c| c.name != old_name && c.name != def.name);
        model.columns.push(Column::from_def(def));
    }
    if table.new {
        return;
    }
    let shown = table.column(&def.name);
    let Some(old) = old else {
        ctx.emit_help(
            &rules::CHANGE_COLUMN_TYPE,
            at,
            format!(
                "this restates `{shown}` in full, and these migrations do not show its current definition: if its type \
                 changes, MySQL copies the table, blocking writes, and clients that expect the old type break"
            ),
            format!(
                "{}; if the type is unchanged (or a VARCHAR widening within the same length-prefix size), acknowledge it with an allow",
                rules::CHANGE_COLUMN_TYPE.help
            ),
        );
        return;
    };
    let charset = |own: &Option<String>| {
        let name = own.clone().or_else(|| table_charset.clone()).unwrap_or_else(|| "utf8mb4".to_owned());
        if name == "utf8" { "utf8mb3".to_owned() } else { name }
    };
    if let (Some(old_type), Some(new_type)) = (&old.ty, &def.ty) {
        let (old_cs, new_cs) = (charset(&old.charset), charset(&def.charset));
        if !schema::mysql_change_is_safe(old_type, new_type, Some(&old_cs), Some(&new_cs)) {
            let what = if old_type == new_type {
                format!("changing the character set of `{shown}` from {old_cs} to {new_cs}")
            } else {
                format!("changing `{shown}` from `{old_type}` to `{new_type}`")
            };
            ctx.emit(
                &rules::CHANGE_COLUMN_TYPE,
                at,
                format!(
                    "{what} makes MySQL copy the table, blocking writes, and breaks clients that expect the old type"
                ),
            );
        }
    }
    if !old.not_null && def.not_null {
        ctx.emit_help(
            &rules::SET_NOT_NULL,
            at,
            format!("`{shown}` becomes NOT NULL: MySQL rebuilds the table to enforce it, and fails on rows that hold NULL"),
            "backfill the NULLs in batches first, then make the change with `ALGORITHM=INPLACE, LOCK=NONE` (or an online schema-change tool)",
        );
    }
    if old.not_null && !def.not_null && !ctx.contract() {
        ctx.emit_help(
            &rules::DROP_NOT_NULL,
            at,
            format!(
                "this leaves out NOT NULL, so `{shown}` becomes nullable: NULLs can reach the running app version, which \
                 does not expect them"
            ),
            "repeat NOT NULL in the column definition if dropping it is not intended; otherwise do it in a migration \
             marked `-- migrator:phase contract`",
        );
    }
}

fn rename_action(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, mut a: Cursor<'_, '_>, at: usize) {
    if a.is_any(&["CONSTRAINT", "INDEX", "KEY"]) {
        return;
    }
    if a.eat("COLUMN") || (a.peek().is_some_and(|t| t.is_name() && !t.is_any(&["TO", "AS"]))) {
        let Some(old) = a.name() else { return };
        if !a.eat("TO") {
            return;
        }
        let Some(new) = a.name() else { return };
        rename_column(ctx, table, old.key(), new.key(), at);
        return;
    }
    if (a.eat("TO") || a.eat("AS"))
        && let Some(new) = a.name()
    {
        rename_table(ctx, &table.name, &new, at);
    }
}

fn rename_column(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, old: &str, new: &str, at: usize) {
    if let Some(model) = ctx.schema.table_mut(table.key()).and_then(|t| t.column_mut(old)) {
        model.name = new.to_owned();
    }
    if table.new {
        return;
    }
    ctx.emit(
        &rules::RENAME_COLUMN,
        at,
        format!(
            "renaming `{}` to `{new}` breaks the running app version, which still uses the old name",
            table.column(old)
        ),
    );
}

fn rename_table(ctx: &mut Ctx<'_>, from: &Name<'_>, to: &Name<'_>, at: usize) {
    ctx.schema.rename(from.key(), to.key());
    if ctx.is_new(from.key()) {
        ctx.created.insert(to.key().to_owned());
        rebuilt(ctx, to, at);
        return;
    }
    ctx.schema_change(at);
    if ctx.contract() {
        return;
    }
    ctx.emit(
        &rules::RENAME_TABLE,
        at,
        format!(
            "renaming `{}` to `{}` breaks the running app version, which still uses the old name",
            from.shown(),
            to.shown()
        ),
    );
}

/// MySQL `RENAME TABLE a TO b, c TO d`.
pub(super) fn rename_tables(ctx: &mut Ctx<'_>, mut c: Cursor<'_, '_>) {
    if c.eat_any(&["TABLE", "TABLES"]).is_none() {
        return;
    }
    for pair in split_commas(c.rest()) {
        let mut p = Cursor::new(pair);
        let (Some(from), true, Some(to)) = (p.name(), p.eat("TO"), p.name()) else { continue };
        rename_table(ctx, &from, &to, from.tok.offset);
    }
}

fn validate(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, constraint: &str, at: usize) {
    if let Some(model) = ctx.schema.table_mut(table.key()) {
        for check in model.checks.iter_mut().filter(|c| c.constraint == constraint) {
            check.validated = true;
        }
    }
    if table.new || !ctx.pg() || !ctx.transactional || !ctx.not_valid.contains(constraint) {
        return;
    }
    ctx.emit_help(
        &rules::CONSTRAINT_NOT_VALID,
        at,
        format!(
            "`VALIDATE CONSTRAINT {constraint}` runs in the transaction that added the constraint, so the lock taken \
             by the ADD is held for the whole validation scan"
        ),
        "validate it in a later migration",
    );
}

/// MySQL table options that rebuild by copying.
fn mysql_table_option(ctx: &mut Ctx<'_>, table: &AlterTarget<'_>, mut a: Cursor<'_, '_>, at: usize) {
    let shown = table.name.shown();
    let what = if a.eat_all(&["CONVERT", "TO"]) {
        Some(format!("converting `{shown}` to another character set copies the table"))
    } else if a.eat("ENGINE") {
        a.eat_punct('=');
        a.next()
            .filter(|engine| !engine.text.eq_ignore_ascii_case("InnoDB"))
            .map(|engine| format!("changing the engine of `{shown}` to {} copies the table", engine.text))
    } else if a.eat_all(&["PARTITION", "BY"]) {
        Some(format!("partitioning `{shown}` copies the table"))
    } else if a.eat_all(&["REMOVE", "PARTITIONING"]) {
        Some(format!("removing the partitioning of `{shown}` copies the table"))
    } else {
        None
    };
    if let Some(what) = what {
        table.options.copying(ctx, at, what);
    }
}

/// MySQL's `ALGORITHM` and `LOCK` clauses of an ALTER TABLE or CREATE/DROP INDEX.
#[derive(Debug, Default)]
pub(super) struct MySqlOptions {
    algorithm: Option<(String, usize)>,
    lock: Option<(String, usize)>,
}

impl MySqlOptions {
    pub(super) fn read(toks: &[Tok<'_>]) -> MySqlOptions {
        let mut options = MySqlOptions::default();
        let mut c = Cursor::new(toks);
        while !c.at_end() {
            if c.group().is_some() {
                continue;
            }
            let at = c.peek().map_or(0, |t| t.offset);
            if let Some(kw) = c.eat_any(&["ALGORITHM", "LOCK"]) {
                c.eat_punct('=');
                if let Some(value) = c.next() {
                    let value = (value.text.to_ascii_uppercase(), at);
                    if kw == "ALGORITHM" {
                        options.algorithm = Some(value);
                    } else {
                        options.lock = Some(value);
                    }
                }
                continue;
            }
            c.next();
        }
        options
    }

    fn algorithm(&self) -> Option<&str> {
        self.algorithm.as_ref().map(|(a, _)| a.as_str())
    }

    fn lock(&self) -> Option<&str> {
        self.lock.as_ref().map(|(l, _)| l.as_str())
    }

    /// The statement asks the server to refuse rather than block: `ALGORITHM=INSTANT` or
    /// `LOCK=NONE`.
    fn refuses_to_block(&self) -> bool {
        self.algorithm() == Some("INSTANT") || self.lock() == Some("NONE")
    }

    /// Explicit `ALGORITHM=COPY` or `LOCK=SHARED|EXCLUSIVE`.
    pub(super) fn check(&self, ctx: &mut Ctx<'_>, table: &Name<'_>) {
        let shown = table.shown();
        if let Some((algorithm, at)) = &self.algorithm
            && algorithm == "COPY"
        {
            ctx.emit(
                &rules::MYSQL_BLOCKING_ALTER,
                *at,
                format!("`ALGORITHM=COPY` copies `{shown}` and blocks writes to it until the copy is done"),
            );
        }
        if let Some((lock, at)) = &self.lock
            && matches!(lock.as_str(), "SHARED" | "EXCLUSIVE")
        {
            ctx.emit(
                &rules::MYSQL_BLOCKING_ALTER,
                *at,
                format!("`LOCK={lock}` blocks writes to `{shown}` for the whole operation"),
            );
        }
    }

    /// An operation MySQL can only run by copying (or with a blocking lock), unless the
    /// statement makes the server refuse instead.
    pub(super) fn copying(&self, ctx: &mut Ctx<'_>, at: usize, what: String) {
        self.copying_help(ctx, at, what, rules::MYSQL_BLOCKING_ALTER.help);
    }

    fn copying_help(&self, ctx: &mut Ctx<'_>, at: usize, what: String, help: &str) {
        if self.refuses_to_block() || self.algorithm() == Some("COPY") {
            return;
        }
        ctx.emit_help(
            &rules::MYSQL_BLOCKING_ALTER,
            at,
            format!("{what}: writes to it wait until the statement is done"),
            help,
        );
    }
}

/// SQLite's table rebuild (create the new table, copy, drop the old one, rename the new one
/// to the old name) keeps the table: the `drop-table` finding of the `DROP TABLE` turns into a
/// `drop-column` finding for each column of the old table that the new one lacks. When the
/// migrations never showed the old table's columns, the `drop-table` finding stays.
fn rebuilt(ctx: &mut Ctx<'_>, table: &Name<'_>, at: usize) {
    if !ctx.sqlite() {
        return;
    }
    let Some(dropped) = ctx.dropped.remove(table.key()) else { return };
    let Some(old) = dropped.table else { return };
    ctx.out.retain(|raw| !(raw.rule.id == rules::DROP_TABLE.id && raw.offset == dropped.offset));
    if ctx.contract() {
        return;
    }
    let new_columns: Vec<String> =
        ctx.schema.table(table.key()).map(|t| t.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default();
    for column in old.columns.iter().filter(|c| !new_columns.contains(&c.name)) {
        ctx.emit(
            &rules::DROP_COLUMN,
            at,
            format!(
                "rebuilding `{}` without its column `{}` drops the column: the running app version still reads or \
                 writes it, and its data is lost",
                table.shown(),
                column.name
            ),
        );
    }
}
