//! `EXPLAIN` text for plans.
//!
//! A plan prints as an indented tree, one node per line, two spaces per
//! level, children in input order:
//!
//! ```text
//! Map (#0, #1, (#2 + #3))
//!   Filter (#4 > 10)
//!     Join inner equi=[#0 = #0] residual=[(#1 < #5)]
//!       Get invoices
//!       Get invoice_lines
//! ```
//!
//! Node lines:
//!
//! * `Get <name>`
//! * `Constant arity=<n> rows=[(1, 'a'), (2, NULL) x3]` (a row whose
//!   multiplicity is not 1 shows it after `x`; at most
//!   [`CONSTANT_ROWS_SHOWN`] rows are listed, then `... (<k> more)`)
//! * `Filter <p1>, <p2>` (conjuncts, in evaluation order)
//! * `Map (<e0>, <e1>, ...)`
//! * `Join inner|left|full [equi=[<l> = <r>, ...]] [residual=[<p>, ...]]`; the
//!   left side of an equi pair reads the left row, the right side the right
//!   row, residuals the concatenated row
//! * `Reduce key=[<k>, ...] aggs=[<agg>, ...] [classes=[<class>, ...]]`
//!   (the distinct maintenance classes of the aggregates, in first-use
//!   order; absent without aggregates)
//! * `Distinct`, `Union`, `Negate`, `Threshold`
//! * `TopK [group=[<k>, ...]] order=[#1 DESC, #0 NULLS FIRST, ...]
//!   [limit=<n>] [offset=<m>]` (the group key is absent for one group, the
//!   order for none; a key's `NULLS FIRST`/`NULLS LAST` shows only where it
//!   is not PostgreSQL's default for its direction; no limit: all rows after
//!   the offset)
//!
//! Expressions: columns are `#n`; every operator application is
//! parenthesised (`(#0 + 1)`, `(NOT #1)`, `(#2 IS NULL)`,
//! `(#0 LIKE 'a%')`); functions read as calls (`coalesce(#1, 0)`,
//! `nullif(#0, 2)`, `CAST(#1 AS numeric(12,2))`); conditionals as
//! `CASE WHEN c THEN t ELSE e END`. Literals are SQL literals that read back
//! as the same type: `NULL`, `true`, `10` (integer), `10::bigint`,
//! `10::smallint`, `1.50` (numeric with a fractional part),
//! `15::numeric`, `'a'` (text), and quoted text with a cast for the rest
//! (`'1.5'::double precision`, `'2024-01-31'::date`).

use std::fmt;

use super::{Aggregate, AggregateFunc, Constant, JoinKind, Plan, ReduceClass, TopK};
use crate::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use crate::value::Value;

/// How many rows of a [`Constant`] node `EXPLAIN` lists before eliding.
pub const CONSTANT_ROWS_SHOWN: usize = 10;

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_plan(self, 0, f)
    }
}

