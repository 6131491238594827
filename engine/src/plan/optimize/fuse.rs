//! Fusion of adjacent filters and maps, removal of identity maps and of
//! filters that keep nothing or everything, and constant folding.

use super::expr::{fold, is_cheap, is_never_true, split_conjuncts, substitute};
use crate::expr::Expr;
use crate::plan::{Aggregate, Constant, Distinct, Filter, Join, Map, Negate, Plan, Reduce, Threshold, TopK, Union};

/// Applies `f` to every expression of the plan.
pub(crate) fn map_exprs(plan: Plan, f: &mut impl FnMut(Expr) -> Expr) -> Plan {
    match plan {
        Plan::Get(_) | Plan::Constant(_) => plan,
        Plan::Filter(x) => Plan::Filter(Filter {
            input: Box::new(map_exprs(*x.input, f)),
            predicates: x.predicates.into_iter().map(&mut *f).collect(),
        }),
        Plan::Map(x) => Plan::Map(Map {
            input: Box::new(map_exprs(*x.input, f)),
            exprs: x.exprs.into_iter().map(&mut *f).collect(),
        }),
        Plan::Join(j) => Plan::Join(Join {
            kind: j.kind,
            left: Box::new(map_exprs(*j.left, f)),
            right: Box::new(map_exprs(*j.right, f)),
            equi: j.equi.into_iter().map(|(l, r)| (f(l), f(r))).collect(),
            residual: j.residual.into_iter().map(&mut *f).collect(),
        }),
        Plan::Reduce(r) => Plan::Reduce(Reduce {
            input: Box::new(map_exprs(*r.input, f)),
            group_key: r.group_key.into_iter().map(&mut *f).collect(),
            aggregates: r.aggregates.into_iter().map(|a| Aggregate { expr: f(a.expr), ..a }).collect(),
        }),
        Plan::Distinct(d) => Plan::Distinct(Distinct { input: Box::new(map_exprs(*d.input, f)) }),
        Plan::Union(u) => Plan::Union(Union { inputs: u.inputs.into_iter().map(|i| map_exprs(i, f)).collect() }),
        Plan::Negate(n) => Plan::Negate(Negate { input: Box::new(map_exprs(*n.input, f)) }),
        Plan::Threshold(t) => Plan::Threshold(Threshold { input: Box::new(map_exprs(*t.input, f)) }),
        Plan::TopK(t) => Plan::TopK(TopK {
            input: Box::new(map_exprs(*t.input, f)),
            group_key: t.group_key.into_iter().map(&mut *f).collect(),
            ..t
        }),
    }
}

/// Folds constants in every expression of the plan.
pub(crate) fn fold_constants(plan: Plan) -> Plan {
    map_exprs(plan, &mut fold)
}

/// Fuses adjacent filters and maps, bottom-up.
pub(crate) fn fuse(plan: Plan) -> Plan {
    match plan {
        Plan::Filter(f) => {
            let input = fuse(*f.input);
            let mut preds = split_conjuncts(f.predicates);
            let input = match input {
                Plan::Filter(inner) => {
                    let mut all = inner.predicates;
                    all.append(&mut preds);
                    preds = all;
                    *inner.input
                }
                other => other,
            };
            if preds.iter().any(is_never_true) {
                Plan::Constant(Constant { rows: Vec::new(), arity: input.arity() })
            } else if preds.is_empty() {
                input
            } else {
                Plan::Filter(Filter { input: Box::new(input), predicates: preds })
            }
        }
        Plan::Map(m) => {
            let mut input = fuse(*m.input);
            let mut exprs = m.exprs;
            while let Plan::Map(inner) = input {
                if !can_fuse(&exprs, &inner.exprs) {
                    input = Plan::Map(inner);
                    break;
                }
                exprs = exprs.iter().map(|e| substitute(e, &inner.exprs)).collect();
                input = *inner.input;
            }
            let identity = exprs.len() == input.arity() && exprs.iter().enumerate().all(|(i, e)| *e == Expr::Column(i));
            if identity {
                input
            } else {
                Plan::Map(Map { input: Box::new(input), exprs })
            }
        }
        Plan::Get(_) | Plan::Constant(_) => plan,
        Plan::Join(j) => Plan::Join(Join {
            kind: j.kind,
            left: Box::new(fuse(*j.left)),
            right: Box::new(fuse(*j.right)),
            equi: j.equi,
            residual: split_conjuncts(j.residual),
        }),
        Plan::Reduce(r) => {
            Plan::Reduce(Reduce { input: Box::new(fuse(*r.input)), group_key: r.group_key, aggregates: r.aggregates })
        }
        Plan::Distinct(d) => Plan::Distinct(Distinct { input: Box::new(fuse(*d.input)) }),
        Plan::Union(u) => Plan::Union(Union { inputs: u.inputs.into_iter().map(fuse).collect() }),
        Plan::Negate(n) => Plan::Negate(Negate { input: Box::new(fuse(*n.input)) }),
        Plan::Threshold(t) => Plan::Threshold(Threshold { input: Box::new(fuse(*t.input)) }),
        Plan::TopK(t) => Plan::TopK(TopK { input: Box::new(fuse(*t.input)), ..t }),
    }
}

/// An outer map may absorb an inner one unless that would evaluate an
/// expensive inner expression more than once per row.
fn can_fuse(outer: &[Expr], inner: &[Expr]) -> bool {
    let mut uses = vec![0usize; inner.len()];
    for e in outer {
        e.visit_columns(&mut |c| uses[c] += 1);
    }
    uses.iter().zip(inner).all(|(&n, e)| n <= 1 || is_cheap(e))
}
