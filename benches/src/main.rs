//! `freshet-bench`: runs a workload on freshet and on PostgreSQL and prints
//! the figures side by side.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use freshet_benches::adapter::{render as render_adapter, run_adapter, AdapterOptions, OverheadPlan, BULK_ROWS};
use freshet_benches::check::{compare, expected_view, Comparison};
use freshet_benches::freshet_run::{run_database, run_engine, BatchGroup};
use freshet_benches::pg::run_postgres;
use freshet_benches::report::{render, table, Report, RunInfo};
use freshet_benches::workload::{ChangeStream, Workload};
use freshet_benches::BenchError;

/// See [`freshet::allocator`].
#[global_allocator]
static GLOBAL: freshet::allocator::Allocator = freshet::allocator::Allocator;

mod tpch;

/// Benchmarks freshet against PostgreSQL.
#[derive(Parser)]
#[command(name = "freshet-bench", about)]
struct Cli {
    #[command(subcommand)]
    workload: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The invoices view: a LEFT JOIN of invoices and their lines grouped
    /// by invoice, with sums, filtered sums and counts.
    Invoices(InvoicesArgs),
    /// The invoices view kept current inside PostgreSQL by the adapter,
    /// beside PostgreSQL's own materialized view.
    Adapter(AdapterArgs),
    /// The 22 TPC-H queries: one refresh round applied incrementally
    /// against PostgreSQL's REFRESH MATERIALIZED VIEW.
    Tpch(tpch::TpchArgs),
}

#[derive(Parser)]
struct AdapterArgs {
    /// Invoices to generate (about 14 lines each).
    #[arg(long, default_value_t = 100_000)]
    invoices: usize,
    /// Seed of the data and of the writes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Single-row UPDATEs timed until the view row shows them, and as many
    /// timed until `sync` returns.
    #[arg(long, default_value_t = 200)]
    singles: usize,
    /// 10,000-row UPDATEs timed until `sync` returns.
    #[arg(long, default_value_t = 5)]
    large: usize,
    /// 10,000-row INSERTs and UPDATEs each, on the captured and the
    /// uncaptured table.
    #[arg(long, default_value_t = 10)]
    bulk_statements: usize,
    /// Single-row INSERTs and UPDATEs each, on the captured and the
    /// uncaptured table.
    #[arg(long, default_value_t = 1_000)]
    single_statements: usize,
    /// `REFRESH MATERIALIZED VIEW`s timed (the median is used).
    #[arg(long, default_value_t = 3)]
    refreshes: usize,
    /// Timely worker threads of the adapter.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep PostgreSQL's `synchronous_commit` (default: `off` for every
    /// session of the run's database, the adapter's included).
    #[arg(long)]
    pg_durable: bool,
    /// PostgreSQL server; a database is created on it for the run and
    /// dropped afterwards.
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
}

