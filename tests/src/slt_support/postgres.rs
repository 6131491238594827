//! The PostgreSQL side of the sqllogictest harness: every file runs in a
//! fresh database of its own, and the expected results of the files are
//! what PostgreSQL returns.
//!
//! PostgreSQL's materialized views are snapshots. So that a `SELECT` from a
//! view shows the from-scratch answer a maintained view must equal, every
//! statement that runs outside a transaction block is preceded by a
//! `REFRESH MATERIALIZED VIEW` of every materialized view (in creation
//! order, so views over views see fresh inputs). Inside a transaction block
//! the views therefore show the state committed before `BEGIN`, which is
//! what freshet's views show until `COMMIT`.

use postgres::{Client, Config, NoTls, SimpleQueryMessage};
use sqllogictest::{DBOutput, DefaultColumnType, DB};

use super::runner::{format_value, SltError};

/// The label `skipif`/`onlyif` records use for PostgreSQL.
pub const LABEL: &str = "postgres";

/// The server's connection string: `DATABASE_URL`, by default
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Connects to the server once, to find out whether it is reachable.
pub fn check_server(url: &str) -> Result<(), String> {
    let mut client = Client::connect(url, NoTls).map_err(|e| e.to_string())?;
    client.simple_query("SELECT 1").map_err(|e| e.to_string())?;
    Ok(())
}

impl From<postgres::Error> for SltError {
    fn from(e: postgres::Error) -> SltError {
        match e.as_db_error() {
            Some(db) => SltError {
                message: db.message().to_string(),
                detail: db.detail().map(str::to_string),
                sqlstate: Some(db.code().code().to_string()),
            },
            None => SltError::msg(e.to_string()),
        }
    }
}

/// A fresh PostgreSQL database for one file; dropped again when this value
/// is dropped.
pub struct PostgresDb {
    client: Option<Client>,
    admin: Client,
    name: String,
    in_transaction: bool,
}

impl PostgresDb {
    /// Creates the database `slt_<file>_<pid>` (C collation, UTF-8) on the
    /// server at `url` and connects to it with `TimeZone` UTC.
    pub fn create(url: &str, file: &str) -> Result<PostgresDb, SltError> {
        let safe: String = file
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        let name = format!("slt_{safe}_{}", std::process::id());
        let mut admin = Client::connect(url, NoTls)?;
        admin.simple_query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        admin.simple_query(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ))?;
        let mut config: Config = url.parse()?;
        config.dbname(&name);
        let mut client = match config.connect(NoTls) {
            Ok(c) => c,
            Err(e) => {
                let _ = admin.simple_query(&format!("DROP DATABASE IF EXISTS {name}"));
                return Err(e.into());
            }
        };
        client.simple_query("SET TimeZone = 'UTC'; SET client_min_messages = warning")?;
        Ok(PostgresDb { client: Some(client), admin, name, in_transaction: false })
    }

    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("the connection is open until drop")
    }

    /// Refreshes every materialized view, oldest first.
    fn refresh_views(&mut self) -> Result<(), SltError> {
        let views: Vec<String> = self
            .client()
            .simple_query("SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'm' ORDER BY c.oid")?
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .collect();
        for v in views {
            self.client().simple_query(&format!("REFRESH MATERIALIZED VIEW {v}")).map_err(|e| {
                let mut e = SltError::from(e);
                e.message = format!("REFRESH MATERIALIZED VIEW {v} failed: {}", e.message);
                e
            })?;
        }
        Ok(())
    }
}

/// The first keyword of a statement, upper-cased, skipping comments.
fn first_keyword(sql: &str) -> String {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_uppercase()
}

impl DB for PostgresDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        if !self.in_transaction {
            self.refresh_views()?;
        }
        let keyword = first_keyword(sql);
        let messages = self.client().simple_query(sql);
        match keyword.as_str() {
            "BEGIN" | "START" if messages.is_ok() => self.in_transaction = true,
            "COMMIT" | "END" | "ROLLBACK" | "ABORT" => self.in_transaction = false,
            _ => {}
        }
        let mut columns = None;
        let mut rows = Vec::new();
        let mut count = 0;
        for m in messages? {
            match m {
                SimpleQueryMessage::RowDescription(cols) => columns = Some(cols.len()),
                SimpleQueryMessage::Row(r) => {
                    columns = Some(r.len());
                    rows.push((0..r.len()).map(|i| format_value(r.get(i))).collect());
                }
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match columns {
            Some(n) => DBOutput::Rows { types: vec![DefaultColumnType::Any; n], rows },
            None => DBOutput::StatementComplete(count),
        })
    }

    fn engine_name(&self) -> &str {
        LABEL
    }

    fn error_sql_state(err: &SltError) -> Option<String> {
        err.sqlstate.clone()
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        drop(self.client.take());
        if let Err(e) = self.admin.simple_query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("warning: could not drop database {}: {e}", self.name);
        }
    }
}
