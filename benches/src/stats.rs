//! Measurements: batch latency statistics and the process's memory.

use std::time::Duration;

use serde::Serialize;

/// Throughput and latency of a run of equal-sized batches.
#[derive(Clone, Debug, Serialize)]
pub struct BatchStats {
    /// Changes per batch.
    pub batch_size: usize,
    /// Batches applied.
    pub batches: usize,
    /// Changes applied in all.
    pub changes: usize,
    /// Total time spent applying them, in seconds.
    pub seconds: f64,
    /// Changes per second (`changes / seconds`).
    pub changes_per_sec: f64,
    /// Median batch latency, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile batch latency, in milliseconds.
    pub p99_ms: f64,
    /// Slowest batch, in milliseconds.
    pub max_ms: f64,
}

impl BatchStats {
    /// Statistics of `latencies`, one per batch of `batch_size` changes.
    pub fn new(batch_size: usize, latencies: &[Duration]) -> BatchStats {
        let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let seconds: f64 = latencies.iter().map(Duration::as_secs_f64).sum();
        let changes = batch_size * latencies.len();
        BatchStats {
            batch_size,
            batches: latencies.len(),
            changes,
            seconds,
            changes_per_sec: if seconds > 0.0 { changes as f64 / seconds } else { 0.0 },
            p50_ms: percentile(&ms, 0.50),
            p99_ms: percentile(&ms, 0.99),
            max_ms: ms.last().copied().unwrap_or(0.0),
        }
    }
}

/// The `q`-quantile of sorted values (nearest rank); 0 for no values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A field of `/proc/self/status` in MiB (`VmRSS`, `VmHWM`); `None` where
/// the file does not exist (not Linux).
pub fn proc_status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    let kib: f64 = line[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak resident set size (`VmHWM`) to the current one, so the
/// next phase's peak is its own. Returns the resident size at the reset
/// (MiB), or `None` if the kernel does not offer this.
pub fn reset_peak_rss() -> Option<f64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    proc_status_mib("VmRSS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_throughput() {
        let lat: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = BatchStats::new(10, &lat);
        assert_eq!(s.changes, 1_000);
        assert_eq!(s.p50_ms, 50.0);
        assert_eq!(s.p99_ms, 99.0);
        assert_eq!(s.max_ms, 100.0);
        assert!((s.seconds - 5.05).abs() < 1e-9);
        assert!((s.changes_per_sec - 1_000.0 / 5.05).abs() < 1e-6);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[3.0], 0.99), 3.0);
    }

    #[test]
    fn memory_figures_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            let rss = proc_status_mib("VmRSS").expect("VmRSS");
            let hwm = proc_status_mib("VmHWM").expect("VmHWM");
            assert!(rss > 0.0 && hwm >= rss * 0.5);
        }
    }
}
