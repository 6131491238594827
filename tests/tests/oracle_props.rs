//! Property tests: incrementally maintained views against the reference
//! evaluator (`freshet_tests::oracle`), on random schemas, data, queries
//! and change streams.
//!
//! * `views_match_oracle_under_random_changes` (and its three-worker
//!   twin): random SQL from `freshet_tests::queries` becomes a
//!   materialized view of a [`Database`]; after the view's creation and
//!   after every committed transaction its rows must equal the oracle's
//!   evaluation of the unoptimised plan over the same table contents.
//! * `random_plans_match_oracle`: random plans (joins, filters, maps,
//!   reduces, distinct, and set operations built from union, negate and
//!   threshold) rendered directly by the [`Runtime`].
//!
//! Where the oracle fails on the unoptimised plan (division by zero), the
//! view must fail too, unless the optimised plan avoids the failing
//! evaluation (a filter applied after a join rather than to the cross
//! product, as PostgreSQL plans it too): the optimiser may fail less
//! often, never more, so the engine is then held to the optimised plan's
//! oracle result.
//!
//! `PROPTEST_CASES=n` raises the number of cases of every test (for long
//! runs). Failing cases are saved under `tests/proptest-regressions/` and
//! replayed first on every run.

use std::cell::RefCell;
use std::collections::BTreeMap;

use freshet::{Database, Error, Options};
use freshet_engine::expr::EvalError;
use freshet_engine::plan::optimize::{optimize, optimize_with_keys, SourceKeys};
use freshet_engine::plan::{Distinct, Filter, Negate, ObjectId, Plan, Threshold, Union};
use freshet_engine::runtime::{Runtime, RuntimeConfig};
use freshet_engine::storage::MemoryStorage;
use freshet_engine::value::Row;
use freshet_engine::EngineError;
use freshet_sql::Statement;
use freshet_tests::catalog::TestCatalog;
use freshet_tests::gen::{self, ChangeOp};
use freshet_tests::oracle::{consolidate, evaluate, Bag};
use freshet_tests::plans;
use freshet_tests::queries::{self, apply_batch, sql_literal, Coverage, Scenario};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

/// A runner with `cases` cases (unless `PROPTEST_CASES` says otherwise),
/// saving failures to `regressions`.
fn runner(cases: u32, regressions: &'static str) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        source_file: Some(file!()),
        // Shrinking re-runs whole scenarios: bound it.
        max_shrink_time: 120_000,
        max_shrink_iters: 4096,
        ..Config::default()
    })
}

/// Panics with proptest's report (the minimised input included).
fn conclude<T: std::fmt::Debug>(result: Result<(), TestError<T>>) {
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => panic!("{reason}\nminimal failing input: {value:?}"),
        Err(e) => panic!("{e}"),
    }
}

/// What a run saw, reported at its end.
#[derive(Default)]
struct Stats {
    cases: usize,
    /// Generated queries the front end refused, with its error.
    rejected: Vec<(String, String)>,
    /// View contents compared with the oracle.
    checks: usize,
    /// ... of which the expected result was an error.
    error_checks: usize,
    /// The unoptimised plan failed where the optimised one did not.
    avoided_errors: usize,
    /// Views whose plan, knowing the tables' primary keys, aggregates
    /// before a join (eager aggregation).
    eager: usize,
    coverage: Coverage,
}

impl Stats {
    fn report(&self, name: &str) {
        eprintln!(
            "{name}: {} cases, {} rejected by the front end, {} comparisons ({} expecting an error, \
             {} where only the unoptimised plan fails), {} eagerly aggregated; {:?}",
            self.cases,
            self.rejected.len(),
            self.checks,
            self.error_checks,
            self.avoided_errors,
            self.eager,
            self.coverage
        );
        for (sql, e) in self.rejected.iter().take(5) {
            eprintln!("  rejected: {sql}\n    {e}");
        }
    }
}

/// The view's expected result: the oracle on the unoptimised plan, or, if
/// that fails, on the optimised plan.
fn expectation(
    plan: &Plan,
    optimized: &Plan,
    tables: &BTreeMap<ObjectId, Bag>,
    stats: &mut Stats,
) -> Result<Bag, EvalError> {
    stats.checks += 1;
    match evaluate(plan, tables) {
        Ok(bag) => Ok(bag),
        Err(e) => match evaluate(optimized, tables) {
            Ok(bag) => {
                stats.avoided_errors += 1;
                Ok(bag)
            }
            Err(_) => {
                stats.error_checks += 1;
                Err(e)
            }
        },
    }
}

