//! Scalar function calls: PostgreSQL's function resolution over the
//! signatures freshet implements, argument coercion, and the SQL-syntax
//! forms (`EXTRACT(f FROM x)`, `SUBSTRING(s FROM a FOR b)`,
//! `TRIM(LEADING c FROM s)`, `POSITION(a IN b)`, `CEIL`, `FLOOR`) and the
//! regular-expression operators.
//!
//! Resolution follows PostgreSQL's `func_get_detail` /
//! `func_select_candidate`: an exact match wins; otherwise the candidates
//! every argument can be implicitly cast to are kept, then those with the
//! most exact type matches, then the most preferred-type matches, then
//! unknown-typed literals are resolved by type category (string wins), and
//! finally, when all known arguments share one type, unknown arguments are
//! assumed to have it. Signatures PostgreSQL has but freshet does not
//! implement take part in resolution and are rejected by name when chosen,
//! so a call never silently resolves to a different function.

use freshet_engine::expr::{BinaryFunc, Expr, RegexpFunc, ScalarFunc, UnaryFunc, VariadicFunc};
use freshet_engine::value::{DataType, Value};
use sqlparser::ast;

use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::{no_function, pos_of, Binder};
use crate::types::{self, base, can_implicit, category, Category};

/// How a chosen signature is evaluated.
#[derive(Clone, Debug)]
enum Imp {
    /// A scalar function over the coerced arguments.
    Call(ScalarFunc),
    /// `length(bpchar)`: characters without trailing blanks.
    BpcharLength,
    /// `mod(a, b)`: the `%` operator.
    Mod,
    /// A PostgreSQL signature freshet does not implement.
    Unsupported(&'static str),
}

/// One signature: argument types, result type, implementation.
#[derive(Clone, Debug)]
struct Sig {
    args: Vec<DataType>,
    ret: DataType,
    imp: Imp,
}

const NUMERIC: DataType = DataType::Numeric(None);

fn sig(args: &[DataType], ret: DataType, imp: Imp) -> Sig {
    Sig { args: args.to_vec(), ret, imp }
}

fn call(args: &[DataType], ret: DataType, f: ScalarFunc) -> Sig {
    sig(args, ret, Imp::Call(f))
}

/// Functions whose value changes with time, not with the data: no view
/// could maintain them, and freshet rejects them everywhere.
const NON_DETERMINISTIC: &[&str] = &[
    "now",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "clock_timestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "timeofday",
    "random",
    "setseed",
    "gen_random_uuid",
];

/// The signatures of `name` (PostgreSQL's, restricted to freshet's
/// types), or `None` for a function freshet does not know.
fn candidates(name: &str) -> Option<Vec<Sig>> {
    use DataType::{Bool, Bpchar, Bytea, Date, Float8, Int2, Int4, Int8, Interval, Text, Timestamp, TimestampTz};
    use ScalarFunc as F;
    let text1 = |f: F| vec![call(&[Text], Text, f)];
    let num1 = |f: F| vec![call(&[Float8], Float8, f.clone()), call(&[NUMERIC], NUMERIC, f)];
    let s = match name {
        "upper" => text1(F::Upper),
        "lower" => text1(F::Lower),
        "initcap" => text1(F::Initcap),
        "reverse" => text1(F::Reverse),
        "length" | "char_length" | "character_length" => {
            let mut v = vec![call(&[Text], Int4, F::CharLength), sig(&[Bpchar], Int4, Imp::BpcharLength)];
            if name == "length" {
                v.push(call(&[Bytea], Int4, F::OctetLength));
            }
            v
        }
        "octet_length" => vec![
            call(&[Text], Int4, F::OctetLength),
            call(&[Bpchar], Int4, F::OctetLength),
            call(&[Bytea], Int4, F::OctetLength),
        ],
        "substring" | "substr" => {
            let mut v = vec![
                call(&[Text, Int4, Int4], Text, F::Substring),
                call(&[Text, Int4], Text, F::Substring),
                sig(&[Bytea, Int4, Int4], Bytea, Imp::Unsupported("substring of bytea")),
                sig(&[Bytea, Int4], Bytea, Imp::Unsupported("substring of bytea")),
            ];
            if name == "substring" {
                v.push(sig(&[Text, Text], Text, Imp::Unsupported("substring with a regular expression")));
                v.push(sig(&[Text, Text, Text], Text, Imp::Unsupported("substring with a SQL regular expression")));
            }
            v
        }
        "strpos" => vec![call(&[Text, Text], Int4, F::Strpos)],
        "position" => vec![
            call(&[Text, Text], Int4, F::Strpos),
            sig(&[Bytea, Bytea], Int4, Imp::Unsupported("position in bytea")),
        ],
        "btrim" | "ltrim" | "rtrim" => {
            let f = match name {
                "btrim" => F::Btrim,
                "ltrim" => F::Ltrim,
                _ => F::Rtrim,
            };
            vec![
                call(&[Text], Text, f.clone()),
                call(&[Text, Text], Text, f),
                sig(&[Bytea, Bytea], Bytea, Imp::Unsupported("trimming bytea")),
            ]
        }
        "replace" => vec![call(&[Text, Text, Text], Text, F::Replace)],
        "split_part" => vec![call(&[Text, Text, Int4], Text, F::SplitPart)],
        "left" => vec![call(&[Text, Int4], Text, F::Left)],
        "right" => vec![call(&[Text, Int4], Text, F::Right)],
        "lpad" | "rpad" => {
            let f = if name == "lpad" { F::Lpad } else { F::Rpad };
            vec![call(&[Text, Int4], Text, f.clone()), call(&[Text, Int4, Text], Text, f)]
        }
        "repeat" => vec![call(&[Text, Int4], Text, F::Repeat)],
        "starts_with" => vec![call(&[Text, Text], Bool, F::StartsWith)],
        "ascii" => vec![call(&[Text], Int4, F::Ascii)],
        "chr" => vec![call(&[Int4], Text, F::Chr)],
        "md5" => vec![call(&[Text], Text, F::Md5), call(&[Bytea], Text, F::Md5)],
        "overlay" => vec![
            call(&[Text, Text, Int4, Int4], Text, F::Overlay),
            call(&[Text, Text, Int4], Text, F::Overlay),
            sig(&[Bytea, Bytea, Int4, Int4], Bytea, Imp::Unsupported("overlay of bytea")),
            sig(&[Bytea, Bytea, Int4], Bytea, Imp::Unsupported("overlay of bytea")),
        ],
        "regexp_replace" => {
            let f = || F::regexp(RegexpFunc::Replace);
            vec![
                call(&[Text, Text, Text], Text, f()),
                call(&[Text, Text, Text, Text], Text, f()),
                call(&[Text, Text, Text, Int4], Text, f()),
                call(&[Text, Text, Text, Int4, Int4], Text, f()),
                call(&[Text, Text, Text, Int4, Int4, Text], Text, f()),
            ]
        }
        "regexp_match" => {
            let array = DataType::array_of(Text).unwrap_or(Text);
            let f = || F::regexp(RegexpFunc::Match);
            vec![call(&[Text, Text], array, f()), call(&[Text, Text, Text], array, f())]
        }
        "regexp_count" => {
            let f = || F::regexp(RegexpFunc::Count);
            vec![
                call(&[Text, Text], Int4, f()),
                call(&[Text, Text, Int4], Int4, f()),
                call(&[Text, Text, Int4, Text], Int4, f()),
            ]
        }
        "regexp_like" => {
            let f = || F::regexp(RegexpFunc::Like);
            vec![call(&[Text, Text], Bool, f()), call(&[Text, Text, Text], Bool, f())]
        }
        "abs" => [Int2, Int4, Int8, NUMERIC, Float8].iter().map(|t| call(&[*t], *t, F::Abs)).collect(),
        "round" | "trunc" => {
            let f = if name == "round" { F::Round } else { F::Trunc };
            let mut v = num1(f.clone());
            v.push(call(&[NUMERIC, Int4], NUMERIC, f));
            v
        }
        "ceil" | "ceiling" => num1(F::Ceil),
        "floor" => num1(F::Floor),
        "sign" => num1(F::Sign),
        "sqrt" => num1(F::Sqrt),
        "exp" => num1(F::Exp),
        "ln" => num1(F::Ln),
        "log10" => num1(F::Log10),
        "log" => {
            let mut v = num1(F::Log10);
            v.push(call(&[NUMERIC, NUMERIC], NUMERIC, F::Log));
            v
        }
        "mod" => [Int2, Int4, Int8, NUMERIC].iter().map(|t| sig(&[*t, *t], *t, Imp::Mod)).collect(),
        "div" => vec![call(&[NUMERIC, NUMERIC], NUMERIC, F::Div)],
        "power" | "pow" => vec![
            call(&[Float8, Float8], Float8, F::Power),
            call(&[NUMERIC, NUMERIC], NUMERIC, F::Power),
        ],
        "date_part" => vec![
            call(&[Text, Timestamp], Float8, F::DatePart),
            call(&[Text, TimestampTz], Float8, F::DatePart),
            call(&[Text, Interval], Float8, F::DatePart),
            call(&[Text, Date], Float8, F::DatePart),
        ],
        "extract" => vec![
            call(&[Text, Date], NUMERIC, F::Extract),
            call(&[Text, Timestamp], NUMERIC, F::Extract),
            call(&[Text, TimestampTz], NUMERIC, F::Extract),
            call(&[Text, Interval], NUMERIC, F::Extract),
        ],
        "date_trunc" => vec![
            call(&[Text, Timestamp], Timestamp, F::DateTrunc),
            call(&[Text, TimestampTz], TimestampTz, F::DateTrunc),
            call(&[Text, Interval], Interval, F::DateTrunc),
            sig(&[Text, TimestampTz, Text], TimestampTz, Imp::Unsupported("date_trunc in a named time zone")),
        ],
        "age" => vec![
            call(&[Timestamp, Timestamp], Interval, F::Age),
            call(&[TimestampTz, TimestampTz], Interval, F::Age),
            sig(
                &[Timestamp],
                Interval,
                Imp::Unsupported("age with one argument (it depends on the current date, which changes without any change to the data)"),
            ),
            sig(
                &[TimestampTz],
                Interval,
                Imp::Unsupported("age with one argument (it depends on the current date, which changes without any change to the data)"),
            ),
        ],
        "to_char" => vec![
            call(&[Timestamp, Text], Text, F::ToChar),
            call(&[TimestampTz, Text], Text, F::ToChar),
            call(&[Interval, Text], Text, F::ToChar),
            call(&[NUMERIC, Text], Text, F::ToChar),
            call(&[Int4, Text], Text, F::ToChar),
            call(&[Int8, Text], Text, F::ToChar),
            call(&[Float8, Text], Text, F::ToChar),
        ],
        _ => return None,
    };
    Some(s)
}

/// PostgreSQL's preferred type of each category.
fn is_preferred(t: DataType) -> bool {
    matches!(t, DataType::Float8 | DataType::Text | DataType::TimestampTz | DataType::Interval | DataType::Bool)
}

/// A call's argument types as resolution sees them (modifiers dropped,
/// `char(n)` as `bpchar`, `varchar(n)` as `varchar`).
fn input_type(t: DataType) -> DataType {
    base(t)
}

/// PostgreSQL's `func_select_candidate` over the candidates every argument
/// can be coerced to (more than one). `None` when no single best one.
fn select_candidate<'a>(inputs: &[DataType], cands: Vec<&'a Sig>) -> Option<&'a Sig> {
    let unknown = |i: usize| inputs[i] == DataType::Unknown;
    let n = inputs.len();
    // Most exact matches on known arguments.
    let keep_best = |cands: Vec<&'a Sig>, score: &dyn Fn(&Sig) -> usize| -> Vec<&'a Sig> {
        let best = cands.iter().map(|c| score(c)).max().unwrap_or(0);
        cands.into_iter().filter(|c| score(c) == best).collect()
    };
    let exact = |c: &Sig| (0..n).filter(|&i| !unknown(i) && c.args[i] == inputs[i]).count();
    let cands = keep_best(cands, &exact);
    if cands.len() == 1 {
        return Some(cands[0]);
    }
    // Most exact-or-preferred matches where coercion is needed.
    let preferred = |c: &Sig| {
        (0..n)
            .filter(|&i| {
                !unknown(i)
                    && (c.args[i] == inputs[i]
                        || (category(c.args[i]) == category(inputs[i]) && is_preferred(c.args[i])))
            })
            .count()
    };
    let mut cands = keep_best(cands, &preferred);
    if cands.len() == 1 {
        return Some(cands[0]);
    }
    if !(0..n).any(unknown) {
        return None;
    }
    // Resolve unknown arguments by the candidates' type categories.
    let mut resolved = true;
    let mut slots: Vec<Option<(Category, bool)>> = vec![None; n];
    for i in (0..n).filter(|&i| unknown(i)) {
        let mut slot: Option<(Category, bool)> = None;
        let mut conflict = false;
        for c in &cands {
            let cat = category(c.args[i]);
            let pref = is_preferred(c.args[i]);
            slot = match slot {
                None => Some((cat, pref)),
                Some((sc, sp)) if sc == cat => Some((sc, sp || pref)),
                Some(_) if cat == Category::String => Some((cat, pref)),
                Some(s) => {
                    conflict = true;
                    Some(s)
                }
            };
        }
        if conflict && slot.map(|s| s.0) != Some(Category::String) {
            resolved = false;
            break;
        }
        slots[i] = slot;
    }
    if resolved {
        cands.retain(|c| {
            (0..n).filter(|&i| unknown(i)).all(|i| match slots[i] {
                Some((cat, pref)) => category(c.args[i]) == cat && (!pref || is_preferred(c.args[i])),
                None => true,
            })
        });
        if cands.len() == 1 {
            return Some(cands[0]);
        }
    }
    // Last resort: unknown arguments take the one type all known
    // arguments share.
    let known: Vec<DataType> = inputs.iter().copied().filter(|t| *t != DataType::Unknown).collect();
    if !known.is_empty() && known.len() < n && known.iter().all(|t| *t == known[0]) {
        let assumed = vec![known[0]; n];
        let fits: Vec<&Sig> =
            cands.iter().copied().filter(|c| (0..n).all(|i| can_implicit(assumed[i], c.args[i]))).collect();
        if fits.len() == 1 {
            return Some(fits[0]);
        }
    }
    None
}

