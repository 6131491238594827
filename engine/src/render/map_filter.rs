//! `Filter` and `Map`, fused.
//!
//! A chain of adjacent `Filter` and `Map` nodes renders as one `flat_map`
//! pass that evaluates the whole chain on each row: a row either leaves as
//! a new row, is dropped by a predicate, or leaves as the first evaluation
//! error it raised (into the error collection). Stateless: O(1) per
//! change, no memory.

use super::{render, split_results, Context, Rendered};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::Plan;
use crate::value::{Row, Value};

/// One step of a fused chain.
#[derive(Clone, Debug)]
enum Step {
    /// Keep rows for which every predicate is true.
    Filter(Vec<Expr>),
    /// Replace the row by the values of the expressions.
    Map(Vec<Expr>),
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
    let input = render(ctx, node)?;
    let results = input.ok.flat_map(move |row| run(&steps, row));
    let (ok, err) = split_results(results);
    Ok(Rendered { ok, err: input.err.concat(err) })
}

/// Runs the chain on one row: `None` if a predicate drops it.
fn run(steps: &[Step], mut row: Row) -> Option<Result<Row, EvalError>> {
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
            Step::Map(exprs) => {
                let values: Result<Vec<Value>, EvalError> = exprs.iter().map(|e| e.eval(&row)).collect();
                match values {
                    Ok(v) => row = Row::new(v),
                    Err(e) => return Some(Err(e)),
                }
            }
        }
    }
    Some(Ok(row))
}

