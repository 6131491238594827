//! The state one timely worker keeps, and how it executes [`Command`]s.
//!
//! Every worker holds the same objects and builds the same dataflows in the
//! same order (timely requires it); each holds its shard of every
//! arrangement. One code path serves one worker driven directly by the
//! runtime and several workers on their own threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use differential_dataflow::consolidation::consolidate;
use differential_dataflow::input::{Input, InputSession};
use differential_dataflow::operators::arrange::agent::ShutdownButton;
use differential_dataflow::operators::arrange::{Arranged, TraceAgent};
use differential_dataflow::trace::implementations::KeySpine;
use differential_dataflow::trace::wrappers::frontier::TraceFrontier;
use differential_dataflow::trace::cursor::cursor_list;
use differential_dataflow::trace::{Cursor, TraceReader};
use differential_dataflow::AsCollection;
use timely::dataflow::operators::vec::ToStream;
use timely::dataflow::operators::{CapabilitySet, Probe};
use timely::dataflow::{ProbeHandle, Scope};
use timely::progress::Antichain;
use timely::worker::Worker;

use super::command::{Command, Response};
use crate::error::EngineError;
use crate::expr::EvalError;
use crate::plan::{Diff, ObjectId, Plan};
use crate::render::{
    self, column_key, direct_sources, render, shared_arrangements, Context, ErrTrace, Errs, KeyedTrace, RowTrace, Source, Time,
};
use crate::value::Row;

type Button = ShutdownButton<CapabilitySet<Time>>;

/// Every arrangement is compacted at least once per this many applied
/// transactions...
const COMPACT_EVERY: Time = 8;
/// ...and after every transaction of at least this many changes.
const COMPACT_AFTER_CHANGES: usize = 1024;
type Captured = Rc<RefCell<Option<Vec<(Row, Time, Diff)>>>>;

/// A table: its input and its arrangement.
struct TableState {
    input: InputSession<Time, Row, Diff>,
    trace: RowTrace,
    probe: ProbeHandle<Time>,
    dataflow: usize,
}

/// A view: its arranged rows and errors, and its dataflow.
struct ViewState {
    trace: RowTrace,
    err: ErrTrace,
    probe: ProbeHandle<Time>,
    dataflow: usize,
    buttons: Vec<Button>,
    shared: Vec<(ObjectId, Vec<usize>)>,
    captured: Captured,
    /// False when the view's query cannot fail on any row: its error
    /// arrangement stays empty and readers skip it.
    can_fail: bool,
}

/// A source arranged by key columns, shared by every view joining on them.
struct SharedState {
    trace: KeyedTrace,
    probe: ProbeHandle<Time>,
    dataflow: usize,
    buttons: Vec<Button>,
    users: usize,
}

/// Everything one worker holds.
#[derive(Default)]
pub(crate) struct WorkerState {
    time: Time,
    tables: HashMap<ObjectId, TableState>,
    views: HashMap<ObjectId, ViewState>,
    shared: HashMap<(ObjectId, Vec<usize>), SharedState>,
}

impl WorkerState {
    /// Executes one command.
    pub(crate) fn handle(&mut self, worker: &mut Worker, command: Command) -> Response {
        let result = match command {
            Command::CreateTable(id) => {
                self.create_table(worker, id);
                Ok(Response::Done)
            }
            Command::DropTable(id) => {
                if let Some(t) = self.tables.remove(&id) {
                    drop(t.input);
                    worker.drop_dataflow(t.dataflow);
                }
                Ok(Response::Done)
            }
            Command::CreateView(id, plan) => self.create_view(worker, id, &plan).map(|()| Response::Done),
            Command::DropView(id) => {
                self.drop_view(worker, id);
                Ok(Response::Done)
            }
            Command::Apply(changes) => Ok(self.apply(worker, &changes)),
            Command::Read(id) => self.read(id),
            Command::ReadError(id) => match self.views.get_mut(&id) {
                Some(v) => Ok(Response::Contents(Vec::new(), first_key(&mut v.err))),
                None => Err(EngineError::UnknownObject(id)),
            },
            Command::Query(plan, overlay) => self.query(worker, &plan, &overlay),
            Command::Capture(id, on) => match self.views.get(&id) {
                Some(v) => {
                    *v.captured.borrow_mut() = if on { Some(Vec::new()) } else { None };
                    if on {
                        self.read(id)
                    } else {
                        Ok(Response::Done)
                    }
                }
                None => Err(EngineError::UnknownObject(id)),
            },
        };
        result.unwrap_or_else(|e| Response::Failed(e.to_string()))
    }

