//! The accumulator that carries `count`, `sum` and `avg` inside the
//! differential `diff`.
//!
//! Each input row contributes one [`Accum`]: its group's row count (1) and
//! one [`AccState`] per accumulable aggregate. Accumulators add, negate and
//! scale by a multiplicity *exactly*, so retracting a row restores the
//! previous state bit for bit and an emptied group accumulates to zero:
//!
//! * integers are summed as `i128` (no intermediate overflow);
//! * `numeric` uses [`NumericAccum`] (exact sum, counts per display scale
//!   and of NaN / ±Infinity, so the result's scale, the largest present as
//!   in PostgreSQL, survives deletes);
//! * `float8` keeps an exact binary fixed-point sum (every finite double is
//!   an integer multiple of 2^-1074) plus counts of NaN, +Infinity and
//!   -Infinity, so the final sum is the correctly rounded exact sum;
//! * `interval` keeps exact component sums.
//!
//! Memory: one accumulator per group in the `count_total` arrangement.

use num_bigint::{BigInt, Sign};
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};

use differential_dataflow::difference::{Abelian, IsZero, Monoid, Multiply, Semigroup};

use crate::expr::{BinaryFunc, EvalError, Expr};
use crate::plan::{Aggregate, AggregateFunc, Diff};
use crate::value::{DataType, Interval, Numeric, NumericAccum, Value, F64};

/// The state of one accumulable aggregate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) enum AccState {
    /// `count(*)` / `count(x)`: rows, or non-NULL values.
    Count(i64),
    /// Sum of integers and the count of non-NULL values.
    Int {
        /// Exact sum.
        sum: i128,
        /// Non-NULL values.
        count: i64,
    },
    /// Sum of numerics.
    Numeric(NumericAccum),
    /// Sum of floats.
    Float(FloatSum),
    /// Sum of intervals, component-wise.
    Interval {
        /// Sum of months.
        months: i128,
        /// Sum of days.
        days: i128,
        /// Sum of microseconds.
        micros: i128,
        /// Non-NULL values.
        count: i64,
    },
}

/// Exact `float8` sum in units of 2^-1074, plus special values.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct FloatSum {
    #[serde(with = "bigint_serde")]
    fixed: BigInt,
    nan: i64,
    pos_inf: i64,
    neg_inf: i64,
    count: i64,
}

/// A group's accumulated state: its row count and one state per
/// accumulable aggregate. The zero accumulator has no states.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Accum {
    /// Rows in the group.
    pub rows: i64,
    /// Per-aggregate states (empty for the zero accumulator).
    pub states: Vec<AccState>,
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
            (f, _) => return Err(format!("{f:?} is not accumulable")),
        })
    }

    /// The empty state (no non-NULL value).
    fn empty(self) -> AccState {
        match self {
            AccKind::CountStar | AccKind::Count => AccState::Count(0),
            AccKind::Int => AccState::Int { sum: 0, count: 0 },
            AccKind::Numeric => AccState::Numeric(NumericAccum::new()),
            AccKind::Float => AccState::Float(FloatSum::default()),
            AccKind::Interval => AccState::Interval { months: 0, days: 0, micros: 0, count: 0 },
        }
    }

    /// One row's contribution given the aggregate's argument value.
    pub fn contribution(self, value: &Value) -> Result<AccState, String> {
        if self == AccKind::CountStar {
            return Ok(AccState::Count(1));
        }
        if value.is_null() {
            return Ok(self.empty());
        }
        Ok(match (self, value) {
            (AccKind::Count, _) => AccState::Count(1),
            (AccKind::Int, Value::Int2(v)) => AccState::Int { sum: *v as i128, count: 1 },
            (AccKind::Int, Value::Int4(v)) => AccState::Int { sum: *v as i128, count: 1 },
            (AccKind::Int, Value::Int8(v)) => AccState::Int { sum: *v as i128, count: 1 },
            (AccKind::Numeric, Value::Numeric(n)) => AccState::Numeric(NumericAccum::of(n, 1)),
            (AccKind::Float, Value::Float8(F64(f))) => {
                let mut s = FloatSum { count: 1, ..FloatSum::default() };
                if f.is_nan() {
                    s.nan = 1;
                } else if *f == f64::INFINITY {
                    s.pos_inf = 1;
                } else if *f == f64::NEG_INFINITY {
                    s.neg_inf = 1;
                } else {
                    s.fixed = float_to_fixed(*f);
                }
                AccState::Float(s)
            }
            (AccKind::Interval, Value::Interval(i)) => AccState::Interval {
                months: i.months as i128,
                days: i.days as i128,
                micros: i.micros as i128,
                count: 1,
            },
            (k, v) => return Err(format!("accumulator {k:?} cannot take {v:?}")),
        })
    }
}

