//! TPC-H: the 22 queries maintained as materialized views in the embedded
//! database, compared with PostgreSQL's answers for the same SELECTs after
//! the initial load and after every refresh round (new orders, deleted
//! orders, updates moving rows across filters, join partners and groups),
//! and with the reference evaluator.
//!
//! `cargo test -p freshet-tests --test tpch`. PostgreSQL is found through
//! `DATABASE_URL`; when it is unreachable the PostgreSQL comparison fails
//! if `CI=true` and is otherwise reported as not run (the other tests are
//! unaffected). `TPCH_SCALE` and `TPCH_ROUNDS` override the scale factor
//! and the number of rounds of the PostgreSQL comparison.
//!
//! Queries freshet cannot compile yet are listed in
//! [`EXPECTED_UNSUPPORTED`]: each must be refused with a `not supported`
//! error, and every other query must compile.

use std::collections::BTreeMap;
use std::time::Instant;

use freshet::Database;
use freshet_tests::catalog::TestCatalog;
use freshet_engine::plan::optimize::optimize;
use freshet_engine::plan::{ObjectId, Plan};
use freshet_sql::Statement;
use freshet_tests::oracle::{consolidate, evaluate, Bag};
use freshet_tests::slt_support::postgres::check_server;
use freshet_tests::tpch::postgres::{database_url, describe, TpchPostgres};
use freshet_tests::tpch::{
    compare_rows, embedded, Data, Query, RefreshStream, TextRow, QUERIES, TABLES,
};

/// The queries freshet refuses today, each with a `not supported` error.
const EXPECTED_UNSUPPORTED: &[u8] = &[];

/// Scale factor of the PostgreSQL comparison (`TPCH_SCALE` overrides).
const SCALE: f64 = 0.01;
/// Refresh rounds of the PostgreSQL comparison (`TPCH_ROUNDS` overrides).
const ROUNDS: usize = 5;
/// Scale factor of the comparison with the reference evaluator, whose
/// joins are nested loops.
const ORACLE_SCALE: f64 = 0.002;
const SEED: u64 = 20_240_601;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not valid")),
        _ => default,
    }
}

