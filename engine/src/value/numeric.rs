//! [`Numeric`]: PostgreSQL's exact `numeric`.
//!
//! A finite value is `mantissa × 10^-scale`, where `scale` is PostgreSQL's
//! display scale (`1.50` has mantissa 150 and scale 2). Mantissas that fit
//! in 96 bits are stored inline (no allocation); larger ones spill to a
//! shared heap big integer. The representation is canonical (a mantissa is
//! on the heap only when it does not fit inline), so equality and hashing
//! are structural. NaN and ±Infinity are values of their own, as in
//! PostgreSQL 14+.
//!
//! Arithmetic lives in `numeric_arith.rs`, text input and output in
//! `numeric_text.rs`.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};

use crate::expr::EvalError;

/// The largest display scale a numeric can carry (PostgreSQL's
/// `NUMERIC_DSCALE_MAX`).
pub const NUMERIC_MAX_SCALE: u16 = 0x3FFF;

/// The most decimal digits before the decimal point (PostgreSQL allows
/// weights up to `NUMERIC_WEIGHT_MAX`, i.e. 131072 digits).
pub(crate) const NUMERIC_MAX_INT_DIGITS: u64 = 131_072;

const SMALL_MIN: i128 = -(1i128 << 95);
const SMALL_MAX: i128 = (1i128 << 95) - 1;

/// Powers of ten that fit in an `i128` (10^0 ..= 10^38).
pub(crate) const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// An exact decimal number with a display scale, or NaN / ±Infinity.
///
/// `Ord`, `Eq` and `Hash` are representation-exact: numeric value first,
/// then display scale (`1.0 < 1.00`, `1.0 != 1.00`). SQL comparison is
/// [`Numeric::cmp_value`]. NaN sorts above `Infinity`, which sorts above
/// every finite value, as in PostgreSQL.
#[derive(Clone, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub struct Numeric(pub(crate) Repr);

#[derive(Clone)]
pub(crate) enum Repr {
    /// A mantissa of at most 96 bits, split so the enum stays 16 bytes.
    Small { lo: u64, hi: i32, scale: u16 },
    /// A mantissa that does not fit in 96 bits.
    Big { mantissa: Arc<BigInt>, scale: u16 },
    NaN,
    PosInf,
    NegInf,
}

/// A borrowed view of a finite mantissa.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mant<'a> {
    Small(i128),
    Big(&'a BigInt),
}

impl Mant<'_> {
    pub(crate) fn to_big(self) -> BigInt {
        match self {
            Mant::Small(m) => BigInt::from(m),
            Mant::Big(b) => b.clone(),
        }
    }

    pub(crate) fn signum(self) -> i32 {
        match self {
            Mant::Small(m) => m.signum() as i32,
            Mant::Big(b) => {
                if b.is_negative() {
                    -1
                } else if b.is_zero() {
                    0
                } else {
                    1
                }
            }
        }
    }

    /// Number of decimal digits of the absolute value (0 has one digit).
    pub(crate) fn digits(self) -> u64 {
        match self {
            Mant::Small(m) => m.unsigned_abs().checked_ilog10().map_or(1, |l| l as u64 + 1),
            Mant::Big(b) => big_digits(b),
        }
    }
}

/// Number of decimal digits of `|b|`.
pub(crate) fn big_digits(b: &BigInt) -> u64 {
    if let Some(v) = b.to_i128() {
        return v.unsigned_abs().checked_ilog10().map_or(1, |l| l as u64 + 1);
    }
    // bits * log10(2) is within one of the answer; fix it exactly.
    let bits = b.bits();
    let est = ((bits - 1) as f64 * std::f64::consts::LOG10_2).floor() as u64 + 1;
    let abs = b.abs();
    if abs >= big_pow10(est) {
        est + 1
    } else if est > 1 && abs < big_pow10(est - 1) {
        est - 1
    } else {
        est
    }
}

