//! Named scalar functions ([`ScalarFunc`]): the string, numeric, date/time
//! and regular-expression functions PostgreSQL provides, called as
//! `Expr::Variadic { func: VariadicFunc::Call(f), args }`.
//!
//! The front end resolves each call to one of PostgreSQL's signatures and
//! casts the arguments to it, so evaluation dispatches on the values'
//! variants only (`round(float8)` and `round(numeric)` are both
//! [`ScalarFunc::Round`]). Every function is strict (a NULL argument gives
//! NULL) except `concat`, `concat_ws` (NULL arguments are skipped),
//! `greatest` and `least` (NULLs ignored). All arguments are evaluated,
//! left to right, before the function runs, as in PostgreSQL.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::func_regex::RegexCache;
use super::func_regexp::RegexpFunc;
use super::{func_datetime, func_numeric, func_regex, func_regexp, func_string, to_char, EvalError, Expr};
use crate::value::Value;

/// A named scalar function or a function-like operator.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScalarFunc {
    /// `upper(text)`: ASCII letters upper-cased (PostgreSQL under the `C`
    /// locale).
    Upper,
    /// `lower(text)`: ASCII letters lower-cased.
    Lower,
    /// `initcap(text)`: first letter of each alphanumeric run upper-cased,
    /// the rest lower-cased (ASCII).
    Initcap,
    /// `length(text)` / `char_length`: characters.
    CharLength,
    /// `octet_length(text | bytea)`, `length(bytea)`: bytes.
    OctetLength,
    /// `substring(s, from [, for])` / `substr`: 1-based, in characters.
    Substring,
    /// `strpos(s, sub)` / `position(sub IN s)`: 1-based character position,
    /// 0 when absent.
    Strpos,
    /// `btrim(s [, chars])`: removes characters of `chars` (a space by
    /// default) from both ends.
    Btrim,
    /// `ltrim(s [, chars])`.
    Ltrim,
    /// `rtrim(s [, chars])`.
    Rtrim,
    /// `replace(s, from, to)`.
    Replace,
    /// `split_part(s, delimiter, n)` (negative `n` counts from the end).
    SplitPart,
    /// `left(s, n)`.
    Left,
    /// `right(s, n)`.
    Right,
    /// `lpad(s, len [, fill])`.
    Lpad,
    /// `rpad(s, len [, fill])`.
    Rpad,
    /// `concat(a, ...)`: the text of every non-NULL argument.
    Concat,
    /// `concat_ws(sep, a, ...)`.
    ConcatWs,
    /// `reverse(s)`.
    Reverse,
    /// `repeat(s, n)`.
    Repeat,
    /// `starts_with(s, prefix)`.
    StartsWith,
    /// `ascii(s)`: the first character's code point (0 for `''`).
    Ascii,
    /// `chr(n)`.
    Chr,
    /// `md5(text | bytea)`: lower-case hex digest.
    Md5,
    /// `overlay(s placing r from start [for len])`: `s` with `len`
    /// characters (the length of `r` by default) from `start` replaced by
    /// `r`.
    Overlay,
    /// `s ~ pattern` (`~*` when `case_insensitive`); the compiled pattern
    /// is cached in the expression.
    RegexMatch {
        /// `~*`.
        case_insensitive: bool,
        /// The last compiled pattern (not part of the expression's value).
        cache: RegexCache,
    },
    /// `regexp_replace`, `regexp_match`, `regexp_count`, `regexp_like`;
    /// the compiled pattern is cached in the expression.
    Regexp {
        /// Which function.
        func: RegexpFunc,
        /// The last compiled pattern (not part of the expression's value).
        cache: RegexCache,
    },
    /// `abs(x)`.
    Abs,
    /// `round(float8)` (half to even), `round(numeric [, n])` (half away
    /// from zero).
    Round,
    /// `trunc(float8)`, `trunc(numeric [, n])`.
    Trunc,
    /// `ceil(x)` / `ceiling`.
    Ceil,
    /// `floor(x)`.
    Floor,
    /// `sign(x)`.
    Sign,
    /// `div(numeric, numeric)`: the truncated quotient.
    Div,
    /// `power(x, y)` / `pow`.
    Power,
    /// `sqrt(x)`.
    Sqrt,
    /// `exp(x)`.
    Exp,
    /// `ln(x)`.
    Ln,
    /// `log(x)` / `log10(x)`: base 10.
    Log10,
    /// `log(b, x)` (numeric): logarithm of `x` to base `b`.
    Log,
    /// `greatest(a, ...)`: the largest non-NULL argument.
    Greatest,
    /// `least(a, ...)`: the smallest non-NULL argument.
    Least,
    /// `EXTRACT(field FROM x)`: numeric.
    Extract,
    /// `date_part(field, x)`: double precision.
    DatePart,
    /// `date_trunc(field, x)`.
    DateTrunc,
    /// `age(a, b)`: symbolic difference in years, months and days.
    Age,
    /// `to_char(x, format)` for timestamps, intervals and numbers.
    ToChar,
}