impl AccState {
    fn is_zero(&self) -> bool {
        match self {
            AccState::Count(c) => *c == 0,
            AccState::Int { sum, count } => *sum == 0 && *count == 0,
            AccState::Numeric(n) => n.is_empty(),
            AccState::Float(f) => f.fixed.is_zero() && f.nan == 0 && f.pos_inf == 0 && f.neg_inf == 0 && f.count == 0,
            AccState::Interval { months, days, micros, count } => {
                *months == 0 && *days == 0 && *micros == 0 && *count == 0
            }
        }
    }

    fn plus_equals(&mut self, rhs: &AccState) {
        match (self, rhs) {
            (AccState::Count(a), AccState::Count(b)) => *a += b,
            (AccState::Int { sum, count }, AccState::Int { sum: s2, count: c2 }) => {
                *sum += s2;
                *count += c2;
            }
            (AccState::Numeric(a), AccState::Numeric(b)) => a.merge(b),
            (AccState::Float(a), AccState::Float(b)) => {
                a.fixed += &b.fixed;
                a.nan += b.nan;
                a.pos_inf += b.pos_inf;
                a.neg_inf += b.neg_inf;
                a.count += b.count;
            }
            (
                AccState::Interval { months, days, micros, count },
                AccState::Interval { months: m2, days: d2, micros: u2, count: c2 },
            ) => {
                *months += m2;
                *days += d2;
                *micros += u2;
                *count += c2;
            }
            (a, b) => panic!("mismatched accumulator states {a:?} and {b:?}"),
        }
    }

    fn scale(&mut self, by: i64) {
        let big = BigInt::from(by);
        match self {
            AccState::Count(c) => *c *= by,
            AccState::Int { sum, count } => {
                *sum *= by as i128;
                *count *= by;
            }
            AccState::Numeric(n) => *n = n.scaled(by),
            AccState::Float(f) => {
                f.fixed *= &big;
                f.nan *= by;
                f.pos_inf *= by;
                f.neg_inf *= by;
                f.count *= by;
            }
            AccState::Interval { months, days, micros, count } => {
                *months *= by as i128;
                *days *= by as i128;
                *micros *= by as i128;
                *count *= by;
            }
        }
    }

