//! freshet keeps materialized views fresh.
//!
//! A view is a plain SQL `SELECT`; freshet compiles it into a differential
//! dataflow that maintains joins and aggregates incrementally, so a changed
//! source row costs work proportional to the change, not to the tables.
//!
//! This crate is the embedded database: a [`Database`] owns a storage
//! backend (in memory, or a data directory on disk), the catalog, and the
//! dataflow runtime, and executes SQL.
//!
//! ```
//! use freshet::{Database, Output};
//!
//! let mut db = Database::open_in_memory()?;
//! db.execute("CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric(10,2))")?;
//! db.execute("CREATE MATERIALIZED VIEW totals AS
//!             SELECT customer, count(*) AS n, sum(amount) AS total
//!             FROM orders GROUP BY customer")?;
//! let mut changes = db.subscribe("totals")?;
//! db.execute("INSERT INTO orders VALUES (1, 'ada', 10.50), (2, 'ada', 4.25), (3, 'bob', 1)")?;
//! db.execute("UPDATE orders SET amount = amount * 2 WHERE customer = 'bob'")?;
//!
//! // Read the maintained contents, in PostgreSQL's text format.
//! let rows = db.query("SELECT * FROM totals ORDER BY customer")?;
//! assert_eq!(rows.to_text(), "ada\t2\t14.75\nbob\t1\t2.00\n");
//!
//! // Or follow the view's diffs: the initial (empty) contents, then one
//! // update per transaction.
//! let first = changes.try_recv().expect("the initial contents");
//! assert!(first.diffs.is_empty());
//! let insert = changes.try_recv().expect("the INSERT's diffs");
//! assert_eq!(insert.diffs.len(), 2); // +(ada, 2, 14.75), +(bob, 1, 1.00)
//! # Ok::<(), freshet::Error>(())
//! ```
#![deny(missing_docs)]

mod catalog;
mod database;
mod dml;
mod error;
mod output;
pub mod allocator;
pub mod script;

pub use database::{Database, Options};
pub use error::Error;
pub use output::{Output, Rows};

/// The engine crate: values, plans, runtime, storage.
pub use freshet_engine as engine;
/// The SQL front end crate.
pub use freshet_sql as sql;

pub use freshet_engine::runtime::{Subscription, ViewUpdate};
pub use freshet_engine::{DataType, Row, Value};
