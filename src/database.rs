//! [`Database`]: storage + catalog + runtime, executing SQL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use freshet_engine::catalog::{TableDef, ViewDef};
use freshet_engine::runtime::{Runtime, RuntimeConfig, Subscription};
use freshet_engine::storage::{CatalogChange, Commit, DiskStorage, MemoryStorage, Storage};
use freshet_engine::{Diff, Expr, ObjectId, Row, Value};
use freshet_sql::{InsertSource, Parsed, Query, Statement};

use crate::catalog::Catalog;
use crate::dml::{check_row, Pending, TableState};
use crate::error::{Constraint, Error};
use crate::output::{Output, Rows};

/// How to run a database.
#[derive(Clone, Debug)]
pub struct Options {
    /// Timely worker threads (1: the runtime runs on the caller's thread).
    pub workers: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { workers: 1 }
    }
}

/// An embedded freshet database: source tables, materialized views kept
/// current incrementally, and SQL over both.
///
/// Every statement outside `BEGIN … COMMIT` is its own transaction. A
/// transaction's changes are written to storage and then applied to the
/// views as one batch at one logical time, so every view state corresponds
/// to a transactionally consistent state of the tables.
pub struct Database {
    storage: Box<dyn Storage>,
    runtime: Runtime,
    catalog: Catalog,
    /// The objects each view reads.
    deps: BTreeMap<ObjectId, Vec<ObjectId>>,
    frontier: u64,
    txn: Option<Txn>,
}

/// An open transaction block.
#[derive(Default)]
struct Txn {
    pending: Pending,
    /// A statement failed: everything until ROLLBACK/COMMIT is refused.
    aborted: bool,
}

impl Database {
    /// A database held in memory only.
    pub fn open_in_memory() -> Result<Database, Error> {
        Database::with_storage(Box::new(MemoryStorage::new()), Options::default())
    }

    /// A database persisted in the data directory `dir` (created if
    /// missing). Reopening shows every committed transaction.
    pub fn open(dir: impl AsRef<Path>) -> Result<Database, Error> {
        Database::with_storage(Box::new(DiskStorage::open(dir)?), Options::default())
    }

    /// A database over any storage backend: loads its tables and rebuilds
    /// its views.
    pub fn with_storage(storage: Box<dyn Storage>, options: Options) -> Result<Database, Error> {
        let stored = storage.catalog()?;
        let mut runtime = Runtime::new(RuntimeConfig { workers: options.workers.max(1) })?;
        let mut load = Vec::new();
        for t in &stored.tables {
            runtime.create_table(t.id, t.columns.len())?;
            for (row, n) in storage.scan(t.id)? {
                load.push((t.id, row, n));
            }
        }
        if !load.is_empty() {
            runtime.apply(load)?;
        }
        let mut db = Database {
            storage,
            runtime,
            catalog: Catalog::from_stored(&stored),
            deps: BTreeMap::new(),
            frontier: stored.frontier,
            txn: None,
        };
        for v in &stored.views {
            let query = db.compile_select(&v.sql)?;
            let plan = db.catalog.optimize(query.plan);
            db.runtime.create_view(v.id, &plan)?;
            db.deps.insert(v.id, plan.sources());
        }
        Ok(db)
    }

    /// Executes a script of SQL statements in order, returning each
    /// statement's output. Stops at the first error; the statements before
    /// it stay applied.
    pub fn execute(&mut self, sql: &str) -> Result<Vec<Output>, Error> {
        let mut out = Vec::new();
        self.execute_each(sql, |o| out.push(o))?;
        Ok(out)
    }

    /// Like [`execute`](Self::execute), handing each output to `f` as soon
    /// as its statement has run.
    pub fn execute_each(&mut self, sql: &str, mut f: impl FnMut(Output)) -> Result<(), Error> {
        for stmt in freshet_sql::parse(sql)? {
            let out = self.execute_parsed(&stmt);
            if out.is_err() {
                if let Some(t) = &mut self.txn {
                    t.aborted = true;
                }
            }
            f(out?);
        }
        Ok(())
    }

