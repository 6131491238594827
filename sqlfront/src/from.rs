//! Planning FROM clauses: tables and views, inner/left joins with ON,
//! USING and NATURAL, comma joins, as a left-deep tree of `Join` nodes.

use freshet_engine::catalog::Column;
use freshet_engine::expr::{BinaryFunc, Expr};
use freshet_engine::plan::{Constant, Get, Join, JoinKind, Plan};
use freshet_engine::value::Row;
use sqlparser::ast;

use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::{fold_ident, pos_of, Binder};
use crate::scope::{Rel, Scope, ScopeColumn};
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
pub(crate) fn plan_from(items: &[ast::TableWithJoins], catalog: &dyn Catalog) -> Result<PlannedFrom> {
    let mut b = FromBuilder { catalog, rels: Vec::new() };
    let mut plan: Option<Plan> = None;
    let mut columns = Vec::new();
    for item in items {
        let offset = plan.as_ref().map_or(0, Plan::arity);
        let (p, cols, _) = b.table_with_joins(item, offset, plan.take())?;
        plan = Some(p);
        columns.extend(cols);
    }
    let plan = plan.unwrap_or_else(|| Plan::Constant(Constant { rows: vec![(Row::empty(), 1)], arity: 0 }));
    // Nullability may have changed after a column was copied (LEFT JOIN).
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

struct FromBuilder<'a> {
    catalog: &'a dyn Catalog,
    rels: Vec<Rel>,
}

