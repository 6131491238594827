//! Rough, statistics-free size estimates, for choosing between plans that
//! compute the same rows (join order, semi-join reduction).
//!
//! Sizes are relative: a table read in full is `1.0` unless the join it
//! takes part in says otherwise (see [`super::joins`]: a table looked up
//! through its unique key by another input is assumed ten times smaller).
//! A predicate keeps a fixed fraction of the rows, by its shape, in the
//! spirit of PostgreSQL's default selectivities when it has no
//! statistics: an equality with a constant 1/10, a range bound 2/5 (a
//! two-sided range 4/25), `LIKE` 1/10, a comparison of two columns 1/2, an
//! `OR` the sum of its alternatives (at most 1). Only the order of
//! estimates matters, never their values; no estimate changes a plan's
//! result.

use super::eager::SourceKeys;
use super::joins::{conditions_cannot_fail, tree_size};
use crate::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use crate::plan::{JoinKind, Plan};

/// The size of a table read in full.
pub(crate) const TABLE: f64 = 1.0;

/// The fraction of rows a conjunct keeps.
pub(crate) fn selectivity(e: &Expr) -> f64 {
    let constant = |x: &Expr| x.is_constant();
    match e {
        Expr::Literal(crate::value::Value::Bool(true)) => 1.0,
        Expr::Literal(_) => 0.0,
        Expr::Binary { func, left, right } => {
            let one_constant = constant(left) != constant(right);
            match func {
                BinaryFunc::Eq | BinaryFunc::IsNotDistinctFrom => 0.1,
                BinaryFunc::NotEq | BinaryFunc::IsDistinctFrom => 0.9,
                BinaryFunc::Lt | BinaryFunc::Lte | BinaryFunc::Gt | BinaryFunc::Gte => {
                    if one_constant {
                        0.4
                    } else {
                        0.5
                    }
                }
                BinaryFunc::Like { .. } => 0.1,
                _ => 0.5,
            }
        }
        Expr::Unary { func: UnaryFunc::Not, arg } => (1.0 - selectivity(arg)).max(0.1),
        Expr::Unary { func: UnaryFunc::IsNull, .. } => 0.1,
        Expr::Unary { func: UnaryFunc::IsNotNull, .. } => 0.9,
        Expr::Variadic { func: VariadicFunc::And, args } => args.iter().map(selectivity).product(),
        Expr::Variadic { func: VariadicFunc::Or, args } => args.iter().map(selectivity).sum::<f64>().min(1.0),
        _ => 0.5,
    }
}

/// The fraction of rows a list of conjuncts keeps: the product of their
/// selectivities, except that a column bounded on both sides by constants
/// (`d >= date '1994-01-01' AND d < date '1995-01-01'`) is taken as a
/// narrow range, 1/20, as PostgreSQL's default for range conditions.
pub(crate) fn filter_selectivity(preds: &[Expr]) -> f64 {
    let mut lower = std::collections::BTreeSet::new();
    let mut upper = std::collections::BTreeSet::new();
    let mut sel = 1.0;
    for p in preds {
        if let Some((column, is_lower)) = bound(p) {
            let (this, other) = if is_lower { (&mut lower, &upper) } else { (&mut upper, &lower) };
            if other.contains(&column) && !this.contains(&column) {
                // The range's second bound: 1/20 for both.
                sel *= 0.05 / 0.4;
            } else {
                sel *= 0.4;
            }
            this.insert(column);
        } else {
            sel *= selectivity(p);
        }
    }
    sel
}

/// `(column, true)` for `column >= constant` (or `>`, or `constant <=
/// column`), `(column, false)` for an upper bound.
fn bound(e: &Expr) -> Option<(usize, bool)> {
    let Expr::Binary { func, left, right } = e else { return None };
    let lower = match func {
        BinaryFunc::Gt | BinaryFunc::Gte => true,
        BinaryFunc::Lt | BinaryFunc::Lte => false,
        _ => return None,
    };
    match (&**left, &**right) {
        (Expr::Column(c), r) if r.is_constant() => Some((*c, lower)),
        (l, Expr::Column(c)) if l.is_constant() => Some((*c, !lower)),
        _ => None,
    }
}

/// The estimated size of `plan`'s result, its tables counting [`TABLE`];
/// inner-join trees as [`tree_size`] estimates them.
pub(crate) fn size(plan: &Plan, keys: &SourceKeys) -> f64 {
    let size = |p: &Plan| size(p, keys);
    match plan {
        Plan::Get(_) => TABLE,
        // A handful of rows: far below any table.
        Plan::Constant(c) => 1e-6 * c.rows.len() as f64,
        Plan::Filter(f) => size(&f.input) * filter_selectivity(&f.predicates),
        Plan::Map(m) => size(&m.input),
        Plan::Join(j) if j.kind == JoinKind::Inner && conditions_cannot_fail(j) => tree_size(plan, keys),
        Plan::Join(j) => {
            let (l, r) = (size(&j.left), size(&j.right));
            let residual: f64 = j.residual.iter().map(selectivity).product();
            let matched = if j.equi.is_empty() { l * r } else { l.max(r) } * residual;
            match j.kind {
                JoinKind::Inner => matched,
                JoinKind::LeftOuter => matched.max(l),
                JoinKind::FullOuter => matched.max(l).max(r),
            }
        }
        Plan::Reduce(r) if r.group_key.is_empty() => 1e-6,
        Plan::Reduce(r) => size(&r.input) * 0.1,
        Plan::Distinct(d) => size(&d.input) * 0.5,
        Plan::Union(u) => u.inputs.iter().map(size).sum(),
        Plan::Negate(n) => size(&n.input),
        Plan::Threshold(t) => size(&t.input),
        Plan::TopK(t) => match t.limit {
            Some(l) => (size(&t.input)).min(1e-6 * l as f64),
            None => size(&t.input),
        },
    }
}

/// The product of the selectivities of every filter in `plan`: how much
/// smaller its filters make it.
pub(crate) fn filters_in(plan: &Plan) -> f64 {
    let mut product = 1.0;
    plan.visit(&mut |p| {
        if let Plan::Filter(f) = p {
            product *= filter_selectivity(&f.predicates);
        }
    });
    product.max(f64::MIN_POSITIVE)
}

/// The largest estimated input of an operator of `plan` that arranges
/// its input (`Reduce`, `Distinct`, `Threshold`, `TopK`, and, with
/// `joins`, a join's inputs): the most rows its evaluation keeps at one
/// place.
pub(crate) fn work(plan: &Plan, keys: &SourceKeys, joins: bool) -> f64 {
    let mut most: f64 = 0.0;
    plan.visit(&mut |p| {
        let inputs: Vec<&Plan> = match p {
            Plan::Reduce(r) => vec![&r.input],
            Plan::Distinct(d) => vec![&d.input],
            Plan::Threshold(t) => vec![&t.input],
            Plan::TopK(t) => vec![&t.input],
            Plan::Join(j) if joins => vec![&j.left, &j.right],
            _ => Vec::new(),
        };
        for i in inputs {
            most = most.max(size(i, keys));
        }
    });
    most
}

/// True if `plan` reads one table through filters and projections only:
/// its size is that table's, times its filters' selectivities.
pub(crate) fn base_table(plan: &Plan) -> bool {
    match plan {
        Plan::Get(_) => true,
        Plan::Filter(f) => base_table(&f.input),
        Plan::Map(m) => base_table(&m.input),
        _ => false,
    }
}
