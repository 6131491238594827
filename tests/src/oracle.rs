//! The reference evaluator: a deliberately naive, from-scratch evaluation
//! of a [`Plan`] over whole tables, written independently of the dataflow
//! rendering, against which the incremental engine is checked.
//!
//! Every operator is computed directly from its definition: nested-loop
//! joins, grouping in a `BTreeMap`, aggregates folded value by value with
//! the engine's scalar operators ([`Expr::eval`]), one row per unit of
//! multiplicity. Every node's output is consolidated.
//!
//! Where PostgreSQL's result depends on the order rows arrive in, the oracle
//! fixes a choice, which the engine must make too:
//!
//! * grouping, `DISTINCT` and `agg(DISTINCT x)` merge values that SQL
//!   comparison deems equal (`1.0` and `1.00`, `0.0` and `-0.0`, as
//!   PostgreSQL does) and represent each class by its least member in the
//!   total order ([`Value`]'s `Ord`: `1.0` before `1.00`);
//! * `min`/`max` return, among SQL-equal extremes, the least in the total
//!   order;
//! * `min_repr` (the member of a group of SQL-equal values the front end
//!   displays) is the least argument in the total order, and all
//!   `min_repr` aggregates of one reduce are chosen together: the
//!   arguments of the input row whose tuple of `min_repr` arguments is
//!   least;
//! * `sum`/`avg` over `float8` add the values in the total order of the
//!   input rows;
//! * a top-k (`ORDER BY … LIMIT`, `DISTINCT ON`) orders rows that tie on
//!   every sort key by the whole row in the total order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use freshet_engine::expr::{BinaryFunc, EvalError, Expr, UnaryFunc};
use freshet_engine::plan::{Aggregate, AggregateFunc, Diff, Join, JoinKind, ObjectId, Plan, Reduce, TopK};
use freshet_engine::value::{DataType, Row, Value};

/// A bag of rows: each row with its multiplicity.
pub type Bag = Vec<(Row, Diff)>;

/// Sorts by row, adds up the multiplicities of equal rows (equal in the
/// total order, so `1.0` and `1.00` stay apart) and drops rows whose
/// multiplicity is zero.
pub fn consolidate(rows: Bag) -> Bag {
    let mut sums: BTreeMap<Row, Diff> = BTreeMap::new();
    for (row, diff) in rows {
        *sums.entry(row).or_insert(0) += diff;
    }
    sums.into_iter().filter(|(_, d)| *d != 0).collect()
}

/// Evaluates `plan` over the contents of `tables` (each a bag of rows,
/// keyed by the object a `Get` names), returning the consolidated result.
///
/// Fails with the first evaluation error met, or with
/// [`EvalError::Other`] for a `Get` of an object not in `tables` or an
/// aggregate over rows with negative multiplicity.
pub fn evaluate(plan: &Plan, tables: &BTreeMap<ObjectId, Bag>) -> Result<Bag, EvalError> {
    match plan {
        Plan::Get(g) => match tables.get(&g.id) {
            Some(rows) => Ok(consolidate(rows.clone())),
            None => Err(EvalError::Other(format!("no contents for object {} ({:?})", g.name, g.id))),
        },
        Plan::Constant(c) => Ok(consolidate(c.rows.clone())),
        Plan::Filter(f) => {
            let mut out = Vec::new();
            'rows: for (row, diff) in evaluate(&f.input, tables)? {
                for p in &f.predicates {
                    if !p.eval_predicate(&row)? {
                        continue 'rows;
                    }
                }
                out.push((row, diff));
            }
            Ok(out)
        }
        Plan::Map(m) => {
            let mut out = Vec::new();
            for (row, diff) in evaluate(&m.input, tables)? {
                let values = m.exprs.iter().map(|e| e.eval(&row)).collect::<Result<Vec<_>, _>>()?;
                out.push((Row::new(values), diff));
            }
            Ok(consolidate(out))
        }
        Plan::Join(j) => join(j, tables),
        Plan::Reduce(r) => reduce(r, tables),
        Plan::Distinct(d) => {
            let input = evaluate(&d.input, tables)?;
            let mut classes: BTreeMap<Vec<Value>, Row> = BTreeMap::new();
            for (row, diff) in input {
                if diff > 0 {
                    let key: Vec<Value> = row.iter().map(Value::key_normalized).collect();
                    let rep = classes.entry(key).or_insert_with(|| row.clone());
                    if row < *rep {
                        *rep = row;
                    }
                }
            }
            Ok(consolidate(classes.into_values().map(|r| (r, 1)).collect()))
        }
        Plan::Union(u) => {
            let mut out = Vec::new();
            for input in &u.inputs {
                out.extend(evaluate(input, tables)?);
            }
            Ok(consolidate(out))
        }
        Plan::Negate(n) => Ok(evaluate(&n.input, tables)?.into_iter().map(|(r, d)| (r, -d)).collect()),
        Plan::Threshold(t) => Ok(evaluate(&t.input, tables)?.into_iter().filter(|(_, d)| *d > 0).collect()),
        Plan::TopK(t) => top_k(t, tables),
    }
}

