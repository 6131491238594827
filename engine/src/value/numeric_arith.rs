//! Arithmetic on [`Numeric`] with PostgreSQL's result scales and rounding.
//!
//! * `+`, `-`, `%`: scale `max(s1, s2)`; `*`: scale `s1 + s2`; all exact.
//! * `/`: PostgreSQL's `select_div_scale` (at least 16 significant digits,
//!   never less than either input's scale, at most 1000), rounded half away
//!   from zero.
//! * NaN and ±Infinity follow PostgreSQL 14+.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

use super::numeric::{big_pow10, rescale_i128, Kind, Mant, Numeric, NUMERIC_MAX_SCALE, POW10};
use crate::expr::EvalError;

/// PostgreSQL's `NUMERIC_MIN_SIG_DIGITS`.
const MIN_SIG_DIGITS: i64 = 16;
/// PostgreSQL's `NUMERIC_MAX_DISPLAY_SCALE`.
const MAX_DISPLAY_SCALE: i64 = 1000;

/// `n / d` rounded half away from zero (`d != 0`).
fn div_round_i128(n: i128, d: i128) -> Option<i128> {
    let q = n.checked_div(d)?;
    let r = n % d;
    if r != 0 && r.unsigned_abs() >= d.unsigned_abs() - r.unsigned_abs() {
        Some(if (n < 0) == (d < 0) { q + 1 } else { q - 1 })
    } else {
        Some(q)
    }
}

/// `n / d` rounded half away from zero (`d != 0`).
fn div_round_big(n: &BigInt, d: &BigInt) -> BigInt {
    let q = n / d;
    let r = n % d;
    if r.is_zero() {
        return q;
    }
    let twice = r.abs() * 2u8;
    if twice >= d.abs() {
        if n.is_negative() == d.is_negative() {
            q + 1u8
        } else {
            q - 1u8
        }
    } else {
        q
    }
}

/// The weight (position of the first non-zero base-10000 digit) and that
/// digit, as PostgreSQL's `select_div_scale` computes them.
fn weight_and_first_digit(m: Mant<'_>, scale: u16) -> (i64, i64) {
    if m.signum() == 0 {
        return (0, 0);
    }
    let nd = m.digits() as i64;
    let e = nd - 1 - scale as i64;
    let w = e.div_euclid(4);
    let lead = e - 4 * w + 1; // 1..=4 decimal digits in the first group
    let first = if nd >= lead {
        match m {
            Mant::Small(v) => (v.unsigned_abs() / POW10[(nd - lead) as usize] as u128) as i64,
            Mant::Big(b) => (b.abs() / big_pow10((nd - lead) as u64)).to_i64().unwrap_or(0),
        }
    } else {
        let v = match m {
            Mant::Small(v) => v.unsigned_abs() as i64,
            Mant::Big(b) => b.abs().to_i64().unwrap_or(0),
        };
        v * POW10[(lead - nd) as usize] as i64
    };
    (w, first)
}

/// PostgreSQL's result scale for `a / b`.
fn select_div_scale(ma: Mant<'_>, sa: u16, mb: Mant<'_>, sb: u16) -> u16 {
    let (w1, f1) = weight_and_first_digit(ma, sa);
    let (w2, f2) = weight_and_first_digit(mb, sb);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    let rscale = (MIN_SIG_DIGITS - qweight * 4).max(sa as i64).max(sb as i64).clamp(0, MAX_DISPLAY_SCALE);
    rscale as u16
}

/// `m × 10^-from` rounded half away from zero to `to` digits (`to < from`).
fn round_mant(m: Mant<'_>, from: u16, to: u16) -> Numeric {
    let d = (from - to) as u64;
    match m {
        Mant::Small(v) if d < 39 => Numeric::from_parts(div_round_i128(v, POW10[d as usize]).unwrap_or(0), to),
        Mant::Small(_) => Numeric::from_parts(0, to),
        Mant::Big(b) => Numeric::from_big(div_round_big(b, &big_pow10(d)), to),
    }
}

