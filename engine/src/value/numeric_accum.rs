//! [`NumericAccum`]: an invertible accumulator for `sum` and `avg` over
//! `numeric` (and over integers whose sums need numeric's range).
//!
//! PostgreSQL's `sum(numeric)` has the largest display scale among the
//! summed values, and NaN / ±Infinity inputs make the result NaN or
//! infinite. To support retraction (negative multiplicities) exactly, the
//! accumulator keeps the exact sum of the finite values, how many values of
//! each display scale are present, and how many NaN / +Infinity /
//! -Infinity values are present, like PostgreSQL's `NumericAggState`. It is
//! a commutative group, so it can ride in a differential dataflow `diff`.

use differential_dataflow::difference::{Abelian, IsZero, Monoid, Multiply, Semigroup};
use serde::{Deserialize, Serialize};

use super::numeric::{Kind, Numeric};
use crate::expr::EvalError;

/// Counts of values per display scale: the first entry inline, further
/// ones (rare: a column usually has one scale) on the heap. Entries are
/// sorted by scale and have non-zero counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct ScaleCounts {
    first: Option<(u16, i64)>,
    rest: Vec<(u16, i64)>,
}

impl ScaleCounts {
    fn add(&mut self, scale: u16, count: i64) {
        if count == 0 {
            return;
        }
        let mut all: Vec<(u16, i64)> = Vec::new();
        match self.first {
            None => {
                self.first = Some((scale, count));
                return;
            }
            Some((s, c)) if s == scale && self.rest.is_empty() => {
                self.first = if c + count == 0 { None } else { Some((s, c + count)) };
                return;
            }
            Some(f) => all.push(f),
        }
        all.append(&mut self.rest);
        match all.binary_search_by_key(&scale, |e| e.0) {
            Ok(i) => all[i].1 += count,
            Err(i) => all.insert(i, (scale, count)),
        }
        all.retain(|e| e.1 != 0);
        let mut it = all.into_iter();
        self.first = it.next();
        self.rest = it.collect();
    }

    fn max_scale(&self) -> Option<u16> {
        self.rest.last().or(self.first.as_ref()).map(|e| e.0)
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    fn entries(&self) -> impl Iterator<Item = (u16, i64)> + '_ {
        self.first.iter().copied().chain(self.rest.iter().copied())
    }
}

/// An exact, invertible `sum` / `avg` accumulator over numerics.
///
/// Add values with [`NumericAccum::add`] (multiplicity may be negative),
/// combine accumulators with [`NumericAccum::merge`], and read
/// [`NumericAccum::sum`] and [`NumericAccum::avg`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NumericAccum {
    /// Exact sum of the finite values (its scale is an upper bound of the
    /// result's display scale, not the display scale itself).
    sum: Numeric,
    /// Count of non-NULL values (finite and special).
    count: i64,
    /// Count of NaN values.
    nan: i64,
    /// Count of `Infinity` values.
    pos_inf: i64,
    /// Count of `-Infinity` values.
    neg_inf: i64,
    /// Count of finite values per display scale.
    scales: ScaleCounts,
}

impl Default for NumericAccum {
    fn default() -> NumericAccum {
        NumericAccum::new()
    }
}

impl NumericAccum {
    /// The empty accumulator.
    pub fn new() -> NumericAccum {
        NumericAccum { sum: Numeric::ZERO, count: 0, nan: 0, pos_inf: 0, neg_inf: 0, scales: ScaleCounts::default() }
    }

    /// The accumulator holding `value` with multiplicity `times`.
    pub fn of(value: &Numeric, times: i64) -> NumericAccum {
        let mut a = NumericAccum::new();
        a.add(value, times);
        a
    }

    /// The accumulator of `count` finite values (a negative or zero count
    /// is a partial sum holding retractions) that all have display scale
    /// `scale` and sum to `mantissa × 10^-scale`. Equal to adding those
    /// values one by one.
    pub fn of_scaled_sum(mantissa: i128, scale: u16, count: i64) -> NumericAccum {
        let mut scales = ScaleCounts::default();
        scales.add(scale, count);
        let mut a = NumericAccum {
            sum: Numeric::from_parts(mantissa, scale),
            count,
            nan: 0,
            pos_inf: 0,
            neg_inf: 0,
            scales,
        };
        a.shrink();
        a
    }

    /// Adds `value` `times` times (negative `times` retracts).
    pub fn add(&mut self, value: &Numeric, times: i64) {
        if times == 0 {
            return;
        }
        self.count += times;
        match value.kind() {
            Kind::NaN => self.nan += times,
            Kind::PosInf => self.pos_inf += times,
            Kind::NegInf => self.neg_inf += times,
            Kind::Finite(_, scale) => {
                let term = if times == 1 {
                    value.clone()
                } else {
                    value.mul(&Numeric::from(times)).unwrap_or_else(|_| value.clone())
                };
                self.sum = self.sum.add_unchecked(&term);
                self.scales.add(scale, times);
                self.shrink();
            }
        }
    }

