//! What queries read: base tables, `WITH` queries and derived tables, and
//! the FROM clause joining up to three of them.
//!
//! Every source has an integer key column `k` first (a table's `k`, or a
//! query's first column selecting it), so that joins and correlations have
//! matching values. Derived tables and `WITH` queries are projections with
//! functions, grouped queries, `DISTINCT`, top-k, two-table joins or
//! `UNION ALL`s, sometimes filtered by a subquery.

use proptest::prelude::*;
use proptest::strategy::Union;

use super::aggregates::aggregate;
use super::coverage::{mark, Feature};
use super::subqueries::Subqueries;
use super::{expr_gen, filter, fixed, stable};
use crate::queries::{ColType, SqlExpr, TableSchema};

/// A column of a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Col {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ColType,
    /// Its numeric scale, when fixed.
    pub scale: Option<u16>,
}

/// Something a FROM item reads.
#[derive(Clone, Debug)]
pub struct Source {
    /// The text before the alias: a table or `WITH` query name, or a
    /// parenthesised query.
    pub from: String,
    /// Its columns; the first is the integer key `k`.
    pub columns: Vec<Col>,
    /// Whether a column alias list follows the alias.
    pub alias_list: bool,
    /// Whether column 0 is a primary key.
    pub unique_key: bool,
}

const NAMES: [&str; 5] = ["k", "a", "b", "c", "d"];

impl Source {
    /// A base table.
    pub fn table(t: &TableSchema) -> Source {
        Source {
            from: t.name.clone(),
            columns: t
                .columns
                .iter()
                .map(|c| Col {
                    name: c.name.clone(),
                    ty: c.ty,
                    scale: Some(if c.ty == ColType::Numeric { 2 } else { 0 }),
                })
                .collect(),
            alias_list: false,
            unique_key: t.primary_key,
        }
    }

    /// The FROM item reading this source as `alias`.
    pub fn item(&self, alias: &str) -> String {
        if self.alias_list {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            mark(Feature::DerivedAliasList, format!("{} AS {alias} ({})", self.from, names.join(", ")))
        } else {
            format!("{} AS {alias}", self.from)
        }
    }

    /// Its columns as `alias.name`.
    pub fn leaves(&self, alias: &str) -> Vec<SqlExpr> {
        self.columns.iter().map(|c| SqlExpr::new(format!("{alias}.{}", c.name), c.ty, c.scale, true)).collect()
    }
}

/// The tables and `WITH` queries a query may read.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The base tables.
    pub tables: Vec<TableSchema>,
    /// The `WITH` queries defined so far.
    pub ctes: Vec<Source>,
}

impl Ctx {
    /// The sources a FROM item or subquery may read by name: every table,
    /// and every `WITH` query (weighted up, so they are read often).
    pub fn named(&self) -> BoxedStrategy<Source> {
        let mut arms: Vec<(u32, BoxedStrategy<Source>)> =
            self.tables.iter().map(|t| (2, Just(Source::table(t)).boxed())).collect();
        arms.extend(self.ctes.iter().map(|c| (3, Just(c.clone()).boxed())));
        Union::new_weighted(arms).boxed()
    }

    /// The base tables only.
    pub fn table_source(&self) -> BoxedStrategy<Source> {
        prop::sample::select(self.tables.iter().map(Source::table).collect::<Vec<_>>()).boxed()
    }
}

fn order_dir() -> BoxedStrategy<&'static str> {
    prop::sample::select(vec!["", " DESC", " NULLS FIRST", " DESC NULLS LAST", " ASC NULLS FIRST"]).boxed()
}

/// `ORDER BY 1 d1, 2 d2, …` over `n` output columns.
pub fn order_by_positions(n: usize) -> BoxedStrategy<Vec<String>> {
    (Just((1..=n).collect::<Vec<_>>()).prop_shuffle(), prop::collection::vec(order_dir(), n))
        .prop_map(|(cols, dirs)| cols.iter().zip(dirs).map(|(c, d)| format!("{c}{d}")).collect())
        .boxed()
}