/// Creates every query as a view; checks the outcome against
/// [`EXPECTED_UNSUPPORTED`] and returns the queries that compiled.
fn create_views(db: &mut Database) -> Vec<Query> {
    let mut supported = Vec::new();
    let mut problems = Vec::new();
    for q in QUERIES {
        let started = Instant::now();
        let result = embedded::create_view(db, &q);
        let listed = EXPECTED_UNSUPPORTED.contains(&q.number);
        match result {
            Ok(()) => {
                eprintln!(
                    "{}: view created in {:.2?}",
                    q.view_name(),
                    started.elapsed()
                );
                if listed {
                    problems.push(format!(
                        "{} now compiles: remove {} from EXPECTED_UNSUPPORTED",
                        q.view_name(),
                        q.number
                    ));
                }
                supported.push(q);
            }
            Err(e) => {
                let text = embedded::describe_error(&q, &e);
                eprintln!("{}: refused: {text}", q.view_name());
                if !embedded::is_unsupported(&e) {
                    problems.push(format!(
                        "{} fails with an error other than `not supported`: {text}",
                        q.view_name()
                    ));
                } else if !listed {
                    problems.push(format!(
                        "{} does not compile and is not in EXPECTED_UNSUPPORTED: {text}",
                        q.view_name()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    supported
}

/// What the comparisons saw of each query: its row counts after the load
/// and each round, and in how many rounds its answer changed.
#[derive(Default)]
struct Seen {
    answers: BTreeMap<u8, Vec<TextRow>>,
    counts: BTreeMap<u8, Vec<usize>>,
    changed: BTreeMap<u8, usize>,
}

impl Seen {
    fn record(&mut self, q: &Query, mut rows: Vec<TextRow>) {
        rows.sort();
        self.counts.entry(q.number).or_default().push(rows.len());
        if let Some(before) = self.answers.insert(q.number, rows.clone()) {
            if before != rows {
                *self.changed.entry(q.number).or_default() += 1;
            }
        }
    }

    fn report(&self, rounds: usize) {
        for (n, counts) in &self.counts {
            let changed = self.changed.get(n).copied().unwrap_or(0);
            eprintln!(
                "q{n:02}: rows {counts:?}; the answer changed in {changed} of {rounds} rounds"
            );
        }
    }
}

/// Each supported view's rows compared with PostgreSQL's answer for its
/// SELECT; returns the differences.
fn compare_with_postgres(
    db: &mut Database,
    pg: &mut TpchPostgres,
    supported: &[Query],
    label: &str,
    seen: &mut Seen,
) -> Vec<String> {
    let mut failures = Vec::new();
    for q in supported {
        let expected: Vec<TextRow> = match pg.query_text(q.sql) {
            Ok(rows) => rows,
            Err(e) => {
                failures.push(format!(
                    "{label}: {}: PostgreSQL failed: {e}",
                    q.view_name()
                ));
                continue;
            }
        };
        let actual = match embedded::view_text(db, &q.view_name()) {
            Ok(rows) => rows,
            Err(e) => {
                failures.push(format!(
                    "{label}: {}: reading the view failed: {e}",
                    q.view_name()
                ));
                continue;
            }
        };
        if let Err(diff) = compare_rows(&expected, &actual, 5) {
            failures.push(format!(
                "{label}: {} differs from PostgreSQL: {diff}",
                q.view_name()
            ));
        }
        seen.record(q, expected);
    }
    failures
}

#[test]
fn tpch_views_match_postgres() {
    let url = database_url();
    if let Err(e) = check_server(&url) {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "PostgreSQL is unreachable at {url} ({e}); CI=true requires the TPC-H comparison"
        );
        eprintln!("tpch: NOT RUN: PostgreSQL is unreachable at {url} ({e}); set DATABASE_URL to a reachable server");
        return;
    }
    let scale: f64 = env_or("TPCH_SCALE", SCALE);
    let rounds: usize = env_or("TPCH_ROUNDS", ROUNDS);

    let started = Instant::now();
    let mut data = Data::generate(scale);
    eprintln!(
        "generated SF {scale}: {} rows in {:.2?}",
        data.total_rows(),
        started.elapsed()
    );

    let started = Instant::now();
    let mut pg = TpchPostgres::create(&url, "views")
        .unwrap_or_else(|e| panic!("creating the PostgreSQL database: {}", describe(&e)));
    pg.load(&data)
        .unwrap_or_else(|e| panic!("loading PostgreSQL: {}", describe(&e)));
    eprintln!("PostgreSQL loaded in {:.2?}", started.elapsed());

    let started = Instant::now();
    let mut db = Database::open_in_memory().expect("opening the database");
    embedded::load(&mut db, &data).expect("loading freshet");
    eprintln!("freshet loaded in {:.2?}", started.elapsed());

    let supported = create_views(&mut db);
    let mut seen = Seen::default();
    let mut failures =
        compare_with_postgres(&mut db, &mut pg, &supported, "initial load", &mut seen);

    let mut stream = RefreshStream::new(&data, SEED);
    for n in 1..=rounds {
        let round = stream.next_round(&data);
        eprintln!("round {n}: {}", round.summary());
        let started = Instant::now();
        embedded::apply(&mut db, &round)
            .unwrap_or_else(|e| panic!("round {n}: freshet refused the changes: {e}"));
        eprintln!("round {n}: freshet applied it in {:.2?}", started.elapsed());
        pg.apply(&round).unwrap_or_else(|e| {
            panic!(
                "round {n}: PostgreSQL refused the changes: {}",
                describe(&e)
            )
        });
        data.apply(&round);
        failures.extend(compare_with_postgres(
            &mut db,
            &mut pg,
            &supported,
            &format!("round {n}"),
            &mut seen,
        ));
    }
    seen.report(rounds);
    assert!(
        failures.is_empty(),
        "{} comparisons failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Queries freshet refuses are refused with `not supported`, independent
/// of PostgreSQL (the list is also checked by the comparison above).
#[test]
fn tpch_unsupported_queries_are_listed() {
    let mut db = Database::open_in_memory().expect("opening the database");
    embedded::create_tables(&mut db).expect("creating the tables");
    let supported = create_views(&mut db);
    assert_eq!(supported.len() + EXPECTED_UNSUPPORTED.len(), QUERIES.len());
}

/// The optimised plan of `query` as a view (a `TopK` where it has a LIMIT).
fn plan_of(catalog: &TestCatalog, query: &Query) -> Plan {
    let sql = format!(
        "CREATE MATERIALIZED VIEW {} AS {}",
        query.view_name(),
        query.sql
    );
    let parsed = freshet_sql::parse(&sql).expect("the query parses");
    match freshet_sql::plan(&parsed[0], catalog) {
        Ok(Statement::CreateView { query: q, .. }) => optimize(q.plan),
        Ok(other) => panic!("{} is not planned as a view: {other:?}", query.view_name()),
        Err(e) => panic!(
            "{} compiled in the database but not here: {e}",
            query.view_name()
        ),
    }
}

/// A bag as text rows, each repeated by its multiplicity.
fn bag_text(bag: &Bag) -> Vec<TextRow> {
    let mut out = Vec::new();
    for (row, d) in bag {
        let text: TextRow = row
            .iter()
            .map(|v| {
                if v.is_null() {
                    None
                } else {
                    Some(v.to_string())
                }
            })
            .collect();
        for _ in 0..*d {
            out.push(text.clone());
        }
    }
    out
}

/// Every supported view equals the reference evaluator's result for its
/// plan, after the load and after a refresh round (at a smaller scale: the
/// evaluator joins by nested loops).
#[test]
fn tpch_views_match_the_oracle() {
    let mut data = Data::generate(ORACLE_SCALE);
    let mut db = Database::open_in_memory().expect("opening the database");
    embedded::load(&mut db, &data).expect("loading freshet");
    let supported = create_views(&mut db);
    let catalog = TestCatalog(
        db.tables()
            .into_iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect(),
    );
    let ids: Vec<ObjectId> = TABLES.iter().map(|t| catalog.0[t.name].id).collect();
    let plans: Vec<Plan> = supported.iter().map(|q| plan_of(&catalog, q)).collect();

    let mut stream = RefreshStream::with_fraction(&data, SEED, 0.05);
    let mut failures = Vec::new();
    for n in 0..=2 {
        if n > 0 {
            let round = stream.next_round(&data);
            embedded::apply(&mut db, &round).expect("applying the round");
            data.apply(&round);
        }
        let tables: BTreeMap<ObjectId, Bag> = ids
            .iter()
            .zip(data.tables())
            .map(|(id, t)| (*id, t.rows().iter().map(|r| (r.clone(), 1)).collect()))
            .collect();
        for (q, plan) in supported.iter().zip(&plans) {
            let started = Instant::now();
            let expected = evaluate(plan, &tables).map_err(|e| e.to_string());
            let actual = db.view_rows(&q.view_name()).map_err(|e| e.to_string());
            let label = format!("round {n}: {}", q.view_name());
            match (expected, actual) {
                (Ok(e), Ok(a)) => {
                    eprintln!(
                        "{label}: {} rows, oracle in {:.2?}",
                        e.len(),
                        started.elapsed()
                    );
                    let a: Vec<TextRow> =
                        bag_text(&consolidate(a.into_iter().map(|r| (r, 1)).collect()));
                    if let Err(diff) = compare_rows(&bag_text(&e), &a, 5) {
                        failures.push(format!("{label} differs from the oracle: {diff}"));
                    }
                }
                (Err(e), Err(a)) if e == a => {}
                (e, a) => failures.push(format!("{label}: the oracle gives {e:?}, the view {a:?}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
