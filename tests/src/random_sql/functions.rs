//! Scalar functions and casts added to the base expression grammar
//! ([`ExprGen::with_arms`](crate::queries::ExprGen::with_arms)): date
//! (`date_trunc`, `EXTRACT`, `date ± integer`, `age`), text (`substring`,
//! `upper`/`lower`, `length`, `replace`, `split_part`, `lpad`, `position`,
//! `||`, `LIKE`/`ILIKE`), numeric (`abs`, `round`, `trunc`, `mod`,
//! `greatest`/`least`, `ceil`/`floor`) and casts.
//!
//! Arguments that could make a function fail are literals chosen to be
//! valid (no negative `substring` length, no zero `split_part` field or
//! `mod` divisor), so generated expressions never raise errors. Results
//! carry their numeric scale where it is fixed, as the base grammar's do.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::strategy::Union;

use super::coverage::{mark, Feature};
use crate::queries::{ColType, SqlExpr};

type Level = HashMap<ColType, BoxedStrategy<SqlExpr>>;
type Arms = Vec<(u32, BoxedStrategy<SqlExpr>)>;

fn text_literal(choices: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(choices).prop_map(|s| format!("'{}'", s.replace('\'', "''"))).boxed()
}

/// One-argument calls `f(x)` for each name in `names`, of result type `ty`
/// and scale `scale` (`None`: the argument's).
fn unary(
    arg: BoxedStrategy<SqlExpr>,
    names: &'static [&'static str],
    ty: ColType,
    scale: Option<Option<u16>>,
    feature: Feature,
) -> BoxedStrategy<SqlExpr> {
    (arg, prop::sample::select(names))
        .prop_map(move |(a, f)| {
            let s = scale.unwrap_or(a.scale);
            SqlExpr::new(mark(feature, format!("{f}({})", a.sql)), ty, s, a.reads)
        })
        .boxed()
}

/// `greatest`/`least` of two expressions of one type.
fn greatest_least(a: BoxedStrategy<SqlExpr>, b: BoxedStrategy<SqlExpr>, ty: ColType) -> BoxedStrategy<SqlExpr> {
    (a, b, prop::sample::select(vec!["greatest", "least"]))
        .prop_map(move |(a, b, f)| {
            let scale = if ty != ColType::Numeric {
                Some(0)
            } else {
                let s = |e: &SqlExpr| if e.ty == ColType::Numeric { e.scale } else { Some(0) };
                s(&a).filter(|x| Some(*x) == s(&b))
            };
            SqlExpr::new(
                mark(Feature::GreatestLeast, format!("{f}({}, {})", a.sql, b.sql)),
                ty,
                scale,
                a.reads || b.reads,
            )
        })
        .boxed()
}

/// Dates of `p`, sometimes a literal at a month, year or leap-day edge
/// (the generated tables' dates lie within a few days).
fn dates(p: &Level) -> BoxedStrategy<SqlExpr> {
    let edges = prop::sample::select(vec![
        "2024-02-29",
        "2023-12-31",
        "2024-03-31",
        "2023-01-01",
        "2024-12-31",
        "2000-02-29",
        "1999-12-31",
        "2023-02-28",
    ])
    .prop_map(|d| SqlExpr::new(format!("DATE '{d}'"), ColType::Date, Some(0), false));
    prop_oneof![4 => p[&ColType::Date].clone(), 1 => edges].boxed()
}

