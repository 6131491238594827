//! View tables: their layout (columns, key), DDL, and the set-based
//! write-back of a view's diffs.
//!
//! A view whose plan proves a unique key
//! ([`freshet_engine::plan::keys`]: primary keys, group keys, `DISTINCT`,
//! narrowed by functional dependencies, so `GROUP BY i.id, i.total` over
//! `invoices i` is keyed by `id` alone) holds one row per key, with a
//! unique index `NULLS NOT DISTINCT` on the key. Any other view is a bag:
//! its table carries a `__freshet_count bigint` multiplicity per distinct
//! row, unique on the whole row.
//!
//! Write-back of one round sends the rows as parameters, one `text[]` per
//! column (unnested together with `ROWS FROM`, cast to the columns'
//! types), with no staging table:
//!
//! * keyed: the diffs are paired up by key in the adapter into deletes,
//!   updates (a key with its old row retracted and a new row added, updated
//!   in place) and inserts, and written by **one statement** together with
//!   the view's new frontier, its history row and the progress
//!   notification: data-modifying `WITH` clauses, the table changes guarded
//!   by the catalog row's update (nothing is written unless the view is
//!   still `ok`), deletes ahead of inserts. One statement is one
//!   transaction and one round trip;
//! * bag: one `MERGE` adding the diffs to the multiplicities, in the
//!   transaction that records the frontier.
//!
//! Key columns that are never NULL are matched with `=`, which probes the
//! unique index. Rows are grouped by which nullable key columns are NULL,
//! and each group is matched with `=` on the others and `IS NULL` on those,
//! so every match can use the index (`IS NOT DISTINCT FROM` cannot).

use std::collections::BTreeMap;
use std::io::{BufReader, Write};

use freshet_engine::catalog::Column;
use freshet_engine::{DataType, Diff, Row, Value};
use postgres::types::ToSql;
use postgres::GenericClient;

use crate::error::{PgError, Result};
use crate::ident::{qualified, quote_ident};
use crate::schema::PROGRESS_CHANNEL;
use crate::types::{encode_row, read_rows, sql_type, TextArray};

/// The multiplicity column of a bag view's table.
pub const COUNT_COLUMN: &str = "__freshet_count";

/// How full (percent) view-table pages are filled, leaving room for rows
/// updated in place.
pub const FILLFACTOR: u32 = 80;

/// The value standing for a row of a view without columns.
static NULL: Value = Value::Null;

/// How many `text[]` parameters carry `cols` (one, counting the rows,
/// when there are no columns).
fn params_for(cols: &[usize]) -> usize {
    cols.len().max(1)
}

/// Which of a match's columns are NULL in every row matched by one
/// statement part.
pub type NullPattern = Vec<bool>;

/// A keyed view's diffs as changes to its table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeyedChanges<'a> {
    /// Per pattern of NULL key columns: rows whose key is deleted, and new
    /// rows replacing the row of their key.
    pub by_pattern: BTreeMap<NullPattern, (Vec<&'a Row>, Vec<&'a Row>)>,
    /// New rows of new keys.
    pub inserts: Vec<&'a Row>,
}

impl KeyedChanges<'_> {
    /// Table rows deleted, updated and inserted.
    pub fn rows(&self) -> u64 {
        (self.inserts.len() + self.by_pattern.values().map(|(d, u)| d.len() + u.len()).sum::<usize>()) as u64
    }

    /// What the statement writing these changes depends on: the patterns.
    pub fn signature(&self) -> Vec<NullPattern> {
        self.by_pattern.keys().cloned().collect()
    }
}

/// Parameters `$1 … $8` of a write: the frontier and the history row.
#[derive(Debug)]
pub struct WriteMeta<'a> {
    /// The view's name.
    pub name: &'a str,
    /// Its catalog id.
    pub id: i64,
    /// The snapshot written.
    pub snapshot: &'a str,
    /// When it was taken (text).
    pub snapshot_time: &'a str,
    /// The change in its row count.
    pub delta_rows: i64,
    /// How long the refresh took (ms).
    pub ms: f64,
    /// `sync_requests` served by this write.
    pub sync_requests: i64,
    /// Change-log rows read since the last write.
    pub changes_read: i64,
}

