//! The front end's error type.
//!
//! User errors (the SQL is wrong, refers to unknown objects, or uses a
//! construct freshet does not support) are kept apart from internal errors
//! (a bug in the front end). `Display` prints the message as PostgreSQL
//! words it; the position (1-based line and column) and the hint are
//! separate fields.

use std::fmt;

use thiserror::Error;

/// A 1-based position in the SQL text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: u64,
    /// Column (in characters), from 1.
    pub column: u64,
}

impl Position {
    /// A position from sqlparser's location; `None` for its "no location"
    /// marker (line 0).
    pub fn from_location(loc: sqlparser::tokenizer::Location) -> Option<Position> {
        (loc.line > 0).then_some(Position { line: loc.line, column: loc.column })
    }

    /// The start of a sqlparser span, if it has one.
    pub fn from_span(span: sqlparser::tokenizer::Span) -> Option<Position> {
        Position::from_location(span.start)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What kind of user error an [`SqlError::User`] is (PostgreSQL's SQLSTATE
/// classes, for callers that react to the kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text does not parse (`42601`).
    Syntax,
    /// Valid SQL that freshet does not support (`0A000`).
    Unsupported,
    /// An unknown table or view (`42P01`).
    UndefinedTable,
    /// An unknown column (`42703`).
    UndefinedColumn,
    /// No operator or function for these argument types (`42883`).
    UndefinedFunction,
    /// An ambiguous name (`42702`).
    Ambiguous,
    /// The object already exists (`42P07`).
    DuplicateObject,
    /// Grouping rules broken (`42803`).
    Grouping,
    /// Type mismatch (`42804`).
    DatatypeMismatch,
    /// Any other semantic error (`42000` class).
    Other,
}

impl ErrorKind {
    /// The PostgreSQL SQLSTATE code of this kind.
    pub fn sqlstate(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "42601",
            ErrorKind::Unsupported => "0A000",
            ErrorKind::UndefinedTable => "42P01",
            ErrorKind::UndefinedColumn => "42703",
            ErrorKind::UndefinedFunction => "42883",
            ErrorKind::Ambiguous => "42702",
            ErrorKind::DuplicateObject => "42P07",
            ErrorKind::Grouping => "42803",
            ErrorKind::DatatypeMismatch => "42804",
            ErrorKind::Other => "42000",
        }
    }
}

/// An error of the SQL front end.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SqlError {
    /// The statement is at fault.
    #[error("{message}")]
    User {
        /// Its kind.
        kind: ErrorKind,
        /// The message, worded as PostgreSQL words it.
        message: String,
        /// Where in the text, if known.
        position: Option<Position>,
        /// A hint, as PostgreSQL's `HINT:` line.
        hint: Option<String>,
    },
    /// A bug in the front end: the statement was valid but planning failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl SqlError {
    /// A user error of `kind` at `position`.
    pub fn new(kind: ErrorKind, message: impl Into<String>, position: Option<Position>) -> SqlError {
        SqlError::User { kind, message: message.into(), position, hint: None }
    }

    /// `not supported: <construct>`.
    pub fn unsupported(construct: impl fmt::Display, position: Option<Position>) -> SqlError {
        SqlError::new(ErrorKind::Unsupported, format!("not supported: {construct}"), position)
    }

    /// An internal error.
    pub fn internal(message: impl Into<String>) -> SqlError {
        SqlError::Internal(message.into())
    }

    /// The same error with a hint.
    pub fn with_hint(self, text: impl Into<String>) -> SqlError {
        match self {
            SqlError::User { kind, message, position, .. } => {
                SqlError::User { kind, message, position, hint: Some(text.into()) }
            }
            e => e,
        }
    }

    /// The same error, positioned at `position` if it has no position yet.
    pub fn or_at(self, position: Option<Position>) -> SqlError {
        match self {
            SqlError::User { kind, message, position: None, hint } => {
                SqlError::User { kind, message, position, hint }
            }
            e => e,
        }
    }

    /// The kind of a user error; `None` for internal errors.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            SqlError::User { kind, .. } => Some(*kind),
            SqlError::Internal(_) => None,
        }
    }

    /// The position, if known.
    pub fn position(&self) -> Option<Position> {
        match self {
            SqlError::User { position, .. } => *position,
            SqlError::Internal(_) => None,
        }
    }

    /// The hint, if any.
    pub fn hint(&self) -> Option<&str> {
        match self {
            SqlError::User { hint, .. } => hint.as_deref(),
            SqlError::Internal(_) => None,
        }
    }

    /// True for errors caused by the statement (not by a front-end bug).
    pub fn is_user_error(&self) -> bool {
        matches!(self, SqlError::User { .. })
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = SqlError> = std::result::Result<T, E>;
