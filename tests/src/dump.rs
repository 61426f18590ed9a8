//! The dump that `migrator squash` writes ([`Dump`]), tested on every backend that has one:
//! a rich schema built by migrations in one area is dumped, the dump is applied as one
//! migration to a second, empty area, and the two must agree on everything the snapshot
//! sees, on their rows and on the next generated keys; the dump of the rebuild is the same,
//! byte for byte.

use async_trait::async_trait;
use migrator_core::driver::{Dump, DumpOptions, Inspect, SchemaDump};
use migrator_core::{Error, MigrationSet, Migrator, Script, ScriptKind, SqlMigration, Version};

use crate::backend::{Backend, Conn};

/// What the dump tests need from a backend beyond [`Backend`].
#[async_trait]
pub trait DumpCase: Backend {
    /// Migrations building a rich schema with seed rows: (version, name, up script).
    const MIGRATIONS: &'static [(i64, &'static str, &'static str)];
    /// Queries returning one text value each (a table's whole content, an exact value) that
    /// must be the same in the area and in its rebuild.
    const PROBES: &'static [&'static str];
    /// SQL adding objects the dump cannot write, and words its error must contain.
    const UNSUPPORTED: (&'static str, &'static [&'static str]);

    /// The area's name (schema or database), which no statement may contain.
    fn area(&self) -> String;

    /// The first column of the first row of `sql`, as text.
    async fn text(&self, sql: &str) -> Option<String>;

    /// Takes the next generated key of every table and sequence that has one, by inserting
    /// rows (or calling `nextval`), and returns them.
    async fn next_values(&self) -> Vec<i64>;
}

fn migrations<B: Backend>(scripts: &[(i64, &str, &str)]) -> MigrationSet<Conn<B>> {
    let mut set = MigrationSet::new();
    for &(version, name, sql) in scripts {
        let file = format!("{version}_{name}.up.sql");
        let up = Script::parse(ScriptKind::Up, file, sql.to_owned(), B::DIALECT).unwrap();
        set = set.with(SqlMigration::new(Version::new(version).unwrap(), name.to_owned(), up, None).unwrap()).unwrap();
    }
    set
}

/// The dump as a migration file's body, and the statements migrator's splitter reads back
/// from it.
pub fn split_back<B: Backend>(dump: &SchemaDump) -> (String, Vec<String>) {
    let text = format!("{};\n", dump.statements.join(";\n"));
    let statements = migrator_core::split::split(&text, B::DIALECT).unwrap();
    let back = statements.iter().map(|s| s.text(&text).to_owned()).collect();
    (text, back)
}

/// Applies `text` (a dump joined into a migration file's body) to `db` as one migration,
/// through migrator's own loader, splitter and runner.
pub async fn apply<B: Backend>(db: &B, text: &str) {
    let squash = migrations::<B>(&[(1, "squash", text)]);
    Migrator::<B::Driver>::new(db.driver(), squash).unwrap().run().await.unwrap();
}

/// A rich schema survives dump and rebuild exactly: snapshot, rows, exact values, next keys;
/// the splitter reads the dump back statement for statement; no statement names the area;
/// the rebuild dumps to the same bytes.
pub async fn dump_rebuilds_the_area<B: DumpCase>()
where
    B::Driver: Dump,
{
    let a = B::fresh("dump_a").await;
    Migrator::<B::Driver>::new(a.driver(), migrations::<B>(B::MIGRATIONS)).unwrap().run().await.unwrap();
    let started = std::time::Instant::now();
    let dump = a.driver().dump(&DumpOptions::default()).await.unwrap();
    let took = started.elapsed();
    let (text, back) = split_back::<B>(&dump);
    assert_eq!(back, dump.statements, "the splitter reads the dump back as the same statements");
    assert!(!text.contains(&a.area()), "the dump names the area {}:\n{text}", a.area());
    assert!(dump.rows > 0 && !dump.left_out.is_empty(), "{dump:?}");
    eprintln!("dump of {} statements, {} rows, in {took:?}:\n{text}", dump.statements.len(), dump.rows);

    let b = B::fresh("dump_b").await;
    apply(&b, &text).await;

    let differences = a.driver().snapshot().await.unwrap().diff(&b.driver().snapshot().await.unwrap());
    assert!(differences.is_empty(), "the rebuild differs: {differences:#?}");
    for probe in B::PROBES {
        let (in_a, in_b) = (a.text(probe).await, b.text(probe).await);
        assert!(in_a.is_some(), "{probe} has a value");
        assert_eq!(in_a, in_b, "{probe}");
    }
    let again = b.driver().dump(&DumpOptions::default()).await.unwrap();
    assert_eq!(again, dump, "the rebuild dumps to the same statements");
    assert_eq!(a.next_values().await, b.next_values().await, "the next generated keys");
    a.cleanup().await;
    b.cleanup().await;
}

/// Objects the dump cannot write are an error naming them and saying what to do, never
/// left out.
pub async fn dump_refuses_what_it_cannot_write<B: DumpCase>()
where
    B::Driver: Dump,
{
    let db = B::fresh("dump_refuses").await;
    Migrator::<B::Driver>::new(db.driver(), migrations::<B>(B::MIGRATIONS)).unwrap().run().await.unwrap();
    let (sql, words) = B::UNSUPPORTED;
    db.exec(sql).await;
    let e = db.driver().dump(&DumpOptions::default()).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    let message = e.to_string();
    for word in words.iter().chain(&["keep the original migrations", "write the squash migration by hand"]) {
        assert!(message.contains(word), "`{word}` in: {message}");
    }
    db.cleanup().await;
}

/// More rows than `max_rows` is a data load, not seed data: refused, naming the table.
pub async fn dump_refuses_a_data_load<B: DumpCase>()
where
    B::Driver: Dump,
{
    let db = B::fresh("dump_rows").await;
    db.exec("CREATE TABLE small (id INT PRIMARY KEY)").await;
    db.exec("CREATE TABLE big (id INT PRIMARY KEY)").await;
    db.exec("INSERT INTO small (id) VALUES (1)").await;
    db.exec("INSERT INTO big (id) VALUES (1), (2), (3), (4)").await;
    let mut options = DumpOptions::default();
    options.max_rows = 4;
    let e = db.driver().dump(&options).await.unwrap_err();
    let message = e.to_string();
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    for word in ["5 rows", "table big alone holds 4", "seed data only", "at most 4 rows"] {
        assert!(message.contains(word), "`{word}` in: {message}");
    }
    options.max_rows = 5;
    let dump = db.driver().dump(&options).await.unwrap();
    assert_eq!(dump.rows, 5);
    db.cleanup().await;
}

const PG_SCHEMA: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
CREATE DOMAIN positive_int AS integer CONSTRAINT positive CHECK (VALUE > 0);
CREATE TYPE money_pair AS (amount numeric(12,2), currency text COLLATE "C");
CREATE SEQUENCE invoice_numbers AS integer START WITH 1000 INCREMENT BY 5;

CREATE TABLE orgs (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10) PRIMARY KEY,
    name text NOT NULL UNIQUE,
    owner_id integer,
    settings jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE users (
    id serial PRIMARY KEY,
    org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    manager_id integer REFERENCES users (id),
    email text COLLATE "C" NOT NULL,
    mood mood NOT NULL DEFAULT 'ok',
    score positive_int,
    balance numeric(12,2) NOT NULL DEFAULT 0 CONSTRAINT balance_not_negative CHECK (balance >= 0),
    born date,
    seen_at timestamptz,
    avatar bytea,
    tags text[],
    wallet money_pair,
    ratio double precision,
    email_domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED,
    updated_at timestamptz,
    CONSTRAINT users_email_key UNIQUE (email)
);
ALTER TABLE orgs ADD CONSTRAINT orgs_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX users_lower_email ON users (lower(email));
CREATE INDEX users_active ON users (org_id) WHERE balance > 0;
CREATE TABLE invoices (
    number integer PRIMARY KEY DEFAULT nextval('invoice_numbers'),
    user_id integer NOT NULL REFERENCES users (id),
    total numeric(12,2),
    CONSTRAINT one_refund_per_user EXCLUDE USING btree (user_id WITH =) WHERE (total < 0)
);
CREATE UNLOGGED TABLE audit (id bigint GENERATED BY DEFAULT AS IDENTITY, note text NOT NULL) WITH (fillfactor = 70);
ALTER SEQUENCE audit_id_seq AS integer;
ALTER TABLE audit REPLICA IDENTITY FULL;
ALTER TABLE audit ALTER COLUMN note SET STORAGE EXTERNAL, ALTER COLUMN note SET STATISTICS 200;
CREATE DOMAIN short_code AS varchar(8) COLLATE "C" DEFAULT 'none' NOT NULL;
CREATE TABLE codes (code short_code PRIMARY KEY, seq_only integer);
CREATE STATISTICS users_org_mood (dependencies) ON org_id, mood FROM users;
ALTER TABLE users CLUSTER ON users_pkey;
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text DEFAULT 'x', PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
CREATE INDEX events_kind ON events (kind);
CREATE TABLE "Order Items" ("Id" int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "Qty" int NOT NULL DEFAULT 1,
    "user" integer REFERENCES users (id));
COMMENT ON TABLE users IS 'people; who log in';
COMMENT ON COLUMN users.email IS E'unique,\ncase-sensitive';
"#;

const PG_CODE: &str = r#"
CREATE FUNCTION display_name(u users) RETURNS text LANGUAGE sql STABLE AS $$ SELECT u.email || ' (' || u.mood || ')' $$;
CREATE FUNCTION org_user_count(org bigint) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM users WHERE org_id = org;
END;
CREATE VIEW zz_active_users AS SELECT id, email, display_name(users) AS label FROM users WHERE balance > 0;
CREATE VIEW org_summary AS
    SELECT o.name, org_user_count(o.id) AS users, (SELECT count(*) FROM zz_active_users) AS active FROM orgs o;
CREATE MATERIALIZED VIEW mood_counts AS SELECT mood, count(*) AS n FROM users GROUP BY mood;
CREATE UNIQUE INDEX mood_counts_mood ON mood_counts (mood);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now(); -- the time of the change; a ';' ends nothing here
    RETURN NEW;
END
$$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION audit_org() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO audit (note) VALUES ('org ' || NEW.name);
    RETURN NEW;
END
$body$;
CREATE TRIGGER orgs_audit AFTER INSERT ON orgs FOR EACH ROW EXECUTE FUNCTION audit_org();
CREATE PROCEDURE bump(amount numeric) LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET balance = balance + amount; END $$;
ALTER TABLE orgs DISABLE TRIGGER orgs_audit;
ALTER TABLE orgs ENABLE TRIGGER orgs_audit;
CREATE TRIGGER users_never AFTER DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION touch();
ALTER TABLE users DISABLE TRIGGER users_never;
COMMENT ON FUNCTION touch() IS 'sets updated_at';
COMMENT ON VIEW org_summary IS 'per org';
"#;

const PG_SEED: &str = r#"
INSERT INTO orgs (name) VALUES ('Acme'), ('Ünïcode ☃ Ltd'), ('O''Brien\path');
INSERT INTO users (org_id, manager_id, email, mood, score, balance, born, seen_at, avatar, tags, wallet, ratio) VALUES
    (10, NULL, 'a@acme.test', 'happy', 5, 10.50, '1990-02-28', '2024-05-01 12:34:56.789+02', '\x00ff10', '{a,"b c",NULL}', '(1.25,EUR)', 0.1),
    (10, 1, 'b@acme.test', 'sad', NULL, 0, NULL, NULL, NULL, NULL, NULL, 'NaN'),
    (11, NULL, E'tab\there\\and\nline@x.test', 'meh', 1, 3, '2000-01-01', 'infinity', '', '{}', '(,)', -1e-300);
UPDATE orgs SET owner_id = 1 WHERE id = 10;
INSERT INTO invoices (user_id, total) VALUES (1, 99.99), (2, -5), (1, NULL);
INSERT INTO events VALUES (1, '2024-03-01', 'a'), (2, '2023-01-01', DEFAULT);
INSERT INTO codes VALUES (DEFAULT, 1), ('b', 2);
INSERT INTO "Order Items" ("Qty", "user") VALUES (2, 1), (DEFAULT, NULL);
SELECT nextval('invoice_numbers');
REFRESH MATERIALIZED VIEW mood_counts;
"#;

#[async_trait]
impl DumpCase for crate::postgres::Pg {
    const MIGRATIONS: &'static [(i64, &'static str, &'static str)] =
        &[(1, "schema", PG_SCHEMA), (2, "code", PG_CODE), (3, "seed", PG_SEED)];
    const PROBES: &'static [&'static str] = &[
        "SELECT count(*)::text FROM users",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM orgs x",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM users x",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM invoices x",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM audit x",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM codes x",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM \"Order Items\" x",
        "SELECT string_agg(x::text || tableoid::regclass::text, E'\\n' ORDER BY x::text) FROM events x",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM mood_counts x",
        "SELECT string_agg(x::text, E'\\n' ORDER BY x::text) FROM org_summary x",
        "SELECT name FROM orgs WHERE id = 12",
        "SELECT email || '|' || avatar::text || '|' || ratio::text FROM users WHERE id = 3",
        "SELECT seen_at::text FROM users WHERE id = 1",
        "SELECT obj_description('users'::regclass) || col_description('users'::regclass, 4)",
    ];
    const UNSUPPORTED: (&'static str, &'static [&'static str]) = (
        "CREATE POLICY own_rows ON users USING (true);
         CREATE RULE no_delete AS ON DELETE TO audit DO INSTEAD NOTHING;
         CREATE TABLE audit_archive () INHERITS (audit);
         DO $$ BEGIN EXECUTE format('CREATE FUNCTION pinned() RETURNS int LANGUAGE sql SET search_path = %I, public \
         AS ''SELECT 1''', current_schema()); END $$",
        &[
            "PostgreSQL cannot",
            "policy own_rows on users",
            "rule no_delete on audit",
            "table inheritance (audit_archive inherits audit)",
            "function pinned(), whose search_path setting names the schema",
        ],
    );

    fn area(&self) -> String {
        self.schema.clone()
    }

    async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn next_values(&self) -> Vec<i64> {
        let mut values = Vec::new();
        for sql in [
            "INSERT INTO orgs (name) VALUES ('next') RETURNING id",
            "INSERT INTO users (org_id, email) VALUES (10, 'next@acme.test') RETURNING id::int8",
            "INSERT INTO invoices (user_id) VALUES (1) RETURNING number::int8",
            "INSERT INTO audit (note) VALUES ('next') RETURNING id",
            "SELECT nextval('invoice_numbers')",
            "INSERT INTO \"Order Items\" DEFAULT VALUES RETURNING \"Id\"::int8",
        ] {
            values.push(self.scalar(sql).await);
        }
        values
    }
}

const MY_SCHEMA: &str = r#"
CREATE TABLE orgs (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL UNIQUE,
    owner_id INT NULL,
    settings JSON NOT NULL DEFAULT '{}'
) ENGINE=InnoDB AUTO_INCREMENT=10;
CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    org_id BIGINT NOT NULL,
    manager_id INT NULL,
    email VARCHAR(190) NOT NULL,
    mood ENUM('sad', 'ok', 'happy') NOT NULL DEFAULT 'ok',
    balance DECIMAL(12,2) NOT NULL DEFAULT 0,
    born DATE NULL,
    seen_at TIMESTAMP(3) NULL,
    avatar VARBINARY(16) NULL,
    photo BLOB NULL,
    flags BIT(4) NULL,
    ratio DOUBLE NULL,
    weight FLOAT NULL,
    note TEXT CHARACTER SET latin1 NULL,
    email_domain VARCHAR(190) AS (SUBSTRING_INDEX(email, '@', -1)) STORED,
    updated_at DATETIME(6) NULL,
    UNIQUE KEY users_email (email),
    KEY users_org (org_id),
    KEY users_domain_prefix (email_domain(10)),
    CONSTRAINT users_balance CHECK (balance >= 0),
    CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
    CONSTRAINT users_manager_fk FOREIGN KEY (manager_id) REFERENCES users (id)
) ENGINE=InnoDB;
ALTER TABLE orgs ADD CONSTRAINT orgs_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id);
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200) NOT NULL) ENGINE=InnoDB;
CREATE TABLE tags (user_id INT NOT NULL, tag VARCHAR(50) NOT NULL COLLATE utf8mb4_bin) ENGINE=InnoDB;
CREATE TABLE `Order Items` (`Id` INT AUTO_INCREMENT PRIMARY KEY, `Qty` INT NOT NULL DEFAULT 1, `select` INT NULL,
    CONSTRAINT `order items user` FOREIGN KEY (`select`) REFERENCES users (id)) ENGINE=InnoDB;
