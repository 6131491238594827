//! Plan rewrites: predicate push-down, inner-join ordering, equi-key
//! extraction, filter and map fusion, constant folding, eager
//! aggregation, semi-join reduction.
//!
//! Every rewrite preserves the plan's result exactly, NULLs included, and
//! never makes an expression run on a row it did not run on before unless
//! its evaluation cannot fail: an optimised plan may fail on fewer inputs
//! than the original (an expression no longer evaluated on rows a filter
//! now removes first, as PostgreSQL's own planner does), never on more.
//!
//! First, once: the single-column conjuncts implied by an `OR` over
//! several join inputs are added (see [`implied`]).
//!
//! The passes, repeated until the plan stops changing:
//!
//! 1. constant folding of column-free subexpressions that evaluate without
//!    error, then fusion of adjacent `Filter`s and of adjacent `Map`s
//!    (substituting the inner expressions, unless an expensive one would be
//!    evaluated twice), removal of identity `Map`s and of `Filter`s that
//!    keep every row, and of those that keep none (an empty `Constant`);
//! 2. predicate push-down: filter conjuncts move through `Map` (substituted
//!    when the referenced expressions are cheap), `Union`, `Negate`,
//!    `Threshold`, `Distinct` and keyed `Reduce` (group-key conjuncts), into
//!    the inputs of inner joins, into the left input of a left outer join
//!    (never the right), never through a `TopK` (which rows come first
//!    depends on the rows a filter would remove); conjuncts over both sides of an inner join become
//!    residuals, one-sided inner residuals and right-only left-outer `ON`
//!    conjuncts move into their input; nothing moves into or out of a full
//!    outer join (both sides can appear null-extended); equalities between
//!    the two sides become equi-key pairs, also when they are common to
//!    every alternative of an `OR` (`(a = b AND x) OR (a = b AND y)` is
//!    split into `a = b` and `x OR y`);
//! 3. inner-join ordering by estimated intermediate sizes, over equivalence
//!    classes of joined columns (see [`joins`], [`estimate`]);
//! 4. (first in each round) a left join over the join of rows with a
//!    scalar (a global aggregate) goes below that join, so an anti-join
//!    filters the rows before a changing scalar re-emits them (see
//!    [`scalar_join`]).
//!
//! Then, once each: eager aggregation (see [`eager`]); semi-join reduction
//! of a join's right input to the left input's key values (see
//! [`semijoin`]); filters of tables read twice by one key lifted onto the
//! join so the reads share one arrangement (see [`share`]); projection
//! push-down (see [`project`]): join inputs and outputs keep only the
//! columns read above them, and maps drop the expressions nobody reads.
//!
//! Conjuncts that can fail move only where they evaluate on exactly the
//! rows they did before (through `Map`, `Union`, `Negate`).

mod eager;
mod estimate;
mod expr;
mod fuse;
mod implied;
mod joins;
mod project;
mod pushdown;
mod scalar_join;
mod semijoin;
mod share;
#[cfg(test)]
mod rewrite_tests;
#[cfg(test)]
mod tests;

pub use expr::can_error;
pub use eager::SourceKeys;

use crate::plan::Plan;

/// Upper bound on rounds of the rewrite passes; each round only moves
/// conjuncts down or fuses nodes, so plans settle in two or three.
const MAX_ROUNDS: usize = 8;

/// Rewrites `plan` into an equivalent plan that is cheaper to maintain.
pub fn optimize(plan: Plan) -> Plan {
    optimize_with_keys(plan, &SourceKeys::new())
}

/// [`optimize`], knowing unique keys of the objects the plan reads (their
/// primary keys), which enables eager aggregation (see [`eager`]): the
/// caller guarantees that no two rows of an object agree on one of its
/// keys and that key columns hold no NULLs.
pub fn optimize_with_keys(plan: Plan, keys: &SourceKeys) -> Plan {
    let mut plan = implied::add_implied(fuse::fuse(fuse::fold_constants(plan)));
    for _ in 0..MAX_ROUNDS {
        let next = fuse::fuse(pushdown::pushdown(joins::order_joins(
            pushdown::pushdown(scalar_join::lower_left_joins(plan.clone())),
            keys,
        )));
        if next == plan {
            break;
        }
        plan = next;
    }
    let plan = fuse::fuse(eager::eager_aggregate(plan, keys));
    let plan = fuse::fuse(share::lift_shared_filters(semijoin::reduce_semijoins(plan, keys), keys));
    fuse::fuse(project::project(plan))
}
