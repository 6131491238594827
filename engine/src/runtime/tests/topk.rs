//! `TopK` views: large groups under random changes against the naive
//! evaluation (so rows move in and out of the first `k` through every level
//! of the tree), offsets without limits, `LIMIT 0`, failing group keys.

use std::collections::HashMap;

use differential_dataflow::consolidation::consolidate;

use super::naive::Db;
use super::{bin, col, get, ints, lit};
use crate::error::EngineError;
use crate::expr::{BinaryFunc, EvalError, Expr};
use crate::plan::{Diff, ObjectId, Plan, SortColumn, TopK};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::value::Row;

fn topk(
    input: Plan,
    group_key: Vec<Expr>,
    order: Vec<SortColumn>,
    limit: Option<u64>,
    offset: u64,
) -> Plan {
    Plan::TopK(TopK {
        input: Box::new(input),
        group_key,
        order,
        limit,
        offset,
    })
}

fn desc(column: usize) -> SortColumn {
    SortColumn {
        column,
        descending: true,
        nulls_first: true,
    }
}

fn asc_nulls_first(column: usize) -> SortColumn {
    SortColumn {
        column,
        descending: false,
        nulls_first: true,
    }
}

/// The views checked, over table 1 `(a, b)`.
fn views() -> Vec<(u64, Plan)> {
    let a = || get(1, 2);
    vec![
        (30, topk(a(), vec![], vec![desc(1)], Some(5), 0)),
        (
            31,
            topk(a(), vec![], vec![SortColumn::asc(1), desc(0)], Some(4), 3),
        ),
        (
            32,
            topk(a(), vec![col(0)], vec![asc_nulls_first(1)], Some(2), 1),
        ),
        (33, topk(a(), vec![col(0)], vec![desc(1)], Some(1), 0)),
        (34, topk(a(), vec![], vec![], Some(3), 0)),
        (
            35,
            topk(a(), vec![col(1)], vec![SortColumn::asc(0)], None, 2),
        ),
        (36, topk(a(), vec![], vec![desc(0)], Some(0), 0)),
        (37, topk(a(), vec![], vec![desc(0), desc(1)], None, 0)),
        // over a top-k: the first of the first
        (38, topk(get(31, 2), vec![], vec![desc(1)], Some(1), 1)),
    ]
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    /// A value in `0..n`, NULL one time in ten.
    fn value(&mut self, n: u64) -> Option<i32> {
        if self.below(10) == 0 {
            None
        } else {
            Some(self.below(n) as i32)
        }
    }
}

fn check(rt: &mut Runtime, model: &HashMap<ObjectId, Vec<(Row, Diff)>>, label: &str) {
    let plans: HashMap<ObjectId, Plan> = views()
        .into_iter()
        .map(|(id, p)| (ObjectId(id), p))
        .collect();
    let db = Db {
        tables: model,
        views: &plans,
    };
    for (id, plan) in views() {
        let expected = db.eval(&plan).expect("no errors");
        let actual = rt.read(ObjectId(id)).expect("view rows");
        assert_eq!(actual, expected, "{label}: view {id}\n{plan}");
    }
}

fn run(workers: usize, seed: u64) {
    let mut rt = Runtime::new(RuntimeConfig { workers }).expect("runtime");
    rt.create_table(ObjectId(1), 2).expect("table");
    for (id, plan) in views() {
        rt.create_view(ObjectId(id), &plan).expect("view");
    }
    let mut rng = Rng(seed);
    let mut model: HashMap<ObjectId, Vec<(Row, Diff)>> = HashMap::new();
    // A large load: groups of hundreds of rows, many of them duplicates.
    let mut load = Vec::new();
    for _ in 0..2000 {
        let row = ints(&[rng.value(4), rng.value(300)]);
        let times = 1 + rng.below(3) as Diff;
        load.push((ObjectId(1), row.clone(), times));
        model.entry(ObjectId(1)).or_default().push((row, times));
    }
    rt.apply(load).expect("load");
    consolidate(model.get_mut(&ObjectId(1)).expect("rows"));
    check(&mut rt, &model, "loaded");
    for round in 0..40 {
        let rows = model.get_mut(&ObjectId(1)).expect("rows");
        let mut changes = Vec::new();
        // Deletions favour the current extremes, so rows leave the first k
        // and others move in.
        for _ in 0..rng.below(6) {
            if rows.is_empty() {
                break;
            }
            let at = if rng.below(2) == 0 {
                rows.iter()
                    .enumerate()
                    .max_by_key(|(_, (r, _))| r[1].clone())
                    .map(|(i, _)| i)
                    .expect("a row")
            } else {
                rng.below(rows.len() as u64) as usize
            };
            let (row, d) = rows[at].clone();
            let n = 1 + rng.below(d as u64) as Diff;
            changes.push((ObjectId(1), row.clone(), -n));
            rows.push((row, -n));
            consolidate(rows);
        }
        for _ in 0..rng.below(6) {
            let row = ints(&[rng.value(4), rng.value(320)]);
            let times = 1 + rng.below(2) as Diff;
            changes.push((ObjectId(1), row.clone(), times));
            rows.push((row, times));
        }
        consolidate(rows);
        rt.apply(changes).expect("a batch");
        check(&mut rt, &model, &format!("round {round}"));
    }
}

#[test]
fn large_groups_match_the_naive_evaluation() {
    run(1, 0x5eed_1234_abcd_0001);
}

#[test]
fn large_groups_match_with_two_workers() {
    run(2, 0x0bad_cafe_f00d_0002);
}

#[test]
fn failing_group_key_reports_an_error_until_the_row_goes() {
    let mut rt = Runtime::new(RuntimeConfig { workers: 1 }).expect("runtime");
    rt.create_table(ObjectId(1), 2).expect("table");
    let plan = topk(
        get(1, 2),
        vec![bin(lit(10), BinaryFunc::Div, col(0))],
        vec![desc(1)],
        Some(1),
        0,
    );
    rt.create_view(ObjectId(10), &plan).expect("view");
    let row = |a, b| ints(&[Some(a), Some(b)]);
    rt.apply(vec![
        (ObjectId(1), row(1, 5), 1),
        (ObjectId(1), row(2, 7), 1),
        (ObjectId(1), row(1, 9), 1),
    ])
    .unwrap();
    assert_eq!(
        rt.read(ObjectId(10)).unwrap(),
        vec![(row(1, 9), 1), (row(2, 7), 1)]
    );
    rt.apply(vec![(ObjectId(1), row(0, 1), 1)]).unwrap();
    assert!(matches!(
        rt.read(ObjectId(10)),
        Err(EngineError::Eval(EvalError::DivisionByZero))
    ));
    rt.apply(vec![
        (ObjectId(1), row(0, 1), -1),
        (ObjectId(1), row(1, 9), -1),
    ])
    .unwrap();
    assert_eq!(
        rt.read(ObjectId(10)).unwrap(),
        vec![(row(1, 5), 1), (row(2, 7), 1)]
    );
}
