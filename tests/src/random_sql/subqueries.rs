//! Subqueries in expressions: scalar subqueries (an aggregate, a row by
//! primary key, `ORDER BY … LIMIT 1`, and on purpose one that may return
//! more than one row), `[NOT] EXISTS`, `x [NOT] IN (SELECT …)` and
//! `x op ANY/ALL (SELECT …)`.
//!
//! A subquery reads one table or `WITH` query and may be correlated with
//! the enclosing query's columns by an equality (`s0.k = x0.k`), by another
//! comparison (`s0.a < x1.b`), by both, or not at all; its WHERE may add a
//! local filter and, one level deep, a further subquery correlated with
//! either level. The operands of `IN` and `ANY`/`ALL` are nullable columns
//! and expressions, so PostgreSQL's NULL rules are exercised.

use proptest::prelude::*;
use proptest::strategy::Union;

use super::aggregates::aggregate;
use super::coverage::{mark, Feature};
use super::sources::{Ctx, Source};
use super::{expr_gen, filter, stable};
use crate::queries::{literal, ColType, ExprGen, SqlExpr};

/// Subquery expressions for a query level whose enclosing columns (those a
/// subquery may correlate with) are `outer`.
#[derive(Clone)]
pub struct Subqueries {
    ctx: Ctx,
    outer: Vec<SqlExpr>,
    level: usize,
}

/// Can `a` and `b` be compared (`=`, `<`)?
fn comparable(a: ColType, b: ColType) -> bool {
    (a.is_number() && b.is_number()) || (a == b && a != ColType::Bool)
}

/// An expression of `lhs` that compares with values of type `ty`.
fn operand(lhs: &ExprGen, ty: ColType) -> BoxedStrategy<SqlExpr> {
    if ty.is_number() {
        Union::new([lhs.expr(ColType::Int4, 1), lhs.expr(ColType::Int8, 1), lhs.expr(ColType::Numeric, 1)]).boxed()
    } else {
        lhs.expr(ty, 1)
    }
}

/// Mostly nothing, sometimes ` ORDER BY 1 … LIMIT n [OFFSET m]` for a
/// subquery selecting one stabilized column: its set of values is then
/// the same whichever tied rows are kept.
fn subquery_top_k() -> BoxedStrategy<String> {
    let dir = prop::sample::select(vec!["", " DESC", " NULLS FIRST", " DESC NULLS LAST"]);
    prop_oneof![
        6 => Just(String::new()),
        1 => (dir, 1u32..4, prop::option::weighted(0.3, 1u32..3)).prop_map(|(dir, n, offset)| {
            let offset = offset.map(|m| format!(" OFFSET {m}")).unwrap_or_default();
            mark(Feature::SubqueryTopK, format!(" ORDER BY 1{dir} LIMIT {n}{offset}"))
        }),
    ]
    .boxed()
}

fn comparison() -> BoxedStrategy<&'static str> {
    prop::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]).boxed()
}

impl Subqueries {
    /// Subqueries at nesting `level` (0: in the top query) that may
    /// correlate with `outer`.
    pub fn new(ctx: &Ctx, outer: Vec<SqlExpr>, level: usize) -> Subqueries {
        Subqueries { ctx: ctx.clone(), outer, level }
    }

    fn alias(&self) -> String {
        format!("s{}", self.level)
    }

