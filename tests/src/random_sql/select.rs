//! Whole queries: optional `WITH` queries, then a plain, `DISTINCT`,
//! grouped (with `HAVING`) or global aggregate query, a top-k
//! (`ORDER BY` every output column, `LIMIT`/`OFFSET`), a
//! `DISTINCT ON (…) ORDER BY …`, or a set operation of two queries
//! (sometimes itself a top-k); subqueries in the select list, WHERE and
//! HAVING.
//!
//! Orders are total where the answer depends on them: a top-k orders by
//! every output column (after an optional hidden key), `DISTINCT ON` by its
//! expressions and then every output column, and those columns are
//! stabilized (one representation per SQL-equal value), so rows that tie
//! are identical and any of PostgreSQL's permitted answers is the same
//! multiset of rows.

use proptest::prelude::*;

use super::aggregates::aggregate;
use super::coverage::{mark, Feature};
use super::sources::{from_clause, order_by_positions, source_query, Ctx, FromClause, Source};
use super::subqueries::Subqueries;
use super::{expr_gen, filter, fixed, stable, AnalyticQuery};
use crate::queries::{ColType, ExprGen, SqlExpr, TableSchema};

/// A random analytic query over `tables`.
pub fn query(tables: &[TableSchema]) -> BoxedStrategy<AnalyticQuery> {
    let ctx = Ctx { tables: tables.to_vec(), ctes: Vec::new() };
    prop_oneof![6 => Just(0usize), 3 => Just(1usize), 1 => Just(2usize)]
        .prop_flat_map(move |n| with_ctes(ctx.clone(), n, Vec::new()))
        .prop_flat_map(|(ctx, defs)| body(&ctx).prop_map(move |b| (defs.clone(), b)))
        .prop_map(|(defs, body)| {
            let sql = if defs.is_empty() { body } else { format!("WITH {} {body}", defs.join(", ")) };
            AnalyticQuery::new(&sql)
        })
        .boxed()
}

/// Adds `remaining` `WITH` queries to `ctx`, each over the tables and the
/// ones before it.
fn with_ctes(ctx: Ctx, remaining: usize, defs: Vec<String>) -> BoxedStrategy<(Ctx, Vec<String>)> {
    if remaining == 0 {
        return Just((ctx, defs)).boxed();
    }
    let i = ctx.ctes.len();
    any::<bool>()
        .prop_flat_map(move |alias_list| {
            let (ctx, defs) = (ctx.clone(), defs.clone());
            source_query(&ctx, format!("c{i}"), !alias_list).prop_flat_map(move |(sql, columns)| {
                let name = format!("w{i}");
                let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                let head = if alias_list {
                    mark(Feature::CteAliasList, format!("{name} ({})", names.join(", ")))
                } else {
                    name.clone()
                };
                let mut def = mark(Feature::Cte, format!("{head} AS ({sql})"));
                if (0..i).any(|j| sql.contains(&format!("w{j} AS "))) {
                    def = mark(Feature::CteOverCte, def);
                }
                let mut ctx = ctx.clone();
                ctx.ctes.push(Source { from: name, columns, alias_list: false, unique_key: false });
                let mut defs = defs.clone();
                defs.push(def);
                with_ctes(ctx, remaining - 1, defs)
            })
        })
        .boxed()
}

fn body(ctx: &Ctx) -> BoxedStrategy<String> {
    prop_oneof![
        5 => plain_select(ctx, true).prop_map(|s| s.render(None)),
        1 => order_only(ctx),
        2 => distinct(ctx),
        5 => grouped_select(ctx).prop_map(|s| s.render(None)),
        2 => global(ctx),
        5 => top_k(ctx),
        2 => distinct_on(ctx),
        2 => set_operation(ctx),
    ]
    .boxed()
}

/// A query's select list, its other clauses, and an expression it could
/// order by besides its output columns.
#[derive(Clone, Debug)]
struct Select {
    distinct: bool,
    items: Vec<SqlExpr>,
    /// `FROM … [WHERE …] [GROUP BY …] [HAVING …]`.
    tail: String,
    /// An expression valid in ORDER BY that is not an output column.
    hidden: SqlExpr,
}

fn select_list(items: &[SqlExpr]) -> String {
    items.iter().enumerate().map(|(i, e)| format!("{} AS c{}", e.sql, i + 1)).collect::<Vec<_>>().join(", ")
}

