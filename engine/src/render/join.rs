//! `Join`: equi-join on key expressions, residual predicates, left outer.
//!
//! Each side is arranged by its equi-key values (normalised with
//! [`Value::key_normalized`] so `1.0` joins `1.00`; a row with a NULL key
//! never matches). A side that is a plain read of a table or view keyed by
//! columns uses the runtime's shared arrangement of that source by those
//! columns, so many views joining on the same foreign key share one index.
//! Without equi keys every row has the empty key (a cross join).
//!
//! Incremental cost: a change to one side does work proportional to the
//! rows of the other side with the same key. Memory: one arrangement per
//! side that is not shared. Residual predicates run on each produced pair.
//!
//! Left outer join: inner matches plus every left row without a match,
//! padded with NULLs. Without residual predicates the unmatched rows are
//! the left rows whose key is absent from the right (an anti-join against
//! the right's distinct keys); with residual predicates they are the left
//! rows absent from the distinct set of matched left rows. Both are
//! maintained incrementally (O(1) amortised per changed row beyond the
//! inner join's own work).

use differential_dataflow::operators::arrange::{Arranged, TraceAgent};

use super::{render, split_results, Coll, Context, ImportedKeyed, KeyedSpine, Rendered};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::{Diff, Join, JoinKind, ObjectId, Plan};
use crate::value::{Row, Value};

/// One side of a join, arranged by key.
enum KeyedSide<'s> {
    /// Arranged inside this dataflow.
    Local(Arranged<'s, TraceAgent<KeyedSpine>>),
    /// Imported from the runtime's shared arrangements.
    Shared(ImportedKeyed<'s>),
}

/// If `plan` reads a source directly and every key is a column, the shared
/// arrangement it can use: `(source, key columns)`.
pub(crate) fn shared_key_columns(plan: &Plan, keys: &[Expr]) -> Option<(ObjectId, Vec<usize>)> {
    let Plan::Get(g) = plan else { return None };
    let columns = keys
        .iter()
        .map(|k| match k {
            Expr::Column(c) if *c < g.types.len() => Some(*c),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((g.id, columns))
}

/// Every shared arrangement rendering `plan` will import.
pub(crate) fn shared_arrangements(plan: &Plan) -> Vec<(ObjectId, Vec<usize>)> {
    let mut out = Vec::new();
    plan.visit(&mut |p| {
        if let Plan::Join(j) = p {
            let (left, right): (Vec<Expr>, Vec<Expr>) = j.equi.iter().cloned().unzip();
            if j.kind == JoinKind::Inner {
                out.extend(shared_key_columns(&j.left, &left));
            }
            out.extend(shared_key_columns(&j.right, &right));
        }
    });
    out.sort();
    out.dedup();
    out
}

/// The key of a row: `Ok(None)` when a key value is NULL.
pub(crate) fn eval_key(keys: &[Expr], row: &[Value]) -> Result<Option<Row>, EvalError> {
    let mut values = Vec::with_capacity(keys.len());
    for k in keys {
        let v = k.eval(row)?;
        if v.is_null() {
            return Ok(None);
        }
        values.push(v.key_normalized());
    }
    Ok(Some(Row::new(values)))
}

/// The key of a row from key columns: `None` when a key value is NULL.
pub(crate) fn column_key(columns: &[usize], row: &Row) -> Option<Row> {
    let mut values = Vec::with_capacity(columns.len());
    for &c in columns {
        let v = &row[c];
        if v.is_null() {
            return None;
        }
        values.push(v.key_normalized());
    }
    Some(Row::new(values))
}

/// A side's rows keyed: `(key, row)` for non-NULL keys, rows with a NULL
/// key, and errors.
struct Keyed<'s> {
    keyed: Coll<'s, (Row, Row)>,
    null_keyed: Coll<'s, Row>,
    err: Coll<'s, EvalError>,
}

fn key_rows<'s>(ctx: &Context<'s>, plan: &Plan, keys: &[Expr]) -> Result<Keyed<'s>, EngineError> {
    let input = render(ctx, plan)?;
    let keys = keys.to_vec();
    let results = input.ok.map(move |row| eval_key(&keys, &row).map(|k| (k, row)));
    let (ok, err) = split_results(results);
    let keyed = ok.clone().flat_map(|(k, r)| k.map(|k| (k, r)));
    let null_keyed = ok.flat_map(|(k, r)| if k.is_none() { Some(r) } else { None });
    Ok(Keyed { keyed, null_keyed, err: input.err.concat(err) })
}

