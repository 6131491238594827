//! `Join` full outer: the left outer join's rows, plus every right row that
//! matched nothing, with NULLs for the left columns.
//!
//! Both sides are keyed by their equi-key values (normalised, as for the
//! other joins) in arrangements local to the view: a full join needs each
//! side's rows with a NULL key too (they appear padded), which a source's
//! shared arrangement by key does not hold. Rows with a NULL key never
//! match; they stay out of the arrangements used for matching.
//!
//! Without residual predicates a row is unmatched exactly when its key is
//! absent from the other side: each side's distinct keys are maintained
//! by a count per key (`threshold_total`, reporting a key only when it
//! appears or disappears), and the unmatched rows of a side are all its
//! rows padded, less those whose key is present on the other side (a join
//! of the side's arrangement with the other side's distinct keys). With
//! residual predicates the unmatched rows of a side are its rows absent
//! from the distinct set of its rows among the matched pairs.
//!
//! Incremental cost: a change to one side does work proportional to the
//! rows of the other side with the same key (the matched pairs), plus
//! O(1) amortised to maintain which rows are unmatched: when a key appears
//! on one side or its last row leaves it, every row of the other side
//! with that key changes between matched and padded. Memory: one
//! arrangement of each side by key and one of each side's distinct keys
//! (with residuals: one of each side's rows and one of each side's
//! distinct matched rows instead of the key sets). Without equi keys
//! (`FULL JOIN … ON a.x < b.y`) every row has the same empty key: the
//! join is a cross product, and a change to one side costs work
//! proportional to the whole other side. A residual that is never true
//! (`ON false`) pairs nothing: every row is padded, nothing is arranged.

use differential_dataflow::operators::ThresholdTotal;

use super::{
    distinct_keys, finish, key_rows, run, side_columns, split_results, Context, EngineError, Errs, EvalError, Expr,
    Join, KeyedSide, Output, Rendered, Row, SidePlan, Step, Value,
};
use crate::plan::optimize::can_error;
use crate::plan::Diff;

