//! PostgreSQL's text output (`Display for Value`, what `psql -A -t`
//! prints) and input functions ([`Value::parse`]) for every type.

use std::fmt;
use std::sync::Arc;

use super::{DataType, Date, Interval, Numeric, Timestamp, Value, F64};
use crate::expr::EvalError;

/// PostgreSQL's output functions: NULL prints as the empty string, booleans
/// as `t`/`f`, bytea in hex (`\x0102ff`), uuids lowercase and hyphenated,
/// `timestamptz` in UTC with `+00`, intervals in the `postgres` style.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => f.write_str(if *b { "t" } else { "f" }),
            Value::Int2(v) => write!(f, "{v}"),
            Value::Int4(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Numeric(n) => write!(f, "{n}"),
            Value::Float8(v) => write!(f, "{v}"),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => write!(f, "{d}"),
            Value::Timestamp(t) => write!(f, "{t}"),
            Value::TimestampTz(t) => f.write_str(&t.display_tz()),
            Value::Interval(i) => write!(f, "{i}"),
            Value::Uuid(u) => f.write_str(&format_uuid(u)),
            Value::Bytea(b) => {
                let mut s = String::with_capacity(2 + b.len() * 2);
                s.push_str("\\x");
                for byte in b.iter() {
                    s.push(char::from_digit((byte >> 4) as u32, 16).expect("nibble"));
                    s.push(char::from_digit((byte & 15) as u32, 16).expect("nibble"));
                }
                f.write_str(&s)
            }
            Value::Array(elements) => super::array::write_array(elements, f),
        }
    }
}

/// `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`.
pub(crate) fn format_uuid(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from_digit((byte >> 4) as u32, 16).expect("nibble"));
        s.push(char::from_digit((byte & 15) as u32, 16).expect("nibble"));
    }
    s
}

/// PostgreSQL's `uuid_in`: 32 hex digits, optionally in braces, with a
/// hyphen allowed after any group of four digits.
fn parse_uuid(input: &str) -> Result<[u8; 16], EvalError> {
    let bad = || EvalError::invalid_input("uuid", input);
    let s = input.strip_prefix('{').map_or(Ok(input), |r| r.strip_suffix('}').ok_or_else(bad))?;
    let b = s.as_bytes();
    let mut out = [0u8; 16];
    let mut i = 0;
    for (k, slot) in out.iter_mut().enumerate() {
        if k >= 2 && k % 2 == 0 && i < b.len() && b[i] == b'-' {
            i += 1;
        }
        let hi = b.get(i).and_then(|c| (*c as char).to_digit(16)).ok_or_else(bad)?;
        let lo = b.get(i + 1).and_then(|c| (*c as char).to_digit(16)).ok_or_else(bad)?;
        *slot = (hi * 16 + lo) as u8;
        i += 2;
    }
    if i != b.len() {
        return Err(bad());
    }
    Ok(out)
}

/// PostgreSQL's `byteain`: `\x` hex (whitespace allowed between byte
/// pairs) or the escape format (`\\`, `\ooo` octal).
fn parse_bytea(input: &str) -> Result<Vec<u8>, EvalError> {
    let b = input.as_bytes();
    if b.len() >= 2 && b[0] == b'\\' && b[1] == b'x' {
        let mut out = Vec::with_capacity((b.len() - 2) / 2);
        let mut i = 2;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let hex = |c: u8| {
                (c as char).to_digit(16).ok_or_else(|| {
                    let ch = input[i..].chars().next().unwrap_or(c as char);
                    EvalError::Other(format!("invalid hexadecimal digit: \"{ch}\""))
                })
            };
            let hi = hex(c)?;
            i += 1;
            let Some(&c2) = b.get(i) else {
                return Err(EvalError::Other("invalid hexadecimal data: odd number of digits".into()));
            };
            if c2.is_ascii_whitespace() {
                return Err(EvalError::Other("invalid hexadecimal data: odd number of digits".into()));
            }
            let lo = (c2 as char).to_digit(16).ok_or_else(|| {
                let ch = input[i..].chars().next().unwrap_or(c2 as char);
                EvalError::Other(format!("invalid hexadecimal digit: \"{ch}\""))
            })?;
            out.push((hi * 16 + lo) as u8);
            i += 1;
        }
        return Ok(out);
    }
    let bad = || EvalError::Other("invalid input syntax for type bytea".into());
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if i + 3 < b.len()
            && (b'0'..=b'3').contains(&b[i + 1])
            && (b'0'..=b'7').contains(&b[i + 2])
            && (b'0'..=b'7').contains(&b[i + 3])
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

