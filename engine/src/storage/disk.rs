//! [`DiskStorage`]: the embedded on-disk backend, a [redb] database in a
//! data directory (`<dir>/freshet.redb`).
//!
//! **Layout.** Each source table gets its own redb table: `freshet.pk.<id>`
//! (encoded key → encoded row) for a table with a primary key, and
//! `freshet.bag.<id>` (encoded row → `u64` multiplicity) for a bag. One redb
//! table per source table, rather than one shared table keyed by
//! `(table id, key)`, keeps keys free of a table prefix, makes a scan a walk
//! over one B-tree, lets the two kinds of table store different value types,
//! and makes dropping a table a single `delete_table` that frees its pages
//! wholesale instead of deleting its rows one by one. Source tables are
//! few, so the number of redb tables stays small.
//!
//! The catalog lives in three more redb tables: `freshet.meta` (format
//! version, frontier, `next_id` and the creation counter), and
//! `freshet.tables` / `freshet.views` (object id → creation number and
//! definition). A commit rewrites the small meta record and only the
//! catalog objects it creates or drops, not the whole catalog. The catalog is
//! also cached in memory; [`Storage::catalog`] reads the cache.
//!
//! Keys and rows are encoded with postcard. The encoding is canonical (a
//! NaN's payload is normalised; every other value has one encoding), so
//! equal keys have equal bytes and [`Storage::get`] is one B-tree lookup.
//! It does not preserve [`Row`]'s order, so [`Storage::scan`] sorts.
//!
//! **Cost.** On disk: per row its postcard encoding (compact, varint
//! integers) plus, for a primary-key table, the encoded key, plus B-tree
//! overhead (4 KiB pages, copy-on-write). In memory: the catalog, and redb's
//! page cache (up to [`DiskStorage::DEFAULT_CACHE_SIZE`] unless opened with
//! [`DiskStorage::open_with_cache_size`]). [`Storage::get`] is O(log n) page
//! reads; [`Storage::scan`] reads the whole table, holds it in memory and
//! sorts it (O(n log n)); a commit costs O(log n) per touched row plus one
//! `fsync`.
//!
//! **Durability.** One redb write transaction per [`Storage::commit`] with
//! redb's default durability: when `commit` returns, the commit is on disk;
//! a crash at any point leaves the last fully committed state (redb's
//! copy-on-write pages and double-buffered commit slot). A commit is
//! validated before the write transaction starts; a failure while writing
//! aborts the transaction, so a refused or failed commit changes nothing.
//! The database file is locked: one process at a time may open a data
//! directory.
//!
//! [redb]: https://docs.rs/redb

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use redb::{
    Builder, Database, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition,
    WriteTransaction,
};
use serde::{Deserialize, Serialize};

use super::validate::{prepare, CurrentState, Prepared, Writes};
use super::{check_key_arity, Commit, Storage, StorageError, StoredCatalog};
use crate::catalog::{TableDef, ViewDef};
use crate::plan::{Diff, ObjectId};
use crate::value::{Row, Value, F64};

/// The database file inside the data directory.
const FILE_NAME: &str = "freshet.redb";

/// The on-disk format this code reads and writes.
const FORMAT: u32 = 1;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("freshet.meta");
const META_KEY: &str = "state";
const TABLES: TableDefinition<u64, &[u8]> = TableDefinition::new("freshet.tables");
const VIEWS: TableDefinition<u64, &[u8]> = TableDefinition::new("freshet.views");

type PkTable<'n> = TableDefinition<'n, &'static [u8], &'static [u8]>;
type BagTable<'n> = TableDefinition<'n, &'static [u8], u64>;

/// The meta record.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    frontier: u64,
    next_id: u64,
    /// The next creation number for a catalog object (keeps creation order).
    next_seq: u64,
}

/// An embedded, durable [`Storage`] on redb; see the module docs.
pub struct DiskStorage {
    db: Database,
    dir: PathBuf,
    catalog: StoredCatalog,
    next_seq: u64,
}

impl fmt::Debug for DiskStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskStorage")
            .field("dir", &self.dir)
            .field("frontier", &self.catalog.frontier)
            .field("tables", &self.catalog.tables.len())
            .field("views", &self.catalog.views.len())
            .finish()
    }
}

/// Maps a backend error to [`StorageError::Backend`] with context.
fn backend<E: fmt::Display>(context: &'static str) -> impl FnOnce(E) -> StorageError {
    move |e| StorageError::Backend(format!("{context}: {e}"))
}

fn pk_name(id: ObjectId) -> String {
    format!("freshet.pk.{}", id.0)
}