impl WriteMeta<'_> {
    fn params(&self) -> [&(dyn ToSql + Sync); 8] {
        [
            &self.snapshot,
            &self.snapshot_time,
            &self.delta_rows,
            &self.ms,
            &self.name,
            &self.id,
            &self.sync_requests,
            &self.changes_read,
        ]
    }
}

/// Moves the frontier (`$1 … $7` of [`WriteMeta`]) of the view if it is
/// still `ok`; returns its name.
const FRONTIER_SQL: &str = "UPDATE freshet.views SET frontier = $1::text::pg_snapshot, \
    frontier_at = $2::text::timestamptz, row_count = row_count + $3, refreshed_at = now(), refresh_ms = $4, \
    sync_served = greatest(sync_served, $7), pending_since = NULL \
    WHERE name = $5 AND id = $6 AND state = 'ok' RETURNING name";

/// Records the write in `freshet.history` (`$4`, `$5`, `$8` of
/// [`WriteMeta`]; `rows` an expression).
fn history_sql(from: &str, rows: &str) -> String {
    format!(
        "INSERT INTO freshet.history (view_name, started_at, duration_ms, changes_read, rows_changed, error) \
         SELECT $5, now() - make_interval(secs => $4::float8 / 1000.0), $4::float8, $8, {rows}, NULL FROM {from}"
    )
}

/// Where and how a view is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewLayout {
    /// The view table's schema.
    pub schema: String,
    /// The view table's name.
    pub table: String,
    /// The query's output columns.
    pub columns: Vec<Column>,
    /// The unique key's column positions; `None` for a bag view.
    pub key: Option<Vec<usize>>,
}

impl ViewLayout {
    /// `"schema"."table"`.
    pub fn qualified(&self) -> String {
        qualified(&self.schema, &self.table)
    }

    /// The column types.
    pub fn types(&self) -> Vec<DataType> {
        self.columns.iter().map(|c| c.ty).collect()
    }

    fn column_list(&self, prefix: &str) -> String {
        self.columns.iter().map(|c| format!("{prefix}{}", quote_ident(&c.name))).collect::<Vec<_>>().join(", ")
    }

    fn with_extra(&self, prefix: &str, extra: &str) -> String {
        let cols = self.column_list(prefix);
        if cols.is_empty() {
            format!("{prefix}{extra}")
        } else {
            format!("{cols}, {prefix}{extra}")
        }
    }

    /// `CREATE TABLE` for the view table. Pages are filled to
    /// [`FILLFACTOR`] percent, so that a row updated in place usually fits
    /// on its page (a HOT update: no new index entry).
    pub fn create_table_sql(&self) -> String {
        let mut defs: Vec<String> =
            self.columns.iter().map(|c| format!("{} {}", quote_ident(&c.name), sql_type(c.ty))).collect();
        if self.key.is_none() {
            defs.push(format!("{COUNT_COLUMN} bigint NOT NULL"));
        }
        format!("CREATE TABLE {} ({}) WITH (fillfactor = {FILLFACTOR})", self.qualified(), defs.join(", "))
    }

    /// The unique index on the key (none for an empty key: the table then
    /// holds at most one row).
    pub fn create_index_sql(&self) -> Option<String> {
        let cols: Vec<usize> = match &self.key {
            Some(k) => k.clone(),
            None => (0..self.columns.len()).collect(),
        };
        if cols.is_empty() {
            return None;
        }
        let list: Vec<String> = cols.iter().map(|&c| quote_ident(&self.columns[c].name)).collect();
        Some(format!("CREATE UNIQUE INDEX ON {} ({}) NULLS NOT DISTINCT", self.qualified(), list.join(", ")))
    }

    /// Fills the (new, empty) view table with `rows`.
    pub fn fill(&self, client: &mut impl GenericClient, rows: &[(Row, Diff)]) -> Result<()> {
        let mut buf = Vec::new();
        for (row, n) in rows {
            match self.key {
                Some(_) if *n != 1 => return Err(self.not_unique(row)),
                Some(_) => encode_row(&mut buf, row, &[]),
                None => encode_row(&mut buf, row, &[*n]),
            }
        }
        let cols = match self.key {
            Some(_) => self.column_list(""),
            None => self.with_extra("", COUNT_COLUMN),
        };
        let mut w = client.copy_in(&format!("COPY {} ({cols}) FROM STDIN", self.qualified()))?;
        w.write_all(&buf)?;
        w.finish()?;
        Ok(())
    }

