//! freshet's PostgreSQL adapter: views written as SQL `SELECT`s, kept
//! current in ordinary PostgreSQL tables.
//!
//! * [`schema::init`] installs the `freshet` schema (catalog, history).
//! * [`create::create_view`] compiles a query against the live catalog,
//!   installs trigger-based change capture on its sources
//!   ([`source`]), creates the view table and fills it from the snapshot
//!   that starts the view's change stream.
//! * [`adapter::Adapter`] is the process keeping views current: batches of
//!   transactions by visibility between snapshots ([`batch`]), fed to the
//!   engine, diffs written back set-based with the new frontier in one
//!   transaction ([`view`]).
//! * [`sync::sync`] waits until views reflect everything committed before
//!   the call (and asks for views with a deferred [`policy`] to be
//!   written); [`sync::status`] reads `freshet.view_status`.
//! * [`control`] changes a view's refresh policy, pauses and resumes it.
//!
//! [`cli`] holds the `freshet` subcommands.
#![deny(missing_docs)]

pub mod adapter;
pub mod batch;
mod catalog;
pub mod cli;
pub mod compile;
pub mod control;
pub mod create;
pub mod error;
pub mod ident;
mod log;
pub mod policy;
pub mod schema;
pub mod source;
pub mod stages;
pub mod sync;
pub mod types;
pub mod view;
pub mod wake;

pub use adapter::{Adapter, AdapterConfig, StepReport};
pub use control::{alter_refresh, pause, resume, Resumed};
pub use create::{create_view, create_view_with, drop_view, CreatedView, LoadProgress, ViewOptions};
pub use error::PgError;
pub use policy::RefreshPolicy;
pub use schema::{connect, init};
pub use sync::{status, sync, ViewStatus};
