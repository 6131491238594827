//! The adapter process, run in a thread of the harness: started, stopped
//! (dropped: its connection closes and whatever it held in memory is
//! lost, as on a kill) and started again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use freshet_postgres::schema::ADAPTER_LOCK;
use freshet_postgres::{Adapter, AdapterConfig, StepReport};
use postgres::config::Host;
use postgres::{Client, Config};

use crate::error::BenchError;

/// A `key=value` connection string for database `dbname` on the server
/// `config` describes (host, port, user, password and options kept).
pub fn conninfo(config: &Config, dbname: &str) -> String {
    fn quote(v: &str) -> String {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
    let mut parts = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.to_string_lossy().into_owned(),
        })
        .collect();
    if !hosts.is_empty() {
        parts.push(format!("host={}", quote(&hosts.join(","))));
    }
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    if !ports.is_empty() {
        parts.push(format!("port={}", quote(&ports.join(","))));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={}", quote(user)));
    }
    if let Some(password) = config.get_password() {
        parts.push(format!("password={}", quote(&String::from_utf8_lossy(password))));
    }
    if let Some(options) = config.get_options() {
        parts.push(format!("options={}", quote(options)));
    }
    parts.push(format!("dbname={}", quote(dbname)));
    parts.join(" ")
}

/// What the adapter thread reports once its first refresh round is done.
#[derive(Clone, Debug)]
pub struct Started {
    /// From the thread's start to the end of its first round (connect,
    /// adapter lock, loading every view from its sources at a fresh
    /// snapshot, reconciling the view tables).
    pub first_round: Duration,
    /// What the first round did.
    pub report: StepReport,
}

/// An adapter running in a thread of this process.
pub struct BackgroundAdapter {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<(), String>>>,
    /// Reports of the rounds after the first that did something, not
    /// taken yet.
    rounds: Arc<Mutex<Vec<StepReport>>>,
}

impl BackgroundAdapter {
    /// Starts an adapter on `url` in a new thread and waits for its first
    /// refresh round (every view loaded and its table reconciled).
    pub fn start(url: &str, config: AdapterConfig) -> Result<(BackgroundAdapter, Started), BenchError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Result<Started, String>>();
        let url = url.to_string();
        let flag = Arc::clone(&stop);
        let rounds = Arc::new(Mutex::new(Vec::new()));
        let observed = Arc::clone(&rounds);
        let handle = std::thread::Builder::new().name("freshet-adapter".into()).spawn(move || {
            let began = Instant::now();
            let mut adapter = match Adapter::connect(&url, config) {
                Ok(a) => a,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return Err(e.to_string());
                }
            };
            match adapter.step() {
                Ok(report) => {
                    let _ = tx.send(Ok(Started { first_round: began.elapsed(), report }));
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return Err(e.to_string());
                }
            }
            let mut observe = |r: &StepReport| {
                if let Ok(mut rounds) = observed.lock() {
                    rounds.push(r.clone());
                }
            };
            adapter.run_observed(&flag, &mut observe).map_err(|e| e.to_string())
        })?;
        let mut running = BackgroundAdapter { stop, handle: Some(handle), rounds };
        match rx.recv() {
            Ok(Ok(started)) => Ok((running, started)),
            Ok(Err(e)) => {
                let _ = running.stop();
                Err(BenchError::Workload(format!("the adapter did not start: {e}")))
            }
            Err(_) => Err(BenchError::Workload(format!(
                "the adapter thread ended before its first round: {}",
                running.stop().err().map_or_else(|| "no reason given".to_string(), |e| e.to_string())
            ))),
        }
    }

    /// Stops the adapter and drops it (its connection closes; changes it
    /// held in memory are lost, as when the process is killed). Fails if
    /// the adapter had stopped with an error.
    pub fn stop(&mut self) -> Result<(), BenchError> {
        self.stop.store(true, Ordering::SeqCst);
        match self.handle.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(BenchError::Workload(format!("the adapter failed: {e}"))),
            Some(Err(_)) => Err(BenchError::Workload("the adapter thread panicked".into())),
        }
    }

    /// The reports of the rounds that did something since the last call
    /// (the first round excepted).
    pub fn take_rounds(&self) -> Vec<StepReport> {
        self.rounds.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default()
    }

    /// True while the adapter thread runs (it has not stopped on an error).
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }
}

impl Drop for BackgroundAdapter {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("warning: {e}");
        }
    }
}

/// Waits until no session holds the adapter lock (the server has ended
/// the backend of an adapter just dropped), at most `timeout`.
pub fn wait_lock_free(client: &mut Client, timeout: Duration) -> Result<(), BenchError> {
    let deadline = Instant::now() + timeout;
    loop {
        let got: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&ADAPTER_LOCK])?.get(0);
        if got {
            client.query_one("SELECT pg_advisory_unlock($1)", &[&ADAPTER_LOCK])?;
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(BenchError::Workload("the adapter lock was not released".into()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_keeps_the_server_and_names_the_database() {
        let config: Config = "postgres://bob:p'w@db.example:6543/main?options=-c%20a%3Db".parse().expect("url");
        let info = conninfo(&config, "scratch_1");
        assert_eq!(
            info,
            "host='db.example' port='6543' user='bob' password='p\\'w' options='-c a=b' dbname='scratch_1'"
        );
        let back: Config = info.parse().expect("conninfo parses");
        assert_eq!(back.get_dbname(), Some("scratch_1"));
        assert_eq!(back.get_password(), Some(&b"p'w"[..]));
        assert_eq!(back.get_ports(), &[6543]);
    }
}
