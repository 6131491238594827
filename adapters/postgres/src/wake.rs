//! Waking the adapter for new changes, with as few notifications as
//! possible.
//!
//! A `NOTIFY` costs the writing transaction a few microseconds at commit
//! (more with listeners to signal), as much as the rest of the capture of
//! a one-row statement. So the capture triggers notify only while the
//! adapter *waits* for one. The unlogged sequence `freshet.adapter_busy`
//! says which: it reads as called (`pg_sequence_last_value` not NULL)
//! while the adapter is busy or stopped, and as not called while it waits
//! (also after a server crash, which resets unlogged sequences: the safe
//! side). Setting it (`setval`) is immediate for every session, not
//! transactional, and writes no WAL.
//!
//! * Each round sets it busy in its first statement.
//! * After a round at snapshot `S`, the adapter sets it waiting, then
//!   looks at a new snapshot `S2`. A writer that saw "busy" read it before
//!   that, after writing its log rows, so its transaction had an id before
//!   `S2` was taken: either it committed before `S2` (its rows are visible
//!   in `S2`; if they are not in `S` another round runs at once), or it is
//!   in progress in `S2`. The transactions in progress in `S2` are
//!   *watched*: polled with a growing interval (1 ms doubling up to
//!   50 ms), a round running as soon as one of them has finished. Writers
//!   that see "waiting" notify at commit, which wakes the adapter at once.
//! * Stopping cleanly sets it busy: with no adapter waiting, writes send
//!   no notification at all.
//!
//! Nothing is lost whatever the interleaving: the worst case is a change
//! seen one poll interval late, never a change missed.

use std::time::Duration;

use postgres::{Client, SimpleQueryMessage};

use crate::batch::Snapshot;
use crate::error::{PgError, Result};
use crate::ident::quote_literal;
use crate::schema::BUSY_SEQUENCE;

/// The expression marking the adapter busy (in a round's first query).
pub(crate) fn busy_expr() -> String {
    format!("pg_catalog.setval('freshet.{BUSY_SEQUENCE}', 1, true)")
}

/// The first poll interval of watched transactions.
pub(crate) const WATCH_FIRST: Duration = Duration::from_millis(1);
/// The longest poll interval of watched transactions.
pub(crate) const WATCH_LONGEST: Duration = Duration::from_millis(50);

/// A snapshot's bounds and in-progress transactions (`xmin:xmax:xip,…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SnapshotXids {
    xmax: u64,
    xip: Vec<u64>,
}

impl SnapshotXids {
    /// Parses `pg_snapshot` text.
    pub(crate) fn parse(text: &str) -> Result<SnapshotXids> {
        let bad = || PgError::Protocol(format!("not a pg_snapshot: {text:?}"));
        let mut parts = text.split(':');
        let (_xmin, xmax, xip) =
            (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
        let xmax = xmax.parse().map_err(|_| bad())?;
        let xip = if xip.is_empty() {
            Vec::new()
        } else {
            xip.split(',').map(|x| x.parse().map_err(|_| bad())).collect::<Result<Vec<u64>>>()?
        };
        Ok(SnapshotXids { xmax, xip })
    }

    /// True if transaction `x` had finished (committed or aborted) when the
    /// snapshot was taken.
    pub(crate) fn finished(&self, x: u64) -> bool {
        x < self.xmax && !self.xip.contains(&x)
    }

    /// The transactions in progress.
    pub(crate) fn in_progress(&self) -> &[u64] {
        &self.xip
    }
}

/// What the adapter does after a round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AfterRound {
    /// Changes committed meanwhile may not have notified: run another
    /// round now.
    Again,
    /// Wait for a notification, polling these transactions (in progress,
    /// and possibly writers that did not notify) until they finish.
    Wait(Vec<u64>),
}

/// The condition "a row of `log` not visible in `snapshot`" (read in a
/// newer snapshot).
pub(crate) fn unread_condition(snapshot: &str) -> String {
    let s = quote_literal(snapshot);
    format!(
        "__freshet_xid >= pg_snapshot_xmin({s}::pg_snapshot) AND NOT pg_visible_in_snapshot(__freshet_xid, {s}::pg_snapshot)"
    )
}

/// Marks the adapter waiting, then checks whether a change committed
/// since `snapshot` (the last round's) in one of `logs` (quoted log
/// tables) may not have notified. One round trip.
pub(crate) fn prepare_to_wait(client: &mut Client, snapshot: &Snapshot, logs: &[String]) -> Result<AfterRound> {
    let unread = unread_condition(snapshot);
    let any: Vec<String> = logs.iter().map(|l| format!("EXISTS (SELECT 1 FROM {l} WHERE {unread})")).collect();
    let any = if any.is_empty() { "false".to_string() } else { any.join(" OR ") };
    let messages = client.simple_query(&format!(
        "SELECT pg_catalog.setval('freshet.{BUSY_SEQUENCE}', 1, false); SELECT pg_current_snapshot()::text, {any}"
    ))?;
    let rows: Vec<_> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .collect();
    let row = rows.get(1).ok_or_else(|| PgError::Protocol("no answer to the wait check".into()))?;
    let now = SnapshotXids::parse(row.get(0).unwrap_or_default())?;
    if row.get(1) == Some("t") {
        return Ok(AfterRound::Again);
    }
    Ok(AfterRound::Wait(now.in_progress().to_vec()))
}

/// Drops the watched transactions that have finished; true if any had.
pub(crate) fn any_finished(client: &mut Client, watched: &mut Vec<u64>) -> Result<bool> {
    let text: String = client.query_one("SELECT pg_current_snapshot()::text", &[])?.get(0);
    let now = SnapshotXids::parse(&text)?;
    let before = watched.len();
    watched.retain(|&x| !now.finished(x));
    Ok(watched.len() < before)
}

/// Marks the adapter busy (on a clean stop: no adapter waits).
pub(crate) fn set_busy(client: &mut Client) -> Result<()> {
    client.batch_execute(&format!("SELECT {}", busy_expr()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_tell_finished_transactions() {
        let s = SnapshotXids::parse("100:105:100,102").unwrap();
        assert_eq!(s.in_progress(), &[100, 102]);
        assert!(s.finished(99) && s.finished(101) && s.finished(104));
        assert!(!s.finished(100) && !s.finished(102) && !s.finished(105) && !s.finished(200));
        assert!(SnapshotXids::parse("7:7:").unwrap().in_progress().is_empty());
        assert!(SnapshotXids::parse("7:x:").is_err());
        assert!(SnapshotXids::parse("7").is_err());
    }

    #[test]
    fn unread_rows_are_those_the_snapshot_does_not_see() {
        let c = unread_condition("10:12:10");
        assert_eq!(
            c,
            "__freshet_xid >= pg_snapshot_xmin('10:12:10'::pg_snapshot) \
             AND NOT pg_visible_in_snapshot(__freshet_xid, '10:12:10'::pg_snapshot)"
        );
    }
}
