//! Error messages (worded as PostgreSQL words them), positions and hints.

mod common;

use common::error;
use freshet_sql::{ErrorKind, Position};

fn check(sql: &str, message: &str, line: u64, column: u64) {
    let e = error(sql);
    assert_eq!(e.to_string(), message, "{sql}");
    assert_eq!(e.position(), Some(Position { line, column }), "{sql}: {message}");
    assert!(e.is_user_error());
}

#[test]
fn syntax_errors() {
    check("SELECT a FROM t WHERE a = = 1", "syntax error at or near \"=\"", 1, 27);
    check("SELEC a FROM t", "syntax error at or near \"SELEC\"", 1, 1);
    check("SELECT a FROM", "syntax error at end of input", 1, 14);
    check("SELECT 'abc", "unterminated quoted string", 1, 8);
    assert_eq!(error("SELEC a FROM t").kind(), Some(ErrorKind::Syntax));
}

#[test]
fn name_resolution_errors() {
    check("SELECT 1 FROM nope", "relation \"nope\" does not exist", 1, 15);
    check("SELECT zz FROM t", "column \"zz\" does not exist", 1, 8);
    check("SELECT a FROM t WHERE\n  a = 1 AND zz = 2", "column \"zz\" does not exist", 2, 13);
    check("SELECT t.zz FROM t", "column t.zz does not exist", 1, 8);
    check("SELECT x.a FROM t", "missing FROM-clause entry for table \"x\"", 1, 8);
    check("SELECT id FROM t, u", "column reference \"id\" is ambiguous", 1, 8);
    check("SELECT 1 FROM t t1, t t1", "table name \"t1\" specified more than once", 1, 21);
    check("SELECT a FROM t ORDER BY 5", "ORDER BY position 5 is not in select list", 1, 26);
    check("SELECT a FROM t GROUP BY 3", "GROUP BY position 3 is not in select list", 1, 26);
    check("SELECT a AS x, b AS x FROM t ORDER BY x", "ORDER BY \"x\" is ambiguous", 1, 39);
    let e = error("SELECT 1 FROM t, u JOIN t w ON w.id = t.id");
    assert_eq!(e.to_string(), "invalid reference to FROM-clause entry for table \"t\"");
    assert_eq!(
        e.hint(),
        Some("There is an entry for table \"t\", but it cannot be referenced from this part of the query.")
    );
    check(
        "SELECT 1 FROM t JOIN u USING (nope)",
        "column \"nope\" specified in USING clause does not exist in left table",
        1,
        31,
    );
}

#[test]
fn type_errors_with_hints() {
    let e = error("SELECT 1 + 'a'::text");
    assert_eq!(e.to_string(), "operator does not exist: integer + text");
    assert_eq!(
        e.hint(),
        Some("No operator matches the given name and argument types. You might need to add explicit type casts.")
    );
    assert_eq!(e.kind(), Some(ErrorKind::UndefinedFunction));
    assert_eq!(error("SELECT g + 1::int8 FROM t").to_string(), "operator does not exist: date + bigint");
    assert_eq!(error("SELECT '1' + '2'").to_string(), "operator is not unique: unknown + unknown");
    assert_eq!(error("SELECT -m FROM t").to_string(), "operator does not exist: - boolean");
    assert_eq!(error("SELECT 1 || 2").to_string(), "operator does not exist: integer || integer");
    assert_eq!(error("SELECT sum(d) FROM t").to_string(), "function sum(text) does not exist");
    assert_eq!(error("SELECT max(m) FROM t").to_string(), "function max(boolean) does not exist");
    check("SELECT a FROM t WHERE a", "argument of WHERE must be type boolean, not type integer", 1, 23);
    check("SELECT CASE WHEN true THEN 1 ELSE 'a'::text END", "CASE types text and integer cannot be matched", 1, 28);
    check("SELECT coalesce(1, 'a'::text)", "COALESCE types integer and text cannot be matched", 1, 20);
    assert_eq!(error("SELECT cast(1 AS date)").to_string(), "cannot cast type integer to date");
    assert_eq!(error("SELECT NOT 1").to_string(), "argument of NOT must be type boolean, not type integer");
}

