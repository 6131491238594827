//! The invoices workload on freshet: the engine runtime driven directly
//! with pre-built rows, and the embedded [`Database`] (storage, constraint
//! checks and catalog included).

use std::time::{Duration, Instant};

use serde::Serialize;

use freshet::{Database, Options};
use freshet_engine::runtime::{Runtime, RuntimeConfig};
use freshet_engine::storage::MemoryStorage;
use freshet_engine::{Diff, ObjectId, Row};

use crate::check::{row_text, sorted_text};
use crate::compile::compile_select;
use crate::error::BenchError;
use crate::stats::{proc_status_mib, reset_peak_rss, BatchStats};
use crate::workload::{Batch, Workload, DDL, INVOICES_ID, LINES_ID, VIEW_ID, VIEW_NAME, VIEW_SQL};

/// Change batches of one size, applied in order.
#[derive(Clone, Debug)]
pub struct BatchGroup {
    /// Changes per batch.
    pub size: usize,
    /// The batches.
    pub batches: Vec<Batch>,
}

/// freshet's figures for one way of running it.
#[derive(Clone, Debug, Serialize)]
pub struct FreshetFigures {
    /// `engine` (runtime driven directly) or `database` (embedded database).
    pub mode: String,
    /// Timely worker threads.
    pub workers: usize,
    /// Seconds to load both tables (one transaction per call).
    pub load_s: f64,
    /// Seconds to create the view over the loaded tables.
    pub build_s: f64,
    /// Steady-state figures per batch size.
    pub batches: Vec<BatchStats>,
    /// Resident memory when the phase started (MiB): the generated
    /// workload and the allocator's retained pages.
    pub rss_at_start_mib: Option<f64>,
    /// Peak resident memory during the phase (MiB, `VmHWM`).
    pub peak_rss_mib: Option<f64>,
}

/// Figures plus the view's final contents as sorted text rows.
#[derive(Clone, Debug)]
pub struct FreshetRun {
    /// The measurements.
    pub figures: FreshetFigures,
    /// The view after every batch, sorted text rows.
    pub view: Vec<String>,
}

/// Runs the workload on a [`Runtime`] fed pre-built rows.
pub fn run_engine(workload: &Workload, groups: &[BatchGroup], workers: usize) -> Result<FreshetRun, BenchError> {
    let rss_at_start_mib = reset_peak_rss();
    let tables = Workload::table_defs();
    let plan = compile_select(VIEW_SQL, &tables)?;
    let mut rt = Runtime::new(RuntimeConfig { workers })?;
    for t in &tables {
        rt.create_table(t.id, t.columns.len())?;
    }
    let mut load: Vec<(ObjectId, Row, Diff)> = Vec::with_capacity(workload.invoices.len() + workload.lines.len());
    load.extend(workload.invoices.iter().map(|i| (INVOICES_ID, i.row(), 1)));
    load.extend(workload.lines.iter().map(|l| (LINES_ID, l.row(), 1)));

    let start = Instant::now();
    rt.apply(load)?;
    let load_s = start.elapsed().as_secs_f64();

    let start = Instant::now();
    rt.create_view(VIEW_ID, &plan)?;
    let build_s = start.elapsed().as_secs_f64();

    let mut batches = Vec::new();
    for g in groups {
        let prepared: Vec<_> = g.batches.iter().map(Batch::engine_changes).collect();
        let mut latencies = Vec::with_capacity(prepared.len());
        for changes in prepared {
            let start = Instant::now();
            rt.apply(changes)?;
            latencies.push(start.elapsed());
        }
        batches.push(BatchStats::new(g.size, &latencies));
    }
    let peak_rss_mib = proc_status_mib("VmHWM");
    let view = sorted_text(&rt.read(VIEW_ID)?);
    Ok(FreshetRun {
        figures: FreshetFigures {
            mode: "engine".into(),
            workers,
            load_s,
            build_s,
            batches,
            rss_at_start_mib,
            peak_rss_mib,
        },
        view,
    })
}

/// Runs the workload through an in-memory [`Database`]: rows are checked
/// against the tables' types and keys and written to storage before the
/// views see them.
pub fn run_database(workload: &Workload, groups: &[BatchGroup], workers: usize) -> Result<FreshetRun, BenchError> {
    let rss_at_start_mib = reset_peak_rss();
    let mut db = Database::with_storage(Box::new(MemoryStorage::new()), Options { workers })?;
    db.execute(DDL)?;
    let invoices: Vec<Row> = workload.invoices.iter().map(|i| i.row()).collect();
    let lines: Vec<Row> = workload.lines.iter().map(|l| l.row()).collect();

    let start = Instant::now();
    db.insert("invoices", invoices)?;
    db.insert("invoice_lines", lines)?;
    let load_s = start.elapsed().as_secs_f64();

    let start = Instant::now();
    db.execute(&format!("CREATE MATERIALIZED VIEW {VIEW_NAME} AS {VIEW_SQL}"))?;
    let build_s = start.elapsed().as_secs_f64();

    let mut batches = Vec::new();
    for g in groups {
        let prepared: Vec<_> = g.batches.iter().map(Batch::line_diffs).collect();
        let mut latencies: Vec<Duration> = Vec::with_capacity(prepared.len());
        for changes in prepared {
            let start = Instant::now();
            db.apply("invoice_lines", changes)?;
            latencies.push(start.elapsed());
        }
        batches.push(BatchStats::new(g.size, &latencies));
    }
    let peak_rss_mib = proc_status_mib("VmHWM");
    let mut view: Vec<String> = db.view_rows(VIEW_NAME)?.iter().map(row_text).collect();
    view.sort();
    Ok(FreshetRun {
        figures: FreshetFigures {
            mode: "database".into(),
            workers,
            load_s,
            build_s,
            batches,
            rss_at_start_mib,
            peak_rss_mib,
        },
        view,
    })
}