/// The select list of a source query: items named `k, a, …` unless a
/// column alias list names them.
fn source_select(items: &[SqlExpr], named: bool) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, e)| if named { format!("{} AS {}", e.sql, NAMES[i]) } else { e.sql.clone() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn columns_of(items: &[SqlExpr]) -> Vec<Col> {
    items.iter().enumerate().map(|(i, e)| Col { name: NAMES[i].into(), ty: e.ty, scale: e.scale }).collect()
}

/// An optional WHERE over `leaves`: a predicate, sometimes a subquery
/// correlated with them.
fn source_filter(ctx: &Ctx, leaves: &[SqlExpr], subqueries: bool) -> BoxedStrategy<String> {
    let gen = expr_gen(leaves, 1);
    let mut arms: Vec<(u32, BoxedStrategy<String>)> = vec![
        (4, Just(String::new()).boxed()),
        (4, filter(&gen, 0.99, 1).prop_map(|p| p.map(|p| format!(" WHERE {}", p.sql)).unwrap_or_default()).boxed()),
    ];
    if subqueries {
        let subs = Subqueries::new(ctx, leaves.to_vec(), 1);
        arms.push((
            1,
            subs.predicate(&gen).prop_map(|p| format!(" WHERE {}", mark(Feature::SubqueryInSource, p.sql))).boxed(),
        ));
    }
    Union::new_weighted(arms).boxed()
}

/// A query over one source aliased `alias`, its columns, for a derived
/// table or a `WITH` query. `named`: name the select items `k, a, …`.
pub fn source_query(ctx: &Ctx, alias: String, named: bool) -> BoxedStrategy<(String, Vec<Col>)> {
    let ctx = ctx.clone();
    let shape =
        prop_oneof![5 => Just(0u8), 3 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8), 1 => Just(5u8)];
    (ctx.named(), shape)
        .prop_flat_map(move |(src, shape)| {
            let leaves = src.leaves(&alias);
            let key = leaves[0].clone();
            let gen = expr_gen(&leaves, 1);
            let from = format!("FROM {}", src.item(&alias));
            let filter = source_filter(&ctx, &leaves, true);
            match shape {
                // A projection.
                0 => (prop::collection::vec(gen.any(1, &ColType::ALL), 1..=3), filter)
                    .prop_map(move |(exprs, filter)| {
                        let mut items = vec![key.clone()];
                        items.extend(exprs);
                        (format!("SELECT {} {from}{filter}", source_select(&items, named)), columns_of(&items))
                    })
                    .boxed(),
                // Grouped by the key.
                1 => (
                    prop::collection::vec(aggregate(&gen), 1..=2),
                    filter,
                    prop::sample::select(vec![
                        "",
                        " HAVING count(*) > 1",
                        " HAVING count(*) < 3",
                        " HAVING min({}) > 0",
                    ]),
                )
                    .prop_map(move |(aggs, filter, having)| {
                        let mut items = vec![key.clone()];
                        items.extend(aggs);
                        let having = having.replace("{}", &key.sql);
                        let sql = format!(
                            "SELECT {} {from}{filter} GROUP BY {}{having}",
                            source_select(&items, named),
                            key.sql
                        );
                        (mark(Feature::SourceGrouped, sql), columns_of(&items))
                    })
                    .boxed(),
                // DISTINCT.
                2 => (prop::collection::vec(gen.any(1, &ColType::ALL), 1..=2), filter)
                    .prop_map(move |(exprs, filter)| {
                        let mut items = vec![key.clone()];
                        items.extend(exprs.into_iter().map(stable));
                        let sql = format!("SELECT DISTINCT {} {from}{filter}", source_select(&items, named));
                        (mark(Feature::SourceDistinct, sql), columns_of(&items))
                    })
                    .boxed(),
                // Top-k.
                3 => (
                    prop::collection::vec(gen.any(1, &ColType::ALL), 1..=2),
                    filter,
                    1u32..4,
                    prop::option::weighted(0.3, 1u32..3),
                )
                    .prop_flat_map(move |(exprs, filter, limit, offset)| {
                        let mut items = vec![key.clone()];
                        items.extend(exprs.into_iter().map(stable));
                        let from = from.clone();
                        order_by_positions(items.len()).prop_map(move |order| {
                            let offset = offset.map(|o| format!(" OFFSET {o}")).unwrap_or_default();
                            let sql = format!(
                                "SELECT {} {from}{filter} ORDER BY {} LIMIT {limit}{offset}",
                                source_select(&items, named),
                                order.join(", ")
                            );
                            (mark(Feature::SourceTopK, sql), columns_of(&items))
                        })
                    })
                    .boxed(),
                // A join of two sources on the key.
                4 => {
                    let right_alias = format!("{alias}j");
                    let ctx = ctx.clone();
                    let (alias, src) = (alias.clone(), src.clone());
                    ctx.named()
                        .prop_flat_map(move |right| {
                            let mut both = src.leaves(&alias);
                            both.extend(right.leaves(&right_alias));
                            let gen = expr_gen(&both, 1);
                            let (key, rk) = (both[0].clone(), right.leaves(&right_alias)[0].clone());
                            let (left_item, right_item) = (src.item(&alias), right.item(&right_alias));
                            let on = format!("{} = {}", key.sql, rk.sql);
                            (prop::collection::vec(gen.any(1, &ColType::ALL), 1..=2), any::<bool>()).prop_map(
                                move |(exprs, left)| {
                                    let mut items = vec![key.clone()];
                                    items.extend(exprs);
                                    let kind = if left { "LEFT" } else { "INNER" };
                                    let sql = format!(
                                        "SELECT {} FROM {left_item} {kind} JOIN {right_item} ON {on}",
                                        source_select(&items, named)
                                    );
                                    (mark(Feature::SourceJoin, sql), columns_of(&items))
                                },
                            )
                        })
                        .boxed()
                }
                // UNION ALL of two sources with columns of the same types.
                _ => {
                    let other_alias = format!("{alias}u");
                    let ctx = ctx.clone();
                    let (alias, src) = (alias.clone(), src.clone());
                    (prop::collection::vec(gen.any(1, &ColType::ALL), 1..=2), ctx.named())
                        .prop_flat_map(move |(exprs, other)| {
                            let other_leaves = other.leaves(&other_alias);
                            let other_gen = expr_gen(&other_leaves, 1);
                            let exprs: Vec<SqlExpr> = exprs.into_iter().map(fixed).collect();
                            let others: Vec<BoxedStrategy<SqlExpr>> =
                                exprs.iter().map(|e| other_gen.expr(e.ty, 1).prop_map(fixed).boxed()).collect();
                            let key = src.leaves(&alias)[0].clone();
                            let first = format!("FROM {}", src.item(&alias));
                            let second = format!("FROM {}", other.item(&other_alias));
                            let other_key = other_leaves[0].clone();
                            others.prop_map(move |others| {
                                let mut items = vec![key.clone()];
                                items.extend(exprs.iter().cloned());
                                let mut rest = vec![other_key.clone()];
                                rest.extend(others);
                                let key_ty = if items[0].ty == ColType::Int8 || rest[0].ty == ColType::Int8 {
                                    ColType::Int8
                                } else {
                                    ColType::Int4
                                };
                                let mut cols = columns_of(&items);
                                cols[0].ty = key_ty;
                                let sql = format!(
                                    "SELECT {} {first} UNION ALL SELECT {} {second}",
                                    source_select(&items, named),
                                    source_select(&rest, false)
                                );
                                (mark(Feature::SourceUnion, sql), cols)
                            })
                        })
                        .boxed()
                }
            }
        })
        .boxed()
}

