//! The adapter process: keeps every view current.
//!
//! One [`Runtime`] holds every captured source table that some view reads,
//! and every view that is not failed, all at one database snapshot (the
//! adapter's snapshot). A refresh round ([`Adapter::step`]):
//!
//! 1. takes the new snapshot (and marks the adapter busy, see
//!    [`crate::wake`]) in one prepared statement that also tells which
//!    change logs have rows it has not read; reads those rows (one `COPY`
//!    each, filtered by the two snapshots). The `freshet` catalog is read
//!    only when it may have changed: at the first round, when a
//!    `freshet_wakeup` notification came (`create-view`, `drop-view`,
//!    `sync`, `alter-view`, `pause`, `resume` send one), and at least once a
//!    second (which also notices dropped or altered sources); such a round
//!    reads everything in one `REPEATABLE READ` transaction, at one
//!    snapshot, and also reads whole the sources that a newly seen view
//!    reads. Other rounds need no transaction: three round trips read a
//!    one-source change. A source holding a value the engine cannot
//!    represent ([`PgError::UnsupportedValue`], e.g. a multidimensional
//!    array) fails the views reading it, not the round;
//! 2. applies all of it to the runtime as one logical time, and adds each
//!    view's diffs to the changes it holds (its *pending* diffs);
//! 3. writes each view whose refresh policy says so (see
//!    [`RefreshPolicy`]): first checks that its query has no evaluation
//!    error (else the view is marked failed and its table keeps its last
//!    consistent state), then writes its pending diffs with its new
//!    frontier: one prepared statement for a keyed view (see
//!    [`crate::view`]). When the catalog was read, views with nothing
//!    pending get their frontier moved, in one statement for all of them;
//!    a paused view is left as it is and keeps its pending diffs;
//! 4. notifies `freshet_progress` when it changed anything (in the
//!    statement that did), and prunes the change-log rows the adapter has
//!    passed (at most once a second).
//!
//! Where the time goes is recorded per stage in [`StepReport::stages`].
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fallible_iterator::FallibleIterator;
use freshet_engine::runtime::{Runtime, RuntimeConfig, Subscription};
use freshet_engine::{Diff, EngineError, ObjectId, Row};
use postgres::{Client, GenericClient, Statement};

use crate::batch::{differential_consolidate, net_changes, prune_log, read_log, read_table, Snapshot};
use crate::catalog::{broken_sources, read_catalog, ViewRow};
use crate::compile::compile;
use crate::error::{PgError, Result};
use crate::ident::{log_table, qualified};
use crate::log::log;
use crate::policy::RefreshPolicy;
use crate::schema::{check_installed, connect, ADAPTER_LOCK, CHANGES_CHANNEL, PROGRESS_CHANNEL, WAKEUP_CHANNEL};
use crate::source::{by_oid, SourceTable};
use crate::stages::{Stage, StageTimes};
use crate::view::{NullPattern, ViewLayout, WriteMeta};
use crate::wake::{self, AfterRound};

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

/// The catalog is read again at least this often.
const CATALOG_REFRESH: Duration = Duration::from_secs(1);

/// A change log is vacuumed once prunes have deleted this many of its
/// rows.
const VACUUM_AFTER: u64 = 1000;

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
    /// Whether the round read the `freshet` catalog.
    pub read_catalog: bool,
    /// Where the round spent its time (see [`crate::stages`]).
    pub stages: StageTimes,
}

impl StepReport {
    /// True if the round read changes, or changed, loaded or failed a view.
    pub fn did_something(&self) -> bool {
        self.changes_read > 0 || self.views_changed > 0 || !self.views_loaded.is_empty() || !self.failed.is_empty()
    }
}

/// A view the runtime maintains.
struct LoadedView {
    id: i64,
    layout: ViewLayout,
    subscription: Subscription,
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
    /// Prepared write statements, by the NULL patterns of the keys they
    /// match.
    writes: HashMap<Vec<NullPattern>, Statement>,
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
            (RefreshPolicy::Every { period, .. }, Some(t)) if !self.paused && !self.pending.is_empty() => {
                Some(t + *period)
            }
            _ => None,
        }
    }
}

/// The `freshet` catalog as last read.
struct Catalog {
    /// Views in state `ok` or `paused`.
    views: BTreeMap<String, ViewRow>,
    /// Sources dropped or altered, with the reason.
    broken: HashMap<u32, String>,
    /// Captured columns per source.
    captured: HashMap<u32, usize>,
    read_at: Instant,
}