fn show_bag(bag: &Bag) -> String {
    if bag.is_empty() {
        return "  (no rows)".into();
    }
    bag.iter()
        .map(|(r, d)| {
            let vals: Vec<String> = r.iter().map(sql_literal).collect();
            format!("  ({}) x{d}", vals.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compares a view's contents (or error) with the expectation.
fn compare(
    label: &str,
    expected: Result<Bag, EvalError>,
    actual: Result<Bag, String>,
    eval_error: bool,
) -> Result<(), TestCaseError> {
    match (expected, actual) {
        (Ok(e), Ok(a)) if e == a => Ok(()),
        (Ok(e), Ok(a)) => Err(TestCaseError::fail(format!(
            "{label}: the view differs from the oracle\nexpected:\n{}\nactual:\n{}",
            show_bag(&e),
            show_bag(&a)
        ))),
        (Err(_), Err(_)) if eval_error => Ok(()),
        (Err(e), Err(a)) => {
            Err(TestCaseError::fail(format!("{label}: expected the evaluation error \"{e}\", got the error \"{a}\"")))
        }
        (Ok(e), Err(a)) => {
            Err(TestCaseError::fail(format!("{label}: expected\n{}\ngot the error \"{a}\"", show_bag(&e))))
        }
        (Err(e), Ok(a)) => {
            Err(TestCaseError::fail(format!("{label}: expected the error \"{e}\", got\n{}", show_bag(&a))))
        }
    }
}

/// One scenario run against a [`Database`].
struct Harness<'s> {
    db: Database,
    scenario: &'s Scenario,
    ids: Vec<ObjectId>,
    plan: Plan,
    optimized: Plan,
    /// Committed contents per table (schema order).
    committed: Vec<Bag>,
    view: bool,
    stats: &'s RefCell<Stats>,
}

impl Harness<'_> {
    fn tables(&self) -> BTreeMap<ObjectId, Bag> {
        self.ids.iter().copied().zip(self.committed.iter().cloned()).collect()
    }

    fn expected(&self) -> Result<Bag, EvalError> {
        expectation(&self.plan, &self.optimized, &self.tables(), &mut self.stats.borrow_mut())
    }

    fn create_view(&mut self, label: &str) -> Result<(), TestCaseError> {
        let expected = self.expected();
        let sql = format!("CREATE MATERIALIZED VIEW v AS {}", self.scenario.query.sql);
        match (self.db.execute(&sql), &expected) {
            (Ok(_), _) => {
                self.view = true;
                self.check(&format!("{label}: view created"))
            }
            (Err(Error::Eval(_)), Err(_)) => Ok(()),
            (Err(e), _) => compare(&format!("{label}: CREATE MATERIALIZED VIEW"), expected, Err(e.to_string()), false),
        }
    }

    fn check(&mut self, label: &str) -> Result<(), TestCaseError> {
        let expected = self.expected();
        let (actual, eval_error) = match self.db.view_rows("v") {
            Ok(rows) => (Ok(consolidate(rows.into_iter().map(|r| (r, 1)).collect())), false),
            Err(e) => (Err(e.to_string()), matches!(e, Error::Eval(_))),
        };
        compare(label, expected, actual, eval_error)
    }

    /// Commits each table's diffs, as one transaction when `atomic`.
    fn commit(&mut self, diffs: Vec<Vec<(Row, i64)>>, atomic: bool, label: &str) -> Result<(), TestCaseError> {
        let touched: Vec<usize> = (0..diffs.len()).filter(|&i| !diffs[i].is_empty()).collect();
        if touched.is_empty() {
            return Ok(());
        }
        let fail = |what: &str, e: Error| TestCaseError::fail(format!("{label}: {what} failed: {e}"));
        if atomic {
            self.db.execute("BEGIN").map_err(|e| fail("BEGIN", e))?;
        }
        for &i in &touched {
            let name = &self.scenario.tables[i].name;
            self.db.apply(name, diffs[i].clone()).map_err(|e| fail(&format!("changing {name}"), e))?;
            let mut bag = std::mem::take(&mut self.committed[i]);
            bag.extend(diffs[i].iter().cloned());
            self.committed[i] = consolidate(bag);
            if !atomic {
                self.after_commit(&format!("{label}, table {name}"))?;
            }
        }
        if atomic {
            self.db.execute("COMMIT").map_err(|e| fail("COMMIT", e))?;
            self.after_commit(label)?;
        }
        Ok(())
    }

    /// Checks the view, or tries to create it again if it could not be.
    fn after_commit(&mut self, label: &str) -> Result<(), TestCaseError> {
        if self.view {
            self.check(label)
        } else {
            self.create_view(label)
        }
    }
}

fn run_scenario(s: &Scenario, workers: usize, stats: &RefCell<Stats>) -> Result<(), TestCaseError> {
    let setup = |what: &str, e: Error| TestCaseError::fail(format!("{what}: {e}"));
    stats.borrow_mut().cases += 1;
    let mut db = Database::with_storage(Box::new(MemoryStorage::new()), Options { workers })
        .map_err(|e| setup("opening the database", e))?;
    for t in &s.tables {
        db.execute(&t.create_sql()).map_err(|e| setup(&t.create_sql(), e))?;
    }
    let catalog = TestCatalog(db.tables().into_iter().map(|t| (t.name.clone(), t.clone())).collect());
    let ids: Vec<ObjectId> = s.tables.iter().map(|t| catalog.0[&t.name].id).collect();
    let planned = freshet_sql::parse(&s.query.sql).and_then(|p| match p.as_slice() {
        [one] => freshet_sql::plan(one, &catalog),
        _ => panic!("one statement expected: {}", s.query.sql),
    });
    let plan = match planned {
        Ok(Statement::Select(q)) => q.plan,
        Ok(other) => return Err(TestCaseError::fail(format!("not planned as a SELECT: {other:?}"))),
        Err(e) => {
            stats.borrow_mut().rejected.push((s.query.sql.clone(), e.to_string()));
            return Ok(());
        }
    };
    stats.borrow_mut().coverage.add(&s.query);
    let optimized = optimize(plan.clone());
    let keys: SourceKeys = s
        .tables
        .iter()
        .zip(&ids)
        .filter(|(t, _)| t.primary_key)
        .map(|(_, id)| (*id, vec![vec![0]]))
        .collect();
    if optimize_with_keys(plan.clone(), &keys) != optimized {
        stats.borrow_mut().eager += 1;
    }
    let mut h = Harness {
        db,
        scenario: s,
        ids,
        plan,
        optimized,
        committed: vec![Vec::new(); s.tables.len()],
        view: false,
        stats,
    };
    if s.view_first {
        h.create_view("before loading")?;
    }
    for (i, rows) in s.initial.iter().enumerate() {
        let mut diffs = vec![Vec::new(); s.tables.len()];
        diffs[i] = consolidate(rows.iter().map(|r| (r.clone(), 1)).collect());
        let label = format!("loading {}", s.tables[i].name);
        if s.view_first {
            h.commit(diffs, true, &label)?;
        } else {
            // Not checked yet: the view comes after the load.
            let name = &s.tables[i].name;
            h.db.apply(name, diffs[i].clone()).map_err(|e| setup(&label, e))?;
            h.committed[i] = diffs.swap_remove(i);
        }
    }
    if !s.view_first {
        h.create_view("after loading")?;
    }
    let mut state = s.initial.clone();
    for (n, (atomic, batch)) in s.batches.iter().enumerate() {
        let diffs = apply_batch(&s.tables, &mut state, batch);
        h.commit(diffs, *atomic, &format!("batch {}", n + 1))?;
    }
    Ok(())
}

fn views_match_oracle(workers: usize, cases: u32, regressions: &'static str, name: &str) {
    let stats = RefCell::new(Stats::default());
    let result = runner(cases, regressions).run(&queries::scenario(8, 3..=8, 6), |s| run_scenario(&s, workers, &stats));
    let stats = stats.into_inner();
    stats.report(name);
    conclude(result);
    let rejected = stats.rejected.len();
    assert!(
        rejected * 20 <= stats.cases,
        "the front end rejected {rejected} of {} generated queries, e.g. {:?}",
        stats.cases,
        stats.rejected.first()
    );
    assert!(stats.checks >= stats.cases, "too few comparisons: {}", stats.checks);
}

#[test]
fn views_match_oracle_under_random_changes() {
    views_match_oracle(
        1,
        192,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/oracle_props/views_match_oracle_under_random_changes.txt"
        ),
        "views_match_oracle_under_random_changes",
    );
}

#[test]
fn views_match_oracle_with_three_workers() {
    views_match_oracle(
        3,
        48,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/oracle_props/views_match_oracle_with_three_workers.txt"
        ),
        "views_match_oracle_with_three_workers",
    );
}

