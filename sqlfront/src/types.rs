//! Types: SQL type names to [`DataType`], PostgreSQL's implicit casts,
//! type categories and common-type resolution (CASE, COALESCE, IN, ...).

use freshet_engine::value::DataType;
use sqlparser::ast::{self, CharacterLength, ExactNumberInfo, TimezoneInfo};

use crate::error::{ErrorKind, Position, Result, SqlError};

/// PostgreSQL's type categories (`pg_type.typcategory`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Category {
    Bool,
    Numeric,
    String,
    DateTime,
    Timespan,
    User,
    Array,
    Unknown,
}

/// The category of a type.
pub(crate) fn category(t: DataType) -> Category {
    use DataType::*;
    match t {
        Bool => Category::Bool,
        Int2 | Int4 | Int8 | Numeric(_) | Float8 => Category::Numeric,
        Text | Varchar(_) | Char(_) | Bpchar => Category::String,
        Date | Timestamp | TimestampTz => Category::DateTime,
        Interval => Category::Timespan,
        Uuid | Bytea => Category::User,
        Array(_) => Category::Array,
        Unknown => Category::Unknown,
    }
}

/// True for the preferred type of its category (float8, text, timestamptz,
/// interval, boolean).
fn is_preferred(t: DataType) -> bool {
    matches!(t, DataType::Float8 | DataType::Text | DataType::TimestampTz | DataType::Interval | DataType::Bool)
}

/// True for `char(n)` and unbounded `bpchar`.
pub(crate) fn is_bpchar(t: DataType) -> bool {
    matches!(t, DataType::Char(_) | DataType::Bpchar)
}

/// Rank of a numeric type on PostgreSQL's implicit-cast ladder.
pub(crate) fn numeric_rank(t: DataType) -> Option<u8> {
    match t {
        DataType::Int2 => Some(0),
        DataType::Int4 => Some(1),
        DataType::Int8 => Some(2),
        DataType::Numeric(_) => Some(3),
        DataType::Float8 => Some(4),
        _ => None,
    }
}

/// Two types equal up to their modifiers.
pub(crate) fn same_base(a: DataType, b: DataType) -> bool {
    base(a) == base(b)
}

/// A type without its modifier (`char(n)` becomes `bpchar`).
pub(crate) fn base(t: DataType) -> DataType {
    match t {
        DataType::Char(_) => DataType::Bpchar,
        t => t.without_modifier(),
    }
}

/// Whether PostgreSQL casts `from` to `to` implicitly.
pub(crate) fn can_implicit(from: DataType, to: DataType) -> bool {
    if same_base(from, to) || from == DataType::Unknown {
        return true;
    }
    if let (Some(a), Some(b)) = (numeric_rank(from), numeric_rank(to)) {
        return a < b;
    }
    use DataType::*;
    matches!(
        (base(from), base(to)),
        (Text | Varchar(_) | Bpchar, Text | Varchar(_) | Bpchar) | (Date, Timestamp | TimestampTz) | (Timestamp, TimestampTz)
    )
}

/// The result of PostgreSQL's `select_common_type` + `select_common_typmod`
/// over non-empty `types` (`Unknown` entries are unresolved literals).
/// `context` names the construct for the error (`CASE`, `COALESCE`, ...).
/// Returns `Unknown` if every input is unknown (the caller decides, usually
/// text).
pub(crate) fn common_type(types: &[(DataType, Option<Position>)], context: &str) -> Result<DataType> {
    let mut known = types.iter().filter(|(t, _)| *t != DataType::Unknown);
    let Some(&(first, _)) = known.next() else {
        return Ok(DataType::Unknown);
    };
    let mut ptype = base(first);
    for &(t, pos) in known {
        let nt = base(t);
        if nt == ptype {
            continue;
        }
        if category(nt) != category(ptype) {
            return Err(SqlError::new(
                ErrorKind::DatatypeMismatch,
                format!("{context} types {} and {} cannot be matched", type_name(ptype), type_name(nt)),
                pos,
            ));
        }
        if !is_preferred(ptype) && can_implicit(ptype, nt) && !can_implicit(nt, ptype) {
            ptype = nt;
        }
    }
    // Keep the modifier when every input has the same type and modifier.
    let all_same = types.iter().all(|(t, _)| *t == first);
    if all_same && same_base(first, ptype) {
        return Ok(first);
    }
    Ok(ptype)
}

