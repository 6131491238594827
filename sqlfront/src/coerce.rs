//! Typed expressions and PostgreSQL's coercion rules: implicit, explicit
//! and assignment casts, operator resolution for comparison, arithmetic,
//! concatenation and LIKE.

use freshet_engine::expr::{BinaryFunc, Expr, UnaryFunc};
use freshet_engine::plan::AggregateFunc;
use freshet_engine::value::{DataType, Value};

use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::types::{base, can_implicit, category, is_bpchar, numeric_rank, same_base, type_name, Category};

/// An expression with its type. `DataType::Unknown` marks an untyped
/// literal (`Literal(Text)` or `Literal(Null)`) whose type the context
/// decides.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Typed {
    /// The expression.
    pub expr: Expr,
    /// Its type.
    pub ty: DataType,
}

impl Typed {
    /// An expression of type `ty`.
    pub fn new(expr: Expr, ty: DataType) -> Typed {
        Typed { expr, ty }
    }

    /// An untyped string literal.
    pub fn unknown_text(s: String) -> Typed {
        Typed { expr: Expr::Literal(Value::text(&s)), ty: DataType::Unknown }
    }
}

const NO_OPERATOR_HINT: &str =
    "No operator matches the given name and argument types. You might need to add explicit type casts.";
const NOT_UNIQUE_HINT: &str = "Could not choose a best candidate operator. You might need to add explicit type casts.";

fn no_operator(l: DataType, symbol: &str, r: DataType, pos: Option<Position>) -> SqlError {
    SqlError::new(
        ErrorKind::UndefinedFunction,
        format!("operator does not exist: {} {symbol} {}", type_name(l), type_name(r)),
        pos,
    )
    .with_hint(NO_OPERATOR_HINT)
}

fn not_unique(l: DataType, symbol: &str, r: DataType, pos: Option<Position>) -> SqlError {
    SqlError::new(
        ErrorKind::UndefinedFunction,
        format!("operator is not unique: {} {symbol} {}", type_name(l), type_name(r)),
        pos,
    )
    .with_hint(NOT_UNIQUE_HINT)
}

/// `operator does not exist: - boolean` and kin.
pub(crate) fn no_unary_operator(symbol: &str, t: DataType, pos: Option<Position>) -> SqlError {
    SqlError::new(ErrorKind::UndefinedFunction, format!("operator does not exist: {symbol} {}", type_name(t)), pos)
        .with_hint("No operator matches the given name and argument type. You might need to add an explicit type cast.")
}

/// An untyped literal resolved to `text` (PostgreSQL's last resort).
pub(crate) fn resolve_unknown(t: Typed) -> Typed {
    if t.ty == DataType::Unknown {
        Typed::new(t.expr, DataType::Text)
    } else {
        t
    }
}

/// An untyped literal as a value of `target` (via the type's input
/// function, i.e. a cast from text, unless `target` is unbounded text).
fn unknown_to(t: Typed, target: DataType) -> Typed {
    match (&t.expr, target) {
        (Expr::Literal(Value::Null), _) => Typed::new(Expr::Literal(Value::Null), target),
        (_, DataType::Text | DataType::Varchar(None) | DataType::Bpchar) => Typed::new(t.expr, target),
        _ => Typed::new(t.expr.call_unary(UnaryFunc::Cast(target)), target),
    }
}

/// Implicit coercion of `t` to `target` (the caller checked the types are
/// compatible, e.g. through [`types::common_type`]).
pub(crate) fn implicit(t: Typed, target: DataType, pos: Option<Position>) -> Result<Typed> {
    if t.ty == target {
        return Ok(t);
    }
    if t.ty == DataType::Unknown {
        return Ok(unknown_to(t, target));
    }
    if !can_implicit(t.ty, target) {
        return Err(SqlError::new(
            ErrorKind::DatatypeMismatch,
            format!("cannot cast type {} to {} implicitly", type_name(t.ty), type_name(target)),
            pos,
        ));
    }
    Ok(convert(t, target))
}

