//! Explicit casts between SQL types with PostgreSQL's rules and errors.

use super::text::coerce_string;
use super::{DataType, Numeric, Value, F64};
use crate::expr::EvalError;

/// The type a value of this variant has, without modifiers (for messages).
pub(crate) fn type_of(v: &Value) -> DataType {
    match v {
        Value::Null => DataType::Unknown,
        Value::Bool(_) => DataType::Bool,
        Value::Int2(_) => DataType::Int2,
        Value::Int4(_) => DataType::Int4,
        Value::Int8(_) => DataType::Int8,
        Value::Numeric(_) => DataType::Numeric(None),
        Value::Float8(_) => DataType::Float8,
        Value::Text(_) => DataType::Text,
        Value::Date(_) => DataType::Date,
        Value::Timestamp(_) => DataType::Timestamp,
        Value::TimestampTz(_) => DataType::TimestampTz,
        Value::Interval(_) => DataType::Interval,
        Value::Uuid(_) => DataType::Uuid,
        Value::Bytea(_) => DataType::Bytea,
        Value::Array(a) => {
            let element = a.iter().find(|e| !e.is_null()).map_or(DataType::Unknown, type_of);
            DataType::array_of(element).unwrap_or(DataType::Unknown)
        }
    }
}

/// `smallint out of range` and kin.
pub(crate) fn int_out_of_range(ty: DataType) -> EvalError {
    EvalError::OutOfRange(
        match ty {
            DataType::Int2 => "smallint",
            DataType::Int4 => "integer",
            _ => "bigint",
        }
        .into(),
    )
}

/// An integer of any width as the integer type `ty`, range-checked.
pub(crate) fn int_to(v: i128, ty: DataType) -> Result<Value, EvalError> {
    let err = || int_out_of_range(ty);
    Ok(match ty {
        DataType::Int2 => Value::Int2(i16::try_from(v).map_err(|_| err())?),
        DataType::Int4 => Value::Int4(i32::try_from(v).map_err(|_| err())?),
        _ => Value::Int8(i64::try_from(v).map_err(|_| err())?),
    })
}

/// float8 → integer: round half to even (`rint`), then range-check; NaN
/// is out of range, as in PostgreSQL.
fn float_to_int(f: f64, ty: DataType) -> Result<Value, EvalError> {
    let r = f.round_ties_even();
    // [-2^63, 2^63): i64::MAX is not representable in f64, 2^63 is too big.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if r.is_nan() || !(-TWO_POW_63..TWO_POW_63).contains(&r) {
        return Err(int_out_of_range(ty));
    }
    int_to(r as i128, ty)
}

fn numeric_typmod(n: Numeric, ty: DataType) -> Result<Value, EvalError> {
    Ok(Value::Numeric(match ty {
        DataType::Numeric(Some((p, s))) => n.apply_typmod(p, s)?,
        _ => n,
    }))
}

impl Value {
    /// The type this variant denotes, without modifiers: `text` for every
    /// string, `unknown` for NULL (for messages and dispatch).
    pub fn natural_type(&self) -> DataType {
        type_of(self)
    }