fn bag_name(id: ObjectId) -> String {
    format!("freshet.bag.{}", id.0)
}

/// The canonical form of a row for encoding: NaNs with one payload (the
/// sign is kept, as [`F64`]'s order distinguishes it).
fn canonical(row: &Row) -> Cow<'_, Row> {
    let odd_nan =
        |v: &Value| matches!(v, Value::Float8(F64(f)) if f.is_nan() && f.abs().to_bits() != f64::NAN.to_bits());
    if !row.iter().any(odd_nan) {
        return Cow::Borrowed(row);
    }
    Cow::Owned(
        row.iter()
            .map(|v| match v {
                Value::Float8(F64(f)) if f.is_nan() => Value::Float8(F64(f64::NAN.copysign(*f))),
                v => v.clone(),
            })
            .collect(),
    )
}

fn encode_row(row: &Row) -> Result<Vec<u8>, StorageError> {
    postcard::to_allocvec(canonical(row).as_ref()).map_err(backend("encoding a row"))
}

fn decode_row(bytes: &[u8]) -> Result<Row, StorageError> {
    postcard::from_bytes(bytes).map_err(backend("decoding a stored row"))
}

impl DiskStorage {
    /// The page cache size [`DiskStorage::open`] uses (redb's own default).
    pub const DEFAULT_CACHE_SIZE: usize = 1024 * 1024 * 1024;

    /// Opens the store in `dir`, creating the directory and an empty store
    /// if missing, with redb's default cache size ([`DiskStorage::DEFAULT_CACHE_SIZE`]).
    pub fn open(dir: impl AsRef<Path>) -> Result<DiskStorage, StorageError> {
        DiskStorage::open_with_cache_size(dir, DiskStorage::DEFAULT_CACHE_SIZE)
    }

    /// Like [`DiskStorage::open`], with at most `cache_bytes` of page cache.
    pub fn open_with_cache_size(dir: impl AsRef<Path>, cache_bytes: usize) -> Result<DiskStorage, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|e| StorageError::Backend(format!("creating data directory {}: {e}", dir.display())))?;
        let file = dir.join(FILE_NAME);
        let db = Builder::new()
            .set_cache_size(cache_bytes)
            .create(&file)
            .map_err(|e| StorageError::Backend(format!("opening {}: {e}", file.display())))?;
        initialize(&db)?;
        let (catalog, next_seq) = load_catalog(&db)?;
        Ok(DiskStorage { db, dir, catalog, next_seq })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn table_def(&self, table: ObjectId) -> Result<&TableDef, StorageError> {
        self.catalog.tables.iter().find(|t| t.id == table).ok_or(StorageError::UnknownTable(table))
    }

    /// Writes a prepared commit in one write transaction.
    fn apply(&mut self, prepared: &Prepared) -> Result<u64, StorageError> {
        let txn = self.db.begin_write().map_err(backend("starting a write transaction"))?;
        let next_seq = write_prepared(&txn, &self.catalog, prepared, self.next_seq)?;
        txn.commit().map_err(backend("committing"))?;
        Ok(next_seq)
    }
}

/// Creates the catalog tables and the meta record of a new store.
fn initialize(db: &Database) -> Result<(), StorageError> {
    let txn = db.begin_write().map_err(backend("starting a write transaction"))?;
    let fresh = {
        let mut meta = txn.open_table(META).map_err(backend("opening the meta table"))?;
        let fresh = meta.get(META_KEY).map_err(backend("reading the meta record"))?.is_none();
        if fresh {
            let m = Meta { format: FORMAT, frontier: 0, next_id: 0, next_seq: 0 };
            let bytes = postcard::to_allocvec(&m).map_err(backend("encoding the meta record"))?;
            meta.insert(META_KEY, bytes.as_slice()).map_err(backend("writing the meta record"))?;
            txn.open_table(TABLES).map_err(backend("creating the tables catalog"))?;
            txn.open_table(VIEWS).map_err(backend("creating the views catalog"))?;
        }
        fresh
    };
    if fresh {
        txn.commit().map_err(backend("committing a new store"))
    } else {
        txn.abort().map_err(backend("ending the open transaction"))
    }
}

