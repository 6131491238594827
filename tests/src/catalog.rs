//! [`TestCatalog`]: the tables a test plans SQL against.

use std::collections::BTreeMap;

use freshet_engine::catalog::{Column, TableDef, ViewDef};
use freshet_engine::plan::ObjectId;

use crate::queries::TableSchema;

/// A front-end catalog of tables by name (no views): the same definitions
/// the database under test holds.
pub struct TestCatalog(pub BTreeMap<String, TableDef>);

impl TestCatalog {
    /// The catalog of generated tables: table `i` gets id `i + 1`, and a
    /// primary key column is never nullable.
    pub fn from_schemas(tables: &[TableSchema]) -> TestCatalog {
        let defs = tables
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let columns = t
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(c, col)| Column {
                        name: col.name.clone(),
                        ty: col.ty.data_type(),
                        nullable: col.nullable && !(c == 0 && t.primary_key),
                    })
                    .collect();
                let pk = if t.primary_key { vec![0] } else { vec![] };
                (
                    t.name.clone(),
                    TableDef { id: ObjectId(i as u64 + 1), name: t.name.clone(), columns, primary_key: pk },
                )
            })
            .collect();
        TestCatalog(defs)
    }
}

impl freshet_sql::Catalog for TestCatalog {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.0.get(name)
    }

    fn view(&self, _name: &str) -> Option<&ViewDef> {
        None
    }
}