/// Converts a value of a castable type to `target`, with PostgreSQL's
/// conversion for each pair (bpchar to text strips trailing blanks, text to
/// bpchar keeps the value, modifiers applied by a cast).
fn convert(t: Typed, target: DataType) -> Typed {
    let from = t.ty;
    if from == target {
        return t;
    }
    let expr = if is_bpchar(from) && matches!(target, DataType::Text | DataType::Varchar(_)) {
        let stripped = t.expr.call_unary(UnaryFunc::CharToText);
        match target {
            DataType::Varchar(Some(_)) => stripped.call_unary(UnaryFunc::Cast(target)),
            _ => stripped,
        }
    } else if same_base(from, target) && target.without_modifier() == target && !is_bpchar(target) {
        // Dropping a modifier changes nothing about the value.
        t.expr
    } else if from.is_string() && matches!(target, DataType::Text | DataType::Varchar(None) | DataType::Bpchar) {
        t.expr
    } else {
        t.expr.call_unary(UnaryFunc::Cast(target))
    };
    Typed::new(expr, target)
}

/// Whether PostgreSQL has an explicit cast from `from` to `to`.
fn cast_exists(from: DataType, to: DataType) -> bool {
    if same_base(from, to) || can_implicit(from, to) {
        return true;
    }
    let (cf, ct) = (category(from), category(to));
    match (cf, ct) {
        (Category::Numeric, Category::Numeric) => true,
        (Category::String, _) | (_, Category::String) => true,
        (Category::DateTime, Category::DateTime) => true,
        _ => matches!((from, to), (DataType::Bool, DataType::Int4) | (DataType::Int4, DataType::Bool)),
    }
}

/// `CAST(t AS target)` / `t::target`.
pub(crate) fn cast_explicit(t: Typed, target: DataType, pos: Option<Position>) -> Result<Typed> {
    if t.ty == DataType::Unknown {
        return Ok(match (&t.expr, target) {
            (Expr::Literal(Value::Null), _) => Typed::new(Expr::Literal(Value::Null), target),
            (_, DataType::Text | DataType::Varchar(None)) => Typed::new(t.expr, target),
            _ => Typed::new(t.expr.call_unary(UnaryFunc::Cast(target)), target),
        });
    }
    if !cast_exists(t.ty, target) {
        return Err(SqlError::new(
            ErrorKind::Other,
            format!("cannot cast type {} to {}", type_name(t.ty), type_name(target)),
            pos,
        ));
    }
    if t.ty == target {
        return Ok(t);
    }
    Ok(convert(t, target))
}

/// Assignment coercion of `t` into a column `column` of type `target`
/// (INSERT, UPDATE): PostgreSQL's assignment casts, then the column's
/// modifier enforced.
pub(crate) fn assign(t: Typed, target: DataType, column: &str, pos: Option<Position>) -> Result<Expr> {
    let from = t.ty;
    if from == DataType::Unknown {
        return Ok(match &t.expr {
            Expr::Literal(Value::Null) => Expr::Literal(Value::Null),
            _ if target == DataType::Text || target == DataType::Varchar(None) => t.expr,
            _ => t.expr.call_unary(UnaryFunc::AssignCast(target)),
        });
    }
    let ok = same_base(from, target)
        || can_implicit(from, target)
        || (category(from) == Category::Numeric && category(target) == Category::Numeric)
        || (category(from) == Category::DateTime && category(target) == Category::DateTime)
        || category(target) == Category::String;
    if !ok {
        return Err(SqlError::new(
            ErrorKind::DatatypeMismatch,
            format!("column \"{column}\" is of type {} but expression is of type {}", type_name(target), type_name(from)),
            pos,
        )
        .with_hint("You will need to rewrite or cast the expression."));
    }
    if from == target {
        return Ok(t.expr);
    }
    let expr = if is_bpchar(from) && matches!(base(target), DataType::Text | DataType::Varchar(_)) {
        t.expr.call_unary(UnaryFunc::CharToText)
    } else {
        t.expr
    };
    let unbounded_string = matches!(target, DataType::Text | DataType::Varchar(None) | DataType::Bpchar) && from.is_string();
    let unbounded_numeric = target == DataType::Numeric(None) && same_base(from, target);
    let needs_cast = !unbounded_string && !unbounded_numeric;
    Ok(if needs_cast { expr.call_unary(UnaryFunc::AssignCast(target)) } else { expr })
}

/// A boolean condition: `t` must be boolean (an untyped literal is read as
/// one), as PostgreSQL's `argument of WHERE must be type boolean`.
pub(crate) fn to_bool(t: Typed, clause: &str, pos: Option<Position>) -> Result<Expr> {
    match t.ty {
        DataType::Bool => Ok(t.expr),
        DataType::Unknown => Ok(unknown_to(t, DataType::Bool).expr),
        other => Err(SqlError::new(
            ErrorKind::DatatypeMismatch,
            format!("argument of {clause} must be type boolean, not type {}", type_name(other)),
            pos,
        )),
    }
}