/// Reads the catalog and the next creation number.
fn load_catalog(db: &Database) -> Result<(StoredCatalog, u64), StorageError> {
    let txn = db.begin_read().map_err(backend("starting a read transaction"))?;
    let meta_table = txn.open_table(META).map_err(backend("opening the meta table"))?;
    let bytes = meta_table
        .get(META_KEY)
        .map_err(backend("reading the meta record"))?
        .ok_or_else(|| StorageError::Backend("the meta record is missing".into()))?;
    let meta: Meta = postcard::from_bytes(bytes.value()).map_err(backend("decoding the meta record"))?;
    if meta.format != FORMAT {
        return Err(StorageError::Backend(format!(
            "unsupported store format {} (this build reads format {FORMAT})",
            meta.format
        )));
    }
    let mut tables: Vec<(u64, TableDef)> = read_objects(&txn, TABLES)?;
    let mut views: Vec<(u64, ViewDef)> = read_objects(&txn, VIEWS)?;
    tables.sort_by_key(|(seq, _)| *seq);
    views.sort_by_key(|(seq, _)| *seq);
    let catalog = StoredCatalog {
        frontier: meta.frontier,
        next_id: meta.next_id,
        tables: tables.into_iter().map(|(_, t)| t).collect(),
        views: views.into_iter().map(|(_, v)| v).collect(),
    };
    Ok((catalog, meta.next_seq))
}

/// Reads every `(creation number, definition)` of a catalog table.
fn read_objects<T: for<'de> Deserialize<'de>>(
    txn: &ReadTransaction,
    def: TableDefinition<u64, &[u8]>,
) -> Result<Vec<(u64, T)>, StorageError> {
    let table = txn.open_table(def).map_err(backend("opening a catalog table"))?;
    let mut out = Vec::new();
    for item in table.iter().map_err(backend("reading the catalog"))? {
        let (_, v) = item.map_err(backend("reading the catalog"))?;
        out.push(postcard::from_bytes(v.value()).map_err(backend("decoding a catalog object"))?);
    }
    Ok(out)
}

/// Writes `prepared` (validated against `old`) into `txn`; returns the next
/// creation number.
fn write_prepared(
    txn: &WriteTransaction,
    old: &StoredCatalog,
    prepared: &Prepared,
    mut next_seq: u64,
) -> Result<u64, StorageError> {
    let new = &prepared.catalog;

    // Row storage of dropped and created tables.
    for id in &prepared.dropped {
        let def = old.tables.iter().find(|t| t.id == *id).expect("a dropped table was in the catalog");
        let deleted = if def.primary_key.is_empty() {
            txn.delete_table(BagTable::new(&bag_name(*id)))
        } else {
            txn.delete_table(PkTable::new(&pk_name(*id)))
        }
        .map_err(backend("dropping a table"))?;
        if !deleted {
            return Err(StorageError::Backend(format!("rows of table {} are missing", id.0)));
        }
    }
    for def in &prepared.created {
        if def.primary_key.is_empty() {
            txn.open_table(BagTable::new(&bag_name(def.id))).map_err(backend("creating a table"))?;
        } else {
            txn.open_table(PkTable::new(&pk_name(def.id))).map_err(backend("creating a table"))?;
        }
    }

    // Row writes.
    for (id, writes) in &prepared.writes {
        match writes {
            Writes::Pk(w) => {
                let mut table = txn.open_table(PkTable::new(&pk_name(*id))).map_err(backend("opening a table"))?;
                for (key, row) in w {
                    let key = encode_row(key)?;
                    match row {
                        Some(row) => {
                            let row = encode_row(row)?;
                            table.insert(key.as_slice(), row.as_slice()).map_err(backend("writing a row"))?;
                        }
                        None => {
                            table.remove(key.as_slice()).map_err(backend("deleting a row"))?;
                        }
                    }
                }
            }
            Writes::Bag(w) => {
                let mut table = txn.open_table(BagTable::new(&bag_name(*id))).map_err(backend("opening a table"))?;
                for (row, count) in w {
                    let row = encode_row(row)?;
                    if *count == 0 {
                        table.remove(row.as_slice()).map_err(backend("deleting a row"))?;
                    } else {
                        table.insert(row.as_slice(), *count).map_err(backend("writing a row"))?;
                    }
                }
            }
        }
    }

    // Catalog objects: remove the dropped, add the created (in order).
    let old_ids: BTreeSet<ObjectId> = old.tables.iter().map(|t| t.id).chain(old.views.iter().map(|v| v.id)).collect();
    let new_ids: BTreeSet<ObjectId> = new.tables.iter().map(|t| t.id).chain(new.views.iter().map(|v| v.id)).collect();
    {
        let mut tables = txn.open_table(TABLES).map_err(backend("opening the tables catalog"))?;
        let mut views = txn.open_table(VIEWS).map_err(backend("opening the views catalog"))?;
        for id in old_ids.difference(&new_ids) {
            tables.remove(id.0).map_err(backend("removing a catalog object"))?;
            views.remove(id.0).map_err(backend("removing a catalog object"))?;
        }
        for t in new.tables.iter().filter(|t| !old_ids.contains(&t.id)) {
            let bytes = postcard::to_allocvec(&(next_seq, t)).map_err(backend("encoding a table definition"))?;
            next_seq += 1;
            tables.insert(t.id.0, bytes.as_slice()).map_err(backend("writing a table definition"))?;
        }
        for v in new.views.iter().filter(|v| !old_ids.contains(&v.id)) {
            let bytes = postcard::to_allocvec(&(next_seq, v)).map_err(backend("encoding a view definition"))?;
            next_seq += 1;
            views.insert(v.id.0, bytes.as_slice()).map_err(backend("writing a view definition"))?;
        }
        let meta = Meta { format: FORMAT, frontier: new.frontier, next_id: new.next_id, next_seq };
        let bytes = postcard::to_allocvec(&meta).map_err(backend("encoding the meta record"))?;
        let mut meta_table = txn.open_table(META).map_err(backend("opening the meta table"))?;
        meta_table.insert(META_KEY, bytes.as_slice()).map_err(backend("writing the meta record"))?;
    }
    Ok(next_seq)
}

