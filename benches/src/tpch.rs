//! `freshet-bench tpch`: the TPC-H queries maintained incrementally by the
//! embedded database against PostgreSQL's `REFRESH MATERIALIZED VIEW` of
//! the same query, after the same refresh rounds, measured in one run.
//!
//! The data (generated with `tpchgen`), the queries and the refresh rounds
//! (about 1% of the data: new orders with their lineitems, deleted orders,
//! updates of parts, suppliers, partsupps, customers, a nation, orders and
//! lineitems) are `freshet_tests::tpch`'s, the ones the TPC-H test checks.
//!
//! Both systems hold the same tables. For each query freshet compiles, the
//! view is created in both; then for each of `--rounds` rounds the same
//! changes are applied to both, and the figures are:
//!
//! * **freshet**: the time to apply the round as one transaction (storage
//!   write, constraint checks, and maintaining that one view, the only one
//!   present);
//! * **PostgreSQL**: the time of `REFRESH MATERIALIZED VIEW` after the
//!   round's DML (which is timed separately).
//!
//! freshet's cost of writing the tables alone (storage, constraint checks,
//! the tables' own arrangements) is measured on a second embedded database
//! holding the same tables and no view: every round is applied to both,
//! one after the other (alternating which goes first), so the *tables*
//! figure is a median over the same rounds, taken at the same moments, as
//! the round with the view. The view's own maintenance cost is the median
//! round less the median tables time. With `--tables-before` (no second
//! database, half the memory) the tables rounds are instead that many
//! rounds applied just before the view is created. After every round the
//! two views' contents are compared.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use freshet::Database;
use freshet_tests::tpch::postgres::{describe, TpchPostgres};
use freshet_tests::tpch::{
    compare_rows, embedded, Data, Query, RefreshStream, Round, TextRow, QUERIES,
};
use serde::Serialize;

use crate::BenchError;

/// Arguments of `freshet-bench tpch`.
#[derive(Parser)]
pub struct TpchArgs {
    /// TPC-H scale factor (1 is about 8.7 million rows).
    #[arg(long, default_value_t = 0.1)]
    pub scale: f64,
    /// Refresh rounds timed per query (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Seed of the refresh rounds.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only these queries (comma-separated numbers, e.g. `1,3,18`).
    #[arg(long, value_delimiter = ',')]
    pub queries: Vec<u8>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Keep PostgreSQL's `synchronous_commit` (default: `off` for the
    /// run's session, like freshet's in-memory storage).
    #[arg(long)]
    pub pg_durable: bool,
    /// Do not index PostgreSQL's foreign key columns (by default they are,
    /// as in a usual TPC-H setup; the primary keys always are).
    #[arg(long)]
    pub pg_no_indexes: bool,
    /// Measure the tables alone on `--rounds` rounds applied before each
    /// view is created, instead of on a second database without views
    /// interleaved with the view's rounds (which doubles freshet's memory).
    #[arg(long)]
    pub tables_before: bool,
    /// PostgreSQL server; a database is created on it for the run and
    /// dropped afterwards.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub database_url: String,
}

/// The run's parameters.
#[derive(Clone, Debug, Serialize)]
pub struct TpchRun {
    /// Scale factor.
    pub scale: f64,
    /// Rows in all tables after loading.
    pub rows: usize,
    /// Rounds timed per query.
    pub rounds: usize,
    /// Seed of the rounds.
    pub seed: u64,
    /// PostgreSQL had indexes on the foreign keys.
    pub pg_indexes: bool,
    /// Row changes in a round (an update counts two), averaged.
    pub changes_per_round: f64,
    /// CPUs available to the process.
    pub cpus: usize,
    /// `SELECT version()`.
    pub server_version: String,
    /// Seconds to load freshet.
    pub freshet_load_s: f64,
    /// Seconds to load PostgreSQL (COPY, indexes, ANALYZE).
    pub pg_load_s: f64,
    /// A round applied to freshet without any view, in milliseconds: the
    /// cost of writing the tables alone.
    pub freshet_baseline_ms: f64,
    /// How the tables alone were timed: `"interleaved"` (a second database
    /// without views, given every round beside the view's) or `"before"`
    /// (rounds applied before the view was created).
    pub tables_measure: &'static str,
}

