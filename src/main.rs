//! The `freshet` command line.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use freshet::script::{Piece, StatementSplitter};
use freshet::{Database, Options};

/// See [`freshet::allocator`].
#[global_allocator]
static GLOBAL: freshet::allocator::Allocator = freshet::allocator::Allocator;

/// freshet keeps materialized views fresh.
#[derive(Parser)]
#[command(name = "freshet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run SQL statements against the embedded engine, printing results as
    /// `psql -X -A -t -F $'\t'` does. Stops at the first error (exit 3).
    Sql {
        /// Keep the database in this directory (created if missing);
        /// without it the database lives in memory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Timely worker threads.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// A file of SQL statements; standard input when absent.
        file: Option<PathBuf>,
    },
    /// PostgreSQL adapter commands (init, create-view, drop-view, alter-view, pause, resume, run, sync, status).
    #[command(flatten)]
    Pg(freshet_postgres::cli::Command),
}

fn main() -> ExitCode {
    freshet::allocator::configure();
    let cli = Cli::parse();
    match cli.command {
        Command::Sql { data_dir, workers, file } => run_sql(data_dir, workers, file),
        Command::Pg(command) => freshet_postgres::cli::run(command),
    }
}

fn run_sql(data_dir: Option<PathBuf>, workers: usize, file: Option<PathBuf>) -> ExitCode {
    let input: Box<dyn BufRead> = match &file {
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(BufReader::new(f)),
            Err(e) => {
                eprintln!("freshet: cannot read {}: {e}", path.display());
                return ExitCode::from(1);
            }
        },
        None => Box::new(BufReader::new(std::io::stdin())),
    };
    let options = Options { workers };
    let opened = match &data_dir {
        Some(dir) => freshet::engine::storage::DiskStorage::open(dir)
            .map_err(freshet::Error::from)
            .and_then(|s| Database::with_storage(Box::new(s), options)),
        None => Database::with_storage(Box::new(freshet::engine::storage::MemoryStorage::new()), options),
    };
    let mut db = match opened {
        Ok(db) => db,
        Err(e) => {
            eprintln!("freshet: cannot open the database: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut splitter = StatementSplitter::new();
    let mut run = |piece: Piece, out: &mut std::io::StdoutLock<'_>| -> bool {
        // psql numbers a statement's lines from its first non-blank one.
        let sql = piece.sql.trim_start();
        let result = db.execute_each(sql, |o| {
            // A closed stdout (e.g. piped into `head`) is not an error of the SQL.
            let _ = out.write_all(o.to_text().as_bytes());
        });
        // Flush per statement: what is printed has been committed.
        let _ = out.flush();
        match result {
            Ok(()) => true,
            Err(e) => {
                eprintln!("{}", e.report(sql));
                if let Some(f) = &file {
                    eprintln!("(statement starting at {}:{})", f.display(), piece.line);
                }
                false
            }
        }
    };
    for line in input.lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("freshet: cannot read input: {e}");
                return ExitCode::from(1);
            }
        };
        for piece in splitter.push(&(line + "\n")) {
            if !run(piece, &mut out) {
                return ExitCode::from(3);
            }
        }
    }
    if let Some(piece) = splitter.finish() {
        if !run(piece, &mut out) {
            return ExitCode::from(3);
        }
    }
    ExitCode::SUCCESS
}
