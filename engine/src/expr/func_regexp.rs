//! PostgreSQL's regular-expression functions: `regexp_replace`,
//! `regexp_match`, `regexp_count` and `regexp_like`, over patterns
//! compiled by [`func_regex`](super::func_regex) (its module doc lists the
//! syntax and the options).
//!
//! A match is PostgreSQL's: the leftmost position where the pattern
//! matches, and there the longest match (PostgreSQL's rule for a pattern
//! whose quantifiers are all greedy). Searching for the next match resumes
//! where the last one ended, one character further after an empty match.
//! Patterns with non-greedy quantifiers decide a match's length by rules
//! this engine does not reproduce, so the functions that return or use
//! matched text reject them (`regexp_like` accepts every pattern). Capture
//! groups (`regexp_match`'s elements, `\1`..`\9` in a replacement) are
//! those of the leftmost-first parse of the match, which is PostgreSQL's
//! when the pattern has no alternation; patterns with `|` are rejected
//! there.

use std::sync::Arc;

use regex::Captures;

use super::call::{int_arg, text_arg};
use super::func_regex::{parse_flags, Flags, Pattern, RegexCache};
use super::EvalError;
use crate::value::Value;

/// Which regular-expression function a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum RegexpFunc {
    /// `regexp_replace(source, pattern, replacement [, flags])`,
    /// `regexp_replace(source, pattern, replacement, start [, n [, flags]])`.
    Replace,
    /// `regexp_match(string, pattern [, flags])`: `text[]`.
    Match,
    /// `regexp_count(string, pattern [, start [, flags]])`.
    Count,
    /// `regexp_like(string, pattern [, flags])`.
    Like,
}

impl RegexpFunc {
    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            RegexpFunc::Replace => "regexp_replace",
            RegexpFunc::Match => "regexp_match",
            RegexpFunc::Count => "regexp_count",
            RegexpFunc::Like => "regexp_like",
        }
    }
}

/// Evaluates `f` over non-NULL arguments.
pub(crate) fn apply(f: RegexpFunc, cache: &RegexCache, args: &[Value]) -> Result<Value, EvalError> {
    let arity = || EvalError::Other(format!("{} does not take {} arguments", f.name(), args.len()));
    let text = |i: usize| args.get(i).ok_or_else(arity).and_then(text_arg);
    let int = |i: usize| args.get(i).ok_or_else(arity).and_then(int_arg);
    match f {
        RegexpFunc::Replace => {
            let (s, p, r) = (text(0)?, text(1)?, text(2)?);
            let (start, n, flags) = match args.len() {
                3 => (1, None, Flags::default()),
                4 if matches!(args[3], Value::Text(_)) => {
                    let flags = text(3)?;
                    if flags.starts_with(|c: char| c.is_ascii_digit()) {
                        parse_flags(&flags[..1])?;
                    }
                    (1, None, parse_flags(flags)?)
                }
                4..=6 => {
                    let start = int(3)?;
                    if start <= 0 {
                        return Err(bad_parameter("start", start));
                    }
                    let n = if args.len() > 4 { Some(int(4)?) } else { None };
                    if let Some(n) = n.filter(|n| *n < 0) {
                        return Err(bad_parameter("n", n));
                    }
                    let flags = if args.len() > 5 { parse_flags(text(5)?)? } else { Flags::default() };
                    (start, n, flags)
                }
                _ => return Err(arity()),
            };
            let n = n.unwrap_or(if flags.global { 0 } else { 1 });
            let pattern = cache.get(p, flags.options)?;
            spans_supported(f, &pattern)?;
            replace(&pattern, s, r, start, n).map(|v| Value::text(&v))
        }
        RegexpFunc::Match => {
            let (s, p) = (text(0)?, text(1)?);
            let flags = if args.len() > 2 { parse_flags(text(2)?)? } else { Flags::default() };
            if flags.global {
                return Err(EvalError::Detailed {
                    message: "regexp_match() does not support the \"global\" option".into(),
                    detail: "Use the regexp_matches function instead.".into(),
                });
            }
            let pattern = cache.get(p, flags.options)?;
            spans_supported(f, &pattern)?;
            let Some((start, end)) = find(&pattern, s, 0)? else { return Ok(Value::Null) };
            if pattern.re.captures_len() == 1 {
                return Ok(Value::Array(Arc::from([Value::text(&s[start..end])])));
            }
            let caps = captures(f, &pattern, s, start, end)?;
            let groups = (1..caps.len()).map(|g| caps.get(g).map_or(Value::Null, |m| Value::text(m.as_str())));
            Ok(Value::Array(groups.collect()))
        }
        RegexpFunc::Count => {
            let (s, p) = (text(0)?, text(1)?);
            let start = if args.len() > 2 { int(2)? } else { 1 };
            if start <= 0 {
                return Err(bad_parameter("start", start));
            }
            let flags = if args.len() > 3 { parse_flags(text(3)?)? } else { Flags::default() };
            no_global(f, flags)?;
            let pattern = cache.get(p, flags.options)?;
            spans_supported(f, &pattern)?;
            let mut count = 0;
            let mut at = char_position(s, start);
            while let Some(from) = at {
                let Some((m_start, m_end)) = find(&pattern, s, from)? else { break };
                count += 1;
                at = if m_start == m_end { next_char(s, m_end) } else { Some(m_end) };
            }
            Ok(Value::Int4(count))
        }
        RegexpFunc::Like => {
            let (s, p) = (text(0)?, text(1)?);
            let flags = if args.len() > 2 { parse_flags(text(2)?)? } else { Flags::default() };
            no_global(f, flags)?;
            let pattern = cache.get(p, flags.options)?;
            Ok(Value::Bool(pattern.re.is_match(s)))
        }
    }
}

