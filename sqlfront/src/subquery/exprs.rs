//! Expressions and plans for decorrelation: parameter and placeholder
//! columns, renumbering, substitution, error analysis and the
//! join keys that match parameter values.

use freshet_engine::expr::{Expr, UnaryFunc, VariadicFunc};
use freshet_engine::plan::optimize::can_error;
use freshet_engine::plan::{Filter, Plan};
use freshet_engine::value::{DataType, Value};

use super::{PARAM_BASE, SUBQ_BASE};

/// Whether column `c` is a placeholder of a pending subquery.
pub(super) fn is_placeholder(c: usize) -> bool {
    (SUBQ_BASE..PARAM_BASE).contains(&c)
}

/// Whether `e` reads a placeholder.
pub(super) fn has_placeholder(e: &Expr) -> bool {
    let mut found = false;
    e.visit_columns(&mut |c| found |= is_placeholder(c));
    found
}

/// Whether `e` reads a parameter.
pub(super) fn mentions_params(e: &Expr) -> bool {
    let mut found = false;
    e.visit_columns(&mut |c| found |= c >= PARAM_BASE);
    found
}

/// Whether `e` reads parameters and nothing else.
pub(super) fn only_params(e: &Expr) -> bool {
    let (mut params, mut others) = (false, false);
    e.visit_columns(&mut |c| {
        if c >= PARAM_BASE {
            params = true;
        } else {
            others = true;
        }
    });
    params && !others
}

/// Rewrites every column through `f`, which may replace it by an
/// expression.
pub(super) fn substitute(e: &Expr, f: &mut impl FnMut(usize) -> Expr) -> Expr {
    match e {
        Expr::Column(c) => f(*c),
        Expr::Literal(_) => e.clone(),
        Expr::Unary { func, arg } => Expr::Unary { func: func.clone(), arg: Box::new(substitute(arg, f)) },
        Expr::Binary { func, left, right } => Expr::Binary {
            func: func.clone(),
            left: Box::new(substitute(left, f)),
            right: Box::new(substitute(right, f)),
        },
        Expr::Variadic { func, args } => {
            Expr::Variadic { func: func.clone(), args: args.iter().map(|a| substitute(a, f)).collect() }
        }
        Expr::If { cond, then, els } => Expr::If {
            cond: Box::new(substitute(cond, f)),
            then: Box::new(substitute(then, f)),
            els: Box::new(substitute(els, f)),
        },
    }
}

/// `e` over a row with `k` columns (the parameter values) put in front:
/// parameter `i` becomes `#i`, every other column moves right by `k`.
pub(super) fn shift(e: &Expr, k: usize) -> Expr {
    let mut e = e.clone();
    e.map_columns(&mut |c| if c >= PARAM_BASE { c - PARAM_BASE } else { c + k });
    e
}

/// `e` with every column moved right by `k`.
pub(super) fn offset(e: &Expr, k: usize) -> Expr {
    let mut e = e.clone();
    e.map_columns(&mut |c| c + k);
    e
}

/// `e` with parameter `i` replaced by `params[i]`.
pub(super) fn bind_params(e: &Expr, params: &[Expr]) -> Expr {
    substitute(e, &mut |c| if c >= PARAM_BASE { params[c - PARAM_BASE].clone() } else { Expr::Column(c) })
}

/// `e` with each placeholder replaced by its subquery's value.
pub(super) fn replace_placeholders(e: &Expr, values: &[(usize, Expr)]) -> Expr {
    if !has_placeholder(e) {
        return e.clone();
    }
    let e = substitute(e, &mut |c| {
        if is_placeholder(c) {
            if let Some((_, v)) = values.iter().find(|(id, _)| *id == c - SUBQ_BASE) {
                return v.clone();
            }
        }
        Expr::Column(c)
    });
    not_is_not_null(e)
}

/// `NOT (x IS NOT NULL)` (a negated `EXISTS`) as `x IS NULL`.
fn not_is_not_null(e: Expr) -> Expr {
    match e {
        Expr::Unary { func: UnaryFunc::Not, arg } => match *arg {
            Expr::Unary { func: UnaryFunc::IsNotNull, arg } => Expr::Unary { func: UnaryFunc::IsNull, arg },
            arg => Expr::Unary { func: UnaryFunc::Not, arg: Box::new(not_is_not_null(arg)) },
        },
        Expr::Unary { func, arg } => Expr::Unary { func, arg: Box::new(not_is_not_null(*arg)) },
        Expr::Binary { func, left, right } => {
            Expr::Binary { func, left: Box::new(not_is_not_null(*left)), right: Box::new(not_is_not_null(*right)) }
        }
        Expr::Variadic { func, args } => Expr::Variadic { func, args: args.into_iter().map(not_is_not_null).collect() },
        Expr::If { cond, then, els } => Expr::If {
            cond: Box::new(not_is_not_null(*cond)),
            then: Box::new(not_is_not_null(*then)),
            els: Box::new(not_is_not_null(*els)),
        },
        e => e,
    }
}

