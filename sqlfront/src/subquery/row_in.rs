//! Row-form `(a, b, …) IN (SELECT x, y, …)` (and `NOT IN`, `= ANY`,
//! `<> ALL`) where some operand or subquery value may be NULL, with
//! PostgreSQL's three-valued semantics: a row comparison `(a, b) = (x, y)`
//! is FALSE when some pair is unequal (both non-NULL), NULL when no pair
//! is unequal but some pair has a NULL, TRUE when all pairs are equal; `IN`
//! is TRUE if some subquery row compares TRUE, else NULL if some row
//! compares NULL, else FALSE.
//!
//! A row compares TRUE or NULL when it *agrees* with the operand: equal at
//! every position where both are non-NULL. Which positions those are
//! depends on where the operand is NULL (`Q`) and where the subquery row
//! is (`P`), so the subquery's rows are split by their NULL positions:
//! for each pair (`Q`, `P`) the operands with NULLs exactly at `Q` join
//! the distinct projections of the rows with NULLs exactly at `P` on the
//! remaining positions (and the correlation keys). The operands are `D`,
//! the distinct (correlation keys, operands) of the enclosing rows; the
//! matches, with a flag for (`Q`, `P`) = (∅, ∅) (all equal: TRUE), are
//! reduced per operand to "TRUE" or "NULL" and left-joined back onto the
//! enclosing rows, where no match is FALSE. Positions where neither side
//! can be NULL are always compared, so only positions that can be NULL
//! multiply the joins (at most 3^m for m such positions; rejected above
//! 27).
//!
//! Incremental cost: a change to the subquery's rows updates the
//! projections it belongs to and their join partners in `D`; a change to
//! an enclosing row updates `D`, its matches and the join back. Memory:
//! `D`, the projections and each join's arrangements, the per-operand
//! reduction, and the join back.

use freshet_engine::expr::{Expr, UnaryFunc};
use freshet_engine::plan::{Aggregate, AggregateFunc, Distinct, Join, JoinKind, Map, Plan, Reduce, Union};
use freshet_engine::value::{DataType, Value};

use super::decorrelate::{distinct_values, narrow, Keyed};
use super::exprs::{equality_key, filtered, if_then, lit, may_error};
use crate::error::{Result, SqlError};

/// The most (`Q`, `P`) combinations one comparison may need.
const MAX_COMBINATIONS: usize = 27;

