//! Evaluation of [`Expr`](super::Expr) with PostgreSQL semantics.
//!
//! Operands normally arrive with the types PostgreSQL's operator
//! resolution chose (the front end inserts casts). Mixed numeric operands
//! are still handled by promotion (integer → wider integer → numeric →
//! float8), so evaluation never silently compares by variant.

use std::cmp::Ordering;
use std::sync::Arc;

use super::{BinaryFunc, EvalError, Expr, UnaryFunc, VariadicFunc};
use crate::value::{DataType, Numeric, Timestamp, Value, F64};

impl Expr {
    /// Evaluates the expression over `row`. Only the taken branch of an
    /// `If` and the arguments of `COALESCE` up to the first non-NULL one are
    /// evaluated; `AND` / `OR` stop at the first FALSE / TRUE argument.
    pub fn eval(&self, row: &[Value]) -> Result<Value, EvalError> {
        match self {
            Expr::Column(c) => {
                row.get(*c).cloned().ok_or_else(|| EvalError::Other(format!("column #{c} out of range for a row of {}", row.len())))
            }
            Expr::Literal(v) => Ok(v.clone()),
            Expr::Unary { func, arg } => eval_unary(func, arg.eval(row)?),
            Expr::Binary { func, left, right } => {
                let l = left.eval(row)?;
                let r = right.eval(row)?;
                eval_binary(func, l, r)
            }
            Expr::Variadic { func, args } => match func {
                VariadicFunc::And => eval_bool_chain(args, row, false),
                VariadicFunc::Or => eval_bool_chain(args, row, true),
                VariadicFunc::Coalesce => {
                    for a in args {
                        let v = a.eval(row)?;
                        if !v.is_null() {
                            return Ok(v);
                        }
                    }
                    Ok(Value::Null)
                }
                VariadicFunc::Call(f) => f.eval(args, row),
                VariadicFunc::Record => {
                    Ok(Value::Array(args.iter().map(|a| a.eval(row)).collect::<Result<Arc<[Value]>, _>>()?))
                }
            },
            Expr::If { cond, then, els } => {
                if cond.eval_predicate(row)? {
                    then.eval(row)
                } else {
                    els.eval(row)
                }
            }
        }
    }

    /// True only if the expression evaluates to TRUE (FALSE and NULL are
    /// both "not selected", as in `WHERE`).
    pub fn eval_predicate(&self, row: &[Value]) -> Result<bool, EvalError> {
        Ok(matches!(self.eval(row)?, Value::Bool(true)))
    }
}

/// AND (`decisive = false`) / OR (`decisive = true`): the decisive value
/// wins over NULL; NULL wins over the other value.
fn eval_bool_chain(args: &[Expr], row: &[Value], decisive: bool) -> Result<Value, EvalError> {
    let mut saw_null = false;
    for a in args {
        match a.eval(row)? {
            Value::Bool(b) if b == decisive => return Ok(Value::Bool(decisive)),
            Value::Bool(_) => {}
            Value::Null => saw_null = true,
            v => {
                let op = if decisive { "OR" } else { "AND" };
                return Err(EvalError::Other(format!("argument of {op} must be type boolean, not type {}", type_name(&v))));
            }
        }
    }
    Ok(if saw_null { Value::Null } else { Value::Bool(!decisive) })
}

fn type_name(v: &Value) -> DataType {
    v.natural_type()
}

fn eval_unary(func: &UnaryFunc, v: Value) -> Result<Value, EvalError> {
    let truth = |v: &Value| match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(EvalError::Other(format!("argument of IS TRUE must be type boolean, not type {}", type_name(other)))),
    };
    match func {
        UnaryFunc::Not => match v {
            Value::Null => Ok(Value::Null),
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Err(EvalError::Other(format!("argument of NOT must be type boolean, not type {}", type_name(&other)))),
        },
        UnaryFunc::IsNull => Ok(Value::Bool(v.is_null())),
        UnaryFunc::IsNotNull => Ok(Value::Bool(!v.is_null())),
        UnaryFunc::IsTrue => Ok(Value::Bool(truth(&v)? == Some(true))),
        UnaryFunc::IsFalse => Ok(Value::Bool(truth(&v)? == Some(false))),
        UnaryFunc::IsNotTrue => Ok(Value::Bool(truth(&v)? != Some(true))),
        UnaryFunc::IsNotFalse => Ok(Value::Bool(truth(&v)? != Some(false))),
        UnaryFunc::Neg => negate(v),
        UnaryFunc::Cast(ty) => v.cast(*ty),
        UnaryFunc::AssignCast(ty) => v.assign_cast(*ty),
        UnaryFunc::CharToText => match v {
            Value::Text(s) => {
                let t = s.trim_end_matches(' ');
                Ok(if t.len() == s.len() { Value::Text(s) } else { Value::Text(Arc::from(t)) })
            }
            other => other.cast(DataType::Text),
        },
        UnaryFunc::KeyNormalize => Ok(v.key_normalized()),
    }
}

