//! The states of `var_samp`, `var_pop`, `stddev_samp` and `stddev_pop`:
//! the count of values, their exact sum and the exact sum of their
//! squares, each an element of a commutative group (so a retraction
//! cancels exactly), and the finishing arithmetic.
//!
//! * integers: an `i128` sum and a 256-bit sum of squares, both wrapping
//!   (exact, because every final sum of 64-bit values and of their squares
//!   fits); the result is `numeric`, as PostgreSQL's, computed from the
//!   exact sums with PostgreSQL's `numeric_stddev_internal` scale rules;
//! * `numeric`: the general exact sum ([`NumericAccum`], which also counts
//!   display scales and NaN / ±Infinity) and the exact sum of squares;
//! * `float8`: exact binary fixed-point sums of the values (units of
//!   2^-1074, [`FloatSum`]) and of their squares (units of 2^-2148). The
//!   result is the variance of the exact values, correctly rounded (the
//!   standard deviation its square root), where PostgreSQL accumulates
//!   with the Youngs–Cramer recurrence in floating point: the two can
//!   differ in the last bits.
//!
//! PostgreSQL's rules: NULL over no value (and over one value for the
//! sample forms); NaN if any value is NaN or infinite; a numerator
//! `n·Σx² − (Σx)²` that is not positive gives `0`.

use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use serde::{Deserialize, Serialize};

use super::float_sum::{bigint_serde, float_to_fixed, ldexp, FloatSum};
use crate::expr::EvalError;
use crate::plan::AggregateFunc;
use crate::value::{Numeric, NumericAccum, Value, F64};

/// A 256-bit two's complement integer with wrapping addition and
/// multiplication, little-endian limbs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Wide([u64; 4]);

impl Wide {
    /// `v` sign-extended.
    pub fn from_i128(v: i128) -> Wide {
        let ext = if v < 0 { u64::MAX } else { 0 };
        Wide([v as u64, (v as u128 >> 64) as u64, ext, ext])
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// `self += rhs` modulo 2^256.
    pub fn add(&mut self, rhs: &Wide) {
        let mut carry = 0u64;
        for (a, b) in self.0.iter_mut().zip(rhs.0.iter()) {
            let (s1, c1) = a.overflowing_add(*b);
            let (s2, c2) = s1.overflowing_add(carry);
            *a = s2;
            carry = (c1 as u64) + (c2 as u64);
        }
    }

    /// `self × by` modulo 2^256.
    pub fn mul(&self, by: i64) -> Wide {
        let m = by.unsigned_abs() as u128;
        let mut out = [0u64; 4];
        let mut carry = 0u128;
        for (o, a) in out.iter_mut().zip(self.0.iter()) {
            let p = (*a as u128) * m + carry;
            *o = p as u64;
            carry = p >> 64;
        }
        let w = Wide(out);
        if by < 0 {
            w.neg()
        } else {
            w
        }
    }

    /// `-self` modulo 2^256.
    fn neg(&self) -> Wide {
        let mut w = Wide([!self.0[0], !self.0[1], !self.0[2], !self.0[3]]);
        w.add(&Wide([1, 0, 0, 0]));
        w
    }

    /// The signed value.
    pub fn to_bigint(self) -> BigInt {
        let negative = self.0[3] >> 63 == 1;
        let magnitude = if negative { self.neg() } else { self };
        let mut v = BigInt::zero();
        for limb in magnitude.0.iter().rev() {
            v = (v << 64) + BigInt::from(*limb);
        }
        if negative {
            -v
        } else {
            v
        }
    }
}

/// Moments of integers.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct IntMoments {
    /// Non-NULL values.
    pub count: i64,
    /// Σx, wrapping.
    pub sum: i128,
    /// Σx², wrapping.
    pub squares: Wide,
}

impl IntMoments {
    /// The moments of one value.
    pub fn of(v: i64) -> IntMoments {
        let v = v as i128;
        IntMoments { count: 1, sum: v, squares: Wide::from_i128(v * v) }
    }

    /// True if nothing is accumulated.
    pub fn is_zero(&self) -> bool {
        self.count == 0 && self.sum == 0 && self.squares.is_zero()
    }