/// The type both sides of a comparison are compared in, with each side
/// converted; `None` if no operator exists.
fn comparison_operands(a: Typed, b: Typed) -> std::result::Result<(Expr, Expr, DataType), (DataType, DataType)> {
    let (a, b) = match (a.ty, b.ty) {
        (DataType::Unknown, DataType::Unknown) => (unknown_to(a, DataType::Text), unknown_to(b, DataType::Text)),
        (DataType::Unknown, t) => (unknown_to(a, base(t)), b),
        (t, DataType::Unknown) => {
            let bt = base(t);
            (a, unknown_to(b, bt))
        }
        _ => (a, b),
    };
    let (ta, tb) = (a.ty, b.ty);
    if let (Some(ra), Some(rb)) = (numeric_rank(ta), numeric_rank(tb)) {
        let ct = if ra >= rb { base(ta) } else { base(tb) };
        return Ok((convert(a, ct).expr, convert(b, ct).expr, ct));
    }
    match (category(ta), category(tb)) {
        (Category::String, Category::String) => {
            let text_cmp = ta == DataType::Text || tb == DataType::Text || !(is_bpchar(ta) || is_bpchar(tb));
            if text_cmp {
                let strip = |t: Typed| if is_bpchar(t.ty) { strip_blanks(t.expr) } else { t.expr };
                Ok((strip(a), strip(b), DataType::Text))
            } else {
                // bpchar comparison: trailing blanks are insignificant on
                // both sides.
                Ok((strip_blanks(a.expr), strip_blanks(b.expr), DataType::Bpchar))
            }
        }
        (Category::DateTime, Category::DateTime) => {
            let rank = |t: DataType| match t {
                DataType::Date => 0,
                DataType::Timestamp => 1,
                _ => 2,
            };
            let ct = if rank(ta) >= rank(tb) { ta } else { tb };
            Ok((convert(a, ct).expr, convert(b, ct).expr, ct))
        }
        _ if same_base(ta, tb) => Ok((a.expr, b.expr, base(ta))),
        _ => Err((ta, tb)),
    }
}

/// Removes trailing blanks (constant-folded for literals).
fn strip_blanks(e: Expr) -> Expr {
    match e {
        Expr::Literal(Value::Text(s)) => Expr::Literal(Value::text(s.trim_end_matches(' '))),
        Expr::Literal(Value::Null) => Expr::Literal(Value::Null),
        e => e.call_unary(UnaryFunc::CharToText),
    }
}

/// A comparison operator (`=`, `<`, `IS DISTINCT FROM`, ...).
pub(crate) fn comparison(func: BinaryFunc, symbol: &str, a: Typed, b: Typed, pos: Option<Position>) -> Result<Typed> {
    let symbol = if matches!(func, BinaryFunc::IsDistinctFrom | BinaryFunc::IsNotDistinctFrom) { "=" } else { symbol };
    // `date < timestamp` is PostgreSQL's cross-type operator, which never
    // fails (a date beyond timestamp's range compares as ±infinity), and
    // evaluation compares the two types directly: no cast, so the
    // comparison stays a conjunct that cannot fail and moves to its table.
    // (Equality keeps the cast: join keys compare normalised values of one
    // type.)
    if matches!(func, BinaryFunc::Lt | BinaryFunc::Lte | BinaryFunc::Gt | BinaryFunc::Gte)
        && matches!((a.ty, b.ty), (DataType::Date, DataType::Timestamp) | (DataType::Timestamp, DataType::Date))
    {
        return Ok(Typed::new(a.expr.call_binary(func, b.expr), DataType::Bool));
    }
    match comparison_operands(a, b) {
        Ok((l, r, _)) => Ok(Typed::new(l.call_binary(func, r), DataType::Bool)),
        Err((ta, tb)) => Err(no_operator(ta, symbol, tb, pos)),
    }
}

/// The operands of a comparison as [`comparison`] converts them, with the
/// type they are compared in.
pub(crate) fn comparison_operands_typed(
    symbol: &str,
    a: Typed,
    b: Typed,
    pos: Option<Position>,
) -> Result<(Expr, Expr, DataType)> {
    comparison_operands(a, b).map_err(|(ta, tb)| no_operator(ta, symbol, tb, pos))
}

