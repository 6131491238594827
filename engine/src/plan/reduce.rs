//! Aggregates and their classification.
//!
//! * **Accumulable** (`count`, `sum`, `avg`): the aggregate's state is a sum
//!   of per-row contributions with an inverse, so it rides in the
//!   differential `diff`: O(1) work per changed row whatever the group size.
//! * **Hierarchical** (`min`, `max`): no inverse, but associative; computed
//!   through a tree of reductions over hash buckets, O(log group) per change.
//! * **Representative** (`min_repr`): one reduction per group over the
//!   group's distinct argument values. It is meant for grouping by
//!   SQL-equal values, where those distinct values are the few
//!   representations of one value (`1.0`, `1.00`), so the work per change is
//!   bounded by their number, not by the group's size.
//! * **Basic**: anything else, recomputed per changed group.

use serde::{Deserialize, Serialize};

use crate::expr::Expr;
use crate::value::DataType;

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggregateFunc {
    /// `count(*)`: rows in the group.
    CountStar,
    /// `count(x)`: non-NULL values.
    Count,
    /// `sum(x)`: NULL over no non-NULL value.
    Sum,
    /// `avg(x)`.
    Avg,
    /// `min(x)`.
    Min,
    /// `max(x)`.
    Max,
    /// The group's least argument in the total order (`Value`'s `Ord`,
    /// where NULL is least and `1.0` precedes `1.00`); the result type is
    /// the argument's. The front end groups by the normalized value
    /// ([`UnaryFunc::KeyNormalize`](crate::expr::UnaryFunc::KeyNormalize))
    /// and shows this member of the class, one of the values PostgreSQL can
    /// show for the group.
    ///
    /// All `min_repr` aggregates of one [`Reduce`](super::Reduce) are
    /// chosen together: their values are the arguments of one input row,
    /// the row whose tuple of `min_repr` arguments (in the aggregates'
    /// order) is least in the total order. So a group by `(x, y)` shows a
    /// pair `(x, y)` that occurs in the input, as PostgreSQL does. Over no
    /// rows it is NULL. `DISTINCT` does not change it.
    MinRepr,
}

/// How an aggregate is maintained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReduceClass {
    /// State carried in the diff.
    Accumulable,
    /// Tree of reductions.
    Hierarchical,
    /// Recomputed per group.
    Basic,
    /// One reduction over the group's distinct argument values.
    Representative,
}

/// One aggregate of a [`Reduce`](super::Reduce).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// The function.
    pub func: AggregateFunc,
    /// Its argument over the input row (ignored for `count(*)`). A
    /// `FILTER (WHERE p)` clause arrives folded in as
    /// `CASE WHEN p THEN x END`.
    pub expr: Expr,
    /// The argument's type, which decides the result type
    /// (`sum(int4)` is `int8`, `avg(int8)` is `numeric`, ...).
    pub input_type: DataType,
    /// `agg(DISTINCT x)`.
    pub distinct: bool,
}

impl Aggregate {
    /// How this aggregate is maintained.
    pub fn class(&self) -> ReduceClass {
        match (self.func, self.distinct) {
            (AggregateFunc::MinRepr, _) => ReduceClass::Representative,
            (_, true) => ReduceClass::Basic,
            (AggregateFunc::CountStar | AggregateFunc::Count | AggregateFunc::Sum | AggregateFunc::Avg, false) => {
                ReduceClass::Accumulable
            }
            (AggregateFunc::Min | AggregateFunc::Max, false) => ReduceClass::Hierarchical,
        }
    }

    /// The result type, as PostgreSQL gives it.
    pub fn output_type(&self) -> DataType {
        use AggregateFunc::*;
        use DataType::*;
        match (self.func, self.input_type) {
            (CountStar | Count, _) => Int8,
            (Sum, Int2 | Int4) => Int8,
            (Sum, Int8) => Numeric(None),
            (Sum, Float8) => Float8,
            (Sum, Interval) => Interval,
            (Sum, t) => t.without_modifier(),
            (Avg, Int2 | Int4 | Int8 | Numeric(_)) => Numeric(None),
            (Avg, Float8) => Float8,
            (Avg, Interval) => Interval,
            (Avg, t) => t.without_modifier(),
            (Min | Max | MinRepr, t) => t,
        }
    }
}
