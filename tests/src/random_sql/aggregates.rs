//! Aggregate calls: `count`, `sum`, `avg`, `min`, `max` (the base grammar's),
//! the `DISTINCT` forms of `count` and `sum`, `bool_and`/`bool_or`/`every`,
//! `string_agg(… ORDER BY …)` with and without `DISTINCT`, and the variance
//! family over integers and numerics; each sometimes with `FILTER`.
//!
//! Every result is one PostgreSQL computes deterministically: arguments
//! whose SQL-equal values may print differently (`1.0`, `1.00`) are
//! stabilized where the member kept would show (`min`, `max`, the
//! `DISTINCT` forms), and `string_agg`'s `ORDER BY` ends with the
//! aggregated value itself, so rows that tie on every key add the same
//! text. No floating-point values are involved.

use proptest::prelude::*;
use proptest::strategy::Union;

use super::coverage::{mark, Feature};
use super::{filter, stable};
use crate::queries::{ColType, ExprGen, SqlExpr};

fn agg(sql: String, ty: ColType, scale: Option<u16>) -> SqlExpr {
    SqlExpr::new(sql, ty, scale, true)
}

/// The result type and scale of `sum(a)`.
fn sum_type(a: &SqlExpr) -> (ColType, Option<u16>) {
    match a.ty {
        ColType::Int4 => (ColType::Int8, Some(0)),
        ColType::Int8 => (ColType::Numeric, Some(0)),
        _ => (ColType::Numeric, a.scale),
    }
}

fn direction() -> BoxedStrategy<&'static str> {
    prop::sample::select(vec!["", " DESC", " NULLS FIRST", " DESC NULLS LAST"]).boxed()
}

/// An aggregate call over the row expressions of `gen`.
pub fn aggregate(gen: &ExprGen) -> BoxedStrategy<SqlExpr> {
    let number = || Union::new([gen.expr(ColType::Int4, 1), gen.expr(ColType::Int8, 1), gen.expr(ColType::Numeric, 1)]);
    let ordered: Vec<ColType> = ColType::ALL.iter().copied().filter(|t| t.is_ordered()).collect();
    let text = gen.expr(ColType::Text, 1);
    let delimiter = prop::sample::select(vec!["','", "''", "' | '"]);
    let call = Union::new_weighted(vec![
        (3, Just(agg("count(*)".into(), ColType::Int8, Some(0))).boxed()),
        (1, gen.any(1, &ColType::ALL).prop_map(|a| agg(format!("count({})", a.sql), ColType::Int8, Some(0))).boxed()),
        (
            2,
            gen.any(1, &ColType::ALL)
                .prop_map(|a| {
                    let a = stable(a);
                    agg(mark(Feature::CountDistinct, format!("count(DISTINCT {})", a.sql)), ColType::Int8, Some(0))
                })
                .boxed(),
        ),
        (
            2,
            number()
                .prop_map(|a| {
                    let (ty, scale) = sum_type(&a);
                    agg(format!("sum({})", a.sql), ty, scale)
                })
                .boxed(),
        ),
        (
            1,
            number()
                .prop_map(|a| {
                    let a = stable(a);
                    let (ty, scale) = sum_type(&a);
                    agg(mark(Feature::SumDistinct, format!("sum(DISTINCT {})", a.sql)), ty, scale)
                })
                .boxed(),
        ),
        (1, number().prop_map(|a| agg(format!("avg({})", a.sql), ColType::Numeric, None)).boxed()),
        (
            2,
            (gen.any(1, &ordered), prop::sample::select(vec!["min", "max"]))
                .prop_map(|(a, f)| {
                    let a = stable(a);
                    agg(format!("{f}({})", a.sql), a.ty, a.scale)
                })
                .boxed(),
        ),
        (
            2,
            (gen.expr(ColType::Bool, 1), prop::sample::select(vec!["bool_and", "bool_or", "every"]))
                .prop_map(|(a, f)| agg(mark(Feature::BoolAgg, format!("{f}({})", a.sql)), ColType::Bool, Some(0)))
                .boxed(),
        ),
        (
            2,
            (text.clone(), delimiter.clone(), prop::option::of((gen.any(1, &ColType::ALL), direction())), direction())
                .prop_map(|(a, d, first, dir)| {
                    let mut keys: Vec<String> = first.into_iter().map(|(k, kd)| format!("{}{kd}", k.sql)).collect();
                    keys.push(format!("{}{dir}", a.sql));
                    let call = format!("string_agg({}, {d} ORDER BY {})", a.sql, keys.join(", "));
                    agg(mark(Feature::StringAgg, call), ColType::Text, Some(0))
                })
                .boxed(),
        ),
        (
            1,
            (text, delimiter, direction())
                .prop_map(|(a, d, dir)| {
                    // PostgreSQL does not match a bare literal argument
                    // with the same literal in ORDER BY.
                    let a = if a.reads {
                        a
                    } else {
                        SqlExpr::new(format!("CAST({} AS text)", a.sql), a.ty, a.scale, false)
                    };
                    let call = format!("string_agg(DISTINCT {}, {d} ORDER BY {}{dir})", a.sql, a.sql);
                    agg(mark(Feature::StringAggDistinct, call), ColType::Text, Some(0))
                })
                .boxed(),
        ),
        (
            2,
            (
                number(),
                prop::sample::select(vec![
                    (Feature::Stddev, "stddev"),
                    (Feature::Stddev, "stddev_samp"),
                    (Feature::Stddev, "stddev_pop"),
                    (Feature::Variance, "variance"),
                    (Feature::Variance, "var_samp"),
                    (Feature::Variance, "var_pop"),
                ]),
            )
                .prop_map(|(a, (feature, f))| agg(mark(feature, format!("{f}({})", a.sql)), ColType::Numeric, None))
                .boxed(),
        ),
    ]);
    (call, filter(gen, 0.25, 1))
        .prop_map(|(mut c, filter)| {
            if let Some(p) = filter {
                c.sql = mark(Feature::AggFilter, format!("{} FILTER (WHERE {})", c.sql, p.sql));
            }
            c
        })
        .boxed()
}
