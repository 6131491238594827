//! Predicate push-down and equi-key extraction.
//!
//! A conjunct moves below an operator only where it is evaluated on no row
//! it was not evaluated on before, or where its evaluation cannot fail
//! ([`can_error`]). Moving a conjunct below another only ever removes
//! evaluations, which can only remove failures, never add them (PostgreSQL
//! orders qualifications freely too).

use super::expr::{
    as_equi_pair, can_error, columns, is_cheap, is_representation_blind, shift_down, split_conjuncts, substitute,
};
use crate::expr::Expr;
use crate::plan::{Distinct, Filter, Join, JoinKind, Map, Negate, Plan, Reduce, Threshold, TopK, Union};

/// Pushes every `Filter` as far down as it may go and normalises join
/// conditions (one-sided residuals into the inputs, equalities into equi
/// keys), throughout the plan.
pub(crate) fn pushdown(plan: Plan) -> Plan {
    push_into(plan, Vec::new())
}

/// `Filter(preds, plan)`, with `preds` (and any filters inside `plan`)
/// pushed down as far as they may go.
fn push_into(plan: Plan, preds: Vec<Expr>) -> Plan {
    let preds = split_conjuncts(preds);
    match plan {
        Plan::Filter(f) => {
            let mut all = split_conjuncts(f.predicates);
            all.extend(preds);
            push_into(*f.input, all)
        }
        Plan::Map(m) => {
            let (mut down, mut keep) = (Vec::new(), Vec::new());
            for p in preds {
                let mut cheap = true;
                p.visit_columns(&mut |c| cheap &= is_cheap(&m.exprs[c]));
                // A conjunct that can fail may not overtake one that stays
                // above: that one could have dropped the row first.
                if cheap && (keep.is_empty() || !can_error(&p)) {
                    down.push(substitute(&p, &m.exprs));
                } else {
                    keep.push(p);
                }
            }
            let input = push_into(*m.input, down);
            filtered(Plan::Map(Map { input: Box::new(input), exprs: m.exprs }), keep)
        }
        Plan::Join(j) => push_into_join(j, preds),
        Plan::Union(u) => {
            // Every row of a union is a row of exactly one input: the same
            // evaluations happen, whatever the conjuncts.
            let inputs = u.inputs.into_iter().map(|i| push_into(i, preds.clone())).collect();
            Plan::Union(Union { inputs })
        }
        Plan::Negate(n) => Plan::Negate(Negate { input: Box::new(push_into(*n.input, preds)) }),
        Plan::Threshold(t) => {
            let (down, keep): (Vec<_>, Vec<_>) = preds.into_iter().partition(|p| !can_error(p));
            filtered(Plan::Threshold(Threshold { input: Box::new(push_into(*t.input, down)) }), keep)
        }
        Plan::Distinct(d) => {
            let (down, keep): (Vec<_>, Vec<_>) =
                preds.into_iter().partition(|p| !can_error(p) && is_representation_blind(p));
            filtered(Plan::Distinct(Distinct { input: Box::new(push_into(*d.input, down)) }), keep)
        }
        Plan::Reduce(r) => {
            let (mut down, mut keep) = (Vec::new(), Vec::new());
            let nkey = r.group_key.len();
            for p in preds {
                let mut ok = nkey > 0 && !can_error(&p);
                p.visit_columns(&mut |c| ok &= c < nkey && is_cheap(&r.group_key[c]));
                let sub = if ok { Some(substitute(&p, &r.group_key)) } else { None };
                match sub {
                    Some(s) if is_representation_blind(&s) => down.push(s),
                    _ => keep.push(p),
                }
            }
            let input = push_into(*r.input, down);
            filtered(
                Plan::Reduce(Reduce { input: Box::new(input), group_key: r.group_key, aggregates: r.aggregates }),
                keep,
            )
        }
        // A filter below a top-k would change which rows are first: none
        // moves through it.
        Plan::TopK(t) => filtered(Plan::TopK(TopK { input: Box::new(push_into(*t.input, Vec::new())), ..t }), preds),
        leaf @ (Plan::Get(_) | Plan::Constant(_)) => filtered(leaf, preds),
    }
}

/// `plan` under a `Filter` of `preds` (or `plan` itself for none).
fn filtered(plan: Plan, preds: Vec<Expr>) -> Plan {
    if preds.is_empty() {
        plan
    } else {
        Plan::Filter(Filter { input: Box::new(plan), predicates: preds })
    }
}

/// Where a conjunct over a join's concatenated row reads from.
enum Side {
    Left,
    Right,
    Both,
}

fn side_of(e: &Expr, left_arity: usize) -> Side {
    let cols = columns(e);
    match (cols.first(), cols.last()) {
        (None, _) => Side::Left,
        (Some(_), Some(&last)) if last < left_arity => Side::Left,
        (Some(&first), _) if first >= left_arity => Side::Right,
        _ => Side::Both,
    }
}

fn push_into_join(j: Join, preds: Vec<Expr>) -> Plan {
    let la = j.left.arity();
    let (mut left, mut right, mut residual, mut keep) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    match j.kind {
        JoinKind::Inner => {
            // Residuals and the filter's conjuncts alike: one-sided ones go
            // into their input when they cannot fail; two-sided ones become
            // residuals when they cannot fail.
            for r in split_conjuncts(j.residual) {
                match (side_of(&r, la), can_error(&r)) {
                    (Side::Left, false) => left.push(r),
                    (Side::Right, false) => right.push(shift_down(r, la)),
                    _ => residual.push(r),
                }
            }
            for p in preds {
                match (side_of(&p, la), can_error(&p)) {
                    (_, true) => keep.push(p),
                    (Side::Left, false) => left.push(p),
                    (Side::Right, false) => right.push(shift_down(p, la)),
                    (Side::Both, false) => residual.push(p),
                }
            }
        }
        JoinKind::LeftOuter => {
            // ON conjuncts over the right row only restrict which right rows
            // can match; WHERE conjuncts over the left row only restrict
            // which left rows exist. Nothing else moves.
            for r in split_conjuncts(j.residual) {
                let right_only = r.is_constant() || matches!(side_of(&r, la), Side::Right);
                if right_only && !can_error(&r) {
                    right.push(shift_down(r, la));
                } else {
                    residual.push(r);
                }
            }
            for p in preds {
                if matches!(side_of(&p, la), Side::Left) && !can_error(&p) {
                    left.push(p);
                } else {
                    keep.push(p);
                }
            }
        }
        JoinKind::FullOuter => {
            // Either side's rows can appear null-extended: an ON conjunct
            // over one side decides only whether rows match (a right-only
            // one moved into the right input would drop rows that must
            // appear padded), and a WHERE conjunct sees the padded rows.
            // Nothing moves; equalities still become equi keys.
            residual = split_conjuncts(j.residual);
            keep = preds;
        }
    }
    let mut equi = j.equi;
    let mut rest = Vec::with_capacity(residual.len());
    for r in residual {
        match as_equi_pair(&r, la) {
            Some(pair) => equi.push(pair),
            None => rest.push(r),
        }
    }
    let join = Plan::Join(Join {
        kind: j.kind,
        left: Box::new(push_into(*j.left, left)),
        right: Box::new(push_into(*j.right, right)),
        equi,
        residual: rest,
    });
    filtered(join, keep)
}
