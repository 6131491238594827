//! The adapter workload's figures, the comparison table with its targets,
//! and the printed report.

use std::fmt::Write;

use serde::Serialize;

use crate::check::Comparison;
use crate::report::{cell, ratio_cell, write_differing_rows, write_verdict};
use crate::stats::BatchStats;

use super::writes::WriteFigures;

/// The process's memory around the adapter's first start.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryFigures {
    /// Resident size just before the adapter started (MiB): the harness
    /// and its connections, freed heap returned to the system first.
    pub rss_before_mib: Option<f64>,
    /// Peak resident size from the adapter's start to the end of its first
    /// round (MiB, `VmHWM`).
    pub peak_mib: Option<f64>,
    /// Resident size once the view is loaded (MiB, `VmRSS`).
    pub rss_after_mib: Option<f64>,
    /// Rows of the source tables the adapter holds (invoices and lines).
    pub source_rows: usize,
    /// (peak − before) ÷ source rows, in bytes.
    pub peak_bytes_per_row: Option<f64>,
    /// (after − before) ÷ source rows, in bytes.
    pub held_bytes_per_row: Option<f64>,
}

impl MemoryFigures {
    /// Figures from the three samples (MiB) and the source rows.
    pub fn new(before: Option<f64>, peak: Option<f64>, after: Option<f64>, source_rows: usize) -> MemoryFigures {
        let per_row = |v: Option<f64>| {
            v.zip(before).filter(|_| source_rows > 0).map(|(v, b)| (v - b) * 1024.0 * 1024.0 / source_rows as f64)
        };
        MemoryFigures {
            rss_before_mib: before,
            peak_mib: peak,
            rss_after_mib: after,
            source_rows,
            peak_bytes_per_row: per_row(peak),
            held_bytes_per_row: per_row(after),
        }
    }
}

/// An adapter restart.
#[derive(Clone, Debug, Serialize)]
pub struct RestartFigures {
    /// Change-log rows waiting when it started.
    pub pending_log_rows: i64,
    /// From the start to the end of its first refresh round (s).
    pub first_round_s: f64,
    /// From the start until the view was seen current (s).
    pub current_s: f64,
}

/// Where the adapter's refresh rounds spent their time in one phase.
#[derive(Clone, Debug, Serialize)]
pub struct RoundProfile {
    /// The phase.
    pub phase: String,
    /// Rounds profiled.
    pub rounds: usize,
    /// Median change-log rows read per round.
    pub changes_p50: f64,
    /// Median of the rounds' total time (ms).
    pub total_p50_ms: f64,
    /// Per stage, in the order they run: its median and mean time (ms)
    /// over the rounds.
    pub stages: Vec<StageFigure>,
}

/// One stage of a [`RoundProfile`].
#[derive(Clone, Debug, Serialize)]
pub struct StageFigure {
    /// The stage (see `freshet_postgres::stages`).
    pub stage: String,
    /// Median time (ms); rounds without the stage count as 0.
    pub p50_ms: f64,
    /// 99th percentile (ms).
    pub p99_ms: f64,
    /// Mean time (ms).
    pub mean_ms: f64,
}

impl RoundProfile {
    /// The profile of the rounds that read changes among `rounds`.
    pub fn new(phase: &str, rounds: &[freshet_postgres::StepReport]) -> RoundProfile {
        let reading: Vec<_> = rounds.iter().filter(|r| r.changes_read > 0).cloned().collect();
        RoundProfile::of(phase, &reading)
    }

    /// The profile of all of `rounds`.
    pub fn of(phase: &str, rounds: &[freshet_postgres::StepReport]) -> RoundProfile {
        let mut names: Vec<&'static str> = Vec::new();
        for r in rounds {
            for (n, _) in &r.stages {
                if !names.contains(n) {
                    names.push(n);
                }
            }
        }
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let quantile = |mut v: Vec<f64>, q: f64| {
            v.sort_by(f64::total_cmp);
            crate::stats::percentile(&v, q)
        };
        let median = |v: Vec<f64>| quantile(v, 0.5);
        let stages = names
            .iter()
            .map(|n| {
                let v: Vec<f64> =
                    rounds.iter().map(|r| r.stages.iter().find(|(s, _)| s == n).map_or(0.0, |(_, d)| ms(*d))).collect();
                let mean = if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
                StageFigure { stage: n.to_string(), p50_ms: median(v.clone()), p99_ms: quantile(v, 0.99), mean_ms: mean }
            })
            .collect();
        RoundProfile {
            phase: phase.into(),
            rounds: rounds.len(),
            changes_p50: median(rounds.iter().map(|r| r.changes_read as f64).collect()),
            total_p50_ms: median(rounds.iter().map(|r| r.stages.iter().map(|(_, d)| ms(*d)).sum()).collect()),
            stages,
        }
    }
}

