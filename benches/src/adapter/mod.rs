//! The `adapter` workload: the invoices view kept current inside
//! PostgreSQL by freshet's adapter (`freshet-postgres`), measured beside
//! PostgreSQL's own materialized view in the same database and run.
//!
//! In a database created for the run (dropped at the end), after a COPY of
//! the invoices data into the sources and into `invoice_lines_plain` (an
//! uncaptured twin of `invoice_lines`):
//!
//! 1. `CREATE MATERIALIZED VIEW` and `REFRESH MATERIALIZED VIEW` of the
//!    view's query, then freshet's `create-view` of the same query;
//! 2. the adapter started in a thread of this process (its first round
//!    loads the view; the process's memory is sampled around it);
//! 3. single-row UPDATEs of a line's amount, each committed and timed
//!    until the view table's row shows it (and, separately, until `sync`
//!    returns);
//! 4. 10,000-row UPDATEs (one statement each), timed until `sync` returns;
//! 5. with the adapter stopped, INSERT and UPDATE throughput on the
//!    captured table against the twin, statement by statement;
//! 6. a restart with the changes of step 5 pending, and a restart with one
//!    change pending, each timed until the view is current;
//! 7. the view table against PostgreSQL's own `SELECT` (`EXCEPT ALL` both
//!    ways, and as text rows).
//!
//! Every refresh round the adapter reports is kept: the report shows, for
//! the first round of each start and for the rounds of steps 3 and 4,
//! where the time went, stage by stage (`freshet_postgres::stages`).

mod background;
mod report;
mod writes;

use std::time::{Duration, Instant};

use freshet_postgres::{AdapterConfig, ViewOptions};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, Statement};

use crate::check::compare;
use crate::error::BenchError;
use crate::pg::{copy, text_rows, ScratchDatabase};
use crate::stats::{proc_status_mib, reset_peak_rss, BatchStats};
use crate::workload::{Workload, DDL, VIEW_NAME, VIEW_SQL};

pub use background::{conninfo, BackgroundAdapter, Started};
pub use report::{render, AdapterReport, Check, Measured, MemoryFigures, RestartFigures, RoundProfile, StageFigure, TableLine};
pub use writes::{capture_overhead, LineStatements, NewLine, OverheadPlan, WriteFigures, WriteGen};

use writes::{CAPTURED_LINES, PLAIN_LINES};

/// The materialized view PostgreSQL maintains for comparison.
const MV_NAME: &str = "invoice_summary_mv";

/// The view's output columns, in order.
const VIEW_COLUMNS: &str = "id, vendor_id, total, lines, lines_total, goods, tax, discounts, balanced";

/// How long any wait for the adapter may take before the run fails.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// What to run.
#[derive(Clone, Debug)]
pub struct AdapterOptions {
    /// Invoices to generate.
    pub invoices: usize,
    /// Seed of the data and of the writes.
    pub seed: u64,
    /// Single-row UPDATEs timed until visible in the view row, and as many
    /// again timed until `sync` returns.
    pub singles: usize,
    /// 10,000-row UPDATEs timed until `sync` returns.
    pub large: usize,
    /// Statements per kind in the capture-overhead comparison.
    pub overhead: OverheadPlan,
    /// `REFRESH MATERIALIZED VIEW`s timed (the median is used).
    pub refreshes: usize,
    /// Timely workers of the adapter.
    pub workers: usize,
    /// Keep PostgreSQL's `synchronous_commit` (default: `off` for every
    /// session of the run's database, the adapter's included).
    pub durable: bool,
    /// The server; a database is created on it for the run.
    pub database_url: String,
}

/// Rows in a bulk statement.
pub const BULK_ROWS: usize = 10_000;

/// The writing session: prepared single-line statements on the captured
/// table, and `LISTEN freshet_progress` to learn of refresh rounds.
struct User {
    client: Client,
    lines: LineStatements,
    /// `lines_total` of an invoice in the view table, in cents.
    total: Statement,
}

/// One single-row UPDATE ready to run, with the value the view row must
/// show afterwards.
struct SingleChange {
    line: i64,
    invoice: i64,
    cents: i64,
    /// `lines_total` of the invoice after the change, in cents.
    expect: i64,
}

impl User {
    fn new(mut client: Client) -> Result<User, BenchError> {
        client.batch_execute("LISTEN freshet_progress")?;
        let lines = LineStatements::prepare(&mut client, CAPTURED_LINES)?;
        let total = client.prepare(&format!("SELECT (lines_total * 100)::bigint FROM {VIEW_NAME} WHERE id = $1"))?;
        Ok(User { client, lines, total })
    }

