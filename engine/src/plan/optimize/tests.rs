//! Each rewrite checked through the `EXPLAIN` text of its result.

use super::optimize;
use crate::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use crate::plan::{
    Aggregate, AggregateFunc, Distinct, Filter, Get, Join, JoinKind, Map, ObjectId, Plan, Reduce, Union,
};
use crate::value::{DataType, Value};

fn get(name: &str, arity: usize) -> Plan {
    let id = name.bytes().map(u64::from).sum();
    Plan::Get(Get { id: ObjectId(id), name: name.into(), types: vec![DataType::Int4; arity] })
}
fn c(n: usize) -> Expr {
    Expr::Column(n)
}
fn int(i: i32) -> Expr {
    Expr::Literal(Value::Int4(i))
}
fn bin(l: Expr, f: BinaryFunc, r: Expr) -> Expr {
    l.call_binary(f, r)
}
fn eq(l: Expr, r: Expr) -> Expr {
    bin(l, BinaryFunc::Eq, r)
}
fn gt(l: Expr, r: Expr) -> Expr {
    bin(l, BinaryFunc::Gt, r)
}
fn lt(l: Expr, r: Expr) -> Expr {
    bin(l, BinaryFunc::Lt, r)
}
fn filter(input: Plan, predicates: Vec<Expr>) -> Plan {
    Plan::Filter(Filter { input: Box::new(input), predicates })
}
fn map(input: Plan, exprs: Vec<Expr>) -> Plan {
    Plan::Map(Map { input: Box::new(input), exprs })
}
fn join(kind: JoinKind, left: Plan, right: Plan, equi: Vec<(Expr, Expr)>, residual: Vec<Expr>) -> Plan {
    Plan::Join(Join { kind, left: Box::new(left), right: Box::new(right), equi, residual })
}
fn count_star() -> Aggregate {
    Aggregate {
        func: AggregateFunc::CountStar,
        expr: Expr::Literal(Value::Null),
        input_type: DataType::Int4,
        distinct: false,
    }
}

/// Optimises, checks the text, and checks a second pass changes nothing.
fn check(plan: Plan, expected: &str) {
    let once = optimize(plan);
    assert_eq!(once.to_string(), expected, "\n{once}");
    assert_eq!(optimize(once.clone()), once, "optimisation is not idempotent");
}

#[test]
fn filter_moves_through_map_into_join_input() {
    let j = join(JoinKind::Inner, get("a", 2), get("b", 2), vec![(c(0), c(0))], vec![]);
    let plan = filter(map(j, vec![c(0), c(3)]), vec![gt(c(1), int(10))]);
    check(plan, "Map (#0, #2)\n  Join inner equi=[#0 = #0]\n    Map (#0)\n      Get a\n    Filter (#1 > 10)\n      Get b");
}

#[test]
fn filter_stays_above_expensive_map_expression() {
    let plan = filter(
        map(get("t", 2), vec![bin(c(0), BinaryFunc::Add, c(1)), c(1)]),
        vec![gt(c(0), int(1)), lt(c(1), int(5))],
    );
    check(plan, "Filter (#0 > 1)\n  Map ((#0 + #1), #1)\n    Filter (#1 < 5)\n      Get t");
}

#[test]
fn two_sided_conjuncts_become_residuals_and_equalities_equi_keys() {
    let j = join(JoinKind::Inner, get("a", 2), get("b", 2), vec![], vec![]);
    let plan = filter(j, vec![Expr::Variadic { func: VariadicFunc::And, args: vec![eq(c(2), c(0)), lt(c(1), c(3))] }]);
    check(plan, "Join inner equi=[#0 = #0] residual=[(#1 < #3)]\n  Get a\n  Get b");
}

#[test]
fn conjuncts_that_can_fail_stay_above_the_join() {
    let j = join(JoinKind::Inner, get("a", 2), get("b", 2), vec![(c(0), c(0))], vec![]);
    let div = gt(bin(c(1), BinaryFunc::Div, c(3)), int(1));
    let plan = filter(j, vec![div, eq(c(1), int(5)), gt(bin(c(3), BinaryFunc::Add, int(1)), int(0))]);
    check(
        plan,
        "Filter ((#1 / #3) > 1), ((#3 + 1) > 0)\n  Join inner equi=[#0 = #0]\n    Filter (#1 = 5)\n      Get a\n    Get b",
    );
}