/// The smallest case the random tests found for a `sum` over a
/// `numeric(10,2)` column: one transaction replaces the only row, and the
/// view must show the new value's sum exactly (as the one-shot query does).
#[test]
fn numeric_sum_after_replacing_a_row_in_one_transaction() {
    let mut db = Database::open_in_memory().expect("a database");
    db.execute("CREATE TABLE t (a numeric(10,2) NOT NULL)").expect("a table");
    db.execute("CREATE MATERIALIZED VIEW v AS SELECT sum(a) AS s, avg(a) AS m FROM t").expect("a view");
    db.execute("INSERT INTO t VALUES (2.50)").expect("an insert");
    db.execute("UPDATE t SET a = 1.08").expect("an update");
    let direct = db.query("SELECT sum(a), avg(a) FROM t").expect("a query").to_text();
    assert_eq!(direct, "1.08\t1.08000000000000000000\n");
    assert_eq!(db.query("SELECT * FROM v").expect("the view").to_text(), direct);
}

/// Generated SQL is planned by the front end: the share it refuses stays
/// small (reported with examples), and the generator reaches every query
/// shape.
#[test]
fn generated_queries_are_accepted() {
    let mut runner = TestRunner::deterministic();
    let strategy = queries::schema().prop_flat_map(|tables| (Just(tables.clone()), queries::query(&tables)));
    let total = 1500;
    let mut stats = Stats::default();
    for _ in 0..total {
        let (tables, query) = strategy.new_tree(&mut runner).expect("a value").current();
        let catalog = TestCatalog::from_schemas(&tables);
        stats.cases += 1;
        let planned = freshet_sql::parse(&query.sql).and_then(|p| freshet_sql::plan(&p[0], &catalog));
        match planned {
            Ok(Statement::Select(_)) => stats.coverage.add(&query),
            Ok(other) => panic!("not planned as a SELECT: {other:?}"),
            Err(e) => stats.rejected.push((query.sql.clone(), e.to_string())),
        }
    }
    stats.report("generated_queries_are_accepted");
    assert!(stats.rejected.len() * 50 <= total, "{} of {total} queries rejected", stats.rejected.len());
    let c = &stats.coverage;
    assert_eq!(c.kinds.len(), 4, "every query kind: {c:?}");
    assert!(c.tables.keys().copied().max() == Some(4) && c.left_joins > 0 && c.set_ops > 0 && c.divides > 0, "{c:?}");
}

