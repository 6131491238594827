//! Tests of values against PostgreSQL 15's behaviour. The tables in
//! `tests/pg_expected.rs` hold the server's answers for the same inputs.

mod pg_expected;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use proptest::prelude::*;

use super::*;
use crate::expr::{BinaryFunc, EvalError, Expr};

/// A type from its PostgreSQL spelling as used in the tables.
pub(crate) fn ty(name: &str) -> DataType {
    let args = |s: &str| -> Vec<i64> {
        let inner = &s[s.find('(').expect("(") + 1..s.len() - 1];
        inner.split(',').map(|x| x.trim().parse().expect("typmod")).collect()
    };
    match name {
        "bool" => DataType::Bool,
        "int2" => DataType::Int2,
        "int4" => DataType::Int4,
        "int8" => DataType::Int8,
        "numeric" => DataType::Numeric(None),
        "float8" => DataType::Float8,
        "text" => DataType::Text,
        "varchar" => DataType::Varchar(None),
        "date" => DataType::Date,
        "timestamp" => DataType::Timestamp,
        "timestamptz" => DataType::TimestampTz,
        "interval" => DataType::Interval,
        "uuid" => DataType::Uuid,
        "bytea" => DataType::Bytea,
        n if n.starts_with("numeric(") => {
            let a = args(n);
            DataType::Numeric(Some((a[0] as u16, a[1] as i16)))
        }
        n if n.starts_with("varchar(") => DataType::Varchar(Some(args(n)[0] as u32)),
        n if n.starts_with("char(") => DataType::Char(args(n)[0] as u32),
        n => panic!("unknown type {n}"),
    }
}

/// What `psql -A -t` shows for a result: the value's text or `ERROR: msg`.
pub(crate) fn show(r: Result<Value, EvalError>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("ERROR: {e}"),
    }
}

/// `'input'::ty` as PostgreSQL evaluates a literal: the input function,
/// except that `::varchar(n)` / `::char(n)` are explicit casts (truncate).
pub(crate) fn literal(input: &str, t: &str) -> Result<Value, EvalError> {
    let t = ty(t);
    match t {
        DataType::Varchar(_) | DataType::Char(_) => Value::text(input).cast(t),
        _ => Value::parse(input, t),
    }
}

