//! TPC-H for freshet: the schema, data generated with `tpchgen`, the 22
//! queries, refresh streams, and loading both freshet and PostgreSQL, so
//! that every query maintained as a view can be compared with
//! PostgreSQL's answer after every round of changes (`tests/tests/tpch.rs`)
//! and timed against `REFRESH MATERIALIZED VIEW` (`freshet-bench tpch`).

pub mod data;
pub mod embedded;
pub mod postgres;
pub mod queries;
pub mod refresh;
pub mod schema;

pub use data::{Data, TableData};
pub use queries::{query, Query, QUERIES};
pub use refresh::{RefreshStream, Round};
pub use schema::{Table, TABLES};

/// One result row as text, `None` for NULL.
pub type TextRow = Vec<Option<String>>;

/// Compares two results as multisets of rows. `Err` describes the
/// difference: the counts and up to `show` rows missing from `actual` and
/// as many unexpected ones.
pub fn compare_rows(expected: &[TextRow], actual: &[TextRow], show: usize) -> Result<(), String> {
    let mut e: Vec<&TextRow> = expected.iter().collect();
    let mut a: Vec<&TextRow> = actual.iter().collect();
    e.sort();
    a.sort();
    if e == a {
        return Ok(());
    }
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < e.len() || j < a.len() {
        match (e.get(i), a.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                missing.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                missing.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                extra.push(*y);
                j += 1;
            }
            (None, None) => unreachable!("the loop condition"),
        }
    }
    let mut report = format!(
        "{} rows expected, {} rows got: {} missing, {} unexpected",
        e.len(),
        a.len(),
        missing.len(),
        extra.len()
    );
    for r in missing.iter().take(show) {
        report.push_str(&format!("\n  missing:    {}", show_row(r)));
    }
    for r in extra.iter().take(show) {
        report.push_str(&format!("\n  unexpected: {}", show_row(r)));
    }
    Err(report)
}

/// A text row for messages: values separated by ` | `, NULL as `NULL`.
pub fn show_row(row: &TextRow) -> String {
    row.iter()
        .map(|v| v.as_deref().unwrap_or("NULL"))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests;