    fn not_unique(&self, row: &Row) -> PgError {
        PgError::Protocol(format!("view table {} would hold the key of row {row:?} twice", self.qualified()))
    }

    /// The table's contents as `(row, multiplicity)`.
    pub fn read(&self, client: &mut impl GenericClient) -> Result<Vec<(Row, Diff)>> {
        let (cols, extra) = match self.key {
            Some(_) => (self.column_list(""), 0),
            None => (self.with_extra("", COUNT_COLUMN), 1),
        };
        let reader = client.copy_out(&format!("COPY (SELECT {cols} FROM {}) TO STDOUT", self.qualified()))?;
        let rows = read_rows(BufReader::new(reader), &self.qualified(), &self.columns, extra)?;
        Ok(rows.into_iter().map(|(r, x)| (r, x.first().copied().unwrap_or(1))).collect())
    }

    /// The columns a write matches rows on: the key, or every column of a
    /// bag view.
    fn match_columns(&self) -> Vec<usize> {
        match &self.key {
            Some(k) => k.clone(),
            None => (0..self.columns.len()).collect(),
        }
    }

    /// The NULL pattern of `row` over the match columns (only columns that
    /// may be NULL can be).
    fn pattern(&self, row: &Row, cols: &[usize]) -> NullPattern {
        cols.iter().map(|&c| self.columns[c].nullable && row[c].is_null()).collect()
    }

