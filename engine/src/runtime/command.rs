//! Commands every worker executes, in the same order, and their responses.

use std::sync::Arc;

use crate::expr::EvalError;
use crate::plan::{Diff, ObjectId, Plan};
use crate::value::Row;

/// A unit of work for every worker. Validated by the [`Runtime`](super::Runtime)
/// before it is sent, so workers never see misuse.
#[derive(Clone, Debug)]
pub(crate) enum Command {
    /// Create an empty table.
    CreateTable(ObjectId),
    /// Drop a table no view reads.
    DropTable(ObjectId),
    /// Build a view's dataflow.
    CreateView(ObjectId, Arc<Plan>),
    /// Drop a view no view reads.
    DropView(ObjectId),
    /// Apply one transaction at the next logical time.
    Apply(Arc<Vec<(ObjectId, Row, Diff)>>),
    /// This worker's part of an object's contents.
    Read(ObjectId),
    /// The least evaluation error in this worker's part of a view's error
    /// arrangement (answered as `Contents` with no rows).
    ReadError(ObjectId),
    /// Evaluate a plan once over the tables plus uncommitted changes.
    Query(Arc<Plan>, Arc<Vec<(ObjectId, Row, Diff)>>),
    /// Start (or stop) collecting a view's diffs; starting answers with the
    /// current contents, like `Read`.
    Capture(ObjectId, bool),
}

/// A worker's answer to a [`Command`].
#[derive(Debug)]
pub(crate) enum Response {
    /// Done, nothing to report.
    Done,
    /// `Apply` done: the diffs of every capturing view at the new time.
    Applied(Vec<(ObjectId, Vec<(Row, Diff)>)>),
    /// Rows (this worker's part) and the least evaluation error, if any.
    Contents(Vec<(Row, Diff)>, Option<EvalError>),
    /// The command failed on this worker.
    Failed(String),
}
