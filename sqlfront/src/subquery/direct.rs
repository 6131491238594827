//! Direct decorrelation: when a subquery reads its parameters only in
//! WHERE equalities `outer = inner` (TPC-H's `l_partkey = p_partkey`), it
//! is evaluated once for all enclosing rows, grouped by the inner sides,
//! and joined back on the outer sides: no `D`, no copy of the enclosing
//! plan. A correlation value that is NULL matches nothing, as `=` with
//! NULL is never true.
//!
//! The subquery's own work then runs on inner rows no enclosing row asks
//! about, so this applies only when that work cannot fail (else an error
//! PostgreSQL would not raise could appear): its other WHERE conjuncts,
//! the inner sides, aggregate arguments, and for row-valued results the
//! select list. A global aggregate's select list and HAVING are evaluated
//! after the join back, on the enclosing row, with an empty group's
//! aggregates (a missing match) read as over no rows.

use freshet_engine::expr::{BinaryFunc, Expr};
use freshet_engine::plan::{AggregateFunc, Distinct, Map, Plan, Reduce, SortColumn, TopK};

use super::decorrelate::{Aggregated, Decorrelated, Keyed, Rows};
use super::exprs::{
    bind_params, conjuncts, equality_key, filtered, may_error, mentions_params, offset, only_params, plan_has_params,
};
use super::{Param, PARAM_BASE};

/// The body under the select list.
enum Body<'p> {
    /// Rows of the filtered FROM clause.
    Rows,
    /// A `Reduce`, with the HAVING conjuncts above it.
    Grouped { having: Option<&'p [Expr]>, reduce: &'p Reduce },
}

/// `plan` decorrelated directly, if its shape allows (see the module
/// documentation). `want_select`: the caller needs the select list (not
/// for `EXISTS`).
pub(super) fn direct(plan: &Plan, params: &[Param], want_select: bool) -> Option<Decorrelated> {
    if let Some(d) = top_k(plan, params) {
        return Some(d);
    }
    let (distinct, top) = match plan {
        Plan::Distinct(d) => (true, &*d.input),
        p => (false, p),
    };
    let Plan::Map(m) = top else { return None };
    let select = &m.exprs;
    let (body, below) = match &*m.input {
        Plan::Filter(h) => match &*h.input {
            Plan::Reduce(r) => (Body::Grouped { having: Some(&h.predicates), reduce: r }, &*r.input),
            _ => (Body::Rows, &*m.input),
        },
        Plan::Reduce(r) => (Body::Grouped { having: None, reduce: r }, &*r.input),
        other => (Body::Rows, other),
    };
    let Plan::Filter(w) = below else { return None };
    let from = &*w.input;
    if plan_has_params(from) || select.iter().any(mentions_params) {
        return None;
    }
    if let Body::Grouped { having, reduce } = &body {
        if having.is_some_and(|h| h.iter().any(mentions_params))
            || reduce.group_key.iter().any(mentions_params)
            || reduce.aggregates.iter().any(|a| mentions_params(&a.expr))
        {
            return None;
        }
    }
    // The WHERE conjuncts: correlation equalities and the rest.
    let mut corr: Vec<(Expr, Expr)> = Vec::new();
    let mut rest: Vec<Expr> = Vec::new();
    for c in w.predicates.iter().cloned().flat_map(conjuncts) {
        if !mentions_params(&c) {
            rest.push(c);
            continue;
        }
        let Expr::Binary { func: BinaryFunc::Eq, left, right } = &c else { return None };
        if only_params(left) && !mentions_params(right) {
            corr.push(((**left).clone(), (**right).clone()));
        } else if only_params(right) && !mentions_params(left) {
            corr.push(((**right).clone(), (**left).clone()));
        } else {
            return None;
        }
    }
    if corr.is_empty() || rest.iter().any(may_error) || corr.iter().any(|(_, inner)| may_error(inner)) {
        return None;
    }
    let values: Vec<Expr> = params.iter().map(|p| p.expr.clone()).collect();
    let outer_keys: Vec<Expr> = corr.iter().map(|(outer, _)| bind_params(outer, &values)).collect();
    let keys: Vec<Expr> = corr
        .into_iter()
        .map(|(outer, inner)| {
            // A bare parameter's type is the comparison's (no conversion
            // on the outer side); otherwise the key is normalised.
            let ty = match outer {
                Expr::Column(c) if c >= PARAM_BASE => Some(params[c - PARAM_BASE].ty),
                _ => None,
            };
            equality_key(inner, ty)
        })
        .collect();
    let kk = keys.len();
    let inner_keys: Vec<Expr> = (0..kk).map(Expr::Column).collect();
    let input = filtered(from.clone(), rest);
    match body {
        Body::Rows => {
            if want_select && select.iter().any(may_error) {
                return None;
            }
            let mut exprs = keys;
            if want_select {
                exprs.extend(select.iter().cloned());
            }
            let mut plan = Plan::Map(Map { input: Box::new(input), exprs });
            if distinct && want_select {
                plan = Plan::Distinct(Distinct { input: Box::new(plan) });
            }
            Some(Decorrelated::Keyed(Keyed { plan, prefix: kk, outer_keys, inner_keys, rows: Rows::Many }))
        }
        Body::Grouped { having, reduce } if reduce.group_key.is_empty() => {
            let known = |f: AggregateFunc| {
                matches!(
                    f,
                    AggregateFunc::CountStar
                        | AggregateFunc::Count
                        | AggregateFunc::Sum
                        | AggregateFunc::Avg
                        | AggregateFunc::Min
                        | AggregateFunc::Max
                )
            };
            if reduce.aggregates.iter().any(|a| !known(a.func) || may_error(&a.expr)) {
                return None;
            }
            let plan =
                Plan::Reduce(Reduce { input: Box::new(input), group_key: keys, aggregates: reduce.aggregates.clone() });
            Some(Decorrelated::Aggregated(Aggregated {
                plan,
                prefix: kk,
                outer_keys,
                inner_keys,
                aggs: reduce.aggregates.iter().map(|a| a.func).collect(),
                having: having.map(|h| super::exprs::and(h.to_vec())),
                select: select.clone(),
            }))
        }
        Body::Grouped { having, reduce } => {
            if reduce.group_key.iter().any(may_error)
                || reduce.aggregates.iter().any(|a| may_error(&a.expr))
                || having.is_some_and(|h| h.iter().any(may_error))
                || (want_select && select.iter().any(may_error))
            {
                return None;
            }
            let mut group_key = keys;
            group_key.extend(reduce.group_key.iter().cloned());
            let mut plan =
                Plan::Reduce(Reduce { input: Box::new(input), group_key, aggregates: reduce.aggregates.clone() });
            if let Some(h) = having {
                plan = filtered(plan, h.iter().map(|e| offset(e, kk)).collect());
            }
            let mut exprs: Vec<Expr> = (0..kk).map(Expr::Column).collect();
            if want_select {
                exprs.extend(select.iter().map(|e| offset(e, kk)));
            }
            plan = Plan::Map(Map { input: Box::new(plan), exprs });
            if distinct && want_select {
                plan = Plan::Distinct(Distinct { input: Box::new(plan) });
            }
            Some(Decorrelated::Keyed(Keyed { plan, prefix: kk, outer_keys, inner_keys, rows: Rows::Many }))
        }
    }
}

