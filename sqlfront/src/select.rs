//! Planning SELECT: WHERE, GROUP BY (with PostgreSQL's name resolution and
//! the primary-key functional dependency rule), aggregates, HAVING,
//! DISTINCT, DISTINCT ON, the select list, ORDER BY / LIMIT / OFFSET.
//!
//! A one-shot SELECT returns its ORDER BY keys, LIMIT and OFFSET for the
//! caller to apply to the result. In a view's query (and wherever a query's
//! result is a relation: `for_view`), `ORDER BY … LIMIT/OFFSET` becomes a
//! `TopK` over the whole result and an ORDER BY without them is dropped (a
//! view is a set). `DISTINCT ON (…)` is always a `TopK` keeping the first
//! row of each group.

use freshet_engine::catalog::Column;
use freshet_engine::expr::{Expr, UnaryFunc};
use freshet_engine::plan::{Aggregate, AggregateFunc, Distinct, Filter, Map, Plan, Reduce, SortColumn, TopK};
use freshet_engine::value::{DataType, Value};
use sqlparser::ast;

use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::{fold_ident, pos_of, Binder, AGG_BASE};
use crate::from::plan_from;
use crate::scope::Scope;
use crate::subquery::{Level, Outer, SUBQ_BASE};
use crate::types::sql_type;
use crate::{Catalog, Query, SortKey};

/// Plans a query. `for_view`: a materialized view's query, or any query
/// whose result is a relation rather than rows to show: ORDER BY is
/// checked, and kept only as a `TopK` when there is a LIMIT or OFFSET; the
/// result has no hidden columns, sort keys, limit or offset.
pub(crate) fn plan_query(q: &ast::Query, catalog: &dyn Catalog, for_view: bool) -> Result<Query> {
    plan_query_in(q, catalog, for_view, None)
}

/// [`plan_query`] for a query nested in `outer` (a subquery in an
/// expression), whose names resolve in `outer` when not in its own FROM.
pub(crate) fn plan_query_in(
    q: &ast::Query,
    catalog: &dyn Catalog,
    for_view: bool,
    outer: Option<&Outer<'_>>,
) -> Result<Query> {
    let pos = pos_of(q);
    // The queries of a WITH clause are visible by name in the rest.
    let with_catalog;
    let catalog: &dyn Catalog = match &q.with {
        Some(w) => {
            with_catalog = crate::cte::plan_with(w, catalog)?;
            &with_catalog
        }
        None => catalog,
    };
    if q.fetch.is_some() {
        return Err(SqlError::unsupported("FETCH", pos));
    }
    if !q.locks.is_empty() {
        return Err(SqlError::unsupported("FOR UPDATE/SHARE", pos));
    }
    if q.for_clause.is_some() || q.settings.is_some() || q.format_clause.is_some() || !q.pipe_operators.is_empty() {
        return Err(SqlError::unsupported(format!("query clause in {q}"), pos));
    }
    // A parenthesised query with nothing added is that query (with its own
    // ORDER BY and LIMIT); a set operation is planned by `setop`.
    if let (ast::SetExpr::Query(inner), None, None) = (q.body.as_ref(), &q.order_by, &q.limit_clause) {
        return plan_query_in(inner, catalog, for_view, outer);
    }
    let select = match q.body.as_ref() {
        ast::SetExpr::Select(s) => Some(s),
        ast::SetExpr::SetOperation { .. } | ast::SetExpr::Query(_) => None,
        ast::SetExpr::Values(_) => return Err(SqlError::unsupported("VALUES lists", pos)),
        other => return Err(SqlError::unsupported(format!("query {other}"), pos)),
    };
    let (limit, offset) = limits(q.limit_clause.as_ref())?;
    let offset = offset.filter(|&o| !for_view || o > 0);
    let order_by: &[ast::OrderByExpr] = match &q.order_by {
        None => &[],
        Some(ob) => match &ob.kind {
            ast::OrderByKind::Expressions(e) => {
                if ob.interpolate.is_some() {
                    return Err(SqlError::unsupported("INTERPOLATE", pos));
                }
                e
            }
            ast::OrderByKind::All(_) => return Err(SqlError::unsupported("ORDER BY ALL", pos)),
        },
    };
    let unordered = for_view && limit.is_none() && offset.is_none();
    let mut query = match select {
        Some(select) => plan_select(select, order_by, catalog, unordered, outer, false)?,
        None => crate::setop::plan_set_query(&q.body, order_by, catalog, outer)?,
    };
    query.limit = limit;
    query.offset = offset;
    Ok(if for_view { as_relation(query) } else { query })
}

