//! Checks a plan against the runtime's objects before any worker sees it,
//! so rendering never indexes outside a row.

use std::collections::HashMap;

use crate::error::EngineError;
use crate::expr::Expr;
use crate::plan::{ObjectId, Plan};

fn check_exprs<'a>(exprs: impl IntoIterator<Item = &'a Expr>, arity: usize, what: &str) -> Result<(), EngineError> {
    let mut bad = None;
    for e in exprs {
        e.visit_columns(&mut |c| {
            if c >= arity {
                bad = Some(c);
            }
        });
    }
    match bad {
        Some(c) => Err(EngineError::InvalidPlan(format!("{what} reads column #{c} of a {arity}-column input"))),
        None => Ok(()),
    }
}

/// Checks `plan`: every read object exists with the declared arity, every
/// column reference is in range, union inputs and fixed rows have the
/// right arity. `arities` maps each readable object to its arity.
pub(crate) fn validate(plan: &Plan, arities: &HashMap<ObjectId, usize>) -> Result<(), EngineError> {
    match plan {
        Plan::Get(g) => match arities.get(&g.id) {
            None => Err(EngineError::UnknownObject(g.id)),
            Some(&a) if a != g.types.len() => Err(EngineError::InvalidPlan(format!(
                "{} has {a} columns, the plan reads {}",
                g.name,
                g.types.len()
            ))),
            Some(_) => Ok(()),
        },
        Plan::Constant(c) => match c.rows.iter().find(|(r, _)| r.len() != c.arity) {
            Some((r, _)) => Err(EngineError::InvalidPlan(format!("constant row {r:?} is not {} wide", c.arity))),
            None => Ok(()),
        },
        Plan::Filter(f) => {
            validate(&f.input, arities)?;
            check_exprs(&f.predicates, f.input.arity(), "a filter")
        }
        Plan::Map(m) => {
            validate(&m.input, arities)?;
            check_exprs(&m.exprs, m.input.arity(), "a map")
        }
        Plan::Join(j) => {
            validate(&j.left, arities)?;
            validate(&j.right, arities)?;
            check_exprs(j.equi.iter().map(|(l, _)| l), j.left.arity(), "a join key")?;
            check_exprs(j.equi.iter().map(|(_, r)| r), j.right.arity(), "a join key")?;
            check_exprs(&j.residual, j.left.arity() + j.right.arity(), "a join condition")
        }
        Plan::Reduce(r) => {
            validate(&r.input, arities)?;
            check_exprs(&r.group_key, r.input.arity(), "a group key")?;
            check_exprs(r.aggregates.iter().map(|a| &a.expr), r.input.arity(), "an aggregate")
        }
        Plan::Distinct(d) => validate(&d.input, arities),
        Plan::Union(u) => {
            let arity = plan.arity();
            for i in &u.inputs {
                validate(i, arities)?;
                if i.arity() != arity {
                    return Err(EngineError::InvalidPlan(format!(
                        "union of inputs with {arity} and {} columns",
                        i.arity()
                    )));
                }
            }
            Ok(())
        }
        Plan::Negate(n) => validate(&n.input, arities),
        Plan::Threshold(t) => validate(&t.input, arities),
        Plan::TopK(t) => {
            validate(&t.input, arities)?;
            check_exprs(&t.group_key, t.input.arity(), "a top-k group key")?;
            let arity = t.input.arity();
            match t.order.iter().find(|k| k.column >= arity) {
                Some(k) => Err(EngineError::InvalidPlan(format!(
                    "a top-k sorts on column #{} of a {arity}-column input",
                    k.column
                ))),
                None => Ok(()),
            }
        }
    }
}
