//! `Join`: equi-join on key expressions, residual predicates, left outer.
//!
//! Each side is arranged by its equi-key values (normalised with
//! [`Value::key_normalized`] so `1.0` joins `1.00`; a row with a NULL key
//! never matches). A side that is a plain read of a table or view keyed by
//! columns uses the runtime's shared arrangement of that source by those
//! columns, so many views joining on the same foreign key share one index.
//! Without equi keys every row has the empty key (a cross join).
//!
//! A side that projects a source's columns (`Map (#0, #3)` over a `Get`,
//! as projection push-down leaves it) keeps the source's rows in its
//! arrangement, shared with the source's own arrangement, and the
//! projection is applied when output rows are built. The `Filter`/`Map`
//! chain above a join (if any) is fused into the join's output: when it
//! starts with a projection, each output row is built directly from the
//! two matched rows, in one allocation.
//!
//! Incremental cost: a change to one side does work proportional to the
//! rows of the other side with the same key. Memory: one arrangement per
//! side that is not shared. Residual predicates run on each produced pair.
//!
//! Left outer join: inner matches plus every left row without a match,
//! padded with NULLs. Without residual predicates the unmatched rows are
//! all left rows, less those whose key occurs on the right: the right's
//! distinct keys are maintained by a count per key (`threshold_total`,
//! which reports a key only when it appears or disappears; a right side
//! with at most one row per key, such as a grouped `Reduce` on the join
//! key, has its keys arranged as they are) and joined with the left
//! side's existing arrangement, so a right row updated in place pads
//! nothing again. Left rows with a NULL key stay in
//! that arrangement under their NULL key, which never occurs on the right.
//! With residual predicates the unmatched rows are the left rows absent
//! from the distinct set of matched left rows. Both are maintained
//! incrementally (O(1) amortised per changed row beyond the inner join's
//! own work).

#[path = "join_full.rs"]
mod full;

use differential_dataflow::operators::arrange::{Arranged, TraceAgent};
use differential_dataflow::operators::ThresholdTotal;

use super::map_filter::run;
use super::{render, split_results, Coll, Context, Errs, ImportedKeyed, KeyedSpine, Rendered, Step};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::optimize::can_error;
use crate::plan::{Diff, Join, JoinKind, ObjectId, Plan};
use crate::value::{Row, Value};

/// One side of a join, arranged by key.
#[derive(Clone)]
enum KeyedSide<'s> {
    /// Arranged inside this dataflow.
    Local(Arranged<'s, TraceAgent<KeyedSpine>>),
    /// Imported from the runtime's shared arrangements.
    Shared(ImportedKeyed<'s>),
}

/// A join input as rendering sees it: the plan whose rows are arranged,
/// and which of their columns make the input's row.
struct SidePlan<'a> {
    /// The plan whose rows are keyed.
    base: &'a Plan,
    /// The input's column `i` is the base row's column `columns[i]`
    /// (`None`: the base row is the input's row).
    columns: Option<Vec<usize>>,
    /// The input's key expressions, over the base row.
    keys: Vec<Expr>,
}

