//! Random analytic SQL for the differential test against PostgreSQL
//! (`tests/tests/random_pg.rs`): the schemas, contents and change batches
//! of [`crate::queries`], and queries from a grammar that adds to its
//! expressions and joins
//!
//! * subqueries ([`subqueries`]): scalar (select list, WHERE, HAVING,
//!   a top-k's ORDER BY), `[NOT] EXISTS`, `[NOT] IN`, `op ANY/ALL` (some
//!   with `LIMIT`/`OFFSET`), uncorrelated or correlated by equalities (also
//!   with expressions) and other comparisons, nested one level;
//! * derived tables with column alias lists and non-recursive `WITH`
//!   queries, referenced once or twice ([`sources`]);
//! * top-k (`ORDER BY … LIMIT/OFFSET`) and `DISTINCT ON` with total orders,
//!   set operations ([`select`]);
//! * date, text and numeric functions and casts ([`functions`]);
//! * `count`/`sum(DISTINCT …)`, `bool_and`/`bool_or`,
//!   `string_agg(… ORDER BY …)` and the variance family ([`aggregates`]).
//!
//! Generated queries are valid in both systems and deterministic: every
//! answer PostgreSQL may give is the same multiset of rows (see
//! [`select`] for orders and [`aggregates`] for aggregate results).
//! Values that are SQL-equal but print differently (`1.0`, `1.00`) are
//! kept out of grouping, `DISTINCT`, set operation and ordering keys by
//! casting numerics of varying scale to `numeric(20,2)` ([`stable`]).
//! Generated queries raise no errors, except scalar subqueries that may
//! return more than one row, which a few plain queries hold on purpose
//! ([`AnalyticQuery::may_fail`]).

pub mod aggregates;
pub mod coverage;
pub mod functions;
pub mod postgres;
pub mod select;
pub mod sources;
pub mod subqueries;

use std::collections::BTreeSet;
use std::fmt;

use freshet_engine::value::Row;
use proptest::prelude::*;

pub use coverage::{Coverage, Feature};
pub use select::query;

use crate::queries::{self, Change, ColType, ExprGen, SqlExpr, TableSchema};

/// Expressions up to `depth` deep over `leaves`, with the functions of
/// [`functions`] and without division.
pub fn expr_gen(leaves: &[SqlExpr], depth: usize) -> ExprGen {
    ExprGen::with_arms(leaves, depth, false, &functions::arms)
}

/// Sometimes (with probability `p`) a predicate of `gen` at `depth` that
/// reads a column: a constant predicate (`NULLIF(FALSE, FALSE)`) is left
/// out, since it mostly empties the result for every contents.
pub fn filter(gen: &ExprGen, p: f64, depth: usize) -> BoxedStrategy<Option<SqlExpr>> {
    prop::option::weighted(p, gen.expr(ColType::Bool, depth)).prop_map(|f| f.filter(|f| f.reads)).boxed()
}

/// `e`, or for a numeric of varying scale, `e` cast to `numeric(20,2)`.
pub fn stable(e: SqlExpr) -> SqlExpr {
    if e.is_stable() {
        e
    } else {
        SqlExpr::new(format!("CAST({} AS numeric(20,2))", e.sql), ColType::Numeric, Some(2), e.reads)
    }
}

/// `e`, or for a numeric of any other scale than 2, `e` cast to
/// `numeric(20,2)` (columns of set operations: one scale on both sides).
pub fn fixed(e: SqlExpr) -> SqlExpr {
    if e.ty != ColType::Numeric || e.scale == Some(2) {
        e
    } else {
        SqlExpr::new(format!("CAST({} AS numeric(20,2))", e.sql), ColType::Numeric, Some(2), e.reads)
    }
}

/// A generated query and the constructs it holds.
#[derive(Clone, PartialEq, Eq)]
pub struct AnalyticQuery {
    /// The `SELECT` (or `WITH … SELECT`) text.
    pub sql: String,
    /// The constructs in it.
    pub features: BTreeSet<Feature>,
}

impl AnalyticQuery {
    /// The query of marked text (see [`coverage::strip`]), with the
    /// constructs only the finished text shows: a `WITH` query referenced
    /// twice, or by a subquery.
    pub fn new(marked: &str) -> AnalyticQuery {
        let (sql, mut features) = coverage::strip(marked);
        for i in 0.. {
            let name = format!(" w{i} AS ");
            if !sql.contains(&name) && !sql.contains(&format!(" w{i} (")) {
                break;
            }
            let refs: Vec<&str> = sql.match_indices(&name).map(|(at, _)| &sql[at + name.len()..]).collect();
            let refs: Vec<&&str> = refs.iter().filter(|rest| !rest.starts_with('(')).collect();
            if refs.len() >= 2 {
                features.insert(Feature::CteTwice);
            }
            if refs.iter().any(|rest| rest.starts_with('s')) {
                features.insert(Feature::CteInSubquery);
            }
        }
        AnalyticQuery { sql, features }
    }

    /// Whether it holds a scalar subquery that may return more than one
    /// row, so that PostgreSQL may fail on some contents (and the view
    /// must fail with it).
    pub fn may_fail(&self) -> bool {
        self.features.contains(&Feature::ScalarMayFail)
    }
}

impl fmt::Debug for AnalyticQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.sql)
    }
}

/// A schema, its initial contents, a view query and the changes to apply.
#[derive(Clone)]
pub struct Scenario {
    /// The tables.
    pub tables: Vec<TableSchema>,
    /// Each table's initial rows.
    pub initial: Vec<Vec<Row>>,
    /// The view's query.
    pub query: AnalyticQuery,
    /// Create the view before loading the initial rows.
    pub view_first: bool,
    /// Change batches, each one transaction (or, when its flag is false,
    /// one transaction per table it touches).
    pub batches: Vec<(bool, Vec<Change>)>,
    /// Dataflow worker threads of the database.
    pub workers: usize,
}

impl Scenario {
    /// The scenario as a SQL script, for failure reports (see
    /// [`queries::script`]).
    pub fn script(&self) -> String {
        let script = queries::script(&self.tables, &self.initial, &self.query.sql, self.view_first, &self.batches);
        if self.workers > 1 {
            format!("-- {} dataflow workers\n{script}", self.workers)
        } else {
            script
        }
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{}", self.script())
    }
}

/// A whole scenario: 2–4 tables of up to `max_rows` initial rows, an
/// analytic query, and `batches` change batches of up to `max_ops` changes.
pub fn scenario(max_rows: usize, batches: std::ops::RangeInclusive<usize>, max_ops: usize) -> BoxedStrategy<Scenario> {
    queries::schema()
        .prop_flat_map(move |tables| {
            let initial: Vec<BoxedStrategy<Vec<Row>>> =
                tables.iter().map(|t| queries::table_rows(t, max_rows)).collect();
            let flags = prop::collection::vec(prop::bool::weighted(0.7), *batches.end());
            (
                Just(tables.clone()),
                initial,
                query(&tables),
                any::<bool>(),
                queries::change_batches(&tables, batches.clone(), max_ops),
                flags,
                prop_oneof![3 => Just(1usize), 1 => Just(2usize)],
            )
        })
        .prop_map(|(tables, initial, query, view_first, batches, flags, workers)| Scenario {
            tables,
            initial,
            query,
            view_first,
            batches: flags.into_iter().zip(batches).collect(),
            workers,
        })
        .boxed()
}
