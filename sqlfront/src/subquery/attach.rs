//! Joining a decorrelated subquery back onto the enclosing rows, and the
//! expression that replaces its placeholder.
//!
//! * Scalar: a left join (an inner join when there is always exactly one
//!   row); when the subquery can return several rows for one enclosing
//!   row, one `Reduce` gives each key its row count and (`min_repr`) its
//!   value, and the value is `single_row_value(count, value)`, which
//!   raises PostgreSQL's error where the value is used. (`min_repr` costs
//!   a reduction over the key's distinct values per change: one when the
//!   subquery is well-formed.)
//! * `EXISTS`: the distinct keys of the subquery's rows; a semi-join
//!   (inner join) when the `EXISTS` is a WHERE conjunct of its own,
//!   otherwise a left join whose match is the answer.
//! * `IN` / `= ANY` and `NOT IN` / `<> ALL`: the distinct (keys, value)
//!   pairs, joined on (correlation, operand); when the operand or the
//!   subquery's values can be NULL, per-key counts tell "no match" apart
//!   from PostgreSQL's NULL (some value NULL, or a NULL operand over a
//!   non-empty set) and from an empty set. Row forms over values that can
//!   be NULL: see [`super::row_in`].
//! * Ordering `ANY`/`ALL`, `<> ANY`, `= ALL`: per-key `min`/`max` with
//!   the same counts.

use freshet_engine::expr::{BinaryFunc, Expr, UnaryFunc};
use freshet_engine::plan::{Aggregate, AggregateFunc, Distinct, Join, JoinKind, Map, Plan, Reduce};
use freshet_engine::value::{DataType, Value};

use super::decorrelate::{decorrelate, Aggregated, Decorrelated, Keyed, Rows};
use super::exprs::{and, equality_key, if_then, lit, offset, or, substitute};
use super::{CmpOp, Kind, Pending};
use crate::error::Result;

/// Joins `p` onto `plan` (whose first columns are `ctx`'s, the rows the
/// subquery's parameters are read from). Returns the extended plan and
/// the subquery's value over its row. `semi`: the value is a WHERE
/// conjunct of its own, so rows where it is not true may be dropped.
pub(super) fn join_back(p: Pending, plan: Plan, ctx: &Plan, semi: bool) -> Result<(Plan, Expr)> {
    let dec = decorrelate(&p, ctx)?;
    match &p.kind {
        Kind::Scalar => Ok(scalar(dec, plan, p.out_types[0])),
        Kind::Exists => Ok(exists(dec, plan, semi)),
        Kind::Compare { op, all, lhs, lhs_nullable, rhs, types } => {
            let c = Comparison { op: *op, all: *all, lhs, lhs_nullable, rhs, types, out_nullable: &p.out_nullable };
            match dec {
                Decorrelated::Keyed(k) => c.keyed(k, plan, semi).map_err(|e| e.or_at(p.pos)),
                Decorrelated::Aggregated(g) => Ok(c.aggregated(g, plan)),
            }
        }
    }
}

fn join(kind: JoinKind, left: Plan, right: Plan, left_keys: Vec<Expr>, right_keys: Vec<Expr>) -> Plan {
    Plan::Join(Join {
        kind,
        left: Box::new(left),
        right: Box::new(right),
        equi: left_keys.into_iter().zip(right_keys).collect(),
        residual: Vec::new(),
    })
}

fn columns(range: std::ops::Range<usize>) -> Vec<Expr> {
    range.map(Expr::Column).collect()
}

fn is_not_null(e: Expr) -> Expr {
    e.call_unary(UnaryFunc::IsNotNull)
}

fn is_true(e: Expr) -> Expr {
    e.call_unary(UnaryFunc::IsTrue)
}

/// The aggregated subquery's one row joined on: `base` is where its
/// columns start in the joined row. Returns (row present, select list).
pub(super) fn aggregated_row(g: &Aggregated, base: usize) -> (Expr, Vec<Expr>) {
    let aggs = base + g.prefix;
    let mut read = |c: usize| {
        let col = Expr::Column(aggs + c);
        match g.aggs.get(c) {
            // No matching group: the count over no rows.
            Some(AggregateFunc::Count | AggregateFunc::CountStar) => Expr::Variadic {
                func: freshet_engine::expr::VariadicFunc::Coalesce,
                args: vec![col, lit(Value::Int8(0))],
            },
            _ => col,
        }
    };
    let present = match &g.having {
        Some(h) => substitute(h, &mut read),
        None => lit(Value::Bool(true)),
    };
    let select = g.select.iter().map(|e| substitute(e, &mut read)).collect();
    (present, select)
}