/// 10^n as a big integer.
pub(crate) fn big_pow10(n: u64) -> BigInt {
    if n < 39 {
        return BigInt::from(POW10[n as usize]);
    }
    num_traits::pow::pow(BigInt::from(10u8), n as usize)
}

/// The kind of a numeric, for dispatch.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind<'a> {
    Finite(Mant<'a>, u16),
    NaN,
    PosInf,
    NegInf,
}

impl Numeric {
    /// NaN.
    pub const NAN: Numeric = Numeric(Repr::NaN);
    /// `Infinity`.
    pub const INFINITY: Numeric = Numeric(Repr::PosInf);
    /// `-Infinity`.
    pub const NEG_INFINITY: Numeric = Numeric(Repr::NegInf);
    /// Zero with display scale 0.
    pub const ZERO: Numeric = Numeric(Repr::Small { lo: 0, hi: 0, scale: 0 });

    /// `mantissa × 10^-scale` with display scale `scale` (e.g. `(150, 2)` is
    /// `1.50`).
    pub fn from_parts(mantissa: i128, scale: u16) -> Numeric {
        if (SMALL_MIN..=SMALL_MAX).contains(&mantissa) {
            Numeric(Repr::Small { lo: mantissa as u64, hi: (mantissa >> 64) as i32, scale })
        } else {
            Numeric(Repr::Big { mantissa: Arc::new(BigInt::from(mantissa)), scale })
        }
    }

    /// `mantissa × 10^-scale` from a big integer.
    pub fn from_big(mantissa: BigInt, scale: u16) -> Numeric {
        match mantissa.to_i128() {
            Some(m) if (SMALL_MIN..=SMALL_MAX).contains(&m) => Numeric::from_parts(m, scale),
            _ => Numeric(Repr::Big { mantissa: Arc::new(mantissa), scale }),
        }
    }

    /// Like [`Numeric::from_big`], but fails with PostgreSQL's `value
    /// overflows numeric format` when the value exceeds numeric's range.
    pub(crate) fn checked_big(mantissa: BigInt, scale: u64) -> Result<Numeric, EvalError> {
        if scale > NUMERIC_MAX_SCALE as u64 {
            return Err(overflow_format());
        }
        let n = Numeric::from_big(mantissa, scale as u16);
        n.check_range()?;
        Ok(n)
    }

    /// Like [`Numeric::from_parts`] for a scale that may be out of range.
    pub(crate) fn checked_small(mantissa: i128, scale: u64) -> Result<Numeric, EvalError> {
        if scale > NUMERIC_MAX_SCALE as u64 {
            return Err(overflow_format());
        }
        Ok(Numeric::from_parts(mantissa, scale as u16))
    }

    /// Errors if the value has more integer digits than numeric allows.
    pub(crate) fn check_range(&self) -> Result<(), EvalError> {
        if let Repr::Big { mantissa, scale } = &self.0 {
            let d = big_digits(mantissa);
            if d > *scale as u64 && d - *scale as u64 > NUMERIC_MAX_INT_DIGITS {
                return Err(overflow_format());
            }
        }
        Ok(())
    }

