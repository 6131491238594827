//! String functions with PostgreSQL's semantics in a UTF-8 database under
//! the `C` locale: positions and lengths count characters, case mapping
//! touches ASCII letters only.

use std::sync::Arc;

use super::call::{bad_arity, int_arg, text_arg, ScalarFunc};
use super::EvalError;
use crate::value::Value;

/// The largest string PostgreSQL builds (1 GB less the header).
const MAX_STRING_BYTES: usize = (1 << 30) - 1 - 4;

fn text(s: impl Into<Arc<str>>) -> Value {
    Value::Text(s.into())
}

fn too_large() -> EvalError {
    EvalError::Other("requested length too large".into())
}

/// Evaluates a string function over non-NULL arguments (NULLs are skipped
/// by `concat`/`concat_ws`).
pub(crate) fn apply(f: &ScalarFunc, args: &[Value]) -> Result<Value, EvalError> {
    use ScalarFunc as F;
    let s = |i: usize| -> Result<&str, EvalError> {
        args.get(i).ok_or_else(|| bad_arity(f, args.len())).and_then(text_arg)
    };
    let n =
        |i: usize| -> Result<i64, EvalError> { args.get(i).ok_or_else(|| bad_arity(f, args.len())).and_then(int_arg) };
    Ok(match f {
        F::Upper => text(s(0)?.to_ascii_uppercase()),
        F::Lower => text(s(0)?.to_ascii_lowercase()),
        F::Initcap => text(initcap(s(0)?)),
        F::CharLength => Value::Int4(s(0)?.chars().count() as i32),
        F::OctetLength => match &args[0] {
            Value::Bytea(b) => Value::Int4(b.len() as i32),
            v => Value::Int4(text_arg(v)?.len() as i32),
        },
        F::Substring => {
            let len = if args.len() > 2 { Some(n(2)?) } else { None };
            text(substring(s(0)?, n(1)?, len)?)
        }
        F::Strpos => Value::Int4(strpos(s(0)?, s(1)?)),
        F::Btrim | F::Ltrim | F::Rtrim => {
            let set = if args.len() > 1 { s(1)? } else { " " };
            text(trim(s(0)?, set, !matches!(f, F::Rtrim), !matches!(f, F::Ltrim)))
        }
        F::Replace => {
            let (src, from, to) = (s(0)?, s(1)?, s(2)?);
            if from.is_empty() {
                text(src)
            } else {
                text(src.replace(from, to))
            }
        }
        F::SplitPart => text(split_part(s(0)?, s(1)?, n(2)?)?),
        F::Left => text(left(s(0)?, n(1)?)),
        F::Right => text(right(s(0)?, n(1)?)),
        F::Lpad | F::Rpad => {
            let fill = if args.len() > 2 { s(2)? } else { " " };
            text(pad(s(0)?, n(1)?, fill, matches!(f, F::Lpad))?)
        }
        F::Concat => {
            let mut out = String::new();
            for v in args.iter().filter(|v| !v.is_null()) {
                out.push_str(text_arg(v)?);
            }
            text(out)
        }
        F::ConcatWs => {
            let Some(sep) = args.first() else { return Err(bad_arity(f, 0)) };
            if sep.is_null() {
                return Ok(Value::Null);
            }
            let sep = text_arg(sep)?;
            let mut out = String::new();
            let mut first = true;
            for v in args[1..].iter().filter(|v| !v.is_null()) {
                if !first {
                    out.push_str(sep);
                }
                out.push_str(text_arg(v)?);
                first = false;
            }
            text(out)
        }
        F::Reverse => text(s(0)?.chars().rev().collect::<String>()),
        F::Repeat => {
            let (src, count) = (s(0)?, n(1)?);
            if count <= 0 || src.is_empty() {
                text("")
            } else {
                let total = (src.len() as u128) * (count as u128);
                if total > MAX_STRING_BYTES as u128 {
                    return Err(too_large());
                }
                text(src.repeat(count as usize))
            }
        }
        F::StartsWith => Value::Bool(s(0)?.starts_with(s(1)?)),
        F::Ascii => Value::Int4(s(0)?.chars().next().map_or(0, |c| c as i32)),
        F::Chr => text(chr(n(0)?)?.to_string()),
        F::Md5 => {
            let digest = match &args[0] {
                Value::Bytea(b) => md5(b),
                v => md5(text_arg(v)?.as_bytes()),
            };
            text(digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
        F::Overlay => {
            let (src, with) = (s(0)?, s(1)?);
            let len = if args.len() > 3 { n(3)? } else { with.chars().count() as i64 };
            text(overlay(src, with, n(2)?, len)?)
        }
        _ => return Err(EvalError::Other(format!("{} is not a string function", f.name()))),
    })
}

/// `initcap` under the `C` locale: a letter after an ASCII alphanumeric is
/// lower-cased, any other letter upper-cased; non-ASCII characters are
/// left alone and count as non-alphanumeric.
fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_alnum = false;
    for c in s.chars() {
        let c = if after_alnum { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() };
        after_alnum = c.is_ascii_alphanumeric();
        out.push(c);
    }
    out
}

/// The byte offset of the character with 0-based index `n` (the length if
/// there are fewer characters).
fn char_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// `substring(s FROM start [FOR len])`, PostgreSQL's `text_substring`.
fn substring(s: &str, start: i64, len: Option<i64>) -> Result<&str, EvalError> {
    let first = start.max(1);
    let end = match len {
        None => i64::MAX,
        Some(l) if l < 0 => return Err(EvalError::Other("negative substring length not allowed".into())),
        Some(l) => start.saturating_add(l),
    };
    if end <= first {
        return Ok("");
    }
    let from = char_offset(s, (first - 1) as usize);
    let rest = &s[from..];
    let count = end - first;
    let to = if count >= rest.len() as i64 { rest.len() } else { char_offset(rest, count as usize) };
    Ok(&rest[..to])
}

/// PostgreSQL's `text_overlay`: the characters before `start`, `with`,
/// then the characters from `start + len` on.
fn overlay(s: &str, with: &str, start: i64, len: i64) -> Result<String, EvalError> {
    if start <= 0 {
        return Err(EvalError::Other("negative substring length not allowed".into()));
    }
    let resume = i32::try_from(start + len).map_err(|_| EvalError::OutOfRange("integer".into()))?;
    let mut out = substring(s, 1, Some(start - 1))?.to_string();
    out.push_str(with);
    out.push_str(substring(s, resume as i64, None)?);
    Ok(out)
}

/// 1-based character position of `needle` in `s`, 0 if absent.
fn strpos(s: &str, needle: &str) -> i32 {
    match s.find(needle) {
        Some(i) => s[..i].chars().count() as i32 + 1,
        None => 0,
    }
}

fn trim<'a>(s: &'a str, set: &str, leading: bool, trailing: bool) -> &'a str {
    let in_set = |c: char| set.contains(c);
    let s = if leading { s.trim_start_matches(in_set) } else { s };
    if trailing {
        s.trim_end_matches(in_set)
    } else {
        s
    }
}