impl Select {
    /// The query text, with an `ORDER BY … LIMIT …` suffix if given.
    fn render(&self, suffix: Option<&str>) -> String {
        let distinct = if self.distinct { "DISTINCT " } else { "" };
        format!("SELECT {distinct}{} {}{}", select_list(&self.items), self.tail, suffix.unwrap_or(""))
    }
}

/// A FROM clause and what a query over it draws from: expressions over
/// its columns, and subqueries that may correlate with them.
struct Scope {
    ctx: Ctx,
    from: FromClause,
    gen: ExprGen,
    subs: Subqueries,
}

impl Scope {
    /// A key, stabilized: one of the FROM clause's columns (with weight
    /// `column_weight`) or, with weight 1, an expression of one of `types`
    /// that reads a column (`reason` names the filter).
    fn key(&self, column_weight: u32, types: &[ColType], reason: &'static str) -> impl Strategy<Value = SqlExpr> {
        prop_oneof![
            column_weight => prop::sample::select(self.from.leaves.clone()),
            1 => self.gen.any(1, types).prop_filter(reason, |e| e.reads),
        ]
        .prop_map(stable)
    }
}

/// A query over a FROM clause of `ctx`, drawn by `query` from the clause's
/// [`Scope`].
fn over_from<S, F>(ctx: &Ctx, query: F) -> impl Strategy<Value = S::Value>
where
    S: Strategy,
    F: Fn(Scope) -> S,
{
    let ctx = ctx.clone();
    from_clause(&ctx).prop_flat_map(move |from| {
        let gen = expr_gen(&from.leaves, 2);
        let subs = Subqueries::new(&ctx, from.leaves.clone(), 0);
        query(Scope { ctx: ctx.clone(), from, gen, subs })
    })
}

/// ` HAVING …` over a predicate and a subquery condition, or nothing
/// without either.
fn having_clause(having: Option<SqlExpr>, sub_having: Option<String>) -> String {
    let conds: Vec<String> = having.map(|h| h.sql).into_iter().chain(sub_having).collect();
    if conds.is_empty() {
        String::new()
    } else {
        mark(Feature::Having, format!(" HAVING {}", conds.join(" AND ")))
    }
}

/// ` WHERE …` (or nothing): the comma joins' conditions, a predicate, and
/// sometimes a subquery predicate or a comparison with a scalar subquery.
fn where_clause(from: &FromClause, gen: &ExprGen, subs: &Subqueries) -> BoxedStrategy<String> {
    let sub = prop_oneof![
        3 => subs.predicate(gen).prop_map(|p| mark(Feature::PredicateInWhere, p.sql)),
        2 => subs.scalar_comparison(gen).prop_map(|p| mark(Feature::ScalarInWhere, p.sql)),
    ];
    let conds = from.where_conds.clone();
    (filter(gen, 0.6, 2), prop::option::weighted(0.35, sub), 0u8..5)
        .prop_map(move |(pred, sub, how)| {
            let mut all = conds.clone();
            match (pred, sub) {
                (Some(p), Some(s)) if how == 0 => all.push(format!("({} OR {s})", p.sql)),
                (p, s) => {
                    all.extend(p.map(|p| p.sql));
                    all.extend(s.map(|s| if how == 1 { format!("(NOT {s})") } else { s }));
                }
            }
            if all.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", all.join(" AND "))
            }
        })
        .boxed()
}

/// A select item of a query without aggregates: an expression, a scalar
/// subquery, or a subquery predicate.
fn row_item(gen: &ExprGen, subs: &Subqueries) -> BoxedStrategy<SqlExpr> {
    prop_oneof![
        8 => gen.any(2, &ColType::ALL),
        1 => subs.scalar_value(gen).prop_map(|s| SqlExpr { sql: mark(Feature::ScalarInSelect, &s.sql), ..s }),
        1 => subs.predicate(gen).prop_map(|s| SqlExpr { sql: mark(Feature::PredicateInSelect, &s.sql), ..s }),
    ]
    .boxed()
}