    /// Correlation conditions between `inner` and the enclosing columns.
    fn correlation(&self, inner: &[SqlExpr]) -> BoxedStrategy<Vec<String>> {
        let pairs: Vec<(String, String)> = inner
            .iter()
            .flat_map(|i| {
                self.outer.iter().filter(|o| comparable(i.ty, o.ty)).map(move |o| (i.sql.clone(), o.sql.clone()))
            })
            .collect();
        if pairs.is_empty() {
            return Just(Vec::new()).boxed();
        }
        let keys: Vec<(String, String)> =
            pairs.iter().filter(|(i, o)| i.ends_with(".k") && o.ends_with(".k")).cloned().collect();
        let pick = if keys.is_empty() {
            prop::sample::select(pairs.clone()).boxed()
        } else {
            prop_oneof![2 => prop::sample::select(keys), 1 => prop::sample::select(pairs.clone())].boxed()
        };
        let eq = pick.prop_map(|(i, o)| mark(Feature::CorrelatedEq, format!("{i} = {o}")));
        let neq = (prop::sample::select(pairs), prop::sample::select(vec!["<", "<=", ">", ">=", "<>"]))
            .prop_map(|((i, o), op)| mark(Feature::CorrelatedNonEq, format!("{i} {op} {o}")));
        // An inner column equal to an expression over enclosing columns.
        let operands = lhs_types(&expr_gen(&self.outer, 1));
        let columns: Vec<SqlExpr> = inner.iter().filter(|i| i.ty != ColType::Bool).cloned().collect();
        let by_expr = if columns.is_empty() {
            Just(Vec::new()).boxed()
        } else {
            prop::sample::select(columns)
                .prop_flat_map(move |i| {
                    operands.pick(i.ty).prop_map(move |o| {
                        let cond = format!("{} = {}", i.sql, o.sql);
                        if o.reads {
                            vec![mark(Feature::CorrelatedExpr, cond)]
                        } else {
                            Vec::new()
                        }
                    })
                })
                .boxed()
        };
        prop_oneof![
            2 => Just(Vec::new()),
            4 => eq.clone().prop_map(|c| vec![c]),
            2 => neq.clone().prop_map(|c| vec![c]),
            1 => (eq, neq).prop_map(|(a, b)| vec![a, b]),
            1 => by_expr,
        ]
        .boxed()
    }

    /// ` WHERE …` of a subquery over `inner` (or nothing): correlation,
    /// a local filter, and at the top level sometimes a nested subquery.
    fn where_clause(&self, inner: &[SqlExpr], extra: Vec<String>) -> BoxedStrategy<String> {
        let gen = expr_gen(inner, 1);
        let nested = if self.level == 0 {
            let mut outer = inner.to_vec();
            outer.extend(self.outer.iter().cloned());
            let deeper = Subqueries::new(&self.ctx, outer, self.level + 1);
            prop::option::weighted(0.12, deeper.predicate(&gen).prop_map(|p| mark(Feature::NestedSubquery, p.sql)))
                .boxed()
        } else {
            Just(None).boxed()
        };
        (self.correlation(inner), filter(&gen, 0.4, 1), nested)
            .prop_map(move |(corr, filter, nested)| {
                let uncorrelated = corr.is_empty() && extra.is_empty();
                let mut conds = extra.clone();
                conds.extend(corr);
                conds.extend(filter.map(|f| f.sql));
                conds.extend(nested);
                let mut w = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
                if uncorrelated {
                    w = mark(Feature::Uncorrelated, w);
                }
                w
            })
            .boxed()
    }

    /// A subquery's body over each source it may read: `build` gets the
    /// FROM item, the source's columns and the WHERE strategy.
    fn over_sources<F>(&self, build: F) -> BoxedStrategy<SqlExpr>
    where
        F: Fn(String, Vec<SqlExpr>, BoxedStrategy<String>) -> BoxedStrategy<SqlExpr> + Clone + 'static,
    {
        let this = self.clone();
        self.ctx
            .named()
            .prop_flat_map(move |src: Source| {
                let alias = this.alias();
                let inner = src.leaves(&alias);
                let filter = this.where_clause(&inner, Vec::new());
                build(src.item(&alias), inner, filter)
            })
            .boxed()
    }