/// PostgreSQL's `format_type` name, used in messages (`integer`,
/// `character varying`, ...).
pub(crate) fn type_name(t: DataType) -> String {
    t.to_string()
}

/// A parsed SQL type: the type and the name PostgreSQL's parser gives it
/// (which is also the column name of a cast constant, e.g. `int4`).
pub(crate) struct SqlType {
    pub ty: DataType,
    pub name: &'static str,
}

fn char_len(len: &Option<CharacterLength>, pos: Option<Position>) -> Result<Option<u32>> {
    match len {
        None => Ok(None),
        Some(CharacterLength::IntegerLength { length, unit: None }) => {
            if *length == 0 {
                return Err(SqlError::new(ErrorKind::Other, "length for type varchar must be at least 1", pos));
            }
            u32::try_from(*length)
                .ok()
                .filter(|l| *l <= 10_485_760)
                .map(Some)
                .ok_or_else(|| SqlError::new(ErrorKind::Other, "length for type varchar cannot exceed 10485760", pos))
        }
        Some(other) => Err(SqlError::unsupported(format!("character length {other}"), pos)),
    }
}

fn numeric_info(info: &ExactNumberInfo, pos: Option<Position>) -> Result<Option<(u16, i16)>> {
    let (p, s) = match info {
        ExactNumberInfo::None => return Ok(None),
        ExactNumberInfo::Precision(p) => (*p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
    };
    if !(1..=1000).contains(&p) {
        return Err(SqlError::new(
            ErrorKind::Other,
            format!("NUMERIC precision {p} must be between 1 and 1000"),
            pos,
        ));
    }
    if !(-1000..=1000).contains(&s) {
        return Err(SqlError::new(ErrorKind::Other, format!("NUMERIC scale {s} must be between -1000 and 1000"), pos));
    }
    Ok(Some((p as u16, s as i16)))
}

/// Converts a SQL type name. Unsupported types are rejected naming them.
pub(crate) fn sql_type(dt: &ast::DataType, pos: Option<Position>) -> Result<SqlType> {
    use ast::DataType as A;
    let (ty, name) = match dt {
        A::Bool | A::Boolean => (DataType::Bool, "bool"),
        A::SmallInt(None) | A::Int2(None) => (DataType::Int2, "int2"),
        A::Int(None) | A::Integer(None) | A::Int4(None) => (DataType::Int4, "int4"),
        A::BigInt(None) | A::Int8(None) => (DataType::Int8, "int8"),
        A::Numeric(i) | A::Decimal(i) | A::Dec(i) => (DataType::Numeric(numeric_info(i, pos)?), "numeric"),
        A::DoublePrecision | A::Float8 => (DataType::Float8, "float8"),
        A::Float(ExactNumberInfo::None) => (DataType::Float8, "float8"),
        A::Float(ExactNumberInfo::Precision(p)) if (25..=53).contains(p) => (DataType::Float8, "float8"),
        A::Text => (DataType::Text, "text"),
        A::Varchar(l) | A::CharacterVarying(l) | A::CharVarying(l) => (DataType::Varchar(char_len(l, pos)?), "varchar"),
        A::Char(l) | A::Character(l) => (DataType::Char(char_len(l, pos)?.unwrap_or(1)), "bpchar"),
        A::Date => (DataType::Date, "date"),
        A::Timestamp(None, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => (DataType::Timestamp, "timestamp"),
        A::Timestamp(None, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => (DataType::TimestampTz, "timestamptz"),
        A::Interval { fields: None, precision: None } => (DataType::Interval, "interval"),
        A::Uuid => (DataType::Uuid, "uuid"),
        A::Bytea => (DataType::Bytea, "bytea"),
        A::Custom(name, mods) if mods.is_empty() && name.0.len() == 1 => {
            let n = name.to_string().to_ascii_lowercase();
            match n.as_str() {
                "bpchar" => (DataType::Bpchar, "bpchar"),
                "timestamptz" => (DataType::TimestampTz, "timestamptz"),
                "int2" => (DataType::Int2, "int2"),
                "float8" => (DataType::Float8, "float8"),
                "bool" => (DataType::Bool, "bool"),
                _ => return Err(unsupported_type(dt, pos)),
            }
        }
        _ => return Err(unsupported_type(dt, pos)),
    };
    Ok(SqlType { ty, name })
}

fn unsupported_type(dt: &ast::DataType, pos: Option<Position>) -> SqlError {
    SqlError::unsupported(format!("type {}", dt.to_string().to_lowercase()), pos)
}
