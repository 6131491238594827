//! Expression helpers for the rewrites: error analysis, substitution,
//! constant folding, conjunct splitting and column sets.

use std::collections::BTreeSet;

use crate::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use crate::value::{DataType, Value};

/// True unless evaluation of `e` provably cannot fail on any row.
///
/// Comparisons, boolean logic, `IS [NOT] NULL`/`TRUE`/`FALSE`, `IS [NOT]
/// DISTINCT FROM`, `NULLIF`, `COALESCE`, `CASE`, `||`, casts to string types
/// (which truncate or pad, never fail) and `LIKE` with a literal pattern
/// that does not end in its escape character cannot fail when their
/// arguments cannot. Arithmetic (overflow, division by zero), negation and
/// other casts can. Named functions answer for themselves
/// ([`ScalarFunc::can_error`](crate::expr::ScalarFunc::can_error)).
///
/// The optimiser never moves an expression this may be true of to rows it
/// would not have been evaluated on; the front end's decorrelation asks
/// the same question.
pub fn can_error(e: &Expr) -> bool {
    match e {
        Expr::Column(_) | Expr::Literal(_) => false,
        Expr::Unary { func, arg } => {
            let this = match func {
                UnaryFunc::Not
                | UnaryFunc::IsNull
                | UnaryFunc::IsNotNull
                | UnaryFunc::IsTrue
                | UnaryFunc::IsFalse
                | UnaryFunc::IsNotTrue
                | UnaryFunc::IsNotFalse => false,
                UnaryFunc::CharToText | UnaryFunc::KeyNormalize => false,
                UnaryFunc::AssignCast(_) => true,
                UnaryFunc::Neg => true,
                UnaryFunc::Cast(ty) => !matches!(ty, DataType::Text | DataType::Varchar(_) | DataType::Char(_)),
            };
            this || can_error(arg)
        }
        Expr::Binary { func, left, right } => {
            let this = match func {
                BinaryFunc::Add | BinaryFunc::Sub | BinaryFunc::Mul | BinaryFunc::Div | BinaryFunc::Mod => true,
                BinaryFunc::SingleRowValue => true,
                BinaryFunc::Eq
                | BinaryFunc::NotEq
                | BinaryFunc::Lt
                | BinaryFunc::Lte
                | BinaryFunc::Gt
                | BinaryFunc::Gte
                | BinaryFunc::IsDistinctFrom
                | BinaryFunc::IsNotDistinctFrom
                | BinaryFunc::Concat
                | BinaryFunc::NullIf => false,
                BinaryFunc::Like { escape, .. } => !like_pattern_is_safe(right, *escape),
            };
            this || can_error(left) || can_error(right)
        }
        Expr::Variadic { func: VariadicFunc::Call(f), args } => f.can_error(args) || args.iter().any(can_error),
        Expr::Variadic { args, .. } => args.iter().any(can_error),
        Expr::If { cond, then, els } => can_error(cond) || can_error(then) || can_error(els),
    }
}

/// A literal pattern (or NULL) whose escape character, if any, is always
/// followed by another character.
fn like_pattern_is_safe(pattern: &Expr, escape: Option<char>) -> bool {
    match pattern {
        Expr::Literal(Value::Null) => true,
        Expr::Literal(Value::Text(p)) => {
            let Some(esc) = escape else { return true };
            let mut chars = p.chars();
            while let Some(c) = chars.next() {
                if c == esc && chars.next().is_none() {
                    return false;
                }
            }
            true
        }
        _ => false,
    }
}

/// Cheap enough to evaluate twice: a column, a literal, or a cast of one.
pub(crate) fn is_cheap(e: &Expr) -> bool {
    match e {
        Expr::Column(_) | Expr::Literal(_) => true,
        Expr::Unary { func: UnaryFunc::Cast(_), arg } => matches!(**arg, Expr::Column(_) | Expr::Literal(_)),
        _ => false,
    }
}

/// True if `e` contains no cast, so it cannot tell apart values that SQL
/// comparison deems equal (`1.0` and `1.00`), which grouping and duplicate
/// elimination merge.
pub(crate) fn is_representation_blind(e: &Expr) -> bool {
    match e {
        Expr::Column(_) | Expr::Literal(_) => true,
        Expr::Unary { func: UnaryFunc::Cast(_), .. } => false,
        Expr::Unary { arg, .. } => is_representation_blind(arg),
        Expr::Variadic { func: VariadicFunc::Call(f), .. } if !f.is_representation_blind() => false,
        Expr::Binary { left, right, .. } => is_representation_blind(left) && is_representation_blind(right),
        Expr::Variadic { args, .. } => args.iter().all(is_representation_blind),
        Expr::If { cond, then, els } => {
            is_representation_blind(cond) && is_representation_blind(then) && is_representation_blind(els)
        }
    }
}