// ---------------------------------------------------------------------------
// Random plans rendered by the runtime.

/// `plan` as is, or combined with a filtered copy of itself through a set
/// operation (UNION ALL, UNION, EXCEPT ALL, EXCEPT, INTERSECT ALL), which
/// brings in Union, Negate, Threshold and Distinct.
fn with_set_ops(plan: Plan) -> BoxedStrategy<Plan> {
    let arity = plan.arity();
    (0u8..7, plans::predicate(arity))
        .prop_map(move |(op, pred)| {
            let p = plan.clone();
            let q = Plan::Filter(Filter { input: Box::new(plan.clone()), predicates: vec![pred] });
            let union = |inputs: Vec<Plan>| Plan::Union(Union { inputs });
            let negate = |p: Plan| Plan::Negate(Negate { input: Box::new(p) });
            let threshold = |p: Plan| Plan::Threshold(Threshold { input: Box::new(p) });
            let distinct = |p: Plan| Plan::Distinct(Distinct { input: Box::new(p) });
            match op {
                0 | 1 => p,
                2 => union(vec![p, q]),
                3 => distinct(union(vec![p, q])),
                4 => threshold(union(vec![p, negate(q)])),
                5 => threshold(union(vec![distinct(p), negate(distinct(q))])),
                _ => {
                    // INTERSECT ALL: p - (p - q).
                    let except = threshold(union(vec![p.clone(), negate(q)]));
                    threshold(union(vec![p, negate(except)]))
                }
            }
        })
        .boxed()
}