"#;

const MY_CODE: &str = r#"
CREATE FUNCTION display_name(e VARCHAR(190), m VARCHAR(10)) RETURNS VARCHAR(210) DETERMINISTIC
    RETURN CONCAT(e, ' (', m, ')');
CREATE VIEW zz_active_users AS SELECT id, email, display_name(email, mood) AS label FROM users WHERE balance > 0;
CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW org_summary AS
    SELECT o.name, (SELECT COUNT(*) FROM zz_active_users a) AS active FROM orgs o;
CREATE TRIGGER orgs_audit AFTER INSERT ON orgs FOR EACH ROW
BEGIN
    INSERT INTO audit (note) VALUES (CONCAT('org ', NEW.name));
END;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW
BEGIN
    IF NEW.balance <> OLD.balance THEN
        SET NEW.updated_at = NOW(6); -- a ';' here ends nothing
    END IF;
END;
CREATE TRIGGER orgs_audit_second AFTER INSERT ON orgs FOR EACH ROW PRECEDES orgs_audit
    INSERT INTO audit (note) VALUES ('first');
CREATE PROCEDURE bump(IN amount DECIMAL(12,2))
BEGIN
    UPDATE users SET balance = balance + amount;
    SELECT COUNT(*) FROM users;
END;
"#;