fn negate(v: Value) -> Result<Value, EvalError> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int2(x) => Value::Int2(x.checked_neg().ok_or_else(|| EvalError::OutOfRange("smallint".into()))?),
        Value::Int4(x) => Value::Int4(x.checked_neg().ok_or_else(|| EvalError::OutOfRange("integer".into()))?),
        Value::Int8(x) => Value::Int8(x.checked_neg().ok_or_else(|| EvalError::OutOfRange("bigint".into()))?),
        Value::Numeric(n) => Value::Numeric(n.neg()),
        Value::Float8(f) => Value::Float8(F64(-f.0)),
        Value::Interval(i) => Value::Interval(i.neg()?),
        other => return Err(EvalError::Other(format!("operator does not exist: - {}", type_name(&other)))),
    })
}

/// Numeric-family operands brought to one representation.
enum Num {
    Int(i64, DataType),
    Dec(Numeric),
    Float(f64),
}

fn as_num(v: &Value) -> Option<Num> {
    Some(match v {
        Value::Int2(x) => Num::Int(*x as i64, DataType::Int2),
        Value::Int4(x) => Num::Int(*x as i64, DataType::Int4),
        Value::Int8(x) => Num::Int(*x, DataType::Int8),
        Value::Numeric(n) => Num::Dec(n.clone()),
        Value::Float8(f) => Num::Float(f.0),
        _ => return None,
    })
}

fn int_rank(t: DataType) -> u8 {
    match t {
        DataType::Int2 => 0,
        DataType::Int4 => 1,
        _ => 2,
    }
}

fn to_numeric(n: Num) -> Numeric {
    match n {
        Num::Int(v, _) => Numeric::from(v),
        Num::Dec(d) => d,
        Num::Float(f) => Numeric::from_f64(f),
    }
}

fn to_float(n: Num) -> Result<f64, EvalError> {
    Ok(match n {
        Num::Int(v, _) => v as f64,
        Num::Dec(d) => d.to_f64()?,
        Num::Float(f) => f,
    })
}

fn int_result(v: Option<i64>, ty: DataType) -> Result<Value, EvalError> {
    let err = || crate::value::cast::int_out_of_range(ty);
    let v = v.ok_or_else(err)?;
    Ok(match ty {
        DataType::Int2 => Value::Int2(i16::try_from(v).map_err(|_| err())?),
        DataType::Int4 => Value::Int4(i32::try_from(v).map_err(|_| err())?),
        _ => Value::Int8(v),
    })
}

fn float_overflow() -> EvalError {
    EvalError::Overflow("value out of range: overflow".into())
}

fn float_underflow() -> EvalError {
    EvalError::Overflow("value out of range: underflow".into())
}

fn float_arith(func: &BinaryFunc, a: f64, b: f64) -> Result<Value, EvalError> {
    let r = match func {
        BinaryFunc::Add => a + b,
        BinaryFunc::Sub => a - b,
        BinaryFunc::Mul => {
            let r = a * b;
            if r == 0.0 && a != 0.0 && b != 0.0 {
                return Err(float_underflow());
            }
            r
        }
        BinaryFunc::Div => {
            if b == 0.0 && !a.is_nan() {
                return Err(EvalError::DivisionByZero);
            }
            let r = a / b;
            if r == 0.0 && a != 0.0 && !b.is_infinite() {
                return Err(float_underflow());
            }
            r
        }
        _ => {
            return Err(EvalError::Other(format!(
                "operator does not exist: double precision {} double precision",
                op_symbol(func)
            )))
        }
    };
    if r.is_infinite() && !a.is_infinite() && !b.is_infinite() {
        return Err(float_overflow());
    }
    Ok(Value::Float8(F64(r)))
}