/// A derived table over `ctx` for FROM item `index`.
pub fn derived(ctx: &Ctx, index: usize) -> BoxedStrategy<Source> {
    let ctx = ctx.clone();
    any::<bool>()
        .prop_flat_map(move |alias_list| {
            source_query(&ctx, format!("d{index}"), !alias_list).prop_map(move |(sql, columns)| Source {
                from: mark(Feature::Derived, format!("({sql})")),
                columns,
                alias_list,
                unique_key: false,
            })
        })
        .boxed()
}

/// The FROM clause of a query and what it makes visible.
#[derive(Clone, Debug)]
pub struct FromClause {
    /// The text after `FROM`.
    pub sql: String,
    /// The columns of its items, qualified by their aliases `x0`, `x1`, ….
    pub leaves: Vec<SqlExpr>,
    /// Comma-join conditions, which go to WHERE.
    pub where_conds: Vec<String>,
}

/// Column pairs (earlier leaf, new leaf) that can be compared for equality,
/// key pairs first.
fn equi_candidates(prev: &[SqlExpr], new: &[SqlExpr]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in prev {
        for b in new {
            if (a.ty.is_number() && b.ty.is_number()) || (a.ty == b.ty && a.ty != ColType::Bool) {
                out.push((a.sql.clone(), b.sql.clone()));
            }
        }
    }
    out.sort_by_key(|(a, b)| !(a.ends_with(".k") && b.ends_with(".k")));
    out
}

