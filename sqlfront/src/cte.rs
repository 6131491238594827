//! `WITH` queries (non-recursive common table expressions).
//!
//! Each query of a `WITH` clause is planned once, where it is defined, as
//! a relation (its ORDER BY kept only with a LIMIT/OFFSET, as in a derived
//! table), seeing the queries defined before it in the same clause and
//! those of enclosing clauses. Its name is then layered over the catalog
//! ([`WithCatalog`]) for the rest of the query: the query body, nested
//! derived tables, subqueries and inner `WITH` clauses (which may hide
//! it). A name in the FROM clause that is a `WITH` query's refers to it
//! before any table of that name. Each reference plans a copy of the
//! query's plan (plans are trees; the copies share the sources'
//! arrangements).
//!
//! `WITH RECURSIVE` is refused; `MATERIALIZED` / `NOT MATERIALIZED` only
//! tell PostgreSQL's planner whether to inline, so they change nothing.

use freshet_engine::catalog::{TableDef, ViewDef};
use sqlparser::ast;

use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::fold_ident;
use crate::select::plan_query;
use crate::{Catalog, Query};

/// A catalog with the queries of a `WITH` clause layered over it.
pub(crate) struct WithCatalog<'a> {
    parent: &'a dyn Catalog,
    queries: Vec<(String, Query)>,
}

impl Catalog for WithCatalog<'_> {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.parent.table(name)
    }

    fn view(&self, name: &str) -> Option<&ViewDef> {
        self.parent.view(name)
    }

    fn common_table(&self, name: &str) -> Option<&Query> {
        match self.queries.iter().find(|(n, _)| n == name) {
            Some((_, q)) => Some(q),
            None => self.parent.common_table(name),
        }
    }
}

/// Plans the queries of `with` over `catalog`; returns the catalog that
/// names them.
pub(crate) fn plan_with<'a>(with: &ast::With, catalog: &'a dyn Catalog) -> Result<WithCatalog<'a>> {
    if with.recursive {
        return Err(SqlError::new(
            ErrorKind::Unsupported,
            "WITH RECURSIVE is not supported",
            Position::from_span(with.with_token.0.span),
        ));
    }
    let mut layer = WithCatalog { parent: catalog, queries: Vec::new() };
    for cte in &with.cte_tables {
        let name = fold_ident(&cte.alias.name);
        let pos = Position::from_span(cte.alias.name.span);
        if layer.queries.iter().any(|(n, _)| *n == name) {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!("WITH query name \"{name}\" specified more than once"),
                pos,
            ));
        }
        if cte.from.is_some() {
            return Err(SqlError::unsupported(format!("WITH query {cte}"), pos));
        }
        let mut query = plan_query(&cte.query, &layer, true)?;
        let aliases = &cte.alias.columns;
        if aliases.len() > query.columns.len() {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!(
                    "WITH query \"{name}\" has {} columns available but {} columns specified",
                    query.columns.len(),
                    aliases.len()
                ),
                pos,
            ));
        }
        for (c, a) in query.columns.iter_mut().zip(aliases) {
            if a.data_type.is_some() {
                return Err(SqlError::unsupported("column types in a WITH query's column list", pos));
            }
            c.name = fold_ident(&a.name);
        }
        layer.queries.push((name, query));
    }
    Ok(layer)
}