fn not_unique(name: &str, tys: &[DataType], pos: Option<Position>) -> SqlError {
    SqlError::new(
        ErrorKind::UndefinedFunction,
        format!(
            "function {name}({}) is not unique",
            tys.iter().map(|t| types::type_name(*t)).collect::<Vec<_>>().join(", ")
        ),
        pos,
    )
    .with_hint("Could not choose a best candidate function. You might need to add explicit type casts.")
}

/// Chooses the signature of `name` for arguments of types `tys`.
fn resolve<'a>(name: &str, sigs: &'a [Sig], tys: &[DataType], pos: Option<Position>) -> Result<&'a Sig> {
    let inputs: Vec<DataType> = tys.iter().map(|t| input_type(*t)).collect();
    let arity: Vec<&Sig> = sigs.iter().filter(|s| s.args.len() == inputs.len()).collect();
    if let Some(s) = arity.iter().find(|s| s.args == inputs) {
        return Ok(s);
    }
    let fits: Vec<&Sig> =
        arity.into_iter().filter(|s| s.args.iter().zip(&inputs).all(|(to, from)| can_implicit(*from, *to))).collect();
    match fits.len() {
        0 => Err(no_function(name, tys, pos)),
        1 => Ok(fits[0]),
        _ => select_candidate(&inputs, fits).ok_or_else(|| not_unique(name, tys, pos)),
    }
}