    /// Runs one SELECT (or any statement) and returns its rows; a
    /// statement without rows gives an empty result.
    pub fn query(&mut self, sql: &str) -> Result<Rows, Error> {
        let mut last = None;
        for o in self.execute(sql)? {
            if let Output::Rows(r) = o {
                last = Some(r);
            }
        }
        last.ok_or_else(|| Error::Usage("the statement returns no rows".into()))
    }

    /// The current rows of a materialized view (each repeated by its
    /// multiplicity), in the engine's row order.
    pub fn view_rows(&mut self, name: &str) -> Result<Vec<Row>, Error> {
        let id = self.view(name)?.id;
        Ok(expand(self.runtime.read(id)?))
    }

    /// Follows a view's changes: first its current contents, then one
    /// update per committed transaction (empty when the transaction did not
    /// change the view).
    pub fn subscribe(&mut self, name: &str) -> Result<Subscription, Error> {
        let id = self.view(name)?.id;
        Ok(self.runtime.subscribe(id)?)
    }

    /// Inserts rows into a table as one transaction (or into the open
    /// transaction block). Values must already have the columns' types.
    pub fn insert(&mut self, table: &str, rows: Vec<Row>) -> Result<(), Error> {
        self.change(table, Vec::new(), rows.into_iter().map(|r| (r, 1)).collect())
    }

    /// Deletes rows (exact values, one copy each) from a table as one
    /// transaction; a row that is not there is an error and nothing is
    /// deleted.
    pub fn delete(&mut self, table: &str, rows: Vec<Row>) -> Result<(), Error> {
        self.change(table, rows.into_iter().map(|r| (r, 1)).collect(), Vec::new())
    }

    /// Applies row changes `(row, diff)` to a table as one transaction:
    /// negative diffs delete, positive diffs insert.
    pub fn apply(&mut self, table: &str, changes: Vec<(Row, Diff)>) -> Result<(), Error> {
        let (del, ins): (Vec<_>, Vec<_>) = changes.into_iter().partition(|(_, d)| *d < 0);
        self.change(table, del.into_iter().map(|(r, d)| (r, -d)).collect(), ins)
    }

    fn change(&mut self, table: &str, retract: Vec<(Row, Diff)>, insert: Vec<(Row, Diff)>) -> Result<(), Error> {
        let def = self
            .catalog
            .tables
            .get(table)
            .ok_or_else(|| Error::Usage(format!("relation \"{table}\" does not exist")))?;
        let empty = Pending::default();
        let pending = self.txn.as_ref().map_or(&empty, |t| &t.pending);
        let changes = TableState::new(self.storage.as_ref(), def, pending).change(retract, insert, false)?;
        self.record(changes)
    }

    /// The names of the tables, in name order.
    pub fn tables(&self) -> Vec<&TableDef> {
        self.catalog.tables.values().collect()
    }

    /// The materialized views, in name order.
    pub fn views(&self) -> Vec<&ViewDef> {
        self.catalog.views.values().collect()
    }

    fn view(&self, name: &str) -> Result<&ViewDef, Error> {
        self.catalog
            .views
            .get(name)
            .ok_or_else(|| Error::Usage(format!("materialized view \"{name}\" does not exist")))
    }

    fn compile_select(&self, sql: &str) -> Result<Query, Error> {
        let parsed = freshet_sql::parse(sql)?;
        match parsed.as_slice() {
            [p] => match freshet_sql::plan(p, &self.catalog)? {
                Statement::Select(q) => Ok(q),
                _ => Err(Error::Usage(format!("not a SELECT: {sql}"))),
            },
            _ => Err(Error::Usage(format!("expected one SELECT: {sql}"))),
        }
    }

