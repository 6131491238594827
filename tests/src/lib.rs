//! Cross-crate tests for freshet: the reference evaluator the engine is
//! checked against, and generators of random schemas, tables and change
//! streams for property tests.
#![deny(missing_docs)]

pub mod catalog;
pub mod gen;
pub mod oracle;
pub mod plans;
pub mod queries;
pub mod random_sql;
pub mod slt_support;
pub mod tpch;
