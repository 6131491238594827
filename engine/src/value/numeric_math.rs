//! Numeric functions with PostgreSQL's result scales: `sqrt`, `exp`, `ln`,
//! `log`, `power`, `div`, `trunc`, `ceil`, `floor`.
//!
//! Each function first chooses the result's display scale exactly as
//! PostgreSQL does (at least 16 significant digits, never fewer than the
//! inputs' scales, at most 1000; the estimates use PostgreSQL's base-10000
//! digit layout), then computes the value with enough guard digits that
//! rounding it half away from zero to that scale gives the correctly
//! rounded result. Square roots and integer powers are computed exactly.
//! `exp`, `ln` and non-integer powers use fixed-point series on big
//! integers (atanh series for logarithms, Taylor series with halving and
//! squaring for the exponential).

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

use super::numeric::{big_digits, big_pow10, overflow_format, Kind, Numeric};
use crate::expr::EvalError;

/// PostgreSQL's `NUMERIC_MIN_SIG_DIGITS`.
const MIN_SIG_DIGITS: i64 = 16;
/// PostgreSQL's `NUMERIC_MAX_DISPLAY_SCALE`.
const MAX_DISPLAY_SCALE: i64 = 1000;
/// PostgreSQL's `NUMERIC_MAX_RESULT_SCALE`.
pub(crate) const MAX_RESULT_SCALE: i64 = 2000;
/// Extra digits carried by the series computations.
const GUARD: u64 = 12;

fn clamp_scale(s: i64) -> u64 {
    s.clamp(0, MAX_DISPLAY_SCALE) as u64
}

fn other(msg: &str) -> EvalError {
    EvalError::Other(msg.to_string())
}

/// A finite numeric as (mantissa, scale).
fn parts(n: &Numeric) -> Option<(BigInt, u64)> {
    Some((n.mantissa_big()?, n.scale()? as u64))
}

/// `v × 10^-from` rounded half away from zero to scale `to` (`to <= from`).
fn round_down_scale(v: &BigInt, from: u64, to: u64) -> BigInt {
    if to >= from {
        return v * big_pow10(to - from);
    }
    let d = big_pow10(from - to);
    let q = v / &d;
    let r = v % &d;
    if (r.abs() * 2u8) >= d {
        if v.is_negative() {
            q - 1u8
        } else {
            q + 1u8
        }
    } else {
        q
    }
}

/// PostgreSQL's base-10000 view of a finite non-zero value: the weight of
/// its first digit and its first one or two base-10000 digits.
fn nbase_head(m: &BigInt, scale: u64) -> (i64, i64, Option<i64>) {
    let mut n = m.abs();
    // Align the fraction to whole base-10000 digits.
    let pad = (4 - scale % 4) % 4;
    n *= big_pow10(pad);
    let mut s4 = (scale + pad) as i64;
    let base = BigInt::from(10_000u32);
    while !n.is_zero() && (&n % &base).is_zero() {
        n /= &base;
        s4 -= 4;
    }
    let digits = big_digits(&n) as i64;
    let k = (digits + 3) / 4;
    let weight = k - 1 - s4 / 4;
    let top = &n / num_traits::pow::pow(base.clone(), (k - 1) as usize);
    let first = top.to_i64().unwrap_or(0);
    let second = if k > 1 {
        let two = &n / num_traits::pow::pow(base.clone(), (k - 2) as usize);
        Some((two % &base).to_i64().unwrap_or(0))
    } else {
        None
    };
    (weight, first, second)
}

/// The value as a double, infinite when out of range (PostgreSQL's
/// `numericvar_to_double_no_overflow`).
fn approx(n: &Numeric) -> f64 {
    n.to_string().parse().unwrap_or(f64::NAN)
}

