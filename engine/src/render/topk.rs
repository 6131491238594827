//! `TopK`: the rows at positions `offset .. offset + limit` of each group in
//! a sort order, maintained by a tree of reductions.
//!
//! Incremental semantics. Each input row is keyed by its group key and a
//! 32-bit hash of the whole row (its bucket). Eight levels of `reduce`
//! follow, as for `min`/`max` (`reduce/hierarchical.rs`): level `i` groups
//! by `(group key, hash >> 4(i+1))`, so each reduction sees the partial
//! results of at most 16 buckets of the level below, and the last level has
//! one bucket per group. Every level keeps the first `k = offset + limit`
//! rows of its bucket in the sort order ([`compare_rows`]: the order keys
//! with PostgreSQL's ordering, then the whole row in the total order, so
//! the choice among tied rows is deterministic), a row of multiplicity `m`
//! counting as `m` rows (the last row kept has its multiplicity cut to
//! fill `k` exactly). The first `k` rows of a bucket are among the first
//! `k` rows of its children, so the last level holds each group's first
//! `k` rows, and it emits those at positions `offset ..`. Rows with a
//! non-positive multiplicity are ignored, as by the other reductions.
//!
//! Without a limit the output is the input minus the group's first
//! `offset` rows (computed by the same tree with `k = offset`); with
//! `limit = 0` it is empty and nothing is arranged.
//!
//! Cost per changed row: one bucket per level is recomputed, each over at
//! most `16 k` rows (plus hash collisions at the first level), sorted:
//! O(8 · 16k · log 16k), independent of the group's size. Memory: one
//! arrangement of the input rows by bucket, then per level at most `k`
//! rows per non-empty bucket: close to the input's size at the lower
//! levels of a large group, shrinking sixteenfold per level once buckets
//! hold more than `k` rows, `k` rows per group at the top. Group key
//! expressions that can fail add one error output; errors of the input
//! pass through unchanged.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::reduce::eval_key_args;
use super::{empty, render, split_results, Coll, Context, Errs, Rendered};
use crate::error::EngineError;
use crate::expr::{EvalError, Expr};
use crate::plan::optimize::can_error;
use crate::plan::{compare_rows, Diff, SortColumn, TopK};
use crate::value::Row;

/// Rows keyed by `(group key, bucket)`.
type Keyed<'s> = Coll<'s, ((Row, u64), Row)>;

/// Bits of the bucket hash consumed per level.
const BITS_PER_LEVEL: u32 = 4;
/// Levels of the tree (32 hash bits / 4 bits per level).
const LEVELS: u32 = 8;

/// Renders a top-k.
pub(crate) fn build_topk<'s>(ctx: &Context<'s>, topk: &TopK) -> Result<Rendered<'s>, EngineError> {
    let input = render(ctx, &topk.input)?;
    let (keyed, key_err) = keyed_rows(input.ok, &topk.group_key);
    let err = input.err.concat(key_err);
    let ok = match topk.limit {
        Some(0) => empty(ctx.scope),
        Some(limit) => {
            let k = topk.offset.saturating_add(limit);
            first_rows(keyed, &topk.order, k, topk.offset)
        }
        None if topk.offset == 0 => keyed.map(|(_, row)| row),
        None => {
            let rows = keyed.clone().map(|(_, row)| row);
            rows.concat(first_rows(keyed, &topk.order, topk.offset, 0).negate())
        }
    };
    Ok(Rendered { ok, err })
}

/// Each row keyed by `(group key, bucket)`, and the errors of evaluating
/// the group key (absent when it cannot fail).
fn keyed_rows<'s>(input: Coll<'s, Row>, group_key: &[Expr]) -> (Keyed<'s>, Errs<'s>) {
    let group_key = group_key.to_vec();
    let can_fail = group_key.iter().any(can_error);
    let keyed = input.map(move |row| {
        let key = if group_key.is_empty() {
            Row::empty()
        } else {
            eval_key_args(&group_key, &[], &row)?.0
        };
        let mut h = DefaultHasher::new();
        row.hash(&mut h);
        Ok(((key, h.finish() & 0xffff_ffff), row))
    });
    if can_fail {
        let (ok, err) = split_results(keyed);
        (ok, err.into())
    } else {
        (keyed.flat_map(Result::<_, EvalError>::ok), Errs::none())
    }
}

