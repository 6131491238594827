//! The adapter's view of the `freshet` catalog: the views to maintain and
//! the health of captured sources, read in each round's snapshot.

use std::collections::{BTreeMap, HashMap};

use freshet_engine::catalog::Column;
use postgres::GenericClient;

use crate::error::{PgError, Result};
use crate::ident::quote_ident;
use crate::policy::RefreshPolicy;
use crate::types::from_format_type;
use crate::view::ViewLayout;

/// A view as the catalog describes it.
#[derive(Clone, Debug)]
pub(crate) struct ViewRow {
    pub id: i64,
    pub name: String,
    pub layout: ViewLayout,
    pub sql: String,
    /// Source oid → the name the query uses for it.
    pub sources: BTreeMap<u32, String>,
    /// State `paused` (else `ok`).
    pub paused: bool,
    pub policy: RefreshPolicy,
    /// `sync_requests`: the view is to be written while it exceeds
    /// `sync_served`.
    pub sync_requests: i64,
    pub sync_served: i64,
    /// Seconds since the table was last written, if ever.
    pub since_refresh: Option<f64>,
}

/// The views in state `ok` or `paused`, by name.
pub(crate) fn read_catalog(tx: &mut impl GenericClient) -> Result<BTreeMap<String, ViewRow>> {
    let rows = tx.query(
        "SELECT v.id, v.name, v.schema_name, v.table_name, v.sql, v.columns, v.column_types, v.column_nullable, \
         v.key_columns, coalesce(array_agg(s.source_oid) FILTER (WHERE s.source_oid IS NOT NULL), '{}'), \
         coalesce(array_agg(s.query_name) FILTER (WHERE s.source_oid IS NOT NULL), '{}'), \
         v.state = 'paused', v.refresh, v.refresh_interval::text, extract(epoch FROM v.refresh_interval)::float8, \
         v.sync_requests, v.sync_served, extract(epoch FROM now() - v.refreshed_at)::float8 \
         FROM freshet.views v LEFT JOIN freshet.view_sources s ON s.view_name = v.name \
         WHERE v.state IN ('ok', 'paused') GROUP BY v.name",
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
        let kind: String = r.get(12);
        let policy = RefreshPolicy::from_catalog(&kind, r.get(13), r.get(14))?;
        let v = ViewRow {
            id: r.get(0),
            name: name.clone(),
            layout,
            sql: r.get(4),
            sources: oids.into_iter().zip(qnames).collect(),
            paused: r.get(11),
            policy,
            sync_requests: r.get(15),
            sync_served: r.get(16),
            since_refresh: r.get(17),
        };
        out.insert(name, v);
    }
    Ok(out)
}

/// Captured sources that were dropped or whose captured columns changed,
/// with the reason; and the number of captured columns of each source.
pub(crate) type SourceHealth = (HashMap<u32, String>, HashMap<u32, usize>);

pub(crate) fn broken_sources(tx: &mut impl GenericClient) -> Result<SourceHealth> {
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
