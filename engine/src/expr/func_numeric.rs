//! Numeric functions over integers, numeric and float8 with PostgreSQL's
//! results and errors. The front end picks the signature (`round(int)` is
//! `round(float8)`, `round(int, 2)` is `round(numeric, integer)`), so the
//! value variants say which one runs.

use std::cmp::Ordering;

use super::call::{bad_arity, int_arg, ScalarFunc};
use super::eval::compare;
use super::EvalError;
use crate::value::cast::int_out_of_range;
use crate::value::{DataType, Numeric, Value, F64};

/// PostgreSQL's clamp on `round`/`trunc` scales (`NUMERIC_MAX_RESULT_SCALE`).
const MAX_RESULT_SCALE: i64 = 2000;

fn overflow() -> EvalError {
    EvalError::Overflow("value out of range: overflow".into())
}

fn underflow() -> EvalError {
    EvalError::Overflow("value out of range: underflow".into())
}

fn other(msg: &str) -> EvalError {
    EvalError::Other(msg.to_string())
}

fn float(v: f64) -> Value {
    Value::Float8(F64(v))
}

fn wrong_type(f: &ScalarFunc, v: &Value) -> EvalError {
    EvalError::Other(format!("function {}({}) does not exist", f.name(), v.natural_type()))
}

/// Evaluates a numeric function over its arguments (NULL-free except for
/// `greatest`/`least`).
pub(crate) fn apply(f: &ScalarFunc, args: &[Value]) -> Result<Value, EvalError> {
    use ScalarFunc as F;
    let arg = |i: usize| args.get(i).ok_or_else(|| bad_arity(f, args.len()));
    let scale_arg = |i: usize| -> Result<Option<i32>, EvalError> {
        match args.get(i) {
            None => Ok(None),
            Some(v) => Ok(Some(int_arg(v)?.clamp(-MAX_RESULT_SCALE, MAX_RESULT_SCALE) as i32)),
        }
    };
    match f {
        F::Greatest | F::Least => return extreme(args, matches!(f, F::Greatest)),
        F::Div => {
            let (Value::Numeric(a), Value::Numeric(b)) = (arg(0)?, arg(1)?) else { return Err(wrong_type(f, arg(0)?)) };
            return Ok(Value::Numeric(a.div_trunc(b)?));
        }
        F::Log => {
            let (Value::Numeric(b), Value::Numeric(x)) = (arg(0)?, arg(1)?) else { return Err(wrong_type(f, arg(0)?)) };
            return Ok(Value::Numeric(b.log(x)?));
        }
        F::Power => {
            return match (arg(0)?, arg(1)?) {
                (Value::Numeric(a), Value::Numeric(b)) => Ok(Value::Numeric(a.pow(b)?)),
                (Value::Float8(a), Value::Float8(b)) => Ok(float(float_pow(a.0, b.0)?)),
                (v, _) => Err(wrong_type(f, v)),
            };
        }
        _ => {}
    }
    let x = arg(0)?;
    Ok(match (f, x) {
        (F::Abs, Value::Int2(v)) => Value::Int2(v.checked_abs().ok_or_else(|| int_out_of_range(DataType::Int2))?),
        (F::Abs, Value::Int4(v)) => Value::Int4(v.checked_abs().ok_or_else(|| int_out_of_range(DataType::Int4))?),
        (F::Abs, Value::Int8(v)) => Value::Int8(v.checked_abs().ok_or_else(|| int_out_of_range(DataType::Int8))?),
        (F::Abs, Value::Numeric(n)) => Value::Numeric(n.abs()),
        (F::Abs, Value::Float8(v)) => float(v.0.abs()),
        (F::Round, Value::Float8(v)) => float(v.0.round_ties_even()),
        (F::Round, Value::Numeric(n)) => Value::Numeric(n.round(scale_arg(1)?.unwrap_or(0))),
        (F::Trunc, Value::Float8(v)) => float(v.0.trunc()),
        (F::Trunc, Value::Numeric(n)) => Value::Numeric(n.trunc_to(scale_arg(1)?.unwrap_or(0))),
        (F::Ceil, Value::Float8(v)) => float(v.0.ceil()),
        (F::Ceil, Value::Numeric(n)) => Value::Numeric(n.ceil()),
        (F::Floor, Value::Float8(v)) => float(v.0.floor()),
        (F::Floor, Value::Numeric(n)) => Value::Numeric(n.floor()),
        (F::Sign, Value::Float8(v)) => float(if v.0 > 0.0 {
            1.0
        } else if v.0 < 0.0 {
            -1.0
        } else {
            0.0
        }),
        (F::Sign, Value::Numeric(n)) => {
            Value::Numeric(if n.is_nan() { Numeric::NAN } else { Numeric::from(n.signum()) })
        }
        (F::Sqrt, Value::Float8(v)) => {
            if v.0 < 0.0 {
                return Err(other("cannot take square root of a negative number"));
            }
            float(v.0.sqrt())
        }
        (F::Sqrt, Value::Numeric(n)) => Value::Numeric(n.sqrt()?),
        (F::Exp, Value::Float8(v)) => float(float_exp(v.0)?),
        (F::Exp, Value::Numeric(n)) => Value::Numeric(n.exp()?),
        (F::Ln, Value::Float8(v)) => float(float_log(v.0, f64::ln)?),
        (F::Ln, Value::Numeric(n)) => Value::Numeric(n.ln()?),
        (F::Log10, Value::Float8(v)) => float(float_log(v.0, f64::log10)?),
        (F::Log10, Value::Numeric(n)) => Value::Numeric(Numeric::from(10).log(n)?),
        (f, v) => return Err(wrong_type(f, v)),
    })
}

