//! The `bool_and`/`bool_or` and variance states: PostgreSQL's values,
//! exact in every grouping of partial sums, and invertible (adding then
//! retracting returns to zero).

use differential_dataflow::difference::{Abelian, IsZero, Monoid, Multiply, Semigroup};
use proptest::prelude::*;

use super::acc_state::{AccKind, AccState};
use super::accum::Accum;
use super::tests::{agg, tree_sum, MultiplyState};
use crate::expr::EvalError;
use crate::plan::AggregateFunc;
use crate::value::{DataType, Numeric, Value, F64};

const VARIANCES: [AggregateFunc; 4] =
    [AggregateFunc::VarSamp, AggregateFunc::VarPop, AggregateFunc::StddevSamp, AggregateFunc::StddevPop];

fn kind(func: AggregateFunc, input_type: DataType) -> AccKind {
    AccKind::of(&agg(func, input_type)).unwrap()
}

/// The state of `values` (each once) for `kind`.
fn state_of(kind: AccKind, values: &[Value]) -> AccState {
    let mut values = values.iter();
    let mut s = match values.next() {
        Some(v) => kind.contribution(v).unwrap(),
        None => kind.contribution(&Value::Null).unwrap(),
    };
    for v in values {
        s.plus_equals(&kind.contribution(v).unwrap());
    }
    s
}

/// The four variance aggregates of `values`, as text (NULL as `NULL`).
fn variances(input_type: DataType, values: &[Value]) -> Vec<String> {
    let s = state_of(kind(AggregateFunc::VarSamp, input_type), values);
    VARIANCES
        .iter()
        .map(|f| match s.finish(*f, input_type, values.len() as i64) {
            Ok(Value::Null) => "NULL".to_string(),
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {e}"),
        })
        .collect()
}

fn ints(vs: &[i64]) -> Vec<Value> {
    vs.iter().map(|v| Value::Int8(*v)).collect()
}

fn nums(vs: &[&str]) -> Vec<Value> {
    vs.iter().map(|v| Value::Numeric(Numeric::parse(v).unwrap())).collect()
}

fn floats(vs: &[f64]) -> Vec<Value> {
    vs.iter().map(|v| Value::Float8(F64(*v))).collect()
}

/// Values computed by PostgreSQL 15 (`var_samp`, `var_pop`,
/// `stddev_samp`, `stddev_pop`).
#[test]
fn variances_match_postgresql() {
    let cases: Vec<(DataType, Vec<Value>, [&str; 4])> = vec![
        (
            DataType::Int4,
            ints(&[1, 2, 3, 4]),
            ["1.6666666666666667", "1.2500000000000000", "1.2909944487358056", "1.1180339887498948"],
        ),
        (DataType::Int8, ints(&[7]), ["NULL", "0", "NULL", "0"]),
        (DataType::Int8, ints(&[]), ["NULL", "NULL", "NULL", "NULL"]),
        (
            DataType::Int8,
            ints(&[9_000_000_000_000_000_000, -9_000_000_000_000_000_000, 5]),
            [
                "81000000000000000000000000000000000008",
                "54000000000000000000000000000000000006",
                "9000000000000000000",
                "7348469228349534295",
            ],
        ),
        (
            DataType::Numeric(None),
            nums(&["1.25", "2.5", "3.125"]),
            ["0.91145833333333333333", "0.60763888888888888889", "0.95470326978246666804", "0.77951195557790445533"],
        ),
        (DataType::Numeric(None), nums(&["1.0", "1.00"]), ["0", "0", "0", "0"]),
        (DataType::Numeric(None), nums(&["NaN", "2", "4"]), ["NaN", "NaN", "NaN", "NaN"]),
        (DataType::Numeric(None), nums(&["Infinity"]), ["NULL", "NaN", "NULL", "NaN"]),
        (
            DataType::Numeric(None),
            nums(&["1e20", "2e20", "3"]),
            [
                "9999999999999999999700000000000000000003",
                "6666666666666666666466666666666666666669",
                "99999999999999999999",
                "81649658092772603272",
            ],
        ),
        (
            DataType::Float8,
            floats(&[1.0, 2.0, 4.0]),
            ["2.3333333333333335", "1.5555555555555556", "1.5275252316519468", "1.247219128924647"],
        ),
        (DataType::Float8, floats(&[f64::INFINITY, 2.0, 4.0]), ["NaN", "NaN", "NaN", "NaN"]),
        (DataType::Float8, floats(&[f64::NAN]), ["NULL", "NaN", "NULL", "NaN"]),
        (DataType::Float8, floats(&[2.5, 2.5]), ["0", "0", "0", "0"]),
    ];
    for (ty, values, want) in cases {
        assert_eq!(variances(ty, &values), want, "{ty} {values:?}");
    }
}

#[test]
fn float_variance_of_sums_beyond_float8_is_an_overflow() {
    let got = variances(DataType::Float8, &floats(&[f64::MAX, f64::MAX]));
    assert!(got.iter().all(|v| v.contains("value out of range: overflow")), "{got:?}");
    // A finite sum whose squared deviations exceed float8 is one too, as
    // in PostgreSQL.
    let got = variances(DataType::Float8, &floats(&[1e300, -1e300]));
    assert!(got.iter().all(|v| v.contains("value out of range: overflow")), "{got:?}");
    // PostgreSQL: 9.999999999999999e+299.
    assert_eq!(variances(DataType::Float8, &floats(&[1e150, -1e150]))[1], "9.999999999999999e+299");
}