#[test]
fn grouping_errors() {
    check("SELECT a FROM t WHERE sum(a) > 1", "aggregate functions are not allowed in WHERE", 1, 23);
    check("SELECT sum(sum(a)) FROM t", "aggregate function calls cannot be nested", 1, 12);
    check("SELECT a FROM t GROUP BY sum(a)", "aggregate functions are not allowed in GROUP BY", 1, 26);
    check(
        "SELECT u.x FROM t JOIN u ON t.id = u.t_id GROUP BY t.id",
        "column \"u.x\" must appear in the GROUP BY clause or be used in an aggregate function",
        1,
        8,
    );
    check(
        "SELECT max(c), max(e), c+1 FROM t",
        "column \"t.c\" must appear in the GROUP BY clause or be used in an aggregate function",
        1,
        24,
    );
    check(
        "SELECT a FROM t HAVING a > 1",
        "column \"t.a\" must appear in the GROUP BY clause or be used in an aggregate function",
        1,
        8,
    );
    check(
        "SELECT a FROM t GROUP BY a+1",
        "column \"t.a\" must appear in the GROUP BY clause or be used in an aggregate function",
        1,
        8,
    );
    check(
        "SELECT DISTINCT a FROM t ORDER BY b",
        "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
        1,
        35,
    );
    assert_eq!(error("SELECT a FROM t GROUP BY b").kind(), Some(ErrorKind::Grouping));
}

#[test]
fn unsupported_constructs_are_named() {
    check("SELECT row_number() OVER () FROM t", "not supported: window functions", 1, 8);
    check("SELECT * FROM t, LATERAL generate_series(1, 2) g", "not supported: LATERAL table function generate_series", 1, 26);
    check("WITH RECURSIVE x AS (SELECT 1) SELECT * FROM x", "WITH RECURSIVE is not supported", 1, 1);
    check(
        "SELECT * FROM t LEFT JOIN u ON u.id IN (SELECT t.id)",
        "not supported: a subquery in an outer join's ON condition reading columns of both its sides",
        1,
        32,
    );
    check("SELECT a FROM t GROUP BY (SELECT 1)", "not supported: subqueries in GROUP BY", 1, 27);
    check("SELECT * FROM (SELECT 1)", "subquery in FROM must have an alias", 1, 16);
    check("SELECT regexp_split_to_array(d, 'a') FROM t", "not supported: function regexp_split_to_array(text, unknown)", 1, 8);
    check("SELECT now() FROM t", "not supported: now (its value changes over time without any change to the data, so a view could not be maintained)", 1, 8);
    check("CREATE TABLE z (r real)", "not supported: type real", 1, 17);
    assert_eq!(error("VALUES (1)").to_string(), "not supported: VALUES lists");
    assert_eq!(error("WITH RECURSIVE x AS (SELECT 1) SELECT * FROM x").kind(), Some(ErrorKind::Unsupported));
    assert_eq!(error("CREATE VIEW v AS SELECT 1").to_string(), "not supported: views (use CREATE MATERIALIZED VIEW)");
    assert_eq!(error("SELECT a FROM t WHERE d SIMILAR TO 'x'").kind(), Some(ErrorKind::Unsupported));
}

#[test]
fn ddl_and_dml_errors() {
    check("CREATE TABLE t (x int)", "relation \"t\" already exists", 1, 14);
    assert_eq!(error("CREATE TABLE z (x int, x int)").to_string(), "column \"x\" specified more than once");
    assert_eq!(
        error("CREATE TABLE z (x int PRIMARY KEY, y int, PRIMARY KEY (y))").to_string(),
        "multiple primary keys for table \"z\" are not allowed"
    );
    assert_eq!(
        error("CREATE MATERIALIZED VIEW v AS SELECT a, a FROM t").to_string(),
        "column \"a\" specified more than once"
    );
    assert_eq!(error("CREATE MATERIALIZED VIEW mv AS SELECT 1").to_string(), "relation \"mv\" already exists");
    check("INSERT INTO t (id) VALUES (1, 2)", "INSERT has more expressions than target columns", 1, 31);
    check("INSERT INTO t (id, a) VALUES (1)", "INSERT has more target columns than expressions", 1, 20);
    check("INSERT INTO t (zz) VALUES (1)", "column \"zz\" of relation \"t\" does not exist", 1, 16);
    let e = error("INSERT INTO t (id, m) VALUES (1, 1)");
    assert_eq!(e.to_string(), "column \"m\" is of type boolean but expression is of type integer");
    assert_eq!(e.hint(), Some("You will need to rewrite or cast the expression."));
    assert_eq!(error("INSERT INTO mv VALUES (1, 2)").to_string(), "cannot change materialized view \"mv\"");
    assert_eq!(error("UPDATE t SET a = 1, a = 2").to_string(), "multiple assignments to same column \"a\"");
    assert_eq!(error("UPDATE t SET a = sum(a)").to_string(), "aggregate functions are not allowed in UPDATE");
    assert_eq!(error("DELETE FROM t WHERE zz").to_string(), "column \"zz\" does not exist");
    assert_eq!(error("DROP TABLE nope").to_string(), "table \"nope\" does not exist");
    assert_eq!(error("DROP TABLE mv").to_string(), "\"mv\" is not a table");
    assert_eq!(error("DROP MATERIALIZED VIEW nope").to_string(), "materialized view \"nope\" does not exist");
}