/// `greatest`/`least`: NULLs ignored; among equal extremes the first one
/// wins, as PostgreSQL keeps it.
fn extreme(args: &[Value], greatest: bool) -> Result<Value, EvalError> {
    let want = if greatest { Ordering::Greater } else { Ordering::Less };
    let mut best: Option<&Value> = None;
    for v in args.iter().filter(|v| !v.is_null()) {
        best = match best {
            None => Some(v),
            Some(b) if compare(v, b)? == Some(want) => Some(v),
            keep => keep,
        };
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}

/// PostgreSQL's `dpow`.
fn float_pow(x: f64, y: f64) -> Result<f64, EvalError> {
    if x == 0.0 && y < 0.0 {
        return Err(other("zero raised to a negative power is undefined"));
    }
    if x < 0.0 && y.floor() != y {
        return Err(other("a negative number raised to a non-integer power yields a complex result"));
    }
    if x.is_nan() {
        return Ok(if y.is_nan() || y != 0.0 { f64::NAN } else { 1.0 });
    }
    if y.is_nan() {
        return Ok(if x != 1.0 { f64::NAN } else { 1.0 });
    }
    if y.is_infinite() {
        let ax = x.abs();
        return Ok(if ax == 1.0 {
            1.0
        } else if y > 0.0 {
            if ax > 1.0 {
                y
            } else {
                0.0
            }
        } else if ax > 1.0 {
            0.0
        } else {
            -y
        });
    }
    if x.is_infinite() {
        if y == 0.0 {
            return Ok(1.0);
        }
        if x > 0.0 {
            return Ok(if y > 0.0 { x } else { 0.0 });
        }
        let half = y / 2.0;
        let odd = half.floor() != half;
        return Ok(if y > 0.0 {
            if odd {
                x
            } else {
                -x
            }
        } else if odd {
            -0.0
        } else {
            0.0
        });
    }
    let r = x.powf(y);
    if r.is_infinite() {
        return Err(overflow());
    }
    if r == 0.0 && x != 0.0 {
        return Err(underflow());
    }
    Ok(r)
}

/// PostgreSQL's `dexp`.
fn float_exp(x: f64) -> Result<f64, EvalError> {
    if x.is_nan() {
        return Ok(x);
    }
    if x.is_infinite() {
        return Ok(if x > 0.0 { x } else { 0.0 });
    }
    let r = x.exp();
    if r.is_infinite() {
        return Err(overflow());
    }
    if r == 0.0 {
        return Err(underflow());
    }
    Ok(r)
}

/// PostgreSQL's `dlog1` / `dlog10`.
fn float_log(x: f64, log: fn(f64) -> f64) -> Result<f64, EvalError> {
    if x == 0.0 {
        return Err(other("cannot take logarithm of zero"));
    }
    if x < 0.0 {
        return Err(other("cannot take logarithm of a negative number"));
    }
    let r = log(x);
    if r.is_infinite() && !x.is_infinite() {
        return Err(overflow());
    }
    if r == 0.0 && x != 1.0 {
        return Err(underflow());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: ScalarFunc, args: Vec<Value>) -> Result<Value, EvalError> {
        f.apply(&args)
    }
    fn num(s: &str) -> Value {
        Value::Numeric(Numeric::parse(s).expect("numeric"))
    }
    fn fl(v: f64) -> Value {
        Value::Float8(F64(v))
    }

    #[test]
    fn rounding_follows_postgres() {
        // round(2.5::float8) = 2 (half even); round(2.5) = 3 (half away).
        assert_eq!(call(ScalarFunc::Round, vec![fl(2.5)]), Ok(fl(2.0)));
        assert_eq!(call(ScalarFunc::Round, vec![fl(-2.5)]), Ok(fl(-2.0)));
        assert_eq!(call(ScalarFunc::Round, vec![num("2.5")]), Ok(num("3")));
        assert_eq!(call(ScalarFunc::Round, vec![num("-2.5")]), Ok(num("-3")));
        assert_eq!(call(ScalarFunc::Round, vec![num("1.2345"), Value::Int4(2)]), Ok(num("1.23")));
        assert_eq!(call(ScalarFunc::Round, vec![num("1.2"), Value::Int4(4)]), Ok(num("1.2000")));
        assert_eq!(call(ScalarFunc::Round, vec![num("1234.5"), Value::Int4(-2)]), Ok(num("1200")));
        assert_eq!(call(ScalarFunc::Trunc, vec![fl(-1.5)]), Ok(fl(-1.0)));
        assert_eq!(call(ScalarFunc::Ceil, vec![fl(-0.5)]).map(|v| v.to_string()), Ok("-0".to_string()));
        assert_eq!(call(ScalarFunc::Ceil, vec![num("-0.5")]), Ok(num("0")));
    }

    #[test]
    fn abs_sign_and_errors() {
        assert_eq!(call(ScalarFunc::Abs, vec![Value::Int2(-5)]), Ok(Value::Int2(5)));
        assert_eq!(call(ScalarFunc::Abs, vec![Value::Int4(i32::MIN)]), Err(EvalError::OutOfRange("integer".into())));
        assert_eq!(call(ScalarFunc::Abs, vec![num("-1.50")]), Ok(num("1.50")));
        assert_eq!(call(ScalarFunc::Sign, vec![num("-2.00")]), Ok(num("-1")));
        assert_eq!(call(ScalarFunc::Sign, vec![fl(f64::NAN)]), Ok(fl(0.0)));
        assert_eq!(call(ScalarFunc::Sqrt, vec![fl(-1.0)]), Err(other("cannot take square root of a negative number")));
        assert_eq!(call(ScalarFunc::Ln, vec![fl(0.0)]), Err(other("cannot take logarithm of zero")));
        assert_eq!(call(ScalarFunc::Power, vec![fl(1e300), fl(2.0)]), Err(overflow()));
        assert_eq!(call(ScalarFunc::Power, vec![fl(2.0), fl(10.0)]), Ok(fl(1024.0)));
        assert_eq!(call(ScalarFunc::Div, vec![num("-7.5"), num("2")]), Ok(num("-3")));
    }

    #[test]
    fn greatest_least_ignore_nulls() {
        let g = |args: Vec<Value>| call(ScalarFunc::Greatest, args);
        assert_eq!(g(vec![num("1"), num("2.5"), Value::Null]), Ok(num("2.5")));
        assert_eq!(g(vec![Value::Null, Value::Null]), Ok(Value::Null));
        // The first of equal values wins: greatest(1.0, 1.00) = 1.0.
        assert_eq!(g(vec![num("1.0"), num("1.00")]), Ok(num("1.0")));
        assert_eq!(call(ScalarFunc::Least, vec![Value::text("b"), Value::text("a")]), Ok(Value::text("a")));
    }
}