fn write_plan(plan: &Plan, depth: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if depth > 0 {
        writeln!(f)?;
    }
    for _ in 0..depth {
        f.write_str("  ")?;
    }
    match plan {
        Plan::Get(g) => write!(f, "Get {}", g.name)?,
        Plan::Constant(c) => write_constant(c, f)?,
        Plan::Filter(x) => {
            f.write_str("Filter ")?;
            write_list(&x.predicates, f)?;
        }
        Plan::Map(x) => {
            f.write_str("Map (")?;
            write_list(&x.exprs, f)?;
            f.write_str(")")?;
        }
        Plan::Join(j) => {
            f.write_str(match j.kind {
                JoinKind::Inner => "Join inner",
                JoinKind::LeftOuter => "Join left",
                JoinKind::FullOuter => "Join full",
            })?;
            if !j.equi.is_empty() {
                f.write_str(" equi=[")?;
                for (i, (l, r)) in j.equi.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{l} = {r}")?;
                }
                f.write_str("]")?;
            }
            if !j.residual.is_empty() {
                f.write_str(" residual=[")?;
                write_list(&j.residual, f)?;
                f.write_str("]")?;
            }
        }
        Plan::Reduce(r) => {
            f.write_str("Reduce key=[")?;
            write_list(&r.group_key, f)?;
            f.write_str("] aggs=[")?;
            write_list(&r.aggregates, f)?;
            f.write_str("]")?;
            let mut classes: Vec<ReduceClass> = Vec::new();
            for a in &r.aggregates {
                if !classes.contains(&a.class()) {
                    classes.push(a.class());
                }
            }
            if !classes.is_empty() {
                f.write_str(" classes=[")?;
                for (i, c) in classes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(match c {
                        ReduceClass::Accumulable => "accumulable",
                        ReduceClass::Hierarchical => "hierarchical",
                        ReduceClass::Basic => "basic",
                        ReduceClass::Representative => "representative",
                    })?;
                }
                f.write_str("]")?;
            }
        }
        Plan::Distinct(_) => f.write_str("Distinct")?,
        Plan::Union(_) => f.write_str("Union")?,
        Plan::Negate(_) => f.write_str("Negate")?,
        Plan::Threshold(_) => f.write_str("Threshold")?,
        Plan::TopK(t) => write_topk(t, f)?,
    }
    match plan {
        Plan::Get(_) | Plan::Constant(_) => Ok(()),
        Plan::Filter(x) => write_plan(&x.input, depth + 1, f),
        Plan::Map(x) => write_plan(&x.input, depth + 1, f),
        Plan::Join(x) => {
            write_plan(&x.left, depth + 1, f)?;
            write_plan(&x.right, depth + 1, f)
        }
        Plan::Reduce(x) => write_plan(&x.input, depth + 1, f),
        Plan::Distinct(x) => write_plan(&x.input, depth + 1, f),
        Plan::Union(x) => x.inputs.iter().try_for_each(|i| write_plan(i, depth + 1, f)),
        Plan::Negate(x) => write_plan(&x.input, depth + 1, f),
        Plan::Threshold(x) => write_plan(&x.input, depth + 1, f),
        Plan::TopK(x) => write_plan(&x.input, depth + 1, f),
    }
}

fn write_topk(t: &TopK, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("TopK")?;
    if !t.group_key.is_empty() {
        f.write_str(" group=[")?;
        write_list(&t.group_key, f)?;
        f.write_str("]")?;
    }
    if !t.order.is_empty() {
        f.write_str(" order=[")?;
        for (i, k) in t.order.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "#{}", k.column)?;
            if k.descending {
                f.write_str(" DESC")?;
            }
            match (k.descending, k.nulls_first) {
                (false, true) => f.write_str(" NULLS FIRST")?,
                (true, false) => f.write_str(" NULLS LAST")?,
                _ => {}
            }
        }
        f.write_str("]")?;
    }
    if let Some(n) = t.limit {
        write!(f, " limit={n}")?;
    }
    if t.offset > 0 {
        write!(f, " offset={}", t.offset)?;
    }
    Ok(())
}

fn write_constant(c: &Constant, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "Constant arity={} rows=[", c.arity)?;
    for (i, (row, diff)) in c.rows.iter().take(CONSTANT_ROWS_SHOWN).enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str("(")?;
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                f.write_str(", ")?;
            }
            write_literal(v, f)?;
        }
        f.write_str(")")?;
        if *diff != 1 {
            write!(f, " x{diff}")?;
        }
    }
    if c.rows.len() > CONSTANT_ROWS_SHOWN {
        write!(f, ", ... ({} more)", c.rows.len() - CONSTANT_ROWS_SHOWN)?;
    }
    f.write_str("]")
}

