//! Property tests of maintained top-k views (`ORDER BY … LIMIT/OFFSET`,
//! `DISTINCT ON`) against the reference evaluator.
//!
//! * `topk_views_match_oracle_under_random_changes`: random top-k SQL over
//!   a bag table with NULLs, duplicates and SQL-equal values of different
//!   representations (`1.0`, `1.00`; `0`, `-0`) becomes a materialized
//!   view; after its creation and after every committed batch of inserts,
//!   deletes and updates, its rows must equal the oracle's evaluation of
//!   the front end's (unoptimised) plan over the same contents.
//! * `oracle_top_k_by_hand`: the oracle's top-k on small inputs whose
//!   answers are worked out here.
//!
//! `PROPTEST_CASES=n` raises the number of cases.

use std::collections::BTreeMap;

use freshet::{Database, Options};
use freshet_tests::catalog::TestCatalog;
use freshet_engine::expr::Expr;
use freshet_engine::plan::{Constant, Plan, SortColumn, TopK};
use freshet_engine::storage::MemoryStorage;
use freshet_engine::value::{Numeric, Row, Value, F64};
use freshet_sql::Statement;
use freshet_tests::oracle::{consolidate, evaluate, Bag};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// The table: `t (k int, a int, b numeric, c text, f float8)`, no key.
const CREATE: &str = "CREATE TABLE t (k integer, a integer, b numeric, c text, f double precision)";
const COLUMNS: [&str; 5] = ["k", "a", "b", "c", "f"];

fn cell(column: usize) -> BoxedStrategy<Value> {
    let value = match column {
        0 => (0..3).prop_map(Value::Int4).boxed(),
        1 => (-2..4).prop_map(Value::Int4).boxed(),
        // 1, 1.0, 1.00, ...: SQL-equal, printed differently.
        2 => ((-2i128..3), (0u16..3))
            .prop_map(|(v, s)| Value::Numeric(Numeric::from_parts(v * 10i128.pow(u32::from(s)), s)))
            .boxed(),
        3 => prop::sample::select(vec!["", "a", "B", "ab", "b"])
            .prop_map(Value::text)
            .boxed(),
        _ => prop::sample::select(vec![0.0, -0.0, 0.5, -1.0, f64::NAN, f64::INFINITY])
            .prop_map(|v| Value::Float8(F64(v)))
            .boxed(),
    };
    prop_oneof![1 => Just(Value::Null), 4 => value].boxed()
}

fn row() -> impl Strategy<Value = Row> {
    (0..COLUMNS.len())
        .map(cell)
        .collect::<Vec<_>>()
        .prop_map(Row::new)
}

/// One change: insert a row, delete one present row, or replace one
/// present row's column by a new value.
#[derive(Clone, Debug)]
enum Change {
    Insert(Row),
    Delete(Index),
    Update(Index, usize, Value),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => row().prop_map(Change::Insert),
        2 => any::<Index>().prop_map(Change::Delete),
        2 => (any::<Index>(), 0..COLUMNS.len()).prop_flat_map(|(i, c)| cell(c).prop_map(move |v| Change::Update(i, c, v))),
    ]
}

/// A sort key: column, direction, NULL placement (`None`: the default).
fn sort_key() -> BoxedStrategy<(usize, bool, Option<bool>)> {
    (
        0..COLUMNS.len(),
        any::<bool>(),
        prop::option::of(any::<bool>()),
    )
        .boxed()
}

fn key_sql((c, desc, nulls): &(usize, bool, Option<bool>)) -> String {
    let mut s = COLUMNS[*c].to_string();
    if *desc {
        s.push_str(" DESC");
    }
    match nulls {
        Some(true) => s.push_str(" NULLS FIRST"),
        Some(false) => s.push_str(" NULLS LAST"),
        None => {}
    }
    s
}

fn limit_sql(limit: Option<u64>, offset: Option<u64>) -> String {
    let mut s = String::new();
    if let Some(l) = limit {
        s.push_str(&format!(" LIMIT {l}"));
    }
    if let Some(o) = offset {
        s.push_str(&format!(" OFFSET {o}"));
    }
    s
}