#[test]
fn inner_residuals_over_one_side_move_into_it() {
    let plan = join(
        JoinKind::Inner,
        get("a", 2),
        get("b", 2),
        vec![],
        vec![gt(c(3), int(5)), eq(c(1), c(2)), lt(c(0), int(0)), gt(bin(c(0), BinaryFunc::Mul, int(2)), int(1))],
    );
    check(
        plan,
        "Join inner equi=[#1 = #0] residual=[((#0 * 2) > 1)]\n  Filter (#0 < 0)\n    Get a\n  Filter (#1 > 5)\n    Get b",
    );
}

#[test]
fn left_join_moves_only_left_where_and_right_on_conjuncts() {
    let lj = join(
        JoinKind::LeftOuter,
        get("a", 2),
        get("b", 2),
        vec![(c(0), c(0))],
        vec![gt(c(3), int(5)), eq(c(3), c(1)), lt(c(1), c(3)), eq(c(1), int(7))],
    );
    let plan = filter(lj, vec![eq(c(0), int(1)), eq(c(2), int(2)), eq(c(0), c(2))]);
    check(
        plan,
        "Filter (#2 = 2), (#0 = #2)\n  Join left equi=[#0 = #0, #1 = #1] residual=[(#1 < #3), (#1 = 7)]\n    Filter (#0 = 1)\n      Get a\n    Filter (#1 > 5)\n      Get b",
    );
}

#[test]
fn inner_joins_reorder_so_each_input_connects() {
    // FROM a, b, c WHERE a.0 = c.0 AND c.1 = b.1: b is not connected to a.
    let ab = join(JoinKind::Inner, get("a", 2), get("b", 2), vec![], vec![]);
    let plan = filter(join(JoinKind::Inner, ab, get("c", 2), vec![], vec![]), vec![eq(c(0), c(4)), eq(c(5), c(3))]);
    check(
        plan,
        "Map (#0, #1, #4, #5, #2, #3)\n  Join inner equi=[#3 = #1]\n    Join inner equi=[#0 = #0]\n      Get a\n      Get c\n    Get b",
    );
}

#[test]
fn join_order_kept_when_connected_and_right_deep_trees_flattened() {
    // a JOIN (b JOIN c ON b.0 = c.0) ON a.1 = b.1, with a filter on a.
    let bc = join(JoinKind::Inner, get("b", 2), get("c", 2), vec![(c(0), c(0))], vec![]);
    let plan = filter(join(JoinKind::Inner, get("a", 2), bc, vec![(c(1), c(1))], vec![]), vec![gt(c(0), int(3))]);
    check(
        plan,
        "Join inner equi=[#2 = #0]\n  Join inner equi=[#1 = #1]\n    Filter (#0 > 3)\n      Get a\n    Get b\n  Get c",
    );
}

#[test]
fn a_condition_that_can_fail_blocks_reordering() {
    let ab = join(JoinKind::Inner, get("a", 2), get("b", 2), vec![], vec![]);
    let overflow = gt(bin(c(0), BinaryFunc::Add, c(4)), int(1));
    let plan = join(JoinKind::Inner, ab, get("c", 2), vec![], vec![eq(c(0), c(4)), eq(c(5), c(3)), overflow]);
    check(
        plan,
        "Join inner equi=[#0 = #0, #3 = #1] residual=[((#0 + #4) > 1)]\n  Join inner\n    Get a\n    Get b\n  Get c",
    );
}

#[test]
fn left_join_is_an_opaque_input_of_inner_join_ordering() {
    let lj = join(JoinKind::LeftOuter, get("a", 1), get("b", 1), vec![(c(0), c(0))], vec![]);
    let plan = filter(join(JoinKind::Inner, lj, get("c", 1), vec![], vec![]), vec![eq(c(1), c(2))]);
    check(plan, "Join inner equi=[#1 = #0]\n  Join left equi=[#0 = #0]\n    Get a\n    Get b\n  Get c");
}

#[test]
fn adjacent_maps_fuse_and_identity_maps_vanish() {
    let plan = map(map(get("t", 2), vec![c(1), c(0)]), vec![c(1), bin(c(0), BinaryFunc::Add, int(1))]);
    check(plan, "Map (#0, (#1 + 1))\n  Get t");
    check(map(map(get("t", 2), vec![c(1), c(0)]), vec![c(1), c(0)]), "Get t");
    // An expensive inner expression used twice is not duplicated.
    let sum = bin(c(0), BinaryFunc::Add, c(1));
    let twice = map(map(get("t", 2), vec![sum]), vec![c(0), bin(c(0), BinaryFunc::Mul, c(0))]);
    check(twice, "Map (#0, (#0 * #0))\n  Map ((#0 + #1))\n    Get t");
}

