//! Writes to `invoice_lines`: the statements the adapter workload times,
//! generated from a seed, and the capture-overhead comparison between the
//! captured table and an uncaptured twin with the same contents.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use postgres::types::ToSql;
use postgres::{Client, Statement};
use serde::Serialize;

use crate::error::BenchError;
use crate::rng::Rng;
use crate::stats::BatchStats;
use crate::workload::{money_text, Kind};

/// The uncaptured twin of `invoice_lines`: same definition, same rows.
pub const PLAIN_LINES: &str = "invoice_lines_plain";

/// The captured source table.
pub const CAPTURED_LINES: &str = "invoice_lines";

/// Statements writing lines to one table, prepared once.
pub struct LineStatements {
    insert_many: Statement,
    update_many: Statement,
    insert_one: Statement,
    update_one: Statement,
}

impl LineStatements {
    /// Prepares the statements for `table` (an unquoted, lower-case name).
    pub fn prepare(client: &mut Client, table: &str) -> Result<LineStatements, BenchError> {
        Ok(LineStatements {
            insert_many: client.prepare(&format!(
                "INSERT INTO {table} (id, invoice_id, line_no, kind, qty, amount) \
                 SELECT id, invoice_id, line_no, kind, qty, amount::numeric(12,2) \
                 FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::int[], $6::text[]) \
                 AS v(id, invoice_id, line_no, kind, qty, amount)"
            ))?,
            update_many: client.prepare(&format!(
                "UPDATE {table} l SET amount = v.amount::numeric(12,2) \
                 FROM unnest($1::bigint[], $2::text[]) AS v(id, amount) WHERE l.id = v.id"
            ))?,
            insert_one: client.prepare(&format!(
                "INSERT INTO {table} (id, invoice_id, line_no, kind, qty, amount) \
                 VALUES ($1, $2, $3, $4, $5, $6::text::numeric(12,2))"
            ))?,
            update_one: client.prepare(&format!("UPDATE {table} SET amount = $2::text::numeric(12,2) WHERE id = $1"))?,
        })
    }

    /// Inserts `lines` in one statement; returns the rows inserted.
    pub fn insert_many(&self, client: &mut Client, lines: &[NewLine]) -> Result<u64, BenchError> {
        let id: Vec<i64> = lines.iter().map(|l| l.id).collect();
        let invoice: Vec<i64> = lines.iter().map(|l| l.invoice_id).collect();
        let no: Vec<i32> = lines.iter().map(|l| l.line_no).collect();
        let kind: Vec<&str> = lines.iter().map(|l| l.kind.as_str()).collect();
        let qty: Vec<i32> = lines.iter().map(|l| l.qty).collect();
        let amount: Vec<String> = lines.iter().map(|l| money_text(l.amount)).collect();
        let params: [&(dyn ToSql + Sync); 6] = [&id, &invoice, &no, &kind, &qty, &amount];
        Ok(client.execute(&self.insert_many, &params)?)
    }

    /// Sets the amounts of lines `ids` to `cents` in one statement; returns
    /// the rows updated.
    pub fn update_many(&self, client: &mut Client, ids: &[i64], cents: &[i64]) -> Result<u64, BenchError> {
        let amount: Vec<String> = cents.iter().copied().map(money_text).collect();
        Ok(client.execute(&self.update_many, &[&ids, &amount])?)
    }

    /// Inserts one line.
    pub fn insert_one(&self, client: &mut Client, l: &NewLine) -> Result<u64, BenchError> {
        let amount = money_text(l.amount);
        Ok(client.execute(&self.insert_one, &[&l.id, &l.invoice_id, &l.line_no, &l.kind.as_str(), &l.qty, &amount])?)
    }

    /// Sets the amount of line `id` to `cents`.
    pub fn update_one(&self, client: &mut Client, id: i64, cents: i64) -> Result<u64, BenchError> {
        Ok(client.execute(&self.update_one, &[&id, &money_text(cents)])?)
    }
}

/// A line to insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLine {
    /// `id`, above every existing line's.
    pub id: i64,
    /// An existing invoice.
    pub invoice_id: i64,
    /// `line_no`, above the generated ones (at most 27).
    pub line_no: i32,
    /// `kind`.
    pub kind: Kind,
    /// `qty`.
    pub qty: i32,
    /// `amount` in cents.
    pub amount: i64,
}

