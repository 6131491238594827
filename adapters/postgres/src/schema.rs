//! The `freshet` schema: catalog of views and captured sources, refresh
//! history. [`init`] installs it and upgrades older versions in place.

use postgres::Client;

use crate::error::{PgError, Result};

/// The schema version this build installs.
pub const SCHEMA_VERSION: i32 = 4;

/// Advisory lock key serialising catalog changes (init, create-view,
/// drop-view) across processes.
pub const CATALOG_LOCK: i64 = 0x6672_6573_6865_7401;

/// Advisory lock key held by the running adapter process.
pub const ADAPTER_LOCK: i64 = 0x6672_6573_6865_7402;

/// The channel capture triggers notify on commit of a change.
pub const CHANGES_CHANNEL: &str = "freshet_changes";
/// The channel that asks the adapter for a refresh round (sync, DDL).
pub const WAKEUP_CHANNEL: &str = "freshet_wakeup";
/// The channel the adapter notifies after each refresh round.
pub const PROGRESS_CHANNEL: &str = "freshet_progress";

/// Whether the adapter is busy (not waiting for a notification): see
/// [`crate::wake`].
pub const BUSY_SEQUENCE: &str = "adapter_busy";

/// Version 1: the catalog, captured sources and history.
const V1: &str = r#"
CREATE TABLE freshet.sources (
    source_oid oid PRIMARY KEY,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    columns text[] NOT NULL,
    column_types text[] NOT NULL,
    captured_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE freshet.sources IS 'Source tables under change capture: one change-log table freshet."log_<oid>" each';

CREATE TABLE freshet.views (
    id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    name text PRIMARY KEY,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    sql text NOT NULL,
    columns text[] NOT NULL,
    column_types text[] NOT NULL,
    column_nullable boolean[] NOT NULL,
    key_columns int[],
    state text NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'failed')),
    error text,
    frontier pg_snapshot NOT NULL,
    row_count bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    refreshed_at timestamptz,
    refresh_ms double precision
);
COMMENT ON TABLE freshet.views IS 'Maintained views: key_columns is NULL for a bag view, whose table carries __freshet_count';
COMMENT ON COLUMN freshet.views.frontier IS 'The database snapshot the view table reflects';

CREATE TABLE freshet.view_sources (
    view_name text NOT NULL REFERENCES freshet.views (name) ON DELETE CASCADE,
    source_oid oid NOT NULL REFERENCES freshet.sources (source_oid),
    query_name text NOT NULL,
    PRIMARY KEY (view_name, source_oid)
);
CREATE INDEX ON freshet.view_sources (source_oid);

CREATE TABLE freshet.history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    view_name text NOT NULL,
    started_at timestamptz NOT NULL,
    duration_ms double precision NOT NULL,
    changes_read bigint NOT NULL,
    rows_changed bigint NOT NULL,
    error text
);
CREATE INDEX ON freshet.history (started_at);
CREATE INDEX ON freshet.history (view_name, started_at);
COMMENT ON TABLE freshet.history IS 'One row per refresh of a view that changed it or failed';
"#;

/// Version 2: refresh policies, `paused` views, refresh requests from
/// `sync`, the time of each view's frontier, and `freshet.view_status`.
const V2: &str = r#"
ALTER TABLE freshet.views DROP CONSTRAINT IF EXISTS views_state_check;
ALTER TABLE freshet.views ADD CONSTRAINT views_state_check CHECK (state IN ('ok', 'failed', 'paused'));
ALTER TABLE freshet.views
    ADD COLUMN refresh text NOT NULL DEFAULT 'continuous'
        CHECK (refresh IN ('continuous', 'every', 'on-demand')),
    ADD COLUMN refresh_interval interval
        CHECK ((refresh = 'every') = (refresh_interval IS NOT NULL) AND refresh_interval > interval '0'),
    ADD COLUMN frontier_at timestamptz,
    ADD COLUMN sync_requests bigint NOT NULL DEFAULT 0,
    ADD COLUMN sync_served bigint NOT NULL DEFAULT 0,
    ADD COLUMN pending_since timestamptz;
UPDATE freshet.views SET frontier_at = coalesce(refreshed_at, created_at);
COMMENT ON COLUMN freshet.views.state IS 'ok, failed (error says why; `freshet resume` rebuilds it) or paused (changes are captured and held, the table is not written)';
COMMENT ON COLUMN freshet.views.refresh IS 'continuous: written every round; every: at most once per refresh_interval; on-demand: when `freshet sync` asks';
COMMENT ON COLUMN freshet.views.frontier_at IS 'When the snapshot in frontier was taken';
COMMENT ON COLUMN freshet.views.pending_since IS 'Set while the adapter holds changes of the view not yet written to its table (paused, or not due under its refresh policy): when it started holding them';
COMMENT ON COLUMN freshet.views.sync_requests IS 'Incremented by `freshet sync`; the adapter writes the view while sync_served is smaller';

CREATE FUNCTION freshet.has_unread_changes(p_view text, p_frontier pg_snapshot) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    src oid;
    found boolean;
