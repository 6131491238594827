//! Hand-computed cases for the reference evaluator (expected values checked
//! against PostgreSQL by hand).

use super::*;
use freshet_engine::plan::{Constant, Distinct, Filter, Get, Map, Negate, Threshold, Union};
use freshet_engine::value::Numeric;

fn row(values: Vec<Value>) -> Row {
    Row::new(values)
}
fn i(v: i32) -> Value {
    Value::Int4(v)
}
fn t(s: &str) -> Value {
    Value::text(s)
}
fn n(mantissa: i128, scale: u16) -> Value {
    Value::Numeric(Numeric::from_parts(mantissa, scale))
}
const NULL: Value = Value::Null;

fn get(id: u64, types: Vec<DataType>) -> Plan {
    Plan::Get(Get { id: ObjectId(id), name: format!("t{id}"), types })
}
fn tables(contents: Vec<(u64, Bag)>) -> BTreeMap<ObjectId, Bag> {
    contents.into_iter().map(|(id, rows)| (ObjectId(id), rows)).collect()
}
fn c(k: usize) -> Expr {
    Expr::Column(k)
}
fn lit(v: Value) -> Expr {
    Expr::Literal(v)
}

#[test]
fn consolidate_sums_and_drops_zeros() {
    let a = row(vec![i(1)]);
    let b = row(vec![i(2)]);
    let c0 = row(vec![NULL]);
    let got = consolidate(vec![(a.clone(), 1), (b.clone(), 2), (a, -1), (c0, 0), (b.clone(), 1)]);
    assert_eq!(got, vec![(b, 3)]);
    // Representation-exact: 1.0 and 1.00 stay apart, in total order.
    let got = consolidate(vec![(row(vec![n(100, 2)]), 1), (row(vec![n(10, 1)]), 1)]);
    assert_eq!(got, vec![(row(vec![n(10, 1)]), 1), (row(vec![n(100, 2)]), 1)]);
}

#[test]
fn filter_keeps_only_true_and_evaluates_conjuncts_in_order() {
    let db =
        tables(vec![(1, vec![(row(vec![i(1)]), 1), (row(vec![NULL]), 1), (row(vec![i(3)]), 2), (row(vec![i(0)]), 1)])]);
    let scan = get(1, vec![DataType::Int4]);
    let f = Plan::Filter(Filter {
        input: Box::new(scan.clone()),
        predicates: vec![c(0).call_binary(BinaryFunc::Gt, lit(i(1)))],
    });
    assert_eq!(evaluate(&f, &db).unwrap(), vec![(row(vec![i(3)]), 2)]);
    let f =
        Plan::Filter(Filter { input: Box::new(scan.clone()), predicates: vec![c(0).call_unary(UnaryFunc::IsNull)] });
    assert_eq!(evaluate(&f, &db).unwrap(), vec![(row(vec![NULL]), 1)]);
    // `#0 <> 0` first, so `10 / #0` never sees the zero.
    let guarded = Plan::Filter(Filter {
        input: Box::new(scan.clone()),
        predicates: vec![
            c(0).call_binary(BinaryFunc::NotEq, lit(i(0))),
            lit(i(10)).call_binary(BinaryFunc::Div, c(0)).call_binary(BinaryFunc::Gt, lit(i(4))),
        ],
    });
    assert_eq!(evaluate(&guarded, &db).unwrap(), vec![(row(vec![i(1)]), 1)]);
    let unguarded =
        Plan::Map(Map { input: Box::new(scan), exprs: vec![lit(i(10)).call_binary(BinaryFunc::Div, c(0))] });
    assert_eq!(evaluate(&unguarded, &db), Err(EvalError::DivisionByZero));
}

fn join_fixture() -> BTreeMap<ObjectId, Bag> {
    tables(vec![
        (
            1,
            vec![
                (row(vec![i(1), t("a")]), 1),
                (row(vec![i(1), t("b")]), 1),
                (row(vec![NULL, t("c")]), 1),
                (row(vec![i(2), t("d")]), 2),
            ],
        ),
        (2, vec![(row(vec![i(1), t("x")]), 2), (row(vec![NULL, t("y")]), 1), (row(vec![i(3), t("z")]), 1)]),
    ])
}

