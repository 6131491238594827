//! The adapter's error type.

use freshet_engine::{EngineError, EvalError};
use freshet_sql::SqlError;
use thiserror::Error;

/// Errors of the PostgreSQL adapter.
#[derive(Debug, Error)]
pub enum PgError {
    /// The database refused a statement or the connection failed.
    #[error("{}", describe_pg(.0))]
    Postgres(#[from] postgres::Error),
    /// The view's query is not valid or not supported SQL.
    #[error("{0}")]
    Sql(#[from] SqlError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A value could not be converted (e.g. a view's query divides by zero).
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A column type freshet cannot maintain.
    #[error("{0}")]
    Unsupported(String),
    /// A value read from a table that freshet cannot represent, such as a
    /// multidimensional array.
    #[error("column \"{column}\" of table {table}: {reason}")]
    UnsupportedValue {
        /// The table, quoted and qualified.
        table: String,
        /// The column.
        column: String,
        /// What is not supported.
        reason: String,
    },
    /// The command was used wrongly (unknown view, name taken, …).
    #[error("{0}")]
    Usage(String),
    /// `freshet init` has not been run in this database.
    #[error("the freshet schema is not installed in this database (run `freshet init`)")]
    NotInitialized,
    /// `sync` gave up waiting.
    #[error("{0}")]
    Timeout(String),
    /// A view has failed.
    #[error("view \"{view}\" has failed: {reason}")]
    ViewFailed {
        /// The view.
        view: String,
        /// Why it failed.
        reason: String,
    },
    /// Data read from the database did not have the expected shape.
    #[error("unexpected data from the database: {0}")]
    Protocol(String),
    /// Reading or writing a COPY stream failed.
    #[error("COPY stream: {0}")]
    Io(#[from] std::io::Error),
}

/// A database error as psql prints it: the message, then detail and hint.
fn describe_pg(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                s.push_str(&format!("\nDETAIL:  {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("\nHINT:  {h}"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// The adapter's result type.
pub type Result<T, E = PgError> = std::result::Result<T, E>;