/// `split_part`: field `n` (1-based; negative counts from the end) of `s`
/// split at `delim`; an empty delimiter makes `s` the only field.
fn split_part(s: &str, delim: &str, n: i64) -> Result<String, EvalError> {
    if n == 0 {
        return Err(EvalError::Other("field position must not be zero".into()));
    }
    if s.is_empty() {
        return Ok(String::new());
    }
    if delim.is_empty() {
        return Ok(if n == 1 || n == -1 { s.to_string() } else { String::new() });
    }
    let fields: Vec<&str> = s.split(delim).collect();
    let idx = if n > 0 { n - 1 } else { fields.len() as i64 + n };
    Ok(if (0..fields.len() as i64).contains(&idx) { fields[idx as usize].to_string() } else { String::new() })
}

fn left(s: &str, n: i64) -> &str {
    let count = s.chars().count() as i64;
    let keep = if n >= 0 { n.min(count) } else { (count + n).max(0) };
    &s[..char_offset(s, keep as usize)]
}

fn right(s: &str, n: i64) -> &str {
    let count = s.chars().count() as i64;
    let keep = if n >= 0 { n.min(count) } else { (count + n).max(0) };
    &s[char_offset(s, (count - keep) as usize)..]
}

/// `lpad`/`rpad`: `s` truncated or filled (cyclically with `fill`) to
/// `len` characters; an empty `fill` leaves a short `s` as it is.
fn pad(s: &str, len: i64, fill: &str, left: bool) -> Result<String, EvalError> {
    if len <= 0 {
        return Ok(String::new());
    }
    if len as u128 * 4 > MAX_STRING_BYTES as u128 {
        return Err(too_large());
    }
    let len = len as usize;
    let count = s.chars().count();
    if count >= len {
        return Ok(s[..char_offset(s, len)].to_string());
    }
    if fill.is_empty() {
        return Ok(s.to_string());
    }
    let padding: String = fill.chars().cycle().take(len - count).collect();
    Ok(if left { padding + s } else { s.to_string() + &padding })
}

/// `chr(n)` with PostgreSQL's errors for a UTF-8 database.
fn chr(n: i64) -> Result<char, EvalError> {
    if n < 0 {
        return Err(EvalError::Other("character number must be positive".into()));
    }
    if n == 0 {
        return Err(EvalError::Other("null character not permitted".into()));
    }
    if n > 0x10FFFF {
        return Err(EvalError::Other(format!("requested character too large for encoding: {n}")));
    }
    char::from_u32(n as u32).ok_or_else(|| EvalError::Other(format!("requested character not valid for encoding: {n}")))
}