/// PostgreSQL's `estimate_ln_dweight`: the decimal weight of `ln(x)`.
fn estimate_ln_dweight(m: &BigInt, scale: u64) -> i64 {
    if !m.is_positive() {
        return 0;
    }
    let one = big_pow10(scale);
    // 0.9 <= x <= 1.1: ln(x) ~= x - 1.
    let tenfold = m * 10u8;
    if tenfold >= &one * 9u8 && tenfold <= &one * 11u8 {
        let x = m - &one;
        if x.is_zero() {
            return 0;
        }
        let (w, first, _) = nbase_head(&x, scale);
        return w * 4 + (first as f64).log10() as i64;
    }
    let (w, first, second) = nbase_head(m, scale);
    let (digits, dweight) = match second {
        Some(d) => (first * 10_000 + d, (w - 1) * 4),
        None => (first, w * 4),
    };
    let ln = (digits as f64).ln() + dweight as f64 * std::f64::consts::LN_10;
    ln.abs().log10() as i64
}

/// `ln(2)` at scale `w`.
fn ln2_fixed(w: u64) -> BigInt {
    // ln 2 = 2 atanh(1/3).
    atanh_series(&(big_pow10(w) / 3u8), w) * 2u8
}

/// `sum t^(2k+1)/(2k+1)` at scale `w`, for `|t| < 1` given at scale `w`.
fn atanh_series(t: &BigInt, w: u64) -> BigInt {
    let one = big_pow10(w);
    let t2 = t * t / &one;
    let mut term = t.clone();
    let mut sum = BigInt::zero();
    let mut k = 1u64;
    while !term.is_zero() {
        sum += &term / k;
        term = &term * &t2 / &one;
        k += 2;
    }
    sum
}

/// `ln(m × 10^-scale)` at scale `w` (`m > 0`), accurate to a few units in
/// the last place.
fn ln_fixed(m: &BigInt, scale: u64, w: u64) -> BigInt {
    let digits = big_digits(m);
    // x = y × 10^e with y in [1, 10).
    let e = digits as i64 - 1 - scale as i64;
    let extra = (e.unsigned_abs().max(1) as f64).log10().ceil() as u64 + 4;
    let wp = w + extra;
    let one = big_pow10(wp);
    // y at scale wp.
    let mut y = if wp + 1 >= digits { m * big_pow10(wp + 1 - digits) } else { m / big_pow10(digits - 1 - wp) };
    // Halve into [1, 2).
    let two = &one * 2u8;
    let mut halvings = 0u32;
    while y >= two {
        y /= 2u8;
        halvings += 1;
    }
    let t = (&y - &one) * &one / (&y + &one);
    let ln_y = atanh_series(&t, wp) * 2u8;
    let ln2 = ln2_fixed(wp);
    // ln 10 = 3 ln 2 + ln 1.25, ln 1.25 = 2 atanh(1/9).
    let ln10 = &ln2 * 3u8 + atanh_series(&(&one / 9u8), wp) * 2u8;
    let total = ln_y + &ln2 * halvings + ln10 * e;
    round_down_scale(&total, wp, w)
}

/// `exp(x)` for `x` given at scale `xs`, at scale `w`; `mag` is an
/// estimate of `x`.
fn exp_fixed(x: &BigInt, xs: u64, w: u64, mag: f64) -> BigInt {
    // Halve until |x| < 0.5, then square back.
    let halvings = if mag.abs() < 0.5 { 0 } else { (mag.abs().log2().ceil() as i64 + 1).max(0) as u32 };
    // Relative precision: the result's integer digits come on top of the
    // fractional digits asked for.
    let int_digits = (mag.max(0.0) * std::f64::consts::LOG10_E).ceil() as u64;
    let wp = w + GUARD + halvings as u64 + int_digits;
    let one = big_pow10(wp);
    let r = if wp >= xs { x * big_pow10(wp - xs) } else { x / big_pow10(xs - wp) } >> (halvings as usize);
    let mut sum = one.clone();
    let mut term = one.clone();
    let mut n = 1u64;
    loop {
        term = &term * &r / &one / n;
        if term.is_zero() {
            break;
        }
        sum += &term;
        n += 1;
    }
    for _ in 0..halvings {
        sum = &sum * &sum / &one;
    }
    round_down_scale(&sum, wp, w)
}

