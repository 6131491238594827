//! Eager aggregation, checked through the `EXPLAIN` text of its result.

use super::SourceKeys;
use crate::expr::{BinaryFunc, Expr, VariadicFunc};
use crate::plan::optimize::{optimize, optimize_with_keys};
use crate::plan::{Aggregate, AggregateFunc, Get, Join, JoinKind, Map, ObjectId, Plan, Reduce};
use crate::value::{DataType, Value};

/// `h(id, vendor, total)`, unique on `id`.
const H: u64 = 1;
/// `l(id, h_id, amount)`, unique on `id`.
const L: u64 = 2;
/// `v(id, name)`, unique on `id`.
const V: u64 = 3;

fn get(id: u64, name: &str, arity: usize) -> Plan {
    Plan::Get(Get { id: ObjectId(id), name: name.into(), types: vec![DataType::Int4; arity] })
}
fn c(n: usize) -> Expr {
    Expr::Column(n)
}
fn keys() -> SourceKeys {
    [(ObjectId(H), vec![vec![0]]), (ObjectId(L), vec![vec![0]]), (ObjectId(V), vec![vec![0]])].into_iter().collect()
}
fn agg(func: AggregateFunc, expr: Expr) -> Aggregate {
    Aggregate { func, expr, input_type: DataType::Int4, distinct: false }
}
fn join(kind: JoinKind, left: Plan, right: Plan, equi: Vec<(Expr, Expr)>) -> Plan {
    Plan::Join(Join { kind, left: Box::new(left), right: Box::new(right), equi, residual: vec![] })
}
/// `SELECT h.id, h.vendor, <aggs> FROM h <kind> JOIN l ON l.h_id = h.id GROUP BY h.id, h.vendor`.
fn header_lines(kind: JoinKind, aggregates: Vec<Aggregate>) -> Plan {
    let j = join(kind, get(H, "h", 3), get(L, "l", 3), vec![(c(0), c(1))]);
    Plan::Reduce(Reduce { input: Box::new(j), group_key: vec![c(0), c(1)], aggregates })
}
fn sums() -> Vec<Aggregate> {
    vec![agg(AggregateFunc::CountStar, Expr::Literal(Value::Null)), agg(AggregateFunc::Count, c(3)), agg(AggregateFunc::Sum, c(5))]
}

fn check(plan: Plan, expected: &str) {
    let once = optimize_with_keys(plan, &keys());
    assert_eq!(once.to_string(), expected, "\n{once}");
    assert_eq!(optimize_with_keys(once.clone(), &keys()), once, "optimisation is not idempotent");
}

/// The plan is left as `optimize` without keys leaves it.
fn unchanged(plan: Plan) {
    assert_eq!(optimize_with_keys(plan.clone(), &keys()).to_string(), optimize(plan).to_string());
}

