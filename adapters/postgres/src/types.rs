//! PostgreSQL column types as freshet [`DataType`]s, and the COPY text
//! format both ways.
//!
//! Values cross the wire as PostgreSQL's text representation (every
//! connection sets `DateStyle`, `IntervalStyle`, `TimeZone`,
//! `extra_float_digits` and `bytea_output` so it is the one
//! [`Value::parse`] reads and `Display for Value` writes).

use std::io::{BufRead, Write};

use bytes::{BufMut, BytesMut};
use freshet_engine::catalog::Column;
use freshet_engine::{DataType, Row, Value};
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use crate::error::{PgError, Result};

/// Session settings every adapter connection runs with.
pub const SESSION_SETTINGS: &str = "SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; \
    SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET bytea_output = 'hex'; \
    SET standard_conforming_strings = on; SET client_encoding = 'UTF8'";

/// Maps `format_type(atttypid, atttypmod)` to a freshet type; `None` for a
/// type freshet does not support. An array type (`numeric(12,2)[]`) maps
/// to the array of its element type without the modifier
/// (`DataType::Array(&Numeric(None))`), as expression results carry it.
/// `format_type` does not tell the declared dimensions: a column declared
/// `integer[][]` reads `integer[]` too (see `pg_attribute.attndims`).
pub fn from_format_type(ty: &str) -> Option<DataType> {
    if let Some(element) = ty.strip_suffix("[]") {
        return DataType::array_of(from_format_type(element)?);
    }
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
        // `character[]` would declare `character(1)[]`.
        DataType::Array(DataType::Bpchar) => "bpchar[]".into(),
        DataType::Array(DataType::Unknown) => "text[]".into(),
        t => t.to_string(),
    }
}

/// Appends one value in COPY text format (`\\N` for NULL, backslash,
/// tab, newline and carriage return escaped). The value is formatted
/// straight into `out`, and escaped in place only if it needs it.
pub fn encode_value(out: &mut Vec<u8>, v: &Value) {
    if v.is_null() {
        out.extend_from_slice(b"\\N");
        return;
    }
    let start = out.len();
    write_text(out, v);
    if out[start..].iter().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
        let raw = out.split_off(start);
        for b in raw {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b => out.push(b),
            }
        }
    }
}

/// Appends a non-NULL value's text representation (PostgreSQL's output
/// format) to `out`.
fn write_text(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Text(t) => out.extend_from_slice(t.as_bytes()),
        v => {
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{v}");
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
        let _ = write!(out, "{x}");
    }
    out.push(b'\n');
}

/// Decodes the escapes of one COPY text field into `out` (cleared first).
fn unescape(field: &[u8], out: &mut Vec<u8>) {
    out.clear();
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
}

