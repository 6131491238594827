//! Subscriptions to a view's changes.

use std::sync::mpsc::Receiver;

use crate::plan::Diff;
use crate::value::Row;

/// The changes of a view at one logical time: consolidated (each row once,
/// no zero multiplicities) and sorted by row. The first update of a
/// subscription holds the view's whole contents at the time it was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewUpdate {
    /// The logical time the changes happened at.
    pub time: u64,
    /// `(row, multiplicity change)`.
    pub diffs: Vec<(Row, Diff)>,
}

/// A stream of [`ViewUpdate`]s: the view's contents when subscribed, then
/// one update per applied transaction (possibly with no diffs). It ends when
/// the view or the runtime is dropped.
#[derive(Debug)]
pub struct Subscription {
    pub(crate) rx: Receiver<ViewUpdate>,
}

impl Subscription {
    /// The next update, waiting for it; `None` once the stream has ended.
    /// Updates are produced by the runtime's methods, so waiting only makes
    /// sense from another thread than the one driving the runtime.
    pub fn recv(&self) -> Option<ViewUpdate> {
        self.rx.recv().ok()
    }

    /// The next update if one is pending.
    pub fn try_recv(&self) -> Option<ViewUpdate> {
        self.rx.try_recv().ok()
    }

    /// Every pending update, without waiting.
    pub fn iter(&self) -> impl Iterator<Item = ViewUpdate> + '_ {
        self.rx.try_iter()
    }
}
