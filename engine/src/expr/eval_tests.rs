//! Tests of expression evaluation (PostgreSQL semantics checked against a
//! live PostgreSQL 15 server).

use super::like;
use crate::expr::{BinaryFunc, EvalError, Expr, UnaryFunc, VariadicFunc};
use crate::value::{DataType, Value};

fn lit(v: Value) -> Expr {
    Expr::Literal(v)
}
fn b(v: bool) -> Expr {
    lit(Value::Bool(v))
}
fn null() -> Expr {
    lit(Value::Null)
}
fn int(v: i32) -> Expr {
    lit(Value::Int4(v))
}
fn and(args: Vec<Expr>) -> Expr {
    Expr::Variadic { func: VariadicFunc::And, args }
}
fn or(args: Vec<Expr>) -> Expr {
    Expr::Variadic { func: VariadicFunc::Or, args }
}
fn div_zero() -> Expr {
    int(1).call_binary(BinaryFunc::Div, int(0))
}
fn eval(e: &Expr) -> Result<Value, EvalError> {
    e.eval(&[])
}

#[test]
fn and_or_are_three_valued() {
    // PostgreSQL: false AND NULL = f, true AND NULL = NULL, true OR NULL = t,
    // false OR NULL = NULL, NULL AND NULL = NULL.
    assert_eq!(eval(&and(vec![b(false), null()])), Ok(Value::Bool(false)));
    assert_eq!(eval(&and(vec![null(), b(false)])), Ok(Value::Bool(false)));
    assert_eq!(eval(&and(vec![b(true), null()])), Ok(Value::Null));
    assert_eq!(eval(&and(vec![b(true), b(true)])), Ok(Value::Bool(true)));
    assert_eq!(eval(&or(vec![null(), b(true)])), Ok(Value::Bool(true)));
    assert_eq!(eval(&or(vec![b(false), null()])), Ok(Value::Null));
    assert_eq!(eval(&or(vec![b(false), b(false)])), Ok(Value::Bool(false)));
    assert_eq!(eval(&and(vec![null(), null()])), Ok(Value::Null));
    // Evaluation stops at the deciding argument, as PostgreSQL's executor does.
    let guard = div_zero().call_binary(BinaryFunc::Eq, int(1));
    assert_eq!(eval(&and(vec![b(false), guard.clone()])), Ok(Value::Bool(false)));
    assert_eq!(eval(&or(vec![b(true), guard.clone()])), Ok(Value::Bool(true)));
    assert_eq!(eval(&and(vec![b(true), guard])), Err(EvalError::DivisionByZero));
}

#[test]
fn not_and_is_tests() {
    let cases = [
        (UnaryFunc::Not, Value::Bool(true), Value::Bool(false)),
        (UnaryFunc::Not, Value::Null, Value::Null),
        (UnaryFunc::IsNull, Value::Null, Value::Bool(true)),
        (UnaryFunc::IsNotNull, Value::Int4(1), Value::Bool(true)),
        (UnaryFunc::IsTrue, Value::Null, Value::Bool(false)),
        (UnaryFunc::IsFalse, Value::Null, Value::Bool(false)),
        (UnaryFunc::IsNotTrue, Value::Null, Value::Bool(true)),
        (UnaryFunc::IsNotFalse, Value::Null, Value::Bool(true)),
        (UnaryFunc::IsNotTrue, Value::Bool(false), Value::Bool(true)),
        (UnaryFunc::IsFalse, Value::Bool(false), Value::Bool(true)),
    ];
    for (f, arg, want) in cases {
        assert_eq!(eval(&lit(arg.clone()).call_unary(f.clone())), Ok(want), "{f:?}({arg:?})");
    }
}

#[test]
fn negation_overflows_like_postgres() {
    let neg = |v: Value| eval(&lit(v).call_unary(UnaryFunc::Neg)).map_err(|e| e.to_string());
    assert_eq!(neg(Value::Int2(i16::MIN)), Err("smallint out of range".into()));
    assert_eq!(neg(Value::Int4(i32::MIN)), Err("integer out of range".into()));
    assert_eq!(neg(Value::Int8(i64::MIN)), Err("bigint out of range".into()));
    assert_eq!(neg(Value::Int4(5)), Ok(Value::Int4(-5)));
    assert_eq!(neg(Value::Null), Ok(Value::Null));
}

#[test]
fn case_and_coalesce_are_lazy() {
    // CASE WHEN x = 0 THEN 0 ELSE 1/x END with x = 0 must not raise.
    let x = Expr::column(0);
    let case = Expr::If {
        cond: Box::new(x.clone().call_binary(BinaryFunc::Eq, int(0))),
        then: Box::new(int(0)),
        els: Box::new(int(1).call_binary(BinaryFunc::Div, x)),
    };
    assert_eq!(case.eval(&[Value::Int4(0)]), Ok(Value::Int4(0)));
    assert_eq!(case.eval(&[Value::Int4(1)]), Ok(Value::Int4(1)));
    // A NULL condition takes the ELSE branch.
    assert_eq!(case.eval(&[Value::Null]), Ok(Value::Null));
    let coalesce = Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![null(), int(7), div_zero()] };
    assert_eq!(eval(&coalesce), Ok(Value::Int4(7)));
    let all_null = Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![null(), null()] };
    assert_eq!(eval(&all_null), Ok(Value::Null));
}