#[test]
fn bool_states_count_true_and_false() {
    let k = kind(AggregateFunc::BoolAnd, DataType::Bool);
    let s = state_of(k, &[Value::Bool(true), Value::Null, Value::Bool(false)]);
    assert!(matches!(s, AccState::Bools { trues: 1, falses: 1 }), "{s:?}");
    assert_eq!(s.finish(AggregateFunc::BoolAnd, DataType::Bool, 3), Ok(Value::Bool(false)));
    assert_eq!(s.finish(AggregateFunc::BoolOr, DataType::Bool, 3), Ok(Value::Bool(true)));
    let mut t = s.clone();
    t.plus_equals(&state_of(k, &[Value::Bool(false)]).multiply_state(-1));
    assert_eq!(t.finish(AggregateFunc::BoolAnd, DataType::Bool, 2), Ok(Value::Bool(true)));
    let nulls = state_of(k, &[Value::Null, Value::Null]);
    assert_eq!(nulls.finish(AggregateFunc::BoolOr, DataType::Bool, 2), Ok(Value::Null));
    assert!(AccKind::of(&agg(AggregateFunc::BoolAnd, DataType::Int4)).is_err());
}

/// Numeric values with several scales, specials and large mantissas.
const POOL: [&str; 9] =
    ["1.50", "2.25", "-7.1", "0.00", "3", "NaN", "Infinity", "170141183460469231731687303715.727", "0.001"];

fn finish_all(acc: &Accum, types: &[DataType]) -> Vec<Result<Value, EvalError>> {
    let funcs = [
        AggregateFunc::VarSamp,
        AggregateFunc::StddevPop,
        AggregateFunc::VarPop,
        AggregateFunc::StddevSamp,
        AggregateFunc::BoolAnd,
        AggregateFunc::BoolOr,
    ];
    funcs.iter().zip(acc.states.iter()).zip(types).map(|((f, s), t)| s.finish(*f, *t, acc.rows)).collect()
}

/// A generated row as a comparable key (the float by its bits).
type RowKey = (i64, usize, u64, Option<bool>);

proptest! {
    /// Random rows with multiplicities (retractions included), summed in
    /// any grouping, equal the state of the net rows added one by one; and
    /// retracting every part returns to zero.
    #[test]
    fn new_states_are_exact_and_invertible(
        rows in prop::collection::vec(
            (any::<i64>(), 0..POOL.len(), -1.0e150f64..1.0e150, prop::option::of(any::<bool>()), -3i64..4),
            1..20,
        ),
        splits in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let types = [DataType::Int8, DataType::Numeric(None), DataType::Float8, DataType::Int8, DataType::Bool, DataType::Bool];
        let kinds = [
            kind(AggregateFunc::VarSamp, DataType::Int8),
            kind(AggregateFunc::StddevPop, DataType::Numeric(None)),
            kind(AggregateFunc::VarPop, DataType::Float8),
            kind(AggregateFunc::StddevSamp, DataType::Int8),
            kind(AggregateFunc::BoolAnd, DataType::Bool),
            kind(AggregateFunc::BoolOr, DataType::Bool),
        ];
        let values = |&(i, p, f, b, _): &(i64, usize, f64, Option<bool>, i64)| {
            [
                Value::Int8(i),
                Value::Numeric(Numeric::parse(POOL[p]).unwrap()),
                Value::Float8(F64(f)),
                Value::Int8(i % 1000),
                b.map_or(Value::Null, Value::Bool),
                b.map_or(Value::Null, Value::Bool),
            ]
        };
        let accum = |row: &(i64, usize, f64, Option<bool>, i64), times: i64| {
            let vs = values(row);
            Accum { rows: 1, states: kinds.iter().zip(vs.iter()).map(|(k, v)| k.contribution(v).unwrap()).collect() }
                .multiply(&times)
        };
        let parts: Vec<Accum> = rows.iter().map(|r| accum(r, r.4)).collect();
        let total = tree_sum(&parts, &splits);
        // The same rows, consolidated, added with positive multiplicities.
        let mut net: Vec<(RowKey, i64)> = Vec::new();
        for r in &rows {
            let key = (r.0, r.1, r.2.to_bits(), r.3);
            match net.iter_mut().find(|(k, _)| *k == key) {
                Some((_, c)) => *c += r.4,
                None => net.push((key, r.4)),
            }
        }
        if net.iter().all(|(_, c)| *c >= 0) {
            let mut reference = Accum::zero();
            for ((i, p, f, b), c) in &net {
                for _ in 0..*c {
                    reference.plus_equals(&accum(&(*i, *p, f64::from_bits(*f), *b, 1), 1));
                }
            }
            if reference.rows > 0 {
                prop_assert_eq!(finish_all(&total, &types), finish_all(&reference, &types));
            } else {
                prop_assert!(total.is_zero(), "{:?}", total);
            }
        }
        let mut back = total;
        for p in parts.iter().rev() {
            let mut neg = p.clone();
            neg.negate();
            back.plus_equals(&neg);
        }
        prop_assert!(back.is_zero(), "{:?}", back);
    }
}
