//! Reading sources: whole tables at a snapshot, and change batches by
//! visibility between two snapshots.
//!
//! A batch is the set of transactions visible in the new snapshot and not
//! in the old one (`pg_visible_in_snapshot`), read in a `REPEATABLE READ`
//! transaction whose own snapshot is the new one. A transaction that began
//! before the old snapshot and commits after it lands in the batch of the
//! first snapshot that sees it: nothing is lost, nothing read twice.

use std::io::{BufReader, Read};

use freshet_engine::{Diff, Row};
use postgres::GenericClient;

use crate::error::Result;
use crate::ident::{log_table, qualified, quote_ident, quote_literal};
use crate::source::SourceTable;
use crate::types::read_rows;

/// A database snapshot in `pg_snapshot` text form (`xmin:xmax:xip,…`).
pub type Snapshot = String;

/// The current transaction's snapshot.
pub fn current_snapshot(client: &mut impl GenericClient) -> Result<Snapshot> {
    Ok(client.query_one("SELECT pg_current_snapshot()::text", &[])?.get(0))
}

/// Every row of a source table, consolidated, as of the transaction's
/// snapshot.
pub fn read_table(client: &mut impl GenericClient, src: &SourceTable) -> Result<Vec<(Row, Diff)>> {
    read_table_counted(client, src, &mut |_| {})
}

/// [`read_table`], telling `rows_read` how many rows have arrived so far
/// as the COPY stream is read.
pub fn read_table_counted(
    client: &mut impl GenericClient,
    src: &SourceTable,
    rows_read: &mut dyn FnMut(u64),
) -> Result<Vec<(Row, Diff)>> {
    let cols = src.column_list();
    let reader = client.copy_out(&format!("COPY (SELECT {cols} FROM {}) TO STDOUT", src.qualified()))?;
    let counting = LineCounter { inner: reader, lines: 0, report: rows_read };
    let rows = read_rows(BufReader::with_capacity(1 << 16, counting), &src.qualified(), &src.def.columns, 0)?;
    let mut out: Vec<(Row, Diff)> = rows.into_iter().map(|(r, _)| (r, 1)).collect();
    differential_consolidate(&mut out);
    Ok(out)
}

/// Counts the lines (COPY text rows: a row's own newlines are escaped)
/// passing through a reader.
struct LineCounter<'a, R> {
    inner: R,
    lines: u64,
    report: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for LineCounter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        if newlines > 0 {
            self.lines += newlines;
            (self.report)(self.lines);
        }
        Ok(n)
    }
}

/// Sorts by row and sums the diffs of equal rows, dropping zeros.
pub fn differential_consolidate(rows: &mut Vec<(Row, Diff)>) {
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<(Row, Diff)> = Vec::with_capacity(rows.len());
    for (r, d) in rows.drain(..) {
        match out.last_mut() {
            Some((last, n)) if *last == r => *n += d,
            _ => out.push((r, d)),
        }
    }
    out.retain(|(_, d)| *d != 0);
    *rows = out;
}

/// The log rows of `src` from transactions visible in `new` but not in
/// `old`, in log order: `(row, diff)` with diff 0 for a TRUNCATE marker
/// (whose row is all NULLs). A log row holding a statement's rows as an
/// array stands for each of them.
pub fn read_log(
    client: &mut impl GenericClient,
    src: &SourceTable,
    old: &Snapshot,
    new: &Snapshot,
) -> Result<Vec<(Row, Diff)>> {
    let cols = src.column_list();
    let sep = if cols.is_empty() { "" } else { ", " };
    let (old, new) = (quote_literal(old), quote_literal(new));
    let log = src.log();
    let cond = format!(
        "l.__freshet_xid >= pg_snapshot_xmin({old}::pg_snapshot) \
         AND l.__freshet_xid < pg_snapshot_xmax({new}::pg_snapshot) \
         AND pg_visible_in_snapshot(l.__freshet_xid, {new}::pg_snapshot) \
         AND NOT pg_visible_in_snapshot(l.__freshet_xid, {old}::pg_snapshot)"
    );
    let in_rows = src.def.columns.iter().map(|c| format!("l.{}", quote_ident(&c.name))).collect::<Vec<_>>().join(", ");
    let in_batch = src.def.columns.iter().map(|c| format!("b.{}", quote_ident(&c.name))).collect::<Vec<_>>().join(", ");
    let query = format!(
        "COPY (SELECT {cols}{sep}__freshet_diff FROM (\
         SELECT {in_rows}{sep}l.__freshet_diff, l.__freshet_seq FROM {log} l \
         WHERE {cond} AND l.__freshet_batch IS NULL \
         UNION ALL SELECT {in_batch}{sep}l.__freshet_diff, l.__freshet_seq FROM {log} l, unnest(l.__freshet_batch) b \
         WHERE {cond} AND l.__freshet_batch IS NOT NULL) u \
         ORDER BY __freshet_seq) TO STDOUT"
    );
    let reader = client.copy_out(&query)?;
    let rows = read_rows(BufReader::new(reader), &src.qualified(), &src.def.columns, 1)?;
    Ok(rows.into_iter().map(|(r, x)| (r, x[0])).collect())
}

/// The net change of a table over one batch of log rows (in log order),
/// given its contents before the batch. A TRUNCATE marker retracts
/// everything before it: the contents, and the batch's earlier rows.
/// Without a TRUNCATE the log rows are the change as they are (not
/// consolidated: the engine consolidates what it is given).
pub fn net_changes(log: Vec<(Row, Diff)>, before: impl FnOnce() -> Result<Vec<(Row, Diff)>>) -> Result<Vec<(Row, Diff)>> {
    let Some(i) = log.iter().rposition(|(_, d)| *d == 0) else {
        return Ok(log);
    };
    let mut out: Vec<(Row, Diff)> = before()?.into_iter().map(|(r, d)| (r, -d)).collect();
    out.extend(log.into_iter().skip(i + 1));
    differential_consolidate(&mut out);
    Ok(out)
}

/// Deletes the log rows of the source with this oid from transactions
/// visible in `snapshot` (the adapter has passed them).
pub fn prune_log(client: &mut impl GenericClient, oid: u32, snapshot: &Snapshot) -> Result<u64> {
    let s = quote_literal(snapshot);
    Ok(client.execute(
        &format!(
            "DELETE FROM {} WHERE __freshet_xid < pg_snapshot_xmax({s}::pg_snapshot) \
             AND pg_visible_in_snapshot(__freshet_xid, {s}::pg_snapshot)",
            qualified("freshet", &log_table(oid))
        ),
        &[],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_engine::Value;

    fn r(v: i32) -> Row {
        Row::new(vec![Value::Int4(v)])
    }

    #[test]
    fn truncate_retracts_what_came_before() {
        let log = vec![(r(1), 1), (Row::new(vec![Value::Null]), 0), (r(2), 1), (r(2), 1), (r(3), 1), (r(3), -1)];
        let out = net_changes(log, || Ok(vec![(r(5), 2), (r(1), 1)])).unwrap();
        assert_eq!(out, vec![(r(1), -1), (r(2), 2), (r(5), -2)]);
        let plain = net_changes(vec![(r(1), 1), (r(1), -1), (r(4), -1)], || panic!("no truncate")).unwrap();
        assert_eq!(plain, vec![(r(1), 1), (r(1), -1), (r(4), -1)], "passed on as logged");
    }
}
