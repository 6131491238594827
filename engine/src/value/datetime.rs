//! Dates, timestamps and intervals with PostgreSQL's ranges and formats.

use serde::{Deserialize, Serialize};

/// A `date`: days since 2000-01-01 (PostgreSQL's epoch). `i32::MIN` and
/// `i32::MAX` are `-infinity` and `infinity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date(pub i32);

/// A `timestamp` / `timestamptz`: microseconds since 2000-01-01 00:00:00
/// (UTC for `timestamptz`). `i64::MIN` / `i64::MAX` are ∓infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

/// An `interval`: months, days and microseconds kept apart, as PostgreSQL
/// keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Interval {
    /// Months (years are 12 months).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub micros: i64,
}