    /// Adds every value of `other` to `self`.
    pub fn merge(&mut self, other: &NumericAccum) {
        if other.is_empty() {
            return;
        }
        self.count += other.count;
        self.nan += other.nan;
        self.pos_inf += other.pos_inf;
        self.neg_inf += other.neg_inf;
        self.sum = self.sum.add_unchecked(&other.sum);
        for (s, c) in other.scales.entries() {
            self.scales.add(s, c);
        }
        self.shrink();
    }

    /// Multiplies every multiplicity by `times`.
    pub fn scaled(&self, times: i64) -> NumericAccum {
        let mut scales = ScaleCounts::default();
        if times != 0 {
            for (s, c) in self.scales.entries() {
                scales.add(s, c * times);
            }
        }
        let mut r = NumericAccum {
            sum: match times {
                1 => self.sum.clone(),
                -1 => self.sum.neg(),
                _ => self.sum.mul(&Numeric::from(times)).unwrap_or(Numeric::ZERO),
            },
            count: self.count * times,
            nan: self.nan * times,
            pos_inf: self.pos_inf * times,
            neg_inf: self.neg_inf * times,
            scales,
        };
        r.shrink();
        r
    }

    /// Keeps the internal sum at the largest live scale, so equal
    /// accumulators have equal representations.
    fn shrink(&mut self) {
        let target = self.scales.max_scale().unwrap_or(0);
        if self.sum.scale().is_some_and(|s| s > target) {
            // Only when exact: a partial accumulator (e.g. +14.60 and
            // -3.10, whose scale counts cancel) can hold digits beyond the
            // largest live scale that later values cancel.
            let rounded = self.sum.round(target as i32);
            if rounded.cmp_value(&self.sum) == std::cmp::Ordering::Equal {
                self.sum = rounded;
            }
        }
        if self.scales.is_empty() && self.sum.is_zero() {
            self.sum = Numeric::ZERO;
        }
    }

    /// Number of non-NULL values accumulated.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// True if nothing is accumulated (all multiplicities cancel).
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.nan == 0 && self.pos_inf == 0 && self.neg_inf == 0 && self.scales.is_empty() && self.sum.is_zero()
    }

    /// PostgreSQL's `sum`: NULL (`None`) over no value; NaN if any value is
    /// NaN or both infinities occur; otherwise the exact sum at the largest
    /// display scale of the values. Errors if the sum exceeds numeric's
    /// range.
    pub fn sum(&self) -> Result<Option<Numeric>, EvalError> {
        if self.count == 0 {
            return Ok(None);
        }
        if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            return Ok(Some(Numeric::NAN));
        }
        if self.pos_inf > 0 {
            return Ok(Some(Numeric::INFINITY));
        }
        if self.neg_inf > 0 {
            return Ok(Some(Numeric::NEG_INFINITY));
        }
        let scale = self.scales.max_scale().unwrap_or(0);
        let s = self.sum.round(scale as i32);
        s.check_range()?;
        Ok(Some(s))
    }

    /// PostgreSQL's `avg`: the sum divided by the count with numeric
    /// division's result scale (`avg` of integers 1 and 2 is
    /// `1.5000000000000000`); NULL over no value.
    pub fn avg(&self) -> Result<Option<Numeric>, EvalError> {
        match self.sum()? {
            None => Ok(None),
            Some(s) if !s.is_finite() => Ok(Some(s)),
            Some(s) => Ok(Some(s.div(&Numeric::from(self.count))?)),
        }
    }
}

impl IsZero for NumericAccum {
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl Semigroup for NumericAccum {
    fn plus_equals(&mut self, rhs: &NumericAccum) {
        self.merge(rhs);
    }
}

impl Monoid for NumericAccum {
    fn zero() -> NumericAccum {
        NumericAccum::new()
    }
}

impl Abelian for NumericAccum {
    fn negate(&mut self) {
        *self = self.scaled(-1);
    }
}

impl Multiply<isize> for NumericAccum {
    type Output = NumericAccum;
    fn multiply(self, rhs: &isize) -> NumericAccum {
        if *rhs == 1 {
            self
        } else {
            self.scaled(*rhs as i64)
        }
    }
}

impl Multiply<i64> for NumericAccum {
    type Output = NumericAccum;
    fn multiply(self, rhs: &i64) -> NumericAccum {
        if *rhs == 1 {
            self
        } else {
            self.scaled(*rhs)
        }
    }
}
