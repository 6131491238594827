//! Compiling a view's query against the live PostgreSQL catalog.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use freshet_engine::catalog::{Column, TableDef, ViewDef};
use freshet_engine::plan::keys::narrowest_key;
use freshet_engine::plan::optimize::optimize;
use freshet_engine::{ObjectId, Plan};
use freshet_sql::Statement;
use sqlparser::ast::{visit_relations, ObjectNamePart};

use crate::error::{PgError, Result};
use crate::source::SourceTable;

/// A query compiled against the live catalog.
#[derive(Clone, Debug)]
pub struct CompiledView {
    /// The optimised plan; its `Get`s carry the source tables' oids as ids.
    pub plan: Plan,
    /// Output columns, named and typed as PostgreSQL would.
    pub columns: Vec<Column>,
    /// The source tables read, by oid.
    pub sources: BTreeMap<u32, SourceTable>,
    /// The narrowest unique key of the result (output positions), if the
    /// plan proves one.
    pub key: Option<Vec<usize>>,
}

/// Source tables by the names a query uses.
struct LiveCatalog {
    tables: HashMap<String, TableDef>,
}

impl freshet_sql::Catalog for LiveCatalog {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.get(name)
    }
    fn view(&self, _name: &str) -> Option<&ViewDef> {
        None
    }
}

/// The name of the placeholder view the query is planned as.
const PLACEHOLDER: &str = "__freshet_view";

/// Compiles `sql` (one SELECT); `resolve` finds the table a (case-folded)
/// name in the query refers to (`Ok(None)`: no such table).
pub fn compile(sql: &str, mut resolve: impl FnMut(&str) -> Result<Option<SourceTable>>) -> Result<CompiledView> {
    let body = sql.trim().trim_end_matches(';').trim_end();
    if body.is_empty() {
        return Err(PgError::Usage("the view's query is empty".into()));
    }
    let text = format!("CREATE MATERIALIZED VIEW {PLACEHOLDER} AS\n{body}");
    let parsed = freshet_sql::parse(&text)?;
    let [stmt] = parsed.as_slice() else {
        return Err(PgError::Usage("the view's query must be a single SELECT".into()));
    };
    let mut names = Vec::new();
    let _ = visit_relations(&stmt.ast, |name| {
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(id) => {
                    Some(if id.quote_style.is_some() { id.value.clone() } else { id.value.to_lowercase() })
                }
                _ => None,
            })
            .collect();
        match parts.as_slice() {
            [n] => names.push(n.clone()),
            [s, n] if s == "public" => names.push(n.clone()),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    let mut tables = HashMap::new();
    let mut sources = BTreeMap::new();
    for name in names {
        if name == PLACEHOLDER || tables.contains_key(&name) {
            continue;
        }
        if let Some(src) = resolve(&name)? {
            tables.insert(name, src.def.clone());
            sources.insert(src.oid, src);
        }
    }
    let catalog = LiveCatalog { tables };
    let query = match freshet_sql::plan(stmt, &catalog)? {
        Statement::CreateView { query, .. } => query,
        _ => return Err(PgError::Usage("the view's query must be a SELECT".into())),
    };
    if query.limit.is_some() || query.offset.is_some() {
        return Err(PgError::Unsupported("not supported: LIMIT / OFFSET in a maintained view".into()));
    }
    let mut plan = query.plan;
    if query.hidden > 0 {
        let n = query.columns.len();
        plan = Plan::Map(freshet_engine::plan::Map {
            input: Box::new(plan),
            exprs: (0..n).map(freshet_engine::Expr::Column).collect(),
        });
    }
    let plan = optimize(plan);
    let read = plan.sources();
    sources.retain(|oid, _| read.contains(&ObjectId(*oid as u64)));
    let pks: HashMap<ObjectId, Vec<usize>> =
        sources.values().map(|s| (s.def.id, s.def.primary_key.clone())).collect();
    // A table without columns has no index to key: it is stored as a bag.
    let key = if query.columns.is_empty() { None } else { narrowest_key(&plan, &pks) };
    Ok(CompiledView { plan, columns: query.columns, sources, key })
}