fn n(s: &str) -> Numeric {
    Numeric::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn hash_of<T: Hash>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

#[test]
fn value_stays_small() {
    assert!(std::mem::size_of::<Value>() <= 24, "Value is {} bytes", std::mem::size_of::<Value>());
    assert_eq!(std::mem::size_of::<Numeric>(), 16);
}

#[test]
fn input_and_output_match_postgres() {
    let mut failures = Vec::new();
    for row in pg_expected::PARSE_CASES {
        let (input, t, want) = (row[0], row[1], row[2]);
        let got = show(literal(input, t));
        if got != want {
            failures.push(format!("{input:?}::{t}: got {got:?}, PostgreSQL {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn casts_match_postgres() {
    let mut failures = Vec::new();
    for row in pg_expected::CAST_CASES {
        let (input, from, to, want) = (row[0], row[1], row[2], row[3]);
        let got = show(literal(input, from).and_then(|v| v.cast(ty(to))));
        if got != want {
            failures.push(format!("{input:?}::{from}::{to}: got {got:?}, PostgreSQL {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// The binary operator named as in SQL.
pub(crate) fn binary_func(op: &str) -> BinaryFunc {
    match op {
        "+" => BinaryFunc::Add,
        "-" => BinaryFunc::Sub,
        "*" => BinaryFunc::Mul,
        "/" => BinaryFunc::Div,
        "%" => BinaryFunc::Mod,
        "=" => BinaryFunc::Eq,
        "<>" => BinaryFunc::NotEq,
        "<" => BinaryFunc::Lt,
        "<=" => BinaryFunc::Lte,
        ">" => BinaryFunc::Gt,
        ">=" => BinaryFunc::Gte,
        "||" => BinaryFunc::Concat,
        "LIKE" => BinaryFunc::Like { escape: Some('\\'), case_insensitive: false },
        "ILIKE" => BinaryFunc::Like { escape: Some('\\'), case_insensitive: true },
        "IS DISTINCT FROM" => BinaryFunc::IsDistinctFrom,
        "IS NOT DISTINCT FROM" => BinaryFunc::IsNotDistinctFrom,
        o => panic!("unknown operator {o}"),
    }
}

#[test]
fn operators_match_postgres() {
    let mut failures = Vec::new();
    for row in pg_expected::BINOP_CASES {
        let (a, ta, op, b, tb, want) = (row[0], row[1], row[2], row[3], row[4], row[5]);
        let got = show(literal(a, ta).and_then(|l| {
            let r = literal(b, tb)?;
            Expr::Literal(l).call_binary(binary_func(op), Expr::Literal(r)).eval(&[])
        }));
        if got != want {
            failures.push(format!("'{a}'::{ta} {op} '{b}'::{tb}: got {got:?}, PostgreSQL {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn numeric_field_overflow_has_postgres_detail() {
    let e = n("1234.5").apply_typmod(5, 2).unwrap_err();
    assert_eq!(e.to_string(), "numeric field overflow");
    assert_eq!(e.detail(), Some("A field with precision 5, scale 2 must round to an absolute value less than 10^3."));
    let e = n("inf").apply_typmod(5, 2).unwrap_err();
    assert_eq!(e.detail(), Some("A field with precision 5, scale 2 cannot hold an infinite value."));
    let e = n("99").apply_typmod(1, -1).unwrap_err();
    assert_eq!(e.detail(), Some("A field with precision 1, scale -1 must round to an absolute value less than 10^2."));
    let e = n("1").apply_typmod(2, 2).unwrap_err();
    assert_eq!(e.detail(), Some("A field with precision 2, scale 2 must round to an absolute value less than 1."));
}

#[test]
fn numeric_round_and_scale() {
    // PostgreSQL: round(1234.5678, -2), round(1234.5678, 2), round(2.5),
    // round(-2.5), round(1.5, 3), round(0.0005, 3), round(-0.0005, 3).
    let cases = [
        ("1234.5678", -2, "1200"),
        ("1234.5678", 2, "1234.57"),
        ("2.5", 0, "3"),
        ("-2.5", 0, "-3"),
        ("1.5", 3, "1.500"),
        ("0.0005", 3, "0.001"),
        ("-0.0005", 3, "-0.001"),
        ("NaN", 2, "NaN"),
    ];
    for (v, s, want) in cases {
        assert_eq!(n(v).round(s).to_string(), want, "round({v}, {s})");
    }
    assert_eq!(n("-1.50").abs().to_string(), "1.50");
    assert_eq!(n("1.500").normalized().to_string(), "1.5");
    assert_eq!(n("100").normalized().to_string(), "100");
    assert_eq!(n("0.000").normalized().to_string(), "0");
    assert_eq!(n("1.2345").trunc(2).to_string(), "1.23");
}

#[test]
fn numeric_total_order_is_value_then_scale() {
    let (a, b) = (n("1.0"), n("1.00"));
    assert_eq!(a.cmp_value(&b), std::cmp::Ordering::Equal);
    assert!(a < b);
    assert_ne!(a, b);
    assert_eq!(Value::Numeric(a.clone()).sql_cmp(&Value::Numeric(b.clone())), Some(std::cmp::Ordering::Equal));
    assert_eq!(Value::Numeric(a).key_normalized(), Value::Numeric(b).key_normalized());
    let order = ["-Infinity", "-1e40", "-2", "0", "0.5", "1e40", "Infinity", "NaN"];
    for w in order.windows(2) {
        assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
        assert_eq!(n(w[0]).cmp_value(&n(w[1])), std::cmp::Ordering::Less);
    }
}

#[test]
fn numeric_canonical_representation_across_heap_boundary() {
    // 2^95 - 1 fits inline, 2^95 spills; arithmetic coming back below the
    // boundary gives an inline value equal (and hashing equal) to a parsed one.
    let inline_max = n("39614081257132168796771975167");
    let spilled = inline_max.add(&n("1")).unwrap();
    assert_eq!(spilled.to_string(), "39614081257132168796771975168");
    let back = spilled.sub(&n("1")).unwrap();
    assert_eq!(back, inline_max);
    assert_eq!(hash_of(&back), hash_of(&inline_max));
    let huge = n("123456789012345678901234567890123456789012345678901234567890.5");
    let same = n("123456789012345678901234567890123456789012345678901234567890").add(&n("0.5")).unwrap();
    assert_eq!(huge, same);
    assert_eq!(hash_of(&huge), hash_of(&same));
}

#[test]
fn numeric_serde_round_trip() {
    for s in ["0", "1.50", "-3e2", "NaN", "Infinity", "-Infinity", "123456789012345678901234567890123456789012345.678"] {
        let v = Value::Numeric(n(s));
        let bytes = postcard::to_allocvec(&v).unwrap();
        let back: Value = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, v, "{s}");
        assert_eq!(back.to_string(), v.to_string());
    }
}

#[test]
fn numeric_accumulator_sums_and_averages_like_postgres() {
    // avg(int 1, 2) = 1.5000000000000000
    let mut a = NumericAccum::new();
    a.add(&Numeric::from(1i32), 1);
    a.add(&Numeric::from(2i32), 1);
    assert_eq!(a.avg().unwrap().unwrap().to_string(), "1.5000000000000000");
    // avg(int8 1, 2, 4) = 2.3333333333333333
    a.add(&Numeric::from(4i64), 1);
    assert_eq!(a.avg().unwrap().unwrap().to_string(), "2.3333333333333333");
    // sum and avg of (1.50, 2) = 3.50 and 1.7500000000000000
    let mut b = NumericAccum::of(&n("1.50"), 1);
    b.add(&n("2"), 1);
    assert_eq!(b.sum().unwrap().unwrap().to_string(), "3.50");
    assert_eq!(b.avg().unwrap().unwrap().to_string(), "1.7500000000000000");
    // Retracting the 1.50 leaves sum(2) = 2 (its scale disappears too).
    b.add(&n("1.50"), -1);
    assert_eq!(b.sum().unwrap().unwrap().to_string(), "2");
    // A negative value of scale 2 is a value, not a retraction: 2.00.
    let mut c = NumericAccum::new();
    for (v, k) in [("1.50", 1), ("2", 1), ("-1.50", 1)] {
        c.add(&n(v), k);
    }
    assert_eq!(c.sum().unwrap().unwrap().to_string(), "2.00");
    // Infinity + -Infinity = NaN; retract one: Infinity.
    let mut d = NumericAccum::of(&n("inf"), 1);
    d.add(&n("-inf"), 1);
    assert_eq!(d.sum().unwrap().unwrap().to_string(), "NaN");
    d.add(&n("-inf"), -1);
    assert_eq!(d.sum().unwrap().unwrap().to_string(), "Infinity");
    // Empty: NULL.
    assert_eq!(NumericAccum::new().sum().unwrap(), None);
    assert_eq!(NumericAccum::new().avg().unwrap(), None);
}

#[test]
fn numeric_accumulator_is_a_group() {
    use differential_dataflow::difference::{Abelian, IsZero, Multiply, Semigroup};
    let vals = ["1.5", "2.25", "-7", "NaN", "99999999999999999999999999999999.1", "0.001"];
    let mut total = NumericAccum::new();
    for v in vals {
        total.plus_equals(&NumericAccum::of(&n(v), 1).multiply(&3isize));
    }
    assert_eq!(total.count(), 18);
    let mut neg = total.clone();
    neg.negate();
    let mut zero = total.clone();
    zero.plus_equals(&neg);
    assert!(zero.is_zero());
    assert_eq!(zero, NumericAccum::new());
    // Built in a different order, the same multiset gives an equal value.
    let mut other = NumericAccum::new();
    for v in vals.iter().rev() {
        other.add(&n(v), 3);
    }
    assert_eq!(other, total);
}

#[test]
fn numeric_accumulator_partial_sums_combine_in_any_grouping() {
    use differential_dataflow::difference::Semigroup;
    // An UPDATE retracts old rows and inserts new ones; differential may add
    // the contributions in any grouping. A partial sum whose scale counts
    // cancel (+14.60 and -3.10) still holds digits that must not be rounded.
    let contributions: [(&str, i64); 6] =
        [("3.10", 1), ("14.60", 1), ("3.10", -1), ("14.60", -1), ("3.10", 1), ("14.60", 1)];
    let expected = "17.70";
    let n_items = contributions.len();
    // Every split into a prefix and a suffix, each summed separately first,
    // and every rotation of the order.
    for rot in 0..n_items {
        let order: Vec<_> = (0..n_items).map(|i| contributions[(i + rot) % n_items]).collect();
        for split in 0..=n_items {
            let mut left = NumericAccum::new();
            let mut right = NumericAccum::new();
            for (i, (v, k)) in order.iter().enumerate() {
                if i < split { left.add(&n(v), *k) } else { right.add(&n(v), *k) }
            }
            // Partial sums pairing a value with another value's retraction.
            let mut odd = NumericAccum::of(&n("14.60"), 1);
            odd.add(&n("3.10"), -1);
            let mut fix = NumericAccum::of(&n("3.10"), 1);
            fix.add(&n("14.60"), -1);
            left.plus_equals(&odd);
            right.plus_equals(&fix);
            left.plus_equals(&right);
            assert_eq!(left.sum().unwrap().unwrap().to_string(), expected, "rotation {rot}, split {split}");
        }
    }
}

#[test]
fn interval_comparison_uses_spans_but_order_stays_exact() {
    let p = |s: &str| Value::parse(s, DataType::Interval).unwrap();
    assert_eq!(p("1 mon").sql_cmp(&p("30 days")), Some(std::cmp::Ordering::Equal));
    assert_eq!(p("1 day").sql_cmp(&p("24 hours")), Some(std::cmp::Ordering::Equal));
    assert_ne!(p("1 mon"), p("30 days"));
    assert_eq!(p("1 mon").key_normalized(), p("30 days").key_normalized());
    assert_eq!(p("-1 mon").sql_cmp(&p("0")), Some(std::cmp::Ordering::Less));
    assert_eq!(p("36 hours").sql_cmp(&p("1 day 11 hours")), Some(std::cmp::Ordering::Greater));
}

#[test]
fn interval_normalization_depends_only_on_the_span() {
    use super::{Interval, USECS_PER_DAY};
    let iv = |months, days, micros| Interval { months, days, micros };
    let same = |a: Interval, b: Interval| {
        assert_eq!(a.cmp_span(&b), std::cmp::Ordering::Equal, "{a:?} {b:?}");
        assert_eq!(a.normalized(), b.normalized(), "{a:?} {b:?}");
        assert_eq!(a.normalized().cmp_span(&a), std::cmp::Ordering::Equal, "{a:?}");
    };
    same(iv(1, 0, 0), iv(0, 30, 0));
    same(iv(0, 1, 0), iv(0, 0, USECS_PER_DAY));
    same(iv(-1, 31, -USECS_PER_DAY), iv(0, 0, 0));
    // Beyond the fields' ranges: the month field saturates, the rest moves on.
    same(iv(i32::MAX, 30, 0), iv(i32::MAX - 1, 60, 0));
    same(iv(i32::MAX, i32::MAX, i64::MAX - 120 * USECS_PER_DAY), iv(i32::MAX - 2, i32::MAX, i64::MAX - 60 * USECS_PER_DAY));
    same(iv(i32::MIN, -30, 5), iv(i32::MIN + 1, -60, 5));
    same(iv(i32::MIN, i32::MIN + 1, i64::MIN), iv(i32::MIN, i32::MIN, i64::MIN + USECS_PER_DAY));
    assert_eq!(iv(0, 45, 3).normalized(), iv(1, 15, 3));
}

#[test]
fn display_of_every_type() {
    assert_eq!(Value::Null.to_string(), "");
    assert_eq!(Value::Bool(true).to_string(), "t");
    assert_eq!(Value::Bool(false).to_string(), "f");
    assert_eq!(Value::Bytea(vec![1u8, 2, 0xff].into()).to_string(), "\\x0102ff");
    let u = Value::parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", DataType::Uuid).unwrap();
    assert_eq!(u.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_eq!(Value::parse("ab", DataType::Char(4)).unwrap().to_string(), "ab  ");
    assert_eq!(Value::Int2(-5).to_string(), "-5");
    assert_eq!(Value::TimestampTz(Timestamp(0)).to_string(), "2000-01-01 00:00:00+00");
    assert_eq!(Value::Timestamp(Timestamp(-1)).to_string(), "1999-12-31 23:59:59.999999");
    assert_eq!(Value::Date(Date(0)).to_string(), "2000-01-01");
}

#[test]
fn input_functions_reject_over_long_strings() {
    // INSERT into varchar(3) / char(3) columns (assignment and input
    // function): an error unless the excess is blanks.
    assert_eq!(show(Value::parse("abcd", DataType::Varchar(Some(3)))), "ERROR: value too long for type character varying(3)");
    assert_eq!(show(Value::parse("abcd", DataType::Char(3))), "ERROR: value too long for type character(3)");
    assert_eq!(show(Value::parse("abc  ", DataType::Varchar(Some(3)))), "abc");
    assert_eq!(show(Value::parse("ab   ", DataType::Char(3))), "ab ");
    assert_eq!(show(Value::text("abcd").assign_cast(DataType::Varchar(Some(3)))), "ERROR: value too long for type character varying(3)");
    assert_eq!(show(Value::parse("1.25", DataType::Numeric(Some((4, 1))))), "1.3");
}

#[test]
fn float8_output_is_shortest_round_trip() {
    let cases = [
        (1e20, "1e+20"),
        (1.5e-7, "1.5e-07"),
        (0.1, "0.1"),
        (1e15, "1e+15"),
        (1e14, "100000000000000"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-0.0, "-0"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
        (1.0 / 3.0, "0.3333333333333333"),
        (-2.5, "-2.5"),
        (1e-310, "1e-310"),
        (f64::MAX, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (123.0, "123"),
    ];
    for (v, want) in cases {
        assert_eq!(F64(v).to_string(), want);
    }
}

proptest! {
    #[test]
    fn numeric_text_round_trips(m in any::<i64>(), hi in any::<i64>(), scale in 0u16..40) {
        let mantissa = (hi as i128) << 40 ^ m as i128;
        let v = Numeric::from_parts(mantissa, scale);
        let back = Numeric::parse(&v.to_string()).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(hash_of(&back), hash_of(&v));
    }

    #[test]
    fn numeric_add_sub_mul_agree_with_integers(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000, sa in 0u16..6, sb in 0u16..6) {
        let x = Numeric::from_parts(a as i128, sa);
        let y = Numeric::from_parts(b as i128, sb);
        let s = sa.max(sb);
        let scale = |v: i64, from: u16| v as i128 * 10i128.pow((s - from) as u32);
        prop_assert_eq!(x.add(&y).unwrap(), Numeric::from_parts(scale(a, sa) + scale(b, sb), s));
        prop_assert_eq!(x.sub(&y).unwrap(), Numeric::from_parts(scale(a, sa) - scale(b, sb), s));
        prop_assert_eq!(x.mul(&y).unwrap(), Numeric::from_parts(a as i128 * b as i128, sa + sb));
        prop_assert_eq!(x.cmp_value(&y), scale(a, sa).cmp(&scale(b, sb)));
        if b != 0 {
            // (x / y) * y is within half a unit of the quotient's last digit of x.
            let q = x.div(&y).unwrap();
            let back = q.mul(&y).unwrap().sub(&x).unwrap().abs();
            let ulp = Numeric::from_parts(1, q.scale().unwrap()).mul(&y.abs()).unwrap();
            prop_assert!(back.cmp_value(&ulp) != std::cmp::Ordering::Greater);
        }
    }

    #[test]
    fn dates_round_trip_through_the_calendar(days in -2_451_545i64..2_145_031_949) {
        let d = Date(days as i32);
        let (y, m, dd) = d.ymd().unwrap();
        prop_assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        prop_assert_eq!(Date::parse(&d.to_string()).unwrap(), d);
    }

    #[test]
    fn timestamps_round_trip_through_text(t in -211_813_488_000_000_000i64..9_223_371_331_199_999_999) {
        let ts = Timestamp(t);
        prop_assert_eq!(Timestamp::parse(&ts.to_string(), false).unwrap(), ts);
        prop_assert_eq!(Timestamp::parse(&ts.display_tz(), true).unwrap(), ts);
    }

    #[test]
    fn intervals_round_trip_through_text(months in any::<i32>(), days in any::<i32>(), micros in -(1i64 << 60)..(1i64 << 60)) {
        let iv = Interval { months, days, micros };
        prop_assert_eq!(Interval::parse(&iv.to_string()).unwrap(), iv);
    }

    #[test]
    fn float8_text_round_trips(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        let text = F64(v).to_string();
        let back = F64::parse(&text).unwrap();
        prop_assert!(back.0.to_bits() == v.to_bits() || (v.is_nan() && back.0.is_nan()), "{} -> {}", v, text);
    }
}