/// A planned query as a relation: its ORDER BY with LIMIT/OFFSET as a
/// `TopK` over the whole result, its hidden sort columns dropped.
pub(crate) fn as_relation(mut q: Query) -> Query {
    if q.limit.is_some() || q.offset.is_some() {
        q.plan = Plan::TopK(TopK {
            input: Box::new(q.plan),
            group_key: Vec::new(),
            order: q.order_by.iter().map(sort_column).collect(),
            limit: q.limit,
            offset: q.offset.unwrap_or(0),
        });
    }
    if q.hidden > 0 {
        let visible = q.plan.arity() - q.hidden;
        q.plan = Plan::Map(Map { input: Box::new(q.plan), exprs: (0..visible).map(Expr::Column).collect() });
    }
    Query { order_by: Vec::new(), hidden: 0, limit: None, offset: None, ..q }
}

fn sort_column(k: &SortKey) -> SortColumn {
    SortColumn { column: k.column, descending: k.descending, nulls_first: k.nulls_first }
}

/// LIMIT and OFFSET: integer constants (NULL / ALL mean none).
fn limits(clause: Option<&ast::LimitClause>) -> Result<(Option<u64>, Option<u64>)> {
    let Some(clause) = clause else { return Ok((None, None)) };
    match clause {
        ast::LimitClause::LimitOffset { limit, offset, limit_by } => {
            if !limit_by.is_empty() {
                return Err(SqlError::unsupported("LIMIT BY", pos_of(clause)));
            }
            let l = match limit {
                Some(e) => constant_count(e, "LIMIT")?,
                None => None,
            };
            let o = match offset {
                Some(o) => constant_count(&o.value, "OFFSET")?,
                None => None,
            };
            Ok((l, o))
        }
        ast::LimitClause::OffsetCommaLimit { .. } => Err(SqlError::unsupported("LIMIT offset, count", pos_of(clause))),
    }
}

fn constant_count(e: &ast::Expr, what: &'static str) -> Result<Option<u64>> {
    let pos = pos_of(e);
    let scope = Scope::default();
    let mut b = Binder::new(&scope, what);
    let t = b.bind(e)?;
    let v = match t.expr {
        Expr::Literal(v) => v,
        Expr::Unary { func: freshet_engine::expr::UnaryFunc::Cast(_), arg } => match *arg {
            Expr::Literal(Value::Text(s)) => s.trim().parse::<i64>().map(Value::Int8).map_err(|_| {
                SqlError::new(ErrorKind::Other, format!("invalid input syntax for type bigint: \"{s}\""), pos)
            })?,
            _ => return Err(SqlError::unsupported(format!("non-constant {what}"), pos)),
        },
        _ => return Err(SqlError::unsupported(format!("non-constant {what}"), pos)),
    };
    let n = match v {
        Value::Null => return Ok(None),
        Value::Int2(n) => i64::from(n),
        Value::Int4(n) => i64::from(n),
        Value::Int8(n) => n,
        Value::Text(s) => s.trim().parse::<i64>().map_err(|_| {
            SqlError::new(ErrorKind::Other, format!("invalid input syntax for type bigint: \"{s}\""), pos)
        })?,
        _ => {
            return Err(SqlError::new(
                ErrorKind::DatatypeMismatch,
                format!("argument of {what} must be type bigint, not type {}", t.ty),
                pos,
            ))
        }
    };
    if n < 0 {
        return Err(SqlError::new(ErrorKind::Other, format!("{what} must not be negative"), pos));
    }
    Ok(Some(n as u64))
}

/// One select-list entry after `*` expansion.
enum Target<'q> {
    Ast(&'q ast::Expr),
    Direct(Typed),
}

struct BoundTarget {
    name: String,
    value: Typed,
    refs: Vec<(usize, Option<Position>)>,
}

