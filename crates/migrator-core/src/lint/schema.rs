//! A small model of the schema the migrations build: tables, their columns' types and
//! nullability, and NOT NULL checks. It is fed by every migration of a set in version order
//! (also those older than "lint from"), so a rule can tell a safe type change (varchar
//! widening) from a rewrite, or a `SET NOT NULL` backed by a validated check from a full
//! scan. Tables the migrations never created are unknown, and rules treat them as such.

use std::collections::{HashMap, HashSet};

use crate::dialect::Dialect;

use super::tokens::{Tok, find_top_level, group_at, split_commas};

/// A column type, normalized: synonyms folded (`int4` → `integer`, `character varying` →
/// `varchar`), arguments kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColType {
    pub(crate) name: String,
    pub(crate) args: Vec<String>,
    pub(crate) array: bool,
    pub(crate) unsigned: bool,
}

impl std::fmt::Display for ColType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if !self.args.is_empty() {
            write!(f, "({})", self.args.join(","))?;
        }
        if self.unsigned {
            f.write_str(" unsigned")?;
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

/// Words that end a column's type and start its constraints or options.
const TYPE_END: &[&str] = &[
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "UNIQUE",
    "REFERENCES",
    "CHECK",
    "CONSTRAINT",
    "GENERATED",
    "COLLATE",
    "AUTO_INCREMENT",
    "COMMENT",
    "ON",
    "AS",
    "FIRST",
    "AFTER",
    "VISIBLE",
    "INVISIBLE",
    "KEY",
    "STORAGE",
    "COMPRESSION",
    "SRID",
    "CHARSET",
    "USING",
    "COLUMN_FORMAT",
    "ENGINE_ATTRIBUTE",
];

/// Parses a type at the start of `toks`; returns it and how many tokens it used.
pub(crate) fn parse_type(toks: &[Tok<'_>], dialect: Dialect) -> Option<(ColType, usize)> {
    let mut words: Vec<String> = Vec::new();
    let mut args: Option<Vec<String>> = None;
    let mut array = false;
    let mut unsigned = false;
    let mut i = 0;
    while let Some(tok) = toks.get(i) {
        if tok.is_any(TYPE_END) || (tok.is("CHARACTER") && toks.get(i + 1).is_some_and(|t| t.is("SET"))) {
            break;
        }
        if tok.is_punct('(') {
            let (inner, end) = group_at(toks, i)?;
            if args.is_none() {
                args = Some(split_commas(inner).iter().map(|part| part.iter().map(|t| t.text).collect()).collect());
            }
            i = end;
            continue;
        }
        if tok.is_punct('[') {
            array = true;
            i += 1;
            while toks.get(i).is_some_and(|t| !t.is_punct(']')) {
                i += 1;
            }
            i += 1;
            continue;
        }
        if tok.is_punct('.') {
            // A schema-qualified type: keep the type's own name.
            words.clear();
            i += 1;
            continue;
        }
        if tok.is("ARRAY") {
            array = true;
        } else if tok.is_any(&["UNSIGNED", "ZEROFILL", "SIGNED"]) {
            unsigned |= tok.is("UNSIGNED");
        } else if tok.is_name() {
            words.push(tok.ident());
        } else {
            break;
        }
        i += 1;
    }
    if words.is_empty() {
        return None;
    }
    let written = words.join(" ");
    let name = match normalize(&written, dialect) {
        "" => written,
        canonical => canonical.to_owned(),
    };
    let mut args = args.unwrap_or_default();
    if dialect == Dialect::MySql && is_mysql_integer(&name) {
        // Display widths (`int(11)`) do not change the type.
        args.clear();
    }
    Some((ColType { name, args, array, unsigned }, i))
}

fn is_mysql_integer(name: &str) -> bool {
    matches!(name, "tinyint" | "smallint" | "mediumint" | "int" | "bigint")
}

/// Folds type synonyms; returns "" for names that are already canonical.
fn normalize(written: &str, dialect: Dialect) -> &str {
    match dialect {
        Dialect::Postgres => match written {
            "int" | "integer" | "int4" => "integer",
            "smallint" | "int2" => "smallint",
            "bigint" | "int8" => "bigint",
            "serial" | "serial4" => "serial",
            "bigserial" | "serial8" => "bigserial",
            "smallserial" | "serial2" => "smallserial",
            "character varying" | "varchar" | "char varying" => "varchar",
            "character" | "char" | "bpchar" => "char",
            "timestamp" | "timestamp without time zone" => "timestamp",
            "timestamptz" | "timestamp with time zone" => "timestamptz",
            "time" | "time without time zone" => "time",
            "timetz" | "time with time zone" => "timetz",
            "double precision" | "float8" => "float8",
            "real" | "float4" => "float4",
            "decimal" | "numeric" => "numeric",
            "bool" | "boolean" => "boolean",
            "bit varying" | "varbit" => "varbit",
            _ => "",
        },
        Dialect::MySql => match written {
            "int" | "integer" => "int",
            "bool" | "boolean" => "tinyint",
            "decimal" | "numeric" | "dec" | "fixed" => "decimal",
            "character varying" | "varchar" | "national varchar" | "nvarchar" => "varchar",
            "character" | "char" | "national char" | "nchar" => "char",
            "double precision" | "double" | "real" => "double",
            _ => "",
        },
        // SQLite keeps any type name (it only decides the column's affinity): no synonyms.
        Dialect::Sqlite => "",
    }
}

/// A column definition (`name type [constraints]`), as far as the rules need it.
#[derive(Debug, Clone)]
pub(crate) struct ColumnDef<'t, 'a> {
    pub(crate) name: String,
    pub(crate) name_tok: Tok<'a>,
    pub(crate) ty: Option<ColType>,
    pub(crate) not_null: bool,
    /// `NULL` written explicitly.
    pub(crate) null: bool,
    pub(crate) primary_key: bool,
    pub(crate) unique: bool,
    pub(crate) references: bool,
    pub(crate) check: bool,
    /// The default expression's tokens.
    pub(crate) default: Option<&'t [Tok<'a>]>,
    /// `GENERATED … AS IDENTITY`.
    pub(crate) identity: bool,
    /// A generated column (`GENERATED ALWAYS AS (…)`, MySQL `AS (…)`), and whether stored.
    pub(crate) generated: Option<bool>,
    pub(crate) auto_increment: bool,
    /// MySQL `CHARACTER SET x` / `CHARSET x`.
    pub(crate) charset: Option<String>,
}

/// Words that start a column constraint (they end a default expression).
const CONSTRAINT_START: &[&str] = &[
    "NOT",
    "NULL",
    "PRIMARY",
    "UNIQUE",
    "REFERENCES",
    "CHECK",
    "CONSTRAINT",
    "GENERATED",
    "COLLATE",
    "AUTO_INCREMENT",
    "COMMENT",
    "FIRST",
    "AFTER",
    "VISIBLE",
    "INVISIBLE",
    "DEFERRABLE",
    "INITIALLY",
    "CHARSET",
    "STORAGE",
    "COMPRESSION",
];

/// Parses a column definition.
pub(crate) fn parse_column<'t, 'a>(toks: &'t [Tok<'a>], dialect: Dialect) -> Option<ColumnDef<'t, 'a>> {
    let name_tok = *toks.first().filter(|t| t.is_name())?;
    let rest = toks.get(1..).unwrap_or(&[]);
    let (ty, used) = match parse_type(rest, dialect) {
        Some((ty, used)) => (Some(ty), used),
        None => (None, 0),
    };
    let mut def = ColumnDef {
        name: name_tok.ident(),
        name_tok,
        ty,
        not_null: false,
        null: false,
        primary_key: false,
        unique: false,
        references: false,
        check: false,
        default: None,
        identity: false,
        generated: None,
        auto_increment: false,
        charset: None,
    };
    let rest = rest.get(used..).unwrap_or(&[]);
    let mut i = 0;
    while let Some(tok) = rest.get(i) {
        let next = rest.get(i + 1);
        let after_by = i.checked_sub(1).and_then(|p| rest.get(p)).is_some_and(|t| t.is("BY"));
        i += 1;
        if tok.is_punct('(') {
            i = group_at(rest, i - 1).map_or(rest.len(), |(_, end)| end);
        } else if tok.is("NOT") && next.is_some_and(|t| t.is("NULL")) {
            def.not_null = true;
            i += 1;
        } else if tok.is("NULL") {
            def.null = true;
        } else if tok.is("PRIMARY") {
            def.primary_key = true;
            def.not_null = true;
        } else if tok.is("UNIQUE") {
            def.unique = true;
        } else if tok.is("REFERENCES") {
            def.references = true;
        } else if tok.is("CHECK") {
            def.check = true;
        } else if tok.is("AUTO_INCREMENT") {
            def.auto_increment = true;
        } else if tok.is("IDENTITY") {
            def.identity = true;
            def.not_null = true;
        } else if tok.is("DEFAULT") && !after_by {
            let expr = rest.get(i..).unwrap_or(&[]);
            let end = find_top_level(expr, |t| t.is_any(CONSTRAINT_START)).unwrap_or(expr.len());
            def.default = expr.get(..end);
            i += end;
        } else if tok.is("AS") && next.is_some_and(|t| t.is_punct('(')) {
            i = group_at(rest, i).map_or(rest.len(), |(_, end)| end);
            let stored = rest.get(i).is_some_and(|t| t.is("STORED"));
            def.generated = Some(stored);
        } else if (tok.is("CHARACTER") && next.is_some_and(|t| t.is("SET"))) || tok.is("CHARSET") {
            if tok.is("CHARACTER") {
                i += 1;
            }
            def.charset = rest.get(i).map(|t| t.ident());
            i += 1;
        }
    }
    Some(def)
}