fn write_list<T: fmt::Display>(items: &[T], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.func {
            AggregateFunc::CountStar => {
                return f.write_str("count(*)");
            }
            AggregateFunc::Count => "count",
            AggregateFunc::Sum => "sum",
            AggregateFunc::Avg => "avg",
            AggregateFunc::Min => "min",
            AggregateFunc::Max => "max",
            AggregateFunc::MinRepr => "min_repr",
            AggregateFunc::BoolAnd => "bool_and",
            AggregateFunc::BoolOr => "bool_or",
            AggregateFunc::VarSamp => "var_samp",
            AggregateFunc::VarPop => "var_pop",
            AggregateFunc::StddevSamp => "stddev_samp",
            AggregateFunc::StddevPop => "stddev_pop",
            AggregateFunc::StringAgg(_) | AggregateFunc::ArrayAgg(_) => {
                let name = if matches!(self.func, AggregateFunc::StringAgg(_)) { "string_agg" } else { "array_agg" };
                return self.fmt_ordered(name, self.ordered().expect("an ordered aggregate"), f);
            }
        };
        let distinct = if self.distinct { "DISTINCT " } else { "" };
        write!(f, "{name}({distinct}{})", self.expr)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(c) => write!(f, "#{c}"),
            Expr::Literal(v) => write_literal(v, f),
            Expr::Unary { func, arg } => match func {
                UnaryFunc::Not => write!(f, "(NOT {arg})"),
                UnaryFunc::IsNull => write!(f, "({arg} IS NULL)"),
                UnaryFunc::IsNotNull => write!(f, "({arg} IS NOT NULL)"),
                UnaryFunc::IsTrue => write!(f, "({arg} IS TRUE)"),
                UnaryFunc::IsFalse => write!(f, "({arg} IS FALSE)"),
                UnaryFunc::IsNotTrue => write!(f, "({arg} IS NOT TRUE)"),
                UnaryFunc::IsNotFalse => write!(f, "({arg} IS NOT FALSE)"),
                UnaryFunc::Neg => write!(f, "(- {arg})"),
                UnaryFunc::Cast(ty) => write!(f, "CAST({arg} AS {ty})"),
                UnaryFunc::CharToText => write!(f, "char_to_text({arg})"),
                UnaryFunc::AssignCast(ty) => write!(f, "assign_cast({arg} AS {ty})"),
                UnaryFunc::KeyNormalize => write!(f, "key_normalize({arg})"),
            },
            Expr::Binary { func, left, right } => {
                let op = match func {
                    BinaryFunc::Add => "+",
                    BinaryFunc::Sub => "-",
                    BinaryFunc::Mul => "*",
                    BinaryFunc::Div => "/",
                    BinaryFunc::Mod => "%",
                    BinaryFunc::Eq => "=",
                    BinaryFunc::NotEq => "<>",
                    BinaryFunc::Lt => "<",
                    BinaryFunc::Lte => "<=",
                    BinaryFunc::Gt => ">",
                    BinaryFunc::Gte => ">=",
                    BinaryFunc::IsDistinctFrom => "IS DISTINCT FROM",
                    BinaryFunc::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
                    BinaryFunc::Concat => "||",
                    BinaryFunc::Like { escape, case_insensitive } => {
                        let op = if *case_insensitive { "ILIKE" } else { "LIKE" };
                        write!(f, "({left} {op} {right}")?;
                        match escape {
                            Some('\\') => {}
                            Some(c) => {
                                f.write_str(" ESCAPE ")?;
                                write_quoted(&c.to_string(), f)?;
                            }
                            None => f.write_str(" ESCAPE ''")?,
                        }
                        return f.write_str(")");
                    }
                    BinaryFunc::NullIf => return write!(f, "nullif({left}, {right})"),
                    BinaryFunc::SingleRowValue => return write!(f, "single_row_value({left}, {right})"),
                };
                write!(f, "({left} {op} {right})")
            }
            Expr::Variadic { func: VariadicFunc::Call(call), args } => call.fmt_call(args, f),
            Expr::Variadic { func, args } => {
                let (open, sep) = match func {
                    VariadicFunc::And => ("(", " AND "),
                    VariadicFunc::Or => ("(", " OR "),
                    VariadicFunc::Coalesce | VariadicFunc::Call(_) => ("coalesce(", ", "),
                    VariadicFunc::Record => ("row(", ", "),
                };
                f.write_str(open)?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::If { cond, then, els } => write!(f, "CASE WHEN {cond} THEN {then} ELSE {els} END"),
        }
    }
}