impl Numeric {
    /// `sqrt(numeric)`: at least 16 significant digits, not fewer than the
    /// input's scale.
    pub fn sqrt(&self) -> Result<Numeric, EvalError> {
        let negative = || other("cannot take square root of a negative number");
        match self.kind() {
            Kind::NaN => return Ok(Numeric::NAN),
            Kind::PosInf => return Ok(Numeric::INFINITY),
            Kind::NegInf => return Err(negative()),
            Kind::Finite(..) => {}
        }
        let (m, s) = parts(self).ok_or_else(overflow_format)?;
        if m.is_negative() {
            return Err(negative());
        }
        let weight = if m.is_zero() { 0 } else { nbase_head(&m, s).0 };
        let sweight = (weight + 1) * 4 / 2 - 1;
        let rscale = clamp_scale((MIN_SIG_DIGITS - sweight).max(s as i64));
        // floor(sqrt(x) × 10^rscale) = isqrt(m × 10^(2 rscale - s)), with
        // the exponent made even by one more digit where needed.
        let (x, shift) =
            if (2 * rscale) >= s { (&m * big_pow10(2 * rscale - s), 0) } else { (m.clone(), s - 2 * rscale) };
        let (x, odd) = if shift % 2 == 1 { (x * 10u8, 1) } else { (x, 0) };
        let q = x.sqrt();
        let q_scale = rscale + (shift + odd) / 2;
        // Round half up: compare (2q + 1)^2 with 4x.
        let twice = &q * 2u8 + 1u8;
        let q = if &twice * &twice <= x * 4u8 { q + 1u8 } else { q };
        let r = round_down_scale(&q, q_scale, rscale);
        Numeric::checked_big(r, rscale)
    }

    /// `exp(numeric)`.
    pub fn exp(&self) -> Result<Numeric, EvalError> {
        match self.kind() {
            Kind::NaN => return Ok(Numeric::NAN),
            Kind::PosInf => return Ok(Numeric::INFINITY),
            Kind::NegInf => return Ok(Numeric::ZERO),
            Kind::Finite(..) => {}
        }
        let (m, s) = parts(self).ok_or_else(overflow_format)?;
        let val = approx(self);
        let dweight = (val * std::f64::consts::LOG10_E).clamp(-MAX_RESULT_SCALE as f64, MAX_RESULT_SCALE as f64);
        let rscale = clamp_scale((MIN_SIG_DIGITS - dweight as i64).max(s as i64));
        if val.abs() >= (MAX_RESULT_SCALE * 3) as f64 {
            if val > 0.0 {
                return Err(overflow_format());
            }
            return Ok(Numeric::from_parts(0, rscale as u16));
        }
        let w = rscale + GUARD;
        let r = exp_fixed(&m, s, w, val);
        Numeric::checked_big(round_down_scale(&r, w, rscale), rscale)
    }

    /// `ln(numeric)`.
    pub fn ln(&self) -> Result<Numeric, EvalError> {
        match self.kind() {
            Kind::NaN => return Ok(Numeric::NAN),
            Kind::PosInf => return Ok(Numeric::INFINITY),
            Kind::NegInf => return Err(other("cannot take logarithm of a negative number")),
            Kind::Finite(..) => {}
        }
        let (m, s) = parts(self).ok_or_else(overflow_format)?;
        if m.is_zero() {
            return Err(other("cannot take logarithm of zero"));
        }
        if m.is_negative() {
            return Err(other("cannot take logarithm of a negative number"));
        }
        let rscale = clamp_scale((MIN_SIG_DIGITS - estimate_ln_dweight(&m, s)).max(s as i64));
        let w = rscale + GUARD;
        let r = ln_fixed(&m, s, w);
        Numeric::checked_big(round_down_scale(&r, w, rscale), rscale)
    }

