//! Generators for property tests: random schemas, table contents with NULLs,
//! duplicates and skewed keys, and random change streams (inserts, and
//! deletes of rows that exist at that point).
//!
//! Values come from small, skewed domains so that joins match, groups hold
//! several rows and duplicates are common, with occasional extreme values
//! (type bounds, long numerics) to reach overflow and rounding edges.

use std::collections::BTreeMap;

use freshet_engine::plan::{Diff, Get, ObjectId, Plan};
use freshet_engine::value::{DataType, Numeric, Row, Value};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::oracle::Bag;

/// A generated table's shape. Column 0 is always a nullable `integer` join
/// key over a small domain, so that any two tables can be joined on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's id.
    pub id: ObjectId,
    /// Its name (`t0`, `t1`, ...).
    pub name: String,
    /// Column types.
    pub types: Vec<DataType>,
    /// Per column: may it hold NULL.
    pub nullable: Vec<bool>,
}

impl TableSpec {
    /// A plan reading this table.
    pub fn get(&self) -> Plan {
        Plan::Get(Get { id: self.id, name: self.name.clone(), types: self.types.clone() })
    }
}

/// The column types generated tables use.
pub const COLUMN_TYPES: [DataType; 6] = [
    DataType::Int4,
    DataType::Int8,
    DataType::Numeric(Some((12, 2))),
    DataType::Float8,
    DataType::Text,
    DataType::Bool,
];

/// A table spec with id `id`: the key column and `1..=max_extra` further
/// columns of random types, each nullable or not.
pub fn table_spec(id: u64, max_extra: usize) -> impl Strategy<Value = TableSpec> {
    prop::collection::vec((prop::sample::select(COLUMN_TYPES.to_vec()), any::<bool>()), 1..=max_extra.max(1)).prop_map(
        move |cols| {
            let mut types = vec![DataType::Int4];
            let mut nullable = vec![true];
            for (ty, null) in cols {
                types.push(ty);
                nullable.push(null);
            }
            TableSpec { id: ObjectId(id), name: format!("t{id}"), types, nullable }
        },
    )
}

/// `1..=max_tables` table specs with ids `0, 1, ...`.
pub fn schema(max_tables: usize, max_extra: usize) -> impl Strategy<Value = Vec<TableSpec>> {
    (1..=max_tables.max(1))
        .prop_flat_map(move |n| (0..n as u64).map(|id| table_spec(id, max_extra)).collect::<Vec<_>>())
}

/// Small integers most of the time, sometimes wider, rarely a bound.
fn skewed_i64(min: i64, max: i64) -> impl Strategy<Value = i64> {
    prop_oneof![
        70 => 0i64..4,
        20 => -100i64..100,
        7 => min..=max,
        3 => prop::sample::select(vec![min, max, 0]),
    ]
}

/// A non-NULL value of type `ty`.
pub fn value_of(ty: DataType) -> BoxedStrategy<Value> {
    match ty {
        DataType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        DataType::Int2 => skewed_i64(i16::MIN.into(), i16::MAX.into()).prop_map(|v| Value::Int2(v as i16)).boxed(),
        DataType::Int4 => skewed_i64(i32::MIN.into(), i32::MAX.into()).prop_map(|v| Value::Int4(v as i32)).boxed(),
        DataType::Int8 => skewed_i64(i64::MIN, i64::MAX).prop_map(Value::Int8).boxed(),
        DataType::Numeric(modifier) => {
            let scale = modifier.map_or(2, |(_, s)| s.max(0) as u16);
            let max_digits = modifier.map_or(18, |(p, _)| u32::from(p).min(30));
            let bound = 10i128.pow(max_digits) - 1;
            prop_oneof![
                80 => (-1000i128..1000).prop_map(move |m| Value::Numeric(Numeric::from_parts(m, scale))),
                20 => (-bound..=bound).prop_map(move |m| Value::Numeric(Numeric::from_parts(m, scale))),
            ]
            .boxed()
        }
        DataType::Float8 => prop_oneof![
            80 => (-8i32..8).prop_map(|v| Value::Float8(freshet_engine::value::F64(f64::from(v) / 4.0))),
            15 => (-1e6f64..1e6).prop_map(|v| Value::Float8(freshet_engine::value::F64(v))),
            5 => prop::sample::select(vec![-0.0f64, f64::INFINITY, f64::NEG_INFINITY, f64::NAN])
                .prop_map(|v| Value::Float8(freshet_engine::value::F64(v))),
        ]
        .boxed(),
        DataType::Text | DataType::Varchar(_) => prop_oneof![
            70 => prop::sample::select(vec!["", "a", "b", "ab", "A", "a%", "it's"]).prop_map(Value::text),
            30 => "[a-cA_%]{0,5}".prop_map(|s| Value::text(&s)),
        ]
        .boxed(),
        DataType::Char(n) => {
            "[a-c]{0,3}".prop_map(move |s| Value::text(&format!("{s:<width$}", width = n as usize))).boxed()
        }
        other => panic!("no generator for values of type {other}"),
    }
}

