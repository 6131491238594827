//! `Filter` and `Map`, fused.
//!
//! A chain of adjacent `Filter` and `Map` nodes renders as one `flat_map`
//! pass that evaluates the whole chain on each row: a row either leaves as
//! a new row, is dropped by a predicate, or leaves as the first evaluation
//! error it raised (into the error collection). The pass reads a source's
//! arranged batches directly when the chain sits on a `Get`, and is fused
//! into a join's output when it sits on a `Join` (the joined row is then
//! never materialised just to be projected). A chain none of whose
//! expressions can fail builds no error operator. Stateless: O(1) per
//! change, no memory.

use super::{join, render, split_results, Context, Rendered};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::optimize::can_error;
use crate::plan::Plan;
use crate::value::Row;

/// One step of a fused chain.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Keep rows for which every predicate is true.
    Filter(Vec<Expr>),
    /// Replace the row by the values of the expressions.
    Map(Vec<Expr>),
}

impl Step {
    /// True if evaluating this step can fail on some row.
    pub(crate) fn can_fail(&self) -> bool {
        match self {
            Step::Filter(es) | Step::Map(es) => es.iter().any(can_error),
        }
    }
}

/// Renders the chain of `Filter`/`Map` nodes starting at `plan`.
pub(crate) fn build_map_filter<'s>(ctx: &Context<'s>, plan: &Plan) -> Result<Rendered<'s>, EngineError> {
    let mut steps = Vec::new();
    let mut node = plan;
    loop {
        match node {
            Plan::Filter(f) => {
                steps.push(Step::Filter(f.predicates.clone()));
                node = &f.input;
            }
            Plan::Map(m) => {
                steps.push(Step::Map(m.exprs.clone()));
                node = &m.input;
            }
            _ => break,
        }
    }
    steps.reverse();
    let can_fail = steps.iter().any(Step::can_fail);
    match node {
        Plan::Join(j) => join::build_join(ctx, j, &steps),
        Plan::Get(g) => {
            let source = ctx.sources.get(&g.id).ok_or(EngineError::UnknownObject(g.id))?;
            if can_fail {
                let (ok, err) = split_results(source.flat_map(move |row| run(&steps, row.clone()))?);
                Ok(Rendered { ok, err: source.err.clone().concat(err) })
            } else {
                let ok = source.flat_map(move |row| run(&steps, row.clone()).and_then(Result::ok))?;
                Ok(Rendered { ok, err: source.err.clone() })
            }
        }
        _ => {
            let input = render(ctx, node)?;
            if can_fail {
                let (ok, err) = split_results(input.ok.flat_map(move |row| run(&steps, row)));
                Ok(Rendered { ok, err: input.err.concat(err) })
            } else {
                let ok = input.ok.flat_map(move |row| run(&steps, row).and_then(Result::ok));
                Ok(Rendered { ok, err: input.err })
            }
        }
    }
}

/// Runs the chain on one row: `None` if a predicate drops it.
pub(crate) fn run(steps: &[Step], mut row: Row) -> Option<Result<Row, EvalError>> {
    for step in steps {
        match step {
            Step::Filter(predicates) => {
                for p in predicates {
                    match p.eval_predicate(&row) {
                        Ok(true) => {}
                        Ok(false) => return None,
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
            Step::Map(exprs) => match exprs.iter().map(|e| e.eval(&row)).collect::<Result<Row, EvalError>>() {
                Ok(r) => row = r,
                Err(e) => return Some(Err(e)),
            },
        }
    }
    Some(Ok(row))
}