fn op_symbol(func: &BinaryFunc) -> &'static str {
    match func {
        BinaryFunc::Add => "+",
        BinaryFunc::Sub => "-",
        BinaryFunc::Mul => "*",
        BinaryFunc::Div => "/",
        BinaryFunc::Mod => "%",
        BinaryFunc::Concat => "||",
        _ => "?",
    }
}

fn numeric_family_arith(func: &BinaryFunc, a: Num, b: Num) -> Result<Value, EvalError> {
    match (a, b) {
        (Num::Int(x, tx), Num::Int(y, ty)) => {
            let t = if int_rank(tx) >= int_rank(ty) { tx } else { ty };
            let r = match func {
                BinaryFunc::Add => x.checked_add(y),
                BinaryFunc::Sub => x.checked_sub(y),
                BinaryFunc::Mul => x.checked_mul(y),
                BinaryFunc::Div => {
                    if y == 0 {
                        return Err(EvalError::DivisionByZero);
                    }
                    x.checked_div(y)
                }
                BinaryFunc::Mod => {
                    if y == 0 {
                        return Err(EvalError::DivisionByZero);
                    }
                    // i64::MIN % -1 is 0 in PostgreSQL, not an overflow.
                    Some(if y == -1 { 0 } else { x % y })
                }
                _ => unreachable!("arithmetic operators only"),
            };
            int_result(r, t)
        }
        (a @ Num::Float(_), b) | (a, b @ Num::Float(_)) => float_arith(func, to_float(a)?, to_float(b)?),
        (a, b) => {
            let (x, y) = (to_numeric(a), to_numeric(b));
            Ok(Value::Numeric(match func {
                BinaryFunc::Add => x.add(&y)?,
                BinaryFunc::Sub => x.sub(&y)?,
                BinaryFunc::Mul => x.mul(&y)?,
                BinaryFunc::Div => x.div(&y)?,
                BinaryFunc::Mod => x.rem(&y)?,
                _ => unreachable!("arithmetic operators only"),
            }))
        }
    }
}

fn no_operator(func: &BinaryFunc, l: &Value, r: &Value) -> EvalError {
    EvalError::Other(format!("operator does not exist: {} {} {}", type_name(l), op_symbol(func), type_name(r)))
}

fn day_count(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(x) => Some(*x as i64),
        Value::Int4(x) => Some(*x as i64),
        Value::Int8(x) => Some(*x),
        _ => None,
    }
}

