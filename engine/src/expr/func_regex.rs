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
//!
//! Options ([`Options`]) come from a function's flags argument
//! ([`parse_flags`]) and from embedded options leading the pattern
//! (`(?i)`, `***=`): case (`i`, `c`), newline sensitivity (`n`/`m`, `p`,
//! `w`, `s`: `.` and `[^…]` stop at a newline, `^`/`$` match at line
//! ends), expanded syntax (`x`: white space and `#` comments outside
//! brackets ignored) and literal patterns (`q`). Basic and extended
//! regular expressions (`b`, `e`) are rejected.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexBuilder};
use regex_automata::nfa::thompson::{self, pikevm::PikeVM};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};
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

/// A pattern, its options and its compilation.
type Compiled = (Arc<str>, Options, Result<Arc<Pattern>, EvalError>);

/// How a pattern is read: the options PostgreSQL's flags and embedded
/// options set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Options {
    /// `i`: letters match either case.
    pub(crate) case_insensitive: bool,
    /// `n`, `m`, `p`: `.` and negated brackets do not match a newline.
    pub(crate) newline_stop: bool,
    /// `n`, `m`, `w`: `^` and `$` also match after and before a newline.
    pub(crate) newline_anchor: bool,
    /// `x`: white space and `#` comments outside brackets are ignored.
    pub(crate) expanded: bool,
    /// The syntax: advanced (the default), extended (`e`), basic (`b`) or
    /// a literal string (`q`).
    pub(crate) syntax: Syntax,
}

/// The regular-expression flavours PostgreSQL's options select.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) enum Syntax {
    /// Advanced regular expressions.
    #[default]
    Advanced,
    /// POSIX extended regular expressions (`e`; not supported).
    Extended,
    /// POSIX basic regular expressions (`b`; not supported).
    Basic,
    /// The pattern is a literal string (`q`).
    Quote,
}

/// A function's flags argument: the pattern options and `g`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// The options for compiling the pattern.
    pub(crate) options: Options,
    /// `g`: every match, not only the first.
    pub(crate) global: bool,
}

/// Reads a flags argument as PostgreSQL's `parse_re_flags` does (later
/// flags override earlier ones).
pub(crate) fn parse_flags(flags: &str) -> Result<Flags, EvalError> {
    let mut f = Flags::default();
    for c in flags.chars() {
        if c == 'g' {
            f.global = true;
        } else if !set_option(&mut f.options, c) {
            return Err(EvalError::Other(format!("invalid regular expression option: \"{c}\"")));
        }
    }
    Ok(f)
}

/// Applies option letter `c`; false for a letter that is no option.
fn set_option(o: &mut Options, c: char) -> bool {
    match c {
        'b' => o.syntax = Syntax::Basic,
        'c' => o.case_insensitive = false,
        'e' => o.syntax = Syntax::Extended,
        'i' => o.case_insensitive = true,
        'm' | 'n' => (o.newline_stop, o.newline_anchor) = (true, true),
        'p' => (o.newline_stop, o.newline_anchor) = (true, false),
        'q' => o.syntax = Syntax::Quote,
        's' => (o.newline_stop, o.newline_anchor) = (false, false),
        't' => o.expanded = false,
        'w' => (o.newline_stop, o.newline_anchor) = (false, true),
        'x' => o.expanded = true,
        _ => return false,
    }
    true
}

/// A compiled pattern: the `regex` crate's form (leftmost-first search,
/// captures) and, built on first use, a matcher for the longest match at
/// a position, which PostgreSQL's matches are.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// The compiled translation.
    pub(crate) re: Regex,
    /// The translation, in the `regex` crate's syntax.
    translated: String,
    /// The options it was compiled with.
    options: Options,
    /// The pattern has an alternation (`|`) outside brackets.
    pub(crate) alternation: bool,
    /// The pattern has a non-greedy quantifier (`*?`, `+?`, `??`, `{m,n}?`).
    pub(crate) non_greedy: bool,
    /// The longest-match matcher.
    longest: OnceLock<Result<PikeVM, EvalError>>,
}