    /// `[NOT] EXISTS`, `[NOT] IN` or `op ANY/ALL` with the left operand
    /// from `lhs`.
    pub fn predicate(&self, lhs: &ExprGen) -> BoxedStrategy<SqlExpr> {
        let exists = self.over_sources(|from, _, filter| {
            // `OFFSET 1`: at least two rows.
            let limit = prop_oneof![
                12 => Just(String::new()),
                2 => Just(mark(Feature::SubqueryTopK, " OFFSET 1")),
                1 => Just(mark(Feature::SubqueryTopK, " OFFSET 2")),
                1 => Just(mark(Feature::SubqueryTopK, " LIMIT 1")),
                1 => Just(mark(Feature::SubqueryTopK, " LIMIT 0")),
            ];
            (filter, prop::bool::weighted(0.4), limit)
                .prop_map(move |(w, not, limit)| {
                    let (f, kw) = if not { (Feature::NotExists, "NOT EXISTS") } else { (Feature::Exists, "EXISTS") };
                    let sql = format!("{kw} (SELECT 1 FROM {from}{w}{limit})");
                    SqlExpr::new(mark(f, sql), ColType::Bool, Some(0), true)
                })
                .boxed()
        });
        let lhs_in = lhs_types(lhs);
        let in_list = self.over_sources(move |from, inner, filter| {
            let gen = expr_gen(&inner, 1);
            let lhs = lhs_in.clone();
            let item = prop_oneof![3 => prop::sample::select(inner), 1 => gen.any(1, &ColType::ALL)];
            (item, filter, prop::bool::weighted(0.4), subquery_top_k())
                .prop_flat_map(move |(item, w, not, top)| {
                    let from = from.clone();
                    let item = if top.is_empty() { item } else { stable(item) };
                    lhs.pick(item.ty).prop_map(move |x| {
                        let (f, kw) =
                            if not { (Feature::NotInSubquery, "NOT IN") } else { (Feature::InSubquery, "IN") };
                        let sql = format!("({} {kw} (SELECT {} FROM {from}{w}{top}))", x.sql, item.sql);
                        SqlExpr::new(mark(f, sql), ColType::Bool, Some(0), true)
                    })
                })
                .boxed()
        });
        let lhs_any = lhs_types(lhs);
        let quantified = self.over_sources(move |from, inner, filter| {
            let gen = expr_gen(&inner, 1);
            let lhs = lhs_any.clone();
            let ordered: Vec<SqlExpr> = inner.iter().filter(|l| l.ty != ColType::Bool).cloned().collect();
            let types: Vec<ColType> = ColType::ALL.iter().copied().filter(|t| *t != ColType::Bool).collect();
            let item = if ordered.is_empty() {
                gen.any(1, &types)
            } else {
                prop_oneof![3 => prop::sample::select(ordered), 1 => gen.any(1, &types)].boxed()
            };
            (item, filter, comparison(), any::<bool>(), subquery_top_k())
                .prop_flat_map(move |(item, w, op, all, top)| {
                    let from = from.clone();
                    let item = if top.is_empty() { item } else { stable(item) };
                    lhs.pick(item.ty).prop_map(move |x| {
                        let (f, q) = if all { (Feature::AllSubquery, "ALL") } else { (Feature::AnySubquery, "ANY") };
                        let sql = format!("({} {op} {q} (SELECT {} FROM {from}{w}{top}))", x.sql, item.sql);
                        SqlExpr::new(mark(f, sql), ColType::Bool, Some(0), true)
                    })
                })
                .boxed()
        });
        prop_oneof![3 => exists, 3 => in_list, 2 => quantified].boxed()
    }

    /// A scalar subquery: an aggregate, a row by primary key, or
    /// `ORDER BY … LIMIT 1`.
    pub fn scalar(&self) -> BoxedStrategy<SqlExpr> {
        let aggregated = self.over_sources(|from, inner, filter| {
            (aggregate(&expr_gen(&inner, 1)), filter)
                .prop_map(move |(a, w)| {
                    SqlExpr::new(
                        mark(Feature::ScalarAggregate, format!("(SELECT {} FROM {from}{w})", a.sql)),
                        a.ty,
                        a.scale,
                        true,
                    )
                })
                .boxed()
        });
        let limited = self.over_sources(|from, inner, filter| {
            let gen = expr_gen(&inner, 1);
            let dir = prop::sample::select(vec!["", " DESC", " NULLS FIRST", " DESC NULLS LAST"]);
            (gen.any(1, &ColType::ALL), filter, dir)
                .prop_map(move |(item, w, dir)| {
                    let item = stable(item);
                    let sql = format!("(SELECT {} FROM {from}{w} ORDER BY 1{dir} LIMIT 1)", item.sql);
                    SqlExpr::new(mark(Feature::ScalarLimit, sql), item.ty, item.scale, true)
                })
                .boxed()
        });
        let mut arms: Vec<(u32, BoxedStrategy<SqlExpr>)> = vec![(4, aggregated), (2, limited)];
        if let Some(by_key) = self.by_key() {
            arms.push((2, by_key));
        }
        Union::new_weighted(arms).boxed()
    }

    /// A scalar subquery selecting a column of any number of rows: when it
    /// returns more than one for a row that uses it, PostgreSQL fails.
    pub fn multi_row(&self) -> BoxedStrategy<SqlExpr> {
        self.over_sources(|from, inner, filter| {
            (prop::sample::select(inner), filter)
                .prop_map(move |(item, w)| {
                    let sql = format!("(SELECT {} FROM {from}{w})", item.sql);
                    SqlExpr::new(mark(Feature::ScalarMayFail, sql), item.ty, item.scale, true)
                })
                .boxed()
        })
    }

