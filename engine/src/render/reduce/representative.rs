//! `min_repr`: the least member, in the total order, of the argument values
//! of a group.
//!
//! All `min_repr` aggregates of a reduce are computed together (see
//! [`AggregateFunc::MinRepr`](crate::plan::AggregateFunc::MinRepr)): each
//! input row contributes the tuple of its `min_repr` arguments, and one
//! `reduce` keyed by the group key keeps, per group, the least tuple
//! present (positive multiplicity) in `Row`'s total order. Its values are
//! therefore the arguments of one input row.
//!
//! Incremental cost: a changed row re-examines the *distinct* argument
//! tuples of its group, with their multiplicities consolidated by the
//! arrangement. When the group key is the normalized value and the
//! arguments are the values themselves, those tuples are the few
//! representations of one SQL value (`1.0`, `1.00`), whatever the number of
//! rows in the group. Deleting the current representative promotes the
//! next least tuple. Memory: one arrangement of the distinct
//! `(group key, tuple)` pairs.

use super::{eval_key_args, Piece};
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, Diff};
use crate::render::{split_results, Coll};
use crate::value::Row;

/// Renders the `min_repr` aggregates at positions `which`.
pub(crate) fn build_representative<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
    which: Vec<usize>,
) -> (Piece<'s>, Coll<'s, EvalError>) {
    let group_key = group_key.to_vec();
    let args: Vec<Expr> = which.iter().map(|&i| aggregates[i].expr.clone()).collect();
    let tuples = input.map(move |row| {
        let (key, values) = eval_key_args(&group_key, &args, &row)?;
        Ok((key, Row::new(values)))
    });
    let (tuples, err) = split_results(tuples);
    let rows = tuples.reduce(|_key, input: &[(&Row, Diff)], output: &mut Vec<(Row, Diff)>| {
        // `input` is sorted by value: the first present tuple is the least.
        if let Some((least, _)) = input.iter().find(|(_, count)| *count > 0) {
            output.push(((*least).clone(), 1));
        }
    });
    (Piece { aggregates: which, rows }, err)
}
