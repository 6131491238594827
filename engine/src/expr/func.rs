//! The functions and operators an [`Expr`](super::Expr) can call.

use serde::{Deserialize, Serialize};

use super::ScalarFunc;
use crate::value::DataType;

/// One-argument functions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UnaryFunc {
    /// `NOT b` (three-valued).
    Not,
    /// `x IS NULL`.
    IsNull,
    /// `x IS NOT NULL`.
    IsNotNull,
    /// `b IS TRUE`.
    IsTrue,
    /// `b IS FALSE`.
    IsFalse,
    /// `b IS NOT TRUE`.
    IsNotTrue,
    /// `b IS NOT FALSE`.
    IsNotFalse,
    /// Unary minus (overflow is an error).
    Neg,
    /// `CAST(x AS t)` with PostgreSQL's rules and errors, including type
    /// modifiers (`numeric(p,s)` rounds and checks precision, `varchar(n)`
    /// truncates on explicit cast, `char(n)` pads).
    Cast(DataType),
    /// A `char(n)` value as `text`: trailing blanks removed, as
    /// PostgreSQL's `bpchar` → `text`/`varchar` conversion does (and as
    /// `char(n)` comparison ignores them).
    CharToText,
    /// An assignment cast (`INSERT`/`UPDATE` into a column of this type):
    /// as [`UnaryFunc::Cast`], except that a value too long for
    /// `varchar(n)`/`char(n)` is an error (`value too long for type
    /// character varying(n)`) unless the excess characters are all blanks,
    /// which are dropped.
    AssignCast(DataType),
    /// The one representation of the values SQL comparison deems equal
    /// to the argument ([`Value::key_normalized`](crate::value::Value::key_normalized):
    /// `1.00` as `1`, `-0` as `0`, `1 mon` as `30 days`); a grouping key
    /// under which SQL-equal values fall into one group. Never fails.
    KeyNormalize,
}

/// Two-argument functions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BinaryFunc {
    /// `+` (numbers; date + int; date/timestamp + interval; interval + interval).
    Add,
    /// `-` (numbers; date - date; date - int; timestamp - timestamp; ... ).
    Sub,
    /// `*`.
    Mul,
    /// `/` (integer division truncates; numeric follows PostgreSQL's scale
    /// rule; division by zero is an error).
    Div,
    /// `%`.
    Mod,
    /// `=`.
    Eq,
    /// `<>`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `IS DISTINCT FROM` (never NULL).
    IsDistinctFrom,
    /// `IS NOT DISTINCT FROM` (never NULL).
    IsNotDistinctFrom,
    /// `||` on text.
    Concat,
    /// `string LIKE pattern [ESCAPE e]` (`\` is the default escape; `None`
    /// means `ESCAPE ''`). `case_insensitive` for ILIKE.
    Like {
        /// The escape character.
        escape: Option<char>,
        /// ILIKE.
        case_insensitive: bool,
    },
    /// `NULLIF(a, b)`.
    NullIf,
    /// The value of a scalar subquery for one row: `right` (the value of
    /// the subquery's row) when `left`, the number of rows the subquery
    /// returned, is NULL or at most one; more rows are PostgreSQL's error
    /// `more than one row returned by a subquery used as an expression`.
    SingleRowValue,
}

/// Functions of any number of arguments.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VariadicFunc {
    /// `a AND b AND ...` (three-valued; false wins over NULL).
    And,
    /// `a OR b OR ...` (three-valued; true wins over NULL).
    Or,
    /// `COALESCE(a, b, ...)`: the first non-NULL argument, later arguments
    /// unevaluated.
    Coalesce,
    /// A named function (`upper`, `round`, `date_trunc`, `~`, ...); every
    /// argument is evaluated.
    Call(ScalarFunc),
    /// `row(a, b, ...)`: the arguments as one value, a
    /// [`Value::Array`](crate::value::Value::Array) of them (never NULL).
    /// The form in which an aggregate of several arguments (`string_agg`'s
    /// value and delimiter, the keys of its `ORDER BY`) receives them.
    Record,
}
