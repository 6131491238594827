//! PostgreSQL column types as freshet [`DataType`]s, and the COPY text
//! format both ways.
//!
//! Values cross the wire as PostgreSQL's text representation (every
//! connection sets `DateStyle`, `IntervalStyle`, `TimeZone`,
//! `extra_float_digits` and `bytea_output` so it is the one
//! [`Value::parse`] reads and `Display for Value` writes).

use std::io::{BufRead, Write};

use freshet_engine::{DataType, Row, Value};

use crate::error::{PgError, Result};

/// Session settings every adapter connection runs with.
pub const SESSION_SETTINGS: &str = "SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; \
    SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET bytea_output = 'hex'; \
    SET standard_conforming_strings = on; SET client_encoding = 'UTF8'";

/// Maps `format_type(atttypid, atttypmod)` to a freshet type; `None` for a
/// type freshet does not support.
pub fn from_format_type(ty: &str) -> Option<DataType> {
    let (base, args) = match ty.find('(') {
        Some(i) if ty.ends_with(')') => (&ty[..i], Some(&ty[i + 1..ty.len() - 1])),
        Some(i) => {
            // `timestamp(3) without time zone`
            let close = ty.find(')')?;
            let rest = format!("{}{}", &ty[..i], &ty[close + 1..]);
            return match rest.as_str() {
                "timestamp without time zone" => Some(DataType::Timestamp),
                "timestamp with time zone" => Some(DataType::TimestampTz),
                _ => None,
            };
        }
        None => (ty, None),
    };
    let nums = |a: &str| -> Option<Vec<u32>> { a.split(',').map(|p| p.trim().parse().ok()).collect() };
    Some(match (base, args) {
        ("boolean", None) => DataType::Bool,
        ("smallint", None) => DataType::Int2,
        ("integer", None) => DataType::Int4,
        ("bigint", None) => DataType::Int8,
        ("numeric", None) => DataType::Numeric(None),
        ("numeric", Some(a)) => match nums(a)?.as_slice() {
            [p, s] => DataType::Numeric(Some((u16::try_from(*p).ok()?, i16::try_from(*s).ok()?))),
            [p] => DataType::Numeric(Some((u16::try_from(*p).ok()?, 0))),
            _ => return None,
        },
        ("double precision", None) => DataType::Float8,
        ("text", None) => DataType::Text,
        ("character varying", None) => DataType::Varchar(None),
        ("character varying", Some(a)) => DataType::Varchar(Some(a.trim().parse().ok()?)),
        ("character", Some(a)) => DataType::Char(a.trim().parse().ok()?),
        ("bpchar", None) => DataType::Bpchar,
        ("date", None) => DataType::Date,
        ("timestamp without time zone", None) => DataType::Timestamp,
        ("timestamp with time zone", None) => DataType::TimestampTz,
        ("interval", None) => DataType::Interval,
        ("uuid", None) => DataType::Uuid,
        ("bytea", None) => DataType::Bytea,
        _ => return None,
    })
}

/// The PostgreSQL type of a view column of type `ty`.
pub fn sql_type(ty: DataType) -> String {
    match ty {
        DataType::Unknown => "text".into(),
        t => t.to_string(),
    }
}

/// Appends one value in COPY text format (`\N` for NULL, backslash,
/// tab, newline and carriage return escaped).
pub fn encode_value(out: &mut Vec<u8>, v: &Value) {
    if v.is_null() {
        out.extend_from_slice(b"\\N");
        return;
    }
    let text = v.to_string();
    for b in text.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(b),
        }
    }
}

/// Appends a row (and optional trailing integer columns) as one COPY text
/// line.
pub fn encode_row(out: &mut Vec<u8>, row: &Row, extra: &[i64]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        encode_value(out, v);
    }
    for (i, x) in extra.iter().enumerate() {
        if i > 0 || !row.is_empty() {
            out.push(b'\t');
        }
        out.extend_from_slice(x.to_string().as_bytes());
    }
    out.push(b'\n');
}