    /// `log(self, x)`: the logarithm of `x` to the base `self`.
    pub fn log(&self, x: &Numeric) -> Result<Numeric, EvalError> {
        if self.is_nan() || x.is_nan() {
            return Ok(Numeric::NAN);
        }
        if self.signum() < 0 || x.signum() < 0 {
            return Err(other("cannot take logarithm of a negative number"));
        }
        if self.signum() == 0 || x.signum() == 0 {
            return Err(other("cannot take logarithm of zero"));
        }
        if self.is_infinite() {
            return Ok(if x.is_infinite() { Numeric::NAN } else { Numeric::ZERO });
        }
        if x.is_infinite() {
            return Ok(Numeric::INFINITY);
        }
        let (bm, bs) = parts(self).ok_or_else(overflow_format)?;
        let (xm, xs) = parts(x).ok_or_else(overflow_format)?;
        let base_dw = estimate_ln_dweight(&bm, bs);
        let num_dw = estimate_ln_dweight(&xm, xs);
        let result_dw = num_dw - base_dw;
        let rscale = clamp_scale((MIN_SIG_DIGITS - result_dw).max(bs as i64).max(xs as i64));
        let w = (rscale as i64 + result_dw.max(0) + base_dw.unsigned_abs() as i64 + GUARD as i64) as u64;
        let ln_base = ln_fixed(&bm, bs, w);
        if ln_base.is_zero() {
            return Err(EvalError::DivisionByZero);
        }
        let ln_x = ln_fixed(&xm, xs, w);
        // ln_x / ln_base at scale rscale + GUARD, then rounded.
        let q = ln_x * big_pow10(rscale + GUARD) / ln_base;
        Numeric::checked_big(round_down_scale(&q, rscale + GUARD, rscale), rscale)
    }

    /// `power(self, exponent)` for numeric.
    pub fn pow(&self, exponent: &Numeric) -> Result<Numeric, EvalError> {
        let one = Numeric::from(1);
        if self.is_nan() {
            return Ok(if exponent.is_finite() && exponent.is_zero() { one } else { Numeric::NAN });
        }
        if exponent.is_nan() {
            return Ok(if self.is_finite() && self.cmp_value(&one).is_eq() { one } else { Numeric::NAN });
        }
        if !self.is_finite() || !exponent.is_finite() {
            return pow_special(self, exponent);
        }
        if self.is_zero() && exponent.signum() < 0 {
            return Err(other("zero raised to a negative power is undefined"));
        }
        let (bm, bs) = parts(self).ok_or_else(overflow_format)?;
        let (em, es) = parts(exponent).ok_or_else(overflow_format)?;
        let exp_is_integer = (&em % big_pow10(es)).is_zero();
        if exp_is_integer {
            if let Some(n) = (&em / big_pow10(es)).to_i64().filter(|n| i32::try_from(*n).is_ok()) {
                let rscale = clamp_scale(MIN_SIG_DIGITS.max(bs as i64));
                return pow_int(&bm, bs, n, rscale);
            }
        }
        if bm.is_zero() {
            return Ok(Numeric::from_parts(0, MIN_SIG_DIGITS as u16));
        }
        let negative_base = bm.is_negative();
        if negative_base && !exp_is_integer {
            return Err(other("a negative number raised to a non-integer power yields a complex result"));
        }
        let odd = exp_is_integer && !((&em / big_pow10(es)) % 2u8).is_zero();
        let abs_m = bm.abs();
        // ln(base) estimate for the scale and the overflow test.
        let ln_est = (approx(&Numeric::from_big(abs_m.clone(), bs as u16))).ln();
        let ln_num = ln_est * approx(exponent);
        if ln_num.abs() > MAX_RESULT_SCALE as f64 * 3.01 {
            if ln_num > 0.0 {
                return Err(overflow_format());
            }
            return Ok(Numeric::from_parts(0, MAX_DISPLAY_SCALE as u16));
        }
        let val = ln_num * std::f64::consts::LOG10_E;
        let rscale = clamp_scale((MIN_SIG_DIGITS - val as i64).max(bs as i64).max(es as i64));
        // ln(base) precise enough that y·ln(base) is good to rscale digits
        // of the result.
        let exp_digits = big_digits(&em) as i64 - es as i64;
        let w = (rscale as i64 + val.max(0.0).ceil() as i64 + exp_digits.max(0) + GUARD as i64) as u64;
        let ln_base = ln_fixed(&abs_m, bs, w);
        let product = ln_base * &em; // at scale w + es
        let r = exp_fixed(&product, w + es, rscale + GUARD, ln_num);
        let r = round_down_scale(&r, rscale + GUARD, rscale);
        let r = if negative_base && odd { -r } else { r };
        Numeric::checked_big(r, rscale)
    }