/// `m × 10^-from` rounded half away from zero to `to` digits, where `from`
/// may exceed the largest display scale.
fn round_mant_wide(m: Mant<'_>, from: u64, to: u16) -> Numeric {
    let d = from - to as u64;
    Numeric::from_big(div_round_big(&m.to_big(), &big_pow10(d)), to)
}

impl Numeric {
    /// `self + other`.
    pub fn add(&self, other: &Numeric) -> Result<Numeric, EvalError> {
        match (self.kind(), other.kind()) {
            (Kind::NaN, _) | (_, Kind::NaN) => Ok(Numeric::NAN),
            (Kind::PosInf, Kind::NegInf) | (Kind::NegInf, Kind::PosInf) => Ok(Numeric::NAN),
            (Kind::PosInf, _) | (_, Kind::PosInf) => Ok(Numeric::INFINITY),
            (Kind::NegInf, _) | (_, Kind::NegInf) => Ok(Numeric::NEG_INFINITY),
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => {
                let r = add_finite(ma, sa, mb, sb, false);
                r.check_range()?;
                Ok(r)
            }
        }
    }

    /// `self - other`.
    pub fn sub(&self, other: &Numeric) -> Result<Numeric, EvalError> {
        match (self.kind(), other.kind()) {
            (Kind::NaN, _) | (_, Kind::NaN) => Ok(Numeric::NAN),
            (Kind::PosInf, Kind::PosInf) | (Kind::NegInf, Kind::NegInf) => Ok(Numeric::NAN),
            (Kind::PosInf, _) | (_, Kind::NegInf) => Ok(Numeric::INFINITY),
            (Kind::NegInf, _) | (_, Kind::PosInf) => Ok(Numeric::NEG_INFINITY),
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => {
                let r = add_finite(ma, sa, mb, sb, true);
                r.check_range()?;
                Ok(r)
            }
        }
    }

    /// Exact `self + other` for finite values without the range check (for
    /// accumulators, whose intermediate sums may exceed the final range).
    /// NaN and infinities combine as in [`Numeric::add`].
    pub(crate) fn add_unchecked(&self, other: &Numeric) -> Numeric {
        match (self.kind(), other.kind()) {
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => add_finite(ma, sa, mb, sb, false),
            _ => self.add(other).unwrap_or(Numeric::NAN),
        }
    }

    /// `self * other` (scale `s1 + s2`).
    pub fn mul(&self, other: &Numeric) -> Result<Numeric, EvalError> {
        match (self.kind(), other.kind()) {
            (Kind::NaN, _) | (_, Kind::NaN) => Ok(Numeric::NAN),
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => {
                let scale = sa as u64 + sb as u64;
                if scale > NUMERIC_MAX_SCALE as u64 {
                    // PostgreSQL rounds such products to the largest scale.
                    let exact = Numeric::from_big(ma.to_big() * mb.to_big(), 0);
                    let Kind::Finite(m, _) = exact.kind() else { unreachable!("finite product") };
                    let r = round_mant_wide(m, scale, NUMERIC_MAX_SCALE);
                    r.check_range()?;
                    return Ok(r);
                }
                if let (Mant::Small(a), Mant::Small(b)) = (ma, mb) {
                    if let Some(p) = a.checked_mul(b) {
                        return Numeric::checked_small(p, scale);
                    }
                }
                Numeric::checked_big(ma.to_big() * mb.to_big(), scale)
            }
            _ => {
                let s = self.signum() * other.signum();
                Ok(match s.cmp(&0) {
                    Ordering::Greater => Numeric::INFINITY,
                    Ordering::Less => Numeric::NEG_INFINITY,
                    Ordering::Equal => Numeric::NAN,
                })
            }
        }
    }

