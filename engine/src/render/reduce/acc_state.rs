//! [`AccState`]: the state of one accumulable aggregate, and how a row's
//! argument value becomes one.
//!
//! Every state is an element of a commutative group: states add, negate
//! and scale by a multiplicity *exactly*, so retracting a row restores the
//! previous state and the sum of any grouping of partial sums is the same
//! value. The common states are a few machine words and allocate nothing:
//!
//! * `count`: one `i64`;
//! * integers: an `i64` sum and a count of non-NULL values; a partial sum
//!   that leaves `i64` moves to a boxed `i128` state (the group of
//!   integers modulo 2^128, exact because every final sum of 64-bit values
//!   fits), and back when it fits again;
//! * `numeric` whose values all carry one display scale (a `numeric(p,s)`
//!   column always does): an `i64` mantissa sum at that scale and a count
//!   ([`AccState::Decimal`]). Partial sums of different scales, NaN or
//!   ±Infinity, and mantissas or sums beyond `i64` promote the state to
//!   the general [`NumericAccum`], which keeps counts per display scale and
//!   of the special values (PostgreSQL's result scale is the largest
//!   present, and must survive deletes);
//! * `float8`: an exact binary fixed-point sum ([`FloatSum`]), boxed;
//! * `interval`: exact component sums, boxed;
//! * `bool_and` / `bool_or`: the counts of true and of false values;
//! * the variance family: count, exact sum and exact sum of squares
//!   ([`moments`](super::moments)), boxed.

use serde::{Deserialize, Serialize};

use super::float_sum::FloatSum;
use super::moments::{FloatMoments, IntMoments, NumMoments};
use crate::expr::{BinaryFunc, EvalError, Expr};
use crate::plan::{Aggregate, AggregateFunc};
use crate::value::{DataType, Interval, Numeric, NumericAccum, Value, F64};

/// A wide integer sum.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct IntWide {
    sum: i128,
    count: i64,
}

/// Exact component sums of intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct IntervalSum {
    months: i128,
    days: i128,
    micros: i128,
    count: i64,
}

/// The state of one accumulable aggregate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) enum AccState {
    /// `count(*)` / `count(x)`: rows, or non-NULL values.
    Count(i64),
    /// Sum of integers and the count of non-NULL values.
    Int {
        /// Exact sum.
        sum: i64,
        /// Non-NULL values.
        count: i64,
    },
    /// Sum of integers beyond `i64`.
    IntWide(Box<IntWide>),
    /// Sum of finite numerics that all have display scale `scale`: the
    /// sum is `sum × 10^-scale`. With `sum` and `count` both zero it is
    /// the empty state, whatever `scale` (kept 0 then).
    Decimal {
        /// Mantissa sum.
        sum: i64,
        /// Non-NULL values.
        count: i64,
        /// The values' display scale.
        scale: u16,
    },
    /// Sum of numerics in general.
    Numeric(Box<NumericAccum>),
    /// Sum of floats.
    Float(Box<FloatSum>),
    /// Sum of intervals, component-wise.
    Interval(Box<IntervalSum>),
    /// `bool_and` / `bool_or`: how many true and false values.
    Bools {
        /// True values.
        trues: i64,
        /// False values.
        falses: i64,
    },
    /// Variance of integers.
    IntMoments(Box<IntMoments>),
    /// Variance of numerics.
    NumMoments(Box<NumMoments>),
    /// Variance of floats.
    FloatMoments(Box<FloatMoments>),
}

/// The kind of state an aggregate needs, decided once from its input type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccKind {
    CountStar,
    Count,
    Int,
    Numeric,
    Float,
    Interval,
    Bool,
    IntMoments,
    NumMoments,
    FloatMoments,
}

impl AccKind {
    /// The state kind for an accumulable aggregate.
    pub fn of(agg: &Aggregate) -> Result<AccKind, String> {
        Ok(match (agg.func, agg.input_type) {
            (AggregateFunc::CountStar, _) => AccKind::CountStar,
            (AggregateFunc::Count, _) => AccKind::Count,
            (AggregateFunc::Sum | AggregateFunc::Avg, t) => match t {
                DataType::Int2 | DataType::Int4 | DataType::Int8 => AccKind::Int,
                DataType::Numeric(_) => AccKind::Numeric,
                DataType::Float8 => AccKind::Float,
                DataType::Interval => AccKind::Interval,
                t => return Err(format!("{:?} over type {t}", agg.func)),
            },
            (AggregateFunc::BoolAnd | AggregateFunc::BoolOr, DataType::Bool) => AccKind::Bool,
            (
                AggregateFunc::VarSamp | AggregateFunc::VarPop | AggregateFunc::StddevSamp | AggregateFunc::StddevPop,
                t,
            ) => match t {
                DataType::Int2 | DataType::Int4 | DataType::Int8 => AccKind::IntMoments,
                DataType::Numeric(_) => AccKind::NumMoments,
                DataType::Float8 => AccKind::FloatMoments,
                t => return Err(format!("{:?} over type {t}", agg.func)),
            },
            (f, _) => return Err(format!("{f:?} is not accumulable")),
        })
    }

