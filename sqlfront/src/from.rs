//! Planning FROM clauses: tables, views, `WITH` queries and derived tables
//! (`(SELECT …) AS s`), each with an optional column alias list, joined by
//! inner, left, right, full and cross joins (ON, USING, NATURAL) and by
//! commas, as a left-deep tree of `Join` nodes.
//!
//! Columns are numbered over the whole FROM row: the relations' columns in
//! FROM order. A join's conditions are bound in those numbers and rebased
//! onto the join's own row, which starts at the first column of its left
//! input (a join in parentheses is planned on its own).
//!
//! `RIGHT JOIN` is a left join with the inputs swapped under a projection
//! restoring the column order. `FULL JOIN` is a full outer join node.
//! `USING`/`NATURAL` merge each key pair into one column as PostgreSQL
//! does: the left column for inner and left joins (the right one when only
//! the left needs a type conversion), the right column for right joins,
//! `COALESCE(left, right)` for full joins.
//!
//! A `LATERAL (subquery)` may read the columns of the items to its left
//! (the earlier comma-separated items and its join's left input); it is
//! decorrelated and joined onto them (`crate::subquery::join_lateral`).
//! RIGHT and FULL joins with such a reference are PostgreSQL's error.
//!
//! Subqueries in an ON condition: an inner join's condition filters the
//! joined rows, its subqueries attached as in WHERE; an outer join's
//! subqueries are each attached to the input whose columns they read
//! (`crate::subquery::attach_to_inputs`).
//!
//! A comma binds looser than `JOIN`: `a, b JOIN c ON …` is `a × (b ⋈ c)`.
//! For inner and left joins that is the same relation as `(a × b) ⋈ c`,
//! which is how it is built (the optimiser then sees one chain of inner
//! joins); an item holding a right or full join is planned on its own and
//! then cross-joined, since `(a × b)` would be null-extended too.

use freshet_engine::catalog::Column;
use freshet_engine::expr::{BinaryFunc, Expr, VariadicFunc};
use freshet_engine::plan::{Constant, Get, Join, JoinKind, Map, Plan};
use freshet_engine::value::Row;
use sqlparser::ast;

use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::{fold_ident, pos_of, Binder};
use crate::scope::{Rel, Scope, ScopeColumn};
use crate::select::plan_query_in;
use crate::subquery::{
    attach_to_inputs, join_lateral, map_row_columns, plan_lateral, LateralJoin, Level, Outer, Param, SUBQ_BASE,
};
use crate::types;
use crate::Catalog;

/// A planned FROM clause.
pub(crate) struct PlannedFrom {
    /// The joined rows.
    pub plan: Plan,
    /// Its names.
    pub scope: Scope,
}

/// Plans `from` (an empty FROM is one empty row).
/// In a subquery, `outer` is the enclosing query, whose columns JOIN
/// conditions and derived tables may read.
pub(crate) fn plan_from(
    items: &[ast::TableWithJoins],
    catalog: &dyn Catalog,
    outer: Option<&Outer<'_>>,
) -> Result<PlannedFrom> {
    let mut b = FromBuilder { catalog, outer, rels: Vec::new(), lateral_rels: Vec::new(), lateral_cols: Vec::new() };
    let mut plan: Option<Plan> = None;
    let mut columns = Vec::new();
    for item in items {
        // A LATERAL item may read the items before it.
        b.lateral_rels = (0..b.rels.len()).collect();
        b.lateral_cols = columns.clone();
        let offset = plan.as_ref().map_or(0, Plan::arity);
        let (p, cols, _) = b.table_with_joins(item, offset, plan.take())?;
        plan = Some(p);
        columns.extend(cols);
    }
    let plan = plan.unwrap_or_else(|| Plan::Constant(Constant { rows: vec![(Row::empty(), 1)], arity: 0 }));
    // Nullability may have changed after a column was copied (an outer
    // join above the one that merged it).
    for c in columns.iter_mut() {
        if let Expr::Column(i) = c.expr {
            if let Some(r) = b.rels.iter().find(|r| i >= r.offset && i < r.offset + r.columns.len()) {
                c.nullable = c.nullable || r.columns[i - r.offset].nullable;
            }
        }
    }
    let visible_rels = (0..b.rels.len()).collect();
    Ok(PlannedFrom { plan, scope: Scope { rels: b.rels, visible_rels, columns } })
}