/// The extra forms of type `ty` over the previous level `p`.
pub fn arms(p: &Level, ty: ColType) -> Arms {
    let e = |t: ColType| p[&t].clone();
    match ty {
        ColType::Int4 => int4(p),
        ColType::Int8 => vec![
            (1, unary(e(ColType::Int8), &["abs"], ColType::Int8, Some(Some(0)), Feature::Abs)),
            (1, greatest_least(e(ColType::Int8), e(ColType::Int4), ColType::Int8)),
            (
                1,
                (e(ColType::Int8), prop::sample::select(vec!["2", "3", "(-4)"]))
                    .prop_map(|(a, k)| {
                        SqlExpr::new(
                            mark(Feature::Mod, format!("mod({}, {k})", a.sql)),
                            ColType::Int8,
                            Some(0),
                            a.reads,
                        )
                    })
                    .boxed(),
            ),
            (
                1,
                e(ColType::Int4)
                    .prop_map(|a| {
                        SqlExpr::new(
                            mark(Feature::Cast, format!("({})::bigint", a.sql)),
                            ColType::Int8,
                            Some(0),
                            a.reads,
                        )
                    })
                    .boxed(),
            ),
        ],
        ColType::Numeric => numeric(p),
        ColType::Text => text(p),
        ColType::Date => date(p),
        ColType::Bool => boolean(p),
    }
}

fn int4(p: &Level) -> Arms {
    let e = |t: ColType| p[&t].clone();
    vec![
        (
            1,
            unary(
                e(ColType::Text),
                &["length", "char_length", "octet_length"],
                ColType::Int4,
                Some(Some(0)),
                Feature::Length,
            ),
        ),
        (
            1,
            (e(ColType::Text), text_literal(&["a", "b", "", "_"]), any::<bool>())
                .prop_map(|(s, needle, sql_form)| {
                    let call = if sql_form {
                        format!("position({needle} IN {})", s.sql)
                    } else {
                        format!("strpos({}, {needle})", s.sql)
                    };
                    SqlExpr::new(mark(Feature::Position, call), ColType::Int4, Some(0), s.reads)
                })
                .boxed(),
        ),
        (1, unary(e(ColType::Int4), &["abs"], ColType::Int4, Some(Some(0)), Feature::Abs)),
        (
            1,
            (e(ColType::Int4), prop::sample::select(vec!["2", "3", "(-3)"]))
                .prop_map(|(a, k)| {
                    SqlExpr::new(mark(Feature::Mod, format!("mod({}, {k})", a.sql)), ColType::Int4, Some(0), a.reads)
                })
                .boxed(),
        ),
        (1, greatest_least(e(ColType::Int4), e(ColType::Int4), ColType::Int4)),
        (
            1,
            e(ColType::Numeric)
                .prop_map(|a| {
                    SqlExpr::new(mark(Feature::Cast, format!("({})::integer", a.sql)), ColType::Int4, Some(0), a.reads)
                })
                .boxed(),
        ),
    ]
}

fn numeric(p: &Level) -> Arms {
    let e = |t: ColType| p[&t].clone();
    let n = || e(ColType::Numeric);
    let fields =
        vec!["year", "month", "day", "dow", "doy", "quarter", "week", "isodow", "isoyear", "decade", "century"];
    vec![
        (1, unary(n(), &["abs"], ColType::Numeric, None, Feature::Abs)),
        (
            1,
            (n(), prop::sample::select(vec!["round", "trunc"]), prop::option::weighted(0.7, -1i32..=3))
                .prop_map(|(a, f, digits)| {
                    let feature = if f == "round" { Feature::Round } else { Feature::Trunc };
                    let (call, scale) = match digits {
                        None => (format!("{f}({})", a.sql), 0),
                        Some(d) if d < 0 => (format!("{f}({}, {d})", a.sql), 0),
                        Some(d) => (format!("{f}({}, {d})", a.sql), d as u16),
                    };
                    SqlExpr::new(mark(feature, call), ColType::Numeric, Some(scale), a.reads)
                })
                .boxed(),
        ),
        (1, unary(n(), &["ceil", "ceiling", "floor"], ColType::Numeric, Some(Some(0)), Feature::CeilFloor)),
        (
            1,
            (n(), prop::sample::select(vec!["2", "0.5", "3.00"]))
                .prop_map(|(a, k)| {
                    SqlExpr::new(mark(Feature::Mod, format!("mod({}, {k})", a.sql)), ColType::Numeric, None, a.reads)
                })
                .boxed(),
        ),
        (1, greatest_least(n(), Union::new([n(), e(ColType::Int4)]).boxed(), ColType::Numeric)),
        (
            1,
            (dates(p), prop::sample::select(fields))
                .prop_map(|(d, f)| {
                    SqlExpr::new(
                        mark(Feature::Extract, format!("EXTRACT({f} FROM {})", d.sql)),
                        ColType::Numeric,
                        Some(0),
                        d.reads,
                    )
                })
                .boxed(),
        ),
        (
            1,
            (dates(p), dates(p), prop::sample::select(vec!["year", "month", "day"]))
                .prop_map(|(a, b, f)| {
                    let age = mark(Feature::Age, format!("age({}, {})", a.sql, b.sql));
                    SqlExpr::new(
                        mark(Feature::Extract, format!("EXTRACT({f} FROM {age})")),
                        ColType::Numeric,
                        Some(0),
                        a.reads || b.reads,
                    )
                })
                .boxed(),
        ),
        (
            1,
            Union::new([e(ColType::Int4), e(ColType::Int8)])
                .prop_map(|a| {
                    SqlExpr::new(
                        mark(Feature::Cast, format!("({})::numeric(12,1)", a.sql)),
                        ColType::Numeric,
                        Some(1),
                        a.reads,
                    )
                })
                .boxed(),
        ),
    ]
}

