//! The storage conformance suite: the [`Storage`] contract checked once,
//! generically, and run against every backend (`memory::*` and `disk::*`
//! tests). `proptests` compares the backends with a plain model over random
//! commit sequences; `crash` kills a process that is committing to a
//! [`DiskStorage`] and checks what a reopened store holds.

mod crash;
mod proptests;

use std::sync::Arc;

use tempfile::TempDir;

use super::{CatalogChange, Commit, DiskStorage, MemoryStorage, Storage, StorageError, StoredCatalog};
use crate::catalog::{Column, TableDef, ViewDef};
use crate::plan::{Diff, ObjectId};
use crate::value::{DataType, Date, Interval, Numeric, Row, Timestamp, Value, F64};

/// A backend under test: a location a store can be opened (and, for a
/// persistent backend, reopened) at.
pub(super) trait Backend {
    /// The store type.
    type Store: Storage;
    /// A fresh, empty location.
    fn new() -> Self;
    /// Opens the store at this location.
    fn open(&self) -> Self::Store;
    /// Closes `store` and opens this location again (persistent backends
    /// only; the memory backend returns the store as it is).
    fn reopen(&self, store: Self::Store) -> Self::Store;
}

/// The in-memory backend.
pub(super) struct Memory;

impl Backend for Memory {
    type Store = MemoryStorage;
    fn new() -> Memory {
        Memory
    }
    fn open(&self) -> MemoryStorage {
        MemoryStorage::new()
    }
    fn reopen(&self, store: MemoryStorage) -> MemoryStorage {
        store
    }
}

/// The disk backend in a temporary directory.
pub(super) struct Disk(TempDir);

impl Backend for Disk {
    type Store = DiskStorage;
    fn new() -> Disk {
        Disk(tempfile::tempdir().expect("temporary directory"))
    }
    fn open(&self) -> DiskStorage {
        // A subdirectory that does not exist yet: `open` creates it.
        DiskStorage::open(self.0.path().join("data")).expect("open disk store")
    }
    fn reopen(&self, store: DiskStorage) -> DiskStorage {
        drop(store);
        self.open()
    }
}

// ---- helpers ------------------------------------------------------------

pub(super) fn int_table(id: u64, name: &str, ncols: usize, pk: &[usize]) -> TableDef {
    TableDef {
        id: ObjectId(id),
        name: name.into(),
        columns: (0..ncols)
            .map(|i| Column { name: format!("c{i}"), ty: DataType::Int8, nullable: !pk.contains(&i) })
            .collect(),
        primary_key: pk.to_vec(),
    }
}

fn view(id: u64, name: &str) -> ViewDef {
    ViewDef {
        id: ObjectId(id),
        name: name.into(),
        sql: format!("SELECT c0 FROM t WHERE c0 > {id}"),
        columns: vec![Column { name: "c0".into(), ty: DataType::Int8, nullable: true }],
    }
}

pub(super) fn row(values: &[i64]) -> Row {
    values.iter().map(|&v| Value::Int8(v)).collect()
}

fn change(table: u64, values: &[i64], diff: Diff) -> (ObjectId, Row, Diff) {
    (ObjectId(table), row(values), diff)
}

fn commit(frontier: u64, next_id: u64, catalog: Vec<CatalogChange>, rows: Vec<(ObjectId, Row, Diff)>) -> Commit {
    Commit { frontier, next_id, catalog, rows }
}

/// The catalog and every table's scan.
pub(super) type Snapshot = (StoredCatalog, Vec<(ObjectId, Vec<(Row, Diff)>)>);

pub(super) fn snapshot<S: Storage>(s: &S) -> Snapshot {
    let catalog = s.catalog().expect("catalog");
    let scans = catalog.tables.iter().map(|t| (t.id, s.scan(t.id).expect("scan"))).collect();
    (catalog, scans)
}

fn scan<S: Storage>(s: &S, table: u64) -> Vec<(Row, Diff)> {
    s.scan(ObjectId(table)).expect("scan")
}

fn rows(list: &[(&[i64], Diff)]) -> Vec<(Row, Diff)> {
    list.iter().map(|(r, d)| (row(r), *d)).collect()
}

#[track_caller]
fn assert_invalid(result: Result<(), StorageError>) {
    match result {
        Err(StorageError::InvalidCommit(_)) => {}
        other => panic!("expected an invalid commit, got {other:?}"),
    }
}