/// The rows at positions `skip .. k` of each group, through the tree of
/// reductions.
fn first_rows<'s>(mut tree: Keyed<'s>, order: &[SortColumn], k: u64, skip: u64) -> Coll<'s, Row> {
    let k = Diff::try_from(k).unwrap_or(Diff::MAX);
    let skip = Diff::try_from(skip).unwrap_or(Diff::MAX);
    for level in 0..LEVELS {
        let order = order.to_vec();
        let skip = if level + 1 == LEVELS { skip } else { 0 };
        tree = tree
            .map(|((key, bucket), row)| ((key, bucket >> BITS_PER_LEVEL), row))
            .reduce(
                move |_key, input: &[(&Row, Diff)], output: &mut Vec<(Row, Diff)>| {
                    select(&order, input, k, skip, output);
                },
            );
    }
    tree.map(|(_, row)| row)
}

/// Appends to `output` the rows at positions `skip .. k` of `input` (rows
/// with positive multiplicity, each counting as that many rows) in the
/// sort order.
fn select(
    order: &[SortColumn],
    input: &[(&Row, Diff)],
    k: Diff,
    skip: Diff,
    output: &mut Vec<(Row, Diff)>,
) {
    let mut rows: Vec<(&Row, Diff)> = input
        .iter()
        .filter(|(_, d)| *d > 0)
        .map(|(r, d)| (*r, *d))
        .collect();
    // `input` is sorted by row; without order keys that is the order.
    if !order.is_empty() {
        rows.sort_unstable_by(|a, b| compare_rows(order, a.0, b.0));
    }
    let mut at: Diff = 0;
    for (row, count) in rows {
        if at >= k {
            break;
        }
        let end = at.saturating_add(count).min(k);
        let start = at.max(skip);
        if end > start {
            output.push((row.clone(), end - start));
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn row(vs: &[i32]) -> Row {
        Row::new(vs.iter().map(|v| Value::Int4(*v)).collect())
    }

    fn run(order: &[SortColumn], input: &[(Row, Diff)], k: Diff, skip: Diff) -> Vec<(Row, Diff)> {
        let borrowed: Vec<(&Row, Diff)> = input.iter().map(|(r, d)| (r, *d)).collect();
        let mut out = Vec::new();
        select(order, &borrowed, k, skip, &mut out);
        out
    }

    #[test]
    fn multiplicities_are_cut_at_the_boundaries() {
        let desc = [SortColumn {
            column: 0,
            descending: true,
            nulls_first: true,
        }];
        let input = vec![
            (row(&[1]), 3),
            (row(&[2]), 2),
            (row(&[3]), 1),
            (row(&[4]), 0),
            (row(&[5]), -1),
        ];
        // Sorted: 3, 2, 2, 1, 1, 1.
        assert_eq!(
            run(&desc, &input, 4, 0),
            vec![(row(&[3]), 1), (row(&[2]), 2), (row(&[1]), 1)]
        );
        assert_eq!(
            run(&desc, &input, 4, 2),
            vec![(row(&[2]), 1), (row(&[1]), 1)]
        );
        assert_eq!(run(&desc, &input, 10, 5), vec![(row(&[1]), 1)]);
        assert_eq!(run(&desc, &input, 10, 6), vec![]);
        assert_eq!(run(&desc, &input, 0, 0), vec![]);
        // No order keys: the total order of the rows.
        assert_eq!(run(&[], &input, 2, 0), vec![(row(&[1]), 2)]);
    }
}