/// Plans a SELECT. `unordered`: its rows' order does not matter (a view
/// without LIMIT/OFFSET), so ORDER BY is checked but not kept.
/// `keep_unknown`: an input of a set operation, whose untyped literals in
/// the select list stay `Unknown` (the set operation types them) unless
/// DISTINCT or GROUP BY needs their type.
pub(crate) fn plan_select(
    select: &ast::Select,
    order_by: &[ast::OrderByExpr],
    catalog: &dyn Catalog,
    unordered: bool,
    outer: Option<&Outer<'_>>,
    keep_unknown: bool,
) -> Result<Query> {
    let level = Level::new(catalog, outer);
    let spos = Position::from_span(select.select_token.0.span);
    reject_select_extras(select, spos)?;
    let from = plan_from(&select.from, catalog, outer)?;
    let scope = &from.scope;
    let mut plan = from.plan;
    if let Some(w) = &select.selection {
        let mut b = Binder::new(scope, "WHERE");
        b.level = Some(&level);
        let cond = b.condition(w, "WHERE")?;
        plan = level.attach_filter(plan, cond)?;
    }

    // The select list, with `*` expanded.
    let mut targets: Vec<(Target, String, Option<Position>)> = Vec::new();
    for item in &select.projection {
        match item {
            ast::SelectItem::UnnamedExpr(e) => targets.push((Target::Ast(e), figure_colname(e), pos_of(e))),
            ast::SelectItem::ExprWithAlias { expr, alias } => targets.push((Target::Ast(expr), fold_ident(alias), pos_of(expr))),
            ast::SelectItem::Wildcard(opts) => {
                let p = Position::from_span(opts.wildcard_token.0.span);
                check_wildcard_options(opts, p)?;
                for c in scope.star(p)? {
                    targets.push((Target::Direct(Typed::new(c.expr, c.ty)), c.name, p));
                }
            }
            ast::SelectItem::QualifiedWildcard(kind, opts) => {
                let p = Position::from_span(opts.wildcard_token.0.span);
                check_wildcard_options(opts, p)?;
                let name = match kind {
                    ast::SelectItemQualifiedWildcardKind::ObjectName(n) => match n.0.as_slice() {
                        [ast::ObjectNamePart::Identifier(id)] => fold_ident(id),
                        _ => return Err(SqlError::unsupported(format!("{n}.*"), p)),
                    },
                    ast::SelectItemQualifiedWildcardKind::Expr(e) => {
                        return Err(SqlError::unsupported(format!("{e}.*"), pos_of(e)))
                    }
                };
                for c in scope.qualified_star(&name, p)? {
                    targets.push((Target::Direct(Typed::new(c.expr, c.ty)), c.name, p));
                }
            }
            ast::SelectItem::ExprWithAliases { expr, .. } => {
                return Err(SqlError::unsupported("multiple aliases", pos_of(expr)));
            }
        }
    }

    // GROUP BY keys, over the FROM row.
    let group_items: &[ast::Expr] = match &select.group_by {
        ast::GroupByExpr::Expressions(e, mods) => {
            if !mods.is_empty() {
                return Err(SqlError::unsupported("GROUP BY modifiers", spos));
            }
            e
        }
        ast::GroupByExpr::All(_) => return Err(SqlError::unsupported("GROUP BY ALL", spos)),
    };
    let mut keys: Vec<Expr> = Vec::new();
    let mut key_types: Vec<DataType> = Vec::new();
    for g in group_items {
        let gpos = pos_of(g);
        let mut b = Binder::new(scope, "GROUP BY");
        let bound = match g {
            ast::Expr::Value(v) if matches!(&v.value, ast::Value::Number(n, _) if n.bytes().all(|c| c.is_ascii_digit())) => {
                let ast::Value::Number(n, _) = &v.value else { unreachable!("matched above") };
                let idx = n.parse::<usize>().ok().filter(|i| *i >= 1 && *i <= targets.len()).ok_or_else(|| {
                    SqlError::new(ErrorKind::Other, format!("GROUP BY position {n} is not in select list"), gpos)
                })?;
                bind_target(&mut b, &targets[idx - 1].0)?
            }
            ast::Expr::GroupingSets(_) | ast::Expr::Cube(_) | ast::Expr::Rollup(_) => {
                return Err(SqlError::unsupported("grouping sets", gpos));
            }
            ast::Expr::Identifier(id) => match b.bind(g) {
                Ok(t) => t,
                Err(e) if e.kind() == Some(ErrorKind::UndefinedColumn) => {
                    let name = fold_ident(id);
                    match targets.iter().find(|(_, n, _)| *n == name) {
                        Some((t, _, _)) => bind_target(&mut b, t)?,
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            },
            _ => b.bind(g)?,
        };
        let key = coerce::resolve_unknown(bound);
        if !keys.contains(&key.expr) {
            keys.push(key.expr);
            key_types.push(key.ty);
        }
    }

    // The select list, HAVING and ORDER BY, aggregates allowed.
    let mut b = Binder::new(scope, "");
    b.level = Some(&level);
    b.no_aggs_in = None;
    let mut bound: Vec<BoundTarget> = Vec::with_capacity(targets.len());
    for (t, name, _) in &targets {
        b.refs.clear();
        let value = bind_target(&mut b, t)?;
        let value = if keep_unknown { value } else { coerce::resolve_unknown(value) };
        let refs = match t {
            Target::Ast(_) => std::mem::take(&mut b.refs),
            Target::Direct(_) => {
                let mut r = Vec::new();
                value.expr.visit_columns(&mut |c| r.push((c, None)));
                r
            }
        };
        bound.push(BoundTarget { name: name.clone(), value, refs });
    }
    let having = match &select.having {
        Some(h) => {
            b.refs.clear();
            let c = b.condition(h, "HAVING")?;
            Some((c, std::mem::take(&mut b.refs)))
        }
        None => None,
    };
    let (distinct, distinct_on) = match &select.distinct {
        None | Some(ast::Distinct::All) => (false, None),
        Some(ast::Distinct::Distinct) => (true, None),
        Some(ast::Distinct::On(on)) => (false, Some(on)),
    };
    let mut sort_keys = Vec::new();
    let mut hidden: Vec<BoundTarget> = Vec::new();
    for o in order_by {
        let opos = pos_of(&o.expr);
        if o.with_fill.is_some() {
            return Err(SqlError::unsupported("WITH FILL", opos));
        }
        let descending = match &o.options.sort {
            Some(ast::OrderBySort::Desc) => true,
            Some(ast::OrderBySort::Asc) | None => false,
            Some(ast::OrderBySort::Using(_)) => return Err(SqlError::unsupported("ORDER BY ... USING", opos)),
        };
        let nulls_first = o.options.nulls_first.unwrap_or(descending);
        let column = sort_target(&mut b, &bound, &mut hidden, &o.expr, "ORDER BY", distinct)?;
        // A key repeating an earlier one's target never decides anything;
        // PostgreSQL drops it (which matters to the DISTINCT ON check).
        if !sort_keys.iter().any(|k: &SortKey| k.column == column) {
            sort_keys.push(SortKey { column, descending, nulls_first });
        }
    }
    // DISTINCT ON: the targets, with their positions.
    let mut on_columns: Vec<(usize, Option<Position>)> = Vec::new();
    for e in distinct_on.into_iter().flatten() {
        let column = sort_target(&mut b, &bound, &mut hidden, e, "DISTINCT ON", false)?;
        on_columns.push((column, pos_of(e)));
    }
    if distinct_on.is_some() {
        sort_keys = distinct_on_order(sort_keys, &on_columns)?;
    }
    let aggs = std::mem::take(&mut b.aggs);

    let grouped = !keys.is_empty() || !aggs.is_empty() || having.is_some();
    let n_visible = bound.len();
    let mut all: Vec<BoundTarget> = bound;
    if !unordered || distinct_on.is_some() {
        all.extend(hidden);
    } else {
        sort_keys.clear();
    }
    let output_nullable: Vec<bool>;
    let exprs: Vec<Expr>;
    if grouped {
        // Keys whose SQL-equal values can differ in representation group by
        // their normalized value; the select list shows a `min_repr`
        // aggregate (appended after the query's own) in their place.
        let mut representative = Vec::with_capacity(keys.len());
        let mut next = aggs.len();
        for ty in &key_types {
            representative.push(if needs_normalizing(*ty) {
                next += 1;
                Some(next - 1)
            } else {
                None
            });
        }
        let mut g = Grouper { scope, keys, representative };
        let mut out = Vec::with_capacity(all.len());
        for t in &all {
            out.push(g.rewrite_checked(&t.value.expr, &t.refs)?);
        }
        let having = match having {
            Some((c, refs)) => Some(g.rewrite_checked(&c, &refs)?),
            None => None,
        };
        level.regroup(&mut |e| g.rewrite(e), scope)?;
        let nk = g.keys.len();
        let key_nullable: Vec<bool> = g.keys.iter().map(|k| coerce::nullable(k, &|c| scope.nullable(c))).collect();
        let mut aggs = aggs;
        let mut group_key = Vec::with_capacity(nk);
        for (i, key) in g.keys.into_iter().enumerate() {
            match g.representative[i] {
                Some(_) => {
                    group_key.push(normalized(key.clone(), key_types[i]));
                    aggs.push(min_repr(key, key_types[i]));
                }
                None => group_key.push(key),
            }
        }
        let agg_nullable: Vec<bool> = aggs
            .iter()
            .map(|a| match a.func {
                AggregateFunc::Count | AggregateFunc::CountStar => false,
                AggregateFunc::MinRepr => coerce::nullable(&a.expr, &|c| scope.nullable(c)),
                _ => true,
            })
            .collect();
        let remap = |e: &mut Expr| e.map_columns(&mut |c| if (AGG_BASE..SUBQ_BASE).contains(&c) { nk + (c - AGG_BASE) } else { c });
        plan = Plan::Reduce(Reduce { input: Box::new(plan), group_key, aggregates: aggs });
        let mut having = having;
        plan = level.attach(plan, out.iter_mut().chain(having.iter_mut()), &remap)?;
        if let Some(mut h) = having {
            remap(&mut h);
            plan = Plan::Filter(Filter { input: Box::new(plan), predicates: vec![h] });
        }
        let input_nullable = |c: usize| if c < nk { key_nullable[c] } else { agg_nullable.get(c - nk).copied().unwrap_or(true) };
        exprs = out
            .into_iter()
            .map(|mut e| {
                remap(&mut e);
                e
            })
            .collect();
        output_nullable = exprs.iter().map(|e| coerce::nullable(e, &input_nullable)).collect();
    } else {
        let mut values: Vec<Expr> = all.iter().map(|t| t.value.expr.clone()).collect();
        plan = level.attach(plan, values.iter_mut(), &|_| {})?;
        exprs = values;
        output_nullable = exprs.iter().map(|e| coerce::nullable(e, &|c| scope.nullable(c))).collect();
    }
    if distinct || distinct_on.is_some() || !group_items.is_empty() {
        all.iter_mut().for_each(|t| t.value.ty = coerce::resolve_unknown(t.value.clone()).ty);
    }
    let columns: Vec<Column> = all[..n_visible]
        .iter()
        .zip(&output_nullable)
        .map(|(t, n)| Column { name: t.name.clone(), ty: t.value.ty, nullable: *n })
        .collect();
    let hidden_count = exprs.len() - n_visible;
    plan = Plan::Map(Map { input: Box::new(plan), exprs });
    if distinct {
        let types: Vec<DataType> = all.iter().map(|t| t.value.ty).collect();
        plan = plan_distinct(plan, &types);
    }
    if distinct_on.is_some() {
        let on: Vec<usize> = on_columns.iter().map(|(c, _)| *c).collect();
        let group_key = on.iter().map(|&c| group_key_of(c, all[c].value.ty)).collect();
        // Within a group the DISTINCT ON values are SQL-equal: the other
        // keys decide which row is first.
        let order = sort_keys.iter().filter(|k| !on.contains(&k.column)).map(sort_column).collect();
        plan = Plan::TopK(TopK { input: Box::new(plan), group_key, order, limit: Some(1), offset: 0 });
    }
    Ok(Query { plan, columns, order_by: sort_keys, hidden: hidden_count, limit: None, offset: None })
}

/// Resolves an ORDER BY or DISTINCT ON item (`clause`) to a target column
/// as PostgreSQL does: a select-list position, an output column name,
/// else an expression over the FROM row, which reuses an equal target
/// (visible or hidden) or becomes a new hidden one. `distinct`: a SELECT
/// DISTINCT, where a new hidden target is an error.
fn sort_target(
    b: &mut Binder<'_>,
    bound: &[BoundTarget],
    hidden: &mut Vec<BoundTarget>,
    e: &ast::Expr,
    clause: &str,
    distinct: bool,
) -> Result<usize> {
    let pos = pos_of(e);
    if let ast::Expr::Value(v) = e {
        if let ast::Value::Number(n, _) = &v.value {
            if n.bytes().all(|c| c.is_ascii_digit()) {
                return n.parse::<usize>().ok().filter(|i| *i >= 1 && *i <= bound.len()).map(|i| i - 1).ok_or_else(
                    || SqlError::new(ErrorKind::Other, format!("{clause} position {n} is not in select list"), pos),
                );
            }
        }
    }
    if let ast::Expr::Identifier(id) = e {
        let name = fold_ident(id);
        let hits: Vec<usize> = bound.iter().enumerate().filter(|(_, t)| t.name == name).map(|(i, _)| i).collect();
        if hits.iter().any(|&h| bound[h].value != bound[hits[0]].value) {
            return Err(SqlError::new(ErrorKind::Ambiguous, format!("{clause} \"{name}\" is ambiguous"), pos));
        }
        if let Some(&i) = hits.first() {
            return Ok(i);
        }
    }
    b.refs.clear();
    let v = coerce::resolve_unknown(b.bind(e)?);
    let refs = std::mem::take(&mut b.refs);
    if let Some(i) = bound.iter().chain(hidden.iter()).position(|t| t.value.expr == v.expr) {
        return Ok(i);
    }
    if distinct {
        return Err(SqlError::new(
            ErrorKind::Other,
            "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
            pos,
        ));
    }
    hidden.push(BoundTarget { name: String::new(), value: v, refs });
    Ok(bound.len() + hidden.len() - 1)
}

/// The order of a DISTINCT ON query: its ORDER BY, which must start with
/// the DISTINCT ON targets (in any order), followed by any DISTINCT ON
/// target it lacks, ascending (PostgreSQL's rule and its error).
fn distinct_on_order(mut keys: Vec<SortKey>, on: &[(usize, Option<Position>)]) -> Result<Vec<SortKey>> {
    let mismatch = |pos| SqlError::new(ErrorKind::Other, "SELECT DISTINCT ON expressions must match initial ORDER BY expressions", pos);
    let mut skipped = false;
    for k in &keys {
        match on.iter().find(|(c, _)| *c == k.column) {
            Some((_, pos)) if skipped => return Err(mismatch(*pos)),
            Some(_) => {}
            None => skipped = true,
        }
    }
    for &(c, pos) in on {
        if keys.iter().any(|k| k.column == c) {
            continue;
        }
        if skipped {
            return Err(mismatch(pos));
        }
        keys.push(SortKey { column: c, descending: false, nulls_first: false });
    }
    Ok(keys)
}

/// The `TopK` group key for target column `c` of type `ty`: the value, or
/// its normalized form where SQL-equal values can differ (as for GROUP BY),
/// so DISTINCT ON merges what PostgreSQL merges.
fn group_key_of(c: usize, ty: DataType) -> Expr {
    if needs_normalizing(ty) {
        normalized(Expr::Column(c), ty)
    } else {
        Expr::Column(c)
    }
}

/// Whether values of type `ty` that SQL comparison deems equal can differ
/// in representation, and so in how they print: an unconstrained `numeric`
/// (`1.0`, `1.00`), `float8` (`0`, `-0`), `interval` (`1 mon`,
/// `30 days`) and `bpchar` without a length (`'a '`, `'a  '`). Grouping
/// by such a key must merge them, as PostgreSQL does. A `numeric(p,s)`
/// has one scale and a `char(n)` one length, so they are exact.
pub(crate) fn needs_normalizing(ty: DataType) -> bool {
    match ty {
        // Arrays compare element by element.
        DataType::Array(element) => needs_normalizing(*element),
        ty => matches!(ty, DataType::Numeric(None) | DataType::Float8 | DataType::Interval | DataType::Bpchar),
    }
}

/// The grouping key for `e` of type `ty` (see [`needs_normalizing`]): one
/// value per class of SQL-equal values.
pub(crate) fn normalized(e: Expr, ty: DataType) -> Expr {
    match ty {
        DataType::Bpchar => e.call_unary(UnaryFunc::CharToText),
        _ => e.call_unary(UnaryFunc::KeyNormalize),
    }
}

/// The member of a group's class of SQL-equal key values shown for the
/// group: the least in the total order (one of the answers PostgreSQL
/// gives, as it shows whichever member it met first).
pub(crate) fn min_repr(e: Expr, ty: DataType) -> Aggregate {
    Aggregate { func: AggregateFunc::MinRepr, expr: e, input_type: ty, distinct: false }
}

/// `SELECT DISTINCT` over `input`, whose columns have `types`: a plain
/// `Distinct` when every column's values are exact, otherwise a `Reduce`
/// keyed by the normalized values, showing each class of rows by its
/// least member (`min_repr`, chosen jointly over those columns, so the row
/// shown is one of the input's).
pub(crate) fn plan_distinct(input: Plan, types: &[DataType]) -> Plan {
    if !types.iter().any(|t| needs_normalizing(*t)) {
        return Plan::Distinct(Distinct { input: Box::new(input) });
    }
    let n = types.len();
    let mut group_key = Vec::with_capacity(n);
    let mut aggregates = Vec::new();
    let mut exprs = Vec::with_capacity(n);
    for (c, ty) in types.iter().enumerate() {
        if needs_normalizing(*ty) {
            group_key.push(normalized(Expr::Column(c), *ty));
            exprs.push(Expr::Column(n + aggregates.len()));
            aggregates.push(min_repr(Expr::Column(c), *ty));
        } else {
            group_key.push(Expr::Column(c));
            exprs.push(Expr::Column(c));
        }
    }
    let reduce = Plan::Reduce(Reduce { input: Box::new(input), group_key, aggregates });
    Plan::Map(Map { input: Box::new(reduce), exprs })
}

fn bind_target(b: &mut Binder<'_>, t: &Target<'_>) -> Result<Typed> {
    match t {
        Target::Ast(e) => b.bind(e),
        Target::Direct(t) => Ok(t.clone()),
    }
}

fn check_wildcard_options(opts: &ast::WildcardAdditionalOptions, pos: Option<Position>) -> Result<()> {
    // PostgreSQL's grammar has no alias after `*` (`SELECT * x` is a syntax
    // error at `x`), though the parser's dialect accepts one.
    if let Some(alias) = &opts.opt_alias {
        return Err(crate::parse::syntax_error_near(&alias.value, Position::from_span(alias.span).or(pos)));
    }
    if opts.opt_ilike.is_some()
        || opts.opt_exclude.is_some()
        || opts.opt_except.is_some()
        || opts.opt_replace.is_some()
        || opts.opt_rename.is_some()
    {
        return Err(SqlError::unsupported("wildcard options", pos));
    }
    Ok(())
}

fn reject_select_extras(s: &ast::Select, pos: Option<Position>) -> Result<()> {
    let what = if s.top.is_some() {
        "TOP"
    } else if s.into.is_some() {
        "SELECT INTO"
    } else if !s.lateral_views.is_empty() {
        "LATERAL VIEW"
    } else if s.prewhere.is_some() {
        "PREWHERE"
    } else if !s.connect_by.is_empty() {
        "CONNECT BY"
    } else if !s.cluster_by.is_empty() || !s.distribute_by.is_empty() || !s.sort_by.is_empty() {
        "CLUSTER/DISTRIBUTE/SORT BY"
    } else if !s.named_window.is_empty() {
        "window functions"
    } else if s.qualify.is_some() {
        "QUALIFY"
    } else if s.value_table_mode.is_some() || s.exclude.is_some() || s.select_modifiers.is_some() {
        "SELECT modifiers"
    } else if s.flavor != ast::SelectFlavor::Standard {
        "FROM-first SELECT"
    } else {
        return Ok(());
    };
    Err(SqlError::unsupported(what, pos))
}

/// Rewrites expressions over the FROM row into expressions over a
/// `Reduce`'s output (keys, then aggregates at `AGG_BASE + i`).
struct Grouper<'a> {
    scope: &'a Scope,
    keys: Vec<Expr>,
    /// Per key, the aggregate (`min_repr`) that shows its value when the
    /// key is grouped by its normalized value.
    representative: Vec<Option<usize>>,
}

impl Grouper<'_> {
    fn rewrite_checked(&mut self, e: &Expr, refs: &[(usize, Option<Position>)]) -> Result<Expr> {
        self.rewrite(e).map_err(|col| {
            let pos = refs.iter().find(|(c, _)| *c == col).and_then(|(_, p)| *p);
            SqlError::new(
                ErrorKind::Grouping,
                format!(
                    "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                    self.scope.describe(col)
                ),
                pos,
            )
        })
    }

    fn rewrite(&mut self, e: &Expr) -> std::result::Result<Expr, usize> {
        if let Some(i) = self.keys.iter().position(|k| k == e) {
            return Ok(match self.representative[i] {
                Some(a) => Expr::Column(AGG_BASE + a),
                None => Expr::Column(i),
            });
        }
        Ok(match e {
            Expr::Column(c) if *c >= AGG_BASE => Expr::Column(*c),
            Expr::Column(c) => {
                // A column of a table whose whole primary key is grouped on
                // is functionally dependent on the key.
                let rel = self.scope.rel_of(*c).ok_or(*c)?;
                let pk = self.scope.primary_key_columns(rel);
                if pk.is_empty() || !pk.iter().all(|k| self.keys.contains(&Expr::Column(*k))) {
                    return Err(*c);
                }
                // One row of the table per group: its columns are exact.
                self.keys.push(Expr::Column(*c));
                self.representative.push(None);
                Expr::Column(self.keys.len() - 1)
            }
            Expr::Literal(_) => e.clone(),
            Expr::Unary { func, arg } => Expr::Unary { func: func.clone(), arg: Box::new(self.rewrite(arg)?) },
            Expr::Binary { func, left, right } => Expr::Binary {
                func: func.clone(),
                left: Box::new(self.rewrite(left)?),
                right: Box::new(self.rewrite(right)?),
            },
            Expr::Variadic { func, args } => Expr::Variadic {
                func: func.clone(),
                args: args.iter().map(|a| self.rewrite(a)).collect::<std::result::Result<_, _>>()?,
            },
            Expr::If { cond, then, els } => Expr::If {
                cond: Box::new(self.rewrite(cond)?),
                then: Box::new(self.rewrite(then)?),
                els: Box::new(self.rewrite(els)?),
            },
        })
    }
}

