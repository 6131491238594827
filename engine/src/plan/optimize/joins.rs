//! Inner-join ordering.
//!
//! A tree of inner joins (no outer join, filter or map in between) is
//! flattened into its inputs and the conjuncts of all its conditions over
//! the concatenation of the inputs, then rebuilt as a left-deep tree: the
//! first input stays first, and each next input is the first remaining one
//! (in the original order) connected to those already joined by an
//! equality, or the first remaining one if none is. Each conjunct is placed
//! at the first join where all its columns are available, as an equi-key
//! pair when it is such an equality. A `Map` on top restores the original
//! column order.
//!
//! Reordering changes which row combinations a condition is evaluated on,
//! so a tree is reordered only when none of its conditions can fail.

use std::collections::BTreeSet;

use super::expr::{as_equi_pair, can_error, shift_up};
use crate::expr::{BinaryFunc, Expr};
use crate::plan::{Distinct, Filter, Join, JoinKind, Map, Negate, Plan, Reduce, Threshold, TopK, Union};

/// Reorders every eligible inner-join tree in the plan.
pub(crate) fn order_joins(plan: Plan) -> Plan {
    match plan {
        Plan::Join(j) if j.kind == JoinKind::Inner && conditions_cannot_fail(&j) => {
            let mut inputs = Vec::new();
            let mut conjuncts = Vec::new();
            flatten(Plan::Join(j), 0, &mut inputs, &mut conjuncts);
            rebuild(inputs, conjuncts)
        }
        Plan::Join(j) => Plan::Join(Join {
            kind: j.kind,
            left: Box::new(order_joins(*j.left)),
            right: Box::new(order_joins(*j.right)),
            equi: j.equi,
            residual: j.residual,
        }),
        Plan::Get(_) | Plan::Constant(_) => plan,
        Plan::Filter(f) => Plan::Filter(Filter { input: Box::new(order_joins(*f.input)), predicates: f.predicates }),
        Plan::Map(m) => Plan::Map(Map { input: Box::new(order_joins(*m.input)), exprs: m.exprs }),
        Plan::Reduce(r) => Plan::Reduce(Reduce {
            input: Box::new(order_joins(*r.input)),
            group_key: r.group_key,
            aggregates: r.aggregates,
        }),
        Plan::Distinct(d) => Plan::Distinct(Distinct { input: Box::new(order_joins(*d.input)) }),
        Plan::Union(u) => Plan::Union(Union { inputs: u.inputs.into_iter().map(order_joins).collect() }),
        Plan::Negate(n) => Plan::Negate(Negate { input: Box::new(order_joins(*n.input)) }),
        Plan::Threshold(t) => Plan::Threshold(Threshold { input: Box::new(order_joins(*t.input)) }),
        Plan::TopK(t) => Plan::TopK(TopK { input: Box::new(order_joins(*t.input)), ..t }),
    }
}

fn conditions_cannot_fail(j: &Join) -> bool {
    j.equi.iter().all(|(l, r)| !can_error(l) && !can_error(r)) && j.residual.iter().all(|r| !can_error(r))
}

/// Collects the inputs of an inner-join tree (each itself reordered) and its
/// conditions as conjuncts over the concatenated row, starting at column
/// `offset`.
fn flatten(plan: Plan, offset: usize, inputs: &mut Vec<Plan>, conjuncts: &mut Vec<Expr>) {
    match plan {
        Plan::Join(j) if j.kind == JoinKind::Inner && conditions_cannot_fail(&j) => {
            let la = j.left.arity();
            flatten(*j.left, offset, inputs, conjuncts);
            flatten(*j.right, offset + la, inputs, conjuncts);
            for (l, r) in j.equi {
                conjuncts.push(shift_up(l, offset).call_binary(BinaryFunc::Eq, shift_up(r, offset + la)));
            }
            conjuncts.extend(j.residual.into_iter().map(|r| shift_up(r, offset)));
        }
        other => inputs.push(order_joins(other)),
    }
}

/// The inputs (by index) an expression reads, given each input's first
/// column.
fn inputs_of(e: &Expr, starts: &[usize]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    e.visit_columns(&mut |c| {
        out.insert(starts.partition_point(|&s| s <= c) - 1);
    });
    out
}

/// True if `e` is an equality with one side over inputs in `joined` only and
/// the other over input `next` only (both sides reading some column).
fn connects(e: &Expr, starts: &[usize], joined: &BTreeSet<usize>, next: usize) -> bool {
    let Expr::Binary { func: BinaryFunc::Eq, left, right } = e else { return false };
    let (l, r) = (inputs_of(left, starts), inputs_of(right, starts));
    let only_next = |s: &BTreeSet<usize>| s.len() == 1 && s.contains(&next);
    let in_joined = |s: &BTreeSet<usize>| !s.is_empty() && s.is_subset(joined);
    (in_joined(&l) && only_next(&r)) || (in_joined(&r) && only_next(&l))
}

fn rebuild(inputs: Vec<Plan>, conjuncts: Vec<Expr>) -> Plan {
    let arities: Vec<usize> = inputs.iter().map(Plan::arity).collect();
    let mut starts = Vec::with_capacity(inputs.len());
    let mut total = 0;
    for a in &arities {
        starts.push(total);
        total += a;
    }

    // Greedy order.
    let mut order = vec![0];
    let mut joined: BTreeSet<usize> = BTreeSet::from([0]);
    let mut remaining: Vec<usize> = (1..inputs.len()).collect();
    while !remaining.is_empty() {
        let pick =
            remaining.iter().position(|&r| conjuncts.iter().any(|c| connects(c, &starts, &joined, r))).unwrap_or(0);
        let next = remaining.remove(pick);
        order.push(next);
        joined.insert(next);
    }

    // Original column -> column in the new layout.
    let mut new_pos = vec![0; total];
    let mut at = 0;
    for &i in &order {
        for k in 0..arities[i] {
            new_pos[starts[i] + k] = at + k;
        }
        at += arities[i];
    }

    let needs: Vec<BTreeSet<usize>> = conjuncts.iter().map(|c| inputs_of(c, &starts)).collect();
    let mut placed = vec![false; conjuncts.len()];
    let mut slots: Vec<Option<Plan>> = inputs.into_iter().map(Some).collect();
    let mut acc = slots[order[0]].take().expect("each input is used once");
    let mut width = arities[order[0]];
    let mut available = BTreeSet::from([order[0]]);
    for &next in &order[1..] {
        available.insert(next);
        let (mut equi, mut residual) = (Vec::new(), Vec::new());
        for (k, c) in conjuncts.iter().enumerate() {
            if placed[k] || !needs[k].is_subset(&available) {
                continue;
            }
            placed[k] = true;
            let mut c = c.clone();
            c.map_columns(&mut |col| new_pos[col]);
            match as_equi_pair(&c, width) {
                Some(pair) => equi.push(pair),
                None => residual.push(c),
            }
        }
        let right = slots[next].take().expect("each input is used once");
        width += arities[next];
        acc = Plan::Join(Join { kind: JoinKind::Inner, left: Box::new(acc), right: Box::new(right), equi, residual });
    }

    if new_pos.iter().enumerate().all(|(i, &p)| i == p) {
        acc
    } else {
        Plan::Map(Map { input: Box::new(acc), exprs: new_pos.into_iter().map(Expr::Column).collect() })
    }
}