fn arith(func: &BinaryFunc, l: Value, r: Value) -> Result<Value, EvalError> {
    if l.is_null() || r.is_null() {
        return Ok(Value::Null);
    }
    if let (Some(a), Some(b)) = (as_num(&l), as_num(&r)) {
        return numeric_family_arith(func, a, b);
    }
    use BinaryFunc::{Add, Div, Mul, Sub};
    let ts = |t: Timestamp, tz: bool| if tz { Value::TimestampTz(t) } else { Value::Timestamp(t) };
    match (func, &l, &r) {
        (Add, Value::Date(d), n) | (Add, n, Value::Date(d)) if day_count(n).is_some() => {
            Ok(Value::Date(d.add_days(day_count(n).unwrap_or(0))?))
        }
        (Sub, Value::Date(d), n) if day_count(n).is_some() => Ok(Value::Date(d.add_days(-day_count(n).unwrap_or(0))?)),
        (Sub, Value::Date(a), Value::Date(b)) => Ok(Value::Int4(a.days_between(*b)?)),
        (Add, Value::Date(d), Value::Interval(i)) | (Add, Value::Interval(i), Value::Date(d)) => {
            Ok(Value::Timestamp(d.to_timestamp()?.add_interval(i)?))
        }
        (Sub, Value::Date(d), Value::Interval(i)) => Ok(Value::Timestamp(d.to_timestamp()?.sub_interval(i)?)),
        (Add, Value::Timestamp(t), Value::Interval(i)) | (Add, Value::Interval(i), Value::Timestamp(t)) => {
            Ok(ts(t.add_interval(i)?, false))
        }
        (Add, Value::TimestampTz(t), Value::Interval(i)) | (Add, Value::Interval(i), Value::TimestampTz(t)) => {
            Ok(ts(t.add_interval(i)?, true))
        }
        (Sub, Value::Timestamp(t), Value::Interval(i)) => Ok(ts(t.sub_interval(i)?, false)),
        (Sub, Value::TimestampTz(t), Value::Interval(i)) => Ok(ts(t.sub_interval(i)?, true)),
        (Sub, Value::Timestamp(a) | Value::TimestampTz(a), Value::Timestamp(b) | Value::TimestampTz(b)) => {
            Ok(Value::Interval(a.diff(*b)?))
        }
        (Sub, Value::Date(a), Value::Timestamp(b) | Value::TimestampTz(b)) => Ok(Value::Interval(a.to_timestamp()?.diff(*b)?)),
        (Sub, Value::Timestamp(a) | Value::TimestampTz(a), Value::Date(b)) => Ok(Value::Interval(a.diff(b.to_timestamp()?)?)),
        (Add, Value::Interval(a), Value::Interval(b)) => Ok(Value::Interval(a.add(b)?)),
        (Sub, Value::Interval(a), Value::Interval(b)) => Ok(Value::Interval(a.sub(b)?)),
        (Mul, Value::Interval(i), n) | (Mul, n, Value::Interval(i)) if as_num(n).is_some() => {
            let f = to_float(as_num(n).expect("checked numeric"))?;
            Ok(Value::Interval(i.mul_f64(f)?))
        }
        (Div, Value::Interval(i), n) if as_num(n).is_some() => {
            let f = to_float(as_num(n).expect("checked numeric"))?;
            Ok(Value::Interval(i.div_f64(f)?))
        }
        _ => Err(no_operator(func, &l, &r)),
    }
}

/// SQL comparison with promotion across numeric types and between date and
/// timestamps; `None` if either side is NULL.
pub(crate) fn compare(l: &Value, r: &Value) -> Result<Option<Ordering>, EvalError> {
    if l.is_null() || r.is_null() {
        return Ok(None);
    }
    if std::mem::discriminant(l) == std::mem::discriminant(r) {
        return Ok(l.sql_cmp(r));
    }
    if let (Some(a), Some(b)) = (as_num(l), as_num(r)) {
        return Ok(Some(match (a, b) {
            (Num::Int(x, _), Num::Int(y, _)) => x.cmp(&y),
            (a @ Num::Float(_), b) | (a, b @ Num::Float(_)) => F64(to_float(a)?).sql_cmp(&F64(to_float(b)?)),
            (a, b) => to_numeric(a).cmp_value(&to_numeric(b)),
        }));
    }
    let instant = |v: &Value| -> Result<Option<Timestamp>, EvalError> {
        Ok(match v {
            Value::Date(d) => Some(d.to_timestamp().unwrap_or(if d.0 < 0 { Timestamp::NEG_INFINITY } else { Timestamp::INFINITY })),
            Value::Timestamp(t) | Value::TimestampTz(t) => Some(*t),
            _ => None,
        })
    };
    if let (Some(a), Some(b)) = (instant(l)?, instant(r)?) {
        return Ok(Some(a.cmp(&b)));
    }
    Ok(l.sql_cmp(r))
}

fn to_text(v: &Value) -> Result<Arc<str>, EvalError> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        other => match other.cast(DataType::Text)? {
            Value::Text(s) => Ok(s),
            _ => unreachable!("cast to text yields text"),
        },
    }
}

