//! The database's in-memory catalog: names to tables and views.

use std::collections::BTreeMap;

use freshet_engine::catalog::{TableDef, ViewDef};
use freshet_engine::storage::StoredCatalog;
use freshet_engine::ObjectId;

/// Tables and views by name, plus the id allocator. Mirrors what the
/// storage holds; every change goes to storage first.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub(crate) tables: BTreeMap<String, TableDef>,
    pub(crate) views: BTreeMap<String, ViewDef>,
    pub(crate) next_id: u64,
}

impl Catalog {
    /// Optimises a plan over this catalog's objects, knowing their primary
    /// keys (enforced at the end of every statement, so they hold in every
    /// state a plan is evaluated over).
    pub(crate) fn optimize(&self, plan: freshet_engine::Plan) -> freshet_engine::Plan {
        let keys: freshet_engine::plan::optimize::SourceKeys = self
            .tables
            .values()
            .filter(|t| !t.primary_key.is_empty())
            .map(|t| (t.id, vec![t.primary_key.clone()]))
            .collect();
        freshet_engine::plan::optimize::optimize_with_keys(plan, &keys)
    }

    pub(crate) fn from_stored(stored: &StoredCatalog) -> Catalog {
        Catalog {
            tables: stored.tables.iter().map(|t| (t.name.clone(), t.clone())).collect(),
            views: stored.views.iter().map(|v| (v.name.clone(), v.clone())).collect(),
            next_id: stored.next_id.max(1),
        }
    }

    /// Allocates a fresh object id.
    pub(crate) fn allocate(&mut self) -> ObjectId {
        let id = ObjectId(self.next_id);
        self.next_id += 1;
        id
    }

    pub(crate) fn table_by_id(&self, id: ObjectId) -> Option<&TableDef> {
        self.tables.values().find(|t| t.id == id)
    }

    pub(crate) fn name_taken(&self, name: &str) -> bool {
        self.tables.contains_key(name) || self.views.contains_key(name)
    }

    /// Views whose plans read `id`, found by compiling nothing: the runtime
    /// reports dependencies, the catalog keeps them.
    /// Whether `id` is a materialized view (else a table, or nothing).
    pub(crate) fn is_view(&self, id: ObjectId) -> bool {
        self.views.values().any(|v| v.id == id)
    }

    /// `("table" | "materialized view", name)` of an object, for messages.
    pub(crate) fn describe(&self, id: ObjectId) -> (&'static str, String) {
        if let Some(v) = self.views.values().find(|v| v.id == id) {
            ("materialized view", v.name.clone())
        } else {
            ("table", self.tables.values().find(|t| t.id == id).map(|t| t.name.clone()).unwrap_or_default())
        }
    }

    pub(crate) fn views_reading(&self, deps: &BTreeMap<ObjectId, Vec<ObjectId>>, id: ObjectId) -> Vec<&ViewDef> {
        self.views.values().filter(|v| deps.get(&v.id).is_some_and(|d| d.contains(&id))).collect()
    }
}

impl freshet_sql::Catalog for Catalog {
    fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.get(name)
    }

    fn view(&self, name: &str) -> Option<&ViewDef> {
        self.views.get(name)
    }
}