/// A random plan over `plans::int_schema`, initial contents, change
/// batches per table, and whether the view comes before the data.
#[derive(Clone, Debug)]
struct PlanCase {
    plan: Plan,
    initial: Vec<Vec<Row>>,
    batches: Vec<Vec<Vec<ChangeOp>>>,
    view_first: bool,
}

fn plan_case() -> impl Strategy<Value = PlanCase> {
    let specs = plans::int_schema();
    let initial: Vec<_> = specs.iter().map(|s| gen::table_rows(s, 8)).collect();
    let batches: Vec<_> = specs.iter().map(|s| gen::change_batches(s, 6, 5)).collect();
    (plans::plan().prop_flat_map(with_set_ops), initial, batches, any::<bool>())
        .prop_map(|(plan, initial, batches, view_first)| PlanCase { plan, initial, batches, view_first })
}

fn run_plan_case(c: &PlanCase, stats: &RefCell<Stats>) -> Result<(), TestCaseError> {
    let specs = plans::int_schema();
    let view = ObjectId(100);
    let engine = |what: &str, e: EngineError| TestCaseError::fail(format!("{what}: {e}"));
    let mut rt = Runtime::new(RuntimeConfig { workers: 1 }).map_err(|e| engine("starting the runtime", e))?;
    for s in &specs {
        rt.create_table(s.id, s.types.len()).map_err(|e| engine("creating a table", e))?;
    }
    stats.borrow_mut().cases += 1;
    let optimized = optimize(c.plan.clone());
    let mut state: Vec<Vec<Row>> = vec![Vec::new(); specs.len()];
    let tables = |state: &Vec<Vec<Row>>| -> BTreeMap<ObjectId, Bag> {
        gen::as_tables(&specs.iter().map(|s| s.id).zip(state.iter().cloned()).collect())
    };
    let check = |rt: &mut Runtime, state: &Vec<Vec<Row>>, label: &str| -> Result<(), TestCaseError> {
        let expected = expectation(&c.plan, &optimized, &tables(state), &mut stats.borrow_mut());
        let (actual, eval_error) = match rt.read(view) {
            Ok(rows) => (Ok(rows), false),
            Err(e) => (Err(e.to_string()), matches!(e, EngineError::Eval(_))),
        };
        compare(label, expected, actual, eval_error)
            .map_err(|e| TestCaseError::fail(format!("{e}\nplan (optimised):\n{optimized}")))
    };
    let load = |rt: &mut Runtime, state: &mut Vec<Vec<Row>>| -> Result<(), TestCaseError> {
        let mut changes = Vec::new();
        for (s, rows) in specs.iter().zip(&c.initial) {
            changes.extend(rows.iter().map(|r| (s.id, r.clone(), 1)));
        }
        *state = c.initial.clone();
        rt.apply(changes).map_err(|e| engine("loading", e))?;
        Ok(())
    };
    if !c.view_first {
        load(&mut rt, &mut state)?;
    }
    rt.create_view(view, &optimized).map_err(|e| engine("creating the view", e))?;
    check(&mut rt, &state, "view created")?;
    if c.view_first {
        load(&mut rt, &mut state)?;
        check(&mut rt, &state, "loaded")?;
    }
    let rounds = c.batches.iter().map(Vec::len).max().unwrap_or(0);
    for n in 0..rounds {
        let mut changes = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            if let Some(batch) = c.batches[i].get(n) {
                changes.extend(gen::apply_batch(&mut state[i], batch).into_iter().map(|(r, d)| (s.id, r, d)));
            }
        }
        rt.apply(changes).map_err(|e| engine("applying a batch", e))?;
        check(&mut rt, &state, &format!("batch {}", n + 1))?;
    }
    Ok(())
}

#[test]
fn random_plans_match_oracle() {
    let stats = RefCell::new(Stats::default());
    let result = runner(
        256,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/oracle_props/random_plans_match_oracle.txt"),
    )
    .run(&plan_case(), |c| run_plan_case(&c, &stats));
    let stats = stats.into_inner();
    stats.report("random_plans_match_oracle");
    conclude(result);
}