/// The prepared first statement of a round: for these loaded sources,
/// with or without a previous snapshot to compare with.
struct Begin {
    sources: Vec<u32>,
    since: bool,
    statement: Statement,
}

/// The adapter: a connection, the runtime, and what is loaded in it.
pub struct Adapter {
    client: Client,
    runtime: Runtime,
    config: AdapterConfig,
    snapshot: Option<Snapshot>,
    sources: BTreeMap<u32, SourceTable>,
    views: BTreeMap<String, LoadedView>,
    catalog: Option<Catalog>,
    /// A notification said the catalog changed since it was read.
    catalog_stale: bool,
    begin: Option<Begin>,
    /// Change-log rows were read since the logs were last pruned.
    unpruned: bool,
    /// Log rows deleted per source since it was last vacuumed.
    pruned: HashMap<u32, u64>,
    last_prune: Option<Instant>,
    last_history_prune: Option<Instant>,
}

/// What a round's first statement tells.
struct Begun {
    /// The round's snapshot.
    snapshot: Snapshot,
    /// When it was taken (text).
    time: String,
    /// The loaded sources whose logs have rows not visible in the previous
    /// snapshot.
    unread: BTreeSet<u32>,
}

/// Runs a round's first statement: the snapshot, the adapter marked busy,
/// and which logs (of `sources`, in order) have unread rows.
fn begin<'a>(
    client: &mut impl GenericClient,
    statement: &Statement,
    old: Option<&Snapshot>,
    sources: impl Iterator<Item = &'a u32>,
) -> Result<Begun> {
    let row = match old {
        Some(o) if !statement.params().is_empty() => client.query_one(statement, &[o])?,
        _ => client.query_one(statement, &[])?,
    };
    let unread = match old {
        Some(_) => sources.enumerate().filter(|(i, _)| row.get::<_, bool>(3 + i)).map(|(_, o)| *o).collect(),
        None => BTreeSet::new(),
    };
    Ok(Begun { snapshot: row.get(0), time: row.get(1), unread })
}