const MY_SEED: &str = r#"
INSERT INTO orgs (name) VALUES ('Acme'), ('Ünïcode ☃ Ltd'), ('O\'Brien\\path "q"');
INSERT INTO users (org_id, manager_id, email, mood, balance, born, seen_at, avatar, photo, flags, ratio, weight, note) VALUES
    (10, NULL, 'a@acme.test', 'happy', 10.50, '1990-02-28', '2024-05-01 12:34:56.789', X'00FF10', X'', b'1010', 0.1, 0.1, 'café'),
    (10, 1, 'b@acme.test', 'sad', 0, NULL, NULL, NULL, NULL, NULL, 1e308, 3.4028234e38, NULL),
    (11, NULL, 'tab\there\\and\nline@x.test', 'ok', 3, '2000-01-01', '2038-01-19 03:14:07', '', X'0027005C', b'0', -1e-300, NULL, 'x\ry');
UPDATE orgs SET owner_id = 1, settings = '{"a": [1, "x\\"y"], "b": null}' WHERE id = 10;
INSERT INTO tags VALUES (1, 'b'), (1, 'B'), (2, 'a'), (1, 'b');
INSERT INTO `Order Items` (`Qty`, `select`) VALUES (2, 1), (DEFAULT, NULL);
"#;

/// A text value of a MySQL row (information_schema and expressions may declare it binary).
fn my_text(row: &sqlx::mysql::MySqlRow) -> Option<String> {
    use sqlx::Row;
    match row.try_get::<Option<String>, _>(0) {
        Ok(value) => value,
        Err(_) => row.try_get::<Option<Vec<u8>>, _>(0).unwrap().map(|b| String::from_utf8(b).unwrap()),
    }
}

