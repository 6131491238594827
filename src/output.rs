//! Statement results and their text form.

use std::cmp::Ordering;
use std::fmt::Write;

use freshet_engine::catalog::Column;
use freshet_engine::{DataType, Row, Value};
use freshet_sql::SortKey;

/// What a statement returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Rows of a SELECT or EXPLAIN.
    Rows(Rows),
    /// The command tag of any other statement (`INSERT 0 3`, `CREATE TABLE`).
    Command(String),
}

/// Result rows with their columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    /// Output column names and types.
    pub columns: Vec<Column>,
    /// The rows, in output order.
    pub rows: Vec<Row>,
}

impl Rows {
    /// EXPLAIN output: one `QUERY PLAN` text row per line.
    pub(crate) fn explain(text: &str) -> Rows {
        Rows {
            columns: vec![Column { name: "QUERY PLAN".into(), ty: DataType::Text, nullable: false }],
            rows: text.lines().map(|l| Row::new(vec![Value::text(l)])).collect(),
        }
    }

    /// The rows as `psql -X -A -t -F $'\t'` prints them: one line per row,
    /// columns separated by a tab, NULL as the empty string, values in
    /// PostgreSQL's text output format.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    out.push('\t');
                }
                if !v.is_null() {
                    write!(out, "{v}").expect("writing to a String");
                }
            }
            out.push('\n');
        }
        out
    }
}

impl Output {
    /// The output as psql prints it in unaligned tuples-only mode: rows,
    /// or the command tag on a line of its own.
    pub fn to_text(&self) -> String {
        match self {
            Output::Rows(r) => r.to_text(),
            Output::Command(tag) => format!("{tag}\n"),
        }
    }
}

/// Sorts rows by ORDER BY keys with PostgreSQL's ordering: SQL comparison
/// per key, NULLs last ascending and first descending unless the key says
/// otherwise. Ties keep the engine's row order (a stable sort).
pub(crate) fn sort_rows(rows: &mut [Row], keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        for k in keys {
            let (x, y) = (&a[k.column], &b[k.column]);
            let o = match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => if k.nulls_first { Ordering::Less } else { Ordering::Greater },
                (false, true) => if k.nulls_first { Ordering::Greater } else { Ordering::Less },
                (false, false) => {
                    let o = x.sql_cmp(y).unwrap_or(Ordering::Equal);
                    if k.descending { o.reverse() } else { o }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}
