//! Source tables: looking them up in the live PostgreSQL catalog, and
//! installing and removing their change capture.
//!
//! Capture of a source table `t` (oid `N`) is:
//!
//! * an append-only log table `freshet."log_N"` with `t`'s columns (one
//!   row per captured row) or `__freshet_batch` (an array of the composite
//!   type `freshet."row_N"` of `t`'s columns: the rows of a large
//!   statement past its first [`BATCH_ROWS`], in one log row), plus
//!   `__freshet_xid` (the writing transaction, `xid8`; not indexed: the
//!   log only holds what the adapter has not pruned yet, and an index
//!   would cost every captured row an index entry), `__freshet_diff` (+1
//!   inserted, -1 deleted, 0 a TRUNCATE marker) and `__freshet_seq` (the
//!   WAL insert position as the row was logged, `pg_lsn`: orders a
//!   TRUNCATE against the statements around it. Writers of a table are
//!   serialised around a TRUNCATE by its lock, and a statement that logs
//!   rows writes WAL, so a later statement always reads a later position;
//!   reading it takes no lock, unlike a sequence);
//! * one trigger function per statement kind, `freshet."capture_N_insert"`,
//!   `_update`, `_delete` and `_truncate`, `SECURITY DEFINER`, so roles
//!   writing `t` need no rights on the `freshet` schema. Every name in their
//!   bodies is schema-qualified (the flag sequence by oid, operators as
//!   `OPERATOR(pg_catalog.=)`, types and functions with `pg_catalog.`), so
//!   they run safely under the writer's `search_path` without the cost of
//!   setting one;
//! * statement-level `AFTER INSERT`, `AFTER UPDATE`, `AFTER DELETE`
//!   triggers with transition tables: one `INSERT … SELECT` per statement
//!   (an UPDATE logs its old rows with -1 and its new rows with +1 in one
//!   `UNION ALL`), no per-row trigger, no conversion of rows. The first
//!   [`BATCH_ROWS`] rows of each transition table are logged one log row
//!   per row by a `LIMIT`ed `INSERT … SELECT` whose plan is a limit over
//!   the scans (no separate query counts the rows: a one-row statement
//!   pays for one statement in its trigger). Only when that statement filled its limit
//!   does a second one log the rest (`OFFSET`, the same scan order) as one
//!   array per transition table (`array_agg`, stored uncompressed): a large
//!   write then costs one heap tuple (and its TOAST chunks) instead of one
//!   per row, about half the overhead. An `AFTER TRUNCATE` trigger logs a
//!   marker. Each notifies [`CHANGES_CHANNEL`](crate::schema::CHANGES_CHANNEL)
//!   (delivered at commit) only while the adapter waits for it
//!   ([`crate::wake`]).

use freshet_engine::catalog::{Column, TableDef};
use freshet_engine::{DataType, ObjectId};
use postgres::GenericClient;

use crate::error::{PgError, Result};
use crate::ident::{capture_function, log_table, qualified, quote_ident, quote_literal, row_type};
use crate::schema::{BUSY_SEQUENCE, CHANGES_CHANNEL};
use crate::types::{from_format_type, sql_type};

/// Column names starting with this prefix are reserved in change logs.
pub const RESERVED_PREFIX: &str = "__freshet_";

/// A source table as found in the live catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceTable {
    /// Its oid (also its engine object id).
    pub oid: u32,
    /// Its schema.
    pub schema: String,
    /// Its name in its schema.
    pub name: String,
    /// The engine's definition: id = oid, name as the query names it.
    pub def: TableDef,
}

impl SourceTable {
    /// The column types.
    pub fn types(&self) -> Vec<DataType> {
        self.def.columns.iter().map(|c| c.ty).collect()
    }

    /// The quoted column list `"a", "b"`.
    pub fn column_list(&self) -> String {
        self.def.columns.iter().map(|c| quote_ident(&c.name)).collect::<Vec<_>>().join(", ")
    }