/// The SQL join types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JoinType {
    Inner,
    Left,
    Right,
    Full,
}

impl JoinType {
    /// Whether the left input's rows can appear null-extended.
    fn pads_left(self) -> bool {
        matches!(self, JoinType::Right | JoinType::Full)
    }

    /// Whether the right input's rows can appear null-extended.
    fn pads_right(self) -> bool {
        matches!(self, JoinType::Left | JoinType::Full)
    }
}

struct FromBuilder<'a> {
    catalog: &'a dyn Catalog,
    outer: Option<&'a Outer<'a>>,
    rels: Vec<Rel>,
    /// What a LATERAL item may read besides the left input of its own
    /// join: the FROM items before the current one and, inside a
    /// parenthesised join, the left inputs of the joins holding it.
    lateral_rels: Vec<usize>,
    /// The unqualified columns of `lateral_rels`.
    lateral_cols: Vec<ScopeColumn>,
}

/// The parts of a `LATERAL (subquery) alias` FROM item.
struct LateralItem<'q> {
    subquery: &'q ast::Query,
    alias: &'q ast::TableAlias,
    pos: Option<Position>,
}

/// `f` as a LATERAL subquery, if it is one.
fn lateral_item(f: &ast::TableFactor) -> Result<Option<LateralItem<'_>>> {
    let pos = pos_of(f);
    match f {
        ast::TableFactor::Derived { lateral: true, subquery, alias, sample } => {
            if sample.is_some() {
                return Err(SqlError::unsupported(format!("table reference {f}"), pos));
            }
            match alias {
                Some(alias) => Ok(Some(LateralItem { subquery, alias, pos })),
                None => Err(SqlError::new(ErrorKind::Syntax, "subquery in FROM must have an alias", pos)
                    .with_hint("For example, FROM (SELECT ...) [AS] foo.")),
            }
        }
        _ => Ok(None),
    }
}

/// `a AND b AND ...` (`TRUE` for none).
fn conjunction(mut conditions: Vec<Expr>) -> Expr {
    match conditions.len() {
        0 => Expr::Literal(freshet_engine::value::Value::Bool(true)),
        1 => conditions.pop().unwrap_or(Expr::Literal(freshet_engine::value::Value::Bool(true))),
        _ => Expr::Variadic { func: VariadicFunc::And, args: conditions },
    }
}