/// A side arranged by key, shared when possible.
fn keyed_side<'s>(
    ctx: &Context<'s>,
    plan: &Plan,
    keys: &[Expr],
) -> Result<(KeyedSide<'s>, Coll<'s, EvalError>), EngineError> {
    if let Some(shared) = shared_key_columns(plan, keys).and_then(|k| ctx.shared.get(&k)) {
        let Plan::Get(g) = plan else { unreachable!("shared sides are reads") };
        let source = ctx.sources.get(&g.id).ok_or(EngineError::UnknownObject(g.id))?;
        return Ok((KeyedSide::Shared(shared.clone()), source.err.clone()));
    }
    let side = key_rows(ctx, plan, keys)?;
    Ok((KeyedSide::Local(side.keyed.arrange_by_key()), side.err))
}

macro_rules! join_sides {
    ($left:expr, $right:expr, $logic:expr) => {
        match ($left, $right) {
            (KeyedSide::Local(l), KeyedSide::Local(r)) => l.join_core(r, $logic),
            (KeyedSide::Local(l), KeyedSide::Shared(r)) => l.join_core(r, $logic),
            (KeyedSide::Shared(l), KeyedSide::Local(r)) => l.join_core(r, $logic),
            (KeyedSide::Shared(l), KeyedSide::Shared(r)) => l.join_core(r, $logic),
        }
    };
}

/// The distinct keys of a side.
fn side_keys<'s>(side: &KeyedSide<'s>) -> Coll<'s, Row> {
    let keys = match side {
        KeyedSide::Local(a) => a.clone().as_collection(|k: &Row, _v: &Row| k.clone()),
        KeyedSide::Shared(a) => a.clone().as_collection(|k: &Row, _v: &Row| k.clone()),
    };
    keys.threshold(|_k, c: &Diff| if *c > 0 { 1 } else { 0 })
}

/// Renders a join.
pub(crate) fn build_join<'s>(ctx: &Context<'s>, join: &Join) -> Result<Rendered<'s>, EngineError> {
    let (left_keys, right_keys): (Vec<Expr>, Vec<Expr>) = join.equi.iter().cloned().unzip();
    let left_arity = join.left.arity();
    let right_arity = join.right.arity();
    let (right, right_err) = keyed_side(ctx, &join.right, &right_keys)?;

    let (left, left_err, left_rows) = match join.kind {
        JoinKind::Inner => {
            let (side, err) = keyed_side(ctx, &join.left, &left_keys)?;
            (side, err, None)
        }
        JoinKind::LeftOuter => {
            let side = key_rows(ctx, &join.left, &left_keys)?;
            let arranged = side.keyed.clone().arrange_by_key();
            (KeyedSide::Local(arranged), side.err, Some((side.keyed, side.null_keyed)))
        }
    };

    let right_distinct_keys = match (&left_rows, join.residual.is_empty()) {
        (Some(_), true) => Some(side_keys(&right)),
        _ => None,
    };

    let pairs = join_sides!(left, right, |_k: &Row, l: &Row, r: &Row| Some(l.concat(r)));
    let (matched, residual_err) = if join.residual.is_empty() {
        (pairs, None)
    } else {
        let residual = join.residual.clone();
        let results = pairs.flat_map(move |row| {
            for p in &residual {
                match p.eval_predicate(&row) {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => return Some(Err(e)),
                }
            }
            Some(Ok(row))
        });
        let (ok, err) = split_results(results);
        (ok, Some(err))
    };

    let mut err = left_err.concat(right_err);
    if let Some(e) = residual_err {
        err = err.concat(e);
    }

    let ok = match left_rows {
        None => matched,
        Some((left_keyed, left_null_keyed)) => {
            let unmatched = match right_distinct_keys {
                Some(keys) => left_keyed.antijoin(keys).map(|(_k, row)| row),
                None => {
                    let matched_left = matched
                        .clone()
                        .map(move |row| Row::new(row[..left_arity].to_vec()))
                        .threshold(|_r, c: &Diff| if *c > 0 { 1 } else { 0 });
                    left_keyed.map(|(_k, row)| (row, ())).antijoin(matched_left).map(|(row, ())| row)
                }
            };
            let padded = unmatched.concat(left_null_keyed).map(move |row| {
                let mut values = row.to_vec();
                values.extend(std::iter::repeat_n(Value::Null, right_arity));
                Row::new(values)
            });
            matched.concat(padded)
        }
    };
    Ok(Rendered { ok, err })
}
