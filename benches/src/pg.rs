//! The invoices workload on PostgreSQL, in a database of its own created
//! for the run and dropped afterwards: COPY load, `CREATE MATERIALIZED
//! VIEW`, `REFRESH MATERIALIZED VIEW`, and the same change batches applied
//! as set-based UPDATE / INSERT / DELETE statements (one transaction per
//! batch, the view not refreshed).

use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, SimpleQueryMessage, Statement};
use serde::Serialize;

use crate::check::NULL_TEXT;
use crate::error::BenchError;
use crate::freshet_run::BatchGroup;
use crate::stats::BatchStats;
use crate::workload::{money_text, Batch, Line, LineChange, Workload, DDL, VIEW_NAME, VIEW_SQL};

/// PostgreSQL's figures.
#[derive(Clone, Debug, Serialize)]
pub struct PgFigures {
    /// `SELECT version()`.
    pub server_version: String,
    /// The session's `synchronous_commit`: `off` unless the run asked for
    /// durable commits (then each commit waits for its WAL flush).
    pub synchronous_commit: String,
    /// Seconds to COPY both tables (primary key indexes maintained).
    pub load_s: f64,
    /// Seconds for `CREATE MATERIALIZED VIEW` over the loaded tables.
    pub create_view_s: f64,
    /// Seconds for one `REFRESH MATERIALIZED VIEW` right after.
    pub refresh_s: f64,
    /// The change batches as UPDATE/INSERT/DELETE, without refresh.
    pub batches: Vec<BatchStats>,
}

/// Figures plus the view query's result after all batches.
#[derive(Clone, Debug)]
pub struct PgRun {
    /// The measurements.
    pub figures: PgFigures,
    /// `SELECT …` of the view over the final tables, sorted text rows.
    pub view: Vec<String>,
}

/// A database created for one run, dropped (with its connections) when
/// this value is dropped.
pub struct ScratchDatabase {
    admin: Client,
    name: String,
}

impl ScratchDatabase {
    /// Creates a database with a name unique to this process and time on
    /// the server `config` points at, and connects to it.
    pub fn create(config: &Config) -> Result<(ScratchDatabase, Client), BenchError> {
        let mut admin = config.connect(NoTls)?;
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let name = format!("freshet_bench_{}_{millis}", std::process::id());
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let scratch = ScratchDatabase { admin, name };
        let mut own = config.clone();
        own.dbname(&scratch.name);
        let client = own.connect(NoTls)?;
        Ok((scratch, client))
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("warning: could not drop database {}: {e}", self.name);
        }
    }
}

/// Statements applying a batch, prepared once.
struct Appliers {
    update: Statement,
    insert: Statement,
    delete: Statement,
}

impl Appliers {
    fn prepare(client: &mut Client) -> Result<Appliers, BenchError> {
        Ok(Appliers {
            update: client.prepare(
                "UPDATE invoice_lines l SET qty = v.qty, amount = v.amount::numeric(12,2) \
                 FROM unnest($1::bigint[], $2::int[], $3::text[]) AS v(id, qty, amount) WHERE l.id = v.id",
            )?,
            insert: client.prepare(
                "INSERT INTO invoice_lines (id, invoice_id, line_no, kind, qty, amount) \
                 SELECT id, invoice_id, line_no, kind, qty, amount::numeric(12,2) \
                 FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::int[], $6::text[]) \
                 AS v(id, invoice_id, line_no, kind, qty, amount)",
            )?,
            delete: client.prepare("DELETE FROM invoice_lines WHERE id = ANY($1::bigint[])")?,
        })
    }
}

/// A batch split into the parameters of the three statements.
#[derive(Default)]
struct BatchParams {
    upd_id: Vec<i64>,
    upd_qty: Vec<i32>,
    upd_amount: Vec<Option<String>>,
    ins: Vec<Line>,
    del_id: Vec<i64>,
}

impl BatchParams {
    fn new(batch: &Batch) -> BatchParams {
        let mut p = BatchParams::default();
        for c in &batch.changes {
            match c {
                LineChange::Update { new, .. } => {
                    p.upd_id.push(new.id);
                    p.upd_qty.push(new.qty);
                    p.upd_amount.push(new.amount.map(money_text));
                }
                LineChange::Insert(l) => p.ins.push(l.clone()),
                LineChange::Delete(l) => p.del_id.push(l.id),
            }
        }
        p
    }

    fn statements(&self) -> usize {
        usize::from(!self.upd_id.is_empty()) + usize::from(!self.ins.is_empty()) + usize::from(!self.del_id.is_empty())
    }

