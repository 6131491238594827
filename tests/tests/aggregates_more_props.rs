//! Property test: views with `bool_and`/`bool_or`, the variance family,
//! `string_agg` and `array_agg` (ORDER BY, DISTINCT, FILTER) and the
//! DISTINCT forms of `count`/`sum`/`avg`, maintained under random
//! insertions and deletions (duplicates, NULLs, groups emptied and
//! refilled), must equal the reference evaluator (`freshet_tests::oracle`)
//! on the view's unoptimised plan after every transaction.
//!
//! `PROPTEST_CASES=n` raises the number of cases.

use std::collections::BTreeMap;

use freshet::engine::storage::MemoryStorage;
use freshet::{Database, Options};
use freshet_engine::catalog::{TableDef, ViewDef};
use freshet_engine::plan::{ObjectId, Plan};
use freshet_engine::value::{Numeric, Row, Value, F64};
use freshet_sql::Statement;
use freshet_tests::oracle::{consolidate, evaluate, Bag};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// The views, each over `t (k int, x int, n numeric, f float8, b boolean,
/// s text, c char(2))`.
const VIEWS: [&str; 5] = [
    "SELECT k, bool_and(b) AS ba, bool_or(b) FILTER (WHERE x > 0) AS bo, count(DISTINCT n) AS dn, \
     sum(DISTINCT x) AS sx, avg(DISTINCT n) AS an FROM t GROUP BY k",
    "SELECT k, variance(x) AS vx, stddev_pop(x) AS sx, var_pop(n) AS vn, stddev(n) AS sn, \
     var_samp(f) AS vf, stddev_pop(f) AS sf FROM t GROUP BY k",
    "SELECT k, string_agg(s, ',' ORDER BY s DESC, x) AS ss, array_agg(x ORDER BY x NULLS FIRST, s) AS ax, \
     array_agg(DISTINCT n ORDER BY n) AS an, string_agg(DISTINCT c, s ORDER BY c) FILTER (WHERE b) AS sc \
     FROM t GROUP BY k",
    "SELECT bool_or(b) AS bo, variance(n) AS vn, string_agg(s, '' ORDER BY x, s) AS ss, \
     array_agg(b ORDER BY b NULLS FIRST, x) AS ab, count(*) AS n FROM t",
    "SELECT x, array_agg(n ORDER BY n DESC) AS an, stddev(DISTINCT n) AS sn, array_agg(DISTINCT k ORDER BY k) AS ak \
     FROM t GROUP BY x",
];

struct Catalog(BTreeMap<String, TableDef>);

impl freshet_sql::Catalog for Catalog {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.0.get(name)
    }

    fn view(&self, _name: &str) -> Option<&ViewDef> {
        None
    }
}

/// A row of `t` from small domains, so that groups, duplicates, ties and
/// SQL-equal numerics (`1.5`, `1.50`) are common.
fn row() -> impl Strategy<Value = Row> {
    let nullable = |s: BoxedStrategy<Value>| prop_oneof![1 => Just(Value::Null), 4 => s].boxed();
    let num = |s: &str| Value::Numeric(Numeric::parse(s).unwrap());
    (
        nullable((0..3i32).prop_map(Value::Int4).boxed()),
        nullable((-3..4i32).prop_map(Value::Int4).boxed()),
        nullable(
            prop::sample::select(vec![num("1.5"), num("1.50"), num("-2"), num("0.25"), num("7"), num("NaN")]).boxed(),
        ),
        nullable(prop::sample::select(vec![0.5f64, -1.0, 2.0, 1e10, 3.25]).prop_map(|f| Value::Float8(F64(f))).boxed()),
        nullable(any::<bool>().prop_map(Value::Bool).boxed()),
        nullable(prop::sample::select(vec!["a", "b c", "", "NULL", "a\"b"]).prop_map(Value::text).boxed()),
        nullable(prop::sample::select(vec!["x ", "x", "y "]).prop_map(Value::text).boxed()),
    )
        .prop_map(|(k, x, n, f, b, s, c)| Row::new(vec![k, x, n, f, b, s, c]))
}

