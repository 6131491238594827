//! The `freshet` subcommands for PostgreSQL: `init`, `create-view`,
//! `drop-view`, `run`, `sync`, `status`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::adapter::{Adapter, AdapterConfig};
use crate::error::PgError;
use crate::schema::connect;

/// The default `--database-url` when `DATABASE_URL` is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Where the database is.
#[derive(Args, Clone, Debug)]
pub struct Conn {
    /// The PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_URL)]
    pub database_url: String,
}

/// PostgreSQL adapter commands.
#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Install or upgrade the `freshet` schema in the database (idempotent).
    Init {
        /// The database.
        #[command(flatten)]
        conn: Conn,
    },
    /// Create a view table maintained from a SELECT, filled now.
    CreateView {
        /// The database.
        #[command(flatten)]
        conn: Conn,
        /// The view's name (also its table's name).
        name: String,
        /// The SELECT defining the view.
        query: String,
        /// The schema of the view table.
        #[arg(long, default_value = "public")]
        schema: String,
    },
    /// Drop a view: its table, its catalog rows, unused change capture.
    DropView {
        /// The database.
        #[command(flatten)]
        conn: Conn,
        /// The view's name.
        name: String,
    },
    /// Run the adapter: keep every view current until SIGINT/SIGTERM.
    Run {
        /// The database.
        #[command(flatten)]
        conn: Conn,
        /// Refresh at least this often (milliseconds), notified or not.
        #[arg(long, default_value_t = 1000)]
        poll_ms: u64,
        /// Delete refresh history older than this many days.
        #[arg(long, default_value_t = 7.0)]
        history_days: f64,
        /// Timely worker threads.
        #[arg(long, default_value_t = 1)]
        workers: usize,
    },
    /// Wait until views reflect every transaction committed before the call.
    Sync {
        /// The database.
        #[command(flatten)]
        conn: Conn,
        /// The views (every view when none is named).
        names: Vec<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
    },
    /// One line per view: state, frontier, lag, rows, last refresh.
    Status {
        /// The database.
        #[command(flatten)]
        conn: Conn,
    },
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Runs one command; prints errors as `freshet: …` and returns the exit
/// code (0 success, 1 error, 2 timeout or failed view in `sync`).
pub fn run(command: Command) -> ExitCode {
    match execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("freshet: {e}");
            match e {
                PgError::Timeout(_) | PgError::ViewFailed { .. } => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}

fn execute(command: Command) -> Result<(), PgError> {
    match command {
        Command::Init { conn } => {
            let mut c = connect(&conn.database_url)?;
            let v = crate::schema::init(&mut c)?;
            println!("freshet schema version {v} installed");
        }
        Command::CreateView { conn, name, query, schema } => {
            let mut c = connect(&conn.database_url)?;
            let tty = std::io::stderr().is_terminal();
            let mut progress = |msg: &str| {
                if tty {
                    eprint!("\r\x1b[K{msg}");
                }
            };
            let created = crate::create::create_view(&mut c, &name, &query, &schema, &mut progress);
            if tty {
                eprint!("\r\x1b[K");
            }
            let created = created?;
            let key = match &created.key {
                Some(k) if k.is_empty() => "one row".to_string(),
                Some(k) => format!("key ({})", k.join(", ")),
                None => "bag (with __freshet_count)".to_string(),
            };
            println!("CREATE VIEW {} ({} rows, {key})", created.name, created.rows);
        }
        Command::DropView { conn, name } => {
            let mut c = connect(&conn.database_url)?;
            crate::create::drop_view(&mut c, &name)?;
            println!("DROP VIEW {name}");
        }
        Command::Run { conn, poll_ms, history_days, workers } => {
            install_signal_handlers();
            let config = AdapterConfig {
                poll_interval: Duration::from_millis(poll_ms.max(10)),
                history_retention: Duration::from_secs_f64((history_days * 86400.0).max(0.0)),
                workers,
                ..AdapterConfig::default()
            };
            let mut adapter = Adapter::connect(&conn.database_url, config)?;
            adapter.run(&STOP)?;
        }
        Command::Sync { conn, names, timeout } => {
            let mut c = connect(&conn.database_url)?;
            crate::sync::sync(&mut c, &names, Duration::from_secs_f64(timeout.max(0.0)))?;
        }
        Command::Status { conn } => {
            let mut c = connect(&conn.database_url)?;
            for s in crate::sync::status(&mut c)? {
                let state = match &s.error {
                    Some(e) if s.state == "failed" => format!("failed: {e}"),
                    _ => s.state.clone(),
                };
                let lag = match s.lag_seconds {
                    None => "current".to_string(),
                    Some(l) => format!("lag {l:.1}s"),
                };
                println!(
                    "{}\t{}\t{state}\tfrontier {}\t{lag}\trows {}\trefreshed {}\t{}",
                    s.name,
                    s.table,
                    s.frontier,
                    s.rows,
                    s.refreshed_at.as_deref().unwrap_or("never"),
                    s.refresh_ms.map_or("-".to_string(), |m| format!("{m:.1} ms")),
                );
            }
        }
    }
    Ok(())
}
