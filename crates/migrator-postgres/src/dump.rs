//! The current schema as SQL statements, for `migrator squash` ([`Dump`]).
//!
//! Everything is read in one `REPEATABLE READ` read-only transaction whose `search_path` is
//! the schema alone (`SET LOCAL`), so the catalog functions print the schema's own objects
//! unqualified and anything from another schema qualified; the qualifiers they always print
//! (`pg_get_functiondef`, `pg_get_indexdef`, `pg_get_triggerdef`,
//! `pg_get_statisticsobjdef`) are taken out, the same way the snapshot takes them out.
//!
//! Each object becomes an item with a phase and the items it needs; items are written in
//! phase order unless a dependency recorded in `pg_depend` asks for an item sooner:
//!
//! 1. extensions (`CREATE EXTENSION IF NOT EXISTS`), enum, domain and composite types,
//!    sequences, tables (columns with types, collations, defaults, generated expressions,
//!    `NOT NULL` — from PostgreSQL 18 a constraint, named when the rebuild would name it
//!    otherwise, and `NO INHERIT` —, identity with its sequence's options, storage settings,
//!    partitions as `PARTITION OF`), `OWNED BY`;
//! 2. rows (`INSERT`s ordered by primary key, generated columns left out, `OVERRIDING
//!    SYSTEM VALUE` for `GENERATED ALWAYS` identity), then `setval` for every sequence that
//!    moved;
//! 3. primary key, unique, check and exclusion constraints, `NOT VALID` NOT NULL
//!    constraints (PostgreSQL 18, after the rows that break them), indexes that back no
//!    constraint, extended statistics, partition indexes attached to their parents, then
//!    foreign keys (after every row, so cycles and row order never matter);
//! 4. views and materialized views, functions and procedures (a function a table, an index
//!    or a view needs comes before it), triggers (after the rows, so they do not fire on
//!    them), then comments, `CLUSTER ON`, replica identities and trigger states.
//!
//! What the statements cannot reproduce is refused with [`Error::Unsupported`], naming
//! each object: rules, row-level security and policies, foreign tables, table inheritance,
//! typed tables, tablespaces, publications, event triggers calling the schema's functions,
//! large objects, aggregates, operators and operator classes, collations, conversions, text
//! search objects, range and base types, view column defaults, invalid indexes, and
//! functions whose `search_path` setting names the schema.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use async_trait::async_trait;
use migrator_core::Error;
use migrator_core::driver::{Dump, DumpOptions, SchemaDump};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::conn::{db, simple};
use crate::driver::PgDriver;

const DATABASE: &str = "PostgreSQL";
use migrator_core::driver::DUMP_INSTEAD as INSTEAD;
/// Rows per `INSERT`.
const ROWS_PER_INSERT: usize = 100;
/// The current schema's namespace oid.
const NS: &str = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())";
/// Leaves out migrator's own tables (and what hangs off them).
const NOT_OURS: &str = "NOT LIKE '\\_migrator\\_%'";
/// Type oids whose text form is a plain integer, written unquoted.
const INTEGER_TYPES: [&str; 4] = ["20", "21", "23", "26"];

