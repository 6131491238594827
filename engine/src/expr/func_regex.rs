//! POSIX regular-expression matching (`~`, `~*`; `!~`, `!~*` are their
//! negations) with the `regex` crate.
//!
//! PostgreSQL's advanced regular expressions (ARE) are translated to the
//! crate's syntax where they differ: `\m`, `\M`, `\y`, `\Y`, `\Z` become
//! word-start, word-end, word-boundary, non-boundary and end-of-text; `\b`
//! is a backspace as in ARE; `\d`, `\w`, `\s` (and their negations) are
//! ASCII classes, as in PostgreSQL under the `C` locale; `.` matches a
//! newline and `^`/`$` anchor at the ends of the text only (ARE's default).
//! Back references and look-around constraints have no equivalent and are
//! rejected with `invalid regular expression: …`, as are patterns the crate
//! cannot compile (with PostgreSQL's wording for the common mistakes).
//! `~*` folds case with Unicode's simple case folding, where PostgreSQL
//! under the `C` locale folds ASCII letters only.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::call::text_arg;
use super::EvalError;
use crate::value::Value;

/// PostgreSQL's limit on `{m,n}` bounds (`DUPMAX`).
const MAX_REPETITION: u32 = 255;

/// The compiled pattern of one expression: the first pattern the
/// expression meets is compiled once and kept (a constant pattern is so
/// never recompiled); other patterns (a pattern read from a column) go
/// through a small per-thread cache of recent compilations, as
/// PostgreSQL keeps one per backend. It is not part of the expression's
/// value: all caches compare equal, hash to nothing and serialize as
/// nothing.
#[derive(Clone, Default)]
pub struct RegexCache(Arc<OnceLock<Compiled>>);

/// A pattern and its compilation.
type Compiled = (Arc<str>, Result<Arc<Regex>, EvalError>);

/// How many patterns besides an expression's first each thread keeps.
const RECENT_PATTERNS: usize = 32;

thread_local! {
    static RECENT: RefCell<Vec<(bool, Compiled)>> = const { RefCell::new(Vec::new()) };
}

impl RegexCache {
    /// The compiled form of `pattern`.
    fn get(&self, pattern: &str, case_insensitive: bool) -> Result<Arc<Regex>, EvalError> {
        let first = self.0.get_or_init(|| (Arc::from(pattern), compile(pattern, case_insensitive).map(Arc::new)));
        if &*first.0 == pattern {
            return first.1.clone();
        }
        RECENT.with(|recent| {
            let mut recent = recent.borrow_mut();
            if let Some(i) = recent.iter().position(|(ci, (p, _))| *ci == case_insensitive && &**p == pattern) {
                let (ci, (p, result)) = recent.remove(i);
                recent.push((ci, (p, result.clone())));
                return result;
            }
            let compiled = compile(pattern, case_insensitive).map(Arc::new);
            if recent.len() >= RECENT_PATTERNS {
                drop(recent.remove(0));
            }
            recent.push((case_insensitive, (Arc::from(pattern), compiled.clone())));
            compiled
        })
    }
}

impl std::fmt::Debug for RegexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegexCache")
    }
}

impl PartialEq for RegexCache {
    fn eq(&self, _: &RegexCache) -> bool {
        true
    }
}

impl Eq for RegexCache {}