/// Joins onto `plan` what `lhs IN (subquery)` needs and returns its value
/// (TRUE, NULL or FALSE). `k` is the decorrelated subquery, `rhs` its
/// compared values over `k.plan`'s row, `types` the comparison types;
/// `lhs_nullable` and `rhs_nullable` tell which positions may be NULL.
pub(super) fn row_in(
    k: &Keyed,
    plan: Plan,
    lhs: &[Expr],
    lhs_nullable: &[bool],
    rhs: &[Expr],
    rhs_nullable: &[bool],
    types: &[DataType],
) -> Result<(Plan, Expr)> {
    let n = lhs.len();
    let nk = k.outer_keys.len();
    let mask = |flags: &[bool]| (0..n).filter(|&i| flags[i]).fold(0u32, |m, i| m | 1 << i);
    let (ln, rn) = (mask(lhs_nullable), mask(rhs_nullable));
    let mut combinations = Vec::new();
    for q in subsets(ln) {
        for p in subsets(rn & !q) {
            combinations.push((q, p));
        }
    }
    if combinations.len() > MAX_COMBINATIONS {
        return Err(SqlError::unsupported(
            "row comparisons with IN (subquery) needing more than 27 joins for their NULL positions",
            None,
        ));
    }
    // D: the distinct (correlation keys, operands), from the one input of
    // the enclosing joins holding them when nothing here can fail.
    let mut values = k.outer_keys.clone();
    values.extend(lhs.iter().cloned());
    let d = if values.iter().any(may_error) { None } else { narrow(&plan, &values, Vec::new(), false) }
        .unwrap_or_else(|| distinct_values(plan.clone(), values));
    let has = |m: u32, i: usize| m & (1 << i) != 0;
    let null_test = |e: Expr, null: bool| e.call_unary(if null { UnaryFunc::IsNull } else { UnaryFunc::IsNotNull });
    let mut matches = Vec::with_capacity(combinations.len());
    for (q, p) in combinations {
        let operands = filtered(
            d.clone(),
            (0..n).filter(|&i| has(ln, i)).map(|i| null_test(Expr::Column(nk + i), has(q, i))).collect(),
        );
        let compared: Vec<usize> = (0..n).filter(|&i| !has(q, i) && !has(p, i)).collect();
        // The subquery rows with NULLs exactly at `p` (among the positions
        // the operand has), projected on the compared positions.
        let rows = filtered(
            k.plan.clone(),
            (0..n).filter(|&i| has(rn, i) && !has(q, i)).map(|i| null_test(rhs[i].clone(), has(p, i))).collect(),
        );
        let mut cols = k.inner_keys.clone();
        cols.extend(compared.iter().map(|&i| equality_key(rhs[i].clone(), Some(types[i]))));
        let rows = Plan::Distinct(Distinct { input: Box::new(Plan::Map(Map { input: Box::new(rows), exprs: cols })) });
        let mut equi: Vec<(Expr, Expr)> = (0..nk).map(|j| (Expr::Column(j), Expr::Column(j))).collect();
        equi.extend(compared.iter().enumerate().map(|(x, &i)| (Expr::Column(nk + i), Expr::Column(nk + x))));
        let joined = Plan::Join(Join {
            kind: JoinKind::Inner,
            left: Box::new(operands),
            right: Box::new(rows),
            equi,
            residual: Vec::new(),
        });
        let mut exprs: Vec<Expr> = (0..nk + n).map(Expr::Column).collect();
        exprs.push(lit(Value::Bool(q == 0 && p == 0)));
        matches.push(Plan::Map(Map { input: Box::new(joined), exprs }));
    }
    // Per operand: whether some row is all equal (TRUE) or only agrees
    // (NULL).
    let columns = |r: std::ops::Range<usize>| r.map(Expr::Column).collect::<Vec<_>>();
    let d_keys = key(&columns(0..nk), &columns(nk..nk + n), lhs_nullable);
    let width = d_keys.len();
    let per_operand = Plan::Reduce(Reduce {
        input: Box::new(Plan::Union(Union { inputs: matches })),
        group_key: d_keys,
        aggregates: vec![Aggregate {
            func: AggregateFunc::BoolOr,
            expr: Expr::Column(nk + n),
            input_type: DataType::Bool,
            distinct: false,
        }],
    });
    let main_keys = key(&k.outer_keys, lhs, lhs_nullable);
    let base = plan.arity();
    let joined = Plan::Join(Join {
        kind: JoinKind::LeftOuter,
        left: Box::new(plan),
        right: Box::new(per_operand),
        equi: main_keys.into_iter().zip((0..width).map(Expr::Column)).collect(),
        residual: Vec::new(),
    });
    let all_equal = Expr::Column(base + width);
    let value = if_then(
        all_equal.clone().call_unary(UnaryFunc::IsNotNull),
        if_then(all_equal, lit(Value::Bool(true)), lit(Value::Null)),
        lit(Value::Bool(false)),
    );
    Ok((joined, value))
}

/// The join key of an operand: the correlation keys, then each operand
/// value, a value that may be NULL as (is NULL, value or FALSE) so that a
/// NULL operand finds its own row. Normalised as join keys are, so that
/// one row of the per-operand reduction matches each operand.
fn key(outer: &[Expr], lhs: &[Expr], lhs_nullable: &[bool]) -> Vec<Expr> {
    let normal = |e: &Expr| e.clone().call_unary(UnaryFunc::KeyNormalize);
    let mut keys: Vec<Expr> = outer.iter().map(normal).collect();
    for (i, e) in lhs.iter().enumerate() {
        let value = normal(e);
        if lhs_nullable[i] {
            let null = e.clone().call_unary(UnaryFunc::IsNull);
            keys.push(null.clone());
            keys.push(if_then(null, lit(Value::Bool(false)), value));
        } else {
            keys.push(value);
        }
    }
    keys
}

/// Every subset of the bits of `m`.
fn subsets(m: u32) -> impl Iterator<Item = u32> {
    (0..=m).filter(move |s| s & !m == 0)
}