/// The view table against PostgreSQL's own result.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Rows of `TABLE view EXCEPT ALL query`.
    pub view_except_query: i64,
    /// Rows of `query EXCEPT ALL TABLE view`.
    pub query_except_view: i64,
    /// Both as text rows in PostgreSQL's output format, as multisets.
    pub text: Comparison,
    /// True if both differences are empty and the text rows are equal.
    pub matches: bool,
}

/// Everything measured by one run.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    /// Invoices generated.
    pub invoices: usize,
    /// Lines generated.
    pub lines: usize,
    /// The generator's seed.
    pub seed: u64,
    /// The adapter's timely workers.
    pub workers: usize,
    /// `SELECT version()`.
    pub server_version: String,
    /// `synchronous_commit` of every session of the run's database.
    pub synchronous_commit: String,
    /// COPY of both sources (s).
    pub load_s: f64,
    /// `CREATE MATERIALIZED VIEW` (s).
    pub pg_create_s: f64,
    /// Median `REFRESH MATERIALIZED VIEW` (s).
    pub refresh_s: f64,
    /// Every refresh timed (s).
    pub refreshes_s: Vec<f64>,
    /// freshet `create-view` (s): capture installed, sources read, view
    /// computed, table written and indexed, one transaction.
    pub create_s: f64,
    /// The adapter's first start until its first round is done (s).
    pub start_s: f64,
    /// Memory around that start.
    pub memory: MemoryFigures,
    /// Single-row UPDATE until the view row shows it.
    pub single_visible: BatchStats,
    /// The single-row UPDATE statement alone (captured table).
    pub single_statement: BatchStats,
    /// Single-row UPDATE until `sync` returns.
    pub single_sync: BatchStats,
    /// 10,000-row UPDATE until `sync` returns.
    pub large_visible: BatchStats,
    /// The 10,000-row UPDATE statement alone (captured table).
    pub large_statement: BatchStats,
    /// Median single-row UPDATE on the uncaptured twin (ms).
    pub pg_single_update_ms: Option<f64>,
    /// Median 10,000-row UPDATE on the uncaptured twin (ms).
    pub pg_bulk_update_ms: Option<f64>,
    /// Write throughput with and without capture.
    pub writes: Vec<WriteFigures>,
    /// Where refresh rounds spent their time, per phase.
    pub profiles: Vec<RoundProfile>,
    /// Restart with the capture-overhead writes pending.
    pub backlog: RestartFigures,
    /// Restart with one change pending.
    pub one: RestartFigures,
    /// The final check.
    pub check: Check,
    /// The whole run (s).
    pub total_s: f64,
}

/// One line of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct TableLine {
    /// What is measured, with its unit.
    pub metric: String,
    /// freshet's figure (for writes: on the captured table).
    pub freshet: Option<f64>,
    /// PostgreSQL's figure (for writes: on the uncaptured twin).
    pub postgres: Option<f64>,
    /// PostgreSQL ÷ freshet for times; plain ÷ captured rate for writes.
    pub ratio: Option<f64>,
    /// The target, if there is one.
    pub target: Option<String>,
    /// Whether the target is met.
    pub met: Option<bool>,
}

/// The report, as printed and written with `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct AdapterReport {
    /// The figures.
    pub measured: Measured,
    /// The comparison table.
    pub table: Vec<TableLine>,
    /// True if the view table equals PostgreSQL's result.
    pub correct: bool,
}

fn ratio(pg: Option<f64>, freshet: Option<f64>) -> Option<f64> {
    match (pg, freshet) {
        (Some(p), Some(f)) if p > 0.0 && f > 0.0 => Some(p / f),
        _ => None,
    }
}

fn plain(metric: &str, freshet: Option<f64>, postgres: Option<f64>) -> TableLine {
    TableLine { metric: metric.into(), ratio: ratio(postgres, freshet), freshet, postgres, target: None, met: None }
}

