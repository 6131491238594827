//! Commit validation shared by every backend.
//!
//! [`prepare`] checks a [`Commit`] against the store's catalog and a
//! read-only view of its current rows ([`CurrentState`]) and, if the commit
//! meets the contract, returns a [`Prepared`] commit: the catalog after the
//! commit, the tables to create and drop, and the *net* row writes per table
//! (the final row of each touched primary key, the final count of each
//! touched bag row). A backend applies a `Prepared` commit without further
//! checks, so every backend accepts and refuses exactly the same commits and
//! reaches exactly the same state.
//!
//! Row changes are netted per table before checking: `(t, r, -1)` and
//! `(t, r, +1)` in one commit cancel out even when `r` is absent, and
//! primary-key uniqueness is checked on the state after the whole commit,
//! as the contract requires.

use std::collections::{BTreeMap, BTreeSet};

use super::{CatalogChange, Commit, StorageError, StoredCatalog};
use crate::catalog::TableDef;
use crate::plan::ObjectId;
use crate::value::Row;

/// Read access to a store's committed rows, as validation needs them.
///
/// Only tables that exist before the commit is applied are asked about.
pub(crate) trait CurrentState {
    /// The row of primary-key table `table` whose key columns equal `key`.
    fn pk_row(&mut self, table: &TableDef, key: &Row) -> Result<Option<Row>, StorageError>;
    /// The multiplicity of `row` in bag table `table` (0 if absent).
    fn bag_count(&mut self, table: &TableDef, row: &Row) -> Result<u64, StorageError>;
}

/// The net writes of a commit to one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Writes {
    /// Primary-key table: key → the row after the commit (`None`: deleted).
    Pk(BTreeMap<Row, Option<Row>>),
    /// Bag table: row → its multiplicity after the commit (0: deleted).
    Bag(BTreeMap<Row, u64>),
}

/// A validated commit, ready to be applied.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// The catalog after the commit.
    pub catalog: StoredCatalog,
    /// Tables that existed before the commit and do not after it: their
    /// rows must be removed.
    pub dropped: Vec<ObjectId>,
    /// Tables that did not exist before the commit and do after it: their
    /// (empty) row storage must be created. Writes to them may follow.
    pub created: Vec<TableDef>,
    /// Net row writes, per table (every table here exists after the commit).
    pub writes: BTreeMap<ObjectId, Writes>,
}

fn invalid(msg: String) -> StorageError {
    StorageError::InvalidCommit(msg)
}

/// Checks `commit` against `catalog` and `state`; see the module docs.
pub(crate) fn prepare(
    catalog: &StoredCatalog,
    commit: &Commit,
    state: &mut dyn CurrentState,
) -> Result<Prepared, StorageError> {
    if commit.frontier <= catalog.frontier {
        return Err(invalid(format!(
            "frontier {} does not advance past the store's frontier {}",
            commit.frontier, catalog.frontier
        )));
    }
    if commit.next_id < catalog.next_id {
        return Err(invalid(format!("next_id {} is below the store's next_id {}", commit.next_id, catalog.next_id)));
    }

    let mut next = StoredCatalog {
        frontier: commit.frontier,
        next_id: commit.next_id,
        tables: catalog.tables.clone(),
        views: catalog.views.clone(),
    };
    for change in &commit.catalog {
        apply_catalog_change(&mut next, catalog.next_id, change)?;
    }

    let before: BTreeSet<ObjectId> = catalog.tables.iter().map(|t| t.id).collect();
    let after: BTreeMap<ObjectId, &TableDef> = next.tables.iter().map(|t| (t.id, t)).collect();
    let dropped: Vec<ObjectId> = catalog.tables.iter().map(|t| t.id).filter(|id| !after.contains_key(id)).collect();
    let created: Vec<TableDef> = next.tables.iter().filter(|t| !before.contains(&t.id)).cloned().collect();

    // Net the row changes per table and row.
    let mut net: BTreeMap<ObjectId, BTreeMap<Row, i128>> = BTreeMap::new();
    for (table, row, diff) in &commit.rows {
        let Some(def) = after.get(table) else {
            return Err(invalid(format!("row change for unknown table {}", table.0)));
        };
        if row.len() != def.columns.len() {
            return Err(invalid(format!(
                "row {row:?} has {} values but table {} ({}) has {} columns",
                row.len(),
                def.id.0,
                def.name,
                def.columns.len()
            )));
        }
        if *diff == 0 {
            continue;
        }
        *net.entry(*table).or_default().entry(row.clone()).or_insert(0) += i128::from(*diff);
    }

    let mut writes = BTreeMap::new();
    for (table, rows) in net {
        let def = after[&table];
        let existed = before.contains(&table);
        let w = if def.primary_key.is_empty() {
            bag_writes(def, existed, rows, state)?
        } else {
            pk_writes(def, existed, rows, state)?
        };
        if let Some(w) = w {
            writes.insert(table, w);
        }
    }

    Ok(Prepared { catalog: next, dropped, created, writes })
}

