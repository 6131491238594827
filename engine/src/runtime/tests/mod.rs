//! Tests of the runtime: hand-built plans over small tables, compared with
//! a naive from-scratch evaluation written here.

mod basic;
mod min_repr;
mod naive;
mod random;
mod topk;

use crate::expr::{BinaryFunc, Expr};
use crate::plan::{
    Aggregate, AggregateFunc, Distinct, Filter, Get, Join, JoinKind, Map, Negate, ObjectId, Plan, Reduce, Threshold,
    Union,
};
use crate::value::{DataType, Row, Value};

/// An `int4` value, NULL for `None`.
fn int(v: Option<i32>) -> Value {
    v.map_or(Value::Null, Value::Int4)
}

/// A row of `int4` values.
fn ints(vs: &[Option<i32>]) -> Row {
    Row::new(vs.iter().map(|v| int(*v)).collect())
}

fn col(i: usize) -> Expr {
    Expr::Column(i)
}

fn lit(v: i32) -> Expr {
    Expr::Literal(Value::Int4(v))
}

fn get(id: u64, arity: usize) -> Plan {
    Plan::Get(Get { id: ObjectId(id), name: format!("t{id}"), types: vec![DataType::Int4; arity] })
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

fn agg(func: AggregateFunc, expr: Expr, distinct: bool) -> Aggregate {
    Aggregate { func, expr, input_type: DataType::Int4, distinct }
}

fn reduce(input: Plan, group_key: Vec<Expr>, aggregates: Vec<Aggregate>) -> Plan {
    Plan::Reduce(Reduce { input: Box::new(input), group_key, aggregates })
}

fn distinct(input: Plan) -> Plan {
    Plan::Distinct(Distinct { input: Box::new(input) })
}

fn union(inputs: Vec<Plan>) -> Plan {
    Plan::Union(Union { inputs })
}

fn negate(input: Plan) -> Plan {
    Plan::Negate(Negate { input: Box::new(input) })
}

fn threshold(input: Plan) -> Plan {
    Plan::Threshold(Threshold { input: Box::new(input) })
}

fn bin(l: Expr, f: BinaryFunc, r: Expr) -> Expr {
    l.call_binary(f, r)
}

/// Table `A(a, b)` is object 1, table `B(c, d)` object 2; the views below
/// read them (view 17 reads view 11).
fn views() -> Vec<(u64, Plan)> {
    use AggregateFunc::*;
    let a = || get(1, 2);
    let b = || get(2, 2);
    let all_aggs = |c: usize| {
        vec![
            agg(CountStar, lit(0), false),
            agg(Count, col(c), false),
            agg(Sum, col(c), false),
            agg(Avg, col(c), false),
            agg(Min, col(c), false),
            agg(Max, col(c), false),
        ]
    };
    vec![
        (10, map(filter(a(), vec![bin(col(0), BinaryFunc::Gt, lit(2))]), vec![col(1), bin(col(0), BinaryFunc::Add, lit(1))])),
        (
            11,
            join(JoinKind::Inner, a(), b(), vec![(col(0), col(0))], vec![bin(col(1), BinaryFunc::Lt, col(3))]),
        ),
        (12, join(JoinKind::LeftOuter, a(), b(), vec![(col(1), col(0))], vec![])),
        (
            13,
            join(JoinKind::LeftOuter, a(), b(), vec![(col(0), col(0))], vec![bin(col(1), BinaryFunc::NotEq, col(3))]),
        ),
        (14, reduce(a(), vec![col(0)], all_aggs(1))),
        (15, reduce(a(), vec![], all_aggs(1))),
        (16, distinct(map(a(), vec![col(1)]))),
        (17, reduce(get(11, 4), vec![col(2)], vec![agg(Sum, col(1), false), agg(Max, col(3), false)])),
        (18, threshold(union(vec![map(a(), vec![col(0)]), negate(map(b(), vec![col(0)]))]))),
        (
            19,
            reduce(
                a(),
                vec![col(0)],
                vec![agg(Count, col(1), true), agg(Sum, col(1), true), agg(Min, col(1), true), agg(Avg, col(1), true)],
            ),
        ),
        (20, join(JoinKind::Inner, a(), b(), vec![], vec![bin(col(0), BinaryFunc::Gt, col(2))])),
        (21, reduce(b(), vec![], vec![])),
        (22, reduce(join(JoinKind::Inner, a(), b(), vec![(col(1), col(1))], vec![]), vec![col(0)], vec![])),
    ]
}
