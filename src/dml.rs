//! Row changes: validating them against a table's constraints and keeping
//! the uncommitted changes of an open transaction.
//!
//! A table's current contents are what storage holds plus the open
//! transaction's net changes ([`Pending`]). Every statement's changes are
//! checked (column count, types, NOT NULL, primary key) against that state
//! before anything is recorded, so a failed statement leaves no trace.
//! Uniqueness is checked at the end of the statement (all of its
//! retractions first, then its insertions), as the SQL standard specifies.

use std::collections::BTreeMap;

use freshet_engine::catalog::TableDef;
use freshet_engine::storage::Storage;
use freshet_engine::{DataType, Diff, ObjectId, Row, Value};

use crate::error::{Constraint, Error};

/// Net uncommitted changes per table, by row.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) tables: BTreeMap<ObjectId, BTreeMap<Row, Diff>>,
}

impl Pending {
    /// All changes as `(table, row, diff)`, consolidated.
    pub(crate) fn changes(&self) -> Vec<(ObjectId, Row, Diff)> {
        let mut out = Vec::new();
        for (&t, rows) in &self.tables {
            for (r, &d) in rows {
                if d != 0 {
                    out.push((t, r.clone(), d));
                }
            }
        }
        out
    }

    /// Adds changes to the pending set, dropping rows whose net change is 0.
    pub(crate) fn add(&mut self, changes: &[(ObjectId, Row, Diff)]) {
        for (t, r, d) in changes {
            let rows = self.tables.entry(*t).or_default();
            let e = rows.entry(r.clone()).or_insert(0);
            *e += d;
            if *e == 0 {
                rows.remove(r);
            }
        }
    }
}

/// A table's contents as a statement sees them: storage, plus pending
/// changes, plus the statement's own changes so far. Lookups by row and by
/// primary key are O(log n); nothing scans the table per changed row.
pub(crate) struct TableState<'a> {
    storage: &'a dyn Storage,
    table: &'a TableDef,
    pending: Option<&'a BTreeMap<Row, Diff>>,
    /// Net pending rows per primary key (PK tables only).
    pending_keys: BTreeMap<Row, Diff>,
    /// This statement's net changes.
    local: BTreeMap<Row, Diff>,
    /// This statement's net rows per primary key.
    local_keys: BTreeMap<Row, Diff>,
}

impl<'a> TableState<'a> {
    pub(crate) fn new(storage: &'a dyn Storage, table: &'a TableDef, pending: &'a Pending) -> Self {
        let pending = pending.tables.get(&table.id);
        let mut pending_keys = BTreeMap::new();
        if !table.primary_key.is_empty() {
            for (r, d) in pending.into_iter().flatten() {
                *pending_keys.entry(r.project(&table.primary_key)).or_insert(0) += d;
            }
        }
        TableState { storage, table, pending, pending_keys, local: BTreeMap::new(), local_keys: BTreeMap::new() }
    }

    /// Every row with its multiplicity (> 0), including uncommitted changes.
    pub(crate) fn scan(&self) -> Result<Vec<(Row, Diff)>, Error> {
        let mut rows: BTreeMap<Row, Diff> = self.storage.scan(self.table.id)?.into_iter().collect();
        for delta in self.pending.into_iter().chain(std::iter::once(&self.local)) {
            for (r, d) in delta {
                *rows.entry(r.clone()).or_insert(0) += d;
            }
        }
        Ok(rows.into_iter().filter(|(_, d)| *d > 0).collect())
    }

    fn key_of(&self, row: &Row) -> Row {
        row.project(&self.table.primary_key)
    }

    fn delta_of(&self, row: &Row) -> Diff {
        self.pending.and_then(|p| p.get(row)).copied().unwrap_or(0) + self.local.get(row).copied().unwrap_or(0)
    }

    /// The current number of rows with this primary key.
    fn rows_with_key(&self, key: &Row) -> Result<Diff, Error> {
        let stored: Diff = self.storage.get(self.table.id, key)?.is_some().into();
        Ok(stored
            + self.pending_keys.get(key).copied().unwrap_or(0)
            + self.local_keys.get(key).copied().unwrap_or(0))
    }

    fn record(&mut self, row: &Row, diff: Diff) {
        *self.local.entry(row.clone()).or_insert(0) += diff;
        if !self.table.primary_key.is_empty() {
            *self.local_keys.entry(self.key_of(row)).or_insert(0) += diff;
        }
    }

