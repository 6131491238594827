//! `Negate`: every multiplicity negated (for EXCEPT-style differences).
//!
//! Stateless: O(1) per change. Errors pass through unnegated: an error
//! raised below a negation is still an error of the query.

use super::Rendered;

/// Renders the negation of `input`.
pub(crate) fn build_negate(input: Rendered<'_>) -> Rendered<'_> {
    Rendered { ok: input.ok.negate(), err: input.err }
}
