//! Refresh streams: rounds of changes at about 1% of the data, generated
//! deterministically from a seed.
//!
//! Each round is one transaction touching every table but `region`:
//!
//! * **RF1**: new orders (1% of `orders`) with 1–7 lineitems each, made as
//!   `dbgen` makes them (customers whose key is not a multiple of 3, a
//!   supplier of the part from `partsupp`, return flag and line status from
//!   the dates, order status from the line statuses);
//! * **RF2**: deleted orders (as many) with all their lineitems;
//! * **updates** that move rows across the queries' filters, join partners
//!   and groups: `p_type`, `p_brand`, `p_size`, `p_container`, `p_name`
//!   (with a bias towards the queries' parameters: `Brand#23`, `MED BOX`,
//!   `%BRASS`, `forest…`, `…green…`), `s_nationkey`, `s_acctbal`,
//!   `s_comment` (`…Customer…Complaints…`), `c_mktsegment`,
//!   `c_nationkey` (with the phone's country code), `c_acctbal`,
//!   `ps_supplycost`, `ps_availqty`, `n_regionkey`, `o_orderstatus`,
//!   `o_orderpriority`, `o_orderdate`, `o_custkey`, `o_comment`
//!   (`…special…requests…`), and lineitems' quantities, discounts, ship
//!   modes and dates.
//!
//! Primary keys never change; an update is the retraction of the old row
//! and the insertion of the new one.

use std::collections::{BTreeMap, HashMap};

use freshet_engine::plan::Diff;
use freshet_engine::value::{Date, Row, Value};

use super::data::Data;
use super::schema::{table_index, Table, TABLES};

/// One round of changes.
#[derive(Clone, Debug, Default)]
pub struct Round {
    /// Changes per table, in the order of [`TABLES`]: `(row, -1)` for each
    /// removed row, then `(row, 1)` for each added one.
    pub changes: Vec<Vec<(Row, Diff)>>,
}

impl Round {
    /// The number of row changes (an update counts two).
    pub fn len(&self) -> usize {
        self.changes.iter().map(Vec::len).sum()
    }

    /// True if the round changes nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `table: -r +i` for each changed table.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = TABLES
            .iter()
            .zip(&self.changes)
            .filter(|(_, c)| !c.is_empty())
            .map(|(t, c)| {
                let del = c.iter().filter(|(_, d)| *d < 0).count();
                format!("{}: -{del} +{}", t.name, c.len() - del)
            })
            .collect();
        parts.join(", ")
    }
}