/// Decodes one COPY text field: `None` for `\\N`.
fn decode_field(field: &[u8]) -> Result<Option<String>> {
    if field == b"\\N" {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(field.len());
    unescape(field, &mut out);
    String::from_utf8(out).map(Some).map_err(|e| PgError::Protocol(e.to_string()))
}

/// Splits a COPY text line (without its newline) into decoded fields.
pub fn decode_line(line: &[u8]) -> Result<Vec<Option<String>>> {
    line.split(|&b| b == b'\t').map(decode_field).collect()
}

/// Reads a COPY text stream of `table` whose first `columns.len()` columns
/// are values of `columns` and whose remaining columns (`extra` of them)
/// are integers. Fields are parsed where they lie in the line buffer
/// (reused across lines); only a field with escapes is copied first. A
/// value freshet cannot represent (a multidimensional array, an array
/// whose lower bound is not 1) fails with [`PgError::UnsupportedValue`]
/// naming the column, after the rest of the stream is read (so the
/// connection stays usable).
pub fn read_rows(
    mut reader: impl BufRead,
    table: &str,
    columns: &[Column],
    extra: usize,
) -> Result<Vec<(Row, Vec<i64>)>> {
    let mut out = Vec::new();
    let mut line = Vec::with_capacity(256);
    let mut scratch = Vec::new();
    let width = columns.len() + extra;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let mut values = Vec::with_capacity(columns.len());
        let mut ints = Vec::with_capacity(extra);
        let mut fields = 0;
        for field in line.split(|&b| b == b'\t') {
            fields += 1;
            if fields > width {
                continue;
            }
            let text: Option<&str> = if field == b"\\N" {
                None
            } else if field.contains(&b'\\') {
                unescape(field, &mut scratch);
                Some(std::str::from_utf8(&scratch).map_err(|e| PgError::Protocol(e.to_string()))?)
            } else {
                Some(std::str::from_utf8(field).map_err(|e| PgError::Protocol(e.to_string()))?)
            };
            if fields <= columns.len() {
                let column = &columns[fields - 1];
                values.push(match text {
                    None => Value::Null,
                    Some(t) => match Value::parse(t, column.ty) {
                        Ok(v) => v,
                        Err(e) => {
                            let reason = unsupported_value(t, column.ty).unwrap_or_else(|| e.to_string());
                            // Read the stream to its end before failing.
                            std::io::copy(&mut reader, &mut std::io::sink())?;
                            return Err(PgError::UnsupportedValue {
                                table: table.to_string(),
                                column: column.name.clone(),
                                reason,
                            });
                        }
                    },
                });
            } else {
                let t = text.unwrap_or("0");
                ints.push(t.parse().map_err(|_| PgError::Protocol(format!("not an integer: {t:?}")))?);
            }
        }
        if fields != width {
            return Err(PgError::Protocol(format!("a COPY line of {fields} fields where {width} were expected")));
        }
        out.push((Row::new(values), ints));
    }
    Ok(out)
}

/// Why PostgreSQL's text of a value of type `ty` has no freshet value:
/// the array shapes freshet does not represent (`{{1,2},{3,4}}`,
/// `[0:1]={1,2}`); `None` for anything else.
fn unsupported_value(text: &str, ty: DataType) -> Option<String> {
    if !matches!(ty, DataType::Array(_)) {
        return None;
    }
    let t = text.trim_start();
    let shown: String =
        if t.chars().count() > 40 { format!("{}…", t.chars().take(40).collect::<String>()) } else { t.into() };
    // `[1:2][1:3]={…}` declares two dimensions; `{{…}}` nests.
    let bounds = t.split('=').next().unwrap_or("");
    let nested = t.strip_prefix('{').is_some_and(|r| r.trim_start().starts_with('{'));
    if (t.starts_with('[') && bounds.contains("][")) || nested {
        Some(format!("multidimensional arrays are not supported (value {shown})"))
    } else if t.starts_with('[') {
        Some(format!("arrays whose lower bound is not 1 are not supported (value {shown})"))
    } else {
        None
    }
}

/// Values of one column sent as a `text[]` parameter (each in
/// PostgreSQL's text representation, NULL as a NULL element), written
/// straight into the wire format; the statement casts it to the column's
/// type.
#[derive(Debug)]
pub struct TextArray<'a>(pub Vec<&'a Value>);