/// A store with a primary-key table 0 (key: column 0), a bag table 1 and a
/// primary-key table 2 keyed on its second column, at frontier 1.
fn with_tables<B: Backend>(b: &B) -> B::Store {
    let mut s = b.open();
    s.commit(&commit(
        1,
        3,
        vec![
            CatalogChange::CreateTable(int_table(0, "pk", 2, &[0])),
            CatalogChange::CreateTable(int_table(1, "bag", 2, &[])),
            CatalogChange::CreateTable(int_table(2, "pk_second", 2, &[1])),
        ],
        vec![],
    ))
    .expect("create tables");
    s
}

// ---- the suite ----------------------------------------------------------

fn empty_store<B: Backend>() {
    let b = B::new();
    let s = b.open();
    assert_eq!(s.catalog().unwrap(), StoredCatalog::default());
    assert!(matches!(s.scan(ObjectId(0)), Err(StorageError::UnknownTable(ObjectId(0)))));
    assert!(matches!(s.get(ObjectId(0), &row(&[1])), Err(StorageError::UnknownTable(ObjectId(0)))));
}

fn create_and_drop_tables_and_views<B: Backend>() {
    let b = B::new();
    let mut s = b.open();
    let t0 = int_table(0, "a", 2, &[0]);
    let t1 = int_table(1, "b", 1, &[]);
    let v2 = view(2, "v");
    s.commit(&commit(
        1,
        3,
        vec![
            CatalogChange::CreateTable(t0.clone()),
            CatalogChange::CreateTable(t1.clone()),
            CatalogChange::CreateView(v2.clone()),
        ],
        vec![],
    ))
    .unwrap();
    let cat = s.catalog().unwrap();
    assert_eq!(
        cat,
        StoredCatalog { frontier: 1, next_id: 3, tables: vec![t0.clone(), t1.clone()], views: vec![v2.clone()] }
    );
    assert!(scan(&s, 0).is_empty());
    assert!(scan(&s, 1).is_empty());
    // A view holds no rows in the store.
    assert!(matches!(s.scan(ObjectId(2)), Err(StorageError::UnknownTable(_))));

    // Later objects come after earlier ones, whatever their ids.
    let t4 = int_table(4, "d", 1, &[0]);
    let t3 = int_table(3, "c", 1, &[]);
    let v5 = view(5, "w");
    s.commit(&commit(
        2,
        6,
        vec![
            CatalogChange::CreateTable(t4.clone()),
            CatalogChange::CreateView(v5.clone()),
            CatalogChange::CreateTable(t3.clone()),
            CatalogChange::DropTable(ObjectId(0)),
            CatalogChange::DropView(ObjectId(2)),
        ],
        vec![],
    ))
    .unwrap();
    let cat = s.catalog().unwrap();
    assert_eq!(cat.tables, vec![t1.clone(), t4.clone(), t3.clone()]);
    assert_eq!(cat.views, vec![v5.clone()]);
    assert!(matches!(s.scan(ObjectId(0)), Err(StorageError::UnknownTable(_))));

    // A table created and dropped in one commit leaves no trace.
    s.commit(&commit(
        3,
        7,
        vec![CatalogChange::CreateTable(int_table(6, "tmp", 1, &[])), CatalogChange::DropTable(ObjectId(6))],
        vec![],
    ))
    .unwrap();
    let s = b.reopen(s);
    let cat = s.catalog().unwrap();
    assert_eq!(cat, StoredCatalog { frontier: 3, next_id: 7, tables: vec![t1, t4, t3], views: vec![v5] });
    assert!(matches!(s.scan(ObjectId(6)), Err(StorageError::UnknownTable(_))));
}