/// Resolves and builds a call of `name` over bound arguments.
fn build(name: &str, args: Vec<(Typed, Option<Position>)>, pos: Option<Position>) -> Result<Typed> {
    build_named(name, name, args, pos)
}

/// [`build`] for the SQL-syntax forms, whose errors name the function
/// `pg_catalog.<name>` as PostgreSQL's do.
fn build_syntax(name: &str, args: Vec<(Typed, Option<Position>)>, pos: Option<Position>) -> Result<Typed> {
    build_named(name, &format!("pg_catalog.{name}"), args, pos)
}

fn build_named(name: &str, shown: &str, args: Vec<(Typed, Option<Position>)>, pos: Option<Position>) -> Result<Typed> {
    let Some(sigs) = candidates(name) else {
        let tys: Vec<DataType> = args.iter().map(|(t, _)| t.ty).collect();
        return Err(SqlError::unsupported(
            format!("function {name}({})", tys.iter().map(|t| types::type_name(*t)).collect::<Vec<_>>().join(", ")),
            pos,
        ));
    };
    let tys: Vec<DataType> = args.iter().map(|(t, _)| t.ty).collect();
    let s = resolve(shown, &sigs, &tys, pos)?;
    let mut exprs = Vec::with_capacity(args.len());
    for ((t, p), target) in args.into_iter().zip(&s.args) {
        exprs.push(coerce::implicit(t, *target, p)?.expr);
    }
    // date_part(text, date) is PostgreSQL's SQL function over the date as
    // a timestamp.
    if matches!(s.imp, Imp::Call(ScalarFunc::DatePart)) && s.args.get(1) == Some(&DataType::Date) {
        if let Some(e) = exprs.pop() {
            exprs.push(e.call_unary(UnaryFunc::Cast(DataType::Timestamp)));
        }
    }
    let expr = match &s.imp {
        Imp::Call(f) => Expr::Variadic { func: VariadicFunc::Call(f.clone()), args: exprs },
        Imp::BpcharLength => Expr::Variadic {
            func: VariadicFunc::Call(ScalarFunc::CharLength),
            args: exprs.into_iter().map(|e| e.call_unary(UnaryFunc::CharToText)).collect(),
        },
        Imp::Mod => {
            let mut it = exprs.into_iter();
            match (it.next(), it.next()) {
                (Some(a), Some(b)) => a.call_binary(BinaryFunc::Mod, b),
                _ => return Err(SqlError::internal("mod takes two arguments")),
            }
        }
        Imp::Unsupported(what) => return Err(SqlError::unsupported(*what, pos)),
    };
    Ok(Typed::new(expr, s.ret))
}

