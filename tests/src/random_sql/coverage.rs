//! The constructs the analytic grammar generates, and a count of how often a
//! run generated each one.
//!
//! Generators mark what they emit: [`mark`] appends `«name»` after the
//! construct's text, and [`strip`] removes the markers from a finished
//! query, returning the plain SQL and the set of constructs it holds. So
//! the coverage of a run is read off the queries themselves: a construct
//! counts only when it is in a query that was run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

macro_rules! features {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// A construct of the analytic grammar.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Feature {
            $($(#[$doc])* $name,)*
        }

        impl Feature {
            /// Every construct.
            pub const ALL: &'static [Feature] = &[$(Feature::$name,)*];

            /// Its marker name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Feature::$name => $text,)*
                }
            }
        }
    };
}

features! {
    /// `SELECT exprs FROM …` without aggregation.
    Plain = "plain",
    /// `SELECT DISTINCT`.
    Distinct = "distinct",
    /// `GROUP BY` with aggregates.
    Grouped = "grouped",
    /// Aggregates without `GROUP BY`.
    Global = "global",
    /// `HAVING`.
    Having = "having",
    /// `ORDER BY … LIMIT n` in the view.
    TopK = "top_k",
    /// `LIMIT n OFFSET m`.
    TopKOffset = "top_k_offset",
    /// `OFFSET m` without `LIMIT`.
    OffsetOnly = "offset_only",
    /// A top-k over a grouped query.
    TopKGrouped = "top_k_grouped",
    /// A top-k ordered first by an expression that is not an output column.
    TopKHiddenKey = "top_k_hidden_key",
    /// A top-k over a set operation.
    TopKSetOp = "top_k_set_op",
    /// `SELECT DISTINCT ON (…) … ORDER BY …`.
    DistinctOn = "distinct_on",
    /// `ORDER BY` without `LIMIT` (ignored by a view).
    OrderOnly = "order_only",
    /// `UNION`, `INTERSECT` or `EXCEPT` (with or without `ALL`).
    SetOp = "set_op",
    /// Two or more FROM items joined.
    Join = "join",
    /// `LEFT`, `RIGHT` or `FULL JOIN`.
    OuterJoin = "outer_join",
    /// A comma join with its condition in `WHERE`.
    CommaJoin = "comma_join",
    /// A derived table in FROM.
    Derived = "derived",
    /// A derived table with a column alias list.
    DerivedAliasList = "derived_alias_list",
    /// A grouped derived table or WITH query.
    SourceGrouped = "source_grouped",
    /// A derived table or WITH query with `ORDER BY … LIMIT`.
    SourceTopK = "source_top_k",
    /// A derived table or WITH query that is a `UNION ALL`.
    SourceUnion = "source_union",
    /// A derived table or WITH query joining two tables.
    SourceJoin = "source_join",
    /// A derived table or WITH query with `DISTINCT`.
    SourceDistinct = "source_distinct",
    /// A non-recursive `WITH` query.
    Cte = "cte",
    /// A `WITH` query with a column list.
    CteAliasList = "cte_alias_list",
    /// A `WITH` query reading an earlier one.
    CteOverCte = "cte_over_cte",
    /// A `WITH` query referenced twice.
    CteTwice = "cte_twice",
    /// A `WITH` query read by a subquery.
    CteInSubquery = "cte_in_subquery",
    /// A scalar subquery in the select list.
    ScalarInSelect = "scalar_in_select",
    /// A scalar subquery in `WHERE`.
    ScalarInWhere = "scalar_in_where",
    /// A scalar subquery in `HAVING`.
    ScalarInHaving = "scalar_in_having",
    /// A scalar subquery as a top-k's first `ORDER BY` key.
    ScalarInOrderBy = "scalar_in_order_by",
    /// `EXISTS`, `IN` or `ANY`/`ALL` as an output column.
    PredicateInSelect = "predicate_in_select",
    /// `EXISTS`, `IN` or `ANY`/`ALL` in `WHERE`.
    PredicateInWhere = "predicate_in_where",
    /// `EXISTS`, `IN` or `ANY`/`ALL` in `HAVING`.
    PredicateInHaving = "predicate_in_having",
    /// A subquery inside a derived table or `WITH` query.
    SubqueryInSource = "subquery_in_source",
    /// A subquery inside a subquery.
    NestedSubquery = "nested_subquery",
    /// `EXISTS (SELECT …)`.
    Exists = "exists",
    /// `NOT EXISTS (SELECT …)`.
    NotExists = "not_exists",
    /// `x IN (SELECT …)`.
    InSubquery = "in_subquery",
    /// `x NOT IN (SELECT …)`.
    NotInSubquery = "not_in_subquery",
    /// `x op ANY (SELECT …)`.
    AnySubquery = "any_subquery",
    /// `x op ALL (SELECT …)`.
    AllSubquery = "all_subquery",
    /// A subquery correlated by an equality with an enclosing column.
    CorrelatedEq = "correlated_eq",
    /// A subquery correlated by another comparison (`s.x < t.y`).
    CorrelatedNonEq = "correlated_non_eq",
    /// A subquery correlated by an equality with an expression over
    /// enclosing columns (`s.k = t.a + 1`).
    CorrelatedExpr = "correlated_expr",
    /// `LIMIT`/`OFFSET` (with `ORDER BY` where the rows kept matter) in an
    /// `EXISTS`, `IN` or `ANY`/`ALL` subquery.
    SubqueryTopK = "subquery_top_k",
    /// A subquery that reads no enclosing column.
    Uncorrelated = "uncorrelated",
    /// A scalar subquery computing an aggregate.
    ScalarAggregate = "scalar_aggregate",
    /// A scalar subquery selecting by a primary key.
    ScalarByKey = "scalar_by_key",
    /// A scalar subquery with `ORDER BY … LIMIT 1`.
    ScalarLimit = "scalar_limit",
    /// A scalar subquery that may return more than one row (an error).
    ScalarMayFail = "scalar_may_fail",
    /// `date_trunc`.
    DateTrunc = "date_trunc",
    /// `EXTRACT(field FROM …)`.
    Extract = "extract",
    /// `date + integer`, `date - integer`.
    DateArith = "date_arith",
    /// `age(a, b)`.
    Age = "age",
    /// `substring`, `substr`, `left`, `right`.
    Substring = "substring",
    /// `upper`, `lower`, `initcap`.
    UpperLower = "upper_lower",
    /// `length`, `char_length`, `octet_length`.
    Length = "length",
    /// `replace`.
    Replace = "replace",
    /// `split_part`.
    SplitPart = "split_part",
    /// `lpad`, `rpad`.
    Pad = "pad",
    /// `position`, `strpos`.
    Position = "position",
    /// `||` and `concat`.
    Concat = "concat",
    /// `LIKE` against a computed pattern.
    Like = "like",
    /// `ILIKE`.
    Ilike = "ilike",
    /// `abs`.
    Abs = "abs",
    /// `round`.
    Round = "round",
    /// `trunc`.
    Trunc = "trunc",
    /// `mod`.
    Mod = "mod",
    /// `greatest`, `least`.
    GreatestLeast = "greatest_least",
    /// `ceil`, `floor`.
    CeilFloor = "ceil_floor",
    /// Casts beyond the base grammar's (`::` included).
    Cast = "cast",
    /// `count(DISTINCT …)`.
    CountDistinct = "count_distinct",
    /// `sum(DISTINCT …)`.
    SumDistinct = "sum_distinct",
    /// `bool_and`, `bool_or`, `every`.
    BoolAgg = "bool_agg",
    /// `string_agg(… ORDER BY …)`.
    StringAgg = "string_agg",
    /// `string_agg(DISTINCT … ORDER BY …)`.
    StringAggDistinct = "string_agg_distinct",
    /// `stddev`, `stddev_samp`, `stddev_pop`.
    Stddev = "stddev",
    /// `variance`, `var_samp`, `var_pop`.
    Variance = "variance",
    /// An aggregate with `FILTER (WHERE …)`.
    AggFilter = "agg_filter",
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `sql` followed by the marker of `feature`.
pub fn mark(feature: Feature, sql: impl fmt::Display) -> String {
    format!("{sql}«{}»", feature.name())
}

/// The text without markers, and the constructs the markers named.
pub fn strip(marked: &str) -> (String, BTreeSet<Feature>) {
    let mut sql = String::with_capacity(marked.len());
    let mut features = BTreeSet::new();
    let mut rest = marked;
    while let Some(open) = rest.find('«') {
        sql.push_str(&rest[..open]);
        let after = &rest[open + '«'.len_utf8()..];
        let close = after.find('»').expect("a marker is closed");
        let name = &after[..close];
        let feature = Feature::ALL.iter().copied().find(|f| f.name() == name);
        features.insert(feature.unwrap_or_else(|| panic!("unknown marker {name}")));
        rest = &after[close + '»'.len_utf8()..];
    }
    sql.push_str(rest);
    (sql, features)
}

/// How many generated queries held each construct.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Queries counted.
    pub queries: usize,
    /// Queries per construct.
    pub counts: BTreeMap<Feature, usize>,
}

impl Coverage {
    /// Counts one query's constructs.
    pub fn add(&mut self, features: &BTreeSet<Feature>) {
        self.queries += 1;
        for f in features {
            *self.counts.entry(*f).or_insert(0) += 1;
        }
    }

    /// The constructs no counted query held.
    pub fn missing(&self) -> Vec<Feature> {
        Feature::ALL.iter().copied().filter(|f| !self.counts.contains_key(f)).collect()
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} queries:", self.queries)?;
        for feature in Feature::ALL {
            write!(f, " {feature}={}", self.counts.get(feature).copied().unwrap_or(0))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_stripped_and_collected() {
        let marked = format!("SELECT {} FROM t", mark(Feature::Abs, "abs(a)"));
        let (sql, features) = strip(&format!("{marked} WHERE {}", mark(Feature::Exists, "EXISTS (SELECT 1)")));
        assert_eq!(sql, "SELECT abs(a) FROM t WHERE EXISTS (SELECT 1)");
        assert_eq!(features.into_iter().collect::<Vec<_>>(), vec![Feature::Exists, Feature::Abs]);
        let names: BTreeSet<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Feature::ALL.len(), "marker names are unique");
    }
}
