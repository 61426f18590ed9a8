//! `Dump` on the backends that have it: the schema-and-rows dump `migrator squash` writes
//! (`migrator_conformance::dump`), applied to a second area and compared.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use migrator_conformance::dump;
use migrator_conformance::init_tracing;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;

macro_rules! dump_tests {
    ($module:ident, $backend:ty) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dump_rebuilds_the_area() {
                init_tracing();
                dump::dump_rebuilds_the_area::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dump_refuses_what_it_cannot_write() {
                init_tracing();
                dump::dump_refuses_what_it_cannot_write::<$backend>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dump_refuses_a_data_load() {
                init_tracing();
                dump::dump_refuses_a_data_load::<$backend>().await;
            }
        }
    };
}

dump_tests!(postgres, Pg);
dump_tests!(sqlite, Lite);

/// An extension of the schema is created again (in the schema the dump runs in), and the
/// schema's objects that use its types follow it. Databases of their own: an extension
/// lives in one schema of a database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_extensions_come_first() {
    use migrator_conformance::Backend;
    use migrator_core::driver::{Dump, DumpOptions, Inspect};
    init_tracing();
    let a = Pg::fresh_database("dump_ext_a").await;
    a.exec(
        "CREATE EXTENSION citext; CREATE TABLE names (name citext PRIMARY KEY, nick citext[]); \
         INSERT INTO names VALUES ('Ann', '{A}'), ('bob', NULL)",
    )
    .await;
    let dump = a.driver().dump(&DumpOptions::default()).await.unwrap();
    assert_eq!(dump.statements[0], "CREATE EXTENSION IF NOT EXISTS citext");
    let (text, back) = dump::split_back::<Pg>(&dump);
    assert_eq!(back, dump.statements);
    let b = Pg::fresh_database("dump_ext_b").await;
    dump::apply(&b, &text).await;
    assert!(a.driver().snapshot().await.unwrap().diff(&b.driver().snapshot().await.unwrap()).is_empty());
    assert_eq!(b.scalar("SELECT count(*) FROM names WHERE name = 'ANN' AND nick = '{a}'").await, 1);
    assert_eq!(b.driver().dump(&DumpOptions::default()).await.unwrap(), dump);
    a.cleanup().await;
    b.cleanup().await;
}

dump_tests!(mysql, migrator_conformance::mysql::My);

/// What PostgreSQL's dump must order by dependency rather than by kind: a function a column
/// default, a generated column, a check constraint and an index expression call (written
/// before the table or constraint), views on a materialized view, a domain over an enum,
/// sub-partitions, a table without columns; all rebuilt the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_functions_come_before_what_calls_them() {
    use migrator_conformance::Backend;
    use migrator_core::driver::{Dump, DumpOptions, Inspect};
    init_tracing();
    let a = Pg::fresh("dump_order_a").await;
    a.exec(
        "CREATE TYPE level AS ENUM ('low', 'high');
         CREATE DOMAIN level_not_null AS level NOT NULL DEFAULT 'low';
         CREATE FUNCTION next_code() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT 'c-' || floor(random() * 1000)::int $$;
         CREATE FUNCTION doubled(x integer) RETURNS integer LANGUAGE sql IMMUTABLE RETURN x * 2;
         CREATE FUNCTION is_even(x integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT x % 2 = 0';
         CREATE TABLE a_things (
             code text PRIMARY KEY DEFAULT next_code(),
             n integer CHECK (is_even(n)),
             twice integer GENERATED ALWAYS AS (doubled(n)) STORED,
             levels level[] NOT NULL DEFAULT '{}',
             lvl level_not_null
         );
         CREATE INDEX a_things_doubled ON a_things (doubled(n));
         CREATE TABLE nothing ();
         INSERT INTO nothing DEFAULT VALUES;
         INSERT INTO a_things (code, n, levels) VALUES ('x', 2, '{low,high}'), ('y', 4, '{}');
         CREATE TABLE m (region text NOT NULL, at date NOT NULL, v numeric) PARTITION BY LIST (region);
         CREATE TABLE m_eu PARTITION OF m FOR VALUES IN ('eu') PARTITION BY RANGE (at);
         CREATE TABLE m_eu_2024 PARTITION OF m_eu FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         ALTER TABLE m_eu_2024 ALTER COLUMN v SET DEFAULT 1;
         CREATE UNIQUE INDEX m_key ON m (region, at);
         CREATE FUNCTION m_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER m_stamp BEFORE INSERT ON m FOR EACH ROW EXECUTE FUNCTION m_stamp();
         ALTER TABLE ONLY m_eu_2024 DISABLE TRIGGER m_stamp;
         INSERT INTO m VALUES ('eu', '2024-02-02', 3.5);
         CREATE MATERIALIZED VIEW b_totals AS SELECT region, sum(v) AS total FROM m GROUP BY region;
         CREATE VIEW a_report AS SELECT region, doubled(total::int) AS twice FROM b_totals;
         CREATE VIEW a_checked WITH (security_barrier) AS SELECT code, n FROM a_things WHERE n > 0 WITH LOCAL CHECK OPTION;
         CREATE VIEW a_first AS SELECT * FROM a_report;",
    )
    .await;
    let dump = a.driver().dump(&DumpOptions::default()).await.unwrap();
    let (text, back) = dump::split_back::<Pg>(&dump);
    assert_eq!(back, dump.statements);
    let b = Pg::fresh("dump_order_b").await;
    dump::apply(&b, &text).await;
    let differences = a.driver().snapshot().await.unwrap().diff(&b.driver().snapshot().await.unwrap());
    assert!(differences.is_empty(), "{differences:#?}\n{text}");
    assert_eq!(b.scalar("SELECT count(*) FROM nothing").await, 1);
    assert_eq!(b.scalar("SELECT sum(twice) FROM a_things").await, 12);
    assert_eq!(b.scalar("SELECT count(*) FROM a_first").await, 1);
    assert_eq!(b.driver().dump(&DumpOptions::default()).await.unwrap(), dump);
    a.cleanup().await;
    b.cleanup().await;
}

