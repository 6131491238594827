//! [`TestCatalog`]: the tables a test plans SQL against.

use std::collections::BTreeMap;

use freshet_engine::catalog::{TableDef, ViewDef};

/// A front-end catalog of tables by name (no views): the same definitions
/// the database under test holds.
pub struct TestCatalog(pub BTreeMap<String, TableDef>);

impl freshet_sql::Catalog for TestCatalog {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.0.get(name)
    }

    fn view(&self, _name: &str) -> Option<&ViewDef> {
        None
    }
}