/// PostgreSQL's `boolin`: `t`, `true`, `yes`, `on`, `1` and `f`, `false`,
/// `no`, `off`, `0`, any case, surrounding whitespace, and unambiguous
/// prefixes of the words.
fn parse_bool(input: &str) -> Result<bool, EvalError> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| s.len() >= min && word.starts_with(s.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || s == "1" {
        Ok(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || s == "0" {
        Ok(false)
    } else {
        Err(EvalError::invalid_input("boolean", input))
    }
}

/// PostgreSQL's integer input: surrounding whitespace, optional sign,
/// decimal digits; range errors name the value and type.
fn parse_int(input: &str, ty: DataType, min: i64, max: i64) -> Result<i64, EvalError> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EvalError::invalid_input(ty.to_string(), input));
    }
    let out_of_range = || EvalError::Other(format!("value \"{input}\" is out of range for type {ty}"));
    let v: i128 = if digits.len() > 30 { return Err(out_of_range()) } else { s.parse().map_err(|_| out_of_range())? };
    if v < min as i128 || v > max as i128 {
        return Err(out_of_range());
    }
    Ok(v as i64)
}

/// Applies a `varchar(n)` / `char(n)` length limit as an input function
/// (or assignment) does: an over-long value is an error unless the excess
/// is all spaces, which are dropped. `char(n)` pads with spaces.
pub(crate) fn coerce_string(s: &str, ty: DataType, explicit: bool) -> Result<Arc<str>, EvalError> {
    let limit = match ty {
        DataType::Varchar(Some(n)) | DataType::Char(n) => n as usize,
        _ => return Ok(Arc::from(s)),
    };
    let (count, cut) = match s.char_indices().nth(limit) {
        None => (s.chars().count(), s.len()),
        Some((idx, _)) => (limit + 1, idx),
    };
    let mut out: &str = s;
    if count > limit {
        if !explicit && !s[cut..].bytes().all(|b| b == b' ') {
            return Err(EvalError::ValueTooLong(ty.to_string()));
        }
        out = &s[..cut];
    }
    if let DataType::Char(_) = ty {
        let len = out.chars().count();
        if len < limit {
            let mut padded = String::with_capacity(out.len() + limit - len);
            padded.push_str(out);
            padded.extend(std::iter::repeat_n(' ', limit - len));
            return Ok(Arc::from(padded));
        }
    }
    Ok(Arc::from(out))
}

impl Value {
    /// PostgreSQL's input function for `ty` applied to `text`, including the
    /// type modifier (`numeric(p,s)` rounds and checks, `varchar(n)` and
    /// `char(n)` reject over-long values, `char(n)` pads). Errors carry
    /// PostgreSQL's messages, e.g. `invalid input syntax for type integer:
    /// "abc"` or `value "99999999999" is out of range for type integer`.
    pub fn parse(text: &str, ty: DataType) -> Result<Value, EvalError> {
        Ok(match ty {
            DataType::Bool => Value::Bool(parse_bool(text)?),
            DataType::Int2 => Value::Int2(parse_int(text, ty, i16::MIN as i64, i16::MAX as i64)? as i16),
            DataType::Int4 => Value::Int4(parse_int(text, ty, i32::MIN as i64, i32::MAX as i64)? as i32),
            DataType::Int8 => Value::Int8(parse_int(text, ty, i64::MIN, i64::MAX)?),
            DataType::Numeric(typmod) => {
                let n = Numeric::parse(text)?;
                Value::Numeric(match typmod {
                    Some((p, s)) => n.apply_typmod(p, s)?,
                    None => n,
                })
            }
            DataType::Float8 => Value::Float8(F64::parse(text)?),
            DataType::Text | DataType::Unknown | DataType::Bpchar => Value::text(text),
            DataType::Varchar(_) | DataType::Char(_) => Value::Text(coerce_string(text, ty, false)?),
            DataType::Date => Value::Date(Date::parse(text)?),
            DataType::Timestamp => Value::Timestamp(Timestamp::parse(text, false)?),
            DataType::TimestampTz => Value::TimestampTz(Timestamp::parse(text, true)?),
            DataType::Interval => Value::Interval(Interval::parse(text)?),
            DataType::Uuid => Value::Uuid(parse_uuid(text)?),
            DataType::Bytea => Value::Bytea(Arc::from(parse_bytea(text)?)),
            DataType::Array(element) => super::array::parse_array(text, *element)?,
        })
    }
}
