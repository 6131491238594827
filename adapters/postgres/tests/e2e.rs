//! End-to-end tests against a real PostgreSQL: every view table must equal
//! PostgreSQL's own result of the view's query after each `sync`.

mod common;

use std::time::Duration;

use common::{differences, sync, RunningAdapter, Rng, TestDb};
use freshet_postgres::{create_view, drop_view, PgError};
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;

const SCHEMA: &str = "
    CREATE TABLE customer (id int PRIMARY KEY, name text, region text);
    CREATE TABLE invoice (id int PRIMARY KEY, customer_id int, total numeric(12,2), status text NOT NULL DEFAULT 'open');
    CREATE TABLE line (invoice_id int, product text, amount numeric(12,2), qty int);
";

/// `(name, query)` of the views the random workload maintains.
const VIEWS: &[(&str, &str)] = &[
    (
        "invoice_balance",
        "SELECT i.id, i.total, count(l.amount) AS n, sum(l.amount) FILTER (WHERE l.qty > 1) AS bulk, \
         coalesce(sum(l.amount * l.qty), 0) AS value, coalesce(sum(l.amount), 0) = i.total AS balanced \
         FROM invoice i LEFT JOIN line l ON l.invoice_id = i.id GROUP BY i.id, i.total",
    ),
    (
        "by_region",
        "SELECT c.region, count(*) AS n, sum(l.amount) AS s, max(l.product) AS top, min(l.qty) AS least \
         FROM line l JOIN invoice i ON i.id = l.invoice_id JOIN customer c ON c.id = i.customer_id GROUP BY c.region",
    ),
    (
        "flat_lines",
        "SELECT l.product, l.amount, c.name FROM line l JOIN invoice i ON i.id = l.invoice_id \
         LEFT JOIN customer c ON c.id = i.customer_id",
    ),
    (
        "invoice_customer",
        "SELECT i.id AS invoice, c.id AS customer, c.name, i.status FROM invoice i LEFT JOIN customer c ON c.id = i.customer_id",
    ),
    ("line_totals", "SELECT count(*) AS n, sum(amount) AS s, count(DISTINCT product) AS products FROM line"),
];

fn pg(db: &TestDb) -> Client {
    db.connect()
}

fn create_all(c: &mut Client) {
    for (name, query) in VIEWS {
        create_view(c, name, query, "public", &mut |_| {}).unwrap_or_else(|e| panic!("create {name}: {e}"));
    }
}

fn check_all(c: &mut Client, when: &str) {
    for (name, query) in VIEWS {
        assert_eq!(differences(c, name, query), 0, "view {name} differs from PostgreSQL's result {when}");
    }
}

fn opt(rng: &mut Rng, percent_null: u64, v: String) -> String {
    if rng.chance(percent_null) {
        "NULL".into()
    } else {
        v
    }
}

/// One random statement of the workload.
fn statement(rng: &mut Rng) -> String {
    let products = ["'apple'", "'pear'", "'fig'", "'kiwi'"];
    let regions = ["'north'", "'south'", "'east'"];
    match rng.below(11) {
        0 => {
            let r = regions[rng.below(3) as usize].to_string();
            let region = opt(rng, 20, r);
            let n = format!("'c{}'", rng.below(9));
            let name = opt(rng, 10, n);
            let id = rng.below(30);
            format!("INSERT INTO customer VALUES ({id}, {name}, {region}) ON CONFLICT DO NOTHING")
        }
        1 => {
            let v = rng.below(35).to_string();
            let cust = opt(rng, 15, v);
            let total = format!("{}.{:02}", rng.below(50), rng.below(100));
            let id = rng.below(60);
            format!("INSERT INTO invoice VALUES ({id}, {cust}, {total}) ON CONFLICT DO NOTHING")
        }
        2..=4 => {
            let n = 1 + rng.below(3);
            let rows: Vec<String> = (0..n)
                .map(|_| {
                    let v = rng.below(65).to_string();
                    let inv = opt(rng, 5, v);
                    let p = products[rng.below(4) as usize].to_string();
                    let product = opt(rng, 10, p);
                    let a = format!("{}.{}", rng.below(20), rng.below(10));
                    let amount = opt(rng, 10, a);
                    let q = (1 + rng.below(3)).to_string();
                    let qty = opt(rng, 10, q);
                    format!("({inv}, {product}, {amount}, {qty})")
                })
                .collect();
            // Sometimes the same row twice: duplicates.
            let mut values = rows.join(", ");
            if rng.chance(20) {
                values = format!("{values}, {}", rows[0]);
            }
            format!("INSERT INTO line VALUES {values}")
        }
        5 => {
            let (to, p, m) = (rng.below(65), products[rng.below(4) as usize], rng.below(7));
            format!("UPDATE line SET invoice_id = {to} WHERE product = {p} AND invoice_id % 7 = {m}")
        }
        6 => {
            let r = regions[rng.below(3) as usize].to_string();
            let region = opt(rng, 25, r);
            let m = rng.below(5);
            format!("UPDATE customer SET region = {region} WHERE id % 5 = {m}")
        }
        7 => {
            let v = rng.below(35).to_string();
            let cust = opt(rng, 10, v);
            let m = rng.below(9);
            format!("UPDATE invoice SET customer_id = {cust}, status = 'paid' WHERE id % 9 = {m}")
        }
        8 => {
            let (a, q) = (rng.below(8), 1 + rng.below(3));
            format!("DELETE FROM line WHERE amount < {a} AND qty = {q}")
        }
        9 => {
            let m = rng.below(11);
            format!("DELETE FROM invoice WHERE id % 11 = {m}")
        }
        _ => {
            let (q, m) = (1 + rng.below(3), rng.below(6));
            format!("UPDATE line SET amount = amount + 1, qty = {q} WHERE invoice_id % 6 = {m}")
        }
    }
}

