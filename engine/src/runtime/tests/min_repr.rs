//! `min_repr` under grouping by normalized keys: the representative of a
//! group of SQL-equal values is its least representation, and it moves to
//! the next one when the current one is deleted.

use super::{col, get, reduce};
use crate::expr::{Expr, UnaryFunc};
use crate::plan::{Aggregate, AggregateFunc, Diff, ObjectId};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::value::{DataType, Numeric, Row, Value, F64};

fn runtime(workers: usize) -> Runtime {
    let mut rt = Runtime::new(RuntimeConfig { workers }).expect("runtime");
    rt.create_table(ObjectId(1), 2).expect("table");
    rt
}

/// `m / 10^scale` as a numeric value.
fn num(m: i128, scale: u16) -> Value {
    Value::Numeric(Numeric::from_parts(m, scale))
}

fn row(vs: &[Value]) -> Row {
    Row::new(vs.to_vec())
}

fn normalized(c: usize) -> Expr {
    col(c).call_unary(UnaryFunc::KeyNormalize)
}

fn agg(func: AggregateFunc, expr: Expr) -> Aggregate {
    Aggregate { func, expr, input_type: DataType::Numeric(None), distinct: false }
}

#[test]
fn representative_follows_deletes() {
    for workers in [1, 2] {
        let mut rt = runtime(workers);
        // GROUP BY x (column 1) with count(*): key, count, min_repr(x).
        let plan = reduce(
            get(1, 2),
            vec![normalized(1)],
            vec![agg(AggregateFunc::CountStar, col(0)), agg(AggregateFunc::MinRepr, col(1))],
        );
        rt.create_view(ObjectId(10), &plan).unwrap();
        // 1.00 (x2), 1.0, 1.000, 1 and 2.50, in no particular order.
        let ones = [num(100, 2), num(10, 1), num(1000, 3), num(1, 0)];
        let mut changes = Vec::new();
        for (i, v) in ones.iter().enumerate() {
            changes.push((ObjectId(1), row(&[Value::Int4(i as i32), v.clone()]), 1));
        }
        changes.push((ObjectId(1), row(&[Value::Int4(9), num(100, 2)]), 1));
        changes.push((ObjectId(1), row(&[Value::Int4(5), num(250, 2)]), 1));
        rt.apply(changes).unwrap();
        let expect = |one: Option<(i64, Value)>| -> Vec<(Row, Diff)> {
            let mut rows = Vec::new();
            if let Some((n, v)) = one {
                rows.push((row(&[num(1, 0), Value::Int8(n), v]), 1));
            }
            rows.push((row(&[num(25, 1), Value::Int8(1), num(250, 2)]), 1));
            rows
        };
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expect(Some((5, num(1, 0)))));
        // Delete the representative each time: 1, then 1.0, then one of
        // the two 1.00 (which stays), then the other, then 1.000.
        rt.apply(vec![(ObjectId(1), row(&[Value::Int4(3), num(1, 0)]), -1)]).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expect(Some((4, num(10, 1)))));
        rt.apply(vec![(ObjectId(1), row(&[Value::Int4(1), num(10, 1)]), -1)]).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expect(Some((3, num(100, 2)))));
        rt.apply(vec![(ObjectId(1), row(&[Value::Int4(0), num(100, 2)]), -1)]).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expect(Some((2, num(100, 2)))));
        rt.apply(vec![(ObjectId(1), row(&[Value::Int4(9), num(100, 2)]), -1)]).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expect(Some((1, num(1000, 3)))));
        // A smaller representation arriving takes over; the group ends
        // when its last row goes.
        rt.apply(vec![(ObjectId(1), row(&[Value::Int4(7), num(10, 1)]), 1)]).unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expect(Some((2, num(10, 1)))));
        rt.apply(vec![
            (ObjectId(1), row(&[Value::Int4(7), num(10, 1)]), -1),
            (ObjectId(1), row(&[Value::Int4(2), num(1000, 3)]), -1),
        ])
        .unwrap();
        assert_eq!(rt.read(ObjectId(10)).unwrap(), expect(None));
    }
}

#[test]
fn several_representatives_come_from_one_row() {
    let mut rt = runtime(1);
    // GROUP BY a, b over two float8 / numeric columns: the pair shown is
    // one that occurs, the least in the total order.
    let plan = reduce(
        get(1, 2),
        vec![normalized(0), normalized(1)],
        vec![agg(AggregateFunc::MinRepr, col(0)), agg(AggregateFunc::MinRepr, col(1))],
    );
    rt.create_view(ObjectId(10), &plan).unwrap();
    let zero = Value::Float8(F64(0.0));
    let minus_zero = Value::Float8(F64(-0.0));
    let a = row(&[minus_zero.clone(), num(200, 2)]);
    let b = row(&[zero.clone(), num(20, 1)]);
    rt.apply(vec![(ObjectId(1), a.clone(), 1), (ObjectId(1), b.clone(), 1)]).unwrap();
    let shown = |pair: &Row| vec![(row(&[zero.clone(), num(2, 0), pair[0].clone(), pair[1].clone()]), 1)];
    // -0 precedes 0 in the total order, so `a` is the least pair (a
    // column-wise choice would show the pair (-0, 2.0), which no row has).
    assert!(a < b);
    assert_eq!(rt.read(ObjectId(10)).unwrap(), shown(&a));
    rt.apply(vec![(ObjectId(1), a, -1)]).unwrap();
    assert_eq!(rt.read(ObjectId(10)).unwrap(), shown(&b));
}

#[test]
fn min_and_max_prefer_the_least_representation_of_equal_extremes() {
    let mut rt = runtime(1);
    let plan = reduce(
        get(1, 2),
        vec![],
        vec![agg(AggregateFunc::Min, col(1)), agg(AggregateFunc::Max, col(1))],
    );
    rt.create_view(ObjectId(10), &plan).unwrap();
    // Many rows, so the equal extremes meet in different buckets.
    let mut changes: Vec<_> = (0..200).map(|i| (ObjectId(1), row(&[Value::Int4(i), num(5, 0)]), 1)).collect();
    changes.push((ObjectId(1), row(&[Value::Int4(-1), num(1000, 3)]), 1));
    changes.push((ObjectId(1), row(&[Value::Int4(-2), num(10, 1)]), 1));
    changes.push((ObjectId(1), row(&[Value::Int4(-3), num(900, 2)]), 1));
    changes.push((ObjectId(1), row(&[Value::Int4(-4), num(90, 1)]), 1));
    rt.apply(changes).unwrap();
    assert_eq!(rt.read(ObjectId(10)).unwrap(), vec![(row(&[num(10, 1), num(90, 1)]), 1)]);
}