fn primary_key_semantics<B: Backend>() {
    let b = B::new();
    let mut s = with_tables(&b);
    s.commit(&commit(2, 3, vec![], vec![change(0, &[3, 30], 1), change(0, &[1, 10], 1), change(0, &[2, 20], 1)]))
        .unwrap();
    assert_eq!(scan(&s, 0), rows(&[(&[1, 10], 1), (&[2, 20], 1), (&[3, 30], 1)]));
    assert_eq!(s.get(ObjectId(0), &row(&[2])).unwrap(), Some(row(&[2, 20])));
    assert_eq!(s.get(ObjectId(0), &row(&[9])).unwrap(), None);

    // Update (retract + insert of the same key) and delete in one commit.
    s.commit(&commit(3, 3, vec![], vec![change(0, &[2, 21], 1), change(0, &[2, 20], -1), change(0, &[3, 30], -1)]))
        .unwrap();
    assert_eq!(scan(&s, 0), rows(&[(&[1, 10], 1), (&[2, 21], 1)]));
    assert_eq!(s.get(ObjectId(0), &row(&[2])).unwrap(), Some(row(&[2, 21])));
    assert_eq!(s.get(ObjectId(0), &row(&[3])).unwrap(), None);

    // Uniqueness holds after the whole commit: swapping values is fine.
    s.commit(&commit(
        4,
        3,
        vec![],
        vec![change(0, &[1, 21], 1), change(0, &[2, 10], 1), change(0, &[1, 10], -1), change(0, &[2, 21], -1)],
    ))
    .unwrap();
    assert_eq!(scan(&s, 0), rows(&[(&[1, 21], 1), (&[2, 10], 1)]));

    let before = snapshot(&s);
    // A second row for an existing key.
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(0, &[1, 99], 1)])));
    // Two rows with one key in one commit.
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(0, &[7, 1], 1), change(0, &[7, 2], 1)])));
    // The same row twice.
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(0, &[8, 1], 2)])));
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(0, &[1, 21], 1)])));
    // Retracting a row that is not there (the key exists with another row).
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(0, &[1, 10], -1)])));
    assert_eq!(snapshot(&s), before);

    // Keys that are not a leading prefix: scan is still in row order.
    s.commit(&commit(
        5,
        3,
        vec![],
        vec![change(2, &[5, 1], 1), change(2, &[1, 3], 1), change(2, &[3, 2], 1), change(2, &[1, 4], 1)],
    ))
    .unwrap();
    assert_eq!(scan(&s, 2), rows(&[(&[1, 3], 1), (&[1, 4], 1), (&[3, 2], 1), (&[5, 1], 1)]));
    assert_eq!(s.get(ObjectId(2), &row(&[2])).unwrap(), Some(row(&[3, 2])));
    assert_invalid(s.commit(&commit(6, 3, vec![], vec![change(2, &[9, 4], 1)])));

    // `get` misuse.
    assert!(matches!(s.get(ObjectId(1), &row(&[1, 1])), Err(StorageError::NoPrimaryKey(ObjectId(1)))));
    assert!(matches!(
        s.get(ObjectId(0), &row(&[1, 21])),
        Err(StorageError::KeyArity { table: ObjectId(0), expected: 1, got: 2 })
    ));
}

fn bag_semantics<B: Backend>() {
    let b = B::new();
    let mut s = with_tables(&b);
    s.commit(&commit(2, 3, vec![], vec![change(1, &[1, 1], 3), change(1, &[0, 5], 1), change(1, &[0, 5], 1)])).unwrap();
    assert_eq!(scan(&s, 1), rows(&[(&[0, 5], 2), (&[1, 1], 3)]));
    s.commit(&commit(3, 3, vec![], vec![change(1, &[1, 1], 2), change(1, &[1, 1], -4), change(1, &[2, 2], 0)]))
        .unwrap();
    assert_eq!(scan(&s, 1), rows(&[(&[0, 5], 2), (&[1, 1], 1)]));
    // A retraction and an insertion of an absent row cancel out.
    s.commit(&commit(4, 3, vec![], vec![change(1, &[7, 7], -1), change(1, &[7, 7], 1)])).unwrap();
    assert_eq!(scan(&s, 1), rows(&[(&[0, 5], 2), (&[1, 1], 1)]));

    let before = snapshot(&s);
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(1, &[0, 5], -3)])));
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(1, &[9, 9], -1)])));
    assert_invalid(s.commit(&commit(5, 3, vec![], vec![change(1, &[0, 5], i64::MAX)])));
    assert_eq!(snapshot(&s), before);

    // Retracting every copy removes the row.
    s.commit(&commit(5, 3, vec![], vec![change(1, &[0, 5], -2)])).unwrap();
    assert_eq!(scan(&s, 1), rows(&[(&[1, 1], 1)]));
    let s = b.reopen(s);
    assert_eq!(scan(&s, 1), rows(&[(&[1, 1], 1)]));
}