#[async_trait]
impl DumpCase for crate::mysql::My {
    const MIGRATIONS: &'static [(i64, &'static str, &'static str)] =
        &[(1, "schema", MY_SCHEMA), (2, "code", MY_CODE), (3, "seed", MY_SEED)];
    const PROBES: &'static [&'static str] = &[
        "SELECT CAST(COUNT(*) AS CHAR) FROM users",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', id, name, IFNULL(owner_id, '-'), settings) ORDER BY id SEPARATOR '\\n') FROM orgs",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', id, org_id, IFNULL(manager_id, '-'), email, mood, balance, IFNULL(born, '-'), \
         IFNULL(seen_at, '-'), IFNULL(HEX(avatar), '-'), IFNULL(HEX(photo), '-'), IFNULL(flags + 0, '-'), IFNULL(ratio, '-'), \
         IFNULL(CAST(weight AS DOUBLE), '-'), IFNULL(HEX(note), '-'), email_domain, IFNULL(updated_at, '-')) \
         ORDER BY id SEPARATOR '\\n') FROM users",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', id, note) ORDER BY id SEPARATOR '\\n') FROM audit",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', user_id, tag) ORDER BY user_id, BINARY tag SEPARATOR '\\n') FROM tags",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', `Id`, `Qty`, IFNULL(`select`, '-')) ORDER BY `Id`) FROM `Order Items`",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', name, active) ORDER BY name SEPARATOR '\\n') FROM org_summary",
        "SELECT GROUP_CONCAT(label ORDER BY id SEPARATOR '\\n') FROM zz_active_users",
        "SELECT name FROM orgs WHERE id = 12",
        "SELECT CONCAT(UNIX_TIMESTAMP(seen_at), '|', email) FROM users WHERE id = 3",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_ORDER) ORDER BY TRIGGER_NAME) \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
        "SELECT GROUP_CONCAT(CONCAT_WS('|', TABLE_NAME, SECURITY_TYPE, CHECK_OPTION) ORDER BY TABLE_NAME) \
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
    ];
    const UNSUPPORTED: (&'static str, &'static [&'static str]) = (
        "CREATE EVENT purge_audit ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit",
        &["MySQL cannot", "event purge_audit"],
    );

    fn area(&self) -> String {
        self.database.clone()
    }

    async fn text(&self, sql: &str) -> Option<String> {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(&self.pool).await.unwrap();
        my_text(&row)
    }

    async fn next_values(&self) -> Vec<i64> {
        let mut values = Vec::new();
        for sql in [
            "INSERT INTO orgs (name) VALUES ('next'); SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
            "INSERT INTO users (org_id, email) VALUES (10, 'next@acme.test'); SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
            "INSERT INTO audit (note) VALUES ('next'); SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
            "INSERT INTO `Order Items` () VALUES (); SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
        ] {
            let mut conn = self.pool.acquire().await.unwrap();
            let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(&mut *conn).await.unwrap();
            values.push(sqlx::Row::get::<i64, _>(&rows[0], 0));
        }
        values
    }
}

