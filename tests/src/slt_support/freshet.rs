//! The freshet side of the sqllogictest harness: every file runs against a
//! fresh in-memory [`freshet::Database`].
//!
//! A database with a local dataflow worker stays on the thread that created
//! it, while the sqllogictest runner needs a `Send` connection; so the
//! database lives on a thread of its own and [`FreshetDb`] sends it one
//! statement at a time. A panic inside the engine becomes the error of the
//! statement that caused it, and every later statement of the file fails
//! with a note pointing back to it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

use freshet::{Database, Output};
use sqllogictest::{DBOutput, DefaultColumnType, DB};

use super::runner::{format_value, tag_count, SltError};

/// The label `skipif`/`onlyif` records use for freshet.
pub const LABEL: &str = "freshet";

impl From<freshet::Error> for SltError {
    fn from(e: freshet::Error) -> SltError {
        match &e {
            freshet::Error::Constraint(c) => {
                SltError { message: c.to_string(), detail: c.detail.clone(), sqlstate: None }
            }
            e => SltError::msg(e.to_string()),
        }
    }
}

type Reply = Result<DBOutput<DefaultColumnType>, SltError>;

struct Request {
    sql: String,
    reply: mpsc::Sender<Reply>,
}

/// A fresh in-memory freshet database for one file.
pub struct FreshetDb {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl FreshetDb {
    /// Opens an empty in-memory database on a thread of its own.
    pub fn open() -> Result<FreshetDb, SltError> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let (opened_tx, opened) = mpsc::channel::<Result<(), SltError>>();
        let thread = thread::Builder::new()
            .name("slt-freshet-db".into())
            .spawn(move || serve(incoming, opened_tx))
            .map_err(|e| SltError::msg(format!("cannot start the database thread: {e}")))?;
        match opened.recv() {
            Ok(Ok(())) => Ok(FreshetDb { requests: Some(requests), thread: Some(thread) }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SltError::msg("opening the database panicked")),
        }
    }
}

/// The database thread: opens the database, then runs statements until
/// the connection is dropped.
fn serve(incoming: mpsc::Receiver<Request>, opened: mpsc::Sender<Result<(), SltError>>) {
    let mut db = match catch_unwind(Database::open_in_memory) {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            let _ = opened.send(Err(e.into()));
            return;
        }
        Err(p) => {
            let _ = opened.send(Err(SltError::msg(format!("opening the database panicked: {}", panic_text(&*p)))));
            return;
        }
    };
    let _ = opened.send(Ok(()));
    let mut poisoned: Option<String> = None;
    for req in incoming {
        let reply = match &poisoned {
            Some(first) => Err(SltError::msg(format!("not run: the engine panicked earlier in this file ({first})"))),
            None => match catch_unwind(AssertUnwindSafe(|| run(&mut db, &req.sql))) {
                Ok(r) => r,
                Err(p) => {
                    let text = format!("engine panic: {}", panic_text(&*p));
                    poisoned = Some(text.clone());
                    Err(SltError::msg(text))
                }
            },
        };
        let _ = req.reply.send(reply);
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Runs one statement and converts its output for the runner.
fn run(db: &mut Database, sql: &str) -> Reply {
    let outputs = db.execute(sql)?;
    Ok(match outputs.into_iter().last() {
        Some(Output::Rows(r)) => DBOutput::Rows {
            types: vec![DefaultColumnType::Any; r.columns.len()],
            rows: r
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|v| if v.is_null() { format_value(None) } else { format_value(Some(&v.to_string())) })
                        .collect()
                })
                .collect(),
        },
        Some(Output::Command(tag)) => DBOutput::StatementComplete(tag_count(&tag)),
        None => DBOutput::StatementComplete(0),
    })
}

impl DB for FreshetDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Reply {
        let (reply, answer) = mpsc::channel();
        let requests = self.requests.as_ref().expect("the connection is open until drop");
        requests
            .send(Request { sql: sql.to_string(), reply })
            .map_err(|_| SltError::msg("the database thread has stopped"))?;
        answer.recv().map_err(|_| SltError::msg("the database thread has stopped"))?
    }

    fn engine_name(&self) -> &str {
        LABEL
    }
}

impl Drop for FreshetDb {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