fn rejected_commits_change_nothing<B: Backend>() {
    let b = B::new();
    let mut s = with_tables(&b);
    s.commit(&commit(
        2,
        4,
        vec![CatalogChange::CreateView(view(3, "v"))],
        vec![change(0, &[1, 1], 1), change(1, &[1, 1], 2), change(2, &[1, 1], 1)],
    ))
    .unwrap();
    let before = snapshot(&s);
    let good_rows = || vec![change(0, &[2, 2], 1), change(1, &[5, 5], 1)];
    let new_table = |id| CatalogChange::CreateTable(int_table(id, "n", 2, &[]));
    let bad: Vec<Commit> = vec![
        // Frontier not increasing.
        commit(2, 4, vec![], good_rows()),
        commit(1, 4, vec![], good_rows()),
        // Unknown table, a view, a table dropped earlier in the commit.
        commit(3, 4, vec![], [good_rows(), vec![change(9, &[1, 1], 1)]].concat()),
        commit(3, 4, vec![], [good_rows(), vec![change(3, &[1], 1)]].concat()),
        commit(3, 4, vec![CatalogChange::DropTable(ObjectId(1))], vec![change(1, &[5, 5], 1)]),
        // Retracting a missing row, after valid catalog changes.
        commit(3, 5, vec![new_table(4)], [good_rows(), vec![change(1, &[8, 8], -1)]].concat()),
        // PK duplicate after the commit.
        commit(3, 5, vec![new_table(4)], [good_rows(), vec![change(0, &[1, 2], 1)]].concat()),
        // Catalog errors.
        commit(3, 5, vec![new_table(4), CatalogChange::DropTable(ObjectId(9))], good_rows()),
        commit(3, 5, vec![new_table(4), CatalogChange::DropView(ObjectId(0))], good_rows()),
        commit(3, 5, vec![new_table(4), new_table(4)], good_rows()),
        commit(3, 5, vec![CatalogChange::CreateTable(int_table(3, "dup", 1, &[]))], vec![]),
        // Id reuse (a dropped id) and ids outside the unused range.
        commit(3, 5, vec![CatalogChange::DropTable(ObjectId(2)), new_table(2)], vec![]),
        commit(3, 5, vec![new_table(5)], vec![]),
        commit(3, 3, vec![], good_rows()),
        // Bad primary keys and arity.
        commit(3, 5, vec![CatalogChange::CreateTable(int_table(4, "k", 2, &[2]))], vec![]),
        commit(3, 5, vec![CatalogChange::CreateTable(int_table(4, "k", 2, &[1, 1]))], vec![]),
        commit(3, 4, vec![], [good_rows(), vec![change(1, &[1, 1, 1], 1)]].concat()),
    ];
    for (i, c) in bad.iter().enumerate() {
        let result = s.commit(c);
        assert!(matches!(result, Err(StorageError::InvalidCommit(_))), "commit #{i} {c:?} gave {result:?}");
        assert_eq!(snapshot(&s), before, "commit #{i} changed the store");
    }
    let mut s = b.reopen(s);
    assert_eq!(snapshot(&s), before);
    // The store still takes valid commits afterwards.
    s.commit(&commit(3, 5, vec![new_table(4)], good_rows())).unwrap();
    assert_eq!(s.catalog().unwrap().frontier, 3);
    assert_eq!(scan(&s, 0), rows(&[(&[1, 1], 1), (&[2, 2], 1)]));
}

fn drop_table_drops_rows<B: Backend>() {
    let b = B::new();
    let mut s = with_tables(&b);
    s.commit(&commit(2, 3, vec![], vec![change(0, &[1, 1], 1), change(1, &[2, 2], 3)])).unwrap();
    s.commit(&commit(3, 3, vec![CatalogChange::DropTable(ObjectId(0)), CatalogChange::DropTable(ObjectId(1))], vec![]))
        .unwrap();
    assert!(matches!(s.scan(ObjectId(0)), Err(StorageError::UnknownTable(_))));
    assert!(matches!(s.get(ObjectId(0), &row(&[1])), Err(StorageError::UnknownTable(_))));
    assert_invalid(s.commit(&commit(4, 3, vec![], vec![change(1, &[2, 2], -1)])));
    // Tables created with rows in the same commit.
    s.commit(&commit(
        4,
        5,
        vec![
            CatalogChange::CreateTable(int_table(3, "pk2", 2, &[0])),
            CatalogChange::CreateTable(int_table(4, "bag2", 2, &[])),
        ],
        vec![change(3, &[1, 5], 1), change(4, &[2, 2], 1)],
    ))
    .unwrap();
    let s = b.reopen(s);
    assert_eq!(scan(&s, 3), rows(&[(&[1, 5], 1)]));
    assert_eq!(scan(&s, 4), rows(&[(&[2, 2], 1)]));
    assert_eq!(s.catalog().unwrap().tables.iter().map(|t| t.id.0).collect::<Vec<_>>(), vec![2, 3, 4]);
}