fn text(p: &Level) -> Arms {
    let e = |t: ColType| p[&t].clone();
    let t = || e(ColType::Text);
    let to_text = |a: SqlExpr, r: bool| {
        let s = if r { format!("CAST({} AS text)", a.sql) } else { format!("({})::text", a.sql) };
        SqlExpr::new(mark(Feature::Cast, s), ColType::Text, Some(0), a.reads)
    };
    vec![
        (1, unary(t(), &["upper", "lower", "initcap"], ColType::Text, Some(Some(0)), Feature::UpperLower)),
        (
            2,
            (t(), -1i32..4, 0i32..4, 0u8..5)
                .prop_map(|(s, from, len, form)| {
                    let call = match form {
                        0 => format!("substring({} FROM {from} FOR {len})", s.sql),
                        1 => format!("substring({}, {from}, {len})", s.sql),
                        2 => format!("substr({}, {from})", s.sql),
                        3 => format!("left({}, {})", s.sql, from - 1),
                        _ => format!("right({}, {len})", s.sql),
                    };
                    SqlExpr::new(mark(Feature::Substring, call), ColType::Text, Some(0), s.reads)
                })
                .boxed(),
        ),
        (
            1,
            (t(), text_literal(&["a", "b", "", "ab"]), text_literal(&["", "X", "ab"]))
                .prop_map(|(s, from, to)| {
                    SqlExpr::new(
                        mark(Feature::Replace, format!("replace({}, {from}, {to})", s.sql)),
                        ColType::Text,
                        Some(0),
                        s.reads,
                    )
                })
                .boxed(),
        ),
        (
            1,
            (t(), text_literal(&["a", "b", "", "_"]), prop::sample::select(vec![1, 2, -1]))
                .prop_map(|(s, delim, n)| {
                    let n = if n < 0 { format!("({n})") } else { n.to_string() };
                    let call = format!("split_part({}, {delim}, {n})", s.sql);
                    SqlExpr::new(mark(Feature::SplitPart, call), ColType::Text, Some(0), s.reads)
                })
                .boxed(),
        ),
        (
            1,
            (
                t(),
                prop::sample::select(vec!["lpad", "rpad"]),
                0i32..6,
                prop::option::of(text_literal(&["*", "xy", ""])),
            )
                .prop_map(|(s, f, n, fill)| {
                    let call = match fill {
                        Some(fill) => format!("{f}({}, {n}, {fill})", s.sql),
                        None => format!("{f}({}, {n})", s.sql),
                    };
                    SqlExpr::new(mark(Feature::Pad, call), ColType::Text, Some(0), s.reads)
                })
                .boxed(),
        ),
        (
            1,
            (t(), Union::new([t(), e(ColType::Int4), e(ColType::Date)]), any::<bool>())
                .prop_map(|(a, b, op)| {
                    let call = if op && b.ty == ColType::Text {
                        format!("({} || {})", a.sql, b.sql)
                    } else {
                        format!("concat({}, {})", a.sql, b.sql)
                    };
                    SqlExpr::new(mark(Feature::Concat, call), ColType::Text, Some(0), a.reads || b.reads)
                })
                .boxed(),
        ),
        (
            1,
            (dates(p), dates(p), any::<bool>())
                .prop_map(move |(a, b, r)| {
                    let age = SqlExpr::new(
                        mark(Feature::Age, format!("age({}, {})", a.sql, b.sql)),
                        ColType::Text,
                        Some(0),
                        a.reads || b.reads,
                    );
                    to_text(age, r)
                })
                .boxed(),
        ),
        (
            1,
            (dates(p), prop::sample::select(vec!["year", "quarter", "month", "week", "day"]), any::<bool>())
                .prop_map(move |(d, f, r)| {
                    let trunc = SqlExpr::new(
                        mark(Feature::DateTrunc, format!("date_trunc('{f}', {})", d.sql)),
                        ColType::Text,
                        Some(0),
                        d.reads,
                    );
                    to_text(trunc, r)
                })
                .boxed(),
        ),
        (
            1,
            (Union::new([e(ColType::Int8), e(ColType::Numeric), e(ColType::Date)]), any::<bool>())
                .prop_map(move |(a, r)| to_text(a, r))
                .boxed(),
        ),
    ]
}

