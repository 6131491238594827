//! Catalog objects: tables and views as the engine and storage know them.

use serde::{Deserialize, Serialize};

use crate::plan::ObjectId;
use crate::value::DataType;

/// A column of a table or view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name (already case-folded as SQL identifiers are).
    pub name: String,
    /// Its type, with modifier.
    pub ty: DataType,
    /// False for `NOT NULL` (and primary key) columns.
    pub nullable: bool,
}

/// A source table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    /// Its id, never reused.
    pub id: ObjectId,
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// Primary key column positions; empty if the table has none (a bag).
    pub primary_key: Vec<usize>,
}

/// A materialized view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewDef {
    /// Its id, never reused.
    pub id: ObjectId,
    /// Its name.
    pub name: String,
    /// The defining query, as written (recompiled on open).
    pub sql: String,
    /// Its output columns.
    pub columns: Vec<Column>,
}
