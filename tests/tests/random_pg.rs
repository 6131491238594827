//! Random-query differential test against PostgreSQL: random analytic SQL
//! (`freshet_tests::random_sql`: subqueries, `WITH` queries, derived
//! tables, top-k, `DISTINCT ON`, scalar functions, the newer aggregates,
//! over joins, grouping and set operations) becomes a materialized view of
//! an in-memory [`Database`]; the same tables in PostgreSQL receive the
//! same initial rows and change batches (inserts, deletes and updates,
//! with NULLs, duplicate rows and primary-key changes), and after the load
//! and after every committed transaction the view's rows must equal
//! PostgreSQL's answer to the view's `SELECT`, as multisets of rows in
//! PostgreSQL's text format; so must the `SELECT` run once by the database
//! after the last batch. A quarter of the scenarios run two dataflow
//! workers.
//!
//! * `random_views_match_postgres`: the comparison. A query freshet
//!   refuses is a failure (the grammar generates supported SQL only), as
//!   is one PostgreSQL refuses. Where PostgreSQL fails because a scalar
//!   subquery returned more than one row (queries generated to risk it),
//!   reading the view must fail with the same message.
//! * `generated_queries_are_accepted`: without a server, many generated
//!   queries are planned by the front end; none may be refused, and every
//!   construct of the grammar must appear.
//!
//! `cargo test -p freshet-tests --test random_pg` runs a short budget
//! (`DEFAULT_CASES` scenarios); `FRESHET_RANDOM_CASES=2000` (or
//! `PROPTEST_CASES`) runs a long one, and from `COVERAGE_CASES` scenarios
//! on the run also checks that every construct was compared at least once.
//! PostgreSQL is found through `DATABASE_URL`; when it is unreachable the
//! comparison fails if `CI=true` and is otherwise reported as not run.
//! `FRESHET_RANDOM_TRACE=1` prints every scenario before it runs, which
//! pins down a case that aborts the process (a stack overflow) where no
//! report could be written. Failing cases are shrunk, saved under
//! `tests/proptest-regressions/random_pg/` and replayed first on every
//! run; a failure found this way is best kept as a `.slt` file under
//! `tests/slt/`.

use std::cell::RefCell;

use freshet::{Database, Error, Options};
use freshet_engine::plan::Diff;
use freshet_engine::storage::MemoryStorage;
use freshet_engine::value::Row;
use freshet_sql::{ErrorKind, SqlError, Statement};
use freshet_tests::catalog::TestCatalog;
use freshet_tests::queries::{self, apply_batch};
use freshet_tests::random_sql::postgres::{row_values, RandomPostgres};
use freshet_tests::random_sql::{self, Coverage, Scenario};
use freshet_tests::slt_support::postgres::{check_server, database_url};
use freshet_tests::tpch::{compare_rows, embedded::view_text, TextRow};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

/// Scenarios of a default run (CI): well under a minute in a debug build.
const DEFAULT_CASES: u32 = 100;
/// From this many scenarios on, every construct must have been compared.
const COVERAGE_CASES: u32 = 400;
/// PostgreSQL's message for a scalar subquery with several rows.
const SUBQUERY_ROWS: &str = "more than one row returned by a subquery used as an expression";

fn cases() -> u32 {
    ["FRESHET_RANDOM_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("the case count {v} is not a number")))
        .unwrap_or(DEFAULT_CASES)
}

/// What a run saw, reported at its end.
#[derive(Default)]
struct Stats {
    cases: usize,
    /// View contents compared with PostgreSQL's answer.
    comparisons: usize,
    /// ... of which PostgreSQL's answer had rows.
    nonempty: usize,
    /// ... of which both failed (a scalar subquery with several rows).
    errors: usize,
    coverage: Coverage,
}

impl Stats {
    fn report(&self) {
        eprintln!(
            "random_views_match_postgres: {} cases, {} comparisons ({} with rows, {} where both failed)\n  coverage: {}",
            self.cases, self.comparisons, self.nonempty, self.errors, self.coverage
        );
    }
}

/// One scenario run against a [`Database`] and PostgreSQL.
struct Run<'a> {
    db: Database,
    pg: &'a mut RandomPostgres,
    scenario: &'a Scenario,
    view: bool,
    stats: &'a RefCell<Stats>,
}

fn fail(label: &str, what: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(format!("{label}: {what}"))
}

