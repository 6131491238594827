//! `create-view` and `drop-view`.

use std::time::Instant;

use freshet_engine::runtime::{Runtime, RuntimeConfig};
use freshet_engine::{EngineError, ObjectId};
use postgres::{Client, IsolationLevel};

use crate::batch::{current_snapshot, read_table_counted};
use crate::compile::compile;
use crate::error::{PgError, Result};
use crate::ident::quote_literal;
use crate::policy::RefreshPolicy;
use crate::schema::{check_installed, CATALOG_LOCK, WAKEUP_CHANNEL};
use crate::source::{by_oid, lookup, install_capture, is_captured, remove_unused_captures};
use crate::types::sql_type;
use crate::view::ViewLayout;

/// What `create-view` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedView {
    /// The view's name.
    pub name: String,
    /// Its rows after the initial fill (with multiplicity).
    pub rows: i64,
    /// The snapshot the fill reflects.
    pub frontier: String,
    /// The unique key's column names, if the plan proves one.
    pub key: Option<Vec<String>>,
}

/// How a view is created.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewOptions {
    /// The schema of the view table.
    pub schema: String,
    /// When the adapter writes the view.
    pub refresh: RefreshPolicy,
}

impl Default for ViewOptions {
    fn default() -> ViewOptions {
        ViewOptions { schema: "public".into(), refresh: RefreshPolicy::Continuous }
    }
}

/// What `create-view` is doing, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadProgress<'a> {
    /// Starting to read a source table; `estimated_rows` from the planner's
    /// statistics when the table has been analyzed.
    Reading {
        /// The table, quoted.
        table: &'a str,
        /// PostgreSQL's estimate of its rows.
        estimated_rows: Option<u64>,
    },
    /// Rows of the current table read so far.
    Read {
        /// Rows so far.
        rows: u64,
    },
    /// Computing the view from the sources read.
    Computing,
    /// Writing the view's rows into its table.
    Writing {
        /// Distinct rows to write.
        rows: u64,
    },
}

/// Holds the catalog lock for as long as it lives.
struct CatalogLock<'a>(&'a mut Client);

impl<'a> CatalogLock<'a> {
    fn take(client: &'a mut Client) -> Result<CatalogLock<'a>> {
        client.execute("SELECT pg_advisory_lock($1)", &[&CATALOG_LOCK])?;
        Ok(CatalogLock(client))
    }
}

impl Drop for CatalogLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.execute("SELECT pg_advisory_unlock($1)", &[&CATALOG_LOCK]);
    }
}

