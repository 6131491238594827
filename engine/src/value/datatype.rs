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
    /// A one-dimensional array of the element type (`integer[]`), e.g. the
    /// result of `array_agg`. The element type carries no modifier; build
    /// it with [`DataType::array_of`].
    Array(#[serde(deserialize_with = "deserialize_element")] &'static DataType),
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

    /// The type of arrays of `element` (its modifier dropped: `array_agg`
    /// over `varchar(3)` is `character varying[]`, over `char(3)`
    /// `character[]`); `None` for an array element type (multidimensional
    /// arrays are not supported).
    pub fn array_of(element: DataType) -> Option<DataType> {
        element_type(element).map(DataType::Array)
    }

    /// True for text, varchar and char.
    pub fn is_string(self) -> bool {
        matches!(self, DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Bpchar)
    }
}

/// The one static instance of each array element type, so that
/// [`DataType`] stays `Copy`.
fn element_type(t: DataType) -> Option<&'static DataType> {
    Some(match t {
        DataType::Bool => &DataType::Bool,
        DataType::Int2 => &DataType::Int2,
        DataType::Int4 => &DataType::Int4,
        DataType::Int8 => &DataType::Int8,
        DataType::Numeric(_) => &DataType::Numeric(None),
        DataType::Float8 => &DataType::Float8,
        DataType::Text => &DataType::Text,
        DataType::Varchar(_) => &DataType::Varchar(None),
        DataType::Char(_) | DataType::Bpchar => &DataType::Bpchar,
        DataType::Date => &DataType::Date,
        DataType::Timestamp => &DataType::Timestamp,
        DataType::TimestampTz => &DataType::TimestampTz,
        DataType::Interval => &DataType::Interval,
        DataType::Uuid => &DataType::Uuid,
        DataType::Bytea => &DataType::Bytea,
        DataType::Unknown => &DataType::Unknown,
        DataType::Array(_) => return None,
    })
}

/// Reads an array's element type back to its static instance.
fn deserialize_element<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static DataType, D::Error> {
    let t = DataType::deserialize(d)?;
    element_type(t).ok_or_else(|| serde::de::Error::custom(format!("arrays of {t} are not supported")))
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
            // `format_type` of `bpchar[]` is `character[]`.
            DataType::Array(DataType::Bpchar) => write!(f, "character[]"),
            DataType::Array(t) => write!(f, "{t}[]"),
        }
    }
}
