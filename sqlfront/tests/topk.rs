//! Top-k planning: a view's `ORDER BY … LIMIT/OFFSET` becomes a `TopK`
//! over the whole result (hidden sort columns dropped after it), a view's
//! ORDER BY alone is dropped, `DISTINCT ON` becomes a `TopK` of one row per
//! group (SQL-equal keys normalised), and PostgreSQL's DISTINCT ON errors.
//! Plans are asserted as their optimised EXPLAIN text.

mod common;

use common::{error, plan_one, query};
use freshet_engine::plan::optimize::optimize;
use freshet_engine::plan::Plan;
use freshet_sql::{ErrorKind, Position, SortKey, Statement};

/// The planned query of `CREATE MATERIALIZED VIEW v AS <select>`.
fn view(select: &str) -> freshet_sql::Query {
    match plan_one(&format!("CREATE MATERIALIZED VIEW v AS {select}")) {
        Ok(Statement::CreateView { query, .. }) => query,
        other => panic!("{select}: expected a view, got {other:?}"),
    }
}

fn explain(plan: &Plan) -> String {
    optimize(plan.clone()).to_string()
}

fn check_error(sql: &str, message: &str, column: u64) {
    let e = error(sql);
    assert_eq!(e.to_string(), message, "{sql}");
    assert_eq!(e.position(), Some(Position { line: 1, column }), "{sql}");
}

#[test]
fn view_limit_is_a_top_k_over_the_whole_result() {
    let q = view("SELECT id, d FROM t ORDER BY a DESC, id NULLS FIRST LIMIT 3 OFFSET 1");
    assert_eq!(
        (q.order_by.len(), q.hidden, q.limit, q.offset),
        (0, 0, None, None)
    );
    assert_eq!(q.columns.len(), 2);
    assert_eq!(
        explain(&q.plan),
        "Map (#0, #1)\n  TopK order=[#2 DESC, #0 NULLS FIRST] limit=3 offset=1\n    Map (#0, #4, #1)\n      Get t"
    );
    // The sort keys in the select list: no hidden column, nothing to drop.
    let q = view("SELECT a, count(*) AS n FROM t GROUP BY a ORDER BY n DESC, a LIMIT 2");
    assert_eq!(
        explain(&q.plan),
        "TopK order=[#1 DESC, #0] limit=2\n  Reduce key=[#1] aggs=[count(*)] classes=[accumulable]\n    Get t"
    );
    // OFFSET alone, LIMIT 0, LIMIT without ORDER BY.
    assert_eq!(
        explain(&view("SELECT a FROM t ORDER BY a OFFSET 2").plan),
        "TopK order=[#0] offset=2\n  Map (#1)\n    Get t"
    );
    assert_eq!(
        explain(&view("SELECT a FROM t LIMIT 0").plan),
        "TopK limit=0\n  Map (#1)\n    Get t"
    );
    assert_eq!(
        explain(&view("SELECT a FROM t LIMIT 1").plan),
        "TopK limit=1\n  Map (#1)\n    Get t"
    );
}

#[test]
fn view_order_without_limit_is_dropped() {
    for sql in [
        "SELECT a FROM t ORDER BY b",
        "SELECT a FROM t ORDER BY b LIMIT ALL",
        "SELECT a FROM t ORDER BY b LIMIT NULL OFFSET 0",
    ] {
        let q = view(sql);
        assert_eq!((q.order_by.len(), q.hidden), (0, 0), "{sql}");
        assert_eq!(explain(&q.plan), "Map (#1)\n  Get t", "{sql}");
    }
}

#[test]
fn one_shot_limit_stays_on_the_output() {
    let q = query("SELECT a FROM t ORDER BY b LIMIT 2");
    assert_eq!((q.limit, q.hidden), (Some(2), 1));
    assert_eq!(explain(&q.plan), "Map (#1, #2)\n  Get t");
}