impl Run<'_> {
    fn sql(&self) -> &str {
        &self.scenario.query.sql
    }

    /// PostgreSQL's answer; an error is acceptable only where the query
    /// may fail, with the scalar subquery's message.
    fn expected(&mut self, label: &str) -> Result<Result<Vec<TextRow>, String>, TestCaseError> {
        let sql = self.scenario.query.sql.clone();
        match self.pg.query(&sql) {
            Ok(rows) => Ok(Ok(rows)),
            Err(e) if self.scenario.query.may_fail() && e.contains(SUBQUERY_ROWS) => Ok(Err(e)),
            Err(e) => Err(fail(label, format!("PostgreSQL failed on the generated query: {e}"))),
        }
    }

    fn create_view(&mut self, label: &str) -> Result<(), TestCaseError> {
        let expected = self.expected(label)?;
        let create = format!("CREATE MATERIALIZED VIEW v AS {}", self.sql());
        match self.db.execute(&create) {
            Ok(_) => {
                self.view = true;
                self.check(label)
            }
            Err(Error::Sql(SqlError::User { kind: ErrorKind::Unsupported, message, .. })) => {
                Err(fail(label, format!("freshet refused the generated query: {message}")))
            }
            Err(e @ Error::Eval(_)) if expected.is_err() && e.to_string().contains(SUBQUERY_ROWS) => {
                self.stats.borrow_mut().errors += 1;
                Ok(())
            }
            Err(e) => Err(fail(label, format!("CREATE MATERIALIZED VIEW failed: {e}; PostgreSQL: {expected:?}"))),
        }
    }

    /// Compares the view's rows with PostgreSQL's answer.
    fn check(&mut self, label: &str) -> Result<(), TestCaseError> {
        let expected = self.expected(label)?;
        let actual = view_text(&mut self.db, "v");
        self.judge(&format!("{label}: the view"), expected, actual)
    }

    /// Compares the query run once by the database with PostgreSQL's
    /// answer: a view's contents must be what the query computes.
    fn check_one_shot(&mut self, label: &str) -> Result<(), TestCaseError> {
        let expected = self.expected(label)?;
        let sql = self.sql().to_string();
        let actual = self.db.query(&sql).map(|r| {
            r.rows.iter().map(|row| row.iter().map(|v| (!v.is_null()).then(|| v.to_string())).collect()).collect()
        });
        self.judge(&format!("{label}: the one-shot query"), expected, actual)
    }

    fn judge(
        &self,
        what: &str,
        expected: Result<Vec<TextRow>, String>,
        actual: Result<Vec<TextRow>, Error>,
    ) -> Result<(), TestCaseError> {
        let mut stats = self.stats.borrow_mut();
        stats.comparisons += 1;
        match (expected, actual) {
            (Ok(e), Ok(a)) => {
                stats.nonempty += usize::from(!e.is_empty());
                compare_rows(&e, &a, 8).map_err(|d| TestCaseError::fail(format!("{what} differs from PostgreSQL: {d}")))
            }
            (Err(_), Err(e)) if e.to_string().contains(SUBQUERY_ROWS) => {
                stats.errors += 1;
                Ok(())
            }
            (Err(e), Ok(a)) => {
                Err(TestCaseError::fail(format!("{what} has {} rows where PostgreSQL failed ({e})", a.len())))
            }
            (e, Err(a)) => Err(TestCaseError::fail(format!("{what} failed: {a}; PostgreSQL: {e:?}"))),
        }
    }

    /// After a commit: checks the view, or tries to create it again if it
    /// could not be.
    fn after_commit(&mut self, label: &str) -> Result<(), TestCaseError> {
        if self.view {
            self.check(label)
        } else {
            self.create_view(label)
        }
    }

    /// Applies each table's diffs to both, as one transaction when
    /// `atomic`, checking after every commit.
    fn commit(&mut self, diffs: Vec<Vec<(Row, Diff)>>, atomic: bool, label: &str) -> Result<(), TestCaseError> {
        let tables = &self.scenario.tables;
        let touched: Vec<usize> = (0..diffs.len()).filter(|&i| !diffs[i].is_empty()).collect();
        if touched.is_empty() {
            return Ok(());
        }
        if atomic {
            self.db.execute("BEGIN").map_err(|e| fail(label, e))?;
            self.pg.execute("BEGIN").map_err(|e| fail(label, e))?;
        }
        for &i in &touched {
            let t = &tables[i];
            self.db.apply(&t.name, diffs[i].clone()).map_err(|e| fail(label, format!("changing {}: {e}", t.name)))?;
            self.pg.apply(t, &diffs[i]).map_err(|e| fail(label, format!("changing {} in PostgreSQL: {e}", t.name)))?;
            if !atomic {
                self.after_commit(&format!("{label}, table {}", t.name))?;
            }
        }
        if atomic {
            self.db.execute("COMMIT").map_err(|e| fail(label, e))?;
            self.pg.execute("COMMIT").map_err(|e| fail(label, e))?;
            self.after_commit(label)?;
        }
        Ok(())
    }

    /// Loads the initial rows with one `INSERT` per table in both.
    fn load(&mut self) -> Result<(), TestCaseError> {
        let s = self.scenario;
        for (t, rows) in s.tables.iter().zip(&s.initial) {
            if rows.is_empty() {
                continue;
            }
            let values: Vec<String> = rows.iter().map(row_values).collect();
            let insert = format!("INSERT INTO {} VALUES {}", t.name, values.join(", "));
            let label = format!("loading {}", t.name);
            self.db.execute(&insert).map_err(|e| fail(&label, e))?;
            self.pg.execute(&insert).map_err(|e| fail(&label, e))?;
            if self.scenario.view_first {
                self.after_commit(&label)?;
            }
        }
        Ok(())
    }
}