    /// Picks a line and a new amount; reads the line and the view row
    /// (the view must be current).
    fn plan(&mut self, gen: &mut WriteGen) -> Result<SingleChange, BenchError> {
        let line = gen.line_id();
        let row = self.client.query_one("SELECT invoice_id, (amount * 100)::bigint FROM invoice_lines WHERE id = $1", &[&line])?;
        let (invoice, old): (i64, Option<i64>) = (row.get(0), row.get(1));
        let before = self.lines_total(invoice)?;
        let cents = gen.amount(old);
        Ok(SingleChange { line, invoice, cents, expect: before - old.unwrap_or(0) + cents })
    }

    /// `lines_total` of an invoice in the view table, in cents.
    fn lines_total(&mut self, invoice: i64) -> Result<i64, BenchError> {
        let got: Option<i64> = self.client.query_one(&self.total, &[&invoice])?.get(0);
        got.ok_or_else(|| BenchError::Workload(format!("invoice {invoice} has a NULL lines_total in the view")))
    }

    /// Runs the UPDATE (its own transaction); returns its latency.
    fn apply(&mut self, c: &SingleChange) -> Result<Duration, BenchError> {
        let start = Instant::now();
        let n = self.lines.update_one(&mut self.client, c.line, c.cents)?;
        if n != 1 {
            return Err(BenchError::Workload(format!("line {} not found", c.line)));
        }
        Ok(start.elapsed())
    }

    /// Forgets refresh rounds announced so far.
    fn drain(&mut self) -> Result<(), BenchError> {
        let _ = self.client.notifications().iter().count()?;
        Ok(())
    }

    /// Waits until the view row shows the change: checks the row after
    /// each refresh round the adapter announces (and every 20 ms).
    fn wait_visible(&mut self, c: &SingleChange, adapter: &BackgroundAdapter) -> Result<(), BenchError> {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let _ = self.client.notifications().timeout_iter(Duration::from_millis(20)).next()?;
            self.drain()?;
            if self.lines_total(c.invoice)? == c.expect {
                return Ok(());
            }
            if Instant::now() >= deadline || !adapter.is_running() {
                return Err(BenchError::Workload(format!(
                    "line {}'s change did not reach the view of invoice {} within {} s",
                    c.line,
                    c.invoice,
                    WAIT_LIMIT.as_secs()
                )));
            }
        }
    }
}