#[test]
fn nulls_propagate_and_distinctness_does_not() {
    let ops = [BinaryFunc::Add, BinaryFunc::Div, BinaryFunc::Eq, BinaryFunc::Lt, BinaryFunc::Concat];
    for op in ops {
        assert_eq!(eval(&null().call_binary(op.clone(), int(0))), Ok(Value::Null), "{op:?}");
    }
    assert_eq!(eval(&null().call_binary(BinaryFunc::IsDistinctFrom, null())), Ok(Value::Bool(false)));
    assert_eq!(eval(&null().call_binary(BinaryFunc::IsDistinctFrom, int(1))), Ok(Value::Bool(true)));
    assert_eq!(eval(&null().call_binary(BinaryFunc::IsNotDistinctFrom, null())), Ok(Value::Bool(true)));
    // NULLIF(1, 1) = NULL, NULLIF(1, 2) = 1, NULLIF(1, NULL) = 1, NULLIF(NULL, 1) = NULL.
    assert_eq!(eval(&int(1).call_binary(BinaryFunc::NullIf, int(1))), Ok(Value::Null));
    assert_eq!(eval(&int(1).call_binary(BinaryFunc::NullIf, int(2))), Ok(Value::Int4(1)));
    assert_eq!(eval(&int(1).call_binary(BinaryFunc::NullIf, null())), Ok(Value::Int4(1)));
    assert_eq!(eval(&null().call_binary(BinaryFunc::NullIf, int(1))), Ok(Value::Null));
}

#[test]
fn predicates_select_only_true() {
    assert_eq!(b(true).eval_predicate(&[]), Ok(true));
    assert_eq!(b(false).eval_predicate(&[]), Ok(false));
    assert_eq!(null().eval_predicate(&[]), Ok(false));
    assert_eq!(div_zero().call_binary(BinaryFunc::Eq, int(1)).eval_predicate(&[]), Err(EvalError::DivisionByZero));
}

#[test]
fn casts_in_expressions() {
    let cast = |v: Value, f: UnaryFunc| eval(&lit(v).call_unary(f)).map(|v| v.to_string()).map_err(|e| e.to_string());
    // 'ab '::char(3)::text = 'ab'; assignment of 'abcd' to varchar(3) fails.
    assert_eq!(cast(Value::text("ab "), UnaryFunc::CharToText), Ok("ab".into()));
    assert_eq!(cast(Value::text("abcd"), UnaryFunc::AssignCast(DataType::Varchar(Some(3)))), Err("value too long for type character varying(3)".into()));
    assert_eq!(cast(Value::text("abcd"), UnaryFunc::Cast(DataType::Varchar(Some(3)))), Ok("abc".into()));
    assert_eq!(cast(Value::text("abc  "), UnaryFunc::AssignCast(DataType::Varchar(Some(3)))), Ok("abc".into()));
    assert_eq!(cast(Value::text("1.25"), UnaryFunc::Cast(DataType::Numeric(Some((3, 1))))), Ok("1.3".into()));
    assert_eq!(cast(Value::Null, UnaryFunc::Cast(DataType::Int4)), Ok("".into()));
}

#[test]
fn like_escapes_follow_postgres() {
    // Verified on PostgreSQL 15: the trailing-escape error is raised only
    // when matching reaches it.
    assert_eq!(like("abc", "abc\\", Some('\\'), false), Ok(false));
    assert_eq!(like("a", "abc\\", Some('\\'), false), Ok(false));
    let err = Err(EvalError::Other("LIKE pattern must not end with escape character".into()));
    assert_eq!(like("abcd", "abc\\", Some('\\'), false), err);
    assert_eq!(like("abc", "%\\", Some('\\'), false), err);
    // ESCAPE '' turns escaping off; another escape character works too.
    assert_eq!(like("a\\b", "a\\b", None, false), Ok(true));
    assert_eq!(like("a%b", "a#%b", Some('#'), false), Ok(true));
    assert_eq!(like("axb", "a#%b", Some('#'), false), Ok(false));
    assert_eq!(like("mississippi", "%iss%ppi", Some('\\'), false), Ok(true));
    assert_eq!(like("mississippi", "%iss%pp", Some('\\'), false), Ok(false));
}

#[test]
fn column_references_read_the_row() {
    let e = Expr::column(1).call_binary(BinaryFunc::Mul, Expr::column(0));
    assert_eq!(e.eval(&[Value::Int8(6), Value::Int8(7)]), Ok(Value::Int8(42)));
    assert!(Expr::column(5).eval(&[Value::Int4(1)]).is_err());
}
