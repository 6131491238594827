//! The runtime: hosts timely workers and the dataflows of tables and views.
//!
//! Tables are inputs whose rows are arranged once; every view is a dataflow
//! that imports the arrangements it reads (tables, or other views) and
//! keeps its own result arranged, so it can be read at any time and read
//! by later views. A transaction ([`Runtime::apply`]) is one logical time:
//! it returns once every view reflects it, and every arrangement is then
//! allowed to forget history before that time (bounded memory).
//!
//! With one worker the runtime owns the timely worker and steps it directly
//! from its methods (no thread hop). With several, workers run on their own
//! threads; every command is broadcast to all of them and their answers are
//! merged, with the same results as one worker. A `Runtime` is therefore
//! not `Send`: it stays on the thread that created it.

mod cluster;
mod command;
mod subscription;
#[cfg(test)]
mod tests;
mod validate;
mod worker;

use std::collections::HashMap;
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use differential_dataflow::consolidation::consolidate;
use timely::communication::allocator::thread::Thread;
use timely::communication::allocator::Allocator;
use timely::worker::Worker;

pub use subscription::{Subscription, ViewUpdate};

use self::cluster::Cluster;
use self::command::{Command, Response};
use self::worker::WorkerState;
use crate::error::EngineError;
use crate::expr::EvalError;
use crate::plan::{Diff, ObjectId, Plan};
use crate::value::Row;

/// How the runtime runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Timely worker threads (at least 1). One worker runs on the caller's
    /// thread.
    pub workers: usize,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig { workers: 1 }
    }
}

/// Where the workers run.
enum Engine {
    /// One worker, stepped from the runtime's methods.
    Local(Box<Worker>, WorkerState),
    /// Worker threads.
    Cluster(Cluster),
}

impl Engine {
    fn run(&mut self, command: Command) -> Result<Vec<Response>, EngineError> {
        let responses = match self {
            Engine::Local(worker, state) => vec![state.handle(worker, command)],
            Engine::Cluster(c) => c.run(command)?,
        };
        if let Some(Response::Failed(e)) = responses.iter().find(|r| matches!(r, Response::Failed(_))) {
            return Err(EngineError::Worker(e.clone()));
        }
        Ok(responses)
    }
}

/// A view as the runtime tracks it.
struct ViewMeta {
    arity: usize,
    sources: Vec<ObjectId>,
    subscribers: Vec<Sender<ViewUpdate>>,
}

/// Tables and incrementally maintained views over them.
pub struct Runtime {
    engine: Engine,
    time: u64,
    tables: HashMap<ObjectId, usize>,
    views: HashMap<ObjectId, ViewMeta>,
}

