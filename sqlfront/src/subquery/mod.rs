//! Subqueries in expressions: scalar subqueries, `EXISTS`, `IN`, and
//! `op ANY/SOME/ALL`, uncorrelated or correlated at any depth, all
//! decorrelated into joins of the enclosing query's plan.
//!
//! Binding. A subquery is planned as a query of its own whose names
//! resolve first in its own FROM clause, then in the enclosing queries'
//! ([`Outer`]). A reference to an enclosing query's value becomes a
//! *parameter*: column `PARAM_BASE + i` of the subquery's plan, where `i`
//! indexes [`Outer::params`], the parameter expressions over the enclosing
//! query's row. A reference two levels up is a parameter of the middle
//! query too, so each level's plan reads only its own parameters. The
//! enclosing query sees the subquery as a *placeholder* column
//! `SUBQ_BASE + id` standing for its value ([`Level`] keeps the pending
//! subqueries).
//!
//! Attaching. Where the enclosing query evaluates the expression (before
//! its WHERE filter, before its select list, or after its `Reduce` for a
//! grouped select list and HAVING), each pending subquery is joined onto
//! the enclosing plan and its placeholder replaced by an expression over
//! the joined row (`attach`): never a per-row re-evaluation. The
//! subquery's plan is first decorrelated into a relation keyed by the
//! parameter values (`decorrelate`), either
//!
//! * *directly*, when the parameters occur only in WHERE equalities
//!   `outer = inner` of a simple query: the subquery is grouped by the
//!   inner sides and joined back on the outer sides (`direct`); or
//! * *generally*: `D`, the distinct parameter values of the enclosing
//!   rows, is cross-joined under the subquery's plan and carried through
//!   every operator (grouping keys, join keys, per-`D` global aggregates),
//!   and the result joined back on `D`'s values, NULL-safely and exactly.
//!
//! Then `EXISTS` is a semi-join (in a WHERE conjunct) or a left join on
//! the distinct keys, `IN` a join on the keys plus the compared value with
//! per-key counts for PostgreSQL's NULL rules, ordering `ANY/ALL` a join
//! with per-key `min`/`max`, and a scalar subquery a left join whose row
//! count, when it can exceed one, raises PostgreSQL's error where the
//! value is used. Row-form `IN` over values that may be NULL is in
//! [`row_in`].
//!
//! The same machinery plans `LATERAL` subqueries in FROM ([`lateral`]:
//! the enclosing query is the FROM items to the left, and the decorrelated
//! rows are joined back as FROM rows) and subqueries in an outer join's ON
//! condition ([`join_on`]: attached to the input they read).

mod attach;
mod bind;
mod decorrelate;
mod direct;
mod exprs;
mod join_on;
mod lateral;
mod row_in;

use std::cell::{Cell, RefCell};

use freshet_engine::expr::Expr;
use freshet_engine::plan::Plan;
use freshet_engine::value::DataType;

use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::scope::{Resolved, Scope};
use crate::Catalog;

pub(crate) use bind::{bind_exists, bind_in, bind_quantified, bind_scalar};
pub(crate) use exprs::map_row_columns;
pub(crate) use join_on::attach_to_inputs;
pub(crate) use lateral::{join_lateral, plan_lateral, LateralJoin};

/// Placeholder columns: `SUBQ_BASE + id` stands for the value of the
/// pending subquery `id` of a query level until it is attached.
pub(crate) const SUBQ_BASE: usize = 1 << 42;

/// Parameter columns: `PARAM_BASE + i` is the enclosing query's value
/// `i` ([`Outer::params`]).
pub(crate) const PARAM_BASE: usize = 1 << 44;

/// A value of the enclosing query read by a subquery.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    /// The value, over the enclosing query's row.
    pub expr: Expr,
    /// Its type.
    pub ty: DataType,
    /// Whether it may be NULL.
    pub nullable: bool,
}

/// The query enclosing a subquery being planned: its names, its own
/// enclosing query, and the parameters the subquery reads from it.
pub(crate) struct Outer<'a> {
    scope: &'a Scope,
    up: Option<&'a Outer<'a>>,
    params: RefCell<Vec<Param>>,
}