/// Validation's view of the committed rows: a read transaction, with each
/// source table opened once.
struct State<'a> {
    txn: &'a ReadTransaction,
    pk: HashMap<ObjectId, ReadOnlyTable<&'static [u8], &'static [u8]>>,
    bag: HashMap<ObjectId, ReadOnlyTable<&'static [u8], u64>>,
}

impl CurrentState for State<'_> {
    fn pk_row(&mut self, table: &TableDef, key: &Row) -> Result<Option<Row>, StorageError> {
        let t = match self.pk.entry(table.id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(self.txn.open_table(PkTable::new(&pk_name(table.id))).map_err(backend("opening a table"))?)
            }
        };
        let key = encode_row(key)?;
        match t.get(key.as_slice()).map_err(backend("reading a row"))? {
            Some(v) => Ok(Some(decode_row(v.value())?)),
            None => Ok(None),
        }
    }

    fn bag_count(&mut self, table: &TableDef, row: &Row) -> Result<u64, StorageError> {
        let t = match self.bag.entry(table.id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(self.txn.open_table(BagTable::new(&bag_name(table.id))).map_err(backend("opening a table"))?)
            }
        };
        let row = encode_row(row)?;
        Ok(t.get(row.as_slice()).map_err(backend("reading a row"))?.map(|v| v.value()).unwrap_or(0))
    }
}

impl Storage for DiskStorage {
    fn catalog(&self) -> Result<StoredCatalog, StorageError> {
        Ok(self.catalog.clone())
    }

    fn scan(&self, table: ObjectId) -> Result<Vec<(Row, Diff)>, StorageError> {
        let def = self.table_def(table)?;
        let txn = self.db.begin_read().map_err(backend("starting a read transaction"))?;
        let mut out = Vec::new();
        if def.primary_key.is_empty() {
            let t = txn.open_table(BagTable::new(&bag_name(table))).map_err(backend("opening a table"))?;
            for item in t.iter().map_err(backend("scanning a table"))? {
                let (k, v) = item.map_err(backend("scanning a table"))?;
                let count = Diff::try_from(v.value())
                    .map_err(|_| StorageError::Backend(format!("table {}: stored multiplicity overflows", table.0)))?;
                out.push((decode_row(k.value())?, count));
            }
        } else {
            let t = txn.open_table(PkTable::new(&pk_name(table))).map_err(backend("opening a table"))?;
            for item in t.iter().map_err(backend("scanning a table"))? {
                let (_, v) = item.map_err(backend("scanning a table"))?;
                out.push((decode_row(v.value())?, 1));
            }
        }
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn get(&self, table: ObjectId, key: &Row) -> Result<Option<Row>, StorageError> {
        let def = self.table_def(table)?;
        if def.primary_key.is_empty() {
            return Err(StorageError::NoPrimaryKey(table));
        }
        check_key_arity(def, key)?;
        let txn = self.db.begin_read().map_err(backend("starting a read transaction"))?;
        let mut state = State { txn: &txn, pk: HashMap::new(), bag: HashMap::new() };
        state.pk_row(def, key)
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StorageError> {
        let prepared = {
            let txn = self.db.begin_read().map_err(backend("starting a read transaction"))?;
            let mut state = State { txn: &txn, pk: HashMap::new(), bag: HashMap::new() };
            prepare(&self.catalog, commit, &mut state)?
        };
        self.next_seq = self.apply(&prepared)?;
        self.catalog = prepared.catalog;
        Ok(())
    }
}