fn frontier_and_next_id_round_trip<B: Backend>() {
    let b = B::new();
    let mut s = b.open();
    for (frontier, next_id) in [(1, 0), (5, 10), (6, 10), (1_000_000, 11), (u64::MAX - 1, 12)] {
        s.commit(&commit(frontier, next_id, vec![], vec![])).unwrap();
        assert_eq!(s.catalog().unwrap().frontier, frontier);
        assert_eq!(s.catalog().unwrap().next_id, next_id);
        s = b.reopen(s);
        assert_eq!(s.catalog().unwrap().frontier, frontier);
        assert_eq!(s.catalog().unwrap().next_id, next_id);
    }
    assert_invalid(s.commit(&commit(u64::MAX - 1, 12, vec![], vec![])));
    assert_invalid(s.commit(&commit(u64::MAX, 11, vec![], vec![])));
}

/// A row holding every kind of value, with `f` in column 0.
fn every_value(f: f64, n: i64) -> Row {
    Row::new(vec![
        Value::Float8(F64(f)),
        Value::Int8(n),
        Value::Null,
        Value::Bool(true),
        Value::Int2(-7),
        Value::Int4(i32::MIN),
        Value::Numeric(Numeric::from_parts(-123_456_789_012_345_678_901_234_567, 9)),
        Value::Numeric(Numeric::from_big(num_bigint::BigInt::from(u128::MAX) * 1_000_000_007u64, 3)),
        Value::Numeric(Numeric::NAN),
        Value::text("héllo, wörld"),
        Value::Date(Date(i32::MAX)),
        Value::Timestamp(Timestamp(-86_400_000_000)),
        Value::TimestampTz(Timestamp(i64::MIN)),
        Value::Interval(Interval { months: -1, days: 40, micros: 1 }),
        Value::Uuid([0xab; 16]),
        Value::Bytea(Arc::from(&[0u8, 255, 7][..])),
    ])
}

fn every_value_type_round_trips<B: Backend>() {
    let b = B::new();
    let mut s = b.open();
    let mut t0 = int_table(0, "typed", 16, &[0]);
    let mut t1 = int_table(1, "typed_bag", 16, &[]);
    for t in [&mut t0, &mut t1] {
        for (c, ty) in t.columns.iter_mut().zip([
            DataType::Float8,
            DataType::Int8,
            DataType::Text,
            DataType::Bool,
            DataType::Int2,
            DataType::Int4,
            DataType::Numeric(None),
            DataType::Numeric(None),
            DataType::Numeric(None),
            DataType::Text,
            DataType::Date,
            DataType::Timestamp,
            DataType::TimestampTz,
            DataType::Interval,
            DataType::Uuid,
            DataType::Bytea,
        ]) {
            c.ty = ty;
        }
    }
    let odd_nan = f64::from_bits(0x7ff8_0000_0000_0001);
    let rows_in: Vec<Row> = [f64::NAN, -f64::NAN, -0.0, 0.0, 1.5, f64::NEG_INFINITY]
        .iter()
        .enumerate()
        .map(|(i, &f)| every_value(f, i as i64))
        .collect();
    let mut changes: Vec<(ObjectId, Row, Diff)> = rows_in.iter().map(|r| (ObjectId(0), r.clone(), 1)).collect();
    changes.extend(rows_in.iter().map(|r| (ObjectId(1), r.clone(), 2)));
    s.commit(&commit(
        1,
        2,
        vec![CatalogChange::CreateTable(t0.clone()), CatalogChange::CreateTable(t1.clone())],
        changes,
    ))
    .unwrap();
    let s = b.reopen(s);
    let mut expected = rows_in.clone();
    expected.sort();
    assert_eq!(scan(&s, 0), expected.iter().map(|r| (r.clone(), 1)).collect::<Vec<_>>());
    assert_eq!(scan(&s, 1), expected.iter().map(|r| (r.clone(), 2)).collect::<Vec<_>>());
    // -0.0 and 0.0 are distinct keys; a NaN key finds the NaN row whatever
    // its payload.
    let key = |f: f64| Row::new(vec![Value::Float8(F64(f))]);
    assert_eq!(s.get(ObjectId(0), &key(-0.0)).unwrap(), Some(every_value(-0.0, 2)));
    assert_eq!(s.get(ObjectId(0), &key(0.0)).unwrap(), Some(every_value(0.0, 3)));
    assert_eq!(s.get(ObjectId(0), &key(odd_nan)).unwrap(), Some(every_value(f64::NAN, 0)));
    assert_eq!(s.get(ObjectId(0), &key(-odd_nan)).unwrap(), Some(every_value(-f64::NAN, 1)));
    let mut s = s;
    // A retraction of a row with another NaN payload retracts the stored row.
    s.commit(&commit(2, 2, vec![], vec![(ObjectId(1), every_value(odd_nan, 0), -2)])).unwrap();
    assert_eq!(scan(&s, 1).len(), rows_in.len() - 1);
}