/// SplitMix64: small, fast and the same everywhere.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "furiously",
    "carefully",
    "blithely",
    "quickly",
    "slyly",
    "ironic",
    "final",
    "pending",
    "regular",
    "express",
    "bold",
    "even",
    "unusual",
    "deposits",
    "accounts",
    "packages",
    "theodolites",
    "foxes",
    "instructions",
    "ideas",
    "platelets",
    "asymptotes",
    "courts",
    "dolphins",
    "pinto",
    "beans",
    "sleep",
    "wake",
    "haggle",
    "nag",
    "cajole",
    "detect",
    "integrate",
    "among",
    "above",
    "across",
    "the",
];
const COLORS: &[&str] = &[
    "almond",
    "antique",
    "aquamarine",
    "azure",
    "beige",
    "bisque",
    "black",
    "blanched",
    "blue",
    "blush",
    "brown",
    "burlywood",
    "chartreuse",
    "chiffon",
    "chocolate",
    "coral",
    "cornflower",
    "cream",
    "cyan",
    "dark",
    "deep",
    "dodger",
    "drab",
    "firebrick",
    "floral",
    "forest",
    "frosted",
    "ghost",
    "goldenrod",
    "green",
    "grey",
    "honeydew",
    "hot",
    "indian",
    "ivory",
    "khaki",
    "lace",
    "lavender",
    "lawn",
    "lemon",
    "light",
    "lime",
    "linen",
    "magenta",
    "maroon",
    "medium",
    "metallic",
    "midnight",
    "mint",
    "misty",
    "navy",
    "olive",
    "orange",
    "orchid",
    "pale",
    "papaya",
    "peach",
    "peru",
    "pink",
    "plum",
    "powder",
    "puff",
    "purple",
    "red",
    "rose",
    "rosy",
    "royal",
    "saddle",
    "salmon",
    "sandy",
    "seashell",
    "sienna",
    "sky",
    "slate",
    "smoke",
    "snow",
    "spring",
    "steel",
    "tan",
    "thistle",
    "tomato",
    "turquoise",
    "violet",
    "wheat",
    "white",
    "yellow",
];
const TYPE1: &[&str] = &["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"];
const TYPE2: &[&str] = &["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"];
const TYPE3: &[&str] = &["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"];
const CONTAINER1: &[&str] = &["SM", "LG", "MED", "JUMBO", "WRAP"];
const CONTAINER2: &[&str] = &["CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"];
const SEGMENTS: &[&str] = &[
    "AUTOMOBILE",
    "BUILDING",
    "FURNITURE",
    "MACHINERY",
    "HOUSEHOLD",
];
const PRIORITIES: &[&str] = &["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"];
const INSTRUCTIONS: &[&str] = &[
    "DELIVER IN PERSON",
    "COLLECT COD",
    "NONE",
    "TAKE BACK RETURN",
];
const MODES: &[&str] = &["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"];
/// Brands, containers, sizes and nations the queries filter on.
const QUERY_BRANDS: &[&str] = &["Brand#12", "Brand#23", "Brand#34", "Brand#45"];
const QUERY_CONTAINERS: &[&str] = &["MED BOX", "SM CASE", "MED BAG", "LG BOX", "SM PKG"];
const QUERY_SIZES: &[i64] = &[15, 49, 14, 23, 45, 19, 3, 36, 9, 1, 5, 10];
/// SAUDI ARABIA, CANADA, GERMANY, FRANCE, BRAZIL.
const QUERY_NATIONS: &[i64] = &[20, 3, 7, 6, 2];

/// `dbgen`'s CURRENTDATE, 1995-06-17: lines shipped after it are open.
fn current_date() -> Date {
    Date::from_ymd(1995, 6, 17).expect("a valid date")
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn cents(v: &Value) -> i64 {
    let text = v.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, "0"));
    let negative = whole.starts_with('-');
    let whole: i64 = whole
        .trim_start_matches('-')
        .parse()
        .expect("a money value");
    let frac: i64 = format!("{frac:0<2}")[..2].parse().expect("a money value");
    let c = whole * 100 + frac;
    if negative {
        -c
    } else {
        c
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int4(i) => *i as i64,
        Value::Int8(i) => *i,
        other => panic!("not an integer key: {other:?}"),
    }
}

fn date(v: &Value) -> Date {
    match v {
        Value::Date(d) => *d,
        other => panic!("not a date: {other:?}"),
    }
}

/// `row` with the named columns replaced by values read from text.
fn with(table: &Table, row: &Row, changes: &[(&str, String)]) -> Row {
    let mut values = row.to_vec();
    for (name, text) in changes {
        let c = table.column(name);
        values[c] = Value::parse(text, table.columns[c].data_type)
            .unwrap_or_else(|e| panic!("{}.{name} = {text:?}: {e}", table.name));
    }
    Row::new(values)
}

/// Random words, at most `max` bytes, with `inject` words (in order)
/// somewhere among them.
fn text(rng: &mut Rng, max: usize, inject: &[&str]) -> String {
    let target = max / 2 + rng.below(max / 2 + 1);
    let mut words: Vec<&str> = Vec::new();
    let mut len = inject.iter().map(|w| w.len() + 1).sum::<usize>();
    loop {
        let w = rng.pick(WORDS);
        if len + w.len() + 1 > target {
            break;
        }
        len += w.len() + 1;
        words.push(w);
    }
    let mut at = 0;
    for w in inject {
        at = (at + rng.below(words.len() - at + 1)).min(words.len());
        words.insert(at, w);
        at += 1;
    }
    let mut s = words.join(" ");
    s.truncate(max);
    s.trim_end().to_string()
}

/// A row before the round and now (`None`: absent).
type BeforeNow = (Option<Row>, Option<Row>);

/// Rows changed so far in a round, by primary key.
struct Delta<'a> {
    data: &'a Data,
    tables: Vec<BTreeMap<Row, BeforeNow>>,
}

