//! [`F64`]: a totally ordered `float8`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::expr::EvalError;

/// A `float8` with a total order: by value, NaN greatest, `-0.0` just
/// before `0.0` (representation-exact; see [`F64::sql_cmp`] for SQL).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct F64(pub f64);

impl F64 {
    /// PostgreSQL's float comparison: NaN equals NaN and is greater than
    /// every other value; `-0.0` equals `0.0`.
    pub fn sql_cmp(&self, other: &F64) -> Ordering {
        match (self.0.is_nan(), other.0.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal),
        }
    }

    /// `-0.0` as `0.0`, every NaN as one NaN.
    pub fn normalized(&self) -> F64 {
        if self.0.is_nan() {
            F64(f64::NAN)
        } else if self.0 == 0.0 {
            F64(0.0)
        } else {
            *self
        }
    }
}

impl PartialEq for F64 {
    fn eq(&self, other: &F64) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for F64 {}
impl PartialOrd for F64 {
    fn partial_cmp(&self, other: &F64) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for F64 {
    fn cmp(&self, other: &F64) -> Ordering {
        self.sql_cmp(other).then_with(|| self.0.is_sign_negative().cmp(&other.0.is_sign_negative()).reverse())
    }
}
impl Hash for F64 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.0.is_nan() {
            u64::MAX.hash(state)
        } else {
            self.0.to_bits().hash(state)
        }
    }
}

impl F64 {
    /// Parses PostgreSQL `float8` input: surrounding whitespace, decimal or
    /// exponent notation, `NaN`, `Infinity`, `inf` (any case, signed).
    /// Values that overflow to infinity or underflow to zero are errors
    /// (`"1e400" is out of range for type double precision`), as in
    /// PostgreSQL.
    pub fn parse(input: &str) -> Result<F64, EvalError> {
        let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
        let bad = || EvalError::invalid_input("double precision", input);
        let lower = s.to_ascii_lowercase();
        let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
        match unsigned {
            "nan" if lower == "nan" => return Ok(F64(f64::NAN)),
            "inf" | "infinity" => {
                return Ok(F64(if lower.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }));
            }
            _ => {}
        }
        // Only plain decimal syntax: digits, one point, optional exponent.
        let b = unsigned.as_bytes();
        let mut i = 0;
        let mut mantissa_digits = 0;
        let mut nonzero = false;
        let mut point = false;
        while i < b.len() && (b[i].is_ascii_digit() || (b[i] == b'.' && !point)) {
            if b[i] == b'.' {
                point = true;
            } else {
                mantissa_digits += 1;
                nonzero |= b[i] != b'0';
            }
            i += 1;
        }
        if mantissa_digits == 0 {
            return Err(bad());
        }
        if i < b.len() && b[i] == b'e' {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(bad());
            }
        }
        if i != b.len() {
            return Err(bad());
        }
        let v: f64 = s.parse().map_err(|_| bad())?;
        if v.is_infinite() || (v == 0.0 && nonzero) {
            return Err(EvalError::Other(format!("\"{input}\" is out of range for type double precision")));
        }
        Ok(F64(v))
    }
}

/// PostgreSQL's `float8out` (with the default `extra_float_digits = 1`):
/// the shortest text that reads back as the same double, in fixed notation
/// for decimal exponents -4..=14 and as `1e+20` / `1.5e-07` otherwise;
/// `NaN`, `Infinity`, `-Infinity`, `-0`.
impl fmt::Display for F64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            return f.write_str("NaN");
        }
        if v.is_infinite() {
            return f.write_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
        }
        if v == 0.0 {
            return f.write_str(if v.is_sign_negative() { "-0" } else { "0" });
        }
        let sci = format!("{:e}", v.abs());
        let (mant, exp) = sci.split_once('e').expect("LowerExp output has an exponent");
        let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
        let digits: String = mant.chars().filter(|c| *c != '.').collect();
        let mut out = String::with_capacity(digits.len() + 8);
        if v < 0.0 {
            out.push('-');
        }
        if (-4..15).contains(&exp) {
            if exp < 0 {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
                out.push_str(&digits);
            } else {
                let int_len = exp as usize + 1;
                if digits.len() <= int_len {
                    out.push_str(&digits);
                    out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                } else {
                    out.push_str(&digits[..int_len]);
                    out.push('.');
                    out.push_str(&digits[int_len..]);
                }
            }
        } else {
            out.push_str(&digits[..1]);
            if digits.len() > 1 {
                out.push('.');
                out.push_str(&digits[1..]);
            }
            out.push('e');
            out.push(if exp < 0 { '-' } else { '+' });
            let e = exp.unsigned_abs();
            if e < 10 {
                out.push('0');
            }
            out.push_str(&e.to_string());
        }
        f.write_str(&out)
    }
}
