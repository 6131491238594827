//! Scalar expressions over a row, evaluated with PostgreSQL semantics.
//!
//! The front end resolves types and inserts casts, so by evaluation time the
//! operands of each function already have the types PostgreSQL's operator
//! resolution would have chosen (e.g. `int4 + int8` arrives as
//! `int4::int8 + int8`). Evaluation dispatches on the values' variants.

mod call;
mod error;
mod eval;
mod func;
mod func_datetime;
mod func_numeric;
mod func_regex;
mod func_regexp;
mod func_string;
mod to_char;
mod to_char_num;

pub use call::ScalarFunc;
pub use error::EvalError;
pub use func::{BinaryFunc, UnaryFunc, VariadicFunc};
pub use func_regex::RegexCache;
pub use func_regexp::RegexpFunc;

use serde::{Deserialize, Serialize};

use crate::value::Value;

/// A scalar expression. Column references are positions in the input row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Expr {
    /// The value of input column `n` (shown as `#n`).
    Column(usize),
    /// A constant.
    Literal(Value),
    /// A one-argument function or operator.
    Unary {
        /// The function.
        func: UnaryFunc,
        /// Its argument.
        arg: Box<Expr>,
    },
    /// A two-argument function or operator.
    Binary {
        /// The function.
        func: BinaryFunc,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// A function of any number of arguments (AND, OR, COALESCE, ...).
    Variadic {
        /// The function.
        func: VariadicFunc,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `CASE WHEN cond THEN then ELSE els END` (a NULL condition takes
    /// `els`); only the taken branch is evaluated, as in PostgreSQL.
    If {
        /// The condition.
        cond: Box<Expr>,
        /// Value when `cond` is true.
        then: Box<Expr>,
        /// Value otherwise.
        els: Box<Expr>,
    },
}

impl Expr {
    /// `#n`.
    pub fn column(n: usize) -> Expr {
        Expr::Column(n)
    }

    /// A unary call.
    pub fn call_unary(self, func: UnaryFunc) -> Expr {
        Expr::Unary { func, arg: Box::new(self) }
    }

    /// A binary call.
    pub fn call_binary(self, func: BinaryFunc, right: Expr) -> Expr {
        Expr::Binary { func, left: Box::new(self), right: Box::new(right) }
    }

    /// Calls `f` on every column this expression reads.
    pub fn visit_columns(&self, f: &mut impl FnMut(usize)) {
        match self {
            Expr::Column(c) => f(*c),
            Expr::Literal(_) => {}
            Expr::Unary { arg, .. } => arg.visit_columns(f),
            Expr::Binary { left, right, .. } => {
                left.visit_columns(f);
                right.visit_columns(f);
            }
            Expr::Variadic { args, .. } => args.iter().for_each(|a| a.visit_columns(f)),
            Expr::If { cond, then, els } => {
                cond.visit_columns(f);
                then.visit_columns(f);
                els.visit_columns(f);
            }
        }
    }

    /// Rewrites every column reference through `f`.
    pub fn map_columns(&mut self, f: &mut impl FnMut(usize) -> usize) {
        match self {
            Expr::Column(c) => *c = f(*c),
            Expr::Literal(_) => {}
            Expr::Unary { arg, .. } => arg.map_columns(f),
            Expr::Binary { left, right, .. } => {
                left.map_columns(f);
                right.map_columns(f);
            }
            Expr::Variadic { args, .. } => args.iter_mut().for_each(|a| a.map_columns(f)),
            Expr::If { cond, then, els } => {
                cond.map_columns(f);
                then.map_columns(f);
                els.map_columns(f);
            }
        }
    }

    /// True if the expression reads no column.
    pub fn is_constant(&self) -> bool {
        let mut any = false;
        self.visit_columns(&mut |_| any = true);
        !any
    }
}