/// Batches of changes: insertions of new rows and deletions of rows
/// present (by index into the current contents).
fn batches() -> impl Strategy<Value = Vec<(Vec<Row>, Vec<usize>)>> {
    prop::collection::vec((prop::collection::vec(row(), 0..6), prop::collection::vec(any::<usize>(), 0..4)), 1..6)
}

fn run(
    view: &str,
    initial: Vec<Row>,
    batches: Vec<(Vec<Row>, Vec<usize>)>,
    workers: usize,
) -> Result<(), TestCaseError> {
    let mut db = Database::with_storage(Box::new(MemoryStorage::new()), Options { workers }).unwrap();
    db.execute("CREATE TABLE t (k int, x int, n numeric, f float8, b boolean, s text, c char(2))").unwrap();
    let catalog = Catalog(db.tables().into_iter().map(|t| (t.name.clone(), t.clone())).collect());
    let id: ObjectId = catalog.0["t"].id;
    let sql = format!("CREATE MATERIALIZED VIEW v AS {view}");
    let plan: Plan = match freshet_sql::plan(&freshet_sql::parse(&sql).unwrap()[0], &catalog).unwrap() {
        Statement::CreateView { query, .. } => query.plan,
        other => panic!("not a view: {other:?}"),
    };
    let mut contents: Vec<Row> = initial;
    if !contents.is_empty() {
        db.insert("t", contents.clone()).unwrap();
    }
    db.execute(&sql).unwrap();
    let check = |db: &mut Database, contents: &[Row], label: &str| -> Result<(), TestCaseError> {
        let tables: BTreeMap<ObjectId, Bag> =
            [(id, consolidate(contents.iter().map(|r| (r.clone(), 1)).collect()))].into();
        let expected = evaluate(&plan, &tables).map_err(|e| TestCaseError::fail(format!("oracle: {e}")))?;
        let actual = consolidate(db.view_rows("v").unwrap().into_iter().map(|r| (r, 1)).collect());
        prop_assert_eq!(actual, expected, "{} ({})", label, view);
        Ok(())
    };
    check(&mut db, &contents, "created")?;
    for (i, (inserts, deletes)) in batches.into_iter().enumerate() {
        let mut changes: Vec<(Row, i64)> = inserts.iter().map(|r| (r.clone(), 1)).collect();
        for d in deletes {
            if !contents.is_empty() {
                let r = contents.remove(d % contents.len());
                changes.push((r, -1));
            }
        }
        contents.extend(inserts);
        db.apply("t", changes).unwrap();
        check(&mut db, &contents, &format!("after batch {i}"))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/aggregates_more_props.txt"
        )))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn new_aggregates_in_views_match_the_oracle(
        which in 0..VIEWS.len(),
        initial in prop::collection::vec(row(), 0..10),
        batches in batches(),
    ) {
        run(VIEWS[which], initial, batches, 1)?;
    }
}

#[test]
fn every_view_over_a_fixed_history() {
    let r = |k: i32, x: Option<i32>, n: &str, f: f64, b: Option<bool>, s: &str| {
        Row::new(vec![
            Value::Int4(k),
            x.map_or(Value::Null, Value::Int4),
            Value::Numeric(Numeric::parse(n).unwrap()),
            Value::Float8(F64(f)),
            b.map_or(Value::Null, Value::Bool),
            Value::text(s),
            Value::text("x "),
        ])
    };
    let initial = vec![
        r(1, Some(1), "1.5", 0.5, Some(true), "a"),
        r(1, Some(1), "1.50", 0.5, Some(false), "a"),
        r(1, None, "2", 2.0, None, "b c"),
        r(2, Some(-3), "NaN", 1e10, Some(true), ""),
    ];
    let batches = vec![
        (vec![r(2, Some(4), "0.25", 3.25, Some(false), "NULL")], vec![0]),
        (vec![], vec![0, 0]),
        (vec![r(1, Some(2), "7", -1.0, Some(true), "a\"b")], vec![5]),
    ];
    for workers in [1, 3] {
        for view in VIEWS {
            run(view, initial.clone(), batches.clone(), workers).unwrap_or_else(|e| panic!("{workers} workers: {e}"));
        }
    }
}
