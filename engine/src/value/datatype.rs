//! [`DataType`]: SQL column and expression types, with PostgreSQL names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A SQL type. Type modifiers (`numeric(p,s)`, `varchar(n)`, `char(n)`) are
/// part of the type, as in PostgreSQL's catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DataType {
    /// `boolean`
    Bool,
    /// `smallint`
    Int2,
    /// `integer`
    Int4,
    /// `bigint`
    Int8,
    /// `numeric` or `numeric(precision, scale)`
    Numeric(Option<(u16, i16)>),
    /// `double precision`
    Float8,
    /// `text`
    Text,
    /// `character varying` or `character varying(n)`
    Varchar(Option<u32>),
    /// `character(n)` (`char` alone is `char(1)`)
    Char(u32),
    /// `bpchar`: blank-padded character without a length, the type
    /// PostgreSQL gives e.g. `max(char_col)` or `coalesce(char_col, varchar_col)`.
    Bpchar,
    /// `date`
    Date,
    /// `timestamp without time zone`
    Timestamp,
    /// `timestamp with time zone`
    TimestampTz,
    /// `interval`
    Interval,
    /// `uuid`
    Uuid,
    /// `bytea`
    Bytea,
    /// The type of an untyped `NULL` literal before resolution (PostgreSQL's
    /// "unknown"); resolves to `text` where nothing else decides.
    Unknown,
}

impl DataType {
    /// The type without its modifier (`numeric(12,2)` → `numeric`), as
    /// expression results carry it.
    pub fn without_modifier(self) -> DataType {
        match self {
            DataType::Numeric(_) => DataType::Numeric(None),
            DataType::Varchar(_) => DataType::Varchar(None),
            t => t,
        }
    }

    /// True for the integer types.
    pub fn is_integer(self) -> bool {
        matches!(self, DataType::Int2 | DataType::Int4 | DataType::Int8)
    }

    /// True for integer, numeric and float types.
    pub fn is_numeric_family(self) -> bool {
        self.is_integer() || matches!(self, DataType::Numeric(_) | DataType::Float8)
    }

    /// True for text, varchar and char.
    pub fn is_string(self) -> bool {
        matches!(self, DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Bpchar)
    }
}

/// PostgreSQL's `format_type` spelling, e.g. `numeric(12,2)`,
/// `character varying(20)`, `timestamp with time zone`.
impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Bool => write!(f, "boolean"),
            DataType::Int2 => write!(f, "smallint"),
            DataType::Int4 => write!(f, "integer"),
            DataType::Int8 => write!(f, "bigint"),
            DataType::Numeric(None) => write!(f, "numeric"),
            DataType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            DataType::Float8 => write!(f, "double precision"),
            DataType::Text => write!(f, "text"),
            DataType::Varchar(None) => write!(f, "character varying"),
            DataType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            DataType::Char(n) => write!(f, "character({n})"),
            DataType::Bpchar => write!(f, "bpchar"),
            DataType::Date => write!(f, "date"),
            DataType::Timestamp => write!(f, "timestamp without time zone"),
            DataType::TimestampTz => write!(f, "timestamp with time zone"),
            DataType::Interval => write!(f, "interval"),
            DataType::Uuid => write!(f, "uuid"),
            DataType::Bytea => write!(f, "bytea"),
            DataType::Unknown => write!(f, "unknown"),
        }
    }
}