#[test]
fn distinct_on_is_a_top_1_per_group() {
    let q = query("SELECT DISTINCT ON (a) a, d FROM t ORDER BY a, b DESC, id");
    // The output is sorted by the whole ORDER BY; `b` is a hidden column.
    assert_eq!(
        q.order_by,
        [
            SortKey {
                column: 0,
                descending: false,
                nulls_first: false
            },
            SortKey {
                column: 2,
                descending: true,
                nulls_first: true
            },
            SortKey {
                column: 3,
                descending: false,
                nulls_first: false
            },
        ]
    );
    assert_eq!(q.hidden, 2);
    assert_eq!(
        explain(&q.plan),
        "TopK group=[#0] order=[#2 DESC, #3] limit=1\n  Map (#1, #4, #2, #0)\n    Get t"
    );
    // Without ORDER BY the DISTINCT ON keys order the output.
    let q = query("SELECT DISTINCT ON (d, a) id FROM t");
    assert_eq!(
        q.order_by,
        [
            SortKey {
                column: 1,
                descending: false,
                nulls_first: false
            },
            SortKey {
                column: 2,
                descending: false,
                nulls_first: false
            },
        ]
    );
    assert_eq!(
        explain(&q.plan),
        "TopK group=[#1, #2] limit=1\n  Map (#0, #4, #1)\n    Get t"
    );
    // Positions and output names; keys whose SQL-equal values print
    // differently group by their normalised value.
    let q = query("SELECT DISTINCT ON (2, x) id, l, j AS x FROM t ORDER BY x, 2, id DESC");
    assert_eq!(
        explain(&q.plan),
        "TopK group=[key_normalize(#1), key_normalize(#2)] order=[#0 DESC] limit=1\n  Map (#0, #12, #10)\n    Get t"
    );
}

#[test]
fn distinct_on_in_a_view_with_a_limit_is_two_top_ks() {
    let q = view("SELECT DISTINCT ON (a) d FROM t ORDER BY a DESC, id LIMIT 2");
    assert_eq!((q.order_by.len(), q.hidden, q.columns.len()), (0, 0, 1));
    assert_eq!(
        explain(&q.plan),
        "Map (#0)\n  TopK order=[#1 DESC, #2] limit=2\n    TopK group=[#1] order=[#2] limit=1\n      Map (#4, #1, #0)\n        Get t"
    );
    // Without a limit: one TopK, hidden columns dropped.
    let q = view("SELECT DISTINCT ON (a) d FROM t ORDER BY a, id");
    assert_eq!(
        explain(&q.plan),
        "Map (#0)\n  TopK group=[#1] order=[#2] limit=1\n    Map (#4, #1, #0)\n      Get t"
    );
}

#[test]
fn distinct_on_after_grouping() {
    let q =
        query("SELECT DISTINCT ON (a) a, count(*) FROM t GROUP BY a, b ORDER BY a, count(*) DESC");
    assert_eq!(
        explain(&q.plan),
        "TopK group=[#0] order=[#1 DESC] limit=1\n  Map (#0, #2)\n    Reduce key=[#1, #2] aggs=[count(*)] classes=[accumulable]\n      Get t"
    );
    let e = error("SELECT DISTINCT ON (b) a FROM t GROUP BY a");
    assert_eq!(e.kind(), Some(ErrorKind::Grouping));
}

#[test]
fn distinct_on_errors_are_postgresqls() {
    let mismatch = "SELECT DISTINCT ON expressions must match initial ORDER BY expressions";
    // An ORDER BY key outside DISTINCT ON before one inside, or a DISTINCT
    // ON expression missing after one: the error points at the DISTINCT ON
    // expression.
    check_error(
        "SELECT DISTINCT ON (a) a, b FROM t ORDER BY b",
        mismatch,
        21,
    );
    check_error(
        "SELECT DISTINCT ON (a, b) a, b FROM t ORDER BY b, id",
        mismatch,
        21,
    );
    check_error(
        "SELECT DISTINCT ON (a) a, b FROM t ORDER BY id, a",
        mismatch,
        21,
    );
    check_error(
        "CREATE MATERIALIZED VIEW v AS SELECT DISTINCT ON (a) a FROM t ORDER BY b, a",
        mismatch,
        51,
    );
    check_error(
        "SELECT DISTINCT ON (3) a, b FROM t",
        "DISTINCT ON position 3 is not in select list",
        21,
    );
    check_error(
        "SELECT DISTINCT ON (x) a AS x, b AS x FROM t",
        "DISTINCT ON \"x\" is ambiguous",
        21,
    );
    check_error(
        "SELECT DISTINCT ON (zz) a FROM t",
        "column \"zz\" does not exist",
        21,
    );
    // Accepted: DISTINCT ON keys in any order first, a repeated key.
    plan_one("SELECT DISTINCT ON (a, b) a FROM t ORDER BY b, a DESC, id").expect("plans");
    plan_one("SELECT DISTINCT ON (a) a FROM t ORDER BY a, id, a DESC").expect("plans");
}