impl ScalarFunc {
    /// The SQL name, as `EXPLAIN` shows the call.
    pub fn name(&self) -> &'static str {
        use ScalarFunc as F;
        match self {
            F::Upper => "upper",
            F::Lower => "lower",
            F::Initcap => "initcap",
            F::CharLength => "length",
            F::OctetLength => "octet_length",
            F::Substring => "substring",
            F::Strpos => "strpos",
            F::Btrim => "btrim",
            F::Ltrim => "ltrim",
            F::Rtrim => "rtrim",
            F::Replace => "replace",
            F::SplitPart => "split_part",
            F::Left => "left",
            F::Right => "right",
            F::Lpad => "lpad",
            F::Rpad => "rpad",
            F::Concat => "concat",
            F::ConcatWs => "concat_ws",
            F::Reverse => "reverse",
            F::Repeat => "repeat",
            F::StartsWith => "starts_with",
            F::Ascii => "ascii",
            F::Chr => "chr",
            F::Md5 => "md5",
            F::Overlay => "overlay",
            F::Regexp { func, .. } => func.name(),
            F::RegexMatch { case_insensitive: false, .. } => "~",
            F::RegexMatch { case_insensitive: true, .. } => "~*",
            F::Abs => "abs",
            F::Round => "round",
            F::Trunc => "trunc",
            F::Ceil => "ceil",
            F::Floor => "floor",
            F::Sign => "sign",
            F::Div => "div",
            F::Power => "power",
            F::Sqrt => "sqrt",
            F::Exp => "exp",
            F::Ln => "ln",
            F::Log10 => "log10",
            F::Log => "log",
            F::Greatest => "greatest",
            F::Least => "least",
            F::Extract => "extract",
            F::DatePart => "date_part",
            F::DateTrunc => "date_trunc",
            F::Age => "age",
            F::ToChar => "to_char",
        }
    }

    /// `~` or `~*` over a pattern compiled at most once per expression.
    pub fn regex_match(case_insensitive: bool) -> ScalarFunc {
        ScalarFunc::RegexMatch { case_insensitive, cache: RegexCache::default() }
    }

    /// A regular-expression function over a pattern compiled at most once
    /// per expression.
    pub fn regexp(func: RegexpFunc) -> ScalarFunc {
        ScalarFunc::Regexp { func, cache: RegexCache::default() }
    }

    /// True for the functions whose NULL arguments do not make the result
    /// NULL (`concat`, `concat_ws`, `greatest`, `least`).
    fn is_strict(&self) -> bool {
        !matches!(self, ScalarFunc::Concat | ScalarFunc::ConcatWs | ScalarFunc::Greatest | ScalarFunc::Least)
    }

    /// Evaluates the call over `row`: every argument first, then the
    /// function.
    pub(crate) fn eval(&self, args: &[Expr], row: &[Value]) -> Result<Value, EvalError> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(a.eval(row)?);
        }
        self.apply(&vals)
    }

    /// Applies the function to evaluated arguments.
    pub fn apply(&self, args: &[Value]) -> Result<Value, EvalError> {
        if self.is_strict() && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        use ScalarFunc as F;
        match self {
            F::Upper
            | F::Lower
            | F::Initcap
            | F::CharLength
            | F::OctetLength
            | F::Substring
            | F::Strpos
            | F::Btrim
            | F::Ltrim
            | F::Rtrim
            | F::Replace
            | F::SplitPart
            | F::Left
            | F::Right
            | F::Lpad
            | F::Rpad
            | F::Concat
            | F::ConcatWs
            | F::Reverse
            | F::Repeat
            | F::StartsWith
            | F::Ascii
            | F::Chr
            | F::Md5
            | F::Overlay => func_string::apply(self, args),
            F::RegexMatch { case_insensitive, cache } => func_regex::apply(*case_insensitive, cache, args),
            F::Regexp { func, cache } => func_regexp::apply(*func, cache, args),
            F::Abs
            | F::Round
            | F::Trunc
            | F::Ceil
            | F::Floor
            | F::Sign
            | F::Div
            | F::Power
            | F::Sqrt
            | F::Exp
            | F::Ln
            | F::Log10
            | F::Log
            | F::Greatest
            | F::Least => func_numeric::apply(self, args),
            F::Extract | F::DatePart | F::DateTrunc | F::Age => func_datetime::apply(self, args),
            F::ToChar => to_char::apply(args),
        }
    }

    /// Whether evaluating the call can fail although its arguments do not
    /// (the optimiser never moves such a call to rows it would not have
    /// seen). Conservative: true unless the function cannot fail on any
    /// argument values (given the literal arguments it has).
    pub fn can_error(&self, args: &[Expr]) -> bool {
        use ScalarFunc as F;
        let lit_text = |i: usize| match args.get(i) {
            Some(Expr::Literal(Value::Text(s))) => Some(s.clone()),
            _ => None,
        };
        match self {
            F::Upper
            | F::Lower
            | F::Initcap
            | F::CharLength
            | F::OctetLength
            | F::Strpos
            | F::Btrim
            | F::Ltrim
            | F::Rtrim
            | F::Replace
            | F::Left
            | F::Right
            | F::Concat
            | F::ConcatWs
            | F::Reverse
            | F::StartsWith
            | F::Ascii
            | F::Md5 => false,
            // A negative length is an error.
            F::Substring => {
                !matches!(args.get(2), None | Some(Expr::Literal(Value::Null)))
                    && !matches!(args.get(2), Some(Expr::Literal(Value::Int4(n))) if *n >= 0)
            }
            // Field 0 is an error.
            F::SplitPart => !matches!(args.get(2), Some(Expr::Literal(Value::Int4(n))) if *n != 0),
            // A start before the first character and an overflowing end are
            // errors.
            F::Lpad | F::Rpad | F::Repeat | F::Chr | F::Overlay => true,
            // The flags, the start and `n` can be invalid, the pattern
            // unsupported.
            F::Regexp { .. } => true,
            F::RegexMatch { case_insensitive, .. } => match args.get(1) {
                Some(Expr::Literal(Value::Text(p))) => {
                    let options = func_regex::Options { case_insensitive: *case_insensitive, ..Default::default() };
                    func_regex::compile(p, options).is_err()
                }
                Some(Expr::Literal(Value::Null)) => false,
                _ => true,
            },
            // Integer abs can overflow.
            F::Abs => true,
            F::Round | F::Trunc | F::Ceil | F::Floor | F::Sign | F::Greatest | F::Least => false,
            F::Div | F::Power | F::Sqrt | F::Exp | F::Ln | F::Log10 | F::Log => true,
            F::Extract | F::DatePart => match lit_text(0) {
                Some(field) => !func_datetime::field_never_fails(&field),
                None => true,
            },
            F::DateTrunc | F::Age | F::ToChar => true,
        }
    }

    /// Whether the call can be NULL although no argument is (`EXTRACT` and
    /// `date_part` of fields an infinite timestamp has no value for).
    pub fn can_introduce_null(&self) -> bool {
        matches!(self, ScalarFunc::Extract | ScalarFunc::DatePart)
    }

    /// False for the functions that can tell apart values SQL comparison
    /// deems equal (`extract(day from interval '1 mon')` is 0, from
    /// `interval '30 days'` 30); grouping and duplicate elimination merge
    /// such values, so these calls must not be moved across them.
    pub fn is_representation_blind(&self) -> bool {
        !matches!(self, ScalarFunc::Extract | ScalarFunc::DatePart | ScalarFunc::DateTrunc | ScalarFunc::ToChar)
    }

    /// Writes the call as `EXPLAIN` shows it: `name(a, b)`,
    /// `extract(year from #0)`, `(#0 ~ 'a.c')`.
    pub fn fmt_call(&self, args: &[Expr], f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, args) {
            (ScalarFunc::RegexMatch { .. }, [s, p]) => return write!(f, "({s} {} {p})", self.name()),
            (ScalarFunc::Extract, [Expr::Literal(Value::Text(field)), x]) => {
                return write!(f, "extract({field} from {x})");
            }
            _ => {}
        }
        write!(f, "{}(", self.name())?;
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_str(")")
    }
}

/// The text of a string argument (the front end casts arguments, so a
/// string parameter always holds text).
pub(crate) fn text_arg(v: &Value) -> Result<&str, EvalError> {
    match v {
        Value::Text(s) => Ok(s),
        other => Err(EvalError::Other(format!("expected a text argument, got {}", other.natural_type()))),
    }
}

/// An `integer` argument.
pub(crate) fn int_arg(v: &Value) -> Result<i64, EvalError> {
    match v {
        Value::Int2(x) => Ok(*x as i64),
        Value::Int4(x) => Ok(*x as i64),
        Value::Int8(x) => Ok(*x),
        other => Err(EvalError::Other(format!("expected an integer argument, got {}", other.natural_type()))),
    }
}

/// An argument count a function was not built for.
pub(crate) fn bad_arity(f: &ScalarFunc, n: usize) -> EvalError {
    EvalError::Other(format!("{} does not take {n} arguments", f.name()))
}