/// Groups by the key values (equal in the total order), lists each group's
/// rows once per unit of multiplicity, sorts them by the sort keys
/// (PostgreSQL's ordering: SQL comparison, `DESC` reversing it, NULLs
/// first or last as the key says) and then by the whole row, and keeps
/// positions `offset .. offset + limit`.
fn top_k(t: &TopK, tables: &BTreeMap<ObjectId, Bag>) -> Result<Bag, EvalError> {
    let input = evaluate(&t.input, tables)?;
    let mut groups: BTreeMap<Vec<Value>, Vec<Row>> = BTreeMap::new();
    for (row, diff) in input {
        if diff < 0 {
            return Err(EvalError::Other(format!("top-k input holds {row:?} with multiplicity {diff}")));
        }
        let key = t.group_key.iter().map(|e| e.eval(&row)).collect::<Result<Vec<_>, _>>()?;
        let rows = groups.entry(key).or_default();
        for _ in 0..diff {
            rows.push(row.clone());
        }
    }
    let mut out = Vec::new();
    for mut rows in groups.into_values() {
        rows.sort_by(|a, b| {
            for k in &t.order {
                let (x, y) = (&a[k.column], &b[k.column]);
                let o = match (x.is_null(), y.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) if k.nulls_first => Ordering::Less,
                    (true, false) => Ordering::Greater,
                    (false, true) if k.nulls_first => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) if k.descending => y.sql_cmp(x).unwrap_or(Ordering::Equal),
                    (false, false) => x.sql_cmp(y).unwrap_or(Ordering::Equal),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.cmp(b)
        });
        let start = usize::try_from(t.offset).unwrap_or(usize::MAX);
        let taken = rows.into_iter().skip(start);
        match t.limit {
            Some(l) => out.extend(taken.take(usize::try_from(l).unwrap_or(usize::MAX)).map(|r| (r, 1))),
            None => out.extend(taken.map(|r| (r, 1))),
        }
    }
    Ok(consolidate(out))
}

