//! The users' view shapes under random DML, each checked against
//! PostgreSQL's own result (`EXCEPT ALL` both ways) after every `sync`:
//! a six-table chain of INNER and LEFT joins denormalised into one view,
//! invoices LEFT JOIN their lines grouped by invoice with FILTER
//! aggregates and a balance check, and 100 views over the same sources.

mod common;

use common::{differences, sync, RunningAdapter, Rng, TestDb};
use freshet_postgres::create_view;
use postgres::Client;

fn create(c: &mut Client, views: &[(String, String)]) {
    for (name, query) in views {
        create_view(c, name, query, "public", &mut |_| {}).unwrap_or_else(|e| panic!("create {name}: {e}"));
    }
}

fn check(c: &mut Client, views: &[(String, String)], when: &str) {
    for (name, query) in views {
        assert_eq!(differences(c, name, query), 0, "view {name} differs from PostgreSQL's result {when}");
    }
}

/// NULL `percent` % of the time, else a number in `from..from + n`.
fn nullable(rng: &mut Rng, percent: u64, from: u64, n: u64) -> String {
    let v = from + rng.below(n);
    if rng.chance(percent) {
        "NULL".into()
    } else {
        v.to_string()
    }
}

/// Runs `rounds` rounds of 1–5 random transactions (one in six rolled
/// back), syncing and checking every view after each.
fn random_rounds(
    c: &mut Client,
    rng: &mut Rng,
    views: &[(String, String)],
    rounds: usize,
    statement: fn(&mut Rng) -> String,
) {
    for round in 0..rounds {
        for _ in 0..1 + rng.below(5) {
            let mut tx = c.transaction().unwrap();
            for _ in 0..1 + rng.below(4) {
                tx.batch_execute(&statement(rng)).unwrap();
            }
            if rng.chance(16) {
                tx.rollback().unwrap();
            } else {
                tx.commit().unwrap();
            }
        }
        sync(c);
        check(c, views, &format!("after round {round}"));
    }
}

const CHAIN_SCHEMA: &str = "
    CREATE TABLE region (id int PRIMARY KEY, name text);
    CREATE TABLE country (id int PRIMARY KEY, region_id int, name text);
    CREATE TABLE customer (id int PRIMARY KEY, country_id int, name text, vip boolean);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int, placed date, status text);
    CREATE TABLE product (id int PRIMARY KEY, name text, price numeric(10,2));
    CREATE TABLE order_line (id int PRIMARY KEY, order_id int, product_id int, qty int);
    INSERT INTO region SELECT g, 'r' || g FROM generate_series(1, 4) g;
    INSERT INTO country SELECT g, 1 + g % 5, 'k' || g FROM generate_series(1, 10) g;
    INSERT INTO customer SELECT g, 1 + g % 12, 'c' || g, g % 3 = 0 FROM generate_series(1, 30) g;
    INSERT INTO orders SELECT g, 1 + g % 33, date '2024-01-01' + g, 'open' FROM generate_series(1, 60) g;
    INSERT INTO product SELECT g, 'p' || g, g * 1.25 FROM generate_series(1, 15) g;
    INSERT INTO order_line SELECT g, 1 + g % 65, 1 + g % 17, 1 + g % 4 FROM generate_series(1, 150) g;
";

/// The denormalised order line: lines JOIN orders JOIN product, LEFT JOIN
/// the customer, its country and its region.
const CHAIN: &str = "SELECT ol.id AS line_id, o.id AS order_id, o.placed, o.status, c.name AS customer, c.vip, \
    co.name AS country, r.name AS region, p.name AS product, p.price, ol.qty, p.price * ol.qty AS amount \
    FROM order_line ol \
    JOIN orders o ON o.id = ol.order_id \
    JOIN product p ON p.id = ol.product_id \
    LEFT JOIN customer c ON c.id = o.customer_id \
    LEFT JOIN country co ON co.id = c.country_id \
    LEFT JOIN region r ON r.id = co.region_id";

