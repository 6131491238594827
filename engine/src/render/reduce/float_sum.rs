//! The exact, invertible `float8` sum: every finite double is an integer
//! multiple of 2^-1074, so the sum of any multiset of doubles is kept
//! exactly as a big integer in those units, plus counts of NaN, +Infinity
//! and -Infinity. The final sum is the correctly rounded exact sum.

use num_bigint::{BigInt, Sign};
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};

use crate::expr::EvalError;

/// Exact `float8` sum in units of 2^-1074, plus special values.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct FloatSum {
    #[serde(with = "bigint_serde")]
    fixed: BigInt,
    nan: i64,
    pos_inf: i64,
    neg_inf: i64,
    /// Non-NULL values.
    pub count: i64,
}

impl FloatSum {
    /// The sum holding one value.
    pub fn of(f: f64) -> FloatSum {
        let mut s = FloatSum { count: 1, ..FloatSum::default() };
        if f.is_nan() {
            s.nan = 1;
        } else if f == f64::INFINITY {
            s.pos_inf = 1;
        } else if f == f64::NEG_INFINITY {
            s.neg_inf = 1;
        } else {
            s.fixed = float_to_fixed(f);
        }
        s
    }

    /// True if nothing is accumulated.
    pub fn is_zero(&self) -> bool {
        self.fixed.is_zero() && self.nan == 0 && self.pos_inf == 0 && self.neg_inf == 0 && self.count == 0
    }

    /// Adds every value of `rhs`.
    pub fn plus_equals(&mut self, rhs: &FloatSum) {
        self.fixed += &rhs.fixed;
        self.nan += rhs.nan;
        self.pos_inf += rhs.pos_inf;
        self.neg_inf += rhs.neg_inf;
        self.count += rhs.count;
    }

    /// Multiplies every multiplicity by `by`.
    pub fn scale(&mut self, by: i64) {
        self.fixed *= BigInt::from(by);
        self.nan *= by;
        self.pos_inf *= by;
        self.neg_inf *= by;
        self.count *= by;
    }

    /// The exact sum of the finite values, in units of 2^-1074.
    pub fn fixed(&self) -> &BigInt {
        &self.fixed
    }

    /// The sum: NaN if any NaN or both infinities, else an infinity, else
    /// the correctly rounded exact sum (overflow is PostgreSQL's error).
    pub fn sum(&self) -> Result<f64, EvalError> {
        if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            return Ok(f64::NAN);
        }
        if self.pos_inf > 0 {
            return Ok(f64::INFINITY);
        }
        if self.neg_inf > 0 {
            return Ok(f64::NEG_INFINITY);
        }
        let v = fixed_to_float(&self.fixed);
        if v.is_infinite() {
            return Err(EvalError::Other("value out of range: overflow".into()));
        }
        Ok(v)
    }
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
pub(crate) fn ldexp(x: f64, exp: i64) -> f64 {
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

/// Serde for the fixed-point sum: sign and little-endian 32-bit digits.
pub(crate) mod bigint_serde {
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
    fn float_sum_special_values() {
        let mut s = FloatSum::of(f64::INFINITY);
        s.plus_equals(&FloatSum::of(1.5));
        assert_eq!(s.sum().unwrap(), f64::INFINITY);
        s.plus_equals(&FloatSum::of(f64::NEG_INFINITY));
        assert!(s.sum().unwrap().is_nan());
        let mut back = FloatSum::of(f64::NEG_INFINITY);
        back.scale(-1);
        s.plus_equals(&back);
        assert_eq!(s.sum().unwrap(), f64::INFINITY);
        assert_eq!(s.count, 2);
    }
}