impl AdapterReport {
    /// The report of `m`, with its comparison table.
    pub fn new(m: Measured) -> AdapterReport {
        let refresh_ms = m.refresh_s * 1e3;
        let refresh_max_ms = m.refreshes_s.iter().copied().fold(0.0, f64::max) * 1e3;
        let single_plain = m.writes.iter().find(|w| w.statement == "UPDATE" && w.rows_per_statement == 1);
        let mut t = vec![
            plain("load: COPY of both sources (s)", None, Some(m.load_s)),
            plain("create view vs CREATE MATERIALIZED VIEW (s)", Some(m.create_s), Some(m.pg_create_s)),
            plain("full REFRESH MATERIALIZED VIEW, median (s)", None, Some(m.refresh_s)),
            plain("adapter start: view loaded, first round (s)", Some(m.start_s), None),
        ];
        let mut fresh = plain(
            "1-row UPDATE -> view row shows it, p50 (ms)",
            Some(m.single_visible.p50_ms),
            m.pg_single_update_ms.map(|u| u + refresh_ms),
        );
        fresh.target = Some(">= 300x".into());
        fresh.met = fresh.ratio.map(|r| r >= 300.0);
        t.push(fresh);
        t.push(plain(
            "1-row UPDATE -> view row shows it, p99 (ms)",
            Some(m.single_visible.p99_ms),
            single_plain.map(|w| w.plain.p99_ms + refresh_max_ms),
        ));
        t.push(plain("1-row UPDATE -> `sync` returns, p50 (ms)", Some(m.single_sync.p50_ms), m.pg_single_update_ms.map(|u| u + refresh_ms)));
        t.push(plain("1-row UPDATE -> `sync` returns, p99 (ms)", Some(m.single_sync.p99_ms), None));
        t.push(plain("1-row UPDATE statement, captured, p50 (ms)", Some(m.single_statement.p50_ms), m.pg_single_update_ms));
        let rows = m.large_visible.batch_size;
        let mut large = plain(
            &format!("{rows}-row UPDATE -> `sync` returns, p50 (ms)"),
            Some(m.large_visible.p50_ms),
            m.pg_bulk_update_ms.map(|u| u + refresh_ms),
        );
        large.target = Some("<= 200 ms".into());
        large.met = Some(m.large_visible.p50_ms <= 200.0);
        t.push(large);
        let mut worst = plain(&format!("{rows}-row UPDATE -> `sync` returns, max (ms)"), Some(m.large_visible.max_ms), None);
        worst.target = Some("<= 200 ms".into());
        worst.met = Some(m.large_visible.max_ms <= 200.0);
        t.push(worst);
        t.push(plain(&format!("{rows}-row UPDATE statement, captured, p50 (ms)"), Some(m.large_statement.p50_ms), m.pg_bulk_update_ms));
        for w in &m.writes {
            let what = if w.rows_per_statement == 1 { "1-row".to_string() } else { format!("{}-row", w.rows_per_statement) };
            t.push(TableLine {
                metric: format!("{} {what} statements: rows/s (captured | plain)", w.statement),
                freshet: Some(w.captured.changes_per_sec),
                postgres: Some(w.plain.changes_per_sec),
                ratio: Some(w.slowdown),
                target: Some("<= 1.3x".into()),
                met: Some(w.slowdown <= 1.3),
            });
            // The same as a median, which stalls of either table (a
            // checkpoint, autovacuum) do not move.
            t.push(TableLine {
                metric: format!("  {} {what} statement p50 (ms, captured | plain)", w.statement),
                freshet: Some(w.captured.p50_ms),
                postgres: Some(w.plain.p50_ms),
                ratio: (w.plain.p50_ms > 0.0).then(|| w.captured.p50_ms / w.plain.p50_ms),
                target: None,
                met: None,
            });
        }
        let mem = &m.memory;
        t.push(plain("adapter peak RSS during start (MiB)", mem.peak_mib, None));
        t.push(plain("adapter RSS after start (MiB)", mem.rss_after_mib, None));
        t.push(plain("  peak above baseline per source row (bytes)", mem.peak_bytes_per_row, None));
        t.push(plain("  held above baseline per source row (bytes)", mem.held_bytes_per_row, None));
        t.push(plain(
            &format!("restart, {} log rows pending -> `sync` returns (s)", m.backlog.pending_log_rows),
            Some(m.backlog.current_s),
            None,
        ));
        t.push(plain(
            &format!("restart, {} log rows pending -> view row shows it (s)", m.one.pending_log_rows),
            Some(m.one.current_s),
            None,
        ));
        let correct = m.check.matches;
        AdapterReport { measured: m, table: t, correct }
    }

