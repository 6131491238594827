//! Decorrelation: a subquery's plan, which reads parameters, becomes a
//! relation of rows keyed by parameter values, to be joined back onto the
//! enclosing rows.
//!
//! The general method puts `D`, the distinct parameter values of the
//! enclosing rows, in front of every row of the subquery's plan: the
//! lowest operators without parameters are cross-joined with `D` (the
//! correlation predicates above them then become equi-join keys), and
//! every operator above carries `D`'s columns: maps and filters read them
//! as columns, grouping keys and `TopK` groups start with them, a join
//! whose both inputs need them matches them exactly, and a global
//! aggregate (one row even over no input) becomes one group per `D` row,
//! with a padding row per `D` row so that empty groups exist (its
//! aggregate arguments are NULL, which no aggregate counts; `count(*)`
//! becomes a count of TRUE over the real rows). The result has one set of
//! rows per `D` row, and each enclosing row finds its set by its
//! parameter values, NULL-safely and representation-exactly (`1.0` and
//! `1.00` are different `D` rows, as the subquery may show them).
//!
//! `D` is the enclosing plan's distinct values, from a copy of that plan;
//! when the subquery cannot fail, running it for values no enclosing row
//! has changes nothing visible, so `D` is read from the one input of the
//! enclosing joins that holds every value (Q21: `lineitem`), a superset
//! that costs far less than a second copy of the whole join.

use freshet_engine::expr::Expr;
use freshet_engine::plan::{
    Aggregate, AggregateFunc, Distinct, Join, JoinKind, Map, Negate, Plan, Reduce, SortColumn, Threshold, TopK, Union,
};
use freshet_engine::value::{DataType, Value};

use super::exprs::{exact_keys, lit, may_error, mentions_params, node_exprs, plan_has_params, shift};
use super::{direct, Kind, Param, Pending, PARAM_BASE};
use crate::error::{Result, SqlError};

/// How many rows a subquery returns per enclosing row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rows {
    /// Exactly one (a global aggregate).
    One,
    /// One or none.
    AtMostOne,
    /// Any number.
    Many,
}

/// A subquery's rows for each enclosing row: the rows of `plan` whose
/// `inner_keys` equal the enclosing row's `outer_keys` (as equi-join keys
/// match: NULL never matches). The subquery's output columns are
/// `plan`'s columns from `prefix` on.
pub(super) struct Keyed {
    pub plan: Plan,
    pub prefix: usize,
    pub outer_keys: Vec<Expr>,
    pub inner_keys: Vec<Expr>,
    pub rows: Rows,
}

/// A global aggregate grouped by its correlation keys: `plan` has the
/// keys (`prefix` columns) then one column per aggregate; an enclosing row
/// without a matching group stands for the aggregate over no rows. The
/// subquery's one row (if `having` holds) is `select`, over the
/// aggregates (column `i` is aggregate `i`).
pub(super) struct Aggregated {
    pub plan: Plan,
    pub prefix: usize,
    pub outer_keys: Vec<Expr>,
    pub inner_keys: Vec<Expr>,
    pub aggs: Vec<AggregateFunc>,
    pub having: Option<Expr>,
    pub select: Vec<Expr>,
}

/// A decorrelated subquery.
pub(super) enum Decorrelated {
    /// Rows keyed by correlation values.
    Keyed(Keyed),
    /// One aggregate row per correlation value.
    Aggregated(Aggregated),
}

/// Decorrelates `p`, whose enclosing rows are `ctx`'s.
pub(super) fn decorrelate(p: &Pending, ctx: &Plan) -> Result<Decorrelated> {
    let exists = matches!(p.kind, Kind::Exists);
    let plan = if exists { without_select_list(p.plan.clone()) } else { p.plan.clone() };
    decorrelate_plan(plan, &p.params, ctx, !exists)
}