/// The ON condition joining `new` to `prev`: one or two equalities (the key
/// pair most often) and sometimes a residual predicate.
fn join_condition(prev: &[SqlExpr], new: &[SqlExpr]) -> BoxedStrategy<String> {
    let cands = equi_candidates(prev, new);
    let mut all = prev.to_vec();
    all.extend(new.iter().cloned());
    let gen = expr_gen(&all, 1);
    let n = cands.len();
    (prop_oneof![3 => Just(0usize), 2 => 0..n], prop::option::weighted(0.2, 0..n), filter(&gen, 0.25, 1))
        .prop_map(move |(i, j, residual)| {
            let mut conj = vec![format!("{} = {}", cands[i].0, cands[i].1)];
            if let Some(j) = j.filter(|j| *j != i) {
                conj.push(format!("{} = {}", cands[j].0, cands[j].1));
            }
            conj.extend(residual.map(|r| r.sql));
            conj.join(" AND ")
        })
        .boxed()
}

/// One FROM item: a table or `WITH` query by name, or a derived table.
fn item_source(ctx: &Ctx, index: usize) -> BoxedStrategy<Source> {
    prop_oneof![5 => ctx.named(), 1 => derived(ctx, index)].boxed()
}

/// A FROM clause of one to three items.
pub fn from_clause(ctx: &Ctx) -> BoxedStrategy<FromClause> {
    let ctx = ctx.clone();
    prop_oneof![3 => Just(1usize), 3 => Just(2usize), 2 => Just(3usize)]
        .prop_flat_map(move |n| (0..n).map(|i| item_source(&ctx, i)).collect::<Vec<_>>())
        .prop_flat_map(|sources| {
            let leaves: Vec<Vec<SqlExpr>> =
                sources.iter().enumerate().map(|(i, s)| s.leaves(&format!("x{i}"))).collect();
            let steps: Vec<BoxedStrategy<(String, u8)>> = (1..sources.len())
                .map(|i| {
                    let prev: Vec<SqlExpr> = leaves[..i].concat();
                    let style = prop_oneof![6 => Just(0u8), 3 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)];
                    (join_condition(&prev, &leaves[i]), style).boxed()
                })
                .collect();
            (Just(sources), Just(leaves), steps, prop::bool::weighted(0.2))
        })
        .prop_map(|(sources, leaves, steps, comma)| {
            let mut sql = sources[0].item("x0");
            let mut where_conds = Vec::new();
            for (i, (cond, style)) in steps.into_iter().enumerate() {
                let item = sources[i + 1].item(&format!("x{}", i + 1));
                if comma {
                    sql.push_str(&mark(Feature::CommaJoin, format!(", {item}")));
                    where_conds.push(cond);
                } else {
                    let kw = ["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"][style as usize];
                    let joined = format!(" {kw} {item} ON {cond}");
                    sql.push_str(&if style == 0 { joined } else { mark(Feature::OuterJoin, joined) });
                }
            }
            if sources.len() > 1 {
                sql = mark(Feature::Join, sql);
            }
            FromClause { sql, leaves: leaves.concat(), where_conds }
        })
        .boxed()
}