fn join_plan(kind: JoinKind, residual: Vec<Expr>) -> Plan {
    let types = vec![DataType::Int4, DataType::Text];
    Plan::Join(Join {
        kind,
        left: Box::new(get(1, types.clone())),
        right: Box::new(get(2, types)),
        equi: vec![(c(0), c(0))],
        residual,
    })
}

#[test]
fn inner_join_matches_equal_non_null_keys_with_multiplied_counts() {
    let got = evaluate(&join_plan(JoinKind::Inner, vec![]), &join_fixture()).unwrap();
    assert_eq!(got, vec![(row(vec![i(1), t("a"), i(1), t("x")]), 2), (row(vec![i(1), t("b"), i(1), t("x")]), 2)]);
}

#[test]
fn left_join_pads_left_rows_without_match() {
    let got = evaluate(&join_plan(JoinKind::LeftOuter, vec![]), &join_fixture()).unwrap();
    assert_eq!(
        got,
        vec![
            (row(vec![NULL, t("c"), NULL, NULL]), 1),
            (row(vec![i(1), t("a"), i(1), t("x")]), 2),
            (row(vec![i(1), t("b"), i(1), t("x")]), 2),
            (row(vec![i(2), t("d"), NULL, NULL]), 2),
        ]
    );
    // An ON residual no pair satisfies: every left row padded once per
    // unit of its multiplicity.
    let never = c(3).call_binary(BinaryFunc::NotEq, lit(t("x")));
    let got = evaluate(&join_plan(JoinKind::LeftOuter, vec![never]), &join_fixture()).unwrap();
    assert_eq!(
        got,
        vec![
            (row(vec![NULL, t("c"), NULL, NULL]), 1),
            (row(vec![i(1), t("a"), NULL, NULL]), 1),
            (row(vec![i(1), t("b"), NULL, NULL]), 1),
            (row(vec![i(2), t("d"), NULL, NULL]), 2),
        ]
    );
}

#[test]
fn full_join_pads_unmatched_rows_of_both_sides() {
    let got = evaluate(&join_plan(JoinKind::FullOuter, vec![]), &join_fixture()).unwrap();
    assert_eq!(
        got,
        vec![
            (row(vec![NULL, NULL, NULL, t("y")]), 1),
            (row(vec![NULL, NULL, i(3), t("z")]), 1),
            (row(vec![NULL, t("c"), NULL, NULL]), 1),
            (row(vec![i(1), t("a"), i(1), t("x")]), 2),
            (row(vec![i(1), t("b"), i(1), t("x")]), 2),
            (row(vec![i(2), t("d"), NULL, NULL]), 2),
        ]
    );
    // No pair satisfies the residual: every row of both sides padded, once
    // per unit of its multiplicity.
    let never = c(3).call_binary(BinaryFunc::NotEq, lit(t("x")));
    let got = evaluate(&join_plan(JoinKind::FullOuter, vec![never]), &join_fixture()).unwrap();
    assert_eq!(
        got,
        vec![
            (row(vec![NULL, NULL, NULL, t("y")]), 1),
            (row(vec![NULL, NULL, i(1), t("x")]), 2),
            (row(vec![NULL, NULL, i(3), t("z")]), 1),
            (row(vec![NULL, t("c"), NULL, NULL]), 1),
            (row(vec![i(1), t("a"), NULL, NULL]), 1),
            (row(vec![i(1), t("b"), NULL, NULL]), 1),
            (row(vec![i(2), t("d"), NULL, NULL]), 2),
        ]
    );
}

fn agg(func: AggregateFunc, expr: Expr, input_type: DataType, distinct: bool) -> Aggregate {
    Aggregate { func, expr, input_type, distinct }
}