/// Writes `v` as a SQL literal that reads back as the same type.
fn write_literal(v: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match v {
        Value::Null => f.write_str("NULL"),
        Value::Bool(b) => write!(f, "{b}"),
        Value::Int2(i) => write!(f, "{i}::smallint"),
        Value::Int4(i) => write!(f, "{i}"),
        Value::Int8(i) => write!(f, "{i}::bigint"),
        Value::Numeric(n) => {
            let text = n.to_string();
            if !n.is_finite() {
                write!(f, "'{text}'::numeric")
            } else if text.contains('.') {
                f.write_str(&text)
            } else {
                write!(f, "{text}::numeric")
            }
        }
        Value::Float8(_) => write!(f, "'{v}'::double precision"),
        Value::Text(s) => write_quoted(s, f),
        Value::Date(_) => write!(f, "'{v}'::date"),
        Value::Timestamp(_) => write!(f, "'{v}'::timestamp"),
        Value::TimestampTz(_) => write!(f, "'{v}'::timestamptz"),
        Value::Interval(_) => write!(f, "'{v}'::interval"),
        Value::Uuid(_) => write!(f, "'{v}'::uuid"),
        Value::Bytea(_) => write!(f, "'{v}'::bytea"),
        // Only a folded `row(...)` is an array literal.
        Value::Array(fields) => {
            f.write_str("row(")?;
            write_literals(fields, f)?;
            f.write_str(")")
        }
    }
}

/// Literals separated by `, `.
fn write_literals(values: &[Value], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_literal(v, f)?;
    }
    Ok(())
}