    fn execute_parsed(&mut self, stmt: &Parsed) -> Result<Output, Error> {
        let planned = freshet_sql::plan(stmt, &self.catalog)?;
        if let Some(t) = &self.txn {
            if t.aborted && !matches!(planned, Statement::Commit | Statement::Rollback) {
                return Err(Error::Usage(
                    "current transaction is aborted, commands ignored until end of transaction block".into(),
                ));
            }
        }
        match planned {
            Statement::Begin => {
                if self.txn.is_none() {
                    self.txn = Some(Txn::default());
                }
                Ok(Output::Command("BEGIN".into()))
            }
            Statement::Commit => match self.txn.take() {
                Some(t) if t.aborted => Ok(Output::Command("ROLLBACK".into())),
                Some(t) => {
                    self.commit_rows(t.pending.changes())?;
                    Ok(Output::Command("COMMIT".into()))
                }
                None => Ok(Output::Command("COMMIT".into())),
            },
            Statement::Rollback => {
                self.txn = None;
                Ok(Output::Command("ROLLBACK".into()))
            }
            Statement::CreateTable { name, columns, primary_key, if_not_exists } => {
                self.no_ddl_in_txn("CREATE TABLE")?;
                if self.catalog.name_taken(&name) {
                    if if_not_exists {
                        return Ok(Output::Command("CREATE TABLE".into()));
                    }
                    return Err(Error::Usage(format!("relation \"{name}\" already exists")));
                }
                let id = self.catalog.allocate();
                let def = TableDef { id, name: name.clone(), columns, primary_key };
                self.commit_catalog(vec![CatalogChange::CreateTable(def.clone())])?;
                self.runtime.create_table(id, def.columns.len())?;
                self.catalog.tables.insert(name, def);
                Ok(Output::Command("CREATE TABLE".into()))
            }
            Statement::DropTable { names, if_exists, cascade } => {
                self.no_ddl_in_txn("DROP TABLE")?;
                let mut ids = Vec::new();
                for name in &names {
                    match self.catalog.tables.get(name) {
                        Some(t) => ids.push(t.id),
                        None if if_exists => {}
                        None => return Err(Error::Usage(format!("table \"{name}\" does not exist"))),
                    }
                }
                self.drop_objects(ids, cascade)?;
                Ok(Output::Command("DROP TABLE".into()))
            }
            Statement::CreateView { name, sql, query, if_not_exists } => {
                self.no_ddl_in_txn("CREATE MATERIALIZED VIEW")?;
                if self.catalog.name_taken(&name) {
                    if if_not_exists {
                        return Ok(Output::Command("CREATE MATERIALIZED VIEW".into()));
                    }
                    return Err(Error::Usage(format!("relation \"{name}\" already exists")));
                }
                let id = self.catalog.allocate();
                let plan = self.catalog.optimize(query.plan);
                self.runtime.create_view(id, &plan)?;
                let rows = match self.runtime.read(id) {
                    Ok(rows) => rows.iter().map(|(_, d)| *d).sum::<Diff>(),
                    Err(e) => {
                        self.runtime.drop_view(id)?;
                        return Err(e.into());
                    }
                };
                let def = ViewDef { id, name: name.clone(), sql, columns: query.columns };
                if let Err(e) = self.commit_catalog(vec![CatalogChange::CreateView(def.clone())]) {
                    self.runtime.drop_view(id)?;
                    return Err(e);
                }
                self.deps.insert(id, plan.sources());
                self.catalog.views.insert(name, def);
                Ok(Output::Command(format!("SELECT {rows}")))
            }
            Statement::DropView { names, if_exists, cascade } => {
                self.no_ddl_in_txn("DROP MATERIALIZED VIEW")?;
                let mut ids = Vec::new();
                for name in &names {
                    match self.catalog.views.get(name) {
                        Some(v) => ids.push(v.id),
                        None if if_exists => {}
                        None => {
                            return Err(Error::Usage(format!("materialized view \"{name}\" does not exist")))
                        }
                    }
                }
                self.drop_objects(ids, cascade)?;
                Ok(Output::Command("DROP MATERIALIZED VIEW".into()))
            }
            Statement::Insert { table, source } => {
                let rows: Vec<Row> = match source {
                    InsertSource::Values(rows) => rows
                        .iter()
                        .map(|exprs| exprs.iter().map(|e| e.eval(&[])).collect::<Result<Row, _>>())
                        .collect::<Result<_, _>>()?,
                    InsertSource::Query(q) => self.run_query(q)?.rows,
                };
                let n = rows.len();
                let changes = self.table_state(table, |state| state.change(Vec::new(), with_one(rows), true))?;
                self.record(changes)?;
                Ok(Output::Command(format!("INSERT 0 {n}")))
            }
            Statement::Update { table, predicate, assignments } => {
                let (n, changes) = self.table_state(table, |state| {
                    let retract = matching(&state, predicate.as_ref())?;
                    let insert = retract
                        .iter()
                        .map(|(row, d)| {
                            let mut new: Vec<Value> = row.to_vec();
                            for (col, e) in &assignments {
                                new[*col] = e.eval(row)?;
                            }
                            Ok((Row::new(new), *d))
                        })
                        .collect::<Result<Vec<_>, Error>>()?;
                    let n: Diff = retract.iter().map(|(_, d)| d).sum();
                    Ok((n, state.change(retract, insert, true)?))
                })?;
                self.record(changes)?;
                Ok(Output::Command(format!("UPDATE {n}")))
            }
            Statement::Delete { table, predicate } => {
                let (n, changes) = self.table_state(table, |state| {
                    let retract = matching(&state, predicate.as_ref())?;
                    let n: Diff = retract.iter().map(|(_, d)| d).sum();
                    Ok((n, state.change(retract, Vec::new(), true)?))
                })?;
                self.record(changes)?;
                Ok(Output::Command(format!("DELETE {n}")))
            }
            Statement::Select(q) => Ok(Output::Rows(self.run_query(q)?)),
            Statement::Explain(q) => {
                let plan = self.catalog.optimize(q.plan);
                let text = plan.to_string();
                Ok(Output::Rows(Rows::explain(&text)))
            }
        }
    }