#[test]
fn grouped_aggregates_with_nulls_and_duplicates() {
    let db = tables(vec![(
        1,
        vec![
            (row(vec![i(1), i(10)]), 2),
            (row(vec![i(1), NULL]), 1),
            (row(vec![i(2), i(5)]), 1),
            (row(vec![NULL, i(7)]), 1),
            (row(vec![NULL, i(1)]), 1),
        ],
    )]);
    let int = DataType::Int4;
    let plan = Plan::Reduce(Reduce {
        input: Box::new(get(1, vec![int, int])),
        group_key: vec![c(0)],
        aggregates: vec![
            agg(AggregateFunc::CountStar, lit(NULL), int, false),
            agg(AggregateFunc::Count, c(1), int, false),
            agg(AggregateFunc::Sum, c(1), int, false),
            agg(AggregateFunc::Min, c(1), int, false),
            agg(AggregateFunc::Max, c(1), int, false),
            agg(AggregateFunc::Count, c(1), int, true),
            agg(AggregateFunc::Avg, c(1), int, false),
        ],
    });
    let avg = |whole: i128| n(whole * 10i128.pow(16), 16);
    let i8 = Value::Int8;
    assert_eq!(
        evaluate(&plan, &db).unwrap(),
        vec![
            (row(vec![NULL, i8(2), i8(2), i8(8), i(1), i(7), i8(2), avg(4)]), 1),
            (row(vec![i(1), i8(3), i8(2), i8(20), i(10), i(10), i8(1), avg(10)]), 1),
            (row(vec![i(2), i8(1), i8(1), i8(5), i(5), i(5), i8(1), avg(5)]), 1),
        ]
    );
}

#[test]
fn global_aggregate_over_empty_input_is_one_row() {
    let db = tables(vec![(1, vec![])]);
    let int = DataType::Int4;
    let plan = Plan::Reduce(Reduce {
        input: Box::new(get(1, vec![int])),
        group_key: vec![],
        aggregates: vec![
            agg(AggregateFunc::CountStar, lit(NULL), int, false),
            agg(AggregateFunc::Count, c(0), int, false),
            agg(AggregateFunc::Sum, c(0), int, false),
            agg(AggregateFunc::Max, c(0), int, false),
        ],
    });
    assert_eq!(evaluate(&plan, &db).unwrap(), vec![(row(vec![Value::Int8(0), Value::Int8(0), NULL, NULL]), 1)]);
    // A keyed reduce over nothing has no groups.
    let keyed = Plan::Reduce(Reduce { input: Box::new(get(1, vec![int])), group_key: vec![c(0)], aggregates: vec![] });
    assert_eq!(evaluate(&keyed, &db).unwrap(), vec![]);
}

#[test]
fn numeric_sums_averages_and_distinct_merge_equal_values() {
    // (1.0), (1.00), (2.5): sum 4.50, avg 1.5000000000000000,
    // sum(DISTINCT) 3.5, avg(DISTINCT) 1.7500000000000000.
    let db = tables(vec![(1, vec![(row(vec![n(10, 1)]), 1), (row(vec![n(100, 2)]), 1), (row(vec![n(25, 1)]), 1)])]);
    let num = DataType::Numeric(None);
    let scan = get(1, vec![num]);
    let plan = Plan::Reduce(Reduce {
        input: Box::new(scan.clone()),
        group_key: vec![],
        aggregates: vec![
            agg(AggregateFunc::Sum, c(0), num, false),
            agg(AggregateFunc::Avg, c(0), num, false),
            agg(AggregateFunc::Sum, c(0), num, true),
            agg(AggregateFunc::Avg, c(0), num, true),
            agg(AggregateFunc::Min, c(0), num, false),
        ],
    });
    assert_eq!(
        evaluate(&plan, &db).unwrap(),
        vec![(
            row(vec![n(450, 2), n(15_000_000_000_000_000, 16), n(35, 1), n(17_500_000_000_000_000, 16), n(10, 1)]),
            1
        )]
    );
    let distinct = Plan::Distinct(Distinct { input: Box::new(scan.clone()) });
    assert_eq!(evaluate(&distinct, &db).unwrap(), vec![(row(vec![n(10, 1)]), 1), (row(vec![n(25, 1)]), 1)]);
    // Grouping merges 1.0 and 1.00 into one group keyed 1.0.
    let grouped = Plan::Reduce(Reduce {
        input: Box::new(scan),
        group_key: vec![c(0)],
        aggregates: vec![agg(AggregateFunc::CountStar, lit(NULL), num, false)],
    });
    assert_eq!(
        evaluate(&grouped, &db).unwrap(),
        vec![(row(vec![n(10, 1), Value::Int8(2)]), 1), (row(vec![n(25, 1), Value::Int8(1)]), 1)]
    );
}

