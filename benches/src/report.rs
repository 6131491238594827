//! The comparison table (printed) and the JSON report.

use std::fmt::Write;

use serde::Serialize;

use crate::check::Comparison;
use crate::freshet_run::FreshetFigures;
use crate::pg::PgFigures;

/// What was run.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    /// Invoices generated.
    pub invoices: usize,
    /// Lines generated.
    pub lines: usize,
    /// The generator's seed.
    pub seed: u64,
    /// Timely worker threads.
    pub workers: usize,
    /// Logical CPUs of the machine.
    pub cpus: usize,
    /// `(batch size, batches)` in the order applied.
    pub schedule: Vec<(usize, usize)>,
}

/// One line of the comparison: a figure on each system, and how many times
/// better freshet is than PostgreSQL (`> 1`: freshet is better).
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    /// What is measured, with its unit.
    pub metric: String,
    /// The engine runtime's figure.
    pub engine: Option<f64>,
    /// The embedded database's figure.
    pub database: Option<f64>,
    /// PostgreSQL's figure.
    pub postgres: Option<f64>,
    /// PostgreSQL ÷ engine for times, engine ÷ PostgreSQL for rates.
    pub engine_advantage: Option<f64>,
    /// The same for the embedded database.
    pub database_advantage: Option<f64>,
}

/// The whole report, as written with `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What was run.
    pub run: RunInfo,
    /// The engine runtime's figures.
    pub engine: Option<FreshetFigures>,
    /// The embedded database's figures.
    pub database: Option<FreshetFigures>,
    /// PostgreSQL's figures (absent with `--no-postgres`).
    pub postgres: Option<PgFigures>,
    /// The comparison table.
    pub table: Vec<Line>,
    /// Correctness checks of the final view contents.
    pub checks: Vec<Comparison>,
    /// True if every check matched.
    pub correct: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Better {
    Lower,
    Higher,
}

fn line(metric: String, better: Better, e: Option<f64>, d: Option<f64>, p: Option<f64>) -> Line {
    let adv = |f: Option<f64>| match (f, p) {
        (Some(f), Some(p)) if f > 0.0 && p > 0.0 => Some(if better == Better::Lower { p / f } else { f / p }),
        _ => None,
    };
    Line { engine_advantage: adv(e), database_advantage: adv(d), metric, engine: e, database: d, postgres: p }
}

/// Builds the comparison table from the figures present.
pub fn table(e: Option<&FreshetFigures>, d: Option<&FreshetFigures>, p: Option<&PgFigures>) -> Vec<Line> {
    use Better::{Higher, Lower};
    let mut out = vec![
        line("load (s)".into(), Lower, e.map(|f| f.load_s), d.map(|f| f.load_s), p.map(|f| f.load_s)),
        line(
            "view build over loaded tables (s)".into(),
            Lower,
            e.map(|f| f.build_s),
            d.map(|f| f.build_s),
            p.map(|f| f.create_view_s),
        ),
        line("full refresh (s)".into(), Lower, None, None, p.map(|f| f.refresh_s)),
    ];
    let sizes: Vec<usize> = e.or(d).map(|f| f.batches.iter().map(|b| b.batch_size).collect()).unwrap_or_default();
    for (i, size) in sizes.iter().enumerate() {
        let eb = e.and_then(|f| f.batches.get(i));
        let db = d.and_then(|f| f.batches.get(i));
        let pb = p.and_then(|f| f.batches.get(i));
        out.push(line(
            format!("batch {size}: changes/s"),
            Higher,
            eb.map(|b| b.changes_per_sec),
            db.map(|b| b.changes_per_sec),
            pb.map(|b| b.changes_per_sec),
        ));
        for (name, get) in [
            ("p50", (|b: &crate::stats::BatchStats| b.p50_ms) as fn(&crate::stats::BatchStats) -> f64),
            ("p99", |b| b.p99_ms),
            ("max", |b| b.max_ms),
        ] {
            out.push(line(
                format!("batch {size}: latency {name} (ms)"),
                Lower,
                eb.map(get),
                db.map(get),
                pb.map(get),
            ));
        }
        // A fresh view after the batch: freshet's batch latency against
        // PostgreSQL's statement latency plus one full refresh.
        out.push(line(
            format!("batch {size}: view fresh after, p50 (ms)"),
            Lower,
            eb.map(|b| b.p50_ms),
            db.map(|b| b.p50_ms),
            pb.zip(p).map(|(b, f)| b.p50_ms + f.refresh_s * 1e3),
        ));
    }
    out.push(line("peak RSS (MiB)".into(), Lower, e.and_then(|f| f.peak_rss_mib), d.and_then(|f| f.peak_rss_mib), None));
    out
}

/// A figure in a text table: `-` when absent, fewer decimals the larger
/// it is.
pub(crate) fn cell(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(0.0) => "0".into(),
        Some(v) if v.abs() >= 1e5 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.3}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// A ratio in a text table: `2.50x`, `-` when absent.
pub(crate) fn ratio_cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