/// Decorrelates `plan`, which reads `params` over `ctx`'s rows.
/// `want_select`: the caller reads the subquery's columns (not for
/// `EXISTS`).
pub(super) fn decorrelate_plan(plan: Plan, params: &[Param], ctx: &Plan, want_select: bool) -> Result<Decorrelated> {
    if !plan_has_params(&plan) {
        return Ok(Decorrelated::Keyed(Keyed {
            rows: row_bound(&plan),
            plan,
            prefix: 0,
            outer_keys: Vec::new(),
            inner_keys: Vec::new(),
        }));
    }
    if let Some(d) = direct::direct(&plan, params, want_select) {
        return Ok(d);
    }
    general(plan, ctx, params)
}

/// `EXISTS` does not evaluate its select list (PostgreSQL drops it), nor
/// does duplicate elimination change whether there are rows.
fn without_select_list(plan: Plan) -> Plan {
    let plan = match plan {
        Plan::Distinct(d) => *d.input,
        p => p,
    };
    match plan {
        Plan::Map(m) => Plan::Map(Map { input: m.input, exprs: Vec::new() }),
        p => p,
    }
}

/// An upper bound on the rows `plan` returns.
pub(super) fn row_bound(plan: &Plan) -> Rows {
    match plan {
        Plan::Map(m) => row_bound(&m.input),
        Plan::Distinct(d) => row_bound(&d.input),
        Plan::Filter(f) => match row_bound(&f.input) {
            Rows::Many => Rows::Many,
            _ => Rows::AtMostOne,
        },
        Plan::Reduce(r) if r.group_key.is_empty() => Rows::One,
        Plan::Constant(c) => match c.rows.as_slice() {
            [] => Rows::AtMostOne,
            [(_, 1)] => Rows::One,
            _ => Rows::Many,
        },
        Plan::TopK(t) if t.group_key.is_empty() && t.limit.is_some_and(|l| l <= 1) => Rows::AtMostOne,
        _ => Rows::Many,
    }
}

/// The general method: `D` under the subquery, joined back on `D`.
fn general(plan: Plan, ctx: &Plan, params: &[Param]) -> Result<Decorrelated> {
    let k = params.len();
    let values: Vec<Expr> = params.iter().map(|p| p.expr.clone()).collect();
    // A subquery that cannot fail may run for more values than the
    // enclosing rows have: then `D` comes from the one input of the
    // enclosing joins that holds all the values, not from a copy of them.
    let narrowed = if plan_cannot_fail(&plan) { narrow(ctx, &values, Vec::new(), false) } else { None };
    let d = narrowed.unwrap_or_else(|| distinct_values(ctx.clone(), values));
    let rows = row_bound(&plan);
    let with_d = WithD { d: &d, params, k }.plan(plan)?;
    let inner_keys =
        params.iter().enumerate().flat_map(|(i, p)| exact_keys(Expr::Column(i), p.ty, p.nullable)).collect();
    let outer_keys = params.iter().flat_map(|p| exact_keys(p.expr.clone(), p.ty, p.nullable)).collect();
    Ok(Decorrelated::Keyed(Keyed { plan: with_d, prefix: k, outer_keys, inner_keys, rows }))
}

/// Puts `D` (`k` columns, one per parameter) in front of every row.
struct WithD<'a> {
    d: &'a Plan,
    params: &'a [Param],
    k: usize,
}