/// `NULLIF(a, b)`: `a` unless it equals `b`; typed as `a` after the
/// equality operator's resolution.
pub(crate) fn nullif(a: Typed, b: Typed, pos: Option<Position>) -> Result<Typed> {
    let a_ty = if a.ty == DataType::Unknown {
        if b.ty == DataType::Unknown { DataType::Text } else { base(b.ty) }
    } else {
        a.ty
    };
    let a_val = if a.ty == DataType::Unknown { unknown_to(a.clone(), a_ty) } else { a.clone() };
    let (l, r, ct) = comparison_operands(a, b).map_err(|(ta, tb)| no_operator(ta, "=", tb, pos))?;
    if is_bpchar(a_ty) || ct == DataType::Bpchar {
        // Compare without trailing blanks, return the value as it is.
        let cond = l.call_binary(BinaryFunc::Eq, r);
        let ty = if ct == DataType::Text { DataType::Text } else { a_ty };
        let value = if ty == DataType::Text { convert(a_val, DataType::Text).expr } else { a_val.expr };
        return Ok(Typed::new(
            Expr::If { cond: Box::new(cond), then: Box::new(Expr::Literal(Value::Null)), els: Box::new(value) },
            ty,
        ));
    }
    let ty = if same_base(a_ty, ct) { a_ty } else { ct };
    Ok(Typed::new(l.call_binary(BinaryFunc::NullIf, r), ty))
}

fn arith_symbol(f: &BinaryFunc) -> &'static str {
    match f {
        BinaryFunc::Add => "+",
        BinaryFunc::Sub => "-",
        BinaryFunc::Mul => "*",
        BinaryFunc::Div => "/",
        _ => "%",
    }
}

/// The result type of a date/time operator, and the types its operands are
/// converted to.
fn datetime_operator(func: &BinaryFunc, a: DataType, b: DataType) -> Option<(DataType, DataType, DataType)> {
    use DataType::*;
    let r = match (func, a, b) {
        (BinaryFunc::Add, Date, Int2 | Int4) => (Date, Int4, Date),
        (BinaryFunc::Add, Int2 | Int4, Date) => (Int4, Date, Date),
        (BinaryFunc::Sub, Date, Int2 | Int4) => (Date, Int4, Date),
        (BinaryFunc::Sub, Date, Date) => (Date, Date, Int4),
        (BinaryFunc::Add | BinaryFunc::Sub, Date | Timestamp, Interval) => (Timestamp, Interval, Timestamp),
        (BinaryFunc::Add, Interval, Date | Timestamp) => (Interval, Timestamp, Timestamp),
        (BinaryFunc::Add | BinaryFunc::Sub, TimestampTz, Interval) => (TimestampTz, Interval, TimestampTz),
        (BinaryFunc::Add, Interval, TimestampTz) => (Interval, TimestampTz, TimestampTz),
        (BinaryFunc::Add | BinaryFunc::Sub, Interval, Interval) => (Interval, Interval, Interval),
        (BinaryFunc::Sub, Date | Timestamp, Date | Timestamp) if a != Date || b != Date => (Timestamp, Timestamp, Interval),
        (BinaryFunc::Sub, TimestampTz, Date | Timestamp | TimestampTz) | (BinaryFunc::Sub, Date | Timestamp, TimestampTz) => {
            (TimestampTz, TimestampTz, Interval)
        }
        (BinaryFunc::Mul | BinaryFunc::Div, Interval, n) if numeric_rank(n).is_some() => (Interval, Float8, Interval),
        (BinaryFunc::Mul, n, Interval) if numeric_rank(n).is_some() => (Float8, Interval, Interval),
        _ => return None,
    };
    Some(r)
}