    /// `v.c = s.c` for the match columns not NULL in `pattern` (`s.c` cast
    /// from text to the column's type if `cast`), `v.c IS NULL` for the
    /// others.
    fn match_sql(&self, cols: &[usize], pattern: &[bool], cast: bool) -> String {
        if cols.is_empty() {
            return "true".into();
        }
        cols.iter()
            .zip(pattern)
            .map(|(&i, &null)| {
                let c = &self.columns[i];
                let n = quote_ident(&c.name);
                if null {
                    format!("v.{n} IS NULL")
                } else if cast {
                    format!("v.{n} = s.{n}::{}", sql_type(c.ty))
                } else {
                    format!("v.{n} = s.{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// `ROWS FROM (unnest($p::text[]), …) AS s("a", …)` over `cols`, the
    /// parameters numbered from `first` ([`params_for`] of them); `extra`
    /// names a trailing `bigint[]` column.
    fn rows_from(&self, cols: &[usize], first: usize, extra: Option<&str>) -> String {
        let mut calls: Vec<String> = (0..params_for(cols)).map(|k| format!("unnest(${}::text[])", first + k)).collect();
        let mut names: Vec<String> = cols.iter().map(|&c| quote_ident(&self.columns[c].name)).collect();
        if cols.is_empty() {
            // No columns: one NULL per row.
            names.push("__freshet_row".into());
        }
        if let Some(x) = extra {
            calls.push(format!("unnest(${}::bigint[])", first + calls.len()));
            names.push(x.to_string());
        }
        format!("ROWS FROM ({}) AS s({})", calls.join(", "), names.join(", "))
    }

    /// The `text[]` parameters carrying column `cols` of `rows` (one array
    /// of NULLs counting the rows if there are no columns).
    fn arrays<'a>(rows: &[&'a Row], cols: &[usize], out: &mut Vec<TextArray<'a>>) {
        if cols.is_empty() {
            out.push(TextArray(rows.iter().map(|_| &NULL).collect()));
        }
        out.extend(cols.iter().map(|&c| TextArray(rows.iter().map(|r| &r[c]).collect())));
    }

    /// Pairs a keyed view's consolidated diffs up by key (retracted and
    /// added rows of one key make an update). Fails if a key would be
    /// held twice.
    pub fn keyed_changes<'a>(&self, diffs: &'a [(Row, Diff)]) -> Result<KeyedChanges<'a>> {
        let key = self.key.as_deref().unwrap_or(&[]);
        let key_of = |r: &'a Row| key.iter().map(move |&c| &r[c]);
        let mut order: Vec<usize> = (0..diffs.len()).collect();
        order.sort_by(|&a, &b| key_of(&diffs[a].0).cmp(key_of(&diffs[b].0)));
        let mut out = KeyedChanges::default();
        let mut i = 0;
        while i < order.len() {
            let mut j = i + 1;
            while j < order.len() && key_of(&diffs[order[j]].0).eq(key_of(&diffs[order[i]].0)) {
                j += 1;
            }
            let group: Vec<&(Row, Diff)> = order[i..j].iter().map(|&k| &diffs[k]).collect();
            let first = &group[0].0;
            match group.as_slice() {
                [(row, -1)] => out.by_pattern.entry(self.pattern(row, key)).or_default().0.push(row),
                [(row, 1)] => out.inserts.push(row),
                [(a, da), (b, db)] if da + db == 0 && da.abs() == 1 => {
                    let new = if *da > 0 { a } else { b };
                    out.by_pattern.entry(self.pattern(new, key)).or_default().1.push(new);
                }
                _ => return Err(self.not_unique(first)),
            }
            i = j;
        }
        Ok(out)
    }

    /// The statement writing keyed changes with this signature (see the
    /// module documentation). Parameters: `$1 … $8` as [`WriteMeta`], then
    /// per pattern the deleted keys' columns and the updated rows'
    /// columns, then the inserted rows' columns, one `text[]` each.
    pub fn keyed_write_sql(&self, signature: &[NullPattern]) -> String {
        let table = self.qualified();
        let key = self.key.as_deref().unwrap_or(&[]);
        let all: Vec<usize> = (0..self.columns.len()).collect();
        let guard = "(SELECT count(*) FROM fr) > 0";
        let mut next = 9;
        let mut parts = vec![format!("fr AS ({FRONTIER_SQL})")];
        let mut deletes = Vec::new();
        let mut counted = Vec::new();
        for (p, pattern) in signature.iter().enumerate() {
            let cond = self.match_sql(key, pattern, true);
            parts.push(format!(
                "d{p} AS (DELETE FROM {table} AS v USING {} WHERE {guard} AND {cond} RETURNING 1)",
                self.rows_from(key, next, None)
            ));
            next += params_for(key);
            let set: Vec<String> = all
                .iter()
                .filter(|c| !key.contains(c))
                .map(|&c| {
                    let n = quote_ident(&self.columns[c].name);
                    format!("{n} = s.{n}::{}", sql_type(self.columns[c].ty))
                })
                .collect();
            if set.is_empty() {
                // Every column is in the key: an update changes nothing
                // (and the rows cannot differ).
                parts.push(format!(
                    "u{p} AS (SELECT 1 FROM {} WHERE {guard} AND false)",
                    self.rows_from(&all, next, None)
                ));
            } else {
                parts.push(format!(
                    "u{p} AS (UPDATE {table} AS v SET {} FROM {} WHERE {guard} AND {cond} RETURNING 1)",
                    set.join(", "),
                    self.rows_from(&all, next, None)
                ));
            }
            next += params_for(&all);
            deletes.push(format!("(SELECT count(*) FROM d{p})"));
            counted.push(format!("(SELECT count(*) FROM d{p})"));
            counted.push(format!("(SELECT count(*) FROM u{p})"));
        }
        let cols = self.column_list("");
        let values: Vec<String> = all
            .iter()
            .map(|&c| format!("s.{}::{}", quote_ident(&self.columns[c].name), sql_type(self.columns[c].ty)))
            .collect();
        // Deleted keys go first: a key deleted and inserted again (e.g. in
        // another representation) does not collide in the unique index.
        let after_deletes =
            if deletes.is_empty() { String::new() } else { format!(" AND {} >= 0", deletes.join(" + ")) };
        parts.push(format!(
            "ins AS (INSERT INTO {table} ({cols}) SELECT {} FROM {} WHERE {guard}{after_deletes} RETURNING 1)",
            if values.is_empty() { "".into() } else { values.join(", ") },
            self.rows_from(&all, next, None)
        ));
        counted.push("(SELECT count(*) FROM ins)".into());
        let rows = counted.join(" + ");
        parts.push(format!("h AS ({})", history_sql("fr", &rows)));
        format!(
            "WITH {} SELECT (SELECT count(*) FROM fr), {rows}, pg_notify('{PROGRESS_CHANNEL}', '')",
            parts.join(",\n")
        )
    }

    /// Writes keyed changes and the frontier in one statement; `None` if
    /// the view is no longer `ok` in the catalog (nothing written).
    pub fn write_keyed(
        &self,
        client: &mut impl GenericClient,
        statement: &postgres::Statement,
        changes: &KeyedChanges<'_>,
        meta: &WriteMeta<'_>,
    ) -> Result<Option<u64>> {
        let key = self.key.as_deref().unwrap_or(&[]);
        let all: Vec<usize> = (0..self.columns.len()).collect();
        let mut arrays: Vec<TextArray<'_>> = Vec::new();
        for (deleted, updated) in changes.by_pattern.values() {
            ViewLayout::arrays(deleted, key, &mut arrays);
            ViewLayout::arrays(updated, &all, &mut arrays);
        }
        ViewLayout::arrays(&changes.inserts, &all, &mut arrays);
        let mut params: Vec<&(dyn ToSql + Sync)> = meta.params().to_vec();
        params.extend(arrays.iter().map(|a| a as &(dyn ToSql + Sync)));
        let row = client.query_one(statement, &params)?;
        let (written, rows): (i64, i64) = (row.get(0), row.get(1));
        Ok((written > 0).then_some(rows as u64))
    }

    /// Adds a bag view's diffs to its multiplicities and moves its
    /// frontier, in one transaction; `None` if the view is no longer `ok`
    /// in the catalog (nothing written).
    pub fn write_bag(
        &self,
        client: &mut impl GenericClient,
        diffs: &[(Row, Diff)],
        meta: &WriteMeta<'_>,
    ) -> Result<Option<u64>> {
        let mut tx = client.transaction()?;
        if tx.query_opt(FRONTIER_SQL, &meta.params()[..7])?.is_none() {
            tx.rollback()?;
            return Ok(None);
        }
        let cols = self.match_columns();
        let mut groups: BTreeMap<NullPattern, (Vec<&Row>, Vec<i64>)> = BTreeMap::new();
        for (row, d) in diffs {
            let g = groups.entry(self.pattern(row, &cols)).or_default();
            g.0.push(row);
            g.1.push(*d);
        }
        let table = self.qualified();
        let mut changed = 0;
        for (pattern, (rows, counts)) in &groups {
            let typed: Vec<String> = cols
                .iter()
                .map(|&c| {
                    let n = quote_ident(&self.columns[c].name);
                    format!("s.{n}::{} AS {n}", sql_type(self.columns[c].ty))
                })
                .chain(std::iter::once("s.d".to_string()))
                .collect();
            let cond = self.match_sql(&cols, pattern, false);
            let sql = format!(
                "MERGE INTO {table} AS v USING (SELECT {} FROM {}) AS s ON {cond} \
                 WHEN MATCHED AND v.{COUNT_COLUMN} + s.d <= 0 THEN DELETE \
                 WHEN MATCHED THEN UPDATE SET {COUNT_COLUMN} = v.{COUNT_COLUMN} + s.d \
                 WHEN NOT MATCHED AND s.d > 0 THEN INSERT ({}) VALUES ({})",
                typed.join(", "),
                self.rows_from(&cols, 1, Some("d")),
                self.with_extra("", COUNT_COLUMN),
                self.with_extra("s.", "d"),
            );
            let mut arrays = Vec::new();
            ViewLayout::arrays(rows, &cols, &mut arrays);
            let mut params: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
            params.push(counts);
            changed += tx.execute(&sql, &params)?;
        }
        tx.execute(
            "INSERT INTO freshet.history (view_name, started_at, duration_ms, changes_read, rows_changed, error) \
             VALUES ($1, now() - make_interval(secs => $2::float8 / 1000.0), $2::float8, $3, $4, NULL)",
            &[&meta.name, &meta.ms, &meta.changes_read, &(changed as i64)],
        )?;
        tx.batch_execute(&format!("NOTIFY {PROGRESS_CHANNEL}"))?;
        tx.commit()?;
        Ok(Some(changed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(key: Option<Vec<usize>>) -> ViewLayout {
        let col = |name: &str, ty, nullable| Column { name: name.into(), ty, nullable };
        ViewLayout {
            schema: "public".into(),
            table: "v".into(),
            columns: vec![
                col("id", DataType::Int4, false),
                col("grp", DataType::Int4, true),
                col("total", DataType::Numeric(Some((12, 2))), true),
            ],
            key,
        }
    }

    fn row(id: i32, grp: Option<i32>, total: i32) -> Row {
        Row::new(vec![Value::Int4(id), grp.map_or(Value::Null, Value::Int4), Value::Int4(total)])
    }

    #[test]
    fn diffs_pair_up_by_key() {
        let l = layout(Some(vec![0, 1]));
        let diffs =
            vec![(row(1, None, 5), -1), (row(1, None, 6), 1), (row(2, Some(3), 1), -1), (row(4, Some(5), 1), 1)];
        let c = l.keyed_changes(&diffs).unwrap();
        assert_eq!(c.inserts, vec![&diffs[3].0]);
        assert_eq!(c.signature(), vec![vec![false, false], vec![false, true]]);
        assert_eq!(c.by_pattern[&vec![false, true]], (vec![], vec![&diffs[1].0]));
        assert_eq!(c.by_pattern[&vec![false, false]], (vec![&diffs[2].0], vec![]));
        assert_eq!(c.rows(), 3);
        // Two rows for one key, or a multiplicity above one, are refused.
        let twice = vec![(row(7, Some(1), 1), 1), (row(7, Some(1), 2), 1)];
        assert!(l.keyed_changes(&twice).is_err());
        assert!(l.keyed_changes(&[(row(8, None, 1), 2)]).is_err());
        // A key never NULL is matched with `=` only.
        let by_id = layout(Some(vec![0]));
        assert_eq!(by_id.keyed_changes(&diffs[..2]).unwrap().signature(), vec![vec![false]]);
    }

    #[test]
    fn keyed_write_is_one_statement_probing_the_index() {
        let l = layout(Some(vec![0, 1]));
        let sql = l.keyed_write_sql(&[vec![false, true]]);
        assert_eq!(
            sql,
            "WITH fr AS (UPDATE freshet.views SET frontier = $1::text::pg_snapshot, \
             frontier_at = $2::text::timestamptz, row_count = row_count + $3, refreshed_at = now(), refresh_ms = $4, \
             sync_served = greatest(sync_served, $7), pending_since = NULL \
             WHERE name = $5 AND id = $6 AND state = 'ok' RETURNING name),\n\
             d0 AS (DELETE FROM \"public\".\"v\" AS v USING ROWS FROM (unnest($9::text[]), unnest($10::text[])) \
             AS s(\"id\", \"grp\") WHERE (SELECT count(*) FROM fr) > 0 AND v.\"id\" = s.\"id\"::integer \
             AND v.\"grp\" IS NULL RETURNING 1),\n\
             u0 AS (UPDATE \"public\".\"v\" AS v SET \"total\" = s.\"total\"::numeric(12,2) \
             FROM ROWS FROM (unnest($11::text[]), unnest($12::text[]), unnest($13::text[])) \
             AS s(\"id\", \"grp\", \"total\") WHERE (SELECT count(*) FROM fr) > 0 AND v.\"id\" = s.\"id\"::integer \
             AND v.\"grp\" IS NULL RETURNING 1),\n\
             ins AS (INSERT INTO \"public\".\"v\" (\"id\", \"grp\", \"total\") \
             SELECT s.\"id\"::integer, s.\"grp\"::integer, s.\"total\"::numeric(12,2) \
             FROM ROWS FROM (unnest($14::text[]), unnest($15::text[]), unnest($16::text[])) \
             AS s(\"id\", \"grp\", \"total\") WHERE (SELECT count(*) FROM fr) > 0 \
             AND (SELECT count(*) FROM d0) >= 0 RETURNING 1),\n\
             h AS (INSERT INTO freshet.history (view_name, started_at, duration_ms, changes_read, rows_changed, error) \
             SELECT $5, now() - make_interval(secs => $4::float8 / 1000.0), $4::float8, $8, \
             (SELECT count(*) FROM d0) + (SELECT count(*) FROM u0) + (SELECT count(*) FROM ins), NULL FROM fr) \
             SELECT (SELECT count(*) FROM fr), (SELECT count(*) FROM d0) + (SELECT count(*) FROM u0) \
             + (SELECT count(*) FROM ins), pg_notify('freshet_progress', '')"
        );
        // A global aggregate (empty key): the rows are counted by an
        // array of NULLs.
        let one = ViewLayout { key: Some(vec![]), ..layout(None) };
        let sql = one.keyed_write_sql(&[vec![]]);
        assert!(
            sql.contains(
                "d0 AS (DELETE FROM \"public\".\"v\" AS v USING ROWS FROM (unnest($9::text[])) \
                              AS s(__freshet_row) WHERE (SELECT count(*) FROM fr) > 0 AND true RETURNING 1)"
            ),
            "{sql}"
        );
    }
}