BEGIN
    FOR src IN SELECT source_oid FROM freshet.view_sources WHERE view_name = p_view LOOP
        CONTINUE WHEN to_regclass(format('freshet.%I', 'log_' || src)) IS NULL;
        EXECUTE format(
            'SELECT EXISTS (SELECT 1 FROM freshet.%I WHERE __freshet_xid >= pg_snapshot_xmin($1) '
            'AND NOT pg_visible_in_snapshot(__freshet_xid, $1) '
            'AND pg_visible_in_snapshot(__freshet_xid, pg_current_snapshot()))', 'log_' || src)
            INTO found USING p_frontier;
        IF found THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$fn$;
COMMENT ON FUNCTION freshet.has_unread_changes(text, pg_snapshot) IS 'True if a committed change of a source of the view is not visible in the snapshot and not yet read by the adapter';

CREATE VIEW freshet.view_status AS
SELECT v.name,
       format('%I.%I', v.schema_name, v.table_name) AS view_table,
       v.state,
       v.error,
       CASE v.refresh WHEN 'every' THEN 'every ' || v.refresh_interval::text ELSE v.refresh END AS refresh,
       v.frontier,
       v.frontier_at,
       c.current,
       CASE WHEN c.current THEN 0 ELSE extract(epoch FROM statement_timestamp() - v.frontier_at)::float8 END AS lag_seconds,
       CASE WHEN c.current THEN 0
            ELSE greatest(0, pg_snapshot_xmax(pg_current_snapshot())::text::numeric
                             - pg_snapshot_xmax(v.frontier)::text::numeric)::bigint END AS lag_xids,
       v.row_count AS rows,
       v.refreshed_at,
       v.refresh_ms,
       v.pending_since,
       v.created_at
FROM freshet.views v
CROSS JOIN LATERAL (
    SELECT v.state <> 'failed' AND v.pending_since IS NULL
           AND NOT freshet.has_unread_changes(v.name, v.frontier) AS current
) c;
COMMENT ON VIEW freshet.view_status IS 'One row per view: state, refresh policy, frontier, lag behind the database, rows, last refresh';
"#;

/// Version 3: capture triggers without per-row sequence values, log index
/// or fixed `search_path`, one function per statement kind, that notify
/// only while an adapter waits (see [`crate::wake`]). Existing captures
/// are reinstalled by [`init`].
const V3: &str = r#"
CREATE UNLOGGED SEQUENCE freshet.adapter_busy;
COMMENT ON SEQUENCE freshet.adapter_busy IS 'Called (last_value not NULL) while the adapter is busy or stopped: capture triggers notify only while it waits. Unlogged: after a crash it reads as waiting';
"#;

// Version 4: capture functions that log the first rows of a statement
// with a `LIMIT`ed insert and take the statement's size from its row
// count, where version 3 ran a separate query first. The log tables do not
// change: [`init`] replaces the functions of existing captures
// ([`crate::source::replace_capture_functions`]).

/// Installs or upgrades the `freshet` schema. Idempotent: running it on an
/// up-to-date database changes nothing. Returns the version now installed.
pub fn init(client: &mut Client) -> Result<i32> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CATALOG_LOCK])?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS freshet;
         CREATE TABLE IF NOT EXISTS freshet.schema_version (version integer NOT NULL);
         REVOKE ALL ON SCHEMA freshet FROM PUBLIC",
    )?;
    let current: Option<i32> = tx.query_opt("SELECT max(version) FROM freshet.schema_version", &[])?.and_then(|r| r.get(0));
    let current = current.unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(PgError::Usage(format!(
            "the database's freshet schema is version {current}, newer than this program's ({SCHEMA_VERSION})"
        )));
    }
    if current < 1 {
        tx.batch_execute(V1)?;
    }
    if current < 2 {
        tx.batch_execute(V2)?;
    }
    if current < 3 {
        tx.batch_execute(V3)?;
        // Installs the current capture functions too.
        crate::source::reinstall_captures(&mut tx)?;
    } else if current < 4 {
        crate::source::replace_capture_functions(&mut tx)?;
    }
    if current < SCHEMA_VERSION {
        tx.execute("DELETE FROM freshet.schema_version", &[])?;
        tx.execute("INSERT INTO freshet.schema_version VALUES ($1)", &[&SCHEMA_VERSION])?;
    }
    tx.commit()?;
    Ok(SCHEMA_VERSION)
}

/// Fails with [`PgError::NotInitialized`] unless the current schema is
/// installed. One round trip.
pub fn check_installed(client: &mut Client) -> Result<()> {
    let v: Option<i32> = match client.query_one("SELECT max(version) FROM freshet.schema_version", &[]) {
        Ok(row) => row.get(0),
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => return Err(PgError::NotInitialized),
        Err(e) => return Err(e.into()),
    };
    match v {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(v) if v < SCHEMA_VERSION => Err(PgError::Usage(format!(
            "the database's freshet schema is version {v}; run `freshet init` to upgrade it to {SCHEMA_VERSION}"
        ))),
        Some(v) => Err(PgError::Usage(format!(
            "the database's freshet schema is version {v}, newer than this program's ({SCHEMA_VERSION})"
        ))),
        None => Err(PgError::NotInitialized),
    }
}

/// Connects and applies the session settings the adapter relies on.
pub fn connect(url: &str) -> Result<Client> {
    let mut client = Client::connect(url, postgres::NoTls)?;
    client.batch_execute(crate::types::SESSION_SETTINGS)?;
    Ok(client)
}
