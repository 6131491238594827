//! Crash safety of [`DiskStorage`]: a child process (this test binary, run
//! with [`CHILD_DIR_ENV`] set, executing only [`crash_child_process`])
//! commits in a loop and is killed with SIGKILL at a random moment. The
//! reopened store must hold exactly the first N commits, whole, where N is
//! its frontier, and N must be at least the last commit the child reported
//! as returned (and at most one more).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{int_table, snapshot};
use crate::plan::ObjectId;
use crate::storage::{CatalogChange, Commit, DiskStorage, MemoryStorage, Storage};
use crate::value::{Row, Value};

/// Set in the child's environment: the data directory to commit to.
const CHILD_DIR_ENV: &str = "FRESHET_STORAGE_CRASH_CHILD_DIR";

/// Rows per commit in the primary-key table.
const PER_COMMIT: i64 = 30;

fn pk_row(key: i64, value: String) -> Row {
    Row::new(vec![Value::Int8(key), Value::text(&value)])
}

/// The `n`th commit (frontier `n`, from 1) of the child's deterministic
/// sequence: commit 1 creates the tables; commit n inserts 30 rows, updates
/// a third of commit n-1's rows and deletes half of commit n-2's, and
/// changes the bag table.
fn nth_commit(n: u64) -> Commit {
    if n == 1 {
        return Commit {
            frontier: 1,
            next_id: 2,
            catalog: vec![
                CatalogChange::CreateTable({
                    let mut t = int_table(0, "kv", 2, &[0]);
                    t.columns[1].ty = crate::value::DataType::Text;
                    t
                }),
                CatalogChange::CreateTable(int_table(1, "bag", 1, &[])),
            ],
            rows: vec![],
        };
    }
    let n = n as i64;
    let mut rows = Vec::new();
    let t0 = ObjectId(0);
    for i in 0..PER_COMMIT {
        rows.push((t0, pk_row(n * PER_COMMIT + i, format!("v{n}-{i}")), 1));
    }
    if n >= 3 {
        let m = n - 1;
        for i in (0..PER_COMMIT).filter(|i| i % 3 == 0) {
            rows.push((t0, pk_row(m * PER_COMMIT + i, format!("v{m}-{i}")), -1));
            rows.push((t0, pk_row(m * PER_COMMIT + i, format!("u{m}-{i}")), 1));
        }
    }
    if n >= 4 {
        let m = n - 2;
        for i in (0..PER_COMMIT).filter(|i| i % 2 == 0) {
            let value = if i % 3 == 0 { format!("u{m}-{i}") } else { format!("v{m}-{i}") };
            rows.push((t0, pk_row(m * PER_COMMIT + i, value), -1));
        }
    }
    let t1 = ObjectId(1);
    rows.push((t1, Row::new(vec![Value::Int8(n % 5)]), 2));
    if n >= 3 {
        rows.push((t1, Row::new(vec![Value::Int8((n - 1) % 5)]), -1));
    }
    Commit { frontier: n as u64, next_id: 2, catalog: vec![], rows }
}

/// The child: commits the sequence from the store's frontier on, printing
/// `committed N` after each commit returns, until it is killed. It is the
/// child process of [`disk_commits_survive_sigkill`], which runs it with
/// `--ignored`; on its own it has nothing to check.
#[test]
#[ignore = "child process of disk_commits_survive_sigkill, which runs it"]
fn crash_child_process() {
    let dir = std::env::var(CHILD_DIR_ENV).expect("run by disk_commits_survive_sigkill, which sets the store directory");
    let mut store = DiskStorage::open(dir).expect("child: open");
    let mut n = store.catalog().expect("child: catalog").frontier;
    // Bounded so a parent that failed to kill it cannot leave it running.
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        n += 1;
        store.commit(&nth_commit(n)).expect("child: commit");
        println!("committed {n}");
    }
}

/// A pseudo-random number from the clock (enough to vary kill moments).
fn jitter(bound: u64) -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    nanos.wrapping_mul(0x9e37_79b9_7f4a_7c15) % bound
}

#[test]
fn disk_commits_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut reported_total = 0;
    for round in 0..5 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "storage::conformance::crash::crash_child_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let last = Arc::new(AtomicU64::new(0));
        let reader = {
            let last = last.clone();
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(n) = line.strip_prefix("committed ").and_then(|n| n.trim().parse::<u64>().ok()) {
                        last.store(n, Ordering::SeqCst);
                    }
                }
            })
        };
        // Let it make progress, then kill it at a random moment.
        let started = Instant::now();
        while last.load(Ordering::SeqCst) < reported_total + 3 {
            assert!(started.elapsed() < Duration::from_secs(60), "child made no progress");
            if let Ok(Some(status)) = child.try_wait() {
                panic!("child exited early: {status}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_micros(jitter(40_000)));
        child.kill().expect("kill child");
        child.wait().unwrap();
        reader.join().unwrap();
        let reported = last.load(Ordering::SeqCst);

        let store = DiskStorage::open(dir.path()).expect("reopen after kill");
        let frontier = store.catalog().unwrap().frontier;
        assert!(
            frontier == reported || frontier == reported + 1,
            "round {round}: frontier {frontier} after the child reported commit {reported}"
        );
        let mut model = MemoryStorage::new();
        for n in 1..=frontier {
            model.commit(&nth_commit(n)).unwrap();
        }
        assert_eq!(snapshot(&store), snapshot(&model), "round {round}: not exactly the first {frontier} commits");
        reported_total = frontier;
    }
    assert!(reported_total >= 15);
}