/// A query over a FROM clause without aggregates; with `may_fail`,
/// sometimes with a scalar subquery that may return several rows.
fn plain_select(ctx: &Ctx, may_fail: bool) -> BoxedStrategy<Select> {
    over_from(ctx, move |Scope { from, gen, subs, .. }| {
        let tail = format!("FROM {}", from.sql);
        let failing = if may_fail { prop::option::weighted(0.1, subs.multi_row()).boxed() } else { Just(None).boxed() };
        (
            prop::collection::vec(row_item(&gen, &subs), 1..=4),
            where_clause(&from, &gen, &subs),
            prop_oneof![
                2 => gen.any(1, &ColType::ALL),
                1 => subs.scalar().prop_map(|s| SqlExpr { sql: mark(Feature::ScalarInOrderBy, &s.sql), ..s }),
            ],
            failing,
        )
            .prop_map(move |(mut items, w, hidden, failing)| Select {
                distinct: false,
                items: {
                    items.extend(failing);
                    items
                },
                tail: mark(Feature::Plain, format!("{tail}{w}")),
                hidden,
            })
    })
    .boxed()
}

/// A plain query with `ORDER BY` but no `LIMIT` (a view ignores it).
fn order_only(ctx: &Ctx) -> BoxedStrategy<String> {
    plain_select(ctx, false)
        .prop_flat_map(|s| {
            let n = s.items.len();
            (Just(s), order_by_positions(n))
        })
        .prop_map(|(s, order)| mark(Feature::OrderOnly, s.render(Some(&format!(" ORDER BY {}", order.join(", "))))))
        .boxed()
}

fn distinct(ctx: &Ctx) -> BoxedStrategy<String> {
    plain_select(ctx, false)
        .prop_map(|mut s| {
            s.items = s.items.into_iter().map(stable).collect();
            s.distinct = true;
            mark(Feature::Distinct, s.render(None))
        })
        .boxed()
}

/// `GROUP BY` one or two keys (columns, or expressions over them), with
/// aggregates, sometimes an expression over keys and aggregates,
/// `HAVING`, subqueries correlated with the key columns, and `DISTINCT`.
fn grouped_select(ctx: &Ctx) -> BoxedStrategy<Select> {
    over_from(ctx, |scope| {
        // Not a boolean expression: PostgreSQL flattens `(a AND b) AND c`,
        // so a key `a AND b` would not match inside HAVING.
        let key_types = [ColType::Int4, ColType::Int8, ColType::Numeric, ColType::Text, ColType::Date];
        let key = scope.key(4, &key_types, "a group key reads a column");
        (
            Just(scope.from.clone()),
            prop::collection::vec(key, 1..=2),
            prop::collection::vec(aggregate(&scope.gen), 1..=3),
            where_clause(&scope.from, &scope.gen, &scope.subs),
            aggregate(&scope.gen),
            Just(scope.ctx),
        )
    })
    .prop_flat_map(|(from, keys, aggs, w, hidden, ctx)| {
        let plain_keys: Vec<SqlExpr> = keys.iter().filter(|k| from.leaves.contains(k)).cloned().collect();
        let mut grouped: Vec<SqlExpr> = keys
            .iter()
            .map(|k| SqlExpr {
                sql: if k.sql.starts_with('(') { k.sql.clone() } else { format!("({})", k.sql) },
                ..k.clone()
            })
            .collect();
        grouped.extend(aggs.iter().map(|a| SqlExpr { sql: format!("({})", a.sql), ..a.clone() }));
        let over = expr_gen(&grouped, 1);
        let subs = Subqueries::new(&ctx, plain_keys, 0);
        let sub_having = prop_oneof![
            3 => subs.predicate(&over).prop_map(|p| mark(Feature::PredicateInHaving, p.sql)),
            2 => subs.scalar_comparison(&over).prop_map(|p| mark(Feature::ScalarInHaving, p.sql)),
        ];
        let sub_item =
            subs.scalar_value(&over).prop_map(|s| SqlExpr { sql: mark(Feature::ScalarInSelect, &s.sql), ..s });
        let tail = format!(
            "FROM {}{w} GROUP BY {}",
            from.sql,
            keys.iter().map(|k| k.sql.as_str()).collect::<Vec<_>>().join(", ")
        );
        (
            prop::option::weighted(0.4, over.any(1, &ColType::ALL)),
            filter(&over, 0.35, 1),
            prop::option::weighted(0.2, sub_having),
            prop::option::weighted(0.2, sub_item),
            prop::collection::vec(any::<bool>(), keys.len()),
            any::<bool>(),
        )
            .prop_map(move |(derived, having, sub_having, sub_item, subset, distinct)| {
                let mut items: Vec<SqlExpr> =
                    keys.iter().zip(&subset).filter(|(_, s)| **s).map(|(k, _)| k.clone()).collect();
                items.extend(aggs.iter().cloned());
                items.extend(derived);
                items.extend(sub_item);
                let having = having_clause(having, sub_having);
                Select {
                    distinct: distinct && items.iter().all(SqlExpr::is_stable),
                    items,
                    tail: mark(Feature::Grouped, format!("{tail}{having}")),
                    hidden: hidden.clone(),
                }
            })
    })
    .boxed()
}