    /// `div(self, other)`: the quotient truncated toward zero, scale 0.
    pub fn div_trunc(&self, other_n: &Numeric) -> Result<Numeric, EvalError> {
        if self.is_nan() || other_n.is_nan() {
            return Ok(Numeric::NAN);
        }
        if other_n.is_infinite() {
            return Ok(if self.is_infinite() { Numeric::NAN } else { Numeric::ZERO });
        }
        if self.is_infinite() {
            if other_n.is_zero() {
                return Err(EvalError::DivisionByZero);
            }
            return Ok(if self.signum() * other_n.signum() > 0 { Numeric::INFINITY } else { Numeric::NEG_INFINITY });
        }
        let (am, as_) = parts(self).ok_or_else(overflow_format)?;
        let (bm, bs) = parts(other_n).ok_or_else(overflow_format)?;
        if bm.is_zero() {
            return Err(EvalError::DivisionByZero);
        }
        // (am / 10^as) / (bm / 10^bs) = am·10^bs / (bm·10^as)
        let q = (am * big_pow10(bs)) / (bm * big_pow10(as_));
        Numeric::checked_big(q, 0)
    }

    /// `trunc(self, scale)`: digits beyond `scale` dropped (a negative
    /// scale zeroes integer digits; a larger scale pads with zeros).
    pub fn trunc_to(&self, scale: i32) -> Numeric {
        let Some((m, s)) = parts(self) else { return self.clone() };
        let scale = scale.clamp(-(MAX_RESULT_SCALE as i32), MAX_RESULT_SCALE as i32);
        if scale >= s as i32 {
            return self.round(scale);
        }
        if scale >= 0 {
            return self.trunc(scale as u16);
        }
        let int = m / big_pow10(s);
        let unit = big_pow10(scale.unsigned_abs() as u64);
        let r = &int - &int % &unit;
        Numeric::from_big(r, 0)
    }

    /// `ceil(self)` (scale 0).
    pub fn ceil(&self) -> Numeric {
        self.to_integer(true)
    }

    /// `floor(self)` (scale 0).
    pub fn floor(&self) -> Numeric {
        self.to_integer(false)
    }

    fn to_integer(&self, up: bool) -> Numeric {
        let Some((m, s)) = parts(self) else { return self.clone() };
        let unit = big_pow10(s);
        let q = &m / &unit;
        let has_fraction = !(&m % &unit).is_zero();
        let q = if has_fraction && up && m.is_positive() {
            q + 1u8
        } else if has_fraction && !up && m.is_negative() {
            q - 1u8
        } else {
            q
        };
        Numeric::from_big(q, 0)
    }
}

/// `base ^ n` for an integer `n`, rounded to `rscale` (PostgreSQL's
/// `power_var_int`), computed exactly where the exact result is of
/// reasonable size.
fn pow_int(m: &BigInt, s: u64, n: i64, rscale: u64) -> Result<Numeric, EvalError> {
    match n {
        0 => return Numeric::checked_big(big_pow10(rscale), rscale),
        1 => return Numeric::checked_big(round_down_scale(m, s, rscale), rscale),
        _ => {}
    }
    if m.is_zero() {
        return Numeric::checked_big(BigInt::zero(), rscale);
    }
    let abs_n = n.unsigned_abs();
    // log10 |result| estimate, as PostgreSQL tests overflow/underflow.
    let log10_base = approx(&Numeric::from_big(m.abs(), s as u16)).log10();
    let f = n as f64 * log10_base;
    if f > (3 * 32767 * 4) as f64 {
        return Err(overflow_format());
    }
    if f + 1.0 < -(rscale as f64) || f + 1.0 < -(MAX_DISPLAY_SCALE as f64) {
        return Numeric::checked_big(BigInt::zero(), rscale);
    }
    let exact_digits = big_digits(m) as u128 * abs_n as u128;
    if exact_digits <= 200_000 {
        let p = num_traits::pow::pow(m.clone(), abs_n as usize);
        let ps = s * abs_n;
        let r = if n > 0 {
            round_down_scale(&p, ps, rscale)
        } else {
            // 10^ps / p at scale rscale, rounded half away from zero.
            let num = big_pow10(ps + rscale + 1) * 10u8;
            let q = num / &p;
            round_down_scale(&q, rscale + 2, rscale)
        };
        return Numeric::checked_big(r, rscale);
    }
    // Too large to expand: exp(n·ln|base|), sign restored.
    let w = (rscale as i64 + f.max(0.0).ceil() as i64 + 20) as u64;
    let ln_base = ln_fixed(&m.abs(), s, w + 20);
    let product = ln_base * BigInt::from(n);
    let r = exp_fixed(&product, w + 20, rscale + GUARD, f / std::f64::consts::LOG10_E);
    let r = round_down_scale(&r, rscale + GUARD, rscale);
    let r = if m.is_negative() && abs_n % 2 == 1 { -r } else { r };
    Numeric::checked_big(r, rscale)
}