    /// The targets as `(metric, met)`.
    pub fn targets(&self) -> Vec<(&str, bool)> {
        self.table.iter().filter_map(|l| l.met.map(|m| (l.metric.as_str(), m))).collect()
    }
}

/// The report as text: the table, the targets and the verdict.
pub fn render(r: &AdapterReport) -> String {
    let m = &r.measured;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "adapter workload: {} invoices, {} lines, seed {}, {} worker(s)",
        m.invoices, m.lines, m.seed, m.workers
    );
    let _ = writeln!(s, "PostgreSQL: {} (synchronous_commit {})", m.server_version, m.synchronous_commit);
    let _ = writeln!(
        s,
        "changes: {} 1-row UPDATEs per method, {} x {}-row UPDATEs; writes: {} statements per kind",
        m.single_visible.batches,
        m.large_visible.batches,
        m.large_visible.batch_size,
        m.writes.iter().map(|w| w.plain.batches.to_string()).collect::<Vec<_>>().join("/")
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "{:<56} {:>12} {:>12} {:>10} {:>10} {:>5}", "metric", "freshet", "PostgreSQL", "ratio", "target", "met");
    for l in &r.table {
        let _ = writeln!(
            s,
            "{:<56} {:>12} {:>12} {:>10} {:>10} {:>5}",
            l.metric,
            cell(l.freshet),
            cell(l.postgres),
            ratio_cell(l.ratio),
            l.target.as_deref().unwrap_or("-"),
            l.met.map_or("-", |m| if m { "yes" } else { "NO" })
        );
    }
    let _ = writeln!(
        s,
        "(ratio: PostgreSQL / freshet for times, above 1 freshet is faster; PostgreSQL's fresh-view times are \
         its UPDATE on the uncaptured twin plus a full REFRESH. For writes: plain rate / captured rate, the \
         slowdown from capture.)"
    );
    let _ = writeln!(
        s,
        "memory: RSS {} MiB before the adapter started, peak {} MiB, {} MiB after, for {} source rows",
        cell(m.memory.rss_before_mib),
        cell(m.memory.peak_mib),
        cell(m.memory.rss_after_mib),
        m.memory.source_rows
    );
    let _ = writeln!(
        s,
        "restarts: first round {:.3} s (backlog), {:.3} s (one change); whole run {:.1} s",
        m.backlog.first_round_s, m.one.first_round_s, m.total_s
    );
    for p in &m.profiles {
        let _ = writeln!(
            s,
            "rounds, {}: {} rounds, {} change-log rows and {:.2} ms each (p50); stages p50 / p99 / mean (ms): {}",
            p.phase,
            p.rounds,
            p.changes_p50,
            p.total_p50_ms,
            p.stages
                .iter()
                .map(|f| format!("{} {:.2} / {:.2} / {:.2}", f.stage, f.p50_ms, f.p99_ms, f.mean_ms))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(s);
    let met: Vec<&str> = r.targets().into_iter().filter(|(_, ok)| !ok).map(|(n, _)| n).collect();
    if met.is_empty() {
        let _ = writeln!(s, "targets: all met");
    } else {
        let _ = writeln!(s, "targets NOT met: {}", met.join("; "));
    }
    let c = &m.check;
    let _ = writeln!(
        s,
        "check view table vs PostgreSQL's SELECT: {} (EXCEPT ALL: {} rows only in the view, {} only in the query; \
         text rows: {} expected, {} found)",
        if c.matches { "OK" } else { "MISMATCH" },
        c.view_except_query,
        c.query_except_view,
        c.text.expected_rows,
        c.text.actual_rows
    );
    write_differing_rows(&mut s, &c.text);
    write_verdict(&mut s, r.correct);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::compare;
    use std::time::Duration;

    fn stats(rows: usize, ms: u64) -> BatchStats {
        BatchStats::new(rows, &[Duration::from_millis(ms); 4])
    }

    fn measured(single_ms: u64, large_ms: u64, captured_ms: u64) -> Measured {
        let write = WriteFigures {
            statement: "UPDATE".into(),
            rows_per_statement: 1,
            plain: stats(1, 10),
            captured: stats(1, captured_ms),
            slowdown: captured_ms as f64 / 10.0,
        };
        Measured {
            invoices: 10,
            lines: 100,
            seed: 1,
            workers: 1,
            server_version: "PostgreSQL 15".into(),
            synchronous_commit: "off".into(),
            load_s: 1.0,
            pg_create_s: 1.0,
            refresh_s: 0.8,
            refreshes_s: vec![0.8, 0.9],
            create_s: 2.0,
            start_s: 3.0,
            memory: MemoryFigures::new(Some(10.0), Some(110.0), Some(60.0), 1 << 20),
            single_visible: stats(1, single_ms),
            single_statement: stats(1, 1),
            single_sync: stats(1, single_ms + 1),
            large_visible: stats(10_000, large_ms),
            large_statement: stats(10_000, 50),
            pg_single_update_ms: Some(0.1),
            pg_bulk_update_ms: Some(60.0),
            writes: vec![write],
            profiles: vec![],
            backlog: RestartFigures { pending_log_rows: 5, first_round_s: 1.0, current_s: 1.5 },
            one: RestartFigures { pending_log_rows: 1, first_round_s: 1.0, current_s: 1.2 },
            check: Check {
                view_except_query: 0,
                query_except_view: 0,
                text: compare("t", &["a".into()], &["a".into()]),
                matches: true,
            },
            total_s: 9.0,
        }
    }

    #[test]
    fn targets_are_judged_from_the_figures() {
        let r = AdapterReport::new(measured(2, 150, 12));
        let get = |m: &str| r.table.iter().find(|l| l.metric.starts_with(m)).unwrap_or_else(|| panic!("{m}"));
        let fresh = get("1-row UPDATE -> view row shows it, p50");
        assert!((fresh.postgres.unwrap() - 800.1).abs() < 1e-9);
        assert!((fresh.ratio.unwrap() - 400.05).abs() < 1e-9);
        assert_eq!(fresh.met, Some(true));
        assert_eq!(get("10000-row UPDATE -> `sync` returns, p50").met, Some(true));
        let w = get("UPDATE 1-row statements");
        assert!((w.ratio.unwrap() - 1.2).abs() < 1e-9);
        assert_eq!(w.met, Some(true));
        assert_eq!(get("  peak above baseline per source row").freshet, Some(100.0));
        assert_eq!(get("  held above baseline per source row").freshet, Some(50.0));
        assert!(render(&r).contains("targets: all met"));
        assert!(render(&r).ends_with("verdict: CORRECT\n"));

        let r = AdapterReport::new(measured(4, 250, 14));
        let missed: Vec<&str> = r.targets().into_iter().filter(|(_, ok)| !ok).map(|(n, _)| n).collect();
        assert_eq!(missed.len(), 4, "{missed:?}");
        let text = render(&r);
        assert!(text.contains("targets NOT met: 1-row UPDATE -> view row shows it, p50 (ms)"));
        for l in &r.table {
            assert!(text.contains(&l.metric), "{}", l.metric);
        }
    }

    #[test]
    fn round_profiles_take_medians_and_means_per_stage() {
        use std::time::Duration;
        let round = |changes: usize, read: u64, write: Option<u64>| freshet_postgres::StepReport {
            changes_read: changes,
            stages: std::iter::once(("read_log", Duration::from_millis(read)))
                .chain(write.map(|w| ("write", Duration::from_millis(w))))
                .collect(),
            ..Default::default()
        };
        let rounds = [round(2, 1, Some(4)), round(0, 50, None), round(2, 3, None), round(4, 2, Some(8))];
        let p = RoundProfile::new("phase", &rounds);
        assert_eq!((p.rounds, p.changes_p50), (3, 2.0), "the round that read nothing is left out");
        let stage = |n: &str| p.stages.iter().find(|s| s.stage == n).unwrap_or_else(|| panic!("{n}"));
        assert_eq!((stage("read_log").p50_ms, stage("read_log").mean_ms), (2.0, 2.0));
        assert_eq!(stage("write").p50_ms, 4.0);
        assert!((stage("write").mean_ms - 4.0).abs() < 1e-9, "a round without the stage counts 0");
        assert_eq!(p.total_p50_ms, 5.0);
        assert_eq!(RoundProfile::of("all", &rounds).rounds, 4);
    }
}