    /// `"schema"."name"`.
    pub fn qualified(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    /// `freshet."log_<oid>"`.
    pub fn log(&self) -> String {
        qualified("freshet", &log_table(self.oid))
    }

    /// `freshet."row_<oid>"`, the composite type of its captured rows.
    pub fn row_type(&self) -> String {
        qualified("freshet", &row_type(self.oid))
    }

    /// The column names and their PostgreSQL types, as the catalog records
    /// them (to notice a source altered under a view).
    pub fn signature(&self) -> (Vec<String>, Vec<String>) {
        (
            self.def.columns.iter().map(|c| c.name.clone()).collect(),
            self.def.columns.iter().map(|c| sql_type(c.ty)).collect(),
        )
    }
}

/// Looks up a table by the (case-folded) name a query uses, resolved
/// through the session's `search_path`. `Ok(None)` if no relation has that
/// name; an error if it is not a table or has a column freshet cannot
/// maintain.
pub fn lookup(client: &mut impl GenericClient, name: &str) -> Result<Option<SourceTable>> {
    let row = client.query_opt(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(quote_ident($1))",
        &[&name],
    )?;
    let Some(row) = row else { return Ok(None) };
    let oid: u32 = row.get(0);
    let kind: String = row.get(3);
    if kind != "r" && kind != "p" {
        return Err(PgError::Unsupported(format!(
            "\"{name}\" is not a table; views over {} are not supported",
            match kind.as_str() {
                "v" => "views",
                "m" => "materialized views",
                "f" => "foreign tables",
                _ => "this kind of relation",
            }
        )));
    }
    by_oid(client, oid, name).map(Some)
}

/// The table with this oid, named `query_name` in its [`TableDef`].
pub fn by_oid(client: &mut impl GenericClient, oid: u32, query_name: &str) -> Result<SourceTable> {
    let row = client
        .query_opt(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1 AND c.relkind IN ('r', 'p')",
            &[&oid],
        )?
        .ok_or_else(|| PgError::Usage(format!("the table with oid {oid} no longer exists")))?;
    let (schema, name): (String, String) = (row.get(0), row.get(1));
    let cols = client.query(
        "SELECT a.attnum, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attndims::int4 \
         FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        &[&oid],
    )?;
    let mut columns = Vec::with_capacity(cols.len());
    let mut attnums = Vec::with_capacity(cols.len());
    for c in &cols {
        let attnum: i16 = c.get(0);
        let cname: String = c.get(1);
        let tname: String = c.get(2);
        let notnull: bool = c.get(3);
        let dims: i32 = c.get(4);
        let unsupported = |what: &str| {
            PgError::Unsupported(format!(
                "column \"{cname}\" of table \"{schema}\".\"{name}\" has type {what}, which freshet does not support \
                 (supported: boolean, smallint, integer, bigint, numeric, double precision, text, character varying, \
                 character, date, timestamp, timestamptz, interval, uuid, bytea, and one-dimensional arrays of them)"
            ))
        };
        let ty = from_format_type(&tname).ok_or_else(|| unsupported(&tname))?;
        if dims > 1 {
            // Declared `integer[][]`, which format_type spells `integer[]`.
            let element = tname.trim_end_matches("[]");
            return Err(unsupported(&format!("{element}{}", "[]".repeat(dims as usize))));
        }
        attnums.push(attnum);
        columns.push(Column { name: cname, ty, nullable: !notnull });
    }
    let pk: Option<Vec<i16>> = client
        .query_opt(
            "SELECT array_agg(k ORDER BY o) FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY AS u(k, o) \
             WHERE i.indrelid = $1 AND i.indisprimary",
            &[&oid],
        )?
        .and_then(|r| r.get(0));
    let primary_key = pk.unwrap_or_default().iter().filter_map(|k| attnums.iter().position(|a| a == k)).collect();
    let def = TableDef { id: ObjectId(oid as u64), name: query_name.to_string(), columns, primary_key };
    Ok(SourceTable { oid, schema, name, def })
}

/// True if the source is already captured.
pub fn is_captured(client: &mut impl GenericClient, oid: u32) -> Result<bool> {
    Ok(client.query_opt("SELECT 1 FROM freshet.sources WHERE source_oid = $1", &[&oid])?.is_some())
}

/// Installs capture on `src` unless it is already installed; when it is,
/// checks that the table's columns are still those captured.
pub fn install_capture(client: &mut impl GenericClient, src: &SourceTable) -> Result<()> {
    let (names, types) = src.signature();
    if let Some(row) =
        client.query_opt("SELECT columns, column_types FROM freshet.sources WHERE source_oid = $1", &[&src.oid])?
    {
        let (n, t): (Vec<String>, Vec<String>) = (row.get(0), row.get(1));
        if n != names || t != types {
            return Err(PgError::Usage(format!(
                "table {} was altered since its change capture was installed; drop the views reading it first",
                src.qualified()
            )));
        }
        return Ok(());
    }
    if let Some(c) = src.def.columns.iter().find(|c| c.name.starts_with(RESERVED_PREFIX)) {
        return Err(PgError::Unsupported(format!(
            "column \"{}\" of table {}: names starting with {RESERVED_PREFIX} are reserved by freshet",
            c.name,
            src.qualified()
        )));
    }
    let log = src.log();
    let mut ddl = format!("CREATE TYPE {} AS ({});\n", src.row_type(), column_defs(src));
    ddl.push_str(&format!("CREATE TABLE {log} ("));
    for c in &src.def.columns {
        ddl.push_str(&format!("{} {}, ", quote_ident(&c.name), sql_type(c.ty)));
    }
    ddl.push_str("__freshet_xid xid8 NOT NULL, __freshet_diff smallint NOT NULL, __freshet_seq pg_lsn NOT NULL);\n");
    ddl.push_str(&batch_column_ddl(src));
    ddl.push_str(&capture_ddl(client, src)?);
    client.batch_execute(&ddl)?;
    client.execute(
        "INSERT INTO freshet.sources (source_oid, schema_name, table_name, columns, column_types) VALUES ($1, $2, $3, $4, $5)",
        &[&src.oid, &src.schema, &src.name, &names, &types],
    )?;
    Ok(())
}

/// Rows of each transition table logged one by one; a statement writing
/// more logs the rest as one array.
pub const BATCH_ROWS: usize = 16;

/// `"a" type, "b" type` of the captured columns.
fn column_defs(src: &SourceTable) -> String {
    src.def
        .columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), sql_type(c.ty)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds the log's array column of captured rows, stored uncompressed (out
/// of line when large: compressing costs more than it saves here).
fn batch_column_ddl(src: &SourceTable) -> String {
    format!(
        "ALTER TABLE {log} ADD COLUMN __freshet_batch {}[];\n\
         ALTER TABLE {log} ALTER COLUMN __freshet_batch SET STORAGE EXTERNAL;\n",
        src.row_type(),
        log = src.log()
    )
}

/// The writing transaction, in a capture trigger.
const XID: &str = "pg_catalog.pg_current_xact_id()";
/// The WAL insert position, in a capture trigger (read per row: the rows
/// of a statement keep their place between the statements around it).
const LSN: &str = "pg_catalog.pg_current_wal_insert_lsn()";

/// A diff as a constant of the log column's type (`'-1'::pg_catalog.int2`:
/// a typed literal, no operator).
fn int2(diff: i32) -> String {
    format!("'{diff}'::pg_catalog.int2")
}

/// A captured statement kind: trigger event, transition tables, and the
/// transition tables logged with their diff.
type Kind = (&'static str, &'static str, &'static [(&'static str, i32)]);

