//! Accumulator properties: exact in every grouping of partial sums,
//! invertible, allocation-free states promoting to the general ones only
//! when needed.

use differential_dataflow::difference::{Abelian, IsZero, Monoid, Multiply, Semigroup};
use num_bigint::BigInt;
use proptest::prelude::*;

use super::acc_state::{AccKind, AccState};
use super::accum::{Accum, INLINE_STATES};
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, AggregateFunc};
use crate::value::{DataType, Numeric, NumericAccum, Value, F64};

fn n(s: &str) -> Numeric {
    Numeric::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Values that exercise every numeric path: one common scale, other
/// scales, zeros of several scales, specials, and mantissas near the
/// `i128` limit (sums of two of them overflow it).
const POOL: [&str; 13] = [
    "1.50",
    "2.25",
    "-7.10",
    "0.00",
    "14.60",
    "3.10",
    "3",
    "0.1",
    "NaN",
    "Infinity",
    "-Infinity",
    "170141183460469231731687303715884105.727",
    "-170141183460469231731687303715884105.727",
];

/// `func` over column 0 of type `input_type`.
pub(super) fn agg(func: AggregateFunc, input_type: DataType) -> Aggregate {
    Aggregate { func, expr: Expr::Column(0), input_type, distinct: false }
}

/// The accumulator of one row with `value` for `sum`, `avg`, `count`
/// (all over the same argument) and `count(*)`, times `times`.
fn row_accum(value: &Value, kind: AccKind, times: i64) -> Accum {
    let states = [kind, kind, AccKind::Count, AccKind::CountStar]
        .iter()
        .map(|k| k.contribution(value).unwrap())
        .collect();
    Accum { rows: 1, states }.multiply(&times)
}

fn finish(acc: &Accum, input_type: DataType) -> Vec<Result<Value, EvalError>> {
    let funcs = [AggregateFunc::Sum, AggregateFunc::Avg, AggregateFunc::Count, AggregateFunc::CountStar];
    if acc.states.is_empty() {
        return Vec::new();
    }
    funcs.iter().zip(acc.states.iter()).map(|(f, s)| s.finish(*f, input_type, acc.rows)).collect()
}

/// Sums `parts` as a random tree: `splits` chooses, level by level, where
/// each run is cut into two independently summed halves.
pub(super) fn tree_sum(parts: &[Accum], splits: &[usize]) -> Accum {
    match parts.len() {
        0 => Accum::zero(),
        1 => parts[0].clone(),
        len => {
            let cut = 1 + splits.first().copied().unwrap_or(0) % (len - 1);
            let rest = splits.get(1..).unwrap_or(&[]);
            let mut left = tree_sum(&parts[..cut], rest);
            let right = tree_sum(&parts[cut..], rest);
            left.plus_equals(&right);
            left
        }
    }
}

fn numeric_reference(contributions: &[(usize, i64)]) -> Vec<Result<Value, EvalError>> {
    let mut acc = NumericAccum::new();
    let mut rows = 0;
    let mut count = 0;
    for &(i, k) in contributions {
        acc.add(&n(POOL[i]), k);
        rows += k;
        count += k;
    }
    let value = |r: Result<Option<Numeric>, EvalError>| r.map(|v| v.map_or(Value::Null, Value::Numeric));
    vec![value(acc.sum()), value(acc.avg()), Ok(Value::Int8(count)), Ok(Value::Int8(rows))]
}

proptest! {
    #[test]
    fn numeric_sums_are_exact_in_every_grouping(
        contributions in prop::collection::vec((0..POOL.len(), prop_oneof![Just(1i64), Just(-1), -3i64..4]), 1..24),
        splits in prop::collection::vec(any::<usize>(), 0..24),
    ) {
        let ty = DataType::Numeric(None);
        let parts: Vec<Accum> =
            contributions.iter().map(|&(i, k)| row_accum(&Value::Numeric(n(POOL[i])), AccKind::Numeric, k)).collect();
        let total = tree_sum(&parts, &splits);
        let sequential = parts.iter().fold(Accum::zero(), |mut a, p| { a.plus_equals(p); a });
        let reference = numeric_reference(&contributions);
        if total.is_zero() {
            // Everything cancelled: the reference is the empty group.
            prop_assert_eq!(reference[3].clone(), Ok(Value::Int8(0)));
            prop_assert!(sequential.is_zero());
        } else {
            prop_assert_eq!(finish(&total, ty), reference.clone());
            prop_assert_eq!(finish(&sequential, ty), reference);
        }
        // Retracting every part, in the reverse order, cancels exactly.
        let mut back = total;
        for p in parts.iter().rev() {
            let mut neg = p.clone();
            neg.negate();
            back.plus_equals(&neg);
        }
        prop_assert!(back.is_zero());
        prop_assert!(back.states.is_empty());
    }

    #[test]
    fn single_scale_numeric_sums_match_big_integers(
        contributions in prop::collection::vec((-1_000_000_000_000_000i64..1_000_000_000_000_000, -2i64..3), 1..40),
        scale in 0u16..6,
        splits in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let parts: Vec<Accum> = contributions
            .iter()
            .map(|&(m, k)| row_accum(&Value::Numeric(Numeric::from_parts(m as i128, scale)), AccKind::Numeric, k))
            .collect();
        let total = tree_sum(&parts, &splits);
        let sum: BigInt = contributions.iter().map(|&(m, k)| BigInt::from(m) * BigInt::from(k)).sum();
        let count: i64 = contributions.iter().map(|&(_, k)| k).sum();
        if count != 0 {
            let want = Value::Numeric(Numeric::from_big(sum, scale));
            prop_assert_eq!(finish(&total, DataType::Numeric(None))[0].clone(), Ok(want));
            // Every state stayed on the allocation-free path.
            prop_assert!(matches!(total.states[0], AccState::Decimal { .. }), "{:?}", total.states[0]);
        }
    }

    #[test]
    fn integer_and_float_sums_are_exact_in_every_grouping(
        contributions in prop::collection::vec((any::<i64>(), -3.0e300f64..3.0e300, -2i64..3), 1..24),
        splits in prop::collection::vec(any::<usize>(), 0..24),
    ) {
        let int_parts: Vec<Accum> = contributions.iter().map(|&(v, _, k)| row_accum(&Value::Int8(v), AccKind::Int, k)).collect();
        let float_parts: Vec<Accum> =
            contributions.iter().map(|&(_, f, k)| row_accum(&Value::Float8(F64(f)), AccKind::Float, k)).collect();
        let ints = tree_sum(&int_parts, &splits);
        let floats = tree_sum(&float_parts, &splits);
        let count: i64 = contributions.iter().map(|&(_, _, k)| k).sum();
        let sum: i128 = contributions.iter().map(|&(v, _, k)| v as i128 * k as i128).sum();
        if count > 0 {
            prop_assert_eq!(finish(&ints, DataType::Int8)[0].clone(), Ok(Value::Numeric(Numeric::from(sum))));
            let exact: BigInt = contributions
                .iter()
                .map(|&(_, f, k)| super::float_sum::float_to_fixed(f) * BigInt::from(k))
                .sum();
            let want = super::float_sum::fixed_to_float(&exact);
            prop_assert_eq!(finish(&floats, DataType::Float8)[0].clone(), Ok(Value::Float8(F64(want))));
        }
        let mut zero = ints.clone();
        zero.plus_equals(&ints.multiply(&-1));
        prop_assert!(zero.is_zero());
        let mut zero = floats.clone();
        zero.plus_equals(&floats.multiply(&-1));
        prop_assert!(zero.is_zero());
    }
}

#[test]
fn decimal_states_promote_only_when_needed() {
    let d = |s: &str| AccKind::Numeric.contribution(&Value::Numeric(n(s))).unwrap();
    let mut a = d("1.50");
    a.plus_equals(&d("2.25"));
    assert!(matches!(a, AccState::Decimal { scale: 2, count: 2, .. }), "{a:?}");
    // An empty state of another scale is the identity.
    let mut empty = d("1.0");
    empty.plus_equals(&d("1.0").multiply_state(-1));
    assert!(empty.is_zero());
    a.plus_equals(&empty);
    assert!(matches!(a, AccState::Decimal { scale: 2, .. }), "{a:?}");
    // Another scale promotes; the sum shows the largest scale.
    a.plus_equals(&d("0.125"));
    assert!(matches!(a, AccState::Numeric(_)), "{a:?}");
    assert_eq!(a.finish(AggregateFunc::Sum, DataType::Numeric(None), 3).unwrap().to_string(), "3.875");
    // Retracting it leaves scale 2 again.
    a.plus_equals(&d("0.125").multiply_state(-1));
    assert_eq!(a.finish(AggregateFunc::Sum, DataType::Numeric(None), 2).unwrap().to_string(), "3.75");
    // An i128 overflow promotes exactly.
    let big = "170141183460469231731687303715884105.727";
    let mut o = d(big);
    o.plus_equals(&d(big));
    assert!(matches!(o, AccState::Numeric(_)), "{o:?}");
    assert_eq!(
        o.finish(AggregateFunc::Sum, DataType::Numeric(None), 2).unwrap().to_string(),
        "340282366920938463463374607431768211.454"
    );
    let mut s = d(big);
    s.scale(1 << 40);
    assert!(matches!(s, AccState::Numeric(_)), "{s:?}");
    s.scale(-1);
    s.plus_equals(&d(big).multiply_state(1 << 40));
    assert!(s.is_zero());
}

#[test]
fn integer_states_widen_and_narrow() {
    let i = |v: i64| AccKind::Int.contribution(&Value::Int8(v)).unwrap();
    let mut a = i(i64::MAX);
    a.plus_equals(&i(i64::MAX));
    assert!(matches!(a, AccState::IntWide(_)), "{a:?}");
    assert_eq!(
        a.finish(AggregateFunc::Sum, DataType::Int8, 2),
        Ok(Value::Numeric(Numeric::from(2 * i64::MAX as i128)))
    );
    a.plus_equals(&i(i64::MAX).multiply_state(-1));
    assert!(matches!(a, AccState::Int { sum: i64::MAX, count: 1 }), "{a:?}");
    let mut m = i(i64::MIN);
    m.scale(-1);
    assert!(matches!(m, AccState::IntWide(_)), "{m:?}");
    m.scale(-1);
    assert_eq!(m, i(i64::MIN));
    assert_eq!(
        i(i64::MAX).finish(AggregateFunc::Sum, DataType::Int4, 1),
        Ok(Value::Int8(i64::MAX))
    );
    let mut over = i(i64::MAX);
    over.plus_equals(&i(1));
    assert!(over.finish(AggregateFunc::Sum, DataType::Int4, 2).is_err());
}

#[test]
fn accumulators_with_many_states_spill_and_cancel() {
    let states = INLINE_STATES + 3;
    let accum = |v: i32, times: i64| {
        let value = Value::Int4(v);
        Accum { rows: 1, states: (0..states).map(|_| AccKind::Int.contribution(&value).unwrap()).collect() }
            .multiply(&times)
    };
    let mut acc = Accum::zero();
    acc.plus_equals(&accum(5, 2));
    acc.plus_equals(&accum(-7, 1));
    assert_eq!(acc.states.len(), states);
    for s in acc.states.iter() {
        assert_eq!(s.finish(AggregateFunc::Sum, DataType::Int4, acc.rows), Ok(Value::Int8(3)));
    }
    let bytes = postcard::to_allocvec(&acc).unwrap();
    let back: Accum = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, acc);
    acc.plus_equals(&accum(5, -2));
    acc.plus_equals(&accum(-7, -1));
    assert!(acc.is_zero());
    assert_eq!(acc, Accum::zero());
}