/// Whether the object is a member of an extension (created by `CREATE EXTENSION`).
fn member(class: &str, oid: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{class}'::regclass AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

/// The name of collation `oid`, qualified unless it is in `pg_catalog`.
fn collation(oid: &str) -> String {
    format!(
        "(SELECT CASE WHEN n.nspname = 'pg_catalog' THEN '' ELSE quote_ident(n.nspname) || '.' END \
         || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace \
         WHERE co.oid = {oid})"
    )
}

/// A `reloptions` array as `name='value', …` (`prefix` before each name), keeping the
/// options `filter` (a condition on the option's name `name`) accepts.
fn options(array: &str, prefix: &str, filter: &str) -> String {
    format!(
        "(SELECT string_agg('{prefix}' || quote_ident(name) || '=' || quote_literal(value), ', ' ORDER BY n) \
         FROM unnest({array}) WITH ORDINALITY u(o, n), \
         LATERAL (SELECT split_part(o, '=', 1) AS name, substr(o, strpos(o, '=') + 1) AS value) v WHERE {filter})"
    )
}

/// Objects the statements cannot reproduce, one description per row.
fn refusals(version: i64) -> String {
    let mut parts = vec![
        format!(
            "SELECT 'rule ' || quote_ident(r.rulename) || ' on ' || quote_ident(c.relname) FROM pg_rewrite r \
             JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = {NS} AND r.rulename <> '_RETURN'"
        ),
        format!(
            "SELECT 'policy ' || quote_ident(p.polname) || ' on ' || quote_ident(c.relname) FROM pg_policy p \
             JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = {NS}"
        ),
        format!(
            "SELECT 'row-level security of table ' || quote_ident(c.relname) FROM pg_class c \
             WHERE c.relnamespace = {NS} AND (c.relrowsecurity OR c.relforcerowsecurity)"
        ),
        format!(
            "SELECT 'foreign table ' || quote_ident(c.relname) FROM pg_class c WHERE c.relnamespace = {NS} \
             AND c.relkind = 'f' AND NOT {}",
            member("pg_class", "c.oid")
        ),
        format!(
            "SELECT 'table inheritance (' || quote_ident(c.relname) || ' inherits ' || quote_ident(p.relname) || ')' \
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
             WHERE c.relnamespace = {NS} AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        ),
        format!(
            "SELECT 'typed table ' || quote_ident(c.relname) FROM pg_class c WHERE c.relnamespace = {NS} \
             AND c.reloftype <> 0"
        ),
        format!(
            "SELECT 'the tablespace of ' || quote_ident(c.relname) FROM pg_class c WHERE c.relnamespace = {NS} \
             AND c.reltablespace <> 0 AND c.relname {NOT_OURS}"
        ),
        format!(
            "SELECT 'publication ' || quote_ident(p.pubname) || ' of table ' || quote_ident(c.relname) \
             FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid JOIN pg_class c ON c.oid = r.prrelid \
             WHERE c.relnamespace = {NS}"
        ),
        "SELECT 'publication ' || quote_ident(p.pubname) || ' (FOR ALL TABLES)' FROM pg_publication p \
         WHERE p.puballtables"
            .to_owned(),
        format!(
            "SELECT 'event trigger ' || quote_ident(e.evtname) FROM pg_event_trigger e JOIN pg_proc p \
             ON p.oid = e.evtfoid WHERE p.pronamespace = {NS}"
        ),
        "SELECT count(*) || ' large object(s) of the database (large objects belong to no schema)' \
         FROM pg_largeobject_metadata HAVING count(*) > 0"
            .to_owned(),
        format!(
            "SELECT 'aggregate ' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' \
             FROM pg_proc p WHERE p.pronamespace = {NS} AND p.prokind = 'a' AND NOT {}",
            member("pg_proc", "p.oid")
        ),
        format!(
            "SELECT 'operator ' || o.oprname FROM pg_operator o WHERE o.oprnamespace = {NS} AND NOT {}",
            member("pg_operator", "o.oid")
        ),
        format!(
            "SELECT 'operator class ' || quote_ident(o.opcname) FROM pg_opclass o WHERE o.opcnamespace = {NS} \
             AND NOT {}",
            member("pg_opclass", "o.oid")
        ),
        format!(
            "SELECT 'operator family ' || quote_ident(o.opfname) FROM pg_opfamily o WHERE o.opfnamespace = {NS} \
             AND NOT {}",
            member("pg_opfamily", "o.oid")
        ),
        format!(
            "SELECT 'collation ' || quote_ident(o.collname) FROM pg_collation o WHERE o.collnamespace = {NS} \
             AND NOT {}",
            member("pg_collation", "o.oid")
        ),
        format!(
            "SELECT 'conversion ' || quote_ident(o.conname) FROM pg_conversion o WHERE o.connamespace = {NS} \
             AND NOT {}",
            member("pg_conversion", "o.oid")
        ),
        format!(
            "SELECT 'text search configuration ' || quote_ident(o.cfgname) FROM pg_ts_config o \
             WHERE o.cfgnamespace = {NS} AND NOT {}",
            member("pg_ts_config", "o.oid")
        ),
        format!(
            "SELECT 'text search dictionary ' || quote_ident(o.dictname) FROM pg_ts_dict o \
             WHERE o.dictnamespace = {NS} AND NOT {}",
            member("pg_ts_dict", "o.oid")
        ),
        format!(
            "SELECT 'text search parser ' || quote_ident(o.prsname) FROM pg_ts_parser o \
             WHERE o.prsnamespace = {NS} AND NOT {}",
            member("pg_ts_parser", "o.oid")
        ),
        format!(
            "SELECT 'text search template ' || quote_ident(o.tmplname) FROM pg_ts_template o \
             WHERE o.tmplnamespace = {NS} AND NOT {}",
            member("pg_ts_template", "o.oid")
        ),
        format!(
            "SELECT CASE t.typtype WHEN 'r' THEN 'range type ' WHEN 'p' THEN 'shell type ' ELSE 'base type ' END \
             || quote_ident(t.typname) FROM pg_type t WHERE t.typnamespace = {NS} AND t.typtype IN ('b', 'r', 'p') \
             AND NOT {} AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)",
            member("pg_type", "t.oid")
        ),
        format!(
            "SELECT 'the default of view column ' || quote_ident(c.relname) || '.' || quote_ident(a.attname) \
             FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_attribute a ON a.attrelid = d.adrelid \
             AND a.attnum = d.adnum WHERE c.relnamespace = {NS} AND c.relkind = 'v'"
        ),
        format!(
            "SELECT 'invalid index ' || quote_ident(ic.relname) || ' (left by a failed CREATE INDEX CONCURRENTLY: \
             drop it or build it again first)' FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_class tc ON tc.oid = i.indrelid WHERE ic.relnamespace = {NS} AND NOT i.indisvalid \
             AND tc.relname {NOT_OURS}"
        ),
        format!(
            "SELECT 'function ' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) \
             || '), whose search_path setting names the schema' FROM pg_proc p WHERE p.pronamespace = {NS} \
             AND EXISTS (SELECT 1 FROM unnest(p.proconfig) s, regexp_split_to_table(substr(s, 13), ',') e \
             WHERE s LIKE 'search\\_path=%' AND btrim(e, ' \"') = current_schema())"
        ),
    ];
    if version >= 150_000 {
        parts.push(format!(
            "SELECT 'publication ' || quote_ident(p.pubname) || ' of the whole schema' FROM pg_publication_namespace n \
             JOIN pg_publication p ON p.oid = n.pnpubid WHERE n.pnnspid = {NS}"
        ));
    }
    parts.join("\nUNION ALL ")
}

/// The catalog queries, in the order [`Catalog::read`] reads their results.
fn catalog_queries(version: i64) -> Vec<String> {
    let compression = if version >= 140_000 { "a.attcompression::text" } else { "''" };
    // From PostgreSQL 18 a NOT NULL is a constraint of `pg_constraint` (contype `n`), with a
    // name that follows no rename, may be chosen, and may be NOT VALID or NO INHERIT. Its name
    // is read when the rebuild would not give it by itself: `<table>_<column>_not_null`, or in
    // a partition the name of its parent's constraint.
    let not_null = if version >= 180_000 {
        "(SELECT coalesce(CASE WHEN n.conname <> coalesce((SELECT pn.conname FROM pg_inherits h \
          JOIN pg_attribute pa ON pa.attrelid = h.inhparent AND pa.attname = a.attname \
          JOIN pg_constraint pn ON pn.conrelid = h.inhparent AND pn.contype = 'n' AND pn.conkey[1] = pa.attnum \
          WHERE h.inhrelid = a.attrelid AND c.relispartition), c.relname || '_' || a.attname || '_not_null') \
          THEN quote_ident(n.conname) END, '') || '|' || (NOT n.convalidated)::text || '|' || n.connoinherit::text \
          FROM pg_constraint n WHERE n.conrelid = a.attrelid AND n.contype = 'n' AND n.conkey[1] = a.attnum)"
    } else {
        "NULL"
    };
    let invalid_not_null = if version >= 180_000 { " OR (co.contype = 'n' AND NOT co.convalidated)" } else { "" };
    vec![
        refusals(version),
        // Extensions.
        format!(
            "SELECT x.oid::text, quote_ident(x.extname) FROM pg_extension x WHERE x.extnamespace = {NS} ORDER BY x.extname"
        ),
        // Members of those extensions.
        format!(
            "SELECT d.classid::regclass::text, d.objid::text, d.refobjid::text FROM pg_depend d \
             JOIN pg_extension x ON x.oid = d.refobjid WHERE d.refclassid = 'pg_extension'::regclass \
             AND d.deptype = 'e' AND x.extnamespace = {NS}"
        ),
        // Enum, domain and composite types.
        format!(
            "SELECT t.oid::text, t.typarray::text, t.typrelid::text, quote_ident(t.typname), t.typtype::text, \
             CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, \
             CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> \
             (SELECT b.typcollation FROM pg_type b WHERE b.oid = t.typbasetype) THEN {} END, \
             pg_get_expr(t.typdefaultbin, 0), t.typnotnull::text \
             FROM pg_type t WHERE t.typnamespace = {NS} AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND \
             EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))) AND NOT {} \
             ORDER BY t.typname",
            collation("t.typcollation"),
            member("pg_type", "t.oid")
        ),
        // Enum labels.
        format!(
            "SELECT e.enumtypid::text, e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
             WHERE t.typnamespace = {NS} ORDER BY e.enumtypid, e.enumsortorder"
        ),
        // Domain constraints.
        format!(
            "SELECT co.contypid::text, co.oid::text, quote_ident(co.conname), pg_get_constraintdef(co.oid) \
             FROM pg_constraint co JOIN pg_type t ON t.oid = co.contypid WHERE t.typnamespace = {NS} \
             AND co.contype <> 'n' ORDER BY co.contypid, co.conname"
        ),
        // Attributes of composite types.
        format!(
            "SELECT c.reltype::text, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), \
             CASE WHEN a.attcollation <> at.typcollation THEN {} END \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type at ON at.oid = a.atttypid \
             WHERE c.relnamespace = {NS} AND c.relkind = 'c' AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY c.reltype, a.attnum",
            collation("a.attcollation")
        ),
        // Sequences, with the column owning them (`a`: serial or OWNED BY, `i`: identity).
        format!(
            "SELECT c.oid::text, quote_ident(c.relname), c.relpersistence::text, format_type(s.seqtypid, NULL), \
             s.seqstart::text, s.seqincrement::text, s.seqmin::text, s.seqmax::text, s.seqcache::text, \
             s.seqcycle::text, d.deptype::text, d.refobjid::text, quote_ident(oc.relname), quote_ident(a.attname), \
             (oc.relnamespace = {NS})::text \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
             LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid \
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
             LEFT JOIN pg_class oc ON oc.oid = d.refobjid \
             LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
             WHERE c.relnamespace = {NS} AND NOT {} AND coalesce(oc.relname, '') {NOT_OURS} ORDER BY c.relname",
            member("pg_class", "c.oid")
        ),
        // Tables and partitioned tables.
        format!(
            "SELECT c.oid::text, c.reltype::text, quote_ident(c.relname), c.relkind::text, c.relpersistence::text, \
             (SELECT i.inhparent::text FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition), \
             CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, \
             CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
             concat_ws(', ', {}, (SELECT {} FROM pg_class t WHERE t.oid = c.reltoastrelid)), c.relreplident::text, \
             (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.n) FROM pg_index i \
              CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n) \
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
              WHERE i.indrelid = c.oid AND i.indisprimary) \
             FROM pg_class c WHERE c.relnamespace = {NS} AND c.relkind IN ('r', 'p') AND c.relname {NOT_OURS} \
             AND NOT {} ORDER BY c.relname",
            options("c.reloptions", "", "true"),
            options("t.reloptions", "toast.", "true"),
            member("pg_class", "c.oid")
        ),
        // Their columns.
        format!(
            "SELECT a.attrelid::text, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), \
             CASE WHEN a.attcollation <> t.typcollation THEN {} END, pg_get_expr(d.adbin, d.adrelid), d.oid::text, \
             a.attgenerated::text, a.attidentity::text, a.attnotnull::text, a.atttypid::text, a.attstorage::text, \
             t.typstorage::text, coalesce(a.attstattarget, -1)::text, {compression}, {}, {not_null} \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE c.relnamespace = {NS} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
             AND c.relname {NOT_OURS} ORDER BY a.attrelid, a.attnum",
            collation("a.attcollation"),
            options("a.attoptions", "", "name IN ('n_distinct', 'n_distinct_inherited')")
        ),
        // Table constraints (constraint triggers come with their trigger, NOT NULL with its column).
        format!(
            "SELECT co.oid::text, co.conrelid::text, quote_ident(co.conname), co.contype::text, \
             pg_get_constraintdef(co.oid), co.conislocal::text, co.conparentid::text, co.conindid::text, \
             (SELECT quote_ident(ic.relname) FROM pg_class ic WHERE ic.oid = co.conindid), \
             (SELECT pc.conindid::text FROM pg_constraint pc WHERE pc.oid = co.conparentid), \
             (SELECT quote_ident(pic.relname) FROM pg_constraint pc JOIN pg_class pic ON pic.oid = pc.conindid \
              WHERE pc.oid = co.conparentid), quote_ident(c.relname) \
             FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid WHERE c.relnamespace = {NS} \
             AND c.relkind IN ('r', 'p') AND c.relname {NOT_OURS} \
             AND (co.contype IN ('p', 'u', 'x', 'c', 'f'){invalid_not_null}) ORDER BY c.relname, co.conname"
        ),
        // Indexes, with the constraint each backs (if any) and the partitioned index it is attached to.
        format!(
            "SELECT i.indexrelid::text, i.indrelid::text, quote_ident(ic.relname), pg_get_indexdef(i.indexrelid), \
             (SELECT h.inhparent::text FROM pg_inherits h WHERE h.inhrelid = i.indexrelid), \
             (SELECT quote_ident(pc.relname) FROM pg_inherits h JOIN pg_class pc ON pc.oid = h.inhparent \
              WHERE h.inhrelid = i.indexrelid), quote_ident(tc.relname), i.indisclustered::text, \
             i.indisreplident::text, (SELECT co.oid::text FROM pg_constraint co WHERE co.conindid = i.indexrelid \
              AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x')) \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid \
             WHERE ic.relnamespace = {NS} AND tc.relname {NOT_OURS} AND NOT {} ORDER BY ic.relname",
            member("pg_class", "ic.oid")
        ),
        // Views and materialized views.
        format!(
            "SELECT c.oid::text, c.reltype::text, r.oid::text, quote_ident(c.relname), c.relkind::text, \
             pg_get_viewdef(c.oid), {}, c.relispopulated::text \
             FROM pg_class c LEFT JOIN pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN' \
             WHERE c.relnamespace = {NS} AND c.relkind IN ('v', 'm') AND NOT {} ORDER BY c.relname",
            options("c.reloptions", "", "true"),
            member("pg_class", "c.oid")
        ),
        // Functions and procedures.
        format!(
            "SELECT p.oid::text, quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
             pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = {NS} AND p.prokind IN ('f', 'p', 'w') \
             AND NOT {} ORDER BY 2",
            member("pg_proc", "p.oid")
        ),
        // Triggers, and the clones a partitioned table's trigger makes on its partitions (only
        // their state is written: the parent's trigger makes them).
        format!(
            "SELECT t.oid::text, t.tgrelid::text, quote_ident(t.tgname), quote_ident(c.relname), \
             pg_get_triggerdef(t.oid), t.tgenabled::text, t.tgparentid::text FROM pg_trigger t \
             JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = {NS} AND NOT t.tgisinternal \
             AND c.relname {NOT_OURS} AND NOT {} ORDER BY c.relname, t.tgname",
            member("pg_trigger", "t.oid")
        ),
        // Extended statistics.
        format!(
            "SELECT s.oid::text, s.stxrelid::text, quote_ident(s.stxname), pg_get_statisticsobjdef(s.oid), \
             coalesce(s.stxstattarget, -1)::text FROM pg_statistic_ext s WHERE s.stxnamespace = {NS} \
             AND NOT {} ORDER BY s.stxname",
            member("pg_statistic_ext", "s.oid")
        ),
        // Comments.
        format!(
            "SELECT target, description FROM (\
             SELECT CASE WHEN d.objsubid = 0 THEN CASE c.relkind WHEN 'v' THEN 'VIEW ' \
             WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE ' WHEN 'i' THEN 'INDEX ' \
             WHEN 'I' THEN 'INDEX ' WHEN 'c' THEN 'TYPE ' ELSE 'TABLE ' END || quote_ident(c.relname) \
             ELSE 'COLUMN ' || quote_ident(c.relname) || '.' || quote_ident(a.attname) END AS target, d.description \
             FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid \
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid \
             WHERE c.relnamespace = {NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'c') \
             AND c.relname {NOT_OURS} AND NOT {} \
             UNION ALL SELECT 'TYPE ' || quote_ident(t.typname), d.description FROM pg_description d \
             JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid WHERE t.typnamespace = {NS} \
             AND NOT {} \
             UNION ALL SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || quote_ident(p.proname) \
             || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description FROM pg_description d \
             JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid WHERE p.pronamespace = {NS} \
             AND NOT {} \
             UNION ALL SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ON ' || CASE WHEN co.contypid <> 0 \
             THEN 'DOMAIN ' || quote_ident(ty.typname) ELSE quote_ident(cl.relname) END, d.description \
             FROM pg_description d JOIN pg_constraint co ON d.classoid = 'pg_constraint'::regclass \
             AND co.oid = d.objoid LEFT JOIN pg_class cl ON cl.oid = co.conrelid LEFT JOIN pg_type ty \
             ON ty.oid = co.contypid WHERE co.connamespace = {NS} AND coalesce(cl.relname, '') {NOT_OURS} \
             UNION ALL SELECT 'TRIGGER ' || quote_ident(t.tgname) || ' ON ' || quote_ident(c.relname), d.description \
             FROM pg_description d JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND t.oid = d.objoid \
             JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = {NS} AND c.relname {NOT_OURS} \
             UNION ALL SELECT 'STATISTICS ' || quote_ident(s.stxname), d.description FROM pg_description d \
             JOIN pg_statistic_ext s ON d.classoid = 'pg_statistic_ext'::regclass AND s.oid = d.objoid \
             WHERE s.stxnamespace = {NS}) x ORDER BY target COLLATE \"C\"",
            member("pg_class", "c.oid"),
            member("pg_type", "t.oid"),
            member("pg_proc", "p.oid")
        ),
        // Dependencies between user objects.
        "SELECT d.classid::regclass::text, d.objid::text, d.refclassid::regclass::text, d.refobjid::text \
         FROM pg_depend d WHERE d.deptype = 'n' AND d.objid >= 16384 AND d.refobjid >= 16384 \
         AND d.classid IN ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass, 'pg_attrdef'::regclass, \
         'pg_constraint'::regclass, 'pg_rewrite'::regclass, 'pg_trigger'::regclass, 'pg_statistic_ext'::regclass)"
            .to_owned(),
    ]
}

