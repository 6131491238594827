//! The adapter process: keeps every view current.
//!
//! One [`Runtime`] holds every captured source table that some view reads,
//! and every view, all at one database snapshot (the adapter's frontier).
//! A refresh round ([`Adapter::step`]):
//!
//! 1. in a `REPEATABLE READ` transaction, takes the new snapshot, reads
//!    the catalog, the change-log rows of the transactions that became
//!    visible since the last round, and the whole contents of sources that
//!    a newly seen view reads;
//! 2. applies all of it to the runtime as one logical time;
//! 3. writes each view's diffs back, each view in one transaction with its
//!    new frontier; views without diffs get their frontier in one statement;
//! 4. prunes the change-log rows every view has passed, and notifies
//!    `freshet_progress`.
//!
//! A view the adapter has not loaded yet (at start, or created while it
//! runs) is computed from the sources at the round's snapshot and
//! reconciled with its table: the difference between the two is written
//! back like any diff. This is what makes restart after a crash exact: the
//! view tables and their frontiers only ever change together, and the first
//! round after a start recomputes every view at a fresh snapshot. Its cost
//! is a full read of the sources and the view tables at each start.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use freshet_engine::catalog::Column;
use freshet_engine::runtime::{Runtime, RuntimeConfig, Subscription};
use freshet_engine::{Diff, EngineError, ObjectId, Row};
use fallible_iterator::FallibleIterator;
use postgres::{Client, IsolationLevel, Transaction};

use crate::batch::{current_snapshot, differential_consolidate, net_changes, prune_log, read_log, read_table, Snapshot};
use crate::compile::compile;
use crate::error::{PgError, Result};
use crate::ident::quote_ident;
use crate::log::log;
use crate::schema::{check_installed, connect, ADAPTER_LOCK, CHANGES_CHANNEL, PROGRESS_CHANNEL, WAKEUP_CHANNEL};
use crate::source::{by_oid, SourceTable};
use crate::types::from_format_type;
use crate::view::ViewLayout;

/// How the adapter runs.
#[derive(Clone, Debug)]
pub struct AdapterConfig {
    /// A refresh round runs at least this often, notification or not.
    pub poll_interval: Duration,
    /// Refresh history older than this is deleted.
    pub history_retention: Duration,
    /// Timely worker threads.
    pub workers: usize,
    /// How long to wait for another adapter holding the adapter lock
    /// (e.g. one just killed whose connection the server has not closed).
    pub lock_wait: Duration,
}

impl Default for AdapterConfig {
    fn default() -> AdapterConfig {
        AdapterConfig {
            poll_interval: Duration::from_secs(1),
            history_retention: Duration::from_secs(7 * 24 * 3600),
            workers: 1,
            lock_wait: Duration::from_secs(10),
        }
    }
}

/// What one refresh round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    /// The snapshot every loaded view now reflects.
    pub snapshot: Snapshot,
    /// Change-log rows read.
    pub changes_read: usize,
    /// Views whose tables changed.
    pub views_changed: usize,
    /// View-table rows deleted, inserted or updated.
    pub rows_changed: u64,
    /// Views loaded this round.
    pub views_loaded: Vec<String>,
    /// Views that failed this round, with the reason.
    pub failed: Vec<(String, String)>,
}

/// A view as the catalog describes it.
#[derive(Clone, Debug)]
struct ViewRow {
    id: i64,
    name: String,
    layout: ViewLayout,
    sql: String,
    /// Source oid → the name the query uses for it.
    sources: BTreeMap<u32, String>,
}

/// A view the runtime maintains.
struct LoadedView {
    id: i64,
    layout: ViewLayout,
    subscription: Subscription,
    stage: String,
}

/// The adapter: a connection, the runtime, and what is loaded in it.
pub struct Adapter {
    client: Client,
    runtime: Runtime,
    config: AdapterConfig,
    snapshot: Option<Snapshot>,
    sources: BTreeMap<u32, SourceTable>,
    views: BTreeMap<String, LoadedView>,
    last_prune: Option<Instant>,
    last_history_prune: Option<Instant>,
}

fn runtime_id(view_id: i64) -> ObjectId {
    ObjectId((1u64 << 40) + view_id as u64)
}

