//! freshet's SQL front end: parses PostgreSQL-dialect SQL with `sqlparser`,
//! binds names and types against a catalog, and lowers statements to plans
//! the engine runs.
#![deny(missing_docs)]
