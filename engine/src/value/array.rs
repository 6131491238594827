//! One-dimensional arrays ([`Value::Array`]): PostgreSQL's text output
//! (`array_out`) and input (`array_in`), and its comparison (`array_cmp`).

use std::cmp::Ordering;
use std::fmt;

use super::{DataType, Value};
use crate::expr::EvalError;

/// PostgreSQL's `array_out`: `{1,2,NULL}`. An element is double-quoted
/// when it is empty, is `NULL` in any letter case, or contains a blank,
/// `{`, `}`, `,`, `"` or `\`; inside quotes `"` and `\` are escaped with
/// `\`. NULL elements print as an unquoted `NULL`.
pub(crate) fn write_array(elements: &[Value], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("{")?;
    for (i, e) in elements.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        if e.is_null() {
            f.write_str("NULL")?;
            continue;
        }
        let text = e.to_string();
        let special = |c: char| matches!(c, '{' | '}' | ',' | '"' | '\\') || is_array_space(c);
        if text.is_empty() || text.eq_ignore_ascii_case("NULL") || text.chars().any(special) {
            f.write_str("\"")?;
            for c in text.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        } else {
            f.write_str(&text)?;
        }
    }
    f.write_str("}")
}

/// PostgreSQL's `array_isspace`.
fn is_array_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C')
}

/// PostgreSQL's `array_in` for one-dimensional arrays: `{a,"b c",NULL}`,
/// blanks around elements ignored, `\` escaping the next character, an
/// unquoted `NULL` (any case) a NULL element; each element read by the
/// element type's input function.
pub(crate) fn parse_array(text: &str, element: DataType) -> Result<Value, EvalError> {
    let malformed = |detail: &str| EvalError::Detailed {
        message: format!("malformed array literal: \"{text}\""),
        detail: detail.to_string(),
    };
    let mut chars = text.chars().peekable();
    let skip_blanks = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.peek().is_some_and(|c| is_array_space(*c)) {
            chars.next();
        }
    };
    skip_blanks(&mut chars);
    if chars.next() != Some('{') {
        return Err(malformed("Array value must start with \"{\" or dimension information."));
    }
    let mut out = Vec::new();
    skip_blanks(&mut chars);
    if chars.peek() == Some(&'}') {
        chars.next();
    } else {
        loop {
            skip_blanks(&mut chars);
            let mut item = String::new();
            let mut quoted = false;
            // Length of `item` up to its last character that was quoted or
            // escaped (trailing blanks after it are kept).
            let mut protected = 0;
            loop {
                match chars.next() {
                    None => return Err(malformed("Unexpected end of input.")),
                    Some('"') => {
                        if quoted || !item.is_empty() {
                            return Err(malformed("Unexpected array element."));
                        }
                        quoted = true;
                        loop {
                            match chars.next() {
                                None => return Err(malformed("Unexpected end of input.")),
                                Some('"') => break,
                                Some('\\') => match chars.next() {
                                    Some(c) => item.push(c),
                                    None => return Err(malformed("Unexpected end of input.")),
                                },
                                Some(c) => item.push(c),
                            }
                        }
                        protected = item.len();
                    }
                    Some('{') => return Err(EvalError::Other("multidimensional arrays are not supported".into())),
                    Some('\\') => match chars.next() {
                        Some(c) => {
                            item.push(c);
                            protected = item.len();
                        }
                        None => return Err(malformed("Unexpected end of input.")),
                    },
                    Some(c @ (',' | '}')) => {
                        let end = item.trim_end_matches(is_array_space).len().max(protected);
                        item.truncate(end);
                        if item.is_empty() && !quoted && protected == 0 {
                            return Err(malformed(&format!("Unexpected \"{c}\" character.")));
                        }
                        if !quoted && protected == 0 && item.eq_ignore_ascii_case("NULL") {
                            out.push(Value::Null);
                        } else {
                            out.push(Value::parse(&item, element)?);
                        }
                        if c == '}' {
                            skip_blanks(&mut chars);
                            if chars.next().is_some() {
                                return Err(malformed("Junk after closing right brace."));
                            }
                            return Ok(Value::Array(out.into()));
                        }
                        break;
                    }
                    Some(c) => {
                        if quoted && !is_array_space(c) {
                            return Err(malformed("Unexpected array element."));
                        }
                        if !quoted {
                            item.push(c);
                        }
                    }
                }
            }
        }
    }
    skip_blanks(&mut chars);
    if chars.next().is_some() {
        return Err(malformed("Junk after closing right brace."));
    }
    Ok(Value::Array(out.into()))
}

