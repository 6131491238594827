//! Shared helpers: a fresh database per test, an adapter on a thread, and
//! comparison of a view table with PostgreSQL's own result.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use freshet_postgres::{Adapter, AdapterConfig};
use postgres::{Client, NoTls};

/// The server URL, or `None` when PostgreSQL is unreachable outside CI
/// (under `CI=true` an unreachable server fails the test).
pub fn server_url() -> Option<String> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match Client::connect(&url, NoTls) {
        Ok(_) => Some(url),
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL is required in CI but unreachable at {url}: {e}");
            }
            eprintln!("PostgreSQL unreachable at {url} ({e}); skipping");
            None
        }
    }
}

/// A fresh database for one test, dropped with it.
pub struct TestDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates `freshet_pg_<tag>_<pid>`; `None` if the server is unreachable
    /// outside CI.
    pub fn create(tag: &str) -> Option<TestDb> {
        let admin_url = server_url()?;
        let name = format!("freshet_pg_{tag}_{}", std::process::id());
        let mut c = Client::connect(&admin_url, NoTls).unwrap();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"))
            .unwrap();
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("DATABASE_URL has no database name: {admin_url}"),
        };
        let db = TestDb { admin_url, name, url };
        freshet_postgres::init(&mut db.connect()).unwrap();
        Some(db)
    }

    /// A new connection with the adapter's session settings.
    pub fn connect(&self) -> Client {
        freshet_postgres::connect(&self.url).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var_os("FRESHET_TEST_KEEP_DB").is_some() {
            return;
        }
        if let Ok(mut c) = Client::connect(&self.admin_url, NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// An adapter running on its own thread until dropped.
pub struct RunningAdapter {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl RunningAdapter {
    pub fn start(url: &str) -> RunningAdapter {
        let config = AdapterConfig { poll_interval: Duration::from_millis(200), ..AdapterConfig::default() };
        RunningAdapter::start_with(url, config)
    }

    pub fn start_with(url: &str, config: AdapterConfig) -> RunningAdapter {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, flag) = (url.to_string(), stop.clone());
        let handle = std::thread::spawn(move || {
            let mut adapter = Adapter::connect(&url, config).expect("adapter connects");
            adapter.run(&flag).expect("adapter runs");
        });
        RunningAdapter { stop, handle: Some(handle) }
    }
}

impl Drop for RunningAdapter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let panicked = h.join().is_err();
            if panicked && !std::thread::panicking() {
                panic!("the adapter thread failed");
            }
        }
    }
}

/// Waits until every view reflects everything committed so far.
pub fn sync(c: &mut Client) {
    freshet_postgres::sync(c, &[], Duration::from_secs(60)).expect("sync");
}

/// Rows in the view table (expanded by `__freshet_count` for a bag view)
/// and not in `query`'s result, plus the reverse: `EXCEPT ALL` both ways.
pub fn differences(c: &mut Client, view: &str, query: &str) -> i64 {
    let bag: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = '__freshet_count')",
            &[&format!("\"{}\"", view.replace('"', "\"\""))],
        )
        .unwrap()
        .get(0);
    let cols: Vec<String> = c
        .query(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 \
             AND NOT attisdropped AND attname <> '__freshet_count' ORDER BY attnum",
            &[&format!("\"{}\"", view.replace('"', "\"\""))],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let list = cols.join(", ");
    let table = format!("\"{}\"", view.replace('"', "\"\""));
    let v = if bag {
        format!("SELECT {list} FROM {table} CROSS JOIN LATERAL generate_series(1, __freshet_count)")
    } else {
        format!("SELECT {list} FROM {table}")
    };
    let q = format!("SELECT count(*) FROM (({v}) EXCEPT ALL ({query})) a");
    let r = format!("SELECT count(*) FROM (({query}) EXCEPT ALL ({v})) b");
    let a: i64 = c.query_one(&q, &[]).unwrap().get(0);
    let b: i64 = c.query_one(&r, &[]).unwrap().get(0);
    a + b
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
