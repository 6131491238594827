//! Concurrent writers with a long transaction, and an adapter killed with
//! SIGKILL at random points: nothing lost, nothing doubled.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{differences, sync, RunningAdapter, Rng, TestDb};
use freshet_postgres::{create_view, Adapter, AdapterConfig};
use postgres::Client;

const SCHEMA: &str = "
    CREATE TABLE invoice (id int PRIMARY KEY, total numeric(12,2));
    CREATE TABLE line (invoice_id int, amount numeric(12,2), qty int);
    INSERT INTO invoice SELECT g, g % 17 FROM generate_series(1, 50) g;
";

const VIEWS: &[(&str, &str)] = &[
    (
        "balance",
        "SELECT i.id, count(l.amount) AS n, sum(l.amount * l.qty) AS value, \
         coalesce(sum(l.amount), 0) = i.total AS balanced FROM invoice i LEFT JOIN line l ON l.invoice_id = i.id \
         GROUP BY i.id, i.total",
    ),
    ("totals", "SELECT count(*) AS n, sum(amount) AS s, sum(qty) AS q FROM line"),
    ("lines", "SELECT invoice_id, amount FROM line WHERE qty > 1"),
];

fn setup(db: &TestDb) -> Client {
    let mut c = db.connect();
    c.batch_execute(SCHEMA).unwrap();
    for (name, query) in VIEWS {
        create_view(&mut c, name, query, "public", &mut |_| {}).unwrap();
    }
    c
}

fn check(c: &mut Client, when: &str) {
    for (name, query) in VIEWS {
        assert_eq!(differences(c, name, query), 0, "view {name} differs from PostgreSQL's result {when}");
    }
}

/// One writer transaction: a few inserts, an update of a join key or a
/// delete; rolled back one time in six.
fn write(c: &mut Client, rng: &mut Rng, tag: u64) {
    let mut tx = c.transaction().unwrap();
    for _ in 0..1 + rng.below(3) {
        let (inv, amount, qty) = (1 + rng.below(55), rng.below(1000), 1 + rng.below(3));
        tx.batch_execute(&format!("INSERT INTO line VALUES ({inv}, {amount}.{tag:02}, {qty})")).unwrap();
    }
    match rng.below(4) {
        0 => {
            let (to, m) = (1 + rng.below(55), rng.below(13));
            tx.batch_execute(&format!("UPDATE line SET invoice_id = {to} WHERE invoice_id % 13 = {m} AND qty = 2"))
                .unwrap()
        }
        1 => {
            let a = rng.below(100);
            tx.batch_execute(&format!("DELETE FROM line WHERE amount < {a} AND qty = 3")).unwrap()
        }
        _ => {}
    }
    if rng.chance(16) {
        tx.rollback().unwrap();
    } else {
        tx.commit().unwrap();
    }
}

#[test]
fn eight_writers_and_a_long_transaction_lose_nothing() {
    let Some(db) = TestDb::create("concurrent") else { return };
    let mut c = setup(&db);
    let _adapter = RunningAdapter::start(&db.url);
    // The long transaction starts first (it has an xid before every
    // writer) and commits last.
    let mut long = db.connect();
    long.batch_execute("BEGIN; INSERT INTO line VALUES (1, 0.99, 2)").unwrap();
    let writers: Vec<_> = (0..8u64)
        .map(|w| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let mut c = freshet_postgres::connect(&url).unwrap();
                let mut rng = Rng::new(100 + w);
                for _ in 0..40 {
                    write(&mut c, &mut rng, w);
                }
            })
        })
        .collect();
    for _ in 0..5 {
        sync(&mut c);
        std::thread::sleep(Duration::from_millis(50));
    }
    for w in writers {
        w.join().unwrap();
    }
    sync(&mut c);
    check(&mut c, "with the long transaction still open");
    long.batch_execute("INSERT INTO line VALUES (2, 0.98, 3); COMMIT").unwrap();
    sync(&mut c);
    check(&mut c, "after the long transaction committed");
    let long_rows: i64 = c.query_one("SELECT count(*) FROM lines WHERE amount IN (0.99, 0.98)", &[]).unwrap().get(0);
    assert_eq!(long_rows, 2, "the long transaction's rows reached the view");
}

