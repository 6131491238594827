//! `TopK`: the first rows of each group in a sort order (`ORDER BY …
//! LIMIT n OFFSET m` over a whole result, `SELECT DISTINCT ON`).
//!
//! Rows are grouped by the values of the group key expressions, equal in
//! the total order (`Value`'s `Eq`; the front end groups SQL-equal values
//! by normalising the key, as for `GROUP BY`). Within a group, rows are
//! sorted by the order columns with PostgreSQL's ordering: SQL comparison
//! ([`Value::sql_cmp`]: numerics by value, text byte-wise), `DESC`
//! reversing it, NULLs first or last as each column says. Rows that tie on
//! every order column are ordered by the whole row in the total order, so
//! the result is deterministic (PostgreSQL returns an arbitrary choice
//! among tied rows; this is one of its possible answers). A row with
//! multiplicity `m` stands for `m` rows. The output is the rows at sorted
//! positions `offset .. offset + limit` of each group (to the end without
//! a limit), with their multiplicities.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::Plan;
use crate::expr::Expr;
use crate::value::Value;

/// One ORDER BY key of a [`TopK`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortColumn {
    /// The input column sorted on.
    pub column: usize,
    /// `DESC`.
    pub descending: bool,
    /// `NULLS FIRST` (PostgreSQL's default: last for `ASC`, first for
    /// `DESC`).
    pub nulls_first: bool,
}

impl SortColumn {
    /// An ascending key with PostgreSQL's default NULL placement (last).
    pub fn asc(column: usize) -> SortColumn {
        SortColumn {
            column,
            descending: false,
            nulls_first: false,
        }
    }

    /// Compares two values as this key sorts them: SQL comparison,
    /// reversed for `DESC`, NULLs placed as `nulls_first` says.
    pub fn cmp_values(&self, a: &Value, b: &Value) -> Ordering {
        match (a.is_null(), b.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if self.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if self.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, false) => {
                let o = a.sql_cmp(b).unwrap_or(Ordering::Equal);
                if self.descending {
                    o.reverse()
                } else {
                    o
                }
            }
        }
    }
}

/// The rows at positions `offset .. offset + limit` of each group of the
/// input sorted by `order` (see the module documentation). Output rows are
/// input rows: the arity is the input's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopK {
    /// The input.
    pub input: Box<Plan>,
    /// Group key expressions over the input row (empty: one group, the
    /// whole input).
    pub group_key: Vec<Expr>,
    /// The sort keys, most significant first.
    pub order: Vec<SortColumn>,
    /// How many rows each group keeps (`None`: all after the offset).
    pub limit: Option<u64>,
    /// How many leading rows of each group are skipped.
    pub offset: u64,
}

impl TopK {
    /// Compares two input rows in the group's sort order: the order keys,
    /// then the whole rows in the total order.
    pub fn cmp_rows(&self, a: &[Value], b: &[Value]) -> Ordering {
        compare_rows(&self.order, a, b)
    }
}

/// Compares two rows by `order`, then by the whole rows in the total
/// order (so only equal rows compare equal).
pub fn compare_rows(order: &[SortColumn], a: &[Value], b: &[Value]) -> Ordering {
    for key in order {
        let o = key.cmp_values(&a[key.column], &b[key.column]);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Numeric;

    fn num(mantissa: i128, scale: u16) -> Value {
        Value::Numeric(Numeric::from_parts(mantissa, scale))
    }

    #[test]
    fn keys_sort_as_postgresql_does() {
        let asc = SortColumn::asc(0);
        let desc = SortColumn {
            column: 0,
            descending: true,
            nulls_first: true,
        };
        let (one, two, null) = (Value::Int4(1), Value::Int4(2), Value::Null);
        assert_eq!(asc.cmp_values(&one, &two), Ordering::Less);
        assert_eq!(asc.cmp_values(&null, &two), Ordering::Greater);
        assert_eq!(desc.cmp_values(&one, &two), Ordering::Greater);
        assert_eq!(desc.cmp_values(&null, &two), Ordering::Less);
        let asc_nulls_first = SortColumn {
            nulls_first: true,
            ..asc
        };
        assert_eq!(asc_nulls_first.cmp_values(&null, &one), Ordering::Less);
        // Numerics compare by value; text byte-wise.
        assert_eq!(asc.cmp_values(&num(10, 1), &num(100, 2)), Ordering::Equal);
        assert_eq!(
            asc.cmp_values(&Value::text("B"), &Value::text("a")),
            Ordering::Less
        );
    }

    #[test]
    fn ties_are_broken_by_the_whole_row() {
        let order = [SortColumn {
            column: 0,
            descending: true,
            nulls_first: true,
        }];
        let a = [num(10, 1), Value::Int4(5)];
        let b = [num(100, 2), Value::Int4(1)];
        // SQL-equal first keys: the total order of the rows decides
        // (`1.0` before `1.00`).
        assert_eq!(compare_rows(&order, &a, &b), Ordering::Less);
        assert_eq!(compare_rows(&order, &b, &a), Ordering::Greater);
        assert_eq!(compare_rows(&order, &a, &a), Ordering::Equal);
        assert_eq!(
            compare_rows(&order, &[Value::Int4(2)], &[Value::Int4(3)]),
            Ordering::Greater
        );
    }
}