/// The statement kinds captured.
const KINDS: [Kind; 4] = [
    ("insert", "REFERENCING NEW TABLE AS __freshet_new", &[("__freshet_new", 1)]),
    (
        "update",
        "REFERENCING OLD TABLE AS __freshet_old NEW TABLE AS __freshet_new",
        &[("__freshet_old", -1), ("__freshet_new", 1)],
    ),
    ("delete", "REFERENCING OLD TABLE AS __freshet_old", &[("__freshet_old", -1)]),
    ("truncate", "", &[]),
];

/// The trigger functions and triggers capturing `src` into its (existing)
/// log table, replacing any there are.
fn capture_ddl(client: &mut impl GenericClient, src: &SourceTable) -> Result<String> {
    let busy: Option<u32> =
        client.query_one("SELECT to_regclass($1)::oid", &[&format!("freshet.{BUSY_SEQUENCE}")])?.get(0);
    let Some(busy) = busy else {
        return Err(PgError::NotInitialized);
    };
    let log = src.log();
    let table = src.qualified();
    let cols = src.column_list();
    // The sequence by oid: constant-folded when planned, no name lookup.
    let regclass = |oid: u32| format!("{oid}::pg_catalog.oid::pg_catalog.regclass");
    let notify = format!("PERFORM pg_catalog.pg_notify({}, '')", quote_literal(CHANGES_CHANNEL));
    let flag = format!("pg_catalog.pg_sequence_last_value({}) IS NULL", regclass(busy));
    let mut ddl = String::new();
    for (kind, referencing, logged) in KINDS {
        let func = qualified("freshet", &format!("{}_{kind}", capture_function(src.oid)));
        let body = if logged.is_empty() {
            format!(
                "BEGIN\n\
                 INSERT INTO {log} (__freshet_xid, __freshet_diff, __freshet_seq) \
                 VALUES ({XID}, 0, {LSN});\n\
                 IF {flag} THEN {notify}; END IF;\n\
                 RETURN NULL;\nEND"
            )
        } else if cols.is_empty() {
            let rows: Vec<String> =
                logged.iter().map(|(from, diff)| format!("SELECT {XID}, {}, {LSN} FROM {from}", int2(*diff))).collect();
            format!(
                "BEGIN\n\
                 INSERT INTO {log} (__freshet_xid, __freshet_diff, __freshet_seq) {};\n\
                 IF FOUND AND {flag} THEN {notify}; END IF;\n\
                 RETURN NULL;\nEND",
                rows.join(" UNION ALL ")
            )
        } else {
            // The first BATCH_ROWS rows of each transition table row by
            // row (every transition table of a statement has its number of
            // rows, and the UNION ALL reads them in order), typed as the
            // log's columns so that the plan needs no projection. Only a
            // statement that filled them has more, logged as one array per
            // transition table. The variable has the reserved prefix: no
            // column of the table can shadow it.
            let limit = BATCH_ROWS * logged.len();
            let rows: Vec<String> = logged
                .iter()
                .map(|(from, diff)| {
                    format!("SELECT {cols}, {XID}, {}, {LSN}, NULL::{}[] FROM {from}", int2(*diff), src.row_type())
                })
                .collect();
            let rest = match logged {
                // One transition table: one array, of the rows past the
                // limit (if any).
                [(from, diff)] => format!(
                    "SELECT {XID}, {}, {LSN}, b FROM (SELECT pg_catalog.array_agg(ROW({cols})::{}) AS b \
                     FROM (SELECT * FROM {from} OFFSET {limit}) s) a WHERE b IS NOT NULL",
                    int2(*diff),
                    src.row_type()
                ),
                // Old and new rows: one array per diff.
                _ => {
                    let rows: Vec<String> = logged
                        .iter()
                        .map(|(from, diff)| {
                            format!("SELECT {} AS d, ROW({cols})::{} AS r FROM {from}", int2(*diff), src.row_type())
                        })
                        .collect();
                    format!(
                        "SELECT {XID}, d, {LSN}, pg_catalog.array_agg(r) FROM ({} OFFSET {limit}) s GROUP BY d",
                        rows.join(" UNION ALL ")
                    )
                }
            };
            format!(
                "DECLARE __freshet_n pg_catalog.int8;\nBEGIN\n\
                 INSERT INTO {log} ({cols}, __freshet_xid, __freshet_diff, __freshet_seq, __freshet_batch) {} LIMIT {limit};\n\
                 GET DIAGNOSTICS __freshet_n = ROW_COUNT;\n\
                 IF __freshet_n OPERATOR(pg_catalog.=) {limit} THEN\n  \
                 INSERT INTO {log} (__freshet_xid, __freshet_diff, __freshet_seq, __freshet_batch) {rest};\n\
                 END IF;\n\
                 IF __freshet_n OPERATOR(pg_catalog.>) 0 AND {flag} THEN {notify}; END IF;\n\
                 RETURN NULL;\nEND",
                rows.join(" UNION ALL ")
            )
        };
        // A column named like a PL/pgSQL variable (`found`, `new`,
        // `tg_op`) means the column.
        let body = format!("#variable_conflict use_column\n{body}");
        ddl.push_str(&format!(
            "CREATE OR REPLACE FUNCTION {func}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS {};\n\
             DROP TRIGGER IF EXISTS freshet_capture_{kind} ON {table};\n\
             CREATE TRIGGER freshet_capture_{kind} AFTER {} ON {table} {referencing} \
             FOR EACH STATEMENT EXECUTE FUNCTION {func}();\n",
            quote_literal(&body),
            kind.to_uppercase()
        ));
    }
    Ok(ddl)
}

