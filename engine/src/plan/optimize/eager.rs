//! Eager aggregation: aggregating the "many" side of a join before the
//! join, when the group key identifies one row of the "one" side.
//!
//! The shape is the fact-table view: a header joined (inner or left outer)
//! to its lines on the header's unique key, grouped by that key, with
//! aggregates over the lines only:
//!
//! ```text
//! Reduce key=[h.id, h.a, …] aggs=[agg(f(l)), …]
//!   Join equi=[h.k = g(l)]          (inner or left outer, no residual)
//!     H                             (unique on columns K ⊆ the group key)
//!     L
//! ```
//!
//! becomes
//!
//! ```text
//! Map (h.id, h.a, …, agg values: the pre-aggregate's, or for a left
//!      outer join's unmatched header the aggregate over one NULL-padded row)
//!   Join equi=[h.k = #0]            (same kind)
//!     H
//!     Reduce key=[normalize(g(l))] aggs=[agg(f(l)), …]
//!       L
//! ```
//!
//! Why it is exact: because `H` is unique on `K` and every column of `K`
//! is in the group key, and the group key reads only `H`'s columns, each
//! group of the original is exactly one header row `h` together with the
//! lines joined to it, which are the lines whose key equals `h.k` under
//! SQL equality — one group of the pre-aggregate, grouped by the
//! normalised key ([`UnaryFunc::KeyNormalize`], so values that compare
//! equal, `1.0` and `1.00`, fall into one group as they would match in the
//! join). NULL keys never join, in either form. With a left outer join a
//! header without lines forms a group of one row whose line columns are
//! NULL: `count(*)` is 1 there, `count(x)` is 0 or 1 as `x` over NULLs is
//! NULL or not, and the rewrite applies only when every other aggregate's
//! argument is NULL over NULL line columns, so that the NULL the join pads
//! with is the right answer.
//!
//! Errors: the aggregates' arguments now run on every line, also lines
//! joined to no header, so the rewrite applies only when no argument can
//! fail. The group key runs on exactly the joined rows, as before.
//!
//! Why it is cheaper: a changed line updates one pre-aggregated group and
//! that group's single output row through a one-to-one join, instead of
//! joining the line to its header and regrouping; the lines are never
//! arranged by the join key, only their per-key totals are. Building the
//! view over loaded tables sorts per-line contributions once, not joined
//! rows twice.
//!
//! Uniqueness of inputs is known from the tables' unique keys (primary
//! keys) the caller supplies, and derived through `Filter`, `Map`,
//! `Reduce` (its group key), `Distinct`, and joins that cannot repeat a
//! left row (the right side unique on its equi-key columns).

use std::collections::{BTreeMap, BTreeSet};

use super::can_error;
use super::expr::{columns, shift_down, substitute};
use crate::expr::{Expr, UnaryFunc, VariadicFunc};
use crate::plan::{
    Aggregate, AggregateFunc, Distinct, Filter, Join, JoinKind, Map, Negate, ObjectId, Plan, Reduce, Threshold, Union,
};
use crate::value::Value;

/// Unique keys of the base objects: for each object, sets of column
/// positions on which no two of its rows agree (and which hold no NULLs),
/// such as a primary key.
pub type SourceKeys = BTreeMap<ObjectId, Vec<Vec<usize>>>;

/// Applies the rewrite wherever it fits, bottom-up.
pub(crate) fn eager_aggregate(plan: Plan, keys: &SourceKeys) -> Plan {
    let plan = map_children(plan, &mut |p| eager_aggregate(p, keys));
    match plan {
        Plan::Reduce(r) => match rewrite(&r, keys) {
            Some(p) => p,
            None => Plan::Reduce(r),
        },
        p => p,
    }
}

/// Rebuilds `plan` with `f` applied to each direct input.
pub(crate) fn map_children(plan: Plan, f: &mut impl FnMut(Plan) -> Plan) -> Plan {
    let mut bx = |b: Box<Plan>| Box::new(f(*b));
    match plan {
        p @ (Plan::Get(_) | Plan::Constant(_)) => p,
        Plan::Filter(x) => Plan::Filter(Filter { input: bx(x.input), predicates: x.predicates }),
        Plan::Map(x) => Plan::Map(Map { input: bx(x.input), exprs: x.exprs }),
        Plan::Join(x) => {
            let left = bx(x.left);
            let right = bx(x.right);
            Plan::Join(Join { kind: x.kind, left, right, equi: x.equi, residual: x.residual })
        }
        Plan::Reduce(x) => Plan::Reduce(Reduce { input: bx(x.input), group_key: x.group_key, aggregates: x.aggregates }),
        Plan::Distinct(x) => Plan::Distinct(Distinct { input: bx(x.input) }),
        Plan::Union(x) => Plan::Union(Union { inputs: x.inputs.into_iter().map(&mut *f).collect() }),
        Plan::Negate(x) => Plan::Negate(Negate { input: bx(x.input) }),
        Plan::Threshold(x) => Plan::Threshold(Threshold { input: bx(x.input) }),
        Plan::TopK(mut x) => {
            x.input = bx(x.input);
            Plan::TopK(x)
        }
    }
}

