//! `LATERAL` subqueries in FROM: `FROM c, LATERAL (SELECT … WHERE o.cust
//! = c.id ORDER BY … LIMIT 3) o`, `JOIN LATERAL (…) ON …`, `LEFT JOIN
//! LATERAL (…) ON …`.
//!
//! The subquery is planned as a subquery whose enclosing query is the FROM
//! items to its left: a reference to one of their columns is a parameter
//! (see the module documentation of [`super`]). It is then decorrelated
//! like a subquery in an expression, into rows keyed by the parameter
//! values (directly when correlated by equalities only — an `ORDER BY …
//! LIMIT` becoming a `TopK` per correlation key, an aggregate a `Reduce`
//! per key —, otherwise through `D`, the distinct parameter values of the
//! left rows), and joined back onto the left rows on those keys: an inner
//! join for `,`, `CROSS JOIN` and `JOIN`, a left join for `LEFT JOIN`
//! (left rows without subquery rows satisfying the ON condition kept with
//! NULLs). An aggregate without GROUP BY has one row for every left row,
//! also when no row of its input matches (a left join onto the per-key
//! aggregates, the missing ones read as over no rows), unless HAVING
//! removes it.
//!
//! A LATERAL subquery reading no column of the items to its left is a
//! derived table.
//!
//! Incremental cost: that of the decorrelated subquery (its joins,
//! reductions and top-k, per key) and one join with the left rows, whose
//! arrangement (with `D`'s `Distinct` in the general form) is the memory
//! added. A change to a left row updates `D` and the join; a change to the
//! subquery's tables updates the affected keys' results only.

use freshet_engine::expr::{Expr, UnaryFunc};
use freshet_engine::plan::{Join, JoinKind, Map, Plan};
use freshet_engine::value::Value;
use sqlparser::ast;

use super::attach::aggregated_row;
use super::bind::check_outer_aggregates;
use super::decorrelate::{decorrelate_plan, Decorrelated};
use super::exprs::{bind_params, filtered, if_then, lit, map_plan_exprs, substitute};
use super::{Outer, Param, PARAM_BASE};
use crate::error::{Position, Result};
use crate::scope::Scope;
use crate::{Catalog, Query};

/// How a LATERAL item is joined to the items on its left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LateralJoin {
    /// `,`, `CROSS JOIN`, `[INNER] JOIN`.
    Inner,
    /// `LEFT [OUTER] JOIN`.
    Left,
}

/// Plans the LATERAL subquery `q`, whose names resolve in its own FROM
/// clause, then in `scope` (the FROM items to its left), then in `up`
/// (the queries enclosing this one). Returns the query (a relation) and
/// the parameters it reads, over `scope`'s FROM row; none when it reads
/// no column of `scope` (values of enclosing queries are then read as
/// this query's own parameters, as in a derived table).
pub(crate) fn plan_lateral(
    q: &ast::Query,
    catalog: &dyn Catalog,
    scope: &Scope,
    up: Option<&Outer<'_>>,
    pos: Option<Position>,
) -> Result<(Query, Vec<Param>)> {
    let outer = Outer::new(scope, up);
    let mut query = crate::select::plan_query_in(q, catalog, true, Some(&outer))?;
    let params = outer.into_params();
    check_outer_aggregates(&query.plan, pos)?;
    if params.iter().all(|p| matches!(p.expr, Expr::Column(c) if c >= PARAM_BASE)) {
        let values: Vec<Expr> = params.iter().map(|p| p.expr.clone()).collect();
        map_plan_exprs(&mut query.plan, &mut |e| *e = bind_params(e, &values));
        return Ok((query, Vec::new()));
    }
    Ok((query, params))
}

/// Joins the LATERAL subquery `sub`, which reads `params` (expressions
/// over `left`'s row), onto `left`: each left row followed by each of the
/// subquery's rows for its values that satisfies `cond` (over the left
/// row followed by the subquery's columns), and for [`LateralJoin::Left`]
/// a left row without such rows followed by NULLs. The result has `left`'s
/// columns then `sub`'s.
pub(crate) fn join_lateral(
    left: Plan,
    sub: Plan,
    params: &[Param],
    kind: LateralJoin,
    cond: Option<Expr>,
) -> Result<Plan> {
    let la = left.arity();
    let width = sub.arity();
    let join_kind = match kind {
        LateralJoin::Inner => JoinKind::Inner,
        LateralJoin::Left => JoinKind::LeftOuter,
    };
    if params.is_empty() {
        return Ok(join(join_kind, left, sub, Vec::new(), cond.into_iter().collect()));
    }
    match decorrelate_plan(sub, params, &left, true)? {
        Decorrelated::Keyed(k) => {
            let p = k.prefix;
            // The subquery's columns follow its key columns.
            let residual = cond.map(|c| shift_from(&c, la, p)).into_iter().collect();
            let equi = k.outer_keys.into_iter().zip(k.inner_keys).collect();
            let joined = join(join_kind, left, k.plan, equi, residual);
            let exprs = (0..la).chain(la + p..la + p + width).map(Expr::Column).collect();
            Ok(Plan::Map(Map { input: Box::new(joined), exprs }))
        }
        Decorrelated::Aggregated(g) => {
            // One aggregate row per left row: the key's group, or the
            // aggregates over no rows when the key has none.
            let equi = g.outer_keys.iter().cloned().zip(g.inner_keys.iter().cloned()).collect();
            let joined = join(JoinKind::LeftOuter, left, g.plan.clone(), equi, Vec::new());
            let (present, select) = aggregated_row(&g, la);
            let columns = |values: Vec<Expr>| (0..la).map(Expr::Column).chain(values).collect::<Vec<_>>();
            match kind {
                LateralJoin::Inner => {
                    let plan = if g.having.is_some() { filtered(joined, vec![present]) } else { joined };
                    let plan = Plan::Map(Map { input: Box::new(plan), exprs: columns(select) });
                    Ok(filtered(plan, cond.into_iter().collect()))
                }
                LateralJoin::Left => {
                    // The row joins when HAVING and the ON condition hold
                    // (the condition read only when HAVING does).
                    let on = cond.map(|c| {
                        substitute(&c, &mut |col| {
                            if (la..la + width).contains(&col) {
                                select[col - la].clone()
                            } else {
                                Expr::Column(col)
                            }
                        })
                    });
                    let is_true = |e: Expr| e.call_unary(UnaryFunc::IsTrue);
                    let matched = match (g.having.is_some(), on) {
                        (false, None) => None,
                        (false, Some(on)) => Some(is_true(on)),
                        (true, None) => Some(is_true(present)),
                        (true, Some(on)) => Some(if_then(is_true(present), is_true(on), lit(Value::Bool(false)))),
                    };
                    let values = select
                        .into_iter()
                        .map(|s| match &matched {
                            None => s,
                            Some(m) => if_then(m.clone(), s, lit(Value::Null)),
                        })
                        .collect();
                    Ok(Plan::Map(Map { input: Box::new(joined), exprs: columns(values) }))
                }
            }
        }
    }
}

fn join(kind: JoinKind, left: Plan, right: Plan, equi: Vec<(Expr, Expr)>, residual: Vec<Expr>) -> Plan {
    Plan::Join(Join { kind, left: Box::new(left), right: Box::new(right), equi, residual })
}

/// `e` with the row columns from `from` on moved right by `by`.
fn shift_from(e: &Expr, from: usize, by: usize) -> Expr {
    super::exprs::map_row_columns(e, &mut |c| if c >= from { c + by } else { c })
}
