//! Naive evaluation of `bool_and`/`bool_or`, the variance family, and the
//! ordered aggregates `string_agg`/`array_agg`, from their definitions.
//!
//! * `bool_and`/`bool_or` fold the non-NULL values with AND / OR.
//! * The variance family over integers and numerics follows PostgreSQL's
//!   `numeric_stddev_internal` with exact numeric arithmetic: the numerator
//!   `n·Σx² − (Σx)²` (at twice the largest display scale), `0` when not
//!   positive, divided by `n(n−1)` or `n²` with numeric division's scale;
//!   the standard deviation is the square root rounded half up at that
//!   scale, found by checking the rounding interval exactly. Over `float8`
//!   the values are taken exactly (as decimals), the variance computed
//!   exactly and rounded once to a double (the engine's documented
//!   choice; PostgreSQL's floating-point recurrence can differ in the last
//!   bits), the standard deviation its square root.
//! * `string_agg`/`array_agg` list the argument records once per unit of
//!   multiplicity (under `DISTINCT`, one per class of SQL-equal arguments,
//!   the least in the total order), sort them by the `ORDER BY` keys (the
//!   value ascending, NULLs last, without keys) and then by the whole
//!   record in the total order, and concatenate.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use freshet_engine::expr::{BinaryFunc, EvalError};
use freshet_engine::plan::{Aggregate, AggregateFunc, Diff, OrderedArgs};
use freshet_engine::value::{DataType, Numeric, Row, Value, F64};

use super::apply;

/// `bool_and` / `bool_or` over the non-NULL values.
pub(super) fn bool_fold(func: AggregateFunc, values: &[Value]) -> Result<Value, EvalError> {
    let mut acc: Option<bool> = None;
    for v in values {
        let Value::Bool(b) = v else { return Err(EvalError::Other(format!("{func:?} over {v:?}"))) };
        acc = Some(match (acc, func) {
            (None, _) => *b,
            (Some(a), AggregateFunc::BoolOr) => a || *b,
            (Some(a), _) => a && *b,
        });
    }
    Ok(acc.map_or(Value::Null, Value::Bool))
}

/// `var_samp`, `var_pop`, `stddev_samp`, `stddev_pop` over the non-NULL
/// values (of the aggregate's input type).
pub(super) fn variance(func: AggregateFunc, input_type: DataType, values: &[Value]) -> Result<Value, EvalError> {
    let sample = matches!(func, AggregateFunc::VarSamp | AggregateFunc::StddevSamp);
    let stddev = matches!(func, AggregateFunc::StddevSamp | AggregateFunc::StddevPop);
    let n = values.len() as i64;
    if n == 0 || (sample && n == 1) {
        return Ok(Value::Null);
    }
    let denominator = if sample { n * (n - 1) } else { n * n };
    if input_type == DataType::Float8 {
        return float_variance(values, n, denominator, stddev);
    }
    let mut sum = Value::Numeric(Numeric::ZERO);
    let mut squares = Value::Numeric(Numeric::ZERO);
    for v in values {
        let x = super::cast(v.clone(), DataType::Numeric(None))?;
        sum = apply(BinaryFunc::Add, sum, x.clone())?;
        if let Value::Numeric(n) = &x {
            if n.is_finite() {
                squares = apply(BinaryFunc::Add, squares, apply(BinaryFunc::Mul, x.clone(), x)?)?;
            }
        }
    }
    let Value::Numeric(s) = &sum else { unreachable!("a numeric sum") };
    if !s.is_finite() {
        return Ok(Value::Numeric(Numeric::NAN));
    }
    let numerator = apply(
        BinaryFunc::Sub,
        apply(BinaryFunc::Mul, Value::Numeric(Numeric::from(n)), squares)?,
        apply(BinaryFunc::Mul, sum.clone(), sum)?,
    )?;
    let Value::Numeric(numerator) = numerator else { unreachable!("a numeric numerator") };
    if numerator.signum() <= 0 {
        return Ok(Value::Numeric(Numeric::ZERO));
    }
    let q = numerator.div(&Numeric::from(denominator))?;
    Ok(Value::Numeric(if stddev { sqrt_half_up(&q)? } else { q }))
}

/// `sqrt(q)` rounded half up to `q`'s display scale: the `c` at that scale
/// with `(c − ½ulp)² ≤ q < (c + ½ulp)²`.
fn sqrt_half_up(q: &Numeric) -> Result<Numeric, EvalError> {
    let scale = q.scale().unwrap_or(0);
    let ulp = Numeric::from_parts(1, scale);
    let half = Numeric::from_parts(5, scale + 1);
    let mut c = q.sqrt()?.round(scale as i32);
    loop {
        let lo = c.sub(&half)?;
        if lo.signum() > 0 && lo.mul(&lo)?.cmp_value(q) == Ordering::Greater {
            c = c.sub(&ulp)?;
            continue;
        }
        let hi = c.add(&half)?;
        if hi.mul(&hi)?.cmp_value(q) != Ordering::Greater {
            c = c.add(&ulp)?;
            continue;
        }
        return Ok(c);
    }
}