    /// The aggregate's value for this state (`rows` is the group's row count).
    pub fn finish(&self, func: AggregateFunc, input_type: DataType, rows: i64) -> Result<Value, EvalError> {
        let avg = func == AggregateFunc::Avg;
        match self {
            AccState::Count(c) => Ok(Value::Int8(if func == AggregateFunc::CountStar { rows } else { *c })),
            AccState::Int { count: 0, .. }
            | AccState::Interval { count: 0, .. } => Ok(Value::Null),
            AccState::Numeric(n) if n.count() == 0 => Ok(Value::Null),
            AccState::Float(f) if f.count == 0 => Ok(Value::Null),
            AccState::Int { sum, count } => {
                if avg {
                    Ok(Value::Numeric(Numeric::from(*sum).div(&Numeric::from(*count))?))
                } else if input_type == DataType::Int8 {
                    Ok(Value::Numeric(Numeric::from(*sum)))
                } else {
                    i64::try_from(*sum).map(Value::Int8).map_err(|_| EvalError::OutOfRange("bigint".into()))
                }
            }
            AccState::Numeric(n) => {
                let value = if avg { n.avg()? } else { n.sum()? };
                Ok(value.map_or(Value::Null, Value::Numeric))
            }
            AccState::Float(f) => {
                let sum = float_sum(f)?;
                Ok(Value::Float8(F64(if avg { sum / f.count as f64 } else { sum })))
            }
            AccState::Interval { months, days, micros, count } => {
                let range = || EvalError::OutOfRange("interval".into());
                let sum = Interval {
                    months: i32::try_from(*months).map_err(|_| range())?,
                    days: i32::try_from(*days).map_err(|_| range())?,
                    micros: i64::try_from(*micros).map_err(|_| range())?,
                };
                if avg {
                    divide(Value::Interval(sum), Value::Float8(F64(*count as f64)))
                } else {
                    Ok(Value::Interval(sum))
                }
            }
        }
    }
}

/// `left / right` with PostgreSQL's division semantics (numeric scale,
/// interval division), through the one expression evaluator.
fn divide(left: Value, right: Value) -> Result<Value, EvalError> {
    Expr::Literal(left).call_binary(BinaryFunc::Div, Expr::Literal(right)).eval(&[])
}

/// The float sum: NaN if any NaN or both infinities, else an infinity,
/// else the correctly rounded exact sum (overflow is PostgreSQL's error).
fn float_sum(f: &FloatSum) -> Result<f64, EvalError> {
    if f.nan > 0 || (f.pos_inf > 0 && f.neg_inf > 0) {
        return Ok(f64::NAN);
    }
    if f.pos_inf > 0 {
        return Ok(f64::INFINITY);
    }
    if f.neg_inf > 0 {
        return Ok(f64::NEG_INFINITY);
    }
    let v = fixed_to_float(&f.fixed);
    if v.is_infinite() {
        return Err(EvalError::Other("value out of range: overflow".into()));
    }
    Ok(v)
}