fn scalar(dec: Decorrelated, plan: Plan, ty: DataType) -> (Plan, Expr) {
    let n = plan.arity();
    match dec {
        Decorrelated::Keyed(k) => match k.rows {
            Rows::One => (join(JoinKind::Inner, plan, k.plan, k.outer_keys, k.inner_keys), Expr::Column(n + k.prefix)),
            Rows::AtMostOne => {
                (join(JoinKind::LeftOuter, plan, k.plan, k.outer_keys, k.inner_keys), Expr::Column(n + k.prefix))
            }
            Rows::Many => {
                // One row per key: its row count, and its value (the
                // least in the total order: the only one when there is
                // one row).
                let nk = k.inner_keys.len();
                let one = |func, expr, input_type| Aggregate { func, expr, input_type, distinct: false };
                let per_key = Plan::Reduce(Reduce {
                    input: Box::new(k.plan),
                    group_key: k.inner_keys,
                    aggregates: vec![
                        one(AggregateFunc::CountStar, lit(Value::Bool(true)), DataType::Bool),
                        one(AggregateFunc::MinRepr, Expr::Column(k.prefix), ty),
                    ],
                });
                let joined = join(JoinKind::LeftOuter, plan, per_key, k.outer_keys, columns(0..nk));
                let value = Expr::Column(n + nk).call_binary(BinaryFunc::SingleRowValue, Expr::Column(n + nk + 1));
                (joined, value)
            }
        },
        Decorrelated::Aggregated(g) => {
            let (present, select) = aggregated_row(&g, n);
            let value = select.into_iter().next().unwrap_or(lit(Value::Null));
            let value = if g.having.is_some() { if_then(present, value, lit(Value::Null)) } else { value };
            (join(JoinKind::LeftOuter, plan, g.plan, g.outer_keys, g.inner_keys), value)
        }
    }
}

fn exists(dec: Decorrelated, plan: Plan, semi: bool) -> (Plan, Expr) {
    let n = plan.arity();
    match dec {
        Decorrelated::Keyed(k) => {
            let nk = k.inner_keys.len();
            // The distinct keys with rows (a marker when uncorrelated).
            let keys = if nk == 0 { vec![lit(Value::Bool(true))] } else { k.inner_keys };
            let found =
                Plan::Distinct(Distinct { input: Box::new(Plan::Map(Map { input: Box::new(k.plan), exprs: keys })) });
            if semi {
                (join(JoinKind::Inner, plan, found, k.outer_keys, columns(0..nk)), lit(Value::Bool(true)))
            } else {
                (join(JoinKind::LeftOuter, plan, found, k.outer_keys, columns(0..nk)), is_not_null(Expr::Column(n)))
            }
        }
        Decorrelated::Aggregated(g) => {
            // A global aggregate has its one row unless HAVING removes it.
            if g.having.is_none() {
                return (plan, lit(Value::Bool(true)));
            }
            let (present, _) = aggregated_row(&g, n);
            (join(JoinKind::LeftOuter, plan, g.plan, g.outer_keys, g.inner_keys), is_true(present))
        }
    }
}

/// A bound quantified comparison.
struct Comparison<'a> {
    op: CmpOp,
    all: bool,
    lhs: &'a [Expr],
    lhs_nullable: &'a [bool],
    rhs: &'a [Expr],
    types: &'a [DataType],
    out_nullable: &'a [bool],
}

fn func(op: CmpOp) -> BinaryFunc {
    match op {
        CmpOp::Eq => BinaryFunc::Eq,
        CmpOp::NotEq => BinaryFunc::NotEq,
        CmpOp::Lt => BinaryFunc::Lt,
        CmpOp::Lte => BinaryFunc::Lte,
        CmpOp::Gt => BinaryFunc::Gt,
        CmpOp::Gte => BinaryFunc::Gte,
    }
}