    /// Adds `rhs`.
    pub fn plus_equals(&mut self, rhs: &IntMoments) {
        self.count = self.count.wrapping_add(rhs.count);
        self.sum = self.sum.wrapping_add(rhs.sum);
        self.squares.add(&rhs.squares);
    }

    /// Multiplies every multiplicity by `by`.
    pub fn scale(&mut self, by: i64) {
        self.count = self.count.wrapping_mul(by);
        self.sum = self.sum.wrapping_mul(by as i128);
        self.squares = self.squares.mul(by);
    }

    /// The aggregate's value.
    pub fn finish(&self, func: AggregateFunc) -> Result<Value, EvalError> {
        let Some(form) = Form::of(func) else { return Err(not_moments(func)) };
        if self.count == 0 || (form.sample && self.count == 1) {
            return Ok(Value::Null);
        }
        let sum = BigInt::from(self.sum);
        let numerator = BigInt::from(self.count) * self.squares.to_bigint() - &sum * &sum;
        numeric_result(numerator, 0, self.count, form)
    }
}

/// Moments of numerics.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct NumMoments {
    /// Σx, with the counts of values (per display scale and special).
    pub sum: NumericAccum,
    /// Σx² over the finite values, exact (zero is kept as `0`).
    pub squares: Numeric,
}

impl Default for NumMoments {
    fn default() -> NumMoments {
        NumMoments { sum: NumericAccum::new(), squares: Numeric::ZERO }
    }
}

impl NumMoments {
    /// The moments of one value.
    pub fn of(v: &Numeric) -> NumMoments {
        let squares = if v.is_finite() { v.mul(v).unwrap_or(Numeric::NAN) } else { Numeric::ZERO };
        let mut m = NumMoments { sum: NumericAccum::of(v, 1), squares };
        m.tidy();
        m
    }

    /// True if nothing is accumulated.
    pub fn is_zero(&self) -> bool {
        self.sum.is_empty() && self.squares.is_zero()
    }

    /// One representation of a zero sum of squares.
    fn tidy(&mut self) {
        if self.squares.is_zero() {
            self.squares = Numeric::ZERO;
        }
    }

    /// Adds `rhs`.
    pub fn plus_equals(&mut self, rhs: &NumMoments) {
        self.sum.merge(&rhs.sum);
        self.squares = self.squares.add_unchecked(&rhs.squares);
        self.tidy();
    }

    /// Multiplies every multiplicity by `by`.
    pub fn scale(&mut self, by: i64) {
        self.sum = self.sum.scaled(by);
        self.squares = match by {
            1 => self.squares.clone(),
            -1 => self.squares.neg(),
            _ => self.squares.mul(&Numeric::from(by)).unwrap_or(Numeric::NAN),
        };
        self.tidy();
    }

    /// The aggregate's value.
    pub fn finish(&self, func: AggregateFunc) -> Result<Value, EvalError> {
        let Some(form) = Form::of(func) else { return Err(not_moments(func)) };
        let count = self.sum.count();
        if count == 0 || (form.sample && count == 1) {
            return Ok(Value::Null);
        }
        // The sum at the largest display scale of the values, as
        // PostgreSQL's accumulator has it; NaN or an infinity if any
        // value is special.
        let Some(sum) = self.sum.sum()? else { return Ok(Value::Null) };
        if !sum.is_finite() {
            return Ok(Value::Numeric(Numeric::NAN));
        }
        let scale = sum.scale().unwrap_or(0);
        let square_scale = 2 * scale as u64;
        let sum_m = sum.mantissa_big().unwrap_or_default();
        let squares = rescaled_mantissa(&self.squares, square_scale)?;
        let numerator = BigInt::from(count) * squares - &sum_m * &sum_m;
        numeric_result(numerator, square_scale, count, form)
    }
}

/// Moments of floats.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct FloatMoments {
    /// Σx (units of 2^-1074) and the counts of values.
    pub sum: FloatSum,
    /// Σx² over the finite values, in units of 2^-2148.
    #[serde(with = "bigint_serde")]
    pub squares: BigInt,
}

impl FloatMoments {
    /// The moments of one value.
    pub fn of(v: f64) -> FloatMoments {
        let squares = if v.is_finite() {
            let fixed = float_to_fixed(v);
            &fixed * &fixed
        } else {
            BigInt::zero()
        };
        FloatMoments { sum: FloatSum::of(v), squares }
    }

