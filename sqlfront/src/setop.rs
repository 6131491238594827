//! Set operations: `UNION`, `INTERSECT` and `EXCEPT`, each `ALL` or
//! `DISTINCT`, nested and parenthesised (the parser gives `INTERSECT` its
//! higher precedence), with PostgreSQL's typing and naming: each column's
//! type is the common type of the two inputs' (as `UNION`'s type
//! resolution; literals of unknown type take the other side's type, text
//! when both are unknown), each side converted to it; names come from the
//! first branch. `ORDER BY` over the result names result columns (by name
//! or position).
//!
//! Lowering, in bag terms, with `a` and `b` the two inputs:
//!
//! * `UNION ALL` = `a ∪ b`; `UNION` = `DISTINCT (a ∪ b)`;
//! * `EXCEPT ALL` = `Threshold(a − b)` (each row `max(0, m − n)` times);
//! * `INTERSECT ALL` = `a − Threshold(a − b)` (each row `min(m, n)` times);
//! * `EXCEPT` = `Threshold(Distinct a − Distinct b)`;
//! * `INTERSECT` = `Distinct a − Threshold(Distinct a − Distinct b)`.
//!
//! Rows are equal when every column is SQL-equal, NULLs equal to NULLs.
//! Where a column's type can hold SQL-equal values that print differently
//! (`1.0`, `1.00`; see `select::needs_normalizing`), the operations work
//! on normalized values and show each class of equal rows by its least
//! member, as `SELECT DISTINCT` does: `UNION` through the same grouping
//! as `DISTINCT`; `EXCEPT`/`INTERSECT` as a grouping that counts each
//! class's rows on either side; the `ALL` forms compute multiplicities
//! over normalized rows and join each class to its representative from
//! the left input (PostgreSQL shows copies of one member of a class).

use freshet_engine::catalog::Column;
use freshet_engine::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use freshet_engine::plan::{
    Aggregate, AggregateFunc, Distinct, Filter, Join, JoinKind, Map, Negate, Plan, Reduce, Threshold, Union,
};
use freshet_engine::value::{DataType, Value};
use sqlparser::ast;

use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::{fold_ident, pos_of};
use crate::select::{as_relation, min_repr, needs_normalizing, normalized, plan_distinct, plan_query_in, plan_select};
use crate::subquery::Outer;
use crate::types;
use crate::{Catalog, Query, SortKey};

/// A planned set-operation input: its plan and columns (a column's type
/// is `Unknown` while it holds only untyped literals).
struct Branch {
    plan: Plan,
    columns: Vec<Column>,
}

/// Plans a query whose body is a set operation (or a parenthesised query)
/// with `order_by` over its result; LIMIT and OFFSET are the caller's.
pub(crate) fn plan_set_query(
    body: &ast::SetExpr,
    order_by: &[ast::OrderByExpr],
    catalog: &dyn Catalog,
    outer: Option<&Outer<'_>>,
) -> Result<Query> {
    let branch = plan_branch(body, catalog, outer)?;
    let columns: Vec<Column> = branch
        .columns
        .into_iter()
        .map(|c| Column { ty: if c.ty == DataType::Unknown { DataType::Text } else { c.ty }, ..c })
        .collect();
    let order_by = order_by.iter().map(|o| sort_key(o, &columns)).collect::<Result<Vec<_>>>()?;
    Ok(Query { plan: branch.plan, columns, order_by, hidden: 0, limit: None, offset: None })
}

/// An ORDER BY item over a set operation's result: a result column's name
/// or position, nothing else (PostgreSQL's rule).
fn sort_key(o: &ast::OrderByExpr, columns: &[Column]) -> Result<SortKey> {
    let pos = pos_of(&o.expr);
    if o.with_fill.is_some() {
        return Err(SqlError::unsupported("WITH FILL", pos));
    }
    let descending = match &o.options.sort {
        Some(ast::OrderBySort::Desc) => true,
        Some(ast::OrderBySort::Asc) | None => false,
        Some(ast::OrderBySort::Using(_)) => return Err(SqlError::unsupported("ORDER BY ... USING", pos)),
    };
    let nulls_first = o.options.nulls_first.unwrap_or(descending);
    let column = result_column(&o.expr, columns, pos)?;
    Ok(SortKey { column, descending, nulls_first })
}

