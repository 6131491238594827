//! Lifting a table's filters above a join so that the join reads the
//! table's shared arrangement.
//!
//! A join input that reads a table keyed by plain columns uses the
//! runtime's arrangement of that table by those columns, shared by every
//! join of every view keyed the same way. A filtered table (`Filter` over
//! the table, under a projection of its columns) is arranged inside the
//! view instead, once per occurrence: when a plan reads the same table by
//! the same key several times (an `EXISTS` decorrelated from the rows of
//! the enclosing join, and a semi-join's copy of those rows, repeat the
//! enclosing join), each filtered occurrence builds an arrangement of its
//! own. When the table is read by the same key columns at least twice in
//! the plan, a filtered occurrence whose join partner is estimated no
//! larger than it instead reads the table itself and its filter moves
//! onto the join's output (with the columns it reads kept until then), so
//! the occurrences share one arrangement. (Against a larger partner the
//! unfiltered join would produce many rows only to drop them.)
//!
//! Exact: an inner join's output rows from a filtered input are the output
//! rows of the unfiltered input whose columns from that input pass the
//! filter. Only inner joins are changed (an outer join's padding depends
//! on which rows exist; its left input never reads a shared arrangement).
//! The filter then runs on the joined rows, which are rows it
//! ran on before (repeated, or fewer): only filters that cannot fail are
//! lifted, and only off joins whose residual cannot fail (it would run on
//! the rows the filter used to remove).
//!
//! Cost: the join produces the rows the filter would have removed before
//! the filter removes them; in exchange the table is arranged once for
//! all its occurrences.

use std::collections::BTreeMap;

use super::eager::{map_children, SourceKeys};
use super::estimate;
use super::expr::{can_error, columns};
use crate::expr::Expr;
use crate::plan::{Filter, Join, JoinKind, Map, ObjectId, Plan};

/// Lifts the filters of tables read by the same key at least twice.
pub(crate) fn lift_shared_filters(plan: Plan, keys: &SourceKeys) -> Plan {
    let mut counts = BTreeMap::new();
    plan.visit(&mut |p| {
        if let Plan::Join(j) = p {
            for (side, keys) in sides(j) {
                if let Some(t) = table_side(side, &keys) {
                    *counts.entry((t.id, t.key)).or_insert(0usize) += 1;
                }
            }
        }
    });
    lift(plan, &counts, keys)
}

/// The join's inputs that read a shared arrangement when they are tables,
/// with their key expressions.
fn sides(j: &Join) -> Vec<(&Plan, Vec<Expr>)> {
    let mut out = Vec::new();
    if j.kind == JoinKind::Inner {
        out.push((&*j.left, j.equi.iter().map(|(l, _)| l.clone()).collect()));
    }
    if j.kind != JoinKind::FullOuter {
        out.push((&*j.right, j.equi.iter().map(|(_, r)| r.clone()).collect()));
    }
    out
}

/// A join input reading one table: optionally projected, optionally
/// filtered.
struct TableSide {
    id: ObjectId,
    /// The key as the table's columns.
    key: Vec<usize>,
    /// The input's column `i` is the table's column `columns[i]`.
    columns: Vec<usize>,
    /// The filter's conjuncts, over the table's row.
    predicates: Vec<Expr>,
    /// The table itself.
    get: Plan,
}

fn table_side(plan: &Plan, keys: &[Expr]) -> Option<TableSide> {
    let (inner, columns) = match plan {
        Plan::Map(m) => {
            let columns: Option<Vec<usize>> =
                m.exprs.iter().map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect();
            (&*m.input, Some(columns?))
        }
        p => (p, None),
    };
    let (get, predicates) = match inner {
        Plan::Filter(f) => (&*f.input, f.predicates.clone()),
        p => (p, Vec::new()),
    };
    let Plan::Get(g) = get else { return None };
    let columns = columns.unwrap_or_else(|| (0..g.types.len()).collect());
    let key = keys
        .iter()
        .map(|k| if let Expr::Column(c) = k { Some(columns[*c]) } else { None })
        .collect::<Option<Vec<usize>>>()?;
    Some(TableSide { id: g.id, key, columns, predicates, get: get.clone() })
}

fn lift(plan: Plan, counts: &BTreeMap<(ObjectId, Vec<usize>), usize>, keys: &SourceKeys) -> Plan {
    let plan = map_children(plan, &mut |p| lift(p, counts, keys));
    let Plan::Join(j) = plan else { return plan };
    // A residual that can fail would run on the rows the filter removed.
    if j.kind != JoinKind::Inner || j.equi.is_empty() || j.residual.iter().any(can_error) {
        return Plan::Join(j);
    }
    let liftable = |side: &Plan, other: &Plan, key: Vec<Expr>| -> Option<TableSide> {
        let t = table_side(side, &key)?;
        let shared = counts.get(&(t.id, t.key.clone())).copied().unwrap_or(0) >= 2;
        let cheap = estimate::size(other, keys) <= estimate::size(side, keys);
        (shared && cheap && !t.predicates.is_empty() && !t.predicates.iter().any(can_error)).then_some(t)
    };
    let left = liftable(&j.left, &j.right, j.equi.iter().map(|(l, _)| l.clone()).collect());
    let right = liftable(&j.right, &j.left, j.equi.iter().map(|(_, r)| r.clone()).collect());
    if left.is_none() && right.is_none() {
        return Plan::Join(j);
    }
    let (la, ra) = (j.left.arity(), j.right.arity());
    // Each side unfiltered, with the filter's columns appended; the
    // filters over the widened join row.
    let mut predicates = Vec::new();
    let widen = |t: Option<TableSide>, plan: Plan, offset: usize, predicates: &mut Vec<Expr>| -> (Plan, usize) {
        let Some(t) = t else {
            let width = plan.arity();
            return (plan, width);
        };
        let mut cols = t.columns.clone();
        for p in &t.predicates {
            for c in columns(p) {
                if !cols.contains(&c) {
                    cols.push(c);
                }
            }
        }
        for p in t.predicates {
            let mut p = p;
            p.map_columns(&mut |c| offset + cols.iter().position(|&x| x == c).expect("a kept column"));
            predicates.push(p);
        }
        let width = cols.len();
        (Plan::Map(Map { input: Box::new(t.get), exprs: cols.into_iter().map(Expr::Column).collect() }), width)
    };
    let (new_left, lw) = widen(left, *j.left, 0, &mut predicates);
    let right_start = lw;
    let (new_right, _) = widen(right, *j.right, right_start, &mut predicates);
    // The join's own residuals read the original layout: left columns
    // stay, right columns move by the left's extra columns.
    let shift = lw - la;
    let residual = j
        .residual
        .into_iter()
        .map(|mut r| {
            r.map_columns(&mut |c| if c < la { c } else { c + shift });
            r
        })
        .collect();
    let joined =
        Plan::Join(Join { kind: j.kind, left: Box::new(new_left), right: Box::new(new_right), equi: j.equi, residual });
    let filtered = Plan::Filter(Filter { input: Box::new(joined), predicates });
    let exprs = (0..la).chain((0..ra).map(|c| right_start + c)).map(Expr::Column).collect();
    Plan::Map(Map { input: Box::new(filtered), exprs })
}