impl Pattern {
    /// The end of the longest match starting at byte `start` of `hay`.
    pub(crate) fn longest_end(&self, hay: &str, start: usize) -> Result<Option<usize>, EvalError> {
        let vm = self
            .longest
            .get_or_init(|| {
                PikeVM::builder()
                    .syntax(syntax_config(self.options))
                    .thompson(thompson::Config::new().nfa_size_limit(Some(1 << 24)))
                    .configure(PikeVM::config().match_kind(MatchKind::All))
                    .build(&self.translated)
                    .map_err(|_| invalid("regular expression is too complex"))
            })
            .as_ref()
            .map_err(Clone::clone)?;
        let mut cache = vm.create_cache();
        let input = Input::new(hay).range(start..).anchored(Anchored::Yes);
        Ok(vm.find(&mut cache, input).map(|m| m.end()))
    }
}

/// The `regex-automata` syntax options equal to [`compile`]'s builder's.
fn syntax_config(o: Options) -> syntax::Config {
    syntax::Config::new()
        .case_insensitive(o.case_insensitive)
        .dot_matches_new_line(!o.newline_stop)
        .multi_line(o.newline_anchor)
}

/// How many patterns besides an expression's first each thread keeps.
const RECENT_PATTERNS: usize = 32;

thread_local! {
    static RECENT: RefCell<Vec<Compiled>> = const { RefCell::new(Vec::new()) };
}

impl RegexCache {
    /// The compiled form of `pattern` read with `options`.
    pub(crate) fn get(&self, pattern: &str, options: Options) -> Result<Arc<Pattern>, EvalError> {
        let first = self.0.get_or_init(|| (Arc::from(pattern), options, compile(pattern, options).map(Arc::new)));
        if &*first.0 == pattern && first.1 == options {
            return first.2.clone();
        }
        RECENT.with(|recent| {
            let mut recent = recent.borrow_mut();
            if let Some(i) = recent.iter().position(|(p, o, _)| *o == options && &**p == pattern) {
                let entry = recent.remove(i);
                let result = entry.2.clone();
                recent.push(entry);
                return result;
            }
            let compiled = compile(pattern, options).map(Arc::new);
            if recent.len() >= RECENT_PATTERNS {
                drop(recent.remove(0));
            }
            recent.push((Arc::from(pattern), options, compiled.clone()));
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
    let options = Options { case_insensitive, ..Options::default() };
    let re = cache.get(text_arg(p)?, options)?;
    Ok(Value::Bool(re.re.is_match(text_arg(s)?)))
}

pub(crate) fn invalid(what: &str) -> EvalError {
    EvalError::Other(format!("invalid regular expression: {what}"))
}

/// Compiles a PostgreSQL pattern read with `options` (and its own
/// embedded options).
pub(crate) fn compile(pattern: &str, options: Options) -> Result<Pattern, EvalError> {
    let mut o = options;
    let body = prefixes(pattern, &mut o)?;
    let t = match o.syntax {
        Syntax::Advanced => translate(body, o)?,
        Syntax::Quote => Translated { text: regex::escape(body), alternation: false, non_greedy: false },
        Syntax::Basic => {
            return Err(EvalError::Other("basic regular expressions (option \"b\") are not supported".into()))
        }
        Syntax::Extended => {
            return Err(EvalError::Other("extended regular expressions (option \"e\") are not supported".into()))
        }
    };
    let re = RegexBuilder::new(&t.text)
        .case_insensitive(o.case_insensitive)
        .dot_matches_new_line(!o.newline_stop)
        .multi_line(o.newline_anchor)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| invalid(&postgres_wording(&e.to_string())))?;
    Ok(Pattern {
        re,
        translated: t.text,
        options: o,
        alternation: t.alternation,
        non_greedy: t.non_greedy,
        longest: OnceLock::new(),
    })
}

/// PostgreSQL's pattern prefixes: the directors `***=` (the rest is a
/// literal string) and `***:` (the rest is an ARE), then embedded options
/// `(?letters)`, which update `o`. Returns the rest of the pattern.
fn prefixes<'p>(pattern: &'p str, o: &mut Options) -> Result<&'p str, EvalError> {
    if o.syntax != Syntax::Advanced {
        return Ok(pattern);
    }
    let mut rest = pattern;
    if let Some(r) = rest.strip_prefix("***=") {
        o.syntax = Syntax::Quote;
        return Ok(r);
    }
    if let Some(r) = rest.strip_prefix("***:") {
        rest = r;
    }
    if let Some(r) = rest.strip_prefix("(?") {
        if r.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let letters = r.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(r.len());
            for c in r[..letters].chars() {
                if !set_option(o, c) || c == 'g' {
                    return Err(invalid("invalid embedded option"));
                }
            }
            let Some(after) = r[letters..].strip_prefix(')') else { return Err(invalid("invalid embedded option")) };
            if o.syntax == Syntax::Quote {
                o.expanded = false;
                (o.newline_stop, o.newline_anchor) = (false, false);
            }
            rest = after;
        }
    }
    Ok(rest)
}