/// `+ - * / %`.
pub(crate) fn arithmetic(func: BinaryFunc, a: Typed, b: Typed, pos: Option<Position>) -> Result<Typed> {
    let symbol = arith_symbol(&func);
    let (a, b) = match (a.ty, b.ty) {
        (DataType::Unknown, DataType::Unknown) => return Err(not_unique(a.ty, symbol, b.ty, pos)),
        (DataType::Unknown, t) | (t, DataType::Unknown) => {
            let known_left = b.ty == DataType::Unknown;
            let same = base(t);
            // PostgreSQL first tries the known side's type for the literal,
            // then the one operator left for that side: `timestamp +
            // '1 day'` adds an interval, `interval * '2'` scales by float8.
            let adopted = if numeric_rank(t).is_some() || datetime_operator(&func, same, same).is_some() {
                Some(same)
            } else {
                match (&func, same, known_left) {
                    (BinaryFunc::Add, DataType::Timestamp | DataType::TimestampTz, _) => Some(DataType::Interval),
                    (BinaryFunc::Mul, DataType::Interval, _) | (BinaryFunc::Div, DataType::Interval, true) => {
                        Some(DataType::Float8)
                    }
                    _ => None,
                }
            };
            let ok = adopted.is_some();
            let adopted = adopted.unwrap_or(same);
            if !ok {
                return Err(if matches!(category(t), Category::DateTime | Category::Timespan) {
                    not_unique(a.ty, symbol, b.ty, pos)
                } else {
                    no_operator(a.ty, symbol, b.ty, pos)
                });
            }
            if known_left {
                (a, unknown_to(b, adopted))
            } else {
                (unknown_to(a, adopted), b)
            }
        }
        _ => (a, b),
    };
    let (ta, tb) = (a.ty, b.ty);
    if let (Some(ra), Some(rb)) = (numeric_rank(ta), numeric_rank(tb)) {
        let ct = if ra >= rb { base(ta) } else { base(tb) };
        if ct == DataType::Float8 && func == BinaryFunc::Mod {
            return Err(no_operator(ta, symbol, tb, pos));
        }
        let (l, r) = (convert(a, ct).expr, convert(b, ct).expr);
        return Ok(Typed::new(l.call_binary(func, r), ct));
    }
    match datetime_operator(&func, ta, tb) {
        Some((ca, cb, out)) => {
            let (l, r) = (convert(a, ca).expr, convert(b, cb).expr);
            Ok(Typed::new(l.call_binary(func, r), out))
        }
        None => Err(no_operator(ta, symbol, tb, pos)),
    }
}

/// Unary minus.
pub(crate) fn negate(t: Typed, pos: Option<Position>) -> Result<Typed> {
    match t.ty {
        DataType::Unknown => Err(SqlError::new(
            ErrorKind::UndefinedFunction,
            "operator is not unique: - unknown",
            pos,
        )
        .with_hint("Could not choose a best candidate operator. You might need to add explicit type casts.")),
        ty if ty.is_numeric_family() || ty == DataType::Interval => {
            Ok(Typed::new(t.expr.call_unary(UnaryFunc::Neg), base(ty)))
        }
        ty => Err(no_unary_operator("-", ty, pos)),
    }
}

fn to_text(t: Typed) -> Expr {
    match t.ty {
        DataType::Unknown | DataType::Text | DataType::Varchar(_) => t.expr,
        ty if is_bpchar(ty) => t.expr.call_unary(UnaryFunc::CharToText),
        _ => t.expr.call_unary(UnaryFunc::Cast(DataType::Text)),
    }
}

/// `a || b` (text concatenation; a non-string side is converted to text
/// when the other side is a string, as PostgreSQL's `anytextcat`).
pub(crate) fn concat(a: Typed, b: Typed, pos: Option<Position>) -> Result<Typed> {
    let stringish = |t: DataType| t == DataType::Unknown || t.is_string();
    if !stringish(a.ty) && !stringish(b.ty) {
        return Err(no_operator(a.ty, "||", b.ty, pos));
    }
    let (l, r) = (to_text(a), to_text(b));
    Ok(Typed::new(l.call_binary(BinaryFunc::Concat, r), DataType::Text))
}

/// Operands of LIKE/ILIKE: strings (an untyped literal is text). A
/// `char(n)` operand keeps its blanks, as `bpcharlike` does.
pub(crate) fn like_operands(a: Typed, p: Typed, op: &str, pos: Option<Position>) -> Result<(Expr, Expr)> {
    let ok = |t: DataType| t == DataType::Unknown || t.is_string();
    if !ok(a.ty) || !ok(p.ty) {
        return Err(no_operator(a.ty, op, p.ty, pos));
    }
    Ok((a.expr, p.expr))
}

