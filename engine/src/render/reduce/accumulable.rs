//! Accumulable aggregates (`count`, `sum`, `avg`) carried in the diff.
//!
//! One operator evaluates, per input row, the group key and the
//! aggregates' arguments and turns the row into `(group key)` with the
//! row's contribution, an [`Accum`] multiplied by the row's multiplicity,
//! as its diff (evaluation errors leave on a second output). The
//! contributions are arranged by group key, and [`finish_totals`] keeps
//! one accumulated value per group and emits, per changed group, the
//! retraction of the row finished from its old total and the row finished
//! from its new total. Work per changed row: O(1)
//! accumulator additions, independent of the group's size, and no heap
//! allocation for the accumulator itself in the common case (see
//! [`accum`](super::accum)). Memory: one accumulator per group in the
//! arrangement (once merged). A group whose row count reaches zero
//! disappears.

use std::collections::HashMap;

use differential_dataflow::difference::{IsZero, Multiply, Semigroup};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::OutputBuilder;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::Stream;
use differential_dataflow::operators::arrange::{Arranged, TraceAgent};
use differential_dataflow::trace::implementations::KeyBatcher;
use differential_dataflow::AsCollection;

use super::acc_state::{AccKind, AccState};
use super::accum::Accum;
use super::args::{eval_key, eval_ref};
use super::total::{finish_totals, AccumSpine};
use super::Piece;
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, AggregateFunc, Diff};
use crate::render::{Coll, Time};
use crate::value::{DataType, Row, Value};

/// The arranged contributions, the evaluation errors, and the finisher.
type Contributions<'s> = (Arranged<'s, TraceAgent<AccumSpine>>, Coll<'s, EvalError>, Finisher);

/// Turns an accumulator into the aggregates' values.
#[derive(Clone)]
pub(crate) struct Finisher {
    aggs: Vec<(AggregateFunc, DataType)>,
}

impl Finisher {
    /// Appends the aggregates' values for a group's accumulator to `out`;
    /// `None` for an accumulator that is not a group (no rows).
    #[inline]
    pub fn finish_into(&self, accum: &Accum, out: &mut Vec<Value>) -> Option<Result<(), EvalError>> {
        if accum.rows <= 0 {
            return None;
        }
        if accum.states.len() != self.aggs.len() {
            return Some(Err(EvalError::Other("internal error: accumulator without states".into())));
        }
        for ((func, input_type), state) in self.aggs.iter().zip(accum.states.iter()) {
            match state.finish(*func, *input_type, accum.rows) {
                Ok(v) => out.push(v),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(()))
    }
}

/// Evaluates a row's contribution: the group key and its accumulator.
struct Contributor {
    group_key: Vec<Expr>,
    args: Vec<(AccKind, Expr)>,
}

impl Contributor {
    #[inline]
    fn contribution(&self, row: &[Value]) -> Result<(Row, Accum), EvalError> {
        let key = eval_key(&self.group_key, row)?;
        let mut accum = Accum { rows: 1, states: Default::default() };
        for (kind, expr) in &self.args {
            let state: AccState = if *kind == AccKind::CountStar {
                AccState::Count(1)
            } else {
                kind.contribution(&*eval_ref(expr, row)?).map_err(EvalError::Other)?
            };
            accum.states.push(state);
        }
        Ok((key, accum))
    }
}

/// Renders the arrangement of the contributions to the accumulable
/// aggregates at positions `which` (possibly none: then the totals only
/// track which groups exist) by group key, with the evaluation errors and
/// the finisher.
pub(crate) fn build_contributions<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
    which: &[usize],
) -> Result<Contributions<'s>, EngineError> {
    let args = which
        .iter()
        .map(|&i| Ok((AccKind::of(&aggregates[i]).map_err(EngineError::InvalidPlan)?, aggregates[i].expr.clone())))
        .collect::<Result<Vec<_>, EngineError>>()?;
    let finisher = Finisher { aggs: which.iter().map(|&i| (aggregates[i].func, aggregates[i].input_type)).collect() };
    let contributor = Contributor { group_key: group_key.to_vec(), args };
    let (contributions, err) = contribute(input.inner, contributor);
    let arranged = contributions
        .as_collection()
        .arrange_named::<KeyBatcher<Row, Time, Accum>, AccumSpine>("Arrange: Accumulate", KeyBatcher::new);
    Ok((arranged, err.as_collection(), finisher))
}

