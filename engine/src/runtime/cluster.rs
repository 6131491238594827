//! Several timely workers on their own threads, driven over channels.
//!
//! Every command is sent to every worker (each builds every dataflow in
//! the same order, as timely requires) and each worker answers once; the
//! runtime merges the answers. Idle workers park and are unparked when a
//! command is sent.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::Thread;

use timely::communication::WorkerGuards;

use super::command::{Command, Response};
use super::worker::WorkerState;
use crate::error::EngineError;

/// Worker threads and the channels to them.
pub(crate) struct Cluster {
    commands: Vec<Sender<Command>>,
    threads: Vec<Thread>,
    responses: Receiver<(usize, Response)>,
    guards: Option<WorkerGuards<()>>,
}

impl Cluster {
    /// Starts `workers` worker threads.
    pub(crate) fn new(workers: usize) -> Result<Cluster, EngineError> {
        let (response_tx, responses) = channel::<(usize, Response)>();
        let mut commands = Vec::with_capacity(workers);
        let mut inboxes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = channel::<Command>();
            commands.push(tx);
            inboxes.push(Some(rx));
        }
        let inboxes = Arc::new(Mutex::new(inboxes));
        let (thread_tx, thread_rx) = channel::<(usize, Thread)>();
        let response_tx = Mutex::new(response_tx);
        let thread_tx = Mutex::new(thread_tx);
        let guards = timely::execute(timely::Config::process(workers), move |worker| {
            let index = worker.index();
            let inbox = inboxes.lock().expect("inboxes").get_mut(index).and_then(Option::take);
            let Some(inbox) = inbox else { return };
            let responses = response_tx.lock().expect("responses").clone();
            let _ = thread_tx.lock().expect("threads").send((index, std::thread::current()));
            let mut state = WorkerState::default();
            loop {
                match inbox.try_recv() {
                    Ok(command) => {
                        let response = catch_unwind(AssertUnwindSafe(|| state.handle(worker, command)))
                            .unwrap_or_else(|p| Response::Failed(panic_message(&p)));
                        if responses.send((index, response)).is_err() {
                            break;
                        }
                    }
                    Err(TryRecvError::Empty) => {
                        worker.step_or_park(None);
                    }
                    Err(TryRecvError::Disconnected) => break,
                }
            }
        })
        .map_err(EngineError::Worker)?;
        let mut threads: Vec<Option<Thread>> = vec![None; workers];
        for _ in 0..workers {
            let (i, t) = thread_rx.recv().map_err(|_| EngineError::Worker("a worker did not start".into()))?;
            threads[i] = Some(t);
        }
        let threads = threads.into_iter().map(|t| t.expect("every worker reported")).collect();
        Ok(Cluster { commands, threads, responses, guards: Some(guards) })
    }

    /// Sends `command` to every worker and returns their answers, in worker
    /// order.
    pub(crate) fn run(&mut self, command: Command) -> Result<Vec<Response>, EngineError> {
        for (tx, thread) in self.commands.iter().zip(&self.threads) {
            tx.send(command.clone()).map_err(|_| EngineError::Worker("worker stopped".into()))?;
            thread.unpark();
        }
        let mut answers: Vec<Option<Response>> = (0..self.commands.len()).map(|_| None).collect();
        for _ in 0..self.commands.len() {
            let (i, r) = self.responses.recv().map_err(|_| EngineError::Worker("worker stopped".into()))?;
            answers[i] = Some(r);
        }
        Ok(answers.into_iter().map(|a| a.expect("one answer per worker")).collect())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.commands.clear();
        for t in &self.threads {
            t.unpark();
        }
        if let Some(guards) = self.guards.take() {
            drop(guards.join());
        }
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("worker panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("worker panicked: {s}")
    } else {
        "worker panicked".into()
    }
}
