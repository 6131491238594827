//! Correctness check: view contents as sorted text rows, an independent
//! evaluation of the invoices view, and the comparison of two results.

use serde::Serialize;

use freshet_engine::{Diff, Row};

use crate::workload::{money_text, Invoice, Kind, Line};

/// How NULL is written in a text row (as in COPY's text format).
pub const NULL_TEXT: &str = "\\N";

/// A row as text: each value in PostgreSQL's output format, separated by
/// tabs, NULL as `\N`.
pub fn row_text(row: &Row) -> String {
    let mut out = String::new();
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        if v.is_null() {
            out.push_str(NULL_TEXT);
        } else {
            out.push_str(&v.to_string());
        }
    }
    out
}

/// Rows with multiplicities as sorted text rows, each repeated by its
/// multiplicity.
pub fn sorted_text(rows: &[(Row, Diff)]) -> Vec<String> {
    let mut out = Vec::with_capacity(rows.len());
    for (r, d) in rows {
        let text = row_text(r);
        for _ in 0..(*d).max(0) {
            out.push(text.clone());
        }
    }
    out.sort();
    out
}

/// The invoices view evaluated from scratch over the given contents, as
/// sorted text rows. Numeric sums of `numeric(12,2)` values have scale 2;
/// `coalesce(sum(..), 0)` over no non-NULL amount prints `0`.
pub fn expected_view(invoices: &[Invoice], lines: &[Line]) -> Vec<String> {
    #[derive(Default, Clone)]
    struct Acc {
        lines: i64,
        sum: Option<i64>,
        goods: Option<i64>,
        tax: Option<i64>,
        discounts: i64,
    }
    fn add(slot: &mut Option<i64>, cents: Option<i64>) {
        if let Some(c) = cents {
            *slot = Some(slot.unwrap_or(0) + c);
        }
    }
    let max_id = invoices.iter().map(|i| i.id).max().unwrap_or(0);
    let mut acc = vec![Acc::default(); max_id as usize + 1];
    for l in lines {
        let Some(a) = usize::try_from(l.invoice_id).ok().and_then(|i| acc.get_mut(i)) else { continue };
        a.lines += 1;
        add(&mut a.sum, l.amount);
        match l.kind {
            Kind::Goods => add(&mut a.goods, l.amount),
            Kind::Tax => add(&mut a.tax, l.amount),
            Kind::Discount => a.discounts += 1,
            Kind::Service => {}
        }
    }
    let opt = |c: Option<i64>| c.map_or_else(|| NULL_TEXT.to_string(), money_text);
    let mut out: Vec<String> = invoices
        .iter()
        .map(|i| {
            let a = &acc[i.id as usize];
            let lines_total = a.sum.map_or_else(|| "0".to_string(), money_text);
            let balanced = if i.total == a.sum.unwrap_or(0) { "t" } else { "f" };
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                i.id,
                i.vendor_id,
                money_text(i.total),
                a.lines,
                lines_total,
                opt(a.goods),
                opt(a.tax),
                a.discounts,
                balanced
            )
        })
        .collect();
    out.sort();
    out
}

/// The outcome of comparing a result with the expected one.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// What was compared (`freshet engine vs PostgreSQL`, …).
    pub what: String,
    /// True if both multisets of rows are equal.
    pub matches: bool,
    /// Rows expected.
    pub expected_rows: usize,
    /// Rows found.
    pub actual_rows: usize,
    /// Up to five expected rows that were missing.
    pub missing: Vec<String>,
    /// Up to five rows found that were not expected.
    pub unexpected: Vec<String>,
}

/// Compares two sorted multisets of text rows.
pub fn compare(what: &str, expected: &[String], actual: &[String]) -> Comparison {
    const SHOWN: usize = 5;
    let (mut i, mut j) = (0, 0);
    let (mut missing, mut unexpected) = (Vec::new(), Vec::new());
    let (mut n_missing, mut n_unexpected) = (0usize, 0usize);
    while i < expected.len() || j < actual.len() {
        match (expected.get(i), actual.get(j)) {
            (Some(e), Some(a)) if e == a => {
                i += 1;
                j += 1;
            }
            (Some(e), Some(a)) if e < a => {
                n_missing += 1;
                if missing.len() < SHOWN {
                    missing.push(e.clone());
                }
                i += 1;
            }
            (Some(e), None) => {
                n_missing += 1;
                if missing.len() < SHOWN {
                    missing.push(e.clone());
                }
                i += 1;
            }
            (_, Some(a)) => {
                n_unexpected += 1;
                if unexpected.len() < SHOWN {
                    unexpected.push(a.clone());
                }
                j += 1;
            }
            (None, None) => unreachable!("loop condition"),
        }
    }
    Comparison {
        what: what.to_string(),
        matches: n_missing == 0 && n_unexpected == 0,
        expected_rows: expected.len(),
        actual_rows: actual.len(),
        missing,
        unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn compare_finds_missing_and_unexpected_rows_including_duplicates() {
        let c = compare("t", &s(&["a", "b", "b", "d"]), &s(&["a", "b", "c", "d"]));
        assert!(!c.matches);
        assert_eq!(c.missing, s(&["b"]));
        assert_eq!(c.unexpected, s(&["c"]));
        assert!(compare("t", &s(&["a", "b"]), &s(&["a", "b"])).matches);
        let c = compare("t", &s(&["a"]), &s(&[]));
        assert_eq!((c.matches, c.missing.len(), c.actual_rows), (false, 1, 0));
    }

    #[test]
    fn oracle_handles_lineless_invoices_nulls_and_filters() {
        let inv = |id, total| Invoice { id, vendor_id: 7, issued: 0, total, status: "open" };
        let line = |id, invoice_id, kind, amount| Line { id, invoice_id, line_no: 1, kind, qty: 1, amount };
        let rows = expected_view(
            &[inv(1, 150), inv(2, 0), inv(3, 5)],
            &[
                line(1, 1, Kind::Goods, Some(200)),
                line(2, 1, Kind::Discount, Some(-50)),
                line(3, 1, Kind::Tax, None),
                line(4, 3, Kind::Service, None),
            ],
        );
        assert_eq!(
            rows,
            s(&[
                "1\t7\t1.50\t3\t1.50\t2.00\t\\N\t1\tt",
                "2\t7\t0.00\t0\t0\t\\N\t\\N\t0\tt",
                "3\t7\t0.05\t1\t0\t\\N\t\\N\t0\tf",
            ])
        );
    }
}
