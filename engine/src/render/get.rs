//! `Get`: the contents of a table or view.
//!
//! The source's arrangement (kept by the runtime) is imported into the
//! view's dataflow at its current compaction frontier; the import replays
//! the current contents once and then forwards each new batch. No state of
//! its own: O(1) per change.

use super::{Context, Rendered};
use crate::error::EngineError;
use crate::plan::Get;

/// Renders a read of `get.id`.
pub(crate) fn build_get<'s>(ctx: &Context<'s>, get: &Get) -> Result<Rendered<'s>, EngineError> {
    ctx.sources.get(&get.id).cloned().ok_or(EngineError::UnknownObject(get.id))
}