fn date(p: &Level) -> Arms {
    let e = |t: ColType| p[&t].clone();
    vec![
        (
            1,
            (dates(p), prop::sample::select(vec!["year", "quarter", "month", "week", "day"]), any::<bool>())
                .prop_map(|(d, f, r)| {
                    let trunc = mark(Feature::DateTrunc, format!("date_trunc('{f}', {})", d.sql));
                    let s = if r { format!("CAST({trunc} AS date)") } else { format!("({trunc})::date") };
                    SqlExpr::new(mark(Feature::Cast, s), ColType::Date, Some(0), d.reads)
                })
                .boxed(),
        ),
        (
            2,
            (dates(p), prop::sample::select(vec!["+", "-"]), -40i32..40, any::<bool>())
                .prop_map(|(d, op, k, int_first)| {
                    let k = if k < 0 { format!("({k})") } else { k.to_string() };
                    let s = if int_first && op == "+" {
                        format!("({k} + {})", d.sql)
                    } else {
                        format!("({} {op} {k})", d.sql)
                    };
                    SqlExpr::new(mark(Feature::DateArith, s), ColType::Date, Some(0), d.reads)
                })
                .boxed(),
        ),
        (1, greatest_least(e(ColType::Date), e(ColType::Date), ColType::Date)),
    ]
}

fn boolean(p: &Level) -> Arms {
    let e = |t: ColType| p[&t].clone();
    let patterns = prop::sample::select(vec!["A%", "%B", "_", "a_", "%", "ab", "%A%", "b%"]);
    vec![
        (
            1,
            (e(ColType::Text), patterns, any::<bool>())
                .prop_map(|(s, pat, not)| {
                    let not = if not { "NOT " } else { "" };
                    SqlExpr::new(
                        mark(Feature::Ilike, format!("({} {not}ILIKE '{pat}')", s.sql)),
                        ColType::Bool,
                        Some(0),
                        s.reads,
                    )
                })
                .boxed(),
        ),
        (
            1,
            (e(ColType::Text), e(ColType::Text), any::<bool>())
                .prop_map(|(s, pat, suffix)| {
                    let reads = s.reads || pat.reads;
                    let pat = if suffix { format!("({} || '%')", pat.sql) } else { pat.sql };
                    SqlExpr::new(mark(Feature::Like, format!("({} LIKE {pat})", s.sql)), ColType::Bool, Some(0), reads)
                })
                .boxed(),
        ),
    ]
}
