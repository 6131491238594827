//! Aggregates recomputed per changed group: `string_agg` and `array_agg`
//! (with or without `DISTINCT` and `ORDER BY`).
//!
//! Each input row contributes `(group key, tuple)`, the tuple holding each
//! such aggregate's argument record (`row(value, [delimiter,] sort
//! keys...)`, or NULL when the row does not take part, e.g. its `FILTER`
//! fails). One differential `reduce`, keyed by the group key, receives a
//! changed group's distinct tuples with their multiplicities and computes
//! every such aggregate of the group: its records ordered by the
//! `ORDER BY` keys (by the value without them), ties by the whole record
//! in the total order, each repeated by its multiplicity (once under
//! `DISTINCT`, where records whose arguments are SQL-equal are one, shown
//! by the least in the total order). A group whose rows all have NULL
//! records still exists, with NULL aggregates.
//!
//! Incremental cost: a change re-reads and re-sorts the changed group's
//! distinct tuples, O(g log g) for a group of g distinct tuples, and
//! replaces the group's output row: the result is a function of the whole
//! group, as large as it. Memory: the arrangement of the input's distinct
//! `(group key, tuple)` pairs, plus the reduce's output arrangement (one
//! row per group).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{eval_key_args, Piece};
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, Diff, OrderedArgs};
use crate::render::{split_results, Coll};
use crate::value::{DataType, Row, Value};

/// Renders the `string_agg` / `array_agg` aggregates at positions `which`.
pub(crate) fn build_basic<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
    which: Vec<usize>,
) -> (Piece<'s>, Coll<'s, EvalError>) {
    let group_key = group_key.to_vec();
    let args: Vec<Expr> = which.iter().map(|&i| aggregates[i].expr.clone()).collect();
    let aggs: Vec<Ordered> = which
        .iter()
        .map(|&i| Ordered {
            layout: aggregates[i].ordered().expect("only ordered aggregates are basic"),
            distinct: aggregates[i].distinct,
            bytes: aggregates[i].input_type == DataType::Bytea,
        })
        .collect();
    let tuples = input.map(move |row| {
        let (key, values) = eval_key_args(&group_key, &args, &row)?;
        Ok((key, Row::new(values)))
    });
    let (tuples, err) = split_results(tuples);
    let rows = tuples.reduce(move |_key, input: &[(&Row, Diff)], output: &mut Vec<(Row, Diff)>| {
        let values = aggs
            .iter()
            .enumerate()
            .map(|(j, agg)| agg.compute(input.iter().map(|(tuple, count)| (&tuple[j], *count))))
            .collect();
        output.push((Row::new(values), 1));
    });
    (Piece { aggregates: which, rows }, err)
}

/// One `string_agg` or `array_agg`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ordered {
    /// The argument record's layout and the order.
    pub layout: OrderedArgs,
    /// `DISTINCT`.
    pub distinct: bool,
    /// `string_agg(bytea, bytea)` rather than over text.
    pub bytes: bool,
}

impl Ordered {
    /// True for `string_agg`, which skips NULL values (`array_agg` keeps
    /// them).
    fn is_string_agg(&self) -> bool {
        self.layout.args == 2
    }

    /// The aggregate over a group's argument records (NULL: the row does
    /// not take part) with their multiplicities.
    pub fn compute<'a>(&self, records: impl Iterator<Item = (&'a Value, Diff)>) -> Value {
        let mut items: Vec<(&'a [Value], Diff)> = Vec::new();
        for (record, count) in records {
            let Value::Array(fields) = record else { continue };
            if count <= 0 || (self.is_string_agg() && fields.first().is_none_or(Value::is_null)) {
                continue;
            }
            items.push((fields, count));
        }
        if self.distinct {
            let args = self.layout.args;
            let mut classes: BTreeMap<Vec<Value>, &'a [Value]> = BTreeMap::new();
            for (fields, _) in items {
                let class: Vec<Value> = fields[..args.min(fields.len())].iter().map(Value::key_normalized).collect();
                let least = classes.entry(class).or_insert(fields);
                if fields[..args.min(fields.len())] < least[..args.min(least.len())] {
                    *least = fields;
                }
            }
            items = classes.into_values().map(|fields| (fields, 1)).collect();
        }
        if items.is_empty() {
            return Value::Null;
        }
        items.sort_by(|(a, _), (b, _)| self.layout.cmp(a, b));
        let repeated = items.iter().flat_map(|(fields, count)| std::iter::repeat_n(*fields, *count as usize));
        if !self.is_string_agg() {
            return Value::Array(repeated.map(|fields| fields[0].clone()).collect::<Arc<[Value]>>());
        }
        let mut out: Vec<u8> = Vec::new();
        for (i, fields) in repeated.enumerate() {
            if i > 0 {
                out.extend_from_slice(bytes_of(&fields[1]));
            }
            out.extend_from_slice(bytes_of(&fields[0]));
        }
        if self.bytes {
            Value::Bytea(Arc::from(out))
        } else {
            // Concatenated UTF-8 text is UTF-8.
            Value::Text(Arc::from(String::from_utf8(out).unwrap_or_default()))
        }
    }
}

/// The bytes of a text or bytea value (none for NULL).
fn bytes_of(v: &Value) -> &[u8] {
    match v {
        Value::Text(s) => s.as_bytes(),
        Value::Bytea(b) => b,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::AggOrder;

    fn rec(values: Vec<Value>) -> Value {
        Value::Array(values.into())
    }

    fn t(s: &str) -> Value {
        Value::text(s)
    }

    fn string_agg(order: &[(bool, bool)], distinct: bool) -> Ordered {
        Ordered { layout: OrderedArgs { args: 2, order: AggOrder::new(order).unwrap() }, distinct, bytes: false }
    }

    #[test]
    fn string_agg_orders_skips_nulls_and_uses_each_rows_delimiter() {
        let records = [
            (rec(vec![t("b"), t("-"), Value::Int4(2)]), 1),
            (rec(vec![t("a"), t("+"), Value::Int4(1)]), 1),
            (rec(vec![Value::Null, t("?"), Value::Int4(0)]), 1),
            (rec(vec![t("c"), Value::Null, Value::Int4(3)]), 2),
            (Value::Null, 1),
        ];
        let agg = string_agg(&[(false, false)], false);
        assert_eq!(agg.compute(records.iter().map(|(r, c)| (r, *c))), t("a-bcc"));
        let desc = string_agg(&[(true, true)], false);
        assert_eq!(desc.compute(records.iter().map(|(r, c)| (r, *c))), t("cc-b+a"));
        assert_eq!(agg.compute([(&Value::Null, 1)].into_iter()), Value::Null);
    }

    #[test]
    fn array_agg_keeps_nulls_and_distinct_merges_sql_equal_values() {
        let n = |s: &str| Value::Numeric(s.parse().unwrap());
        let records = [
            (rec(vec![n("1.00")]), 2),
            (rec(vec![n("1.0")]), 1),
            (rec(vec![Value::Null]), 1),
            (rec(vec![n("0.5")]), 1),
        ];
        let plain =
            Ordered { layout: OrderedArgs { args: 1, order: AggOrder::default() }, distinct: false, bytes: false };
        let all = plain.compute(records.iter().map(|(r, c)| (r, *c)));
        assert_eq!(all.to_string(), "{0.5,1.0,1.00,1.00,NULL}");
        let distinct = Ordered { distinct: true, ..plain };
        assert_eq!(distinct.compute(records.iter().map(|(r, c)| (r, *c))).to_string(), "{0.5,1.0,NULL}");
    }
}
