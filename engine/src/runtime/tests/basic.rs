//! Single-feature tests: object lifecycle, subscriptions, errors,
//! hierarchical aggregates under deletes, one-shot queries, exact sums.

use super::{agg, bin, col, get, ints, join, lit, map, reduce};
use crate::error::EngineError;
use crate::expr::{BinaryFunc, EvalError, Expr};
use crate::plan::{Aggregate, AggregateFunc, Constant, Diff, JoinKind, ObjectId, Plan};
use crate::runtime::{Runtime, RuntimeConfig, ViewUpdate};
use crate::value::{DataType, Row, Value, F64};

fn runtime(workers: usize) -> Runtime {
    let mut rt = Runtime::new(RuntimeConfig { workers }).expect("runtime");
    rt.create_table(ObjectId(1), 2).expect("table");
    rt
}

fn r(vs: &[i32]) -> Row {
    ints(&vs.iter().map(|v| Some(*v)).collect::<Vec<_>>())
}

#[test]
fn drop_table_in_use_and_drop_view() {
    for workers in [1, 2] {
        let mut rt = runtime(workers);
        rt.create_view(ObjectId(10), &map(get(1, 2), vec![col(1)])).unwrap();
        rt.create_view(ObjectId(11), &get(10, 1)).unwrap();
        assert!(matches!(rt.drop_table(ObjectId(1)), Err(EngineError::InUse(ObjectId(1), ObjectId(10)))));
        assert!(matches!(rt.drop_view(ObjectId(10)), Err(EngineError::InUse(ObjectId(10), ObjectId(11)))));
        assert!(matches!(rt.create_view(ObjectId(11), &get(1, 2)), Err(EngineError::DuplicateObject(_))));
        assert!(matches!(rt.create_view(ObjectId(12), &get(5, 2)), Err(EngineError::UnknownObject(ObjectId(5)))));
        rt.apply(vec![(ObjectId(1), r(&[1, 2]), 1)]).unwrap();
        assert_eq!(rt.read(ObjectId(11)).unwrap(), vec![(r(&[2]), 1)]);
        rt.drop_view(ObjectId(11)).unwrap();
        rt.drop_view(ObjectId(10)).unwrap();
        assert!(matches!(rt.read(ObjectId(10)), Err(EngineError::UnknownObject(_))));
        rt.drop_table(ObjectId(1)).unwrap();
        assert!(matches!(rt.apply(vec![(ObjectId(1), r(&[1, 2]), 1)]), Err(EngineError::UnknownObject(_))));
        // the runtime keeps working after drops
        rt.create_table(ObjectId(2), 1).unwrap();
        rt.create_view(ObjectId(20), &get(2, 1)).unwrap();
        rt.apply(vec![(ObjectId(2), r(&[5]), 2)]).unwrap();
        assert_eq!(rt.read(ObjectId(20)).unwrap(), vec![(r(&[5]), 2)]);
    }
}

#[test]
fn subscribe_sees_contents_then_diffs() {
    let mut rt = runtime(1);
    rt.apply(vec![(ObjectId(1), r(&[1, 10]), 1), (ObjectId(1), r(&[2, 20]), 1)]).unwrap();
    rt.create_view(ObjectId(10), &reduce(get(1, 2), vec![], vec![agg(AggregateFunc::Sum, col(1), false)])).unwrap();
    let sub = rt.subscribe(ObjectId(10)).unwrap();
    assert_eq!(sub.try_recv(), Some(ViewUpdate { time: 1, diffs: vec![(Row::new(vec![Value::Int8(30)]), 1)] }));
    rt.apply(vec![(ObjectId(1), r(&[3, 5]), 1)]).unwrap();
    assert_eq!(
        sub.try_recv(),
        Some(ViewUpdate {
            time: 2,
            diffs: vec![(Row::new(vec![Value::Int8(30)]), -1), (Row::new(vec![Value::Int8(35)]), 1)]
        })
    );
    rt.apply(vec![]).unwrap();
    assert_eq!(sub.try_recv(), Some(ViewUpdate { time: 3, diffs: vec![] }));
    assert_eq!(sub.try_recv(), None);
    rt.drop_view(ObjectId(10)).unwrap();
    assert_eq!(sub.recv(), None);
}