/// Renders a full outer join with the `Filter`/`Map` chain `steps` above
/// it fused into its output.
pub(super) fn build_full_join<'s>(ctx: &Context<'s>, join: &Join, steps: &[Step]) -> Result<Rendered<'s>, EngineError> {
    let (left_keys, right_keys): (Vec<Expr>, Vec<Expr>) = join.equi.iter().cloned().unzip();
    let left = key_rows(ctx, &SidePlan::new(&join.left, &left_keys), true)?;
    let right = key_rows(ctx, &SidePlan::new(&join.right, &right_keys), true)?;
    let (left_arity, right_arity) = (join.left.arity(), join.right.arity());
    let left_columns = side_columns(left.columns, left_arity);
    let right_columns = side_columns(right.columns, right_arity);
    let inputs_err = left.err.concat(right.err);

    // A right row with NULLs for the left columns, through the whole chain.
    let pad_right_columns = right_columns.clone();
    let steps_all = steps.to_vec();
    let right_padded = move |r: &Row| -> Option<Result<Row, EvalError>> {
        let values: Row = std::iter::repeat_n(Value::Null, left_arity)
            .chain(pad_right_columns.iter().map(|&c| r[c].clone()))
            .collect();
        run(&steps_all, values)
    };

    // The conditions before the first one that can fail.
    let mut safe = join.residual.iter().take_while(|r| !can_error(r));
    if safe.any(|r| matches!(r, Expr::Literal(Value::Bool(false) | Value::Null))) {
        // `ON false`: nothing matches, every row of both sides is padded
        // (no pairs are formed, so nothing is arranged; no condition that
        // could fail would have run before it).
        let output = Output::new(&left_columns, &right_columns, &[], steps);
        let can_fail = output.can_fail() || steps.iter().any(Step::can_fail);
        let left_all = left.keyed.flat_map(move |(_k, l)| output.emit(&l, None));
        let right_all = right.keyed.flat_map(move |(_k, r)| right_padded(&r));
        let (ok, err) = finish(left_all.concat(right_all), can_fail);
        return Ok(Rendered { ok, err: inputs_err.concat(err) });
    }

    let has_no_null = |(k, _): &(Row, Row)| !k.iter().any(Value::is_null);
    let left_arranged = left.keyed.clone().filter(has_no_null).arrange_by_key();
    let right_arranged = right.keyed.clone().filter(has_no_null).arrange_by_key();

    if join.residual.is_empty() {
        let output = Output::new(&left_columns, &right_columns, &[], steps);
        let can_fail = output.can_fail() || steps.iter().any(Step::can_fail);
        let present_right = distinct_keys(&KeyedSide::Local(right_arranged.clone()), false);
        let present_left = distinct_keys(&KeyedSide::Local(left_arranged.clone()), false);

        let pair_output = output.clone();
        let pairs = left_arranged
            .clone()
            .join_core(right_arranged.clone(), move |_k: &Row, l: &Row, r: &Row| pair_output.emit(l, Some(r)));
        // Every left row padded, less those whose key is on the right.
        let pad_output = output.clone();
        let left_all = left.keyed.flat_map(move |(_k, l)| pad_output.emit(&l, None));
        let left_matched =
            left_arranged.join_core(present_right, move |_k: &Row, l: &Row, _: &()| output.emit(l, None));
        // Every right row padded, less those whose key is on the left.
        let pad = right_padded.clone();
        let right_all = right.keyed.flat_map(move |(_k, r)| pad(&r));
        let right_matched = right_arranged.join_core(present_left, move |_k: &Row, r: &Row, _: &()| right_padded(r));

        let all = pairs.concat(left_all).concat(left_matched.negate()).concat(right_all).concat(right_matched.negate());
        let (ok, err) = finish(all, can_fail);
        return Ok(Rendered { ok, err: inputs_err.concat(err) });
    }

    // Matched pairs as concatenated rows, filtered by the residual.
    let concat = Output::new(&left_columns, &right_columns, &join.residual, &[]);
    let can_fail = concat.can_fail();
    let pairs = left_arranged.join_core(right_arranged, move |_k: &Row, l: &Row, r: &Row| concat.emit(l, Some(r)));
    let (matched, residual_err) = finish(pairs, can_fail);
    let distinct = |c: &Diff| if *c > 0 { 1 } else { 0 };
    let matched_left = matched
        .clone()
        .map(move |row| Row::new(row[..left_arity].to_vec()))
        .threshold_total(move |_r, c: &Diff| distinct(c));
    let matched_right = matched
        .clone()
        .map(move |row| Row::new(row[left_arity..].to_vec()))
        .threshold_total(move |_r, c: &Diff| distinct(c));
    let unmatched_left = left
        .keyed
        .map(move |(_k, l)| (left_columns.iter().map(|&c| l[c].clone()).collect::<Row>(), ()))
        .antijoin(matched_left)
        .map(|(row, ())| row);
    let unmatched_right = right
        .keyed
        .map(move |(_k, r)| (right_columns.iter().map(|&c| r[c].clone()).collect::<Row>(), ()))
        .antijoin(matched_right)
        .map(|(row, ())| row);
    let padded_left = unmatched_left.map(move |row| {
        let mut values = row.to_vec();
        values.extend(std::iter::repeat_n(Value::Null, right_arity));
        Row::new(values)
    });
    let padded_right = unmatched_right.map(move |row| {
        let mut values = vec![Value::Null; left_arity];
        values.extend(row.iter().cloned());
        Row::new(values)
    });
    let all = matched.concat(padded_left).concat(padded_right);
    let steps = steps.to_vec();
    let (ok, steps_err) = if steps.iter().any(Step::can_fail) {
        let (ok, err) = split_results(all.flat_map(move |row| run(&steps, row)));
        (ok, Errs::from(err))
    } else if steps.is_empty() {
        (all, Errs::none())
    } else {
        (all.flat_map(move |row| run(&steps, row).and_then(Result::ok)), Errs::none())
    };
    Ok(Rendered { ok, err: inputs_err.concat(residual_err).concat(steps_err) })
}