/// One row of text cells (every catalog query casts its columns to text).
struct Cells<'r>(&'r PgRow);

impl Cells<'_> {
    fn opt(&self, index: usize) -> Result<Option<String>, Error> {
        self.0.try_get::<Option<String>, _>(index).map_err(|e| db("reading the schema catalogs", e))
    }

    fn text(&self, index: usize) -> Result<String, Error> {
        Ok(self.opt(index)?.unwrap_or_default())
    }

    fn flag(&self, index: usize) -> Result<bool, Error> {
        Ok(matches!(self.opt(index)?.as_deref(), Some("t" | "true")))
    }

    fn int(&self, index: usize) -> Result<i64, Error> {
        let text = self.text(index)?;
        text.parse().map_err(|e| Error::database(format!("reading the schema catalogs (`{text}` is no integer)"), e))
    }
}

/// The rows of one query's result.
fn rows<'r>(results: &'r [Vec<PgRow>], index: usize) -> impl Iterator<Item = Cells<'r>> {
    results.get(index).into_iter().flatten().map(Cells)
}

/// When an item is written, in order; a dependency may bring an item forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Extension,
    Type,
    Sequence,
    Table,
    Owned,
    Data,
    Position,
    Key,
    Index,
    Attach,
    Foreign,
    View,
    Function,
    Trigger,
    Last,
}