/// `invalid value for parameter "start": 0`.
fn bad_parameter(name: &str, value: i64) -> EvalError {
    EvalError::Other(format!("invalid value for parameter \"{name}\": {value}"))
}

/// PostgreSQL's error for `g` where a function finds one match or counts
/// them all.
fn no_global(f: RegexpFunc, flags: Flags) -> Result<(), EvalError> {
    if flags.global {
        return Err(EvalError::Other(format!("{}() does not support the \"global\" option", f.name())));
    }
    Ok(())
}

/// Rejects the patterns whose match lengths are not PostgreSQL's (see the
/// module doc).
fn spans_supported(f: RegexpFunc, pattern: &Pattern) -> Result<(), EvalError> {
    if pattern.non_greedy {
        return Err(EvalError::Other(format!("{}() does not support non-greedy quantifiers", f.name())));
    }
    Ok(())
}

/// The byte offset of 1-based character `start`, `None` past the end.
fn char_position(s: &str, start: i64) -> Option<usize> {
    let skip = usize::try_from(start - 1).ok()?;
    if skip == 0 {
        return Some(0);
    }
    match s.char_indices().nth(skip) {
        Some((i, _)) => Some(i),
        None if s.chars().count() == skip => Some(s.len()),
        None => None,
    }
}

/// The offset one character after `at`, `None` past the end.
fn next_char(s: &str, at: usize) -> Option<usize> {
    s[at..].chars().next().map(|c| at + c.len_utf8())
}

/// PostgreSQL's match at or after byte `from`: the leftmost start, the
/// longest end there.
fn find(pattern: &Pattern, s: &str, from: usize) -> Result<Option<(usize, usize)>, EvalError> {
    let Some(m) = pattern.re.find_at(s, from) else { return Ok(None) };
    let end = pattern.longest_end(s, m.start())?.unwrap_or(m.end());
    Ok(Some((m.start(), end.max(m.end()))))
}

/// The capture groups of the match `start..end`.
fn captures<'s>(
    f: RegexpFunc,
    pattern: &Pattern,
    s: &'s str,
    start: usize,
    end: usize,
) -> Result<Captures<'s>, EvalError> {
    if pattern.alternation {
        return Err(EvalError::Other(format!(
            "{}() does not support capture groups in a pattern with alternation (|)",
            f.name()
        )));
    }
    match pattern.re.captures_at(s, start) {
        Some(c) if c.get(0).is_some_and(|m| m.start() == start && m.end() == end) => Ok(c),
        _ => {
            Err(EvalError::Other(format!("{}() cannot determine the capture groups of this pattern's match", f.name())))
        }
    }
}

/// Whether a replacement refers to capture groups (`\1`..`\9`).
fn uses_groups(r: &str) -> bool {
    let mut chars = r.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.next().is_some_and(|d| ('1'..='9').contains(&d)) {
            return true;
        }
    }
    false
}

