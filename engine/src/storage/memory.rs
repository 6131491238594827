//! [`MemoryStorage`]: the in-memory backend, for tests and embedding.
//!
//! **Cost.** A primary-key table is a hash map from key to row: each row
//! is held once, plus its key (a [`Row`] of the key columns' values; text and
//! bytea values share their buffers with the row). A bag table is a hash
//! map from row to a `u64` multiplicity, so duplicates cost one entry. The
//! catalog is a plain [`StoredCatalog`]. [`Storage::get`] and each write of a
//! commit are O(1) expected: one hash of the key and, typically, one
//! comparison, where an ordered map would compare the key with a
//! logarithmic number of rows scattered in memory. [`Storage::scan`] is
//! O(n log n): it sorts the rows into row order.
//!
//! **Durability.** None: the contents live as long as the value. Commits are
//! atomic: a commit is fully validated before anything is changed, and the
//! apply step cannot fail, so a refused commit leaves the store as it was.

use std::collections::HashMap;

use super::validate::{prepare, CurrentState, Writes};
use super::{Commit, Storage, StorageError, StoredCatalog};
use crate::catalog::TableDef;
use crate::plan::{Diff, ObjectId};
use crate::value::Row;

/// The rows of one table.
#[derive(Clone, Debug)]
enum TableData {
    /// Key → row.
    Pk(HashMap<Row, Row>),
    /// Row → multiplicity (> 0).
    Bag(HashMap<Row, u64>),
}

/// An in-memory [`Storage`]; see the module docs for its costs.
#[derive(Clone, Debug, Default)]
pub struct MemoryStorage {
    catalog: StoredCatalog,
    tables: HashMap<ObjectId, TableData>,
}

impl MemoryStorage {
    /// An empty store (frontier 0, no objects).
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    fn table(&self, table: ObjectId) -> Result<(&TableDef, &TableData), StorageError> {
        let def = self.catalog.tables.iter().find(|t| t.id == table).ok_or(StorageError::UnknownTable(table))?;
        let data = self
            .tables
            .get(&table)
            .ok_or_else(|| StorageError::Backend(format!("rows of table {} are missing", table.0)))?;
        Ok((def, data))
    }
}

/// Validation's view of the committed rows.
struct State<'a>(&'a HashMap<ObjectId, TableData>);

impl CurrentState for State<'_> {
    fn pk_row(&mut self, table: &TableDef, key: &Row) -> Result<Option<Row>, StorageError> {
        match self.0.get(&table.id) {
            Some(TableData::Pk(rows)) => Ok(rows.get(key).cloned()),
            _ => Err(StorageError::Backend(format!("rows of table {} are missing", table.id.0))),
        }
    }

    fn bag_count(&mut self, table: &TableDef, row: &Row) -> Result<u64, StorageError> {
        match self.0.get(&table.id) {
            Some(TableData::Bag(rows)) => Ok(rows.get(row).copied().unwrap_or(0)),
            _ => Err(StorageError::Backend(format!("rows of table {} are missing", table.id.0))),
        }
    }
}

impl Storage for MemoryStorage {
    fn catalog(&self) -> Result<StoredCatalog, StorageError> {
        Ok(self.catalog.clone())
    }

    fn scan(&self, table: ObjectId) -> Result<Vec<(Row, Diff)>, StorageError> {
        let (_, data) = self.table(table)?;
        let mut out: Vec<(Row, Diff)> = match data {
            TableData::Pk(rows) => rows.values().map(|r| (r.clone(), 1)).collect(),
            // Counts are kept within i64 by validation.
            TableData::Bag(rows) => rows.iter().map(|(r, &n)| (r.clone(), n as Diff)).collect(),
        };
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn get(&self, table: ObjectId, key: &Row) -> Result<Option<Row>, StorageError> {
        let (def, data) = self.table(table)?;
        match data {
            TableData::Pk(rows) => {
                super::check_key_arity(def, key)?;
                Ok(rows.get(key).cloned())
            }
            TableData::Bag(_) => Err(StorageError::NoPrimaryKey(table)),
        }
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StorageError> {
        let prepared = prepare(&self.catalog, commit, &mut State(&self.tables))?;
        for id in &prepared.dropped {
            self.tables.remove(id);
        }
        for def in &prepared.created {
            let data = if def.primary_key.is_empty() {
                TableData::Bag(HashMap::new())
            } else {
                TableData::Pk(HashMap::new())
            };
            self.tables.insert(def.id, data);
        }
        for (id, writes) in prepared.writes {
            match (self.tables.get_mut(&id), writes) {
                (Some(TableData::Pk(rows)), Writes::Pk(w)) => {
                    for (key, row) in w {
                        match row {
                            Some(row) => rows.insert(key, row),
                            None => rows.remove(&key),
                        };
                    }
                }
                (Some(TableData::Bag(rows)), Writes::Bag(w)) => {
                    for (row, count) in w {
                        if count == 0 {
                            rows.remove(&row);
                        } else {
                            rows.insert(row, count);
                        }
                    }
                }
                // `prepare` only writes to tables that exist after the commit,
                // with the writes matching the table's kind.
                _ => unreachable!("prepared writes to table {} do not match its storage", id.0),
            }
        }
        self.catalog = prepared.catalog;
        Ok(())
    }
}
