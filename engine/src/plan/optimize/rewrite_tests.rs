//! Join ordering by estimates, implied conjuncts, semi-join reduction and
//! filter lifting, checked through the `EXPLAIN` text of their result.

use super::SourceKeys;
use crate::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use crate::plan::optimize::optimize_with_keys;
use crate::plan::{Aggregate, AggregateFunc, Filter, Get, Join, JoinKind, ObjectId, Plan, Reduce, Union};
use crate::value::{DataType, Value};

/// `line(order, part, qty)`, unique on nothing.
const LINE: u64 = 1;
/// `ord(id, cust)`, unique on `id`.
const ORD: u64 = 2;
/// `cust(id, nation)`, unique on `id`.
const CUST: u64 = 3;
/// `nat(id, name)`, unique on `id`.
const NAT: u64 = 4;
/// `part(id, brand)`, unique on `id`.
const PART: u64 = 5;

fn get(id: u64, name: &str, arity: usize) -> Plan {
    Plan::Get(Get { id: ObjectId(id), name: name.into(), types: vec![DataType::Int4; arity] })
}
fn line() -> Plan {
    get(LINE, "line", 3)
}
fn c(n: usize) -> Expr {
    Expr::Column(n)
}
fn int(i: i32) -> Expr {
    Expr::Literal(Value::Int4(i))
}
fn eq(l: Expr, r: Expr) -> Expr {
    l.call_binary(BinaryFunc::Eq, r)
}
fn and(args: Vec<Expr>) -> Expr {
    Expr::Variadic { func: VariadicFunc::And, args }
}
fn or(args: Vec<Expr>) -> Expr {
    Expr::Variadic { func: VariadicFunc::Or, args }
}
fn filter(input: Plan, predicates: Vec<Expr>) -> Plan {
    Plan::Filter(Filter { input: Box::new(input), predicates })
}
fn join(kind: JoinKind, left: Plan, right: Plan, equi: Vec<(Expr, Expr)>) -> Plan {
    Plan::Join(Join { kind, left: Box::new(left), right: Box::new(right), equi, residual: vec![] })
}
/// A cross product of the inputs, left-deep, as the front end plans `FROM
/// a, b, c` before its `WHERE`.
fn cross(inputs: Vec<Plan>) -> Plan {
    let mut it = inputs.into_iter();
    let first = it.next().expect("an input");
    it.fold(first, |acc, p| join(JoinKind::Inner, acc, p, vec![]))
}
fn keys() -> SourceKeys {
    [ORD, CUST, NAT, PART].into_iter().map(|t| (ObjectId(t), vec![vec![0]])).collect()
}
fn avg(expr: Expr) -> Aggregate {
    Aggregate { func: AggregateFunc::Avg, expr, input_type: DataType::Int4, distinct: false }
}

fn check(plan: Plan, expected: &str) {
    let once = optimize_with_keys(plan, &keys());
    assert_eq!(once.to_string(), expected, "\n{once}");
    assert_eq!(optimize_with_keys(once.clone(), &keys()), once, "optimisation is not idempotent");
}

#[test]
fn joins_start_from_the_filtered_dimension_and_follow_equality_classes() {
    // FROM line, ord, cust, nat WHERE line.order = ord.id AND ord.cust =
    // cust.id AND cust.nation = nat.id AND nat.name = 7: from the one nation
    // to its customers (either first: the same intermediate result), their
    // orders, their lines.
    let plan = filter(
        cross(vec![line(), get(ORD, "ord", 2), get(CUST, "cust", 2), get(NAT, "nat", 2)]),
        vec![eq(c(0), c(3)), eq(c(4), c(5)), eq(c(6), c(7)), eq(c(8), int(7))],
    );
    check(
        plan,
        "Map (#6, #7, #8, #4, #5, #0, #1, #2, #3)\n  \
         Join inner equi=[#4 = #0]\n    \
         Join inner equi=[#0 = #1]\n      \
         Join inner equi=[#1 = #0]\n        \
         Get cust\n        Filter (#1 = 7)\n          Get nat\n      Get ord\n    Get line",
    );
    // A filter on the lines themselves (line.part = 3): they come first,
    // and each join after looks up one row.
    let plan = filter(
        cross(vec![line(), get(ORD, "ord", 2), get(CUST, "cust", 2)]),
        vec![eq(c(3), c(0)), eq(c(4), c(5)), eq(c(1), int(3))],
    );
    check(
        plan,
        "Join inner equi=[#4 = #0]\n  Join inner equi=[#0 = #0]\n    Filter (#1 = 3)\n      Get line\n    Get ord\n  Get cust",
    );
}

#[test]
fn a_column_equal_to_two_columns_of_one_input_equates_them_too() {
    // a.0 = b.0 AND a.0 = b.1: b.0 = b.1 is implied and checked on b.
    let plan = filter(cross(vec![get(10, "a", 1), get(11, "b", 2)]), vec![eq(c(0), c(1)), eq(c(0), c(2))]);
    check(plan, "Join inner equi=[#0 = #0]\n  Get a\n  Filter (#0 = #1)\n    Get b");
}

