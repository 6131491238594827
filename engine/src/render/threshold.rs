//! `Threshold`: rows with positive multiplicity keep it, others vanish.
//!
//! Arranges its input by row: O(1) amortised per change (one arrangement
//! lookup per changed row); memory proportional to the distinct input rows.

use super::Rendered;
use crate::plan::Diff;

/// Renders the threshold of `input`.
pub(crate) fn build_threshold(input: Rendered<'_>) -> Rendered<'_> {
    let ok = input.ok.threshold(|_row, count: &Diff| if *count > 0 { *count } else { 0 });
    Rendered { ok, err: input.err }
}