impl Phase {
    /// Whether an item of this phase needs the rows of the tables it uses (a constraint
    /// checks them, a materialized view reads them), not only the tables.
    fn needs_rows(self) -> bool {
        self >= Phase::Key && self != Phase::Function
    }
}

/// Statements that create one object, with what they need.
#[derive(Debug)]
struct Item {
    phase: Phase,
    key: String,
    label: String,
    statements: Vec<String>,
    needs: BTreeSet<usize>,
}

/// The items, the catalog objects each stands for, and the order they are written in.
#[derive(Debug, Default)]
struct Graph {
    items: Vec<Item>,
    /// `(catalog, oid)` → item.
    objects: HashMap<(String, String), usize>,
    /// A table's item → its rows' item.
    rows_of: HashMap<usize, usize>,
    /// Objects items use, resolved once every object has its item: (user, catalog, oid).
    uses: Vec<(usize, String, String)>,
}

impl Graph {
    fn add(&mut self, phase: Phase, key: String, label: String, statements: Vec<String>) -> usize {
        self.items.push(Item { phase, key, label, statements, needs: BTreeSet::new() });
        self.items.len() - 1
    }

    fn map(&mut self, catalog: &str, oid: &str, item: usize) {
        if oid != "0" && !oid.is_empty() {
            self.objects.insert((catalog.to_owned(), oid.to_owned()), item);
        }
    }

    fn item(&self, catalog: &str, oid: &str) -> Option<usize> {
        self.objects.get(&(catalog.to_owned(), oid.to_owned())).copied()
    }

    fn need(&mut self, item: usize, needed: usize) {
        if item != needed
            && let Some(entry) = self.items.get_mut(item)
        {
            entry.needs.insert(needed);
        }
    }

    /// `item` uses the object `(catalog, oid)`: it needs that object's item (or its rows),
    /// once every object has its item ([`Graph::resolve`]).
    fn uses(&mut self, item: usize, catalog: &str, oid: &str) {
        self.uses.push((item, catalog.to_owned(), oid.to_owned()));
    }

    /// Turns the objects items use into the items they need.
    fn resolve(&mut self) {
        for (item, catalog, oid) in std::mem::take(&mut self.uses) {
            let Some(mut needed) = self.item(&catalog, &oid) else { continue };
            let phase = self.items.get(item).map(|i| i.phase);
            if phase.is_some_and(Phase::needs_rows)
                && let Some(&rows) = self.rows_of.get(&needed)
            {
                needed = rows;
            }
            self.need(item, needed);
        }
    }

    /// The statements in order: by phase and key, each item after the items it needs.
    fn order(self) -> Result<Vec<String>, Error> {
        let count = self.items.len();
        let mut waiting = vec![0usize; count];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (index, item) in self.items.iter().enumerate() {
            for &needed in &item.needs {
                if let (Some(w), Some(u)) = (waiting.get_mut(index), users.get_mut(needed)) {
                    *w += 1;
                    u.push(index);
                }
            }
        }
        // An item needed by an item of an earlier phase moves to that phase (a function a
        // column default calls is written among the tables), and so on down what it needs.
        let mut phases: Vec<Phase> = self.items.iter().map(|i| i.phase).collect();
        let mut moved = true;
        while moved {
            moved = false;
            for (index, item) in self.items.iter().enumerate() {
                let Some(&phase) = phases.get(index) else { continue };
                for &needed in &item.needs {
                    if let Some(p) = phases.get_mut(needed)
                        && phase < *p
                    {
                        *p = phase;
                        moved = true;
                    }
                }
            }
        }
        let phase_of = |index: usize| phases.get(index).copied().unwrap_or(Phase::Last);
        let mut ready = BinaryHeap::new();
        for (index, item) in self.items.iter().enumerate() {
            if waiting.get(index) == Some(&0) {
                ready.push(Reverse((phase_of(index), item.key.clone(), index)));
            }
        }
        let mut done = vec![false; count];
        let mut statements = Vec::new();
        while let Some(Reverse((_, _, index))) = ready.pop() {
            let Some(item) = self.items.get(index) else { continue };
            if let Some(d) = done.get_mut(index) {
                *d = true;
            }
            statements.extend(item.statements.iter().cloned());
            for &user in users.get(index).into_iter().flatten() {
                if let Some(w) = waiting.get_mut(user) {
                    *w -= 1;
                    if *w == 0
                        && let Some(u) = self.items.get(user)
                    {
                        ready.push(Reverse((phase_of(user), u.key.clone(), user)));
                    }
                }
            }
        }
        let stuck: Vec<&str> =
            self.items.iter().zip(&done).filter(|(_, done)| !**done).map(|(item, _)| item.label.as_str()).collect();
        if stuck.is_empty() {
            Ok(statements)
        } else {
            Err(Error::Unsupported {
                database: DATABASE,
                what: format!("order {} for a squash migration: they depend on each other", stuck.join(", ")),
                instead: INSTEAD.to_owned(),
            })
        }
    }
}

