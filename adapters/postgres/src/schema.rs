//! The `freshet` schema: catalog of views and captured sources, refresh
//! history. [`init`] installs it and upgrades older versions in place.

use postgres::Client;

use crate::error::{PgError, Result};

/// The schema version this build installs.
pub const SCHEMA_VERSION: i32 = 1;

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
    if current < SCHEMA_VERSION {
        tx.execute("DELETE FROM freshet.schema_version", &[])?;
        tx.execute("INSERT INTO freshet.schema_version VALUES ($1)", &[&SCHEMA_VERSION])?;
    }
    tx.commit()?;
    Ok(SCHEMA_VERSION)
}

/// Fails with [`PgError::NotInitialized`] unless the current schema is
/// installed.
pub fn check_installed(client: &mut Client) -> Result<()> {
    let exists: bool =
        client.query_one("SELECT to_regclass('freshet.schema_version') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Err(PgError::NotInitialized);
    }
    let v: Option<i32> = client.query_one("SELECT max(version) FROM freshet.schema_version", &[])?.get(0);
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