/// The MD5 digest of `data` (RFC 1321).
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
        20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6,
        10, 15, 21,
    ];
    // K[i] = floor(2^32 * |sin(i + 1)|).
    let k: Vec<u32> = (0..64).map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32).collect();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for block in msg.chunks_exact(64) {
        let m: Vec<u32> = block.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a.wrapping_add(f).wrapping_add(k[i]).wrapping_add(m[g]).rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, w) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: ScalarFunc, args: Vec<Value>) -> Result<Value, EvalError> {
        f.apply(&args)
    }
    fn t(s: &str) -> Value {
        Value::text(s)
    }
    fn i(n: i32) -> Value {
        Value::Int4(n)
    }

    #[test]
    fn substring_follows_postgres() {
        // PostgreSQL: ell | he | (empty) | ello | e
        assert_eq!(call(ScalarFunc::Substring, vec![t("hello"), i(2), i(3)]), Ok(t("ell")));
        assert_eq!(call(ScalarFunc::Substring, vec![t("hello"), i(0), i(3)]), Ok(t("he")));
        assert_eq!(call(ScalarFunc::Substring, vec![t("hello"), i(-5), i(3)]), Ok(t("")));
        assert_eq!(call(ScalarFunc::Substring, vec![t("hello"), i(2)]), Ok(t("ello")));
        assert_eq!(call(ScalarFunc::Substring, vec![t("héllo"), i(2), i(1)]), Ok(t("é")));
        assert_eq!(call(ScalarFunc::Substring, vec![t("hello"), i(-2147483648), i(2147483647)]), Ok(t("")));
        assert_eq!(
            call(ScalarFunc::Substring, vec![t("hello"), i(2), i(-1)]),
            Err(EvalError::Other("negative substring length not allowed".into()))
        );
        assert_eq!(call(ScalarFunc::Substring, vec![Value::Null, i(2)]), Ok(Value::Null));
    }

    #[test]
    fn case_mapping_is_ascii_only() {
        // PostgreSQL under LC_CTYPE C: éCOLE | École | Hello World-Foo Bar_Baz 1st éA
        assert_eq!(call(ScalarFunc::Upper, vec![t("école")]), Ok(t("éCOLE")));
        assert_eq!(call(ScalarFunc::Lower, vec![t("ÉCOLE")]), Ok(t("École")));
        assert_eq!(
            call(ScalarFunc::Initcap, vec![t("hello wORLD-foo bar_baz 1st éa")]),
            Ok(t("Hello World-Foo Bar_Baz 1st éA"))
        );
    }

    #[test]
    fn split_left_right_pad() {
        let sp = |s: &str, d: &str, n: i32| call(ScalarFunc::SplitPart, vec![t(s), t(d), i(n)]);
        assert_eq!(sp("a,b,c", ",", 2), Ok(t("b")));
        assert_eq!(sp("a,b,c", ",", 4), Ok(t("")));
        assert_eq!(sp("a,b,c", ",", -1), Ok(t("c")));
        assert_eq!(sp("a,b,c", ",", -4), Ok(t("")));
        assert_eq!(sp("a,b,c", "", 1), Ok(t("a,b,c")));
        assert_eq!(sp("abc", "", -1), Ok(t("abc")));
        assert!(sp("a", ",", 0).is_err());
        assert_eq!(call(ScalarFunc::Left, vec![t("hello"), i(-2)]), Ok(t("hel")));
        assert_eq!(call(ScalarFunc::Right, vec![t("hello"), i(-2)]), Ok(t("llo")));
        assert_eq!(call(ScalarFunc::Right, vec![t("hello"), i(-10)]), Ok(t("")));
        assert_eq!(call(ScalarFunc::Lpad, vec![t("hi"), i(5), t("xy")]), Ok(t("xyxhi")));
        assert_eq!(call(ScalarFunc::Rpad, vec![t("hi"), i(5), t("xy")]), Ok(t("hixyx")));
        assert_eq!(call(ScalarFunc::Lpad, vec![t("hello"), i(2)]), Ok(t("he")));
        assert_eq!(call(ScalarFunc::Lpad, vec![t("hi"), i(5), t("")]), Ok(t("hi")));
    }

    #[test]
    fn concat_skips_nulls() {
        assert_eq!(call(ScalarFunc::Concat, vec![t("a"), Value::Null, t("b")]), Ok(t("ab")));
        assert_eq!(call(ScalarFunc::ConcatWs, vec![t(","), t("a"), Value::Null, t("b")]), Ok(t("a,b")));
        assert_eq!(call(ScalarFunc::ConcatWs, vec![Value::Null, t("a")]), Ok(Value::Null));
    }

    #[test]
    fn md5_chr_ascii() {
        assert_eq!(call(ScalarFunc::Md5, vec![t("abc")]), Ok(t("900150983cd24fb0d6963f7d28e17f72")));
        assert_eq!(call(ScalarFunc::Md5, vec![t("")]), Ok(t("d41d8cd98f00b204e9800998ecf8427e")));
        assert_eq!(call(ScalarFunc::Chr, vec![i(233)]), Ok(t("é")));
        assert_eq!(
            call(ScalarFunc::Chr, vec![i(55296)]),
            Err(EvalError::Other("requested character not valid for encoding: 55296".into()))
        );
        assert_eq!(call(ScalarFunc::Ascii, vec![t("")]), Ok(i(0)));
        assert_eq!(call(ScalarFunc::Strpos, vec![t("aéb"), t("b")]), Ok(i(3)));
        assert_eq!(call(ScalarFunc::Strpos, vec![t("abc"), t("")]), Ok(i(1)));
    }
}