    /// Drops tables and views (`ids`) in one catalog commit. The views
    /// reading them, directly or through other views, are dropped too with
    /// `cascade`; without it, a dependent that is not itself being dropped
    /// is an error and nothing is dropped. Dependents go first.
    fn drop_objects(&mut self, ids: Vec<ObjectId>, cascade: bool) -> Result<(), Error> {
        let named: BTreeSet<ObjectId> = ids.iter().copied().collect();
        // Every object to drop, each after the views that read it.
        let mut order: Vec<ObjectId> = Vec::new();
        let mut seen: BTreeSet<ObjectId> = BTreeSet::new();
        fn visit(
            db: &Database,
            id: ObjectId,
            named: &BTreeSet<ObjectId>,
            cascade: bool,
            seen: &mut BTreeSet<ObjectId>,
            order: &mut Vec<ObjectId>,
        ) -> Result<(), Error> {
            if !seen.insert(id) {
                return Ok(());
            }
            for v in db.catalog.views_reading(&db.deps, id) {
                if !cascade && !named.contains(&v.id) {
                    let (kind, name) = db.catalog.describe(id);
                    let mut e = dependents(kind, &name, &v.name);
                    if named.len() > 1 {
                        if let Error::Constraint(c) = &mut e {
                            c.message = "cannot drop desired object(s) because other objects depend on them".into();
                        }
                    }
                    return Err(e);
                }
                visit(db, v.id, named, cascade, seen, order)?;
            }
            order.push(id);
            Ok(())
        }
        for id in &ids {
            visit(self, *id, &named, cascade, &mut seen, &mut order)?;
        }
        // Dependents were pushed before what they read: drop in that order.
        if order.is_empty() {
            return Ok(());
        }
        let changes = order
            .iter()
            .map(|id| if self.catalog.is_view(*id) { CatalogChange::DropView(*id) } else { CatalogChange::DropTable(*id) })
            .collect();
        self.commit_catalog(changes)?;
        for id in order {
            if self.catalog.is_view(id) {
                self.runtime.drop_view(id)?;
                self.deps.remove(&id);
                self.catalog.views.retain(|_, v| v.id != id);
            } else {
                self.runtime.drop_table(id)?;
                self.catalog.tables.retain(|_, t| t.id != id);
            }
        }
        Ok(())
    }

