//! Name resolution: the relations of a FROM clause and the columns they
//! make visible, with PostgreSQL's rules for qualified names, `*`, and the
//! merged columns of `JOIN ... USING`.

use freshet_engine::expr::Expr;
use freshet_engine::value::DataType;

use crate::error::{ErrorKind, Position, Result, SqlError};

/// A column as a scope sees it.
#[derive(Clone, Debug)]
pub(crate) struct ScopeColumn {
    /// Its name.
    pub name: String,
    /// Its value over the FROM clause's row.
    pub expr: Expr,
    /// Its type.
    pub ty: DataType,
    /// Whether it may be NULL.
    pub nullable: bool,
}

/// One FROM-clause entry (a table or view, under its alias).
#[derive(Clone, Debug)]
pub(crate) struct Rel {
    /// The name it is referenced by (alias, or the object's name).
    pub name: String,
    /// Its columns; `expr` is `Column(offset + i)`.
    pub columns: Vec<ScopeColumn>,
    /// Primary-key positions in `columns` (empty for views and bags).
    pub primary_key: Vec<usize>,
    /// Its first column in the FROM row.
    pub offset: usize,
    /// The table or view's own name when an alias hides it.
    pub aliased: Option<String>,
}

/// The names visible at some point of a query.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    /// Every relation of the FROM clause.
    pub rels: Vec<Rel>,
    /// Which of `rels` may be referenced here (ON clauses see only their
    /// own join's relations).
    pub visible_rels: Vec<usize>,
    /// The unqualified columns, in `*` order (USING columns merged).
    pub columns: Vec<ScopeColumn>,
}

/// A resolved column reference.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub expr: Expr,
    pub ty: DataType,
}

impl Scope {
    /// The relation of FROM-row column `col`, if it is a plain column of one.
    pub fn rel_of(&self, col: usize) -> Option<&Rel> {
        self.rels.iter().find(|r| col >= r.offset && col < r.offset + r.columns.len())
    }

    /// `rel.column` naming of FROM-row column `col`, for messages.
    pub fn describe(&self, col: usize) -> String {
        match self.rel_of(col) {
            Some(r) => format!("{}.{}", r.name, r.columns[col - r.offset].name),
            None => format!("#{col}"),
        }
    }

    /// Whether FROM-row column `col` can be NULL.
    pub fn nullable(&self, col: usize) -> bool {
        self.rel_of(col).is_none_or(|r| r.columns[col - r.offset].nullable)
    }

    fn visible_rel(&self, name: &str, pos: Option<Position>) -> Result<&Rel> {
        let mut found = self.visible_rels.iter().map(|&i| &self.rels[i]).filter(|r| r.name == name);
        if let Some(r) = found.next() {
            return Ok(r);
        }
        if self.rels.iter().any(|r| r.name == name) {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!("invalid reference to FROM-clause entry for table \"{name}\""),
                pos,
            )
            .with_hint(format!(
                "There is an entry for table \"{name}\", but it cannot be referenced from this part of the query."
            )));
        }
        if let Some(r) = self.rels.iter().find(|r| r.aliased.as_deref() == Some(name)) {
            return Err(SqlError::new(
                ErrorKind::UndefinedTable,
                format!("invalid reference to FROM-clause entry for table \"{name}\""),
                pos,
            )
            .with_hint(format!("Perhaps you meant to reference the table alias \"{}\".", r.name)));
        }
        Err(SqlError::new(ErrorKind::UndefinedTable, format!("missing FROM-clause entry for table \"{name}\""), pos))
    }

    /// Resolves `name` or `qualifier.name`.
    pub fn resolve(&self, qualifier: Option<&str>, name: &str, pos: Option<Position>) -> Result<Resolved> {
        match qualifier {
            Some(q) => {
                let rel = self.visible_rel(q, pos)?;
                let mut hits = rel.columns.iter().filter(|c| c.name == name);
                match (hits.next(), hits.next()) {
                    (Some(c), None) => Ok(Resolved { expr: c.expr.clone(), ty: c.ty }),
                    (Some(_), Some(_)) => Err(SqlError::new(
                        ErrorKind::Ambiguous,
                        format!("column reference \"{q}.{name}\" is ambiguous"),
                        pos,
                    )),
                    (None, _) => Err(SqlError::new(
                        ErrorKind::UndefinedColumn,
                        format!("column {q}.{name} does not exist"),
                        pos,
                    )),
                }
            }
            None => {
                let mut hits = self.columns.iter().filter(|c| c.name == name);
                match (hits.next(), hits.next()) {
                    (Some(c), None) => Ok(Resolved { expr: c.expr.clone(), ty: c.ty }),
                    (Some(_), Some(_)) => Err(SqlError::new(
                        ErrorKind::Ambiguous,
                        format!("column reference \"{name}\" is ambiguous"),
                        pos,
                    )),
                    (None, _) => {
                        Err(SqlError::new(ErrorKind::UndefinedColumn, format!("column \"{name}\" does not exist"), pos))
                    }
                }
            }
        }
    }

    /// The columns of `*`.
    pub fn star(&self, pos: Option<Position>) -> Result<Vec<ScopeColumn>> {
        if self.rels.is_empty() {
            return Err(SqlError::new(ErrorKind::Other, "SELECT * with no tables specified is not valid", pos));
        }
        Ok(self.columns.clone())
    }

    /// The columns of `q.*`.
    pub fn qualified_star(&self, q: &str, pos: Option<Position>) -> Result<Vec<ScopeColumn>> {
        Ok(self.visible_rel(q, pos)?.columns.clone())
    }

    /// The FROM-row columns of `rel`'s primary key, if it has one.
    pub fn primary_key_columns(&self, rel: &Rel) -> Vec<usize> {
        rel.primary_key.iter().map(|&k| rel.offset + k).collect()
    }
}