fn chain_statement(rng: &mut Rng) -> String {
    match rng.below(14) {
        0 => format!("INSERT INTO region VALUES ({}, 'r{}') ON CONFLICT (id) DO UPDATE SET name = excluded.name", 1 + rng.below(6), rng.below(9)),
        1 => format!("UPDATE country SET region_id = {} WHERE id % 4 = {}", nullable(rng, 15, 1, 6), rng.below(4)),
        2 => format!("INSERT INTO country VALUES ({}, {}, 'k{}') ON CONFLICT DO NOTHING", 1 + rng.below(14), 1 + rng.below(6), rng.below(9)),
        3 => format!("UPDATE customer SET country_id = {}, vip = NOT vip WHERE id % 7 = {}", nullable(rng, 10, 1, 14), rng.below(7)),
        4 => format!("INSERT INTO customer VALUES ({}, {}, 'c{}', {}) ON CONFLICT DO NOTHING", 1 + rng.below(40), 1 + rng.below(14), rng.below(50), rng.chance(50)),
        5 => format!("DELETE FROM customer WHERE id % 13 = {}", rng.below(13)),
        6 => format!("UPDATE orders SET customer_id = {}, status = 'shipped' WHERE id % 9 = {}", nullable(rng, 10, 1, 40), rng.below(9)),
        7 => format!("INSERT INTO orders VALUES ({}, {}, date '2024-03-01' + {}, 'open') ON CONFLICT DO NOTHING", 1 + rng.below(80), 1 + rng.below(40), rng.below(30)),
        8 => format!("DELETE FROM orders WHERE id % 17 = {}", rng.below(17)),
        9 => format!("UPDATE product SET price = price + 0.5 WHERE id % 5 = {}", rng.below(5)),
        10 => format!("DELETE FROM product WHERE id = {}", 1 + rng.below(20)),
        11 => format!("INSERT INTO product VALUES ({}, 'p{}', {}.{}) ON CONFLICT DO NOTHING", 1 + rng.below(20), rng.below(30), rng.below(40), rng.below(100)),
        12 => format!("UPDATE order_line SET order_id = {}, qty = qty + 1 WHERE id % 11 = {}", 1 + rng.below(80), rng.below(11)),
        _ => {
            let rows: Vec<String> = (0..1 + rng.below(4))
                .map(|_| format!("({}, {}, {}, {})", 200 + rng.below(400), 1 + rng.below(80), 1 + rng.below(20), nullable(rng, 10, 1, 5)))
                .collect();
            if rng.chance(30) {
                format!("DELETE FROM order_line WHERE id % 19 = {}", rng.below(19))
            } else {
                format!("INSERT INTO order_line VALUES {} ON CONFLICT DO NOTHING", rows.join(", "))
            }
        }
    }
}