/// A value as its type's output function writes it (what `concat`
/// shows): `t`/`f` for booleans, the text cast otherwise.
fn output_text(t: Typed) -> Expr {
    match t.ty {
        DataType::Unknown | DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Bpchar => t.expr,
        DataType::Bool => {
            let text = |s: &str| Box::new(Expr::Literal(Value::text(s)));
            let e = t.expr;
            Expr::If {
                cond: Box::new(e.clone().call_unary(UnaryFunc::IsNull)),
                then: Box::new(Expr::Literal(Value::Null)),
                els: Box::new(Expr::If { cond: Box::new(e), then: text("t"), els: text("f") }),
            }
        }
        _ => t.expr.call_unary(UnaryFunc::Cast(DataType::Text)),
    }
}

/// Binds a call `name(args)` of a function that is not an aggregate.
pub(crate) fn bind_call(b: &mut Binder<'_>, name: &str, args: &[&ast::Expr], pos: Option<Position>) -> Result<Typed> {
    if NON_DETERMINISTIC.contains(&name) {
        return Err(SqlError::unsupported(
            format!(
                "{name} (its value changes over time without any change to the data, so a view could not be maintained)"
            ),
            pos,
        ));
    }
    let mut bound = Vec::with_capacity(args.len());
    for e in args {
        bound.push((b.bind(e)?, pos_of(*e)));
    }
    match name {
        "concat" | "concat_ws" => {
            if bound.is_empty() {
                return Err(no_function(name, &[], pos));
            }
            let mut exprs = Vec::with_capacity(bound.len());
            let mut it = bound.into_iter();
            if name == "concat_ws" {
                let Some((sep, p)) = it.next() else { return Err(no_function(name, &[], pos)) };
                let tys: Vec<DataType> = std::iter::once(sep.ty).chain(it.clone().map(|(t, _)| t.ty)).collect();
                if it.len() == 0 || !(sep.ty == DataType::Unknown || sep.ty.is_string()) {
                    return Err(no_function(name, &tys, pos));
                }
                exprs.push(coerce::implicit(sep, DataType::Text, p)?.expr);
            }
            exprs.extend(it.map(|(t, _)| output_text(t)));
            let f = if name == "concat" { ScalarFunc::Concat } else { ScalarFunc::ConcatWs };
            Ok(Typed::new(Expr::Variadic { func: VariadicFunc::Call(f), args: exprs }, DataType::Text))
        }
        "greatest" | "least" => {
            if bound.is_empty() {
                return Err(crate::parse::syntax_error_near(")", pos));
            }
            let context = name.to_ascii_uppercase();
            let all: Vec<_> = bound.iter().map(|(t, p)| (t.ty, *p)).collect();
            let mut ty = types::common_type(&all, &context)?;
            if ty == DataType::Unknown {
                ty = DataType::Text;
            }
            let args = bound.into_iter().map(|(t, p)| Ok(coerce::implicit(t, ty, p)?.expr)).collect::<Result<_>>()?;
            let f = if name == "greatest" { ScalarFunc::Greatest } else { ScalarFunc::Least };
            Ok(Typed::new(Expr::Variadic { func: VariadicFunc::Call(f), args }, ty))
        }
        _ => build(name, bound, pos),
    }
}