impl WithD<'_> {
    fn columns(&self) -> Vec<Expr> {
        (0..self.k).map(Expr::Column).collect()
    }

    /// `plan`'s rows, each preceded by the `D` row it was computed for.
    fn plan(&self, plan: Plan) -> Result<Plan> {
        let k = self.k;
        if !plan_has_params(&plan) {
            return Ok(cross(self.d.clone(), plan));
        }
        Ok(match plan {
            Plan::Filter(f) => Plan::Filter(freshet_engine::plan::Filter {
                input: Box::new(self.plan(*f.input)?),
                predicates: f.predicates.iter().map(|p| shift(p, k)).collect(),
            }),
            Plan::Map(m) => {
                let mut exprs = self.columns();
                exprs.extend(m.exprs.iter().map(|e| shift(e, k)));
                Plan::Map(Map { input: Box::new(self.plan(*m.input)?), exprs })
            }
            Plan::Join(j) => self.join(j)?,
            Plan::Reduce(r) => self.reduce(r)?,
            Plan::Distinct(d) => Plan::Distinct(Distinct { input: Box::new(self.plan(*d.input)?) }),
            Plan::Union(u) => {
                Plan::Union(Union { inputs: u.inputs.into_iter().map(|i| self.plan(i)).collect::<Result<_>>()? })
            }
            Plan::Negate(n) => Plan::Negate(Negate { input: Box::new(self.plan(*n.input)?) }),
            Plan::Threshold(t) => Plan::Threshold(Threshold { input: Box::new(self.plan(*t.input)?) }),
            Plan::TopK(t) => {
                let mut group_key = self.columns();
                group_key.extend(t.group_key.iter().map(|e| shift(e, k)));
                Plan::TopK(TopK {
                    input: Box::new(self.plan(*t.input)?),
                    group_key,
                    order: t.order.iter().map(|o| SortColumn { column: o.column + k, ..*o }).collect(),
                    limit: t.limit,
                    offset: t.offset,
                })
            }
            Plan::Get(_) | Plan::Constant(_) => {
                return Err(SqlError::internal("a leaf plan reads parameters"));
            }
        })
    }

    fn join(&self, j: Join) -> Result<Plan> {
        let k = self.k;
        if j.kind != JoinKind::Inner && j.kind != JoinKind::LeftOuter {
            // The right input's unmatched rows would lose their `D` row.
            return Err(SqlError::unsupported("correlated subqueries over this kind of join", None));
        }
        let la = j.left.arity();
        let right_reads = plan_has_params(&j.right) || j.equi.iter().any(|(_, r)| mentions_params(r));
        if !right_reads {
            // Only the left input needs `D`; the right's rows are the same
            // for every `D` row.
            return Ok(Plan::Join(Join {
                kind: j.kind,
                left: Box::new(self.plan(*j.left)?),
                right: j.right,
                equi: j.equi.iter().map(|(l, r)| (shift(l, k), r.clone())).collect(),
                residual: j.residual.iter().map(|e| shift(e, k)).collect(),
            }));
        }
        let ra = j.right.arity();
        let left = self.plan(*j.left)?;
        let right = self.plan(*j.right)?;
        // Rows match only within one `D` row.
        let mut equi: Vec<(Expr, Expr)> = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            let keys = exact_keys(Expr::Column(i), p.ty, p.nullable);
            equi.extend(keys.iter().cloned().zip(keys.iter().cloned()));
        }
        equi.extend(j.equi.iter().map(|(l, r)| (shift(l, k), shift(r, k))));
        let residual = j
            .residual
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.map_columns(&mut |c| {
                    if c >= PARAM_BASE {
                        c - PARAM_BASE
                    } else if c < la {
                        c + k
                    } else {
                        c + 2 * k
                    }
                });
                e
            })
            .collect();
        let joined = Plan::Join(Join { kind: j.kind, left: Box::new(left), right: Box::new(right), equi, residual });
        // Drop the right input's copy of `D`.
        let mut exprs: Vec<Expr> = (0..k + la).map(Expr::Column).collect();
        exprs.extend((2 * k + la..2 * k + la + ra).map(Expr::Column));
        Ok(Plan::Map(Map { input: Box::new(joined), exprs }))
    }

    fn reduce(&self, r: Reduce) -> Result<Plan> {
        let k = self.k;
        let input = self.plan(*r.input)?;
        let mut group_key = self.columns();
        if !r.group_key.is_empty() {
            group_key.extend(r.group_key.iter().map(|e| shift(e, k)));
            let aggregates = r.aggregates.iter().map(|a| Aggregate { expr: shift(&a.expr, k), ..a.clone() }).collect();
            return Ok(Plan::Reduce(Reduce { input: Box::new(input), group_key, aggregates }));
        }
        // A global aggregate: one group per `D` row, empty ones included.
        // The real rows carry the aggregates' arguments (`count(*)`
        // counts TRUE); a padding row per `D` row carries NULLs, which no
        // aggregate counts.
        let mut args = self.columns();
        args.extend(r.aggregates.iter().map(|agg| match agg.func {
            AggregateFunc::CountStar => lit(Value::Bool(true)),
            _ => shift(&agg.expr, k),
        }));
        let mut pads = self.columns();
        pads.extend(r.aggregates.iter().map(|_| lit(Value::Null)));
        let input = Plan::Union(Union {
            inputs: vec![
                Plan::Map(Map { input: Box::new(input), exprs: args }),
                Plan::Map(Map { input: Box::new(self.d.clone()), exprs: pads }),
            ],
        });
        let aggregates = r
            .aggregates
            .iter()
            .enumerate()
            .map(|(i, agg)| match agg.func {
                AggregateFunc::CountStar => Aggregate {
                    func: AggregateFunc::Count,
                    expr: Expr::Column(k + i),
                    input_type: DataType::Bool,
                    distinct: false,
                },
                _ => Aggregate { expr: Expr::Column(k + i), ..agg.clone() },
            })
            .collect();
        Ok(Plan::Reduce(Reduce { input: Box::new(input), group_key, aggregates }))
    }
}

