//! [`Row`]: the data type of every collection.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Value;

/// An immutable sequence of values. Cloning is O(1) (shared), comparison and
/// hashing are by content, so rows serve directly as dataflow data and keys.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Row(Arc<[Value]>);

impl Row {
    /// The empty row (the key of a global aggregate).
    pub fn empty() -> Row {
        Row(Arc::from(Vec::new()))
    }

    /// A row from its values.
    pub fn new(values: Vec<Value>) -> Row {
        Row(Arc::from(values))
    }

    /// The values of the row.
    pub fn values(&self) -> &[Value] {
        &self.0
    }

    /// A new row holding the values at `columns`, in that order.
    pub fn project(&self, columns: &[usize]) -> Row {
        columns.iter().map(|&c| self.0[c].clone()).collect()
    }

    /// This row's values followed by `other`'s.
    pub fn concat(&self, other: &Row) -> Row {
        self.0.iter().chain(other.0.iter()).cloned().collect()
    }
}

impl Deref for Row {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        &self.0
    }
}

impl From<Vec<Value>> for Row {
    fn from(v: Vec<Value>) -> Row {
        Row::new(v)
    }
}

impl FromIterator<Value> for Row {
    /// One allocation when the iterator's length is known exactly (a
    /// mapped slice, say); otherwise the values are gathered first.
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Row {
        Row(iter.into_iter().collect())
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}