impl<'a> SidePlan<'a> {
    /// Resolves a join input with its key expressions.
    fn new(plan: &'a Plan, keys: &[Expr]) -> SidePlan<'a> {
        if let Plan::Map(m) = plan {
            let columns: Option<Vec<usize>> =
                m.exprs.iter().map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect();
            if let Some(columns) = columns {
                let keys = keys
                    .iter()
                    .map(|k| {
                        let mut k = k.clone();
                        k.map_columns(&mut |c| columns[c]);
                        k
                    })
                    .collect();
                return SidePlan { base: &m.input, columns: Some(columns), keys };
            }
        }
        SidePlan { base: plan, columns: None, keys: keys.to_vec() }
    }

    /// True if the base rows are a source's own rows (shared, not copied),
    /// so arranging them whole costs no more than arranging a projection.
    fn rows_are_shared(&self) -> bool {
        let mut node = self.base;
        loop {
            match node {
                Plan::Get(_) => return true,
                Plan::Filter(f) => node = &f.input,
                _ => return false,
            }
        }
    }

    /// The shared arrangement this side can use: `(source, key columns)`.
    fn shared_key(&self) -> Option<(ObjectId, Vec<usize>)> {
        let Plan::Get(g) = self.base else { return None };
        let columns = self
            .keys
            .iter()
            .map(|k| match k {
                Expr::Column(c) if *c < g.types.len() => Some(*c),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some((g.id, columns))
    }
}

/// Every shared arrangement rendering `plan` will import.
pub(crate) fn shared_arrangements(plan: &Plan) -> Vec<(ObjectId, Vec<usize>)> {
    let mut out = Vec::new();
    plan.visit(&mut |p| {
        if let Plan::Join(j) = p {
            let (left, right): (Vec<Expr>, Vec<Expr>) = j.equi.iter().cloned().unzip();
            if j.kind == JoinKind::Inner {
                out.extend(SidePlan::new(&j.left, &left).shared_key());
            }
            if j.kind != JoinKind::FullOuter {
                out.extend(SidePlan::new(&j.right, &right).shared_key());
            }
        }
    });
    out.sort();
    out.dedup();
    out
}

/// The sources rendering `plan` reads directly, in first-read order: all
/// it reads, less those read only through shared arrangements (when
/// `shared` ones are available).
pub(crate) fn direct_sources(plan: &Plan, shared: bool) -> Vec<ObjectId> {
    fn visit(plan: &Plan, shared: bool, out: &mut Vec<ObjectId>) {
        match plan {
            Plan::Get(g) => {
                if !out.contains(&g.id) {
                    out.push(g.id);
                }
            }
            Plan::Join(j) if shared => {
                let (left, right): (Vec<Expr>, Vec<Expr>) = j.equi.iter().cloned().unzip();
                let left_shared = j.kind == JoinKind::Inner && SidePlan::new(&j.left, &left).shared_key().is_some();
                if !left_shared {
                    visit(&j.left, shared, out);
                }
                if j.kind == JoinKind::FullOuter || SidePlan::new(&j.right, &right).shared_key().is_none() {
                    visit(&j.right, shared, out);
                }
            }
            Plan::Constant(_) => {}
            Plan::Filter(x) => visit(&x.input, shared, out),
            Plan::Map(x) => visit(&x.input, shared, out),
            Plan::Join(x) => {
                visit(&x.left, shared, out);
                visit(&x.right, shared, out);
            }
            Plan::Reduce(x) => visit(&x.input, shared, out),
            Plan::Distinct(x) => visit(&x.input, shared, out),
            Plan::Union(x) => x.inputs.iter().for_each(|i| visit(i, shared, out)),
            Plan::Negate(x) => visit(&x.input, shared, out),
            Plan::Threshold(x) => visit(&x.input, shared, out),
            Plan::TopK(x) => visit(&x.input, shared, out),
        }
    }
    let mut out = Vec::new();
    visit(plan, shared, &mut out);
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

/// The key of a row with NULL key values kept (such a key matches no row
/// of a side that drops them).
fn eval_key_with_nulls(keys: &[Expr], row: &[Value]) -> Result<Row, EvalError> {
    keys.iter().map(|k| k.eval(row).map(|v| v.key_normalized())).collect()
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

/// A side's rows keyed: `(key, value row)`, where the value row is the
/// base row when its rows are shared and the input's row otherwise.
struct Keyed<'s> {
    keyed: Coll<'s, (Row, Row)>,
    /// The input's column `i` is the value row's column `columns[i]`.
    columns: Option<Vec<usize>>,
    err: Errs<'s>,
}

/// Keys the rows of `side`; rows with a NULL key are dropped unless
/// `keep_null_keys`.
fn key_rows<'s>(ctx: &Context<'s>, side: &SidePlan<'_>, keep_null_keys: bool) -> Result<Keyed<'s>, EngineError> {
    let keys = side.keys.clone();
    let can_fail = keys.iter().any(can_error);
    let (columns, project) = match (&side.columns, side.rows_are_shared()) {
        (Some(c), true) => (Some(c.clone()), None),
        (Some(c), false) => (None, Some(c.clone())),
        (None, _) => (None, None),
    };
    let logic = move |row: &Row| -> Option<Result<(Row, Row), EvalError>> {
        let key = if keep_null_keys {
            eval_key_with_nulls(&keys, row).map(Some)
        } else {
            eval_key(&keys, row)
        };
        match key {
            Ok(Some(k)) => Some(Ok((k, project.as_ref().map_or_else(|| row.clone(), |p| row.project(p))))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    };
    let (results, input_err) = match side.base {
        Plan::Get(g) => {
            let source = ctx.sources.get(&g.id).ok_or(EngineError::UnknownObject(g.id))?;
            (source.flat_map(logic)?, source.err.clone())
        }
        base => {
            let input = render(ctx, base)?;
            (input.ok.flat_map(move |row| logic(&row)), input.err)
        }
    };
    let (keyed, err) = if can_fail {
        let (ok, err) = split_results(results);
        (ok, input_err.concat(err))
    } else {
        (results.flat_map(Result::ok), input_err)
    };
    Ok(Keyed { keyed, columns, err })
}

/// A side arranged by key, shared when possible, with the columns of the
/// arranged rows that make the input's row.
fn keyed_side<'s>(
    ctx: &Context<'s>,
    side: &SidePlan<'_>,
) -> Result<(KeyedSide<'s>, Option<Vec<usize>>, Errs<'s>), EngineError> {
    if let Some(shared) = side.shared_key().and_then(|k| ctx.shared.get(&k)) {
        let Plan::Get(g) = side.base else { unreachable!("shared sides are reads") };
        let source = ctx.sources.get(&g.id).ok_or(EngineError::UnknownObject(g.id))?;
        return Ok((KeyedSide::Shared(shared.clone()), side.columns.clone(), source.err.clone()));
    }
    let keyed = key_rows(ctx, side, false)?;
    Ok((KeyedSide::Local(keyed.keyed.arrange_by_key()), keyed.columns, keyed.err))
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


/// Whether `side`, keyed by `keys`, has at most one row (of multiplicity
/// one) per key: a grouped `Reduce` keyed by all of its group key, whose
/// group key expressions are normalised (so groups differ in their
/// normalised join keys too).
fn unique_per_key(side: &Plan, keys: &[Expr]) -> bool {
    let Plan::Reduce(r) = side else { return false };
    let n = r.group_key.len();
    n > 0
        && keys.len() == n
        && r.group_key.iter().all(|e| matches!(e, Expr::Unary { func: crate::expr::UnaryFunc::KeyNormalize, .. }))
        && (0..n).all(|i| keys.contains(&Expr::Column(i)))
}

/// The distinct keys of a side, arranged: each key present on the side
/// once. When the side holds at most one row per key (`unique`), its keys
/// are arranged as they are: an update that keeps a row's key (its old
/// row retracted, its new row added) cancels in the arrangement's batcher,
/// so it reaches the join with the padded side as no change at all.
/// Otherwise they are maintained from a count per key
/// (`threshold_total`).
fn distinct_keys<'s>(side: &KeyedSide<'s>, unique: bool) -> Arranged<'s, TraceAgent<super::RowSpine>> {
    let keys = match side {
        KeyedSide::Local(a) => a.clone().as_collection(|k: &Row, _v: &Row| k.clone()),
        KeyedSide::Shared(a) => a.clone().as_collection(|k: &Row, _v: &Row| k.clone()),
    };
    if unique {
        keys.arrange_by_self()
    } else {
        keys.arrange_by_self().threshold_total(|_k, c: &Diff| if *c > 0 { 1 } else { 0 }).arrange_by_self()
    }
}

/// Where a value of the first row an output builds comes from.
#[derive(Clone, Debug)]
enum Pick {
    /// A column of the left side's arranged row.
    Left(usize),
    /// A column of the right side's arranged row (NULL when padding).
    Right(usize),
    /// A fixed value.
    Literal(Value),
}

/// How a join builds its output rows from a pair of arranged rows.
#[derive(Clone, Debug)]
struct Output {
    /// The values of the first row built.
    picks: Vec<Pick>,
    /// Conditions a pair must satisfy, over the first row (which is then
    /// the concatenated row).
    residual: Vec<Expr>,
    /// The fused `Filter`/`Map` chain, run on the first row.
    steps: Vec<Step>,
}

impl Output {
    /// The output of a join with `residual` conditions over the
    /// concatenated row of `left` and `right` columns (of the arranged
    /// rows), followed by the chain `steps`.
    fn new(left: &[usize], right: &[usize], residual: &[Expr], steps: &[Step]) -> Output {
        let concat: Vec<Pick> =
            left.iter().map(|&c| Pick::Left(c)).chain(right.iter().map(|&c| Pick::Right(c))).collect();
        if residual.is_empty() {
            if let Some(Step::Map(exprs)) = steps.first() {
                let picks: Option<Vec<Pick>> = exprs
                    .iter()
                    .map(|e| match e {
                        Expr::Column(c) => Some(concat[*c].clone()),
                        Expr::Literal(v) => Some(Pick::Literal(v.clone())),
                        _ => None,
                    })
                    .collect();
                if let Some(picks) = picks {
                    return Output { picks, residual: Vec::new(), steps: steps[1..].to_vec() };
                }
            }
        }
        Output { picks: concat, residual: residual.to_vec(), steps: steps.to_vec() }
    }

    /// True if building an output row can fail.
    fn can_fail(&self) -> bool {
        self.residual.iter().any(can_error) || self.steps.iter().any(Step::can_fail)
    }

    /// The output row of a matched pair (`right` present) or of a left
    /// row padded with NULLs (residual conditions are not checked then).
    fn emit(&self, left: &[Value], right: Option<&[Value]>) -> Option<Result<Row, EvalError>> {
        let row: Row = self
            .picks
            .iter()
            .map(|p| match p {
                Pick::Left(c) => left[*c].clone(),
                Pick::Right(c) => right.map_or(Value::Null, |r| r[*c].clone()),
                Pick::Literal(v) => v.clone(),
            })
            .collect();
        if right.is_some() {
            for p in &self.residual {
                match p.eval_predicate(&row) {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => return Some(Err(e)),
                }
            }
        }
        run(&self.steps, row)
    }
}

/// The arranged-row columns making a side's row of `arity` columns.
fn side_columns(columns: Option<Vec<usize>>, arity: usize) -> Vec<usize> {
    columns.unwrap_or_else(|| (0..arity).collect())
}

/// Splits results into rows and errors, building the split only when
/// evaluation can fail.
fn finish<'s>(results: Coll<'s, Result<Row, EvalError>>, can_fail: bool) -> (Coll<'s, Row>, Errs<'s>) {
    if can_fail {
        let (ok, err) = split_results(results);
        (ok, err.into())
    } else {
        (results.flat_map(Result::ok), Errs::none())
    }
}

/// Renders a join with the `Filter`/`Map` chain `steps` above it fused
/// into its output.
pub(crate) fn build_join<'s>(ctx: &Context<'s>, join: &Join, steps: &[Step]) -> Result<Rendered<'s>, EngineError> {
    if join.kind == JoinKind::FullOuter {
        return full::build_full_join(ctx, join, steps);
    }
    let (left_keys, right_keys): (Vec<Expr>, Vec<Expr>) = join.equi.iter().cloned().unzip();
    let left_plan = SidePlan::new(&join.left, &left_keys);
    let right_plan = SidePlan::new(&join.right, &right_keys);
    let (right, right_columns, right_err) = keyed_side(ctx, &right_plan)?;
    let right_columns = side_columns(right_columns, join.right.arity());

    match join.kind {
        JoinKind::Inner => {
            let (left, left_columns, left_err) = keyed_side(ctx, &left_plan)?;
            let left_columns = side_columns(left_columns, join.left.arity());
            let output = Output::new(&left_columns, &right_columns, &join.residual, steps);
            let can_fail = output.can_fail();
            let pairs = join_sides!(left, right, move |_k: &Row, l: &Row, r: &Row| output.emit(l, Some(r)));
            let (ok, err) = finish(pairs, can_fail);
            Ok(Rendered { ok, err: left_err.concat(right_err).concat(err) })
        }
        JoinKind::LeftOuter if join.residual.is_empty() => {
            let left = key_rows(ctx, &left_plan, true)?;
            let left_columns = side_columns(left.columns, join.left.arity());
            let output = Output::new(&left_columns, &right_columns, &[], steps);
            let can_fail = output.can_fail();
            let left_arranged = left.keyed.clone().arrange_by_key();
            // Which keys the right side has.
            let present = distinct_keys(&right, unique_per_key(&join.right, &right_keys));
            let pair_output = output.clone();
            let pairs = join_sides!(KeyedSide::Local(left_arranged.clone()), right, move |_k: &Row,
                                                                                      l: &Row,
                                                                                      r: &Row| {
                pair_output.emit(l, Some(r))
            });
            // Every left row padded, less those whose key is present.
            let pad_output = output.clone();
            let padded = left.keyed.flat_map(move |(_k, l)| pad_output.emit(&l, None));
            let matched = left_arranged.join_core(present, move |_k: &Row, l: &Row, _: &()| output.emit(l, None));
            let (ok, err) = finish(pairs.concat(padded).concat(matched.negate()), can_fail);
            Ok(Rendered { ok, err: left.err.concat(right_err).concat(err) })
        }
        JoinKind::LeftOuter => {
            let left = key_rows(ctx, &left_plan, true)?;
            let left_arity = join.left.arity();
            let left_columns = side_columns(left.columns, left_arity);
            // Matched pairs as concatenated rows, filtered by the residual.
            let concat = Output::new(&left_columns, &right_columns, &join.residual, &[]);
            let can_fail = concat.can_fail();
            let left_arranged = left.keyed.clone().arrange_by_key();
            let pairs = join_sides!(KeyedSide::Local(left_arranged), right, move |_k: &Row, l: &Row, r: &Row| {
                concat.emit(l, Some(r))
            });
            let (matched, residual_err) = finish(pairs, can_fail);
            let matched_left = matched
                .clone()
                .map(move |row| Row::new(row[..left_arity].to_vec()))
                .threshold_total(|_r, c: &Diff| if *c > 0 { 1 } else { 0 });
            let unmatched = left
                .keyed
                .map(move |(_k, l)| (left_columns.iter().map(|&c| l[c].clone()).collect::<Row>(), ()))
                .antijoin(matched_left)
                .map(|(row, ())| row);
            let right_arity = join.right.arity();
            let padded = unmatched.map(move |row| {
                let mut values = row.to_vec();
                values.extend(std::iter::repeat_n(Value::Null, right_arity));
                Row::new(values)
            });
            let all = matched.concat(padded);
            let steps = steps.to_vec();
            let (ok, steps_err) = if steps.iter().any(Step::can_fail) {
                let (ok, err) = split_results(all.flat_map(move |row| run(&steps, row)));
                (ok, Errs::from(err))
            } else if steps.is_empty() {
                (all, Errs::none())
            } else {
                (all.flat_map(move |row| run(&steps, row).and_then(Result::ok)), Errs::none())
            };
            Ok(Rendered { ok, err: left.err.concat(right_err).concat(residual_err).concat(steps_err) })
        }
        JoinKind::FullOuter => unreachable!("full outer joins are rendered by `full`"),
    }
}