/// Aggregates without `GROUP BY`: exactly one row.
fn global(ctx: &Ctx) -> BoxedStrategy<String> {
    over_from(ctx, |Scope { ctx, from, gen, subs }| {
        let tail = format!("FROM {}", from.sql);
        (prop::collection::vec(aggregate(&gen), 1..=3), where_clause(&from, &gen, &subs)).prop_flat_map(
            move |(aggs, w)| {
                let grouped: Vec<SqlExpr> =
                    aggs.iter().map(|a| SqlExpr { sql: format!("({})", a.sql), ..a.clone() }).collect();
                let over = expr_gen(&grouped, 1);
                let subs = Subqueries::new(&ctx, Vec::new(), 0);
                let sub_having = prop_oneof![
                    1 => subs.predicate(&over).prop_map(|p| mark(Feature::PredicateInHaving, p.sql)),
                    1 => subs.scalar_comparison(&over).prop_map(|p| mark(Feature::ScalarInHaving, p.sql)),
                ];
                let sub_item =
                    subs.scalar_value(&over).prop_map(|s| SqlExpr { sql: mark(Feature::ScalarInSelect, &s.sql), ..s });
                let tail = format!("{tail}{w}");
                (
                    filter(&over, 0.3, 1),
                    prop::option::weighted(0.15, sub_having),
                    prop::option::weighted(0.25, sub_item),
                )
                    .prop_map(move |(having, sub_having, sub_item)| {
                        let mut items = aggs.clone();
                        items.extend(sub_item);
                        let having = having_clause(having, sub_having);
                        mark(Feature::Global, format!("SELECT {} {tail}{having}", select_list(&items)))
                    })
            },
        )
    })
    .boxed()
}

/// ` LIMIT n [OFFSET m]` or ` OFFSET m`.
fn limit_clause() -> BoxedStrategy<String> {
    let limit = prop_oneof![1 => Just(0u32), 8 => 1u32..5];
    prop_oneof![
        6 => limit.clone().prop_map(|n| mark(Feature::TopK, format!(" LIMIT {n}"))),
        3 => (limit, 1u32..4).prop_map(|(n, m)| mark(Feature::TopKOffset, mark(Feature::TopK, format!(" LIMIT {n} OFFSET {m}")))),
        1 => (1u32..4).prop_map(|m| mark(Feature::OffsetOnly, format!(" OFFSET {m}"))),
    ]
    .boxed()
}

/// `ORDER BY [hidden key,] every output column LIMIT … [OFFSET …]` over a
/// plain or grouped query.
fn top_k(ctx: &Ctx) -> BoxedStrategy<String> {
    prop_oneof![
        2 => plain_select(ctx, false),
        1 => grouped_select(ctx).prop_map(|s| Select { tail: mark(Feature::TopKGrouped, &s.tail), ..s }),
    ]
    .prop_flat_map(|mut s| {
        s.items = s.items.into_iter().map(stable).collect();
        let n = s.items.len();
        (
            Just(s),
            order_by_positions(n),
            prop::bool::weighted(0.4),
            limit_clause(),
            prop::sample::select(vec!["", " DESC"]),
        )
    })
    .prop_map(|(s, order, hidden, limit, dir)| {
        let mut keys = Vec::new();
        if hidden && !s.distinct && s.hidden.reads {
            keys.push(mark(Feature::TopKHiddenKey, format!("{}{dir}", s.hidden.sql)));
        }
        keys.extend(order);
        s.render(Some(&format!(" ORDER BY {}{limit}", keys.join(", "))))
    })
    .boxed()
}