/// A value for a column: NULL about one time in six when nullable.
pub fn cell(ty: DataType, nullable: bool) -> BoxedStrategy<Value> {
    if nullable {
        prop_oneof![1 => Just(Value::Null), 5 => value_of(ty)].boxed()
    } else {
        value_of(ty)
    }
}

/// A row of `spec`.
pub fn row(spec: &TableSpec) -> impl Strategy<Value = Row> {
    let cells: Vec<_> = spec.types.iter().zip(&spec.nullable).map(|(t, n)| cell(*t, *n)).collect();
    cells.prop_map(Row::new)
}

/// Up to `max_rows` rows of `spec`, with some rows repeated verbatim so
/// duplicates are common whatever the types.
pub fn table_rows(spec: &TableSpec, max_rows: usize) -> impl Strategy<Value = Vec<Row>> {
    (prop::collection::vec(row(spec), 0..=max_rows), prop::collection::vec(any::<Index>(), 0..=max_rows / 4 + 1))
        .prop_map(|(mut rows, repeats)| {
            if !rows.is_empty() {
                for ix in repeats {
                    let r = rows[ix.index(rows.len())].clone();
                    rows.push(r);
                }
            }
            rows
        })
}

/// One change in a batch.
#[derive(Clone, Debug)]
pub enum ChangeOp {
    /// Insert this row.
    Insert(Row),
    /// Delete one copy of an existing row, chosen by index among the rows
    /// present when the change applies (nothing if the table is empty).
    Delete(Index),
}

/// `batches` batches of up to `max_ops` changes each to a table of `spec`,
/// about a third of them deletes.
pub fn change_batches(spec: &TableSpec, batches: usize, max_ops: usize) -> impl Strategy<Value = Vec<Vec<ChangeOp>>> {
    let op = prop_oneof![
        2 => row(spec).prop_map(ChangeOp::Insert),
        1 => any::<Index>().prop_map(ChangeOp::Delete),
    ];
    prop::collection::vec(prop::collection::vec(op, 0..=max_ops), 0..=batches)
}

/// Applies one batch to `state` (a table's rows, one entry per copy) and
/// returns the batch as consolidated row diffs.
pub fn apply_batch(state: &mut Vec<Row>, batch: &[ChangeOp]) -> Vec<(Row, Diff)> {
    let mut diffs = Vec::with_capacity(batch.len());
    for op in batch {
        match op {
            ChangeOp::Insert(r) => {
                state.push(r.clone());
                diffs.push((r.clone(), 1));
            }
            ChangeOp::Delete(ix) => {
                if !state.is_empty() {
                    let r = state.swap_remove(ix.index(state.len()));
                    diffs.push((r, -1));
                }
            }
        }
    }
    crate::oracle::consolidate(diffs)
}

