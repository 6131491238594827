//! The 22 TPC-H queries in PostgreSQL's dialect with the specification's
//! validation parameters (`tests/tpch/queries/qNN.sql`).
//!
//! As materialized views: Q15's view `revenue0` is a CTE; a final ORDER BY
//! without LIMIT is left out (a view is a set); queries with a row limit
//! (Q2, Q3, Q10, Q18, Q21) keep `ORDER BY … LIMIT`, a maintained top-k.

/// One query.
#[derive(Clone, Copy, Debug)]
pub struct Query {
    /// Its TPC-H number, 1 to 22.
    pub number: u8,
    /// Its SELECT statement (with a leading comment naming it).
    pub sql: &'static str,
}

impl Query {
    /// The view's name: `q01` … `q22`.
    pub fn view_name(&self) -> String {
        format!("q{:02}", self.number)
    }

    /// True if the query keeps a row limit (a top-k).
    pub fn has_limit(&self) -> bool {
        self.sql.to_ascii_lowercase().contains("\nlimit ")
    }
}

macro_rules! queries {
    ($($n:literal => $file:literal),* $(,)?) => {
        /// The 22 queries, in order.
        pub const QUERIES: [Query; 22] = [
            $(Query { number: $n, sql: include_str!(concat!("../../tpch/queries/", $file)) }),*
        ];
    };
}

queries! {
    1 => "q01.sql", 2 => "q02.sql", 3 => "q03.sql", 4 => "q04.sql", 5 => "q05.sql", 6 => "q06.sql",
    7 => "q07.sql", 8 => "q08.sql", 9 => "q09.sql", 10 => "q10.sql", 11 => "q11.sql", 12 => "q12.sql",
    13 => "q13.sql", 14 => "q14.sql", 15 => "q15.sql", 16 => "q16.sql", 17 => "q17.sql", 18 => "q18.sql",
    19 => "q19.sql", 20 => "q20.sql", 21 => "q21.sql", 22 => "q22.sql",
}

/// Query `n` (1 to 22).
///
/// # Panics
/// If there is no such query.
pub fn query(n: u8) -> Query {
    *QUERIES
        .iter()
        .find(|q| q.number == n)
        .unwrap_or_else(|| panic!("there is no TPC-H query {n}"))
}
