//! View tables: their layout (columns, key), DDL, and the set-based
//! write-back of a view's diffs.
//!
//! A view whose plan proves a unique key (group keys of a top-level
//! aggregate, all columns of a `DISTINCT`, or the primary keys of every
//! joined table kept in the output) holds one row per key, with a unique
//! index `NULLS NOT DISTINCT` on the key. Any other view is a bag: its
//! table carries a `__freshet_count bigint` multiplicity per distinct row,
//! unique on the whole row.
//!
//! Write-back of one round: COPY the diffs into the view's temporary
//! staging table (emptied first), then one `DELETE … USING` and one
//! `INSERT … SELECT` (keyed) or one `MERGE` (bag), in the transaction that
//! also records the view's new frontier.

use std::collections::HashMap;
use std::io::{BufReader, Write};

use freshet_engine::catalog::Column;
use freshet_engine::{DataType, Diff, Expr, ObjectId, Plan, Row};
use postgres::GenericClient;

use crate::error::{PgError, Result};
use crate::ident::{qualified, quote_ident};
use crate::types::{encode_row, read_rows, sql_type};

/// The multiplicity column of a bag view's table.
pub const COUNT_COLUMN: &str = "__freshet_count";
/// The diff column of a staging table.
pub const DIFF_COLUMN: &str = "__freshet_diff";