    /// `self / other` with PostgreSQL's result scale, rounded half away
    /// from zero. Division by zero is an error (except NaN / 0 = NaN).
    pub fn div(&self, other: &Numeric) -> Result<Numeric, EvalError> {
        match (self.kind(), other.kind()) {
            (Kind::NaN, _) | (_, Kind::NaN) => Ok(Numeric::NAN),
            (Kind::PosInf | Kind::NegInf, Kind::PosInf | Kind::NegInf) => Ok(Numeric::NAN),
            (Kind::PosInf | Kind::NegInf, Kind::Finite(m, _)) => {
                let s = self.signum() * m.signum();
                match s.cmp(&0) {
                    Ordering::Equal => Err(EvalError::DivisionByZero),
                    Ordering::Greater => Ok(Numeric::INFINITY),
                    Ordering::Less => Ok(Numeric::NEG_INFINITY),
                }
            }
            (Kind::Finite(..), _) if other.is_infinite() => Ok(Numeric::ZERO),
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => {
                if mb.signum() == 0 {
                    return Err(EvalError::DivisionByZero);
                }
                let rscale = select_div_scale(ma, sa, mb, sb);
                div_to_scale(ma, sa, mb, sb, rscale)
            }
            _ => Ok(Numeric::NAN),
        }
    }

    /// `self / other` rounded half away from zero to exactly `scale`
    /// fractional digits (PostgreSQL's `div_var` with a given scale).
    pub fn div_with_scale(&self, other: &Numeric, scale: u16) -> Result<Numeric, EvalError> {
        match (self.kind(), other.kind()) {
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => {
                if mb.signum() == 0 {
                    return Err(EvalError::DivisionByZero);
                }
                div_to_scale(ma, sa, mb, sb, scale)
            }
            _ => self.div(other),
        }
    }

    /// `self % other`: the remainder of truncating division, with the sign
    /// of `self` and scale `max(s1, s2)`.
    pub fn rem(&self, other: &Numeric) -> Result<Numeric, EvalError> {
        match (self.kind(), other.kind()) {
            (Kind::NaN, _) | (_, Kind::NaN) => Ok(Numeric::NAN),
            (Kind::PosInf | Kind::NegInf, _) => {
                if other.is_zero() {
                    Err(EvalError::DivisionByZero)
                } else {
                    Ok(Numeric::NAN)
                }
            }
            (Kind::Finite(..), Kind::PosInf | Kind::NegInf) => Ok(self.clone()),
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => {
                if mb.signum() == 0 {
                    return Err(EvalError::DivisionByZero);
                }
                let s = sa.max(sb);
                if let (Mant::Small(a), Mant::Small(b)) = (ma, mb) {
                    if let (Some(x), Some(y)) = (rescale_i128(a, sa, s), rescale_i128(b, sb, s)) {
                        return Ok(Numeric::from_parts(x % y, s));
                    }
                }
                let x = ma.to_big() * big_pow10((s - sa) as u64);
                let y = mb.to_big() * big_pow10((s - sb) as u64);
                Ok(Numeric::from_big(x % y, s))
            }
        }
    }

    /// `-self`.
    pub fn neg(&self) -> Numeric {
        match self.kind() {
            Kind::Finite(Mant::Small(m), s) => Numeric::from_parts(-m, s),
            Kind::Finite(Mant::Big(b), s) => Numeric::from_big(-b.clone(), s),
            Kind::NaN => Numeric::NAN,
            Kind::PosInf => Numeric::NEG_INFINITY,
            Kind::NegInf => Numeric::INFINITY,
        }
    }

    /// `abs(self)`.
    pub fn abs(&self) -> Numeric {
        if self.signum() < 0 {
            self.neg()
        } else {
            self.clone()
        }
    }

    /// `round(self, scale)`: half away from zero; a negative `scale` rounds
    /// to tens, hundreds, ... and yields display scale 0; a scale above the
    /// current one pads with zeros (`round(1.5, 3)` is `1.500`).
    pub fn round(&self, scale: i32) -> Numeric {
        let Kind::Finite(m, s) = self.kind() else { return self.clone() };
        let scale = scale.clamp(-(NUMERIC_MAX_SCALE as i32), NUMERIC_MAX_SCALE as i32);
        if scale >= s as i32 {
            return pad_scale(m, s, scale as u16);
        }
        if scale >= 0 {
            return round_mant(m, s, scale as u16);
        }
        // Round to 10^-scale: shift right, round, shift back at scale 0.
        let shift = (s as i64 - scale as i64) as u64;
        let back = (-scale) as u64;
        let q = match m {
            Mant::Small(v) if shift < 39 => BigInt::from(div_round_i128(v, POW10[shift as usize]).unwrap_or(0)),
            Mant::Small(_) => BigInt::zero(),
            Mant::Big(b) => div_round_big(b, &big_pow10(shift)),
        };
        Numeric::from_big(q * big_pow10(back), 0)
    }