impl FromBuilder<'_> {
    /// Plans `item`; when `left` is given the item's first relation is
    /// cross-joined onto it and the item's joins follow, so the tree stays
    /// left-deep. Returns the plan, the item's visible columns and its
    /// relations.
    fn table_with_joins(
        &mut self,
        item: &ast::TableWithJoins,
        offset: usize,
        left: Option<Plan>,
    ) -> Result<(Plan, Vec<ScopeColumn>, Vec<usize>)> {
        let first_rel = self.rels.len();
        let (first, mut visible) = self.factor(&item.relation, offset)?;
        let mut plan = match left {
            Some(l) => join(JoinKind::Inner, l, first, Vec::new()),
            None => first,
        };
        let mut item_rels: Vec<usize> = (first_rel..self.rels.len()).collect();
        for j in &item.joins {
            let right_offset = plan.arity();
            let right_first = self.rels.len();
            let (right, mut right_cols) = self.factor(&j.relation, right_offset)?;
            let right_rels: Vec<usize> = (right_first..self.rels.len()).collect();
            use ast::JoinOperator as J;
            let pos = pos_of(&j.relation);
            let (kind, constraint) = match &j.join_operator {
                J::Join(c) | J::Inner(c) => (JoinKind::Inner, c),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::LeftOuter, c),
                J::CrossJoin(c) => (JoinKind::Inner, c),
                J::Right(_) | J::RightOuter(_) => return Err(SqlError::unsupported("RIGHT JOIN", pos)),
                J::FullOuter(_) => return Err(SqlError::unsupported("FULL JOIN", pos)),
                J::Semi(_) | J::LeftSemi(_) | J::RightSemi(_) => return Err(SqlError::unsupported("SEMI JOIN", pos)),
                J::Anti(_) | J::LeftAnti(_) | J::RightAnti(_) => return Err(SqlError::unsupported("ANTI JOIN", pos)),
                J::CrossApply | J::OuterApply => return Err(SqlError::unsupported("APPLY", pos)),
                J::AsOf { .. } => return Err(SqlError::unsupported("ASOF JOIN", pos)),
                _ => return Err(SqlError::unsupported("this kind of join", pos)),
            };
            if kind == JoinKind::LeftOuter {
                for &r in &right_rels {
                    for c in self.rels[r].columns.iter_mut() {
                        c.nullable = true;
                    }
                }
                for c in right_cols.iter_mut() {
                    c.nullable = true;
                }
            }
            let (residual, merged) = match constraint {
                ast::JoinConstraint::On(e) => {
                    let mut rels_here = item_rels.clone();
                    rels_here.extend(&right_rels);
                    let scope = Scope {
                        rels: self.rels.clone(),
                        visible_rels: rels_here,
                        columns: visible.iter().chain(right_cols.iter()).cloned().collect(),
                    };
                    let mut binder = Binder::new(&scope, "JOIN conditions");
                    let cond = binder.condition(e, "JOIN/ON")?;
                    let mut cols = std::mem::take(&mut visible);
                    cols.extend(right_cols);
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
                    using(kind, std::mem::take(&mut visible), right_cols, &names)?
                }
                ast::JoinConstraint::Natural => {
                    let names: Vec<(String, Option<Position>)> = visible
                        .iter()
                        .filter(|l| right_cols.iter().any(|r| r.name == l.name))
                        .map(|l| (l.name.clone(), pos))
                        .collect();
                    using(kind, std::mem::take(&mut visible), right_cols, &names)?
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
            visible = merged;
            plan = join(kind, plan, right, residual);
            item_rels.extend(right_rels);
        }
        Ok((plan, visible, item_rels))
    }

    /// A table, a view or a parenthesised join.
    fn factor(&mut self, f: &ast::TableFactor, offset: usize) -> Result<(Plan, Vec<ScopeColumn>)> {
        let pos = pos_of(f);
        match f {
            ast::TableFactor::Table { name, alias, args, with_hints, version, partitions, sample, index_hints, with_ordinality, json_path } => {
                if args.is_some() {
                    return Err(SqlError::unsupported("table functions", pos));
                }
                if !with_hints.is_empty() || version.is_some() || !partitions.is_empty() || sample.is_some() || !index_hints.is_empty() || *with_ordinality || json_path.is_some() {
                    return Err(SqlError::unsupported(format!("table reference {f}"), pos));
                }
                let obj = object_name(name)?;
                let (get, cols) = if let Some(t) = self.catalog.table(&obj) {
                    (
                        Get { id: t.id, name: t.name.clone(), types: t.columns.iter().map(|c| c.ty).collect() },
                        (t.columns.clone(), t.primary_key.clone()),
                    )
                } else if let Some(v) = self.catalog.view(&obj) {
                    (
                        Get { id: v.id, name: v.name.clone(), types: v.columns.iter().map(|c| c.ty).collect() },
                        (v.columns.clone(), Vec::new()),
                    )
                } else {
                    return Err(SqlError::new(
                        ErrorKind::UndefinedTable,
                        format!("relation \"{obj}\" does not exist"),
                        pos_of(name).or(pos),
                    ));
                };
                let (columns, primary_key) = cols;
                let mut columns: Vec<Column> = columns;
                let aliased = alias.is_some().then(|| obj.clone());
                let rel_name = match alias {
                    Some(a) => {
                        if a.columns.len() > columns.len() {
                            return Err(SqlError::new(
                                ErrorKind::Other,
                                format!(
                                    "table \"{}\" has {} columns available but {} columns specified",
                                    fold_ident(&a.name),
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
                        fold_ident(&a.name)
                    }
                    None => obj.clone(),
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
                    .map(|(i, c)| ScopeColumn { name: c.name.clone(), expr: Expr::Column(offset + i), ty: c.ty, nullable: c.nullable })
                    .collect();
                self.rels.push(Rel { name: rel_name, columns: scope_cols.clone(), primary_key, offset, aliased });
                Ok((Plan::Get(get), scope_cols))
            }
            ast::TableFactor::NestedJoin { table_with_joins, alias } => {
                if alias.is_some() {
                    return Err(SqlError::unsupported("aliases on parenthesised joins", pos));
                }
                let (plan, cols, _) = self.table_with_joins(table_with_joins, offset, None)?;
                Ok((plan, cols))
            }
            ast::TableFactor::Derived { .. } => Err(SqlError::unsupported("subqueries", pos)),
            ast::TableFactor::Function { .. } | ast::TableFactor::TableFunction { .. } | ast::TableFactor::UNNEST { .. } => {
                Err(SqlError::unsupported("table functions", pos))
            }
            other => Err(SqlError::unsupported(format!("FROM item {other}"), pos)),
        }
    }
}

fn join(kind: JoinKind, left: Plan, right: Plan, residual: Vec<Expr>) -> Plan {
    Plan::Join(Join { kind, left: Box::new(left), right: Box::new(right), equi: Vec::new(), residual })
}

/// `JOIN ... USING (names)`: the equality conditions and the merged
/// visible columns (merged first, then the rest of the left, then the rest
/// of the right, as PostgreSQL orders them).
fn using(
    kind: JoinKind,
    left: Vec<ScopeColumn>,
    right: Vec<ScopeColumn>,
    names: &[(String, Option<Position>)],
) -> Result<(Vec<Expr>, Vec<ScopeColumn>)> {
    let mut residual = Vec::new();
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
        let cond = coerce::comparison(BinaryFunc::Eq, "=", lt.clone(), rt, *pos)?;
        residual.push(cond.expr);
        let nullable = match kind {
            JoinKind::Inner => false,
            JoinKind::LeftOuter => l.nullable,
        };
        merged.push(ScopeColumn { name: name.clone(), expr: lt.expr, ty: ct, nullable });
        used_left.push(li);
        used_right.push(ri);
    }
    let mut cols = merged;
    cols.extend(left.into_iter().enumerate().filter(|(i, _)| !used_left.contains(i)).map(|(_, c)| c));
    cols.extend(right.into_iter().enumerate().filter(|(i, _)| !used_right.contains(i)).map(|(_, c)| c));
    Ok((residual, cols))
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