impl PartialOrd for RegexCache {
    fn partial_cmp(&self, other: &RegexCache) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RegexCache {
    fn cmp(&self, _: &RegexCache) -> Ordering {
        Ordering::Equal
    }
}

impl Hash for RegexCache {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl Serialize for RegexCache {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for RegexCache {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RegexCache, D::Error> {
        <()>::deserialize(d)?;
        Ok(RegexCache::default())
    }
}

/// `s ~ pattern` / `s ~* pattern` over non-NULL arguments.
pub(crate) fn apply(case_insensitive: bool, cache: &RegexCache, args: &[Value]) -> Result<Value, EvalError> {
    let [s, p] = args else {
        return Err(EvalError::Other("regular expression match takes two arguments".into()));
    };
    let re = cache.get(text_arg(p)?, case_insensitive)?;
    Ok(Value::Bool(re.is_match(text_arg(s)?)))
}

fn invalid(what: &str) -> EvalError {
    EvalError::Other(format!("invalid regular expression: {what}"))
}

/// Compiles a PostgreSQL ARE pattern.
pub(crate) fn compile(pattern: &str, case_insensitive: bool) -> Result<Regex, EvalError> {
    let translated = translate(pattern)?;
    RegexBuilder::new(&translated)
        .case_insensitive(case_insensitive)
        .dot_matches_new_line(true)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| invalid(&postgres_wording(&e.to_string())))
}

/// PostgreSQL's message for the crate's compile errors where there is an
/// equivalent.
fn postgres_wording(err: &str) -> String {
    let first = err.lines().rev().find(|l| l.starts_with("error:")).unwrap_or(err);
    let msg = first.trim_start_matches("error:").trim();
    if msg.contains("unclosed group") || msg.contains("unopened group") {
        "parentheses () not balanced".into()
    } else if msg.contains("unclosed character class") {
        "brackets [] not balanced".into()
    } else if msg.contains("repetition operator missing expression") {
        "quantifier operand invalid".into()
    } else if msg.contains("repetition") || msg.contains("decimal") {
        "invalid repetition count(s)".into()
    } else if msg.contains("escape") {
        "invalid escape \\ sequence".into()
    } else if msg.contains("size limit") {
        "regular expression is too complex".into()
    } else {
        msg.to_string()
    }
}

/// Rewrites ARE syntax into the `regex` crate's (see the module doc).
fn translate(p: &str) -> Result<String, EvalError> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    // Position just after a class's `[` or `[^`, where `]` is literal.
    let mut class_start = 0;
    // After a quantifier: 1; after a quantifier and its `?`: 2.
    let mut quantified = 0u8;
    while i < chars.len() {
        let c = chars[i];
        if !in_class {
            let is_quantifier =
                matches!(c, '*' | '+' | '?') || (c == '{' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()));
            if is_quantifier {
                match (quantified, c) {
                    (0, _) => quantified = 1,
                    (1, '?') => quantified = 2,
                    _ => return Err(invalid("quantifier operand invalid")),
                }
            } else {
                quantified = 0;
            }
        }
        if c == '\\' {
            let Some(&e) = chars.get(i + 1) else { return Err(invalid("invalid escape \\ sequence")) };
            i += 2;
            let class = |name: &str, negated: bool| {
                let inner = format!("[:{}{name}:]", if negated { "^" } else { "" });
                if in_class {
                    inner
                } else {
                    format!("[{inner}]")
                }
            };
            match e {
                'd' | 'D' => out.push_str(&class("digit", e == 'D')),
                'w' | 'W' => out.push_str(&class("word", e == 'W')),
                's' | 'S' => out.push_str(&class("space", e == 'S')),
                'b' => out.push_str("\\x08"),
                'e' => out.push_str("\\x1B"),
                _ if in_class => {
                    out.push('\\');
                    out.push(e);
                }
                'm' => out.push_str("\\b{start}"),
                'M' => out.push_str("\\b{end}"),
                'y' => out.push_str("\\b"),
                'Y' => out.push_str("\\B"),
                'A' => out.push_str("\\A"),
                'Z' => out.push_str("\\z"),
                '1'..='9' => return Err(invalid("back references are not supported")),
                _ => {
                    out.push('\\');
                    out.push(e);
                }
            }
            continue;
        }
        if in_class {
            match c {
                ']' if i > class_start => in_class = false,
                '[' if matches!(chars.get(i + 1), Some(':' | '.' | '=')) => {
                    // A named class, collating element or equivalence class:
                    // copied through its closing `:]`.
                    let close = chars.get(i + 1).copied().unwrap_or(':');
                    let end =
                        (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == close && chars[j + 1] == ']');
                    let Some(end) = end else { return Err(invalid("brackets [] not balanced")) };
                    if close != ':' {
                        return Err(invalid("collating elements and equivalence classes are not supported"));
                    }
                    out.extend(&chars[i..end + 2]);
                    i = end + 2;
                    continue;
                }
                // Set operators of the crate's syntax are plain characters
                // in ARE brackets.
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                    i += 1;
                    continue;
                }
                '-' if chars.get(i + 1) == Some(&'-') => {
                    out.push_str("\\-");
                    i += 1;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?')
                && (matches!(chars.get(i + 2), Some('=' | '!'))
                    || (chars.get(i + 2) == Some(&'<') && matches!(chars.get(i + 3), Some('=' | '!')))) =>
            {
                return Err(invalid("lookahead and lookbehind constraints are not supported"));
            }
            '{' => {
                let close = chars[i..].iter().position(|&x| x == '}').map(|k| i + k);
                if let Some(close) = close {
                    let body: String = chars[i + 1..close].iter().collect();
                    let mut parts = body.splitn(2, ',');
                    let lo = parts.next().unwrap_or("");
                    let hi = parts.next();
                    if !lo.is_empty() && lo.bytes().all(|b| b.is_ascii_digit()) {
                        let lo_v: u64 = lo.parse().unwrap_or(u64::MAX);
                        let hi_v = match hi {
                            None => Some(lo_v),
                            Some("") => None,
                            Some(h) if h.bytes().all(|b| b.is_ascii_digit()) => Some(h.parse().unwrap_or(u64::MAX)),
                            Some(_) => return Err(invalid("invalid repetition count(s)")),
                        };
                        if lo_v > MAX_REPETITION as u64 || hi_v.is_some_and(|h| h > MAX_REPETITION as u64 || h < lo_v) {
                            return Err(invalid("invalid repetition count(s)"));
                        }
                        out.extend(&chars[i..=close]);
                        i = close + 1;
                        continue;
                    }
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    if in_class {
        return Err(invalid("brackets [] not balanced"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str, p: &str) -> Result<bool, EvalError> {
        Ok(compile(p, false)?.is_match(s))
    }

    #[test]
    fn are_differences_are_translated() {
        // PostgreSQL: 'a1' ~ '\d' t, 'ab' ~ '\mab\M' t, 'ab' ~ '\yab\y' t,
        // E'a\nb' ~ 'a.b' t, E'a\nb' ~ '^b' f, 'é' ~ '\w' f (C locale).
        assert_eq!(m("a1", "\\d"), Ok(true));
        assert_eq!(m("abc", "\\d"), Ok(false));
        assert_eq!(m("ab", "\\mab\\M"), Ok(true));
        assert_eq!(m("ab", "\\yab\\y"), Ok(true));
        assert_eq!(m("a\nb", "a.b"), Ok(true));
        assert_eq!(m("a\nb", "^b"), Ok(false));
        assert_eq!(m("é", "\\w"), Ok(false));
        assert_eq!(m("x9", "[\\d]"), Ok(true));
        assert_eq!(m("a&b", "[&]"), Ok(true));
        assert_eq!(m("ab", "[[:alpha:]]+"), Ok(true));
        assert_eq!(m("a]", "[]]"), Ok(true));
    }

    #[test]
    fn compile_errors_use_postgres_wording() {
        let err = |p: &str| compile(p, false).err().map(|e| e.to_string());
        assert_eq!(err("("), Some("invalid regular expression: parentheses () not balanced".into()));
        assert_eq!(err("[a"), Some("invalid regular expression: brackets [] not balanced".into()));
        assert_eq!(err("a**"), Some("invalid regular expression: quantifier operand invalid".into()));
        assert_eq!(err("a{2,1}"), Some("invalid regular expression: invalid repetition count(s)".into()));
        assert_eq!(err("x{1000}"), Some("invalid regular expression: invalid repetition count(s)".into()));
        assert_eq!(err("\\"), Some("invalid regular expression: invalid escape \\ sequence".into()));
        assert!(err("(a)\\1").is_some());
        assert!(err("(?<=a)b").is_some());
    }

    #[test]
    fn cache_reuses_and_replaces() {
        let cache = RegexCache::default();
        let a = cache.get("a+", false).map(|r| Arc::as_ptr(&r));
        let b = cache.get("a+", false).map(|r| Arc::as_ptr(&r));
        assert_eq!(a, b);
        assert_eq!(apply(false, &cache, &[Value::text("xyz"), Value::text("y")]), Ok(Value::Bool(true)));
        let ci = RegexCache::default();
        assert_eq!(apply(true, &ci, &[Value::text("XYZ"), Value::text("y")]), Ok(Value::Bool(true)));
    }
}