impl FromBuilder<'_> {
    /// Plans `item`, whose first column is FROM-row column `offset`. When
    /// `left` is given (the previous items, from column 0), the item is
    /// cross-joined onto it. Returns the plan, the item's visible columns
    /// and its relations.
    fn table_with_joins(
        &mut self,
        item: &ast::TableWithJoins,
        offset: usize,
        left: Option<Plan>,
    ) -> Result<(Plan, Vec<ScopeColumn>, Vec<usize>)> {
        use ast::JoinOperator as J;
        let pads_left =
            item.joins.iter().any(|j| matches!(j.join_operator, J::Right(_) | J::RightOuter(_) | J::FullOuter(_)));
        let left = match left {
            Some(l) if pads_left => {
                let (p, cols, rels) = self.table_with_joins(item, offset, None)?;
                return Ok((join(JoinKind::Inner, l, p, Vec::new()), cols, rels));
            }
            left => left,
        };
        let first_rel = self.rels.len();
        // The join tree's row starts at FROM-row column `base`.
        let (mut plan, base, mut visible) = match lateral_item(&item.relation)? {
            Some(lat) => {
                let (sub, cols, params) =
                    self.lateral(&lat, offset, self.lateral_rels.clone(), self.lateral_cols.clone())?;
                match left {
                    // The previous items are the plan's first columns.
                    Some(l) => (join_lateral(l, sub, &params, LateralJoin::Inner, None)?, 0, cols),
                    None => {
                        self.check_in_plan(&params, offset, offset, lat.pos)?;
                        (sub, offset, cols)
                    }
                }
            }
            None => {
                let (first, cols) = self.factor(&item.relation, offset)?;
                match left {
                    Some(l) => (join(JoinKind::Inner, l, first, Vec::new()), 0, cols),
                    None => (first, offset, cols),
                }
            }
        };
        let mut item_rels: Vec<usize> = (first_rel..self.rels.len()).collect();
        for j in &item.joins {
            let right_offset = base + plan.arity();
            let right_first = self.rels.len();
            let (right, right_cols, params) = match lateral_item(&j.relation)? {
                Some(lat) => {
                    let mut rels = self.lateral_rels.clone();
                    rels.extend(&item_rels);
                    let mut cols = self.lateral_cols.clone();
                    cols.extend(visible.iter().cloned());
                    self.lateral(&lat, right_offset, rels, cols)?
                }
                None if matches!(j.relation, ast::TableFactor::NestedJoin { .. }) => {
                    // A LATERAL item inside may read this join's left input.
                    let saved = (self.lateral_rels.clone(), self.lateral_cols.clone());
                    self.lateral_rels.extend(&item_rels);
                    self.lateral_cols.extend(visible.iter().cloned());
                    let planned = self.factor(&j.relation, right_offset);
                    (self.lateral_rels, self.lateral_cols) = saved;
                    let (p, c) = planned?;
                    (p, c, Vec::new())
                }
                None => {
                    let (p, c) = self.factor(&j.relation, right_offset)?;
                    (p, c, Vec::new())
                }
            };
            let right_rels: Vec<usize> = (right_first..self.rels.len()).collect();
            let pos = pos_of(&j.relation);
            let (ty, constraint) = match &j.join_operator {
                J::Join(c) | J::Inner(c) | J::CrossJoin(c) => (JoinType::Inner, c),
                J::Left(c) | J::LeftOuter(c) => (JoinType::Left, c),
                J::Right(c) | J::RightOuter(c) => (JoinType::Right, c),
                J::FullOuter(c) => (JoinType::Full, c),
                J::Semi(_) | J::LeftSemi(_) | J::RightSemi(_) => return Err(SqlError::unsupported("SEMI JOIN", pos)),
                J::Anti(_) | J::LeftAnti(_) | J::RightAnti(_) => return Err(SqlError::unsupported("ANTI JOIN", pos)),
                J::CrossApply | J::OuterApply => return Err(SqlError::unsupported("APPLY", pos)),
                J::AsOf { .. } => return Err(SqlError::unsupported("ASOF JOIN", pos)),
                _ => return Err(SqlError::unsupported("this kind of join", pos)),
            };
            // Subqueries in an ON condition.
            let level = Level::new(self.catalog, self.outer);
            let (conditions, merged) = match constraint {
                ast::JoinConstraint::On(e) => {
                    let mut rels_here = item_rels.clone();
                    rels_here.extend(&right_rels);
                    let scope = Scope {
                        rels: self.rels.clone(),
                        visible_rels: rels_here,
                        columns: visible.iter().chain(right_cols.iter()).cloned().collect(),
                    };
                    let mut binder = Binder::new(&scope, "JOIN conditions");
                    binder.outer = self.outer;
                    binder.level = Some(&level);
                    let cond = binder.condition(e, "JOIN/ON")?;
                    let mut cols = padded(std::mem::take(&mut visible), ty.pads_left());
                    cols.extend(padded(right_cols, ty.pads_right()));
                    (vec![cond], cols)
                }
                ast::JoinConstraint::Using(names) => {
                    let names = names
                        .iter()
                        .map(|n| match n.0.as_slice() {
                            [ast::ObjectNamePart::Identifier(id)] => Ok((fold_ident(id), Position::from_span(id.span))),
                            _ => Err(SqlError::unsupported(format!("USING column {n}"), pos)),
                        })
                        .collect::<Result<Vec<_>>>()?;
                    using(ty, std::mem::take(&mut visible), right_cols, &names)?
                }
                ast::JoinConstraint::Natural => {
                    let names: Vec<(String, Option<Position>)> = visible
                        .iter()
                        .filter(|l| right_cols.iter().any(|r| r.name == l.name))
                        .map(|l| (l.name.clone(), pos))
                        .collect();
                    using(ty, std::mem::take(&mut visible), right_cols, &names)?
                }
                ast::JoinConstraint::None => {
                    if !matches!(j.join_operator, J::CrossJoin(_)) {
                        return Err(SqlError::new(ErrorKind::Syntax, "syntax error: JOIN requires ON or USING", pos));
                    }
                    let mut cols = std::mem::take(&mut visible);
                    cols.extend(right_cols);
                    (Vec::new(), cols)
                }
            };
            // Qualified references to a null-extended side see NULLs too.
            let mut padded_rels: Vec<usize> = Vec::new();
            if ty.pads_left() {
                padded_rels.extend(&item_rels);
            }
            if ty.pads_right() {
                padded_rels.extend(&right_rels);
            }
            for r in padded_rels {
                self.rels[r].columns.iter_mut().for_each(|c| c.nullable = true);
            }
            visible = merged;
            let split = right_offset;
            plan = self.join_step(ty, plan, right, conditions, &params, &level, base, split, pos)?;
            item_rels.extend(right_rels);
        }
        Ok((plan, visible, item_rels))
    }

    /// Plans the LATERAL item `lat`, whose first column is FROM-row column
    /// `offset`, able to read the relations `rels` (with unqualified
    /// columns `columns`). Returns its plan, its columns, and the values
    /// it reads from `rels` (over the FROM row; none when it reads none).
    fn lateral(
        &mut self,
        lat: &LateralItem<'_>,
        offset: usize,
        rels: Vec<usize>,
        columns: Vec<ScopeColumn>,
    ) -> Result<(Plan, Vec<ScopeColumn>, Vec<Param>)> {
        let scope = Scope { rels: self.rels.clone(), visible_rels: rels, columns };
        let (query, params) = plan_lateral(lat.subquery, self.catalog, &scope, self.outer, lat.pos)?;
        let name = fold_ident(&lat.alias.name);
        let cols = self.add_rel(&name, Some(lat.alias), query.columns, Vec::new(), offset, lat.pos)?;
        Ok((query.plan, cols, params))
    }

    /// Checks that the FROM-row columns `params` read are in the plan being
    /// joined onto (columns `lo .. hi`): a LATERAL item inside parentheses
    /// or in an item planned on its own cannot see the rest.
    fn check_in_plan(&self, params: &[Param], lo: usize, hi: usize, pos: Option<Position>) -> Result<()> {
        let mut outside = false;
        for p in params {
            p.expr.visit_columns(&mut |c| outside |= c < SUBQ_BASE && !(lo..hi).contains(&c));
        }
        if outside {
            return Err(SqlError::unsupported(
                "a LATERAL reference to a FROM item outside its parenthesised join or across a RIGHT or FULL JOIN",
                pos,
            ));
        }
        Ok(())
    }

    /// The FROM item holding FROM-row column `col`.
    fn rel_name(&self, col: usize) -> String {
        self.rels
            .iter()
            .find(|r| col >= r.offset && col < r.offset + r.columns.len())
            .map_or_else(String::new, |r| r.name.clone())
    }

    /// Joins `right` (from FROM-row column `split`) onto `left` (from
    /// `base`) under `conditions` (over FROM-row columns, reading the
    /// subqueries pending in `level`). `params`: the values of `left` a
    /// LATERAL `right` reads.
    #[allow(clippy::too_many_arguments)]
    fn join_step(
        &self,
        ty: JoinType,
        left: Plan,
        right: Plan,
        conditions: Vec<Expr>,
        params: &[Param],
        level: &Level<'_>,
        base: usize,
        split: usize,
        pos: Option<Position>,
    ) -> Result<Plan> {
        let rebase = |e: &Expr| map_row_columns(e, &mut |c| c - base);
        if !params.is_empty() {
            if ty.pads_left() {
                let mut col = None;
                params.iter().for_each(|p| p.expr.visit_columns(&mut |c| col = col.or((c < SUBQ_BASE).then_some(c))));
                let name = col.map(|c| self.rel_name(c)).unwrap_or_default();
                return Err(SqlError::new(
                    ErrorKind::Other,
                    format!("invalid reference to FROM-clause entry for table \"{name}\""),
                    pos,
                )
                .with_hint("The combining JOIN type must be INNER or LEFT for a LATERAL reference."));
            }
            self.check_in_plan(params, base, split, pos)?;
            let params: Vec<Param> = params.iter().map(|p| Param { expr: rebase(&p.expr), ..p.clone() }).collect();
            let kind = if ty == JoinType::Left { LateralJoin::Left } else { LateralJoin::Inner };
            if !level.has_pending() {
                let cond = (!conditions.is_empty()).then(|| conjunction(conditions.iter().map(rebase).collect()));
                return join_lateral(left, right, &params, kind, cond);
            }
            if kind == LateralJoin::Left {
                return Err(SqlError::unsupported("subqueries in the ON condition of LEFT JOIN LATERAL", pos));
            }
            let joined = join_lateral(left, right, &params, kind, None)?;
            return filter_on(joined, &conditions, level, base);
        }
        if !level.has_pending() {
            return Ok(join_node(ty, left, right, conditions, base, split));
        }
        if ty == JoinType::Inner {
            // Pairs failing the condition are dropped: it can filter the
            // join's rows, with its subqueries attached as in WHERE.
            let joined = join_node(ty, left, right, Vec::new(), base, split);
            return filter_on(joined, &conditions, level, base);
        }
        // An outer join: each subquery attached to the input it reads.
        let (la, ra) = (split - base, right.arity());
        let inputs = attach_to_inputs(level, left, right, conjunction(conditions), base, split, pos)?;
        let el = inputs.left_extra;
        let joined = join_node(ty, inputs.left, inputs.right, vec![inputs.cond], 0, la + el);
        let exprs = (0..la).chain(la + el..la + el + ra).map(Expr::Column).collect();
        Ok(Plan::Map(Map { input: Box::new(joined), exprs }))
    }

    /// A table, a view, a `WITH` query, a derived table or a parenthesised
    /// join, whose first column is FROM-row column `offset`.
    fn factor(&mut self, f: &ast::TableFactor, offset: usize) -> Result<(Plan, Vec<ScopeColumn>)> {
        let pos = pos_of(f);
        match f {
            ast::TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                partitions,
                sample,
                index_hints,
                with_ordinality,
                json_path,
            } => {
                if args.is_some() {
                    return Err(SqlError::unsupported("table functions", pos));
                }
                if !with_hints.is_empty()
                    || version.is_some()
                    || !partitions.is_empty()
                    || sample.is_some()
                    || !index_hints.is_empty()
                    || *with_ordinality
                    || json_path.is_some()
                {
                    return Err(SqlError::unsupported(format!("table reference {f}"), pos));
                }
                let obj = object_name(name)?;
                // A WITH query's name hides a table's, unless qualified.
                let with_query = if name.0.len() == 1 { self.catalog.common_table(&obj) } else { None };
                let (plan, columns, primary_key) = if let Some(q) = with_query {
                    (q.plan.clone(), q.columns.clone(), Vec::new())
                } else if let Some(t) = self.catalog.table(&obj) {
                    let get = Get { id: t.id, name: t.name.clone(), types: t.columns.iter().map(|c| c.ty).collect() };
                    (Plan::Get(get), t.columns.clone(), t.primary_key.clone())
                } else if let Some(v) = self.catalog.view(&obj) {
                    let get = Get { id: v.id, name: v.name.clone(), types: v.columns.iter().map(|c| c.ty).collect() };
                    (Plan::Get(get), v.columns.clone(), Vec::new())
                } else {
                    return Err(SqlError::new(
                        ErrorKind::UndefinedTable,
                        format!("relation \"{obj}\" does not exist"),
                        pos_of(name).or(pos),
                    ));
                };
                let cols = self.add_rel(&obj, alias.as_ref(), columns, primary_key, offset, pos)?;
                Ok((plan, cols))
            }
            ast::TableFactor::Derived { lateral, subquery, alias, sample } => {
                if *lateral {
                    return Err(SqlError::internal("a LATERAL item planned as a derived table"));
                }
                if sample.is_some() {
                    return Err(SqlError::unsupported(format!("table reference {f}"), pos));
                }
                let Some(alias) = alias else {
                    return Err(SqlError::new(ErrorKind::Syntax, "subquery in FROM must have an alias", pos)
                        .with_hint("For example, FROM (SELECT ...) [AS] foo."));
                };
                let query = plan_query_in(subquery, self.catalog, true, self.outer)?;
                let name = fold_ident(&alias.name);
                let cols = self.add_rel(&name, Some(alias), query.columns, Vec::new(), offset, pos)?;
                Ok((query.plan, cols))
            }
            ast::TableFactor::NestedJoin { table_with_joins, alias } => {
                if alias.is_some() {
                    return Err(SqlError::unsupported("aliases on parenthesised joins", pos));
                }
                let (plan, cols, _) = self.table_with_joins(table_with_joins, offset, None)?;
                Ok((plan, cols))
            }
            ast::TableFactor::Function { lateral: true, name, .. } => {
                Err(SqlError::unsupported(format!("LATERAL table function {name}"), pos))
            }
            ast::TableFactor::Function { .. }
            | ast::TableFactor::TableFunction { .. }
            | ast::TableFactor::UNNEST { .. } => Err(SqlError::unsupported("table functions", pos)),
            other => Err(SqlError::unsupported(format!("FROM item {other}"), pos)),
        }
    }

    /// Registers a relation called `object` (or by `alias`, whose column
    /// list renames its first columns) with `columns`, from FROM-row
    /// column `offset`; returns its columns as the scope sees them.
    fn add_rel(
        &mut self,
        object: &str,
        alias: Option<&ast::TableAlias>,
        mut columns: Vec<Column>,
        primary_key: Vec<usize>,
        offset: usize,
        pos: Option<Position>,
    ) -> Result<Vec<ScopeColumn>> {
        let rel_name = match alias {
            Some(a) => {
                let name = fold_ident(&a.name);
                if a.columns.len() > columns.len() {
                    return Err(SqlError::new(
                        ErrorKind::Other,
                        format!(
                            "table \"{name}\" has {} columns available but {} columns specified",
                            columns.len(),
                            a.columns.len()
                        ),
                        pos,
                    ));
                }
                for (c, ac) in columns.iter_mut().zip(&a.columns) {
                    if ac.data_type.is_some() {
                        return Err(SqlError::unsupported("column types in a table alias", pos));
                    }
                    c.name = fold_ident(&ac.name);
                }
                name
            }
            None => object.to_string(),
        };
        if self.rels.iter().any(|r| r.name == rel_name) {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!("table name \"{rel_name}\" specified more than once"),
                pos,
            ));
        }
        let scope_cols: Vec<ScopeColumn> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| ScopeColumn {
                name: c.name.clone(),
                expr: Expr::Column(offset + i),
                ty: c.ty,
                nullable: c.nullable,
            })
            .collect();
        let aliased = (alias.is_some() && rel_name != object).then(|| object.to_string());
        self.rels.push(Rel { name: rel_name, columns: scope_cols.clone(), primary_key, offset, aliased });
        Ok(scope_cols)
    }
}

