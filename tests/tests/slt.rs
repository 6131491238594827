//! The SQL semantics suite: every file in `tests/slt/` runs against freshet
//! and against PostgreSQL 15 (see `freshet_tests::slt_support`).
//!
//! `cargo test -p freshet-tests --test slt` runs both engines;
//! `SLT_FILTER=views` limits the run to files whose name contains `views`.
//! PostgreSQL is found through `DATABASE_URL`. When it is unreachable the
//! PostgreSQL run fails if `CI=true`, and otherwise reports every file as
//! not run (the freshet run is unaffected).

use std::time::Duration;

use freshet_tests::slt_support::{self, conclude, file_stem, run_file, slt_files, FileReport};

/// The longest one file may take on one engine.
const FILE_TIMEOUT: Duration = Duration::from_secs(300);

#[test]
fn slt_freshet() {
    let reports: Vec<FileReport> = slt_files()
        .iter()
        .map(|f| run_file(f, slt_support::freshet::LABEL, FILE_TIMEOUT, slt_support::freshet::FreshetDb::open))
        .collect();
    conclude("freshet", &reports);
}

#[test]
fn slt_postgres() {
    let url = slt_support::postgres::database_url();
    if let Err(e) = slt_support::postgres::check_server(&url) {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "PostgreSQL is unreachable at {url} ({e}); CI=true requires the PostgreSQL run");
        for f in slt_files() {
            eprintln!("[postgres] {}: NOT RUN: PostgreSQL is unreachable at {url} ({e})", file_stem(&f));
        }
        eprintln!("[postgres] the PostgreSQL run was skipped; set DATABASE_URL to a reachable server to run it");
        return;
    }
    let reports: Vec<FileReport> = slt_files()
        .iter()
        .map(|f| {
            let url = url.clone();
            let stem = file_stem(f);
            run_file(f, slt_support::postgres::LABEL, FILE_TIMEOUT, move || {
                slt_support::postgres::PostgresDb::create(&url, &stem)
            })
        })
        .collect();
    conclude("postgres", &reports);
}
