//! The adapter process: keeps every view current.
//!
//! One [`Runtime`] holds every captured source table that some view reads,
//! and every view that is not failed, all at one database snapshot (the
//! adapter's snapshot). A refresh round ([`Adapter::step`]):
//!
//! 1. in a `REPEATABLE READ` transaction, takes the new snapshot, reads
//!    the catalog, the change-log rows of the transactions that became
//!    visible since the last round, and the whole contents of sources that
//!    a newly seen view reads;
//! 2. applies all of it to the runtime as one logical time, and adds each
//!    view's diffs to the changes it holds (its *pending* diffs);
//! 3. writes each view whose refresh policy says so (see
//!    [`RefreshPolicy`]): first checks that its query has no evaluation
//!    error (else the view is marked failed and its table keeps its last
//!    consistent state), then writes its pending diffs in one transaction
//!    with its new frontier. A view with nothing pending gets its frontier
//!    moved in one statement for all such views; a paused view is left as
//!    it is and keeps its pending diffs;
//! 4. prunes the change-log rows the adapter has passed, and notifies
//!    `freshet_progress`.
//!
//! Pending diffs are exact: a view table reflects the view at its
//! frontier, the runtime the view at the adapter's snapshot, and the
//! pending diffs are the difference between the two.
//!
//! A view the adapter has not loaded yet (at start, created while it runs,
//! or resumed after a failure) is computed from the sources at the round's
//! snapshot and reconciled with its table: the difference between the two
//! becomes its pending diffs. This is what makes restart after a crash
//! exact: the view tables and their frontiers only ever change together,
//! and the first round after a start recomputes every view at a fresh
//! snapshot. Its cost is a full read of the sources and the view tables at
//! each start.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fallible_iterator::FallibleIterator;
use freshet_engine::runtime::{Runtime, RuntimeConfig, Subscription};
use freshet_engine::{Diff, EngineError, ObjectId, Row};
use postgres::{Client, IsolationLevel, Transaction};

use crate::batch::{differential_consolidate, net_changes, prune_log, read_log, read_table, Snapshot};
use crate::catalog::{broken_sources, read_catalog, ViewRow};
use crate::compile::compile;
use crate::error::{PgError, Result};
use crate::ident::quote_ident;
use crate::log::log;
use crate::policy::RefreshPolicy;
use crate::schema::{check_installed, connect, ADAPTER_LOCK, CHANGES_CHANNEL, PROGRESS_CHANNEL, WAKEUP_CHANNEL};
use crate::source::{by_oid, SourceTable};
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
    /// The snapshot the runtime now reflects (and every view written or
    /// without pending diffs).
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
    /// Views holding pending diffs after the round (paused, or not due
    /// under their refresh policy).
    pub held: Vec<String>,
}

/// A view the runtime maintains.
struct LoadedView {
    id: i64,
    layout: ViewLayout,
    subscription: Subscription,
    stage: String,
    /// The source oids it reads.
    sources: Vec<u32>,
    policy: RefreshPolicy,
    paused: bool,
    /// The view at the adapter's snapshot minus its table, consolidated.
    pending: Vec<(Row, Diff)>,
    /// Change-log rows of its sources read since its table was written.
    pending_changes: u64,
    /// When its table was last written (`None`: not by this process and
    /// not known).
    last_write: Option<Instant>,
    /// `sync_requests` as of the latest round, and what has been served.
    sync_requests: i64,
    sync_served: i64,
    /// The runtime time at which its query was last seen without error.
    clean_at: Option<u64>,
    /// Whether the catalog's `pending_since` is set (`None`: not known).
    held_recorded: Option<bool>,
}

impl LoadedView {
    /// Whether the policy (or a `sync`) asks for its pending diffs to be
    /// written now.
    fn due(&self) -> bool {
        if self.paused {
            return false;
        }
        if self.sync_requests > self.sync_served {
            return true;
        }
        match &self.policy {
            RefreshPolicy::Continuous => true,
            RefreshPolicy::Every { period, .. } => self.last_write.is_none_or(|t| t.elapsed() >= *period),
            RefreshPolicy::OnDemand => false,
        }
    }