    fn create_table(&mut self, worker: &mut Worker, id: ObjectId) {
        let dataflow = worker.next_dataflow_index();
        let probe = ProbeHandle::new();
        let (mut input, mut trace) = worker.dataflow_named(&format!("table {}", id.0), |scope: Scope<'_, Time>| {
            let (input, rows) = scope.new_collection::<Row, Diff>();
            let arranged = rows.arrange_by_self();
            arranged.stream.clone().probe_with(&probe);
            (input, arranged.trace)
        });
        input.advance_to(self.time + 1);
        input.flush();
        compact(&mut trace, self.time);
        self.tables.insert(id, TableState { input, trace, probe, dataflow });
    }

    /// Builds, if missing, the shared arrangement of `source` by `columns`.
    fn ensure_shared(&mut self, worker: &mut Worker, key: &(ObjectId, Vec<usize>)) -> Result<(), EngineError> {
        if let Some(s) = self.shared.get_mut(key) {
            s.users += 1;
            return Ok(());
        }
        let (source, columns) = key.clone();
        let mut source_trace = self.row_trace(source)?;
        let dataflow = worker.next_dataflow_index();
        let probe = ProbeHandle::new();
        let (mut trace, button) = worker.dataflow_named(&format!("index {} {:?}", source.0, columns), |scope| {
            let (rows, button) = source_trace.import_frontier(scope, "source");
            let arranged = rows
                .flat_map_ref(move |row: &Row, _: &()| column_key(&columns, row).map(|k| (k, row.clone())))
                .arrange_by_key();
            arranged.stream.clone().probe_with(&probe);
            (arranged.trace, button)
        });
        let next = self.time + 1;
        worker.step_while(|| probe.less_than(&next));
        compact(&mut trace, self.time);
        self.shared.insert(key.clone(), SharedState { trace, probe, dataflow, buttons: vec![button], users: 1 });
        Ok(())
    }

    fn release_shared(&mut self, worker: &mut Worker, key: &(ObjectId, Vec<usize>)) {
        let Some(s) = self.shared.get_mut(key) else { return };
        s.users -= 1;
        if s.users == 0 {
            let s = self.shared.remove(key).expect("present");
            for mut b in s.buttons {
                b.press();
            }
            worker.drop_dataflow(s.dataflow);
        }
    }

    fn row_trace(&mut self, id: ObjectId) -> Result<RowTrace, EngineError> {
        if let Some(t) = self.tables.get(&id) {
            Ok(t.trace.clone())
        } else if let Some(v) = self.views.get(&id) {
            Ok(v.trace.clone())
        } else {
            Err(EngineError::UnknownObject(id))
        }
    }

    /// Imports every source of `plan` into `scope`; `until` bounds the
    /// imports (for one-shot queries), `overlay` adds uncommitted changes.
    fn import_sources<'s>(
        &mut self,
        scope: Scope<'s, Time>,
        plan: &Plan,
        until: Option<Time>,
        overlay: &[(ObjectId, Row, Diff)],
        buttons: &mut Vec<Button>,
    ) -> Result<HashMap<ObjectId, Source<'s>>, EngineError> {
        let mut sources = HashMap::new();
        let first = scope.index() == 0;
        // One-shot queries use no shared arrangement: they read every
        // source directly. Views skip importing what they read only
        // through shared arrangements.
        let direct = direct_sources(plan, until.is_none());
        for id in plan.sources() {
            let mut trace = self.row_trace(id)?;
            let rows = if direct.contains(&id) {
                let (rows, button) = import(&mut trace, scope, until);
                buttons.push(button);
                Some(rows)
            } else {
                None
            };
            let err = match self.views.get_mut(&id) {
                Some(v) if v.can_fail => {
                    let (err, button) = import(&mut v.err, scope, until);
                    buttons.push(button);
                    Errs::from(err.as_collection(|e: &EvalError, _: &()| e.clone()))
                }
                _ => Errs::none(),
            };
            let extra: Vec<(Row, Time, Diff)> = overlay
                .iter()
                .filter(|(o, _, _)| first && *o == id)
                .map(|(_, r, d)| (r.clone(), self.time, *d))
                .collect();
            // every worker builds the same operators, even with nothing to add
            let extra = until.map(|_| extra.to_stream(scope).as_collection());
            sources.insert(id, Source { rows, extra, err });
        }
        Ok(sources)
    }

    fn create_view(&mut self, worker: &mut Worker, id: ObjectId, plan: &Plan) -> Result<(), EngineError> {
        let shared_keys = shared_arrangements(plan);
        for key in &shared_keys {
            self.ensure_shared(worker, key)?;
        }
        let dataflow = worker.next_dataflow_index();
        let probe = ProbeHandle::new();
        let captured: Captured = Rc::default();
        let capture = Rc::clone(&captured);
        let built = worker.dataflow_named(&format!("view {}", id.0), |scope: Scope<'_, Time>| {
            let mut buttons = Vec::new();
            let sources = self.import_sources(scope, plan, None, &[], &mut buttons)?;
            let mut shared = HashMap::new();
            for key in &shared_keys {
                let s = self.shared.get_mut(key).expect("ensured above");
                let (arranged, button) = s.trace.import_frontier(scope, "shared");
                buttons.push(button);
                shared.insert(key.clone(), arranged);
            }
            let ctx = Context { scope, sources, shared, worker_index: scope.index() };
            let rendered = render(&ctx, plan)?;
            let can_fail = !rendered.err.is_none();
            // The diffs a subscription sees: consolidated when collected.
            let ok = rendered.ok.inspect_batch(move |_, data| {
                if let Some(buffer) = capture.borrow_mut().as_mut() {
                    buffer.extend_from_slice(data);
                }
            });
            let rows = ok.arrange_by_self();
            rows.stream.clone().probe_with(&probe);
            // Without possible errors the error arrangement is built over
            // an empty input: complete at once, never scheduled again.
            let errs = rendered.err.into_coll(scope).arrange_by_self();
            if can_fail {
                errs.stream.clone().probe_with(&probe);
            }
            Ok::<_, EngineError>((rows.trace, errs.trace, buttons, can_fail))
        });
        let (mut trace, mut err, buttons, can_fail) = match built {
            Ok(b) => b,
            Err(e) => {
                worker.drop_dataflow(dataflow);
                for key in &shared_keys {
                    self.release_shared(worker, key);
                }
                return Err(e);
            }
        };
        let next = self.time + 1;
        worker.step_while(|| probe.less_than(&next));
        compact(&mut trace, self.time);
        compact(&mut err, self.time);
        self.views
            .insert(id, ViewState { trace, err, probe, dataflow, buttons, shared: shared_keys, captured, can_fail });
        Ok(())
    }

    fn drop_view(&mut self, worker: &mut Worker, id: ObjectId) {
        let Some(v) = self.views.remove(&id) else { return };
        for mut b in v.buttons {
            b.press();
        }
        drop(v.trace);
        drop(v.err);
        worker.drop_dataflow(v.dataflow);
        for key in &v.shared {
            self.release_shared(worker, key);
        }
    }

    fn apply(&mut self, worker: &mut Worker, changes: &[(ObjectId, Row, Diff)]) -> Response {
        let (index, peers) = (worker.index(), worker.peers());
        self.time += 1;
        for (i, (id, row, diff)) in changes.iter().enumerate() {
            if i % peers == index {
                if let Some(t) = self.tables.get_mut(id) {
                    t.input.update(row.clone(), *diff);
                }
            }
        }
        let next = self.time + 1;
        for t in self.tables.values_mut() {
            t.input.advance_to(next);
            t.input.flush();
        }
        let probes: Vec<ProbeHandle<Time>> = self
            .tables
            .values()
            .map(|t| t.probe.clone())
            .chain(self.shared.values().map(|s| s.probe.clone()))
            .chain(self.views.values().map(|v| v.probe.clone()))
            .collect();
        worker.step_while(|| probes.iter().any(|p| p.less_than(&next)));
        let time = self.time;
        // Compaction lets arrangements merge away history; after a small
        // transaction it is deferred (the history of a few small
        // transactions is cheap to keep, compacting after each is not).
        let compact_now = time.is_multiple_of(COMPACT_EVERY) || changes.len() >= COMPACT_AFTER_CHANGES;
        if compact_now {
            for t in self.tables.values_mut() {
                compact(&mut t.trace, time);
            }
            for s in self.shared.values_mut() {
                compact(&mut s.trace, time);
            }
        }
        let mut captured = Vec::new();
        for (id, v) in self.views.iter_mut() {
            if compact_now {
                compact(&mut v.trace, time);
                compact(&mut v.err, time);
            }
            if let Some(buffer) = v.captured.borrow_mut().as_mut() {
                let mut diffs: Vec<(Row, Diff)> = buffer.drain(..).map(|(r, _, d)| (r, d)).collect();
                consolidate(&mut diffs);
                captured.push((*id, diffs));
            }
        }
        Response::Applied(captured)
    }

    fn read(&mut self, id: ObjectId) -> Result<Response, EngineError> {
        if let Some(v) = self.views.get_mut(&id) {
            let error = read_trace(&mut v.err).into_iter().map(|(e, _)| e).next();
            Ok(Response::Contents(read_trace(&mut v.trace), error))
        } else if let Some(t) = self.tables.get_mut(&id) {
            Ok(Response::Contents(read_trace(&mut t.trace), None))
        } else {
            Err(EngineError::UnknownObject(id))
        }
    }

    fn query(&mut self, worker: &mut Worker, plan: &Plan, overlay: &[(ObjectId, Row, Diff)]) -> Result<Response, EngineError> {
        let dataflow = worker.next_dataflow_index();
        let probe = ProbeHandle::new();
        let rows: Rc<RefCell<Vec<(Row, Diff)>>> = Rc::default();
        let errors: Rc<RefCell<Vec<(EvalError, Diff)>>> = Rc::default();
        let (rows_in, errors_in) = (Rc::clone(&rows), Rc::clone(&errors));
        let until = self.time + 1;
        let built = worker.dataflow_named("query", |scope: Scope<'_, Time>| {
            let mut buttons = Vec::new();
            let sources = self.import_sources(scope, plan, Some(until), overlay, &mut buttons)?;
            let ctx = Context { scope, sources, shared: HashMap::new(), worker_index: scope.index() };
            let rendered = render::render(&ctx, plan)?;
            rendered
                .ok
                .consolidate()
                .inspect_batch(move |_, data| rows_in.borrow_mut().extend(data.iter().map(|(r, _, d)| (r.clone(), *d))))
                .probe_with(&probe);
            rendered
                .err
                .into_coll(scope)
                .consolidate()
                .inspect_batch(move |_, data| errors_in.borrow_mut().extend(data.iter().map(|(e, _, d)| (e.clone(), *d))))
                .probe_with(&probe);
            Ok::<_, EngineError>(buttons)
        });
        let result = match built {
            Ok(buttons) => {
                worker.step_while(|| probe.less_than(&until));
                for mut b in buttons {
                    b.press();
                }
                let mut rows = rows.take();
                consolidate(&mut rows);
                let mut errors = errors.take();
                consolidate(&mut errors);
                Ok(Response::Contents(rows, errors.into_iter().map(|(e, _)| e).next()))
            }
            Err(e) => Err(e),
        };
        worker.drop_dataflow(dataflow);
        result
    }
}

