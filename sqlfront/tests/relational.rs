//! FROM-clause and query-structure planning: right and full joins (plan
//! shapes, merged USING columns, nullability), joins in parentheses,
//! derived tables and WITH queries (names, copies of their plans), and set
//! operations (PostgreSQL's result names and types, lowering).

mod common;

use common::{describe, error, expr, query, show_plan};
use freshet_sql::SortKey;

fn check(sql: &str, expected: &str) {
    let q = query(sql);
    assert_eq!(show_plan(&q.plan), expected, "{sql}");
}

fn nullable(sql: &str) -> Vec<bool> {
    query(sql).columns.iter().map(|c| c.nullable).collect()
}

#[test]
fn right_join_is_a_left_join_with_swapped_inputs() {
    // The ON condition is rebased onto the swapped row; the projection
    // restores t's columns first.
    check(
        "SELECT t.a, u.x FROM t RIGHT JOIN u ON t.id = u.t_id AND t.a < u.id",
        "Map [#1, #16]\n\
         \x20 Map [#3, #4, #5, #6, #7, #8, #9, #10, #11, #12, #13, #14, #15, #16, #0, #1, #2]\n\
         \x20   Join Left equi=0 on [And(Eq(#3, #1), Lt(#4, #0))]\n\
         \x20     Get u\n\
         \x20     Get t\n",
    );
    // The null-extended side's columns become nullable.
    assert_eq!(nullable("SELECT t.id, u.id FROM t RIGHT JOIN u ON t.id = u.t_id"), vec![true, true]);
    assert_eq!(nullable("SELECT t.id FROM t LEFT JOIN u ON t.id = u.t_id"), vec![false]);
}

#[test]
fn full_join_keeps_both_sides_and_merges_using_columns_with_coalesce() {
    check(
        "SELECT id FROM t FULL JOIN v8 USING (id)",
        "Map [Coalesce(#0::bigint, #14)]\n\
         \x20 Join Full equi=0 on [Eq(#0::bigint, #14)]\n\
         \x20   Get t\n\
         \x20   Get v8\n",
    );
    assert_eq!(describe("SELECT * FROM t FULL JOIN v8 USING (id)")[0], "id|bigint");
    // Merged from a column that is never NULL and one that can be: an
    // unmatched row of the second shows its NULL.
    assert_eq!(nullable("SELECT id, t.id, a FROM t FULL JOIN u USING (id)"), vec![true, true, true]);
    // RIGHT JOIN USING shows the right column, LEFT JOIN USING the left.
    check(
        "SELECT id FROM t RIGHT JOIN u USING (id)",
        "Map [#14]\n\
         \x20 Map [#3, #4, #5, #6, #7, #8, #9, #10, #11, #12, #13, #14, #15, #16, #0, #1, #2]\n\
         \x20   Join Left equi=0 on [Eq(#3, #0)]\n\
         \x20     Get u\n\
         \x20     Get t\n",
    );
    assert_eq!(nullable("SELECT id FROM t LEFT JOIN u USING (id)"), vec![false]);
}

#[test]
fn parenthesised_joins_number_columns_over_the_whole_from_row() {
    check(
        "SELECT 1 FROM v8 JOIN (u FULL JOIN t ON u.t_id = t.id) ON v8.y = u.id",
        "Map [1]\n\
         \x20 Join Inner equi=0 on [Eq(#1, #2)]\n\
         \x20   Get v8\n\
         \x20   Join Full equi=0 on [Eq(#1, #3)]\n\
         \x20     Get u\n\
         \x20     Get t\n",
    );
    // A comma item holding a right join is joined as a whole.
    check(
        "SELECT 1 FROM v8, u RIGHT JOIN t ON u.t_id = t.id",
        "Map [1]\n\
         \x20 Join Inner equi=0 on []\n\
         \x20   Get v8\n\
         \x20   Map [#14, #15, #16, #0, #1, #2, #3, #4, #5, #6, #7, #8, #9, #10, #11, #12, #13]\n\
         \x20     Join Left equi=0 on [Eq(#15, #0)]\n\
         \x20       Get t\n\
         \x20       Get u\n",
    );
}

#[test]
fn derived_tables_and_alias_lists_name_columns() {
    assert_eq!(
        describe("SELECT * FROM (SELECT a, sum(c) FROM t GROUP BY a) AS s (x)"),
        vec!["x|integer", "sum|numeric"]
    );
    assert_eq!(describe("SELECT * FROM u AS w (i)"), vec!["i|integer", "t_id|integer", "x|text"]);
    assert_eq!(describe("SELECT w.i FROM u AS w (i)"), vec!["i|integer"]);
    assert_eq!(error("SELECT u.id FROM u AS w").to_string(), "invalid reference to FROM-clause entry for table \"u\"");
    check(
        "SELECT s.n FROM (SELECT DISTINCT a AS n FROM t) AS s WHERE s.n > 1",
        "Map [#0]\n\
         \x20 Filter [Gt(#0, 1)]\n\
         \x20   Distinct\n\
         \x20     Map [#1]\n\
         \x20       Get t\n",
    );
}