/// What a round read.
struct ReadPhase {
    snapshot: Snapshot,
    time: String,
    /// Views to maintain, by name.
    wanted: BTreeMap<String, ViewRow>,
    /// Views whose sources broke, with the reason.
    failing: Vec<(ViewRow, String)>,
    /// Loaded views no longer in the catalog (or recreated).
    unload: Vec<String>,
    /// Sources the wanted views read.
    needed: BTreeSet<u32>,
    /// Captured columns per source.
    captured: HashMap<u32, usize>,
    /// Each read log's rows in log order.
    logs: BTreeMap<u32, Vec<(Row, Diff)>>,
    /// New sources, read whole.
    loads: Vec<(SourceTable, Vec<(Row, Diff)>)>,
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
        // Prepared statements are planned once: a write statement's plan
        // probes the view table's unique index per row whatever the
        // batch's size (its parameters are arrays of unknown length).
        client.batch_execute(&format!(
            "LISTEN {CHANGES_CHANNEL}; LISTEN {WAKEUP_CHANNEL}; SET plan_cache_mode = force_generic_plan"
        ))?;
        let runtime = Runtime::new(RuntimeConfig { workers: config.workers.max(1) })?;
        Ok(Adapter {
            client,
            runtime,
            config,
            snapshot: None,
            sources: BTreeMap::new(),
            views: BTreeMap::new(),
            catalog: None,
            catalog_stale: true,
            begin: None,
            unpruned: true,
            pruned: HashMap::new(),
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

    /// Takes note of a notification; true for any.
    fn note(&mut self, n: Option<postgres::Notification>) -> bool {
        match n {
            Some(n) => {
                if n.channel() == WAKEUP_CHANNEL {
                    self.catalog_stale = true;
                }
                true
            }
            None => false,
        }
    }

    /// Takes note of the notifications that have arrived, waiting at most
    /// `wait` for the first; true if any came.
    fn notifications(&mut self, wait: Duration) -> Result<bool> {
        let first = if wait.is_zero() {
            self.client.notifications().iter().next()?
        } else {
            self.client.notifications().timeout_iter(wait).next()?
        };
        let mut got = self.note(first);
        loop {
            let next = self.client.notifications().iter().next()?;
            if !self.note(next) {
                break;
            }
            got = true;
        }
        Ok(got)
    }

    /// The change-log tables of the loaded sources, quoted.
    fn logs(&self) -> Vec<String> {
        self.sources.values().map(SourceTable::log).collect()
    }

    /// Runs refresh rounds until `stop` is set: one when a capture trigger
    /// or a `sync` notifies, when an `every` view becomes due, when a
    /// watched transaction finishes (see [`crate::wake`]), and at least
    /// every poll interval.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<()> {
        self.run_observed(stop, &mut |_| {})
    }

    /// [`run`](Self::run), handing `observe` the report of every round
    /// that did something (read changes, changed, loaded or failed a
    /// view).
    pub fn run_observed(&mut self, stop: &AtomicBool, observe: &mut dyn FnMut(&StepReport)) -> Result<()> {
        log("info", "adapter started", &[]);
        let mut last = Instant::now() - self.config.poll_interval;
        let mut due = true;
        let mut watched: Vec<u64> = Vec::new();
        let mut watch_wait = wake::WATCH_FIRST;
        let mut watch_at = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            if !due && !watched.is_empty() && Instant::now() >= watch_at {
                due = wake::any_finished(&mut self.client, &mut watched)?;
                watch_wait = (watch_wait * 2).min(wake::WATCH_LONGEST);
                watch_at = Instant::now() + watch_wait;
            }
            let timer = self.next_due().is_some_and(|t| t <= Instant::now());
            if due || timer || last.elapsed() >= self.config.poll_interval {
                loop {
                    let began = Instant::now();
                    let report = self.round(false)?;
                    last = Instant::now();
                    if report.did_something() {
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
                        observe(&report);
                    }
                    let logs = self.logs();
                    match wake::prepare_to_wait(&mut self.client, &report.snapshot, &logs)? {
                        AfterRound::Again if !stop.load(Ordering::SeqCst) => continue,
                        AfterRound::Again => watched.clear(),
                        AfterRound::Wait(w) => watched = w,
                    }
                    watch_wait = wake::WATCH_FIRST;
                    watch_at = Instant::now() + watch_wait;
                    break;
                }
            }
            let mut wait = Duration::from_millis(200);
            if let Some(t) = self.next_due() {
                wait = wait.min(t.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)));
            }
            if !watched.is_empty() {
                wait = wait.min(watch_at.saturating_duration_since(Instant::now()));
            }
            due = self.notifications(wait)?;
        }
        wake::set_busy(&mut self.client)?;
        log("info", "adapter stopped", &[]);
        Ok(())
    }

    /// One refresh round (see the module documentation), reading the
    /// catalog.
    pub fn step(&mut self) -> Result<StepReport> {
        self.round(true)
    }

    /// The prepared first statement of a round for the loaded sources
    /// (see [`begin`]); `since`: compared with a previous snapshot.
    fn begin_statement(&mut self, since: bool) -> Result<Statement> {
        let sources: Vec<u32> = self.sources.keys().copied().collect();
        if let Some(b) = self.begin.as_ref().filter(|b| b.sources == sources && b.since == since) {
            return Ok(b.statement.clone());
        }
        let mut sql = format!("SELECT pg_current_snapshot()::text, statement_timestamp()::text, {}", wake::busy_expr());
        if since {
            let unread = "__freshet_xid >= pg_snapshot_xmin($1::text::pg_snapshot) \
                          AND NOT pg_visible_in_snapshot(__freshet_xid, $1::text::pg_snapshot)";
            for src in self.sources.values() {
                sql.push_str(&format!(", EXISTS (SELECT 1 FROM {} WHERE {unread})", src.log()));
            }
        }
        let statement = self.client.prepare(&sql)?;
        self.begin = Some(Begin { sources, since, statement: statement.clone() });
        Ok(statement)
    }

    /// A round's reads (see [`round`](Self::round)); in a transaction when
    /// `reading_catalog`.
    fn read_phase(
        &mut self,
        reading_catalog: bool,
        old: Option<&Snapshot>,
        statement: &Statement,
        times: &mut StageTimes,
    ) -> Result<ReadPhase> {
        let stage = Stage::start(times, "begin");
        let Begun { snapshot, time, unread } = begin(&mut self.client, statement, old, self.sources.keys())?;
        stage.end();
        if reading_catalog {
            let stage = Stage::start(times, "read_catalog");
            let views = read_catalog(&mut self.client)?;
            let (broken, captured) = broken_sources(&mut self.client)?;
            self.catalog = Some(Catalog { views, broken, captured, read_at: Instant::now() });
            self.catalog_stale = false;
            stage.end();
        }
        let catalog = self.catalog.as_ref().expect("read at the first round");

        // Views to unload: gone from the catalog (dropped, failed), or
        // recreated under the same name.
        let unload: Vec<String> = self
            .views
            .iter()
            .filter(|(name, v)| catalog.views.get(*name).is_none_or(|c| c.id != v.id))
            .map(|(n, _)| n.clone())
            .collect();
        let mut failing: Vec<(ViewRow, String)> = Vec::new();
        let mut wanted: BTreeMap<String, ViewRow> = BTreeMap::new();
        for (name, v) in &catalog.views {
            match v.sources.keys().find_map(|oid| catalog.broken.get(oid)) {
                Some(reason) => failing.push((v.clone(), reason.clone())),
                None => {
                    wanted.insert(name.clone(), v.clone());
                }
            }
        }
        let mut needed: BTreeSet<u32> = wanted.values().flat_map(|v| v.sources.keys().copied()).collect();
        let captured = catalog.captured.clone();

        // The batch of every loaded source with unread rows, and new
        // sources whole (a source is new only when the catalog was just
        // read, so in the transaction).
        let stage = Stage::start(times, "read_log");
        let mut logs = BTreeMap::new();
        // Sources holding a value the engine cannot represent: the views
        // reading them fail.
        let mut unreadable: BTreeMap<u32, String> = BTreeMap::new();
        if let Some(old) = old {
            for (oid, src) in &self.sources {
                if needed.contains(oid) && unread.contains(oid) {
                    match read_log(&mut self.client, src, old, &snapshot) {
                        Ok(rows) => {
                            logs.insert(*oid, rows);
                        }
                        Err(e @ PgError::UnsupportedValue { .. }) => {
                            unreadable.insert(*oid, e.to_string());
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        stage.end();
        let stage = Stage::start(times, "read_sources");
        let mut loads: Vec<(SourceTable, Vec<(Row, Diff)>)> = Vec::new();
        for oid in &needed {
            if !self.sources.contains_key(oid) {
                if !reading_catalog {
                    // Not at this snapshot: at the next round, with the
                    // catalog.
                    self.catalog_stale = true;
                    continue;
                }
                let mut src = by_oid(&mut self.client, *oid, &format!("source_{oid}"))?;
                // Columns added after capture are not in the log.
                src.def.columns.truncate(captured.get(oid).copied().unwrap_or(0));
                src.def.primary_key.retain(|&c| c < src.def.columns.len());
                match read_table(&mut self.client, &src) {
                    Ok(rows) => loads.push((src, rows)),
                    Err(e @ PgError::UnsupportedValue { .. }) => {
                        unreadable.insert(*oid, e.to_string());
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        stage.end();
        if !unreadable.is_empty() {
            let names: Vec<String> = wanted.keys().cloned().collect();
            for name in names {
                if let Some(reason) = wanted[&name].sources.keys().find_map(|oid| unreadable.get(oid)) {
                    let reason = reason.clone();
                    failing.push((wanted.remove(&name).expect("listed"), reason));
                }
            }
            needed = wanted.values().flat_map(|v| v.sources.keys().copied()).collect();
            logs.retain(|oid, _| needed.contains(oid));
            loads.retain(|(src, _)| needed.contains(&src.oid));
        }
        Ok(ReadPhase { snapshot, time, wanted, failing, unload, needed, captured, logs, loads })
    }

    /// A refresh round; `full` reads the catalog whatever its age.
    fn round(&mut self, full: bool) -> Result<StepReport> {
        let started = Instant::now();
        let mut report = StepReport::default();
        let mut times = StageTimes::new();
        self.notifications(Duration::ZERO)?;
        let reading_catalog =
            full || self.catalog_stale || self.catalog.as_ref().is_none_or(|c| c.read_at.elapsed() >= CATALOG_REFRESH);
        report.read_catalog = reading_catalog;

        // Rounds that read the catalog (or load sources) read everything at
        // one snapshot, in a REPEATABLE READ transaction. Other rounds need
        // no transaction: the first statement's snapshot bounds the batch,
        // and each log read filters by it explicitly (a later snapshot sees
        // everything it does).
        let old = self.snapshot.clone();
        let statement = self.begin_statement(old.is_some())?;
        if reading_catalog {
            self.client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")?;
        }
        let read = self.read_phase(reading_catalog, old.as_ref(), &statement, &mut times);
        if reading_catalog {
            match &read {
                Ok(_) => self.client.batch_execute("COMMIT")?,
                Err(_) => {
                    let _ = self.client.batch_execute("ROLLBACK");
                }
            }
        }
        let ReadPhase { snapshot: snap, time: snap_time, wanted, failing, unload, needed, captured, logs, loads } =
            read?;
        report.changes_read = logs.values().map(Vec::len).sum();
        let read_per_source: BTreeMap<u32, u64> = logs.iter().map(|(o, r)| (*o, r.len() as u64)).collect();
        self.unpruned |= report.changes_read > 0;

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
        let stage = Stage::start(&mut times, "net_changes");
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
        stage.end();
        let stage = Stage::start(&mut times, "engine");
        if !changes.is_empty() {
            self.runtime.apply(changes)?;
        }
        stage.end();
        let stage = Stage::start(&mut times, "collect");
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
        stage.end();

        // Views not loaded yet: compute at this snapshot, reconcile with
        // their tables.
        let stage = Stage::start(&mut times, "load_views");
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
        stage.end();

        // Write back the views that are due; move the frontier of those
        // with nothing pending (when the catalog was read: `sync` asks
        // for that by waking the adapter).
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut unchanged: Vec<String> = Vec::new();
        let mut unchanged_served: Vec<i64> = Vec::new();
        let mut notified = false;
        let names: Vec<String> = self.views.keys().cloned().collect();
        for name in names {
            let v = &self.views[&name];
            if v.paused || (!v.pending.is_empty() && !v.due()) {
                if !v.pending.is_empty() {
                    report.held.push(name);
                }
                continue;
            }
            let stage = Stage::start(&mut times, "check_errors");
            let clean = self.check_clean(&name)?;
            stage.end();
            if let Err(reason) = clean {
                let id = self.views[&name].id;
                self.unload(&name)?;
                self.mark_failed(&name, id, &reason)?;
                report.failed.push((name, reason));
                notified = true;
                continue;
            }
            let v = &self.views[&name];
            if v.pending.is_empty() {
                if reading_catalog {
                    unchanged.push(name.clone());
                    unchanged_served.push(v.sync_requests);
                }
                continue;
            }
            match self.write_back(&name, &snap, &snap_time, elapsed_ms, &mut times) {
                Ok(Some(n)) => {
                    report.views_changed += 1;
                    report.rows_changed += n;
                    notified = true;
                }
                // Dropped, paused or failed meanwhile: the next round's
                // catalog says which; the pending diffs stay valid.
                Ok(None) => {
                    report.held.push(name);
                    self.catalog_stale = true;
                }
                Err(e) => {
                    let reason = e.to_string();
                    let id = self.views[&name].id;
                    self.unload(&name)?;
                    self.mark_failed(&name, id, &reason)?;
                    report.failed.push((name, reason));
                    notified = true;
                }
            }
        }
        let stage = Stage::start(&mut times, "finish");
        if !unchanged.is_empty() {
            self.client.execute(
                "WITH u AS (UPDATE freshet.views v SET frontier = $1::text::pg_snapshot, \
                 frontier_at = $2::text::timestamptz, refreshed_at = now(), \
                 sync_served = greatest(v.sync_served, u.served) \
                 FROM unnest($3::text[], $4::bigint[]) AS u(name, served) WHERE v.name = u.name AND v.state = 'ok' \
                 RETURNING 1) SELECT count(*), pg_notify($5, '') FROM u",
                &[&snap, &snap_time, &unchanged, &unchanged_served, &PROGRESS_CHANNEL],
            )?;
            notified = true;
            for (name, served) in unchanged.iter().zip(&unchanged_served) {
                if let Some(v) = self.views.get_mut(name) {
                    v.sync_served = v.sync_served.max(*served);
                }
            }
        }
        self.record_held(&snap_time)?;
        if !notified && (reading_catalog || !report.views_loaded.is_empty()) {
            self.client.batch_execute(&format!("NOTIFY {PROGRESS_CHANNEL}"))?;
        }
        self.snapshot = Some(snap.clone());
        self.prune(&snap, captured.keys().copied())?;
        stage.end();
        for (name, reason) in &report.failed {
            log("error", "view failed", &[("view", name), ("reason", reason)]);
        }
        report.snapshot = snap;
        report.stages = times;
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
                writes: HashMap::new(),
            },
        );
        Ok(())
    }

    fn unload(&mut self, name: &str) -> Result<()> {
        if let Some(v) = self.views.remove(name) {
            self.runtime.drop_view(runtime_id(v.id))?;
        }
        Ok(())
    }

    /// Writes a view's pending diffs and its new frontier in one
    /// transaction, and clears them. `Ok(None)` (nothing written) if the
    /// view is no longer in state `ok` in the catalog.
    fn write_back(
        &mut self,
        name: &str,
        snap: &Snapshot,
        snap_time: &str,
        elapsed_ms: f64,
        times: &mut StageTimes,
    ) -> Result<Option<u64>> {
        let v = self.views.get_mut(name).expect("loaded");
        let meta = WriteMeta {
            name,
            id: v.id,
            snapshot: snap,
            snapshot_time: snap_time,
            delta_rows: v.pending.iter().map(|(_, d)| *d).sum(),
            ms: elapsed_ms,
            sync_requests: v.sync_requests,
            changes_read: v.pending_changes as i64,
        };
        let written = match &v.layout.key {
            Some(_) => {
                let stage = Stage::start(times, "write_prepare");
                let changes = v.layout.keyed_changes(&v.pending)?;
                let signature = changes.signature();
                let statement = match v.writes.get(&signature) {
                    Some(s) => s.clone(),
                    None => {
                        let s = self.client.prepare(&v.layout.keyed_write_sql(&signature))?;
                        if v.writes.len() >= 64 {
                            v.writes.clear();
                        }
                        v.writes.insert(signature, s.clone());
                        s
                    }
                };
                stage.end();
                let stage = Stage::start(times, "write");
                let n = v.layout.write_keyed(&mut self.client, &statement, &changes, &meta)?;
                stage.end();
                n
            }
            None => {
                let stage = Stage::start(times, "write");
                let n = v.layout.write_bag(&mut self.client, &v.pending, &meta)?;
                stage.end();
                n
            }
        };
        if written.is_none() {
            return Ok(None);
        }
        v.pending.clear();
        v.pending_changes = 0;
        v.last_write = Some(Instant::now());
        v.sync_served = v.sync_served.max(v.sync_requests);
        v.held_recorded = Some(false);
        Ok(written)
    }

    /// Records in the catalog (`pending_since`) which views hold changes
    /// not written to their tables, where it changed.
    fn record_held(&mut self, snap_time: &str) -> Result<()> {
        let mut set: Vec<String> = Vec::new();
        let mut clear: Vec<String> = Vec::new();
        for (name, v) in &self.views {
            let held = !v.pending.is_empty();
            if v.held_recorded != Some(held) {
                if held {
                    set.push(name.clone())
                } else {
                    clear.push(name.clone())
                }
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

    /// Marks a view failed (and forgets it in the cached catalog), with a
    /// history row, and notifies `freshet_progress`.
    fn mark_failed(&mut self, name: &str, id: i64, reason: &str) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute(
            "UPDATE freshet.views SET state = 'failed', error = $3 WHERE name = $1 AND id = $2",
            &[&name, &id, &reason],
        )?;
        tx.execute(
            "INSERT INTO freshet.history (view_name, started_at, duration_ms, changes_read, rows_changed, error) \
             VALUES ($1, now(), 0, 0, 0, $2)",
            &[&name, &reason],
        )?;
        tx.batch_execute(&format!("NOTIFY {PROGRESS_CHANNEL}"))?;
        tx.commit()?;
        if let Some(c) = self.catalog.as_mut() {
            c.views.remove(name);
        }
        Ok(())
    }

    /// Deletes the log rows of transactions the adapter's snapshot sees
    /// (every loaded view has them applied or pending, and a view loaded
    /// later is computed from its sources' tables), at most once a second
    /// and only after rows were read; and history past its retention, at
    /// most once a minute.
    fn prune(&mut self, snap: &Snapshot, captured: impl Iterator<Item = u32>) -> Result<()> {
        if self.unpruned && self.last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            for oid in captured {
                // Rounds scan the (unindexed) log: once enough rows were
                // deleted, vacuum it now rather than at autovacuum's next
                // visit.
                let deleted = self.pruned.entry(oid).or_default();
                *deleted += prune_log(&mut self.client, oid, snap)?;
                if *deleted >= VACUUM_AFTER {
                    *deleted = 0;
                    self.client.batch_execute(&format!("VACUUM {}", qualified("freshet", &log_table(oid))))?;
                }
            }
            self.last_prune = Some(Instant::now());
            self.unpruned = false;
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
