//! The splitter's tests: every construct, positions, and property tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::string_slice)]

use super::*;
use proptest::prelude::*;

const PG: Dialect = Dialect::Postgres;
const MY: Dialect = Dialect::MySql;
const SQ: Dialect = Dialect::Sqlite;

fn stmts(sql: &str, dialect: Dialect) -> Vec<Statement> {
    split(sql, dialect).unwrap_or_else(|e| panic!("split failed: {e}\n{sql}"))
}

/// Asserts the exact `(line, text)` of every statement.
#[track_caller]
fn check(sql: &str, dialect: Dialect, expected: &[(usize, &str)]) {
    let got: Vec<(usize, &str)> = stmts(sql, dialect).iter().map(|s| (s.line, &sql[s.range.clone()])).collect();
    assert_eq!(got, expected);
}

fn positions(sql: &str, dialect: Dialect) -> Vec<(usize, usize)> {
    stmts(sql, dialect).iter().map(|s| (s.line, s.column)).collect()
}

fn err(sql: &str, dialect: Dialect) -> SplitError {
    match split(sql, dialect) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e,
    }
}

fn kinds(sql: &str, dialect: Dialect) -> Vec<(TokenKind, &str)> {
    tokenize(sql, dialect)
        .unwrap()
        .into_iter()
        .filter(|t| t.kind != TokenKind::Whitespace)
        .map(|t| (t.kind, &sql[t.range]))
        .collect()
}