/// `SELECT DISTINCT ON (e, …) … ORDER BY e, …, every output column`.
fn distinct_on(ctx: &Ctx) -> BoxedStrategy<String> {
    over_from(ctx, |scope| {
        let on = scope.key(3, &ColType::ALL, "a key reads a column");
        let dir = prop::sample::select(vec!["", " DESC", " NULLS FIRST", " DESC NULLS LAST"]);
        let Scope { from, gen, subs, .. } = scope;
        (
            Just(format!("FROM {}", from.sql)),
            prop::collection::vec((on, dir), 1..=2),
            prop::collection::vec(row_item(&gen, &subs).prop_map(stable), 1..=3),
            any::<bool>(),
            where_clause(&from, &gen, &subs),
            prop::option::weighted(0.5, limit_clause()),
        )
    })
    .prop_flat_map(|(from, on, items, show_on, w, limit)| {
        let mut all: Vec<SqlExpr> = if show_on { on.iter().map(|(e, _)| e.clone()).collect() } else { Vec::new() };
        all.extend(items);
        let n = all.len();
        (Just((from, on, all, w, limit)), order_by_positions(n))
    })
    .prop_map(|((from, on, items, w, limit), order)| {
        let exprs: Vec<&str> = on.iter().map(|(e, _)| e.sql.as_str()).collect();
        let mut keys: Vec<String> = on.iter().map(|(e, d)| format!("{}{d}", e.sql)).collect();
        keys.extend(order);
        let sql = format!(
            "SELECT DISTINCT ON ({}) {} {from}{w} ORDER BY {}{}",
            exprs.join(", "),
            select_list(&items),
            keys.join(", "),
            limit.unwrap_or_default()
        );
        mark(Feature::DistinctOn, sql)
    })
    .boxed()
}

/// Two queries combined by `UNION`, `INTERSECT` or `EXCEPT` (with or
/// without `ALL`): the second over the same FROM with another filter, or
/// over another source; sometimes ordered by every column and limited.
fn set_operation(ctx: &Ctx) -> BoxedStrategy<String> {
    over_from(ctx, |Scope { ctx, from, gen, subs }| {
        let ops = ["UNION", "UNION ALL", "INTERSECT", "INTERSECT ALL", "EXCEPT", "EXCEPT ALL"];
        let (from2, subs2) = (from.clone(), subs.clone());
        let gen2 = expr_gen(&from.leaves, 2);
        (
            prop::collection::vec(gen.any(2, &ColType::ALL).prop_map(fixed), 1..=3),
            where_clause(&from, &gen, &subs),
            prop::sample::select(ops.to_vec()),
            any::<bool>(),
            prop::option::weighted(0.3, limit_clause()),
        )
            .prop_flat_map(move |(items, w, op, same_from, limit)| {
                let types: Vec<ColType> = items.iter().map(|i| i.ty).collect();
                let second: BoxedStrategy<String> = if same_from {
                    let from = from2.clone();
                    where_clause(&from2, &gen2, &subs2)
                        .prop_map({
                            let items = items.clone();
                            move |w| format!("SELECT {} FROM {}{w}", select_list(&items), from.sql)
                        })
                        .boxed()
                } else {
                    ctx.named()
                        .prop_flat_map(move |src| {
                            let leaves = src.leaves("y0");
                            let g = expr_gen(&leaves, 1);
                            let cols: Vec<BoxedStrategy<SqlExpr>> =
                                types.iter().map(|t| g.expr(*t, 1).prop_map(fixed).boxed()).collect();
                            let item = src.item("y0");
                            (cols, filter(&g, 0.5, 1)).prop_map(move |(cols, p)| {
                                let w = p.map(|p| format!(" WHERE {}", p.sql)).unwrap_or_default();
                                format!("SELECT {} FROM {item}{w}", select_list(&cols))
                            })
                        })
                        .boxed()
                };
                let first = format!("SELECT {} FROM {}{w}", select_list(&items), from.sql);
                (Just((first, op, limit)), second, order_by_positions(items.len()))
            })
    })
    .prop_map(|((first, op, limit), second, order)| {
        let suffix = match limit {
            Some(l) => mark(Feature::TopKSetOp, format!(" ORDER BY {}{l}", order.join(", "))),
            None => String::new(),
        };
        mark(Feature::SetOp, format!("{first} {op} {second}{suffix}"))
    })
    .boxed()
}