/// Generates the writes: new lines with fresh ids, distinct existing line
/// ids, new amounts.
#[derive(Debug)]
pub struct WriteGen {
    rng: Rng,
    invoices: i64,
    lines: i64,
    next_id: i64,
}

impl WriteGen {
    /// A generator for tables holding invoices `1..=invoices` and lines
    /// `1..=lines` (no line is ever deleted by the workload).
    pub fn new(seed: u64, invoices: usize, lines: usize) -> WriteGen {
        WriteGen { rng: Rng::new(seed), invoices: invoices as i64, lines: lines as i64, next_id: lines as i64 + 1 }
    }

    /// An existing line, at random.
    pub fn line_id(&mut self) -> i64 {
        self.rng.range(1, self.lines.max(1))
    }

    /// `n` distinct existing lines (all of them if there are fewer).
    pub fn line_ids(&mut self, n: usize) -> Vec<i64> {
        let n = n.min(self.lines.max(0) as usize);
        let mut seen = HashSet::with_capacity(n);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let id = self.line_id();
            if seen.insert(id) {
                out.push(id);
            }
        }
        out
    }

    /// A non-zero amount in cents, different from `old`.
    pub fn amount(&mut self, old: Option<i64>) -> i64 {
        let mut cents = self.rng.range(1, 1_000_000);
        if Some(cents) == old {
            cents += 1;
        }
        cents
    }

    /// `n` new amounts.
    pub fn amounts(&mut self, n: usize) -> Vec<i64> {
        (0..n).map(|_| self.amount(None)).collect()
    }

    /// `n` new lines of existing invoices, with ids never used before.
    pub fn new_lines(&mut self, n: usize) -> Vec<NewLine> {
        (0..n)
            .map(|_| {
                let kind = match self.rng.range(0, 3) {
                    0 => Kind::Goods,
                    1 => Kind::Service,
                    2 => Kind::Tax,
                    _ => Kind::Discount,
                };
                let amount = if kind == Kind::Discount { -self.amount(None) } else { self.amount(None) };
                let line = NewLine {
                    id: self.next_id,
                    invoice_id: self.rng.range(1, self.invoices.max(1)),
                    line_no: 100 + self.rng.range(0, 899) as i32,
                    kind,
                    qty: 1,
                    amount,
                };
                self.next_id += 1;
                line
            })
            .collect()
    }
}

/// Throughput of one kind of write with and without capture.
#[derive(Clone, Debug, Serialize)]
pub struct WriteFigures {
    /// `INSERT` or `UPDATE`.
    pub statement: String,
    /// Rows written by each statement.
    pub rows_per_statement: usize,
    /// On the uncaptured twin table.
    pub plain: BatchStats,
    /// On the captured source table (capture triggers firing).
    pub captured: BatchStats,
    /// Plain rows/s ÷ captured rows/s: how many times slower writes are
    /// with capture.
    pub slowdown: f64,
}

impl WriteFigures {
    fn new(statement: &str, rows_per_statement: usize, plain: &[Duration], captured: &[Duration]) -> WriteFigures {
        let plain = BatchStats::new(rows_per_statement, plain);
        let captured = BatchStats::new(rows_per_statement, captured);
        let slowdown = if captured.changes_per_sec > 0.0 { plain.changes_per_sec / captured.changes_per_sec } else { 0.0 };
        WriteFigures { statement: statement.into(), rows_per_statement, plain, captured, slowdown }
    }
}

/// How many statements of each kind the overhead comparison runs.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct OverheadPlan {
    /// Statements writing many rows each (INSERT and UPDATE each).
    pub bulk_statements: usize,
    /// Rows per bulk statement.
    pub bulk_rows: usize,
    /// Single-row statements (INSERT and UPDATE each).
    pub single_statements: usize,
}

/// Times `write` on the uncaptured twin (`tables[0]`) and the captured
/// table (`tables[1]`), in the order given by `i`'s parity; fails unless
/// each changed `expect` rows. Returns `[plain, captured]`.
fn time_both(
    client: &mut Client,
    tables: &[LineStatements; 2],
    i: usize,
    expect: u64,
    write: impl Fn(&LineStatements, &mut Client) -> Result<u64, BenchError>,
) -> Result<[Duration; 2], BenchError> {
    let mut times = [Duration::ZERO; 2];
    let order = if i.is_multiple_of(2) { [0, 1] } else { [1, 0] };
    for t in order {
        let start = Instant::now();
        let n = write(&tables[t], client)?;
        times[t] = start.elapsed();
        if n != expect {
            return Err(BenchError::Workload(format!("a write changed {n} rows, expected {expect}")));
        }
    }
    Ok(times)
}

