//! Accumulable aggregates (`count`, `sum`, `avg`) carried in the diff.
//!
//! Each input row becomes `(group key, accumulator)` where the accumulator
//! ([`Accum`]) is the row's contribution, multiplied by the row's
//! multiplicity (`explode`); `count_total` then keeps one accumulated
//! value per group and emits, per changed group, the retraction of its old
//! total and its new total. Work per changed row: O(1) accumulator
//! additions, independent of the group's size. Memory: one accumulator per
//! group. A group whose row count reaches zero disappears.

use differential_dataflow::operators::CountTotal;

use super::accum::{AccKind, AccState, Accum};
use super::{eval_key_args, Piece};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, Diff};
use crate::render::{split_results, Coll};
use crate::value::Row;

/// Renders the accumulable aggregates at positions `which` (possibly none:
/// then the piece only tracks which groups exist).
pub(crate) fn build_accumulable<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
    which: Vec<usize>,
) -> Result<(Piece<'s>, Coll<'s, EvalError>), EngineError> {
    let kinds = which
        .iter()
        .map(|&i| AccKind::of(&aggregates[i]).map_err(EngineError::InvalidPlan))
        .collect::<Result<Vec<_>, _>>()?;
    let group_key = group_key.to_vec();
    let args: Vec<Expr> = which.iter().map(|&i| aggregates[i].expr.clone()).collect();
    let finishers: Vec<Aggregate> = which.iter().map(|&i| aggregates[i].clone()).collect();

    let contributions = input.map(move |row| {
        let args: Vec<&Expr> = args.iter().collect();
        let (key, values) = eval_key_args(&group_key, &args, &row)?;
        let states = kinds
            .iter()
            .zip(&values)
            .map(|(k, v)| k.contribution(v).map_err(EvalError::Other))
            .collect::<Result<Vec<AccState>, _>>()?;
        Ok((key, Accum { rows: 1, states }))
    });
    let (contributions, err) = split_results(contributions);
    let totals = contributions
        .explode(|(key, accum)| Some((key, accum)))
        .count_total_core::<Diff>();
    let results = totals.flat_map(move |(key, accum)| {
        if accum.rows <= 0 {
            return None;
        }
        let values = if accum.states.is_empty() {
            finishers.iter().map(|_| unreachable_empty()).collect::<Result<Vec<_>, _>>()
        } else {
            finishers
                .iter()
                .zip(&accum.states)
                .map(|(agg, state)| state.finish(agg.func, agg.input_type, accum.rows))
                .collect::<Result<Vec<_>, _>>()
        };
        Some(values.map(|v| (key, Row::new(v))))
    });
    let (rows, finish_err) = split_results(results);
    Ok((Piece { aggregates: which, rows }, err.concat(finish_err)))
}

/// A group with rows always carries one state per aggregate.
fn unreachable_empty() -> Result<crate::value::Value, EvalError> {
    Err(EvalError::Other("internal error: accumulator without states".into()))
}