/// Decodes one COPY text field: `None` for `\N`.
fn decode_field(field: &[u8]) -> Result<Option<String>> {
    if field == b"\\N" {
        return Ok(None);
    }
    if !field.contains(&b'\\') {
        return String::from_utf8(field.to_vec()).map(Some).map_err(|e| PgError::Protocol(e.to_string()));
    }
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 == field.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let c = field[i + 1];
        i += 2;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (c - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + (field[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + (field[i] as char).to_digit(16).expect("hex digit");
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.push(b'x');
                } else {
                    out.push(v as u8);
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map(Some).map_err(|e| PgError::Protocol(e.to_string()))
}

/// Splits a COPY text line (without its newline) into decoded fields.
pub fn decode_line(line: &[u8]) -> Result<Vec<Option<String>>> {
    line.split(|&b| b == b'\t').map(decode_field).collect()
}

/// Reads a COPY text stream whose first `types.len()` columns are values
/// of `types` and whose remaining columns (`extra` of them) are integers.
pub fn read_rows(reader: impl BufRead, types: &[DataType], extra: usize) -> Result<Vec<(Row, Vec<i64>)>> {
    let mut out = Vec::new();
    for line in reader.split(b'\n') {
        let line = line?;
        let fields = decode_line(&line)?;
        if fields.len() != types.len() + extra {
            return Err(PgError::Protocol(format!(
                "a COPY line of {} fields where {} were expected",
                fields.len(),
                types.len() + extra
            )));
        }
        let mut values = Vec::with_capacity(types.len());
        for (f, ty) in fields[..types.len()].iter().zip(types) {
            values.push(match f {
                None => Value::Null,
                Some(text) => Value::parse(text, *ty)?,
            });
        }
        let mut ints = Vec::with_capacity(extra);
        for f in &fields[types.len()..] {
            let text = f.as_deref().unwrap_or("0");
            ints.push(text.parse().map_err(|_| PgError::Protocol(format!("not an integer: {text:?}")))?);
        }
        out.push((Row::new(values), ints));
    }
    Ok(out)
}

/// Writes all of `data` to a COPY FROM STDIN writer.
pub fn write_all(mut w: impl Write, data: &[u8]) -> Result<()> {
    w.write_all(data)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_format_type_names() {
        assert_eq!(from_format_type("numeric(12,2)"), Some(DataType::Numeric(Some((12, 2)))));
        assert_eq!(from_format_type("character varying(20)"), Some(DataType::Varchar(Some(20))));
        assert_eq!(from_format_type("character(3)"), Some(DataType::Char(3)));
        assert_eq!(from_format_type("timestamp(3) with time zone"), Some(DataType::TimestampTz));
        assert_eq!(from_format_type("integer"), Some(DataType::Int4));
        assert_eq!(from_format_type("json"), None);
        assert_eq!(from_format_type("real"), None);
        assert_eq!(from_format_type("integer[]"), None);
        for t in [DataType::Numeric(Some((10, 2))), DataType::Varchar(Some(5)), DataType::TimestampTz, DataType::Bytea] {
            assert_eq!(from_format_type(&sql_type(t)), Some(t));
        }
    }

    #[test]
    fn copy_text_round_trips() {
        let row = Row::new(vec![Value::text("a\tb\\c\nd"), Value::Null, Value::Int4(-3)]);
        let mut buf = Vec::new();
        encode_row(&mut buf, &row, &[7]);
        assert_eq!(buf, b"a\\tb\\\\c\\nd\t\\N\t-3\t7\n");
        let rows = read_rows(&buf[..], &[DataType::Text, DataType::Int4, DataType::Int4], 1).unwrap();
        assert_eq!(rows, vec![(row, vec![7])]);
        assert_eq!(decode_line(b"\\101\\x42\\r").unwrap(), vec![Some("AB\r".to_string())]);
    }
}