/// Renders the accumulable aggregates at positions `which` as a piece:
/// `(group key, their values)` per group.
pub(crate) fn build_accumulable<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
    which: Vec<usize>,
) -> Result<(Piece<'s>, Coll<'s, EvalError>), EngineError> {
    let (arranged, err, finisher) = build_contributions(input, group_key, aggregates, &which)?;
    let (rows, finish_err) = finish_totals(arranged, move |key: &Row, accum: &Accum| {
        let mut values = Vec::with_capacity(finisher.aggs.len());
        finisher.finish_into(accum, &mut values).map(|r| r.map(|()| (key.clone(), Row::new(values))))
    });
    Ok((Piece { aggregates: which, rows }, err.concat(finish_err)))
}

/// Renders a reduce whose aggregates are all accumulable: the rows
/// `group key ++ aggregates`, assembled as the totals are finished.
pub(crate) fn build_accumulable_rows<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
) -> Result<(Coll<'s, Row>, Coll<'s, EvalError>), EngineError> {
    let which: Vec<usize> = (0..aggregates.len()).collect();
    let (arranged, err, finisher) = build_contributions(input, group_key, aggregates, &which)?;
    let (rows, finish_err) = finish_totals(arranged, move |key: &Row, accum: &Accum| {
        let mut values = Vec::with_capacity(key.len() + finisher.aggs.len());
        values.extend_from_slice(key);
        finisher.finish_into(accum, &mut values).map(|r| r.map(|()| Row::new(values)))
    });
    Ok((rows, err.concat(finish_err)))
}

/// An operator output of `(data, time, diff)` updates.
type Output<D, R> = OutputBuilder<Time, CapacityContainerBuilder<Vec<(D, Time, R)>>>;

/// The operator that turns rows into contributions, `((group key, ()),
/// time, accumulator)`, and evaluation errors, `(error, time, diff)`.
///
/// Contributions are added up per `(group key, time)` over everything the
/// operator receives in one activation before they leave, so the
/// arrangement downstream sorts one accumulator per changed group instead
/// of one per changed row: building a view over 1.4 million lines of
/// 100,000 groups sorts 100,000 accumulators. Memory: that activation's
/// distinct `(group key, time)` pairs, released when it ends.
#[allow(clippy::type_complexity)]
fn contribute<'s>(
    stream: Stream<'s, Time, Vec<(Row, Time, Diff)>>,
    contributor: Contributor,
) -> (Stream<'s, Time, Vec<((Row, ()), Time, Accum)>>, Stream<'s, Time, Vec<(EvalError, Time, Diff)>>) {
    let mut builder = OperatorBuilder::new("Contribute".to_owned(), stream.scope());
    let mut input = builder.new_input(stream, Pipeline);
    builder.set_notify_for(0, timely::progress::operate::FrontierInterest::Never);
    let (ok, ok_stream) = builder.new_output();
    let (err, err_stream) = builder.new_output();
    let mut ok: Output<(Row, ()), Accum> = OutputBuilder::from(ok);
    let mut err: Output<EvalError, Diff> = OutputBuilder::from(err);
    builder.build(move |_| {
        let mut totals: HashMap<(Row, Time), Accum> = HashMap::new();
        move |_frontiers| {
            let mut ok_caps = CapabilitySet::new();
            let mut err_caps = CapabilitySet::new();
            let mut errors = Vec::new();
            input.for_each_stamp(|cap, data| {
                for c in cap.retain_stamp(0).iter() {
                    ok_caps.insert(c.clone());
                }
                for c in cap.retain_stamp(1).iter() {
                    err_caps.insert(c.clone());
                }
                for (row, time, diff) in data.flat_map(|d| d.drain(..)) {
                    match contributor.contribution(&row) {
                        Ok((key, accum)) => {
                            let accum = accum.multiply(&diff);
                            match totals.entry((key, time)) {
                                std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().plus_equals(&accum),
                                std::collections::hash_map::Entry::Vacant(e) => {
                                    e.insert(accum);
                                }
                            }
                        }
                        Err(e) => errors.push((e, time, diff)),
                    }
                }
            });
            if !totals.is_empty() && !ok_caps.is_empty() {
                let mut ok = ok.activate();
                let mut session = ok.session(&ok_caps);
                for ((key, time), accum) in totals.drain() {
                    if !accum.is_zero() {
                        session.give(((key, ()), time, accum));
                    }
                }
            }
            totals.clear();
            if !errors.is_empty() && !err_caps.is_empty() {
                let mut err = err.activate();
                let mut session = err.session(&err_caps);
                for e in errors {
                    session.give(e);
                }
            }
        }
    });
    (ok_stream, err_stream)
}
