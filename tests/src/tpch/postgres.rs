//! The TPC-H tables in PostgreSQL: a database of their own (C collation,
//! UTF-8, `TimeZone` UTC), loaded with COPY, changed by refresh rounds in
//! one transaction each, and dropped with this value.

use std::io::Write;

use postgres::{Client, Config, NoTls, SimpleQueryMessage};

use super::data::Data;
use super::refresh::Round;
use super::schema::TABLES;
use super::TextRow;

/// The server's connection string: `DATABASE_URL`, by default
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn database_url() -> String {
    crate::slt_support::postgres::database_url()
}

/// A PostgreSQL error with the server's message and detail, where the
/// client library's display says only `db error`.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{}: {} ({d})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => e.to_string(),
    }
}

/// A fresh PostgreSQL database holding the TPC-H tables.
pub struct TpchPostgres {
    client: Option<Client>,
    admin: Client,
    name: String,
}

impl TpchPostgres {
    /// Creates the database `tpch_<label>_<pid>` on the server at `url`
    /// (dropping a leftover of the same name) and connects to it.
    pub fn create(url: &str, label: &str) -> Result<TpchPostgres, postgres::Error> {
        let name = format!("tpch_{label}_{}", std::process::id());
        let mut admin = Client::connect(url, NoTls)?;
        admin.simple_query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        admin.simple_query(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ))?;
        let mut config: Config = url.parse()?;
        config.dbname(&name);
        let connected = config.connect(NoTls).and_then(|mut c| {
            c.batch_execute("SET TimeZone = 'UTC'; SET client_min_messages = warning")?;
            Ok(c)
        });
        match connected {
            Ok(client) => Ok(TpchPostgres {
                client: Some(client),
                admin,
                name,
            }),
            Err(e) => {
                let _ = admin.simple_query(&format!("DROP DATABASE IF EXISTS {name}"));
                Err(e)
            }
        }
    }

    /// The connection to the database.
    pub fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("the connection is open until drop")
    }

    /// Creates the tables and COPYs `data` into them ([`load`]).
    pub fn load(&mut self, data: &Data) -> Result<(), postgres::Error> {
        load(self.client(), data)
    }

    /// Indexes the foreign keys ([`create_indexes`]).
    pub fn create_indexes(&mut self) -> Result<(), postgres::Error> {
        create_indexes(self.client())
    }

    /// Applies a round of changes in one transaction ([`apply`]).
    pub fn apply(&mut self, round: &Round) -> Result<(), postgres::Error> {
        apply(self.client(), round)
    }

    /// Runs one statement and returns its rows as text ([`query_text`]).
    pub fn query_text(&mut self, sql: &str) -> Result<Vec<TextRow>, postgres::Error> {
        query_text(self.client(), sql)
    }
}

/// Creates the tables on `client`'s database and COPYs `data` into them,
/// then `ANALYZE`s.
pub fn load(client: &mut Client, data: &Data) -> Result<(), postgres::Error> {
    for t in TABLES {
        client.batch_execute(&t.create_sql())?;
    }
    for (t, contents) in TABLES.iter().zip(data.tables()) {
        copy_in(client, t.name, contents.rows().iter())?;
    }
    client.batch_execute("ANALYZE")
}

fn copy_in<'r>(
    client: &mut Client,
    table: &str,
    rows: impl Iterator<Item = &'r freshet_engine::Row>,
) -> Result<(), postgres::Error> {
    let mut writer = client.copy_in(&format!("COPY {table} FROM STDIN"))?;
    let mut buf = String::new();
    for row in rows {
        buf.clear();
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            if v.is_null() {
                buf.push_str("\\N");
            } else {
                copy_escape(&v.to_string(), &mut buf);
            }
        }
        buf.push('\n');
        writer.write_all(buf.as_bytes()).expect("writing to COPY");
    }
    writer.finish()?;
    Ok(())
}

/// Creates indexes on the foreign keys (those of a usual TPC-H setup for
/// PostgreSQL), then `ANALYZE`s.
pub fn create_indexes(client: &mut Client) -> Result<(), postgres::Error> {
    client.batch_execute(FOREIGN_KEY_INDEXES)?;
    client.batch_execute("ANALYZE")
}

/// Applies a round of changes in one transaction: per table, a DELETE of
/// the retracted rows by primary key, then a COPY of the inserted rows.
pub fn apply(client: &mut Client, round: &Round) -> Result<(), postgres::Error> {
    client.batch_execute("BEGIN")?;
    for (t, changes) in TABLES.iter().zip(&round.changes) {
        let removed: Vec<&freshet_engine::Row> = changes
            .iter()
            .filter(|(_, d)| *d < 0)
            .map(|(r, _)| r)
            .collect();
        if !removed.is_empty() {
            // The keys as array constants: a long IN list of row
            // constructors exceeds the server's stack depth.
            let arrays: Vec<String> = t
                .primary_key
                .iter()
                .map(|&c| {
                    let vals: Vec<String> = removed.iter().map(|r| r[c].to_string()).collect();
                    format!("'{{{}}}'::{}[]", vals.join(","), t.columns[c].sql_type)
                })
                .collect();
            let aliases: Vec<String> = (0..arrays.len()).map(|i| format!("k{i}")).collect();
            let conditions: Vec<String> = t
                .primary_key
                .iter()
                .enumerate()
                .map(|(i, &c)| format!("{}.{} = d.k{i}", t.name, t.columns[c].name))
                .collect();
            let sql = format!(
                "DELETE FROM {} USING unnest({}) AS d({}) WHERE {}",
                t.name,
                arrays.join(", "),
                aliases.join(", "),
                conditions.join(" AND ")
            );
            client.batch_execute(&sql)?;
        }
        let inserts: Vec<&freshet_engine::Row> = changes
            .iter()
            .filter(|(_, d)| *d > 0)
            .map(|(r, _)| r)
            .collect();
        if !inserts.is_empty() {
            copy_in(client, t.name, inserts.into_iter())?;
        }
    }
    client.batch_execute("COMMIT")
}

/// Runs one statement and returns its rows as text (NULL as `None`).
pub fn query_text(client: &mut Client, sql: &str) -> Result<Vec<TextRow>, postgres::Error> {
    let mut rows = Vec::new();
    for m in client.simple_query(sql)? {
        if let SimpleQueryMessage::Row(r) = m {
            rows.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
        }
    }
    Ok(rows)
}

/// Indexes on the foreign key columns (the primary keys have theirs).
pub const FOREIGN_KEY_INDEXES: &str = "
    CREATE INDEX ON nation (n_regionkey);
    CREATE INDEX ON supplier (s_nationkey);
    CREATE INDEX ON customer (c_nationkey);
    CREATE INDEX ON partsupp (ps_suppkey);
    CREATE INDEX ON orders (o_custkey);
    CREATE INDEX ON lineitem (l_partkey, l_suppkey);
    CREATE INDEX ON lineitem (l_suppkey);
";

/// Appends `s` escaped for COPY's text format.
fn copy_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

impl Drop for TpchPostgres {
    fn drop(&mut self) {
        drop(self.client.take());
        if let Err(e) = self.admin.simple_query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("warning: could not drop database {}: {e}", self.name);
        }
    }
}
