//! The facade's error type.

use std::fmt;

use freshet_engine::storage::StorageError;
use freshet_engine::{EngineError, EvalError};
use freshet_sql::SqlError;
use thiserror::Error;

/// An error from executing SQL or using the database API.
///
/// `Sql` and `Constraint`/`Eval` are the user's to fix; `Engine` and
/// `Storage` report internal or environmental failures.
#[derive(Debug, Error)]
pub enum Error {
    /// Invalid or unsupported SQL (with position and hint).
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// Evaluating an expression failed (division by zero, overflow, ...).
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A constraint was violated; nothing of the statement was applied.
    #[error("{0}")]
    Constraint(Constraint),
    /// Misuse of the API or of SQL state (e.g. COMMIT outside a transaction
    /// block when that is an error, unknown view name).
    #[error("{0}")]
    Usage(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(EngineError),
    /// The storage backend failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Error {
        match e {
            EngineError::Eval(e) => Error::Eval(e),
            EngineError::Storage(e) => Error::Storage(e),
            e => Error::Engine(e),
        }
    }
}

/// A constraint violation, with PostgreSQL's message and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The message, e.g. `duplicate key value violates unique constraint "t_pkey"`.
    pub message: String,
    /// The detail line, e.g. `Key (id)=(1) already exists.`.
    pub detail: Option<String>,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    /// The error as psql prints it: `ERROR:  message`, then `DETAIL:` and
    /// `HINT:` lines where there are any, and the position in `sql`.
    pub fn report(&self, sql: &str) -> String {
        match self {
            Error::Sql(e) => sql_report(e, sql),
            Error::Constraint(c) => match &c.detail {
                Some(d) => format!("ERROR:  {}\nDETAIL:  {}", c.message, d),
                None => format!("ERROR:  {}", c.message),
            },
            Error::Eval(e) => match e.detail() {
                Some(d) => format!("ERROR:  {e}\nDETAIL:  {d}"),
                None => format!("ERROR:  {e}"),
            },
            e => format!("ERROR:  {e}"),
        }
    }
}

/// psql's layout of a positioned error: the message, the statement line
/// with a caret under the position, then the hint.
fn sql_report(e: &SqlError, sql: &str) -> String {
    let mut out = format!("ERROR:  {e}");
    if let SqlError::User { position: Some(p), hint, .. } = e {
        if let Some(line) = sql.lines().nth(p.line.saturating_sub(1) as usize) {
            let prefix = format!("LINE {}: ", p.line);
            let caret = prefix.chars().count() + line.chars().take(p.column.saturating_sub(1) as usize).count();
            out.push_str(&format!("\n{prefix}{line}\n{}^", " ".repeat(caret)));
        }
        if let Some(h) = hint {
            out.push_str(&format!("\nHINT:  {h}"));
        }
    } else if let SqlError::User { hint: Some(h), .. } = e {
        out.push_str(&format!("\nHINT:  {h}"));
    }
    out
}