    /// When an `every` view holding diffs becomes due.
    fn due_at(&self) -> Option<Instant> {
        match (&self.policy, self.last_write) {
            (RefreshPolicy::Every { period, .. }, Some(t)) if !self.paused && !self.pending.is_empty() => Some(t + *period),
            _ => None,
        }
    }
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

fn eval_error(e: EngineError) -> PgError {
    match e {
        EngineError::Eval(e) => PgError::Eval(e),
        e => PgError::Engine(e),
    }
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

    /// The names of the views currently maintained (paused ones included).
    pub fn views(&self) -> Vec<String> {
        self.views.keys().cloned().collect()
    }

    /// The earliest time an `every` view holding diffs becomes due.
    fn next_due(&self) -> Option<Instant> {
        self.views.values().filter_map(LoadedView::due_at).min()
    }

    /// Runs refresh rounds until `stop` is set: one when a capture trigger
    /// or a `sync` notifies, when an `every` view becomes due, and at least
    /// every poll interval.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<()> {
        log("info", "adapter started", &[]);
        let mut last = Instant::now() - self.config.poll_interval;
        let mut due = true;
        while !stop.load(Ordering::SeqCst) {
            let timer = self.next_due().is_some_and(|t| t <= Instant::now());
            if due || timer || last.elapsed() >= self.config.poll_interval {
                let began = Instant::now();
                let report = self.step()?;
                last = Instant::now();
                if report.changes_read > 0
                    || report.views_changed > 0
                    || !report.views_loaded.is_empty()
                    || !report.failed.is_empty()
                {
                    log(
                        "info",
                        "refreshed",
                        &[
                            ("snapshot", &report.snapshot),
                            ("changes", &report.changes_read),
                            ("views_changed", &report.views_changed),
                            ("rows_changed", &report.rows_changed),
                            ("views_held", &report.held.len()),
                            ("ms", &format!("{:.1}", (last - began).as_secs_f64() * 1000.0)),
                        ],
                    );
                }
            }
            let mut wait = Duration::from_millis(200);
            if let Some(t) = self.next_due() {
                wait = wait.min(t.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)));
            }
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
        let row = tx.query_one("SELECT pg_current_snapshot()::text, statement_timestamp()::text", &[])?;
        let (snap, snap_time): (Snapshot, String) = (row.get(0), row.get(1));
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
        let mut read_per_source: BTreeMap<u32, u64> = BTreeMap::new();
        if let Some(old) = &self.snapshot {
            for (oid, src) in &self.sources {
                if needed.contains(oid) {
                    let rows = read_log(&mut tx, src, old, &snap)?;
                    report.changes_read += rows.len();
                    read_per_source.insert(*oid, rows.len() as u64);
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
        for (name, v) in self.views.iter_mut() {
            let mut got = false;
            for update in v.subscription.iter() {
                got |= !update.diffs.is_empty();
                v.pending.extend(update.diffs);
            }
            if got {
                differential_consolidate(&mut v.pending);
            }
            v.pending_changes += v.sources.iter().filter_map(|o| read_per_source.get(o)).sum::<u64>();
            if let Some(row) = wanted.get(name) {
                v.policy = row.policy.clone();
                v.paused = row.paused;
                v.sync_requests = row.sync_requests;
            }
        }

        // Views not loaded yet: compute at this snapshot, reconcile with
        // their tables.
        for (name, v) in &wanted {
            if self.views.contains_key(name) {
                continue;
            }
            match self.load(v) {
                Ok(()) => {
                    report.views_loaded.push(name.clone());
                    log("info", "view loaded", &[("view", name), ("reconcile_diffs", &self.views[name].pending.len())]);
                }
                Err(e) => {
                    let reason = e.to_string();
                    if self.views.contains_key(name) {
                        self.unload(name)?;
                    } else {
                        let _ = self.runtime.drop_view(runtime_id(v.id));
                    }
                    self.mark_failed(name, v.id, &reason)?;
                    report.failed.push((name.clone(), reason));
                }
            }
        }

        // Write back the views that are due; move the frontier of those
        // with nothing pending.
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut unchanged: Vec<String> = Vec::new();
        let mut unchanged_served: Vec<i64> = Vec::new();
        let names: Vec<String> = self.views.keys().cloned().collect();
        for name in names {
            let v = &self.views[&name];
            if v.paused || (!v.pending.is_empty() && !v.due()) {
                if !v.pending.is_empty() {
                    report.held.push(name);
                }
                continue;
            }
            if let Err(reason) = self.check_clean(&name)? {
                let id = self.views[&name].id;
                self.unload(&name)?;
                self.mark_failed(&name, id, &reason)?;
                report.failed.push((name, reason));
                continue;
            }
            let v = &self.views[&name];
            if v.pending.is_empty() {
                unchanged.push(name.clone());
                unchanged_served.push(v.sync_requests);
                continue;
            }
            match self.write_back(&name, &snap, &snap_time, elapsed_ms) {
                Ok(Some(n)) => {
                    report.views_changed += 1;
                    report.rows_changed += n;
                }
                // Dropped, paused or failed meanwhile: the next round's
                // catalog says which; the pending diffs stay valid.
                Ok(None) => report.held.push(name),
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
                "UPDATE freshet.views v SET frontier = $1::text::pg_snapshot, frontier_at = $2::text::timestamptz, \
                 refreshed_at = now(), sync_served = greatest(v.sync_served, u.served) \
                 FROM unnest($3::text[], $4::bigint[]) AS u(name, served) WHERE v.name = u.name AND v.state = 'ok'",
                &[&snap, &snap_time, &unchanged, &unchanged_served],
            )?;
            for (name, served) in unchanged.iter().zip(&unchanged_served) {
                if let Some(v) = self.views.get_mut(name) {
                    v.sync_served = v.sync_served.max(*served);
                }
            }
        }
        self.record_held(&snap_time)?;
        self.snapshot = Some(snap.clone());
        self.prune(&snap, captured.keys().copied())?;
        self.client.batch_execute(&format!("NOTIFY {PROGRESS_CHANNEL}"))?;
        for (name, reason) in &report.failed {
            log("error", "view failed", &[("view", name), ("reason", reason)]);
        }
        report.snapshot = snap;
        Ok(report)
    }

    /// `Ok(Err(reason))` if the view's query currently has an evaluation
    /// error. Reads the view's error arrangement only, and only when the
    /// runtime moved since the view was last seen clean.
    fn check_clean(&mut self, name: &str) -> Result<std::result::Result<(), String>> {
        let now = self.runtime.time();
        let v = &self.views[name];
        if v.clean_at == Some(now) {
            return Ok(Ok(()));
        }
        let rid = runtime_id(v.id);
        match self.runtime.view_error(rid)? {
            Some(e) => Ok(Err(e.to_string())),
            None => {
                self.views.get_mut(name).expect("loaded").clean_at = Some(now);
                Ok(Ok(()))
            }
        }
    }

    /// Creates the view in the runtime at the current time; its pending
    /// diffs are those that bring its table there.
    fn load(&mut self, v: &ViewRow) -> Result<()> {
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
        let contents = self.runtime.read(rid).map_err(eval_error)?;
        let subscription = self.runtime.subscribe(rid)?;
        let _initial = subscription.try_recv();
        let stage = format!("freshet_stage_{}", v.id);
        self.client.batch_execute(&v.layout.create_stage_sql(&stage))?;
        let stored = v.layout.read(&mut self.client)?;
        let mut diffs: Vec<(Row, Diff)> = contents;
        diffs.extend(stored.into_iter().map(|(r, d)| (r, -d)));
        differential_consolidate(&mut diffs);
        let last_write = v.since_refresh.and_then(|s| Instant::now().checked_sub(Duration::from_secs_f64(s.max(0.0))));
        self.views.insert(
            v.name.clone(),
            LoadedView {
                id: v.id,
                layout: v.layout.clone(),
                subscription,
                stage,
                sources: v.sources.keys().copied().collect(),
                policy: v.policy.clone(),
                paused: v.paused,
                pending: diffs,
                pending_changes: 0,
                last_write,
                sync_requests: v.sync_requests,
                sync_served: v.sync_served,
                clean_at: Some(self.runtime.time()),
                held_recorded: None,
            },
        );
        Ok(())
    }

    fn unload(&mut self, name: &str) -> Result<()> {
        if let Some(v) = self.views.remove(name) {
            self.runtime.drop_view(runtime_id(v.id))?;
            self.client.batch_execute(&format!("DROP TABLE IF EXISTS pg_temp.{}", quote_ident(&v.stage)))?;
        }
        Ok(())
    }

    /// Writes a view's pending diffs and its new frontier in one
    /// transaction, and clears them. `Ok(None)` (nothing written) if the
    /// view is no longer in state `ok` in the catalog.
    fn write_back(&mut self, name: &str, snap: &Snapshot, snap_time: &str, elapsed_ms: f64) -> Result<Option<u64>> {
        let v = &self.views[name];
        let started = Instant::now();
        let mut tx = self.client.transaction()?;
        let n = v.layout.apply(&mut tx, &v.stage, &v.pending)?;
        let delta: i64 = v.pending.iter().map(|(_, d)| *d).sum();
        let ms = elapsed_ms + started.elapsed().as_secs_f64() * 1000.0;
        let updated = tx.execute(
            "UPDATE freshet.views SET frontier = $1::text::pg_snapshot, frontier_at = $2::text::timestamptz, \
             row_count = row_count + $3, refreshed_at = now(), refresh_ms = $4, \
             sync_served = greatest(sync_served, $7), pending_since = NULL \
             WHERE name = $5 AND id = $6 AND state = 'ok'",
            &[snap, &snap_time, &delta, &ms, &name, &v.id, &v.sync_requests],
        )?;
        if updated == 0 {
            tx.rollback()?;
            return Ok(None);
        }
        record_history(&mut tx, name, ms, v.pending_changes as i64, n as i64, None)?;
        tx.commit()?;
        let v = self.views.get_mut(name).expect("loaded");
        v.pending.clear();
        v.pending_changes = 0;
        v.last_write = Some(Instant::now());
        v.sync_served = v.sync_served.max(v.sync_requests);
        v.held_recorded = Some(false);
        Ok(Some(n))
    }

    /// Records in the catalog (`pending_since`) which views hold changes
    /// not written to their tables, where it changed.
    fn record_held(&mut self, snap_time: &str) -> Result<()> {
        let mut set: Vec<String> = Vec::new();
        let mut clear: Vec<String> = Vec::new();
        for (name, v) in &self.views {
            let held = !v.pending.is_empty();
            if v.held_recorded != Some(held) {
                if held { set.push(name.clone()) } else { clear.push(name.clone()) }
            }
        }
        if !set.is_empty() {
            self.client.execute(
                "UPDATE freshet.views SET pending_since = coalesce(pending_since, $2::text::timestamptz) \
                 WHERE name = ANY($1)",
                &[&set, &snap_time],
            )?;
        }
        if !clear.is_empty() {
            self.client.execute("UPDATE freshet.views SET pending_since = NULL WHERE name = ANY($1)", &[&clear])?;
        }
        for (names, held) in [(set, true), (clear, false)] {
            for n in names {
                if let Some(v) = self.views.get_mut(&n) {
                    v.held_recorded = Some(held);
                }
            }
        }
        Ok(())
    }

    fn mark_failed(&mut self, name: &str, id: i64, reason: &str) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute("UPDATE freshet.views SET state = 'failed', error = $3 WHERE name = $1 AND id = $2", &[&name, &id, &reason])?;
        record_history(&mut tx, name, 0.0, 0, 0, Some(reason))?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes the log rows of transactions the adapter's snapshot sees
    /// (every loaded view has them applied or pending, and a view loaded
    /// later is computed from its sources' tables), at most once a second;
    /// and history past its retention, at most once a minute.
    fn prune(&mut self, snap: &Snapshot, captured: impl Iterator<Item = u32>) -> Result<()> {
        if self.last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            for oid in captured {
                prune_log(&mut self.client, oid, snap)?;
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