#[test]
fn union_negate_threshold_compute_except_all() {
    // {1,1,1,2} EXCEPT ALL {1,2,2,3} = {1,1}.
    let a = Plan::Constant(Constant { rows: vec![(row(vec![i(1)]), 3), (row(vec![i(2)]), 1)], arity: 1 });
    let b = Plan::Constant(Constant {
        rows: vec![(row(vec![i(1)]), 1), (row(vec![i(2)]), 1), (row(vec![i(2)]), 1), (row(vec![i(3)]), 1)],
        arity: 1,
    });
    let diff = Plan::Union(Union { inputs: vec![a, Plan::Negate(Negate { input: Box::new(b) })] });
    let db = BTreeMap::new();
    assert_eq!(evaluate(&diff, &db).unwrap(), vec![(row(vec![i(1)]), 2), (row(vec![i(2)]), -1), (row(vec![i(3)]), -1)]);
    let except = Plan::Threshold(Threshold { input: Box::new(diff) });
    assert_eq!(evaluate(&except, &db).unwrap(), vec![(row(vec![i(1)]), 2)]);
    // DISTINCT over a bag with duplicates and a NULL.
    let dup = Plan::Constant(Constant { rows: vec![(row(vec![NULL]), 2), (row(vec![i(4)]), 3)], arity: 1 });
    let distinct = Plan::Distinct(Distinct { input: Box::new(dup) });
    assert_eq!(evaluate(&distinct, &db).unwrap(), vec![(row(vec![NULL]), 1), (row(vec![i(4)]), 1)]);
}

#[test]
fn missing_tables_and_negative_aggregate_inputs_are_errors() {
    let db = tables(vec![(1, vec![(row(vec![i(1)]), -1)])]);
    assert!(matches!(evaluate(&get(9, vec![DataType::Int4]), &db), Err(EvalError::Other(_))));
    let plan = Plan::Reduce(Reduce {
        input: Box::new(get(1, vec![DataType::Int4])),
        group_key: vec![c(0)],
        aggregates: vec![],
    });
    assert!(matches!(evaluate(&plan, &db), Err(EvalError::Other(_))));
}

#[test]
fn min_repr_shows_the_arguments_of_one_row() {
    // GROUP BY x, y over normalized keys: (1.0, 2.00) and (1.00, 2.0) are
    // one group, shown by the least pair, (1.0, 2.00) (not the mix
    // (1.0, 2.0), which no row holds); a NULL key is its own group.
    let num = DataType::Numeric(None);
    let scan = get(1, vec![num, num]);
    let db = tables(vec![(
        1,
        vec![
            (row(vec![n(100, 2), n(20, 1)]), 2),
            (row(vec![n(10, 1), n(200, 2)]), 1),
            (row(vec![NULL, n(3, 0)]), 1),
        ],
    )]);
    let key = |k: usize| c(k).call_unary(UnaryFunc::KeyNormalize);
    let grouped = Plan::Reduce(Reduce {
        input: Box::new(scan),
        group_key: vec![key(0), key(1)],
        aggregates: vec![
            agg(AggregateFunc::MinRepr, c(0), num, false),
            agg(AggregateFunc::CountStar, lit(NULL), num, false),
            agg(AggregateFunc::MinRepr, c(1), num, false),
        ],
    });
    assert_eq!(
        evaluate(&grouped, &db).unwrap(),
        vec![
            (row(vec![NULL, n(3, 0), NULL, Value::Int8(1), n(3, 0)]), 1),
            (row(vec![n(1, 0), n(2, 0), n(10, 1), Value::Int8(3), n(200, 2)]), 1),
        ]
    );
}