/// `'...'` with embedded quotes doubled.
fn write_quoted(s: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("'")?;
    f.write_str(&s.replace('\'', "''"))?;
    f.write_str("'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Filter, Get, Join, Map, Reduce, Union};
    use crate::value::{DataType, Date, Interval, Numeric, Row, Timestamp, F64};

    fn get(name: &str, arity: usize) -> Plan {
        Plan::Get(Get { id: crate::plan::ObjectId(1), name: name.into(), types: vec![DataType::Int4; arity] })
    }
    fn col(n: usize) -> Expr {
        Expr::Column(n)
    }
    fn lit(v: Value) -> Expr {
        Expr::Literal(v)
    }

    #[test]
    fn join_tree_text() {
        let join = Plan::Join(Join {
            kind: JoinKind::Inner,
            left: Box::new(get("invoices", 3)),
            right: Box::new(get("invoice_lines", 3)),
            equi: vec![(col(0), col(0))],
            residual: vec![col(1).call_binary(BinaryFunc::Lt, col(5))],
        });
        let filter = Plan::Filter(Filter {
            input: Box::new(join),
            predicates: vec![col(4).call_binary(BinaryFunc::Gt, lit(Value::Int4(10)))],
        });
        let map = Plan::Map(Map {
            input: Box::new(filter),
            exprs: vec![col(0), col(1), col(2).call_binary(BinaryFunc::Add, col(3))],
        });
        assert_eq!(
            map.to_string(),
            "Map (#0, #1, (#2 + #3))\n  Filter (#4 > 10)\n    Join inner equi=[#0 = #0] residual=[(#1 < #5)]\n      Get invoices\n      Get invoice_lines"
        );
    }

    #[test]
    fn full_join_text() {
        let join = Plan::Join(Join {
            kind: JoinKind::FullOuter,
            left: Box::new(get("a", 2)),
            right: Box::new(get("b", 2)),
            equi: vec![(col(0), col(1))],
            residual: vec![col(1).call_binary(BinaryFunc::Lt, col(2))],
        });
        assert_eq!(join.to_string(), "Join full equi=[#0 = #1] residual=[(#1 < #2)]\n  Get a\n  Get b");
        let cross = Plan::Join(Join {
            kind: JoinKind::FullOuter,
            left: Box::new(get("a", 1)),
            right: Box::new(get("b", 1)),
            equi: vec![],
            residual: vec![],
        });
        assert_eq!(cross.to_string(), "Join full\n  Get a\n  Get b");
    }

    #[test]
    fn reduce_and_aggregates() {
        let agg = |func, expr, distinct| Aggregate { func, expr, input_type: DataType::Int4, distinct };
        let r = Plan::Reduce(Reduce {
            input: Box::new(get("t", 3)),
            group_key: vec![col(0)],
            aggregates: vec![
                agg(AggregateFunc::CountStar, lit(Value::Null), false),
                agg(AggregateFunc::Sum, col(2), false),
                agg(AggregateFunc::Min, col(1), true),
                agg(AggregateFunc::Max, col(1), false),
            ],
        });
        assert_eq!(
            r.to_string(),
            "Reduce key=[#0] aggs=[count(*), sum(#2), min(DISTINCT #1), max(#1)] classes=[accumulable, basic, hierarchical]\n  Get t"
        );
        let g = Plan::Reduce(Reduce { input: Box::new(get("t", 1)), group_key: vec![col(0)], aggregates: vec![] });
        assert_eq!(g.to_string(), "Reduce key=[#0] aggs=[]\n  Get t");
    }

    #[test]
    fn expressions_read_as_sql() {
        let e = Expr::Variadic { func: VariadicFunc::Coalesce, args: vec![col(1), lit(Value::Int4(0))] };
        assert_eq!(e.to_string(), "coalesce(#1, 0)");
        let c = col(1).call_unary(UnaryFunc::Cast(DataType::Numeric(Some((12, 2)))));
        assert_eq!(c.to_string(), "CAST(#1 AS numeric(12,2))");
        let like = col(1)
            .call_binary(BinaryFunc::Like { escape: Some('\\'), case_insensitive: false }, lit(Value::text("a%")));
        assert_eq!(like.to_string(), "(#1 LIKE 'a%')");
        let ilike = col(1)
            .call_binary(BinaryFunc::Like { escape: Some('#'), case_insensitive: true }, lit(Value::text("it's")));
        assert_eq!(ilike.to_string(), "(#1 ILIKE 'it''s' ESCAPE '#')");
        let no_escape =
            col(0).call_binary(BinaryFunc::Like { escape: None, case_insensitive: false }, lit(Value::text("x")));
        assert_eq!(no_escape.to_string(), "(#0 LIKE 'x' ESCAPE '')");
        let and = Expr::Variadic {
            func: VariadicFunc::And,
            args: vec![
                col(0).call_unary(UnaryFunc::IsNull),
                col(1).call_unary(UnaryFunc::Not),
                col(2).call_unary(UnaryFunc::Neg),
            ],
        };
        assert_eq!(and.to_string(), "((#0 IS NULL) AND (NOT #1) AND (- #2))");
        let case = Expr::If {
            cond: Box::new(col(0).call_binary(BinaryFunc::IsDistinctFrom, lit(Value::Null))),
            then: Box::new(col(1).call_binary(BinaryFunc::NullIf, lit(Value::Int4(2)))),
            els: Box::new(col(2).call_binary(BinaryFunc::Concat, lit(Value::text("x")))),
        };
        assert_eq!(case.to_string(), "CASE WHEN (#0 IS DISTINCT FROM NULL) THEN nullif(#1, 2) ELSE (#2 || 'x') END");
    }

    #[test]
    fn literals_keep_their_type() {
        let num = |mantissa, scale| lit(Value::Numeric(Numeric::from_parts(mantissa, scale)));
        assert_eq!(num(150, 2).to_string(), "1.50");
        assert_eq!(num(-5, 3).to_string(), "-0.005");
        assert_eq!(num(15, 0).to_string(), "15::numeric");
        assert_eq!(lit(Value::Int8(-10)).to_string(), "-10::bigint");
        assert_eq!(lit(Value::Int2(7)).to_string(), "7::smallint");
        assert_eq!(lit(Value::Bool(true)).to_string(), "true");
        assert_eq!(lit(Value::Float8(F64(1.5))).to_string(), "'1.5'::double precision");
        assert_eq!(lit(Value::Float8(F64(f64::NEG_INFINITY))).to_string(), "'-Infinity'::double precision");
        assert_eq!(lit(Value::Date(Date(0))).to_string(), "'2000-01-01'::date");
        assert_eq!(lit(Value::Date(Date(8796))).to_string(), "'2024-01-31'::date");
        assert_eq!(lit(Value::Date(Date(-730_119))).to_string(), "'0001-01-01'::date");
        assert_eq!(lit(Value::Date(Date(-730_120))).to_string(), "'0001-12-31 BC'::date");
        assert_eq!(
            lit(Value::Timestamp(Timestamp(86_400_000_000 + 3_723_500_000))).to_string(),
            "'2000-01-02 01:02:03.5'::timestamp"
        );
        assert_eq!(lit(Value::TimestampTz(Timestamp(-1))).to_string(), "'1999-12-31 23:59:59.999999+00'::timestamptz");
        let iv = Interval { months: 14, days: 3, micros: -3_600_000_000 };
        assert_eq!(lit(Value::Interval(iv)).to_string(), "'1 year 2 mons 3 days -01:00:00'::interval");
        assert_eq!(
            lit(Value::Interval(Interval { months: 0, days: 0, micros: 0 })).to_string(),
            "'00:00:00'::interval"
        );
        let mut u = [0u8; 16];
        u[15] = 0xab;
        assert_eq!(lit(Value::Uuid(u)).to_string(), "'00000000-0000-0000-0000-0000000000ab'::uuid");
        assert_eq!(lit(Value::Bytea(vec![0xde, 0xad].into())).to_string(), "'\\xdead'::bytea");
    }

    #[test]
    fn topk_text() {
        use crate::plan::SortColumn;
        let t = Plan::TopK(TopK {
            input: Box::new(get("t", 3)),
            group_key: vec![col(0).call_unary(UnaryFunc::KeyNormalize)],
            order: vec![
                SortColumn { column: 1, descending: true, nulls_first: true },
                SortColumn { column: 2, descending: false, nulls_first: true },
                SortColumn { column: 0, descending: true, nulls_first: false },
                SortColumn::asc(1),
            ],
            limit: Some(1),
            offset: 0,
        });
        assert_eq!(
            t.to_string(),
            "TopK group=[key_normalize(#0)] order=[#1 DESC, #2 NULLS FIRST, #0 DESC NULLS LAST, #1] limit=1\n  Get t"
        );
        let whole = Plan::TopK(TopK {
            input: Box::new(get("t", 1)),
            group_key: vec![],
            order: vec![],
            limit: None,
            offset: 2,
        });
        assert_eq!(whole.to_string(), "TopK offset=2\n  Get t");
    }

    #[test]
    fn constant_union_and_left_join() {
        let c = Plan::Constant(Constant {
            rows: vec![
                (Row::new(vec![Value::Int4(1), Value::text("a")]), 1),
                (Row::new(vec![Value::Int4(2), Value::Null]), 3),
            ],
            arity: 2,
        });
        let u =
            Plan::Union(Union { inputs: vec![c, Plan::Negate(crate::plan::Negate { input: Box::new(get("t", 2)) })] });
        let j = Plan::Join(Join {
            kind: JoinKind::LeftOuter,
            left: Box::new(Plan::Threshold(crate::plan::Threshold { input: Box::new(u) })),
            right: Box::new(Plan::Distinct(crate::plan::Distinct { input: Box::new(get("s", 1)) })),
            equi: vec![(col(0), col(0)), (col(1), col(0))],
            residual: vec![],
        });
        assert_eq!(
            j.to_string(),
            "Join left equi=[#0 = #0, #1 = #0]\n  Threshold\n    Union\n      Constant arity=2 rows=[(1, 'a'), (2, NULL) x3]\n      Negate\n        Get t\n  Distinct\n    Get s"
        );
        let many =
            Plan::Constant(Constant { rows: (0..12).map(|i| (Row::new(vec![Value::Int4(i)]), 1)).collect(), arity: 1 });
        assert_eq!(
            many.to_string(),
            "Constant arity=1 rows=[(0), (1), (2), (3), (4), (5), (6), (7), (8), (9), ... (2 more)]"
        );
    }
}
