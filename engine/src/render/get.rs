//! `Get`: the contents of a table or view.
//!
//! The source's arrangement (kept by the runtime) is imported into the
//! view's dataflow at its current compaction frontier; the import replays
//! the current contents once and then forwards each new batch. No state of
//! its own: O(1) per change. Operators that read a source directly (a
//! join's keying, say) read the arranged batches themselves instead.

use super::{Context, Rendered};
use crate::error::EngineError;
use crate::plan::Get;

/// Renders a read of `get.id`.
pub(crate) fn build_get<'s>(ctx: &Context<'s>, get: &Get) -> Result<Rendered<'s>, EngineError> {
    let source = ctx.sources.get(&get.id).ok_or(EngineError::UnknownObject(get.id))?;
    Ok(Rendered { ok: source.collection()?, err: source.err.clone() })
}