    /// `(SELECT e FROM t AS s WHERE s.k = outer …)` over a table whose
    /// primary key is `k`: at most one row.
    fn by_key(&self) -> Option<BoxedStrategy<SqlExpr>> {
        let keyed: Vec<Source> = self.ctx.tables.iter().filter(|t| t.primary_key).map(Source::table).collect();
        let outer: Vec<SqlExpr> = self.outer.iter().filter(|o| o.ty.is_number()).cloned().collect();
        if keyed.is_empty() || outer.is_empty() {
            return None;
        }
        let this = self.clone();
        Some(
            (prop::sample::select(keyed), prop::sample::select(outer))
                .prop_flat_map(move |(src, o)| {
                    let alias = this.alias();
                    let inner = src.leaves(&alias);
                    let key = mark(Feature::CorrelatedEq, format!("{} = {}", inner[0].sql, o.sql));
                    let from = src.item(&alias);
                    (expr_gen(&inner, 1).any(1, &ColType::ALL), this.where_clause(&inner, vec![key])).prop_map(
                        move |(item, w)| {
                            let sql = format!("(SELECT {} FROM {from}{w})", item.sql);
                            SqlExpr::new(mark(Feature::ScalarByKey, sql), item.ty, item.scale, true)
                        },
                    )
                })
                .boxed(),
        )
    }

    /// A scalar subquery as a value: alone, under `COALESCE`, or combined
    /// with an expression of `lhs`.
    pub fn scalar_value(&self, lhs: &ExprGen) -> BoxedStrategy<SqlExpr> {
        let int = lhs.expr(ColType::Int4, 1);
        let text = lhs.expr(ColType::Text, 1);
        (self.scalar(), 0u8..4)
            .prop_flat_map(move |(s, how)| match how {
                0 | 1 => Just(s).boxed(),
                2 => literal(s.ty)
                    .prop_map(move |l| {
                        let scale = if s.ty == ColType::Numeric && s.scale != l.scale { None } else { s.scale };
                        SqlExpr::new(format!("COALESCE({}, {})", s.sql, l.sql), s.ty, scale, true)
                    })
                    .boxed(),
                _ if s.ty.is_number() => {
                    let s = s.clone();
                    int.clone()
                        .prop_map(move |i| SqlExpr::new(format!("({} + {})", s.sql, i.sql), s.ty, s.scale, true))
                        .boxed()
                }
                _ if s.ty == ColType::Text => {
                    let s = s.clone();
                    text.clone()
                        .prop_map(move |t| {
                            SqlExpr::new(format!("({} || {})", s.sql, t.sql), ColType::Text, Some(0), true)
                        })
                        .boxed()
                }
                _ => Just(s).boxed(),
            })
            .boxed()
    }

    /// A scalar subquery compared with an expression of `lhs`, or tested
    /// for NULL.
    pub fn scalar_comparison(&self, lhs: &ExprGen) -> BoxedStrategy<SqlExpr> {
        let lhs = lhs_types(lhs);
        (self.scalar(), comparison(), 0u8..5)
            .prop_flat_map(move |(s, op, how)| {
                if how == 0 || (s.ty == ColType::Bool && !matches!(op, "=" | "<>")) {
                    let not = if how == 0 { "" } else { "NOT " };
                    return Just(SqlExpr::new(format!("({} IS {not}NULL)", s.sql), ColType::Bool, Some(0), true))
                        .boxed();
                }
                lhs.pick(s.ty)
                    .prop_map(move |x| {
                        SqlExpr::new(format!("({} {op} {})", x.sql, s.sql), ColType::Bool, Some(0), true)
                    })
                    .boxed()
            })
            .boxed()
    }
}

/// Left operands by type, for `IN`, `ANY`/`ALL` and comparisons.
#[derive(Clone)]
struct Operands {
    numbers: BoxedStrategy<SqlExpr>,
    by_type: Vec<(ColType, BoxedStrategy<SqlExpr>)>,
}

fn lhs_types(lhs: &ExprGen) -> Operands {
    Operands {
        numbers: operand(lhs, ColType::Int4),
        by_type: ColType::ALL.iter().map(|&t| (t, lhs.expr(t, 1))).collect(),
    }
}

impl Operands {
    /// An operand comparable with `ty` (booleans with booleans).
    fn pick(&self, ty: ColType) -> BoxedStrategy<SqlExpr> {
        if ty.is_number() {
            self.numbers.clone()
        } else {
            self.by_type.iter().find(|(t, _)| *t == ty).map(|(_, s)| s.clone()).expect("every type")
        }
    }
}
