//! Engine-independent parts of the sqllogictest harness: the error type the
//! database adapters return, value formatting, result validation, file
//! discovery, and running a file record by record so that every failing
//! record of a file is reported, not only the first.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use sqllogictest::{DefaultColumnType, Record, Runner, DB};

/// An error as a database adapter reports it to the runner.
///
/// `Display` is the primary message exactly as PostgreSQL words it, followed
/// by a `DETAIL:  …` line when the error carries a detail, so `statement
/// error <regex>` records match against the message (the regex is
/// unanchored) and multi-line expected errors may include the detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SltError {
    /// The primary message, e.g. `relation "t" does not exist`.
    pub message: String,
    /// PostgreSQL's DETAIL line, if any.
    pub detail: Option<String>,
    /// The SQLSTATE code, when the engine knows it.
    pub sqlstate: Option<String>,
}

impl SltError {
    /// An error with only a message.
    pub fn msg(message: impl Into<String>) -> SltError {
        SltError { message: message.into(), detail: None, sqlstate: None }
    }
}

impl fmt::Display for SltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(d) = &self.detail {
            write!(f, "\nDETAIL:  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SltError {}

/// Formats one result value for comparison with an slt file: `NULL` for
/// SQL NULL, `(empty)` for the empty string, otherwise PostgreSQL's text
/// output of the value unchanged.
pub fn format_value(v: Option<&str>) -> String {
    match v {
        None => "NULL".to_string(),
        Some("") => "(empty)".to_string(),
        Some(s) => s.to_string(),
    }
}

/// The number a command tag reports (`INSERT 0 3` → 3, `UPDATE 2` → 2,
/// `SELECT 5` → 5); 0 for tags without a count (`CREATE TABLE`).
pub fn tag_count(tag: &str) -> u64 {
    let mut words = tag.split_whitespace();
    let kind = words.next().unwrap_or("");
    let last = tag.split_whitespace().last().and_then(|w| w.parse().ok());
    match kind {
        "INSERT" | "UPDATE" | "DELETE" | "SELECT" | "MERGE" | "COPY" | "FETCH" | "MOVE" => last.unwrap_or(0),
        _ => 0,
    }
}

/// Compares results exactly: each actual row is its values joined by one
/// space, compared with the expected line; only trailing whitespace of a
/// line is ignored. (sqllogictest's default collapses runs of blanks, which
/// would hide `char(n)` padding and spaces inside text values.)
pub fn exact_validator(
    _normalizer: sqllogictest::Normalizer,
    actual: &[Vec<String>],
    expected: &[String],
) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(row, line)| row.join(" ").trim_end() == line.trim_end())
}

/// Checks that a query record declares as many columns as the result has
/// (the type letters themselves are not compared: the two engines report
/// types differently, and values are compared exactly anyway).
#[allow(clippy::ptr_arg)]
pub fn column_count_validator(actual: &Vec<DefaultColumnType>, expected: &Vec<DefaultColumnType>) -> bool {
    actual.len() == expected.len()
}

/// The `.slt` files of the semantics suite (`tests/slt/*.slt`), in name
/// order. When `SLT_FILTER` is set, only files whose name contains it.
pub fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("slt");
    let filter = std::env::var("SLT_FILTER").ok().filter(|f| !f.is_empty());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .filter(|p| {
            filter.as_deref().is_none_or(|f| p.file_name().is_some_and(|n| n.to_string_lossy().contains(f)))
        })
        .collect();
    files.sort();
    files
}

/// A short name for a file, for messages and database names.
pub fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The outcome of running one file against one engine.
#[derive(Clone, Debug, Default)]
pub struct FileReport {
    /// The file.
    pub file: PathBuf,
    /// Statement and query records that ran.
    pub ran: usize,
    /// Statement and query records skipped by `skipif`/`onlyif` for this
    /// engine.
    pub skipped: usize,
    /// One readable message per failing record (with `file:line`), or for
    /// a file that could not run at all.
    pub failures: Vec<String>,
}

impl FileReport {
    /// A one-line summary: `views.slt: 57 ran, 2 skipped, 1 failed`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} ran, {} skipped, {} failed",
            self.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            self.ran,
            self.skipped,
            self.failures.len()
        )
    }
}

/// Whether `record` is skipped for an engine with `labels`.
fn skipped_for(record: &Record<DefaultColumnType>, labels: &[&str]) -> Option<bool> {
    let conditions = match record {
        Record::Statement { conditions, .. } | Record::Query { conditions, .. } => conditions,
        _ => return None,
    };
    Some(conditions.iter().any(|c| match c {
        sqllogictest::Condition::OnlyIf { label } => !labels.contains(&label.as_str()),
        sqllogictest::Condition::SkipIf { label } => labels.contains(&label.as_str()),
    }))
}