    /// The empty state (no non-NULL value).
    fn empty(self) -> AccState {
        match self {
            AccKind::CountStar | AccKind::Count => AccState::Count(0),
            AccKind::Int => AccState::Int { sum: 0, count: 0 },
            AccKind::Numeric => AccState::Decimal { sum: 0, count: 0, scale: 0 },
            AccKind::Float => AccState::Float(Box::default()),
            AccKind::Interval => AccState::Interval(Box::default()),
            AccKind::Bool => AccState::Bools { trues: 0, falses: 0 },
            AccKind::IntMoments => AccState::IntMoments(Box::default()),
            AccKind::NumMoments => AccState::NumMoments(Box::default()),
            AccKind::FloatMoments => AccState::FloatMoments(Box::default()),
        }
    }

    /// One row's contribution given the aggregate's argument value.
    #[inline]
    pub fn contribution(self, value: &Value) -> Result<AccState, String> {
        if self == AccKind::CountStar {
            return Ok(AccState::Count(1));
        }
        if value.is_null() {
            return Ok(self.empty());
        }
        let int = |v: i64| AccState::Int { sum: v, count: 1 };
        Ok(match (self, value) {
            (AccKind::Count, _) => AccState::Count(1),
            (AccKind::Int, Value::Int2(v)) => int(*v as i64),
            (AccKind::Int, Value::Int4(v)) => int(*v as i64),
            (AccKind::Int, Value::Int8(v)) => int(*v),
            (AccKind::Numeric, Value::Numeric(n)) => match (n.scale(), n.mantissa_i128().and_then(|m| i64::try_from(m).ok())) {
                (Some(scale), Some(m)) => AccState::Decimal { sum: m, count: 1, scale },
                _ => AccState::Numeric(Box::new(NumericAccum::of(n, 1))),
            },
            (AccKind::Float, Value::Float8(F64(f))) => AccState::Float(Box::new(FloatSum::of(*f))),
            (AccKind::Interval, Value::Interval(i)) => AccState::Interval(Box::new(IntervalSum {
                months: i.months as i128,
                days: i.days as i128,
                micros: i.micros as i128,
                count: 1,
            })),
            (AccKind::Bool, Value::Bool(b)) => AccState::Bools { trues: *b as i64, falses: !*b as i64 },
            (AccKind::IntMoments, Value::Int2(v)) => AccState::IntMoments(Box::new(IntMoments::of(*v as i64))),
            (AccKind::IntMoments, Value::Int4(v)) => AccState::IntMoments(Box::new(IntMoments::of(*v as i64))),
            (AccKind::IntMoments, Value::Int8(v)) => AccState::IntMoments(Box::new(IntMoments::of(*v))),
            (AccKind::NumMoments, Value::Numeric(n)) => AccState::NumMoments(Box::new(NumMoments::of(n))),
            (AccKind::FloatMoments, Value::Float8(F64(f))) => AccState::FloatMoments(Box::new(FloatMoments::of(*f))),
            (k, v) => return Err(format!("accumulator {k:?} cannot take {v:?}")),
        })
    }
}

impl Default for AccState {
    fn default() -> AccState {
        AccState::Count(0)
    }
}

impl AccState {
    /// True for the empty state.
    #[inline]
    pub fn is_zero(&self) -> bool {
        match self {
            AccState::Count(c) => *c == 0,
            AccState::Int { sum, count } | AccState::Decimal { sum, count, .. } => *count == 0 && *sum == 0,
            AccState::IntWide(w) => w.count == 0 && w.sum == 0,
            AccState::Numeric(n) => n.is_empty(),
            AccState::Float(f) => f.is_zero(),
            AccState::Interval(i) => i.months == 0 && i.days == 0 && i.micros == 0 && i.count == 0,
            AccState::Bools { trues, falses } => *trues == 0 && *falses == 0,
            AccState::IntMoments(m) => m.is_zero(),
            AccState::NumMoments(m) => m.is_zero(),
            AccState::FloatMoments(m) => m.is_zero(),
        }
    }

    /// The general numeric accumulator equal to a numeric state.
    fn general(&self) -> NumericAccum {
        match self {
            AccState::Decimal { sum, count, scale } => NumericAccum::of_scaled_sum(*sum as i128, *scale, *count),
            AccState::Numeric(n) => (**n).clone(),
            s => panic!("not a numeric accumulator state: {s:?}"),
        }
    }