fn reopen_keeps_catalog_and_rows<B: Backend>() {
    let b = B::new();
    let mut s = with_tables(&b);
    s.commit(&commit(
        2,
        5,
        vec![CatalogChange::CreateView(view(3, "v")), CatalogChange::CreateTable(int_table(4, "late", 1, &[0]))],
        (0..200).map(|i| change(0, &[i, i * 2], 1)).chain((0..50).map(|i| change(1, &[i % 7, 0], 1))).collect(),
    ))
    .unwrap();
    s.commit(&commit(3, 5, vec![CatalogChange::DropTable(ObjectId(2))], vec![change(4, &[42], 1)])).unwrap();
    let before = snapshot(&s);
    let mut s = b.reopen(s);
    assert_eq!(snapshot(&s), before);
    assert_eq!(s.get(ObjectId(0), &row(&[150])).unwrap(), Some(row(&[150, 300])));
    // Creation order continues after a reopen.
    s.commit(&commit(4, 6, vec![CatalogChange::CreateTable(int_table(5, "after", 1, &[]))], vec![])).unwrap();
    let s = b.reopen(s);
    let ids: Vec<u64> = s.catalog().unwrap().tables.iter().map(|t| t.id.0).collect();
    assert_eq!(ids, vec![0, 1, 4, 5]);
    assert_eq!(s.catalog().unwrap().views, vec![view(3, "v")]);
}

/// Instantiates the suite for one backend.
macro_rules! suite {
    ($name:ident, $backend:ty) => {
        mod $name {
            use super::*;

            #[test]
            fn empty_store() {
                super::empty_store::<$backend>()
            }
            #[test]
            fn create_and_drop_tables_and_views() {
                super::create_and_drop_tables_and_views::<$backend>()
            }
            #[test]
            fn primary_key_semantics() {
                super::primary_key_semantics::<$backend>()
            }
            #[test]
            fn bag_semantics() {
                super::bag_semantics::<$backend>()
            }
            #[test]
            fn rejected_commits_change_nothing() {
                super::rejected_commits_change_nothing::<$backend>()
            }
            #[test]
            fn drop_table_drops_rows() {
                super::drop_table_drops_rows::<$backend>()
            }
            #[test]
            fn frontier_and_next_id_round_trip() {
                super::frontier_and_next_id_round_trip::<$backend>()
            }
            #[test]
            fn every_value_type_round_trips() {
                super::every_value_type_round_trips::<$backend>()
            }
            #[test]
            fn reopen_keeps_catalog_and_rows() {
                super::reopen_keeps_catalog_and_rows::<$backend>()
            }
        }
    };
}

suite!(memory, Memory);
suite!(disk, Disk);

#[test]
fn disk_directory_is_locked_while_open() {
    let b = Disk::new();
    let s = b.open();
    assert!(matches!(DiskStorage::open(b.0.path().join("data")), Err(StorageError::Backend(_))));
    drop(s);
    assert!(DiskStorage::open(b.0.path().join("data")).is_ok());
}

#[test]
fn disk_refuses_a_file_that_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("freshet.redb"), b"definitely not a redb file, long enough to be read").unwrap();
    assert!(matches!(DiskStorage::open(dir.path()), Err(StorageError::Backend(_))));
}