/// A finite double as an exact multiple of 2^-1074.
pub(crate) fn float_to_fixed(f: f64) -> BigInt {
    if f == 0.0 {
        return BigInt::zero();
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as usize;
    let frac = bits & ((1u64 << 52) - 1);
    let magnitude = if exp == 0 { BigInt::from(frac) } else { BigInt::from(frac | (1u64 << 52)) << (exp - 1) };
    if f < 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

/// `fixed × 2^-1074` rounded to the nearest double (ties to even);
/// infinite when out of range.
pub(crate) fn fixed_to_float(fixed: &BigInt) -> f64 {
    if fixed.is_zero() {
        return 0.0;
    }
    let negative = fixed.sign() == Sign::Minus;
    let magnitude = fixed.abs();
    let bits = magnitude.bits();
    let (mantissa, shift) = if bits <= 53 {
        (magnitude.to_u64().expect("fits in 53 bits"), 0i64)
    } else {
        let shift = bits - 53;
        let kept: BigInt = &magnitude >> shift;
        let rest: BigInt = &magnitude - (&kept << shift);
        let half = BigInt::one() << (shift - 1);
        let mut m = kept.to_u64().expect("fits in 53 bits");
        if rest > half || (rest == half && m & 1 == 1) {
            m += 1;
        }
        (m, shift as i64)
    };
    let v = ldexp(mantissa as f64, shift - 1074);
    if negative {
        -v
    } else {
        v
    }
}

/// `x × 2^exp` for an integral `x < 2^54` and `exp ≥ -1074`: exact when
/// the result is representable (the callers guarantee it), infinite when
/// too large.
fn ldexp(x: f64, exp: i64) -> f64 {
    if exp > 1023 {
        return x * f64::INFINITY;
    }
    let pow2 = if exp >= -1022 {
        f64::from_bits(((exp + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (exp + 1074))
    };
    x * pow2
}

impl IsZero for Accum {
    fn is_zero(&self) -> bool {
        self.rows == 0 && self.states.iter().all(AccState::is_zero)
    }
}

impl Semigroup for Accum {
    fn plus_equals(&mut self, rhs: &Accum) {
        self.rows += rhs.rows;
        if self.states.is_empty() {
            self.states.clone_from(&rhs.states);
        } else if !rhs.states.is_empty() {
            for (a, b) in self.states.iter_mut().zip(&rhs.states) {
                a.plus_equals(b);
            }
        }
        if self.rows == 0 && self.states.iter().all(AccState::is_zero) {
            self.states.clear();
        }
    }
}

impl Monoid for Accum {
    fn zero() -> Accum {
        Accum::default()
    }
}

impl Abelian for Accum {
    fn negate(&mut self) {
        self.rows = -self.rows;
        for s in &mut self.states {
            s.scale(-1);
        }
    }
}

impl Multiply<Diff> for Accum {
    type Output = Accum;
    fn multiply(mut self, rhs: &Diff) -> Accum {
        if *rhs == 0 {
            return Accum::default();
        }
        self.rows *= rhs;
        for s in &mut self.states {
            s.scale(*rhs);
        }
        self
    }
}

/// Serde for the fixed-point sum: sign and little-endian 32-bit digits.
mod bigint_serde {
    use num_bigint::{BigInt, Sign};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &BigInt, s: S) -> Result<S::Ok, S::Error> {
        let (sign, digits) = v.to_u32_digits();
        let sign: i8 = match sign {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        };
        (sign, digits).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BigInt, D::Error> {
        let (sign, digits) = <(i8, Vec<u32>)>::deserialize(d)?;
        let sign = match sign {
            -1 => Sign::Minus,
            0 => Sign::NoSign,
            _ => Sign::Plus,
        };
        Ok(BigInt::from_slice(sign, &digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_fixed_round_trip_is_exact() {
        for f in [1.0, -2.5, 0.1, 1e308, -1e-310, f64::MIN_POSITIVE, 5e-324, 123456.789e-200, f64::MAX] {
            assert_eq!(fixed_to_float(&float_to_fixed(f)).to_bits(), f.to_bits(), "{f}");
        }
    }

    #[test]
    fn float_sum_rounds_the_exact_sum() {
        let s = float_to_fixed(0.1) + float_to_fixed(0.2);
        assert_eq!(fixed_to_float(&s), 0.30000000000000004);
        let s = float_to_fixed(1e16) + float_to_fixed(1.0) + float_to_fixed(1.0);
        assert_eq!(fixed_to_float(&s), 1.0000000000000002e16);
        let s = float_to_fixed(f64::MAX) + float_to_fixed(f64::MAX);
        assert!(fixed_to_float(&s).is_infinite());
    }

    #[test]
    fn accumulators_cancel_exactly() {
        let kinds = [AccKind::CountStar, AccKind::Float, AccKind::Int];
        let row = |f: f64, i: i32| Accum {
            rows: 1,
            states: vec![
                kinds[0].contribution(&Value::Null).unwrap(),
                kinds[1].contribution(&Value::Float8(F64(f))).unwrap(),
                kinds[2].contribution(&Value::Int4(i)).unwrap(),
            ],
        };
        let mut acc = Accum::zero();
        acc.plus_equals(&row(0.1, 5).multiply(&3));
        acc.plus_equals(&row(1e300, -7));
        assert!(!acc.is_zero());
        acc.plus_equals(&row(0.1, 5).multiply(&-3));
        let mut r = row(1e300, -7);
        r.negate();
        acc.plus_equals(&r);
        assert!(acc.is_zero());
        assert_eq!(acc, Accum::zero());
    }
}