impl Adapter {
    /// Connects, checks the schema, takes the adapter lock (one adapter per
    /// database) and listens for changes. Views are loaded by the first
    /// [`step`](Self::step).
    pub fn connect(url: &str, config: AdapterConfig) -> Result<Adapter> {
        let mut client = connect(url)?;
        check_installed(&mut client)?;
        let deadline = Instant::now() + config.lock_wait;
        loop {
            let got: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&ADAPTER_LOCK])?.get(0);
            if got {
                break;
            }
            if Instant::now() >= deadline {
                return Err(PgError::Usage("another freshet adapter is running on this database".into()));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        client.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}; LISTEN {WAKEUP_CHANNEL}"))?;
        let runtime = Runtime::new(RuntimeConfig { workers: config.workers.max(1) })?;
        Ok(Adapter {
            client,
            runtime,
            config,
            snapshot: None,
            sources: BTreeMap::new(),
            views: BTreeMap::new(),
            last_prune: None,
            last_history_prune: None,
        })
    }

    /// The names of the views currently maintained.
    pub fn views(&self) -> Vec<String> {
        self.views.keys().cloned().collect()
    }

    /// Runs refresh rounds until `stop` is set: one when a capture trigger
    /// or a `sync` notifies, and at least every poll interval.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<()> {
        log("info", "adapter started", &[]);
        let mut last = Instant::now() - self.config.poll_interval;
        let mut due = true;
        while !stop.load(Ordering::SeqCst) {
            if due || last.elapsed() >= self.config.poll_interval {
                let began = Instant::now();
                let report = self.step()?;
                last = Instant::now();
                if report.changes_read > 0 || !report.views_loaded.is_empty() || !report.failed.is_empty() {
                    log(
                        "info",
                        "refreshed",
                        &[
                            ("snapshot", &report.snapshot),
                            ("changes", &report.changes_read),
                            ("views_changed", &report.views_changed),
                            ("rows_changed", &report.rows_changed),
                            ("ms", &format!("{:.1}", (last - began).as_secs_f64() * 1000.0)),
                        ],
                    );
                }
            }
            let wait = Duration::from_millis(200);
            let got = self.client.notifications().timeout_iter(wait).next()?.is_some();
            due = got;
            if got {
                let _ = self.client.notifications().iter().count()?;
            }
        }
        log("info", "adapter stopped", &[]);
        Ok(())
    }

    /// One refresh round (see the module documentation).
    pub fn step(&mut self) -> Result<StepReport> {
        let started = Instant::now();
        let mut report = StepReport::default();
        let mut tx = self.client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
        let snap = current_snapshot(&mut tx)?;
        let catalog = read_catalog(&mut tx)?;
        let (broken, captured) = broken_sources(&mut tx)?;

        // Views to unload: gone from the catalog (dropped, failed), or
        // recreated under the same name.
        let unload: Vec<String> = self
            .views
            .iter()
            .filter(|(name, v)| catalog.get(*name).is_none_or(|c| c.id != v.id))
            .map(|(n, _)| n.clone())
            .collect();
        let mut failing: Vec<(ViewRow, String)> = Vec::new();
        let mut wanted: BTreeMap<String, ViewRow> = BTreeMap::new();
        for (name, v) in catalog {
            match v.sources.keys().find_map(|oid| broken.get(oid)) {
                Some(reason) => failing.push((v, reason.clone())),
                None => {
                    wanted.insert(name, v);
                }
            }
        }
        let needed: BTreeSet<u32> = wanted.values().flat_map(|v| v.sources.keys().copied()).collect();

        // Read the batch of every loaded source, and new sources whole.
        let mut logs: BTreeMap<u32, Vec<(Row, Diff)>> = BTreeMap::new();
        if let Some(old) = &self.snapshot {
            for (oid, src) in &self.sources {
                if needed.contains(oid) {
                    let rows = read_log(&mut tx, src, old, &snap)?;
                    report.changes_read += rows.len();
                    logs.insert(*oid, rows);
                }
            }
        }
        let mut loads: Vec<(SourceTable, Vec<(Row, Diff)>)> = Vec::new();
        for oid in &needed {
            if !self.sources.contains_key(oid) {
                let mut src = by_oid(&mut tx, *oid, &format!("source_{oid}"))?;
                // Columns added after capture are not in the log.
                src.def.columns.truncate(captured.get(oid).copied().unwrap_or(0));
                src.def.primary_key.retain(|&c| c < src.def.columns.len());
                let rows = read_table(&mut tx, &src)?;
                loads.push((src, rows));
            }
        }
        tx.commit()?;

        for name in &unload {
            self.unload(name)?;
        }
        for (v, reason) in &failing {
            if self.views.contains_key(&v.name) {
                self.unload(&v.name)?;
            }
            self.mark_failed(&v.name, v.id, reason)?;
            report.failed.push((v.name.clone(), reason.clone()));
        }
        let stale: Vec<u32> = self.sources.keys().filter(|o| !needed.contains(o)).copied().collect();
        for oid in stale {
            self.runtime.drop_table(ObjectId(oid as u64))?;
            self.sources.remove(&oid);
        }

        // One logical time: the batch of every loaded source, plus new
        // sources' contents.
        let mut changes: Vec<(ObjectId, Row, Diff)> = Vec::new();
        for (oid, log_rows) in logs {
            let id = ObjectId(oid as u64);
            let runtime = &mut self.runtime;
            let net = net_changes(log_rows, || Ok(runtime.read(id)?))?;
            changes.extend(net.into_iter().map(|(r, d)| (id, r, d)));
        }
        for (src, rows) in loads {
            self.runtime.create_table(src.def.id, src.def.columns.len())?;
            changes.extend(rows.into_iter().map(|(r, d)| (src.def.id, r, d)));
            self.sources.insert(src.oid, src);
        }
        if !changes.is_empty() {
            self.runtime.apply(changes)?;
        }
        let mut pending: BTreeMap<String, Vec<(Row, Diff)>> = BTreeMap::new();
        for (name, v) in &self.views {
            let mut diffs: Vec<(Row, Diff)> = v.subscription.iter().flat_map(|u| u.diffs).collect();
            if !diffs.is_empty() {
                differential_consolidate(&mut diffs);
                pending.insert(name.clone(), diffs);
            }
        }

        // Views not loaded yet: compute at this snapshot, reconcile with
        // their tables.
        for (name, v) in wanted {
            if self.views.contains_key(&name) {
                continue;
            }
            match self.load(&v) {
                Ok(diffs) => {
                    report.views_loaded.push(name.clone());
                    log("info", "view loaded", &[("view", &name), ("reconcile_diffs", &diffs.len())]);
                    if !diffs.is_empty() {
                        pending.insert(name, diffs);
                    }
                }
                Err(e) => {
                    let reason = e.to_string();
                    if self.views.contains_key(&name) {
                        self.unload(&name)?;
                    } else {
                        let _ = self.runtime.drop_view(runtime_id(v.id));
                    }
                    self.mark_failed(&name, v.id, &reason)?;
                    report.failed.push((name, reason));
                }
            }
        }

        // Write back.
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut unchanged: Vec<String> = Vec::new();
        let names: Vec<String> = self.views.keys().cloned().collect();
        for name in names {
            let Some(diffs) = pending.remove(&name) else {
                unchanged.push(name);
                continue;
            };
            match self.write_back(&name, &diffs, &snap, report.changes_read, elapsed_ms) {
                Ok(Some(n)) => {
                    report.views_changed += 1;
                    report.rows_changed += n;
                }
                Ok(None) => self.unload(&name)?,
                Err(e) => {
                    let reason = e.to_string();
                    let id = self.views[&name].id;
                    self.unload(&name)?;
                    self.mark_failed(&name, id, &reason)?;
                    report.failed.push((name, reason));
                }
            }
        }
        if !unchanged.is_empty() {
            self.client.execute(
                "UPDATE freshet.views SET frontier = $1::text::pg_snapshot, refreshed_at = now() \
                 WHERE name = ANY($2) AND state = 'ok'",
                &[&snap, &unchanged],
            )?;
        }
        self.snapshot = Some(snap.clone());
        self.prune(&snap)?;
        self.client.batch_execute(&format!("NOTIFY {PROGRESS_CHANNEL}"))?;
        for (name, reason) in &report.failed {
            log("error", "view failed", &[("view", name), ("reason", reason)]);
        }
        report.snapshot = snap;
        Ok(report)
    }

    /// Creates the view in the runtime at the current time and returns the
    /// diffs that bring its table there.
    fn load(&mut self, v: &ViewRow) -> Result<Vec<(Row, Diff)>> {
        let sources = &self.sources;
        let compiled = compile(&v.sql, |name| {
            Ok(v.sources.iter().find(|(_, n)| n.as_str() == name).and_then(|(oid, _)| {
                sources.get(oid).map(|s| {
                    let mut s = s.clone();
                    s.def.name = name.to_string();
                    s
                })
            }))
        })?;
        let same = compiled.columns.len() == v.layout.columns.len()
            && compiled.columns.iter().zip(&v.layout.columns).all(|(a, b)| a.name == b.name && a.ty == b.ty);
        if !same {
            return Err(PgError::Usage(
                "the view's query no longer compiles to the columns of its table; drop and recreate the view".into(),
            ));
        }
        let rid = runtime_id(v.id);
        self.runtime.create_view(rid, &compiled.plan)?;
        let contents = self.runtime.read(rid).map_err(|e| match e {
            EngineError::Eval(e) => PgError::Eval(e),
            e => PgError::Engine(e),
        })?;
        let subscription = self.runtime.subscribe(rid)?;
        let _initial = subscription.try_recv();
        let stage = format!("freshet_stage_{}", v.id);
        self.client.batch_execute(&v.layout.create_stage_sql(&stage))?;
        let stored = v.layout.read(&mut self.client)?;
        let mut diffs: Vec<(Row, Diff)> = contents;
        diffs.extend(stored.into_iter().map(|(r, d)| (r, -d)));
        differential_consolidate(&mut diffs);
        self.views.insert(v.name.clone(), LoadedView { id: v.id, layout: v.layout.clone(), subscription, stage });
        Ok(diffs)
    }

    fn unload(&mut self, name: &str) -> Result<()> {
        if let Some(v) = self.views.remove(name) {
            self.runtime.drop_view(runtime_id(v.id))?;
            self.client.batch_execute(&format!("DROP TABLE IF EXISTS pg_temp.{}", quote_ident(&v.stage)))?;
        }
        Ok(())
    }

    /// Writes a view's diffs and its new frontier in one transaction.
    /// `Ok(None)` if the view left the catalog meanwhile.
    fn write_back(
        &mut self,
        name: &str,
        diffs: &[(Row, Diff)],
        snap: &Snapshot,
        changes_read: usize,
        elapsed_ms: f64,
    ) -> Result<Option<u64>> {
        let v = &self.views[name];
        let started = Instant::now();
        let mut tx = self.client.transaction()?;
        let n = v.layout.apply(&mut tx, &v.stage, diffs)?;
        let delta: i64 = diffs.iter().map(|(_, d)| *d).sum();
        let ms = elapsed_ms + started.elapsed().as_secs_f64() * 1000.0;
        let updated = tx.execute(
            "UPDATE freshet.views SET frontier = $1::text::pg_snapshot, row_count = row_count + $2, \
             refreshed_at = now(), refresh_ms = $3 WHERE name = $4 AND id = $5 AND state = 'ok'",
            &[snap, &delta, &ms, &name, &v.id],
        )?;
        if updated == 0 {
            tx.rollback()?;
            return Ok(None);
        }
        record_history(&mut tx, name, ms, changes_read as i64, n as i64, None)?;
        tx.commit()?;
        Ok(Some(n))
    }

    fn mark_failed(&mut self, name: &str, id: i64, reason: &str) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute("UPDATE freshet.views SET state = 'failed', error = $3 WHERE name = $1 AND id = $2", &[&name, &id, &reason])?;
        record_history(&mut tx, name, 0.0, 0, 0, Some(reason))?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes log rows every loaded view has passed (at most once a
    /// second) and history past its retention (at most once a minute).
    fn prune(&mut self, snap: &Snapshot) -> Result<()> {
        if self.last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            for src in self.sources.values() {
                prune_log(&mut self.client, src, snap)?;
            }
            self.last_prune = Some(Instant::now());
        }
        if self.last_history_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            let secs = self.config.history_retention.as_secs_f64();
            self.client.execute(
                "DELETE FROM freshet.history WHERE started_at < now() - make_interval(secs => $1)",
                &[&secs],
            )?;
            self.last_history_prune = Some(Instant::now());
        }
        Ok(())
    }
}

