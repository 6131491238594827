//! `Distinct`: every row with positive multiplicity, once.
//!
//! Arranges its input by row: O(1) amortised per change (one arrangement
//! lookup per changed row); memory proportional to the distinct input rows.

use super::Rendered;
use crate::plan::Diff;

/// Renders duplicate elimination over `input`.
pub(crate) fn build_distinct(input: Rendered<'_>) -> Rendered<'_> {
    let ok = input.ok.threshold(|_row, count: &Diff| if *count > 0 { 1 } else { 0 });
    Rendered { ok, err: input.err }
}