#[test]
fn left_join_lines_are_aggregated_before_the_join() {
    check(
        header_lines(JoinKind::LeftOuter, sums()),
        "Map (#0, #1, coalesce(#3, 1::bigint), coalesce(#4, 0::bigint), #5)
  Join left equi=[#0 = #0]
    Map (#0, #1)
      Get h
    Reduce key=[key_normalize(#1)] aggs=[count(*), count(#0), sum(#2)] classes=[accumulable]
      Get l",
    );
}

#[test]
fn inner_join_needs_no_padding() {
    check(
        header_lines(JoinKind::Inner, sums()),
        "Map (#0, #1, #3, #4, #5)
  Join inner equi=[#0 = #0]
    Map (#0, #1)
      Get h
    Reduce key=[key_normalize(#1)] aggs=[count(*), count(#0), sum(#2)] classes=[accumulable]
      Get l",
    );
}

#[test]
fn min_and_max_are_aggregated_before_the_join_too() {
    let plan = header_lines(JoinKind::LeftOuter, vec![agg(AggregateFunc::Max, c(5))]);
    let text = optimize_with_keys(plan, &keys()).to_string();
    assert!(text.contains("Reduce key=[key_normalize(#1)] aggs=[max(#2)]"), "{text}");
}

#[test]
fn without_keys_nothing_changes() {
    let plan = header_lines(JoinKind::LeftOuter, sums());
    let text = optimize_with_keys(plan.clone(), &SourceKeys::new()).to_string();
    assert_eq!(text, optimize(plan).to_string());
    assert!(text.starts_with("Reduce key=[#0, #1]"), "{text}");
}

#[test]
fn a_group_key_without_the_unique_key_is_left_alone() {
    let j = join(JoinKind::LeftOuter, get(H, "h", 3), get(L, "l", 3), vec![(c(0), c(1))]);
    unchanged(Plan::Reduce(Reduce { input: Box::new(j), group_key: vec![c(1)], aggregates: sums() }));
}

#[test]
fn an_aggregate_over_the_header_is_left_alone() {
    unchanged(header_lines(JoinKind::LeftOuter, vec![agg(AggregateFunc::Sum, c(2))]));
}

#[test]
fn an_aggregate_that_is_not_null_over_a_padded_row_is_left_alone() {
    let coalesced = Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![c(5), Expr::Literal(Value::Int4(0))] };
    unchanged(header_lines(JoinKind::LeftOuter, vec![agg(AggregateFunc::Sum, coalesced.clone())]));
    // With an inner join there is no padded row.
    let text = optimize_with_keys(header_lines(JoinKind::Inner, vec![agg(AggregateFunc::Sum, coalesced)]), &keys()).to_string();
    assert!(text.contains("Reduce key=[key_normalize(#1)]"), "{text}");
}

#[test]
fn an_aggregate_that_can_fail_is_left_alone() {
    let quotient = c(5).call_binary(BinaryFunc::Div, c(3));
    unchanged(header_lines(JoinKind::LeftOuter, vec![agg(AggregateFunc::Sum, quotient)]));
}

#[test]
fn uniqueness_survives_a_join_to_a_unique_side() {
    // (h JOIN v ON h.vendor = v.id) LEFT JOIN l ON l.h_id = h.id GROUP BY h.id, v.name
    let hv = join(JoinKind::Inner, get(H, "h", 3), get(V, "v", 2), vec![(c(1), c(0))]);
    let j = join(JoinKind::LeftOuter, hv, get(L, "l", 3), vec![(c(0), c(1))]);
    let plan = Plan::Reduce(Reduce {
        input: Box::new(j),
        group_key: vec![c(0), c(4)],
        aggregates: vec![agg(AggregateFunc::Sum, c(7))],
    });
    let text = optimize_with_keys(plan, &keys()).to_string();
    assert!(text.contains("Reduce key=[key_normalize(#1)] aggs=[sum(#2)]"), "{text}");
    // Joined to a side that is not unique on the join key, the header can
    // repeat: no rewrite.
    let hl = join(JoinKind::Inner, get(H, "h", 3), get(L, "l", 3), vec![(c(0), c(1))]);
    let j = join(JoinKind::LeftOuter, hl, get(L, "l", 3), vec![(c(0), c(1))]);
    unchanged(Plan::Reduce(Reduce {
        input: Box::new(j),
        group_key: vec![c(0)],
        aggregates: vec![agg(AggregateFunc::Sum, c(8))],
    }));
}

#[test]
fn a_map_between_join_and_reduce_is_seen_through() {
    let j = join(JoinKind::LeftOuter, get(H, "h", 3), get(L, "l", 3), vec![(c(0), c(1))]);
    let m = Plan::Map(Map { input: Box::new(j), exprs: vec![c(0), c(5), c(2)] });
    let plan = Plan::Reduce(Reduce {
        input: Box::new(m),
        group_key: vec![c(0), c(2)],
        aggregates: vec![agg(AggregateFunc::Sum, c(1))],
    });
    let text = optimize_with_keys(plan, &keys()).to_string();
    assert!(text.contains("Reduce key=[key_normalize(#1)] aggs=[sum(#2)]"), "{text}");
}