const LITE_SCHEMA: &str = r#"
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    owner_id INTEGER REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings))
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    manager_id INTEGER REFERENCES users (id),
    email TEXT NOT NULL COLLATE NOCASE,
    balance REAL NOT NULL DEFAULT 0 CONSTRAINT balance_not_negative CHECK (balance >= 0),
    avatar BLOB,
    email_domain TEXT GENERATED ALWAYS AS (substr(email, instr(email, '@') + 1)) VIRTUAL,
    email_lower TEXT GENERATED ALWAYS AS (lower(email)) STORED
);
CREATE TABLE tags (user_id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (user_id, tag)) WITHOUT ROWID;
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
CREATE TABLE "Order Items" ("Id" INTEGER PRIMARY KEY AUTOINCREMENT, "Qty" INTEGER DEFAULT 1, "select" TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL);
ALTER TABLE users ADD COLUMN born TEXT;
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_rich ON users (balance DESC) WHERE balance > 100;
CREATE INDEX users_domain ON users (lower(email_domain));
"#;

const LITE_CODE: &str = r#"
CREATE VIEW active_users AS SELECT id, email FROM users WHERE balance > 0;
CREATE VIEW zz_rich_active AS SELECT id FROM active_users WHERE id IN (SELECT id FROM users WHERE balance > 100);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
    INSERT INTO audit (note) VALUES ('user ' || NEW.id || ';' || NEW.email);