/// Sets of output columns on which `plan`'s rows are unique (and not NULL).
pub(crate) fn unique_keys(plan: &Plan, keys: &SourceKeys) -> Vec<BTreeSet<usize>> {
    match plan {
        Plan::Get(g) => keys.get(&g.id).map(|ks| ks.iter().map(|k| k.iter().copied().collect()).collect()).unwrap_or_default(),
        Plan::Filter(f) => unique_keys(&f.input, keys),
        Plan::Map(m) => {
            // A key survives when each of its columns is passed through.
            let passed = |c: usize| m.exprs.iter().position(|e| *e == Expr::Column(c));
            unique_keys(&m.input, keys)
                .into_iter()
                .filter_map(|k| k.iter().map(|&c| passed(c)).collect::<Option<BTreeSet<usize>>>())
                .collect()
        }
        // One row per group, and one group per key value (NULL included).
        Plan::Reduce(r) => vec![(0..r.group_key.len()).collect()],
        Plan::Distinct(d) => vec![(0..d.input.arity()).collect()],
        // A subset of its input's rows.
        Plan::TopK(t) => unique_keys(&t.input, keys),
        Plan::Join(j) if matches!(j.kind, JoinKind::Inner | JoinKind::LeftOuter) && j.residual.is_empty() => {
            // A left row meets at most one right row when the right side
            // is unique on columns all matched by equi keys.
            let right_cols: BTreeSet<usize> = j
                .equi
                .iter()
                .filter_map(|(_, r)| if let Expr::Column(c) = r { Some(*c) } else { None })
                .collect();
            let right_unique = unique_keys(&j.right, keys).iter().any(|k| k.is_subset(&right_cols));
            if right_unique {
                unique_keys(&j.left, keys)
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// The rewritten plan for `r`, when the rewrite applies.
fn rewrite(r: &Reduce, keys: &SourceKeys) -> Option<Plan> {
    if r.aggregates.is_empty() || r.group_key.is_empty() {
        return None;
    }
    // The join, and the group key and arguments over its output row.
    let (join, group_key, args) = match &*r.input {
        Plan::Join(j) => (j, r.group_key.clone(), r.aggregates.iter().map(|a| a.expr.clone()).collect::<Vec<_>>()),
        Plan::Map(m) => match &*m.input {
            Plan::Join(j) => (
                j,
                r.group_key.iter().map(|e| substitute(e, &m.exprs)).collect(),
                r.aggregates.iter().map(|a| substitute(&a.expr, &m.exprs)).collect(),
            ),
            _ => return None,
        },
        _ => return None,
    };
    if !matches!(join.kind, JoinKind::Inner | JoinKind::LeftOuter) || !join.residual.is_empty() || join.equi.is_empty() {
        return None;
    }
    let split = join.left.arity();
    // The group key reads the left side only, the arguments the right
    // side only, and no argument can fail.
    if group_key.iter().any(|e| columns(e).iter().any(|&c| c >= split)) {
        return None;
    }
    let mut right_args = Vec::with_capacity(args.len());
    for (agg, arg) in r.aggregates.iter().zip(&args) {
        if agg.func == AggregateFunc::CountStar {
            right_args.push(Expr::Literal(Value::Null));
            continue;
        }
        let cols = columns(arg);
        if cols.iter().any(|&c| c < split) || can_error(arg) {
            return None;
        }
        right_args.push(shift_down(arg.clone(), split));
    }
    // Every group is one left row: the group key covers a unique key of
    // the left side with plain columns.
    let grouped: BTreeSet<usize> =
        group_key.iter().filter_map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect();
    if !unique_keys(&join.left, keys).iter().any(|k| k.is_subset(&grouped)) {
        return None;
    }
    // A left outer join's unmatched row: each aggregate over one row of
    // NULL right columns.
    let right_arity = join.right.arity();
    let nulls = vec![Value::Null; right_arity];
    let mut padded = Vec::with_capacity(args.len());
    for (agg, arg) in r.aggregates.iter().zip(&right_args) {
        if join.kind == JoinKind::Inner {
            padded.push(None);
            continue;
        }
        let value = match agg.func {
            AggregateFunc::CountStar => Some(Value::Int8(1)),
            AggregateFunc::Count => match arg.eval(&nulls) {
                Ok(Value::Null) => Some(Value::Int8(0)),
                Ok(_) => Some(Value::Int8(1)),
                Err(_) => return None,
            },
            _ => match arg.eval(&nulls) {
                Ok(Value::Null) => None,
                _ => return None,
            },
        };
        padded.push(value);
    }

    let nkeys = join.equi.len();
    let pre = Plan::Reduce(Reduce {
        input: join.right.clone(),
        group_key: join.equi.iter().map(|(_, re)| re.clone().call_unary(UnaryFunc::KeyNormalize)).collect(),
        aggregates: r
            .aggregates
            .iter()
            .zip(right_args)
            .map(|(a, expr)| Aggregate { func: a.func, expr, input_type: a.input_type, distinct: a.distinct })
            .collect(),
    });
    let joined = Plan::Join(Join {
        kind: join.kind,
        left: join.left.clone(),
        right: Box::new(pre),
        equi: join.equi.iter().enumerate().map(|(i, (le, _))| (le.clone(), Expr::Column(i))).collect(),
        residual: Vec::new(),
    });
    let mut exprs = group_key;
    for (i, value) in padded.into_iter().enumerate() {
        let col = Expr::Column(split + nkeys + i);
        exprs.push(match (join.kind, value) {
            (JoinKind::LeftOuter, Some(v)) => Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![col, Expr::Literal(v)] },
            _ => col,
        });
    }
    Some(Plan::Map(Map { input: Box::new(joined), exprs }))
}

#[cfg(test)]
#[path = "eager_tests.rs"]
mod tests;
