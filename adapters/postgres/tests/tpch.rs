//! TPC-H through the adapter: the 22 queries created with `create_view`
//! over the TPC-H tables in PostgreSQL, then refresh rounds (new and
//! deleted orders, updates across filters, join partners and groups)
//! written to the tables while the adapter runs; after each `sync` every
//! view table must equal PostgreSQL's own result of its query.
//!
//! Data, queries and rounds are `freshet_tests::tpch`'s (SF 0.01, as the
//! embedded TPC-H test).

mod common;

use common::{differences, sync, RunningAdapter, TestDb};
use freshet_postgres::{create_view, PgError};
use freshet_sql::{ErrorKind, SqlError};
use freshet_tests::tpch::postgres::{apply, describe, load};
use freshet_tests::tpch::{Data, RefreshStream, QUERIES};

/// The queries the adapter refuses today, each with a `not supported`
/// error.
const EXPECTED_UNSUPPORTED: &[u8] = &[];

const SCALE: f64 = 0.01;
const ROUNDS: usize = 3;
const SEED: u64 = 20_240_602;

#[test]
fn tpch_views_through_the_adapter_match_postgres() {
    let Some(db) = TestDb::create("tpch") else {
        return;
    };
    let mut c = db.connect();
    let mut data = Data::generate(SCALE);
    load(&mut c, &data).unwrap_or_else(|e| panic!("loading the tables: {}", describe(&e)));

    let mut created = Vec::new();
    let mut problems = Vec::new();
    for q in QUERIES {
        let name = q.view_name();
        let listed = EXPECTED_UNSUPPORTED.contains(&q.number);
        match create_view(&mut c, &name, q.sql, "public", &mut |_| {}) {
            Ok(_) if listed => {
                problems.push(format!(
                    "{name} now compiles: remove {} from EXPECTED_UNSUPPORTED",
                    q.number
                ));
                created.push(q);
            }
            Ok(_) => created.push(q),
            Err(PgError::Sql(SqlError::User {
                kind: ErrorKind::Unsupported,
                message,
                ..
            })) if listed => {
                eprintln!("{name}: refused: {message}");
            }
            Err(e) => problems.push(format!("{name}: create_view failed: {e}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let check = |c: &mut postgres::Client, when: &str| {
        for q in &created {
            let n = differences(c, &q.view_name(), q.sql);
            assert_eq!(
                n,
                0,
                "{} differs from PostgreSQL's result {when} ({n} rows)",
                q.view_name()
            );
        }
    };
    check(&mut c, "after create-view");

    let _adapter = RunningAdapter::start(&db.url);
    let mut stream = RefreshStream::new(&data, SEED);
    for n in 1..=ROUNDS {
        let round = stream.next_round(&data);
        apply(&mut c, &round).unwrap_or_else(|e| panic!("round {n}: {}", describe(&e)));
        data.apply(&round);
        sync(&mut c);
        check(&mut c, &format!("after round {n}"));
    }
}