fn join(kind: JoinKind, left: Plan, right: Plan, residual: Vec<Expr>) -> Plan {
    Plan::Join(Join { kind, left: Box::new(left), right: Box::new(right), equi: Vec::new(), residual })
}

/// `joined` filtered by `conditions` (over FROM-row columns, the join's
/// row starting at column `base`), with the subqueries pending in
/// `level` attached; the join's columns only.
fn filter_on(joined: Plan, conditions: &[Expr], level: &Level<'_>, base: usize) -> Result<Plan> {
    let arity = joined.arity();
    let cond = conjunction(conditions.iter().map(|e| map_row_columns(e, &mut |c| c - base)).collect());
    let fix = |e: &mut Expr| *e = map_row_columns(e, &mut |c| c - base);
    let plan = level.attach_filter_with(joined, cond, &fix)?;
    Ok(if plan.arity() > arity {
        Plan::Map(Map { input: Box::new(plan), exprs: (0..arity).map(Expr::Column).collect() })
    } else {
        plan
    })
}

/// The join of `left` (from FROM-row column `base`) and `right` (from
/// `split`) under `conditions` over FROM-row columns (and parameters).
fn join_node(ty: JoinType, left: Plan, right: Plan, conditions: Vec<Expr>, base: usize, split: usize) -> Plan {
    let la = split - base;
    let ra = right.arity();
    let rebase = |e: Expr, f: &dyn Fn(usize) -> usize| map_row_columns(&e, &mut |c| f(c - base));
    match ty {
        JoinType::Inner | JoinType::Left | JoinType::Full => {
            let kind = match ty {
                JoinType::Inner => JoinKind::Inner,
                JoinType::Left => JoinKind::LeftOuter,
                _ => JoinKind::FullOuter,
            };
            join(kind, left, right, conditions.into_iter().map(|e| rebase(e, &|c| c)).collect())
        }
        JoinType::Right => {
            // The right input first: its columns, then the left's.
            let swapped = |c: usize| if c < la { ra + c } else { c - la };
            let residual = conditions.into_iter().map(|e| rebase(e, &swapped)).collect();
            let exprs = (0..la).map(|c| Expr::Column(ra + c)).chain((0..ra).map(Expr::Column)).collect();
            Plan::Map(Map { input: Box::new(join(JoinKind::LeftOuter, right, left, residual)), exprs })
        }
    }
}