/// The conjuncts of `e` (nested ANDs flattened).
pub(super) fn conjuncts(e: Expr) -> Vec<Expr> {
    match e {
        Expr::Variadic { func: VariadicFunc::And, args } => args.into_iter().flat_map(conjuncts).collect(),
        e => vec![e],
    }
}

/// `plan` filtered by `predicates` (unchanged when there are none).
pub(super) fn filtered(plan: Plan, predicates: Vec<Expr>) -> Plan {
    if predicates.is_empty() {
        plan
    } else {
        Plan::Filter(Filter { input: Box::new(plan), predicates })
    }
}

/// `a AND b AND ...` (`TRUE` for none).
pub(super) fn and(mut args: Vec<Expr>) -> Expr {
    match args.len() {
        0 => lit(Value::Bool(true)),
        1 => args.pop().unwrap_or(Expr::Literal(Value::Null)),
        _ => Expr::Variadic { func: VariadicFunc::And, args },
    }
}

/// `a OR b OR ...`.
pub(super) fn or(args: Vec<Expr>) -> Expr {
    Expr::Variadic { func: VariadicFunc::Or, args }
}

/// A literal.
pub(super) fn lit(v: Value) -> Expr {
    Expr::Literal(v)
}

/// `CASE WHEN cond THEN then ELSE els END`.
pub(super) fn if_then(cond: Expr, then: Expr, els: Expr) -> Expr {
    Expr::If { cond: Box::new(cond), then: Box::new(then), els: Box::new(els) }
}

/// Whether values of `ty` that compare equal can differ in
/// representation (`1.0`, `1.00`), so that grouping must normalise them.
pub(super) fn needs_normalizing(ty: DataType) -> bool {
    matches!(ty.without_modifier(), DataType::Numeric(None) | DataType::Float8 | DataType::Interval)
}

/// A grouping or duplicate-elimination key for `e` under SQL equality:
/// normalised unless its type is known to be exact.
pub(super) fn equality_key(e: Expr, ty: Option<DataType>) -> Expr {
    match ty {
        Some(t) if !needs_normalizing(t) => e,
        _ => e.call_unary(UnaryFunc::KeyNormalize),
    }
}

/// Join keys under which two values of `ty` match exactly when they are
/// the same value in the same representation, NULL matching NULL: the
/// value itself for exact types, its text form for types with several
/// representations of one value (`1.0`, `1.00`), and for nullable values
/// a NULL flag plus the text form with NULL as `''`.
pub(super) fn exact_keys(e: Expr, ty: DataType, nullable: bool) -> Vec<Expr> {
    if nullable {
        let text = e.clone().call_unary(UnaryFunc::Cast(DataType::Text));
        return vec![
            e.call_unary(UnaryFunc::IsNull),
            Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![text, lit(Value::text(""))] },
        ];
    }
    if needs_normalizing(ty) {
        vec![e.call_unary(UnaryFunc::Cast(DataType::Text))]
    } else {
        vec![e]
    }
}

/// True unless evaluating `e` provably cannot fail on any row: the
/// engine's analysis ([`can_error`]) after every subexpression that reads
/// no column has been replaced by its value (a constant part that fails
/// to evaluate makes the answer true).
///
/// One deliberate departure from the engine: a `row(...)`
/// ([`VariadicFunc::Record`], how a multi-argument aggregate such as
/// `string_agg` receives its arguments) counts as failing. Treating it as
/// safe sends such aggregates down the direct decorrelation path, which
/// then overflows the stack on queries of `tests/slt/subqueries.slt` and
/// `tests/slt/lateral.slt`.
pub(super) fn may_error(e: &Expr) -> bool {
    constants_evaluated(e).is_none_or(|e| can_error(&e) || has_record(&e))
}

/// Whether `e` builds a `row(...)`.
fn has_record(e: &Expr) -> bool {
    match e {
        Expr::Variadic { func: VariadicFunc::Record, .. } => true,
        Expr::Variadic { args, .. } => args.iter().any(has_record),
        Expr::Unary { arg, .. } => has_record(arg),
        Expr::Binary { left, right, .. } => has_record(left) || has_record(right),
        Expr::If { cond, then, els } => has_record(cond) || has_record(then) || has_record(els),
        Expr::Column(_) | Expr::Literal(_) => false,
    }
}