#[test]
fn aggregates_over_nulls_only_are_null_and_count_zero() {
    let kinds = [
        (AccKind::of(&agg(AggregateFunc::Sum, DataType::Int4)).unwrap(), DataType::Int4),
        (AccKind::of(&agg(AggregateFunc::Sum, DataType::Numeric(Some((12, 2))))).unwrap(), DataType::Numeric(None)),
        (AccKind::of(&agg(AggregateFunc::Avg, DataType::Float8)).unwrap(), DataType::Float8),
        (AccKind::of(&agg(AggregateFunc::Sum, DataType::Interval)).unwrap(), DataType::Interval),
    ];
    for (kind, ty) in kinds {
        let mut acc = row_accum(&Value::Null, kind, 1);
        acc.plus_equals(&row_accum(&Value::Null, kind, 2));
        let values = finish(&acc, ty);
        assert_eq!(values, vec![Ok(Value::Null), Ok(Value::Null), Ok(Value::Int8(0)), Ok(Value::Int8(3))], "{kind:?}");
        let bytes = postcard::to_allocvec(&acc).unwrap();
        assert_eq!(postcard::from_bytes::<Accum>(&bytes).unwrap(), acc);
    }
    assert!(AccKind::of(&agg(AggregateFunc::Sum, DataType::Text)).is_err());
    assert!(AccKind::of(&agg(AggregateFunc::Min, DataType::Int4)).is_err());
}

#[test]
fn common_states_stay_small() {
    assert!(std::mem::size_of::<AccState>() <= 24, "{}", std::mem::size_of::<AccState>());
}

/// A state times a multiplicity.
pub(super) trait MultiplyState {
    /// `self` with every count multiplied by `by`.
    fn multiply_state(self, by: i64) -> AccState;
}

impl MultiplyState for AccState {
    fn multiply_state(mut self, by: i64) -> AccState {
        self.scale(by);
        self
    }
}