/// The columns `e` reads.
pub(crate) fn columns(e: &Expr) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    e.visit_columns(&mut |c| {
        out.insert(c);
    });
    out
}

/// `e` with every `#i` replaced by `exprs[i]`.
pub(crate) fn substitute(e: &Expr, exprs: &[Expr]) -> Expr {
    match e {
        Expr::Column(c) => exprs[*c].clone(),
        Expr::Literal(_) => e.clone(),
        Expr::Unary { func, arg } => Expr::Unary { func: func.clone(), arg: Box::new(substitute(arg, exprs)) },
        Expr::Binary { func, left, right } => Expr::Binary {
            func: func.clone(),
            left: Box::new(substitute(left, exprs)),
            right: Box::new(substitute(right, exprs)),
        },
        Expr::Variadic { func, args } => {
            Expr::Variadic { func: func.clone(), args: args.iter().map(|a| substitute(a, exprs)).collect() }
        }
        Expr::If { cond, then, els } => Expr::If {
            cond: Box::new(substitute(cond, exprs)),
            then: Box::new(substitute(then, exprs)),
            els: Box::new(substitute(els, exprs)),
        },
    }
}

/// `e` with every column reference shifted by `-by` (all must be `>= by`).
pub(crate) fn shift_down(mut e: Expr, by: usize) -> Expr {
    e.map_columns(&mut |c| c - by);
    e
}

/// `e` with every column reference shifted by `+by`.
pub(crate) fn shift_up(mut e: Expr, by: usize) -> Expr {
    e.map_columns(&mut |c| c + by);
    e
}

/// Splits top-level `AND`s into conjuncts (in order) and drops literal
/// `TRUE` conjuncts. A conjunct list keeps a row when every conjunct is
/// true, exactly when the `AND` is true.
///
/// A top-level `OR` whose every disjunct has some conjuncts in common (that
/// cannot fail) is split too: `(c AND x) OR (c AND y)` becomes the
/// conjuncts `c` and `x OR y` (see [`factor_or`]), so a join condition
/// written as alternatives that share an equality is keyed on it.
pub(crate) fn split_conjuncts(preds: Vec<Expr>) -> Vec<Expr> {
    fn go(e: Expr, out: &mut Vec<Expr>) {
        match e {
            Expr::Variadic { func: VariadicFunc::And, args } => args.into_iter().for_each(|a| go(a, out)),
            Expr::Literal(Value::Bool(true)) => {}
            Expr::Variadic { func: VariadicFunc::Or, args } => match factor_or(args) {
                Ok((common, rest)) => {
                    common.into_iter().for_each(|c| go(c, out));
                    out.extend(rest);
                }
                Err(args) => out.push(Expr::Variadic { func: VariadicFunc::Or, args }),
            },
            e => out.push(e),
        }
    }
    let mut out = Vec::with_capacity(preds.len());
    preds.into_iter().for_each(|p| go(p, &mut out));
    out
}

/// The conjuncts of `e` (its top-level `AND`s flattened).
fn conjuncts_of(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Variadic { func: VariadicFunc::And, args } => args.into_iter().for_each(|a| conjuncts_of(a, out)),
        e => out.push(e),
    }
}

/// Factors the conjuncts common to every disjunct out of `OR(args)`:
/// returns them (in the first disjunct's order) and the `OR` of what
/// remains of each disjunct, or `None` for that `OR` when some disjunct
/// has nothing left (it is then implied by the common conjuncts:
/// `c OR (c AND x)` is `c`). Both are identities of SQL's three-valued
/// logic (Kleene logic is distributive and absorptive). Only conjuncts
/// that cannot fail are factored out, and the remaining `OR` is evaluated
/// only where they hold, so no expression runs on a row it did not run on
/// before. `Err(args)` when there is nothing to factor.
pub(crate) fn factor_or(args: Vec<Expr>) -> Result<(Vec<Expr>, Option<Expr>), Vec<Expr>> {
    let disjuncts: Vec<Vec<Expr>> = args
        .iter()
        .map(|a| {
            let mut cs = Vec::new();
            conjuncts_of(a.clone(), &mut cs);
            cs
        })
        .collect();
    let Some((first, others)) = disjuncts.split_first() else { return Err(args) };
    let mut common: Vec<Expr> = Vec::new();
    for c in first {
        if !common.contains(c) && !can_error(c) && others.iter().all(|d| d.contains(c)) {
            common.push(c.clone());
        }
    }
    if common.is_empty() || others.is_empty() {
        return Err(args);
    }
    let mut rest = Vec::with_capacity(disjuncts.len());
    for d in disjuncts {
        let mut left: Vec<Expr> = d.into_iter().filter(|c| !common.contains(c)).collect();
        match left.len() {
            0 => return Ok((common, None)),
            1 => rest.push(left.pop().expect("one conjunct")),
            _ => rest.push(Expr::Variadic { func: VariadicFunc::And, args: left }),
        }
    }
    Ok((common, Some(Expr::Variadic { func: VariadicFunc::Or, args: rest })))
}

