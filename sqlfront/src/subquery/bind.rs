//! Binding subquery expressions: the subquery is planned with the
//! enclosing query as its outer scope, registered with the enclosing
//! level, and represented by its placeholder column.

use freshet_engine::expr::{Expr, UnaryFunc};
use freshet_engine::plan::{AggregateFunc, Plan};
use freshet_engine::value::DataType;
use sqlparser::ast;

use super::{unsupported_here, CmpOp, Kind, Level, Outer, Planned, PARAM_BASE};
use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::{pos_of, Binder};

/// Plans `q` as a subquery of the query `b` binds.
fn plan_subquery<'l>(b: &Binder<'l>, q: &ast::Query, pos: Option<Position>) -> Result<(&'l Level<'l>, Planned)> {
    let level = b.level.ok_or_else(|| unsupported_here(b.no_aggs_in, pos))?;
    let outer = Outer::new(b.scope, level.outer());
    let query = crate::select::plan_query_in(q, level.catalog, true, Some(&outer))?;
    let params = outer.into_params();
    check_outer_aggregates(&query.plan, pos)?;
    let visible = query.columns.len();
    let plan = if query.plan.arity() == visible {
        query.plan
    } else {
        Plan::Map(freshet_engine::plan::Map {
            input: Box::new(query.plan),
            exprs: (0..visible).map(Expr::Column).collect(),
        })
    };
    let planned = Planned {
        plan,
        types: query.columns.iter().map(|c| c.ty).collect(),
        nullable: query.columns.iter().map(|c| c.nullable).collect(),
        params,
    };
    Ok((level, planned))
}

/// An aggregate whose arguments are all values of the enclosing query
/// belongs to that query in PostgreSQL (`SELECT (SELECT sum(o.x)) FROM o`
/// sums over `o`); freshet does not support that.
pub(super) fn check_outer_aggregates(plan: &Plan, pos: Option<Position>) -> Result<()> {
    let mut found = false;
    plan.visit(&mut |p| {
        if let Plan::Reduce(r) = p {
            for a in &r.aggregates {
                let mut local = false;
                let mut outer = false;
                a.expr.visit_columns(&mut |c| {
                    if c >= PARAM_BASE {
                        outer = true;
                    } else {
                        local = true;
                    }
                });
                found |= outer && !local;
            }
        }
    });
    if found {
        return Err(SqlError::unsupported("aggregate functions over columns of an enclosing query", pos));
    }
    Ok(())
}

/// `(SELECT ...)` as a value.
pub(crate) fn bind_scalar(b: &mut Binder<'_>, q: &ast::Query, pos: Option<Position>) -> Result<Typed> {
    let (level, p) = plan_subquery(b, q, pos)?;
    if p.types.len() != 1 {
        return Err(SqlError::new(ErrorKind::Syntax, "subquery must return only one column", pos));
    }
    let ty = p.types[0];
    let e = level.push(Kind::Scalar, p, pos);
    Ok(Typed::new(e, ty))
}

/// `[NOT] EXISTS (SELECT ...)`.
pub(crate) fn bind_exists(b: &mut Binder<'_>, q: &ast::Query, negated: bool, pos: Option<Position>) -> Result<Typed> {
    let (level, p) = plan_subquery(b, q, pos)?;
    let e = level.push(Kind::Exists, p, pos);
    Ok(Typed::new(if negated { e.call_unary(UnaryFunc::Not) } else { e }, DataType::Bool))
}

/// `lhs [NOT] IN (SELECT ...)`: `= ANY`, negated.
pub(crate) fn bind_in(
    b: &mut Binder<'_>,
    lhs: &ast::Expr,
    q: &ast::Query,
    negated: bool,
    pos: Option<Position>,
) -> Result<Typed> {
    let e = compare(b, lhs, CmpOp::Eq, "=", false, q, pos)?;
    Ok(Typed::new(if negated { e.call_unary(UnaryFunc::Not) } else { e }, DataType::Bool))
}

