//! Left joins below the comparison with a scalar.
//!
//! ```text
//! Join left equi=[l = r]                  Map (A's, B's, R's columns in the old order)
//!   Map (plain columns)                     Join inner residual=[θ]
//!     Join inner residual=[θ]        ⟶        Join left equi=[l = r]
//!       A                                       A
//!       Reduce key=[] aggs=[…]  (B)             R
//!   R                                         Reduce key=[] aggs=[…]  (B)
//! ```
//!
//! A scalar subquery compared with the rows of `A` (TPC-H Q22's
//! `c_acctbal > (SELECT avg(c_acctbal) …)`, Q11's share of a total) is a
//! join of `A` with the one row of a global aggregate, `θ` its residual.
//! The aggregate changes with almost every transaction, and the join then
//! re-emits every row of `A` it keeps (old value out, new value in). A
//! left join above it (a `NOT EXISTS` or `NOT IN`, decorrelated) then
//! processes all those rows again. Below the scalar join, the left join
//! reads `A`, which changes only where `A` changes, and the filter of an
//! anti-join (`IS NULL` on `R`'s columns, above) is pushed down with it,
//! so the scalar join re-emits only the rows that survive it.
//!
//! Why it is exact: `(A ⋈θ B) ⟕ R = (A ⟕ R) ⋈θ B` when the left join's
//! condition reads only `A` and `R` (here: equalities, no residual), and
//! `θ` reads only `A` and `B`: every `a` is matched with the same `R` rows
//! (or padded) whichever `B` row it meets. The key expressions then run
//! on every row of `A`, not only those `θ` keeps, so they must not be able
//! to fail; `θ` runs on the same pairs as before.

use super::eager::map_children;
use super::expr::{can_error, columns, substitute};
use crate::expr::Expr;
use crate::plan::{Join, JoinKind, Map, Plan};

/// Applies the rewrite wherever it fits, bottom up.
pub(crate) fn lower_left_joins(plan: Plan) -> Plan {
    let plan = map_children(plan, &mut lower_left_joins);
    match plan {
        Plan::Join(j) => match rewrite(&j) {
            Some(p) => p,
            None => Plan::Join(j),
        },
        other => other,
    }
}

/// True for a relation of at most one row: a global aggregate.
fn one_row(plan: &Plan) -> bool {
    matches!(plan, Plan::Reduce(r) if r.group_key.is_empty())
}

fn rewrite(j: &Join) -> Option<Plan> {
    if j.kind != JoinKind::LeftOuter || j.equi.is_empty() || !j.residual.is_empty() {
        return None;
    }
    // The left input: the scalar join, under a projection of its columns.
    let (projection, inner) = match &*j.left {
        Plan::Map(m) => (Some(&m.exprs), &*m.input),
        other => (None, other),
    };
    let Plan::Join(ij) = inner else { return None };
    if ij.kind != JoinKind::Inner || !ij.equi.is_empty() || !one_row(&ij.right) || one_row(&ij.left) {
        return None;
    }
    let a = ij.left.arity();
    let b = ij.right.arity();
    // The scalar join's columns the left join's left input holds.
    let left_columns: Vec<usize> = match projection {
        Some(exprs) => {
            exprs.iter().map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect::<Option<_>>()?
        }
        None => (0..a + b).collect(),
    };
    let r = j.right.arity();
    // The left keys over the scalar join's row: reading only A, infallible.
    let mut equi = Vec::with_capacity(j.equi.len());
    for (l, rk) in &j.equi {
        let l = match projection {
            Some(exprs) => substitute(l, exprs),
            None => l.clone(),
        };
        if can_error(&l) || columns(&l).iter().any(|&c| c >= a) {
            return None;
        }
        equi.push((l, rk.clone()));
    }
    // A column of the scalar join's row in the new row [A, R, B].
    let moved = |c: usize| if c < a { c } else { c + r };
    let residual = ij
        .residual
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.map_columns(&mut |c| moved(c));
            e
        })
        .collect();
    let below = Plan::Join(Join {
        kind: JoinKind::Inner,
        left: Box::new(Plan::Join(Join {
            kind: JoinKind::LeftOuter,
            left: ij.left.clone(),
            right: j.right.clone(),
            equi,
            residual: Vec::new(),
        })),
        right: ij.right.clone(),
        equi: Vec::new(),
        residual,
    });
    let exprs = left_columns.into_iter().map(moved).chain(a..a + r).map(Expr::Column).collect();
    Some(Plan::Map(Map { input: Box::new(below), exprs }))
}