#[test]
fn adjacent_filters_fuse_in_order() {
    let div = gt(bin(int(10), BinaryFunc::Div, c(0)), int(1));
    let plan =
        filter(filter(get("t", 2), vec![Expr::Unary { func: UnaryFunc::IsNotNull, arg: Box::new(c(0)) }]), vec![div]);
    check(plan, "Filter (#0 IS NOT NULL), ((10 / #0) > 1)\n  Get t");
}

#[test]
fn constants_fold_where_evaluation_cannot_fail() {
    let plan = filter(
        get("t", 2),
        vec![
            eq(bin(int(1), BinaryFunc::Add, int(2)), c(0)),
            Expr::Variadic {
                func: VariadicFunc::And,
                args: vec![Expr::Literal(Value::Bool(true)), gt(c(1), bin(int(2), BinaryFunc::Mul, int(3)))],
            },
        ],
    );
    check(plan, "Filter (3 = #0), (#1 > 6)\n  Get t");
    let exprs = vec![
        bin(int(1), BinaryFunc::Div, int(0)),
        Expr::If {
            cond: Box::new(Expr::Literal(Value::Bool(true))),
            then: Box::new(c(0)),
            els: Box::new(bin(int(1), BinaryFunc::Div, int(0))),
        },
        Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![Expr::Literal(Value::Null), c(1), int(5), c(0)] },
        Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![Expr::Literal(Value::Null), c(1)] },
    ];
    check(map(get("t", 2), exprs), "Map ((1 / 0), #0, coalesce(#1, 5), #1)\n  Get t");
}

#[test]
fn never_true_filters_become_empty_constants() {
    check(filter(get("t", 2), vec![gt(c(0), int(1)), eq(int(1), int(2))]), "Constant arity=2 rows=[]");
    let j = join(JoinKind::Inner, get("a", 1), get("b", 1), vec![], vec![Expr::Literal(Value::Null)]);
    check(j, "Join inner\n  Constant arity=1 rows=[]\n  Get b");
}

#[test]
fn filters_on_group_keys_move_below_reduce() {
    let r =
        Plan::Reduce(Reduce { input: Box::new(get("t", 2)), group_key: vec![c(1)], aggregates: vec![count_star()] });
    let plan = filter(r, vec![eq(c(0), int(1)), gt(c(1), Expr::Literal(Value::Int8(2)))]);
    check(plan, "Filter (#1 > 2::bigint)\n  Reduce key=[#1] aggs=[count(*)] classes=[accumulable]\n    Filter (#1 = 1)\n      Get t");
    // A global reduce yields a row even when its input is empty.
    let global =
        Plan::Reduce(Reduce { input: Box::new(get("t", 2)), group_key: vec![], aggregates: vec![count_star()] });
    let plan = filter(global, vec![eq(c(0), Expr::Literal(Value::Int8(0)))]);
    check(plan, "Filter (#0 = 0::bigint)\n  Reduce key=[] aggs=[count(*)] classes=[accumulable]\n    Get t");
}

#[test]
fn filters_move_below_distinct_unless_they_see_representations() {
    let cast = eq(
        Expr::Unary { func: UnaryFunc::Cast(DataType::Text), arg: Box::new(c(1)) },
        Expr::Literal(Value::text("1.0")),
    );
    let plan = filter(Plan::Distinct(Distinct { input: Box::new(get("t", 2)) }), vec![eq(c(0), int(1)), cast]);
    check(plan, "Filter (CAST(#1 AS text) = '1.0')\n  Distinct\n    Filter (#0 = 1)\n      Get t");
}

#[test]
fn filters_move_into_every_union_input() {
    let u = Plan::Union(Union { inputs: vec![get("a", 1), get("b", 1)] });
    let plan = filter(u, vec![gt(bin(int(10), BinaryFunc::Div, c(0)), int(1))]);
    check(plan, "Union\n  Filter ((10 / #0) > 1)\n    Get a\n  Filter ((10 / #0) > 1)\n    Get b");
}