/// A pattern in the `regex` crate's syntax and what translation saw.
struct Translated {
    text: String,
    alternation: bool,
    non_greedy: bool,
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
fn translate(p: &str, o: Options) -> Result<Translated, EvalError> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let (mut alternation, mut non_greedy) = (false, false);
    let mut i = 0;
    let mut in_class = false;
    // Position just after a class's `[` or `[^`, where `]` is literal.
    let mut class_start = 0;
    // After a quantifier: 1; after a quantifier and its `?`: 2.
    let mut quantified = 0u8;
    while i < chars.len() {
        let c = chars[i];
        if !in_class && o.expanded && (c.is_whitespace() || c == '#') {
            i += 1;
            if c == '#' {
                while i < chars.len() && chars[i - 1] != '\n' {
                    i += 1;
                }
            }
            continue;
        }
        if !in_class {
            let is_quantifier =
                matches!(c, '*' | '+' | '?') || (c == '{' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()));
            if is_quantifier {
                match (quantified, c) {
                    (0, _) => quantified = 1,
                    (1, '?') => {
                        quantified = 2;
                        non_greedy = true;
                    }
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
                _ if e.is_whitespace() || e == '#' => out.push_str(&format!("\\x{{{:X}}}", e as u32)),
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
                ']' => {
                    out.push_str("\\]");
                    i += 1;
                    continue;
                }
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
                    if o.newline_stop {
                        out.push_str("\\n");
                    }
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
            // Embedded options lead the pattern only.
            '(' if chars.get(i + 1) == Some(&'?') && chars.get(i + 2) != Some(&':') => {
                return Err(invalid("quantifier operand invalid"));
            }
            '|' => alternation = true,
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
    Ok(Translated { text: out, alternation, non_greedy })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str, p: &str) -> Result<bool, EvalError> {
        Ok(compile(p, Options::default())?.re.is_match(s))
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
        let err = |p: &str| compile(p, Options::default()).err().map(|e| e.to_string());
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
        let a = cache.get("a+", Options::default()).map(|r| Arc::as_ptr(&r));
        let b = cache.get("a+", Options::default()).map(|r| Arc::as_ptr(&r));
        assert_eq!(a, b);
        assert_eq!(apply(false, &cache, &[Value::text("xyz"), Value::text("y")]), Ok(Value::Bool(true)));
        let ci = RegexCache::default();
        assert_eq!(apply(true, &ci, &[Value::text("XYZ"), Value::text("y")]), Ok(Value::Bool(true)));
    }
}