    /// True if nothing is accumulated.
    pub fn is_zero(&self) -> bool {
        self.sum.is_zero() && self.squares.is_zero()
    }

    /// Adds `rhs`.
    pub fn plus_equals(&mut self, rhs: &FloatMoments) {
        self.sum.plus_equals(&rhs.sum);
        self.squares += &rhs.squares;
    }

    /// Multiplies every multiplicity by `by`.
    pub fn scale(&mut self, by: i64) {
        self.sum.scale(by);
        self.squares *= BigInt::from(by);
    }

    /// The aggregate's value.
    pub fn finish(&self, func: AggregateFunc) -> Result<Value, EvalError> {
        let Some(form) = Form::of(func) else { return Err(not_moments(func)) };
        let n = self.sum.count;
        if n == 0 || (form.sample && n == 1) {
            return Ok(Value::Null);
        }
        // NaN or an infinity among the values (or a sum beyond float8,
        // PostgreSQL's overflow error).
        if !self.sum.sum()?.is_finite() {
            return Ok(Value::Float8(F64(f64::NAN)));
        }
        let fixed = self.sum.fixed();
        let numerator = BigInt::from(n) * &self.squares - fixed * fixed;
        if !numerator.is_positive() {
            return Ok(Value::Float8(F64(0.0)));
        }
        // PostgreSQL's Sxx = numerator / n must be finite.
        if ratio_to_f64(&numerator, &BigInt::from(n), -2148).is_infinite() {
            return Err(EvalError::Other("value out of range: overflow".into()));
        }
        let n = BigInt::from(n);
        let denominator = if form.sample { &n * (&n - 1) } else { &n * &n };
        let variance = ratio_to_f64(&numerator, &denominator, -2148);
        Ok(Value::Float8(F64(if form.stddev { variance.sqrt() } else { variance })))
    }
}

/// Which of the four aggregates.
#[derive(Clone, Copy)]
struct Form {
    sample: bool,
    stddev: bool,
}

impl Form {
    fn of(func: AggregateFunc) -> Option<Form> {
        Some(match func {
            AggregateFunc::VarSamp => Form { sample: true, stddev: false },
            AggregateFunc::VarPop => Form { sample: false, stddev: false },
            AggregateFunc::StddevSamp => Form { sample: true, stddev: true },
            AggregateFunc::StddevPop => Form { sample: false, stddev: true },
            _ => return None,
        })
    }
}

fn not_moments(func: AggregateFunc) -> EvalError {
    EvalError::Other(format!("internal error: {func:?} over a variance state"))
}

/// The mantissa of `n` at `scale` digits (`n` must be exact there).
fn rescaled_mantissa(n: &Numeric, scale: u64) -> Result<BigInt, EvalError> {
    let have = n.scale().unwrap_or(0) as u64;
    let m = n.mantissa_big().unwrap_or_default();
    if have <= scale {
        Ok(m * BigInt::from(10).pow((scale - have) as u32))
    } else {
        let div = BigInt::from(10).pow((have - scale) as u32);
        if !(&m % &div).is_zero() {
            return Err(EvalError::Other("internal error: inexact sum of squares".into()));
        }
        Ok(m / div)
    }
}

/// PostgreSQL's `numeric_stddev_internal` from an exact numerator
/// `n·Σx² − (Σx)²` at `scale` (twice the sum's display scale): `0` when
/// not positive, else the numerator divided by `n(n−1)` (sample) or `n²`
/// with numeric division's result scale, and for the standard deviation
/// the square root of that quotient at the same scale.
fn numeric_result(numerator: BigInt, scale: u64, n: i64, form: Form) -> Result<Value, EvalError> {
    if !numerator.is_positive() {
        return Ok(Value::Numeric(Numeric::ZERO));
    }
    let scale = u16::try_from(scale).map_err(|_| EvalError::Overflow("value overflows numeric format".into()))?;
    let numerator = Numeric::from_big(numerator, scale);
    let n = Numeric::from(n as i128);
    let denominator = if form.sample { n.mul(&n.sub(&Numeric::from(1i64))?)? } else { n.mul(&n)? };
    let variance = numerator.div(&denominator)?;
    if !form.stddev {
        return Ok(Value::Numeric(variance));
    }
    Ok(Value::Numeric(sqrt_at_scale(&variance)))
}