#[test]
fn view_created_after_data_sees_it() {
    for workers in [1, 3] {
        let mut rt = runtime(workers);
        let rows: Vec<_> = (0..100).map(|i| (ObjectId(1), r(&[i % 7, i]), 1)).collect();
        rt.apply(rows).unwrap();
        rt.apply(vec![(ObjectId(1), r(&[0, 0]), -1)]).unwrap();
        rt.create_view(ObjectId(10), &reduce(get(1, 2), vec![col(0)], vec![agg(AggregateFunc::CountStar, lit(0), false)]))
            .unwrap();
        let got = rt.read(ObjectId(10)).unwrap();
        let expected: Vec<_> = (0..7)
            .map(|g| {
                let n = (0..100).filter(|i| i % 7 == g).count() as i64 - if g == 0 { 1 } else { 0 };
                (Row::new(vec![Value::Int4(g), Value::Int8(n)]), 1)
            })
            .collect();
        assert_eq!(got, expected);
    }
}

#[test]
fn errors_appear_and_disappear() {
    for workers in [1, 2] {
        let mut rt = runtime(workers);
        rt.create_view(ObjectId(10), &map(get(1, 2), vec![bin(col(0), BinaryFunc::Div, col(1))])).unwrap();
        rt.create_view(ObjectId(11), &reduce(get(10, 1), vec![], vec![agg(AggregateFunc::CountStar, lit(0), false)]))
            .unwrap();
        rt.apply(vec![(ObjectId(1), r(&[6, 3]), 1)]).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(r(&[2]), 1)]);
        rt.apply(vec![(ObjectId(1), r(&[1, 0]), 1)]).unwrap();
        assert!(matches!(rt.read(ObjectId(10)), Err(EngineError::Eval(EvalError::DivisionByZero))));
        // errors propagate to views over the failing view
        assert!(matches!(rt.read(ObjectId(11)), Err(EngineError::Eval(EvalError::DivisionByZero))));
        // and a new view over it sees the error too
        rt.create_view(ObjectId(12), &get(10, 1)).unwrap();
        assert!(matches!(rt.read(ObjectId(12)), Err(EngineError::Eval(EvalError::DivisionByZero))));
        rt.apply(vec![(ObjectId(1), r(&[1, 0]), -1)]).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(r(&[2]), 1)]);
        assert_eq!(rt.read(ObjectId(11)).unwrap(), vec![(Row::new(vec![Value::Int8(1)]), 1)]);
        assert_eq!(rt.read(ObjectId(12)).unwrap(), vec![(r(&[2]), 1)]);
    }
}

#[test]
fn hierarchical_min_max_under_deletes_of_the_extremes() {
    let mut rt = runtime(1);
    let plan = reduce(
        get(1, 2),
        vec![col(0)],
        vec![agg(AggregateFunc::Min, col(1), false), agg(AggregateFunc::Max, col(1), false)],
    );
    rt.create_view(ObjectId(10), &plan).unwrap();
    let n = 2000;
    rt.apply((0..n).map(|i| (ObjectId(1), r(&[i % 2, i]), 1)).collect()).unwrap();
    rt.apply(vec![(ObjectId(1), ints(&[Some(0), None]), 1)]).unwrap();
    let mut lo = [0, 1];
    let mut hi = [n - 2, n - 1];
    for _ in 0..300 {
        let expected: Vec<(Row, Diff)> = (0..2).map(|g| (r(&[g, lo[g as usize], hi[g as usize]]), 1)).collect();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expected);
        // delete the current minimum of group 0 and maximum of group 1
        rt.apply(vec![(ObjectId(1), r(&[0, lo[0]]), -1), (ObjectId(1), r(&[1, hi[1]]), -1)]).unwrap();
        lo[0] += 2;
        hi[1] -= 2;
    }
    // a group left with only NULLs has NULL min and max
    let rows: Vec<_> = (0..n).filter(|i| i % 2 == 0 && *i >= lo[0]).map(|i| (ObjectId(1), r(&[0, i]), -1)).collect();
    rt.apply(rows).unwrap();
    let got = rt.read(ObjectId(10)).unwrap();
    assert_eq!(got[0], (ints(&[Some(0), None, None]), 1));
}