/// Output column positions forming a unique key of `plan`'s result, if the
/// plan proves one. `primary_keys` gives each source table's primary key.
pub fn unique_key(plan: &Plan, primary_keys: &HashMap<ObjectId, Vec<usize>>) -> Option<Vec<usize>> {
    match plan {
        Plan::Get(g) => primary_keys.get(&g.id).filter(|k| !k.is_empty()).cloned(),
        Plan::Reduce(r) => Some((0..r.group_key.len()).collect()),
        Plan::Distinct(d) => Some((0..d.input.arity()).collect()),
        Plan::Filter(f) => unique_key(&f.input, primary_keys),
        Plan::Map(m) => {
            let key = unique_key(&m.input, primary_keys)?;
            key.iter().map(|k| m.exprs.iter().position(|e| *e == Expr::Column(*k))).collect()
        }
        Plan::Join(j) => {
            let left = unique_key(&j.left, primary_keys)?;
            let right = unique_key(&j.right, primary_keys)?;
            let la = j.left.arity();
            Some(left.into_iter().chain(right.into_iter().map(|k| k + la)).collect())
        }
        Plan::Constant(_) | Plan::Union(_) | Plan::Negate(_) | Plan::Threshold(_) => None,
    }
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

    /// `CREATE TABLE` for the view table.
    pub fn create_table_sql(&self) -> String {
        let mut defs: Vec<String> =
            self.columns.iter().map(|c| format!("{} {}", quote_ident(&c.name), sql_type(c.ty))).collect();
        if self.key.is_none() {
            defs.push(format!("{COUNT_COLUMN} bigint NOT NULL"));
        }
        format!("CREATE TABLE {} ({})", self.qualified(), defs.join(", "))
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
        Some(format!(
            "CREATE UNIQUE INDEX ON {} ({}) NULLS NOT DISTINCT",
            self.qualified(),
            list.join(", ")
        ))
    }

    /// `CREATE TEMP TABLE` for this view's staging table.
    pub fn create_stage_sql(&self, stage: &str) -> String {
        let mut defs: Vec<String> =
            self.columns.iter().map(|c| format!("{} {}", quote_ident(&c.name), sql_type(c.ty))).collect();
        defs.push(format!("{DIFF_COLUMN} bigint NOT NULL"));
        format!("CREATE TEMP TABLE IF NOT EXISTS {} ({})", quote_ident(stage), defs.join(", "))
    }

    /// The join condition matching view row `v` and staging row `s` on the
    /// key (every column for a bag view).
    fn match_condition(&self) -> String {
        let cols: Vec<usize> = match &self.key {
            Some(k) => k.clone(),
            None => (0..self.columns.len()).collect(),
        };
        if cols.is_empty() {
            return "true".into();
        }
        cols.iter()
            .map(|&i| {
                let c = &self.columns[i];
                let n = quote_ident(&c.name);
                if c.nullable {
                    format!("v.{n} IS NOT DISTINCT FROM s.{n}")
                } else {
                    format!("v.{n} = s.{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
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
        let rows = read_rows(BufReader::new(reader), &self.types(), extra)?;
        Ok(rows.into_iter().map(|(r, x)| (r, x.first().copied().unwrap_or(1))).collect())
    }

    /// Applies consolidated `diffs` to the view table through the staging
    /// table `stage` (which must exist on this connection). Returns the
    /// number of table rows deleted, inserted or updated.
    pub fn apply(&self, client: &mut impl GenericClient, stage: &str, diffs: &[(Row, Diff)]) -> Result<u64> {
        if diffs.is_empty() {
            return Ok(0);
        }
        let mut buf = Vec::new();
        for (row, d) in diffs {
            if self.key.is_some() && d.abs() != 1 {
                return Err(self.not_unique(row));
            }
            encode_row(&mut buf, row, &[*d]);
        }
        let stage_q = quote_ident(stage);
        // Emptied by each write that uses it (not `ON COMMIT DELETE ROWS`:
        // that empties every such table of the session at each commit).
        client.batch_execute(&format!("TRUNCATE pg_temp.{stage_q}"))?;
        let mut w =
            client.copy_in(&format!("COPY pg_temp.{stage_q} ({}) FROM STDIN", self.with_extra("", DIFF_COLUMN)))?;
        w.write_all(&buf)?;
        w.finish()?;
        let table = self.qualified();
        let cond = self.match_condition();
        let changed = match self.key {
            Some(_) => {
                let deleted = client.execute(
                    &format!("DELETE FROM {table} AS v USING pg_temp.{stage_q} AS s WHERE s.{DIFF_COLUMN} < 0 AND {cond}"),
                    &[],
                )?;
                let cols = self.column_list("");
                let inserted = client.execute(
                    &format!("INSERT INTO {table} ({cols}) SELECT {cols} FROM pg_temp.{stage_q} WHERE {DIFF_COLUMN} > 0"),
                    &[],
                )?;
                deleted + inserted
            }
            None => client.execute(
                &format!(
                    "MERGE INTO {table} AS v USING pg_temp.{stage_q} AS s ON {cond} \
                     WHEN MATCHED AND v.{COUNT_COLUMN} + s.{DIFF_COLUMN} <= 0 THEN DELETE \
                     WHEN MATCHED THEN UPDATE SET {COUNT_COLUMN} = v.{COUNT_COLUMN} + s.{DIFF_COLUMN} \
                     WHEN NOT MATCHED AND s.{DIFF_COLUMN} > 0 THEN INSERT ({}) VALUES ({})",
                    self.with_extra("", COUNT_COLUMN),
                    self.with_extra("s.", DIFF_COLUMN),
                ),
                &[],
            )?,
        };
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_engine::plan::{Get, Map, Reduce};

    fn get(id: u64, n: usize) -> Plan {
        Plan::Get(Get { id: ObjectId(id), name: format!("t{id}"), types: vec![DataType::Int4; n] })
    }

    #[test]
    fn keys_from_plans() {
        let pks: HashMap<ObjectId, Vec<usize>> = [(ObjectId(1), vec![0]), (ObjectId(2), vec![1])].into();
        assert_eq!(unique_key(&get(1, 3), &pks), Some(vec![0]));
        assert_eq!(unique_key(&get(3, 3), &pks), None);
        let reduce = Plan::Reduce(Reduce { input: Box::new(get(3, 3)), group_key: vec![Expr::Column(2)], aggregates: vec![] });
        assert_eq!(unique_key(&reduce, &pks), Some(vec![0]));
        let map = Plan::Map(Map { input: Box::new(get(1, 3)), exprs: vec![Expr::Column(2), Expr::Column(0)] });
        assert_eq!(unique_key(&map, &pks), Some(vec![1]));
        let dropped = Plan::Map(Map { input: Box::new(get(1, 3)), exprs: vec![Expr::Column(2)] });
        assert_eq!(unique_key(&dropped, &pks), None);
    }
}
