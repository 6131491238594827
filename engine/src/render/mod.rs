//! Rendering plans onto differential-dataflow operators.
//!
//! The plan decides what is computed; rendering is a `match` over the plan
//! that calls one straight-line `build_*` function per operator (one
//! operator per file, each documenting its incremental cost). Every plan
//! node renders to two collections: the `ok` rows and the `err` evaluation
//! errors its rows raised. Errors flow through every operator unchanged, so
//! a view's error collection is empty exactly when PostgreSQL would have
//! answered its query without an error. A node none of whose expressions
//! can fail adds no error operator at all ([`Errs`] is then absent), so a
//! view pays for error tracking only where errors can arise.
//!
//! Sources (tables and views) stay arranged until an operator reads them:
//! the first operator over a source reads the arranged batches directly
//! ([`Source::flat_map`]), fused with its own per-row work.

mod constant;
mod distinct;
mod get;
mod join;
mod map_filter;
mod negate;
pub(crate) mod reduce;
mod threshold;
mod topk;
mod union;

use std::collections::HashMap;

use differential_dataflow::operators::arrange::{Arranged, TraceAgent};
use differential_dataflow::trace::implementations::{KeySpine, ValSpine};
use differential_dataflow::trace::wrappers::frontier::TraceFrontier;
use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::operators::core::OkErr;
use timely::dataflow::Scope;

use crate::error::EngineError;
use crate::expr::EvalError;
use crate::plan::{Diff, ObjectId, Plan};
use crate::value::Row;

pub(crate) use join::{column_key, direct_sources, shared_arrangements};
pub(crate) use map_filter::Step;

/// Logical time: the position of a transaction in commit order.
pub(crate) type Time = u64;
/// The arrangement of a table's or view's rows.
pub(crate) type RowSpine = KeySpine<Row, Time, Diff>;
/// A handle to a table's or view's arranged rows.
pub(crate) type RowTrace = TraceAgent<RowSpine>;
/// The arrangement of a view's evaluation errors.
pub(crate) type ErrSpine = KeySpine<EvalError, Time, Diff>;
/// A handle to a view's arranged errors.
pub(crate) type ErrTrace = TraceAgent<ErrSpine>;
/// The arrangement of rows by a key (key values, then the whole row).
pub(crate) type KeyedSpine = ValSpine<Row, Row, Time, Diff>;
/// A handle to rows arranged by a key.
pub(crate) type KeyedTrace = TraceAgent<KeyedSpine>;
/// An imported arrangement of rows by a key.
pub(crate) type ImportedKeyed<'s> = Arranged<'s, TraceFrontier<KeyedTrace>>;
/// A collection of the dataflow.
pub(crate) type Coll<'s, D> = VecCollection<'s, Time, D, Diff>;

/// The evaluation errors of a rendered node: absent when nothing below it
/// can fail (no operator is built for them then).
#[derive(Clone)]
pub(crate) struct Errs<'s>(Option<Coll<'s, EvalError>>);

impl<'s> Errs<'s> {
    /// No errors can arise.
    pub fn none() -> Errs<'s> {
        Errs(None)
    }

    /// These errors and `other`'s.
    pub fn concat(self, other: impl Into<Errs<'s>>) -> Errs<'s> {
        match (self.0, other.into().0) {
            (None, x) | (x, None) => Errs(x),
            (Some(a), Some(b)) => Errs(Some(a.concat(b))),
        }
    }

    /// True when no error can arise.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// The errors as a collection (an empty one when none can arise).
    pub fn into_coll(self, scope: Scope<'s, Time>) -> Coll<'s, EvalError> {
        self.0.unwrap_or_else(|| empty(scope))
    }
}

impl<'s> From<Coll<'s, EvalError>> for Errs<'s> {
    fn from(c: Coll<'s, EvalError>) -> Errs<'s> {
        Errs(Some(c))
    }
}

impl<'s> From<Option<Coll<'s, EvalError>>> for Errs<'s> {
    fn from(c: Option<Coll<'s, EvalError>>) -> Errs<'s> {
        Errs(c)
    }
}

/// A rendered plan node: its rows and the errors they raised.
#[derive(Clone)]
pub(crate) struct Rendered<'s> {
    /// The rows.
    pub ok: Coll<'s, Row>,
    /// Evaluation errors (every multiplicity positive).
    pub err: Errs<'s>,
}