/// `sqrt(x)` for a non-negative finite `x`, rounded half up to `x`'s own
/// display scale (PostgreSQL's `sqrt_var` at the division's scale).
fn sqrt_at_scale(x: &Numeric) -> Numeric {
    let scale = x.scale().unwrap_or(0);
    let m = x.mantissa_big().unwrap_or_default();
    // sqrt(m·10^-s)·10^s = sqrt(m·10^s).
    let radicand = m * BigInt::from(10).pow(scale as u32);
    let q = radicand.sqrt();
    let twice: BigInt = &q * 2 + 1;
    let q = if &twice * &twice <= radicand * 4 { q + 1 } else { q };
    Numeric::from_big(q, scale)
}

/// `num / den × 2^exp2` (`num ≥ 0`, `den > 0`) correctly rounded to a
/// double (ties to even); infinite when out of range.
pub(crate) fn ratio_to_f64(num: &BigInt, den: &BigInt, exp2: i64) -> f64 {
    if num.is_zero() {
        return 0.0;
    }
    // floor(log2(num / den)).
    let a = num.bits() as i64 - den.bits() as i64;
    let at_least_a = if a >= 0 { *num >= den << a as u64 } else { num << (-a) as u64 >= *den };
    let log2 = if at_least_a { a } else { a - 1 } + exp2;
    if log2 > 1023 {
        return f64::INFINITY;
    }
    // The result is m × 2^t with 53 significant bits (fewer below the
    // normal range).
    let t = (log2 - 52).max(-1074);
    let shift = exp2 - t;
    let (n, d) = if shift >= 0 { (num << shift as u64, den.clone()) } else { (num.clone(), den << (-shift) as u64) };
    let q = &n / &d;
    let r = &n - &q * &d;
    let twice_r: BigInt = r * 2;
    let mut m: u64 = u64::try_from(&q).unwrap_or(u64::MAX);
    if twice_r > d || (twice_r == d && m & 1 == 1) {
        m += 1;
    }
    ldexp(m as f64, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_integers_wrap_and_convert() {
        let mut w = Wide::from_i128(i128::MAX);
        w.add(&Wide::from_i128(i128::MAX));
        assert_eq!(w.to_bigint(), BigInt::from(i128::MAX) * 2);
        assert_eq!(w.mul(-3).to_bigint(), BigInt::from(i128::MAX) * -6);
        let mut z = w;
        z.add(&w.mul(-1));
        assert!(z.is_zero());
        assert_eq!(Wide::from_i128(-5).to_bigint(), BigInt::from(-5));
    }

    #[test]
    fn ratios_round_correctly() {
        let b = |v: i64| BigInt::from(v);
        assert_eq!(ratio_to_f64(&b(7), &b(3), 0), 7.0 / 3.0);
        assert_eq!(ratio_to_f64(&b(1), &b(10), 0), 0.1);
        assert_eq!(ratio_to_f64(&b(3), &b(1), -2), 0.75);
        assert_eq!(ratio_to_f64(&b(1), &b(3), -1074), 0.0);
        assert_eq!(ratio_to_f64(&b(2), &b(3), -1074), 5e-324);
        assert_eq!(ratio_to_f64(&b(1), &b(1), 1024), f64::INFINITY);
        // 2^53 + 1 ties to even, 2^53 + 3 rounds up.
        assert_eq!(ratio_to_f64(&b((1 << 53) + 1), &b(1), 0), (1u64 << 53) as f64);
        assert_eq!(ratio_to_f64(&b((1 << 53) + 3), &b(1), 0), ((1u64 << 53) + 4) as f64);
    }

    #[test]
    fn numeric_square_roots_round_half_up_at_the_scale() {
        let n = |s: &str| s.parse::<Numeric>().unwrap();
        assert_eq!(sqrt_at_scale(&n("1.6666666666666667")).to_string(), "1.2909944487358056");
        assert_eq!(sqrt_at_scale(&n("0.0025")).to_string(), "0.0500");
        assert_eq!(sqrt_at_scale(&n("2")).to_string(), "1");
        assert_eq!(sqrt_at_scale(&n("0.00")).to_string(), "0.00");
    }
}
