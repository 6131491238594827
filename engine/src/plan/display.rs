//! `EXPLAIN` text for plans.