    /// Adds `rhs` (a state of the same kind).
    #[inline]
    pub fn plus_equals(&mut self, rhs: &AccState) {
        match (&mut *self, rhs) {
            (AccState::Count(a), AccState::Count(b)) => *a = a.wrapping_add(*b),
            (AccState::Int { sum, count }, AccState::Int { sum: s2, count: c2 }) => match sum.checked_add(*s2) {
                Some(s) => {
                    *sum = s;
                    *count = count.wrapping_add(*c2);
                }
                None => self.plus_equals_wide(rhs),
            },
            (AccState::IntWide(_), _) | (AccState::Int { .. }, AccState::IntWide(_)) => self.plus_equals_wide(rhs),
            (AccState::Decimal { sum, count, scale }, AccState::Decimal { sum: s2, count: c2, scale: sc2 }) => {
                if *c2 == 0 && *s2 == 0 {
                    return;
                }
                if *count == 0 && *sum == 0 {
                    (*sum, *count, *scale) = (*s2, *c2, *sc2);
                    return;
                }
                if *scale == *sc2 {
                    if let Some(s) = sum.checked_add(*s2) {
                        *sum = s;
                        *count = count.wrapping_add(*c2);
                        if s == 0 && *count == 0 {
                            *scale = 0;
                        }
                        return;
                    }
                }
                let mut general = self.general();
                general.merge(&rhs.general());
                *self = AccState::Numeric(Box::new(general));
            }
            (AccState::Numeric(a), AccState::Decimal { sum, count, scale }) => {
                a.merge(&NumericAccum::of_scaled_sum(*sum as i128, *scale, *count));
            }
            (AccState::Numeric(a), AccState::Numeric(b)) => a.merge(b),
            (AccState::Decimal { .. }, AccState::Numeric(b)) => {
                let mut general = self.general();
                general.merge(b);
                *self = AccState::Numeric(Box::new(general));
            }
            (AccState::Float(a), AccState::Float(b)) => a.plus_equals(b),
            (AccState::Interval(a), AccState::Interval(b)) => {
                a.months = a.months.wrapping_add(b.months);
                a.days = a.days.wrapping_add(b.days);
                a.micros = a.micros.wrapping_add(b.micros);
                a.count = a.count.wrapping_add(b.count);
            }
            (AccState::Bools { trues, falses }, AccState::Bools { trues: t2, falses: f2 }) => {
                *trues = trues.wrapping_add(*t2);
                *falses = falses.wrapping_add(*f2);
            }
            (AccState::IntMoments(a), AccState::IntMoments(b)) => a.plus_equals(b),
            (AccState::NumMoments(a), AccState::NumMoments(b)) => a.plus_equals(b),
            (AccState::FloatMoments(a), AccState::FloatMoments(b)) => a.plus_equals(b),
            (a, b) => panic!("mismatched accumulator states {a:?} and {b:?}"),
        }
    }

    /// Multiplies every multiplicity by `by`.
    #[inline]
    pub fn scale(&mut self, by: i64) {
        match self {
            AccState::Count(c) => *c = c.wrapping_mul(by),
            AccState::Int { sum, count } => match sum.checked_mul(by) {
                Some(s) => {
                    *sum = s;
                    *count = count.wrapping_mul(by);
                }
                None => {
                    let w = self.widen();
                    w.sum = w.sum.wrapping_mul(by as i128);
                    w.count = w.count.wrapping_mul(by);
                }
            },
            AccState::IntWide(w) => {
                w.sum = w.sum.wrapping_mul(by as i128);
                w.count = w.count.wrapping_mul(by);
                self.narrow();
            }
            AccState::Decimal { sum, count, scale } => match sum.checked_mul(by) {
                Some(s) => {
                    *sum = s;
                    *count = count.wrapping_mul(by);
                    if s == 0 && *count == 0 {
                        *scale = 0;
                    }
                }
                None => *self = AccState::Numeric(Box::new(self.general().scaled(by))),
            },
            AccState::Numeric(n) => **n = n.scaled(by),
            AccState::Float(f) => f.scale(by),
            AccState::Interval(i) => {
                i.months = i.months.wrapping_mul(by as i128);
                i.days = i.days.wrapping_mul(by as i128);
                i.micros = i.micros.wrapping_mul(by as i128);
                i.count = i.count.wrapping_mul(by);
            }
            AccState::Bools { trues, falses } => {
                *trues = trues.wrapping_mul(by);
                *falses = falses.wrapping_mul(by);
            }
            AccState::IntMoments(m) => m.scale(by),
            AccState::NumMoments(m) => m.scale(by),
            AccState::FloatMoments(m) => m.scale(by),
        }
    }

