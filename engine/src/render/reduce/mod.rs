//! `Reduce`: grouping and aggregation.
//!
//! Aggregates are split by how they are maintained
//! ([`Aggregate::class`](crate::plan::Aggregate::class)):
//!
//! * accumulable ones (`count`, `sum`, `avg`, `bool_and`, `bool_or`, the
//!   variance family) ride in the diff ([`accumulable`]; the variance
//!   states in [`moments`]): O(1) per changed row whatever the group size;
//! * hierarchical ones (`min`, `max`, also with `DISTINCT`, which does not
//!   change them) go through a tree of reductions over hash buckets
//!   ([`hierarchical`]): O(log group) per changed row;
//! * accumulable aggregates with `DISTINCT` first reduce the input to its
//!   distinct (group, value) pairs ([`distinct_agg`]), then accumulate;
//! * `min_repr` aggregates (the displayed member of a group of SQL-equal
//!   values) are chosen together by one reduction over the group's
//!   distinct argument tuples ([`representative`]);
//! * `string_agg` and `array_agg` are recomputed per changed group by one
//!   reduction over the group's distinct argument tuples ([`basic`]):
//!   O(group) per change.
//!
//! When every aggregate is accumulable (or there are none), the totals are
//! finished straight into `group key ++ aggregates` rows: three operators
//! (evaluate, arrange, accumulate-and-finish) and one arrangement in all. Otherwise each class renders to a
//! collection of `(group key, aggregate values)` with exactly one row per
//! existing group; the pieces are joined on the group key (one row per key
//! on each side, so O(1) per change) and assembled into
//! `group key ++ aggregates` in the plan's order.
//!
//! A global reduce (no group key) always has exactly one row: the fixed
//! "empty input" row (`count` 0, other aggregates NULL) is added, and
//! retracted while the group exists.

mod acc_state;
pub(crate) mod accum;
mod accumulable;
mod args;
mod basic;
mod distinct_agg;
mod float_sum;
mod hierarchical;
mod moments;
mod representative;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;
mod total;

use differential_dataflow::AsCollection;
use timely::dataflow::operators::vec::ToStream;

use super::{render, Coll, Context, Rendered, Time};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, AggregateFunc, Diff, Reduce, ReduceClass};
use crate::value::{Row, Value};

/// One class's result: which aggregates (by position in the plan) it
/// computes, and `(group key, their values)` per existing group.
pub(crate) struct Piece<'s> {
    /// Positions of the computed aggregates in the plan's list.
    pub aggregates: Vec<usize>,
    /// One `(group key, values)` row per existing group.
    pub rows: Coll<'s, (Row, Row)>,
}

/// Evaluates the group key and the aggregates' arguments on one row.
pub(crate) fn eval_key_args(group_key: &[Expr], args: &[Expr], row: &[Value]) -> Result<(Row, Vec<Value>), EvalError> {
    let key = args::eval_key(group_key, row)?;
    let mut values = Vec::with_capacity(args.len());
    for e in args {
        values.push(args::eval_ref(e, row)?.into_owned());
    }
    Ok((key, values))
}

/// Renders a reduce.
pub(crate) fn build_reduce<'s>(ctx: &Context<'s>, reduce: &Reduce) -> Result<Rendered<'s>, EngineError> {
    let input = render(ctx, &reduce.input)?;
    let (rows, err) = build_groups(input.ok, &reduce.group_key, &reduce.aggregates)?;
    let mut ok = rows;
    if reduce.group_key.is_empty() {
        let default = Row::new(reduce.aggregates.iter().map(empty_value).collect());
        let fixed: Vec<(Row, Time, Diff)> = if ctx.worker_index == 0 { vec![(default.clone(), 0, 1)] } else { Vec::new() };
        let present = ok.clone().map(move |_| default.clone()).negate();
        ok = ok.concat(fixed.to_stream(ctx.scope).as_collection()).concat(present);
    }
    Ok(Rendered { ok, err: input.err.concat(err) })
}

/// The value of an aggregate over no rows.
fn empty_value(agg: &Aggregate) -> Value {
    match agg.func {
        AggregateFunc::CountStar | AggregateFunc::Count => Value::Int8(0),
        _ => Value::Null,
    }
}

/// Groups `input` and computes `aggregates`: one output row
/// (`key ++ aggregates`) per group with at least one row.
pub(crate) fn build_groups<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
) -> Result<(Coll<'s, Row>, Coll<'s, EvalError>), EngineError> {
    let mut accumulable = Vec::new();
    let mut hierarchical = Vec::new();
    let mut distinct = Vec::new();
    let mut representative = Vec::new();
    let mut basic = Vec::new();
    for (i, agg) in aggregates.iter().enumerate() {
        match (agg.class(), agg.func) {
            (ReduceClass::Accumulable, _) => accumulable.push(i),
            (ReduceClass::Representative, AggregateFunc::MinRepr) => representative.push(i),
            (_, AggregateFunc::Min | AggregateFunc::Max) => hierarchical.push(i),
            (ReduceClass::Basic, AggregateFunc::StringAgg(_) | AggregateFunc::ArrayAgg(_)) => basic.push(i),
            (ReduceClass::Basic, _) => distinct.push(i),
            (ReduceClass::Hierarchical | ReduceClass::Representative, f) => {
                return Err(EngineError::InvalidPlan(format!("{f:?} cannot be maintained as {:?}", agg.class())))
            }
        }
    }

    if hierarchical.is_empty() && distinct.is_empty() && representative.is_empty() && basic.is_empty() {
        return accumulable::build_accumulable_rows(input, group_key, aggregates);
    }

    let mut pieces = Vec::new();
    let mut errs = Vec::new();
    if !accumulable.is_empty() {
        let (piece, err) = accumulable::build_accumulable(input.clone(), group_key, aggregates, accumulable)?;
        pieces.push(piece);
        errs.push(err);
    }
    if !hierarchical.is_empty() {
        let (piece, err) = hierarchical::build_hierarchical(input.clone(), group_key, aggregates, hierarchical);
        pieces.push(piece);
        errs.push(err);
    }
    if !representative.is_empty() {
        let (piece, err) = representative::build_representative(input.clone(), group_key, aggregates, representative);
        pieces.push(piece);
        errs.push(err);
    }
    if !basic.is_empty() {
        let (piece, err) = basic::build_basic(input.clone(), group_key, aggregates, basic);
        pieces.push(piece);
        errs.push(err);
    }
    for i in distinct {
        let (piece, err) = distinct_agg::build_distinct_agg(input.clone(), group_key, aggregates, i)?;
        pieces.push(piece);
        errs.push(err);
    }

    let mut pieces = pieces.into_iter();
    let first = pieces.next().expect("at least one piece");
    let (order, joined) = pieces.fold((first.aggregates, first.rows), |(mut order, rows), piece| {
        order.extend(piece.aggregates);
        let joined = rows.join(piece.rows).map(|(key, (a, b))| (key, a.concat(&b)));
        (order, joined)
    });
    // position of aggregate i in the joined values
    let mut position = vec![0; aggregates.len()];
    for (p, &agg) in order.iter().enumerate() {
        position[agg] = p;
    }
    let ok = joined.map(move |(key, values)| {
        let mut row = Vec::with_capacity(key.len() + position.len());
        row.extend_from_slice(&key);
        row.extend(position.iter().map(|&p| values[p].clone()));
        Row::new(row)
    });
    let mut errs = errs.into_iter();
    let first_err = errs.next().expect("at least one piece");
    let err = errs.fold(first_err, |a, b| a.concat(b));
    Ok((ok, err))
}