/// A random top-k query over `t`.
fn query() -> BoxedStrategy<String> {
    // Distinct columns (a view's column names must differ).
    let select = prop::collection::btree_set(0..COLUMNS.len(), 1..=3)
        .prop_map(|s| s.into_iter().collect::<Vec<_>>());
    let keys = prop::collection::vec(sort_key(), 0..=3);
    let limit =
        prop_oneof![1 => Just(None), 1 => Just(Some(0)), 6 => (1u64..5).prop_map(Some)].boxed();
    let offset = prop_oneof![3 => Just(None), 1 => (0u64..3).prop_map(Some)].boxed();
    let filter = prop::option::of(prop::sample::select(vec![
        "a > 0",
        "k <> 1",
        "f IS NOT NULL",
        "c < 'b'",
    ]));
    let whole = (
        select.clone(),
        keys.clone(),
        limit.clone(),
        offset.clone(),
        filter,
    )
        .prop_map(|(cols, keys, limit, offset, filter)| {
            let cols: Vec<&str> = cols.iter().map(|&c| COLUMNS[c]).collect();
            let keys: Vec<String> = keys.iter().map(key_sql).collect();
            let limit = if limit.is_none() && offset.is_none() {
                Some(2)
            } else {
                limit
            };
            let mut sql = format!("SELECT {} FROM t", cols.join(", "));
            if let Some(f) = filter {
                sql.push_str(&format!(" WHERE {f}"));
            }
            if !keys.is_empty() {
                sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
            }
            sql + &limit_sql(limit, offset)
        });
    let on = prop::collection::vec(sort_key(), 1..=2);
    let distinct_on = (
        on,
        select,
        keys,
        prop::option::of(limit.clone()),
        offset.clone(),
    )
        .prop_map(|(on, cols, keys, limit, offset)| {
            let cols: Vec<&str> = cols.iter().map(|&c| COLUMNS[c]).collect();
            let on_names: Vec<&str> = on.iter().map(|(c, _, _)| COLUMNS[*c]).collect();
            let order: Vec<String> = on.iter().chain(&keys).map(key_sql).collect();
            format!(
                "SELECT DISTINCT ON ({}) {} FROM t ORDER BY {}",
                on_names.join(", "),
                cols.join(", "),
                order.join(", ")
            ) + &limit_sql(limit.flatten(), offset)
        });
    let grouped = (sort_key(), limit, offset).prop_map(|((c, desc, nulls), limit, offset)| {
        // Sorted on an output column; `g` last, unless it is the key.
        let by = ["g", "n", "s", "m", "g"][c];
        let mut key = key_sql(&(0, desc, nulls));
        key.replace_range(0..1, by);
        let tie = if by == "g" { String::new() } else { ", g".to_string() };
        format!("SELECT k AS g, count(*) AS n, sum(a) AS s, max(b) AS m FROM t GROUP BY k ORDER BY {key}{tie}")
            + &limit_sql(limit.or(Some(1)), offset)
    });
    prop_oneof![4 => whole, 4 => distinct_on, 1 => grouped].boxed()
}

#[derive(Clone, Debug)]
struct Case {
    sql: String,
    initial: Vec<Row>,
    batches: Vec<Vec<Change>>,
    view_first: bool,
    workers: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        query(),
        prop::collection::vec(row(), 0..=12),
        prop::collection::vec(prop::collection::vec(change(), 0..=5), 1..=6),
        any::<bool>(),
        prop_oneof![3 => Just(1usize), 1 => Just(2usize)],
    )
        .prop_map(|(sql, mut initial, batches, view_first, workers)| {
            // Duplicates, so multiplicities straddle the boundaries.
            let copies: Vec<Row> = initial.iter().step_by(3).cloned().collect();
            initial.extend(copies);
            Case {
                sql,
                initial,
                batches,
                view_first,
                workers,
            }
        })
}

fn bag(rows: &[Row]) -> Bag {
    consolidate(rows.iter().map(|r| (r.clone(), 1)).collect())
}

