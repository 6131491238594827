//! Relational plans: what a view computes, independent of how it is run.
//!
//! A front end produces a [`Plan`]; [`optimize`](crate::plan::optimize)
//! rewrites it (predicate push-down, join ordering, equi-key extraction);
//! `render` turns it into differential-dataflow operators. Plans never
//! mention timely. `Display` prints the plan for `EXPLAIN`.
//!
//! Every plan node produces rows of a fixed arity; expressions inside a node
//! refer to the columns of that node's input row (for joins: the left row's
//! columns followed by the right row's).

mod display;
pub mod keys;
pub mod optimize;
mod reduce;
mod topk;

pub use reduce::{AggOrder, AggregateFunc, Aggregate, OrderedArgs, ReduceClass};
pub use topk::{compare_rows, SortColumn, TopK};

use serde::{Deserialize, Serialize};

use crate::expr::Expr;
use crate::value::{DataType, Row};

/// A signed multiplicity.
pub type Diff = i64;

/// Identifies a catalog object whose contents a plan can read (a table, or
/// a view for views over views).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectId(pub u64);

/// A relational plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Plan {
    /// The contents of a table or view.
    Get(Get),
    /// Fixed rows.
    Constant(Constant),
    /// Rows satisfying all predicates.
    Filter(Filter),
    /// Each input row mapped to the values of a list of expressions.
    Map(Map),
    /// A binary join.
    Join(Join),
    /// Grouping and aggregation.
    Reduce(Reduce),
    /// Duplicate elimination (`SELECT DISTINCT`).
    Distinct(Distinct),
    /// Bag union (`UNION ALL`).
    Union(Union),
    /// Every multiplicity negated.
    Negate(Negate),
    /// Rows with positive multiplicity, others dropped.
    Threshold(Threshold),
    /// The first rows of each group in a sort order (`ORDER BY … LIMIT`,
    /// `DISTINCT ON`).
    TopK(TopK),
}

/// Reads an object's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Get {
    /// The object read.
    pub id: ObjectId,
    /// Its name, for EXPLAIN.
    pub name: String,
    /// Its column types (the arity is their number).
    pub types: Vec<DataType>,
}

/// Fixed rows with multiplicities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constant {
    /// The rows.
    pub rows: Vec<(Row, Diff)>,
    /// Their arity (needed when `rows` is empty).
    pub arity: usize,
}

/// Keeps rows for which every predicate is true (NULL and false drop).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// The input.
    pub input: Box<Plan>,
    /// Conjuncts over the input row.
    pub predicates: Vec<Expr>,
}

/// Output row `i` column `j` is `exprs[j]` evaluated on input row `i`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Map {
    /// The input.
    pub input: Box<Plan>,
    /// One expression per output column.
    pub exprs: Vec<Expr>,
}

/// The kind of a join.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinKind {
    /// Pairs that satisfy the condition.
    Inner,
    /// Inner, plus each left row that matched nothing, padded with NULLs.
    LeftOuter,
    /// Left outer, plus each right row that matched nothing, with NULLs
    /// for the left columns.
    FullOuter,
}

/// A binary join. Output rows are the left row's columns followed by the
/// right row's. Two rows match when every equi-key pair is equal under SQL
/// equality (NULL keys never match) and every residual predicate over the
/// concatenated row is true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    /// Inner, left outer or full outer.
    pub kind: JoinKind,
    /// The left input.
    pub left: Box<Plan>,
    /// The right input.
    pub right: Box<Plan>,
    /// Equi-key pairs: `(expression over the left row, expression over the
    /// right row)`.
    pub equi: Vec<(Expr, Expr)>,
    /// Other conditions, over the concatenated row.
    pub residual: Vec<Expr>,
}

/// Groups rows by key and computes aggregates. Output rows are the group
/// key's values followed by one value per aggregate. With an empty key the
/// reduce is global: exactly one row, even over empty input (`count` 0,
/// other aggregates NULL), as in SQL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reduce {
    /// The input.
    pub input: Box<Plan>,
    /// Group key expressions over the input row.
    pub group_key: Vec<Expr>,
    /// Aggregates over the input row.
    pub aggregates: Vec<Aggregate>,
}

/// Removes duplicates: every row with positive multiplicity appears once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distinct {
    /// The input.
    pub input: Box<Plan>,
}

/// Bag union of inputs of equal arity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Union {
    /// The inputs.
    pub inputs: Vec<Plan>,
}

/// Negates multiplicities (for EXCEPT-style differences).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Negate {
    /// The input.
    pub input: Box<Plan>,
}

/// Keeps rows with positive multiplicity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    /// The input.
    pub input: Box<Plan>,
}

impl Plan {
    /// The number of columns this plan produces.
    pub fn arity(&self) -> usize {
        match self {
            Plan::Get(g) => g.types.len(),
            Plan::Constant(c) => c.arity,
            Plan::Filter(f) => f.input.arity(),
            Plan::Map(m) => m.exprs.len(),
            Plan::Join(j) => j.left.arity() + j.right.arity(),
            Plan::Reduce(r) => r.group_key.len() + r.aggregates.len(),
            Plan::Distinct(d) => d.input.arity(),
            Plan::Union(u) => u.inputs.first().map_or(0, Plan::arity),
            Plan::Negate(n) => n.input.arity(),
            Plan::Threshold(t) => t.input.arity(),
            Plan::TopK(t) => t.input.arity(),
        }
    }

    /// The objects this plan reads, each once, in first-read order.
    pub fn sources(&self) -> Vec<ObjectId> {
        let mut out = Vec::new();
        self.visit(&mut |p| {
            if let Plan::Get(g) = p {
                if !out.contains(&g.id) {
                    out.push(g.id);
                }
            }
        });
        out
    }

    /// Calls `f` on this node and every node below it (pre-order).
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Plan)) {
        f(self);
        match self {
            Plan::Get(_) | Plan::Constant(_) => {}
            Plan::Filter(x) => x.input.visit(f),
            Plan::Map(x) => x.input.visit(f),
            Plan::Join(x) => {
                x.left.visit(f);
                x.right.visit(f);
            }
            Plan::Reduce(x) => x.input.visit(f),
            Plan::Distinct(x) => x.input.visit(f),
            Plan::Union(x) => x.inputs.iter().for_each(|i| i.visit(f)),
            Plan::Negate(x) => x.input.visit(f),
            Plan::Threshold(x) => x.input.visit(f),
            Plan::TopK(x) => x.input.visit(f),
        }
    }
}