/// The adapter as a child process, for the crash test: run only by the
/// parent test, with `FRESHET_CHILD_URL` set.
#[test]
#[ignore = "child process of the crash test, which runs it with FRESHET_CHILD_URL"]
fn adapter_child() {
    let url = std::env::var("FRESHET_CHILD_URL").expect("run by the crash test, which sets FRESHET_CHILD_URL");
    let config = AdapterConfig {
        poll_interval: Duration::from_millis(100),
        lock_wait: Duration::from_secs(30),
        ..AdapterConfig::default()
    };
    let mut adapter = Adapter::connect(&url, config).unwrap();
    adapter.run(&AtomicBool::new(false)).unwrap();
}

fn spawn_child(url: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["adapter_child", "--ignored", "--exact", "--nocapture", "--test-threads=1"])
        .env("FRESHET_CHILD_URL", url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn kill_9_at_random_points_converges_exactly() {
    let Some(db) = TestDb::create("crash") else { return };
    let mut c = setup(&db);
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (url, done) = (db.url.clone(), done.clone());
        std::thread::spawn(move || {
            let mut c = freshet_postgres::connect(&url).unwrap();
            let mut rng = Rng::new(9);
            while !done.load(Ordering::SeqCst) {
                write(&mut c, &mut rng, 1);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut rng = Rng::new(3);
    for _ in 0..6 {
        let mut child = spawn_child(&db.url);
        std::thread::sleep(Duration::from_millis(300 + rng.below(900)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let refreshes: i64 = c.query_one("SELECT count(*) FROM freshet.history WHERE error IS NULL", &[]).unwrap().get(0);
    assert!(refreshes > 0, "the killed adapters refreshed the views between kills");
    let started = Instant::now();
    let mut child = spawn_child(&db.url);
    freshet_postgres::sync(&mut c, &[], Duration::from_secs(60)).expect("sync after restart");
    eprintln!("restart and catch-up took {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    check(&mut c, "after SIGKILLs and a restart");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Writers racing the adapter's rounds, with no `sync` and a poll interval
/// far longer than the test: every committed change still reaches the
/// views at once, through a notification or the adapter's check for
/// writers that saw it busy (and its watch of transactions in progress).
#[test]
fn changes_arrive_without_sync_or_polling() {
    let Some(db) = TestDb::create("wake") else { return };
    let mut c = setup(&db);
    let config = AdapterConfig { poll_interval: Duration::from_secs(600), ..AdapterConfig::default() };
    let _adapter = RunningAdapter::start_with(&db.url, config);
    sync(&mut c);
    for burst in 0..6u64 {
        // A transaction open across the burst: in progress whenever the
        // adapter checks, committed at the end.
        let mut long = db.connect();
        long.batch_execute(&format!("BEGIN; INSERT INTO line VALUES (3, 0.{burst}7, 2)")).unwrap();
        let writers: Vec<_> = (0..4u64)
            .map(|w| {
                let url = db.url.clone();
                std::thread::spawn(move || {
                    let mut c = freshet_postgres::connect(&url).unwrap();
                    let mut rng = Rng::new(1000 * burst + w);
                    for _ in 0..15 {
                        write(&mut c, &mut rng, w);
                        if rng.chance(30) {
                            std::thread::sleep(Duration::from_millis(rng.below(5)));
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        long.batch_execute("COMMIT").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let behind: i64 = VIEWS.iter().map(|(name, query)| differences(&mut c, name, query)).sum();
            if behind == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "burst {burst}: the views lag {behind} rows 10 s after the last commit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A writer that logged its change while no adapter waited (so it will
/// not notify) and commits after the adapter's first round: the adapter
/// watches the transactions in progress at its check, and reads the change
/// once it commits, without a notification, a `sync` or a poll.
#[test]
fn a_writer_that_saw_the_adapter_busy_is_watched_until_it_commits() {
    let Some(db) = TestDb::create("watch") else { return };
    let mut c = setup(&db);
    drop(RunningAdapter::start(&db.url));
    // No adapter runs: the flag reads busy, the write will not notify.
    let mut w = db.connect();
    w.batch_execute("BEGIN; INSERT INTO line VALUES (4, 0.42, 2)").unwrap();
    let config = AdapterConfig { poll_interval: Duration::from_secs(600), ..AdapterConfig::default() };
    let _adapter = RunningAdapter::start_with(&db.url, config);
    sync(&mut c);
    // Past the round `sync` asked for.
    std::thread::sleep(Duration::from_millis(300));
    w.batch_execute("COMMIT").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while differences(&mut c, "lines", VIEWS[2].1) != 0 {
        assert!(Instant::now() < deadline, "the change of a watched transaction did not arrive");
        std::thread::sleep(Duration::from_millis(20));
    }
    check(&mut c, "after the watched transaction committed");
}