/// PostgreSQL's `replace_text_regexp`: replaces the `n`th match at or
/// after character `start` (every match when `n` is 0).
fn replace(pattern: &Pattern, s: &str, r: &str, start: i64, n: i64) -> Result<String, EvalError> {
    let groups = uses_groups(r);
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut count = 0;
    let mut at = char_position(s, start);
    while let Some(from) = at {
        let Some((m_start, m_end)) = find(pattern, s, from)? else { break };
        count += 1;
        let advance = |end: usize| if m_start == m_end { next_char(s, end) } else { Some(end) };
        if n > 0 && count != n {
            at = advance(m_end);
            continue;
        }
        out.push_str(&s[copied..m_start]);
        let caps = if groups { Some(captures(RegexpFunc::Replace, pattern, s, m_start, m_end)?) } else { None };
        substitute(r, &s[m_start..m_end], caps.as_ref(), &mut out);
        copied = m_end;
        if n > 0 {
            break;
        }
        at = advance(m_end);
    }
    out.push_str(&s[copied..]);
    Ok(out)
}

/// Appends `r` with `\&` as the match, `\1`..`\9` as its groups (nothing
/// for a group that did not match or does not exist), `\\` as `\`, and any
/// other backslash as it is.
fn substitute(r: &str, whole: &str, caps: Option<&Captures<'_>>, out: &mut String) {
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(d @ '1'..='9') => {
                chars.next();
                let g = d as usize - '0' as usize;
                if let Some(m) = caps.and_then(|c| c.get(g)) {
                    out.push_str(m.as_str());
                }
            }
            Some('&') => {
                chars.next();
                out.push_str(whole);
            }
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            _ => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: RegexpFunc, args: &[Value]) -> Result<Value, EvalError> {
        apply(f, &RegexCache::default(), args)
    }

    fn t(s: &str) -> Value {
        Value::text(s)
    }

    #[test]
    fn replace_follows_postgres() {
        // PostgreSQL: regexp_replace('abc', 'b*', '-', 'g') = '-a--c-';
        // regexp_replace('abc', 'a|ab', 'X') = 'Xc' (longest match);
        // regexp_replace('abcabc', 'b', 'X', 1, 2) = 'abcaXc'.
        assert_eq!(call(RegexpFunc::Replace, &[t("abc"), t("b*"), t("-"), t("g")]), Ok(t("-a--c-")));
        assert_eq!(call(RegexpFunc::Replace, &[t("abc"), t("a|ab"), t("X")]), Ok(t("Xc")));
        let ext = [t("abcabc"), t("b"), t("X"), Value::Int4(1), Value::Int4(2)];
        assert_eq!(call(RegexpFunc::Replace, &ext), Ok(t("abcaXc")));
        assert_eq!(
            call(RegexpFunc::Replace, &[t("abc"), t("(b)"), t("[\\&|\\1|\\\\|\\x|\\]")]),
            Ok(t("a[b|b|\\|\\x|\\]c"))
        );
        assert_eq!(
            call(RegexpFunc::Replace, &[t("abc"), t("b"), t("x"), t("z")]).map_err(|e| e.to_string()),
            Err("invalid regular expression option: \"z\"".into())
        );
    }

    #[test]
    fn count_and_match_follow_postgres() {
        // regexp_count('abc', 'x*', 4) = 1; regexp_count('abc', 'x*', 5) = 0.
        assert_eq!(call(RegexpFunc::Count, &[t("abc"), t("x*"), Value::Int4(4)]), Ok(Value::Int4(1)));
        assert_eq!(call(RegexpFunc::Count, &[t("abc"), t("x*"), Value::Int4(5)]), Ok(Value::Int4(0)));
        assert_eq!(call(RegexpFunc::Count, &[t("aab"), t("a|aa")]), Ok(Value::Int4(1)));
        assert_eq!(
            call(RegexpFunc::Match, &[t("abc"), t("(a)(x)?")]),
            Ok(Value::Array(Arc::from([t("a"), Value::Null])))
        );
        assert_eq!(call(RegexpFunc::Match, &[t("abc"), t("x")]), Ok(Value::Null));
        assert!(call(RegexpFunc::Match, &[t("abc"), t("a+?")]).is_err());
    }
}
