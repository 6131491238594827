//! Embedding freshet in a Rust program: tables, a view kept current, row
//! changes pushed in through the API, and the view's diffs read back.
//!
//! Run with `cargo run --example embedded`.

use freshet::{Database, Row, Value};

fn main() -> Result<(), freshet::Error> {
    let mut db = Database::open_in_memory()?;
    db.execute(
        "CREATE TABLE readings (sensor text NOT NULL, at timestamp NOT NULL, celsius numeric(5,1), \
         PRIMARY KEY (sensor, at))",
    )?;
    db.execute(
        "CREATE MATERIALIZED VIEW sensor_stats AS \
         SELECT sensor, count(*) AS readings, min(celsius) AS low, max(celsius) AS high, avg(celsius) AS mean \
         FROM readings GROUP BY sensor",
    )?;

    // Follow the view: the first update is its current (empty) contents.
    let updates = db.subscribe("sensor_stats")?;

    // Changes can come as SQL ...
    db.execute(
        "INSERT INTO readings VALUES ('roof', '2026-11-21 08:00', 3.5), ('roof', '2026-11-21 09:00', 5.0), \
         ('cellar', '2026-11-21 08:00', 11.0)",
    )?;

    // ... or as rows, typed as the columns are (here parsed from text the
    // way PostgreSQL's input functions do).
    let reading = |sensor: &str, at: &str, celsius: &str| -> Result<Row, freshet::Error> {
        Ok(Row::new(vec![
            Value::text(sensor),
            Value::parse(at, freshet::DataType::Timestamp)?,
            Value::parse(celsius, freshet::DataType::Numeric(Some((5, 1))))?,
        ]))
    };
    db.insert("readings", vec![reading("roof", "2026-11-21 10:00", "-1.5")?])?;
    db.delete("readings", vec![reading("cellar", "2026-11-21 08:00", "11.0")?])?;

    println!("sensor_stats now:");
    print!("{}", db.query("SELECT * FROM sensor_stats ORDER BY sensor")?.to_text());

    println!("\nits diffs, one update per transaction:");
    for update in updates.iter() {
        for (row, diff) in &update.diffs {
            let cols: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            println!("  t={} {:+} {}", update.time, diff, cols.join(" | "));
        }
    }
    Ok(())
}
