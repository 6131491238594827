//! The invoices workload: two tables, a deterministic data generator, a
//! deterministic stream of line changes, and the view maintained over them.
//!
//! `invoices(id bigint PK, vendor_id int, issued date, total numeric(12,2),
//! status text)` and `invoice_lines(id bigint PK, invoice_id bigint,
//! line_no int, kind text, qty int, amount numeric(12,2))`. Each invoice has
//! 1–27 lines (skewed towards 15–27, 14 on average, so 100,000 invoices make
//! about 1.4 million lines); vendors are sized to about 7,000 lines each.
//! Nine invoices in ten have a total equal to the sum of their lines; one
//! line in 250 has a NULL amount.

use std::collections::{HashMap, HashSet};

use freshet_engine::catalog::{Column, TableDef};
use freshet_engine::value::{Date, Numeric};
use freshet_engine::{DataType, Diff, ObjectId, Row, Value};

use crate::rng::Rng;

/// The engine id of `invoices` when the runtime is driven directly.
pub const INVOICES_ID: ObjectId = ObjectId(1);
/// The engine id of `invoice_lines` when the runtime is driven directly.
pub const LINES_ID: ObjectId = ObjectId(2);
/// The engine id of the view when the runtime is driven directly.
pub const VIEW_ID: ObjectId = ObjectId(3);

/// The name of the view.
pub const VIEW_NAME: &str = "invoice_summary";

/// `CREATE TABLE` statements for both tables (freshet and PostgreSQL).
pub const DDL: &str = "CREATE TABLE invoices (id bigint PRIMARY KEY, vendor_id int, issued date, \
                       total numeric(12,2), status text);\n\
                       CREATE TABLE invoice_lines (id bigint PRIMARY KEY, invoice_id bigint, line_no int, \
                       kind text, qty int, amount numeric(12,2));";

/// The view's query.
pub const VIEW_SQL: &str = "SELECT i.id, i.vendor_id, i.total,
       count(l.id) AS lines,
       coalesce(sum(l.amount), 0) AS lines_total,
       sum(l.amount) FILTER (WHERE l.kind = 'goods') AS goods,
       sum(l.amount) FILTER (WHERE l.kind = 'tax') AS tax,
       count(*) FILTER (WHERE l.kind = 'discount') AS discounts,
       i.total = coalesce(sum(l.amount), 0) AS balanced
FROM invoices i LEFT JOIN invoice_lines l ON l.invoice_id = i.id
GROUP BY i.id";

/// Days from 2000-01-01 to 2023-01-01: invoices are issued in 2023–2024.
const ISSUED_FROM: i32 = 8401;
/// Average lines per vendor.
const LINES_PER_VENDOR: usize = 7_000;
/// Expected lines per invoice (see [`line_count`]).
const MEAN_LINES: usize = 14;

/// The kind of an invoice line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `goods`: quantity times a unit price.
    Goods,
    /// `service`: one unit.
    Service,
    /// `tax`: positive.
    Tax,
    /// `discount`: negative.
    Discount,
}

impl Kind {
    /// The text stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Goods => "goods",
            Kind::Service => "service",
            Kind::Tax => "tax",
            Kind::Discount => "discount",
        }
    }

    fn random(rng: &mut Rng) -> Kind {
        match rng.range(0, 99) {
            0..=59 => Kind::Goods,
            60..=79 => Kind::Service,
            80..=91 => Kind::Tax,
            _ => Kind::Discount,
        }
    }
}

/// A row of `invoices`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoice {
    /// `id`, 1-based and dense.
    pub id: i64,
    /// `vendor_id`.
    pub vendor_id: i32,
    /// `issued`, as days since 2000-01-01.
    pub issued: i32,
    /// `total`, in cents.
    pub total: i64,
    /// `status`.
    pub status: &'static str,
}

/// A row of `invoice_lines`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `id`.
    pub id: i64,
    /// `invoice_id`.
    pub invoice_id: i64,
    /// `line_no`, 1-based within the invoice.
    pub line_no: i32,
    /// `kind`.
    pub kind: Kind,
    /// `qty`.
    pub qty: i32,
    /// `amount` in cents; `None` is NULL.
    pub amount: Option<i64>,
}

/// The generated contents of both tables.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The invoices, by id.
    pub invoices: Vec<Invoice>,
    /// The lines, by id.
    pub lines: Vec<Line>,
}