/// A string literal: plain when it can be, an `E''` string (with escapes) when the value
/// holds a backslash or a control character, so the file has no raw control characters.
fn literal(value: &str) -> String {
    if !value.chars().any(|c| c == '\\' || c.is_control()) {
        return format!("'{}'", value.replace('\'', "''"));
    }
    let mut out = String::from("E'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `text` without the schema qualifier `qualifier` (`"schema".`) where it starts a name.
fn unqualified(text: &str, qualifier: &str) -> String {
    if qualifier.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(qualifier) {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let previous = before.chars().next_back().or_else(|| out.chars().next_back());
        let starts_name =
            previous.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$' || c == '"' || c == '.'));
        let skipped = after.get(qualifier.len()..).unwrap_or("");
        if starts_name {
            rest = skipped;
        } else {
            out.push_str(after.get(..qualifier.len()).unwrap_or(""));
            rest = skipped;
        }
    }
    out.push_str(rest);
    out
}

/// A column of a table.
#[derive(Debug)]
struct Column {
    name: String,
    kind: String,
    collation: Option<String>,
    default: Option<String>,
    default_oid: String,
    generated: bool,
    identity: String,
    /// NOT NULL, and valid (a NOT VALID one, PostgreSQL 18, is a constraint added after the rows).
    not_null: bool,
    /// The name of the NOT NULL constraint, when the rebuild would not give it by itself
    /// (PostgreSQL 18).
    not_null_name: Option<String>,
    /// A NO INHERIT NOT NULL constraint (PostgreSQL 18).
    not_null_no_inherit: bool,
    integer: bool,
    storage: String,
    type_storage: String,
    statistics: i64,
    compression: String,
    options: Option<String>,
}

impl Column {
    fn read(row: &Cells<'_>, qualifier: &str) -> Result<(String, Column), Error> {
        let strip = |s: Option<String>| s.map(|s| unqualified(&s, qualifier));
        // `name|invalid|no inherit`, the name quoted (it may hold a `|`) or empty.
        let constraint = row.opt(15)?;
        let mut parts = constraint.as_deref().unwrap_or("").rsplitn(3, '|');
        let (no_inherit, invalid, not_null_name) = (parts.next(), parts.next(), parts.next());
        let not_null_invalid = invalid == Some("true");
        Ok((
            row.text(0)?,
            Column {
                name: row.text(1)?,
                kind: unqualified(&row.text(2)?, qualifier),
                collation: row.opt(3)?,
                default: strip(row.opt(4)?),
                default_oid: row.text(5)?,
                generated: !row.text(6)?.is_empty(),
                identity: row.text(7)?,
                not_null: row.flag(8)? && !not_null_invalid,
                not_null_name: not_null_name.filter(|n| !n.is_empty()).map(str::to_owned),
                not_null_no_inherit: no_inherit == Some("true"),
                integer: INTEGER_TYPES.contains(&row.text(9)?.as_str()),
                storage: row.text(10)?,
                type_storage: row.text(11)?,
                statistics: row.int(12)?,
                compression: row.text(13)?,
                options: row.opt(14)?,
            },
        ))
    }

    /// The column's NOT NULL as `CREATE TABLE` writes it, with the constraint's name when the
    /// rebuild would not give it by itself; `None` when the column may hold NULLs.
    fn not_null_clause(&self) -> Option<String> {
        if !self.not_null {
            return None;
        }
        let mut clause = String::new();
        if let Some(name) = &self.not_null_name {
            clause.push_str(&format!("CONSTRAINT {name} "));
        }
        clause.push_str("NOT NULL");
        if self.not_null_no_inherit {
            clause.push_str(" NO INHERIT");
        }
        Some(clause)
    }

    /// `ALTER COLUMN` clauses for settings `CREATE TABLE` does not write; `parent` is the
    /// partitioned table's column a partition's column copies.
    fn settings(&self, parent: Option<&Column>) -> Vec<String> {
        let mut clauses = Vec::new();
        let name = &self.name;
        if let Some(parent) = parent {
            if self.default != parent.default && !self.generated {
                clauses.push(match &self.default {
                    Some(default) => format!("ALTER COLUMN {name} SET DEFAULT {default}"),
                    None => format!("ALTER COLUMN {name} DROP DEFAULT"),
                });
            }
            if self.not_null && !parent.not_null && self.not_null_name.is_none() {
                clauses.push(format!("ALTER COLUMN {name} SET NOT NULL"));
            }
        }
        // A partition may copy its parent's settings: write them when either differs.
        if self.storage != self.type_storage || parent.is_some_and(|p| p.storage != self.storage) {
            let storage = match self.storage.as_str() {
                "p" => "PLAIN",
                "e" => "EXTERNAL",
                "m" => "MAIN",
                _ => "EXTENDED",
            };
            clauses.push(format!("ALTER COLUMN {name} SET STORAGE {storage}"));
        }
        if self.statistics >= 0 || parent.is_some_and(|p| p.statistics != self.statistics) {
            clauses.push(format!("ALTER COLUMN {name} SET STATISTICS {}", self.statistics));
        }
        if !self.compression.is_empty() || parent.is_some_and(|p| p.compression != self.compression) {
            let method = match self.compression.as_str() {
                "p" => "pglz",
                "l" => "lz4",
                _ => "default",
            };
            clauses.push(format!("ALTER COLUMN {name} SET COMPRESSION {method}"));
        }
        if let Some(options) = &self.options {
            clauses.push(format!("ALTER COLUMN {name} SET ({options})"));
        }
        clauses
    }
}

/// A sequence's options, as `CREATE SEQUENCE` and identity columns write them.
#[derive(Debug, Clone)]
struct SequenceOptions {
    kind: String,
    start: String,
    increment: String,
    min: String,
    max: String,
    cache: String,
    cycle: bool,
}

impl SequenceOptions {
    fn clause(&self) -> String {
        format!(
            "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
            self.start,
            self.increment,
            self.min,
            self.max,
            self.cache,
            if self.cycle { " CYCLE" } else { " NO CYCLE" }
        )
    }
}

/// A sequence of the schema.
#[derive(Debug)]
struct Sequence {
    oid: String,
    name: String,
    unlogged: bool,
    options: SequenceOptions,
    /// `a` (serial or `OWNED BY`), `i` (identity) or empty.
    owner_kind: String,
    owner_oid: String,
    owner_table: String,
    owner_column: String,
}

/// A table of the schema.
#[derive(Debug)]
struct Table {
    oid: String,
    row_type: String,
    name: String,
    partitioned: bool,
    unlogged: bool,
    parent: Option<String>,
    bound: Option<String>,
    partition_key: Option<String>,
    options: String,
    replica_identity: String,
    primary_key: Option<String>,
}

/// What the catalogs say about the schema.
#[derive(Debug, Default)]
struct Catalog {
    refused: Vec<String>,
    sequences: Vec<Sequence>,
    tables: Vec<Table>,
    columns: HashMap<String, Vec<Column>>,
    graph: Graph,
    /// Statements of the last phase (comments, `CLUSTER ON`, replica identities, trigger
    /// states), with their sort keys.
    last: Vec<(String, String)>,
}

impl Catalog {
    /// Reads the catalog queries' results into items.
    fn read(results: &[Vec<PgRow>], qualifier: &str) -> Result<Catalog, Error> {
        let strip = |s: String| unqualified(&s, qualifier);
        let mut catalog = Catalog::default();
        for row in rows(results, 0) {
            catalog.refused.push(row.text(0)?);
        }
        let graph = &mut catalog.graph;

        // Extensions and their members.
        for row in rows(results, 1) {
            let (oid, name) = (row.text(0)?, row.text(1)?);
            let item = graph.add(
                Phase::Extension,
                name.clone(),
                format!("extension {name}"),
                vec![format!("CREATE EXTENSION IF NOT EXISTS {name}")],
            );
            graph.map("pg_extension", &oid, item);
        }
        for row in rows(results, 2) {
            if let Some(item) = graph.item("pg_extension", &row.text(2)?) {
                graph.map(&row.text(0)?, &row.text(1)?, item);
            }
        }

        // Types: enum labels, domain constraints and composite attributes first.
        let mut labels: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows(results, 4) {
            labels.entry(row.text(0)?).or_default().push(literal(&row.text(1)?));
        }
        let mut checks: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
        for row in rows(results, 5) {
            checks.entry(row.text(0)?).or_default().push((row.text(1)?, row.text(2)?, strip(row.text(3)?)));
        }
        let mut attributes: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows(results, 6) {
            let collate = row.opt(3)?.map(|c| format!(" COLLATE {c}")).unwrap_or_default();
            attributes.entry(row.text(0)?).or_default().push(format!(
                "    {} {}{collate}",
                row.text(1)?,
                strip(row.text(2)?)
            ));
        }
        for row in rows(results, 3) {
            let (oid, array, relation, name, kind) =
                (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?, row.text(4)?);
            let mut statements = Vec::new();
            let mut constraint_oids = Vec::new();
            match kind.as_str() {
                "e" => statements.push(format!(
                    "CREATE TYPE {name} AS ENUM ({})",
                    labels.remove(&oid).unwrap_or_default().join(", ")
                )),
                "d" => {
                    let mut create = format!("CREATE DOMAIN {name} AS {}", strip(row.text(5)?));
                    if let Some(collation) = row.opt(6)? {
                        create.push_str(&format!(" COLLATE {collation}"));
                    }
                    if let Some(default) = row.opt(7)? {
                        create.push_str(&format!(" DEFAULT {}", strip(default)));
                    }
                    if row.flag(8)? {
                        create.push_str(" NOT NULL");
                    }
                    statements.push(create);
                    for (constraint, conname, definition) in checks.remove(&oid).unwrap_or_default() {
                        statements.push(format!("ALTER DOMAIN {name} ADD CONSTRAINT {conname} {definition}"));
                        constraint_oids.push(constraint);
                    }
                }
                _ => statements.push(format!(
                    "CREATE TYPE {name} AS (\n{}\n)",
                    attributes.remove(&oid).unwrap_or_default().join(",\n")
                )),
            }
            let item = graph.add(Phase::Type, name.clone(), format!("type {name}"), statements);
            graph.map("pg_type", &oid, item);
            graph.map("pg_type", &array, item);
            graph.map("pg_class", &relation, item);
            for constraint in constraint_oids {
                graph.map("pg_constraint", &constraint, item);
            }
        }

        // Sequences (identity sequences are written with their column).
        for row in rows(results, 7) {
            let sequence = Sequence {
                oid: row.text(0)?,
                name: row.text(1)?,
                unlogged: row.text(2)? == "u",
                options: SequenceOptions {
                    kind: row.text(3)?,
                    start: row.text(4)?,
                    increment: row.text(5)?,
                    min: row.text(6)?,
                    max: row.text(7)?,
                    cache: row.text(8)?,
                    cycle: row.flag(9)?,
                },
                owner_kind: row.text(10)?,
                owner_oid: row.text(11)?,
                owner_table: row.text(12)?,
                owner_column: row.text(13)?,
            };
            if !sequence.owner_kind.is_empty() && !row.flag(14)? {
                catalog.refused.push(format!(
                    "sequence {}, owned by a column of table {} in another schema",
                    sequence.name, sequence.owner_table
                ));
            }
            if sequence.owner_kind != "i" {
                let o = &sequence.options;
                let item = graph.add(
                    Phase::Sequence,
                    sequence.name.clone(),
                    format!("sequence {}", sequence.name),
                    vec![format!(
                        "CREATE {}SEQUENCE {} AS {} {}",
                        if sequence.unlogged { "UNLOGGED " } else { "" },
                        sequence.name,
                        o.kind,
                        o.clause()
                    )],
                );
                graph.map("pg_class", &sequence.oid, item);
            }
            catalog.sequences.push(sequence);
        }

        // Tables, their columns and rows.
        for row in rows(results, 8) {
            catalog.tables.push(Table {
                oid: row.text(0)?,
                row_type: row.text(1)?,
                name: row.text(2)?,
                partitioned: row.text(3)? == "p",
                unlogged: row.text(4)? == "u",
                parent: row.opt(5)?,
                bound: row.opt(6)?.map(strip),
                partition_key: row.opt(7)?.map(strip),
                options: row.text(8)?,
                replica_identity: row.text(9)?,
                primary_key: row.opt(10)?,
            });
        }
        for row in rows(results, 9) {
            let (table, column) = Column::read(&row, qualifier)?;
            catalog.columns.entry(table).or_default().push(column);
        }
        let names: HashMap<&str, &str> = catalog.tables.iter().map(|t| (t.oid.as_str(), t.name.as_str())).collect();
        let identities: HashMap<(&str, &str), &Sequence> = catalog
            .sequences
            .iter()
            .filter(|s| s.owner_kind == "i")
            .map(|s| ((s.owner_oid.as_str(), s.owner_column.as_str()), s))
            .collect();
        for table in &catalog.tables {
            let columns = catalog.columns.get(&table.oid).map(Vec::as_slice).unwrap_or_default();
            let parent_columns = table.parent.as_ref().and_then(|p| catalog.columns.get(p));
            let statements = create_table(table, columns, parent_columns, &names, &identities);
            let item = graph.add(Phase::Table, table.name.clone(), format!("table {}", table.name), statements);
            graph.map("pg_class", &table.oid, item);
            graph.map("pg_type", &table.row_type, item);
            for column in columns {
                graph.map("pg_attrdef", &column.default_oid, item);
            }
            for sequence in identities.values().filter(|s| s.owner_oid == table.oid) {
                graph.map("pg_class", &sequence.oid, item);
            }
            let rows_item =
                graph.add(Phase::Data, table.name.clone(), format!("the rows of table {}", table.name), Vec::new());
            graph.need(rows_item, item);
            graph.rows_of.insert(item, rows_item);
        }
        for table in &catalog.tables {
            if let (Some(parent), Some(child)) =
                (table.parent.as_ref().and_then(|p| graph.item("pg_class", p)), graph.item("pg_class", &table.oid))
            {
                graph.need(child, parent);
                if let (Some(&parent_rows), Some(&child_rows)) = (graph.rows_of.get(&parent), graph.rows_of.get(&child))
                {
                    graph.need(parent_rows, child_rows);
                }
            }
        }

        // OWNED BY.
        for sequence in catalog.sequences.iter().filter(|s| s.owner_kind == "a") {
            let (Some(sequence_item), Some(table_item)) =
                (graph.item("pg_class", &sequence.oid), graph.item("pg_class", &sequence.owner_oid))
            else {
                continue;
            };
            let item = graph.add(
                Phase::Owned,
                sequence.name.clone(),
                format!("the owner of sequence {}", sequence.name),
                vec![format!(
                    "ALTER SEQUENCE {} OWNED BY {}.{}",
                    sequence.name, sequence.owner_table, sequence.owner_column
                )],
            );
            graph.need(item, sequence_item);
            graph.need(item, table_item);
        }

        // Constraints.
        let mut attach = Vec::new();
        for row in rows(results, 10) {
            let (oid, table_oid, name, kind, definition) =
                (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?, strip(row.text(4)?));
            let (local, parent, index) = (row.flag(5)?, row.text(6)?, row.text(7)?);
            let table = row.text(11)?;
            let key = format!("{table}.{name}");
            let (phase, statement) = match kind.as_str() {
                "p" | "u" | "x" => (Phase::Key, format!("ALTER TABLE ONLY {table} ADD CONSTRAINT {name} {definition}")),
                // `n`: a NOT VALID NOT NULL (PostgreSQL 18), after the rows that break it.
                "c" | "n" if local => (Phase::Key, format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")),
                "f" if parent == "0" => {
                    (Phase::Foreign, format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
                }
                _ => continue,
            };
            let item = graph.add(phase, key.clone(), format!("constraint {name} on {table}"), vec![statement]);
            graph.map("pg_constraint", &oid, item);
            if kind != "f" {
                graph.map("pg_class", &index, item);
            }
            graph.uses(item, "pg_class", &table_oid);
            if kind != "f"
                && parent != "0"
                && let (Some(parent_index), Some(own_index)) = (row.opt(9)?, row.opt(8)?)
            {
                attach.push((parent_index, row.text(10)?, own_index, item, key));
            }
        }

        // Indexes.
        for row in rows(results, 11) {
            let (oid, table_oid, name, definition) = (row.text(0)?, row.text(1)?, row.text(2)?, strip(row.text(3)?));
            let table = row.text(6)?;
            let backing = row.opt(9)?;
            if row.flag(7)? {
                catalog.last.push((format!("cluster {table}"), format!("ALTER TABLE {table} CLUSTER ON {name}")));
            }
            if row.flag(8)? {
                catalog.last.push((
                    format!("replica identity {table}"),
                    format!("ALTER TABLE {table} REPLICA IDENTITY USING INDEX {name}"),
                ));
            }
            if backing.is_some() {
                continue;
            }
            let item = graph.add(Phase::Index, name.clone(), format!("index {name}"), vec![definition]);
            graph.map("pg_class", &oid, item);
            graph.uses(item, "pg_class", &table_oid);
            if let (Some(parent_oid), Some(parent_name)) = (row.opt(4)?, row.opt(5)?) {
                attach.push((parent_oid, parent_name, name.clone(), item, name));
            }
        }
        for (parent_oid, parent_name, own, own_item, key) in attach {
            let item = graph.add(
                Phase::Attach,
                key,
                format!("the attachment of index {own} to {parent_name}"),
                vec![format!("ALTER INDEX {parent_name} ATTACH PARTITION {own}")],
            );
            graph.need(item, own_item);
            graph.uses(item, "pg_class", &parent_oid);
        }

        // Views and materialized views.
        for row in rows(results, 12) {
            let (oid, row_type, rule, name, kind) =
                (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?, row.text(4)?);
            let definition = strip(row.text(5)?);
            let definition = definition.trim().trim_end_matches(';').trim_end();
            let with = row.opt(6)?.map(|o| format!(" WITH ({o})")).unwrap_or_default();
            let statement = if kind == "m" {
                let data = if row.flag(7)? { "WITH DATA" } else { "WITH NO DATA" };
                format!("CREATE MATERIALIZED VIEW {name}{with} AS\n{definition}\n{data}")
            } else {
                format!("CREATE VIEW {name}{with} AS\n{definition}")
            };
            let item = graph.add(Phase::View, name.clone(), format!("view {name}"), vec![statement]);
            graph.map("pg_class", &oid, item);
            graph.map("pg_type", &row_type, item);
            graph.map("pg_rewrite", &rule, item);
        }

        // Functions and procedures.
        for row in rows(results, 13) {
            let (oid, name) = (row.text(0)?, row.text(1)?);
            let definition = strip(row.text(2)?).trim().to_owned();
            let item = graph.add(Phase::Function, name.clone(), format!("function {name}"), vec![definition]);
            graph.map("pg_proc", &oid, item);
        }

        // Triggers.
        for row in rows(results, 14) {
            let (oid, table_oid, name, table) = (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?);
            if row.text(6)? == "0" {
                let definition = strip(row.text(4)?);
                let item = graph.add(
                    Phase::Trigger,
                    format!("{table}.{name}"),
                    format!("trigger {name} on {table}"),
                    vec![definition],
                );
                graph.map("pg_trigger", &oid, item);
                graph.uses(item, "pg_class", &table_oid);
            }
            let state = match row.text(5)?.as_str() {
                "D" => "DISABLE TRIGGER",
                "R" => "ENABLE REPLICA TRIGGER",
                "A" => "ENABLE ALWAYS TRIGGER",
                _ => continue,
            };
            catalog.last.push((format!("trigger {table}.{name}"), format!("ALTER TABLE ONLY {table} {state} {name}")));
        }

        // Extended statistics.
        for row in rows(results, 15) {
            let (oid, table_oid, name) = (row.text(0)?, row.text(1)?, row.text(2)?);
            let mut statements = vec![strip(row.text(3)?)];
            let target = row.int(4)?;
            if target >= 0 {
                statements.push(format!("ALTER STATISTICS {name} SET STATISTICS {target}"));
            }
            let item = graph.add(Phase::Index, name.clone(), format!("statistics {name}"), statements);
            graph.map("pg_statistic_ext", &oid, item);
            graph.uses(item, "pg_class", &table_oid);
        }

        // Comments.
        for row in rows(results, 16) {
            let (target, description) = (row.text(0)?, row.text(1)?);
            catalog
                .last
                .push((format!("comment {target}"), format!("COMMENT ON {target} IS {}", literal(&description))));
        }

        // What pg_depend records.
        for row in rows(results, 17) {
            let (catalog_name, oid) = (row.text(0)?, row.text(1)?);
            if let Some(item) = catalog.graph.item(&catalog_name, &oid) {
                catalog.graph.uses(item, &row.text(2)?, &row.text(3)?);
            }
        }
        catalog.graph.resolve();
        Ok(catalog)
    }
}

/// `CREATE TABLE` and the `ALTER`s that complete it.
fn create_table(
    table: &Table,
    columns: &[Column],
    parent_columns: Option<&Vec<Column>>,
    names: &HashMap<&str, &str>,
    identities: &HashMap<(&str, &str), &Sequence>,
) -> Vec<String> {
    let name = &table.name;
    let unlogged = if table.unlogged { "UNLOGGED " } else { "" };
    let partition_by = table.partition_key.as_ref().map(|k| format!(" PARTITION BY {k}")).unwrap_or_default();
    let with = if table.options.is_empty() { String::new() } else { format!(" WITH ({})", table.options) };
    let parent = table.parent.as_deref().and_then(|p| names.get(p));
    let mut statements = Vec::new();
    let mut alters = Vec::new();
    match (parent, &table.bound) {
        (Some(parent), Some(bound)) => {
            // A NOT NULL constraint named otherwise than the rebuild would name it (PostgreSQL
            // 18) is declared with the partition's columns.
            let named: Vec<String> = columns
                .iter()
                .filter(|c| c.not_null_name.is_some())
                .filter_map(|c| c.not_null_clause().map(|clause| format!("    {} {clause}", c.name)))
                .collect();
            let named = if named.is_empty() { String::new() } else { format!("(\n{}\n) ", named.join(",\n")) };
            statements.push(format!(
                "CREATE {unlogged}TABLE {name} PARTITION OF {parent} {named}{bound}{partition_by}{with}"
            ));
            for column in columns {
                let inherited = parent_columns.and_then(|p| p.iter().find(|c| c.name == column.name));
                alters.extend(column.settings(inherited));
            }
        }
        _ => {
            let mut definitions = Vec::new();
            for column in columns {
                let mut definition = format!("    {} {}", column.name, column.kind);
                if let Some(collation) = &column.collation {
                    definition.push_str(&format!(" COLLATE {collation}"));
                }
                match (&column.default, column.generated) {
                    (Some(expression), true) => {
                        definition.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"))
                    }
                    (Some(default), false) => definition.push_str(&format!(" DEFAULT {default}")),
                    (None, _) => {}
                }
                if let Some(clause) = column.not_null_clause() {
                    definition.push_str(&format!(" {clause}"));
                }
                if !column.identity.is_empty() {
                    let always = if column.identity == "a" { "ALWAYS" } else { "BY DEFAULT" };
                    let sequence = identities.get(&(table.oid.as_str(), column.name.as_str()));
                    let options = match sequence {
                        Some(s) if s.options.kind == column.kind => {
                            format!(" (SEQUENCE NAME {} {})", s.name, s.options.clause())
                        }
                        Some(s) => {
                            alters.push(format!(
                                "ALTER SEQUENCE {} AS {} {}",
                                s.name,
                                s.options.kind,
                                s.options.clause()
                            ));
                            format!(" (SEQUENCE NAME {})", s.name)
                        }
                        None => String::new(),
                    };
                    definition.push_str(&format!(" GENERATED {always} AS IDENTITY{options}"));
                }
                definitions.push(definition);
            }
            let body = if definitions.is_empty() { String::new() } else { format!("\n{}\n", definitions.join(",\n")) };
            statements.push(format!("CREATE {unlogged}TABLE {name} ({body}){partition_by}{with}"));
            for column in columns {
                alters.extend(column.settings(None));
            }
        }
    }
    if !alters.is_empty() {
        let (sequences, columns): (Vec<String>, Vec<String>) =
            alters.into_iter().partition(|a| a.starts_with("ALTER SEQUENCE "));
        if !columns.is_empty() {
            statements.push(format!("ALTER TABLE ONLY {name}\n    {}", columns.join(",\n    ")));
        }
        statements.extend(sequences);
    }
    match table.replica_identity.as_str() {
        "n" => statements.push(format!("ALTER TABLE {name} REPLICA IDENTITY NOTHING")),
        "f" => statements.push(format!("ALTER TABLE {name} REPLICA IDENTITY FULL")),
        _ => {}
    }
    statements
}

/// The query reading a table's rows: each insertable column as text, in a fixed order.
fn select_rows(table: &Table, columns: &[&Column]) -> String {
    let list = columns.iter().map(|c| format!("{}::text", c.name)).collect::<Vec<_>>().join(", ");
    let order = match &table.primary_key {
        Some(key) => key.clone(),
        None => columns.iter().map(|c| format!("{}::text COLLATE \"C\"", c.name)).collect::<Vec<_>>().join(", "),
    };
    format!("SELECT {list} FROM ONLY {} ORDER BY {order}", table.name)
}

/// `INSERT`s of a table's rows, [`ROWS_PER_INSERT`] at a time.
fn inserts(table: &Table, columns: &[&Column], rows: &[PgRow]) -> Result<Vec<String>, Error> {
    let list = columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let overriding = if columns.iter().any(|c| c.identity == "a") { " OVERRIDING SYSTEM VALUE" } else { "" };
    let mut statements = Vec::new();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len());
        for row in chunk {
            let cells = Cells(row);
            let mut rendered = Vec::with_capacity(columns.len());
            for (index, column) in columns.iter().enumerate() {
                rendered.push(match cells.opt(index)? {
                    None => "NULL".to_owned(),
                    Some(value) if column.integer => value,
                    Some(value) => literal(&value),
                });
            }
            values.push(format!("    ({})", rendered.join(", ")));
        }
        statements.push(format!("INSERT INTO {} ({list}){overriding} VALUES\n{}", table.name, values.join(",\n")));
    }
    Ok(statements)
}

#[async_trait]
impl Dump for PgDriver {
    async fn dump(&self, options: &DumpOptions) -> Result<SchemaDump, Error> {
        let mut tx = self
            .pool()
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(|e| db("starting a read-only transaction", e))?;
        let run = |e: crate::conn::Failed| db("reading the schema catalogs", e.error);
        let setup = simple(
            &mut tx,
            "SELECT current_schema()::text, quote_ident(current_schema()), current_setting('server_version_num')"
                .to_owned(),
        )
        .await
        .map_err(run)?;
        let mut names = None;
        if let Some(row) = rows(&setup, 0).next()
            && row.opt(0)?.is_some()
        {
            names = Some((row.text(1)?, row.int(2)?));
        }
        let Some((qualifier, version)) = names else {
            return Err(Error::Misconfigured {
                reason: "it has no current schema (its search_path names no existing schema): create the schema or \
                         set the search_path"
                    .to_owned(),
            });
        };
        let qualifier = format!("{qualifier}.");
        let settings = "SELECT set_config('search_path', quote_ident(current_schema()), true), \
             set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true), \
             set_config('extra_float_digits', '1', true), set_config('TimeZone', 'UTC', true), \
             set_config('bytea_output', 'hex', true)";
        let mut sql = vec![settings.to_owned()];
        sql.extend(catalog_queries(version));
        let results = simple(&mut tx, sql.join(";\n")).await.map_err(run)?;
        let mut catalog = Catalog::read(results.get(1..).unwrap_or_default(), &qualifier)?;
        if !catalog.refused.is_empty() {
            return Err(Error::Unsupported {
                database: DATABASE,
                what: format!("write {} into a squash migration", catalog.refused.join(", ")),
                instead: INSTEAD.to_owned(),
            });
        }

        // Row counts first: a data load is refused before it is read.
        let plain: Vec<&Table> = catalog.tables.iter().filter(|t| !t.partitioned).collect();
        if !plain.is_empty() {
            let counts =
                plain.iter().map(|t| format!("SELECT count(*)::text FROM ONLY {}", t.name)).collect::<Vec<_>>();
            let counted = simple(&mut tx, counts.join(";\n")).await.map_err(|e| db("counting rows", e.error))?;
            let mut counts_of = Vec::with_capacity(plain.len());
            for (index, table) in plain.iter().enumerate() {
                let count = rows(&counted, index).next().map(|r| r.int(0)).transpose()?.unwrap_or(0);
                counts_of.push((table.name.as_str(), u64::try_from(count).unwrap_or_default()));
            }
            options.check_rows(DATABASE, counts_of)?;
        }

        // Rows and sequence positions, in one round trip.
        let mut queries = Vec::new();
        let mut readers = Vec::new();
        for table in &plain {
            let columns: Vec<&Column> = catalog
                .columns
                .get(&table.oid)
                .map(|c| c.iter().filter(|c| !c.generated).collect())
                .unwrap_or_default();
            if columns.is_empty() {
                queries.push(format!("SELECT count(*)::text FROM ONLY {}", table.name));
            } else {
                queries.push(select_rows(table, &columns));
            }
            readers.push((*table, columns));
        }
        for sequence in &catalog.sequences {
            queries.push(format!("SELECT last_value::text, is_called::text FROM {}", sequence.name));
        }
        let read = if queries.is_empty() {
            Vec::new()
        } else {
            simple(&mut tx, queries.join(";\n")).await.map_err(|e| db("reading rows", e.error))?
        };
        let mut carried = 0usize;
        for (index, (table, columns)) in readers.iter().enumerate() {
            let found = read.get(index).map(Vec::as_slice).unwrap_or_default();
            let statements = if columns.is_empty() {
                let count = rows(&read, index).next().map(|r| r.int(0)).transpose()?.unwrap_or(0);
                carried += usize::try_from(count).unwrap_or(0);
                (0..count).map(|_| format!("INSERT INTO {} DEFAULT VALUES", table.name)).collect()
            } else {
                carried += found.len();
                inserts(table, columns, found)?
            };
            if let Some(item) = catalog.graph.item("pg_class", &table.oid)
                && let Some(&rows_item) = catalog.graph.rows_of.get(&item)
                && let Some(entry) = catalog.graph.items.get_mut(rows_item)
            {
                entry.statements = statements;
            }
        }
        for (index, sequence) in catalog.sequences.iter().enumerate() {
            let Some(row) = rows(&read, readers.len() + index).next() else { continue };
            let (last, called) = (row.text(0)?, row.flag(1)?);
            if !called && last == sequence.options.start {
                continue;
            }
            let Some(owner) = catalog.graph.item("pg_class", &sequence.oid) else { continue };
            let item = catalog.graph.add(
                Phase::Position,
                sequence.name.clone(),
                format!("the position of sequence {}", sequence.name),
                vec![format!("SELECT setval({}, {last}, {called})", literal(&sequence.name))],
            );
            catalog.graph.need(item, owner);
        }
        drop(tx);

        catalog.last.sort();
        for (key, statement) in catalog.last {
            catalog.graph.add(Phase::Last, key.clone(), key, vec![statement]);
        }
        let statements = catalog.graph.order()?;
        Ok(SchemaDump::new(
            statements,
            carried,
            vec![
                "owners, grants and default privileges (everything belongs to the user who applies the migration)"
                    .to_owned(),
                "the schema itself (its name, owner and comment): the statements create objects in the schema they \
                 run in"
                    .to_owned(),
                "extensions installed in other schemas, which the schema's objects may use".to_owned(),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{literal, unqualified};
    use migrator_core::Dialect;
    use migrator_core::split::split;

    #[test]
    fn literals_escape_what_needs_it() {
        assert_eq!(literal("plain"), "'plain'");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "E'a\\\\b'");
        assert_eq!(literal("line\nnext\r\t'\u{1}"), "E'line\\nnext\\r\\t''\\u0001'");
        assert_eq!(literal("ünï 😀"), "'ünï 😀'");
    }

    #[test]
    fn qualifiers_go_where_they_start_a_name() {
        let q = "app.";
        assert_eq!(unqualified("CREATE INDEX i ON app.t USING btree (x)", q), "CREATE INDEX i ON t USING btree (x)");
        assert_eq!(unqualified("SELECT myapp.x, app.f(app.t.y)", q), "SELECT myapp.x, f(t.y)");
        assert_eq!(unqualified("\"x\"app.y", q), "\"x\"app.y");
        assert_eq!(unqualified("app.app.t", q), "t");
        assert_eq!(unqualified("\"My App\".t", "\"My App\"."), "t");
    }

    #[test]
    fn the_splitter_gives_back_the_statements() {
        let statements = [
            "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $function$\nBEGIN\n  NEW.x := 'a;b'; -- c;\n  RETURN NEW;\nEND\n$function$".to_owned(),
            format!("INSERT INTO t (a, b) VALUES\n    ({}, {}),\n    (NULL, {})", literal("x;y"), literal("back\\slash;\n'q'"), literal("$$;")),
            "CREATE FUNCTION g() RETURNS integer LANGUAGE sql BEGIN ATOMIC\n SELECT 1;\n SELECT 2;\nEND".to_owned(),
            "SELECT setval('s', 3, true)".to_owned(),
        ];
        let text = statements.join(";\n");
        let split = split(&text, Dialect::Postgres).unwrap();
        let back: Vec<&str> = split.iter().map(|s| s.text(&text)).collect();
        assert_eq!(back, statements);
    }
}