fn run_scenario(s: &Scenario, pg: &mut RandomPostgres, stats: &RefCell<Stats>) -> Result<(), TestCaseError> {
    {
        let mut stats = stats.borrow_mut();
        stats.cases += 1;
        stats.coverage.add(&s.query.features);
    }
    if std::env::var("FRESHET_RANDOM_TRACE").is_ok_and(|v| !v.is_empty()) {
        eprintln!("scenario {}:{s:?}", stats.borrow().cases);
    }
    pg.reset(&s.tables).map_err(|e| fail("creating the tables in PostgreSQL", e))?;
    let mut db = Database::with_storage(Box::new(MemoryStorage::new()), Options { workers: s.workers })
        .map_err(|e| fail("opening the database", e))?;
    for t in &s.tables {
        db.execute(&t.create_sql()).map_err(|e| fail(&t.create_sql(), e))?;
    }
    let mut run = Run { db, pg, scenario: s, view: false, stats };
    if s.view_first {
        run.create_view("before loading")?;
    }
    run.load()?;
    if !s.view_first {
        run.create_view("after loading")?;
    }
    let mut state = s.initial.clone();
    for (n, (atomic, batch)) in s.batches.iter().enumerate() {
        let diffs = apply_batch(&s.tables, &mut state, batch);
        run.commit(diffs, *atomic, &format!("batch {}", n + 1))?;
    }
    run.check_one_shot("after the last batch")
}

#[test]
fn random_views_match_postgres() {
    let url = database_url();
    if let Err(e) = check_server(&url) {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "PostgreSQL is unreachable at {url} ({e}); CI=true requires the random comparison");
        eprintln!(
            "random_pg: NOT RUN: PostgreSQL is unreachable at {url} ({e}); set DATABASE_URL to a reachable server"
        );
        return;
    }
    let pg = RandomPostgres::create(&url, "views").unwrap_or_else(|e| panic!("creating the PostgreSQL database: {e}"));
    let pg = RefCell::new(pg);
    let stats = RefCell::new(Stats::default());
    let cases = cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/random_pg/random_views_match_postgres.txt"
        )))),
        source_file: Some(file!()),
        // Shrinking re-runs whole scenarios against both systems: bound it.
        max_shrink_time: 300_000,
        max_shrink_iters: 4096,
        ..Config::default()
    });
    let result = runner.run(&random_sql::scenario(16, 2..=6, 6), |s| run_scenario(&s, &mut pg.borrow_mut(), &stats));
    let stats = stats.into_inner();
    stats.report();
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => panic!("{reason}\nminimal failing input: {value:?}"),
        Err(e) => panic!("{e}"),
    }
    assert!(stats.comparisons >= stats.cases, "too few comparisons: {}", stats.comparisons);
    assert!(
        stats.nonempty * 4 >= stats.comparisons,
        "only {} of {} comparisons had rows: the data or the filters are too sparse",
        stats.nonempty,
        stats.comparisons
    );
    if cases >= COVERAGE_CASES {
        let missing = stats.coverage.missing();
        assert!(missing.is_empty(), "constructs never compared in {cases} cases: {missing:?}");
    }
}

/// Generated queries are planned by the front end, none is refused, and
/// the grammar reaches every construct.
#[test]
fn generated_queries_are_accepted() {
    let mut runner = TestRunner::deterministic();
    let strategy = queries::schema().prop_flat_map(|tables| (Just(tables.clone()), random_sql::query(&tables)));
    let total = 1000;
    let mut coverage = Coverage::default();
    let mut rejected = Vec::new();
    for _ in 0..total {
        let (tables, query) = strategy.new_tree(&mut runner).expect("a value").current();
        coverage.add(&query.features);
        let catalog = TestCatalog::from_schemas(&tables);
        let planned = freshet_sql::parse(&query.sql).and_then(|p| freshet_sql::plan(&p[0], &catalog));
        match planned {
            Ok(Statement::Select(_)) => {}
            Ok(other) => panic!("not planned as a SELECT: {other:?}"),
            Err(e) => rejected.push(format!("{}\n    {e}", query.sql)),
        }
    }
    eprintln!("generated_queries_are_accepted: {} of {total} refused\n  coverage: {coverage}", rejected.len());
    for r in rejected.iter().take(10) {
        eprintln!("  refused: {r}");
    }
    assert!(rejected.is_empty(), "{} of {total} generated queries refused, e.g.\n{}", rejected.len(), rejected[0]);
    let missing = coverage.missing();
    assert!(missing.is_empty(), "constructs never generated: {missing:?}");
}