/// The number of lines of one invoice: 1–3 for one invoice in five, else
/// 4–27 skewed towards the top (mean ≈ 14 overall).
fn line_count(rng: &mut Rng) -> i32 {
    if rng.chance(0.2) {
        rng.range(1, 3) as i32
    } else {
        4 + (24.0 * rng.unit().powf(0.78)) as i32
    }
}

/// A random quantity and amount (cents) for a line of `kind`; one amount in
/// 250 is NULL.
fn random_amount(rng: &mut Rng, kind: Kind) -> (i32, Option<i64>) {
    let (qty, cents) = match kind {
        Kind::Goods => {
            let qty = rng.range(1, 20);
            (qty as i32, qty * rng.range(50, 20_000))
        }
        Kind::Service => (1, rng.range(1_000, 200_000)),
        Kind::Tax => (1, rng.range(100, 50_000)),
        Kind::Discount => (1, -rng.range(100, 20_000)),
    };
    (qty, if rng.chance(1.0 / 250.0) { None } else { Some(cents) })
}

impl Workload {
    /// Generates `invoices` invoices and their lines from `seed`.
    pub fn generate(invoices: usize, seed: u64) -> Workload {
        let mut rng = Rng::new(seed);
        let vendors = (invoices * MEAN_LINES / LINES_PER_VENDOR).max(1) as i64;
        let mut inv = Vec::with_capacity(invoices);
        let mut lines = Vec::with_capacity(invoices * MEAN_LINES);
        for id in 1..=invoices as i64 {
            let mut sum = 0i64;
            for line_no in 1..=line_count(&mut rng) {
                let kind = Kind::random(&mut rng);
                let (qty, amount) = random_amount(&mut rng, kind);
                sum += amount.unwrap_or(0);
                lines.push(Line { id: lines.len() as i64 + 1, invoice_id: id, line_no, kind, qty, amount });
            }
            let total = if rng.chance(0.9) {
                sum
            } else {
                let delta = rng.range(1, 1_000);
                if rng.chance(0.5) { sum + delta } else { sum - delta }
            };
            let status = match rng.range(0, 9) {
                0..=5 => "paid",
                6..=8 => "open",
                _ => "void",
            };
            inv.push(Invoice {
                id,
                vendor_id: rng.range(1, vendors) as i32,
                issued: ISSUED_FROM + rng.range(0, 730) as i32,
                total,
                status,
            });
        }
        Workload { invoices: inv, lines }
    }

    /// The catalog definitions of both tables, with the engine ids.
    pub fn table_defs() -> [TableDef; 2] {
        let col = |name: &str, ty: DataType, nullable: bool| Column { name: name.into(), ty, nullable };
        let money = DataType::Numeric(Some((12, 2)));
        [
            TableDef {
                id: INVOICES_ID,
                name: "invoices".into(),
                columns: vec![
                    col("id", DataType::Int8, false),
                    col("vendor_id", DataType::Int4, true),
                    col("issued", DataType::Date, true),
                    col("total", money, true),
                    col("status", DataType::Text, true),
                ],
                primary_key: vec![0],
            },
            TableDef {
                id: LINES_ID,
                name: "invoice_lines".into(),
                columns: vec![
                    col("id", DataType::Int8, false),
                    col("invoice_id", DataType::Int8, true),
                    col("line_no", DataType::Int4, true),
                    col("kind", DataType::Text, true),
                    col("qty", DataType::Int4, true),
                    col("amount", money, true),
                ],
                primary_key: vec![0],
            },
        ]
    }
}

/// A `numeric(12,2)` value from cents.
pub fn money(cents: i64) -> Value {
    Value::Numeric(Numeric::from_parts(i128::from(cents), 2))
}

/// Cents as PostgreSQL prints a `numeric(12,2)`: `-0.05`, `1234.50`.
pub fn money_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A date (days since 2000-01-01) as `YYYY-MM-DD`.
pub fn date_text(days: i32) -> String {
    // Days since 0000-03-01 in the proleptic Gregorian calendar, then
    // 400-year eras of 146,097 days.
    let z = i64::from(days) + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

impl Invoice {
    /// The row as the engine holds it.
    pub fn row(&self) -> Row {
        Row::new(vec![
            Value::Int8(self.id),
            Value::Int4(self.vendor_id),
            Value::Date(Date(self.issued)),
            money(self.total),
            Value::text(self.status),
        ])
    }

    /// The row in PostgreSQL's COPY text format, with its newline.
    pub fn copy_line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\n",
            self.id,
            self.vendor_id,
            date_text(self.issued),
            money_text(self.total),
            self.status
        )
    }
}

