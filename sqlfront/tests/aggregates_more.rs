//! `bool_and`/`bool_or`/`every`, the variance family, `string_agg` and
//! `array_agg`: result types and names as PostgreSQL's `\gdesc` shows
//! them, the plans (EXPLAIN text: an ordered aggregate's argument record
//! shown as its arguments, `ORDER BY` and `FILTER`), and the errors.

mod common;

use common::{describe, error, query};
use freshet_engine::plan::optimize::optimize;
use freshet_sql::Position;

fn explain(sql: &str) -> String {
    optimize(query(sql).plan).to_string()
}

fn check_error(sql: &str, message: &str, column: u64) {
    let e = error(sql);
    assert_eq!(e.to_string(), message, "{sql}");
    assert_eq!(e.position(), Some(Position { line: 1, column }), "{sql}");
}

#[test]
fn result_types_are_postgresqls() {
    assert_eq!(
        describe("SELECT bool_and(m), bool_or(m), every(m), variance(a), var_pop(b), stddev(c), stddev_pop(l), var_samp(k) FROM t"),
        [
            "bool_and|boolean",
            "bool_or|boolean",
            "every|boolean",
            "variance|numeric",
            "var_pop|numeric",
            "stddev|numeric",
            "stddev_pop|double precision",
            "var_samp|numeric",
        ]
    );
    assert_eq!(
        describe("SELECT string_agg(d, ','), string_agg(e, f), array_agg(a), array_agg(c), array_agg(e), array_agg(f), array_agg(h) FROM t"),
        [
            "string_agg|text",
            "string_agg|text",
            "array_agg|integer[]",
            "array_agg|numeric[]",
            "array_agg|character varying[]",
            "array_agg|character[]",
            "array_agg|timestamp without time zone[]",
        ]
    );
    // An untyped literal: float8 for the variance family, boolean, text.
    assert_eq!(
        describe("SELECT variance('1'), bool_or('t'), string_agg('a', 'b')"),
        ["variance|double precision", "bool_or|boolean", "string_agg|text"]
    );
}

#[test]
fn plans_show_the_aggregates() {
    assert_eq!(
        explain("SELECT a, bool_and(m), stddev(l) FILTER (WHERE id > 1) FROM t GROUP BY a"),
        "Reduce key=[#1] aggs=[bool_and(#13), stddev_samp(CASE WHEN (#0 > 1) THEN #12 ELSE NULL END)] \
         classes=[accumulable]\n  Get t"
    );
    assert_eq!(
        explain("SELECT string_agg(d, ', ' ORDER BY a DESC, id NULLS FIRST) FILTER (WHERE m) FROM t"),
        "Reduce key=[] aggs=[string_agg(#4, ', ' ORDER BY #1 DESC, #0 NULLS FIRST) FILTER (WHERE #13)] \
         classes=[basic]\n  Get t"
    );
    assert_eq!(
        explain("SELECT array_agg(DISTINCT f ORDER BY f DESC), array_agg(a) FROM t"),
        "Reduce key=[] aggs=[array_agg(DISTINCT #6 ORDER BY char_to_text(#6) DESC), array_agg(#1)] \
         classes=[basic]\n  Get t"
    );
    // ORDER BY changes nothing for the other aggregates.
    assert_eq!(explain("SELECT sum(a ORDER BY d) FROM t"), explain("SELECT sum(a) FROM t"));
}

#[test]
fn errors_are_postgresqls() {
    check_error("SELECT string_agg(a, ',') FROM t", "function string_agg(integer, unknown) does not exist", 8);
    check_error("SELECT string_agg(d) FROM t", "function string_agg(text) does not exist", 8);
    check_error("SELECT string_agg(y, ',') FROM t", "column \"y\" does not exist", 19);
    check_error(
        "SELECT string_agg(d, e, 'x') FROM t",
        "function string_agg(text, character varying, unknown) does not exist",
        8,
    );
    check_error("SELECT bool_and(a) FROM t", "function bool_and(integer) does not exist", 8);
    check_error("SELECT variance(d) FROM t", "function variance(text) does not exist", 8);
    check_error("SELECT stddev(j) FROM t", "function stddev(interval) does not exist", 8);
    check_error("SELECT variance(f) FROM t", "function variance(character) does not exist", 8);
    check_error("SELECT bool_or(c) FROM t", "function bool_or(numeric) does not exist", 8);
    check_error("SELECT sum(e) FROM t", "function sum(character varying) does not exist", 8);
    check_error("SELECT array_agg(NULL) FROM t", "function array_agg(unknown) is not unique", 8);
    check_error(
        "SELECT string_agg(DISTINCT d, ',' ORDER BY a) FROM t",
        "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list",
        44,
    );
    check_error(
        "SELECT string_agg(DISTINCT d, ',' ORDER BY ',') FROM t",
        "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list",
        44,
    );
    check_error("SELECT upper(d ORDER BY d) FROM t", "ORDER BY specified, but upper is not an aggregate function", 8);
    check_error("SELECT array_agg(array_agg(a)) FROM t", "aggregate function calls cannot be nested", 18);
    check_error("SELECT id FROM t WHERE bool_or(m)", "aggregate functions are not allowed in WHERE", 24);
}