/// A keyed trace of `K` (rows or errors).
type KeyTrace<K> = TraceAgent<KeySpine<K, Time, Diff>>;
/// Such a trace imported into a dataflow.
type Imported<'s, K> = Arranged<'s, TraceFrontier<KeyTrace<K>>>;

/// Imports a trace at its compaction frontier, optionally bounded.
fn import<'s, K>(trace: &mut KeyTrace<K>, scope: Scope<'s, Time>, until: Option<Time>) -> (Imported<'s, K>, Button)
where
    K: differential_dataflow::ExchangeData,
{
    match until {
        None => trace.import_frontier(scope, "import"),
        Some(u) => {
            let since = trace.get_logical_compaction().to_owned();
            trace.import_frontier_core(scope, "import", since, Antichain::from_elem(u))
        }
    }
}

/// Allows a trace to forget history before `time` and merge its batches.
fn compact<Tr: TraceReader<Time = Time>>(trace: &mut Tr, time: Time) {
    let frontier = Antichain::from_elem(time);
    trace.set_logical_compaction(frontier.borrow());
    trace.set_physical_compaction(frontier.borrow());
}

/// The least key of a keyed trace with non-zero accumulated multiplicity,
/// visiting keys in order and stopping at the first one present.
fn first_key<K: differential_dataflow::ExchangeData>(trace: &mut KeyTrace<K>) -> Option<K> {
    let mut first = None;
    walk_trace(trace, |key, _| {
        first = Some(key.clone());
        false
    });
    first
}

/// The current contents of a keyed trace: keys with non-zero accumulated
/// multiplicity, in key order.
fn read_trace<K: differential_dataflow::ExchangeData>(trace: &mut KeyTrace<K>) -> Vec<(K, Diff)> {
    let mut out = Vec::new();
    walk_trace(trace, |key, total| {
        out.push((key.clone(), total));
        true
    });
    out
}

/// Calls `f` with each key of a keyed trace whose accumulated multiplicity
/// is non-zero, in key order, while `f` returns true.
fn walk_trace<K: differential_dataflow::ExchangeData>(trace: &mut KeyTrace<K>, mut f: impl FnMut(&K, Diff) -> bool) {
    let mut upper = Antichain::new();
    trace.read_upper(&mut upper);
    let batches = trace.batches_through(upper.borrow()).unwrap_or_default();
    let (mut cursor, storage) = cursor_list(batches);
    while let Some(key) = cursor.get_key(&storage) {
        let mut total: Diff = 0;
        while cursor.get_val(&storage).is_some() {
            cursor.map_times(&storage, |_, d| total += *d);
            cursor.step_val(&storage);
        }
        if total != 0 && !f(key, total) {
            return;
        }
        cursor.step_key(&storage);
    }
}