impl<'a> Delta<'a> {
    fn new(data: &'a Data) -> Delta<'a> {
        Delta {
            data,
            tables: vec![BTreeMap::new(); TABLES.len()],
        }
    }

    fn current(&self, t: usize, key: &Row) -> Option<Row> {
        match self.tables[t].get(key) {
            Some((_, now)) => now.clone(),
            None => self.data.table(t).get(key).cloned(),
        }
    }

    fn touched(&self, t: usize, key: &Row) -> bool {
        self.tables[t].contains_key(key)
    }

    fn set(&mut self, t: usize, key: Row, row: Option<Row>) {
        let before = self.data.table(t).get(&key).cloned();
        self.tables[t].entry(key).or_insert((before, None)).1 = row;
    }

    fn put(&mut self, t: usize, row: Row) {
        let key = self.data.table(t).key_of(&row);
        self.set(t, key, Some(row));
    }

    fn finish(self) -> Round {
        let changes = self
            .tables
            .into_iter()
            .map(|m| {
                let mut del = Vec::new();
                let mut ins = Vec::new();
                for (before, now) in m.into_values() {
                    if before == now {
                        continue;
                    }
                    del.extend(before.map(|r| (r, -1)));
                    ins.extend(now.map(|r| (r, 1)));
                }
                del.extend(ins);
                del
            })
            .collect();
        Round { changes }
    }
}

/// Generates rounds of changes against the current contents of a [`Data`].
#[derive(Clone, Debug)]
pub struct RefreshStream {
    rng: Rng,
    fraction: f64,
    next_orderkey: i64,
    /// The suppliers of each part (`partsupp` rows are never added or
    /// removed).
    suppliers: HashMap<i64, Vec<i64>>,
    /// Retail price of each part in cents (never changed).
    prices: HashMap<i64, i64>,
    customers: i64,
    clerks: i64,
    /// Parts in the most selective filters ([`is_hot_part`]).
    hot_parts: Vec<i64>,
}

impl RefreshStream {
    /// A stream of rounds changing about 1% of the data.
    pub fn new(data: &Data, seed: u64) -> RefreshStream {
        RefreshStream::with_fraction(data, seed, 0.01)
    }

    /// A stream of rounds changing about `fraction` of each table.
    pub fn with_fraction(data: &Data, seed: u64, fraction: f64) -> RefreshStream {
        let ps = data.table(table_index("partsupp"));
        let mut suppliers: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in ps.rows() {
            suppliers.entry(int(&r[0])).or_default().push(int(&r[1]));
        }
        for s in suppliers.values_mut() {
            s.sort_unstable();
        }
        let part = data.table(table_index("part"));
        let price = part.table().column("p_retailprice");
        let prices = part
            .rows()
            .iter()
            .map(|r| (int(&r[0]), cents(&r[price])))
            .collect();
        let mut hot_parts: Vec<i64> = part
            .rows()
            .iter()
            .filter(|r| is_hot_part(r))
            .map(|r| int(&r[0]))
            .collect();
        hot_parts.sort_unstable();
        let orders = data.table(table_index("orders"));
        let next_orderkey = orders.rows().iter().map(|r| int(&r[0])).max().unwrap_or(0) + 1;
        RefreshStream {
            rng: Rng(seed),
            fraction,
            next_orderkey,
            suppliers,
            prices,
            customers: data.table(table_index("customer")).len() as i64,
            clerks: ((data.scale * 1000.0) as i64).max(1),
            hot_parts,
        }
    }

    /// How many rows of a table of `len` rows a round changes.
    fn share(&self, len: usize) -> usize {
        ((len as f64 * self.fraction).round() as usize).max(1)
    }

    /// The next round against `data`'s current contents (apply it to
    /// `data` before asking for the following one).
    pub fn next_round(&mut self, data: &Data) -> Round {
        let mut delta = Delta::new(data);
        self.delete_orders(&mut delta);
        self.update_parts(&mut delta);
        self.update_suppliers(&mut delta);
        self.update_partsupps(&mut delta);
        self.update_customers(&mut delta);
        self.update_nation(&mut delta);
        self.update_orders(&mut delta);
        self.update_lineitems(&mut delta);
        self.insert_orders(&mut delta);
        delta.finish()
    }

