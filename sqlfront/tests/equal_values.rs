//! Grouping and `DISTINCT` over types whose SQL-equal values differ in
//! representation (`numeric` without a scale, `float8`, `interval`,
//! `bpchar`): the key is normalized and the value shown is a `min_repr`
//! aggregate; exact types keep their plain plans.

mod common;

use common::query;
use freshet_engine::plan::optimize::optimize;

/// EXPLAIN's text for `sql`: the optimised plan.
fn check(sql: &str, expected: &str) {
    assert_eq!(optimize(query(sql).plan).to_string(), expected, "{sql}");
}

/// `name nullable` per output column.
fn nullability(sql: &str) -> Vec<String> {
    query(sql).columns.iter().map(|c| format!("{} {}", c.name, c.nullable)).collect()
}

#[test]
fn numeric_expression_key_is_normalized() {
    // `c` is numeric(10,2); `c * 2` is numeric without a scale.
    check(
        "SELECT c * 2, count(*) FROM t GROUP BY c * 2",
        "Map (#2, #1)\n\
         \x20 Reduce key=[key_normalize((#3 * 2::numeric))] aggs=[count(*), min_repr((#3 * 2::numeric))] \
         classes=[accumulable, representative]\n\
         \x20   Get t",
    );
}

#[test]
fn exact_keys_are_untouched() {
    check("SELECT c, count(*) FROM t GROUP BY c", "Reduce key=[#3] aggs=[count(*)] classes=[accumulable]\n  Get t");
    check("SELECT d, f, g FROM t GROUP BY d, f, g", "Reduce key=[#4, #6, #7] aggs=[]\n  Get t");
    check("SELECT DISTINCT a, d FROM t", "Distinct\n  Map (#1, #4)\n    Get t");
}

#[test]
fn select_list_having_and_order_by_read_the_representative() {
    // float8 `l` and interval `j`: both chosen together, HAVING and the
    // select list over the min_repr outputs (#3, #4), not the keys.
    check(
        "SELECT l, j, sum(a) FROM t GROUP BY l, j HAVING l > 0 ORDER BY j",
        "Map (#3, #4, #2)\n\
         \x20 Filter (#3 > '0'::double precision)\n\
         \x20   Reduce key=[key_normalize(#12), key_normalize(#10)] aggs=[sum(#1), min_repr(#12), min_repr(#10)] \
         classes=[accumulable, representative]\n\
         \x20     Get t",
    );
    let q = query("SELECT l::text AS s, count(*) FROM t GROUP BY l ORDER BY l DESC");
    assert_eq!(q.hidden, 1);
    assert_eq!(
        optimize(q.plan).to_string(),
        "Map (CAST(#2 AS text), #1, #2)\n\
         \x20 Reduce key=[key_normalize(#12)] aggs=[count(*), min_repr(#12)] classes=[accumulable, representative]\n\
         \x20   Get t"
    );
}

#[test]
fn functionally_dependent_columns_stay_plain() {
    // One row of `t` per `id`: its float8 column needs no normalizing.
    check("SELECT id, l FROM t GROUP BY id", "Reduce key=[#0, #12] aggs=[]\n  Get t");
}

#[test]
fn distinct_over_inexact_columns_reduces() {
    check(
        "SELECT DISTINCT l, a FROM t",
        "Map (#2, #1)\n\
         \x20 Reduce key=[key_normalize(#0), #1] aggs=[min_repr(#0)] classes=[representative]\n\
         \x20   Map (#12, #1)\n\
         \x20     Get t",
    );
    // bpchar (no length) compares ignoring trailing blanks.
    check(
        "SELECT DISTINCT max(f) FROM t",
        "Map (#1)\n\
         \x20 Reduce key=[char_to_text(#0)] aggs=[min_repr(#0)] classes=[representative]\n\
         \x20   Reduce key=[] aggs=[max(#6)] classes=[hierarchical]\n\
         \x20     Get t",
    );
}

#[test]
fn representative_nullability_follows_the_key() {
    assert_eq!(nullability("SELECT coalesce(l, 0), count(*) FROM t GROUP BY 1"), ["coalesce false", "count false"]);
    assert_eq!(nullability("SELECT l, count(*) FROM t GROUP BY l"), ["l true", "count false"]);
    assert_eq!(nullability("SELECT DISTINCT coalesce(l, 0) AS z FROM t"), ["z false"]);
}
