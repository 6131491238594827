//! Rendering plans onto differential-dataflow operators (one operator per file).
