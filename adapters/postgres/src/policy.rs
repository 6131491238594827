//! Refresh policies: when the adapter writes a view's accumulated changes
//! into its table.
//!
//! Whatever the policy, every change of a view's sources is captured and
//! applied to the engine as it commits; the policy only decides when the
//! view's accumulated diffs are written (one transaction per write, with
//! the frontier they reach).

use std::fmt;
use std::time::Duration;

use postgres::GenericClient;

use crate::error::{PgError, Result};

/// When a view's table is written.
#[derive(Clone, Debug, PartialEq)]
pub enum RefreshPolicy {
    /// Every refresh round that changed it (the default).
    Continuous,
    /// At most once per interval (the interval as PostgreSQL prints it,
    /// and its length).
    Every {
        /// The interval's text as PostgreSQL prints it (`00:05:00`).
        text: String,
        /// Its length (a month counts 30 days, as `extract(epoch …)` does).
        period: Duration,
    },
    /// Only when `freshet sync` asks for the view.
    OnDemand,
}

impl RefreshPolicy {
    /// The value of `freshet.views.refresh`.
    pub fn kind(&self) -> &'static str {
        match self {
            RefreshPolicy::Continuous => "continuous",
            RefreshPolicy::Every { .. } => "every",
            RefreshPolicy::OnDemand => "on-demand",
        }
    }

    /// The value of `freshet.views.refresh_interval`, as text.
    pub fn interval_text(&self) -> Option<String> {
        match self {
            RefreshPolicy::Every { text, .. } => Some(text.clone()),
            _ => None,
        }
    }

    /// Parses `continuous`, `on-demand` or `every <interval>` (any interval
    /// PostgreSQL accepts, e.g. `every 5 minutes`, `every 1 second`,
    /// `every 00:10:00`), asking the server to read the interval.
    pub fn parse(client: &mut impl GenericClient, text: &str) -> Result<RefreshPolicy> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "continuous" => return Ok(RefreshPolicy::Continuous),
            "on-demand" | "on demand" | "ondemand" => return Ok(RefreshPolicy::OnDemand),
            _ => {}
        }
        let Some(rest) = lower.strip_prefix("every").filter(|r| r.starts_with(char::is_whitespace)) else {
            return Err(PgError::Usage(format!(
                "unknown refresh policy {t:?}: expected continuous, on-demand or 'every <interval>'"
            )));
        };
        let interval = rest.trim();
        let row = client
            .query_one(
                "SELECT i::text, extract(epoch FROM i)::float8 FROM (SELECT $1::text::interval AS i) x",
                &[&interval],
            )
            .map_err(|e| PgError::Usage(format!("invalid refresh interval {interval:?}: {}", PgError::from(e))))?;
        RefreshPolicy::from_catalog("every", Some(row.get(0)), Some(row.get(1)))
    }

    /// The policy stored in the catalog: `refresh`, `refresh_interval::text`
    /// and its length in seconds.
    pub fn from_catalog(kind: &str, interval: Option<String>, seconds: Option<f64>) -> Result<RefreshPolicy> {
        match (kind, interval, seconds) {
            ("continuous", _, _) => Ok(RefreshPolicy::Continuous),
            ("on-demand", _, _) => Ok(RefreshPolicy::OnDemand),
            ("every", Some(text), Some(s)) if s > 0.0 && s.is_finite() => {
                Ok(RefreshPolicy::Every { text, period: Duration::from_secs_f64(s) })
            }
            ("every", Some(text), _) => {
                Err(PgError::Usage(format!("a refresh interval must be positive (got {text})")))
            }
            (k, _, _) => Err(PgError::Protocol(format!("unknown refresh policy {k:?} in freshet.views"))),
        }
    }
}

impl fmt::Display for RefreshPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshPolicy::Every { text, .. } => write!(f, "every {text}"),
            other => f.write_str(other.kind()),
        }
    }
}