fn result_column(e: &ast::Expr, columns: &[Column], pos: Option<Position>) -> Result<usize> {
    match e {
        ast::Expr::Nested(inner) => result_column(inner, columns, pos),
        ast::Expr::Value(v) if matches!(&v.value, ast::Value::Number(n, _) if n.bytes().all(|c| c.is_ascii_digit())) => {
            let ast::Value::Number(n, _) = &v.value else { unreachable!("matched above") };
            n.parse::<usize>().ok().filter(|i| *i >= 1 && *i <= columns.len()).map(|i| i - 1).ok_or_else(|| {
                SqlError::new(ErrorKind::Other, format!("ORDER BY position {n} is not in select list"), pos)
            })
        }
        ast::Expr::Identifier(id) => {
            let name = fold_ident(id);
            let mut hits = columns.iter().enumerate().filter(|(_, c)| c.name == name).map(|(i, _)| i);
            match (hits.next(), hits.next()) {
                (Some(i), None) => Ok(i),
                (Some(_), Some(_)) => {
                    Err(SqlError::new(ErrorKind::Ambiguous, format!("ORDER BY \"{name}\" is ambiguous"), pos))
                }
                (None, _) => {
                    Err(SqlError::new(ErrorKind::UndefinedColumn, format!("column \"{name}\" does not exist"), pos))
                }
            }
        }
        ast::Expr::CompoundIdentifier(ids) if ids.len() == 2 => Err(SqlError::new(
            ErrorKind::UndefinedTable,
            format!("missing FROM-clause entry for table \"{}\"", fold_ident(&ids[0])),
            pos,
        )),
        _ => Err(SqlError::new(ErrorKind::Other, "invalid UNION/INTERSECT/EXCEPT ORDER BY clause", pos)
            .with_hint("Add the expression/function to every SELECT, or move the UNION into a FROM clause.")),
    }
}

