//! `sync` (read-your-writes) and `status`.

use std::time::{Duration, Instant};

use fallible_iterator::FallibleIterator;
use postgres::Client;

use crate::batch::{covers, current_snapshot, Snapshot};
use crate::error::{PgError, Result};
use crate::schema::{check_installed, PROGRESS_CHANNEL, WAKEUP_CHANNEL};

/// Waits until the views `names` (every view if empty) reflect every
/// transaction committed before the call, waking the adapter for a round.
/// Fails if a view has failed, does not exist, or `timeout` passes.
pub fn sync(client: &mut Client, names: &[String], timeout: Duration) -> Result<()> {
    check_installed(client)?;
    let deadline = Instant::now() + timeout;
    let target: Snapshot = current_snapshot(client)?;
    client.batch_execute(&format!("LISTEN {PROGRESS_CHANNEL}; NOTIFY {WAKEUP_CHANNEL}"))?;
    for n in names {
        if client.query_opt("SELECT 1 FROM freshet.views WHERE name = $1", &[n])?.is_none() {
            return Err(PgError::Usage(format!("view \"{n}\" does not exist")));
        }
    }
    loop {
        let rows = client.query(
            "SELECT name, state, error, frontier::text FROM freshet.views \
             WHERE cardinality($1::text[]) = 0 OR name = ANY($1) ORDER BY name",
            &[&names],
        )?;
        let mut behind = Vec::new();
        for r in &rows {
            let name: String = r.get(0);
            let state: String = r.get(1);
            if state == "failed" {
                let reason: Option<String> = r.get(2);
                return Err(PgError::ViewFailed { view: name, reason: reason.unwrap_or_default() });
            }
            let frontier: String = r.get(3);
            if !covers(client, &frontier, &target)? {
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

/// One view's status.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewStatus {
    /// The view's name.
    pub name: String,
    /// Its table, `schema.table` quoted.
    pub table: String,
    /// `ok` or `failed`.
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The snapshot its table reflects.
    pub frontier: String,
    /// Whether it reflects every transaction committed so far.
    pub current: bool,
    /// Seconds since its last refresh, when it is not current.
    pub lag_seconds: Option<f64>,
    /// Its rows (with multiplicity).
    pub rows: i64,
    /// When it was last refreshed (text, UTC).
    pub refreshed_at: Option<String>,
    /// How long the last refresh took.
    pub refresh_ms: Option<f64>,
}

/// The status of every view, by name.
pub fn status(client: &mut Client) -> Result<Vec<ViewStatus>> {
    check_installed(client)?;
    let now: Snapshot = current_snapshot(client)?;
    let rows = client.query(
        "SELECT name, format('%I.%I', schema_name, table_name), state, error, frontier::text, row_count, \
         to_char(refreshed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), refresh_ms, \
         extract(epoch FROM now() - refreshed_at)::float8 FROM freshet.views ORDER BY name",
        &[],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let frontier: String = r.get(4);
        let current = covers(client, &frontier, &now)?;
        let age: Option<f64> = r.get(8);
        out.push(ViewStatus {
            name: r.get(0),
            table: r.get(1),
            state: r.get(2),
            error: r.get(3),
            frontier,
            current,
            lag_seconds: if current { None } else { age },
            rows: r.get(5),
            refreshed_at: r.get(6),
            refresh_ms: r.get(7),
        });
    }
    Ok(out)
}