/// The DDL dropping the capture functions of the source with this oid
/// (its triggers must be gone), including the single function of schema
/// version 2.
fn drop_functions_ddl(oid: u32) -> String {
    let mut ddl = String::new();
    for name in std::iter::once(capture_function(oid))
        .chain(KINDS.iter().map(|(k, _, _)| format!("{}_{k}", capture_function(oid))))
    {
        ddl.push_str(&format!("DROP FUNCTION IF EXISTS {}();\n", qualified("freshet", &name)));
    }
    ddl
}

/// Every captured source as recorded in `freshet.sources` (columns as
/// captured; its current name if it was renamed), and whether its table
/// still exists.
fn captured_sources(client: &mut impl GenericClient) -> Result<Vec<(SourceTable, bool)>> {
    let rows = client.query(
        "SELECT s.source_oid, coalesce(n.nspname::text, s.schema_name), coalesce(c.relname::text, s.table_name), \
         s.columns, s.column_types, c.oid IS NOT NULL FROM freshet.sources s \
         LEFT JOIN pg_class c ON c.oid = s.source_oid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace \
         ORDER BY s.source_oid",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let oid: u32 = r.get(0);
        let (schema, name): (String, String) = (r.get(1), r.get(2));
        let (names, types): (Vec<String>, Vec<String>) = (r.get(3), r.get(4));
        let mut columns = Vec::with_capacity(names.len());
        for (n, t) in names.into_iter().zip(types) {
            let ty = from_format_type(&t).ok_or_else(|| PgError::Protocol(format!("unknown column type {t}")))?;
            columns.push(Column { name: n, ty, nullable: true });
        }
        let def = TableDef { id: ObjectId(oid as u64), name: name.clone(), columns, primary_key: vec![] };
        out.push((SourceTable { oid, schema, name, def }, r.get(5)));
    }
    Ok(out)
}