    /// The aggregate's value for this state (`rows` is the group's row count).
    pub fn finish(&self, func: AggregateFunc, input_type: DataType, rows: i64) -> Result<Value, EvalError> {
        let avg = func == AggregateFunc::Avg;
        match self {
            AccState::Count(c) => Ok(Value::Int8(if func == AggregateFunc::CountStar { rows } else { *c })),
            AccState::Int { count: 0, .. } | AccState::Decimal { count: 0, .. } => Ok(Value::Null),
            AccState::IntWide(w) if w.count == 0 => Ok(Value::Null),
            AccState::Interval(i) if i.count == 0 => Ok(Value::Null),
            AccState::Numeric(n) if n.count() == 0 => Ok(Value::Null),
            AccState::Float(f) if f.count == 0 => Ok(Value::Null),
            AccState::Bools { trues: 0, falses: 0 } => Ok(Value::Null),
            AccState::Bools { trues, falses } => {
                Ok(Value::Bool(if func == AggregateFunc::BoolOr { *trues > 0 } else { *falses == 0 }))
            }
            AccState::IntMoments(m) => m.finish(func),
            AccState::NumMoments(m) => m.finish(func),
            AccState::FloatMoments(m) => m.finish(func),
            AccState::Int { sum, count } => finish_int(*sum as i128, *count, avg, input_type),
            AccState::IntWide(w) => finish_int(w.sum, w.count, avg, input_type),
            AccState::Decimal { sum, count, scale } => {
                // What `NumericAccum::sum`/`avg` give for these values: the
                // exact sum at their one scale, divided by numeric division.
                let sum = Numeric::from_parts(*sum as i128, *scale);
                Ok(Value::Numeric(if avg { sum.div(&Numeric::from(*count))? } else { sum }))
            }
            AccState::Numeric(n) => {
                let value = if avg { n.avg()? } else { n.sum()? };
                Ok(value.map_or(Value::Null, Value::Numeric))
            }
            AccState::Float(f) => {
                let sum = f.sum()?;
                Ok(Value::Float8(F64(if avg { sum / f.count as f64 } else { sum })))
            }
            AccState::Interval(i) => {
                let range = || EvalError::OutOfRange("interval".into());
                let sum = Interval {
                    months: i32::try_from(i.months).map_err(|_| range())?,
                    days: i32::try_from(i.days).map_err(|_| range())?,
                    micros: i64::try_from(i.micros).map_err(|_| range())?,
                };
                if avg {
                    divide(Value::Interval(sum), Value::Float8(F64(i.count as f64)))
                } else {
                    Ok(Value::Interval(sum))
                }
            }
        }
    }
}

impl AccState {
    /// An integer state as a wide one (converting it in place).
    fn widen(&mut self) -> &mut IntWide {
        if let AccState::Int { sum, count } = *self {
            *self = AccState::IntWide(Box::new(IntWide { sum: sum as i128, count }));
        }
        match self {
            AccState::IntWide(w) => w,
            s => panic!("not an integer accumulator state: {s:?}"),
        }
    }

    /// Adds an integer state to a wide one, narrowing the result when it
    /// fits again.
    fn plus_equals_wide(&mut self, rhs: &AccState) {
        let w = self.widen();
        let (s2, c2) = match rhs {
            AccState::Int { sum, count } => (*sum as i128, *count),
            AccState::IntWide(r) => (r.sum, r.count),
            r => panic!("mismatched accumulator states {w:?} and {r:?}"),
        };
        w.sum = w.sum.wrapping_add(s2);
        w.count = w.count.wrapping_add(c2);
        self.narrow();
    }

    /// A wide integer state whose sum fits `i64` back to the compact one.
    fn narrow(&mut self) {
        if let AccState::IntWide(w) = self {
            if let Ok(sum) = i64::try_from(w.sum) {
                *self = AccState::Int { sum, count: w.count };
            }
        }
    }
}

/// `sum` / `avg` of integers.
fn finish_int(sum: i128, count: i64, avg: bool, input_type: DataType) -> Result<Value, EvalError> {
    if avg {
        Ok(Value::Numeric(Numeric::from(sum).div(&Numeric::from(count))?))
    } else if input_type == DataType::Int8 {
        Ok(Value::Numeric(Numeric::from(sum)))
    } else {
        i64::try_from(sum).map(Value::Int8).map_err(|_| EvalError::OutOfRange("bigint".into()))
    }
}

/// `left / right` with PostgreSQL's division semantics (numeric scale,
/// interval division), through the one expression evaluator.
fn divide(left: Value, right: Value) -> Result<Value, EvalError> {
    Expr::Literal(left).call_binary(BinaryFunc::Div, Expr::Literal(right)).eval(&[])
}