impl ToSql for TextArray<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let has_null = self.0.iter().any(|v| v.is_null());
        out.put_i32(1);
        out.put_i32(i32::from(has_null));
        out.put_u32(Type::TEXT.oid());
        out.put_i32(i32::try_from(self.0.len())?);
        out.put_i32(1);
        let mut text = Vec::new();
        for v in &self.0 {
            if v.is_null() {
                out.put_i32(-1);
                continue;
            }
            text.clear();
            write_text(&mut text, v);
            out.put_i32(i32::try_from(text.len())?);
            out.put_slice(&text);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TEXT_ARRAY
    }

    to_sql_checked!();
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
        assert_eq!(from_format_type("json[]"), None);
        for t in [DataType::Numeric(Some((10, 2))), DataType::Varchar(Some(5)), DataType::TimestampTz, DataType::Bytea] {
            assert_eq!(from_format_type(&sql_type(t)), Some(t));
        }
    }

    #[test]
    fn maps_array_types_both_ways() {
        let array = |t| DataType::array_of(t).unwrap();
        for (name, element) in [
            ("integer[]", DataType::Int4),
            ("bigint[]", DataType::Int8),
            ("smallint[]", DataType::Int2),
            ("text[]", DataType::Text),
            ("numeric[]", DataType::Numeric(None)),
            ("numeric(12,2)[]", DataType::Numeric(None)),
            ("date[]", DataType::Date),
            ("boolean[]", DataType::Bool),
            ("double precision[]", DataType::Float8),
            ("character varying(20)[]", DataType::Varchar(None)),
            ("character(3)[]", DataType::Bpchar),
            ("bpchar[]", DataType::Bpchar),
            ("timestamp(3) without time zone[]", DataType::Timestamp),
            ("timestamp with time zone[]", DataType::TimestampTz),
            ("interval[]", DataType::Interval),
            ("uuid[]", DataType::Uuid),
            ("bytea[]", DataType::Bytea),
        ] {
            let t = array(element);
            assert_eq!(from_format_type(name), Some(t), "{name}");
            assert_eq!(from_format_type(&sql_type(t)), Some(t), "{name} back from {}", sql_type(t));
        }
        // Not `character[]`, which declares `character(1)[]`.
        assert_eq!(sql_type(array(DataType::Bpchar)), "bpchar[]");
        assert_eq!(sql_type(array(DataType::Numeric(None))), "numeric[]");
        assert_eq!(sql_type(array(DataType::Unknown)), "text[]");
    }

    fn column(name: &str, ty: DataType) -> Column {
        Column { name: name.into(), ty, nullable: true }
    }

    #[test]
    fn arrays_round_trip_through_copy_text() {
        let ints = DataType::array_of(DataType::Int4).unwrap();
        let texts = DataType::array_of(DataType::Text).unwrap();
        let row = Row::new(vec![
            Value::Array(vec![Value::Int4(1), Value::Null, Value::Int4(-2)].into()),
            Value::Array(vec![Value::text("a\\b"), Value::text("NULL"), Value::Null, Value::text("x\ty"), Value::text("")].into()),
            Value::Array(Vec::new().into()),
        ]);
        let mut buf = Vec::new();
        encode_row(&mut buf, &row, &[]);
        assert_eq!(buf, b"{1,NULL,-2}\t{\"a\\\\\\\\b\",\"NULL\",NULL,\"x\\ty\",\"\"}\t{}\n".to_vec());
        let cols = [column("a", ints), column("b", texts), column("c", ints)];
        assert_eq!(read_rows(&buf[..], "t", &cols, 0).unwrap(), vec![(row, vec![])]);
    }

    #[test]
    fn unrepresentable_arrays_are_refused_naming_the_column() {
        let ints = DataType::array_of(DataType::Int4).unwrap();
        let cols = [column("id", DataType::Int4), column("m", ints)];
        for (line, why) in [
            (&b"1\t{{1,2},{3,4}}\n2\t{5}\n"[..], "multidimensional arrays are not supported (value {{1,2},{3,4}})"),
            (b"1\t[1:2][1:1]={{1},{2}}\n", "multidimensional arrays are not supported (value [1:2][1:1]={{1},{2}})"),
            (b"1\t[0:1]={1,2}\n", "arrays whose lower bound is not 1 are not supported (value [0:1]={1,2})"),
        ] {
            let err = read_rows(line, "\"public\".\"t\"", &cols, 0).unwrap_err();
            assert_eq!(err.to_string(), format!("column \"m\" of table \"public\".\"t\": {why}"));
        }
        let err = read_rows(&b"1\t{x}\n"[..], "t", &cols, 0).unwrap_err();
        assert_eq!(err.to_string(), "column \"m\" of table t: invalid input syntax for type integer: \"x\"");
    }

    #[test]
    fn copy_text_round_trips() {
        let row = Row::new(vec![Value::text("a\tb\\c\nd"), Value::Null, Value::Int4(-3)]);
        let mut buf = Vec::new();
        encode_row(&mut buf, &row, &[7]);
        assert_eq!(buf, b"a\\tb\\\\c\\nd\t\\N\t-3\t7\n");
        let cols = [column("a", DataType::Text), column("b", DataType::Int4), column("c", DataType::Int4)];
        let rows = read_rows(&buf[..], "t", &cols, 1).unwrap();
        assert_eq!(rows, vec![(row, vec![7])]);
        assert_eq!(decode_line(b"\\101\\x42\\r").unwrap(), vec![Some("AB\r".to_string())]);
    }
}