impl Comparison<'_> {
    /// Whether the answer comes from matching equal values (`IN`, `NOT
    /// IN`) rather than from the least and greatest values.
    fn by_match(&self) -> bool {
        matches!((self.op, self.all), (CmpOp::Eq, false) | (CmpOp::NotEq, true))
    }

    /// The subquery's columns used by the comparison (casts keep NULLs).
    fn rhs_nullable(&self) -> bool {
        self.rhs.iter().any(|r| self.reads_nullable(r, 0))
    }

    /// Whether `r`, over the subquery's row from column `prefix` on,
    /// reads a column that may be NULL.
    fn reads_nullable(&self, r: &Expr, prefix: usize) -> bool {
        let mut any = false;
        r.visit_columns(&mut |c| any |= c < prefix || self.out_nullable.get(c - prefix).copied().unwrap_or(true));
        any
    }

    /// Over a set of at most one value `v` (present when `present`).
    fn aggregated(&self, g: Aggregated, plan: Plan) -> (Plan, Expr) {
        let n = plan.arity();
        let (present, select) = aggregated_row(&g, n);
        let rhs: Vec<Expr> = self.rhs.iter().map(|r| substitute(r, &mut |c| select[c].clone())).collect();
        let test = if self.by_match() {
            let eq = and(self.lhs.iter().cloned().zip(rhs).map(|(l, r)| l.call_binary(BinaryFunc::Eq, r)).collect());
            if self.all {
                eq.call_unary(UnaryFunc::Not)
            } else {
                eq
            }
        } else {
            self.lhs[0].clone().call_binary(func(self.op), rhs[0].clone())
        };
        let empty = lit(Value::Bool(self.all));
        let value = if g.having.is_some() { if_then(is_true(present), test, empty) } else { test };
        (join(JoinKind::LeftOuter, plan, g.plan, g.outer_keys, g.inner_keys), value)
    }

    fn keyed(&self, k: Keyed, plan: Plan, semi: bool) -> Result<(Plan, Expr)> {
        let rhs: Vec<Expr> = self.rhs.iter().map(|r| offset(r, k.prefix)).collect();
        let lhs_nullable = self.lhs_nullable.iter().any(|n| *n);
        let rhs_nullable = self.rhs_nullable();
        let semi_join = semi && !self.all;
        if self.by_match() && self.lhs.len() > 1 && (lhs_nullable || rhs_nullable) && !semi_join {
            let rhs_nullable: Vec<bool> = rhs.iter().map(|r| self.reads_nullable(r, k.prefix)).collect();
            let (plan, found) =
                super::row_in::row_in(&k, plan, self.lhs, self.lhs_nullable, &rhs, &rhs_nullable, self.types)?;
            let value = if self.all { found.call_unary(UnaryFunc::Not) } else { found };
            return Ok((plan, value));
        }
        if self.by_match() {
            // The distinct (keys, value) pairs; equal values match.
            let mut cols = k.inner_keys.clone();
            cols.extend(rhs.iter().zip(self.types).map(|(r, t)| equality_key(r.clone(), Some(*t))));
            let width = cols.len();
            let pairs = Plan::Distinct(Distinct {
                input: Box::new(Plan::Map(Map { input: Box::new(k.plan.clone()), exprs: cols })),
            });
            let mut outer = k.outer_keys.clone();
            outer.extend(self.lhs.iter().cloned());
            if semi && !self.all {
                return Ok((join(JoinKind::Inner, plan, pairs, outer, columns(0..width)), lit(Value::Bool(true))));
            }
            let n = plan.arity();
            let mut plan = join(JoinKind::LeftOuter, plan, pairs, outer, columns(0..width));
            let matched = is_not_null(Expr::Column(n));
            let found = if !lhs_nullable && !rhs_nullable {
                matched
            } else {
                let (with_stats, stats) = self.stats(&k, &rhs, plan, false, false);
                plan = with_stats;
                // No match: NULL if the set has a NULL, or if the operand
                // is NULL and the set is not empty; FALSE otherwise.
                let unknown = and(vec![
                    is_true(stats.nonempty),
                    or(vec![self.lhs[0].clone().call_unary(UnaryFunc::IsNull), is_true(stats.has_null)]),
                ]);
                if_then(matched, lit(Value::Bool(true)), if_then(unknown, lit(Value::Null), lit(Value::Bool(false))))
            };
            let value = if self.all { found.call_unary(UnaryFunc::Not) } else { found };
            return Ok((plan, value));
        }
        // Through the least and greatest values.
        let (op, all) = (self.op, self.all);
        let need_min = matches!(
            (op, all),
            (CmpOp::Gt | CmpOp::Gte, false)
                | (CmpOp::Lt | CmpOp::Lte, true)
                | (CmpOp::NotEq, false)
                | (CmpOp::Eq, true)
        );
        let need_max = matches!(
            (op, all),
            (CmpOp::Lt | CmpOp::Lte, false)
                | (CmpOp::Gt | CmpOp::Gte, true)
                | (CmpOp::NotEq, false)
                | (CmpOp::Eq, true)
        );
        let (plan, stats) = self.stats(&k, &rhs, plan, need_min, need_max);
        let x = self.lhs[0].clone();
        let cmp = |f: BinaryFunc, e: &Option<Expr>| x.clone().call_binary(f, e.clone().unwrap_or(lit(Value::Null)));
        let test = match (op, all) {
            (CmpOp::NotEq, false) => or(vec![cmp(BinaryFunc::NotEq, &stats.min), cmp(BinaryFunc::NotEq, &stats.max)]),
            (CmpOp::Eq, true) => and(vec![cmp(BinaryFunc::Eq, &stats.min), cmp(BinaryFunc::Eq, &stats.max)]),
            (op, false) if matches!(op, CmpOp::Lt | CmpOp::Lte) => cmp(func(op), &stats.max),
            (op, false) => cmp(func(op), &stats.min),
            (op, _) if matches!(op, CmpOp::Lt | CmpOp::Lte) => cmp(func(op), &stats.min),
            (op, _) => cmp(func(op), &stats.max),
        };
        let has_null = is_true(stats.has_null);
        let value = if all {
            // FALSE if some value fails, NULL if none fails but one is
            // NULL (or the operand is), TRUE over no values.
            if_then(
                stats.nonempty.call_unary(UnaryFunc::IsNotTrue),
                lit(Value::Bool(true)),
                if_then(
                    test.clone().call_unary(UnaryFunc::IsFalse),
                    lit(Value::Bool(false)),
                    if_then(has_null, lit(Value::Null), test),
                ),
            )
        } else {
            if_then(
                stats.nonempty.call_unary(UnaryFunc::IsNotTrue),
                lit(Value::Bool(false)),
                if_then(is_true(test.clone()), lit(Value::Bool(true)), if_then(has_null, lit(Value::Null), test)),
            )
        };
        Ok((plan, value))
    }

    /// Joins per-key statistics of the compared values onto `plan`:
    /// whether there are rows, whether a value is NULL, and the least and
    /// greatest values when asked for.
    fn stats(&self, k: &Keyed, rhs: &[Expr], plan: Plan, min: bool, max: bool) -> (Plan, Stats) {
        let nk = k.inner_keys.len();
        let value = rhs[0].clone();
        let ty = self.types[0];
        let agg = |func: AggregateFunc, expr: Expr| Aggregate { func, expr, input_type: ty, distinct: false };
        let mut aggregates = vec![
            Aggregate {
                func: AggregateFunc::CountStar,
                expr: lit(Value::Bool(true)),
                input_type: DataType::Bool,
                distinct: false,
            },
            agg(AggregateFunc::Count, value.clone()),
        ];
        if min {
            aggregates.push(agg(AggregateFunc::Min, value.clone()));
        }
        if max {
            aggregates.push(agg(AggregateFunc::Max, value));
        }
        let reduce =
            Plan::Reduce(Reduce { input: Box::new(k.plan.clone()), group_key: k.inner_keys.clone(), aggregates });
        // Booleans rather than counts, so that a change of a count alone
        // changes nothing downstream.
        let (rows, non_null) = (Expr::Column(nk), Expr::Column(nk + 1));
        let mut exprs = columns(0..nk);
        exprs.push(rows.clone().call_binary(BinaryFunc::Gt, lit(Value::Int8(0))));
        exprs.push(rows.call_binary(BinaryFunc::Gt, non_null));
        exprs.extend(columns(nk + 2..nk + 2 + usize::from(min) + usize::from(max)));
        let stats_plan = Plan::Map(Map { input: Box::new(reduce), exprs });
        let base = plan.arity() + nk;
        let joined = join(JoinKind::LeftOuter, plan, stats_plan, k.outer_keys.clone(), columns(0..nk));
        let stats = Stats {
            nonempty: Expr::Column(base),
            has_null: Expr::Column(base + 1),
            min: min.then(|| Expr::Column(base + 2)),
            max: max.then(|| Expr::Column(base + 2 + usize::from(min))),
        };
        (joined, stats)
    }
}

/// Columns of the joined statistics (NULL when the key has no rows).
struct Stats {
    nonempty: Expr,
    has_null: Expr,
    min: Option<Expr>,
    max: Option<Expr>,
}
