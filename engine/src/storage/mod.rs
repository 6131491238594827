//! The storage trait: where source tables and the catalog live durably.
//!
//! The engine's dataflow state is derived; a [`Storage`] is the source of
//! truth. The contract every backend meets (checked by the conformance
//! tests in `storage/conformance.rs`, run against each backend):
//!
//! 1. [`Storage::commit`] is atomic and durable: after it returns, a
//!    reopened store shows the whole commit; if it fails, a reopened store
//!    shows none of it; if the process dies while it runs, a reopened store
//!    shows all of it or none of it, never a part.
//! 2. Commits are totally ordered; [`StoredCatalog::frontier`] is the
//!    frontier of the last commit, and commits carry strictly increasing
//!    frontiers.
//! 3. Tables with a primary key hold at most one row per key; a table
//!    without one is a bag (a row may appear several times).
//! 4. A commit's row changes refer to tables that exist after its catalog
//!    changes are applied; retracting a row that is not there is an error
//!    and the whole commit is refused.
//! 5. Dropping a table drops its rows.
//!
//! Commits are also refused when a new object's id is not in the unused
//! range (from the store's `next_id` up to the commit's, so ids are never
//! reused), `next_id` decreases, a primary key names a column twice or a
//! column that does not exist, or a row's arity is not its table's. Row
//! changes are netted per row before checking (a retraction and an
//! insertion of the same row in one commit cancel out).
//!
//! Backends: [`MemoryStorage`] (in memory, for tests and embedding) and
//! [`DiskStorage`] (an embedded redb database in a data directory). Both
//! check commits with the same validation code (`validate.rs`), so they
//! accept and refuse exactly the same commits.

#[cfg(test)]
mod conformance;
mod disk;
mod memory;
mod validate;

pub use disk::DiskStorage;
pub use memory::MemoryStorage;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::catalog::{TableDef, ViewDef};
use crate::plan::{Diff, ObjectId};
use crate::value::Row;

/// What a store holds about the catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCatalog {
    /// The frontier of the last commit (0 for a new store).
    pub frontier: u64,
    /// The next unused object id.
    pub next_id: u64,
    /// Tables, in creation order.
    pub tables: Vec<TableDef>,
    /// Views, in creation order (a view only reads objects created before it).
    pub views: Vec<ViewDef>,
}

/// A change to the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogChange {
    /// A new table (empty).
    CreateTable(TableDef),
    /// A table and its rows removed.
    DropTable(ObjectId),
    /// A new view.
    CreateView(ViewDef),
    /// A view removed.
    DropView(ObjectId),
}

/// One atomic unit: catalog changes, then row changes, at a new frontier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The frontier after this commit; greater than the store's.
    pub frontier: u64,
    /// The next unused object id after this commit.
    pub next_id: u64,
    /// Catalog changes, applied in order before the row changes.
    pub catalog: Vec<CatalogChange>,
    /// Row changes: `(table, row, diff)`; a table's PK uniqueness holds after
    /// the whole commit is applied.
    pub rows: Vec<(ObjectId, Row, Diff)>,
}

/// A storage failure.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The commit breaks the contract (unknown table, negative count, PK
    /// violation, non-increasing frontier); nothing was applied.
    #[error("invalid commit: {0}")]
    InvalidCommit(String),
    /// The backend failed (I/O, corruption).
    #[error("storage backend: {0}")]
    Backend(String),
    /// [`Storage::scan`] or [`Storage::get`] named a table the store does not
    /// hold.
    #[error("unknown table {}", .0 .0)]
    UnknownTable(ObjectId),
    /// [`Storage::get`] on a table without a primary key.
    #[error("table {} has no primary key", .0 .0)]
    NoPrimaryKey(ObjectId),
    /// [`Storage::get`] with a key whose arity is not the primary key's.
    #[error("table {} has a {expected}-column primary key, got a key of {got} values", .table.0)]
    KeyArity {
        /// The table.
        table: ObjectId,
        /// The number of primary key columns.
        expected: usize,
        /// The number of values in the key given.
        got: usize,
    },
}

/// Checks that `key` has as many values as `table`'s primary key.
fn check_key_arity(table: &TableDef, key: &Row) -> Result<(), StorageError> {
    if key.len() == table.primary_key.len() {
        Ok(())
    } else {
        Err(StorageError::KeyArity { table: table.id, expected: table.primary_key.len(), got: key.len() })
    }
}

/// A durable home for the catalog and the source tables.
pub trait Storage: Send {
    /// The catalog as of the last commit.
    fn catalog(&self) -> Result<StoredCatalog, StorageError>;
    /// Every row of a table with its multiplicity (> 0), in row order.
    fn scan(&self, table: ObjectId) -> Result<Vec<(Row, Diff)>, StorageError>;
    /// The row of a primary-key table whose key columns equal `key`.
    fn get(&self, table: ObjectId, key: &Row) -> Result<Option<Row>, StorageError>;
    /// Applies a commit atomically and durably (see the module contract).
    fn commit(&mut self, commit: &Commit) -> Result<(), StorageError>;
}