#[test]
fn join_inputs_and_outputs_keep_only_the_columns_read_above() {
    // SELECT a.0, a.2, sum(b.3) FROM a LEFT JOIN b ON b.1 = a.0 GROUP BY a.0, a.2
    let lj = join(JoinKind::LeftOuter, get("a", 4), get("b", 5), vec![(c(0), c(1))], vec![]);
    let sum = Aggregate { func: AggregateFunc::Sum, expr: c(7), input_type: DataType::Int4, distinct: false };
    let plan = Plan::Reduce(Reduce { input: Box::new(lj), group_key: vec![c(0), c(2)], aggregates: vec![sum] });
    check(
        plan,
        "Reduce key=[#0, #1] aggs=[sum(#2)] classes=[accumulable]\n  Map (#0, #1, #3)\n    Join left equi=[#0 = #0]\n      Map (#0, #2)\n        Get a\n      Map (#1, #3)\n        Get b",
    );
}

#[test]
fn projection_keeps_residual_and_filter_columns_and_drops_unread_map_expressions() {
    // The residual reads a.1 and b.1; the filter above (which can fail) reads b.2.
    let j = join(JoinKind::Inner, get("a", 3), get("b", 3), vec![(c(0), c(0))], vec![lt(c(1), c(4))]);
    let div = gt(bin(int(10), BinaryFunc::Div, c(5)), int(1));
    let unread = bin(c(2), BinaryFunc::Mul, int(2));
    let plan = map(map(filter(j, vec![div]), vec![c(0), unread, c(3)]), vec![c(0), c(2)]);
    check(
        plan,
        "Map (#0, #2)\n  Filter ((10 / #4) > 1)\n    Join inner equi=[#0 = #0] residual=[(#1 < #3)]\n      Map (#0, #1)\n        Get a\n      Get b",
    );
}

#[test]
fn distinct_union_and_the_root_keep_every_column() {
    let j = join(JoinKind::Inner, get("a", 2), get("b", 2), vec![(c(0), c(0))], vec![]);
    let plan = Plan::Distinct(Distinct { input: Box::new(Plan::Union(Union { inputs: vec![j.clone(), j] })) });
    check(
        plan,
        "Distinct\n  Union\n    Join inner equi=[#0 = #0]\n      Get a\n      Get b\n    Join inner equi=[#0 = #0]\n      Get a\n      Get b",
    );
    // A count over a join reads only the key columns.
    let j = join(JoinKind::Inner, get("a", 3), get("b", 3), vec![(c(1), c(2))], vec![]);
    let plan = Plan::Reduce(Reduce { input: Box::new(j), group_key: vec![], aggregates: vec![count_star()] });
    check(
        plan,
        "Reduce key=[] aggs=[count(*)] classes=[accumulable]\n  Map ()\n    Join inner equi=[#0 = #0]\n      Map (#1)\n        Get a\n      Map (#2)\n        Get b",
    );
}

#[test]
fn a_conjunct_that_can_fail_does_not_overtake_one_kept_above_a_map() {
    // (#1 < 5) reads an expensive expression and stays above the map; the
    // division after it must not be evaluated on rows it drops.
    let plan = filter(
        map(get("t", 2), vec![c(0), bin(c(0), BinaryFunc::Add, c(1))]),
        vec![lt(c(1), int(5)), gt(bin(int(10), BinaryFunc::Div, c(0)), int(1)), gt(c(0), int(2))],
    );
    check(plan, "Filter (#1 < 5), ((10 / #0) > 1)\n  Map (#0, (#0 + #1))\n    Filter (#0 > 2)\n      Get t");
}

fn and(args: Vec<Expr>) -> Expr {
    Expr::Variadic { func: VariadicFunc::And, args }
}
fn or(args: Vec<Expr>) -> Expr {
    Expr::Variadic { func: VariadicFunc::Or, args }
}

#[test]
fn full_join_keeps_every_conjunct_in_place() {
    // ON conjuncts over one side only decide matching, WHERE conjuncts see
    // padded rows: nothing moves into an input; the equality becomes a key.
    let fj = join(
        JoinKind::FullOuter,
        get("a", 2),
        get("b", 2),
        vec![],
        vec![gt(c(3), int(5)), eq(c(1), c(3)), lt(c(0), int(4)), lt(c(1), c(2))],
    );
    let plan = filter(fj, vec![eq(c(0), int(1)), eq(c(2), int(2))]);
    check(
        plan,
        "Filter (#0 = 1), (#2 = 2)\n  Join full equi=[#1 = #1] residual=[(#3 > 5), (#0 < 4), (#1 < #2)]\n    Get a\n    Get b",
    );
}

#[test]
fn full_join_inputs_and_output_keep_only_the_columns_read() {
    let fj = join(JoinKind::FullOuter, get("a", 3), get("b", 3), vec![(c(0), c(1))], vec![]);
    check(
        map(fj, vec![c(2), c(5)]),
        "Map (#1, #3)\n  Join full equi=[#0 = #0]\n    Map (#0, #2)\n      Get a\n    Map (#1, #2)\n      Get b",
    );
}

