//! The benches' error type.

use thiserror::Error;

/// Anything that stops a benchmark run.
#[derive(Debug, Error)]
pub enum BenchError {
    /// The embedded database failed.
    #[error(transparent)]
    Freshet(#[from] freshet::Error),
    /// The engine runtime failed.
    #[error(transparent)]
    Engine(#[from] freshet_engine::EngineError),
    /// The view's SQL did not compile.
    #[error(transparent)]
    Sql(#[from] freshet_sql::SqlError),
    /// PostgreSQL failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// The PostgreSQL adapter failed.
    #[error("adapter: {0}")]
    Adapter(#[from] freshet_postgres::PgError),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Writing the JSON report failed.
    #[error("JSON report: {0}")]
    Json(#[from] serde_json::Error),
    /// The workload or its parameters are unusable.
    #[error("{0}")]
    Workload(String),
}
