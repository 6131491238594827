//! freshet's SQL front end: parses PostgreSQL-dialect SQL with `sqlparser`,
//! binds names and types against a catalog, and lowers statements to plans
//! the engine runs.
//!
//! [`parse`] splits a script into statements; [`plan`] turns one statement
//! into a [`Statement`] whose queries are engine [`Plan`]s (not yet
//! optimised). Typing follows PostgreSQL 15: operator resolution with
//! implicit casts, unknown-typed literals resolved by context, result
//! column names and types as PostgreSQL reports them. SQL that freshet does
//! not support is refused with `not supported: <construct>` and its
//! position, never approximated.
#![deny(missing_docs)]

mod coerce;
mod cte;
pub mod error;
mod expr;
mod from;
mod func;
mod parse;
mod scope;
mod select;
mod setop;
mod stmt;
mod subquery;
mod types;

pub use error::{ErrorKind, Position, SqlError};

use freshet_engine::catalog::{Column, TableDef, ViewDef};
use freshet_engine::{Expr, ObjectId, Plan};

/// Name lookup for planning. Names are already case-folded.
pub trait Catalog {
    /// The table called `name`.
    fn table(&self, name: &str) -> Option<&TableDef>;
    /// The materialized view called `name`.
    fn view(&self, name: &str) -> Option<&ViewDef>;
    /// The query a `WITH` clause enclosing the part of a statement being
    /// planned names `name` (planned, as a relation). The front end layers
    /// these over the catalog while it plans a query; a catalog of stored
    /// objects has none.
    fn common_table(&self, _name: &str) -> Option<&Query> {
        None
    }
}

/// One statement of a script, with its own text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The statement's text (without the terminating `;`).
    pub sql: String,
    /// Its syntax tree. Positions in it are relative to the whole script
    /// given to [`parse`].
    pub ast: sqlparser::ast::Statement,
}

/// Splits a script into statements and parses each (PostgreSQL dialect).
pub fn parse(sql: &str) -> Result<Vec<Parsed>, SqlError> {
    parse::parse_script(sql)
}

/// Binds and plans one statement against `catalog`.
pub fn plan(stmt: &Parsed, catalog: &dyn Catalog) -> Result<Statement, SqlError> {
    stmt::plan_statement(stmt, catalog)
}

/// A planned query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The plan, not optimised. Its output is the visible columns followed
    /// by `hidden` sort-only columns.
    pub plan: Plan,
    /// Output column names and types, as PostgreSQL names and types them.
    pub columns: Vec<Column>,
    /// ORDER BY of a one-shot SELECT, over the plan's output columns
    /// (empty for views).
    pub order_by: Vec<SortKey>,
    /// Trailing plan columns that exist only for sorting.
    pub hidden: usize,
    /// LIMIT of a one-shot SELECT.
    pub limit: Option<u64>,
    /// OFFSET of a one-shot SELECT.
    pub offset: Option<u64>,
}

/// One ORDER BY key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// The plan output column sorted on.
    pub column: usize,
    /// DESC.
    pub descending: bool,
    /// NULLS FIRST (PostgreSQL's default: last for ASC, first for DESC).
    pub nulls_first: bool,
}

/// A planned statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    /// `CREATE TABLE`.
    CreateTable {
        /// Its name.
        name: String,
        /// Its columns (primary-key columns are NOT NULL).
        columns: Vec<Column>,
        /// Primary-key column positions (empty: none).
        primary_key: Vec<usize>,
        /// `IF NOT EXISTS` (the relation's existence is then not checked).
        if_not_exists: bool,
    },
    /// `DROP TABLE`. With `if_exists`, names that do not exist are kept
    /// (the caller skips them).
    DropTable {
        /// The tables.
        names: Vec<String>,
        /// `IF EXISTS`.
        if_exists: bool,
        /// `CASCADE`: also drop the materialized views that read them,
        /// directly or through other views.
        cascade: bool,
    },
    /// `CREATE MATERIALIZED VIEW name AS query`.
    CreateView {
        /// Its name.
        name: String,
        /// The view's SELECT text as written.
        sql: String,
        /// The planned query.
        query: Query,
        /// `IF NOT EXISTS` (the relation's existence is then not checked).
        if_not_exists: bool,
    },
    /// `DROP MATERIALIZED VIEW`. With `if_exists`, names that do not exist
    /// are kept (the caller skips them).
    DropView {
        /// The views.
        names: Vec<String>,
        /// `IF EXISTS`.
        if_exists: bool,
        /// `CASCADE`: also drop the materialized views that read them,
        /// directly or through other views.
        cascade: bool,
    },
    /// `INSERT`: rows of the table's arity, values cast to the column types
    /// (NULL for omitted columns).
    Insert {
        /// The table.
        table: ObjectId,
        /// The rows.
        source: InsertSource,
    },
    /// `UPDATE`: expressions over the table's row.
    Update {
        /// The table.
        table: ObjectId,
        /// The WHERE condition.
        predicate: Option<Expr>,
        /// `(column, new value)`, values cast to the column types.
        assignments: Vec<(usize, Expr)>,
    },
    /// `DELETE`.
    Delete {
        /// The table.
        table: ObjectId,
        /// The WHERE condition over the table's row.
        predicate: Option<Expr>,
    },
    /// A one-shot `SELECT`.
    Select(Query),
    /// `EXPLAIN SELECT`.
    Explain(Query),
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK`.
    Rollback,
}

/// Where inserted rows come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertSource {
    /// `VALUES`: constant expressions, one list per row, of the table's
    /// arity.
    Values(Vec<Vec<Expr>>),
    /// `INSERT ... SELECT`: the query's output has the table's arity.
    Query(Query),
}