    /// Runs the statements on `client` (a connection or a transaction).
    fn run(&self, client: &mut impl postgres::GenericClient, s: &Appliers) -> Result<(), BenchError> {
        if !self.del_id.is_empty() {
            client.execute(&s.delete, &[&self.del_id])?;
        }
        if !self.upd_id.is_empty() {
            client.execute(&s.update, &[&self.upd_id, &self.upd_qty, &self.upd_amount])?;
        }
        if !self.ins.is_empty() {
            let id: Vec<i64> = self.ins.iter().map(|l| l.id).collect();
            let invoice: Vec<i64> = self.ins.iter().map(|l| l.invoice_id).collect();
            let no: Vec<i32> = self.ins.iter().map(|l| l.line_no).collect();
            let kind: Vec<&str> = self.ins.iter().map(|l| l.kind.as_str()).collect();
            let qty: Vec<i32> = self.ins.iter().map(|l| l.qty).collect();
            let amount: Vec<Option<String>> = self.ins.iter().map(|l| l.amount.map(money_text)).collect();
            let params: [&(dyn ToSql + Sync); 6] = [&id, &invoice, &no, &kind, &qty, &amount];
            client.execute(&s.insert, &params)?;
        }
        Ok(())
    }
}

/// Streams rows to `COPY table FROM STDIN` in text format.
pub fn copy(client: &mut Client, table: &str, lines: impl Iterator<Item = String>) -> Result<(), BenchError> {
    let mut writer = client.copy_in(&format!("COPY {table} FROM STDIN"))?;
    let mut buf = String::with_capacity(1 << 20);
    for line in lines {
        buf.push_str(&line);
        if buf.len() >= 1 << 20 {
            writer.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    writer.write_all(buf.as_bytes())?;
    writer.finish()?;
    Ok(())
}

/// Rows of a simple query as sorted text rows (NULL as `\N`).
pub fn text_rows(client: &mut Client, sql: &str) -> Result<Vec<String>, BenchError> {
    let mut out = Vec::new();
    for msg in client.simple_query(sql)? {
        if let SimpleQueryMessage::Row(row) = msg {
            let values: Vec<&str> = (0..row.len()).map(|i| row.get(i).unwrap_or(NULL_TEXT)).collect();
            out.push(values.join("\t"));
        }
    }
    out.sort();
    Ok(out)
}

/// Runs the workload on the server at `url` (a `postgres://` URL or a
/// key=value connection string), in a fresh database. Unless `durable`,
/// the session sets `synchronous_commit = off`: commits do not wait for the
/// WAL flush, as freshet's in-memory runs do not write to disk.
pub fn run_postgres(url: &str, workload: &Workload, groups: &[BatchGroup], durable: bool) -> Result<PgRun, BenchError> {
    let config: Config = url.parse()?;
    let (_scratch, mut client) = ScratchDatabase::create(&config)?;
    let server_version = text_rows(&mut client, "SELECT version()")?.concat();
    if !durable {
        client.batch_execute("SET synchronous_commit = off")?;
    }
    let synchronous_commit = text_rows(&mut client, "SHOW synchronous_commit")?.concat();
    client.batch_execute(DDL)?;

    let start = Instant::now();
    copy(&mut client, "invoices", workload.invoices.iter().map(|i| i.copy_line()))?;
    copy(&mut client, "invoice_lines", workload.lines.iter().map(|l| l.copy_line()))?;
    let load_s = start.elapsed().as_secs_f64();
    client.batch_execute("ANALYZE")?;

    let start = Instant::now();
    client.batch_execute(&format!("CREATE MATERIALIZED VIEW {VIEW_NAME} AS {VIEW_SQL}"))?;
    let create_view_s = start.elapsed().as_secs_f64();

    let start = Instant::now();
    client.batch_execute(&format!("REFRESH MATERIALIZED VIEW {VIEW_NAME}"))?;
    let refresh_s = start.elapsed().as_secs_f64();

    let appliers = Appliers::prepare(&mut client)?;
    let mut batches = Vec::new();
    for g in groups {
        let prepared: Vec<BatchParams> = g.batches.iter().map(BatchParams::new).collect();
        let mut latencies = Vec::with_capacity(prepared.len());
        for p in &prepared {
            let start = Instant::now();
            if p.statements() == 1 {
                p.run(&mut client, &appliers)?;
            } else {
                let mut txn = client.transaction()?;
                p.run(&mut txn, &appliers)?;
                txn.commit()?;
            }
            latencies.push(start.elapsed());
        }
        batches.push(BatchStats::new(g.size, &latencies));
    }
    let view = text_rows(&mut client, VIEW_SQL)?;
    drop(client);
    Ok(PgRun { figures: PgFigures { server_version, synchronous_commit, load_s, create_view_s, refresh_s, batches }, view })
}