    pub(crate) fn kind(&self) -> Kind<'_> {
        match &self.0 {
            Repr::Small { lo, hi, scale } => Kind::Finite(Mant::Small(((*hi as i128) << 64) | *lo as i128), *scale),
            Repr::Big { mantissa, scale } => Kind::Finite(Mant::Big(mantissa), *scale),
            Repr::NaN => Kind::NaN,
            Repr::PosInf => Kind::PosInf,
            Repr::NegInf => Kind::NegInf,
        }
    }

    /// True for NaN.
    pub fn is_nan(&self) -> bool {
        matches!(self.0, Repr::NaN)
    }

    /// True for `Infinity` and `-Infinity`.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::PosInf | Repr::NegInf)
    }

    /// True for finite values.
    pub fn is_finite(&self) -> bool {
        matches!(self.0, Repr::Small { .. } | Repr::Big { .. })
    }

    /// True for a finite zero (of any scale).
    pub fn is_zero(&self) -> bool {
        matches!(self.kind(), Kind::Finite(m, _) if m.signum() == 0)
    }

    /// The display scale of a finite value.
    pub fn scale(&self) -> Option<u16> {
        match self.kind() {
            Kind::Finite(_, s) => Some(s),
            _ => None,
        }
    }

    /// The mantissa of a finite value if it fits in an `i128`.
    pub fn mantissa_i128(&self) -> Option<i128> {
        match self.kind() {
            Kind::Finite(Mant::Small(m), _) => Some(m),
            Kind::Finite(Mant::Big(b), _) => b.to_i128(),
            _ => None,
        }
    }

    /// The mantissa of a finite value as a big integer.
    pub fn mantissa_big(&self) -> Option<BigInt> {
        match self.kind() {
            Kind::Finite(m, _) => Some(m.to_big()),
            _ => None,
        }
    }

    /// -1, 0 or 1 (NaN gives 0; ±Infinity give ±1), like PostgreSQL's
    /// `sign()` except that NaN maps to 0.
    pub fn signum(&self) -> i32 {
        match self.kind() {
            Kind::Finite(m, _) => m.signum(),
            Kind::PosInf => 1,
            Kind::NegInf => -1,
            Kind::NaN => 0,
        }
    }

    /// Compares by numeric value (`1.0` equals `1.00`). NaN equals NaN and
    /// is greater than `Infinity`, which is greater than every finite value.
    pub fn cmp_value(&self, other: &Numeric) -> Ordering {
        fn rank(k: &Kind<'_>) -> u8 {
            match k {
                Kind::NegInf => 0,
                Kind::Finite(..) => 1,
                Kind::PosInf => 2,
                Kind::NaN => 3,
            }
        }
        let (a, b) = (self.kind(), other.kind());
        match (a, b) {
            (Kind::Finite(ma, sa), Kind::Finite(mb, sb)) => cmp_finite(ma, sa, mb, sb),
            _ => rank(&a).cmp(&rank(&b)),
        }
    }

    /// The same value without trailing fractional zeros (`1.500` → `1.5`,
    /// `2.00` → `2`).
    pub fn normalized(&self) -> Numeric {
        match self.kind() {
            Kind::Finite(Mant::Small(mut m), mut s) => {
                if m == 0 {
                    return Numeric::ZERO;
                }
                while s > 0 && m % 10 == 0 {
                    m /= 10;
                    s -= 1;
                }
                Numeric::from_parts(m, s)
            }
            Kind::Finite(Mant::Big(b), mut s) => {
                let mut m = b.clone();
                let ten = BigInt::from(10u8);
                while s > 0 && (&m % &ten).is_zero() {
                    m /= &ten;
                    s -= 1;
                }
                Numeric::from_big(m, s)
            }
            _ => self.clone(),
        }
    }

    /// The display scale the value would need to print without loss: the
    /// scale after dropping trailing fractional zeros.
    pub fn min_scale(&self) -> u16 {
        self.normalized().scale().unwrap_or(0)
    }
}

/// Compares two finite values by value.
pub(crate) fn cmp_finite(ma: Mant<'_>, sa: u16, mb: Mant<'_>, sb: u16) -> Ordering {
    if let (Mant::Small(a), Mant::Small(b)) = (ma, mb) {
        if sa == sb {
            return a.cmp(&b);
        }
        let (sign_a, sign_b) = (a.signum(), b.signum());
        if sign_a != sign_b {
            return sign_a.cmp(&sign_b);
        }
        let s = sa.max(sb);
        if let (Some(x), Some(y)) = (rescale_i128(a, sa, s), rescale_i128(b, sb, s)) {
            return x.cmp(&y);
        }
    }
    let (sign_a, sign_b) = (ma.signum(), mb.signum());
    if sign_a != sign_b {
        return sign_a.cmp(&sign_b);
    }
    let s = sa.max(sb);
    let x = ma.to_big() * big_pow10((s - sa) as u64);
    let y = mb.to_big() * big_pow10((s - sb) as u64);
    x.cmp(&y)
}