#[test]
fn query_with_overlay_and_constants() {
    for workers in [1, 2] {
        let mut rt = runtime(workers);
        rt.apply(vec![(ObjectId(1), r(&[1, 1]), 1), (ObjectId(1), r(&[2, 2]), 1)]).unwrap();
        let plan = reduce(get(1, 2), vec![], vec![agg(AggregateFunc::Sum, col(1), false)]);
        let got = rt.query(&plan, &[(ObjectId(1), r(&[2, 2]), -1), (ObjectId(1), r(&[3, 30]), 1)]).unwrap();
        assert_eq!(got, vec![(Row::new(vec![Value::Int8(31)]), 1)]);
        // committed state untouched
        assert_eq!(rt.query(&plan, &[]).unwrap(), vec![(Row::new(vec![Value::Int8(3)]), 1)]);
        let constant = Plan::Constant(Constant { rows: vec![(r(&[7]), 2), (r(&[8]), 1)], arity: 1 });
        let joined = join(JoinKind::Inner, get(1, 2), constant, vec![(col(0), col(0))], vec![]);
        rt.apply(vec![(ObjectId(1), r(&[7, 0]), 1)]).unwrap();
        assert_eq!(rt.query(&joined, &[]).unwrap(), vec![(r(&[7, 0, 7]), 2)]);
        rt.create_view(ObjectId(10), &joined).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(r(&[7, 0, 7]), 2)]);
        let bad = map(get(1, 2), vec![bin(col(0), BinaryFunc::Div, lit(0))]);
        assert!(matches!(rt.query(&bad, &[]), Err(EngineError::Eval(EvalError::DivisionByZero))));
    }
}

#[test]
fn global_aggregate_over_empty_input() {
    let mut rt = runtime(2);
    let plan = reduce(
        get(1, 2),
        vec![],
        vec![agg(AggregateFunc::CountStar, lit(0), false), agg(AggregateFunc::Max, col(0), false)],
    );
    rt.create_view(ObjectId(10), &plan).unwrap();
    assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(Row::new(vec![Value::Int8(0), Value::Null]), 1)]);
    rt.apply(vec![(ObjectId(1), r(&[4, 0]), 1)]).unwrap();
    assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(Row::new(vec![Value::Int8(1), Value::Int4(4)]), 1)]);
    rt.apply(vec![(ObjectId(1), r(&[4, 0]), -1)]).unwrap();
    assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(Row::new(vec![Value::Int8(0), Value::Null]), 1)]);
}

