//! Source tables: looking them up in the live PostgreSQL catalog, and
//! installing and removing their change capture.
//!
//! Capture of a source table `t` (oid `N`) is:
//!
//! * an append-only log table `freshet."log_N"` with `t`'s columns plus
//!   `__freshet_xid` (the writing transaction, `xid8`), `__freshet_diff`
//!   (+1 inserted, -1 deleted, 0 a TRUNCATE marker) and `__freshet_seq`
//!   (insertion order; orders a TRUNCATE against the rows around it);
//! * a trigger function `freshet."capture_N"()`, `SECURITY DEFINER` with a
//!   fixed `search_path`, so roles writing `t` need no rights on the
//!   `freshet` schema;
//! * statement-level `AFTER INSERT`, `AFTER UPDATE`, `AFTER DELETE`
//!   triggers with transition tables (one `INSERT … SELECT` per statement)
//!   and an `AFTER TRUNCATE` trigger logging a marker. Each notifies
//!   [`CHANGES_CHANNEL`](crate::schema::CHANGES_CHANNEL) (delivered at commit).

use freshet_engine::catalog::{Column, TableDef};
use freshet_engine::{DataType, ObjectId};
use postgres::GenericClient;

use crate::error::{PgError, Result};
use crate::ident::{capture_function, log_table, qualified, quote_ident, quote_literal};
use crate::schema::CHANGES_CHANNEL;
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

    /// The column names and their PostgreSQL types, as the catalog records
    /// them (to notice a source altered under a view).
    pub fn signature(&self) -> (Vec<String>, Vec<String>) {
        (self.def.columns.iter().map(|c| c.name.clone()).collect(), self.def.columns.iter().map(|c| sql_type(c.ty)).collect())
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
        "SELECT a.attnum, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a \
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        &[&oid],
    )?;
    let mut columns = Vec::with_capacity(cols.len());
    let mut attnums = Vec::with_capacity(cols.len());
    for c in &cols {
        let attnum: i16 = c.get(0);
        let cname: String = c.get(1);
        let tname: String = c.get(2);
        let notnull: bool = c.get(3);
        let ty = from_format_type(&tname).ok_or_else(|| {
            PgError::Unsupported(format!(
                "column \"{cname}\" of table \"{schema}\".\"{name}\" has type {tname}, which freshet does not support \
                 (supported: boolean, smallint, integer, bigint, numeric, double precision, text, character varying, \
                 character, date, timestamp, timestamptz, interval, uuid, bytea)"
            ))
        })?;
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
    let primary_key = pk
        .unwrap_or_default()
        .iter()
        .filter_map(|k| attnums.iter().position(|a| a == k))
        .collect();
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
    let mut ddl = format!("CREATE TABLE {log} (");
    for c in &src.def.columns {
        ddl.push_str(&format!("{} {}, ", quote_ident(&c.name), sql_type(c.ty)));
    }
    ddl.push_str(
        "__freshet_xid xid8 NOT NULL, __freshet_diff smallint NOT NULL, \
         __freshet_seq bigint GENERATED ALWAYS AS IDENTITY);\n",
    );
    ddl.push_str(&format!("CREATE INDEX ON {log} (__freshet_xid);\n"));
    let cols = src.column_list();
    let (into, sep) = if cols.is_empty() { (String::new(), "") } else { (cols.clone(), ", ") };
    let insert = |diff: i32, from: &str| {
        format!(
            "INSERT INTO {log} ({into}{sep}__freshet_xid, __freshet_diff) SELECT {into}{sep}__freshet_x, {diff} FROM {from};"
        )
    };
    let body = format!(
        "DECLARE __freshet_x xid8 := pg_current_xact_id(); __freshet_n bigint := 0;\n\
         BEGIN\n\
         IF TG_OP = 'INSERT' THEN\n  {}\n  GET DIAGNOSTICS __freshet_n = ROW_COUNT;\n\
         ELSIF TG_OP = 'DELETE' THEN\n  {}\n  GET DIAGNOSTICS __freshet_n = ROW_COUNT;\n\
         ELSIF TG_OP = 'UPDATE' THEN\n  {}\n  GET DIAGNOSTICS __freshet_n = ROW_COUNT;\n  {}\n\
         ELSE\n  INSERT INTO {log} (__freshet_xid, __freshet_diff) VALUES (__freshet_x, 0);\n  __freshet_n := 1;\n\
         END IF;\n\
         IF __freshet_n > 0 THEN PERFORM pg_notify({}, ''); END IF;\n\
         RETURN NULL;\nEND",
        insert(1, "__freshet_new"),
        insert(-1, "__freshet_old"),
        insert(-1, "__freshet_old"),
        insert(1, "__freshet_new"),
        quote_literal(CHANGES_CHANNEL),
    );
    let func = qualified("freshet", &capture_function(src.oid));
    ddl.push_str(&format!(
        "CREATE FUNCTION {func}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER \
         SET search_path = pg_catalog, pg_temp AS {};\n",
        quote_literal(&body)
    ));
    let table = src.qualified();
    ddl.push_str(&format!(
        "CREATE TRIGGER freshet_capture_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS __freshet_new \
         FOR EACH STATEMENT EXECUTE FUNCTION {func}();\n\
         CREATE TRIGGER freshet_capture_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS __freshet_old \
         NEW TABLE AS __freshet_new FOR EACH STATEMENT EXECUTE FUNCTION {func}();\n\
         CREATE TRIGGER freshet_capture_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS __freshet_old \
         FOR EACH STATEMENT EXECUTE FUNCTION {func}();\n\
         CREATE TRIGGER freshet_capture_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {func}();\n"
    ));
    client.batch_execute(&ddl)?;
    client.execute(
        "INSERT INTO freshet.sources (source_oid, schema_name, table_name, columns, column_types) VALUES ($1, $2, $3, $4, $5)",
        &[&src.oid, &src.schema, &src.name, &names, &types],
    )?;
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
            for t in ["insert", "update", "delete", "truncate"] {
                ddl.push_str(&format!("DROP TRIGGER IF EXISTS freshet_capture_{t} ON {table};\n"));
            }
        }
        ddl.push_str(&format!(
            "DROP FUNCTION IF EXISTS {}();\nDROP TABLE IF EXISTS {};\n",
            qualified("freshet", &capture_function(oid)),
            qualified("freshet", &log_table(oid))
        ));
        client.batch_execute(&ddl)?;
        client.execute("DELETE FROM freshet.sources WHERE source_oid = $1", &[&oid])?;
        removed.push(oid);
    }
    Ok(removed)
}
