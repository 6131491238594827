//! Conjuncts implied by an `OR` over several join inputs.
//!
//! `(n1.name = 'FRANCE' AND n2.name = 'GERMANY') OR (n1.name = 'GERMANY'
//! AND n2.name = 'FRANCE')` (TPC-H Q7) reads two join inputs, so it can
//! only be checked on joined rows. But each alternative restricts
//! `n1.name`, so the `OR` implies `n1.name = 'FRANCE' OR n1.name =
//! 'GERMANY'`, which reads one input: added to the filter, it moves into
//! that input (by push-down) and shrinks it before the join. The original
//! `OR` stays.
//!
//! For each column the `OR` reads, the implied conjunct is the `OR`, over
//! the alternatives, of the `AND` of each alternative's conjuncts that
//! read that column only; it exists when every alternative has one. When
//! the `OR` is true some alternative is, so its conjuncts on the column
//! are, so the implied conjunct is true: adding it changes no result. Only
//! `OR`s that cannot fail are used (their parts cannot fail either), and
//! only in a `Filter` directly over an inner join whose inputs the `OR`
//! spans (over one input it would only repeat work). Applied once, before
//! the other rewrites (which then move the `OR` into the join).

use std::collections::BTreeSet;

use super::eager::map_children;
use super::expr::{can_error, columns};
use crate::expr::{Expr, VariadicFunc};
use crate::plan::{Filter, JoinKind, Plan};

/// Adds the implied conjuncts throughout the plan.
pub(crate) fn add_implied(plan: Plan) -> Plan {
    let plan = map_children(plan, &mut add_implied);
    match plan {
        Plan::Filter(f) if matches!(&*f.input, Plan::Join(j) if j.kind == JoinKind::Inner) => {
            let mut starts = Vec::new();
            input_starts(&f.input, 0, &mut starts);
            let mut predicates = f.predicates;
            let mut added = Vec::new();
            for p in &predicates {
                for implied in implied_by(p, &starts) {
                    if !predicates.contains(&implied) && !added.contains(&implied) {
                        added.push(implied);
                    }
                }
            }
            predicates.extend(added);
            Plan::Filter(Filter { input: f.input, predicates })
        }
        p => p,
    }
}

/// The first column of each input of an inner-join tree.
fn input_starts(plan: &Plan, offset: usize, out: &mut Vec<usize>) {
    match plan {
        Plan::Join(j) if j.kind == JoinKind::Inner => {
            input_starts(&j.left, offset, out);
            input_starts(&j.right, offset + j.left.arity(), out);
        }
        _ => out.push(offset),
    }
}

/// The one-column conjuncts `p` implies, when `p` is an `OR` that cannot
/// fail and reads more than one input.
fn implied_by(p: &Expr, starts: &[usize]) -> Vec<Expr> {
    let Expr::Variadic { func: VariadicFunc::Or, args } = p else { return Vec::new() };
    if can_error(p) {
        return Vec::new();
    }
    let cols = columns(p);
    let inputs: BTreeSet<usize> = cols.iter().map(|&c| starts.partition_point(|&s| s <= c) - 1).collect();
    if inputs.len() < 2 {
        return Vec::new();
    }
    let alternatives: Vec<Vec<Expr>> = args.iter().map(conjuncts).collect();
    let mut out = Vec::new();
    for &c in &cols {
        let mut parts: Vec<Expr> = Vec::with_capacity(alternatives.len());
        let mut every = true;
        for alt in &alternatives {
            let mut on_c: Vec<Expr> = alt.iter().filter(|e| columns(e) == BTreeSet::from([c])).cloned().collect();
            let part = match on_c.len() {
                0 => {
                    every = false;
                    break;
                }
                1 => on_c.pop().expect("one conjunct"),
                _ => Expr::Variadic { func: VariadicFunc::And, args: on_c },
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        if every {
            out.push(match parts.len() {
                1 => parts.pop().expect("one alternative"),
                _ => Expr::Variadic { func: VariadicFunc::Or, args: parts },
            });
        }
    }
    out
}

/// `e`'s top-level `AND`s flattened.
fn conjuncts(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Variadic { func: VariadicFunc::And, args } => args.iter().flat_map(conjuncts).collect(),
        e => vec![e.clone()],
    }
}
