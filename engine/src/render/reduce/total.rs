//! The operator that keeps each group's accumulated total and emits the
//! group's output rows as the total changes.
//!
//! Its input is the arrangement of the per-row contributions by group key
//! (the diffs are [`Accum`]s). For every group key in a new batch it sums
//! the key's earlier updates from the arrangement (one consolidated
//! accumulator per key once the arrangement has merged), then walks the
//! batch's updates in time order: at each time it retracts the row
//! finished from the old total and adds the row finished from the new one.
//! Finishing happens here, so no `(key, total)` pairs are materialised
//! between operators; evaluation errors of finishing (e.g. an overflowing
//! sum) leave on a second output with the same multiplicities.
//!
//! Work per changed group: reading its consolidated total, one addition
//! per update, two finishes. Memory: none beyond the input arrangement,
//! whose compaction this operator advances as it goes (it needs no
//! history).

use differential_dataflow::difference::{IsZero, Semigroup};
use differential_dataflow::operators::arrange::{Arranged, TraceAgent};
use differential_dataflow::trace::cursor::cursor_list;
use differential_dataflow::trace::implementations::KeySpine;
use differential_dataflow::trace::{Cursor, TraceReader};
use differential_dataflow::AsCollection;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::OutputBuilder;
use timely::dataflow::operators::CapabilitySet;
use timely::progress::Antichain;

use super::accum::Accum;
use crate::expr::EvalError;
use crate::plan::Diff;
use crate::render::{Coll, Time};
use crate::value::Row;

/// An operator output of `(data, time, diff)` updates.
type UpdateOutput<D> = OutputBuilder<Time, CapacityContainerBuilder<Vec<(D, Time, Diff)>>>;

/// The arrangement of contributions by group key.
pub(crate) type AccumSpine = KeySpine<Row, Time, Accum>;

/// Emits `finish(key, total)` for every group total as it changes: the
/// old total's row retracted, the new one's added, at each time the total
/// changes. `finish` returns `None` for a total that has no row (an empty
/// group).
pub(crate) fn finish_totals<'s, D, F>(
    arranged: Arranged<'s, TraceAgent<AccumSpine>>,
    mut finish: F,
) -> (Coll<'s, D>, Coll<'s, EvalError>)
where
    D: differential_dataflow::Data,
    F: FnMut(&Row, &Accum) -> Option<Result<D, EvalError>> + 'static,
{
    let mut trace = arranged.trace.clone();
    let mut builder = OperatorBuilder::new("AccumulateFinish".to_owned(), arranged.stream.scope());
    let mut input = builder.new_input(arranged.stream, Pipeline);
    let (ok, ok_stream) = builder.new_output();
    let (err, err_stream) = builder.new_output();
    let mut ok: UpdateOutput<D> = OutputBuilder::from(ok);
    let mut err: UpdateOutput<EvalError> = OutputBuilder::from(err);

    builder.build(move |_initial| {
        // Updates before `lower` are in the trace; the new batches cover
        // `lower .. upper`.
        let mut lower = Antichain::from_elem(0);
        let mut upper = Antichain::from_elem(0);
        // Scheduled on input and on frontier changes, so the trace's
        // compaction follows the arrangement even when no batch arrives.
        move |_frontiers| {
            let mut batches = Vec::new();
            let mut ok_caps = CapabilitySet::new();
            let mut err_caps = CapabilitySet::new();
            lower.clone_from(&upper);
            input.for_each(|cap, spans| {
                for c in cap.retain_stamp(0).iter() {
                    ok_caps.insert(c.clone());
                }
                for c in cap.retain_stamp(1).iter() {
                    err_caps.insert(c.clone());
                }
                for span in spans.drain(..) {
                    upper.clone_from(span.upper());
                    batches.extend(span.inner);
                }
            });

            if !batches.is_empty() && !ok_caps.is_empty() {
                let mut ok = ok.activate();
                let mut err = err.activate();
                let mut ok = ok.session(&ok_caps);
                let mut err = err.session(&err_caps);
                let mut emit = |key: &Row, total: &Accum, time: Time, diff: Diff| {
                    if total.is_zero() {
                        return;
                    }
                    match finish(key, total) {
                        Some(Ok(row)) => ok.give((row, time, diff)),
                        Some(Err(e)) => err.give((e, time, diff)),
                        None => {}
                    }
                };

                let (mut new_cursor, new_storage) = cursor_list(batches);
                let old = trace.batches_through(lower.borrow()).expect("the trace is readable through its frontier");
                let (mut old_cursor, old_storage) = cursor_list(old);
                while let Some(key) = new_cursor.get_key(&new_storage) {
                    let mut total = Accum::default();
                    old_cursor.seek_key(&old_storage, key);
                    if old_cursor.get_key(&old_storage) == Some(key) {
                        old_cursor.map_times(&old_storage, |_, diff| total.plus_equals(diff));
                    }
                    new_cursor.map_times(&new_storage, |time, diff| {
                        emit(key, &total, *time, -1);
                        total.plus_equals(diff);
                        emit(key, &total, *time, 1);
                    });
                    new_cursor.step_key(&new_storage);
                }
            }

            trace.advance_upper(&mut upper);
            trace.set_logical_compaction(upper.borrow());
            trace.set_physical_compaction(upper.borrow());
        }
    });
    (ok_stream.as_collection(), err_stream.as_collection())
}