fn record_history(
    tx: &mut Transaction<'_>,
    name: &str,
    ms: f64,
    changes: i64,
    rows: i64,
    error: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO freshet.history (view_name, started_at, duration_ms, changes_read, rows_changed, error) \
         VALUES ($1, now() - make_interval(secs => $2::float8 / 1000.0), $2::float8, $3, $4, $5)",
        &[&name, &ms, &changes, &rows, &error],
    )?;
    Ok(())
}

/// The views in state `ok`, by name.
fn read_catalog(tx: &mut Transaction<'_>) -> Result<BTreeMap<String, ViewRow>> {
    let rows = tx.query(
        "SELECT v.id, v.name, v.schema_name, v.table_name, v.sql, v.columns, v.column_types, v.column_nullable, \
         v.key_columns, coalesce(array_agg(s.source_oid) FILTER (WHERE s.source_oid IS NOT NULL), '{}'), \
         coalesce(array_agg(s.query_name) FILTER (WHERE s.source_oid IS NOT NULL), '{}') \
         FROM freshet.views v LEFT JOIN freshet.view_sources s ON s.view_name = v.name \
         WHERE v.state = 'ok' GROUP BY v.name",
        &[],
    )?;
    let mut out = BTreeMap::new();
    for r in rows {
        let names: Vec<String> = r.get(5);
        let types: Vec<String> = r.get(6);
        let nullable: Vec<bool> = r.get(7);
        let mut columns = Vec::with_capacity(names.len());
        for ((n, t), null) in names.into_iter().zip(types).zip(nullable) {
            let ty = from_format_type(&t).ok_or_else(|| PgError::Protocol(format!("unknown column type {t}")))?;
            columns.push(Column { name: n, ty, nullable: null });
        }
        let key: Option<Vec<i32>> = r.get(8);
        let oids: Vec<u32> = r.get(9);
        let qnames: Vec<String> = r.get(10);
        let name: String = r.get(1);
        let layout = ViewLayout {
            schema: r.get(2),
            table: r.get(3),
            columns,
            key: key.map(|k| k.into_iter().map(|c| c as usize).collect()),
        };
        let v = ViewRow { id: r.get(0), name: name.clone(), layout, sql: r.get(4), sources: oids.into_iter().zip(qnames).collect() };
        out.insert(name, v);
    }
    Ok(out)
}

