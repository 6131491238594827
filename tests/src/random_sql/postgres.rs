//! The PostgreSQL side of the random differential test: one database per
//! run (C collation, UTF-8, `TimeZone` UTC), its `public` schema recreated
//! for every scenario, and change batches applied as the same row diffs
//! the embedded database receives.

use postgres::{Client, Config, NoTls};

use crate::queries::{sql_literal, TableSchema};
use crate::tpch::postgres::{describe, query_text};
use crate::tpch::TextRow;
use freshet_engine::plan::Diff;
use freshet_engine::value::Row;

/// A database of its own on the server, dropped with this value.
pub struct RandomPostgres {
    client: Option<Client>,
    admin: Client,
    name: String,
}

/// A PostgreSQL error as text: severity, message and detail.
pub type PgError = String;

impl RandomPostgres {
    /// Creates the database `random_<label>_<pid>` on the server at `url`
    /// (dropping a leftover of the same name) and connects to it.
    pub fn create(url: &str, label: &str) -> Result<RandomPostgres, PgError> {
        let name = format!("random_{label}_{}", std::process::id());
        let mut admin = Client::connect(url, NoTls).map_err(|e| describe(&e))?;
        admin.simple_query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).map_err(|e| describe(&e))?;
        admin
            .simple_query(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ))
            .map_err(|e| describe(&e))?;
        let mut config: Config = url.parse().map_err(|e: postgres::Error| describe(&e))?;
        config.dbname(&name);
        let connected = config.connect(NoTls).and_then(|mut c| {
            c.batch_execute("SET TimeZone = 'UTC'; SET client_min_messages = warning; SET statement_timeout = '60s'")?;
            Ok(c)
        });
        match connected {
            Ok(client) => Ok(RandomPostgres { client: Some(client), admin, name }),
            Err(e) => {
                let _ = admin.simple_query(&format!("DROP DATABASE IF EXISTS {name}"));
                Err(describe(&e))
            }
        }
    }

    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("the connection is open until drop")
    }

    /// Runs statements (no rows expected).
    pub fn execute(&mut self, sql: &str) -> Result<(), PgError> {
        self.client().batch_execute(sql).map_err(|e| describe(&e))
    }

    /// Empties the database and creates `tables`.
    pub fn reset(&mut self, tables: &[TableSchema]) -> Result<(), PgError> {
        let mut sql = String::from("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
        for t in tables {
            sql.push_str(&t.create_sql());
            sql.push(';');
        }
        self.execute(&sql)
    }

    /// Applies row diffs to `table` (in the open transaction, if any):
    /// deletes one copy per retracted row, then inserts.
    pub fn apply(&mut self, table: &TableSchema, diffs: &[(Row, Diff)]) -> Result<(), PgError> {
        let mut sql = String::new();
        for (row, d) in diffs.iter().filter(|(_, d)| *d < 0) {
            sql.push_str(&delete_copies(table, row, -d));
        }
        let inserted: Vec<String> = diffs
            .iter()
            .filter(|(_, d)| *d > 0)
            .flat_map(|(row, d)| std::iter::repeat_n(row_values(row), *d as usize))
            .collect();
        if !inserted.is_empty() {
            sql.push_str(&format!("INSERT INTO {} VALUES {};", table.name, inserted.join(", ")));
        }
        if sql.is_empty() {
            return Ok(());
        }
        self.execute(&sql)
    }

    /// The rows of a query as text (NULL as `None`).
    pub fn query(&mut self, sql: &str) -> Result<Vec<TextRow>, PgError> {
        query_text(self.client(), sql).map_err(|e| describe(&e))
    }
}

/// `(v1, v2, …)` of a row's literals.
pub fn row_values(row: &Row) -> String {
    format!("({})", row.iter().map(sql_literal).collect::<Vec<_>>().join(", "))
}

/// A `DELETE` of `copies` copies of `row` (rows of a table without a key
/// are told apart by `ctid`).
fn delete_copies(table: &TableSchema, row: &Row, copies: Diff) -> String {
    let conds: Vec<String> = table
        .columns
        .iter()
        .zip(row.iter())
        .map(|(c, v)| format!("{} IS NOT DISTINCT FROM {}", c.name, sql_literal(v)))
        .collect();
    format!(
        "DELETE FROM {t} WHERE ctid IN (SELECT ctid FROM {t} WHERE {} LIMIT {copies});",
        conds.join(" AND "),
        t = table.name
    )
}

impl Drop for RandomPostgres {
    fn drop(&mut self) {
        drop(self.client.take());
        if let Err(e) = self.admin.simple_query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("warning: could not drop database {}: {e}", self.name);
        }
    }
}