/// `columns`, all nullable when `pad` (their side is null-extended).
fn padded(mut columns: Vec<ScopeColumn>, pad: bool) -> Vec<ScopeColumn> {
    if pad {
        columns.iter_mut().for_each(|c| c.nullable = true);
    }
    columns
}

/// `JOIN ... USING (names)`: the equality conditions and the visible
/// columns: the merged ones first, then the rest of the left, then the
/// rest of the right, as PostgreSQL orders them.
fn using(
    ty: JoinType,
    left: Vec<ScopeColumn>,
    right: Vec<ScopeColumn>,
    names: &[(String, Option<Position>)],
) -> Result<(Vec<Expr>, Vec<ScopeColumn>)> {
    let mut conditions = Vec::new();
    let mut merged = Vec::new();
    let mut used_left = Vec::new();
    let mut used_right = Vec::new();
    for (i, (name, pos)) in names.iter().enumerate() {
        if names[..i].iter().any(|(n, _)| n == name) {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!("column \"{name}\" appears more than once in USING clause"),
                *pos,
            ));
        }
        let find = |cols: &[ScopeColumn], side: &str| -> Result<usize> {
            let mut hits = cols.iter().enumerate().filter(|(_, c)| &c.name == name).map(|(i, _)| i);
            match (hits.next(), hits.next()) {
                (Some(i), None) => Ok(i),
                (Some(_), Some(_)) => Err(SqlError::new(
                    ErrorKind::Ambiguous,
                    format!("common column name \"{name}\" appears more than once in {side} table"),
                    *pos,
                )),
                (None, _) => Err(SqlError::new(
                    ErrorKind::UndefinedColumn,
                    format!("column \"{name}\" specified in USING clause does not exist in {side} table"),
                    *pos,
                )),
            }
        };
        let li = find(&left, "left")?;
        let ri = find(&right, "right")?;
        let (l, r) = (&left[li], &right[ri]);
        let ct = types::common_type(&[(l.ty, *pos), (r.ty, *pos)], "JOIN/USING")?;
        let lt = coerce::implicit(Typed::new(l.expr.clone(), l.ty), ct, *pos)?;
        let rt = coerce::implicit(Typed::new(r.expr.clone(), r.ty), ct, *pos)?;
        let cond = coerce::comparison(BinaryFunc::Eq, "=", lt.clone(), rt.clone(), *pos)?;
        conditions.push(cond.expr);
        let (expr, nullable) = match ty {
            // Equal and non-NULL in every row: either will do; PostgreSQL
            // prefers one that needs no conversion.
            JoinType::Inner if lt.expr != l.expr && rt.expr == r.expr => (rt.expr, false),
            JoinType::Inner => (lt.expr, false),
            JoinType::Left => (lt.expr, l.nullable),
            JoinType::Right => (rt.expr, r.nullable),
            // An unmatched row of either side shows its own value.
            JoinType::Full => (
                Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![lt.expr, rt.expr] },
                l.nullable || r.nullable,
            ),
        };
        merged.push(ScopeColumn { name: name.clone(), expr, ty: ct, nullable });
        used_left.push(li);
        used_right.push(ri);
    }
    let rest = |cols: Vec<ScopeColumn>, used: &[usize], pad: bool| {
        padded(cols.into_iter().enumerate().filter(|(i, _)| !used.contains(i)).map(|(_, c)| c).collect(), pad)
    };
    let mut cols = merged;
    cols.extend(rest(left, &used_left, ty.pads_left()));
    cols.extend(rest(right, &used_right, ty.pads_right()));
    Ok((conditions, cols))
}

/// A table or view name, case-folded; only unqualified names (or names in
/// the `public` schema) are supported.
pub(crate) fn object_name(name: &ast::ObjectName) -> Result<String> {
    let parts = name
        .0
        .iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(id) => Ok(fold_ident(id)),
            _ => Err(SqlError::unsupported(format!("name {name}"), pos_of(name))),
        })
        .collect::<Result<Vec<_>>>()?;
    match parts.as_slice() {
        [n] => Ok(n.clone()),
        [schema, n] if schema == "public" => Ok(n.clone()),
        _ => Err(SqlError::unsupported(format!("qualified name {name}"), pos_of(name))),
    }
}