/// PostgreSQL's `array_cmp` for one-dimensional arrays: element by element
/// (NULL elements equal each other and sort after every value), then the
/// shorter array first.
pub(crate) fn sql_cmp(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.sql_cmp(y).unwrap_or(Ordering::Equal),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(values: Vec<Value>) -> Value {
        Value::Array(values.into())
    }

    #[test]
    fn output_quotes_as_postgresql_does() {
        let t = Value::text;
        let a = arr(vec![
            t(""),
            t("NULL"),
            t("a"),
            t("a\"b"),
            t("a,b"),
            t("a\\b"),
            t("b c"),
            t("{x}"),
            Value::Null,
            t("null"),
        ]);
        assert_eq!(a.to_string(), r#"{"","NULL",a,"a\"b","a,b","a\\b","b c","{x}",NULL,"null"}"#);
        let n = |s: &str| Value::Numeric(s.parse().unwrap());
        assert_eq!(arr(vec![n("1.0"), Value::Null, n("2.50")]).to_string(), "{1.0,NULL,2.50}");
        assert_eq!(arr(vec![]).to_string(), "{}");
        let ts = Value::parse("2024-01-02 10:00", DataType::Timestamp).unwrap();
        assert_eq!(arr(vec![ts, Value::Bool(true)]).to_string(), r#"{"2024-01-02 10:00:00",t}"#);
        assert_eq!(arr(vec![Value::Bytea(vec![1u8, 255].into())]).to_string(), r#"{"\\x01ff"}"#);
        // Casting to text is the output function.
        assert_eq!(arr(vec![Value::Int4(1), Value::Null]).cast(DataType::Text), Ok(Value::text("{1,NULL}")));
    }

    #[test]
    fn input_reads_the_output_back() {
        let text = DataType::array_of(DataType::Text).unwrap();
        let t = Value::text;
        let a = arr(vec![t(""), t("NULL"), t("a\"b"), t("a\\b"), t(" b c "), Value::Null, t("x")]);
        assert_eq!(Value::parse(&a.to_string(), text), Ok(a));
        assert_eq!(Value::parse(" { a , b\\ ,null } ", text), Ok(arr(vec![t("a"), t("b "), Value::Null])));
        let ints = DataType::array_of(DataType::Int4).unwrap();
        assert_eq!(Value::parse("{}", ints), Ok(arr(vec![])));
        assert_eq!(Value::parse("{1, -2}", ints), Ok(arr(vec![Value::Int4(1), Value::Int4(-2)])));
        let err = |s: &str| Value::parse(s, ints).unwrap_err();
        assert_eq!(err("{1,}").detail(), Some("Unexpected \"}\" character."));
        assert_eq!(err("x").to_string(), "malformed array literal: \"x\"");
        assert_eq!(err("{1}x").detail(), Some("Junk after closing right brace."));
        assert_eq!(err("{a}").to_string(), "invalid input syntax for type integer: \"a\"");
        assert!(Value::parse("{{1}}", ints).is_err());
    }

    #[test]
    fn comparison_and_normalization() {
        let n = |s: &str| Value::Numeric(s.parse().unwrap());
        let a = arr(vec![n("1.0"), Value::Null]);
        let b = arr(vec![n("1.00"), Value::Null]);
        assert_eq!(a.sql_cmp(&b), Some(Ordering::Equal));
        assert_ne!(a, b);
        assert_eq!(a.key_normalized(), b.key_normalized());
        // NULL elements sort after values; a prefix first.
        assert_eq!(arr(vec![Value::Null]).sql_cmp(&arr(vec![n("9")])), Some(Ordering::Greater));
        assert_eq!(arr(vec![n("1")]).sql_cmp(&a), Some(Ordering::Less));
        assert_eq!(arr(vec![n("2")]).sql_cmp(&a), Some(Ordering::Greater));
    }

    #[test]
    fn array_types_name_and_serialize() {
        let t = |e| DataType::array_of(e).unwrap();
        assert_eq!(t(DataType::Int4).to_string(), "integer[]");
        assert_eq!(t(DataType::Varchar(Some(3))).to_string(), "character varying[]");
        assert_eq!(t(DataType::Char(3)).to_string(), "character[]");
        assert_eq!(t(DataType::Numeric(Some((5, 2)))), t(DataType::Numeric(None)));
        assert_eq!(DataType::array_of(t(DataType::Int4)), None);
        let bytes = postcard::to_allocvec(&t(DataType::TimestampTz)).unwrap();
        assert_eq!(postcard::from_bytes::<DataType>(&bytes).unwrap(), t(DataType::TimestampTz));
        assert_eq!(arr(vec![Value::Int8(1)]).natural_type(), t(DataType::Int8));
    }
}