    /// `CAST(self AS to)` with PostgreSQL's explicit-cast rules: integer
    /// narrowing with range errors, numeric → integer rounding half away
    /// from zero, float8 → integer rounding half to even, float8 →
    /// numeric through 15 significant digits, numeric typmods, text to and
    /// from every type through the output and input functions (explicit
    /// casts to `varchar(n)` / `char(n)` truncate, `char(n)` pads),
    /// `boolean` ↔ `integer`, and date ↔ timestamp ↔ timestamptz (UTC).
    /// NULL casts to NULL. Other combinations fail with `cannot cast type
    /// X to Y`.
    pub fn cast(&self, to: DataType) -> Result<Value, EvalError> {
        use DataType as T;
        let from = type_of(self);
        let cannot = || EvalError::Other(format!("cannot cast type {from} to {to}"));
        match (self, to) {
            (Value::Null, _) => Ok(Value::Null),
            // To strings: the output function, then the length rule.
            (Value::Text(s), T::Text | T::Unknown | T::Bpchar) => Ok(Value::Text(s.clone())),
            (Value::Text(s), T::Varchar(_) | T::Char(_)) => Ok(Value::Text(coerce_string(s, to, true)?)),
            (Value::Bool(b), T::Text | T::Unknown | T::Bpchar | T::Varchar(_) | T::Char(_)) => {
                Ok(Value::Text(coerce_string(if *b { "true" } else { "false" }, to, true)?))
            }
            (v, T::Text | T::Unknown | T::Bpchar | T::Varchar(_) | T::Char(_)) => Ok(Value::Text(coerce_string(&v.to_string(), to, true)?)),
            // From strings: the input function.
            (Value::Text(s), _) => Value::parse(s, to),
            // Integers.
            (Value::Int2(v), T::Int2 | T::Int4 | T::Int8) => int_to(*v as i128, to),
            (Value::Int4(v), T::Int2 | T::Int4 | T::Int8) => int_to(*v as i128, to),
            (Value::Int8(v), T::Int2 | T::Int4 | T::Int8) => int_to(*v as i128, to),
            (Value::Int2(v), T::Numeric(_)) => numeric_typmod(Numeric::from(*v), to),
            (Value::Int4(v), T::Numeric(_)) => numeric_typmod(Numeric::from(*v), to),
            (Value::Int8(v), T::Numeric(_)) => numeric_typmod(Numeric::from(*v), to),
            (Value::Int2(v), T::Float8) => Ok(Value::Float8(F64(*v as f64))),
            (Value::Int4(v), T::Float8) => Ok(Value::Float8(F64(*v as f64))),
            (Value::Int8(v), T::Float8) => Ok(Value::Float8(F64(*v as f64))),
            (Value::Int4(v), T::Bool) => Ok(Value::Bool(*v != 0)),
            (Value::Bool(b), T::Int4) => Ok(Value::Int4(*b as i32)),
            (Value::Bool(b), T::Bool) => Ok(Value::Bool(*b)),
            // Numeric.
            (Value::Numeric(n), T::Int2 | T::Int4 | T::Int8) if !n.is_finite() => {
                let what = if n.is_nan() { "NaN" } else { "infinity" };
                Err(EvalError::Other(format!("cannot convert {what} to {to}")))
            }
            (Value::Numeric(n), T::Int2 | T::Int4 | T::Int8) => match n.round_to_i128()? {
                Some(v) => int_to(v, to),
                None => Err(int_out_of_range(to)),
            },
            (Value::Numeric(n), T::Numeric(_)) => numeric_typmod(n.clone(), to),
            (Value::Numeric(n), T::Float8) => Ok(Value::Float8(F64(n.to_f64()?))),
            // Float8.
            (Value::Float8(f), T::Int2 | T::Int4 | T::Int8) => float_to_int(f.0, to),
            (Value::Float8(f), T::Numeric(_)) => numeric_typmod(Numeric::from_f64(f.0), to),
            (Value::Float8(f), T::Float8) => Ok(Value::Float8(*f)),
            // Date and time.
            (Value::Date(d), T::Date) => Ok(Value::Date(*d)),
            (Value::Date(d), T::Timestamp) => Ok(Value::Timestamp(d.to_timestamp()?)),
            (Value::Date(d), T::TimestampTz) => Ok(Value::TimestampTz(d.to_timestamp()?)),
            (Value::Timestamp(t) | Value::TimestampTz(t), T::Date) => Ok(Value::Date(t.to_date()?)),
            (Value::Timestamp(t) | Value::TimestampTz(t), T::Timestamp) => Ok(Value::Timestamp(*t)),
            (Value::Timestamp(t) | Value::TimestampTz(t), T::TimestampTz) => Ok(Value::TimestampTz(*t)),
            (Value::Interval(i), T::Interval) => Ok(Value::Interval(*i)),
            (Value::Uuid(u), T::Uuid) => Ok(Value::Uuid(*u)),
            (Value::Bytea(b), T::Bytea) => Ok(Value::Bytea(b.clone())),
            // Element by element.
            (Value::Array(a), T::Array(element)) => {
                Ok(Value::Array(a.iter().map(|e| e.cast(*element)).collect::<Result<_, _>>()?))
            }
            _ => Err(cannot()),
        }
    }

    /// An assignment cast (storing into a column of type `to`): as
    /// [`Value::cast`], except that a string too long for `varchar(n)` /
    /// `char(n)` is an error (`value too long for type character
    /// varying(3)`) unless the excess characters are all blanks.
    pub fn assign_cast(&self, to: DataType) -> Result<Value, EvalError> {
        match (self, to) {
            (Value::Null, _) => Ok(Value::Null),
            (Value::Text(s), DataType::Varchar(_) | DataType::Char(_)) => Ok(Value::Text(coerce_string(s, to, false)?)),
            (Value::Bool(_), DataType::Varchar(_) | DataType::Char(_)) => {
                let Value::Text(s) = self.cast(DataType::Text)? else { unreachable!("cast to text gives text") };
                Ok(Value::Text(coerce_string(&s, to, false)?))
            }
            (v, DataType::Varchar(_) | DataType::Char(_)) => Ok(Value::Text(coerce_string(&v.to_string(), to, false)?)),
            _ => self.cast(to),
        }
    }
}
