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
    /// An error whose PostgreSQL report has a DETAIL line, e.g. `numeric
    /// field overflow` with `A field with precision 5, scale 2 must round to
    /// an absolute value less than 10^3.` The message is PostgreSQL's
    /// primary message; [`EvalError::detail`] gives the detail.
    #[error("{message}")]
    Detailed {
        /// The primary message.
        message: String,
        /// The DETAIL text.
        detail: String,
    },
}

impl EvalError {
    /// PostgreSQL's DETAIL text for this error, if it has one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            EvalError::Detailed { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// `invalid input syntax for type <ty>: "<input>"`.
    pub fn invalid_input(ty: impl Into<String>, input: &str) -> EvalError {
        EvalError::InvalidInput { ty: ty.into(), input: input.to_string() }
    }
}
