//! SQL values with PostgreSQL semantics.
//!
//! [`Value`] is a dynamically typed SQL value. Two orders exist:
//!
//! * the **total order** (`Ord`, `Eq`, `Hash`): used for arrangement keys and
//!   consolidation. It is *representation-exact*: `1.0` and `1.00` are
//!   different values (PostgreSQL displays them differently), ordered by
//!   numeric value first and scale second; `-0.0` and `0.0` likewise. NULL
//!   sorts first. Values of different variants order by variant.
//! * the **SQL comparison** ([`Value::sql_cmp`]): PostgreSQL's comparison
//!   operators, returning `None` when either side is NULL (three-valued
//!   logic). Numerics compare by value, floats treat NaN as equal to itself
//!   and greater than every other value, text compares byte-wise (the "C"
//!   collation).
//!
//! [`Value::key_normalized`] maps values that SQL comparison deems equal to
//! one representation; join keys use it so `1.0` joins `1.00`.

mod array;
pub(crate) mod cast;
mod datatype;
mod datetime;
mod datetime_parse;
mod float;
mod numeric;
mod numeric_accum;
mod numeric_arith;
mod numeric_math;
mod numeric_text;
mod row;
mod text;
#[cfg(test)]
mod tests;

pub use datatype::DataType;
pub(crate) use datetime::{civil_from_days, days_from_civil, days_in_month};
pub use datetime::{Date, Interval, Timestamp, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC};
pub use float::F64;
pub use numeric::{Numeric, NUMERIC_MAX_SCALE};
pub use numeric_accum::NumericAccum;
pub use row::Row;

use std::cmp::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A SQL value.
///
/// `Text` holds `text`, `varchar(n)` and `char(n)` values alike (a `char(n)`
/// value is stored blank-padded to its length, as PostgreSQL stores it);
/// the column's [`DataType`] tells them apart.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// `boolean`.
    Bool(bool),
    /// `smallint` / `int2`.
    Int2(i16),
    /// `integer` / `int4`.
    Int4(i32),
    /// `bigint` / `int8`.
    Int8(i64),
    /// `numeric`: exact, arbitrary precision, with a display scale.
    Numeric(Numeric),
    /// `double precision` / `float8`, totally ordered.
    Float8(F64),
    /// `text`, `varchar(n)`, `char(n)`.
    Text(Arc<str>),
    /// `date`.
    Date(Date),
    /// `timestamp without time zone`.
    Timestamp(Timestamp),
    /// `timestamp with time zone`, as an instant in UTC.
    TimestampTz(Timestamp),
    /// `interval`.
    Interval(Interval),
    /// `uuid`.
    Uuid([u8; 16]),
    /// `bytea`.
    Bytea(Arc<[u8]>),
    /// A one-dimensional array (the result of `array_agg`): its elements
    /// in order, NULLs included; the column's [`DataType::Array`] names the
    /// element type. It also carries the fields of an anonymous record
    /// ([`VariadicFunc::Record`](crate::expr::VariadicFunc::Record)), the
    /// form in which an aggregate of several arguments receives them.
    Array(Arc<[Value]>),
}

impl Value {
    /// True for SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A text value.
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }

    /// PostgreSQL's comparison of two non-NULL values of the same type
    /// (`None` if either side is NULL). Callers (the binder) ensure both
    /// sides have one type; mixed variants compare by variant. Intervals
    /// compare by span (a month is 30 days, a day 24 hours).
    pub fn sql_cmp(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => None,
            (Value::Numeric(a), Value::Numeric(b)) => Some(a.cmp_value(b)),
            (Value::Float8(a), Value::Float8(b)) => Some(a.sql_cmp(b)),
            (Value::Interval(a), Value::Interval(b)) => Some(a.cmp_span(b)),
            (Value::Array(a), Value::Array(b)) => Some(array::sql_cmp(a, b)),
            (a, b) => Some(a.cmp(b)),
        }
    }

    /// SQL equality (`=`): `None` if either side is NULL.
    pub fn sql_eq(&self, other: &Value) -> Option<bool> {
        self.sql_cmp(other).map(|o| o == Ordering::Equal)
    }

    /// `IS NOT DISTINCT FROM`: NULL equals NULL, otherwise SQL equality.
    pub fn not_distinct(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            (a, b) => a.sql_eq(b) == Some(true),
        }
    }

    /// One representation for all values SQL comparison deems equal:
    /// numerics without trailing fractional zeros, `-0.0` as `0.0`, NaN as
    /// one NaN, intervals by span (`1 mon` as `30 days`). Used for join
    /// keys.
    pub fn key_normalized(&self) -> Value {
        match self {
            Value::Numeric(n) => Value::Numeric(n.normalized()),
            Value::Float8(f) => Value::Float8(f.normalized()),
            Value::Interval(i) => Value::Interval(i.normalized()),
            Value::Array(a) => Value::Array(a.iter().map(Value::key_normalized).collect()),
            v => v.clone(),
        }
    }
}