/// True for a literal `FALSE` or `NULL`: a conjunct no row satisfies.
pub(crate) fn is_never_true(e: &Expr) -> bool {
    matches!(e, Expr::Literal(Value::Bool(false) | Value::Null))
}

/// If `e` is `a = b` with `a` over columns `< split` only and `b` over
/// columns `>= split` only (or the reverse), both non-constant and neither
/// able to fail, returns `(a, b)` with `b` rebased by `-split`.
pub(crate) fn as_equi_pair(e: &Expr, split: usize) -> Option<(Expr, Expr)> {
    let Expr::Binary { func: BinaryFunc::Eq, left, right } = e else { return None };
    if can_error(left) || can_error(right) {
        return None;
    }
    let side = |x: &Expr| -> Option<bool> {
        let cols = columns(x);
        let first = *cols.first()?;
        let last = *cols.last()?;
        if last < split {
            Some(true)
        } else if first >= split {
            Some(false)
        } else {
            None
        }
    };
    match (side(left)?, side(right)?) {
        (true, false) => Some(((**left).clone(), shift_down((**right).clone(), split))),
        (false, true) => Some(((**right).clone(), shift_down((**left).clone(), split))),
        _ => None,
    }
}

/// Folds subexpressions that read no column and evaluate without error to
/// literals; picks the branch of a `CASE` with a literal condition; drops
/// literal `NULL`s leading a `COALESCE` and arguments after a non-NULL
/// literal; drops `TRUE` from `AND` and `FALSE` from `OR`, and reduces an
/// `AND` holding `FALSE` (an `OR` holding `TRUE`) to that literal. An
/// expression whose evaluation fails is left as it is, so the failure still
/// happens where and when it did.
pub(crate) fn fold(e: Expr) -> Expr {
    let e = match e {
        Expr::Column(_) | Expr::Literal(_) => return e,
        Expr::Unary { func, arg } => Expr::Unary { func, arg: Box::new(fold(*arg)) },
        Expr::Binary { func, left, right } => {
            Expr::Binary { func, left: Box::new(fold(*left)), right: Box::new(fold(*right)) }
        }
        Expr::Variadic { func, args } => fold_variadic(func, args.into_iter().map(fold).collect()),
        Expr::If { cond, then, els } => match fold(*cond) {
            Expr::Literal(Value::Bool(true)) => return fold(*then),
            Expr::Literal(Value::Bool(false) | Value::Null) => return fold(*els),
            cond => Expr::If { cond: Box::new(cond), then: Box::new(fold(*then)), els: Box::new(fold(*els)) },
        },
    };
    if matches!(e, Expr::Literal(_)) || !e.is_constant() {
        return e;
    }
    match e.eval(&[]) {
        Ok(v) => Expr::Literal(v),
        Err(_) => e,
    }
}

fn fold_variadic(func: VariadicFunc, args: Vec<Expr>) -> Expr {
    match func {
        VariadicFunc::And | VariadicFunc::Or => {
            let (unit, absorbing) = if func == VariadicFunc::And { (true, false) } else { (false, true) };
            let mut kept = Vec::with_capacity(args.len());
            for a in args {
                match a {
                    Expr::Literal(Value::Bool(b)) if b == unit => {}
                    Expr::Literal(Value::Bool(b)) if b == absorbing => return Expr::Literal(Value::Bool(absorbing)),
                    Expr::Variadic { func: f, args: inner } if f == func => kept.extend(inner),
                    a => kept.push(a),
                }
            }
            match kept.len() {
                0 => Expr::Literal(Value::Bool(unit)),
                1 => kept.pop().expect("one argument"),
                _ => Expr::Variadic { func, args: kept },
            }
        }
        VariadicFunc::Coalesce => {
            let mut kept = Vec::with_capacity(args.len());
            for a in args {
                match a {
                    Expr::Literal(Value::Null) => {}
                    Expr::Literal(_) => {
                        kept.push(a);
                        break;
                    }
                    a => kept.push(a),
                }
            }
            match kept.len() {
                0 => Expr::Literal(Value::Null),
                1 => kept.pop().expect("one argument"),
                _ => Expr::Variadic { func, args: kept },
            }
        }
        VariadicFunc::Call(_) | VariadicFunc::Record => Expr::Variadic { func, args },
    }
}