    /// A random row of table `t` not changed yet in this round.
    fn untouched(&mut self, delta: &Delta<'_>, t: usize) -> Option<Row> {
        let rows = delta.data.table(t).rows();
        if rows.is_empty() {
            return None;
        }
        let row = &rows[self.rng.below(rows.len())];
        let key = delta.data.table(t).key_of(row);
        (!delta.touched(t, &key)).then(|| row.clone())
    }

    /// RF2: whole orders with their lineitems.
    fn delete_orders(&mut self, delta: &mut Delta<'_>) {
        let (o, l) = (table_index("orders"), table_index("lineitem"));
        for _ in 0..self.share(delta.data.table(o).len()) {
            let Some(order) = self.untouched(delta, o) else {
                continue;
            };
            let key = order.project(&[0]);
            delta.set(o, key, None);
            for n in 1..=7 {
                let lkey = Row::new(vec![order[0].clone(), Value::Int4(n)]);
                if delta.current(l, &lkey).is_some() {
                    delta.set(l, lkey, None);
                }
            }
        }
    }

    fn update_parts(&mut self, delta: &mut Delta<'_>) {
        let t = table_index("part");
        let table = TABLES[t];
        for _ in 0..self.share(delta.data.table(t).len()) {
            let Some(row) = self.untouched(delta, t) else {
                continue;
            };
            let changes = if self.rng.chance(0.5) {
                part_profile(&mut self.rng)
            } else {
                vec![part_attribute(&mut self.rng)]
            };
            let new = with(&table, &row, &changes);
            if is_hot_part(&new) {
                self.hot_parts.push(int(&new[0]));
            }
            delta.put(t, new);
        }
    }

    fn update_suppliers(&mut self, delta: &mut Delta<'_>) {
        let t = table_index("supplier");
        let table = TABLES[t];
        // At least three: single-nation queries see few suppliers.
        for _ in 0..self.share(delta.data.table(t).len()).max(3) {
            let Some(row) = self.untouched(delta, t) else {
                continue;
            };
            let rng = &mut self.rng;
            let change = match rng.below(4) {
                0 | 1 => {
                    let n = if rng.chance(0.7) {
                        QUERY_NATIONS[rng.below(QUERY_NATIONS.len())]
                    } else {
                        rng.range(0, 24)
                    };
                    ("s_nationkey", n.to_string())
                }
                2 => ("s_acctbal", money(rng.range(-99_999, 999_999))),
                _ => {
                    let inject: &[&str] = if rng.chance(0.5) {
                        &["Customer", "Complaints"]
                    } else {
                        &[]
                    };
                    ("s_comment", text(rng, 100, inject))
                }
            };
            delta.put(t, with(&table, &row, &[change]));
        }
    }

    fn update_partsupps(&mut self, delta: &mut Delta<'_>) {
        let t = table_index("partsupp");
        let table = TABLES[t];
        for _ in 0..self.share(delta.data.table(t).len()) {
            // A third of the time a supplier of a part in a selective filter.
            let row = if !self.hot_parts.is_empty() && self.rng.chance(0.3) {
                let part = self.hot_parts[self.rng.below(self.hot_parts.len())];
                let suppliers = &self.suppliers[&part];
                let key = Row::new(vec![
                    Value::Int4(part as i32),
                    Value::Int4(suppliers[self.rng.below(suppliers.len())] as i32),
                ]);
                if delta.touched(t, &key) {
                    continue;
                }
                delta.current(t, &key)
            } else {
                self.untouched(delta, t)
            };
            let Some(row) = row else {
                continue;
            };
            let rng = &mut self.rng;
            let change = if rng.chance(0.5) {
                ("ps_supplycost", money(rng.range(100, 100_000)))
            } else if rng.chance(0.3) {
                // Around Q20's threshold (half the quantity shipped in a year).
                ("ps_availqty", rng.range(1, 40).to_string())
            } else {
                ("ps_availqty", rng.range(1, 9999).to_string())
            };
            delta.put(t, with(&table, &row, &[change]));
        }
    }