    /// `trunc(self, scale)` for `scale >= 0`: drops digits beyond `scale`.
    pub fn trunc(&self, scale: u16) -> Numeric {
        let Kind::Finite(m, s) = self.kind() else { return self.clone() };
        if scale >= s {
            return self.clone();
        }
        let d = (s - scale) as u64;
        match m {
            Mant::Small(v) if d < 39 => Numeric::from_parts(v / POW10[d as usize], scale),
            Mant::Small(_) => Numeric::from_parts(0, scale),
            Mant::Big(b) => Numeric::from_big(b / big_pow10(d), scale),
        }
    }

    /// The same value at display scale `scale` (rounding half away from
    /// zero if digits are dropped).
    pub fn with_scale(&self, scale: u16) -> Numeric {
        self.round(scale as i32)
    }

    /// Coerces to `numeric(precision, scale)` as PostgreSQL's typmod does:
    /// rounds to `scale` and fails with `numeric field overflow` if the
    /// result needs more than `precision - scale` integer digits.
    pub fn apply_typmod(&self, precision: u16, scale: i16) -> Result<Numeric, EvalError> {
        let field_overflow = |detail: String| EvalError::Detailed { message: "numeric field overflow".into(), detail };
        match self.kind() {
            Kind::NaN => return Ok(Numeric::NAN),
            Kind::PosInf | Kind::NegInf => {
                return Err(field_overflow(format!(
                    "A field with precision {precision}, scale {scale} cannot hold an infinite value."
                )))
            }
            Kind::Finite(..) => {}
        }
        let r = self.round(scale as i32);
        let Kind::Finite(m, s) = r.kind() else { unreachable!("rounding keeps a finite value finite") };
        if m.signum() != 0 {
            let max_digits = precision as i64 - scale as i64;
            // Integer-part digits of |r| (can be negative: 0.001 has -2).
            let int_digits = m.digits() as i64 - s as i64;
            if int_digits > max_digits {
                let limit = if max_digits != 0 { format!("10^{max_digits}") } else { "1".to_string() };
                return Err(field_overflow(format!(
                    "A field with precision {precision}, scale {scale} must round to an absolute value less than {limit}."
                )));
            }
        }
        Ok(r)
    }

    /// Rounds half away from zero to an integer (PostgreSQL's numeric to
    /// integer conversion). NaN and infinities are errors with PostgreSQL's
    /// messages; the caller checks the target type's range.
    pub fn round_to_i128(&self) -> Result<Option<i128>, EvalError> {
        match self.kind() {
            Kind::NaN => Err(EvalError::Other("cannot convert NaN to integer".into())),
            Kind::PosInf | Kind::NegInf => Err(EvalError::Other("cannot convert infinity to integer".into())),
            Kind::Finite(..) => Ok(self.round(0).mantissa_i128()),
        }
    }

    /// Converts to `bigint`, rounding half away from zero.
    pub fn to_i64(&self) -> Result<i64, EvalError> {
        self.round_to_i128()?
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(|| EvalError::OutOfRange("bigint".into()))
    }

    /// Converts to `float8`, correctly rounded (PostgreSQL goes through the
    /// text form and `strtod`); values beyond float8's range are errors.
    pub fn to_f64(&self) -> Result<f64, EvalError> {
        match self.kind() {
            Kind::NaN => return Ok(f64::NAN),
            Kind::PosInf => return Ok(f64::INFINITY),
            Kind::NegInf => return Ok(f64::NEG_INFINITY),
            Kind::Finite(Mant::Small(m), s) => {
                // Exact operands and one correctly rounded operation.
                if m.unsigned_abs() < (1u128 << 53) && s <= 22 {
                    return Ok(m as f64 / 10f64.powi(s as i32));
                }
            }
            Kind::Finite(..) => {}
        }
        let text = self.to_string();
        let v: f64 = text.parse().map_err(|_| EvalError::Other(format!("invalid numeric \"{text}\"")))?;
        if v.is_infinite() || (v == 0.0 && !self.is_zero()) {
            return Err(EvalError::Other(format!("\"{text}\" is out of range for type double precision")));
        }
        Ok(v)
    }

