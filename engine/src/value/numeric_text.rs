//! Text input and output of [`Numeric`] (PostgreSQL's `numeric_in` and
//! `numeric_out`).

use std::fmt;

use num_bigint::BigInt;

use super::numeric::{big_pow10, overflow_format, Kind, Mant, Numeric, NUMERIC_MAX_INT_DIGITS, NUMERIC_MAX_SCALE};
use crate::expr::EvalError;

/// Exponents beyond this cannot give a value numeric can hold.
const MAX_EXPONENT: i64 = 1_000_000;

impl Numeric {
    /// Parses PostgreSQL numeric input: optional surrounding whitespace,
    /// sign, digits with an optional point, an optional exponent
    /// (`'  -3e2 '`), or `NaN` / `Infinity` / `inf` (any case, signed
    /// infinities). The display scale is the number of fractional digits
    /// written minus the exponent (`1.50` → 2, `1.5e-7` → 8).
    pub fn parse(input: &str) -> Result<Numeric, EvalError> {
        let bad = || EvalError::invalid_input("numeric", input);
        let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "nan" => return Ok(Numeric::NAN),
            "infinity" | "+infinity" | "inf" | "+inf" => return Ok(Numeric::INFINITY),
            "-infinity" | "-inf" => return Ok(Numeric::NEG_INFINITY),
            _ => {}
        }
        let b = s.as_bytes();
        let mut i = 0;
        let negative = match b.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut digits: Vec<u8> = Vec::with_capacity(b.len());
        let mut frac_digits: i64 = 0;
        let mut seen_point = false;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => {
                    digits.push(c);
                    if seen_point {
                        frac_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if digits.is_empty() {
            return Err(bad());
        }
        let mut exponent: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut exp_neg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                exp_neg = b[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                exponent = exponent.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
                i += 1;
            }
            if i == start {
                return Err(bad());
            }
            if exponent > MAX_EXPONENT {
                return Err(overflow_format());
            }
            if exp_neg {
                exponent = -exponent;
            }
        }
        if i != b.len() {
            return Err(bad());
        }
        // value = digits × 10^(exponent - frac_digits)
        let shift = exponent - frac_digits;
        let scale = (-shift).max(0);
        if scale > NUMERIC_MAX_SCALE as i64 {
            return Err(overflow_format());
        }
        let first_nonzero = digits.iter().position(|d| *d != b'0').unwrap_or(digits.len());
        let significant = &digits[first_nonzero..];
        if !significant.is_empty() && significant.len() as i64 + shift > NUMERIC_MAX_INT_DIGITS as i64 {
            return Err(overflow_format());
        }
        let mut n = if significant.len() <= 38 {
            let mut m: i128 = 0;
            for d in significant {
                m = m * 10 + (d - b'0') as i128;
            }
            let m = if negative { -m } else { m };
            if shift > 0 {
                match super::numeric::POW10.get(shift as usize).and_then(|p| m.checked_mul(*p)) {
                    Some(v) => Numeric::from_parts(v, 0),
                    None => Numeric::from_big(BigInt::from(m) * big_pow10(shift as u64), 0),
                }
            } else {
                Numeric::from_parts(m, scale as u16)
            }
        } else {
            let mut m = BigInt::parse_bytes(significant, 10).ok_or_else(bad)?;
            if negative {
                m = -m;
            }
            if shift > 0 {
                m *= big_pow10(shift as u64);
            }
            Numeric::from_big(m, scale as u16)
        };
        n.check_range()?;
        if n.is_zero() {
            // No negative zero in numeric.
            n = Numeric::from_parts(0, scale as u16);
        }
        Ok(n)
    }
}

/// PostgreSQL's `numeric_out`: all digits of the display scale, no
/// exponent; `NaN`, `Infinity`, `-Infinity`.
impl fmt::Display for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, scale) = match self.kind() {
            Kind::NaN => return f.write_str("NaN"),
            Kind::PosInf => return f.write_str("Infinity"),
            Kind::NegInf => return f.write_str("-Infinity"),
            Kind::Finite(m, s) => (m, s as usize),
        };
        let (negative, abs) = match m {
            Mant::Small(v) => (v < 0, v.unsigned_abs().to_string()),
            Mant::Big(b) => (b.sign() == num_bigint::Sign::Minus, b.magnitude().to_string()),
        };
        let mut out = String::with_capacity(abs.len() + scale + 3);
        if negative {
            out.push('-');
        }
        if scale == 0 {
            out.push_str(&abs);
        } else if abs.len() > scale {
            let (int, frac) = abs.split_at(abs.len() - scale);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - abs.len()));
            out.push_str(&abs);
        }
        f.write_str(&out)
    }
}

impl std::str::FromStr for Numeric {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Numeric, EvalError> {
        Numeric::parse(s)
    }
}