/// A column in the model.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) ty: Option<ColType>,
    pub(crate) not_null: bool,
    pub(crate) charset: Option<String>,
}

impl Column {
    pub(crate) fn from_def(def: &ColumnDef<'_, '_>) -> Column {
        Column { name: def.name.clone(), ty: def.ty.clone(), not_null: def.not_null, charset: def.charset.clone() }
    }
}

/// A `CHECK (col IS NOT NULL)` constraint.
#[derive(Debug, Clone)]
pub(crate) struct NotNullCheck {
    pub(crate) constraint: String,
    pub(crate) column: String,
    pub(crate) validated: bool,
}

/// A table in the model.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub(crate) columns: Vec<Column>,
    pub(crate) charset: Option<String>,
    pub(crate) checks: Vec<NotNullCheck>,
    /// PostgreSQL: created `PARTITION BY …` (its indexes cannot be built CONCURRENTLY).
    pub(crate) partitioned: bool,
    /// PostgreSQL: its default partition (while it has one, no partition can be detached
    /// CONCURRENTLY).
    pub(crate) default_partition: Option<String>,
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub(crate) fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// Whether a validated `CHECK (column IS NOT NULL)` exists, so `SET NOT NULL` skips its
    /// scan.
    pub(crate) fn has_validated_not_null_check(&self, column: &str) -> bool {
        self.checks.iter().any(|c| c.validated && c.column == column)
    }
}

