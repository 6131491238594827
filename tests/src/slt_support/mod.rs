//! The sqllogictest harness of the SQL semantics suite (`tests/slt/`).
//!
//! Every `.slt` file runs against freshet and against PostgreSQL, each in a
//! fresh database; the files' expected results are PostgreSQL's answers, so
//! the PostgreSQL run proves the expectations and the freshet run checks
//! the engine against them. Records may be limited to one engine with the
//! labels `freshet` and `postgres` (`onlyif freshet`, `skipif postgres`).

pub mod freshet;
pub mod postgres;
mod runner;

pub use runner::{
    column_count_validator, conclude, exact_validator, file_stem, format_value, run_file, slt_files, tag_count,
    FileReport, SltError,
};
