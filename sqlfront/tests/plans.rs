//! Plan shapes: left-deep joins with ON conditions on their join, WHERE as
//! a Filter, GROUP BY as a Reduce with HAVING and the select list above,
//! DISTINCT, ORDER BY keys and hidden sort columns.

mod common;

use common::{expr, query, show_plan};
use freshet_sql::SortKey;

fn check(sql: &str, expected: &str) {
    let q = query(sql);
    assert_eq!(show_plan(&q.plan), expected, "{sql}");
}

#[test]
fn joins_are_left_deep_with_conditions_on_their_join() {
    check(
        "SELECT t.a, sum(u.id) FROM t JOIN u ON t.id = u.t_id LEFT JOIN v8 ON v8.id = u.id \
         WHERE t.a > 1 GROUP BY t.a HAVING count(*) > 2",
        "Map [#0, #1]\n\
         \x20 Filter [Gt(#2, 2::bigint)]\n\
         \x20   Reduce keys=[#1] aggs=[Sum(#14), CountStar(true)]\n\
         \x20     Filter [Gt(#1, 1)]\n\
         \x20       Join Left equi=0 on [Eq(#17, #14::bigint)]\n\
         \x20         Join Inner equi=0 on [Eq(#0, #15)]\n\
         \x20           Get t\n\
         \x20           Get u\n\
         \x20         Get v8\n",
    );
    // Comma joins re-associate onto the left-deep tree.
    check(
        "SELECT 1 FROM u, v8 JOIN t ON t.id = v8.y",
        "Map [1]\n\
         \x20 Join Inner equi=0 on [Eq(#5, #4)]\n\
         \x20   Join Inner equi=0 on []\n\
         \x20     Get u\n\
         \x20     Get v8\n\
         \x20   Get t\n",
    );
}

#[test]
fn using_join_condition_casts_to_the_common_type() {
    check(
        "SELECT id, y FROM t LEFT JOIN v8 USING (id)",
        "Map [#0::bigint, #15]\n\
         \x20 Join Left equi=0 on [Eq(#0::bigint, #14)]\n\
         \x20   Get t\n\
         \x20   Get v8\n",
    );
}

#[test]
fn distinct_and_where() {
    check(
        "SELECT DISTINCT d FROM t, u WHERE t.id = u.t_id",
        "Distinct\n\
         \x20 Map [#4]\n\
         \x20   Filter [Eq(#0, #15)]\n\
         \x20     Join Inner equi=0 on []\n\
         \x20       Get t\n\
         \x20       Get u\n",
    );
}

#[test]
fn char_comparisons_ignore_trailing_blanks() {
    let q = query("SELECT f FROM t WHERE f = 'ab ' AND e = f AND d = f");
    let common::Plan::Map(m) = &q.plan else { panic!("map expected") };
    let common::Plan::Filter(f) = m.input.as_ref() else { panic!("filter expected") };
    assert_eq!(
        expr(&f.predicates[0]),
        "And(Eq(CharToText(#6), 'ab'), Eq(CharToText(#5), CharToText(#6)), Eq(#4, CharToText(#6)))"
    );
}

#[test]
fn filter_aggregates_fold_into_case() {
    check(
        "SELECT count(*) FILTER (WHERE a > 1), sum(a) FILTER (WHERE a > 1), count(*) FROM t",
        "Map [#0, #1, #2]\n\
         \x20 Reduce keys=[] aggs=[Count(If(Gt(#1, 1), true, null)), Sum(If(Gt(#1, 1), #1, null)), CountStar(true)]\n\
         \x20   Get t\n",
    );
}

#[test]
fn primary_key_functional_dependency_adds_group_keys() {
    check(
        "SELECT id, a, d, count(*) FROM t GROUP BY id",
        "Map [#0, #1, #2, #3]\n\
         \x20 Reduce keys=[#0, #1, #4] aggs=[CountStar(true)]\n\
         \x20   Get t\n",
    );
}

#[test]
fn order_by_limit_offset_and_hidden_columns() {
    let q = query("SELECT id, d FROM t ORDER BY d DESC, a NULLS FIRST LIMIT 3 OFFSET 1");
    assert_eq!(
        q.order_by,
        [
            SortKey { column: 1, descending: true, nulls_first: true },
            SortKey { column: 2, descending: false, nulls_first: true },
        ]
    );
    assert_eq!(q.hidden, 1);
    assert_eq!((q.limit, q.offset), (Some(3), Some(1)));
    assert_eq!(q.columns.len(), 2);
    assert_eq!(show_plan(&q.plan), "Map [#0, #4, #1]\n  Get t\n");
    let q = query("SELECT a, count(*) FROM t GROUP BY a ORDER BY count(*) DESC, 1");
    assert_eq!(q.hidden, 0);
    assert_eq!(q.order_by[0], SortKey { column: 1, descending: true, nulls_first: true });
    assert_eq!(q.order_by[1], SortKey { column: 0, descending: false, nulls_first: false });
}

#[test]
fn in_between_like_and_datetime_arithmetic() {
    let q = query(
        "SELECT 1 FROM t WHERE a IN (1, 2) AND k BETWEEN 1 AND 2.5 AND g + j > '2024-01-01' AND d NOT ILIKE 'a%' ESCAPE ''",
    );
    let common::Plan::Map(m) = &q.plan else { panic!("map expected") };
    let common::Plan::Filter(f) = m.input.as_ref() else { panic!("filter expected") };
    let shown = expr(&f.predicates[0]);
    assert!(shown.starts_with("And(Or(Eq(#1, 1), Eq(#1, 2)), Gte(#11::integer, 1), Lte(#11::numeric, Numeric("), "{shown}");
    assert!(
        shown.ends_with(
            "Gt(Add(#7::timestamp without time zone, #10), '2024-01-01'::timestamp without time zone), \
             Not(Like { escape: None, case_insensitive: true }(#4, 'a%')))"
        ),
        "{shown}"
    );
}

#[test]
fn plans_are_deterministic() {
    let sql = "SELECT t.a, u.x, count(*) FROM t LEFT JOIN u ON u.t_id = t.id GROUP BY t.a, u.x ORDER BY 3";
    assert_eq!(query(sql), query(sql));
}
