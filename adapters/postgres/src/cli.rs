//! The `freshet` subcommands for PostgreSQL: `init`, `create-view`,
//! `drop-view`, `alter-view`, `pause`, `resume`, `run`, `sync`, `status`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Subcommand};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::adapter::{Adapter, AdapterConfig};
use crate::control::Resumed;
use crate::create::{create_view_with, LoadProgress, ViewOptions};
use crate::error::PgError;
use crate::policy::RefreshPolicy;
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
        /// When the view is written: continuous, 'every <interval>'
        /// (e.g. 'every 5 minutes') or on-demand (by `freshet sync`).
        #[arg(long, default_value = "continuous")]
        refresh: String,
    },
    /// Change a view's refresh policy.
    AlterView {
        /// The database.
        #[command(flatten)]
        conn: Conn,
        /// The view's name.
        name: String,
        /// continuous, 'every <interval>' or on-demand.
        #[arg(long)]
        refresh: String,
    },
    /// Stop writing a view (its changes are still captured and held).
    Pause {
        /// The database.
        #[command(flatten)]
        conn: Conn,
        /// The view's name.
        name: String,
    },
    /// Resume a paused view (it catches up exactly), or rebuild a failed
    /// one from a fresh snapshot.
    Resume {
        /// The database.
        #[command(flatten)]
        conn: Conn,
        /// The view's name.
        name: String,
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
        /// Delete refresh history older than this PostgreSQL interval.
        #[arg(long, default_value = "7 days")]
        history_retention: String,
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
    /// One line per view: state, refresh policy, frontier, lag, rows, last
    /// refresh (the same as `SELECT * FROM freshet.view_status`).
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
        Command::CreateView { conn, name, query, schema, refresh } => {
            let mut c = connect(&conn.database_url)?;
            let refresh = RefreshPolicy::parse(&mut c, &refresh)?;
            let options = ViewOptions { schema, refresh };
            let mut bar = LoadBar::new(std::io::stderr().is_terminal());
            let created = create_view_with(&mut c, &name, &query, &options, &mut |p| bar.show(p));
            bar.finish();
            let created = created?;
            let key = match &created.key {
                Some(k) if k.is_empty() => "one row".to_string(),
                Some(k) => format!("key ({})", k.join(", ")),
                None => "bag (with __freshet_count)".to_string(),
            };
            println!("CREATE VIEW {} ({} rows, {key}, refresh {})", created.name, created.rows, options.refresh);
        }
        Command::AlterView { conn, name, refresh } => {
            let mut c = connect(&conn.database_url)?;
            let policy = RefreshPolicy::parse(&mut c, &refresh)?;
            crate::control::alter_refresh(&mut c, &name, &policy)?;
            println!("ALTER VIEW {name} (refresh {policy})");
        }
        Command::Pause { conn, name } => {
            let mut c = connect(&conn.database_url)?;
            crate::control::pause(&mut c, &name)?;
            println!("PAUSE {name}");
        }
        Command::Resume { conn, name } => {
            let mut c = connect(&conn.database_url)?;
            match crate::control::resume(&mut c, &name)? {
                Resumed::Unpaused => println!("RESUME {name}"),
                Resumed::Rebuilding { was } => println!("RESUME {name} (rebuilding; it had failed: {was})"),
                Resumed::AlreadyRunning => println!("RESUME {name} (it was not paused or failed)"),
            }
        }
        Command::DropView { conn, name } => {
            let mut c = connect(&conn.database_url)?;
            crate::create::drop_view(&mut c, &name)?;
            println!("DROP VIEW {name}");
        }
        Command::Run { conn, poll_ms, history_retention, workers } => {
            install_signal_handlers();
            let history_retention = parse_interval(&conn.database_url, &history_retention)?;
            let config = AdapterConfig {
                poll_interval: Duration::from_millis(poll_ms.max(10)),
                history_retention,
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
                let lag = if s.current {
                    "current".to_string()
                } else {
                    format!("lag {:.1}s/{} xids", s.lag_seconds, s.lag_xids)
                };
                println!(
                    "{}\t{}\t{state}\trefresh {}\tfrontier {}\t{lag}\trows {}\trefreshed {}\t{}",
                    s.name,
                    s.table,
                    s.refresh,
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

/// A PostgreSQL interval (`7 days`, `12 hours`) as a duration, read by the
/// server.
fn parse_interval(url: &str, text: &str) -> Result<Duration, PgError> {
    let mut c = connect(url)?;
    let secs: f64 = c
        .query_one("SELECT extract(epoch FROM $1::text::interval)::float8", &[&text])
        .map_err(|e| PgError::Usage(format!("invalid interval {text:?}: {}", PgError::from(e))))?
        .get(0);
    if !(secs >= 0.0 && secs.is_finite()) {
        return Err(PgError::Usage(format!("the interval {text:?} must not be negative")));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The progress bar of a `create-view` load, drawn on standard error only
/// when it is a terminal.
struct LoadBar {
    bar: Option<ProgressBar>,
}

impl LoadBar {
    fn new(terminal: bool) -> LoadBar {
        LoadBar { bar: terminal.then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())) }
    }

    fn show(&mut self, p: LoadProgress<'_>) {
        let Some(bar) = &self.bar else { return };
        match p {
            LoadProgress::Reading { table, estimated_rows } => {
                let style = match estimated_rows {
                    Some(_) => ProgressStyle::with_template(
                        "{spinner} reading {msg} [{bar:30}] {human_pos}/~{human_len} rows ({per_sec}, {eta})",
                    ),
                    None => ProgressStyle::with_template("{spinner} reading {msg}: {human_pos} rows ({per_sec})"),
                };
                if let Ok(style) = style {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.reset();
                bar.set_length(estimated_rows.unwrap_or(0));
                bar.set_message(table.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            LoadProgress::Read { rows } => {
                if bar.length().is_some_and(|l| l > 0 && rows > l) {
                    bar.set_length(rows);
                }
                bar.set_position(rows);
            }
            LoadProgress::Computing => {
                if let Ok(style) = ProgressStyle::with_template("{spinner} computing the view ({elapsed})") {
                    bar.set_style(style);
                }
                bar.reset_elapsed();
            }
            LoadProgress::Writing { rows } => {
                if let Ok(style) = ProgressStyle::with_template("{spinner} writing {msg} rows ({elapsed})") {
                    bar.set_style(style);
                }
                bar.set_message(rows.to_string());
                bar.reset_elapsed();
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

