//! Hierarchical aggregates (`min`, `max`): a tree of reductions.
//!
//! Each input row is placed in a bucket by a 32-bit hash of its argument
//! values. Eight levels of `reduce` follow; level `i` groups by
//! `(group key, hash >> 4(i+1))`, so each reduction combines at most 16
//! partial results of the level below (plus hash collisions at the first
//! level), and the last level yields one row per group. A changed row
//! re-evaluates one bucket per level: O(16 × 8) comparisons, never a scan
//! of the whole group. Memory: one arrangement per level, each at most the
//! size of the one below. Comparison is SQL comparison
//! ([`Value::sql_cmp`]), and among SQL-equal extremes (`1.0` and `1.00`)
//! the least in the total order wins, whatever the order partial results
//! meet in; NULLs are ignored; an aggregate over no non-NULL value is
//! NULL.

use std::cmp::Ordering;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{eval_key_args, Piece};
use crate::expr::{EvalError, Expr};
use crate::plan::{Aggregate, AggregateFunc, Diff};
use crate::render::{split_results, Coll};
use crate::value::{Row, Value};

/// Bits of the bucket hash consumed per level.
const BITS_PER_LEVEL: u32 = 4;
/// Levels of the tree (32 hash bits / 4 bits per level).
const LEVELS: u32 = 8;

/// Renders the `min`/`max` aggregates at positions `which`.
pub(crate) fn build_hierarchical<'s>(
    input: Coll<'s, Row>,
    group_key: &[Expr],
    aggregates: &[Aggregate],
    which: Vec<usize>,
) -> (Piece<'s>, Coll<'s, EvalError>) {
    let group_key = group_key.to_vec();
    let args: Vec<Expr> = which.iter().map(|&i| aggregates[i].expr.clone()).collect();
    let is_max: Vec<bool> = which.iter().map(|&i| aggregates[i].func == AggregateFunc::Max).collect();

    let values = input.map(move |row| {
        let (key, values) = eval_key_args(&group_key, &args, &row)?;
        let values = Row::new(values);
        let mut h = DefaultHasher::new();
        values.hash(&mut h);
        let bucket = h.finish() & 0xffff_ffff;
        Ok(((key, bucket), values))
    });
    let (mut tree, err) = split_results(values);
    for _ in 0..LEVELS {
        let is_max = is_max.clone();
        tree = tree
            .map(|((key, bucket), values)| ((key, bucket >> BITS_PER_LEVEL), values))
            .reduce(move |_key, input: &[(&Row, Diff)], output: &mut Vec<(Row, Diff)>| {
                output.push((combine(&is_max, input), 1));
            });
    }
    let rows = tree.map(|((key, _bucket), values)| (key, values));
    (Piece { aggregates: which, rows }, err)
}

/// Per column, the least (or greatest, for `max`) non-NULL value among the
/// inputs present (positive multiplicity), the least in the total order
/// among SQL-equal ones; NULL if there is none.
fn combine(is_max: &[bool], input: &[(&Row, Diff)]) -> Row {
    let mut best: Vec<Option<&Value>> = vec![None; is_max.len()];
    for (row, count) in input {
        if *count <= 0 {
            continue;
        }
        for (i, v) in row.iter().enumerate() {
            if v.is_null() {
                continue;
            }
            let better = match best[i] {
                None => true,
                Some(b) => {
                    let ord = v.sql_cmp(b).unwrap_or(Ordering::Equal);
                    match ord {
                        Ordering::Equal => v < b,
                        Ordering::Greater => is_max[i],
                        Ordering::Less => !is_max[i],
                    }
                }
            };
            if better {
                best[i] = Some(v);
            }
        }
    }
    Row::new(best.into_iter().map(|v| v.cloned().unwrap_or(Value::Null)).collect())
}
