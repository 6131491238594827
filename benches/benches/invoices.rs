//! The invoices view on 10,000 invoices (~140,000 lines): latency of one
//! change and throughput of batches of 100, on the engine runtime driven
//! directly and through the embedded database.
//!
//! Changes come from the workload's change stream (90% amount updates,
//! 5% inserts, 5% deletes); each measured batch is generated before the
//! timer starts. After each target's benchmarks its view is checked
//! against an independent evaluation of the query; the bench fails (after
//! printing every figure) if any view was wrong. Run:
//! `cargo bench -p freshet-benches --bench invoices`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use freshet::{Database, Options};
use freshet_benches::check::{compare, expected_view, row_text, sorted_text};
use freshet_benches::compile::compile_select;
use freshet_benches::workload::{
    Batch, ChangeStream, Workload, DDL, INVOICES_ID, LINES_ID, VIEW_ID, VIEW_NAME, VIEW_SQL,
};
use freshet_engine::runtime::{Runtime, RuntimeConfig};
use freshet_engine::storage::MemoryStorage;

const INVOICES: usize = 10_000;
const SEED: u64 = 11;

/// Either way of running freshet, loaded with the workload and the view.
enum Target {
    Engine(Box<Runtime>),
    Database(Box<Database>),
}

impl Target {
    fn engine(w: &Workload) -> Target {
        let tables = Workload::table_defs();
        let plan = compile_select(VIEW_SQL, &tables).expect("view compiles");
        let mut rt = Runtime::new(RuntimeConfig { workers: 1 }).expect("runtime");
        for t in &tables {
            rt.create_table(t.id, t.columns.len()).expect("table");
        }
        let mut load: Vec<_> = w.invoices.iter().map(|i| (INVOICES_ID, i.row(), 1)).collect();
        load.extend(w.lines.iter().map(|l| (LINES_ID, l.row(), 1)));
        rt.apply(load).expect("load");
        rt.create_view(VIEW_ID, &plan).expect("view");
        Target::Engine(Box::new(rt))
    }

    fn database(w: &Workload) -> Target {
        let mut db =
            Database::with_storage(Box::new(MemoryStorage::new()), Options { workers: 1 }).expect("database");
        db.execute(DDL).expect("tables");
        db.insert("invoices", w.invoices.iter().map(|i| i.row()).collect()).expect("invoices");
        db.insert("invoice_lines", w.lines.iter().map(|l| l.row()).collect()).expect("lines");
        db.execute(&format!("CREATE MATERIALIZED VIEW {VIEW_NAME} AS {VIEW_SQL}")).expect("view");
        Target::Database(Box::new(db))
    }

    fn name(&self) -> &'static str {
        match self {
            Target::Engine(_) => "engine",
            Target::Database(_) => "database",
        }
    }

    /// Applies the batches one transaction each; returns the time spent.
    fn apply(&mut self, batches: &[Batch]) -> Duration {
        match self {
            Target::Engine(rt) => {
                let prepared: Vec<_> = batches.iter().map(Batch::engine_changes).collect();
                let start = Instant::now();
                for changes in prepared {
                    rt.apply(changes).expect("apply");
                }
                start.elapsed()
            }
            Target::Database(db) => {
                let prepared: Vec<_> = batches.iter().map(Batch::line_diffs).collect();
                let start = Instant::now();
                for changes in prepared {
                    db.apply("invoice_lines", changes).expect("apply");
                }
                start.elapsed()
            }
        }
    }

    fn view(&mut self) -> Vec<String> {
        match self {
            Target::Engine(rt) => sorted_text(&rt.read(VIEW_ID).expect("read")),
            Target::Database(db) => {
                let mut v: Vec<String> = db.view_rows(VIEW_NAME).expect("read").iter().map(row_text).collect();
                v.sort();
                v
            }
        }
    }
}

fn invoices(c: &mut Criterion) {
    let workload = Workload::generate(INVOICES, SEED);
    let mut group = c.benchmark_group("invoices");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    let mut failed = Vec::new();
    for make in [Target::engine as fn(&Workload) -> Target, Target::database] {
        let mut target = make(&workload);
        let mut stream = ChangeStream::new(&workload, SEED + 1);
        for size in [1usize, 100] {
            group.throughput(Throughput::Elements(size as u64));
            let id = BenchmarkId::new(target.name(), format!("batch_{size}"));
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let batches: Vec<Batch> = (0..iters).map(|_| stream.batch(size)).collect();
                    target.apply(&batches)
                })
            });
        }
        let check = compare(
            &format!("{} vs independent evaluation", target.name()),
            &expected_view(&workload.invoices, stream.lines()),
            &target.view(),
        );
        if !check.matches {
            eprintln!("WRONG RESULTS: {check:?}");
            failed.push(check.what);
        }
    }
    group.finish();
    assert!(failed.is_empty(), "the view was wrong after the benchmark: {failed:?}");
}

criterion_group!(benches, invoices);
criterion_main!(benches);