impl<'a> Outer<'a> {
    /// The enclosing query with names `scope`, itself nested in `up`.
    pub fn new(scope: &'a Scope, up: Option<&'a Outer<'a>>) -> Outer<'a> {
        Outer { scope, up, params: RefCell::new(Vec::new()) }
    }

    /// Resolves a name the subquery's own scope does not know: in the
    /// enclosing query, else further out. The result is a parameter
    /// column, with its nullability.
    pub fn resolve(&self, qualifier: Option<&str>, name: &str, pos: Option<Position>) -> Result<(Resolved, bool)> {
        let param = match self.scope.resolve(qualifier, name, pos) {
            Ok(r) => {
                let scope = self.scope;
                let nullable = crate::coerce::nullable(&r.expr, &|c| scope.nullable(c));
                Param { expr: r.expr, ty: r.ty, nullable }
            }
            Err(e) if not_found(&e, qualifier.is_some()) => match self.up {
                Some(up) => {
                    let (r, nullable) = up.resolve(qualifier, name, pos).map_err(|outer| prefer(e, outer))?;
                    Param { expr: r.expr, ty: r.ty, nullable }
                }
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let (ty, nullable) = (param.ty, param.nullable);
        let mut params = self.params.borrow_mut();
        let i = match params.iter().position(|p| p.expr == param.expr) {
            Some(i) => i,
            None => {
                params.push(param);
                params.len() - 1
            }
        };
        Ok((Resolved { expr: Expr::Column(PARAM_BASE + i), ty }, nullable))
    }

    fn into_params(self) -> Vec<Param> {
        self.params.into_inner()
    }
}

/// Whether a failed lookup may be retried in an enclosing query: an
/// unknown column (unqualified) or an unknown relation (qualified). A
/// known relation without the column, or an ambiguous name, is final, as
/// in PostgreSQL.
pub(crate) fn not_found(e: &SqlError, qualified: bool) -> bool {
    let kind = if qualified { ErrorKind::UndefinedTable } else { ErrorKind::UndefinedColumn };
    e.kind() == Some(kind)
}

/// The error to report when a name is unknown at every level: the
/// innermost one, unless an enclosing level explains more (an alias
/// hiding the table's name).
fn prefer(inner: SqlError, outer: SqlError) -> SqlError {
    if outer.hint().is_some() || !matches!(outer.kind(), Some(ErrorKind::UndefinedTable | ErrorKind::UndefinedColumn)) {
        outer
    } else {
        inner
    }
}

/// What a subquery computes for its enclosing row.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// `(SELECT x ...)`: the value of its one row, NULL without rows, an
    /// error with more.
    Scalar,
    /// `EXISTS (...)`.
    Exists,
    /// `lhs op ANY (...)` / `lhs op ALL (...)` (`IN` is `= ANY`, `NOT IN`
    /// is `NOT (= ANY)`). Row forms (several `lhs`) only with `=`.
    Compare {
        /// The operator.
        op: CmpOp,
        /// `ALL` (otherwise `ANY`).
        all: bool,
        /// The left operands, converted to the comparison type, over the
        /// enclosing row.
        lhs: Vec<Expr>,
        /// Whether each left operand may be NULL.
        lhs_nullable: Vec<bool>,
        /// The subquery's columns converted to the comparison type, over
        /// the subquery's output row.
        rhs: Vec<Expr>,
        /// The comparison type of each pair.
        types: Vec<DataType>,
    },
}

/// The comparison operators of `ANY`/`ALL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `=`.
    Eq,
    /// `<>`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
}

/// A bound subquery waiting to be joined onto its enclosing plan.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// Its placeholder is `SUBQ_BASE + id`.
    id: usize,
    kind: Kind,
    /// The subquery's plan (its visible columns), reading parameters.
    plan: Plan,
    /// The parameters, over the enclosing row.
    params: Vec<Param>,
    /// The types of its output columns.
    out_types: Vec<DataType>,
    /// Whether each output column may be NULL.
    out_nullable: Vec<bool>,
    /// Where the subquery is, for errors found while attaching.
    pos: Option<Position>,
}

/// A planned subquery, before it is registered.
pub(crate) struct Planned {
    /// Its plan (its visible columns), reading parameters.
    pub plan: Plan,
    /// The types of its columns.
    pub types: Vec<DataType>,
    /// Whether each column may be NULL.
    pub nullable: Vec<bool>,
    /// The parameters, over the enclosing row.
    pub params: Vec<Param>,
}

/// One query level's subqueries: how to plan them (the catalog, the
/// levels enclosing this one) and those bound but not yet attached.
pub(crate) struct Level<'a> {
    catalog: &'a dyn Catalog,
    outer: Option<&'a Outer<'a>>,
    pending: RefCell<Vec<Pending>>,
    next_id: Cell<usize>,
}

