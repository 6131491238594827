//! Errors raised while evaluating an expression.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A runtime error of expression evaluation, with PostgreSQL's message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Error)]
pub enum EvalError {
    /// `division by zero`.
    #[error("division by zero")]
    DivisionByZero,
    /// `integer out of range`, `bigint out of range`, `smallint out of range`.
    #[error("{0} out of range")]
    OutOfRange(String),
    /// `numeric field overflow` and similar, with PostgreSQL's detail.
    #[error("{0}")]
    Overflow(String),
    /// `invalid input syntax for type integer: "abc"` and kin.
    #[error("invalid input syntax for type {ty}: \"{input}\"")]
    InvalidInput {
        /// The target type's name.
        ty: String,
        /// The rejected input.
        input: String,
    },
    /// `value too long for type character varying(3)`.
    #[error("value too long for type {0}")]
    ValueTooLong(String),
    /// Any other evaluation error, with PostgreSQL's message.
    #[error("{0}")]
    Other(String),
}