/// One query's figures.
#[derive(Clone, Debug, Serialize)]
pub struct TpchQuery {
    /// TPC-H query number.
    pub number: u8,
    /// Why freshet refused it, if it did (then nothing else is measured).
    pub unsupported: Option<String>,
    /// Seconds for freshet's `CREATE MATERIALIZED VIEW` over the loaded
    /// tables.
    pub freshet_create_s: f64,
    /// Seconds for PostgreSQL's `CREATE MATERIALIZED VIEW`.
    pub pg_create_s: f64,
    /// Median of `freshet_tables_round_ms`: the cost of the tables alone.
    pub freshet_tables_ms: f64,
    /// Milliseconds to apply each round to freshet with no view present
    /// (see [`TpchRun::tables_measure`]).
    pub freshet_tables_round_ms: Vec<f64>,
    /// Milliseconds to apply each round in freshet, view maintained.
    pub freshet_round_ms: Vec<f64>,
    /// Milliseconds of PostgreSQL's DML for each round.
    pub pg_dml_ms: Vec<f64>,
    /// Milliseconds of `REFRESH MATERIALIZED VIEW` after each round.
    pub pg_refresh_ms: Vec<f64>,
    /// Median of `freshet_round_ms`.
    pub freshet_median_ms: f64,
    /// Median of `pg_refresh_ms`.
    pub pg_refresh_median_ms: f64,
    /// `freshet_median_ms - freshet_tables_ms`: the view's own maintenance
    /// cost per round.
    pub freshet_view_ms: f64,
    /// `pg_refresh_median_ms / freshet_median_ms`.
    pub speedup: f64,
    /// `pg_refresh_median_ms / freshet_view_ms` (NaN, `null` in JSON, when
    /// the view's cost is not above zero, i.e. lost in the noise).
    pub speedup_view: f64,
    /// PostgreSQL's median DML plus REFRESH over `freshet_median_ms`: the
    /// whole cost of a fresh view after the round in each system.
    pub speedup_with_dml: f64,
    /// The view's rows after the last round.
    pub rows: usize,
    /// Differences from PostgreSQL's view, if any.
    pub mismatches: Vec<String>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct TpchReport {
    /// Parameters.
    pub run: TpchRun,
    /// Per query.
    pub queries: Vec<TpchQuery>,
    /// Every view equalled PostgreSQL's after every round.
    pub correct: bool,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Both systems with the same tables, and the stream of rounds.
struct Systems {
    data: Data,
    stream: RefreshStream,
    db: Database,
    /// The same tables without views (interleaved tables measure).
    twin: Option<Database>,
    pg: TpchPostgres,
    changes: Vec<usize>,
    /// Rounds applied so far (decides which database goes first).
    applied: usize,
}

impl Systems {
    fn next_round(&mut self) -> Round {
        let round = self.stream.next_round(&self.data);
        self.changes.push(round.len());
        round
    }

    /// Applies `round` to freshet: to `db` and, if present, to the twin
    /// without views, alternating which goes first. Returns the
    /// milliseconds of `db` and of the twin.
    fn apply_freshet(&mut self, round: &Round) -> Result<(f64, Option<f64>), BenchError> {
        let twin_first = self.applied % 2 == 1;
        self.applied += 1;
        let mut twin_ms = None;
        if twin_first {
            twin_ms = self.apply_twin(round)?;
        }
        let started = Instant::now();
        embedded::apply(&mut self.db, round)?;
        let db_ms = ms(started.elapsed());
        if !twin_first {
            twin_ms = self.apply_twin(round)?;
        }
        Ok((db_ms, twin_ms))
    }

    fn apply_twin(&mut self, round: &Round) -> Result<Option<f64>, BenchError> {
        let Some(twin) = self.twin.as_mut() else {
            return Ok(None);
        };
        let started = Instant::now();
        embedded::apply(twin, round)?;
        Ok(Some(ms(started.elapsed())))
    }
}

/// Runs the benchmark (the report says whether every view matched).
pub fn run(args: &TpchArgs) -> Result<TpchReport, BenchError> {
    run_inner(args).map_err(|e| match e {
        BenchError::Postgres(e) => BenchError::Workload(format!("PostgreSQL: {}", describe(&e))),
        e => e,
    })
}

fn run_inner(args: &TpchArgs) -> Result<TpchReport, BenchError> {
    if args.scale.is_nan() || args.scale <= 0.0 || args.rounds == 0 {
        return Err(BenchError::Workload(
            "--scale and --rounds must be positive".into(),
        ));
    }
    let selected: Vec<Query> = QUERIES
        .iter()
        .copied()
        .filter(|q| args.queries.is_empty() || args.queries.contains(&q.number))
        .collect();
    eprintln!("generating TPC-H data at SF {}…", args.scale);
    let data = Data::generate(args.scale);
    let rows = data.total_rows();

    eprintln!("loading PostgreSQL…");
    let mut pg = TpchPostgres::create(&args.database_url, "bench")?;
    if !args.pg_durable {
        pg.client().batch_execute("SET synchronous_commit = off")?;
    }
    let server_version = pg
        .query_text("SELECT version()")?
        .first()
        .and_then(|r| r[0].clone())
        .unwrap_or_default();
    let started = Instant::now();
    pg.load(&data)?;
    if !args.pg_no_indexes {
        pg.create_indexes()?;
    }
    let pg_load_s = started.elapsed().as_secs_f64();

    eprintln!("loading freshet…");
    let mut db = Database::open_in_memory()?;
    let started = Instant::now();
    embedded::load(&mut db, &data)?;
    let freshet_load_s = started.elapsed().as_secs_f64();

    let twin = if args.tables_before {
        None
    } else {
        eprintln!("loading freshet's second database (tables only)…");
        let mut twin = Database::open_in_memory()?;
        embedded::load(&mut twin, &data)?;
        Some(twin)
    };

    let stream = RefreshStream::new(&data, args.seed);
    let mut s = Systems {
        data,
        stream,
        db,
        twin,
        pg,
        changes: Vec::new(),
        applied: 0,
    };

    // Baseline: a round with no view at all.
    let round = s.next_round();
    let (freshet_baseline_ms, _) = s.apply_freshet(&round)?;
    s.pg.apply(&round)?;
    s.data.apply(&round);

    let mut queries = Vec::new();
    for q in &selected {
        eprintln!("{}…", q.view_name());
        queries.push(measure(&mut s, q, args.rounds)?);
    }
    let correct = queries.iter().all(|q| q.mismatches.is_empty());
    let changes_per_round = s.changes.iter().sum::<usize>() as f64 / s.changes.len().max(1) as f64;
    Ok(TpchReport {
        run: TpchRun {
            scale: args.scale,
            rows,
            rounds: args.rounds,
            seed: args.seed,
            pg_indexes: !args.pg_no_indexes,
            changes_per_round,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            server_version,
            freshet_load_s,
            pg_load_s,
            freshet_baseline_ms,
            tables_measure: if args.tables_before {
                "before"
            } else {
                "interleaved"
            },
        },
        queries,
        correct,
    })
}

/// One query: create the view in both systems, time `rounds` rounds, drop
/// the views.
fn measure(s: &mut Systems, q: &Query, rounds: usize) -> Result<TpchQuery, BenchError> {
    let name = q.view_name();
    let mut out = TpchQuery {
        number: q.number,
        unsupported: None,
        freshet_create_s: 0.0,
        pg_create_s: 0.0,
        freshet_tables_ms: f64::NAN,
        freshet_tables_round_ms: Vec::new(),
        freshet_round_ms: Vec::new(),
        pg_dml_ms: Vec::new(),
        pg_refresh_ms: Vec::new(),
        freshet_median_ms: f64::NAN,
        pg_refresh_median_ms: f64::NAN,
        freshet_view_ms: f64::NAN,
        speedup: f64::NAN,
        speedup_view: f64::NAN,
        speedup_with_dml: f64::NAN,
        rows: 0,
        mismatches: Vec::new(),
    };
    // Without a twin database, the tables alone are timed on as many
    // rounds applied before the view exists.
    if s.twin.is_none() {
        for _ in 0..rounds {
            let round = s.next_round();
            let (tables_ms, _) = s.apply_freshet(&round)?;
            out.freshet_tables_round_ms.push(tables_ms);
            s.pg.apply(&round)?;
            s.data.apply(&round);
        }
    }

    let started = Instant::now();
    match embedded::create_view(&mut s.db, q) {
        Ok(()) => out.freshet_create_s = started.elapsed().as_secs_f64(),
        Err(e) if embedded::is_unsupported(&e) => {
            out.unsupported = Some(embedded::describe_error(q, &e));
            return Ok(out);
        }
        Err(e) => return Err(e.into()),
    }
    let started = Instant::now();
    s.pg.client()
        .batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {}", q.sql))?;
    out.pg_create_s = started.elapsed().as_secs_f64();

    for n in 1..=rounds {
        let round = s.next_round();
        let (round_ms, tables_ms) = s.apply_freshet(&round)?;
        out.freshet_round_ms.push(round_ms);
        out.freshet_tables_round_ms.extend(tables_ms);
        let started = Instant::now();
        s.pg.apply(&round)?;
        out.pg_dml_ms.push(ms(started.elapsed()));
        let started = Instant::now();
        s.pg.client()
            .batch_execute(&format!("REFRESH MATERIALIZED VIEW {name}"))?;
        out.pg_refresh_ms.push(ms(started.elapsed()));
        s.data.apply(&round);

        let expected: Vec<TextRow> = s.pg.query_text(&format!("SELECT * FROM {name}"))?;
        let actual = embedded::view_text(&mut s.db, &name)?;
        out.rows = actual.len();
        if let Err(diff) = compare_rows(&expected, &actual, 3) {
            eprintln!("{name}, round {n}: differs from PostgreSQL: {diff}");
            out.mismatches.push(format!("round {n}: {diff}"));
        }
    }
    s.db.execute(&format!("DROP MATERIALIZED VIEW {name}"))?;
    s.pg.client()
        .batch_execute(&format!("DROP MATERIALIZED VIEW {name}"))?;
    out.freshet_median_ms = median(&out.freshet_round_ms);
    out.pg_refresh_median_ms = median(&out.pg_refresh_ms);
    out.freshet_tables_ms = median(&out.freshet_tables_round_ms);
    out.freshet_view_ms = out.freshet_median_ms - out.freshet_tables_ms;
    out.speedup = out.pg_refresh_median_ms / out.freshet_median_ms;
    out.speedup_view = if out.freshet_view_ms > 0.0 {
        out.pg_refresh_median_ms / out.freshet_view_ms
    } else {
        f64::NAN
    };
    let pg_total: Vec<f64> = out
        .pg_dml_ms
        .iter()
        .zip(&out.pg_refresh_ms)
        .map(|(a, b)| a + b)
        .collect();
    out.speedup_with_dml = median(&pg_total) / out.freshet_median_ms;
    Ok(out)
}

/// The report as a table: one line per query.
pub fn render(r: &TpchReport) -> String {
    let run = &r.run;
    let mut out =
        format!(
        "TPC-H SF {} ({} rows), {} round(s) per query of ~{:.0} row changes, seed {}, {} CPUs\n\
         load: freshet {:.2} s, PostgreSQL {:.2} s ({}); freshet round without views: {:.1} ms; tables timed {}\n\
         {}\n\n",
        run.scale,
        run.rows,
        run.rounds,
        run.changes_per_round,
        run.seed,
        run.cpus,
        run.freshet_load_s,
        run.pg_load_s,
        if run.pg_indexes { "foreign keys indexed" } else { "primary keys only" },
        run.freshet_baseline_ms,
        run.tables_measure,
        run.server_version,
    );
    out.push_str(&format!(
        "{:<5} {:>6} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9}  {}\n",
        "query",
        "rows",
        "create",
        "pg",
        "freshet",
        "tables",
        "view",
        "pg DML",
        "pg REFR.",
        "REFRESH",
        "REFRESH",
        "DML+REFR.",
        "check"
    ));
    out.push_str(&format!(
        "{:<5} {:>6} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9}\n",
        "",
        "",
        "(s)",
        "create",
        "(ms)",
        "(ms)",
        "(ms)",
        "(ms)",
        "(ms)",
        "/freshet",
        "/view",
        "/freshet"
    ));
    for q in &r.queries {
        let name = format!("q{:02}", q.number);
        if let Some(e) = &q.unsupported {
            out.push_str(&format!("{name:<5} not supported: {e}\n"));
            continue;
        }
        let per_view = if q.speedup_view.is_finite() {
            format!("{:.2}x", q.speedup_view)
        } else {
            "-".to_string()
        };
        out.push_str(&format!(
            "{name:<5} {:>6} {:>8.2} {:>8.2} {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>9.1} {:>7.2}x {:>8} {:>8.2}x  {}\n",
            q.rows,
            q.freshet_create_s,
            q.pg_create_s,
            q.freshet_median_ms,
            q.freshet_tables_ms,
            q.freshet_view_ms,
            median(&q.pg_dml_ms),
            q.pg_refresh_median_ms,
            q.speedup,
            per_view,
            q.speedup_with_dml,
            if q.mismatches.is_empty() { "ok" } else { "DIFFERS" },
        ));
    }
    out.push_str(&format!(
        "\ncreate: CREATE MATERIALIZED VIEW over the loaded tables (freshet, then PostgreSQL); freshet: median \
         time to apply a round as one transaction with the view maintained; tables: median time of {}, with \
         no view; view: freshet less tables, the view's own maintenance; pg DML and pg REFR.: median time of \
         the round's DELETE/COPY and of REFRESH MATERIALIZED VIEW after it; the ratios are PostgreSQL's time over \
         freshet's (\"-\": the view's cost is within the noise).\n",
        if run.tables_measure == "before" {
            "as many rounds applied just before the view was created"
        } else {
            "the same rounds applied to a second database holding only the tables, interleaved"
        },
    ));
    out
}