/// Nested loops over every pair of rows; an outer join then pads the rows
/// of its preserved sides that matched nothing.
fn join(j: &Join, tables: &BTreeMap<ObjectId, Bag>) -> Result<Bag, EvalError> {
    let left = evaluate(&j.left, tables)?;
    let right = evaluate(&j.right, tables)?;
    let keys = |rows: &Bag, left_side: bool| -> Result<Vec<Vec<Value>>, EvalError> {
        rows.iter()
            .map(|(row, _)| {
                j.equi
                    .iter()
                    .map(|(l, r)| if left_side { l.eval(row) } else { r.eval(row) })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect()
    };
    let left_keys = keys(&left, true)?;
    let right_keys = keys(&right, false)?;
    let right_arity = j.right.arity();
    let outer_left = matches!(j.kind, JoinKind::LeftOuter | JoinKind::FullOuter);
    let mut right_matched = vec![false; right.len()];
    let mut out = Vec::new();
    for ((lrow, ldiff), lkey) in left.iter().zip(&left_keys) {
        let mut matched = false;
        'pairs: for (ri, ((rrow, rdiff), rkey)) in right.iter().zip(&right_keys).enumerate() {
            // SQL equality: NULL never matches.
            if !lkey.iter().zip(rkey).all(|(a, b)| a.sql_eq(b) == Some(true)) {
                continue;
            }
            let row = lrow.concat(rrow);
            for p in &j.residual {
                if !p.eval_predicate(&row)? {
                    continue 'pairs;
                }
            }
            matched = true;
            right_matched[ri] = true;
            out.push((row, ldiff * rdiff));
        }
        if outer_left && !matched {
            let nulls = Row::new(vec![Value::Null; right_arity]);
            out.push((lrow.concat(&nulls), *ldiff));
        }
    }
    if j.kind == JoinKind::FullOuter {
        let nulls = Row::new(vec![Value::Null; j.left.arity()]);
        for ((rrow, rdiff), matched) in right.iter().zip(right_matched) {
            if !matched {
                out.push((nulls.concat(rrow), *rdiff));
            }
        }
    }
    Ok(consolidate(out))
}

/// One group of a reduce: the representative key and the group's rows.
struct Group {
    key: Vec<Value>,
    rows: Vec<(Row, Diff)>,
}

fn reduce(r: &Reduce, tables: &BTreeMap<ObjectId, Bag>) -> Result<Bag, EvalError> {
    let input = evaluate(&r.input, tables)?;
    let mut groups: BTreeMap<Vec<Value>, Group> = BTreeMap::new();
    for (row, diff) in input {
        if diff < 0 {
            return Err(EvalError::Other(format!("aggregate input holds {row:?} with multiplicity {diff}")));
        }
        let key = r.group_key.iter().map(|e| e.eval(&row)).collect::<Result<Vec<_>, _>>()?;
        let normalized: Vec<Value> = key.iter().map(Value::key_normalized).collect();
        let group = groups.entry(normalized).or_insert_with(|| Group { key: key.clone(), rows: Vec::new() });
        if key < group.key {
            group.key = key;
        }
        group.rows.push((row, diff));
    }
    if r.group_key.is_empty() && groups.is_empty() {
        groups.insert(Vec::new(), Group { key: Vec::new(), rows: Vec::new() });
    }
    let mut out = Vec::new();
    for group in groups.into_values() {
        let mut representative = min_repr(&r.aggregates, &group.rows)?.into_iter();
        let mut values = group.key;
        for agg in &r.aggregates {
            values.push(match agg.func {
                AggregateFunc::MinRepr => representative.next().unwrap_or(Value::Null),
                _ => aggregate(agg, &group.rows)?,
            });
        }
        out.push((Row::new(values), 1));
    }
    Ok(consolidate(out))
}

/// The `min_repr` aggregates' values, in their order: the least tuple of
/// their arguments over the group's rows (empty for no rows).
fn min_repr(aggs: &[Aggregate], rows: &[(Row, Diff)]) -> Result<Vec<Value>, EvalError> {
    let args: Vec<&Expr> = aggs.iter().filter(|a| a.func == AggregateFunc::MinRepr).map(|a| &a.expr).collect();
    let mut least: Option<Vec<Value>> = None;
    for (row, diff) in rows {
        if *diff <= 0 || args.is_empty() {
            continue;
        }
        let tuple = args.iter().map(|e| e.eval(row)).collect::<Result<Vec<_>, _>>()?;
        if least.as_ref().is_none_or(|l| tuple < *l) {
            least = Some(tuple);
        }
    }
    Ok(least.unwrap_or_default())
}

/// `func(left, right)` through the engine's scalar evaluation.
fn apply(func: BinaryFunc, left: Value, right: Value) -> Result<Value, EvalError> {
    Expr::Literal(left).call_binary(func, Expr::Literal(right)).eval(&[])
}

/// `CAST(v AS ty)` through the engine's scalar evaluation.
fn cast(v: Value, ty: DataType) -> Result<Value, EvalError> {
    Expr::Literal(v).call_unary(UnaryFunc::Cast(ty)).eval(&[])
}

/// Computes one aggregate over a group's rows.
fn aggregate(agg: &Aggregate, rows: &[(Row, Diff)]) -> Result<Value, EvalError> {
    if agg.func == AggregateFunc::CountStar {
        return Ok(Value::Int8(rows.iter().map(|(_, d)| *d).sum()));
    }
    if let Some(layout) = agg.ordered() {
        return aggregates::ordered(agg, layout, rows);
    }
    // The argument's non-NULL values, each repeated by its multiplicity.
    let mut values = Vec::new();
    for (row, diff) in rows {
        let v = agg.expr.eval(row)?;
        if !v.is_null() {
            for _ in 0..*diff {
                values.push(v.clone());
            }
        }
    }
    if agg.distinct {
        let mut classes: BTreeMap<Value, Value> = BTreeMap::new();
        for v in values {
            let rep = classes.entry(v.key_normalized()).or_insert_with(|| v.clone());
            if v < *rep {
                *rep = v;
            }
        }
        values = classes.into_values().collect();
    }
    let out_type = agg.output_type();
    match agg.func {
        AggregateFunc::CountStar | AggregateFunc::StringAgg(_) | AggregateFunc::ArrayAgg(_) => {
            unreachable!("handled above")
        }
        AggregateFunc::BoolAnd | AggregateFunc::BoolOr => aggregates::bool_fold(agg.func, &values),
        AggregateFunc::VarSamp | AggregateFunc::VarPop | AggregateFunc::StddevSamp | AggregateFunc::StddevPop => {
            aggregates::variance(agg.func, agg.input_type, &values)
        }
        AggregateFunc::MinRepr => Ok(min_repr(std::slice::from_ref(agg), rows)?.pop().unwrap_or(Value::Null)),
        AggregateFunc::Count => Ok(Value::Int8(values.len() as i64)),
        AggregateFunc::Sum => sum(values, out_type),
        AggregateFunc::Avg => {
            let n = values.len() as i64;
            let total = sum(values, out_type)?;
            if total.is_null() {
                return Ok(Value::Null);
            }
            let divisor_type = if out_type == DataType::Interval { DataType::Float8 } else { out_type };
            apply(BinaryFunc::Div, total, cast(Value::Int8(n), divisor_type)?)
        }
        AggregateFunc::Min | AggregateFunc::Max => {
            let want = if agg.func == AggregateFunc::Min { Ordering::Less } else { Ordering::Greater };
            let mut best: Option<Value> = None;
            for v in values {
                best = Some(match best {
                    None => v,
                    Some(b) => match v.sql_cmp(&b) {
                        Some(o) if o == want => v,
                        Some(Ordering::Equal) if v < b => v,
                        _ => b,
                    },
                });
            }
            Ok(best.unwrap_or(Value::Null))
        }
    }
}

/// Adds `values` one at a time, each first cast to `ty`; NULL for none.
fn sum(values: Vec<Value>, ty: DataType) -> Result<Value, EvalError> {
    let mut total: Option<Value> = None;
    for v in values {
        let v = cast(v, ty)?;
        total = Some(match total {
            None => v,
            Some(t) => apply(BinaryFunc::Add, t, v)?,
        });
    }
    Ok(total.unwrap_or(Value::Null))
}

mod aggregates;
#[cfg(test)]
mod tests;