#[test]
fn six_table_chain_of_inner_and_left_joins() {
    let Some(db) = TestDb::create("chain") else { return };
    let mut c = db.connect();
    c.batch_execute(CHAIN_SCHEMA).unwrap();
    let views = vec![("order_flat".to_string(), CHAIN.to_string())];
    create(&mut c, &views);
    check(&mut c, &views, "after create-view");
    let key: Option<String> = c
        .query_one(
            "SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_index i JOIN pg_attribute a \
             ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'order_flat'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(key.is_some(), "the denormalised view has a unique key");
    let _adapter = RunningAdapter::start(&db.url);
    let mut rng = Rng::new(2024);
    random_rounds(&mut c, &mut rng, &views, 25, chain_statement);
}

const INVOICE_SCHEMA: &str = "
    CREATE TABLE invoice (id int PRIMARY KEY, customer text, total numeric(12,2), issued date);
    CREATE TABLE invoice_line (invoice_id int, kind text, amount numeric(12,2), qty int);
    INSERT INTO invoice SELECT g, 'c' || g % 7, (g % 9) * 2.5, date '2024-01-01' + g FROM generate_series(1, 40) g;
    INSERT INTO invoice_line SELECT 1 + g % 45, (ARRAY['goods', 'tax', 'discount'])[1 + g % 3], (g % 5) * 1.25, 1 + g % 3
        FROM generate_series(1, 120) g;
";

/// Invoice header LEFT JOIN lines, grouped by the invoice id, with FILTER
/// aggregates and a boolean balance check.
const INVOICE: &str = "SELECT i.id, i.customer, i.total, count(l.amount) AS lines, \
    sum(l.amount * l.qty) FILTER (WHERE l.kind = 'goods') AS goods, \
    sum(l.amount * l.qty) FILTER (WHERE l.kind = 'tax') AS tax, \
    count(*) FILTER (WHERE l.kind = 'discount') AS discounts, \
    max(l.amount) FILTER (WHERE l.qty > 1) AS biggest_multi, \
    coalesce(sum(l.amount * l.qty), 0) = i.total AS balanced \
    FROM invoice i LEFT JOIN invoice_line l ON l.invoice_id = i.id \
    GROUP BY i.id, i.customer, i.total";

fn invoice_statement(rng: &mut Rng) -> String {
    let kinds = ["'goods'", "'tax'", "'discount'"];
    match rng.below(8) {
        0 => format!(
            "INSERT INTO invoice VALUES ({}, 'c{}', {}.{}, date '2024-05-01') ON CONFLICT (id) DO UPDATE SET total = excluded.total",
            1 + rng.below(50),
            rng.below(7),
            rng.below(30),
            rng.below(4) * 25
        ),
        1 => format!("UPDATE invoice SET total = coalesce(total, 0) + 2.5 WHERE id % 6 = {}", rng.below(6)),
        2 => format!("DELETE FROM invoice WHERE id % 15 = {}", rng.below(15)),
        3 => format!("UPDATE invoice_line SET invoice_id = {} WHERE invoice_id % 10 = {} AND qty = {}", 1 + rng.below(50), rng.below(10), 1 + rng.below(3)),
        4 => format!("UPDATE invoice_line SET kind = {} WHERE invoice_id % 8 = {}", kinds[rng.below(3) as usize], rng.below(8)),
        5 => format!("DELETE FROM invoice_line WHERE amount < {} AND qty = {}", rng.below(4), 1 + rng.below(3)),
        _ => {
            let rows: Vec<String> = (0..1 + rng.below(4))
                .map(|_| {
                    let amount = if rng.chance(10) { "NULL".to_string() } else { format!("{}.{:02}", rng.below(10), rng.below(4) * 25) };
                    format!("({}, {}, {amount}, {})", nullable(rng, 5, 1, 50), kinds[rng.below(3) as usize], nullable(rng, 10, 1, 3))
                })
                .collect();
            format!("INSERT INTO invoice_line VALUES {}", rows.join(", "))
        }
    }
}

#[test]
fn invoices_left_join_lines_with_filter_aggregates_and_a_balance_check() {
    let Some(db) = TestDb::create("invoice") else { return };
    let mut c = db.connect();
    c.batch_execute(INVOICE_SCHEMA).unwrap();
    // Some invoices balance exactly, so the check is true for some rows.
    c.batch_execute(
        "UPDATE invoice i SET total = s.t FROM (SELECT invoice_id, sum(amount * qty) AS t FROM invoice_line GROUP BY 1) s \
         WHERE s.invoice_id = i.id AND i.id % 2 = 0",
    )
    .unwrap();
    let views = vec![("invoice_check".to_string(), INVOICE.to_string())];
    create(&mut c, &views);
    let balanced: i64 = c.query_one("SELECT count(*) FROM invoice_check WHERE balanced", &[]).unwrap().get(0);
    assert!(balanced > 0, "some invoices balance");
    let _adapter = RunningAdapter::start(&db.url);
    let mut rng = Rng::new(77);
    random_rounds(&mut c, &mut rng, &views, 25, invoice_statement);
}

const MANY_SCHEMA: &str = "
    CREATE TABLE item (id int PRIMARY KEY, grp int, val int, label text);
    CREATE TABLE tag (id int PRIMARY KEY, item_id int, tag text, weight int);
    INSERT INTO item SELECT g, g % 6, g % 23, 'l' || g % 5 FROM generate_series(1, 50) g;
    INSERT INTO tag SELECT g, 1 + g % 55, 't' || g % 4, g % 9 FROM generate_series(1, 80) g;
";

/// 100 views of five shapes over `item` and `tag`, with different
/// constants.
fn many_views() -> Vec<(String, String)> {
    (0..100)
        .map(|k| {
            let query = match k % 5 {
                0 => format!("SELECT id, val, label FROM item WHERE val > {}", k % 23),
                1 => format!("SELECT grp, count(*) AS n, sum(val) AS s, max(label) AS top FROM item WHERE val >= {} GROUP BY grp", k % 20),
                2 => format!(
                    "SELECT i.id, t.tag, t.weight FROM item i JOIN tag t ON t.item_id = i.id WHERE t.weight < {}",
                    1 + k % 9
                ),
                3 => format!(
                    "SELECT i.grp, count(t.id) AS tags, sum(t.weight) FILTER (WHERE t.tag = 't{}') AS w \
                     FROM item i LEFT JOIN tag t ON t.item_id = i.id GROUP BY i.grp",
                    k % 4
                ),
                _ => format!("SELECT DISTINCT label, grp FROM item WHERE val < {}", 3 + k % 20),
            };
            (format!("v{k:03}"), query)
        })
        .collect()
}

fn many_statement(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 | 1 => format!(
            "INSERT INTO item VALUES ({}, {}, {}, 'l{}') ON CONFLICT (id) DO UPDATE SET val = excluded.val",
            1 + rng.below(70),
            rng.below(6),
            nullable(rng, 10, 0, 23),
            rng.below(5)
        ),
        2 => format!("UPDATE item SET grp = {}, val = val + 1 WHERE id % 9 = {}", rng.below(6), rng.below(9)),
        3 => format!("DELETE FROM item WHERE id % 13 = {}", rng.below(13)),
        4 => format!(
            "INSERT INTO tag VALUES ({}, {}, 't{}', {}) ON CONFLICT DO NOTHING",
            1 + rng.below(120),
            1 + rng.below(70),
            rng.below(4),
            rng.below(9)
        ),
        5 => format!("UPDATE tag SET item_id = {}, weight = {} WHERE id % 11 = {}", 1 + rng.below(70), rng.below(9), rng.below(11)),
        _ => format!("DELETE FROM tag WHERE id % 7 = {}", rng.below(7)),
    }
}

#[test]
fn a_hundred_views_over_the_same_sources() {
    let Some(db) = TestDb::create("hundred") else { return };
    let mut c = db.connect();
    c.batch_execute(MANY_SCHEMA).unwrap();
    let views = many_views();
    create(&mut c, &views);
    check(&mut c, &views, "after create-view");
    let _adapter = RunningAdapter::start(&db.url);
    let mut rng = Rng::new(100);
    random_rounds(&mut c, &mut rng, &views, 15, many_statement);
    let status = freshet_postgres::status(&mut c).unwrap();
    assert_eq!(status.len(), 100);
    assert!(status.iter().all(|s| s.state == "ok" && s.current), "every view ok and current after sync");
}
