//! Projection push-down: join inputs and join outputs carry only the
//! columns later operators read.
//!
//! Each node is rewritten knowing which of its output columns its parent
//! reads (all of them at the root). A `Join` asks each input only for the
//! columns read above it, by its residual conditions and by its equi keys,
//! and wraps an input that still has other columns (a `Get`, say) in a
//! projecting `Map`; the join's output, if it still has columns nobody
//! above reads (equi-key columns, say), gets a projecting `Map` too, which
//! rendering fuses into the join. A `Map` drops the expressions nobody
//! reads. Nothing else narrows its output: elsewhere a projection would
//! cost a pass over the rows and save nothing, so `Reduce`, `Filter` and
//! `Negate` pass their needs down, and `Distinct`, `Threshold`, `Union`
//! and `TopK` (whose results depend on every column: a top-k breaks ties
//! between rows by the whole row) ask for all columns.
//!
//! Dropping an expression nobody reads can only remove evaluations, hence
//! failures, never add any. A `Filter` never stays above a projecting
//! `Map` (it moves below it, as predicate push-down would move it), so the
//! result is a fixpoint of the other rewrites.

use std::collections::BTreeSet;

use super::expr::substitute;
use crate::expr::Expr;
use crate::plan::{Aggregate, Distinct, Filter, Join, Map, Negate, Plan, Reduce, Threshold, TopK, Union};

/// For each column of a node before the rewrite, its position after it
/// (`None`: dropped, nobody reads it).
type Remap = Vec<Option<usize>>;

/// Narrows join inputs and outputs throughout `plan`; the plan's own
/// columns are unchanged.
pub(crate) fn project(plan: Plan) -> Plan {
    let arity = plan.arity();
    let (plan, remap) = narrow(plan, &(0..arity).collect());
    if remap.iter().enumerate().all(|(i, r)| *r == Some(i)) && plan.arity() == arity {
        plan
    } else {
        // Every column is read at the root, so nothing was dropped; only
        // restore the order.
        let exprs = remap.iter().map(|r| Expr::Column(r.expect("the root reads every column"))).collect();
        Plan::Map(Map { input: Box::new(plan), exprs })
    }
}

fn identity(arity: usize) -> Remap {
    (0..arity).map(Some).collect()
}

fn all(arity: usize) -> BTreeSet<usize> {
    (0..arity).collect()
}

fn add_columns(e: &Expr, set: &mut BTreeSet<usize>) {
    e.visit_columns(&mut |c| {
        set.insert(c);
    });
}

fn remapped(mut e: Expr, remap: &Remap) -> Expr {
    e.map_columns(&mut |c| remap[c].expect("a read column is kept"));
    e
}

