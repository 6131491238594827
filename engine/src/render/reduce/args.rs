//! Evaluating group keys and aggregate arguments on an input row.
//!
//! Aggregate arguments are usually a column, a constant, or a `FILTER`
//! folded in as `CASE WHEN p THEN x END`. [`eval_ref`] returns such values
//! borrowed from the row or the plan instead of building new ones; every
//! other expression goes through [`Expr::eval`], so the result is always
//! exactly what `Expr::eval` returns.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::expr::{BinaryFunc, EvalError, Expr, VariadicFunc};
use crate::value::{Row, Value};

/// SQL NULL, to borrow.
static NULL: Value = Value::Null;

/// `expr` on `row`, borrowed when it is a column, a constant, or a `CASE`
/// or `COALESCE` whose chosen operand is one.
#[inline]
pub(crate) fn eval_ref<'a>(expr: &'a Expr, row: &'a [Value]) -> Result<Cow<'a, Value>, EvalError> {
    match expr {
        Expr::Column(c) => match row.get(*c) {
            Some(v) => Ok(Cow::Borrowed(v)),
            None => expr.eval(row).map(Cow::Owned),
        },
        Expr::Literal(v) => Ok(Cow::Borrowed(v)),
        Expr::If { cond, then, els } => {
            if eval_predicate_ref(cond, row)? {
                eval_ref(then, row)
            } else {
                eval_ref(els, row)
            }
        }
        Expr::Variadic { func: VariadicFunc::Coalesce, args } => {
            for a in args {
                let v = eval_ref(a, row)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Ok(Cow::Borrowed(&NULL))
        }
        _ => expr.eval(row).map(Cow::Owned),
    }
}

/// [`Expr::eval_predicate`] (true only for TRUE), comparing borrowed
/// operands when the predicate is a comparison of two values of one type
/// (the case where [`Expr::eval`] compares with [`Value::sql_cmp`]).
#[inline]
pub(crate) fn eval_predicate_ref(expr: &Expr, row: &[Value]) -> Result<bool, EvalError> {
    if let Expr::Binary { func, left, right } = expr {
        let test: fn(Ordering) -> bool = match func {
            BinaryFunc::Eq => |o| o == Ordering::Equal,
            BinaryFunc::NotEq => |o| o != Ordering::Equal,
            BinaryFunc::Lt => |o| o == Ordering::Less,
            BinaryFunc::Lte => |o| o != Ordering::Greater,
            BinaryFunc::Gt => |o| o == Ordering::Greater,
            BinaryFunc::Gte => |o| o != Ordering::Less,
            _ => return expr.eval_predicate(row),
        };
        let l = eval_ref(left, row)?;
        let r = eval_ref(right, row)?;
        if l.is_null() || r.is_null() {
            return Ok(false);
        }
        if std::mem::discriminant(&*l) == std::mem::discriminant(&*r) {
            return Ok(l.sql_cmp(&r).is_some_and(test));
        }
    }
    expr.eval_predicate(row)
}

/// The group key of `row`.
#[inline]
pub(crate) fn eval_key(group_key: &[Expr], row: &[Value]) -> Result<Row, EvalError> {
    let mut key = Vec::with_capacity(group_key.len());
    for e in group_key {
        key.push(eval_ref(e, row)?.into_owned());
    }
    Ok(Row::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `eval_ref` agrees with `Expr::eval` on every shape it borrows and on
    /// the ones it does not.
    #[test]
    fn eval_ref_agrees_with_eval() {
        let row = vec![Value::Int4(7), Value::Null, Value::text("goods"), Value::Int8(-3)];
        let col = |c| Expr::Column(c);
        let goods = Expr::Literal(Value::text("goods"));
        let cases = vec![
            col(0),
            col(1),
            Expr::Literal(Value::Bool(true)),
            Expr::If {
                cond: Box::new(col(2).call_binary(BinaryFunc::Eq, goods.clone())),
                then: Box::new(col(3)),
                els: Box::new(Expr::Literal(Value::Null)),
            },
            Expr::If {
                cond: Box::new(col(2).call_binary(BinaryFunc::NotEq, goods)),
                then: Box::new(col(3)),
                els: Box::new(Expr::Literal(Value::Null)),
            },
            Expr::If {
                cond: Box::new(col(1).call_binary(BinaryFunc::Eq, col(1))),
                then: Box::new(col(3)),
                els: Box::new(col(0)),
            },
            Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![col(1), col(0)] },
            Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![col(1), Expr::Literal(Value::Null)] },
            col(0).call_binary(BinaryFunc::Add, Expr::Literal(Value::Int4(1))),
        ];
        for e in &cases {
            assert_eq!(eval_ref(e, &row).unwrap().into_owned(), e.eval(&row).unwrap(), "{e:?}");
        }
        let values =
            [Value::Null, Value::Int4(7), Value::Int8(7), Value::Int8(-3), Value::text("goods"), Value::text("tax")];
        let funcs = [BinaryFunc::Eq, BinaryFunc::NotEq, BinaryFunc::Lt, BinaryFunc::Lte, BinaryFunc::Gt, BinaryFunc::Gte];
        for a in &values {
            for b in &values {
                for f in &funcs {
                    let e = Expr::Literal(a.clone()).call_binary(f.clone(), Expr::Literal(b.clone()));
                    match (eval_predicate_ref(&e, &row), e.eval_predicate(&row)) {
                        (Ok(x), Ok(y)) => assert_eq!(x, y, "{e:?}"),
                        (x, y) => assert_eq!(x.is_err(), y.is_err(), "{e:?}"),
                    }
                }
            }
        }
        assert!(eval_ref(&col(9), &row).is_err());
        let key = eval_key(&[col(2), col(0)], &row).unwrap();
        assert_eq!(key.values(), &[Value::text("goods"), Value::Int4(7)]);
    }
}