/// The rows a comparison found missing and unexpected, one line each.
pub(crate) fn write_differing_rows(s: &mut String, c: &Comparison) {
    for m in &c.missing {
        let _ = writeln!(s, "  missing:    {m}");
    }
    for u in &c.unexpected {
        let _ = writeln!(s, "  unexpected: {u}");
    }
}

/// The last line of a report.
pub(crate) fn write_verdict(s: &mut String, correct: bool) {
    let _ = writeln!(s, "verdict: {}", if correct { "CORRECT" } else { "WRONG RESULTS" });
}

/// The table as text: one line per metric, ratios as "how many times
/// better than PostgreSQL".
pub fn render(report: &Report) -> String {
    let r = &report.run;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "invoices workload: {} invoices, {} lines, seed {}, {} worker(s), {} CPU(s)",
        r.invoices, r.lines, r.seed, r.workers, r.cpus
    );
    let sched: Vec<String> = r.schedule.iter().map(|(size, n)| format!("{n} x {size}")).collect();
    let _ = writeln!(s, "batches (count x changes): {}", sched.join(", "));
    if let Some(p) = &report.postgres {
        let _ = writeln!(s, "PostgreSQL: {} (synchronous_commit {})", p.server_version, p.synchronous_commit);
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<38} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "metric", "engine", "database", "PostgreSQL", "PG/engine", "PG/db"
    );
    for l in &report.table {
        let _ = writeln!(
            s,
            "{:<38} {:>12} {:>12} {:>12} {:>10} {:>10}",
            l.metric,
            cell(l.engine),
            cell(l.database),
            cell(l.postgres),
            ratio_cell(l.engine_advantage),
            ratio_cell(l.database_advantage)
        );
    }
    let _ = writeln!(s, "(ratios: how many times faster freshet is than PostgreSQL; > 1 is better)");
    for f in [&report.engine, &report.database].into_iter().flatten() {
        if let (Some(start), Some(peak)) = (f.rss_at_start_mib, f.peak_rss_mib) {
            let _ = writeln!(s, "{}: RSS at start {start:.0} MiB, peak {peak:.0} MiB", f.mode);
        }
    }
    let _ = writeln!(s);
    for c in &report.checks {
        let verdict = if c.matches { "OK" } else { "MISMATCH" };
        let _ = writeln!(s, "check {}: {verdict} ({} rows expected, {} found)", c.what, c.expected_rows, c.actual_rows);
        write_differing_rows(&mut s, c);
    }
    write_verdict(&mut s, report.correct);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::BatchStats;
    use std::time::Duration;

    fn figures(mode: &str, scale: u64) -> FreshetFigures {
        FreshetFigures {
            mode: mode.into(),
            workers: 1,
            load_s: 2.0,
            build_s: 0.5,
            batches: vec![BatchStats::new(1, &[Duration::from_micros(50 * scale); 10])],
            rss_at_start_mib: Some(10.0),
            peak_rss_mib: Some(100.0),
        }
    }

    #[test]
    fn advantages_are_oriented_so_that_above_one_means_freshet_wins() {
        let e = figures("engine", 1);
        let p = PgFigures {
            server_version: "PostgreSQL 15".into(),
            synchronous_commit: "off".into(),
            load_s: 4.0,
            create_view_s: 1.0,
            refresh_s: 1.0,
            batches: vec![BatchStats::new(1, &[Duration::from_micros(500); 10])],
        };
        let t = table(Some(&e), None, Some(&p));
        let get = |m: &str| t.iter().find(|l| l.metric == m).unwrap_or_else(|| panic!("{m}"));
        assert_eq!(get("load (s)").engine_advantage, Some(2.0));
        assert_eq!(get("view build over loaded tables (s)").engine_advantage, Some(2.0));
        let thr = get("batch 1: changes/s").engine_advantage.unwrap();
        assert!((thr - 10.0).abs() < 1e-9, "{thr}");
        let lat = get("batch 1: latency p50 (ms)").engine_advantage.unwrap();
        assert!((lat - 10.0).abs() < 1e-9, "{lat}");
        let fresh = get("batch 1: view fresh after, p50 (ms)");
        assert!((fresh.postgres.unwrap() - 1000.5).abs() < 1e-9);
        assert_eq!(get("batch 1: latency p50 (ms)").database_advantage, None);
        assert_eq!(get("full refresh (s)").engine, None);
        assert_eq!(get("peak RSS (MiB)").engine, Some(100.0));
    }

    #[test]
    fn render_prints_every_metric_and_the_verdict() {
        let e = figures("engine", 1);
        let report = Report {
            run: RunInfo { invoices: 10, lines: 20, seed: 1, workers: 1, cpus: 2, schedule: vec![(1, 10)] },
            table: table(Some(&e), None, None),
            engine: Some(e),
            database: None,
            postgres: None,
            checks: vec![crate::check::compare("engine vs reference", &["a".into()], &["b".into()])],
            correct: false,
        };
        let text = render(&report);
        for l in &report.table {
            assert!(text.contains(&l.metric), "{}", l.metric);
        }
        assert!(text.contains("check engine vs reference: MISMATCH"));
        assert!(text.contains("missing:    a") && text.contains("unexpected: b"));
        assert!(text.ends_with("verdict: WRONG RESULTS\n"));
    }
}
