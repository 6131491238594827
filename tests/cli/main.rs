//! Tests of the `freshet sql` command line: output parity with psql, error
//! behaviour, and recovery after the process is killed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn freshet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_freshet"))
}

/// The PostgreSQL URL tests use, or `None` (and a message) when the
/// server is unreachable outside CI. Under `CI=true` an unreachable server
/// fails the test.
fn postgres_url() -> Option<String> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match postgres::Client::connect(&url, postgres::NoTls) {
        Ok(_) => Some(url),
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL is required in CI but unreachable at {url}: {e}");
            }
            eprintln!("PostgreSQL unreachable at {url} ({e}); skipping the PostgreSQL comparison");
            None
        }
    }
}

/// A fresh PostgreSQL database for one test; dropped on drop.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin_url: &str, tag: &str) -> PgDatabase {
        let name = format!("freshet_cli_{tag}_{}", std::process::id());
        let mut c = postgres::Client::connect(admin_url, postgres::NoTls).unwrap();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        c.batch_execute(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .unwrap();
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("DATABASE_URL has no database name: {admin_url}"),
        };
        PgDatabase { admin_url: admin_url.into(), name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// Refreshes every materialized view of the database.
const REFRESH_ALL: &str = "\nDO $$ DECLARE r record; BEGIN FOR r IN SELECT schemaname, matviewname FROM pg_matviews \
    LOOP EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', r.schemaname, r.matviewname); END LOOP; END $$;";

/// The example script, as PostgreSQL must run it to give the answers a
/// maintained view gives: every SELECT preceded by a refresh of the views.
fn with_refreshes(sql: &str) -> String {
    let mut out = String::new();
    for stmt in sql.split_inclusive(';') {
        if stmt.trim_start().lines().find(|l| !l.trim().starts_with("--") && !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().to_uppercase().starts_with("SELECT"))
        {
            out.push_str(REFRESH_ALL);
        }
        out.push_str(stmt);
    }
    out
}

#[test]
fn example_prints_what_psql_prints() {
    let script = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/invoices.sql")).unwrap();
    let ours = freshet().args(["sql", concat!(env!("CARGO_MANIFEST_DIR"), "/examples/invoices.sql")]).output().unwrap();
    assert!(ours.status.success(), "freshet failed: {}", String::from_utf8_lossy(&ours.stderr));
    let ours = String::from_utf8(ours.stdout).unwrap();
    assert!(ours.contains("SELECT 4\n"), "view creation reports its rows: {ours}");

    let Some(admin) = postgres_url() else { return };
    let db = PgDatabase::create(&admin, "example");
    let pg_script = with_refreshes(&script);
    let mut psql = Command::new("psql")
        .args([&db.url, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql runs");
    psql.stdin.take().unwrap().write_all(pg_script.as_bytes()).unwrap();
    let theirs = psql.wait_with_output().unwrap();
    assert!(theirs.status.success(), "psql failed: {}", String::from_utf8_lossy(&theirs.stderr));
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    // psql -q drops command tags; compare the rows only.
    let rows = |s: &str| s.lines().filter(|l| l.contains('\t')).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(rows(&ours), rows(&theirs));
    assert_eq!(rows(&ours).len(), 11);
}

#[test]
fn an_error_stops_the_script_and_keeps_what_ran_before() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    let run = |sql: &str| {
        let mut child = freshet()
            .args(["sql", "--data-dir", data.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("CREATE TABLE t (a int PRIMARY KEY);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "CREATE TABLE\nINSERT 0 1\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("ERROR:  duplicate key value violates unique constraint \"t_pkey\"\nDETAIL:  Key (a)=(1) already exists."), "{err}");

    let out = run("SELECT a FROM t ORDER BY a;\nSELECT * FROM nope;\n");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("relation \"nope\" does not exist"));
}

#[test]
fn a_killed_session_reopens_with_every_committed_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    let data = data.to_str().unwrap();
    let mut setup = freshet()
        .args(["sql", "--data-dir", data])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    setup
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"CREATE TABLE t (id int PRIMARY KEY, g int, v numeric(8,2));\n\
              CREATE MATERIALIZED VIEW s AS SELECT g, count(*) AS n, sum(v) AS total FROM t GROUP BY g;\n",
        )
        .unwrap();
    assert!(setup.wait_with_output().unwrap().status.success());

    // Stream transactions; kill the process at a point that varies by run.
    let mut child = freshet()
        .args(["sql", "--data-dir", data])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let kill_after = 20 + (std::process::id() as usize % 30);
    let mut acknowledged = 0;
    let mut lines_seen = 0;
    let writer = std::thread::spawn(move || {
        for i in 0..1000 {
            let stmt = format!(
                "BEGIN; INSERT INTO t VALUES ({i}, {}, {}.25); UPDATE t SET v = v + 1 WHERE id = {}; COMMIT;\n",
                i % 7,
                i,
                i / 2
            );
            if stdin.write_all(stmt.as_bytes()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    });
    let mut line = String::new();
    while acknowledged < kill_after {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        lines_seen += 1;
        if line == "COMMIT\n" {
            acknowledged += 1;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let _ = writer.join();
    assert!(lines_seen > 0 && acknowledged == kill_after, "the session ran ({acknowledged} commits seen)");

    let out = freshet()
        .args(["sql", "--data-dir", data])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(
                    b"SELECT count(*) FROM t;\n\
                      SELECT g, count(*), sum(v) FROM t GROUP BY g ORDER BY g;\n\
                      SELECT * FROM s ORDER BY g;\n",
                )
                .unwrap();
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parts = text.splitn(2, '\n');
    let count: usize = parts.next().unwrap().parse().unwrap();
    // Every acknowledged transaction survived (more may have committed
    // before the kill), and none is half applied: the sums below are exact
    // only if each surviving transaction's INSERT and UPDATE both survived.
    assert!(count >= acknowledged && count <= 1000, "{count} rows after {acknowledged} acknowledged commits");
    let rest = parts.next().unwrap();
    let lines: Vec<&str> = rest.lines().collect();
    let groups = lines.len() / 2;
    assert!(groups > 0);
    assert_eq!(lines[..groups], lines[groups..], "the view equals its query after recovery");
    // Each surviving transaction i inserted (i, i % 7, i.25) and added 1 to row i / 2.
    let mut expect = std::collections::BTreeMap::<i64, (i64, i64)>::new();
    let mut v: Vec<i64> = (0..count as i64).map(|i| i * 100 + 25).collect();
    for i in 0..count {
        v[i / 2] += 100;
    }
    for (i, cents) in v.iter().enumerate() {
        let e = expect.entry(i as i64 % 7).or_default();
        e.0 += 1;
        e.1 += cents;
    }
    let want: Vec<String> =
        expect.iter().map(|(g, (n, c))| format!("{g}\t{n}\t{}.{:02}", c / 100, c % 100)).collect();
    assert_eq!(lines[..groups], want.iter().map(String::as_str).collect::<Vec<_>>()[..]);
}
