//! The engine's error type.

use thiserror::Error;

use crate::expr::EvalError;
use crate::plan::ObjectId;
use crate::storage::StorageError;

/// Errors of the engine. `Eval` and `Storage` wrap their modules' errors;
/// the rest are misuse of the runtime API (unknown ids and the like).
#[derive(Debug, Error)]
pub enum EngineError {
    /// Expression evaluation failed (e.g. a view's query divided by zero).
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// The storage backend failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// No table or view with this id.
    #[error("unknown object {0:?}")]
    UnknownObject(ObjectId),
    /// An id is already in use.
    #[error("object {0:?} already exists")]
    DuplicateObject(ObjectId),
    /// The object is still read by a view.
    #[error("object {0:?} is read by view {1:?}")]
    InUse(ObjectId, ObjectId),
    /// A plan the runtime cannot render (a bug in the front end).
    #[error("invalid plan: {0}")]
    InvalidPlan(String),
    /// A worker thread failed.
    #[error("worker failure: {0}")]
    Worker(String),
}
