//! PostgreSQL's text output format for every type.