/// Brings every capture installed by schema version 2 up to the current
/// one (part of [`crate::schema::init`]): the log's per-row sequence
/// numbers become WAL positions below any current one (so rows logged
/// before keep their order and come first), the log's index is dropped,
/// the batch column is added, and the trigger functions are replaced.
/// Sources whose table was dropped keep only their log (their views have
/// failed).
pub(crate) fn reinstall_captures(client: &mut impl GenericClient) -> Result<()> {
    for (src, exists) in captured_sources(client)? {
        let log = src.log();
        let indexes: Vec<String> = client
            .query("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = $1::text::regclass", &[&log])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut ddl = String::new();
        for ix in indexes {
            ddl.push_str(&format!("DROP INDEX {ix};\n"));
        }
        ddl.push_str(&format!(
            "ALTER TABLE {log} ALTER COLUMN __freshet_seq DROP IDENTITY IF EXISTS;\n\
             ALTER TABLE {log} ALTER COLUMN __freshet_seq TYPE pg_lsn USING ('0/' || to_hex(__freshet_seq))::pg_lsn;\n"
        ));
        ddl.push_str(&format!("CREATE TYPE {} AS ({});\n", src.row_type(), column_defs(&src)));
        ddl.push_str(&batch_column_ddl(&src));
        let table = src.qualified();
        if exists {
            for (kind, _, _) in KINDS {
                ddl.push_str(&format!("DROP TRIGGER IF EXISTS freshet_capture_{kind} ON {table};\n"));
            }
        }
        ddl.push_str(&drop_functions_ddl(src.oid));
        client.batch_execute(&ddl)?;
        if exists {
            let ddl = capture_ddl(client, &src)?;
            client.batch_execute(&ddl)?;
        }
    }
    Ok(())
}

/// Replaces the trigger functions (and triggers) of every capture whose
/// table exists with the current ones (part of [`crate::schema::init`]
/// from schema version 3: the log tables are unchanged, and rows logged by
/// the old functions are read as before). One transaction with the rest
/// of `init`: a writer's statement runs under the old triggers or the new
/// ones, never neither.
pub(crate) fn replace_capture_functions(client: &mut impl GenericClient) -> Result<()> {
    for (src, exists) in captured_sources(client)? {
        if exists {
            let ddl = capture_ddl(client, &src)?;
            client.batch_execute(&ddl)?;
        }
    }
    Ok(())
}

/// Removes the capture of every source no view reads any more: triggers
/// (if the table still exists), function, log table and catalog row.
/// Returns the oids removed.
pub fn remove_unused_captures(client: &mut impl GenericClient) -> Result<Vec<u32>> {
    let rows = client.query(
        "SELECT s.source_oid, n.nspname::text, c.relname::text FROM freshet.sources s \
         LEFT JOIN pg_class c ON c.oid = s.source_oid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT EXISTS (SELECT 1 FROM freshet.view_sources v WHERE v.source_oid = s.source_oid)",
        &[],
    )?;
    let mut removed = Vec::new();
    for r in rows {
        let oid: u32 = r.get(0);
        let schema: Option<String> = r.get(1);
        let name: Option<String> = r.get(2);
        let mut ddl = String::new();
        if let (Some(schema), Some(name)) = (schema, name) {
            let table = qualified(&schema, &name);
            for (kind, _, _) in KINDS {
                ddl.push_str(&format!("DROP TRIGGER IF EXISTS freshet_capture_{kind} ON {table};\n"));
            }
        }
        ddl.push_str(&drop_functions_ddl(oid));
        ddl.push_str(&format!(
            "DROP TABLE IF EXISTS {};\nDROP TYPE IF EXISTS {};\n",
            qualified("freshet", &log_table(oid)),
            qualified("freshet", &row_type(oid))
        ));
        client.batch_execute(&ddl)?;
        client.execute("DELETE FROM freshet.sources WHERE source_oid = $1", &[&oid])?;
        removed.push(oid);
    }
    Ok(removed)
}
