//! Random commit sequences applied to both backends and to a plain model:
//! every backend must accept exactly the commits the model accepts and
//! scan exactly the model's rows.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{int_table, row, snapshot, Backend, Disk};
use crate::plan::{Diff, ObjectId};
use crate::storage::{CatalogChange, Commit, MemoryStorage, Storage, StorageError};
use crate::value::Row;

/// The tables of every case: `(id, primary key)`; two columns each.
const TABLES: [(u64, &[usize]); 3] = [(0, &[0]), (1, &[]), (2, &[1])];

/// The model: per table, its primary key and row → multiplicity.
struct Model {
    frontier: u64,
    tables: BTreeMap<ObjectId, (Vec<usize>, BTreeMap<Row, i128>)>,
}

impl Model {
    fn new() -> Model {
        Model {
            frontier: 1,
            tables: TABLES.iter().map(|(id, pk)| (ObjectId(*id), (pk.to_vec(), BTreeMap::new()))).collect(),
        }
    }

    /// Applies the commit if it is valid; returns whether it was.
    fn apply(&mut self, commit: &Commit) -> bool {
        if commit.frontier <= self.frontier {
            return false;
        }
        let mut next = self.tables.clone();
        for (table, row, diff) in &commit.rows {
            let Some((_, rows)) = next.get_mut(table) else { return false };
            *rows.entry(row.clone()).or_insert(0) += i128::from(*diff);
        }
        for (pk, rows) in next.values_mut() {
            rows.retain(|_, n| *n != 0);
            if rows.values().any(|n| *n < 0) {
                return false;
            }
            if !pk.is_empty() {
                let keys: Vec<Row> = rows.keys().map(|r| r.project(pk)).collect();
                let mut distinct = keys.clone();
                distinct.sort();
                distinct.dedup();
                if rows.values().any(|n| *n > 1) || distinct.len() != keys.len() {
                    return false;
                }
            }
        }
        self.tables = next;
        self.frontier = commit.frontier;
        true
    }

    fn scan(&self, table: ObjectId) -> Vec<(Row, Diff)> {
        self.tables[&table].1.iter().map(|(r, n)| (r.clone(), *n as Diff)).collect()
    }
}

/// One step of a case.
#[derive(Clone, Debug)]
enum Step {
    /// A commit advancing the frontier by `advance` (0: refused) with the
    /// row changes `(table, a, b, diff)`; table 3 does not exist.
    Commit { advance: u64, changes: Vec<(u64, i64, i64, Diff)> },
    /// Close and reopen the disk store.
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => (0u64..3, prop::collection::vec((0u64..4, 0i64..4, 0i64..3, -2i64..=2), 0..8))
            .prop_map(|(advance, changes)| Step::Commit { advance, changes }),
        1 => Just(Step::Reopen),
    ]
}

fn setup() -> Commit {
    Commit {
        frontier: 1,
        next_id: 3,
        catalog: TABLES
            .iter()
            .map(|(id, pk)| CatalogChange::CreateTable(int_table(*id, &format!("t{id}"), 2, pk)))
            .collect(),
        rows: vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn backends_agree_with_the_model(steps in prop::collection::vec(step(), 1..25)) {
        let disk_location = Disk::new();
        let mut disk = Some(disk_location.open());
        let mut memory = MemoryStorage::new();
        let mut model = Model::new();
        disk.as_mut().unwrap().commit(&setup()).unwrap();
        memory.commit(&setup()).unwrap();

        let mut frontier = 1;
        for step in steps {
            match step {
                Step::Reopen => disk = Some(disk_location.reopen(disk.take().unwrap())),
                Step::Commit { advance, changes } => {
                    let commit = Commit {
                        frontier: frontier + advance,
                        next_id: 3,
                        catalog: vec![],
                        rows: changes.iter().map(|&(t, a, b, d)| (ObjectId(t), row(&[a, b]), d)).collect(),
                    };
                    let valid = model.apply(&commit);
                    if valid {
                        frontier = commit.frontier;
                    }
                    for (name, result) in [
                        ("memory", memory.commit(&commit)),
                        ("disk", disk.as_mut().unwrap().commit(&commit)),
                    ] {
                        match result {
                            Ok(()) => prop_assert!(valid, "{name} accepted an invalid commit {commit:?}"),
                            Err(StorageError::InvalidCommit(_)) => {
                                prop_assert!(!valid, "{name} refused a valid commit {commit:?}")
                            }
                            Err(e) => prop_assert!(false, "{name} failed: {e}"),
                        }
                    }
                }
            }
            let disk = disk.as_ref().unwrap();
            for (id, _) in TABLES {
                let expected = model.scan(ObjectId(id));
                prop_assert_eq!(&memory.scan(ObjectId(id)).unwrap(), &expected);
                prop_assert_eq!(&disk.scan(ObjectId(id)).unwrap(), &expected);
            }
            for a in 0..4 {
                let found = memory.get(ObjectId(0), &row(&[a])).unwrap();
                prop_assert_eq!(&disk.get(ObjectId(0), &row(&[a])).unwrap(), &found);
                let expected = model.scan(ObjectId(0)).into_iter().map(|(r, _)| r).find(|r| r[0] == row(&[a])[0]);
                prop_assert_eq!(found, expected);
            }
            prop_assert_eq!(snapshot(&memory), snapshot(disk));
            prop_assert_eq!(memory.catalog().unwrap().frontier, model.frontier);
        }
    }
}