/// `ORDER BY … LIMIT` / `OFFSET` / `DISTINCT ON` (a `TopK`, under a
/// projection dropping sort-only columns) over a body decorrelated
/// directly: the body's rows grouped by their correlation keys first, so
/// each key keeps its own top rows.
fn top_k(plan: &Plan, params: &[Param]) -> Option<Decorrelated> {
    let (projection, t) = match plan {
        Plan::TopK(t) => (None, t),
        Plan::Map(m) => match &*m.input {
            Plan::TopK(t) if m.exprs.iter().all(|e| matches!(e, Expr::Column(_))) => (Some(&m.exprs), t),
            _ => return None,
        },
        _ => return None,
    };
    if t.group_key.iter().any(mentions_params) {
        return None;
    }
    // The sort keys are the body's columns, so its select list is needed.
    let Some(Decorrelated::Keyed(k)) = direct(&t.input, params, true) else { return None };
    let kk = k.prefix;
    let mut group_key: Vec<Expr> = (0..kk).map(Expr::Column).collect();
    group_key.extend(t.group_key.iter().map(|e| offset(e, kk)));
    let order = t.order.iter().map(|o| SortColumn { column: o.column + kk, ..*o }).collect();
    let mut plan = Plan::TopK(TopK { input: Box::new(k.plan), group_key, order, limit: t.limit, offset: t.offset });
    if let Some(exprs) = projection {
        let mut cols: Vec<Expr> = (0..kk).map(Expr::Column).collect();
        cols.extend(exprs.iter().map(|e| offset(e, kk)));
        plan = Plan::Map(Map { input: Box::new(plan), exprs: cols });
    }
    let rows = if t.group_key.is_empty() && t.limit.is_some_and(|l| l <= 1) { Rows::AtMostOne } else { Rows::Many };
    Some(Decorrelated::Keyed(Keyed { plan, prefix: kk, outer_keys: k.outer_keys, inner_keys: k.inner_keys, rows }))
}