/// The tables the migrations built so far, by their own (unqualified) name, and the
/// PostgreSQL procedures whose bodies commit.
#[derive(Debug, Default)]
pub(crate) struct Schema {
    tables: HashMap<String, Table>,
    committing_procedures: HashMap<String, String>,
    /// PostgreSQL: indexes on partitioned tables (they cannot be dropped CONCURRENTLY).
    partitioned_indexes: HashSet<String>,
}

impl Schema {
    /// Records whether procedure `name` commits (`word` is the `COMMIT` or `ROLLBACK` its
    /// body runs).
    pub(crate) fn procedure(&mut self, name: &str, commits: Option<&str>) {
        match commits {
            Some(word) => self.committing_procedures.insert(name.to_owned(), word.to_owned()),
            None => self.committing_procedures.remove(name),
        };
    }

    /// If procedure `name` commits, the `COMMIT` or `ROLLBACK` it runs.
    pub(crate) fn procedure_commits(&self, name: &str) -> Option<&str> {
        self.committing_procedures.get(name).map(String::as_str)
    }

    pub(crate) fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    pub(crate) fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.get_mut(name)
    }

    pub(crate) fn column(&self, table: &str, column: &str) -> Option<&Column> {
        self.tables.get(table)?.column(column)
    }

    pub(crate) fn create(&mut self, name: &str, table: Table) {
        self.tables.insert(name.to_owned(), table);
    }

    pub(crate) fn drop(&mut self, name: &str) {
        self.tables.remove(name);
    }

    /// Records that index `name` is on a partitioned table.
    pub(crate) fn partitioned_index(&mut self, name: &str) {
        self.partitioned_indexes.insert(name.to_owned());
    }

    /// Records that `partition` is `parent`'s default partition.
    pub(crate) fn default_partition(&mut self, parent: &str, partition: &str) {
        if let Some(parent) = self.tables.get_mut(parent) {
            parent.default_partition = Some(partition.to_owned());
        }
    }

    /// `partition` is no longer one of `parent`'s partitions.
    pub(crate) fn detached(&mut self, parent: &str, partition: &str) {
        if let Some(parent) = self.tables.get_mut(parent)
            && parent.default_partition.as_deref() == Some(partition)
        {
            parent.default_partition = None;
        }
    }

    /// `parent`'s default partition, if it has one that still exists under that name.
    pub(crate) fn has_default_partition(&self, parent: &str) -> Option<&str> {
        let partition = self.tables.get(parent)?.default_partition.as_deref()?;
        self.tables.contains_key(partition).then_some(partition)
    }

    /// Whether index `name` is on a partitioned table.
    pub(crate) fn is_partitioned_index(&self, name: &str) -> bool {
        self.partitioned_indexes.contains(name)
    }

    pub(crate) fn rename(&mut self, from: &str, to: &str) {
        if let Some(table) = self.tables.remove(from) {
            self.tables.insert(to.to_owned(), table);
        }
        for table in self.tables.values_mut() {
            if table.default_partition.as_deref() == Some(from) {
                table.default_partition = Some(to.to_owned());
            }
        }
    }
}