/// `e` with each subexpression reading no column replaced by its value;
/// `None` when one of them fails.
fn constants_evaluated(e: &Expr) -> Option<Expr> {
    if e.is_constant() {
        return e.eval(&[]).ok().map(Expr::Literal);
    }
    Some(match e {
        Expr::Column(_) | Expr::Literal(_) => e.clone(),
        Expr::Unary { func, arg } => Expr::Unary { func: func.clone(), arg: Box::new(constants_evaluated(arg)?) },
        Expr::Binary { func, left, right } => Expr::Binary {
            func: func.clone(),
            left: Box::new(constants_evaluated(left)?),
            right: Box::new(constants_evaluated(right)?),
        },
        Expr::Variadic { func, args } => {
            Expr::Variadic { func: func.clone(), args: args.iter().map(constants_evaluated).collect::<Option<_>>()? }
        }
        Expr::If { cond, then, els } => Expr::If {
            cond: Box::new(constants_evaluated(cond)?),
            then: Box::new(constants_evaluated(then)?),
            els: Box::new(constants_evaluated(els)?),
        },
    })
}

/// Calls `f` on every expression of `plan`'s own node (not its inputs').
pub(super) fn node_exprs(plan: &Plan, f: &mut impl FnMut(&Expr)) {
    match plan {
        Plan::Get(_)
        | Plan::Constant(_)
        | Plan::Distinct(_)
        | Plan::Union(_)
        | Plan::Negate(_)
        | Plan::Threshold(_) => {}
        Plan::Filter(x) => x.predicates.iter().for_each(f),
        Plan::Map(x) => x.exprs.iter().for_each(f),
        Plan::Join(x) => {
            for (l, r) in &x.equi {
                f(l);
                f(r);
            }
            x.residual.iter().for_each(f);
        }
        Plan::Reduce(x) => {
            x.group_key.iter().for_each(&mut *f);
            x.aggregates.iter().for_each(|a| f(&a.expr));
        }
        Plan::TopK(x) => x.group_key.iter().for_each(f),
    }
}

/// Whether any expression in `plan` (inputs included) reads a parameter.
pub(super) fn plan_has_params(plan: &Plan) -> bool {
    let mut found = false;
    plan.visit(&mut |p| {
        if !found {
            node_exprs(p, &mut |e| found |= mentions_params(e));
        }
    });
    found
}

/// Calls `f` on every expression of `plan` and its inputs, mutably.
pub(super) fn map_plan_exprs(plan: &mut Plan, f: &mut impl FnMut(&mut Expr)) {
    match plan {
        Plan::Get(_) | Plan::Constant(_) => {}
        Plan::Filter(x) => {
            x.predicates.iter_mut().for_each(&mut *f);
            map_plan_exprs(&mut x.input, f);
        }
        Plan::Map(x) => {
            x.exprs.iter_mut().for_each(&mut *f);
            map_plan_exprs(&mut x.input, f);
        }
        Plan::Join(x) => {
            for (l, r) in x.equi.iter_mut() {
                f(l);
                f(r);
            }
            x.residual.iter_mut().for_each(&mut *f);
            map_plan_exprs(&mut x.left, f);
            map_plan_exprs(&mut x.right, f);
        }
        Plan::Reduce(x) => {
            x.group_key.iter_mut().for_each(&mut *f);
            x.aggregates.iter_mut().for_each(|a| f(&mut a.expr));
            map_plan_exprs(&mut x.input, f);
        }
        Plan::TopK(x) => {
            x.group_key.iter_mut().for_each(&mut *f);
            map_plan_exprs(&mut x.input, f);
        }
        Plan::Distinct(x) => map_plan_exprs(&mut x.input, f),
        Plan::Negate(x) => map_plan_exprs(&mut x.input, f),
        Plan::Threshold(x) => map_plan_exprs(&mut x.input, f),
        Plan::Union(x) => x.inputs.iter_mut().for_each(|i| map_plan_exprs(i, f)),
    }
}

/// `e` with every column below the placeholders (a column of a row, not a
/// placeholder or parameter) renumbered by `f`.
pub(crate) fn map_row_columns(e: &Expr, f: &mut impl FnMut(usize) -> usize) -> Expr {
    let mut e = e.clone();
    e.map_columns(&mut |c| if c >= SUBQ_BASE { c } else { f(c) });
    e
}