/// Applies one catalog change to `next`, checking it. `first_new_id` is the
/// store's `next_id` before the commit: new objects take ids from there up
/// to the commit's `next_id`, so ids are never reused.
fn apply_catalog_change(
    next: &mut StoredCatalog,
    first_new_id: u64,
    change: &CatalogChange,
) -> Result<(), StorageError> {
    let check_new_id = |next: &StoredCatalog, id: ObjectId| -> Result<(), StorageError> {
        if next.tables.iter().any(|t| t.id == id) || next.views.iter().any(|v| v.id == id) {
            return Err(invalid(format!("object {} already exists", id.0)));
        }
        if id.0 < first_new_id || id.0 >= next.next_id {
            return Err(invalid(format!(
                "new object id {} is outside the unused range {}..{}",
                id.0, first_new_id, next.next_id
            )));
        }
        Ok(())
    };
    match change {
        CatalogChange::CreateTable(def) => {
            check_new_id(next, def.id)?;
            let mut seen = BTreeSet::new();
            for &c in &def.primary_key {
                if c >= def.columns.len() || !seen.insert(c) {
                    return Err(invalid(format!(
                        "table {} ({}): invalid primary key columns {:?} for {} columns",
                        def.id.0,
                        def.name,
                        def.primary_key,
                        def.columns.len()
                    )));
                }
            }
            next.tables.push(def.clone());
        }
        CatalogChange::CreateView(def) => {
            check_new_id(next, def.id)?;
            next.views.push(def.clone());
        }
        CatalogChange::DropTable(id) => {
            let Some(pos) = next.tables.iter().position(|t| t.id == *id) else {
                return Err(invalid(format!("drop of unknown table {}", id.0)));
            };
            next.tables.remove(pos);
        }
        CatalogChange::DropView(id) => {
            let Some(pos) = next.views.iter().position(|v| v.id == *id) else {
                return Err(invalid(format!("drop of unknown view {}", id.0)));
            };
            next.views.remove(pos);
        }
    }
    Ok(())
}

/// Net writes to a bag table; `None` if nothing changes.
fn bag_writes(
    def: &TableDef,
    existed: bool,
    rows: BTreeMap<Row, i128>,
    state: &mut dyn CurrentState,
) -> Result<Option<Writes>, StorageError> {
    let mut out = BTreeMap::new();
    for (row, diff) in rows {
        if diff == 0 {
            continue;
        }
        let old = if existed { state.bag_count(def, &row)? } else { 0 };
        let new = i128::from(old) + diff;
        if new < 0 {
            return Err(invalid(format!(
                "table {} ({}): retracting {} copies of row {row:?} but {old} present",
                def.id.0, def.name, -diff
            )));
        }
        // Multiplicities are reported as `Diff` (i64).
        if new > i128::from(i64::MAX) {
            return Err(invalid(format!("table {} ({}): multiplicity of row {row:?} overflows", def.id.0, def.name)));
        }
        out.insert(row, new as u64);
    }
    Ok((!out.is_empty()).then_some(Writes::Bag(out)))
}

/// Net writes to a primary-key table; `None` if nothing changes.
fn pk_writes(
    def: &TableDef,
    existed: bool,
    rows: BTreeMap<Row, i128>,
    state: &mut dyn CurrentState,
) -> Result<Option<Writes>, StorageError> {
    // Group the netted rows by key.
    let mut by_key: BTreeMap<Row, Vec<(Row, i128)>> = BTreeMap::new();
    for (row, diff) in rows {
        if diff != 0 {
            by_key.entry(row.project(&def.primary_key)).or_default().push((row, diff));
        }
    }
    let mut out = BTreeMap::new();
    for (key, mut changes) in by_key {
        let old = if existed { state.pk_row(def, &key)? } else { None };
        if let Some(old_row) = &old {
            match changes.iter_mut().find(|(r, _)| r == old_row) {
                Some((_, d)) => *d += 1,
                None => changes.push((old_row.clone(), 1)),
            }
        }
        let mut new = None;
        for (row, count) in changes {
            if count < 0 {
                return Err(invalid(format!(
                    "table {} ({}): retracting row {row:?} which is not present",
                    def.id.0, def.name
                )));
            }
            if count == 0 {
                continue;
            }
            if count > 1 || new.is_some() {
                return Err(invalid(format!(
                    "table {} ({}): more than one row with primary key {key:?} after the commit",
                    def.id.0, def.name
                )));
            }
            new = Some(row);
        }
        if new != old {
            out.insert(key, new);
        }
    }
    Ok((!out.is_empty()).then_some(Writes::Pk(out)))
}