/// Runs every record of `path` against a database made by `open`, with
/// `label` as the engine's label for `skipif`/`onlyif`. A failing record is
/// recorded and the run goes on with the next one. The file runs on a
/// thread of its own: a panic in the engine becomes a failure of the file,
/// and a file that does not finish within `timeout` is reported as hung.
pub fn run_file<D, F>(path: &Path, label: &'static str, timeout: Duration, open: F) -> FileReport
where
    D: DB<Error = SltError, ColumnType = DefaultColumnType> + Send + 'static,
    F: FnOnce() -> Result<D, SltError> + Send + 'static,
{
    let mut report = FileReport { file: path.to_path_buf(), ..FileReport::default() };
    let records = match sqllogictest::parse_file::<DefaultColumnType>(path) {
        Ok(r) => r,
        Err(e) => {
            report.failures.push(format!("{}: cannot parse: {e}", path.display()));
            return report;
        }
    };
    let labels = [label];
    for r in &records {
        match skipped_for(r, &labels) {
            Some(true) => report.skipped += 1,
            Some(false) => report.ran += 1,
            None => {}
        }
    }
    let (tx, rx) = mpsc::channel();
    let display = path.display().to_string();
    let spawned = thread::Builder::new().name(format!("slt-{label}-{}", file_stem(path))).spawn(move || {
        let db = match open() {
            Ok(db) => db,
            Err(e) => {
                let _ = tx.send(vec![format!("{display}: cannot open the database: {e}")]);
                return;
            }
        };
        let mut slot = Some(db);
        let mut runner = Runner::new(move || {
            let db = slot.take();
            async move {
                db.ok_or_else(|| SltError::msg("only the default connection is supported"))
            }
        });
        runner.add_label(label);
        runner.with_validator(exact_validator);
        runner.with_column_validator(column_count_validator);
        let mut failures = Vec::new();
        for record in records {
            if let Record::Halt { .. } = record {
                break;
            }
            if let Err(e) = runner.run(record) {
                failures.push(e.display(false).to_string());
            }
        }
        drop(runner);
        let _ = tx.send(failures);
    });
    if let Err(e) = spawned {
        report.failures.push(format!("{}: cannot start a thread: {e}", path.display()));
        return report;
    }
    match rx.recv_timeout(timeout) {
        Ok(failures) => report.failures.extend(failures),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            report.failures.push(format!("{}: did not finish within {timeout:?}", path.display()))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            report.failures.push(format!("{}: the engine panicked (see the panic message above)", path.display()))
        }
    }
    report
}

/// Prints the reports of one engine and panics listing every failure if
/// any file failed.
pub fn conclude(engine: &str, reports: &[FileReport]) {
    let mut failed = 0;
    for r in reports {
        eprintln!("[{engine}] {}", r.summary());
        failed += r.failures.len();
    }
    if failed > 0 {
        let mut msg = format!("{failed} sqllogictest failure(s) on {engine}:\n");
        for r in reports {
            for f in &r.failures {
                msg.push_str(f);
                msg.push_str("\n\n");
            }
        }
        panic!("{msg}");
    }
    assert!(!reports.is_empty(), "no .slt files found");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_format_as_slt_expects() {
        assert_eq!(format_value(None), "NULL");
        assert_eq!(format_value(Some("")), "(empty)");
        assert_eq!(format_value(Some("ab   ")), "ab   ");
        assert_eq!(format_value(Some("NULL")), "NULL");
    }

    #[test]
    fn command_tags_give_row_counts() {
        assert_eq!(tag_count("INSERT 0 3"), 3);
        assert_eq!(tag_count("UPDATE 12"), 12);
        assert_eq!(tag_count("DELETE 0"), 0);
        assert_eq!(tag_count("SELECT 7"), 7);
        assert_eq!(tag_count("CREATE TABLE"), 0);
        assert_eq!(tag_count("DROP MATERIALIZED VIEW"), 0);
    }

    #[test]
    fn validation_is_exact_but_for_trailing_blanks() {
        let norm: sqllogictest::Normalizer = sqllogictest::default_normalizer;
        let actual = vec![vec!["ab   ".to_string(), "1".to_string()], vec!["x y".to_string()]];
        let expected = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert!(exact_validator(norm, &actual, &expected(&["ab    1", "x y"])));
        assert!(exact_validator(norm, &actual, &expected(&["ab    1  ", "x y"])));
        assert!(!exact_validator(norm, &actual, &expected(&["ab 1", "x y"])));
        assert!(!exact_validator(norm, &actual, &expected(&["ab    1"])));
        assert!(!exact_validator(norm, &actual, &expected(&["ab    1", "x  y"])));
    }

    #[test]
    fn errors_display_message_then_detail() {
        let e = SltError {
            message: "duplicate key value violates unique constraint \"t_pkey\"".into(),
            detail: Some("Key (id)=(1) already exists.".into()),
            sqlstate: None,
        };
        assert_eq!(
            e.to_string(),
            "duplicate key value violates unique constraint \"t_pkey\"\nDETAIL:  Key (id)=(1) already exists."
        );
        assert_eq!(SltError::msg("boom").to_string(), "boom");
    }

    #[test]
    fn the_suite_has_every_scenario() {
        let names: Vec<String> = slt_files().iter().map(|p| file_stem(p)).collect();
        if std::env::var("SLT_FILTER").is_ok_and(|f| !f.is_empty()) {
            return;
        }
        for expected in [
            "aggregates",
            "errors",
            "integers",
            "joins",
            "like_case",
            "null_logic",
            "numeric",
            "pk_groupby",
            "types_output",
            "views",
        ] {
            assert!(names.iter().any(|n| n == expected), "missing {expected}.slt in {names:?}");
        }
    }
}