/// If `toks` is `(col IS NOT NULL)` (any parentheses), the column.
pub(crate) fn not_null_check_column(toks: &[Tok<'_>]) -> Option<String> {
    let inner: Vec<&Tok<'_>> = toks.iter().filter(|t| !t.is_punct('(') && !t.is_punct(')')).collect();
    match inner.as_slice() {
        [column, is, not, null] if column.is_name() && is.is("IS") && not.is("NOT") && null.is("NULL") => {
            Some(column.ident())
        }
        _ => None,
    }
}

fn number(arg: Option<&String>) -> Option<u64> {
    arg?.trim().parse().ok()
}

/// Whether changing a PostgreSQL column from `old` to `new` needs neither a rewrite nor a
/// scan: the same type, or a binary-coercible widening (`varchar(n)` → `varchar(m ≥ n)`,
/// `varchar` → `text`, a wider `numeric` with the same scale, a wider or unlimited
/// `varbit`/`timestamp`/`timestamptz`/`interval` precision, `cidr` → `inet`).
pub(crate) fn pg_change_is_safe(old: &ColType, new: &ColType) -> bool {
    if old.array != new.array {
        return false;
    }
    if old == new {
        return true;
    }
    let widens = || match (old.args.first(), new.args.first()) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(o), Some(n)) => matches!((number(Some(o)), number(Some(n))), (Some(o), Some(n)) if n >= o),
    };
    match (old.name.as_str(), new.name.as_str()) {
        ("varchar", "varchar") | ("varbit", "varbit") | ("timestamp", "timestamp") => widens(),
        ("timestamptz", "timestamptz") | ("interval", "interval") => widens(),
        ("varchar" | "text", "text") => true,
        ("text", "varchar") => new.args.is_empty(),
        ("cidr", "inet") => true,
        ("numeric", "numeric") => {
            if new.args.is_empty() {
                return true;
            }
            let scale = |t: &ColType| t.args.get(1).and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(0);
            !old.args.is_empty() && scale(old) == scale(new) && widens()
        }
        _ => false,
    }
}