#[test]
fn an_or_of_alternatives_sharing_an_equality_keys_the_join() {
    // (a.0 = b.0 AND b.2 = 9 AND a.1 > 1 AND b.1 < 5)
    //   OR (a.0 = b.0 AND b.2 = 9 AND a.1 > 2 AND b.2 = 3)
    let alternatives = or(vec![
        and(vec![eq(c(0), c(3)), eq(c(5), int(9)), gt(c(1), int(1)), lt(c(4), int(5))]),
        and(vec![eq(c(0), c(3)), gt(c(1), int(2)), eq(c(5), int(9)), eq(c(5), int(3))]),
    ]);
    let plan = filter(join(JoinKind::Inner, get("a", 3), get("b", 3), vec![], vec![]), vec![alternatives]);
    check(
        plan,
        "Join inner equi=[#0 = #0] residual=[(((#1 > 1) AND (#4 < 5)) OR ((#1 > 2) AND (#5 = 3)))]\n  \
         Filter ((#1 > 1) OR (#1 > 2))\n    Get a\n  Filter (#2 = 9)\n    Get b",
    );
    // The same condition as a join's ON residual.
    let alternatives = or(vec![
        and(vec![eq(c(0), c(2)), gt(c(1), int(1))]),
        and(vec![eq(c(0), c(2)), gt(c(1), int(2))]),
        and(vec![gt(c(3), int(7)), eq(c(0), c(2))]),
    ]);
    check(
        join(JoinKind::LeftOuter, get("a", 2), get("b", 2), vec![], vec![alternatives]),
        "Join left equi=[#0 = #0] residual=[((#1 > 1) OR (#1 > 2) OR (#3 > 7))]\n  Get a\n  Get b",
    );
}

#[test]
fn an_alternative_holding_only_the_common_conjuncts_absorbs_the_others() {
    // a.0 = b.0 OR (a.0 = b.0 AND a.1 > 1) is a.0 = b.0.
    let cond = or(vec![eq(c(0), c(2)), and(vec![eq(c(0), c(2)), gt(c(1), int(1))])]);
    check(
        join(JoinKind::Inner, get("a", 2), get("b", 2), vec![], vec![cond]),
        "Join inner equi=[#0 = #0]\n  Get a\n  Get b",
    );
}

#[test]
fn alternatives_are_not_factored_on_a_conjunct_that_can_fail() {
    let fails = gt(bin(c(0), BinaryFunc::Div, c(2)), int(1));
    let cond = or(vec![and(vec![fails.clone(), gt(c(1), int(1))]), and(vec![fails, gt(c(3), int(2))])]);
    check(
        join(JoinKind::Inner, get("a", 2), get("b", 2), vec![], vec![cond]),
        "Join inner residual=[((((#0 / #2) > 1) AND (#1 > 1)) OR (((#0 / #2) > 1) AND (#3 > 2)))]\n  Get a\n  Get b",
    );
    // Nothing in common: the OR stays whole.
    let cond = or(vec![eq(c(0), c(2)), eq(c(1), c(3))]);
    check(
        join(JoinKind::Inner, get("a", 2), get("b", 2), vec![], vec![cond]),
        "Join inner residual=[((#0 = #2) OR (#1 = #3))]\n  Get a\n  Get b",
    );
}

#[test]
fn nothing_moves_through_a_top_k() {
    use crate::plan::{SortColumn, TopK};
    let topk = |input: Plan| {
        Plan::TopK(TopK {
            input: Box::new(input),
            group_key: vec![c(0)],
            order: vec![SortColumn { column: 1, descending: true, nulls_first: true }],
            limit: Some(2),
            offset: 0,
        })
    };
    // A filter above stays above (it would change which rows come first);
    // one below still reaches the join input. A projection above keeps
    // every column below: ties between rows are broken by the whole row.
    let j = join(JoinKind::Inner, get("a", 2), get("b", 2), vec![(c(0), c(0))], vec![]);
    let plan = map(filter(topk(filter(j, vec![gt(c(3), int(1))])), vec![gt(c(2), int(5))]), vec![c(1)]);
    check(
        plan,
        "Map (#1)\n  Filter (#2 > 5)\n    TopK group=[#0] order=[#1 DESC] limit=2\n      Join inner equi=[#0 = #0]\n        Get a\n        Filter (#1 > 1)\n          Get b",
    );
}
