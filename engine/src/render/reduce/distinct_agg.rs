//! `count`/`sum`/`avg` with `DISTINCT`.
//!
//! The input is first reduced to its distinct `(group key, value)` pairs,
//! where values equal under SQL comparison are one value (`1.0` and `1.00`
//! are the same; the representation kept is the least in the total
//! order). A NULL value is kept as a pair too, so a group whose values are
//! all NULL still exists. The distinct pairs are then aggregated as a
//! plain accumulable aggregate (which ignores the NULL).
//!
//! Incremental cost: a changed row re-examines the rows sharing its
//! (group, value) pair, then O(1) accumulator work when the distinct set
//! changes. Memory: an arrangement of the input by (group, value).

use super::accumulable::build_accumulable;
use super::{eval_key_args, Piece};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, Diff};
use crate::render::{split_results, Coll};
use crate::value::Row;

/// Renders the `DISTINCT` aggregate at position `which`.
pub(crate) fn build_distinct_agg<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
    which: usize,
) -> Result<(Piece<'s>, Coll<'s, EvalError>), EngineError> {
    let agg = &aggregates[which];
    let width = group_key.len();
    let key_exprs = group_key.to_vec();
    let arg = agg.expr.clone();
    let pairs = input.map(move |row| {
        let (key, mut values) = eval_key_args(&key_exprs, std::slice::from_ref(&arg), &row)?;
        let value = values.pop().expect("one argument");
        let mut normalized = key.to_vec();
        normalized.push(value.key_normalized());
        Ok((Row::new(normalized), Row::new(vec![value])))
    });
    let (pairs, err) = split_results(pairs);
    let distinct = pairs
        .reduce(|_key, values: &[(&Row, Diff)], output: &mut Vec<(Row, Diff)>| {
            if let Some((first, _)) = values.iter().find(|(_, c)| *c > 0) {
                output.push(((*first).clone(), 1));
            }
        })
        .map(move |(key, value)| {
            let mut row = key[..width].to_vec();
            row.push(value[0].clone());
            Row::new(row)
        });
    let plain = Aggregate { expr: Expr::Column(width), distinct: false, ..agg.clone() };
    let keys: Vec<Expr> = (0..width).map(Expr::Column).collect();
    let (piece, finish_err) = build_accumulable(distinct, &keys, &[plain], vec![0])?;
    Ok((Piece { aggregates: vec![which], rows: piece.rows }, err.concat(finish_err)))
}