/// Plans one input of a set operation.
fn plan_branch(e: &ast::SetExpr, catalog: &dyn Catalog, outer: Option<&Outer<'_>>) -> Result<Branch> {
    let pos = pos_of(e);
    match e {
        ast::SetExpr::Select(s) => {
            let q = as_relation(plan_select(s, &[], catalog, true, outer, true)?);
            Ok(Branch { plan: q.plan, columns: q.columns })
        }
        ast::SetExpr::Query(q) => {
            let bare = q.with.is_none()
                && q.order_by.is_none()
                && q.limit_clause.is_none()
                && q.fetch.is_none()
                && q.locks.is_empty()
                && q.for_clause.is_none()
                && q.settings.is_none()
                && q.format_clause.is_none()
                && q.pipe_operators.is_empty();
            if bare {
                // Only parentheses: as if written without them.
                return plan_branch(&q.body, catalog, outer);
            }
            let q = plan_query_in(q, catalog, true, outer)?;
            Ok(Branch { plan: q.plan, columns: q.columns })
        }
        ast::SetExpr::SetOperation { left, op, set_quantifier, right } => {
            let op = match op {
                ast::SetOperator::Union => SetOp::Union,
                ast::SetOperator::Intersect => SetOp::Intersect,
                ast::SetOperator::Except => SetOp::Except,
                ast::SetOperator::Minus => return Err(SqlError::unsupported("MINUS", pos)),
            };
            let all = match set_quantifier {
                ast::SetQuantifier::All => true,
                ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                q => return Err(SqlError::unsupported(format!("{} {q}", op.name()), pos)),
            };
            let l = plan_branch(left, catalog, outer)?;
            let r = plan_branch(right, catalog, outer)?;
            combine(op, all, l, r, pos_of(right.as_ref()))
        }
        ast::SetExpr::Values(_) => Err(SqlError::unsupported("VALUES lists", pos)),
        other => Err(SqlError::unsupported(format!("query {other}"), pos)),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetOp {
    Union,
    Intersect,
    Except,
}

impl SetOp {
    fn name(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

/// Types, converts and lowers `l op r`.
fn combine(op: SetOp, all: bool, l: Branch, r: Branch, pos: Option<Position>) -> Result<Branch> {
    if l.columns.len() != r.columns.len() {
        return Err(SqlError::new(
            ErrorKind::Syntax,
            format!("each {} query must have the same number of columns", op.name()),
            pos,
        ));
    }
    let mut types = Vec::with_capacity(l.columns.len());
    let mut columns = Vec::with_capacity(l.columns.len());
    for (lc, rc) in l.columns.iter().zip(&r.columns) {
        let ty = match types::common_type(&[(lc.ty, pos), (rc.ty, pos)], op.name())? {
            // Only untyped literals on both sides: text, as PostgreSQL
            // resolves them at each set operation.
            DataType::Unknown => DataType::Text,
            ty => ty,
        };
        let nullable = match op {
            SetOp::Union => lc.nullable || rc.nullable,
            SetOp::Intersect => lc.nullable && rc.nullable,
            SetOp::Except => lc.nullable,
        };
        types.push(ty);
        columns.push(Column { name: lc.name.clone(), ty, nullable });
    }
    let left = converted(l, &types, pos)?;
    let right = converted(r, &types, pos)?;
    Ok(Branch { plan: lower(op, all, left, right, &types), columns })
}

/// `b`'s plan with its columns converted to `types`.
fn converted(b: Branch, types: &[DataType], pos: Option<Position>) -> Result<Plan> {
    let mut exprs = Vec::with_capacity(types.len());
    for (i, (c, ty)) in b.columns.iter().zip(types).enumerate() {
        exprs.push(coerce::implicit(Typed::new(Expr::Column(i), c.ty), *ty, pos)?.expr);
    }
    if exprs.iter().enumerate().all(|(i, e)| *e == Expr::Column(i)) {
        Ok(b.plan)
    } else {
        Ok(Plan::Map(Map { input: Box::new(b.plan), exprs }))
    }
}

fn union(inputs: Vec<Plan>) -> Plan {
    Plan::Union(Union { inputs })
}

fn negate(p: Plan) -> Plan {
    Plan::Negate(Negate { input: Box::new(p) })
}

fn threshold(p: Plan) -> Plan {
    Plan::Threshold(Threshold { input: Box::new(p) })
}

fn distinct(p: Plan) -> Plan {
    Plan::Distinct(Distinct { input: Box::new(p) })
}

/// `a op b` over inputs whose columns have `types`.
fn lower(op: SetOp, all: bool, a: Plan, b: Plan, types: &[DataType]) -> Plan {
    let exact = !types.iter().any(|t| needs_normalizing(*t));
    match (op, all) {
        (SetOp::Union, true) => union(vec![a, b]),
        (SetOp::Union, false) => plan_distinct(union(vec![a, b]), types),
        (SetOp::Except, true) if exact => threshold(union(vec![a, negate(b)])),
        (SetOp::Intersect, true) if exact => union(vec![a.clone(), negate(threshold(union(vec![a, negate(b)])))]),
        (SetOp::Except, false) if exact => threshold(union(vec![distinct(a), negate(distinct(b))])),
        (SetOp::Intersect, false) if exact => {
            let da = distinct(a);
            union(vec![da.clone(), negate(threshold(union(vec![da, negate(distinct(b))])))])
        }
        (_, false) => counted_classes(op, a, b, types),
        (_, true) => {
            let (na, nb) = (normalize_rows(a.clone(), types), normalize_rows(b, types));
            let counted = match op {
                SetOp::Except => threshold(union(vec![na, negate(nb)])),
                _ => union(vec![na.clone(), negate(threshold(union(vec![na, negate(nb)])))]),
            };
            with_representatives(counted, a, types)
        }
    }
}

/// The grouping key of column `c` of type `ty`: its normalized value where
/// SQL-equal values can differ, the value itself otherwise.
fn key(c: usize, ty: DataType) -> Expr {
    if needs_normalizing(ty) {
        normalized(Expr::Column(c), ty)
    } else {
        Expr::Column(c)
    }
}

/// Each row with its columns normalized.
fn normalize_rows(p: Plan, types: &[DataType]) -> Plan {
    Plan::Map(Map { input: Box::new(p), exprs: types.iter().enumerate().map(|(c, ty)| key(c, *ty)).collect() })
}

/// `EXCEPT` / `INTERSECT` (distinct) over types with SQL-equal values that
/// differ: the rows of both inputs grouped by class, counting each side's
/// rows, keeping the classes the operation keeps, shown by their least
/// member.
fn counted_classes(op: SetOp, a: Plan, b: Plan, types: &[DataType]) -> Plan {
    let n = types.len();
    let tagged = |p: Plan, in_a: i32| {
        let mut exprs: Vec<Expr> = (0..n).map(Expr::Column).collect();
        exprs.push(Expr::Literal(Value::Int4(in_a)));
        exprs.push(Expr::Literal(Value::Int4(1 - in_a)));
        Plan::Map(Map { input: Box::new(p), exprs })
    };
    let sum = |c: usize| Aggregate {
        func: AggregateFunc::Sum,
        expr: Expr::Column(c),
        input_type: DataType::Int4,
        distinct: false,
    };
    let mut aggregates = vec![sum(n), sum(n + 1)];
    let mut shown = Vec::with_capacity(n);
    for (c, ty) in types.iter().enumerate() {
        if needs_normalizing(*ty) {
            shown.push(Expr::Column(n + aggregates.len()));
            aggregates.push(min_repr(Expr::Column(c), *ty));
        } else {
            shown.push(Expr::Column(c));
        }
    }
    let reduce = Plan::Reduce(Reduce {
        input: Box::new(union(vec![tagged(a, 1), tagged(b, 0)])),
        group_key: types.iter().enumerate().map(|(c, ty)| key(c, *ty)).collect(),
        aggregates,
    });
    let zero = Expr::Literal(Value::Int8(0));
    let in_b = match op {
        SetOp::Except => BinaryFunc::Eq,
        _ => BinaryFunc::Gt,
    };
    let predicates =
        vec![Expr::Column(n).call_binary(BinaryFunc::Gt, zero.clone()), Expr::Column(n + 1).call_binary(in_b, zero)];
    let filter = Plan::Filter(Filter { input: Box::new(reduce), predicates });
    Plan::Map(Map { input: Box::new(filter), exprs: shown })
}

/// `rows` (normalized rows, each with the multiplicity the result needs)
/// with each class shown by its least member among `source`'s rows.
fn with_representatives(rows: Plan, source: Plan, types: &[DataType]) -> Plan {
    let n = types.len();
    let mut aggregates = Vec::new();
    let mut shown = Vec::with_capacity(n);
    for (c, ty) in types.iter().enumerate() {
        if needs_normalizing(*ty) {
            // After the row's columns and the class's key columns.
            shown.push(Expr::Column(2 * n + aggregates.len()));
            aggregates.push(min_repr(Expr::Column(c), *ty));
        } else {
            shown.push(Expr::Column(c));
        }
    }
    let classes = Plan::Reduce(Reduce {
        input: Box::new(source),
        group_key: types.iter().enumerate().map(|(c, ty)| key(c, *ty)).collect(),
        aggregates,
    });
    // Row and class match on every column, NULL matching NULL: each
    // column compared through a value that is never NULL.
    let residual =
        (0..n).map(|c| null_safe(Expr::Column(c)).call_binary(BinaryFunc::Eq, null_safe(Expr::Column(n + c))));
    let join = Plan::Join(Join {
        kind: JoinKind::Inner,
        left: Box::new(rows),
        right: Box::new(classes),
        equi: Vec::new(),
        residual: residual.collect(),
    });
    Plan::Map(Map { input: Box::new(join), exprs: shown })
}

/// A text value equal for equal (normalized) values, distinct for distinct
/// ones, and never NULL: `''` for NULL, the value's text followed by `.`
/// otherwise. It cannot fail, so the equality is a join key.
fn null_safe(e: Expr) -> Expr {
    let text =
        e.call_unary(UnaryFunc::Cast(DataType::Text)).call_binary(BinaryFunc::Concat, Expr::Literal(Value::text(".")));
    Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![text, Expr::Literal(Value::text(""))] }
}