/// Creates the view `name` as table `schema.name`, refreshed
/// continuously: [`create_view_with`] with default options but the schema.
pub fn create_view(
    client: &mut Client,
    name: &str,
    sql: &str,
    schema: &str,
    progress: &mut dyn FnMut(LoadProgress<'_>),
) -> Result<CreatedView> {
    let options = ViewOptions { schema: schema.to_string(), ..ViewOptions::default() };
    create_view_with(client, name, sql, &options, progress)
}

/// Creates the view `name` as table `options.schema`.`name`, maintained
/// from `sql` by `options.refresh`: compiles the query against the live
/// catalog, installs capture on its sources, and fills the table from the
/// snapshot that starts the view's change stream, all in one transaction
/// (on any error nothing is left). `progress` is told what is being
/// loaded.
pub fn create_view_with(
    client: &mut Client,
    name: &str,
    sql: &str,
    options: &ViewOptions,
    progress: &mut dyn FnMut(LoadProgress<'_>),
) -> Result<CreatedView> {
    let schema = options.schema.as_str();
    check_installed(client)?;
    if name.is_empty() {
        return Err(PgError::Usage("a view name cannot be empty".into()));
    }
    let lock = CatalogLock::take(client)?;
    let client = &mut *lock.0;
    if client.query_opt("SELECT 1 FROM freshet.views WHERE name = $1", &[&name])?.is_some() {
        return Err(PgError::Usage(format!("view \"{name}\" already exists")));
    }
    let compiled = compile(sql, |n| lookup(client, n))?;
    let mut uncaptured = Vec::new();
    for src in compiled.sources.values() {
        if !is_captured(client, src.oid)? {
            uncaptured.push(src.qualified());
        }
    }
    let started = Instant::now();
    let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start()?;
    if !uncaptured.is_empty() {
        // Before the snapshot is taken: writers in flight finish first, and
        // later ones wait for the capture triggers.
        tx.batch_execute(&format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", uncaptured.join(", ")))?;
    }
    let frontier = current_snapshot(&mut tx)?;
    let mut runtime = Runtime::new(RuntimeConfig::default())?;
    let mut load = Vec::new();
    for src in compiled.sources.values() {
        let now = by_oid(&mut tx, src.oid, &src.def.name)?;
        if now.def.columns != src.def.columns {
            return Err(PgError::Usage(format!("table {} changed while the view was created; retry", src.qualified())));
        }
        install_capture(&mut tx, src)?;
        let estimate: f32 = tx.query_one("SELECT reltuples FROM pg_class WHERE oid = $1", &[&src.oid])?.get(0);
        let table = src.qualified();
        progress(LoadProgress::Reading {
            table: &table,
            estimated_rows: (estimate >= 0.0).then_some(estimate as u64),
        });
        runtime.create_table(src.def.id, src.def.columns.len())?;
        let rows = read_table_counted(&mut tx, src, &mut |rows| progress(LoadProgress::Read { rows }))?;
        load.extend(rows.into_iter().map(|(r, d)| (src.def.id, r, d)));
    }
    if !load.is_empty() {
        runtime.apply(load)?;
    }
    let view_id = ObjectId(u64::MAX);
    progress(LoadProgress::Computing);
    runtime.create_view(view_id, &compiled.plan)?;
    let contents = runtime.read(view_id).map_err(|e| match e {
        EngineError::Eval(e) => PgError::Eval(e),
        e => PgError::Engine(e),
    })?;
    let layout = ViewLayout { schema: schema.to_string(), table: name.to_string(), columns: compiled.columns, key: compiled.key };
    progress(LoadProgress::Writing { rows: contents.len() as u64 });
    tx.batch_execute(&layout.create_table_sql())?;
    layout.fill(&mut tx, &contents)?;
    if let Some(ix) = layout.create_index_sql() {
        tx.batch_execute(&ix)?;
    }
    // Statistics now, not when autovacuum gets round to it: without them the
    // planner scans the whole view table for every write-back DELETE
    // instead of probing its unique index.
    tx.batch_execute(&format!("ANALYZE {}", layout.qualified()))?;
    let rows: i64 = contents.iter().map(|(_, d)| *d).sum();
    let names: Vec<String> = layout.columns.iter().map(|c| c.name.clone()).collect();
    let types: Vec<String> = layout.columns.iter().map(|c| sql_type(c.ty)).collect();
    let nullable: Vec<bool> = layout.columns.iter().map(|c| c.nullable).collect();
    let key: Option<Vec<i32>> = layout.key.as_ref().map(|k| k.iter().map(|&c| c as i32).collect());
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tx.execute(
        "INSERT INTO freshet.views (name, schema_name, table_name, sql, columns, column_types, column_nullable, \
         key_columns, frontier, row_count, refreshed_at, refresh_ms, frontier_at, refresh, refresh_interval) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::pg_snapshot, $10, now(), $11, now(), $12, $13::text::interval)",
        &[
            &name,
            &schema,
            &name,
            &sql,
            &names,
            &types,
            &nullable,
            &key,
            &frontier,
            &rows,
            &ms,
            &options.refresh.kind(),
            &options.refresh.interval_text(),
        ],
    )?;
    for (oid, src) in &compiled.sources {
        tx.execute(
            "INSERT INTO freshet.view_sources (view_name, source_oid, query_name) VALUES ($1, $2, $3)",
            &[&name, oid, &src.def.name],
        )?;
    }
    tx.batch_execute(&format!("NOTIFY {WAKEUP_CHANNEL}, {}", quote_literal(name)))?;
    tx.commit()?;
    let key = layout.key.as_ref().map(|k| k.iter().map(|&c| layout.columns[c].name.clone()).collect());
    Ok(CreatedView { name: name.to_string(), rows, frontier, key })
}

/// Drops the view `name`: its table, its catalog rows, and the capture of
/// sources no other view reads.
pub fn drop_view(client: &mut Client, name: &str) -> Result<()> {
    check_installed(client)?;
    let lock = CatalogLock::take(client)?;
    let client = &mut *lock.0;
    let mut tx = client.transaction()?;
    let row = tx
        .query_opt("SELECT schema_name, table_name FROM freshet.views WHERE name = $1 FOR UPDATE", &[&name])?
        .ok_or_else(|| PgError::Usage(format!("view \"{name}\" does not exist")))?;
    let (schema, table): (String, String) = (row.get(0), row.get(1));
    tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", crate::ident::qualified(&schema, &table)))?;
    tx.execute("DELETE FROM freshet.views WHERE name = $1", &[&name])?;
    remove_unused_captures(&mut tx)?;
    tx.batch_execute(&format!("NOTIFY {WAKEUP_CHANNEL}, {}", quote_literal(name)))?;
    tx.commit()?;
    Ok(())
}
