//! Failure isolation for evaluation errors, refresh policies (continuous,
//! every INTERVAL, on-demand), pause and resume, `status` and
//! `freshet.view_status`, and the pruning of refresh history.

mod common;

use std::time::{Duration, Instant};

use common::{differences, RunningAdapter, Rng, TestDb};
use freshet_postgres::{
    alter_refresh, create_view, create_view_with, pause, resume, AdapterConfig, PgError, RefreshPolicy, Resumed,
    ViewOptions,
};
use postgres::Client;

fn sync_views(c: &mut Client, names: &[&str]) -> Result<(), PgError> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    freshet_postgres::sync(c, &names, Duration::from_secs(30))
}

fn count(c: &mut Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

fn with_policy(c: &mut Client, name: &str, sql: &str, policy: &str) {
    let refresh = RefreshPolicy::parse(c, policy).unwrap();
    let options = ViewOptions { refresh, ..ViewOptions::default() };
    create_view_with(c, name, sql, &options, &mut |_| {}).unwrap_or_else(|e| panic!("create {name}: {e}"));
}

fn state(c: &mut Client, name: &str) -> (String, Option<String>) {
    let r = c.query_one("SELECT state, error FROM freshet.view_status WHERE name = $1", &[&name]).unwrap();
    (r.get(0), r.get(1))
}

/// Random writes to `t(id, a, b)`: inserts, updates and deletes of ids
/// below 500, never a zero `b`.
fn write_t(c: &mut Client, rng: &mut Rng) {
    let mut tx = c.transaction().unwrap();
    for _ in 0..1 + rng.below(3) {
        let stmt = match rng.below(4) {
            0 | 1 => format!(
                "INSERT INTO t VALUES ({}, {}, {}) ON CONFLICT (id) DO UPDATE SET a = excluded.a",
                rng.below(200),
                rng.below(50),
                1 + rng.below(9)
            ),
            2 => format!("UPDATE t SET a = a + 1, b = {} WHERE id < 500 AND id % 7 = {}", 1 + rng.below(9), rng.below(7)),
            _ => format!("DELETE FROM t WHERE id < 500 AND id % 11 = {}", rng.below(11)),
        };
        tx.batch_execute(&stmt).unwrap();
    }
    tx.commit().unwrap();
}

const T: &str = "CREATE TABLE t (id int PRIMARY KEY, a int, b int);
                 INSERT INTO t SELECT g, g % 13, 1 + g % 5 FROM generate_series(1, 60) g;";
const RATIO: &str = "SELECT id, a / b AS r FROM t";
const SUMS: &str = "SELECT b, count(*) AS n, sum(a) AS s FROM t GROUP BY b";

#[test]
fn refresh_policies_parse() {
    let Some(db) = TestDb::create("policyparse") else { return };
    let mut c = db.connect();
    assert_eq!(RefreshPolicy::parse(&mut c, "continuous").unwrap(), RefreshPolicy::Continuous);
    assert_eq!(RefreshPolicy::parse(&mut c, " On-Demand ").unwrap(), RefreshPolicy::OnDemand);
    let every = RefreshPolicy::parse(&mut c, "every 5 minutes").unwrap();
    assert_eq!(every, RefreshPolicy::Every { text: "00:05:00".into(), period: Duration::from_secs(300) });
    assert_eq!(every.to_string(), "every 00:05:00");
    let second = RefreshPolicy::parse(&mut c, "every 1 second").unwrap();
    assert!(matches!(second, RefreshPolicy::Every { period, .. } if period == Duration::from_secs(1)));
    for bad in ["every banana", "sometimes", "every", "every -1 second", "every 0 seconds"] {
        let e = RefreshPolicy::parse(&mut c, bad).unwrap_err();
        assert!(matches!(e, PgError::Usage(_)), "{bad}: {e}");
    }
}

#[test]
fn division_by_zero_fails_the_view_alone_and_resume_rebuilds_it() {
    let Some(db) = TestDb::create("evalfail") else { return };
    let mut c = db.connect();
    c.batch_execute(T).unwrap();
    create_view(&mut c, "ratio", RATIO, "public", &mut |_| {}).unwrap();
    create_view(&mut c, "sums", SUMS, "public", &mut |_| {}).unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    c.batch_execute("INSERT INTO t VALUES (100, 7, 2)").unwrap();
    sync_views(&mut c, &[]).unwrap();
    assert_eq!(differences(&mut c, "ratio", RATIO), 0);

    // A zero divisor: the view fails with PostgreSQL's message, its table
    // keeps the last consistent state.
    c.batch_execute("INSERT INTO t VALUES (999, 1, 0); UPDATE t SET a = 40 WHERE id = 100").unwrap();
    let err = sync_views(&mut c, &["ratio"]).unwrap_err();
    assert!(matches!(&err, PgError::ViewFailed { view, reason } if view == "ratio" && reason == "division by zero"), "{err}");
    assert_eq!(state(&mut c, "ratio"), ("failed".into(), Some("division by zero".into())));
    let before = "SELECT id, CASE WHEN id = 100 THEN 3 ELSE a / b END AS r FROM t WHERE id <> 999";
    assert_eq!(differences(&mut c, "ratio", before), 0, "the failed view keeps its last state");
    let failures = count(&mut c, "SELECT count(*) FROM freshet.history WHERE view_name = 'ratio' AND error = 'division by zero'");
    assert_eq!(failures, 1);

    // The other view and the adapter go on.
    let mut rng = Rng::new(5);
    for _ in 0..10 {
        write_t(&mut c, &mut rng);
    }
    sync_views(&mut c, &["sums"]).unwrap();
    assert_eq!(differences(&mut c, "sums", SUMS), 0);
    let err = sync_views(&mut c, &[]).unwrap_err();
    assert!(matches!(err, PgError::ViewFailed { .. }), "sync of every view reports the failed one: {err}");

    // Resumed while the row is still there: it fails again.
    assert_eq!(resume(&mut c, "ratio").unwrap(), Resumed::Rebuilding { was: "division by zero".into() });
    let err = sync_views(&mut c, &["ratio"]).unwrap_err();
    assert!(matches!(&err, PgError::ViewFailed { reason, .. } if reason == "division by zero"), "{err}");

    // Without the row, resume rebuilds it exactly.
    c.batch_execute("DELETE FROM t WHERE b = 0").unwrap();
    assert!(matches!(resume(&mut c, "ratio").unwrap(), Resumed::Rebuilding { .. }));
    sync_views(&mut c, &["ratio"]).unwrap();
    assert_eq!(state(&mut c, "ratio"), ("ok".into(), None));
    assert_eq!(differences(&mut c, "ratio", RATIO), 0);
    for _ in 0..10 {
        write_t(&mut c, &mut rng);
    }
    sync_views(&mut c, &[]).unwrap();
    assert_eq!(differences(&mut c, "ratio", RATIO), 0);
    assert_eq!(differences(&mut c, "sums", SUMS), 0);
    assert_eq!(resume(&mut c, "ratio").unwrap(), Resumed::AlreadyRunning);
}

#[test]
fn a_paused_view_holds_its_changes_and_catches_up_exactly() {
    let Some(db) = TestDb::create("pause") else { return };
    let mut c = db.connect();
    c.batch_execute(T).unwrap();
    create_view(&mut c, "ratio", RATIO, "public", &mut |_| {}).unwrap();
    create_view(&mut c, "sums", SUMS, "public", &mut |_| {}).unwrap();
    let adapter = RunningAdapter::start(&db.url);
    sync_views(&mut c, &[]).unwrap();
    pause(&mut c, "sums").unwrap();
    let frozen: Vec<(i32, i64)> = c
        .query("SELECT b, n FROM sums ORDER BY b", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut rng = Rng::new(11);
    for _ in 0..15 {
        write_t(&mut c, &mut rng);
    }
    // `sync` of every view skips paused ones; naming one is an error.
    sync_views(&mut c, &[]).unwrap();
    assert_eq!(differences(&mut c, "ratio", RATIO), 0);
    let err = sync_views(&mut c, &["sums"]).unwrap_err();
    assert!(err.to_string().contains("paused"), "{err}");
    let now: Vec<(i32, i64)> =
        c.query("SELECT b, n FROM sums ORDER BY b", &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(now, frozen, "a paused view's table is not written");
    assert!(differences(&mut c, "sums", SUMS) > 0, "the writes changed the query's result");
    let st = freshet_postgres::status(&mut c).unwrap();
    let sums = st.iter().find(|s| s.name == "sums").unwrap();
    assert_eq!((sums.state.as_str(), sums.current), ("paused", false));
    assert!(sums.lag_seconds > 0.0 && sums.lag_xids > 0, "{sums:?}");

    // Held across a restart of the adapter too.
    drop(adapter);
    for _ in 0..5 {
        write_t(&mut c, &mut rng);
    }
    let _adapter = RunningAdapter::start(&db.url);
    sync_views(&mut c, &["ratio"]).unwrap();
    let now: Vec<(i32, i64)> =
        c.query("SELECT b, n FROM sums ORDER BY b", &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(now, frozen, "still not written after a restart");

    assert_eq!(resume(&mut c, "sums").unwrap(), Resumed::Unpaused);
    sync_views(&mut c, &["sums"]).unwrap();
    assert_eq!(differences(&mut c, "sums", SUMS), 0, "caught up exactly");
    let st = freshet_postgres::status(&mut c).unwrap();
    let sums = st.iter().find(|s| s.name == "sums").unwrap();
    assert_eq!((sums.state.as_str(), sums.current, sums.lag_seconds, sums.lag_xids), ("ok", true, 0.0, 0));
}

#[test]
fn an_on_demand_view_is_written_only_when_synced() {
    let Some(db) = TestDb::create("ondemand") else { return };
    let mut c = db.connect();
    c.batch_execute(T).unwrap();
    with_policy(&mut c, "sums", SUMS, "on-demand");
    create_view(&mut c, "ratio", RATIO, "public", &mut |_| {}).unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    let mut rng = Rng::new(3);
    for round in 0..3 {
        let before = count(&mut c, "SELECT count(*) FROM freshet.history WHERE view_name = 'sums'");
        for _ in 0..8 {
            write_t(&mut c, &mut rng);
        }
        // The adapter has applied the writes (the continuous view shows
        // them), but the on-demand view is not written.
        sync_views(&mut c, &["ratio"]).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        assert!(differences(&mut c, "sums", SUMS) > 0, "round {round}: written without a sync");
        assert_eq!(count(&mut c, "SELECT count(*) FROM freshet.history WHERE view_name = 'sums'"), before);
        sync_views(&mut c, &["sums"]).unwrap();
        assert_eq!(differences(&mut c, "sums", SUMS), 0, "round {round}: sync brings it current");
        assert_eq!(count(&mut c, "SELECT count(*) FROM freshet.history WHERE view_name = 'sums'"), before + 1);
    }
    // Back to continuous: written without asking.
    alter_refresh(&mut c, "sums", &RefreshPolicy::Continuous).unwrap();
    for _ in 0..5 {
        write_t(&mut c, &mut rng);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while differences(&mut c, "sums", SUMS) != 0 {
        assert!(Instant::now() < deadline, "a continuous view catches up without sync");
        std::thread::sleep(Duration::from_millis(100));
    }
    let refresh: String = c.query_one("SELECT refresh FROM freshet.view_status WHERE name = 'sums'", &[]).unwrap().get(0);
    assert_eq!(refresh, "continuous");
}

#[test]
fn an_every_interval_view_is_written_at_most_once_per_interval() {
    let Some(db) = TestDb::create("every") else { return };
    let mut c = db.connect();
    c.batch_execute(T).unwrap();
    with_policy(&mut c, "sums", SUMS, "every 2 seconds");
    let _adapter = RunningAdapter::start(&db.url);
    let mut rng = Rng::new(9);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        write_t(&mut c, &mut rng);
        std::thread::sleep(Duration::from_millis(100));
    }
    // Without a sync, it catches up within one interval of the last write.
    let deadline = Instant::now() + Duration::from_secs(6);
    while differences(&mut c, "sums", SUMS) != 0 {
        assert!(Instant::now() < deadline, "written within its interval");
        std::thread::sleep(Duration::from_millis(100));
    }
    let writes: Vec<f64> = c
        .query(
            "SELECT extract(epoch FROM started_at + make_interval(secs => duration_ms / 1000.0))::float8 \
             FROM freshet.history WHERE view_name = 'sums' AND error IS NULL ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!((2..=5).contains(&writes.len()), "about one write per 2 s over 5 s of writes: {writes:?}");
    for w in writes.windows(2) {
        assert!(w[1] - w[0] >= 1.9, "two writes {:.3} s apart: {writes:?}", w[1] - w[0]);
    }
    let status = freshet_postgres::status(&mut c).unwrap();
    assert_eq!(status[0].refresh, "every 00:00:02");
    // `sync` writes it at once.
    write_t(&mut c, &mut rng);
    let t = Instant::now();
    sync_views(&mut c, &["sums"]).unwrap();
    assert_eq!(differences(&mut c, "sums", SUMS), 0);
    assert!(t.elapsed() < Duration::from_secs(2), "sync does not wait for the interval");
}

#[test]
fn status_view_and_history_retention() {
    let Some(db) = TestDb::create("status") else { return };
    let mut c = db.connect();
    c.batch_execute(T).unwrap();
    create_view(&mut c, "sums", SUMS, "public", &mut |_| {}).unwrap();
    with_policy(&mut c, "ratio", RATIO, "on-demand");
    c.batch_execute(
        "INSERT INTO freshet.history (view_name, started_at, duration_ms, changes_read, rows_changed) \
         VALUES ('sums', now() - interval '3 days', 1, 1, 1), ('sums', now() - interval '1 hour', 1, 1, 1)",
    )
    .unwrap();
    let config = AdapterConfig {
        poll_interval: Duration::from_millis(200),
        history_retention: Duration::from_secs(2 * 24 * 3600),
        ..AdapterConfig::default()
    };
    let _adapter = RunningAdapter::start_with(&db.url, config);
    sync_views(&mut c, &["sums"]).unwrap();
    c.batch_execute("INSERT INTO t VALUES (1000, 5, 5), (1001, 6, 5)").unwrap();
    sync_views(&mut c, &["sums"]).unwrap();
    let old = count(&mut c, "SELECT count(*) FROM freshet.history WHERE started_at < now() - interval '2 days'");
    assert_eq!(old, 0, "history older than the retention is pruned");
    let recent = count(&mut c, "SELECT count(*) FROM freshet.history WHERE started_at < now() - interval '30 minutes'");
    assert_eq!(recent, 1, "newer history is kept");
    let last = c
        .query_one(
            "SELECT changes_read, rows_changed, error IS NULL, duration_ms > 0 FROM freshet.history \
             WHERE view_name = 'sums' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .unwrap();
    let (changes, rows, ok, timed): (i64, i64, bool, bool) = (last.get(0), last.get(1), last.get(2), last.get(3));
    assert_eq!((changes, rows, ok, timed), (2, 1, true, true), "two inserts change one group: one row updated");

    let st = freshet_postgres::status(&mut c).unwrap();
    let names: Vec<&str> = st.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ratio", "sums"]);
    let sums = &st[1];
    assert_eq!((sums.state.as_str(), sums.refresh.as_str(), sums.table.as_str()), ("ok", "continuous", "public.sums"));
    assert_eq!(sums.rows, count(&mut c, "SELECT count(*) FROM sums"));
    assert!(sums.refreshed_at.is_some() && sums.refresh_ms.is_some());
    let ratio = &st[0];
    assert_eq!(ratio.refresh, "on-demand");
    assert_eq!(ratio.rows, 60, "row count as of its frontier (not yet synced)");
    // The same facts in SQL.
    let row = c
        .query_one(
            "SELECT state, refresh, rows, lag_seconds >= 0, lag_xids >= 0, frontier IS NOT NULL, refreshed_at IS NOT NULL \
             FROM freshet.view_status WHERE name = 'sums'",
            &[],
        )
        .unwrap();
    let got: (String, String, i64, bool, bool, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5), row.get(6));
    assert_eq!(got, ("ok".into(), "continuous".into(), sums.rows, true, true, true, true));
    sync_views(&mut c, &["ratio"]).unwrap();
    let rows: i64 = c.query_one("SELECT rows FROM freshet.view_status WHERE name = 'ratio'", &[]).unwrap().get(0);
    assert_eq!(rows, 62);
}

#[test]
fn create_view_reports_load_progress() {
    let Some(db) = TestDb::create("progress") else { return };
    let mut c = db.connect();
    c.batch_execute("CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g; ANALYZE big")
        .unwrap();
    let mut events: Vec<String> = Vec::new();
    let mut last_read = 0;
    create_view(&mut c, "big_v", "SELECT v, count(*) AS n FROM big GROUP BY v", "public", &mut |p| match p {
        freshet_postgres::LoadProgress::Read { rows } => {
            assert!(rows >= last_read, "rows read only grow");
            last_read = rows;
        }
        freshet_postgres::LoadProgress::Reading { table, estimated_rows } => {
            events.push(format!("reading {table} ~{estimated_rows:?}"))
        }
        freshet_postgres::LoadProgress::Computing => events.push("computing".into()),
        freshet_postgres::LoadProgress::Writing { rows } => events.push(format!("writing {rows}")),
    })
    .unwrap();
    assert_eq!(last_read, 20000, "every row counted");
    assert_eq!(
        events,
        ["reading \"public\".\"big\" ~Some(20000)", "computing", "writing 1"]
    );
}
