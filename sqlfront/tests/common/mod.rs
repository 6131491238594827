//! A fixed catalog and a compact plan printer shared by the tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write;

use freshet_engine::catalog::{Column, TableDef, ViewDef};
use freshet_engine::expr::{Expr, UnaryFunc, VariadicFunc};
use freshet_engine::plan::JoinKind;
pub use freshet_engine::plan::Plan;
use freshet_engine::value::{DataType, Value};
use freshet_engine::ObjectId;
use freshet_sql::{parse, plan, Catalog, Query, SqlError, Statement};

/// Tables `t`, `u`, `v8` and view `mv`, mirroring the PostgreSQL tables
/// the expected names and types were taken from:
///
/// ```sql
/// CREATE TABLE t (id int PRIMARY KEY, a int, b bigint, c numeric(10,2), d text,
///   e varchar(5), f char(3), g date, h timestamp, i timestamptz, j interval,
///   k smallint, l double precision, m boolean);
/// CREATE TABLE u (id int, t_id int, x text);
/// CREATE TABLE v8 (id bigint, y int);
/// ```
pub struct TestCatalog {
    tables: BTreeMap<String, TableDef>,
    views: BTreeMap<String, ViewDef>,
}

fn col(name: &str, ty: DataType, nullable: bool) -> Column {
    Column { name: name.into(), ty, nullable }
}

impl TestCatalog {
    pub fn new() -> TestCatalog {
        use DataType::*;
        let t = TableDef {
            id: ObjectId(1),
            name: "t".into(),
            columns: vec![
                col("id", Int4, false),
                col("a", Int4, true),
                col("b", Int8, true),
                col("c", Numeric(Some((10, 2))), true),
                col("d", Text, true),
                col("e", Varchar(Some(5)), true),
                col("f", Char(3), true),
                col("g", Date, true),
                col("h", Timestamp, true),
                col("i", TimestampTz, true),
                col("j", Interval, true),
                col("k", Int2, true),
                col("l", Float8, true),
                col("m", Bool, true),
            ],
            primary_key: vec![0],
        };
        let u = TableDef {
            id: ObjectId(2),
            name: "u".into(),
            columns: vec![col("id", Int4, true), col("t_id", Int4, true), col("x", Text, true)],
            primary_key: vec![],
        };
        let v8 = TableDef {
            id: ObjectId(3),
            name: "v8".into(),
            columns: vec![col("id", Int8, true), col("y", Int4, true)],
            primary_key: vec![],
        };
        let mv = ViewDef {
            id: ObjectId(4),
            name: "mv".into(),
            sql: "SELECT a, count(*) AS n FROM t GROUP BY a".into(),
            columns: vec![col("a", Int4, true), col("n", Int8, false)],
        };
        TestCatalog {
            tables: [t, u, v8].into_iter().map(|t| (t.name.clone(), t)).collect(),
            views: [mv].into_iter().map(|v| (v.name.clone(), v)).collect(),
        }
    }
}

impl Catalog for TestCatalog {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.get(name)
    }
    fn view(&self, name: &str) -> Option<&ViewDef> {
        self.views.get(name)
    }
}

/// Plans a single statement.
pub fn plan_one(sql: &str) -> Result<Statement, SqlError> {
    let cat = TestCatalog::new();
    let mut stmts = parse(sql)?;
    assert_eq!(stmts.len(), 1, "one statement expected in {sql}");
    plan(&stmts.remove(0), &cat)
}

/// Plans a SELECT.
pub fn query(sql: &str) -> Query {
    match plan_one(sql) {
        Ok(Statement::Select(q)) => q,
        other => panic!("{sql}: expected a SELECT, got {other:?}"),
    }
}

/// The error of planning `sql`.
pub fn error(sql: &str) -> SqlError {
    match plan_one(sql) {
        Err(e) => e,
        Ok(s) => panic!("{sql}: expected an error, planned {s:?}"),
    }
}

/// `name|type` for each output column, as psql's `\gdesc` prints them.
pub fn describe(sql: &str) -> Vec<String> {
    query(sql).columns.iter().map(|c| format!("{}|{}", c.name, c.ty)).collect()
}

/// A compact, deterministic rendering of a plan.
pub fn show_plan(p: &Plan) -> String {
    let mut out = String::new();
    render(p, 0, &mut out);
    out
}

fn render(p: &Plan, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match p {
        Plan::Get(g) => {
            let _ = writeln!(out, "{pad}Get {}", g.name);
        }
        Plan::Constant(c) => {
            let _ = writeln!(out, "{pad}Constant rows={} arity={}", c.rows.len(), c.arity);
        }
        Plan::Filter(f) => {
            let _ = writeln!(out, "{pad}Filter {}", list(&f.predicates));
            render(&f.input, depth + 1, out);
        }
        Plan::Map(m) => {
            let _ = writeln!(out, "{pad}Map {}", list(&m.exprs));
            render(&m.input, depth + 1, out);
        }
        Plan::Join(j) => {
            let kind = match j.kind {
                JoinKind::Inner => "Inner",
                JoinKind::LeftOuter => "Left",
                JoinKind::FullOuter => "Full",
            };
            let _ = writeln!(out, "{pad}Join {kind} equi={} on {}", j.equi.len(), list(&j.residual));
            render(&j.left, depth + 1, out);
            render(&j.right, depth + 1, out);
        }
        Plan::Reduce(r) => {
            let aggs: Vec<String> = r
                .aggregates
                .iter()
                .map(|a| format!("{:?}{}({})", a.func, if a.distinct { " distinct" } else { "" }, expr(&a.expr)))
                .collect();
            let _ = writeln!(out, "{pad}Reduce keys={} aggs=[{}]", list(&r.group_key), aggs.join(", "));
            render(&r.input, depth + 1, out);
        }
        Plan::Distinct(d) => {
            let _ = writeln!(out, "{pad}Distinct");
            render(&d.input, depth + 1, out);
        }
        other => {
            let _ = writeln!(out, "{pad}{other:?}");
        }
    }
}

fn list(e: &[Expr]) -> String {
    format!("[{}]", e.iter().map(expr).collect::<Vec<_>>().join(", "))
}

/// A compact rendering of an expression.
pub fn expr(e: &Expr) -> String {
    match e {
        Expr::Column(c) => format!("#{c}"),
        Expr::Literal(v) => match v {
            Value::Null => "null".into(),
            Value::Text(s) => format!("'{s}'"),
            Value::Bool(b) => b.to_string(),
            Value::Int4(i) => i.to_string(),
            Value::Int8(i) => format!("{i}::int8"),
            other => format!("{other:?}"),
        },
        Expr::Unary { func, arg } => match func {
            UnaryFunc::Cast(t) => format!("{}::{t}", expr(arg)),
            UnaryFunc::AssignCast(t) => format!("assign({} as {t})", expr(arg)),
            f => format!("{f:?}({})", expr(arg)),
        },
        Expr::Binary { func, left, right } => format!("{:?}({}, {})", func, expr(left), expr(right)),
        Expr::Variadic { func, args } => {
            let name = match func {
                VariadicFunc::And => "And",
                VariadicFunc::Or => "Or",
                VariadicFunc::Coalesce => "Coalesce",
                VariadicFunc::Call(f) => f.name(),
                VariadicFunc::Record => "Record",
            };
            format!("{name}({})", args.iter().map(expr).collect::<Vec<_>>().join(", "))
        }
        Expr::If { cond, then, els } => format!("If({}, {}, {})", expr(cond), expr(then), expr(els)),
    }
}