#[test]
fn an_or_over_two_inputs_implies_a_filter_on_each() {
    // (a.1 = 1 AND b.1 = 2) OR (a.1 = 2 AND b.1 IS NULL) OR (a.1 = 1 AND b.1 = 3)
    let alternatives = or(vec![
        and(vec![eq(c(1), int(1)), eq(c(3), int(2))]),
        and(vec![eq(c(1), int(2)), c(3).call_unary(UnaryFunc::IsNull)]),
        and(vec![eq(c(1), int(1)), eq(c(3), int(3))]),
    ]);
    let plan = filter(join(JoinKind::Inner, get(10, "a", 2), get(11, "b", 2), vec![(c(0), c(0))]), vec![alternatives]);
    check(
        plan,
        "Join inner equi=[#0 = #0] residual=[(((#1 = 1) AND (#3 = 2)) OR ((#1 = 2) AND (#3 IS NULL)) OR ((#1 = 1) AND (#3 = 3)))]\n  \
         Filter ((#1 = 1) OR (#1 = 2))\n    Get a\n  \
         Filter ((#1 = 2) OR (#1 IS NULL) OR (#1 = 3))\n    Get b",
    );
    // An alternative without a conjunct on b.1 implies nothing for b.
    let alternatives = or(vec![and(vec![eq(c(1), int(1)), eq(c(3), int(2))]), eq(c(1), int(2))]);
    let plan = filter(join(JoinKind::Inner, get(10, "a", 2), get(11, "b", 2), vec![(c(0), c(0))]), vec![alternatives]);
    check(
        plan,
        "Join inner equi=[#0 = #0] residual=[(((#1 = 1) AND (#3 = 2)) OR (#1 = 2))]\n  \
         Filter ((#1 = 1) OR (#1 = 2))\n    Get a\n  Get b",
    );
    // An OR that can fail implies nothing.
    let div = int(6).call_binary(BinaryFunc::Div, c(3)).call_binary(BinaryFunc::Eq, int(2));
    let alternatives = or(vec![and(vec![eq(c(1), int(1)), div]), eq(c(1), int(2))]);
    let plan = filter(join(JoinKind::Inner, get(10, "a", 2), get(11, "b", 2), vec![(c(0), c(0))]), vec![alternatives]);
    let once = optimize_with_keys(plan, &keys());
    assert!(!once.to_string().contains("Filter ((#1 = 1) OR (#1 = 2))"), "{once}");
}

/// `line JOIN part ON line.part = part.id [WHERE part.brand = 4]`, left
/// joined to the average quantity per part (a decorrelated subquery).
fn per_part_average(filtered: bool, arg: Expr) -> Plan {
    let part = if filtered { filter(get(PART, "part", 2), vec![eq(c(1), int(4))]) } else { get(PART, "part", 2) };
    let outer = join(JoinKind::Inner, line(), part, vec![(c(1), c(0))]);
    let avg = Plan::Reduce(Reduce { input: Box::new(line()), group_key: vec![c(1)], aggregates: vec![avg(arg)] });
    join(JoinKind::LeftOuter, outer, avg, vec![(c(3), c(0))])
}

#[test]
fn a_selective_left_input_restricts_the_aggregate_it_joins() {
    check(
        per_part_average(true, c(2)),
        "Join left equi=[#3 = #0]\n  \
         Join inner equi=[#1 = #0]\n    Get line\n    Filter (#1 = 4)\n      Get part\n  \
         Reduce key=[#0] aggs=[avg(#1)] classes=[accumulable]\n    \
         Map (#0, #1)\n      \
         Join inner equi=[#0 = #0]\n        \
         Map (#1, #2)\n          Get line\n        \
         Distinct\n          Map (key_normalize(#0))\n            Filter (#1 = 4)\n              Get part",
    );
    // Every part: nothing to gain.
    let plan = optimize_with_keys(per_part_average(false, c(2)), &keys());
    assert!(!plan.to_string().contains("Distinct"), "{plan}");
    // An argument that can fail keeps running on every line.
    let plan = optimize_with_keys(per_part_average(true, int(6).call_binary(BinaryFunc::Div, c(2))), &keys());
    assert!(!plan.to_string().contains("Distinct"), "{plan}");
}

#[test]
fn a_table_read_twice_by_one_key_shares_its_arrangement() {
    // line filtered joined to a selective nation-like input, and line read
    // again by the same key: the filter moves above the first join.
    let small = filter(get(NAT, "nat", 2), vec![eq(c(1), int(7))]);
    let first = join(
        JoinKind::Inner,
        small,
        filter(line(), vec![c(2).call_binary(BinaryFunc::Gt, int(5))]),
        vec![(c(0), c(0))],
    );
    let second = join(JoinKind::Inner, get(ORD, "ord", 2), line(), vec![(c(0), c(0))]);
    let plan = Plan::Union(Union { inputs: vec![first, second] });
    check(
        plan,
        "Union\n  \
         Filter (#4 > 5)\n    \
         Join inner equi=[#0 = #0]\n      Filter (#1 = 7)\n        Get nat\n      Get line\n  \
         Join inner equi=[#0 = #0]\n    Get ord\n    Get line",
    );
}
