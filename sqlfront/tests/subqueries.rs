//! Subqueries in expressions: names and types of their columns, name
//! resolution through enclosing queries, errors, and the decorrelated plan
//! shapes (no subquery is evaluated per row: every one is a join).

mod common;

use common::{describe, error, query, Plan};
use freshet_engine::expr::{BinaryFunc, Expr};
use freshet_sql::ErrorKind;

fn check_error(sql: &str, message: &str, line: u64, column: u64) {
    let e = error(sql);
    assert_eq!(e.to_string(), message, "{sql}");
    let pos = e.position().unwrap_or_else(|| panic!("{sql}: no position"));
    assert_eq!((pos.line, pos.column), (line, column), "{sql}");
}

/// Counts plan nodes by kind: (joins, reduces, distincts, unions).
fn shape(p: &Plan) -> (usize, usize, usize, usize) {
    let mut n = (0, 0, 0, 0);
    p.visit(&mut |p| match p {
        Plan::Join(_) => n.0 += 1,
        Plan::Reduce(_) => n.1 += 1,
        Plan::Distinct(_) => n.2 += 1,
        Plan::Union(_) => n.3 += 1,
        _ => {}
    });
    n
}

/// Whether any expression of the plan calls `single_row_value`.
fn checks_single_row(p: &Plan) -> bool {
    fn expr_has(e: &Expr) -> bool {
        match e {
            Expr::Binary { func: BinaryFunc::SingleRowValue, .. } => true,
            Expr::Binary { left, right, .. } => expr_has(left) || expr_has(right),
            Expr::Unary { arg, .. } => expr_has(arg),
            Expr::Variadic { args, .. } => args.iter().any(expr_has),
            Expr::If { cond, then, els } => expr_has(cond) || expr_has(then) || expr_has(els),
            Expr::Column(_) | Expr::Literal(_) => false,
        }
    }
    let mut found = false;
    p.visit(&mut |p| {
        if let Plan::Map(m) = p {
            found |= m.exprs.iter().any(expr_has);
        }
    });
    found
}

#[test]
fn columns_are_named_and_typed_as_postgresql_does() {
    assert_eq!(
        describe("SELECT (SELECT max(y) FROM v8), (SELECT a AS foo FROM t), EXISTS (SELECT 1 FROM u), (SELECT 1), a IN (SELECT id FROM u) FROM t"),
        vec!["max|integer", "foo|integer", "exists|boolean", "?column?|integer", "?column?|boolean"]
    );
    // A scalar subquery's value may always be NULL (no rows).
    let q = query("SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM u) FROM t");
    assert!(q.columns[0].nullable);
}

#[test]
fn names_resolve_in_the_innermost_query_first() {
    // `id` is u's; `t.a` is the enclosing query's.
    let q = query("SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE id = t.a)");
    assert_eq!(q.columns.len(), 1);
    // Two levels up.
    query("SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE EXISTS (SELECT 1 FROM v8 WHERE v8.y = t.a AND v8.y = u.id))");
    // A relation of the subquery's own FROM hides the enclosing one.
    check_error(
        "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u AS t WHERE t.zz = 1)",
        "column t.zz does not exist",
        1,
        59,
    );
    check_error("SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE zz = 1)", "column \"zz\" does not exist", 1, 54);
    check_error(
        "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE q.a = 1)",
        "missing FROM-clause entry for table \"q\"",
        1,
        54,
    );
    // Ambiguity inside the subquery is final.
    assert_eq!(
        error("SELECT 1 FROM t WHERE EXISTS (SELECT 1 FROM u, u AS u2 WHERE t_id = 1)").kind(),
        Some(ErrorKind::Ambiguous)
    );
}

#[test]
fn subquery_errors_are_postgresql_s() {
    check_error("SELECT (SELECT id, t_id FROM u)", "subquery must return only one column", 1, 9);
    check_error("SELECT 1 FROM t WHERE a IN (SELECT id, t_id FROM u)", "subquery has too many columns", 1, 23);
    check_error("SELECT 1 FROM t WHERE (a, d) IN (SELECT id FROM u)", "subquery has too few columns", 1, 24);
    check_error(
        "SELECT a, (SELECT count(*) FROM u WHERE u.id = t.k) FROM t GROUP BY a",
        "subquery uses ungrouped column \"t.k\" from outer query",
        1,
        12,
    );
    check_error("SELECT 1 FROM t WHERE d IN (SELECT id FROM u)", "operator does not exist: text = integer", 1, 23);
    assert_eq!(error("SELECT (SELECT sum(t.a)) FROM t").kind(), Some(ErrorKind::Unsupported));
    assert_eq!(error("SELECT sum((SELECT 1)) FROM t").to_string(), "not supported: subqueries in aggregate arguments");
    assert_eq!(
        error("UPDATE t SET a = 1 WHERE a IN (SELECT id FROM u)").to_string(),
        "not supported: subqueries in INSERT, UPDATE or DELETE"
    );
    assert_eq!(error("SELECT 1 FROM t WHERE m < ANY (SELECT m FROM t)").kind(), Some(ErrorKind::Unsupported));
    assert_eq!(error("SELECT 1 FROM t WHERE (a, d) < ANY (SELECT id, x FROM u)").kind(), Some(ErrorKind::Unsupported));
}

#[test]
fn subqueries_become_joins() {
    // Uncorrelated: a cross join with the one aggregate row.
    let q = query("SELECT a FROM t WHERE a > (SELECT max(id) FROM u)");
    assert_eq!(shape(&q.plan), (1, 1, 0, 0));
    // Correlated by equality: grouped by the correlation key, no D.
    let q = query("SELECT (SELECT count(*) FROM u WHERE u.t_id = t.id) FROM t");
    assert_eq!(shape(&q.plan), (1, 1, 0, 0));
    // EXISTS in WHERE: a semi-join on the distinct keys.
    let q = query("SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.t_id = t.id)");
    assert_eq!(shape(&q.plan), (1, 0, 1, 0));
    // Correlated otherwise: D (distinct values) under the subquery, and a
    // padding union for the global aggregate.
    let q = query("SELECT (SELECT count(*) FROM u WHERE u.t_id < t.a) FROM t");
    assert_eq!(shape(&q.plan), (2, 1, 2, 1));
    // Several rows possible: counted per key and checked where used.
    assert!(checks_single_row(&query("SELECT (SELECT x FROM u WHERE u.t_id = t.id) FROM t").plan));
    assert!(!checks_single_row(&query("SELECT (SELECT max(x) FROM u WHERE u.t_id = t.id) FROM t").plan));
}

#[test]
fn single_row_value_raises_postgresql_s_error_for_several_rows() {
    use freshet_engine::value::Value;
    let value = |count: Value| {
        Expr::Literal(count).call_binary(BinaryFunc::SingleRowValue, Expr::Literal(Value::text("v"))).eval(&[])
    };
    assert_eq!(value(Value::Null), Ok(Value::text("v")));
    assert_eq!(value(Value::Int8(1)), Ok(Value::text("v")));
    let e = value(Value::Int8(2)).expect_err("two rows");
    assert_eq!(e.to_string(), "more than one row returned by a subquery used as an expression");
}
