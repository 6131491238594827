//! freshet's benchmark workloads, shared by the `freshet-bench` harness and
//! the criterion benches.
//!
//! The invoices workload ([`workload`]) is generated deterministically from
//! a seed and run on the engine runtime directly, on the embedded database,
//! and on PostgreSQL ([`pg`]); [`check`] compares the final view contents
//! and [`report`] prints and serialises the figures side by side.
//!
//! The [`adapter`] workload runs the same view inside PostgreSQL with the
//! PostgreSQL adapter, beside PostgreSQL's own materialized view.
#![deny(missing_docs)]

pub mod adapter;
pub mod check;
pub mod compile;
pub mod error;
pub mod freshet_run;
pub mod pg;
pub mod report;
pub mod rng;
pub mod stats;
pub mod workload;

pub use error::BenchError;