impl Runtime {
    /// Starts a runtime with no objects at time 0.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, EngineError> {
        let engine = match config.workers {
            0 => return Err(EngineError::Worker("at least one worker is needed".into())),
            1 => {
                let worker = Worker::new(timely::WorkerConfig::default(), Allocator::Thread(Thread::default()), None);
                Engine::Local(Box::new(worker), WorkerState::default())
            }
            n => Engine::Cluster(Cluster::new(n)?),
        };
        Ok(Runtime { engine, time: 0, tables: HashMap::new(), views: HashMap::new() })
    }

    /// The last applied logical time (0 before the first [`apply`](Self::apply)).
    pub fn time(&self) -> u64 {
        self.time
    }

    fn check_new(&self, id: ObjectId) -> Result<(), EngineError> {
        if self.tables.contains_key(&id) || self.views.contains_key(&id) {
            Err(EngineError::DuplicateObject(id))
        } else {
            Ok(())
        }
    }

    /// The first view reading `id`, if any.
    fn reader_of(&self, id: ObjectId) -> Option<ObjectId> {
        let mut readers: Vec<ObjectId> =
            self.views.iter().filter(|(_, v)| v.sources.contains(&id)).map(|(v, _)| *v).collect();
        readers.sort();
        readers.first().copied()
    }

    /// Creates an empty table of `arity` columns.
    pub fn create_table(&mut self, id: ObjectId, arity: usize) -> Result<(), EngineError> {
        self.check_new(id)?;
        self.engine.run(Command::CreateTable(id))?;
        self.tables.insert(id, arity);
        Ok(())
    }

    /// Drops a table; [`EngineError::InUse`] while a view reads it.
    pub fn drop_table(&mut self, id: ObjectId) -> Result<(), EngineError> {
        if !self.tables.contains_key(&id) {
            return Err(EngineError::UnknownObject(id));
        }
        if let Some(v) = self.reader_of(id) {
            return Err(EngineError::InUse(id, v));
        }
        self.engine.run(Command::DropTable(id))?;
        self.tables.remove(&id);
        Ok(())
    }

    fn arities(&self) -> HashMap<ObjectId, usize> {
        self.tables.iter().map(|(id, a)| (*id, *a)).chain(self.views.iter().map(|(id, v)| (*id, v.arity))).collect()
    }

    /// Creates a view maintaining `plan` (already optimised). Its contents
    /// reflect every change applied so far.
    pub fn create_view(&mut self, id: ObjectId, plan: &Plan) -> Result<(), EngineError> {
        self.check_new(id)?;
        validate::validate(plan, &self.arities())?;
        self.engine.run(Command::CreateView(id, Arc::new(plan.clone())))?;
        self.views.insert(id, ViewMeta { arity: plan.arity(), sources: plan.sources(), subscribers: Vec::new() });
        Ok(())
    }

    /// Drops a view; [`EngineError::InUse`] while another view reads it.
    /// Its subscriptions end.
    pub fn drop_view(&mut self, id: ObjectId) -> Result<(), EngineError> {
        if !self.views.contains_key(&id) {
            return Err(EngineError::UnknownObject(id));
        }
        if let Some(v) = self.reader_of(id) {
            return Err(EngineError::InUse(id, v));
        }
        self.engine.run(Command::DropView(id))?;
        self.views.remove(&id);
        Ok(())
    }

    /// Applies one transaction as the next logical time and returns that
    /// time once every view reflects it. Subscribers receive each view's
    /// diffs at the new time.
    pub fn apply(&mut self, changes: Vec<(ObjectId, Row, Diff)>) -> Result<u64, EngineError> {
        for (id, row, _) in &changes {
            match self.tables.get(id) {
                None => return Err(EngineError::UnknownObject(*id)),
                Some(&a) if a != row.len() => {
                    return Err(EngineError::InvalidPlan(format!(
                        "a row of {} values for table {id:?} of {a} columns",
                        row.len()
                    )))
                }
                Some(_) => {}
            }
        }
        let responses = self.engine.run(Command::Apply(Arc::new(changes)))?;
        self.time += 1;
        let mut per_view: HashMap<ObjectId, Vec<(Row, Diff)>> = HashMap::new();
        for r in responses {
            if let Response::Applied(views) = r {
                for (id, diffs) in views {
                    per_view.entry(id).or_default().extend(diffs);
                }
            }
        }
        let mut stop = Vec::new();
        for (id, meta) in self.views.iter_mut() {
            if meta.subscribers.is_empty() {
                continue;
            }
            let mut diffs = per_view.remove(id).unwrap_or_default();
            consolidate(&mut diffs);
            let update = ViewUpdate { time: self.time, diffs };
            meta.subscribers.retain(|s| s.send(update.clone()).is_ok());
            if meta.subscribers.is_empty() {
                stop.push(*id);
            }
        }
        for id in stop {
            self.engine.run(Command::Capture(id, false))?;
        }
        Ok(self.time)
    }

    /// Merges the workers' parts of a contents answer.
    fn contents(responses: Vec<Response>) -> Result<Vec<(Row, Diff)>, EngineError> {
        let mut rows = Vec::new();
        let mut error: Option<EvalError> = None;
        for r in responses {
            if let Response::Contents(part, e) = r {
                rows.extend(part);
                if let Some(e) = e {
                    error = Some(match error {
                        Some(prev) if prev <= e => prev,
                        _ => e,
                    });
                }
            }
        }
        if let Some(e) = error {
            return Err(EngineError::Eval(e));
        }
        consolidate(&mut rows);
        rows.retain(|(_, d)| *d > 0);
        Ok(rows)
    }

    /// A view's (or table's) current contents, sorted by row, every
    /// multiplicity positive; [`EngineError::Eval`] with the least error if
    /// the view's query currently fails.
    pub fn read(&mut self, id: ObjectId) -> Result<Vec<(Row, Diff)>, EngineError> {
        if !self.tables.contains_key(&id) && !self.views.contains_key(&id) {
            return Err(EngineError::UnknownObject(id));
        }
        Runtime::contents(self.engine.run(Command::Read(id))?)
    }

    /// The least evaluation error a view's query currently has (`None` if
    /// it evaluates cleanly), read from the view's error arrangement only:
    /// its cost does not depend on the number of the view's rows. A
    /// maintained view whose query fails for some row (e.g. a division by
    /// zero after an insert) keeps its other rows; this tells the owner
    /// that its contents are no longer the query's result.
    pub fn view_error(&mut self, id: ObjectId) -> Result<Option<EvalError>, EngineError> {
        if !self.views.contains_key(&id) {
            return Err(EngineError::UnknownObject(id));
        }
        let responses = self.engine.run(Command::ReadError(id))?;
        let mut least: Option<EvalError> = None;
        for r in responses {
            if let Response::Contents(_, Some(e)) = r {
                least = Some(match least {
                    Some(prev) if prev <= e => prev,
                    _ => e,
                });
            }
        }
        Ok(least)
    }

    /// Evaluates `plan` once over the current tables and views plus the
    /// uncommitted `overlay` changes, in a temporary dataflow dropped
    /// afterwards.
    pub fn query(&mut self, plan: &Plan, overlay: &[(ObjectId, Row, Diff)]) -> Result<Vec<(Row, Diff)>, EngineError> {
        let arities = self.arities();
        validate::validate(plan, &arities)?;
        for (id, row, _) in overlay {
            match arities.get(id) {
                None => return Err(EngineError::UnknownObject(*id)),
                Some(&a) if a != row.len() => {
                    return Err(EngineError::InvalidPlan(format!("an overlay row of {} values for {id:?}", row.len())))
                }
                Some(_) => {}
            }
        }
        let command = Command::Query(Arc::new(plan.clone()), Arc::new(overlay.to_vec()));
        Runtime::contents(self.engine.run(command)?)
    }

    /// Subscribes to a view: the first update is its contents at
    /// [`time`](Self::time), then one update per applied transaction.
    pub fn subscribe(&mut self, id: ObjectId) -> Result<Subscription, EngineError> {
        if !self.views.contains_key(&id) {
            return Err(EngineError::UnknownObject(id));
        }
        let responses = self.engine.run(Command::Capture(id, true))?;
        let mut rows = Vec::new();
        for r in responses {
            if let Response::Contents(part, _) = r {
                rows.extend(part);
            }
        }
        consolidate(&mut rows);
        let (tx, rx) = channel();
        let _ = tx.send(ViewUpdate { time: self.time, diffs: rows });
        self.views.get_mut(&id).expect("checked").subscribers.push(tx);
        Ok(Subscription { rx })
    }
}
