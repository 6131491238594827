//! [`F64`]: a totally ordered `float8`.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

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