/// `plan` rewritten so that it produces at least the columns in `demand`
/// (possibly others), with where each old column went.
fn narrow(plan: Plan, demand: &BTreeSet<usize>) -> (Plan, Remap) {
    match plan {
        Plan::Get(_) | Plan::Constant(_) => {
            let arity = plan.arity();
            (plan, identity(arity))
        }
        Plan::Map(m) => {
            let keep: Vec<usize> = (0..m.exprs.len()).filter(|i| demand.contains(i)).collect();
            let mut needs = BTreeSet::new();
            for &i in &keep {
                add_columns(&m.exprs[i], &mut needs);
            }
            let (input, inner) = narrow(*m.input, &needs);
            let mut remap = vec![None; m.exprs.len()];
            let mut exprs = Vec::with_capacity(keep.len());
            for (at, &i) in keep.iter().enumerate() {
                remap[i] = Some(at);
                exprs.push(remapped(m.exprs[i].clone(), &inner));
            }
            (Plan::Map(Map { input: Box::new(input), exprs }), remap)
        }
        Plan::Filter(f) => {
            let mut needs = demand.clone();
            f.predicates.iter().for_each(|p| add_columns(p, &mut needs));
            let (input, remap) = narrow(*f.input, &needs);
            let predicates: Vec<Expr> = f.predicates.into_iter().map(|p| remapped(p, &remap)).collect();
            match input {
                // Below a projection, as push-down would place it; the
                // projection then keeps only the columns read above.
                Plan::Map(m) if m.exprs.iter().all(|e| matches!(e, Expr::Column(_))) => {
                    let predicates = predicates.iter().map(|p| substitute(p, &m.exprs)).collect();
                    let filter = Plan::Filter(Filter { input: m.input, predicates });
                    let mut out = vec![None; remap.len()];
                    let mut exprs = Vec::with_capacity(demand.len());
                    for (at, &c) in demand.iter().enumerate() {
                        out[c] = Some(at);
                        exprs.push(m.exprs[remap[c].expect("a read column is kept")].clone());
                    }
                    (Plan::Map(Map { input: Box::new(filter), exprs }), out)
                }
                input => (Plan::Filter(Filter { input: Box::new(input), predicates }), remap),
            }
        }
        Plan::Join(j) => narrow_join(j, demand),
        Plan::Reduce(r) => {
            let arity = r.group_key.len() + r.aggregates.len();
            let mut needs = BTreeSet::new();
            r.group_key.iter().for_each(|k| add_columns(k, &mut needs));
            r.aggregates.iter().for_each(|a| add_columns(&a.expr, &mut needs));
            let (input, inner) = narrow(*r.input, &needs);
            let reduce = Reduce {
                input: Box::new(input),
                group_key: r.group_key.into_iter().map(|k| remapped(k, &inner)).collect(),
                aggregates: r
                    .aggregates
                    .into_iter()
                    .map(|a| Aggregate { expr: remapped(a.expr, &inner), ..a })
                    .collect(),
            };
            (Plan::Reduce(reduce), identity(arity))
        }
        Plan::Distinct(d) => {
            let arity = d.input.arity();
            let input = narrow_fully(*d.input);
            (Plan::Distinct(Distinct { input: Box::new(input) }), identity(arity))
        }
        Plan::Threshold(t) => {
            let arity = t.input.arity();
            let input = narrow_fully(*t.input);
            (Plan::Threshold(Threshold { input: Box::new(input) }), identity(arity))
        }
        Plan::Union(u) => {
            let arity = u.inputs.first().map_or(0, Plan::arity);
            let inputs = u.inputs.into_iter().map(narrow_fully).collect();
            (Plan::Union(Union { inputs }), identity(arity))
        }
        Plan::TopK(t) => {
            let arity = t.input.arity();
            let input = narrow_fully(*t.input);
            (Plan::TopK(TopK { input: Box::new(input), ..t }), identity(arity))
        }
        Plan::Negate(n) => {
            let (input, remap) = narrow(*n.input, demand);
            (Plan::Negate(Negate { input: Box::new(input) }), remap)
        }
    }
}

/// `plan` rewritten with every column read: same columns, same order.
fn narrow_fully(plan: Plan) -> Plan {
    let arity = plan.arity();
    let (plan, remap) = narrow(plan, &all(arity));
    exactly(plan, remap, &all(arity)).0
}

/// `plan` (rewritten, with `remap`) projected to exactly the columns in
/// `demand`, in order, unless it already has no other column.
fn exactly(plan: Plan, remap: Remap, demand: &BTreeSet<usize>) -> (Plan, Remap) {
    let in_order = demand.iter().enumerate().all(|(i, &c)| remap[c] == Some(i));
    if in_order && plan.arity() == demand.len() {
        return (plan, remap);
    }
    let mut out = vec![None; remap.len()];
    let mut exprs = Vec::with_capacity(demand.len());
    for (at, &c) in demand.iter().enumerate() {
        out[c] = Some(at);
        exprs.push(Expr::Column(remap[c].expect("a demanded column is kept")));
    }
    (Plan::Map(Map { input: Box::new(plan), exprs }), out)
}

fn narrow_join(j: Join, demand: &BTreeSet<usize>) -> (Plan, Remap) {
    let la = j.left.arity();
    let ra = j.right.arity();
    let mut needs = demand.clone();
    j.residual.iter().for_each(|r| add_columns(r, &mut needs));
    let mut left_needs: BTreeSet<usize> = needs.iter().copied().filter(|&c| c < la).collect();
    let mut right_needs: BTreeSet<usize> = needs.iter().filter(|&&c| c >= la).map(|&c| c - la).collect();
    for (l, r) in &j.equi {
        add_columns(l, &mut left_needs);
        add_columns(r, &mut right_needs);
    }
    let (left, left_remap) = narrow(*j.left, &left_needs);
    let (left, left_remap) = exactly(left, left_remap, &left_needs);
    let (right, right_remap) = narrow(*j.right, &right_needs);
    let (right, right_remap) = exactly(right, right_remap, &right_needs);
    let new_la = left.arity();
    let remap: Remap =
        left_remap.iter().copied().chain(right_remap.iter().map(|r| r.map(|c| c + new_la))).collect();
    debug_assert_eq!(remap.len(), la + ra);
    let join = Plan::Join(Join {
        kind: j.kind,
        left: Box::new(left),
        right: Box::new(right),
        equi: j.equi.into_iter().map(|(l, r)| (remapped(l, &left_remap), remapped(r, &right_remap))).collect(),
        residual: j.residual.into_iter().map(|r| remapped(r, &remap)).collect(),
    });
    exactly(join, remap, demand)
}
