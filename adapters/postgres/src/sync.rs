//! `sync` (read-your-writes) and `status`.

use std::time::{Duration, Instant};

use fallible_iterator::FallibleIterator;
use postgres::Client;

use crate::batch::Snapshot;
use crate::error::{PgError, Result};
use crate::schema::{check_installed, PROGRESS_CHANNEL, WAKEUP_CHANNEL};

/// Waits until the views `names` (every view that is not paused if
/// empty) reflect every transaction committed before the call. Views with
/// a deferred refresh policy (`every …`, `on-demand`) are asked to be
/// written, and the adapter is woken for a round. Fails if a view has
/// failed, is paused (when named), does not exist, or `timeout` passes.
pub fn sync(client: &mut Client, names: &[String], timeout: Duration) -> Result<()> {
    check_installed(client)?;
    let deadline = Instant::now() + timeout;
    if !names.is_empty() {
        let rows = client.query("SELECT name, state FROM freshet.views WHERE name = ANY($1)", &[&names])?;
        for n in names {
            match rows.iter().find(|r| r.get::<_, &str>(0) == n) {
                None => return Err(PgError::Usage(format!("view \"{n}\" does not exist"))),
                Some(r) if r.get::<_, &str>(1) == "paused" => {
                    return Err(PgError::Usage(format!("view \"{n}\" is paused (run `freshet resume {n}` first)")))
                }
                Some(_) => {}
            }
        }
    }
    // The target: this statement's snapshot, which sees every
    // transaction committed before the call.
    let target: Snapshot = client
        .query_one(
            "WITH r AS (UPDATE freshet.views SET sync_requests = sync_requests + 1 \
             WHERE (cardinality($1::text[]) = 0 OR name = ANY($1)) AND state = 'ok' AND refresh <> 'continuous' \
             RETURNING 1) SELECT pg_current_snapshot()::text, (SELECT count(*) FROM r)",
            &[&names],
        )?
        .get(0);
    client.batch_execute(&format!("LISTEN {PROGRESS_CHANNEL}; NOTIFY {WAKEUP_CHANNEL}"))?;
    // A view is done when its frontier sees every transaction the target
    // sees.
    let check = client.prepare(
        "SELECT name, state, error, \
         pg_snapshot_xmax($2::text::pg_snapshot) <= pg_snapshot_xmax(frontier) \
         AND NOT EXISTS (SELECT 1 FROM pg_snapshot_xip(frontier) x WHERE pg_visible_in_snapshot(x, $2::text::pg_snapshot)) \
         FROM freshet.views \
         WHERE (cardinality($1::text[]) = 0 AND state <> 'paused') OR name = ANY($1) ORDER BY name",
    )?;
    loop {
        let rows = client.query(&check, &[&names, &target])?;
        let mut behind = Vec::new();
        for r in &rows {
            let name: String = r.get(0);
            let state: String = r.get(1);
            if state == "failed" {
                let reason: Option<String> = r.get(2);
                return Err(PgError::ViewFailed { view: name, reason: reason.unwrap_or_default() });
            }
            if state == "paused" {
                return Err(PgError::Usage(format!("view \"{name}\" was paused while `sync` waited for it")));
            }
            if !r.get::<_, bool>(3) {
                behind.push(name);
            }
        }
        if behind.is_empty() {
            let _ = client.batch_execute(&format!("UNLISTEN {PROGRESS_CHANNEL}"));
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(PgError::Timeout(format!(
                "timed out after {:.1} s waiting for {} (is `freshet run` running?)",
                timeout.as_secs_f64(),
                behind.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
            )));
        }
        let wait = (deadline - now).min(Duration::from_millis(250));
        let _ = client.notifications().timeout_iter(wait).next()?;
        let _ = client.notifications().iter().count()?;
    }
}

/// One view's status: a row of `freshet.view_status`.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewStatus {
    /// The view's name.
    pub name: String,
    /// Its table, `schema.table` quoted.
    pub table: String,
    /// `ok`, `failed` or `paused`.
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Its refresh policy (`continuous`, `every 00:05:00`, `on-demand`).
    pub refresh: String,
    /// The snapshot its table reflects.
    pub frontier: String,
    /// Whether its table reflects every committed change of its sources:
    /// not failed, no changes held by the adapter, none unread in the
    /// change logs.
    pub current: bool,
    /// 0 when current, else seconds since its frontier's snapshot was
    /// taken: the changes it misses committed after that.
    pub lag_seconds: f64,
    /// 0 when current, else transaction ids assigned since its frontier.
    pub lag_xids: i64,
    /// Its rows (with multiplicity).
    pub rows: i64,
    /// When it was last refreshed (text, UTC).
    pub refreshed_at: Option<String>,
    /// How long the last refresh took.
    pub refresh_ms: Option<f64>,
}

/// The status of every view, by name (from `freshet.view_status`).
pub fn status(client: &mut Client) -> Result<Vec<ViewStatus>> {
    check_installed(client)?;
    let rows = client.query(
        "SELECT name, view_table, state, error, refresh, frontier::text, current, lag_seconds, lag_xids, rows, \
         to_char(refreshed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), refresh_ms \
         FROM freshet.view_status ORDER BY name",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| ViewStatus {
            name: r.get(0),
            table: r.get(1),
            state: r.get(2),
            error: r.get(3),
            refresh: r.get(4),
            frontier: r.get(5),
            current: r.get(6),
            lag_seconds: r.get(7),
            lag_xids: r.get(8),
            rows: r.get(9),
            refreshed_at: r.get(10),
            refresh_ms: r.get(11),
        })
        .collect())
}