/// A transaction of 1–4 random statements, rolled back one time in five.
fn transaction(c: &mut Client, rng: &mut Rng) {
    let mut tx = c.transaction().unwrap();
    for _ in 0..1 + rng.below(4) {
        tx.batch_execute(&statement(rng)).unwrap();
    }
    if rng.chance(20) {
        tx.rollback().unwrap();
    } else {
        tx.commit().unwrap();
    }
}

#[test]
fn init_is_idempotent_and_reports_its_version() {
    let Some(db) = TestDb::create("init") else { return };
    let mut c = pg(&db);
    assert_eq!(freshet_postgres::init(&mut c).unwrap(), freshet_postgres::schema::SCHEMA_VERSION);
    assert_eq!(freshet_postgres::init(&mut c).unwrap(), freshet_postgres::schema::SCHEMA_VERSION);
    let tables: i64 = c
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'freshet'", &[])
        .unwrap()
        .get(0);
    assert_eq!(tables, 5, "schema_version, sources, views, view_sources, history");
    let versions: i64 = c.query_one("SELECT count(*) FROM freshet.schema_version", &[]).unwrap().get(0);
    assert_eq!(versions, 1);
}

#[test]
fn capture_logs_each_statement_and_truncate_for_unprivileged_writers() {
    let Some(db) = TestDb::create("capture") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    create_view(&mut c, "lines", "SELECT product, amount FROM line", "public", &mut |_| {}).unwrap();
    let role = format!("{}_writer", db.name);
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role}; GRANT INSERT, UPDATE, DELETE, TRUNCATE, SELECT ON line TO {role}"
    ))
    .unwrap();
    c.batch_execute(&format!("SET ROLE {role}")).unwrap();
    for stmt in [
        "INSERT INTO line VALUES (1, 'a', 1.5, 1), (2, 'b', 2, 2)",
        "UPDATE line SET qty = 3 WHERE product = 'a'",
        "DELETE FROM line WHERE product = 'b'",
        "TRUNCATE line",
    ] {
        c.batch_execute(stmt).unwrap();
    }
    c.batch_execute("RESET ROLE").unwrap();
    let oid: u32 = c.query_one("SELECT 'line'::regclass::oid", &[]).unwrap().get(0);
    let diffs: Vec<i16> = c
        .query(&format!("SELECT __freshet_diff FROM freshet.log_{oid} ORDER BY __freshet_seq, __freshet_diff"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(diffs, vec![1, 1, -1, 1, -1, 0]);
    let xids: i64 = c
        .query_one(&format!("SELECT count(DISTINCT __freshet_xid) FROM freshet.log_{oid}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(xids, 4, "one transaction per statement");
    c.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}")).unwrap();
    drop_view(&mut c, "lines").unwrap();
    let left: i64 = c
        .query_one("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'line'::regclass", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "capture removed with the last view");
    assert!(c.query_opt(&format!("SELECT 1 FROM pg_class WHERE relname = 'log_{oid}'"), &[]).unwrap().is_none());
}

#[test]
fn create_view_fails_cleanly() {
    let Some(db) = TestDb::create("failclean") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    c.batch_execute("CREATE TABLE docs (id int PRIMARY KEY, body json); INSERT INTO line VALUES (1, 'a', 1, 0)").unwrap();
    let unsupported = create_view(&mut c, "d", "SELECT id FROM docs", "public", &mut |_| {}).unwrap_err();
    assert!(unsupported.to_string().contains("has type json"), "{unsupported}");
    let div = create_view(&mut c, "d", "SELECT amount / qty AS x FROM line", "public", &mut |_| {}).unwrap_err();
    assert!(div.to_string().contains("division by zero"), "{div}");
    c.batch_execute("CREATE TABLE taken (x int)").unwrap();
    let exists = create_view(&mut c, "taken", "SELECT product FROM line", "public", &mut |_| {}).unwrap_err();
    assert!(matches!(exists, PgError::Postgres(_)), "{exists}");
    let left: i64 = c
        .query_one(
            "SELECT (SELECT count(*) FROM freshet.views) + (SELECT count(*) FROM freshet.sources) \
             + (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'line'::regclass) \
             + (SELECT count(*) FROM pg_tables WHERE schemaname = 'freshet' AND tablename LIKE 'log_%')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "a failed create-view leaves nothing behind");
}

#[test]
fn random_dml_matches_postgres_after_every_sync() {
    let Some(db) = TestDb::create("random") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    let mut rng = Rng::new(42);
    for _ in 0..40 {
        transaction(&mut c, &mut rng);
    }
    create_all(&mut c);
    check_all(&mut c, "after create-view");
    let _adapter = RunningAdapter::start(&db.url);
    for round in 0..25 {
        for _ in 0..1 + rng.below(6) {
            transaction(&mut c, &mut rng);
        }
        if round == 12 {
            c.batch_execute("TRUNCATE line").unwrap();
        }
        sync(&mut c);
        check_all(&mut c, &format!("after round {round}"));
    }
    // The change logs are pruned once every view has passed them.
    sync(&mut c);
    std::thread::sleep(Duration::from_millis(1500));
    sync(&mut c);
    let oid: u32 = c.query_one("SELECT 'line'::regclass::oid", &[]).unwrap().get(0);
    let logged: i64 = c.query_one(&format!("SELECT count(*) FROM freshet.log_{oid}"), &[]).unwrap().get(0);
    assert_eq!(logged, 0, "log rows every view has passed are pruned");
}

#[test]
fn views_created_and_dropped_while_running_and_a_restart() {
    let Some(db) = TestDb::create("lifecycle") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    let mut rng = Rng::new(7);
    let adapter = RunningAdapter::start(&db.url);
    for _ in 0..20 {
        transaction(&mut c, &mut rng);
    }
    create_all(&mut c);
    for _ in 0..20 {
        transaction(&mut c, &mut rng);
    }
    sync(&mut c);
    check_all(&mut c, "with views created under a running adapter");
    drop(adapter);
    // Changes while no adapter runs are caught up exactly on restart.
    for _ in 0..20 {
        transaction(&mut c, &mut rng);
    }
    drop_view(&mut c, "flat_lines").unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    sync(&mut c);
    for (name, query) in VIEWS.iter().filter(|(n, _)| *n != "flat_lines") {
        assert_eq!(differences(&mut c, name, query), 0, "{name} after restart");
    }
    let err = freshet_postgres::sync(&mut c, &["flat_lines".into()], Duration::from_secs(1)).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn quoted_identifiers_everywhere() {
    let Some(db) = TestDb::create("idents") else { return };
    let mut c = pg(&db);
    c.batch_execute(
        "CREATE SCHEMA \"Report \"\"Views\"\"\";
         CREATE TABLE \"Order Lines\" (\"Id\" int PRIMARY KEY, \"Amount $\" numeric(8,2), \"we'ird\"\"col\" text);
         INSERT INTO \"Order Lines\" VALUES (1, 2.50, 'x'), (2, 3, E'tab\\there'), (3, NULL, 'back\\slash')",
    )
    .unwrap();
    let query = "SELECT \"we'ird\"\"col\" AS \"Key\", sum(\"Amount $\") AS \"Sum $\" FROM \"Order Lines\" GROUP BY \"we'ird\"\"col\"";
    create_view(&mut c, "My \"View\"", query, "Report \"Views\"", &mut |_| {}).unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    c.batch_execute(
        "INSERT INTO \"Order Lines\" VALUES (4, 1, 'x'), (5, 7, E'new\\nline'); UPDATE \"Order Lines\" SET \"Amount $\" = 9 WHERE \"Id\" = 3",
    )
    .unwrap();
    sync(&mut c);
    let diff: i64 = c
        .query_one(
            &format!(
                "SELECT count(*) FROM ((SELECT * FROM \"Report \"\"Views\"\"\".\"My \"\"View\"\"\") EXCEPT ALL ({query})) a"
            ),
            &[],
        )
        .unwrap()
        .get(0);
    let rows: i64 = c.query_one("SELECT count(*) FROM \"Report \"\"Views\"\"\".\"My \"\"View\"\"\"", &[]).unwrap().get(0);
    assert_eq!((diff, rows), (0, 4));
}

#[test]
fn a_dropped_source_fails_its_view_alone() {
    let Some(db) = TestDb::create("dropsrc") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    c.batch_execute("CREATE TABLE other (x int); INSERT INTO other VALUES (1); INSERT INTO customer VALUES (1, 'a', 'n')")
        .unwrap();
    create_view(&mut c, "o", "SELECT x, count(*) AS n FROM other GROUP BY x", "public", &mut |_| {}).unwrap();
    create_view(&mut c, "cust", "SELECT region, count(*) AS n FROM customer GROUP BY region", "public", &mut |_| {}).unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    sync(&mut c);
    c.batch_execute("DROP TABLE other").unwrap();
    let err = freshet_postgres::sync(&mut c, &["o".into()], Duration::from_secs(20)).unwrap_err();
    assert!(matches!(&err, PgError::ViewFailed { reason, .. } if reason.contains("dropped")), "{err}");
    c.batch_execute("INSERT INTO customer VALUES (2, 'b', 's')").unwrap();
    freshet_postgres::sync(&mut c, &["cust".into()], Duration::from_secs(20)).unwrap();
    assert_eq!(differences(&mut c, "cust", "SELECT region, count(*) AS n FROM customer GROUP BY region"), 0);
    let status = freshet_postgres::status(&mut c).unwrap();
    let states: Vec<(String, String)> = status.into_iter().map(|s| (s.name, s.state)).collect();
    assert_eq!(states, vec![("cust".to_string(), "ok".to_string()), ("o".to_string(), "failed".to_string())]);
}

/// The capture of schema version 2 for `line`: one trigger function with a
/// fixed `search_path`, a per-row identity and an index in the log, a
/// notification for every statement.
fn version_2_capture(oid: u32) -> String {
    let log = format!("freshet.log_{oid}");
    let cols = "invoice_id, product, amount, qty";
    let insert = |diff: i32, from: &str| {
        format!("INSERT INTO {log} ({cols}, __freshet_xid, __freshet_diff) SELECT {cols}, __freshet_x, {diff} FROM {from};")
    };
    let body = format!(
        "DECLARE __freshet_x xid8 := pg_current_xact_id(); __freshet_n bigint := 0;
         BEGIN
         IF TG_OP = 'INSERT' THEN {} GET DIAGNOSTICS __freshet_n = ROW_COUNT;
         ELSIF TG_OP = 'DELETE' THEN {} GET DIAGNOSTICS __freshet_n = ROW_COUNT;
         ELSIF TG_OP = 'UPDATE' THEN {} GET DIAGNOSTICS __freshet_n = ROW_COUNT; {}
         ELSE INSERT INTO {log} (__freshet_xid, __freshet_diff) VALUES (__freshet_x, 0); __freshet_n := 1;
         END IF;
         IF __freshet_n > 0 THEN PERFORM pg_notify('freshet_changes', ''); END IF;
         RETURN NULL; END",
        insert(1, "__freshet_new"),
        insert(-1, "__freshet_old"),
        insert(-1, "__freshet_old"),
        insert(1, "__freshet_new"),
    );
    let mut ddl = String::new();
    for kind in ["insert", "update", "delete", "truncate"] {
        ddl.push_str(&format!("DROP TRIGGER freshet_capture_{kind} ON line; DROP FUNCTION freshet.capture_{oid}_{kind}();\n"));
    }
    ddl.push_str(&format!(
        "DROP SEQUENCE freshet.adapter_busy;
         ALTER TABLE {log} DROP COLUMN __freshet_batch; DROP TYPE freshet.row_{oid};
         ALTER TABLE {log} ALTER COLUMN __freshet_seq TYPE bigint USING 0;
         ALTER TABLE {log} ALTER COLUMN __freshet_seq ADD GENERATED ALWAYS AS IDENTITY (START 1000);
         CREATE INDEX ON {log} (__freshet_xid);
         CREATE FUNCTION freshet.capture_{oid}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
             SET search_path = pg_catalog, pg_temp AS $f${body}$f$;
         CREATE TRIGGER freshet_capture_insert AFTER INSERT ON line REFERENCING NEW TABLE AS __freshet_new
             FOR EACH STATEMENT EXECUTE FUNCTION freshet.capture_{oid}();
         CREATE TRIGGER freshet_capture_update AFTER UPDATE ON line REFERENCING OLD TABLE AS __freshet_old
             NEW TABLE AS __freshet_new FOR EACH STATEMENT EXECUTE FUNCTION freshet.capture_{oid}();
         CREATE TRIGGER freshet_capture_delete AFTER DELETE ON line REFERENCING OLD TABLE AS __freshet_old
             FOR EACH STATEMENT EXECUTE FUNCTION freshet.capture_{oid}();
         CREATE TRIGGER freshet_capture_truncate AFTER TRUNCATE ON line FOR EACH STATEMENT
             EXECUTE FUNCTION freshet.capture_{oid}();
         UPDATE freshet.schema_version SET version = 2;"
    ));
    ddl
}

/// A database whose view `totals` (`query`) reads `line`, captured by an
/// older schema version's capture (`old`, given the source's oid).
fn with_old_capture(tag: &str, query: &str, old: fn(u32) -> String) -> Option<(TestDb, Client, u32)> {
    let db = TestDb::create(tag)?;
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    c.batch_execute("INSERT INTO line VALUES (1, 'a', 1, 1), (2, 'b', 2, 2)").unwrap();
    create_view(&mut c, "totals", query, "public", &mut |_| {}).unwrap();
    let oid: u32 = c.query_one("SELECT 'line'::regclass::oid", &[]).unwrap().get(0);
    c.batch_execute(&old(oid)).unwrap();
    Some((db, c, oid))
}

#[test]
fn init_upgrades_version_2_captures_keeping_pending_changes() {
    let totals = "SELECT product, count(*) AS n, sum(amount) AS s FROM line GROUP BY product";
    let Some((db, mut c, oid)) = with_old_capture("upgrade", totals, version_2_capture) else { return };
    let installed = |c: &mut Client| -> i32 { c.query_one("SELECT max(version) FROM freshet.schema_version", &[]).unwrap().get(0) };
    assert_eq!(installed(&mut c), 2);
    // Changes logged by the old capture, not read yet; then a TRUNCATE
    // and more rows logged by the new one must order after them.
    c.batch_execute("INSERT INTO line VALUES (3, 'a', 5, 1); UPDATE line SET amount = 7 WHERE product = 'b'").unwrap();
    let current = freshet_postgres::schema::SCHEMA_VERSION;
    assert_eq!(freshet_postgres::init(&mut c).unwrap(), current);
    assert_eq!(installed(&mut c), current);
    let functions: Vec<String> = c
        .query(
            "SELECT proname::text FROM pg_proc WHERE pronamespace = 'freshet'::regnamespace AND proname LIKE 'capture%' \
             ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expect: Vec<String> =
        ["delete", "insert", "truncate", "update"].iter().map(|k| format!("capture_{oid}_{k}")).collect();
    assert_eq!(functions, expect, "one function per statement kind, the old one gone");
    let indexes: i64 =
        c.query_one(&format!("SELECT count(*) FROM pg_index WHERE indrelid = 'freshet.log_{oid}'::regclass"), &[]).unwrap().get(0);
    assert_eq!(indexes, 0, "the log's index is dropped");
    c.batch_execute("DELETE FROM line WHERE product = 'a'; TRUNCATE line; INSERT INTO line VALUES (4, 'c', 1, 1)").unwrap();
    let order = c
        .query_one(
            &format!(
                "SELECT count(*) FILTER (WHERE __freshet_seq < '0/100000'), \
                 bool_and(__freshet_seq < (SELECT __freshet_seq FROM freshet.log_{oid} WHERE __freshet_diff = 0)) \
                 FILTER (WHERE __freshet_seq < '0/100000') FROM freshet.log_{oid}"
            ),
            &[],
        )
        .unwrap();
    let (old, marker_after_old): (i64, bool) = (order.get(0), order.get(1));
    assert_eq!((old, marker_after_old), (3, true), "rows logged before the upgrade keep their order, first");
    let _adapter = RunningAdapter::start(&db.url);
    sync(&mut c);
    assert_eq!(differences(&mut c, "totals", totals), 0);
    c.batch_execute("INSERT INTO line VALUES (5, 'c', 2, 1)").unwrap();
    sync(&mut c);
    assert_eq!(differences(&mut c, "totals", totals), 0);
}

/// The capture functions of schema version 3 for `line`: a query counting
/// the statement's rows first, then its rows logged one by one (fewer than
/// 16) or as one array.
fn version_3_capture(oid: u32) -> String {
    let log = format!("freshet.log_{oid}");
    let cols = "invoice_id, product, amount, qty";
    let xid = "pg_catalog.pg_current_xact_id()";
    let lsn = "pg_catalog.pg_current_wal_insert_lsn()";
    let flag = "pg_catalog.pg_sequence_last_value('freshet.adapter_busy'::pg_catalog.regclass) IS NULL";
    let notify = "PERFORM pg_catalog.pg_notify('freshet_changes', '')";
    let mut ddl = String::new();
    let kinds: [(&str, &[(&str, i32)]); 3] = [
        ("insert", &[("__freshet_new", 1)]),
        ("update", &[("__freshet_old", -1), ("__freshet_new", 1)]),
        ("delete", &[("__freshet_old", -1)]),
    ];
    for (kind, logged) in kinds {
        let rows: Vec<String> = logged.iter().map(|(t, d)| format!("SELECT {cols}, {xid}, {d}, {lsn} FROM {t}")).collect();
        let arrays: Vec<String> = logged
            .iter()
            .map(|(t, d)| format!("SELECT {xid}, {d}, {lsn}, pg_catalog.array_agg(ROW({cols})::freshet.row_{oid}) FROM {t}"))
            .collect();
        let body = format!(
            "BEGIN
             PERFORM FROM {} OFFSET 15 LIMIT 1;
             IF FOUND THEN
               INSERT INTO {log} (__freshet_xid, __freshet_diff, __freshet_seq, __freshet_batch) {};
             ELSE
               INSERT INTO {log} ({cols}, __freshet_xid, __freshet_diff, __freshet_seq) {};
             END IF;
             IF FOUND AND {flag} THEN {notify}; END IF;
             RETURN NULL; END",
            logged[0].0,
            arrays.join(" UNION ALL "),
            rows.join(" UNION ALL ")
        );
        ddl.push_str(&format!(
            "CREATE OR REPLACE FUNCTION freshet.capture_{oid}_{kind}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER \
             AS $f${body}$f$;\n"
        ));
    }
    ddl.push_str("UPDATE freshet.schema_version SET version = 3;");
    ddl
}

#[test]
fn init_upgrades_version_3_capture_functions_keeping_pending_changes() {
    let totals = "SELECT product, count(*) AS n, sum(amount) AS s, sum(qty) AS q FROM line GROUP BY product";
    let Some((db, mut c, oid)) = with_old_capture("upgrade3", totals, version_3_capture) else { return };
    let body = |c: &mut Client| -> String {
        c.query_one(&format!("SELECT prosrc FROM pg_proc WHERE oid = 'freshet.capture_{oid}_update'::regproc"), &[])
            .unwrap()
            .get(0)
    };
    assert!(body(&mut c).contains("OFFSET 15 LIMIT 1"));
    assert!(matches!(freshet_postgres::schema::check_installed(&mut c), Err(PgError::Usage(m)) if m.contains("freshet init")));
    // Logged by the old functions, not read yet: rows one by one and a
    // statement of 20 rows as one array.
    c.batch_execute(
        "INSERT INTO line SELECT g, 'c', g, 1 FROM generate_series(1, 20) g; \
         UPDATE line SET amount = amount + 1 WHERE product = 'a'; DELETE FROM line WHERE product = 'b'",
    )
    .unwrap();
    let logged: i64 = c.query_one(&format!("SELECT count(*) FROM freshet.log_{oid}"), &[]).unwrap().get(0);
    assert_eq!(logged, 4, "one array row, two rows of the update, one of the delete");
    assert_eq!(freshet_postgres::init(&mut c).unwrap(), freshet_postgres::schema::SCHEMA_VERSION);
    assert!(body(&mut c).contains("OPERATOR(pg_catalog.=) 32"), "the current function: {}", body(&mut c));
    assert_eq!(freshet_postgres::init(&mut c).unwrap(), freshet_postgres::schema::SCHEMA_VERSION, "idempotent");
    // Then the new functions log more, small and large, around a TRUNCATE.
    c.batch_execute(
        "UPDATE line SET qty = qty + 1 WHERE product = 'c' AND invoice_id <= 3; \
         UPDATE line SET qty = qty + 1 WHERE product = 'c'; \
         INSERT INTO line SELECT g, 'd', g, 2 FROM generate_series(1, 50) g",
    )
    .unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    sync(&mut c);
    assert_eq!(differences(&mut c, "totals", totals), 0);
    c.batch_execute("BEGIN; DELETE FROM line WHERE product = 'd' AND invoice_id > 45; TRUNCATE line; INSERT INTO line VALUES (9, 'e', 1, 1); COMMIT")
        .unwrap();
    sync(&mut c);
    assert_eq!(differences(&mut c, "totals", totals), 0);
    let rows: i64 = c.query_one("SELECT count(*) FROM totals", &[]).unwrap().get(0);
    assert_eq!(rows, 1);
}

#[test]
fn capture_notifies_only_while_the_adapter_waits() {
    let Some(db) = TestDb::create("doorbell") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    create_view(&mut c, "lines", "SELECT product, amount FROM line", "public", &mut |_| {}).unwrap();
    let mut listener = pg(&db);
    listener.batch_execute("LISTEN freshet_changes").unwrap();
    let mut notified = |c: &mut Client, stmt: &str| -> bool {
        c.batch_execute(stmt).unwrap();
        let got = listener.notifications().timeout_iter(Duration::from_millis(300)).count().unwrap();
        got > 0
    };
    // A fresh (or crashed) adapter state reads as waiting.
    assert!(notified(&mut c, "INSERT INTO line VALUES (1, 'a', 1, 1)"));
    c.batch_execute("SELECT setval('freshet.adapter_busy', 1, true)").unwrap();
    assert!(!notified(&mut c, "INSERT INTO line VALUES (2, 'b', 1, 1)"), "busy: no notification");
    assert!(!notified(&mut c, "TRUNCATE line"));
    c.batch_execute("SELECT setval('freshet.adapter_busy', 1, false)").unwrap();
    assert!(notified(&mut c, "INSERT INTO line VALUES (3, 'c', 1, 1)"), "waiting again");
    assert!(notified(&mut c, "UPDATE line SET qty = 2"));
    assert!(!notified(&mut c, "DELETE FROM line WHERE false"), "a statement changing nothing");
    // A running adapter leaves the flag busy when it stops.
    {
        let _adapter = RunningAdapter::start(&db.url);
        sync(&mut c);
    }
    assert!(!notified(&mut c, "INSERT INTO line VALUES (4, 'd', 1, 1)"), "no adapter waits");
}

#[test]
fn view_keys_are_the_narrowest_the_plan_proves() {
    let Some(db) = TestDb::create("keys") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    create_all(&mut c);
    let keys: Vec<(String, Option<Vec<i32>>, Option<String>)> = c
        .query(
            "SELECT v.name, v.key_columns, (SELECT indexdef FROM pg_indexes i WHERE i.tablename = v.table_name) \
             FROM freshet.views v ORDER BY v.name",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let index = |cols: &str, table: &str| {
        Some(format!("CREATE UNIQUE INDEX {table}_{}_idx ON public.{table} USING btree ({cols}) NULLS NOT DISTINCT", cols.replace(", ", "_")))
    };
    assert_eq!(
        keys,
        vec![
            // GROUP BY c.region: the group key.
            ("by_region".into(), Some(vec![0]), index("region", "by_region")),
            // No key: a bag, unique on every column and the count.
            (
                "flat_lines".into(),
                None,
                index("product, amount, name", "flat_lines"),
            ),
            // GROUP BY i.id, i.total: the primary key determines the total.
            ("invoice_balance".into(), Some(vec![0]), index("id", "invoice_balance")),
            // invoice LEFT JOIN customer on its primary key: one row per
            // invoice.
            ("invoice_customer".into(), Some(vec![0]), index("invoice", "invoice_customer")),
            // A global aggregate: one row, no index.
            ("line_totals".into(), Some(vec![]), None),
        ]
    );
}

#[test]
fn large_statements_are_logged_as_one_array_row() {
    let Some(db) = TestDb::create("batches") else { return };
    let mut c = pg(&db);
    c.batch_execute(SCHEMA).unwrap();
    let totals = "SELECT product, count(*) AS n, sum(amount) AS s, sum(qty) AS q FROM line GROUP BY product";
    create_view(&mut c, "totals", totals, "public", &mut |_| {}).unwrap();
    let oid: u32 = c.query_one("SELECT 'line'::regclass::oid", &[]).unwrap().get(0);
    let logged = |c: &mut Client| -> (i64, i64) {
        let r = c
            .query_one(
                &format!(
                    "SELECT count(*) FILTER (WHERE __freshet_batch IS NULL), \
                     coalesce(sum(cardinality(__freshet_batch)), 0) FROM freshet.log_{oid}"
                ),
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    // The first 16 rows of each transition table one log row each, the
    // rest as one array per transition table.
    c.batch_execute("INSERT INTO line SELECT g, 'p' || (g % 3), g, 1 FROM generate_series(1, 15) g").unwrap();
    assert_eq!(logged(&mut c), (15, 0));
    c.batch_execute("INSERT INTO line SELECT g, 'p' || (g % 4), g * 2, NULL FROM generate_series(1, 16) g").unwrap();
    assert_eq!(logged(&mut c), (31, 0), "16 rows fill the limit, nothing is left");
    c.batch_execute("INSERT INTO line SELECT g, 'r', g, g FROM generate_series(1, 40) g").unwrap();
    assert_eq!(logged(&mut c), (47, 24));
    // An UPDATE: the first 32 of its 40 old and 40 new rows (the old
    // ones), then the remaining 8 old and 40 new rows as two arrays.
    c.batch_execute("UPDATE line SET qty = qty + 100 WHERE product = 'r'").unwrap();
    assert_eq!(logged(&mut c), (79, 72));
    let arrays: Vec<(i16, i32)> = c
        .query(
            &format!(
                "SELECT __freshet_diff, cardinality(__freshet_batch) FROM freshet.log_{oid} \
                 WHERE __freshet_batch IS NOT NULL ORDER BY 1, 2"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(arrays, vec![(-1, 8), (1, 24), (1, 40)]);
    c.batch_execute("DELETE FROM line WHERE product = 'r' AND qty > 120").unwrap();
    assert_eq!(logged(&mut c), (95, 76), "20 rows deleted: 16 one by one, 4 in an array");
    let _adapter = RunningAdapter::start(&db.url);
    sync(&mut c);
    assert_eq!(differences(&mut c, "totals", totals), 0);
    // Batched updates and deletes, around a TRUNCATE in one transaction,
    // with NULLs and text needing escapes.
    c.batch_execute(
        "BEGIN; UPDATE line SET qty = coalesce(qty, 0) + 1, product = product || E'\\t\"x\"'; \
         DELETE FROM line WHERE amount > 20; TRUNCATE line; \
         INSERT INTO line SELECT g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'q' || (g % 2) END, NULL, g FROM generate_series(1, 40) g; \
         UPDATE line SET amount = 1.5 WHERE qty > 10; COMMIT",
    )
    .unwrap();
    sync(&mut c);
    assert_eq!(differences(&mut c, "totals", totals), 0);
    c.batch_execute("DELETE FROM line WHERE qty > 3").unwrap();
    sync(&mut c);
    assert_eq!(differences(&mut c, "totals", totals), 0);
}

/// Rows of `a` not in `b` plus the reverse, compared as text (exact
/// round trip: `{1.50}` is not `{1.5}`).
fn text_differences(c: &mut Client, a: &str, b: &str) -> i64 {
    let mut one = |x: &str, y: &str| -> i64 {
        c.query_one(&format!("SELECT count(*) FROM (({x}) EXCEPT ALL ({y})) d"), &[]).unwrap().get(0)
    };
    one(a, b) + one(b, a)
}

#[test]
fn array_columns_and_array_agg_views_round_trip_exactly() {
    let Some(db) = TestDb::create("arrays") else { return };
    let mut c = pg(&db);
    c.batch_execute(
        "CREATE TABLE doc (id int PRIMARY KEY, grp int, tags text[], nums numeric(10,2)[], days date[], \
                           flags boolean[], ids bigint[], n int, t text, d date, b boolean, x numeric(8,3));
         INSERT INTO doc VALUES
           (1, 1, '{a,b}', '{1.5,NULL,-2}', '{2024-01-02}', '{t,f,NULL}', '{1,9000000000}', 3, 'x', '2024-05-01', true, 1.5),
           (2, 1, '{}', '{}', NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL),
           (3, 2, ARRAY['', 'NULL', NULL, 'a\"b', 'c\\d', 'e,f', '{g}', ' h ', 'tab\there', 'ü'], NULL, '{NULL}', NULL, '{}', 1, 'a\\b', '2023-12-31', false, 2),
           (4, 2, '{a,b}', '{0.10}', '{2024-01-02,2024-01-03}', '{t}', '{-1}', 1, '', '2024-01-01', NULL, -0.25)",
    )
    .unwrap();
    let views: &[(&str, &str)] = &[
        ("docs", "SELECT id, tags, nums, days, flags, ids FROM doc"),
        ("by_tags", "SELECT tags, count(*) AS n, sum(n) AS s FROM doc GROUP BY tags"),
        (
            "aggs",
            "SELECT grp, array_agg(n ORDER BY n) AS ns, array_agg(t ORDER BY t) AS ts, array_agg(d ORDER BY d) AS ds, \
             array_agg(b ORDER BY b) AS bs, array_agg(x ORDER BY x) AS xs, array_agg(DISTINCT n) AS dn FROM doc GROUP BY grp",
        ),
        ("tag_bag", "SELECT tags, flags FROM doc WHERE grp = 1"),
    ];
    for (name, query) in views {
        create_view(&mut c, name, query, "public", &mut |_| {}).unwrap_or_else(|e| panic!("create {name}: {e}"));
    }
    let types = |c: &mut Client, table: &str| -> Vec<String> {
        c.query(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::text::regclass \
             AND attnum > 0 ORDER BY attnum",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    assert_eq!(types(&mut c, "docs"), ["integer", "text[]", "numeric[]", "date[]", "boolean[]", "bigint[]"]);
    assert_eq!(types(&mut c, "aggs"), ["integer", "integer[]", "text[]", "date[]", "boolean[]", "numeric[]", "integer[]"]);
    assert_eq!(types(&mut c, "tag_bag"), ["text[]", "boolean[]", "bigint"]);
    let check = |c: &mut Client, when: &str| {
        for (name, query) in views {
            assert_eq!(differences(c, name, query), 0, "view {name} {when}");
        }
        let cols = "id, tags::text, nums::text, days::text, flags::text, ids::text";
        assert_eq!(text_differences(c, &format!("SELECT {cols} FROM docs"), &format!("SELECT {cols} FROM doc")), 0, "{when}");
        let aggs = "grp, ns::text, ts::text, ds::text, bs::text, xs::text, dn::text";
        assert_eq!(text_differences(c, &format!("SELECT {aggs} FROM aggs"), &format!("SELECT {aggs} FROM ({}) q", views[2].1)), 0);
    };
    check(&mut c, "after create-view");

    let _adapter = RunningAdapter::start(&db.url);
    let mut rng = Rng::new(11);
    let words = ["'a'", "'b'", "NULL", "'x y'", "'\"q\"'", "'NULL'", "''"];
    for round in 0..12 {
        for _ in 0..3 {
            let id = 1 + rng.below(12);
            let w = words[rng.below(words.len() as u64) as usize];
            let stmt = match rng.below(6) {
                0 => format!(
                    "INSERT INTO doc VALUES ({id}, {}, ARRAY[{w}, 'z'], '{{{}.25,NULL}}', ARRAY[date '2024-02-0{}'], '{{t,NULL}}', \
                     '{{{id}}}', {}, {w}, date '2024-03-01' + {id}, {}, {}.125) ON CONFLICT DO NOTHING",
                    rng.below(3),
                    rng.below(9),
                    1 + rng.below(8),
                    rng.below(5),
                    if rng.chance(50) { "true" } else { "NULL" },
                    rng.below(4)
                ),
                1 => format!("UPDATE doc SET tags = array_append(tags, {w}), n = coalesce(n, 0) + 1 WHERE id % 3 = {}", id % 3),
                2 => format!("UPDATE doc SET nums = NULL, days = '{{}}', t = {w} WHERE id = {id}"),
                3 => format!("UPDATE doc SET grp = {}, flags = ARRAY[NULL::boolean], x = NULL WHERE id = {id}", rng.below(3)),
                4 => format!("DELETE FROM doc WHERE id = {id}"),
                _ => format!("UPDATE doc SET tags = '{{a,b}}', ids = ids || {id}::bigint WHERE id % 4 = {}", id % 4),
            };
            c.batch_execute(&stmt).unwrap_or_else(|e| panic!("{stmt}: {e:?}"));
        }
        sync(&mut c);
        check(&mut c, &format!("after round {round}"));
    }
}

#[test]
fn arrays_freshet_cannot_represent_are_refused_naming_the_column() {
    let Some(db) = TestDb::create("arrays_refused") else { return };
    let mut c = pg(&db);
    c.batch_execute(
        "CREATE TABLE grid (id int PRIMARY KEY, cells int[][]);
         CREATE TABLE m (id int PRIMARY KEY, a int[]);
         CREATE TABLE other (id int PRIMARY KEY, v int);
         INSERT INTO m VALUES (1, '{{1,2},{3,4}}')",
    )
    .unwrap();
    let err = create_view(&mut c, "g", "SELECT id, cells FROM grid", "public", &mut |_| {}).unwrap_err();
    assert!(
        matches!(&err, PgError::Unsupported(m) if m.starts_with("column \"cells\" of table \"public\".\"grid\" has type integer[][]")),
        "{err}"
    );
    let err = create_view(&mut c, "mv", "SELECT id, a FROM m", "public", &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "column \"a\" of table \"public\".\"m\": multidimensional arrays are not supported (value {{1,2},{3,4}})"
    );
    let left: i64 = c.query_one("SELECT count(*) FROM freshet.views", &[]).unwrap().get(0);
    assert_eq!(left, 0, "nothing left behind");

    // Such a value arriving later fails the views reading it, with the
    // reason; the adapter and other views go on.
    c.batch_execute("UPDATE m SET a = '{1,NULL}'").unwrap();
    create_view(&mut c, "mv", "SELECT id, a FROM m", "public", &mut |_| {}).unwrap();
    create_view(&mut c, "ov", "SELECT id, v FROM other", "public", &mut |_| {}).unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    sync(&mut c);
    c.batch_execute("INSERT INTO m VALUES (2, '[0:1]={5,6}'); INSERT INTO other VALUES (1, 1)").unwrap();
    let err = freshet_postgres::sync(&mut c, &["mv".into()], Duration::from_secs(20)).unwrap_err();
    let reason = "column \"a\" of table \"public\".\"m\": arrays whose lower bound is not 1 are not supported (value [0:1]={5,6})";
    assert!(matches!(&err, PgError::ViewFailed { reason: r, .. } if r == reason), "{err}");
    freshet_postgres::sync(&mut c, &["ov".into()], Duration::from_secs(20)).unwrap();
    assert_eq!(differences(&mut c, "ov", "SELECT id, v FROM other"), 0);
    // Gone again: resume rebuilds the view exactly.
    c.batch_execute("DELETE FROM m WHERE id = 2; INSERT INTO m VALUES (3, '{7}')").unwrap();
    freshet_postgres::resume(&mut c, "mv").unwrap();
    sync(&mut c);
    assert_eq!(differences(&mut c, "mv", "SELECT id, a FROM m"), 0);
}

#[test]
fn columns_named_like_trigger_variables_are_captured() {
    let Some(db) = TestDb::create("plvars") else { return };
    let mut c = pg(&db);
    c.batch_execute("CREATE TABLE t (found int, new text, old int, tg_op text, d int, r int)").unwrap();
    let q = "SELECT found, new, sum(old) AS old, count(tg_op) AS tg_op, max(d) AS d, min(r) AS r FROM t GROUP BY found, new";
    create_view(&mut c, "v", q, "public", &mut |_| {}).unwrap();
    let _adapter = RunningAdapter::start(&db.url);
    c.batch_execute(
        "INSERT INTO t VALUES (1, 'a', 2, 'x', 3, 4); \
         INSERT INTO t SELECT g % 3, 'b', g, 'y', g, g FROM generate_series(1, 40) g; \
         UPDATE t SET old = old + 1 WHERE found = 1; UPDATE t SET new = 'c' WHERE found = 2 AND d < 10; \
         DELETE FROM t WHERE r > 30; DELETE FROM t WHERE d = 3",
    )
    .unwrap();
    sync(&mut c);
    assert_eq!(differences(&mut c, "v", q), 0);
}