#[derive(Parser)]
struct InvoicesArgs {
    /// Invoices to generate (about 14 lines each).
    #[arg(long, default_value_t = 100_000)]
    invoices: usize,
    /// Timely worker threads for freshet.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Seed of the data and change generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Batches of 1 change.
    #[arg(long, default_value_t = 2_000)]
    singles: usize,
    /// Batches of 100 changes.
    #[arg(long, default_value_t = 200)]
    hundreds: usize,
    /// Batches of 10,000 changes.
    #[arg(long, default_value_t = 10)]
    ten_thousands: usize,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Do not run PostgreSQL (results are checked against an independent
    /// evaluation only).
    #[arg(long)]
    no_postgres: bool,
    /// Let PostgreSQL's commits wait for the WAL flush (default: the
    /// session runs with `synchronous_commit = off`, like freshet's
    /// in-memory storage, which writes nothing to disk).
    #[arg(long)]
    pg_durable: bool,
    /// Do not run the embedded database.
    #[arg(long)]
    no_database: bool,
    /// Do not run the engine runtime directly (the embedded database's
    /// peak RSS is then its own: freed memory is not always returned to
    /// the system between phases).
    #[arg(long)]
    no_engine: bool,
    /// PostgreSQL server; a database is created on it for the run and
    /// dropped afterwards.
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
}

fn main() -> ExitCode {
    freshet::allocator::configure();
    let outcome = match Cli::parse().workload {
        Command::Invoices(args) => invoices(&args),
        Command::Adapter(args) => adapter(&args),
        Command::Tpch(args) => run_tpch(&args),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs the TPC-H workload; `Ok(false)` if a view differed from PostgreSQL's.
fn run_tpch(args: &tpch::TpchArgs) -> Result<bool, BenchError> {
    let report = tpch::run(args)?;
    print!("{}", tpch::render(&report));
    if let Some(path) = &args.json {
        let file = std::fs::File::create(path)?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(file), &report)?;
    }
    Ok(report.correct)
}

/// Runs the adapter workload; `Ok(false)` if the view table was wrong.
fn adapter(args: &AdapterArgs) -> Result<bool, BenchError> {
    let options = AdapterOptions {
        invoices: args.invoices,
        seed: args.seed,
        singles: args.singles,
        large: args.large,
        overhead: OverheadPlan {
            bulk_statements: args.bulk_statements,
            bulk_rows: BULK_ROWS,
            single_statements: args.single_statements,
        },
        refreshes: args.refreshes,
        workers: args.workers,
        durable: args.pg_durable,
        database_url: args.database_url.clone(),
    };
    let report = run_adapter(&options)?;
    print!("{}", render_adapter(&report));
    if let Some(path) = &args.json {
        let file = std::fs::File::create(path)?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(file), &report)?;
    }
    Ok(report.correct)
}

/// Runs the invoices workload; `Ok(false)` if a result was wrong.
fn invoices(args: &InvoicesArgs) -> Result<bool, BenchError> {
    if args.invoices == 0 || args.workers == 0 {
        return Err(BenchError::Workload("--invoices and --workers must be positive".into()));
    }
    if args.no_engine && args.no_database {
        return Err(BenchError::Workload("nothing to run: --no-engine and --no-database".into()));
    }
    eprintln!("generating {} invoices (seed {})…", args.invoices, args.seed);
    let workload = Workload::generate(args.invoices, args.seed);
    let mut stream = ChangeStream::new(&workload, args.seed.wrapping_add(1));
    let groups: Vec<BatchGroup> = [(1, args.singles), (100, args.hundreds), (10_000, args.ten_thousands)]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(size, n)| BatchGroup { size, batches: (0..n).map(|_| stream.batch(size)).collect() })
        .collect();
    let reference = expected_view(&workload.invoices, stream.lines());

    let engine = if args.no_engine {
        None
    } else {
        eprintln!("freshet engine runtime…");
        Some(run_engine(&workload, &groups, args.workers)?)
    };
    let database = if args.no_database {
        None
    } else {
        eprintln!("freshet embedded database…");
        Some(run_database(&workload, &groups, args.workers)?)
    };
    let postgres = if args.no_postgres {
        None
    } else {
        eprintln!("PostgreSQL…");
        Some(run_postgres(&args.database_url, &workload, &groups, args.pg_durable)?)
    };

    let mut checks: Vec<Comparison> = Vec::new();
    let (expected, against) = match &postgres {
        Some(pg) => {
            checks.push(compare("independent evaluation vs PostgreSQL", &pg.view, &reference));
            (&pg.view, "PostgreSQL")
        }
        None => (&reference, "independent evaluation"),
    };
    if let Some(e) = &engine {
        checks.push(compare(&format!("freshet engine vs {against}"), expected, &e.view));
    }
    if let Some(db) = &database {
        checks.push(compare(&format!("freshet database vs {against}"), expected, &db.view));
    }
    let correct = checks.iter().all(|c| c.matches);


    let engine_f = engine.map(|e| e.figures);
    let database_f = database.map(|d| d.figures);
    let postgres_f = postgres.map(|p| p.figures);
    let report = Report {
        run: RunInfo {
            invoices: args.invoices,
            lines: workload.lines.len(),
            seed: args.seed,
            workers: args.workers,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            schedule: groups.iter().map(|g| (g.size, g.batches.len())).collect(),
        },
        table: table(engine_f.as_ref(), database_f.as_ref(), postgres_f.as_ref()),
        engine: engine_f,
        database: database_f,
        postgres: postgres_f,
        checks,
        correct,
    };
    print!("{}", render(&report));
    if let Some(path) = &args.json {
        let file = std::fs::File::create(path)?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(file), &report)?;
    }
    Ok(correct)
}