fn run(c: &Case) -> Result<(), TestCaseError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        TestCaseError::fail(format!("{what}: {e}\nquery: {}", c.sql))
    };
    let mut db = Database::with_storage(
        Box::new(MemoryStorage::new()),
        Options { workers: c.workers },
    )
    .map_err(|e| fail("opening", &e))?;
    db.execute(CREATE).map_err(|e| fail("CREATE TABLE", &e))?;
    let catalog = TestCatalog(
        db.tables()
            .into_iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect(),
    );
    let id = catalog.0["t"].id;
    let view_sql = format!("CREATE MATERIALIZED VIEW v AS {}", c.sql);
    let parsed = freshet_sql::parse(&view_sql).map_err(|e| fail("parsing", &e))?;
    let plan = match freshet_sql::plan(&parsed[0], &catalog) {
        Ok(Statement::CreateView { query, .. }) => query.plan,
        Ok(other) => return Err(fail("planning", &format!("{other:?}"))),
        Err(e) => return Err(fail("planning", &e)),
    };
    let mut rows: Vec<Row> = Vec::new();
    let check = |db: &mut Database, rows: &[Row], label: &str| -> Result<(), TestCaseError> {
        let tables = BTreeMap::from([(id, bag(rows))]);
        let expected = evaluate(&plan, &tables).map_err(|e| fail("the oracle", &e))?;
        let actual = bag(&db
            .view_rows("v")
            .map_err(|e| fail("reading the view", &e))?);
        prop_assert_eq!(
            actual,
            expected,
            "{}: query {}\nplan:\n{}",
            label,
            c.sql,
            plan
        );
        Ok(())
    };
    if c.view_first {
        db.execute(&view_sql)
            .map_err(|e| fail("CREATE MATERIALIZED VIEW", &e))?;
        check(&mut db, &rows, "empty")?;
    }
    db.apply("t", bag(&c.initial))
        .map_err(|e| fail("loading", &e))?;
    rows.extend(c.initial.iter().cloned());
    if !c.view_first {
        db.execute(&view_sql)
            .map_err(|e| fail("CREATE MATERIALIZED VIEW", &e))?;
    }
    check(&mut db, &rows, "loaded")?;
    for (n, batch) in c.batches.iter().enumerate() {
        let mut diffs = Vec::new();
        for ch in batch {
            match ch {
                Change::Insert(r) => {
                    rows.push(r.clone());
                    diffs.push((r.clone(), 1));
                }
                Change::Delete(ix) if !rows.is_empty() => {
                    diffs.push((rows.swap_remove(ix.index(rows.len())), -1))
                }
                Change::Update(ix, col, v) if !rows.is_empty() => {
                    let old = rows.swap_remove(ix.index(rows.len()));
                    let mut new = old.to_vec();
                    new[*col] = v.clone();
                    let new = Row::new(new);
                    rows.push(new.clone());
                    diffs.push((old, -1));
                    diffs.push((new, 1));
                }
                _ => {}
            }
        }
        db.apply("t", consolidate(diffs))
            .map_err(|e| fail("applying a batch", &e))?;
        check(&mut db, &rows, &format!("batch {}", n + 1))?;
    }
    Ok(())
}

#[test]
fn topk_views_match_oracle_under_random_changes() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(160);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/topk_props/topk_views_match_oracle_under_random_changes.txt"
        )))),
        source_file: Some(file!()),
        max_shrink_iters: 2048,
        ..Config::default()
    });
    let result = runner.run(&case(), |c| run(&c));
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn ints(vs: &[Option<i32>]) -> Row {
    Row::new(
        vs.iter()
            .map(|v| v.map_or(Value::Null, Value::Int4))
            .collect(),
    )
}

fn top_k(
    rows: Vec<(Row, i64)>,
    group_key: Vec<Expr>,
    order: Vec<SortColumn>,
    limit: Option<u64>,
    offset: u64,
) -> Bag {
    let arity = rows.first().map_or(2, |(r, _)| r.len());
    let input = Plan::Constant(Constant { rows, arity });
    let plan = Plan::TopK(TopK {
        input: Box::new(input),
        group_key,
        order,
        limit,
        offset,
    });
    evaluate(&plan, &BTreeMap::new()).expect("evaluates")
}

#[test]
fn oracle_top_k_by_hand() {
    let desc = SortColumn {
        column: 1,
        descending: true,
        nulls_first: true,
    };
    let rows = vec![
        (ints(&[Some(1), Some(5)]), 3),
        (ints(&[Some(1), None]), 1),
        (ints(&[Some(2), Some(7)]), 2),
        (ints(&[Some(2), Some(1)]), 1),
    ];
    // Sorted by #1 DESC NULLS FIRST: (1,NULL), (2,7) x2, (1,5) x3, (2,1).
    assert_eq!(
        top_k(rows.clone(), vec![], vec![desc], Some(4), 1),
        vec![
            (ints(&[Some(1), Some(5)]), 2),
            (ints(&[Some(2), Some(7)]), 2)
        ]
    );
    assert_eq!(
        top_k(rows.clone(), vec![], vec![desc], None, 5),
        vec![
            (ints(&[Some(1), Some(5)]), 1),
            (ints(&[Some(2), Some(1)]), 1)
        ]
    );
    assert_eq!(top_k(rows.clone(), vec![], vec![desc], Some(0), 0), vec![]);
    // Per group of #0, the first row; NULLS LAST ascending.
    let asc = SortColumn::asc(1);
    assert_eq!(
        top_k(rows.clone(), vec![Expr::Column(0)], vec![asc], Some(1), 0),
        vec![
            (ints(&[Some(1), Some(5)]), 1),
            (ints(&[Some(2), Some(1)]), 1)
        ]
    );
    // No sort keys: the least rows in the total order (NULL least).
    assert_eq!(
        top_k(rows, vec![], vec![], Some(2), 0),
        vec![(ints(&[Some(1), None]), 1), (ints(&[Some(1), Some(5)]), 1)]
    );
}