/// Checks and normalises an aggregate's argument: the result decides the
/// aggregate's input type (`max(varchar)` is `max(text)`, `max(char(n))`
/// is `max(bpchar)`, modifiers dropped).
pub(crate) fn aggregate_arg(name: &str, func: AggregateFunc, t: Typed, pos: Option<Position>) -> Result<Typed> {
    let not_unique_fn = |ty: DataType| {
        SqlError::new(ErrorKind::UndefinedFunction, format!("function {name}({}) is not unique", type_name(ty)), pos)
            .with_hint("Could not choose a best candidate function. You might need to add explicit type casts.")
    };
    let ty = t.ty;
    let normal = match func {
        AggregateFunc::Count | AggregateFunc::CountStar => {
            if ty == DataType::Unknown {
                DataType::Text
            } else {
                ty
            }
        }
        AggregateFunc::Sum | AggregateFunc::Avg => match ty {
            DataType::Unknown => return Err(not_unique_fn(ty)),
            t if t.is_numeric_family() || t == DataType::Interval => base(t),
            t => return Err(crate::expr::no_function(name, &[t], pos)),
        },
        AggregateFunc::Min | AggregateFunc::Max => match ty {
            DataType::Unknown => DataType::Text,
            DataType::Varchar(_) => DataType::Text,
            t if is_bpchar(t) => DataType::Bpchar,
            t if t.is_numeric_family()
                || matches!(
                    t,
                    DataType::Text | DataType::Date | DataType::Timestamp | DataType::TimestampTz | DataType::Interval
                ) =>
            {
                base(t)
            }
            t => return Err(crate::expr::no_function(name, &[t], pos)),
        },
        // Not a SQL function: the planner adds it with the key's own type.
        AggregateFunc::MinRepr => ty,
        AggregateFunc::BoolAnd | AggregateFunc::BoolOr => match ty {
            DataType::Bool => ty,
            DataType::Unknown => return implicit(t, DataType::Bool, pos),
            t => return Err(crate::expr::no_function(name, &[t], pos)),
        },
        AggregateFunc::VarSamp | AggregateFunc::VarPop | AggregateFunc::StddevSamp | AggregateFunc::StddevPop => {
            match ty {
                // Of the candidates (integers, float4, float8, numeric),
                // an untyped literal takes the preferred type, float8.
                DataType::Unknown => return implicit(t, DataType::Float8, pos),
                t if t.is_numeric_family() => base(t),
                t => return Err(crate::expr::no_function(name, &[t], pos)),
            }
        }
        AggregateFunc::ArrayAgg(_) => match ty {
            DataType::Unknown => return Err(not_unique_fn(ty)),
            DataType::Array(_) => return Err(SqlError::unsupported(format!("{name} over arrays"), pos)),
            t => base(t),
        },
        // Typed with its delimiter by `string_agg_args`.
        AggregateFunc::StringAgg(_) => ty,
    };
    Ok(Typed::new(t.expr, normal))
}

/// The value and delimiter of `string_agg`: both text (strings and
/// untyped literals; `char(n)` loses its trailing blanks) or both `bytea`.
pub(crate) fn string_agg_args(value: Typed, delimiter: Typed, pos: Option<Position>) -> Result<(Typed, Typed)> {
    let texty = |t: DataType| t == DataType::Unknown || t.is_string();
    let bytes = |t: DataType| t == DataType::Unknown || t == DataType::Bytea;
    if texty(value.ty) && texty(delimiter.ty) {
        let text = |t: Typed| Typed::new(to_text(t), DataType::Text);
        return Ok((text(value), text(delimiter)));
    }
    if bytes(value.ty) && bytes(delimiter.ty) {
        return Ok((implicit(value, DataType::Bytea, pos)?, implicit(delimiter, DataType::Bytea, pos)?));
    }
    Err(crate::expr::no_function("string_agg", &[value.ty, delimiter.ty], pos))
}

/// Whether `e`, over input columns whose nullability is `inputs`, can be
/// NULL (conservative: true when unsure).
pub(crate) fn nullable(e: &Expr, inputs: &dyn Fn(usize) -> bool) -> bool {
    match e {
        Expr::Column(c) => inputs(*c),
        Expr::Literal(v) => v.is_null(),
        Expr::Unary { func, arg } => match func {
            UnaryFunc::IsNull
            | UnaryFunc::IsNotNull
            | UnaryFunc::IsTrue
            | UnaryFunc::IsFalse
            | UnaryFunc::IsNotTrue
            | UnaryFunc::IsNotFalse => false,
            _ => nullable(arg, inputs),
        },
        Expr::Binary { func, left, right } => match func {
            BinaryFunc::IsDistinctFrom | BinaryFunc::IsNotDistinctFrom => false,
            BinaryFunc::NullIf => true,
            _ => nullable(left, inputs) || nullable(right, inputs),
        },
        Expr::Variadic { func, args } => match func {
            freshet_engine::expr::VariadicFunc::Coalesce => args.iter().all(|a| nullable(a, inputs)),
            freshet_engine::expr::VariadicFunc::Call(f) => {
                f.can_introduce_null() || args.iter().any(|a| nullable(a, inputs))
            }
            _ => args.iter().any(|a| nullable(a, inputs)),
        },
        Expr::If { then, els, .. } => nullable(then, inputs) || nullable(els, inputs),
    }
}