impl Line {
    /// The row as the engine holds it.
    pub fn row(&self) -> Row {
        Row::new(vec![
            Value::Int8(self.id),
            Value::Int8(self.invoice_id),
            Value::Int4(self.line_no),
            Value::text(self.kind.as_str()),
            Value::Int4(self.qty),
            self.amount.map_or(Value::Null, money),
        ])
    }

    /// The row in PostgreSQL's COPY text format, with its newline.
    pub fn copy_line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            self.id,
            self.invoice_id,
            self.line_no,
            self.kind.as_str(),
            self.qty,
            self.amount.map_or_else(|| "\\N".to_string(), money_text)
        )
    }
}

/// One change to `invoice_lines`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineChange {
    /// A line's amount (and quantity) changed: retract `old`, insert `new`.
    Update {
        /// The line before.
        old: Line,
        /// The line after (same id).
        new: Line,
    },
    /// A new line.
    Insert(Line),
    /// A line removed.
    Delete(Line),
}

/// Changes committed together as one transaction. No line is touched twice
/// in one batch, so the batch is also expressible as one set-based UPDATE,
/// one INSERT and one DELETE.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// The changes.
    pub changes: Vec<LineChange>,
}

impl Batch {
    /// The number of changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// True if the batch has no change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The batch as row diffs of `invoice_lines`.
    pub fn line_diffs(&self) -> Vec<(Row, Diff)> {
        let mut out = Vec::with_capacity(self.changes.len() * 2);
        for c in &self.changes {
            match c {
                LineChange::Update { old, new } => {
                    out.push((old.row(), -1));
                    out.push((new.row(), 1));
                }
                LineChange::Insert(l) => out.push((l.row(), 1)),
                LineChange::Delete(l) => out.push((l.row(), -1)),
            }
        }
        out
    }

    /// The batch as engine changes `(table, row, diff)`.
    pub fn engine_changes(&self) -> Vec<(ObjectId, Row, Diff)> {
        self.line_diffs().into_iter().map(|(r, d)| (LINES_ID, r, d)).collect()
    }
}

/// Generates batches of line changes against the evolving table contents:
/// 90% amount updates, 5% inserts of new lines, 5% deletes.
#[derive(Debug)]
pub struct ChangeStream {
    rng: Rng,
    lines: Vec<Line>,
    /// Line id → position in `lines`.
    index: HashMap<i64, usize>,
    next_id: i64,
    /// Next `line_no` per invoice (index = invoice id − 1).
    next_line_no: Vec<i32>,
}

impl ChangeStream {
    /// A stream starting from the workload's contents.
    pub fn new(workload: &Workload, seed: u64) -> ChangeStream {
        let mut next_line_no = vec![1; workload.invoices.len()];
        for l in &workload.lines {
            let n = &mut next_line_no[(l.invoice_id - 1) as usize];
            *n = (*n).max(l.line_no + 1);
        }
        ChangeStream {
            rng: Rng::new(seed),
            index: workload.lines.iter().enumerate().map(|(i, l)| (l.id, i)).collect(),
            next_id: workload.lines.iter().map(|l| l.id).max().unwrap_or(0) + 1,
            lines: workload.lines.clone(),
            next_line_no,
        }
    }

    /// The lines after every batch generated so far.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The next batch of `size` changes, applied to the stream's state.
    pub fn batch(&mut self, size: usize) -> Batch {
        let mut touched = HashSet::with_capacity(size);
        let mut changes = Vec::with_capacity(size);
        while changes.len() < size {
            let roll = self.rng.range(0, 99);
            let change = if roll < 5 || self.lines.is_empty() {
                self.insert()
            } else {
                let Some(pos) = self.pick_untouched(&touched) else {
                    changes.push(self.insert());
                    continue;
                };
                if roll < 10 {
                    self.delete(pos)
                } else {
                    self.update(pos)
                }
            };
            let id = match &change {
                LineChange::Update { new, .. } => new.id,
                LineChange::Insert(l) | LineChange::Delete(l) => l.id,
            };
            touched.insert(id);
            changes.push(change);
        }
        Batch { changes }
    }

    /// A random line not yet changed in this batch (a few tries; `None` if
    /// the table is nearly all touched).
    fn pick_untouched(&mut self, touched: &HashSet<i64>) -> Option<usize> {
        for _ in 0..64 {
            let pos = self.rng.range(0, self.lines.len() as i64 - 1) as usize;
            if !touched.contains(&self.lines[pos].id) {
                return Some(pos);
            }
        }
        None
    }