/// The distinct rows of `values` over `input`'s rows.
pub(super) fn distinct_values(input: Plan, values: Vec<Expr>) -> Plan {
    Plan::Distinct(Distinct { input: Box::new(Plan::Map(Map { input: Box::new(input), exprs: values })) })
}

/// Whether no expression of `plan` can fail.
fn plan_cannot_fail(plan: &Plan) -> bool {
    let mut fails = false;
    plan.visit(&mut |p| node_exprs(p, &mut |e| fails |= may_error(e)));
    !fails
}

/// A plan whose rows include the distinct `values` of `plan`'s rows,
/// read from the smallest input of `plan`'s joins that holds them all,
/// filtered by the conjuncts above it that read only it and cannot fail
/// (`conds`, over `plan`'s row). `None` when that input is `plan` itself.
/// Through a left join only the left input is taken (its rows all
/// survive); the right input only of inner joins.
pub(super) fn narrow(plan: &Plan, values: &[Expr], mut conds: Vec<Expr>, descended: bool) -> Option<Plan> {
    let mut cols = Vec::new();
    for v in values {
        v.visit_columns(&mut |c| cols.push(c));
    }
    if cols.iter().any(|&c| c >= PARAM_BASE) {
        return None;
    }
    let here = |conds: Vec<Expr>| {
        descended.then(|| distinct_values(super::exprs::filtered(plan.clone(), conds), values.to_vec()))
    };
    match plan {
        Plan::Filter(f) => {
            conds.extend(f.predicates.iter().filter(|p| !may_error(p)).cloned());
            narrow(&f.input, values, conds, descended).or_else(|| here(Vec::new()))
        }
        Plan::Join(j) if matches!(j.kind, JoinKind::Inner | JoinKind::LeftOuter) => {
            let la = j.left.arity();
            let within = |lo: usize, hi: usize, e: &Expr| {
                let mut ok = true;
                e.visit_columns(&mut |c| ok &= (lo..hi).contains(&c));
                ok
            };
            if cols.iter().all(|&c| c < la) {
                let conds = conds.into_iter().filter(|e| within(0, la, e)).collect();
                narrow(&j.left, values, conds, true)
            } else if j.kind == JoinKind::Inner && cols.iter().all(|&c| c >= la) {
                let down = |e: &Expr| {
                    let mut e = e.clone();
                    e.map_columns(&mut |c| c - la);
                    e
                };
                let total = plan.arity();
                let conds = conds.iter().filter(|e| within(la, total, e)).map(down).collect();
                let values: Vec<Expr> = values.iter().map(down).collect();
                narrow(&j.right, &values, conds, true)
            } else {
                here(conds)
            }
        }
        _ => here(conds),
    }
}

/// Every row of `left` with every row of `right`.
fn cross(left: Plan, right: Plan) -> Plan {
    Plan::Join(Join {
        kind: JoinKind::Inner,
        left: Box::new(left),
        right: Box::new(right),
        equi: Vec::new(),
        residual: Vec::new(),
    })
}