/// NOT NULL survives the dump with what PostgreSQL 18 keeps of it in `pg_constraint`: the
/// name of its constraint, which follows no rename of its table or column, may be chosen
/// (`CONSTRAINT name NOT NULL`), and in an attached partition is the partition's own; from
/// PostgreSQL 18 also `NOT VALID` (over rows that hold NULLs) and `NO INHERIT`. On an older
/// server the same renames and attachments rebuild the same, and the newer clauses are
/// refused by the server itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_not_null_constraints_keep_their_names() {
    use migrator_conformance::Backend;
    use migrator_conformance::dump::DumpCase;
    use migrator_core::driver::{Dump, DumpOptions, Inspect};
    init_tracing();
    let a = Pg::fresh("dump_not_null_a").await;
    a.exec(
        "CREATE TABLE old_notes (id int CONSTRAINT note_id_present NOT NULL, body text NOT NULL, at date NOT NULL)
             PARTITION BY RANGE (at);
         ALTER TABLE old_notes RENAME TO notes;
         ALTER TABLE notes RENAME COLUMN body TO text;
         CREATE TABLE notes_2024 PARTITION OF notes FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE notes_2025_old (id int NOT NULL, text text NOT NULL, at date NOT NULL, tag text NOT NULL);
         ALTER TABLE notes ADD COLUMN tag text;
         ALTER TABLE notes ATTACH PARTITION notes_2025_old FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         ALTER TABLE notes_2025_old RENAME TO notes_2025;
         ALTER TABLE notes_2024 ALTER COLUMN tag SET NOT NULL;
         INSERT INTO notes VALUES (1, 'a', '2024-05-01', 't'), (2, 'b', '2025-05-01', 'u');",
    )
    .await;
    let version = a.scalar("SELECT current_setting('server_version_num')::int8").await;
    let newer = "CREATE TABLE loose (id int, note text);
                 INSERT INTO loose VALUES (1, NULL), (NULL, 'x');
                 ALTER TABLE loose ADD CONSTRAINT loose_note_checked_later NOT NULL note NOT VALID;
                 CREATE TABLE single (id int CONSTRAINT \"Single Id\" NOT NULL NO INHERIT)";
    if version >= 180_000 {
        a.exec(newer).await;
        let invalid: i64 = a
            .scalar(
                "SELECT count(*) FROM pg_constraint WHERE connamespace = current_schema()::regnamespace \
                 AND conname = 'loose_note_checked_later' AND NOT convalidated",
            )
            .await;
        assert_eq!(invalid, 1, "the NOT VALID constraint is there, not validated");
    } else {
        let refused = sqlx::raw_sql(newer).execute(&a.pool).await.unwrap_err();
        assert!(refused.to_string().contains("syntax error"), "{refused}");
    }
    let dump = a.driver().dump(&DumpOptions::default()).await.unwrap();
    let (text, back) = dump::split_back::<Pg>(&dump);
    assert_eq!(back, dump.statements);
    eprintln!("{text}");
    let b = Pg::fresh("dump_not_null_b").await;
    dump::apply(&b, &text).await;
    let differences = a.driver().snapshot().await.unwrap().diff(&b.driver().snapshot().await.unwrap());
    assert!(differences.is_empty(), "{differences:#?}\n{text}");
    let not_null = "SELECT string_agg(c.relname || '.' || a.attname, ', ' ORDER BY c.relname, a.attnum) \
                    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') \
                    AND c.relname NOT LIKE '\\_migrator\\_%' AND a.attnum > 0 AND a.attnotnull";
    let (in_a, in_b) = (a.text(not_null).await, b.text(not_null).await);
    assert_eq!(in_a, in_b, "the same columns are NOT NULL");
    if version >= 180_000 {
        let names = "SELECT string_agg(conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid), \
                     ', ' ORDER BY conrelid::regclass::text, conname) FROM pg_constraint \
                     WHERE connamespace = current_schema()::regnamespace AND contype = 'n' \
                     AND conrelid::regclass::text NOT LIKE '\\_migrator\\_%'";
        let (in_a, in_b) = (a.text(names).await, b.text(names).await);
        assert!(in_a.as_deref().is_some_and(|n| n.contains("notes old_notes_body_not_null NOT NULL text")), "{in_a:?}");
        assert_eq!(in_a, in_b, "the NOT NULL constraints keep their names");
        assert_eq!(b.scalar("SELECT count(*) FROM loose WHERE note IS NULL").await, 1);
    }
    assert_eq!(b.scalar("SELECT count(*) FROM notes").await, 2);
    assert_eq!(b.driver().dump(&DumpOptions::default()).await.unwrap(), dump);
    a.cleanup().await;
    b.cleanup().await;
}
