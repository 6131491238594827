//! freshet's engine: SQL values, relational plans, their incremental
//! rendering onto differential dataflow, and the storage trait.
//!
//! Nothing here knows SQL text: plans arrive from a front end
//! (`freshet-sql`) as [`plan::Plan`] values.
#![deny(missing_docs)]

pub mod catalog;
pub mod error;
pub mod expr;
pub mod plan;
mod render;
pub mod runtime;
pub mod storage;
pub mod value;

pub use error::EngineError;
pub use expr::{EvalError, Expr};
pub use plan::{Diff, ObjectId, Plan};
pub use value::{DataType, Row, Value};
