//! `Constant`: fixed rows.
//!
//! The rows enter once, at the beginning of time, on worker 0; the
//! collection never changes afterwards. Memory: the rows themselves, until
//! a downstream operator consumes them.

use differential_dataflow::AsCollection;
use timely::dataflow::operators::vec::ToStream;

use super::{Context, Errs, Rendered, Time};
use crate::plan::{Constant, Diff};
use crate::value::Row;

/// Renders fixed rows.
pub(crate) fn build_constant<'s>(ctx: &Context<'s>, constant: &Constant) -> Rendered<'s> {
    let rows: Vec<(Row, Time, Diff)> = if ctx.worker_index == 0 {
        constant.rows.iter().map(|(r, d)| (r.clone(), 0, *d)).collect()
    } else {
        Vec::new()
    };
    Rendered { ok: rows.to_stream(ctx.scope).as_collection(), err: Errs::none() }
}