#[test]
fn float_and_numeric_sums_are_exact_and_invertible() {
    let mut rt = Runtime::new(RuntimeConfig::default()).unwrap();
    rt.create_table(ObjectId(1), 2).unwrap();
    let typed = |func, ty| Aggregate { func, expr: Expr::Column(if ty == DataType::Float8 { 0 } else { 1 }), input_type: ty, distinct: false };
    let plan = Plan::Reduce(crate::plan::Reduce {
        input: Box::new(Plan::Get(crate::plan::Get {
            id: ObjectId(1),
            name: "t".into(),
            types: vec![DataType::Float8, DataType::Numeric(None)],
        })),
        group_key: vec![],
        aggregates: vec![
            typed(AggregateFunc::Sum, DataType::Float8),
            typed(AggregateFunc::Sum, DataType::Numeric(None)),
        ],
    });
    rt.create_view(ObjectId(10), &plan).unwrap();
    let f = |v: f64| Value::Float8(F64(v));
    let n = |m: i128, s: u16| Value::Numeric(crate::value::Numeric::from_parts(m, s));
    rt.apply(vec![
        (ObjectId(1), Row::new(vec![f(0.1), n(15, 1)]), 1),
        (ObjectId(1), Row::new(vec![f(0.2), n(225, 2)]), 1),
        (ObjectId(1), Row::new(vec![f(1e300), n(1, 0)]), 1),
    ])
    .unwrap();
    rt.apply(vec![(ObjectId(1), Row::new(vec![f(1e300), n(1, 0)]), -1)]).unwrap();
    // 0.1 + 0.2 rounded once; 1.5 + 2.25 at scale 2
    assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(Row::new(vec![f(0.30000000000000004), n(375, 2)]), 1)]);
    rt.apply(vec![(ObjectId(1), Row::new(vec![f(0.2), n(225, 2)]), -1)]).unwrap();
    // the scale falls back to the largest scale still present
    assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(Row::new(vec![f(0.1), n(15, 1)]), 1)]);
}

#[test]
fn view_error_reports_the_least_error_without_reading_rows() {
    for workers in [1, 2] {
        let mut rt = runtime(workers);
        // a / b, and b's range check: 2147483647 + b overflows for b > 0.
        let plan = map(
            get(1, 2),
            vec![bin(col(0), BinaryFunc::Div, col(1)), bin(lit(i32::MAX), BinaryFunc::Add, col(1))],
        );
        rt.create_view(ObjectId(10), &plan).unwrap();
        rt.create_view(ObjectId(11), &reduce(get(10, 2), vec![], vec![agg(AggregateFunc::CountStar, lit(0), false)]))
            .unwrap();
        assert!(matches!(rt.view_error(ObjectId(1)), Err(EngineError::UnknownObject(ObjectId(1)))));
        assert!(matches!(rt.view_error(ObjectId(99)), Err(EngineError::UnknownObject(ObjectId(99)))));
        rt.apply(vec![(ObjectId(1), r(&[6, -3]), 1)]).unwrap();
        assert_eq!(rt.view_error(ObjectId(10)).unwrap(), None);
        rt.apply(vec![(ObjectId(1), r(&[1, 0]), 1)]).unwrap();
        assert_eq!(rt.view_error(ObjectId(10)).unwrap(), Some(EvalError::DivisionByZero));
        assert_eq!(rt.view_error(ObjectId(11)).unwrap(), Some(EvalError::DivisionByZero), "propagates to readers");
        // The view keeps its other rows meanwhile.
        rt.apply(vec![(ObjectId(1), r(&[4, 2]), 1)]).unwrap();
        let overflow = match rt.read(ObjectId(10)) {
            Err(EngineError::Eval(e)) => e,
            other => panic!("expected an evaluation error, got {other:?}"),
        };
        let least = rt.view_error(ObjectId(10)).unwrap().expect("two errors");
        let expected = if EvalError::DivisionByZero <= overflow { EvalError::DivisionByZero } else { overflow.clone() };
        assert_eq!(least, expected, "the least of division by zero and {overflow}");
        assert_eq!(rt.read(ObjectId(10)).unwrap_err().to_string(), least.to_string(), "same as read reports");
        rt.apply(vec![(ObjectId(1), r(&[1, 0]), -1), (ObjectId(1), r(&[4, 2]), -1)]).unwrap();
        assert_eq!(rt.view_error(ObjectId(10)).unwrap(), None);
        assert_eq!(rt.view_error(ObjectId(11)).unwrap(), None);
        assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(r(&[-2, i32::MAX - 3]), 1)]);
    }
}
