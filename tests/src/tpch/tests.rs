use std::collections::BTreeSet;

use freshet_engine::value::Value;

use super::schema::table_index;
use super::*;

fn row(values: &[Option<&str>]) -> TextRow {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

#[test]
fn compare_rows_is_a_multiset_comparison() {
    let a = row(&[Some("1"), None]);
    let b = row(&[Some("2"), Some("x")]);
    assert!(compare_rows(&[a.clone(), b.clone()], &[b.clone(), a.clone()], 5).is_ok());
    let err = compare_rows(
        &[a.clone(), a.clone(), b.clone()],
        &[a.clone(), b.clone(), b.clone()],
        5,
    )
    .unwrap_err();
    assert!(
        err.starts_with("3 rows expected, 3 rows got: 1 missing, 1 unexpected"),
        "{err}"
    );
    assert!(
        err.contains("missing:    1 | NULL") && err.contains("unexpected: 2 | x"),
        "{err}"
    );
    // NULL is not the text "NULL".
    assert!(compare_rows(&[row(&[None])], &[row(&[Some("NULL")])], 5).is_err());
    assert!(compare_rows(&[], &[a], 5).is_err());
}

#[test]
fn generated_data_has_the_specified_sizes_and_types() {
    let data = Data::generate(0.01);
    let sizes: Vec<usize> = data.tables().iter().map(TableData::len).collect();
    assert_eq!(sizes[..7], [5, 25, 2000, 100, 8000, 1500, 15000]);
    assert!(
        (55_000..65_000).contains(&sizes[7]),
        "{} lineitems",
        sizes[7]
    );
    let customer = data.table(table_index("customer"));
    let segment = customer.table().column("c_mktsegment");
    for r in customer.rows() {
        // char(10) is blank-padded, as PostgreSQL stores it.
        assert_eq!(r[segment].to_string().len(), 10, "{:?}", r[segment]);
    }
    let lineitem = data.table(table_index("lineitem"));
    assert_eq!(
        lineitem.rows()[0][4].to_string().split('.').nth(1),
        Some("00"),
        "quantity is numeric(15,2)"
    );
}

#[test]
fn refresh_rounds_are_deterministic_and_consistent() {
    let data = Data::generate(0.001);
    let (o, l) = (table_index("orders"), table_index("lineitem"));
    let mut a = RefreshStream::new(&data, 7);
    let mut b = RefreshStream::new(&data, 7);
    let mut other = RefreshStream::new(&data, 8);
    let first = a.next_round(&data);
    assert_eq!(
        format!("{:?}", first.changes),
        format!("{:?}", b.next_round(&data).changes)
    );
    assert_ne!(
        format!("{:?}", first.changes),
        format!("{:?}", other.next_round(&data).changes)
    );

    let mut data = data;
    let orders_before = data.table(o).len();
    for _ in 0..4 {
        let round = a.next_round(&data);
        // 1% of 1,500 orders deleted and as many added, besides updates.
        let orders = &round.changes[o];
        let removed = orders.iter().filter(|(_, d)| *d < 0).count();
        let added = orders.len() - removed;
        assert!(removed >= 15 && added >= 15, "{}", round.summary());
        // Every table but region and nation (one nation, which may keep its
        // region) changes.
        assert!(
            round
                .changes
                .iter()
                .enumerate()
                .all(|(t, c)| t < 2 || !c.is_empty()),
            "{}",
            round.summary()
        );
        data.apply(&round);
    }
    assert_eq!(data.table(o).len(), orders_before);
    // Every lineitem belongs to an order and every order has lineitems.
    let order_keys: BTreeSet<Value> = data.table(o).rows().iter().map(|r| r[0].clone()).collect();
    let line_orders: BTreeSet<Value> = data.table(l).rows().iter().map(|r| r[0].clone()).collect();
    assert_eq!(order_keys, line_orders);
}

#[test]
fn the_queries_are_the_22_with_their_limits() {
    let numbers: Vec<u8> = QUERIES.iter().map(|q| q.number).collect();
    assert_eq!(numbers, (1..=22).collect::<Vec<u8>>());
    let limited: Vec<u8> = QUERIES
        .iter()
        .filter(|q| q.has_limit())
        .map(|q| q.number)
        .collect();
    assert_eq!(limited, [2, 3, 10, 18, 21]);
    for q in QUERIES {
        assert!(
            q.sql.starts_with(&format!("-- TPC-H Q{}:", q.number)),
            "{}",
            q.view_name()
        );
    }
}