/// `lhs op ANY/SOME (SELECT ...)` and `lhs op ALL (SELECT ...)`.
pub(crate) fn bind_quantified(
    b: &mut Binder<'_>,
    lhs: &ast::Expr,
    op: &ast::BinaryOperator,
    right: &ast::Expr,
    all: bool,
    pos: Option<Position>,
) -> Result<Typed> {
    use ast::BinaryOperator as B;
    let (op, symbol) = match op {
        B::Eq => (CmpOp::Eq, "="),
        B::NotEq => (CmpOp::NotEq, "<>"),
        B::Lt => (CmpOp::Lt, "<"),
        B::LtEq => (CmpOp::Lte, "<="),
        B::Gt => (CmpOp::Gt, ">"),
        B::GtEq => (CmpOp::Gte, ">="),
        other => return Err(SqlError::unsupported(format!("operator {other} with ANY/ALL"), pos)),
    };
    let mut right = right;
    while let ast::Expr::Nested(inner) = right {
        right = inner;
    }
    let ast::Expr::Subquery(q) = right else {
        return Err(SqlError::unsupported("ANY/ALL over an array", pos));
    };
    let e = compare(b, lhs, op, symbol, all, q, pos)?;
    Ok(Typed::new(e, DataType::Bool))
}

fn compare(
    b: &mut Binder<'_>,
    lhs: &ast::Expr,
    op: CmpOp,
    symbol: &str,
    all: bool,
    q: &ast::Query,
    pos: Option<Position>,
) -> Result<Expr> {
    let items: Vec<&ast::Expr> = match lhs {
        ast::Expr::Tuple(items) => items.iter().collect(),
        e => vec![e],
    };
    let mut bound = Vec::with_capacity(items.len());
    for i in &items {
        bound.push((b.bind(i)?, pos_of(*i)));
    }
    let (level, p) = plan_subquery(b, q, pos)?;
    match p.types.len().cmp(&items.len()) {
        std::cmp::Ordering::Greater => {
            return Err(SqlError::new(ErrorKind::Syntax, "subquery has too many columns", pos));
        }
        std::cmp::Ordering::Less => {
            return Err(SqlError::new(ErrorKind::Syntax, "subquery has too few columns", pos));
        }
        std::cmp::Ordering::Equal => {}
    }
    let row_form = items.len() > 1;
    if row_form && !matches!((op, all), (CmpOp::Eq, false) | (CmpOp::NotEq, true)) {
        return Err(SqlError::unsupported(format!("row comparison {symbol} {}", if all { "ALL" } else { "ANY" }), pos));
    }
    let scope = b.scope;
    let mut lhs_exprs = Vec::with_capacity(items.len());
    let mut lhs_nullable = Vec::with_capacity(items.len());
    let mut rhs = Vec::with_capacity(items.len());
    let mut types = Vec::with_capacity(items.len());
    for (i, (t, ipos)) in bound.into_iter().enumerate() {
        let right = Typed::new(Expr::Column(i), p.types[i]);
        let (l, r, ty) = coerce::comparison_operands_typed(symbol, t, right, ipos.or(pos))?;
        lhs_nullable.push(coerce::nullable(&l, &|c| scope.nullable(c)));
        lhs_exprs.push(l);
        rhs.push(r);
        types.push(ty);
    }
    // Ordering comparisons (and `<> ANY`, `= ALL`) go through the
    // subquery's least and greatest values.
    let by_extremes = !matches!((op, all), (CmpOp::Eq, false) | (CmpOp::NotEq, true));
    if by_extremes
        && coerce::aggregate_arg("min", AggregateFunc::Min, Typed::new(rhs[0].clone(), types[0]), pos).is_err()
    {
        let quantifier = if all { "ALL" } else { "ANY" };
        let ty = crate::types::type_name(types[0]);
        return Err(SqlError::unsupported(format!("{symbol} {quantifier} (subquery) over type {ty}"), pos));
    }
    let kind = Kind::Compare { op, all, lhs: lhs_exprs, lhs_nullable, rhs, types };
    Ok(level.push(kind, p, pos))
}