/// `power` with an infinite base or exponent (PostgreSQL 14+ rules).
fn pow_special(base: &Numeric, exp: &Numeric) -> Result<Numeric, EvalError> {
    let one = Numeric::from(1);
    let bsign = base.signum();
    let esign = exp.signum();
    if base.is_finite() {
        // Infinite exponent.
        if base.is_zero() {
            if esign < 0 {
                return Err(other("zero raised to a negative power is undefined"));
            }
            return Ok(Numeric::ZERO);
        }
        let abs_cmp = base.abs().cmp_value(&one);
        if abs_cmp.is_eq() {
            return Ok(one);
        }
        let grows = abs_cmp.is_gt();
        return Ok(match (grows, esign > 0) {
            (true, true) | (false, false) => Numeric::INFINITY,
            _ => Numeric::ZERO,
        });
    }
    // Infinite base.
    if exp.is_zero() {
        return Ok(one);
    }
    if esign < 0 {
        return Ok(Numeric::ZERO);
    }
    if bsign > 0 {
        return Ok(Numeric::INFINITY);
    }
    // -Infinity ^ positive: sign by the exponent's parity; a non-integer
    // exponent is an error.
    let Some((em, es)) = parts(exp) else { return Ok(Numeric::INFINITY) };
    let unit = big_pow10(es);
    if !(&em % &unit).is_zero() {
        return Err(other("a negative number raised to a non-integer power yields a complex result"));
    }
    let odd = !((em / unit) % 2u8).is_zero();
    Ok(if odd { Numeric::NEG_INFINITY } else { Numeric::INFINITY })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Numeric {
        Numeric::parse(s).expect("valid numeric")
    }
    fn text(r: Result<Numeric, EvalError>) -> String {
        match r {
            Ok(v) => v.to_string(),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    #[test]
    fn sqrt_scales_as_postgres() {
        // PostgreSQL 15: sqrt(2::numeric), sqrt(2.00), sqrt(16::numeric),
        // sqrt(1e-20), sqrt(123456789012345678901234567890), sqrt(0::numeric).
        assert_eq!(text(n("2").sqrt()), "1.414213562373095");
        assert_eq!(text(n("2.00").sqrt()), "1.414213562373095");
        assert_eq!(text(n("16").sqrt()), "4.000000000000000");
        assert_eq!(text(n("0.00000000000000000001").sqrt()), "0.0000000001000000000000000");
        assert_eq!(text(n("123456789012345678901234567890").sqrt()), "351364182882014.4");
        assert_eq!(text(n("0").sqrt()), "0.000000000000000");
        assert_eq!(text(n("-1").sqrt()), "ERROR: cannot take square root of a negative number");
    }

    #[test]
    fn exp_ln_log_as_postgres() {
        assert_eq!(text(n("1").exp()), "2.7182818284590452");
        assert_eq!(text(n("0.5").exp()), "1.6487212707001281");
        assert_eq!(text(n("100").exp()), "26881171418161354484126255515800135873611119");
        assert_eq!(text(n("-100").exp()), "0.00000000000000000000000000000000000000000003720075976020836");
        assert_eq!(text(n("2.5").exp()), "12.182493960703473");
        assert_eq!(text(n("20.5").exp()), "799902177.47550541");
        assert_eq!(text(n("1e100").ln()), "230.25850929940457");
        assert_eq!(text(n("3").log(&n("81"))), "4.0000000000000000");
        assert_eq!(text(n("0.5").log(&n("0.25"))), "2.0000000000000000");
        assert_eq!(text(n("2.0").log(&n("1000000"))), "19.931568569324174");
        assert_eq!(text(n("0.9").ln()), "-0.10536051565782630");
        assert_eq!(text(n("1.1").ln()), "0.09531017980432486");
        assert_eq!(text(n("0.95").ln()), "-0.051293294387550533");
        assert_eq!(text(n("2").ln()), "0.6931471805599453");
        assert_eq!(text(n("10.0").ln()), "2.3025850929940457");
        assert_eq!(text(n("1.05").ln()), "0.048790164169432003");
        assert_eq!(text(n("100000").ln()), "11.512925464970228");
        assert_eq!(text(n("10").log(&n("100000"))), "5.000000000000000");
        assert_eq!(text(n("123456789.123456789").ln()), "18.631401767168018");
        assert_eq!(text(n("0.001").exp()), "1.0010005001667083");
        assert_eq!(text(n("0.0001").sqrt()), "0.01000000000000000");
        assert_eq!(text(n("2.5").pow(&n("2.5"))), "9.8821176880261854");
        assert_eq!(text(n("0").ln()), "ERROR: cannot take logarithm of zero");
        assert_eq!(text(n("10").log(&n("100"))), "2.0000000000000000");
        assert_eq!(text(n("2").log(&n("8"))), "3.0000000000000000");
        assert_eq!(text(n("10").log(&n("2"))), "0.3010299956639812");
        assert_eq!(text(n("1").log(&n("10"))), "ERROR: division by zero");
    }

    #[test]
    fn power_as_postgres() {
        assert_eq!(text(n("2.0").pow(&n("10"))), "1024.0000000000000000");
        assert_eq!(text(n("2").pow(&n("0.5"))), "1.4142135623730950");
        assert_eq!(text(n("10").pow(&n("-3"))), "0.0010000000000000");
        assert_eq!(text(n("0").pow(&n("0"))), "1.0000000000000000");
        assert_eq!(text(n("1.5").pow(&n("3"))), "3.3750000000000000");
        assert_eq!(text(n("-2.0").pow(&n("3"))), "-8.0000000000000000");
        assert_eq!(text(n("2.5").pow(&n("2"))), "6.2500000000000000");
        assert_eq!(text(n("3").pow(&n("-2"))), "0.1111111111111111");
        assert_eq!(text(n("2").pow(&n("100"))), "1267650600228229401496703205376.0000000000000000");
        assert_eq!(text(n("1.0001").pow(&n("10000"))), "2.7181459268252249");
        assert_eq!(text(n("1.0001").pow(&n("10000.5"))), "2.7182818307240536");
        assert_eq!(text(n("2").pow(&n("0.333"))), "1.2596299799473994");
        assert_eq!(text(n("0.5").pow(&n("100"))), "0.0000000000000000");
        assert_eq!(text(n("7").pow(&n("-5"))), "0.0000594990182662");
        assert_eq!(
            text(n("-2.0").pow(&n("0.5"))),
            "ERROR: a negative number raised to a non-integer power yields a complex result"
        );
        assert_eq!(text(n("0.0").pow(&n("-1"))), "ERROR: zero raised to a negative power is undefined");
    }

    #[test]
    fn div_trunc_ceil_floor() {
        assert_eq!(text(n("7.5").div_trunc(&n("2"))), "3");
        assert_eq!(text(n("-7.5").div_trunc(&n("2"))), "-3");
        assert_eq!(text(n("1").div_trunc(&n("0"))), "ERROR: division by zero");
        assert_eq!(n("1999.99").trunc_to(-2).to_string(), "1900");
        assert_eq!(n("-1999.99").trunc_to(-2).to_string(), "-1900");
        assert_eq!(n("1.5").trunc_to(4).to_string(), "1.5000");
        assert_eq!(n("1.55").trunc_to(1).to_string(), "1.5");
        assert_eq!(n("-1.1").ceil().to_string(), "-1");
        assert_eq!(n("-0.5").ceil().to_string(), "0");
        assert_eq!(n("-1.1").floor().to_string(), "-2");
        assert_eq!(n("1.000").ceil().to_string(), "1");
    }
}