    fn update_customers(&mut self, delta: &mut Delta<'_>) {
        let t = table_index("customer");
        let table = TABLES[t];
        for _ in 0..self.share(delta.data.table(t).len()) {
            let Some(row) = self.untouched(delta, t) else {
                continue;
            };
            let rng = &mut self.rng;
            let new = match rng.below(3) {
                0 => with(
                    &table,
                    &row,
                    &[("c_mktsegment", rng.pick(SEGMENTS).to_string())],
                ),
                1 => {
                    let n = rng.range(0, 24);
                    let phone = row[table.column("c_phone")].to_string();
                    let phone = format!("{}{}", n + 10, &phone[2..]);
                    with(
                        &table,
                        &row,
                        &[("c_nationkey", n.to_string()), ("c_phone", phone)],
                    )
                }
                _ => with(
                    &table,
                    &row,
                    &[("c_acctbal", money(rng.range(-99_999, 999_999)))],
                ),
            };
            delta.put(t, new);
        }
    }

    /// One nation moves to another region.
    fn update_nation(&mut self, delta: &mut Delta<'_>) {
        let t = table_index("nation");
        let table = TABLES[t];
        let Some(row) = self.untouched(delta, t) else {
            return;
        };
        let region = self.rng.range(0, 4).to_string();
        delta.put(t, with(&table, &row, &[("n_regionkey", region)]));
    }

    fn update_orders(&mut self, delta: &mut Delta<'_>) {
        let t = table_index("orders");
        let table = TABLES[t];
        for _ in 0..self.share(delta.data.table(t).len()) {
            let Some(row) = self.untouched(delta, t) else {
                continue;
            };
            let rng = &mut self.rng;
            let change = match rng.below(5) {
                0 => ("o_orderstatus", rng.pick(&["F", "O", "P"]).to_string()),
                1 => ("o_orderpriority", rng.pick(PRIORITIES).to_string()),
                2 => {
                    let d = date(&row[table.column("o_orderdate")]);
                    let shifted = d.add_days(rng.range(-60, 60)).expect("a date in range");
                    ("o_orderdate", Value::Date(shifted).to_string())
                }
                3 => {
                    let inject: &[&str] = if rng.chance(0.5) {
                        &["special", "requests"]
                    } else {
                        &[]
                    };
                    ("o_comment", text(rng, 79, inject))
                }
                _ => ("o_custkey", self.customer().to_string()),
            };
            delta.put(t, with(&table, &row, &[change]));
        }
    }

    fn update_lineitems(&mut self, delta: &mut Delta<'_>) {
        let t = table_index("lineitem");
        let table = TABLES[t];
        for _ in 0..self.share(delta.data.table(t).len()) / 2 {
            let Some(row) = self.untouched(delta, t) else {
                continue;
            };
            let rng = &mut self.rng;
            let new = match rng.below(5) {
                0 => {
                    let qty = rng.range(1, 50);
                    let price = self.prices[&int(&row[1])];
                    with(
                        &table,
                        &row,
                        &[
                            ("l_quantity", qty.to_string()),
                            ("l_extendedprice", money(qty * price)),
                        ],
                    )
                }
                1 => with(&table, &row, &[("l_discount", money(rng.range(0, 10)))]),
                2 => {
                    // Half of the time Q19's combination.
                    let q19 = rng.chance(0.5);
                    let mode = rng.pick(if q19 { &["AIR", "AIR REG"] } else { MODES });
                    let instruction = if q19 {
                        "DELIVER IN PERSON"
                    } else {
                        rng.pick(INSTRUCTIONS)
                    };
                    with(
                        &table,
                        &row,
                        &[
                            ("l_shipmode", mode.to_string()),
                            ("l_shipinstruct", instruction.to_string()),
                        ],
                    )
                }
                3 => {
                    let d = date(&row[table.column("l_receiptdate")])
                        .add_days(rng.range(-20, 20))
                        .expect("a date");
                    with(
                        &table,
                        &row,
                        &[("l_receiptdate", Value::Date(d).to_string())],
                    )
                }
                _ => {
                    let d = date(&row[table.column("l_shipdate")])
                        .add_days(rng.range(-30, 30))
                        .expect("a date");
                    with(&table, &row, &[("l_shipdate", Value::Date(d).to_string())])
                }
            };
            delta.put(t, new);
        }
    }