impl<'a> Level<'a> {
    /// A query level planned against `catalog`, nested in `outer` (if it
    /// is itself a subquery).
    pub fn new(catalog: &'a dyn Catalog, outer: Option<&'a Outer<'a>>) -> Level<'a> {
        Level { catalog, outer, pending: RefCell::new(Vec::new()), next_id: Cell::new(0) }
    }

    /// The enclosing query, if this level is a subquery.
    pub fn outer(&self) -> Option<&'a Outer<'a>> {
        self.outer
    }

    /// Registers a bound subquery; returns its placeholder.
    fn push(&self, kind: Kind, planned: Planned, pos: Option<Position>) -> Expr {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let Planned { plan, params, types: out_types, nullable: out_nullable } = planned;
        self.pending.borrow_mut().push(Pending { id, kind, plan, params, out_types, out_nullable, pos });
        Expr::Column(SUBQ_BASE + id)
    }

    /// Rewrites the pending subqueries' parameters and operands, bound
    /// over the FROM row, for evaluation after grouping: `rewrite` maps a
    /// FROM-row expression to one over the grouped row, or names the
    /// FROM-row column that is neither grouped nor aggregated.
    pub fn regroup(
        &self,
        rewrite: &mut dyn FnMut(&Expr) -> std::result::Result<Expr, usize>,
        scope: &Scope,
    ) -> Result<()> {
        for p in self.pending.borrow_mut().iter_mut() {
            for param in p.params.iter_mut() {
                param.expr = rewrite(&param.expr).map_err(|c| {
                    SqlError::new(
                        ErrorKind::Grouping,
                        format!("subquery uses ungrouped column \"{}\" from outer query", scope.describe(c)),
                        p.pos,
                    )
                })?;
            }
            if let Kind::Compare { lhs, .. } = &mut p.kind {
                for e in lhs.iter_mut() {
                    *e = rewrite(e).map_err(|c| {
                        SqlError::new(
                            ErrorKind::Grouping,
                            format!(
                                "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                                scope.describe(c)
                            ),
                            p.pos,
                        )
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Joins the pending subqueries onto `plan` and replaces their
    /// placeholders in `exprs` (expressions over `plan`'s row) by their
    /// values over the extended row. `fix` is applied first to the
    /// subqueries' parameters and operands (to renumber them for
    /// `plan`'s row).
    pub fn attach<'e>(
        &self,
        plan: Plan,
        exprs: impl IntoIterator<Item = &'e mut Expr>,
        fix: &dyn Fn(&mut Expr),
    ) -> Result<Plan> {
        if self.pending.borrow().is_empty() {
            return Ok(plan);
        }
        let (plan, values) = self.attach_all(plan, &[], fix)?;
        for e in exprs {
            *e = exprs::replace_placeholders(e, &values);
        }
        Ok(plan)
    }

    /// `plan` filtered by `cond`, with the subqueries of `cond` attached:
    /// the conjuncts without subqueries filter first (so the subqueries'
    /// correlation values come from the rows that pass them), a conjunct
    /// that is an `EXISTS` or `IN` of its own becomes a semi-join, the
    /// other conjuncts filter the joined rows.
    pub fn attach_filter(&self, plan: Plan, cond: Expr) -> Result<Plan> {
        self.attach_filter_with(plan, cond, &|_| {})
    }

    /// [`Level::attach_filter`], applying `fix` first to the subqueries'
    /// parameters and operands (to renumber them for `plan`'s row).
    pub fn attach_filter_with(&self, plan: Plan, cond: Expr, fix: &dyn Fn(&mut Expr)) -> Result<Plan> {
        if self.pending.borrow().is_empty() {
            return Ok(exprs::filtered(plan, vec![cond]));
        }
        let (with, plain): (Vec<Expr>, Vec<Expr>) =
            exprs::conjuncts(cond).into_iter().partition(exprs::has_placeholder);
        let plan = exprs::filtered(plan, plain);
        let semi: Vec<usize> = with
            .iter()
            .filter_map(|c| match c {
                Expr::Column(c) if exprs::is_placeholder(*c) => Some(c - SUBQ_BASE),
                _ => None,
            })
            .collect();
        let (plan, values) = self.attach_all(plan, &semi, fix)?;
        let rest: Vec<Expr> = with
            .iter()
            .map(|c| exprs::replace_placeholders(c, &values))
            .filter(|c| *c != Expr::Literal(freshet_engine::value::Value::Bool(true)))
            .collect();
        Ok(exprs::filtered(plan, rest))
    }

    fn attach_all(&self, plan: Plan, semi: &[usize], fix: &dyn Fn(&mut Expr)) -> Result<(Plan, Vec<(usize, Expr)>)> {
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        attach_list(pending, plan, semi, fix)
    }

    /// Whether subqueries are bound but not attached.
    pub fn has_pending(&self) -> bool {
        !self.pending.borrow().is_empty()
    }
}

/// Joins `pending` onto `plan` in order (see [`Level::attach`]); returns
/// the extended plan and each subquery's value over its row.
fn attach_list(
    pending: Vec<Pending>,
    mut plan: Plan,
    semi: &[usize],
    fix: &dyn Fn(&mut Expr),
) -> Result<(Plan, Vec<(usize, Expr)>)> {
    let ctx = plan.clone();
    let mut values: Vec<(usize, Expr)> = Vec::with_capacity(pending.len());
    for mut p in pending {
        for param in p.params.iter_mut() {
            fix(&mut param.expr);
        }
        if let Kind::Compare { lhs, .. } = &mut p.kind {
            for e in lhs.iter_mut() {
                fix(e);
                *e = exprs::replace_placeholders(e, &values);
            }
        }
        let id = p.id;
        let (next, value) = attach::join_back(p, plan, &ctx, semi.contains(&id))?;
        plan = next;
        values.push((id, value));
    }
    Ok((plan, values))
}

/// `not supported: subqueries in <clause>` for a binder without a query
/// level (GROUP BY, statements other than SELECT).
fn unsupported_here(clause: Option<&str>, pos: Option<Position>) -> SqlError {
    let what = match clause {
        Some("WHERE" | "UPDATE" | "VALUES") => "subqueries in INSERT, UPDATE or DELETE".to_string(),
        Some(c) if !c.is_empty() => format!("subqueries in {c}"),
        _ => "subqueries here".to_string(),
    };
    SqlError::unsupported(what, pos)
}
