//! Aggregates and their classification.
//!
//! * **Accumulable** (`count`, `sum`, `avg`, `bool_and`, `bool_or`, the
//!   `stddev`/`variance` family): the aggregate's state is a sum of per-row
//!   contributions with an inverse, so it rides in the differential
//!   `diff`: O(1) work per changed row whatever the group size.
//! * **Hierarchical** (`min`, `max`): no inverse, but associative; computed
//!   through a tree of reductions over hash buckets, O(log group) per change.
//! * **Representative** (`min_repr`): one reduction per group over the
//!   group's distinct argument values. It is meant for grouping by
//!   SQL-equal values, where those distinct values are the few
//!   representations of one value (`1.0`, `1.00`), so the work per change is
//!   bounded by their number, not by the group's size.
//! * **Basic** (`string_agg`, `array_agg`, and `DISTINCT` forms of the
//!   others): recomputed per changed group from the group's rows.
//!
//! An aggregate of several arguments (`string_agg(value, delimiter)`) or
//! with an `ORDER BY` receives them as one argument, a
//! [`VariadicFunc::Record`] of its fields: the value, the delimiter, then
//! the sort keys ([`Aggregate::ordered`]). So every rewrite of the plan
//! that maps an aggregate's argument maps all of them, and a NULL argument
//! (a `FILTER` that fails, a padding row) still means "no row here", apart
//! from a NULL value inside the record, which `array_agg` keeps.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::SortColumn;
use crate::expr::{Expr, VariadicFunc};
use crate::value::{DataType, Value};

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
    /// `bool_and(x)` / `every(x)`: true if every non-NULL value is true;
    /// NULL over no non-NULL value.
    BoolAnd,
    /// `bool_or(x)`: true if some non-NULL value is true; NULL over no
    /// non-NULL value.
    BoolOr,
    /// `var_samp(x)` / `variance(x)`: NULL over fewer than two values.
    VarSamp,
    /// `var_pop(x)`: NULL over no value.
    VarPop,
    /// `stddev_samp(x)` / `stddev(x)`: NULL over fewer than two values.
    StddevSamp,
    /// `stddev_pop(x)`: NULL over no value.
    StddevPop,
    /// `string_agg(value, delimiter [ORDER BY ...])` over `text` or
    /// `bytea`: the non-NULL values in order, each but the first preceded
    /// by its row's delimiter (none when NULL). The argument is
    /// `row(value, delimiter, sort keys...)`.
    StringAgg(AggOrder),
    /// `array_agg(x [ORDER BY ...])`: the values in order, NULLs included,
    /// as an array. The argument is `row(x, sort keys...)`.
    ArrayAgg(AggOrder),
}

/// The `ORDER BY` of an ordered aggregate (`string_agg`, `array_agg`):
/// the direction and NULL placement of each sort key, the keys being the
/// last fields of the aggregate's argument record. Without keys the
/// values are ordered as by `ORDER BY value` (PostgreSQL's order is then
/// unspecified). Rows that tie on every key are ordered by their whole
/// argument record in the total order, so the result is deterministic.
///
/// Kept `Copy` (bit sets of at most [`AggOrder::MAX_KEYS`] keys) so that
/// [`AggregateFunc`] is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AggOrder {
    keys: u8,
    descending: u16,
    nulls_first: u16,
}

impl AggOrder {
    /// The most sort keys an aggregate's `ORDER BY` may have.
    pub const MAX_KEYS: usize = 16;

    /// An order of `(descending, nulls_first)` keys; `None` for more than
    /// [`AggOrder::MAX_KEYS`].
    pub fn new(keys: &[(bool, bool)]) -> Option<AggOrder> {
        if keys.len() > Self::MAX_KEYS {
            return None;
        }
        let mut order = AggOrder { keys: keys.len() as u8, descending: 0, nulls_first: 0 };
        for (i, (descending, nulls_first)) in keys.iter().enumerate() {
            order.descending |= (*descending as u16) << i;
            order.nulls_first |= (*nulls_first as u16) << i;
        }
        Some(order)
    }

    /// Number of sort keys.
    pub fn len(&self) -> usize {
        self.keys as usize
    }