/// A source's rows as imported into a dataflow.
pub(crate) type ImportedRows<'s> = Arranged<'s, TraceFrontier<RowTrace>>;

/// A table or view read by a dataflow.
#[derive(Clone)]
pub(crate) struct Source<'s> {
    /// Its arranged rows (`None` when the plan reads them only through
    /// shared arrangements, so they are not imported).
    pub rows: Option<ImportedRows<'s>>,
    /// Rows added on top (a one-shot query's uncommitted changes).
    pub extra: Option<Coll<'s, Row>>,
    /// Its evaluation errors (a view's).
    pub err: Errs<'s>,
}

impl<'s> Source<'s> {
    /// `logic` applied to every row (with its multiplicity), read straight
    /// from the arranged batches: one operator, no intermediate collection.
    pub fn flat_map<I, L>(&self, logic: L) -> Result<Coll<'s, I::Item>, EngineError>
    where
        I: IntoIterator<Item: differential_dataflow::Data>,
        L: FnMut(&Row) -> I + Clone + 'static,
    {
        let Some(rows) = &self.rows else {
            return Err(EngineError::InvalidPlan("internal error: a source read directly was not imported".into()));
        };
        let mut first = logic.clone();
        let rows = rows.clone().flat_map_ref(move |row: &Row, _: &()| first(row));
        Ok(match &self.extra {
            Some(extra) => {
                let mut logic = logic;
                rows.concat(extra.clone().flat_map(move |row| logic(&row)))
            }
            None => rows,
        })
    }

    /// The rows as a collection.
    pub fn collection(&self) -> Result<Coll<'s, Row>, EngineError> {
        self.flat_map(|row| Some(row.clone()))
    }
}

/// What rendering may read: imported sources and shared key arrangements.
pub(crate) struct Context<'s> {
    /// The dataflow's scope.
    pub scope: Scope<'s, Time>,
    /// Each source object read by the plan, already imported (and, for
    /// one-shot queries, with the uncommitted overlay mixed in).
    pub sources: HashMap<ObjectId, Source<'s>>,
    /// Shared arrangements of sources by key columns, imported.
    pub shared: HashMap<(ObjectId, Vec<usize>), ImportedKeyed<'s>>,
    /// This worker's index (fixed rows enter on worker 0 only).
    pub worker_index: usize,
}

/// Renders `plan` in `ctx`.
pub(crate) fn render<'s>(ctx: &Context<'s>, plan: &Plan) -> Result<Rendered<'s>, EngineError> {
    match plan {
        Plan::Get(g) => get::build_get(ctx, g),
        Plan::Constant(c) => Ok(constant::build_constant(ctx, c)),
        Plan::Filter(_) | Plan::Map(_) => map_filter::build_map_filter(ctx, plan),
        Plan::Join(j) => join::build_join(ctx, j, &[]),
        Plan::Reduce(r) => reduce::build_reduce(ctx, r),
        Plan::Distinct(d) => Ok(distinct::build_distinct(render(ctx, &d.input)?)),
        Plan::Union(u) => {
            let inputs = u.inputs.iter().map(|i| render(ctx, i)).collect::<Result<Vec<_>, _>>()?;
            Ok(union::build_union(ctx, inputs))
        }
        Plan::Negate(n) => Ok(negate::build_negate(render(ctx, &n.input)?)),
        Plan::Threshold(t) => Ok(threshold::build_threshold(render(ctx, &t.input)?)),
        Plan::TopK(t) => topk::build_topk(ctx, t),
    }
}

/// Splits evaluated results into rows and errors (one pass).
pub(crate) fn split_results<'s, D>(results: Coll<'s, Result<D, EvalError>>) -> (Coll<'s, D>, Coll<'s, EvalError>)
where
    D: differential_dataflow::Data,
{
    let (ok, err) = results.inner.ok_err::<Vec<(D, Time, Diff)>, _, Vec<(EvalError, Time, Diff)>, _, _>(
        |(d, t, r)| match d {
            Ok(x) => Ok((x, t, r)),
            Err(e) => Err((e, t, r)),
        },
    );
    (ok.as_collection(), err.as_collection())
}

/// An empty collection.
pub(crate) fn empty<'s, D: differential_dataflow::Data>(scope: Scope<'s, Time>) -> Coll<'s, D> {
    use timely::dataflow::operators::vec::ToStream;
    Vec::<(D, Time, Diff)>::new().to_stream(scope).as_collection()
}