/// Captured sources that were dropped or whose captured columns changed,
/// with the reason; and the number of captured columns of each source.
type SourceHealth = (HashMap<u32, String>, HashMap<u32, usize>);

fn broken_sources(tx: &mut Transaction<'_>) -> Result<SourceHealth> {
    let rows = tx.query(
        "SELECT s.source_oid, s.schema_name, s.table_name, s.columns, s.column_types, c.oid IS NOT NULL, \
         coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a \
                   WHERE a.attrelid = s.source_oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'), \
         coalesce((SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FROM pg_attribute a \
                   WHERE a.attrelid = s.source_oid AND a.attnum > 0 AND NOT a.attisdropped), '{}') \
         FROM freshet.sources s LEFT JOIN pg_class c ON c.oid = s.source_oid",
        &[],
    )?;
    let mut out = HashMap::new();
    let mut captured = HashMap::new();
    for r in rows {
        let oid: u32 = r.get(0);
        let table = format!("{}.{}", quote_ident(r.get(1)), quote_ident(r.get(2)));
        let names: Vec<String> = r.get(3);
        let types: Vec<String> = r.get(4);
        let exists: bool = r.get(5);
        let live_names: Vec<String> = r.get(6);
        let live_types: Vec<String> = r.get(7);
        captured.insert(oid, names.len());
        if !exists {
            out.insert(oid, format!("source table {table} was dropped"));
            continue;
        }
        let intact = live_names.len() >= names.len()
            && names.iter().zip(&live_names).all(|(a, b)| a == b)
            && types.iter().zip(&live_types).all(|(a, b)| from_format_type(a) == from_format_type(b));
        if !intact {
            out.insert(oid, format!("source table {table} was altered (a captured column was dropped, renamed or retyped)"));
        }
    }
    Ok((out, captured))
}