#[test]
fn each_reference_to_a_with_query_plans_a_copy() {
    check(
        "WITH w (k) AS (SELECT t_id FROM u WHERE id > 0) SELECT 1 FROM w AS a, w AS b WHERE a.k = b.k",
        "Map [1]\n\
         \x20 Filter [Eq(#0, #1)]\n\
         \x20   Join Inner equi=0 on []\n\
         \x20     Map [#1]\n\
         \x20       Filter [Gt(#0, 0)]\n\
         \x20         Get u\n\
         \x20     Map [#1]\n\
         \x20       Filter [Gt(#0, 0)]\n\
         \x20         Get u\n",
    );
    // A WITH query hides a table of the same name, unless qualified.
    assert_eq!(describe("WITH t AS (SELECT 1 AS one) SELECT * FROM t"), vec!["one|integer"]);
    assert_eq!(describe("WITH t AS (SELECT 1 AS one) SELECT id FROM public.t"), vec!["id|integer"]);
    assert_eq!(
        error("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a").to_string(),
        "relation \"b\" does not exist"
    );
}

#[test]
fn set_operations_take_names_from_the_first_branch_and_common_types() {
    assert_eq!(describe("SELECT a AS p, d FROM t UNION SELECT 1.5, 'x'"), vec!["p|numeric", "d|text"]);
    assert_eq!(describe("SELECT e FROM t UNION SELECT e FROM t"), vec!["e|character varying(5)"]);
    assert_eq!(describe("SELECT e FROM t UNION SELECT x FROM u"), vec!["e|character varying"]);
    assert_eq!(describe("SELECT 'a' UNION SELECT 'b'"), vec!["?column?|text"]);
    assert_eq!(describe("SELECT NULL UNION SELECT b FROM t"), vec!["?column?|bigint"]);
    assert_eq!(describe("SELECT f FROM t UNION SELECT f FROM t"), vec!["f|character(3)"]);
    assert_eq!(describe("SELECT f FROM t UNION SELECT e FROM t"), vec!["f|bpchar"]);
    assert_eq!(describe("SELECT k FROM t UNION SELECT a FROM t INTERSECT SELECT b FROM t"), vec!["k|bigint"]);
    assert_eq!(describe("SELECT c FROM t EXCEPT SELECT 2"), vec!["c|numeric"]);
    assert_eq!(describe("SELECT c FROM t UNION ALL SELECT c FROM t"), vec!["c|numeric(10,2)"]);
    // An untyped literal takes the other branch's type.
    let q = query("SELECT '7' UNION ALL SELECT a FROM t");
    assert_eq!(q.columns[0].ty.to_string(), "integer");
    let common::Plan::Union(u) = &q.plan else { panic!("union expected: {:?}", q.plan) };
    let common::Plan::Map(m) = &u.inputs[0] else { panic!("map expected") };
    assert_eq!(expr(&m.exprs[0]), "#0::integer");
}

#[test]
fn set_operations_lower_to_union_negate_threshold_and_distinct() {
    let lowered = |sql: &str| query(sql).plan.to_string();
    assert_eq!(
        lowered("SELECT id FROM u UNION SELECT id FROM u"),
        "Distinct\n  Union\n    Map (#0)\n      Get u\n    Map (#0)\n      Get u"
    );
    assert_eq!(
        lowered("SELECT id FROM u EXCEPT ALL SELECT id FROM u"),
        "Threshold\n  Union\n    Map (#0)\n      Get u\n    Negate\n      Map (#0)\n        Get u"
    );
    assert_eq!(
        lowered("SELECT id FROM u INTERSECT ALL SELECT id FROM u"),
        "Union\n  Map (#0)\n    Get u\n  Negate\n    Threshold\n      Union\n        Map (#0)\n          Get u\n        Negate\n          Map (#0)\n            Get u"
    );
    assert_eq!(
        lowered("SELECT id FROM u EXCEPT SELECT id FROM u"),
        "Threshold\n  Union\n    Distinct\n      Map (#0)\n        Get u\n    Negate\n      Distinct\n        Map (#0)\n          Get u"
    );
    // Where SQL-equal values can print differently, classes are counted on
    // each side and shown by their least member.
    assert_eq!(
        lowered("SELECT l FROM t INTERSECT SELECT l FROM t"),
        "Map (#3)\n  Filter (#1 > 0::bigint), (#2 > 0::bigint)\n    Reduce key=[key_normalize(#0)] aggs=[sum(#1), sum(#2), min_repr(#0)] classes=[accumulable, representative]\n      Union\n        Map (#0, 1, 0)\n          Map (#12)\n            Get t\n        Map (#0, 0, 1)\n          Map (#12)\n            Get t"
    );
}

#[test]
fn order_by_over_a_set_operation_names_result_columns() {
    let q = query("SELECT a AS p, d FROM t UNION SELECT a, d FROM t ORDER BY d DESC, 1 LIMIT 2");
    assert_eq!(
        q.order_by,
        vec![
            SortKey { column: 1, descending: true, nulls_first: true },
            SortKey { column: 0, descending: false, nulls_first: false }
        ]
    );
    assert_eq!(q.limit, Some(2));
    assert_eq!(q.hidden, 0);
    let e = error("SELECT a FROM t UNION SELECT a FROM t ORDER BY a + 1");
    assert_eq!(e.to_string(), "invalid UNION/INTERSECT/EXCEPT ORDER BY clause");
    assert_eq!(e.hint(), Some("Add the expression/function to every SELECT, or move the UNION into a FROM clause."));
    assert_eq!(error("SELECT a FROM t UNION SELECT a FROM t ORDER BY z").to_string(), "column \"z\" does not exist");
    assert_eq!(
        error("SELECT a, d AS a FROM t UNION SELECT a, d FROM t ORDER BY a").to_string(),
        "ORDER BY \"a\" is ambiguous"
    );
}