    fn insert(&mut self) -> LineChange {
        let invoice_id = self.rng.range(1, self.next_line_no.len() as i64);
        let line_no = &mut self.next_line_no[(invoice_id - 1) as usize];
        let kind = Kind::random(&mut self.rng);
        let (qty, amount) = random_amount(&mut self.rng, kind);
        let line = Line { id: self.next_id, invoice_id, line_no: *line_no, kind, qty, amount };
        *line_no += 1;
        self.next_id += 1;
        self.index.insert(line.id, self.lines.len());
        self.lines.push(line.clone());
        LineChange::Insert(line)
    }

    fn delete(&mut self, pos: usize) -> LineChange {
        let line = self.lines.swap_remove(pos);
        self.index.remove(&line.id);
        if let Some(moved) = self.lines.get(pos) {
            self.index.insert(moved.id, pos);
        }
        LineChange::Delete(line)
    }

    fn update(&mut self, pos: usize) -> LineChange {
        let old = self.lines[pos].clone();
        let (qty, amount) = random_amount(&mut self.rng, old.kind);
        let new = Line { qty, amount, ..old.clone() };
        self.lines[pos] = new.clone();
        LineChange::Update { old, new }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_data_has_the_promised_shape() {
        let w = Workload::generate(5_000, 42);
        assert_eq!(w.invoices.len(), 5_000);
        let per_invoice = w.lines.len() as f64 / 5_000.0;
        assert!((12.5..15.5).contains(&per_invoice), "lines per invoice {per_invoice}");
        let mut counts = vec![0; 5_000];
        for (i, l) in w.lines.iter().enumerate() {
            assert_eq!(l.id, i as i64 + 1);
            counts[(l.invoice_id - 1) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (1..=27).contains(c)));
        assert!(counts.contains(&1) && counts.contains(&27));
        let w2 = Workload::generate(5_000, 42);
        assert_eq!(w.lines, w2.lines, "generation is deterministic");
        assert_ne!(Workload::generate(5_000, 43).lines, w.lines);
    }

    #[test]
    fn text_formats_match_postgres() {
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(ISSUED_FROM), "2023-01-01");
        assert_eq!(date_text(ISSUED_FROM + 59), "2023-03-01");
        assert_eq!(date_text(-1), "1999-12-31");
        assert_eq!(date_text(60), "2000-03-01");
        assert_eq!(money_text(-5), "-0.05");
        assert_eq!(money_text(123_450), "1234.50");
        assert_eq!(money_text(0), "0.00");
    }

    #[test]
    fn change_stream_tracks_the_table_and_never_touches_a_line_twice_per_batch() {
        let w = Workload::generate(200, 1);
        let mut s = ChangeStream::new(&w, 2);
        let mut table: HashMap<i64, Line> = w.lines.iter().map(|l| (l.id, l.clone())).collect();
        for size in [1, 100, 1_000] {
            let b = s.batch(size);
            assert_eq!(b.len(), size);
            let mut ids = HashSet::new();
            for c in &b.changes {
                match c {
                    LineChange::Update { old, new } => {
                        assert_eq!(old.id, new.id);
                        assert_eq!(table.insert(new.id, new.clone()).as_ref(), Some(old));
                        assert!(ids.insert(new.id));
                    }
                    LineChange::Insert(l) => {
                        assert!(table.insert(l.id, l.clone()).is_none());
                        assert!(ids.insert(l.id));
                    }
                    LineChange::Delete(l) => {
                        assert_eq!(table.remove(&l.id).as_ref(), Some(l));
                        assert!(ids.insert(l.id));
                    }
                }
            }
            let ins = b.changes.iter().filter(|c| matches!(c, LineChange::Insert(_))).count() as Diff;
            let del = b.changes.iter().filter(|c| matches!(c, LineChange::Delete(_))).count() as Diff;
            let diffs = b.line_diffs();
            assert_eq!(diffs.len() as Diff, 2 * (size as Diff - ins - del) + ins + del);
            assert_eq!(diffs.iter().map(|(_, d)| d).sum::<Diff>(), ins - del);
            assert_eq!(table.len(), s.lines().len());
        }
        let mut now: Vec<_> = s.lines().to_vec();
        now.sort_by_key(|l| l.id);
        let mut expect: Vec<_> = table.into_values().collect();
        expect.sort_by_key(|l| l.id);
        assert_eq!(now, expect);
    }
}