/// `freshet sync` of every view, failing early if the adapter stopped.
fn sync_all(client: &mut Client, adapter: &BackgroundAdapter) -> Result<(), BenchError> {
    let deadline = Instant::now() + WAIT_LIMIT;
    loop {
        match freshet_postgres::sync(client, &[], Duration::from_secs(2)) {
            Ok(()) => return Ok(()),
            Err(freshet_postgres::PgError::Timeout(e)) => {
                if !adapter.is_running() || Instant::now() >= deadline {
                    return Err(BenchError::Workload(format!("the adapter stopped or is stuck: {e}")));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Rows waiting in the change logs of every captured source.
fn log_rows(client: &mut Client) -> Result<i64, BenchError> {
    let oids: Vec<u32> = client.query("SELECT source_oid FROM freshet.sources", &[])?.iter().map(|r| r.get(0)).collect();
    let mut total = 0;
    for oid in oids {
        let n: i64 = client.query_one(&format!("SELECT count(*) FROM freshet.\"log_{oid}\""), &[])?.get(0);
        total += n;
    }
    Ok(total)
}

/// Returns freed heap memory to the system, so that the next phase's
/// resident size is its own.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Compares the view table with PostgreSQL's own result of the query.
fn check(client: &mut Client) -> Result<Check, BenchError> {
    let table = format!("SELECT {VIEW_COLUMNS} FROM {VIEW_NAME}");
    let count = |client: &mut Client, sql: String| -> Result<i64, BenchError> { Ok(client.query_one(&sql, &[])?.get(0)) };
    let view_not_query = count(client, format!("SELECT count(*) FROM ({table} EXCEPT ALL SELECT * FROM ({VIEW_SQL}) q) d"))?;
    let query_not_view = count(client, format!("SELECT count(*) FROM (SELECT * FROM ({VIEW_SQL}) q EXCEPT ALL {table}) d"))?;
    let expected = text_rows(client, VIEW_SQL)?;
    let actual = text_rows(client, &table)?;
    let text = compare("view table vs PostgreSQL's SELECT, as text", &expected, &actual);
    Ok(Check { view_except_query: view_not_query, query_except_view: query_not_view, matches: view_not_query == 0 && query_not_view == 0 && text.matches, text })
}

/// Runs the adapter workload.
pub fn run_adapter(o: &AdapterOptions) -> Result<AdapterReport, BenchError> {
    if o.invoices == 0 || o.workers == 0 || o.singles == 0 || o.refreshes == 0 {
        return Err(BenchError::Workload("--invoices, --workers, --singles and --refreshes must be positive".into()));
    }
    let started = Instant::now();
    let config: Config = o.database_url.parse()?;
    let (scratch, mut client) = ScratchDatabase::create(&config)?;
    let url = conninfo(&config, scratch.name());
    if !o.durable {
        client.batch_execute(&format!(
            "ALTER DATABASE {} SET synchronous_commit = off; SET synchronous_commit = off",
            scratch.name()
        ))?;
    }
    let server_version = text_rows(&mut client, "SELECT version()")?.concat();
    let synchronous_commit = text_rows(&mut client, "SHOW synchronous_commit")?.concat();

    eprintln!("generating {} invoices (seed {})…", o.invoices, o.seed);
    let (invoices, lines, load_s) = {
        let workload = Workload::generate(o.invoices, o.seed);
        client.batch_execute(DDL)?;
        client.batch_execute(&format!("CREATE TABLE {PLAIN_LINES} (LIKE {CAPTURED_LINES} INCLUDING ALL)"))?;
        eprintln!("loading {} invoices and {} lines…", workload.invoices.len(), workload.lines.len());
        let start = Instant::now();
        copy(&mut client, "invoices", workload.invoices.iter().map(|i| i.copy_line()))?;
        copy(&mut client, CAPTURED_LINES, workload.lines.iter().map(|l| l.copy_line()))?;
        let load_s = start.elapsed().as_secs_f64();
        copy(&mut client, PLAIN_LINES, workload.lines.iter().map(|l| l.copy_line()))?;
        client.batch_execute("VACUUM ANALYZE")?;
        (workload.invoices.len(), workload.lines.len(), load_s)
    };
    let source_rows = invoices + lines;
    let mut gen = WriteGen::new(o.seed.wrapping_add(0x5eed), invoices, lines);

    eprintln!("PostgreSQL materialized view…");
    let start = Instant::now();
    client.batch_execute(&format!("CREATE MATERIALIZED VIEW {MV_NAME} AS {VIEW_SQL}"))?;
    let pg_create_s = start.elapsed().as_secs_f64();
    let mut refresh_s = Vec::with_capacity(o.refreshes);
    for _ in 0..o.refreshes {
        let start = Instant::now();
        client.batch_execute(&format!("REFRESH MATERIALIZED VIEW {MV_NAME}"))?;
        refresh_s.push(start.elapsed().as_secs_f64());
    }

    eprintln!("freshet create-view…");
    let mut ctl = freshet_postgres::connect(&url)?;
    freshet_postgres::init(&mut ctl)?;
    let start = Instant::now();
    let created = freshet_postgres::create_view_with(&mut ctl, VIEW_NAME, VIEW_SQL, &ViewOptions::default(), &mut |_| {})?;
    let create_s = start.elapsed().as_secs_f64();
    if created.rows != invoices as i64 {
        return Err(BenchError::Workload(format!("create-view wrote {} rows for {invoices} invoices", created.rows)));
    }

    let mut user = User::new(client)?;

    eprintln!("adapter start…");
    let adapter_config = AdapterConfig { workers: o.workers, ..AdapterConfig::default() };
    trim_heap();
    let rss_before = reset_peak_rss();
    let (mut adapter, first) = BackgroundAdapter::start(&url, adapter_config.clone())?;
    let start_s = first.first_round.as_secs_f64();
    let memory = MemoryFigures::new(rss_before, proc_status_mib("VmHWM"), proc_status_mib("VmRSS"), source_rows);
    if first.report.views_loaded != [VIEW_NAME.to_string()] || !first.report.failed.is_empty() {
        return Err(BenchError::Workload(format!("the adapter's first round: {:?}", first.report)));
    }
    sync_all(&mut ctl, &adapter)?;

    eprintln!("{} single-row UPDATEs, until the view row shows each…", o.singles);
    let (mut visible, mut statement) = (Vec::with_capacity(o.singles), Vec::with_capacity(o.singles));
    for _ in 0..o.singles {
        let c = user.plan(&mut gen)?;
        user.drain()?;
        let start = Instant::now();
        statement.push(user.apply(&c)?);
        user.wait_visible(&c, &adapter)?;
        visible.push(start.elapsed());
    }
    eprintln!("{} single-row UPDATEs, until `sync` returns…", o.singles);
    let mut synced = Vec::with_capacity(o.singles);
    for _ in 0..o.singles {
        let c = user.plan(&mut gen)?;
        let start = Instant::now();
        user.apply(&c)?;
        sync_all(&mut ctl, &adapter)?;
        synced.push(start.elapsed());
        let got = user.lines_total(c.invoice)?;
        if got != c.expect {
            return Err(BenchError::Workload(format!("after sync, invoice {} shows {got}, expected {}", c.invoice, c.expect)));
        }
    }

    let mut profiles = vec![
        RoundProfile::of("first start, first round", std::slice::from_ref(&first.report)),
        RoundProfile::new("1-row UPDATEs", &adapter.take_rounds()),
    ];
    eprintln!("{} UPDATEs of {BULK_ROWS} rows, until `sync` returns…", o.large);
    let (mut large, mut large_statement) = (Vec::with_capacity(o.large), Vec::with_capacity(o.large));
    for _ in 0..o.large {
        let ids = gen.line_ids(BULK_ROWS);
        let cents = gen.amounts(ids.len());
        let start = Instant::now();
        let n = user.lines.update_many(&mut user.client, &ids, &cents)?;
        large_statement.push(start.elapsed());
        sync_all(&mut ctl, &adapter)?;
        large.push(start.elapsed());
        if n != ids.len() as u64 {
            return Err(BenchError::Workload(format!("a bulk UPDATE changed {n} rows of {}", ids.len())));
        }
    }
    let large_rows = BULK_ROWS.min(lines);
    profiles.push(RoundProfile::new(&format!("{large_rows}-row UPDATEs"), &adapter.take_rounds()));

    eprintln!("capture overhead (adapter stopped)…");
    adapter.stop()?;
    let writes = capture_overhead(&mut user.client, &mut gen, o.overhead)?;

    eprintln!("restart with the writes pending…");
    let pending = log_rows(&mut ctl)?;
    background::wait_lock_free(&mut ctl, Duration::from_secs(30))?;
    let start = Instant::now();
    let (mut adapter, first) = BackgroundAdapter::start(&url, adapter_config.clone())?;
    sync_all(&mut ctl, &adapter)?;
    profiles.push(RoundProfile::of("restart with the writes pending, first round", std::slice::from_ref(&first.report)));
    let backlog = RestartFigures { pending_log_rows: pending, first_round_s: first.first_round.as_secs_f64(), current_s: start.elapsed().as_secs_f64() };

    eprintln!("restart with one change pending…");
    adapter.stop()?;
    drop(adapter);
    background::wait_lock_free(&mut ctl, Duration::from_secs(30))?;
    let c = user.plan(&mut gen)?;
    user.apply(&c)?;
    let pending = log_rows(&mut ctl)?;
    user.drain()?;
    let start = Instant::now();
    let (mut adapter, first) = BackgroundAdapter::start(&url, adapter_config)?;
    user.wait_visible(&c, &adapter)?;
    profiles.push(RoundProfile::of("restart with one change pending, first round", std::slice::from_ref(&first.report)));
    let one = RestartFigures { pending_log_rows: pending, first_round_s: first.first_round.as_secs_f64(), current_s: start.elapsed().as_secs_f64() };

    eprintln!("checking the view table against PostgreSQL…");
    sync_all(&mut ctl, &adapter)?;
    let check = check(&mut user.client)?;
    adapter.stop()?;
    let final_lines: i64 = user.client.query_one("SELECT count(*) FROM invoice_lines", &[])?.get(0);
    let plain_lines: i64 = user.client.query_one(&format!("SELECT count(*) FROM {PLAIN_LINES}"), &[])?.get(0);
    if final_lines != plain_lines {
        return Err(BenchError::Workload(format!("the twin tables diverged: {final_lines} vs {plain_lines} lines")));
    }
    drop(ctl);
    drop(user);
    drop(scratch);

    let single_update_ms = writes.iter().find(|w| w.statement == "UPDATE" && w.rows_per_statement == 1).map(|w| w.plain.p50_ms);
    let bulk_update_ms = writes.iter().find(|w| w.statement == "UPDATE" && w.rows_per_statement > 1).map(|w| w.plain.p50_ms);
    Ok(AdapterReport::new(Measured {
        invoices,
        lines,
        seed: o.seed,
        workers: o.workers,
        server_version,
        synchronous_commit,
        load_s,
        pg_create_s,
        refresh_s: median(refresh_s.clone()),
        refreshes_s: refresh_s,
        create_s,
        start_s,
        memory,
        single_visible: BatchStats::new(1, &visible),
        single_statement: BatchStats::new(1, &statement),
        single_sync: BatchStats::new(1, &synced),
        large_visible: BatchStats::new(large_rows, &large),
        large_statement: BatchStats::new(large_rows, &large_statement),
        pg_single_update_ms: single_update_ms,
        pg_bulk_update_ms: bulk_update_ms,
        writes,
        profiles,
        backlog,
        one,
        check,
        total_s: started.elapsed().as_secs_f64(),
    }))
}