/// PostgreSQL's `FigureColname`: the output name of an unaliased
/// select-list expression.
pub(crate) fn figure_colname(e: &ast::Expr) -> String {
    figure(e).0.unwrap_or_else(|| "?column?".to_string())
}

/// The one select-list item of a scalar subquery (its first branch's, for
/// a set operation), which names the subquery's value.
fn subquery_target(body: &ast::SetExpr) -> Option<&ast::SelectItem> {
    match body {
        ast::SetExpr::Select(s) if s.projection.len() == 1 => s.projection.first(),
        ast::SetExpr::Query(q) => subquery_target(&q.body),
        ast::SetExpr::SetOperation { left, .. } => subquery_target(left),
        _ => None,
    }
}

fn figure(e: &ast::Expr) -> (Option<String>, u8) {
    use ast::Expr as A;
    match e {
        A::Identifier(id) => (Some(fold_ident(id)), 2),
        A::CompoundIdentifier(ids) => (ids.last().map(fold_ident), 2),
        A::Nested(x) => figure(x),
        A::Function(f) => (
            f.name.0.last().and_then(|p| p.as_ident()).map(fold_ident),
            2,
        ),
        A::Cast { expr, data_type, .. } => {
            let (n, s) = figure(expr);
            if s <= 1 {
                (type_colname(data_type), 1)
            } else {
                (n, s)
            }
        }
        A::TypedString(ts) => (type_colname(&ts.data_type), 1),
        A::Interval(_) => (Some("interval".to_string()), 1),
        A::Exists { .. } => (Some("exists".to_string()), 2),
        A::Subquery(q) => match subquery_target(&q.body) {
            Some(ast::SelectItem::UnnamedExpr(e)) => (Some(figure_colname(e)), 2),
            Some(ast::SelectItem::ExprWithAlias { alias, .. }) => (Some(fold_ident(alias)), 2),
            _ => match crate::func::special_colname(e) {
            Some(name) => (Some(name.to_string()), 2),
            None => (None, 0),
        },
        },
        A::Case { else_result, .. } => {
            let (n, s) = else_result.as_deref().map_or((None, 0), figure);
            if s <= 1 {
                (Some("case".to_string()), 1)
            } else {
                (n, s)
            }
        }
        _ => (None, 0),
    }
}

fn type_colname(dt: &ast::DataType) -> Option<String> {
    Some(match sql_type(dt, None) {
        Ok(t) => t.name.to_string(),
        Err(_) => dt.to_string().to_lowercase(),
    })
}
