//! `Union`: bag union (`UNION ALL`).
//!
//! Concatenates the inputs' rows and errors. Stateless: O(1) per change.

use differential_dataflow::collection::concatenate;

use super::{Context, Errs, Rendered};

/// Renders the bag union of `inputs`.
pub(crate) fn build_union<'s>(ctx: &Context<'s>, inputs: Vec<Rendered<'s>>) -> Rendered<'s> {
    let (oks, errs): (Vec<_>, Vec<_>) = inputs.into_iter().map(|r| (r.ok, r.err)).unzip();
    let err = errs.into_iter().fold(Errs::none(), Errs::concat);
    Rendered { ok: concatenate(ctx.scope, oks), err }
}
