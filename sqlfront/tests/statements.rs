//! Script splitting and the non-query statements.

mod common;

use common::{expr, plan_one, show_plan};
use freshet_engine::catalog::Column;
use freshet_engine::value::DataType;
use freshet_engine::ObjectId;
use freshet_sql::{parse, InsertSource, Statement};

#[test]
fn scripts_split_into_statements_with_their_text() {
    let stmts = parse("BEGIN;\n  SELECT 'a;b' FROM t ; -- trailing\nCOMMIT;;").expect("parses");
    let texts: Vec<&str> = stmts.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(texts, ["BEGIN", "SELECT 'a;b' FROM t", "COMMIT"]);
    assert!(parse("   ").expect("parses").is_empty());
}

#[test]
fn transaction_control() {
    assert_eq!(plan_one("BEGIN").ok(), Some(Statement::Begin));
    assert_eq!(plan_one("START TRANSACTION").ok(), Some(Statement::Begin));
    assert_eq!(plan_one("COMMIT").ok(), Some(Statement::Commit));
    assert_eq!(plan_one("END").ok(), Some(Statement::Commit));
    assert_eq!(plan_one("ROLLBACK").ok(), Some(Statement::Rollback));
}

#[test]
fn create_table_with_keys_and_types() {
    let s = plan_one(
        "CREATE TABLE IF NOT EXISTS Orders (id bigint, Line int NOT NULL, amount numeric(12,2), note varchar(20), \
         code char(3), at timestamp with time zone, \"Mixed\" text NULL, PRIMARY KEY (id, line))",
    )
    .expect("plans");
    let Statement::CreateTable { name, columns, primary_key, if_not_exists } = s else { panic!("{s:?}") };
    assert_eq!(name, "orders");
    assert!(if_not_exists);
    assert_eq!(primary_key, [0, 1]);
    let c = |n: &str, ty, nullable| Column { name: n.into(), ty, nullable };
    assert_eq!(
        columns,
        [
            c("id", DataType::Int8, false),
            c("line", DataType::Int4, false),
            c("amount", DataType::Numeric(Some((12, 2))), true),
            c("note", DataType::Varchar(Some(20)), true),
            c("code", DataType::Char(3), true),
            c("at", DataType::TimestampTz, true),
            c("Mixed", DataType::Text, true),
        ]
    );
    let Ok(Statement::CreateTable { primary_key, columns, .. }) = plan_one("CREATE TABLE z (a int PRIMARY KEY, b bool)") else {
        panic!()
    };
    assert_eq!(primary_key, [0]);
    assert!(!columns[0].nullable);
}

#[test]
fn create_and_drop_materialized_views() {
    let s = plan_one("CREATE MATERIALIZED VIEW v (x) AS SELECT a, count(*) FROM t GROUP BY a ORDER BY 2").expect("plans");
    let Statement::CreateView { name, sql, query, if_not_exists } = s else { panic!("{s:?}") };
    assert_eq!(name, "v");
    assert_eq!(sql, "SELECT a, count(*) FROM t GROUP BY a ORDER BY 2");
    assert!(!if_not_exists);
    let names: Vec<_> = query.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["x", "count"]);
    assert!(query.order_by.is_empty());
    assert_eq!(query.hidden, 0);
    assert_eq!(
        plan_one("DROP MATERIALIZED VIEW IF EXISTS mv, nope").ok(),
        Some(Statement::DropView { names: vec!["mv".into(), "nope".into()], if_exists: true, cascade: false })
    );
    assert_eq!(
        plan_one("DROP MATERIALIZED VIEW mv CASCADE").ok(),
        Some(Statement::DropView { names: vec!["mv".into()], if_exists: false, cascade: true })
    );
    assert_eq!(
        plan_one("DROP TABLE t, u").ok(),
        Some(Statement::DropTable { names: vec!["t".into(), "u".into()], if_exists: false, cascade: false })
    );
}

#[test]
fn insert_values_are_cast_to_column_types() {
    let s = plan_one("INSERT INTO t (c, id, e, g, d, b) VALUES ('1.5', 1, 'abc', '2024-01-01', 5, 7), (NULL, 2, DEFAULT, NULL, 'x', 1.5)")
        .expect("plans");
    let Statement::Insert { table, source: InsertSource::Values(rows) } = s else { panic!("{s:?}") };
    assert_eq!(table, ObjectId(1));
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.len() == 14));
    let shown: Vec<String> = rows[0].iter().map(expr).collect();
    assert_eq!(shown[0], "1");
    assert_eq!(shown[1], "null");
    assert_eq!(shown[2], "assign(7 as bigint)");
    assert_eq!(shown[3], "assign('1.5' as numeric(10,2))");
    assert_eq!(shown[4], "assign(5 as text)");
    assert_eq!(shown[5], "assign('abc' as character varying(5))");
    assert_eq!(shown[7], "assign('2024-01-01' as date)");
    let shown: Vec<String> = rows[1].iter().map(expr).collect();
    assert_eq!(shown[3], "null");
    assert_eq!(shown[4], "'x'");
    assert_eq!(shown[5], "null");
    assert!(shown[2].starts_with("assign(Numeric"), "{}", shown[2]);
}

#[test]
fn insert_select_maps_to_the_table_row() {
    let s = plan_one("INSERT INTO v8 (y) SELECT count(*) FROM t").expect("plans");
    let Statement::Insert { table, source: InsertSource::Query(q) } = s else { panic!("{s:?}") };
    assert_eq!(table, ObjectId(3));
    assert_eq!(q.columns.len(), 2);
    assert_eq!(
        show_plan(&q.plan),
        "Map [null, assign(#0 as integer)]\n  Map [#0]\n    Reduce keys=[] aggs=[CountStar(true)]\n      Get t\n"
    );
}

#[test]
fn update_and_delete() {
    let s = plan_one("UPDATE t AS x SET a = x.a + 1, e = d WHERE x.id = 3").expect("plans");
    let Statement::Update { table, predicate, assignments } = s else { panic!("{s:?}") };
    assert_eq!(table, ObjectId(1));
    assert_eq!(predicate.as_ref().map(expr).as_deref(), Some("Eq(#0, 3)"));
    let shown: Vec<(usize, String)> = assignments.iter().map(|(c, e)| (*c, expr(e))).collect();
    assert_eq!(shown, [(1, "Add(#1, 1)".to_string()), (5, "assign(#4 as character varying(5))".to_string())]);
    let s = plan_one("DELETE FROM u WHERE x LIKE 'a%'").expect("plans");
    let Statement::Delete { table, predicate } = s else { panic!("{s:?}") };
    assert_eq!(table, ObjectId(2));
    assert_eq!(predicate.as_ref().map(expr).as_deref(), Some("Like { escape: Some('\\\\'), case_insensitive: false }(#2, 'a%')"));
}

#[test]
fn explain_plans_the_query() {
    let Ok(Statement::Explain(q)) = plan_one("EXPLAIN SELECT a FROM t") else { panic!("explain expected") };
    assert_eq!(show_plan(&q.plan), "Map [#1]\n  Get t\n");
}