    /// Evaluates a one-shot query over the current tables (with the open
    /// transaction's changes), sorted and limited as the query says.
    fn run_query(&mut self, q: Query) -> Result<Rows, Error> {
        let plan = self.catalog.optimize(q.plan);
        let overlay = self.txn.as_ref().map(|t| t.pending.changes()).unwrap_or_default();
        let result = self.runtime.query(&plan, &overlay)?;
        let mut rows = expand(result);
        crate::output::sort_rows(&mut rows, &q.order_by);
        let offset = q.offset.unwrap_or(0) as usize;
        let rows: Vec<Row> = rows
            .into_iter()
            .skip(offset)
            .take(q.limit.map_or(usize::MAX, |l| l as usize))
            .map(|r| if q.hidden > 0 { Row::new(r[..r.len() - q.hidden].to_vec()) } else { r })
            .collect();
        Ok(Rows { columns: q.columns, rows })
    }

    fn table_state<T>(
        &self,
        table: ObjectId,
        f: impl FnOnce(TableState<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let def = self
            .catalog
            .table_by_id(table)
            .ok_or_else(|| Error::Usage(format!("table {table:?} does not exist")))?;
        let empty = Pending::default();
        let pending = self.txn.as_ref().map_or(&empty, |t| &t.pending);
        f(TableState::new(self.storage.as_ref(), def, pending))
    }

    /// Records a statement's changes: into the open transaction, or as a
    /// transaction of its own.
    fn record(&mut self, changes: Vec<(ObjectId, Row, Diff)>) -> Result<(), Error> {
        match &mut self.txn {
            Some(t) => {
                t.pending.add(&changes);
                Ok(())
            }
            None => self.commit_rows(changes),
        }
    }

    fn commit_rows(&mut self, rows: Vec<(ObjectId, Row, Diff)>) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        for (t, row, d) in &rows {
            if *d > 0 {
                if let Some(def) = self.catalog.table_by_id(*t) {
                    check_row(def, row)?;
                }
            }
        }
        let commit = Commit { frontier: self.frontier + 1, next_id: self.catalog.next_id, catalog: Vec::new(), rows };
        self.storage.commit(&commit)?;
        self.frontier = commit.frontier;
        self.runtime.apply(commit.rows)?;
        Ok(())
    }

    fn commit_catalog(&mut self, changes: Vec<CatalogChange>) -> Result<(), Error> {
        let commit =
            Commit { frontier: self.frontier + 1, next_id: self.catalog.next_id, catalog: changes, rows: Vec::new() };
        self.storage.commit(&commit)?;
        self.frontier = commit.frontier;
        Ok(())
    }

    fn no_ddl_in_txn(&self, what: &str) -> Result<(), Error> {
        if self.txn.is_some() {
            return Err(Error::Usage(format!("not supported: {what} inside a transaction block")));
        }
        Ok(())
    }
}

/// The table's rows (with multiplicities) for which `predicate` is true.
fn matching(state: &TableState<'_>, predicate: Option<&Expr>) -> Result<Vec<(Row, Diff)>, Error> {
    let mut out = Vec::new();
    for (row, d) in state.scan()? {
        if predicate.map_or(Ok(true), |p| p.eval_predicate(&row))? {
            out.push((row, d));
        }
    }
    Ok(out)
}

fn with_one(rows: Vec<Row>) -> Vec<(Row, Diff)> {
    rows.into_iter().map(|r| (r, 1)).collect()
}

/// Rows repeated by their multiplicity.
fn expand(rows: Vec<(Row, Diff)>) -> Vec<Row> {
    let mut out = Vec::with_capacity(rows.len());
    for (r, d) in rows {
        for _ in 0..d.max(0) {
            out.push(r.clone());
        }
    }
    out
}

/// `cannot drop table t because other objects depend on it`.
fn dependents(kind: &str, name: &str, view: &str) -> Error {
    Error::Constraint(Constraint {
        message: format!("cannot drop {kind} {name} because other objects depend on it"),
        detail: Some(format!("materialized view {view} depends on {kind} {name}")),
    })
}