/// Collects `[plain, captured]` timings into two lists.
#[derive(Default)]
struct Timings {
    plain: Vec<Duration>,
    captured: Vec<Duration>,
}

impl Timings {
    fn push(&mut self, [p, c]: [Duration; 2]) {
        self.plain.push(p);
        self.captured.push(c);
    }

    fn figures(&self, statement: &str, rows: usize) -> WriteFigures {
        WriteFigures::new(statement, rows, &self.plain, &self.captured)
    }
}

/// Runs each write twice, on the uncaptured twin and on the captured
/// table, alternating which goes first, each statement its own
/// transaction, and returns the throughput of both: bulk INSERTs, bulk
/// UPDATEs, single-row INSERTs, single-row UPDATEs. Both tables get the
/// same rows, so they stay equal.
pub fn capture_overhead(client: &mut Client, gen: &mut WriteGen, plan: OverheadPlan) -> Result<Vec<WriteFigures>, BenchError> {
    let tables = [LineStatements::prepare(client, PLAIN_LINES)?, LineStatements::prepare(client, CAPTURED_LINES)?];
    let bulk = plan.bulk_rows.min(gen.lines.max(0) as usize);
    let mut out = Vec::new();

    let mut t = Timings::default();
    for i in 0..plan.bulk_statements {
        let lines = gen.new_lines(plan.bulk_rows);
        t.push(time_both(client, &tables, i, lines.len() as u64, |s, c| s.insert_many(c, &lines))?);
    }
    out.push(t.figures("INSERT", plan.bulk_rows));

    let mut t = Timings::default();
    for i in 0..plan.bulk_statements {
        let ids = gen.line_ids(bulk);
        let cents = gen.amounts(ids.len());
        t.push(time_both(client, &tables, i, ids.len() as u64, |s, c| s.update_many(c, &ids, &cents))?);
    }
    out.push(t.figures("UPDATE", bulk));

    let mut t = Timings::default();
    for i in 0..plan.single_statements {
        let line = gen.new_lines(1).remove(0);
        t.push(time_both(client, &tables, i, 1, |s, c| s.insert_one(c, &line))?);
    }
    out.push(t.figures("INSERT", 1));

    let mut t = Timings::default();
    for i in 0..plan.single_statements {
        let (id, cents) = (gen.line_id(), gen.amount(None));
        t.push(time_both(client, &tables, i, 1, |s, c| s.update_one(c, id, cents))?);
    }
    out.push(t.figures("UPDATE", 1));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_writes_are_fresh_distinct_and_deterministic() {
        let mut g = WriteGen::new(7, 50, 700);
        let ids = g.line_ids(300);
        assert_eq!(ids.len(), 300);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 300);
        assert!(ids.iter().all(|&id| (1..=700).contains(&id)));
        assert_eq!(g.line_ids(5_000).len(), 700, "at most every line");
        let new = g.new_lines(20);
        assert_eq!(new.iter().map(|l| l.id).collect::<Vec<_>>(), (701..=720).collect::<Vec<_>>());
        assert!(new.iter().all(|l| (1..=50).contains(&l.invoice_id) && l.amount != 0 && l.line_no > 27));
        assert!(new.iter().all(|l| (l.kind == Kind::Discount) == (l.amount < 0)));
        assert_eq!(g.new_lines(1)[0].id, 721);
        for old in [None, Some(5), Some(1_000_000)] {
            let a = g.amount(old);
            assert!(a != 0 && Some(a) != old);
        }
        let mut a = WriteGen::new(9, 10, 100);
        let mut b = WriteGen::new(9, 10, 100);
        assert_eq!(a.line_ids(50), b.line_ids(50));
        assert_eq!(a.new_lines(5), b.new_lines(5));
    }

    #[test]
    fn slowdown_is_plain_rate_over_captured_rate() {
        let f = WriteFigures::new("UPDATE", 10, &[Duration::from_millis(10); 4], &[Duration::from_millis(13); 4]);
        assert!((f.slowdown - 1.3).abs() < 1e-9, "{}", f.slowdown);
        assert_eq!(f.plain.changes, 40);
        assert!((f.plain.changes_per_sec - 1_000.0).abs() < 1e-6);
    }
}