/// The float8 variance of the exact values, rounded once.
fn float_variance(values: &[Value], n: i64, denominator: i64, stddev: bool) -> Result<Value, EvalError> {
    let mut exact = Vec::with_capacity(values.len());
    for v in values {
        let Value::Float8(F64(f)) = v else { return Err(EvalError::Other(format!("variance over {v:?}"))) };
        if !f.is_finite() {
            return Ok(Value::Float8(F64(f64::NAN)));
        }
        // Enough digits to print any double exactly.
        exact.push(Numeric::parse(&format!("{f:.800e}"))?);
    }
    let overflow = || EvalError::Other("value out of range: overflow".into());
    let mut sum = Numeric::ZERO;
    let mut squares = Numeric::ZERO;
    for x in &exact {
        sum = sum.add(x)?;
        squares = squares.add(&x.mul(x)?)?;
    }
    if sum.to_f64().is_err() {
        return Err(overflow());
    }
    let numerator = Numeric::from(n).mul(&squares)?.sub(&sum.mul(&sum)?)?;
    if numerator.signum() <= 0 {
        return Ok(Value::Float8(F64(0.0)));
    }
    let digits = 2400;
    if numerator.div_with_scale(&Numeric::from(n), digits)?.to_f64().is_err() {
        return Err(overflow());
    }
    let v = numerator.div_with_scale(&Numeric::from(denominator), digits)?.to_f64()?;
    Ok(Value::Float8(F64(if stddev { v.sqrt() } else { v })))
}