/// Binds the SQL-syntax function forms: `EXTRACT`, `SUBSTRING`, `TRIM`,
/// `POSITION`, `CEIL`, `FLOOR`, `OVERLAY`.
pub(crate) fn bind_special(b: &mut Binder<'_>, e: &ast::Expr, pos: Option<Position>) -> Result<Typed> {
    use ast::Expr as A;
    match e {
        A::Extract { field, syntax, expr } => {
            if !matches!(syntax, ast::ExtractSyntax::From) {
                return Err(SqlError::unsupported("EXTRACT without FROM", pos));
            }
            let name = match field {
                ast::DateTimeField::Custom(id) => id.value.clone(),
                f => f.to_string().to_lowercase(),
            };
            let source = b.bind(expr)?;
            build_syntax("extract", vec![(Typed::unknown_text(name), pos), (source, pos_of(expr.as_ref()))], pos)
        }
        A::Substring { expr, substring_from, substring_for, special, .. } => {
            let mut args = vec![(b.bind(expr)?, pos_of(expr.as_ref()))];
            match (substring_from, substring_for) {
                (Some(from), Some(len)) => {
                    args.push((b.bind(from)?, pos_of(from.as_ref())));
                    args.push((b.bind(len)?, pos_of(len.as_ref())));
                }
                (Some(from), None) => args.push((b.bind(from)?, pos_of(from.as_ref()))),
                (None, Some(len)) => {
                    args.push((Typed::new(Expr::Literal(Value::Int4(1)), DataType::Int4), pos));
                    args.push((b.bind(len)?, pos_of(len.as_ref())));
                }
                (None, None) => return Err(no_function("substring", &[args[0].0.ty], pos)),
            }
            if *special {
                build("substring", args, pos)
            } else {
                build_syntax("substring", args, pos)
            }
        }
        A::Trim { expr, trim_where, trim_what, trim_characters } => {
            let name = match trim_where {
                None | Some(ast::TrimWhereField::Both) => "btrim",
                Some(ast::TrimWhereField::Leading) => "ltrim",
                Some(ast::TrimWhereField::Trailing) => "rtrim",
            };
            let mut args = vec![(b.bind(expr)?, pos_of(expr.as_ref()))];
            if let Some(what) = trim_what {
                args.push((b.bind(what)?, pos_of(what.as_ref())));
            }
            for c in trim_characters.iter().flatten() {
                args.push((b.bind(c)?, pos_of(c)));
            }
            build_syntax(name, args, pos)
        }
        A::Position { expr, r#in } => {
            let needle = (b.bind(expr)?, pos_of(expr.as_ref()));
            let haystack = (b.bind(r#in)?, pos_of(r#in.as_ref()));
            // position(a IN b) is strpos(b, a).
            build_syntax("position", vec![haystack, needle], pos)
        }
        A::Ceil { expr, field } | A::Floor { expr, field } => {
            let name = if matches!(e, A::Ceil { .. }) { "ceil" } else { "floor" };
            if !matches!(field, ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)) {
                return Err(SqlError::unsupported(format!("{} with a second argument", name.to_uppercase()), pos));
            }
            let arg = (b.bind(expr)?, pos_of(expr.as_ref()));
            build(name, vec![arg], pos)
        }
        A::Overlay { expr, overlay_what, overlay_from, overlay_for } => {
            let mut args = vec![
                (b.bind(expr)?, pos_of(expr.as_ref())),
                (b.bind(overlay_what)?, pos_of(overlay_what.as_ref())),
                (b.bind(overlay_from)?, pos_of(overlay_from.as_ref())),
            ];
            if let Some(len) = overlay_for {
                args.push((b.bind(len)?, pos_of(len.as_ref())));
            }
            build_syntax("overlay", args, pos)
        }
        other => Err(SqlError::unsupported(format!("expression {other}"), pos)),
    }
}

/// `a ~ b`, `a ~* b`, `a !~ b`, `a !~* b`: the subject is a string
/// (`char(n)` keeps its blanks, as `bpcharregexeq` does), the pattern is
/// text.
pub(crate) fn regex_match(
    a: Typed,
    p: Typed,
    case_insensitive: bool,
    negated: bool,
    pos: Option<Position>,
) -> Result<Typed> {
    let symbol = match (negated, case_insensitive) {
        (false, false) => "~",
        (false, true) => "~*",
        (true, false) => "!~",
        (true, true) => "!~*",
    };
    let stringish = |t: DataType| t == DataType::Unknown || t.is_string();
    if !stringish(a.ty) || !stringish(p.ty) {
        return Err(SqlError::new(
            ErrorKind::UndefinedFunction,
            format!("operator does not exist: {} {symbol} {}", types::type_name(a.ty), types::type_name(p.ty)),
            pos,
        )
        .with_hint(
            "No operator matches the given name and argument types. You might need to add explicit type casts.",
        ));
    }
    let p = coerce::implicit(p, DataType::Text, pos)?;
    let e = Expr::Variadic {
        func: VariadicFunc::Call(ScalarFunc::regex_match(case_insensitive)),
        args: vec![a.expr, p.expr],
    };
    let e = if negated { e.call_unary(UnaryFunc::Not) } else { e };
    Ok(Typed::new(e, DataType::Bool))
}

/// PostgreSQL's output column name for the SQL-syntax function forms
/// (`extract`, `substring`, `btrim`/`ltrim`/`rtrim`, `position`, `ceil`,
/// `floor`, `overlay`).
pub(crate) fn special_colname(e: &ast::Expr) -> Option<&'static str> {
    use ast::Expr as A;
    Some(match e {
        A::Extract { .. } => "extract",
        A::Substring { .. } => "substring",
        A::Trim { trim_where, .. } => match trim_where {
            Some(ast::TrimWhereField::Leading) => "ltrim",
            Some(ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        },
        A::Position { .. } => "position",
        A::Ceil { .. } => "ceil",
        A::Floor { .. } => "floor",
        A::Overlay { .. } => "overlay",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(name: &str, tys: &[DataType]) -> std::result::Result<(Vec<DataType>, DataType), String> {
        let sigs = candidates(name).expect("known function");
        resolve(name, &sigs, tys, None).map(|s| (s.args.clone(), s.ret)).map_err(|e| e.to_string())
    }

    #[test]
    fn resolution_matches_postgres() {
        use DataType::*;
        // round(2) is round(float8); round(1.5) round(numeric); round(1, 2)
        // round(numeric, integer).
        assert_eq!(pick("round", &[Int4]), Ok((vec![Float8], Float8)));
        assert_eq!(pick("round", &[NUMERIC]), Ok((vec![NUMERIC], NUMERIC)));
        assert_eq!(pick("round", &[Int4, Int4]), Ok((vec![NUMERIC, Int4], NUMERIC)));
        assert_eq!(
            pick("round", &[Float8, Int4])
                .map_err(|e| e.starts_with("function round(double precision, integer) does not exist")),
            Err(true)
        );
        // power(2, 0.5) is numeric: one exact match.
        assert_eq!(pick("power", &[Int4, NUMERIC]), Ok((vec![NUMERIC, NUMERIC], NUMERIC)));
        assert_eq!(pick("power", &[Int4, Int4]), Ok((vec![Float8, Float8], Float8)));
        assert_eq!(pick("abs", &[Int2]), Ok((vec![Int2], Int2)));
        assert_eq!(pick("mod", &[Int2, Int4]), Ok((vec![Int4, Int4], Int4)));
        // length('abc') picks text; length(varchar) text; length(char(n)) bpchar.
        assert_eq!(pick("length", &[Unknown]), Ok((vec![Text], Int4)));
        assert_eq!(pick("length", &[Varchar(Some(3))]), Ok((vec![Text], Int4)));
        assert_eq!(pick("length", &[Char(4)]), Ok((vec![Bpchar], Int4)));
        // date_part('year', date) is its own signature; extract from an
        // unknown literal is ambiguous.
        assert_eq!(pick("date_part", &[Unknown, Date]), Ok((vec![Text, Date], Float8)));
        assert!(pick("extract", &[Unknown, Unknown]).is_err_and(|e| e.contains("is not unique")));
        assert!(pick("to_char", &[Unknown, Unknown]).is_err_and(|e| e.contains("is not unique")));
        // to_char(date, ...) formats a timestamptz.
        assert_eq!(pick("to_char", &[Date, Unknown]), Ok((vec![TimestampTz, Text], Text)));
        assert_eq!(pick("to_char", &[Int2, Unknown]), Ok((vec![Float8, Text], Text)));
        assert_eq!(pick("date_trunc", &[Unknown, Date]), Ok((vec![Text, TimestampTz], TimestampTz)));
        assert!(pick("upper", &[Int4]).is_err_and(|e| e.contains("does not exist")));
    }
}
