//! Compiling a SELECT into the optimised plan the runtime renders, against
//! a fixed set of tables (no database involved).

use freshet_engine::catalog::{TableDef, ViewDef};
use freshet_engine::plan::optimize::{optimize_with_keys, SourceKeys};
use freshet_engine::Plan;
use freshet_sql::Statement;

use crate::error::BenchError;

/// A catalog of tables only.
struct Tables<'a>(&'a [TableDef]);

impl freshet_sql::Catalog for Tables<'_> {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.0.iter().find(|t| t.name == name)
    }

    fn view(&self, _name: &str) -> Option<&ViewDef> {
        None
    }
}

/// Parses, binds and optimises one SELECT over `tables`.
pub fn compile_select(sql: &str, tables: &[TableDef]) -> Result<Plan, BenchError> {
    let parsed = freshet_sql::parse(sql)?;
    let [stmt] = parsed.as_slice() else {
        return Err(BenchError::Workload(format!("expected one statement, got {}", parsed.len())));
    };
    match freshet_sql::plan(stmt, &Tables(tables))? {
        Statement::Select(q) => {
            let keys: SourceKeys = tables
                .iter()
                .filter(|t| !t.primary_key.is_empty())
                .map(|t| (t.id, vec![t.primary_key.clone()]))
                .collect();
            Ok(optimize_with_keys(q.plan, &keys))
        }
        _ => Err(BenchError::Workload(format!("not a SELECT: {sql}"))),
    }
}
