//! Per-change cost of maintaining aggregates of one group, as the group
//! grows from 10 to 1,000,000 rows.
//!
//! * `sum_count/N`: `SELECT g, sum(v), count(*) FROM t GROUP BY g` over one
//!   group of N rows; one iteration inserts a row into the group and
//!   deletes it again (two transactions). Sums ride in the diff, so this
//!   must not depend on N.
//! * `min_max/N`: `SELECT g, min(v), max(v) FROM t GROUP BY g`; one
//!   iteration updates the current minimum to a value above the maximum
//!   (both extremes move) and back (two transactions). The hierarchical
//!   reduction makes this grow at most with log N.
//!
//! Loading the group and building the view happen outside the measured
//! loop. Run: `cargo bench -p freshet-benches --bench aggregates`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use freshet_benches::compile::compile_select;
use freshet_engine::catalog::{Column, TableDef};
use freshet_engine::runtime::{Runtime, RuntimeConfig};
use freshet_engine::{DataType, Diff, ObjectId, Row, Value};

const TABLE: ObjectId = ObjectId(1);
const VIEW: ObjectId = ObjectId(2);
const GROUP: i32 = 7;
const SIZES: [i64; 3] = [10, 10_000, 1_000_000];

fn table_def() -> TableDef {
    TableDef {
        id: TABLE,
        name: "t".into(),
        columns: vec![
            Column { name: "g".into(), ty: DataType::Int4, nullable: false },
            Column { name: "v".into(), ty: DataType::Int8, nullable: true },
        ],
        primary_key: Vec::new(),
    }
}

fn row(v: i64) -> Row {
    Row::new(vec![Value::Int4(GROUP), Value::Int8(v)])
}

/// A runtime holding one group of `size` rows (`v` = 0 … size−1) and the
/// view `sql` over it.
fn setup(sql: &str, size: i64) -> Runtime {
    let plan = compile_select(sql, &[table_def()]).expect("view compiles");
    let mut rt = Runtime::new(RuntimeConfig { workers: 1 }).expect("runtime");
    rt.create_table(TABLE, 2).expect("table");
    let load: Vec<(ObjectId, Row, Diff)> = (0..size).map(|v| (TABLE, row(v), 1)).collect();
    rt.apply(load).expect("load");
    rt.create_view(VIEW, &plan).expect("view");
    rt
}

fn one_row(rt: &mut Runtime) -> Row {
    let rows = rt.read(VIEW).expect("read");
    assert_eq!(rows.len(), 1, "one group: {rows:?}");
    rows[0].0.clone()
}

fn sum_count(c: &mut Criterion) {
    let mut group = c.benchmark_group("sum_count");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for size in SIZES {
        let mut rt = setup("SELECT g, sum(v), count(*) FROM t GROUP BY g", size);
        assert_eq!(one_row(&mut rt)[2], Value::Int8(size), "count(*) of the group");
        let extra = row(size);
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                rt.apply(vec![(TABLE, extra.clone(), 1)]).expect("insert");
                rt.apply(vec![(TABLE, extra.clone(), -1)]).expect("delete");
            })
        });
        assert_eq!(one_row(&mut rt)[2], Value::Int8(size), "the group is back to its size");
    }
    group.finish();
}

fn min_max(c: &mut Criterion) {
    let mut group = c.benchmark_group("min_max");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for size in SIZES {
        let mut rt = setup("SELECT g, min(v), max(v) FROM t GROUP BY g", size);
        let before = one_row(&mut rt);
        assert_eq!((&before[1], &before[2]), (&Value::Int8(0), &Value::Int8(size - 1)));
        let (low, high) = (row(0), row(size * 2));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                rt.apply(vec![(TABLE, low.clone(), -1), (TABLE, high.clone(), 1)]).expect("min away");
                rt.apply(vec![(TABLE, high.clone(), -1), (TABLE, low.clone(), 1)]).expect("min back");
            })
        });
        assert_eq!(one_row(&mut rt), before, "min and max restored");
    }
    group.finish();
}

criterion_group!(benches, sum_count, min_max);
criterion_main!(benches);