/// `string_agg` / `array_agg` over a group's rows.
pub(super) fn ordered(agg: &Aggregate, layout: OrderedArgs, rows: &[(Row, Diff)]) -> Result<Value, EvalError> {
    let string_agg = matches!(agg.func, AggregateFunc::StringAgg(_));
    let mut records: Vec<Vec<Value>> = Vec::new();
    for (row, diff) in rows {
        let fields = match agg.expr.eval(row)? {
            Value::Null => continue,
            Value::Array(fields) => fields.to_vec(),
            v => return Err(EvalError::Other(format!("an ordered aggregate's argument is {v:?}"))),
        };
        if string_agg && fields[0].is_null() {
            continue;
        }
        for _ in 0..*diff {
            records.push(fields.clone());
        }
    }
    if agg.distinct {
        let mut classes: BTreeMap<Vec<Value>, Vec<Value>> = BTreeMap::new();
        for r in records {
            let class = r[..layout.args].iter().map(Value::key_normalized).collect();
            let least = classes.entry(class).or_insert_with(|| r.clone());
            if r[..layout.args] < least[..layout.args] {
                *least = r;
            }
        }
        records = classes.into_values().collect();
    }
    if records.is_empty() {
        return Ok(Value::Null);
    }
    records.sort_by(|a, b| {
        let keys: Vec<(usize, bool, bool)> = if layout.order.is_empty() {
            vec![(0, false, false)]
        } else {
            (0..layout.order.len())
                .map(|i| {
                    let k = layout.order.key(i, layout.args);
                    (k.column, k.descending, k.nulls_first)
                })
                .collect()
        };
        for (column, descending, nulls_first) in keys {
            let (x, y) = (&a[column], &b[column]);
            let o = match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (false, false) if descending => y.sql_cmp(x).unwrap_or(Ordering::Equal),
                (false, false) => x.sql_cmp(y).unwrap_or(Ordering::Equal),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.cmp(b)
    });
    if !string_agg {
        return Ok(Value::Array(records.into_iter().map(|mut r| r.swap_remove(0)).collect()));
    }
    let mut out = records[0][0].clone();
    for r in &records[1..] {
        if !r[1].is_null() {
            out = concat(out, &r[1])?;
        }
        out = concat(out, &r[0])?;
    }
    Ok(out)
}

/// `a || b` for text or bytea.
fn concat(a: Value, b: &Value) -> Result<Value, EvalError> {
    match (a, b) {
        (Value::Text(a), Value::Text(b)) => Ok(Value::text(&format!("{a}{b}"))),
        (Value::Bytea(a), Value::Bytea(b)) => Ok(Value::Bytea(a.iter().chain(b.iter()).copied().collect())),
        (a, b) => Err(EvalError::Other(format!("cannot concatenate {a:?} and {b:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use freshet_engine::expr::{Expr, VariadicFunc};
    use freshet_engine::plan::{AggOrder, Get, ObjectId, Plan, Reduce};

    use super::super::evaluate;
    use super::*;

    fn get(types: Vec<DataType>) -> Plan {
        Plan::Get(Get { id: ObjectId(1), name: "t".into(), types })
    }

    fn agg(func: AggregateFunc, expr: Expr, input_type: DataType, distinct: bool) -> Aggregate {
        Aggregate { func, expr, input_type, distinct }
    }

    fn record(fields: Vec<Expr>) -> Expr {
        Expr::Variadic { func: VariadicFunc::Record, args: fields }
    }

    /// Evaluates a global reduce of `aggs` over rows of `(x int, n
    /// numeric, f float8, b boolean, s text, d text)`, returning the
    /// values as text (NULL as `NULL`).
    fn global(aggs: Vec<Aggregate>, rows: Vec<(Vec<Value>, Diff)>) -> Vec<String> {
        use DataType::*;
        let plan = Plan::Reduce(Reduce {
            input: Box::new(get(vec![Int4, Numeric(None), Float8, Bool, Text, Text])),
            group_key: vec![],
            aggregates: aggs,
        });
        let bag = rows.into_iter().map(|(r, d)| (Row::new(r), d)).collect();
        let out = evaluate(&plan, &[(ObjectId(1), bag)].into()).unwrap();
        assert_eq!(out.len(), 1);
        out[0].0.iter().map(|v| if v.is_null() { "NULL".to_string() } else { v.to_string() }).collect()
    }

    fn data() -> Vec<(Vec<Value>, Diff)> {
        let num = |s: &str| Value::Numeric(Numeric::parse(s).unwrap());
        let t = Value::text;
        vec![
            (vec![Value::Int4(1), num("1.25"), Value::Float8(F64(1.0)), Value::Bool(true), t("b"), t("-")], 1),
            (vec![Value::Int4(2), num("2.5"), Value::Float8(F64(2.0)), Value::Null, t("a c"), Value::Null], 1),
            (vec![Value::Int4(4), num("3.125"), Value::Float8(F64(4.0)), Value::Bool(false), Value::Null, t("+")], 1),
            (vec![Value::Int4(4), num("3.125"), Value::Float8(F64(4.0)), Value::Bool(false), t("a"), t("/")], 1),
            (vec![Value::Null, Value::Null, Value::Null, Value::Bool(true), t("a"), t("|")], 2),
        ]
    }

    /// Values PostgreSQL 15 gives for the same data.
    #[test]
    fn variance_family_and_booleans_match_postgresql() {
        use AggregateFunc::*;
        use DataType::*;
        let c = Expr::Column;
        let aggs = vec![
            agg(VarSamp, c(0), Int4, false),
            agg(StddevPop, c(0), Int4, false),
            agg(VarPop, c(1), Numeric(None), false),
            agg(StddevSamp, c(1), Numeric(None), true),
            agg(VarSamp, c(2), Float8, false),
            agg(BoolAnd, c(3), Bool, false),
            agg(BoolOr, c(3), Bool, false),
        ];
        assert_eq!(
            global(aggs, data()),
            [
                "2.2500000000000000",
                "1.2990381056766580",
                "0.58593750000000000000",
                "0.95470326978246666804",
                "2.25",
                "f",
                "t"
            ]
        );
    }

    #[test]
    fn ordered_aggregates_sort_by_their_keys_then_the_record() {
        use DataType::*;
        let c = Expr::Column;
        let desc = AggOrder::new(&[(true, true)]).unwrap();
        let asc = AggOrder::new(&[(false, false)]).unwrap();
        let aggs = vec![
            // string_agg(s, d ORDER BY x DESC NULLS FIRST)
            agg(AggregateFunc::StringAgg(desc), record(vec![c(4), c(5), c(0)]), Text, false),
            // array_agg(s ORDER BY s), NULLs kept
            agg(AggregateFunc::ArrayAgg(asc), record(vec![c(4), c(4)]), Text, false),
            // array_agg(DISTINCT s ORDER BY s)
            agg(AggregateFunc::ArrayAgg(asc), record(vec![c(4), c(4)]), Text, true),
            // array_agg(x) without ORDER BY: by the value, NULLs last
            agg(AggregateFunc::ArrayAgg(AggOrder::default()), record(vec![c(0)]), Int4, false),
        ];
        assert_eq!(
            global(aggs, data()),
            ["a|a/aa c-b", "{a,a,a,\"a c\",b,NULL}", "{a,\"a c\",b,NULL}", "{1,2,4,4,NULL,NULL}"]
        );
        // Over no rows, and over rows whose record is NULL (a FILTER).
        let filtered = agg(AggregateFunc::ArrayAgg(asc), Expr::Literal(Value::Null), Int4, false);
        assert_eq!(global(vec![filtered.clone()], vec![]), ["NULL"]);
        assert_eq!(global(vec![filtered], data()), ["NULL"]);
    }
}