    /// A customer key that may have orders (not a multiple of 3).
    fn customer(&mut self) -> i64 {
        loop {
            let c = self.rng.range(1, self.customers.max(1));
            if c % 3 != 0 || self.customers < 3 {
                return c;
            }
        }
    }

    /// RF1: new orders with their lineitems.
    fn insert_orders(&mut self, delta: &mut Delta<'_>) {
        let (o, l) = (table_index("orders"), table_index("lineitem"));
        let (otable, ltable) = (TABLES[o], TABLES[l]);
        let start = Date::from_ymd(1992, 1, 1).expect("a valid date");
        // Order dates run to 151 days before 1998-12-31.
        let span = Date::from_ymd(1998, 12, 31)
            .expect("a valid date")
            .days_between(start)
            .expect("days") as i64
            - 151;
        for _ in 0..self.share(delta.data.table(o).len()) {
            let orderkey = self.next_orderkey;
            self.next_orderkey += 1;
            let custkey = self.customer();
            let rng = &mut self.rng;
            let orderdate = start.add_days(rng.range(0, span)).expect("a date");
            let mut total = 0i64;
            let mut statuses = Vec::new();
            // One order in eight is large: seven lines of 35 to 50 units,
            // around Q18's threshold of 300.
            let large = rng.chance(0.125);
            let lines = if large { 7 } else { rng.range(1, 7) };
            for line in 1..=lines {
                let partkey = if !self.hot_parts.is_empty() && rng.chance(0.25) {
                    self.hot_parts[rng.below(self.hot_parts.len())]
                } else {
                    rng.range(1, self.prices.len() as i64)
                };
                let suppliers = &self.suppliers[&partkey];
                let suppkey = suppliers[rng.below(suppliers.len())];
                let qty = if large {
                    rng.range(35, 50)
                } else {
                    rng.range(1, 50)
                };
                let ext = qty * self.prices[&partkey];
                let (discount, tax) = (rng.range(0, 10), rng.range(0, 8));
                total += ext * (100 + tax) * (100 - discount) / 10_000;
                let ship = orderdate.add_days(rng.range(1, 121)).expect("a date");
                let commit = orderdate.add_days(rng.range(30, 90)).expect("a date");
                let receipt = ship.add_days(rng.range(1, 30)).expect("a date");
                let returnflag = if receipt <= current_date() {
                    rng.pick(&["R", "A"])
                } else {
                    "N"
                };
                let linestatus = if ship > current_date() { "O" } else { "F" };
                statuses.push(linestatus);
                let fields = [
                    orderkey.to_string(),
                    partkey.to_string(),
                    suppkey.to_string(),
                    line.to_string(),
                    qty.to_string(),
                    money(ext),
                    money(discount),
                    money(tax),
                    returnflag.to_string(),
                    linestatus.to_string(),
                    Value::Date(ship).to_string(),
                    Value::Date(commit).to_string(),
                    Value::Date(receipt).to_string(),
                    rng.pick(INSTRUCTIONS).to_string(),
                    rng.pick(MODES).to_string(),
                    text(rng, 43, &[]),
                ];
                delta.put(l, parse_fields(&ltable, &fields));
            }
            let status = if statuses.iter().all(|s| *s == "F") {
                "F"
            } else if statuses.iter().all(|s| *s == "O") {
                "O"
            } else {
                "P"
            };
            let inject: &[&str] = if rng.chance(0.2) {
                &["special", "requests"]
            } else {
                &[]
            };
            let fields = [
                orderkey.to_string(),
                custkey.to_string(),
                status.to_string(),
                money(total),
                Value::Date(orderdate).to_string(),
                rng.pick(PRIORITIES).to_string(),
                format!("Clerk#{:09}", rng.range(1, self.clerks)),
                "0".to_string(),
                text(rng, 78, inject),
            ];
            delta.put(o, parse_fields(&otable, &fields));
        }
    }
}

/// One random part attribute, biased towards the queries' parameters.
fn part_attribute(rng: &mut Rng) -> (&'static str, String) {
    match rng.below(5) {
        0 => {
            let ty = format!(
                "{} {} {}",
                rng.pick(TYPE1),
                rng.pick(TYPE2),
                rng.pick(TYPE3)
            );
            ("p_type", ty)
        }
        1 => {
            let brand = if rng.chance(0.5) {
                rng.pick(QUERY_BRANDS).to_string()
            } else {
                format!("Brand#{}{}", rng.range(1, 5), rng.range(1, 5))
            };
            ("p_brand", brand)
        }
        2 => {
            let size = if rng.chance(0.5) {
                QUERY_SIZES[rng.below(QUERY_SIZES.len())]
            } else {
                rng.range(1, 50)
            };
            ("p_size", size.to_string())
        }
        3 => {
            let c = if rng.chance(0.5) {
                rng.pick(QUERY_CONTAINERS).to_string()
            } else {
                format!("{} {}", rng.pick(CONTAINER1), rng.pick(CONTAINER2))
            };
            ("p_container", c)
        }
        _ => {
            let (forest, green) = (rng.chance(0.3), rng.chance(0.3));
            ("p_name", part_name(rng, forest, green))
        }
    }
}

/// Five colour words; `forest` first, `green` among them, if asked.
fn part_name(rng: &mut Rng, forest: bool, green: bool) -> String {
    let mut words: Vec<&str> = (0..5).map(|_| rng.pick(COLORS)).collect();
    if forest {
        words[0] = "forest";
    }
    if green {
        words[1 + rng.below(4)] = "green";
    }
    words.join(" ")
}

/// Several attributes at once, so that the part enters one query's
/// selective filter (Q2, Q8, Q9, Q14, Q16, Q17, Q19, Q20).
fn part_profile(rng: &mut Rng) -> Vec<(&'static str, String)> {
    let s = |v: &str| v.to_string();
    match rng.below(9) {
        0 => vec![
            ("p_size", s("15")),
            (
                "p_type",
                format!("{} {} BRASS", rng.pick(TYPE1), rng.pick(TYPE2)),
            ),
        ],
        1 => vec![("p_type", s("ECONOMY ANODIZED STEEL"))],
        2 => vec![("p_name", part_name(rng, false, true))],
        3 => vec![(
            "p_type",
            format!("PROMO {} {}", rng.pick(TYPE2), rng.pick(TYPE3)),
        )],
        4 => vec![
            ("p_brand", s("Brand#45")),
            ("p_type", s("MEDIUM POLISHED TIN")),
            ("p_size", s("49")),
        ],
        5 => vec![("p_brand", s("Brand#23")), ("p_container", s("MED BOX"))],
        6 => vec![
            ("p_brand", s("Brand#12")),
            (
                "p_container",
                format!("SM {}", rng.pick(&["CASE", "BOX", "PACK", "PKG"])),
            ),
            ("p_size", rng.range(1, 5).to_string()),
        ],
        7 => vec![
            ("p_brand", s("Brand#34")),
            (
                "p_container",
                format!("LG {}", rng.pick(&["CASE", "BOX", "PACK", "PKG"])),
            ),
            ("p_size", rng.range(1, 15).to_string()),
        ],
        _ => vec![("p_name", part_name(rng, true, false))],
    }
}

/// True for parts in the most selective filters (Q8, Q17, Q19, Q20), whose
/// lineitems are rare: new lineitems favour them.
fn is_hot_part(row: &Row) -> bool {
    let text = |c: usize| row[c].to_string().trim_end().to_string();
    let (name, brand, ty, size, container) = (text(1), text(3), text(4), int(&row[5]), text(6));
    ty == "ECONOMY ANODIZED STEEL"
        || name.starts_with("forest")
        || (brand == "Brand#23" && container.starts_with("MED"))
        || (brand == "Brand#12" && container.starts_with("SM") && size <= 5)
        || (brand == "Brand#34" && container.starts_with("LG") && size <= 15)
}

fn parse_fields(table: &Table, fields: &[String]) -> Row {
    table
        .columns
        .iter()
        .zip(fields)
        .map(|(c, f)| {
            Value::parse(f, c.data_type)
                .unwrap_or_else(|e| panic!("{}.{} = {f:?}: {e}", table.name, c.name))
        })
        .collect()
}