    /// True without sort keys.
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }

    /// Key `i` as a sort column over the argument record, whose sort keys
    /// start at field `first`.
    pub fn key(&self, i: usize, first: usize) -> SortColumn {
        SortColumn {
            column: first + i,
            descending: self.descending >> i & 1 == 1,
            nulls_first: self.nulls_first >> i & 1 == 1,
        }
    }
}

/// How an ordered aggregate's argument record is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderedArgs {
    /// Fields holding arguments (the value, and `string_agg`'s delimiter);
    /// the sort keys follow.
    pub args: usize,
    /// The sort order.
    pub order: AggOrder,
}

impl OrderedArgs {
    /// Compares two argument records as the aggregate orders its rows: by
    /// the sort keys (by the value when there are none), then by the whole
    /// record in the total order.
    pub fn cmp(&self, a: &[Value], b: &[Value]) -> Ordering {
        const NULL: &Value = &Value::Null;
        let keys = self.order.len().max(1);
        let key = |i: usize| if self.order.is_empty() { SortColumn::asc(0) } else { self.order.key(i, self.args) };
        (0..keys)
            .map(key)
            .map(|k| k.cmp_values(a.get(k.column).unwrap_or(NULL), b.get(k.column).unwrap_or(NULL)))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.cmp(b))
    }
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
        use AggregateFunc::*;
        match (self.func, self.distinct) {
            (MinRepr, _) => ReduceClass::Representative,
            (_, true) | (StringAgg(_) | ArrayAgg(_), _) => ReduceClass::Basic,
            (CountStar | Count | Sum | Avg | BoolAnd | BoolOr | VarSamp | VarPop | StddevSamp | StddevPop, false) => {
                ReduceClass::Accumulable
            }
            (Min | Max, false) => ReduceClass::Hierarchical,
        }
    }

    /// For `string_agg` and `array_agg`, the layout of the argument record.
    pub fn ordered(&self) -> Option<OrderedArgs> {
        match self.func {
            AggregateFunc::StringAgg(order) => Some(OrderedArgs { args: 2, order }),
            AggregateFunc::ArrayAgg(order) => Some(OrderedArgs { args: 1, order }),
            _ => None,
        }
    }

    /// Writes an ordered aggregate as `EXPLAIN` shows it:
    /// `string_agg(#1, ', ' ORDER BY #2 DESC)`, a `FILTER` clause
    /// (`CASE WHEN p THEN row(...) ELSE NULL END`) as `FILTER (WHERE p)`.
    pub(crate) fn fmt_ordered(&self, name: &str, layout: OrderedArgs, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (record, filter) = match &self.expr {
            Expr::If { cond, then, els } if matches!(**els, Expr::Literal(Value::Null)) => (&**then, Some(cond)),
            e => (e, None),
        };
        let fields: Vec<String> = match record {
            Expr::Variadic { func: VariadicFunc::Record, args } => args.iter().map(|a| a.to_string()).collect(),
            Expr::Literal(Value::Array(values)) => {
                values.iter().map(|v| Expr::Literal(v.clone()).to_string()).collect()
            }
            e => return write!(f, "{name}({e})"),
        };
        let distinct = if self.distinct { "DISTINCT " } else { "" };
        write!(f, "{name}({distinct}{}", fields[..layout.args.min(fields.len())].join(", "))?;
        for i in 0..layout.order.len() {
            let key = layout.order.key(i, layout.args);
            f.write_str(if i == 0 { " ORDER BY " } else { ", " })?;
            f.write_str(fields.get(key.column).map_or("?", String::as_str))?;
            if key.descending {
                f.write_str(" DESC")?;
            }
            if key.nulls_first != key.descending {
                f.write_str(if key.nulls_first { " NULLS FIRST" } else { " NULLS LAST" })?;
            }
        }
        f.write_str(")")?;
        match filter {
            Some(p) => write!(f, " FILTER (WHERE {p})"),
            None => Ok(()),
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
            (BoolAnd | BoolOr, _) => Bool,
            (VarSamp | VarPop | StddevSamp | StddevPop, Float8) => Float8,
            (VarSamp | VarPop | StddevSamp | StddevPop, _) => Numeric(None),
            (StringAgg(_), t) => t,
            (ArrayAgg(_), t) => DataType::array_of(t).unwrap_or(Unknown),
        }
    }
}
