//! Subqueries in the ON condition of an outer join (`LEFT`, `RIGHT`,
//! `FULL`). The condition decides which pairs match, not which rows
//! survive, so it cannot become a filter above the join (as an inner
//! join's does). A subquery reading the columns of one input only is a
//! value of that input's rows: it is attached to that input (joined on as
//! in WHERE, see [`super::attach`]), and the join's condition reads the
//! value as a column of the extended input. An uncorrelated subquery goes
//! with the right input. A subquery reading both inputs would need the
//! pairs the condition is deciding about, and is rejected.
//!
//! Incremental cost: that of the subquery attached to the input's plan
//! (its joins and reductions), plus the join's arrangement of the wider
//! rows.

use freshet_engine::expr::Expr;
use freshet_engine::plan::Plan;

use super::exprs::{is_placeholder, map_row_columns, replace_placeholders};
use super::{attach_list, Kind, Level, Pending, SUBQ_BASE};
use crate::error::{Position, Result, SqlError};

/// The inputs of an outer join with the subqueries of its condition
/// attached: `left` and `right` are the inputs with `left_extra` and
/// `right_extra` columns appended, `cond` the condition over the
/// concatenated extended rows (from column 0), placeholders replaced.
pub(crate) struct Inputs {
    /// The left input, extended.
    pub left: Plan,
    /// The right input, extended.
    pub right: Plan,
    /// The join condition over the extended rows.
    pub cond: Expr,
    /// Columns appended to the left input.
    pub left_extra: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Free,
}

/// Attaches `level`'s pending subqueries (bound in `cond`, an ON
/// condition over FROM-row columns whose left input starts at `base` and
/// right input at `split`) to the input each reads.
pub(crate) fn attach_to_inputs(
    level: &Level<'_>,
    left: Plan,
    right: Plan,
    cond: Expr,
    base: usize,
    split: usize,
    pos: Option<Position>,
) -> Result<Inputs> {
    let pending = std::mem::take(&mut *level.pending.borrow_mut());
    let mut sides = Vec::with_capacity(pending.len());
    for p in &pending {
        let mut cols = Vec::new();
        let mut note = |e: &Expr| e.visit_columns(&mut |c| if c < SUBQ_BASE { cols.push(c) });
        p.params.iter().for_each(|param| note(&param.expr));
        if let Kind::Compare { lhs, .. } = &p.kind {
            lhs.iter().for_each(&mut note);
        }
        let side = if cols.is_empty() {
            Side::Free
        } else if cols.iter().all(|&c| c < split) {
            Side::Left
        } else if cols.iter().all(|&c| c >= split) {
            Side::Right
        } else {
            return Err(both_sides(p.pos.or(pos)));
        };
        sides.push(side);
    }
    // A subquery in another's operand goes with that one (operands refer
    // only to subqueries bound before them).
    for i in (0..pending.len()).rev() {
        for j in operand_subqueries(&pending, i) {
            match (sides[i], sides[j]) {
                (a, b) if a == b => {}
                (a, Side::Free) => sides[j] = a,
                (Side::Free, b) => sides[i] = b,
                _ => return Err(both_sides(pending[i].pos.or(pos))),
            }
        }
    }
    let (mut on_left, mut on_right) = (Vec::new(), Vec::new());
    for (p, side) in pending.into_iter().zip(sides) {
        if side == Side::Left {
            on_left.push(p);
        } else {
            on_right.push(p);
        }
    }
    let la = split - base;
    let ra = right.arity();
    let fix_left = |e: &mut Expr| *e = map_row_columns(e, &mut |c| c - base);
    let fix_right = |e: &mut Expr| *e = map_row_columns(e, &mut |c| c - split);
    let (left, left_values) = attach_list(on_left, left, &[], &fix_left)?;
    let (right, right_values) = attach_list(on_right, right, &[], &fix_right)?;
    let left_extra = left.arity() - la;
    let right_start = la + left_extra;
    debug_assert!(right.arity() >= ra);
    let mut values = left_values;
    values.extend(right_values.into_iter().map(|(id, v)| (id, map_row_columns(&v, &mut |c| c + right_start))));
    let cond = map_row_columns(&cond, &mut |c| if c < split { c - base } else { c - split + right_start });
    let cond = replace_placeholders(&cond, &values);
    Ok(Inputs { left, right, cond, left_extra })
}

/// The indexes in `pending` of the subqueries whose placeholders occur in
/// the operands of `pending[i]`.
fn operand_subqueries(pending: &[Pending], i: usize) -> Vec<usize> {
    let mut found = Vec::new();
    if let Kind::Compare { lhs, .. } = &pending[i].kind {
        for e in lhs {
            e.visit_columns(&mut |c| {
                if is_placeholder(c) {
                    if let Some(j) = pending.iter().position(|p| p.id == c - SUBQ_BASE) {
                        found.push(j);
                    }
                }
            });
        }
    }
    found
}

fn both_sides(pos: Option<Position>) -> SqlError {
    SqlError::unsupported("a subquery in an outer join's ON condition reading columns of both its sides", pos)
}