    /// Converts a `float8` the way PostgreSQL 15 casts `float8` to
    /// `numeric`: through 15 significant digits (`%.15g`), so `0.1` gives
    /// `0.1`; NaN and ±Infinity map to themselves.
    pub fn from_f64(v: f64) -> Numeric {
        if v.is_nan() {
            return Numeric::NAN;
        }
        if v.is_infinite() {
            return if v > 0.0 { Numeric::INFINITY } else { Numeric::NEG_INFINITY };
        }
        if v == 0.0 {
            return Numeric::ZERO;
        }
        let s = format!("{:.14e}", v.abs());
        let (mant, exp) = s.split_once('e').expect("exponent format has an 'e'");
        let exp: i64 = exp.parse().expect("exponent is an integer");
        let digits: String = mant.chars().filter(|c| *c != '.').collect();
        let digits = digits.trim_end_matches('0');
        let mut m: i128 = digits.parse().expect("digits are decimal");
        if v < 0.0 {
            m = -m;
        }
        let scale = digits.len() as i64 - 1 - exp;
        if scale >= 0 {
            Numeric::from_parts(m, scale as u16)
        } else {
            Numeric::from_big(BigInt::from(m) * big_pow10((-scale) as u64), 0)
        }
    }
}

/// `m × 10^-s` at the larger display scale `to` (exact).
fn pad_scale(m: Mant<'_>, s: u16, to: u16) -> Numeric {
    match m {
        Mant::Small(v) => match rescale_i128(v, s, to) {
            Some(x) => Numeric::from_parts(x, to),
            None => Numeric::from_big(BigInt::from(v) * big_pow10((to - s) as u64), to),
        },
        Mant::Big(b) => Numeric::from_big(b * big_pow10((to - s) as u64), to),
    }
}

/// Exact `a ± b` at scale `max(sa, sb)`.
fn add_finite(ma: Mant<'_>, sa: u16, mb: Mant<'_>, sb: u16, negate_b: bool) -> Numeric {
    let s = sa.max(sb);
    if let (Mant::Small(a), Mant::Small(b)) = (ma, mb) {
        if let (Some(x), Some(y)) = (rescale_i128(a, sa, s), rescale_i128(b, sb, s)) {
            let r = if negate_b { x.checked_sub(y) } else { x.checked_add(y) };
            if let Some(r) = r {
                return Numeric::from_parts(r, s);
            }
        }
    }
    let x = ma.to_big() * big_pow10((s - sa) as u64);
    let y = mb.to_big() * big_pow10((s - sb) as u64);
    Numeric::from_big(if negate_b { x - y } else { x + y }, s)
}

/// `a / b` rounded half away from zero to `rscale` digits (`b != 0`).
fn div_to_scale(ma: Mant<'_>, sa: u16, mb: Mant<'_>, sb: u16, rscale: u16) -> Result<Numeric, EvalError> {
    // q = a·10^-sa / (b·10^-sb) · 10^rscale = a·10^(rscale+sb-sa) / b
    let shift = rscale as i64 + sb as i64 - sa as i64;
    if let (Mant::Small(a), Mant::Small(b)) = (ma, mb) {
        let nd = if shift >= 0 {
            POW10.get(shift as usize).and_then(|p| a.checked_mul(*p)).map(|n| (n, b))
        } else {
            POW10.get((-shift) as usize).and_then(|p| b.checked_mul(*p)).map(|d| (a, d))
        };
        if let Some((n, d)) = nd {
            if let Some(q) = div_round_i128(n, d) {
                return Numeric::checked_small(q, rscale as u64);
            }
        }
    }
    let (n, d) = if shift >= 0 {
        (ma.to_big() * big_pow10(shift as u64), mb.to_big())
    } else {
        (ma.to_big(), mb.to_big() * big_pow10((-shift) as u64))
    };
    Numeric::checked_big(div_round_big(&n, &d), rscale as u64)
}