    /// Checks and records a statement's changes: retractions first, then
    /// insertions (types, NOT NULL, primary key). `retractions_checked`
    /// says the retracted rows come from a scan of this state (UPDATE,
    /// DELETE) and need no existence check. Returns the net changes.
    pub(crate) fn change(
        mut self,
        retract: Vec<(Row, Diff)>,
        insert: Vec<(Row, Diff)>,
        retractions_checked: bool,
    ) -> Result<Vec<(ObjectId, Row, Diff)>, Error> {
        if !retractions_checked && !retract.is_empty() {
            let bag: Option<BTreeMap<Row, Diff>> = if self.table.primary_key.is_empty() {
                Some(self.storage.scan(self.table.id)?.into_iter().collect())
            } else {
                None
            };
            let mut wanted: BTreeMap<&Row, Diff> = BTreeMap::new();
            for (row, n) in &retract {
                *wanted.entry(row).or_insert(0) += n;
            }
            for (row, n) in wanted {
                let stored = match &bag {
                    Some(rows) => rows.get(row).copied().unwrap_or(0),
                    None => match self.storage.get(self.table.id, &self.key_of(row))? {
                        Some(r) if &r == row => 1,
                        _ => 0,
                    },
                };
                if stored + self.delta_of(row) < n {
                    return Err(Error::Usage(format!(
                        "cannot delete {n} copies of a row of table \"{}\" that holds fewer: {row:?}",
                        self.table.name
                    )));
                }
            }
        }
        for (row, n) in &retract {
            self.record(row, -n);
        }
        for (row, n) in &insert {
            check_row(self.table, row)?;
            if !self.table.primary_key.is_empty() {
                let key = self.key_of(row);
                if *n > 1 || self.rows_with_key(&key)? > 0 {
                    return Err(duplicate_key(self.table, &key));
                }
            }
            self.record(row, *n);
        }
        let id = self.table.id;
        Ok(self.local.into_iter().filter(|(_, d)| *d != 0).map(|(r, d)| (id, r, d)).collect())
    }
}

/// `duplicate key value violates unique constraint "t_pkey"`.
fn duplicate_key(table: &TableDef, key: &Row) -> Error {
    let cols: Vec<&str> = table.primary_key.iter().map(|&c| table.columns[c].name.as_str()).collect();
    let vals: Vec<String> = key.iter().map(|v| v.to_string()).collect();
    Error::Constraint(Constraint {
        message: format!("duplicate key value violates unique constraint \"{}_pkey\"", table.name),
        detail: Some(format!("Key ({})=({}) already exists.", cols.join(", "), vals.join(", "))),
    })
}

/// Checks a row's arity, value types and NOT NULL constraints.
pub(crate) fn check_row(table: &TableDef, row: &Row) -> Result<(), Error> {
    if row.len() != table.columns.len() {
        return Err(Error::Usage(format!(
            "table \"{}\" has {} columns, a row has {} values",
            table.name,
            table.columns.len(),
            row.len()
        )));
    }
    for (v, c) in row.iter().zip(&table.columns) {
        if v.is_null() {
            if !c.nullable {
                return Err(Error::Constraint(Constraint {
                    message: format!(
                        "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                        c.name, table.name
                    ),
                    detail: None,
                }));
            }
        } else if !value_fits(v, c.ty) {
            return Err(Error::Usage(format!(
                "value {v:?} does not have the type {} of column \"{}\" of table \"{}\"",
                c.ty, c.name, table.name
            )));
        }
    }
    Ok(())
}

/// Whether a non-NULL value is of a type's variant.
fn value_fits(v: &Value, ty: DataType) -> bool {
    matches!(
        (v, ty),
        (Value::Bool(_), DataType::Bool)
            | (Value::Int2(_), DataType::Int2)
            | (Value::Int4(_), DataType::Int4)
            | (Value::Int8(_), DataType::Int8)
            | (Value::Numeric(_), DataType::Numeric(_))
            | (Value::Float8(_), DataType::Float8)
            | (Value::Text(_), DataType::Text | DataType::Varchar(_) | DataType::Char(_))
            | (Value::Date(_), DataType::Date)
            | (Value::Timestamp(_), DataType::Timestamp)
            | (Value::TimestampTz(_), DataType::TimestampTz)
            | (Value::Interval(_), DataType::Interval)
            | (Value::Uuid(_), DataType::Uuid)
            | (Value::Bytea(_), DataType::Bytea)
    )
}