/// Table contents as the oracle takes them: each table's rows as a bag.
pub fn as_tables(contents: &BTreeMap<ObjectId, Vec<Row>>) -> BTreeMap<ObjectId, Bag> {
    contents
        .iter()
        .map(|(id, rows)| (*id, crate::oracle::consolidate(rows.iter().map(|r| (r.clone(), 1)).collect())))
        .collect()
}

/// A schema with initial contents for every table.
pub fn database(
    max_tables: usize,
    max_extra: usize,
    max_rows: usize,
) -> impl Strategy<Value = (Vec<TableSpec>, BTreeMap<ObjectId, Vec<Row>>)> {
    schema(max_tables, max_extra).prop_flat_map(move |specs| {
        let contents: Vec<_> = specs
            .iter()
            .map(|s| {
                table_rows(s, max_rows).prop_map({
                    let id = s.id;
                    move |rows| (id, rows)
                })
            })
            .collect();
        (Just(specs), contents.prop_map(|c| c.into_iter().collect()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    proptest! {
        #[test]
        fn rows_fit_their_spec((specs, contents) in database(3, 3, 12)) {
            for spec in &specs {
                prop_assert_eq!(spec.types[0], DataType::Int4);
                for r in &contents[&spec.id] {
                    prop_assert_eq!(r.len(), spec.types.len());
                    for ((v, nullable), ty) in r.iter().zip(&spec.nullable).zip(&spec.types) {
                        prop_assert!(*nullable || !v.is_null());
                        let ok = match (v, ty) {
                            (Value::Null, _) => true,
                            (Value::Int4(_), DataType::Int4) | (Value::Int8(_), DataType::Int8) => true,
                            (Value::Numeric(n), DataType::Numeric(_)) => n.scale() == Some(2),
                            (Value::Float8(_), DataType::Float8) | (Value::Text(_), DataType::Text) => true,
                            (Value::Bool(_), DataType::Bool) => true,
                            _ => false,
                        };
                        prop_assert!(ok, "{:?} is not a {}", v, ty);
                    }
                }
            }
        }

        #[test]
        fn batches_only_delete_present_rows(
            (_spec, initial, batches) in table_spec(0, 2).prop_flat_map(|s| {
                (Just(s.clone()), table_rows(&s, 8), change_batches(&s, 5, 6))
            })
        ) {
            let mut state = initial.clone();
            let mut bag: BTreeMap<Row, Diff> = BTreeMap::new();
            for r in &initial {
                *bag.entry(r.clone()).or_insert(0) += 1;
            }
            for batch in &batches {
                for (r, d) in apply_batch(&mut state, batch) {
                    prop_assert!(d != 0);
                    let e = bag.entry(r.clone()).or_insert(0);
                    *e += d;
                    prop_assert!(*e >= 0, "deleted {:?} below zero", r);
                }
                prop_assert_eq!(bag.values().sum::<Diff>(), state.len() as Diff);
            }
        }
    }

    #[test]
    fn generated_data_has_nulls_duplicates_and_shared_keys() {
        let mut runner = TestRunner::deterministic();
        let (mut nulls, mut dups, mut shared) = (0, 0, 0);
        for _ in 0..50 {
            let (specs, contents) = database(2, 2, 20).new_tree(&mut runner).unwrap().current();
            let all: Vec<&Row> = contents.values().flatten().collect();
            nulls += all.iter().filter(|r| r.iter().any(Value::is_null)).count();
            let bag = as_tables(&contents);
            dups += bag.values().flatten().filter(|(_, d)| *d > 1).count();
            if specs.len() == 2 {
                let keys = |id: u64| -> Vec<Value> { contents[&ObjectId(id)].iter().map(|r| r[0].clone()).collect() };
                let (a, b) = (keys(0), keys(1));
                shared += a.iter().filter(|k| !k.is_null() && b.contains(k)).count();
            }
        }
        assert!(nulls > 0 && dups > 0 && shared > 0, "nulls {nulls}, duplicates {dups}, shared keys {shared}");
    }
}