/// Bytes per character of a MySQL character set (utf8mb4 when unknown, MySQL 8's default).
fn mysql_bytes_per_char(charset: Option<&str>) -> u64 {
    match charset.unwrap_or("utf8mb4") {
        "latin1" | "ascii" | "binary" | "latin2" | "cp1252" => 1,
        "ucs2" => 2,
        "utf8" | "utf8mb3" => 3,
        _ => 4,
    }
}

/// Whether changing a MySQL column from `old` to `new` keeps its type: the same type, a
/// `VARCHAR` widening that keeps the length-prefix size (both at most 255 bytes, or both
/// above), or an `ENUM`/`SET` that only appends members without growing.
pub(crate) fn mysql_change_is_safe(
    old: &ColType,
    new: &ColType,
    old_charset: Option<&str>,
    new_charset: Option<&str>,
) -> bool {
    if old_charset != new_charset {
        return false;
    }
    if old == new {
        return true;
    }
    if old.name != new.name || old.unsigned != new.unsigned {
        return false;
    }
    match old.name.as_str() {
        "varchar" | "varbinary" => match (number(old.args.first()), number(new.args.first())) {
            (Some(o), Some(n)) if n >= o => {
                let per_char = if old.name == "varbinary" { 1 } else { mysql_bytes_per_char(old_charset) };
                (o * per_char <= 255) == (n * per_char <= 255)
            }
            _ => false,
        },
        "enum" | "set" => {
            let appends = new.args.len() >= old.args.len() && new.args.iter().zip(&old.args).all(|(n, o)| n == o);
            let size = |members: usize| {
                if old.name == "enum" {
                    usize::from(members > 255)
                } else {
                    match members.div_ceil(8) {
                        0 | 1 => 1,
                        2 => 2,
                        3 => 3,
                        4 => 4,
                        _ => 8,
                    }
                }
            };
            appends && size(old.args.len()) == size(new.args.len())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::tokens::statement_tokens;
    use crate::split::{split, tokenize};

    fn with_toks<R>(sql: &str, dialect: Dialect, f: impl FnOnce(&[Tok<'_>]) -> R) -> R {
        let all = tokenize(sql, dialect).unwrap();
        let statement = split(sql, dialect).unwrap().remove(0);
        let toks = statement_tokens(sql, &all, statement.range, dialect);
        f(&toks)
    }

    fn ty(sql: &str, dialect: Dialect) -> ColType {
        with_toks(sql, dialect, |t| parse_type(t, dialect).unwrap().0)
    }

    #[test]
    fn types_are_normalized() {
        let pg = Dialect::Postgres;
        assert_eq!(ty("character varying(20) NOT NULL", pg).to_string(), "varchar(20)");
        assert_eq!(ty("timestamp(3) with time zone", pg).to_string(), "timestamptz(3)");
        assert_eq!(ty("timestamp without time zone", pg).to_string(), "timestamp");
        assert_eq!(ty("int4[]", pg).to_string(), "integer[]");
        assert_eq!(ty("public.citext", pg).to_string(), "citext");
        assert_eq!(ty("numeric(10, 2) DEFAULT 0", pg).to_string(), "numeric(10,2)");
        let my = Dialect::MySql;
        assert_eq!(ty("INT(11) UNSIGNED NOT NULL", my).to_string(), "int unsigned");
        assert_eq!(ty("VARCHAR(50) CHARACTER SET latin1", my).to_string(), "varchar(50)");
        assert_eq!(ty("ENUM('a','b')", my).to_string(), "enum('a','b')");
    }

    #[test]
    fn column_definitions() {
        with_toks("email varchar(10) NOT NULL DEFAULT lower('X') UNIQUE", Dialect::Postgres, |t| {
            let def = parse_column(t, Dialect::Postgres).unwrap();
            assert_eq!(def.name, "email");
            assert!(def.not_null && def.unique && !def.primary_key);
            assert_eq!(def.default.unwrap().len(), 4);
        });
        with_toks("id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", Dialect::Postgres, |t| {
            let def = parse_column(t, Dialect::Postgres).unwrap();
            assert!(def.identity && def.primary_key && def.not_null && def.generated.is_none());
        });
        with_toks("total INT AS (a + b) STORED NOT NULL", Dialect::MySql, |t| {
            let def = parse_column(t, Dialect::MySql).unwrap();
            assert_eq!(def.generated, Some(true));
            assert!(def.not_null);
        });
        with_toks("name VARCHAR(20) CHARACTER SET latin1 NULL", Dialect::MySql, |t| {
            let def = parse_column(t, Dialect::MySql).unwrap();
            assert_eq!(def.charset.as_deref(), Some("latin1"));
            assert!(def.null && !def.not_null);
        });
    }

    #[test]
    fn postgres_binary_coercible_changes() {
        let pg = Dialect::Postgres;
        let safe = |a: &str, b: &str| pg_change_is_safe(&ty(a, pg), &ty(b, pg));
        assert!(safe("varchar(10)", "varchar(20)"));
        assert!(safe("varchar(10)", "varchar"));
        assert!(safe("varchar(10)", "text"));
        assert!(safe("text", "text"));
        assert!(safe("numeric(10,2)", "numeric(12,2)"));
        assert!(safe("numeric(10,2)", "numeric"));
        assert!(safe("timestamptz(3)", "timestamptz"));
        assert!(!safe("varchar(20)", "varchar(10)"));
        assert!(!safe("text", "varchar(10)"));
        assert!(!safe("integer", "bigint"));
        assert!(!safe("numeric(10,2)", "numeric(12,3)"));
        assert!(!safe("timestamp", "timestamptz"));
        assert!(!safe("varchar(10)[]", "text"));
    }

    #[test]
    fn mysql_length_prefix_boundary() {
        let my = Dialect::MySql;
        let safe = |a: &str, b: &str, cs: Option<&str>| mysql_change_is_safe(&ty(a, my), &ty(b, my), cs, cs);
        assert!(safe("VARCHAR(50)", "VARCHAR(60)", None));
        assert!(!safe("VARCHAR(50)", "VARCHAR(100)", None), "200 → 400 bytes crosses 255");
        assert!(safe("VARCHAR(100)", "VARCHAR(255)", None));
        assert!(safe("VARCHAR(100)", "VARCHAR(255)", Some("latin1")));
        assert!(!safe("VARCHAR(200)", "VARCHAR(300)", Some("latin1")));
        assert!(!safe("VARCHAR(60)", "VARCHAR(50)", None));
        assert!(safe("INT(11)", "INT", None));
        assert!(!safe("INT", "BIGINT", None));
        assert!(safe("ENUM('a','b')", "ENUM('a','b','c')", None));
        assert!(!safe("ENUM('a','b')", "ENUM('b','a','c')", None));
        assert!(!mysql_change_is_safe(&ty("VARCHAR(10)", my), &ty("VARCHAR(10)", my), Some("latin1"), None));
    }
}