fn eval_binary(func: &BinaryFunc, l: Value, r: Value) -> Result<Value, EvalError> {
    let cmp = |test: fn(Ordering) -> bool| -> Result<Value, EvalError> {
        Ok(match compare(&l, &r)? {
            None => Value::Null,
            Some(o) => Value::Bool(test(o)),
        })
    };
    match func {
        BinaryFunc::Add | BinaryFunc::Sub | BinaryFunc::Mul | BinaryFunc::Div | BinaryFunc::Mod => arith(func, l, r),
        BinaryFunc::Eq => cmp(|o| o == Ordering::Equal),
        BinaryFunc::NotEq => cmp(|o| o != Ordering::Equal),
        BinaryFunc::Lt => cmp(|o| o == Ordering::Less),
        BinaryFunc::Lte => cmp(|o| o != Ordering::Greater),
        BinaryFunc::Gt => cmp(|o| o == Ordering::Greater),
        BinaryFunc::Gte => cmp(|o| o != Ordering::Less),
        BinaryFunc::IsDistinctFrom | BinaryFunc::IsNotDistinctFrom => {
            let same = match (l.is_null(), r.is_null()) {
                (true, true) => true,
                (true, false) | (false, true) => false,
                (false, false) => compare(&l, &r)? == Some(Ordering::Equal),
            };
            Ok(Value::Bool(same == matches!(func, BinaryFunc::IsNotDistinctFrom)))
        }
        BinaryFunc::Concat => {
            if l.is_null() || r.is_null() {
                return Ok(Value::Null);
            }
            if let (Value::Bytea(a), Value::Bytea(b)) = (&l, &r) {
                let mut v = Vec::with_capacity(a.len() + b.len());
                v.extend_from_slice(a);
                v.extend_from_slice(b);
                return Ok(Value::Bytea(Arc::from(v)));
            }
            let (a, b) = (to_text(&l)?, to_text(&r)?);
            let mut s = String::with_capacity(a.len() + b.len());
            s.push_str(&a);
            s.push_str(&b);
            Ok(Value::Text(Arc::from(s)))
        }
        BinaryFunc::Like { escape, case_insensitive } => {
            if l.is_null() || r.is_null() {
                return Ok(Value::Null);
            }
            let (s, p) = (to_text(&l)?, to_text(&r)?);
            Ok(Value::Bool(like(&s, &p, *escape, *case_insensitive)?))
        }
        BinaryFunc::NullIf => {
            if compare(&l, &r)? == Some(Ordering::Equal) {
                Ok(Value::Null)
            } else {
                Ok(l)
            }
        }
        BinaryFunc::SingleRowValue => match l {
            Value::Int8(n) if n > 1 => {
                Err(EvalError::Other("more than one row returned by a subquery used as an expression".into()))
            }
            _ => Ok(r),
        },
    }
}

/// One element of a compiled LIKE pattern.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LikeTok {
    Char(char),
    One,
    Any,
    /// An escape character ending the pattern: an error once matching
    /// reaches it with text left, as in PostgreSQL.
    BadEscape,
}

/// PostgreSQL's `LIKE` / `ILIKE`: `%` matches any sequence, `_` any one
/// character, the escape character makes the next one literal (a pattern
/// may not end with it). `ILIKE` folds ASCII letters only, as PostgreSQL
/// does under the `C` locale (`'É' ILIKE 'é'` is false).
pub fn like(s: &str, pattern: &str, escape: Option<char>, case_insensitive: bool) -> Result<bool, EvalError> {
    let fold = |c: char| -> char {
        if case_insensitive {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let mut toks = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some(n) => toks.push(LikeTok::Char(fold(n))),
                None => toks.push(LikeTok::BadEscape),
            }
        } else if c == '%' {
            if toks.last() != Some(&LikeTok::Any) {
                toks.push(LikeTok::Any);
            }
        } else if c == '_' {
            toks.push(LikeTok::One);
        } else {
            toks.push(LikeTok::Char(fold(c)));
        }
    }
    let text: Vec<char> = s.chars().map(fold).collect();
    // Greedy matching with backtracking to the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let bad_escape = || EvalError::Other("LIKE pattern must not end with escape character".into());
    while ti < text.len() {
        match toks.get(pi) {
            Some(LikeTok::BadEscape) => return Err(bad_escape()),
            Some(LikeTok::Any) if toks.get(pi + 1) == Some(&LikeTok::BadEscape) => return Err(bad_escape()),
            Some(LikeTok::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(LikeTok::One) => {
                ti += 1;
                pi += 1;
            }
            Some(LikeTok::Char(c)) if *c == text[ti] => {
                ti += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return Ok(false),
            },
        }
    }
    Ok(toks[pi..].iter().all(|t| *t == LikeTok::Any))
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