END;
CREATE TRIGGER counters_touch AFTER UPDATE OF value ON counters WHEN NEW.value > OLD.value BEGIN
    INSERT INTO audit (note) VALUES ('counter ' || NEW.name);
END;
"#;

const LITE_SEED: &str = r#"
INSERT INTO orgs (id, name) VALUES (10, 'Acme'), (11, 'it''s "quoted"'), (12, 'Ünïcødé ☃');
INSERT INTO users (id, org_id, manager_id, email, balance, avatar, born) VALUES
    (1, 10, NULL, 'a@acme.test', 0.1, X'00ff10', '2000-02-29'),
    (2, 10, 1, 'b@acme.test', 150.25, NULL, NULL),
    (3, 11, 2, 'back\slash
newline@x.test', 1e-300, X'', NULL);
UPDATE orgs SET owner_id = 1 WHERE id = 10;
INSERT INTO tags (user_id, tag) VALUES (1, 'b'), (1, 'a'), (2, 'z');
INSERT INTO counters (name, value) VALUES ('visits', 41);
UPDATE counters SET value = 42 WHERE name = 'visits';
INSERT INTO "Order Items" ("Qty", "select") VALUES (3, 'yes'), (NULL, NULL);
DELETE FROM "Order Items" WHERE "Qty" IS NULL;
DELETE FROM audit WHERE note LIKE 'user 3%';
"#;

#[async_trait]
impl DumpCase for crate::sqlite::Lite {
    const MIGRATIONS: &'static [(i64, &'static str, &'static str)] =
        &[(1, "schema", LITE_SCHEMA), (2, "code", LITE_CODE), (3, "seed", LITE_SEED)];
    const PROBES: &'static [&'static str] = &[
        "SELECT CAST(count(*) AS TEXT) FROM users",
        "SELECT group_concat(quote(id) || '|' || quote(name) || '|' || quote(owner_id) || '|' || settings, char(10)) FROM (SELECT * FROM orgs ORDER BY id)",
        "SELECT group_concat(quote(id) || '|' || quote(org_id) || '|' || quote(manager_id) || '|' || quote(email) || '|' \
         || quote(balance) || '|' || quote(avatar) || '|' || quote(email_domain) || '|' || quote(email_lower) || '|' \
         || quote(born), char(10)) FROM (SELECT * FROM users ORDER BY id)",
        "SELECT group_concat(user_id || tag, ',') FROM tags",
        "SELECT group_concat(name || '=' || value || typeof(value), ',') FROM counters",
        "SELECT group_concat(quote(\"Id\") || quote(\"Qty\") || quote(\"select\"), ',') FROM \"Order Items\"",
        "SELECT group_concat(id || ':' || note, char(10)) FROM (SELECT * FROM audit ORDER BY id)",
        "SELECT group_concat(id, ',') FROM zz_rich_active",
        "SELECT group_concat(name || '=' || seq, ',') FROM (SELECT * FROM sqlite_sequence ORDER BY name)",
    ];
    const UNSUPPORTED: (&'static str, &'static [&'static str]) =
        ("CREATE VIRTUAL TABLE notes_search USING fts5(body)", &["SQLite cannot", "virtual table notes_search"]);

    fn area(&self) -> String {
        self.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    }

    async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn next_values(&self) -> Vec<i64> {
        let mut values = Vec::new();
        for sql in [
            "INSERT INTO orgs (name) VALUES ('next') RETURNING id",
            "INSERT INTO users (org_id, email) VALUES (10, 'next@acme.test') RETURNING id",
            "INSERT INTO audit (note) VALUES ('next') RETURNING id",
            "INSERT INTO \"Order Items\" DEFAULT VALUES RETURNING \"Id\"",
        ] {
            values.push(self.scalar(sql).await);
        }
        values
    }
}
