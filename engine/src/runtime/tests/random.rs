//! Random change streams: every view equals the naive evaluation after
//! every transaction, and several workers agree with one.

use std::collections::HashMap;

use differential_dataflow::consolidation::consolidate;

use super::naive::Db;
use super::{ints, views};
use crate::plan::{Diff, ObjectId, Plan};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::value::Row;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A small value, NULL one time in six.
    fn value(&mut self) -> Option<i32> {
        if self.below(6) == 0 {
            None
        } else {
            Some(self.below(6) as i32)
        }
    }
}

/// One random transaction: inserts (with duplicates) and deletes of
/// present rows, applied to `model` too.
fn batch(rng: &mut Rng, model: &mut HashMap<ObjectId, Vec<(Row, Diff)>>) -> Vec<(ObjectId, Row, Diff)> {
    let mut changes = Vec::new();
    for table in [ObjectId(1), ObjectId(2)] {
        let rows = model.entry(table).or_default();
        for _ in 0..rng.below(5) {
            let row = ints(&[rng.value(), rng.value()]);
            let times = 1 + rng.below(2) as Diff;
            changes.push((table, row.clone(), times));
            rows.push((row, times));
        }
        for _ in 0..rng.below(4) {
            if rows.is_empty() {
                break;
            }
            let (row, _) = rows[rng.below(rows.len() as u64) as usize].clone();
            changes.push((table, row.clone(), -1));
            rows.push((row, -1));
            consolidate(rows);
        }
        consolidate(rows);
    }
    changes
}

fn check_all(rt: &mut Runtime, created: &[(u64, Plan)], model: &HashMap<ObjectId, Vec<(Row, Diff)>>, step: usize) {
    let plans: HashMap<ObjectId, Plan> = created.iter().map(|(id, p)| (ObjectId(*id), p.clone())).collect();
    let db = Db { tables: model, views: &plans };
    for (id, plan) in created {
        let expected = db.eval(plan).expect("the test views raise no error");
        let actual = rt.read(ObjectId(*id)).expect("read");
        assert_eq!(actual, expected, "view {id} after step {step}");
    }
}

/// Runs `steps` random transactions on a runtime with `workers` workers,
/// checking every view after each, and returns every read for comparison.
fn run(workers: usize, seed: u64, steps: usize) -> Vec<Vec<(Row, Diff)>> {
    let mut rt = Runtime::new(RuntimeConfig { workers }).expect("runtime");
    rt.create_table(ObjectId(1), 2).expect("table");
    rt.create_table(ObjectId(2), 2).expect("table");
    let mut rng = Rng(seed);
    let mut model = HashMap::new();
    let all = views();
    let mut created: Vec<(u64, Plan)> = Vec::new();
    let mut reads = Vec::new();
    for step in 0..steps {
        // views appear over time, so most are created over existing data
        for (id, plan) in &all {
            if (*id as usize - 10) * 2 == step {
                rt.create_view(ObjectId(*id), plan).expect("view");
                created.push((*id, plan.clone()));
            }
        }
        let changes = batch(&mut rng, &mut model);
        let t = rt.apply(changes).expect("apply");
        assert_eq!(t, step as u64 + 1);
        check_all(&mut rt, &created, &model, step);
        for (id, _) in &created {
            reads.push(rt.read(ObjectId(*id)).expect("read"));
        }
    }
    reads
}

#[test]
fn random_batches_match_naive_evaluation() {
    for seed in [1, 7, 42] {
        run(1, seed, 60);
    }
}

#[test]
fn three_workers_match_one() {
    let one = run(1, 99, 40);
    let three = run(3, 99, 40);
    assert_eq!(one, three);
}