/// Reference line/column computation for cross-checking.
fn naive_line_col(sql: &str, offset: usize) -> (usize, usize) {
    let bom = if offset > 0 && sql.starts_with('\u{feff}') { 3 } else { 0 };
    let before = &sql[bom..offset];
    let normalized = before.replace("\r\n", "\n").replace('\r', "\n");
    let line = normalized.matches('\n').count() + 1;
    let column = normalized.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

// ----- generic ----------------------------------------------------------------------

#[test]
fn plain_multi_statement() {
    let sql = "SELECT 1;\nSELECT 2;\n  SELECT 3;\n";
    for d in [PG, MY, SQ] {
        check(sql, d, &[(1, "SELECT 1"), (2, "SELECT 2"), (3, "SELECT 3")]);
        assert_eq!(positions(sql, d), [(1, 1), (2, 1), (3, 3)]);
    }
    let s = stmts(sql, PG);
    assert_eq!(s[0].segment, 0..9);
    assert_eq!(s[1].segment, 9..19);
    assert_eq!(s[2].segment, 19..31);
    assert_eq!(s[1].text(sql), "SELECT 2");
}

#[test]
fn empty_statements_are_skipped() {
    let sql = ";; SELECT 1;;; SELECT 2;;";
    for d in [PG, MY, SQ] {
        let s = stmts(sql, d);
        check(sql, d, &[(1, "SELECT 1"), (1, "SELECT 2")]);
        assert_eq!(s[0].segment, 0..12);
        assert_eq!(s[1].segment, 12..24);
        assert_eq!(positions(sql, d), [(1, 4), (1, 16)]);
    }
}

#[test]
fn comment_only_scripts_have_no_statements() {
    for d in [PG, MY, SQ] {
        assert!(stmts("", d).is_empty());
        assert!(stmts("  \n\t", d).is_empty());
        assert!(stmts("-- just a comment\n/* and ; another */\n;\n", d).is_empty());
    }
    assert!(stmts("# mysql comment ;\n", MY).is_empty());
}

#[test]
fn final_statement_without_semicolon() {
    let sql = "SELECT 1;\nSELECT 2  \n";
    for d in [PG, MY] {
        let s = stmts(sql, d);
        check(sql, d, &[(1, "SELECT 1"), (2, "SELECT 2")]);
        assert_eq!(s[1].segment, 9..18);
        assert_eq!(s[1].range, 10..18);
    }
}

#[test]
fn trailing_comment_after_last_statement() {
    let sql = "SELECT 1; -- done\n/* bye */\n";
    for d in [PG, MY] {
        let s = stmts(sql, d);
        check(sql, d, &[(1, "SELECT 1")]);
        assert_eq!(s[0].segment, 0..9);
    }
    let sql = "SELECT 1 -- no semicolon";
    for d in [PG, MY] {
        let s = stmts(sql, d);
        check(sql, d, &[(1, "SELECT 1")]);
        assert_eq!(s[0].segment, 0..8);
    }
}

#[test]
fn leading_comments_belong_to_the_segment() {
    let sql = "-- header\n/* c */ SELECT 1; -- x\nSELECT 2;";
    for d in [PG, MY] {
        let s = stmts(sql, d);
        check(sql, d, &[(2, "SELECT 1"), (3, "SELECT 2")]);
        assert_eq!((s[0].line, s[0].column), (2, 9));
        assert_eq!(s[0].segment, 0..27);
        assert_eq!(&sql[s[1].segment.clone()], " -- x\nSELECT 2;");
    }
}

#[test]
fn crlf_line_endings() {
    let sql = "SELECT 1;\r\nSELECT\r\n 2;\r\n\r\n  SELECT 3";
    for d in [PG, MY] {
        check(sql, d, &[(1, "SELECT 1"), (2, "SELECT\r\n 2"), (5, "SELECT 3")]);
        assert_eq!(positions(sql, d), [(1, 1), (2, 1), (5, 3)]);
    }
    // A lone `\r` also ends a line.
    assert_eq!(positions("SELECT 1;\rSELECT 2", PG), [(1, 1), (2, 1)]);
    let e = err("SELECT 1;\r\n\r\n  'abc", PG);
    assert_eq!((e.line, e.column, e.offset), (3, 3, 15));
}

#[test]
fn parentheses_guard_semicolons() {
    let sql = "SELECT (1; 2); SELECT ')' ; SELECT 3)";
    for d in [PG, MY] {
        check(sql, d, &[(1, "SELECT (1; 2)"), (1, "SELECT ')'"), (1, "SELECT 3)")]);
    }
    // Unbalanced `)` never makes the depth negative.
    check("SELECT 1); SELECT 2", PG, &[(1, "SELECT 1)"), (1, "SELECT 2")]);
}

#[test]
fn multibyte_columns() {
    let sql = "SELECT 'é'; SELECT '日本';\n/* 😀 */ SELECT '😀'; SELECT 4;";
    for d in [PG, MY] {
        check(sql, d, &[(1, "SELECT 'é'"), (1, "SELECT '日本'"), (2, "SELECT '😀'"), (2, "SELECT 4")]);
        assert_eq!(positions(sql, d), [(1, 1), (1, 13), (2, 9), (2, 21)]);
    }
    let e = err("SELECT 'é', 日本, \"x", PG);
    assert_eq!((e.line, e.column), (1, 17));
    assert_eq!(e.kind, SplitErrorKind::UnterminatedQuotedIdent);
}

#[test]
fn byte_order_mark_is_whitespace() {
    let sql = "\u{feff}CREATE PROCEDURE p() BEGIN SELECT 1; END; SELECT 2";
    check(sql, MY, &[(1, "CREATE PROCEDURE p() BEGIN SELECT 1; END"), (1, "SELECT 2")]);
    assert_eq!(positions(sql, MY), [(1, 1), (1, 43)]);
}

// ----- PostgreSQL lexing -------------------------------------------------------------

#[test]
fn pg_strings() {
    check(
        "SELECT 'a;b'; SELECT 'it''s;'; SELECT 3",
        PG,
        &[(1, "SELECT 'a;b'"), (1, "SELECT 'it''s;'"), (1, "SELECT 3")],
    );
}

#[test]
fn pg_escape_strings() {
    let sql = r"SELECT E'it\'s; x'; SELECT e'\\'; SELECT E'a''b;'; SELECT 4";
    check(sql, PG, &[(1, r"SELECT E'it\'s; x'"), (1, r"SELECT e'\\'"), (1, r"SELECT E'a''b;'"), (1, "SELECT 4")]);
}

#[test]
fn pg_backslash_is_not_an_escape() {
    let sql = r"SELECT 'C:\'; SELECT 2";
    check(sql, PG, &[(1, r"SELECT 'C:\'"), (1, "SELECT 2")]);
}

#[test]
fn pg_e_prefix_must_be_standalone() {
    // `abe'...'` is the word `abe` followed by a plain string.
    let sql = r"SELECT abe'\'; SELECT 1";
    check(sql, PG, &[(1, r"SELECT abe'\'"), (1, "SELECT 1")]);
    assert_eq!(
        kinds(r"abe'\' E'\''", PG),
        [(TokenKind::Word, "abe"), (TokenKind::String, r"'\'"), (TokenKind::String, r"E'\''"),]
    );
}

#[test]
fn pg_prefixed_strings() {
    let sql = "SELECT U&'x;y', u&'d\\0061;', B'1;0', x'A;', N'n;'; SELECT U&\"a;b\"; SELECT 3";
    check(
        sql,
        PG,
        &[(1, "SELECT U&'x;y', u&'d\\0061;', B'1;0', x'A;', N'n;'"), (1, "SELECT U&\"a;b\""), (1, "SELECT 3")],
    );
    assert_eq!(
        kinds("U&'x' U&\"y\" B'1' X'f' N'n'", PG).iter().map(|k| k.0).collect::<Vec<_>>(),
        [TokenKind::String, TokenKind::QuotedIdent, TokenKind::String, TokenKind::String, TokenKind::String]
    );
}

#[test]
fn pg_dollar_quotes() {
    check("SELECT $$a;b$$; SELECT 2", PG, &[(1, "SELECT $$a;b$$"), (1, "SELECT 2")]);
    check("SELECT $tag$ x; $$ y $tag$; SELECT 2", PG, &[(1, "SELECT $tag$ x; $$ y $tag$"), (1, "SELECT 2")]);
    // Tags are case-sensitive; other tags, quotes and comments in the body are inert.
    check("SELECT $a$ $A$ ' \" -- /* ; $a$; SELECT 2", PG, &[(1, "SELECT $a$ $A$ ' \" -- /* ; $a$"), (1, "SELECT 2")]);
    // Non-ASCII tags.
    check("SELECT $é$ ; $é$; SELECT 2", PG, &[(1, "SELECT $é$ ; $é$"), (1, "SELECT 2")]);
}

#[test]
fn pg_params_and_dollar_identifiers() {
    let sql = "SELECT $1, $23; SELECT a$b$c FROM t; SELECT 3";
    check(sql, PG, &[(1, "SELECT $1, $23"), (1, "SELECT a$b$c FROM t"), (1, "SELECT 3")]);
    assert_eq!(
        kinds("$1 a$b$ $ x", PG),
        [(TokenKind::Param, "$1"), (TokenKind::Word, "a$b$"), (TokenKind::Punct, "$"), (TokenKind::Word, "x"),]
    );
}

#[test]
fn pg_nested_block_comments() {
    let sql = "SELECT 1 /* /* ; */ ; */; SELECT 2";
    check(sql, PG, &[(1, "SELECT 1"), (1, "SELECT 2")]);
    assert_eq!(
        kinds("/* a /* b */ c */x", PG),
        [(TokenKind::BlockComment, "/* a /* b */ c */"), (TokenKind::Word, "x")]
    );
    assert_eq!(kinds("/*/ */", PG), [(TokenKind::BlockComment, "/*/ */")]);
}

#[test]
fn pg_line_comments() {
    let sql = "SELECT 1 -- ;\n; SELECT 2 --x;";
    check(sql, PG, &[(1, "SELECT 1"), (2, "SELECT 2")]);
    // Unlike MySQL, `--` always starts a comment, so this `;` is commented out.
    check("SELECT 1--1;\nSELECT 2", PG, &[(1, "SELECT 1--1;\nSELECT 2")]);
}

#[test]
fn pg_quoted_identifiers() {
    let sql = "SELECT \"we;ird\", \"a\"\"b;\" FROM t; SELECT 2";
    check(sql, PG, &[(1, "SELECT \"we;ird\", \"a\"\"b;\" FROM t"), (1, "SELECT 2")]);
}

#[test]
fn pg_numbers_and_tokens() {
    assert_eq!(
        kinds("1.5e-3 42abc x1 ::", PG),
        [
            (TokenKind::Number, "1.5e-3"),
            (TokenKind::Number, "42abc"),
            (TokenKind::Word, "x1"),
            (TokenKind::Punct, ":"),
            (TokenKind::Punct, ":"),
        ]
    );
}

// ----- PostgreSQL blocks -------------------------------------------------------------

#[test]
fn pg_function_with_dollar_body() {
    let sql = "CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\n  RETURN 1; -- ;\nEND;\n$body$ LANGUAGE plpgsql;\nSELECT f();\n";
    check(
        sql,
        PG,
        &[
            (1, "CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\n  RETURN 1; -- ;\nEND;\n$body$ LANGUAGE plpgsql"),
            (6, "SELECT f()"),
        ],
    );
    assert_eq!(positions(sql, PG), [(1, 1), (6, 1)]);
}

#[test]
fn pg_do_block_with_commit() {
    let sql = "DO $$ BEGIN\n  INSERT INTO t VALUES (1);\n  COMMIT;\nEND $$;\nSELECT 1;";
    check(sql, PG, &[(1, "DO $$ BEGIN\n  INSERT INTO t VALUES (1);\n  COMMIT;\nEND $$"), (5, "SELECT 1")]);
    assert_eq!(positions(sql, PG), [(1, 1), (5, 1)]);
}

#[test]
fn pg_begin_atomic() {
    let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nSELECT 3;";
    check(
        sql,
        PG,
        &[
            (1, "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND"),
            (6, "SELECT 3"),
        ],
    );
    assert_eq!(positions(sql, PG), [(1, 1), (6, 1)]);
}

#[test]
fn pg_begin_atomic_with_comments_and_case() {
    let sql = "CREATE PROCEDURE p(x int) LANGUAGE sql begin /* c */ -- c\n atomic\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END;\n  SELECT (case x when 1 then 'a;' end), t.end FROM t AS end;\nend;\nSELECT 3";
    let body = sql.strip_suffix(";\nSELECT 3").unwrap();
    assert!(body.ends_with("FROM t AS end;\nend"));
    check(sql, PG, &[(1, body), (6, "SELECT 3")]);
}

#[test]
fn pg_create_rule_with_parentheses() {
    let sql =
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;";
    check(
        sql,
        PG,
        &[
            (1, "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))"),
            (2, "SELECT 1"),
        ],
    );
}

#[test]
fn pg_transactions_are_plain_statements() {
    let sql = "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nBEGIN WORK;\nBEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nROLLBACK;\nEND;";
    check(
        sql,
        PG,
        &[
            (1, "BEGIN"),
            (2, "INSERT INTO t VALUES (1)"),
            (3, "COMMIT"),
            (4, "BEGIN WORK"),
            (5, "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
            (6, "ROLLBACK"),
            (7, "END"),
        ],
    );
}

// ----- MySQL lexing ------------------------------------------------------------------

#[test]
fn mysql_strings() {
    let sql = r#"SELECT 'it\'s; fine'; SELECT "dq;\"x"; SELECT 'C:\\'; SELECT 'a'';b', "c"";d"; SELECT 5"#;
    check(
        sql,
        MY,
        &[
            (1, r"SELECT 'it\'s; fine'"),
            (1, r#"SELECT "dq;\"x""#),
            (1, r"SELECT 'C:\\'"),
            (1, r#"SELECT 'a'';b', "c"";d""#),
            (1, "SELECT 5"),
        ],
    );
    assert_eq!(
        kinds(r#"_utf8mb4'x;' N'y\'' X'0A' "z""#, MY),
        [
            (TokenKind::Word, "_utf8mb4"),
            (TokenKind::String, "'x;'"),
            (TokenKind::String, r"N'y\''"),
            (TokenKind::String, "X'0A'"),
            (TokenKind::String, r#""z""#),
        ]
    );
}

#[test]
fn mysql_comments() {
    let sql = "SELECT 1 # ;\n; SELECT 2 -- ;\n; SELECT 3 /* ; /* */; SELECT 4 --\t;\n;SELECT 5 --";
    check(sql, MY, &[(1, "SELECT 1"), (2, "SELECT 2"), (3, "SELECT 3"), (3, "SELECT 4"), (4, "SELECT 5")]);
}

#[test]
fn mysql_double_dash_needs_whitespace() {
    check("SELECT 1--1; SELECT 2", MY, &[(1, "SELECT 1--1"), (1, "SELECT 2")]);
    assert_eq!(
        kinds("1--1", MY),
        [(TokenKind::Number, "1"), (TokenKind::Punct, "-"), (TokenKind::Punct, "-"), (TokenKind::Number, "1"),]
    );
}

#[test]
fn mysql_block_comments_do_not_nest() {
    let sql = "SELECT 1 /* /* */; SELECT 2 */";
    check(sql, MY, &[(1, "SELECT 1"), (1, "SELECT 2 */")]);
}

#[test]
fn mysql_backtick_identifiers() {
    let sql = "SELECT `a;b`, `c``;` FROM `t`; SELECT 2";
    check(sql, MY, &[(1, "SELECT `a;b`, `c``;` FROM `t`"), (1, "SELECT 2")]);
    // `"` is a string, not an identifier, in MySQL.
    assert_eq!(kinds("\"x\"", MY), [(TokenKind::String, "\"x\"")]);
}

#[test]
fn mysql_executable_comments_are_statements() {
    let sql = "/*!40101 SET x=1 */;\n/*M!100100 SET y=2 */;\n/* plain */;\nSELECT /*!STRAIGHT_JOIN*/ 1;";
    check(sql, MY, &[(1, "/*!40101 SET x=1 */"), (2, "/*M!100100 SET y=2 */"), (4, "SELECT /*!STRAIGHT_JOIN*/ 1")]);
    assert_eq!(kinds("/*!40101 SET x=1 */", MY), [(TokenKind::BlockComment, "/*!40101 SET x=1 */")]);
}

#[test]
fn mysql_dollar_is_an_identifier_char() {
    assert_eq!(kinds("$$ a$b $1", MY), [(TokenKind::Word, "$$"), (TokenKind::Word, "a$b"), (TokenKind::Word, "$1"),]);
    check("SELECT $$; SELECT 2", MY, &[(1, "SELECT $$"), (1, "SELECT 2")]);
}

// ----- MySQL stored programs ---------------------------------------------------------

const PROCEDURE: &str = "CREATE DEFINER=`root`@`localhost` PROCEDURE p(IN n INT, OUT begin INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE done INT DEFAULT FALSE;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = IF(done, 1, 1);
  DECLARE EXIT HANDLER FOR SQLEXCEPTION, SQLSTATE '23000' BEGIN ROLLBACK; RESIGNAL; END;
  SET @end = REPEAT('x', 2);
  IF n > 10 THEN
SET i = 1;
  ELSEIF n > 5 THEN
SET i = 2;
  ELSE IF n > 1 THEN SET i = 3; END IF;
  END IF;
  WHILE i < n DO
SET i = i + 1;
  END WHILE;
  REPEAT
SET i = i - 1;
  UNTIL i <= 0 END REPEAT;
  outer_loop: LOOP
SET i = i + 1;
IF i > 3 THEN LEAVE outer_loop; END IF;
  END LOOP outer_loop;
  CASE i
WHEN 1 THEN SELECT CASE WHEN n THEN 'a' ELSE 'b' END;
ELSE BEGIN SELECT 2; END;
  END CASE;
  blk: BEGIN
SELECT 1 AS end;
  END blk;
END;
SELECT 'after';";

#[test]
fn mysql_procedure_with_flow_control() {
    let body = PROCEDURE.strip_suffix(";\nSELECT 'after';").unwrap();
    assert!(body.ends_with("END blk;\nEND"));
    check(PROCEDURE, MY, &[(1, body), (32, "SELECT 'after'")]);
    assert_eq!(positions(PROCEDURE, MY), [(1, 1), (32, 1)]);
}

#[test]
fn mysql_trigger() {
    let sql = "CREATE DEFINER=CURRENT_USER TRIGGER trg BEFORE INSERT ON t\nFOR EACH ROW BEGIN\n  SET NEW.a = 1;\n  SET NEW.begin = NEW.end;\nEND;\nINSERT INTO t VALUES (1);";
    check(
        sql,
        MY,
        &[
            (
                1,
                "CREATE DEFINER=CURRENT_USER TRIGGER trg BEFORE INSERT ON t\nFOR EACH ROW BEGIN\n  SET NEW.a = 1;\n  SET NEW.begin = NEW.end;\nEND",
            ),
            (6, "INSERT INTO t VALUES (1)"),
        ],
    );
    assert_eq!(positions(sql, MY), [(1, 1), (6, 1)]);
}

#[test]
fn mysql_trigger_with_bare_if_body() {
    let sql = "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW FOLLOWS other IF NEW.a < 0 THEN SET NEW.a = 0; END IF;\nCREATE TRIGGER u AFTER INSERT ON x FOR EACH ROW SET @n = IF(NEW.a, 1, 2);\nSELECT 1;";
    check(
        sql,
        MY,
        &[
            (
                1,
                "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW FOLLOWS other IF NEW.a < 0 THEN SET NEW.a = 0; END IF",
            ),
            (2, "CREATE TRIGGER u AFTER INSERT ON x FOR EACH ROW SET @n = IF(NEW.a, 1, 2)"),
            (3, "SELECT 1"),
        ],
    );
}

#[test]
fn mysql_function_with_if_and_repeat_calls() {
    let sql = "CREATE FUNCTION f(a INT) RETURNS TEXT DETERMINISTIC\nBEGIN\n  DECLARE s TEXT;\n  SET s = REPEAT('x', 2);\n  RETURN IF(a, s, 'c');\nEND;\nCREATE FUNCTION IF NOT EXISTS g() RETURNS INT RETURN IF(1, 2, 3);\nCREATE FUNCTION h() RETURNS INT RETURN CASE WHEN 1 THEN 2 END;\nSELECT f(1);";
    check(
        sql,
        MY,
        &[
            (
                1,
                "CREATE FUNCTION f(a INT) RETURNS TEXT DETERMINISTIC\nBEGIN\n  DECLARE s TEXT;\n  SET s = REPEAT('x', 2);\n  RETURN IF(a, s, 'c');\nEND",
            ),
            (7, "CREATE FUNCTION IF NOT EXISTS g() RETURNS INT RETURN IF(1, 2, 3)"),
            (8, "CREATE FUNCTION h() RETURNS INT RETURN CASE WHEN 1 THEN 2 END"),
            (9, "SELECT f(1)"),
        ],
    );
}

#[test]
fn mysql_create_variants() {
    let cases = [
        "CREATE OR REPLACE PROCEDURE p() BEGIN SELECT 1; END",
        "CREATE DEFINER = 'u'@'%' PROCEDURE p() BEGIN SELECT 1; END",
        "CREATE DEFINER=root@localhost PROCEDURE p() BEGIN SELECT 1; END",
        "CREATE DEFINER=CURRENT_USER() FUNCTION f() RETURNS INT BEGIN RETURN 1; END",
        "CREATE AGGREGATE FUNCTION agg(x INT) RETURNS INT BEGIN DECLARE s INT DEFAULT 0; LOOP FETCH GROUP NEXT ROW; SET s = s + x; END LOOP; END",
        "CREATE PROCEDURE IF NOT EXISTS p() BEGIN SELECT 1; END",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; SELECT 1; END",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO IF 1 THEN DELETE FROM t; END IF",
        "CREATE PROCEDURE p() lbl: LOOP SELECT 1; LEAVE lbl; END LOOP lbl",
        "CREATE PROCEDURE p() BEGIN (SELECT 1); END",
        "CREATE /*!50017 DEFINER=`u`@`h` */ TRIGGER t AFTER INSERT ON x FOR EACH ROW BEGIN SELECT 1; END",
    ];
    for case in cases {
        let sql = format!("{case};\nSELECT 2;");
        check(&sql, MY, &[(1, case), (2, "SELECT 2")]);
    }
}

#[test]
fn mysql_begin_as_a_column_name() {
    let sql = "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW UPDATE y SET begin = 1, `end` = 2;\nCREATE EVENT e ON SCHEDULE EVERY 1 DAY DO UPDATE y SET begin = NOW();\nCREATE PROCEDURE p() UPDATE y SET begin = 1;\nALTER EVENT e DO BEGIN SELECT 1; END;\nSELECT 1;";
    check(
        sql,
        MY,
        &[
            (1, "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW UPDATE y SET begin = 1, `end` = 2"),
            (2, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO UPDATE y SET begin = NOW()"),
            (3, "CREATE PROCEDURE p() UPDATE y SET begin = 1"),
            (4, "ALTER EVENT e DO BEGIN SELECT 1; END"),
            (5, "SELECT 1"),
        ],
    );
}

#[test]
fn mysql_handler_with_compound_body() {
    let sql = "CREATE PROCEDURE p() BEGIN\n  DECLARE CONTINUE HANDLER FOR SQLWARNING IF 1 THEN SELECT 1; END IF;\n  DECLARE EXIT HANDLER FOR 1062 BEGIN SELECT 2; END;\n  DECLARE CONTINUE HANDLER FOR my_condition SET @x = IF(1, 2, 3);\n  SELECT 3;\nEND;\nSELECT 4;";
    let body = sql.strip_suffix(";\nSELECT 4;").unwrap();
    check(sql, MY, &[(1, body), (7, "SELECT 4")]);
}

#[test]
fn mysql_mariadb_extensions() {
    let sql =
        "BEGIN NOT ATOMIC\n  DECLARE i INT DEFAULT 0;\n  FOR r IN 1..3 DO SET i = i + r; END FOR;\nEND;\nSELECT 1;";
    check(
        sql,
        MY,
        &[
            (1, "BEGIN NOT ATOMIC\n  DECLARE i INT DEFAULT 0;\n  FOR r IN 1..3 DO SET i = i + r; END FOR;\nEND"),
            (5, "SELECT 1"),
        ],
    );
}

#[test]
fn mysql_create_table_if_not_exists() {
    let sql = "CREATE TABLE IF NOT EXISTS t (begin INT, `end` INT, event INT);\nDROP TABLE IF EXISTS u;\nCREATE TABLE event (id INT);\nSELECT 1;";
    check(
        sql,
        MY,
        &[
            (1, "CREATE TABLE IF NOT EXISTS t (begin INT, `end` INT, event INT)"),
            (2, "DROP TABLE IF EXISTS u"),
            (3, "CREATE TABLE event (id INT)"),
            (4, "SELECT 1"),
        ],
    );
}

#[test]
fn mysql_transactions_are_plain_statements() {
    let sql = "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nBEGIN WORK;\nSELECT IF(1, 2, 3);\nROLLBACK;";
    check(
        sql,
        MY,
        &[
            (1, "BEGIN"),
            (2, "INSERT INTO t VALUES (1)"),
            (3, "COMMIT"),
            (4, "BEGIN WORK"),
            (5, "SELECT IF(1, 2, 3)"),
            (6, "ROLLBACK"),
        ],
    );
}

#[test]
fn mysql_user_variables_and_qualified_names_are_not_keywords() {
    let sql = "CREATE PROCEDURE p() BEGIN SET @begin = 1; SELECT t.end, @end FROM t; END; SELECT 2";
    check(
        sql,
        MY,
        &[(1, "CREATE PROCEDURE p() BEGIN SET @begin = 1; SELECT t.end, @end FROM t; END"), (1, "SELECT 2")],
    );
}

// ----- keywords used as names in bodies ------------------------------------------------

/// An unquoted column named `end` in a SQLite trigger body ended the body early: the rest
/// became a top-level `END` (a fatal `transaction-control`).
#[test]
fn sqlite_trigger_body_with_a_column_named_end() {
    let trigger = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET end = 1; END";
    check(&format!("{trigger};\nSELECT 1;"), SQ, &[(1, trigger), (2, "SELECT 1")]);
    for body in [
        "UPDATE t SET a = 1, end = 2 WHERE end > 0",
        "INSERT INTO log (a, end) VALUES (1, 2)",
        "SELECT end FROM t ORDER BY end",
        "SELECT a FROM t WHERE a = 1 AND end IS NULL",
        "UPDATE end SET a = 1",
        "DELETE FROM end WHERE begin = 1",
        "SELECT (end), -end, x + end FROM t",
        "SELECT CASE WHEN end THEN end ELSE 0 END FROM t",
        "SELECT CASE end WHEN 1 THEN 2 END FROM t",
    ] {
        let trigger = format!("CREATE TRIGGER tr AFTER INSERT ON t BEGIN {body}; END");
        check(&format!("{trigger};\nSELECT 1;"), SQ, &[(1, trigger.as_str()), (2, "SELECT 1")]);
    }
    // `begin` as a column in the WHEN clause or OF list is not the body's BEGIN.
    let when = "CREATE TRIGGER tr AFTER UPDATE OF begin ON t WHEN NEW.a = 1 AND begin = 2 BEGIN SELECT 1; END";
    check(&format!("{when};SELECT 2"), SQ, &[(1, when), (1, "SELECT 2")]);
}

/// The same in a MariaDB procedure passed validation and failed at `up`.
#[test]
fn mysql_bodies_with_names_spelled_like_keywords() {
    for body in [
        "UPDATE t SET end = 1",
        "UPDATE t SET begin = 1, end = 2",
        "SELECT end, begin FROM t WHERE end > begin ORDER BY end",
        "DECLARE end INT DEFAULT 0",
        "SET end = end + 1",
        "SELECT a INTO end FROM t",
        "IF end THEN SELECT 1; END IF",
        "WHILE end < 3 DO SET end = end + 1; END WHILE",
        "SELECT CASE WHEN end THEN 1 ELSE end END",
        "SELECT x FROM t AS end",
        "UPDATE end SET a = 1",
        "SELECT 1 FROM t JOIN end ON end.id = t.id",
        "CALL end()",
        "RETURN end",
    ] {
        let procedure = format!("CREATE PROCEDURE p() BEGIN {body}; END");
        check(&format!("{procedure};\nSELECT 1;"), MY, &[(1, procedure.as_str()), (2, "SELECT 1")]);
    }
    // A label named `end`, and `begin` in a single-statement routine body.
    let labelled = "CREATE PROCEDURE p() BEGIN end: LOOP LEAVE end; END LOOP end; END";
    check(&format!("{labelled};SELECT 1"), MY, &[(1, labelled), (1, "SELECT 1")]);
    let single = "CREATE PROCEDURE p() SELECT begin FROM t";
    check(&format!("{single};\nSELECT 2;"), MY, &[(1, single), (2, "SELECT 2")]);
    let trigger = "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = end; END";
    check(&format!("{trigger};SELECT 1"), MY, &[(1, trigger), (1, "SELECT 1")]);
}

/// What a parser-less splitter cannot tell (an alias named `end` without `AS`): the
/// statement after the body is refused, saying to quote the name, instead of failing at `up`.
#[test]
fn an_end_that_closes_nothing_says_to_quote_the_name() {
    let e = err("CREATE PROCEDURE p() BEGIN SELECT 1 end; END;\nSELECT 2;", MY);
    assert_eq!((e.kind.clone(), e.line, e.column), (SplitErrorKind::UnmatchedEnd, 1, 42));
    assert!(e.to_string().contains("quote that name with backticks"), "{e}");
    let e = err("END;", MY);
    assert_eq!(e.kind, SplitErrorKind::UnmatchedEnd);
    // SQLite and PostgreSQL read a lone `END` as COMMIT: the linter's transaction-control
    // finding says to quote the name (see the lint tests).
}

#[test]
fn postgres_begin_atomic_bodies_with_names_spelled_like_keywords() {
    let function = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC UPDATE t SET begin = 1, atomic = 2; SELECT t.end, \"end\" FROM t ORDER BY begin; END";
    check(&format!("{function};\nSELECT 1;"), PG, &[(1, function), (2, "SELECT 1")]);
    // `begin atomic` in a select list is a column and its alias, not a body.
    check("SELECT begin atomic FROM t; SELECT 2", PG, &[(1, "SELECT begin atomic FROM t"), (1, "SELECT 2")]);
}

// ----- SQLite lexing -----------------------------------------------------------------

#[test]
fn sqlite_strings() {
    let sql = r"SELECT 'a;b'; SELECT 'it''s;'; SELECT 'C:\'; SELECT X'0A;'; SELECT 5";
    check(
        sql,
        SQ,
        &[(1, "SELECT 'a;b'"), (1, "SELECT 'it''s;'"), (1, r"SELECT 'C:\'"), (1, "SELECT X'0A;'"), (1, "SELECT 5")],
    );
    // Backslashes escape nothing, and there are no E'' strings.
    assert_eq!(
        kinds(r"E'\' x'ff'", SQ),
        [(TokenKind::Word, "E"), (TokenKind::String, r"'\'"), (TokenKind::String, "x'ff'")]
    );
}

#[test]
fn sqlite_quoted_identifiers() {
    let sql = "SELECT \"a;b\", \"c\"\"d;\", `e;f`, `g``h;`, [i;j], [k\"l`m] FROM t; SELECT 2";
    check(sql, SQ, &[(1, "SELECT \"a;b\", \"c\"\"d;\", `e;f`, `g``h;`, [i;j], [k\"l`m] FROM t"), (1, "SELECT 2")]);
    let quoted = kinds("\"a\" `b` [c d] [\"]", SQ);
    assert!(quoted.iter().all(|(kind, _)| *kind == TokenKind::QuotedIdent), "{quoted:?}");
    assert_eq!(quoted.len(), 4);
    // `[` quotes only in SQLite.
    assert_eq!(kinds("[a]", PG).first().map(|k| k.0), Some(TokenKind::Punct));
    assert_eq!(kinds("[a]", MY).first().map(|k| k.0), Some(TokenKind::Punct));
}

#[test]
fn sqlite_comments() {
    // `--` needs no whitespace after it (unlike MySQL), and block comments do not nest.
    check("SELECT 1--1;\nSELECT 2", SQ, &[(1, "SELECT 1--1;\nSELECT 2")]);
    check("SELECT 1 /* /* ; */; SELECT 2 -- ;\n;", SQ, &[(1, "SELECT 1"), (1, "SELECT 2")]);
    assert_eq!(kinds("/* a /* b */ c", SQ)[0], (TokenKind::BlockComment, "/* a /* b */"));
    // `#` is not a comment.
    assert_eq!(kinds("#x", SQ)[0], (TokenKind::Punct, "#"));
}

#[test]
fn sqlite_dollar_is_not_a_quote() {
    check(
        "SELECT $$a; SELECT a$b$ FROM t; SELECT $x",
        SQ,
        &[(1, "SELECT $$a"), (1, "SELECT a$b$ FROM t"), (1, "SELECT $x")],
    );
    assert_eq!(kinds("a$b $c", SQ), [(TokenKind::Word, "a$b"), (TokenKind::Punct, "$"), (TokenKind::Word, "c")]);
}

// ----- SQLite blocks -----------------------------------------------------------------

#[test]
fn sqlite_trigger_bodies() {
    let trigger = "CREATE TRIGGER orders_audit AFTER UPDATE OF status ON orders\nFOR EACH ROW WHEN NEW.status <> OLD.status\nBEGIN\n  INSERT INTO audit (note) VALUES ('status; changed');\n  UPDATE orders SET touched = 1 WHERE id = NEW.id;\nEND";
    let sql = format!("{trigger};\nSELECT 1;\n");
    check(&sql, SQ, &[(1, trigger), (7, "SELECT 1")]);
    // TEMP and IF NOT EXISTS, lowercase, and `CASE … END` inside the body.
    let temp = "create temp trigger if not exists t before insert on x begin\n  select case when new.a > 0 then raise(abort, 'no;') else 1 end;\n  select case new.b when 1 then 'a' end, (case when 1 then 2 end);\nend";
    check(&format!("{temp};SELECT 2"), SQ, &[(1, temp), (4, "SELECT 2")]);
    let temporary = "CREATE TEMPORARY TRIGGER t INSTEAD OF INSERT ON v BEGIN INSERT INTO x VALUES (1); END";
    check(&format!("{temporary}; SELECT 3"), SQ, &[(1, temporary), (1, "SELECT 3")]);
    // A quoted or qualified `begin` is a name, and CASE … END in a WHEN clause opens nothing.
    let named = "CREATE TRIGGER t AFTER INSERT ON x WHEN NEW.begin = 1 AND CASE WHEN NEW.\"end\" THEN 1 END BEGIN DELETE FROM y WHERE [begin] = NEW.begin; END";
    check(&format!("{named}; SELECT 4"), SQ, &[(1, named), (1, "SELECT 4")]);
}

#[test]
fn sqlite_case_outside_triggers_needs_no_block() {
    check(
        "SELECT CASE WHEN a THEN 'x;' ELSE 'y' END FROM t; CREATE VIEW v AS SELECT CASE 1 WHEN 1 THEN 2 END; SELECT 3",
        SQ,
        &[
            (1, "SELECT CASE WHEN a THEN 'x;' ELSE 'y' END FROM t"),
            (1, "CREATE VIEW v AS SELECT CASE 1 WHEN 1 THEN 2 END"),
            (1, "SELECT 3"),
        ],
    );
}

#[test]
fn sqlite_transactions_are_plain_statements() {
    let sql = "BEGIN;\nBEGIN IMMEDIATE;\nBEGIN EXCLUSIVE TRANSACTION;\nBEGIN DEFERRED;\nSAVEPOINT a;\nRELEASE a;\nROLLBACK TO a;\nEND TRANSACTION;\nEND;\nCOMMIT;";
    check(
        sql,
        SQ,
        &[
            (1, "BEGIN"),
            (2, "BEGIN IMMEDIATE"),
            (3, "BEGIN EXCLUSIVE TRANSACTION"),
            (4, "BEGIN DEFERRED"),
            (5, "SAVEPOINT a"),
            (6, "RELEASE a"),
            (7, "ROLLBACK TO a"),
            (8, "END TRANSACTION"),
            (9, "END"),
            (10, "COMMIT"),
        ],
    );
    // Not a trigger: `CREATE TABLE` with a column named `begin` opens nothing.
    check(
        "CREATE TABLE t (\"begin\" int, [end] int); SELECT 1",
        SQ,
        &[(1, "CREATE TABLE t (\"begin\" int, [end] int)"), (1, "SELECT 1")],
    );
}

#[test]
fn sqlite_errors() {
    let e = err("SELECT 1;\nSELECT [a;b", SQ);
    assert_eq!((e.kind, e.line, e.column), (SplitErrorKind::UnterminatedQuotedIdent, 2, 8));
    let e = err("SELECT 'it''s", SQ);
    assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
    let e = err("SELECT 1 /* x", SQ);
    assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedComment, 10));
    let e = err("CREATE TRIGGER t AFTER INSERT ON x\nBEGIN\n  SELECT CASE WHEN 1 THEN 2 END;\nSELECT 2;", SQ);
    assert_eq!((e.kind, e.line, e.column), (SplitErrorKind::UnterminatedBlock { keyword: "BEGIN".to_owned() }, 2, 1));
    // `DELIMITER` is a word, as in PostgreSQL.
    check("DELIMITER x", SQ, &[(1, "DELIMITER x")]);
}

// ----- errors ------------------------------------------------------------------------

#[test]
fn error_unterminated_string() {
    let e = err("SELECT 1;\n  SELECT 'abc;\nSELECT 2;", PG);
    assert_eq!(e.kind, SplitErrorKind::UnterminatedString);
    assert_eq!((e.offset, e.line, e.column), (19, 2, 10));
    assert_eq!(e.to_string(), "unterminated string literal starting at line 2, column 10: add the closing quote");
    let e = err(r"SELECT E'it\'s", PG);
    assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
    let e = err("SELECT \"dq\\\"", MY);
    assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
    let e = err(r"SELECT 'C:\'", MY);
    assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedString, 8));
    assert_eq!(tokenize("x 'a", PG).unwrap_err().kind, SplitErrorKind::UnterminatedString);
}

#[test]
fn error_unterminated_quoted_ident() {
    let e = err("SELECT \"a\"\"b", PG);
    assert_eq!(e.kind, SplitErrorKind::UnterminatedQuotedIdent);
    assert_eq!((e.line, e.column), (1, 8));
    let e = err("SELECT 1;\nSELECT `a``", MY);
    assert_eq!(e.kind, SplitErrorKind::UnterminatedQuotedIdent);
    assert_eq!((e.offset, e.line, e.column), (17, 2, 8));
    assert!(e.to_string().starts_with("unterminated quoted identifier"));
}

#[test]
fn error_unterminated_dollar_quote() {
    let e = err("SELECT 1;\n\nDO $body$ BEGIN\nEND $BODY$;", PG);
    assert_eq!(e.kind, SplitErrorKind::UnterminatedDollarQuote { tag: "body".to_owned() });
    assert_eq!((e.offset, e.line, e.column), (14, 3, 4));
    assert_eq!(e.to_string(), "unterminated dollar quote $body$ starting at line 3, column 4: add the closing $body$");
    let e = err("SELECT $$ x", PG);
    assert_eq!((e.kind, e.column), (SplitErrorKind::UnterminatedDollarQuote { tag: String::new() }, 8));
}

#[test]
fn error_unterminated_comment() {
    let e = err("SELECT 1;\n/* a /* b */ c", PG);
    assert_eq!(e.kind, SplitErrorKind::UnterminatedComment);
    assert_eq!((e.line, e.column), (2, 1));
    let e = err("SELECT 1 /* x", MY);
    assert_eq!((&e.kind, e.line, e.column), (&SplitErrorKind::UnterminatedComment, 1, 10));
    assert!(e.to_string().contains("add the closing */"));
}

#[test]
fn error_unterminated_block() {
    let e = err("CREATE FUNCTION f() RETURNS int LANGUAGE sql\n  BEGIN ATOMIC\n  SELECT 1;\nSELECT 2;", PG);
    assert_eq!(e.kind, SplitErrorKind::UnterminatedBlock { keyword: "BEGIN ATOMIC".to_owned() });
    assert_eq!((e.line, e.column), (2, 3));
    assert_eq!(
        e.to_string(),
        "unterminated BEGIN ATOMIC block starting at line 2, column 3: add the matching END (and close every block \
         opened inside it); if the block has its END, a name spelled like a keyword (`begin`, `end`, `case`) hides it: \
         quote that name"
    );
    // The CASE inside is closed, so the body itself is reported.
    let e = err("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END;", PG);
    assert_eq!(e.column, 46);

    let e = err("CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n", MY);
    assert_eq!(e.kind, SplitErrorKind::UnterminatedBlock { keyword: "BEGIN".to_owned() });
    assert_eq!((e.line, e.column), (2, 1));
    // A missing END IF: the END of the body closes the IF, so the body stays open.
    let e = err("CREATE PROCEDURE p() BEGIN\n  IF 1 THEN SELECT 1;\nEND;\nSELECT 2;", MY);
    assert_eq!((e.line, e.column), (1, 22));
    let e = err("CREATE PROCEDURE p() BEGIN\n  WHILE 1 DO SELECT 1;", MY);
    assert_eq!((e.kind, e.line, e.column), (SplitErrorKind::UnterminatedBlock { keyword: "WHILE".to_owned() }, 2, 3));
}

#[test]
fn error_delimiter_command() {
    let sql = "SELECT 1;\ndelimiter $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n";
    let e = err(sql, MY);
    assert_eq!(e.kind, SplitErrorKind::DelimiterCommand);
    assert_eq!((e.offset, e.line, e.column), (10, 2, 1));
    assert!(e.to_string().starts_with("mysql client command DELIMITER"));
    // Reported even when the rest of the script would not lex.
    let e = err("DELIMITER //\nSELECT 'x //\n", MY);
    assert_eq!(e.kind, SplitErrorKind::DelimiterCommand);
    // PostgreSQL has no such command; the word is just a word there.
    check("DELIMITER x", PG, &[(1, "DELIMITER x")]);
}

/// `CREATE TABLE a (id int);` then a NUL byte passed every check; SQLite then busy-looped
/// and PostgreSQL answered `invalid message format`.
#[test]
fn nul_bytes_are_refused_anywhere() {
    for dialect in [PG, MY, SQ] {
        let e = err("CREATE TABLE a (id int);\0", dialect);
        assert_eq!((e.kind.clone(), e.line, e.column), (SplitErrorKind::NulByte, 1, 25), "{dialect:?}");
        assert!(e.to_string().starts_with("NUL byte at line 1, column 25: no database accepts it"), "{e}");
        for hidden in ["SELECT 'a\0b';", "SELECT 1; -- a\0b", "SELECT 1 /* \0 */;", "SELECT \"a\0\";"] {
            let e = err(hidden, dialect);
            assert_eq!(e.kind, SplitErrorKind::NulByte, "{hidden:?} {dialect:?}");
            assert_eq!(e.offset, hidden.find('\0').unwrap(), "{hidden:?}");
        }
    }
    assert_eq!(err("SELECT $$a\0$$;", PG).kind, SplitErrorKind::NulByte);
    // UTF-16 text read as UTF-8: a NUL after every ASCII character.
    assert_eq!(err("S\0E\0L\0", SQ).column, 2);
}

#[test]
fn control_characters_are_refused_outside_literals() {
    for dialect in [PG, MY, SQ] {
        let e = err("SELECT 1;\nSELECT \u{1b}[31m 2;", dialect);
        assert_eq!((e.kind.clone(), e.line, e.column), (SplitErrorKind::ControlCharacter { code: 0x1b }, 2, 8));
        assert!(e.to_string().starts_with("control character U+001B at line 2, column 8"), "{e}");
        // Inside strings and comments they are data; tab, CR, LF, VT and FF are whitespace.
        check(
            "SELECT '\u{1}'; -- \u{7}\n\tSELECT\u{b}\u{c}1;",
            dialect,
            &[(1, "SELECT '\u{1}'"), (2, "SELECT\u{b}\u{c}1")],
        );
        assert_eq!(err("SELECT 1\u{7f};", dialect).kind, SplitErrorKind::ControlCharacter { code: 0x7f });
    }
}

#[test]
fn bidi_controls_are_refused_anywhere() {
    for dialect in [PG, MY, SQ] {
        for sql in ["SELECT 1; -- \u{202e} }", "SELECT '\u{2066}x';", "SELECT a\u{202a}b;"] {
            let e = err(sql, dialect);
            assert!(matches!(e.kind, SplitErrorKind::BidiControl { .. }), "{sql:?} {dialect:?}: {e}");
            assert!(e.to_string().contains("display in another order"), "{e}");
        }
    }
    // Right-to-left text itself is fine.
    check("SELECT 'שלום';", PG, &[(1, "SELECT 'שלום'")]);
}

/// `COPY … FROM STDIN` passed validation, then `up` hung; `COPY … TO STDOUT` made the runner
/// report a rollback although the statements committed.
#[test]
fn copy_through_the_client_is_refused() {
    let e = err("CREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n1\n2\n\\.\n", PG);
    assert_eq!((e.kind.clone(), e.line, e.column), (SplitErrorKind::DataStream { clause: "COPY … FROM STDIN" }, 2, 1));
    assert!(e.to_string().contains("`INSERT … SELECT`, a Rust-code migration, or a server-side file"), "{e}");
    let e = err("copy (SELECT 1) to STDOUT with (format csv);", PG);
    assert_eq!(e.kind, SplitErrorKind::DataStream { clause: "COPY … TO STDOUT" });
    // pg_dump's data block: the COPY is reported, not the quote in the data.
    let e = err("COPY t FROM stdin;\nit's\tdata\n\\.\n", PG);
    assert_eq!((e.kind.clone(), e.line), (SplitErrorKind::DataStream { clause: "COPY … FROM STDIN" }, 1));
    // Server-side files and programs are the server's business.
    check(
        "COPY t FROM '/data/t.csv';\nCOPY t TO '/tmp/x';",
        PG,
        &[(1, "COPY t FROM '/data/t.csv'"), (2, "COPY t TO '/tmp/x'")],
    );
    check("SELECT * FROM stdin;", PG, &[(1, "SELECT * FROM stdin")]);
    let e = err("LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t;", MY);
    assert_eq!(e.kind, SplitErrorKind::DataStream { clause: "LOAD DATA LOCAL INFILE" });
    assert_eq!(err("load data low_priority local infile 'x' into table t", MY).line, 1);
    check("LOAD DATA INFILE '/srv/x.csv' INTO TABLE t;", MY, &[(1, "LOAD DATA INFILE '/srv/x.csv' INTO TABLE t")]);
}

#[test]
fn client_commands_are_refused() {
    let psql = |sql: &str| match err(sql, PG).kind {
        SplitErrorKind::ClientCommand { client, command } => (client, command),
        other => panic!("{other:?}"),
    };
    assert_eq!(psql("\\connect other\nSELECT 1;"), ("psql", "\\connect other".to_owned()));
    assert_eq!(psql("SELECT 1;\n\\i other.sql\n"), ("psql", "\\i other.sql".to_owned()));
    assert_eq!(psql("\\set ON_ERROR_STOP on\n"), ("psql", "\\set ON_ERROR_STOP on".to_owned()));
    assert_eq!(psql("SELECT 1 \\gset\n"), ("psql", "\\gset".to_owned()));
    assert_eq!(psql("SELECT 1;\n\\.\n"), ("psql", "\\.".to_owned()));
    let e = err("SELECT 1;\n  \\connect db", PG);
    assert_eq!((e.line, e.column), (2, 3));
    assert!(e.to_string().starts_with("psql command `\\connect db` at line 2, column 3 is not SQL"), "{e}");
    // Inside strings a backslash is data.
    check(r"SELECT E'\\', 'C:\';", PG, &[(1, r"SELECT E'\\', 'C:\'")]);
    assert!(matches!(err("\\. \nSELECT 1;", MY).kind, SplitErrorKind::ClientCommand { client: "mysql", .. }));
    // MySQL's \N (NULL) inside a statement is SQL.
    check("SELECT \\N;", MY, &[(1, "SELECT \\N")]);
    assert!(matches!(err(".read other.sql\n", SQ).kind, SplitErrorKind::ClientCommand { client: "sqlite3", .. }));
    assert!(matches!(err("SELECT 1;\n.mode csv\n", SQ).kind, SplitErrorKind::ClientCommand { client: "sqlite3", .. }));
    assert!(matches!(err("\\connect x\n", SQ).kind, SplitErrorKind::ClientCommand { client: "psql or mysql", .. }));
    assert!(matches!(err("source other.sql\n", MY).kind, SplitErrorKind::ClientCommand { client: "mysql", .. }));
}

#[test]
fn errors_are_std_errors() {
    let e: Box<dyn std::error::Error> = Box::new(err("'", PG));
    assert!(e.to_string().contains("line 1, column 1"));
}

// ----- property tests ----------------------------------------------------------------

/// Arbitrary text biased toward the characters and words the lexer and the block
/// rules care about: raw quote/comment/dollar characters (mostly unbalanced),
/// balanced snippets (so that many inputs lex and split), keywords and phrases.
fn chaos() -> impl Strategy<Value = String> {
    let symbols = prop::sample::select(vec![
        "'", "\"", "`", "$", ";", "(", ")", "-", "#", "/", "*", "\\", "\n", "\r", ":", ".", "@", "=", ",", "E", "e",
        "U&", "N", "X", "$$", "$a$", "$1", "--", "/*", "*/", "/*!", "1", "0", "é", "日本", "😀", "\t", "\u{feff}",
        "\r\n", "[", "]", "\0", "\u{1b}", "\u{7f}", "\u{202e}", "\u{a0}", "\u{2028}",
    ]);
    let snippets = prop::sample::select(vec![
        "'a;b'",
        "'it''s'",
        "'\\';'",
        "E'\\';'",
        "\"q;\"",
        "`b;`",
        "$$ ; $$",
        "$t$;$$$t$",
        "/* ; */",
        "/* /* ; */ */",
        "-- ;\n",
        "# ;\n",
        "/*!1 ; */",
        "[a;b]",
        "( ; )",
        ";",
        " ; ",
    ]);
    let words = prop::sample::select(vec![
        "BEGIN",
        "ATOMIC",
        "END",
        "CASE",
        "IF",
        "CREATE",
        "ALTER",
        "PROCEDURE",
        "FUNCTION",
        "TRIGGER",
        "EVENT",
        "LOOP",
        "WHILE",
        "REPEAT",
        "FOR",
        "THEN",
        "ELSE",
        "DO",
        "EACH",
        "ROW",
        "HANDLER",
        "NOT",
        "DEFINER",
        "DELIMITER",
        "SELECT",
        "AS",
        "x",
        "lbl",
        "begin",
        "TEMP",
        "TEMPORARY",
        "COPY",
        "FROM",
        "STDIN",
        "TO",
        "STDOUT",
        "SET",
        "end",
        "source",
        "LOAD DATA LOCAL",
    ]);
    let phrases = prop::sample::select(vec![
        "CREATE PROCEDURE p() ",
        "CREATE FUNCTION f() RETURNS int ",
        "CREATE DEFINER = 'u'@'h' TRIGGER t BEFORE INSERT ON x FOR EACH ROW ",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO ",
        "BEGIN ATOMIC ",
        "BEGIN NOT ATOMIC ",
        "END IF",
        "END LOOP",
        "lbl: ",
        "DECLARE EXIT HANDLER FOR SQLEXCEPTION ",
        "IF(a, b, c)",
        "SELECT t.end AS end",
        "CREATE TEMP TRIGGER t AFTER INSERT ON x ",
        "CASE WHEN a THEN 1 END",
        "\\connect db\n",
        ".read x\n",
        "UPDATE t SET end = 1",
        "COPY t FROM stdin",
    ]);
    let piece = prop_oneof![
        4 => symbols.prop_map(String::from),
        3 => snippets.prop_map(String::from),
        5 => words.prop_map(String::from),
        2 => phrases.prop_map(String::from),
        4 => Just(" ".to_owned()),
        1 => any::<char>().prop_map(String::from),
    ];
    prop_oneof![
        6 => prop::collection::vec(piece, 0..64).prop_map(|v| v.concat()),
        1 => any::<String>(),
    ]
}

fn check_invariants(sql: &str, dialect: Dialect) -> Result<(), TestCaseError> {
    let tokens = tokenize(sql, dialect);
    if let Ok(tokens) = &tokens {
        let mut pos = 0;
        for t in tokens {
            prop_assert_eq!(t.range.start, pos);
            prop_assert!(t.range.end > t.range.start);
            prop_assert!(sql.is_char_boundary(t.range.start));
            prop_assert!(sql.is_char_boundary(t.range.end));
            pos = t.range.end;
        }
        prop_assert_eq!(pos, sql.len());
    }
    let result = split(sql, dialect);
    if let Err(e) = &result {
        prop_assert!(e.offset <= sql.len());
        prop_assert_eq!((e.line, e.column), naive_line_col(sql, e.offset));
        prop_assert!(!e.to_string().is_empty());
    }
    let Ok(statements) = result else {
        return Ok(());
    };
    let Ok(tokens) = tokens else {
        return Err(TestCaseError::fail("split succeeded but tokenize failed"));
    };

    let mut segment_pos = 0;
    let mut rebuilt = String::new();
    for s in &statements {
        prop_assert_eq!(s.segment.start, segment_pos);
        prop_assert!(s.segment.start <= s.range.start);
        prop_assert!(s.range.start < s.range.end);
        prop_assert!(s.range.end <= s.segment.end);
        prop_assert!(s.segment.end == s.range.end || sql[..s.segment.end].ends_with(';'));
        prop_assert_eq!((s.line, s.column), naive_line_col(sql, s.range.start));
        rebuilt.push_str(&sql[segment_pos..s.range.start]);
        rebuilt.push_str(&sql[s.range.clone()]);
        rebuilt.push_str(&sql[s.range.end..s.segment.end]);
        segment_pos = s.segment.end;
    }
    rebuilt.push_str(&sql[segment_pos..]);
    prop_assert_eq!(&rebuilt, sql);

    // Tokens lie entirely inside or outside statements; outside ones are trivia or `;`.
    let mut next = statements.iter().peekable();
    for t in &tokens {
        while next.peek().is_some_and(|s| s.range.end <= t.range.start) {
            next.next();
        }
        let inside = next.peek().is_some_and(|s| s.range.start <= t.range.start && t.range.end <= s.range.end);
        let overlaps = next.peek().is_some_and(|s| s.range.start < t.range.end && t.range.start < s.range.end);
        prop_assert_eq!(inside, overlaps, "token {:?} straddles a statement", t);
        if !inside {
            prop_assert!(t.kind.is_trivia() || t.kind == TokenKind::Semicolon, "token {:?} outside statements", t);
        }
    }

    let remainder = &sql[segment_pos..];
    prop_assert_eq!(split(remainder, dialect), Ok(Vec::new()));
    Ok(())
}

fn well_formed(dialect: Dialect) -> impl Strategy<Value = (String, Vec<String>)> {
    let (pieces, whole, trivia): (Vec<&str>, Vec<&str>, Vec<&str>) = match dialect {
        Dialect::Postgres => (
            vec![
                "SELECT",
                "x",
                "a$b",
                "$1",
                "42",
                "3.14",
                "é",
                "日本",
                "+",
                "'a;b'",
                "'it''s'",
                r"E'it\'s; x'",
                r"'C:\'",
                "$$a;b$$",
                "$tag$ x; $$ y $tag$",
                "\"we;ird\"",
                "U&'x;y'",
                "( a ; b )",
                "(1, 2)",
                "t.end",
            ],
            vec![
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN x THEN 1 END; END",
                "DO $$ BEGIN COMMIT; END $$",
                "BEGIN",
                "COMMIT",
                "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); NOTIFY b)",
            ],
            vec![" ", "\n", "\r\n", "\t", " /* ; */ ", " -- ;\n", " /* a /* ; */ b */ "],
        ),
        Dialect::Sqlite => (
            vec![
                "SELECT",
                "x",
                "a$b",
                "$x",
                "?1",
                "42",
                "é",
                "+",
                "'a;b'",
                "'it''s'",
                r"'C:\'",
                "X'0A'",
                "\"we;ird\"",
                "`b;`",
                "[c;d]",
                "( a ; b )",
                "t.end",
                "NEW.begin",
                "CASE WHEN a THEN 'x;' END",
                "SET end = 1",
                "x, end",
            ],
            vec![
                "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW BEGIN INSERT INTO y VALUES (NEW.a); SELECT CASE WHEN 1 THEN 2 END; END",
                "CREATE TEMP TRIGGER IF NOT EXISTS t BEFORE DELETE ON x WHEN OLD.a > 0 BEGIN SELECT RAISE(ABORT, 'no;'); END",
                "CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE y SET end = 1, begin = 2 WHERE end > 0; END",
                "BEGIN IMMEDIATE",
                "END TRANSACTION",
                "COMMIT",
            ],
            vec![" ", "\n", "\r\n", "\t", " /* ; */ ", " -- ;\n", " /* /* ; */ "],
        ),
        _ => (
            vec![
                "SELECT",
                "x",
                "a$b",
                "42",
                "é",
                "😀",
                "+",
                r"'it\'s; fine'",
                r#""dq;\"x""#,
                r"'C:\\'",
                "`a;b`",
                "`c``;`",
                "( a ; b )",
                "1--1",
                "/*!40101 SET x=1 */",
                "IF(a, b, c)",
                "REPEAT('x', 2)",
                "@begin",
            ],
            vec![
                "CREATE PROCEDURE p() BEGIN DECLARE i INT DEFAULT 0; lbl: LOOP SET i = i + 1; IF i > 3 THEN LEAVE lbl; END IF; END LOOP lbl; END",
                "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = IF(NEW.b, 1, 2); END",
                "CREATE FUNCTION f() RETURNS INT BEGIN WHILE 1 DO SET @a = 1; END WHILE; RETURN 1; END",
                "CREATE PROCEDURE p() BEGIN UPDATE t SET end = 1; SELECT begin, end FROM t ORDER BY end; END",
                "BEGIN",
                "COMMIT",
            ],
            vec![" ", "\n", "\r\n", "\t", " /* ; */ ", " -- ;\n", " # ;\n"],
        ),
    };
    let piece = prop::sample::select(pieces).prop_map(String::from);
    let trivia = prop::sample::select(trivia).prop_map(String::from);
    let composed = (piece.clone(), prop::collection::vec((trivia.clone(), piece), 0..6)).prop_map(|(first, rest)| {
        let mut s = first;
        for (t, p) in rest {
            s.push_str(&t);
            s.push_str(&p);
        }
        s
    });
    let statement = prop_oneof![
        3 => composed,
        1 => prop::sample::select(whole).prop_map(String::from),
    ];
    let separator = prop::sample::select(vec![";", ";\n", "; -- c\n", ";;\n", "; /* x */ ;", ";\r\n", " ;"]);
    (
        prop::option::of(trivia.clone()),
        prop::collection::vec((statement, separator), 0..6),
        any::<bool>(),
        prop::option::of(trivia),
    )
        .prop_map(|(lead, items, drop_last, tail)| {
            let mut sql = lead.unwrap_or_default();
            let count = items.len();
            let mut statements = Vec::new();
            for (k, (statement, separator)) in items.into_iter().enumerate() {
                sql.push_str(&statement);
                if !(drop_last && k + 1 == count) {
                    sql.push_str(separator);
                }
                statements.push(statement);
            }
            sql.push_str(&tail.unwrap_or_default());
            (sql, statements)
        })
}

fn check_well_formed(sql: &str, expected: &[String], dialect: Dialect) -> Result<(), TestCaseError> {
    let statements = split(sql, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let got: Vec<&str> = statements.iter().map(|s| &sql[s.range.clone()]).collect();
    prop_assert_eq!(&got, &expected);
    for text in got {
        let again = split(text, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.len(), 1);
        prop_assert_eq!(again[0].range.clone(), 0..text.len());
        prop_assert_eq!(again[0].segment.clone(), 0..text.len());
    }
    check_invariants(sql, dialect)
}

/// Runs a property over 2000 generated cases (no `proptest!` macro, so that the file
/// holds no inner attributes) and reports the minimal failing input.
fn run_property<S: Strategy>(strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let config = ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, property) {
        panic!("{e}");
    }
}

#[test]
fn prop_postgres_invariants() {
    run_property(chaos(), |sql| check_invariants(&sql, PG));
}

#[test]
fn prop_mysql_invariants() {
    run_property(chaos(), |sql| check_invariants(&sql, MY));
}

#[test]
fn prop_postgres_well_formed() {
    run_property(well_formed(PG), |(sql, expected)| check_well_formed(&sql, &expected, PG));
}

#[test]
fn prop_mysql_well_formed() {
    run_property(well_formed(MY), |(sql, expected)| check_well_formed(&sql, &expected, MY));
}

#[test]
fn prop_sqlite_invariants() {
    run_property(chaos(), |sql| check_invariants(&sql, SQ));
}

#[test]
fn prop_sqlite_well_formed() {
    run_property(well_formed(SQ), |(sql, expected)| check_well_formed(&sql, &expected, SQ));
}