/// `m × 10^(to - from)` for `to >= from`, if it fits.
pub(crate) fn rescale_i128(m: i128, from: u16, to: u16) -> Option<i128> {
    let d = (to - from) as usize;
    if m == 0 {
        return Some(0);
    }
    POW10.get(d).and_then(|p| m.checked_mul(*p))
}

/// PostgreSQL's `value overflows numeric format`.
pub(crate) fn overflow_format() -> EvalError {
    EvalError::Overflow("value overflows numeric format".into())
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Numeric) -> bool {
        match (&self.0, &other.0) {
            (Repr::Small { lo: a, hi: b, scale: c }, Repr::Small { lo: x, hi: y, scale: z }) => a == x && b == y && c == z,
            (Repr::Big { mantissa: a, scale: s }, Repr::Big { mantissa: b, scale: t }) => s == t && a == b,
            (Repr::NaN, Repr::NaN) | (Repr::PosInf, Repr::PosInf) | (Repr::NegInf, Repr::NegInf) => true,
            _ => false,
        }
    }
}
impl Eq for Numeric {}

impl Hash for Numeric {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Small { lo, hi, scale } => {
                state.write_u8(0);
                lo.hash(state);
                hi.hash(state);
                scale.hash(state);
            }
            Repr::Big { mantissa, scale } => {
                state.write_u8(1);
                mantissa.hash(state);
                scale.hash(state);
            }
            Repr::NaN => state.write_u8(2),
            Repr::PosInf => state.write_u8(3),
            Repr::NegInf => state.write_u8(4),
        }
    }
}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Numeric) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Numeric value first, display scale second (representation-exact).
impl Ord for Numeric {
    fn cmp(&self, other: &Numeric) -> Ordering {
        self.cmp_value(other).then_with(|| self.scale().cmp(&other.scale()))
    }
}

impl std::fmt::Debug for Numeric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Numeric({self})")
    }
}

impl From<i16> for Numeric {
    fn from(v: i16) -> Numeric {
        Numeric::from_parts(v as i128, 0)
    }
}
impl From<i32> for Numeric {
    fn from(v: i32) -> Numeric {
        Numeric::from_parts(v as i128, 0)
    }
}
impl From<i64> for Numeric {
    fn from(v: i64) -> Numeric {
        Numeric::from_parts(v as i128, 0)
    }
}
impl From<i128> for Numeric {
    fn from(v: i128) -> Numeric {
        Numeric::from_parts(v, 0)
    }
}

/// The serialized form: the mantissa as an `i128` when it fits, else as
/// little-endian two's-complement bytes.
#[derive(Serialize, Deserialize)]
enum Wire {
    Finite(i128, u16),
    Big(Vec<u8>, u16),
    NaN,
    PosInf,
    NegInf,
}

impl From<Numeric> for Wire {
    fn from(n: Numeric) -> Wire {
        match n.kind() {
            Kind::Finite(Mant::Small(m), s) => Wire::Finite(m, s),
            Kind::Finite(Mant::Big(b), s) => Wire::Big(b.to_signed_bytes_le(), s),
            Kind::NaN => Wire::NaN,
            Kind::PosInf => Wire::PosInf,
            Kind::NegInf => Wire::NegInf,
        }
    }
}

impl From<Wire> for Numeric {
    fn from(w: Wire) -> Numeric {
        match w {
            Wire::Finite(m, s) => Numeric::from_parts(m, s),
            Wire::Big(bytes, s) => Numeric::from_big(BigInt::from_signed_bytes_le(&bytes), s),
            Wire::NaN => Numeric::NAN,
            Wire::PosInf => Numeric::INFINITY,
            Wire::NegInf => Numeric::NEG_INFINITY,
        }
    }
}
